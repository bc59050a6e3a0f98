/* LCP configuration option codec (RFC 1661 §6, RFC 1990 §5.1): framing of
 * type-length-value lists, value decoding with the per-option length rules,
 * and the canonical writer for our requests. No policy here (lcp.c). */
#pragma once
#include "buf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LCP_ED_MAX 20 /* longest Endpoint Discriminator address (class 1, 4) */

enum lcp_ed_class {
	LCP_ED_NULL = 0,
	LCP_ED_LOCAL = 1,
	LCP_ED_IP = 2,
	LCP_ED_MAC = 3,
	LCP_ED_MAGIC = 4,
	LCP_ED_E164 = 5,
};

struct lcp_ed {
	uint8_t class;
	uint8_t len; /* address bytes */
	uint8_t addr[LCP_ED_MAX];
};

/* Address length allowed for the class (RFC 1990 §5.1.3): 0 null, <=20
 * local, 4 IP, 6 MAC, 4..20 magic block, <=15 E.164. 0 or -EINVAL. */
int lcp_ed_check(uint8_t class, size_t len);
bool lcp_ed_equal(const struct lcp_ed *a, const struct lcp_ed *b);

/* Bits of lcp_opts.has. */
enum {
	LCP_HAS_MRU = 1 << 0,
	LCP_HAS_ACCM = 1 << 1,
	LCP_HAS_AUTH = 1 << 2,
	LCP_HAS_MAGIC = 1 << 3,
	LCP_HAS_PFC = 1 << 4,
	LCP_HAS_ACFC = 1 << 5,
	LCP_HAS_MRRU = 1 << 6,
	LCP_HAS_SSNHF = 1 << 7,
	LCP_HAS_ED = 1 << 8,
};

/* One side's options; a field means something only with its bit set. */
struct lcp_opts {
	uint32_t has;
	uint16_t mru;
	uint32_t accm;
	uint16_t auth;	  /* protocol: PPP_PROTO_PAP, PPP_PROTO_CHAP, ... */
	uint8_t chap_alg; /* CHAP algorithm, 0 when absent */
	uint32_t magic;
	uint16_t mrru;
	struct lcp_ed ed;
};

/* One raw option as framed on the wire. */
struct lcp_opt {
	uint8_t type;
	uint8_t len;	 /* whole option, type and length bytes included */
	struct rbuf val; /* len - 2 bytes */
};

/* Next option of a list: 1 with *o filled, 0 at the end, -EBADMSG when the
 * length byte is below 2 or runs past the list (the rest is unusable). */
int lcp_opt_next(struct rbuf *r, struct lcp_opt *o);
/* Decode a known option's value into out and set its bit. -ENOENT for a type
 * we do not know (Quality included), -EINVAL for a length that type does not
 * allow (MRU 4, ACCM 6, Auth >= 4 and 5 for CHAP, Magic 6, PFC/ACFC/SSNHF 2,
 * MRRU 4, ED 3..23 by class). */
int lcp_opt_decode(const struct lcp_opt *o, struct lcp_opts *out);
/* A whole list: 0, -EBADMSG (framing), -EINVAL (bad length), -EEXIST (an
 * option twice), -ENOENT (unknown option). For Acks and tests. */
int lcp_opts_parse(const uint8_t *p, size_t len, struct lcp_opts *out);

/* Write the options of o whose bits are in mask, in canonical order (MRU,
 * ACCM, Auth, Magic, PFC, ACFC, MRRU, SSNHF, ED). */
void lcp_opts_write(struct wbuf *w, const struct lcp_opts *o, uint32_t mask);
/* Copy a raw option verbatim (Ack and Reject lists). */
void lcp_opt_put_raw(struct wbuf *w, const struct lcp_opt *o);
/* Bit of lcp_opts.has for an option type, 0 when none. */
uint32_t lcp_opt_bit(uint8_t type);
const char *lcp_opt_name(uint8_t type);
