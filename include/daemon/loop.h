/* SPDX-License-Identifier: GPL-2.0-or-later */
/* One epoll loop: fd watches and timers on the monotonic clock, or a clock of the
 * caller's (one timerfd). */
#ifndef UL_LOOP_H
#define UL_LOOP_H

#include <stdbool.h>
#include <stdint.h>

struct ul_loop;

struct ul_watch {
	int fd;
	void (*cb)(struct ul_watch *w, uint32_t events);
	void *data;
};

struct ul_timer {
	uint64_t due_ms;
	void (*cb)(struct ul_timer *t);
	void *data;
	bool armed;
	size_t heap_idx;                /* private */
};

uint64_t ul_now_ms(void);               /* CLOCK_MONOTONIC */
uint64_t ul_now_us(void);

int ul_loop_new(struct ul_loop **out);
void ul_loop_free(struct ul_loop *l);
/* events: EPOLLIN etc. Returns 0 or -errno. */
int ul_loop_add(struct ul_loop *l, struct ul_watch *w, uint32_t events);
int ul_loop_mod(struct ul_loop *l, struct ul_watch *w, uint32_t events);
void ul_loop_del(struct ul_loop *l, struct ul_watch *w);
/* Arm (or re-arm) a timer at absolute time due_ms on the loop's clock. */
int ul_timer_arm(struct ul_loop *l, struct ul_timer *t, uint64_t due_ms);
void ul_timer_cancel(struct ul_loop *l, struct ul_timer *t);
/* The clock timers are on: now_ms(ctx) in monotonic milliseconds (NULL: CLOCK_MONOTONIC,
 * the default). A test gives a virtual clock and drives the timers itself: it moves its
 * clock to ul_loop_next_due_ms (0: no timer armed) and calls ul_loop_fire_due, which runs
 * every timer due by then, in order of due time. */
void ul_loop_set_clock(struct ul_loop *l, uint64_t (*now_ms)(void *ctx), void *ctx);
uint64_t ul_loop_now_ms(const struct ul_loop *l);
uint64_t ul_loop_next_due_ms(const struct ul_loop *l);
void ul_loop_fire_due(struct ul_loop *l);
/* Run until ul_loop_stop. Returns 0 or -errno on a fatal epoll error. */
int ul_loop_run(struct ul_loop *l);
void ul_loop_stop(struct ul_loop *l);

#endif
