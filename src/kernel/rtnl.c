// SPDX-License-Identifier: GPL-2.0-or-later
/* rtnetlink over libmnl: links, addresses and main-table routes as events; uplinkd's own
 * routes and ip rules built, parsed, dumped and written (every write waits for its ACK). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <linux/fib_rules.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/netconf.h>
#include <linux/rtnetlink.h>
#include <libmnl/libmnl.h>

#include "klog.h"
#include "rtnl.h"

#ifndef NETLINK_GET_STRICT_CHK
#define NETLINK_GET_STRICT_CHK 12
#endif

#define RTNL_BUF_SIZE 65536             /* > the largest skb a dump fills (32 KiB) */
#define RTNL_EV_RCVBUF (4 * 1024 * 1024)
#define RTNL_TIMEOUT_S 5
#define RTNL_REQ_SIZE 1024              /* a route with UL_MAX_NEXTHOPS takes < 300 */
#define RTNL_DUMP_TRIES 3
#define UL_IP6_DEFAULT_METRIC 1024      /* IP6_RT_PRIO_USER: what "metric 0" becomes */
#define RTNL_MAX_ATTR 64                /* above every RTA_, IFA_, IFLA_ and FRA_ we read */

struct ul_rtnl {
	struct mnl_socket *cmd;         /* requests, ACKs and dumps */
	struct mnl_socket *ev;          /* multicast events, non-blocking */
	uint32_t portid;                /* of cmd */
	uint32_t seq;
	bool strict;                    /* NETLINK_GET_STRICT_CHK on cmd: filtered dumps */
	bool busy;                      /* inside a dump callback: cmd is in use */
	char *cbuf;                     /* RTNL_BUF_SIZE, for cmd */
	char *ebuf;                     /* RTNL_BUF_SIZE, for ev */
};

/* mnl_nlmsg_ok() casts nlmsg_len to int: a length above 2 GiB would pass it. These do not. */
static bool msg_ok(const struct nlmsghdr *nlh, size_t len)
{
	return len >= sizeof(*nlh) && nlh->nlmsg_len >= sizeof(*nlh) && nlh->nlmsg_len <= len;
}

static const struct nlmsghdr *msg_next(const struct nlmsghdr *nlh, size_t *len)
{
	size_t step = NLMSG_ALIGN(nlh->nlmsg_len);

	*len = step < *len ? *len - step : 0;
	return (const struct nlmsghdr *)((const char *)nlh + step);
}

/* ---- attribute helpers ------------------------------------------------------------------ */

struct attr_tb {
	const struct nlattr *tb[RTNL_MAX_ATTR + 1];
};

/* Collect the attributes in [p, p + len): the last one of each type wins. Bytes left over
 * that do not make a whole attribute are malformed. */
static int collect_range(const void *p, size_t len, struct attr_tb *t)
{
	const struct nlattr *a = p;
	long left = (long)len;

	memset(t, 0, sizeof(*t));
	while (left >= (long)sizeof(*a) && mnl_attr_ok(a, (int)left)) {
		uint16_t type = mnl_attr_get_type(a);

		if (type <= RTNL_MAX_ATTR)
			t->tb[type] = a;
		left -= MNL_ALIGN(a->nla_len);
		a = mnl_attr_next(a);
	}
	return left > 0 ? -EINVAL : 0;
}

/* Collect the attributes after a fixed header of hdrlen bytes. -EINVAL when the message is
 * shorter than the header or an attribute does not fit. */
static int collect(const struct nlmsghdr *nlh, size_t hdrlen, struct attr_tb *t)
{
	size_t off = MNL_NLMSG_HDRLEN + MNL_ALIGN(hdrlen);

	memset(t, 0, sizeof(*t));
	if (nlh->nlmsg_len < MNL_NLMSG_HDRLEN + hdrlen)
		return -EINVAL;
	if (nlh->nlmsg_len <= off)
		return 0;
	return collect_range((const char *)nlh + off, nlh->nlmsg_len - off, t);
}

static int get_u32(const struct nlattr *a, uint32_t *v)
{
	if (mnl_attr_validate(a, MNL_TYPE_U32) < 0)
		return -EINVAL;
	*v = mnl_attr_get_u32(a);
	return 0;
}

static int get_u8(const struct nlattr *a, uint8_t *v)
{
	if (mnl_attr_validate(a, MNL_TYPE_U8) < 0)
		return -EINVAL;
	*v = mnl_attr_get_u8(a);
	return 0;
}

/* An address attribute of exactly the family's length. */
static int get_addr(const struct nlattr *a, int family, struct ul_addr *out)
{
	size_t alen = ul_addr_len(family);

	if (!alen || mnl_attr_validate2(a, MNL_TYPE_BINARY, alen) < 0)
		return -EINVAL;
	ul_addr_from_raw(out, family, mnl_attr_get_payload(a));
	return 0;
}

/* The destination of a route or the subnet of an address: RTA_DST/IFA_* bytes and plen. */
static int get_prefix(const struct nlattr *a, int family, unsigned plen, struct ul_addr *out)
{
	size_t alen = ul_addr_len(family);

	if (!alen || plen > alen * 8)
		return -EINVAL;
	if (a) {
		if (get_addr(a, family, out) < 0)
			return -EINVAL;
	} else {
		memset(out, 0, sizeof(*out));
		out->family = (uint8_t)family;
	}
	out->plen = (uint8_t)plen;
	return 0;
}

/* ---- routes ------------------------------------------------------------------------------ */

