// SPDX-License-Identifier: GPL-2.0-or-later
/* The route/rule diff against recording mock operations: nothing for nothing, replace in
 * place, duplicates removed, adds before deletes, errors reported but not stopping. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "diff.h"
#include "tk.h"

enum op { REPLACE, RDEL, ADD, DEL };

struct call {
	enum op op;
	struct ul_route route;
	struct ul_iprule rule;
};

struct rec {
	struct call calls[64];
	size_t n;
	int fail_at;            /* 1-based call that fails with -EPERM; 0: none */
};

static int record(struct rec *r, enum op op, const struct ul_route *route,
		  const struct ul_iprule *rule)
{
	struct call *c;

	assert_true(r->n < sizeof(r->calls) / sizeof(r->calls[0]));
	c = &r->calls[r->n++];
	memset(c, 0, sizeof(*c));
	c->op = op;
	if (route)
		c->route = *route;
	if (rule)
		c->rule = *rule;
	return (int)r->n == r->fail_at ? -EPERM : 0;
}

static int m_replace(void *ctx, const struct ul_route *r)
{
	return record(ctx, REPLACE, r, NULL);
}

static int m_rdel(void *ctx, const struct ul_route *r)
{
	return record(ctx, RDEL, r, NULL);
}

static int m_add(void *ctx, const struct ul_iprule *r)
{
	return record(ctx, ADD, NULL, r);
}

static int m_del(void *ctx, const struct ul_iprule *r)
{
	return record(ctx, DEL, NULL, r);
}

static struct rec rec;
static struct ul_diff_ops ops = { m_replace, m_rdel, m_add, m_del, &rec };

static int setup(void **state)
{
	memset(&rec, 0, sizeof(rec));
	return 0;
}

/* One call the diff must have made: the operation, and the route or rule it was given
 * (NULL: not checked). */
struct expect {
	enum op op;
	const struct ul_route *route;
	const struct ul_iprule *rule;
};

/* The diff made exactly these n calls, in this order. */
static void calls_were(const struct expect *w, size_t n)
{
	static const char *const names[] = { "REPLACE", "RDEL", "ADD", "DEL" };

	assert_int_equal(rec.n, n);
	for (size_t k = 0; k < n; k++) {
		const struct call *c = &rec.calls[k];

		if (c->op != w[k].op)
			fail_msg("call %zu: %s, expected %s", k, names[c->op], names[w[k].op]);
		if (w[k].route && !ul_route_eq(&c->route, w[k].route))
			fail_msg("call %zu: %s of another route", k, names[c->op]);
		if (w[k].rule && !ul_iprule_eq(&c->rule, w[k].rule))
			fail_msg("call %zu: %s of another rule", k, names[c->op]);
	}
}

static struct ul_route R(uint32_t table, const char *dst, const char *gw, int ifindex,
			 uint16_t weight)
{
	struct ul_route r;

	memset(&r, 0, sizeof(r));
	r.family = AF_INET;
	r.table = table;
	assert_int_equal(ul_addr_parse(dst, true, &r.dst), 0);
	r.n_nh = 1;
	r.nh[0].ifindex = ifindex;
	r.nh[0].weight = weight;
	if (gw) {
		r.nh[0].has_gw = true;
		assert_int_equal(ul_addr_parse(gw, false, &r.nh[0].gw), 0);
	}
	return r;
}

static struct ul_iprule I(uint32_t prio, uint32_t fwmark, uint32_t table)
{
	struct ul_iprule r;

	memset(&r, 0, sizeof(r));
	r.family = AF_INET;
	r.prio = prio;
	r.fwmark = fwmark;
	r.fwmask = fwmark ? 0xff00 : 0;
	r.table = table;
	r.suppress_prefixlen = UL_NO_SUPPRESS;
	return r;
}

