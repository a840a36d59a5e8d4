// SPDX-License-Identifier: GPL-2.0-or-later
/* Transcript tests of the daemon, in the style of OpenBSD's regress: each
 * tests/transcripts/NAME.scenario is a script of events (the kernel's interfaces and
 * addresses changing, probe rounds, signals, control requests, time passing) played
 * against the real daemon (daemon.c, verbs.c) on a fake kernel port and a virtual clock;
 * everything the daemon does (port calls, log lines, hooks, control replies) is written
 * to a transcript that must equal NAME.expected. The `watch` command gives the port its
 * watching part (nftables events, routing drift, sysctl checks) for the repair scenarios.
 * UL_TRANSCRIPT_UPDATE=1 writes the expectations instead; tests/transcripts/README says how
 * to review them. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "buf.h"
#include "config.h"
#include "daemon.h"
#include "hostcheck.h"
#include "kport.h"
#include "log.h"
#include "loop.h"
#include "ruleset.h"

#define IFF_UP_ 0x1
#define IFF_LOWER_UP_ 0x10000
#define T0_MS 1000000u                  /* the virtual clock at the start of a scenario */
#define MAX_IFS 16
#define MAX_ADDRS 32
#define MAX_ROUTES 16
#define MAX_PENDING 128
#define MAX_PROBERS 64
#define MAX_FAILS 8
#define MAX_SYSCTLS 32

struct fprober {
	char ifname[IFNAMSIZ];
	ul_round_cb cb;
	void *data;
	uint32_t interval_ms;
	bool bound, freed;
	struct ul_addr src;
	struct ul_probe_stats st;
};

struct ffail {
	char op[32];
	int err;                        /* positive errno */
	unsigned left;
	char text[256];                 /* what the kernel layer says of it ("": nothing) */
};

struct fake {
	struct ul_buf out;              /* the transcript */
	uint64_t now, stamp;            /* virtual clock; time of the last line written */
	bool show_nft;
	bool nft_deaf;                  /* the next nft_apply returns 1 (see nft-deaf) */
	bool quiet_reconcile;           /* the header line of a reconcile only */
	char *nft_last;                 /* the ruleset text last applied */
	struct ul_buf installed;        /* routes and rules installed, one a line */
	/* the kernel */
	struct ul_kev ifs[MAX_IFS];
	size_t n_ifs;
	struct ul_kev addrs[MAX_ADDRS];
	size_t n_addrs;
	struct ul_kev routes[MAX_ROUTES];
	size_t n_routes;
	struct ul_kev pending[MAX_PENDING];
	size_t n_pending;
	bool overrun;                   /* the queued events were lost: ENOBUFS */
	struct ffail fails[MAX_FAILS];
	size_t n_fails;
	const char *last_error;         /* of the last port call */
	struct ul_ident_map ids;        /* the identity store (links.ids), in memory */
	struct fprober probers[MAX_PROBERS];
	size_t n_probers;
	int pipe[2];
	/* the kernel's sysctls: what the scenario set (`sysctl`) and sysctl_ensure wrote */
	struct {
		char key[96];
		long value;
	} sysctls[MAX_SYSCTLS];
	size_t n_sysctls;
	/* the watching part (`watch`): the nftables event socket (never readable: the script
	 * calls the daemon's watch), what its next read returns */
	int nft_pipe[2];
	int nft_changes;                /* changes others made (-ENOBUFS: events lost) */
	struct ul_nft_change nft_change;        /* ... the most serious of them */
};

static struct fake *g_f;

/* ---- the transcript ---- */

static void stamp(struct fake *f)
{
	if (f->now != f->stamp) {
		ul_buf_printf(&f->out, "-- at %llu.%03llu s\n",
			      (unsigned long long)((f->now - T0_MS) / 1000),
			      (unsigned long long)((f->now - T0_MS) % 1000));
		f->stamp = f->now;
	}
}

/* One line (or several), with the version taken out so that a release changes nothing. */
static void put(struct fake *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct fake *f, const char *fmt, ...)
{
	char line[4096];
	const char *v;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	stamp(f);
	for (const char *p = line; *p;) {
		v = strstr(p, UL_VERSION);
		if (!v) {
			ul_buf_printf(&f->out, "%s", p);
			break;
		}
		ul_buf_printf(&f->out, "%.*sVERSION", (int)(v - p), p);
		p = v + strlen(UL_VERSION);
	}
}

static const char *prio_name(int prio)
{
	static const char *const names[] = { "emerg", "alert", "crit", "err", "warning",
					     "notice", "info", "debug" };

	return prio >= 0 && prio <= 7 ? names[prio] : "?";
}

static void log_sink(void *ctx, int prio, const char *msg)
{
	put(ctx, "log %s: %s\n", prio_name(prio), msg);
}

/* Lines of text, each with a prefix. */
static void put_lines(struct fake *f, const char *prefix, const char *text)
{
	while (text && *text) {
		const char *nl = strchr(text, '\n');
		int len = nl ? (int)(nl - text) : (int)strlen(text);

		put(f, "%s%.*s\n", prefix, len, text);
		text += len + (nl ? 1 : 0);
	}
}

/* ---- injected failures ---- */

static const struct {
	const char *name;
	int err;
} errnos[] = {
	{ "EINVAL", EINVAL }, { "ENOENT", ENOENT }, { "EEXIST", EEXIST }, { "EBUSY", EBUSY },
	{ "ENOBUFS", ENOBUFS }, { "EINTR", EINTR }, { "EPERM", EPERM }, { "ENOMEM", ENOMEM },
	{ "ENODEV", ENODEV }, { "EOPNOTSUPP", EOPNOTSUPP }, { "ENETUNREACH", ENETUNREACH },
	{ "EAGAIN", EAGAIN },
};

static const char *errno_name(int err)
{
	for (size_t i = 0; i < sizeof(errnos) / sizeof(errnos[0]); i++)
		if (errnos[i].err == err)
			return errnos[i].name;
	return "E?";
}

/* -errno when the scenario said this call fails, else 0; the failure is in the
 * transcript, after the call's own line. */
static int injected(struct fake *f, const char *op)
{
	f->last_error = "";
	for (size_t i = 0; i < f->n_fails; i++) {
		struct ffail *x = &f->fails[i];

		if (x->left && !strcmp(x->op, op)) {
			x->left--;
			put(f, "  -> -%s (injected)\n", errno_name(x->err));
			f->last_error = x->text;
			return -x->err;
		}
	}
	return 0;
}

static const char *f_last_error(void *ctx)
{
	return ((struct fake *)ctx)->last_error;
}

/* ---- the fake port ---- */

static uint64_t f_now_ms(void *ctx)
{
	return ((struct fake *)ctx)->now;
}

static int f_rtnl_open(void *ctx)
{
	put(ctx, "rtnl_open\n");
	return injected(ctx, "rtnl_open");
}

static int f_rtnl_event_fd(void *ctx)
{
	return ((struct fake *)ctx)->pipe[0];
}

