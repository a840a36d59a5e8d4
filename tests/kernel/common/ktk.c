// SPDX-License-Identifier: GPL-2.0-or-later
/* The kernel tests' kit (ktk.h). */
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "ktk.h"

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
