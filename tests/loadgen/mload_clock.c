/* Timers for thousands of simulated links: a binary min-heap of one-shot
 * deadlines behind the struct pclock interface plink and bundle take, run
 * from the one epoll loop's timeout. modemd's own pclock_loop() gives every
 * timer a timerfd (5 per link); here that would mean ~20,000 descriptors
 * and a syscall per re-arm for 1,000 gateways. */
#include "mload.h"

#include <stdint.h>
#include <stdlib.h>
#include <time.h>

struct ml_timer {
	struct ml_clock *c;
	uint64_t due_us;
	size_t idx; /* in the heap; SIZE_MAX: not armed */
	ptimer_fn fn;
	void *arg;
};

struct ml_clock {
	struct ml_timer **heap;
	size_t n, cap;
	size_t count; /* timers allocated */
	uint64_t lag_max_us;
};

uint64_t ml_now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static void swap(struct ml_clock *c, size_t a, size_t b)
{
	struct ml_timer *t = c->heap[a];
	c->heap[a] = c->heap[b];
	c->heap[b] = t;
	c->heap[a]->idx = a;
	c->heap[b]->idx = b;
}

static void sift_up(struct ml_clock *c, size_t i)
{
	while (i > 0) {
		size_t p = (i - 1) / 2;
		if (c->heap[p]->due_us <= c->heap[i]->due_us)
			return;
		swap(c, p, i);
		i = p;
	}
}

static void sift_down(struct ml_clock *c, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < c->n && c->heap[l]->due_us < c->heap[m]->due_us)
			m = l;
		if (r < c->n && c->heap[r]->due_us < c->heap[m]->due_us)
			m = r;
		if (m == i)
			return;
		swap(c, i, m);
		i = m;
	}
}

static void heap_remove(struct ml_clock *c, struct ml_timer *t)
{
	size_t i = t->idx;
	if (i == SIZE_MAX)
		return;
	t->idx = SIZE_MAX;
	c->n--;
	if (i == c->n)
		return;
	c->heap[i] = c->heap[c->n];
	c->heap[i]->idx = i;
	sift_down(c, i);
	sift_up(c, i);
}

void *ml_timer_new(struct ml_clock *c, ptimer_fn fn, void *arg)
{
	struct ml_timer *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->c = c;
	t->idx = SIZE_MAX;
	t->fn = fn;
	t->arg = arg;
	c->count++;
	return t;
}

void ml_timer_arm(void *tv, uint64_t ms)
{
	struct ml_timer *t = tv;
	struct ml_clock *c = t->c;
	heap_remove(c, t);
	if (c->n == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 1024;
		struct ml_timer **h = realloc(c->heap, cap * sizeof(*h));
		if (!h)
			abort(); /* a load generator without memory has nothing to measure */
		c->heap = h;
		c->cap = cap;
	}
	t->due_us = ml_now_us() + ms * 1000;
	t->idx = c->n;
	c->heap[c->n++] = t;
	sift_up(c, t->idx);
}

void ml_timer_cancel(void *tv)
{
	struct ml_timer *t = tv;
	heap_remove(t->c, t);
}

void ml_timer_free(void *tv)
{
	struct ml_timer *t = tv;
	if (!t)
		return;
	heap_remove(t->c, t);
	t->c->count--;
	free(t);
}

unsigned ml_clock_run(struct ml_clock *c)
{
	uint64_t now = ml_now_us();
	unsigned ran = 0;
	/* Pop before calling: the callback may re-arm or free its timer. */
	while (c->n && c->heap[0]->due_us <= now) {
		struct ml_timer *t = c->heap[0];
		if (now - t->due_us > c->lag_max_us)
			c->lag_max_us = now - t->due_us;
		heap_remove(c, t);
		t->fn(t->arg);
		ran++;
	}
	return ran;
}

uint64_t ml_clock_next_us(const struct ml_clock *c)
{
	if (!c->n)
		return UINT64_MAX;
	uint64_t now = ml_now_us();
	return c->heap[0]->due_us > now ? c->heap[0]->due_us - now : 0;
}

uint64_t ml_clock_take_lag_us(struct ml_clock *c)
{
	uint64_t v = c->lag_max_us;
	c->lag_max_us = 0;
	return v;
}

size_t ml_clock_count(const struct ml_clock *c)
{
	return c->count;
}

struct ml_clock *ml_clock_new(void)
{
	return calloc(1, sizeof(struct ml_clock));
}

struct ml_clock *ml_clock_free(struct ml_clock *c)
{
	if (c) {
		free(c->heap);
		free(c);
	}
	return NULL;
}

/* ---- struct pclock over the heap ---- */

static uint64_t pc_now_us(void *ctx)
{
	(void)ctx;
	return ml_now_us();
}

static void *pc_timer_new(void *ctx, ptimer_fn fn, void *arg)
{
	return ml_timer_new(ctx, fn, arg);
}

static const struct pclock_ops ml_pclock_ops = {
    .now_us = pc_now_us,
    .timer_new = pc_timer_new,
    .timer_arm = ml_timer_arm,
    .timer_cancel = ml_timer_cancel,
    .timer_free = ml_timer_free,
};

void ml_clock_pclock(struct ml_clock *c, struct pclock *out)
{
	out->ops = &ml_pclock_ops;
	out->ctx = c;
}
