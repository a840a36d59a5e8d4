// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * tcpsrc — a small TCP traffic tool for the namespace lab.
 *
 *   tcpsrc serve ADDR PORT
 *	accept connections forever; on each, first write the client's address as seen by the
 *	server and "\n", then echo every byte received until the client closes.
 *   tcpsrc count HOST PORT N [-s SRCADDR] [-t TIMEOUT_MS] [-p PARALLEL]
 *	N short connections (PARALLEL at a time, default 1), each reads the first line then
 *	closes; prints "ADDR COUNT" per distinct seen address (sorted) and "fail F". Exit 0.
 *   tcpsrc hold HOST PORT N SECONDS [-s SRCADDR] [-i INTERVAL_MS] [-t TIMEOUT_MS] [-f FILE]
 *	N long-lived connections; every INTERVAL_MS (200) one byte on each must be echoed within
 *	TIMEOUT_MS (2000), else the connection is broken (so is a reset or EOF). Runs SECONDS
 *	after all connections are set up (then writes "ready\n" to FILE), prints "seen ADDR
 *	COUNT", "lost ADDR COUNT" (broken ones, by seen address), "ok K", "broken B";
 *	exit 0 if B == 0, else 1. SIGTERM/SIGINT end early with the same report.
 *   tcpsrc burst HOST PORT SECONDS [-s SRCADDR] [-i INTERVAL_MS] [-t TIMEOUT_MS]
 *	a new connection every INTERVAL_MS (50) for SECONDS, each must deliver its first line
 *	within TIMEOUT_MS (1000); prints "attempt T_MS ok|fail ADDR" per attempt (T_MS from
 *	the start, ADDR "-" on failure), "seen ADDR COUNT", "ok K", "fail F", "first_fail T_MS"
 *	and "last_fail T_MS" (-1 when none), "t0_realtime_us T" (the start on the wall clock,
 *	microseconds, as bash's $EPOCHREALTIME). Exit 0.
 *
 * Usage errors exit 2, internal errors (out of memory, no sockets) exit 3.
 * Single-threaded; every wait has a timeout; all loops are bounded.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "labsock.h"

#define EXIT_USAGE 2
#define EXIT_INTERNAL 3
#define LINE_MAX_LEN 64		/* an address line is at most INET6_ADDRSTRLEN + "\n" */
#define SERVE_BUF 4096
#define MAX_CONNS 100000
#define MAX_SECONDS 86400

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static void setup_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0;	/* no SA_RESTART: poll/epoll_wait return EINTR */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static void usage(void)
{
	fprintf(stderr,
		"usage: tcpsrc serve ADDR PORT\n"
		"       tcpsrc count HOST PORT N [-s SRCADDR] [-t TIMEOUT_MS] [-p PARALLEL]\n"
		"       tcpsrc hold HOST PORT N SECONDS [-s SRCADDR] [-i INTERVAL_MS] "
		"[-t TIMEOUT_MS] [-f FILE]\n"
		"       tcpsrc burst HOST PORT SECONDS [-s SRCADDR] [-i INTERVAL_MS] "
		"[-t TIMEOUT_MS]\n");
}

/* Strict decimal in [min, max]; 0 on success, -EINVAL otherwise. */
static int parse_num(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	if (!s || !*s)
		return -EINVAL;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

/* Numeric IPv4/IPv6 address plus port into a sockaddr_storage. */
static int parse_sockaddr(const char *host, long port, struct sockaddr_storage *ss,
			  socklen_t *len)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		*len = sizeof(*sin);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*sin6);
		return 0;
	}
	return -EINVAL;
}

/* The address part of a sockaddr as text; IPv4-mapped IPv6 shown as IPv4. */
static void sockaddr_text(const struct sockaddr_storage *ss, char *out, size_t outlen)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;

	if (ss->ss_family == AF_INET) {
		if (!inet_ntop(AF_INET, &sin->sin_addr, out, outlen))
			snprintf(out, outlen, "?");
	} else if (ss->ss_family == AF_INET6) {
		if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
			if (!inet_ntop(AF_INET, &sin6->sin6_addr.s6_addr[12], out, outlen))
				snprintf(out, outlen, "?");
		} else if (!inet_ntop(AF_INET6, &sin6->sin6_addr, out, outlen)) {
			snprintf(out, outlen, "?");
		}
	} else {
		snprintf(out, outlen, "?");
	}
}

