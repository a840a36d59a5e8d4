// SPDX-License-Identifier: GPL-2.0-or-later
/* The planner: config + link states -> routes, rules, ruleset. */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "config.h"
#include "plan.h"
#include "tk.h"

static const char *LINKS3 =
	"lan = { interfaces = [ \"lan0\" ]; networks = [ \"10.0.0.0/24\" ]; };\n"
	"links = (\n"
	" { name = \"isp1\"; interface = \"wan1\"; gateway = \"192.168.1.1\"; weight = 30; },\n"
	" { name = \"isp2\"; interface = \"wan2\"; gateway = \"192.168.2.1\"; weight = 70; },\n"
	" { name = \"isp3\"; interface = \"wan3\"; gateway = \"192.168.3.1\"; tier = 2; }\n"
	");\n";

/* Link i: ifindex 10+i, address 192.168.(i+1).2, state as given. */
static void rts(const struct ul_config *c, struct ul_link_rt *rt, const enum ul_state *st)
{
	for (size_t i = 0; i < c->n_links; i++) {
		uint8_t a[4] = { 192, 168, (uint8_t)(i + 1), 2 };

		memset(&rt[i], 0, sizeof(rt[i]));
		rt[i].state = st[i];
		rt[i].present = rt[i].carrier = rt[i].has_addr = true;
		rt[i].ifindex = 10 + (int)i;
		ul_addr_from_raw(&rt[i].addr, AF_INET, a);
		if (c->links[i].gw_mode == UL_GW_STATIC) {
			rt[i].has_gw = true;
			rt[i].gw = c->links[i].gateway;
		}
	}
}

/* A gateway pair: the same config on both nodes, each link translating to its shared
 * address (present on the master only). */
static const char *PAIR =
	"lan = { interfaces = [ \"lan0\" ]; networks = [ \"10.0.0.0/24\" ]; };\n"
	"links = (\n"
	" { name = \"isp1\"; interface = \"wan1\"; gateway = \"192.168.1.1\"; snat = \"192.168.1.10\"; },\n"
	" { name = \"isp2\"; interface = \"wan2\"; gateway = \"192.168.2.1\"; snat = \"192.168.2.10\"; },\n"
	" { name = \"isp3\"; interface = \"wan3\"; gateway = \"192.168.3.1\"; }\n"
	");\n";

/* An interface address as the kernel reports it: "192.168.1.10/24" (host bits set). */
static void addr(struct ul_addr *a, const char *s)
{
	char host[UL_ADDR_STRLEN];
	const char *slash = strchr(s, '/');

	snprintf(host, sizeof(host), "%.*s", slash ? (int)(slash - s) : (int)strlen(s), s);
	assert_int_equal(ul_addr_parse(host, false, a), 0);
	if (slash)
		a->plen = (uint8_t)atoi(slash + 1);
}

static void pair_addresses(void **state)
{
	struct ul_config *c = tk_config(PAIR);
	struct ul_link_rt rt;
	struct ul_addr a[6];
	char b[UL_ADDR_STRLEN];

	/* the shared address first (keepalived added it before a restart read the list):
	 * the node's own address is still the one probes leave from */
	addr(&a[0], "192.168.1.10/24");
	addr(&a[1], "192.168.1.3/24");
	memset(&rt, 0xa5, sizeof(rt));
	ul_link_rt_set_addrs(&rt, &c->links[0], a, 2);
	assert_true(rt.has_addr);
	assert_int_equal(rt.n_addrs, 2);
	assert_string_equal(ul_addr_format(&rt.addr, b, sizeof(b)), "192.168.1.3");
	assert_string_equal(ul_addr_format(&rt.addrs[0], b, sizeof(b)), "192.168.1.10");
	assert_string_equal(ul_addr_format(&rt.addrs[1], b, sizeof(b)), "192.168.1.3");
	assert_int_equal(rt.addrs[2].family, 0);

	/* only the shared address (a node without one of its own): better than nothing */
	ul_link_rt_set_addrs(&rt, &c->links[0], a, 1);
	assert_string_equal(ul_addr_format(&rt.addr, b, sizeof(b)), "192.168.1.10");

	/* without snat the first is the own one; IPv6 and duplicates are skipped; at most
	 * UL_LINK_MAX_ADDRS */
	addr(&a[0], "192.168.3.2/24");
	addr(&a[1], "2001:db8::2/64");
	addr(&a[2], "192.168.3.2/24");
	addr(&a[3], "192.168.3.5/32");
	addr(&a[4], "192.168.3.6/24");
	addr(&a[5], "192.168.3.7/24");
	ul_link_rt_set_addrs(&rt, &c->links[2], a, 6);
	assert_int_equal(rt.n_addrs, 4);
	assert_string_equal(ul_addr_format(&rt.addr, b, sizeof(b)), "192.168.3.2");
	assert_string_equal(ul_addr_format(&rt.addrs[1], b, sizeof(b)), "192.168.3.5");
	assert_string_equal(ul_addr_format(&rt.addrs[3], b, sizeof(b)), "192.168.3.7");

	ul_link_rt_set_addrs(&rt, &c->links[2], NULL, 0);
	assert_false(rt.has_addr);
	assert_int_equal(rt.n_addrs, 0);
	assert_int_equal(rt.addr.family, 0);
	ul_config_free(c);
}

