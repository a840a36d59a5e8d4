// SPDX-License-Identifier: GPL-2.0-or-later
/* ruleset.c: builders, look-ups, set ranges and the nft-syntax printer. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <cmocka.h>

#include "ruleset.h"
#include "tk.h"

static void test_builders(void **state)
{
	struct ul_ruleset rs;
	struct ul_set *s;
	struct ul_chain *c;
	struct ul_nrule *r;
	char name[16];

	memset(&rs, 0, sizeof(rs));
	for (int i = 0; i < 20; i++) {
		snprintf(name, sizeof(name), "set%d", i);
		s = ul_ruleset_add_set(&rs, name, UL_KEY_IPV4, i % 2);
		assert_non_null(s);
		assert_string_equal(s->name, name);
		assert_int_equal(s->interval, i % 2);
		assert_int_equal(s->n_elems, 0);
		assert_false(s->dynamic);
	}
	assert_int_equal(rs.n_sets, 20);
	assert_true(rs.cap_sets >= 20);
	for (int i = 0; i < 11; i++) {
		snprintf(name, sizeof(name), "c%d", i);
		c = ul_ruleset_add_chain(&rs, name, UL_CHAIN_NAT, i ? UL_HOOK_NONE : UL_HOOK_OUTPUT,
					 -i);
		assert_non_null(c);
		assert_int_equal(c->prio, -i);
	}
	c = (struct ul_chain *)ul_ruleset_find_chain(&rs, "c3");
	assert_non_null(c);
	assert_int_equal(c->prio, -3);
	assert_int_equal(c->hook, UL_HOOK_NONE);
	assert_ptr_equal(ul_ruleset_find_chain(&rs, "c0"), &rs.chains[0]);
	assert_null(ul_ruleset_find_chain(&rs, "c11"));
	assert_ptr_equal(ul_ruleset_find_set(&rs, "set19"), &rs.sets[19]);
	assert_null(ul_ruleset_find_set(&rs, "set20"));
	assert_null(ul_ruleset_find_set(&rs, "c1"));

	for (int i = 0; i < 30; i++) {
		r = ul_chain_add_rule(c);
		assert_non_null(r);
		assert_int_equal(r->n, 0);
	}
	assert_int_equal(c->n_rules, 30);
	r = &c->rules[29];
	for (int i = 0; i < UL_STMT_MAX; i++) {
		struct ul_stmt *x = ul_rule_add(r, UL_S_COUNTER);

		assert_non_null(x);
		assert_int_equal(x->kind, UL_S_COUNTER);
		assert_int_equal(x->mask, 0);
		assert_int_equal(x->str[0], '\0');
	}
	assert_null(ul_rule_add(r, UL_V_ACCEPT));
	assert_int_equal(r->n, UL_STMT_MAX);

	/* names are bounded */
	memset(name, 0, sizeof(name));
	{
		char longname[200];

		memset(longname, 'x', sizeof(longname) - 1);
		longname[sizeof(longname) - 1] = '\0';
		s = ul_ruleset_add_set(&rs, longname, UL_KEY_PORT, false);
		assert_non_null(s);
		assert_int_equal(strlen(s->name), UL_NFT_NAME_MAX - 1);
	}
	ul_ruleset_free(&rs);
	assert_int_equal(rs.n_sets, 0);
	assert_null(rs.sets);
	assert_null(rs.chains);
	ul_ruleset_free(&rs);   /* twice is harmless */
}