/* ------------------------------------------------------------------------------------------ */
/* serve */

struct sconn {
	int fd;
	bool eof;		/* client closed its side: flush, then close */
	bool want_in, want_out;	/* current epoll interest */
	size_t off, len;	/* pending output: buf[off .. len) */
	struct sconn *prev, *next;
	char buf[SERVE_BUF];
};

static struct sconn *sconn_list;
static size_t sconn_count;

static void sconn_free(int ep, struct sconn *c)
{
	epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	if (c->prev)
		c->prev->next = c->next;
	else
		sconn_list = c->next;
	if (c->next)
		c->next->prev = c->prev;
	sconn_count--;
	free(c);
}

static int sconn_update(int ep, struct sconn *c)
{
	bool in = !c->eof && c->len < sizeof(c->buf);
	bool out = c->off < c->len;
	struct epoll_event ev;

	if (in == c->want_in && out == c->want_out)
		return 0;
	memset(&ev, 0, sizeof(ev));
	ev.events = (in ? EPOLLIN : 0) | (out ? EPOLLOUT : 0);
	ev.data.ptr = c;
	if (epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev) < 0)
		return -errno;
	c->want_in = in;
	c->want_out = out;
	return 0;
}

/* Write what is pending; 0 ok (maybe partial), -1 connection gone. */
static int sconn_flush(struct sconn *c)
{
	while (c->off < c->len) {
		ssize_t n = send(c->fd, c->buf + c->off, c->len - c->off, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			return -1;
		}
		c->off += (size_t)n;
	}
	c->off = c->len = 0;
	return 0;
}

/* Read once into the free space; 0 ok, -1 connection gone. */
static int sconn_read(struct sconn *c)
{
	ssize_t n;

	if (c->off > 0 && c->off < c->len) {
		memmove(c->buf, c->buf + c->off, c->len - c->off);
		c->len -= c->off;
		c->off = 0;
	}
	if (c->len >= sizeof(c->buf))
		return 0;
	n = recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len, 0);
	if (n < 0)
		return (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) ? 0 : -1;
	if (n == 0)
		c->eof = true;
	c->len += (size_t)n;
	return 0;
}

/* Clients that vanish behind a cut link are forgotten after about a minute. */
static void serve_keepalive(int fd)
{
	int one = 1, idle = 30, intvl = 5, cnt = 6, tmo = 60000;

	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
	setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &tmo, sizeof(tmo));
}

static void serve_accept(int ep, int lfd, int64_t *paused_until)
{
	/* bounded: at most 256 accepts per wakeup, the rest on the next round */
	for (int i = 0; i < 256; i++) {
		struct sockaddr_storage peer;
		struct epoll_event ev;
		char addr[INET6_ADDRSTRLEN];
		struct sconn *c;
		int fd, r;

		c = lab_accept(lfd, sizeof(*c), &fd, &peer);
		if (!c) {
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
			    errno == ENOMEM) {
				fprintf(stderr, "tcpsrc serve: accept: %s (pausing)\n",
					strerror(errno));
				*paused_until = now_ms() + 100;
			}
			return;
		}
		if (sconn_count >= MAX_CONNS) {
			close(fd);
			free(c);
			continue;
		}
		c->fd = fd;
		serve_keepalive(fd);
		sockaddr_text(&peer, addr, sizeof(addr));
		r = snprintf(c->buf, sizeof(c->buf), "%s\n", addr);
		c->len = r > 0 ? (size_t)r : 0;
		memset(&ev, 0, sizeof(ev));
		ev.events = EPOLLIN | EPOLLOUT;
		ev.data.ptr = c;
		if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
			close(fd);
			free(c);
			continue;
		}
		c->want_in = c->want_out = true;
		c->next = sconn_list;
		if (sconn_list)
			sconn_list->prev = c;
		sconn_list = c;
		sconn_count++;
		if (sconn_flush(c) < 0 || sconn_update(ep, c) < 0)
			sconn_free(ep, c);
	}
}

