/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The difference between installed and wanted routes and rules, as calls. Pure. */
#ifndef UL_DIFF_H
#define UL_DIFF_H

#include <stddef.h>

#include "types.h"

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

#endif
