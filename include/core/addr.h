/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Addresses and prefixes, family-agnostic (IPv4 today, IPv6 next). */
#ifndef UL_ADDR_H
#define UL_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* Longest text form: an IPv6 prefix "xxxx:...:xxxx/128" plus NUL. */
#define UL_ADDR_STRLEN 50

struct ul_addr {
	uint8_t family;     /* AF_INET or AF_INET6; 0 = unset */
	uint8_t plen;       /* prefix length; 32 (or 128) for a host address */
	uint8_t bytes[16];  /* network byte order; unused tail is zero */
};

/* Bytes of an address of this family: 4, 16, or 0 for an unknown family. */
size_t ul_addr_len(int family);
/* Parse "a.b.c.d", "a.b.c.d/n" (when allow_prefix) or the IPv6 forms.
 * Host bits of a prefix must be zero. Returns 0 or -EINVAL. */
int ul_addr_parse(const char *s, bool allow_prefix, struct ul_addr *out);
/* "10.0.0.0/24", or "10.0.0.1" for a host address. Returns buf. */
char *ul_addr_format(const struct ul_addr *a, char *buf, size_t len);
bool ul_addr_eq(const struct ul_addr *a, const struct ul_addr *b);
bool ul_addr_is_host(const struct ul_addr *a);
/* Make a host address from raw bytes. */
void ul_addr_from_raw(struct ul_addr *a, int family, const void *raw);
/* The last address in the prefix (for interval sets). */
void ul_addr_last(const struct ul_addr *a, uint8_t out[16]);

/* a with port (host order) as a socket address into ss (zeroed first): its length, or 0 when
 * a is of neither family */
socklen_t ul_addr_to_sockaddr(const struct ul_addr *a, uint16_t port, struct sockaddr_storage *ss);

#endif
