// SPDX-License-Identifier: GPL-2.0-or-later
/* nft.c against the kernel, in a fresh network namespace (run by tests/integration/
 * kernel_api.sh). `nft` is only used to observe. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <cmocka.h>

#include "ktk.h"
#include "nft.h"
#include "tk.h"

static char out[1 << 22];

static const char *nft_list(void)
{
	const char *argv[] = { "nft", "list", "table", "inet", UL_NFT_TABLE, NULL };

	assert_int_equal(tk_run(out, sizeof(out), argv), 0);
	return out;
}

/* Without set elements and counters: stable between two listings. */
static const char *nft_list_terse(void)
{
	const char *argv[] = { "nft", "-t", "-s", "list", "table", "inet", UL_NFT_TABLE, NULL };

	assert_int_equal(tk_run(out, sizeof(out), argv), 0);
	return out;
}

static void nft_cmd(const char *cmd)
{
	const char *argv[] = { "nft", cmd, NULL };

	if (tk_run(out, sizeof(out), argv) != 0)
		fail_msg("nft %s: %s", cmd, out);
}

static bool has(const char *s, const char *piece)
{
	if (strstr(s, piece))
		return true;
	print_message("missing '%s' in:\n%s\n", piece, s);
	return false;
}

/* A ruleset with every statement kind. `v2` drops chain sub and set nets6 and
 * moves chain pre to another priority. */
