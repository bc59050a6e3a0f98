#include "lcp.h"

#include "log.h"
#include "ppp_proto.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct lcp {
	struct fsm fsm;
	struct lcp_config conf;
	const struct lcp_ops *ops;
	void *ctx;

	struct lcp_opts req;	  /* what our next Configure-Request asks */
	struct lcp_opts acked;	  /* our options the peer acked */
	struct lcp_opts his;	  /* the peer's options we acked */
	unsigned auth_refused;	  /* LCP_AUTH_* the peer Nak'd away */
	bool new_magic;		  /* pick a new magic for the next request */
	unsigned loop_count;	  /* peer requests carrying our own magic */
	const char *close_reason; /* close once the current packet is done */
	uint32_t echo_seq;
	uint64_t now_us;
	struct lcp_result res;
};

#define ECHO_WINDOW 64 /* replies to this many latest requests give RTT */

static struct lcp *from_fsm(struct fsm *f)
{
	return f->cb_data;
}

void lcp_config_default(struct lcp_config *c)
{
	*c = (struct lcp_config){
	    .mru = PPP_DEFAULT_MRU,
	    .pfc = true,
	    .acfc = true,
	    .accept_auth = LCP_AUTH_PAP | LCP_AUTH_CHAP_MD5,
	    .loopback_max = 5,
	};
	fsm_config_default(&c->fsm);
}

static uint32_t random_magic(struct lcp *l, uint32_t avoid)
{
	uint32_t v = 0;

	for (int i = 0; i < 8 && (v == 0 || v == avoid); i++)
		v = l->ops->random32 ? l->ops->random32(l->ctx) : 0;
	if (v == 0 || v == avoid)
		v = avoid + 0x9e3779b9u; /* never 0 and != avoid */
	return v;
}

/* The authentication protocol to ask for, from a set. CHAP-MD5 first: the
 * secret never crosses the link. */
static bool auth_pick(unsigned set, uint16_t *proto, uint8_t *alg)
{
	if (set & LCP_AUTH_CHAP_MD5) {
		*proto = PPP_PROTO_CHAP;
		*alg = PPP_CHAP_MD5;
		return true;
	}
	if (set & LCP_AUTH_PAP) {
		*proto = PPP_PROTO_PAP;
		*alg = 0;
		return true;
	}
	return false;
}

static unsigned auth_bit(uint16_t proto, uint8_t alg)
{
	if (proto == PPP_PROTO_PAP)
		return LCP_AUTH_PAP;
	if (proto == PPP_PROTO_CHAP && alg == PPP_CHAP_MD5)
		return LCP_AUTH_CHAP_MD5;
	return 0;
}

/* --- fsm callbacks: our request --- */

static void lcp_resetci(struct fsm *f)
{
	struct lcp *l = from_fsm(f);
	const struct lcp_config *c = &l->conf;
	struct lcp_opts *q = &l->req;

	*q = (struct lcp_opts){0};
	if (c->mru) {
		q->has |= LCP_HAS_MRU;
		q->mru = c->mru;
	}
	if (auth_pick(c->require_auth, &q->auth, &q->chap_alg))
		q->has |= LCP_HAS_AUTH;
	q->has |= LCP_HAS_MAGIC;
	q->magic = random_magic(l, 0);
	if (c->pfc)
		q->has |= LCP_HAS_PFC;
	if (c->acfc)
		q->has |= LCP_HAS_ACFC;
	if (c->mrru) {
		q->has |= LCP_HAS_MRRU;
		q->mrru = c->mrru;
		if (c->ssnhf)
			q->has |= LCP_HAS_SSNHF;
	}
	if (c->has_ed && lcp_ed_check(c->ed.class, c->ed.len) == 0) {
		q->has |= LCP_HAS_ED;
		q->ed = c->ed;
	}
	l->acked = (struct lcp_opts){0};
	l->auth_refused = 0;
	l->new_magic = false;
}

static void lcp_addci(struct fsm *f, struct wbuf *w)
{
	struct lcp *l = from_fsm(f);

	if (l->new_magic && (l->req.has & LCP_HAS_MAGIC))
		l->req.magic = random_magic(l, l->req.magic);
	l->new_magic = false;
	lcp_opts_write(w, &l->req, ~0u);
}

