// SPDX-License-Identifier: GPL-2.0-or-later
/* The kernel view: rtnetlink events folded into interfaces, addresses and gateways, and
 * one link's runtime inputs read from it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "config.h"
#include "view.h"
#include "tk.h"

#define UP (IFF_UP | 0x10000)                   /* IFF_UP | IFF_LOWER_UP */

static const char *CONF =
	"lan = { interfaces = [ \"lan0\" ]; networks = [ \"10.0.0.0/24\" ]; };\n"
	"links = (\n"
	" { name = \"isp1\"; interface = \"wan1\"; gateway = \"192.168.1.1\"; },\n"
	" { name = \"isp2\"; interface = \"wan2\"; gateway = \"auto\"; }\n"
	");\n";

/* "a.b.c.d[/n]": the address as rtnetlink reports it (host bits kept, subnet length). */
static struct ul_addr addr(const char *s)
{
	char host[64];
	const char *slash = strchr(s, '/');
	struct ul_addr a;

	snprintf(host, sizeof(host), "%.*s", slash ? (int)(slash - s) : (int)strlen(s), s);
	assert_int_equal(ul_addr_parse(host, false, &a), 0);
	if (slash)
		a.plen = (uint8_t)atoi(slash + 1);
	return a;
}

static void link_ev(struct ul_view *v, enum ul_kev_type type, int ifindex, const char *name,
		    unsigned flags)
{
	struct ul_kev ev = { .type = type, .ifindex = ifindex, .flags = flags };

	snprintf(ev.ifname, sizeof(ev.ifname), "%s", name);
	ul_view_apply(v, &ev);
}

static void addr_ev(struct ul_view *v, enum ul_kev_type type, int ifindex, const char *a)
{
	struct ul_kev ev = { .type = type, .ifindex = ifindex, .addr = addr(a) };

	ul_view_apply(v, &ev);
}

static void route_ev(struct ul_view *v, enum ul_kev_type type, int ifindex, const char *gw,
		     uint32_t metric)
{
	struct ul_kev ev = { .type = type, .ifindex = ifindex, .addr = addr("0.0.0.0/0"),
			     .has_gw = gw != NULL, .metric = metric, .table = 254 };

	if (gw)
		ev.gw = addr(gw);
	ul_view_apply(v, &ev);
}

/* The fixture of every test: the config CONF (a test may load another) and an empty view. */
static struct ul_config *c;
static struct ul_view *v;

static int setup(void **state)
{
	c = tk_config(CONF);
	v = calloc(1, sizeof(*v));
	assert_non_null(v);
	return 0;
}

static int teardown(void **state)
{
	ul_view_free(v);
	free(v);
	ul_config_free(c);
	return 0;
}

static void absent_interface(void **state)
{
	struct ul_link_rt rt = { .state = UL_ST_UP };

	assert_string_equal(ul_view_link_rt(v, &c->links[0], &rt), "interface removed");
	assert_false(rt.present);
	assert_false(rt.carrier);
	assert_int_equal(rt.ifindex, 0);
	assert_int_equal(rt.state, UL_ST_UP);   /* left to the caller */
	assert_true(rt.has_gw);                 /* a static gateway is known anyway */
}

static void down_reasons(void **state)
{
	struct ul_link_rt rt = { 0 };

	link_ev(v, UL_KEV_LINK, 5, "wan1", 0);
	assert_string_equal(ul_view_link_rt(v, &c->links[0], &rt), "interface down");
	assert_true(rt.present);
	assert_int_equal(rt.ifindex, 5);
	assert_true(ul_view_if_down(v, "wan1"));
	link_ev(v, UL_KEV_LINK, 5, "", IFF_UP);         /* no name: the old one stays */
	assert_string_equal(ul_view_link_rt(v, &c->links[0], &rt), "carrier lost");
	assert_false(ul_view_if_down(v, "wan1"));
	link_ev(v, UL_KEV_LINK, 5, "wan1", UP);
	assert_string_equal(ul_view_link_rt(v, &c->links[0], &rt), "no address");
	assert_true(rt.carrier);
	assert_false(rt.has_addr);
	addr_ev(v, UL_KEV_ADDR, 5, "192.168.1.2/24");
	assert_null(ul_view_link_rt(v, &c->links[0], &rt));
	assert_true(rt.has_addr);
	assert_int_equal(rt.addr.plen, 32);             /* the host, not the subnet */
	assert_true(ul_addr_eq(&rt.addr, &(struct ul_addr){ .family = AF_INET, .plen = 32,
							     .bytes = { 192, 168, 1, 2 } }));
}

