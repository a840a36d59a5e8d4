// SPDX-License-Identifier: GPL-2.0-or-later
/* Health probes: icmp (one raw socket per prober), dns, tcp and http (one socket per target
 * and round). Every socket is bound to the link's address, its device (SO_BINDTODEVICE) and
 * carries its mark (SO_MARK). A round ends when every probe answered or failed, or at its
 * timeout; the round's end is always run from a timer, never from inside a socket callback,
 * so the user's callback may rebind or free the prober. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/icmp6.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>
#include <linux/errqueue.h>

#include "log.h"
#include "probe.h"

/* From <linux/icmp.h>, which clashes with the libc headers. */
#ifndef SOL_RAW
#define SOL_RAW 255
#endif
#define UL_ICMP_FILTER 1
#define UL_ICMP_ECHOREPLY 0
#define UL_ICMP_ECHO 8
#define UL_ICMP6_ECHO 128
#define UL_ICMP6_ECHOREPLY 129

#define ICMP_LEN (8 + UL_PROBE_ICMP_PAYLOAD)       /* header, then the prober's random bytes */
#define DNS_HDR 12
#define HTTP_REQ_MAX 600
#define RX_BUF 2048
#define RX_BURST 64                             /* datagrams read per callback at most */

enum slot_state { SLOT_IDLE, SLOT_PENDING, SLOT_DONE };

struct slot {
	struct ul_prober *p;
	struct ul_watch w;              /* per-target socket (dns, tcp, http); fd -1 when none */
	bool watched;
	enum slot_state state;
	uint64_t t0_us;                 /* send time of the latest try */
	uint16_t seq;                   /* dns id (the same for every try) */
	uint16_t seqs[UL_PROBE_TRIES];  /* icmp: the sequence number of each try */
	uint64_t t0s_us[UL_PROBE_TRIES];
	uint8_t tries;                  /* tries sent this round */
	bool connected;                 /* http: request being sent or sent */
	size_t tx_off;
	char rx[16];                    /* http: start of the response */
	size_t rx_len;
	char req[HTTP_REQ_MAX];         /* http: the request for this target */
	size_t req_len;
	int last_err;                   /* last error logged for this target */
};

struct ul_prober {
	struct ul_loop *loop;
	struct ul_check chk;
	char ifname[IFNAMSIZ];
	uint32_t mark;
	ul_round_cb cb;
	void *data;

	bool bound;
	struct ul_addr src;
	struct ul_watch icmp_w;         /* fd -1 when closed */
	bool icmp_watched;
	uint16_t icmp_id, seq;
	uint8_t icmp_payload[UL_PROBE_ICMP_PAYLOAD];    /* random, checked on every reply */

	bool in_round;
	uint64_t round_start_ms;
	uint32_t r_sent, r_answered, pending;
	uint64_t r_rtt_sum;
	uint32_t next_try;              /* index of the next retry of this round */
	struct ul_timer t_start, t_end, t_retry;
	struct slot slots[UL_MAX_TARGETS];

	struct ul_probe_stats st;
};

/* ---- wire formats ---------------------------------------------------------------------- */

