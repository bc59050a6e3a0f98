/* RFC 2153 vendor-specific LCP packets (code 0) for modemd's extensions.
 *
 * Wire (the LCP packet's data, after code/identifier/length):
 *   Magic-Number (4) | OUI (3) | Kind (1) | Value
 * Our OUI is 02-4D-44 ("\x02" "MD"): the locally administered bit (0x02 in
 * the first octet) is set, so it can never be an IEEE-assigned company ID,
 * and "MD" says modemd. A plain peer (pppd, FreeBSD ppp) answers with
 * Code-Reject; the link owner then stops sending vendor packets.
 *
 * Kind 1, link feedback (receiver -> gateway, once per feedback interval per
 * link, on the link it describes):
 *   version (1) = 1 | flags (1) = 0 | link_id | bytes_rx | pkts_rx |
 *   pkts_lost | max_seq | rx_ts_us   (six 32-bit network-order words)
 * Trailing bytes after the record are ignored (later versions may append).
 *
 * Kind 2, MP retransmit request (receiver -> gateway, on its fastest link,
 * when its loss detection has given a fragment up for certain):
 *   version (1) = 1 | count (1), 1..VENDOR_NACK_MAX | first_seq (32-bit)
 * asks for MP sequence numbers first_seq .. first_seq + count - 1 (modulo
 * the bundle's sequence space) again. docs/multilink.md, "Retransmission". */
#pragma once
#include "buf.h"
#include "linkest.h"

#include <stddef.h>
#include <stdint.h>

#define VENDOR_OUI		0x024d44u
#define VENDOR_KIND_FEEDBACK	1
#define VENDOR_FEEDBACK_VERSION 1
#define VENDOR_HDR_LEN		8  /* magic, OUI, kind */
#define VENDOR_FEEDBACK_LEN	34 /* header + version, flags + 6 words */
#define VENDOR_KIND_NACK	2
#define VENDOR_NACK_VERSION	1
#define VENDOR_NACK_LEN		14 /* header + version, count + first_seq */
#define VENDOR_NACK_MAX		32

/* A parsed vendor packet: value points into the input. */
struct vendor_msg {
	uint32_t magic;
	uint32_t oui;
	uint8_t kind;
	struct rbuf value;
};

/* Split a code-0 packet's data. 0, or -EBADMSG when shorter than the
 * header. Any OUI is returned; the caller checks it is ours. */
int vendor_parse(const uint8_t *data, size_t len, struct vendor_msg *m);

/* Value of a feedback packet. 0, -EBADMSG (short), -EPROTO (unknown
 * version). */
int vendor_feedback_decode(struct rbuf value, struct link_feedback *fb);

/* Whole data of a feedback packet (for lcp_send_vendor). Returns the
 * length or -ENOBUFS. */
int vendor_feedback_encode(uint8_t *out, size_t cap, uint32_t magic,
			   const struct link_feedback *fb);

/* Value of a retransmit request: 0, -EBADMSG (short, count 0 or above
 * VENDOR_NACK_MAX), -EPROTO (unknown version). */
int vendor_nack_decode(struct rbuf value, uint32_t *first_seq, uint8_t *count);
int vendor_nack_encode(uint8_t *out, size_t cap, uint32_t magic, uint32_t first_seq, uint8_t count);
