#include "ipcp.h"

#include "lcp_opts.h" /* generic option framing: lcp_opt_next, lcp_opt_put_raw */
#include "log.h"
#include "ppp_proto.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
	HAS_ADDR = 1 << 0,
	HAS_DNS1 = 1 << 1,
	HAS_DNS2 = 1 << 2,
};

struct ipcp {
	struct fsm fsm;
	struct ipcp_config conf;
	const struct ipcp_ops *ops;
	void *ctx;

	/* Our next Configure-Request. */
	unsigned req_has;
	uint32_t req_addr;
	uint32_t req_dns[2];
	/* Acked by the peer / from the peer's acked request. */
	unsigned acked_has;
	uint32_t his_addr;
	uint32_t his_dns[2]; /* DNS values the peer asked for and we acked */

	bool have_assigned; /* server: the pool gave us assigned */
	uint32_t assigned;

	bool is_up;		       /* ops->up called, ops->down owed */
	const char *close_now;	       /* close once the current packet is done */
	char why[FSM_MAX_REASON + 48]; /* reason for finished; first cause wins */
	struct ipcp_result res;
};

static struct ipcp *from_fsm(struct fsm *f)
{
	return f->cb_data;
}

bool ipcp_addr_usable(uint32_t a)
{
	return a != 0 && (a >> 24) != 127 && a < 0xe0000000u;
}

const char *ipcp_addr_str(uint32_t a, char *buf, size_t size)
{
	snprintf(buf, size, "%u.%u.%u.%u", a >> 24, (a >> 16) & 0xff, (a >> 8) & 0xff, a & 0xff);
	return buf;
}

