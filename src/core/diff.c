// SPDX-License-Identifier: GPL-2.0-or-later
/* Turn the installed routes and rules into the wanted ones with as few changes as possible,
 * in an order that never leaves traffic without a route: routes are replaced in place before
 * stale ones are deleted, missing rules are added before stale ones are deleted. Pure: the
 * changes are made through the caller's operations. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "diff.h"

static bool same_key(const struct ul_route *a, const struct ul_route *b)
{
	return a->family == b->family && a->table == b->table && ul_addr_eq(&a->dst, &b->dst);
}

static void note(int *changes, int *first_err, int err)
{
	if (err < 0 && !*first_err)
		*first_err = err;
	(*changes)++;
}

int ul_diff_routes(const struct ul_route *have, size_t n_have, const struct ul_route *want,
		   size_t n_want, const struct ul_diff_ops *ops)
{
	bool *kept = n_have ? calloc(n_have, sizeof(*kept)) : NULL;
	int changes = 0, err = 0;

	if (n_have && !kept)
		return -ENOMEM;

	/* 1. every wanted route: leave an equal one alone, else replace in place. The
	 *    first installed route with that (table, destination) is the one replaced. */
	for (size_t i = 0; i < n_want; i++) {
		size_t same = n_have, eq = n_have;

		for (size_t j = 0; j < n_have; j++) {
			if (kept[j] || !same_key(&have[j], &want[i]))
				continue;
			if (same == n_have)
				same = j;
			if (ul_route_eq(&have[j], &want[i])) {
				eq = j;
				break;
			}
		}
		if (eq < n_have) {
			kept[eq] = true;
			continue;
		}
		if (same < n_have)
			kept[same] = true;
		note(&changes, &err, ops->route_replace(ops->ctx, &want[i]));
	}

	/* 2. what is left: unwanted destinations and duplicates */
	for (size_t j = 0; j < n_have; j++)
		if (!kept[j])
			note(&changes, &err, ops->route_del(ops->ctx, &have[j]));

	free(kept);
	return err ? err : changes;
}

int ul_diff_rules(const struct ul_iprule *have, size_t n_have, const struct ul_iprule *want,
		  size_t n_want, const struct ul_diff_ops *ops)
{
	bool *kept = n_have ? calloc(n_have, sizeof(*kept)) : NULL;
	int changes = 0, err = 0;

	if (n_have && !kept)
		return -ENOMEM;

	/* 1. add the missing ones (each installed rule matches one wanted rule at most) */
	for (size_t i = 0; i < n_want; i++) {
		bool found = false;

		for (size_t j = 0; j < n_have && !found; j++) {
			if (!kept[j] && ul_iprule_eq(&have[j], &want[i])) {
				kept[j] = true;
				found = true;
			}
		}
		if (!found)
			note(&changes, &err, ops->rule_add(ops->ctx, &want[i]));
	}

	/* 2. then delete the stale ones and the duplicates */
	for (size_t j = 0; j < n_have; j++)
		if (!kept[j])
			note(&changes, &err, ops->rule_del(ops->ctx, &have[j]));

	free(kept);
	return err ? err : changes;
}
