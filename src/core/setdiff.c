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