static int cmd_serve(int argc, char **argv)
{
	struct sockaddr_storage ss;
	struct epoll_event ev, evs[64];
	int64_t paused_until = 0;
	bool listening = true;
	socklen_t slen;
	int lfd = -1, ep = -1, one = 1, zero = 0, rc = EXIT_INTERNAL;
	long port;

	if (argc != 3 || parse_num(argv[2], 1, 65535, &port) < 0 ||
	    parse_sockaddr(argv[1], port, &ss, &slen) < 0) {
		usage();
		return EXIT_USAGE;
	}
	lfd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (lfd < 0) {
		perror("tcpsrc serve: socket");
		goto out;
	}
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss.ss_family == AF_INET6)
		setsockopt(lfd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	if (bind(lfd, (struct sockaddr *)&ss, slen) < 0 || listen(lfd, 4096) < 0) {
		fprintf(stderr, "tcpsrc serve: %s:%ld: %s\n", argv[1], port, strerror(errno));
		goto out;
	}
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0) {
		perror("tcpsrc serve: epoll_create1");
		goto out;
	}
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.ptr = NULL;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev) < 0) {
		perror("tcpsrc serve: epoll_ctl");
		goto out;
	}
	while (!stop_flag) {
		int n, timeout = 1000;

		if (paused_until) {
			int64_t left = paused_until - now_ms();

			if (left <= 0) {
				paused_until = 0;
			} else {
				timeout = (int)left;
				if (listening) {
					ev.events = 0;
					epoll_ctl(ep, EPOLL_CTL_MOD, lfd, &ev);
					listening = false;
				}
			}
		}
		if (!paused_until && !listening) {
			ev.events = EPOLLIN;
			epoll_ctl(ep, EPOLL_CTL_MOD, lfd, &ev);
			listening = true;
		}
		n = epoll_wait(ep, evs, 64, timeout);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			perror("tcpsrc serve: epoll_wait");
			goto out;
		}
		for (int i = 0; i < n; i++) {
			struct sconn *c = evs[i].data.ptr;

			if (!c) {
				serve_accept(ep, lfd, &paused_until);
				continue;
			}
			if ((evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) && sconn_read(c) < 0) {
				sconn_free(ep, c);
				continue;
			}
			if (sconn_flush(c) < 0 || (c->eof && c->off == c->len) ||
			    sconn_update(ep, c) < 0) {
				sconn_free(ep, c);
				continue;
			}
		}
	}
	rc = 0;
out:
	while (sconn_list)
		sconn_free(ep, sconn_list);
	if (ep >= 0)
		close(ep);
	if (lfd >= 0)
		close(lfd);
	return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* client side: a connection that first reads the address line */

enum cstate { C_IDLE, C_LINE, C_OPEN, C_DONE, C_FAILED };

struct cconn {
	int fd;
	enum cstate state;
	int64_t t_start;	/* attempt start (ms, monotonic) */
	int64_t deadline;	/* line must arrive by then (C_LINE) or echo (C_OPEN) */
	int64_t next_send;	/* hold: next probe byte */
	bool outstanding;	/* hold: a probe byte waits for its echo */
	bool have_line;		/* the address line arrived (line[] holds it) */
	size_t linelen;
	char line[LINE_MAX_LEN];
	char why[48];		/* failure reason */
};

struct target {
	struct sockaddr_storage dst, src;
	socklen_t dstlen, srclen;
	bool has_src;
};

/* n client connections, all idle and closed; NULL when out of memory */
static struct cconn *cconns_new(long n)
{
	struct cconn *v = calloc((size_t)n, sizeof(*v));

	for (long i = 0; v && i < n; i++) {
		v[i].fd = -1;
		v[i].state = C_IDLE;
	}
	return v;
}

/* close those still open and free them all (v may be NULL) */
static void cconns_free(struct cconn *v, long n)
{
	for (long i = 0; v && i < n; i++)
		if (v[i].fd >= 0)
			close(v[i].fd);
	free(v);
}

static void cconn_fail(struct cconn *c, const char *why)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->state = C_FAILED;
	snprintf(c->why, sizeof(c->why), "%s", why);
}

/* Start a non-blocking connect. Sets C_LINE, or C_FAILED (then returns <0 only on internal
 * errors that should abort the program, e.g. out of file descriptors). */
