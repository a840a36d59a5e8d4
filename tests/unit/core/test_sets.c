// SPDX-License-Identifier: GPL-2.0-or-later
/* Named sets: the prefix-file parser, the sets section (files read through an injected
 * reader), src_set/dst_set in rules, and what the planner makes of them. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "config.h"
#include "tk.h"
#include "plan.h"
#include "setdiff.h"
#include "setfile.h"

/* ---- the file parser ---- */

static void setfile_good(void **state)
{
	static const char text[] = "# bank\n\n10.0.0.0/8\n  192.0.2.1   # one host\r\n"
				   "\t198.51.100.0/24\n10.0.0.0/8\n203.0.113.0/25";   /* no final NL */
	struct ul_diag d = { 0 };
	struct ul_addr *v = NULL;
	char b[UL_ADDR_STRLEN];
	size_t n = 0;

	assert_int_equal(ul_setfile_parse(text, strlen(text), "bank.txt", AF_INET, &v, &n, &d), 0);
	assert_int_equal(d.n, 0);
	assert_int_equal(n, 5);         /* the duplicate is kept; the set merges it */
	assert_string_equal(ul_addr_format(&v[0], b, sizeof(b)), "10.0.0.0/8");
	assert_string_equal(ul_addr_format(&v[1], b, sizeof(b)), "192.0.2.1");
	assert_string_equal(ul_addr_format(&v[4], b, sizeof(b)), "203.0.113.0/25");
	free(v);

	/* empty and comment-only files hold no prefix */
	assert_int_equal(ul_setfile_parse("# nothing\n\n", 11, "e.txt", AF_INET, &v, &n, &d), 0);
	assert_null(v);
	assert_int_equal(n, 0);
	assert_int_equal(ul_setfile_parse("", 0, "e.txt", AF_INET6, &v, &n, &d), 0);
	assert_int_equal(n, 0);

	/* IPv6 */
	assert_int_equal(ul_setfile_parse("2001:db8::/32\n::1\n", 18, "v6.txt", AF_INET6, &v, &n,
					  &d), 0);
	assert_int_equal(n, 2);
	free(v);
}

static void setfile_bad(void **state)
{
	static const char text[] = "10.0.0.0/8\n1.2.3.4/8\nfoo\n::1\n1.2.3.0/24 x\n10.0.0.0/33\n"
				   "ok\0bad\n";
	struct ul_diag d = { 0 };
	struct ul_addr *v = (struct ul_addr *)0x1;
	size_t n = 7;

	assert_int_equal(ul_setfile_parse(text, sizeof(text) - 1, "/etc/b.txt", AF_INET, &v, &n,
					  &d), -EINVAL);
	assert_null(v);
	assert_int_equal(n, 0);
	if (d.n != 6)
		tk_diag_dump(&d);
	assert_int_equal(d.n, 6);
	assert_true(tk_diag_has(&d, "/etc/b.txt:2: \"1.2.3.4/8\" has host bits set"));
	assert_true(tk_diag_has(&d, "/etc/b.txt:3: \"foo\" is not an IPv4/IPv6 address or prefix"));
	assert_true(tk_diag_has(&d, "/etc/b.txt:4: \"::1\" is IPv6, in a set of type \"ipv4\""));
	assert_true(tk_diag_has(&d, "/etc/b.txt:5: \"1.2.3.0/24 x\" holds more than one field (one "
				"prefix a line)"));
	assert_true(tk_diag_has(&d, "/etc/b.txt:6: \"10.0.0.0/33\" has a bad prefix length"));
	assert_true(tk_diag_has(&d, "/etc/b.txt:7: \"ok\\x00bad\" contains a NUL byte"));
	ul_diag_free(&d);

	/* many bad lines: the first ones, then a count */
	{
		char big[64 * 40];
		size_t o = 0;

		for (int i = 0; i < 30; i++)
			o += (size_t)snprintf(big + o, sizeof(big) - o, "bad%d\n", i);
		assert_int_equal(ul_setfile_parse(big, o, "m.txt", AF_INET, &v, &n, &d), -EINVAL);
		assert_int_equal(d.n, UL_SETFILE_MAX_ERRORS + 1);
		assert_string_equal(d.msgs[UL_SETFILE_MAX_ERRORS], "m.txt: 10 more bad lines");
		ul_diag_free(&d);
	}
}

/* ---- config, with files from memory ---- */