static void pair_plan(void **state)
{
	struct ul_config *c = tk_config(PAIR);
	enum ul_state st[] = { UL_ST_UP, UL_ST_UP, UL_ST_UP };
	struct ul_link_rt rt[3], backup[3];
	struct ul_plan p, q;
	struct ul_addr a[2];
	const char *t;
	char *pt;

	rts(c, rt, st);
	memcpy(backup, rt, sizeof(rt));
	/* the master holds the shared addresses of isp1 and isp2 */
	addr(&a[0], "192.168.1.2/24");
	addr(&a[1], "192.168.1.10/24");
	ul_link_rt_set_addrs(&rt[0], &c->links[0], a, 2);
	addr(&a[0], "192.168.2.10/24");
	addr(&a[1], "192.168.2.2/24");
	ul_link_rt_set_addrs(&rt[1], &c->links[1], a, 2);
	assert_int_equal(ul_plan_build(c, rt, &p), 0);
	/* replies from either address use the link's table */
	assert_string_equal(tk_rules_text(&p, 0),
			    "1000: from all lookup main suppress_prefixlength 0\n"
			    "1001: from 192.168.1.2 lookup 201\n"
			    "1001: from 192.168.1.10 lookup 201\n"
			    "1002: from 192.168.2.10 lookup 202\n"
			    "1002: from 192.168.2.2 lookup 202\n"
			    "1003: from 192.168.3.2 lookup 203\n"
			    "1010: from all fwmark 0x100/0xff00 lookup 201\n"
			    "1011: from all fwmark 0x200/0xff00 lookup 202\n"
			    "1012: from all fwmark 0x300/0xff00 lookup 203\n"
			    "1099: from all lookup 250\n");
	t = tk_ruleset_text(&p.nft);
	/* the LAN's connections to the shared address, never the router's own (probes);
	 * a link without snat masquerades */
	assert_non_null(strstr(t, "oifname \"wan1\" meta nfproto ipv4 ip saddr @lan_nets4 "
				  "snat ip to 192.168.1.10 comment \"snat isp1\""));
	assert_non_null(strstr(t, "oifname \"wan2\" meta nfproto ipv4 ip saddr @lan_nets4 "
				  "snat ip to 192.168.2.10 comment \"snat isp2\""));
	assert_null(strstr(t, "oifname \"wan1\" masquerade"));
	assert_null(strstr(t, "oifname \"wan2\" masquerade"));
	assert_non_null(strstr(t, "oifname \"wan3\" masquerade"));

	/* the backup (no shared address) plans the same ruleset and the same marks: a
	 * connection synced from the master keeps its link and its translation */
	pt = strdup(t);
	assert_non_null(pt);
	assert_int_equal(ul_plan_build(c, backup, &q), 0);
	assert_string_equal(tk_ruleset_text(&q.nft), pt);
	free(pt);
	assert_null(strstr(tk_rules_text(&q, 0), "192.168.1.10"));
	assert_int_equal(q.active, p.active);
	assert_int_equal(q.carrying, p.carrying);
	ul_plan_free(&q);
	ul_plan_free(&p);
	ul_config_free(c);

	/* LAN known by its interfaces only */
	c = tk_config("lan = { interfaces = [ \"lan0\", \"lan1\" ]; };\n"
		 "links = ( { name = \"isp1\"; interface = \"wan1\"; gateway = \"192.168.1.1\";"
		 " snat = \"192.168.1.10\"; } );\n");
	rts(c, rt, st);
	assert_int_equal(ul_plan_build(c, rt, &p), 0);
	assert_non_null(strstr(tk_ruleset_text(&p.nft), "oifname \"wan1\" iifname @lan_ifs meta nfproto ipv4 "
					     "snat ip to 192.168.1.10"));
	ul_plan_free(&p);
	ul_config_free(c);
}