static void set_why(struct ipcp *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_why(struct ipcp *p, const char *fmt, ...)
{
	va_list ap;

	if (p->why[0])
		return;
	va_start(ap, fmt);
	vsnprintf(p->why, sizeof(p->why), fmt, ap);
	va_end(ap);
}

/* Decide to close; fsm_close runs after the packet (never inside fsm). */
static void close_later(struct ipcp *p, const char *reason)
{
	if (!p->close_now)
		p->close_now = reason;
}

void ipcp_config_default(struct ipcp_config *c)
{
	*c = (struct ipcp_config){.role = IPCP_CLIENT, .ask_dns = true};
	fsm_config_default(&c->fsm);
}

/* --- option helpers --- */

static int dns_idx(uint8_t type)
{
	return type == IPCP_OPT_DNS1 ? 0 : type == IPCP_OPT_DNS2 ? 1 : -1;
}

static unsigned opt_bit(uint8_t type)
{
	switch (type) {
	case IPCP_OPT_ADDR:
		return HAS_ADDR;
	case IPCP_OPT_DNS1:
		return HAS_DNS1;
	case IPCP_OPT_DNS2:
		return HAS_DNS2;
	default:
		return 0;
	}
}

/* The 4-byte address value of an option; -EINVAL unless length is 6. */
static int opt_addr(const struct lcp_opt *o, uint32_t *a)
{
	struct rbuf v = o->val;

	if (o->len != 6 || rbuf_get32(&v, a) < 0)
		return -EINVAL;
	return 0;
}

static void put_addr(struct wbuf *w, uint8_t type, uint32_t a)
{
	wbuf_put8(w, type);
	wbuf_put8(w, 6);
	wbuf_put32(w, a);
}

/* --- fsm callbacks: our request --- */

static void ipcp_resetci(struct fsm *f)
{
	struct ipcp *p = from_fsm(f);

	p->req_has = HAS_ADDR;
	p->req_addr = p->conf.local;
	p->req_dns[0] = p->req_dns[1] = 0;
	if (p->conf.ask_dns)
		p->req_has |= HAS_DNS1 | HAS_DNS2;
	p->acked_has = 0;
	p->his_addr = 0;
	p->his_dns[0] = p->his_dns[1] = 0;
	p->why[0] = '\0';
}

static void ipcp_addci(struct fsm *f, struct wbuf *w)
{
	struct ipcp *p = from_fsm(f);

	if (p->req_has & HAS_ADDR)
		put_addr(w, IPCP_OPT_ADDR, p->req_addr);
	if (p->req_has & HAS_DNS1)
		put_addr(w, IPCP_OPT_DNS1, p->req_dns[0]);
	if (p->req_has & HAS_DNS2)
		put_addr(w, IPCP_OPT_DNS2, p->req_dns[1]);
}

static void ipcp_ackci(struct fsm *f, struct rbuf opts)
{
	struct ipcp *p = from_fsm(f);

	/* fsm checked the Ack is our request byte for byte. */
	p->acked_has = p->req_has;
}

static void nak_addr(struct ipcp *p, uint32_t a, bool treat_as_reject)
{
	char b1[16];

	if (p->conf.role == IPCP_SERVER) {
		/* Our own address is ours to choose: ignore the suggestion,
		 * stop asking after Max-Failure (the peer need not know it). */
		if (treat_as_reject)
			p->req_has &= ~HAS_ADDR;
		return;
	}
	if (treat_as_reject) {
		set_why(p, "no agreement on our address (peer keeps Naking %s)",
			ipcp_addr_str(p->req_addr, b1, sizeof(b1)));
		close_later(p, "no agreement on address");
		return;
	}
	if (ipcp_addr_usable(a))
		p->req_addr = a;
}

static int ipcp_nakci(struct fsm *f, struct rbuf opts, bool treat_as_reject)
{
	struct ipcp *p = from_fsm(f);
	struct lcp_opt o;
	int rc;

	while ((rc = lcp_opt_next(&opts, &o)) > 0) {
		unsigned bit = opt_bit(o.type);
		uint32_t a;

		/* Options we did not ask for are suggestions; we ignore them
		 * (a pppd server may Nak DNS we never asked for). */
		if (!(bit & p->req_has) || opt_addr(&o, &a) < 0)
			continue;
		if (bit == HAS_ADDR) {
			nak_addr(p, a, treat_as_reject);
			continue;
		}
		int i = dns_idx(o.type);
		if (treat_as_reject || a == 0)
			p->req_has &= ~bit;
		else
			p->req_dns[i] = a;
	}
	return rc < 0 ? -EBADMSG : 0;
}

static int ipcp_rejci(struct fsm *f, struct rbuf opts)
{
	struct ipcp *p = from_fsm(f);
	struct lcp_opt o;
	unsigned drop = 0;
	int rc;

	while ((rc = lcp_opt_next(&opts, &o)) > 0) {
		unsigned bit = opt_bit(o.type);
		if (!(bit & p->req_has))
			return -EBADMSG; /* names an option we did not send */
		drop |= bit;
	}
	if (rc < 0)
		return -EBADMSG;
	if ((drop & HAS_ADDR) && p->conf.role == IPCP_CLIENT && p->conf.local == 0) {
		set_why(p, "peer will not assign us an address (IP-Address rejected)");
		close_later(p, "no address assigned");
	}
	if (drop & (HAS_DNS1 | HAS_DNS2))
		log_debug("ipcp[%s]: peer gives no DNS", f->link);
	p->req_has &= ~drop;
	return 0;
}

/* --- fsm callbacks: the peer's request --- */

enum verdict { V_ACK, V_NAK, V_REJ };

struct judging {
	struct wbuf nak; /* our suggestions */
	bool strict;	 /* reject_if_disagree */
	bool saw_addr;
	uint32_t addr;
	uint32_t dns[2]; /* acked DNS values */
};

static enum verdict judge_addr(struct ipcp *p, uint32_t a, struct judging *j)
{
	char b1[16], b2[16];

	j->saw_addr = true;
	j->addr = a;
	if (p->conf.role == IPCP_CLIENT)
		/* The server's own address: whatever it says. Zero asks us to
		 * assign it one, which a client cannot: Reject (as pppd). */
		return ipcp_addr_usable(a) ? V_ACK : V_REJ;

	if (!p->have_assigned) {
		int r = p->ops->assign ? p->ops->assign(p->ctx, &p->assigned) : -ENOSPC;
		if (r < 0 || !ipcp_addr_usable(p->assigned)) {
			set_why(p, "no address to assign (%s)", strerror(r < 0 ? -r : EINVAL));
			close_later(p, "no address available");
			return V_REJ;
		}
		p->have_assigned = true;
	}
	if (a == p->assigned)
		return V_ACK;
	if (j->strict) {
		/* Max-Failure Naks ignored: refuse, naming both addresses. */
		if (a)
			set_why(p, "peer insists on %s, assigned %s",
				ipcp_addr_str(a, b1, sizeof(b1)),
				ipcp_addr_str(p->assigned, b2, sizeof(b2)));
		else
			set_why(p, "peer does not accept its address %s",
				ipcp_addr_str(p->assigned, b2, sizeof(b2)));
		close_later(p, "address refused");
		return V_REJ;
	}
	put_addr(&j->nak, IPCP_OPT_ADDR, p->assigned);
	return V_NAK;
}

static enum verdict judge_dns(struct ipcp *p, uint8_t type, uint32_t a, struct judging *j)
{
	int i = dns_idx(type);
	if (i < 0)
		return V_REJ; /* only called for DNS1/DNS2 */
	uint32_t ours = p->conf.dns[i];

	if (ours == 0)
		return V_REJ; /* nothing to give */
	if (a == ours) {
		j->dns[i] = a;
		return V_ACK;
	}
	if (j->strict)
		return V_REJ;
	put_addr(&j->nak, type, ours);
	return V_NAK;
}

static enum verdict judge(struct ipcp *p, const struct lcp_opt *o, unsigned *seen,
			  struct judging *j)
{
	unsigned bit = opt_bit(o->type);
	uint32_t a;

	/* VJ, NBNS, IP-Addresses, unknown ones, or given twice. */
	if (!bit || (*seen & bit))
		return V_REJ;
	*seen |= bit;
	if (opt_addr(o, &a) < 0)
		return V_REJ;
	if (bit == HAS_ADDR)
		return judge_addr(p, a, j);
	return judge_dns(p, o->type, a, j);
}

static int ipcp_reqci(struct fsm *f, struct rbuf opts, struct wbuf *reply, bool reject_if_disagree)
{
	struct ipcp *p = from_fsm(f);
	uint8_t nakbuf[64];
	struct judging j = {.nak = wbuf_make(nakbuf, sizeof(nakbuf)), .strict = reject_if_disagree};
	struct rbuf all = opts;
	struct lcp_opt o;
	enum verdict result = V_ACK;
	unsigned seen = 0;
	int rc;

	while ((rc = lcp_opt_next(&opts, &o)) > 0) {
		enum verdict v = judge(p, &o, &seen, &j);

		if (v == V_REJ) {
			lcp_opt_put_raw(reply, &o);
			result = V_REJ;
		} else if (v == V_NAK && result == V_ACK) {
			result = V_NAK;
		}
	}
	if (rc < 0)
		return -EBADMSG; /* option framing broken: discard the packet */
	if (result == V_REJ)
		return FSM_REPLY_REJ;

	/* A server whose peer named no address tells it which to use (a Nak
	 * may carry options the request lacked, RFC 1661 §5.3). */
	if (p->conf.role == IPCP_SERVER && !j.saw_addr && !j.strict) {
		struct judging probe = {.nak = j.nak};
		if (judge_addr(p, 0, &probe) == V_REJ)
			return FSM_REPLY_REJ; /* empty Reject; closing anyway */
		j.nak = probe.nak;
		result = V_NAK;
	}
	if (!wbuf_ok(&j.nak))
		return -EBADMSG;
	if (result == V_NAK) {
		wbuf_put_bytes(reply, j.nak.p, j.nak.len);
		return FSM_REPLY_NAK;
	}
	wbuf_put_bytes(reply, all.p, all.len);
	p->his_addr = j.saw_addr ? j.addr : 0;
	p->his_dns[0] = j.dns[0];
	p->his_dns[1] = j.dns[1];
	return FSM_REPLY_ACK;
}

/* --- fsm callbacks: layer events --- */

static void ipcp_layer_up(struct fsm *f)
{
	struct ipcp *p = from_fsm(f);
	struct ipcp_result *r = &p->res;
	char b1[16], b2[16];

	*r = (struct ipcp_result){0};
	r->local = p->acked_has & HAS_ADDR ? p->req_addr : p->conf.local;
	r->peer = p->his_addr;
	if (p->conf.role == IPCP_SERVER) {
		if (!r->peer && p->have_assigned)
			r->peer = p->assigned;
		/* What the peer asked for and we acked, i.e. gave away. */
		r->dns[0] = p->his_dns[0];
		r->dns[1] = p->his_dns[1];
	} else {
		r->dns[0] = p->acked_has & HAS_DNS1 ? p->req_dns[0] : 0;
		r->dns[1] = p->acked_has & HAS_DNS2 ? p->req_dns[1] : 0;
	}
	p->why[0] = '\0';
	if (!ipcp_addr_usable(r->local)) {
		/* A peer that acked 0.0.0.0 gave us nothing to use. */
		set_why(p, "no usable local address");
		close_later(p, "no address assigned");
		return;
	}
	log_info("ipcp[%s]: up, local %s peer %s", f->link, ipcp_addr_str(r->local, b1, sizeof(b1)),
		 ipcp_addr_str(r->peer, b2, sizeof(b2)));
	p->is_up = true;
	if (p->ops->up)
		p->ops->up(p->ctx, r->local, r->peer, r->dns[0], r->dns[1]);
}

static void ipcp_layer_down(struct fsm *f)
{
	struct ipcp *p = from_fsm(f);

	if (f->rx_valid && f->rx_code == PPP_TERM_REQ)
		set_why(p, "terminated by peer");
	if (!p->is_up)
		return;
	p->is_up = false;
	if (p->ops->down)
		p->ops->down(p->ctx);
}

static void ipcp_layer_finished(struct fsm *f)
{
	struct ipcp *p = from_fsm(f);

	if (f->rx_valid && f->rx_code == PPP_TERM_REQ)
		set_why(p, "terminated by peer");
	else if (f->rx_valid && f->rx_code == PPP_CODE_REJ)
		set_why(p, "peer rejected an IPCP code");
	set_why(p, "no answer from peer");
	log_info("ipcp[%s]: finished: %s", f->link, p->why);
	if (p->ops->finished)
		p->ops->finished(p->ctx, p->why);
}

static const struct fsm_callbacks ipcp_callbacks = {
    .resetci = ipcp_resetci,
    .addci = ipcp_addci,
    .ackci = ipcp_ackci,
    .nakci = ipcp_nakci,
    .rejci = ipcp_rejci,
    .reqci = ipcp_reqci,
    .up = ipcp_layer_up,
    .down = ipcp_layer_down,
    .finished = ipcp_layer_finished,
};

/* --- public --- */

struct ipcp *ipcp_new(const char *bundle, const struct ipcp_config *c, const struct ipcp_ops *ops,
		      void *ctx)
{
	struct ipcp *p;

	if (!ops || !ops->io.tx)
		return NULL;
	if (c && c->role == IPCP_SERVER && (!ipcp_addr_usable(c->local) || !ops->assign))
		return NULL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	if (c)
		p->conf = *c;
	else
		ipcp_config_default(&p->conf);
	p->ops = ops;
	p->ctx = ctx;
	fsm_init(&p->fsm, "ipcp", bundle, &p->conf.fsm, &ipcp_callbacks, p, &ops->io, ctx);
	ipcp_resetci(&p->fsm);
	return p;
}

struct ipcp *ipcp_free(struct ipcp *p)
{
	free(p);
	return NULL;
}

static void run_pending_close(struct ipcp *p)
{
	const char *reason = p->close_now;

	if (!reason)
		return;
	p->close_now = NULL;
	fsm_close(&p->fsm, reason);
}

void ipcp_up(struct ipcp *p)
{
	fsm_up(&p->fsm);
}

void ipcp_down(struct ipcp *p)
{
	fsm_down(&p->fsm);
	/* The lower layer is gone: a pending close has nothing to close. */
	p->close_now = NULL;
}

void ipcp_open(struct ipcp *p)
{
	fsm_open(&p->fsm);
}

void ipcp_close(struct ipcp *p, const char *reason)
{
	set_why(p, "%s", reason && reason[0] ? reason : "closed");
	fsm_close(&p->fsm, reason);
}

void ipcp_timeout(struct ipcp *p)
{
	fsm_timeout(&p->fsm);
}

void ipcp_protocol_rejected(struct ipcp *p)
{
	set_why(p, "peer rejected IPCP (Protocol-Reject)");
	fsm_rxj(&p->fsm, true);
}

int ipcp_input(struct ipcp *p, const uint8_t *pkt, size_t len)
{
	int r = fsm_input_packet(&p->fsm, pkt, len);
	run_pending_close(p);
	return r;
}

enum fsm_state ipcp_state(const struct ipcp *p)
{
	return p->fsm.state;
}

const struct ipcp_result *ipcp_result(const struct ipcp *p)
{
	return &p->res;
}

struct fsm *ipcp_fsm(struct ipcp *p)
{
	return &p->fsm;
}
