// SPDX-License-Identifier: GPL-2.0-or-later
/* libFuzzer: arbitrary bytes as the sysctl state file left by an earlier run. Whatever the
 * file holds, only keys uplinkd manages with an integer value may be taken (those are
 * what a stop would write to /proc/sys), each at most once. Nothing is ever written: the
 * state is kept in memory and never restored. */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "klog.h"
#include "sysctl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ul_sysctl *s = NULL;
	const char *key, *val;
	FILE *f;

	ul_klog_set_level(LOG_ERR);
	if (size > 65536)
		return 0;
	if (ul_sysctl_new(NULL, &s))
		return 0;
	f = fmemopen((void *)data, size ? size : 1, "r");
	if (!f) {
		ul_sysctl_free(s);
		return 0;
	}
	if (!size)
		fgetc(f);               /* an empty file */
	ul_sysctl_load_text(s, "fuzz", f);
	fclose(f);
	for (size_t i = 0; !ul_sysctl_saved(s, i, &key, &val); i++) {
		char *end;
		long v;

		if (!ul_sysctl_managed(key))
			abort();
		errno = 0;
		v = strtol(val, &end, 10);
		if (errno || end == val || *end || v < INT_MIN || v > INT_MAX)
			abort();
		for (size_t j = 0; j < i; j++) {
			const char *k2, *v2;

			if (ul_sysctl_saved(s, j, &k2, &v2) || !strcmp(k2, key))
				abort();
		}
	}
	ul_sysctl_free(s);
	return 0;
}