static void all_up_weighted(void **state)
{
	struct ul_config *c = tk_config(LINKS3);
	enum ul_state st[] = { UL_ST_UP, UL_ST_UP, UL_ST_UP };
	struct ul_link_rt rt[3];
	struct ul_plan p;

	rts(c, rt, st);
	assert_int_equal(ul_plan_build(c, rt, &p), 0);
	assert_string_equal(tk_routes_text(&p, 0),
			    "default via 192.168.1.1 dev wan1 table 201\n"
			    "default via 192.168.2.1 dev wan2 table 202\n"
			    "default via 192.168.3.1 dev wan3 table 203\n"
			    "default nexthop via 192.168.1.1 dev wan1 weight 30"
			    " nexthop via 192.168.2.1 dev wan2 weight 70 table 250\n");
	assert_string_equal(tk_rules_text(&p, 0),
			    "1000: from all lookup main suppress_prefixlength 0\n"
			    "1001: from 192.168.1.2 lookup 201\n"
			    "1002: from 192.168.2.2 lookup 202\n"
			    "1003: from 192.168.3.2 lookup 203\n"
			    "1010: from all fwmark 0x100/0xff00 lookup 201\n"
			    "1011: from all fwmark 0x200/0xff00 lookup 202\n"
			    "1012: from all fwmark 0x300/0xff00 lookup 203\n"
			    "1099: from all lookup 250\n");
	assert_int_equal(p.active, 0x3);
	assert_int_equal(p.usable, 0x7);
	assert_false(p.last_resort);
	ul_plan_free(&p);
	ul_config_free(c);
}

static void failover_and_tiers(void **state)
{
	struct ul_config *c = tk_config(LINKS3);
	enum ul_state one_down[] = { UL_ST_DOWN, UL_ST_UP, UL_ST_UP };
	enum ul_state tier1_down[] = { UL_ST_DOWN, UL_ST_DISABLED, UL_ST_UP };
	struct ul_link_rt rt[3];
	struct ul_plan p;

	rts(c, rt, one_down);
	assert_int_equal(ul_plan_build(c, rt, &p), 0);
	assert_int_equal(p.active, 0x2);
	/* a single path carries weight 1; the dead link keeps its table (probes, router
	 * traffic from its address) but loses its fwmark rule */
	assert_non_null(strstr(tk_routes_text(&p, 0), "default via 192.168.2.1 dev wan2 table 250\n"));
	assert_null(strstr(tk_rules_text(&p, 0), "fwmark 0x100/0xff00"));
	assert_non_null(strstr(tk_rules_text(&p, 0), "1001: from 192.168.1.2 lookup 201"));
	ul_plan_free(&p);

	rts(c, rt, tier1_down);
	assert_int_equal(ul_plan_build(c, rt, &p), 0);
	assert_int_equal(p.active, 0x4);
	/* disabled for maintenance: no new connections, the established ones drain */
	assert_int_equal(p.carrying, 0x6);
	assert_non_null(strstr(tk_rules_text(&p, 0), "fwmark 0x200/0xff00 lookup 202"));
	assert_null(strstr(tk_rules_text(&p, 0), "fwmark 0x100/0xff00 lookup 201"));
	assert_non_null(strstr(tk_routes_text(&p, 0), "default via 192.168.3.1 dev wan3 table 250\n"));
	ul_plan_free(&p);
	ul_config_free(c);
}

static void degraded_only_when_nothing_is_up(void **state)
{
	struct ul_config *c = tk_config(LINKS3);
	enum ul_state a[] = { UL_ST_DEGRADED, UL_ST_UP, UL_ST_UP };
	enum ul_state b[] = { UL_ST_DEGRADED, UL_ST_DEGRADED, UL_ST_DOWN };
	enum ul_state d[] = { UL_ST_DEGRADED, UL_ST_DOWN, UL_ST_UP };
	struct ul_link_rt rt[3];
	struct ul_plan p;

	rts(c, rt, a);
	assert_int_equal(ul_plan_build(c, rt, &p), 0);
	assert_int_equal(p.active, 0x2);
	ul_plan_free(&p);
	rts(c, rt, b);
	assert_int_equal(ul_plan_build(c, rt, &p), 0);
	assert_int_equal(p.active, 0x3);
	ul_plan_free(&p);
	/* an up backup beats a degraded primary */
	rts(c, rt, d);
	assert_int_equal(ul_plan_build(c, rt, &p), 0);
	assert_int_equal(p.active, 0x4);
	ul_plan_free(&p);
	ul_config_free(c);
}

