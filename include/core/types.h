/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Value types shared by the layers: routes, ip rules, probe statistics, kernel events.
 * No behaviour beyond equality and text; the planner produces them, the kernel adapters
 * install and parse them, the daemon counts them. */
#ifndef UL_TYPES_H
#define UL_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <net/if.h>

#include "addr.h"

#define UL_MAX_LINKS 8
#define UL_MAX_NEXTHOPS UL_MAX_LINKS
#define UL_RULE_PROTO 157              /* rtm_protocol / FRA_PROTOCOL of what uplinkd installs;
					 * named by /etc/iproute2/rt_protos.d/uplinkd.conf */
#define UL_NO_SUPPRESS 0xff            /* ul_iprule.suppress_prefixlen unset */

struct ul_nexthop {
	bool has_gw;
	struct ul_addr gw;
	int ifindex;
	char ifname[IFNAMSIZ];
	uint16_t weight;                /* 1..256 */
};

struct ul_route {
	uint8_t family;
	uint32_t table;
	struct ul_addr dst;             /* default: plen 0 */
	struct ul_nexthop nh[UL_MAX_NEXTHOPS];
	size_t n_nh;
};

struct ul_iprule {
	uint8_t family;
	uint32_t prio;
	struct ul_addr src;             /* family 0: any source */
	uint32_t fwmark, fwmask;        /* fwmask 0: no fwmark match */
	uint32_t table;
	uint8_t suppress_prefixlen;     /* UL_NO_SUPPRESS: none */
};

/* Counters of one link's prober. */
struct ul_probe_stats {
	uint64_t rounds, sent, answered, timeouts, errors;
};

/* What rtnetlink reports of links, addresses and main-table routes (parsed by the
 * rtnetlink adapter, folded into the kernel view by view.c), and of the objects uplinkd
 * owns (routes of other tables, ip rules, per-interface IPv4 settings), which the daemon
 * watches for changes made by someone else (the view ignores them). */
enum ul_kev_type {
	UL_KEV_LINK,                    /* new or changed interface */
	UL_KEV_LINK_DEL,
	UL_KEV_ADDR,                    /* address added */
	UL_KEV_ADDR_DEL,
	UL_KEV_ROUTE,                   /* main-table route added (for gateway = "auto") */
	UL_KEV_ROUTE_DEL,
	UL_KEV_TROUTE,                  /* a route added or removed in a table other than main */
	UL_KEV_RULE,                    /* an ip rule added or removed */
	UL_KEV_NETCONF,                 /* IPv4 settings of an interface (forwarding, rp_filter) */
};

struct ul_kev {
	enum ul_kev_type type;
	int ifindex;
	char ifname[IFNAMSIZ];          /* LINK events */
	unsigned flags;                 /* LINK: ifi_flags (IFF_UP, IFF_LOWER_UP, ...) */
	struct ul_addr addr;            /* ADDR: address with the subnet's prefix length;
					 * ROUTE: destination */
	bool has_gw;
	struct ul_addr gw;              /* ROUTE: RTA_GATEWAY (first nexthop) */
	uint32_t table;                 /* ROUTE, TROUTE */
	uint32_t metric;                /* ROUTE: RTA_PRIORITY; RULE: FRA_PRIORITY */
	uint8_t proto;                  /* ROUTE: rtm_protocol (RTPROT_RA, 9: a router
					 * advertisement's default route) */
	uint8_t scope;                  /* ADDR: ifa_scope (0 global, 253 link-local) */
	uint32_t addr_flags;            /* ADDR: IFA_F_* (IFA_FLAGS when given) */
	bool addr_usable;               /* ADDR: it can source traffic: IPv4, or IPv6 of global
					 * scope, not tentative, failed or deprecated */
	bool deleted;                   /* TROUTE, RULE: removed (else added or changed) */
	bool own;                       /* caused by a request of uplinkd's own socket */
};

typedef void (*ul_kev_cb)(const struct ul_kev *ev, void *data);

/* A change someone else made to uplinkd's nftables table (from nftables events): the most
 * serious one seen, in words ("table inet uplinkd removed"). rank 0: none. */
struct ul_nft_change {
	unsigned rank;
	char what[96];
};

/* ip(8)-style text and equality (route.c). */
void ul_route_format(const struct ul_route *r, char *buf, size_t len);
void ul_iprule_format(const struct ul_iprule *r, char *buf, size_t len);
bool ul_route_eq(const struct ul_route *a, const struct ul_route *b);
bool ul_iprule_eq(const struct ul_iprule *a, const struct ul_iprule *b);

#endif
