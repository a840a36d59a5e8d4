// SPDX-License-Identifier: GPL-2.0-or-later
/* rtnetlink messages: build -> parse round trips, the bytes that matter, kernel-style
 * messages parsed into events, and malformed input rejected. Pure: no sockets. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <linux/fib_rules.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/netconf.h>
#include <linux/rtnetlink.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <net/if.h>
#include <libmnl/libmnl.h>
#include <cmocka.h>

#include "ct.h"
#include "rtnl.h"
#include "tk.h"

#ifndef IFF_LOWER_UP
#define IFF_LOWER_UP 0x10000
#endif

static char buf[8192] __attribute__((aligned(8)));

/* Find a top-level attribute after a fixed header. */
static const struct nlattr *find_attr(const struct nlmsghdr *nlh, size_t hdrlen, uint16_t type)
{
	const struct nlattr *a;

	mnl_attr_for_each(a, nlh, hdrlen)
		if (mnl_attr_get_type(a) == type)
			return a;
	return NULL;
}

static void roundtrip_route(const struct ul_route *r)
{
	struct nlmsghdr *nlh;
	struct ul_route back;

	nlh = ul_rtnl_build_route(buf, r, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE | NLM_F_ACK,
				  7);
	assert_non_null(nlh);
	assert_int_equal(nlh->nlmsg_seq, 7);
	assert_int_equal(nlh->nlmsg_flags,
			 NLM_F_REQUEST | NLM_F_CREATE | NLM_F_REPLACE | NLM_F_ACK);
	assert_int_equal(ul_rtnl_parse_route(nlh, &back), 1);
	assert_true(ul_route_eq(r, &back));
	assert_string_equal(back.nh[0].ifname, "");
}

static void test_route_single(void **state)
{
	struct ul_route r = tk_route(201, "0.0.0.0/0");
	const struct rtmsg *rtm;
	struct nlmsghdr *nlh;

	tk_nh(&r, "192.168.0.1", 3, 1);
	roundtrip_route(&r);
	nlh = ul_rtnl_build_route(buf, &r, RTM_NEWROUTE, NLM_F_CREATE, 1);
	rtm = mnl_nlmsg_get_payload(nlh);
	assert_int_equal(rtm->rtm_table, 201);
	assert_int_equal(rtm->rtm_protocol, UL_RULE_PROTO);
	assert_int_equal(rtm->rtm_type, RTN_UNICAST);
	assert_int_equal(rtm->rtm_scope, RT_SCOPE_UNIVERSE);
	assert_int_equal(rtm->rtm_dst_len, 0);
	assert_null(find_attr(nlh, sizeof(*rtm), RTA_DST));
	assert_null(find_attr(nlh, sizeof(*rtm), RTA_MULTIPATH));
	assert_int_equal(mnl_attr_get_u32(find_attr(nlh, sizeof(*rtm), RTA_OIF)), 3);
	assert_int_equal(mnl_attr_get_u32(find_attr(nlh, sizeof(*rtm), RTA_TABLE)), 201);
}

static void test_route_multipath(void **state)
{
	struct ul_route r = tk_route(250, "0.0.0.0/0"), back;
	const struct rtnexthop *rtnh;
	const struct nlattr *mp;
	const struct rtmsg *rtm;
	struct nlmsghdr *nlh;
	const uint8_t hops[] = { 29, 69, 255 };
	size_t off = 0, i = 0;

	tk_nh(&r, "192.168.0.1", 3, 30);
	tk_nh(&r, "192.168.1.1", 4, 70);
	tk_nh(&r, "192.168.2.1", 5, 256);
	roundtrip_route(&r);

	nlh = ul_rtnl_build_route(buf, &r, RTM_NEWROUTE, NLM_F_CREATE, 1);
	rtm = mnl_nlmsg_get_payload(nlh);
	assert_int_equal(rtm->rtm_scope, RT_SCOPE_UNIVERSE);
	assert_null(find_attr(nlh, sizeof(*rtm), RTA_OIF));
	assert_null(find_attr(nlh, sizeof(*rtm), RTA_GATEWAY));
	mp = find_attr(nlh, sizeof(*rtm), RTA_MULTIPATH);
	assert_non_null(mp);
	while (off < mnl_attr_get_payload_len(mp)) {
		rtnh = (const void *)((const char *)mnl_attr_get_payload(mp) + off);
		assert_int_equal(rtnh->rtnh_hops, hops[i]);
		assert_int_equal(rtnh->rtnh_ifindex, 3 + (int)i);
		assert_int_equal(rtnh->rtnh_len, 16);  /* header + RTA_GATEWAY */
		off += RTNH_ALIGN(rtnh->rtnh_len);
		i++;
	}
	assert_int_equal(i, 3);

	/* weights come back from rtnh_hops + 1 */
	assert_int_equal(ul_rtnl_parse_route(nlh, &back), 1);
	assert_int_equal(back.n_nh, 3);
	assert_int_equal(back.nh[0].weight, 30);
	assert_int_equal(back.nh[1].weight, 70);
	assert_int_equal(back.nh[2].weight, 256);
	assert_true(ul_addr_eq(&back.nh[2].gw, &r.nh[2].gw));

	/* a delete names the first nexthop only and matches any protocol and scope */
	nlh = ul_rtnl_build_route(buf, &r, RTM_DELROUTE, NLM_F_ACK, 2);
	rtm = mnl_nlmsg_get_payload(nlh);
	assert_int_equal(nlh->nlmsg_type, RTM_DELROUTE);
	assert_int_equal(rtm->rtm_protocol, RTPROT_UNSPEC);
	assert_int_equal(rtm->rtm_scope, RT_SCOPE_NOWHERE);
	assert_null(find_attr(nlh, sizeof(*rtm), RTA_MULTIPATH));
	assert_int_equal(mnl_attr_get_u32(find_attr(nlh, sizeof(*rtm), RTA_OIF)), 3);
	assert_memory_equal(mnl_attr_get_payload(find_attr(nlh, sizeof(*rtm), RTA_GATEWAY)),
			    r.nh[0].gw.bytes, 4);
}