static void test_add_elem_checks(void **state)
{
	struct ul_ruleset rs;
	struct ul_set *v4, *v4i, *v6, *p, *pi, *ifs;
	union ul_set_elem e;

	memset(&rs, 0, sizeof(rs));
	v4 = ul_ruleset_add_set(&rs, "v4", UL_KEY_IPV4, false);
	tk_elem_prefix(v4, "10.0.0.1", 0);
	tk_elem_prefix(v4, "10.0.0.0/24", -EINVAL);      /* prefix in a plain set */
	tk_elem_prefix(v4, "2001:db8::1", -EINVAL);      /* wrong family */
	v4i = ul_ruleset_add_set(&rs, "v4i", UL_KEY_IPV4, true);
	tk_elem_prefix(v4i, "10.0.0.0/24", 0);
	tk_elem_prefix(v4i, "0.0.0.0/0", 0);
	v6 = ul_ruleset_add_set(&rs, "v6", UL_KEY_IPV6, true);
	tk_elem_prefix(v6, "2001:db8::/32", 0);
	tk_elem_prefix(v6, "10.0.0.0/8", -EINVAL);
	p = ul_ruleset_add_set(&rs, "p", UL_KEY_PORT, false);
	tk_elem_port(p, 80, 80, 0);
	tk_elem_port(p, 80, 81, -EINVAL);              /* range in a plain set */
	pi = ul_ruleset_add_set(&rs, "pi", UL_KEY_PORT, true);
	tk_elem_port(pi, 80, 81, 0);
	tk_elem_port(pi, 81, 80, -EINVAL);
	ifs = ul_ruleset_add_set(&rs, "ifs", UL_KEY_IFNAME, false);
	tk_elem_ifname(ifs, "wan1", 0);
	tk_elem_ifname(ifs, "", -EINVAL);
	memset(&e, 'a', sizeof(e));                 /* not NUL-terminated */
	assert_int_equal(ul_set_add_elem(ifs, &e), -EINVAL);
	memset(&e, 0, sizeof(e));
	assert_int_equal(ul_set_add_elem(v4, &e), -EINVAL);    /* family unset */

	assert_int_equal(v4->n_elems, 1);
	assert_int_equal(v4i->n_elems, 2);
	assert_int_equal(v6->n_elems, 1);
	assert_int_equal(p->n_elems, 1);
	assert_int_equal(pi->n_elems, 1);
	assert_int_equal(ifs->n_elems, 1);
	assert_string_equal(ifs->elems[0].ifname, "wan1");

	/* many elements keep their values through the growth */
	for (unsigned i = 0; i < 1000; i++)
		tk_elem_port(p, (uint16_t)(i + 1000), (uint16_t)(i + 1000), 0);
	assert_int_equal(p->n_elems, 1001);
	for (unsigned i = 0; i < 1000; i++)
		assert_int_equal(p->elems[i + 1].port.lo, i + 1000);
	ul_ruleset_free(&rs);
}

/* What ul_set_ranges makes of a set's elements (added in that order): "lo-hi" of each
 * range, the key's bytes in hex. */
static const struct ranges_case {
	const char *what;
	enum ul_set_key key;
	bool interval;
	const char *elems, *ranges;     /* space-separated; ports "lo[-hi]" */
} ranges_cases[] = {
	{ "adjacent, inside and duplicate prefixes and hosts coalesce", UL_KEY_IPV4, true,
	  "10.0.1.0/24 "                /* adjacent to 10.0.0.0/24 */
	  "10.0.0.0/24 "
	  "10.0.0.128/25 "              /* inside */
	  "10.0.0.0/24 "                /* duplicate */
	  "10.0.3.5 "
	  "10.0.3.6 "                   /* adjacent host */
	  "10.0.5.0/24 "
	  "10.0.4.255 "                 /* adjacent below */
	  "192.168.0.0/16",
	  "0a000000-0a0001ff 0a000305-0a000306 0a0004ff-0a0005ff c0a80000-c0a8ffff" },
	{ "a range reaching the end swallows everything after it", UL_KEY_PORT, true,
	  "60000-65535 65535 25 26-30 0", "0000-0000 0019-001e ea60-ffff" },
	{ "plain sets only lose duplicates", UL_KEY_IPV4, false,
	  "10.0.0.2 10.0.0.1 10.0.0.2", "0a000001-0a000001 0a000002-0a000002" },
	{ "IPv6: 2001:db8::/33 + 2001:db8:8000::/33 = 2001:db8::/32", UL_KEY_IPV6, true,
	  "2001:db8:8000::/33 2001:db8::/33",
	  "20010db8000000000000000000000000-20010db8ffffffffffffffffffffffff" },
	{ "empty", UL_KEY_IFNAME, false, "", "" },
};

/* The element of text, added to s (which must take it) */
static void add_elem_text(struct ul_set *s, const char *text)
{
	unsigned lo, hi;

	switch (s->key) {
	case UL_KEY_PORT:
		if (sscanf(text, "%u-%u", &lo, &hi) == 1)
			hi = lo;
		tk_elem_port(s, (uint16_t)lo, (uint16_t)hi, 0);
		break;
	case UL_KEY_IFNAME:
		tk_elem_ifname(s, text, 0);
		break;
	default:
		tk_elem_prefix(s, text, 0);
	}
}

