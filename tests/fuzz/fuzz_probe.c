// SPDX-License-Identifier: GPL-2.0-or-later
/* Untrusted replies into the probe parsers: raw IPv4+ICMP datagrams, DNS responses and the
 * start of HTTP responses. The first two bytes pick the expected id; the expected ICMP
 * payload is a fixed pattern (a match must carry it verbatim). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "probe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t pl[UL_PROBE_ICMP_PAYLOAD] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };
	uint16_t id, seq = 0;
	const uint8_t *icmp;
	uint8_t *copy;
	size_t len;
	int m;

	if (size < 2)
		return 0;
	id = (uint16_t)(data[0] << 8 | data[1]);
	data += 2;
	size -= 2;
	/* an exact-size heap copy so ASan sees every overread */
	copy = malloc(size ? size : 1);
	if (!copy)
		return 0;
	memcpy(copy, data, size);

	len = size;
	icmp = ul_probe_icmp_strip_ip(copy, &len);
	if (icmp) {
		if (icmp < copy || icmp + len > copy + size)
			abort();
		if (ul_probe_icmp_match(icmp, len, id, pl, &seq) &&
		    (len < 8 + sizeof(pl) || memcmp(icmp + 8, pl, sizeof(pl))))
			abort();
	}
	ul_probe_icmp_match(copy, size, id, pl, &seq);

	m = ul_probe_dns_match(copy, size, id);
	if (m && (size < 12 || (copy[0] << 8 | copy[1]) != id || !(copy[2] & 0x80)))
		abort();

	m = ul_probe_http_match((const char *)copy, size);
	if (m < -1 || m > 1 || (m == 1 && size < 13))
		abort();
	/* a match never turns into "garbage" when more bytes arrive */
	if (m == 1 && ul_probe_http_match((const char *)copy, 13) != 1)
		abort();
	free(copy);
	return 0;
}
