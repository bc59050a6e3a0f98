/* Async HDLC codec (RFC 1662): FCS-16 test vector, exact bytes on the wire,
 * escaping under different ACCMs, what a receiver does with missing flags,
 * aborts, garbage, bad FCS, short and oversized frames, input split at every
 * byte; and the --accm-after-lcp LCP watcher fed a pppd-like negotiation. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hdlc.h"
#include "lcp_snoop.h"

#define MAX_GOT 8

/* Frames the decoder delivered. */
struct got {
	size_t n;
	size_t len[MAX_GOT];
	uint8_t data[MAX_GOT][HDLC_MAX_FRAME];
};

static void collect(const uint8_t *frame, size_t len, void *ctx)
{
	struct got *g = ctx;

	assert_true(g->n < MAX_GOT);
	assert_true(len <= HDLC_MAX_FRAME);
	memcpy(g->data[g->n], frame, len);
	g->len[g->n++] = len;
}

/* Independent bit-at-a-time FCS (RFC 1662 §C.2 describes the table form). */
static uint16_t ref_fcs(const uint8_t *p, size_t n)
{
	uint16_t fcs = 0xffff;
	for (size_t i = 0; i < n; i++) {
		fcs ^= p[i];
		for (int b = 0; b < 8; b++)
			fcs = (fcs & 1) ? (uint16_t)((fcs >> 1) ^ 0x8408) : (uint16_t)(fcs >> 1);
	}
	return fcs;
}

/* A pppd-like LCP Configure-Request: MRU 1500, ACCM 0, magic, PFC, ACFC,
 * MRRU 1500, endpoint discriminator class 1. */
static const uint8_t lcp_req[] = {
    0xff, 0x03, 0xc0, 0x21, 0x01, 0x01, 0x00, 0x1f, 0x01, 0x04, 0x05, 0xdc, 0x02,
    0x06, 0x00, 0x00, 0x00, 0x00, 0x05, 0x06, 0x12, 0x34, 0x56, 0x78, 0x07, 0x02,
    0x08, 0x02, 0x11, 0x04, 0x05, 0xdc, 0x13, 0x04, 0x01, 0x7e, 0x7d,
};

static struct got *got_new(void)
{
	struct got *g = calloc(1, sizeof(*g));
	assert_non_null(g);
	return g;
}

static void test_fcs_vector(void **state)
{
	/* CRC-16/X-25 check value: the PPP FCS of "123456789" is 0x906E. */
	const uint8_t v[] = "123456789";
	assert_int_equal(hdlc_fcs16(HDLC_FCS_INIT, v, 9) ^ 0xffff, 0x906e);
	assert_int_equal(hdlc_fcs16(HDLC_FCS_INIT, lcp_req, sizeof(lcp_req)),
			 ref_fcs(lcp_req, sizeof(lcp_req)));
	/* Frame followed by its FCS (LSB first) leaves the good residue. */
	uint8_t buf[11];
	uint16_t fcs = hdlc_fcs16(HDLC_FCS_INIT, v, 9) ^ 0xffff;
	memcpy(buf, v, 9);
	buf[9] = fcs & 0xff;
	buf[10] = fcs >> 8;
	assert_int_equal(hdlc_fcs16(HDLC_FCS_INIT, buf, 11), HDLC_FCS_GOOD);
}

static void test_encode_exact_bytes(void **state)
{
	/* LCP Terminate-Request id 1, no data. */
	const uint8_t f[] = {0xff, 0x03, 0xc0, 0x21, 0x05, 0x01, 0x00, 0x04};
	uint16_t fcs = ref_fcs(f, sizeof(f)) ^ 0xffff;
	uint8_t want[32], out[HDLC_ENCODED_MAX(sizeof(f))];
	size_t n = 0;

	want[n++] = 0x7e;
	const uint8_t body[] = {0xff, 0x7d, 0x23, 0xc0, 0x21, 0x7d, 0x25,
				0x7d, 0x21, 0x7d, 0x20, 0x7d, 0x24};
	memcpy(want + n, body, sizeof(body));
	n += sizeof(body);
	const uint8_t fb[2] = {fcs & 0xff, fcs >> 8};
	for (int i = 0; i < 2; i++) {
		if (fb[i] < 0x20 || fb[i] == 0x7d || fb[i] == 0x7e) {
			want[n++] = 0x7d;
			want[n++] = fb[i] ^ 0x20;
		} else {
			want[n++] = fb[i];
		}
	}
	want[n++] = 0x7e;
	ssize_t r = hdlc_encode(f, sizeof(f), HDLC_ACCM_ALL, out, sizeof(out));
	assert_int_equal(r, n);
	assert_memory_equal(out, want, n);
}

