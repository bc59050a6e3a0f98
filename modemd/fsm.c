#include "fsm.h"

#include "log.h"
#include "ppp_proto.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define TLU FSM_A_TLU
#define TLD FSM_A_TLD
#define TLS FSM_A_TLS
#define TLF FSM_A_TLF
#define IRC FSM_A_IRC
#define ZRC FSM_A_ZRC
#define SCR FSM_A_SCR
#define SCA FSM_A_SCA
#define SCN FSM_A_SCN
#define STR FSM_A_STR
#define STA FSM_A_STA
#define SCJ FSM_A_SCJ
#define SER FSM_A_SER
/* clang-format off */
#define X { 0, -1 } /* "-" */
#define T(a, n) { (a), (n) }
/* clang-format on */

/* RFC 1661 §4.1, row by row. Columns: Initial Starting Closed Stopped
 * Closing Stopping Req-Sent Ack-Rcvd Ack-Sent Opened. */
static const struct fsm_transition table[FSM_N_EVENTS][FSM_N_STATES] = {
    [FSM_EV_UP] = {T(0, 2), T(IRC | SCR, 6), X, X, X, X, X, X, X, X},
    [FSM_EV_DOWN] = {X, X, T(0, 0), T(TLS, 1), T(0, 0), T(0, 1), T(0, 1), T(0, 1), T(0, 1),
		     T(TLD, 1)},
    [FSM_EV_OPEN] = {T(TLS, 1), T(0, 1), T(IRC | SCR, 6), T(0, 3), T(0, 5), T(0, 5), T(0, 6),
		     T(0, 7), T(0, 8), T(0, 9)},
    [FSM_EV_CLOSE] = {T(0, 0), T(TLF, 0), T(0, 2), T(0, 2), T(0, 4), T(0, 4), T(IRC | STR, 4),
		      T(IRC | STR, 4), T(IRC | STR, 4), T(TLD | IRC | STR, 4)},
    [FSM_EV_TO_PLUS] = {X, X, X, X, T(STR, 4), T(STR, 5), T(SCR, 6), T(SCR, 6), T(SCR, 8), X},
    [FSM_EV_TO_MINUS] = {X, X, X, X, T(TLF, 2), T(TLF, 3), T(TLF, 3), T(TLF, 3), T(TLF, 3), X},
    [FSM_EV_RCR_PLUS] = {X, X, T(STA, 2), T(IRC | SCR | SCA, 8), T(0, 4), T(0, 5), T(SCA, 8),
			 T(SCA | TLU, 9), T(SCA, 8), T(TLD | SCR | SCA, 8)},
    [FSM_EV_RCR_MINUS] = {X, X, T(STA, 2), T(IRC | SCR | SCN, 6), T(0, 4), T(0, 5), T(SCN, 6),
			  T(SCN, 7), T(SCN, 6), T(TLD | SCR | SCN, 6)},
    [FSM_EV_RCA] = {X, X, T(STA, 2), T(STA, 3), T(0, 4), T(0, 5), T(IRC, 7), T(SCR, 6),
		    T(IRC | TLU, 9), T(TLD | SCR, 6)},
    [FSM_EV_RCN] = {X, X, T(STA, 2), T(STA, 3), T(0, 4), T(0, 5), T(IRC | SCR, 6), T(SCR, 6),
		    T(IRC | SCR, 8), T(TLD | SCR, 6)},
    [FSM_EV_RTR] = {X, X, T(STA, 2), T(STA, 3), T(STA, 4), T(STA, 5), T(STA, 6), T(STA, 6),
		    T(STA, 6), T(TLD | ZRC | STA, 5)},
    [FSM_EV_RTA] = {X, X, T(0, 2), T(0, 3), T(TLF, 2), T(TLF, 3), T(0, 6), T(0, 6), T(0, 8),
		    T(TLD | SCR, 6)},
    [FSM_EV_RUC] = {X, X, T(SCJ, 2), T(SCJ, 3), T(SCJ, 4), T(SCJ, 5), T(SCJ, 6), T(SCJ, 7),
		    T(SCJ, 8), T(SCJ, 9)},
    [FSM_EV_RXJ_PLUS] = {X, X, T(0, 2), T(0, 3), T(0, 4), T(0, 5), T(0, 6), T(0, 6), T(0, 8),
			 T(0, 9)},
    [FSM_EV_RXJ_MINUS] = {X, X, T(TLF, 2), T(TLF, 3), T(TLF, 2), T(TLF, 3), T(TLF, 3), T(TLF, 3),
			  T(TLF, 3), T(TLD | IRC | STR, 5)},
    [FSM_EV_RXR] = {X, X, T(0, 2), T(0, 3), T(0, 4), T(0, 5), T(0, 6), T(0, 7), T(0, 8), T(SER, 9)},
};

