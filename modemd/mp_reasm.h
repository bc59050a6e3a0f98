/* RFC 1990 Multilink reassembly for one bundle, hardened for cellular paths.
 *
 * RFC 1990 §4.1 loss detection (M = min over links of the last sequence
 * number seen on it; a missing number below M is lost) assumes each link
 * delivers in order and every link keeps talking. UDP over cellular breaks
 * both, so on top of the RFC rule:
 *  - per link, "last seq" is the highest seen, and M is taken over
 *    (highest - reorder window), the window learned from the reordering
 *    each link shows (at least reorder_min, at most reorder_max);
 *  - a hole is given up after wait_ms = clamp(2 * delay spread) even if M
 *    never passes it (the owner measures the spread between links); a
 *    fragment that still arrives after that raises the wait to what it
 *    needed (plus a margin), which decays slowly while nothing is late;
 *  - a link idle in MP stays in M while it is alive (a fragment or
 *    mp_reasm_link_heard within alive_ms): its next packet may be any
 *    number above its last, overtaken in flight by faster links, so the M
 *    rule cannot give that number up; only the wait can. A link not heard
 *    at all for alive_ms is taken for dead and leaves M; removing a link
 *    keeps the fragments it already delivered;
 *  - duplicates (redundant scheduling) are dropped through a bitmap of the
 *    recent sequence numbers; a whole (B+E) packet that arrives after its
 *    number was given up is still delivered, out of order, because TCP
 *    prefers reordering to loss (cfg.no_late turns that off);
 *  - memory is fixed at creation: a ring of max_frags slots indexed by
 *    sequence number and a pool of max_bytes in 256-byte chunks. When
 *    either is full the oldest obstacle is given up (complete packets
 *    behind it are delivered) instead of growing.
 *
 * Packets come out in sequence order through cfg.deliver. No I/O, no
 * clock: time is the now_ms argument; call mp_reasm_tick() at the deadline
 * it returns so holes are flushed when no traffic arrives. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MP_REASM_MAX_LINKS 32

/* data/len: the packet without its protocol field. Must not call back into
 * the reassembler. */
typedef void (*mp_deliver_cb)(void *ctx, uint16_t proto, const uint8_t *data, size_t len);

struct mp_reasm_cfg {
	bool short_seq;	      /* we receive 12-bit numbers (we asked with SSNHF) */
	bool no_late;	      /* drop late whole packets instead of delivering them */
	size_t mrru;	      /* our MRRU: largest reassembled packet */
	size_t max_frags;     /* buffered fragments (rounded up to a power of 2, <= 1024) */
	size_t max_bytes;     /* buffered payload bytes (pool) */
	uint32_t wait_min_ms; /* bounds of the adaptive hole wait */
	uint32_t wait_max_ms;
	uint32_t alive_ms;    /* a link not heard for this long leaves M (>= the wait) */
	uint32_t reorder_min; /* per-link reorder window, in sequence numbers */
	uint32_t reorder_max;
	mp_deliver_cb deliver;
	void *ctx;
	/* Retransmission (optional; see mp_reasm_set_nack_wait): a run of
	 * count numbers from seq (wire form) the M rule gave up for certain;
	 * the owner asks the sender for them; false if it could not (then the
	 * hole is given up at once). Must not call back in. */
	bool (*nack)(void *ctx, uint32_t seq, uint32_t count);
};

struct mp_reasm_stats {
	uint64_t delivered;	 /* packets handed to deliver (late ones included) */
	uint64_t delivered_late; /* whole packets delivered after their number was given up */
	uint64_t lost;		 /* sequence numbers given up (holes) */
	uint64_t discarded;	 /* fragments of packets that could not be completed */
	uint64_t duplicates;	 /* fragments already received */
	uint64_t late;		 /* fragments dropped because their number was passed */
	uint64_t overflow;	 /* fragments dropped to stay within the memory bound */
	uint64_t malformed;	 /* bad headers, bad inner protocol, packets above the MRRU */
	uint64_t wait_raised;	 /* late arrivals that raised the learned wait */
	uint64_t nulls;		 /* null fragments (B+E, no data): not delivered */
	uint64_t nacked;	 /* numbers asked for again (cfg.nack) */
	uint64_t nack_filled;	 /* of those, fragments that came in time */
};