struct memfs {
	const char *path[4], *text[4];
	size_t n;
	char asked[4][256];
	size_t n_asked;
};

static int mem_read(void *ctx, const char *path, char **text, size_t *len)
{
	struct memfs *m = ctx;

	if (m->n_asked < 4)
		snprintf(m->asked[m->n_asked++], sizeof(m->asked[0]), "%s", path);
	for (size_t i = 0; i < m->n; i++)
		if (!strcmp(m->path[i], path)) {
			*len = strlen(m->text[i]);
			*text = strdup(m->text[i]);
			return *text ? 0 : -ENOMEM;
		}
	return -ENOENT;
}

#define LINKS "links = ( { name = \"isp1\"; interface = \"wan1\"; gateway = \"192.168.1.1\"; }, " \
	      "{ name = \"isp2\"; interface = \"wan2\"; gateway = \"192.168.2.1\"; } );\n"

static const char CONTRACT[] = LINKS
	"sets = (\n"
	"  { name = \"bank\"; type = \"ipv4\"; file = \"/etc/uplinkd/bank.txt\"; },\n"
	"  { name = \"streaming4\"; type = \"ipv4\"; timeout_s = 3600; },\n"
	"  { name = \"streaming6\"; type = \"ipv6\"; timeout_s = 3600; },\n"
	"  { name = \"office\"; type = \"ipv4\"; file = \"office.txt\"; }\n"
	");\n"
	"rules = ( { name = \"video\"; dst_set = [ \"streaming4\", \"streaming6\" ]; "
	"via = [ \"isp2\" ]; },\n"
	"  { name = \"bank\"; src_set = [ ]; dst_set = [ \"bank\" ]; via = [ \"isp1\" ]; "
	"fallback = \"drop\"; },\n"
	"  { name = \"mixed\"; src_set = [ \"office\" ]; src = [ \"10.9.0.0/16\" ]; "
	"dst = [ \"203.0.113.0/24\" ]; dst_set = [ \"streaming6\" ]; via = [ \"isp1\" ]; } );\n";

static struct memfs contract_fs(void)
{
	struct memfs m = { .n = 2 };

	m.path[0] = "/etc/uplinkd/bank.txt";
	m.text[0] = "# bank\n198.51.100.0/24\n192.0.2.0/25\n192.0.2.128/25\n";
	m.path[1] = "/cfg/office.txt";
	m.text[1] = "10.1.0.0/16\n";
	return m;
}

static void config_sets(void **state)
{
	struct memfs m = contract_fs();
	struct ul_config_io io = { .read_file = mem_read, .ctx = &m };
	struct ul_diag d = { 0 };
	struct ul_config *c = NULL;

	if (ul_config_parse_string_io(CONTRACT, "/cfg/uplinkd.conf", &io, &c, &d))
		tk_diag_dump(&d);
	assert_non_null(c);
	assert_int_equal(c->n_sets, 4);
	/* absolute paths as they are, relative ones from the config's directory */
	assert_string_equal(m.asked[0], "/etc/uplinkd/bank.txt");
	assert_string_equal(m.asked[1], "/cfg/office.txt");
	assert_string_equal(c->sets[0].name, "bank");
	assert_int_equal(c->sets[0].family, AF_INET);
	assert_false(c->sets[0].dynamic);
	assert_int_equal(c->sets[0].n_elems, 3);
	assert_true(c->sets[1].dynamic);
	assert_int_equal(c->sets[1].timeout_s, 3600);
	assert_int_equal(c->sets[2].family, AF_INET6);
	assert_int_equal(ul_config_set_index(c, "streaming6"), 2);
	assert_int_equal(ul_config_set_index(c, "nope"), -1);
	assert_int_equal(c->rules[0].n_dst_sets, 2);
	assert_int_equal(c->rules[0].dst_sets[1], 2);
	assert_int_equal(c->rules[1].n_src_sets, 0);
	assert_int_equal(c->rules[1].n_dst_sets, 1);
	ul_config_free(c);
}

