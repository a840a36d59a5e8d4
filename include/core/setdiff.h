/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The difference of two sets' elements, for updates that add and delete only what changed. */
#ifndef UL_SETDIFF_H
#define UL_SETDIFF_H

#include <stdbool.h>
#include <stddef.h>

#include "ruleset.h"

/*
 * a and b sorted and disjoint as ul_set_ranges makes them. *del gets the ranges of a that are
 * not in b, *add those of b not in a (a range counts as the same only with both ends equal).
 * One sorted merge, O(na + nb). Returns 0 or -ENOMEM; free(*del), free(*add) afterwards.
 */
int ul_set_ranges_diff(const struct ul_set_range *a, size_t na, const struct ul_set_range *b,
		       size_t nb, struct ul_set_range **del, size_t *ndel,
		       struct ul_set_range **add, size_t *nadd);

/* Two rulesets say the same (sets with their elements in the same order, counters, chains and
 * rules), compared without printing them: cheap for 100,000-element sets. */
bool ul_ruleset_equal(const struct ul_ruleset *a, const struct ul_ruleset *b);

#endif
