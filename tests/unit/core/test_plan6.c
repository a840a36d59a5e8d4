// SPDX-License-Identifier: GPL-2.0-or-later
/* The planner's IPv6: per-family link state, ip -6 routes and rules, the ip6 half of the
 * inet table (sticky6, nat6 masquerade / prefix / none, forwards to IPv6 hosts, policy). */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "config.h"
#include "plan.h"
#include "tk.h"

/* Dual stack: a ULA LAN masqueraded on isp1, translated to isp2's prefix, and isp3's
 * routed prefix numbering part of the LAN. */
static const char *DUAL =
	"lan = { interfaces = [ \"lan0\" ]; networks = [ \"10.0.0.0/24\", \"fd00:10::/64\","
	" \"2001:db8:3:100::/64\" ]; };\n"
	"links = (\n"
	" { name = \"isp1\"; interface = \"wan1\"; gateway = \"192.168.1.1\"; weight = 30;\n"
	"   gateway6 = \"auto\"; },\n"
	" { name = \"isp2\"; interface = \"wan2\"; gateway = \"192.168.2.1\"; weight = 70;\n"
	"   gateway6 = \"fe80::2\"; nat6 = \"prefix\"; prefix6 = \"2001:db8:2:100::/56\"; },\n"
	" { name = \"isp3\"; interface = \"wan3\"; gateway = \"192.168.3.1\"; tier = 2;\n"
	"   nat6 = \"none\"; prefix6 = \"2001:db8:3:100::/64\"; }\n"
	");\n";

/* Link i: ifindex 10+i, 192.168.(i+1).2 and 2001:db8:(i+1)::2, IPv6 router fe80::(i+1)
 * (or its gateway6), states as given. */
static void rts(const struct ul_config *c, struct ul_link_rt *rt, const enum ul_state *st,
		const enum ul_state *st6)
{
	for (size_t i = 0; i < c->n_links; i++) {
		uint8_t a[4] = { 192, 168, (uint8_t)(i + 1), 2 };
		uint8_t a6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, (uint8_t)(i + 1), [15] = 2 };
		uint8_t ll[16] = { 0xfe, 0x80, [15] = (uint8_t)(i + 1) };

		memset(&rt[i], 0, sizeof(rt[i]));
		rt[i].state = st[i];
		rt[i].state6 = st6[i];
		rt[i].present = rt[i].carrier = rt[i].has_addr = true;
		rt[i].ifindex = 10 + (int)i;
		ul_addr_from_raw(&rt[i].addr, AF_INET, a);
		rt[i].has_gw = true;
		rt[i].gw = c->links[i].gateway;
		rt[i].has_addr6 = rt[i].has_gw6 = true;
		ul_addr_from_raw(&rt[i].addr6, AF_INET6, a6);
		if (c->links[i].gw6_mode == UL_GW_STATIC)
			rt[i].gw6 = c->links[i].gateway6;
		else
			ul_addr_from_raw(&rt[i].gw6, AF_INET6, ll);
	}
}

static void has(const char *text, const char *what)
{
	if (!strstr(text, what)) {
		fprintf(stderr, "missing \"%s\" in:\n%s", what, text);
		fail();
	}
}

static void lacks(const char *text, const char *what)
{
	if (strstr(text, what))
		fail_msg("unexpected \"%s\" in:\n%s", what, text);
}