static uint16_t csum16(const uint8_t *buf, size_t len)
{
	uint32_t sum = 0;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)buf[i] << 8 | buf[i + 1];
	if (len & 1)
		sum += (uint32_t)buf[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static uint16_t get16(const uint8_t *b)
{
	return (uint16_t)(b[0] << 8 | b[1]);
}

static void put16(uint8_t *b, uint16_t v)
{
	b[0] = (uint8_t)(v >> 8);
	b[1] = (uint8_t)v;
}

size_t ul_probe_icmp_build(uint8_t *buf, size_t len, uint16_t id, uint16_t seq,
			   const uint8_t *payload)
{
	if (!buf || !payload || len < ICMP_LEN)
		return 0;
	buf[0] = UL_ICMP_ECHO;
	buf[1] = 0;
	put16(buf + 2, 0);
	put16(buf + 4, id);
	put16(buf + 6, seq);
	memcpy(buf + 8, payload, UL_PROBE_ICMP_PAYLOAD);
	put16(buf + 2, csum16(buf, ICMP_LEN));
	return ICMP_LEN;
}

/* The payload must be ours: a reply that only guessed the 16-bit id does not count. */
static int icmp_match_type(const uint8_t *buf, size_t len, uint8_t type, uint16_t id,
			   const uint8_t *payload, uint16_t *seq, bool check_sum)
{
	if (!buf || !payload || len < ICMP_LEN || buf[0] != type || buf[1] != 0 ||
	    get16(buf + 4) != id || memcmp(buf + 8, payload, UL_PROBE_ICMP_PAYLOAD))
		return 0;
	if (check_sum && csum16(buf, len) != 0)
		return 0;
	if (seq)
		*seq = get16(buf + 6);
	return 1;
}

int ul_probe_icmp_match(const uint8_t *buf, size_t len, uint16_t id, const uint8_t *payload,
			uint16_t *seq)
{
	return icmp_match_type(buf, len, UL_ICMP_ECHOREPLY, id, payload, seq, true);
}

const uint8_t *ul_probe_icmp_strip_ip(const uint8_t *buf, size_t *len)
{
	size_t ihl, tot;

	if (!buf || !len || *len < 20 || (buf[0] >> 4) != 4)
		return NULL;
	ihl = (size_t)(buf[0] & 0x0f) * 4;
	tot = get16(buf + 2);
	if (ihl < 20 || ihl > *len || tot < ihl || buf[9] != IPPROTO_ICMP)
		return NULL;
	if (get16(buf + 6) & 0x1fff)    /* not the first fragment */
		return NULL;
	if (tot < *len)                 /* link-layer padding */
		*len = tot;
	*len -= ihl;
	return buf + ihl;
}

size_t ul_probe_icmp6_build(uint8_t *buf, size_t len, uint16_t id, uint16_t seq,
			    const uint8_t *payload)
{
	if (!buf || !payload || len < ICMP_LEN)
		return 0;
	buf[0] = UL_ICMP6_ECHO;
	buf[1] = 0;
	put16(buf + 2, 0);              /* the kernel's (raw ICMPv6: always computed) */
	put16(buf + 4, id);
	put16(buf + 6, seq);
	memcpy(buf + 8, payload, UL_PROBE_ICMP_PAYLOAD);
	return ICMP_LEN;
}

int ul_probe_icmp6_match(const uint8_t *buf, size_t len, uint16_t id, const uint8_t *payload,
			 uint16_t *seq)
{
	/* the kernel verified the checksum (it needs the IPv6 pseudo-header) */
	return icmp_match_type(buf, len, UL_ICMP6_ECHOREPLY, id, payload, seq, false);
}

/* Encodes name into out (at most 255 bytes). Labels of [A-Za-z0-9_-], 1..63 bytes, no
 * empty label; one trailing dot allowed; "." is the root. Returns the length or 0. */
static size_t dns_encode_name(uint8_t *out, size_t cap, const char *name)
{
	size_t n = 0, nlen;
	const char *s = name;

	if (!name || !*name)
		return 0;
	nlen = strnlen(name, 256);
	if (nlen > 254)
		return 0;
	if (strcmp(name, ".") == 0) {
		if (cap < 1)
			return 0;
		out[0] = 0;
		return 1;
	}
	while (*s) {
		size_t l = 0;

		while (s[l] && s[l] != '.') {
			char c = s[l];

			if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			      (c >= '0' && c <= '9') || c == '-' || c == '_'))
				return 0;
			l++;
		}
		if (l == 0 || l > 63 || n + 1 + l + 1 > cap || n + 1 + l + 1 > 255)
			return 0;
		out[n++] = (uint8_t)l;
		memcpy(out + n, s, l);
		n += l;
		s += l;
		if (*s == '.')
			s++;
	}
	out[n++] = 0;
	return n;
}

size_t ul_probe_dns_build(uint8_t *buf, size_t len, uint16_t id, const char *name)
{
	size_t n;

	if (!buf || len < DNS_HDR + 1 + 4)
		return 0;
	n = dns_encode_name(buf + DNS_HDR, len - DNS_HDR - 4, name);
	if (!n)
		return 0;
	put16(buf, id);
	put16(buf + 2, 0x0100);         /* standard query, RD */
	put16(buf + 4, 1);              /* QDCOUNT */
	put16(buf + 6, 0);
	put16(buf + 8, 0);
	put16(buf + 10, 0);
	put16(buf + DNS_HDR + n, 1);     /* QTYPE A */
	put16(buf + DNS_HDR + n + 2, 1); /* QCLASS IN */
	return DNS_HDR + n + 4;
}

int ul_probe_dns_match(const uint8_t *buf, size_t len, uint16_t id)
{
	if (!buf || len < DNS_HDR || get16(buf) != id)
		return 0;
	return (buf[2] & 0x80) ? 1 : 0;  /* QR: a response */
}

int ul_probe_http_match(const char *buf, size_t len)
{
	static const char pre[] = "HTTP/1.";
	size_t i;

	if (!buf)
		return -1;
	for (i = 0; i < len && i < 13; i++) {
		char c = buf[i];
		bool ok;

		if (i < 7)
			ok = c == pre[i];
		else if (i == 7)
			ok = c >= '0' && c <= '9';
		else if (i == 8)
			ok = c == ' ';
		else if (i == 9)
			ok = c >= '1' && c <= '5';
		else if (i < 12)
			ok = c >= '0' && c <= '9';
		else
			ok = c == ' ' || c == '\r' || c == '\n';
		if (!ok)
			return -1;
	}
	return i == 13 ? 1 : 0;
}

/* ---- sockets --------------------------------------------------------------------------- */

static socklen_t make_sa(struct sockaddr_storage *ss, const struct ul_addr *a, uint16_t port)
{
	memset(ss, 0, sizeof(*ss));
	if (a->family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		memcpy(&sin->sin_addr, a->bytes, 4);
		return sizeof(*sin);
	}
	if (a->family == AF_INET6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		memcpy(&sin6->sin6_addr, a->bytes, 16);
		return sizeof(*sin6);
	}
	return 0;
}

