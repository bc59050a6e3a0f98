/* RFC 1990 MP header codec, sequence arithmetic, fragmenter. */
#include "mp.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int fail(const char **reason, const char *why)
{
	if (reason)
		*reason = why;
	return -EBADMSG;
}

int mp_hdr_decode(const uint8_t *p, size_t len, bool short_seq, struct mp_frag *f,
		  const char **reason)
{
	struct rbuf r = rbuf_make(p, len);
	uint8_t b0;
	uint32_t seq;

	if (rbuf_get8(&r, &b0) < 0)
		return fail(reason, "empty MP frame");
	if (short_seq) {
		uint8_t b1;

		if (rbuf_get8(&r, &b1) < 0)
			return fail(reason, "short MP header truncated");
		/* B E 0 0 | seq[11:8] */
		if (b0 & 0x30)
			return fail(reason, "MP header reserved bits set");
		seq = (uint32_t)(b0 & 0x0f) << 8 | b1;
	} else {
		/* B E 0 0 0 0 0 0 | seq[23:0] */
		if (b0 & 0x3f)
			return fail(reason, "MP header reserved bits set");
		if (rbuf_get24(&r, &seq) < 0)
			return fail(reason, "long MP header truncated");
	}
	f->b = b0 & MP_FLAG_B;
	f->e = b0 & MP_FLAG_E;
	f->seq = seq;
	f->payload = r;
	return 0;
}

void mp_hdr_encode(struct wbuf *w, bool short_seq, bool b, bool e, uint32_t seq)
{
	uint8_t flags = (uint8_t)((b ? MP_FLAG_B : 0) | (e ? MP_FLAG_E : 0));

	seq &= mp_seq_mask(short_seq);
	if (short_seq) {
		wbuf_put8(w, (uint8_t)(flags | seq >> 8));
		wbuf_put8(w, (uint8_t)seq);
	} else {
		wbuf_put8(w, flags);
		wbuf_put24(w, seq);
	}
}

int mp_inner_proto(struct rbuf *r, uint16_t *proto, const char **reason)
{
	uint8_t a, c;

	/* RFC 1662 §3.2: FF 03 first means address/control. Not expected
	 * inside MP, but harmless to accept (0x00FF is not a protocol). */
	if (rbuf_peek8(r, 0, &a) == 0 && a == 0xff && rbuf_peek8(r, 1, &c) == 0 && c == 0x03)
		rbuf_skip(r, 2);
	if (rbuf_get8(r, &a) < 0)
		return fail(reason, "no inner protocol");
	/* RFC 1661 §2: the protocol field's last octet is odd, others even. */
	if (a & 1) {
		*proto = a;
		return 0;
	}
	if (rbuf_get8(r, &c) < 0)
		return fail(reason, "inner protocol truncated");
	if (!(c & 1))
		return fail(reason, "inner protocol not odd");
	*proto = (uint16_t)(a << 8 | c);
	return 0;
}

void mp_proto_put(struct wbuf *w, uint16_t proto, bool pfc)
{
	if (pfc && proto < 0x100)
		wbuf_put8(w, (uint8_t)proto);
	else
		wbuf_put16(w, proto);
}

uint64_t mp_seq_widen(uint32_t seq, uint64_t ref, bool short_seq)
{
	uint64_t mask = mp_seq_mask(short_seq);
	uint64_t mod = mask + 1, half = mod / 2;
	uint64_t v = (ref & ~mask) | (seq & mask);

	if (v + half < ref)
		v += mod;
	else if (v > ref + half && v >= mod)
		v -= mod;
	return v;
}

int32_t mp_seq_diff(uint32_t a, uint32_t b, bool short_seq)
{
	uint32_t mask = mp_seq_mask(short_seq);
	uint32_t d = (a - b) & mask;

	return d > mask / 2 ? (int32_t)d - (int32_t)(mask + 1) : (int32_t)d;
}

/* ---- fragmenter ---- */

struct mp_tx {
	struct mp_tx_cfg cfg;
	uint32_t seq;
	uint8_t *frame; /* MP_TX_HEADROOM + max_mru */
};