static void build(struct ul_ruleset *rs, bool v2, bool flush_sticky)
{
	struct ul_set *s;
	struct ul_nrule *r;
	struct ul_stmt *x;

	memset(rs, 0, sizeof(*rs));
	s = ul_ruleset_add_set(rs, "lan_ifs", UL_KEY_IFNAME, false);
	tk_elem_ifname(s, "lan0", 0);
	tk_elem_ifname(s, "lo", 0);
	tk_elem_ifname(s, "lan0", 0);
	s = ul_ruleset_add_set(rs, "nets4", UL_KEY_IPV4, true);
	tk_elem_prefix(s, "127.0.0.0/8", 0);
	tk_elem_prefix(s, "10.0.0.0/24", 0);
	tk_elem_prefix(s, "10.0.0.128/25", 0);
	tk_elem_prefix(s, "10.0.1.0/24", 0);
	tk_elem_prefix(s, "10.0.3.5", 0);
	tk_elem_prefix(s, v2 ? "172.16.0.0/12" : "192.168.0.0/16", 0);
	s = ul_ruleset_add_set(rs, "hosts4", UL_KEY_IPV4, false);
	tk_elem_prefix(s, "192.0.2.1", 0);
	tk_elem_prefix(s, "192.0.2.1", 0);
	tk_elem_prefix(s, "192.0.2.7", 0);
	if (!v2) {
		s = ul_ruleset_add_set(rs, "nets6", UL_KEY_IPV6, true);
		tk_elem_prefix(s, "2001:db8::/32", 0);
		tk_elem_prefix(s, "::1", 0);
	}
	s = ul_ruleset_add_set(rs, "ports", UL_KEY_PORT, true);
	tk_elem_port(s, 25, 25, 0);
	tk_elem_port(s, 993, 995, 0);
	tk_elem_port(s, 994, 994, 0);
	tk_elem_port(s, 9999, 9999, 0);
	tk_elem_port(s, 60000, 65535, 0);
	s = ul_ruleset_add_set(rs, "sticky_isp1", UL_KEY_IPV4, false);
	s->dynamic = true;
	s->timeout_ms = 600000;
	s->flush = flush_sticky;

	assert_non_null(ul_ruleset_add_chain(rs, "pre", UL_CHAIN_FILTER, UL_HOOK_PREROUTING,
					     v2 ? -140 : -150));
	assert_non_null(ul_ruleset_add_chain(rs, "post", UL_CHAIN_FILTER, UL_HOOK_POSTROUTING,
					     -150));
	assert_non_null(ul_ruleset_add_chain(rs, "out", UL_CHAIN_ROUTE, UL_HOOK_OUTPUT, -150));
	assert_non_null(ul_ruleset_add_chain(rs, "nat", UL_CHAIN_NAT, UL_HOOK_POSTROUTING, 100));
	assert_non_null(ul_ruleset_add_chain(rs, "portfwd", UL_CHAIN_NAT, UL_HOOK_PREROUTING,
					     -100));
	if (!v2)
		assert_non_null(ul_ruleset_add_chain(rs, "sub", UL_CHAIN_FILTER, UL_HOOK_NONE, 0));

	r = tk_rule(rs, "pre");
	tk_mark_unmarked_return(r, 0xff00, 0x100);
	r = tk_rule(rs, "pre");
	tk_stmt(r, UL_M_IIFNAME, "lan0");
	tk_stmt(r, UL_M_CT_NEW, NULL);
	tk_stmt(r, UL_M_SADDR_IN_DYN, "sticky_isp1")->family = AF_INET;
	x = tk_stmt(r, UL_S_CTMARK, NULL);
	x->mask = 0xff00;
	x->value = 0x200;
	tk_stmt(r, UL_V_ACCEPT, NULL);
	snprintf(r->comment, sizeof(r->comment), "sticky isp1");
	r = tk_rule(rs, "pre");
	tk_stmt(r, UL_M_IIFNAME_SET, "lan_ifs");
	tk_stmt(r, UL_M_NFPROTO, NULL)->family = AF_INET;
	tk_stmt(r, UL_M_L4PROTO, NULL)->proto = IPPROTO_TCP;
	tk_stmt(r, UL_M_SPORT_SET, "ports");
	tk_stmt(r, UL_M_DPORT_SET, "ports");
	tk_stmt(r, UL_M_SADDR_SET, "hosts4")->family = AF_INET;
	tk_stmt(r, UL_M_DADDR_SET, "nets4")->family = AF_INET;
	tk_stmt(r, v2 ? UL_V_DROP : UL_V_JUMP, v2 ? NULL : "sub");
	if (!v2) {
		r = tk_rule(rs, "pre");
		tk_stmt(r, UL_M_SADDR_SET, "nets6")->family = AF_INET6;
		tk_stmt(r, UL_S_COUNTER, NULL);
		tk_stmt(r, UL_V_GOTO, "sub");
		r = tk_rule(rs, "sub");
		x = tk_stmt(r, UL_M_MARK, NULL);
		x->mask = 0xff00;
		x->value = 0x100;
		tk_stmt(r, UL_V_DROP, NULL);
	}
	/* observable on lo: counts, and fills the dynamic set */
	r = tk_rule(rs, "out");
	tk_stmt(r, UL_M_DADDR_SET, "nets4")->family = AF_INET;
	tk_stmt(r, UL_M_L4PROTO, NULL)->proto = IPPROTO_UDP;
	tk_stmt(r, UL_M_DPORT_SET, "ports");
	tk_stmt(r, UL_S_COUNTER, NULL);
	snprintf(r->comment, sizeof(r->comment), "probe-in-set");
	r = tk_rule(rs, "out");
	tk_stmt(r, UL_M_L4PROTO, NULL)->proto = IPPROTO_UDP;
	tk_stmt(r, UL_M_DPORT, NULL)->port = 9998;
	tk_stmt(r, UL_S_COUNTER, NULL);
	snprintf(r->comment, sizeof(r->comment), "probe-9998");
	r = tk_rule(rs, "post");
	tk_stmt(r, UL_M_OIFNAME, "lo");
	tk_stmt(r, UL_M_CT_NEW, NULL);
	tk_stmt(r, UL_S_SET_UPDATE, "sticky_isp1")->family = AF_INET;
	r = tk_rule(rs, "nat");
	tk_stmt(r, UL_M_OIFNAME, "wan1");
	tk_stmt(r, UL_S_MASQUERADE, NULL);
	r = tk_rule(rs, "portfwd");
	tk_stmt(r, UL_M_IIFNAME, "wan1");
	tk_stmt(r, UL_M_L4PROTO, NULL)->proto = IPPROTO_TCP;
	tk_stmt(r, UL_M_DPORT, NULL)->port = 8080;
	tk_dnat4(r, "10.0.0.5", 80);
}

static struct ul_nft *h;

static int setup(void **state)
{
	return ul_nft_open(&h);
}

static int teardown(void **state)
{
	ul_nft_close(h);
	return 0;
}

static void send_udp_to(const char *addr, uint16_t port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	assert_true(fd >= 0);
	assert_int_equal(inet_pton(AF_INET, addr, &sa.sin_addr), 1);
	assert_true(sendto(fd, "x", 1, 0, (struct sockaddr *)&sa, sizeof(sa)) == 1);
	close(fd);
}

