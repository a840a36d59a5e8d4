/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the kernel adapters have to say, by syslog priority: notes (an ignored malformed
 * message, a changed sysctl, debug traces) and failures. They do not log themselves.
 *
 * Notes go to a sink the program gives (the daemon: its log, port_netlink.c); without one
 * to stderr as "<N>message", debug ones only after ul_klog_set_level.
 *
 * A failure (ul_kerr) is what an adapter function returns as -errno, in words, with the
 * kernel's extended-ack text when there was one (ul_klog_ack): it is recorded as the
 * kernel layer's last error (the first one since ul_klog_clear, and how many followed),
 * for the caller to report once, with its own context (the daemon does, through its port's
 * last_error). With a sink it is not sent there; without one (tests, tools) it is also
 * printed to stderr, since nothing else would report it. */
#ifndef UL_KLOG_H
#define UL_KLOG_H

#include <syslog.h>

typedef void (*ul_klog_sink)(int prio, const char *msg);

/* NULL: back to stderr. */
void ul_klog_set_sink(ul_klog_sink sink);
/* Threshold of the stderr default (LOG_INFO); a sink gets every note and filters itself. */
void ul_klog_set_level(int level);
/* Formats into at most 1023 bytes; keeps errno. */
void ul_klog(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A failure, recorded (see above); keeps errno. */
void ul_klog_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The kernel's extended-ack message for the request that just failed: appended to the
 * failure recorded next. */
void ul_klog_ack(const char *msg);
/* The failure recorded since the last clear ("" when none). */
const char *ul_klog_last_error(void);
void ul_klog_clear(void);

#define ul_kerr(...) ul_klog_fail(__VA_ARGS__)
#define ul_kwarn(...) ul_klog(LOG_WARNING, __VA_ARGS__)
#define ul_knotice(...) ul_klog(LOG_NOTICE, __VA_ARGS__)
#define ul_kinfo(...) ul_klog(LOG_INFO, __VA_ARGS__)
#define ul_kdebug(...) ul_klog(LOG_DEBUG, __VA_ARGS__)

#endif
