/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The test kit: helpers the unit tests (tests/unit) and the kernel tests (tests/kernel)
 * share, instead of a copy in each. Layer-free: core headers and cmocka only, so the core
 * unit tests, which link libul-core.a alone, can use it too. Every helper fails the
 * running cmocka test on error. */
#ifndef UL_TK_H
#define UL_TK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "config.h"
#include "plan.h"
#include "ruleset.h"
#include "types.h"

/* shell-out: run a command (printf-style), fail the test unless it exits 0 */
void tk_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* its output, NUL-terminated, at most len - 1 bytes */
void tk_capture(const char *cmd, char *out, size_t len);
/* argv run without a shell, its stdout and stderr into out (NUL-terminated, at most
 * outlen - 1 bytes); returns its exit status, or -1 when it could not run or was killed */
int tk_run(char *out, size_t outlen, const char *const argv[]);

/* the kernel tests' skip: unless root, say that prog needs root (in a fresh network
 * namespace) and exit 77 */
void tk_require_root(const char *prog);

/* temp dirs: mkdtemp of /tmp/PREFIX-XXXXXX into dir; remove it and all below it */
void tk_tmpdir(char *dir, size_t len, const char *prefix);
void tk_rmtree(const char *dir);
/* a file of that content (path relative to dir, or absolute when dir is NULL) */
void tk_write(const char *dir, const char *path, const char *content);

/* diagnostics: print every message to stderr; true when one of them is exactly msg */
void tk_diag_dump(const struct ul_diag *d);
bool tk_diag_has(const struct ul_diag *d, const char *msg);

/* a config from text (file name "t.conf"); the test fails, printing why, if it does not parse */
struct ul_config *tk_config(const char *text);

/* a plan as text, one line a route or rule as ul_route_format / ul_iprule_format print it,
 * of that family only (0: all); the text of a ruleset as ul_ruleset_print prints it. Each
 * in a buffer of its own, valid until the next call of the same function. */
char *tk_routes_text(const struct ul_plan *p, int family);
char *tk_rules_text(const struct ul_plan *p, int family);
char *tk_ruleset_text(const struct ul_ruleset *rs);

/* value builders: an address or prefix ("a.b.c.d", "a.b.c.d/n", IPv6 forms); a route of
 * table to dst (of dst's family) with no nexthop yet; one more nexthop (gw NULL: a device route); a rule */
struct ul_addr tk_addr(const char *s);
struct ul_route tk_route(uint32_t table, const char *dst);
void tk_nh(struct ul_route *r, const char *gw, int ifindex, uint16_t weight);
struct ul_iprule tk_iprule(uint32_t prio, uint32_t table);

/* ruleset builders: a statement (str copied when not NULL); a rule appended to a chain
 * by name; set elements, each added with ul_set_add_elem, which must return want */
struct ul_stmt *tk_stmt(struct ul_nrule *r, enum ul_stmt_kind k, const char *str);
struct ul_nrule *tk_rule(struct ul_ruleset *rs, const char *chain);
void tk_elem_ifname(struct ul_set *s, const char *name, int want);
void tk_elem_port(struct ul_set *s, uint16_t lo, uint16_t hi, int want);
void tk_elem_prefix(struct ul_set *s, const char *prefix, int want);
/* statements: dnat ip to ADDR:PORT; "unmarked: set the mark (mask, value) and return"
 * (ct mark & mask != 0 is false, meta mark set, return) */
struct ul_stmt *tk_dnat4(struct ul_nrule *r, const char *addr, uint16_t port);
void tk_mark_unmarked_return(struct ul_nrule *r, uint32_t mask, uint32_t value);
/* n /24 prefixes of 10.0.0.0/8, every other one (10.0.0.0/24, 10.0.2.0/24, ...): nothing
 * coalesces */
void tk_elem_spread24(struct ul_set *s, unsigned n);
/* a big-endian 32-bit key */
uint32_t tk_be32(const uint8_t *k);

/* A cmocka main in one line. TK_MAIN(group_setup, group_teardown, test_a, test_b, ...) runs
 * the tests as one group "tests", each under its own name; TK_MAIN_EACH(setup, teardown, ...)
 * runs each test with that setup and teardown; TK_RUN(group_setup, group_teardown, setup,
 * teardown, ...) is the run itself, for a main that does more first (NULL: no fixture).
 * KT_FILTER in the environment runs only the tests whose names match it (cmocka's filter). */
typedef void (*tk_test_fn)(void **state);
typedef int (*tk_fixture_fn)(void **state);
int tk_run_tests(const tk_test_fn *fns, size_t n, const char *names, tk_fixture_fn group_setup,
		 tk_fixture_fn group_teardown, tk_fixture_fn setup, tk_fixture_fn teardown);
#define TK_RUN(gs, gt, s, t, ...) ({                                                    \
	static const tk_test_fn tk_fns_[] = { __VA_ARGS__ };                            \
	tk_run_tests(tk_fns_, sizeof(tk_fns_) / sizeof(tk_fns_[0]), #__VA_ARGS__, gs, gt, s, t); })
#define TK_MAIN(gs, gt, ...) int main(void) { return TK_RUN(gs, gt, NULL, NULL, __VA_ARGS__); }
#define TK_MAIN_EACH(s, t, ...) int main(void) { return TK_RUN(NULL, NULL, s, t, __VA_ARGS__); }

/* a file's content, NUL-terminated (at most 64 KiB), or NULL when it cannot be opened; in a
 * buffer of its own (writable), valid until the next call */
char *tk_read(const char *path);

#endif
