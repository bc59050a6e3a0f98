/* The RFC 1661 §4 option negotiation automaton, shared by LCP, IPCP and
 * IPV6CP. Table-driven: fsm.c holds the §4.1 table of (event, state) ->
 * (actions, new state); every state change goes through one function that
 * logs "lcp[link]: Req-Sent -> Ack-Rcvd" at debug.
 *
 * The protocol (LCP, IPCP, ...) plugs in through fsm_callbacks, modelled on
 * pppd's fsm.h; the owner (link or bundle) through fsm_owner: it sends the
 * control packets fsm hands to tx (code, id, length, data: the owner adds
 * the PPP frame header) and runs one restart timer, calling fsm_timeout()
 * when it fires. No I/O and no clock here.
 *
 * tx must not feed a packet back into fsm_input() of the same automaton
 * synchronously (queue it): actions of one event complete before the next.
 *
 * Deviations from the letter of RFC 1661, each on purpose:
 * - a Configure-Ack/Nak/Reject whose identifier is not the one of our
 *   outstanding Configure-Request, or a second reply to the same request
 *   (datagram duplication), is discarded before it becomes an event, so the
 *   RCA/RCN "crossed connection" cells of Ack-Rcvd and Opened are only
 *   reached through fsm_event();
 * - no restart option (the "r" footnote) and no passive option ("p").
 */
#pragma once
#include "buf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum fsm_state {
	FSM_INITIAL,
	FSM_STARTING,
	FSM_CLOSED,
	FSM_STOPPED,
	FSM_CLOSING,
	FSM_STOPPING,
	FSM_REQ_SENT,
	FSM_ACK_RCVD,
	FSM_ACK_SENT,
	FSM_OPENED,
};
#define FSM_N_STATES 10

enum fsm_event {
	FSM_EV_UP,
	FSM_EV_DOWN,
	FSM_EV_OPEN,
	FSM_EV_CLOSE,
	FSM_EV_TO_PLUS,
	FSM_EV_TO_MINUS,
	FSM_EV_RCR_PLUS,
	FSM_EV_RCR_MINUS,
	FSM_EV_RCA,
	FSM_EV_RCN,
	FSM_EV_RTR,
	FSM_EV_RTA,
	FSM_EV_RUC,
	FSM_EV_RXJ_PLUS,
	FSM_EV_RXJ_MINUS,
	FSM_EV_RXR,
};
#define FSM_N_EVENTS 16

/* RFC 1661 §4.4 actions, as bits of fsm_transition.actions. */
enum fsm_action {
	FSM_A_TLU = 1 << 0,
	FSM_A_TLD = 1 << 1,
	FSM_A_TLS = 1 << 2,
	FSM_A_TLF = 1 << 3,
	FSM_A_IRC = 1 << 4,
	FSM_A_ZRC = 1 << 5,
	FSM_A_SCR = 1 << 6,
	FSM_A_SCA = 1 << 7,
	FSM_A_SCN = 1 << 8,
	FSM_A_STR = 1 << 9,
	FSM_A_STA = 1 << 10,
	FSM_A_SCJ = 1 << 11,
	FSM_A_SER = 1 << 12,
};

struct fsm_transition {
	uint16_t actions;
	int8_t next; /* -1: illegal event in this state ("-") */
};

/* The §4.1 cell for (state, event). */
const struct fsm_transition *fsm_transition(enum fsm_state s, enum fsm_event ev);
const char *fsm_state_name(enum fsm_state s);
const char *fsm_event_name(enum fsm_event ev);

/* Largest control packet fsm builds or answers (requests, replies, rejects). */
#define FSM_MAX_PKT 1500
/* Largest Configure-Request we send. */
#define FSM_MAX_REQ    256
#define FSM_MAX_REASON 64

struct fsm;

/* What reqci decided about a peer's Configure-Request. */
enum fsm_reply {
	FSM_REPLY_ACK = 2, /* == PPP_CONF_ACK */
	FSM_REPLY_NAK = 3,
	FSM_REPLY_REJ = 4,
};

