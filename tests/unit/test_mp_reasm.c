/* MP reassembly: what the bundle hands upwards, given fragments per link and
 * the time they arrive. Time is an argument; nothing sleeps. */
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

static void test_in_order_single_link(void **state)
{
	struct cap c;
	struct mp_reasm *r = mk(&c, false, 8);

	(void)state;
	mp_reasm_link_add(r, 1, 0);
	frag(r, 1, 0, "BE", 'a', 0);
	frag(r, 1, 1, "B", 'b', 1);
	frag(r, 1, 2, "", 'c', 2);
	assert_string_equal(got(&c), "a|");
	frag(r, 1, 3, "E", 'd', 3);
	frag(r, 1, 4, "BE", 'e', 4);
	assert_string_equal(got(&c), "a|bcd|e|");
	assert_int_equal(mp_reasm_stats(r)->delivered, 3);
	assert_int_equal(mp_reasm_stats(r)->lost, 0);
	assert_int_equal(mp_reasm_tick(r, 5), UINT64_MAX);
	mp_reasm_free(r);
}

static void test_two_links_interleaved(void **state)
{
	struct cap c;
	struct mp_reasm *r = mk(&c, false, 8);

	(void)state;
	mp_reasm_link_add(r, 1, 0);
	mp_reasm_link_add(r, 2, 0);
	/* Link 2 is 30 ms slower: its fragments come in after later ones. */
	frag(r, 1, 0, "B", 'a', 0);
	frag(r, 1, 2, "BE", 'c', 1);
	frag(r, 1, 4, "B", 'd', 2);
	assert_string_equal(got(&c), "");
	frag(r, 2, 1, "E", 'b', 30);
	assert_string_equal(got(&c), "ab|c|");
	frag(r, 1, 6, "E", 'f', 31);
	frag(r, 2, 3, "BE", 'x', 32);
	assert_string_equal(got(&c), "ab|c|x|");
	frag(r, 2, 5, "", 'e', 33);
	assert_string_equal(got(&c), "ab|c|x|def|");
	assert_int_equal(mp_reasm_stats(r)->lost, 0);
	mp_reasm_free(r);
}

static void test_loss_detected_by_m(void **state)
{
	struct cap c;
	struct mp_reasm *r = mk(&c, false, 0);

	(void)state;
	mp_reasm_link_add(r, 1, 0);
	mp_reasm_link_add(r, 2, 0);
	frag(r, 1, 0, "B", 'a', 0);
	/* seq 1 (on link 2) is lost in the network */
	frag(r, 1, 2, "E", 'c', 1);
	frag(r, 1, 4, "BE", 'e', 2);
	assert_string_equal(got(&c), ""); /* link 2 has said nothing yet */
	frag(r, 2, 3, "BE", 'd', 3);
	/* Both links are past 1: it cannot come any more. No timer needed. */
	assert_string_equal(got(&c), "d|e|");
	assert_int_equal(mp_reasm_stats(r)->lost, 1);
	assert_int_equal(mp_reasm_stats(r)->discarded, 2);
	mp_reasm_free(r);
}

static void test_reorder_within_link(void **state)
{
	struct cap c;
	struct mp_reasm *r = mk(&c, false, 8);

	(void)state;
	mp_reasm_link_add(r, 1, 0);
	frag(r, 1, 0, "BE", 'a', 0);
	frag(r, 1, 2, "BE", 'c', 1);
	frag(r, 1, 3, "BE", 'd', 2);
	/* 1 is below M but inside the reorder window: still awaited. */
	assert_string_equal(got(&c), "a|");
	frag(r, 1, 1, "BE", 'b', 3);
	assert_string_equal(got(&c), "a|b|c|d|");
	assert_int_equal(mp_reasm_stats(r)->lost, 0);
	mp_reasm_free(r);

	/* With no minimum window the first reordering costs the RFC rule a
	 * loss; the late whole packet is still delivered (out of order), and
	 * the link's window is learned, so the next reordering is waited for. */
	r = mk(&c, false, 0);
	mp_reasm_link_add(r, 1, 0);
	frag(r, 1, 0, "BE", 'a', 0);
	frag(r, 1, 2, "BE", 'c', 1);
	assert_string_equal(got(&c), "a|c|");
	frag(r, 1, 1, "BE", 'b', 2);
	assert_string_equal(got(&c), "a|c|b|");
	assert_int_equal(mp_reasm_stats(r)->delivered_late, 1);
	frag(r, 1, 4, "BE", 'e', 3);
	assert_string_equal(got(&c), "a|c|b|");
	frag(r, 1, 3, "BE", 'd', 4);
	assert_string_equal(got(&c), "a|c|b|d|e|");
	assert_int_equal(mp_reasm_stats(r)->lost, 1);
	mp_reasm_free(r);
}