static void test_route_p2p(void **state)
{
	struct ul_route r = tk_route(202, "0.0.0.0/0");
	const struct rtmsg *rtm;
	struct nlmsghdr *nlh;

	tk_nh(&r, NULL, 9, 1);
	roundtrip_route(&r);
	nlh = ul_rtnl_build_route(buf, &r, RTM_NEWROUTE, 0, 1);
	rtm = mnl_nlmsg_get_payload(nlh);
	assert_int_equal(rtm->rtm_scope, RT_SCOPE_LINK);
	assert_null(find_attr(nlh, sizeof(*rtm), RTA_GATEWAY));
}

static void test_route_big_table_and_prefix(void **state)
{
	struct ul_route r = tk_route(1000, "10.1.0.0/16"), back;
	const struct rtmsg *rtm;
	struct nlmsghdr *nlh;

	tk_nh(&r, "10.0.0.1", 2, 1);
	roundtrip_route(&r);
	nlh = ul_rtnl_build_route(buf, &r, RTM_NEWROUTE, 0, 1);
	rtm = mnl_nlmsg_get_payload(nlh);
	assert_int_equal(rtm->rtm_table, RT_TABLE_UNSPEC);
	assert_int_equal(rtm->rtm_dst_len, 16);
	assert_int_equal(mnl_attr_get_u32(find_attr(nlh, sizeof(*rtm), RTA_TABLE)), 1000);
	assert_int_equal(ul_rtnl_parse_route(nlh, &back), 1);
	assert_int_equal(back.table, 1000);
	assert_int_equal(back.dst.plen, 16);
}

static void test_route_bad_build(void **state)
{
	struct ul_route r = tk_route(250, "0.0.0.0/0");

	tk_nh(&r, "2001:db8::1", 3, 1);       /* gateway of another family */
	assert_null(ul_rtnl_build_route(buf, &r, RTM_NEWROUTE, 0, 1));
	r.family = 0;
	assert_null(ul_rtnl_build_route(buf, &r, RTM_NEWROUTE, 0, 1));
}

/* A message of the kernel's in buf: its header (*nlh) and its family header, zeroed. */
static void *kmsg(uint16_t type, size_t hdrlen, struct nlmsghdr **nlh)
{
	*nlh = mnl_nlmsg_put_header(buf);
	(*nlh)->nlmsg_type = type;
	return mnl_nlmsg_put_extra_header(*nlh, hdrlen);
}

/* A route as the kernel dumps it. */
static struct nlmsghdr *kroute(uint16_t type, uint8_t family, uint8_t table, uint8_t rtype,
			       uint32_t flags, uint8_t dst_len)
{
	struct nlmsghdr *nlh;
	struct rtmsg *rtm = kmsg(type, sizeof(*rtm), &nlh);

	rtm->rtm_family = family;
	rtm->rtm_table = table;
	rtm->rtm_type = rtype;
	rtm->rtm_flags = flags;
	rtm->rtm_dst_len = dst_len;
	rtm->rtm_protocol = RTPROT_BOOT;
	return nlh;
}

/* A route with a multipath attribute of one bare nexthop that claims rtnh_len bytes. */
static struct nlmsghdr *kroute_one_nh(uint8_t table, unsigned short rtnh_len,
				      struct rtnexthop **rtnh)
{
	struct nlmsghdr *nlh = kroute(RTM_NEWROUTE, AF_INET, table, RTN_UNICAST, 0, 0);
	struct nlattr *nest = mnl_attr_nest_start(nlh, RTA_MULTIPATH);

	*rtnh = mnl_nlmsg_get_payload_tail(nlh);
	memset(*rtnh, 0, sizeof(**rtnh));
	(*rtnh)->rtnh_len = rtnh_len;
	nlh->nlmsg_len += sizeof(**rtnh);
	mnl_attr_nest_end(nlh, nest);
	return nlh;
}

