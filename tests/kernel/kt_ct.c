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

__attribute__((format(printf, 1, 2)))
static void sh(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if (system(cmd) != 0)
		fail_msg("command failed: %s", cmd);
}

static void capture(const char *cmd, char *out, size_t len)
{
	FILE *f = popen(cmd, "r");
	size_t n;

	assert_non_null(f);
	n = fread(out, 1, len - 1, f);
	out[n] = '\0';
	pclose(f);
}

static void add_entry(int sport, unsigned mark)
{
	sh("conntrack -I -p tcp -s 1.1.1.1 -d 2.2.2.2 --sport %d --dport 2 --state ESTABLISHED "
	   "-u ASSURED -m %u -t 100 2>/dev/null", sport, mark);
}

static int count(const char *out, const char *what)
{
	int n = 0;

	for (const char *p = out; (p = strstr(p, what)); p += strlen(what))
		n++;
	return n;
}

static int group_setup(void **state)
{
	ul_log_set_level(LOG_DEBUG);
	ul_klog_set_level(LOG_DEBUG);
	if (geteuid() != 0 || system("command -v conntrack >/dev/null") != 0) {
		fprintf(stderr, "needs root in a network namespace and conntrack(8)\n");
		exit(77);
	}
	sh("conntrack -F 2>/dev/null");
	return 0;
}

static void test_flush_by_mark(void **state)
{
	char out[8192];

	add_entry(1, 0x100);
	add_entry(3, 0x100 | 0x7);      /* other bits outside the mask: still this link's */
	add_entry(5, 0x200);
	add_entry(7, 0);
	capture("conntrack -L 2>/dev/null", out, sizeof(out));
	assert_int_equal(count(out, "ESTABLISHED"), 4);

	assert_int_equal(ul_ct_flush_mark(AF_INET, 0x100, 0xff00), 0);
	capture("conntrack -L 2>/dev/null", out, sizeof(out));
	assert_int_equal(count(out, "ESTABLISHED"), 2);
	assert_int_equal(count(out, "mark=256 "), 0);
	assert_int_equal(count(out, "mark=263 "), 0);
	assert_int_equal(count(out, "mark=512 "), 1);
	assert_int_equal(count(out, "mark=0 "), 1);
	sh("conntrack -F 2>/dev/null");
}

static void test_flush_nothing_matches(void **state)
{
	char out[8192];

	add_entry(9, 0x200);
	/* nothing with this mark: success, and the other entry stays */
	assert_int_equal(ul_ct_flush_mark(AF_INET, 0x300, 0xff00), 0);
	assert_int_equal(ul_ct_flush_mark(AF_INET, 0x300, 0xff00), 0);
	capture("conntrack -L 2>/dev/null", out, sizeof(out));
	assert_int_equal(count(out, "mark=512 "), 1);
	sh("conntrack -F 2>/dev/null");
	/* an empty table too */
	assert_int_equal(ul_ct_flush_mark(AF_INET, 0x200, 0xff00), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_flush_by_mark),
		cmocka_unit_test(test_flush_nothing_matches),
	};

	return cmocka_run_group_tests(tests, group_setup, NULL);
}
