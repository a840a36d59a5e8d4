// SPDX-License-Identifier: GPL-2.0-or-later
/* Dump what is installed, diff it against the plan (diff.c), apply the changes over
 * rtnetlink. */
#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "klog.h"
#include "reconcile.h"

/* ---- applying through rtnetlink ---------------------------------------------------------- */

/* Log one change. A benign error (the object is already as wanted: gone, or there)
 * counts as success. */
static int report(int err, int benign, const char *what, const char *txt)
{
	if (err && err == benign) {
		ul_kdebug("%s %s: already %s", what, txt, err == -EEXIST ? "there" : "gone");
		return 0;
	}
	if (err)
		ul_kerr("%s %s: %s", what, txt, strerror(-err));
	else
		ul_kdebug("%s %s", what, txt);
	return err;
}

static int op_route_replace(void *ctx, const struct ul_route *r)
{
	char txt[1024];

	ul_route_format(r, txt, sizeof(txt));
	return report(ul_rtnl_route_replace(ctx, r), 0, "route replace", txt);
}

static int op_route_del(void *ctx, const struct ul_route *r)
{
	struct ul_route named = *r;
	char txt[1024];
	int err;

	/* a route as dumped names its devices by index only: the log names them as ip does */
	for (size_t i = 0; i < named.n_nh; i++)
		if (!named.nh[i].ifname[0] && named.nh[i].ifindex > 0)
			ul_rtnl_ifname(ctx, named.nh[i].ifindex, named.nh[i].ifname);
	ul_route_format(&named, txt, sizeof(txt));
	err = ul_rtnl_route_del(ctx, r);
	return report(err == -ESRCH ? -ENOENT : err, -ENOENT, "route del", txt);
}

static int op_rule_add(void *ctx, const struct ul_iprule *r)
{
	char txt[256];

	ul_iprule_format(r, txt, sizeof(txt));
	return report(ul_rtnl_rule_add(ctx, r), -EEXIST, "rule add", txt);
}

static int op_rule_del(void *ctx, const struct ul_iprule *r)
{
	char txt[256];

	ul_iprule_format(r, txt, sizeof(txt));
	return report(ul_rtnl_rule_del(ctx, r), -ENOENT, "rule del", txt);
}

static bool table_owned(uint32_t table, const uint32_t *tables, size_t n_tables)
{
	for (size_t i = 0; i < n_tables; i++)
		if (tables[i] == table)
			return true;
	return false;
}

static int add_changes(int total, int ret, int *first_err)
{
	if (ret < 0) {
		if (!*first_err)
			*first_err = ret;
		return total;
	}
	return total + ret;
}

/* ---- describing the difference, changing nothing ------------------------------------------ */

struct drift {
	const struct ul_route *have;
	size_t n_have;
	char *what;
	size_t len;
	int n;
};

/* Count one difference; the first is described: "<kind> <object> <how>". */
static int drift_note(void *ctx, const char *kind, const char *txt, const char *how)
{
	struct drift *d = ctx;

	if (!d->n++)
		snprintf(d->what, d->len, "%s %s %s", kind, txt, how);
	return 0;
}

static int drift_route_replace(void *ctx, const struct ul_route *r)
{
	struct drift *d = ctx;
	char txt[1024];
	bool there = false;

	for (size_t i = 0; i < d->n_have && !there; i++)
		there = d->have[i].table == r->table && ul_addr_eq(&d->have[i].dst, &r->dst);
	ul_route_format(r, txt, sizeof(txt));
	return drift_note(d, "route", txt, there ? "changed" : "missing");
}

static int drift_route_del(void *ctx, const struct ul_route *r)
{
	char txt[1024];

	ul_route_format(r, txt, sizeof(txt));
	return drift_note(ctx, "route", txt, "added");
}

static int drift_rule_add(void *ctx, const struct ul_iprule *r)
{
	char txt[256];

	ul_iprule_format(r, txt, sizeof(txt));
	return drift_note(ctx, "rule", txt, "missing");
}

static int drift_rule_del(void *ctx, const struct ul_iprule *r)
{
	char txt[256];

	ul_iprule_format(r, txt, sizeof(txt));
	return drift_note(ctx, "rule", txt, "added");
}

