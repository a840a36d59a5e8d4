// SPDX-License-Identifier: GPL-2.0-or-later
/* The kernel tests' kit (ktk.h). */
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ktk.h"
#include "tk.h"

void ktk_collect(const struct ul_kev *ev, void *data)
{
	struct ktk_evlog *l = data;

	if (l->hook)
		l->hook(l, ev);
	if (l->n < sizeof(l->ev) / sizeof(l->ev[0]))
		l->ev[l->n++] = *ev;
}

const struct ul_kev *ktk_find(const struct ktk_evlog *l, enum ul_kev_type type, int ifindex,
			      const char *addr)
{
	for (size_t i = 0; i < l->n; i++) {
		const struct ul_kev *e = &l->ev[i];
		char txt[UL_ADDR_STRLEN];

		if (e->type != type || (ifindex && e->ifindex != ifindex))
			continue;
		if (addr && strcmp(ul_addr_format(&e->addr, txt, sizeof(txt)), addr))
			continue;
		return e;
	}
	return NULL;
}

const struct ul_kev *ktk_wait_for(struct ul_rtnl *h, struct ktk_evlog *l,
				  enum ul_kev_type type, int ifindex, const char *addr)
{
	for (int i = 0; i < 20; i++) {
		struct pollfd pfd = { .fd = ul_rtnl_event_fd(h), .events = POLLIN };
		const struct ul_kev *e;

		assert_int_equal(ul_rtnl_read_events(h, ktk_collect, l), 0);
		e = ktk_find(l, type, ifindex, addr);
		if (e)
			return e;
		poll(&pfd, 1, 100);
	}
	return NULL;
}

void ktk_assert_no_routes(struct ul_rtnl *h, const char *ipfam, const uint32_t *tables,
			  size_t n_tables, uint32_t lo, uint32_t hi)
{
	struct ul_route *routes;
	struct ul_iprule *rules;
	char out[4096], cmd[128];
	size_t n;

	assert_int_equal(ul_rtnl_dump_routes(h, tables, n_tables, &routes, &n), 0);
	assert_int_equal(n, 0);
	free(routes);
	assert_int_equal(ul_rtnl_dump_rules(h, lo, hi, &rules, &n), 0);
	assert_int_equal(n, 0);
	free(rules);
	/* and as ip(8) sees it */
	snprintf(cmd, sizeof(cmd), "ip %s rule show | grep -E '^10[0-9][0-9]:' || true", ipfam);
	tk_capture(cmd, out, sizeof(out));
	assert_string_equal(out, "");
	for (size_t i = 0; i < n_tables; i++) {
		snprintf(cmd, sizeof(cmd), "ip %s route show table %u 2>/dev/null", ipfam,
			 tables[i]);
		tk_capture(cmd, out, sizeof(out));
		assert_string_equal(out, "");
	}
}

int ktk_rtnl_open(void **state)
{
	struct ul_rtnl *h;

	assert_int_equal(ul_rtnl_open(&h), 0);
	*state = h;
	return 0;
}

int ktk_rtnl_close(void **state)
{
	ul_rtnl_close(*state);
	return 0;
}
