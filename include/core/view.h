/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The kernel as seen through rtnetlink: interfaces, their IPv4 addresses and the main
 * table's default routes, folded from events (a dump or the live stream). Pure: no I/O.
 * ul_view_link_rt turns it into one link's runtime inputs, for the daemon and -n alike. */
#ifndef UL_VIEW_H
#define UL_VIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <net/if.h>

#include "addr.h"
#include "config.h"
#include "plan.h"
#include "types.h"
#include "view6.h"

/* The arrays grow as the kernel reports more: no interface, address or default route is
 * dropped for want of room (only when memory runs out: counted in `lost`). */
struct ul_view_if {
	int ifindex;
	char name[IFNAMSIZ];
	unsigned flags;                                 /* ifi_flags */
	struct ul_addr *addrs;                          /* IPv4, in the order reported */
	size_t n_addrs, cap_addrs;
};

struct ul_view_gw {                                     /* a main-table default route */
	int ifindex;
	struct ul_addr gw;
	uint32_t metric;
};

struct ul_view {
	struct ul_view_if *ifs;
	size_t n_ifs, cap_ifs;
	struct ul_view_gw *gws;
	size_t n_gws, cap_gws;
	size_t lost;            /* events not followed: out of memory (the daemon says so) */
	bool gw_dirty;          /* a main default route was added: read the gateways again */
	struct ul_view6 v6;     /* IPv6 addresses and routers (view6.h) */
};

/* Free what the view holds; it is empty (and usable) afterwards. A view is moved by
 * assignment (its arrays go with it), never copied. */
void ul_view_free(struct ul_view *v);
/* Fold one event into the view (a ul_kev_cb: pass the view as data). */
void ul_view_apply(struct ul_view *v, const struct ul_kev *ev);
void ul_view_on_kev(const struct ul_kev *ev, void *view);
const struct ul_view_if *ul_view_if_by_name(const struct ul_view *v, const char *name);
/* The gateway a DHCP client put on this interface: the lowest-metric default route. */
const struct ul_addr *ul_view_gateway(const struct ul_view *v, int ifindex);
/* The interface exists but is administratively down (what precedes its deletion). */
bool ul_view_if_down(const struct ul_view *v, const char *ifname);

/* One link's runtime inputs from the view: presence, ifindex, carrier, primary address,
 * gateway (static, or learned for "auto"). rt->state is left as it is. Returns NULL when
 * the link can carry (carrier and an address), else why not: "interface removed",
 * "interface down", "carrier lost" or "no address". */
const char *ul_view_link_rt(const struct ul_view *v, const struct ul_link_conf *lc,
			    struct ul_link_rt *rt);
/* The same for the link's IPv6 (view6.c): has_addr6/addr6 (a usable global address),
 * has_gw6/gw6 (gateway6, or the router the interface learned for "auto"). Returns NULL
 * when its IPv6 can carry (carrier and an address), else why not (as above, or "no IPv6
 * address"). A link with gateway6 "none" gets no IPv6 facts and "no IPv6". */
const char *ul_view_link_rt6(const struct ul_view *v, const struct ul_link_conf *lc,
			     struct ul_link_rt *rt);

#endif
