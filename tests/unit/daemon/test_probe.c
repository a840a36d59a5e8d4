// SPDX-License-Identifier: GPL-2.0-or-later
/* The pure wire-format functions of the prober, and its argument checks. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <sys/socket.h>

#include "probe.h"
#include "tk.h"

/* Reference Internet checksum (RFC 1071), written independently of src/daemon/probe.c. */
static uint16_t ref_csum(const uint8_t *b, size_t len)
{
	uint64_t sum = 0;

	for (size_t i = 0; i < len; i++)
		sum += (i % 2) ? b[i] : (uint64_t)b[i] << 8;
	while (sum > 0xffff)
		sum = (sum >> 16) + (sum & 0xffff);
	return (uint16_t)(~sum & 0xffff);
}

/* The request turned into the reply a host sends back. */
static void to_reply(uint8_t *b, size_t len)
{
	uint16_t c;

	b[0] = 0;
	b[2] = b[3] = 0;
	c = ref_csum(b, len);
	b[2] = (uint8_t)(c >> 8);
	b[3] = (uint8_t)c;
}

static const uint8_t PL[UL_PROBE_ICMP_PAYLOAD] = {
	0x9e, 0x01, 0x77, 0x3c, 0xd2, 0x55, 0x10, 0xaa, 0x42, 0x0f, 0xe1, 0x38, 0x6b, 0xc4, 0x2d, 0x90,
};

static void test_icmp_build(void **state)
{
	uint8_t b[64];
	size_t n = ul_probe_icmp_build(b, sizeof(b), 0x1234, 0xabcd, PL);

	(void)state;
	assert_true(n >= 8);
	assert_int_equal(b[0], 8);      /* echo request */
	assert_int_equal(b[1], 0);
	assert_int_equal(b[4], 0x12);
	assert_int_equal(b[5], 0x34);
	assert_int_equal(b[6], 0xab);
	assert_int_equal(b[7], 0xcd);
	assert_int_equal(ref_csum(b, n), 0);    /* checksum over the whole message verifies */
	/* recompute with the field zeroed: same value as stored */
	{
		uint8_t c[64];

		memcpy(c, b, n);
		c[2] = c[3] = 0;
		assert_int_equal(ref_csum(c, n), (uint16_t)(b[2] << 8 | b[3]));
	}
	/* odd payload sizes are not produced, but other ids give other checksums */
	{
		uint8_t d[64];

		assert_int_equal(ul_probe_icmp_build(d, sizeof(d), 0x1235, 0xabcd, PL), n);
		assert_int_equal(ref_csum(d, n), 0);
		assert_memory_not_equal(b + 2, d + 2, 2);
	}
	assert_int_equal(ul_probe_icmp_build(b, 7, 1, 1, PL), 0);
	assert_int_equal(ul_probe_icmp_build(b, n - 1, 1, 1, PL), 0);
	assert_int_equal(ul_probe_icmp_build(NULL, 64, 1, 1, PL), 0);
	assert_int_equal(ul_probe_icmp_build(b, sizeof(b), 1, 1, NULL), 0);
	/* the payload is the prober's bytes, verbatim */
	assert_int_equal(n, 8 + UL_PROBE_ICMP_PAYLOAD);
	assert_memory_equal(b + 8, PL, UL_PROBE_ICMP_PAYLOAD);
}

/* A reply with the right id and sequence but not our payload (a forged reply, another
 * ping that happens to use our id, a host that truncates or rewrites the payload) is no
 * answer, also when its checksum is valid. */
