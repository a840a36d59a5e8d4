// SPDX-License-Identifier: GPL-2.0-or-later
/* Prefix files of named sets (see setfile.h). Large lists (country ranges, a provider's
 * prefixes) are read here, not by libconfig: one pass, no allocation per line. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "setfile.h"

#define LINE_MAX_LEN 128        /* longer lines cannot hold one prefix and are refused */

static bool is_space(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\f' || ch == '\v';
}

/* Printable excerpt of a bad line for a message. */
static void excerpt(const char *s, size_t n, char *buf, size_t len)
{
	size_t o = 0;

	buf[o++] = '"';
	for (size_t i = 0; i < n && o + 8 < len; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch < 0x20 || ch >= 0x7f || ch == '"' || ch == '\\') {
			static const char hex[] = "0123456789abcdef";

			buf[o++] = '\\';
			buf[o++] = 'x';
			buf[o++] = hex[ch >> 4];
			buf[o++] = hex[ch & 15];
		} else {
			buf[o++] = (char)ch;
		}
		if (i + 1 < n && o + 8 >= len) {
			memcpy(buf + o, "...", 3);
			o += 3;
			break;
		}
	}
	buf[o++] = '"';
	buf[o] = '\0';
}

/* Why s (one trimmed field) is not a prefix of the family. */
static const char *why_bad(const char *s, int family)
{
	const char *slash = strchr(s, '/');
	struct ul_addr a;
	char host[64];

	if (ul_addr_parse(s, true, &a) == 0)
		return family == AF_INET ? "is IPv6, in a set of type \"ipv4\"" :
					   "is IPv4, in a set of type \"ipv6\"";
	if (slash && (size_t)(slash - s) < sizeof(host)) {
		memcpy(host, s, (size_t)(slash - s));
		host[slash - s] = '\0';
		if (ul_addr_parse(host, false, &a) == 0) {
			char *end;
			long l = strtol(slash + 1, &end, 10);

			if (slash[1] >= '0' && slash[1] <= '9' && !*end && l >= 0 &&
			    l <= (long)(ul_addr_len(a.family) * 8))
				return "has host bits set";
			return "has a bad prefix length";
		}
	}
	return "is not an IPv4/IPv6 address or prefix";
}

int ul_setfile_parse(const char *text, size_t len, const char *name, int family,
		     struct ul_addr **out, size_t *n, struct ul_diag *diag)
{
	size_t cap = 0, k = 0, nerr = 0, pos = 0;
	struct ul_addr *v = NULL;
	unsigned long line = 0;

	*out = NULL;
	*n = 0;
	while (pos < len) {
		const char *l = text + pos, *nl = memchr(l, '\n', len - pos);
		size_t ll = nl ? (size_t)(nl - l) : len - pos, b = 0, e;
		char field[LINE_MAX_LEN + 1], ex[96];
		const char *msg = NULL;
		struct ul_addr a;

		pos += ll + (nl ? 1 : 0);
		line++;
		/* the comment, then the blanks around the one field */
		for (e = 0; e < ll && l[e] != '#'; e++)
			;
		while (b < e && is_space(l[b]))
			b++;
		while (e > b && is_space(l[e - 1]))
			e--;
		if (b == e)
			continue;
		if (memchr(l + b, '\0', e - b))
			msg = "contains a NUL byte";
		else if (e - b > LINE_MAX_LEN)
			msg = "is too long for a prefix";
		if (!msg) {
			for (size_t i = b; i < e; i++)
				if (is_space(l[i])) {
					msg = "holds more than one field (one prefix a line)";
					break;
				}
		}
		if (!msg) {
			memcpy(field, l + b, e - b);
			field[e - b] = '\0';
			if (ul_addr_parse(field, true, &a) || (family && a.family != family))
				msg = why_bad(field, family);
		}
		if (msg) {
			if (nerr < UL_SETFILE_MAX_ERRORS) {
				excerpt(l + b, e - b, ex, sizeof(ex));
				ul_diag_add(diag, "%s:%lu: %s %s", name, line, ex, msg);
			}
			nerr++;
			continue;
		}
		if (nerr)
			continue;       /* nothing is kept once a line is bad */
		if (k == cap) {
			size_t nc = cap ? cap * 2 : 1024;
			struct ul_addr *nv = realloc(v, nc * sizeof(*nv));

			if (!nv) {
				free(v);
				return -ENOMEM;
			}
			v = nv;
			cap = nc;
		}
		v[k++] = a;
	}
	if (nerr) {
		if (nerr > UL_SETFILE_MAX_ERRORS)
			ul_diag_add(diag, "%s: %zu more bad lines", name, nerr - UL_SETFILE_MAX_ERRORS);
		free(v);
		return -EINVAL;
	}
	*out = v;
	*n = k;
	return 0;
}
