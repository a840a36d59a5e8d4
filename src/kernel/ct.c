// SPDX-License-Identifier: GPL-2.0-or-later
/* ctnetlink over libmnl: delete the conntrack entries of one link (by connection mark), so
 * its connections start over on another link instead of leaving with a stale NAT source;
 * and the unmarked entries whose replies go to the link's address (connections that
 * predate uplinkd), so a new connection reusing such a NAT tuple is not lost. */
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <libmnl/libmnl.h>

#include "addr.h"
#include "ct.h"
#include "klog.h"

#define CT_TIMEOUT_S 5

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

struct nlmsghdr *ul_ct_build_flush(void *buf, int family, uint32_t mark, uint32_t mask,
				   uint32_t seq)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfgenmsg *nfg;

	nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_DELETE;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = seq;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = (uint8_t)family;
	nfg->version = NFNETLINK_V0;
	nfg->res_id = htons(0);
	mnl_attr_put_u32(nlh, CTA_MARK, htonl(mark));
	mnl_attr_put_u32(nlh, CTA_MARK_MASK, htonl(mask));
	return nlh;
}

/* CTA_FILTER_F_CTA_IP_DST of net/netfilter/nf_conntrack_netlink.c (not in the uapi
 * headers; bit 0 is the source, bit 1 the destination address, IPv4 and IPv6 alike). */
#define FILTER_IP_DST (1u << 1)

struct nlmsghdr *ul_ct_build_flush_unmarked(void *buf, const struct ul_addr *reply_dst,
					    uint32_t mask, uint32_t seq)
{
	struct nlmsghdr *nlh;
	struct nfgenmsg *nfg;
	struct nlattr *tuple, *ip, *filter;

	if (!buf || !reply_dst || (reply_dst->family != AF_INET && reply_dst->family != AF_INET6))
		return NULL;
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_DELETE;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = seq;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = reply_dst->family;
	nfg->version = NFNETLINK_V0;
	nfg->res_id = htons(0);
	/* the reply tuple with only the address set, and a filter saying only it counts:
	 * the kernel flushes every match instead of deleting one exact entry */
	tuple = mnl_attr_nest_start(nlh, CTA_TUPLE_REPLY);
	ip = mnl_attr_nest_start(nlh, CTA_TUPLE_IP);
	if (reply_dst->family == AF_INET)
		mnl_attr_put(nlh, CTA_IP_V4_DST, 4, reply_dst->bytes);
	else
		mnl_attr_put(nlh, CTA_IP_V6_DST, 16, reply_dst->bytes);
	mnl_attr_nest_end(nlh, ip);
	mnl_attr_nest_end(nlh, tuple);
	filter = mnl_attr_nest_start(nlh, CTA_FILTER);
	mnl_attr_put_u32(nlh, CTA_FILTER_ORIG_FLAGS, 0);
	mnl_attr_put_u32(nlh, CTA_FILTER_REPLY_FLAGS, FILTER_IP_DST);
	mnl_attr_nest_end(nlh, filter);
	/* unmarked: no bit of uplinkd's mask set */
	mnl_attr_put_u32(nlh, CTA_MARK, htonl(0));
	mnl_attr_put_u32(nlh, CTA_MARK_MASK, htonl(mask));
	return nlh;
}

/* The ACK of our request: 0, the kernel's error, or -errno. */
static int wait_ack(struct mnl_socket *nl, char *buf, size_t size, uint32_t seq,
		    uint32_t portid)
{
	for (;;) {
		ssize_t n = mnl_socket_recvfrom(nl, buf, size);
		const struct nlmsghdr *nlh = (const void *)buf;
		size_t len;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN || errno == EWOULDBLOCK ? -ETIMEDOUT : -errno;
		}
		len = (size_t)n;
		for (; msg_ok(nlh, len); nlh = msg_next(nlh, &len)) {
			const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);

			if (nlh->nlmsg_seq != seq || nlh->nlmsg_pid != portid ||
			    nlh->nlmsg_type != NLMSG_ERROR)
				continue;
			if (nlh->nlmsg_len < MNL_NLMSG_HDRLEN + sizeof(int))
				return -EBADMSG;
			return e->error > 0 ? -e->error : e->error;
		}
	}
}

/* Sends one request built into buf by build and waits for its ACK. */
static int ct_request(char *buf, size_t size, struct nlmsghdr *(*build)(void *, const void *,
									uint32_t),
		      const void *arg)
{
	struct timeval tv = { .tv_sec = CT_TIMEOUT_S };
	struct mnl_socket *nl;
	struct nlmsghdr *nlh;
	uint32_t seq = (uint32_t)time(NULL), portid;
	int err;

	nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
	if (!nl)
		return -errno;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		err = -errno;
		goto out;
	}
	portid = mnl_socket_get_portid(nl);
	setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	nlh = build(buf, arg, seq);
	if (!nlh) {
		err = -EINVAL;
		goto out;
	}
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		err = -errno;
		goto out;
	}
	err = wait_ack(nl, buf, size, seq, portid);
	if (err == -ENOENT)
		err = 0;                /* nothing matched */
out:
	mnl_socket_close(nl);
	return err;
}

struct mark_arg { int family; uint32_t mark, mask; };

static struct nlmsghdr *build_mark(void *buf, const void *arg, uint32_t seq)
{
	const struct mark_arg *a = arg;

	return ul_ct_build_flush(buf, a->family, a->mark, a->mask, seq);
}

int ul_ct_flush_mark(int family, uint32_t mark, uint32_t mask)
{
	char buf[8192] __attribute__((aligned(8)));
	struct mark_arg a = { family, mark, mask };
	int err = ct_request(buf, sizeof(buf), build_mark, &a);

	if (err)
		ul_kerr("conntrack: flush mark 0x%x/0x%x: %s", mark, mask, strerror(-err));
	else
		ul_kdebug("conntrack: flushed mark 0x%x/0x%x", mark, mask);
	return err;
}

struct unmarked_arg { const struct ul_addr *dst; uint32_t mask; };

static struct nlmsghdr *build_unmarked(void *buf, const void *arg, uint32_t seq)
{
	const struct unmarked_arg *a = arg;

	return ul_ct_build_flush_unmarked(buf, a->dst, a->mask, seq);
}

int ul_ct_flush_unmarked_to(const struct ul_addr *reply_dst, uint32_t mask)
{
	char buf[8192] __attribute__((aligned(8)));
	struct unmarked_arg a = { reply_dst, mask };
	char s[UL_ADDR_STRLEN] = "?";
	int err;

	if (reply_dst)
		ul_addr_format(reply_dst, s, sizeof(s));
	err = ct_request(buf, sizeof(buf), build_unmarked, &a);
	/* kernels before 6.8 refuse a filtered flush (CTA_FILTER) with EOPNOTSUPP */
	if (err && err != -EOPNOTSUPP)
		ul_kerr("conntrack: flush unmarked entries to %s: %s", s, strerror(-err));
	else if (!err)
		ul_kdebug("conntrack: flushed unmarked entries with replies to %s", s);
	return err;
}