int ul_reconcile_drift(struct ul_rtnl *h, const struct ul_plan *want, const uint32_t *tables,
		       size_t n_tables, uint32_t lo, uint32_t hi, char *what, size_t len)
{
	struct drift d = { .what = what, .len = len };
	struct ul_diff_ops ops = { drift_route_replace, drift_route_del, drift_rule_add,
				   drift_rule_del, &d };
	struct ul_route *have_routes = NULL, *want_routes = NULL;
	struct ul_iprule *have_rules = NULL, *want_rules = NULL;
	size_t n_have_routes = 0, n_have_rules = 0, n_want_routes = 0, n_want_rules = 0;
	int err;

	if (len)
		what[0] = '\0';
	want_routes = calloc(want->n_routes + 1, sizeof(*want_routes));
	want_rules = calloc(want->n_rules + 1, sizeof(*want_rules));
	if (!want_routes || !want_rules) {
		err = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < want->n_routes; i++)
		if (table_owned(want->routes[i].table, tables, n_tables))
			want_routes[n_want_routes++] = want->routes[i];
	for (size_t i = 0; i < want->n_rules; i++)
		if (want->rules[i].prio >= lo && want->rules[i].prio <= hi)
			want_rules[n_want_rules++] = want->rules[i];
	err = ul_rtnl_dump_routes(h, tables, n_tables, &have_routes, &n_have_routes);
	if (err < 0)
		goto out;
	err = ul_rtnl_dump_rules(h, lo, hi, &have_rules, &n_have_rules);
	if (err < 0)
		goto out;
	d.have = have_routes;
	d.n_have = n_have_routes;
	ul_diff_routes(have_routes, n_have_routes, want_routes, n_want_routes, &ops);
	ul_diff_rules(have_rules, n_have_rules, want_rules, n_want_rules, &ops);
	if (d.n > 1) {
		size_t off = strlen(what);

		snprintf(what + off, len - off, " and %d more", d.n - 1);
	}
	err = d.n;
out:
	free(have_routes);
	free(have_rules);
	free(want_routes);
	free(want_rules);
	return err;
}

int ul_reconcile(struct ul_rtnl *h, const struct ul_plan *want, const uint32_t *tables,
		 size_t n_tables, uint32_t lo, uint32_t hi)
{
	struct ul_diff_ops ops = { op_route_replace, op_route_del, op_rule_add, op_rule_del, h };
	struct ul_route *have_routes = NULL, *want_routes = NULL;
	struct ul_iprule *have_rules = NULL, *want_rules = NULL;
	size_t n_have_routes = 0, n_have_rules = 0, n_want_routes = 0, n_want_rules = 0;
	int changes = 0, err = 0, ret;

	/* only what uplinkd owns can be compared with what is installed */
	want_routes = calloc(want->n_routes + 1, sizeof(*want_routes));
	want_rules = calloc(want->n_rules + 1, sizeof(*want_rules));
	if (!want_routes || !want_rules) {
		err = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < want->n_routes; i++) {
		char txt[1024];

		if (table_owned(want->routes[i].table, tables, n_tables)) {
			want_routes[n_want_routes++] = want->routes[i];
			continue;
		}
		ul_route_format(&want->routes[i], txt, sizeof(txt));
		ul_kwarn("route %s: table not owned by uplinkd, skipped", txt);
	}
	for (size_t i = 0; i < want->n_rules; i++) {
		char txt[256];

		if (want->rules[i].prio >= lo && want->rules[i].prio <= hi) {
			want_rules[n_want_rules++] = want->rules[i];
			continue;
		}
		ul_iprule_format(&want->rules[i], txt, sizeof(txt));
		ul_kwarn("rule %s: priority outside %u-%u, skipped", txt, lo, hi);
	}

	ret = ul_rtnl_dump_routes(h, tables, n_tables, &have_routes, &n_have_routes);
	if (ret < 0) {
		err = ret;
		goto out;
	}
	ret = ul_rtnl_dump_rules(h, lo, hi, &have_rules, &n_have_rules);
	if (ret < 0) {
		err = ret;
		goto out;
	}
	/* routes first: a new rule finds its table filled */
	ret = ul_diff_routes(have_routes, n_have_routes, want_routes, n_want_routes, &ops);
	changes = add_changes(changes, ret, &err);
	ret = ul_diff_rules(have_rules, n_have_rules, want_rules, n_want_rules, &ops);
	changes = add_changes(changes, ret, &err);
	if (changes)
		ul_kdebug("reconcile: %d change(s)", changes);
out:
	free(have_routes);
	free(have_rules);
	free(want_routes);
	free(want_rules);
	return err ? err : changes;
}

int ul_reconcile_remove_all(struct ul_rtnl *h, const uint32_t *tables, size_t n_tables,
			    uint32_t lo, uint32_t hi)
{
	struct ul_diff_ops ops = { op_route_replace, op_route_del, op_rule_add, op_rule_del, h };
	struct ul_route *routes = NULL;
	struct ul_iprule *rules = NULL;
	size_t n_routes = 0, n_rules = 0;
	int changes = 0, err = 0, ret;

	/* rules first: traffic falls through to the main table, never into an empty one */
	ret = ul_rtnl_dump_rules(h, lo, hi, &rules, &n_rules);
	if (ret < 0) {
		err = ret;
	} else {
		ret = ul_diff_rules(rules, n_rules, NULL, 0, &ops);
		changes = add_changes(changes, ret, &err);
	}
	ret = ul_rtnl_dump_routes(h, tables, n_tables, &routes, &n_routes);
	if (ret < 0) {
		if (!err)
			err = ret;
	} else {
		ret = ul_diff_routes(routes, n_routes, NULL, 0, &ops);
		changes = add_changes(changes, ret, &err);
	}
	free(routes);
	free(rules);
	return err ? err : changes;
}
