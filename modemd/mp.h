/* RFC 1990 Multilink: MP header codec, sequence arithmetic and the
 * fragmenter. No I/O: frames leave through a callback.
 *
 * Everything here works on the Information field of a PPP frame whose
 * protocol is 0x003D (MP_PROTO); the outer `[FF 03] 00 3D` belongs to the
 * link's framing (ACFC/PFC negotiated per link) and is added by the owner,
 * for which mp_fragment leaves MP_TX_HEADROOM writable bytes in front of
 * every frame it hands out. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define MP_PROTO 0x003d

#define MP_FLAG_B 0x80 /* first fragment of a packet */
#define MP_FLAG_E 0x40 /* last fragment of a packet */

#define MP_HDR_LONG_LEN	 4 /* B E 0 0 0 0 0 0 | 24-bit seq */
#define MP_HDR_SHORT_LEN 2 /* B E 0 0 | 12-bit seq */

#define MP_SEQ_LONG_BITS  24
#define MP_SEQ_SHORT_BITS 12

static inline size_t mp_hdr_len(bool short_seq)
{
	return short_seq ? MP_HDR_SHORT_LEN : MP_HDR_LONG_LEN;
}

static inline uint32_t mp_seq_mask(bool short_seq)
{
	return short_seq ? (1u << MP_SEQ_SHORT_BITS) - 1 : (1u << MP_SEQ_LONG_BITS) - 1;
}

/* One decoded fragment. For a B fragment the payload starts with the inner
 * protocol field (it is part of the reassembled packet; parse it with
 * mp_inner_proto once the packet is whole). */
struct mp_frag {
	bool b, e;
	uint32_t seq;
	struct rbuf payload;
};

/* Decode the MP header at the start of an MP Information field. Returns 0,
 * or -EBADMSG with *reason set (static string) for a short header or
 * reserved bits that are not zero (RFC 1990 §3: MUST be zero; FreeBSD drops
 * such frames, so do we). reason may be NULL. */
int mp_hdr_decode(const uint8_t *p, size_t len, bool short_seq, struct mp_frag *f,
		  const char **reason);
/* Append an MP header; seq is reduced modulo the format's range. */
void mp_hdr_encode(struct wbuf *w, bool short_seq, bool b, bool e, uint32_t seq);

/* Read the inner protocol at the start of a reassembled packet: skips a
 * stray `FF 03` (some peers leave it in), accepts 1-byte (PFC) and 2-byte
 * forms. Returns 0 or -EBADMSG with *reason. */
int mp_inner_proto(struct rbuf *r, uint16_t *proto, const char **reason);
/* Append a protocol field, compressed to one byte when pfc and possible. */
void mp_proto_put(struct wbuf *w, uint16_t proto, bool pfc);

/* Widen a received seq (24 or 12 bits) to 64 bits: the value congruent to
 * seq that is nearest to ref (within half the sequence space), so ordering
 * across the wrap is plain integer ordering. Like Linux's widening around
 * minseq. ref must be >= 2^24 so no value near it underflows (the
 * reassembler starts its reference well above that). */
uint64_t mp_seq_widen(uint32_t seq, uint64_t ref, bool short_seq);
/* a - b as a signed distance in the modular sequence space. */
int32_t mp_seq_diff(uint32_t a, uint32_t b, bool short_seq);

/* ---- fragmenter ---- */

#define MP_TX_HEADROOM 4 /* room for FF 03 00 3D in front of each frame */

struct mp_tx_cfg {
	bool short_seq; /* the peer asked for 12-bit numbers (its SSNHF) */
	bool pfc;	/* the peer acked PFC: compress the inner protocol */
	size_t mrru;	/* the peer's MRRU: largest packet we may send (0 = 1500) */
	size_t max_mru; /* largest per-link MRU we will fill (0 = 2048) */
};

/* A link chosen by the caller (the scheduler) for this packet, with the
 * largest MP Information field the peer takes on it (its MRU). */
struct mp_tx_link {
	uint32_t id;
	size_t mru;
};

/* frame points at an MP Information field (header + data); the
 * MP_TX_HEADROOM bytes before it are the callee's to write. A negative
 * return aborts the rest of the packet (the peer's loss detection discards
 * what was sent) and is returned from mp_fragment. */
typedef int (*mp_tx_cb)(void *ctx, uint32_t link, uint8_t *frame, size_t len);

struct mp_tx;

struct mp_tx *mp_tx_new(const struct mp_tx_cfg *cfg);
struct mp_tx *mp_tx_free(struct mp_tx *tx);
/* Next sequence number to send (starts at 0 for a new bundle). */
uint32_t mp_tx_seq(const struct mp_tx *tx);
void mp_tx_set_seq(struct mp_tx *tx, uint32_t seq);

/* Send one packet (inner protocol + data). When it fits links[0] it goes
 * out whole (B+E) there; otherwise it is cut into fragments, each filling
 * the MRU of the next link in links[] (round robin), sequence +1 per
 * fragment. Returns the number of frames sent, -EMSGSIZE above the MRRU,
 * -EINVAL for an unusable link list, or the callback's error. */
int mp_fragment(struct mp_tx *tx, uint16_t proto, const uint8_t *data, size_t len,
		const struct mp_tx_link *links, size_t n_links, mp_tx_cb cb, void *ctx);
/* A null fragment (B+E, no data) on one link, numbered like the last
 * fragment sent (call only after one was): it carries nothing but moves
 * that link's last number on at the peer, so an idle link stops holding
 * back loss detection (RFC 1990 M). Only for a peer known to discard it
 * (ours: mp_reasm); returns the callback's result. */
int mp_tx_null(struct mp_tx *tx, uint32_t link, mp_tx_cb cb, void *ctx);
