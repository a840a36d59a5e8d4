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
/* Read an integer sysctl. 0 or -errno. */
int ul_sysctl_get(struct ul_sysctl *s, const char *key, long *value);
/* Put every changed value back, remove the state file. */
void ul_sysctl_restore(struct ul_sysctl *s);
void ul_sysctl_free(struct ul_sysctl *s);

#endif
