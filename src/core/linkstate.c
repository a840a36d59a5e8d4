// SPDX-License-Identifier: GPL-2.0-or-later
/* The link state machine. Pure: events in, transitions out, no clock of its own.
 *
 *   init     --1 good round-->             up (or degraded if quality is already bad)
 *   init/up/degraded --down_after bad rounds in a row--> down
 *   up       --quality over the window beyond a limit--> degraded
 *   degraded --rtt <= 80% of max_rtt_ms and loss <= max_loss_pct / 2, for
 *              recover_rounds rounds in a row--> up
 *   down     --up_after good rounds in a row, with carrier--> up (or degraded)
 *   any      --carrier lost / interface gone--> down      (at once)
 *   any      --disable--> disabled --enable--> init (down without carrier)
 *
 * The quality window keeps recording while a link is down (status shows the outage's
 * loss); when an outage ends, it restarts from the good rounds that ended it.
 *
 * Flap damping between up and degraded: recover_rounds starts at UL_RECOVER_ROUNDS; a link
 * degraded again fewer than UL_FLAP_ROUNDS rounds after it became up doubles it (up to
 * UL_RECOVER_MAX_ROUNDS), one that stayed up longer starts again from UL_RECOVER_ROUNDS. So
 * degraded spells in a series last at least 10, 20, 40... rounds, and a link whose quality
 * wanders around a limit changes between up and degraded at most 9 times in 300 rounds.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "linkstate.h"

static const char *const state_names[] = {
	[UL_ST_INIT] = "init", [UL_ST_UP] = "up", [UL_ST_DEGRADED] = "degraded",
	[UL_ST_DOWN] = "down", [UL_ST_DISABLED] = "disabled",
};

const char *ul_state_name(enum ul_state s)
{
	return (unsigned)s < sizeof(state_names) / sizeof(state_names[0]) ? state_names[s] : "?";
}

bool ul_state_usable(enum ul_state s)
{
	return s == UL_ST_UP || s == UL_ST_DEGRADED;
}

static void window_clear(struct ul_fsm *f)
{
	memset(f->window, 0, sizeof(f->window));
	f->n_window = f->window_pos = 0;
}

/* Keep only the newest n rounds of the window. */
static void window_keep_last(struct ul_fsm *f, uint32_t n)
{
	struct ul_round keep[UL_QUALITY_WINDOW];

	if (n >= f->n_window)
		return;
	for (uint32_t i = 0; i < n; i++)
		keep[i] = f->window[(f->window_pos + UL_QUALITY_WINDOW - n + i) % UL_QUALITY_WINDOW];
	window_clear(f);
	memcpy(f->window, keep, n * sizeof(keep[0]));
	f->n_window = n;
	f->window_pos = n % UL_QUALITY_WINDOW;
}

void ul_fsm_init(struct ul_fsm *f, uint64_t now_ms)
{
	memset(f, 0, sizeof(*f));
	f->state = UL_ST_INIT;
	f->carrier = true;
	f->since_ms = now_ms;
}

__attribute__((format(printf, 5, 6)))
static bool go(struct ul_fsm *f, enum ul_state to, uint64_t now_ms, struct ul_transition *t,
	       const char *fmt, ...)
{
	va_list ap;

	if (f->state == to)
		return false;
	t->from = f->state;
	t->to = to;
	va_start(ap, fmt);
	vsnprintf(t->reason, sizeof(t->reason), fmt, ap);
	va_end(ap);
	f->state = to;
	f->since_ms = now_ms;
	f->transitions++;
	f->good_run = f->bad_run = 0;
	f->rounds_in_state = f->margin_run = 0;
	return true;
}

double ul_fsm_rtt_ms(const struct ul_fsm *f)
{
	double sum = 0;
	uint32_t n = 0;

	for (uint32_t i = 0; i < f->n_window; i++) {
		sum += (double)f->window[i].rtt_us * f->window[i].answered;
		n += f->window[i].answered;
	}
	return n ? sum / n / 1000.0 : -1.0;
}

double ul_fsm_loss_pct(const struct ul_fsm *f)
{
	uint32_t sent = 0, answered = 0;

	for (uint32_t i = 0; i < f->n_window; i++) {
		sent += f->window[i].sent;
		answered += f->window[i].answered;
	}
	return sent ? 100.0 * (sent - answered) / sent : 0.0;
}

/* Quality beyond a limit: fills why, returns true. */
static bool quality_bad(const struct ul_fsm *f, const struct ul_fsm_params *p, char *why,
			size_t len)
{
	double rtt = ul_fsm_rtt_ms(f), loss = ul_fsm_loss_pct(f);

	if (p->max_rtt_ms && rtt > p->max_rtt_ms) {
		snprintf(why, len, "rtt %.1f ms > %u ms", rtt, p->max_rtt_ms);
		return true;
	}
	if (p->max_loss_pct && loss > p->max_loss_pct) {
		snprintf(why, len, "loss %.0f%% > %u%%", loss, p->max_loss_pct);
		return true;
	}
	return false;
}

