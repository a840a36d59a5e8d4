/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The few sysctls multi-homing needs, set only where needed, logged, and restored on
 * stop (the values found are remembered in a state file so a restart after a crash
 * still restores the originals). */
#ifndef UL_SYSCTL_H
#define UL_SYSCTL_H

struct ul_sysctl;

int ul_sysctl_new(const char *state_file, struct ul_sysctl **out);
/* Ensure /proc/sys/<key> holds value (key like "net/ipv4/ip_forward"); when `atleast`,
 * a larger number already there is fine. Remembers the original. */
int ul_sysctl_ensure(struct ul_sysctl *s, const char *key, int value, int atleast);
/* Does key still hold what ul_sysctl_ensure made it hold? 0 yes, 1 no (*found is the
 * value there; with fix, it is written again, the remembered original untouched), -errno. */
int ul_sysctl_check(struct ul_sysctl *s, const char *key, int value, int atleast, int fix,
		    long *found);
/* Put every changed value back, remove the state file. */
void ul_sysctl_restore(struct ul_sysctl *s);
void ul_sysctl_free(struct ul_sysctl *s);

#endif
