// SPDX-License-Identifier: GPL-2.0-or-later
/* Back-off for repairs (see repair.h). */
#include <string.h>

#include "repair.h"

static unsigned in_window(const uint64_t *v, unsigned n, unsigned cap, uint64_t now_ms)
{
	unsigned k = 0;

	for (unsigned i = 0; i < n && i < cap; i++)
		if (v[i] <= now_ms && now_ms - v[i] < UL_REPAIR_WINDOW_MS)
			k++;
	return k;
}

void ul_repair_seen(struct ul_repair_guard *g, uint64_t now_ms)
{
	g->seen_ms[g->n_seen % UL_REPAIR_SEEN_MAX] = now_ms;
	g->n_seen++;
	if (g->n_seen >= 2 * UL_REPAIR_SEEN_MAX)
		g->n_seen -= UL_REPAIR_SEEN_MAX;        /* keeps the ring index, stays full */
}

unsigned ul_repair_seen_count(const struct ul_repair_guard *g, uint64_t now_ms)
{
	return in_window(g->seen_ms, g->n_seen, UL_REPAIR_SEEN_MAX, now_ms);
}

int ul_repair_holding(const struct ul_repair_guard *g, uint64_t now_ms)
{
	return g->hold_until_ms && now_ms < g->hold_until_ms;
}

static void record(struct ul_repair_guard *g, uint64_t now_ms)
{
	g->repairs_ms[g->n_repairs % UL_REPAIR_BURST] = now_ms;
	g->last_ms = now_ms;
	g->n_repairs++;
	if (g->n_repairs >= 2 * UL_REPAIR_BURST)
		g->n_repairs -= UL_REPAIR_BURST;
}

enum ul_repair_verdict ul_repair_decide(struct ul_repair_guard *g, uint64_t now_ms,
					uint64_t *wait_ms)
{
	unsigned k;

	*wait_ms = 0;
	if (ul_repair_holding(g, now_ms)) {
		*wait_ms = g->hold_until_ms - now_ms;
		return UL_REPAIR_WAIT;
	}
	if (g->hold_until_ms) {
		/* a wait is over: the repair it held back is made */
		g->hold_until_ms = 0;
		record(g, now_ms);
		return UL_REPAIR_NOW;
	}
	k = in_window(g->repairs_ms, g->n_repairs, UL_REPAIR_BURST, now_ms);
	/* in a fight, the waits grow while changes keep coming within a window of the last
	 * repair (the waits soon outgrow the window itself) */
	if (k >= UL_REPAIR_BURST || (g->backoff_ms && now_ms - g->last_ms < UL_REPAIR_WINDOW_MS)) {
		g->backoff_ms = g->backoff_ms ? 2 * g->backoff_ms : UL_REPAIR_BACKOFF_MIN_MS;
		if (g->backoff_ms > UL_REPAIR_BACKOFF_MAX_MS)
			g->backoff_ms = UL_REPAIR_BACKOFF_MAX_MS;
		g->hold_until_ms = now_ms + g->backoff_ms;
		*wait_ms = g->backoff_ms;
		return UL_REPAIR_BACKOFF;
	}
	g->backoff_ms = 0;              /* calm for a window: the next fight starts from 1 s */
	record(g, now_ms);
	return UL_REPAIR_NOW;
}
