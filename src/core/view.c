// SPDX-License-Identifier: GPL-2.0-or-later
/* The kernel view: interfaces, IPv4 addresses, main default routes, from rtnetlink events. */
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <sys/socket.h>

#include "view.h"

#ifndef IFF_LOWER_UP
#define IFF_LOWER_UP 0x10000                    /* linux/if.h; clashes with net/if.h */
#endif

/* Room for one more of n in *arr (cap elements of size each); false when out of memory. */
static bool room(void **arr, size_t *cap, size_t n, size_t size)
{
	size_t nc;
	void *na;

	if (n < *cap)
		return true;
	nc = *cap ? *cap * 2 : 8;
	na = realloc(*arr, nc * size);
	if (!na)
		return false;
	*arr = na;
	*cap = nc;
	return true;
}

void ul_view_free(struct ul_view *v)
{
	for (size_t i = 0; i < v->n_ifs; i++)
		free(v->ifs[i].addrs);
	free(v->ifs);
	free(v->gws);
	memset(v, 0, sizeof(*v));
}

static struct ul_view_if *view_if(struct ul_view *v, int ifindex, bool create)
{
	for (size_t i = 0; i < v->n_ifs; i++)
		if (v->ifs[i].ifindex == ifindex)
			return &v->ifs[i];
	if (!create)
		return NULL;
	if (!room((void **)&v->ifs, &v->cap_ifs, v->n_ifs, sizeof(v->ifs[0]))) {
		v->lost++;
		return NULL;
	}
	memset(&v->ifs[v->n_ifs], 0, sizeof(v->ifs[0]));
	v->ifs[v->n_ifs].ifindex = ifindex;
	return &v->ifs[v->n_ifs++];
}

const struct ul_view_if *ul_view_if_by_name(const struct ul_view *v, const char *name)
{
	for (size_t i = 0; i < v->n_ifs; i++)
		if (!strcmp(v->ifs[i].name, name))
			return &v->ifs[i];
	return NULL;
}

void ul_view_apply(struct ul_view *v, const struct ul_kev *ev)
{
	struct ul_view_if *k;

	ul_view6_apply(&v->v6, ev);

	switch (ev->type) {
	case UL_KEV_LINK:
		k = view_if(v, ev->ifindex, true);
		if (!k)
			return;
		if (ev->ifname[0])
			snprintf(k->name, sizeof(k->name), "%s", ev->ifname);
		k->flags = ev->flags;
		break;
	case UL_KEV_LINK_DEL:
		for (size_t i = 0; i < v->n_ifs; i++)
			if (v->ifs[i].ifindex == ev->ifindex) {
				free(v->ifs[i].addrs);
				v->ifs[i] = v->ifs[--v->n_ifs];
				break;
			}
		for (size_t i = 0; i < v->n_gws;)
			if (v->gws[i].ifindex == ev->ifindex)
				v->gws[i] = v->gws[--v->n_gws];
			else
				i++;
		break;
	case UL_KEV_ADDR:
	case UL_KEV_ADDR_DEL:
		if (ev->addr.family != AF_INET)
			return;
		k = view_if(v, ev->ifindex, ev->type == UL_KEV_ADDR);
		if (!k)
			return;
		for (size_t i = 0; i < k->n_addrs; i++)
			if (!memcmp(k->addrs[i].bytes, ev->addr.bytes, 4)) {
				memmove(&k->addrs[i], &k->addrs[i + 1],
					(k->n_addrs - i - 1) * sizeof(k->addrs[0]));
				k->n_addrs--;
				break;
			}
		if (ev->type != UL_KEV_ADDR)
			break;
		if (room((void **)&k->addrs, &k->cap_addrs, k->n_addrs, sizeof(k->addrs[0])))
			k->addrs[k->n_addrs++] = ev->addr;
		else
			v->lost++;
		break;
	case UL_KEV_ROUTE:
	case UL_KEV_ROUTE_DEL:
		if (ev->addr.family != AF_INET || ev->addr.plen != 0)
			return;
		/* "ip route replace" (NLM_F_REPLACE) announces the new route only, not the end
		 * of the one it replaced, which may even be on another interface: after any new
		 * default route the list is read again from the kernel (gw_dirty) */
		if (ev->type == UL_KEV_ROUTE)
			v->gw_dirty = true;
		if (!ev->has_gw)
			return;
		for (size_t i = 0; i < v->n_gws; i++)
			if (v->gws[i].ifindex == ev->ifindex && v->gws[i].metric == ev->metric &&
			    ul_addr_eq(&v->gws[i].gw, &ev->gw)) {
				v->gws[i] = v->gws[--v->n_gws];
				break;
			}
		if (ev->type != UL_KEV_ROUTE)
			break;
		if (room((void **)&v->gws, &v->cap_gws, v->n_gws, sizeof(v->gws[0])))
			v->gws[v->n_gws++] = (struct ul_view_gw){ ev->ifindex, ev->gw, ev->metric };
		else
			v->lost++;
		break;
	case UL_KEV_TROUTE:
	case UL_KEV_RULE:
	case UL_KEV_NETCONF:
		break;                  /* uplinkd's own objects: the daemon watches those */
	}
}

void ul_view_on_kev(const struct ul_kev *ev, void *view)
{
	ul_view_apply(view, ev);
}

const struct ul_addr *ul_view_gateway(const struct ul_view *v, int ifindex)
{
	const struct ul_view_gw *best = NULL;

	for (size_t i = 0; i < v->n_gws; i++)
		if (v->gws[i].ifindex == ifindex && (!best || v->gws[i].metric < best->metric))
			best = &v->gws[i];
	return best ? &best->gw : NULL;
}

bool ul_view_if_down(const struct ul_view *v, const char *ifname)
{
	const struct ul_view_if *k = ul_view_if_by_name(v, ifname);

	return k && !(k->flags & IFF_UP);
}

const char *ul_view_link_rt(const struct ul_view *v, const struct ul_link_conf *lc,
			    struct ul_link_rt *rt)
{
	const struct ul_view_if *k = ul_view_if_by_name(v, lc->ifname);

	rt->present = k != NULL;
	rt->ifindex = k ? k->ifindex : 0;
	rt->carrier = k && (k->flags & IFF_UP) && (k->flags & IFF_LOWER_UP);
	/* every address gets its rule; the node's own (not the shared snat address a
	 * gateway pair's VRRP moves here and away) is what probes leave from, so that an
	 * address coming or going is no link event at all */
	ul_link_rt_set_addrs(rt, lc, k ? k->addrs : NULL, k ? k->n_addrs : 0);
	rt->has_gw = false;             /* rt->gw keeps its last value: compared, not used */
	if (lc->gw_mode == UL_GW_STATIC) {
		rt->has_gw = true;
		rt->gw = lc->gateway;
	} else if (lc->gw_mode == UL_GW_AUTO && k) {
		const struct ul_addr *gw = ul_view_gateway(v, k->ifindex);

		if (gw) {
			rt->has_gw = true;
			rt->gw = *gw;
		}
	}
	/* Without an address (DHCP lease lost, not yet obtained) nothing can be sent: that
	 * is as down as a lost carrier. (A missing gateway is not: the link just takes no
	 * traffic until it is learned.) */
	if (rt->carrier && rt->has_addr)
		return NULL;
	return !k ? "interface removed" : !(k->flags & IFF_UP) ? "interface down" :
	       !rt->carrier ? "carrier lost" : "no address";
}
