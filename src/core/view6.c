// SPDX-License-Identifier: GPL-2.0-or-later
/* The kernel's IPv6 addresses and main-table default routes, from rtnetlink events. */
#include <string.h>
#include <sys/socket.h>
#include <net/if.h>

#ifndef IFF_LOWER_UP
#define IFF_LOWER_UP 0x10000                    /* linux/if.h; clashes with net/if.h */
#endif

#include "view.h"
#include "view6.h"

static void forget_if(struct ul_view6 *v, int ifindex)
{
	for (size_t i = 0; i < v->n_addrs;)
		if (v->addrs[i].ifindex == ifindex)
			memmove(&v->addrs[i], &v->addrs[i + 1],
				(--v->n_addrs - i) * sizeof(v->addrs[0]));
		else
			i++;
	for (size_t i = 0; i < v->n_gws;)
		if (v->gws[i].ifindex == ifindex)
			v->gws[i] = v->gws[--v->n_gws];
		else
			i++;
}

static bool apply_addr(struct ul_view6 *v, const struct ul_kev *ev)
{
	struct ul_addr host;
	bool usable = ev->addr_usable;
	size_t i;

	ul_addr_from_raw(&host, AF_INET6, ev->addr.bytes);
	for (i = 0; i < v->n_addrs; i++)
		if (v->addrs[i].ifindex == ev->ifindex && ul_addr_eq(&v->addrs[i].addr, &host))
			break;
	if (ev->type == UL_KEV_ADDR_DEL) {
		if (i == v->n_addrs)
			return false;
		memmove(&v->addrs[i], &v->addrs[i + 1], (--v->n_addrs - i) * sizeof(v->addrs[0]));
		return true;
	}
	if (i < v->n_addrs) {           /* the same address again: its flags changed */
		if (v->addrs[i].usable == usable)
			return false;
		v->addrs[i].usable = usable;
		return true;
	}
	if (v->n_addrs == UL_VIEW6_MAX_ADDRS)
		return false;
	v->addrs[v->n_addrs++] = (struct ul_view6_addr){ ev->ifindex, host, usable };
	return true;
}

static bool apply_route(struct ul_view6 *v, const struct ul_kev *ev)
{
	size_t i;

	if (ev->addr.plen != 0 || ev->table != 254 || !ev->has_gw || ev->ifindex <= 0)
		return false;
	for (i = 0; i < v->n_gws; i++)
		if (v->gws[i].ifindex == ev->ifindex && v->gws[i].metric == ev->metric &&
		    ul_addr_eq(&v->gws[i].gw, &ev->gw))
			break;
	if (ev->type == UL_KEV_ROUTE_DEL) {
		if (i == v->n_gws)
			return false;
		v->gws[i] = v->gws[--v->n_gws];
		return true;
	}
	if (i < v->n_gws || v->n_gws == UL_VIEW6_MAX_GWS)
		return false;
	v->gws[v->n_gws++] = (struct ul_view6_gw){ ev->ifindex, ev->gw, ev->metric, ev->proto };
	return true;
}

bool ul_view6_apply(struct ul_view6 *v, const struct ul_kev *ev)
{
	size_t n_addrs = v->n_addrs, n_gws = v->n_gws;

	switch (ev->type) {
	case UL_KEV_LINK_DEL:
		forget_if(v, ev->ifindex);
		return v->n_addrs != n_addrs || v->n_gws != n_gws;
	case UL_KEV_ADDR:
	case UL_KEV_ADDR_DEL:
		return ev->addr.family == AF_INET6 && apply_addr(v, ev);
	case UL_KEV_ROUTE:
	case UL_KEV_ROUTE_DEL:
		return ev->addr.family == AF_INET6 && apply_route(v, ev);
	case UL_KEV_LINK:
	case UL_KEV_TROUTE:             /* uplinkd's own objects: the daemon watches those */
	case UL_KEV_RULE:
	case UL_KEV_NETCONF:
		break;
	}
	return false;
}

bool ul_view6_addr(const struct ul_view6 *v, int ifindex, struct ul_addr *out)
{
	for (size_t i = 0; i < v->n_addrs; i++)
		if (v->addrs[i].ifindex == ifindex && v->addrs[i].usable) {
			*out = v->addrs[i].addr;
			return true;
		}
	return false;
}

bool ul_view6_router(const struct ul_view6 *v, int ifindex, struct ul_addr *out)
{
	const struct ul_view6_gw *best = NULL;

	for (size_t i = 0; i < v->n_gws; i++)
		if (v->gws[i].ifindex == ifindex && (!best || v->gws[i].metric < best->metric))
			best = &v->gws[i];
	if (best)
		*out = best->gw;
	return best != NULL;
}

const char *ul_view_link_rt6(const struct ul_view *v, const struct ul_link_conf *lc,
			     struct ul_link_rt *rt)
{
	const struct ul_view_if *k = ul_view_if_by_name(v, lc->ifname);
	bool carrier = k && (k->flags & IFF_UP) && (k->flags & IFF_LOWER_UP);

	rt->has_addr6 = rt->has_gw6 = false;
	memset(&rt->addr6, 0, sizeof(rt->addr6));
	if (lc->gw6_mode == UL_GW_NONE)
		return "no IPv6";
	if (k)
		rt->has_addr6 = ul_view6_addr(&v->v6, k->ifindex, &rt->addr6);
	if (lc->gw6_mode == UL_GW_STATIC) {
		rt->has_gw6 = true;
		rt->gw6 = lc->gateway6;
	} else if (k) {
		rt->has_gw6 = ul_view6_router(&v->v6, k->ifindex, &rt->gw6);
	}
	if (carrier && rt->has_addr6)
		return NULL;
	return !k ? "interface removed" : !(k->flags & IFF_UP) ? "interface down" :
	       !carrier ? "carrier lost" : "no IPv6 address";
}
