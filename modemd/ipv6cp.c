#include "ipv6cp.h"

#include "lcp_opts.h" /* generic option framing: lcp_opt_next, lcp_opt_put_raw */
#include "log.h"
#include "ppp_proto.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IID IPV6CP_IID_LEN

struct ipv6cp {
	struct fsm fsm;
	struct ipv6cp_config conf;
	const struct ipv6cp_ops *ops;
	void *ctx;

	bool req_iid;	   /* our request carries option 1 */
	uint8_t ours[IID]; /* our identifier (asked for, then acked) */
	uint8_t his[IID];  /* the peer's, from its last request; 0: none */
	uint8_t peer[IID]; /* the peer's, from the request we acked */

	bool is_up;
	char why[FSM_MAX_REASON + 16];
};

static const uint8_t zero_iid[IID];

static struct ipv6cp *from_fsm(struct fsm *f)
{
	return f->cb_data;
}

static bool iid_zero(const uint8_t *a)
{
	return memcmp(a, zero_iid, IID) == 0;
}

static void set_why(struct ipv6cp *p, const char *why)
{
	if (!p->why[0])
		snprintf(p->why, sizeof(p->why), "%s", why);
}

/* A random identifier, nonzero and different from avoid1, avoid2 and the
 * peer's acked one (RFC 5072 §4.1); u/l bit clear: not derived from a
 * globally unique token. out may be one of the avoids (copied first). */
static void random_iid(struct ipv6cp *p, uint8_t out[IID], const uint8_t *avoid1,
		       const uint8_t *avoid2)
{
	uint8_t av[3][IID];

	memcpy(av[0], avoid1, IID);
	memcpy(av[1], avoid2, IID);
	memcpy(av[2], p->peer, IID);
	for (int tries = 0; tries < 16; tries++) {
		uint32_t a = p->ops->random32(p->ctx), b = p->ops->random32(p->ctx);
		struct wbuf w = wbuf_make(out, IID);

		wbuf_put32(&w, a);
		wbuf_put32(&w, b);
		out[0] &= (uint8_t)~0x02;
		if (!iid_zero(out) && memcmp(out, av[0], IID) && memcmp(out, av[1], IID) &&
		    memcmp(out, av[2], IID))
			return;
	}
	/* A broken random source: count up from avoid1 until nonzero and
	 * distinct from the three (at most four steps). */
	memcpy(out, av[0], IID);
	do
		out[7]++;
	while (iid_zero(out) || !memcmp(out, av[0], IID) || !memcmp(out, av[1], IID) ||
	       !memcmp(out, av[2], IID));
}

void ipv6cp_config_default(struct ipv6cp_config *c)
{
	*c = (struct ipv6cp_config){0};
	fsm_config_default(&c->fsm);
}

/* --- fsm callbacks: our request --- */

static void ipv6cp_resetci(struct fsm *f)
{
	struct ipv6cp *p = from_fsm(f);

	p->req_iid = true;
	if (!iid_zero(p->conf.iid))
		memcpy(p->ours, p->conf.iid, IID);
	else
		random_iid(p, p->ours, zero_iid, p->his);
	p->why[0] = '\0';
}

static void ipv6cp_addci(struct fsm *f, struct wbuf *w)
{
	struct ipv6cp *p = from_fsm(f);

	if (!p->req_iid)
		return;
	wbuf_put8(w, IPV6CP_OPT_IID);
	wbuf_put8(w, 2 + IID);
	wbuf_put_bytes(w, p->ours, IID);
}

static int ipv6cp_nakci(struct fsm *f, struct rbuf opts, bool treat_as_reject)
{
	struct ipv6cp *p = from_fsm(f);
	struct lcp_opt o;
	int rc;

	while ((rc = lcp_opt_next(&opts, &o)) > 0) {
		uint8_t s[IID];

		if (o.type != IPV6CP_OPT_IID || !p->req_iid || o.len != 2 + IID ||
		    rbuf_get_bytes(&o.val, s, IID) < 0)
			continue; /* suggestions we did not ask about */
		if (treat_as_reject)
			p->req_iid = false; /* keep ours locally, stop asking */
		else if (!iid_zero(s) && memcmp(s, p->his, IID) && memcmp(s, p->peer, IID) &&
			 memcmp(s, p->ours, IID))
			memcpy(p->ours, s, IID);
		else
			random_iid(p, p->ours, p->ours, p->his);
	}
	return rc < 0 ? -EBADMSG : 0;
}

static int ipv6cp_rejci(struct fsm *f, struct rbuf opts)
{
	struct ipv6cp *p = from_fsm(f);
	struct lcp_opt o;
	int rc;

	while ((rc = lcp_opt_next(&opts, &o)) > 0) {
		if (o.type != IPV6CP_OPT_IID || !p->req_iid)
			return -EBADMSG; /* names an option we did not send */
		p->req_iid = false;
	}
	return rc < 0 ? -EBADMSG : 0;
}

/* --- fsm callbacks: the peer's request --- */