static int f_rtnl_read_events(void *ctx, ul_kev_cb cb, void *data)
{
	struct fake *f = ctx;

	if (f->overrun) {
		put(f, "rtnl_read_events -> ENOBUFS (%zu lost)\n", f->n_pending);
		f->last_error = "rtnetlink: event queue overrun, events lost";      /* as rtnl.c */
		f->overrun = false;
		f->n_pending = 0;
		return -ENOBUFS;
	}
	put(f, "rtnl_read_events -> %zu\n", f->n_pending);
	for (size_t i = 0; i < f->n_pending; i++)
		cb(&f->pending[i], data);
	f->n_pending = 0;
	return -EAGAIN;
}

static int f_rtnl_dump_all(void *ctx, ul_kev_cb cb, void *data)
{
	struct fake *f = ctx;
	int err;

	put(f, "rtnl_dump_all -> %zu interfaces, %zu addresses, %zu routes\n", f->n_ifs,
	    f->n_addrs, f->n_routes);
	err = injected(f, "rtnl_dump_all");
	for (size_t i = 0; i < f->n_ifs; i++)
		cb(&f->ifs[i], data);
	for (size_t i = 0; i < f->n_addrs && !err; i++)
		cb(&f->addrs[i], data);
	for (size_t i = 0; i < f->n_routes && !err; i++)
		cb(&f->routes[i], data);
	return err;
}

static int f_nft_open(void *ctx)
{
	put(ctx, "nft_open\n");
	return injected(ctx, "nft_open");
}

static size_t split_lines(char *text, char **lines, size_t max)
{
	size_t n = 0;

	for (char *p = text; p && *p && n < max;) {
		char *nl = strchr(p, '\n');

		lines[n++] = p;
		if (!nl)
			break;
		*nl = '\0';
		p = nl + 1;
	}
	return n;
}

/* The lines removed (-) and added (+) from a to b, in order (a longest common subsequence). */
static void put_diff(struct fake *f, const char *a_text, const char *b_text)
{
	enum { MAXL = 1024 };
	char *a = strdup(a_text), *b = strdup(b_text), *al[MAXL], *bl[MAXL];
	size_t na, nb, i, j;
	unsigned short *lcs;

	assert_non_null(a);
	assert_non_null(b);
	na = split_lines(a, al, MAXL);
	nb = split_lines(b, bl, MAXL);
	lcs = calloc((na + 1) * (nb + 1), sizeof(*lcs));
	assert_non_null(lcs);
#define L(x, y) lcs[(x) * (nb + 1) + (y)]
	for (i = na; i-- > 0;)
		for (j = nb; j-- > 0;)
			L(i, j) = !strcmp(al[i], bl[j]) ? L(i + 1, j + 1) + 1 :
				  L(i + 1, j) > L(i, j + 1) ? L(i + 1, j) : L(i, j + 1);
	for (i = 0, j = 0; i < na || j < nb;) {
		if (i < na && j < nb && !strcmp(al[i], bl[j])) {
			i++;
			j++;
		} else if (j < nb && (i == na || L(i, j + 1) > L(i + 1, j))) {
			put(f, "  + %s\n", bl[j++]);
		} else {
			put(f, "  - %s\n", al[i++]);
		}
	}
#undef L
	free(lcs);
	free(a);
	free(b);
}

static int f_nft_apply(void *ctx, const struct ul_ruleset *rs)
{
	struct fake *f = ctx;
	char *text = NULL;
	size_t len = 0, lines = 0;
	FILE *m = open_memstream(&text, &len);
	int err;

	assert_non_null(m);
	ul_ruleset_print(m, rs);
	fclose(m);
	for (const char *p = text; *p; p++)
		lines += *p == '\n';
	if (!f->nft_last) {
		put(f, "nft_apply: table inet uplinkd, %zu lines\n", lines);
		if (f->show_nft)
			put_lines(f, "  | ", text);
	} else if (!strcmp(f->nft_last, text)) {
		put(f, "nft_apply: table inet uplinkd, %zu lines, the same (sent again)\n", lines);
	} else {
		put(f, "nft_apply: table inet uplinkd, %zu lines, changed:\n", lines);
		put_diff(f, f->nft_last, text);
	}
	err = injected(f, "nft_apply");
	if (err) {
		free(text);
		return err;
	}
	free(f->nft_last);
	f->nft_last = text;
	if (f->nft_deaf) {
		f->nft_deaf = false;
		put(f, "  -> 1 (others committed while the event socket was out of the group)\n");
		return 1;
	}
	return 0;
}

static int f_nft_remove(void *ctx)
{
	struct fake *f = ctx;

	put(f, "nft_remove\n");
	free(f->nft_last);
	f->nft_last = NULL;
	return injected(f, "nft_remove");
}

static void put_tables(struct fake *f, const char *op, const uint32_t *tables, size_t n,
		       uint32_t lo, uint32_t hi)
{
	char buf[256] = "";
	size_t len = 0;

	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, " %u", tables[i]);
	put(f, "%s tables%s rules %u-%u\n", op, n ? buf : " (none)", lo, hi);
}

/* How often the line (len bytes with its newline) is in text, up to end (NULL: all). */
static int count_line(const char *text, const char *end, const char *line, size_t len)
{
	int n = 0;

	for (const char *q = text; q && *q && (!end || q < end);) {
		const char *qn = strchr(q, '\n');

		n += (size_t)(qn - q) + 1 == len && !memcmp(line, q, len);
		q = qn + 1;
	}
	return n;
}

/* Lines of a that are not in b, counted as a multiset (the IPv4 and the IPv6 rule of a
 * link can read the same); the first of them in *first (when not NULL; its length in
 * *first_len, without the newline). */
static int missing_lines(const char *a, const char *b, const char **first, int *first_len)
{
	int n = 0;

	for (const char *p = a; p && *p;) {
		const char *nl = strchr(p, '\n');
		size_t len = (size_t)(nl - p) + 1;
		bool found = count_line(a, nl, p, len) <= count_line(b, NULL, p, len);

		if (!found && !n++ && first) {
			*first = p;
			*first_len = (int)len - 1;
		}
		p = nl + 1;
	}
	return n;
}

/* The routes and rules of a plan, one "  route ..." or "  rule ..." line each (as the
 * installed state is kept). */
static void plan_text(const struct ul_plan *want, struct ul_buf *b)
{
	char txt[512];

	for (size_t i = 0; i < want->n_routes; i++) {
		ul_route_format(&want->routes[i], txt, sizeof(txt));
		ul_buf_printf(b, "  route %s\n", txt);
	}
	for (size_t i = 0; i < want->n_rules; i++) {
		ul_iprule_format(&want->rules[i], txt, sizeof(txt));
		ul_buf_printf(b, "  rule %s\n", txt);
	}
}

/* Prints what is wanted; returns the number of changes from what is installed, as the
 * real reconciler does. */