static void config_set_errors(void **state)
{
	struct memfs m = contract_fs();
	struct ul_config_io io = { .read_file = mem_read, .ctx = &m };
	struct ul_diag d = { 0 };
	struct ul_config *c = NULL;
	static const char text[] = LINKS
		"sets = ( { name = \"bank\"; type = \"ipv4\"; file = \"/etc/uplinkd/bank.txt\"; },\n"
		"  { name = \"bank\"; type = \"ipv4\"; timeout_s = 10; },\n"
		"  { name = \"9x\"; type = \"ipv4\"; timeout_s = 10; },\n"
		"  { name = \"sticky_isp1\"; type = \"ipv4\"; timeout_s = 10; },\n"
		"  { name = \"a\"; type = \"ip\"; timeout_s = 10; },\n"
		"  { name = \"b\"; type = \"ipv4\"; },\n"
		"  { name = \"c\"; type = \"ipv4\"; file = \"x.txt\"; timeout_s = 5; },\n"
		"  { name = \"d\"; type = \"ipv6\"; file = \"missing.txt\"; },\n"
		"  { name = \"e\"; type = \"ipv4\"; timeout_s = 0; frobs = 1; }\n"
		");\n"
		"rules = ( { dst_set = ( \"zz\", \"bank\", \"bank\", 3 ); via = [ \"isp1\" ]; } );\n";

	m.text[0] = "192.0.2.0/24\n# next is bad\n192.0.2.1/24\n";
	assert_int_equal(ul_config_parse_string_io(text, "/cfg/u.conf", &io, &c, &d), -EINVAL);
	assert_null(c);
	{
		static const char *const want[] = {
			"/etc/uplinkd/bank.txt:3: \"192.0.2.1/24\" has host bits set",
			"/cfg/u.conf:3: sets[1].name: duplicate name \"bank\" (first at line 2)",
			"/cfg/u.conf:4: sets[2].name: \"9x\" is not a valid set name (1..32 of "
			"A-Z a-z 0-9 _, not starting with a digit)",
			"/cfg/u.conf:5: sets[3].name: \"sticky_isp1\" is reserved for uplinkd's "
			"own sets and chains (r_*, sticky_*, lan_*, link_*, ul_*, count_*, pre, "
			"pick, post, out, portfwd, nat)",
			"/cfg/u.conf:6: sets[4].type: \"ip\" is not one of ipv4|ipv6",
			"/cfg/u.conf:7: sets[5]: needs file = \"...\" (a prefix file) or timeout_s "
			"= N (a set that other programs fill)",
			"/cfg/u.conf:8: sets[6].timeout_s: a set has either a file or a timeout_s "
			"(filled at run time), not both",
			"/cfg/u.conf:9: sets[7].file: cannot read /cfg/missing.txt: No such file "
			"or directory",
			"/cfg/u.conf:10: sets[8].frobs: unknown key",
			"/cfg/u.conf:10: sets[8].timeout_s: 0 is out of range 1..2592000",
			"/cfg/u.conf:12: rules[0].dst_set[0]: unknown set \"zz\" (not in sets)",
			"/cfg/u.conf:12: rules[0].dst_set[2]: set \"bank\" is listed twice",
			"/cfg/u.conf:12: rules[0].dst_set[3]: expected a set name (string), got the "
			"integer 3",
		};

		for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
			if (!tk_diag_has(&d, want[i])) {
				fprintf(stderr, "missing: %s\n", want[i]);
				tk_diag_dump(&d);
				fail();
			}
	}
	ul_diag_free(&d);
}

/* ---- the planner ---- */

static char *nft_text(const struct ul_plan *p)
{
	char *text = NULL;
	size_t len;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	ul_ruleset_print(f, &p->nft);
	fclose(f);
	return text;
}

static void expect_in(const char *text, const char *want)
{
	if (!strstr(text, want)) {
		fprintf(stderr, "missing: %s\nin:\n%s\n", want, text);
		fail();
	}
}