/* The first address reported is the primary; deleting it promotes the next. IPv6 is
 * not kept. */
static void addresses_in_order(void **state)
{
	struct ul_link_rt rt = { 0 };
	struct ul_addr want = addr("192.168.1.3");

	link_ev(v, UL_KEV_LINK, 5, "wan1", UP);
	addr_ev(v, UL_KEV_ADDR, 5, "192.168.1.2/24");
	addr_ev(v, UL_KEV_ADDR, 5, "192.168.1.3/24");
	addr_ev(v, UL_KEV_ADDR, 5, "2001:db8::2/64");
	addr_ev(v, UL_KEV_ADDR, 5, "192.168.1.2/24");   /* re-announced: moves to the end */
	assert_int_equal(v->ifs[0].n_addrs, 2);
	ul_view_link_rt(v, &c->links[0], &rt);
	assert_true(ul_addr_eq(&rt.addr, &want));
	addr_ev(v, UL_KEV_ADDR_DEL, 5, "192.168.1.3/24");
	addr_ev(v, UL_KEV_ADDR_DEL, 5, "192.168.1.2/24");
	assert_string_equal(ul_view_link_rt(v, &c->links[0], &rt), "no address");
	addr_ev(v, UL_KEV_ADDR_DEL, 9, "192.168.1.2/24");   /* unknown interface: no entry */
	assert_int_equal(v->n_ifs, 1);
}

/* A gateway pair: the link's shared (snat) address comes and goes with VRRP; the link
 * keeps its own address for probes, gets a rule for both, and is never down for it. */
static void shared_address(void **state)
{
	static const char *pair =
		"lan = { interfaces = [ \"lan0\" ]; };\n"
		"links = ( { name = \"isp1\"; interface = \"wan1\"; gateway = \"192.168.1.1\";"
		" snat = \"192.168.1.10\"; } );\n";
	struct ul_link_rt rt = { 0 }, before;
	struct ul_addr own = addr("192.168.1.3"), vip = addr("192.168.1.10");

	ul_config_free(c);
	c = tk_config(pair);
	/* a restart on the master: the shared address is reported first */
	link_ev(v, UL_KEV_LINK, 5, "wan1", UP);
	addr_ev(v, UL_KEV_ADDR, 5, "192.168.1.10/24");
	addr_ev(v, UL_KEV_ADDR, 5, "192.168.1.3/24");
	assert_null(ul_view_link_rt(v, &c->links[0], &rt));
	assert_true(ul_addr_eq(&rt.addr, &own));
	assert_int_equal(rt.n_addrs, 2);
	assert_true(ul_addr_eq(&rt.addrs[0], &vip));
	/* the master dies elsewhere, here: the address goes, nothing else changes */
	before = rt;
	addr_ev(v, UL_KEV_ADDR_DEL, 5, "192.168.1.10/24");
	assert_null(ul_view_link_rt(v, &c->links[0], &rt));
	assert_true(ul_addr_eq(&rt.addr, &before.addr));
	assert_int_equal(rt.n_addrs, 1);
	assert_true(rt.has_addr && rt.carrier && rt.present);
	/* and comes back */
	addr_ev(v, UL_KEV_ADDR, 5, "192.168.1.10/24");
	assert_null(ul_view_link_rt(v, &c->links[0], &rt));
	assert_true(ul_addr_eq(&rt.addr, &own));
	assert_true(ul_addr_eq(&rt.addrs[1], &vip));
}

/* gateway = "auto": the lowest metric default route of the interface; a deleted
 * interface takes its routes along. */
