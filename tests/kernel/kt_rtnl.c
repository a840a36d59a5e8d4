// SPDX-License-Identifier: GPL-2.0-or-later
/* rtnetlink and the reconciler against the real kernel. Runs inside a fresh network namespace
 * (tests/integration/kernel_api.sh); uses ip(8) to set the stage and to look. */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/socket.h>
#include <linux/rtnetlink.h>
#include <cmocka.h>

#include "klog.h"
#include "log.h"
#include "reconcile.h"
#include "rtnl.h"
#include "ktk.h"
#include "tk.h"

#define LO 1000
#define HI 1099

static int ifx[3];                      /* d0, d1, d2 */
static const uint32_t tables[] = { 201, 202, 250, 300, 1000 };
#define N_TABLES (sizeof(tables) / sizeof(tables[0]))

/* The routes and rules of the verified design, plus the odd shapes. */
static size_t sample_routes(struct ul_route *v)
{
	size_t n = 0;

	v[n] = tk_route(250, "0.0.0.0/0");
	tk_nh(&v[n], "192.0.2.254", ifx[0], 30);
	tk_nh(&v[n], "198.51.100.254", ifx[1], 70);
	tk_nh(&v[n], "203.0.113.254", ifx[2], 256);
	n++;
	v[n] = tk_route(201, "0.0.0.0/0");
	tk_nh(&v[n++], "192.0.2.254", ifx[0], 1);
	v[n] = tk_route(300, "0.0.0.0/0");        /* point-to-point */
	tk_nh(&v[n++], NULL, ifx[1], 1);
	v[n] = tk_route(1000, "10.1.0.0/16");
	tk_nh(&v[n++], "203.0.113.254", ifx[2], 1);
	return n;
}

static size_t sample_rules(struct ul_iprule *v)
{
	size_t n = 0;

	v[n] = tk_iprule(1000, RT_TABLE_MAIN);
	v[n++].suppress_prefixlen = 0;
	v[n] = tk_iprule(1001, 201);
	v[n].fwmark = 0x100;
	v[n++].fwmask = 0xff00;
	v[n] = tk_iprule(1002, 202);
	v[n++].src = tk_addr("10.0.1.0/24");
	v[n++] = tk_iprule(1050, 1000);
	v[n++] = tk_iprule(1099, 250);
	return n;
}

static bool rule_in(const struct ul_iprule *r, const struct ul_iprule *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (ul_iprule_eq(r, &v[i]))
			return true;
	return false;
}

static int group_setup(void **state)
{
	const char *names[] = { "d0", "d1", "d2" };
	const char *addrs[] = { "192.0.2.1/24", "198.51.100.1/24", "203.0.113.1/24" };

	ul_log_set_level(LOG_DEBUG);
	ul_klog_set_level(LOG_DEBUG);
	tk_require_root("kt_rtnl");
	for (int i = 0; i < 3; i++) {
		/* veth: this kernel may lack the dummy driver */
		tk_sh("ip link add %s type veth peer name %sp && ip link set %sp up && "
		   "ip link set %s up && ip addr add %s dev %s",
		   names[i], names[i], names[i], names[i], addrs[i], names[i]);
		ifx[i] = (int)if_nametoindex(names[i]);
		assert_true(ifx[i] > 0);
	}
	return 0;
}

