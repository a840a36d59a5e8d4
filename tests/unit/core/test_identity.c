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

static struct ul_config *cfg(const char *text)
{
	struct ul_diag d = { 0 };
	struct ul_config *c = NULL;
	int r = ul_config_parse_string(text, "t.conf", &c, &d);

	for (size_t i = 0; i < d.n; i++)
		fprintf(stderr, "  %s\n", d.msgs[i]);
	assert_int_equal(r, 0);
	ul_diag_free(&d);
	return c;
}

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

/* Assign c with mem, then remember the result in mem (what the daemon does). */
static void assign(struct ul_config *c, struct ul_ident_map *mem, struct ul_ident *a)
{
	assert_int_equal(ul_ident_assign(c, mem, a), 0);
	ul_ident_apply(c, a);
	mem->n = c->n_links;
	memcpy(mem->e, a, c->n_links * sizeof(*a));
}

static const struct ul_ident *by_name(const struct ul_ident *a, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(a[i].name, name))
			return &a[i];
	fail_msg("no %s", name);
	return NULL;
}

static void first_assignment_is_position(void **state)
{
	struct ul_config *c = cfg("links = ( " LINK("a") ", " LINK("b") ", " LINK("c") " );\n");
	struct ul_ident a[UL_MAX_LINKS];
	struct ul_ident_map mem = { .n = 0 };

	(void)state;
	/* the config alone already carries the position defaults (uplinkd -n, -t) */
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(c->links[i].id, i + 1);
		assert_int_equal(c->links[i].table, 201 + i);
		assert_int_equal(ul_link_mark(c, i), (i + 1) << 8);
	}
	assign(c, &mem, a);
	assert_int_equal(a[0].id, 1);
	assert_int_equal(a[2].table, 203);
	ul_config_free(c);
}

static void reorder_insert_remove(void **state)
{
	struct ul_ident_map mem = { .n = 0 };
	struct ul_ident a[UL_MAX_LINKS];
	struct ul_config *c;

	(void)state;
	c = cfg("links = ( " LINK("a") ", " LINK("b") ", " LINK("c") " );\n");
	assign(c, &mem, a);
	ul_config_free(c);

	/* reorder: every link keeps id, mark and table */
	c = cfg("links = ( " LINK("c") ", " LINK("a") ", " LINK("b") " );\n");
	assign(c, &mem, a);
	assert_int_equal(by_name(a, 3, "a")->id, 1);
	assert_int_equal(by_name(a, 3, "b")->id, 2);
	assert_int_equal(by_name(a, 3, "c")->id, 3);
	assert_int_equal(by_name(a, 3, "c")->table, 203);
	assert_int_equal(ul_link_mark(c, 0), 3 << 8);   /* c is first now, mark stays 0x300 */
	assert_int_equal(c->links[0].table, 203);
	ul_config_free(c);

	/* insertion in front: the new link gets free numbers, the others stay */
	c = cfg("links = ( " LINK("n") ", " LINK("c") ", " LINK("a") ", " LINK("b") " );\n");
	assign(c, &mem, a);
	assert_int_equal(by_name(a, 4, "a")->id, 1);
	assert_int_equal(by_name(a, 4, "b")->id, 2);
	assert_int_equal(by_name(a, 4, "c")->id, 3);
	assert_int_equal(by_name(a, 4, "n")->id, 4);    /* position 1 taken: lowest free */
	assert_int_equal(by_name(a, 4, "n")->table, 204);
	ul_config_free(c);

	/* removal of a: the others stay; a's numbers become free for a later new link */
	c = cfg("links = ( " LINK("n") ", " LINK("c") ", " LINK("b") " );\n");
	assign(c, &mem, a);
	assert_int_equal(by_name(a, 3, "b")->id, 2);
	assert_int_equal(by_name(a, 3, "b")->table, 202);
	assert_int_equal(by_name(a, 3, "c")->id, 3);
	assert_int_equal(by_name(a, 3, "n")->id, 4);
	ul_config_free(c);
	c = cfg("links = ( " LINK("n") ", " LINK("c") ", " LINK("b") ", " LINK("z") " );\n");
	assign(c, &mem, a);
	assert_int_equal(by_name(a, 4, "z")->id, 1);    /* position 4 is n's: lowest free */
	assert_int_equal(by_name(a, 4, "z")->table, 201);
	assert_int_equal(by_name(a, 4, "n")->id, 4);
	ul_config_free(c);
}

