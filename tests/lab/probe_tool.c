// SPDX-License-Identifier: GPL-2.0-or-later
/* Lab tool for the prober and the servers it probes.
 *   probe_tool run [-t] [-r] [-p PORT] [-n DNSNAME] [-u PATH] METHOD IFNAME SRCADDR MARK
 *                  ROUNDS INTERVAL_MS TIMEOUT_MS TARGET[:PORT]...
 *       one prober, one line per round: "round N sent S answered A rtt_us R"
 *       (-t appends " end_ms T", the round's end in ms since the start; -r unbinds after the
 *       first round and rebinds 200 ms later; IFNAME "-" binds to no device). Exits 0, or 1
 *       when an fd leaked across rounds, or 2 on bad arguments or when stuck.
 *   probe_tool serve-tcp ADDR PORT   accept; answer an HTTP request with "HTTP/1.0 200 OK"
 *   probe_tool serve-dns ADDR PORT   answer every query with its id, QR set, NXDOMAIN
 * The servers run until killed. */
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "addr.h"
#include "labsock.h"
#include "log.h"
#include "loop.h"
#include "probe.h"

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1;   /* the directory's own fd */
}

static int parse_u32(const char *s, uint32_t *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || end == s || *end || v > UINT32_MAX || s[0] == '-')
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

