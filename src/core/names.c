// SPDX-License-Identifier: GPL-2.0-or-later
#include <string.h>

#include "config.h"
#include "names.h"

static const char *const level_names[] = {
	[LOG_ERR] = "error", [LOG_WARNING] = "warning", [LOG_NOTICE] = "notice",
	[LOG_INFO] = "info", [LOG_DEBUG] = "debug",
};

int ul_log_level_parse(const char *s)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++)
		if (level_names[i] && !strcmp(s, level_names[i]))
			return (int)i;
	return -1;
}

const char *ul_log_level_name(int level)
{
	if (level >= 0 && (size_t)level < sizeof(level_names) / sizeof(level_names[0]) &&
	    level_names[level])
		return level_names[level];
	return "?";
}

static const char *const method_names[] = {
	[UL_CHECK_ICMP] = "icmp", [UL_CHECK_DNS] = "dns", [UL_CHECK_TCP] = "tcp",
	[UL_CHECK_HTTP] = "http",
};

const char *ul_check_method_name(enum ul_check_method m)
{
	if ((size_t)m < sizeof(method_names) / sizeof(method_names[0]) && method_names[m])
		return method_names[m];
	return "?";
}

int ul_check_method_parse(const char *s)
{
	for (size_t i = 0; i < sizeof(method_names) / sizeof(method_names[0]); i++)
		if (method_names[i] && !strcmp(s, method_names[i]))
			return (int)i;
	return -1;
}
