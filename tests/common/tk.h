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

/* Plans from a table. Link i of a config gets ifindex 10 + i, presence, carrier, the
 * address 192.168.(i+1).2, its static gateway if it has one, and the state st[i]; with st6
 * (NULL: no IPv6) also the IPv6 state st6[i], the address 2001:db8:(i+1)::2 and as its
 * router its static gateway6 or fe80::(i+1). */
void tk_link_rts(const struct ul_config *c, struct ul_link_rt *rt, const enum ul_state *st,
		 const enum ul_state *st6);
/* what a plan must show, of one of its texts: its routes or rules (of all families, IPv4,
 * IPv6), its ruleset, or its state, a line a value: "v6=1", "last_resort=0", "active=0x3"
 * (also usable, carrying, last_resort6, active6, usable6, carrying6), and of each set and
 * chain "set NAME dynamic=1" (also timeout_ms=N, flush=0|1, elems=N), "chain NAME rules=N".
 * The text equals text[0], or has each of the texts, lacks each, has each with the first
 * occurrences in that order, or has each as a whole line. */
enum tk_plan_what { TK_END, TK_ROUTES, TK_ROUTES4, TK_ROUTES6, TK_RULES, TK_RULES4, TK_RULES6,
		    TK_NFT, TK_STATE };
enum tk_match { TK_EQ, TK_HAS, TK_LACKS, TK_ORDER, TK_LINES };
#define TK_MAX_TEXTS 10
struct tk_want {
	enum tk_plan_what what;
	enum tk_match how;
	const char *text[TK_MAX_TEXTS];
};
#define TK_MAX_WANTS 8
/* a config, the states of its links (v6: with IPv6, st6), links without carrier or IPv6
 * address (bit i: link i), learned gateways (NULL: none but the static one), what the plan
 * must show (up to the first TK_END) */
struct tk_plan_case {
	const char *name;
	const char *conf;
	enum ul_state st[UL_MAX_LINKS], st6[UL_MAX_LINKS];
	bool v6;
	uint32_t no_carrier, no_addr6;
	const char *gw[UL_MAX_LINKS];
	struct tk_want want[TK_MAX_WANTS];
};
/* fail the running test, naming the case and the want, unless the plan shows every want */
void tk_plan_check(const char *name, const struct ul_plan *p, const struct tk_want *want);
/* each case: its config planned with its link states, checked */
void tk_plan_cases(const struct tk_plan_case *cases, size_t n);

#endif