static void test_icmp_forged(void **state)
{
	uint8_t b[64], other[UL_PROBE_ICMP_PAYLOAD];
	size_t n = ul_probe_icmp_build(b, sizeof(b), 0x4242, 7, PL);
	uint16_t seq = 0;

	(void)state;
	to_reply(b, n);
	assert_int_equal(ul_probe_icmp_match(b, n, 0x4242, PL, &seq), 1);
	/* every single payload byte changed (checksum fixed up): rejected */
	for (size_t i = 0; i < UL_PROBE_ICMP_PAYLOAD; i++) {
		uint8_t f[64];

		memcpy(f, b, n);
		f[8 + i] ^= 0x01;
		to_reply(f, n);
		assert_int_equal(ref_csum(f, n), 0);
		assert_int_equal(ul_probe_icmp_match(f, n, 0x4242, PL, &seq), 0);
	}
	/* a reply built with another prober's payload (same id and seq) */
	memcpy(other, PL, sizeof(other));
	other[0] ^= 0xff;
	assert_int_equal(ul_probe_icmp_build(b, sizeof(b), 0x4242, 7, other), n);
	to_reply(b, n);
	assert_int_equal(ul_probe_icmp_match(b, n, 0x4242, PL, &seq), 0);
	assert_int_equal(ul_probe_icmp_match(b, n, 0x4242, other, &seq), 1);
	/* a typical ping(8) reply: 8 header bytes, then its own timestamp payload */
	memset(b + 8, 0, UL_PROBE_ICMP_PAYLOAD);
	to_reply(b, n);
	assert_int_equal(ul_probe_icmp_match(b, n, 0x4242, PL, &seq), 0);
	/* header only, no payload at all */
	n = ul_probe_icmp_build(b, sizeof(b), 0x4242, 7, PL);
	to_reply(b, 8);
	assert_int_equal(ul_probe_icmp_match(b, 8, 0x4242, PL, &seq), 0);
	assert_int_equal(ul_probe_icmp_match(b, n, 0x4242, NULL, &seq), 0);
}

static void test_icmp_match(void **state)
{
	uint8_t b[64];
	size_t n = ul_probe_icmp_build(b, sizeof(b), 0x4242, 7, PL);
	uint16_t seq = 0;

	(void)state;
	/* our own request is not a reply */
	assert_int_equal(ul_probe_icmp_match(b, n, 0x4242, PL, &seq), 0);
	to_reply(b, n);
	assert_int_equal(ul_probe_icmp_match(b, n, 0x4242, PL, &seq), 1);
	assert_int_equal(seq, 7);
	assert_int_equal(ul_probe_icmp_match(b, n, 0x4242, PL, NULL), 1);
	assert_int_equal(ul_probe_icmp_match(b, n, 0x4243, PL, &seq), 0);     /* other prober */
	assert_int_equal(ul_probe_icmp_match(b, 7, 0x4242, PL, &seq), 0);     /* short */
	assert_int_equal(ul_probe_icmp_match(NULL, 0, 0x4242, PL, &seq), 0);
	b[n - 1] ^= 0x55;                                                  /* corrupted */
	assert_int_equal(ul_probe_icmp_match(b, n, 0x4242, PL, &seq), 0);
	b[n - 1] ^= 0x55;
	b[1] = 1;                                                          /* bad code */
	assert_int_equal(ul_probe_icmp_match(b, n, 0x4242, PL, &seq), 0);
	b[1] = 0;
	b[0] = 3;                                                          /* unreachable */
	assert_int_equal(ul_probe_icmp_match(b, n, 0x4242, PL, &seq), 0);
}

