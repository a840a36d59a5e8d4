/* SPDX-License-Identifier: GPL-2.0-or-later */
/* nftables over libnftnl: table inet uplinkd, changed only in whole transactions. */
#ifndef UL_NFT_H
#define UL_NFT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ruleset.h"

struct mnl_nlmsg_batch;

/* The largest message of a batch. Elements go 60 KiB to a message, as nft sends them (the
 * attribute nesting them has a 16-bit length): the kernel's cost per message (parsing, the
 * transaction's bookkeeping, the ack) is paid a few hundred times for 100,000 prefixes, not
 * thousands. */
#define UL_NFT_MSG_MAX ((size_t)60 * 1024)

/* What the kernel already has in table inet uplinkd (from a dump before each apply). */
struct ul_nft_existing {
	bool table;
	char (*chains)[UL_NFT_NAME_MAX]; size_t n_chains;
	/* Parallel to chains (NULL: unknown, every existing chain is taken as compatible). A
	 * base chain whose type, hook or priority differs from the wanted one is re-created. */
	struct ul_nft_existing_chain {
		bool base;
		char type[16];          /* "filter", "nat", "route" */
		uint32_t hooknum;       /* NF_INET_* */
		int32_t prio;
	} *chain_info;
	struct ul_nft_existing_set {
		char name[UL_NFT_NAME_MAX];
		uint32_t key_type, key_len, flags, timeout_ms;
	} *sets;
	size_t n_sets;
	/* named counter objects (kept across applies; those no longer wanted are deleted) */
	char (*counters)[UL_NFT_NAME_MAX]; size_t n_counters;
};

/* Build the one transaction that turns `ex` into `rs`: the table is created if missing,
 * every rule flushed and re-added, chains and sets no longer wanted deleted, static sets
 * re-filled, dynamic sets kept (their entries survive) unless their spec changed or
 * rs asks for a flush. Pure (no socket). Returns 0 or -errno. */
int ul_nft_build_batch(const struct ul_ruleset *rs, const struct ul_nft_existing *ex,
		       struct mnl_nlmsg_batch *b, uint32_t *seq);
/* What uplinkd committed last to its static sets (their elements as ranges), so that the next
 * transaction updates a set still there with the same type by difference. */
struct ul_nft_prev_set {
	char name[UL_NFT_NAME_MAX];
	uint32_t key_type, key_len, flags;
	struct ul_set_range *r;
	size_t n;
};
struct ul_nft_prev {
	struct ul_nft_prev_set *sets;
	size_t n_sets;
	/* of the batch that made it: elements sent to be added and deleted, sets updated in
	 * place and sets (re-)created */
	size_t added, deleted, updated, created;
};
void ul_nft_prev_free(struct ul_nft_prev *p);

/* ul_nft_build_batch, but a static set that ex holds with the same type and that prev
 * describes is kept and updated by adding and deleting only the elements that differ (other
 * programs' elements in it stay). next (optional) gets what the batch leaves in the static
 * sets. */
int ul_nft_build_update(const struct ul_ruleset *rs, const struct ul_nft_existing *ex,
			const struct ul_nft_prev *prev, struct ul_nft_prev *next,
			struct mnl_nlmsg_batch *b, uint32_t *seq);
/* Batch that deletes the table (if ex->table). */
int ul_nft_build_remove(const struct ul_nft_existing *ex, struct mnl_nlmsg_batch *b,
			uint32_t *seq);
void ul_nft_existing_free(struct ul_nft_existing *ex);

/* The readers of the kernel's answers, on one received buffer (as the socket loops call
 * them; the fuzzers too). A dump of the table, its chains or its sets, into ex (mnl_cb_run's
 * result: MNL_CB_OK, MNL_CB_STOP or -1). */
enum ul_nft_dump_kind { UL_NFT_DUMP_TABLE, UL_NFT_DUMP_CHAINS, UL_NFT_DUMP_SETS };
int ul_nft_parse_dump(const void *buf, size_t len, enum ul_nft_dump_kind kind,
		      struct ul_nft_existing *ex);
/* The acks of a transaction: counted, the first error kept with its extended-ack text. */
struct ul_nft_acks {
	size_t n;
	int err;
	uint32_t err_seq;
	char msg[256];
};
void ul_nft_parse_acks(const void *buf, size_t len, struct ul_nft_acks *k);
/* The batch message with this seq, for an error: "add rule #3 to chain pre"... */
void ul_nft_describe(const void *batch, size_t len, uint32_t seq, char *out, size_t outlen);

struct ul_nft;
int ul_nft_open(struct ul_nft **out);
void ul_nft_close(struct ul_nft *h);
/* The portid of its socket: the nftables events of its own transactions carry it. */
uint32_t ul_nft_portid(const struct ul_nft *h);
int ul_nft_dump_existing(struct ul_nft *h, struct ul_nft_existing *ex);
/* The ruleset's generation (NFT_MSG_GETGEN): every transaction committed in the network
 * namespace, by anyone, advances it by one. */
int ul_nft_genid(struct ul_nft *h, uint32_t *gen);
/* How many transactions this handle has committed since it was opened. */
unsigned long ul_nft_commits(const struct ul_nft *h);
/* Dump, build, send, check every ACK. All or nothing. Static sets are updated by difference
 * from what this handle committed last; when that is refused (someone else changed their
 * elements), the sets are re-filled in a second transaction. */
int ul_nft_apply(struct ul_nft *h, const struct ul_ruleset *rs);
/* Forget what was committed: the next apply re-fills every static set. */
void ul_nft_forget(struct ul_nft *h);
/* Figures of the last successful apply (elements added/deleted, sets updated/created). */
void ul_nft_last_stats(const struct ul_nft *h, size_t *added, size_t *deleted, size_t *updated,
		       size_t *created);
int ul_nft_remove(struct ul_nft *h);

/* The named counters of table inet uplinkd, by name (one dump). */
struct ul_nft_counter {
	char name[UL_NFT_NAME_MAX];
	uint64_t packets, bytes;
};
/* *out (malloc'd) gets every counter; 0 (none when the table is missing) or -errno. */
int ul_nft_read_counters(struct ul_nft *h, struct ul_nft_counter **out, size_t *n);

#endif
