/* Store of recently sent MP fragments: see mp_retx.h. */
#include "mp_retx.h"

#include "mp.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct slot {
	uint32_t seq;
	uint32_t link;	 /* where it was last sent */
	uint16_t len;	 /* 0: empty */
	uint8_t resends; /* times sent again */
	bool queued;
	uint8_t why;
};

struct mp_retx {
	size_t mask;
	size_t stride; /* MP_TX_HEADROOM + slot_bytes */
	size_t slot_bytes;
	struct slot *slot;
	uint8_t *data;
	uint32_t last_seq; /* newest number stored */
	bool any;
	/* Resend FIFO of numbers, as big as the store (a number is in it at
	 * most once while its slot is kept). */
	uint32_t *q;
	size_t q_head, q_n;
};

struct mp_retx *mp_retx_new(size_t slots, size_t slot_bytes)
{
	if (slots == 0 || slots > (1u << 16) || slot_bytes == 0 || slot_bytes > UINT16_MAX)
		return NULL;
	size_t n = 1;
	while (n < slots)
		n <<= 1;
	struct mp_retx *x = calloc(1, sizeof(*x));
	if (!x)
		return NULL;
	x->mask = n - 1;
	x->slot_bytes = slot_bytes;
	x->stride = MP_TX_HEADROOM + slot_bytes;
	x->slot = calloc(n, sizeof(*x->slot));
	x->data = malloc(n * x->stride);
	x->q = malloc(n * sizeof(*x->q));
	if (!x->slot || !x->data || !x->q)
		return mp_retx_free(x);
	return x;
}

struct mp_retx *mp_retx_free(struct mp_retx *x)
{
	if (x) {
		free(x->slot);
		free(x->data);
		free(x->q);
		free(x);
	}
	return NULL;
}

void mp_retx_store(struct mp_retx *x, uint32_t seq, uint32_t link, const uint8_t *frame, size_t len)
{
	if (!x || len == 0 || len > x->slot_bytes)
		return;
	size_t i = seq & x->mask;
	/* An old number still queued here is dropped from the queue lazily
	 * (mp_retx_head skips entries whose slot moved on). */
	x->slot[i] = (struct slot){.seq = seq, .link = link, .len = (uint16_t)len};
	memcpy(x->data + i * x->stride + MP_TX_HEADROOM, frame, len);
	x->last_seq = seq;
	x->any = true;
}

bool mp_retx_queue(struct mp_retx *x, uint32_t seq, uint8_t why)
{
	if (!x)
		return false;
	struct slot *s = &x->slot[seq & x->mask];
	if (s->len == 0 || s->seq != seq || s->queued || s->resends >= MP_RETX_MAX_RESENDS)
		return false;
	if (x->q_n > x->mask) {
		/* Full of stale entries (slots overwritten while queued): the
		 * oldest goes; its slot, if still the same number, is unmarked. */
		struct slot *o = &x->slot[x->q[x->q_head] & x->mask];
		if (o->seq == x->q[x->q_head])
			o->queued = false;
		x->q_head = (x->q_head + 1) & x->mask;
		x->q_n--;
	}
	s->queued = true;
	s->why = why;
	x->q[(x->q_head + x->q_n++) & x->mask] = seq;
	return true;
}

unsigned mp_retx_queue_link(struct mp_retx *x, uint32_t link, bool (*keep)(void *, uint32_t),
			    void *ctx, uint8_t why)
{
	unsigned n = 0;

	if (!x || !x->any)
		return 0;
	/* Oldest number first (the slot after the newest; numbers may be 12
	 * bits, so walk slots, not arithmetic): the receiver delivers in order. */
	for (size_t k = 1; k <= x->mask + 1; k++) {
		const struct slot *s = &x->slot[(x->last_seq + k) & x->mask];
		if (s->len == 0 || s->link != link || !keep(ctx, s->seq))
			continue;
		n += mp_retx_queue(x, s->seq, why);
	}
	return n;
}

uint8_t *mp_retx_head(struct mp_retx *x, uint32_t *seq, size_t *len, uint32_t *link, uint8_t *why)
{
	while (x && x->q_n) {
		uint32_t q = x->q[x->q_head];
		size_t i = q & x->mask;
		struct slot *s = &x->slot[i];
		if (s->len && s->seq == q && s->queued) {
			*seq = q;
			*len = s->len;
			*link = s->link;
			*why = s->why;
			return x->data + i * x->stride + MP_TX_HEADROOM;
		}
		x->q_head = (x->q_head + 1) & x->mask; /* overwritten since */
		x->q_n--;
	}
	return NULL;
}

void mp_retx_pop(struct mp_retx *x, uint32_t link)
{
	if (!x || !x->q_n)
		return;
	struct slot *s = &x->slot[x->q[x->q_head] & x->mask];
	if (s->seq == x->q[x->q_head] && s->queued) {
		s->queued = false;
		s->resends++;
		s->link = link;
	}
	x->q_head = (x->q_head + 1) & x->mask;
	x->q_n--;
}

size_t mp_retx_queued(const struct mp_retx *x)
{
	return x ? x->q_n : 0;
}
