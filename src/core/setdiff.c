// SPDX-License-Identifier: GPL-2.0-or-later
/* The difference of two sorted range lists (see setdiff.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "setdiff.h"

static int range_cmp(const struct ul_set_range *x, const struct ul_set_range *y)
{
	int r = memcmp(x->lo, y->lo, sizeof(x->lo));

	return r ? r : memcmp(x->hi, y->hi, sizeof(x->hi));
}

int ul_set_ranges_diff(const struct ul_set_range *a, size_t na, const struct ul_set_range *b,
		       size_t nb, struct ul_set_range **del, size_t *ndel,
		       struct ul_set_range **add, size_t *nadd)
{
	size_t i = 0, j = 0;

	*del = *add = NULL;
	*ndel = *nadd = 0;
	*del = malloc((na ? na : 1) * sizeof(**del));
	*add = malloc((nb ? nb : 1) * sizeof(**add));
	if (!*del || !*add) {
		free(*del);
		free(*add);
		*del = *add = NULL;
		return -ENOMEM;
	}
	while (i < na || j < nb) {
		int c = i == na ? 1 : j == nb ? -1 : range_cmp(&a[i], &b[j]);

		if (c < 0)
			(*del)[(*ndel)++] = a[i++];
		else if (c > 0)
			(*add)[(*nadd)++] = b[j++];
		else
			i++, j++;
	}
	return 0;
}

static bool stmt_equal(const struct ul_stmt *a, const struct ul_stmt *b)
{
	return a->kind == b->kind && a->neg == b->neg && a->family == b->family &&
	       a->proto == b->proto && a->port == b->port && a->mask == b->mask &&
	       a->value == b->value && ul_addr_eq(&a->addr, &b->addr) &&
	       !strncmp(a->str, b->str, sizeof(a->str));
}

static bool set_equal(const struct ul_set *a, const struct ul_set *b)
{
	if (strncmp(a->name, b->name, sizeof(a->name)) || a->key != b->key ||
	    a->interval != b->interval || a->dynamic != b->dynamic ||
	    a->timeout_ms != b->timeout_ms || a->flush != b->flush || a->n_elems != b->n_elems)
		return false;
	for (size_t i = 0; i < a->n_elems; i++) {
		const union ul_set_elem *x = &a->elems[i], *y = &b->elems[i];

		switch (a->key) {
		case UL_KEY_IFNAME:
			if (strncmp(x->ifname, y->ifname, sizeof(x->ifname)))
				return false;
			break;
		case UL_KEY_IPV4:
		case UL_KEY_IPV6:
			if (!ul_addr_eq(&x->prefix, &y->prefix))
				return false;
			break;
		case UL_KEY_PORT:
			if (x->port.lo != y->port.lo || x->port.hi != y->port.hi)
				return false;
			break;
		}
	}
	return true;
}

bool ul_ruleset_equal(const struct ul_ruleset *a, const struct ul_ruleset *b)
{
	if (a->n_sets != b->n_sets || a->n_chains != b->n_chains ||
	    a->n_counters != b->n_counters)
		return false;
	for (size_t i = 0; i < a->n_counters; i++)
		if (strncmp(a->counters[i].name, b->counters[i].name, UL_NFT_NAME_MAX))
			return false;
	for (size_t i = 0; i < a->n_sets; i++)
		if (!set_equal(&a->sets[i], &b->sets[i]))
			return false;
	for (size_t i = 0; i < a->n_chains; i++) {
		const struct ul_chain *x = &a->chains[i], *y = &b->chains[i];

		if (strncmp(x->name, y->name, sizeof(x->name)) || x->kind != y->kind ||
		    x->hook != y->hook || x->prio != y->prio || x->n_rules != y->n_rules)
			return false;
		for (size_t r = 0; r < x->n_rules; r++) {
			const struct ul_nrule *p = &x->rules[r], *q = &y->rules[r];

			if (p->n != q->n || strncmp(p->comment, q->comment, sizeof(p->comment)))
				return false;
			for (size_t k = 0; k < p->n; k++)
				if (!stmt_equal(&p->s[k], &q->s[k]))
					return false;
		}
	}
	return true;
}
