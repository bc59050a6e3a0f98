/* Bounds-checked readers and writers for wire formats. A reader never reads
 * past its end: every get returns -1 (and leaves the output untouched) when
 * the bytes are not there. A writer accumulates overflow in a flag so a
 * frame is built with plain calls and checked once at the end. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rbuf {
	const uint8_t *p;
	size_t len; /* bytes left */
};

static inline struct rbuf rbuf_make(const void *p, size_t len)
{
	return (struct rbuf){.p = p, .len = len};
}

int rbuf_get8(struct rbuf *r, uint8_t *v);
int rbuf_get16(struct rbuf *r, uint16_t *v); /* network order */
int rbuf_get24(struct rbuf *r, uint32_t *v);
int rbuf_get32(struct rbuf *r, uint32_t *v);
int rbuf_get_bytes(struct rbuf *r, void *out, size_t n);
/* A sub-reader over the next n bytes, which are consumed from r. */
int rbuf_sub(struct rbuf *r, size_t n, struct rbuf *sub);
int rbuf_skip(struct rbuf *r, size_t n);
/* Peek without consuming. */
int rbuf_peek8(const struct rbuf *r, size_t off, uint8_t *v);

struct wbuf {
	uint8_t *p;
	size_t cap;
	size_t len;
	bool overflow;
};

static inline struct wbuf wbuf_make(void *p, size_t cap)
{
	return (struct wbuf){.p = p, .cap = cap};
}

void wbuf_put8(struct wbuf *w, uint8_t v);
void wbuf_put16(struct wbuf *w, uint16_t v);
void wbuf_put24(struct wbuf *w, uint32_t v);
void wbuf_put32(struct wbuf *w, uint32_t v);
void wbuf_put_bytes(struct wbuf *w, const void *p, size_t n);
/* Reserve n bytes to fill in later (lengths); NULL on overflow. */
uint8_t *wbuf_reserve(struct wbuf *w, size_t n);
/* Write v at an earlier offset (a length field). */
void wbuf_set16(struct wbuf *w, size_t off, uint16_t v);
static inline bool wbuf_ok(const struct wbuf *w)
{
	return !w->overflow;
}
