// SPDX-License-Identifier: GPL-2.0-or-later
/* Config loading and validation: every error class, defaults, a full config, @include. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "tk.h"

/* A valid one-link config on line 1; test text starts on line 2. */
#define L1 "links = ( { name = \"isp1\"; interface = \"wan1\"; } );\n"
/* Two links on line 1. */
#define L2 "links = ( { name = \"isp1\"; interface = \"wan1\"; }, " \
	   "{ name = \"isp2\"; interface = \"wan2\"; } );\n"

static struct ul_config *parse_ok(const char *text)
{
	struct ul_diag d = { 0 };
	struct ul_config *c = NULL;
	int r = ul_config_parse_string(text, "t.conf", &c, &d);

	if (r != 0)
		tk_diag_dump(&d);
	assert_int_equal(r, 0);
	assert_non_null(c);
	assert_int_equal(d.n, 0);
	ul_diag_free(&d);
	return c;
}

/* Parse text as "t.conf"; it must fail and report every one of the NULL-terminated messages
 * (at most 20); the case's name (NULL: none) says which one did not. */
static void expect_list(const char *name, const char *text, const char *const *msgs)
{
	struct ul_diag d = { 0 };
	struct ul_config *c = (struct ul_config *)0x1;
	int r = ul_config_parse_string(text, "t.conf", &c, &d);

	if (r != -EINVAL)
		fail_msg("case %s: parsing returned %d, not -EINVAL", name ? name : "", r);
	assert_ptr_equal(c, (struct ul_config *)0x1);  /* untouched on failure */
	for (size_t i = 0; i < 20 && msgs[i]; i++) {
		if (!tk_diag_has(&d, msgs[i])) {
			fprintf(stderr, "case %s: missing: %s\n", name ? name : "", msgs[i]);
			tk_diag_dump(&d);
			fail();
		}
	}
	ul_diag_free(&d);
}

/* the same for a text made at run time, the messages as arguments */
static void expect_errs(const char *text, ...)
{
	const char *msgs[21] = { 0 };
	size_t n = 0;
	va_list ap;

	va_start(ap, text);
	while (n < 20 && (msgs[n] = va_arg(ap, const char *)))
		n++;
	va_end(ap);
	expect_list(NULL, text, msgs);
}

#define expect_err(text, msg) expect_errs(text, msg, (const char *)NULL)

/* The checks of the config texts that parse (oks[], at the end), each named after its
 * case; the texts that must fail are in errors[]. */

/* ---- syntax and types ---- */

static void int64_and_hex_ok1(const struct ul_config *c)
{
	assert_int_equal(c->links[0].weight, 30);
	assert_int_equal(c->links[0].table, 16);
	assert_int_equal(c->daemon.mark_mask, 0xff0000);
	assert_int_equal(c->daemon.balance_table, 0xfffffff0u);
	assert_int_equal(c->daemon.rule_priority, 256);
}

static void int64_and_hex_ok2(const struct ul_config *c)
{
	assert_int_equal(c->daemon.mark_mask, 0xf0000000u);
	assert_int_equal(c->daemon.balance_table, 4000000000u);
}

static void test_truncated_literals(void **state)
{
	struct ul_diag d = { 0 };
	struct ul_config *c = NULL;

	/* reported once, not again as a range error */
	assert_int_equal(ul_config_parse_string(L1 "daemon = { balance_table = 3000000000; };\n",
						"t.conf", &c, &d), -EINVAL);
	assert_int_equal(d.n, 1);
	ul_diag_free(&d);
	c = parse_ok(L1 "# 3000000000 in a comment\n/* 0x1ffffffff */ lan = { networks = "
		     "[ \"10.0.0.0/8\" ]; }; // 5000000000\n");
	ul_config_free(c);
}

/* ---- ranges ---- */

static void ranges_ok(const struct ul_config *c)
{
	assert_int_equal(c->links[0].check.interval_ms, 50);
	assert_int_equal(c->links[0].check.timeout_ms, 60000);
	assert_int_equal(c->links[0].weight, 256);
	assert_int_equal(c->daemon.rule_priority, 32666);
}

/* ---- links ---- */

/* "links = ( ... );" of n links l0..l(n-1) on eth0..eth(n-1), one a line from line 2 */
static void links_text(char *buf, size_t len, int n)
{
	size_t o = (size_t)snprintf(buf, len, "links = (\n");

	for (int i = 0; i < n; i++)
		o += (size_t)snprintf(buf + o, len - o,
				      "%s{ name = \"l%d\"; interface = \"eth%d\"; }\n",
				      i ? "," : "", i, i);
	snprintf(buf + o, len - o, ");\n");
}

static void test_link_count(void **state)
{
	char buf[4096];

	links_text(buf, sizeof(buf), 9);
	expect_err(buf, "t.conf:10: links: 9 links, at most 8 are supported");
	/* exactly 8 is fine */
	links_text(buf, sizeof(buf), 8);
	struct ul_config *c = parse_ok(buf);

	assert_int_equal(c->n_links, 8);
	assert_int_equal(c->links[7].table, 208);
	assert_int_equal(ul_config_link_index(c, "l7"), 7);
	assert_int_equal(ul_config_link_index(c, "l8"), -1);
	ul_config_free(c);
}

static void link_names_ok(const struct ul_config *c)
{
	assert_string_equal(c->links[0].name, "a-b_9abcdefghij");
}

static void link_duplicates_ok(const struct ul_config *c)
{
	assert_int_equal(c->links[0].table, 201);
	assert_int_equal(c->links[1].table, 203);
	assert_int_equal(c->links[2].table, 202);
}

static void link_tables_ok(const struct ul_config *c)
{
	assert_int_equal(c->links[0].table, 202);
}

static void interfaces_ok(const struct ul_config *c)
{
	assert_string_equal(c->links[0].ifname, "abcdefghijklmno");
}

static void gateway_ok(const struct ul_config *c)
{
	char buf[UL_ADDR_STRLEN];

	assert_int_equal(c->links[0].gw_mode, UL_GW_AUTO);
	assert_int_equal(c->links[1].gw_mode, UL_GW_STATIC);
	assert_string_equal(ul_addr_format(&c->links[1].gateway, buf, sizeof(buf)), "192.168.0.1");
	assert_int_equal(c->links[2].gw_mode, UL_GW_NONE);
	assert_int_equal(c->links[2].gw6_mode, UL_GW_STATIC);
	assert_int_equal(c->links[2].gateway6.family, AF_INET6);
	assert_int_equal(c->links[3].gw_mode, UL_GW_NONE);
}

/* ---- a gateway pair: snat to the shared address ---- */

static void snat_ok1(const struct ul_config *c)
{
	char buf[UL_ADDR_STRLEN];

	assert_int_equal(c->links[0].snat.family, AF_INET);
	assert_int_equal(c->links[0].snat.plen, 32);
	assert_string_equal(ul_addr_format(&c->links[0].snat, buf, sizeof(buf)), "192.168.1.10");
	assert_false(c->links[0].masquerade);   /* snat replaces masquerade */
	assert_string_equal(ul_addr_format(&c->links[1].snat, buf, sizeof(buf)), "192.168.2.10");
	assert_false(c->links[1].masquerade);
	assert_int_equal(c->links[2].snat.family, 0);
	assert_true(c->links[2].masquerade);
}

/* ---- checks ---- */

static void test_check_targets(void **state)
{
	char buf[2048];
	size_t o = (size_t)snprintf(buf, sizeof(buf), "links = ( { name = \"a\"; interface = "
				    "\"wan1\";\n check = { targets = [ ");

	for (int i = 1; i <= 17; i++)
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s\"192.0.2.%d\"",
				      i > 1 ? ", " : "", i);
	snprintf(buf + o, sizeof(buf) - o, " ]; }; } );\n");
	expect_err(buf, "t.conf:2: links[0].check.targets: 17 entries, at most 16 allowed");
}

