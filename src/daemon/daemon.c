// SPDX-License-Identifier: GPL-2.0-or-later
/* The daemon proper. One epoll loop: signalfd, rtnetlink events, probe sockets, the
 * control socket, timers. Everything it installs comes from ul_plan_build(config, link
 * states) and is applied by difference; SIGTERM takes it all away again. The kernel is
 * reached only through d->kp (kport.h). */
#include <errno.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "control.h"
#include "daemon.h"
#include "hostcheck.h"
#include "identity.h"
#include "instance.h"
#include "kport.h"
#include "linkstate.h"
#include "log.h"
#include "loop.h"
#include "notify.h"
#include "http.h"
#include "plan.h"
#include "setdiff.h"
#include "status.h"
#include "view.h"

#define RETRY_MS 1000
#define RESYNC_RETRY_MS 200
#define SETTLE_MS 20                    /* an interface being deleted is first set down */
#define REPAIR_DELAY_MS 30              /* a burst of foreign changes is repaired at once;
					 * after SETTLE_MS, so a deletion is seen as such first */
#define SYSCTL_CHECK_MS 1000            /* the sysctls uplinkd set are read this often */

static size_t owned_tables(const struct ul_daemon *d, uint32_t *t);

static uint64_t now_ms(const struct ul_daemon *d)
{
	return d->kp.now_ms(d->kp.ctx);
}

/* Why a port call failed: the kernel layer's words (with the kernel's own, when it gave
 * some), else the errno's. Each failure is logged once, here in the daemon. */
static const char *why(const struct ul_daemon *d, int err)
{
	const char *t = d->kp.last_error ? d->kp.last_error(d->kp.ctx) : NULL;

	return t && t[0] ? t : strerror(-err);
}

/* A file of this instance's runtime directory: beside the control socket for now (one
 * place, so the runtime directory can move without touching the callers). */
static void runtime_file(const struct ul_daemon *d, const struct ul_config *c,
			 const char *name, char *buf, size_t len)
{
	const char *sock = d->sock_override ? d->sock_override : c->daemon.control_socket;
	const char *slash = strrchr(sock, '/');
	int dirlen = slash ? (int)(slash - sock) : 1;

	snprintf(buf, len, "%.*s/%s", dirlen, slash ? sock : ".", name);
}

/* Link identity: every link of c gets its id (mark) and table, explicit config values
 * first, then what d->ident remembers by name, then free numbers; the store is replaced
 * (save) before anything uses the new marks. 0 or -errno (ids ran out). */
static int assign_identity(struct ul_daemon *d, struct ul_config *c, bool save)
{
	struct ul_ident a[UL_MAX_LINKS];
	int err = ul_ident_assign(c, &d->ident, a);

	if (err)
		return err;
	for (size_t i = 0; i < c->n_links; i++) {
		const struct ul_ident *r = NULL;

		for (size_t k = 0; k < d->ident.n && !r; k++)
			if (!strcmp(d->ident.e[k].name, a[i].name))
				r = &d->ident.e[k];
		if (!r)
			ul_info("link %s: identity id %u table %u", a[i].name, a[i].id, a[i].table);
		else if (r->id != a[i].id || r->table != a[i].table)
			ul_notice("link %s: identity id %u table %u (was id %u table %u)", a[i].name,
				  a[i].id, a[i].table, r->id, r->table);
	}
	ul_ident_apply(c, a);
	d->ident.n = c->n_links;
	memcpy(d->ident.e, a, c->n_links * sizeof(a[0]));
	if (save && d->ident_path[0]) {
		err = d->kp.ident_save(d->kp.ctx, d->ident_path, a, c->n_links);
		if (err)
			ul_err("identity store %s: %s (link marks may change at the next start)",
			       d->ident_path, strerror(-err));
	}
	return 0;
}

/* The machine's parameters for one family: a family without targets of its own is judged
 * by the other family's (IPv6 by the IPv4 rounds), carrier only when the link has none. */
static struct ul_fsm_params fsm_params_family(const struct ul_link_conf *lc, int family)
{
	return (struct ul_fsm_params){
		.down_after = lc->check.down_after, .up_after = lc->check.up_after,
		.max_rtt_ms = lc->check.max_rtt_ms, .max_loss_pct = lc->check.max_loss_pct,
		.quorum = lc->check.quorum,
		.carrier_only = !ul_check_family_targets(&lc->check, family) &&
				!ul_check_family_targets(&lc->check,
							 family == AF_INET6 ? AF_INET : AF_INET6),
	};
}

static struct ul_fsm_params fsm_params(const struct ul_link_conf *lc)
{
	return fsm_params_family(lc, AF_INET);
}

/* The check with the targets of one family only (quorum counts per family). */
static void check_family(const struct ul_check *in, int family, struct ul_check *out)
{
	*out = *in;
	out->n_targets = 0;
	for (size_t i = 0; i < in->n_targets; i++)
		if (in->targets[i].family == family)
			out->targets[out->n_targets++] = in->targets[i];
}

/* Whether link i carries IPv6 now (gateway6 not "none"; without gateway6, when its
 * interface has a global IPv6 address): then its transitions name the family. */
static bool link_v6(const struct ul_daemon *d, size_t i)
{
	const struct ul_link_conf *lc = &d->cfg->links[i];

	return lc->gw6_mode != UL_GW_NONE && (lc->gw6_explicit || d->links[i].rt.has_addr6);
}

static void schedule_apply(struct ul_daemon *d, uint64_t delay_ms)
{
	uint64_t due = now_ms(d) + delay_ms;

	if (!d->apply_t.armed || d->apply_t.due_ms > due)
		ul_timer_arm(d->loop, &d->apply_t, due);
}

static void transition_family(struct ul_daemon *d, struct ul_daemon_link *l,
			      const struct ul_transition *t, int family)
{
	char why[sizeof(t->reason) + 16];

	/* a link with both families names the one that changed */
	if (link_v6(d, l->idx))
		snprintf(why, sizeof(why), "%s: %s", family == AF_INET6 ? "ipv6" : "ipv4",
			 t->reason);
	else
		snprintf(why, sizeof(why), "%s", t->reason);
	ul_log_transition(d->cfg->links[l->idx].name, ul_state_name(t->from),
			  ul_state_name(t->to), why);
	/* the hook: IPv4 (1.0) transitions as in 1.0, IPv6 ones with UPLINK_FAMILY=ipv6. Hook
	 * events wait for the apply that acts on them; like the hook queue (hook.c), an
	 * overflow (applies failing while links flap) drops the oldest, said once each */
	if (d->n_hooks_pending == UL_PENDING_HOOKS_MAX) {
		const struct ul_pending_hook *h = &d->hooks_pending[0];

		ul_warn("hook queue full (%d events): dropping the oldest (%s %s)",
			UL_PENDING_HOOKS_MAX,
			h->idx < d->cfg->n_links ? d->cfg->links[h->idx].name : "?",
			ul_state_name(h->to));
		memmove(&d->hooks_pending[0], &d->hooks_pending[1],
			(UL_PENDING_HOOKS_MAX - 1) * sizeof(d->hooks_pending[0]));
		d->n_hooks_pending--;
	}
	d->hooks_pending[d->n_hooks_pending++] =
		(struct ul_pending_hook){ l->idx, t->from, t->to, family == AF_INET6 };
	schedule_apply(d, 0);
}

static void transition(struct ul_daemon *d, struct ul_daemon_link *l,
		       const struct ul_transition *t)
{
	transition_family(d, l, t, AF_INET);
}

static void transition6(struct ul_daemon *d, struct ul_daemon_link *l,
			const struct ul_transition *t)
{
	transition_family(d, l, t, AF_INET6);
}

static void on_round(void *data, const struct ul_round *r)
{
	struct ul_daemon_link *l = data;
	struct ul_daemon *d = l->d;
	struct ul_fsm_params p = fsm_params(&d->cfg->links[l->idx]);
	struct ul_transition t;

	ul_debug("link %s: round %u/%u answered, rtt %.1f ms", d->cfg->links[l->idx].name,
		 r->answered, r->sent, r->rtt_us / 1000.0);
	if (ul_fsm_round(&l->fsm, &p, r, now_ms(d), &t))
		transition(d, l, &t);
	/* an IPv6 without targets of its own is judged by these rounds */
	if (!l->prober6 && link_v6(d, l->idx) && l->rt.has_addr6 &&
	    ul_fsm_round(&l->fsm6, &p, r, now_ms(d), &t))
		transition6(d, l, &t);
}