static void plan_sets(void **state)
{
	struct memfs m = contract_fs();
	struct ul_config_io io = { .read_file = mem_read, .ctx = &m };
	struct ul_diag d = { 0 };
	struct ul_config *c = NULL;
	struct ul_link_rt rt[2];
	struct ul_plan p;
	char *t;

	assert_int_equal(ul_config_parse_string_io(CONTRACT, "/cfg/uplinkd.conf", &io, &c, &d), 0);
	for (size_t i = 0; i < 2; i++) {
		uint8_t a[4] = { 192, 168, (uint8_t)(i + 1), 2 };

		memset(&rt[i], 0, sizeof(rt[i]));
		rt[i].state = UL_ST_UP;
		rt[i].present = rt[i].carrier = rt[i].has_addr = rt[i].has_gw = true;
		rt[i].ifindex = 10 + (int)i;
		rt[i].gw = c->links[i].gateway;
		ul_addr_from_raw(&rt[i].addr, AF_INET, a);
		/* dual-stack links: the IPv6 half of the rules is planned too */
		rt[i].state6 = UL_ST_UP;
		rt[i].has_addr6 = rt[i].has_gw6 = true;
		assert_int_equal(ul_addr_parse(i ? "2001:db8:2::2" : "2001:db8:1::2", false,
					       &rt[i].addr6), 0);
		assert_int_equal(ul_addr_parse("fe80::1", false, &rt[i].gw6), 0);
	}
	assert_int_equal(ul_plan_build(c, rt, &p), 0);
	t = nft_text(&p);
	/* each set under its own name; the two /25s merged into one range */
	expect_in(t, "set bank { type ipv4_addr; flags interval,timeout; gc-interval 1h; elements = { 192.0.2.0/24, "
		     "198.51.100.0/24 } }");
	expect_in(t, "set streaming4 { type ipv4_addr; flags dynamic,timeout; timeout 3600s; }");
	expect_in(t, "set streaming6 { type ipv6_addr; flags dynamic,timeout; timeout 3600s; }");
	/* a side is a union: one nft rule per set, per family */
	expect_in(t, "meta nfproto ipv4 ip daddr @streaming4 meta mark set meta mark & 0xffff00ff "
		     "| 0x00000200 return comment \"rule video\"\n");
	expect_in(t, "meta nfproto ipv6 ip6 daddr @streaming6 meta mark set meta mark & 0xffff00ff "
		     "| 0x00000200 return comment \"rule video\"\n");
	/* src_set = [ ] is no condition */
	expect_in(t, "\t\tmeta nfproto ipv4 ip daddr @bank meta mark set meta mark & 0xffff00ff | "
		     "0x00000100 return comment \"rule bank\"\n");
	/* the cross product of both sides in IPv4; IPv6 has no src here, so no IPv6 rule */
	expect_in(t, "meta nfproto ipv4 ip saddr @r_mixed_src4 ip daddr @r_mixed_dst4 ");
	expect_in(t, "meta nfproto ipv4 ip saddr @office ip daddr @r_mixed_dst4 ");
	assert_null(strstr(t, "@streaming6 meta mark set meta mark & 0xffff00ff | 0x00000100"));
	free(t);
	ul_plan_free(&p);
	ul_config_free(c);
}

static void range_of(struct ul_set_range *r, uint8_t a, uint8_t b)
{
	memset(r, 0, sizeof(*r));
	r->lo[0] = a;
	r->hi[0] = b;
}

static void ranges_diff(void **state)
{
	struct ul_set_range a[4], b[4], *del, *add;
	size_t nd, na;

	range_of(&a[0], 1, 1);
	range_of(&a[1], 3, 4);
	range_of(&a[2], 6, 6);
	range_of(&a[3], 9, 9);
	range_of(&b[0], 1, 1);
	range_of(&b[1], 3, 5);          /* grew: the old one goes, the new one comes */
	range_of(&b[2], 7, 7);
	range_of(&b[3], 9, 9);
	assert_int_equal(ul_set_ranges_diff(a, 4, b, 4, &del, &nd, &add, &na), 0);
	assert_int_equal(nd, 2);
	assert_int_equal(na, 2);
	assert_int_equal(del[0].lo[0], 3);
	assert_int_equal(del[1].lo[0], 6);
	assert_int_equal(add[0].hi[0], 5);
	assert_int_equal(add[1].lo[0], 7);
	free(del);
	free(add);
	/* against nothing */
	assert_int_equal(ul_set_ranges_diff(NULL, 0, b, 4, &del, &nd, &add, &na), 0);
	assert_int_equal(nd, 0);
	assert_int_equal(na, 4);
	free(del);
	free(add);
	assert_int_equal(ul_set_ranges_diff(a, 4, a, 4, &del, &nd, &add, &na), 0);
	assert_int_equal(nd + na, 0);
	free(del);
	free(add);
}

