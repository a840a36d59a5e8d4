// SPDX-License-Identifier: GPL-2.0-or-later
/* Link identity: marks and tables follow the name, not the position. The assignment (config
 * + remembered map -> id and table per link), the store text, and the config's `id` key. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "identity.h"
#include "plan.h"
#include "tk.h"

static char *errs(const char *text)
{
	struct ul_diag d = { 0 };
	struct ul_config *c = NULL;
	struct ul_buf b = { 0 };

	assert_int_equal(ul_config_parse_string(text, "t.conf", &c, &d), -EINVAL);
	for (size_t i = 0; i < d.n; i++)
		ul_buf_printf(&b, "%s\n", d.msgs[i]);
	ul_diag_free(&d);
	return b.p;
}

#define LINK(n) "{ name = \"" n "\"; interface = \"w" n "\"; }"

/* What the daemon keeps across reloads: the remembered map, the config and its assignment
 * (applied: also written into the config, as the daemon does). */
struct gw {
	struct ul_ident_map mem;
	struct ul_ident a[UL_MAX_LINKS];
	struct ul_config *c;
	bool applied;
};

/* The config of text in place of the previous one, not assigned yet. */
static void load(struct gw *g, const char *text)
{
	ul_config_free(g->c);
	g->c = tk_config(text);
	g->applied = false;
}

/* Assign the config with what is remembered, apply it, then remember the result. */
static void assign(struct gw *g)
{
	assert_int_equal(ul_ident_assign(g->c, &g->mem, g->a), 0);
	ul_ident_apply(g->c, g->a);
	g->mem.n = g->c->n_links;
	memcpy(g->mem.e, g->a, g->c->n_links * sizeof(g->a[0]));
	g->applied = true;
}

/* A reload: load and assign. */
static void reload(struct gw *g, const char *text)
{
	load(g, text);
	assign(g);
}

/* The link of that name was assigned that id and (when not 0) that table; once applied,
 * the config's link carries them too (its mark: the id in the default mask 0xff00). */
static void has(const struct gw *g, const char *what, const char *name, uint32_t id,
		uint32_t table)
{
	size_t i = 0;

	while (i < g->c->n_links && strcmp(g->a[i].name, name))
		i++;
	if (i == g->c->n_links)
		fail_msg("%s: no %s", what, name);
	if (g->a[i].id != id || (table && g->a[i].table != table))
		fail_msg("%s: %s got id %u table %u, expected %u %u", what, name, g->a[i].id,
			 g->a[i].table, id, table);
	if (g->applied && (ul_link_mark(g->c, i) != id << 8 ||
			   (table && g->c->links[i].table != table)))
		fail_msg("%s: %s in the config: mark 0x%x table %u, expected 0x%x %u", what, name,
			 ul_link_mark(g->c, i), g->c->links[i].table, id << 8, table);
}

static void first_assignment_is_position(void **state)
{
	struct gw g = { .mem.n = 0 };

	(void)state;
	load(&g, "links = ( " LINK("a") ", " LINK("b") ", " LINK("c") " );\n");
	/* the config alone already carries the position defaults (uplinkd -n, -t) */
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(g.c->links[i].id, i + 1);
		assert_int_equal(g.c->links[i].table, 201 + i);
		assert_int_equal(ul_link_mark(g.c, i), (i + 1) << 8);
	}
	assign(&g);
	has(&g, "first", "a", 1, 0);
	has(&g, "first", "c", 3, 203);
	ul_config_free(g.c);
}

/* Reloads one after the other; after each the links have these ids and tables (0: not
 * checked). */