static const char *const state_names[FSM_N_STATES] = {
    "Initial",	"Starting", "Closed",	"Stopped",  "Closing",
    "Stopping", "Req-Sent", "Ack-Rcvd", "Ack-Sent", "Opened",
};

static const char *const event_names[FSM_N_EVENTS] = {
    "Up",  "Down", "Open", "Close", "TO+", "TO-",  "RCR+", "RCR-",
    "RCA", "RCN",  "RTR",  "RTA",   "RUC", "RXJ+", "RXJ-", "RXR",
};

const struct fsm_transition *fsm_transition(enum fsm_state s, enum fsm_event ev)
{
	if ((unsigned)s >= FSM_N_STATES || (unsigned)ev >= FSM_N_EVENTS)
		return NULL;
	return &table[ev][s];
}

const char *fsm_state_name(enum fsm_state s)
{
	return (unsigned)s < FSM_N_STATES ? state_names[s] : "?";
}

const char *fsm_event_name(enum fsm_event ev)
{
	return (unsigned)ev < FSM_N_EVENTS ? event_names[ev] : "?";
}

void fsm_config_default(struct fsm_config *c)
{
	*c = (struct fsm_config){
	    .restart_ms = 3000,
	    .max_configure = 10,
	    .max_terminate = 2,
	    .max_failure = 5,
	};
}

void fsm_init(struct fsm *f, const char *name, const char *link, const struct fsm_config *conf,
	      const struct fsm_callbacks *cb, void *cb_data, const struct fsm_owner *own,
	      void *own_ctx)
{
	*f = (struct fsm){
	    .state = FSM_INITIAL,
	    .cb = cb,
	    .cb_data = cb_data,
	    .own = own,
	    .own_ctx = own_ctx,
	    .peer_mru = PPP_DEFAULT_MRU,
	};
	snprintf(f->name, sizeof(f->name), "%s", name ? name : "fsm");
	snprintf(f->link, sizeof(f->link), "%s", link ? link : "");
	if (conf)
		f->conf = *conf;
	else
		fsm_config_default(&f->conf);
}

/* The restart timer runs only in the states that wait for a reply. */
static bool timer_state(enum fsm_state s)
{
	return s >= FSM_CLOSING && s <= FSM_ACK_SENT;
}

static void set_state(struct fsm *f, enum fsm_state s)
{
	if (f->state == s)
		return;
	log_debug("%s[%s]: %s -> %s", f->name, f->link, state_names[f->state], state_names[s]);
	f->state = s;
	if (!timer_state(s) && f->own->timer_cancel)
		f->own->timer_cancel(f->own_ctx);
}

int fsm_send_id(struct fsm *f, uint8_t code, uint8_t id, const void *data, size_t len)
{
	uint8_t pkt[FSM_MAX_PKT];
	struct wbuf w = wbuf_make(pkt, sizeof(pkt));

	wbuf_put8(&w, code);
	wbuf_put8(&w, id);
	wbuf_put16(&w, (uint16_t)(PPP_HDR_LEN + len));
	wbuf_put_bytes(&w, data, len);
	if (!wbuf_ok(&w))
		return -EMSGSIZE;
	f->own->tx(f->own_ctx, pkt, w.len);
	return id;
}

int fsm_send(struct fsm *f, uint8_t code, const void *data, size_t len)
{
	return fsm_send_id(f, code, ++f->id, data, len);
}

static void arm(struct fsm *f)
{
	if (f->own->timer_arm)
		f->own->timer_arm(f->own_ctx, f->conf.restart_ms);
}

/* scr. A retransmission (TO+) repeats the request and its identifier; any
 * other sends a freshly built request under a new identifier, so the
 * identifier changes whenever the content may have. */
static void send_conf_req(struct fsm *f, bool retransmit, enum fsm_state old)
{
	if (!retransmit || !f->have_reqid) {
		if (old != FSM_REQ_SENT && old != FSM_ACK_RCVD && old != FSM_ACK_SENT) {
			/* A new negotiation, not a reply to Nak/Reject. */
			if (f->cb->resetci)
				f->cb->resetci(f);
			f->naks_sent = 0;
		}
		struct wbuf w = wbuf_make(f->req, sizeof(f->req));
		if (f->cb->addci)
			f->cb->addci(f, &w);
		f->req_len = wbuf_ok(&w) ? w.len : 0;
		f->reqid = ++f->id;
		f->have_reqid = true;
	}
	f->seen_reply = false;
	f->restart--;
	fsm_send_id(f, PPP_CONF_REQ, f->reqid, f->req, f->req_len);
	arm(f);
}

static void send_term_req(struct fsm *f, bool retransmit)
{
	if (!retransmit)
		f->termid = ++f->id;
	f->restart--;
	fsm_send_id(f, PPP_TERM_REQ, f->termid, f->reason, strlen(f->reason));
	arm(f);
}

