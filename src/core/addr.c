// SPDX-License-Identifier: GPL-2.0-or-later
#include <arpa/inet.h>
#include <netinet/in.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"

size_t ul_addr_len(int family)
{
	return family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0;
}

/* The common case, "a.b.c.d" or "a.b.c.d/n" as inet_pton and the checks below take it
 * (no leading zeros, octets up to 255, host bits zero), without copying and inet_pton: a
 * prefix file of 100,000 lines is parsed twice as fast. false: anything else, for the full
 * parser to accept or refuse. */
static bool parse4_fast(const char *s, bool allow_prefix, struct ul_addr *out)
{
	struct ul_addr a = { .family = AF_INET, .plen = 32 };
	unsigned v, nd;

	for (int i = 0; i < 4; i++) {
		if (s[0] == '0' && s[1] >= '0' && s[1] <= '9')
			return false;
		for (v = 0, nd = 0; *s >= '0' && *s <= '9' && nd < 4; nd++)
			v = v * 10 + (unsigned)(*s++ - '0');
		if (!nd || nd > 3 || v > 255)
			return false;
		a.bytes[i] = (uint8_t)v;
		if (i < 3 && *s++ != '.')
			return false;
	}
	if (*s == '/') {
		if (!allow_prefix)
			return false;
		for (s++, v = 0, nd = 0; *s >= '0' && *s <= '9' && nd < 4; nd++)
			v = v * 10 + (unsigned)(*s++ - '0');
		if (!nd || nd > 3 || *s || v > 32)
			return false;
		a.plen = (uint8_t)v;
		for (unsigned bit = a.plen; bit < 32; bit++)
			if (a.bytes[bit / 8] & (0x80 >> (bit % 8)))
				return false;
	} else if (*s) {
		return false;
	}
	*out = a;
	return true;
}

int ul_addr_parse(const char *s, bool allow_prefix, struct ul_addr *out)
{
	char host[INET6_ADDRSTRLEN];
	const char *slash;
	size_t hlen;
	struct ul_addr a = { 0 };

	if (parse4_fast(s, allow_prefix, out))
		return 0;
	slash = strchr(s, '/');
	hlen = slash ? (size_t)(slash - s) : strlen(s);
	if (hlen == 0 || hlen >= sizeof(host) || (slash && !allow_prefix))
		return -EINVAL;
	memcpy(host, s, hlen);
	host[hlen] = '\0';
	if (inet_pton(AF_INET, host, a.bytes) == 1)
		a.family = AF_INET;
	else if (inet_pton(AF_INET6, host, a.bytes) == 1)
		a.family = AF_INET6;
	else
		return -EINVAL;
	a.plen = (uint8_t)(ul_addr_len(a.family) * 8);
	if (slash) {
		const char *p = slash + 1;
		char *end;
		long n;

		if (*p < '0' || *p > '9' || strlen(p) > 3)
			return -EINVAL;
		n = strtol(p, &end, 10);
		if (*end || n < 0 || n > a.plen)
			return -EINVAL;
		a.plen = (uint8_t)n;
		/* host bits must be zero */
		for (unsigned bit = a.plen; bit < ul_addr_len(a.family) * 8; bit++)
			if (a.bytes[bit / 8] & (0x80 >> (bit % 8)))
				return -EINVAL;
	}
	*out = a;
	return 0;
}

char *ul_addr_format(const struct ul_addr *a, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN];

	if (!ul_addr_len(a->family) || !inet_ntop(a->family, a->bytes, host, sizeof(host))) {
		snprintf(buf, len, "?");
		return buf;
	}
	if (ul_addr_is_host(a))
		snprintf(buf, len, "%s", host);
	else
		snprintf(buf, len, "%s/%u", host, a->plen);
	return buf;
}

bool ul_addr_eq(const struct ul_addr *a, const struct ul_addr *b)
{
	return a->family == b->family && a->plen == b->plen &&
	       !memcmp(a->bytes, b->bytes, ul_addr_len(a->family));
}

bool ul_addr_is_host(const struct ul_addr *a)
{
	return a->plen == ul_addr_len(a->family) * 8;
}

void ul_addr_from_raw(struct ul_addr *a, int family, const void *raw)
{
	memset(a, 0, sizeof(*a));
	a->family = (uint8_t)family;
	a->plen = (uint8_t)(ul_addr_len(family) * 8);
	memcpy(a->bytes, raw, ul_addr_len(family));
}

void ul_addr_last(const struct ul_addr *a, uint8_t out[16])
{
	memcpy(out, a->bytes, 16);
	for (unsigned bit = a->plen; bit < ul_addr_len(a->family) * 8; bit++)
		out[bit / 8] |= (uint8_t)(0x80 >> (bit % 8));
}

socklen_t ul_addr_to_sockaddr(const struct ul_addr *a, uint16_t port, struct sockaddr_storage *ss)
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