/* ICMPv6 echo: type 128 out, 129 back with our payload, checksum left to the kernel. */
static void test_icmp6(void **state)
{
	uint8_t b[64], v4[64], pl[UL_PROBE_ICMP_PAYLOAD], other[UL_PROBE_ICMP_PAYLOAD];
	uint16_t seq = 0;
	size_t n;

	for (size_t i = 0; i < sizeof(pl); i++) {
		pl[i] = (uint8_t)(0x40 + i);
		other[i] = (uint8_t)(0x41 + i);
	}
	n = ul_probe_icmp6_build(b, sizeof(b), 0x1234, 0xabcd, pl);
	assert_int_equal(n, 8 + UL_PROBE_ICMP_PAYLOAD);
	assert_int_equal(b[0], 128);
	assert_int_equal(b[1], 0);
	assert_int_equal(b[2] | b[3], 0);                  /* the kernel fills it in */
	assert_int_equal(b[4] << 8 | b[5], 0x1234);
	assert_int_equal(b[6] << 8 | b[7], 0xabcd);
	assert_memory_equal(b + 8, pl, sizeof(pl));
	/* the request itself is no answer */
	assert_int_equal(ul_probe_icmp6_match(b, n, 0x1234, pl, &seq), 0);
	b[0] = 129;
	b[2] = 0x5a;                                       /* any checksum: the kernel checked */
	assert_int_equal(ul_probe_icmp6_match(b, n, 0x1234, pl, &seq), 1);
	assert_int_equal(seq, 0xabcd);
	assert_int_equal(ul_probe_icmp6_match(b, n, 0x1235, pl, &seq), 0);     /* other prober */
	assert_int_equal(ul_probe_icmp6_match(b, n, 0x1234, other, &seq), 0);  /* forged */
	assert_int_equal(ul_probe_icmp6_match(b, 7, 0x1234, pl, &seq), 0);     /* short */
	assert_int_equal(ul_probe_icmp6_match(NULL, 0, 0x1234, pl, &seq), 0);
	b[1] = 1;
	assert_int_equal(ul_probe_icmp6_match(b, n, 0x1234, pl, &seq), 0);     /* bad code */
	/* an IPv4 echo reply (type 0) is not an ICMPv6 one */
	n = ul_probe_icmp_build(v4, sizeof(v4), 0x1234, 1, pl);
	v4[0] = 0;
	assert_int_equal(ul_probe_icmp6_match(v4, n, 0x1234, pl, &seq), 0);
	assert_int_equal(ul_probe_icmp6_build(b, 8 + UL_PROBE_ICMP_PAYLOAD - 1, 1, 1, pl), 0);
	assert_int_equal(ul_probe_icmp6_build(NULL, 64, 1, 1, pl), 0);
	assert_int_equal(ul_probe_icmp6_build(b, sizeof(b), 1, 1, NULL), 0);
}

/* An IPv4 header of ihl words in front of payload. */
static size_t ip_wrap(uint8_t *out, size_t ihl, const uint8_t *pl, size_t plen, uint8_t proto)
{
	size_t h = ihl * 4, tot = h + plen;

	memset(out, 0, h);
	out[0] = (uint8_t)(0x40 | ihl);
	out[2] = (uint8_t)(tot >> 8);
	out[3] = (uint8_t)tot;
	out[8] = 64;
	out[9] = proto;
	for (size_t i = 20; i < h; i++)
		out[i] = 1;             /* NOP options */
	memcpy(out + h, pl, plen);
	return tot;
}

/* An IPv4 datagram around an ICMP reply that ul_probe_icmp_strip_ip must refuse. */
struct bad_ip {
	const char *what;
	size_t ihl;
	uint8_t proto;
	size_t len;                     /* the length given (0: the datagram's) */
	uint8_t set[2][2];              /* then these bytes changed: { offset, value } */
	size_t n_set;
};

static const struct bad_ip refused[] = {
	{ "header longer than the buffer", 7, 1, 27, { { 0 } }, 0 },
	{ "ihl below 5", 5, 1, 0, { { 0, 0x44 } }, 1 },
	{ "not IPv4", 5, 1, 0, { { 0, 0x65 } }, 1 },
	{ "not ICMP", 5, 6, 0, { { 0 } }, 0 },
	{ "a later fragment", 5, 1, 0, { { 7, 8 } }, 1 },
	{ "tot_len smaller than the header", 6, 1, 0, { { 2, 0 }, { 3, 20 } }, 2 },
};

