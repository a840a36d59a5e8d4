// SPDX-License-Identifier: GPL-2.0-or-later
/* uplinkd: the daemon. One epoll loop: signalfd, rtnetlink events, probe sockets, the
 * control socket, timers. Everything it installs comes from ul_plan_build(config, link
 * states) and is applied by difference; SIGTERM takes it all away again. */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "control.h"
#include "ct.h"
#include "hook.h"
#include "linkstate.h"
#include "log.h"
#include "loop.h"
#include "nft.h"
#include "notify.h"
#include "plan.h"
#include "probe.h"
#include "reconcile.h"
#include "rtnl.h"
#include "status.h"
#include "sysctl.h"

#ifndef IFF_LOWER_UP
#define IFF_LOWER_UP 0x10000                    /* linux/if.h; clashes with net/if.h */
#endif

#define MAX_IFS 256
#define MAX_ADDRS 8
#define MAX_GWS 64
#define RETRY_MS 1000
#define RESYNC_RETRY_MS 200
#define SETTLE_MS 20                    /* an interface being deleted is first set down */
#define SYSCTL_STATE_NAME "sysctl.saved"      /* beside the control socket */

/* ---- the kernel as seen through rtnetlink ---- */

struct kif {
	int ifindex;
	char name[IFNAMSIZ];
	unsigned flags;
	struct ul_addr addrs[MAX_ADDRS];        /* IPv4, in the order the kernel reported */
	size_t n_addrs;
};

struct kgw {                                    /* main-table default routes */
	int ifindex;
	struct ul_addr gw;
	uint32_t metric;
};

struct kview {
	struct kif ifs[MAX_IFS];
	size_t n_ifs;
	struct kgw gws[MAX_GWS];
	size_t n_gws;
	bool gw_dirty;                  /* a main default route was added: resync the gateways */
};

static struct kif *kv_if(struct kview *v, int ifindex, bool create)
{
	for (size_t i = 0; i < v->n_ifs; i++)
		if (v->ifs[i].ifindex == ifindex)
			return &v->ifs[i];
	if (!create || v->n_ifs == MAX_IFS)
		return NULL;
	memset(&v->ifs[v->n_ifs], 0, sizeof(v->ifs[0]));
	v->ifs[v->n_ifs].ifindex = ifindex;
	return &v->ifs[v->n_ifs++];
}

static const struct kif *kv_if_by_name(const struct kview *v, const char *name)
{
	for (size_t i = 0; i < v->n_ifs; i++)
		if (!strcmp(v->ifs[i].name, name))
			return &v->ifs[i];
	return NULL;
}

static void kv_apply(struct kview *v, const struct ul_kev *ev)
{
	struct kif *k;

	switch (ev->type) {
	case UL_KEV_LINK:
		k = kv_if(v, ev->ifindex, true);
		if (!k)
			return;
		if (ev->ifname[0])
			snprintf(k->name, sizeof(k->name), "%s", ev->ifname);
		k->flags = ev->flags;
		break;
	case UL_KEV_LINK_DEL:
		for (size_t i = 0; i < v->n_ifs; i++)
			if (v->ifs[i].ifindex == ev->ifindex) {
				v->ifs[i] = v->ifs[--v->n_ifs];
				break;
			}
		for (size_t i = 0; i < v->n_gws;)
			if (v->gws[i].ifindex == ev->ifindex)
				v->gws[i] = v->gws[--v->n_gws];
			else
				i++;
		break;
	case UL_KEV_ADDR:
	case UL_KEV_ADDR_DEL:
		if (ev->addr.family != AF_INET)
			return;
		k = kv_if(v, ev->ifindex, ev->type == UL_KEV_ADDR);
		if (!k)
			return;
		for (size_t i = 0; i < k->n_addrs; i++)
			if (!memcmp(k->addrs[i].bytes, ev->addr.bytes, 4)) {
				memmove(&k->addrs[i], &k->addrs[i + 1],
					(k->n_addrs - i - 1) * sizeof(k->addrs[0]));
				k->n_addrs--;
				break;
			}
		if (ev->type == UL_KEV_ADDR && k->n_addrs < MAX_ADDRS)
			k->addrs[k->n_addrs++] = ev->addr;
		break;
	case UL_KEV_ROUTE:
	case UL_KEV_ROUTE_DEL:
		if (ev->addr.family != AF_INET || ev->addr.plen != 0)
			return;
		/* "ip route replace" (NLM_F_REPLACE) announces the new route only, not the end
		 * of the one it replaced, which may even be on another interface: after any new
		 * default route the list is read again from the kernel (on_rtnl) */
		if (ev->type == UL_KEV_ROUTE)
			v->gw_dirty = true;
		if (!ev->has_gw)
			return;
		for (size_t i = 0; i < v->n_gws; i++)
			if (v->gws[i].ifindex == ev->ifindex && v->gws[i].metric == ev->metric &&
			    ul_addr_eq(&v->gws[i].gw, &ev->gw)) {
				v->gws[i] = v->gws[--v->n_gws];
				break;
			}
		if (ev->type == UL_KEV_ROUTE && v->n_gws < MAX_GWS)
			v->gws[v->n_gws++] = (struct kgw){ ev->ifindex, ev->gw, ev->metric };
		break;
	}
}