static void test_check_methods(void **state)
{
	struct ul_config *c = parse_ok(
		"links = (\n"
		"  { name = \"a\"; interface = \"wan1\"; check = { method = \"dns\"; targets = "
		"\"192.0.2.53\"; dns_name = \"www.Example-1.org.\"; }; },\n"
		"  { name = \"b\"; interface = \"wan2\"; check = { method = \"http\"; targets = "
		"[ \"2001:db8::1\" ]; http_path = \"/health?x=1\"; port = 8080; }; },\n"
		"  { name = \"c\"; interface = \"wan3\"; check = { method = \"tcp\"; targets = "
		"[ \"192.0.2.1\", \"192.0.2.2\" ]; quorum = 2; }; },\n"
		"  { name = \"d\"; interface = \"wan4\"; check = { targets = [ \"192.0.2.1\" ]; "
		"}; }\n"
		");\n");

	assert_int_equal(c->links[0].check.method, UL_CHECK_DNS);
	assert_int_equal(c->links[0].check.port, 53);
	assert_int_equal(c->links[0].check.n_targets, 1);
	assert_string_equal(c->links[0].check.dns_name, "www.Example-1.org.");
	assert_int_equal(c->links[1].check.method, UL_CHECK_HTTP);
	assert_int_equal(c->links[1].check.port, 8080);
	assert_string_equal(c->links[1].check.http_path, "/health?x=1");
	assert_int_equal(c->links[1].check.targets[0].family, AF_INET6);
	assert_int_equal(c->links[2].check.method, UL_CHECK_TCP);
	assert_int_equal(c->links[2].check.port, 80);
	assert_int_equal(c->links[2].check.quorum, 2);
	assert_int_equal(c->links[3].check.method, UL_CHECK_ICMP);   /* the default */
	assert_string_equal(ul_check_method_name(c->links[0].check.method), "dns");
	assert_string_equal(ul_check_method_name(UL_CHECK_ICMP), "icmp");
	assert_string_equal(ul_check_method_name(UL_CHECK_TCP), "tcp");
	assert_string_equal(ul_check_method_name(UL_CHECK_HTTP), "http");
	ul_config_free(c);

	char long_label[200], long_name[300];

	memset(long_label, 'a', 64);
	long_label[64] = '\0';
	long_name[0] = '\0';
	for (int i = 0; i < 26; i++)
		strcat(long_name, "abcdefghi.");      /* 260 characters */
	strcat(long_name, "org");
	char buf[2048];

	snprintf(buf, sizeof(buf),
		 "links = (\n"
		 "  { name = \"a\"; interface = \"wan1\"; check = { method = \"ping\"; targets = "
		 "[ \"192.0.2.1\" ]; }; },\n"
		 "  { name = \"b\"; interface = \"wan2\"; check = { method = \"dns\"; targets = "
		 "[ \"192.0.2.1\" ];\n    dns_name = \"%s.com\"; }; },\n"
		 "  { name = \"c\"; interface = \"wan3\"; check = { method = \"dns\"; targets = "
		 "[ \"192.0.2.1\" ];\n    dns_name = \"%s\"; }; },\n"
		 "  { name = \"d\"; interface = \"wan4\"; check = { method = \"dns\"; targets = "
		 "[ \"192.0.2.1\" ];\n    dns_name = \"bad..name\"; }; },\n"
		 "  { name = \"e\"; interface = \"wan5\"; check = { method = \"dns\"; targets = "
		 "[ \"192.0.2.1\" ];\n    dns_name = \"sp ace.org\"; http_path = \"health\"; }; "
		 "},\n"
		 "  { name = \"f\"; interface = \"wan6\"; check = { method = \"http\"; targets = "
		 "[ \"192.0.2.1\" ];\n    http_path = \"/a b\"; }; }\n"
		 ");\n", long_label, long_name);
	expect_errs(buf,
		    "t.conf:2: links[0].check.method: \"ping\" is not one of icmp|dns|tcp|http",
		    "t.conf:4: links[1].check.dns_name: "
		    "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		    "aaaaaaaaaaaaaaaaaaa.com\" is not a valid DNS name",
		    "t.conf:8: links[3].check.dns_name: \"bad..name\" is not a valid DNS name",
		    "t.conf:10: links[4].check.dns_name: \"sp ace.org\" is not a valid DNS name",
		    "t.conf:10: links[4].check.http_path: \"health\" is not a valid path (\"/...\" "
		    "without spaces, < 256 characters)",
		    "t.conf:12: links[5].check.http_path: \"/a b\" is not a valid path (\"/...\" "
		    "without spaces, < 256 characters)", (const char *)NULL);
	/* the 263-character name */
	struct ul_diag d = { 0 };
	struct ul_config *cc = NULL;

	assert_int_equal(ul_config_parse_string(buf, "t.conf", &cc, &d), -EINVAL);
	bool found = false;

	for (size_t i = 0; i < d.n; i++)
		if (!strncmp(d.msgs[i], "t.conf:6: links[2].check.dns_name: \"abcdefghi.", 46) &&
		    strstr(d.msgs[i], "is not a valid DNS name"))
			found = true;
	assert_true(found);
	ul_diag_free(&d);
}

static void no_check_ok(const struct ul_config *c)
{
	assert_int_equal(c->links[0].check.n_targets, 0);
	assert_int_equal(c->links[0].check.interval_ms, 1000);
}

/* ---- daemon ---- */

static void test_daemon(void **state)
{
	char tmpl[] = "/tmp/ul-cfg-XXXXXX", path[PATH_MAX + 64], buf[8192], longsock[200];

	tk_tmpdir(tmpl, sizeof(tmpl), "ul-cfg");
	snprintf(path, sizeof(path), "%s/hook", tmpl);
	tk_write(NULL, path, "");		/* a hook that is there, not executable */
	memset(longsock, 'a', 120);
	longsock[0] = '/';
	longsock[120] = '\0';
	snprintf(buf, sizeof(buf), L1
		 "daemon = {\n"
		 "  log_level = \"verbose\";\n"
		 "  control_socket = \"run/x.sock\";\n"
		 "  control_group = \"no-such-group-ul\";\n"
		 "  hook = \"%s\";\n"
		 "};\n", path);
	expect_errs(buf,
		    "t.conf:3: daemon.log_level: \"verbose\" is not one of "
		    "error|warning|notice|info|debug",
		    "t.conf:4: daemon.control_socket: \"run/x.sock\" is not an absolute path",
		    (const char *)NULL);
	char want[PATH_MAX + 200];

	snprintf(buf, sizeof(buf), L1 "daemon = { control_socket = \"%s\"; hook = \"hooks/x\"; "
				      "};\n",
		 longsock);
	snprintf(want, sizeof(want), "t.conf:2: daemon.control_socket: \"%s\" is too long (at most "
		 "107 characters)", longsock);
	expect_errs(buf, want, "t.conf:2: daemon.hook: \"hooks/x\" is not an absolute path",
		    (const char *)NULL);
	/* whether the group exists and the hook can be run is the host check's business
	 * (tests/unit/daemon/test_hostcheck.c): parsing takes them as they are, and
	 * remembers where they were given */
	snprintf(buf, sizeof(buf), L1 "daemon = {\n  control_group = \"no-such-group-ul\";\n"
		 "  hook = \"%s\";\n};\n", path);
	struct ul_config *hc = parse_ok(buf);

	assert_string_equal(hc->daemon.control_group, "no-such-group-ul");
	assert_string_equal(hc->daemon.control_group_at.at, "t.conf:3: daemon.control_group");
	assert_int_equal(hc->daemon.control_group_at.line, 3);
	assert_string_equal(hc->daemon.hook, path);
	assert_string_equal(hc->daemon.hook_at.at, "t.conf:4: daemon.hook");
	ul_config_free(hc);

	/* valid: an executable hook, the root group, every log level */
	assert_int_equal(chmod(path, 0755), 0);
	snprintf(buf, sizeof(buf), L1 "daemon = { hook = \"%s\"; control_group = \"root\"; "
		 "log_level = \"debug\"; control_socket = \"/run/u.sock\"; };\n", path);
	struct ul_config *c = parse_ok(buf);

	assert_string_equal(c->daemon.hook, path);
	assert_string_equal(c->daemon.control_group, "root");
	assert_string_equal(c->daemon.control_socket, "/run/u.sock");
	assert_int_equal(c->daemon.log_level, LOG_DEBUG);
	ul_config_free(c);
	static const char *const lv[] = { "error", "warning", "notice", "info", "debug" };
	static const int lvv[] = { LOG_ERR, LOG_WARNING, LOG_NOTICE, LOG_INFO, LOG_DEBUG };

	for (int i = 0; i < 5; i++) {
		snprintf(buf, sizeof(buf), L1 "daemon = { log_level = \"%s\"; };\n", lv[i]);
		c = parse_ok(buf);
		assert_int_equal(c->daemon.log_level, lvv[i]);
		ul_config_free(c);
	}
	unlink(path);
	rmdir(tmpl);
}

static void mark_mask_ok1(const struct ul_config *c)
{
	assert_int_equal(c->daemon.mark_mask, 0xf000);
}

static void mark_mask_ok2(const struct ul_config *c)
{
	assert_int_equal(c->daemon.mark_mask, 0xffffffffu);
}

static void mark_mask_ok3(const struct ul_config *c)
{
    /* 0xf0000 in decimal */
	assert_int_equal(c->daemon.mark_mask, 0xf0000);
}

/* ---- lan ---- */

static void lan_ok1(const struct ul_config *c)
{
	char buf[UL_ADDR_STRLEN];

	assert_int_equal(c->lan.n_ifnames, 2);
	assert_string_equal(c->lan.ifnames[1], "lan1");
	assert_int_equal(c->lan.n_networks, 3);
	assert_string_equal(ul_addr_format(&c->lan.networks[1], buf, sizeof(buf)), "10.0.1.5");
	assert_string_equal(ul_addr_format(&c->lan.networks[2], buf, sizeof(buf)),
			    "2001:db8::/64");
}

static void lan_ok2(const struct ul_config *c)
{
	assert_int_equal(c->lan.n_ifnames, 0);
	assert_null(c->lan.networks);
}

/* ---- rules ---- */

static void rules_ok(const struct ul_config *c)
{
	assert_int_equal(c->n_rules, 4);
	const struct ul_rule_conf *r = &c->rules[0];

	assert_string_equal(r->name, "mail");
	assert_int_equal(r->proto, UL_PROTO_TCP);
	assert_int_equal(r->n_dport, 3);
	assert_int_equal(r->dport[0].lo, 25);
	assert_int_equal(r->dport[0].hi, 25);
	assert_int_equal(r->dport[2].lo, 993);
	assert_int_equal(r->dport[2].hi, 995);
	assert_int_equal(r->n_via, 2);
	assert_int_equal(r->via[0], 1);
	assert_int_equal(r->via[1], 0);
	assert_int_equal(r->fallback, UL_FALLBACK_BALANCE);
	assert_int_equal(r->line, 3);
	r = &c->rules[1];
	assert_int_equal(r->n_dst, 2);
	assert_int_equal(r->dst[0].plen, 24);
	assert_int_equal(r->dst[1].family, AF_INET6);
	assert_int_equal(r->n_via, 1);
	assert_int_equal(r->via[0], 1);
	assert_int_equal(r->fallback, UL_FALLBACK_DROP);
	assert_int_equal(r->proto, UL_PROTO_ANY);
	r = &c->rules[2];
	assert_int_equal(r->proto, UL_PROTO_UDP);
	assert_int_equal(r->n_src, 1);
	assert_int_equal(r->n_sport, 1);
	assert_int_equal(r->sport[0].lo, 1000);
	assert_int_equal(r->sport[0].hi, 2000);
	r = &c->rules[3];
	assert_string_equal(r->name, "rule4");
	assert_int_equal(r->n_via, 0);       /* exclusion */
	assert_int_equal(r->proto, UL_PROTO_ICMP);
}

