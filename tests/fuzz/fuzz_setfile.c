// SPDX-License-Identifier: GPL-2.0-or-later
/* libFuzzer target: arbitrary bytes as a named set's prefix file (ul_setfile_parse). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "setfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ul_diag d = { 0 };
	struct ul_addr *v = NULL;
	size_t n = 0;
	int family = size && (data[0] & 1) ? AF_INET6 : AF_INET;
	int r = ul_setfile_parse((const char *)data, size, "fuzz.txt", family, &v, &n, &d);

	if (r == 0) {
		/* every prefix is of the set's family, with host bits clear */
		if (d.n || (n && !v))
			abort();
		for (size_t i = 0; i < n; i++) {
			size_t len = ul_addr_len(v[i].family);

			if (v[i].family != family || v[i].plen > len * 8)
				abort();
			for (unsigned bit = v[i].plen; bit < len * 8; bit++)
				if (v[i].bytes[bit / 8] & (0x80 >> (bit % 8)))
					abort();
		}
	} else if (v || n || (r == -EINVAL && !d.n)) {
		abort();        /* a failure says why and returns nothing */
	}
	free(v);
	ul_diag_free(&d);
	return 0;
}