static void check_escaping(uint32_t accm)
{
	uint8_t f[256], out[HDLC_ENCODED_MAX(256)];
	struct got *g = got_new();
	struct hdlc_decoder d;

	for (int i = 0; i < 256; i++)
		f[i] = (uint8_t)i;
	ssize_t n = hdlc_encode(f, sizeof(f), accm, out, sizeof(out));
	assert_true(n > 0);
	assert_int_equal(out[0], 0x7e);
	assert_int_equal(out[n - 1], 0x7e);
	for (ssize_t i = 1; i < n - 1; i++) {
		uint8_t c = out[i];
		assert_int_not_equal(c, 0x7e);
		/* A raw control char on the wire only where the ACCM allows it. */
		if (c < 0x20)
			assert_false((accm >> c) & 1);
		if (c == 0x7d) { /* escaped byte: one that had to be escaped */
			uint8_t orig = out[++i] ^ 0x20;
			assert_true(orig == 0x7d || orig == 0x7e ||
				    (orig < 0x20 && (accm >> orig) & 1));
		}
	}
	hdlc_decoder_init(&d);
	hdlc_decode(&d, out, (size_t)n, collect, g);
	assert_int_equal(g->n, 1);
	assert_int_equal(g->len[0], 256);
	assert_memory_equal(g->data[0], f, 256);
	free(g);
}

static void test_escaping_round_trip(void **state)
{
	check_escaping(HDLC_ACCM_ALL);
	check_escaping(0);
	check_escaping(0x000a0000); /* XON/XOFF only */
}

static void test_decode_any_escaping(void **state)
{
	/* Escaped printable bytes are legal (RFC 1662 §4.2) and must decode. */
	const uint8_t f[] = {0xff, 0x03, 0x00, 0x21, 0x45, 0x41};
	uint16_t fcs = ref_fcs(f, sizeof(f)) ^ 0xffff;
	uint8_t in[64];
	size_t n = 0;
	struct got *g = got_new();
	struct hdlc_decoder d;

	in[n++] = 0x7e;
	for (size_t i = 0; i < sizeof(f); i++) {
		in[n++] = 0x7d;
		in[n++] = f[i] ^ 0x20;
	}
	in[n++] = 0x7d;
	in[n++] = (fcs & 0xff) ^ 0x20;
	in[n++] = 0x7d;
	in[n++] = (fcs >> 8) ^ 0x20;
	in[n++] = 0x7e;
	hdlc_decoder_init(&d);
	hdlc_decode(&d, in, n, collect, g);
	assert_int_equal(g->n, 1);
	assert_int_equal(g->len[0], sizeof(f));
	assert_memory_equal(g->data[0], f, sizeof(f));
	free(g);
}

/* Append the encoding of f to s (at *n) and drop the opening flag if asked. */
static void put_frame(uint8_t *s, size_t *n, const uint8_t *f, size_t len, bool open_flag)
{
	ssize_t r = hdlc_encode(f, len, HDLC_ACCM_ALL, s + *n, HDLC_ENCODED_MAX(len));
	assert_true(r > 0);
	if (!open_flag) {
		memmove(s + *n, s + *n + 1, (size_t)r - 1);
		r--;
	}
	*n += (size_t)r;
}

static void test_flags_and_missing_opening_flag(void **state)
{
	const uint8_t f2[] = {0xff, 0x03, 0x00, 0x3d, 0xc0, 0x00, 0x00, 0x01, 0x21};
	uint8_t s[256];
	size_t n = 0;
	struct got *g = got_new();
	struct hdlc_decoder d;

	/* No opening flag at all, then a frame sharing the previous closing
	 * flag, then a run of idle flags and the same again. */
	put_frame(s, &n, lcp_req, sizeof(lcp_req), false);
	put_frame(s, &n, f2, sizeof(f2), false);
	memset(s + n, 0x7e, 5);
	n += 5;
	put_frame(s, &n, f2, sizeof(f2), true);
	hdlc_decoder_init(&d);
	hdlc_decode(&d, s, n, collect, g);
	assert_int_equal(g->n, 3);
	assert_int_equal(g->len[0], sizeof(lcp_req));
	assert_memory_equal(g->data[0], lcp_req, sizeof(lcp_req));
	assert_memory_equal(g->data[1], f2, sizeof(f2));
	assert_memory_equal(g->data[2], f2, sizeof(f2));
	assert_int_equal(d.stats.frames, 3);
	assert_int_equal(d.stats.bad_fcs + d.stats.too_short + d.stats.aborts, 0);
	free(g);
}

