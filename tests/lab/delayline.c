// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * delayline — added latency, jitter and loss for the namespace lab (this kernel has no netem).
 *
 *   delayline -q QUEUE [-d DELAY_MS] [-j JITTER_MS] [-l LOSS_PCT] [-S SEED]
 *
 * Binds NFQUEUE queue QUEUE of the network namespace it runs in (copy mode META: the kernel
 * keeps the packets, only their ids come up) and holds each packet's verdict for DELAY_MS
 * plus a uniform jitter in [-JITTER_MS, +JITTER_MS] (never below 0), then accepts it; LOSS_PCT
 * percent of the packets (0..100, a decimal fraction allowed) are dropped on arrival instead.
 * Packets leave in the order they came (a later packet never overtakes an earlier one: a link
 * is a queue), so a packet's delay is max(its own draw, the previous packet's release).
 * Feed it with e.g.
 *
 *	iptables -I FORWARD -i c1 -j NFQUEUE --queue-num 1 --queue-bypass
 *
 * (the lab's lab_delay does that for one direction of an ISP, so DELAY_MS is added RTT).
 * Prints "ready" on stdout once the queue is bound. SIGTERM/SIGINT: every held packet is
 * accepted at once, the counters are printed ("packets N accepted A dropped D overflow O
 * avg_delay_us U max_delay_us M") and it exits 0. Usage errors exit 2, runtime errors 3.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/netfilter.h>
#include <libnetfilter_queue/libnetfilter_queue.h>

#define EXIT_USAGE 2
#define EXIT_RUNTIME 3
#define HELD_MAX 16384			/* packets held at once; more are accepted at once */
#define KERNEL_QUEUE_MAXLEN 16384
#define RX_BUF 65536
#define MAX_DELAY_MS 60000

struct held {
	uint32_t id;
	uint64_t release_us;
	uint64_t arrival_us;
};

struct dl {
	struct nfq_q_handle *qh;
	uint64_t delay_us, jitter_us;
	double loss_pct;
	uint64_t rng;
	struct held ring[HELD_MAX];
	uint32_t head, n;		/* oldest at head */
	uint64_t last_release_us;
	uint64_t packets, accepted, dropped, overflow, verdict_errors;
	uint64_t delay_sum_us, delay_max_us;
};

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* xorshift64*: plenty for delays and drops, reproducible with -S */
static uint64_t rnd(struct dl *d)
{
	d->rng ^= d->rng >> 12;
	d->rng ^= d->rng << 25;
	d->rng ^= d->rng >> 27;
	return d->rng * 2685821657736338717ull;
}

/* uniform in [0, 1) */
static double rnd_unit(struct dl *d)
{
	return (double)(rnd(d) >> 11) / 9007199254740992.0;
}

static void verdict(struct dl *d, uint32_t id, uint32_t v)
{
	if (nfq_set_verdict(d->qh, id, v, 0, NULL) < 0)
		d->verdict_errors++;
}

static void account(struct dl *d, uint64_t arrival_us, uint64_t t_us)
{
	uint64_t held = t_us > arrival_us ? t_us - arrival_us : 0;

	d->accepted++;
	d->delay_sum_us += held;
	if (held > d->delay_max_us)
		d->delay_max_us = held;
}

static int on_packet(struct nfq_q_handle *qh, struct nfgenmsg *msg, struct nfq_data *nfa,
		     void *data)
{
	struct dl *d = data;
	struct nfqnl_msg_packet_hdr *ph = nfq_get_msg_packet_hdr(nfa);
	uint64_t t = now_us(), delay = d->delay_us, rel;
	uint32_t id;

	(void)qh;
	(void)msg;
	if (!ph)
		return 0;
	id = ntohl(ph->packet_id);
	d->packets++;
	if (d->loss_pct > 0 && rnd_unit(d) * 100.0 < d->loss_pct) {
		d->dropped++;
		verdict(d, id, NF_DROP);
		return 0;
	}
	if (d->jitter_us) {
		/* uniform in [delay - jitter, delay + jitter], never negative */
		double off = (rnd_unit(d) * 2.0 - 1.0) * (double)d->jitter_us;

		delay = (double)delay + off > 0 ? (uint64_t)((double)delay + off) : 0;
	}
	rel = t + delay;
	if (rel < d->last_release_us)
		rel = d->last_release_us;	/* no overtaking */
	if (d->n == HELD_MAX || (!delay && !d->n)) {
		if (d->n == HELD_MAX)
			d->overflow++;
		account(d, t, t);
		verdict(d, id, NF_ACCEPT);
		return 0;
	}
	d->ring[(d->head + d->n) % HELD_MAX] = (struct held){ id, rel, t };
	d->n++;
	d->last_release_us = rel;
	return 0;
}

/* Accept every held packet due by t (all of them when all is true). */
static void release(struct dl *d, uint64_t t, bool all)
{
	while (d->n) {
		struct held *h = &d->ring[d->head];

		if (!all && h->release_us > t)
			break;
		account(d, h->arrival_us, t);
		verdict(d, h->id, NF_ACCEPT);
		d->head = (d->head + 1) % HELD_MAX;
		d->n--;
	}
}

static int parse_num(const char *s, double lo, double hi, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: delayline -q QUEUE [-d DELAY_MS] [-j JITTER_MS] [-l LOSS_PCT] "
		"[-S SEED]\n");
	exit(EXIT_USAGE);
}

int main(int argc, char **argv)
{
	static struct dl d;
	static char buf[RX_BUF] __attribute__((aligned));
	struct nfq_handle *h;
	struct sigaction sa;
	double v, queue = -1, seed = 0;
	int opt, fd, rc = 0;
	bool have_seed = false;

	while ((opt = getopt(argc, argv, "q:d:j:l:S:")) != -1) {
		switch (opt) {
		case 'q':
			if (parse_num(optarg, 0, 65535, &queue) < 0 || queue != (int)queue)
				usage();
			break;
		case 'd':
			if (parse_num(optarg, 0, MAX_DELAY_MS, &v) < 0)
				usage();
			d.delay_us = (uint64_t)(v * 1000.0);
			break;
		case 'j':
			if (parse_num(optarg, 0, MAX_DELAY_MS, &v) < 0)
				usage();
			d.jitter_us = (uint64_t)(v * 1000.0);
			break;
		case 'l':
			if (parse_num(optarg, 0, 100, &d.loss_pct) < 0)
				usage();
			break;
		case 'S':
			if (parse_num(optarg, 1, 1e15, &seed) < 0)
				usage();
			have_seed = true;
			break;
		default:
			usage();
		}
	}
	if (queue < 0 || optind != argc)
		usage();
	if (have_seed)
		d.rng = (uint64_t)seed;
	else if (getrandom(&d.rng, sizeof(d.rng), 0) != sizeof(d.rng))
		d.rng = (uint64_t)now_us() ^ (uint64_t)getpid();
	if (!d.rng)
		d.rng = 88172645463325252ull;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	h = nfq_open();
	if (!h) {
		fprintf(stderr, "delayline: nfq_open: %s\n", strerror(errno));
		return EXIT_RUNTIME;
	}
	d.qh = nfq_create_queue(h, (uint16_t)queue, on_packet, &d);
	if (!d.qh) {
		fprintf(stderr, "delayline: cannot bind queue %d: %s\n", (int)queue, strerror(errno));
		nfq_close(h);
		return EXIT_RUNTIME;
	}
	if (nfq_set_mode(d.qh, NFQNL_COPY_META, 0) < 0) {
		fprintf(stderr, "delayline: copy mode META: %s\n", strerror(errno));
		rc = EXIT_RUNTIME;
		goto out;
	}
	if (nfq_set_queue_maxlen(d.qh, KERNEL_QUEUE_MAXLEN) < 0)
		fprintf(stderr, "delayline: queue maxlen: %s (kept the default)\n", strerror(errno));
	/* GSO packets come up whole: META mode never needs their payload */
	if (nfq_set_queue_flags(d.qh, NFQA_CFG_F_GSO, NFQA_CFG_F_GSO) < 0)
		fprintf(stderr, "delayline: NFQA_CFG_F_GSO: %s (ignored)\n", strerror(errno));
	fd = nfq_fd(h);
	{
		int sz = 4 << 20;

		/* a burst must not overflow the socket (ENOBUFS loses packets in the kernel) */
		if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)) < 0)
			setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	}
	printf("ready queue %d delay_ms %.3f jitter_ms %.3f loss_pct %.3f\n", (int)queue,
	       d.delay_us / 1000.0, d.jitter_us / 1000.0, d.loss_pct);
	fflush(stdout);

	while (!stop_flag) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		struct timespec ts, *tsp = NULL;
		uint64_t t = now_us();

		release(&d, t, false);
		if (d.n) {
			uint64_t wait = d.ring[d.head].release_us - t;

			ts.tv_sec = (time_t)(wait / 1000000u);
			ts.tv_nsec = (long)(wait % 1000000u) * 1000;
			tsp = &ts;
		}
		if (ppoll(&pfd, 1, tsp, NULL) < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "delayline: poll: %s\n", strerror(errno));
			rc = EXIT_RUNTIME;
			break;
		}
		if (!(pfd.revents & POLLIN))
			continue;
		for (int i = 0; i < 256; i++) {
			ssize_t len = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);

			if (len < 0) {
				if (errno == ENOBUFS) {
					d.overflow++;
					continue;
				}
				if (errno != EAGAIN && errno != EINTR) {
					fprintf(stderr, "delayline: recv: %s\n", strerror(errno));
					rc = EXIT_RUNTIME;
					stop_flag = 1;
				}
				break;
			}
			nfq_handle_packet(h, buf, (int)len);
		}
	}
	release(&d, now_us(), true);
	printf("packets %llu accepted %llu dropped %llu overflow %llu avg_delay_us %llu "
	       "max_delay_us %llu verdict_errors %llu\n",
	       (unsigned long long)d.packets, (unsigned long long)d.accepted,
	       (unsigned long long)d.dropped, (unsigned long long)d.overflow,
	       (unsigned long long)(d.accepted ? d.delay_sum_us / d.accepted : 0),
	       (unsigned long long)d.delay_max_us, (unsigned long long)d.verdict_errors);
	fflush(stdout);
out:
	nfq_destroy_queue(d.qh);
	nfq_close(h);
	return rc;
}
