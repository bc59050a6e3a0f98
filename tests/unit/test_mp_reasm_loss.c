/* MP reassembly, loss recovery towards our own gateway: null fragments on
 * idle links (they move RFC 1990's M on) and retransmission requests for
 * holes about to be given up. Time is an argument; nothing sleeps. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "mp.h"
#include "mp_reasm.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mp_reasm_fx.h"

/* A link the sender leaves idle holds M back: a hole on the busy link
 * waits for the timer. A null fragment (B+E, no data, the sender's last
 * number) on the idle link moves its number on, and the hole goes at once;
 * the null itself is never delivered and never takes the place of data. */
static void test_null_fragment_moves_m(void **state)
{
	struct cap c;
	struct mp_reasm *r = mk(&c, false, 0);

	(void)state;
	mp_reasm_link_add(r, 1, 0);
	mp_reasm_link_add(r, 2, 0);
	frag(r, 2, 0, "BE", 'a', 0); /* link 2 spoke once, then went idle */
	frag(r, 1, 1, "BE", 'b', 1);
	/* 2 is lost on link 1; 3 and 4 arrive: link 2 still holds M at 0. */
	frag(r, 1, 3, "BE", 'd', 2);
	frag(r, 1, 4, "BE", 'e', 3);
	assert_string_equal(got(&c), "a|b|");
	/* The null repeats number 4 on link 2: it arrived, nothing missing. */
	assert_int_equal(mp_reasm_push(r, 2, 4, true, true, NULL, 0, 4), 0);
	assert_string_equal(got(&c), "a|b|d|e|");
	assert_int_equal(mp_reasm_stats(r)->lost, 1);
	assert_int_equal(mp_reasm_stats(r)->nulls, 1);
	assert_int_equal(mp_reasm_stats(r)->malformed, 0);
	/* A null that overtakes the data it repeats does not displace it. */
	assert_int_equal(mp_reasm_push(r, 2, 5, true, true, NULL, 0, 5), 0);
	frag(r, 1, 5, "BE", 'f', 6);
	assert_string_equal(got(&c), "a|b|d|e|f|");
	assert_int_equal(mp_reasm_stats(r)->duplicates, 0);
	mp_reasm_free(r);
}

static uint32_t nack_seq, nack_count, nack_calls;
static bool on_nack(void *ctx, uint32_t seq, uint32_t count)
{
	(void)ctx;
	nack_seq = seq;
	nack_count = count;
	nack_calls++;
	return true;
}

/* A reassembly that asks for holes (on_nack) and waits 60 ms for copies. */
static struct mp_reasm *mk_arq(struct cap *c, uint32_t reorder_min)
{
	struct mp_reasm *r = mk_nack(c, false, reorder_min, on_nack);

	nack_calls = 0;
	mp_reasm_set_nack_wait(r, 60);
	return r;
}

/* Retransmission: a hole proven lost is asked for once (with the missing
 * run behind it) and held nack_wait for the copy; a copy fills it in
 * order; without one it is given up after nack_wait. */
static void test_nack_then_copy_or_give_up(void **state)
{
	struct cap c;

	(void)state;
	struct mp_reasm *r = mk_arq(&c, 0);
	mp_reasm_link_add(r, 1, 0);
	frag(r, 1, 0, "BE", 'a', 0);
	frag(r, 1, 3, "BE", 'd', 1); /* 1 and 2 lost: M (one link) passed them */
	assert_int_equal(nack_calls, 1);
	assert_int_equal(nack_seq, 1);
	assert_int_equal(nack_count, 2);
	assert_string_equal(got(&c), "a|");
	frag(r, 1, 4, "BE", 'e', 2); /* no second request while waiting */
	assert_int_equal(nack_calls, 1);
	frag(r, 1, 1, "BE", 'b', 30); /* the copies */
	frag(r, 1, 2, "BE", 'c', 31);
	assert_string_equal(got(&c), "a|b|c|d|e|");
	assert_int_equal(mp_reasm_stats(r)->lost, 0);
	assert_int_equal(mp_reasm_stats(r)->nack_filled, 2);
	/* 5 lost, no copy: held until 60 ms after the request, then given up. */
	frag(r, 1, 6, "BE", 'g', 100);
	assert_int_equal(nack_calls, 2);
	assert_int_equal(nack_seq, 5);
	assert_int_equal(mp_reasm_tick(r, 120), 160);
	assert_string_equal(got(&c), "a|b|c|d|e|");
	assert_int_equal(mp_reasm_tick(r, 160), UINT64_MAX);
	assert_string_equal(got(&c), "a|b|c|d|e|g|");
	assert_int_equal(mp_reasm_stats(r)->lost, 1);
	mp_reasm_free(r);
}

/* A link dies under load: every other number is missing, the live link
 * keeps delivering. All the holes as good as lost go in one round of
 * requests (not one round trip per hole: seconds of stall); their copies
 * fill them, and the packets come out in order. */
static void test_all_holes_asked_in_one_round(void **state)
{
	struct cap c;

	(void)state;
	struct mp_reasm *r = mk_arq(&c, 8);
	mp_reasm_link_add(r, 1, 0);
	mp_reasm_link_add(r, 2, 0);
	frag(r, 1, 0, "BE", 'a', 0);
	frag(r, 2, 1, "BE", 'b', 0);
	/* Link 2 goes silent after 1: its 3, 5, ..., 19 never come. */
	for (uint32_t q = 2; q <= 20; q += 2)
		frag(r, 1, q, "BE", (char)('a' + q), 1 + q);
	assert_string_equal(got(&c), "a|b|c|");
	assert_int_equal(nack_calls, 0); /* link 2 may still be in flight */
	/* The wait (500 ms before anything is learned) runs out behind number
	 * 3: one round asks for every hole, 3 to 19. */
	mp_reasm_tick(r, 600);
	assert_int_equal(nack_calls, 9);
	assert_int_equal(mp_reasm_stats(r)->nacked, 9);
	mp_reasm_tick(r, 620); /* held for the copies: no request again */
	assert_int_equal(nack_calls, 9);
	for (uint32_t q = 3; q <= 19; q += 2)
		frag(r, 1, q, "BE", (char)('a' + q), 640);
	assert_string_equal(got(&c), "a|b|c|d|e|f|g|h|i|j|k|l|m|n|o|p|q|r|s|t|u|");
	assert_int_equal(mp_reasm_stats(r)->lost, 0);
	assert_int_equal(mp_reasm_stats(r)->nack_filled, 9);
	mp_reasm_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_null_fragment_moves_m),
	    cmocka_unit_test(test_nack_then_copy_or_give_up),
	    cmocka_unit_test(test_all_holes_asked_in_one_round),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