/* Gateway the DHCP client put on this interface: lowest metric default route. */
static const struct ul_addr *kv_gateway(const struct kview *v, int ifindex)
{
	const struct kgw *best = NULL;

	for (size_t i = 0; i < v->n_gws; i++)
		if (v->gws[i].ifindex == ifindex && (!best || v->gws[i].metric < best->metric))
			best = &v->gws[i];
	return best ? &best->gw : NULL;
}

/* ---- the daemon ---- */

struct link {
	struct ul_daemon *d;
	size_t idx;
	struct ul_fsm fsm;
	struct ul_link_rt rt;
	struct ul_prober *prober;
	bool sysctl_done;
};

struct pending_hook {
	size_t idx;
	enum ul_state from, to;
};

struct ul_daemon {
	struct ul_config *cfg;
	const char *cfg_path, *sock_override;
	int level_override;
	struct ul_loop *loop;
	struct ul_rtnl *rtnl;
	struct ul_watch rtnl_w, sig_w;
	struct ul_nft *nft;
	struct ul_control *ctl;
	struct ul_hooks *hooks;
	struct ul_sysctl *sysctl;
	struct kview view;
	struct link links[UL_MAX_LINKS];
	char disabled[UL_MAX_LINKS][UL_NAME_MAX];       /* uplinkctl disable, kept on reload */
	size_t n_disabled;
	struct ul_plan plan;
	bool have_plan;
	char *nft_text;                 /* printed ruleset last applied */
	uint32_t carried;               /* links carrying traffic at the last apply */
	struct ul_timer apply_t, watchdog_t, settle_t, resync_t;
	uint64_t watchdog_ms;
	struct pending_hook hooks_pending[64];
	size_t n_hooks_pending;
	uint32_t old_tables[UL_MAX_LINKS + 1];  /* tables of the previous config, to empty */
	size_t n_old_tables;
	uint32_t old_prio;              /* rule range of the previous config, 0 = none */
	uint64_t start_ms, reloads, reload_failures;
	bool ready, stopping;
	int exit_code;
};

static struct ul_fsm_params fsm_params(const struct ul_link_conf *lc)
{
	return (struct ul_fsm_params){
		.down_after = lc->check.down_after, .up_after = lc->check.up_after,
		.max_rtt_ms = lc->check.max_rtt_ms, .max_loss_pct = lc->check.max_loss_pct,
		.quorum = lc->check.quorum, .carrier_only = lc->check.n_targets == 0,
	};
}

static void schedule_apply(struct ul_daemon *d, uint64_t delay_ms)
{
	uint64_t due = ul_now_ms() + delay_ms;

	if (!d->apply_t.armed || d->apply_t.due_ms > due)
		ul_timer_arm(d->loop, &d->apply_t, due);
}

static void transition(struct ul_daemon *d, struct link *l, const struct ul_transition *t)
{
	ul_log_transition(d->cfg->links[l->idx].name, ul_state_name(t->from),
			  ul_state_name(t->to), t->reason);
	if (d->n_hooks_pending < sizeof(d->hooks_pending) / sizeof(d->hooks_pending[0]))
		d->hooks_pending[d->n_hooks_pending++] =
			(struct pending_hook){ l->idx, t->from, t->to };
	schedule_apply(d, 0);
}

static void on_round(void *data, const struct ul_round *r)
{
	struct link *l = data;
	struct ul_daemon *d = l->d;
	struct ul_fsm_params p = fsm_params(&d->cfg->links[l->idx]);
	struct ul_transition t;

	ul_debug("link %s: round %u/%u answered, rtt %.1f ms", d->cfg->links[l->idx].name,
		 r->answered, r->sent, r->rtt_us / 1000.0);
	if (ul_fsm_round(&l->fsm, &p, r, ul_now_ms(), &t))
		transition(d, l, &t);
}

