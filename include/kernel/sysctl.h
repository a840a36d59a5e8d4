/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The few sysctls multi-homing needs, set only where needed, logged, and restored on
 * stop (the values found are remembered in a state file so a restart after a crash
 * still restores the originals). */
#ifndef UL_SYSCTL_H
#define UL_SYSCTL_H

#include <stddef.h>

struct ul_sysctl;

int ul_sysctl_new(const char *state_file, struct ul_sysctl **out);
/* Ensure /proc/sys/<key> holds value (key like "net/ipv4/ip_forward"); when `atleast`,
 * a larger number already there is fine. Remembers the original. */
int ul_sysctl_ensure(struct ul_sysctl *s, const char *key, int value, int atleast);
/* Read an integer sysctl. 0 or -errno. */
int ul_sysctl_get(struct ul_sysctl *s, const char *key, long *value);
/* A gateway that forwards IPv6: every WAN interface that accepts router advertisements
 * (accept_ra 1) is set to 2 first, so it keeps learning its router once forwarding is
 * on (0 stays 0: the administrator turned them off); then net.ipv6.conf.all.forwarding
 * and net.ipv6.fib_multipath_hash_policy (L4, like IPv4's) are set. Each is restored by
 * ul_sysctl_restore. Returns 0 or the first error. */
int ul_sysctl_ipv6_router(struct ul_sysctl *s, const char *const *wan_ifs, size_t n);
/* Put every changed value back, remove the state file. */
void ul_sysctl_restore(struct ul_sysctl *s);
void ul_sysctl_free(struct ul_sysctl *s);

#endif
