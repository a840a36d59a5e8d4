/* SPDX-License-Identifier: GPL-2.0-or-later */
/* One line per event: "<N>message" on stderr (journald reads the priority), or
 * structured journal fields when built with libsystemd and running under journald. */
#ifndef UL_LOG_H
#define UL_LOG_H

#include <syslog.h>

#include "names.h"

void ul_log_init(const char *ident);
void ul_log_set_level(int level);
/* Send every line that passes the level to fn instead of stderr/the journal (a test
 * captures them); NULL restores the default. */
typedef void (*ul_log_sink_fn)(void *ctx, int prio, const char *msg);
void ul_log_set_sink(ul_log_sink_fn fn, void *ctx);
void ul_log(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* `link isp1: up -> down (reason)`, with LINK=/STATE= fields in the journal. */
void ul_log_transition(const char *link, const char *from, const char *to, const char *reason);

#define ul_err(...) ul_log(LOG_ERR, __VA_ARGS__)
#define ul_warn(...) ul_log(LOG_WARNING, __VA_ARGS__)
#define ul_notice(...) ul_log(LOG_NOTICE, __VA_ARGS__)
#define ul_info(...) ul_log(LOG_INFO, __VA_ARGS__)
#define ul_debug(...) ul_log(LOG_DEBUG, __VA_ARGS__)

#endif
