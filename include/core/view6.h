/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The kernel's IPv6 as uplinkd needs it, kept from rtnetlink events: each interface's
 * usable global addresses and the main table's IPv6 default routes (a router advertisement's
 * "proto ra" route, or any other), for gateway6 = "auto". Pure: no I/O. */
#ifndef UL_VIEW6_H
#define UL_VIEW6_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "types.h"

#define UL_VIEW6_MAX_ADDRS 128
#define UL_VIEW6_MAX_GWS 64

struct ul_view6 {
	struct ul_view6_addr {
		int ifindex;
		struct ul_addr addr;    /* host address */
		bool usable;            /* global, not tentative, not deprecated */
	} addrs[UL_VIEW6_MAX_ADDRS];
	size_t n_addrs;
	struct ul_view6_gw {
		int ifindex;
		struct ul_addr gw;
		uint32_t metric;
		uint8_t proto;
	} gws[UL_VIEW6_MAX_GWS];
	size_t n_gws;
};

/* Take one event into the view (IPv4 events and other tables are ignored). Returns true
 * when the view changed. */
bool ul_view6_apply(struct ul_view6 *v, const struct ul_kev *ev);
/* The interface's first usable global IPv6 address, in the kernel's order. */
bool ul_view6_addr(const struct ul_view6 *v, int ifindex, struct ul_addr *out);
/* The interface's IPv6 router: the main table's default route of the lowest metric on it. */
bool ul_view6_router(const struct ul_view6 *v, int ifindex, struct ul_addr *out);

#endif
