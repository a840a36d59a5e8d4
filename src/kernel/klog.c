// SPDX-License-Identifier: GPL-2.0-or-later
/* The kernel adapters' notes, to the program's sink or stderr; their failures, recorded. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "klog.h"

static ul_klog_sink g_sink;
static int g_level = LOG_INFO;
static char g_fail[1024];               /* the first failure since the last clear */
static unsigned g_more;                 /* failures after it */
static char g_ack[512];                 /* pending extended ack */

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

void ul_klog_ack(const char *msg)
{
	snprintf(g_ack, sizeof(g_ack), "%s", msg);
}

void ul_klog_fail(const char *fmt, ...)
{
	char msg[768];
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (g_ack[0]) {
		size_t len = strlen(msg);

		snprintf(msg + len, sizeof(msg) - len, " (kernel: %s)", g_ack);
		g_ack[0] = '\0';
	}
	if (!g_fail[0])
		snprintf(g_fail, sizeof(g_fail), "%s", msg);
	else
		g_more++;
	if (!g_sink && LOG_ERR <= g_level)
		fprintf(stderr, "<%d>%s\n", LOG_ERR, msg);
	errno = saved;
}

const char *ul_klog_last_error(void)
{
	static char out[sizeof(g_fail) + 32];

	if (!g_more)
		return g_fail;
	snprintf(out, sizeof(out), "%s (and %u more)", g_fail, g_more);
	return out;
}

void ul_klog_clear(void)
{
	g_fail[0] = g_ack[0] = '\0';
	g_more = 0;
}