/* Bring one link's runtime facts up to date with the kernel view; feed the machine. */
static void refresh_link(struct ul_daemon *d, struct link *l)
{
	const struct ul_link_conf *lc = &d->cfg->links[l->idx];
	const struct kif *k = kv_if_by_name(&d->view, lc->ifname);
	struct ul_link_rt old = l->rt, *rt = &l->rt;
	struct ul_fsm_params p = fsm_params(lc);
	struct ul_transition t;

	rt->state = l->fsm.state;
	rt->present = k != NULL;
	rt->ifindex = k ? k->ifindex : 0;
	rt->carrier = k && (k->flags & IFF_UP) && (k->flags & IFF_LOWER_UP);
	rt->has_addr = k && k->n_addrs > 0;
	if (rt->has_addr)
		ul_addr_from_raw(&rt->addr, AF_INET, k->addrs[0].bytes);
	else
		memset(&rt->addr, 0, sizeof(rt->addr));
	rt->has_gw = false;
	if (lc->gw_mode == UL_GW_STATIC) {
		rt->has_gw = true;
		rt->gw = lc->gateway;
	} else if (lc->gw_mode == UL_GW_AUTO && k) {
		const struct ul_addr *gw = kv_gateway(&d->view, k->ifindex);

		if (gw) {
			rt->has_gw = true;
			rt->gw = *gw;
		}
	}
	if (rt->has_gw && (!old.has_gw || !ul_addr_eq(&old.gw, &rt->gw)) &&
	    lc->gw_mode == UL_GW_AUTO)
		ul_info("link %s: gateway %s learned", lc->name,
			ul_addr_format(&rt->gw, (char[UL_ADDR_STRLEN]){ 0 }, UL_ADDR_STRLEN));

	if (k && !l->sysctl_done) {
		char key[96];

		snprintf(key, sizeof(key), "net/ipv4/conf/%s/rp_filter", lc->ifname);
		if (!ul_sysctl_ensure(d->sysctl, key, 2, 1))
			l->sysctl_done = true;
	}
	if (!k)
		l->sysctl_done = false;

	/* Without an address (DHCP lease lost, not yet obtained) nothing can be sent: that
	 * is as down as a lost carrier, and the address's return must be proven by probes.
	 * (A missing gateway is not: the link just takes no traffic until it is learned.) */
	bool ok = rt->carrier && rt->has_addr;

	if (ul_fsm_carrier(&l->fsm, &p, ok,
			   ok ? NULL : !k ? "interface removed" : !(k->flags & IFF_UP) ?
			   "interface down" : !rt->carrier ? "carrier lost" : "no address",
			   ul_now_ms(), &t))
		transition(d, l, &t);
	rt->state = l->fsm.state;

	/* probes follow the address (DHCP renew, PPPoE reconnect), and the interface: a
	 * socket bound to a device stays bound to its ifindex, so an interface deleted and
	 * re-created (perhaps faster than a refresh, same address) needs new sockets */
	if (l->prober) {
		if (old.ifindex && rt->ifindex != old.ifindex)
			ul_prober_bind(l->prober, NULL);
		ul_prober_bind(l->prober, rt->has_addr && rt->present ? &rt->addr : NULL);
	}

	if (memcmp(&old, rt, sizeof(old)))
		schedule_apply(d, 0);
}

static void refresh_all(struct ul_daemon *d)
{
	for (size_t i = 0; i < d->cfg->n_links; i++)
		refresh_link(d, &d->links[i]);
}

static void on_kev(const struct ul_kev *ev, void *data)
{
	kv_apply(data, ev);
}

/* Read the kernel's view again. Into a new view, taken only when the dump succeeded: a
 * failed one (interrupted again and again in an event storm) would leave a partial view in
 * which interfaces seem gone; then the old view stays and the dump is retried soon. */
