// SPDX-License-Identifier: GPL-2.0-or-later
/* ctnetlink over libmnl: delete the conntrack entries of one link (by connection mark), so
 * its connections start over on another link instead of leaving with a stale NAT source. */
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <libmnl/libmnl.h>

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

int ul_ct_flush_mark(int family, uint32_t mark, uint32_t mask)
{
	char buf[8192] __attribute__((aligned(8)));
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
	nlh = ul_ct_build_flush(buf, family, mark, mask, seq);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		err = -errno;
		goto out;
	}
	err = wait_ack(nl, buf, sizeof(buf), seq, portid);
	if (err == -ENOENT)
		err = 0;                /* nothing matched */
out:
	if (err)
		ul_kerr("conntrack: flush mark 0x%x/0x%x: %s", mark, mask, strerror(-err));
	else
		ul_kdebug("conntrack: flushed mark 0x%x/0x%x", mark, mask);
	mnl_socket_close(nl);
	return err;
}