/* Walk RTA_MULTIPATH: fill up to max nexthops, return how many there are in all, or -EINVAL. */
static int parse_multipath(const struct nlattr *mp, int family, struct ul_nexthop *nh,
			   size_t max)
{
	const char *p = mnl_attr_get_payload(mp);
	size_t left = mnl_attr_get_payload_len(mp);
	int n = 0;

	while (left >= sizeof(struct rtnexthop)) {
		const struct rtnexthop *rtnh = (const void *)p;
		size_t step = RTNH_ALIGN(rtnh->rtnh_len);
		size_t hdr = RTNH_ALIGN(sizeof(*rtnh));
		struct attr_tb t;

		if (rtnh->rtnh_len < sizeof(*rtnh) || rtnh->rtnh_len > left)
			return -EINVAL;
		if (collect_range(p + hdr, rtnh->rtnh_len > hdr ? rtnh->rtnh_len - hdr : 0, &t) < 0)
			return -EINVAL;
		if ((size_t)n < max) {
			struct ul_nexthop *x = &nh[n];

			memset(x, 0, sizeof(*x));
			x->ifindex = rtnh->rtnh_ifindex;
			x->weight = (uint16_t)(rtnh->rtnh_hops + 1);
			if (t.tb[RTA_GATEWAY]) {
				if (get_addr(t.tb[RTA_GATEWAY], family, &x->gw) < 0)
					return -EINVAL;
				x->has_gw = true;
			}
		} else if (t.tb[RTA_GATEWAY] &&
			   mnl_attr_validate2(t.tb[RTA_GATEWAY], MNL_TYPE_BINARY,
					      ul_addr_len(family)) < 0) {
			return -EINVAL;
		}
		n++;
		if (step >= left)
			left = 0;
		else
			left -= step;
		p += step;
	}
	return left ? -EINVAL : n;
}

struct nlmsghdr *ul_rtnl_build_route(void *buf, const struct ul_route *r, uint16_t type,
				     uint16_t flags, uint32_t seq)
{
	size_t alen = ul_addr_len(r->family);
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;
	bool any_gw = false;

	if (!alen || r->dst.family != r->family || r->dst.plen > alen * 8 ||
	    r->n_nh > UL_MAX_NEXTHOPS)
		return NULL;
	for (size_t i = 0; i < r->n_nh; i++) {
		if (r->nh[i].has_gw && r->nh[i].gw.family != r->family)
			return NULL;
		any_gw |= r->nh[i].has_gw;
	}

	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = seq;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = r->family;
	rtm->rtm_dst_len = r->dst.plen;
	rtm->rtm_table = r->table < 256 ? (uint8_t)r->table : RT_TABLE_UNSPEC;
	rtm->rtm_type = RTN_UNICAST;
	if (type == RTM_DELROUTE) {
		/* match whatever protocol and scope the installed route has */
		rtm->rtm_protocol = RTPROT_UNSPEC;
		rtm->rtm_scope = RT_SCOPE_NOWHERE;
	} else {
		rtm->rtm_protocol = UL_RULE_PROTO;
		rtm->rtm_scope = any_gw ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK;
	}
	mnl_attr_put_u32(nlh, RTA_TABLE, r->table);
	if (r->dst.plen)
		mnl_attr_put(nlh, RTA_DST, alen, r->dst.bytes);

	if (type == RTM_DELROUTE && r->n_nh > 1 && r->family == AF_INET6) {
		/* IPv6 deletes only the one hop a gateway names; without it, the route with
		 * all its siblings */
	} else if (r->n_nh == 1 || (type == RTM_DELROUTE && r->n_nh > 1)) {
		/* one nexthop; a delete matches on the first one */
		if (r->nh[0].has_gw)
			mnl_attr_put(nlh, RTA_GATEWAY, alen, r->nh[0].gw.bytes);
		if (r->nh[0].ifindex > 0)
			mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)r->nh[0].ifindex);
	} else if (r->n_nh > 1) {
		struct nlattr *nest = mnl_attr_nest_start(nlh, RTA_MULTIPATH);

		for (size_t i = 0; i < r->n_nh; i++) {
			const struct ul_nexthop *nh = &r->nh[i];
			struct rtnexthop *rtnh = mnl_nlmsg_get_payload_tail(nlh);
			uint16_t w = nh->weight ? nh->weight : 1;

			memset(rtnh, 0, sizeof(*rtnh));
			nlh->nlmsg_len += RTNH_ALIGN(sizeof(*rtnh));
			rtnh->rtnh_hops = (uint8_t)(w > 256 ? 255 : w - 1);
			rtnh->rtnh_ifindex = nh->ifindex;
			if (nh->has_gw)
				mnl_attr_put(nlh, RTA_GATEWAY, alen, nh->gw.bytes);
			rtnh->rtnh_len = (unsigned short)((char *)mnl_nlmsg_get_payload_tail(nlh) -
							  (char *)rtnh);
		}
		mnl_attr_nest_end(nlh, nest);
	}
	return nlh;
}

/* The head of a route or rule message: 1, with its header and its attributes in t, for
 * a new_type or del_type message of IPv4 or IPv6; 0 for any other; -EINVAL when malformed.
 * (The family is the first byte of both headers, struct rtmsg and struct fib_rule_hdr.) */
static int parse_head(const struct nlmsghdr *nlh, uint16_t new_type, uint16_t del_type,
		      size_t hdrlen, struct attr_tb *t, const void **hdr)
{
	const uint8_t *family;

	_Static_assert(offsetof(struct rtmsg, rtm_family) == 0 &&
		       offsetof(struct fib_rule_hdr, family) == 0, "family first");
	if (nlh->nlmsg_len < MNL_NLMSG_HDRLEN)
		return -EINVAL;
	if (nlh->nlmsg_type != new_type && nlh->nlmsg_type != del_type)
		return 0;
	if (collect(nlh, hdrlen, t) < 0)
		return -EINVAL;
	*hdr = family = mnl_nlmsg_get_payload(nlh);
	return *family == AF_INET || *family == AF_INET6;
}