static int resync(struct ul_daemon *d)
{
	struct kview *v = calloc(1, sizeof(*v));
	int err;

	if (!v)
		err = -ENOMEM;
	else
		err = ul_rtnl_dump_all(d->rtnl, on_kev, v);
	if (err) {
		free(v);
		ul_err("netlink dump failed: %s", strerror(-err));
		if (d->loop && !d->resync_t.armed)
			ul_timer_arm(d->loop, &d->resync_t, ul_now_ms() + RESYNC_RETRY_MS);
		return err;
	}
	v->gw_dirty = false;
	d->view = *v;
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
	for (size_t i = 0; i < d->cfg->n_links; i++) {
		const struct kif *k = kv_if_by_name(&d->view, d->cfg->links[i].ifname);

		if (k && !(k->flags & IFF_UP) && d->links[i].fsm.carrier)
			return true;
	}
	return false;
}

static void on_rtnl(struct ul_watch *w, uint32_t events)
{
	struct ul_daemon *d = w->data;
	int err = ul_rtnl_read_events(d->rtnl, on_kev, &d->view);

	if (err == -ENOBUFS) {
		ul_warn("netlink events lost (ENOBUFS), resynchronising");
		resync(d);
	} else if (err < 0 && err != -EAGAIN) {
		ul_err("netlink events: %s", strerror(-err));
	} else if (d->view.gw_dirty) {
		ul_debug("netlink: default route added, reading the main table again");
		resync(d);
	}
	/* wait a moment before acting on "interface down", so that a deletion is reported as
	 * such ("interface removed"), not as the down that precedes it; the timer is not
	 * pushed back by further events, so a storm cannot starve the refresh */
	if (d->settle_t.armed)
		return;
	if (admin_down_pending(d) && !ul_timer_arm(d->loop, &d->settle_t, ul_now_ms() + SETTLE_MS))
		return;
	refresh_all(d);
}

/* ---- applying the plan ---- */

static void collect_rt(const struct ul_daemon *d, struct ul_link_rt *rt)
{
	for (size_t i = 0; i < d->cfg->n_links; i++) {
		rt[i] = d->links[i].rt;
		rt[i].state = d->links[i].fsm.state;
	}
}

static char *ruleset_text(const struct ul_ruleset *rs)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		return NULL;
	ul_ruleset_print(f, rs);
	fclose(f);
	return text;
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

static void active_csv(const struct ul_daemon *d, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < d->cfg->n_links && off < len; i++)
		if (d->plan.active & (1u << i))
			off += (size_t)snprintf(buf + off, len - off, "%s%s", off ? "," : "",
						d->cfg->links[i].name);
}

static int apply(struct ul_daemon *d)
{
	struct ul_link_rt rt[UL_MAX_LINKS];
	uint32_t tables[2 * UL_MAX_LINKS + 2], prio = d->cfg->daemon.rule_priority, carried;
	struct ul_plan plan;
	char *text;
	int err, n;

	collect_rt(d, rt);
	err = ul_plan_build(d->cfg, rt, &plan);
	if (err)
		return err;
	text = ruleset_text(&plan.nft);
	if (!text) {
		ul_plan_free(&plan);
		return -ENOMEM;
	}
	if (!d->nft_text || strcmp(text, d->nft_text)) {
		err = ul_nft_apply(d->nft, &plan.nft);
		if (err) {
			ul_err("nftables: applying table inet uplinkd failed: %s", strerror(-err));
			goto fail;
		}
		ul_debug("nftables: table inet uplinkd replaced");
		free(d->nft_text);
		d->nft_text = text;
		text = NULL;
	}
	if (d->old_prio && d->old_prio != prio) {
		n = ul_reconcile_remove_all(d->rtnl, NULL, 0, d->old_prio, d->old_prio + 99);
		if (n < 0) {
			err = n;
			goto fail;
		}
		d->old_prio = 0;
	}
	n = ul_reconcile(d->rtnl, &plan, tables, owned_tables(d, tables), prio, prio + 99);
	if (n < 0) {
		err = n;
		ul_err("routing: reconcile failed: %s", strerror(-err));
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
			err = ul_ct_flush_mark(AF_INET, ul_link_mark(d->cfg, i),
					       d->cfg->daemon.mark_mask);
			if (err)
				ul_warn("link %s: flushing its connections failed: %s",
					d->cfg->links[i].name, strerror(-err));
			else
				ul_info("link %s: connections flushed", d->cfg->links[i].name);
		}
	}
	d->carried = carried;
	if (d->have_plan)
		ul_plan_free(&d->plan);
	d->plan = plan;
	d->have_plan = true;
	free(text);
	return 0;
fail:
	free(text);
	ul_plan_free(&plan);
	return err;
}

