// SPDX-License-Identifier: GPL-2.0-or-later
/* libFuzzer: the input is a stream of netlink messages, walked as a receive loop walks a
 * datagram (each length checked against what is left); every message goes
 * through the three rtnetlink parsers and the nftables event parser, which must answer 1, 0
 * or -EINVAL and never crash. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <libmnl/libmnl.h>

#include "klog.h"
#include "log.h"
#include "nftwatch.h"
#include "rtnl.h"

static void check(int ret)
{
	if (ret != 1 && ret != 0 && ret != -EINVAL)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct nlmsghdr *nlh;
	uint8_t *copy;
	size_t len;

	ul_log_set_level(LOG_ERR);
	ul_klog_set_level(LOG_ERR);
	if (size > 65536)
		return 0;
	/* an aligned heap copy of exactly size bytes: ASan sees any read past the end */
	copy = malloc(size ? size : 1);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	nlh = (const void *)copy;
	len = size;
	/* the walk of a receive loop (mnl_nlmsg_ok() casts nlmsg_len to int: not used) */
	while (len >= sizeof(*nlh) && nlh->nlmsg_len >= sizeof(*nlh) && nlh->nlmsg_len <= len) {
		size_t step = NLMSG_ALIGN(nlh->nlmsg_len);
		struct ul_iprule rule;
		struct ul_route route;
		struct ul_nft_change ch = { 0 };
		struct ul_kev ev;
		int ret;

		ret = ul_kev_parse(nlh, &ev);
		check(ret);
		/* a link name always stays terminated */
		if (ret == 1 && strnlen(ev.ifname, IFNAMSIZ) == IFNAMSIZ)
			abort();
		ret = ul_rtnl_parse_route(nlh, &route);
		check(ret);
		if (ret == 1 && route.n_nh > UL_MAX_NEXTHOPS)
			abort();
		check(ul_rtnl_parse_rule(nlh, &rule));
		/* and as an nftables event (a change of table inet uplinkd, or not) */
		ret = ul_nft_event_parse(nlh, 1, NULL, &ch);
		check(ret);
		if (strnlen(ch.what, sizeof(ch.what)) == sizeof(ch.what))
			abort();
		len = step < len ? len - step : 0;
		nlh = (const void *)((const char *)nlh + step);
	}
	free(copy);
	return 0;
}
