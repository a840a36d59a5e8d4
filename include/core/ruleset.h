/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The nftables ruleset uplinkd wants, as plain data (built by the planner,
 * printed by ruleset.c, turned into one libnftnl batch by nft.c). */
#ifndef UL_RULESET_H
#define UL_RULESET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <net/if.h>

#include "addr.h"

#define UL_NFT_TABLE "uplinkd"         /* family inet */
#define UL_NFT_NAME_MAX 64
#define UL_STMT_MAX 12

enum ul_set_key {
	UL_KEY_IFNAME,                  /* ifname (16 bytes) */
	UL_KEY_IPV4,                    /* ipv4_addr */
	UL_KEY_IPV6,                    /* ipv6_addr */
	UL_KEY_PORT,                    /* inet_service */
};

union ul_set_elem {
	char ifname[IFNAMSIZ];
	struct ul_addr prefix;          /* IPV4/IPV6: host or prefix (interval sets) */
	struct { uint16_t lo, hi; } port;
};

struct ul_set {
	char name[UL_NFT_NAME_MAX];
	enum ul_set_key key;
	bool interval;                  /* flags interval (prefixes, port ranges) */
	bool dynamic;                   /* flags dynamic,timeout: filled by the datapath */
	uint32_t timeout_ms;            /* dynamic sets: default element timeout */
	bool flush;                     /* dynamic sets: empty it in this transaction */
	union ul_set_elem *elems;
	size_t n_elems;
};

enum ul_chain_kind { UL_CHAIN_FILTER, UL_CHAIN_NAT, UL_CHAIN_ROUTE };
enum ul_hook { UL_HOOK_NONE, UL_HOOK_PREROUTING, UL_HOOK_OUTPUT, UL_HOOK_POSTROUTING };

enum ul_stmt_kind {
	/* matches */
	UL_M_IIFNAME,                   /* str: meta iifname == str */
	UL_M_OIFNAME,                   /* str: meta oifname == str */
	UL_M_IIFNAME_SET,               /* set: meta iifname @set */
	UL_M_OIFNAME_SET,               /* set: meta oifname @set */
	UL_M_CT_NEW,                    /* ct state new */
	UL_M_CTMARK,                    /* (ct mark & mask) == value, or != when neg */
	UL_M_MARK,                      /* (meta mark & mask) == value, or != when neg */
	UL_M_NFPROTO,                   /* family: meta nfproto ipv4|ipv6 */
	UL_M_L4PROTO,                   /* proto: meta l4proto == proto */
	UL_M_SADDR_SET,                 /* family, set: ip saddr @set */
	UL_M_DADDR_SET,                 /* family, set: ip daddr @set */
	UL_M_SPORT_SET,                 /* set: th sport @set (after an l4proto match) */
	UL_M_DPORT_SET,                 /* set: th dport @set */
	UL_M_DPORT,                     /* port: th dport == port */
	UL_M_SADDR_IN_DYN,              /* family, set: ip saddr @set (dynamic set lookup) */
	/* statements */
	UL_S_COUNTER,
	UL_S_COUNTER_REF,               /* str: counter name "str" (a named counter object) */
	UL_S_MARK,                      /* meta mark = (meta mark & ~mask) | value */
	UL_S_CTMARK,                    /* ct mark = (ct mark & ~mask) | value */
	UL_S_SET_UPDATE,                /* family, set: update @set { ip saddr } */
	UL_S_MASQUERADE,
	UL_S_DNAT,                      /* family, addr, port: dnat ip to addr:port */
	UL_S_SNAT,                      /* family, addr: snat ip to addr */
	UL_S_SNAT_PREFIX,               /* family, addr (a prefix): snat ip6 prefix to addr
					 * (stateless-like mapping: host bits kept, NETMAP) */
	/* verdicts (last) */
	UL_V_ACCEPT,
	UL_V_DROP,
	UL_V_RETURN,
	UL_V_JUMP,                      /* chain */
	UL_V_GOTO,                      /* chain */
};

