/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The link state machine: pure code, fed with events, emits transitions. */
#ifndef UL_LINKSTATE_H
#define UL_LINKSTATE_H

#include <stdbool.h>
#include <stdint.h>

#define UL_QUALITY_WINDOW 10            /* rounds averaged for rtt and loss */
/* Leaving degraded: the quality must stay within the recovery margin for UL_RECOVER_ROUNDS
 * rounds in a row; a link degraded again fewer than UL_FLAP_ROUNDS rounds after it recovered
 * needs twice as many rounds as the last time, up to UL_RECOVER_MAX_ROUNDS. */
#define UL_RECOVER_ROUNDS UL_QUALITY_WINDOW
#define UL_RECOVER_MAX_ROUNDS (32 * UL_RECOVER_ROUNDS)
#define UL_FLAP_ROUNDS 300

enum ul_state { UL_ST_INIT, UL_ST_UP, UL_ST_DEGRADED, UL_ST_DOWN, UL_ST_DISABLED };

struct ul_fsm_params {
	uint32_t down_after, up_after;
	uint32_t max_rtt_ms, max_loss_pct;      /* 0 = off */
	uint32_t quorum;                        /* answers a round needs to succeed */
	bool carrier_only;                      /* no check: up while the carrier is */
};

struct ul_round {
	uint32_t sent, answered;
	uint32_t rtt_us;                        /* average of the answered probes */
};

struct ul_fsm {
	enum ul_state state;
	bool carrier;                           /* last carrier report */
	uint32_t good_run, bad_run;             /* consecutive rounds */
	struct ul_round window[UL_QUALITY_WINDOW];
	uint32_t n_window, window_pos;
	uint64_t since_ms;                      /* monotonic time of the last transition */
	uint32_t transitions;
	uint32_t rounds_in_state;               /* rounds since the last transition */
	uint32_t margin_run;                    /* degraded: rounds in a row within the margin */
	uint32_t recover_rounds;                /* what leaving degraded needs (0: not yet set) */
};

struct ul_transition {
	enum ul_state from, to;
	char reason[96];
};

const char *ul_state_name(enum ul_state s);
/* New machine in `init`, carrier assumed present until told otherwise. */
void ul_fsm_init(struct ul_fsm *f, uint64_t now_ms);
/* Each returns true and fills *t when the state changed. */
bool ul_fsm_round(struct ul_fsm *f, const struct ul_fsm_params *p, const struct ul_round *r,
		  uint64_t now_ms, struct ul_transition *t);
/* why: reason text for a loss ("carrier lost", "interface removed"); NULL for the default. */
bool ul_fsm_carrier(struct ul_fsm *f, const struct ul_fsm_params *p, bool carrier,
		    const char *why, uint64_t now_ms, struct ul_transition *t);
bool ul_fsm_admin(struct ul_fsm *f, const struct ul_fsm_params *p, bool disable,
		  uint64_t now_ms, struct ul_transition *t);
/* Quality over the window: average RTT (ms, of answered probes) and loss (percent of probes). */
double ul_fsm_rtt_ms(const struct ul_fsm *f);
double ul_fsm_loss_pct(const struct ul_fsm *f);
/* up or degraded */
bool ul_state_usable(enum ul_state s);

#endif
