#include "ppp_frame.h"

#include "ppp_proto.h"

#include <errno.h>

int ppp_frame_decode(const uint8_t *p, size_t len, struct ppp_frame *f)
{
	struct rbuf r = rbuf_make(p, len);
	uint8_t a, c, hi, lo;

	*f = (struct ppp_frame){0};
	if (rbuf_peek8(&r, 0, &a) == 0 && rbuf_peek8(&r, 1, &c) == 0 && a == 0xff && c == 0x03) {
		f->has_addr_ctrl = true;
		rbuf_skip(&r, 2);
	}
	if (rbuf_get8(&r, &hi) < 0)
		return -EBADMSG;
	if (hi & 1) {
		/* An odd first byte is a whole (compressed) protocol field; FF
		 * never is: it is the address field (RFC 1662 §3.2). */
		if (hi == 0xff)
			return -EBADMSG;
		f->proto_compressed = true;
		f->protocol = hi;
	} else {
		if (rbuf_get8(&r, &lo) < 0 || !(lo & 1))
			return -EBADMSG;
		f->protocol = (uint16_t)(hi << 8 | lo);
	}
	f->payload = r;
	return 0;
}

void ppp_frame_put_header(struct wbuf *w, uint16_t protocol, bool acfc, bool pfc)
{
	bool lcp = protocol == PPP_PROTO_LCP;

	if (!acfc || lcp) {
		wbuf_put8(w, 0xff);
		wbuf_put8(w, 0x03);
	}
	/* 0x00ff is reserved; compressed it would read as an address field. */
	if (pfc && !lcp && protocol < 0xff)
		wbuf_put8(w, (uint8_t)protocol);
	else
		wbuf_put16(w, protocol);
}

int ppp_frame_encode(uint8_t *out, size_t cap, uint16_t protocol, bool acfc, bool pfc,
		     const void *payload, size_t len)
{
	struct wbuf w = wbuf_make(out, cap);

	ppp_frame_put_header(&w, protocol, acfc, pfc);
	wbuf_put_bytes(&w, payload, len);
	if (!wbuf_ok(&w))
		return -ENOBUFS;
	return (int)w.len;
}
