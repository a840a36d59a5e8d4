// SPDX-License-Identifier: GPL-2.0-or-later
/* The test kit (tk.h). */
#include <ctype.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "tk.h"

void tk_sh(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if (system(cmd) != 0)
		fail_msg("command failed: %s", cmd);
}

void tk_capture(const char *cmd, char *out, size_t len)
{
	FILE *f = popen(cmd, "r");
	size_t n;

	assert_non_null(f);
	n = fread(out, 1, len - 1, f);
	out[n] = '\0';
	pclose(f);
}

int tk_run(char *out, size_t outlen, const char *const argv[])
{
	int p[2], st;
	size_t len = 0;
	ssize_t n;
	pid_t pid;

	if (pipe(p))
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		dup2(p[1], 1);
		dup2(p[1], 2);
		close(p[0]);
		close(p[1]);
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(p[1]);
	while ((n = read(p[0], out + len, outlen - 1 - len)) > 0)
		len += (size_t)n;
	out[len] = '\0';
	close(p[0]);
	if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

void tk_require_root(const char *prog)
{
	if (geteuid() != 0) {
		printf("%s: needs root (and a fresh network namespace)\n", prog);
		exit(77);
	}
}

void tk_tmpdir(char *dir, size_t len, const char *prefix)
{
	snprintf(dir, len, "/tmp/%s-XXXXXX", prefix);
	assert_non_null(mkdtemp(dir));
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void tk_rmtree(const char *dir)
{
	assert_int_equal(nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS), 0);
}

void tk_write(const char *dir, const char *path, const char *content)
{
	char full[4096];
	FILE *f;

	if (dir)
		snprintf(full, sizeof(full), "%s/%s", dir, path);
	else
		snprintf(full, sizeof(full), "%s", path);
	f = fopen(full, "w");
	assert_non_null(f);
	assert_true(fputs(content, f) >= 0);
	assert_int_equal(fclose(f), 0);
}

void tk_diag_dump(const struct ul_diag *d)
{
	for (size_t i = 0; i < d->n; i++)
		fprintf(stderr, "  diag[%zu] %s\n", i, d->msgs[i]);
}

bool tk_diag_has(const struct ul_diag *d, const char *msg)
{
	for (size_t i = 0; i < d->n; i++)
		if (!strcmp(d->msgs[i], msg))
			return true;
	return false;
}

/* the plan's routes (or rules) of that family (0: all), a line each, into out */
static char *plan_text(char *out, size_t len, const struct ul_plan *p, bool routes, int family)
{
	size_t off = 0;

	out[0] = '\0';
	for (size_t i = 0; i < (routes ? p->n_routes : p->n_rules); i++) {
		char b[512];

		if (family && (routes ? p->routes[i].family : p->rules[i].family) != family)
			continue;
		if (routes)
			ul_route_format(&p->routes[i], b, sizeof(b));
		else
			ul_iprule_format(&p->rules[i], b, sizeof(b));
		off += (size_t)snprintf(out + off, len - off, "%s\n", b);
	}
	return out;
}

char *tk_routes_text(const struct ul_plan *p, int family)
{
	static char out[8192];

	return plan_text(out, sizeof(out), p, true, family);
}

char *tk_rules_text(const struct ul_plan *p, int family)
{
	static char out[8192];

	return plan_text(out, sizeof(out), p, false, family);
}

char *tk_ruleset_text(const struct ul_ruleset *rs)
{
	static char *text;
	size_t len;
	FILE *f;

	free(text);
	text = NULL;
	f = open_memstream(&text, &len);
	assert_non_null(f);
	ul_ruleset_print(f, rs);
	fclose(f);
	return text;
}

struct ul_addr tk_addr(const char *s)
{
	struct ul_addr a;

	assert_int_equal(ul_addr_parse(s, true, &a), 0);
	return a;
}

struct ul_route tk_route(uint32_t table, const char *dst)
{
	struct ul_route r;

	memset(&r, 0, sizeof(r));
	r.dst = tk_addr(dst);
	r.family = r.dst.family;
	r.table = table;
	return r;
}

void tk_nh(struct ul_route *r, const char *gw, int ifindex, uint16_t weight)
{
	struct ul_nexthop *x = &r->nh[r->n_nh++];

	memset(x, 0, sizeof(*x));
	if (gw) {
		x->has_gw = true;
		x->gw = tk_addr(gw);
	}
	x->ifindex = ifindex;
	x->weight = weight;
}

struct ul_iprule tk_iprule(uint32_t prio, uint32_t table)
{
	struct ul_iprule r;

	memset(&r, 0, sizeof(r));
	r.family = AF_INET;
	r.prio = prio;
	r.table = table;
	r.suppress_prefixlen = UL_NO_SUPPRESS;
	return r;
}

struct ul_stmt *tk_stmt(struct ul_nrule *r, enum ul_stmt_kind k, const char *str)
{
	struct ul_stmt *s = ul_rule_add(r, k);

	assert_non_null(s);
	if (str)
		snprintf(s->str, sizeof(s->str), "%s", str);
	return s;
}

struct ul_nrule *tk_rule(struct ul_ruleset *rs, const char *chain)
{
	struct ul_chain *c = (struct ul_chain *)ul_ruleset_find_chain(rs, chain);

	assert_non_null(c);
	return ul_chain_add_rule(c);
}

void tk_elem_ifname(struct ul_set *s, const char *name, int want)
{
	union ul_set_elem e;

	memset(&e, 0, sizeof(e));
	snprintf(e.ifname, sizeof(e.ifname), "%s", name);
	assert_int_equal(ul_set_add_elem(s, &e), want);
}

void tk_elem_port(struct ul_set *s, uint16_t lo, uint16_t hi, int want)
{
	union ul_set_elem e;

	memset(&e, 0, sizeof(e));
	e.port.lo = lo;
	e.port.hi = hi;
	assert_int_equal(ul_set_add_elem(s, &e), want);
}

void tk_elem_prefix(struct ul_set *s, const char *prefix, int want)
{
	union ul_set_elem e;

	memset(&e, 0, sizeof(e));
	e.prefix = tk_addr(prefix);
	assert_int_equal(ul_set_add_elem(s, &e), want);
}

uint32_t tk_be32(const uint8_t *k)
{
	return (uint32_t)k[0] << 24 | (uint32_t)k[1] << 16 | (uint32_t)k[2] << 8 | k[3];
}

struct ul_config *tk_config(const char *text)
{
	struct ul_diag d = { 0 };
	struct ul_config *c = NULL;

	if (ul_config_parse_string(text, "t.conf", &c, &d)) {
		for (size_t i = 0; i < d.n; i++)
			print_error("%s\n", d.msgs[i]);
		ul_diag_free(&d);
		fail_msg("config did not parse");
	}
	return c;
}

void tk_elem_spread24(struct ul_set *s, unsigned n)
{
	union ul_set_elem e;

	for (unsigned i = 0; i < n; i++) {
		memset(&e, 0, sizeof(e));
		e.prefix.family = AF_INET;
		e.prefix.plen = 24;
		e.prefix.bytes[0] = 10;
		e.prefix.bytes[1] = (uint8_t)((i * 2) >> 8);
		e.prefix.bytes[2] = (uint8_t)(i * 2);
		assert_int_equal(ul_set_add_elem(s, &e), 0);
	}
}

struct ul_stmt *tk_dnat4(struct ul_nrule *r, const char *addr, uint16_t port)
{
	struct ul_stmt *x = tk_stmt(r, UL_S_DNAT, NULL);

	x->family = AF_INET;
	assert_int_equal(ul_addr_parse(addr, false, &x->addr), 0);
	x->port = port;
	return x;
}

void tk_mark_unmarked_return(struct ul_nrule *r, uint32_t mask, uint32_t value)
{
	struct ul_stmt *x = tk_stmt(r, UL_M_CTMARK, NULL);

	x->mask = mask;
	x->neg = true;
	x = tk_stmt(r, UL_S_MARK, NULL);
	x->mask = mask;
	x->value = value;
	tk_stmt(r, UL_V_RETURN, NULL);
}

int tk_run_tests(const tk_test_fn *fns, size_t n, const char *names, tk_fixture_fn group_setup,
		 tk_fixture_fn group_teardown, tk_fixture_fn setup, tk_fixture_fn teardown)
{
	struct CMUnitTest *t = calloc(n, sizeof(*t));
	char *list = strdup(names), *save = NULL, *tok;
	size_t i = 0;
	int rc;

	if (!t || !list)
		abort();
	for (tok = strtok_r(list, ",", &save); tok && i < n; tok = strtok_r(NULL, ",", &save)) {
		char *end;

		while (isspace((unsigned char)*tok))
			tok++;
		end = tok + strlen(tok);
		while (end > tok && isspace((unsigned char)end[-1]))
			*--end = '\0';
		t[i] = (struct CMUnitTest){ .name = tok, .test_func = fns[i],
					    .setup_func = setup, .teardown_func = teardown };
		i++;
	}
	if (i != n || tok) {
		fprintf(stderr, "tk_run_tests: %zu tests but the names \"%s\"\n", n, names);
		abort();
	}
	if (getenv("KT_FILTER"))
		cmocka_set_test_filter(getenv("KT_FILTER"));
	rc = _cmocka_run_group_tests("tests", t, n, group_setup, group_teardown);
	free(t);
	free(list);
	return rc;
}

char *tk_read(const char *path)
{
	static char buf[65536];
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

void tk_link_rts(const struct ul_config *c, struct ul_link_rt *rt, const enum ul_state *st,
		 const enum ul_state *st6)
{
	for (size_t i = 0; i < c->n_links; i++) {
		uint8_t a[4] = { 192, 168, (uint8_t)(i + 1), 2 };
		uint8_t a6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, (uint8_t)(i + 1), [15] = 2 };
		uint8_t ll[16] = { 0xfe, 0x80, [15] = (uint8_t)(i + 1) };

		memset(&rt[i], 0, sizeof(rt[i]));
		rt[i].state = st[i];
		rt[i].present = rt[i].carrier = rt[i].has_addr = true;
		rt[i].ifindex = 10 + (int)i;
		ul_addr_from_raw(&rt[i].addr, AF_INET, a);
		if (c->links[i].gw_mode == UL_GW_STATIC) {
			rt[i].has_gw = true;
			rt[i].gw = c->links[i].gateway;
		}
		if (!st6)
			continue;
		rt[i].state6 = st6[i];
		rt[i].has_addr6 = rt[i].has_gw6 = true;
		ul_addr_from_raw(&rt[i].addr6, AF_INET6, a6);
		if (c->links[i].gw6_mode == UL_GW_STATIC)
			rt[i].gw6 = c->links[i].gateway6;
		else
			ul_addr_from_raw(&rt[i].gw6, AF_INET6, ll);
	}
}

/* the plan's state, a line a value (tk.h) */
static char *state_text(const struct ul_plan *p)
{
	static char out[16384];
	size_t off;

	off = (size_t)snprintf(out, sizeof(out), "v6=%d\nlast_resort=%d\nactive=0x%x\n"
			       "usable=0x%x\ncarrying=0x%x\nlast_resort6=%d\nactive6=0x%x\n"
			       "usable6=0x%x\ncarrying6=0x%x\n", p->v6, p->last_resort, p->active,
			       p->usable, p->carrying, p->last_resort6, p->active6, p->usable6,
			       p->carrying6);
	for (size_t i = 0; i < p->nft.n_sets && off < sizeof(out); i++) {
		const struct ul_set *s = &p->nft.sets[i];

		off += (size_t)snprintf(out + off, sizeof(out) - off, "set %s dynamic=%d\n"
					"set %s timeout_ms=%u\nset %s flush=%d\nset %s elems=%zu\n",
					s->name, s->dynamic, s->name, s->timeout_ms, s->name,
					s->flush, s->name, s->n_elems);
	}
	for (size_t i = 0; i < p->nft.n_chains && off < sizeof(out); i++)
		off += (size_t)snprintf(out + off, sizeof(out) - off, "chain %s rules=%zu\n",
					p->nft.chains[i].name, p->nft.chains[i].n_rules);
	assert_true(off < sizeof(out));
	return out;
}

/* the text a want looks at */
static const char *want_text(const struct ul_plan *p, enum tk_plan_what what)
{
	static const int family[] = { [TK_ROUTES4] = AF_INET, [TK_ROUTES6] = AF_INET6,
				      [TK_RULES4] = AF_INET, [TK_RULES6] = AF_INET6 };

	if (what <= TK_ROUTES6)
		return tk_routes_text(p, family[what]);
	if (what <= TK_RULES6)
		return tk_rules_text(p, family[what]);
	return what == TK_NFT ? tk_ruleset_text(&p->nft) : state_text(p);
}

/* where text stands in t as the match wants it (NULL: not there) */
static const char *want_at(const char *t, const char *text, enum tk_match how)
{
	size_t n = strlen(text);

	if (how != TK_LINES)
		return strstr(t, text);
	for (const char *at = strstr(t, text); at; at = strstr(at + 1, text))
		if ((at == t || at[-1] == '\n') && (at[n] == '\n' || !at[n]))
			return at;
	return NULL;
}

void tk_plan_check(const char *name, const struct ul_plan *p, const struct tk_want *want)
{
	static const char *const why[] = { [TK_EQ] = "not exactly", [TK_HAS] = "missing",
					   [TK_LACKS] = "unexpected",
					   [TK_ORDER] = "missing or out of order",
					   [TK_LINES] = "no line" };

	for (size_t i = 0; i < TK_MAX_WANTS && want[i].what != TK_END; i++) {
		const struct tk_want *w = &want[i];
		const char *t = want_text(p, w->what), *prev = NULL;

		for (size_t j = 0; j < TK_MAX_TEXTS && w->text[j]; j++) {
			const char *at = want_at(t, w->text[j], w->how);
			bool ok = w->how == TK_EQ ? !strcmp(t, w->text[j]) :
				  w->how == TK_LACKS ? !at :
				  at && (w->how != TK_ORDER || !prev || at > prev);

			if (!ok)
				fail_msg("case %s, want %zu, text %zu: %s \"%s\" in:\n%s", name,
					 i, j, why[w->how], w->text[j], t);
			prev = at;
		}
	}
}

void tk_plan_cases(const struct tk_plan_case *cases, size_t n)
{
	for (size_t k = 0; k < n; k++) {
		const struct tk_plan_case *pc = &cases[k];
		struct ul_config *c = tk_config(pc->conf);
		struct ul_link_rt rt[UL_MAX_LINKS];
		struct ul_plan p;

		tk_link_rts(c, rt, pc->st, pc->v6 ? pc->st6 : NULL);
		for (size_t i = 0; i < c->n_links; i++) {
			if (pc->no_carrier & 1u << i)
				rt[i].carrier = false;
			if (pc->no_addr6 & 1u << i)
				rt[i].has_addr6 = false;
			if (pc->gw[i]) {
				rt[i].has_gw = true;
				assert_int_equal(ul_addr_parse(pc->gw[i], false, &rt[i].gw), 0);
			}
		}
		if (ul_plan_build(c, rt, &p))
			fail_msg("case %s: ul_plan_build failed", pc->name);
		tk_plan_check(pc->name, &p, pc->want);
		ul_plan_free(&p);
		ul_config_free(c);
	}
}
