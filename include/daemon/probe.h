/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Health probes (icmp, dns, tcp, http), one prober per link and family, in the event loop.
 * A prober probes the targets of its source address's family (ICMPv6 echo for icmp in
 * IPv6); targets of the other family fail as errors.
 * Every probe socket is bound to the link's address and device and carries the link's
 * mark, so it leaves by that link whatever the main table says. Rounds never overlap:
 * a round sends one probe to every target, ends when all answered or timeout_ms passed,
 * and the next starts interval_ms after the previous start (or at its end, if later).
 * icmp and dns re-send a probe not answered yet, up to UL_PROBE_TRIES tries per target
 * spread over timeout_ms; an answer to any try of the round counts. ul_round.sent counts
 * tries (so loss is per packet), ul_round.answered targets. */
#ifndef UL_PROBE_H
#define UL_PROBE_H

#include <stdint.h>
#include <net/if.h>

#include "addr.h"
#include "config.h"
#include "linkstate.h"
#include "loop.h"

#define UL_PROBE_TRIES 3                /* tries per target and round (icmp, dns) */
#define UL_PROBE_ICMP_PAYLOAD 16        /* random bytes after the echo header, per prober */

struct ul_prober;

typedef void (*ul_round_cb)(void *data, const struct ul_round *r);

/* The check is copied. mark: the link's fwmark (SO_MARK). Not started until bound. */
struct ul_prober *ul_prober_new(struct ul_loop *loop, const struct ul_check *chk,
				const char *ifname, uint32_t mark, ul_round_cb cb, void *data);
/* (Re)bind to the link's current source address and start probing; NULL stops probing
 * (no address: nothing can be sent). Rebinding to the same address is a no-op. */
int ul_prober_bind(struct ul_prober *p, const struct ul_addr *src);
const struct ul_probe_stats *ul_prober_stats(const struct ul_prober *p);
void ul_prober_free(struct ul_prober *p);

/* Wire formats, pure (unit-tested and fuzzed). */
/* ICMP echo request carrying payload (UL_PROBE_ICMP_PAYLOAD bytes); returns its length. */
size_t ul_probe_icmp_build(uint8_t *buf, size_t len, uint16_t id, uint16_t seq,
			   const uint8_t *payload);
/* Echo reply for id carrying exactly our payload, with a valid checksum? *seq gets its
 * sequence number. buf starts at the ICMP header (raw socket: after the IP header;
 * ul_probe_icmp_strip_ip finds it). Returns 1 match, 0 other. */
int ul_probe_icmp_match(const uint8_t *buf, size_t len, uint16_t id, const uint8_t *payload,
			uint16_t *seq);
const uint8_t *ul_probe_icmp_strip_ip(const uint8_t *buf, size_t *len);
/* ICMPv6 echo request (type 128) carrying payload; its checksum is left 0: the kernel computes it for
 * raw ICMPv6 sockets (RFC 3542). Returns its length. */
size_t ul_probe_icmp6_build(uint8_t *buf, size_t len, uint16_t id, uint16_t seq,
			    const uint8_t *payload);
/* ICMPv6 echo reply (type 129) for id? buf starts at the ICMPv6 header (raw ICMPv6
 * sockets deliver no IPv6 header). Returns 1 match, 0 other. */
int ul_probe_icmp6_match(const uint8_t *buf, size_t len, uint16_t id, const uint8_t *payload,
			 uint16_t *seq);
/* DNS query for name, type A, RD; returns length or 0 if the name is invalid. */
size_t ul_probe_dns_build(uint8_t *buf, size_t len, uint16_t id, const char *name);
/* Any well-formed response with that id (any rcode) is alive: 1, else 0. */
int ul_probe_dns_match(const uint8_t *buf, size_t len, uint16_t id);
/* "HTTP/1.x NNN" at the start: 1; not yet enough bytes: 0; garbage: -1. */
int ul_probe_http_match(const char *buf, size_t len);

#endif