static void test_icmp_strip_ip(void **state)
{
	uint8_t icmp[64], pkt[256];
	size_t n = ul_probe_icmp_build(icmp, sizeof(icmp), 9, 10, PL), len, tot;
	const uint8_t *r;
	uint16_t seq;

	(void)state;
	to_reply(icmp, n);
	/* plain header */
	len = tot = ip_wrap(pkt, 5, icmp, n, 1);
	r = ul_probe_icmp_strip_ip(pkt, &len);
	assert_ptr_equal(r, pkt + 20);
	assert_int_equal(len, n);
	assert_int_equal(ul_probe_icmp_match(r, len, 9, PL, &seq), 1);
	assert_int_equal(seq, 10);
	/* with IP options (ihl 7 = 28 bytes) */
	len = tot = ip_wrap(pkt, 7, icmp, n, 1);
	r = ul_probe_icmp_strip_ip(pkt, &len);
	assert_ptr_equal(r, pkt + 28);
	assert_int_equal(len, n);
	assert_int_equal(ul_probe_icmp_match(r, len, 9, PL, &seq), 1);
	/* maximal options (ihl 15 = 60 bytes) */
	len = ip_wrap(pkt, 15, icmp, n, 1);
	r = ul_probe_icmp_strip_ip(pkt, &len);
	assert_ptr_equal(r, pkt + 60);
	assert_int_equal(len, n);
	/* trailing padding beyond tot_len is cut */
	len = ip_wrap(pkt, 5, icmp, n, 1) + 6;
	r = ul_probe_icmp_strip_ip(pkt, &len);
	assert_non_null(r);
	assert_int_equal(len, n);
	/* refused: each datagram wrapped, its length (0: as wrapped), bytes then changed */
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		const struct bad_ip *c = &refused[i];

		len = ip_wrap(pkt, c->ihl, icmp, n, c->proto);
		if (c->len)
			len = c->len;
		for (size_t k = 0; k < c->n_set; k++)
			pkt[c->set[k][0]] = c->set[k][1];
		if (ul_probe_icmp_strip_ip(pkt, &len))
			fail_msg("%s: not refused", c->what);
	}
	/* too short for any header (the last datagram above in the buffer) */
	len = 19;
	assert_null(ul_probe_icmp_strip_ip(pkt, &len));
	assert_null(ul_probe_icmp_strip_ip(NULL, &len));
	/* truncated datagram: what is there is returned, match then refuses it */
	len = ip_wrap(pkt, 5, icmp, n, 1) - (n - 4);
	r = ul_probe_icmp_strip_ip(pkt, &len);
	assert_non_null(r);
	assert_int_equal(len, 4);
	assert_int_equal(ul_probe_icmp_match(r, len, 9, PL, &seq), 0);
}

static void test_dns_build(void **state)
{
	static const uint8_t want[] = {
		0xbe, 0xef, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0,
		7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0,
		0, 1, 0, 1,
	};
	uint8_t b[512];
	char name[300];

	(void)state;
	assert_int_equal(ul_probe_dns_build(b, sizeof(b), 0xbeef, "example.com"), sizeof(want));
	assert_memory_equal(b, want, sizeof(want));
	assert_int_equal(ul_probe_dns_build(b, sizeof(b), 0xbeef, "example.com."), sizeof(want));
	assert_memory_equal(b, want, sizeof(want));
	/* exactly large enough, one byte short */
	assert_int_equal(ul_probe_dns_build(b, sizeof(want), 0xbeef, "example.com"), sizeof(want));
	assert_int_equal(ul_probe_dns_build(b, sizeof(want) - 1, 0xbeef, "example.com"), 0);
	/* the root */
	assert_int_equal(ul_probe_dns_build(b, sizeof(b), 1, "."), 12 + 1 + 4);
	assert_int_equal(b[12], 0);
	/* invalid names */
	assert_int_equal(ul_probe_dns_build(b, sizeof(b), 1, ""), 0);
	assert_int_equal(ul_probe_dns_build(b, sizeof(b), 1, NULL), 0);
	assert_int_equal(ul_probe_dns_build(b, sizeof(b), 1, "a..b"), 0);
	assert_int_equal(ul_probe_dns_build(b, sizeof(b), 1, ".a"), 0);
	assert_int_equal(ul_probe_dns_build(b, sizeof(b), 1, "a.b.."), 0);
	assert_int_equal(ul_probe_dns_build(b, sizeof(b), 1, "bad name.com"), 0);
	assert_int_equal(ul_probe_dns_build(b, sizeof(b), 1, "b\x01d.com"), 0);
	/* label of 63 is fine, 64 is not */
	memset(name, 'a', 63);
	strcpy(name + 63, ".com");
	assert_int_equal(ul_probe_dns_build(b, sizeof(b), 1, name), 12 + 1 + 63 + 4 + 1 + 4);
	memset(name, 'a', 64);
	strcpy(name + 64, ".com");
	assert_int_equal(ul_probe_dns_build(b, sizeof(b), 1, name), 0);
	/* whole name: 4 labels of 63 = 4 * 64 + 1 = 257 encoded bytes > 255 */
	for (int i = 0; i < 4; i++) {
		memset(name + i * 64, 'b', 63);
		name[i * 64 + 63] = '.';
	}
	name[4 * 64 - 1] = 0;
	assert_int_equal(ul_probe_dns_build(b, sizeof(b), 1, name), 0);
	/* 3 labels of 63 + one of 61: 255 encoded bytes, the maximum */
	name[3 * 64 + 61] = 0;
	assert_int_equal(ul_probe_dns_build(b, sizeof(b), 1, name), 12 + 255 + 4);
	assert_int_equal(ul_probe_dns_build(b, 12, 1, "a"), 0);
}

