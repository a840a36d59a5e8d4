/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ctnetlink over libmnl: forget one link's connections. */
#ifndef UL_CT_H
#define UL_CT_H

#include <stdint.h>
#include <linux/netlink.h>

/* Build IPCTNL_MSG_CT_DELETE filtered by CTA_MARK/CTA_MARK_MASK (pure). */
struct nlmsghdr *ul_ct_build_flush(void *buf, int family, uint32_t mark, uint32_t mask,
				   uint32_t seq);
/* Delete every conntrack entry whose (mark & mask) == mark. 0 (also when none) or -errno. */
int ul_ct_flush_mark(int family, uint32_t mark, uint32_t mask);

#endif
