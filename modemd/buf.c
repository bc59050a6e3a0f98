#include "buf.h"

#include <string.h>

static int need(const struct rbuf *r, size_t n)
{
	return r->len >= n ? 0 : -1;
}

int rbuf_get8(struct rbuf *r, uint8_t *v)
{
	if (need(r, 1))
		return -1;
	*v = r->p[0];
	r->p++;
	r->len--;
	return 0;
}

int rbuf_get16(struct rbuf *r, uint16_t *v)
{
	if (need(r, 2))
		return -1;
	*v = (uint16_t)(r->p[0] << 8 | r->p[1]);
	r->p += 2;
	r->len -= 2;
	return 0;
}

int rbuf_get24(struct rbuf *r, uint32_t *v)
{
	if (need(r, 3))
		return -1;
	*v = (uint32_t)r->p[0] << 16 | (uint32_t)r->p[1] << 8 | r->p[2];
	r->p += 3;
	r->len -= 3;
	return 0;
}

int rbuf_get32(struct rbuf *r, uint32_t *v)
{
	if (need(r, 4))
		return -1;
	*v = (uint32_t)r->p[0] << 24 | (uint32_t)r->p[1] << 16 | (uint32_t)r->p[2] << 8 | r->p[3];
	r->p += 4;
	r->len -= 4;
	return 0;
}

int rbuf_get_bytes(struct rbuf *r, void *out, size_t n)
{
	if (need(r, n))
		return -1;
	if (n)
		memcpy(out, r->p, n);
	r->p += n;
	r->len -= n;
	return 0;
}

int rbuf_sub(struct rbuf *r, size_t n, struct rbuf *sub)
{
	if (need(r, n))
		return -1;
	*sub = rbuf_make(r->p, n);
	r->p += n;
	r->len -= n;
	return 0;
}

int rbuf_skip(struct rbuf *r, size_t n)
{
	if (need(r, n))
		return -1;
	r->p += n;
	r->len -= n;
	return 0;
}

int rbuf_peek8(const struct rbuf *r, size_t off, uint8_t *v)
{
	if (off >= r->len)
		return -1;
	*v = r->p[off];
	return 0;
}

static uint8_t *room(struct wbuf *w, size_t n)
{
	if (w->overflow || w->cap - w->len < n) {
		w->overflow = true;
		return NULL;
	}
	uint8_t *p = w->p + w->len;
	w->len += n;
	return p;
}

void wbuf_put8(struct wbuf *w, uint8_t v)
{
	uint8_t *p = room(w, 1);
	if (p)
		p[0] = v;
}

void wbuf_put16(struct wbuf *w, uint16_t v)
{
	uint8_t *p = room(w, 2);
	if (p) {
		p[0] = (uint8_t)(v >> 8);
		p[1] = (uint8_t)v;
	}
}

void wbuf_put24(struct wbuf *w, uint32_t v)
{
	uint8_t *p = room(w, 3);
	if (p) {
		p[0] = (uint8_t)(v >> 16);
		p[1] = (uint8_t)(v >> 8);
		p[2] = (uint8_t)v;
	}
}

void wbuf_put32(struct wbuf *w, uint32_t v)
{
	uint8_t *p = room(w, 4);
	if (p) {
		p[0] = (uint8_t)(v >> 24);
		p[1] = (uint8_t)(v >> 16);
		p[2] = (uint8_t)(v >> 8);
		p[3] = (uint8_t)v;
	}
}

void wbuf_put_bytes(struct wbuf *w, const void *src, size_t n)
{
	uint8_t *p = room(w, n);
	if (p && n)
		memcpy(p, src, n);
}

uint8_t *wbuf_reserve(struct wbuf *w, size_t n)
{
	return room(w, n);
}

void wbuf_set16(struct wbuf *w, size_t off, uint16_t v)
{
	if (off + 2 > w->len) {
		w->overflow = true;
		return;
	}
	w->p[off] = (uint8_t)(v >> 8);
	w->p[off + 1] = (uint8_t)v;
}
