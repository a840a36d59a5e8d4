/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Privileges (libcap-ng): what the daemon keeps once it is set up, and how a hook child
 * becomes daemon.hook_user. */
#ifndef UL_PRIV_H
#define UL_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* After set-up (control socket bound and given its group, state directory made): keep
 * CAP_NET_ADMIN and CAP_NET_RAW only (effective, permitted, bounding set when it can be
 * changed, ambient when they were ambient: a hook then has what the daemon has), plus
 * CAP_SETUID and CAP_SETGID in the permitted and bounding sets alone when keep_setid (a
 * hook_user to switch to), and set no_new_privs. The uid stays. 0 or -errno (logged). */
int ul_priv_drop(bool keep_setid);
/* Whether CAP_SETUID and CAP_SETGID are still permitted (hook_user can be honoured). */
bool ul_priv_can_setid(void);
/* In a hook child: become uid/gid with exactly these supplementary groups and no
 * capabilities at all. 0 or -errno. */
int ul_priv_become(uid_t uid, gid_t gid, const gid_t *groups, size_t n_groups);

#endif
