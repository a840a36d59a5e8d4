/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Link identity: which id (and so fwmark) and which routing table each link has. Pure.
 *
 * A link keeps its id and table while its name stays: explicit `id` / `table` in the
 * config win; otherwise what was remembered for that name (the identity store); a new link
 * gets its position (id = position, table = 200 + position, from 1) when free, else the
 * lowest free number. Ids live under daemon.mark_mask (mark = id << shift); two values of
 * the mark field are reserved (UL_ID_DROP, UL_ID_EXCLUDE). */
#ifndef UL_IDENTITY_H
#define UL_IDENTITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "config.h"

#define UL_ID_MAX 255
#define UL_ID_DROP 0xeu                 /* mark field values the planner uses itself */
#define UL_ID_EXCLUDE 0xfu
#define UL_IDENT_STORE_MAX 64           /* entries read from a store at most */
#define UL_IDENT_STORE_NAME "links.ids"  /* file in the runtime directory */

struct ul_ident {
	char name[UL_NAME_MAX];
	uint32_t id, table;
};

struct ul_ident_map {
	struct ul_ident e[UL_IDENT_STORE_MAX];
	size_t n;
};

/* Is id usable as a link id under mask (1..field maximum, not reserved)? */
bool ul_ident_id_valid(uint32_t id, uint32_t mask);
/* May a link's table be t (not 0, not 253..255, not the balance table)? */
bool ul_ident_table_valid(uint32_t t, uint32_t balance_table);

/* The assignment for every link of c (out[i] for c->links[i]); mem may be NULL (nothing
 * remembered). Uses c->links[i].id_set/id and table_set/table for explicit values.
 * Returns 0, or -ENOSPC when ids run out under the mask. */
int ul_ident_assign(const struct ul_config *c, const struct ul_ident_map *mem,
		    struct ul_ident *out);
/* Writes the assignment into c (links[i].id, links[i].table). */
void ul_ident_apply(struct ul_config *c, const struct ul_ident *a);

/* Store text: "name id table" per line, '#' comments. Lines that do not parse are skipped
 * and counted (*bad); later entries of a name already seen are ignored. */
void ul_ident_parse(const char *text, struct ul_ident_map *m, size_t *bad);
void ul_ident_format(const struct ul_ident *a, size_t n, struct ul_buf *b);

#endif
