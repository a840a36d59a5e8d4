// SPDX-License-Identifier: GPL-2.0-or-later
/* The link state machine, as transcripts: one event per line, and after "=>" the
 * transition it must cause ("from -> to (reason)"), or nothing when there is no "=>".
 * Events: "round A/S RTTms [xN]" (A of S probes answered; N such rounds, only the last
 * may cause the transition), "carrier down [why]", "carrier up", "disable", "enable",
 * "wait MS" (advance the clock). "with KEY N" sets a check parameter from then on (KEY
 * quorum, max_rtt_ms or max_loss_pct), "with carrier_only" makes the link one without a
 * check; they start as P's. */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "linkstate.h"
#include "tk.h"

static const struct ul_fsm_params P = { .down_after = 3, .up_after = 3, .quorum = 1 };

/* "with KEY N": the parameter KEY of p set to N ("with carrier_only": no check); false for
 * another line */
static bool with(struct ul_fsm_params *p, const char *line)
{
	static const struct {
		const char *key;
		size_t off;
	} keys[] = {
		{ "quorum", offsetof(struct ul_fsm_params, quorum) },
		{ "max_rtt_ms", offsetof(struct ul_fsm_params, max_rtt_ms) },
		{ "max_loss_pct", offsetof(struct ul_fsm_params, max_loss_pct) },
	};
	char key[32];
	uint32_t v;

	if (!strcmp(line, "with carrier_only")) {
		p->carrier_only = true;
		return true;
	}
	if (sscanf(line, "with %31s %" SCNu32, key, &v) != 2)
		return false;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (!strcmp(key, keys[i].key)) {
			memcpy((char *)p + keys[i].off, &v, sizeof(v));
			return true;
		}
	fail_msg("bad parameter '%s'", key);
	return false;
}

/* One event of a transcript line (the part before "=>"); true when it caused a transition
 * (in t). Rounds advance the clock by 200 ms after them. */
static bool event(const char *name, int lineno, struct ul_fsm *f, const struct ul_fsm_params *p,
		  const char *line, uint64_t *now, struct ul_transition *t)
{
	unsigned a, n, ms, times = 1;

	if (sscanf(line, "round %u/%u %ums x%u", &a, &n, &ms, &times) >= 3) {
		struct ul_round r = { .sent = n, .answered = a, .rtt_us = ms * 1000 };
		bool changed = false;

		for (unsigned i = 0; i < times; i++) {
			if (changed)
				fail_msg("%s: line %d '%s': unexpected transition '%s -> %s (%s)' in "
					 "round %u of %u", name, lineno, line, ul_state_name(t->from),
					 ul_state_name(t->to), t->reason, i, times);
			changed = ul_fsm_round(f, p, &r, *now, t);
			*now += 200;
		}
		return changed;
	}
	if (!strncmp(line, "carrier down", 12)) {
		const char *why = line[12] == ' ' ? line + 13 : NULL;
		char buf[64] = "";

		if (why) {
			snprintf(buf, sizeof(buf), "%s", why);
			/* trim trailing blanks */
			for (size_t k = strlen(buf); k && buf[k - 1] == ' '; k--)
				buf[k - 1] = '\0';
		}
		return ul_fsm_carrier(f, p, false, why && buf[0] ? buf : NULL, *now, t);
	}
	if (!strncmp(line, "carrier up", 10))
		return ul_fsm_carrier(f, p, true, NULL, *now, t);
	if (!strncmp(line, "disable", 7))
		return ul_fsm_admin(f, p, true, *now, t);
	if (!strncmp(line, "enable", 6))
		return ul_fsm_admin(f, p, false, *now, t);
	if (sscanf(line, "wait %u", &ms) == 1) {
		*now += ms;
		return false;
	}
	fail_msg("%s: line %d: bad transcript line '%s'", name, lineno, line);
	return false;
}