static void test_routes(void **state)
{
	struct ul_rtnl *h = *state;
	struct ul_route want[8], *have, bad;
	size_t n_want = sample_routes(want), n;
	char exp[64];

	/* a dumped route's devices are named by index; the log asks the kernel for the name */
	assert_int_equal(ul_rtnl_ifname(h, ifx[1], exp), 0);
	assert_string_equal(exp, "d1");
	assert_int_equal(ul_rtnl_ifname(h, 999999, exp), -ENODEV);

	/* a table that was never used dumps empty */
	assert_int_equal(ul_rtnl_dump_routes(h, (const uint32_t[]){ 4242 }, 1, &have, &n), 0);
	assert_int_equal(n, 0);
	free(have);

	ktk_replace_routes(h, want, n_want);
	ktk_assert_routes(h, tables, N_TABLES, want, n_want);

	snprintf(exp, sizeof(exp), "default proto %d", UL_RULE_PROTO);
	ktk_assert_shows("ip -N -4 route show table 250", (const char *const[]){
		exp,
		"nexthop via 192.0.2.254 dev d0 weight 30",
		"nexthop via 198.51.100.254 dev d1 weight 70",
		"nexthop via 203.0.113.254 dev d2 weight 256",
		NULL });
	snprintf(exp, sizeof(exp), "default dev d1 proto %d scope 253", UL_RULE_PROTO);
	ktk_assert_shows("ip -N -4 route show table 300", (const char *const[]){ exp, NULL });
	ktk_assert_shows("ip -4 route show table 1000", (const char *const[]){
		"10.1.0.0/16 via 203.0.113.254 dev d2", NULL });

	/* only the listed tables come back */
	assert_int_equal(ul_rtnl_dump_routes(h, (const uint32_t[]){ 250 }, 1, &have, &n), 0);
	assert_int_equal(n, 1);
	assert_true(ul_route_eq(&have[0], &want[0]));
	free(have);

	/* the kernel's refusal comes back as it is */
	bad = tk_route(201, "10.2.0.0/16");
	tk_nh(&bad, "10.99.99.1", ifx[0], 1);             /* not on any link */
	assert_int_equal(ul_rtnl_route_replace(h, &bad), -ENETUNREACH);

	ktk_del_routes(h, want, n_want);
	assert_int_equal(ul_rtnl_route_del(h, &want[0]), -ESRCH);
	ktk_assert_no_routes(h, "-4", tables, N_TABLES, LO, HI);
}

static void test_rules(void **state)
{
	struct ul_rtnl *h = *state;
	struct ul_iprule want[8], *have;
	size_t n_want = sample_rules(want), n;

	ktk_add_rules(h, want, n_want, 1);

	assert_int_equal(ul_rtnl_dump_rules(h, LO, HI, &have, &n), 0);
	assert_int_equal(n, n_want);
	for (size_t i = 0; i < n; i++)
		assert_true(rule_in(&have[i], want, n_want));
	free(have);
	/* the range is honoured */
	assert_int_equal(ul_rtnl_dump_rules(h, 1001, 1002, &have, &n), 0);
	assert_int_equal(n, 2);
	free(have);

	ktk_assert_shows("ip -4 rule show", (const char *const[]){
		"1000:\tfrom all lookup main suppress_prefixlength 0",
		"1001:\tfrom all fwmark 0x100/0xff00 lookup 201",
		"1002:\tfrom 10.0.1.0/24 lookup 202",
		"1050:\tfrom all lookup 1000",
		"1099:\tfrom all lookup 250",
		NULL });

	ktk_del_rules(h, want, n_want);
	assert_int_equal(ul_rtnl_rule_del(h, &want[0]), -ENOENT);
	ktk_assert_no_routes(h, "-4", tables, N_TABLES, LO, HI);
}

