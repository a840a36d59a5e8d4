/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The daemon proper: link state machines fed by the kernel view and the probes, the plan
 * applied by difference, hooks after each apply, reload that swaps only a valid config.
 * It reaches the kernel only through its port (kport.h). */
#ifndef UL_DAEMON_H
#define UL_DAEMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "config.h"
#include "control.h"
#include "http.h"
#include "identity.h"
#include "kport.h"
#include "linkstate.h"
#include "loop.h"
#include "plan.h"
#include "repair.h"
#include "status.h"
#include "view.h"

/* Hook events waiting for the apply that acts on them; overflow drops the oldest. */
#define UL_PENDING_HOOKS_MAX 64

struct ul_daemon;

struct ul_daemon_link {
	struct ul_daemon *d;
	size_t idx;
	struct ul_fsm fsm;
	struct ul_link_rt rt;
	struct ul_prober *prober;       /* the check's IPv4 targets */
	bool sysctl_done;
	/* IPv6, judged on its own (the fields above are IPv4's) */
	struct ul_fsm fsm6;
	struct ul_prober *prober6;      /* the check's IPv6 targets; without any, the IPv6 is
					 * judged by the IPv4 rounds */
	bool sysctl6_done;              /* accept_ra 2 on its interface */
};

struct ul_pending_hook {
	size_t idx;
	enum ul_state from, to;
	bool v6;                        /* a transition of the link's IPv6 */
};

struct ul_daemon {
	struct ul_kport kp;                     /* the kernel, set before run */
	struct ul_config *cfg;
	const char *cfg_path, *sock_override;
	int level_override;
	struct ul_loop *loop;
	struct ul_watch rtnl_w, sig_w;
	bool rtnl_open, nft_open, sysctl_open;  /* what of the port was opened */
	struct ul_control *ctl;
	struct ul_view view;
	struct ul_daemon_link links[UL_MAX_LINKS];
	char disabled[UL_MAX_LINKS][UL_NAME_MAX];       /* uplinkctl disable, kept on reload */
	size_t n_disabled;
	struct ul_plan plan;
	bool have_plan;
	char *nft_text;                 /* unused (the plan is compared, see nft_synced) */
	bool nft_synced;                /* table inet uplinkd holds d->plan.nft */
	struct ul_http *http;           /* daemon.metrics_listen */
	uint32_t carried;               /* links carrying traffic at the last apply */
	uint32_t carried6;              /* the same in IPv6 */
	bool forwarding6;               /* IPv6 forwarding sysctls set */
	struct ul_timer apply_t, watchdog_t, settle_t, resync_t;
	uint64_t watchdog_ms;
	struct ul_pending_hook hooks_pending[UL_PENDING_HOOKS_MAX];
	size_t n_hooks_pending;
	uint32_t old_tables[UL_MAX_LINKS + 1];  /* tables of the previous config, to empty */
	size_t n_old_tables;
	uint32_t old_prio;              /* rule range of the previous config, 0 = none */
	/* putting back what others change (see "Repairs" in uplinkd(8)) */
	struct ul_watch nft_w;                  /* nftables events, when the port has them */
	bool nft_force;                         /* re-send the ruleset even if unchanged */
	bool nft_verify;                        /* nftables events were lost: check the table */
	struct ul_nft_change nft_change;        /* changes others made, not yet repaired */
	bool routing_check;                     /* others changed owned rules or routes */
	bool fwd_set, hash_set;                 /* ip_forward, fib_multipath_hash_policy ensured */
	struct ul_timer sysctl_t;               /* the periodic check of the sysctls */
	struct ul_repair_guard guard_nft, guard_routing, guard_sysctl;
	uint64_t start_ms, reloads, reload_failures;
	bool ready, stopping;
	int exit_code;
	bool ct_unmarked_told;          /* "kernel cannot flush by address" logged */
	/* link identity (identity.h): the store file and what it holds now */
	char ident_path[sizeof(((struct ul_daemon_conf *)0)->control_socket) + 32];
	struct ul_ident_map ident;
	/* the per-namespace instance lock (instance.h), taken by main before anything */
	bool locked;
	struct ul_watch lock_w;
};

/* Run with d->cfg (taken over) until SIGTERM/SIGINT, then take everything away and close
 * the port: ul_daemon_start, ul_loop_run(d->loop), ul_daemon_stop. Returns the exit code. */
int ul_daemon_run(struct ul_daemon *d);
/* Open the loop, signals, the port's parts and the control socket, read the kernel, adopt
 * d->cfg. 0 or -errno (logged); ul_daemon_stop is due either way. */
int ul_daemon_start(struct ul_daemon *d);
/* Take away what was installed, restore sysctls, close the port, free everything. */
void ul_daemon_stop(struct ul_daemon *d);
/* What the loop calls (a test may call them itself): the rtnetlink event fd is readable;
 * a signal came (SIGHUP, SIGTERM, SIGINT, SIGCHLD). 1 when it stops the loop. */
void ul_daemon_kernel_events(struct ul_daemon *d);
int ul_daemon_signal(struct ul_daemon *d, int signo);
/* uplinkd -n: print what d->cfg would install given the kernel as it is now (read only,
 * through d->kp; every link whose interface exists is taken to be up). Exit code. */
int ul_daemon_dry_run(struct ul_daemon *d);

/* For the control verbs (verbs.c). */
int ul_daemon_reload(struct ul_daemon *d, struct ul_buf *why);
void ul_daemon_snapshot(const struct ul_daemon *d, struct ul_status *s);
int ul_daemon_set_disabled(struct ul_daemon *d, const char *name, bool disable,
			   struct ul_buf *b);

/* The control socket's handler (verbs.c): data is the daemon. */
int ul_verbs_handle(void *data, const char *req, struct ul_buf *body);

#endif
