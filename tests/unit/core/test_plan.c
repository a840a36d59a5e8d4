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

#define LINKS3 \
	"lan = { interfaces = [ \"lan0\" ]; networks = [ \"10.0.0.0/24\" ]; };\n" \
	"links = (\n" \
	" { name = \"isp1\"; interface = \"wan1\"; gateway = \"192.168.1.1\"; weight = 30; },\n" \
	" { name = \"isp2\"; interface = \"wan2\"; gateway = \"192.168.2.1\"; weight = 70; },\n" \
	" { name = \"isp3\"; interface = \"wan3\"; gateway = \"192.168.3.1\"; tier = 2; }\n" \
	");\n"

/* after LINKS3: pinned rules, a drop fallback, a source rule, an exclusion */
#define POLICY \
	"rules = (\n" \
	" { name = \"mail\"; proto = \"tcp\"; dst_port = ( 25, \"993-995\" );" \
	"   via = [ \"isp2\", \"isp1\" ]; },\n" \
	" { name = \"bank\"; dst = [ \"198.51.100.0/24\" ]; via = [ \"isp2\" ];" \
	"   fallback = \"drop\"; },\n" \
	" { name = \"office\"; src = [ \"10.0.1.0/24\" ]; via = [ \"isp2\" ]; },\n" \
	" { name = \"local\"; dst = [ \"172.16.0.0/12\" ]; }\n" \
	");\n"

/* before LINKS3: another mark mask, rule priority and balance table */
#define MARK_MASK \
	"daemon = { mark_mask = 0xf0000; rule_priority = 2000; balance_table = 99; };\n"

/* a point-to-point link and one whose gateway is learned */
#define NOT_ROUTABLE \
	"links = (\n" \
	" { name = \"dsl\"; interface = \"ppp0\"; },\n" \
	" { name = \"cable\"; interface = \"wan2\"; gateway = \"auto\"; }\n" \
	");\n"

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

	tk_link_rts(c, rt, st, NULL);
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
	/* a LAN known by its interfaces only: case "pair_plan: LAN by its interfaces" */
}

/* LINKS3 all up, one down, the first tier down or degraded; links without a gateway or
 * carrier; the ruleset and the policy it carries */