/* "a.b.c.d", "a.b.c.d:port", "[v6]:port" or a bare v6 address. */
static int parse_target(const char *s, struct ul_addr *a, uint32_t *port)
{
	char buf[UL_ADDR_STRLEN + 8];
	char *colon;

	*port = 0;
	if (strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	if (buf[0] == '[') {
		char *close = strchr(buf, ']');

		if (!close)
			return -EINVAL;
		*close = 0;
		if (close[1] == ':' && (parse_u32(close + 2, port) || !*port || *port > 65535))
			return -EINVAL;
		else if (close[1] && close[1] != ':')
			return -EINVAL;
		return ul_addr_parse(buf + 1, false, a);
	}
	colon = strchr(buf, ':');
	if (colon && !strchr(colon + 1, ':')) {
		*colon = 0;
		if (parse_u32(colon + 1, port) || !*port || *port > 65535)
			return -EINVAL;
	}
	return ul_addr_parse(buf, false, a);
}

/* ---- run -------------------------------------------------------------------------------- */

struct run {
	struct ul_loop *loop;
	struct ul_prober *p;
	struct ul_addr src;
	uint32_t rounds, done;
	uint64_t t0_ms;
	bool times, rebind_test, unbound;
	int fds;                        /* open fds at the first round's end */
	int status;
	struct ul_timer rebind, guard;
};

static void on_round(void *data, const struct ul_round *r)
{
	struct run *run = data;
	int fds = count_fds();

	if (run->unbound) {
		fprintf(stderr, "probe_tool: a round ended while unbound\n");
		run->status = 1;
	}
	run->done++;
	printf("round %u sent %u answered %u rtt_us %u", run->done, r->sent, r->answered,
	       r->rtt_us);
	if (run->times)
		printf(" end_ms %llu", (unsigned long long)(ul_now_ms() - run->t0_ms));
	printf("\n");
	fflush(stdout);
	if (run->done == 1) {
		run->fds = fds;
	} else if (fds != run->fds) {
		fprintf(stderr, "probe_tool: %d fds open after round %u, %d after round 1\n", fds,
			run->done, run->fds);
		run->status = 1;
	}
	if (run->done >= run->rounds) {
		ul_loop_stop(run->loop);
		return;
	}
	if (run->rebind_test && run->done == 1) {
		/* the same address again is a no-op, NULL stops everything */
		if (ul_prober_bind(run->p, &run->src) < 0)
			run->status = 1;
		ul_prober_bind(run->p, NULL);
		run->unbound = true;
		ul_timer_arm(run->loop, &run->rebind, ul_now_ms() + 200);
	}
}

static void on_rebind(struct ul_timer *t)
{
	struct run *run = t->data;

	run->unbound = false;
	ul_prober_bind(run->p, &run->src);
}

static void on_guard(struct ul_timer *t)
{
	struct run *run = t->data;

	fprintf(stderr, "probe_tool: stuck after %u of %u rounds\n", run->done, run->rounds);
	run->status = 2;
	ul_loop_stop(run->loop);
}

static int usage(void)
{
	fprintf(stderr,
		"usage: probe_tool run [-t] [-r] [-p PORT] [-n DNSNAME] [-u PATH] METHOD IFNAME "
		"SRCADDR MARK ROUNDS INTERVAL_MS TIMEOUT_MS TARGET[:PORT]...\n"
		"       probe_tool serve-tcp ADDR PORT\n"
		"       probe_tool serve-dns ADDR PORT\n");
	return 2;
}

static int cmd_run(int argc, char **argv)
{
	struct run run = { .status = 0 };
	struct ul_check chk;
	const struct ul_probe_stats *st;
	uint32_t mark, port = 0, v;
	const char *ifname;
	int i = 0, fds0, fds1, err;

	memset(&chk, 0, sizeof(chk));
	strcpy(chk.dns_name, "example.com");
	strcpy(chk.http_path, "/");
	for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
		const char *o = argv[i];

		if (!strcmp(o, "-t")) {
			run.times = true;
		} else if (!strcmp(o, "-r")) {
			run.rebind_test = true;
		} else if (i + 1 < argc && !strcmp(o, "-p")) {
			if (parse_u32(argv[++i], &port) || !port || port > 65535)
				return usage();
		} else if (i + 1 < argc && !strcmp(o, "-n")) {
			snprintf(chk.dns_name, sizeof(chk.dns_name), "%s", argv[++i]);
		} else if (i + 1 < argc && !strcmp(o, "-u")) {
			snprintf(chk.http_path, sizeof(chk.http_path), "%s", argv[++i]);
		} else {
			return usage();
		}
	}
	argc -= i;
	argv += i;
	if (argc < 8)
		return usage();
	if (!strcmp(argv[0], "icmp")) {
		chk.method = UL_CHECK_ICMP;
	} else if (!strcmp(argv[0], "dns")) {
		chk.method = UL_CHECK_DNS;
	} else if (!strcmp(argv[0], "tcp")) {
		chk.method = UL_CHECK_TCP;
	} else if (!strcmp(argv[0], "http")) {
		chk.method = UL_CHECK_HTTP;
	} else {
		fprintf(stderr, "probe_tool: unknown method %s\n", argv[0]);
		return 2;
	}
	ifname = strcmp(argv[1], "-") ? argv[1] : NULL;
	if (ul_addr_parse(argv[2], false, &run.src) || parse_u32(argv[3], &mark) ||
	    parse_u32(argv[4], &run.rounds) || !run.rounds ||
	    parse_u32(argv[5], &chk.interval_ms) || parse_u32(argv[6], &chk.timeout_ms)) {
		fprintf(stderr, "probe_tool: bad SRCADDR, MARK, ROUNDS, INTERVAL_MS or TIMEOUT_MS\n");
		return 2;
	}
	if (argc - 7 > UL_MAX_TARGETS) {
		fprintf(stderr, "probe_tool: at most %d targets\n", UL_MAX_TARGETS);
		return 2;
	}
	for (i = 7; i < argc; i++) {
		if (parse_target(argv[i], &chk.targets[chk.n_targets++], &v)) {
			fprintf(stderr, "probe_tool: bad target %s\n", argv[i]);
			return 2;
		}
		if (v && port && v != port) {
			fprintf(stderr, "probe_tool: all targets must use one port\n");
			return 2;
		}
		if (v)
			port = v;
	}
	chk.port = (uint16_t)(port ? port : chk.method == UL_CHECK_DNS ? 53 : 80);

	err = ul_loop_new(&run.loop);
	if (err) {
		fprintf(stderr, "probe_tool: loop: %s\n", strerror(-err));
		return 2;
	}
	fds0 = count_fds();
	run.p = ul_prober_new(run.loop, &chk, ifname, mark, on_round, &run);
	if (!run.p) {
		fprintf(stderr, "probe_tool: prober: %s\n", strerror(errno));
		ul_loop_free(run.loop);
		return 2;
	}
	run.rebind.cb = on_rebind;
	run.rebind.data = &run;
	run.guard.cb = on_guard;
	run.guard.data = &run;
	run.t0_ms = ul_now_ms();
	ul_timer_arm(run.loop, &run.guard, run.t0_ms + 5000 + (uint64_t)run.rounds *
		     (chk.interval_ms > chk.timeout_ms ? chk.interval_ms : chk.timeout_ms));
	err = ul_prober_bind(run.p, &run.src);
	if (err)
		fprintf(stderr, "probe_tool: bind: %s (probing anyway)\n", strerror(-err));
	err = ul_loop_run(run.loop);
	if (err) {
		fprintf(stderr, "probe_tool: loop: %s\n", strerror(-err));
		run.status = 2;
	}
	st = ul_prober_stats(run.p);
	fprintf(stderr, "stats rounds %llu sent %llu answered %llu timeouts %llu errors %llu\n",
		(unsigned long long)st->rounds, (unsigned long long)st->sent,
		(unsigned long long)st->answered, (unsigned long long)st->timeouts,
		(unsigned long long)st->errors);
	ul_prober_free(run.p);
	fds1 = count_fds();
	if (fds1 != fds0) {
		fprintf(stderr, "probe_tool: %d fds open after the prober, %d before\n", fds1, fds0);
		run.status = run.status ? run.status : 1;
	}
	ul_timer_cancel(run.loop, &run.guard);
	ul_timer_cancel(run.loop, &run.rebind);
	ul_loop_free(run.loop);
	return run.status;
}

