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