static void test_silent_link_no_stall(void **state)
{
	struct cap c;
	struct mp_reasm *r = mk(&c, false, 8);

	(void)state;
	mp_reasm_set_spread(r, 30);
	assert_int_equal(mp_reasm_wait_ms(r), 60);
	mp_reasm_link_add(r, 1, 0);
	mp_reasm_link_add(r, 2, 0);
	frag(r, 2, 0, "BE", 'a', 0);
	/* Link 2 dies silently; seq 1 was on it. */
	frag(r, 1, 2, "BE", 'c', 10);
	frag(r, 1, 3, "BE", 'd', 20);
	frag(r, 1, 4, "BE", 'e', 30);
	assert_string_equal(got(&c), "a|");
	/* The owner's timer fires at the deadline tick() asked for. */
	assert_int_equal(mp_reasm_tick(r, 69), 70);
	assert_string_equal(got(&c), "a|");
	assert_int_equal(mp_reasm_tick(r, 70), UINT64_MAX);
	assert_string_equal(got(&c), "a|c|d|e|");
	assert_int_equal(mp_reasm_stats(r)->lost, 1);

	/* Link 2 has not been heard for longer than alive_ms (1 s): taken for
	 * dead, it no longer holds M back, so a hole on link 1 is detected by
	 * M (past link 1's window) without waiting for the timer. */
	for (uint32_t s = 6; s <= 13; s++)
		frag(r, 1, s, "BE", (uint8_t)('a' + s), 1100 + s);
	assert_string_equal(got(&c), "a|c|d|e|");
	frag(r, 1, 14, "BE", 'o', 1114);
	assert_string_equal(got(&c), "a|c|d|e|g|h|i|j|k|l|m|n|o|");
	assert_int_equal(mp_reasm_stats(r)->lost, 2);
	mp_reasm_free(r);
}

static void test_link_leaving_mid_packet(void **state)
{
	struct cap c;
	struct mp_reasm *r = mk(&c, false, 0);

	(void)state;
	mp_reasm_link_add(r, 1, 0);
	mp_reasm_link_add(r, 2, 0);
	/* Packet 0..2 spans both links; link 2's part arrives, then link 2
	 * goes down before the rest of the packet is in. */
	frag(r, 1, 0, "B", 'a', 0);
	frag(r, 2, 1, "", 'b', 1);
	assert_int_equal(mp_reasm_link_remove(r, 2, 2), 0);
	frag(r, 1, 2, "E", 'c', 3);
	assert_string_equal(got(&c), "abc|");
	/* Packet 3..5: its middle was to go over link 2, which is gone. Link 1
	 * alone now makes M, so the hole is known lost at once. */
	frag(r, 1, 3, "B", 'd', 4);
	frag(r, 1, 5, "E", 'f', 5);
	frag(r, 1, 6, "BE", 'g', 6);
	assert_string_equal(got(&c), "abc|g|");
	assert_int_equal(mp_reasm_stats(r)->lost, 1);
	assert_int_equal(mp_reasm_link_remove(r, 2, 7), -ENOENT);
	assert_int_equal(mp_reasm_push(r, 2, 7, true, true, (const uint8_t *)"\x21x", 2, 7),
			 -ENOENT);
	mp_reasm_free(r);
}