struct mp_reasm;

/* MRRU 1500, short_seq off, 256 fragments, 512 KiB, wait 20..500 ms,
 * alive 1000 ms, reorder window 8..64; deliver/ctx left NULL. */
void mp_reasm_cfg_default(struct mp_reasm_cfg *cfg);
/* NULL on a bad config (no deliver, mrru 0 or > 65535, max_frags 0 or
 * > 1024, max_bytes < mrru, wait_min > wait_max) or no memory. */
struct mp_reasm *mp_reasm_new(const struct mp_reasm_cfg *cfg);
struct mp_reasm *mp_reasm_free(struct mp_reasm *r);

/* Members. A link added holds loss detection (M) back until it delivers
 * or is not heard for alive_ms. Removing one keeps what it already
 * delivered. -EEXIST, -ENOSPC, -ENOENT. */
int mp_reasm_link_add(struct mp_reasm *r, uint32_t link, uint64_t now_ms);
int mp_reasm_link_remove(struct mp_reasm *r, uint32_t link, uint64_t now_ms);
/* Any other frame heard on the link (LCP echo, vendor feedback): it is alive
 * and stays in M however long it carries no MP data. -ENOENT. */
int mp_reasm_link_heard(struct mp_reasm *r, uint32_t link, uint64_t now_ms);

/* Measured delay spread between the links (slowest minus fastest one-way
 * delay, or an RTT-based estimate). The wait is clamp(max(2 * spread,
 * learned), wait_min_ms, wait_max_ms); until this is called, wait_max_ms.
 * "Learned": a fragment arriving after its number was given up by the wait
 * raises it at once to what that fragment needed plus a quarter and 2 ms;
 * it shrinks by 1/8 per second without late arrivals, not below the
 * longest hole fill of the last two seconds (plus the same margin). */
void mp_reasm_set_spread(struct mp_reasm *r, uint32_t spread_ms);
/* Retransmission: a hole about to be given up (the M rule proves it lost,
 * or the wait ran out) is first asked for through cfg.nack, once, and held
 * wait_ms longer for the copy (the owner sets about one round trip on its
 * fastest link); then given up. 0 (the default) or no cfg.nack: off. */
void mp_reasm_set_nack_wait(struct mp_reasm *r, uint32_t wait_ms);
uint32_t mp_reasm_wait_ms(const struct mp_reasm *r);

/* One fragment, header already decoded. Returns 0 (accepted, or dropped as
 * a duplicate/late and counted), -ENOENT for an unknown link, -EMSGSIZE for
 * a fragment above the MRRU (counted malformed). */
int mp_reasm_push(struct mp_reasm *r, uint32_t link, uint32_t seq, bool b, bool e,
		  const uint8_t *data, size_t len, uint64_t now_ms);
/* One MP Information field (after the 0x003D protocol): decodes the header
 * in the bundle's format. -EBADMSG with *reason (may be NULL) if malformed. */
int mp_reasm_input(struct mp_reasm *r, uint32_t link, const uint8_t *frame, size_t len,
		   uint64_t now_ms, const char **reason);

/* Flush what the clock allows; returns the absolute time at which to call
 * again, or UINT64_MAX when nothing waits. */
uint64_t mp_reasm_tick(struct mp_reasm *r, uint64_t now_ms);

const struct mp_reasm_stats *mp_reasm_stats(const struct mp_reasm *r);
/* Fragments and pool bytes (whole chunks) held right now. */
void mp_reasm_usage(const struct mp_reasm *r, size_t *frags, size_t *bytes);
