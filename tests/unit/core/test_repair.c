// SPDX-License-Identifier: GPL-2.0-or-later
/* Repairs back off when another program keeps undoing uplinkd's state. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "repair.h"
#include "tk.h"

static enum ul_repair_verdict at(struct ul_repair_guard *g, uint64_t t, uint64_t *wait)
{
	ul_repair_seen(g, t);
	return ul_repair_decide(g, t, wait);
}

static void calm_repairs_at_once(void **state)
{
	struct ul_repair_guard g = { 0 };
	uint64_t wait;

	/* one change every 3 s: never more than 4 repairs in 10 s, never a wait */
	for (uint64_t t = 1000; t < 100000; t += 3000) {
		assert_int_equal(at(&g, t, &wait), UL_REPAIR_NOW);
		assert_int_equal(wait, 0);
	}
	assert_int_equal(ul_repair_seen_count(&g, 100000), 3);
}

static void a_fight_backs_off(void **state)
{
	struct ul_repair_guard g = { 0 };
	uint64_t wait, t;

	/* five repairs in half a second */
	for (t = 1000; t < 1500; t += 100)
		assert_int_equal(at(&g, t, &wait), UL_REPAIR_NOW);
	/* the sixth change: wait 1 s, said once, with the count */
	assert_int_equal(at(&g, 1500, &wait), UL_REPAIR_BACKOFF);
	assert_int_equal(wait, 1000);
	assert_int_equal(ul_repair_seen_count(&g, 1500), 6);
	assert_true(ul_repair_holding(&g, 1600));
	/* changes during the wait: still waiting, for what is left of it */
	assert_int_equal(at(&g, 1700, &wait), UL_REPAIR_WAIT);
	assert_int_equal(wait, 800);
	/* the wait is over: the repair is made */
	assert_int_equal(ul_repair_decide(&g, 2500, &wait), UL_REPAIR_NOW);
	assert_false(ul_repair_holding(&g, 2500));
	/* the fight goes on: 2 s, 4 s, ... */
	t = 2600;
	for (uint64_t want = 2000; want <= 32000; want *= 2) {
		assert_int_equal(at(&g, t, &wait), UL_REPAIR_BACKOFF);
		assert_int_equal(wait, want);
		t += wait;
		assert_int_equal(ul_repair_decide(&g, t, &wait), UL_REPAIR_NOW);
		t += 1;
	}
	/* capped at 60 s */
	assert_int_equal(at(&g, t, &wait), UL_REPAIR_BACKOFF);
	assert_int_equal(wait, 60000);
	t += wait;
	assert_int_equal(ul_repair_decide(&g, t, &wait), UL_REPAIR_NOW);
	assert_int_equal(at(&g, t + 1, &wait), UL_REPAIR_BACKOFF);
	assert_int_equal(wait, 60000);
	t += 1 + wait;
	assert_int_equal(ul_repair_decide(&g, t, &wait), UL_REPAIR_NOW);

	/* calm for longer than the window: the next change is repaired at once, and a new
	 * fight starts again from 1 s */
	t += 20000;
	assert_int_equal(at(&g, t, &wait), UL_REPAIR_NOW);
	for (int i = 0; i < 4; i++)
		assert_int_equal(at(&g, t += 10, &wait), UL_REPAIR_NOW);
	assert_int_equal(at(&g, t += 10, &wait), UL_REPAIR_BACKOFF);
	assert_int_equal(wait, 1000);
}

static void counts_many_changes(void **state)
{
	struct ul_repair_guard g = { 0 };

	for (uint64_t t = 0; t < 1000; t++)
		ul_repair_seen(&g, 5000 + t);
	/* the ring holds the last ones: at least that many in the window */
	assert_int_equal(ul_repair_seen_count(&g, 6000), UL_REPAIR_SEEN_MAX);
	assert_int_equal(ul_repair_seen_count(&g, 30000), 0);
}

TK_MAIN(NULL, NULL, calm_repairs_at_once, a_fight_backs_off, counts_many_changes)
