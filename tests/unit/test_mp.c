/* MP header codec, sequence arithmetic and the fragmenter: bytes on the wire. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "mp.h"

#include <errno.h>
#include <string.h>

static void test_decode_long(void **state)
{
	const uint8_t f[] = {0xc0, 0x12, 0x34, 0x56, 0x00, 0x21, 0xaa};
	struct mp_frag m;

	(void)state;
	assert_int_equal(mp_hdr_decode(f, sizeof(f), false, &m, NULL), 0);
	assert_true(m.b);
	assert_true(m.e);
	assert_int_equal(m.seq, 0x123456);
	assert_int_equal(m.payload.len, 3);
	assert_memory_equal(m.payload.p, f + 4, 3);

	const uint8_t mid[] = {0x00, 0xff, 0xff, 0xff};
	assert_int_equal(mp_hdr_decode(mid, sizeof(mid), false, &m, NULL), 0);
	assert_false(m.b);
	assert_false(m.e);
	assert_int_equal(m.seq, 0xffffff);
	assert_int_equal(m.payload.len, 0); /* null fragment: legal */
}

static void test_decode_short(void **state)
{
	const uint8_t f[] = {0x8f, 0xfe, 0x21, 0x45};
	struct mp_frag m;

	(void)state;
	assert_int_equal(mp_hdr_decode(f, sizeof(f), true, &m, NULL), 0);
	assert_true(m.b);
	assert_false(m.e);
	assert_int_equal(m.seq, 0xffe);
	assert_int_equal(m.payload.len, 2);

	const uint8_t e[] = {0x40, 0x01};
	assert_int_equal(mp_hdr_decode(e, sizeof(e), true, &m, NULL), 0);
	assert_false(m.b);
	assert_true(m.e);
	assert_int_equal(m.seq, 1);
}

static void test_decode_malformed(void **state)
{
	static const struct {
		uint8_t b[4];
		size_t len;
		bool sseq;
		const char *why;
	} bad[] = {
	    {{0}, 0, false, "empty"},
	    {{0x80, 0x00, 0x01}, 3, false, "truncated"},
	    {{0xc1, 0, 0, 1}, 4, false, "reserved"},
	    {{0xa0, 0, 0, 1}, 4, false, "reserved"},
	    {{0x80}, 1, true, "truncated"},
	    {{0x90, 0x01}, 2, true, "reserved"},
	    {{0xe0, 0x01}, 2, true, "reserved"},
	};
	struct mp_frag m;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *reason = NULL;
		assert_int_equal(mp_hdr_decode(bad[i].b, bad[i].len, bad[i].sseq, &m, &reason),
				 -EBADMSG);
		assert_non_null(reason);
		assert_non_null(strstr(reason, bad[i].why));
	}
	/* Long header bits that are legal in the short format's seq nibble
	 * are reserved in the long one. */
	const uint8_t x[] = {0x8f, 0xff, 0, 0};
	assert_int_equal(mp_hdr_decode(x, 4, false, &m, NULL), -EBADMSG);
	assert_int_equal(mp_hdr_decode(x, 4, true, &m, NULL), 0);
}

static void test_encode(void **state)
{
	uint8_t buf[8];
	struct wbuf w = wbuf_make(buf, sizeof(buf));

	(void)state;
	mp_hdr_encode(&w, false, true, true, 0x1000001); /* reduced mod 2^24 */
	mp_hdr_encode(&w, true, true, false, 0x1abc);	 /* reduced mod 2^12 */
	mp_hdr_encode(&w, true, false, true, 0x0fff);
	assert_true(wbuf_ok(&w));
	const uint8_t want[] = {0xc0, 0x00, 0x00, 0x01, 0x8a, 0xbc, 0x4f, 0xff};
	assert_int_equal(w.len, sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));

	/* Round trip through the decoder. */
	struct mp_frag m;
	assert_int_equal(mp_hdr_decode(buf + 4, 2, true, &m, NULL), 0);
	assert_int_equal(m.seq, 0xabc);
	assert_true(m.b && !m.e);
}