static void on_round6(void *data, const struct ul_round *r)
{
	struct ul_daemon_link *l = data;
	struct ul_daemon *d = l->d;
	struct ul_fsm_params p = fsm_params_family(&d->cfg->links[l->idx], AF_INET6);
	struct ul_transition t;

	ul_debug("link %s: ipv6 round %u/%u answered, rtt %.1f ms", d->cfg->links[l->idx].name,
		 r->answered, r->sent, r->rtt_us / 1000.0);
	if (ul_fsm_round(&l->fsm6, &p, r, now_ms(d), &t))
		transition6(d, l, &t);
	/* and an IPv4 without targets of its own by these */
	if (!l->prober && l->rt.has_addr && ul_fsm_round(&l->fsm, &p, r, now_ms(d), &t))
		transition(d, l, &t);
}

/* The link's IPv6 facts and machine, after its IPv4 ones (refresh_link). */
static void refresh_link6(struct ul_daemon *d, struct ul_daemon_link *l,
			  const struct ul_link_rt *old)
{
	const struct ul_link_conf *lc = &d->cfg->links[l->idx];
	struct ul_link_rt *rt = &l->rt;
	struct ul_fsm_params p = fsm_params_family(lc, AF_INET6);
	struct ul_transition t;
	const char *down;

	down = ul_view_link_rt6(&d->view, lc, rt);
	if (rt->has_gw6 && (!old->has_gw6 || !ul_addr_eq(&old->gw6, &rt->gw6)) &&
	    lc->gw6_mode == UL_GW_AUTO)
		ul_info("link %s: IPv6 router %s learned", lc->name,
			ul_addr_format(&rt->gw6, (char[UL_ADDR_STRLEN]){ 0 }, UL_ADDR_STRLEN));
	else if (!rt->has_gw6 && old->has_gw6 && lc->gw6_mode == UL_GW_AUTO)
		ul_info("link %s: IPv6 router gone", lc->name);
	if (link_v6(d, l->idx)) {
		/* a router accepts advertisements only with accept_ra 2 (kept when 0) */
		if (rt->present && !l->sysctl6_done) {
			char key[96];
			long ra = -1;

			snprintf(key, sizeof(key), "net/ipv6/conf/%s/accept_ra", lc->ifname);
			if (d->kp.sysctl_get && !d->kp.sysctl_get(d->kp.ctx, key, &ra) &&
			    (ra != 1 || !d->kp.sysctl_ensure(d->kp.ctx, key, 2, 0)))
				l->sysctl6_done = true;
			if (ra == 0)
				ul_notice("link %s: %s has accept_ra 0: no IPv6 router is learned "
					  "there", lc->name, lc->ifname);
		}
		if (ul_fsm_carrier(&l->fsm6, &p, !down, down, now_ms(d), &t))
			transition6(d, l, &t);
	}
	if (!rt->present)
		l->sysctl6_done = false;
	rt->state6 = l->fsm6.state;
	if (l->prober6) {
		if (old->ifindex && rt->ifindex != old->ifindex)
			d->kp.prober_bind(d->kp.ctx, l->prober6, NULL);
		d->kp.prober_bind(d->kp.ctx, l->prober6,
				  rt->has_addr6 && rt->present ? &rt->addr6 : NULL);
	}
}

/* Bring one link's runtime facts up to date with the kernel view; feed the machine. */
static void refresh_link(struct ul_daemon *d, struct ul_daemon_link *l)
{
	const struct ul_link_conf *lc = &d->cfg->links[l->idx];
	struct ul_link_rt old = l->rt, *rt = &l->rt;
	struct ul_fsm_params p = fsm_params(lc);
	struct ul_transition t;
	const char *down;
	int err;

	rt->state = l->fsm.state;
	down = ul_view_link_rt(&d->view, lc, rt);
	if (rt->has_gw && (!old.has_gw || !ul_addr_eq(&old.gw, &rt->gw)) &&
	    lc->gw_mode == UL_GW_AUTO)
		ul_info("link %s: gateway %s learned", lc->name,
			ul_addr_format(&rt->gw, (char[UL_ADDR_STRLEN]){ 0 }, UL_ADDR_STRLEN));

	/* a new interface (also one deleted and re-created under the same name) starts with
	 * the defaults */
	if (!rt->present || (old.ifindex && rt->ifindex != old.ifindex))
		l->sysctl_done = false;
	if (rt->present && !l->sysctl_done) {
		char key[96];

		snprintf(key, sizeof(key), "net/ipv4/conf/%s/rp_filter", lc->ifname);
		err = d->kp.sysctl_ensure(d->kp.ctx, key, 2, 1);
		if (!err)
			l->sysctl_done = true;
		else
			ul_err("link %s: %s", lc->name, why(d, err));
	}

	/* no carrier or no address: down (an address's return must be proven by probes) */
	if (ul_fsm_carrier(&l->fsm, &p, !down, down, now_ms(d), &t))
		transition(d, l, &t);
	rt->state = l->fsm.state;

	/* probes follow the address (DHCP renew, PPPoE reconnect), and the interface: a
	 * socket bound to a device stays bound to its ifindex, so an interface deleted and
	 * re-created (perhaps faster than a refresh, same address) needs new sockets */
	if (l->prober) {
		if (old.ifindex && rt->ifindex != old.ifindex)
			d->kp.prober_bind(d->kp.ctx, l->prober, NULL);
		d->kp.prober_bind(d->kp.ctx, l->prober,
				  rt->has_addr && rt->present ? &rt->addr : NULL);
	}
	refresh_link6(d, l, &old);

	/* a change of state has scheduled its apply (transition); rt->state is only a copy,
	 * stale after a probe round's transition: not a reason for another apply */
	old.state = rt->state;
	if (memcmp(&old, rt, sizeof(old)))
		schedule_apply(d, 0);
}

static void refresh_all(struct ul_daemon *d)
{
	for (size_t i = 0; i < d->cfg->n_links; i++)
		refresh_link(d, &d->links[i]);
}

/* Read the kernel's view again. Into a new view, taken only when the dump succeeded: a
 * failed one (interrupted again and again in an event storm) would leave a partial view in
 * which interfaces seem gone; then the old view stays and the dump is retried soon. */
static int resync(struct ul_daemon *d)
{
	struct ul_view *v = calloc(1, sizeof(*v));
	int err;

	if (!v)
		err = -ENOMEM;
	else
		err = d->kp.rtnl_dump_all(d->kp.ctx, ul_view_on_kev, v);
	if (err) {
		if (v)
			ul_view_free(v);
		free(v);
		ul_err("netlink dump failed: %s", why(d, err));
		if (d->loop && !d->resync_t.armed)
			ul_timer_arm(d->loop, &d->resync_t, now_ms(d) + RESYNC_RETRY_MS);
		return err;
	}
	v->gw_dirty = false;
	ul_view_free(&d->view);
	d->view = *v;                   /* moved: its arrays now belong to d->view */
	free(v);
	if (d->resync_t.armed)
		ul_timer_cancel(d->loop, &d->resync_t);
	return 0;
}

static void on_settle(struct ul_timer *t)
{
	refresh_all(t->data);
}

static void on_resync(struct ul_timer *t)
{
	struct ul_daemon *d = t->data;

	if (!resync(d))
		refresh_all(d);
}

/* A link whose interface is there but was just set down: the kernel does that first when
 * it deletes an interface, and the deletion follows within a millisecond or so. */
static bool admin_down_pending(const struct ul_daemon *d)
{
	for (size_t i = 0; i < d->cfg->n_links; i++)
		if (ul_view_if_down(&d->view, d->cfg->links[i].ifname) && d->links[i].fsm.carrier)
			return true;
	return false;
}

/* ---- watching what uplinkd owns ---- */