static void run(const char *name, const char *script)
{
	struct ul_fsm_params p = P;
	struct ul_fsm f;
	uint64_t now = 1000;
	char *copy = strdup(script), *save = NULL, *line;
	int lineno = 0;

	assert_non_null(copy);
	ul_fsm_init(&f, now);
	for (line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct ul_transition t;
		char got[160] = "", *want = strstr(line, "=>");
		bool changed;
		uint64_t at;

		lineno++;
		if (with(&p, line))
			continue;
		if (want) {
			*want = '\0';
			want += 2;
			while (*want == ' ')
				want++;
		}
		changed = event(name, lineno, &f, &p, line, &now, &t);
		if (changed)
			snprintf(got, sizeof(got), "%s -> %s (%s)", ul_state_name(t.from),
				 ul_state_name(t.to), t.reason);
		if (want && strcmp(got, want))
			fail_msg("%s: line %d '%s': expected '%s', got '%s'", name, lineno, line, want,
				 got[0] ? got : "no transition");
		if (!want && changed)
			fail_msg("%s: line %d '%s': unexpected transition '%s'", name, lineno, line,
				 got);
		/* the transition is dated when its event came (before the round's 200 ms) */
		at = now - (strncmp(line, "round", 5) ? 0 : 200);
		if (changed && f.since_ms != at)
			fail_msg("%s: line %d '%s': since_ms %llu, expected %llu", name, lineno, line,
				 (unsigned long long)f.since_ms, (unsigned long long)at);
	}
	free(copy);
}