static void test_route_parse_filters(void **state)
{
	struct nlmsghdr *nlh;
	struct ul_route r;
	uint32_t gw = htonl(0xc0a80001);

	nlh = kroute(RTM_NEWROUTE, AF_INET, 250, RTN_UNICAST, 0, 0);
	mnl_attr_put_u32(nlh, RTA_TABLE, 250);
	mnl_attr_put(nlh, RTA_GATEWAY, 4, &gw);
	mnl_attr_put_u32(nlh, RTA_OIF, 4);
	assert_int_equal(ul_rtnl_parse_route(nlh, &r), 1);
	assert_int_equal(r.table, 250);
	assert_int_equal(r.n_nh, 1);
	assert_int_equal(r.nh[0].weight, 1);
	assert_true(r.nh[0].has_gw);

	/* RTA_TABLE overrides rtm_table */
	nlh = kroute(RTM_NEWROUTE, AF_INET, RT_TABLE_UNSPEC, RTN_UNICAST, 0, 0);
	mnl_attr_put_u32(nlh, RTA_TABLE, 4242);
	mnl_attr_put_u32(nlh, RTA_OIF, 4);
	assert_int_equal(ul_rtnl_parse_route(nlh, &r), 1);
	assert_int_equal(r.table, 4242);
	assert_false(r.nh[0].has_gw);

	/* of no interest */
	nlh = kroute(RTM_NEWROUTE, AF_INET, 250, RTN_UNICAST, RTM_F_CLONED, 0);
	assert_int_equal(ul_rtnl_parse_route(nlh, &r), 0);
	nlh = kroute(RTM_NEWROUTE, AF_INET, 250, RTN_BLACKHOLE, 0, 0);
	assert_int_equal(ul_rtnl_parse_route(nlh, &r), 0);
	nlh = kroute(RTM_NEWROUTE, AF_BRIDGE, 250, RTN_UNICAST, 0, 0);
	assert_int_equal(ul_rtnl_parse_route(nlh, &r), 0);
	nlh = kroute(RTM_NEWROUTE, AF_INET, 250, RTN_UNICAST, 0, 0);
	mnl_attr_put_u32(nlh, RTA_PRIORITY, 100);      /* not uplinkd's: it uses metric 0 */
	assert_int_equal(ul_rtnl_parse_route(nlh, &r), 0);
	nlh = kroute(RTM_NEWRULE, AF_INET, 250, RTN_UNICAST, 0, 0);
	assert_int_equal(ul_rtnl_parse_route(nlh, &r), 0);
}

static void test_route_parse_malformed(void **state)
{
	struct nlmsghdr *nlh;
	struct ul_route r;
	uint16_t shortgw = 1;
	struct rtnexthop *rtnh;

	/* header cut short */
	nlh = kroute(RTM_NEWROUTE, AF_INET, 250, RTN_UNICAST, 0, 0);
	nlh->nlmsg_len = MNL_NLMSG_HDRLEN + 4;
	assert_int_equal(ul_rtnl_parse_route(nlh, &r), -EINVAL);
	nlh->nlmsg_len = 8;
	assert_int_equal(ul_rtnl_parse_route(nlh, &r), -EINVAL);
	/* gateway of the wrong length */
	nlh = kroute(RTM_NEWROUTE, AF_INET, 250, RTN_UNICAST, 0, 0);
	mnl_attr_put(nlh, RTA_GATEWAY, 2, &shortgw);
	assert_int_equal(ul_rtnl_parse_route(nlh, &r), -EINVAL);
	/* RTA_TABLE of the wrong length */
	nlh = kroute(RTM_NEWROUTE, AF_INET, 250, RTN_UNICAST, 0, 0);
	mnl_attr_put_u16(nlh, RTA_TABLE, 250);
	assert_int_equal(ul_rtnl_parse_route(nlh, &r), -EINVAL);
	/* prefix longer than the address */
	nlh = kroute(RTM_NEWROUTE, AF_INET, 250, RTN_UNICAST, 0, 33);
	assert_int_equal(ul_rtnl_parse_route(nlh, &r), -EINVAL);
	/* a nexthop claiming more bytes than the attribute holds */
	nlh = kroute_one_nh(250, 64, &rtnh);
	assert_int_equal(ul_rtnl_parse_route(nlh, &r), -EINVAL);
	/* and one with a length below its own header */
	rtnh->rtnh_len = 4;
	assert_int_equal(ul_rtnl_parse_route(nlh, &r), -EINVAL);
}

static void test_route_too_many_nexthops(void **state)
{
	struct nlmsghdr *nlh = kroute(RTM_NEWROUTE, AF_INET, 250, RTN_UNICAST, 0, 0);
	struct nlattr *nest = mnl_attr_nest_start(nlh, RTA_MULTIPATH);
	struct ul_route r;

	for (int i = 0; i < UL_MAX_NEXTHOPS + 1; i++) {
		struct rtnexthop *rtnh = mnl_nlmsg_get_payload_tail(nlh);

		memset(rtnh, 0, sizeof(*rtnh));
		rtnh->rtnh_len = sizeof(*rtnh);
		rtnh->rtnh_ifindex = i + 1;
		nlh->nlmsg_len += sizeof(*rtnh);
	}
	mnl_attr_nest_end(nlh, nest);
	assert_int_equal(ul_rtnl_parse_route(nlh, &r), -EINVAL);
}

/* ---- rules ---- */

static struct nlmsghdr *roundtrip_rule(const struct ul_iprule *r)
{
	struct ul_iprule back;
	struct nlmsghdr *nlh;
	const struct fib_rule_hdr *frh;

	nlh = ul_rtnl_build_rule(buf, r, RTM_NEWRULE, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK, 9);
	assert_non_null(nlh);
	assert_int_equal(nlh->nlmsg_flags,
			 NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK);
	frh = mnl_nlmsg_get_payload(nlh);
	assert_int_equal(frh->family, AF_INET);
	assert_int_equal(frh->action, FR_ACT_TO_TBL);
	assert_int_equal(frh->table, r->table < 256 ? r->table : RT_TABLE_UNSPEC);
	assert_int_equal(mnl_attr_get_u8(find_attr(nlh, sizeof(*frh), FRA_PROTOCOL)),
			 UL_RULE_PROTO);
	assert_int_equal(mnl_attr_get_u32(find_attr(nlh, sizeof(*frh), FRA_PRIORITY)),
			 r->prio);
	assert_int_equal(mnl_attr_get_u32(find_attr(nlh, sizeof(*frh), FRA_TABLE)), r->table);
	assert_int_equal(ul_rtnl_parse_rule(nlh, &back), 1);
	assert_true(ul_iprule_eq(r, &back));
	return nlh;
}