static bool table_owned(const struct ul_daemon *d, uint32_t table)
{
	uint32_t t[2 * UL_MAX_LINKS + 2];
	size_t n = owned_tables(d, t);

	for (size_t i = 0; i < n; i++)
		if (t[i] == table)
			return true;
	return false;
}

/* Events of the batch being read: the view's, and changes others made to what uplinkd owns. */
struct kev_batch {
	struct ul_daemon *d;
	bool routing, sysctl;
};

static void on_kev(const struct ul_kev *ev, void *data)
{
	struct kev_batch *b = data;
	const struct ul_daemon *d = b->d;
	uint32_t prio = d->cfg->daemon.rule_priority;

	switch (ev->type) {
	case UL_KEV_TROUTE:
		if (!ev->own && table_owned(d, ev->table))
			b->routing = true;
		break;
	case UL_KEV_RULE:
		if (!ev->own && ev->metric >= prio && ev->metric <= prio + 99)
			b->routing = true;
		break;
	case UL_KEV_NETCONF:
		b->sysctl = true;
		break;
	case UL_KEV_LINK:
		/* an interface set down loses its IPv4 routes without a word (no RTM_DELROUTE):
		 * after a quick down and up the link's table may be empty though its state never
		 * changed */
		for (size_t i = 0; i < d->cfg->n_links; i++)
			if (!(ev->flags & IFF_UP) && !strcmp(ev->ifname, d->cfg->links[i].ifname))
				b->routing = true;
		ul_view_apply(&b->d->view, ev);
		break;
	default:
		ul_view_apply(&b->d->view, ev);
		break;
	}
}

/* Something others changed: check it (and put it back) soon; a burst is taken as one. */
static void routing_changed(struct ul_daemon *d)
{
	if (!d->have_plan || d->stopping)
		return;
	ul_repair_seen(&d->guard_routing, now_ms(d));
	d->routing_check = true;
	if (!ul_repair_holding(&d->guard_routing, now_ms(d)))
		schedule_apply(d, REPAIR_DELAY_MS);     /* else the end of the wait is due */
}

static void sysctl_soon(struct ul_daemon *d)
{
	uint64_t due = now_ms(d) + REPAIR_DELAY_MS;

	if (d->kp.sysctl_check && d->have_plan && (!d->sysctl_t.armed || d->sysctl_t.due_ms > due))
		ul_timer_arm(d->loop, &d->sysctl_t, due);
}

/* May a repair be made now? Logs it ("repair: what (changed outside uplinkd)") or the start
 * of a back-off; *wait_ms: when to try again otherwise. */
static bool repair_allowed(struct ul_daemon *d, struct ul_repair_guard *g, const char *what,
			   uint64_t *wait_ms)
{
	uint64_t now = now_ms(d);

	switch (ul_repair_decide(g, now, wait_ms)) {
	case UL_REPAIR_NOW:
		ul_warn("repair: %s (changed outside uplinkd)", what);
		return true;
	case UL_REPAIR_BACKOFF:
		ul_warn("repair: %s %u times in %d s (changed outside uplinkd); backing off %llu s",
			what, ul_repair_seen_count(g, now), UL_REPAIR_WINDOW_MS / 1000,
			(unsigned long long)(*wait_ms / 1000));
		return false;
	case UL_REPAIR_WAIT:
		break;
	}
	return false;
}

static void on_nft_events(struct ul_watch *w, uint32_t events)
{
	struct ul_daemon *d = w->data;
	struct ul_nft_change ch = { 0 };
	int n = d->kp.nft_watch_read(d->kp.ctx, d->have_plan ? &d->plan.nft : NULL, &ch);

	if (!d->have_plan || d->stopping)
		return;
	if (n == -ENOBUFS) {
		ul_warn("nftables events lost, checking table inet uplinkd");
		d->nft_verify = true;
		schedule_apply(d, REPAIR_DELAY_MS);
	} else if (n < 0 && n != -EAGAIN) {
		ul_err("nftables events: %s", strerror(-n));
	} else if (n > 0) {
		ul_repair_seen(&d->guard_nft, now_ms(d));
		if (ch.rank > d->nft_change.rank)
			d->nft_change = ch;
		if (!ul_repair_holding(&d->guard_nft, now_ms(d)))
			schedule_apply(d, REPAIR_DELAY_MS);     /* else the end of the wait is due */
	}
}

/* One sysctl uplinkd set: key, value, "at least". */
struct owned_sysctl {
	char key[96];
	int value, atleast;
};

static size_t owned_sysctls(const struct ul_daemon *d, struct owned_sysctl *v)
{
	size_t n = 0;

	if (d->fwd_set)
		v[n++] = (struct owned_sysctl){ "net/ipv4/ip_forward", 1, 0 };
	if (d->hash_set)
		v[n++] = (struct owned_sysctl){ "net/ipv4/fib_multipath_hash_policy", 1, 0 };
	if (d->forwarding6) {
		v[n++] = (struct owned_sysctl){ "net/ipv6/conf/all/forwarding", 1, 0 };
		v[n++] = (struct owned_sysctl){ "net/ipv6/fib_multipath_hash_policy", 1, 0 };
	}
	for (size_t i = 0; i < d->cfg->n_links; i++)
		if (d->links[i].sysctl_done) {
			snprintf(v[n].key, sizeof(v[n].key), "net/ipv4/conf/%s/rp_filter",
				 d->cfg->links[i].ifname);
			v[n].value = 2;
			v[n++].atleast = 1;
		}
	return n;
}

static void dotted(char *s)
{
	for (; *s; s++)
		if (*s == '/')
			*s = '.';
}

static void check_sysctls(struct ul_daemon *d)
{
	struct owned_sysctl v[UL_MAX_LINKS + 4];
	bool drifted[UL_MAX_LINKS + 4] = { false };
	size_t n, k = 0;
	uint64_t now = now_ms(d), wait_ms = 0;
	char what[192] = "";
	long found;

	/* the interfaces as they are now: one re-created a moment ago has its defaults and is
	 * set up as new, not repaired */
	ul_daemon_kernel_events(d);
	n = owned_sysctls(d, v);
	for (size_t i = 0; i < n; i++) {
		if (d->kp.sysctl_check(d->kp.ctx, v[i].key, v[i].value, v[i].atleast, false,
				       &found) != 1)
			continue;
		drifted[i] = true;
		if (!k++) {
			char name[96];

			snprintf(name, sizeof(name), "%s", v[i].key);
			dotted(name);
			snprintf(what, sizeof(what), "sysctl %s is %ld, uplinkd set %d", name, found,
				 v[i].value);
		}
	}
	if (k > 1) {
		size_t off = strlen(what);

		snprintf(what + off, sizeof(what) - off, " and %zu more", k - 1);
	}
	if (k && !ul_repair_holding(&d->guard_sysctl, now))
		ul_repair_seen(&d->guard_sysctl, now);
	if (k && repair_allowed(d, &d->guard_sysctl, what, &wait_ms))
		for (size_t i = 0; i < n; i++)
			if (drifted[i] && d->kp.sysctl_check(d->kp.ctx, v[i].key, v[i].value,
							     v[i].atleast, true, &found) < 0)
				ul_err("repair: sysctl %s: cannot set it again", v[i].key);
	if (!wait_ms || wait_ms > SYSCTL_CHECK_MS)
		wait_ms = SYSCTL_CHECK_MS;
	ul_timer_arm(d->loop, &d->sysctl_t, now + wait_ms);
}

static void on_sysctl_timer(struct ul_timer *t)
{
	struct ul_daemon *d = t->data;

	if (!d->stopping)
		check_sysctls(d);
}