static void last_resort_at_start(void **state)
{
	struct ul_config *c = tk_config(LINKS3);
	enum ul_state st[] = { UL_ST_INIT, UL_ST_INIT, UL_ST_INIT };
	struct ul_link_rt rt[3];
	struct ul_plan p;

	rts(c, rt, st);
	rt[1].carrier = false;
	assert_int_equal(ul_plan_build(c, rt, &p), 0);
	assert_true(p.last_resort);
	assert_int_equal(p.active, 0x1);        /* tier 1 links with carrier */
	assert_int_equal(p.usable, 0);
	/* marks of active links route by their table, so connections made now stay put */
	assert_non_null(strstr(tk_rules_text(&p, 0), "fwmark 0x100/0xff00 lookup 201"));
	ul_plan_free(&p);
	ul_config_free(c);
}

static void not_routable_links(void **state)
{
	struct ul_config *c = tk_config(
		"links = (\n"
		" { name = \"dsl\"; interface = \"ppp0\"; },\n"
		" { name = \"cable\"; interface = \"wan2\"; gateway = \"auto\"; }\n"
		");\n");
	enum ul_state st[] = { UL_ST_UP, UL_ST_UP };
	struct ul_link_rt rt[2];
	struct ul_plan p;

	rts(c, rt, st);
	assert_int_equal(ul_plan_build(c, rt, &p), 0);
	/* no gateway learned yet: cable has no route; ppp0 is point-to-point */
	assert_string_equal(tk_routes_text(&p, 0), "default dev ppp0 table 201\n"
					     "default dev ppp0 table 250\n");
	assert_int_equal(p.active, 0x1);
	ul_plan_free(&p);

	rt[1].has_gw = true;
	assert_int_equal(ul_addr_parse("192.168.2.254", false, &rt[1].gw), 0);
	assert_int_equal(ul_plan_build(c, rt, &p), 0);
	assert_non_null(strstr(tk_routes_text(&p, 0), "default via 192.168.2.254 dev wan2 table 202\n"));
	assert_non_null(strstr(tk_routes_text(&p, 0), "nexthop dev ppp0 weight 1 nexthop via "
						"192.168.2.254 dev wan2 weight 1 table 250"));
	ul_plan_free(&p);
	ul_config_free(c);
}

static void ruleset_core(void **state)
{
	struct ul_config *c = tk_config(LINKS3);
	enum ul_state st[] = { UL_ST_UP, UL_ST_UP, UL_ST_UP };
	struct ul_link_rt rt[3];
	struct ul_plan p;
	const char *t;

	rts(c, rt, st);
	assert_int_equal(ul_plan_build(c, rt, &p), 0);
	t = tk_ruleset_text(&p.nft);
	assert_non_null(strstr(t, "chain pre {"));
	assert_non_null(strstr(t, "type filter hook prerouting priority -150;"));
	assert_non_null(strstr(t, "type route hook output priority -150;"));
	assert_non_null(strstr(t, "type nat hook postrouting priority 100;"));
	/* inbound connections take the link they arrived on */
	assert_non_null(strstr(t, "iifname \"wan2\" ct state new ct mark set ct mark & 0xffff00ff"
				  " | 0x00000200"));
	/* restore */
	assert_non_null(strstr(t, "ct mark & 0x0000ff00 == 0x00000300 meta mark set meta mark"
				  " & 0xffff00ff | 0x00000300 return"));
	/* record the link of new connections by their output interface */
	assert_non_null(strstr(t, "ct state new ct mark & 0x0000ff00 == 0x00000000 oifname "
				  "\"wan1\" ct mark set ct mark & 0xffff00ff | 0x00000100"));
	assert_non_null(strstr(t, "oifname \"wan3\" masquerade"));
	/* no rules, no sticky: no policy jump, no sets of them */
	assert_null(strstr(t, "jump pick"));
	assert_null(strstr(t, "sticky_"));
	ul_plan_free(&p);
	ul_config_free(c);
}