static bool sa_is(const struct sockaddr_storage *ss, socklen_t sl, const struct ul_addr *a)
{
	if (ss->ss_family != a->family)
		return false;
	if (a->family == AF_INET && sl >= (socklen_t)sizeof(struct sockaddr_in))
		return !memcmp(&((const struct sockaddr_in *)ss)->sin_addr, a->bytes, 4);
	if (a->family == AF_INET6 && sl >= (socklen_t)sizeof(struct sockaddr_in6))
		return !memcmp(&((const struct sockaddr_in6 *)ss)->sin6_addr, a->bytes, 16);
	return false;
}

/* A socket of the link: mark, device, source address. Returns the fd or -errno. */
static int link_socket(struct ul_prober *p, int type, int proto)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int fd, err, one = 1;

	fd = socket(p->src.family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, proto);
	if (fd < 0)
		return -errno;
	if (p->mark && setsockopt(fd, SOL_SOCKET, SO_MARK, &p->mark, sizeof(p->mark)))
		goto fail;
	if (p->ifname[0] && setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, p->ifname,
				       (socklen_t)strlen(p->ifname) + 1))
		goto fail;
	if (type == SOCK_STREAM && p->src.family == AF_INET)
		setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
	sl = make_sa(&ss, &p->src, 0);
	if (bind(fd, (struct sockaddr *)&ss, sl))
		goto fail;
	return fd;
fail:
	err = -errno;
	close(fd);
	return err;
}

/* Counts a failed probe; each new error of a target is logged once as a warning, repeats
 * at debug level, until the target answers again. */
static void note_error(struct slot *s, const char *what, int err)
{
	struct ul_prober *p = s->p;
	char a[UL_ADDR_STRLEN];

	p->st.errors++;
	ul_addr_format(&p->chk.targets[s - p->slots], a, sizeof(a));
	if (err == s->last_err) {
		ul_debug("probe %s %s on %s: %s: %s", ul_check_method_name(p->chk.method), a, p->ifname,
			 what, strerror(-err));
		return;
	}
	s->last_err = err;
	ul_warn("probe %s %s on %s: %s: %s", ul_check_method_name(p->chk.method), a, p->ifname, what,
		strerror(-err));
}

static void slot_close(struct slot *s)
{
	struct ul_prober *p = s->p;

	if (s->watched) {
		ul_loop_del(p->loop, &s->w);
		s->watched = false;
	}
	if (s->w.fd >= 0) {
		if (p->chk.method == UL_CHECK_TCP || p->chk.method == UL_CHECK_HTTP) {
			struct linger lg = { .l_onoff = 1, .l_linger = 0 };

			setsockopt(s->w.fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		}
		close(s->w.fd);
		s->w.fd = -1;
	}
}

static void icmp_close(struct ul_prober *p)
{
	if (p->icmp_watched) {
		ul_loop_del(p->loop, &p->icmp_w);
		p->icmp_watched = false;
	}
	if (p->icmp_w.fd >= 0) {
		close(p->icmp_w.fd);
		p->icmp_w.fd = -1;
	}
}

/* ---- rounds ---------------------------------------------------------------------------- */

static void arm(struct ul_prober *p, struct ul_timer *t, uint64_t due_ms)
{
	int err = ul_timer_arm(p->loop, t, due_ms);

	if (err)
		ul_err("probe %s on %s: timer: %s", ul_check_method_name(p->chk.method), p->ifname,
		       strerror(-err));
}

static void round_maybe_done(struct ul_prober *p)
{
	if (p->in_round && !p->pending)
		arm(p, &p->t_end, ul_now_ms());    /* end it from the timer */
}

/* try: the try answered (its send time gives the RTT); -1 for the latest. */
static void slot_answered_try(struct slot *s, int try)
{
	struct ul_prober *p = s->p;
	uint64_t now = ul_now_us(), t0;

	if (s->state != SLOT_PENDING)
		return;
	t0 = try >= 0 && try < s->tries ? s->t0s_us[try] : s->t0_us;
	s->state = SLOT_DONE;
	p->r_answered++;
	p->r_rtt_sum += now > t0 ? now - t0 : 0;
	p->pending--;
	s->last_err = 0;
	slot_close(s);
	round_maybe_done(p);
}

static void slot_answered(struct slot *s)
{
	slot_answered_try(s, -1);
}

/* Tries per target and round: icmp and dns re-send a probe that is not answered yet;
 * tcp and http make one connection per round (the kernel retransmits the SYN itself).
 * Only silence is retried: an error (no route, no device, ICMP unreachable, a refused
 * DNS port) is no random loss and fails the target at once, as without retries. */
static uint32_t max_tries(const struct ul_prober *p)
{
	return p->chk.method == UL_CHECK_ICMP || p->chk.method == UL_CHECK_DNS ?
	       UL_PROBE_TRIES : 1;
}

static void slot_failed(struct slot *s, const char *what, int err)
{
	struct ul_prober *p = s->p;

	if (s->state != SLOT_PENDING)
		return;
	s->state = SLOT_DONE;
	p->pending--;
	note_error(s, what, err);
	slot_close(s);
	round_maybe_done(p);
}

/* Index of the try of slot s that carried icmp sequence seq, or -1. */
static int slot_try_of(const struct slot *s, uint16_t seq)
{
	for (int k = 0; k < s->tries; k++)
		if (s->seqs[k] == seq)
			return k;
	return -1;
}

static void icmp_error_queue(struct ul_prober *p)
{
	for (int i = 0; i < RX_BURST; i++) {
		uint8_t buf[256], cbuf[512];
		struct sockaddr_storage from;
		struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
		struct msghdr mh = {
			.msg_name = &from, .msg_namelen = sizeof(from),
			.msg_iov = &iov, .msg_iovlen = 1,
			.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
		};
		struct cmsghdr *c;
		int err = 0;
		uint16_t seq;
		ssize_t n;

		n = recvmsg(p->icmp_w.fd, &mh, MSG_ERRQUEUE | MSG_DONTWAIT);
		if (n < 0)
			return;
		for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
			struct sock_extended_err ee;

			if (c->cmsg_level != IPPROTO_IP || c->cmsg_type != IP_RECVERR ||
			    c->cmsg_len < CMSG_LEN(sizeof(ee)))
				continue;
			memcpy(&ee, CMSG_DATA(c), sizeof(ee));
			err = -(int)ee.ee_errno;
		}
		/* The payload is our own echo request. */
		if (!err || !icmp_match_type(buf, (size_t)n, UL_ICMP_ECHO, p->icmp_id,
					     p->icmp_payload, &seq, false))
			continue;
		for (size_t t = 0; t < p->chk.n_targets; t++) {
			struct slot *s = &p->slots[t];

			if (s->state == SLOT_PENDING && slot_try_of(s, seq) >= 0 &&
			    sa_is(&from, mh.msg_namelen, &p->chk.targets[t]))
				slot_failed(s, "unreachable", err);
		}
	}
}