static void learned_gateway(void **state)
{
	struct ul_link_rt rt = { 0 };
	struct ul_addr g1 = addr("10.9.0.1"), g2 = addr("10.9.0.254");

	link_ev(v, UL_KEV_LINK, 6, "wan2", UP);
	addr_ev(v, UL_KEV_ADDR, 6, "10.9.0.2/24");
	ul_view_link_rt(v, &c->links[1], &rt);
	assert_false(rt.has_gw);
	route_ev(v, UL_KEV_ROUTE, 6, "10.9.0.1", 10);
	assert_true(v->gw_dirty);
	route_ev(v, UL_KEV_ROUTE, 6, "10.9.0.254", 5);
	route_ev(v, UL_KEV_ROUTE, 6, NULL, 1);          /* no gateway: ignored */
	route_ev(v, UL_KEV_ROUTE, 7, "10.8.0.1", 1);    /* another interface */
	ul_view_link_rt(v, &c->links[1], &rt);
	assert_true(rt.has_gw);
	assert_true(ul_addr_eq(&rt.gw, &g2));
	route_ev(v, UL_KEV_ROUTE_DEL, 6, "10.9.0.254", 5);
	ul_view_link_rt(v, &c->links[1], &rt);
	assert_true(ul_addr_eq(&rt.gw, &g1));
	assert_int_equal(v->n_gws, 2);
	link_ev(v, UL_KEV_LINK_DEL, 6, "wan2", 0);
	assert_int_equal(v->n_gws, 1);
	assert_null(ul_view_gateway(v, 6));
	assert_string_equal(ul_view_link_rt(v, &c->links[1], &rt), "interface removed");
	assert_false(rt.has_gw);
}

/* Nothing the kernel reports is dropped for want of room (1.0 stopped at 256 interfaces,
 * 8 addresses and 64 default routes): 1,000 interfaces, 40 addresses on the link's one,
 * 100 default routes; the link still finds its own, and deletions shrink the lists. */
static void no_limits(void **state)
{
	struct ul_link_rt rt;
	char a[32];

	for (int i = 1; i <= 1000; i++) {
		char name[IFNAMSIZ];

		snprintf(name, sizeof(name), "x%d", i);
		link_ev(v, UL_KEV_LINK, 100 + i, name, UP);
	}
	link_ev(v, UL_KEV_LINK, 5000, "wan1", UP);
	for (int i = 1; i <= 40; i++) {
		snprintf(a, sizeof(a), "192.168.1.%d/24", i + 1);
		addr_ev(v, UL_KEV_ADDR, 5000, a);
	}
	for (int i = 1; i <= 100; i++) {
		snprintf(a, sizeof(a), "192.168.1.%d", 200 + (i % 50));
		route_ev(v, UL_KEV_ROUTE, 100 + i, a, (uint32_t)i);
	}
	route_ev(v, UL_KEV_ROUTE, 5000, "192.168.1.1", 7);
	assert_int_equal(v->n_ifs, 1001);
	assert_int_equal(v->n_gws, 101);
	assert_int_equal(v->lost, 0);
	assert_non_null(ul_view_if_by_name(v, "x1000"));
	assert_int_equal(ul_view_if_by_name(v, "wan1")->n_addrs, 40);
	memset(&rt, 0, sizeof(rt));
	assert_null(ul_view_link_rt(v, &c->links[0], &rt));
	assert_int_equal(rt.ifindex, 5000);
	for (int i = 1; i <= 40; i++) {
		snprintf(a, sizeof(a), "192.168.1.%d/24", i + 1);
		addr_ev(v, UL_KEV_ADDR_DEL, 5000, a);
	}
	assert_int_equal(ul_view_if_by_name(v, "wan1")->n_addrs, 0);
	link_ev(v, UL_KEV_LINK_DEL, 101, "x1", 0);
	assert_int_equal(v->n_ifs, 1000);
	assert_int_equal(v->n_gws, 100);        /* its default route went with it */
	ul_view_free(v);
	assert_int_equal(v->n_ifs, 0);
}

TK_MAIN_EACH(setup, teardown, absent_interface, down_reasons, addresses_in_order,
	     shared_address, learned_gateway, no_limits)