static const struct reload_step {
	const char *what, *links;
	struct { const char *name; uint32_t id, table; } want[4];
} reorder_steps[] = {
	{ "first", "links = ( " LINK("a") ", " LINK("b") ", " LINK("c") " );\n", { { NULL } } },
	/* c is first now, its mark stays 0x300 */
	{ "reorder: every link keeps id, mark and table",
	  "links = ( " LINK("c") ", " LINK("a") ", " LINK("b") " );\n",
	  { { "a", 1, 0 }, { "b", 2, 0 }, { "c", 3, 203 } } },
	/* position 1 is taken: n gets the lowest free */
	{ "insertion in front: the new link gets free numbers, the others stay",
	  "links = ( " LINK("n") ", " LINK("c") ", " LINK("a") ", " LINK("b") " );\n",
	  { { "a", 1, 0 }, { "b", 2, 0 }, { "c", 3, 0 }, { "n", 4, 204 } } },
	{ "removal of a: the others stay; a's numbers become free for a later new link",
	  "links = ( " LINK("n") ", " LINK("c") ", " LINK("b") " );\n",
	  { { "b", 2, 202 }, { "c", 3, 0 }, { "n", 4, 0 } } },
	/* position 4 is n's: the lowest free */
	{ "a new link after the removal",
	  "links = ( " LINK("n") ", " LINK("c") ", " LINK("b") ", " LINK("z") " );\n",
	  { { "z", 1, 201 }, { "n", 4, 0 } } },
};

static void reorder_insert_remove(void **state)
{
	struct gw g = { .mem.n = 0 };

	(void)state;
	for (size_t s = 0; s < sizeof(reorder_steps) / sizeof(reorder_steps[0]); s++) {
		const struct reload_step *st = &reorder_steps[s];

		reload(&g, st->links);
		for (size_t w = 0; w < 4 && st->want[w].name; w++)
			has(&g, st->what, st->want[w].name, st->want[w].id, st->want[w].table);
	}
	ul_config_free(g.c);
}

static void explicit_ids_and_tables_win(void **state)
{
	struct gw g = { .mem.n = 0 };

	(void)state;
	reload(&g, "links = ( " LINK("a") ", " LINK("b") " );\n");   /* a 1/201, b 2/202 */
	/* b pins id 1 and table 201: a loses both and gets free ones; b's marks are the
	 * config's on every gateway, whatever was remembered */
	load(&g, "links = ( " LINK("a") ", { name = \"b\"; interface = \"wb\"; id = 1; "
		 "table = 201; } );\n");
	assert_int_equal(g.c->links[1].id, 1);
	assert_int_equal(g.c->links[0].id, 2);  /* config alone: position 1 taken */
	assign(&g);
	has(&g, "pinned", "b", 1, 201);
	has(&g, "pinned", "a", 2, 202);         /* b's remembered 2 is free again */
	/* an id like 200 is kept as given (mark 0xc800) */
	reload(&g, "links = ( { name = \"a\"; interface = \"wa\"; id = 200; } );\n");
	assert_int_equal(ul_link_mark(g.c, 0), 200u << 8);
	ul_config_free(g.c);
}

/* Assigned with a remembered store that is not the daemon's own (nothing applied). */
static void remembered_collisions(void **state)
{
	struct gw g = { .c = NULL };
	size_t bad;

	(void)state;
	/* a hand-edited store: a reserved id, a duplicate id, a table that is the balance
	 * table, one of the kernel's tables, and one that is fine */
	ul_ident_parse("a 14 201\n"
		       "b 5 250\n"
		       "c 5 255\n"
		       "d 7 300\n", &g.mem, &bad);
	assert_int_equal(bad, 0);
	assert_int_equal(g.mem.n, 4);
	load(&g, "links = ( " LINK("a") ", " LINK("b") ", " LINK("c") ", " LINK("d") " );\n");
	assert_int_equal(ul_ident_assign(g.c, &g.mem, g.a), 0);
	has(&g, "hand-edited", "a", 1, 201);    /* 14 is reserved: its position */
	has(&g, "hand-edited", "b", 5, 202);    /* 250 is the balance table */
	has(&g, "hand-edited", "c", 3, 203);    /* 5 is b's: its position, 3, is free; 255 is
						 * the kernel's */
	has(&g, "hand-edited", "d", 7, 300);
	/* a 4-bit mask: remembered 20 does not fit, 13 does */
	ul_ident_parse("a 20 201\nb 13 202\n", &g.mem, &bad);
	load(&g, "daemon = { mark_mask = 0xf0; };\nlinks = ( " LINK("a") ", " LINK("b") " );\n");
	assert_int_equal(ul_ident_assign(g.c, &g.mem, g.a), 0);
	has(&g, "4-bit mask", "a", 1, 0);
	has(&g, "4-bit mask", "b", 13, 0);
	ul_config_free(g.c);
}