static void test_inner_proto(void **state)
{
	static const struct {
		uint8_t b[5];
		size_t len;
		int ret;
		uint16_t proto;
		size_t rest;
	} cases[] = {
	    {{0x21, 0x45}, 2, 0, 0x0021, 1},
	    {{0x00, 0x21, 0x45}, 3, 0, 0x0021, 1},
	    {{0x80, 0x21}, 2, 0, 0x8021, 0},
	    {{0xff, 0x03, 0x00, 0x57, 0x60}, 5, 0, 0x0057, 1},
	    {{0xff, 0x03, 0x21}, 3, 0, 0x0021, 0},
	    {{0x00, 0x20}, 2, -EBADMSG, 0, 0},
	    {{0x00}, 1, -EBADMSG, 0, 0},
	    {{0}, 0, -EBADMSG, 0, 0},
	    {{0xff, 0x03}, 2, -EBADMSG, 0, 0},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct rbuf r = rbuf_make(cases[i].b, cases[i].len);
		uint16_t proto = 0;
		const char *why = NULL;
		assert_int_equal(mp_inner_proto(&r, &proto, &why), cases[i].ret);
		if (cases[i].ret == 0) {
			assert_int_equal(proto, cases[i].proto);
			assert_int_equal(r.len, cases[i].rest);
		} else {
			assert_non_null(why);
		}
	}
}

static void test_seq_arith(void **state)
{
	const uint64_t base = UINT64_C(1) << 32;

	(void)state;
	/* Just before the 24-bit wrap, a small number is after it. */
	assert_int_equal(mp_seq_widen(1, base + 0xfffffe, false), base + 0x1000001);
	/* Just after it, a big number is before it. */
	assert_int_equal(mp_seq_widen(0xffffff, base + 0x1000001, false), base + 0xffffff);
	assert_int_equal(mp_seq_widen(5, base + 3, false), base + 5);
	/* 12 bits. */
	assert_int_equal(mp_seq_widen(0x002, base + 0xffe, true), base + 0x1002);
	assert_int_equal(mp_seq_widen(0xffd, base + 0x1001, true), base + 0xffd);

	assert_int_equal(mp_seq_diff(1, 0xffffff, false), 2);
	assert_int_equal(mp_seq_diff(0xffffff, 1, false), -2);
	assert_int_equal(mp_seq_diff(0x001, 0xfff, true), 2);
	assert_int_equal(mp_seq_diff(0xfff, 0x001, true), -2);
	assert_int_equal(mp_seq_diff(100, 100, false), 0);
}

/* ---- fragmenter ---- */

struct sent {
	size_t n;
	uint32_t link[16];
	size_t len[16];
	uint8_t f[16][1600];
	int fail_at; /* callback index that fails, -1 none */
};

static int on_tx(void *ctx, uint32_t link, uint8_t *frame, size_t len)
{
	struct sent *s = ctx;

	if ((int)s->n == s->fail_at)
		return -ENOBUFS;
	assert_true(s->n < 16 && len <= sizeof(s->f[0]));
	/* The headroom is ours to write (the owner puts FF 03 00 3D there). */
	memset(frame - MP_TX_HEADROOM, 0xee, MP_TX_HEADROOM);
	s->link[s->n] = link;
	s->len[s->n] = len;
	memcpy(s->f[s->n], frame, len);
	s->n++;
	return 0;
}

static void test_fragment_whole(void **state)
{
	struct mp_tx_cfg cfg = {.pfc = false};
	struct mp_tx *tx = mp_tx_new(&cfg);
	const struct mp_tx_link links[] = {{7, 1500}, {8, 100}};
	uint8_t pkt[100];
	struct sent s = {.fail_at = -1};

	(void)state;
	memset(pkt, 0x5a, sizeof(pkt));
	/* Fits the first chosen link: one B+E frame there, even though a
	 * second link was offered. */
	assert_int_equal(mp_fragment(tx, 0x0021, pkt, sizeof(pkt), links, 2, on_tx, &s), 1);
	assert_int_equal(s.link[0], 7);
	assert_int_equal(s.len[0], 4 + 2 + 100);
	const uint8_t hdr[] = {0xc0, 0x00, 0x00, 0x00, 0x00, 0x21};
	assert_memory_equal(s.f[0], hdr, sizeof(hdr));
	assert_memory_equal(s.f[0] + 6, pkt, 100);
	assert_int_equal(mp_tx_seq(tx), 1);
	mp_tx_free(tx);

	/* PFC acked and short sequence numbers: 2-byte header, 1-byte protocol;
	 * a protocol above 0xff is never compressed. */
	cfg = (struct mp_tx_cfg){.pfc = true, .short_seq = true};
	tx = mp_tx_new(&cfg);
	s.n = 0;
	assert_int_equal(mp_fragment(tx, 0x0021, pkt, 10, links, 1, on_tx, &s), 1);
	assert_int_equal(mp_fragment(tx, 0x8021, pkt, 10, links, 1, on_tx, &s), 1);
	const uint8_t h0[] = {0xc0, 0x00, 0x21};
	const uint8_t h1[] = {0xc0, 0x01, 0x80, 0x21};
	assert_int_equal(s.len[0], 3 + 10);
	assert_memory_equal(s.f[0], h0, sizeof(h0));
	assert_int_equal(s.len[1], 4 + 10);
	assert_memory_equal(s.f[1], h1, sizeof(h1));
	mp_tx_free(tx);
}

