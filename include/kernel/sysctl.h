/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The few sysctls multi-homing needs, set only where needed, logged, and restored on
 * stop (the values found are remembered in a state file so a restart after a crash
 * still restores the originals). */
#ifndef UL_SYSCTL_H
#define UL_SYSCTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct ul_sysctl;

/* The state directory of this network namespace: /run/uplinkd/ns-<inode of
 * /proc/self/ns/net>. The one place that names it. */
int ul_sysctl_state_dir(char *out, size_t len);
/* state_dir NULL or "": originals kept in memory only. Otherwise the directory (created
 * mode 0700, its parent 0755 if missing) and its parent must be owned by root or by the
 * effective uid and writable by nobody else (-EPERM otherwise, logged); its "sysctl.saved"
 * left by an earlier run is loaded: lines with a key ul_sysctl_managed refuses or a value
 * that is not an integer are logged and dropped. */
int ul_sysctl_new(const char *state_dir, struct ul_sysctl **out);
/* The keys uplinkd manages: net/ipv4/ip_forward, net/ipv{4,6}/fib_multipath_hash_policy,
 * net/ipv4/conf/IF/rp_filter, net/ipv6/conf/IF/{forwarding,accept_ra}. */
bool ul_sysctl_managed(const char *key);
/* The state file's parser (load, and the fuzzer): adds the good lines of f to s. */
int ul_sysctl_load_text(struct ul_sysctl *s, const char *name, FILE *f);
/* Ensure /proc/sys/<key> holds value (key like "net/ipv4/ip_forward"); when `atleast`,
 * a larger number already there is fine. Remembers the original. -EPERM for a key that
 * is not managed. */
int ul_sysctl_ensure(struct ul_sysctl *s, const char *key, int value, int atleast);
/* Read an integer sysctl. 0 or -errno. */
int ul_sysctl_get(struct ul_sysctl *s, const char *key, long *value);
/* Does key still hold what ul_sysctl_ensure made it hold? 0 yes, 1 no (*found is the
 * value there; with fix, it is written again, the remembered original untouched), -errno. */
int ul_sysctl_check(struct ul_sysctl *s, const char *key, int value, int atleast, int fix,
		    long *found);
/* Put every changed value back, remove the state file. */
void ul_sysctl_restore(struct ul_sysctl *s);
/* The i-th original remembered (key, value); -ENOENT past the end. */
int ul_sysctl_saved(const struct ul_sysctl *s, size_t i, const char **key, const char **orig);
void ul_sysctl_free(struct ul_sysctl *s);

#endif