/* ---- port forwards ---- */

static void pf_ok(const struct ul_config *c)
{
	char buf[UL_ADDR_STRLEN];

	assert_int_equal(c->n_pfs, 4);
	assert_int_equal(c->pfs[0].proto, UL_PROTO_TCP);
	assert_int_equal(c->pfs[0].port, 8080);
	assert_int_equal(c->pfs[0].to_port, 80);
	assert_string_equal(ul_addr_format(&c->pfs[0].to, buf, sizeof(buf)), "10.0.0.5");
	assert_int_equal(c->pfs[0].links, 0x2);
	assert_int_equal(c->pfs[1].proto, UL_PROTO_UDP);
	assert_int_equal(c->pfs[1].to_port, 53);      /* default: the same port */
	assert_int_equal(c->pfs[1].links, 0x3);       /* default: every link */
	assert_int_equal(c->pfs[2].to.family, AF_INET6);
	assert_int_equal(c->pfs[2].to_port, 5353);
	assert_string_equal(c->pfs[2].name, "pf3");
	assert_int_equal(c->pfs[3].to_port, 54);
	assert_int_equal(c->pfs[3].line, 6);
}

/* ---- sticky ---- */

/* ---- IPv6 ---- */

static void ipv6_link_ok(const struct ul_config *c)
{
	char buf[UL_ADDR_STRLEN];

	assert_int_equal(c->links[0].gw6_mode, UL_GW_AUTO);
	assert_true(c->links[0].gw6_explicit);
	assert_int_equal(c->links[0].nat6, UL_NAT6_MASQUERADE);
	assert_int_equal(ul_check_family_targets(&c->links[0].check, AF_INET), 1);
	assert_int_equal(ul_check_family_targets(&c->links[0].check, AF_INET6), 1);
	assert_int_equal(c->links[1].gw6_mode, UL_GW_STATIC);
	assert_string_equal(ul_addr_format(&c->links[1].gateway6, buf, sizeof(buf)), "fe80::1");
	assert_int_equal(c->links[1].nat6, UL_NAT6_PREFIX);
	assert_true(c->links[1].has_prefix6);
	assert_string_equal(ul_addr_format(&c->links[1].prefix6, buf, sizeof(buf)),
			    "2001:db8:1:100::/56");
	assert_int_equal(c->links[2].nat6, UL_NAT6_NONE);
	assert_int_equal(c->links[3].gw6_mode, UL_GW_NONE);
	assert_true(c->links[3].gw6_explicit);
	/* the default: auto, decided by the interface's addresses at run time */
	assert_int_equal(c->links[4].gw6_mode, UL_GW_AUTO);
	assert_false(c->links[4].gw6_explicit);
	assert_string_equal(ul_nat6_name(UL_NAT6_PREFIX), "prefix");
}

static void ipv6_quorum_ok(const struct ul_config *c)
{
	assert_int_equal(c->links[0].check.quorum, 2);
}

static void ipv6_policy_ok(const struct ul_config *c)
{
	assert_int_equal(c->rules[0].src[0].family, AF_INET6);
	assert_int_equal(c->rules[0].src[1].family, AF_INET);
	assert_int_equal(c->pfs[0].to.family, AF_INET6);
	assert_int_equal(c->pfs[0].to_port, 80);
}

static void sticky_ok1(const struct ul_config *c)
{
	assert_false(c->sticky.enabled);
}

static void sticky_ok2(const struct ul_config *c)
{
	assert_true(c->sticky.enabled);
	assert_int_equal(c->sticky.timeout_s, 600);
}

static void sticky_ok3(const struct ul_config *c)
{
	assert_int_equal(c->sticky.timeout_s, 604800);
}

/* ---- all errors of a run, in file order ---- */

static void test_many_errors(void **state)
{
	const char *text = "daemon = { log_level = \"loud\"; };\n"
			   "links = (\n"
			   "  { name = \"isp1\"; interface = \"wan1\"; weight = 0; },\n"
			   "  { name = \"isp1\"; interface = \"wan2\"; tier = 99; }\n"
			   ");\n"
			   "rules = ( { via = [ \"nope\" ]; } );\n"
			   "extra = true;\n";
	struct ul_diag d = { 0 };
	struct ul_config *c = NULL;

	assert_int_equal(ul_config_parse_string(text, "t.conf", &c, &d), -EINVAL);
	assert_null(c);
	if (d.n != 6)
		tk_diag_dump(&d);
	assert_int_equal(d.n, 6);
	assert_string_equal(d.msgs[0], "t.conf:1: daemon.log_level: \"loud\" is not one of "
			    "error|warning|notice|info|debug");
	assert_string_equal(d.msgs[1], "t.conf:3: links[0].weight: 0 is out of range 1..256");
	assert_string_equal(d.msgs[2], "t.conf:4: links[1].tier: 99 is out of range 1..16");
	assert_string_equal(d.msgs[3], "t.conf:4: links[1].name: duplicate name \"isp1\" (first at "
			    "line 3)");
	assert_string_equal(d.msgs[4], "t.conf:6: rules[0].via: unknown link \"nope\"");
	assert_string_equal(d.msgs[5], "t.conf:7: extra: unknown key");
	ul_diag_free(&d);
}

/* ---- defaults ---- */

/* a link's check without any of its keys */
static void check_defaults(const struct ul_check *k)
{
	const struct { const char *key; long long got, want; } ints[] = {
		{ "method", k->method, UL_CHECK_ICMP },
		{ "port", k->port, 80 },
		{ "interval_ms", k->interval_ms, 1000 },
		{ "timeout_ms", k->timeout_ms, 1000 },
		{ "quorum", k->quorum, 1 },
		{ "down_after", k->down_after, 3 },
		{ "up_after", k->up_after, 3 },
		{ "max_rtt_ms", k->max_rtt_ms, 0 },
		{ "max_loss_pct", k->max_loss_pct, 0 },
	};

	for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++)
		if (ints[i].got != ints[i].want)
			fail_msg("check.%s: %lld, not %lld", ints[i].key, ints[i].got, ints[i].want);
	assert_string_equal(k->dns_name, "example.com");
	assert_string_equal(k->http_path, "/");
}

static void defaults_ok(const struct ul_config *c)
{
	assert_string_equal(c->path, "t.conf");
	assert_int_equal(c->daemon.log_level, LOG_INFO);
	assert_string_equal(c->daemon.control_socket, "/run/uplinkd/control.sock");
	assert_string_equal(c->daemon.control_group, "");
	assert_string_equal(c->daemon.hook, "");
	assert_int_equal(c->daemon.hook_timeout_s, 10);
	assert_int_equal(c->daemon.rule_priority, 1000);
	assert_int_equal(c->daemon.mark_mask, 0xff00);
	assert_int_equal(c->daemon.balance_table, 250);
	assert_int_equal(c->n_links, 2);
	for (size_t i = 0; i < 2; i++) {
		const struct ul_link_conf *l = &c->links[i];

		assert_int_equal(l->weight, 1);
		assert_int_equal(l->tier, 1);
		assert_int_equal(l->table, 201 + i);
		assert_true(l->masquerade);
		assert_int_equal(l->gw_mode, UL_GW_NONE);
		check_defaults(&l->check);
	}
	assert_int_equal(c->links[0].line, 2);
	assert_int_equal(c->links[1].line, 3);
	assert_int_equal(c->links[0].check.n_targets, 0);
	assert_int_equal(c->links[1].check.n_targets, 1);
	assert_int_equal(c->n_rules, 0);
	assert_null(c->rules);
	assert_int_equal(c->n_pfs, 0);
	assert_false(c->sticky.enabled);
	assert_int_equal(c->sticky.timeout_s, 600);
}

/* ---- the contract's example (with isp2 defined and a list for the mixed dst_port) ---- */

static const char contract_example[] =
	"daemon = {\n"
	"  log_level = \"info\";\n"
	"  control_socket = \"/run/uplinkd/control.sock\";\n"
	"  control_group = \"root\";\n"
	"  hook_timeout_s = 10;\n"
	"  rule_priority = 1000;\n"
	"};\n"
	"lan = {\n"
	"  interfaces = [ \"lan0\" ];\n"
	"  networks = [ \"10.0.0.0/24\" ];\n"
	"};\n"
	"links = (\n"
	"  {\n"
	"    name = \"isp1\";\n"
	"    interface = \"wan1\";\n"
	"    gateway = \"192.168.0.1\";\n"
	"    weight = 30;\n"
	"    tier = 1;\n"
	"    table = 201;\n"
	"    masquerade = true;\n"
	"    check = {\n"
	"      method = \"icmp\";\n"
	"      targets = [ \"203.0.113.10\", \"203.0.113.11\" ];\n"
	"      port = 80;\n"
	"      dns_name = \"example.com\";\n"
	"      http_path = \"/\";\n"
	"      interval_ms = 1000;\n"
	"      timeout_ms = 1000;\n"
	"      quorum = 1;\n"
	"      down_after = 3;\n"
	"      up_after = 3;\n"
	"      max_rtt_ms = 0;\n"
	"      max_loss_pct = 0;\n"
	"    };\n"
	"  },\n"
	"  { name = \"isp2\"; interface = \"wan2\"; gateway = \"auto\"; weight = 10; tier = 2;\n"
	"    masquerade = false; check = { method = \"tcp\"; targets = [ \"192.0.2.1\" ]; port = "
	"443; };\n"
	"  }\n"
	");\n"
	"rules = (\n"
	"  { name = \"mail\"; proto = \"tcp\"; dst_port = ( 25, 110, \"993-995\" ); via = [ "
	"\"isp1\", "
	"\"isp2\" ]; },\n"
	"  { name = \"bank\"; dst = [ \"198.51.100.0/24\" ]; via = [ \"isp2\" ]; fallback = "
	"\"drop\"; },\n"
	"  { name = \"office2\"; src = [ \"10.0.1.0/24\" ]; via = [ \"isp2\" ]; }\n"
	");\n"
	"sticky = { by = \"source\"; timeout_s = 600; };\n"
	"port_forwards = (\n"
	"  { name = \"web\"; proto = \"tcp\"; port = 8080; to = \"10.0.0.5:80\"; links = [ "
	"\"isp1\", "
	"\"isp2\" ]; }\n"
	");\n";

