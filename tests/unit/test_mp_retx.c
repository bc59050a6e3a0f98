/* The gateway's store of sent MP fragments and its resend queue: what a
 * receiver asks for, or what a silent link carried, goes out again as the
 * same frame, oldest first, at most twice, never a frame the store no
 * longer holds. */
#include "mp_retx.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

static void put(struct mp_retx *x, uint32_t seq, uint32_t link)
{
	uint8_t f[8] = {0xc0, 0, 0, 0, (uint8_t)seq, (uint8_t)(seq >> 8), 1, 2};
	mp_retx_store(x, seq, link, f, sizeof(f));
}

/* Pops the head, sent again on `to`; returns its number (or -1). */
static long next(struct mp_retx *x, uint32_t to, uint32_t *was_on, uint8_t *why)
{
	uint32_t seq, link;
	size_t len;
	uint8_t w;
	uint8_t *f = mp_retx_head(x, &seq, &len, &link, &w);
	if (!f)
		return -1;
	assert_int_equal(len, 8);
	assert_int_equal(f[4], (uint8_t)seq); /* the very frame that was sent */
	if (was_on)
		*was_on = link;
	if (why)
		*why = w;
	mp_retx_pop(x, to);
	return seq;
}

static void asked_frames_go_once_more_in_order(void **state)
{
	(void)state;
	struct mp_retx *x = mp_retx_new(16, 64);
	assert_non_null(x);
	for (uint32_t s = 100; s < 110; s++)
		put(x, s, s % 2 ? 1 : 2);
	assert_true(mp_retx_queue(x, 103, 1));
	assert_true(mp_retx_queue(x, 101, 1));
	assert_false(mp_retx_queue(x, 103, 1)); /* already waiting */
	assert_false(mp_retx_queue(x, 90, 1));	/* never kept */
	assert_int_equal(mp_retx_queued(x), 2);
	uint32_t on;
	uint8_t why;
	assert_int_equal(next(x, 2, &on, &why), 103);
	assert_int_equal(on, 1); /* the link that lost it: the owner avoids it */
	assert_int_equal(why, 1);
	assert_int_equal(next(x, 2, NULL, NULL), 101);
	assert_int_equal(next(x, 2, NULL, NULL), -1);
	/* Asked again: once more (now last sent on link 2), then no more. */
	assert_true(mp_retx_queue(x, 103, 1));
	assert_int_equal(next(x, 3, &on, NULL), 103);
	assert_int_equal(on, 2);
	assert_false(mp_retx_queue(x, 103, 1));
	mp_retx_free(x);
}

static void overwritten_frames_are_skipped(void **state)
{
	(void)state;
	struct mp_retx *x = mp_retx_new(8, 64);
	for (uint32_t s = 0; s < 8; s++)
		put(x, s, 1);
	assert_true(mp_retx_queue(x, 2, 1));
	assert_true(mp_retx_queue(x, 5, 1));
	put(x, 10, 1); /* same slot as 2: 2 is gone */
	assert_int_equal(next(x, 2, NULL, NULL), 5);
	assert_int_equal(next(x, 2, NULL, NULL), -1);
	assert_int_equal(mp_retx_queued(x), 0);
	assert_false(mp_retx_queue(NULL, 1, 1));
	assert_null(mp_retx_free(NULL));
	mp_retx_free(x);
}

static bool after_4093(void *ctx, uint32_t seq)
{
	(void)ctx;
	/* 12-bit numbers: "after 4093" across the wrap. */
	return ((seq - 4093u) & 0xfffu) > 0 && ((seq - 4093u) & 0xfffu) < 2048;
}

static void rescue_queues_a_links_frames_oldest_first(void **state)
{
	(void)state;
	struct mp_retx *x = mp_retx_new(16, 64);
	/* 12-bit numbers wrap inside the store: 4090..4095, 0..5. */
	for (uint32_t k = 0; k < 12; k++)
		put(x, (4090 + k) & 0xfff, k % 3 == 0 ? 7 : 8);
	/* Link 7 carried 4090, 4093, 0 and 3; its feedback confirmed 4093. */
	assert_int_equal(mp_retx_queue_link(x, 7, after_4093, NULL, 2), 2);
	uint8_t why;
	assert_int_equal(next(x, 8, NULL, &why), 0);
	assert_int_equal(why, 2);
	assert_int_equal(next(x, 8, NULL, NULL), 3);
	assert_int_equal(next(x, 8, NULL, NULL), -1);
	mp_retx_free(x);
}

static void a_full_queue_keeps_the_newest(void **state)
{
	(void)state;
	struct mp_retx *x = mp_retx_new(4, 64);
	for (uint32_t s = 0; s < 4; s++) {
		put(x, s, 1);
		assert_true(mp_retx_queue(x, s, 1));
	}
	/* Every slot overwritten while queued, then queued anew: the stale
	 * entries make room. */
	for (uint32_t s = 4; s < 8; s++) {
		put(x, s, 1);
		assert_true(mp_retx_queue(x, s, 1));
	}
	for (uint32_t s = 4; s < 8; s++)
		assert_int_equal(next(x, 2, NULL, NULL), s);
	assert_int_equal(next(x, 2, NULL, NULL), -1);
	mp_retx_free(x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(asked_frames_go_once_more_in_order),
	    cmocka_unit_test(overwritten_frames_are_skipped),
	    cmocka_unit_test(rescue_queues_a_links_frames_oldest_first),
	    cmocka_unit_test(a_full_queue_keeps_the_newest),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
