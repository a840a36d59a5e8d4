// SPDX-License-Identifier: GPL-2.0-or-later
/* Changes made to table inet uplinkd by others, from nftables events. Every object message
 * (table, chain, rule, set, object, flowtable) names its table in attribute 1; the
 * notification of a committed change carries the portid of the socket that sent the
 * transaction, so uplinkd's own transactions are told apart by the portid of its nft
 * socket. `nft flush ruleset`, `nft delete table inet uplinkd`, `nft flush chain ...` all
 * show as DEL* messages of the table's objects. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <libmnl/libmnl.h>

#include "klog.h"
#include "nft.h"
#include "nftwatch.h"

#define WATCH_BUF_SIZE 65536
#define WATCH_RCVBUF (8 * 1024 * 1024)  /* uplinkd's own large transactions fit */

struct ul_nft_watch {
	struct mnl_socket *nl;
	char *buf;
	bool muted;
	bool gen_ok;                    /* gen0 was read when muted */
	uint32_t gen0;                  /* the ruleset's generation then */
	unsigned long commits0;         /* the nft handle's commits then */
};

/* How serious a change is: the table gone beats a chain gone beats rules changed. */
enum { R_OTHER = 1, R_RULES, R_SET, R_CHAIN, R_TABLE };

/* Keep the more serious change: what it was, about which object ("table", "chain pre"...). */
static void note(struct ul_nft_change *ch, unsigned rank, const char *kind, const char *name,
		 const char *what)
{
	if (rank <= ch->rank)
		return;
	ch->rank = rank;
	if (!strcmp(kind, "table"))
		snprintf(ch->what, sizeof(ch->what), "table inet %s %s", UL_NFT_TABLE, what);
	else if (!strcmp(kind, "rules"))
		snprintf(ch->what, sizeof(ch->what), "rules of chain inet %s %s %s", UL_NFT_TABLE,
			 name, what);
	else
		snprintf(ch->what, sizeof(ch->what), "%s inet %s %s %s", kind, UL_NFT_TABLE, name,
			 what);
}

/* The string attribute of the given type, or NULL (missing); *bad when it is not a string
 * or the attributes run past the message (walked within nlmsg_len, unaligned: fuzzed). */
static const char *attr_str(const struct nlmsghdr *nlh, uint16_t type, int *bad)
{
	size_t off = MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(struct nfgenmsg));
	size_t left = nlh->nlmsg_len > off ? nlh->nlmsg_len - off : 0;
	const struct nlattr *a = (const void *)((const char *)nlh + off);

	while (left >= sizeof(*a)) {
		size_t step = MNL_ALIGN(a->nla_len);

		if (a->nla_len < sizeof(*a) || a->nla_len > left) {
			*bad = 1;
			return NULL;
		}
		if (mnl_attr_get_type(a) == type) {
			const char *v = mnl_attr_get_payload(a);
			size_t n = a->nla_len - sizeof(*a);

			if (!n || v[n - 1] != '\0') {
				*bad = 1;
				return NULL;
			}
			return v;
		}
		if (step >= left)
			break;
		left -= step;
		a = (const void *)((const char *)a + step);
	}
	return NULL;
}

/* Is name a set of rs whose elements uplinkd fills itself? */
static bool static_set(const struct ul_ruleset *rs, const char *name)
{
	const struct ul_set *s = rs && name ? ul_ruleset_find_set(rs, name) : NULL;

	return s && !s->dynamic;
}