int ul_rtnl_parse_route(const struct nlmsghdr *nlh, struct ul_route *r)
{
	const struct rtmsg *rtm;
	struct attr_tb t;
	uint32_t table;
	int n;

	n = parse_head(nlh, RTM_NEWROUTE, RTM_DELROUTE, sizeof(*rtm), &t, (const void **)&rtm);
	if (n <= 0)
		return n;
	if (rtm->rtm_type != RTN_UNICAST || (rtm->rtm_flags & RTM_F_CLONED))
		return 0;

	memset(r, 0, sizeof(*r));
	r->family = rtm->rtm_family;
	table = rtm->rtm_table;
	if (t.tb[RTA_TABLE] && get_u32(t.tb[RTA_TABLE], &table) < 0)
		return -EINVAL;
	r->table = table;
	if (get_prefix(t.tb[RTA_DST], r->family, rtm->rtm_dst_len, &r->dst) < 0)
		return -EINVAL;
	if (t.tb[RTA_PRIORITY]) {
		uint32_t metric;

		if (get_u32(t.tb[RTA_PRIORITY], &metric) < 0)
			return -EINVAL;
		/* uplinkd installs metric 0 only (IPv6 makes that 1024): a route with another
		 * metric is somebody else's, and replace/delete (metric 0, first match) would
		 * hit ours instead. */
		if (metric && !(r->family == AF_INET6 && metric == UL_IP6_DEFAULT_METRIC))
			return 0;
	}

	if (t.tb[RTA_MULTIPATH]) {
		n = parse_multipath(t.tb[RTA_MULTIPATH], r->family, r->nh, UL_MAX_NEXTHOPS);
		if (n < 0 || n > UL_MAX_NEXTHOPS)
			return -EINVAL;
		r->n_nh = (size_t)n;
		/* the kernel reports a one-nexthop multipath request as a plain route */
		if (r->n_nh == 1)
			r->nh[0].weight = 1;
	} else if (t.tb[RTA_OIF] || t.tb[RTA_GATEWAY]) {
		struct ul_nexthop *nh = &r->nh[0];
		uint32_t oif = 0;

		if (t.tb[RTA_OIF] && get_u32(t.tb[RTA_OIF], &oif) < 0)
			return -EINVAL;
		if (t.tb[RTA_GATEWAY]) {
			if (get_addr(t.tb[RTA_GATEWAY], r->family, &nh->gw) < 0)
				return -EINVAL;
			nh->has_gw = true;
		}
		nh->ifindex = (int)oif;
		nh->weight = 1;
		r->n_nh = 1;
	}
	return 1;
}

/* ---- rules ------------------------------------------------------------------------------- */

struct nlmsghdr *ul_rtnl_build_rule(void *buf, const struct ul_iprule *r, uint16_t type,
				    uint16_t flags, uint32_t seq)
{
	struct fib_rule_hdr *frh;
	struct nlmsghdr *nlh;
	bool del = type == RTM_DELRULE;

	if (!ul_addr_len(r->family))
		return NULL;
	if (r->src.family && (r->src.family != r->family ||
			      r->src.plen > ul_addr_len(r->family) * 8))
		return NULL;

	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = seq;
	frh = mnl_nlmsg_put_extra_header(nlh, sizeof(*frh));
	frh->family = r->family;
	frh->table = r->table < 256 ? (uint8_t)r->table : RT_TABLE_UNSPEC;
	/* a delete matches any action (ip rule del does the same), so rules of any kind in
	 * uplinkd's range can be removed; table 0 on a delete matches any table */
	frh->action = del ? FR_ACT_UNSPEC : FR_ACT_TO_TBL;
	mnl_attr_put_u32(nlh, FRA_PRIORITY, r->prio);
	if (r->table || !del)
		mnl_attr_put_u32(nlh, FRA_TABLE, r->table);
	if (r->fwmask) {
		mnl_attr_put_u32(nlh, FRA_FWMARK, r->fwmark);
		mnl_attr_put_u32(nlh, FRA_FWMASK, r->fwmask);
	}
	if (r->src.family) {
		frh->src_len = r->src.plen;
		mnl_attr_put(nlh, FRA_SRC, ul_addr_len(r->family), r->src.bytes);
	}
	if (r->suppress_prefixlen != UL_NO_SUPPRESS)
		mnl_attr_put_u32(nlh, FRA_SUPPRESS_PREFIXLEN, r->suppress_prefixlen);
	if (!del)
		mnl_attr_put_u8(nlh, FRA_PROTOCOL, UL_RULE_PROTO);
	return nlh;
}

int ul_rtnl_parse_rule(const struct nlmsghdr *nlh, struct ul_iprule *r)
{
	const struct fib_rule_hdr *frh;
	struct attr_tb t;
	uint32_t v;
	uint8_t proto;
	bool foreign;
	int n;

	n = parse_head(nlh, RTM_NEWRULE, RTM_DELRULE, sizeof(*frh), &t, (const void **)&frh);
	if (n <= 0)
		return n;

	memset(r, 0, sizeof(*r));
	r->family = frh->family;
	r->table = frh->table;
	r->suppress_prefixlen = UL_NO_SUPPRESS;
	/* Something uplinkd never installs (another action, a destination, tos, interfaces,
	 * inversion): keep the rule, with table 0, so it never equals a wanted rule and a
	 * delete of it matches any table. */
	foreign = frh->action != FR_ACT_TO_TBL || frh->dst_len || frh->tos ||
		  (frh->flags & FIB_RULE_INVERT) || t.tb[FRA_DST] || t.tb[FRA_IIFNAME] ||
		  t.tb[FRA_OIFNAME] || t.tb[FRA_L3MDEV] || t.tb[FRA_UID_RANGE] ||
		  t.tb[FRA_IP_PROTO] || t.tb[FRA_SPORT_RANGE] || t.tb[FRA_DPORT_RANGE];

	if (t.tb[FRA_PRIORITY] && get_u32(t.tb[FRA_PRIORITY], &r->prio) < 0)
		return -EINVAL;
	if (t.tb[FRA_TABLE] && get_u32(t.tb[FRA_TABLE], &r->table) < 0)
		return -EINVAL;
	if (t.tb[FRA_FWMARK] && get_u32(t.tb[FRA_FWMARK], &r->fwmark) < 0)
		return -EINVAL;
	if (t.tb[FRA_FWMASK] && get_u32(t.tb[FRA_FWMASK], &r->fwmask) < 0)
		return -EINVAL;
	if (r->fwmark && !t.tb[FRA_FWMASK])
		r->fwmask = 0xffffffff;
	if (t.tb[FRA_SRC]) {
		if (get_prefix(t.tb[FRA_SRC], r->family, frh->src_len, &r->src) < 0)
			return -EINVAL;
	} else if (frh->src_len) {
		return -EINVAL;
	}
	if (t.tb[FRA_SUPPRESS_PREFIXLEN]) {
		if (get_u32(t.tb[FRA_SUPPRESS_PREFIXLEN], &v) < 0)
			return -EINVAL;
		if (v < UL_NO_SUPPRESS)
			r->suppress_prefixlen = (uint8_t)v;
		else if (v != 0xffffffff)
			foreign = true;
	}
	/* validated, whatever its value: rules of other protocols in the range are ours too */
	if (t.tb[FRA_PROTOCOL] && get_u8(t.tb[FRA_PROTOCOL], &proto) < 0)
		return -EINVAL;
	if (foreign)
		r->table = 0;
	return 1;
}

