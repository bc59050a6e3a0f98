/* Recently sent MP fragments, kept by sequence number so that a receiver's
 * retransmit request (vendor.h kind 2) can be answered with the very same
 * frame: same number, same B/E cut, so its reassembly fills the hole.
 *
 * Fixed memory, allocated once: `slots` frames of at most `slot_bytes`
 * (MP header + data), slot = seq mod slots; a newer number overwrites an
 * older one. Each stored frame is kept with MP_TX_HEADROOM writable bytes
 * before it, as mp_tx_cb expects. Pure: no I/O, no clock. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct mp_retx;

/* slots is rounded up to a power of two (at most 1 << 16). NULL on bad
 * sizes or no memory. */
struct mp_retx *mp_retx_new(size_t slots, size_t slot_bytes);
struct mp_retx *mp_retx_free(struct mp_retx *x);

/* Keep a copy of a fragment just sent (frame = MP header + data). Frames
 * larger than slot_bytes are not kept. */
void mp_retx_store(struct mp_retx *x, uint32_t seq, uint32_t link, const uint8_t *frame,
		   size_t len);
/* Resending goes through a FIFO of numbers so that the owner sends them
 * as its links' caps allow (a burst straight onto one link would overflow
 * its queue and lose the copies too). A frame is sent again at most
 * MP_RETX_MAX_RESENDS times in all.
 *
 * Queue the kept frame with that number; why is the owner's tag (asked,
 * rescued). false if not kept (never, overwritten), already queued or
 * resent enough. */
#define MP_RETX_MAX_RESENDS 2
bool mp_retx_queue(struct mp_retx *x, uint32_t seq, uint8_t why);
/* Queue every kept frame last sent on `link` for which keep(ctx, seq) is
 * true, oldest number first. Returns how many. */
unsigned mp_retx_queue_link(struct mp_retx *x, uint32_t link, bool (*keep)(void *, uint32_t),
			    void *ctx, uint8_t why);
/* The oldest queued frame still kept (stale entries are skipped), or NULL
 * when none: its number, length, the link it was last sent on and its tag.
 * The frame has MP_TX_HEADROOM writable bytes before it. */
uint8_t *mp_retx_head(struct mp_retx *x, uint32_t *seq, size_t *len, uint32_t *link, uint8_t *why);
/* The head was sent again on `link` (it leaves the queue). */
void mp_retx_pop(struct mp_retx *x, uint32_t link);
size_t mp_retx_queued(const struct mp_retx *x);