static int f_reconcile(void *ctx, const struct ul_plan *want, const uint32_t *tables,
		       size_t n_tables, uint32_t lo, uint32_t hi)
{
	struct fake *f = ctx;
	struct ul_buf b = { 0 };
	int err, n;

	put_tables(f, "reconcile", tables, n_tables, lo, hi);
	plan_text(want, &b);
	if (!f->quiet_reconcile)
		put_lines(f, "", b.p);
	err = injected(f, "reconcile");
	if (err) {
		ul_buf_free(&b);
		return err;
	}
	n = missing_lines(b.p, f->installed.p, NULL, NULL) +
	    missing_lines(f->installed.p, b.p, NULL, NULL);
	ul_buf_free(&f->installed);
	f->installed = b;
	return n;
}

static int f_remove_all(void *ctx, const uint32_t *tables, size_t n_tables, uint32_t lo,
			uint32_t hi)
{
	struct fake *f = ctx;

	put_tables(f, "remove_all", tables, n_tables, lo, hi);
	if (n_tables)
		ul_buf_free(&f->installed);     /* (a rule range alone: the next reconcile
						 * puts its rules in again anyway) */
	return injected(f, "remove_all");
}

static int f_ct_flush_mark(void *ctx, int family, uint32_t mark, uint32_t mask)
{
	put(ctx, "ct_flush_mark %s 0x%x/0x%x\n", family == AF_INET ? "ipv4" :
	    family == AF_INET6 ? "ipv6" : "?", mark, mask);
	return injected(ctx, "ct_flush_mark");
}

static int f_ct_flush_unmarked(void *ctx, const struct ul_addr *reply_dst, uint32_t mask)
{
	char a[UL_ADDR_STRLEN];

	put(ctx, "ct_flush_unmarked replies to %s 0x%x\n", ul_addr_format(reply_dst, a, sizeof(a)),
	    mask);
	return injected(ctx, "ct_flush_unmarked");
}

/* The identity store survives a stop and a start of the same scenario (a restart). */
static int f_ident_load(void *ctx, const char *path, struct ul_ident_map *m)
{
	struct fake *f = ctx;

	put(f, "ident_load %s -> %zu\n", path, f->ids.n);
	*m = f->ids;
	return injected(f, "ident_load");
}

static int f_ident_save(void *ctx, const char *path, const struct ul_ident *a, size_t n)
{
	struct fake *f = ctx;
	int err;

	put(f, "ident_save %s:", path);
	for (size_t i = 0; i < n; i++)
		put(f, " %s=%u/%u", a[i].name, a[i].id, a[i].table);
	put(f, "\n");
	err = injected(f, "ident_save");
	if (!err) {
		f->ids.n = n < UL_IDENT_STORE_MAX ? n : UL_IDENT_STORE_MAX;
		memcpy(f->ids.e, a, f->ids.n * sizeof(a[0]));
	}
	return err;
}

static int f_sysctl_open(void *ctx)
{
	put(ctx, "sysctl_open\n");
	return injected(ctx, "sysctl_open");
}

static long *sysctl_slot(struct fake *f, const char *key, bool create)
{
	for (size_t i = 0; i < f->n_sysctls; i++)
		if (!strcmp(f->sysctls[i].key, key))
			return &f->sysctls[i].value;
	if (!create)
		return NULL;
	assert_true(f->n_sysctls < MAX_SYSCTLS);
	snprintf(f->sysctls[f->n_sysctls].key, sizeof(f->sysctls[0].key), "%s", key);
	f->sysctls[f->n_sysctls].value = 0;
	return &f->sysctls[f->n_sysctls++].value;
}

static int f_sysctl_ensure(void *ctx, const char *key, int value, int atleast)
{
	struct fake *f = ctx;
	long *v;
	int err;

	put(f, "sysctl_ensure %s %d%s\n", key, value, atleast ? " (at least)" : "");
	err = injected(f, "sysctl_ensure");
	if (err)
		return err;
	v = sysctl_slot(f, key, true);
	if (!atleast || *v < value)
		*v = value;
	return 0;
}

/* A key the scenario never set nor the daemon wrote does not exist. */
static int f_sysctl_get(void *ctx, const char *key, long *value)
{
	const long *v = sysctl_slot(ctx, key, false);

	if (!v) {
		put(ctx, "sysctl_get %s -> ENOENT\n", key);
		return -ENOENT;
	}
	put(ctx, "sysctl_get %s -> %ld\n", key, *v);
	*value = *v;
	return 0;
}

static void f_sysctl_restore(void *ctx)
{
	put(ctx, "sysctl_restore\n");
}

static int f_hooks_open(void *ctx, struct ul_loop *loop)
{
	put(ctx, "hooks_open\n");
	return injected(ctx, "hooks_open");
}

static int f_hooks_configure(void *ctx, const char *path, uint32_t timeout_s,
			     const char *user)
{
	put(ctx, "hooks_configure \"%s\" %u s%s%s\n", path, timeout_s, user[0] ? " as " : "",
	    user);
	return 0;
}

/* The capabilities: dropped after start; the fake cannot switch users afterwards. */
static int f_priv_drop(void *ctx, bool keep_setid)
{
	put(ctx, "priv_drop%s\n", keep_setid ? " (keep setid)" : "");
	return injected(ctx, "priv_drop");
}

static bool f_priv_can_setid(void *ctx)
{
	return false;
}

static int f_hook_event(void *ctx, const char *name, const char *ifname, const char *state,
			const char *prev, const char *active_csv)
{
	put(ctx, "hook %s %s %s <- %s, active \"%s\"\n", name, ifname, state, prev, active_csv);
	return injected(ctx, "hook_event");
}

static int f_hook_event6(void *ctx, const char *name, const char *ifname, const char *state,
			 const char *prev, const char *active_csv)
{
	put(ctx, "hook ipv6 %s %s %s <- %s, active \"%s\"\n", name, ifname, state, prev,
	    active_csv);
	return injected(ctx, "hook_event6");
}

static void f_hooks_reap(void *ctx)
{
	put(ctx, "hooks_reap\n");
}

static struct ul_prober *f_prober_new(void *ctx, struct ul_loop *loop,
				      const struct ul_check *chk, const char *ifname,
				      uint32_t mark, ul_round_cb cb, void *data)
{
	struct fake *f = ctx;
	struct fprober *p;

	assert_true(f->n_probers < MAX_PROBERS);
	p = &f->probers[f->n_probers++];
	snprintf(p->ifname, sizeof(p->ifname), "%s", ifname);
	p->cb = cb;
	p->data = data;
	p->interval_ms = chk->interval_ms;
	put(f, "prober_new %s mark 0x%x, %zu target%s every %u ms\n", ifname, mark,
	    chk->n_targets, chk->n_targets == 1 ? "" : "s", chk->interval_ms);
	return (struct ul_prober *)p;
}

/* Written only when it changes something: a real prober ignores a rebind to the same
 * address. */