void ul_daemon_kernel_events(struct ul_daemon *d)
{
	struct kev_batch b = { d, false, false };
	int err = d->kp.rtnl_read_events(d->kp.ctx, on_kev, &b);

	if (b.routing)
		routing_changed(d);
	if (b.sysctl)
		sysctl_soon(d);
	if (d->view.lost) {
		ul_err("kernel view: out of memory, %zu interface events not followed; "
		       "reading the kernel again", d->view.lost);
		d->view.lost = 0;
		err = -ENOBUFS;         /* as if events were lost: a fresh dump */
	}
	if (err == -ENOBUFS) {
		ul_warn("netlink events lost (ENOBUFS), resynchronising");
		resync(d);
		/* what was lost may have been a change of uplinkd's rules or routes */
		if (d->have_plan && !d->stopping) {
			d->routing_check = true;
			schedule_apply(d, REPAIR_DELAY_MS);
		}
		sysctl_soon(d);
	} else if (err < 0 && err != -EAGAIN) {
		ul_err("netlink events: %s", why(d, err));
	} else if (d->view.gw_dirty) {
		ul_debug("netlink: default route added, reading the main table again");
		resync(d);
	}
	/* wait a moment before acting on "interface down", so that a deletion is reported as
	 * such ("interface removed"), not as the down that precedes it; the timer is not
	 * pushed back by further events, so a storm cannot starve the refresh */
	if (d->settle_t.armed)
		return;
	if (admin_down_pending(d) && !ul_timer_arm(d->loop, &d->settle_t, now_ms(d) + SETTLE_MS))
		return;
	refresh_all(d);
}

static void on_rtnl(struct ul_watch *w, uint32_t events)
{
	ul_daemon_kernel_events(w->data);
}

/* ---- applying the plan ---- */

static void collect_rt(const struct ul_daemon *d, struct ul_link_rt *rt)
{
	for (size_t i = 0; i < d->cfg->n_links; i++) {
		rt[i] = d->links[i].rt;
		rt[i].state = d->links[i].fsm.state;
		rt[i].state6 = d->links[i].fsm6.state;
	}
}


static size_t owned_tables(const struct ul_daemon *d, uint32_t *t)
{
	size_t n = 0;

	for (size_t i = 0; i < d->cfg->n_links; i++)
		t[n++] = d->cfg->links[i].table;
	t[n++] = d->cfg->daemon.balance_table;
	for (size_t i = 0; i < d->n_old_tables; i++) {
		bool dup = false;

		for (size_t j = 0; j < n; j++)
			dup |= t[j] == d->old_tables[i];
		if (!dup)
			t[n++] = d->old_tables[i];
	}
	return n;
}

static void active_csv(const struct ul_daemon *d, char *buf, size_t len, bool v6)
{
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < d->cfg->n_links && off < len; i++)
		if ((v6 ? d->plan.active6 : d->plan.active) & (1u << i))
			off += (size_t)snprintf(buf + off, len - off, "%s%s", off ? "," : "",
						d->cfg->links[i].name);
}

/* Do two plans install the same routes and rules? */
static bool routing_eq(const struct ul_plan *a, const struct ul_plan *b)
{
	if (a->n_routes != b->n_routes || a->n_rules != b->n_rules)
		return false;
	for (size_t i = 0; i < a->n_routes; i++)
		if (!ul_route_eq(&a->routes[i], &b->routes[i]))
			return false;
	for (size_t i = 0; i < a->n_rules; i++)
		if (!ul_iprule_eq(&a->rules[i], &b->rules[i]))
			return false;
	return true;
}

/* On failure, what failed is in msg (logged by the caller, once). */
static int apply(struct ul_daemon *d, char *msg, size_t len)
{
	struct ul_link_rt rt[UL_MAX_LINKS];
	uint32_t tables[2 * UL_MAX_LINKS + 2], prio = d->cfg->daemon.rule_priority, carried;
	struct ul_plan plan;
	uint64_t wait_ms = 0;
	bool nft_due, routing_same, skip_routing = false;
	size_t n_tables;
	int err, n;

	collect_rt(d, rt);
	err = ul_plan_build(d->cfg, rt, &plan);
	if (err) {
		snprintf(msg, len, "planning failed: %s", strerror(-err));
		return err;
	}
	/* IPv6 forwarding once a link carries IPv6 (accept_ra 2 is set on the WAN interfaces
	 * first, by refresh_link6: forwarding would purge the routers they learned) */
	if (plan.v6 && !d->forwarding6 &&
	    !d->kp.sysctl_ensure(d->kp.ctx, "net/ipv6/conf/all/forwarding", 1, 0) &&
	    !d->kp.sysctl_ensure(d->kp.ctx, "net/ipv6/fib_multipath_hash_policy", 1, 0))
		d->forwarding6 = true;
	/* compared, not printed: a 100,000-prefix set costs a memcmp, not megabytes of text;
	 * sent again after a reload, and when someone else changed it (a repair) */
	nft_due = !d->nft_synced || !d->have_plan || !ul_ruleset_equal(&plan.nft, &d->plan.nft) ||
		  d->nft_force;
	if (!nft_due && d->nft_verify && d->kp.nft_check) {
		struct ul_nft_change ch = { 0 };

		if (d->kp.nft_check(d->kp.ctx, &plan.nft, &ch) > 0 && ch.rank > d->nft_change.rank) {
			ul_repair_seen(&d->guard_nft, now_ms(d));
			d->nft_change = ch;
		}
	}
	d->nft_verify = false;
	if (!nft_due && d->nft_change.rank) {
		nft_due = repair_allowed(d, &d->guard_nft, d->nft_change.what, &wait_ms);
		if (!nft_due)
			schedule_apply(d, wait_ms);
	}
	if (nft_due) {
		d->nft_synced = false;
		err = d->kp.nft_apply(d->kp.ctx, &plan.nft);
		if (err > 0) {
			/* the event socket was deaf while others committed too */
			ul_warn("nftables events lost during uplinkd's transaction, checking table "
				"inet uplinkd");
			d->nft_verify = true;
			schedule_apply(d, REPAIR_DELAY_MS);
			err = 0;
		}
		if (err) {
			snprintf(msg, len, "nftables: applying table inet uplinkd failed: %s",
				 why(d, err));
			goto fail;
		}
		ul_debug("nftables: table inet uplinkd replaced");
		d->nft_synced = true;
		d->nft_force = false;
		d->nft_change = (struct ul_nft_change){ 0 };
	}
	if (d->old_prio && d->old_prio != prio) {
		n = d->kp.remove_all(d->kp.ctx, NULL, 0, d->old_prio, d->old_prio + 99);
		if (n < 0) {
			err = n;
			snprintf(msg, len, "routing: removing the rules %u-%u failed: %s",
				 d->old_prio, d->old_prio + 99, why(d, err));
			goto fail;
		}
		d->old_prio = 0;
	}
	n_tables = owned_tables(d, tables);
	/* the routing uplinkd wants is what it last applied, and someone changed what is
	 * there: a repair (held back while others keep undoing it) */
	routing_same = d->have_plan && !d->n_old_tables && routing_eq(&plan, &d->plan);
	if (routing_same && d->routing_check && d->kp.routing_drift) {
		char what[320];

		n = d->kp.routing_drift(d->kp.ctx, &plan, tables, n_tables, prio, prio + 99, what,
					sizeof(what));
		if (n == 0) {
			skip_routing = true;    /* as wanted (changed and changed back) */
		} else if (n > 0 && !repair_allowed(d, &d->guard_routing, what, &wait_ms)) {
			skip_routing = true;
			schedule_apply(d, wait_ms);
		}
	} else if (routing_same && ul_repair_holding(&d->guard_routing, now_ms(d))) {
		skip_routing = true;            /* backing off: not even with this apply */
	} else if (routing_same && d->kp.routing_drift) {
		skip_routing = true;            /* unchanged, and changes by others are followed */
	}
	if (!ul_repair_holding(&d->guard_routing, now_ms(d)))
		d->routing_check = false;
	n = skip_routing ? 0 : d->kp.reconcile(d->kp.ctx, &plan, tables, n_tables, prio,
					       prio + 99);
	if (n < 0) {
		err = n;
		snprintf(msg, len, "routing: reconcile failed: %s", why(d, err));
		goto fail;
	}
	d->n_old_tables = 0;
	if (n)
		ul_info("routing: %d change%s applied", n, n == 1 ? "" : "s");

	/* connections of links that stopped carrying: forget them so clients reconnect
	 * at once by a live link instead of hanging on a dead one */
	carried = ul_plan_carrying(&plan);
	for (size_t i = 0; i < d->cfg->n_links; i++) {
		uint32_t bit = 1u << i;

		if ((d->carried & bit) && !(carried & bit)) {
			err = d->kp.ct_flush_mark(d->kp.ctx, AF_INET, ul_link_mark(d->cfg, i),
					       d->cfg->daemon.mark_mask);
			if (err)
				ul_warn("link %s: flushing its connections failed: %s",
					d->cfg->links[i].name, why(d, err));
			else
				ul_info("link %s: connections flushed", d->cfg->links[i].name);
			/* and those that predate uplinkd (unmarked, NATed to its address) */
			if (rt[i].has_addr) {
				err = d->kp.ct_flush_unmarked(d->kp.ctx, &rt[i].addr,
							      d->cfg->daemon.mark_mask);
				if (err == -EOPNOTSUPP && !d->ct_unmarked_told) {
					d->ct_unmarked_told = true;
					ul_warn("conntrack: this kernel cannot flush by address (needs "
						"6.8); connections older than uplinkd stay");
				} else if (err && err != -EOPNOTSUPP) {
					ul_warn("link %s: flushing its unmarked connections failed: %s",
						d->cfg->links[i].name, why(d, err));
				}
			}
		}
	}
	d->carried = carried;
	for (size_t i = 0; i < d->cfg->n_links; i++) {
		uint32_t bit = 1u << i;

		if ((d->carried6 & bit) && !(plan.carrying6 & bit)) {
			err = d->kp.ct_flush_mark(d->kp.ctx, AF_INET6, ul_link_mark(d->cfg, i),
						  d->cfg->daemon.mark_mask);
			if (err)
				ul_warn("link %s: flushing its IPv6 connections failed: %s",
					d->cfg->links[i].name, strerror(-err));
			else
				ul_info("link %s: IPv6 connections flushed", d->cfg->links[i].name);
			/* and those that predate uplinkd (unmarked, NATed to its address) */
			if (rt[i].has_addr6)
				d->kp.ct_flush_unmarked(d->kp.ctx, &rt[i].addr6,
							d->cfg->daemon.mark_mask);
		}
	}
	d->carried6 = plan.carrying6;
	if (d->have_plan)
		ul_plan_free(&d->plan);
	d->plan = plan;
	d->have_plan = true;
	return 0;
fail:
	ul_plan_free(&plan);
	return err;
}