static void test_duplicates(void **state)
{
	struct cap c;
	struct mp_reasm *r = mk(&c, false, 8);

	(void)state;
	mp_reasm_link_add(r, 1, 0);
	mp_reasm_link_add(r, 2, 0);
	/* Redundant scheduling: every packet on both links. */
	frag(r, 1, 0, "BE", 'a', 0);
	frag(r, 2, 0, "BE", 'a', 5);
	frag(r, 2, 1, "BE", 'b', 6);
	frag(r, 1, 1, "BE", 'b', 7);
	/* A duplicate of a fragment still buffered (2 waits for 3). */
	frag(r, 1, 2, "B", 'c', 8);
	frag(r, 2, 2, "B", 'c', 9);
	frag(r, 2, 3, "E", 'd', 10);
	frag(r, 1, 3, "E", 'd', 11);
	assert_string_equal(got(&c), "a|b|cd|");
	assert_int_equal(mp_reasm_stats(r)->duplicates, 4);
	assert_int_equal(mp_reasm_stats(r)->delivered, 3);
	assert_int_equal(mp_reasm_stats(r)->delivered_late, 0);
	mp_reasm_free(r);
}

/* Many packets over two links with different delay, fed by time, across
 * several wraps of the sequence space; every packet must come out, in order. */
/* Packet i: i%3 == 0 whole, i%3 == 1 and 2 the two fragments of one packet.
 * A delivered packet's data is its first number (twice when fragmented). */
static size_t build(bool sseq, uint32_t start, size_t i, uint8_t *f, size_t cap)
{
	struct wbuf w = wbuf_make(f, cap);
	uint32_t seq = (uint32_t)(start + i) & mp_seq_mask(sseq);

	if (i % 3 == 2) {
		mp_hdr_encode(&w, sseq, false, true, seq);
		wbuf_put8(&w, (uint8_t)(i - 1));
	} else {
		mp_hdr_encode(&w, sseq, true, i % 3 == 0, seq);
		wbuf_put8(&w, 0x21);
		wbuf_put8(&w, (uint8_t)i);
	}
	return w.len;
}

/* Many packets over two links, odd numbers on link 2 which is two packet
 * times slower, across wraps of the sequence space: every packet must come
 * out, in order, none given up. */
static void run_wrap(bool sseq, uint32_t start, size_t n)
{
	struct cap *c = calloc(1, sizeof(*c));
	struct mp_reasm *r = mk(c, sseq, 8);
	size_t delivered = 0;

	mp_reasm_link_add(r, 1, 0);
	mp_reasm_link_add(r, 2, 0);
	for (size_t t = 0; t < n + 2; t++) {
		uint8_t f[8];
		if (t < n && t % 2 == 0)
			assert_int_equal(
			    mp_reasm_input(r, 1, f, build(sseq, start, t, f, 8), t, NULL), 0);
		if (t >= 2 && t - 2 < n && (t - 2) % 2 == 1)
			assert_int_equal(
			    mp_reasm_input(r, 2, f, build(sseq, start, t - 2, f, 8), t, NULL), 0);
		/* Check and forget, to keep the capture small. */
		for (size_t k = 0; k < c->n; k++, delivered++) {
			size_t pk = delivered + delivered / 2;
			assert_int_equal(c->data[k][0], (uint8_t)pk);
			assert_int_equal(c->len[k], pk % 3 == 1 ? 2 : 1);
		}
		c->n = 0;
	}
	assert_int_equal(mp_reasm_tick(r, n + 2), UINT64_MAX);
	assert_int_equal(mp_reasm_stats(r)->lost, 0);
	assert_int_equal(mp_reasm_stats(r)->malformed, 0);
	assert_int_equal(delivered, n - n / 3);
	mp_reasm_free(r);
	free(c);
}

static void test_wrap_24(void **state)
{
	(void)state;
	run_wrap(false, 0xffff00, 600);
}