static void policy_rules(void **state)
{
	char *text;
	struct ul_config *c;
	enum ul_state st[] = { UL_ST_UP, UL_ST_DOWN, UL_ST_UP };
	struct ul_link_rt rt[3];
	struct ul_plan p;
	const char *t, *a, *b;

	assert_true(asprintf(&text, "%s%s", LINKS3,
		"rules = (\n"
		" { name = \"mail\"; proto = \"tcp\"; dst_port = ( 25, \"993-995\" );"
		"   via = [ \"isp2\", \"isp1\" ]; },\n"
		" { name = \"bank\"; dst = [ \"198.51.100.0/24\" ]; via = [ \"isp2\" ];"
		"   fallback = \"drop\"; },\n"
		" { name = \"office\"; src = [ \"10.0.1.0/24\" ]; via = [ \"isp2\" ]; },\n"
		" { name = \"local\"; dst = [ \"172.16.0.0/12\" ]; }\n"
		");\n") > 0);
	c = tk_config(text);
	free(text);
	rts(c, rt, st);
	assert_int_equal(ul_plan_build(c, rt, &p), 0);
	t = tk_ruleset_text(&p.nft);
	/* first match wins: the order of the config */
	a = strstr(t, "comment \"rule mail\"");
	b = strstr(t, "comment \"rule bank\"");
	assert_non_null(a);
	assert_non_null(b);
	assert_true(a < b);
	assert_true(b < strstr(t, "comment \"rule office\""));
	/* isp2 is down: mail falls to isp1, bank drops, office balances */
	assert_non_null(strstr(t, "meta l4proto tcp th dport @r_mail_dport meta mark set meta mark"
				  " & 0xffff00ff | 0x00000100 return"));
	assert_non_null(strstr(t, "ip daddr @r_bank_dst4 meta mark set meta mark & 0xffff00ff | "
				  "0x00000e00 return"));
	assert_non_null(strstr(t, "ip saddr @r_office_src4 return comment \"rule office\""));
	assert_non_null(strstr(t, "meta mark & 0x0000ff00 == 0x00000e00 oifname @link_ifs drop"));
	/* exclusion: main table */
	assert_non_null(strstr(t, "ip daddr @r_local_dst4 ct mark set ct mark & 0xffff00ff | "
				  "0x00000f00 meta mark set meta mark & 0xffff00ff | 0x00000f00"));
	assert_non_null(strstr(tk_rules_text(&p, 0), "1020: from all fwmark 0xf00/0xff00 lookup main\n"));
	assert_non_null(strstr(t, "set r_mail_dport {"));
	assert_non_null(strstr(t, "jump pick"));
	ul_plan_free(&p);

	/* isp2 back: both pinned rules choose it */
	st[1] = UL_ST_UP;
	rts(c, rt, st);
	assert_int_equal(ul_plan_build(c, rt, &p), 0);
	t = tk_ruleset_text(&p.nft);
	assert_non_null(strstr(t, "th dport @r_mail_dport meta mark set meta mark & 0xffff00ff | "
				  "0x00000200 return"));
	assert_non_null(strstr(t, "ip daddr @r_bank_dst4 meta mark set meta mark & 0xffff00ff | "
				  "0x00000200 return"));
	ul_plan_free(&p);
	ul_config_free(c);
}

static void sticky_sets(void **state)
{
	char *text;
	struct ul_config *c;
	enum ul_state st[] = { UL_ST_UP, UL_ST_DOWN, UL_ST_UP };
	struct ul_link_rt rt[3];
	struct ul_plan p;
	const struct ul_set *s;
	const char *t;

	assert_true(asprintf(&text, "%s%s", LINKS3,
			     "sticky = { by = \"source\"; timeout_s = 300; };\n") > 0);
	c = tk_config(text);
	free(text);
	rts(c, rt, st);
	assert_int_equal(ul_plan_build(c, rt, &p), 0);
	s = ul_ruleset_find_set(&p.nft, "sticky_isp1");
	assert_non_null(s);
	assert_true(s->dynamic);
	assert_int_equal(s->timeout_ms, 300000);
	assert_false(s->flush);
	s = ul_ruleset_find_set(&p.nft, "sticky_isp2");
	assert_non_null(s);
	assert_true(s->flush);          /* down: its sources must pick a live link */
	assert_true(ul_ruleset_find_set(&p.nft, "sticky_isp3")->flush);  /* backup, idle */
	t = tk_ruleset_text(&p.nft);
	assert_non_null(strstr(t, "ip saddr @sticky_isp1 meta mark set meta mark & 0xffff00ff | "
				  "0x00000100 update @sticky_isp1 { ip saddr } return"));
	assert_null(strstr(t, "ip saddr @sticky_isp2"));
	ul_plan_free(&p);
	ul_config_free(c);
}

