// SPDX-License-Identifier: GPL-2.0-or-later
/* libFuzzer: the nftables answers uplinkd reads from the kernel. The first byte picks the
 * reader: the dump of table inet uplinkd, of its chains, of its sets, the acks of a
 * transaction, or (the input taken as the batch sent) the description of a failed message;
 * the rest is the received buffer. Nothing may crash or read past the buffer, and what is
 * taken from a dump has the promised shape. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "klog.h"
#include "nft.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ul_nft_existing ex;
	struct ul_nft_acks k;
	char what[160];
	uint8_t *copy;
	uint32_t seq;
	size_t len;

	ul_klog_set_level(LOG_ERR);
	if (size < 1 || size > 65536)
		return 0;
	len = size - 1;
	/* an aligned heap copy of exactly len bytes: ASan sees any read past the end */
	copy = malloc(len ? len : 1);
	if (!copy)
		return 0;
	memcpy(copy, data + 1, len);
	switch (data[0] % 5) {
	case 0:
	case 1:
	case 2:
		memset(&ex, 0, sizeof(ex));
		ul_nft_parse_dump(copy, len, (enum ul_nft_dump_kind)(data[0] % 5), &ex);
		for (size_t i = 0; i < ex.n_chains; i++)
			if (!ex.chains[i][0] || strnlen(ex.chains[i], UL_NFT_NAME_MAX) == UL_NFT_NAME_MAX)
				abort();
		for (size_t i = 0; i < ex.n_sets; i++)
			if (!ex.sets[i].name[0] ||
			    strnlen(ex.sets[i].name, UL_NFT_NAME_MAX) == UL_NFT_NAME_MAX)
				abort();
		ul_nft_existing_free(&ex);
		break;
	case 3:
		memset(&k, 0, sizeof(k));
		ul_nft_parse_acks(copy, len, &k);
		if (strnlen(k.msg, sizeof(k.msg)) == sizeof(k.msg) || (k.err && !k.n))
			abort();
		break;
	case 4:
		seq = len >= 12 ? ((uint32_t *)copy)[2] : 0;   /* the first message's seq */
		ul_nft_describe(copy, len, seq, what, sizeof(what));
		ul_nft_describe(copy, len, seq + 1, what, sizeof(what));
		if (strnlen(what, sizeof(what)) == sizeof(what))
			abort();
		break;
	}
	free(copy);
	return 0;
}