static void lcp_ackci(struct fsm *f, struct rbuf opts)
{
	struct lcp *l = from_fsm(f);

	/* fsm checked the Ack is our request byte for byte. */
	l->acked = l->req;
}

static void nak_auth(struct lcp *l, const struct lcp_opts *sugg)
{
	unsigned want = l->conf.require_auth;
	unsigned b = auth_bit(sugg->auth, sugg->chap_alg);

	if (b & want) {
		l->req.auth = sugg->auth;
		l->req.chap_alg = sugg->chap_alg;
		return;
	}
	/* Suggested something we do not allow: try our next choice, if any. */
	l->auth_refused |= auth_bit(l->req.auth, l->req.chap_alg);
	auth_pick(want & ~l->auth_refused, &l->req.auth, &l->req.chap_alg);
}

static int lcp_nakci(struct fsm *f, struct rbuf opts, bool treat_as_reject)
{
	struct lcp *l = from_fsm(f);
	struct lcp_opt o;
	int rc;

	while ((rc = lcp_opt_next(&opts, &o)) > 0) {
		uint32_t bit = lcp_opt_bit(o.type);
		struct lcp_opts s = {0};

		/* Options we did not ask for are suggestions; we ignore them. */
		if (!(bit & l->req.has))
			continue;
		if (treat_as_reject && bit != LCP_HAS_AUTH && bit != LCP_HAS_MAGIC) {
			l->req.has &= ~bit;
			continue;
		}
		if (lcp_opt_decode(&o, &s) < 0)
			continue;
		switch (o.type) {
		case LCP_OPT_MRU:
			if (s.mru >= LCP_MIN_MRU && s.mru <= l->conf.mru)
				l->req.mru = s.mru;
			break;
		case LCP_OPT_AUTH:
			nak_auth(l, &s);
			break;
		case LCP_OPT_MAGIC:
			l->req.magic = random_magic(l, s.magic);
			break;
		case LCP_OPT_MRRU:
			if (s.mrru >= LCP_MIN_MRU && s.mrru <= l->conf.mrru)
				l->req.mrru = s.mrru;
			break;
		default:
			/* Nothing to adjust in a boolean option; an Endpoint
			 * Discriminator is never Nak'd (RFC 1990). */
			break;
		}
	}
	return rc < 0 ? -EBADMSG : 0;
}

static int lcp_rejci(struct fsm *f, struct rbuf opts)
{
	struct lcp *l = from_fsm(f);
	struct lcp_opt o;
	uint32_t drop = 0;
	int rc;

	while ((rc = lcp_opt_next(&opts, &o)) > 0) {
		uint32_t bit = lcp_opt_bit(o.type);
		if (!(bit & l->req.has))
			return -EBADMSG; /* names an option we did not send */
		drop |= bit;
	}
	if (rc < 0)
		return -EBADMSG;
	if (drop & LCP_HAS_AUTH && l->conf.require_auth) {
		log_info("lcp[%s]: peer refuses to authenticate", f->link);
		l->close_reason = "peer refused to authenticate";
	}
	/* Short sequence numbers only exist with MRRU (RFC 1990 §5.1.2). */
	if (drop & LCP_HAS_MRRU)
		drop |= LCP_HAS_SSNHF;
	l->req.has &= ~drop;
	return 0;
}

/* --- fsm callbacks: the peer's request --- */

enum verdict { V_ACK, V_NAK, V_REJ };

static enum verdict judge_auth(struct lcp *l, const struct lcp_opt *o, struct lcp_opts *h,
			       struct lcp_opts *nak)
{
	struct rbuf v = o->val;
	uint16_t proto;
	uint8_t alg = 0;