static void icmp_readable(struct ul_watch *w, uint32_t events)
{
	struct ul_prober *p = w->data;

	if (events & EPOLLERR)
		icmp_error_queue(p);
	for (int i = 0; i < RX_BURST; i++) {
		uint8_t buf[RX_BUF];
		struct sockaddr_storage from;
		socklen_t fl = sizeof(from);
		const uint8_t *icmp;
		size_t len;
		uint16_t seq;
		ssize_t n;

		n = recvfrom(w->fd, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&from, &fl);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			continue;       /* a pending socket error, now cleared */
		}
		len = (size_t)n;
		icmp = ul_probe_icmp_strip_ip(buf, &len);
		if (!icmp || !ul_probe_icmp_match(icmp, len, p->icmp_id, p->icmp_payload, &seq) ||
		    !p->in_round)
			continue;
		for (size_t t = 0; t < p->chk.n_targets; t++) {
			struct slot *s = &p->slots[t];
			int k = slot_try_of(s, seq);

			if (s->state == SLOT_PENDING && k >= 0 &&
			    sa_is(&from, fl, &p->chk.targets[t]))
				slot_answered_try(s, k);
		}
	}
}

/* ---- ICMPv6 echo: a raw ICMPv6 socket, filtered to echo replies, errors by IPV6_RECVERR */

static void icmp6_error_queue(struct ul_prober *p)
{
	for (int i = 0; i < RX_BURST; i++) {
		uint8_t buf[256], cbuf[512];
		struct sockaddr_storage from;
		struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
		struct msghdr mh = {
			.msg_name = &from, .msg_namelen = sizeof(from),
			.msg_iov = &iov, .msg_iovlen = 1,
			.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
		};
		struct cmsghdr *c;
		int err = 0;
		uint16_t seq;
		ssize_t n;

		n = recvmsg(p->icmp_w.fd, &mh, MSG_ERRQUEUE | MSG_DONTWAIT);
		if (n < 0)
			return;
		for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
			struct sock_extended_err ee;

			if (c->cmsg_level != IPPROTO_IPV6 || c->cmsg_type != IPV6_RECVERR ||
			    c->cmsg_len < CMSG_LEN(sizeof(ee)))
				continue;
			memcpy(&ee, CMSG_DATA(c), sizeof(ee));
			err = -(int)ee.ee_errno;
		}
		/* The payload is our own echo request; msg_name its destination. */
		if (!err || !icmp_match_type(buf, (size_t)n, UL_ICMP6_ECHO, p->icmp_id,
					     p->icmp_payload, &seq, false))
			continue;
		for (size_t t = 0; t < p->chk.n_targets; t++) {
			struct slot *s = &p->slots[t];

			if (s->state == SLOT_PENDING && slot_try_of(s, seq) >= 0 &&
			    sa_is(&from, mh.msg_namelen, &p->chk.targets[t]))
				slot_failed(s, "unreachable", err);
		}
	}
}

