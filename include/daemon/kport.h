/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The kernel port: every side effect the daemon has on the host, as one struct of
 * operations on an opaque context. The daemon (daemon.c) calls the kernel only through
 * it. Production wires netlink (port_netlink.c: rtnetlink, nftables, ctnetlink, sysctl,
 * fork/exec of the hook, probe sockets, CLOCK_MONOTONIC); a test wires a fake that
 * records every call and answers from a script.
 *
 * Every operation takes the port's ctx first and value arguments (pointers are borrowed
 * for the call only, except where noted); integers are 0 (or a count) or -errno. */
#ifndef UL_KPORT_H
#define UL_KPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "config.h"
#include "identity.h"
#include "loop.h"
#include "plan.h"
#include "probe.h"
#include "ruleset.h"
#include "types.h"

struct ul_kport {
	void *ctx;

	/* the clock: monotonic milliseconds */
	uint64_t (*now_ms)(void *ctx);

	/* links, IPv4 addresses and main-table routes: open the sockets, the fd to watch
	 * for events, read pending events (-EAGAIN: none; -ENOBUFS: some were lost, dump
	 * again), dump everything as events; the events also tell of routes in other tables,
	 * ip rules and interface settings (UL_KEV_TROUTE, _RULE, _NETCONF) */
	int (*rtnl_open)(void *ctx);
	int (*rtnl_event_fd)(void *ctx);
	int (*rtnl_read_events)(void *ctx, ul_kev_cb cb, void *data);
	int (*rtnl_dump_all)(void *ctx, ul_kev_cb cb, void *data);

	/* table inet uplinkd: open, replace with rs in one transaction (dumping what is
	 * there first), delete. nft_apply returns 1 when it applied rs but changes others
	 * committed meanwhile may have gone unreported by nft_watch_read (the event socket
	 * does not listen during uplinkd's own large transactions): as lost events */
	int (*nft_open)(void *ctx);
	int (*nft_apply)(void *ctx, const struct ul_ruleset *rs);
	int (*nft_remove)(void *ctx);
	/* the table's named counters (traffic per link), one cb per counter; optional (NULL:
	 * none) */
	int (*nft_counters)(void *ctx, void (*cb)(void *data, const char *name,
						  uint64_t packets, uint64_t bytes), void *data);

	/* routes and rules: make the owned tables and the rule range [lo, hi] what `want`
	 * says (returns the number of changes), or empty them */
	int (*reconcile)(void *ctx, const struct ul_plan *want, const uint32_t *tables,
			 size_t n_tables, uint32_t lo, uint32_t hi);
	int (*remove_all)(void *ctx, const uint32_t *tables, size_t n_tables, uint32_t lo,
			  uint32_t hi);

	/* conntrack: forget the connections whose (mark & mask) == mark */
	int (*ct_flush_mark)(void *ctx, int family, uint32_t mark, uint32_t mask);
	/* ... and those without any bit of mask whose replies go to reply_dst (connections
	 * that predate uplinkd, NATed to a link's address); -EOPNOTSUPP: kernel before 6.8 */
	int (*ct_flush_unmarked)(void *ctx, const struct ul_addr *reply_dst, uint32_t mask);

	/* the link identity store (identity.h, idstore.h): read it (a missing file is an
	 * empty map), replace it atomically */
	int (*ident_load)(void *ctx, const char *path, struct ul_ident_map *m);
	int (*ident_save)(void *ctx, const char *path, const struct ul_ident *a, size_t n);

	/* sysctls: open the saved state (the port's fixed directory of this network
	 * namespace), ensure a value (see sysctl.h), put every changed value back */
	int (*sysctl_open)(void *ctx);
	int (*sysctl_ensure)(void *ctx, const char *key, int value, int atleast);
	void (*sysctl_restore)(void *ctx);
	/* read an integer sysctl (IPv6: accept_ra of a WAN interface); NULL: not offered */
	int (*sysctl_get)(void *ctx, const char *key, long *value);