static void dual_stack_all_up(void **state)
{
	struct ul_config *c = tk_config(DUAL);
	enum ul_state up[] = { UL_ST_UP, UL_ST_UP, UL_ST_UP };
	struct ul_link_rt rt[3];
	struct ul_plan p;

	rts(c, rt, up, up);
	assert_int_equal(ul_plan_build(c, rt, &p), 0);
	assert_true(p.v6);
	assert_int_equal(p.active, 0x3);
	assert_int_equal(p.active6, 0x3);
	assert_int_equal(p.usable6, 0x7);
	assert_string_equal(tk_routes_text(&p, AF_INET6),
			    "default via fe80::1 dev wan1 table 201\n"
			    "default via fe80::2 dev wan2 table 202\n"
			    "default via fe80::3 dev wan3 table 203\n"
			    "default nexthop via fe80::1 dev wan1 weight 30"
			    " nexthop via fe80::2 dev wan2 weight 70 table 250\n");
	assert_string_equal(tk_rules_text(&p, AF_INET6),
			    "1000: from all lookup main suppress_prefixlength 0\n"
			    "1001: from 2001:db8:1::2 lookup 201\n"
			    "1002: from 2001:db8:2::2 lookup 202\n"
			    "1003: from 2001:db8:3::2 lookup 203\n"
			    "1010: from all fwmark 0x100/0xff00 lookup 201\n"
			    "1011: from all fwmark 0x200/0xff00 lookup 202\n"
			    "1012: from all fwmark 0x300/0xff00 lookup 203\n"
			    "1032: from 2001:db8:3:100::/64 lookup 203\n"
			    "1099: from all lookup 250\n");
	/* IPv4 is what it always was */
	assert_string_equal(tk_routes_text(&p, AF_INET),
			    "default via 192.168.1.1 dev wan1 table 201\n"
			    "default via 192.168.2.1 dev wan2 table 202\n"
			    "default via 192.168.3.1 dev wan3 table 203\n"
			    "default nexthop via 192.168.1.1 dev wan1 weight 30"
			    " nexthop via 192.168.2.1 dev wan2 weight 70 table 250\n");
	/* nat: IPv4 masquerade by family, IPv6 per nat6 */
	has(tk_ruleset_text(&p.nft), "\tchain nat {\n"
		"\t\ttype nat hook postrouting priority 100; policy accept;\n"
		"\t\tmeta nfproto ipv4 oifname \"wan1\" masquerade\n"
		"\t\tmeta nfproto ipv6 oifname \"wan1\" masquerade\n"
		"\t\tmeta nfproto ipv4 oifname \"wan2\" masquerade\n"
		"\t\tmeta nfproto ipv6 oifname \"wan2\" ip6 saddr @lan_nets6 snat ip6 prefix to "
		"2001:db8:2:100::/56 comment \"nat6 prefix isp2\"\n"
		"\t\tmeta nfproto ipv4 oifname \"wan3\" masquerade\n"
		"\t}\n");
	has(tk_ruleset_text(&p.nft), "\tset lan_nets6 { type ipv6_addr; flags interval; elements = { "
		"2001:db8:3:100::/64, fd00:10::/64 } }\n");
	ul_plan_free(&p);
	ul_config_free(c);
}

/* A link's IPv6 fails while its IPv4 works: IPv6 leaves it, IPv4 stays. */
static void ipv6_only_failure(void **state)
{
	struct ul_config *c = tk_config(DUAL);
	enum ul_state up[] = { UL_ST_UP, UL_ST_UP, UL_ST_UP };
	enum ul_state v6down[] = { UL_ST_DOWN, UL_ST_UP, UL_ST_UP };
	struct ul_link_rt rt[3];
	struct ul_plan p;

	rts(c, rt, up, v6down);
	assert_int_equal(ul_plan_build(c, rt, &p), 0);
	assert_int_equal(p.active, 0x3);
	assert_int_equal(p.active6, 0x2);
	assert_int_equal(p.carrying, 0x7);
	assert_int_equal(p.carrying6, 0x6);
	has(tk_routes_text(&p, AF_INET6), "default via fe80::2 dev wan2 table 250\n");
	lacks(tk_rules_text(&p, AF_INET6), "1010:");
	has(tk_rules_text(&p, AF_INET), "1010: from all fwmark 0x100/0xff00 lookup 201\n");
	ul_plan_free(&p);

	/* and the reverse; both down on isp1 and isp2: the IPv6 tier 2 link takes over, its
	 * routed prefix rule stays while it is usable */
	rts(c, rt, v6down, up);
	assert_int_equal(ul_plan_build(c, rt, &p), 0);
	assert_int_equal(p.active, 0x2);
	assert_int_equal(p.active6, 0x3);
	ul_plan_free(&p);
	{
		enum ul_state d2[] = { UL_ST_DOWN, UL_ST_DOWN, UL_ST_UP };
		enum ul_state d3[] = { UL_ST_UP, UL_ST_UP, UL_ST_DOWN };

		rts(c, rt, up, d2);
		assert_int_equal(ul_plan_build(c, rt, &p), 0);
		assert_int_equal(p.active6, 0x4);
		has(tk_routes_text(&p, AF_INET6), "default via fe80::3 dev wan3 table 250\n");
		has(tk_rules_text(&p, AF_INET6), "1032: from 2001:db8:3:100::/64 lookup 203\n");
		ul_plan_free(&p);
		/* isp3's IPv6 down: its prefix is no longer pinned to it */
		rts(c, rt, up, d3);
		assert_int_equal(ul_plan_build(c, rt, &p), 0);
		lacks(tk_rules_text(&p, AF_INET6), "1032:");
		ul_plan_free(&p);
	}
	ul_config_free(c);
}