static void explicit_ids_and_tables_win(void **state)
{
	struct ul_ident_map mem = { .n = 0 };
	struct ul_ident a[UL_MAX_LINKS];
	struct ul_config *c;

	(void)state;
	c = cfg("links = ( " LINK("a") ", " LINK("b") " );\n");
	assign(c, &mem, a);                     /* a 1/201, b 2/202 */
	ul_config_free(c);
	/* b pins id 1 and table 201: a loses both and gets free ones; b's marks are the
	 * config's on every gateway, whatever was remembered */
	c = cfg("links = ( " LINK("a") ", { name = \"b\"; interface = \"wb\"; id = 1; "
		"table = 201; } );\n");
	assert_int_equal(c->links[1].id, 1);
	assert_int_equal(c->links[0].id, 2);    /* config alone: position 1 taken */
	assign(c, &mem, a);
	assert_int_equal(a[1].id, 1);
	assert_int_equal(a[1].table, 201);
	assert_int_equal(a[0].id, 2);           /* b's remembered 2 is free again */
	assert_int_equal(a[0].table, 202);
	ul_config_free(c);
	/* an id like 200 is kept as given (mark 0xc800) */
	c = cfg("links = ( { name = \"a\"; interface = \"wa\"; id = 200; } );\n");
	assign(c, &mem, a);
	assert_int_equal(ul_link_mark(c, 0), 200u << 8);
	ul_config_free(c);
}

static void remembered_collisions(void **state)
{
	struct ul_ident_map mem;
	struct ul_ident a[UL_MAX_LINKS];
	struct ul_config *c;
	size_t bad;

	(void)state;
	/* a hand-edited store: a reserved id, a duplicate id, a table that is the balance
	 * table, one of the kernel's tables, and one that is fine */
	ul_ident_parse("a 14 201\n"
		       "b 5 250\n"
		       "c 5 255\n"
		       "d 7 300\n", &mem, &bad);
	assert_int_equal(bad, 0);
	assert_int_equal(mem.n, 4);
	c = cfg("links = ( " LINK("a") ", " LINK("b") ", " LINK("c") ", " LINK("d") " );\n");
	assert_int_equal(ul_ident_assign(c, &mem, a), 0);
	assert_int_equal(a[0].id, 1);           /* 14 is reserved: its position */
	assert_int_equal(a[0].table, 201);
	assert_int_equal(a[1].id, 5);
	assert_int_equal(a[1].table, 202);      /* 250 is the balance table */
	assert_int_equal(a[2].id, 3);           /* 5 is b's: its position, 3, is free */
	assert_int_equal(a[2].table, 203);      /* 255 is the kernel's */
	assert_int_equal(a[3].id, 7);
	assert_int_equal(a[3].table, 300);
	ul_config_free(c);
	/* a 4-bit mask: remembered 20 does not fit, 13 does */
	ul_ident_parse("a 20 201\nb 13 202\n", &mem, &bad);
	c = cfg("daemon = { mark_mask = 0xf0; };\nlinks = ( " LINK("a") ", " LINK("b") " );\n");
	assert_int_equal(ul_ident_assign(c, &mem, a), 0);
	assert_int_equal(a[0].id, 1);
	assert_int_equal(a[1].id, 13);
	ul_config_free(c);
}

static void no_two_links_share(void **state)
{
	/* whatever is remembered, ids and tables come out unique and valid */
	static const char *const stores[] = {
		"", "a 1 201\nb 1 201\nc 1 201\n", "c 1 201\nb 2 202\na 3 203\n",
		"x 1 201\ny 2 202\nz 3 203\n", "a 13 222\nb 16 223\nc 255 224\n",
	};
	struct ul_config *c = cfg("links = ( " LINK("a") ", " LINK("b") ", " LINK("c") ", "
				  "{ name = \"d\"; interface = \"wd\"; id = 3; table = 203; } );\n");

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
