// SPDX-License-Identifier: GPL-2.0-or-later
/* ctnetlink flush by connection mark against the real kernel, in a fresh network namespace
 * (tests/integration/kernel_api.sh). conntrack(8) loads the entries and looks. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "ct.h"
#include "klog.h"
#include "log.h"
#include "tk.h"

static void add_entry(int sport, unsigned mark)
{
	tk_sh("conntrack -I -p tcp -s 1.1.1.1 -d 2.2.2.2 --sport %d --dport 2 --state ESTABLISHED "
	   "-u ASSURED -m %u -t 100 2>/dev/null", sport, mark);
}

static int count(const char *out, const char *what)
{
	int n = 0;

	for (const char *p = out; (p = strstr(p, what)); p += strlen(what))
		n++;
	return n;
}

/* What conntrack -L lists: that many lines holding the piece (a NULL piece ends the list). */
struct listed {
	const char *piece;
	int n;
};

static void assert_listed(const struct listed *want)
{
	char out[8192];

	tk_capture("conntrack -L 2>/dev/null", out, sizeof(out));
	for (; want->piece; want++)
		if (count(out, want->piece) != want->n)
			fail_msg("conntrack -L: %d of '%s', want %d, in:\n%s", count(out, want->piece),
				 want->piece, want->n, out);
}

static int group_setup(void **state)
{
	ul_log_set_level(LOG_DEBUG);
	ul_klog_set_level(LOG_DEBUG);
	if (geteuid() != 0 || system("command -v conntrack >/dev/null") != 0) {
		fprintf(stderr, "needs root in a network namespace and conntrack(8)\n");
		exit(77);
	}
	tk_sh("conntrack -F 2>/dev/null");
	return 0;
}

static void test_flush_by_mark(void **state)
{
	add_entry(1, 0x100);
	add_entry(3, 0x100 | 0x7);      /* other bits outside the mask: still this link's */
	add_entry(5, 0x200);
	add_entry(7, 0);
	assert_listed((const struct listed[]){ { "ESTABLISHED", 4 }, { NULL, 0 } });

	assert_int_equal(ul_ct_flush_mark(AF_INET, 0x100, 0xff00), 0);
	assert_listed((const struct listed[]){
		{ "ESTABLISHED", 2 }, { "mark=256 ", 0 }, { "mark=263 ", 0 }, { "mark=512 ", 1 },
		{ "mark=0 ", 1 }, { NULL, 0 } });
	tk_sh("conntrack -F 2>/dev/null");
}

static void test_flush_nothing_matches(void **state)
{
	add_entry(9, 0x200);
	/* nothing with this mark: success, and the other entry stays */
	assert_int_equal(ul_ct_flush_mark(AF_INET, 0x300, 0xff00), 0);
	assert_int_equal(ul_ct_flush_mark(AF_INET, 0x300, 0xff00), 0);
	assert_listed((const struct listed[]){ { "mark=512 ", 1 }, { NULL, 0 } });
	tk_sh("conntrack -F 2>/dev/null");
	/* an empty table too */
	assert_int_equal(ul_ct_flush_mark(AF_INET, 0x200, 0xff00), 0);
}

/* An entry NATed to 192.168.K.2 (as masquerade leaves it): LAN 10.0.0.2 -> 2.2.2.2, the
 * reply from 2.2.2.2 back to the link's address. */
static void add_natted(int sport, int k, unsigned mark)
{
	tk_sh("conntrack -I -p tcp -s 10.0.0.2 -d 2.2.2.2 --sport %d --dport 80 "
	   "-r 2.2.2.2 -q 192.168.%d.2 --reply-port-src 80 --reply-port-dst %d "
	   "--state ESTABLISHED -u ASSURED -m %u -t 100 2>/dev/null", sport, k, sport, mark);
}

/* The connections that predate uplinkd: unmarked (under the mask) and replied to the dead
 * link's address go; marked ones and those of other links stay. */
static void test_flush_unmarked_to(void **state)
{
	struct ul_addr a;
	int err;

	add_natted(1001, 1, 0);         /* predates uplinkd, on link 1: goes */
	add_natted(1002, 1, 0x7);       /* other bits only, outside the mask: goes */
	add_natted(1003, 1, 0x100);     /* uplinkd's, link 1: flushed by mark, not here */
	add_natted(1004, 2, 0);         /* predates uplinkd, on link 2: stays */
	assert_listed((const struct listed[]){ { "ESTABLISHED", 4 }, { NULL, 0 } });

	assert_int_equal(ul_addr_parse("192.168.1.2", false, &a), 0);
	err = ul_ct_flush_unmarked_to(&a, 0xff00);
	if (err == -EOPNOTSUPP) {
		tk_sh("conntrack -F 2>/dev/null");
		skip();         /* a kernel before 6.8: no filtered flush */
	}
	assert_int_equal(err, 0);
	assert_listed((const struct listed[]){
		{ "ESTABLISHED", 2 }, { "sport=1001 ", 0 }, { "sport=1002 ", 0 },
		{ "sport=1003 ", 1 }, { "sport=1004 ", 1 }, { NULL, 0 } });
	/* again: nothing left to match, still success */
	assert_int_equal(ul_ct_flush_unmarked_to(&a, 0xff00), 0);
	tk_sh("conntrack -F 2>/dev/null");
}

TK_MAIN(group_setup, NULL, test_flush_by_mark, test_flush_nothing_matches,
	test_flush_unmarked_to)
