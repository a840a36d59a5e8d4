/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The kernel tests' kit: helpers the tests of tests/kernel share that need the kernel
 * adapters (layer-free ones live in tests/common/tk.h). Every helper fails the running
 * cmocka test on error. */
#ifndef UL_KTK_H
#define UL_KTK_H

#include <stddef.h>
#include <stdint.h>

#include "reconcile.h"
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
/* the same for any test of the log: find(l, arg) returns the event looked for, or NULL */
typedef const struct ul_kev *(*ktk_find_fn)(const struct ktk_evlog *l, const void *arg);
const struct ul_kev *ktk_wait(struct ul_rtnl *h, struct ktk_evlog *l, ktk_find_fn find,
			      const void *arg);

/* text holds every piece of the NULL-terminated list; else the test fails naming the piece */
void ktk_assert_has_all(const char *text, const char *const *pieces);
/* the same for what the shell command cmd prints (tk_capture) */
void ktk_assert_shows(const char *cmd, const char *const *pieces);

/* rtnetlink: each route replaced twice (replace is idempotent), each deleted; each rule
 * added, and v[dup] once more refused with EEXIST; each rule deleted */
void ktk_replace_routes(struct ul_rtnl *h, const struct ul_route *v, size_t n);
void ktk_del_routes(struct ul_rtnl *h, const struct ul_route *v, size_t n);
void ktk_add_rules(struct ul_rtnl *h, const struct ul_iprule *v, size_t n, size_t dup);
void ktk_del_rules(struct ul_rtnl *h, const struct ul_iprule *v, size_t n);
/* the dump of those tables is exactly the n routes of v (in any order) */
void ktk_assert_routes(struct ul_rtnl *h, const uint32_t *tables, size_t n_tables,
		       const struct ul_route *v, size_t n);

/* rtnetlink: no route of uplinkd's in those tables, no rule in priorities lo..hi, and
 * ip(8) of that family ("-4", "-6") sees no rule 1000..1099 and the tables empty */
void ktk_assert_no_routes(struct ul_rtnl *h, const char *ipfam, const uint32_t *tables,
			  size_t n_tables, uint32_t lo, uint32_t hi);
/* the shell commands of cmds run (NULL-terminated; NULL: none), then the reconciler makes
 * exactly `changes` changes towards p in those tables and rule priorities, a second pass none */
void ktk_reconcile_after(struct ul_rtnl *h, const struct ul_plan *p, const uint32_t *tables,
			 size_t n_tables, uint32_t lo, uint32_t hi, const char *const *cmds,
			 int changes);
/* cmocka setup and teardown: a rtnetlink handle in *state */
int ktk_rtnl_open(void **state);
int ktk_rtnl_close(void **state);

#endif