static void test_apply_everything(void **state)
{
	struct ul_ruleset rs;
	struct ul_nft_existing ex;

	build(&rs, false, false);
	assert_int_equal(ul_nft_apply(h, &rs), 0);
	/* idempotent */
	assert_int_equal(ul_nft_apply(h, &rs), 0);
	ktk_assert_has_all(nft_list(), (const char *const[]){
		"set lan_ifs",
		"type ifname",
		"\"lan0\"",
		"type ipv4_addr",
		"10.0.0.0/23",          /* coalesced */
		"10.0.3.5",
		"127.0.0.0/8",
		"type ipv6_addr",
		"2001:db8::/32",
		"type inet_service",
		"993-995",
		"60000-65535",
		"flags dynamic,timeout",
		"timeout 10m",
		"type filter hook prerouting priority mangle; policy accept;",
		"type route hook output priority mangle; policy accept;",
		"type nat hook postrouting priority srcnat; policy accept;",
		"type nat hook prerouting priority dstnat; policy accept;",
		"ct mark & 0x0000ff00 != 0x00000000",
		"meta mark set meta mark & 0xffff01ff | 0x00000100",
		"ct state new",
		"ip saddr @sticky_isp1",
		"ct mark set ct mark & 0xffff02ff | 0x00000200 accept comment \"sticky isp1\"",
		"iifname @lan_ifs",
		"tcp sport @ports tcp dport @ports ip saddr @hosts4 ip daddr @nets4 jump sub",
		"ip6 saddr @nets6 counter",
		"goto sub",
		"meta mark & 0x0000ff00 == 0x00000100 drop",
		"update @sticky_isp1 { ip saddr }",
		"oifname \"wan1\" masquerade",
		"dnat ip to 10.0.0.5:80",
		NULL });

	/* the bytecode works: interval lookups at the range edges, port match, dynamic set */
	{
		const char *argv[] = { "ip", "route", "replace", "local", "10.0.0.0/8", "dev", "lo",
				       NULL };

		assert_int_equal(tk_run(out, sizeof(out), argv), 0);
	}
	send_udp_to("127.0.0.1", 9999);         /* in */
	send_udp_to("10.0.1.255", 9999);        /* in: last of 10.0.0.0/23 */
	send_udp_to("10.0.2.0", 9999);          /* out: first after it */
	send_udp_to("10.0.3.5", 65535);         /* in, and the open port range */
	send_udp_to("10.0.3.6", 9999);          /* out */
	send_udp_to("10.0.3.4", 9999);          /* out */
	send_udp_to("10.0.0.0", 59999);         /* port out */
	send_udp_to("10.0.0.0", 25);            /* in */
	send_udp_to("10.0.0.0", 26);            /* port out */
	send_udp_to("127.0.0.1", 9998);
	send_udp_to("127.0.0.1", 9998);
	ktk_assert_has_all(nft_list(), (const char *const[]){
		"counter packets 4 bytes 116 comment \"probe-in-set\"",
		"counter packets 2 bytes 58 comment \"probe-9998\"",
		"127.0.0.1 expires",
		NULL });

	assert_int_equal(ul_nft_dump_existing(h, &ex), 0);
	assert_true(ex.table);
	assert_int_equal(ex.n_chains, 6);
	assert_int_equal(ex.n_sets, 6);
	for (size_t i = 0; i < ex.n_sets; i++)
		if (!strcmp(ex.sets[i].name, "sticky_isp1")) {
			assert_int_equal(ex.sets[i].timeout_ms, 600000);
			assert_int_equal(ex.sets[i].key_type, 7);
			assert_int_equal(ex.sets[i].key_len, 4);
		}
	for (size_t i = 0; i < ex.n_chains; i++)
		if (!strcmp(ex.chains[i], "sub"))
			assert_false(ex.chain_info[i].base);
		else if (!strcmp(ex.chains[i], "pre"))
			assert_int_equal(ex.chain_info[i].prio, -150);
	ul_nft_existing_free(&ex);
	ul_ruleset_free(&rs);
}

static void test_change_keeps_dynamic(void **state)
{
	struct ul_ruleset rs;
	struct ul_nft_existing ex;
	const char *l;

	nft_cmd("add element inet uplinkd sticky_isp1 { 10.0.0.9 }");
	build(&rs, true, false);
	assert_int_equal(ul_nft_apply(h, &rs), 0);
	l = nft_list();
	assert_true(has(l, "10.0.0.9"));
	assert_null(strstr(l, "chain sub"));
	assert_null(strstr(l, "nets6"));
	assert_null(strstr(l, "192.168.0.0/16"));
	assert_true(has(l, "172.16.0.0/12"));
	assert_true(has(l, "type filter hook prerouting priority mangle + 10; policy accept;"));
	assert_int_equal(ul_nft_dump_existing(h, &ex), 0);
	assert_int_equal(ex.n_chains, 5);
	assert_int_equal(ex.n_sets, 5);
	ul_nft_existing_free(&ex);
	ul_ruleset_free(&rs);

	/* the flush flag empties it */
	build(&rs, true, true);
	assert_int_equal(ul_nft_apply(h, &rs), 0);
	l = nft_list();
	assert_null(strstr(l, "10.0.0.9"));
	assert_true(has(l, "set sticky_isp1"));
	ul_ruleset_free(&rs);

	/* a changed timeout re-creates it */
	nft_cmd("add element inet uplinkd sticky_isp1 { 10.0.0.10 }");
	build(&rs, true, false);
	rs.sets[rs.n_sets - 1].timeout_ms = 300000;
	assert_int_equal(ul_nft_apply(h, &rs), 0);
	l = nft_list();
	assert_null(strstr(l, "10.0.0.10"));
	assert_true(has(l, "timeout 5m"));
	ul_ruleset_free(&rs);
}