static const struct tk_plan_case cases[] = {
	{ "all_up_weighted", LINKS3, { UL_ST_UP, UL_ST_UP, UL_ST_UP }, .want = {
		{ TK_ROUTES, TK_EQ, { "default via 192.168.1.1 dev wan1 table 201\n"
				      "default via 192.168.2.1 dev wan2 table 202\n"
				      "default via 192.168.3.1 dev wan3 table 203\n"
				      "default nexthop via 192.168.1.1 dev wan1 weight 30"
				      " nexthop via 192.168.2.1 dev wan2 weight 70 table 250\n" } },
		{ TK_RULES, TK_EQ, { "1000: from all lookup main suppress_prefixlength 0\n"
				     "1001: from 192.168.1.2 lookup 201\n"
				     "1002: from 192.168.2.2 lookup 202\n"
				     "1003: from 192.168.3.2 lookup 203\n"
				     "1010: from all fwmark 0x100/0xff00 lookup 201\n"
				     "1011: from all fwmark 0x200/0xff00 lookup 202\n"
				     "1012: from all fwmark 0x300/0xff00 lookup 203\n"
				     "1099: from all lookup 250\n" } },
		{ TK_STATE, TK_LINES, { "active=0x3", "usable=0x7", "last_resort=0" } } } },
	/* a single path carries weight 1; the dead link keeps its table (probes, router
	 * traffic from its address) but loses its fwmark rule */
	{ "failover_and_tiers: one down", LINKS3, { UL_ST_DOWN, UL_ST_UP, UL_ST_UP }, .want = {
		{ TK_STATE, TK_LINES, { "active=0x2" } },
		{ TK_ROUTES, TK_HAS, { "default via 192.168.2.1 dev wan2 table 250\n" } },
		{ TK_RULES, TK_LACKS, { "fwmark 0x100/0xff00" } },
		{ TK_RULES, TK_HAS, { "1001: from 192.168.1.2 lookup 201" } } } },
	/* disabled for maintenance: no new connections, the established ones drain */
	{ "failover_and_tiers: tier 1 down", LINKS3, { UL_ST_DOWN, UL_ST_DISABLED, UL_ST_UP },
	  .want = {
		{ TK_STATE, TK_LINES, { "active=0x4", "carrying=0x6" } },
		{ TK_RULES, TK_HAS, { "fwmark 0x200/0xff00 lookup 202" } },
		{ TK_RULES, TK_LACKS, { "fwmark 0x100/0xff00 lookup 201" } },
		{ TK_ROUTES, TK_HAS, { "default via 192.168.3.1 dev wan3 table 250\n" } } } },
	{ "degraded_only_when_nothing_is_up: a", LINKS3, { UL_ST_DEGRADED, UL_ST_UP, UL_ST_UP },
	  .want = { { TK_STATE, TK_LINES, { "active=0x2" } } } },
	{ "degraded_only_when_nothing_is_up: b", LINKS3,
	  { UL_ST_DEGRADED, UL_ST_DEGRADED, UL_ST_DOWN },
	  .want = { { TK_STATE, TK_LINES, { "active=0x3" } } } },
	/* an up backup beats a degraded primary */
	{ "degraded_only_when_nothing_is_up: d", LINKS3, { UL_ST_DEGRADED, UL_ST_DOWN, UL_ST_UP },
	  .want = { { TK_STATE, TK_LINES, { "active=0x4" } } } },
	/* active: tier 1 links with carrier; marks of active links route by their table, so
	 * connections made now stay put */
	{ "last_resort_at_start", LINKS3, { UL_ST_INIT, UL_ST_INIT, UL_ST_INIT },
	  .no_carrier = 0x2, .want = {
		{ TK_STATE, TK_LINES, { "last_resort=1", "active=0x1", "usable=0x0" } },
		{ TK_RULES, TK_HAS, { "fwmark 0x100/0xff00 lookup 201" } } } },
	/* no gateway learned yet: cable has no route; ppp0 is point-to-point */
	{ "not_routable_links", NOT_ROUTABLE, { UL_ST_UP, UL_ST_UP }, .want = {
		{ TK_ROUTES, TK_EQ, { "default dev ppp0 table 201\ndefault dev ppp0 table 250\n" } },
		{ TK_STATE, TK_LINES, { "active=0x1" } } } },
	{ "not_routable_links: gateway learned", NOT_ROUTABLE, { UL_ST_UP, UL_ST_UP },
	  .gw = { NULL, "192.168.2.254" }, .want = {
		{ TK_ROUTES, TK_HAS, { "default via 192.168.2.254 dev wan2 table 202\n",
				       "nexthop dev ppp0 weight 1 nexthop via "
				       "192.168.2.254 dev wan2 weight 1 table 250" } } } },
	/* the hooks; inbound connections take the link they arrived on; restore; record the
	 * link of new connections by their output interface; no rules, no sticky: no policy
	 * jump, no sets of them */
	{ "ruleset_core", LINKS3, { UL_ST_UP, UL_ST_UP, UL_ST_UP }, .want = {
		{ TK_NFT, TK_HAS, {
			"chain pre {",
			"type filter hook prerouting priority -150;",
			"type route hook output priority -150;",
			"type nat hook postrouting priority 100;",
			"iifname \"wan2\" ct state new ct mark set ct mark & 0xffff00ff"
			" | 0x00000200",
			"ct mark & 0x0000ff00 == 0x00000300 meta mark set meta mark"
			" & 0xffff00ff | 0x00000300 return",
			"ct state new ct mark & 0x0000ff00 == 0x00000000 oifname "
			"\"wan1\" ct mark set ct mark & 0xffff00ff | 0x00000100",
			"oifname \"wan3\" masquerade" } },
		{ TK_NFT, TK_LACKS, { "jump pick", "sticky_" } } } },
	/* first match wins: the order of the config; isp2 is down: mail falls to isp1, bank
	 * drops, office balances; the exclusion takes the main table */
	{ "policy_rules: isp2 down", LINKS3 POLICY, { UL_ST_UP, UL_ST_DOWN, UL_ST_UP }, .want = {
		{ TK_NFT, TK_ORDER, { "comment \"rule mail\"", "comment \"rule bank\"",
				      "comment \"rule office\"" } },
		{ TK_NFT, TK_HAS, {
			"meta l4proto tcp th dport @r_mail_dport meta mark set meta mark"
			" & 0xffff00ff | 0x00000100 return",
			"ip daddr @r_bank_dst4 meta mark set meta mark & 0xffff00ff | "
			"0x00000e00 return",
			"ip saddr @r_office_src4 return comment \"rule office\"",
			"meta mark & 0x0000ff00 == 0x00000e00 oifname @link_ifs drop",
			"ip daddr @r_local_dst4 ct mark set ct mark & 0xffff00ff | "
			"0x00000f00 meta mark set meta mark & 0xffff00ff | 0x00000f00",
			"set r_mail_dport {",
			"jump pick" } },
		{ TK_RULES, TK_HAS, { "1020: from all fwmark 0xf00/0xff00 lookup main\n" } } } },
	/* isp2 back: both pinned rules choose it */
	{ "policy_rules: isp2 back", LINKS3 POLICY, { UL_ST_UP, UL_ST_UP, UL_ST_UP }, .want = {
		{ TK_NFT, TK_HAS, { "th dport @r_mail_dport meta mark set meta mark & 0xffff00ff | "
				    "0x00000200 return",
				    "ip daddr @r_bank_dst4 meta mark set meta mark & 0xffff00ff | "
				    "0x00000200 return" } } } },
	/* isp2 down: its sources must pick a live link; isp3 a backup, idle */
	{ "sticky_sets", LINKS3 "sticky = { by = \"source\"; timeout_s = 300; };\n",
	  { UL_ST_UP, UL_ST_DOWN, UL_ST_UP }, .want = {
		{ TK_STATE, TK_LINES, { "set sticky_isp1 dynamic=1",
					"set sticky_isp1 timeout_ms=300000", "set sticky_isp1 flush=0",
					"set sticky_isp2 flush=1", "set sticky_isp3 flush=1" } },
		{ TK_NFT, TK_HAS, { "ip saddr @sticky_isp1 meta mark set meta mark & 0xffff00ff | "
				    "0x00000100 update @sticky_isp1 { ip saddr } return" } },
		{ TK_NFT, TK_LACKS, { "ip saddr @sticky_isp2" } } } },
	{ "port_forwards", LINKS3 "port_forwards = ( { name = \"web\"; proto = \"tcp\"; port = 8080;"
	  " to = \"10.0.0.5:80\"; links = [ \"isp1\", \"isp3\" ]; } );\n",
	  { UL_ST_UP, UL_ST_UP, UL_ST_UP }, .want = {
		{ TK_NFT, TK_HAS, { "type nat hook prerouting priority -100;",
				    "iifname \"wan1\" meta l4proto tcp th dport 8080 dnat ip to "
				    "10.0.0.5:80",
				    "iifname \"wan3\" meta l4proto tcp th dport 8080 dnat ip to "
				    "10.0.0.5:80" } },
		{ TK_NFT, TK_LACKS, { "iifname \"wan2\" meta l4proto tcp th dport 8080" } } } },
	{ "mark_mask_from_config", MARK_MASK LINKS3, { UL_ST_UP, UL_ST_UP, UL_ST_UP }, .want = {
		{ TK_RULES, TK_HAS, { "2011: from all fwmark 0x20000/0xf0000 lookup 202",
				      "2099: from all lookup 99\n" } },
		{ TK_NFT, TK_HAS, { "ct mark set ct mark & 0xfff0ffff | 0x00030000" } } } },
	/* pair_plan: a LAN known by its interfaces only */
	{ "pair_plan: LAN by its interfaces", "lan = { interfaces = [ \"lan0\", \"lan1\" ]; };\n"
	  "links = ( { name = \"isp1\"; interface = \"wan1\"; gateway = \"192.168.1.1\";"
	  " snat = \"192.168.1.10\"; } );\n", { UL_ST_UP }, .want = {
		{ TK_NFT, TK_HAS, { "oifname \"wan1\" iifname @lan_ifs meta nfproto ipv4 "
				    "snat ip to 192.168.1.10" } } } },
};