static void test_rule_suppress_main(void **state)
{
	struct ul_iprule r = tk_iprule(1000, RT_TABLE_MAIN);
	const struct fib_rule_hdr *frh;
	struct nlmsghdr *nlh;

	r.suppress_prefixlen = 0;
	nlh = roundtrip_rule(&r);
	frh = mnl_nlmsg_get_payload(nlh);
	assert_int_equal(mnl_attr_get_u32(find_attr(nlh, sizeof(*frh), FRA_SUPPRESS_PREFIXLEN)),
			 0);
	assert_null(find_attr(nlh, sizeof(*frh), FRA_FWMARK));
	assert_null(find_attr(nlh, sizeof(*frh), FRA_SRC));
}

static void test_rule_fwmark(void **state)
{
	struct ul_iprule r = tk_iprule(1001, 201);
	const struct fib_rule_hdr *frh;
	struct nlmsghdr *nlh;

	r.fwmark = 0x100;
	r.fwmask = 0xff00;
	nlh = roundtrip_rule(&r);
	frh = mnl_nlmsg_get_payload(nlh);
	assert_int_equal(mnl_attr_get_u32(find_attr(nlh, sizeof(*frh), FRA_FWMARK)), 0x100);
	assert_int_equal(mnl_attr_get_u32(find_attr(nlh, sizeof(*frh), FRA_FWMASK)), 0xff00);
	assert_null(find_attr(nlh, sizeof(*frh), FRA_SUPPRESS_PREFIXLEN));

	/* a zero mark under a mask ("unmarked") survives too */
	r.fwmark = 0;
	roundtrip_rule(&r);
}

static void test_rule_from_prefix(void **state)
{
	struct ul_iprule r = tk_iprule(1010, 202);
	const struct fib_rule_hdr *frh;
	struct nlmsghdr *nlh;

	r.src = tk_addr("10.0.1.0/24");
	nlh = roundtrip_rule(&r);
	frh = mnl_nlmsg_get_payload(nlh);
	assert_int_equal(frh->src_len, 24);
	assert_memory_equal(mnl_attr_get_payload(find_attr(nlh, sizeof(*frh), FRA_SRC)),
			    r.src.bytes, 4);
	r.src = tk_addr("10.0.1.7");
	roundtrip_rule(&r);
}

static void test_rule_big_table_and_delete(void **state)
{
	struct ul_iprule r = tk_iprule(1099, 1000);
	const struct fib_rule_hdr *frh;
	struct nlmsghdr *nlh;

	roundtrip_rule(&r);
	nlh = ul_rtnl_build_rule(buf, &r, RTM_DELRULE, NLM_F_ACK, 3);
	frh = mnl_nlmsg_get_payload(nlh);
	assert_int_equal(nlh->nlmsg_type, RTM_DELRULE);
	assert_int_equal(frh->action, FR_ACT_UNSPEC);
	assert_null(find_attr(nlh, sizeof(*frh), FRA_PROTOCOL));
	assert_int_equal(mnl_attr_get_u32(find_attr(nlh, sizeof(*frh), FRA_TABLE)), 1000);

	/* a delete of a foreign rule (table 0) matches any table */
	r.table = 0;
	nlh = ul_rtnl_build_rule(buf, &r, RTM_DELRULE, NLM_F_ACK, 3);
	assert_null(find_attr(nlh, sizeof(*frh), FRA_TABLE));
}

/* A rule as the kernel dumps it. */
static struct nlmsghdr *krule(uint8_t action, uint32_t prio, uint32_t table)
{
	struct nlmsghdr *nlh;
	struct fib_rule_hdr *frh = kmsg(RTM_NEWRULE, sizeof(*frh), &nlh);

	frh->family = AF_INET;
	frh->action = action;
	frh->table = table < 256 ? (uint8_t)table : 0;
	mnl_attr_put_u32(nlh, FRA_TABLE, table);
	mnl_attr_put_u32(nlh, FRA_SUPPRESS_PREFIXLEN, 0xffffffff);
	mnl_attr_put_u8(nlh, FRA_PROTOCOL, RTPROT_BOOT);
	mnl_attr_put_u32(nlh, FRA_PRIORITY, prio);
	return nlh;
}

static void test_rule_kernel_dump(void **state)
{
	struct ul_iprule r, want = tk_iprule(1050, 77);
	struct nlmsghdr *nlh;
	uint32_t dst = htonl(0x08080808);

	nlh = krule(FR_ACT_TO_TBL, 1050, 77);
	mnl_attr_put_u32(nlh, FRA_SUPPRESS_IFGROUP, 0xffffffff);
	assert_int_equal(ul_rtnl_parse_rule(nlh, &r), 1);
	assert_int_equal(r.suppress_prefixlen, UL_NO_SUPPRESS);
	assert_true(ul_iprule_eq(&r, &want));

	/* unreachable, or matching on a destination: kept, but never equal to a wanted rule */
	nlh = krule(FR_ACT_UNREACHABLE, 1050, 0);
	assert_int_equal(ul_rtnl_parse_rule(nlh, &r), 1);
	assert_int_equal(r.prio, 1050);
	assert_int_equal(r.table, 0);
	nlh = krule(FR_ACT_TO_TBL, 1050, 77);
	((struct fib_rule_hdr *)mnl_nlmsg_get_payload(nlh))->dst_len = 32;
	mnl_attr_put(nlh, FRA_DST, 4, &dst);
	assert_int_equal(ul_rtnl_parse_rule(nlh, &r), 1);
	assert_int_equal(r.table, 0);

	/* other families and types are of no interest */
	nlh = krule(FR_ACT_TO_TBL, 1050, 77);
	((struct fib_rule_hdr *)mnl_nlmsg_get_payload(nlh))->family = AF_BRIDGE;
	assert_int_equal(ul_rtnl_parse_rule(nlh, &r), 0);
	nlh = krule(FR_ACT_TO_TBL, 1050, 77);
	nlh->nlmsg_type = RTM_NEWROUTE;
	assert_int_equal(ul_rtnl_parse_rule(nlh, &r), 0);
}