/* ---- servers --------------------------------------------------------------------------- */

static int server_socket(const char *addr, const char *port_s, int type)
{
	struct sockaddr_storage ss;
	struct ul_addr a;
	uint32_t port;
	socklen_t sl;
	int fd, one = 1;

	if (ul_addr_parse(addr, false, &a) || parse_u32(port_s, &port) || port > 65535) {
		fprintf(stderr, "probe_tool: bad address or port\n");
		return -1;
	}
	sl = ul_addr_to_sockaddr(&a, (uint16_t)port, &ss);
	fd = socket(a.family, type | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fd, (struct sockaddr *)&ss, sl) || (type == SOCK_STREAM && listen(fd, 64))) {
		perror("probe_tool: socket");
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

struct conn {
	struct ul_watch w;
	struct ul_loop *loop;
	char buf[4096];
	size_t len;
};

static void conn_close(struct conn *c)
{
	ul_loop_del(c->loop, &c->w);
	close(c->w.fd);
	free(c);
}

static void conn_event(struct ul_watch *w, uint32_t events)
{
	static const char resp[] = "HTTP/1.0 200 OK\r\n\r\n";
	struct conn *c = w->data;
	ssize_t n = recv(w->fd, c->buf + c->len, sizeof(c->buf) - 1 - c->len, MSG_DONTWAIT);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		conn_close(c);
		return;
	}
	c->len += (size_t)n;
	c->buf[c->len] = 0;
	if (strstr(c->buf, "\r\n\r\n") || strstr(c->buf, "\n\n")) {
		if (send(w->fd, resp, sizeof(resp) - 1, MSG_NOSIGNAL) < 0)
			perror("probe_tool: send");
		conn_close(c);
	} else if (c->len == sizeof(c->buf) - 1) {
		conn_close(c);
	}
}

static void accept_event(struct ul_watch *w, uint32_t events)
{
	struct ul_loop *loop = w->data;
	struct conn *c;
	int fd;

	c = lab_accept(w->fd, sizeof(*c), &fd, NULL);
	if (!c)
		return;
	c->loop = loop;
	c->w.fd = fd;
	c->w.cb = conn_event;
	c->w.data = c;
	if (ul_loop_add(loop, &c->w, EPOLLIN)) {
		close(fd);
		free(c);
	}
}

static int serve_tcp(const char *addr, const char *port)
{
	struct ul_loop *loop;
	struct ul_watch lw;
	int err;

	lw.fd = server_socket(addr, port, SOCK_STREAM);
	if (lw.fd < 0)
		return 2;
	if (ul_loop_new(&loop)) {
		close(lw.fd);
		return 2;
	}
	lw.cb = accept_event;
	lw.data = loop;
	err = ul_loop_add(loop, &lw, EPOLLIN);
	if (!err)
		err = ul_loop_run(loop);
	ul_loop_free(loop);
	close(lw.fd);
	return err ? 2 : 0;
}

static int serve_dns(const char *addr, const char *port)
{
	int fd = server_socket(addr, port, SOCK_DGRAM);

	if (fd < 0)
		return 2;
	for (;;) {
		uint8_t buf[4096];
		struct sockaddr_storage from;
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			perror("probe_tool: recvfrom");
			close(fd);
			return 2;
		}
		if (n < 12 || (buf[2] & 0x80))
			continue;
		buf[2] = (uint8_t)(0x80 | (buf[2] & 0x79));     /* QR, same opcode and RD */
		buf[3] = 0x83;                                  /* RA, NXDOMAIN */
		memset(buf + 6, 0, 6);                          /* no answers */
		sendto(fd, buf, (size_t)n, 0, (struct sockaddr *)&from, fl);
	}
}

int main(int argc, char **argv)
{
	ul_log_init("probe_tool");
	if (argc >= 2 && !strcmp(argv[1], "run"))
		return cmd_run(argc - 2, argv + 2);
	if (argc == 4 && !strcmp(argv[1], "serve-tcp"))
		return serve_tcp(argv[2], argv[3]);
	if (argc == 4 && !strcmp(argv[1], "serve-dns"))
		return serve_dns(argv[2], argv[3]);
	return usage();
}
