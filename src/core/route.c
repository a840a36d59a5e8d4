// SPDX-License-Identifier: GPL-2.0-or-later
/* Routes and ip rules as values: equality and ip(8)-style text. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "types.h"

static bool nh_eq(const struct ul_nexthop *a, const struct ul_nexthop *b)
{
	return a->has_gw == b->has_gw && (!a->has_gw || ul_addr_eq(&a->gw, &b->gw)) &&
	       a->ifindex == b->ifindex && a->weight == b->weight;
}

bool ul_route_eq(const struct ul_route *a, const struct ul_route *b)
{
	if (a->family != b->family || a->table != b->table || !ul_addr_eq(&a->dst, &b->dst) ||
	    a->n_nh != b->n_nh)
		return false;
	for (size_t i = 0; i < a->n_nh; i++)
		if (!nh_eq(&a->nh[i], &b->nh[i]))
			return false;
	return true;
}

bool ul_iprule_eq(const struct ul_iprule *a, const struct ul_iprule *b)
{
	if (a->family != b->family || a->prio != b->prio || a->table != b->table ||
	    a->fwmark != b->fwmark || a->fwmask != b->fwmask ||
	    a->suppress_prefixlen != b->suppress_prefixlen || a->src.family != b->src.family)
		return false;
	return !a->src.family || ul_addr_eq(&a->src, &b->src);
}

__attribute__((format(printf, 4, 5)))
static void put(char *buf, size_t len, size_t *off, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*off >= len)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf + *off, len - *off, fmt, ap);
	va_end(ap);
	if (n > 0)
		*off += (size_t)n;
}

static const char *dev_name(const struct ul_nexthop *nh, char *tmp, size_t len)
{
	if (nh->ifname[0])
		return nh->ifname;
	snprintf(tmp, len, "if%d", nh->ifindex);
	return tmp;
}

void ul_route_format(const struct ul_route *r, char *buf, size_t len)
{
	char a[UL_ADDR_STRLEN], dev[IFNAMSIZ + 8];
	size_t off = 0;

	buf[0] = '\0';
	put(buf, len, &off, "%s", r->dst.plen ? ul_addr_format(&r->dst, a, sizeof(a)) : "default");
	if (r->n_nh == 1) {
		if (r->nh[0].has_gw)
			put(buf, len, &off, " via %s", ul_addr_format(&r->nh[0].gw, a, sizeof(a)));
		put(buf, len, &off, " dev %s", dev_name(&r->nh[0], dev, sizeof(dev)));
	} else {
		for (size_t i = 0; i < r->n_nh; i++) {
			put(buf, len, &off, " nexthop");
			if (r->nh[i].has_gw)
				put(buf, len, &off, " via %s",
				    ul_addr_format(&r->nh[i].gw, a, sizeof(a)));
			put(buf, len, &off, " dev %s", dev_name(&r->nh[i], dev, sizeof(dev)));
			put(buf, len, &off, " weight %u", r->nh[i].weight);
		}
	}
	put(buf, len, &off, " table %u", r->table);
}

void ul_iprule_format(const struct ul_iprule *r, char *buf, size_t len)
{
	char a[UL_ADDR_STRLEN];
	size_t off = 0;

	buf[0] = '\0';
	put(buf, len, &off, "%u:", r->prio);
	if (r->src.family)
		put(buf, len, &off, " from %s", ul_addr_format(&r->src, a, sizeof(a)));
	else
		put(buf, len, &off, " from all");
	if (r->fwmask) {
		put(buf, len, &off, " fwmark 0x%x", r->fwmark);
		put(buf, len, &off, "/0x%x", r->fwmask);
	}
	if (r->table == 254)
		put(buf, len, &off, " lookup main");
	else
		put(buf, len, &off, " lookup %u", r->table);
	if (r->suppress_prefixlen != UL_NO_SUPPRESS)
		put(buf, len, &off, " suppress_prefixlength %u", r->suppress_prefixlen);
}