static void port_forwards(void **state)
{
	char *text;
	struct ul_config *c;
	enum ul_state st[] = { UL_ST_UP, UL_ST_UP, UL_ST_UP };
	struct ul_link_rt rt[3];
	struct ul_plan p;
	const char *t;

	assert_true(asprintf(&text, "%s%s", LINKS3,
		"port_forwards = ( { name = \"web\"; proto = \"tcp\"; port = 8080;"
		" to = \"10.0.0.5:80\"; links = [ \"isp1\", \"isp3\" ]; } );\n") > 0);
	c = tk_config(text);
	free(text);
	rts(c, rt, st);
	assert_int_equal(ul_plan_build(c, rt, &p), 0);
	t = tk_ruleset_text(&p.nft);
	assert_non_null(strstr(t, "type nat hook prerouting priority -100;"));
	assert_non_null(strstr(t, "iifname \"wan1\" meta l4proto tcp th dport 8080 dnat ip to "
				  "10.0.0.5:80"));
	assert_non_null(strstr(t, "iifname \"wan3\" meta l4proto tcp th dport 8080 dnat ip to "
				  "10.0.0.5:80"));
	assert_null(strstr(t, "iifname \"wan2\" meta l4proto tcp th dport 8080"));
	ul_plan_free(&p);
	ul_config_free(c);
}

static void mark_mask_from_config(void **state)
{
	char *text;
	struct ul_config *c;
	enum ul_state st[] = { UL_ST_UP, UL_ST_UP, UL_ST_UP };
	struct ul_link_rt rt[3];
	struct ul_plan p;

	assert_true(asprintf(&text, "daemon = { mark_mask = 0xf0000; rule_priority = 2000;"
				    " balance_table = 99; };\n%s", LINKS3) > 0);
	c = tk_config(text);
	free(text);
	assert_int_equal(ul_link_mark(c, 0), 0x10000);
	assert_int_equal(ul_exclude_mark(c), 0xf0000);
	rts(c, rt, st);
	assert_int_equal(ul_plan_build(c, rt, &p), 0);
	assert_non_null(strstr(tk_rules_text(&p, 0), "2011: from all fwmark 0x20000/0xf0000 lookup 202"));
	assert_non_null(strstr(tk_rules_text(&p, 0), "2099: from all lookup 99\n"));
	assert_non_null(strstr(tk_ruleset_text(&p.nft), "ct mark set ct mark & 0xfff0ffff | 0x00030000"));
	ul_plan_free(&p);
	ul_config_free(c);
}

static void ten_thousand_prefixes(void **state)
{
	size_t cap = 400000, off = 0;
	char *text = malloc(cap);
	struct ul_config *c;
	enum ul_state st[] = { UL_ST_UP, UL_ST_UP, UL_ST_UP };
	struct ul_link_rt rt[3];
	struct ul_plan p;
	const struct ul_set *s;
	struct timespec t0, t1;

	assert_non_null(text);
	off += (size_t)snprintf(text + off, cap - off, "%srules = ( { name = \"many\"; dst = [",
				LINKS3);
	for (int i = 0; i < 10000; i++)
		off += (size_t)snprintf(text + off, cap - off, "%s\"10.%d.%d.0/24\"", i ? "," : "",
					64 + i / 256, i % 256);
	snprintf(text + off, cap - off, " ]; via = [ \"isp1\" ]; } );\n");
	c = tk_config(text);
	free(text);
	rts(c, rt, st);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(ul_plan_build(c, rt, &p), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	s = ul_ruleset_find_set(&p.nft, "r_many_dst4");
	assert_non_null(s);
	assert_int_equal(s->n_elems, 10000);
	/* one set, one rule: the policy chain has exactly one rule */
	assert_int_equal(ul_ruleset_find_chain(&p.nft, "pick")->n_rules, 1);
	print_message("planning 10000 prefixes: %.2f ms\n",
		      (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6);
	ul_plan_free(&p);
	ul_config_free(c);
}

TK_MAIN(NULL, NULL, all_up_weighted, failover_and_tiers, degraded_only_when_nothing_is_up,
	last_resort_at_start, not_routable_links, ruleset_core, policy_rules, sticky_sets,
	port_forwards, mark_mask_from_config, ten_thousand_prefixes, pair_addresses, pair_plan)