static void test_wrap_12(void **state)
{
	(void)state;
	run_wrap(true, 0xf00, 10000); /* wraps twice */
}

static void test_memory_bound(void **state)
{
	struct cap c;
	struct mp_reasm_cfg cfg;
	uint8_t payload[200];

	(void)state;
	memset(&c, 0, sizeof(c));
	memset(payload, 0x21, sizeof(payload));
	mp_reasm_cfg_default(&cfg);
	cfg.mrru = 600;
	cfg.max_frags = 16;
	cfg.max_bytes = 1024; /* four 256-byte chunks: binds before the ring */
	cfg.deliver = on_deliver;
	cfg.ctx = &c;
	struct mp_reasm *r = mp_reasm_new(&cfg);
	assert_non_null(r);
	mp_reasm_link_add(r, 1, 0);
	mp_reasm_link_add(r, 2, 0);
	/* A flood of fragments without E (and holes: only even numbers, link
	 * 2 keeps M back), all at the same instant. */
	for (uint32_t s = 0; s < 2000; s += 2) {
		size_t frags, bytes;
		assert_int_equal(mp_reasm_push(r, 1, s, s % 64 == 0, false, payload, 180, 0), 0);
		mp_reasm_usage(r, &frags, &bytes);
		assert_true(frags <= 16);
		assert_true(bytes <= 1024);
	}
	assert_int_equal(c.n, 0);
	assert_true(mp_reasm_stats(r)->overflow > 0);
	/* Progress was forced, not refused: whole packets after the flood all
	 * come out, their predecessors given up by the bound (no timer ran). */
	for (uint32_t s = 2000; s < 2040; s++)
		assert_int_equal(mp_reasm_push(r, 1, s, true, true, payload, 10, 0), 0);
	assert_int_equal(c.n, 40);
	mp_reasm_free(r);
}

/* ---- fragmenter -> reassembler ---- */

struct wire {
	size_t n[3];
	size_t len[3][64];
	uint8_t f[3][64][1500];
};

static int to_wire(void *ctx, uint32_t link, uint8_t *frame, size_t len)
{
	struct wire *w = ctx;
	size_t i = w->n[link]++;

	assert_true(i < 64);
	memcpy(w->f[link][i], frame, len);
	w->len[link][i] = len;
	return 0;
}

static void round_trip(bool sseq, bool pfc)
{
	struct mp_tx_cfg tcfg = {.short_seq = sseq, .pfc = pfc};
	struct mp_tx *tx = mp_tx_new(&tcfg);
	const struct mp_tx_link links[] = {{0, 200}, {1, 576}, {2, 1400}};
	static struct wire w;
	static uint8_t pkts[20][1500];
	size_t lens[20];
	struct cap *c = calloc(1, sizeof(*c));
	struct mp_reasm *r = mk(c, sseq, 8);

	for (uint32_t l = 0; l < 3; l++)
		mp_reasm_link_add(r, l, 0);
	memset(&w, 0, sizeof(w));
	for (size_t i = 0; i < 20; i++) {
		lens[i] = (i * 397) % 1501;
		for (size_t j = 0; j < lens[i]; j++)
			pkts[i][j] = (uint8_t)(i * 31 + j);
		/* The scheduler picks a different first link each time. */
		const struct mp_tx_link order[] = {links[i % 3], links[(i + 1) % 3],
						   links[(i + 2) % 3]};
		assert_true(mp_fragment(tx, i % 2 ? 0x0021 : 0x0057, pkts[i], lens[i], order, 3,
					to_wire, &w) > 0);
	}
	/* Links deliver in their own order, interleaved unevenly: link 2 in a
	 * burst at the end. */
	uint64_t now = 0;
	for (size_t k = 0; k < 64; k++)
		for (uint32_t l = 0; l < 2; l++)
			if (k < w.n[l])
				assert_int_equal(
				    mp_reasm_input(r, l, w.f[l][k], w.len[l][k], now++, NULL), 0);
	for (size_t k = 0; k < w.n[2]; k++)
		assert_int_equal(mp_reasm_input(r, 2, w.f[2][k], w.len[2][k], now++, NULL), 0);
	assert_int_equal(c->n, 20);
	for (size_t i = 0; i < 20; i++) {
		assert_int_equal(c->proto[i], i % 2 ? 0x0021 : 0x0057);
		assert_int_equal(c->len[i], lens[i]);
		assert_memory_equal(c->data[i], pkts[i], lens[i]);
	}
	assert_int_equal(mp_reasm_stats(r)->lost, 0);
	mp_reasm_free(r);
	mp_tx_free(tx);
	free(c);
}

