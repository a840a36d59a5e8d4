// SPDX-License-Identifier: GPL-2.0-or-later
/* nftwatch.c against the kernel, in a fresh network namespace (run by tests/integration/
 * kernel_api.sh): uplinkd's own transactions are not reported, `nft flush ruleset`, a
 * flushed chain, a deleted table and a flushed static set are; elements others add to a
 * dynamic set are not; after lost
 * events the check tells a missing table. uplinkd's own large transactions are made muted
 * (out of the event group): no overrun, and what others commit meanwhile is still told
 * (by the ruleset's generation). `nft` plays the other program. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <poll.h>
#include <cmocka.h>

#include "nft.h"
#include "nftwatch.h"
#include "tk.h"

static void sh(const char *cmd)
{
	if (system(cmd) != 0)
		fail_msg("%s failed", cmd);
}

static struct ul_ruleset *ruleset(void)
{
	struct ul_ruleset *rs = calloc(1, sizeof(*rs));
	struct ul_chain *c;
	struct ul_set *s;
	union ul_set_elem e = { 0 };

	assert_non_null(rs);
	s = ul_ruleset_add_set(rs, "lan_ifs", UL_KEY_IFNAME, false);
	assert_non_null(s);
	snprintf(e.ifname, sizeof(e.ifname), "lan0");
	assert_int_equal(ul_set_add_elem(s, &e), 0);
	s = ul_ruleset_add_set(rs, "sticky4", UL_KEY_IPV4, false);
	assert_non_null(s);
	s->dynamic = true;
	s->timeout_ms = 60000;
	c = ul_ruleset_add_chain(rs, "pre", UL_CHAIN_FILTER, UL_HOOK_PREROUTING, -150);
	assert_non_null(c);
	for (int i = 0; i < 3; i++) {
		struct ul_nrule *r = ul_chain_add_rule(c);
		struct ul_stmt *st;

		assert_non_null(r);
		st = ul_rule_add(r, UL_M_IIFNAME_SET);
		assert_non_null(st);
		snprintf(st->str, sizeof(st->str), "lan_ifs");
	}
	assert_non_null(ul_ruleset_add_chain(rs, "post", UL_CHAIN_FILTER, UL_HOOK_POSTROUTING, 150));
	return rs;
}

/* Wait up to 1 s for the watch socket, then read: the foreign changes seen. */
static const struct ul_ruleset *rs_watched;    /* what was applied */

static int read_changes(struct ul_nft_watch *w, struct ul_nft *h, struct ul_nft_change *ch)
{
	struct pollfd p = { .fd = ul_nft_watch_fd(w), .events = POLLIN };
	int total = 0, n;

	memset(ch, 0, sizeof(*ch));
	while (poll(&p, 1, 300) > 0) {
		n = ul_nft_watch_read(w, ul_nft_portid(h), rs_watched, ch);
		assert_true(n >= 0);
		total += n;
	}
	return total;
}

/* someone else runs cmd: the watch sees a change and names it what */
static void foreign(struct ul_nft_watch *w, struct ul_nft *h, struct ul_nft_change *ch,
		    const char *cmd, const char *what)
{
	sh(cmd);
	assert_true(read_changes(w, h, ch) > 0);
	assert_string_equal(ch->what, what);
}

/* uplinkd applies rs again: its own transaction is no foreign change */
static void reapply(struct ul_nft_watch *w, struct ul_nft *h, struct ul_ruleset *rs,
		    struct ul_nft_change *ch)
{
	assert_int_equal(ul_nft_apply(h, rs), 0);
	assert_int_equal(read_changes(w, h, ch), 0);
}