int ul_nft_event_parse(const struct nlmsghdr *nlh, uint32_t own_portid,
		       const struct ul_ruleset *rs, struct ul_nft_change *ch)
{
	const struct nfgenmsg *nfg;
	const char *table, *name;
	uint16_t type;
	int bad = 0;

	if (nlh->nlmsg_len < MNL_NLMSG_HDRLEN + sizeof(*nfg))
		return -EINVAL;
	if (NFNL_SUBSYS_ID(nlh->nlmsg_type) != NFNL_SUBSYS_NFTABLES)
		return 0;
	type = NFNL_MSG_TYPE(nlh->nlmsg_type);
	nfg = mnl_nlmsg_get_payload(nlh);
	if (nfg->nfgen_family != NFPROTO_INET || (own_portid && nlh->nlmsg_pid == own_portid))
		return 0;
	switch (type) {
	case NFT_MSG_NEWTABLE: case NFT_MSG_DELTABLE:
	case NFT_MSG_NEWCHAIN: case NFT_MSG_DELCHAIN:
	case NFT_MSG_NEWRULE: case NFT_MSG_DELRULE:
	case NFT_MSG_NEWSET: case NFT_MSG_DELSET:
	case NFT_MSG_NEWSETELEM: case NFT_MSG_DELSETELEM:
	case NFT_MSG_DELOBJ:
	case NFT_MSG_NEWFLOWTABLE: case NFT_MSG_DELFLOWTABLE:
		break;
	default:
		/* a new object is also announced when its counter is reset; generations carry
		 * no table */
		return 0;
	}
	table = attr_str(nlh, 1, &bad);         /* NFTA_{TABLE_NAME,CHAIN_TABLE,...} */
	if (bad)
		return -EINVAL;
	if (!table || strcmp(table, UL_NFT_TABLE))
		return 0;
	switch (type) {
	case NFT_MSG_DELTABLE:
		note(ch, R_TABLE, "table", "", "removed");
		break;
	case NFT_MSG_NEWTABLE:
		note(ch, R_OTHER, "table", "", "changed");
		break;
	case NFT_MSG_DELCHAIN:
	case NFT_MSG_NEWCHAIN:
		name = attr_str(nlh, NFTA_CHAIN_NAME, &bad);
		note(ch, type == NFT_MSG_DELCHAIN ? R_CHAIN : R_OTHER, "chain", name ? name : "?",
		     type == NFT_MSG_DELCHAIN ? "removed" : "changed");
		break;
	case NFT_MSG_DELRULE:
	case NFT_MSG_NEWRULE:
		name = attr_str(nlh, NFTA_RULE_CHAIN, &bad);
		note(ch, R_RULES, "rules", name ? name : "?",
		     type == NFT_MSG_DELRULE ? "removed" : "changed");
		break;
	case NFT_MSG_NEWSETELEM:
	case NFT_MSG_DELSETELEM:
		/* the elements of dynamic sets are filled by others on purpose (dnsmasq's
		 * nftset, the datapath); those of static sets only by uplinkd */
		name = attr_str(nlh, NFTA_SET_ELEM_LIST_SET, &bad);
		if (bad || !static_set(rs, name))
			return bad ? -EINVAL : 0;
		note(ch, R_SET, "set", name, "elements changed");
		break;
	case NFT_MSG_DELSET:
	case NFT_MSG_NEWSET:
		name = attr_str(nlh, NFTA_SET_NAME, &bad);
		note(ch, R_SET, "set", name ? name : "?",
		     type == NFT_MSG_DELSET ? "removed" : "changed");
		break;
	default:
		name = attr_str(nlh, 2, &bad);  /* NFTA_OBJ_NAME, NFTA_FLOWTABLE_NAME */
		note(ch, R_OTHER, type == NFT_MSG_DELOBJ ? "object" : "flowtable",
		     name ? name : "?", type == NFT_MSG_NEWFLOWTABLE ? "changed" : "removed");
		break;
	}
	return bad ? -EINVAL : 1;
}

int ul_nft_watch_open(struct ul_nft_watch **out)
{
	struct ul_nft_watch *w = calloc(1, sizeof(*w));
	int group = NFNLGRP_NFTABLES, size = WATCH_RCVBUF, err;

	*out = NULL;
	if (!w)
		return -ENOMEM;
	w->buf = malloc(WATCH_BUF_SIZE);
	w->nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (!w->buf || !w->nl) {
		err = w->buf ? -errno : -ENOMEM;
		goto fail;
	}
	if (mnl_socket_bind(w->nl, 0, MNL_SOCKET_AUTOPID) < 0 ||
	    mnl_socket_setsockopt(w->nl, NETLINK_ADD_MEMBERSHIP, &group, sizeof(group)) < 0) {
		err = -errno;
		goto fail;
	}
	if (setsockopt(mnl_socket_get_fd(w->nl), SOL_SOCKET, SO_RCVBUFFORCE, &size,
		       sizeof(size)) < 0 &&
	    setsockopt(mnl_socket_get_fd(w->nl), SOL_SOCKET, SO_RCVBUF, &size, sizeof(size)) < 0)
		ul_kwarn("nft: cannot enlarge the event socket buffer: %s", strerror(errno));
	*out = w;
	return 0;
fail:
	ul_kerr("nft: event socket: %s", strerror(-err));
	ul_nft_watch_close(w);
	return err;
}

void ul_nft_watch_close(struct ul_nft_watch *w)
{
	if (!w)
		return;
	if (w->nl)
		mnl_socket_close(w->nl);
	free(w->buf);
	free(w);
}

int ul_nft_watch_fd(const struct ul_nft_watch *w)
{
	return mnl_socket_get_fd(w->nl);
}