static void test_fragment_round_trip(void **state)
{
	(void)state;
	round_trip(false, false);
	round_trip(false, true);
	round_trip(true, true);
}

static void test_malformed(void **state)
{
	struct cap c;
	struct mp_reasm *r = mk(&c, false, 8);
	static uint8_t big[1600];
	const char *why = NULL;

	(void)state;
	mp_reasm_link_add(r, 1, 0);
	const uint8_t reserved[] = {0xc8, 0, 0, 0, 0x21, 'x'};
	assert_int_equal(mp_reasm_input(r, 1, reserved, sizeof(reserved), 0, &why), -EBADMSG);
	assert_non_null(strstr(why, "reserved"));
	const uint8_t trunc[] = {0xc0, 0};
	assert_int_equal(mp_reasm_input(r, 1, trunc, sizeof(trunc), 0, NULL), -EBADMSG);
	/* A fragment bigger than the MRRU can allow. */
	assert_int_equal(mp_reasm_push(r, 1, 0, true, true, big, sizeof(big), 0), -EMSGSIZE);
	/* A whole packet with an even (invalid) protocol field. */
	const uint8_t badproto[] = {0xc0, 0, 0, 0, 0x00, 0x20, 'x'};
	assert_int_equal(mp_reasm_input(r, 1, badproto, sizeof(badproto), 0, NULL), 0);
	/* A packet whose fragments add up beyond the MRRU. */
	assert_int_equal(mp_reasm_push(r, 1, 1, true, false, big, 1000, 1), 0);
	assert_int_equal(mp_reasm_push(r, 1, 2, false, true, big, 1000, 2), 0);
	/* ... and a good one after them all. */
	const uint8_t good[] = {0xc0, 0, 0, 3, 0xff, 0x03, 0x00, 0x21, 'o', 'k'};
	assert_int_equal(mp_reasm_input(r, 1, good, sizeof(good), 3, NULL), 0);
	assert_string_equal(got(&c), "ok|");
	assert_int_equal(mp_reasm_stats(r)->malformed, 5);
	mp_reasm_free(r);

	struct mp_reasm_cfg cfg;
	mp_reasm_cfg_default(&cfg);
	assert_null(mp_reasm_new(&cfg)); /* no deliver callback */
	cfg.deliver = on_deliver;
	cfg.max_frags = 4096;
	assert_null(mp_reasm_new(&cfg));
	assert_null(mp_reasm_free(NULL));
}

/* ---- three paths with different delays, on a virtual clock ---- */

#define SIM_EV 2048

/* One-way delay of links 1, 2, 3 (index 0 unused). */
static const uint64_t owd[4] = {0, 10, 35, 70};

struct sim_ev {
	uint64_t at;
	uint32_t idx; /* insertion order: ties keep it */
	uint32_t link;
	uint32_t seq;
	bool heard; /* a non-MP frame (echo) instead of a fragment */
};

struct sim {
	struct mp_reasm *r;
	struct cap *c;
	uint64_t deadline; /* the owner's timer: what tick() last asked for */
	size_t n, done;
	struct sim_ev ev[SIM_EV];
};

static struct sim *sim_new(void)
{
	struct sim *s = calloc(1, sizeof(*s));