static void run_pending_hooks(struct ul_daemon *d)
{
	char csv[UL_MAX_LINKS * (UL_NAME_MAX + 1) + 1], csv6[sizeof(csv)];

	active_csv(d, csv, sizeof(csv), false);
	active_csv(d, csv6, sizeof(csv6), true);
	for (size_t i = 0; i < d->n_hooks_pending; i++) {
		const struct ul_pending_hook *h = &d->hooks_pending[i];

		if (h->idx >= d->cfg->n_links)
			continue;
		if (!h->v6)
			d->kp.hook_event(d->kp.ctx, d->cfg->links[h->idx].name,
					 d->cfg->links[h->idx].ifname, ul_state_name(h->to),
					 ul_state_name(h->from), csv);
		else if (d->kp.hook_event6)
			d->kp.hook_event6(d->kp.ctx, d->cfg->links[h->idx].name,
					  d->cfg->links[h->idx].ifname, ul_state_name(h->to),
					  ul_state_name(h->from), csv6);
	}
	d->n_hooks_pending = 0;
}

static void on_apply(struct ul_timer *t)
{
	struct ul_daemon *d = t->data;
	char msg[1200];
	int err = apply(d, msg, sizeof(msg));

	if (err) {
		ul_err("%s; retrying in %d ms", msg, RETRY_MS);
		schedule_apply(d, RETRY_MS);
		return;
	}
	run_pending_hooks(d);
	if (!d->ready) {
		d->ready = true;
		ul_notify("READY=1\nSTATUS=running");
		ul_notice("uplinkd %s ready: %zu link%s", UL_VERSION, d->cfg->n_links,
			  d->cfg->n_links == 1 ? "" : "s");
	}
}

/* ---- links and configuration ---- */

static bool is_disabled(const struct ul_daemon *d, const char *name)
{
	for (size_t i = 0; i < d->n_disabled; i++)
		if (!strcmp(d->disabled[i], name))
			return true;
	return false;
}

static int link_start(struct ul_daemon *d, struct ul_daemon_link *l)
{
	const struct ul_link_conf *lc = &d->cfg->links[l->idx];

	struct ul_check chk;

	l->d = d;
	check_family(&lc->check, AF_INET, &chk);
	if (chk.n_targets && !l->prober) {
		l->prober = d->kp.prober_new(d->kp.ctx, d->loop, &chk, lc->ifname,
					  ul_link_mark(d->cfg, l->idx), on_round, l);
		if (!l->prober)
			return -ENOMEM;
	}
	check_family(&lc->check, AF_INET6, &chk);
	if (chk.n_targets && lc->gw6_mode != UL_GW_NONE && !l->prober6) {
		l->prober6 = d->kp.prober_new(d->kp.ctx, d->loop, &chk, lc->ifname,
					   ul_link_mark(d->cfg, l->idx), on_round6, l);
		if (!l->prober6)
			return -ENOMEM;
	}
	return 0;
}

static void link_stop(struct ul_daemon *d, struct ul_daemon_link *l)
{
	if (l->prober)
		d->kp.prober_free(d->kp.ctx, l->prober);
	l->prober = NULL;
	if (l->prober6)
		d->kp.prober_free(d->kp.ctx, l->prober6);
	l->prober6 = NULL;
}

static bool same_check(const struct ul_check *a, const struct ul_check *b)
{
	return !memcmp(a, b, sizeof(*a));
}

/* Connections are marked, and routed, by a link's mark and table. A link that carried
 * traffic and is in the new config by name, on the same interface, with the same mark and
 * table, goes on carrying (its bit follows it to its new place); any other that carried
 * (gone, or its mark or table changed) has its connections forgotten, else they would
 * leave by the wrong link. */
static void forget_moved_links(struct ul_daemon *d, const struct ul_config *oc,
			       const struct ul_config *nc)
{
	uint32_t carried = 0;
	int err;

	for (size_t o = 0; oc && o < oc->n_links; o++) {
		const struct ul_link_conf *ol = &oc->links[o];
		int i = ul_config_link_index(nc, ol->name);

		if (!(d->carried & (1u << o)))
			continue;
		if (i >= 0 && !strcmp(ol->ifname, nc->links[i].ifname) &&
		    ol->table == nc->links[i].table &&
		    ul_link_mark(oc, o) == ul_link_mark(nc, (size_t)i) &&
		    oc->daemon.mark_mask == nc->daemon.mark_mask) {
			carried |= 1u << i;
			continue;
		}
		err = d->kp.ct_flush_mark(d->kp.ctx, AF_INET, ul_link_mark(oc, o),
					  oc->daemon.mark_mask);
		if (err)
			ul_warn("link %s: flushing its connections failed: %s", ol->name,
				why(d, err));
		else
			ul_info("link %s: connections flushed (its mark or table changed, or it "
				"is gone)", ol->name);
	}
	d->carried = carried;
}

/* Swap in a validated config: links kept by name keep their state and probe history. */
static void http_configure(struct ul_daemon *d, const struct ul_config *oc);