	if (!l->conf.accept_auth || rbuf_get16(&v, &proto) < 0)
		return V_REJ;
	rbuf_get8(&v, &alg);
	if ((proto == PPP_PROTO_PAP && o->len == 4 && (l->conf.accept_auth & LCP_AUTH_PAP)) ||
	    (proto == PPP_PROTO_CHAP && o->len == 5 && alg == PPP_CHAP_MD5 &&
	     (l->conf.accept_auth & LCP_AUTH_CHAP_MD5))) {
		h->has |= LCP_HAS_AUTH;
		h->auth = proto;
		h->chap_alg = proto == PPP_PROTO_CHAP ? alg : 0;
		return V_ACK;
	}
	/* EAP, MS-CHAP, or one we do not accept: point at what we do. */
	auth_pick(l->conf.accept_auth, &nak->auth, &nak->chap_alg);
	nak->has |= LCP_HAS_AUTH;
	return V_NAK;
}

static enum verdict judge_magic(struct lcp *l, const struct lcp_opts *s, struct lcp_opts *h,
				struct lcp_opts *nak, bool *force_nak)
{
	if (s->magic == 0) {
		nak->magic = random_magic(l, 0);
		nak->has |= LCP_HAS_MAGIC;
		return V_NAK;
	}
	if ((l->req.has & LCP_HAS_MAGIC) && s->magic == l->req.magic) {
		/* Our own magic: maybe a loop (RFC 1661 §6.4). Nak with another
		 * value, and ask with a new one ourselves. */
		l->loop_count++;
		l->new_magic = true;
		if (l->loop_count >= (l->conf.loopback_max ? l->conf.loopback_max : 5) &&
		    !l->close_reason) {
			log_warn("lcp[%s]: link is looped back", l->fsm.link);
			l->close_reason = "looped back";
			if (l->ops->looped_back)
				l->ops->looped_back(l->ctx);
		}
		nak->magic = random_magic(l, s->magic);
		nak->has |= LCP_HAS_MAGIC;
		*force_nak = true; /* a Reject would hide the loop */
		return V_NAK;
	}
	h->has |= LCP_HAS_MAGIC;
	h->magic = s->magic;
	return V_ACK;
}

static enum verdict judge(struct lcp *l, const struct lcp_opt *o, struct lcp_opts *h,
			  struct lcp_opts *nak, uint32_t *seen, bool *force_nak)
{
	struct lcp_opts s = {0};
	uint32_t bit = lcp_opt_bit(o->type);

	if (!bit || (*seen & bit))
		return V_REJ; /* unknown (Quality too), or given twice */
	*seen |= bit;
	if (o->type == LCP_OPT_AUTH)
		return judge_auth(l, o, h, nak);
	if (lcp_opt_decode(o, &s) < 0)
		return V_REJ; /* a length the option does not allow */

	switch (o->type) {
	case LCP_OPT_MRU:
		if (s.mru < LCP_MIN_MRU) {
			nak->has |= LCP_HAS_MRU;
			nak->mru = LCP_MIN_MRU;
			return V_NAK;
		}
		h->mru = s.mru;
		break;
	case LCP_OPT_ACCM:
		/* Acked, never applied: no async framing on a datagram. */
		h->accm = s.accm;
		break;
	case LCP_OPT_MAGIC:
		return judge_magic(l, &s, h, nak, force_nak);
	case LCP_OPT_PFC:
	case LCP_OPT_ACFC:
		break;
	case LCP_OPT_MRRU:
		if (!l->conf.mrru)
			return V_REJ;
		if (s.mrru < LCP_MIN_MRU) {
			nak->has |= LCP_HAS_MRRU;
			nak->mrru = PPP_DEFAULT_MRU;
			return V_NAK;
		}
		h->mrru = s.mrru;
		break;
	case LCP_OPT_SSNHF:
		if (!l->conf.mrru || !l->conf.accept_ssnhf)
			return V_REJ;
		break;
	case LCP_OPT_ED:
		/* Every class with a valid length is acked, never Nak'd. */
		h->ed = s.ed;
		break;
	default:
		return V_REJ;
	}
	h->has |= bit;
	return V_ACK;
}

