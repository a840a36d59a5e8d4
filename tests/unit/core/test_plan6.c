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
static const char DUAL[] =
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

#define UP3 { UL_ST_UP, UL_ST_UP, UL_ST_UP }

/* No link carries IPv6 unless it has an IPv6 address: a rule, sticky, two IPv4 links */
#define V4ONLY \
	"lan = { interfaces = [ \"lan0\" ]; networks = [ \"10.0.0.0/24\" ]; };\n" \
	"links = ( { name = \"isp1\"; interface = \"wan1\"; gateway = \"192.168.1.1\"; },\n" \
	" { name = \"isp2\"; interface = \"wan2\"; gateway = \"192.168.2.1\"; } );\n" \
	"rules = ( { name = \"mail\"; proto = \"tcp\"; dst_port = [ 25 ]; via = [ \"isp1\" ];" \
	" fallback = \"drop\"; } );\n" \
	"sticky = { by = \"source\"; };\n"

/* Rules, sticky and forwards in both families. */
#define POLICY \
	"lan = { interfaces = [ \"lan0\" ]; networks = [ \"10.0.0.0/24\", \"fd00:10::/64\" ]; };\n" \
	"links = ( { name = \"isp1\"; interface = \"wan1\"; gateway = \"192.168.1.1\";" \
	" gateway6 = \"auto\"; },\n" \
	" { name = \"isp2\"; interface = \"wan2\"; gateway = \"192.168.2.1\";" \
	" gateway6 = \"auto\"; } );\n" \
	"rules = ( { name = \"bank\"; dst = [ \"198.51.100.0/24\", \"2001:db8:99::/48\" ];" \
	" via = [ \"isp1\" ]; fallback = \"drop\"; },\n" \
	" { name = \"ping\"; proto = \"icmp\"; via = [ \"isp2\" ]; } );\n" \
	"sticky = { by = \"source\"; timeout_s = 60; };\n" \
	"port_forwards = ( { name = \"web6\"; proto = \"tcp\"; port = 80;" \
	" to = \"[fd00:10::5]:8080\"; },\n" \
	" { name = \"web\"; proto = \"tcp\"; port = 80; to = \"10.0.0.5\"; } );\n"

/* gateway6 = "none": the link never carries IPv6, nor gets IPv6 forwards or NAT. */
#define GW6_NONE \
	"lan = { networks = [ \"10.0.0.0/24\", \"fd00:10::/64\" ]; };\n" \
	"links = ( { name = \"isp1\"; interface = \"wan1\"; gateway = \"192.168.1.1\";" \
	" gateway6 = \"none\"; },\n" \
	" { name = \"isp2\"; interface = \"wan2\"; gateway = \"192.168.2.1\"; } );\n" \
	"port_forwards = ( { proto = \"udp\"; port = 53; to = \"[fd00:10::53]\"; } );\n"

/* Link i: 192.168.(i+1).2 and 2001:db8:(i+1)::2, IPv6 router fe80::(i+1) or its gateway6
 * (tk_link_rts), states as given. */