static void test_dns_match(void **state)
{
	uint8_t q[512];
	size_t n = ul_probe_dns_build(q, sizeof(q), 0x1357, "example.org");

	(void)state;
	assert_true(n > 12);
	assert_int_equal(ul_probe_dns_match(q, n, 0x1357), 0);         /* a query, QR clear */
	q[2] |= 0x80;
	q[3] = 0x83;                                                    /* NXDOMAIN */
	assert_int_equal(ul_probe_dns_match(q, n, 0x1357), 1);
	q[3] = 0x82;                                                    /* SERVFAIL */
	assert_int_equal(ul_probe_dns_match(q, n, 0x1357), 1);
	q[3] = 0x80;                                                    /* NOERROR */
	assert_int_equal(ul_probe_dns_match(q, n, 0x1357), 1);
	assert_int_equal(ul_probe_dns_match(q, 12, 0x1357), 1);        /* header only */
	assert_int_equal(ul_probe_dns_match(q, 11, 0x1357), 0);        /* truncated */
	assert_int_equal(ul_probe_dns_match(q, 2, 0x1357), 0);
	assert_int_equal(ul_probe_dns_match(q, 0, 0x1357), 0);
	assert_int_equal(ul_probe_dns_match(NULL, 0, 0x1357), 0);
	assert_int_equal(ul_probe_dns_match(q, n, 0x1358), 0);         /* wrong id */
	assert_int_equal(ul_probe_dns_match(q, n, 0x5713), 0);         /* byte order */
}

