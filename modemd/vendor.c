#include "vendor.h"

#include <errno.h>

int vendor_parse(const uint8_t *data, size_t len, struct vendor_msg *m)
{
	struct rbuf r = rbuf_make(data, len);

	if (rbuf_get32(&r, &m->magic) < 0 || rbuf_get24(&r, &m->oui) < 0 ||
	    rbuf_get8(&r, &m->kind) < 0)
		return -EBADMSG;
	m->value = r;
	return 0;
}

int vendor_feedback_decode(struct rbuf value, struct link_feedback *fb)
{
	uint8_t version, flags;
	struct link_feedback f;

	if (rbuf_get8(&value, &version) < 0 || rbuf_get8(&value, &flags) < 0)
		return -EBADMSG;
	if (version != VENDOR_FEEDBACK_VERSION)
		return -EPROTO;
	if (rbuf_get32(&value, &f.link_id) < 0 || rbuf_get32(&value, &f.bytes_rx) < 0 ||
	    rbuf_get32(&value, &f.pkts_rx) < 0 || rbuf_get32(&value, &f.pkts_lost) < 0 ||
	    rbuf_get32(&value, &f.max_seq) < 0 || rbuf_get32(&value, &f.rx_ts_us) < 0)
		return -EBADMSG;
	*fb = f;
	return 0;
}

int vendor_feedback_encode(uint8_t *out, size_t cap, uint32_t magic, const struct link_feedback *fb)
{
	struct wbuf w = wbuf_make(out, cap);

	wbuf_put32(&w, magic);
	wbuf_put24(&w, VENDOR_OUI);
	wbuf_put8(&w, VENDOR_KIND_FEEDBACK);
	wbuf_put8(&w, VENDOR_FEEDBACK_VERSION);
	wbuf_put8(&w, 0);
	wbuf_put32(&w, fb->link_id);
	wbuf_put32(&w, fb->bytes_rx);
	wbuf_put32(&w, fb->pkts_rx);
	wbuf_put32(&w, fb->pkts_lost);
	wbuf_put32(&w, fb->max_seq);
	wbuf_put32(&w, fb->rx_ts_us);
	return wbuf_ok(&w) ? (int)w.len : -ENOBUFS;
}

int vendor_nack_decode(struct rbuf value, uint32_t *first_seq, uint8_t *count)
{
	uint8_t version, n;
	uint32_t seq;

	if (rbuf_get8(&value, &version) < 0 || rbuf_get8(&value, &n) < 0)
		return -EBADMSG;
	if (version != VENDOR_NACK_VERSION)
		return -EPROTO;
	if (rbuf_get32(&value, &seq) < 0 || n == 0 || n > VENDOR_NACK_MAX)
		return -EBADMSG;
	*first_seq = seq;
	*count = n;
	return 0;
}

int vendor_nack_encode(uint8_t *out, size_t cap, uint32_t magic, uint32_t first_seq, uint8_t count)
{
	struct wbuf w = wbuf_make(out, cap);

	wbuf_put32(&w, magic);
	wbuf_put24(&w, VENDOR_OUI);
	wbuf_put8(&w, VENDOR_KIND_NACK);
	wbuf_put8(&w, VENDOR_NACK_VERSION);
	wbuf_put8(&w, count);
	wbuf_put32(&w, first_seq);
	return wbuf_ok(&w) ? (int)w.len : -ENOBUFS;
}
