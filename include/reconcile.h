/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Apply only the difference between the desired and the installed routes and rules. */
#ifndef UL_RECONCILE_H
#define UL_RECONCILE_H

#include <stddef.h>
#include <stdint.h>

#include "plan.h"
#include "rtnl.h"

struct ul_diff_ops {
	int (*route_replace)(void *ctx, const struct ul_route *r);
	int (*route_del)(void *ctx, const struct ul_route *r);
	int (*rule_add)(void *ctx, const struct ul_iprule *r);
	int (*rule_del)(void *ctx, const struct ul_iprule *r);
	void *ctx;
};

/* Pure diff: calls ops for every change needed to turn `have` into `want` (duplicates in
 * `have` are deleted; routes are compared by table+destination, then content). Returns the
 * number of changes made, or the first negative error (it goes on after an error and
 * reports the first). */
int ul_diff_routes(const struct ul_route *have, size_t n_have, const struct ul_route *want,
		   size_t n_want, const struct ul_diff_ops *ops);
int ul_diff_rules(const struct ul_iprule *have, size_t n_have, const struct ul_iprule *want,
		  size_t n_want, const struct ul_diff_ops *ops);

/* Dump, diff, apply. tables: every table uplinkd owns now (link tables of the old and the
 * new config, and the balance table); prio range [lo, hi]. Returns changes or -errno. */
int ul_reconcile(struct ul_rtnl *h, const struct ul_plan *want, const uint32_t *tables,
		 size_t n_tables, uint32_t lo, uint32_t hi);
/* Remove every route in the tables and every rule in the range. */
int ul_reconcile_remove_all(struct ul_rtnl *h, const uint32_t *tables, size_t n_tables,
			    uint32_t lo, uint32_t hi);

#endif
