/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The kernel tests' kit: helpers the tests of tests/kernel share that need the kernel
 * adapters (layer-free ones live in tests/common/tk.h). Every helper fails the running
 * cmocka test on error. */
#ifndef UL_KTK_H
#define UL_KTK_H

#include <stddef.h>
#include <stdint.h>

#include "rtnl.h"

/* rtnetlink events logged as they arrive (the first 4096) */
struct ktk_evlog {
	struct ul_kev ev[4096];
	size_t n;
	/* when set, called with each event before it is logged (data: the test's own) */
	void (*hook)(struct ktk_evlog *l, const struct ul_kev *ev);
	void *data;
};

/* a ul_kev_cb: data is the struct ktk_evlog to log the event in */
void ktk_collect(const struct ul_kev *ev, void *data);
/* the first logged event of that type (ifindex 0: any link; addr NULL: any address, else
 * as ul_addr_format prints it), or NULL */
const struct ul_kev *ktk_find(const struct ktk_evlog *l, enum ul_kev_type type, int ifindex,
			      const char *addr);
/* read h's events into l for up to 2 s until one like that is logged; NULL if none came */
const struct ul_kev *ktk_wait_for(struct ul_rtnl *h, struct ktk_evlog *l,
				  enum ul_kev_type type, int ifindex, const char *addr);

/* rtnetlink: no route of uplinkd's in those tables, no rule in priorities lo..hi, and
 * ip(8) of that family ("-4", "-6") sees no rule 1000..1099 and the tables empty */
void ktk_assert_no_routes(struct ul_rtnl *h, const char *ipfam, const uint32_t *tables,
			  size_t n_tables, uint32_t lo, uint32_t hi);
/* cmocka setup and teardown: a rtnetlink handle in *state */
int ktk_rtnl_open(void **state);
int ktk_rtnl_close(void **state);

#endif