static void test_rule_malformed(void **state)
{
	struct nlmsghdr *nlh;
	struct ul_iprule r;
	uint16_t v = 1;

	nlh = krule(FR_ACT_TO_TBL, 1050, 77);
	mnl_attr_put(nlh, FRA_PRIORITY, 2, &v);
	assert_int_equal(ul_rtnl_parse_rule(nlh, &r), -EINVAL);
	nlh = krule(FR_ACT_TO_TBL, 1050, 77);
	((struct fib_rule_hdr *)mnl_nlmsg_get_payload(nlh))->src_len = 24;     /* no FRA_SRC */
	assert_int_equal(ul_rtnl_parse_rule(nlh, &r), -EINVAL);
	nlh = krule(FR_ACT_TO_TBL, 1050, 77);
	mnl_attr_put_u32(nlh, FRA_PROTOCOL, 3);        /* u8 expected */
	assert_int_equal(ul_rtnl_parse_rule(nlh, &r), -EINVAL);
	nlh = krule(FR_ACT_TO_TBL, 1050, 77);
	nlh->nlmsg_len = MNL_NLMSG_HDRLEN + 6;
	assert_int_equal(ul_rtnl_parse_rule(nlh, &r), -EINVAL);
}

/* ---- events ---- */

static struct nlmsghdr *klink(uint16_t type, int ifindex, unsigned flags, const char *name)
{
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifi = kmsg(type, sizeof(*ifi), &nlh);

	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	ifi->ifi_flags = flags;
	mnl_attr_put_u32(nlh, IFLA_MTU, 1500);
	if (name)
		mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	return nlh;
}

static void test_kev_link(void **state)
{
	struct ul_kev ev;

	assert_int_equal(ul_kev_parse(klink(RTM_NEWLINK, 7, IFF_UP | IFF_LOWER_UP, "wan1"), &ev),
			 1);
	assert_int_equal(ev.type, UL_KEV_LINK);
	assert_int_equal(ev.ifindex, 7);
	assert_string_equal(ev.ifname, "wan1");
	assert_int_equal(ev.flags, IFF_UP | IFF_LOWER_UP);

	assert_int_equal(ul_kev_parse(klink(RTM_DELLINK, 7, 0, "wan1"), &ev), 1);
	assert_int_equal(ev.type, UL_KEV_LINK_DEL);
	assert_int_equal(ev.flags & IFF_UP, 0);

	/* 15 characters fit exactly */
	assert_int_equal(ul_kev_parse(klink(RTM_NEWLINK, 8, 0, "abcdefghijklmno"), &ev), 1);
	assert_string_equal(ev.ifname, "abcdefghijklmno");
}

static void test_kev_link_malformed(void **state)
{
	struct nlmsghdr *nlh;
	struct ul_kev ev;
	char name[4] = { 'w', 'a', 'n', '1' };

	/* name without its NUL */
	nlh = klink(RTM_NEWLINK, 7, 0, NULL);
	mnl_attr_put(nlh, IFLA_IFNAME, sizeof(name), name);
	assert_int_equal(ul_kev_parse(nlh, &ev), -EINVAL);
	/* name longer than IFNAMSIZ */
	assert_int_equal(ul_kev_parse(klink(RTM_NEWLINK, 7, 0, "abcdefghijklmnopq"), &ev),
			 -EINVAL);
	/* header cut short */
	nlh = klink(RTM_NEWLINK, 7, 0, "wan1");
	nlh->nlmsg_len = MNL_NLMSG_HDRLEN + 8;
	assert_int_equal(ul_kev_parse(nlh, &ev), -EINVAL);
	/* attribute running past the end of the message */
	nlh = klink(RTM_NEWLINK, 7, 0, "wan1");
	nlh->nlmsg_len -= 4;
	assert_int_equal(ul_kev_parse(nlh, &ev), -EINVAL);
	/* nlmsg_len below the netlink header */
	nlh->nlmsg_len = 4;
	assert_int_equal(ul_kev_parse(nlh, &ev), -EINVAL);
	/* no index */
	assert_int_equal(ul_kev_parse(klink(RTM_NEWLINK, 0, 0, "wan1"), &ev), -EINVAL);
}

static struct nlmsghdr *kaddr(uint16_t type, uint8_t family, int ifindex, uint8_t plen)
{
	struct nlmsghdr *nlh;
	struct ifaddrmsg *ifa = kmsg(type, sizeof(*ifa), &nlh);

	ifa->ifa_family = family;
	ifa->ifa_index = (uint32_t)ifindex;
	ifa->ifa_prefixlen = plen;
	return nlh;
}

