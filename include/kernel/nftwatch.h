/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Watching table inet uplinkd: nftables events (NFNLGRP_NFTABLES) tell of every change
 * committed to the ruleset, each carrying the portid of the socket whose transaction made
 * it; those of uplinkd's own socket, and the elements of dynamic sets (which other programs
 * fill, e.g. dnsmasq's nftset), are not changes made outside uplinkd. Negative errno. */
#ifndef UL_NFTWATCH_H
#define UL_NFTWATCH_H

#include <stdint.h>
#include <linux/netlink.h>

#include "ruleset.h"
#include "types.h"

struct ul_nft;

/* Parse one nftables event: 1 when it is a change of table inet uplinkd made by a socket
 * other than own_portid (ch describes it, keeping the more serious of the two), 0 when
 * not, -EINVAL when malformed. Element changes count only in the static sets of rs (the
 * ruleset applied; NULL: none). Pure. */
int ul_nft_event_parse(const struct nlmsghdr *nlh, uint32_t own_portid,
		       const struct ul_ruleset *rs, struct ul_nft_change *ch);

struct ul_nft_watch;
int ul_nft_watch_open(struct ul_nft_watch **out);
void ul_nft_watch_close(struct ul_nft_watch *w);
int ul_nft_watch_fd(const struct ul_nft_watch *w);
/* Read the pending events (non-blocking); returns how many were foreign changes of table
 * inet uplinkd (ch keeps the most serious), or -ENOBUFS when events were lost. */
int ul_nft_watch_read(struct ul_nft_watch *w, uint32_t own_portid, const struct ul_ruleset *rs,
		      struct ul_nft_change *ch);

/* uplinkd's own large transactions: a listener of the nftables group makes the kernel
 * build one notification per set element (the time of a 100,000-prefix commit doubles, and
 * the queue overruns anyway). ul_nft_watch_mute reads the ruleset's generation through h and
 * leaves the group; ul_nft_watch_unmute joins it again and reads the generation once more:
 * 0 when only h's own transactions were committed in between (nothing was missed), 1 when
 * others committed too, or the generation could not be read (their events were not
 * received: treat as lost events, see ul_nft_check). mute: 0 or -errno (not muted). */
int ul_nft_watch_mute(struct ul_nft_watch *w, struct ul_nft *h);
int ul_nft_watch_unmute(struct ul_nft_watch *w, struct ul_nft *h);

/* After lost events: does the kernel still have the table with every chain and set rs
 * wants? 0 yes, 1 no (ch says what is missing), -errno. */
int ul_nft_check(struct ul_nft *h, const struct ul_ruleset *rs, struct ul_nft_change *ch);

#endif
