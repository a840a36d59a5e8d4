// SPDX-License-Identifier: GPL-2.0-or-later
/* rtnetlink and the reconciler in IPv6 against the real kernel: link tables with link-local
 * next hops, the weighted multipath default, ip -6 rules at uplinkd's priorities, the
 * router-advertised default route of the main table, address scope and flags. Runs inside a
 * fresh network namespace (tests/integration/kernel_api.sh). */
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
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <cmocka.h>

#include "log.h"
#include "reconcile.h"
#include "rtnl.h"
#include "ktk.h"
#include "tk.h"

#define LO 1000
#define HI 1099

static int ifx[2];                      /* d0, d1 */
static const uint32_t tables[] = { 201, 202, 250 };
#define N_TABLES (sizeof(tables) / sizeof(tables[0]))

/* an IPv6 rule (tk_iprule's are IPv4) */
static struct ul_iprule rule(uint32_t prio, uint32_t table)
{
	struct ul_iprule r = tk_iprule(prio, table);

	r.family = AF_INET6;
	return r;
}

/* What the planner makes of two dual-stack links (IPv6 half), in a new plan. */
static struct ul_plan *sample(void)
{
	struct ul_plan *p = calloc(1, sizeof(*p));

	assert_non_null(p);
	p->routes[0] = tk_route(201, "::/0");
	tk_nh(&p->routes[0], "fe80::a", ifx[0], 1);
	p->routes[1] = tk_route(202, "::/0");
	tk_nh(&p->routes[1], "fe80::b", ifx[1], 1);
	p->routes[2] = tk_route(250, "::/0");
	tk_nh(&p->routes[2], "fe80::a", ifx[0], 30);
	tk_nh(&p->routes[2], "fe80::b", ifx[1], 70);
	p->n_routes = 3;
	p->rules[0] = rule(1000, RT_TABLE_MAIN);
	p->rules[0].suppress_prefixlen = 0;
	p->rules[1] = rule(1001, 201);
	p->rules[1].src = tk_addr("2001:db8:a::1/128");
	p->rules[2] = rule(1010, 201);
	p->rules[2].fwmark = 0x100;
	p->rules[2].fwmask = 0xff00;
	p->rules[3] = rule(1011, 202);
	p->rules[3].fwmark = 0x200;
	p->rules[3].fwmask = 0xff00;
	p->rules[4] = rule(1031, 202);
	p->rules[4].src = tk_addr("2001:db8:2:100::/64");
	p->rules[5] = rule(1099, 250);
	p->n_rules = 6;
	return p;
}

/* The end of a test: nothing of uplinkd's is left in the kernel; its plan is freed. */
static void done(struct ul_rtnl *h, struct ul_plan *p)
{
	ktk_assert_no_routes(h, "-6", tables, N_TABLES, LO, HI);
	free(p);
}

static int group_setup(void **state)
{
	ul_log_set_level(LOG_DEBUG);
	tk_require_root("kt_rtnl6");
	tk_sh("sysctl -qw net.ipv6.conf.all.disable_ipv6=0 net.ipv6.conf.default.disable_ipv6=0");
	for (int i = 0; i < 2; i++) {
		tk_sh("ip link add d%d type veth peer name d%dp && ip link set d%dp up && "
		   "ip link set d%d up && ip -6 addr add 2001:db8:%c::1/64 dev d%d nodad",
		   i, i, i, i, 'a' + i, i);
		ifx[i] = (int)if_nametoindex(i ? "d1" : "d0");
		assert_true(ifx[i] > 0);
	}
	return 0;
}

static void test_routes6(void **state)
{
	struct ul_rtnl *h = *state;
	struct ul_plan *p = sample();
	struct ul_route *have;
	char out[4096];
	size_t n;

	ktk_replace_routes(h, p->routes, p->n_routes);
	/* the kernel stores "no metric" as 1024: they still come back as uplinkd's, equal */
	assert_int_equal(p->n_routes, 3);
	ktk_assert_routes(h, tables, N_TABLES, p->routes, p->n_routes);
	ktk_assert_shows("ip -6 route show table 250", (const char *const[]){
		"nexthop via fe80::a dev d0 weight 30",
		"nexthop via fe80::b dev d1 weight 70",
		NULL });
	ktk_assert_shows("ip -6 route show table 201", (const char *const[]){
		"default via fe80::a dev d0", NULL });

	/* someone else's route in a link table, of another metric, is not uplinkd's */
	tk_sh("ip -6 route add 2001:db8:77::/48 via fe80::a dev d0 table 201 metric 5");
	assert_int_equal(ul_rtnl_dump_routes(h, (const uint32_t[]){ 201 }, 1, &have, &n), 0);
	assert_int_equal(n, 1);
	free(have);
	tk_sh("ip -6 route del 2001:db8:77::/48 table 201 metric 5");

	/* a new weight replaces the whole multipath route in place */
	p->routes[2].nh[1].weight = 10;
	assert_int_equal(ul_rtnl_route_replace(h, &p->routes[2]), 0);
	tk_capture("ip -6 route show table 250", out, sizeof(out));
	assert_non_null(strstr(out, "nexthop via fe80::b dev d1 weight 10"));
	assert_null(strstr(out, "weight 70"));
	/* a multipath delete removes every hop (IPv6 deletes only the named one otherwise) */
	ktk_del_routes(h, p->routes, p->n_routes);
	done(h, p);
}