static void contract_example_ok(const struct ul_config *c)
{
	char buf[UL_ADDR_STRLEN];

	assert_string_equal(c->daemon.control_group, "root");
	assert_int_equal(c->lan.n_ifnames, 1);
	assert_string_equal(c->lan.ifnames[0], "lan0");
	assert_int_equal(c->lan.n_networks, 1);
	assert_int_equal(c->n_links, 2);
	assert_string_equal(c->links[0].name, "isp1");
	assert_string_equal(c->links[0].ifname, "wan1");
	assert_int_equal(c->links[0].gw_mode, UL_GW_STATIC);
	assert_string_equal(ul_addr_format(&c->links[0].gateway, buf, sizeof(buf)), "192.168.0.1");
	assert_int_equal(c->links[0].weight, 30);
	assert_int_equal(c->links[0].table, 201);
	assert_int_equal(c->links[0].check.n_targets, 2);
	assert_string_equal(ul_addr_format(&c->links[0].check.targets[1], buf, sizeof(buf)),
			    "203.0.113.11");
	assert_int_equal(c->links[0].line, 13);
	assert_int_equal(c->links[1].gw_mode, UL_GW_AUTO);
	assert_int_equal(c->links[1].tier, 2);
	assert_int_equal(c->links[1].table, 202);
	assert_false(c->links[1].masquerade);
	assert_int_equal(c->links[1].check.method, UL_CHECK_TCP);
	assert_int_equal(c->links[1].check.port, 443);
	assert_int_equal(c->n_rules, 3);
	assert_string_equal(c->rules[2].name, "office2");
	assert_int_equal(c->rules[2].via[0], 1);
	assert_true(c->sticky.enabled);
	assert_int_equal(c->n_pfs, 1);
	assert_int_equal(c->pfs[0].links, 0x3);
	assert_int_equal(ul_config_link_index(c, "isp2"), 1);
}

/* ---- files and @include ---- */