static void test_reconcile(void **state)
{
	struct ul_rtnl *h = *state;
	struct ul_plan *p = calloc(1, sizeof(*p));
	char out[4096];

	assert_non_null(p);
	p->n_routes = sample_routes(p->routes);
	p->n_rules = sample_rules(p->rules);

	ktk_reconcile_after(h, p, tables, N_TABLES, LO, HI, NULL, (int)(p->n_routes + p->n_rules));

	/* debris: a foreign rule, a duplicate, an unreachable rule, a stale route, a rival */
	ktk_reconcile_after(h, p, tables, N_TABLES, LO, HI, (const char *const[]){
		"ip rule add pref 1040 lookup 77",
		"ip rule add pref 1001 fwmark 0x100/0xff00 lookup 201",
		"ip rule add pref 1060 unreachable",
		"ip rule add pref 999 lookup 77",               /* outside the range: not ours */
		"ip route add 10.9.0.0/16 via 192.0.2.254 table 201",
		"ip route replace 10.1.0.0/16 via 192.0.2.254 table 1000",
		NULL }, 5);
	ktk_assert_shows("ip -4 route show table 1000", (const char *const[]){
		"10.1.0.0/16 via 203.0.113.254 dev d2", NULL });

	/* a new weight: one replace, in place */
	p->routes[0].nh[1].weight = 10;
	assert_int_equal(ul_reconcile(h, p, tables, N_TABLES, LO, HI), 1);
	ktk_assert_shows("ip -4 route show table 250", (const char *const[]){
		"dev d1 weight 10", NULL });
	assert_int_equal(ul_reconcile(h, p, tables, N_TABLES, LO, HI), 0);

	/* a link leaves: its route and rule go, the others stay */
	p->routes[1] = p->routes[--p->n_routes];
	p->rules[1] = p->rules[--p->n_rules];
	assert_int_equal(ul_reconcile(h, p, tables, N_TABLES, LO, HI), 2);
	tk_capture("ip -4 route show table 201", out, sizeof(out));
	assert_string_equal(out, "");

	assert_int_equal(ul_reconcile_remove_all(h, tables, N_TABLES, LO, HI),
			 (int)(p->n_routes + p->n_rules));
	ktk_assert_no_routes(h, "-4", tables, N_TABLES, LO, HI);
	assert_int_equal(ul_reconcile_remove_all(h, tables, N_TABLES, LO, HI), 0);
	tk_capture("ip -4 rule show", out, sizeof(out));
	assert_non_null(strstr(out, "999:\tfrom all lookup 77"));
	assert_non_null(strstr(out, "32766:\tfrom all lookup main"));
	tk_capture("ip -4 route show", out, sizeof(out));
	assert_non_null(strstr(out, "192.0.2.0/24 dev d0"));
	tk_sh("ip rule del pref 999");
	free(p);
}

/* ---- events ---- */

/* the command socket is busy inside a dump: the first rule added from an event fails */
struct busy {
	struct ul_rtnl *h;
	int err;
};

static void add_rule_in_dump(struct ktk_evlog *l, const struct ul_kev *ev)
{
	struct busy *b = l->data;
	struct ul_iprule r = tk_iprule(1000, 254);

	if (!b->err)
		b->err = ul_rtnl_rule_add(b->h, &r);
}