static void test_http_match(void **state)
{
	static const struct { const char *s; int want; } cases[] = {
		{ "HTTP/1.1 200 OK\r\n", 1 },
		{ "HTTP/1.0 404 Not Found\r\n\r\n", 1 },
		{ "HTTP/1.1 301\r\n", 1 },
		{ "HTTP/1.1 503\n", 1 },
		{ "HTTP/1.1 101 Switching", 1 },
		{ "HTTP/1.1 200 ", 1 },
		{ "", 0 },
		{ "H", 0 },
		{ "HTTP/1.", 0 },
		{ "HTTP/1.1", 0 },
		{ "HTTP/1.1 20", 0 },
		{ "HTTP/1.1 200", 0 },          /* a fourth digit could still follow */
		{ "HTTP/2 200 OK\r\n", -1 },
		{ "HTTP/1.1 2000\r\n", -1 },
		{ "HTTP/1.1 600 Odd\r\n", -1 },
		{ "HTTP/1.1 099 x\r\n", -1 },
		{ "HTTP/1.1  200 OK\r\n", -1 },
		{ "HTTP/1.x 200 OK\r\n", -1 },
		{ "http/1.1 200 OK\r\n", -1 },
		{ "SSH-2.0-OpenSSH_9.2\r\n", -1 },
		{ "X", -1 },
		{ " HTTP/1.1 200 OK", -1 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int got = ul_probe_http_match(cases[i].s, strlen(cases[i].s));

		if (got != cases[i].want)
			fail_msg("\"%s\": got %d, want %d", cases[i].s, got, cases[i].want);
	}
	/* the length is honoured: the status line cut short is "not yet" */
	assert_int_equal(ul_probe_http_match("HTTP/1.1 200 OK", 10), 0);
	assert_int_equal(ul_probe_http_match("HTTP/1.1 200 OK", 13), 1);
	assert_int_equal(ul_probe_http_match(NULL, 0), -1);
}

static void noop_cb(void *data, const struct ul_round *r)
{
	(void)data;
	(void)r;
	fail_msg("no round may run in this test");
}

static void test_prober_args(void **state)
{
	struct ul_loop *loop;
	struct ul_check chk;
	struct ul_prober *p;
	struct ul_addr a;

	(void)state;
	assert_int_equal(ul_loop_new(&loop), 0);
	memset(&chk, 0, sizeof(chk));
	chk.method = UL_CHECK_DNS;
	chk.n_targets = 1;
	assert_int_equal(ul_addr_parse("192.0.2.1", false, &chk.targets[0]), 0);
	chk.port = 53;
	chk.interval_ms = 1000;
	chk.timeout_ms = 500;
	strcpy(chk.dns_name, "example.com");

	p = ul_prober_new(loop, &chk, "eth0", 0x100, noop_cb, NULL);
	assert_non_null(p);
	assert_int_equal(ul_prober_stats(p)->rounds, 0);
	assert_int_equal(ul_prober_stats(p)->sent, 0);
	assert_int_equal(ul_prober_bind(p, NULL), 0);  /* not bound: nothing to stop */
	memset(&a, 0, sizeof(a));
	a.family = 99;
	assert_int_equal(ul_prober_bind(p, &a), -EAFNOSUPPORT);
	ul_prober_free(p);
	ul_prober_free(NULL);

	errno = 0;
	assert_null(ul_prober_new(loop, &chk, "eth0", 0, NULL, NULL));
	assert_int_equal(errno, EINVAL);
	assert_null(ul_prober_new(loop, &chk, "a-name-too-long-for-ifnamsiz", 0, noop_cb, NULL));
	strcpy(chk.dns_name, "bad..name");
	assert_null(ul_prober_new(loop, &chk, "eth0", 0, noop_cb, NULL));
	strcpy(chk.dns_name, "example.com");
	chk.n_targets = 0;
	assert_null(ul_prober_new(loop, &chk, "eth0", 0, noop_cb, NULL));
	chk.n_targets = UL_MAX_TARGETS + 1;
	assert_null(ul_prober_new(loop, &chk, "eth0", 0, noop_cb, NULL));
	chk.n_targets = 2;                      /* second target unset */
	assert_null(ul_prober_new(loop, &chk, "eth0", 0, noop_cb, NULL));
	chk.n_targets = 1;
	chk.interval_ms = 0;
	assert_null(ul_prober_new(loop, &chk, "eth0", 0, noop_cb, NULL));
	chk.interval_ms = 1000;
	chk.method = UL_CHECK_HTTP;
	strcpy(chk.http_path, "/ok path");
	assert_null(ul_prober_new(loop, &chk, "eth0", 0, noop_cb, NULL));
	strcpy(chk.http_path, "/health");
	p = ul_prober_new(loop, &chk, "eth0", 0, noop_cb, NULL);
	assert_non_null(p);
	ul_prober_free(p);
	ul_loop_free(loop);
}

TK_MAIN(NULL, NULL, test_icmp_build, test_icmp_match, test_icmp_forged, test_icmp6,
	test_icmp_strip_ip, test_dns_build, test_dns_match, test_http_match, test_prober_args)