static int adopt_config(struct ul_daemon *d, struct ul_config *nc)
{
	struct ul_daemon_link nl[UL_MAX_LINKS];
	struct ul_config *oc = d->cfg;
	uint64_t now = now_ms(d);
	gid_t gid = (gid_t)-1, admin_gid = (gid_t)-1;
	int err;

	memset(nl, 0, sizeof(nl));
	for (size_t i = 0; i < nc->n_links; i++) {
		int o = oc ? ul_config_link_index(oc, nc->links[i].name) : -1;

		nl[i].idx = i;
		nl[i].d = d;
		if (o >= 0 && !strcmp(oc->links[o].ifname, nc->links[i].ifname)) {
			nl[i].fsm = d->links[o].fsm;
			nl[i].fsm6 = d->links[o].fsm6;
			nl[i].rt = d->links[o].rt;
			nl[i].sysctl_done = d->links[o].sysctl_done;
			nl[i].sysctl6_done = d->links[o].sysctl6_done;
			if (same_check(&oc->links[o].check, &nc->links[i].check) && (size_t)o == i &&
			    oc->links[o].id == nc->links[i].id &&       /* same mark */
			    (oc->links[o].gw6_mode == UL_GW_NONE) ==
			    (nc->links[i].gw6_mode == UL_GW_NONE)) {
				nl[i].prober = d->links[o].prober;
				nl[i].prober6 = d->links[o].prober6;
			} else {
				link_stop(d, &d->links[o]);
			}
			d->links[o].prober = NULL;
			d->links[o].prober6 = NULL;
		} else {
			ul_fsm_init(&nl[i].fsm, now);
			ul_fsm_init(&nl[i].fsm6, now);
		}
	}
	if (oc) {
		for (size_t o = 0; o < oc->n_links; o++)
			link_stop(d, &d->links[o]);
		d->n_old_tables = 0;
		for (size_t o = 0; o < oc->n_links; o++)
			d->old_tables[d->n_old_tables++] = oc->links[o].table;
		d->old_tables[d->n_old_tables++] = oc->daemon.balance_table;
		if (oc->daemon.rule_priority != nc->daemon.rule_priority)
			d->old_prio = oc->daemon.rule_priority;
	}
	/* disabled names of links that no longer exist are forgotten */
	for (size_t i = 0; i < d->n_disabled;)
		if (ul_config_link_index(nc, d->disabled[i]) < 0)
			memmove(d->disabled[i], d->disabled[--d->n_disabled], UL_NAME_MAX);
		else
			i++;
	forget_moved_links(d, oc, nc);
	memcpy(d->links, nl, sizeof(nl));
	d->cfg = nc;
	if (d->loop)
		http_configure(d, oc);
	d->carried6 &= (nc->n_links >= 32) ? ~0u : (1u << nc->n_links) - 1;
	ul_config_free(oc);

	if (d->level_override < 0)
		ul_log_set_level(nc->daemon.log_level);
	d->kp.hooks_configure(d->kp.ctx, nc->daemon.hook, nc->daemon.hook_timeout_s,
			      nc->daemon.hook_user);
	if (nc->daemon.control_group[0]) {
		struct group *g = getgrnam(nc->daemon.control_group);

		if (g)
			gid = g->gr_gid;
	}
	if (nc->daemon.admin_group[0]) {
		struct group *g = getgrnam(nc->daemon.admin_group);

		if (g)
			admin_gid = g->gr_gid;
	}
	if (d->ctl && !d->sock_override &&
	    strcmp(ul_control_path(d->ctl), nc->daemon.control_socket))
		ul_warn("daemon.control_socket changed: the socket stays at %s until a restart",
			ul_control_path(d->ctl));
	if (d->ctl) {
		/* the socket bound at start keeps its path until a restart; its group and who
		 * may do what follow the configuration */
		ul_control_set_access(d->ctl, gid, admin_gid);
		err = ul_control_set_group(d->ctl, gid);
		if (err)
			ul_warn("control socket %s: cannot give it to group %s: %s",
				ul_control_path(d->ctl), nc->daemon.control_group, strerror(-err));
	}
	for (size_t i = 0; i < nc->n_links; i++) {
		struct ul_daemon_link *l = &d->links[i];
		struct ul_fsm_params p = fsm_params(&nc->links[i]);
		struct ul_transition t;

		err = link_start(d, l);
		if (err)
			return err;
		if (is_disabled(d, nc->links[i].name) && ul_fsm_admin(&l->fsm, &p, true, now, &t))
			transition(d, l, &t);
		p = fsm_params_family(&nc->links[i], AF_INET6);
		if (is_disabled(d, nc->links[i].name) && ul_fsm_admin(&l->fsm6, &p, true, now, &t) &&
		    link_v6(d, i))
			transition6(d, l, &t);
	}
	refresh_all(d);         /* binds new probers; kept ones go on with their round */
	schedule_apply(d, 0);
	return 0;
}

static void log_diag(const struct ul_diag *diag, int prio)
{
	for (size_t i = 0; i < diag->n; i++)
		ul_log(prio, "%s", diag->msgs[i]);
}

/* The global sysctls multi-homing needs (the per-interface ones follow the interfaces). */
static void ensure_sysctls(struct ul_daemon *d)
{
	int err;

	if ((err = d->kp.sysctl_ensure(d->kp.ctx, "net/ipv4/ip_forward", 1, 0)))
		ul_err("%s", why(d, err));
	d->fwd_set = !err;
	if ((err = d->kp.sysctl_ensure(d->kp.ctx, "net/ipv4/fib_multipath_hash_policy", 1, 0)))
		ul_err("%s", why(d, err));
	d->hash_set = !err;
}

/* Reload: the new config replaces the running one only when it is valid. */
int ul_daemon_reload(struct ul_daemon *d, struct ul_buf *why)
{
	struct ul_diag diag = { 0 };
	struct ul_config *nc;
	int err;

	ul_notify("RELOADING=1");
	ul_notice("reloading %s", d->cfg_path);
	err = ul_config_load(d->cfg_path, &nc, &diag);
	if (!err && (err = ul_config_check_host(nc, &diag)))
		ul_config_free(nc);
	if (err) {
		d->reload_failures++;
		log_diag(&diag, LOG_ERR);
		ul_err("reload refused: %s has %zu error%s, the running configuration stays",
		       d->cfg_path, diag.n, diag.n == 1 ? "" : "s");
		if (why) {
			ul_buf_printf(why, "reload refused, the running configuration stays");
			for (size_t i = 0; i < diag.n; i++)
				ul_buf_printf(why, "\n%s", diag.msgs[i]);
		}
		ul_diag_free(&diag);
		ul_notify("READY=1");
		return err;
	}
	ul_diag_free(&diag);
	if (nc->daemon.hook_user[0] && !d->kp.priv_can_setid(d->kp.ctx)) {
		d->reload_failures++;
		ul_err("reload refused: daemon.hook_user needs CAP_SETUID and CAP_SETGID, dropped "
		       "at start: restart uplinkd, the running configuration stays");
		if (why)
			ul_buf_printf(why, "reload refused: daemon.hook_user needs a restart");
		ul_config_free(nc);
		ul_notify("READY=1");
		return -EPERM;
	}
	/* marks and tables follow the names: remembered ids, saved before use */
	err = assign_identity(d, nc, true);
	if (err) {
		d->reload_failures++;
		ul_err("reload refused: link identities: %s", strerror(-err));
		if (why)
			ul_buf_printf(why, "reload refused: link identities: %s", strerror(-err));
		ul_config_free(nc);
		ul_notify("READY=1");
		return err;
	}
	d->reloads++;
	/* a reload applies everything again, whatever is there: the ruleset even when its
	 * text is the same, the sysctls (routes and rules are always compared) */
	d->nft_force = true;
	for (size_t i = 0; i < d->cfg->n_links; i++)
		d->links[i].sysctl_done = false;
	ensure_sysctls(d);
	err = adopt_config(d, nc);
	/* applied now, not on the next turn of the loop: `uplinkctl reload` (and systemd's
	 * READY=1 after RELOADING=1) come back with the new configuration in the kernel, or
	 * with its apply failed, logged and retried */
	if (!err) {
		ul_timer_cancel(d->loop, &d->apply_t);
		on_apply(&d->apply_t);
	}
	ul_notify("READY=1");
	if (err && why)
		ul_buf_printf(why, "reload failed: %s", strerror(-err));
	return err;
}

/* ---- control socket ---- */

struct traffic_ctx {
	const struct ul_config *c;
	struct ul_status *s;
};

/* One named counter into the links' traffic (see ul_plan_counter_link). */
static void on_counter(void *data, const char *name, uint64_t packets, uint64_t bytes)
{
	struct traffic_ctx *tc = data;
	int kind, i = ul_plan_counter_link(tc->c, name, &kind);
	struct ul_link_traffic *t;

	if (i < 0 || (size_t)i >= tc->s->n_links)
		return;
	t = &tc->s->links[i].traffic;
	if (kind == UL_COUNTER_TX) {
		t->tx_bytes = bytes;
		t->tx_packets = packets;
	} else if (kind == UL_COUNTER_RX) {
		t->rx_bytes = bytes;
		t->rx_packets = packets;
	} else {
		t->connections = packets;
	}
}