static void icmp6_readable(struct ul_watch *w, uint32_t events)
{
	struct ul_prober *p = w->data;

	if (events & EPOLLERR)
		icmp6_error_queue(p);
	for (int i = 0; i < RX_BURST; i++) {
		uint8_t buf[RX_BUF];
		struct sockaddr_storage from;
		socklen_t fl = sizeof(from);
		uint16_t seq;
		ssize_t n;

		n = recvfrom(w->fd, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&from, &fl);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			continue;       /* a pending socket error, now cleared */
		}
		if (!ul_probe_icmp6_match(buf, (size_t)n, p->icmp_id, p->icmp_payload, &seq) ||
		    !p->in_round)
			continue;
		for (size_t t = 0; t < p->chk.n_targets; t++) {
			struct slot *s = &p->slots[t];
			int k = slot_try_of(s, seq);

			if (s->state == SLOT_PENDING && k >= 0 &&
			    sa_is(&from, fl, &p->chk.targets[t]))
				slot_answered_try(s, k);
		}
	}
}

static int icmp6_open(struct ul_prober *p)
{
	struct icmp6_filter filt;
	int fd, one = 1, err;

	fd = link_socket(p, SOCK_RAW, IPPROTO_ICMPV6);
	if (fd < 0)
		return fd;
	ICMP6_FILTER_SETBLOCKALL(&filt);
	ICMP6_FILTER_SETPASS(UL_ICMP6_ECHOREPLY, &filt);
	if (setsockopt(fd, IPPROTO_ICMPV6, ICMP6_FILTER, &filt, sizeof(filt)) ||
	    setsockopt(fd, IPPROTO_IPV6, IPV6_RECVERR, &one, sizeof(one))) {
		err = -errno;
		close(fd);
		return err;
	}
	p->icmp_w.fd = fd;
	p->icmp_w.cb = icmp6_readable;
	p->icmp_w.data = p;
	err = ul_loop_add(p->loop, &p->icmp_w, EPOLLIN);
	if (err) {
		icmp_close(p);
		return err;
	}
	p->icmp_watched = true;
	return 0;
}

static int icmp_open(struct ul_prober *p)
{
	uint32_t filt = ~(1u << UL_ICMP_ECHOREPLY);
	int fd, one = 1, err;

	if (p->src.family == AF_INET6)
		return icmp6_open(p);
	fd = link_socket(p, SOCK_RAW, IPPROTO_ICMP);
	if (fd < 0)
		return fd;
	if (setsockopt(fd, SOL_RAW, UL_ICMP_FILTER, &filt, sizeof(filt)) ||
	    setsockopt(fd, IPPROTO_IP, IP_RECVERR, &one, sizeof(one))) {
		err = -errno;
		close(fd);
		return err;
	}
	p->icmp_w.fd = fd;
	p->icmp_w.cb = icmp_readable;
	p->icmp_w.data = p;
	err = ul_loop_add(p->loop, &p->icmp_w, EPOLLIN);
	if (err) {
		icmp_close(p);
		return err;
	}
	p->icmp_watched = true;
	return 0;
}

static void dns_event(struct slot *s, uint32_t events)
{
	for (int i = 0; i < RX_BURST && s->state == SLOT_PENDING; i++) {
		uint8_t buf[RX_BUF];
		ssize_t n = recv(s->w.fd, buf, sizeof(buf), MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			slot_failed(s, "no answer", -errno);
			continue;
		}
		if (ul_probe_dns_match(buf, (size_t)n, s->seq))
			slot_answered(s);
	}
}

static void http_send(struct slot *s)
{
	struct ul_prober *p = s->p;

	while (s->tx_off < s->req_len) {
		ssize_t n = send(s->w.fd, s->req + s->tx_off, s->req_len - s->tx_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			slot_failed(s, "send", -errno);
			return;
		}
		s->tx_off += (size_t)n;
	}
	ul_loop_mod(p->loop, &s->w, s->tx_off < s->req_len ? EPOLLIN | EPOLLOUT : EPOLLIN);
}

static void http_recv(struct slot *s)
{
	for (int i = 0; i < RX_BURST && s->state == SLOT_PENDING; i++) {
		char buf[RX_BUF];
		ssize_t n = recv(s->w.fd, buf, sizeof(buf), MSG_DONTWAIT);
		size_t take;
		int m;

		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			slot_failed(s, "receive", -errno);
			return;
		}
		if (n == 0) {
			slot_failed(s, "closed before a status line", -ECONNRESET);
			return;
		}
		take = sizeof(s->rx) - s->rx_len;
		if (take > (size_t)n)
			take = (size_t)n;
		memcpy(s->rx + s->rx_len, buf, take);
		s->rx_len += take;
		m = ul_probe_http_match(s->rx, s->rx_len);
		if (m > 0)
			slot_answered(s);
		else if (m < 0)
			slot_failed(s, "not an HTTP response", -EBADMSG);
	}
}