static void test_kev_addr(void **state)
{
	struct ul_addr local = tk_addr("192.168.0.2"), peer = tk_addr("192.168.0.1"), v6 = tk_addr("2001:db8::5");
	struct nlmsghdr *nlh;
	struct ul_kev ev;
	char txt[UL_ADDR_STRLEN];

	nlh = kaddr(RTM_NEWADDR, AF_INET, 3, 24);
	mnl_attr_put(nlh, IFA_ADDRESS, 4, peer.bytes);
	mnl_attr_put(nlh, IFA_LOCAL, 4, local.bytes);
	mnl_attr_put_strz(nlh, IFA_LABEL, "wan1");
	assert_int_equal(ul_kev_parse(nlh, &ev), 1);
	assert_int_equal(ev.type, UL_KEV_ADDR);
	assert_int_equal(ev.ifindex, 3);
	assert_string_equal(ul_addr_format(&ev.addr, txt, sizeof(txt)), "192.168.0.2/24");

	nlh = kaddr(RTM_DELADDR, AF_INET, 3, 32);
	mnl_attr_put(nlh, IFA_ADDRESS, 4, peer.bytes);
	assert_int_equal(ul_kev_parse(nlh, &ev), 1);
	assert_int_equal(ev.type, UL_KEV_ADDR_DEL);
	assert_string_equal(ul_addr_format(&ev.addr, txt, sizeof(txt)), "192.168.0.1");

	nlh = kaddr(RTM_NEWADDR, AF_INET6, 3, 64);
	mnl_attr_put(nlh, IFA_ADDRESS, 16, v6.bytes);
	assert_int_equal(ul_kev_parse(nlh, &ev), 1);
	assert_int_equal(ev.addr.family, AF_INET6);
	assert_string_equal(ul_addr_format(&ev.addr, txt, sizeof(txt)), "2001:db8::5/64");

	nlh = kaddr(RTM_NEWADDR, AF_PACKET, 3, 24);
	assert_int_equal(ul_kev_parse(nlh, &ev), 0);

	/* malformed: no address, IPv6 bytes in an IPv4 message, prefix too long */
	nlh = kaddr(RTM_NEWADDR, AF_INET, 3, 24);
	assert_int_equal(ul_kev_parse(nlh, &ev), -EINVAL);
	nlh = kaddr(RTM_NEWADDR, AF_INET, 3, 24);
	mnl_attr_put(nlh, IFA_LOCAL, 16, v6.bytes);
	assert_int_equal(ul_kev_parse(nlh, &ev), -EINVAL);
	nlh = kaddr(RTM_NEWADDR, AF_INET, 3, 40);
	mnl_attr_put(nlh, IFA_LOCAL, 4, local.bytes);
	assert_int_equal(ul_kev_parse(nlh, &ev), -EINVAL);
}

