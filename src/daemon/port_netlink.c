// SPDX-License-Identifier: GPL-2.0-or-later
/* The kernel port wired to the real kernel: the kernel adapters (rtnetlink, nftables,
 * ctnetlink, sysctl), the hook runner, the probers and the monotonic clock. The only
 * daemon-layer file that includes the kernel adapters' headers. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "ct.h"
#include "hook.h"
#include "idstore.h"
#include "klog.h"
#include "kport.h"
#include "log.h"
#include "nft.h"
#include "nftwatch.h"
#include "priv.h"
#include "reconcile.h"
#include "rtnl.h"
#include "sysctl.h"

struct netlink_port {
	struct ul_rtnl *rtnl;
	struct ul_nft *nft;
	struct ul_nft_watch *watch;
	struct ul_sysctl *sysctl;
	struct ul_hooks *hooks;
};

static uint64_t np_now_ms(void *ctx)
{
	return ul_now_ms();
}

static int np_rtnl_open(void *ctx)
{
	struct netlink_port *np = ctx;

	ul_klog_clear();
	return ul_rtnl_open(&np->rtnl);
}

static int np_rtnl_event_fd(void *ctx)
{
	struct netlink_port *np = ctx;

	return ul_rtnl_event_fd(np->rtnl);
}

static int np_rtnl_read_events(void *ctx, ul_kev_cb cb, void *data)
{
	struct netlink_port *np = ctx;

	ul_klog_clear();
	return ul_rtnl_read_events(np->rtnl, cb, data);
}

static int np_rtnl_dump_all(void *ctx, ul_kev_cb cb, void *data)
{
	struct netlink_port *np = ctx;

	ul_klog_clear();
	return ul_rtnl_dump_all(np->rtnl, cb, data);
}

static int np_nft_open(void *ctx)
{
	struct netlink_port *np = ctx;

	ul_klog_clear();
	return ul_nft_open(&np->nft);
}

/* Transactions with at least this many static set elements are made with the event socket
 * out of the nftables group: the kernel would build a notification per element for it. */
#define MUTE_ELEMS 1000

static bool big(const struct ul_ruleset *rs)
{
	size_t n = 0;

	for (size_t i = 0; i < rs->n_sets; i++)
		if (!rs->sets[i].dynamic)
			n += rs->sets[i].n_elems;
	return n >= MUTE_ELEMS;
}

static int np_nft_apply(void *ctx, const struct ul_ruleset *rs)
{
	struct netlink_port *np = ctx;
	size_t added, deleted, updated, created;
	bool muted;
	int ret, lost = 0;

	ul_klog_clear();
	muted = np->watch && big(rs) && !ul_nft_watch_mute(np->watch, np->nft);
	ret = ul_nft_apply(np->nft, rs);
	if (muted)
		lost = ul_nft_watch_unmute(np->watch, np->nft);
	if (!ret) {
		ul_nft_last_stats(np->nft, &added, &deleted, &updated, &created);
		ul_debug("nftables: table inet uplinkd applied: %zu set%s filled, %zu updated in "
			 "place (%zu element%s added, %zu deleted)", created, created == 1 ? "" : "s",
			 updated, added, added == 1 ? "" : "s", deleted);
	}
	/* others committed while the event socket was deaf: what they did is not known (a
	 * failed apply forgot the sets already, and the daemon applies again) */
	if (!ret && lost > 0) {
		ul_nft_forget(np->nft);
		return 1;
	}
	return ret;
}

static int np_nft_counters(void *ctx, void (*cb)(void *data, const char *name, uint64_t packets,
						   uint64_t bytes), void *data)
{
	struct netlink_port *np = ctx;
	struct ul_nft_counter *v;
	size_t n;
	int ret;

	if (!np->nft)
		return -ENOTCONN;
	ret = ul_nft_read_counters(np->nft, &v, &n);
	if (ret)
		return ret;
	for (size_t i = 0; i < n; i++)
		cb(data, v[i].name, v[i].packets, v[i].bytes);
	free(v);
	return 0;
}

static int np_nft_remove(void *ctx)
{
	struct netlink_port *np = ctx;

	ul_klog_clear();
	return np->nft ? ul_nft_remove(np->nft) : 0;
}

static int np_nft_watch_open(void *ctx)
{
	struct netlink_port *np = ctx;

	return ul_nft_watch_open(&np->watch);
}