/* Up -> degraded: how many rounds within the margin the recovery will need (damping). */
static void degrade_damping(struct ul_fsm *f, char *why, size_t len)
{
	if (f->recover_rounds && f->rounds_in_state < UL_FLAP_ROUNDS) {
		f->recover_rounds *= 2;
		if (f->recover_rounds > UL_RECOVER_MAX_ROUNDS)
			f->recover_rounds = UL_RECOVER_MAX_ROUNDS;
		snprintf(why + strlen(why), len - strlen(why), "; flapping: recovery needs %u rounds",
			 f->recover_rounds);
	} else {
		f->recover_rounds = UL_RECOVER_ROUNDS;
	}
}

/* Within the recovery margin: rtt <= 80% of the limit, loss <= half of it. */
static bool quality_good(const struct ul_fsm *f, const struct ul_fsm_params *p)
{
	double rtt = ul_fsm_rtt_ms(f), loss = ul_fsm_loss_pct(f);

	if (p->max_rtt_ms && rtt > 0.8 * p->max_rtt_ms)
		return false;
	if (p->max_loss_pct && loss > p->max_loss_pct / 2.0)
		return false;
	return true;
}

bool ul_fsm_round(struct ul_fsm *f, const struct ul_fsm_params *p, const struct ul_round *r,
		  uint64_t now_ms, struct ul_transition *t)
{
	bool good = f->carrier && r->sent > 0 && r->answered > 0 && r->answered >= (p->quorum ? p->quorum : 1);
	char why[96];

	if (f->state == UL_ST_DISABLED)
		return false;
	f->rounds_in_state++;
	f->window[f->window_pos] = *r;
	f->window_pos = (f->window_pos + 1) % UL_QUALITY_WINDOW;
	if (f->n_window < UL_QUALITY_WINDOW)
		f->n_window++;

	if (!good) {
		f->good_run = 0;
		f->margin_run = 0;
		f->bad_run++;
		if (f->state != UL_ST_DOWN && f->bad_run >= p->down_after)
			return go(f, UL_ST_DOWN, now_ms, t, "%u of %u rounds failed", f->bad_run,
				  p->down_after);
		return false;
	}
	f->bad_run = 0;
	f->good_run++;
	switch (f->state) {
	case UL_ST_INIT:
		if (quality_bad(f, p, why, sizeof(why))) {
			if (!f->recover_rounds)
				f->recover_rounds = UL_RECOVER_ROUNDS;
			return go(f, UL_ST_DEGRADED, now_ms, t, "%s", why);
		}
		return go(f, UL_ST_UP, now_ms, t, "first round answered");
	case UL_ST_DOWN:
		if (f->good_run < p->up_after)
			return false;
		/* quality is judged on the good run that ends the outage, not on the outage */
		window_keep_last(f, p->up_after);
		if (quality_bad(f, p, why, sizeof(why))) {
			if (!f->recover_rounds)
				f->recover_rounds = UL_RECOVER_ROUNDS;
			return go(f, UL_ST_DEGRADED, now_ms, t, "%u of %u rounds answered, %s",
				  p->up_after, p->up_after, why);
		}
		return go(f, UL_ST_UP, now_ms, t, "%u of %u rounds answered", p->up_after,
			  p->up_after);
	case UL_ST_UP:
		if (quality_bad(f, p, why, sizeof(why))) {
			degrade_damping(f, why, sizeof(why));
			return go(f, UL_ST_DEGRADED, now_ms, t, "%s", why);
		}
		return false;
	case UL_ST_DEGRADED:
		if (!quality_good(f, p)) {
			f->margin_run = 0;
			return false;
		}
		if (!f->recover_rounds)
			f->recover_rounds = UL_RECOVER_ROUNDS;
		if (++f->margin_run < f->recover_rounds)
			return false;
		return go(f, UL_ST_UP, now_ms, t, "quality within the margin for %u rounds",
			  f->margin_run);
	default:
		return false;
	}
}

bool ul_fsm_carrier(struct ul_fsm *f, const struct ul_fsm_params *p, bool carrier,
		    const char *why, uint64_t now_ms, struct ul_transition *t)
{
	bool was = f->carrier;

	f->carrier = carrier;
	if (f->state == UL_ST_DISABLED)
		return false;
	/* a link without checks starts up as soon as its carrier is known to be there */
	if (carrier && p->carrier_only && f->state == UL_ST_INIT)
		return go(f, UL_ST_UP, now_ms, t, "%s", "carrier up");
	if (was == carrier)
		return false;
	if (!carrier)
		return go(f, UL_ST_DOWN, now_ms, t, "%s", why ? why : "carrier lost");
	/* Carrier back: probes have to prove the link (up_after rounds) unless there are none. */
	f->good_run = f->bad_run = 0;
	if (p->carrier_only)
		return go(f, UL_ST_UP, now_ms, t, "%s", why ? why : "carrier up");
	return false;
}

bool ul_fsm_admin(struct ul_fsm *f, const struct ul_fsm_params *p, bool disable,
		  uint64_t now_ms, struct ul_transition *t)
{
	if (disable)
		return go(f, UL_ST_DISABLED, now_ms, t, "disabled by administrator");
	if (f->state != UL_ST_DISABLED)
		return false;
	window_clear(f);
	if (!f->carrier)
		return go(f, UL_ST_DOWN, now_ms, t, "enabled, no carrier");
	if (p->carrier_only)
		return go(f, UL_ST_UP, now_ms, t, "enabled");
	return go(f, UL_ST_INIT, now_ms, t, "enabled by administrator");
}