static const struct transcript {
	const char *name, *script;
} transcripts[] = {
	{ "startup_and_silent_failure",
	  "round 1/1 10ms => init -> up (first round answered)\n"
	  "round 1/1 10ms\n"
	  "round 0/1 0ms\n"
	  "round 0/1 0ms\n"
	  "round 0/1 0ms => up -> down (3 of 3 rounds failed)\n"
	  "round 0/1 0ms\n"
	  "round 1/1 10ms\n"
	  "round 1/1 10ms\n"
	  "round 0/1 0ms\n"
	  "round 1/1 10ms\n"
	  "round 1/1 10ms\n"
	  "round 1/1 10ms => down -> up (3 of 3 rounds answered)\n" },
	{ "init_fails",
	  "round 0/2 0ms\n"
	  "round 0/2 0ms\n"
	  "round 0/2 0ms => init -> down (3 of 3 rounds failed)\n" },
	/* isolated failed rounds never add up to down_after in a row */
	{ "lossy_link_does_not_flap",
	  "round 1/1 5ms => init -> up (first round answered)\n"
	  "round 0/1 0ms\nround 1/1 5ms\nround 0/1 0ms\nround 0/1 0ms\nround 1/1 5ms\n"
	  "round 0/1 0ms\nround 1/1 5ms\nround 0/1 0ms\nround 0/1 0ms\nround 1/1 5ms\n" },
	{ "quorum",
	  "with quorum 2\n"
	  "round 1/3 5ms\n"
	  "round 2/3 5ms => init -> up (first round answered)\n"
	  "round 1/3 5ms\nround 1/3 5ms\nround 0/3 0ms => up -> down (3 of 3 rounds failed)\n" },
	{ "carrier",
	  "round 1/1 5ms => init -> up (first round answered)\n"
	  "carrier down => up -> down (carrier lost)\n"
	  "round 1/1 5ms\n"     /* no carrier: a stray answer does not count */
	  "carrier up\n"
	  "round 1/1 5ms\nround 1/1 5ms\n"
	  "round 1/1 5ms => down -> up (3 of 3 rounds answered)\n"
	  "carrier down interface removed => up -> down (interface removed)\n"
	  "carrier down\n" },
	{ "carrier_only_link",
	  "with carrier_only\n"
	  "carrier down => init -> down (carrier lost)\n"
	  "carrier up => down -> up (carrier up)\n" },
	{ "carrier_only_link started with its carrier already there",
	  "with carrier_only\n"
	  "carrier up => init -> up (carrier up)\n"
	  "carrier up\n" },
	{ "admin",
	  "round 1/1 5ms => init -> up (first round answered)\n"
	  "disable => up -> disabled (disabled by administrator)\n"
	  "round 0/1 0ms\nround 0/1 0ms\nround 0/1 0ms\n"
	  "carrier down\n"
	  "disable\n"
	  "enable => disabled -> down (enabled, no carrier)\n"
	  "carrier up\n"
	  "disable => down -> disabled (disabled by administrator)\n"
	  "enable => disabled -> init (enabled by administrator)\n"
	  "round 1/1 5ms => init -> up (first round answered)\n" },
	/* window of 10: average must exceed 100 ms to degrade, fall to 80 ms and stay there
	 * for 10 rounds in a row to recover */
	{ "rtt_degraded_with_margin",
	  "with max_rtt_ms 100\n"
	  "round 1/1 50ms => init -> up (first round answered)\n"
	  "round 1/1 150ms\n"                                   /* avg 100.0: not above */
	  "round 1/1 200ms => up -> degraded (rtt 133.3 ms > 100 ms)\n"
	  "round 1/1 90ms\nround 1/1 90ms\nround 1/1 90ms\nround 1/1 90ms\n"
	  "round 1/1 90ms\nround 1/1 90ms\nround 1/1 90ms\n"   /* 10 rounds: avg 103 */
	  "round 1/1 90ms\n"                                    /* 50 dropped: avg 107 */
	  "round 1/1 50ms\nround 1/1 50ms\n"                    /* avg 82 */
	  "round 1/1 50ms\n"                                    /* avg 78: 1 in the margin */
	  "round 1/1 50ms\nround 1/1 50ms\nround 1/1 50ms\nround 1/1 50ms\n"
	  "round 1/1 50ms\nround 1/1 50ms\n"                    /* 7 in the margin */
	  "round 1/1 250ms\n"                                   /* avg 70: 8 */
	  "round 1/1 300ms\n"                                   /* avg 95: the run ends */
	  "round 1/1 50ms\nround 1/1 50ms\nround 1/1 50ms\nround 1/1 50ms\n"
	  "round 1/1 50ms\nround 1/1 50ms\nround 1/1 50ms\nround 1/1 50ms\n" /* avg 95 */
	  "round 1/1 50ms\n"                                    /* 300 left: avg 75: 1 */
	  "round 1/1 50ms\nround 1/1 50ms\nround 1/1 50ms\nround 1/1 50ms\n"
	  "round 1/1 50ms\nround 1/1 50ms\nround 1/1 50ms\nround 1/1 50ms\n" /* 9 */
	  "round 1/1 50ms => degraded -> up (quality within the margin for 10 rounds)\n"
	  "round 1/1 90ms\n" },
	/* a failed round breaks the run of rounds within the margin */
	{ "failed_round_breaks_the_margin_run",
	  "with max_rtt_ms 100\n"
	  "round 1/1 500ms => init -> degraded (rtt 500.0 ms > 100 ms)\n"
	  "round 1/1 10ms x5\n"                 /* avg 416, 357 ... 90 */
	  "round 1/1 10ms x9\n"                 /* avg 80 ... 10: 9 in the margin */
	  "round 0/1 0ms\n"
	  "round 1/1 10ms x9\n"
	  "round 1/1 10ms => degraded -> up (quality within the margin for 10 rounds)\n" },
	{ "loss_degraded",
	  "with max_loss_pct 20\n"
	  "round 4/4 5ms => init -> up (first round answered)\n"
	  "round 2/4 5ms => up -> degraded (loss 25% > 20%)\n"
	  "round 4/4 5ms\n"       /* 2 of 12 lost: 16.7%, not yet <= 10 */
	  "round 4/4 5ms\n"       /* 2 of 16: 12.5% */
	  "round 4/4 5ms\n"       /* 2 of 20: 10%: 1 round in the margin */
	  "round 4/4 5ms\nround 4/4 5ms\nround 4/4 5ms\nround 4/4 5ms\n"
	  "round 4/4 5ms\nround 4/4 5ms\nround 4/4 5ms\n" /* 2 of 40: 8 in the margin */
	  "round 4/4 5ms\n"       /* the 2 lost leave the window: 0%, 9 */
	  "round 4/4 5ms => degraded -> up (quality within the margin for 10 rounds)\n"
	  "round 3/4 5ms\n"       /* 1 of 40 */
	  "round 2/4 5ms\n"       /* 3 of 40: 7.5% */
	  "round 1/4 5ms\n"       /* 6 of 40: 15%, within the limit: stays up */
	  "round 1/4 5ms => up -> degraded (loss 22% > 20%; flapping: recovery needs 20 rounds)\n" },
	{ "recovery_after_outage_starts_clean",
	  "with max_loss_pct 20\n"
	  "round 1/1 5ms => init -> up (first round answered)\n"
	  "round 0/1 0ms\nround 0/1 0ms\n"
	  "round 0/1 0ms => up -> down (3 of 3 rounds failed)\n"
	  "round 0/1 0ms\nround 1/1 5ms\nround 1/1 5ms\n"
	  "round 1/1 5ms => down -> up (3 of 3 rounds answered)\n" },
};