static int cconn_start(struct cconn *c, const struct target *t, int64_t timeout_ms)
{
	int fd, one = 1;

	memset(c, 0, sizeof(*c));
	c->fd = -1;
	c->t_start = now_ms();
	c->deadline = c->t_start + timeout_ms;
	fd = socket(t->dst.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		int err = errno;

		cconn_fail(c, "socket");
		return (err == EMFILE || err == ENFILE) ? -err : 0;
	}
	c->fd = fd;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (t->has_src) {
		setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
		if (bind(fd, (const struct sockaddr *)&t->src, t->srclen) < 0) {
			char why[48];

			snprintf(why, sizeof(why), "bind: %s", strerror(errno));
			cconn_fail(c, why);
			return 0;
		}
	}
	if (connect(fd, (const struct sockaddr *)&t->dst, t->dstlen) < 0 && errno != EINPROGRESS) {
		char why[48];

		snprintf(why, sizeof(why), "connect: %s", strerror(errno));
		cconn_fail(c, why);
		return 0;
	}
	c->state = C_LINE;
	return 0;
}

/* POLLIN/ERR/HUP while waiting for the line. */
static void cconn_read_line(struct cconn *c, int64_t now)
{
	ssize_t n;
	char *nl;

	n = recv(c->fd, c->line + c->linelen, sizeof(c->line) - 1 - c->linelen, 0);
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return;
		cconn_fail(c, strerror(errno));
		return;
	}
	if (n == 0) {
		cconn_fail(c, "eof before address line");
		return;
	}
	c->linelen += (size_t)n;
	c->line[c->linelen] = '\0';
	nl = memchr(c->line, '\n', c->linelen);
	if (!nl) {
		if (c->linelen >= sizeof(c->line) - 1)
			cconn_fail(c, "address line too long");
		return;
	}
	if (nl != c->line + c->linelen - 1) {
		cconn_fail(c, "data after address line");
		return;
	}
	*nl = '\0';
	c->linelen = (size_t)(nl - c->line);
	if (c->linelen == 0) {
		cconn_fail(c, "empty address line");
		return;
	}
	c->state = C_OPEN;
	c->have_line = true;
	c->deadline = 0;
	c->next_send = now;
}

/* ------------------------------------------------------------------------------------------ */
/* address tallies */

struct tally {
	char addr[LINE_MAX_LEN];
	long count;
};

struct tallies {
	struct tally *v;
	size_t n;
};