static void no_two_links_share(void **state)
{
	/* whatever is remembered, ids and tables come out unique and valid */
	static const char *const stores[] = {
		"", "a 1 201\nb 1 201\nc 1 201\n", "c 1 201\nb 2 202\na 3 203\n",
		"x 1 201\ny 2 202\nz 3 203\n", "a 13 222\nb 16 223\nc 255 224\n",
	};
	struct ul_config *c = tk_config("links = ( " LINK("a") ", " LINK("b") ", " LINK("c")
					", { name = \"d\"; interface = \"wd\"; id = 3; table = 203; } );\n");

	(void)state;
	for (size_t s = 0; s < sizeof(stores) / sizeof(stores[0]); s++) {
		struct ul_ident_map mem;
		struct ul_ident a[UL_MAX_LINKS];

		ul_ident_parse(stores[s], &mem, NULL);
		assert_int_equal(ul_ident_assign(c, &mem, a), 0);
		assert_int_equal(a[3].id, 3);
		assert_int_equal(a[3].table, 203);
		for (size_t i = 0; i < 4; i++) {
			assert_true(ul_ident_id_valid(a[i].id, 0xff00));
			assert_true(ul_ident_table_valid(a[i].table, 250));
			for (size_t j = 0; j < i; j++) {
				assert_int_not_equal(a[i].id, a[j].id);
				assert_int_not_equal(a[i].table, a[j].table);
			}
		}
	}
	ul_config_free(c);
}

static void store_text(void **state)
{
	struct ul_ident v[2] = { { "isp1", 3, 203 }, { "lte-0", 1, 4000000000u } };
	struct ul_ident_map m;
	struct ul_buf b = { 0 };
	size_t bad;

	(void)state;
	ul_ident_format(v, 2, &b);
	assert_non_null(strstr(b.p, "\nisp1 3 203\nlte-0 1 4000000000\n"));
	ul_ident_parse(b.p, &m, &bad);
	assert_int_equal(bad, 0);
	assert_int_equal(m.n, 2);
	assert_string_equal(m.e[1].name, "lte-0");
	assert_int_equal(m.e[1].table, 4000000000u);
	ul_buf_free(&b);
	/* junk lines are skipped and counted, comments and blank lines are not junk; the
	 * first entry of a name wins; no final newline is fine */
	ul_ident_parse("# c\n\n  \nisp1 1 201 # note\nBAD 2 202\nisp2 0 202\nisp3 256 203\n"
		       "isp4 4\nisp5 5 205 extra\nisp1 9 209\nisp6 6 206", &m, &bad);
	assert_int_equal(bad, 5);
	assert_int_equal(m.n, 2);
	assert_int_equal(m.e[0].id, 1);
	assert_string_equal(m.e[1].name, "isp6");
	ul_ident_parse(NULL, &m, &bad);
	assert_int_equal(m.n, 0);
}

static void config_id_key(void **state)
{
	char *e;

	(void)state;
	e = errs("links = (\n"
		 "  { name = \"a\"; interface = \"wa\"; id = 7; },\n"
		 "  { name = \"b\"; interface = \"wb\"; id = 7; },\n"
		 "  { name = \"c\"; interface = \"wc\"; id = 14; },\n"
		 "  { name = \"d\"; interface = \"wd\"; id = 0; },\n"
		 "  { name = \"e\"; interface = \"we\"; id = \"x\"; }\n"
		 ");\n");
	assert_non_null(strstr(e, "t.conf:3: links[1].id: 7 is already the id of link \"a\" "
				  "(line 2)\n"));
	assert_non_null(strstr(e, "t.conf:4: links[2].id: 14 is reserved"));
	assert_non_null(strstr(e, "t.conf:5: links[3].id: "));
	assert_non_null(strstr(e, "t.conf:6: links[4].id: "));
	free(e);
	e = errs("daemon = { mark_mask = 0xf000; };\n"
		 "links = ( { name = \"a\"; interface = \"wa\"; id = 16; } );\n");
	assert_non_null(strstr(e, "t.conf:2: links[0].id: 16 does not fit daemon.mark_mask "
				  "0xf000 (at most 15)\n"));
	free(e);
}

TK_MAIN(NULL, NULL, first_assignment_is_position, reorder_insert_remove,
	explicit_ids_and_tables_win, remembered_collisions, no_two_links_share, store_text,
	config_id_key)