/* Carrier loss takes both families off the link. */
static void carrier_loss_both(void **state)
{
	struct ul_config *c = tk_config(DUAL);
	enum ul_state down[] = { UL_ST_DOWN, UL_ST_UP, UL_ST_UP };
	struct ul_link_rt rt[3];
	struct ul_plan p;

	rts(c, rt, down, down);
	rt[0].carrier = false;
	assert_int_equal(ul_plan_build(c, rt, &p), 0);
	assert_int_equal(p.active, 0x2);
	assert_int_equal(p.active6, 0x2);
	lacks(tk_routes_text(&p, AF_INET6), "wan1");
	lacks(tk_routes_text(&p, AF_INET), "wan1");
	ul_plan_free(&p);
	ul_config_free(c);
}

/* No link carries IPv6 (no gateway6, no IPv6 address): the IPv4-only plan, unchanged. */
static void ipv4_only_unchanged(void **state)
{
	struct ul_config *c = tk_config(
		"lan = { interfaces = [ \"lan0\" ]; networks = [ \"10.0.0.0/24\" ]; };\n"
		"links = ( { name = \"isp1\"; interface = \"wan1\"; gateway = \"192.168.1.1\"; },\n"
		" { name = \"isp2\"; interface = \"wan2\"; gateway = \"192.168.2.1\"; } );\n"
		"rules = ( { name = \"mail\"; proto = \"tcp\"; dst_port = [ 25 ]; via = [ \"isp1\" ];"
		" fallback = \"drop\"; } );\n"
		"sticky = { by = \"source\"; };\n");
	enum ul_state up[] = { UL_ST_UP, UL_ST_UP };
	struct ul_link_rt rt[2];
	struct ul_plan p;

	rts(c, rt, up, up);
	rt[0].has_addr6 = rt[1].has_addr6 = false;
	assert_int_equal(ul_plan_build(c, rt, &p), 0);
	assert_false(p.v6);
	assert_string_equal(tk_routes_text(&p, AF_INET6), "");
	assert_string_equal(tk_rules_text(&p, AF_INET6), "");
	lacks(tk_ruleset_text(&p.nft), "ip6");
	lacks(tk_ruleset_text(&p.nft), "ipv6");
	has(tk_ruleset_text(&p.nft), "\t\toifname \"wan1\" masquerade\n");
	ul_plan_free(&p);
	/* the same links with a global IPv6 address: IPv6 by default ("auto") */
	rts(c, rt, up, up);
	assert_int_equal(ul_plan_build(c, rt, &p), 0);
	assert_true(p.v6);
	has(tk_routes_text(&p, AF_INET6), "default via fe80::1 dev wan1 table 201\n");
	ul_plan_free(&p);
	ul_config_free(c);
}