/* ---- events ------------------------------------------------------------------------------ */

static int parse_link(const struct nlmsghdr *nlh, struct ul_kev *ev)
{
	const struct ifinfomsg *ifi;
	struct attr_tb t;

	if (collect(nlh, sizeof(*ifi), &t) < 0)
		return -EINVAL;
	ifi = mnl_nlmsg_get_payload(nlh);
	ev->type = nlh->nlmsg_type == RTM_NEWLINK ? UL_KEV_LINK : UL_KEV_LINK_DEL;
	ev->ifindex = ifi->ifi_index;
	ev->flags = ifi->ifi_flags;
	if (t.tb[IFLA_IFNAME]) {
		const struct nlattr *a = t.tb[IFLA_IFNAME];

		if (mnl_attr_validate(a, MNL_TYPE_NUL_STRING) < 0 ||
		    mnl_attr_get_payload_len(a) > IFNAMSIZ)
			return -EINVAL;
		memcpy(ev->ifname, mnl_attr_get_str(a), mnl_attr_get_payload_len(a));
	}
	return ifi->ifi_index > 0 ? 1 : -EINVAL;
}

static int parse_addr(const struct nlmsghdr *nlh, struct ul_kev *ev)
{
	const struct ifaddrmsg *ifa;
	const struct nlattr *a;
	struct attr_tb t;

	if (collect(nlh, sizeof(*ifa), &t) < 0)
		return -EINVAL;
	ifa = mnl_nlmsg_get_payload(nlh);
	if (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6)
		return 0;
	ev->type = nlh->nlmsg_type == RTM_NEWADDR ? UL_KEV_ADDR : UL_KEV_ADDR_DEL;
	ev->ifindex = (int)ifa->ifa_index;
	ev->scope = ifa->ifa_scope;
	ev->addr_flags = ifa->ifa_flags;
	if (t.tb[IFA_FLAGS] && get_u32(t.tb[IFA_FLAGS], &ev->addr_flags) < 0)
		return -EINVAL;
	ev->addr_usable = ifa->ifa_family != AF_INET6 ||
			  (ifa->ifa_scope == RT_SCOPE_UNIVERSE &&
			   !(ev->addr_flags & (IFA_F_TENTATIVE | IFA_F_DADFAILED | IFA_F_DEPRECATED)));
	a = t.tb[IFA_LOCAL] ? t.tb[IFA_LOCAL] : t.tb[IFA_ADDRESS];
	if (!a || get_prefix(a, ifa->ifa_family, ifa->ifa_prefixlen, &ev->addr) < 0)
		return -EINVAL;
	return ifa->ifa_index > 0 ? 1 : -EINVAL;
}

static int parse_kroute(const struct nlmsghdr *nlh, struct ul_kev *ev)
{
	const struct rtmsg *rtm;
	struct attr_tb t;
	uint32_t table, oif = 0;

	if (collect(nlh, sizeof(*rtm), &t) < 0)
		return -EINVAL;
	rtm = mnl_nlmsg_get_payload(nlh);
	if (rtm->rtm_family != AF_INET && rtm->rtm_family != AF_INET6)
		return 0;
	table = rtm->rtm_table;
	if (t.tb[RTA_TABLE] && get_u32(t.tb[RTA_TABLE], &table) < 0)
		return -EINVAL;
	if (rtm->rtm_flags & RTM_F_CLONED)
		return 0;
	if (table != RT_TABLE_MAIN) {
		/* uplinkd's link and balance tables are among these: watched for changes */
		if (table == RT_TABLE_LOCAL)
			return 0;
		ev->type = UL_KEV_TROUTE;
		ev->table = table;
		ev->deleted = nlh->nlmsg_type == RTM_DELROUTE;
		return get_prefix(t.tb[RTA_DST], rtm->rtm_family, rtm->rtm_dst_len,
				  &ev->addr) < 0 ? -EINVAL : 1;
	}
	if (rtm->rtm_type != RTN_UNICAST)
		return 0;
	ev->type = nlh->nlmsg_type == RTM_NEWROUTE ? UL_KEV_ROUTE : UL_KEV_ROUTE_DEL;
	ev->table = table;
	ev->proto = rtm->rtm_protocol;
	if (get_prefix(t.tb[RTA_DST], rtm->rtm_family, rtm->rtm_dst_len, &ev->addr) < 0)
		return -EINVAL;
	if (t.tb[RTA_PRIORITY] && get_u32(t.tb[RTA_PRIORITY], &ev->metric) < 0)
		return -EINVAL;
	if (t.tb[RTA_OIF] && get_u32(t.tb[RTA_OIF], &oif) < 0)
		return -EINVAL;
	ev->ifindex = (int)oif;
	if (t.tb[RTA_GATEWAY]) {
		if (get_addr(t.tb[RTA_GATEWAY], rtm->rtm_family, &ev->gw) < 0)
			return -EINVAL;
		ev->has_gw = true;
	}
	if (t.tb[RTA_MULTIPATH]) {
		struct ul_nexthop first;
		int n = parse_multipath(t.tb[RTA_MULTIPATH], rtm->rtm_family, &first, 1);

		if (n < 0)
			return -EINVAL;
		if (n > 0) {
			if (!ev->ifindex)
				ev->ifindex = first.ifindex;
			if (!ev->has_gw && first.has_gw) {
				ev->gw = first.gw;
				ev->has_gw = true;
			}
		}
	}
	return 1;
}