static int lcp_reqci(struct fsm *f, struct rbuf opts, struct wbuf *reply, bool reject_if_disagree)
{
	struct lcp *l = from_fsm(f);
	struct lcp_opts h = {0}, nak = {0};
	struct rbuf all = opts;
	struct lcp_opt o;
	enum verdict result = V_ACK;
	uint32_t seen = 0;
	int rc;

	while ((rc = lcp_opt_next(&opts, &o)) > 0) {
		bool force_nak = false;
		enum verdict v = judge(l, &o, &h, &nak, &seen, &force_nak);

		if (v == V_NAK && reject_if_disagree && !force_nak) {
			/* Max-Failure: stop arguing, Reject (RFC 1661 §4.6). */
			nak.has &= ~lcp_opt_bit(o.type);
			v = V_REJ;
		}
		if (v == V_REJ) {
			lcp_opt_put_raw(reply, &o);
			result = V_REJ;
		} else if (v == V_NAK && result == V_ACK) {
			result = V_NAK;
		}
	}
	if (rc < 0)
		return -EBADMSG; /* option framing broken: discard the packet */
	switch (result) {
	case V_REJ:
		return FSM_REPLY_REJ;
	case V_NAK:
		lcp_opts_write(reply, &nak, ~0u);
		return FSM_REPLY_NAK;
	case V_ACK:
		break;
	}
	wbuf_put_bytes(reply, all.p, all.len);
	l->his = h;
	return FSM_REPLY_ACK;
}

/* --- fsm callbacks: layer events --- */

static void compute_result(struct lcp *l)
{
	const struct lcp_opts *a = &l->acked, *h = &l->his;
	struct lcp_result *r = &l->res;

	*r = (struct lcp_result){0};
	r->our_mru = a->has & LCP_HAS_MRU ? a->mru : PPP_DEFAULT_MRU;
	r->peer_mru = h->has & LCP_HAS_MRU ? h->mru : PPP_DEFAULT_MRU;
	r->our_mrru = a->has & LCP_HAS_MRRU ? a->mrru : 0;
	r->peer_mrru = h->has & LCP_HAS_MRRU ? h->mrru : 0;
	r->multilink = r->our_mrru && r->peer_mrru;
	r->ssn_rx = r->our_mrru && (a->has & LCP_HAS_SSNHF);
	r->ssn_tx = r->peer_mrru && (h->has & LCP_HAS_SSNHF);
	r->pfc_rx = a->has & LCP_HAS_PFC;
	r->pfc_tx = h->has & LCP_HAS_PFC;
	r->acfc_rx = a->has & LCP_HAS_ACFC;
	r->acfc_tx = h->has & LCP_HAS_ACFC;
	if (a->has & LCP_HAS_AUTH) {
		r->auth_peer = a->auth;
		r->auth_peer_alg = a->chap_alg;
	}
	if (h->has & LCP_HAS_AUTH) {
		r->auth_us = h->auth;
		r->auth_us_alg = h->chap_alg;
	}
	if (h->has & LCP_HAS_ED) {
		r->peer_ed_present = true;
		r->peer_ed = h->ed;
	}
	r->our_magic = a->has & LCP_HAS_MAGIC ? a->magic : 0;
	r->peer_magic = h->has & LCP_HAS_MAGIC ? h->magic : 0;
}

static void lcp_layer_up(struct fsm *f)
{
	struct lcp *l = from_fsm(f);

	compute_result(l);
	f->peer_mru = l->res.peer_mru;
	l->loop_count = 0;
	log_debug("lcp[%s]: opened, mru %u/%u mrru %u/%u", f->link, l->res.our_mru, l->res.peer_mru,
		  l->res.our_mrru, l->res.peer_mrru);
	if (l->ops->up)
		l->ops->up(l->ctx, &l->res);
}

static void lcp_layer_down(struct fsm *f)
{
	struct lcp *l = from_fsm(f);

	if (l->ops->down)
		l->ops->down(l->ctx);
}

static void lcp_layer_starting(struct fsm *f)
{
	struct lcp *l = from_fsm(f);

	if (l->ops->starting)
		l->ops->starting(l->ctx);
}

static void lcp_layer_finished(struct fsm *f)
{
	struct lcp *l = from_fsm(f);

	if (l->ops->finished)
		l->ops->finished(l->ctx);
}

static void lcp_code_rejected(struct fsm *f, uint8_t code)
{
	struct lcp *l = from_fsm(f);

	if (l->ops->code_rejected)
		l->ops->code_rejected(l->ctx, code);
}