/* Every transcript, each from a fresh state machine with P's parameters. */
static void all_transcripts(void **state)
{
	for (size_t i = 0; i < sizeof(transcripts) / sizeof(transcripts[0]); i++)
		run(transcripts[i].name, transcripts[i].script);
}

/* Feed one round; count the up <-> degraded transitions and the rounds since the last. */
struct flap {
	struct ul_fsm f;
	uint64_t now;
	unsigned rounds, transitions, spell, last_spell;
	char last_reason[96];
};

static void flap_round(struct flap *fl, const struct ul_fsm_params *p, unsigned rtt_ms)
{
	struct ul_round r = { .sent = 1, .answered = 1, .rtt_us = rtt_ms * 1000 };
	struct ul_transition t;

	fl->rounds++;
	fl->spell++;
	if (ul_fsm_round(&fl->f, p, &r, fl->now += 200, &t)) {
		assert_true(t.to == UL_ST_UP || t.to == UL_ST_DEGRADED);
		if (t.from == UL_ST_UP || t.from == UL_ST_DEGRADED)
			fl->transitions++;
		fl->last_spell = fl->spell;
		fl->spell = 0;
		snprintf(fl->last_reason, sizeof(fl->last_reason), "%s", t.reason);
	}
}

/* The worst case: every round that can change the state does. A link flips to degraded with
 * one very slow round right after it recovered; it recovers as soon as the rounds allow. The
 * degraded spells last 10, 20, 40, 80, 160 rounds within the margin (plus the rounds the
 * slow one takes to leave the window): at most 9 transitions in 300 rounds, as documented. */
static void flap_damping_worst_case(void **state)
{
	struct ul_fsm_params q = P;
	struct flap fl = { .now = 0 };
	unsigned need = UL_RECOVER_ROUNDS, spells = 0;

	q.max_rtt_ms = 100;
	ul_fsm_init(&fl.f, 0);
	flap_round(&fl, &q, 1);
	assert_int_equal(fl.f.state, UL_ST_UP);
	fl.rounds = 0;
	while (fl.rounds < 300) {
		if (fl.f.state == UL_ST_UP) {
			flap_round(&fl, &q, 5000);
			assert_int_equal(fl.f.state, UL_ST_DEGRADED);
			if (spells)
				need = need * 2 > UL_RECOVER_MAX_ROUNDS ? UL_RECOVER_MAX_ROUNDS : need * 2;
			spells++;
			continue;
		}
		flap_round(&fl, &q, 1);
		if (fl.f.state == UL_ST_UP) {
			/* the slow round stays 10 rounds in the window, then "need" in the margin */
			assert_true(fl.last_spell >= need);
			assert_int_equal(fl.last_spell, UL_QUALITY_WINDOW - 1 + need);
		}
	}
	print_message("worst case: %u transitions between up and degraded in 300 rounds\n",
		      fl.transitions);
	assert_true(fl.transitions <= 9);
	assert_true(fl.transitions >= 7);	/* damping, not a link stuck in one state */
	assert_non_null(strstr(fl.last_reason, "flapping: recovery needs"));
	/* up for UL_FLAP_ROUNDS rounds: the next spell needs UL_RECOVER_ROUNDS again */
	while (fl.f.state != UL_ST_UP)
		flap_round(&fl, &q, 1);
	for (int i = 0; i < UL_FLAP_ROUNDS; i++)
		flap_round(&fl, &q, 1);
	flap_round(&fl, &q, 5000);
	assert_int_equal(fl.f.state, UL_ST_DEGRADED);
	assert_null(strstr(fl.last_reason, "flapping"));
	do
		flap_round(&fl, &q, 1);
	while (fl.f.state != UL_ST_UP);
	assert_int_equal(fl.last_spell, UL_QUALITY_WINDOW - 1 + UL_RECOVER_ROUNDS);
}

