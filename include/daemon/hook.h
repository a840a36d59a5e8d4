/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The state-change hook: fork/exec without a shell, one at a time in event order,
 * never blocking the loop, killed after its timeout. */
#ifndef UL_HOOK_H
#define UL_HOOK_H

#include <stdint.h>

#include "loop.h"

struct ul_hooks;

int ul_hooks_new(struct ul_loop *loop, struct ul_hooks **out);
/* path "" disables; takes effect for events queued afterwards. The hook must pass
 * ul_path_trusted and is opened now: later runs exec this file, whatever the path names
 * by then. A hook refused (-EPERM, -ENOENT..., logged with its path) is not run at all.
 * user (NULL or "": the daemon's) is daemon.hook_user: each run switches to it (this
 * needs CAP_SETUID and CAP_SETGID, see ul_priv_drop). */
int ul_hooks_configure_as(struct ul_hooks *h, const char *path, uint32_t timeout_s,
			  const char *user);
int ul_hooks_configure(struct ul_hooks *h, const char *path, uint32_t timeout_s);
/* Queue one event (copied). */
int ul_hooks_event(struct ul_hooks *h, const char *name, const char *ifname, const char *state,
		   const char *prev, const char *active_csv);
/* The same for one family of a dual-stack link: family "ipv6" adds UPLINK_FAMILY=ipv6 to
 * the environment (NULL: the 1.0 set, as ul_hooks_event). */
int ul_hooks_event_family(struct ul_hooks *h, const char *name, const char *ifname,
			  const char *state, const char *prev, const char *active_csv,
			  const char *family);
/* Call on SIGCHLD: reaps, logs the exit, starts the next. */
void ul_hooks_reap(struct ul_hooks *h);
/* Kill a running hook and drop the queue (shutdown). */
void ul_hooks_free(struct ul_hooks *h);

#endif