/* An ip rule (either family) added or removed: its priority (uplinkd owns a range). */
static int parse_krule(const struct nlmsghdr *nlh, struct ul_kev *ev)
{
	const struct fib_rule_hdr *frh;
	struct attr_tb t;

	if (collect(nlh, sizeof(*frh), &t) < 0)
		return -EINVAL;
	frh = mnl_nlmsg_get_payload(nlh);
	if (frh->family != AF_INET && frh->family != AF_INET6)
		return 0;
	ev->type = UL_KEV_RULE;
	ev->deleted = nlh->nlmsg_type == RTM_DELRULE;
	if (t.tb[FRA_PRIORITY] && get_u32(t.tb[FRA_PRIORITY], &ev->metric) < 0)
		return -EINVAL;
	return 1;
}

/* IPv4 settings of an interface changed (forwarding, rp_filter...): which one. */
static int parse_knetconf(const struct nlmsghdr *nlh, struct ul_kev *ev)
{
	const struct netconfmsg *ncm;
	struct attr_tb t;
	uint32_t ifindex = 0;

	if (collect(nlh, sizeof(*ncm), &t) < 0)
		return -EINVAL;
	ncm = mnl_nlmsg_get_payload(nlh);
	if (ncm->ncm_family != AF_INET)
		return 0;
	if (t.tb[NETCONFA_IFINDEX] && get_u32(t.tb[NETCONFA_IFINDEX], &ifindex) < 0)
		return -EINVAL;
	ev->type = UL_KEV_NETCONF;
	ev->ifindex = (int)ifindex;     /* NETCONFA_IFINDEX_ALL, _DEFAULT are negative */
	return 1;
}

int ul_kev_parse(const struct nlmsghdr *nlh, struct ul_kev *ev)
{
	memset(ev, 0, sizeof(*ev));
	if (nlh->nlmsg_len < MNL_NLMSG_HDRLEN)
		return -EINVAL;
	switch (nlh->nlmsg_type) {
	case RTM_NEWLINK:
	case RTM_DELLINK:
		return parse_link(nlh, ev);
	case RTM_NEWADDR:
	case RTM_DELADDR:
		return parse_addr(nlh, ev);
	case RTM_NEWROUTE:
	case RTM_DELROUTE:
		return parse_kroute(nlh, ev);
	case RTM_NEWRULE:
	case RTM_DELRULE:
		return parse_krule(nlh, ev);
	case RTM_NEWNETCONF:
		return parse_knetconf(nlh, ev);
	default:
		return 0;
	}
}

/* ---- sockets ----------------------------------------------------------------------------- */

void ul_rtnl_close(struct ul_rtnl *h)
{
	if (!h)
		return;
	if (h->cmd)
		mnl_socket_close(h->cmd);
	if (h->ev)
		mnl_socket_close(h->ev);
	free(h->cbuf);
	free(h->ebuf);
	free(h);
}

static const int watch_groups[] = { RTNLGRP_IPV4_RULE, RTNLGRP_IPV6_RULE, RTNLGRP_IPV4_NETCONF };

int ul_rtnl_open(struct ul_rtnl **out)
{
	struct timeval tv = { .tv_sec = RTNL_TIMEOUT_S };
	int one = 1, size = RTNL_EV_RCVBUF, err;
	struct ul_rtnl *h;

	*out = NULL;
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->cbuf = malloc(RTNL_BUF_SIZE);
	h->ebuf = malloc(RTNL_BUF_SIZE);
	if (!h->cbuf || !h->ebuf) {
		err = -ENOMEM;
		goto fail;
	}

	h->cmd = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!h->cmd || mnl_socket_bind(h->cmd, 0, MNL_SOCKET_AUTOPID) < 0) {
		err = -errno;
		ul_kerr("rtnetlink: command socket: %s", strerror(errno));
		goto fail;
	}
	h->portid = mnl_socket_get_portid(h->cmd);
	h->seq = (uint32_t)time(NULL);
	setsockopt(mnl_socket_get_fd(h->cmd), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	/* optional: shorter ACKs, the kernel's error text, kernel-side dump filters */
	mnl_socket_setsockopt(h->cmd, NETLINK_CAP_ACK, &one, sizeof(one));
	mnl_socket_setsockopt(h->cmd, NETLINK_EXT_ACK, &one, sizeof(one));
	h->strict = mnl_socket_setsockopt(h->cmd, NETLINK_GET_STRICT_CHK, &one, sizeof(one)) == 0;

	h->ev = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (!h->ev) {
		err = -errno;
		ul_kerr("rtnetlink: event socket: %s", strerror(errno));
		goto fail;
	}
	if (setsockopt(mnl_socket_get_fd(h->ev), SOL_SOCKET, SO_RCVBUFFORCE, &size,
		       sizeof(size)) < 0 &&
	    setsockopt(mnl_socket_get_fd(h->ev), SOL_SOCKET, SO_RCVBUF, &size, sizeof(size)) < 0)
		ul_kwarn("rtnetlink: cannot enlarge the event socket buffer: %s", strerror(errno));
	if (mnl_socket_bind(h->ev, RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV4_ROUTE |
			    RTMGRP_IPV6_IFADDR | RTMGRP_IPV6_ROUTE, MNL_SOCKET_AUTOPID) < 0) {
		err = -errno;
		ul_kerr("rtnetlink: event socket bind: %s", strerror(errno));
		goto fail;
	}
	/* uplinkd's ip rules and the sysctls it sets are watched for changes by others */
	for (size_t i = 0; i < sizeof(watch_groups) / sizeof(watch_groups[0]); i++) {
		int group = watch_groups[i];

		if (mnl_socket_setsockopt(h->ev, NETLINK_ADD_MEMBERSHIP, &group, sizeof(group)) < 0)
			ul_kwarn("rtnetlink: cannot follow group %d: %s", group, strerror(errno));
	}
	*out = h;
	return 0;
fail:
	ul_rtnl_close(h);
	return err;
}