static const struct tk_plan_case cases[] = {
	/* IPv4 is what it always was; nat: IPv4 masquerade by family, IPv6 per nat6 */
	{ "dual_stack_all_up", DUAL, UP3, UP3, true, .want = {
		{ TK_STATE, TK_LINES, { "v6=1", "active=0x3", "active6=0x3", "usable6=0x7" } },
		{ TK_ROUTES6, TK_EQ, { "default via fe80::1 dev wan1 table 201\n"
				       "default via fe80::2 dev wan2 table 202\n"
				       "default via fe80::3 dev wan3 table 203\n"
				       "default nexthop via fe80::1 dev wan1 weight 30"
				       " nexthop via fe80::2 dev wan2 weight 70 table 250\n" } },
		{ TK_RULES6, TK_EQ, { "1000: from all lookup main suppress_prefixlength 0\n"
				      "1001: from 2001:db8:1::2 lookup 201\n"
				      "1002: from 2001:db8:2::2 lookup 202\n"
				      "1003: from 2001:db8:3::2 lookup 203\n"
				      "1010: from all fwmark 0x100/0xff00 lookup 201\n"
				      "1011: from all fwmark 0x200/0xff00 lookup 202\n"
				      "1012: from all fwmark 0x300/0xff00 lookup 203\n"
				      "1032: from 2001:db8:3:100::/64 lookup 203\n"
				      "1099: from all lookup 250\n" } },
		{ TK_ROUTES4, TK_EQ, { "default via 192.168.1.1 dev wan1 table 201\n"
				       "default via 192.168.2.1 dev wan2 table 202\n"
				       "default via 192.168.3.1 dev wan3 table 203\n"
				       "default nexthop via 192.168.1.1 dev wan1 weight 30"
				       " nexthop via 192.168.2.1 dev wan2 weight 70 table 250\n" } },
		{ TK_NFT, TK_HAS, { "\tchain nat {\n"
			"\t\ttype nat hook postrouting priority 100; policy accept;\n"
			"\t\tmeta nfproto ipv4 oifname \"wan1\" masquerade\n"
			"\t\tmeta nfproto ipv6 oifname \"wan1\" masquerade\n"
			"\t\tmeta nfproto ipv4 oifname \"wan2\" masquerade\n"
			"\t\tmeta nfproto ipv6 oifname \"wan2\" ip6 saddr @lan_nets6 snat ip6 prefix to "
			"2001:db8:2:100::/56 comment \"nat6 prefix isp2\"\n"
			"\t\tmeta nfproto ipv4 oifname \"wan3\" masquerade\n"
			"\t}\n",
			"\tset lan_nets6 { type ipv6_addr; flags interval,timeout; gc-interval 1h; elements = { "
			"2001:db8:3:100::/64, fd00:10::/64 } }\n" } } } },
	/* A link's IPv6 fails while its IPv4 works: IPv6 leaves it, IPv4 stays. */
	{ "ipv6_only_failure", DUAL, UP3, { UL_ST_DOWN, UL_ST_UP, UL_ST_UP }, true, .want = {
		{ TK_STATE, TK_LINES, { "active=0x3", "active6=0x2", "carrying=0x7",
					"carrying6=0x6" } },
		{ TK_ROUTES6, TK_HAS, { "default via fe80::2 dev wan2 table 250\n" } },
		{ TK_RULES6, TK_LACKS, { "1010:" } },
		{ TK_RULES4, TK_HAS, { "1010: from all fwmark 0x100/0xff00 lookup 201\n" } } } },
	/* and the reverse */
	{ "ipv6_only_failure: reverse", DUAL, { UL_ST_DOWN, UL_ST_UP, UL_ST_UP }, UP3, true,
	  .want = { { TK_STATE, TK_LINES, { "active=0x2", "active6=0x3" } } } },
	/* IPv6 down on isp1 and isp2: the IPv6 tier 2 link takes over, its routed prefix rule
	 * stays while it is usable */
	{ "ipv6_only_failure: tier 2", DUAL, UP3, { UL_ST_DOWN, UL_ST_DOWN, UL_ST_UP }, true,
	  .want = {
		{ TK_STATE, TK_LINES, { "active6=0x4" } },
		{ TK_ROUTES6, TK_HAS, { "default via fe80::3 dev wan3 table 250\n" } },
		{ TK_RULES6, TK_HAS, { "1032: from 2001:db8:3:100::/64 lookup 203\n" } } } },
	/* isp3's IPv6 down: its prefix is no longer pinned to it */
	{ "ipv6_only_failure: isp3 down", DUAL, UP3, { UL_ST_UP, UL_ST_UP, UL_ST_DOWN }, true,
	  .want = { { TK_RULES6, TK_LACKS, { "1032:" } } } },
	/* Carrier loss takes both families off the link. */
	{ "carrier_loss_both", DUAL, { UL_ST_DOWN, UL_ST_UP, UL_ST_UP },
	  { UL_ST_DOWN, UL_ST_UP, UL_ST_UP }, true, .no_carrier = 0x1, .want = {
		{ TK_STATE, TK_LINES, { "active=0x2", "active6=0x2" } },
		{ TK_ROUTES6, TK_LACKS, { "wan1" } },
		{ TK_ROUTES4, TK_LACKS, { "wan1" } } } },
	/* no gateway6, no IPv6 address: the IPv4-only plan, unchanged */
	{ "ipv4_only_unchanged", V4ONLY, UP3, UP3, true, .no_addr6 = 0x3, .want = {
		{ TK_STATE, TK_LINES, { "v6=0" } },
		{ TK_ROUTES6, TK_EQ, { "" } },
		{ TK_RULES6, TK_EQ, { "" } },
		{ TK_NFT, TK_LACKS, { "ip6", "ipv6" } },
		{ TK_NFT, TK_HAS, { "\t\toifname \"wan1\" masquerade\n" } } } },
	/* the same links with a global IPv6 address: IPv6 by default ("auto") */
	{ "ipv4_only_unchanged: IPv6 addresses", V4ONLY, UP3, UP3, true, .want = {
		{ TK_STATE, TK_LINES, { "v6=1" } },
		{ TK_ROUTES6, TK_HAS, { "default via fe80::1 dev wan1 table 201\n" } } } },
	/* the same rule, each family by its own link state: IPv4 via isp1, IPv6 dropped; a
	 * rule without addresses, once per family (icmp is ICMPv6 in IPv6); sticky6 sets exist
	 * and are flushed while their link's IPv6 is inactive; forwards: IPv6 and IPv4 on the
	 * same port, on both links */
	{ "policy_both_families", POLICY, UP3, { UL_ST_DOWN, UL_ST_UP }, true, .want = {
		{ TK_NFT, TK_HAS, {
			"\t\tmeta nfproto ipv4 ip daddr @r_bank_dst4 meta mark set meta mark & "
			"0xffff00ff | 0x00000100 return comment \"rule bank\"\n",
			"\t\tmeta nfproto ipv6 ip6 daddr @r_bank_dst6 meta mark set meta mark & "
			"0xffff00ff | 0x00000e00 return comment \"rule bank\"\n",
			"\t\tmeta nfproto ipv4 meta l4proto icmp meta mark set meta mark & 0xffff00ff | "
			"0x00000200 return comment \"rule ping\"\n",
			"\t\tmeta nfproto ipv6 meta l4proto ipv6-icmp meta mark set meta mark & 0xffff00ff "
			"| 0x00000200 return comment \"rule ping\"\n",
			"\t\tct state new iifname @lan_ifs meta nfproto ipv6 ip6 saddr @lan_nets6 jump "
			"pick\n",
			"\tset sticky6_isp1 { type ipv6_addr; flags dynamic,timeout; timeout 60s; }\n",
			"\t\tiifname \"wan1\" meta nfproto ipv6 meta l4proto tcp th dport 80 dnat ip6 to "
			"[fd00:10::5]:8080 comment \"forward web6\"\n",
			"\t\tiifname \"wan2\" meta l4proto tcp th dport 80 dnat ip to 10.0.0.5:80 "
			"comment \"forward web\"\n",
			"\t\tmeta mark & 0x0000ff00 == 0x00000e00 oifname @link_ifs drop comment "
			"\"fallback drop\"\n" } },
		{ TK_STATE, TK_LINES, { "set sticky6_isp1 flush=1" } },
		{ TK_NFT, TK_LACKS, { "@sticky6_isp1" } } } },
	{ "policy_both_families: all up", POLICY, UP3, UP3, true, .want = {
		{ TK_NFT, TK_HAS, {
			"\t\tmeta nfproto ipv6 ip6 daddr @r_bank_dst6 meta mark set meta mark & "
			"0xffff00ff | 0x00000100 return comment \"rule bank\"\n",
			"\t\tct state new meta mark & 0x0000ff00 == 0x00000000 iifname @lan_ifs meta "
			"nfproto ipv6 ip6 saddr @sticky6_isp2 meta mark set meta mark & 0xffff00ff | "
			"0x00000200 update @sticky6_isp2 { ip6 saddr } return comment \"sticky isp2\"\n",
			"\t\tct state new meta mark & 0x0000ff00 == 0x00000000 iifname @lan_ifs oifname "
			"\"wan1\" meta nfproto ipv6 update @sticky6_isp1 { ip6 saddr }\n" } },
		{ TK_STATE, TK_LINES, { "set sticky6_isp1 flush=0" } } } },
	{ "gateway6_none", GW6_NONE, UP3, UP3, true, .want = {
		{ TK_STATE, TK_LINES, { "v6=1", "active6=0x2" } },
		{ TK_ROUTES6, TK_EQ, { "default via fe80::2 dev wan2 table 202\n"
				       "default via fe80::2 dev wan2 table 250\n" } },
		{ TK_NFT, TK_LACKS, { "nfproto ipv6 oifname \"wan1\"",
				      "iifname \"wan1\" meta nfproto ipv6" } },
		{ TK_NFT, TK_HAS, { "iifname \"wan2\" meta nfproto ipv6 meta l4proto udp th dport 53 "
				    "dnat ip6 to [fd00:10::53]:53" } } } },
};

static void plans(void **state)
{
	tk_plan_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

static void has(const char *text, const char *what)
{
	if (!strstr(text, what)) {
		fprintf(stderr, "missing \"%s\" in:\n%s", what, text);
		fail();
	}
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

	tk_link_rts(c, rt, up, up);
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

TK_MAIN(NULL, NULL, plans, dry_run_sections)