/* GET /metrics: the same text as `uplinkctl metrics`. */
static int http_metrics(void *data, struct ul_buf *body)
{
	struct ul_daemon *d = data;
	struct ul_status s;

	ul_daemon_snapshot(d, &s);
	ul_status_metrics(&s, body);
	return body->oom ? -ENOMEM : 0;
}

/* The metrics listener as the config says: opened, moved or closed on reload. A listener
 * that cannot be opened is logged and the daemon goes on without it. */
static void http_configure(struct ul_daemon *d, const struct ul_config *oc)
{
	const struct ul_daemon_conf *n = &d->cfg->daemon;

	if (d->http && oc && oc->daemon.metrics_on == n->metrics_on &&
	    ul_addr_eq(&oc->daemon.metrics_addr, &n->metrics_addr) &&
	    oc->daemon.metrics_port == n->metrics_port)
		return;
	ul_http_close(d->http);
	d->http = NULL;
	if (n->metrics_on && !ul_http_open(d->loop, &n->metrics_addr, n->metrics_port,
					   http_metrics, d, &d->http)) {
		char a[UL_ADDR_STRLEN];

		ul_info("metrics: serving GET /metrics on %s%s%s:%u",
			n->metrics_addr.family == AF_INET6 ? "[" : "",
			ul_addr_format(&n->metrics_addr, a, sizeof(a)),
			n->metrics_addr.family == AF_INET6 ? "]" : "", n->metrics_port);
	}
}

/* One family's health in the status: its state machine and prober (NULL: none). */
static void family_status(const struct ul_daemon *d, const struct ul_fsm *fsm,
			  const struct ul_prober *prober, bool active, uint64_t now,
			  struct ul_status_family *f)
{
	f->state = fsm->state;
	f->active = active;
	f->rtt_ms = ul_fsm_rtt_ms(fsm);
	f->loss_pct = ul_fsm_loss_pct(fsm);
	f->since_s = (double)(now - fsm->since_ms) / 1000.0;
	f->transitions = fsm->transitions;
	if (prober)
		f->probes = *d->kp.prober_stats(d->kp.ctx, prober);
}

/* The health a link shows in the 1.0 keys: one of its families'. */
static void link_health(struct ul_status_link *sl, const struct ul_status_family *f)
{
	sl->state = f->state;
	sl->active = f->active;
	sl->rtt_ms = f->rtt_ms;
	sl->loss_pct = f->loss_pct;
	sl->since_s = f->since_s;
	sl->transitions = f->transitions;
	sl->probes = f->probes;
}

void ul_daemon_snapshot(const struct ul_daemon *d, struct ul_status *s)
{
	uint64_t now = now_ms(d);

	memset(s, 0, sizeof(*s));
	s->version = UL_VERSION;
	s->uptime_s = (double)(now - d->start_ms) / 1000.0;
	s->reloads = d->reloads;
	s->reload_failures = d->reload_failures;
	s->n_links = d->cfg->n_links;
	for (size_t i = 0; i < d->cfg->n_links; i++) {
		const struct ul_link_conf *lc = &d->cfg->links[i];
		const struct ul_daemon_link *l = &d->links[i];
		struct ul_status_link *sl = &s->links[i];
		struct ul_status_family f4 = { 0 };

		snprintf(sl->name, sizeof(sl->name), "%s", lc->name);
		snprintf(sl->ifname, sizeof(sl->ifname), "%s", lc->ifname);
		family_status(d, &l->fsm, l->prober, d->have_plan && (d->plan.active & (1u << i)),
			      now, &f4);
		link_health(sl, &f4);
		sl->carrier = l->rt.carrier;
		sl->tier = lc->tier;
		sl->weight = lc->weight;
		sl->has_v6 = link_v6(d, i);
		if (sl->has_v6) {
			struct ul_status_family *f = &sl->v6;

			family_status(d, &l->fsm6, l->prober6,
				      d->have_plan && (d->plan.active6 & (1u << i)), now, f);
			f->has_gw = l->rt.has_gw6;
			f->gw = l->rt.gw6;
			/* a link without IPv4 (no address) shows its only family in the 1.0 keys */
			if (l->rt.present && !l->rt.has_addr && l->rt.has_addr6)
				link_health(sl, f);
		}
	}
	if (d->kp.nft_counters && d->nft_open) {
		struct traffic_ctx tc = { .c = d->cfg, .s = s };

		d->kp.nft_counters(d->kp.ctx, on_counter, &tc);
	}
}

int ul_daemon_set_disabled(struct ul_daemon *d, const char *name, bool disable, struct ul_buf *b)
{
	int idx = ul_config_link_index(d->cfg, name);
	struct ul_daemon_link *l;
	struct ul_fsm_params p;
	struct ul_transition t;

	if (idx < 0) {
		ul_buf_printf(b, "no link named \"%s\"", name);
		return -ENOENT;
	}
	l = &d->links[idx];
	p = fsm_params(&d->cfg->links[idx]);
	if (disable && !is_disabled(d, name))
		snprintf(d->disabled[d->n_disabled++], UL_NAME_MAX, "%.*s", UL_NAME_MAX - 1, name);
	if (!disable)
		for (size_t i = 0; i < d->n_disabled; i++)
			if (!strcmp(d->disabled[i], name)) {
				memmove(d->disabled[i], d->disabled[--d->n_disabled], UL_NAME_MAX);
				break;
			}
	if (ul_fsm_admin(&l->fsm, &p, disable, now_ms(d), &t))
		transition(d, l, &t);
	p = fsm_params_family(&d->cfg->links[idx], AF_INET6);
	if (ul_fsm_admin(&l->fsm6, &p, disable, now_ms(d), &t) && link_v6(d, (size_t)idx))
		transition6(d, l, &t);
	ul_buf_printf(b, "link %s %s\n", name, disable ? "disabled" : "enabled");
	return 0;
}

/* ---- signals, watchdog ---- */

int ul_daemon_signal(struct ul_daemon *d, int signo)
{
	switch (signo) {
	case SIGHUP:
		ul_daemon_reload(d, NULL);
		break;
	case SIGTERM:
	case SIGINT:
		ul_notice("signal %s: stopping", signo == SIGTERM ? "TERM" : "INT");
		d->stopping = true;
		ul_loop_stop(d->loop);
		return 1;
	case SIGCHLD:
		d->kp.hooks_reap(d->kp.ctx);
		break;
	}
	return 0;
}

static void on_signal(struct ul_watch *w, uint32_t events)
{
	struct ul_daemon *d = w->data;
	struct signalfd_siginfo si;

	while (read(w->fd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		if (ul_daemon_signal(d, (int)si.ssi_signo))
			return;
}

static void on_watchdog(struct ul_timer *t)
{
	struct ul_daemon *d = t->data;

	ul_notify("WATCHDOG=1");
	ul_timer_arm(d->loop, t, now_ms(d) + d->watchdog_ms / 2);
}

/* ---- start, stop ---- */

static void teardown(struct ul_daemon *d)
{
	uint32_t tables[2 * UL_MAX_LINKS + 2];
	int err;

	ul_notify("STOPPING=1");
	for (size_t i = 0; d->cfg && i < d->cfg->n_links; i++)
		link_stop(d, &d->links[i]);
	if (d->nft_open) {
		err = d->kp.nft_remove(d->kp.ctx);
		if (err)
			ul_err("nftables: removing table inet uplinkd failed: %s", why(d, err));
	}
	if (d->rtnl_open && d->cfg) {
		err = d->kp.remove_all(d->kp.ctx, tables, owned_tables(d, tables),
				       d->cfg->daemon.rule_priority,
				       d->cfg->daemon.rule_priority + 99);
		if (err < 0)
			ul_err("routing: cleanup failed: %s", why(d, err));
	}
	if (d->sysctl_open)
		d->kp.sysctl_restore(d->kp.ctx);
	ul_notice("stopped; routes, rules and table inet uplinkd removed");
}

static int setup_signals(struct ul_daemon *d)
{
	sigset_t set;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &set, NULL))
		return -errno;
	d->sig_w.fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (d->sig_w.fd < 0)
		return -errno;
	d->sig_w.cb = on_signal;
	d->sig_w.data = d;
	return ul_loop_add(d->loop, &d->sig_w, EPOLLIN);
}