static int np_nft_watch_fd(void *ctx)
{
	struct netlink_port *np = ctx;

	return ul_nft_watch_fd(np->watch);
}

static int np_nft_watch_read(void *ctx, const struct ul_ruleset *rs, struct ul_nft_change *ch)
{
	struct netlink_port *np = ctx;

	int n = ul_nft_watch_read(np->watch, ul_nft_portid(np->nft), rs, ch);

	/* someone else changed the table: what it held at the last commit is no longer
	 * known, the next apply fills the static sets anew instead of updating them by
	 * difference (lost events alone do not: uplinkd's own large transactions overrun the
	 * queue with their elements; the daemon checks the table then, see nft_check) */
	if (n > 0)
		ul_nft_forget(np->nft);
	return n;
}

static int np_nft_check(void *ctx, const struct ul_ruleset *rs, struct ul_nft_change *ch)
{
	struct netlink_port *np = ctx;

	int n = ul_nft_check(np->nft, rs, ch);

	if (n > 0)
		ul_nft_forget(np->nft);
	return n;
}

static int np_routing_drift(void *ctx, const struct ul_plan *want, const uint32_t *tables,
			    size_t n_tables, uint32_t lo, uint32_t hi, char *what, size_t len)
{
	struct netlink_port *np = ctx;

	return ul_reconcile_drift(np->rtnl, want, tables, n_tables, lo, hi, what, len);
}

static int np_sysctl_check(void *ctx, const char *key, int value, int atleast, bool fix,
			   long *found)
{
	struct netlink_port *np = ctx;

	return ul_sysctl_check(np->sysctl, key, value, atleast, fix, found);
}

static int np_reconcile(void *ctx, const struct ul_plan *want, const uint32_t *tables,
			size_t n_tables, uint32_t lo, uint32_t hi)
{
	struct netlink_port *np = ctx;

	ul_klog_clear();
	return ul_reconcile(np->rtnl, want, tables, n_tables, lo, hi);
}

static int np_remove_all(void *ctx, const uint32_t *tables, size_t n_tables, uint32_t lo,
			 uint32_t hi)
{
	struct netlink_port *np = ctx;

	ul_klog_clear();
	return np->rtnl ? ul_reconcile_remove_all(np->rtnl, tables, n_tables, lo, hi) : 0;
}

static int np_ct_flush_mark(void *ctx, int family, uint32_t mark, uint32_t mask)
{
	ul_klog_clear();
	return ul_ct_flush_mark(family, mark, mask);
}

/* What the kernel layer said of the call that just failed (klog.h). */
static const char *np_last_error(void *ctx)
{
	return ul_klog_last_error();
}

static int np_ct_flush_unmarked(void *ctx, const struct ul_addr *reply_dst, uint32_t mask)
{
	ul_klog_clear();
	return ul_ct_flush_unmarked_to(reply_dst, mask);
}

static int np_ident_load(void *ctx, const char *path, struct ul_ident_map *m)
{
	return ul_idstore_load(path, m);
}

static int np_ident_save(void *ctx, const char *path, const struct ul_ident *a, size_t n)
{
	return ul_idstore_save(path, a, n);
}

/* One fixed directory per network namespace (ul_sysctl_state_dir). */
static int np_sysctl_open(void *ctx)
{
	struct netlink_port *np = ctx;
	char dir[64];
	int err = ul_sysctl_state_dir(dir, sizeof(dir));

	ul_klog_clear();
	if (err)
		return err;     /* the daemon says so (once) */
	return ul_sysctl_new(dir, &np->sysctl);
}

static int np_sysctl_ensure(void *ctx, const char *key, int value, int atleast)
{
	struct netlink_port *np = ctx;

	ul_klog_clear();
	return ul_sysctl_ensure(np->sysctl, key, value, atleast);
}

static int np_sysctl_get(void *ctx, const char *key, long *value)
{
	struct netlink_port *np = ctx;

	return ul_sysctl_get(np->sysctl, key, value);
}

static void np_sysctl_restore(void *ctx)
{
	struct netlink_port *np = ctx;

	if (np->sysctl)
		ul_sysctl_restore(np->sysctl);
}

static int np_hooks_open(void *ctx, struct ul_loop *loop)
{
	struct netlink_port *np = ctx;

	return ul_hooks_new(loop, &np->hooks);
}