static void test_routes_no_change(void **state)
{
	struct ul_route have[] = {
		R(201, "0.0.0.0/0", "192.168.0.1", 3, 1),
		R(202, "0.0.0.0/0", NULL, 4, 1),
	};
	struct ul_route want[] = { have[1], have[0] };      /* order does not matter */

	assert_int_equal(ul_diff_routes(have, 2, want, 2, &ops), 0);
	assert_int_equal(rec.n, 0);
}

static void test_routes_replace(void **state)
{
	struct ul_route have[] = { R(250, "0.0.0.0/0", "192.168.0.1", 3, 1) };
	struct ul_route want[] = { R(250, "0.0.0.0/0", "192.168.0.1", 3, 1) };

	/* another nexthop added: the same (table, dst), replaced in place, nothing deleted */
	want[0].nh[1] = want[0].nh[0];
	want[0].nh[1].ifindex = 4;
	want[0].nh[1].weight = 70;
	want[0].nh[0].weight = 30;
	want[0].n_nh = 2;
	assert_int_equal(ul_diff_routes(have, 1, want, 1, &ops), 1);
	calls_were((struct expect[]){ { REPLACE, &want[0], NULL } }, 1);
}

static void test_routes_add_and_delete_stale(void **state)
{
	struct ul_route have[] = {
		R(201, "0.0.0.0/0", "192.168.0.1", 3, 1),
		R(203, "0.0.0.0/0", "192.168.2.1", 5, 1),      /* link gone from the config */
	};
	struct ul_route want[] = {
		R(201, "0.0.0.0/0", "192.168.0.1", 3, 1),
		R(202, "0.0.0.0/0", "192.168.1.1", 4, 1),      /* new */
	};

	assert_int_equal(ul_diff_routes(have, 2, want, 2, &ops), 2);
	/* the new route goes in before the stale one goes away */
	calls_were((struct expect[]){ { REPLACE, &want[1], NULL }, { RDEL, &have[1], NULL } }, 2);
}

static void test_routes_duplicates(void **state)
{
	struct ul_route have[] = {
		R(250, "0.0.0.0/0", "192.168.9.9", 9, 1),      /* same key, other content */
		R(250, "0.0.0.0/0", "192.168.0.1", 3, 1),      /* the wanted one */
		R(250, "0.0.0.0/0", "192.168.0.1", 3, 1),      /* an exact duplicate */
	};
	struct ul_route want[] = { R(250, "0.0.0.0/0", "192.168.0.1", 3, 1) };

	assert_int_equal(ul_diff_routes(have, 3, want, 1, &ops), 2);
	calls_were((struct expect[]){ { RDEL, &have[0], NULL }, { RDEL, &have[2], NULL } }, 2);
}

static void test_routes_replace_then_delete_duplicate(void **state)
{
	struct ul_route have[] = {
		R(250, "0.0.0.0/0", "192.168.9.9", 9, 1),
		R(250, "0.0.0.0/0", "192.168.8.8", 8, 1),
	};
	struct ul_route want[] = { R(250, "0.0.0.0/0", "192.168.0.1", 3, 1) };

	/* the first with the key is replaced, the other deleted afterwards */
	assert_int_equal(ul_diff_routes(have, 2, want, 1, &ops), 2);
	calls_were((struct expect[]){ { REPLACE, NULL, NULL }, { RDEL, &have[1], NULL } }, 2);
}

static void test_routes_remove_all(void **state)
{
	struct ul_route have[] = {
		R(201, "0.0.0.0/0", "192.168.0.1", 3, 1),
		R(250, "10.0.0.0/8", NULL, 4, 1),
	};

	assert_int_equal(ul_diff_routes(have, 2, NULL, 0, &ops), 2);
	calls_were((struct expect[]){ { RDEL, NULL, NULL }, { RDEL, NULL, NULL } }, 2);
	assert_int_equal(rec.calls[1].route.table, 250);
}