int ul_rtnl_event_fd(const struct ul_rtnl *h)
{
	return mnl_socket_get_fd(h->ev);
}

/* The answer to a request: returns the error of NLMSG_ERROR (0 for an ACK), or 0 after
 * NLMSG_DONE, or -EINTR when the dump was interrupted (inconsistent), or -errno. Data
 * messages go to cb; a cb returning < 0 aborts (after the rest is drained). */
typedef int (*msg_cb)(const struct nlmsghdr *nlh, void *data);

static void log_extack(const struct nlmsghdr *nlh, int err)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	size_t off = sizeof(*e);
	struct attr_tb t;

	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED)) {
		if (nlh->nlmsg_len < MNL_NLMSG_HDRLEN + sizeof(*e) ||
		    e->msg.nlmsg_len < MNL_NLMSG_HDRLEN)
			return;
		off += MNL_ALIGN(e->msg.nlmsg_len) - MNL_NLMSG_HDRLEN;
	}
	if (collect(nlh, MNL_ALIGN(off), &t) < 0 || !t.tb[NLMSGERR_ATTR_MSG] ||
	    mnl_attr_validate(t.tb[NLMSGERR_ATTR_MSG], MNL_TYPE_NUL_STRING) < 0)
		return;
	/* the expected ones (gone already, there already) are the caller's to judge; the
	 * others go with the failure the caller reports (klog.h) */
	if (err == -ENOENT || err == -ESRCH || err == -EEXIST)
		ul_kdebug("rtnetlink: kernel says: %s", mnl_attr_get_str(t.tb[NLMSGERR_ATTR_MSG]));
	else
		ul_klog_ack(mnl_attr_get_str(t.tb[NLMSGERR_ATTR_MSG]));
}

static int talk(struct ul_rtnl *h, struct nlmsghdr *req, msg_cb cb, void *data)
{
	uint32_t seq = req->nlmsg_seq;
	bool intr = false, done = false;
	int cb_err = 0, err = 0;

	if (h->busy)
		return -EBUSY;
	if (mnl_socket_sendto(h->cmd, req, req->nlmsg_len) < 0)
		return -errno;
	h->busy = true;
	while (!done) {
		ssize_t n = mnl_socket_recvfrom(h->cmd, h->cbuf, RTNL_BUF_SIZE);
		const struct nlmsghdr *nlh = (const void *)h->cbuf;
		size_t len;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = errno == EAGAIN || errno == EWOULDBLOCK ? -ETIMEDOUT : -errno;
			/* ENOBUFS/ENOSPC lose part of the answer: no use reading on */
			break;
		}
		len = (size_t)n;
		for (; msg_ok(nlh, len); nlh = msg_next(nlh, &len)) {
			if (nlh->nlmsg_seq != seq || nlh->nlmsg_pid != h->portid)
				continue;       /* left over from an earlier, aborted request */
			if (nlh->nlmsg_flags & NLM_F_DUMP_INTR)
				intr = true;
			if (nlh->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);

				if (nlh->nlmsg_len < MNL_NLMSG_HDRLEN + sizeof(int)) {
					err = -EBADMSG;
				} else {
					err = e->error > 0 ? -e->error : e->error;
					if (err)
						log_extack(nlh, err);
				}
				done = true;
				break;
			}
			if (nlh->nlmsg_type == NLMSG_DONE) {
				if (nlh->nlmsg_len >= MNL_NLMSG_HDRLEN + sizeof(int)) {
					const int *e = mnl_nlmsg_get_payload(nlh);

					err = *e > 0 ? -*e : *e;
				}
				done = true;
				break;
			}
			if (nlh->nlmsg_type < NLMSG_MIN_TYPE)
				continue;
			if (cb && !cb_err)
				cb_err = cb(nlh, data);
		}
	}
	h->busy = false;
	if (!err && cb_err)
		err = cb_err;
	if (!err && intr)
		err = -EINTR;
	return err;
}

static struct nlmsghdr *dump_req(struct ul_rtnl *h, char *buf, uint16_t type, void **hdr,
				 size_t hdrlen)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = ++h->seq;
	*hdr = mnl_nlmsg_put_extra_header(nlh, hdrlen);
	return nlh;
}

/* ---- dump_all and events ----------------------------------------------------------------- */

struct kev_ctx {
	ul_kev_cb cb;
	void *data;
	uint32_t own;                   /* portid of the command socket (events only) */
};

static int kev_msg(const struct nlmsghdr *nlh, void *data)
{
	struct kev_ctx *k = data;
	struct ul_kev ev;
	int ret = ul_kev_parse(nlh, &ev);

	if (ret < 0) {
		ul_kwarn("rtnetlink: malformed message of type %u ignored", nlh->nlmsg_type);
	} else if (ret > 0) {
		/* the kernel puts the requester's portid in the notification of a change */
		ev.own = k->own && nlh->nlmsg_pid == k->own;
		k->cb(&ev, k->data);
	}
	return 0;
}

