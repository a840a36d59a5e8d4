/* SPDX-License-Identifier: GPL-2.0-or-later */
/* rtnetlink over libmnl: the kernel's links, addresses and routes, and uplinkd's
 * routes and rules. Every write asks for an ACK and checks it. Negative errno. */
#ifndef UL_RTNL_H
#define UL_RTNL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <net/if.h>
#include <linux/netlink.h>

#include "addr.h"
#include "types.h"

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

/* Opens a command socket and an event socket (links, IPv4 addresses, IPv4 routes). */
int ul_rtnl_open(struct ul_rtnl **out);
void ul_rtnl_close(struct ul_rtnl *h);
int ul_rtnl_event_fd(const struct ul_rtnl *h);
/* Full dump of links, IPv4 addresses and main-table IPv4 routes, as events. */
int ul_rtnl_dump_all(struct ul_rtnl *h, ul_kev_cb cb, void *data);
/* Read pending events (non-blocking). -ENOBUFS: events were lost; the caller resyncs
 * with ul_rtnl_dump_all. */
int ul_rtnl_read_events(struct ul_rtnl *h, ul_kev_cb cb, void *data);

/* Installed routes of the given tables (IPv4), and rules in [lo, hi]. Caller frees *out. */
int ul_rtnl_dump_routes(struct ul_rtnl *h, const uint32_t *tables, size_t n_tables,
			struct ul_route **out, size_t *n_out);
int ul_rtnl_dump_rules(struct ul_rtnl *h, uint32_t lo, uint32_t hi, struct ul_iprule **out,
		       size_t *n_out);
/* The name of interface ifindex now (RTM_GETLINK); -ENODEV when it has none, -errno */
int ul_rtnl_ifname(struct ul_rtnl *h, int ifindex, char name[IFNAMSIZ]);
int ul_rtnl_route_replace(struct ul_rtnl *h, const struct ul_route *r);
int ul_rtnl_route_del(struct ul_rtnl *h, const struct ul_route *r);
int ul_rtnl_rule_add(struct ul_rtnl *h, const struct ul_iprule *r);
int ul_rtnl_rule_del(struct ul_rtnl *h, const struct ul_iprule *r);

#endif