static void test_routes_error_goes_on(void **state)
{
	struct ul_route have[] = { R(203, "0.0.0.0/0", "192.168.2.1", 5, 1) };
	struct ul_route want[] = {
		R(201, "0.0.0.0/0", "192.168.0.1", 3, 1),
		R(202, "0.0.0.0/0", "192.168.1.1", 4, 1),
	};

	rec.fail_at = 1;
	assert_int_equal(ul_diff_routes(have, 1, want, 2, &ops), -EPERM);
	assert_int_equal(rec.n, 3);     /* the other two were still made */
	assert_int_equal(rec.calls[2].op, RDEL);
}

static void test_rules_no_change(void **state)
{
	struct ul_iprule have[] = { I(1000, 0, 254), I(1001, 0x100, 201), I(1099, 0, 250) };
	struct ul_iprule want[] = { I(1099, 0, 250), I(1000, 0, 254), I(1001, 0x100, 201) };

	have[0].suppress_prefixlen = 0;
	want[1].suppress_prefixlen = 0;
	assert_int_equal(ul_diff_rules(have, 3, want, 3, &ops), 0);
	assert_int_equal(rec.n, 0);
}

static void test_rules_adds_before_deletes(void **state)
{
	struct ul_iprule have[] = { I(1001, 0x100, 201), I(1002, 0x200, 202) };
	struct ul_iprule want[] = { I(1001, 0x100, 201), I(1002, 0x300, 203),
				    I(1099, 0, 250) };

	assert_int_equal(ul_diff_rules(have, 2, want, 3, &ops), 3);
	calls_were((struct expect[]){ { ADD, NULL, &want[1] }, { ADD, NULL, &want[2] },
				      { DEL, NULL, &have[1] } }, 3);
}

static void test_rules_duplicates(void **state)
{
	struct ul_iprule have[] = { I(1001, 0x100, 201), I(1001, 0x100, 201),
				    I(1001, 0x100, 201) };
	struct ul_iprule want[] = { I(1001, 0x100, 201) };
	struct ul_iprule want2[] = { I(1001, 0x100, 201), I(1001, 0x100, 201) };

	assert_int_equal(ul_diff_rules(have, 3, want, 1, &ops), 2);
	calls_were((struct expect[]){ { DEL, NULL, NULL }, { DEL, NULL, NULL } }, 2);

	/* a wanted duplicate is a multiset: two wanted, one there -> one added */
	memset(&rec, 0, sizeof(rec));

	assert_int_equal(ul_diff_rules(have, 1, want2, 2, &ops), 1);
	calls_were((struct expect[]){ { ADD, NULL, NULL } }, 1);
}

static void test_rules_content_differs(void **state)
{
	struct ul_iprule have[] = { I(1050, 0, 77) };
	struct ul_iprule want[] = { I(1050, 0, 77) };

	/* a source prefix, or suppress, makes it another rule: add the new, delete the old */
	assert_int_equal(ul_addr_parse("10.0.1.0/24", true, &want[0].src), 0);
	assert_int_equal(ul_diff_rules(have, 1, want, 1, &ops), 2);
	calls_were((struct expect[]){ { ADD, NULL, NULL }, { DEL, NULL, NULL } }, 2);
	memset(&rec, 0, sizeof(rec));
	want[0] = have[0];
	want[0].suppress_prefixlen = 0;
	assert_int_equal(ul_diff_rules(have, 1, want, 1, &ops), 2);
}

static void test_rules_error_first_reported(void **state)
{
	struct ul_iprule have[] = { I(1002, 0x200, 202) };
	struct ul_iprule want[] = { I(1003, 0x300, 203) };

	rec.fail_at = 2;
	assert_int_equal(ul_diff_rules(have, 1, want, 1, &ops), -EPERM);
	assert_int_equal(rec.n, 2);
}

TK_MAIN_EACH(setup, NULL, test_routes_no_change, test_routes_replace,
	     test_routes_add_and_delete_stale, test_routes_duplicates,
	     test_routes_replace_then_delete_duplicate, test_routes_remove_all,
	     test_routes_error_goes_on, test_rules_no_change, test_rules_adds_before_deletes,
	     test_rules_duplicates, test_rules_content_differs, test_rules_error_first_reported)