static void test_refused_batch_changes_nothing(void **state)
{
	struct ul_ruleset rs;
	char before[8192];

	snprintf(before, sizeof(before), "%s", nft_list_terse());
	build(&rs, true, false);
	/* a nat chain on a hook the kernel refuses for route chains: the whole batch fails */
	assert_non_null(ul_ruleset_add_chain(&rs, "bad", UL_CHAIN_ROUTE, UL_HOOK_PREROUTING, 0));
	assert_int_equal(ul_nft_apply(h, &rs), -EOPNOTSUPP);
	assert_string_equal(nft_list_terse(), before);
	assert_true(has(nft_list(), "172.16.0.0/12"));
	ul_ruleset_free(&rs);

	/* a rule the kernel refuses (masquerade outside a nat chain): nothing changes either */
	build(&rs, true, false);
	tk_stmt(tk_rule(&rs, "post"), UL_S_MASQUERADE, NULL);
	assert_true(ul_nft_apply(h, &rs) < 0);
	assert_string_equal(nft_list_terse(), before);
	ul_ruleset_free(&rs);
}

/* What ul_ruleset_print says is what nft itself accepts. */
static void test_printed_ruleset_parses(void **state)
{
	char path[] = "/tmp/kt_nft_XXXXXX";
	const char *argv[] = { "nft", "-c", "-f", path, NULL };
	struct ul_ruleset rs;
	FILE *f;
	int fd;

	build(&rs, false, true);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	ul_ruleset_print(f, &rs);
	assert_int_equal(fclose(f), 0);
	if (tk_run(out, sizeof(out), argv) != 0)
		fail_msg("nft -c -f: %s", out);
	unlink(path);
	ul_ruleset_free(&rs);
}

static void test_10000_prefixes(void **state)
{
	struct ul_ruleset rs;
	struct ul_set *s;
	struct ul_nrule *r;
	struct timespec t0, t1;
	double dt, dt2;

	memset(&rs, 0, sizeof(rs));
	s = ul_ruleset_add_set(&rs, "big", UL_KEY_IPV4, true);
	tk_elem_spread24(s, 10000);
	assert_non_null(ul_ruleset_add_chain(&rs, "pre", UL_CHAIN_FILTER, UL_HOOK_PREROUTING,
					     -150));
	r = tk_rule(&rs, "pre");
	tk_stmt(r, UL_M_DADDR_SET, "big")->family = AF_INET;
	tk_stmt(r, UL_S_COUNTER, NULL);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(ul_nft_apply(h, &rs), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	dt = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(ul_nft_apply(h, &rs), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	dt2 = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("kt_nft: 10000-prefix set: first apply %.3f s, re-apply %.3f s\n", dt, dt2);
	assert_true(dt < 2.0);
	assert_true(dt2 < 2.0);
	assert_true(has(nft_list(), "10.78.30.0/24"));     /* i = 9999: 10.(19998>>8).(19998&255) */
	ul_ruleset_free(&rs);
}

static void test_remove(void **state)
{
	const char *argv[] = { "nft", "list", "ruleset", NULL };
	struct ul_nft_existing ex;

	assert_int_equal(ul_nft_remove(h), 0);
	assert_int_equal(tk_run(out, sizeof(out), argv), 0);
	assert_string_equal(out, "");
	assert_int_equal(ul_nft_dump_existing(h, &ex), 0);
	assert_false(ex.table);
	ul_nft_existing_free(&ex);
	/* removing nothing is fine */
	assert_int_equal(ul_nft_remove(h), 0);
}

int main(void)
{
	tk_require_root("kt_nft");
	/* test_printed_ruleset_parses first: before any table exists */
	return TK_RUN(setup, teardown, NULL, NULL, test_printed_ruleset_parses,
		      test_apply_everything, test_change_keeps_dynamic,
		      test_refused_batch_changes_nothing, test_10000_prefixes, test_remove);
}
