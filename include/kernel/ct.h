/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ctnetlink over libmnl: forget one link's connections. */
#ifndef UL_CT_H
#define UL_CT_H

#include <stdint.h>
#include <linux/netlink.h>

#include "addr.h"

/* Build IPCTNL_MSG_CT_DELETE filtered by CTA_MARK/CTA_MARK_MASK (pure). */
struct nlmsghdr *ul_ct_build_flush(void *buf, int family, uint32_t mark, uint32_t mask,
				   uint32_t seq);
/* Delete every conntrack entry whose (mark & mask) == mark. 0 (also when none) or -errno. */
int ul_ct_flush_mark(int family, uint32_t mark, uint32_t mask);
/* Build IPCTNL_MSG_CT_DELETE for every entry without any bit of mask in its mark whose
 * reply tuple is destined to reply_dst (host address; family from it): a filtered flush
 * (CTA_FILTER + CTA_TUPLE_REPLY, kernel 6.8+). NULL on a bad address. Pure. */
struct nlmsghdr *ul_ct_build_flush_unmarked(void *buf, const struct ul_addr *reply_dst,
					    uint32_t mask, uint32_t seq);
/* Delete those entries: the connections that predate uplinkd and were NATed to a link's
 * address. 0 (also when none), -EOPNOTSUPP on kernels without filtered flush, or -errno. */
int ul_ct_flush_unmarked_to(const struct ul_addr *reply_dst, uint32_t mask);

#endif
