#include "lcp_opts.h"

#include "ppp_proto.h"

#include <errno.h>
#include <string.h>

int lcp_ed_check(uint8_t class, size_t len)
{
	switch (class) {
	case LCP_ED_NULL:
		return len == 0 ? 0 : -EINVAL;
	case LCP_ED_LOCAL:
		return len <= 20 ? 0 : -EINVAL;
	case LCP_ED_IP:
		return len == 4 ? 0 : -EINVAL;
	case LCP_ED_MAC:
		return len == 6 ? 0 : -EINVAL;
	case LCP_ED_MAGIC:
		return len >= 4 && len <= 20 ? 0 : -EINVAL;
	case LCP_ED_E164:
		return len <= 15 ? 0 : -EINVAL;
	default:
		return -EINVAL;
	}
}

bool lcp_ed_equal(const struct lcp_ed *a, const struct lcp_ed *b)
{
	return a->class == b->class && a->len == b->len && !memcmp(a->addr, b->addr, a->len);
}

int lcp_opt_next(struct rbuf *r, struct lcp_opt *o)
{
	uint8_t type, len;

	if (r->len == 0)
		return 0;
	if (rbuf_get8(r, &type) < 0 || rbuf_get8(r, &len) < 0 || len < 2 ||
	    rbuf_sub(r, len - 2u, &o->val) < 0)
		return -EBADMSG;
	o->type = type;
	o->len = len;
	return 1;
}

uint32_t lcp_opt_bit(uint8_t type)
{
	switch (type) {
	case LCP_OPT_MRU:
		return LCP_HAS_MRU;
	case LCP_OPT_ACCM:
		return LCP_HAS_ACCM;
	case LCP_OPT_AUTH:
		return LCP_HAS_AUTH;
	case LCP_OPT_MAGIC:
		return LCP_HAS_MAGIC;
	case LCP_OPT_PFC:
		return LCP_HAS_PFC;
	case LCP_OPT_ACFC:
		return LCP_HAS_ACFC;
	case LCP_OPT_MRRU:
		return LCP_HAS_MRRU;
	case LCP_OPT_SSNHF:
		return LCP_HAS_SSNHF;
	case LCP_OPT_ED:
		return LCP_HAS_ED;
	default:
		return 0;
	}
}

const char *lcp_opt_name(uint8_t type)
{
	switch (type) {
	case LCP_OPT_MRU:
		return "MRU";
	case LCP_OPT_ACCM:
		return "ACCM";
	case LCP_OPT_AUTH:
		return "Auth-Protocol";
	case LCP_OPT_QUALITY:
		return "Quality-Protocol";
	case LCP_OPT_MAGIC:
		return "Magic-Number";
	case LCP_OPT_PFC:
		return "PFC";
	case LCP_OPT_ACFC:
		return "ACFC";
	case LCP_OPT_MRRU:
		return "MRRU";
	case LCP_OPT_SSNHF:
		return "Short-Sequence";
	case LCP_OPT_ED:
		return "Endpoint-Discriminator";
	default:
		return "unknown";
	}
}