struct mp_tx *mp_tx_new(const struct mp_tx_cfg *cfg)
{
	struct mp_tx *tx = calloc(1, sizeof(*tx));

	if (!tx)
		return NULL;
	tx->cfg = *cfg;
	if (!tx->cfg.mrru)
		tx->cfg.mrru = 1500;
	if (!tx->cfg.max_mru)
		tx->cfg.max_mru = 2048;
	if (tx->cfg.max_mru > 65535)
		tx->cfg.max_mru = 65535;
	tx->frame = malloc(MP_TX_HEADROOM + tx->cfg.max_mru);
	if (!tx->frame)
		return mp_tx_free(tx);
	return tx;
}

struct mp_tx *mp_tx_free(struct mp_tx *tx)
{
	if (tx) {
		free(tx->frame);
		free(tx);
	}
	return NULL;
}

uint32_t mp_tx_seq(const struct mp_tx *tx)
{
	return tx->seq;
}

void mp_tx_set_seq(struct mp_tx *tx, uint32_t seq)
{
	tx->seq = seq & mp_seq_mask(tx->cfg.short_seq);
}

static size_t link_mru(const struct mp_tx *tx, const struct mp_tx_link *l)
{
	return l->mru < tx->cfg.max_mru ? l->mru : tx->cfg.max_mru;
}

int mp_tx_null(struct mp_tx *tx, uint32_t link, mp_tx_cb cb, void *ctx)
{
	struct wbuf w = wbuf_make(tx->frame + MP_TX_HEADROOM, tx->cfg.max_mru);

	/* The last number sent, not a new one: a new number on a slow link
	 * would be a hole at the peer until it arrived. */
	uint32_t seq = (tx->seq - 1) & mp_seq_mask(tx->cfg.short_seq);
	mp_hdr_encode(&w, tx->cfg.short_seq, true, true, seq);
	if (!wbuf_ok(&w))
		return -EINVAL;
	return cb(ctx, link, w.p, w.len);
}

int mp_fragment(struct mp_tx *tx, uint16_t proto, const uint8_t *data, size_t len,
		const struct mp_tx_link *links, size_t n_links, mp_tx_cb cb, void *ctx)
{
	const bool sseq = tx->cfg.short_seq;
	const size_t hdr = mp_hdr_len(sseq);
	uint8_t pbuf[2];
	struct wbuf pw = wbuf_make(pbuf, sizeof(pbuf));
	struct rbuf rest;
	int sent = 0;

	if (!n_links || !links)
		return -EINVAL;
	if (len > tx->cfg.mrru)
		return -EMSGSIZE;
	/* Each link must carry the header and at least one data byte. */
	for (size_t i = 0; i < n_links; i++)
		if (link_mru(tx, &links[i]) <= hdr)
			return -EINVAL;

	/* The inner protocol field is part of the packet being split. */
	mp_proto_put(&pw, proto, tx->cfg.pfc);
	size_t plen = pw.len;
	size_t total = plen + len;
	size_t off = 0; /* offset into (protocol field ++ data) */
	rest = rbuf_make(data, len);

	for (size_t i = 0; off < total; i = (i + 1) % n_links) {
		const struct mp_tx_link *l = &links[i];
		size_t room = link_mru(tx, l) - hdr;
		size_t n = total - off < room ? total - off : room;
		struct wbuf w = wbuf_make(tx->frame + MP_TX_HEADROOM, tx->cfg.max_mru);

		mp_hdr_encode(&w, sseq, off == 0, off + n == total, tx->seq);
		size_t take = n;
		if (off < plen) {
			size_t pn = plen - off < n ? plen - off : n;
			wbuf_put_bytes(&w, pbuf + off, pn);
			take -= pn;
		}
		struct rbuf chunk;
		if (rbuf_sub(&rest, take, &chunk) < 0 || !wbuf_ok(&w))
			return -EINVAL; /* cannot happen: sizes checked above */
		wbuf_put_bytes(&w, chunk.p, chunk.len);
		off += n;
		tx->seq = (tx->seq + 1) & mp_seq_mask(sseq);
		int r = cb(ctx, l->id, w.p, w.len);
		if (r < 0)
			return r;
		sent++;
	}
	return sent;
}