static void send_code_rej(struct fsm *f)
{
	uint8_t pkt[FSM_MAX_PKT];
	struct wbuf w = wbuf_make(pkt, sizeof(pkt));
	size_t room = f->peer_mru < sizeof(pkt) ? f->peer_mru : sizeof(pkt);

	if (!f->rx_valid)
		return;
	if (room < 64)
		room = 64;
	/* The rejected packet, header rebuilt, cut so that the Code-Reject
	 * fits the peer's MRU. */
	size_t n = f->rx_data_len;
	if (n > room - 2 * PPP_HDR_LEN)
		n = room - 2 * PPP_HDR_LEN;
	wbuf_put8(&w, f->rx_code);
	wbuf_put8(&w, f->rx_id);
	wbuf_put16(&w, (uint16_t)(PPP_HDR_LEN + f->rx_data_len));
	wbuf_put_bytes(&w, f->rx_data, n);
	if (wbuf_ok(&w))
		fsm_send(f, PPP_CODE_REJ, pkt, w.len);
}

void fsm_event(struct fsm *f, enum fsm_event ev)
{
	const struct fsm_transition *t = fsm_transition(f->state, ev);
	enum fsm_state old = f->state;

	if (!t || t->next < 0) {
		log_debug("%s[%s]: %s in %s ignored", f->name, f->link, fsm_event_name(ev),
			  fsm_state_name(f->state));
		return;
	}
	uint16_t a = t->actions;
	if (a & TLD && f->cb->down)
		f->cb->down(f);
	set_state(f, (enum fsm_state)t->next);
	if (a & IRC) {
		f->restart = a & STR ? f->conf.max_terminate : f->conf.max_configure;
		f->naks_rcvd = 0;
	}
	if (a & ZRC) {
		/* Restart timer runs so the Terminate-Ack can leave before TO-. */
		f->restart = 0;
		arm(f);
	}
	if (a & SCR)
		send_conf_req(f, ev == FSM_EV_TO_PLUS, old);
	if (a & SCA) {
		f->naks_sent = 0;
		fsm_send_id(f, PPP_CONF_ACK, f->rx_id, f->reply, f->reply_len);
	}
	if (a & SCN) {
		uint8_t code = f->reply_code == PPP_CONF_REJ ? PPP_CONF_REJ : PPP_CONF_NAK;
		if (code == PPP_CONF_NAK)
			f->naks_sent++;
		fsm_send_id(f, code, f->rx_id, f->reply, f->reply_len);
	}
	if (a & STR)
		send_term_req(f, ev == FSM_EV_TO_PLUS);
	if (a & STA)
		fsm_send_id(f, PPP_TERM_ACK, f->rx_id, NULL, 0);
	if (a & SCJ)
		send_code_rej(f);
	if (a & TLU && f->cb->up)
		f->cb->up(f);
	if (a & TLS && f->cb->starting)
		f->cb->starting(f);
	if (a & TLF && f->cb->finished)
		f->cb->finished(f);
}

void fsm_up(struct fsm *f)
{
	fsm_event(f, FSM_EV_UP);
}

void fsm_down(struct fsm *f)
{
	fsm_event(f, FSM_EV_DOWN);
}

void fsm_open(struct fsm *f)
{
	fsm_event(f, FSM_EV_OPEN);
}

void fsm_close(struct fsm *f, const char *reason)
{
	snprintf(f->reason, sizeof(f->reason), "%s", reason ? reason : "");
	fsm_event(f, FSM_EV_CLOSE);
}

void fsm_timeout(struct fsm *f)
{
	fsm_event(f, f->restart > 0 ? FSM_EV_TO_PLUS : FSM_EV_TO_MINUS);
}

bool fsm_rxr(struct fsm *f)
{
	const struct fsm_transition *t = fsm_transition(f->state, FSM_EV_RXR);

	fsm_event(f, FSM_EV_RXR);
	return t->next >= 0 && (t->actions & SER);
}

void fsm_rxj(struct fsm *f, bool catastrophic)
{
	fsm_event(f, catastrophic ? FSM_EV_RXJ_MINUS : FSM_EV_RXJ_PLUS);
}

static int discard(struct fsm *f, const char *why, uint8_t code)
{
	f->n_discarded++;
	log_debug("%s[%s]: discarded code %u in %s: %s", f->name, f->link, code,
		  fsm_state_name(f->state), why);
	return -EBADMSG;
}

