/* SPDX-License-Identifier: GPL-2.0-or-later */
/* rtnetlink over libmnl: the kernel's links, addresses and routes, and uplinkd's
 * routes and rules. Every write asks for an ACK and checks it. Negative errno. */
#ifndef UL_RTNL_H
#define UL_RTNL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <net/if.h>
#include <sys/socket.h>
#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "addr.h"
#include "types.h"

enum ul_kev_type {
	UL_KEV_LINK,                    /* new or changed interface */
	UL_KEV_LINK_DEL,
	UL_KEV_ADDR,                    /* address added */
	UL_KEV_ADDR_DEL,
	UL_KEV_ROUTE,                   /* main-table route added (for gateway = "auto") */
	UL_KEV_ROUTE_DEL,
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
	uint32_t table;                 /* ROUTE */
	uint32_t metric;                /* ROUTE: RTA_PRIORITY */
	uint8_t proto;                  /* ROUTE: rtm_protocol (RTPROT_RA: a router
					 * advertisement's default route) */
	uint8_t scope;                  /* ADDR: ifa_scope (RT_SCOPE_UNIVERSE = global,
					 * RT_SCOPE_LINK = link-local) */
	uint32_t addr_flags;            /* ADDR: IFA_F_* (IFA_FLAGS when given) */
};

/* An IPv6 address that can source traffic: global scope, not tentative, not failed
 * duplicate address detection, not deprecated. IPv4 addresses always can. (Inline: the
 * daemon's kernel view uses it without linking the adapter.) */
static inline bool ul_kev_addr_usable(const struct ul_kev *ev)
{
	if (ev->addr.family != AF_INET6)
		return true;
	return ev->scope == RT_SCOPE_UNIVERSE &&
	       !(ev->addr_flags & (IFA_F_TENTATIVE | IFA_F_DADFAILED | IFA_F_DEPRECATED));
}

/* Parse one rtnetlink message into an event. Returns 1 for an event, 0 for a message
 * of no interest, -EINVAL for a malformed one. Pure (fuzzed). */
int ul_kev_parse(const struct nlmsghdr *nlh, struct ul_kev *ev);

/* Build route/rule messages into buf (MNL_SOCKET_BUFFER_SIZE bytes); pure. */
struct nlmsghdr *ul_rtnl_build_route(void *buf, const struct ul_route *r, uint16_t type,
				     uint16_t flags, uint32_t seq);
struct nlmsghdr *ul_rtnl_build_rule(void *buf, const struct ul_iprule *r, uint16_t type,
				    uint16_t flags, uint32_t seq);
/* Parse them back: 1 parsed, 0 not ours/of no interest, -EINVAL malformed. */
int ul_rtnl_parse_route(const struct nlmsghdr *nlh, struct ul_route *r);
int ul_rtnl_parse_rule(const struct nlmsghdr *nlh, struct ul_iprule *r);

struct ul_rtnl;

typedef void (*ul_kev_cb)(const struct ul_kev *ev, void *data);

/* Opens a command socket and an event socket (links, addresses and routes of both
 * families). */
int ul_rtnl_open(struct ul_rtnl **out);
void ul_rtnl_close(struct ul_rtnl *h);
int ul_rtnl_event_fd(const struct ul_rtnl *h);
/* Full dump of links, addresses and main-table routes (IPv4, then IPv6), as events. */
int ul_rtnl_dump_all(struct ul_rtnl *h, ul_kev_cb cb, void *data);
/* Read pending events (non-blocking). -ENOBUFS: events were lost; the caller resyncs
 * with ul_rtnl_dump_all. */
int ul_rtnl_read_events(struct ul_rtnl *h, ul_kev_cb cb, void *data);

/* Installed routes of the given tables and rules in [lo, hi], of both families (IPv6
 * routes of metric 1024, the kernel's default for "no metric", count as uplinkd's).
 * Caller frees *out. */
int ul_rtnl_dump_routes(struct ul_rtnl *h, const uint32_t *tables, size_t n_tables,
			struct ul_route **out, size_t *n_out);
int ul_rtnl_dump_rules(struct ul_rtnl *h, uint32_t lo, uint32_t hi, struct ul_iprule **out,
		       size_t *n_out);
int ul_rtnl_route_replace(struct ul_rtnl *h, const struct ul_route *r);
int ul_rtnl_route_del(struct ul_rtnl *h, const struct ul_route *r);
int ul_rtnl_rule_add(struct ul_rtnl *h, const struct ul_iprule *r);
int ul_rtnl_rule_del(struct ul_rtnl *h, const struct ul_iprule *r);

#endif
