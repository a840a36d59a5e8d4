/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The heart: config + link states -> desired kernel state. Pure: no I/O. */
#ifndef UL_PLAN_H
#define UL_PLAN_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <net/if.h>

#include "addr.h"
#include "config.h"
#include "linkstate.h"
#include "ruleset.h"
#include "types.h"

#define UL_PLAN_MAX_ROUTES (2 * (UL_MAX_LINKS + 1) + 2)
#define UL_PLAN_MAX_RULES 64
#define UL_LINK_MAX_ADDRS 4            /* addresses of a link that get a "from" rule */

/* What the planner needs to know of a link at run time. */
struct ul_link_rt {
	enum ul_state state;
	bool present;                   /* interface exists */
	bool carrier;                   /* IFF_UP and IFF_LOWER_UP */
	int ifindex;
	bool has_addr;
	struct ul_addr addr;            /* the node's own address (host): probes leave from it */
	struct ul_addr addrs[UL_LINK_MAX_ADDRS];  /* every IPv4 address of the interface (hosts),
					 * the shared one of a gateway pair too; n_addrs 0:
					 * just addr */
	size_t n_addrs;
	bool has_gw;
	struct ul_addr gw;              /* static or learned gateway */
	/* IPv6, judged on its own: a link's IPv6 can fail while its IPv4 works. */
	enum ul_state state6;
	bool has_addr6;
	struct ul_addr addr6;           /* a global IPv6 address of the interface (host) */
	bool has_gw6;
	struct ul_addr gw6;             /* gateway6, or the router advertising itself (often
					 * link-local) */
};

struct ul_plan {
	struct ul_route routes[UL_PLAN_MAX_ROUTES];
	size_t n_routes;
	struct ul_iprule rules[UL_PLAN_MAX_RULES];
	size_t n_rules;
	struct ul_ruleset nft;
	uint32_t active;                /* bit i: link i carries new balanced connections */
	uint32_t usable;                /* bit i: link i may carry traffic (up or degraded) */
	uint32_t carrying;              /* bit i: its connections are routed by its table (not
					 * down, or active as a last resort) */
	bool last_resort;               /* no link usable: balancing over every link with carrier */
	/* The same for IPv6, over the links whose IPv6 is routable (v6 false: the config and
	 * the interfaces give no link IPv6, and the plan is the IPv4-only one). */
	bool v6;
	uint32_t active6, usable6, carrying6;
	bool last_resort6;
};

/* Mark of link i (0-based) under the mask: its id << shift (identity.h). */
uint32_t ul_link_mark(const struct ul_config *c, size_t i);
/* Mark that sends traffic to the main table (rules without via). */
uint32_t ul_exclude_mark(const struct ul_config *c);

/* Whether link i may carry IPv6 at all: gateway6 is not "none" and, without an explicit
 * gateway6, the interface has a global IPv6 address. */
bool ul_plan_link_v6(const struct ul_config *c, const struct ul_link_rt *rt, size_t i);
/* Set the addresses of a link from its interface's (kernel order, up to n): addrs, has_addr,
 * and addr, the node's own address: the first that is not the link's snat address (a
 * shared address a gateway pair moves between its nodes), else the first. */
void ul_link_rt_set_addrs(struct ul_link_rt *rt, const struct ul_link_conf *lc,
			  const struct ul_addr *addrs, size_t n);

/* Links whose established connections are routed by their own table. */
uint32_t ul_plan_carrying(const struct ul_plan *p);
/* The named counters of the traffic per link (ul_tx_<link>, ul_rx_<link>, ul_conn_<link>):
 * the link index a counter belongs to, and which it is; -1 when it is none of them. */
enum { UL_COUNTER_TX, UL_COUNTER_RX, UL_COUNTER_CONN };
int ul_plan_counter_link(const struct ul_config *c, const char *name, int *kind);

/* Compute the desired state. Returns 0 or -ENOMEM. Free with ul_plan_free. */
int ul_plan_build(const struct ul_config *c, const struct ul_link_rt *rt, struct ul_plan *out);
void ul_plan_free(struct ul_plan *p);

/* Human-readable dump (uplinkd -n): routes and rules in ip(8) notation, then the ruleset. */
void ul_plan_print(FILE *f, const struct ul_config *c, const struct ul_plan *p);
#endif