int lcp_opt_decode(const struct lcp_opt *o, struct lcp_opts *out)
{
	struct rbuf v = o->val;
	uint32_t bit = lcp_opt_bit(o->type);
	size_t n = v.len;

	if (!bit)
		return -ENOENT;
	switch (o->type) {
	case LCP_OPT_MRU:
		if (n != 2 || rbuf_get16(&v, &out->mru) < 0)
			return -EINVAL;
		break;
	case LCP_OPT_ACCM:
		if (n != 4 || rbuf_get32(&v, &out->accm) < 0)
			return -EINVAL;
		break;
	case LCP_OPT_AUTH:
		if (n < 2 || rbuf_get16(&v, &out->auth) < 0)
			return -EINVAL;
		out->chap_alg = 0;
		if (out->auth == PPP_PROTO_CHAP && (n != 3 || rbuf_get8(&v, &out->chap_alg) < 0))
			return -EINVAL;
		break;
	case LCP_OPT_MAGIC:
		if (n != 4 || rbuf_get32(&v, &out->magic) < 0)
			return -EINVAL;
		break;
	case LCP_OPT_PFC:
	case LCP_OPT_ACFC:
	case LCP_OPT_SSNHF:
		if (n != 0)
			return -EINVAL;
		break;
	case LCP_OPT_MRRU:
		if (n != 2 || rbuf_get16(&v, &out->mrru) < 0)
			return -EINVAL;
		break;
	case LCP_OPT_ED: {
		uint8_t class;
		if (rbuf_get8(&v, &class) < 0 || lcp_ed_check(class, v.len) < 0)
			return -EINVAL;
		out->ed.class = class;
		out->ed.len = (uint8_t)v.len;
		if (rbuf_get_bytes(&v, out->ed.addr, v.len) < 0)
			return -EINVAL;
		break;
	}
	default:
		return -ENOENT;
	}
	out->has |= bit;
	return 0;
}

int lcp_opts_parse(const uint8_t *p, size_t len, struct lcp_opts *out)
{
	struct rbuf r = rbuf_make(p, len);
	struct lcp_opt o;
	int rc;

	*out = (struct lcp_opts){0};
	while ((rc = lcp_opt_next(&r, &o)) > 0) {
		uint32_t bit = lcp_opt_bit(o.type);
		if (bit & out->has)
			return -EEXIST;
		rc = lcp_opt_decode(&o, out);
		if (rc < 0)
			return rc;
	}
	return rc;
}

void lcp_opts_write(struct wbuf *w, const struct lcp_opts *o, uint32_t mask)
{
	uint32_t has = o->has & mask;

	if (has & LCP_HAS_MRU) {
		wbuf_put8(w, LCP_OPT_MRU);
		wbuf_put8(w, 4);
		wbuf_put16(w, o->mru);
	}
	if (has & LCP_HAS_ACCM) {
		wbuf_put8(w, LCP_OPT_ACCM);
		wbuf_put8(w, 6);
		wbuf_put32(w, o->accm);
	}
	if (has & LCP_HAS_AUTH) {
		bool chap = o->auth == PPP_PROTO_CHAP;
		wbuf_put8(w, LCP_OPT_AUTH);
		wbuf_put8(w, chap ? 5 : 4);
		wbuf_put16(w, o->auth);
		if (chap)
			wbuf_put8(w, o->chap_alg);
	}
	if (has & LCP_HAS_MAGIC) {
		wbuf_put8(w, LCP_OPT_MAGIC);
		wbuf_put8(w, 6);
		wbuf_put32(w, o->magic);
	}
	if (has & LCP_HAS_PFC) {
		wbuf_put8(w, LCP_OPT_PFC);
		wbuf_put8(w, 2);
	}
	if (has & LCP_HAS_ACFC) {
		wbuf_put8(w, LCP_OPT_ACFC);
		wbuf_put8(w, 2);
	}
	if (has & LCP_HAS_MRRU) {
		wbuf_put8(w, LCP_OPT_MRRU);
		wbuf_put8(w, 4);
		wbuf_put16(w, o->mrru);
	}
	if (has & LCP_HAS_SSNHF) {
		wbuf_put8(w, LCP_OPT_SSNHF);
		wbuf_put8(w, 2);
	}
	if (has & LCP_HAS_ED) {
		size_t n = o->ed.len <= LCP_ED_MAX ? o->ed.len : LCP_ED_MAX;
		wbuf_put8(w, LCP_OPT_ED);
		wbuf_put8(w, (uint8_t)(3 + n));
		wbuf_put8(w, o->ed.class);
		wbuf_put_bytes(w, o->ed.addr, n);
	}
}

void lcp_opt_put_raw(struct wbuf *w, const struct lcp_opt *o)
{
	wbuf_put8(w, o->type);
	wbuf_put8(w, o->len);
	wbuf_put_bytes(w, o->val.p, o->val.len);
}