static void test_events(void **state)
{
	struct ul_rtnl *h = *state;
	struct ktk_evlog *l = calloc(1, sizeof(*l));
	const struct ul_kev *e;
	char txt[UL_ADDR_STRLEN];
	int idx;

	struct busy busy = { .h = h };

	assert_non_null(l);
	l->hook = add_rule_in_dump;
	l->data = &busy;
	assert_int_equal(ul_rtnl_dump_all(h, ktk_collect, l), 0);
	assert_int_equal(busy.err, -EBUSY);
	e = ktk_find(l, UL_KEV_LINK, ifx[0], NULL);
	assert_non_null(e);
	assert_string_equal(e->ifname, "d0");
	assert_true(e->flags & IFF_UP);
	assert_non_null(ktk_find(l, UL_KEV_LINK, 1, NULL));         /* lo */
	assert_non_null(ktk_find(l, UL_KEV_ADDR, ifx[1], "198.51.100.1/24"));
	e = ktk_find(l, UL_KEV_ROUTE, ifx[2], "203.0.113.0/24");    /* the connected route */
	assert_non_null(e);
	assert_false(e->has_gw);
	assert_int_equal(e->table, RT_TABLE_MAIN);
	assert_null(ktk_find(l, UL_KEV_ROUTE, 0, "127.0.0.1"));     /* local table: not main */

	l->hook = NULL;
	l->n = 0;
	tk_sh("ip link set d2 down");
	e = ktk_wait_for(h, l, UL_KEV_LINK, ifx[2], NULL);
	assert_non_null(e);
	assert_false(e->flags & IFF_UP);
	l->n = 0;
	tk_sh("ip link set d2 up");
	e = ktk_wait_for(h, l, UL_KEV_LINK, ifx[2], NULL);
	assert_non_null(e);
	assert_true(e->flags & IFF_UP);
	assert_non_null(ktk_wait_for(h, l, UL_KEV_ROUTE, ifx[2], "203.0.113.0/24"));

	l->n = 0;
	tk_sh("ip addr add 203.0.113.7/24 dev d2");
	assert_non_null(ktk_wait_for(h, l, UL_KEV_ADDR, ifx[2], "203.0.113.7/24"));
	tk_sh("ip route add 10.8.0.0/16 via 203.0.113.254 metric 50");
	e = ktk_wait_for(h, l, UL_KEV_ROUTE, ifx[2], "10.8.0.0/16");
	assert_non_null(e);
	assert_true(e->has_gw);
	assert_string_equal(ul_addr_format(&e->gw, txt, sizeof(txt)), "203.0.113.254");
	assert_int_equal(e->metric, 50);
	tk_sh("ip route add 10.7.0.0/16 table 201 via 203.0.113.254");    /* not main: no event */
	tk_sh("ip route del 10.8.0.0/16");
	assert_non_null(ktk_wait_for(h, l, UL_KEV_ROUTE_DEL, ifx[2], "10.8.0.0/16"));
	assert_null(ktk_find(l, UL_KEV_ROUTE, 0, "10.7.0.0/16"));
	tk_sh("ip addr del 203.0.113.7/24 dev d2");
	assert_non_null(ktk_wait_for(h, l, UL_KEV_ADDR_DEL, ifx[2], "203.0.113.7/24"));
	tk_sh("ip link add d9 type veth peer name d9p");
	e = ktk_wait_for(h, l, UL_KEV_LINK, (int)if_nametoindex("d9"), NULL);
	assert_non_null(e);
	assert_string_equal(e->ifname, "d9");
	idx = e->ifindex;
	tk_sh("ip link del d9");
	e = ktk_wait_for(h, l, UL_KEV_LINK_DEL, idx, NULL);
	assert_non_null(e);
	assert_string_equal(e->ifname, "d9");
	tk_sh("ip route flush table 201");
	free(l);
}

static void test_events_overrun(void **state)
{
	struct ul_rtnl *h = *state;
	struct ktk_evlog *l = calloc(1, sizeof(*l));
	int small = 1, big = 1 << 20, err, fd;
	char path[] = "/tmp/kt_rtnl.XXXXXX";
	FILE *f;

	assert_non_null(l);
	/* a tiny queue and a burst of events: the loss is reported, not hidden */
	assert_int_equal(setsockopt(ul_rtnl_event_fd(h), SOL_SOCKET, SO_RCVBUF, &small,
				    sizeof(small)), 0);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	for (int i = 0; i < 300; i++)
		fprintf(f, "addr add 10.55.%d.%d/32 dev d2\n", i / 200, i % 200 + 1);
	fclose(f);
	tk_sh("ip -batch %s && ip addr flush dev d2 to 10.55.0.0/16", path);
	unlink(path);
	err = ul_rtnl_read_events(h, ktk_collect, l);
	assert_int_equal(err, -ENOBUFS);
	/* and the socket goes on working after it (the daemon would resync now) */
	assert_int_equal(setsockopt(ul_rtnl_event_fd(h), SOL_SOCKET, SO_RCVBUF, &big,
				    sizeof(big)), 0);
	for (int i = 0; i < 100 && err; i++)
		err = ul_rtnl_read_events(h, ktk_collect, l);
	assert_int_equal(err, 0);
	l->n = 0;
	tk_sh("ip link set d1 down");
	assert_non_null(ktk_wait_for(h, l, UL_KEV_LINK, ifx[1], NULL));
	tk_sh("ip link set d1 up");
	free(l);
}