static void plans(void **state)
{
	tk_plan_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

/* the mask and the priorities of the plan above (case mark_mask_from_config) */
static void mark_mask_from_config(void **state)
{
	struct ul_config *c = tk_config(MARK_MASK LINKS3);

	assert_int_equal(ul_link_mark(c, 0), 0x10000);
	assert_int_equal(ul_exclude_mark(c), 0xf0000);
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
	struct timespec t0, t1;
	/* one set, one rule: the policy chain has exactly one rule */
	static const struct tk_want want[TK_MAX_WANTS] = {
		{ TK_STATE, TK_LINES, { "set r_many_dst4 elems=10000", "chain pick rules=1" } },
	};

	assert_non_null(text);
	off += (size_t)snprintf(text + off, cap - off, "%srules = ( { name = \"many\"; dst = [",
				LINKS3);
	for (int i = 0; i < 10000; i++)
		off += (size_t)snprintf(text + off, cap - off, "%s\"10.%d.%d.0/24\"", i ? "," : "",
					64 + i / 256, i % 256);
	snprintf(text + off, cap - off, " ]; via = [ \"isp1\" ]; } );\n");
	c = tk_config(text);
	free(text);
	tk_link_rts(c, rt, st, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(ul_plan_build(c, rt, &p), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	tk_plan_check("ten_thousand_prefixes", &p, want);
	print_message("planning 10000 prefixes: %.2f ms\n",
		      (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6);
	ul_plan_free(&p);
	ul_config_free(c);
}

TK_MAIN(NULL, NULL, plans, mark_mask_from_config, ten_thousand_prefixes, pair_addresses,
	pair_plan)