	/* the state-change hook: set up (runs in loop), configure ("" disables; user "" is
	 * the daemon's own, see hook.h), queue one event (run one at a time, in order), reap
	 * on SIGCHLD */
	int (*hooks_open)(void *ctx, struct ul_loop *loop);
	int (*hooks_configure)(void *ctx, const char *path, uint32_t timeout_s, const char *user);
	int (*hook_event)(void *ctx, const char *name, const char *ifname, const char *state,
			  const char *prev, const char *active_csv);
	void (*hooks_reap)(void *ctx);
	/* an IPv6 transition: as hook_event, with UPLINK_FAMILY=ipv6 (NULL: not offered) */
	int (*hook_event6)(void *ctx, const char *name, const char *ifname, const char *state,
			   const char *prev, const char *active_csv);

	/* probe sockets of one link (see probe.h); the prober handle is the port's own
	 * (a fake may return any non-NULL pointer); cb is called with each round's result */
	struct ul_prober *(*prober_new)(void *ctx, struct ul_loop *loop,
					const struct ul_check *chk, const char *ifname,
					uint32_t mark, ul_round_cb cb, void *data);
	int (*prober_bind)(void *ctx, struct ul_prober *p, const struct ul_addr *src);
	const struct ul_probe_stats *(*prober_stats)(void *ctx, const struct ul_prober *p);
	void (*prober_free)(void *ctx, struct ul_prober *p);

	/* privileges (priv.h): after set-up keep CAP_NET_ADMIN and CAP_NET_RAW only (and
	 * what a hook_user needs, when keep_setid), no_new_privs; whether a hook_user can
	 * still be honoured */
	int (*priv_drop)(void *ctx, bool keep_setid);
	bool (*priv_can_setid)(void *ctx);
	/* Watching what uplinkd owns, to put back what others change. Each is optional (NULL:
	 * the port cannot, and that part is not watched). nftables: open the event socket,
	 * the fd to watch, read the pending events: how many were changes others made to
	 * table inet uplinkd (ch keeps the most serious; elements count only in the static
	 * sets of rs, the ruleset applied; -ENOBUFS: events were lost); after
	 * lost events, check that the table has every chain and set of rs (1: not, ch says
	 * what is missing). Routing: what differs from `want` in the owned tables and the
	 * rule range, changing nothing (the number of differences, the first in words in
	 * what). Sysctls: does key still hold what sysctl_ensure made it hold (1: no, *found
	 * is there; with fix it is written again, the saved original untouched). */
	int (*nft_watch_open)(void *ctx);
	int (*nft_watch_fd)(void *ctx);
	int (*nft_watch_read)(void *ctx, const struct ul_ruleset *rs, struct ul_nft_change *ch);
	int (*nft_check)(void *ctx, const struct ul_ruleset *rs, struct ul_nft_change *ch);
	int (*routing_drift)(void *ctx, const struct ul_plan *want, const uint32_t *tables,
			     size_t n_tables, uint32_t lo, uint32_t hi, char *what, size_t len);
	int (*sysctl_check)(void *ctx, const char *key, int value, int atleast, bool fix,
			    long *found);

	/* close whatever was opened (hooks killed, sysctl state, nft, rtnetlink) */
	void (*close)(void *ctx);

	/* Why the kernel operation just called failed, in words (with the kernel's
	 * extended-ack text when it gave one), "" when there are none: the lower layers do not
	 * log their failures, the daemon reports each once with its own context. May be NULL. */
	const char *(*last_error)(void *ctx);
};

/* Production: netlink, /proc/sys, fork/exec, real probes. ctx is allocated here and
 * freed by close(). Points the kernel adapters' notes (klog.h) at the daemon's log.
 * 0 or -ENOMEM. */
int ul_kport_netlink(struct ul_kport *out);

#endif
