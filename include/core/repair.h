/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Back-off for repairs: when another program keeps undoing uplinkd's state, uplinkd puts it
 * back at once at first, but after UL_REPAIR_BURST repairs of the same object within
 * UL_REPAIR_WINDOW_MS it waits, 1 s, then 2 s, 4 s ... up to UL_REPAIR_BACKOFF_MAX_MS,
 * before the next one, for as long as changes keep coming within a window of the last
 * repair; a wait always ends in a repair. Pure (times are given). */
#ifndef UL_REPAIR_H
#define UL_REPAIR_H

#include <stdint.h>

#define UL_REPAIR_BURST 5
#define UL_REPAIR_WINDOW_MS 10000
#define UL_REPAIR_BACKOFF_MIN_MS 1000
#define UL_REPAIR_BACKOFF_MAX_MS 60000
#define UL_REPAIR_SEEN_MAX 256

struct ul_repair_guard {
	uint64_t repairs_ms[UL_REPAIR_BURST];   /* the last repairs (ring) */
	unsigned n_repairs;
	uint64_t last_ms;                       /* the last repair */
	uint64_t seen_ms[UL_REPAIR_SEEN_MAX];   /* the last changes noticed (ring) */
	unsigned n_seen;
	uint64_t backoff_ms;                    /* the last wait, 0: none */
	uint64_t hold_until_ms;                 /* waiting until then, 0: not waiting */
};

enum ul_repair_verdict {
	UL_REPAIR_NOW,          /* repair now (counted) */
	UL_REPAIR_BACKOFF,      /* a new wait starts: say so; repair when it is over */
	UL_REPAIR_WAIT,         /* a wait runs: repair when it is over */
};

/* A change made by someone else was noticed (counted for the log line). */
void ul_repair_seen(struct ul_repair_guard *g, uint64_t now_ms);
/* Changes noticed within the window before now. */
unsigned ul_repair_seen_count(const struct ul_repair_guard *g, uint64_t now_ms);
/* A repair is due at now: may it be made? *wait_ms: how long until it may (BACKOFF, WAIT). */
enum ul_repair_verdict ul_repair_decide(struct ul_repair_guard *g, uint64_t now_ms,
					uint64_t *wait_ms);
/* Waiting (a repair due now would be held)? */
int ul_repair_holding(const struct ul_repair_guard *g, uint64_t now_ms);

#endif