static void test_fragment_split(void **state)
{
	struct mp_tx_cfg cfg = {0};
	struct mp_tx *tx = mp_tx_new(&cfg);
	const struct mp_tx_link links[] = {{1, 300}, {2, 500}};
	uint8_t pkt[1000];
	struct sent s = {.fail_at = -1};

	(void)state;
	for (size_t i = 0; i < sizeof(pkt); i++)
		pkt[i] = (uint8_t)i;
	mp_tx_set_seq(tx, 0xfffffe); /* and cross the wrap */
	/* 2 + 1000 bytes: 296 on link 1, 496 on link 2, 210 on link 1. */
	assert_int_equal(mp_fragment(tx, 0x0021, pkt, sizeof(pkt), links, 2, on_tx, &s), 3);
	const uint8_t h0[] = {0x80, 0xff, 0xff, 0xfe, 0x00, 0x21};
	const uint8_t h1[] = {0x00, 0xff, 0xff, 0xff};
	const uint8_t h2[] = {0x40, 0x00, 0x00, 0x00};
	assert_int_equal(s.link[0], 1);
	assert_int_equal(s.len[0], 300);
	assert_memory_equal(s.f[0], h0, sizeof(h0));
	assert_memory_equal(s.f[0] + 6, pkt, 294);
	assert_int_equal(s.link[1], 2);
	assert_int_equal(s.len[1], 500);
	assert_memory_equal(s.f[1], h1, sizeof(h1));
	assert_memory_equal(s.f[1] + 4, pkt + 294, 496);
	assert_int_equal(s.link[2], 1);
	assert_int_equal(s.len[2], 4 + 210);
	assert_memory_equal(s.f[2], h2, sizeof(h2));
	assert_memory_equal(s.f[2] + 4, pkt + 790, 210);
	assert_int_equal(mp_tx_seq(tx), 1);

	/* The protocol field itself may straddle fragments: MRU 5 carries one
	 * byte per long-header fragment. */
	const struct mp_tx_link tiny[] = {{3, 5}};
	s.n = 0;
	assert_int_equal(mp_fragment(tx, 0x0057, pkt, 1, tiny, 1, on_tx, &s), 3);
	const uint8_t t0[] = {0x80, 0, 0, 1, 0x00}, t1[] = {0x00, 0, 0, 2, 0x57},
		      t2[] = {0x40, 0, 0, 3, 0x00};
	assert_memory_equal(s.f[0], t0, 5);
	assert_memory_equal(s.f[1], t1, 5);
	assert_memory_equal(s.f[2], t2, 5);
	mp_tx_free(tx);
}

static void test_fragment_errors(void **state)
{
	struct mp_tx_cfg cfg = {.mrru = 1500};
	struct mp_tx *tx = mp_tx_new(&cfg);
	const struct mp_tx_link ok[] = {{1, 100}, {2, 100}};
	const struct mp_tx_link bad[] = {{1, 100}, {2, 4}};
	static uint8_t pkt[1501];
	struct sent s = {.fail_at = -1};

	(void)state;
	assert_int_equal(mp_fragment(tx, 0x21, pkt, 1501, ok, 2, on_tx, &s), -EMSGSIZE);
	assert_int_equal(mp_fragment(tx, 0x21, pkt, 10, bad, 2, on_tx, &s), -EINVAL);
	assert_int_equal(mp_fragment(tx, 0x21, pkt, 10, ok, 0, on_tx, &s), -EINVAL);
	assert_int_equal(s.n, 0);
	assert_int_equal(mp_tx_seq(tx), 0);
	/* A failing send stops the packet; numbers used stay used. */
	s.fail_at = 1;
	assert_int_equal(mp_fragment(tx, 0x21, pkt, 300, ok, 2, on_tx, &s), -ENOBUFS);
	assert_int_equal(s.n, 1);
	assert_int_equal(mp_tx_seq(tx), 2);
	mp_tx_free(tx);
	assert_null(mp_tx_free(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_decode_long),	     cmocka_unit_test(test_decode_short),
	    cmocka_unit_test(test_decode_malformed), cmocka_unit_test(test_encode),
	    cmocka_unit_test(test_inner_proto),	     cmocka_unit_test(test_seq_arith),
	    cmocka_unit_test(test_fragment_whole),   cmocka_unit_test(test_fragment_split),
	    cmocka_unit_test(test_fragment_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
