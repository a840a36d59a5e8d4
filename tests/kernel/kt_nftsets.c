// SPDX-License-Identifier: GPL-2.0-or-later
/* Static sets updated in place (nft.c against the kernel, in a fresh network namespace, run by
 * tests/integration/kernel_api.sh): an apply that changes set elements only adds and deletes
 * those; elements others added survive; a set changed behind uplinkd's back is filled anew.
 * `nft` is only used to observe and to play the other program. */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "nft.h"
#include "tk.h"

static struct ul_nft *h;
static char out[1 << 23];

static const char *list_set(const char *name)
{
	const char *argv[] = { "nft", "list", "set", "inet", UL_NFT_TABLE, name, NULL };

	assert_int_equal(tk_run(out, sizeof(out), argv), 0);
	return out;
}

static void nft(const char *cmd)
{
	const char *argv[] = { "nft", cmd, NULL };

	if (tk_run(out, sizeof(out), argv))
		fail_msg("nft %s: %s", cmd, out);
}

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void add_prefix(struct ul_set *s, const char *a)
{
	union ul_set_elem e;

	memset(&e, 0, sizeof(e));
	assert_int_equal(ul_addr_parse(a, true, &e.prefix), 0);
	assert_int_equal(ul_set_add_elem(s, &e), 0);
}

/* Set "bank" with n /24s (every other one, so that nothing merges), prefix i at
 * 11+i/32768 . (i%32768)/128 . (i%128)*2 .0, the last one moved by `shift`, and a rule. */
static void build(struct ul_ruleset *rs, size_t n, unsigned shift, const char *extra)
{
	struct ul_set *s;
	struct ul_nrule *r;
	struct ul_stmt *st;

	memset(rs, 0, sizeof(*rs));
	s = ul_ruleset_add_set(rs, "bank", UL_KEY_IPV4, true);
	assert_non_null(s);
	for (size_t i = 0; i < n; i++) {
		union ul_set_elem e;

		memset(&e, 0, sizeof(e));
		e.prefix.family = AF_INET;
		e.prefix.plen = 24;
		e.prefix.bytes[0] = (uint8_t)(11 + i / 32768 + (i == n - 1 ? shift : 0));
		e.prefix.bytes[1] = (uint8_t)((i % 32768) / 128);
		e.prefix.bytes[2] = (uint8_t)((i % 128) * 2);
		assert_int_equal(ul_set_add_elem(s, &e), 0);
	}
	if (extra)
		add_prefix(s, extra);
	assert_non_null(ul_ruleset_add_chain(rs, "pre", UL_CHAIN_FILTER, UL_HOOK_PREROUTING, -150));
	r = ul_chain_add_rule((struct ul_chain *)ul_ruleset_find_chain(rs, "pre"));
	assert_non_null(r);
	st = ul_rule_add(r, UL_M_DADDR_SET);
	st->family = AF_INET;
	snprintf(st->str, sizeof(st->str), "bank");
	ul_rule_add(r, UL_S_COUNTER);
}

static void stats(size_t a, size_t d, size_t u, size_t c)
{
	size_t added, deleted, updated, created;

	ul_nft_last_stats(h, &added, &deleted, &updated, &created);
	if (added != a || deleted != d || updated != u || created != c)
		fail_msg("stats: added %zu deleted %zu updated %zu created %zu, expected %zu %zu "
			 "%zu %zu", added, deleted, updated, created, a, d, u, c);
}

static void test_100k_in_place(void **state)
{
	struct ul_ruleset a, b;
	double t0, t_start, t_same, t_one;

	build(&a, 100000, 0, NULL);
	build(&b, 100000, 100, NULL);   /* the last prefix 14.13.62.0/24 -> 114.13.62.0/24 */
	t0 = now_s();
	assert_int_equal(ul_nft_apply(h, &a), 0);
	t_start = now_s() - t0;
	stats(100000, 0, 0, 1);
	/* another program's element */
	nft("add element inet uplinkd bank { 192.0.2.0/24 }");
	t0 = now_s();
	assert_int_equal(ul_nft_apply(h, &a), 0);
	t_same = now_s() - t0;
	stats(0, 0, 1, 0);
	t0 = now_s();
	assert_int_equal(ul_nft_apply(h, &b), 0);
	t_one = now_s() - t0;
	stats(1, 1, 1, 0);
	printf("kt_nftsets: 100000 prefixes: first apply %.3f s, same again %.3f s, one prefix "
	       "changed %.3f s\n", t_start, t_same, t_one);
	list_set("bank");
	assert_non_null(strstr(out, "114.13.62.0/24"));
	assert_null(strstr(out, " 14.13.62.0/24"));
	assert_non_null(strstr(out, "14.13.60.0/24"));
	assert_non_null(strstr(out, "192.0.2.0/24"));
	/* generous bounds only (a loaded machine): the times are in bench/ */
	assert_true(t_start < 10.0);
	assert_true(t_one < 2.0);
	ul_ruleset_free(&a);
	ul_ruleset_free(&b);
	assert_int_equal(ul_nft_remove(h), 0);
}

