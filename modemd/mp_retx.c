/* Store of recently sent MP fragments: see mp_retx.h. */
#include "mp_retx.h"

#include "mp.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct slot {
	uint32_t seq;
	uint32_t link; /* where it was last sent */
	uint16_t len;  /* 0: empty or taken */
};

struct mp_retx {
	size_t mask;
	size_t stride; /* MP_TX_HEADROOM + slot_bytes */
	size_t slot_bytes;
	struct slot *slot;
	uint8_t *data;
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
	if (!x->slot || !x->data)
		return mp_retx_free(x);
	return x;
}

struct mp_retx *mp_retx_free(struct mp_retx *x)
{
	if (x) {
		free(x->slot);
		free(x->data);
		free(x);
	}
	return NULL;
}

void mp_retx_store(struct mp_retx *x, uint32_t seq, uint32_t link, const uint8_t *frame, size_t len)
{
	if (!x || len == 0 || len > x->slot_bytes)
		return;
	size_t i = seq & x->mask;
	x->slot[i] = (struct slot){.seq = seq, .link = link, .len = (uint16_t)len};
	memcpy(x->data + i * x->stride + MP_TX_HEADROOM, frame, len);
}

uint8_t *mp_retx_take(struct mp_retx *x, uint32_t seq, size_t *len)
{
	if (!x)
		return NULL;
	size_t i = seq & x->mask;
	if (x->slot[i].len == 0 || x->slot[i].seq != seq)
		return NULL;
	*len = x->slot[i].len;
	x->slot[i].len = 0;
	return x->data + i * x->stride + MP_TX_HEADROOM;
}

unsigned mp_retx_take_link(struct mp_retx *x, uint32_t link, bool (*keep)(void *, uint32_t),
			   void (*fn)(void *, uint32_t seq, uint8_t *frame, size_t len), void *ctx)
{
	unsigned n = 0;

	if (!x)
		return 0;
	for (size_t i = 0; i <= x->mask; i++) {
		struct slot *s = &x->slot[i];
		if (s->len == 0 || s->link != link || !keep(ctx, s->seq))
			continue;
		size_t len = s->len;
		s->len = 0;
		fn(ctx, s->seq, x->data + i * x->stride + MP_TX_HEADROOM, len);
		n++;
	}
	return n;
}
