// SPDX-License-Identifier: GPL-2.0-or-later
/* Turn the installed routes and rules into the wanted ones with as few changes as possible,
 * in an order that never leaves traffic without a route: routes are replaced in place before
 * stale ones are deleted, missing rules are added before stale ones are deleted. Pure: the
 * changes are made through the caller's operations. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "diff.h"

static void note(int *changes, int *first_err, int err)
{
	if (err < 0 && !*first_err)
		*first_err = err;
	(*changes)++;
}

/* What is diffed (routes or rules): how entries compare and how a change is made. */
struct kind {
	size_t size;
	/* the same place (routes: table and destination): a wanted entry replaces the
	 * first installed one in its place; NULL: no places, a wanted entry is added and
	 * an unwanted one deleted afterwards */
	bool (*same_place)(const void *have, const void *want);
	bool (*eq)(const void *have, const void *want);
	/* put: a wanted entry (routes: replaced, rules: added); else delete an installed one */
	int (*change)(const struct ul_diff_ops *ops, const void *e, bool put);
};

static int diff(const struct kind *k, const void *have, size_t n_have, const void *want,
		size_t n_want, const struct ul_diff_ops *ops)
{
	const char *h = have, *w = want;
	bool *kept = n_have ? calloc(n_have, sizeof(*kept)) : NULL;
	int changes = 0, err = 0;

	if (n_have && !kept)
		return -ENOMEM;

	/* 1. every wanted entry: leave an equal one alone, else put it (in place of the
	 *    first installed one in its place); each installed one serves one at most */
	for (size_t i = 0; i < n_want; i++) {
		const void *wi = w + i * k->size;
		size_t same = n_have, eq = n_have;

		for (size_t j = 0; j < n_have; j++) {
			const void *hj = h + j * k->size;

			if (kept[j] || (k->same_place && !k->same_place(hj, wi)))
				continue;
			if (k->same_place && same == n_have)
				same = j;
			if (k->eq(hj, wi)) {
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
		note(&changes, &err, k->change(ops, wi, true));
	}

	/* 2. what is left: unwanted entries and duplicates */
	for (size_t j = 0; j < n_have; j++)
		if (!kept[j])
			note(&changes, &err, k->change(ops, h + j * k->size, false));

	free(kept);
	return err ? err : changes;
}

static bool route_place(const void *have, const void *want)
{
	const struct ul_route *a = have, *b = want;

	return a->family == b->family && a->table == b->table && ul_addr_eq(&a->dst, &b->dst);
}

static bool route_eq(const void *have, const void *want)
{
	return ul_route_eq(have, want);
}

static int route_change(const struct ul_diff_ops *ops, const void *e, bool put)
{
	return put ? ops->route_replace(ops->ctx, e) : ops->route_del(ops->ctx, e);
}

static const struct kind routes = {
	.size = sizeof(struct ul_route), .same_place = route_place, .eq = route_eq,
	.change = route_change,
};

static bool rule_eq(const void *have, const void *want)
{
	return ul_iprule_eq(have, want);
}

static int rule_change(const struct ul_diff_ops *ops, const void *e, bool put)
{
	return put ? ops->rule_add(ops->ctx, e) : ops->rule_del(ops->ctx, e);
}

static const struct kind rules = {
	.size = sizeof(struct ul_iprule), .eq = rule_eq, .change = rule_change,
};

/* Routes: replaced in place before stale ones are deleted. The first installed route with
 * that (table, destination) is the one replaced. */
int ul_diff_routes(const struct ul_route *have, size_t n_have, const struct ul_route *want,
		   size_t n_want, const struct ul_diff_ops *ops)
{
	return diff(&routes, have, n_have, want, n_want, ops);
}

/* Rules: the missing ones added, then the stale ones and the duplicates deleted. */
int ul_diff_rules(const struct ul_iprule *have, size_t n_have, const struct ul_iprule *want,
		  size_t n_want, const struct ul_diff_ops *ops)
{
	return diff(&rules, have, n_have, want, n_want, ops);
}