static void test_kev_route(void **state)
{
	struct ul_addr gw = tk_addr("192.168.0.1"), gw2 = tk_addr("192.168.1.1"), dst = tk_addr("10.0.0.0");
	struct rtnexthop *rtnh;
	struct nlmsghdr *nlh;
	struct nlattr *nest;
	struct ul_kev ev;
	char txt[UL_ADDR_STRLEN];

	nlh = kroute(RTM_NEWROUTE, AF_INET, RT_TABLE_MAIN, RTN_UNICAST, 0, 0);
	mnl_attr_put_u32(nlh, RTA_TABLE, RT_TABLE_MAIN);
	mnl_attr_put_u32(nlh, RTA_PRIORITY, 100);
	mnl_attr_put(nlh, RTA_GATEWAY, 4, gw.bytes);
	mnl_attr_put_u32(nlh, RTA_OIF, 3);
	assert_int_equal(ul_kev_parse(nlh, &ev), 1);
	assert_int_equal(ev.type, UL_KEV_ROUTE);
	assert_int_equal(ev.ifindex, 3);
	assert_int_equal(ev.metric, 100);
	assert_int_equal(ev.table, RT_TABLE_MAIN);
	assert_int_equal(ev.addr.plen, 0);
	assert_true(ev.has_gw);
	assert_true(ul_addr_eq(&ev.gw, &gw));

	/* multipath: the first nexthop */
	nlh = kroute(RTM_DELROUTE, AF_INET, RT_TABLE_MAIN, RTN_UNICAST, 0, 8);
	mnl_attr_put(nlh, RTA_DST, 4, dst.bytes);
	nest = mnl_attr_nest_start(nlh, RTA_MULTIPATH);
	for (int i = 0; i < 2; i++) {
		rtnh = mnl_nlmsg_get_payload_tail(nlh);
		memset(rtnh, 0, sizeof(*rtnh));
		nlh->nlmsg_len += sizeof(*rtnh);
		rtnh->rtnh_ifindex = 5 + i;
		mnl_attr_put(nlh, RTA_GATEWAY, 4, i ? gw2.bytes : gw.bytes);
		rtnh->rtnh_len = (unsigned short)((char *)mnl_nlmsg_get_payload_tail(nlh) -
						  (char *)rtnh);
	}
	mnl_attr_nest_end(nlh, nest);
	assert_int_equal(ul_kev_parse(nlh, &ev), 1);
	assert_int_equal(ev.type, UL_KEV_ROUTE_DEL);
	assert_int_equal(ev.ifindex, 5);
	assert_true(ul_addr_eq(&ev.gw, &gw));
	assert_string_equal(ul_addr_format(&ev.addr, txt, sizeof(txt)), "10.0.0.0/8");

	/* other tables: a route there (uplinkd's tables are watched), RTA_TABLE wins */
	nlh = kroute(RTM_NEWROUTE, AF_INET, 201, RTN_UNICAST, 0, 0);
	assert_int_equal(ul_kev_parse(nlh, &ev), 1);
	assert_int_equal(ev.type, UL_KEV_TROUTE);
	assert_int_equal(ev.table, 201);
	assert_false(ev.deleted);
	nlh = kroute(RTM_DELROUTE, AF_INET, RT_TABLE_MAIN, RTN_UNICAST, 0, 0);
	mnl_attr_put_u32(nlh, RTA_TABLE, 1201);
	assert_int_equal(ul_kev_parse(nlh, &ev), 1);
	assert_int_equal(ev.type, UL_KEV_TROUTE);
	assert_int_equal(ev.table, 1201);
	assert_true(ev.deleted);
	nlh = kroute(RTM_NEWROUTE, AF_INET, 201, RTN_BLACKHOLE, 0, 8);
	mnl_attr_put(nlh, RTA_DST, 3, dst.bytes);
	assert_int_equal(ul_kev_parse(nlh, &ev), -EINVAL);
	/* IPv6 routes of other tables are watched as well (the link tables carry both) */
	nlh = kroute(RTM_NEWROUTE, AF_INET6, 201, RTN_UNICAST, 0, 0);
	assert_int_equal(ul_kev_parse(nlh, &ev), 1);
	assert_int_equal(ev.type, UL_KEV_TROUTE);
	assert_int_equal(ev.table, 201);
	/* the local table, other types and cloned routes: no interest */
	nlh = kroute(RTM_NEWROUTE, AF_INET, RT_TABLE_LOCAL, RTN_LOCAL, 0, 32);
	mnl_attr_put(nlh, RTA_DST, 4, dst.bytes);
	assert_int_equal(ul_kev_parse(nlh, &ev), 0);
	nlh = kroute(RTM_NEWROUTE, AF_INET, 201, RTN_UNICAST, RTM_F_CLONED, 0);
	assert_int_equal(ul_kev_parse(nlh, &ev), 0);
	nlh = kroute(RTM_NEWROUTE, AF_INET, RT_TABLE_MAIN, RTN_LOCAL, 0, 0);
	assert_int_equal(ul_kev_parse(nlh, &ev), 0);
	nlh = kroute(RTM_NEWROUTE, AF_INET, RT_TABLE_MAIN, RTN_UNICAST, RTM_F_CLONED, 0);
	assert_int_equal(ul_kev_parse(nlh, &ev), 0);
	nlh = kroute(RTM_NEWNEIGH, AF_INET, RT_TABLE_MAIN, RTN_UNICAST, 0, 0);
	assert_int_equal(ul_kev_parse(nlh, &ev), 0);

	/* malformed */
	nlh = kroute(RTM_NEWROUTE, AF_INET, RT_TABLE_MAIN, RTN_UNICAST, 0, 0);
	mnl_attr_put_u16(nlh, RTA_OIF, 3);
	assert_int_equal(ul_kev_parse(nlh, &ev), -EINVAL);
	nlh = kroute(RTM_NEWROUTE, AF_INET, RT_TABLE_MAIN, RTN_UNICAST, 0, 0);
	mnl_attr_put(nlh, RTA_DST, 3, dst.bytes);
	assert_int_equal(ul_kev_parse(nlh, &ev), -EINVAL);
	nlh = kroute_one_nh(RT_TABLE_MAIN, 200, &rtnh);
	assert_int_equal(ul_kev_parse(nlh, &ev), -EINVAL);
}

static void test_kev_rule_netconf(void **state)
{
	struct nlmsghdr *nlh;
	struct netconfmsg *ncm;
	struct fib_rule_hdr *frh;
	struct ul_kev ev;

	nlh = krule(FR_ACT_TO_TBL, 1010, 201);
	assert_int_equal(ul_kev_parse(nlh, &ev), 1);
	assert_int_equal(ev.type, UL_KEV_RULE);
	assert_int_equal(ev.metric, 1010);
	assert_false(ev.deleted);
	assert_false(ev.own);           /* only ul_rtnl_read_events knows whose it is */
	nlh = krule(FR_ACT_TO_TBL, 1099, 250);
	nlh->nlmsg_type = RTM_DELRULE;
	assert_int_equal(ul_kev_parse(nlh, &ev), 1);
	assert_true(ev.deleted);
	assert_int_equal(ev.metric, 1099);
	/* IPv6 rules are uplinkd's too (same priorities); a priority of the wrong size is
	 * malformed */
	nlh = krule(FR_ACT_TO_TBL, 1010, 201);
	frh = mnl_nlmsg_get_payload(nlh);
	frh->family = AF_INET6;
	assert_int_equal(ul_kev_parse(nlh, &ev), 1);
	assert_int_equal(ev.type, UL_KEV_RULE);
	assert_int_equal(ev.metric, 1010);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWRULE;
	frh = mnl_nlmsg_put_extra_header(nlh, sizeof(*frh));
	frh->family = AF_INET;
	mnl_attr_put_u16(nlh, FRA_PRIORITY, 7);
	assert_int_equal(ul_kev_parse(nlh, &ev), -EINVAL);

	/* netconf: which interface's settings changed */
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWNETCONF;
	ncm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ncm));
	ncm->ncm_family = AF_INET;
	mnl_attr_put_u32(nlh, NETCONFA_IFINDEX, 4);
	mnl_attr_put_u32(nlh, NETCONFA_RP_FILTER, 1);
	assert_int_equal(ul_kev_parse(nlh, &ev), 1);
	assert_int_equal(ev.type, UL_KEV_NETCONF);
	assert_int_equal(ev.ifindex, 4);
	ncm->ncm_family = AF_INET6;
	assert_int_equal(ul_kev_parse(nlh, &ev), 0);
}