static int f_prober_bind(void *ctx, struct ul_prober *handle, const struct ul_addr *src)
{
	struct fprober *p = (struct fprober *)handle;
	char a[UL_ADDR_STRLEN];

	if (!src && p->bound) {
		p->bound = false;
		put(ctx, "prober_bind %s none (stopped)\n", p->ifname);
	} else if (src && (!p->bound || !ul_addr_eq(src, &p->src))) {
		p->bound = true;
		p->src = *src;
		put(ctx, "prober_bind %s %s (probing)\n", p->ifname,
		    ul_addr_format(src, a, sizeof(a)));
	}
	return 0;
}

static const struct ul_probe_stats *f_prober_stats(void *ctx, const struct ul_prober *p)
{
	return &((const struct fprober *)p)->st;
}

static void f_prober_free(void *ctx, struct ul_prober *handle)
{
	struct fprober *p = (struct fprober *)handle;

	p->freed = true;
	put(ctx, "prober_free %s\n", p->ifname);
}

static void f_close(void *ctx)
{
	put(ctx, "close\n");
}

/* ---- the watching part of the port (`watch`) ---- */

static int f_nft_watch_open(void *ctx)
{
	struct fake *f = ctx;

	put(f, "nft_watch_open\n");
	return pipe(f->nft_pipe) ? -errno : injected(f, "nft_watch_open");
}

static int f_nft_watch_fd(void *ctx)
{
	return ((struct fake *)ctx)->nft_pipe[0];
}

static int f_nft_watch_read(void *ctx, const struct ul_ruleset *rs, struct ul_nft_change *ch)
{
	struct fake *f = ctx;
	int n = f->nft_changes;

	if (n == -ENOBUFS)
		put(f, "nft_watch_read -> ENOBUFS (events lost)\n");
	else
		put(f, "nft_watch_read -> %d%s%s\n", n, n ? ": " : "", n ? f->nft_change.what : "");
	if (n > 0)
		*ch = f->nft_change;
	f->nft_changes = 0;
	return n;
}

/* After lost events: the fake's table is always whole (what a later change did is told by
 * its own event). */
static int f_nft_check(void *ctx, const struct ul_ruleset *rs, struct ul_nft_change *ch)
{
	put(ctx, "nft_check -> 0\n");
	return 0;
}

/* What differs between want and the installed routes and rules, changing nothing: the
 * number of differences; the first in words, as the real one says it (a wanted line that
 * is not there is "missing", one there that is not wanted "added"). */
static int f_routing_drift(void *ctx, const struct ul_plan *want, const uint32_t *tables,
			   size_t n_tables, uint32_t lo, uint32_t hi, char *what, size_t len)
{
	struct fake *f = ctx;
	struct ul_buf b = { 0 };
	const char *miss = NULL, *added = NULL;
	int miss_len = 0, added_len = 0, n_miss, n_added, n;

	plan_text(want, &b);
	n_miss = missing_lines(b.p, f->installed.p, &miss, &miss_len);
	n_added = missing_lines(f->installed.p, b.p, &added, &added_len);
	n = n_miss + n_added;
	what[0] = '\0';
	if (n_miss)
		snprintf(what, len, "%.*s missing", miss_len - 2, miss + 2);
	else if (n_added)
		snprintf(what, len, "%.*s added", added_len - 2, added + 2);
	if (n > 1)
		snprintf(what + strlen(what), len - strlen(what), " and %d more", n - 1);
	ul_buf_free(&b);                /* (miss points into it) */
	put(f, "routing_drift -> %d%s%s\n", n, n ? ": " : "", what);
	return n;
}

/* Does the kernel's value still satisfy what sysctl_ensure made it? With fix, written again
 * (the saved original untouched: the fake keeps none). */
static int f_sysctl_check(void *ctx, const char *key, int value, int atleast, bool fix,
			  long *found)
{
	struct fake *f = ctx;
	long *v = sysctl_slot(f, key, false);
	int drifted;

	if (!v) {
		put(f, "sysctl_check %s%s -> ENOENT\n", key, fix ? " fix" : "");
		return -ENOENT;
	}
	*found = *v;
	drifted = !(*v == value || (atleast && *v > value));
	put(f, "sysctl_check %s%s -> %d (is %ld)\n", key, fix ? " fix" : "", drifted, *v);
	if (drifted && fix)
		*v = value;
	return drifted;
}

/* The port; watching: with the watching part (else those operations are not offered). */
static struct ul_kport fake_port(struct fake *f, bool watching)
{
	return (struct ul_kport){
		.ctx = f, .now_ms = f_now_ms,
		.rtnl_open = f_rtnl_open, .rtnl_event_fd = f_rtnl_event_fd,
		.rtnl_read_events = f_rtnl_read_events, .rtnl_dump_all = f_rtnl_dump_all,
		.nft_open = f_nft_open, .nft_apply = f_nft_apply, .nft_remove = f_nft_remove,
		.reconcile = f_reconcile, .remove_all = f_remove_all,
		.ct_flush_mark = f_ct_flush_mark, .ct_flush_unmarked = f_ct_flush_unmarked,
		.ident_load = f_ident_load, .ident_save = f_ident_save,
		.sysctl_open = f_sysctl_open, .sysctl_ensure = f_sysctl_ensure,
		.sysctl_restore = f_sysctl_restore,
		.hooks_open = f_hooks_open, .hooks_configure = f_hooks_configure,
		.hook_event = f_hook_event, .hooks_reap = f_hooks_reap,
		.prober_new = f_prober_new, .prober_bind = f_prober_bind,
		.prober_stats = f_prober_stats, .prober_free = f_prober_free,
		.priv_drop = f_priv_drop, .priv_can_setid = f_priv_can_setid,
		.close = f_close, .last_error = f_last_error,
		/* IPv6 */
		.sysctl_get = f_sysctl_get, .hook_event6 = f_hook_event6,
		/* watching */
		.nft_watch_open = watching ? f_nft_watch_open : NULL,
		.nft_watch_fd = watching ? f_nft_watch_fd : NULL,
		.nft_watch_read = watching ? f_nft_watch_read : NULL,
		.nft_check = watching ? f_nft_check : NULL,
		.routing_drift = watching ? f_routing_drift : NULL,
		.sysctl_check = watching ? f_sysctl_check : NULL,
	};
}

/* ---- the fake kernel: its objects, and the events their changes queue ---- */

static void queue(struct fake *f, const struct ul_kev *ev)
{
	if (f->n_pending < MAX_PENDING)
		f->pending[f->n_pending++] = *ev;
	else
		f->overrun = true;      /* what a full socket buffer does */
}

static struct ul_kev *find_if(struct fake *f, int ifindex)
{
	for (size_t i = 0; i < f->n_ifs; i++)
		if (f->ifs[i].ifindex == ifindex)
			return &f->ifs[i];
	return NULL;
}

