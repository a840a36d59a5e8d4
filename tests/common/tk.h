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
#include "ruleset.h"
#include "types.h"

/* shell-out: run a command (printf-style), fail the test unless it exits 0 */
void tk_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* its output, NUL-terminated, at most len - 1 bytes */
void tk_capture(const char *cmd, char *out, size_t len);

/* temp dirs: mkdtemp of /tmp/PREFIX-XXXXXX into dir; remove it and all below it */
void tk_tmpdir(char *dir, size_t len, const char *prefix);
void tk_rmtree(const char *dir);
/* a file of that content (path relative to dir, or absolute when dir is NULL) */
void tk_write(const char *dir, const char *path, const char *content);

/* a config from text (file name "t.conf"); the test fails, printing why, if it does not parse */
struct ul_config *tk_config(const char *text);

/* value builders: an address or prefix ("a.b.c.d", "a.b.c.d/n", IPv6 forms); a route of
 * table to dst with no nexthop yet; one more nexthop (gw NULL: a device route); a rule */
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

#endif
