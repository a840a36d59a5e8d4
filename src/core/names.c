// SPDX-License-Identifier: GPL-2.0-or-later
#include <string.h>

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
