/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the kernel adapters have to say (an ignored malformed message, a refused
 * transaction, a changed sysctl, debug traces), by syslog priority. They do not log
 * themselves: the program gives them a sink (the daemon: its log, port_netlink.c). Without
 * one, notes go to stderr as "<N>message", debug ones only after ul_klog_set_level. */
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

#define ul_kerr(...) ul_klog(LOG_ERR, __VA_ARGS__)
#define ul_kwarn(...) ul_klog(LOG_WARNING, __VA_ARGS__)
#define ul_knotice(...) ul_klog(LOG_NOTICE, __VA_ARGS__)
#define ul_kinfo(...) ul_klog(LOG_INFO, __VA_ARGS__)
#define ul_kdebug(...) ul_klog(LOG_DEBUG, __VA_ARGS__)

#endif