static int tally_add(struct tallies *t, const char *addr)
{
	struct tally *v;

	for (size_t i = 0; i < t->n; i++) {
		if (strcmp(t->v[i].addr, addr) == 0) {
			t->v[i].count++;
			return 0;
		}
	}
	/* a new address: few of them (one per link), grown one at a time */
	v = reallocarray(t->v, t->n + 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	t->v = v;
	snprintf(t->v[t->n].addr, sizeof(t->v[t->n].addr), "%s", addr);
	t->v[t->n].count = 1;
	t->n++;
	return 0;
}

/* Numeric order for addresses (IPv4 before IPv6), text order for anything else. */
static int addr_key(const char *s, unsigned char key[17])
{
	memset(key, 0, 17);
	if (inet_pton(AF_INET, s, key + 1) == 1) {
		key[0] = 4;
		return 0;
	}
	if (inet_pton(AF_INET6, s, key + 1) == 1) {
		key[0] = 6;
		return 0;
	}
	return -1;
}

static int tally_cmp(const void *a, const void *b)
{
	const struct tally *x = a, *y = b;
	unsigned char kx[17], ky[17];
	int ex = addr_key(x->addr, kx), ey = addr_key(y->addr, ky);

	if (ex == 0 && ey == 0)
		return memcmp(kx, ky, sizeof(kx));
	if (ex != ey)
		return ex - ey;	/* addresses first */
	return strcmp(x->addr, y->addr);
}

static void tally_print(struct tallies *t, const char *prefix)
{
	if (t->n > 1)
		qsort(t->v, t->n, sizeof(*t->v), tally_cmp);
	for (size_t i = 0; i < t->n; i++)
		printf("%s%s %ld\n", prefix, t->v[i].addr, t->v[i].count);
}

/* ------------------------------------------------------------------------------------------ */
/* common option parsing */

struct opts {
	const char *src;
	const char *file;
	long timeout_ms, interval_ms, parallel;
	bool has_t, has_i, has_p;
};

/* Parse options (anywhere after the command) and leave positionals in pos[]. */
static int parse_opts(int argc, char **argv, const char *optstr, struct opts *o,
		      char **pos, int npos)
{
	int c, n;

	optind = 1;
	opterr = 0;
	while ((c = getopt(argc, argv, optstr)) != -1) {
		long v;
		/* the numeric options: their letter, range and place */
		const struct {
			int opt;
			long min, max;
			long *val;
			bool *has;
		} nums[] = {
			{ 't', 1, 3600000, &o->timeout_ms, &o->has_t },
			{ 'i', 1, 3600000, &o->interval_ms, &o->has_i },
			{ 'p', 1, 1024, &o->parallel, &o->has_p },
		};
		size_t k;

		if (c == 's') {
			o->src = optarg;
			continue;
		}
		if (c == 'f') {
			o->file = optarg;
			continue;
		}
		for (k = 0; k < sizeof(nums) / sizeof(nums[0]) && nums[k].opt != c; k++)
			;
		if (k == sizeof(nums) / sizeof(nums[0]) ||
		    parse_num(optarg, nums[k].min, nums[k].max, &v) < 0)
			return -EINVAL;
		*nums[k].val = v;
		*nums[k].has = true;
	}
	n = argc - optind;
	if (n != npos)
		return -EINVAL;
	for (int i = 0; i < n; i++)
		pos[i] = argv[optind + i];
	return 0;
}

static int make_target(const char *host, const char *port_s, const char *src, struct target *t)
{
	long port;

	memset(t, 0, sizeof(*t));
	if (parse_num(port_s, 1, 65535, &port) < 0 ||
	    parse_sockaddr(host, port, &t->dst, &t->dstlen) < 0)
		return -EINVAL;
	if (src) {
		if (parse_sockaddr(src, 0, &t->src, &t->srclen) < 0 ||
		    t->src.ss_family != t->dst.ss_family)
			return -EINVAL;
		t->has_src = true;
	}
	return 0;
}

static int poll_wait_ms(int64_t until, int64_t now, int cap)
{
	int64_t d = until - now;

	if (d < 0)
		d = 0;
	if (d > cap)
		d = cap;
	return (int)d;
}

/* ------------------------------------------------------------------------------------------ */
/* count */

static int cmd_count(int argc, char **argv)
{
	struct opts o = { .timeout_ms = 2000, .parallel = 1 };
	struct tallies seen = { 0 };
	struct cconn *slots = NULL;
	struct pollfd *pfd = NULL;
	struct target t;
	char *pos[3];
	long total, started = 0, finished = 0, fails = 0;
	int rc = EXIT_INTERNAL;

	if (parse_opts(argc, argv, "s:t:p:", &o, pos, 3) < 0 ||
	    parse_num(pos[2], 0, 1000000, &total) < 0 ||
	    make_target(pos[0], pos[1], o.src, &t) < 0) {
		usage();
		return EXIT_USAGE;
	}
	slots = cconns_new(o.parallel);
	pfd = calloc((size_t)o.parallel, sizeof(*pfd));
	if (!slots || !pfd)
		goto out;
	while (finished < total && !stop_flag) {
		int64_t now = now_ms(), next = now + 1000;
		int n;

		for (long i = 0; i < o.parallel; i++) {
			struct cconn *c = &slots[i];

			if (c->state == C_IDLE && started < total) {
				if (cconn_start(c, &t, o.timeout_ms) < 0) {
					fprintf(stderr, "tcpsrc count: out of sockets\n");
					goto out;
				}
				started++;
			}
			if (c->state == C_LINE && now >= c->deadline)
				cconn_fail(c, "timeout");
			if (c->state == C_OPEN) {
				if (tally_add(&seen, c->line) < 0)
					goto out;
				close(c->fd);
				c->fd = -1;
				c->state = C_IDLE;
				finished++;
			} else if (c->state == C_FAILED) {
				fprintf(stderr, "tcpsrc count: attempt failed: %s\n", c->why);
				fails++;
				finished++;
				c->state = C_IDLE;
			}
			/* a freed slot starts its next attempt on the next round */
			if (c->state == C_IDLE && started < total)
				next = now;
			if (c->state == C_LINE && c->deadline < next)
				next = c->deadline;
			pfd[i].fd = c->state == C_LINE ? c->fd : -1;
			pfd[i].events = POLLIN;
			pfd[i].revents = 0;
		}
		if (finished >= total)
			break;
		n = poll(pfd, (nfds_t)o.parallel, poll_wait_ms(next, now, 1000));
		if (n < 0 && errno != EINTR) {
			perror("tcpsrc count: poll");
			goto out;
		}
		now = now_ms();
		for (long i = 0; n > 0 && i < o.parallel; i++)
			if (pfd[i].fd >= 0 && pfd[i].revents)
				cconn_read_line(&slots[i], now);
	}
	/* interrupted: attempts still running count as failures */
	fails += started - finished;
	tally_print(&seen, "");
	printf("fail %ld\n", fails + (total - started));
	rc = 0;
out:
	cconns_free(slots, o.parallel);
	free(pfd);
	free(seen.v);
	fflush(stdout);
	return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* hold */

static int write_ready(const char *file)
{
	char tmp[PATH_MAX];
	FILE *f;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp%d", file, (int)getpid()) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	f = fopen(tmp, "w");
	if (!f)
		return -errno;
	if (fputs("ready\n", f) < 0 || fclose(f) != 0) {
		unlink(tmp);
		return -EIO;
	}
	if (rename(tmp, file) < 0) {
		int err = -errno;

		unlink(tmp);
		return err;
	}
	return 0;
}

static void hold_echo(struct cconn *c, int idx)
{
	char b[512];
	ssize_t n = recv(c->fd, b, sizeof(b), 0);

	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return;
		cconn_fail(c, strerror(errno));
	} else if (n == 0) {
		cconn_fail(c, "eof");
	} else {
		c->outstanding = false;
		c->deadline = 0;
		return;
	}
	fprintf(stderr, "tcpsrc hold: connection %d (%s) broken: %s\n", idx, c->line, c->why);
}

static int cmd_hold(int argc, char **argv)
{
	struct opts o = { .timeout_ms = 2000, .interval_ms = 200 };
	struct tallies seen = { 0 }, lost = { 0 };
	struct cconn *conns = NULL;
	struct pollfd *pfd = NULL;
	struct target t;
	char *pos[4];
	long n, secs, ok = 0, broken = 0;
	int64_t t_end = 0;
	bool ready = false;
	int rc = EXIT_INTERNAL;

	if (parse_opts(argc, argv, "s:i:t:f:", &o, pos, 4) < 0 ||
	    parse_num(pos[2], 1, 10000, &n) < 0 ||
	    parse_num(pos[3], 0, MAX_SECONDS, &secs) < 0 ||
	    make_target(pos[0], pos[1], o.src, &t) < 0) {
		usage();
		return EXIT_USAGE;
	}
	conns = cconns_new(n);
	pfd = calloc((size_t)n, sizeof(*pfd));
	if (!conns || !pfd)
		goto out;
	for (long i = 0; i < n; i++) {
		if (cconn_start(&conns[i], &t, o.timeout_ms) < 0) {
			fprintf(stderr, "tcpsrc hold: out of sockets\n");
			for (long j = i; j < n; j++)
				conns[j].fd = -1;
			goto out;
		}
		if (conns[i].state == C_FAILED)
			fprintf(stderr, "tcpsrc hold: connection %ld failed: %s\n", i,
				conns[i].why);
	}
	while (!stop_flag) {
		int64_t now = now_ms(), next = now + 1000;
		bool pending = false;
		int r;

		for (long i = 0; i < n; i++) {
			struct cconn *c = &conns[i];

			if (c->state == C_LINE && now >= c->deadline) {
				cconn_fail(c, "timeout waiting for address line");
				fprintf(stderr, "tcpsrc hold: connection %ld failed: %s\n", i,
					c->why);
			}
			if (c->state == C_LINE)
				pending = true;
		}
		if (!ready && !pending) {
			ready = true;
			t_end = now + secs * 1000;
			if (o.file && write_ready(o.file) < 0)
				fprintf(stderr, "tcpsrc hold: cannot write %s\n", o.file);
		}
		if (ready && now >= t_end)
			break;
		if (ready && t_end < next)
			next = t_end;
		for (long i = 0; i < n; i++) {
			struct cconn *c = &conns[i];

			if (ready && c->state == C_OPEN) {
				if (c->outstanding && now >= c->deadline) {
					cconn_fail(c, "echo timeout");
					fprintf(stderr, "tcpsrc hold: connection %ld (%s) broken: %s\n",
						i, c->line, c->why);
				} else if (!c->outstanding && now >= c->next_send) {
					ssize_t w = send(c->fd, "x", 1, MSG_NOSIGNAL);

					if (w == 1) {
						c->outstanding = true;
						c->deadline = now + o.timeout_ms;
						c->next_send = now + o.interval_ms;
					} else if (w < 0 && errno != EAGAIN && errno != EINTR &&
						   errno != EWOULDBLOCK) {
						cconn_fail(c, strerror(errno));
						fprintf(stderr, "tcpsrc hold: connection %ld (%s) "
							"broken: %s\n", i, c->line, c->why);
					}
				}
			}
			pfd[i].fd = -1;
			pfd[i].events = POLLIN;
			pfd[i].revents = 0;
			if (c->state == C_LINE) {
				pfd[i].fd = c->fd;
				if (c->deadline < next)
					next = c->deadline;
			} else if (c->state == C_OPEN) {
				pfd[i].fd = c->fd;
				if (ready) {
					int64_t w = c->outstanding ? c->deadline : c->next_send;

					if (w < next)
						next = w;
				}
			}
		}
		r = poll(pfd, (nfds_t)n, poll_wait_ms(next, now, 1000));
		if (r < 0 && errno != EINTR) {
			perror("tcpsrc hold: poll");
			goto out;
		}
		now = now_ms();
		for (long i = 0; r > 0 && i < n; i++) {
			struct cconn *c = &conns[i];

			if (pfd[i].fd < 0 || !pfd[i].revents)
				continue;
			if (c->state == C_LINE) {
				cconn_read_line(c, now);
				if (c->state == C_FAILED)
					fprintf(stderr, "tcpsrc hold: connection %ld failed: %s\n",
						i, c->why);
			} else if (c->state == C_OPEN) {
				hold_echo(c, (int)i);
			}
		}
	}
	for (long i = 0; i < n; i++) {
		struct cconn *c = &conns[i];

		if (c->have_line && tally_add(&seen, c->line) < 0)
			goto out;
		if (c->state == C_OPEN) {
			ok++;
		} else {
			broken++;
			if (c->have_line && tally_add(&lost, c->line) < 0)
				goto out;
		}
	}
	tally_print(&seen, "seen ");
	tally_print(&lost, "lost ");
	printf("ok %ld\nbroken %ld\n", ok, broken);
	rc = broken ? 1 : 0;
out:
	cconns_free(conns, n);
	free(pfd);
	free(seen.v);
	free(lost.v);
	fflush(stdout);
	return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* burst */

struct attempt {
	int64_t t_ms;		/* relative to start */
	bool ok;
	char addr[LINE_MAX_LEN];
};

static int cmd_burst(int argc, char **argv)
{
	struct opts o = { .timeout_ms = 1000, .interval_ms = 50 };
	struct tallies seen = { 0 };
	struct attempt *att = NULL;
	struct cconn *fl = NULL;	/* in flight */
	long *fl_att = NULL;		/* attempt index of each in-flight slot */
	struct pollfd *pfd = NULL;
	struct target t;
	char *pos[3];
	long secs, max_att, nfl = 0, n_att = 0, ok = 0, fail = 0;
	int64_t t0, t_stop, first_fail = -1, last_fail = -1;
	struct timespec t0_real;
	int rc = EXIT_INTERNAL;

	if (parse_opts(argc, argv, "s:i:t:", &o, pos, 3) < 0 ||
	    parse_num(pos[2], 0, MAX_SECONDS, &secs) < 0 ||
	    make_target(pos[0], pos[1], o.src, &t) < 0)
		goto usage;
	max_att = secs * 1000 / o.interval_ms + 1;
	if (max_att > 10000000)
		goto usage;
	nfl = o.timeout_ms / o.interval_ms + 2;
	if (nfl > 4096)
		nfl = 4096;
	att = calloc((size_t)max_att, sizeof(*att));
	fl = cconns_new(nfl);
	fl_att = calloc((size_t)nfl, sizeof(*fl_att));
	pfd = calloc((size_t)nfl, sizeof(*pfd));
	if (!att || !fl || !fl_att || !pfd)
		goto out;
	t0 = now_ms();
	clock_gettime(CLOCK_REALTIME, &t0_real);
	t_stop = t0 + secs * 1000;
	for (;;) {
		int64_t now = now_ms(), next = now + 1000, due;
		bool busy = false;
		int r;

		/* settle finished attempts */
		for (long i = 0; i < nfl; i++) {
			struct cconn *c = &fl[i];
			struct attempt *a = &att[fl_att[i]];

			if (c->state == C_LINE && now >= c->deadline)
				cconn_fail(c, "timeout");
			if (c->state == C_OPEN) {
				a->ok = true;
				snprintf(a->addr, sizeof(a->addr), "%s", c->line);
				close(c->fd);
				c->fd = -1;
				c->state = C_IDLE;
			} else if (c->state == C_FAILED) {
				a->ok = false;
				snprintf(a->addr, sizeof(a->addr), "-");
				c->state = C_IDLE;
			}
			if (c->state == C_LINE)
				busy = true;
		}
		/* start the attempts that are due (one per interval, no catch-up burst) */
		due = t0 + n_att * o.interval_ms;
		if (!stop_flag && n_att < max_att && now >= due && now < t_stop) {
			long slot = -1;

			for (long i = 0; i < nfl && slot < 0; i++)
				if (fl[i].state == C_IDLE)
					slot = i;
			if (slot < 0) {
				/* cannot happen with nfl > timeout/interval; count a failure */
				att[n_att].t_ms = now - t0;
				snprintf(att[n_att].addr, sizeof(att[n_att].addr), "-");
				n_att++;
			} else {
				att[n_att].t_ms = now - t0;
				fl_att[slot] = n_att;
				if (cconn_start(&fl[slot], &t, o.timeout_ms) < 0) {
					fprintf(stderr, "tcpsrc burst: out of sockets\n");
					goto out;
				}
				n_att++;
				busy = true;
				continue;	/* settle an immediate failure first */
			}
		}
		if ((stop_flag || n_att >= max_att || now >= t_stop) && !busy)
			break;
		if (!stop_flag && n_att < max_att) {
			due = t0 + n_att * o.interval_ms;
			if (due < t_stop && due < next)
				next = due;
		}
		for (long i = 0; i < nfl; i++) {
			pfd[i].fd = fl[i].state == C_LINE ? fl[i].fd : -1;
			pfd[i].events = POLLIN;
			pfd[i].revents = 0;
			if (fl[i].state == C_LINE && fl[i].deadline < next)
				next = fl[i].deadline;
		}
		r = poll(pfd, (nfds_t)nfl, poll_wait_ms(next, now, 1000));
		if (r < 0 && errno != EINTR) {
			perror("tcpsrc burst: poll");
			goto out;
		}
		if (r < 0 && stop_flag) {
			/* interrupted: abandon what is in flight as failures */
			for (long i = 0; i < nfl; i++)
				if (fl[i].state == C_LINE)
					cconn_fail(&fl[i], "interrupted");
			continue;
		}
		now = now_ms();
		for (long i = 0; r > 0 && i < nfl; i++)
			if (pfd[i].fd >= 0 && pfd[i].revents)
				cconn_read_line(&fl[i], now);
	}
	for (long i = 0; i < n_att; i++) {
		struct attempt *a = &att[i];

		printf("attempt %lld %s %s\n", (long long)a->t_ms, a->ok ? "ok" : "fail", a->addr);
		if (a->ok) {
			ok++;
			if (tally_add(&seen, a->addr) < 0)
				goto out;
		} else {
			fail++;
			if (first_fail < 0)
				first_fail = a->t_ms;
			last_fail = a->t_ms;
		}
	}
	tally_print(&seen, "seen ");
	printf("ok %ld\nfail %ld\nfirst_fail %lld\nlast_fail %lld\n", ok, fail,
	       (long long)first_fail, (long long)last_fail);
	printf("t0_realtime_us %lld\n",
	       (long long)t0_real.tv_sec * 1000000 + t0_real.tv_nsec / 1000);
	rc = 0;
	goto out;
usage:
	usage();
	rc = EXIT_USAGE;
out:
	cconns_free(fl, nfl);
	free(att);
	free(fl_att);
	free(pfd);
	free(seen.v);
	fflush(stdout);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage();
		return EXIT_USAGE;
	}
	setup_signals();
	raise_nofile();
	/* line-buffered so a caller tailing the output sees whole lines */
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (strcmp(argv[1], "serve") == 0)
		return cmd_serve(argc - 1, argv + 1);
	if (strcmp(argv[1], "count") == 0)
		return cmd_count(argc - 1, argv + 1);
	if (strcmp(argv[1], "hold") == 0)
		return cmd_hold(argc - 1, argv + 1);
	if (strcmp(argv[1], "burst") == 0)
		return cmd_burst(argc - 1, argv + 1);
	usage();
	return EXIT_USAGE;
}