static void ruleset_equal(void **state)
{
	struct memfs m = contract_fs();
	struct ul_config_io io = { .read_file = mem_read, .ctx = &m };
	struct ul_diag d = { 0 };
	struct ul_config *c = NULL, *c2 = NULL;
	struct ul_link_rt rt[2];
	struct ul_plan p, q, r;

	assert_int_equal(ul_config_parse_string_io(CONTRACT, "/cfg/uplinkd.conf", &io, &c, &d), 0);
	m.text[0] = "# bank\n198.51.100.0/24\n192.0.2.0/25\n192.0.2.128/26\n";
	assert_int_equal(ul_config_parse_string_io(CONTRACT, "/cfg/uplinkd.conf", &io, &c2, &d),
			 0);
	memset(rt, 0, sizeof(rt));
	for (size_t i = 0; i < 2; i++) {
		rt[i].state = UL_ST_UP;
		rt[i].present = rt[i].carrier = rt[i].has_addr = rt[i].has_gw = true;
		rt[i].ifindex = 10 + (int)i;
		rt[i].gw = c->links[i].gateway;
		assert_int_equal(ul_addr_parse(i ? "192.168.2.2" : "192.168.1.2", false,
					       &rt[i].addr), 0);
	}
	assert_int_equal(ul_plan_build(c, rt, &p), 0);
	assert_int_equal(ul_plan_build(c, rt, &q), 0);
	assert_int_equal(ul_plan_build(c2, rt, &r), 0);
	assert_true(ul_ruleset_equal(&p.nft, &q.nft));
	assert_false(ul_ruleset_equal(&p.nft, &r.nft));         /* one element differs */
	rt[1].state = UL_ST_DOWN;
	ul_plan_free(&q);
	assert_int_equal(ul_plan_build(c, rt, &q), 0);
	assert_false(ul_ruleset_equal(&p.nft, &q.nft));         /* a mark differs */
	ul_plan_free(&p);
	ul_plan_free(&q);
	ul_plan_free(&r);
	ul_config_free(c);
	ul_config_free(c2);
}

/* ul_addr_parse's fast IPv4 path takes what the full parser takes, with the same value,
 * and leaves every other form to it. */
static void addr_parse_ipv4(void **state)
{
	static const struct { const char *s; bool prefix; int ret; uint8_t plen; uint32_t a; } v[] = {
		{ "1.2.3.4", false, 0, 32, 0x01020304 },
		{ "1.2.3.4", true, 0, 32, 0x01020304 },
		{ "255.255.255.255/32", true, 0, 32, 0xffffffff },
		{ "0.0.0.0/0", true, 0, 0, 0 },
		{ "10.20.0.0/16", true, 0, 16, 0x0a140000 },
		{ "10.20.0.0/016", true, 0, 16, 0x0a140000 },   /* as strtol reads it */
		{ "10.20.0.0/16", false, -EINVAL, 0, 0 },
		{ "10.20.0.1/16", true, -EINVAL, 0, 0 },        /* host bits */
		{ "01.2.3.4", false, -EINVAL, 0, 0 },
		{ "1.2.3.256", false, -EINVAL, 0, 0 },
		{ "1.2.3", false, -EINVAL, 0, 0 },
		{ "1.2.3.4.5", false, -EINVAL, 0, 0 },
		{ "1.2.3.4/33", true, -EINVAL, 0, 0 },
		{ "1.2.3.4/", true, -EINVAL, 0, 0 },
		{ "1.2.3.4/0032", true, -EINVAL, 0, 0 },
		{ "1.2.3.4 ", false, -EINVAL, 0, 0 },
		{ "1.2.3.1234", false, -EINVAL, 0, 0 },
	};
	struct ul_addr a;

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		memset(&a, 0x5a, sizeof(a));
		assert_int_equal(ul_addr_parse(v[i].s, v[i].prefix, &a), v[i].ret);
		if (v[i].ret)
			continue;
		assert_int_equal(a.family, AF_INET);
		assert_int_equal(a.plen, v[i].plen);
		assert_int_equal(tk_be32(a.bytes), v[i].a);
		for (size_t k = 4; k < 16; k++)
			assert_int_equal(a.bytes[k], 0);
	}
	/* IPv6 still goes the full way */
	assert_int_equal(ul_addr_parse("2001:db8::/32", true, &a), 0);
	assert_int_equal(a.family, AF_INET6);
	assert_int_equal(a.plen, 32);
}

TK_MAIN(NULL, NULL, addr_parse_ipv4, setfile_good, setfile_bad, config_sets, config_set_errors,
	plan_sets, ranges_diff, ruleset_equal)
