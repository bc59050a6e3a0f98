/* Fuzz the MP header decoder and the reassembler with a stream of events.
 *
 * Input: byte 0 picks the configuration (bit 0 short sequence numbers,
 * bit 1 no late delivery, bit 2 tiny memory bounds). Then records:
 *   op  (bits 0-1 link id, bits 2-4 kind)  dt (time delta, ms)  [len  frame]
 * kinds: 0-3 a frame of len bytes on the link, 4 add link, 5 remove link,
 * 6 set spread to dt*4 ms, 7 tick (odd dt: the link is heard first).
 * Invariants: the memory bounds hold
 * after every event; delivered packets have a valid protocol and fit the
 * MRRU. Finally, the remaining bytes go through the fragmenter over links
 * of different MRU and back through a fresh reassembler: out == in. */
#include "mp.h"
#include "mp_reasm.h"

#include <stdint.h>
#include <string.h>

#define MRRU 1500

struct fz {
	size_t max_frags, max_bytes;
	uint64_t delivered;
	/* round trip */
	const uint8_t *want;
	size_t want_len;
	int matched;
};

static void check(int ok)
{
	if (!ok)
		__builtin_trap();
}

static void on_deliver(void *ctx, uint16_t proto, const uint8_t *d, size_t len)
{
	struct fz *z = ctx;

	check((proto & 1) && !(proto & 0x100));
	check(len <= MRRU + 4);
	if (len) {
		volatile uint8_t ends = d[0] ^ d[len - 1]; /* ASan checks both ends */
		(void)ends;
	}
	z->delivered++;
	if (z->want && proto == 0x0021 && len == z->want_len && !memcmp(d, z->want, len))
		z->matched++;
}

static void bounds(struct mp_reasm *r, const struct fz *z)
{
	size_t frags, bytes;

	mp_reasm_usage(r, &frags, &bytes);
	check(frags <= z->max_frags);
	check(bytes <= z->max_bytes);
}

struct txq {
	struct mp_reasm *r;
	uint64_t now;
};

static int tx_to_reasm(void *ctx, uint32_t link, uint8_t *frame, size_t len)
{
	struct txq *q = ctx;

	check(mp_reasm_input(q->r, link, frame, len, q->now++, NULL) == 0);
	return 0;
}

static void round_trip(bool sseq, const uint8_t *data, size_t len)
{
	struct mp_tx_cfg tcfg = {.short_seq = sseq, .pfc = len & 1, .mrru = MRRU};
	struct mp_reasm_cfg cfg;
	struct fz z = {.want = data, .want_len = len};
	const struct mp_tx_link links[] = {{0, 7 + len % 50}, {1, 64}, {2, 1400}};

	if (len > MRRU)
		return;
	mp_reasm_cfg_default(&cfg);
	cfg.short_seq = sseq;
	cfg.deliver = on_deliver;
	cfg.ctx = &z;
	struct mp_reasm *r = mp_reasm_new(&cfg);
	struct mp_tx *tx = mp_tx_new(&tcfg);
	if (!r || !tx)
		goto out;
	for (uint32_t l = 0; l < 3; l++)
		mp_reasm_link_add(r, l, 0);
	mp_tx_set_seq(tx, len * 7919);
	struct txq q = {.r = r};
	check(mp_fragment(tx, 0x0021, data, len, links, 3, tx_to_reasm, &q) > 0);
	check(z.matched == 1 && z.delivered == 1);
out:
	mp_tx_free(tx);
	mp_reasm_free(r);
}

static bool on_nack(void *ctx, uint32_t seq, uint32_t count)
{
	(void)ctx;
	(void)seq;
	if (count == 0 || count > 32)
		__builtin_trap(); /* at most one vendor request's worth */
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mp_reasm_cfg cfg;
	struct fz z = {0};
	uint64_t now = 1000;

	if (size < 1)
		return 0;
	uint8_t mode = data[0];
	bool sseq = mode & 1;
	mp_reasm_cfg_default(&cfg);
	cfg.short_seq = sseq;
	cfg.no_late = mode & 2;
	if (mode & 4) {
		cfg.max_frags = 8;
		cfg.max_bytes = MRRU;
	}
	cfg.mrru = MRRU;
	cfg.deliver = on_deliver;
	cfg.ctx = &z;
	if (mode & 8)
		cfg.nack = on_nack; /* retransmission requests on */
	z.max_frags = cfg.max_frags;
	z.max_bytes = cfg.max_bytes;
	struct mp_reasm *r = mp_reasm_new(&cfg);
	if (!r)
		__builtin_trap();
	for (uint32_t l = 0; l < 3; l++)
		mp_reasm_link_add(r, l, now);
	if (mode & 8)
		mp_reasm_set_nack_wait(r, 1u + (mode >> 4) * 8u);

	size_t off = 1;
	while (off + 2 <= size) {
		uint8_t op = data[off], dt = data[off + 1];
		uint32_t link = op & 3;
		off += 2;
		now += dt;
		switch ((op >> 2) & 7) {
		case 4:
			mp_reasm_link_add(r, link, now);
			break;
		case 5:
			mp_reasm_link_remove(r, link, now);
			break;
		case 6:
			mp_reasm_set_spread(r, dt * 4u);
			break;
		case 7: {
			if (dt & 1)
				mp_reasm_link_heard(r, link, now);
			uint64_t next = mp_reasm_tick(r, now);
			check(next > now || next == UINT64_MAX);
			break;
		}
		default: {
			if (off >= size)
				break;
			size_t len = data[off++];
			if (len > size - off)
				len = size - off;
			mp_reasm_input(r, link, data + off, len, now, NULL);
			off += len;
			break;
		}
		}
		bounds(r, &z);
	}
	/* Everything buffered is flushed once the longest wait has passed
	 * (with retransmission requests, each hole may add its own wait for
	 * the copy: follow the deadlines, a bounded number of them). */
	now += 1000;
	for (unsigned i = 0; i < 2048; i++) {
		uint64_t next = mp_reasm_tick(r, now);
		if (next == UINT64_MAX)
			break;
		check(next > now);
		now = next;
	}
	size_t frags;
	mp_reasm_usage(r, &frags, NULL);
	check(frags == 0);
	const struct mp_reasm_stats *st = mp_reasm_stats(r);
	check(st->delivered == z.delivered);
	mp_reasm_free(r);

	round_trip(sseq, data + 1, size - 1);
	return 0;
}