/* RTT that jitters across the limit: uniform 20..180 ms around max_rtt_ms = 100, 300 rounds,
 * several seeds. */
static void jitter_across_the_limit(void **state)
{
	struct ul_fsm_params q = P;
	unsigned worst = 0;

	q.max_rtt_ms = 100;
	for (uint32_t seed = 1; seed <= 50; seed++) {
		struct flap fl = { .now = 0 };
		uint32_t x = seed;

		ul_fsm_init(&fl.f, 0);
		flap_round(&fl, &q, 1);
		fl.rounds = 0;
		for (int i = 0; i < 300; i++) {
			x = x * 1103515245u + 12345u;
			flap_round(&fl, &q, 20 + (x >> 16) % 161);
		}
		assert_true(fl.transitions <= 9);
		if (fl.transitions > worst)
			worst = fl.transitions;
	}
	print_message("jitter 20..180 ms around 100 ms: at most %u transitions in 300 rounds\n",
		      worst);
	assert_true(worst >= 1);
}

static void window_during_and_after_outage(void **state)
{
	struct ul_fsm f;
	struct ul_transition t;
	struct ul_round bad = { .sent = 2, .answered = 0 }, good = { .sent = 2, .answered = 2,
								   .rtt_us = 1000 };

	ul_fsm_init(&f, 0);
	assert_true(ul_fsm_round(&f, &P, &good, 1, &t));
	for (int i = 0; i < 5; i++)
		ul_fsm_round(&f, &P, &bad, 2, &t);
	assert_int_equal(f.state, UL_ST_DOWN);
	/* a dead link shows its loss, not 0% */
	assert_true(ul_fsm_loss_pct(&f) > 83.0);
	ul_fsm_round(&f, &P, &good, 3, &t);
	ul_fsm_round(&f, &P, &good, 4, &t);
	assert_true(ul_fsm_round(&f, &P, &good, 5, &t));
	assert_int_equal(f.state, UL_ST_UP);
	/* after the outage only the good run counts */
	assert_true(ul_fsm_loss_pct(&f) == 0.0);
	assert_int_equal(f.n_window, 3);
}

static void quality_helpers(void **state)
{
	struct ul_fsm f;
	struct ul_transition t;
	struct ul_round r = { .sent = 2, .answered = 1, .rtt_us = 3000 };

	ul_fsm_init(&f, 0);
	assert_true(ul_fsm_rtt_ms(&f) < 0);
	assert_true(ul_fsm_loss_pct(&f) == 0.0);
	ul_fsm_round(&f, &P, &r, 1, &t);
	assert_true(ul_fsm_rtt_ms(&f) > 2.999 && ul_fsm_rtt_ms(&f) < 3.001);
	assert_true(ul_fsm_loss_pct(&f) > 49.9 && ul_fsm_loss_pct(&f) < 50.1);
	assert_string_equal(ul_state_name(UL_ST_DEGRADED), "degraded");
	assert_true(ul_state_usable(UL_ST_UP) && ul_state_usable(UL_ST_DEGRADED));
	assert_false(ul_state_usable(UL_ST_INIT) || ul_state_usable(UL_ST_DOWN) ||
		     ul_state_usable(UL_ST_DISABLED));
}

