// SPDX-License-Identifier: GPL-2.0-or-later
/* Link identity: explicit config values, then the remembered map, then free numbers. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "identity.h"

static uint32_t field_max(uint32_t mask)
{
	unsigned shift;

	if (!mask)
		return 0;
	shift = (unsigned)__builtin_ctz(mask);
	return mask >> shift;
}

bool ul_ident_id_valid(uint32_t id, uint32_t mask)
{
	return id >= 1 && id <= UL_ID_MAX && id <= field_max(mask) && id != UL_ID_DROP &&
	       id != UL_ID_EXCLUDE;
}

bool ul_ident_table_valid(uint32_t t, uint32_t balance_table)
{
	return t >= 1 && !(t >= 253 && t <= 255) && t != balance_table;
}

static const struct ul_ident *remembered(const struct ul_ident_map *mem, const char *name)
{
	if (!mem)
		return NULL;
	for (size_t k = 0; k < mem->n; k++)
		if (!strcmp(mem->e[k].name, name))
			return &mem->e[k];
	return NULL;
}

static bool id_taken(const struct ul_ident *a, size_t n, uint32_t id)
{
	for (size_t i = 0; i < n; i++)
		if (a[i].id == id)
			return true;
	return false;
}

static bool table_taken(const struct ul_ident *a, size_t n, uint32_t t)
{
	for (size_t i = 0; i < n; i++)
		if (a[i].table == t)
			return true;
	return false;
}

int ul_ident_assign(const struct ul_config *c, const struct ul_ident_map *mem,
		    struct ul_ident *out)
{
	uint32_t mask = c->daemon.mark_mask, bt = c->daemon.balance_table;
	size_t n = c->n_links;

	memset(out, 0, n * sizeof(*out));
	for (size_t i = 0; i < n; i++)
		snprintf(out[i].name, sizeof(out[i].name), "%s", c->links[i].name);
	/* 1. explicit values (validated by the config: unique, in range) */
	for (size_t i = 0; i < n; i++) {
		if (c->links[i].id_set)
			out[i].id = c->links[i].id;
		if (c->links[i].table_set)
			out[i].table = c->links[i].table;
	}
	/* 2. remembered ones, unless an explicit value (or an earlier link) holds them now */
	for (size_t i = 0; i < n; i++) {
		const struct ul_ident *r = remembered(mem, out[i].name);

		if (!r)
			continue;
		if (!out[i].id && ul_ident_id_valid(r->id, mask) && !id_taken(out, n, r->id))
			out[i].id = r->id;
		if (!out[i].table && ul_ident_table_valid(r->table, bt) &&
		    !table_taken(out, n, r->table))
			out[i].table = r->table;
	}
	/* 3. new links: their position if free, else the lowest free number */
	for (size_t i = 0; i < n; i++) {
		uint32_t want = (uint32_t)i + 1;

		if (!out[i].id) {
			if (!ul_ident_id_valid(want, mask) || id_taken(out, n, want))
				for (want = 1; want <= UL_ID_MAX; want++)
					if (ul_ident_id_valid(want, mask) && !id_taken(out, n, want))
						break;
			if (!ul_ident_id_valid(want, mask))
				return -ENOSPC;
			out[i].id = want;
		}
		if (!out[i].table) {
			want = 200 + (uint32_t)i + 1;
			if (!ul_ident_table_valid(want, bt) || table_taken(out, n, want))
				for (want = 201; ; want++)
					if (ul_ident_table_valid(want, bt) &&
					    !table_taken(out, n, want))
						break;
			out[i].table = want;
		}
	}
	return 0;
}

void ul_ident_apply(struct ul_config *c, const struct ul_ident *a)
{
	for (size_t i = 0; i < c->n_links; i++) {
		c->links[i].id = a[i].id;
		c->links[i].table = a[i].table;
	}
}

static bool valid_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= UL_NAME_MAX)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_' ||
		      *s == '-'))
			return false;
	return true;
}

void ul_ident_parse(const char *text, struct ul_ident_map *m, size_t *bad)
{
	const char *p = text ? text : "";

	m->n = 0;
	if (bad)
		*bad = 0;
	while (*p) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);
		char line[128], name[64], extra[2];
		unsigned long id, table;

		if (len < sizeof(line)) {
			memcpy(line, p, len);
			line[len] = 0;
		} else {
			line[0] = '!';  /* too long: bad */
			line[1] = 0;
		}
		p += len + (eol ? 1 : 0);
		{
			char *h = strchr(line, '#');
			const char *q = line;

			if (h)
				*h = 0;
			while (*q == ' ' || *q == '\t' || *q == '\r')
				q++;
			if (!*q)
				continue;
		}
		if (sscanf(line, "%63s %lu %lu %1s", name, &id, &table, extra) != 3 ||
		    !valid_name(name) || id < 1 || id > UL_ID_MAX || table < 1 ||
		    table > 0xffffffffUL) {
			if (bad)
				(*bad)++;
			continue;
		}
		if (remembered(m, name) || m->n >= UL_IDENT_STORE_MAX)
			continue;
		snprintf(m->e[m->n].name, sizeof(m->e[m->n].name), "%s", name);
		m->e[m->n].id = (uint32_t)id;
		m->e[m->n].table = (uint32_t)table;
		m->n++;
	}
}

void ul_ident_format(const struct ul_ident *a, size_t n, struct ul_buf *b)
{
	ul_buf_printf(b, "# uplinkd link identities: name id table (written by uplinkd)\n");
	for (size_t i = 0; i < n; i++)
		ul_buf_printf(b, "%s %u %u\n", a[i].name, a[i].id, a[i].table);
}