static int ipv6cp_reqci(struct fsm *f, struct rbuf opts, struct wbuf *reply,
			bool reject_if_disagree)
{
	struct ipv6cp *p = from_fsm(f);
	struct rbuf all = opts;
	struct lcp_opt o;
	bool rej = false, nak = false, seen = false;
	uint8_t his[IID] = {0}, sugg[IID];
	int rc;

	while ((rc = lcp_opt_next(&opts, &o)) > 0) {
		if (o.type != IPV6CP_OPT_IID || seen || o.len != 2 + IID) {
			lcp_opt_put_raw(reply, &o); /* compression, unknown, twice */
			rej = true;
			continue;
		}
		seen = true;
		rbuf_get_bytes(&o.val, his, IID);
		if (!iid_zero(his) && memcmp(his, p->ours, IID)) {
			memcpy(p->his, his, IID);
			continue;
		}
		if (reject_if_disagree) {
			lcp_opt_put_raw(reply, &o);
			rej = true;
			continue;
		}
		/* Zero, or a collision with ours: suggest another one. */
		random_iid(p, sugg, p->ours, his);
		nak = true;
	}
	if (rc < 0)
		return -EBADMSG;
	if (rej)
		return FSM_REPLY_REJ;
	if (nak) {
		wbuf_put8(reply, IPV6CP_OPT_IID);
		wbuf_put8(reply, 2 + IID);
		wbuf_put_bytes(reply, sugg, IID);
		return FSM_REPLY_NAK;
	}
	wbuf_put_bytes(reply, all.p, all.len);
	memcpy(p->peer, his, IID);
	return FSM_REPLY_ACK;
}

/* --- fsm callbacks: layer events --- */

static void ipv6cp_layer_up(struct fsm *f)
{
	struct ipv6cp *p = from_fsm(f);

	p->why[0] = '\0';
	p->is_up = true;
	log_info("ipv6cp[%s]: up", f->link);
	if (p->ops->up)
		p->ops->up(p->ctx, p->ours, p->peer);
}

static void ipv6cp_layer_down(struct fsm *f)
{
	struct ipv6cp *p = from_fsm(f);

	if (f->rx_valid && f->rx_code == PPP_TERM_REQ)
		set_why(p, "terminated by peer");
	if (!p->is_up)
		return;
	p->is_up = false;
	if (p->ops->down)
		p->ops->down(p->ctx);
}

static void ipv6cp_layer_finished(struct fsm *f)
{
	struct ipv6cp *p = from_fsm(f);

	if (f->rx_valid && f->rx_code == PPP_TERM_REQ)
		set_why(p, "terminated by peer");
	else if (f->rx_valid && f->rx_code == PPP_CODE_REJ)
		set_why(p, "peer rejected an IPV6CP code");
	set_why(p, "no answer from peer");
	log_info("ipv6cp[%s]: finished: %s", f->link, p->why);
	if (p->ops->finished)
		p->ops->finished(p->ctx, p->why);
}

static const struct fsm_callbacks ipv6cp_callbacks = {
    .resetci = ipv6cp_resetci,
    .addci = ipv6cp_addci,
    .nakci = ipv6cp_nakci,
    .rejci = ipv6cp_rejci,
    .reqci = ipv6cp_reqci,
    .up = ipv6cp_layer_up,
    .down = ipv6cp_layer_down,
    .finished = ipv6cp_layer_finished,
};

/* --- public --- */

struct ipv6cp *ipv6cp_new(const char *bundle, const struct ipv6cp_config *c,
			  const struct ipv6cp_ops *ops, void *ctx)
{
	struct ipv6cp *p;

	if (!ops || !ops->io.tx || !ops->random32)
		return NULL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	if (c)
		p->conf = *c;
	else
		ipv6cp_config_default(&p->conf);
	p->ops = ops;
	p->ctx = ctx;
	fsm_init(&p->fsm, "ipv6cp", bundle, &p->conf.fsm, &ipv6cp_callbacks, p, &ops->io, ctx);
	ipv6cp_resetci(&p->fsm);
	return p;
}

struct ipv6cp *ipv6cp_free(struct ipv6cp *p)
{
	free(p);
	return NULL;
}

void ipv6cp_up(struct ipv6cp *p)
{
	fsm_up(&p->fsm);
}

void ipv6cp_down(struct ipv6cp *p)
{
	fsm_down(&p->fsm);
}

void ipv6cp_open(struct ipv6cp *p)
{
	fsm_open(&p->fsm);
}

void ipv6cp_close(struct ipv6cp *p, const char *reason)
{
	set_why(p, reason && reason[0] ? reason : "closed");
	fsm_close(&p->fsm, reason);
}

void ipv6cp_timeout(struct ipv6cp *p)
{
	fsm_timeout(&p->fsm);
}

void ipv6cp_protocol_rejected(struct ipv6cp *p)
{
	set_why(p, "peer rejected IPV6CP (Protocol-Reject)");
	fsm_rxj(&p->fsm, true);
}

int ipv6cp_input(struct ipv6cp *p, const uint8_t *pkt, size_t len)
{
	return fsm_input_packet(&p->fsm, pkt, len);
}

enum fsm_state ipv6cp_state(const struct ipv6cp *p)
{
	return p->fsm.state;
}

void ipv6cp_iids(const struct ipv6cp *p, uint8_t ours[IPV6CP_IID_LEN], uint8_t peer[IPV6CP_IID_LEN])
{
	memcpy(ours, p->ours, IID);
	memcpy(peer, p->peer, IID);
}

struct fsm *ipv6cp_fsm(struct ipv6cp *p)
{
	return &p->fsm;
}
