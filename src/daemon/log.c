// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef HAVE_LIBSYSTEMD
#include <systemd/sd-journal.h>
#endif

#include "log.h"

static int g_level = LOG_INFO;
static const char *g_ident = "uplinkd";
#ifdef HAVE_LIBSYSTEMD
static int g_journal;   /* 1: stderr is the journal stream, send structured entries */
#endif

void ul_log_init(const char *ident)
{
	g_ident = ident;
#ifdef HAVE_LIBSYSTEMD
	/* JOURNAL_STREAM is set by systemd when stderr is connected to the journal. */
	g_journal = getenv("JOURNAL_STREAM") != NULL;
#endif
}

void ul_log_set_level(int level)
{
	g_level = level;
}

static ul_log_sink_fn g_sink;
static void *g_sink_ctx;

void ul_log_set_sink(ul_log_sink_fn fn, void *ctx)
{
	g_sink = fn;
	g_sink_ctx = ctx;
}

static void emit(int prio, const char *link, const char *state, const char *msg)
{
	if (g_sink) {
		g_sink(g_sink_ctx, prio, msg);
		return;
	}
#ifdef HAVE_LIBSYSTEMD
	if (g_journal) {
		if (link)
			sd_journal_send("MESSAGE=%s", msg, "PRIORITY=%d", prio,
					"SYSLOG_IDENTIFIER=%s", g_ident, "UPLINK_LINK=%s", link,
					"UPLINK_STATE=%s", state, NULL);
		else
			sd_journal_send("MESSAGE=%s", msg, "PRIORITY=%d", prio,
					"SYSLOG_IDENTIFIER=%s", g_ident, NULL);
		return;
	}
#else
	(void)link;
	(void)state;
#endif
	fprintf(stderr, "<%d>%s\n", prio, msg);
}

void ul_log(int prio, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	int saved = errno;

	if (prio > g_level)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	emit(prio, NULL, NULL, msg);
	errno = saved;
}

void ul_log_transition(const char *link, const char *from, const char *to, const char *reason)
{
	char msg[512];

	if (LOG_NOTICE > g_level)
		return;
	snprintf(msg, sizeof(msg), "link %s: %s -> %s (%s)", link, from, to, reason);
	emit(LOG_NOTICE, link, to, msg);
}