/* --- LCP-only codes --- */

static uint32_t our_magic(const struct lcp *l)
{
	return l->acked.has & LCP_HAS_MAGIC ? l->acked.magic : 0;
}

static void rcv_echo_req(struct lcp *l, uint8_t id, struct rbuf data)
{
	uint8_t pkt[FSM_MAX_PKT];
	struct wbuf w = wbuf_make(pkt, sizeof(pkt));
	uint32_t magic;
	size_t room = l->fsm.peer_mru < sizeof(pkt) ? l->fsm.peer_mru : sizeof(pkt);

	if (rbuf_get32(&data, &magic) < 0)
		return;
	if (magic && magic == our_magic(l))
		return; /* our own request came back: a loop, not a peer */
	/* The peer's data back byte for byte, behind our magic. */
	size_t n = data.len;
	if (n > room - PPP_HDR_LEN - 4)
		n = room - PPP_HDR_LEN - 4;
	wbuf_put32(&w, our_magic(l));
	wbuf_put_bytes(&w, data.p, n);
	if (wbuf_ok(&w))
		fsm_send_id(&l->fsm, PPP_ECHO_REP, id, pkt, w.len);
}

static void rcv_echo_rep(struct lcp *l, struct rbuf data)
{
	uint32_t magic, hi, lo, seq;

	if (rbuf_get32(&data, &magic) < 0)
		return;
	if (magic && magic == our_magic(l))
		return;
	if (rbuf_get32(&data, &hi) < 0 || rbuf_get32(&data, &lo) < 0 || rbuf_get32(&data, &seq) < 0)
		return; /* not one of ours */
	uint64_t ts = (uint64_t)hi << 32 | lo;
	/* Only recent requests of ours: a stray or forged reply gives no RTT. */
	if (l->echo_seq - seq >= ECHO_WINDOW || seq == 0 || ts > l->now_us)
		return;
	if (l->ops->echo_rtt)
		l->ops->echo_rtt(l->ctx, seq, l->now_us - ts);
}

static void rcv_proto_rej(struct lcp *l, struct rbuf data)
{
	uint16_t proto;

	if (rbuf_get16(&data, &proto) < 0 || l->fsm.state != FSM_OPENED)
		return;
	if (proto == PPP_PROTO_LCP) {
		fsm_rxj(&l->fsm, true);
		return;
	}
	log_info("lcp[%s]: peer rejected protocol 0x%04x", l->fsm.link, proto);
	if (l->ops->protocol_rejected)
		l->ops->protocol_rejected(l->ctx, proto, data.p, data.len);
	fsm_rxj(&l->fsm, false);
}

static bool lcp_extcode(struct fsm *f, uint8_t code, uint8_t id, struct rbuf data)
{
	struct lcp *l = from_fsm(f);

	switch (code) {
	case PPP_PROTO_REJ:
		rcv_proto_rej(l, data);
		return true;
	case PPP_ECHO_REQ:
		if (fsm_rxr(f))
			rcv_echo_req(l, id, data);
		return true;
	case PPP_ECHO_REP:
		if (fsm_rxr(f))
			rcv_echo_rep(l, data);
		return true;
	case PPP_DISCARD_REQ:
		fsm_rxr(f);
		return true;
	case PPP_IDENTIFICATION:
	case PPP_TIME_REMAINING:
		return true; /* informational (RFC 1570) */
	case PPP_CODE_VENDOR:
		if (!l->ops->vendor)
			return false;
		if (f->state == FSM_OPENED)
			l->ops->vendor(l->ctx, id, data);
		return true;
	default:
		return false;
	}
}

static const struct fsm_callbacks lcp_callbacks = {
    .resetci = lcp_resetci,
    .addci = lcp_addci,
    .ackci = lcp_ackci,
    .nakci = lcp_nakci,
    .rejci = lcp_rejci,
    .reqci = lcp_reqci,
    .up = lcp_layer_up,
    .down = lcp_layer_down,
    .starting = lcp_layer_starting,
    .finished = lcp_layer_finished,
    .extcode = lcp_extcode,
    .code_rejected = lcp_code_rejected,
};