/* Remove entries of an array of events matching ifindex (and, if given, ev's address). */
static void drop(struct fake *f, struct ul_kev *arr, size_t *n, int ifindex,
		 const struct ul_kev *match, enum ul_kev_type del_type)
{
	for (size_t i = 0; i < *n;) {
		bool hit = arr[i].ifindex == ifindex &&
			   (!match || (ul_addr_eq(&arr[i].addr, &match->addr) &&
				       (del_type != UL_KEV_ROUTE_DEL ||
					(ul_addr_eq(&arr[i].gw, &match->gw) &&
					 arr[i].metric == match->metric))));

		if (hit) {
			struct ul_kev ev = arr[i];

			ev.type = del_type;
			if (match)
				queue(f, &ev);
			arr[i] = arr[--*n];
		} else {
			i++;
		}
	}
}

/* ---- the script ---- */

struct run {
	struct fake f;
	struct ul_daemon *d;
	bool started, stopped;
	const char *file;
	unsigned line;
};

static void die(struct run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void die(struct run *r, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s:%u: ", r->file, r->line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	fail();
}

static void fire_due(struct run *r)
{
	if (r->started && !r->stopped)
		ul_loop_fire_due(r->d->loop);
}

/* Time passes: every timer fires when it falls due. */
static void advance(struct run *r, uint64_t ms)
{
	uint64_t end = r->f.now + ms, next;

	while (r->started && !r->stopped && (next = ul_loop_next_due_ms(r->d->loop)) &&
	       next <= end) {
		if (next > r->f.now)
			r->f.now = next;
		ul_loop_fire_due(r->d->loop);
	}
	r->f.now = end;
	fire_due(r);
}

static int parse_addr(const char *s, struct ul_addr *a)
{
	char buf[64];
	char *slash;
	int plen = -1;

	snprintf(buf, sizeof(buf), "%s", s);
	slash = strchr(buf, '/');
	if (slash) {
		*slash = '\0';
		plen = atoi(slash + 1);
	}
	if (ul_addr_parse(buf, false, a))
		return -EINVAL;
	if (plen >= 0)
		a->plen = (uint8_t)plen;
	return 0;
}

static int nwords(char **w)
{
	int n = 0;

	while (w[n])
		n++;
	return n;
}

static void cmd_iface(struct run *r, char **w)
{
	struct ul_kev ev = { .type = UL_KEV_LINK };
	struct ul_kev *k;

	if (nwords(w) < 3)
		die(r, "iface IFINDEX NAME [up] [lower]");
	ev.ifindex = atoi(w[1]);
	snprintf(ev.ifname, sizeof(ev.ifname), "%s", w[2]);
	for (int i = 3; w[i]; i++)
		if (!strcmp(w[i], "up"))
			ev.flags |= IFF_UP_;
		else if (!strcmp(w[i], "lower"))
			ev.flags |= IFF_LOWER_UP_;
		else
			die(r, "iface: unknown flag %s", w[i]);
	k = find_if(&r->f, ev.ifindex);
	if (!k) {
		if (r->f.n_ifs == MAX_IFS)
			die(r, "too many interfaces");
		k = &r->f.ifs[r->f.n_ifs++];
	}
	*k = ev;
	queue(&r->f, &ev);
}

/* The kernel deletes every route through a deleted device (a multipath route too). */
static void forget_dev(struct fake *f, const char *ifname)
{
	struct ul_buf keep = { 0 };
	char dev[IFNAMSIZ + 8];

	snprintf(dev, sizeof(dev), " dev %s ", ifname);
	for (const char *p = f->installed.p; p && *p;) {
		const char *nl = strchr(p, '\n');
		int len = (int)(nl - p) + 1;
		char line[1024];

		snprintf(line, sizeof(line), "%.*s", len, p);
		if (!strstr(line, dev))
			ul_buf_printf(&keep, "%s", line);
		p = nl + 1;
	}
	ul_buf_free(&f->installed);
	f->installed = keep;
}

static void cmd_iface_del(struct run *r, char **w)
{
	int ifindex = w[1] ? atoi(w[1]) : 0;
	struct ul_kev *k = find_if(&r->f, ifindex);
	struct ul_kev ev;

	if (!k)
		die(r, "iface-del: no interface %d", ifindex);
	/* as the kernel does: the interface goes down first, then its routes and addresses go
	 * (without events of their own for the addresses: the deletion says it all), then it */
	ev = *k;
	ev.flags = 0;
	queue(&r->f, &ev);
	drop(&r->f, r->f.addrs, &r->f.n_addrs, ifindex, NULL, UL_KEV_ADDR_DEL);
	drop(&r->f, r->f.routes, &r->f.n_routes, ifindex, NULL, UL_KEV_ROUTE_DEL);
	ev.type = UL_KEV_LINK_DEL;
	queue(&r->f, &ev);
	forget_dev(&r->f, k->ifname);
	*k = r->f.ifs[--r->f.n_ifs];
}

/* The fake kernel adds an address or route (and queues its event), or deletes the ones
 * that match (and queues theirs). */
static void add_or_del(struct run *r, struct ul_kev *arr, size_t *n, size_t max,
		       const struct ul_kev *ev, bool del)
{
	if (del) {
		drop(&r->f, arr, n, ev->ifindex, ev, ev->type);
		return;
	}
	if (*n == max)
		die(r, "too many of kind %d", (int)ev->type);
	arr[(*n)++] = *ev;
	queue(&r->f, ev);
}

static void cmd_addr(struct run *r, char **w, bool del)
{
	struct ul_kev ev = { .type = del ? UL_KEV_ADDR_DEL : UL_KEV_ADDR };

	if (nwords(w) != 3 || parse_addr(w[2], &ev.addr))
		die(r, "%s IFINDEX A.B.C.D/N|X:X::X/N", w[0]);
	ev.ifindex = atoi(w[1]);
	/* a global IPv6 address, neither tentative nor deprecated, as the rtnl layer marks it */
	ev.addr_usable = ev.addr.family == AF_INET6;
	add_or_del(r, r->f.addrs, &r->f.n_addrs, MAX_ADDRS, &ev, del);
}

/* route IFINDEX via GW [metric N] [ra]: a default route of the main table (of GW's family;
 * ra: a router advertisement's, rtm_protocol 9) */
static void cmd_route(struct run *r, char **w, bool del)
{
	struct ul_kev ev = { .type = del ? UL_KEV_ROUTE_DEL : UL_KEV_ROUTE, .table = 254,
			     .has_gw = true };
	int n = nwords(w), i = 4;

	if (n < 4 || strcmp(w[2], "via") || strchr(w[3], '/') || parse_addr(w[3], &ev.gw))
		die(r, "%s IFINDEX via GW [metric N] [ra]", w[0]);
	if (i + 1 < n && !strcmp(w[i], "metric")) {
		ev.metric = (uint32_t)atoi(w[i + 1]);
		i += 2;
	}
	if (i < n && !strcmp(w[i], "ra")) {
		ev.proto = 9;
		i++;
	}
	if (i != n)
		die(r, "%s IFINDEX via GW [metric N] [ra]", w[0]);
	ev.ifindex = atoi(w[1]);
	ul_addr_parse(ev.gw.family == AF_INET6 ? "::" : "0.0.0.0", false, &ev.addr);
	ev.addr.plen = 0;
	add_or_del(r, r->f.routes, &r->f.n_routes, MAX_ROUTES, &ev, del);
}

/* ---- what others change (for the watching port) ---- */

/* Remove the installed lines that match (the first only, when one), queueing ev for each. */
static void forget_installed(struct run *r, bool (*match)(const char *line, uint32_t n),
			     uint32_t n, bool one, const struct ul_kev *ev)
{
	struct ul_buf keep = { 0 };
	bool done = false;

	for (const char *p = r->f.installed.p; p && *p;) {
		const char *nl = strchr(p, '\n');
		char line[1024];

		snprintf(line, sizeof(line), "%.*s", (int)(nl - p) + 1, p);
		if (!done && match(line, n)) {
			queue(&r->f, ev);
			done = one;
		} else {
			ul_buf_printf(&keep, "%s", line);
		}
		p = nl + 1;
	}
	ul_buf_free(&r->f.installed);
	r->f.installed = keep;
}

static bool is_rule(const char *line, uint32_t prio)
{
	char head[32];

	snprintf(head, sizeof(head), "  rule %u: ", prio);
	return !strncmp(line, head, strlen(head));
}

static bool is_table_route(const char *line, uint32_t table)
{
	char tail[32];
	size_t len = strlen(line), tl;

	snprintf(tail, sizeof(tail), " table %u\n", table);
	tl = strlen(tail);
	return !strncmp(line, "  route ", 8) && len > tl && !strcmp(line + len - tl, tail);
}

/* rule-del PRIO (ip rule del pref PRIO: one rule goes), troute-flush TABLE (ip route flush
 * table TABLE: its routes go, an event each); rule-event PRIO [own] [deleted] and
 * troute-event TABLE [own] [deleted]: an event only, the kernel as it was (a change undone
 * before the daemon looks, or one of a rule or table not uplinkd's) */
static void cmd_routing(struct run *r, char **w)
{
	bool rule = !strncmp(w[0], "rule", 4), event = !!strstr(w[0], "-event");
	struct ul_kev ev = { .type = rule ? UL_KEV_RULE : UL_KEV_TROUTE };
	uint32_t n = w[1] ? (uint32_t)atoi(w[1]) : 0;

	if (!n)
		die(r, "%s %s [own] [deleted]", w[0], rule ? "PRIO" : "TABLE");
	if (rule)
		ev.metric = n;
	else
		ev.table = n;
	for (int i = 2; w[i]; i++)
		if (event && !strcmp(w[i], "own"))
			ev.own = true;
		else if (event && !strcmp(w[i], "deleted"))
			ev.deleted = true;
		else
			die(r, "%s: unknown word %s", w[0], w[i]);
	if (event) {
		queue(&r->f, &ev);
		return;
	}
	ev.deleted = true;
	forget_installed(r, rule ? is_rule : is_table_route, n, rule, &ev);
}

/* nft-event N [WHAT...]: the nftables event socket is readable; N changes others made to
 * table inet uplinkd (0: uplinkd's own transaction), WHAT the most serious of them (rank 5
 * of nftwatch.c's scale); nft-event lost: the events were lost (ENOBUFS) */
static void cmd_nft_event(struct run *r, char **w, const char *line)
{
	const char *what;

	if (!r->started || r->stopped || !r->d->kp.nft_watch_read)
		die(r, "nft-event: no watching daemon running");
	if (!w[1])
		die(r, "nft-event N [WHAT...] | nft-event lost");
	if (!strcmp(w[1], "lost")) {
		r->f.nft_changes = -ENOBUFS;
	} else {
		r->f.nft_changes = atoi(w[1]);
		what = strstr(line, w[1]) + strlen(w[1]);
		r->f.nft_change = (struct ul_nft_change){ .rank = 5 };
		snprintf(r->f.nft_change.what, sizeof(r->f.nft_change.what), "%s",
			 what + strspn(what, " \t"));
	}
	r->d->nft_w.cb(&r->d->nft_w, EPOLLIN);
	fire_due(r);
}

/* sysctl KEY VALUE: the kernel's value (before start: as the host has it; later: someone
 * else wrote it, without an event: see netconf) */
static void cmd_sysctl(struct run *r, char **w)
{
	if (nwords(w) != 3)
		die(r, "sysctl KEY VALUE");
	*sysctl_slot(&r->f, w[1], true) = atol(w[2]);
}

/* fail OP ERRNO [xN] [TEXT...] */
static void cmd_fail(struct run *r, char **w)
{
	struct ffail *x;
	int n = nwords(w), t = 3;
	size_t len = 0;

	if (n < 3 || r->f.n_fails == MAX_FAILS)
		die(r, "fail OP ERRNO [xN] [TEXT...]");
	x = &r->f.fails[r->f.n_fails++];
	snprintf(x->op, sizeof(x->op), "%s", w[1]);
	x->err = 0;
	for (size_t i = 0; i < sizeof(errnos) / sizeof(errnos[0]); i++)
		if (!strcmp(errnos[i].name, w[2]))
			x->err = errnos[i].err;
	if (!x->err)
		die(r, "fail: unknown errno %s", w[2]);
	x->left = 1;
	if (n > 3 && w[3][0] == 'x' && isdigit((unsigned char)w[3][1])) {
		x->left = (unsigned)atoi(w[3] + 1);
		t = 4;
	}
	x->text[0] = '\0';
	for (int i = t; i < n; i++)
		len += (size_t)snprintf(x->text + len, sizeof(x->text) - len, "%s%s", i > t ? " " : "",
					w[i]);
}

static struct fprober *link_prober(struct run *r, const char *name)
{
	int idx = ul_config_link_index(r->d->cfg, name);

	if (idx < 0)
		die(r, "no link %s", name);
	return (struct fprober *)r->d->links[idx].prober;
}

/* round LINK ANSWERED/SENT [RTT_MS] [xN]: N rounds of the link's prober; after each,
 * interval_ms pass (when the next round would start) */
static void cmd_round(struct run *r, char **w)
{
	struct ul_round rd = { 0 };
	unsigned times = 1;
	struct fprober *p;
	int n = nwords(w);

	if (!r->started)
		die(r, "round before start");
	if (n < 3 || sscanf(w[2], "%u/%u", &rd.answered, &rd.sent) != 2)
		die(r, "round LINK ANSWERED/SENT [RTT_MS] [xN]");
	for (int i = 3; i < n; i++)
		if (w[i][0] == 'x')
			times = (unsigned)atoi(w[i] + 1);
		else
			rd.rtt_us = (uint32_t)(atof(w[i]) * 1000);
	for (unsigned i = 0; i < times; i++) {
		p = link_prober(r, w[1]);
		if (!p || !p->bound) {
			put(&r->f, "(no round: %s is not probing)\n", w[1]);
			advance(r, p ? p->interval_ms : 1000);
			continue;
		}
		p->st.rounds++;
		p->st.sent += rd.sent;
		p->st.answered += rd.answered;
		p->st.timeouts += rd.sent - rd.answered;
		p->cb(p->data, &rd);
		fire_due(r);
		advance(r, p->interval_ms);
	}
}

static void cmd_control(struct run *r, const char *req)
{
	struct ul_buf body = { 0 };
	int rc = ul_verbs_handle(r->d, req, &body);

	/* the reply as the handler returns it, before what the loop does next */
	put(&r->f, "reply %s:\n", rc ? errno_name(-rc) : "ok");
	put_lines(&r->f, "  | ", body.p);
	ul_buf_free(&body);
	fire_due(r);
}

/* ul_daemon_reload itself (what SIGHUP and the reload verb call): its result and why. */
static void cmd_reload(struct run *r)
{
	struct ul_buf why = { 0 };
	int rc;

	if (!r->started || r->stopped)
		die(r, "reload: the daemon is not running");
	rc = ul_daemon_reload(r->d, &why);
	put(&r->f, "reload -> %s%s\n", rc ? "-" : "0", rc ? errno_name(-rc) : "");
	put_lines(&r->f, "  | ", why.p);
	ul_buf_free(&why);
	fire_due(r);
}

static int signal_number(const char *s)
{
	return !strcmp(s, "HUP") ? SIGHUP : !strcmp(s, "TERM") ? SIGTERM :
	       !strcmp(s, "INT") ? SIGINT : !strcmp(s, "CHLD") ? SIGCHLD : 0;
}

static void do_start(struct run *r)
{
	struct ul_diag diag = { 0 };
	int err;

	err = ul_config_load("uplinkd.conf", &r->d->cfg, &diag);
	if (!err)
		err = ul_config_check_host(r->d->cfg, &diag);
	if (err) {
		for (size_t i = 0; i < diag.n; i++)
			fprintf(stderr, "%s\n", diag.msgs[i]);
		die(r, "start: the scenario's configuration is invalid");
	}
	ul_diag_free(&diag);
	r->f.n_pending = 0;             /* nothing from before the daemon listened */
	r->started = true;
	err = ul_daemon_start(r->d);
	if (err) {
		put(&r->f, "start failed: -%s\n", errno_name(-err));
		r->stopped = true;
		ul_daemon_stop(r->d);
		return;
	}
	fire_due(r);
}

static void do_stop(struct run *r)
{
	if (!r->started || r->stopped)
		return;
	if (!r->d->stopping)
		ul_daemon_signal(r->d, SIGTERM);
	r->stopped = true;
	ul_daemon_stop(r->d);
}

static void write_file(struct run *r, const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f || fputs(text, f) < 0 || fclose(f))
		die(r, "%s: %s", path, strerror(errno));
}