static void test_zero_end_and_open(void **state)
{
	struct ul_ruleset a, b, c;

	/* first range at 0: no end element at 0; then it goes, then a range to the end */
	build(&a, 3, 0, "0.0.0.0/8");
	build(&b, 3, 0, NULL);
	build(&c, 3, 0, "240.0.0.0/4");
	assert_int_equal(ul_nft_apply(h, &a), 0);
	assert_non_null(strstr(list_set("bank"), "0.0.0.0/8"));
	assert_int_equal(ul_nft_apply(h, &b), 0);
	stats(0, 1, 1, 0);
	assert_null(strstr(list_set("bank"), "0.0.0.0/8"));
	assert_int_equal(ul_nft_apply(h, &c), 0);
	stats(1, 0, 1, 0);
	assert_non_null(strstr(list_set("bank"), "240.0.0.0/4"));
	assert_int_equal(ul_nft_apply(h, &a), 0);
	stats(1, 1, 1, 0);
	list_set("bank");
	assert_non_null(strstr(out, "0.0.0.0/8"));
	assert_null(strstr(out, "240.0.0.0/4"));
	assert_non_null(strstr(out, "11.0.4.0/24"));
	ul_ruleset_free(&a);
	ul_ruleset_free(&b);
	ul_ruleset_free(&c);
}

static void test_changed_outside(void **state)
{
	struct ul_ruleset a, b;

	build(&a, 5, 0, "198.51.100.0/24");
	build(&b, 5, 0, "203.0.113.0/24");
	assert_int_equal(ul_nft_apply(h, &a), 0);
	/* someone deletes the element uplinkd would delete: the update is refused, and the set
	 * is filled anew */
	nft("delete element inet uplinkd bank { 198.51.100.0/24 }");
	assert_int_equal(ul_nft_apply(h, &b), 0);
	stats(6, 0, 0, 1);
	list_set("bank");
	assert_non_null(strstr(out, "203.0.113.0/24"));
	assert_non_null(strstr(out, "11.0.8.0/24"));
	/* the whole table flushed: created again */
	nft("flush ruleset");
	assert_int_equal(ul_nft_apply(h, &a), 0);
	stats(6, 0, 0, 1);
	assert_non_null(strstr(list_set("bank"), "198.51.100.0/24"));
	ul_ruleset_free(&a);
	ul_ruleset_free(&b);
	assert_int_equal(ul_nft_remove(h), 0);
}

static void send_udp(int n)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(9) };
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	assert_true(fd >= 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (int i = 0; i < n; i++)
		sendto(fd, "0123456789", 10, 0, (struct sockaddr *)&a, sizeof(a));
	close(fd);
}

static uint64_t counter(const char *name, bool bytes)
{
	struct ul_nft_counter *v;
	uint64_t r = UINT64_MAX;
	size_t n;

	assert_int_equal(ul_nft_read_counters(h, &v, &n), 0);
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i].name, name))
			r = bytes ? v[i].bytes : v[i].packets;
	free(v);
	return r;
}

/* out: udp to lo counted by a named counter; `two` adds a second counter */
static void build_ctr(struct ul_ruleset *rs, bool two)
{
	struct ul_nrule *r;
	struct ul_stmt *st;

	memset(rs, 0, sizeof(*rs));
	assert_int_equal(ul_ruleset_add_counter(rs, "ul_tx_lo"), 0);
	if (two)
		assert_int_equal(ul_ruleset_add_counter(rs, "ul_rx_lo"), 0);
	assert_non_null(ul_ruleset_add_chain(rs, "count_out", UL_CHAIN_FILTER,
					     UL_HOOK_POSTROUTING, 300));
	r = ul_chain_add_rule((struct ul_chain *)ul_ruleset_find_chain(rs, "count_out"));
	st = ul_rule_add(r, UL_M_OIFNAME);
	snprintf(st->str, sizeof(st->str), "lo");
	st = ul_rule_add(r, UL_M_L4PROTO);
	st->proto = 17;
	st = ul_rule_add(r, UL_S_COUNTER_REF);
	snprintf(st->str, sizeof(st->str), "ul_tx_lo");
}

static void test_counters_survive(void **state)
{
	struct ul_ruleset a, b;
	uint64_t p0;

	build_ctr(&a, false);
	build_ctr(&b, true);
	assert_int_equal(ul_nft_read_counters(h, &(struct ul_nft_counter *){ NULL }, &(size_t){ 0 }),
			 0);      /* no table: none */
	assert_int_equal(ul_nft_apply(h, &a), 0);
	send_udp(5);
	p0 = counter("ul_tx_lo", false);
	assert_int_equal(p0, 5);
	assert_int_equal(counter("ul_tx_lo", true), 5 * (20 + 8 + 10));
	/* another apply (the rules are re-added) keeps the counts */
	assert_int_equal(ul_nft_apply(h, &b), 0);
	assert_int_equal(counter("ul_tx_lo", false), 5);
	assert_int_equal(counter("ul_rx_lo", false), 0);
	send_udp(2);
	assert_int_equal(counter("ul_tx_lo", false), 7);
	/* a counter no longer wanted goes */
	assert_int_equal(ul_nft_apply(h, &a), 0);
	assert_int_equal(counter("ul_rx_lo", false), UINT64_MAX);
	assert_int_equal(counter("ul_tx_lo", false), 7);
	ul_ruleset_free(&a);
	ul_ruleset_free(&b);
	assert_int_equal(ul_nft_remove(h), 0);
}

static int setup(void **state)
{
	return ul_nft_open(&h);
}

static int teardown(void **state)
{
	ul_nft_remove(h);
	ul_nft_close(h);
	return 0;
}

int main(void)
{
	tk_require_root("kt_nftsets");
	return TK_RUN(setup, teardown, NULL, NULL, test_100k_in_place, test_zero_end_and_open,
		      test_changed_outside, test_counters_survive);
}
