/* PPP frame header on a datagram transport: one frame per datagram,
 * `[FF 03] protocol(1|2) information`, no flags, no FCS (the wire FreeBSD
 * ppp's udp device uses, and what an async-HDLC relay gives pppd).
 *
 * Decoding accepts both address/control forms and both protocol field
 * lengths, whatever was negotiated (RFC 1661 §6.5-6.6: a receiver that
 * acked compression still accepts uncompressed frames; RFC 1662 §3.2: FF 03
 * first means address/control, otherwise they were compressed). Whether a
 * frame without FF 03 is acceptable on a link is the owner's policy. */
#pragma once
#include "buf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ppp_frame {
	bool has_addr_ctrl;    /* FF 03 was present */
	bool proto_compressed; /* protocol field was one byte */
	uint16_t protocol;
	struct rbuf payload; /* information field, points into the datagram */
};

/* Returns 0 or -EBADMSG: empty frame, a protocol field whose low byte is even
 * or whose high byte is odd (RFC 1661 §2), a first byte FF not followed by
 * 03, or a header cut short. An empty information field is not an error
 * here. */
int ppp_frame_decode(const uint8_t *p, size_t len, struct ppp_frame *f);

/* Largest header ppp_frame_put_header writes. */
#define PPP_FRAME_HDR_MAX 4

/* Header for sending: FF 03 unless acfc (the peer acked ACFC), protocol in one
 * byte if pfc (the peer acked PFC) and it is below 0xff. LCP always gets FF 03 and two
 * bytes (RFC 1661 §6.5/6.6). Errors are left in the writer's overflow flag. */
void ppp_frame_put_header(struct wbuf *w, uint16_t protocol, bool acfc, bool pfc);

/* Whole frame into out; returns its length or -ENOBUFS. */
int ppp_frame_encode(uint8_t *out, size_t cap, uint16_t protocol, bool acfc, bool pfc,
		     const void *payload, size_t len);

/* A protocol number is well-formed (low byte odd, high byte even). */
static inline bool ppp_proto_valid(uint16_t proto)
{
	return (proto & 0x0001) && !(proto & 0x0100);
}