/* --- public --- */

struct lcp *lcp_new(const char *link, const struct lcp_config *c, const struct lcp_ops *ops,
		    void *ctx)
{
	struct lcp *l = calloc(1, sizeof(*l));

	if (!l)
		return NULL;
	if (c)
		l->conf = *c;
	else
		lcp_config_default(&l->conf);
	l->ops = ops;
	l->ctx = ctx;
	fsm_init(&l->fsm, "lcp", link, &l->conf.fsm, &lcp_callbacks, l, &ops->io, ctx);
	return l;
}

struct lcp *lcp_free(struct lcp *l)
{
	free(l);
	return NULL;
}

void lcp_set_mru(struct lcp *l, uint16_t mru)
{
	l->conf.mru = mru;
}

/* Closes decided while handling a packet run after it, outside fsm. */
static void run_pending_close(struct lcp *l)
{
	const char *why = l->close_reason;

	if (!why)
		return;
	l->close_reason = NULL;
	fsm_close(&l->fsm, why);
}

void lcp_up(struct lcp *l)
{
	fsm_up(&l->fsm);
}

void lcp_down(struct lcp *l)
{
	fsm_down(&l->fsm);
}

void lcp_open(struct lcp *l)
{
	l->loop_count = 0;
	fsm_open(&l->fsm);
}

void lcp_close(struct lcp *l, const char *reason)
{
	fsm_close(&l->fsm, reason);
}

void lcp_timeout(struct lcp *l)
{
	fsm_timeout(&l->fsm);
}

int lcp_input(struct lcp *l, const uint8_t *pkt, size_t len, uint64_t now_us)
{
	l->now_us = now_us;
	int r = fsm_input_packet(&l->fsm, pkt, len);
	run_pending_close(l);
	return r;
}

int64_t lcp_send_echo(struct lcp *l, uint64_t now_us)
{
	uint8_t d[16];
	struct wbuf w = wbuf_make(d, sizeof(d));

	if (l->fsm.state != FSM_OPENED)
		return -ENOTCONN;
	if (++l->echo_seq == 0)
		l->echo_seq = 1; /* 0 marks "none" */
	wbuf_put32(&w, our_magic(l));
	wbuf_put32(&w, (uint32_t)(now_us >> 32));
	wbuf_put32(&w, (uint32_t)now_us);
	wbuf_put32(&w, l->echo_seq);
	int r = fsm_send(&l->fsm, PPP_ECHO_REQ, d, w.len);
	return r < 0 ? r : (int64_t)l->echo_seq;
}

int lcp_send_protocol_reject(struct lcp *l, uint16_t proto, const uint8_t *info, size_t len)
{
	uint8_t d[FSM_MAX_PKT];
	struct wbuf w = wbuf_make(d, sizeof(d));
	size_t room = l->fsm.peer_mru < sizeof(d) ? l->fsm.peer_mru : sizeof(d);

	if (l->fsm.state != FSM_OPENED)
		return -ENOTCONN;
	if (room < LCP_MIN_MRU)
		room = LCP_MIN_MRU;
	if (len > room - PPP_HDR_LEN - 2)
		len = room - PPP_HDR_LEN - 2;
	wbuf_put16(&w, proto);
	wbuf_put_bytes(&w, info, len);
	if (!wbuf_ok(&w))
		return -EMSGSIZE;
	return fsm_send(&l->fsm, PPP_PROTO_REJ, d, w.len);
}

int lcp_send_vendor(struct lcp *l, const void *data, size_t len)
{
	if (l->fsm.state != FSM_OPENED)
		return -ENOTCONN;
	if (len + PPP_HDR_LEN > l->fsm.peer_mru)
		return -EMSGSIZE;
	return fsm_send(&l->fsm, PPP_CODE_VENDOR, data, len);
}

enum fsm_state lcp_state(const struct lcp *l)
{
	return l->fsm.state;
}

const struct lcp_result *lcp_result(const struct lcp *l)
{
	return &l->res;
}

struct fsm *lcp_fsm(struct lcp *l)
{
	return &l->fsm;
}