static void stream_event(struct slot *s, uint32_t events)
{
	struct ul_prober *p = s->p;

	if (!s->connected) {
		int soerr = 0;
		socklen_t sl = sizeof(soerr);

		if (getsockopt(s->w.fd, SOL_SOCKET, SO_ERROR, &soerr, &sl))
			soerr = errno;
		if (!soerr && !(events & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
			return;
		if (p->chk.method == UL_CHECK_TCP) {
			if (!soerr || soerr == ECONNREFUSED)
				slot_answered(s);
			else
				slot_failed(s, "connect", -soerr);
			return;
		}
		if (soerr) {
			slot_failed(s, "connect", -soerr);
			return;
		}
		s->connected = true;
		http_send(s);
		return;
	}
	if (s->tx_off < s->req_len && (events & EPOLLOUT)) {
		http_send(s);
		if (s->state != SLOT_PENDING)
			return;
	}
	if (events & (EPOLLIN | EPOLLERR | EPOLLHUP))
		http_recv(s);
}

static void slot_event(struct ul_watch *w, uint32_t events)
{
	struct slot *s = w->data;

	if (s->state != SLOT_PENDING)
		return;
	if (s->p->chk.method == UL_CHECK_DNS)
		dns_event(s, events);
	else
		stream_event(s, events);
}

/* The request for target t; Host names the target ("[v6]" in brackets). */
static int http_request(struct ul_prober *p, struct slot *s, const struct ul_addr *t)
{
	char host[UL_ADDR_STRLEN];
	bool v6 = t->family == AF_INET6;
	int n;

	ul_addr_format(t, host, sizeof(host));
	n = snprintf(s->req, sizeof(s->req),
		     "GET %s HTTP/1.1\r\nHost: %s%s%s\r\nConnection: close\r\n"
		     "User-Agent: uplinkd\r\n\r\n", p->chk.http_path[0] ? p->chk.http_path : "/",
		     v6 ? "[" : "", host, v6 ? "]" : "");
	if (n < 0 || (size_t)n >= sizeof(s->req))
		return -EMSGSIZE;
	s->req_len = (size_t)n;
	return 0;
}

/* Sends the probe of slot t. Returns 0 (pending or answered) or -errno (failed, *what
 * says at which step). */
static int probe_send(struct ul_prober *p, size_t t, const char **what)
{
	struct slot *s = &p->slots[t];
	const struct ul_addr *dst = &p->chk.targets[t];
	struct sockaddr_storage ss;
	socklen_t sl;
	uint32_t ev = EPOLLIN;
	uint8_t pkt[512];
	size_t len;
	int err, one = 1;

	*what = "target and source address differ in family";
	if (dst->family != p->src.family)
		return -EAFNOSUPPORT;
	sl = make_sa(&ss, dst, p->chk.method == UL_CHECK_ICMP ? 0 : p->chk.port);
	s->t0_us = ul_now_us();
	switch (p->chk.method) {
	case UL_CHECK_ICMP:
		*what = "socket";
		if (p->icmp_w.fd < 0) {
			err = icmp_open(p);
			if (err)
				return err;
		}
		s->seqs[s->tries - 1] = p->seq++;
		if (p->src.family == AF_INET6)
			len = ul_probe_icmp6_build(pkt, sizeof(pkt), p->icmp_id,
						   s->seqs[s->tries - 1], p->icmp_payload);
		else
			len = ul_probe_icmp_build(pkt, sizeof(pkt), p->icmp_id,
						  s->seqs[s->tries - 1], p->icmp_payload);
		s->t0_us = s->t0s_us[s->tries - 1] = ul_now_us();
		*what = "send";
		if (sendto(p->icmp_w.fd, pkt, len, 0, (struct sockaddr *)&ss, sl) < 0)
			return -errno;
		return 0;
	case UL_CHECK_DNS:
		if (s->w.fd >= 0) {
			/* a retry: the same query (same id) on the same socket, any answer counts */
			*what = "send";
			len = ul_probe_dns_build(pkt, sizeof(pkt), s->seq, p->chk.dns_name);
			s->t0_us = s->t0s_us[s->tries - 1] = ul_now_us();
			if (send(s->w.fd, pkt, len, MSG_DONTWAIT) < 0)
				return -errno;
			return 0;
		}
		if (getrandom(&s->seq, sizeof(s->seq), GRND_NONBLOCK) != sizeof(s->seq))
			s->seq = (uint16_t)(ul_now_us() ^ (t << 8));
		*what = "query";
		len = ul_probe_dns_build(pkt, sizeof(pkt), s->seq, p->chk.dns_name);
		if (!len)
			return -EINVAL;
		s->t0_us = s->t0s_us[s->tries - 1] = ul_now_us();
		*what = "socket";
		err = link_socket(p, SOCK_DGRAM, 0);
		if (err < 0)
			return err;
		s->w.fd = err;
		/* every ICMP error (host unreachable too, not just port unreachable) fails it */
		if (p->src.family == AF_INET6)
			setsockopt(s->w.fd, IPPROTO_IPV6, IPV6_RECVERR, &one, sizeof(one));
		else
			setsockopt(s->w.fd, IPPROTO_IP, IP_RECVERR, &one, sizeof(one));
		*what = "send";
		if (connect(s->w.fd, (struct sockaddr *)&ss, sl) ||
		    send(s->w.fd, pkt, len, MSG_DONTWAIT) < 0) {
			err = -errno;
			slot_close(s);  /* a retry starts over with a new socket */
			return err;
		}
		break;
	case UL_CHECK_TCP:
	case UL_CHECK_HTTP:
		*what = "request";
		if (p->chk.method == UL_CHECK_HTTP) {
			err = http_request(p, s, dst);
			if (err)
				return err;
		}
		*what = "socket";
		err = link_socket(p, SOCK_STREAM, 0);
		if (err < 0)
			return err;
		s->w.fd = err;
		s->t0_us = ul_now_us();
		*what = "connect";
		if (connect(s->w.fd, (struct sockaddr *)&ss, sl) == 0) {
			if (p->chk.method == UL_CHECK_TCP) {
				slot_answered(s);
				return 0;
			}
			s->connected = true;
		} else if (errno == ECONNREFUSED && p->chk.method == UL_CHECK_TCP) {
			slot_answered(s);
			return 0;
		} else if (errno != EINPROGRESS) {
			return -errno;
		}
		ev = s->connected ? EPOLLIN : EPOLLOUT;
		break;
	}
	*what = "epoll";
	s->w.cb = slot_event;
	s->w.data = s;
	err = ul_loop_add(p->loop, &s->w, ev);
	if (err)
		return err;
	s->watched = true;
	if (s->connected)
		http_send(s);
	return 0;
}

static void round_abort(struct ul_prober *p)
{
	for (size_t t = 0; t < UL_MAX_TARGETS; t++) {
		slot_close(&p->slots[t]);
		p->slots[t].state = SLOT_IDLE;
	}
	ul_timer_cancel(p->loop, &p->t_retry);
	p->in_round = false;
	p->pending = 0;
}

/* Sends the next try to target t. */
static void slot_try(struct ul_prober *p, size_t t)
{
	struct slot *s = &p->slots[t];
	const char *what = "send";
	int err;

	if (s->state != SLOT_PENDING || s->tries >= max_tries(p))
		return;
	s->tries++;
	p->r_sent++;
	p->st.sent++;
	err = probe_send(p, t, &what);
	if (err)
		slot_failed(s, what, err);
}

/* Retries are spread evenly over the round's timeout: try k goes out at
 * k * timeout_ms / tries, so the last one still has a full share of the window. */
static uint64_t retry_due(const struct ul_prober *p, uint32_t k)
{
	return p->round_start_ms + (uint64_t)p->chk.timeout_ms * k / max_tries(p);
}

static void round_retry(struct ul_timer *tm)
{
	struct ul_prober *p = tm->data;

	if (!p->in_round || p->next_try >= max_tries(p))
		return;
	for (size_t t = 0; t < p->chk.n_targets; t++)
		slot_try(p, t);
	p->next_try++;
	if (p->next_try < max_tries(p))
		arm(p, &p->t_retry, retry_due(p, p->next_try));
	round_maybe_done(p);
}

static void round_start(struct ul_timer *tm)
{
	struct ul_prober *p = tm->data;

	if (!p->bound || p->in_round)
		return;
	p->in_round = true;
	p->round_start_ms = ul_now_ms();
	p->r_sent = p->r_answered = 0;
	p->r_rtt_sum = 0;
	p->pending = 0;
	for (size_t t = 0; t < p->chk.n_targets; t++) {
		struct slot *s = &p->slots[t];

		s->state = SLOT_PENDING;
		s->connected = false;
		s->tx_off = s->rx_len = 0;
		s->tries = 0;
		p->pending++;
	}
	arm(p, &p->t_end, p->round_start_ms + p->chk.timeout_ms);
	for (size_t t = 0; t < p->chk.n_targets; t++)
		slot_try(p, t);
	p->next_try = 1;
	if (max_tries(p) > 1)
		arm(p, &p->t_retry, retry_due(p, 1));
	round_maybe_done(p);
}

static void round_end(struct ul_timer *tm)
{
	struct ul_prober *p = tm->data;
	struct ul_round r;
	uint64_t now = ul_now_ms(), next;

	if (!p->in_round)
		return;
	for (size_t t = 0; t < p->chk.n_targets; t++)
		if (p->slots[t].state == SLOT_PENDING)
			p->st.timeouts++;
	round_abort(p);
	ul_timer_cancel(p->loop, &p->t_end);
	r.sent = p->r_sent;
	r.answered = p->r_answered;
	r.rtt_us = 0;
	if (p->r_answered) {
		uint64_t avg = p->r_rtt_sum / p->r_answered;

		r.rtt_us = avg > UINT32_MAX ? UINT32_MAX : (uint32_t)avg;
	}
	p->st.rounds++;
	p->st.answered += r.answered;
	next = p->round_start_ms + p->chk.interval_ms;
	arm(p, &p->t_start, next > now ? next : now);
	p->cb(p->data, &r);     /* last: it may rebind or free p */
}

/* ---- public ---------------------------------------------------------------------------- */

struct ul_prober *ul_prober_new(struct ul_loop *loop, const struct ul_check *chk,
				const char *ifname, uint32_t mark, ul_round_cb cb, void *data)
{
	struct ul_prober *p;

	if (!loop || !chk || !cb || !chk->n_targets || chk->n_targets > UL_MAX_TARGETS ||
	    !chk->interval_ms || !chk->timeout_ms || (ifname && strlen(ifname) >= IFNAMSIZ) ||
	    chk->method > UL_CHECK_HTTP) {
		errno = EINVAL;
		return NULL;
	}
	for (size_t t = 0; t < chk->n_targets; t++)
		if (chk->targets[t].family != AF_INET && chk->targets[t].family != AF_INET6) {
			errno = EINVAL;
			return NULL;
		}
	if (chk->method == UL_CHECK_DNS) {
		uint8_t tmp[512];

		if (!ul_probe_dns_build(tmp, sizeof(tmp), 0, chk->dns_name)) {
			errno = EINVAL;
			return NULL;
		}
	}
	if (chk->method == UL_CHECK_HTTP && chk->http_path[0] &&
	    (chk->http_path[0] != '/' || strpbrk(chk->http_path, " \r\n\t"))) {
		errno = EINVAL;
		return NULL;
	}
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->loop = loop;
	p->chk = *chk;
	p->chk.dns_name[sizeof(p->chk.dns_name) - 1] = 0;
	p->chk.http_path[sizeof(p->chk.http_path) - 1] = 0;
	if (ifname)
		snprintf(p->ifname, sizeof(p->ifname), "%s", ifname);
	p->mark = mark;
	p->cb = cb;
	p->data = data;
	p->icmp_w.fd = -1;
	for (size_t t = 0; t < UL_MAX_TARGETS; t++) {
		p->slots[t].p = p;
		p->slots[t].w.fd = -1;
	}
	p->t_start.cb = round_start;
	p->t_start.data = p;
	p->t_end.cb = round_end;
	p->t_end.data = p;
	p->t_retry.cb = round_retry;
	p->t_retry.data = p;
	if (getrandom(p->icmp_payload, sizeof(p->icmp_payload), GRND_NONBLOCK) !=
	    (ssize_t)sizeof(p->icmp_payload)) {
		/* no entropy yet (early boot): still unpredictable enough to tell strays apart */
		uint64_t x = ul_now_us() ^ ((uint64_t)getpid() << 32) ^ (uintptr_t)p;

		for (size_t i = 0; i < sizeof(p->icmp_payload); i++) {
			x ^= x << 13; x ^= x >> 7; x ^= x << 17;
			p->icmp_payload[i] = (uint8_t)x;
		}
	}
	if (getrandom(&p->icmp_id, sizeof(p->icmp_id), GRND_NONBLOCK) != sizeof(p->icmp_id))
		p->icmp_id = (uint16_t)(getpid() ^ (uintptr_t)p);
	if (getrandom(&p->seq, sizeof(p->seq), GRND_NONBLOCK) != sizeof(p->seq))
		p->seq = 0;
	return p;
}

static void prober_stop(struct ul_prober *p)
{
	ul_timer_cancel(p->loop, &p->t_start);
	ul_timer_cancel(p->loop, &p->t_end);
	ul_timer_cancel(p->loop, &p->t_retry);
	round_abort(p);
	icmp_close(p);
	p->bound = false;
}

int ul_prober_bind(struct ul_prober *p, const struct ul_addr *src)
{
	struct ul_addr host;
	int err = 0, err2;

	if (!p)
		return -EINVAL;
	if (!src || !src->family) {
		prober_stop(p);
		return 0;
	}
	if (src->family != AF_INET && src->family != AF_INET6)
		return -EAFNOSUPPORT;
	/* the host address only: an interface address may come with its prefix length */
	ul_addr_from_raw(&host, src->family, src->bytes);
	if (p->bound && ul_addr_eq(&host, &p->src))
		return 0;
	prober_stop(p);
	p->src = host;
	p->bound = true;
	for (size_t t = 0; t < UL_MAX_TARGETS; t++)
		p->slots[t].last_err = 0;
	/* On failure it stays bound: every round retries, counts and logs the failure. */
	if (p->chk.method == UL_CHECK_ICMP)
		err = icmp_open(p);
	err2 = ul_timer_arm(p->loop, &p->t_start, ul_now_ms());
	if (err2) {
		prober_stop(p);
		return err2;
	}
	return err;
}

const struct ul_probe_stats *ul_prober_stats(const struct ul_prober *p)
{
	return &p->st;
}

void ul_prober_free(struct ul_prober *p)
{
	if (!p)
		return;
	prober_stop(p);
	free(p);
}