static void write_file(const char *dir, const char *name, const char *text)
{
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_include(void **state)
{
	char dir[] = "/tmp/ul-cfg-XXXXXX", path[PATH_MAX], want[PATH_MAX + 200];
	struct ul_diag d = { 0 };
	struct ul_config *c = NULL;

	assert_non_null(mkdtemp(dir));
	write_file(dir, "links.conf", "links = (\n"
		   "  { name = \"isp1\"; interface = \"wan1\"; },\n"
		   "  { name = \"isp2\"; interface = \"wan2\"; }\n"
		   ");\n");
	write_file(dir, "main.conf", "daemon = { log_level = \"debug\"; };\n"
		   "@include \"links.conf\"\n"
		   "rules = ( { via = [ \"isp2\" ]; } );\n");
	snprintf(path, sizeof(path), "%s/main.conf", dir);
	assert_int_equal(ul_config_load(path, &c, &d), 0);
	assert_non_null(c);
	assert_int_equal(c->n_links, 2);
	assert_int_equal(c->rules[0].via[0], 1);
	assert_string_equal(c->path, path);
	ul_config_free(c);
	c = NULL;

	/* an error inside the included file names that file and its line */
	write_file(dir, "links.conf", "links = (\n"
		   "  { name = \"isp1\"; interface = \"wan1\"; },\n"
		   "  { name = \"isp2\"; interface = \"wan2\"; weight = 999; }\n"
		   ");\n");
	assert_int_equal(ul_config_load(path, &c, &d), -EINVAL);
	assert_null(c);
	snprintf(want, sizeof(want), "%s/links.conf:3: links[1].weight: 999 is out of range 1..256",
		 dir);
	if (!tk_diag_has(&d, want))
		tk_diag_dump(&d);
	assert_true(tk_diag_has(&d, want));
	ul_diag_free(&d);

	/* ... also a syntax error */
	write_file(dir, "links.conf", "links = (\n  { name = ; }\n);\n");
	assert_int_equal(ul_config_load(path, &c, &d), -EINVAL);
	snprintf(want, sizeof(want), "%s/links.conf:2: syntax error", dir);
	assert_int_equal(d.n, 1);
	assert_string_equal(d.msgs[0], want);
	ul_diag_free(&d);

	/* ... and an integer libconfig would truncate */
	write_file(dir, "links.conf", "links = (\n  { name = \"isp2\"; interface = \"wan1\";\n"
		   "    table = 5000000000; }\n);\n");
	assert_int_equal(ul_config_load(path, &c, &d), -EINVAL);
	snprintf(want, sizeof(want), "%s/links.conf:3: integer 5000000000 is out of range for 32 "
		 "bits (add L for a 64-bit integer)", dir);
	if (d.n != 1 || strcmp(d.msgs[0], want))
		tk_diag_dump(&d);
	assert_int_equal(d.n, 1);
	assert_string_equal(d.msgs[0], want);
	ul_diag_free(&d);

	/* a missing include file: named, with the reason */
	unlink(path);
	write_file(dir, "main.conf", "\n@include \"nothere.conf\"\n");
	assert_int_equal(ul_config_load(path, &c, &d), -EINVAL);
	snprintf(want, sizeof(want), "%s:2: @include \"nothere.conf\": cannot read "
				     "%s/nothere.conf: "
		 "No such file or directory", path, dir);
	assert_int_equal(d.n, 1);
	assert_string_equal(d.msgs[0], want);
	ul_diag_free(&d);

	/* parse_string resolves @include against the directory of its name */
	write_file(dir, "links.conf", "links = ( { name = \"isp1\"; interface = \"wan1\"; } );\n");
	assert_int_equal(ul_config_parse_string("@include \"links.conf\"\n", path, &c, &d), 0);
	assert_int_equal(c->n_links, 1);
	ul_config_free(c);

	snprintf(want, sizeof(want), "%s/links.conf", dir);
	unlink(want);
	unlink(path);
	rmdir(dir);
}

static void test_load_errors(void **state)
{
	char dir[] = "/tmp/ul-cfg-XXXXXX", path[PATH_MAX];
	struct ul_diag d = { 0 };
	struct ul_config *c = NULL;
	FILE *f;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/missing.conf", dir);
	assert_int_equal(ul_config_load(path, &c, &d), -ENOENT);
	assert_null(c);
	assert_int_equal(d.n, 1);
	char want[PATH_MAX + 100];

	snprintf(want, sizeof(want), "%s: No such file or directory", path);
	assert_string_equal(d.msgs[0], want);
	ul_diag_free(&d);

	assert_int_equal(ul_config_load(dir, &c, &d), -EISDIR);
	ul_diag_free(&d);

	f = fopen(path, "w");
	assert_non_null(f);
	fwrite(L1 "\0x", 1, sizeof(L1) + 1, f);
	fclose(f);
	assert_int_equal(ul_config_load(path, &c, &d), -EINVAL);
	snprintf(want, sizeof(want), "%s: contains a NUL byte (not a text file)", path);
	assert_string_equal(d.msgs[0], want);
	ul_diag_free(&d);

	/* a file's messages carry the path as given */
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(L1 "sticky = { timeout_s = -1; };\n", f);
	fclose(f);
	assert_int_equal(ul_config_load(path, &c, &d), -EINVAL);
	snprintf(want, sizeof(want), "%s:2: sticky.timeout_s: -1 is out of range 1..604800", path);
	assert_int_equal(d.n, 1);
	assert_string_equal(d.msgs[0], want);
	ul_diag_free(&d);
	unlink(path);
	rmdir(dir);
}

static void test_shipped_example(void **state)
{
	char path[PATH_MAX];
	struct ul_diag d = { 0 };
	struct ul_config *c = NULL;
	const char *slash;

	snprintf(path, sizeof(path), "conf/uplinkd.conf");
	if (access(path, R_OK)) {
		slash = strrchr(__FILE__, '/');
		snprintf(path, sizeof(path), "%.*s/../../conf/uplinkd.conf",
			 slash ? (int)(slash - __FILE__) : 1, slash ? __FILE__ : ".");
	}
	if (access(path, R_OK))
		skip();
	if (ul_config_load(path, &c, &d))
		tk_diag_dump(&d);
	assert_non_null(c);
	assert_int_equal(c->n_links, 2);
	assert_true(c->n_rules > 0);
	assert_true(c->n_pfs > 0);
	assert_true(c->sticky.enabled);
	ul_config_free(c);
	ul_diag_free(&d);
}

static void test_diag(void **state)
{
	struct ul_diag d = { 0 };

	ul_diag_add(&d, "%s:%d: %s", "f", 3, "x");
	ul_diag_add(&d, "second");
	assert_int_equal(d.n, 2);
	assert_string_equal(d.msgs[0], "f:3: x");
	ul_diag_free(&d);
	assert_int_equal(d.n, 0);
	assert_null(d.msgs);
}

/* ---- config texts that must fail, each with every one of its messages (cases named after
 * the test they belong to) ---- */

static const struct err_case {
	const char *name;
	const char *text;
	const char *msgs[20];
} errors[] = {
	{ "syntax_error 1",
	  L1 "daemon = {\n  log_level = ;\n};\n",
	  { "t.conf:3: syntax error" } },
	{ "syntax_error 2",
	  L1 "a = 1;\na = 2;\n",
	  { "t.conf:3: duplicate setting name" } },
	/* libconfig arrays cannot mix integers and strings: say how to write it */
	{ "syntax_error 3",
	  L1 "rules = ( { proto = \"tcp\"; dst_port = [ 25, \"993-995\" ]; } );\n",
	  { "t.conf:2: mismatched element type in array (an array [ ] holds values of one "
	    "type; use a list ( ) to mix ports and \"A-B\" ranges)" } },
	{ "unknown_keys 1",
	  L1 "bogus = 1;\n"
	  "daemon = { verbose = true; };\n"
	  "lan = { iface = \"lan0\"; };\n"
	  "sticky = { by = \"source\"; ttl = 5; };\n"
	  "rules = ( { name = \"r\"; port = 5; } );\n"
	  "port_forwards = ( { proto = \"tcp\"; port = 1; to = \"10.0.0.1\"; via = 1; "
	  "} );\n",
	  { "t.conf:2: bogus: unknown key",
	    "t.conf:3: daemon.verbose: unknown key",
	    "t.conf:4: lan.iface: unknown key",
	    "t.conf:5: sticky.ttl: unknown key",
	    "t.conf:6: rules[0].port: unknown key",
	    "t.conf:7: port_forwards[0].via: unknown key" } },
	{ "unknown_keys 2",
	  "links = (\n"
	  "  { name = \"isp1\"; interface = \"wan1\"; speed = 10;\n"
	  "    check = { targets = [ \"192.0.2.1\" ];\n"
	  "      bogus = 1; }; }\n"
	  ");\n",
	  { "t.conf:2: links[0].speed: unknown key",
	    "t.conf:4: links[0].check.bogus: unknown key" } },
	{ "wrong_types",
	  "links = (\n"
	  "  { name = 5; interface = \"wan1\"; },\n"
	  "  { name = \"isp2\"; interface = \"wan2\"; weight = \"30\"; },\n"
	  "  { name = \"isp3\"; interface = \"wan3\"; tier = 1.5; masquerade = "
	  "\"yes\"; },\n"
	  "  { name = \"isp4\"; interface = \"wan4\"; check = [ 1 ]; }\n"
	  ");\n",
	  { "t.conf:2: links[0].name: expected a string, got the integer 5",
	    "t.conf:3: links[1].weight: expected an integer, got the string \"30\"",
	    "t.conf:4: links[2].tier: expected an integer, got the float 1.5",
	    "t.conf:4: links[2].masquerade: expected a boolean, got the string \"yes\"",
	    "t.conf:5: links[3].check: expected a group, got an array" } },
	{ "wrong_types_more",
	  L1 "daemon = 7;\n"
	  "lan = { interfaces = [ 5 ]; };\n"
	  "rules = { name = \"x\"; };\n"
	  "port_forwards = ( 5 );\n",
	  { "t.conf:2: daemon: expected a group, got the integer 7",
	    "t.conf:3: lan.interfaces[0]: expected an interface name (string), got the "
	    "integer 5",
	    "t.conf:4: rules: expected a list of groups, got a group",
	    "t.conf:5: port_forwards[0]: expected a group, got the integer 5" } },
	/* libconfig 1.5 would silently wrap these to 32 bits */
	{ "truncated_literals 1",
	  L1 "daemon = { balance_table = 3000000000; };\n"
	  "sticky = { timeout_s = 0x100000001; };\n",
	  { "t.conf:2: integer 3000000000 is out of range for 32 bits (add L for a 64-bit "
	    "integer)",
	    "t.conf:3: integer 0x100000001 is too large for 32 bits (add L for a 64-bit "
	    "integer)" } },
	/* too big even for 64 bits, and a float that only looks big: fine */
	{ "truncated_literals 2",
	  L1 "daemon = { balance_table = 99999999999999999999L; };\n",
	  { "t.conf:2: integer 99999999999999999999 is out of range for 64 bits" } },
	{ "ranges 1",
	  "links = (\n"
	  "  { name = \"isp0\"; interface = \"wan0\"; },\n"
	  "  { name = \"isp1\"; interface = \"wan1\";\n"
	  "    weight = 300; tier = 17; table = 0;\n"
	  "    check = { targets = [ \"192.0.2.1\" ]; interval_ms = 49; timeout_ms = "
	  "60001;\n"
	  "      down_after = 0; up_after = 101; max_rtt_ms = 60001; max_loss_pct = "
	  "101;\n"
	  "      port = 65536; quorum = 0; };\n"
	  "  }\n"
	  ");\n"
	  "daemon = { hook_timeout_s = 0; rule_priority = 32667; balance_table = 0; };\n"
	  "sticky = { timeout_s = 604801; };\n",
	  { "t.conf:4: links[1].weight: 300 is out of range 1..256",
	    "t.conf:4: links[1].tier: 17 is out of range 1..16",
	    "t.conf:4: links[1].table: 0 is out of range 1..4294967280",
	    "t.conf:5: links[1].check.interval_ms: 49 is out of range 50..3600000",
	    "t.conf:5: links[1].check.timeout_ms: 60001 is out of range 10..60000",
	    "t.conf:6: links[1].check.down_after: 0 is out of range 1..100",
	    "t.conf:6: links[1].check.up_after: 101 is out of range 1..100",
	    "t.conf:6: links[1].check.max_rtt_ms: 60001 is out of range 0..60000",
	    "t.conf:6: links[1].check.max_loss_pct: 101 is out of range 0..100",
	    "t.conf:7: links[1].check.port: 65536 is out of range 1..65535",
	    "t.conf:7: links[1].check.quorum: 0 is out of range 1..16",
	    "t.conf:10: daemon.hook_timeout_s: 0 is out of range 1..3600",
	    "t.conf:10: daemon.rule_priority: 32667 is out of range 1..32666",
	    "t.conf:10: daemon.balance_table: 0 is out of range 1..4294967280",
	    "t.conf:11: sticky.timeout_s: 604801 is out of range 1..604800" } },
	/* hex values are shown in hex */
	{ "ranges 2",
	  L1 "daemon = { balance_table = 0xfffffff1; };\n",
	  { "t.conf:2: daemon.balance_table: 0xfffffff1 is out of range 0x1..0xfffffff0" } },
	{ "link_count 1",
	  "daemon = { log_level = \"info\"; };\n",
	  { "t.conf:1: links: missing: at least one link is required" } },
	{ "link_count 2",
	  "\nlinks = ( );\n",
	  { "t.conf:2: links: empty: at least one link is required" } },
	{ "link_names",
	  "links = (\n"
	  "  { name = \"ISP1\"; interface = \"wan1\"; },\n"
	  "  { name = \"abcdefghijklmnop\"; interface = \"wan2\"; },\n"
	  "  { name = \"\"; interface = \"wan3\"; },\n"
	  "  { interface = \"wan4\"; },\n"
	  "  { name = \"isp.5\"; interface = \"wan5\"; }\n"
	  ");\n",
	  { "t.conf:2: links[0].name: \"ISP1\" is not a valid link name (1..15 of a-z "
	    "0-9 _ -)",
	    "t.conf:3: links[1].name: \"abcdefghijklmnop\" is not a valid link name "
	    "(1..15 of "
	    "a-z 0-9 _ -)",
	    "t.conf:4: links[2].name: \"\" is not a valid link name (1..15 of a-z 0-9 _ -)",
	    "t.conf:5: links[3].name: missing (every link needs a name)",
	    "t.conf:6: links[4].name: \"isp.5\" is not a valid link name (1..15 of a-z "
	    "0-9 _ -)" } },
	{ "link_duplicates 1",
	  "links = (\n"
	  "  { name = \"isp1\"; interface = \"wan1\"; table = 300; },\n"
	  "  {\n"
	  "    name = \"isp2\";\n"
	  "    interface = \"wan2\";\n"
	  "  },\n"
	  "  { name = \"isp1\"; interface = \"wan1\"; table = 300; },\n"
	  "  { name = \"isp4\"; interface = \"wan4\"; table = 202; }\n"
	  ");\n",
	  { "t.conf:7: links[2].name: duplicate name \"isp1\" (first at line 2)",
	    "t.conf:7: links[2].interface: \"wan1\" is already the interface of link "
	    "\"isp1\" "
	    "(line 2)",
	    "t.conf:7: links[2].table: 300 is already the table of link \"isp1\" (line 2)" } },
	/* the brief's example form */
	{ "link_duplicates 2",
	  "links = (\n"
	  "  { name = \"isp1\"; interface = \"wan1\"; },\n"
	  "  { name = \"isp1\"; interface = \"wan2\"; }\n"
	  ");\n",
	  { "t.conf:3: links[1].name: duplicate name \"isp1\" (first at line 2)" } },
	{ "link_tables 1",
	  "links = (\n"
	  "  { name = \"isp1\"; interface = \"wan1\"; table = 254; },\n"
	  "  { name = \"isp2\"; interface = \"wan2\"; table = 250; },\n"
	  "  { name = \"isp3\"; interface = \"wan3\"; table = 253; }\n"
	  ");\n"
	  "daemon = { balance_table = 255; };\n",
	  { "t.conf:2: links[0].table: 254 is reserved (253, 254 and 255 are the kernel's "
	    "tables)",
	    "t.conf:4: links[2].table: 253 is reserved (253, 254 and 255 are the kernel's "
	    "tables)",
	    "t.conf:6: daemon.balance_table: 255 is reserved (253, 254 and 255 are the "
	    "kernel's tables)" } },
	{ "link_tables 2",
	  "links = (\n"
	  "  { name = \"isp1\"; interface = \"wan1\"; table = 250; }\n"
	  ");\n",
	  { "t.conf:2: links[0].table: 250 is also daemon.balance_table" } },
	{ "interfaces",
	  "links = (\n"
	  "  { name = \"a\"; interface = \"\"; },\n"
	  "  { name = \"b\"; interface = \"abcdefghijklmnop\"; },\n"
	  "  { name = \"c\"; interface = \"et/h0\"; },\n"
	  "  { name = \"d\"; interface = \"eth0:1\"; },\n"
	  "  { name = \"e\"; interface = \"eth 0\"; },\n"
	  "  { name = \"f\"; }\n"
	  ");\n",
	  { "t.conf:2: links[0].interface: \"\" is not a valid interface name",
	    "t.conf:3: links[1].interface: \"abcdefghijklmnop\" is not a valid interface "
	    "name",
	    "t.conf:4: links[2].interface: \"et/h0\" is not a valid interface name",
	    "t.conf:5: links[3].interface: \"eth0:1\" is not a valid interface name",
	    "t.conf:6: links[4].interface: \"eth 0\" is not a valid interface name",
	    "t.conf:7: links[5].interface: missing (every link needs an interface)" } },
	{ "gateway 1",
	  "links = ( { name = \"a\"; interface = \"wan1\"; gateway = \"dhcp\"; },\n"
	  "  { name = \"b\"; interface = \"wan2\"; gateway = \"192.168.0.0/24\"; } );\n",
	  { "t.conf:1: links[0].gateway: \"dhcp\" is not an IPv4 address or \"auto\"",
	    "t.conf:2: links[1].gateway: \"192.168.0.0/24\" is not an IPv4 address or "
	    "\"auto\"" } },
	{ "gateway 2",
	  "links = ( { name = \"a\"; interface = \"wan1\"; gateway = \"fe80::1\"; } );\n",
	  { "t.conf:1: links[0].gateway: \"fe80::1\" is an IPv6 address: IPv6 next hops go "
	    "in gateway6" } },
	{ "snat 1",
	  "lan = { interfaces = [ \"lan0\" ]; };\n"
	  "links = ( { name = \"a\"; interface = \"wan1\"; snat = \"192.168.1.0/24\"; },\n"
	  "  { name = \"b\"; interface = \"wan2\"; snat = \"2001:db8::1\"; },\n"
	  "  { name = \"c\"; interface = \"wan3\"; snat = \"gw\"; },\n"
	  "  { name = \"d\"; interface = \"wan4\"; snat = 5; },\n"
	  "  { name = \"e\"; interface = \"wan5\"; snat = \"224.0.0.18\"; },\n"
	  "  { name = \"f\"; interface = \"wan6\"; snat = \"0.0.0.0\"; },\n"
	  "  { name = \"g\"; interface = \"wan7\"; snat = \"127.0.0.1\"; } );\n",
	  { "t.conf:2: links[0].snat: \"192.168.1.0/24\" is not an IPv4 address",
	    "t.conf:3: links[1].snat: \"2001:db8::1\" is not an IPv4 address",
	    "t.conf:4: links[2].snat: \"gw\" is not an IPv4 address",
	    "t.conf:5: links[3].snat: expected a string, got the integer 5",
	    "t.conf:6: links[4].snat: \"224.0.0.18\" cannot be a source address "
	    "(unspecified, loopback, multicast or reserved)",
	    "t.conf:7: links[5].snat: \"0.0.0.0\" cannot be a source address "
	    "(unspecified, loopback, multicast or reserved)",
	    "t.conf:8: links[6].snat: \"127.0.0.1\" cannot be a source address "
	    "(unspecified, loopback, multicast or reserved)" } },
	{ "snat 2",
	  "lan = { interfaces = [ \"lan0\" ]; };\n"
	  "links = ( { name = \"a\"; interface = \"wan1\"; snat = \"192.168.1.10\";\n"
	  "    masquerade = true; },\n"
	  "  { name = \"b\"; interface = \"wan2\"; snat = \"192.168.1.10\"; } );\n",
	  { "t.conf:2: links[0].snat: and masquerade = true exclude each other (snat "
	    "replaces masquerade)",
	    "t.conf:4: links[1].snat: 192.168.1.10 is already the snat address of link "
	    "\"a\"" } },
	/* without a LAN every connection would be translated, the probes too */
	{ "snat 3",
	  "links = ( { name = \"a\"; interface = \"wan1\"; snat = \"192.168.1.10\"; } );\n",
	  { "t.conf:1: links[0].snat: needs lan.interfaces or an IPv4 network in "
	    "lan.networks (only LAN connections are translated)" } },
	{ "snat 4",
	  "lan = { networks = [ \"fd00::/64\" ]; };\n"
	  "links = ( { name = \"a\"; interface = \"wan1\"; snat = \"192.168.1.10\"; } );\n",
	  { "t.conf:2: links[0].snat: needs lan.interfaces or an IPv4 network in "
	    "lan.networks (only LAN connections are translated)" } },
	{ "check_targets",
	  "links = (\n"
	  "  { name = \"a\"; interface = \"wan1\"; check = { method = \"icmp\"; }; },\n"
	  "  { name = \"b\"; interface = \"wan2\"; check = { targets = [ ]; }; },\n"
	  "  { name = \"c\"; interface = \"wan3\"; check = { targets = [ "
	  "\"192.0.2.0/24\","
	  " \"x.example\", \"192.0.2.1\", \"192.0.2.1\" ]; }; },\n"
	  "  { name = \"d\"; interface = \"wan4\"; check = { targets = [ \"192.0.2.1\","
	  " \"192.0.2.2\" ]; quorum = 3; }; }\n"
	  ");\n",
	  { "t.conf:2: links[0].check.targets: missing: a check needs at least one target",
	    "t.conf:3: links[1].check.targets: empty list",
	    "t.conf:4: links[2].check.targets[0]: \"192.0.2.0/24\" is not a host address "
	    "(no "
	    "prefix allowed)",
	    "t.conf:4: links[2].check.targets[1]: \"x.example\" is not an IPv4/IPv6 "
	    "address",
	    "t.conf:4: links[2].check.targets[3]: 192.0.2.1 is listed twice (also "
	    "targets[2])",
	    "t.conf:5: links[3].check.quorum: 3 is more than the 2 targets" } },
	{ "mark_mask 1",
	  L1 "daemon = {\n mark_mask = 0xf0f0;\n};\n",
	  { "t.conf:3: daemon.mark_mask: "
	    "0xf0f0 "
	    "is not one contiguous run of bits" } },
	{ "mark_mask 2",
	  L1 "daemon = { mark_mask = 0x700; };\n",
	  { "t.conf:2: daemon.mark_mask: 0x700 has 3 bits, at least 4 are needed" } },
	{ "mark_mask 3",
	  L1 "daemon = { mark_mask = 0; };\n",
	  { "t.conf:2: daemon.mark_mask: 0 is out of range 1..4294967295" } },
	{ "lan",
	  L2 "lan = {\n"
	  "  interfaces = [ \"lan0\", \"wan2\", \"lan0\", \"bad/if\" ];\n"
	  "  networks = [ \"10.0.0.1/24\", \"10.0.0.0/16\", \"10.0.1.0/24\", "
	  "\"nonsense\" ];\n"
	  "};\n",
	  { "t.conf:3: lan.interfaces[1]: \"wan2\" is also the interface of link \"isp2\"",
	    "t.conf:3: lan.interfaces[2]: \"lan0\" is listed twice",
	    "t.conf:3: lan.interfaces[3]: \"bad/if\" is not a valid interface name",
	    "t.conf:4: lan.networks[0]: \"10.0.0.1/24\" has host bits set",
	    "t.conf:4: lan.networks[2]: 10.0.1.0/24 overlaps 10.0.0.0/16 (networks[1])",
	    "t.conf:4: lan.networks[3]: \"nonsense\" is not an IPv4/IPv6 address or prefix" } },
	{ "rules_errors 1",
	  L2 "rules = (\n"
	  "  { name = \"mail\"; proto = \"tcp\"; via = [ \"isp1\", \"isp9\", \"isp1\" "
	  "]; },\n"
	  "  { name = \"mail\"; dst = [ \"198.51.100.1/24\" ]; fallback = \"drop\"; },\n"
	  "  { name = \"x y\"; proto = \"gre\"; via = [ \"isp9\" ]; },\n"
	  "  { dst_port = [ 80 ]; via = [ ]; },\n"
	  "  { proto = \"icmp\"; src_port = [ 1 ]; via = \"isp1\"; fallback = "
	  "\"maybe\"; },\n"
	  "  { proto = \"udp\"; dst_port = ( 0, 65536, \"10-5\", \"1-70000\", \"x\", "
	  "\"20-30\","
	  " 25, \"30-40\" ); }\n"
	  ");\n",
	  { "t.conf:3: rules[0].via: unknown link \"isp9\"",
	    "t.conf:3: rules[0].via: link \"isp1\" is listed twice",
	    "t.conf:4: rules[1].name: duplicate name \"mail\" (first at line 3)",
	    "t.conf:4: rules[1].dst[0]: \"198.51.100.1/24\" has host bits set",
	    "t.conf:4: rules[1].fallback: only allowed with via (a rule without via is an "
	    "exclusion)",
	    "t.conf:5: rules[2].name: \"x y\" is not a valid name (1..32 of A-Z a-z 0-9 "
	    "_ -)",
	    "t.conf:5: rules[2].proto: \"gre\" is not one of tcp|udp|icmp",
	    "t.conf:5: rules[2].via: unknown link \"isp9\"",
	    "t.conf:6: rules[3].dst_port: ports need proto \"tcp\" or \"udp\"",
	    "t.conf:6: rules[3].via: empty list",
	    "t.conf:7: rules[4].src_port: ports need proto \"tcp\" or \"udp\"",
	    "t.conf:7: rules[4].fallback: \"maybe\" is not one of balance|drop",
	    "t.conf:8: rules[5].dst_port[0]: 0 is out of range 1..65535",
	    "t.conf:8: rules[5].dst_port[1]: 65536 is out of range 1..65535",
	    "t.conf:8: rules[5].dst_port[2]: \"10-5\" is not a port or port range (N or "
	    "A-B, "
	    "1 <= A <= B <= 65535)",
	    "t.conf:8: rules[5].dst_port[3]: \"1-70000\" is not a port or port range (N or "
	    "A-B, 1 <= A <= B <= 65535)",
	    "t.conf:8: rules[5].dst_port[4]: \"x\" is not a port or port range (N or A-B, "
	    "1 <= A <= B <= 65535)",
	    "t.conf:8: rules[5].dst_port[6]: 25 overlaps 20-30 (dst_port[5])",
	    "t.conf:8: rules[5].dst_port[7]: 30-40 overlaps 20-30 (dst_port[5])" } },
	/* the brief's example, at index 2 */
	{ "rules_errors 2",
	  L2 "rules = ( { via = [ \"isp1\" ]; }, { via = [ \"isp2\" ]; },\n"
	  "  { via = [ \"isp9\" ]; } );\n",
	  { "t.conf:3: rules[2].via: unknown link "
	    "\"isp9\"" } },
	/* auto names can collide with an explicit one */
	{ "rules_errors 3",
	  L1 "rules = ( { dst = [ \"192.0.2.0/24\" ]; },\n { name = \"rule1\"; } );\n",
	  { "t.conf:3: rules[1].name: duplicate name \"rule1\" (first at line 2)" } },
	{ "pf",
	  L2 "port_forwards = (\n"
	  "  { name = \"web\"; proto = \"tcp\"; port = 8080; to = \"10.0.0.5:80\"; "
	  "links = "
	  "[ \"isp1\", \"isp3\" ]; },\n"
	  "  { name = \"web\"; proto = \"tcp\"; port = 8080; to = \"10.0.0.6\"; },\n"
	  "  { name = \"dns\"; proto = \"icmp\"; port = 53; to = \"10.0.0.5:0\"; },\n"
	  "  { name = \"x\"; },\n"
	  "  { proto = \"udp\"; port = 9; to = \"10.0.0.0/24\"; links = [ \"isp1\", "
	  "\"isp1\" ]; },\n"
	  "  { proto = \"udp\"; port = 10; to = \"2001:db8::5:80\"; },\n"
	  "  { proto = \"udp\"; port = 11; to = \"[10.0.0.1]:80\"; },\n"
	  "  { proto = \"udp\"; port = 12; to = \"10.0.0.1:x\"; }\n"
	  ");\n",
	  { "t.conf:3: port_forwards[0].links: unknown link \"isp3\"",
	    "t.conf:4: port_forwards[1].name: duplicate name \"web\" (first at line 3)",
	    "t.conf:4: port_forwards[1].port: tcp port 8080 is already forwarded by "
	    "\"web\" "
	    "(line 3)",
	    "t.conf:5: port_forwards[2].proto: \"icmp\" is not one of tcp|udp",
	    "t.conf:5: port_forwards[2].to: \"10.0.0.5:0\" is not \"ADDR\" or "
	    "\"ADDR:PORT\" "
	    "(port 1..65535)",
	    "t.conf:6: port_forwards[3].proto: missing (\"tcp\" or \"udp\")",
	    "t.conf:6: port_forwards[3].port: missing (the outside port, 1..65535)",
	    "t.conf:6: port_forwards[3].to: missing (\"ADDR\" or \"ADDR:PORT\")",
	    "t.conf:7: port_forwards[4].to: \"10.0.0.0/24\" is not \"ADDR\" or "
	    "\"ADDR:PORT\" "
	    "(port 1..65535)",
	    "t.conf:7: port_forwards[4].links: link \"isp1\" is listed twice",
	    "t.conf:9: port_forwards[6].to: \"[10.0.0.1]:80\" is not \"ADDR\" or "
	    "\"ADDR:PORT\" "
	    "(port 1..65535)",
	    "t.conf:10: port_forwards[7].to: \"10.0.0.1:x\" is not \"ADDR\" or "
	    "\"ADDR:PORT\" "
	    "(port 1..65535)" } },
	{ "ipv6_link_errors 1",
	  "links = ( { name = \"a\"; interface = \"wan1\"; gateway6 = \"192.168.1.1\"; },\n"
	  "  { name = \"b\"; interface = \"wan2\"; gateway6 = \"ff02::2\"; },\n"
	  "  { name = \"c\"; interface = \"wan3\"; gateway6 = \"dhcp\"; nat6 = \"nat\"; },\n"
	  "  { name = \"d\"; interface = \"wan4\"; nat6 = \"prefix\"; },\n"
	  "  { name = \"e\"; interface = \"wan5\"; prefix6 = \"2001:db8::/48\"; },\n"
	  "  { name = \"f\"; interface = \"wan6\"; nat6 = \"none\"; prefix6 = \"10.0.0.0/8\"; },\n"
	  "  { name = \"g\"; interface = \"wan7\"; nat6 = \"none\"; prefix6 = \"2001:db8::/96\"; },\n"
	  "  { name = \"h\"; interface = \"wan8\"; gateway6 = \"none\"; nat6 = \"masquerade\";\n"
	  "    check = { targets = [ \"192.0.2.1\", \"2001:db8::1\" ]; }; } );\n",
	  { "t.conf:1: links[0].gateway6: \"192.168.1.1\" is an IPv4 address: IPv4 next hops go "
	    "in gateway",
	    "t.conf:2: links[1].gateway6: \"ff02::2\" cannot be a next hop (multicast, "
	    "unspecified or loopback)",
	    "t.conf:3: links[2].gateway6: \"dhcp\" is not an IPv6 address, \"auto\" or \"none\"",
	    "t.conf:3: links[2].nat6: \"nat\" is not one of masquerade|prefix|none",
	    "t.conf:4: links[3].nat6: \"prefix\" needs prefix6 (the link's routed prefix)",
	    "t.conf:5: links[4].prefix6: only used with nat6 = \"prefix\" or \"none\" (nat6 is "
	    "\"masquerade\")",
	    "t.conf:6: links[5].prefix6: \"10.0.0.0/8\" is not an IPv6 prefix "
	    "(\"2001:db8:1::/48\")",
	    "t.conf:7: links[6].prefix6: /96: a routed prefix is /8 to /64 long",
	    "t.conf:8: links[7].nat6: the link carries no IPv6 (gateway6 = \"none\")",
	    "t.conf:9: links[7].check.targets: 2001:db8::1 is an IPv6 target, but the link "
	    "carries no IPv6 (gateway6 = \"none\")" } },
	/* the routed prefix against the LAN */
	{ "ipv6_link_errors 2",
	  "lan = { networks = [ \"10.0.0.0/24\" ]; };\n"
	  "links = ( { name = \"a\"; interface = \"wan1\"; nat6 = \"prefix\";\n"
	  "    prefix6 = \"2001:db8:1:100::/64\"; } );\n",
	  { "t.conf:3: links[0].prefix6: nat6 \"prefix\" translates the LAN's IPv6 networks: "
	    "lan.networks lists none" } },
	{ "ipv6_link_errors 3",
	  "lan = { networks = [ \"fd00:10::/48\", \"2001:db8:5::/64\" ]; };\n"
	  "links = ( { name = \"a\"; interface = \"wan1\"; nat6 = \"prefix\";\n"
	  "    prefix6 = \"2001:db8:1:100::/64\"; },\n"
	  "  { name = \"b\"; interface = \"wan2\"; nat6 = \"none\"; prefix6 = \"2001:db8:2::/64\"; },\n"
	  "  { name = \"c\"; interface = \"wan3\"; nat6 = \"none\"; prefix6 = \"2001:db8:5::/64\"; },\n"
	  "  { name = \"d\"; interface = \"wan4\"; nat6 = \"none\"; prefix6 = \"2001:db8:5::/64\"; } );\n",
	  { "t.conf:3: links[0].prefix6: 2001:db8:1:100::/64 is longer than lan network "
	    "fd00:10::/48: prefix translation keeps the host bits, so the LAN prefix may be at "
	    "most as long",
	    "t.conf:4: links[1].prefix6: 2001:db8:2::/64 (nat6 \"none\": the LAN numbers from it) "
	    "is not in lan.networks",
	    "t.conf:6: links[3].prefix6: 2001:db8:5::/64 overlaps prefix6 2001:db8:5::/64 of "
	    "link \"c\"" } },
	{ "ipv6_quorum",
	  "links = ( { name = \"a\"; interface = \"wan1\"; check = { targets = [\n"
	  " \"192.0.2.1\", \"192.0.2.2\", \"2001:db8::1\" ];\n quorum = 2; }; } );\n",
	  { "t.conf:3: links[0].check.quorum: 2 is more than the 1 IPv6 target (quorum "
	    "counts per family)" } },
	{ "ipv6_policy",
	  L1
	  "port_forwards = ( { proto = \"tcp\"; port = 80; to = \"[fe80::5]:80\"; },\n"
	  "  { proto = \"tcp\"; port = 81; to = \"[ff02::1]\"; } );\n",
	  { "t.conf:2: port_forwards[0].to: \"[fe80::5]:80\" is not a LAN host's IPv6 address "
	    "(link-local, multicast, unspecified or loopback)",
	    "t.conf:3: port_forwards[1].to: \"[ff02::1]\" is not a LAN host's IPv6 address "
	    "(link-local, multicast, unspecified or loopback)" } },
	{ "sticky",
	  L1 "sticky = { by = \"destination\"; timeout_s = 0; };\n",
	  { "t.conf:2: sticky.by: \"destination\" is not \"source\" (the only supported "
	    "key)",
	    "t.conf:2: sticky.timeout_s: 0 is out of range 1..604800" } },
	/* control characters in values stay on one line */
	{ "diag",
	  L1 "lan = { interfaces = [ \"a\\nb\" ]; };\n",
	  { "t.conf:2: lan.interfaces[0]: \"a\\x0ab\" is not a valid interface name" } },
};

static void test_errors(void **state)
{
	for (size_t i = 0; i < sizeof(errors) / sizeof(errors[0]); i++)
		expect_list(errors[i].name, errors[i].text, errors[i].msgs);
}

/* ---- config texts that parse, each with what it must give ---- */

static const struct ok_case {
	const char *name;
	const char *text;
	void (*check)(const struct ul_config *c);       /* NULL: parsing is all */
} oks[] = {
	{ "int64_and_hex 1",
	  "links = ( { name = \"isp1\"; interface = \"wan1\"; "
	  "weight = 30L; table = 0x10; } );\n"
	  "daemon = { mark_mask = 0xff0000; balance_table = "
	  "0xfffffff0; "
	  "rule_priority = 0x100; };\n",
	  int64_and_hex_ok1 },
	{ "int64_and_hex 2",
	  L1 "daemon = { mark_mask = 0xf0000000; balance_table = 4000000000L; };\n",
	  int64_and_hex_ok2 },
	/* limits themselves are fine; timeout above interval is allowed */
	{ "ranges",
	  "links = ( { name = \"isp1\"; interface = \"wan1\"; weight = 256; tier = 16;\n"
	  "  check = { targets = [ \"192.0.2.1\" ]; interval_ms = 50; timeout_ms = 60000;\n"
	  "    down_after = 100; up_after = 1; max_rtt_ms = 60000; max_loss_pct = 100; }; "
	  "} );\n"
	  "daemon = { rule_priority = 32666; hook_timeout_s = 3600; };\n",
	  ranges_ok },
	{ "link_names",
	  "links = ( { name = \"a-b_9abcdefghij\"; interface = "
	  "\"wan1\"; } );\n",
	  link_names_ok },
	/* a given table that is another link's default is no error: the link without one
	 * gets a free table (identity.h) */
	{ "link_duplicates",
	  "links = (\n"
	  "  { name = \"isp1\"; interface = \"wan1\"; },\n"
	  "  { name = \"isp2\"; interface = \"wan2\"; },\n"
	  "  { name = \"isp3\"; interface = \"wan3\"; table = 202; }\n"
	  ");\n",
	  link_duplicates_ok },
	/* a default table where the balance table is: the link gets the next free one */
	{ "link_tables",
	  "daemon = { balance_table = 201; };\n"
	  "links = ( { name = \"isp1\"; interface = \"wan1\"; } );\n",
	  link_tables_ok },
	/* 15 characters is the maximum */
	{ "interfaces",
	  "links = ( { name = \"a\"; interface = "
	  "\"abcdefghijklmno\"; } );\n",
	  interfaces_ok },
	{ "gateway",
	  "links = ( { name = \"a\"; interface = \"wan1\"; gateway = \"auto\"; },\n"
	  "  { name = \"b\"; interface = \"wan2\"; gateway = \"192.168.0.1\"; },\n"
	  "  { name = \"c\"; interface = \"wan3\"; gateway6 = \"fe80::1\";\n"
	  "    check = { targets = [ \"192.0.2.1\" ]; }; },\n"
	  "  { name = \"d\"; interface = \"ppp0\"; } );\n",
	  gateway_ok },
	{ "snat 1",
	  "lan = { interfaces = [ \"lan0\" ]; };\n"
	  "links = ( { name = \"a\"; interface = \"wan1\"; snat = \"192.168.1.10\"; },\n"
	  "  { name = \"b\"; interface = \"wan2\"; snat = \"192.168.2.10\"; masquerade = false; },\n"
	  "  { name = \"c\"; interface = \"wan3\"; } );\n",
	  snat_ok1 },
	/* an IPv4 LAN network is enough to tell LAN connections from the router's own */
	{ "snat 2",
	  "lan = { networks = [ \"10.0.0.0/24\" ]; };\n"
	  "links = ( { name = \"a\"; interface = \"wan1\"; snat = \"192.168.1.10\"; } );\n",
	  NULL },
	{ "no_check",
	  L1,
	  no_check_ok },
	{ "mark_mask 1",
	  L1 "daemon = { mark_mask = 0xf000; };\n",
	  mark_mask_ok1 },
	{ "mark_mask 2",
	  L1 "daemon = { mark_mask = 0xffffffff; };\n",
	  mark_mask_ok2 },
	{ "mark_mask 3",
	  L1 "daemon = { mark_mask = 983040; };\n",
	  mark_mask_ok3 },
	{ "lan 1",
	  L2 "lan = { interfaces = [ \"lan0\", \"lan1\" ];\n"
	  "networks = [ \"10.0.0.0/24\", \"10.0.1.5\", "
	  "\"2001:db8::/64\" ]; };\n",
	  lan_ok1 },
	/* lan is optional */
	{ "lan 2",
	  L1,
	  lan_ok2 },
	{ "rules_ok",
	  L2 "rules = (\n"
	  "  { name = \"mail\"; proto = \"tcp\"; dst_port = ( 25, 110, \"993-995\" );\n"
	  "    via = [ \"isp2\", \"isp1\" ]; },\n"
	  "  { name = \"bank\"; dst = [ \"198.51.100.0/24\", \"2001:db8::/32\" ]; via = "
	  "\"isp2\";"
	  " fallback = \"drop\"; },\n"
	  "  { name = \"office2\"; src = [ \"10.0.1.0/24\" ]; proto = \"udp\"; src_port = "
	  "[ \"1000-2000\" ]; via = [ \"isp1\" ]; fallback = \"balance\"; },\n"
	  "  { dst = [ \"192.0.2.7\" ]; proto = \"icmp\"; }\n"
	  ");\n",
	  rules_ok },
	{ "pf",
	  L2 "port_forwards = (\n"
	  "  { name = \"web\"; proto = \"tcp\"; port = 8080; to = \"10.0.0.5:80\"; links = "
	  "[ \"isp2\" ]; },\n"
	  "  { name = \"dns\"; proto = \"udp\"; port = 53; to = \"10.0.0.53\"; },\n"
	  "  { proto = \"tcp\"; port = 53; to = \"[2001:db8::53]:5353\"; },\n"
	  "  { proto = \"udp\"; port = 54; to = \"2001:db8::54\"; }\n"
	  ");\n",
	  pf_ok },
	{ "ipv6_link",
	  "lan = { interfaces = [ \"lan0\" ]; networks = [ \"10.0.0.0/24\", \"fd00:10::/64\","
	  " \"2001:db8:2:100::/64\" ]; };\n"
	  "links = ( { name = \"a\"; interface = \"wan1\"; gateway = \"192.168.1.1\";\n"
	  "    gateway6 = \"auto\"; check = { targets = [ \"203.0.113.11\", \"2001:db8:ffff::11\" ]; }; },\n"
	  "  { name = \"b\"; interface = \"wan2\"; gateway6 = \"fe80::1\"; nat6 = \"prefix\";\n"
	  "    prefix6 = \"2001:db8:1:100::/56\"; },\n"
	  "  { name = \"c\"; interface = \"wan3\"; gateway6 = \"2001:db8:2::1\"; nat6 = \"none\";\n"
	  "    prefix6 = \"2001:db8:2:100::/64\"; },\n"
	  "  { name = \"d\"; interface = \"wan4\"; gateway6 = \"none\"; },\n"
	  "  { name = \"e\"; interface = \"wan5\"; } );\n",
	  ipv6_link_ok },
	{ "ipv6_quorum",
	  "links = ( { name = \"a\"; interface = \"wan1\"; check = { targets = [ \"192.0.2.1\","
	  " \"192.0.2.2\", \"2001:db8::1\", \"2001:db8::2\" ]; quorum = 2; }; } );\n",
	  ipv6_quorum_ok },
	{ "ipv6_policy",
	  L2
	  "rules = ( { name = \"v6\"; src = [ \"fd00:10::/64\", \"10.0.0.0/24\" ];\n"
	  "  dst = [ \"2001:db8:99::/48\" ]; via = [ \"isp2\" ]; fallback = \"drop\"; } );\n"
	  "port_forwards = ( { proto = \"tcp\"; port = 8080; to = \"[fd00:10::5]:80\"; },\n"
	  "  { name = \"web4\"; proto = \"tcp\"; port = 8080; to = \"10.0.0.5:80\"; } );\n"
	  "sticky = { by = \"source\"; };\n",
	  ipv6_policy_ok },
	{ "sticky 1",
	  L1,
	  sticky_ok1 },
	{ "sticky 2",
	  L1 "sticky = { by = \"source\"; };\n",
	  sticky_ok2 },
	{ "sticky 3",
	  L1 "sticky = { by = \"source\"; timeout_s = 604800; };\n",
	  sticky_ok3 },
	{ "defaults",
	  "links = (\n"
	  "  { name = \"isp1\"; interface = \"wan1\"; },\n"
	  "  { name = \"isp2\"; interface = \"wan2\";\n"
	  "    check = { targets = [ \"192.0.2.1\" ]; }; }\n"
	  ");\n",
	  defaults_ok },
	{ "contract_example",
	  contract_example,
	  contract_example_ok },
};

static void test_parse_ok(void **state)
{
	for (size_t i = 0; i < sizeof(oks) / sizeof(oks[0]); i++) {
		struct ul_config *c;

		print_message("case %s\n", oks[i].name);
		c = parse_ok(oks[i].text);
		if (oks[i].check)
			oks[i].check(c);
		ul_config_free(c);
	}
}

TK_MAIN(NULL, NULL, test_errors, test_parse_ok, test_truncated_literals, test_link_count,
	test_check_targets, test_check_methods, test_daemon, test_many_errors, test_include,
	test_load_errors, test_shipped_example, test_diag)