static int rcv_conf_req(struct fsm *f, struct rbuf data)
{
	struct wbuf w = wbuf_make(f->reply, sizeof(f->reply));
	int r;

	switch (f->state) {
	case FSM_INITIAL:
	case FSM_STARTING:
		return discard(f, "lower layer not up", PPP_CONF_REQ);
	case FSM_CLOSED:
	case FSM_CLOSING:
	case FSM_STOPPING:
		/* Answered (sta) or ignored without judging the options. */
		fsm_event(f, FSM_EV_RCR_PLUS);
		return 0;
	case FSM_STOPPED:
	case FSM_REQ_SENT:
	case FSM_ACK_RCVD:
	case FSM_ACK_SENT:
	case FSM_OPENED:
		break;
	}
	bool reject = f->conf.max_failure > 0 && f->naks_sent >= f->conf.max_failure;
	r = f->cb->reqci(f, data, &w, reject);
	if (r < 0)
		return discard(f, "malformed Configure-Request", PPP_CONF_REQ);
	if (!wbuf_ok(&w))
		return discard(f, "Configure-Request too long to answer", PPP_CONF_REQ);
	f->reply_len = w.len;
	f->reply_code = (uint8_t)r;
	fsm_event(f, r == FSM_REPLY_ACK ? FSM_EV_RCR_PLUS : FSM_EV_RCR_MINUS);
	return 0;
}

static int rcv_conf_reply(struct fsm *f, uint8_t code, uint8_t id, struct rbuf data)
{
	if (!f->have_reqid || id != f->reqid)
		return discard(f, "identifier does not match our request", code);
	if (f->seen_reply)
		return discard(f, "second reply to one request", code);
	if (code == PPP_CONF_ACK) {
		if (data.len != f->req_len || (data.len && memcmp(data.p, f->req, data.len)))
			return discard(f, "Configure-Ack differs from our request", code);
		if (f->cb->ackci)
			f->cb->ackci(f, data);
		f->seen_reply = true;
		fsm_event(f, FSM_EV_RCA);
		return 0;
	}
	int r;
	if (code == PPP_CONF_NAK) {
		bool as_rej = f->conf.max_failure > 0 && f->naks_rcvd >= f->conf.max_failure;
		r = f->cb->nakci ? f->cb->nakci(f, data, as_rej) : 0;
		if (r == 0)
			f->naks_rcvd++;
	} else {
		r = f->cb->rejci ? f->cb->rejci(f, data) : 0;
	}
	if (r < 0)
		return discard(f, "bad Configure-Nak/Reject", code);
	f->seen_reply = true;
	fsm_event(f, FSM_EV_RCN);
	return 0;
}

int fsm_input(struct fsm *f, uint8_t code, uint8_t id, struct rbuf data)
{
	int r = 0;
	uint8_t rej;

	f->rx_code = code;
	f->rx_id = id;
	f->rx_data = data.p;
	f->rx_data_len = data.len;
	f->rx_valid = true;
	f->reply_len = 0;

	switch (code) {
	case PPP_CONF_REQ:
		r = rcv_conf_req(f, data);
		break;
	case PPP_CONF_ACK:
	case PPP_CONF_NAK:
	case PPP_CONF_REJ:
		r = rcv_conf_reply(f, code, id, data);
		break;
	case PPP_TERM_REQ:
		fsm_event(f, FSM_EV_RTR);
		break;
	case PPP_TERM_ACK:
		fsm_event(f, FSM_EV_RTA);
		break;
	case PPP_CODE_REJ:
		if (rbuf_peek8(&data, 0, &rej) < 0) {
			r = discard(f, "empty Code-Reject", code);
			break;
		}
		/* Without 1-7 the automaton cannot work (RFC 1661 §5.6). */
		if (rej >= PPP_CONF_REQ && rej <= PPP_CODE_REJ) {
			log_info("%s[%s]: peer rejected code %u", f->name, f->link, rej);
			fsm_event(f, FSM_EV_RXJ_MINUS);
		} else {
			if (f->cb->code_rejected && f->state == FSM_OPENED)
				f->cb->code_rejected(f, rej);
			fsm_event(f, FSM_EV_RXJ_PLUS);
		}
		break;
	default:
		if (f->state == FSM_INITIAL || f->state == FSM_STARTING) {
			r = discard(f, "lower layer not up", code);
			break;
		}
		if (!f->cb->extcode || !f->cb->extcode(f, code, id, data))
			fsm_event(f, FSM_EV_RUC);
		break;
	}
	f->rx_valid = false;
	f->rx_data = NULL;
	return r;
}

int fsm_input_packet(struct fsm *f, const uint8_t *pkt, size_t len)
{
	struct rbuf r = rbuf_make(pkt, len), data;
	uint8_t code, id;
	uint16_t plen;

	if (rbuf_get8(&r, &code) < 0 || rbuf_get8(&r, &id) < 0 || rbuf_get16(&r, &plen) < 0)
		return discard(f, "short header", 0);
	if (plen < PPP_HDR_LEN || rbuf_sub(&r, plen - PPP_HDR_LEN, &data) < 0)
		return discard(f, "bad length", code);
	return fsm_input(f, code, id, data);
}