static void test_ranges_coalesce(void **state)
{
	for (size_t c = 0; c < sizeof(ranges_cases) / sizeof(ranges_cases[0]); c++) {
		const struct ranges_case *k = &ranges_cases[c];
		size_t n, len = ul_set_key_len(k->key), at = 0;
		char elems[512], *tok, *save = NULL, got[512] = "";
		struct ul_ruleset rs = { .n_sets = 0 };
		struct ul_set *s = ul_ruleset_add_set(&rs, "s", k->key, k->interval);
		struct ul_set_range *r;

		snprintf(elems, sizeof(elems), "%s", k->elems);
		for (tok = strtok_r(elems, " ", &save); tok; tok = strtok_r(NULL, " ", &save))
			add_elem_text(s, tok);
		assert_int_equal(ul_set_ranges(s, &r, &n), 0);
		for (size_t i = 0; i < n; i++) {
			for (size_t b = 0; b < 2 * len; b++)
				at += snprintf(got + at, sizeof(got) - at, "%s%02x",
					       b == 0 && i ? " " : b == len ? "-" : "",
					       b < len ? r[i].lo[b] : r[i].hi[b - len]);
		}
		if (strcmp(got, k->ranges))
			fail_msg("%s: ranges '%s', expected '%s'", k->what, got, k->ranges);
		if (!n && r)
			fail_msg("%s: no ranges, but an array", k->what);
		free(r);
		ul_ruleset_free(&rs);
	}
}

static char *print(const struct ul_ruleset *rs)
{
	char *p = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&p, &len);

	assert_non_null(f);
	ul_ruleset_print(f, rs);
	fclose(f);
	return p;
}