/* ---- conntrack ---- */

static void test_ct_flush_bytes(void **state)
{
	static const uint8_t want[] = {
		/* nlmsghdr: len 36, type 0x0102, flags REQUEST|ACK, seq 5, pid 0 */
		36, 0, 0, 0, 0x02, 0x01, 0x05, 0x00, 5, 0, 0, 0, 0, 0, 0, 0,
		/* nfgenmsg: AF_INET, version 0, res_id 0 */
		AF_INET, 0, 0, 0,
		/* CTA_MARK 0x100, CTA_MARK_MASK 0xff00, big-endian */
		8, 0, CTA_MARK, 0, 0x00, 0x00, 0x01, 0x00,
		8, 0, CTA_MARK_MASK, 0, 0x00, 0x00, 0xff, 0x00,
	};
	struct nlmsghdr *nlh = ul_ct_build_flush(buf, AF_INET, 0x100, 0xff00, 5);

	assert_int_equal(nlh->nlmsg_type, (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_DELETE);
	assert_int_equal(nlh->nlmsg_len, sizeof(want));
	assert_memory_equal(nlh, want, sizeof(want));
}

/* Unmarked entries whose replies go to a link's address: a filtered flush. */
static void test_ct_flush_unmarked_bytes(void **state)
{
	static const uint8_t want[] = {
		/* nlmsghdr: len 72, type 0x0102 (ctnetlink delete), REQUEST|ACK, seq 9 */
		72, 0, 0, 0, 0x02, 0x01, 0x05, 0x00, 9, 0, 0, 0, 0, 0, 0, 0,
		AF_INET, 0, 0, 0,
		/* CTA_TUPLE_REPLY { CTA_TUPLE_IP { CTA_IP_V4_DST 192.168.1.2 } }, nested flag */
		16, 0, CTA_TUPLE_REPLY, 0x80,
		12, 0, CTA_TUPLE_IP, 0x80,
		8, 0, CTA_IP_V4_DST, 0, 192, 168, 1, 2,
		/* CTA_FILTER { ORIG_FLAGS 0, REPLY_FLAGS CTA_FILTER_F_CTA_IP_DST = 1 << 1 },
		 * host byte order (nla_get_u32) */
		20, 0, CTA_FILTER, 0x80,
		8, 0, CTA_FILTER_ORIG_FLAGS, 0, 0, 0, 0, 0,
		8, 0, CTA_FILTER_REPLY_FLAGS, 0, 0, 0, 0, 0,
		/* CTA_MARK 0 under CTA_MARK_MASK 0xff00, big-endian */
		8, 0, CTA_MARK, 0, 0, 0, 0, 0,
		8, 0, CTA_MARK_MASK, 0, 0x00, 0x00, 0xff, 0x00,
	};
	uint8_t w[sizeof(want)];
	uint32_t flags = 1u << 1;
	struct ul_addr a = tk_addr("192.168.1.2"), a6 = tk_addr("2001:db8::2"), none = { 0 };
	struct nlmsghdr *nlh;
	const struct nlattr *t;

	(void)state;
	memcpy(w, want, sizeof(w));
	memcpy(w + 56 - 4, &flags, 4);          /* REPLY_FLAGS value, native order */
	nlh = ul_ct_build_flush_unmarked(buf, &a, 0xff00, 9);
	assert_non_null(nlh);
	assert_int_equal(nlh->nlmsg_len, sizeof(w));
	assert_memory_equal(nlh, w, sizeof(w));

	/* IPv6: the family of the message and a 16-byte CTA_IP_V6_DST */
	nlh = ul_ct_build_flush_unmarked(buf, &a6, 0xff00, 9);
	assert_non_null(nlh);
	assert_int_equal(((const struct nfgenmsg *)mnl_nlmsg_get_payload(nlh))->nfgen_family,
			 AF_INET6);
	t = find_attr(nlh, sizeof(struct nfgenmsg), CTA_TUPLE_REPLY);
	assert_non_null(t);
	t = mnl_attr_get_payload(t);
	assert_int_equal(mnl_attr_get_type(t), CTA_TUPLE_IP);
	t = mnl_attr_get_payload(t);
	assert_int_equal(mnl_attr_get_type(t), CTA_IP_V6_DST);
	assert_int_equal(mnl_attr_get_payload_len(t), 16);
	assert_memory_equal(mnl_attr_get_payload(t), a6.bytes, 16);

	/* no address: nothing built */
	assert_null(ul_ct_build_flush_unmarked(buf, &none, 0xff00, 9));
	assert_null(ul_ct_build_flush_unmarked(buf, NULL, 0xff00, 9));
}

TK_MAIN(NULL, NULL, test_route_single, test_route_multipath, test_route_p2p,
	test_route_big_table_and_prefix, test_route_bad_build, test_route_parse_filters,
	test_route_parse_malformed, test_route_too_many_nexthops, test_rule_suppress_main,
	test_rule_fwmark, test_rule_from_prefix, test_rule_big_table_and_delete,
	test_rule_kernel_dump, test_rule_malformed, test_kev_link, test_kev_link_malformed,
	test_kev_addr, test_kev_route, test_kev_rule_netconf, test_ct_flush_bytes,
	test_ct_flush_unmarked_bytes)