static void test_abort_garbage_bad_fcs_short(void **state)
{
	uint8_t s[512];
	size_t n = 0;
	struct got *g = got_new();
	struct hdlc_decoder d;

	/* Line noise before the first flag: one bad frame. */
	const uint8_t noise[] = {0x41, 0x54, 0x0d, 0x0a, 0x4f, 0x4b, 0x0d, 0x0a};
	memcpy(s + n, noise, sizeof(noise));
	n += sizeof(noise);
	/* A frame aborted half way with 0x7D 0x7E. */
	size_t aborted = n;
	put_frame(s, &n, lcp_req, sizeof(lcp_req), true);
	n = aborted + 12; /* 7E FF 7D 23 C0 21 7D 21 7D 21 7D 20 */
	s[n++] = 0x7d;
	s[n++] = 0x7e;
	/* A frame with one bit flipped in the middle. */
	size_t start = n;
	put_frame(s, &n, lcp_req, sizeof(lcp_req), false);
	s[start + 10] ^= 0x01;
	/* Too short: one byte plus a "FCS". */
	const uint8_t shorty[] = {0x01, 0x02, 0x03, 0x7e};
	memcpy(s + n, shorty, sizeof(shorty));
	n += sizeof(shorty);
	/* And a good frame still comes through. */
	put_frame(s, &n, lcp_req, sizeof(lcp_req), false);

	hdlc_decoder_init(&d);
	hdlc_decode(&d, s, n, collect, g);
	assert_int_equal(g->n, 1);
	assert_memory_equal(g->data[0], lcp_req, sizeof(lcp_req));
	assert_int_equal(d.stats.aborts, 1);
	assert_int_equal(d.stats.bad_fcs, 2); /* noise + flipped bit */
	assert_int_equal(d.stats.too_short, 1);
	assert_int_equal(d.stats.frames, 1);
	free(g);
}

static void test_size_bound(void **state)
{
	size_t big = HDLC_MAX_FRAME + 1;
	uint8_t *f = malloc(big), *s = malloc(HDLC_ENCODED_MAX(big) * 2 + 64);
	struct got *g = got_new();
	struct hdlc_decoder d;
	size_t n = 0;
	ssize_t r;

	assert_non_null(f);
	assert_non_null(s);
	for (size_t i = 0; i < big; i++)
		f[i] = (uint8_t)(i * 7);
	assert_int_equal(hdlc_encode(f, big, HDLC_ACCM_ALL, s, HDLC_ENCODED_MAX(big)), -EMSGSIZE);
	assert_int_equal(hdlc_encode(f, 10, HDLC_ACCM_ALL, s, 12), -ENOSPC);

	/* An oversized frame on the wire (raw bytes, no flags inside), then a
	 * maximum-size frame: the first is dropped, the second delivered. */
	s[n++] = 0x7e;
	memset(s + n, 0x55, HDLC_MAX_FRAME + 3);
	n += HDLC_MAX_FRAME + 3;
	r = hdlc_encode(f, HDLC_MAX_FRAME, HDLC_ACCM_ALL, s + n, HDLC_ENCODED_MAX(HDLC_MAX_FRAME));
	assert_true(r > 0);
	n += (size_t)r;
	hdlc_decoder_init(&d);
	hdlc_decode(&d, s, n, collect, g);
	assert_int_equal(d.stats.too_long, 1);
	assert_int_equal(g->n, 1);
	assert_int_equal(g->len[0], HDLC_MAX_FRAME);
	assert_memory_equal(g->data[0], f, HDLC_MAX_FRAME);
	free(g);
	free(f);
	free(s);
}

static void test_split_at_every_byte(void **state)
{
	const uint8_t f2[] = {0x80, 0x21, 0x01, 0x01, 0x00, 0x0a,
			      0x03, 0x06, 0x00, 0x00, 0x00, 0x00};
	const uint8_t f3[] = {0xff, 0x03, 0x7e, 0x7d, 0x00, 0x1f, 0x20};
	uint8_t s[256];
	size_t n = 0;
	struct got *g = got_new();
	struct hdlc_decoder d;

	put_frame(s, &n, lcp_req, sizeof(lcp_req), true);
	put_frame(s, &n, f2, sizeof(f2), false);
	put_frame(s, &n, f3, sizeof(f3), false);
	for (size_t cut = 0; cut <= n; cut++) {
		memset(g, 0, sizeof(*g));
		hdlc_decoder_init(&d);
		hdlc_decode(&d, s, cut, collect, g);
		hdlc_decode(&d, s + cut, n - cut, collect, g);
		assert_int_equal(g->n, 3);
		assert_memory_equal(g->data[0], lcp_req, sizeof(lcp_req));
		assert_int_equal(g->len[1], sizeof(f2));
		assert_memory_equal(g->data[1], f2, sizeof(f2));
		assert_int_equal(g->len[2], sizeof(f3));
		assert_memory_equal(g->data[2], f3, sizeof(f3));
	}
	/* One byte at a time. */
	memset(g, 0, sizeof(*g));
	hdlc_decoder_init(&d);
	for (size_t i = 0; i < n; i++)
		hdlc_decode(&d, s + i, 1, collect, g);
	assert_int_equal(g->n, 3);
	free(g);
}