/* The words of line (at most 31, NULL after the last), in copy; how many. */
static int split_words(const char *line, char *copy, size_t len, char **w)
{
	char *ws = NULL;
	int n = 0;

	snprintf(copy, len, "%s", line);
	for (char *t = strtok_r(copy, " \t", &ws); t && n < 31; t = strtok_r(NULL, " \t", &ws))
		w[n++] = t;
	w[n] = NULL;
	return n;
}

/* One command of the script: its line and its words (w[n] is NULL). */
static void dispatch(struct run *r, const char *line, char **w, int n)
{
	if (!strcmp(w[0], "start")) {
		do_start(r);
	} else if (!strcmp(w[0], "stop")) {
		do_stop(r);
	} else if (!strcmp(w[0], "iface")) {
		cmd_iface(r, w);
	} else if (!strcmp(w[0], "iface-del")) {
		cmd_iface_del(r, w);
	} else if (!strcmp(w[0], "addr") || !strcmp(w[0], "addr-del")) {
		cmd_addr(r, w, w[0][4] == '-');
	} else if (!strcmp(w[0], "route") || !strcmp(w[0], "route-del")) {
		cmd_route(r, w, w[0][5] == '-');
	} else if (!strcmp(w[0], "events")) {
		if (r->started && !r->stopped) {
			ul_daemon_kernel_events(r->d);
			fire_due(r);
		}
	} else if (!strcmp(w[0], "rule-del") || !strcmp(w[0], "rule-event") ||
		   !strcmp(w[0], "troute-flush") || !strcmp(w[0], "troute-event")) {
		cmd_routing(r, w);
	} else if (!strcmp(w[0], "netconf") && n == 2) {
		queue(&r->f, &(struct ul_kev){ .type = UL_KEV_NETCONF, .ifindex = atoi(w[1]) });
	} else if (!strcmp(w[0], "sysctl")) {
		cmd_sysctl(r, w);
	} else if (!strcmp(w[0], "nft-event")) {
		cmd_nft_event(r, w, line);
	} else if (!strcmp(w[0], "nft-deaf") && n == 1) {
		/* the next apply is a large transaction, made with the event socket out of the
		 * nftables group, and others commit meanwhile (port_netlink.c): it returns 1 */
		r->f.nft_deaf = true;
	} else if (!strcmp(w[0], "watch")) {
		if (r->started)
			die(r, "watch: before start");
		r->d->kp = fake_port(&r->f, true);
	} else if (!strcmp(w[0], "enobufs")) {
		r->f.overrun = true;
	} else if (!strcmp(w[0], "fail")) {
		cmd_fail(r, w);
	} else if (!strcmp(w[0], "round")) {
		cmd_round(r, w);
	} else if (!strcmp(w[0], "advance") && n == 2) {
		advance(r, strtoull(w[1], NULL, 10));
	} else if (!strcmp(w[0], "signal") && n == 2 && signal_number(w[1])) {
		if (!r->started || r->stopped)
			die(r, "signal: the daemon is not running");
		ul_daemon_signal(r->d, signal_number(w[1]));
		fire_due(r);
	} else if (!strcmp(w[0], "reload") && n == 1) {
		cmd_reload(r);
	} else if (!strcmp(w[0], "control") && n >= 2) {
		if (!r->started || r->stopped)
			die(r, "control: the daemon is not running");
		const char *req = strstr(line, "control") + strlen("control");

		cmd_control(r, req + strspn(req, " \t"));
	} else {
		die(r, "unknown command: %s", line);
	}
}