	assert_non_null(s);
	s->c = calloc(1, sizeof(*s->c));
	assert_non_null(s->c);
	s->r = mk(s->c, false, 8);
	mp_reasm_set_spread(s->r, 60); /* slowest minus fastest path */
	assert_int_equal(mp_reasm_wait_ms(s->r), 120);
	for (uint32_t l = 1; l <= 3; l++)
		assert_int_equal(mp_reasm_link_add(s->r, l, 0), 0);
	s->deadline = UINT64_MAX;
	return s;
}

static void sim_free(struct sim *s)
{
	mp_reasm_free(s->r);
	free(s->c);
	free(s);
}

/* The sender puts whole packet `seq` (tag: its low byte) on `link` at `sent`. */
static void sim_send(struct sim *s, uint32_t link, uint32_t seq, uint64_t sent)
{
	assert_true(s->n < SIM_EV);
	s->ev[s->n] = (struct sim_ev){
	    .at = sent + owd[link], .idx = (uint32_t)s->n, .link = link, .seq = seq};
	s->n++;
}

/* The peer's LCP echo on `link`, sent at `sent`. */
static void sim_echo(struct sim *s, uint32_t link, uint64_t sent)
{
	assert_true(s->n < SIM_EV);
	s->ev[s->n] = (struct sim_ev){
	    .at = sent + owd[link], .idx = (uint32_t)s->n, .link = link, .heard = true};
	s->n++;
}

static int ev_cmp(const void *a, const void *b)
{
	const struct sim_ev *x = a, *y = b;

	if (x->at != y->at)
		return x->at < y->at ? -1 : 1;
	return x->idx < y->idx ? -1 : (x->idx > y->idx);
}

/* Everything that arrives up to `until`, in arrival order, with the owner's
 * timer firing at the deadlines tick() returns (as bundle.c does). */
static void sim_run(struct sim *s, uint64_t until)
{
	qsort(&s->ev[s->done], s->n - s->done, sizeof(s->ev[0]), ev_cmp);
	for (; s->done < s->n && s->ev[s->done].at <= until; s->done++) {
		const struct sim_ev *e = &s->ev[s->done];
		while (s->deadline <= e->at)
			s->deadline = mp_reasm_tick(s->r, s->deadline);
		if (e->heard) {
			assert_int_equal(mp_reasm_link_heard(s->r, e->link, e->at), 0);
		} else {
			uint8_t p[3] = {0x00, 0x21, (uint8_t)e->seq};
			assert_int_equal(
			    mp_reasm_push(s->r, e->link, e->seq, true, true, p, 3, e->at), 0);
		}
		s->deadline = mp_reasm_tick(s->r, e->at);
	}
	while (s->deadline <= until)
		s->deadline = mp_reasm_tick(s->r, s->deadline);
}

/* Packets [from, to) were delivered in order, each once, after `before`
 * earlier deliveries. */
static void sim_expect(const struct sim *s, size_t before, uint32_t from, uint32_t to)
{
	assert_int_equal(s->c->n, before + (to - from));
	for (uint32_t q = from; q < to; q++) {
		assert_int_equal(s->c->len[before + q - from], 1);
		assert_int_equal(s->c->data[before + q - from][0], (uint8_t)q);
	}
}

/* Round robin over the three links, one packet per ms from `t0`. */
static void sim_burst(struct sim *s, uint32_t from, uint32_t to, uint64_t t0)
{
	for (uint32_t q = from; q < to; q++)
		sim_send(s, 1 + q % 3, q, t0 + (q - from));
}

/* The reported problem: after a pause longer than the wait, the first packet
 * on the 70 ms path is overtaken by 60 ms worth of packets on the others.
 * Link 3 is idle, not dead: it may carry any number above its last, so M
 * may not give that number up; only the bounded wait may, and it is longer
 * than the path difference. */
