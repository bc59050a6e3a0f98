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
/* The kept frame with that number, or NULL (never kept, overwritten, or
 * already handed out once: each fragment is resent at most once). */
uint8_t *mp_retx_take(struct mp_retx *x, uint32_t seq, size_t *len);
/* Each kept frame last sent on `link` for which keep(ctx, seq) is true,
 * in slot order, handed to fn (and taken, as mp_retx_take). Returns how
 * many. */
unsigned mp_retx_take_link(struct mp_retx *x, uint32_t link, bool (*keep)(void *, uint32_t),
			   void (*fn)(void *, uint32_t seq, uint8_t *frame, size_t len), void *ctx);
