// SPDX-License-Identifier: GPL-2.0-or-later
/* The kernel tests' kit (ktk.h). */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ktk.h"
#include "tk.h"

void ktk_collect(const struct ul_kev *ev, void *data)
{
	struct ktk_evlog *l = data;

	if (l->hook)
		l->hook(l, ev);
	if (l->n < sizeof(l->ev) / sizeof(l->ev[0]))
		l->ev[l->n++] = *ev;
}

const struct ul_kev *ktk_find(const struct ktk_evlog *l, enum ul_kev_type type, int ifindex,
			      const char *addr)
{
	for (size_t i = 0; i < l->n; i++) {
		const struct ul_kev *e = &l->ev[i];
		char txt[UL_ADDR_STRLEN];

		if (e->type != type || (ifindex && e->ifindex != ifindex))
			continue;
		if (addr && strcmp(ul_addr_format(&e->addr, txt, sizeof(txt)), addr))
			continue;
		return e;
	}
	return NULL;
}

struct ev_like {
	enum ul_kev_type type;
	int ifindex;
	const char *addr;
};

static const struct ul_kev *find_like(const struct ktk_evlog *l, const void *arg)
{
	const struct ev_like *k = arg;

	return ktk_find(l, k->type, k->ifindex, k->addr);
}

const struct ul_kev *ktk_wait_for(struct ul_rtnl *h, struct ktk_evlog *l,
				  enum ul_kev_type type, int ifindex, const char *addr)
{
	const struct ev_like k = { type, ifindex, addr };

	return ktk_wait(h, l, find_like, &k);
}

const struct ul_kev *ktk_wait(struct ul_rtnl *h, struct ktk_evlog *l, ktk_find_fn find,
			      const void *arg)
{
	for (int i = 0; i < 20; i++) {
		struct pollfd pfd = { .fd = ul_rtnl_event_fd(h), .events = POLLIN };
		const struct ul_kev *e;

		assert_int_equal(ul_rtnl_read_events(h, ktk_collect, l), 0);
		e = find(l, arg);
		if (e)
			return e;
		poll(&pfd, 1, 100);
	}
	return NULL;
}

void ktk_assert_has_all(const char *text, const char *const *pieces)
{
	for (; *pieces; pieces++)
		if (!strstr(text, *pieces))
			fail_msg("missing '%s' in:\n%s", *pieces, text);
}

void ktk_assert_shows(const char *cmd, const char *const *pieces)
{
	static char out[65536];

	tk_capture(cmd, out, sizeof(out));
	for (; *pieces; pieces++)
		if (!strstr(out, *pieces))
			fail_msg("%s: missing '%s' in:\n%s", cmd, *pieces, out);
}

void ktk_replace_routes(struct ul_rtnl *h, const struct ul_route *v, size_t n)
{
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < n; i++)
			assert_int_equal(ul_rtnl_route_replace(h, &v[i]), 0);
}

void ktk_del_routes(struct ul_rtnl *h, const struct ul_route *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		assert_int_equal(ul_rtnl_route_del(h, &v[i]), 0);
}

void ktk_add_rules(struct ul_rtnl *h, const struct ul_iprule *v, size_t n, size_t dup)
{
	for (size_t i = 0; i < n; i++)
		assert_int_equal(ul_rtnl_rule_add(h, &v[i]), 0);
	assert_int_equal(ul_rtnl_rule_add(h, &v[dup]), -EEXIST);
}

void ktk_del_rules(struct ul_rtnl *h, const struct ul_iprule *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		assert_int_equal(ul_rtnl_rule_del(h, &v[i]), 0);
}

void ktk_assert_routes(struct ul_rtnl *h, const uint32_t *tables, size_t n_tables,
		       const struct ul_route *v, size_t n)
{
	struct ul_route *have;
	size_t n_have;

	assert_int_equal(ul_rtnl_dump_routes(h, tables, n_tables, &have, &n_have), 0);
	assert_int_equal(n_have, n);
	for (size_t i = 0; i < n_have; i++) {
		bool found = false;

		for (size_t j = 0; j < n; j++)
			found |= ul_route_eq(&have[i], &v[j]);
		assert_true(found);
	}
	free(have);
}

void ktk_assert_no_routes(struct ul_rtnl *h, const char *ipfam, const uint32_t *tables,
			  size_t n_tables, uint32_t lo, uint32_t hi)
{
	struct ul_route *routes;
	struct ul_iprule *rules;
	char out[4096], cmd[128];
	size_t n;

	assert_int_equal(ul_rtnl_dump_routes(h, tables, n_tables, &routes, &n), 0);
	assert_int_equal(n, 0);
	free(routes);
	assert_int_equal(ul_rtnl_dump_rules(h, lo, hi, &rules, &n), 0);
	assert_int_equal(n, 0);
	free(rules);
	/* and as ip(8) sees it */
	snprintf(cmd, sizeof(cmd), "ip %s rule show | grep -E '^10[0-9][0-9]:' || true", ipfam);
	tk_capture(cmd, out, sizeof(out));
	assert_string_equal(out, "");
	for (size_t i = 0; i < n_tables; i++) {
		snprintf(cmd, sizeof(cmd), "ip %s route show table %u 2>/dev/null", ipfam,
			 tables[i]);
		tk_capture(cmd, out, sizeof(out));
		assert_string_equal(out, "");
	}
}

void ktk_reconcile_after(struct ul_rtnl *h, const struct ul_plan *p, const uint32_t *tables,
			 size_t n_tables, uint32_t lo, uint32_t hi, const char *const *cmds,
			 int changes)
{
	for (; cmds && *cmds; cmds++)
		tk_sh("%s", *cmds);
	assert_int_equal(ul_reconcile(h, p, tables, n_tables, lo, hi), changes);
	assert_int_equal(ul_reconcile(h, p, tables, n_tables, lo, hi), 0);
}

int ktk_rtnl_open(void **state)
{
	struct ul_rtnl *h;

	assert_int_equal(ul_rtnl_open(&h), 0);
	*state = h;
	return 0;
}

int ktk_rtnl_close(void **state)
{
	ul_rtnl_close(*state);
	return 0;
}