static void test_idle_link_burst(void **state)
{
	struct sim *s = sim_new();

	(void)state;
	sim_burst(s, 0, 30, 0);
	sim_run(s, 200);
	sim_expect(s, 0, 0, 30);
	/* 300 ms without data (the wait is 120), and no echo in between. */
	sim_burst(s, 30, 150, 400);
	sim_run(s, 1000);
	sim_expect(s, 0, 0, 150);
	assert_int_equal(mp_reasm_stats(s->r)->lost, 0);
	assert_int_equal(mp_reasm_stats(s->r)->delivered_late, 0);
	assert_int_equal(mp_reasm_tick(s->r, 1000), UINT64_MAX);

	/* A pause of 5 s, longer than the liveness bound too: the links stay
	 * in M because the peer's echoes (every 100 ms) are heard on them. */
	for (uint64_t t = 1000; t < 6000; t += 100)
		for (uint32_t l = 1; l <= 3; l++)
			sim_echo(s, l, t);
	sim_burst(s, 150, 300, 6000);
	sim_run(s, 7000);
	sim_expect(s, 0, 0, 300);
	assert_int_equal(mp_reasm_stats(s->r)->lost, 0);
	assert_int_equal(mp_reasm_stats(s->r)->delivered_late, 0);
	sim_free(s);
}

/* With every link carrying data, a loss on one of them is known as soon as
 * all three have passed it (RFC 1990 M rule), well before the wait. */
static void test_busy_loss_found_by_m(void **state)
{
	struct sim *s = sim_new();

	(void)state;
	for (uint32_t q = 0; q < 120; q++)
		if (q != 60) /* on link 1, lost in the network */
			sim_send(s, 1 + q % 3, q, q);
	/* 59 (link 3) arrives at 129; the others wait behind 60. Link 3 is
	 * past 60 + window when 71 arrives, at 141. The packets behind the
	 * hole came in from 73 (63 on link 1): the wait alone would end at 193. */
	sim_run(s, 140);
	sim_expect(s, 0, 0, 60);
	sim_run(s, 141);
	assert_int_equal(mp_reasm_stats(s->r)->lost, 1);
	assert_true(s->c->n > 60 + 8);
	assert_int_equal(s->c->data[60][0], 61);
	sim_run(s, 300);
	assert_int_equal(s->c->n, 119);
	assert_int_equal(mp_reasm_stats(s->r)->lost, 1);
	assert_int_equal(mp_reasm_stats(s->r)->delivered_late, 0);
	sim_free(s);
}

/* An idle link holds M back for the numbers it may still carry, so a loss
 * while it is idle costs the wait, not more; a link not heard from at all
 * for the liveness bound (dead) leaves M, and losses are found by M again. */
static void test_idle_and_dead_links_loss(void **state)
{
	struct sim *s = sim_new();

	(void)state;
	sim_burst(s, 0, 30, 0);
	sim_run(s, 200);
	/* Only links 1 and 2 carry data now; 31 (link 2) is lost. The first
	 * packet behind it, 32 on link 1, arrives at 512. Links 1 and 2 pass
	 * 31 + window at 546, but link 3 (idle, last seq 29) could still
	 * carry 31: only the wait gives it up. */
	for (uint32_t q = 30; q < 60; q++)
		if (q != 31)
			sim_send(s, 1 + q % 2, q, 500 + (q - 30));
	sim_run(s, 631);
	sim_expect(s, 0, 0, 31);
	sim_run(s, 632); /* 512 + the wait, at the owner's timer */
	assert_int_equal(mp_reasm_stats(s->r)->lost, 1);
	sim_expect(s, 31, 32, 60);

	/* Link 3 has been silent (no data, no echo) for over a second: it is
	 * considered dead and M is taken over links 1 and 2 again. 61 is
	 * lost; link 2 passes 61 + window at 1546, the wait would end at 1632. */
	for (uint32_t q = 60; q < 90; q++)
		if (q != 61)
			sim_send(s, 1 + q % 2, q, 1500 + (q - 60));
	sim_run(s, 1545);
	assert_int_equal(mp_reasm_stats(s->r)->lost, 1);
	sim_run(s, 1570);
	assert_int_equal(mp_reasm_stats(s->r)->lost, 2);
	assert_int_equal(s->c->data[59][0], 60);
	sim_expect(s, 60, 62, 90);
	sim_free(s);
}