/* A fixed xorshift generator: the same "random" loss on every run. */
static uint32_t rng_next(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return (uint32_t)(*x >> 11);
}

/* One round as the prober reports it: each of n targets gets up to tries probes, each
 * lost with loss_pct % on the way out and, independently, on the way back; sent counts
 * the probes, answered the targets. */
static struct ul_round lossy_round(uint64_t *x, uint32_t n, uint32_t tries, uint32_t loss_pct)
{
	struct ul_round r = { .rtt_us = 1000 };

	for (uint32_t t = 0; t < n; t++)
		for (uint32_t k = 0; k < tries; k++) {
			bool out = rng_next(x) % 100 >= loss_pct, back = rng_next(x) % 100 >= loss_pct;

			r.sent++;
			if (out && back) {
				r.answered++;
				break;
			}
		}
	return r;
}

/* Counts transitions over rounds of the loss model, after the first "up". */
static uint32_t lossy_transitions(uint32_t rounds, uint32_t n, uint32_t tries, uint32_t loss_pct)
{
	const struct ul_fsm_params PL = { .down_after = 3, .up_after = 3, .quorum = 1 };
	struct ul_round ok = { .sent = n, .answered = n, .rtt_us = 1000 };
	struct ul_transition t;
	uint64_t x = 0x9e3779b97f4a7c15ull;
	struct ul_fsm f;
	uint32_t base;

	ul_fsm_init(&f, 0);
	assert_true(ul_fsm_round(&f, &PL, &ok, 0, &t));
	base = f.transitions;
	for (uint32_t i = 0; i < rounds; i++) {
		struct ul_round r = lossy_round(&x, n, tries, loss_pct);

		ul_fsm_round(&f, &PL, &r, 200ull * (i + 1), &t);
	}
	return f.transitions - base;
}

/* The numbers behind the prober's retries: 20 % loss each way, two targets, quorum 1,
 * down_after 3. A round with one probe per target fails with p = 0.36^2 = 13 %, three in
 * a row once in ~460 rounds: 10 minutes at 200 ms (3000 rounds) flap. With three tries
 * per target a round fails with 0.36^6 = 0.2 %, three in a row once in ~10^8 rounds. */
static void retries_hold_a_lossy_link(void **state)
{
	(void)state;
	assert_int_equal(lossy_transitions(3000, 2, 3, 20), 0);
	assert_int_equal(lossy_transitions(3000, 3, 3, 20), 0);
	assert_int_equal(lossy_transitions(3000, 3, 3, 30), 0);
	/* without retries the same link flaps (what the prober did before) */
	assert_true(lossy_transitions(3000, 2, 1, 20) >= 2);
}

/* A total outage with retries: every round fails (all tries lost), down after exactly
 * down_after rounds; the loss shown is per probe sent. */
static void retries_total_outage(void **state)
{
	const struct ul_fsm_params PL = { .down_after = 3, .up_after = 3, .quorum = 1 };
	struct ul_round ok = { .sent = 2, .answered = 2, .rtt_us = 1000 };
	struct ul_round dead = { .sent = 2 * 3, .answered = 0 };
	struct ul_transition t;
	struct ul_fsm f;

	(void)state;
	ul_fsm_init(&f, 0);
	assert_true(ul_fsm_round(&f, &PL, &ok, 0, &t));
	assert_false(ul_fsm_round(&f, &PL, &dead, 200, &t));
	assert_false(ul_fsm_round(&f, &PL, &dead, 400, &t));
	assert_true(ul_fsm_round(&f, &PL, &dead, 600, &t));
	assert_int_equal(t.to, UL_ST_DOWN);
	assert_string_equal(t.reason, "3 of 3 rounds failed");
	assert_true(ul_fsm_loss_pct(&f) > 85.0);        /* 18 of 20 probes lost */
}

TK_MAIN(NULL, NULL, all_transcripts, flap_damping_worst_case, jitter_across_the_limit,
	window_during_and_after_outage, quality_helpers, retries_hold_a_lossy_link,
	retries_total_outage)
