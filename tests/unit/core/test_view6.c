// SPDX-License-Identifier: GPL-2.0-or-later
/* The IPv6 view: usable addresses and advertised routers from rtnetlink events. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "view6.h"
#include "tk.h"

/* An address event as the rtnetlink adapter makes it: usable is its verdict on scope and
 * flags (global, not tentative, failed or deprecated). */
static struct ul_kev ev_addr(enum ul_kev_type t, int ifindex, const char *a, bool usable)
{
	struct ul_kev e;

	memset(&e, 0, sizeof(e));
	e.type = t;
	e.ifindex = ifindex;
	{	/* an interface address: host bits and the subnet's length */
		char host[64];
		const char *slash = strchr(a, '/');

		snprintf(host, sizeof(host), "%.*s", (int)(slash - a), a);
		assert_int_equal(ul_addr_parse(host, false, &e.addr), 0);
		e.addr.plen = (uint8_t)atoi(slash + 1);
	}
	e.addr_usable = usable;
	return e;
}

static struct ul_kev ev_route(enum ul_kev_type t, int ifindex, const char *gw, uint32_t metric)
{
	struct ul_kev e;

	memset(&e, 0, sizeof(e));
	e.type = t;
	e.ifindex = ifindex;
	assert_int_equal(ul_addr_parse("::/0", true, &e.addr), 0);
	e.has_gw = true;
	assert_int_equal(ul_addr_parse(gw, false, &e.gw), 0);
	e.table = 254;
	e.metric = metric;
	e.proto = 9;                    /* RTPROT_RA */
	return e;
}

static const char *fmt(const struct ul_addr *a)
{
	static char b[UL_ADDR_STRLEN];

	return ul_addr_format(a, b, sizeof(b));
}

static void test_addresses(void **state)
{
	struct ul_view6 *v = calloc(1, sizeof(*v));
	struct ul_addr a;
	struct ul_kev e;

	assert_non_null(v);
	e = ev_addr(UL_KEV_ADDR, 3, "fe80::5/64", false);
	assert_true(ul_view6_apply(v, &e));
	assert_false(ul_view6_addr(v, 3, &a));          /* link-local: no source */
	e = ev_addr(UL_KEV_ADDR, 3, "2001:db8:1::2/64", false);
	assert_true(ul_view6_apply(v, &e));
	assert_false(ul_view6_addr(v, 3, &a));          /* still in DAD */
	e.addr_usable = true;                           /* DAD done: the same address again */
	assert_true(ul_view6_apply(v, &e));
	assert_false(ul_view6_apply(v, &e));            /* nothing new */
	assert_true(ul_view6_addr(v, 3, &a));
	assert_string_equal(fmt(&a), "2001:db8:1::2");
	assert_false(ul_view6_addr(v, 4, &a));
	/* IPv4 is not this view's */
	e = ev_addr(UL_KEV_ADDR, 3, "192.168.1.2/24", true);
	assert_false(ul_view6_apply(v, &e));
	/* deprecated: not chosen while another one works */
	e = ev_addr(UL_KEV_ADDR, 4, "2001:db8:4::9/64", false);
	assert_true(ul_view6_apply(v, &e));
	assert_false(ul_view6_addr(v, 4, &a));
	e = ev_addr(UL_KEV_ADDR_DEL, 3, "2001:db8:1::2/64", true);
	assert_true(ul_view6_apply(v, &e));
	assert_false(ul_view6_addr(v, 3, &a));
	assert_false(ul_view6_apply(v, &e));
	free(v);
}

static void test_routers(void **state)
{
	struct ul_view6 *v = calloc(1, sizeof(*v));
	struct ul_addr a;
	struct ul_kev e;

	assert_non_null(v);
	e = ev_route(UL_KEV_ROUTE, 3, "fe80::1", 1024);
	assert_true(ul_view6_apply(v, &e));
	assert_true(ul_view6_router(v, 3, &a));
	assert_string_equal(fmt(&a), "fe80::1");
	/* a second router of lower metric wins; when it ends, the first is back */
	e = ev_route(UL_KEV_ROUTE, 3, "fe80::2", 100);
	assert_true(ul_view6_apply(v, &e));
	assert_true(ul_view6_router(v, 3, &a));
	assert_string_equal(fmt(&a), "fe80::2");
	e.type = UL_KEV_ROUTE_DEL;
	assert_true(ul_view6_apply(v, &e));
	assert_true(ul_view6_router(v, 3, &a));
	assert_string_equal(fmt(&a), "fe80::1");
	/* other tables, other destinations, no gateway: not routers */
	e = ev_route(UL_KEV_ROUTE, 5, "fe80::9", 1024);
	e.table = 201;
	assert_false(ul_view6_apply(v, &e));
	e = ev_route(UL_KEV_ROUTE, 5, "fe80::9", 1024);
	e.addr.plen = 48;
	assert_false(ul_view6_apply(v, &e));
	e = ev_route(UL_KEV_ROUTE, 5, "fe80::9", 1024);
	e.has_gw = false;
	assert_false(ul_view6_apply(v, &e));
	assert_false(ul_view6_router(v, 5, &a));
	/* the interface goes: its routers and addresses with it */
	e = ev_addr(UL_KEV_ADDR, 3, "2001:db8:1::2/64", true);
	assert_true(ul_view6_apply(v, &e));
	memset(&e, 0, sizeof(e));
	e.type = UL_KEV_LINK_DEL;
	e.ifindex = 3;
	assert_true(ul_view6_apply(v, &e));
	assert_false(ul_view6_router(v, 3, &a));
	assert_false(ul_view6_addr(v, 3, &a));
	free(v);
}

TK_MAIN(NULL, NULL, test_addresses, test_routers)