/* Play one scenario (its text) in the current directory; the transcript in r->f.out. */
static void play(struct run *r, char *text)
{
	struct ul_buf conf = { 0 };
	bool in_conf = false;
	char *next;

	for (char *line = text; line && *line; line = next) {
		char copy[1024], *w[32] = { 0 };
		int n = 0;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		r->line++;
		if (in_conf) {
			if (!strcmp(line, "end")) {
				write_file(r, "uplinkd.conf", conf.p ? conf.p : "");
				ul_buf_free(&conf);
				in_conf = false;
			} else {
				ul_buf_printf(&conf, "%s\n", line);
			}
			continue;
		}
		if (line[0] == '#' || !line[strspn(line, " \t")])
			continue;
		n = split_words(line, copy, sizeof(copy), w);
		if (!strcmp(w[0], "config")) {
			in_conf = true;
			continue;                       /* written to the file, not the transcript */
		}
		if (!strcmp(w[0], "show") && w[1] && !strcmp(w[1], "nft")) {
			r->f.show_nft = true;
			continue;
		}
		if (!strcmp(w[0], "quiet") && w[1] && !strcmp(w[1], "reconcile")) {
			r->f.quiet_reconcile = true;
			continue;
		}
		put(&r->f, "> %s\n", line);
		if (!strcmp(w[0], "repeat") && n >= 3) {
			int times = atoi(w[1]);
			const char *rest = strstr(line, w[2]);

			/* COMMAND [; COMMAND]...: each in turn, N times */
			for (int i = 0; i < times; i++) {
				char cmds[1024], *cs = NULL;

				snprintf(cmds, sizeof(cmds), "%s", rest);
				for (char *c = strtok_r(cmds, ";", &cs); c; c = strtok_r(NULL, ";", &cs)) {
					c += strspn(c, " \t");
					for (size_t e = strlen(c); e && (c[e - 1] == ' ' || c[e - 1] == '\t');)
						c[--e] = '\0';
					n = split_words(c, copy, sizeof(copy), w);
					if (n)
						dispatch(r, c, w, n);
				}
			}
			continue;
		}
		dispatch(r, line, w, n);
	}
	if (in_conf)
		die(r, "config without end");
	if (r->started && !r->stopped) {
		put(&r->f, "> (end of scenario: stop)\n");
		do_stop(r);
	}
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	struct ul_buf b = { 0 };
	char chunk[4096];
	size_t n;

	if (!f)
		return NULL;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		ul_buf_printf(&b, "%.*s", (int)n, chunk);
	fclose(f);
	return b.p ? b.p : strdup("");
}