/* A fragment arriving at an explicit time (a path with jitter). */
static void sim_arrive(struct sim *s, uint32_t link, uint32_t seq, uint64_t at)
{
	assert_true(s->n < SIM_EV);
	s->ev[s->n] = (struct sim_ev){.at = at, .idx = (uint32_t)s->n, .link = link, .seq = seq};
	s->n++;
}

/* Link 1 is 10 ms away; link 2 too, except that it stalls 30 ms every
 * 250 ms (what a busy UML host or a cellular scheduler does): what was
 * sent into the stall arrives at once, 40 ms late. The owner measured no
 * spread, so the wait starts at its minimum (20 ms) and the first stall
 * gives link 2's numbers up before they arrive. Those late arrivals raise
 * the wait to what they needed; the following stalls lose nothing. */
static void test_wait_learns_from_late(void **state)
{
	struct sim *s = sim_new();
	uint32_t q = 0;

	(void)state;
	assert_int_equal(mp_reasm_link_remove(s->r, 3, 0), 0);
	mp_reasm_set_spread(s->r, 0);
	assert_int_equal(mp_reasm_wait_ms(s->r), 20);
	for (uint64_t t = 0; t < 1000; t++, q++) {
		uint64_t at = t + 10, ph = t % 250;
		if (q % 2 && ph >= 100 && ph < 130)
			at = t - ph + 130 + 10 + 10; /* held until the stall ends */
		sim_arrive(s, 1 + q % 2, q, at);
	}
	sim_run(s, 300);
	const struct mp_reasm_stats *st = mp_reasm_stats(s->r);
	uint64_t lost_first = st->lost;
	assert_true(lost_first > 0); /* the first stall beat the 20 ms wait */
	assert_true(st->delivered_late > 0);
	assert_true(st->wait_raised > 0);
	assert_true(mp_reasm_wait_ms(s->r) >= 40); /* 20 waited + ~20 late */
	assert_true(mp_reasm_wait_ms(s->r) <= 60);
	sim_run(s, 1100);
	/* Three more stalls: no loss, everything delivered, and in order
	 * after the first stall's late packets. */
	assert_int_equal(st->lost, lost_first);
	assert_int_equal(s->c->n, 1000);
	assert_int_equal(st->delivered_late, lost_first);
	for (size_t i = 300; i < s->c->n; i++)
		assert_int_equal(s->c->data[i][0], (uint8_t)(s->c->data[i - 1][0] + 1));
	assert_int_equal(mp_reasm_tick(s->r, 1100), UINT64_MAX);

	/* The stalls stop: with nothing late and no hole to fill, the wait
	 * decays back to the minimum within a minute. */
	for (uint64_t t = 1100; t < 60000; t += 200, q++)
		sim_arrive(s, 1 + q % 2, q, t + 10);
	sim_run(s, 60000);
	assert_int_equal(st->lost, lost_first);
	assert_int_equal(mp_reasm_wait_ms(s->r), 20);
	sim_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_in_order_single_link),
	    cmocka_unit_test(test_two_links_interleaved),
	    cmocka_unit_test(test_loss_detected_by_m),
	    cmocka_unit_test(test_reorder_within_link),
	    cmocka_unit_test(test_silent_link_no_stall),
	    cmocka_unit_test(test_link_leaving_mid_packet),
	    cmocka_unit_test(test_duplicates),
	    cmocka_unit_test(test_wrap_24),
	    cmocka_unit_test(test_wrap_12),
	    cmocka_unit_test(test_memory_bound),
	    cmocka_unit_test(test_fragment_round_trip),
	    cmocka_unit_test(test_malformed),
	    cmocka_unit_test(test_idle_link_burst),
	    cmocka_unit_test(test_busy_loss_found_by_m),
	    cmocka_unit_test(test_idle_and_dead_links_loss),
	    cmocka_unit_test(test_wait_learns_from_late),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