static int dump_one(struct ul_rtnl *h, uint16_t type, uint8_t family, struct kev_ctx *k)
{
	char buf[256] __attribute__((aligned(8)));
	int err = -EINTR;

	for (int tries = 0; tries < RTNL_DUMP_TRIES && err == -EINTR; tries++) {
		struct nlmsghdr *nlh;
		void *hdr;

		if (type == RTM_GETLINK) {
			struct ifinfomsg *ifi;

			nlh = dump_req(h, buf, type, &hdr, sizeof(*ifi));
			ifi = hdr;
			ifi->ifi_family = AF_UNSPEC;
		} else if (type == RTM_GETADDR) {
			struct ifaddrmsg *ifa;

			nlh = dump_req(h, buf, type, &hdr, sizeof(*ifa));
			ifa = hdr;
			ifa->ifa_family = family;
		} else {
			struct rtmsg *rtm;

			nlh = dump_req(h, buf, type, &hdr, sizeof(*rtm));
			rtm = hdr;
			rtm->rtm_family = family;
			if (h->strict) {
				rtm->rtm_table = RT_TABLE_MAIN;
				mnl_attr_put_u32(nlh, RTA_TABLE, RT_TABLE_MAIN);
			}
		}
		err = talk(h, nlh, kev_msg, k);
	}
	return err;
}

int ul_rtnl_dump_all(struct ul_rtnl *h, ul_kev_cb cb, void *data)
{
	static const uint16_t types[] = { RTM_GETLINK, RTM_GETADDR, RTM_GETROUTE, RTM_GETADDR,
					  RTM_GETROUTE };
	static const uint8_t families[] = { AF_UNSPEC, AF_INET, AF_INET, AF_INET6, AF_INET6 };
	struct kev_ctx k = { cb, data, 0 };

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		int err = dump_one(h, types[i], families[i], &k);

		if (err) {
			ul_kerr("rtnetlink: dump (type %u): %s", types[i], strerror(-err));
			return err;
		}
	}
	return 0;
}

/* After events were lost the caller reads everything anew: what is still queued is older
 * than that dump and would be replayed over it, so it goes unread (bounded). */
static void drain_events(struct ul_rtnl *h)
{
	for (int i = 0; i < 65536; i++) {
		ssize_t n = recv(mnl_socket_get_fd(h->ev), h->ebuf, RTNL_BUF_SIZE, MSG_DONTWAIT);

		if (n < 0 && errno != EINTR && errno != ENOBUFS)
			return;         /* EAGAIN: empty */
	}
}

int ul_rtnl_read_events(struct ul_rtnl *h, ul_kev_cb cb, void *data)
{
	struct kev_ctx k = { cb, data, h->portid };

	for (;;) {
		struct sockaddr_nl sa;
		struct iovec iov = { h->ebuf, RTNL_BUF_SIZE };
		struct msghdr msg = {
			.msg_name = &sa, .msg_namelen = sizeof(sa),
			.msg_iov = &iov, .msg_iovlen = 1,
		};
		ssize_t n = recvmsg(mnl_socket_get_fd(h->ev), &msg, 0);
		const struct nlmsghdr *nlh = (const void *)h->ebuf;
		size_t len;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			if (errno == ENOBUFS) {
				ul_kerr("rtnetlink: event queue overrun, events lost");
				drain_events(h);        /* changes errno */
				return -ENOBUFS;
			}
			return -errno;
		}
		if (msg.msg_flags & MSG_TRUNC) {
			ul_kerr("rtnetlink: truncated event datagram, events lost");
			drain_events(h);
			return -ENOBUFS;
		}
		if (msg.msg_namelen != sizeof(sa) || sa.nl_pid != 0)
			continue;               /* only the kernel speaks on these groups */
		len = (size_t)n;
		for (; msg_ok(nlh, len); nlh = msg_next(nlh, &len))
			if (nlh->nlmsg_type >= NLMSG_MIN_TYPE)
				kev_msg(nlh, &k);
	}
}

/* ---- uplinkd's routes and rules ---------------------------------------------------------- */

/* Room for one more element of sz bytes in *v (capacity *cap, n used), doubling from 16:
 * 0 or -ENOMEM. */
static int grow(void **v, size_t *cap, size_t n, size_t sz)
{
	size_t ncap = *cap ? 2 * *cap : 16;
	void *p;

	if (n < *cap)
		return 0;
	p = realloc(*v, ncap * sz);
	if (!p)
		return -ENOMEM;
	*v = p;
	*cap = ncap;
	return 0;
}

struct route_acc {
	const uint32_t *tables;
	size_t n_tables;
	struct ul_route *v;
	size_t n, cap;
};

static int route_msg(const struct nlmsghdr *nlh, void *data)
{
	struct route_acc *a = data;
	struct ul_route r;
	bool want = false;
	int ret = ul_rtnl_parse_route(nlh, &r);

	if (ret < 0) {
		ul_kwarn("rtnetlink: unparsable route in the dump ignored");
		return 0;
	}
	if (ret == 0)
		return 0;
	for (size_t i = 0; i < a->n_tables && !want; i++)
		want = a->tables[i] == r.table;
	if (!want)
		return 0;
	if (grow((void **)&a->v, &a->cap, a->n, sizeof(*a->v)))
		return -ENOMEM;
	a->v[a->n++] = r;
	return 0;
}