static const struct ul_kev *find_owned(const struct ktk_evlog *l, enum ul_kev_type type,
				       uint32_t key, bool own)
{
	for (size_t i = 0; i < l->n; i++) {
		const struct ul_kev *e = &l->ev[i];

		if (e->type == type && e->own == own &&
		    (type == UL_KEV_RULE ? e->metric : type == UL_KEV_TROUTE ? e->table :
		     (uint32_t)e->ifindex) == key)
			return e;
	}
	return NULL;
}

struct owned {
	enum ul_kev_type type;
	uint32_t key;
	bool own;
};

static const struct ul_kev *find_owned_cb(const struct ktk_evlog *l, const void *arg)
{
	const struct owned *o = arg;

	return find_owned(l, o->type, o->key, o->own);
}

/* Read events for up to 2 s until one like this arrives. */
static const struct ul_kev *wait_owned(struct ul_rtnl *h, struct ktk_evlog *l,
				       enum ul_kev_type type, uint32_t key, bool own)
{
	const struct owned o = { type, key, own };

	return ktk_wait(h, l, find_owned_cb, &o);
}

/* Changes of rules, routes of other tables and interface settings are events too, and the
 * ones of uplinkd's own socket say so; the drift between a plan and the kernel is named. */
static void test_owned_events(void **state)
{
	struct ul_rtnl *h = *state;
	struct ktk_evlog *l = calloc(1, sizeof(*l));
	struct ul_plan *p = calloc(1, sizeof(*p));
	struct ul_iprule r = tk_iprule(1010, 201);
	struct ul_route rt = tk_route(201, "10.77.0.0/16");
	char what[512];

	assert_non_null(l);
	assert_non_null(p);
	tk_nh(&rt, "192.0.2.254", ifx[0], 1);
	assert_int_equal(ul_rtnl_rule_add(h, &r), 0);
	assert_non_null(wait_owned(h, l, UL_KEV_RULE, 1010, true));
	tk_sh("ip rule add pref 1011 lookup 201");
	assert_non_null(wait_owned(h, l, UL_KEV_RULE, 1011, false));
	assert_int_equal(ul_rtnl_route_replace(h, &rt), 0);
	assert_non_null(wait_owned(h, l, UL_KEV_TROUTE, 201, true));
	l->n = 0;
	tk_sh("ip route add 10.78.0.0/16 via 192.0.2.254 table 201");
	assert_non_null(wait_owned(h, l, UL_KEV_TROUTE, 201, false));
	tk_sh("sysctl -qw net.ipv4.conf.d0.rp_filter=1");
	assert_non_null(wait_owned(h, l, UL_KEV_NETCONF, (uint32_t)ifx[0], false));

	/* what the plan (rule 1010, the one route) says of it: two added by someone else */
	p->rules[p->n_rules++] = r;
	p->routes[p->n_routes++] = rt;
	assert_int_equal(ul_reconcile_drift(h, p, tables, N_TABLES, LO, HI, what, sizeof(what)), 2);
	{
		char want[128];         /* a dumped route names its interface by index */

		snprintf(want, sizeof(want),
			 "route 10.78.0.0/16 via 192.0.2.254 dev if%d table 201 added and 1 more",
			 ifx[0]);
		assert_string_equal(what, want);
	}
	assert_int_equal(ul_reconcile(h, p, tables, N_TABLES, LO, HI), 2);
	assert_int_equal(ul_reconcile_drift(h, p, tables, N_TABLES, LO, HI, what, sizeof(what)), 0);
	tk_sh("ip rule del pref 1010");
	assert_int_equal(ul_reconcile_drift(h, p, tables, N_TABLES, LO, HI, what, sizeof(what)), 1);
	assert_string_equal(what, "rule 1010: from all lookup 201 missing");
	assert_true(ul_reconcile_remove_all(h, tables, N_TABLES, LO, HI) >= 0);
	tk_sh("sysctl -qw net.ipv4.conf.d0.rp_filter=0");
	free(p);
	free(l);
}

int main(void)
{
	return TK_RUN(group_setup, NULL, ktk_rtnl_open, ktk_rtnl_close, test_routes, test_rules,
		      test_reconcile, test_events, test_events_overrun, test_owned_events);
}