static char g_dir[PATH_MAX];            /* tests/transcripts, absolute */

static void run_scenario(void **state)
{
	const char *name = *state;
	char path[PATH_MAX + 64], exp_path[PATH_MAX + 64], tmp[] = "/tmp/ul-transcript-XXXXXX";
	char cwd[PATH_MAX], *text, *want;
	struct run *r = calloc(1, sizeof(*r));
	const char *update = getenv("UL_TRANSCRIPT_UPDATE");

	assert_non_null(r);
	snprintf(path, sizeof(path), "%s/%s.scenario", g_dir, name);
	snprintf(exp_path, sizeof(exp_path), "%s/%s.expected", g_dir, name);
	text = slurp(path);
	assert_non_null(text);
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_non_null(mkdtemp(tmp));
	assert_int_equal(chdir(tmp), 0);
	assert_int_equal(pipe(r->f.pipe), 0);
	r->f.nft_pipe[0] = r->f.nft_pipe[1] = -1;       /* opened by nft_watch_open */
	r->file = path;
	r->f.now = r->f.stamp = T0_MS;
	r->d = calloc(1, sizeof(*r->d));
	assert_non_null(r->d);
	r->d->kp = fake_port(&r->f, false);
	r->d->cfg_path = "uplinkd.conf";
	r->d->sock_override = "ctl.sock";
	r->d->level_override = LOG_INFO;
	ul_log_set_level(LOG_INFO);
	ul_log_set_sink(log_sink, &r->f);
	g_f = &r->f;

	play(r, text);

	ul_log_set_sink(NULL, NULL);
	close(r->f.pipe[0]);
	close(r->f.pipe[1]);
	for (int i = 0; i < 2; i++)
		if (r->f.nft_pipe[i] >= 0)
			close(r->f.nft_pipe[i]);
	unlink("uplinkd.conf");
	unlink("ctl.sock");
	assert_int_equal(chdir(cwd), 0);
	assert_int_equal(rmdir(tmp), 0);

	want = slurp(exp_path);
	if (update && !strcmp(update, "1")) {
		FILE *f = fopen(exp_path, "w");

		assert_non_null(f);
		fputs(r->f.out.p ? r->f.out.p : "", f);
		assert_int_equal(fclose(f), 0);
	} else if (!want || strcmp(want, r->f.out.p ? r->f.out.p : "")) {
		const char *b = getenv("UL_BUILD");
		char got_path[PATH_MAX + 64], cmd[3 * PATH_MAX];
		FILE *f;

		snprintf(got_path, sizeof(got_path), "%s/%s.got", b ? b : "/tmp", name);
		f = fopen(got_path, "w");
		assert_non_null(f);
		fputs(r->f.out.p ? r->f.out.p : "", f);
		fclose(f);
		fprintf(stderr, "%s: the transcript differs from %s (got: %s)\n", name,
			want ? exp_path : "(missing)", got_path);
		snprintf(cmd, sizeof(cmd), "diff -u '%s' '%s' >&2", want ? exp_path : "/dev/null",
			 got_path);
		if (system(cmd) < 0)
			fprintf(stderr, "(diff not run)\n");
		free(want);
		fail_msg("%s: transcript differs", name);
	}
	free(want);
	free(text);
	free(r->f.nft_last);
	ul_buf_free(&r->f.installed);
	ul_buf_free(&r->f.out);
	free(r->d);
	free(r);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(void)
{
	const char *dir = getenv("UL_TRANSCRIPTS");
	struct CMUnitTest *tests = NULL;
	char **names = NULL;
	size_t n = 0;
	struct dirent *de;
	DIR *dh;
	int rc;

	if (!realpath(dir ? dir : "tests/transcripts", g_dir)) {
		fprintf(stderr, "tests/transcripts: %s (run from the source tree)\n",
			strerror(errno));
		return 1;
	}
	dh = opendir(g_dir);
	assert_non_null(dh);
	while ((de = readdir(dh))) {
		size_t len = strlen(de->d_name);

		if (len > 9 && !strcmp(de->d_name + len - 9, ".scenario")) {
			names = realloc(names, (n + 1) * sizeof(*names));
			names[n++] = strndup(de->d_name, len - 9);
		}
	}
	closedir(dh);
	if (!n) {
		fprintf(stderr, "%s: no scenarios\n", g_dir);
		return 1;
	}
	qsort(names, n, sizeof(*names), by_name);
	tests = calloc(n, sizeof(*tests));
	for (size_t i = 0; i < n; i++)
		tests[i] = (struct CMUnitTest){ .name = names[i], .test_func = run_scenario,
						.initial_state = names[i] };
	ul_log_init("test_transcripts");
	rc = _cmocka_run_group_tests("transcripts", tests, n, NULL, NULL);
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	free(tests);
	return rc;
}