static void watch(void **state)
{
	struct ul_ruleset *rs = ruleset();
	struct ul_nft_change ch;
	struct ul_nft_watch *w;
	struct ul_nft *h;

	rs_watched = rs;
	assert_int_equal(ul_nft_open(&h), 0);
	assert_int_equal(ul_nft_watch_open(&w), 0);
	assert_true(ul_nft_portid(h) != 0);

	/* uplinkd's own transactions: creating, replacing, removing the table */
	assert_int_equal(ul_nft_apply(h, rs), 0);
	assert_int_equal(ul_nft_apply(h, rs), 0);
	assert_int_equal(read_changes(w, h, &ch), 0);
	assert_int_equal(ul_nft_check(h, rs, &ch), 0);

	/* someone else's: nft flush ruleset */
	foreign(w, h, &ch, "nft flush ruleset", "table inet uplinkd removed");
	assert_int_equal(ul_nft_check(h, rs, &ch), 1);
	assert_string_equal(ch.what, "table inet uplinkd removed");
	reapply(w, h, rs, &ch);

	/* a flushed chain, a deleted chain, a deleted table */
	foreign(w, h, &ch, "nft flush chain inet uplinkd pre",
		"rules of chain inet uplinkd pre removed");
	foreign(w, h, &ch, "nft delete chain inet uplinkd post", "chain inet uplinkd post removed");
	memset(&ch, 0, sizeof(ch));
	assert_int_equal(ul_nft_check(h, rs, &ch), 1);
	assert_string_equal(ch.what, "chain inet uplinkd post removed");
	reapply(w, h, rs, &ch);
	foreign(w, h, &ch, "nft delete table inet uplinkd", "table inet uplinkd removed");
	reapply(w, h, rs, &ch);

	/* not uplinkd's: elements of its dynamic set (dnsmasq's nftset), other tables */
	sh("nft add element inet uplinkd sticky4 '{ 10.0.0.7 }'");
	sh("nft add table inet other; nft add chain inet other c; nft delete table inet other");
	assert_int_equal(read_changes(w, h, &ch), 0);
	/* but those of a static set are */
	foreign(w, h, &ch, "nft flush set inet uplinkd lan_ifs",
		"set inet uplinkd lan_ifs elements changed");
	reapply(w, h, rs, &ch);

	assert_int_equal(ul_nft_remove(h), 0);
	assert_int_equal(read_changes(w, h, &ch), 0);
	ul_nft_watch_close(w);
	ul_nft_close(h);
	ul_ruleset_free(rs);
	free(rs);
}

/* A transaction of 60,001 elements made muted: no event, no overrun; a change someone else
 * commits while the socket is muted is told by unmute (and so is one made between the
 * generation read and leaving the group: said twice rather than missed). */
static void muted(void **state)
{
	struct ul_ruleset *rs = ruleset();
	struct ul_nft_change ch;
	struct ul_nft_watch *w;
	struct ul_nft *h;
	struct ul_set *big;

	big = ul_ruleset_add_set(rs, "bank", UL_KEY_IPV4, true);
	assert_non_null(big);
	tk_elem_spread24(big, 30000);
	rs_watched = rs;
	assert_int_equal(ul_nft_open(&h), 0);
	assert_int_equal(ul_nft_watch_open(&w), 0);

	/* uplinkd's own: created, then replaced; nothing but its own commits in between */
	for (int i = 0; i < 2; i++) {
		assert_int_equal(ul_nft_watch_mute(w, h), 0);
		assert_int_equal(ul_nft_apply(h, rs), 0);
		assert_int_equal(ul_nft_watch_unmute(w, h), 0);
		assert_int_equal(read_changes(w, h, &ch), 0);   /* asserts no -ENOBUFS */
	}
	sh("nft list set inet uplinkd bank | grep -q '10.234.94.0/24'");

	/* someone else's change while muted: not received as an event, told by unmute */
	assert_int_equal(ul_nft_watch_mute(w, h), 0);
	assert_int_equal(ul_nft_apply(h, rs), 0);
	sh("nft flush chain inet uplinkd pre");
	assert_int_equal(ul_nft_watch_unmute(w, h), 1);
	assert_int_equal(read_changes(w, h, &ch), 0);
	/* ... even when only the foreign one was committed (uplinkd's failed) */
	assert_int_equal(ul_nft_watch_mute(w, h), 0);
	sh("nft add element inet uplinkd lan_ifs '{ \"lan9\" }'");
	assert_int_equal(ul_nft_watch_unmute(w, h), 1);
	/* unmuted again: changes are events as before */
	sh("nft delete chain inet uplinkd post");
	assert_true(read_changes(w, h, &ch) > 0);
	assert_string_equal(ch.what, "chain inet uplinkd post removed");
	/* mute and unmute without a watch (none opened) do nothing */
	assert_int_equal(ul_nft_watch_mute(NULL, h), 0);
	assert_int_equal(ul_nft_watch_unmute(NULL, h), 0);

	assert_int_equal(ul_nft_remove(h), 0);
	ul_nft_watch_close(w);
	ul_nft_close(h);
	ul_ruleset_free(rs);
	free(rs);
}

TK_MAIN(NULL, NULL, watch, muted)