/* Rules, sticky and forwards in both families. */
static void policy_both_families(void **state)
{
	struct ul_config *c = tk_config(
		"lan = { interfaces = [ \"lan0\" ]; networks = [ \"10.0.0.0/24\", \"fd00:10::/64\" ]; };\n"
		"links = ( { name = \"isp1\"; interface = \"wan1\"; gateway = \"192.168.1.1\";"
		" gateway6 = \"auto\"; },\n"
		" { name = \"isp2\"; interface = \"wan2\"; gateway = \"192.168.2.1\";"
		" gateway6 = \"auto\"; } );\n"
		"rules = ( { name = \"bank\"; dst = [ \"198.51.100.0/24\", \"2001:db8:99::/48\" ];"
		" via = [ \"isp1\" ]; fallback = \"drop\"; },\n"
		" { name = \"ping\"; proto = \"icmp\"; via = [ \"isp2\" ]; } );\n"
		"sticky = { by = \"source\"; timeout_s = 60; };\n"
		"port_forwards = ( { name = \"web6\"; proto = \"tcp\"; port = 80;"
		" to = \"[fd00:10::5]:8080\"; },\n"
		" { name = \"web\"; proto = \"tcp\"; port = 80; to = \"10.0.0.5\"; } );\n");
	enum ul_state up[] = { UL_ST_UP, UL_ST_UP };
	enum ul_state v6down[] = { UL_ST_DOWN, UL_ST_UP };
	struct ul_link_rt rt[2];
	struct ul_plan p;
	const char *t;

	rts(c, rt, up, v6down);
	assert_int_equal(ul_plan_build(c, rt, &p), 0);
	t = tk_ruleset_text(&p.nft);
	/* the same rule, each family by its own link state: IPv4 via isp1, IPv6 dropped */
	has(t, "\t\tmeta nfproto ipv4 ip daddr @r_bank_dst4 meta mark set meta mark & "
	       "0xffff00ff | 0x00000100 return comment \"rule bank\"\n");
	has(t, "\t\tmeta nfproto ipv6 ip6 daddr @r_bank_dst6 meta mark set meta mark & "
	       "0xffff00ff | 0x00000e00 return comment \"rule bank\"\n");
	/* a rule without addresses, once per family; icmp is ICMPv6 in IPv6 */
	has(t, "\t\tmeta nfproto ipv4 meta l4proto icmp meta mark set meta mark & 0xffff00ff | "
	       "0x00000200 return comment \"rule ping\"\n");
	has(t, "\t\tmeta nfproto ipv6 meta l4proto ipv6-icmp meta mark set meta mark & 0xffff00ff "
	       "| 0x00000200 return comment \"rule ping\"\n");
	has(t, "\t\tct state new iifname @lan_ifs meta nfproto ipv6 ip6 saddr @lan_nets6 jump "
	       "pick\n");
	/* sticky6 sets exist and are flushed while their link's IPv6 is inactive */
	has(t, "\tset sticky6_isp1 { type ipv6_addr; flags dynamic,timeout; timeout 60s; }\n");
	assert_true(ul_ruleset_find_set(&p.nft, "sticky6_isp1")->flush);
	lacks(t, "@sticky6_isp1");
	/* forwards: IPv6 and IPv4 on the same port, on both links */
	has(t, "\t\tiifname \"wan1\" meta nfproto ipv6 meta l4proto tcp th dport 80 dnat ip6 to "
	       "[fd00:10::5]:8080 comment \"forward web6\"\n");
	has(t, "\t\tiifname \"wan2\" meta l4proto tcp th dport 80 dnat ip to 10.0.0.5:80 "
	       "comment \"forward web\"\n");
	has(t, "\t\tmeta mark & 0x0000ff00 == 0x00000e00 oifname @link_ifs drop comment "
	       "\"fallback drop\"\n");
	ul_plan_free(&p);

	rts(c, rt, up, up);
	assert_int_equal(ul_plan_build(c, rt, &p), 0);
	t = tk_ruleset_text(&p.nft);
	has(t, "\t\tmeta nfproto ipv6 ip6 daddr @r_bank_dst6 meta mark set meta mark & "
	       "0xffff00ff | 0x00000100 return comment \"rule bank\"\n");
	has(t, "\t\tct state new meta mark & 0x0000ff00 == 0x00000000 iifname @lan_ifs meta "
	       "nfproto ipv6 ip6 saddr @sticky6_isp2 meta mark set meta mark & 0xffff00ff | "
	       "0x00000200 update @sticky6_isp2 { ip6 saddr } return comment \"sticky isp2\"\n");
	has(t, "\t\tct state new meta mark & 0x0000ff00 == 0x00000000 iifname @lan_ifs oifname "
	       "\"wan1\" meta nfproto ipv6 update @sticky6_isp1 { ip6 saddr }\n");
	assert_false(ul_ruleset_find_set(&p.nft, "sticky6_isp1")->flush);
	ul_plan_free(&p);
	ul_config_free(c);
}

