#include "plink.h"

#include "loop.h"

#include <stdlib.h>
#include <time.h>

struct loop_ptimer {
	struct loop_timer *lt;
	ptimer_fn fn;
	void *arg;
};

static uint64_t loop_now_us(void *ctx)
{
	struct timespec ts;

	(void)ctx;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static void loop_ptimer_cb(struct loop_timer *t, void *data)
{
	struct loop_ptimer *p = data;

	(void)t;
	p->fn(p->arg);
}

static void *loop_timer_new_(void *ctx, ptimer_fn fn, void *arg)
{
	struct loop_ptimer *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->fn = fn;
	p->arg = arg;
	p->lt = loop_timer_new(ctx, loop_ptimer_cb, p);
	if (!p->lt) {
		free(p);
		return NULL;
	}
	return p;
}

static void loop_timer_arm_(void *t, uint64_t ms)
{
	loop_timer_arm(((struct loop_ptimer *)t)->lt, ms);
}

static void loop_timer_cancel_(void *t)
{
	loop_timer_disarm(((struct loop_ptimer *)t)->lt);
}

static void loop_timer_free_(void *t)
{
	struct loop_ptimer *p = t;

	if (!p)
		return;
	loop_timer_free(p->lt);
	free(p);
}

static const struct pclock_ops loop_clock_ops = {
    .now_us = loop_now_us,
    .timer_new = loop_timer_new_,
    .timer_arm = loop_timer_arm_,
    .timer_cancel = loop_timer_cancel_,
    .timer_free = loop_timer_free_,
};

void pclock_loop(struct pclock *c, struct loop *l)
{
	c->ops = &loop_clock_ops;
	c->ctx = l;
}