static int np_hooks_configure(void *ctx, const char *path, uint32_t timeout_s,
			      const char *user)
{
	struct netlink_port *np = ctx;

	return ul_hooks_configure_as(np->hooks, path, timeout_s, user);
}

static int np_priv_drop(void *ctx, bool keep_setid)
{
	return ul_priv_drop(keep_setid);
}

static bool np_priv_can_setid(void *ctx)
{
	return ul_priv_can_setid();
}

static int np_hook_event(void *ctx, const char *name, const char *ifname, const char *state,
			 const char *prev, const char *active_csv)
{
	struct netlink_port *np = ctx;

	return ul_hooks_event(np->hooks, name, ifname, state, prev, active_csv);
}

static int np_hook_event6(void *ctx, const char *name, const char *ifname, const char *state,
			 const char *prev, const char *active_csv)
{
	struct netlink_port *np = ctx;

	return ul_hooks_event_family(np->hooks, name, ifname, state, prev, active_csv, "ipv6");
}

static void np_hooks_reap(void *ctx)
{
	struct netlink_port *np = ctx;

	ul_hooks_reap(np->hooks);
}

static struct ul_prober *np_prober_new(void *ctx, struct ul_loop *loop,
				       const struct ul_check *chk, const char *ifname,
				       uint32_t mark, ul_round_cb cb, void *data)
{
	return ul_prober_new(loop, chk, ifname, mark, cb, data);
}

static int np_prober_bind(void *ctx, struct ul_prober *p, const struct ul_addr *src)
{
	return ul_prober_bind(p, src);
}

static const struct ul_probe_stats *np_prober_stats(void *ctx, const struct ul_prober *p)
{
	return ul_prober_stats(p);
}

static void np_prober_free(void *ctx, struct ul_prober *p)
{
	ul_prober_free(p);
}

static void np_close(void *ctx)
{
	struct netlink_port *np = ctx;

	ul_hooks_free(np->hooks);
	ul_sysctl_free(np->sysctl);
	ul_nft_watch_close(np->watch);
	ul_nft_close(np->nft);
	ul_rtnl_close(np->rtnl);
	free(np);
}

/* The adapters' notes go to the daemon's log (its level filters them). */
static void to_log(int prio, const char *msg)
{
	ul_log(prio, "%s", msg);
}

int ul_kport_netlink(struct ul_kport *out)
{
	struct netlink_port *np = calloc(1, sizeof(*np));

	if (!np)
		return -ENOMEM;
	ul_klog_set_sink(to_log);
	*out = (struct ul_kport){
		.ctx = np,
		.now_ms = np_now_ms,
		.rtnl_open = np_rtnl_open,
		.rtnl_event_fd = np_rtnl_event_fd,
		.rtnl_read_events = np_rtnl_read_events,
		.rtnl_dump_all = np_rtnl_dump_all,
		.nft_open = np_nft_open,
		.nft_apply = np_nft_apply,
		.nft_remove = np_nft_remove,
		.nft_counters = np_nft_counters,
		.reconcile = np_reconcile,
		.remove_all = np_remove_all,
		.ct_flush_mark = np_ct_flush_mark,
		.ct_flush_unmarked = np_ct_flush_unmarked,
		.ident_load = np_ident_load,
		.ident_save = np_ident_save,
		.sysctl_open = np_sysctl_open,
		.sysctl_ensure = np_sysctl_ensure, .sysctl_get = np_sysctl_get,
		.sysctl_restore = np_sysctl_restore,
		.hooks_open = np_hooks_open,
		.hooks_configure = np_hooks_configure,
		.hook_event = np_hook_event, .hook_event6 = np_hook_event6,
		.hooks_reap = np_hooks_reap,
		.prober_new = np_prober_new,
		.prober_bind = np_prober_bind,
		.prober_stats = np_prober_stats,
		.prober_free = np_prober_free,
		.priv_drop = np_priv_drop,
		.priv_can_setid = np_priv_can_setid,
		.nft_watch_open = np_nft_watch_open,
		.nft_watch_fd = np_nft_watch_fd,
		.nft_watch_read = np_nft_watch_read,
		.nft_check = np_nft_check,
		.routing_drift = np_routing_drift,
		.sysctl_check = np_sysctl_check,
		.close = np_close,
		.last_error = np_last_error,
	};
	return 0;
}