static void run_pending_hooks(struct ul_daemon *d)
{
	char csv[UL_MAX_LINKS * (UL_NAME_MAX + 1) + 1];

	active_csv(d, csv, sizeof(csv));
	for (size_t i = 0; i < d->n_hooks_pending; i++) {
		const struct pending_hook *h = &d->hooks_pending[i];

		if (h->idx >= d->cfg->n_links)
			continue;
		ul_hooks_event(d->hooks, d->cfg->links[h->idx].name, d->cfg->links[h->idx].ifname,
			       ul_state_name(h->to), ul_state_name(h->from), csv);
	}
	d->n_hooks_pending = 0;
}

static void on_apply(struct ul_timer *t)
{
	struct ul_daemon *d = t->data;
	int err = apply(d);

	if (err) {
		ul_err("applying the routing state failed (%s); retrying in %d ms",
		       strerror(-err), RETRY_MS);
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

static int link_start(struct ul_daemon *d, struct link *l)
{
	const struct ul_link_conf *lc = &d->cfg->links[l->idx];

	l->d = d;
	if (lc->check.n_targets && !l->prober) {
		l->prober = ul_prober_new(d->loop, &lc->check, lc->ifname,
					  ul_link_mark(d->cfg, l->idx), on_round, l);
		if (!l->prober)
			return -ENOMEM;
	}
	return 0;
}

static void link_stop(struct link *l)
{
	ul_prober_free(l->prober);
	l->prober = NULL;
}

static bool same_check(const struct ul_check *a, const struct ul_check *b)
{
	return !memcmp(a, b, sizeof(*a));
}

/* Swap in a validated config: links kept by name keep their state and probe history. */
static int adopt_config(struct ul_daemon *d, struct ul_config *nc)
{
	struct link nl[UL_MAX_LINKS];
	struct ul_config *oc = d->cfg;
	uint64_t now = ul_now_ms();
	gid_t gid = (gid_t)-1;
	int err;

	memset(nl, 0, sizeof(nl));
	for (size_t i = 0; i < nc->n_links; i++) {
		int o = oc ? ul_config_link_index(oc, nc->links[i].name) : -1;

		nl[i].idx = i;
		nl[i].d = d;
		if (o >= 0 && !strcmp(oc->links[o].ifname, nc->links[i].ifname)) {
			nl[i].fsm = d->links[o].fsm;
			nl[i].rt = d->links[o].rt;
			nl[i].sysctl_done = d->links[o].sysctl_done;
			if (same_check(&oc->links[o].check, &nc->links[i].check) && (size_t)o == i)
				nl[i].prober = d->links[o].prober;
			else
				link_stop(&d->links[o]);
			d->links[o].prober = NULL;
		} else {
			ul_fsm_init(&nl[i].fsm, now);
		}
	}
	if (oc) {
		for (size_t o = 0; o < oc->n_links; o++)
			link_stop(&d->links[o]);
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
	memcpy(d->links, nl, sizeof(nl));
	d->cfg = nc;
	d->carried &= (nc->n_links >= 32) ? ~0u : (1u << nc->n_links) - 1;
	ul_config_free(oc);

	if (d->level_override < 0)
		ul_log_set_level(nc->daemon.log_level);
	ul_hooks_configure(d->hooks, nc->daemon.hook, nc->daemon.hook_timeout_s);
	if (nc->daemon.control_group[0]) {
		struct group *g = getgrnam(nc->daemon.control_group);

		if (g)
			gid = g->gr_gid;
	}
	if (d->ctl && gid != (gid_t)-1) {
		const char *path = d->sock_override ? d->sock_override : nc->daemon.control_socket;

		if (chown(path, 0, gid))
			ul_warn("control socket: chown %s: %s", path, strerror(errno));
	}
	for (size_t i = 0; i < nc->n_links; i++) {
		struct link *l = &d->links[i];
		struct ul_fsm_params p = fsm_params(&nc->links[i]);
		struct ul_transition t;

		err = link_start(d, l);
		if (err)
			return err;
		if (is_disabled(d, nc->links[i].name) && ul_fsm_admin(&l->fsm, &p, true, now, &t))
			transition(d, l, &t);
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

/* Reload: the new config replaces the running one only when it is valid. */
static int reload(struct ul_daemon *d, struct ul_buf *why)
{
	struct ul_diag diag = { 0 };
	struct ul_config *nc;
	int err;

	ul_notify("RELOADING=1");
	ul_notice("reloading %s", d->cfg_path);
	err = ul_config_load(d->cfg_path, &nc, &diag);
	if (!err && ul_config_ipv6_refuse(nc, &diag)) {        /* IPv6: datapath not wired yet */
		ul_config_free(nc);
		err = -EINVAL;
	}
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
	d->reloads++;
	err = adopt_config(d, nc);
	ul_notify("READY=1");
	if (err && why)
		ul_buf_printf(why, "reload failed: %s", strerror(-err));
	return err;
}

/* ---- control socket ---- */

static void snapshot(const struct ul_daemon *d, struct ul_status *s)
{
	uint64_t now = ul_now_ms();

	memset(s, 0, sizeof(*s));
	s->version = UL_VERSION;
	s->uptime_s = (double)(now - d->start_ms) / 1000.0;
	s->reloads = d->reloads;
	s->reload_failures = d->reload_failures;
	s->n_links = d->cfg->n_links;
	for (size_t i = 0; i < d->cfg->n_links; i++) {
		const struct ul_link_conf *lc = &d->cfg->links[i];
		const struct link *l = &d->links[i];
		struct ul_status_link *sl = &s->links[i];

		snprintf(sl->name, sizeof(sl->name), "%s", lc->name);
		snprintf(sl->ifname, sizeof(sl->ifname), "%s", lc->ifname);
		sl->state = l->fsm.state;
		sl->carrier = l->rt.carrier;
		sl->active = d->have_plan && (d->plan.active & (1u << i));
		sl->tier = lc->tier;
		sl->weight = lc->weight;
		sl->rtt_ms = ul_fsm_rtt_ms(&l->fsm);
		sl->loss_pct = ul_fsm_loss_pct(&l->fsm);
		sl->since_s = (double)(now - l->fsm.since_ms) / 1000.0;
		sl->transitions = l->fsm.transitions;
		if (l->prober)
			sl->probes = *ul_prober_stats(l->prober);
	}
}

static int set_disabled(struct ul_daemon *d, const char *name, bool disable, struct ul_buf *b)
{
	int idx = ul_config_link_index(d->cfg, name);
	struct link *l;
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
	if (ul_fsm_admin(&l->fsm, &p, disable, ul_now_ms(), &t))
		transition(d, l, &t);
	ul_buf_printf(b, "link %s %s\n", name, disable ? "disabled" : "enabled");
	return 0;
}

static int on_control(void *data, const char *req, struct ul_buf *body)
{
	struct ul_daemon *d = data;
	char verb[32], arg[64];
	struct ul_status s;

	if (ul_control_parse(req, verb, sizeof(verb), arg, sizeof(arg))) {
		ul_buf_printf(body, "malformed request");
		return -EINVAL;
	}
	if (!strcmp(verb, "status") && (!arg[0] || !strcmp(arg, "json"))) {
		snapshot(d, &s);
		if (arg[0])
			ul_status_json(&s, body);
		else
			ul_status_table(&s, body);
		return 0;
	}
	if (!strcmp(verb, "metrics") && !arg[0]) {
		snapshot(d, &s);
		ul_status_metrics(&s, body);
		return 0;
	}
	if (!strcmp(verb, "reload") && !arg[0]) {
		if (reload(d, body))
			return -EINVAL;
		ul_buf_printf(body, "configuration reloaded\n");
		return 0;
	}
	if ((!strcmp(verb, "disable") || !strcmp(verb, "enable")) && arg[0])
		return set_disabled(d, arg, verb[0] == 'd', body);
	ul_buf_printf(body, "unknown request \"%s\"", verb);
	return -EINVAL;
}

/* ---- signals, watchdog ---- */

static void on_signal(struct ul_watch *w, uint32_t events)
{
	struct ul_daemon *d = w->data;
	struct signalfd_siginfo si;

	while (read(w->fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGHUP:
			reload(d, NULL);
			break;
		case SIGTERM:
		case SIGINT:
			ul_notice("signal %s: stopping", si.ssi_signo == SIGTERM ? "TERM" : "INT");
			d->stopping = true;
			ul_loop_stop(d->loop);
			return;
		case SIGCHLD:
			ul_hooks_reap(d->hooks);
			break;
		}
	}
}

static void on_watchdog(struct ul_timer *t)
{
	struct ul_daemon *d = t->data;

	ul_notify("WATCHDOG=1");
	ul_timer_arm(d->loop, t, ul_now_ms() + d->watchdog_ms / 2);
}

/* ---- start, stop ---- */

static void teardown(struct ul_daemon *d)
{
	uint32_t tables[2 * UL_MAX_LINKS + 2];
	int err;

	ul_notify("STOPPING=1");
	for (size_t i = 0; d->cfg && i < d->cfg->n_links; i++)
		link_stop(&d->links[i]);
	if (d->nft) {
		err = ul_nft_remove(d->nft);
		if (err)
			ul_err("nftables: removing table inet uplinkd failed: %s", strerror(-err));
	}
	if (d->rtnl && d->cfg) {
		err = ul_reconcile_remove_all(d->rtnl, tables, owned_tables(d, tables),
					      d->cfg->daemon.rule_priority,
					      d->cfg->daemon.rule_priority + 99);
		if (err < 0)
			ul_err("routing: cleanup failed: %s", strerror(-err));
	}
	if (d->sysctl)
		ul_sysctl_restore(d->sysctl);
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

static int run(struct ul_daemon *d)
{
	const char *sock;
	gid_t gid = (gid_t)-1;
	int err;

	d->start_ms = ul_now_ms();
	d->apply_t.cb = on_apply;
	d->apply_t.data = d;
	d->settle_t.cb = on_settle;
	d->settle_t.data = d;
	d->resync_t.cb = on_resync;
	d->resync_t.data = d;
	err = ul_loop_new(&d->loop);
	if (err)
		goto out;
	err = setup_signals(d);
	if (err)
		goto out;
	err = ul_hooks_new(d->loop, &d->hooks);
	if (err)
		goto out;
	/* the sysctl state file lives beside the control socket: one per instance */
	sock = d->sock_override ? d->sock_override : d->cfg->daemon.control_socket;
	{
		char state[sizeof(d->cfg->daemon.control_socket) + 32];
		const char *slash = strrchr(sock, '/');
		int dirlen = slash ? (int)(slash - sock) : 1;

		snprintf(state, sizeof(state), "%.*s/" SYSCTL_STATE_NAME, dirlen,
			 slash ? sock : ".");
		err = ul_sysctl_new(state, &d->sysctl);
		if (err) {
			ul_err("sysctl state %s: %s", state, strerror(-err));
			goto out;
		}
	}
	err = ul_rtnl_open(&d->rtnl);
	if (err) {
		ul_err("rtnetlink: %s", strerror(-err));
		goto out;
	}
	err = ul_nft_open(&d->nft);
	if (err) {
		ul_err("nftables: %s", strerror(-err));
		goto out;
	}
	d->rtnl_w.fd = ul_rtnl_event_fd(d->rtnl);
	d->rtnl_w.cb = on_rtnl;
	d->rtnl_w.data = d;
	err = ul_loop_add(d->loop, &d->rtnl_w, EPOLLIN);
	if (err)
		goto out;
	err = resync(d);
	if (err)
		goto out;

	ul_sysctl_ensure(d->sysctl, "net/ipv4/ip_forward", 1, 0);
	ul_sysctl_ensure(d->sysctl, "net/ipv4/fib_multipath_hash_policy", 1, 0);

	if (d->cfg->daemon.control_group[0]) {
		struct group *g = getgrnam(d->cfg->daemon.control_group);

		if (g)
			gid = g->gr_gid;
	}
	err = ul_control_open(d->loop, sock, gid, on_control, d, &d->ctl);
	if (err) {
		ul_err("control socket %s: %s", sock, strerror(-err));
		goto out;
	}
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
		ul_timer_arm(d->loop, &d->watchdog_t, ul_now_ms() + d->watchdog_ms / 2);
	}
	err = ul_loop_run(d->loop);
	if (err)
		ul_err("event loop: %s", strerror(-err));
out:
	teardown(d);
	ul_control_close(d->ctl);
	ul_hooks_free(d->hooks);
	ul_sysctl_free(d->sysctl);
	ul_nft_close(d->nft);
	ul_rtnl_close(d->rtnl);
	if (d->sig_w.fd > 0)
		close(d->sig_w.fd);
	if (d->have_plan)
		ul_plan_free(&d->plan);
	free(d->nft_text);
	ul_config_free(d->cfg);
	ul_loop_free(d->loop);
	return err ? 1 : 0;
}

/* uplinkd -n: what it would install, from the kernel as it is now (read only); every
 * link whose interface exists is taken to be up. */
static int dry_run(struct ul_config *c)
{
	struct ul_daemon *d = calloc(1, sizeof(*d));
	struct ul_link_rt rt[UL_MAX_LINKS];
	struct ul_plan plan;
	int err;

	if (!d)
		return 1;
	d->cfg = c;
	err = ul_rtnl_open(&d->rtnl);
	if (!err)
		err = resync(d);
	if (err) {
		fprintf(stderr, "uplinkd: reading the kernel's interfaces: %s\n", strerror(-err));
		goto out;
	}
	for (size_t i = 0; i < c->n_links; i++) {
		struct link *l = &d->links[i];
		const struct kif *k = kv_if_by_name(&d->view, c->links[i].ifname);

		l->idx = i;
		ul_fsm_init(&l->fsm, 0);
		l->fsm.state = UL_ST_UP;
		/* refresh_link without side effects */
		rt[i] = (struct ul_link_rt){ .state = UL_ST_UP, .present = k != NULL };
		if (!k) {
			printf("# link %s: interface %s not found\n", c->links[i].name,
			       c->links[i].ifname);
			continue;
		}
		rt[i].ifindex = k->ifindex;
		rt[i].carrier = (k->flags & IFF_UP) && (k->flags & IFF_LOWER_UP);
		rt[i].has_addr = k->n_addrs > 0;
		if (rt[i].has_addr)
			ul_addr_from_raw(&rt[i].addr, AF_INET, k->addrs[0].bytes);
		else
			printf("# link %s: %s has no IPv4 address\n", c->links[i].name,
			       c->links[i].ifname);
		if (c->links[i].gw_mode == UL_GW_STATIC) {
			rt[i].has_gw = true;
			rt[i].gw = c->links[i].gateway;
		} else if (c->links[i].gw_mode == UL_GW_AUTO) {
			const struct ul_addr *gw = kv_gateway(&d->view, k->ifindex);

			if (gw) {
				rt[i].has_gw = true;
				rt[i].gw = *gw;
			} else {
				printf("# link %s: no gateway learned on %s yet\n",
				       c->links[i].name, c->links[i].ifname);
			}
		}
	}
	err = ul_plan_build(c, rt, &plan);
	if (!err) {
		ul_plan_print(stdout, c, &plan);
		ul_plan_free(&plan);
	}
out:
	ul_rtnl_close(d->rtnl);
	free(d);
	return err ? 1 : 0;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: uplinkd [-c FILE] [-s SOCKET] [-l LEVEL]   run in the foreground\n"
		"       uplinkd -t [-c FILE]                       check the configuration\n"
		"       uplinkd -n [-c FILE]                       print what it would install\n"
		"       uplinkd -V | --version\n"
		"LEVEL: error | warning | notice | info | debug; FILE defaults to %s\n",
		UL_DEFAULT_CONFIG);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "socket", required_argument, NULL, 's' },
		{ "log-level", required_argument, NULL, 'l' },
		{ "test", no_argument, NULL, 't' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct ul_daemon d = { .cfg_path = UL_DEFAULT_CONFIG, .level_override = -1 };
	struct ul_diag diag = { 0 };
	bool test = false, dry = false;
	struct ul_config *c = NULL;
	int opt;

	ul_log_init("uplinkd");
	while ((opt = getopt_long(argc, argv, "c:s:l:tnVh", opts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			d.cfg_path = optarg;
			break;
		case 's':
			d.sock_override = optarg;
			break;
		case 'l':
			d.level_override = ul_log_level_parse(optarg);
			if (d.level_override < 0) {
				fprintf(stderr, "uplinkd: -l %s: not one of error, warning, notice, "
					"info, debug\n", optarg);
				return 64;
			}
			break;
		case 't':
			test = true;
			break;
		case 'n':
			dry = true;
			break;
		case 'V':
			printf("uplinkd %s\n", UL_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 64;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 64;
	}
	if (ul_config_load(d.cfg_path, &c, &diag) ||
	    (!dry && ul_config_ipv6_refuse(c, &diag))) {     /* IPv6: datapath not wired yet */
		ul_config_free(c);
		for (size_t i = 0; i < diag.n; i++)
			fprintf(stderr, "%s\n", diag.msgs[i]);
		ul_diag_free(&diag);
		return 1;
	}
	if (test) {
		printf("%s: configuration OK\n", d.cfg_path);
		ul_config_free(c);
		return 0;
	}
	if (dry) {
		int rc = dry_run(c);

		ul_config_free(c);
		return rc;
	}
	ul_log_set_level(d.level_override >= 0 ? d.level_override : c->daemon.log_level);
	d.cfg = c;
	return run(&d);
}