/* gateway6 = "none": the link never carries IPv6, nor gets IPv6 forwards or NAT. */
static void gateway6_none(void **state)
{
	struct ul_config *c = tk_config(
		"lan = { networks = [ \"10.0.0.0/24\", \"fd00:10::/64\" ]; };\n"
		"links = ( { name = \"isp1\"; interface = \"wan1\"; gateway = \"192.168.1.1\";"
		" gateway6 = \"none\"; },\n"
		" { name = \"isp2\"; interface = \"wan2\"; gateway = \"192.168.2.1\"; } );\n"
		"port_forwards = ( { proto = \"udp\"; port = 53; to = \"[fd00:10::53]\"; } );\n");
	enum ul_state up[] = { UL_ST_UP, UL_ST_UP };
	struct ul_link_rt rt[2];
	struct ul_plan p;

	rts(c, rt, up, up);
	assert_int_equal(ul_plan_build(c, rt, &p), 0);
	assert_true(p.v6);
	assert_int_equal(p.active6, 0x2);
	assert_string_equal(tk_routes_text(&p, AF_INET6),
			    "default via fe80::2 dev wan2 table 202\n"
			    "default via fe80::2 dev wan2 table 250\n");
	lacks(tk_ruleset_text(&p.nft), "nfproto ipv6 oifname \"wan1\"");
	lacks(tk_ruleset_text(&p.nft), "iifname \"wan1\" meta nfproto ipv6");
	has(tk_ruleset_text(&p.nft), "iifname \"wan2\" meta nfproto ipv6 meta l4proto udp th dport 53 dnat "
			  "ip6 to [fd00:10::53]:53");
	ul_plan_free(&p);
	ul_config_free(c);
}

/* uplinkd -n: the IPv6 routes and rules in their own sections. */
static void dry_run_sections(void **state)
{
	struct ul_config *c = tk_config(DUAL);
	enum ul_state up[] = { UL_ST_UP, UL_ST_UP, UL_ST_UP };
	struct ul_link_rt rt[3];
	struct ul_plan p;
	char *text = NULL;
	size_t len;
	FILE *f;

	rts(c, rt, up, up);
	assert_int_equal(ul_plan_build(c, rt, &p), 0);
	f = open_memstream(&text, &len);
	assert_non_null(f);
	ul_plan_print(f, c, &p);
	fclose(f);
	has(text, "# routes\ndefault via 192.168.1.1 dev wan1 table 201\n");
	has(text, "\n# IPv6 routes\ndefault via fe80::1 dev wan1 table 201\n");
	has(text, "\n# IPv6 rules\n1000: from all lookup main suppress_prefixlength 0\n");
	has(text, "\n# nftables\ntable inet uplinkd {\n");
	free(text);
	ul_plan_free(&p);
	ul_config_free(c);
}

TK_MAIN(NULL, NULL, dual_stack_all_up, ipv6_only_failure, carrier_loss_both,
	ipv4_only_unchanged, policy_both_families, gateway6_none, dry_run_sections)
