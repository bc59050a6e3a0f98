/* LCP on one link (RFC 1661 §5-6, RFC 1990 §5.1): negotiation policy on
 * top of fsm.c and lcp_opts.c, Echo with timestamps for RTT, Protocol- and
 * Code-Reject, RFC 2153 vendor packets passed to the owner.
 *
 * The owner (a bundle link) frames what tx gives it with FF 03 C0 21, feeds
 * received LCP packets (the frame's information field) to lcp_input, runs the
 * restart timer and the echo schedule, and supplies randomness for the
 * Magic-Number. Times are microseconds on the owner's monotonic clock. */
#pragma once
#include "buf.h"
#include "fsm.h"
#include "lcp_opts.h"

#include <stdbool.h>
#include <stdint.h>

/* Authentication protocols, as a set. */
enum {
	LCP_AUTH_PAP = 1 << 0,
	LCP_AUTH_CHAP_MD5 = 1 << 1,
};

#define LCP_MIN_MRU 128 /* smaller MRU/MRRU requests are Nak'd up to this */

struct lcp_config {
	uint16_t mru;	   /* asked for; the link MTU minus IP/UDP overhead */
	uint16_t mrru;	   /* 0: no multilink (peer's MRRU/SSNHF rejected) */
	bool ssnhf;	   /* ask to receive 12-bit sequence numbers */
	bool accept_ssnhf; /* agree to send them when the peer asks */
	bool pfc, acfc;	   /* ask for them */
	bool has_ed;	   /* send our Endpoint Discriminator */
	struct lcp_ed ed;
	unsigned require_auth; /* LCP_AUTH_* the peer must use (CHAP preferred) */
	unsigned accept_auth;  /* LCP_AUTH_* we agree to authenticate with */
	unsigned loopback_max; /* equal Magic-Numbers before "looped back" (5) */
	struct fsm_config fsm;
};

/* What was negotiated; valid from the up callback until down. "rx" is what
 * the peer sends us, "tx" what we send it. */
struct lcp_result {
	uint16_t our_mru;   /* largest frame the peer may send us */
	uint16_t peer_mru;  /* largest frame we may send */
	uint16_t our_mrru;  /* 0 unless the peer acked ours */
	uint16_t peer_mrru; /* 0 unless the peer offered one (and we acked) */
	bool multilink;	    /* both MRRUs: MP both ways on this link */
	bool ssn_rx, ssn_tx;
	bool pfc_rx, pfc_tx;
	bool acfc_rx, acfc_tx;
	uint16_t auth_peer; /* protocol we authenticate the peer with, 0 none */
	uint8_t auth_peer_alg;
	uint16_t auth_us; /* protocol the peer authenticates us with, 0 none */
	uint8_t auth_us_alg;
	bool peer_ed_present;
	struct lcp_ed peer_ed;
	uint32_t our_magic, peer_magic; /* 0 when not negotiated */
};

struct lcp_ops {
	/* tx gets one LCP packet (code, id, length, data); timer for fsm. */
	struct fsm_owner io;
	uint32_t (*random32)(void *ctx);
	void (*up)(void *ctx, const struct lcp_result *res);
	void (*down)(void *ctx);
	void (*starting)(void *ctx); /* LCP wants the link: call lcp_up */
	void (*finished)(void *ctx); /* LCP is done with the link */
	/* An Echo-Reply to one of our requests; may be NULL. */
	void (*echo_rtt)(void *ctx, uint32_t seq, uint64_t rtt_us);
	/* The peer Protocol-Rejected proto: stop sending it. May be NULL. */
	/* info: the start of the rejected information (truncated by the peer
	 * to its MRU), so the owner can tell what was lost. */
	void (*protocol_rejected)(void *ctx, uint16_t proto, const uint8_t *info, size_t len);
	/* The peer Code-Rejected one of our codes (0 = vendor). May be NULL. */
	void (*code_rejected)(void *ctx, uint8_t code);
	/* The link is looped back; LCP closes itself. May be NULL. */
	void (*looped_back)(void *ctx);
	/* RFC 2153 packet (code 0) in Opened: data from the OUI on. NULL:
	 * vendor packets are Code-Rejected. */
	void (*vendor)(void *ctx, uint8_t id, struct rbuf data);
};

struct lcp;

void lcp_config_default(struct lcp_config *c);
/* c and ops are copied / kept by pointer (ops must outlive the lcp). */
struct lcp *lcp_new(const char *link, const struct lcp_config *c, const struct lcp_ops *ops,
		    void *ctx);
/* NULL-safe; returns NULL. Sends nothing. */
struct lcp *lcp_free(struct lcp *l);

/* The MRU to ask for from the next negotiation on. */
void lcp_set_mru(struct lcp *l, uint16_t mru);

void lcp_up(struct lcp *l);
void lcp_down(struct lcp *l);
void lcp_open(struct lcp *l);
void lcp_close(struct lcp *l, const char *reason);
void lcp_timeout(struct lcp *l);

/* One received LCP packet. 0, or -EBADMSG when it was discarded. */
int lcp_input(struct lcp *l, const uint8_t *pkt, size_t len, uint64_t now_us);

/* Echo-Request carrying our magic, now_us (8 bytes) and a sequence number.
 * Returns the sequence number, or -ENOTCONN outside Opened. */
int64_t lcp_send_echo(struct lcp *l, uint64_t now_us);
/* Protocol-Reject of a frame for proto whose information field is info,
 * cut to the peer's MRU. -ENOTCONN outside Opened. */
int lcp_send_protocol_reject(struct lcp *l, uint16_t proto, const uint8_t *info, size_t len);
/* RFC 2153 packet: data starts with the OUI. Returns the identifier,
 * -ENOTCONN outside Opened, -EMSGSIZE beyond the peer's MRU. */
int lcp_send_vendor(struct lcp *l, const void *data, size_t len);

enum fsm_state lcp_state(const struct lcp *l);
/* The negotiated values (meaningful in Opened). */
const struct lcp_result *lcp_result(const struct lcp *l);
struct fsm *lcp_fsm(struct lcp *l);
