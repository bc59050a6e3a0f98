/* LCP watcher for --accm-after-lcp (see lcp_snoop.h). */
#include "lcp_snoop.h"

#include "buf.h"
#include "hdlc.h"

#define PROTO_LCP    0xc021
#define LCP_CONF_REQ 1
#define LCP_CONF_ACK 2
#define LCP_TERM_REQ 5
#define LCP_TERM_ACK 6
#define LCP_OPT_ACCM 2

void lcp_snoop_init(struct lcp_snoop *s)
{
	*s = (struct lcp_snoop){.acked_accm = HDLC_ACCM_ALL, .tx_accm = HDLC_ACCM_ALL};
}

/* Skip FF 03 if present and read the protocol (1 or 2 bytes). */
static int frame_proto(struct rbuf *r, uint16_t *proto)
{
	uint8_t a, c, hi, lo;

	if (rbuf_peek8(r, 0, &a) == 0 && rbuf_peek8(r, 1, &c) == 0 && a == 0xff && c == 0x03)
		rbuf_skip(r, 2);
	if (rbuf_get8(r, &hi) < 0)
		return -1;
	if (hi & 1) { /* compressed protocol field (PFC) */
		*proto = hi;
		return 0;
	}
	if (rbuf_get8(r, &lo) < 0)
		return -1;
	*proto = (uint16_t)(hi << 8 | lo);
	return 0;
}

/* ACCM option of a Configure-Ack, or all when absent or malformed. */
static uint32_t ack_accm(struct rbuf opts)
{
	uint8_t type, olen;
	uint32_t accm = HDLC_ACCM_ALL;

	while (rbuf_get8(&opts, &type) == 0 && rbuf_get8(&opts, &olen) == 0 && olen >= 2) {
		struct rbuf val;
		if (rbuf_sub(&opts, olen - 2u, &val) < 0)
			return HDLC_ACCM_ALL;
		if (type == LCP_OPT_ACCM && rbuf_get32(&val, &accm) < 0)
			return HDLC_ACCM_ALL;
	}
	return accm;
}

static bool set_tx(struct lcp_snoop *s, uint32_t accm)
{
	bool changed = s->tx_accm != accm;
	s->tx_accm = accm;
	return changed;
}

bool lcp_snoop_frame(struct lcp_snoop *s, enum lcp_snoop_dir dir, const uint8_t *frame, size_t len)
{
	struct rbuf r = rbuf_make(frame, len), opts;
	uint16_t proto, plen;
	uint8_t code, id;

	if (frame_proto(&r, &proto) < 0)
		return false;
	if (proto != PROTO_LCP) {
		if (dir == LCP_SNOOP_FROM_TTY && s->ack_to_tty && s->ack_from_tty)
			return set_tx(s, s->acked_accm);
		return false;
	}
	if (rbuf_get8(&r, &code) < 0 || rbuf_get8(&r, &id) < 0 || rbuf_get16(&r, &plen) < 0 ||
	    plen < 4 || rbuf_sub(&r, plen - 4u, &opts) < 0)
		return false;
	switch (code) {
	case LCP_CONF_REQ:
		/* A new request voids the other side's Ack of the old one. */
		if (dir == LCP_SNOOP_FROM_TTY)
			s->ack_to_tty = false;
		else
			s->ack_from_tty = false;
		return set_tx(s, HDLC_ACCM_ALL);
	case LCP_CONF_ACK:
		if (dir == LCP_SNOOP_TO_TTY) {
			s->ack_to_tty = true;
			s->acked_accm = ack_accm(opts);
		} else {
			s->ack_from_tty = true;
		}
		return false;
	case LCP_TERM_REQ:
	case LCP_TERM_ACK:
		s->ack_to_tty = s->ack_from_tty = false;
		return set_tx(s, HDLC_ACCM_ALL);
	default:
		return false;
	}
}
