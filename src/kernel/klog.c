// SPDX-License-Identifier: GPL-2.0-or-later
/* The kernel adapters' notes, to the program's sink or stderr. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

#include "klog.h"

static ul_klog_sink g_sink;
static int g_level = LOG_INFO;

void ul_klog_set_sink(ul_klog_sink sink)
{
	g_sink = sink;
}

void ul_klog_set_level(int level)
{
	g_level = level;
}

void ul_klog(int prio, const char *fmt, ...)
{
	char msg[1024];
	int saved = errno;
	va_list ap;

	if (!g_sink && prio > g_level)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (g_sink)
		g_sink(prio, msg);
	else
		fprintf(stderr, "<%d>%s\n", prio, msg);
	errno = saved;
}