struct fsm_callbacks {
	/* Start a fresh negotiation: our request from configuration again. */
	void (*resetci)(struct fsm *f);
	/* Write our Configure-Request options (at most FSM_MAX_REQ - 4 bytes). */
	void (*addci)(struct fsm *f, struct wbuf *w);
	/* The peer acked our request: its options equal what addci wrote (fsm
	 * has checked); record them as negotiated. May be NULL. */
	void (*ackci)(struct fsm *f, struct rbuf opts);
	/* Adjust the next request after a Nak. treat_as_reject after
	 * Max-Failure Naks in a row: drop the options instead of adopting the
	 * peer's values. Returns 0, or <0 to discard a malformed Nak. */
	int (*nakci)(struct fsm *f, struct rbuf opts, bool treat_as_reject);
	/* Drop rejected options from the next request; <0 discards a Reject
	 * that names options we did not send. */
	int (*rejci)(struct fsm *f, struct rbuf opts);
	/* Judge the peer's request: write the Ack (all options verbatim), Nak
	 * (our suggestions) or Reject (the refused options verbatim) options to
	 * reply and return which. reject_if_disagree after Max-Failure Naks
	 * without an Ack: Reject what would have been Nak'd. <0 discards a
	 * malformed request. */
	int (*reqci)(struct fsm *f, struct rbuf opts, struct wbuf *reply, bool reject_if_disagree);
	void (*up)(struct fsm *f);	 /* tlu */
	void (*down)(struct fsm *f);	 /* tld */
	void (*starting)(struct fsm *f); /* tls */
	void (*finished)(struct fsm *f); /* tlf */
	/* A code other than 1-7. Return true if known (handled or ignored),
	 * false to send Code-Reject (RUC). May be NULL. */
	bool (*extcode)(struct fsm *f, uint8_t code, uint8_t id, struct rbuf data);
	/* The peer Code-Rejected one of our codes other than 1-7 (RXJ+), e.g.
	 * an RFC 2153 vendor packet. May be NULL. */
	void (*code_rejected)(struct fsm *f, uint8_t code);
};

struct fsm_owner {
	void (*tx)(void *ctx, const uint8_t *pkt, size_t len);
	void (*timer_arm)(void *ctx, uint32_t ms);
	void (*timer_cancel)(void *ctx);
};

struct fsm_config {
	uint32_t restart_ms; /* 3000 */
	int max_configure;   /* 10 */
	int max_terminate;   /* 2 */
	int max_failure;     /* 5 */
};

struct fsm {
	char name[8];  /* "lcp", "ipcp" */
	char link[24]; /* link or bundle name, for log lines */
	enum fsm_state state;
	struct fsm_config conf;
	const struct fsm_callbacks *cb;
	void *cb_data; /* the protocol's own state (struct lcp *) */
	const struct fsm_owner *own;
	void *own_ctx;

	uint8_t id;	 /* last identifier used */
	uint8_t reqid;	 /* identifier of our outstanding Configure-Request */
	bool seen_reply; /* a reply to reqid was processed */
	bool have_reqid; /* reqid is meaningful */
	int restart;	 /* restart counter */
	int naks_sent;	 /* Configure-Naks sent since the last Configure-Ack */
	int naks_rcvd;	 /* Configure-Naks received since irc */
	size_t peer_mru; /* bound for Code-Reject (default 1500) */

	uint8_t req[FSM_MAX_REQ]; /* our last Configure-Request, for retransmits */
	size_t req_len;
	uint8_t termid;
	char reason[FSM_MAX_REASON]; /* Terminate-Request data */

	/* Context of the packet being handled, for sca/scn/sta/scj. */
	uint8_t rx_id;
	uint8_t reply_code;
	uint8_t reply[FSM_MAX_PKT];
	size_t reply_len;
	const uint8_t *rx_data;
	size_t rx_data_len;
	uint8_t rx_code;
	bool rx_valid;

	unsigned long n_discarded; /* malformed or unexpected packets */
};

void fsm_config_default(struct fsm_config *c);
/* conf NULL: defaults. name/link are copied (truncated). */
void fsm_init(struct fsm *f, const char *name, const char *link, const struct fsm_config *conf,
	      const struct fsm_callbacks *cb, void *cb_data, const struct fsm_owner *own,
	      void *own_ctx);

/* Administrative and lower-layer events. reason goes into Terminate-Request. */
void fsm_up(struct fsm *f);
void fsm_down(struct fsm *f);
void fsm_open(struct fsm *f);
void fsm_close(struct fsm *f, const char *reason);
/* The restart timer fired: TO+ or TO- by the restart counter. */
void fsm_timeout(struct fsm *f);

/* One received control packet, header included; bytes beyond the Length
 * field are padding (RFC 1661 §5). Returns 0, or -EBADMSG when discarded. */
int fsm_input_packet(struct fsm *f, const uint8_t *pkt, size_t len);
/* The same with the header already split off. */
int fsm_input(struct fsm *f, uint8_t code, uint8_t id, struct rbuf data);

/* Raise an event directly (tests; RXJ from an LCP Protocol-Reject). */
void fsm_event(struct fsm *f, enum fsm_event ev);
/* For extcode handlers: RXR (Echo, Discard). Returns true when the packet
 * may be answered (ser: only in Opened). */
bool fsm_rxr(struct fsm *f);
/* For extcode handlers: RXJ+ (false) or RXJ- (true). */
void fsm_rxj(struct fsm *f, bool catastrophic);

/* Send a control packet with a fresh identifier (Echo, Protocol-Reject,
 * vendor packets). Returns the identifier or -EMSGSIZE. */
int fsm_send(struct fsm *f, uint8_t code, const void *data, size_t len);
/* Send with a given identifier (replies). */
int fsm_send_id(struct fsm *f, uint8_t code, uint8_t id, const void *data, size_t len);

static inline enum fsm_state fsm_get_state(const struct fsm *f)
{
	return f->state;
}
static inline int fsm_restart_count(const struct fsm *f)
{
	return f->restart;
}