static int dump_routes_once(struct ul_rtnl *h, struct route_acc *a, uint8_t family)
{
	char buf[256] __attribute__((aligned(8)));
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;
	void *hdr;
	int err;

	if (!h->strict) {
		nlh = dump_req(h, buf, RTM_GETROUTE, &hdr, sizeof(*rtm));
		rtm = hdr;
		rtm->rtm_family = family;
		return talk(h, nlh, route_msg, a);
	}
	/* kernel-side filter: one table per dump; a table that does not exist is empty */
	for (size_t i = 0; i < a->n_tables; i++) {
		bool seen = false;

		for (size_t j = 0; j < i; j++)
			seen |= a->tables[j] == a->tables[i];
		if (seen)
			continue;
		nlh = dump_req(h, buf, RTM_GETROUTE, &hdr, sizeof(*rtm));
		rtm = hdr;
		rtm->rtm_family = family;
		rtm->rtm_table = a->tables[i] < 256 ? (uint8_t)a->tables[i] : RT_TABLE_UNSPEC;
		mnl_attr_put_u32(nlh, RTA_TABLE, a->tables[i]);
		err = talk(h, nlh, route_msg, a);
		if (err && err != -ENOENT)
			return err;
	}
	return 0;
}

int ul_rtnl_dump_routes(struct ul_rtnl *h, const uint32_t *tables, size_t n_tables,
			struct ul_route **out, size_t *n_out)
{
	struct route_acc a = { .tables = tables, .n_tables = n_tables };
	int err = -EINTR;

	*out = NULL;
	*n_out = 0;
	for (int tries = 0; tries < RTNL_DUMP_TRIES && err == -EINTR; tries++) {
		a.n = 0;
		err = dump_routes_once(h, &a, AF_INET);
		if (!err)
			err = dump_routes_once(h, &a, AF_INET6);
	}
	if (err) {
		ul_kerr("rtnetlink: route dump: %s", strerror(-err));
		free(a.v);
		return err;
	}
	*out = a.v;
	*n_out = a.n;
	return 0;
}

struct rule_acc {
	uint32_t lo, hi;
	struct ul_iprule *v;
	size_t n, cap;
};

static int rule_msg(const struct nlmsghdr *nlh, void *data)
{
	struct rule_acc *a = data;
	struct ul_iprule r;
	int ret = ul_rtnl_parse_rule(nlh, &r);

	if (ret < 0) {
		ul_kwarn("rtnetlink: unparsable rule in the dump ignored");
		return 0;
	}
	if (ret == 0 || r.prio < a->lo || r.prio > a->hi)
		return 0;
	if (grow((void **)&a->v, &a->cap, a->n, sizeof(*a->v)))
		return -ENOMEM;
	a->v[a->n++] = r;
	return 0;
}

int ul_rtnl_dump_rules(struct ul_rtnl *h, uint32_t lo, uint32_t hi, struct ul_iprule **out,
		       size_t *n_out)
{
	struct rule_acc a = { .lo = lo, .hi = hi };
	int err = -EINTR;

	*out = NULL;
	*n_out = 0;
	for (int tries = 0; tries < RTNL_DUMP_TRIES && err == -EINTR; tries++) {
		char buf[256] __attribute__((aligned(8)));
		struct fib_rule_hdr *frh;
		struct nlmsghdr *nlh;
		void *hdr;

		a.n = 0;
		for (int f = 0; f < 2 && (f == 0 || !err); f++) {
			nlh = dump_req(h, buf, RTM_GETRULE, &hdr, sizeof(*frh));
			frh = hdr;
			frh->family = f ? AF_INET6 : AF_INET;
			err = talk(h, nlh, rule_msg, &a);
		}
	}
	if (err) {
		ul_kerr("rtnetlink: rule dump: %s", strerror(-err));
		free(a.v);
		return err;
	}
	*out = a.v;
	*n_out = a.n;
	return 0;
}

static int write_route(struct ul_rtnl *h, const struct ul_route *r, uint16_t type,
		       uint16_t flags)
{
	char buf[RTNL_REQ_SIZE] __attribute__((aligned(8)));
	struct nlmsghdr *nlh = ul_rtnl_build_route(buf, r, type, flags | NLM_F_ACK, ++h->seq);

	if (!nlh)
		return -EINVAL;
	return talk(h, nlh, NULL, NULL);
}

static int write_rule(struct ul_rtnl *h, const struct ul_iprule *r, uint16_t type,
		      uint16_t flags)
{
	char buf[RTNL_REQ_SIZE] __attribute__((aligned(8)));
	struct nlmsghdr *nlh = ul_rtnl_build_rule(buf, r, type, flags | NLM_F_ACK, ++h->seq);

	if (!nlh)
		return -EINVAL;
	return talk(h, nlh, NULL, NULL);
}

static int ifname_msg(const struct nlmsghdr *nlh, void *data)
{
	struct ul_kev ev = { 0 };

	if (nlh->nlmsg_type == RTM_NEWLINK && parse_link(nlh, &ev) > 0 && ev.ifname[0])
		memcpy(data, ev.ifname, IFNAMSIZ);
	return 0;
}

int ul_rtnl_ifname(struct ul_rtnl *h, int ifindex, char name[IFNAMSIZ])
{
	char buf[256] __attribute__((aligned(8)));
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifi;
	char got[IFNAMSIZ] = "";
	int err;

	nlh->nlmsg_type = RTM_GETLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;   /* the ack ends the answer */
	nlh->nlmsg_seq = ++h->seq;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
	err = talk(h, nlh, ifname_msg, got);
	if (!err && !got[0])
		err = -ENODEV;
	if (!err)
		memcpy(name, got, IFNAMSIZ);
	return err;
}

int ul_rtnl_route_replace(struct ul_rtnl *h, const struct ul_route *r)
{
	return write_route(h, r, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE);
}

int ul_rtnl_route_del(struct ul_rtnl *h, const struct ul_route *r)
{
	return write_route(h, r, RTM_DELROUTE, 0);
}

int ul_rtnl_rule_add(struct ul_rtnl *h, const struct ul_iprule *r)
{
	return write_rule(h, r, RTM_NEWRULE, NLM_F_CREATE | NLM_F_EXCL);
}

int ul_rtnl_rule_del(struct ul_rtnl *h, const struct ul_iprule *r)
{
	return write_rule(h, r, RTM_DELRULE, 0);
}