static void test_print(void **state)
{
	struct ul_ruleset rs;
	struct ul_set *s;
	struct ul_chain *c;
	struct ul_nrule *r;
	struct ul_stmt *x;
	char *out;

	memset(&rs, 0, sizeof(rs));
	s = ul_ruleset_add_set(&rs, "lan_ifs", UL_KEY_IFNAME, false);
	tk_elem_ifname(s, "lan1", 0);
	tk_elem_ifname(s, "lan0", 0);
	s = ul_ruleset_add_set(&rs, "nets", UL_KEY_IPV4, true);
	tk_elem_prefix(s, "10.0.1.5", 0);
	tk_elem_prefix(s, "10.0.0.0/24", 0);
	tk_elem_prefix(s, "10.0.2.0/24", 0);
	tk_elem_prefix(s, "10.0.3.0/24", 0);
	tk_elem_prefix(s, "10.0.4.0/24", 0);      /* 10.0.2.0 - 10.0.4.255 is no prefix */
	s = ul_ruleset_add_set(&rs, "v6", UL_KEY_IPV6, true);
	tk_elem_prefix(s, "2001:db8::/32", 0);
	s = ul_ruleset_add_set(&rs, "ports", UL_KEY_PORT, true);
	tk_elem_port(s, 993, 995, 0);
	tk_elem_port(s, 25, 25, 0);
	s = ul_ruleset_add_set(&rs, "sticky_isp1", UL_KEY_IPV4, false);
	s->dynamic = true;
	s->timeout_ms = 600000;
	s = ul_ruleset_add_set(&rs, "fast", UL_KEY_IPV4, false);
	s->dynamic = true;
	s->timeout_ms = 1500;

	c = ul_ruleset_add_chain(&rs, "pre", UL_CHAIN_FILTER, UL_HOOK_PREROUTING, -150);
	r = ul_chain_add_rule(c);
	tk_mark_unmarked_return(r, 0xff00, 0x100);
	r = ul_chain_add_rule(c);
	tk_stmt(r, UL_M_IIFNAME, "lan0");
	tk_stmt(r, UL_M_CT_NEW, NULL);
	tk_stmt(r, UL_M_NFPROTO, NULL)->family = AF_INET;
	tk_stmt(r, UL_M_SADDR_IN_DYN, "sticky_isp1")->family = AF_INET;
	x = tk_stmt(r, UL_S_CTMARK, NULL);
	x->mask = 0xff00;
	x->value = 0x200;
	tk_stmt(r, UL_S_SET_UPDATE, "sticky_isp1")->family = AF_INET;
	tk_stmt(r, UL_V_JUMP, "policy");
	snprintf(r->comment, sizeof(r->comment), "sticky \"isp1\"");
	r = ul_chain_add_rule(c);
	tk_stmt(r, UL_M_IIFNAME_SET, "lan_ifs");
	tk_stmt(r, UL_M_OIFNAME_SET, "lan_ifs");
	tk_stmt(r, UL_M_L4PROTO, NULL)->proto = IPPROTO_TCP;
	tk_stmt(r, UL_M_SPORT_SET, "ports");
	tk_stmt(r, UL_M_DPORT_SET, "ports");
	tk_stmt(r, UL_M_SADDR_SET, "nets")->family = AF_INET;
	tk_stmt(r, UL_M_DADDR_SET, "v6");     /* family from the set */
	x = tk_stmt(r, UL_M_MARK, NULL);
	x->mask = 0xff;
	x->value = 3;
	tk_stmt(r, UL_S_COUNTER, NULL);
	tk_stmt(r, UL_V_GOTO, "policy");
	c = ul_ruleset_add_chain(&rs, "policy", UL_CHAIN_FILTER, UL_HOOK_NONE, 0);
	r = ul_chain_add_rule(c);
	tk_stmt(r, UL_M_L4PROTO, NULL)->proto = 47;
	tk_stmt(r, UL_M_NFPROTO, NULL)->family = AF_INET6;
	tk_stmt(r, UL_V_DROP, NULL);
	r = ul_chain_add_rule(c);
	tk_stmt(r, UL_V_ACCEPT, NULL);
	c = ul_ruleset_add_chain(&rs, "out", UL_CHAIN_ROUTE, UL_HOOK_OUTPUT, -150);
	c = ul_ruleset_add_chain(&rs, "fwd", UL_CHAIN_NAT, UL_HOOK_PREROUTING, -100);
	r = ul_chain_add_rule(c);
	tk_stmt(r, UL_M_OIFNAME, "wan1");
	tk_stmt(r, UL_M_L4PROTO, NULL)->proto = IPPROTO_UDP;
	tk_stmt(r, UL_M_DPORT, NULL)->port = 8080;
	tk_dnat4(r, "10.0.0.5", 80);
	r = ul_chain_add_rule(c);
	x = tk_stmt(r, UL_S_DNAT, NULL);
	x->family = AF_INET6;
	assert_int_equal(ul_addr_parse("2001:db8::5", false, &x->addr), 0);
	x->port = 443;
	c = ul_ruleset_add_chain(&rs, "nat", UL_CHAIN_NAT, UL_HOOK_POSTROUTING, 100);
	r = ul_chain_add_rule(c);
	tk_stmt(r, UL_M_OIFNAME, "wan1");
	tk_stmt(r, UL_S_MASQUERADE, NULL);

	out = print(&rs);
	assert_string_equal(out,
		"table inet uplinkd {\n"
		"\tset lan_ifs { type ifname; elements = { \"lan0\", \"lan1\" } }\n"
		"\tset nets { type ipv4_addr; flags interval,timeout; gc-interval 1h; elements = { 10.0.0.0/24, 10.0.1.5, "
		"10.0.2.0-10.0.4.255 } }\n"
		"\tset v6 { type ipv6_addr; flags interval,timeout; gc-interval 1h; elements = { 2001:db8::/32 } }\n"
		"\tset ports { type inet_service; flags interval,timeout; gc-interval 1h; elements = { 25, 993-995 } }\n"
		"\tset sticky_isp1 { type ipv4_addr; flags dynamic,timeout; timeout 600s; }\n"
		"\tset fast { type ipv4_addr; flags dynamic,timeout; timeout 1500ms; }\n"
		"\tchain pre {\n"
		"\t\ttype filter hook prerouting priority -150; policy accept;\n"
		"\t\tct mark & 0x0000ff00 != 0x00000000 "
		"meta mark set meta mark & 0xffff00ff | 0x00000100 return\n"
		"\t\tiifname \"lan0\" ct state new meta nfproto ipv4 ip saddr @sticky_isp1 "
		"ct mark set ct mark & 0xffff00ff | 0x00000200 update @sticky_isp1 { ip saddr } "
		"jump policy comment \"sticky 'isp1'\"\n"
		"\t\tiifname @lan_ifs oifname @lan_ifs meta l4proto tcp th sport @ports "
		"th dport @ports ip saddr @nets ip6 daddr @v6 meta mark & 0x000000ff == 0x00000003 "
		"counter goto policy\n"
		"\t}\n"
		"\tchain policy {\n"
		"\t\tmeta l4proto 47 meta nfproto ipv6 drop\n"
		"\t\taccept\n"
		"\t}\n"
		"\tchain out {\n"
		"\t\ttype route hook output priority -150; policy accept;\n"
		"\t}\n"
		"\tchain fwd {\n"
		"\t\ttype nat hook prerouting priority -100; policy accept;\n"
		"\t\toifname \"wan1\" meta l4proto udp th dport 8080 dnat ip to 10.0.0.5:80\n"
		"\t\tdnat ip6 to [2001:db8::5]:443\n"
		"\t}\n"
		"\tchain nat {\n"
		"\t\ttype nat hook postrouting priority 100; policy accept;\n"
		"\t\toifname \"wan1\" masquerade\n"
		"\t}\n"
		"}\n");
	free(out);

	/* deterministic */
	out = print(&rs);
	assert_non_null(strstr(out, "10.0.2.0-10.0.4.255"));
	free(out);
	ul_ruleset_free(&rs);

	out = print(&rs);
	assert_string_equal(out, "table inet uplinkd {\n}\n");
	free(out);
}

TK_MAIN(NULL, NULL, test_builders, test_add_elem_checks, test_ranges_coalesce, test_print)