static void on_lock(struct ul_watch *w, uint32_t events)
{
	ul_instance_drain(w->fd);
}

int ul_daemon_start(struct ul_daemon *d)
{
	const char *sock;
	gid_t gid = (gid_t)-1;
	int err;

	d->start_ms = now_ms(d);
	d->apply_t.cb = on_apply;
	d->apply_t.data = d;
	d->settle_t.cb = on_settle;
	d->settle_t.data = d;
	d->resync_t.cb = on_resync;
	d->resync_t.data = d;
	d->sysctl_t.cb = on_sysctl_timer;
	d->sysctl_t.data = d;
	err = ul_loop_new(&d->loop);
	if (err)
		goto out;
	ul_loop_set_clock(d->loop, d->kp.now_ms, d->kp.ctx);   /* timers on the port's clock */
	/* other instances connect to the instance lock to learn our pid: let them go */
	if (d->locked) {
		d->lock_w.cb = on_lock;
		d->lock_w.data = d;
		if (ul_loop_add(d->loop, &d->lock_w, EPOLLIN))
			ul_warn("instance lock: not watched");
	}
	err = setup_signals(d);
	if (err)
		goto out;
	err = d->kp.hooks_open(d->kp.ctx, d->loop);
	if (err)
		goto out;
	sock = d->sock_override ? d->sock_override : d->cfg->daemon.control_socket;
	/* the sysctl state: one fixed directory per network namespace (the port's) */
	err = d->kp.sysctl_open(d->kp.ctx);
	if (err) {
		ul_err("sysctl state: %s", why(d, err));
		goto out;
	}
	d->sysctl_open = true;
	/* link identities before anything uses a mark or a table */
	runtime_file(d, d->cfg, UL_IDENT_STORE_NAME, d->ident_path, sizeof(d->ident_path));
	err = d->kp.ident_load(d->kp.ctx, d->ident_path, &d->ident);
	if (err)
		ul_warn("identity store %s: %s (starting from the config's order)", d->ident_path,
			strerror(-err));
	err = assign_identity(d, d->cfg, true);
	if (err) {
		ul_err("link identities: %s", strerror(-err));
		goto out;
	}
	err = d->kp.rtnl_open(d->kp.ctx);
	if (err) {
		ul_err("rtnetlink: %s", why(d, err));
		goto out;
	}
	d->rtnl_open = true;
	err = d->kp.nft_open(d->kp.ctx);
	if (err) {
		ul_err("nftables: %s", why(d, err));
		goto out;
	}
	d->nft_open = true;
	d->rtnl_w.fd = d->kp.rtnl_event_fd(d->kp.ctx);
	d->rtnl_w.cb = on_rtnl;
	d->rtnl_w.data = d;
	err = ul_loop_add(d->loop, &d->rtnl_w, EPOLLIN);
	if (err)
		goto out;
	err = resync(d);
	if (err)
		goto out;

	ensure_sysctls(d);
	/* changes others make to table inet uplinkd (optional: a port may have no events) */
	if (d->kp.nft_watch_open) {
		err = d->kp.nft_watch_open(d->kp.ctx);
		if (!err) {
			d->nft_w.fd = d->kp.nft_watch_fd(d->kp.ctx);
			d->nft_w.cb = on_nft_events;
			d->nft_w.data = d;
			err = ul_loop_add(d->loop, &d->nft_w, EPOLLIN);
		}
		if (err) {
			ul_err("nftables events: %s", strerror(-err));
			goto out;
		}
	}
	if (d->kp.sysctl_check)
		ul_timer_arm(d->loop, &d->sysctl_t, now_ms(d) + SYSCTL_CHECK_MS);

	if (d->cfg->daemon.control_group[0]) {
		struct group *g = getgrnam(d->cfg->daemon.control_group);

		if (g)
			gid = g->gr_gid;
	}
	err = ul_control_open(d->loop, sock, gid, ul_verbs_handle, d, &d->ctl);
	if (err) {
		ul_err("control socket %s: %s", sock, strerror(-err));
		goto out;
	}
	/* set-up done (the socket has its group): CAP_NET_ADMIN and CAP_NET_RAW from here */
	err = d->kp.priv_drop(d->kp.ctx, d->cfg->daemon.hook_user[0] != '\0');
	if (err)
		goto out;
	{
		struct ul_config *c = d->cfg;

		d->cfg = NULL;
		err = adopt_config(d, c);
		if (err)
			goto out;
	}
	d->watchdog_ms = ul_notify_watchdog_ms();
	if (d->watchdog_ms) {
		d->watchdog_t.cb = on_watchdog;
		d->watchdog_t.data = d;
		ul_timer_arm(d->loop, &d->watchdog_t, now_ms(d) + d->watchdog_ms / 2);
	}
out:
	return err;
}

void ul_daemon_stop(struct ul_daemon *d)
{
	teardown(d);
	ul_http_close(d->http);
	d->http = NULL;
	ul_control_close(d->ctl);
	d->kp.close(d->kp.ctx);
	if (d->sig_w.fd > 0)
		close(d->sig_w.fd);
	if (d->have_plan)
		ul_plan_free(&d->plan);
	free(d->nft_text);
	ul_view_free(&d->view);
	ul_config_free(d->cfg);
	ul_loop_free(d->loop);
}

int ul_daemon_run(struct ul_daemon *d)
{
	int err = ul_daemon_start(d);

	if (!err) {
		err = ul_loop_run(d->loop);
		if (err)
			ul_err("event loop: %s", strerror(-err));
	}
	ul_daemon_stop(d);
	return err ? 1 : 0;
}

/* uplinkd -n: what it would install, from the kernel as it is now (read only); every
 * link whose interface exists is taken to be up. */
int ul_daemon_dry_run(struct ul_daemon *d)
{
	const struct ul_config *c = d->cfg;
	struct ul_link_rt rt[UL_MAX_LINKS];
	struct ul_plan plan;
	int err;

	/* the marks and tables a running instance remembers (read only) */
	runtime_file(d, c, UL_IDENT_STORE_NAME, d->ident_path, sizeof(d->ident_path));
	if (d->kp.ident_load(d->kp.ctx, d->ident_path, &d->ident) == 0 && d->ident.n)
		assign_identity(d, d->cfg, false);
	err = d->kp.rtnl_open(d->kp.ctx);
	if (!err)
		err = resync(d);
	if (err) {
		fprintf(stderr, "uplinkd: reading the kernel's interfaces: %s\n", why(d, err));
		goto out;
	}
	for (size_t i = 0; i < c->n_links; i++) {
		const struct ul_link_conf *lc = &c->links[i];

		rt[i] = (struct ul_link_rt){ .state = UL_ST_UP, .state6 = UL_ST_UP };
		ul_view_link_rt(&d->view, lc, &rt[i]);
		ul_view_link_rt6(&d->view, lc, &rt[i]);
		if (rt[i].present && lc->gw6_mode != UL_GW_NONE &&
		    (lc->gw6_explicit || rt[i].has_addr6)) {
			if (!rt[i].has_addr6)
				printf("# link %s: %s has no global IPv6 address\n", lc->name,
				       lc->ifname);
			if (!rt[i].has_gw6)
				printf("# link %s: no IPv6 router advertised on %s yet\n",
				       lc->name, lc->ifname);
		}
		if (!rt[i].present) {
			printf("# link %s: interface %s not found\n", lc->name, lc->ifname);
			continue;
		}
		if (!rt[i].has_addr)
			printf("# link %s: %s has no IPv4 address\n", lc->name, lc->ifname);
		if (lc->gw_mode == UL_GW_AUTO && !rt[i].has_gw)
			printf("# link %s: no gateway learned on %s yet\n", lc->name, lc->ifname);
	}
	err = ul_plan_build(c, rt, &plan);
	if (!err) {
		ul_plan_print(stdout, c, &plan);
		ul_plan_free(&plan);
	}
out:
	ul_view_free(&d->view);
	d->kp.close(d->kp.ctx);
	return err ? 1 : 0;
}