struct ul_stmt {
	enum ul_stmt_kind kind;
	bool neg;                       /* UL_M_CTMARK / UL_M_MARK: != instead of == */
	uint8_t family;                 /* AF_INET / AF_INET6 where it matters */
	uint8_t proto;
	uint16_t port;
	uint32_t mask, value;
	struct ul_addr addr;
	char str[UL_NFT_NAME_MAX];      /* interface, set or chain name */
};

struct ul_nrule {
	struct ul_stmt s[UL_STMT_MAX];
	size_t n;
	char comment[UL_NFT_NAME_MAX];  /* stored as the rule's userdata comment */
};

struct ul_chain {
	char name[UL_NFT_NAME_MAX];
	enum ul_chain_kind kind;
	enum ul_hook hook;              /* UL_HOOK_NONE: a regular chain */
	int prio;
	struct ul_nrule *rules;
	size_t n_rules, cap_rules;
};

/* A named counter object (bytes and packets that survive rule changes). */
struct ul_counter {
	char name[UL_NFT_NAME_MAX];
};

struct ul_ruleset {
	struct ul_set *sets; size_t n_sets, cap_sets;
	struct ul_chain *chains; size_t n_chains, cap_chains;
	struct ul_counter *counters; size_t n_counters, cap_counters;
};

/* Building (all return NULL / -ENOMEM on allocation failure). */
struct ul_set *ul_ruleset_add_set(struct ul_ruleset *rs, const char *name, enum ul_set_key key,
				  bool interval);
int ul_set_add_elem(struct ul_set *s, const union ul_set_elem *e);
struct ul_chain *ul_ruleset_add_chain(struct ul_ruleset *rs, const char *name,
				      enum ul_chain_kind kind, enum ul_hook hook, int prio);
struct ul_nrule *ul_chain_add_rule(struct ul_chain *c);
int ul_ruleset_add_counter(struct ul_ruleset *rs, const char *name);
bool ul_ruleset_has_counter(const struct ul_ruleset *rs, const char *name);
/* Append one statement to a rule; returns it (zeroed but for kind), NULL when full. */
struct ul_stmt *ul_rule_add(struct ul_nrule *r, enum ul_stmt_kind kind);
/* nft's name of a chain type ("filter", "nat", "route"), NULL for an unknown one. */
const char *ul_chain_kind_name(enum ul_chain_kind k);
/* The family of an address statement: its own, else its set's key, else its address. */
uint8_t ul_stmt_family(const struct ul_ruleset *rs, const struct ul_stmt *s);
/* All len bytes of a key 0xff (the open end of an interval). */
bool ul_set_key_is_max(const uint8_t *k, size_t len);

/* A static interval set is made with the timeout flag and a gc-interval of an hour, though
 * none of its elements has a timeout (nothing in it expires): the kernel (6.18) walks a whole
 * interval set for expired elements at the first commit after each gc-interval, 1 s unless
 * the set has the timeout flag — with 100,000 prefixes that walk was half of a reload. */
#define UL_SET_GC_INTERVAL_MS 3600000u
static inline bool ul_set_gc_spaced(const struct ul_set *s)
{
	return s->interval && !s->dynamic;
}
/* Bytes of one key of this type (ifname 16, ipv4 4, ipv6 16, port 2). */
size_t ul_set_key_len(enum ul_set_key k);
const struct ul_set *ul_ruleset_find_set(const struct ul_ruleset *rs, const char *name);
const struct ul_chain *ul_ruleset_find_chain(const struct ul_ruleset *rs, const char *name);
void ul_ruleset_free(struct ul_ruleset *rs);

/* The elements of s as sorted ranges without duplicates; in interval sets overlapping and
 * adjacent ones are merged (what nft.c installs). Keys are big-endian, left-aligned and
 * zero-padded in 16 bytes (ifname: the name itself). Returns 0, -EINVAL (an element that
 * does not fit the set) or -ENOMEM; free(*out) afterwards. */
struct ul_set_range {
	uint8_t lo[16], hi[16];
};
int ul_set_ranges(const struct ul_set *s, struct ul_set_range **out, size_t *n);

/* Print in nft syntax ("table inet uplinkd { ... }"), for `uplinkd -n` and tests. */
void ul_ruleset_print(FILE *f, const struct ul_ruleset *rs);

#endif