int ul_nft_watch_read(struct ul_nft_watch *w, uint32_t own_portid, const struct ul_ruleset *rs,
		      struct ul_nft_change *ch)
{
	int changes = 0;

	for (;;) {
		struct sockaddr_nl sa;
		struct iovec iov = { w->buf, WATCH_BUF_SIZE };
		struct msghdr msg = {
			.msg_name = &sa, .msg_namelen = sizeof(sa),
			.msg_iov = &iov, .msg_iovlen = 1,
		};
		ssize_t n = recvmsg(mnl_socket_get_fd(w->nl), &msg, 0);
		const struct nlmsghdr *nlh = (const void *)w->buf;
		int len;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return changes;
			if (errno == ENOBUFS)
				ul_kwarn("nft: event queue overrun, events lost");
			return -errno;
		}
		if (msg.msg_flags & MSG_TRUNC) {
			ul_kwarn("nft: truncated event datagram, events lost");
			return -ENOBUFS;
		}
		if (msg.msg_namelen != sizeof(sa) || sa.nl_pid != 0)
			continue;               /* only the kernel speaks on this group */
		len = (int)n;
		for (; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
			int ret = ul_nft_event_parse(nlh, own_portid, rs, ch);

			if (ret < 0)
				ul_kwarn("nft: malformed event of type 0x%x ignored",
					 nlh->nlmsg_type);
			else
				changes += ret;
		}
	}
}

int ul_nft_check(struct ul_nft *h, const struct ul_ruleset *rs, struct ul_nft_change *ch)
{
	struct ul_nft_existing ex;
	int err = ul_nft_dump_existing(h, &ex), missing = 0;

	if (err)
		return err;
	if (!ex.table) {
		note(ch, R_TABLE, "table", "", "removed");
		missing = 1;
	}
	for (size_t i = 0; !missing && i < rs->n_chains; i++) {
		bool found = false;

		for (size_t j = 0; j < ex.n_chains && !found; j++)
			found = !strcmp(ex.chains[j], rs->chains[i].name);
		if (!found) {
			note(ch, R_CHAIN, "chain", rs->chains[i].name, "removed");
			missing = 1;
		}
	}
	for (size_t i = 0; !missing && i < rs->n_sets; i++) {
		bool found = false;

		for (size_t j = 0; j < ex.n_sets && !found; j++)
			found = !strcmp(ex.sets[j].name, rs->sets[i].name);
		if (!found) {
			note(ch, R_SET, "set", rs->sets[i].name, "removed");
			missing = 1;
		}
	}
	ul_nft_existing_free(&ex);
	return missing;
}

/* The group membership: while the socket is not a listener of NFNLGRP_NFTABLES the kernel
 * does not even build the notifications (nf_tables_setelem_notify and its kin test
 * nfnetlink_has_listeners first). */
static int membership(struct ul_nft_watch *w, bool join)
{
	int group = NFNLGRP_NFTABLES;

	if (mnl_socket_setsockopt(w->nl, join ? NETLINK_ADD_MEMBERSHIP : NETLINK_DROP_MEMBERSHIP,
				  &group, sizeof(group)) < 0)
		return -errno;
	return 0;
}

int ul_nft_watch_mute(struct ul_nft_watch *w, struct ul_nft *h)
{
	int err;

	if (!w || w->muted)
		return 0;
	/* the generation first: a change others commit after it and before the membership is
	 * dropped is both queued as an event and counted (said twice, never missed) */
	w->gen_ok = !ul_nft_genid(h, &w->gen0);
	w->commits0 = ul_nft_commits(h);
	err = membership(w, false);
	if (err) {
		ul_kwarn("nft: leaving the event group: %s", strerror(-err));
		return err;
	}
	w->muted = true;
	return 0;
}

int ul_nft_watch_unmute(struct ul_nft_watch *w, struct ul_nft *h)
{
	unsigned long own;
	uint32_t gen1;
	int err;

	if (!w || !w->muted)
		return 0;
	err = membership(w, true);
	if (err) {
		/* still deaf: try again at the next transaction, say events were lost */
		ul_kwarn("nft: joining the event group again: %s", strerror(-err));
		return 1;
	}
	w->muted = false;
	own = ul_nft_commits(h) - w->commits0;
	if (!w->gen_ok || ul_nft_genid(h, &gen1))
		return 1;
	/* only uplinkd's own transactions, one generation each, in between */
	return (uint32_t)(gen1 - w->gen0) == (uint32_t)own ? 0 : 1;
}
