/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Apply only the difference between the desired and the installed routes and rules. */
#ifndef UL_RECONCILE_H
#define UL_RECONCILE_H

#include <stddef.h>
#include <stdint.h>

#include "diff.h"
#include "plan.h"
#include "rtnl.h"

/* Dump, diff, apply. tables: every table uplinkd owns now (link tables of the old and the
 * new config, and the balance table); prio range [lo, hi]. Returns changes or -errno. */
int ul_reconcile(struct ul_rtnl *h, const struct ul_plan *want, const uint32_t *tables,
		 size_t n_tables, uint32_t lo, uint32_t hi);
/* What differs, without changing anything: the number of changes ul_reconcile would
 * make (or -errno), the first of them in words in what ("rule 1001: from 192.168.1.2
 * lookup 201 missing and 2 more"). */
int ul_reconcile_drift(struct ul_rtnl *h, const struct ul_plan *want, const uint32_t *tables,
		       size_t n_tables, uint32_t lo, uint32_t hi, char *what, size_t len);
/* Remove every route in the tables and every rule in the range. */
int ul_reconcile_remove_all(struct ul_rtnl *h, const uint32_t *tables, size_t n_tables,
			    uint32_t lo, uint32_t hi);

#endif