static void test_rules6(void **state)
{
	struct ul_rtnl *h = *state;
	struct ul_plan *p = sample();
	struct ul_iprule *have, r4;
	size_t n;

	ktk_add_rules(h, p->rules, p->n_rules, 2);
	/* the same priority in IPv4 is another rule */
	r4 = p->rules[2];
	r4.family = AF_INET;
	assert_int_equal(ul_rtnl_rule_add(h, &r4), 0);
	assert_int_equal(ul_rtnl_dump_rules(h, LO, HI, &have, &n), 0);
	assert_int_equal(n, p->n_rules + 1);
	free(have);
	ktk_assert_shows("ip -6 rule show", (const char *const[]){
		"1000:\tfrom all lookup main suppress_prefixlength 0",
		"1001:\tfrom 2001:db8:a::1 lookup 201",
		"1010:\tfrom all fwmark 0x100/0xff00 lookup 201",
		"1031:\tfrom 2001:db8:2:100::/64 lookup 202",
		"1099:\tfrom all lookup 250",
		NULL });
	assert_int_equal(ul_rtnl_rule_del(h, &r4), 0);
	ktk_del_rules(h, p->rules, p->n_rules);
	done(h, p);
}

/* Both families through the reconciler: debris removed, then everything on remove_all. */
static void test_reconcile6(void **state)
{
	struct ul_rtnl *h = *state;
	struct ul_plan *p = sample();
	size_t n6;

	n6 = p->n_routes + p->n_rules;
	/* an IPv4 route and rule alongside */
	p->routes[p->n_routes].family = AF_INET;
	p->routes[p->n_routes].table = 201;
	p->routes[p->n_routes].dst = tk_addr("0.0.0.0/0");
	p->routes[p->n_routes].nh[0].ifindex = ifx[0];
	p->routes[p->n_routes].nh[0].weight = 1;
	p->routes[p->n_routes++].n_nh = 1;
	p->rules[p->n_rules] = rule(1010, 201);
	p->rules[p->n_rules].family = AF_INET;
	p->rules[p->n_rules].fwmark = 0x100;
	p->rules[p->n_rules++].fwmask = 0xff00;
	ktk_reconcile_after(h, p, tables, N_TABLES, LO, HI, NULL, (int)n6 + 2);
	ktk_reconcile_after(h, p, tables, N_TABLES, LO, HI, (const char *const[]){
		"ip -6 rule add pref 1040 lookup 77",
		"ip -6 route add 2001:db8:9::/48 via fe80::a dev d0 table 202",
		"ip -6 route del default table 201",
		NULL }, 3);
	ktk_assert_shows("ip -6 route show table 201", (const char *const[]){
		"default via fe80::a dev d0", NULL });
	assert_int_equal(ul_reconcile_remove_all(h, tables, N_TABLES, LO, HI), (int)n6 + 2);
	done(h, p);
}

/* ---- events ---- */

static void test_events6(void **state)
{
	struct ul_rtnl *h = *state;
	struct ktk_evlog *l = calloc(1, sizeof(*l));
	const struct ul_kev *e;
	char txt[UL_ADDR_STRLEN];

	assert_non_null(l);
	assert_int_equal(ul_rtnl_dump_all(h, ktk_collect, l), 0);
	e = ktk_find(l, UL_KEV_ADDR, ifx[0], "2001:db8:a::1/64");
	assert_non_null(e);
	assert_int_equal(e->scope, RT_SCOPE_UNIVERSE);
	assert_true(e->addr_usable);
	/* the kernel's link-local address is seen, and is no source for uplinkd */
	for (size_t i = 0; i < l->n; i++)
		if (l->ev[i].type == UL_KEV_ADDR && l->ev[i].ifindex == ifx[0] &&
		    l->ev[i].addr.family == AF_INET6 && l->ev[i].scope == RT_SCOPE_LINK)
			assert_false(l->ev[i].addr_usable);
	assert_non_null(ktk_find(l, UL_KEV_ROUTE, ifx[0], "2001:db8:a::/64"));

	/* a router advertisement's default route in main (what accept_ra=2 makes) */
	l->n = 0;
	tk_sh("ip -6 route add default via fe80::1 dev d0 proto ra metric 1024 expires 600");
	e = ktk_wait_for(h, l, UL_KEV_ROUTE, ifx[0], "::/0");
	assert_non_null(e);
	assert_true(e->has_gw);
	assert_string_equal(ul_addr_format(&e->gw, txt, sizeof(txt)), "fe80::1");
	assert_int_equal(e->proto, RTPROT_RA);
	assert_int_equal(e->table, RT_TABLE_MAIN);
	tk_sh("ip -6 route del default via fe80::1 dev d0");
	assert_non_null(ktk_wait_for(h, l, UL_KEV_ROUTE_DEL, ifx[0], "::/0"));

	/* an address still in duplicate address detection cannot source probes yet */
	l->n = 0;
	tk_sh("ip -6 addr add 2001:db8:a::7/64 dev d0");
	e = ktk_wait_for(h, l, UL_KEV_ADDR, ifx[0], "2001:db8:a::7/64");
	assert_non_null(e);
	assert_true(e->addr_flags & IFA_F_TENTATIVE);
	assert_false(e->addr_usable);
	tk_sh("ip -6 addr del 2001:db8:a::7/64 dev d0");
	assert_non_null(ktk_wait_for(h, l, UL_KEV_ADDR_DEL, ifx[0], "2001:db8:a::7/64"));
	free(l);
}

int main(void)
{
	return TK_RUN(group_setup, NULL, ktk_rtnl_open, ktk_rtnl_close, test_routes6, test_rules6,
		      test_reconcile6, test_events6);
}
