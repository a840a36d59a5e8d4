// SPDX-License-Identifier: GPL-2.0-or-later
/* The kernel layer's failures: recorded for the caller to report once (the first since a
 * clear, and how many followed), with the kernel's extended ack; notes go to the sink. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "klog.h"
#include "tk.h"

static char noted[256];
static int noted_n;

static void sink(int prio, const char *msg)
{
	snprintf(noted, sizeof(noted), "<%d>%s", prio, msg);
	noted_n++;
}

static void failures_are_recorded_not_logged(void **state)
{
	ul_klog_set_sink(sink);
	ul_klog_clear();
	assert_string_equal(ul_klog_last_error(), "");
	ul_kerr("route replace %s: %s", "default via 192.0.2.1", "Invalid argument");
	assert_string_equal(ul_klog_last_error(), "route replace default via 192.0.2.1: Invalid argument");
	assert_int_equal(noted_n, 0);           /* the caller reports it, not the sink */

	/* the first failure is the one reported; the others are counted */
	ul_kerr("rule 1001: File exists");
	ul_kerr("rule 1002: File exists");
	assert_string_equal(ul_klog_last_error(),
			    "route replace default via 192.0.2.1: Invalid argument (and 2 more)");
	ul_klog_clear();
	assert_string_equal(ul_klog_last_error(), "");

	/* the kernel's extended ack goes with the failure that follows it, once */
	ul_klog_ack("Nexthop has invalid gateway");
	ul_kerr("route replace default: Invalid argument");
	assert_string_equal(ul_klog_last_error(),
			    "route replace default: Invalid argument (kernel: Nexthop has invalid gateway)");
	ul_klog_clear();
	ul_kerr("nft: netlink socket: Permission denied");
	assert_string_equal(ul_klog_last_error(), "nft: netlink socket: Permission denied");

	/* notes still go to the sink */
	ul_kwarn("rtnetlink: malformed message of type %u ignored", 99u);
	assert_int_equal(noted_n, 1);
	assert_string_equal(noted, "<4>rtnetlink: malformed message of type 99 ignored");
	ul_klog_set_sink(NULL);
	ul_klog_clear();
}

TK_MAIN(NULL, NULL, failures_are_recorded_not_logged)
