// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "loop.h"

struct ul_loop {
	int epfd;
	struct ul_watch tw;             /* the timerfd */
	struct ul_timer **heap;         /* min-heap on due_ms */
	size_t n, cap;
	uint64_t armed_ms;              /* what the timerfd is set to, 0 = disarmed */
	bool stop;
	struct epoll_event evs[32];     /* the batch being dispatched */
	int n_evs;
	uint64_t (*now_fn)(void *ctx);  /* the clock timers run on */
	void *now_ctx;
};

static uint64_t mono_ms(void *ctx)
{
	(void)ctx;
	return ul_now_ms();
}

uint64_t ul_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

uint64_t ul_now_ms(void)
{
	return ul_now_us() / 1000u;
}

static void heap_swap(struct ul_loop *l, size_t a, size_t b)
{
	struct ul_timer *t = l->heap[a];

	l->heap[a] = l->heap[b];
	l->heap[b] = t;
	l->heap[a]->heap_idx = a;
	l->heap[b]->heap_idx = b;
}

static void heap_up(struct ul_loop *l, size_t i)
{
	while (i > 0 && l->heap[(i - 1) / 2]->due_ms > l->heap[i]->due_ms) {
		heap_swap(l, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
}

static void heap_down(struct ul_loop *l, size_t i)
{
	for (;;) {
		size_t m = i, a = 2 * i + 1, b = 2 * i + 2;

		if (a < l->n && l->heap[a]->due_ms < l->heap[m]->due_ms)
			m = a;
		if (b < l->n && l->heap[b]->due_ms < l->heap[m]->due_ms)
			m = b;
		if (m == i)
			return;
		heap_swap(l, i, m);
		i = m;
	}
}

static void heap_remove(struct ul_loop *l, size_t i)
{
	l->n--;
	if (i != l->n) {
		l->heap[i] = l->heap[l->n];
		l->heap[i]->heap_idx = i;
		heap_down(l, i);
		heap_up(l, i);
	}
}

/* The timerfd is armed relative to the loop's clock (which need not be the monotonic
 * clock); it fires late rather than early, and timers_fire checks the clock again. */
static void rearm(struct ul_loop *l)
{
	struct itimerspec its = { 0 };
	uint64_t due = l->n ? l->heap[0]->due_ms : 0, now;

	if (due == l->armed_ms)
		return;
	if (due) {
		now = l->now_fn(l->now_ctx);
		if (due > now) {
			its.it_value.tv_sec = (time_t)((due - now) / 1000);
			its.it_value.tv_nsec = (long)((due - now) % 1000) * 1000000L;
		} else {
			its.it_value.tv_nsec = 1;       /* 0 would disarm it */
		}
	}
	timerfd_settime(l->tw.fd, 0, &its, NULL);
	l->armed_ms = due;
}

int ul_timer_arm(struct ul_loop *l, struct ul_timer *t, uint64_t due_ms)
{
	if (!due_ms)
		due_ms = 1;
	if (t->armed) {
		t->due_ms = due_ms;
		heap_down(l, t->heap_idx);
		heap_up(l, t->heap_idx);
	} else {
		if (l->n == l->cap) {
			size_t cap = l->cap ? l->cap * 2 : 16;
			struct ul_timer **h = realloc(l->heap, cap * sizeof(*h));

			if (!h)
				return -ENOMEM;
			l->heap = h;
			l->cap = cap;
		}
		t->due_ms = due_ms;
		t->armed = true;
		t->heap_idx = l->n;
		l->heap[l->n++] = t;
		heap_up(l, t->heap_idx);
	}
	rearm(l);
	return 0;
}

void ul_timer_cancel(struct ul_loop *l, struct ul_timer *t)
{
	if (!t->armed)
		return;
	heap_remove(l, t->heap_idx);
	t->armed = false;
	rearm(l);
}

static void timers_fire(struct ul_watch *w, uint32_t events)
{
	struct ul_loop *l = w->data;
	uint64_t expirations, now;

	(void)events;
	if (read(w->fd, &expirations, sizeof(expirations)) < 0 && errno != EAGAIN)
		return;
	l->armed_ms = 0;
	now = l->now_fn(l->now_ctx);
	while (l->n && l->heap[0]->due_ms <= now && !l->stop) {
		struct ul_timer *t = l->heap[0];

		heap_remove(l, 0);
		t->armed = false;
		t->cb(t);       /* may re-arm itself or others */
	}
	rearm(l);
}

int ul_loop_new(struct ul_loop **out)
{
	struct ul_loop *l = calloc(1, sizeof(*l));
	int err;

	if (!l)
		return -ENOMEM;
	l->now_fn = mono_ms;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	l->tw.fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (l->epfd < 0 || l->tw.fd < 0) {
		err = -errno;
		goto fail;
	}
	l->tw.cb = timers_fire;
	l->tw.data = l;
	err = ul_loop_add(l, &l->tw, EPOLLIN);
	if (err)
		goto fail;
	*out = l;
	return 0;
fail:
	if (l->epfd >= 0)
		close(l->epfd);
	if (l->tw.fd >= 0)
		close(l->tw.fd);
	free(l);
	return err;
}

void ul_loop_set_clock(struct ul_loop *l, uint64_t (*now_ms)(void *ctx), void *ctx)
{
	l->now_fn = now_ms ? now_ms : mono_ms;
	l->now_ctx = ctx;
	l->armed_ms = 0;
	rearm(l);
}

uint64_t ul_loop_now_ms(const struct ul_loop *l)
{
	return l->now_fn(l->now_ctx);
}

uint64_t ul_loop_next_due_ms(const struct ul_loop *l)
{
	return l->n ? l->heap[0]->due_ms : 0;
}

void ul_loop_fire_due(struct ul_loop *l)
{
	l->stop = false;
	timers_fire(&l->tw, 0);
}

void ul_loop_free(struct ul_loop *l)
{
	if (!l)
		return;
	close(l->tw.fd);
	close(l->epfd);
	free(l->heap);
	free(l);
}

int ul_loop_add(struct ul_loop *l, struct ul_watch *w, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = w };

	return epoll_ctl(l->epfd, EPOLL_CTL_ADD, w->fd, &ev) ? -errno : 0;
}

int ul_loop_mod(struct ul_loop *l, struct ul_watch *w, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = w };

	return epoll_ctl(l->epfd, EPOLL_CTL_MOD, w->fd, &ev) ? -errno : 0;
}

void ul_loop_del(struct ul_loop *l, struct ul_watch *w)
{
	epoll_ctl(l->epfd, EPOLL_CTL_DEL, w->fd, NULL);
	/* A watch removed while a batch is dispatched gets no further callback from it,
	 * so its owner may free it at once. */
	for (int i = 0; i < l->n_evs; i++)
		if (l->evs[i].data.ptr == w)
			l->evs[i].data.ptr = NULL;
}

int ul_loop_run(struct ul_loop *l)
{
	l->stop = false;
	while (!l->stop) {
		int n = epoll_wait(l->epfd, l->evs, 32, -1);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		l->n_evs = n;
		for (int i = 0; i < n && !l->stop; i++) {
			struct ul_watch *w = l->evs[i].data.ptr;

			if (w)
				w->cb(w, l->evs[i].events);
		}
		l->n_evs = 0;
	}
	return 0;
}

void ul_loop_stop(struct ul_loop *l)
{
	l->stop = true;
}