/* LCP frames as they cross the relay during a pppd negotiation. */
static void snoop(struct lcp_snoop *s, enum lcp_snoop_dir dir, uint8_t code, const uint8_t *opts,
		  size_t olen)
{
	uint8_t f[64] = {0xff, 0x03, 0xc0, 0x21, code, 1, 0, (uint8_t)(4 + olen)};
	memcpy(f + 8, opts, olen);
	lcp_snoop_frame(s, dir, f, 8 + olen);
}

static void test_accm_after_lcp(void **state)
{
	const uint8_t ppp_opts[] = {0x02, 0x06, 0x00, 0x0a, 0x00, 0x00, 0x05, 0x06, 1, 2, 3, 4};
	const uint8_t peer_opts[] = {0x05, 0x06, 9, 9, 9, 9};
	const uint8_t ipcp[] = {0x80, 0x21, 0x01, 0x01, 0x00, 0x04};
	struct lcp_snoop s;

	lcp_snoop_init(&s);
	snoop(&s, LCP_SNOOP_FROM_TTY, 1, ppp_opts, sizeof(ppp_opts));
	snoop(&s, LCP_SNOOP_TO_TTY, 1, peer_opts, sizeof(peer_opts));
	snoop(&s, LCP_SNOOP_TO_TTY, 2, ppp_opts, sizeof(ppp_opts)); /* peer acks pppd */
	snoop(&s, LCP_SNOOP_FROM_TTY, 2, peer_opts, sizeof(peer_opts));
	/* Both Acks seen, but pppd may not have applied its ACCM yet. */
	assert_int_equal(lcp_snoop_tx_accm(&s), HDLC_ACCM_ALL);
	/* A frame from the peer's side proves nothing about pppd. */
	assert_false(lcp_snoop_frame(&s, LCP_SNOOP_TO_TTY, ipcp, sizeof(ipcp)));
	assert_int_equal(lcp_snoop_tx_accm(&s), HDLC_ACCM_ALL);
	/* pppd's first NCP frame: it is past lcp_up. */
	assert_true(lcp_snoop_frame(&s, LCP_SNOOP_FROM_TTY, ipcp, sizeof(ipcp)));
	assert_int_equal(lcp_snoop_tx_accm(&s), 0x000a0000);
	/* Renegotiation: back to escaping everything until Opened again. */
	snoop(&s, LCP_SNOOP_TO_TTY, 1, peer_opts, sizeof(peer_opts));
	assert_int_equal(lcp_snoop_tx_accm(&s), HDLC_ACCM_ALL);
	assert_false(lcp_snoop_frame(&s, LCP_SNOOP_FROM_TTY, ipcp, sizeof(ipcp)));
	assert_int_equal(lcp_snoop_tx_accm(&s), HDLC_ACCM_ALL);

	/* An Ack without ACCM means the default map: everything. */
	lcp_snoop_init(&s);
	snoop(&s, LCP_SNOOP_TO_TTY, 2, peer_opts, sizeof(peer_opts));
	snoop(&s, LCP_SNOOP_FROM_TTY, 2, peer_opts, sizeof(peer_opts));
	lcp_snoop_frame(&s, LCP_SNOOP_FROM_TTY, ipcp, sizeof(ipcp));
	assert_int_equal(lcp_snoop_tx_accm(&s), HDLC_ACCM_ALL);
	/* Truncated or junk frames change nothing. */
	const uint8_t junk[] = {0xff, 0x03, 0xc0, 0x21, 0x02, 0x01, 0x00, 0x40, 0x02};
	assert_false(lcp_snoop_frame(&s, LCP_SNOOP_TO_TTY, junk, sizeof(junk)));
	assert_false(lcp_snoop_frame(&s, LCP_SNOOP_TO_TTY, junk, 1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_fcs_vector),
	    cmocka_unit_test(test_encode_exact_bytes),
	    cmocka_unit_test(test_escaping_round_trip),
	    cmocka_unit_test(test_decode_any_escaping),
	    cmocka_unit_test(test_flags_and_missing_opening_flag),
	    cmocka_unit_test(test_abort_garbage_bad_fcs_short),
	    cmocka_unit_test(test_size_bound),
	    cmocka_unit_test(test_split_at_every_byte),
	    cmocka_unit_test(test_accm_after_lcp),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
