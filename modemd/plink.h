/* One bundle member = one UDP path: the per-link PPP machine (RFC 1661 §3.2
 * phases) around LCP, PAP/CHAP, the link's estimates (linkest) and RFC 2153
 * per-link feedback (vendor.h).
 *
 *   Dead -> Establish (LCP) -> Authenticate (PAP/CHAP, both ways as LCP
 *   negotiated) -> Network (the owner attached it to a bundle) -> Terminate
 *
 * Input is a whole datagram (one PPP frame, plink_input). LCP, PAP and CHAP
 * are handled here; MP (0x003D) and the network protocols (IP, IPv6, IPCP,
 * IPV6CP) go to the bundle the link is attached to; anything else in LCP
 * Opened is Protocol-Rejected (CCP, LQR, ...). Before LCP is Opened non-LCP
 * frames are discarded (RFC 1661 §3.4), before Network network frames too.
 *
 * No I/O: datagrams leave through ops->send, time and timers come from a
 * struct pclock (pclock_loop() in the daemon, a virtual clock in tests).
 * Callbacks never free the plink: the owner defers that (loop round). */
#pragma once
#include "buf.h"
#include "lcp.h"
#include "linkest.h"
#include "secrets.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct loop;
struct bundle;

/* ---- clock and timers, replaceable ---- */

/* Timers are opaque handles (void *) of the clock's own making. */
typedef void (*ptimer_fn)(void *arg);

struct pclock_ops {
	uint64_t (*now_us)(void *ctx);				/* monotonic */
	void *(*timer_new)(void *ctx, ptimer_fn fn, void *arg); /* NULL: no memory */
	/* One-shot, relative; re-arming replaces the deadline. */
	void (*timer_arm)(void *t, uint64_t ms);
	void (*timer_cancel)(void *t);
	void (*timer_free)(void *t); /* NULL-safe */
};

struct pclock {
	const struct pclock_ops *ops;
	void *ctx;
};

/* A clock over loop.h timers (one loop_timer per need) and CLOCK_MONOTONIC. */
void pclock_loop(struct pclock *c, struct loop *l);
static inline uint64_t pclock_now_us(const struct pclock *c)
{
	return c->ops->now_us(c->ctx);
}

/* ---- the link ---- */

enum plink_phase {
	PLINK_DEAD,
	PLINK_ESTABLISH,
	PLINK_AUTHENTICATE,
	PLINK_NETWORK,
	PLINK_TERMINATE,
};
const char *plink_phase_name(enum plink_phase p);

#define PLINK_NAME_MAX	       24
#define PLINK_MAX_FRAME	       8192 /* largest datagram we build (plain frames, LCP) */
#define PLINK_ECHO_MS	       100
#define PLINK_FEEDBACK_MS      100
#define PLINK_FEEDBACK_BUSY_MS 40 /* while MP data arrives on the link */

struct plink_config {
	uint32_t id;		 /* unique per bundle side: MP/scheduler link id */
	const char *name;	 /* for log lines ("ppp-m1", "203.0.113.9:4711") */
	const char *our_name;	 /* we authenticate as / challenge with */
	const char *remote_name; /* PAP client: secrets server column; NULL: first for our_name */
	unsigned require_auth;	 /* LCP_AUTH_* the peer must use; 0 none */
	unsigned accept_auth;	 /* LCP_AUTH_* we agree to be authenticated with */
	const struct secrets *secrets; /* not copied; outlives the plink */
	uint16_t mru;		       /* link MTU minus IP/UDP header */
	uint16_t mrru;		       /* 0: no multilink */
	bool ssnhf;		       /* ask for 12-bit sequence numbers */
	bool accept_ssnhf;	       /* send them when the peer asks */
	bool has_ed;
	struct lcp_ed ed;
	uint32_t echo_interval_ms;     /* 0: PLINK_ECHO_MS; halved while suspect */
	uint32_t feedback_interval_ms; /* send per-link feedback (receiver); 0: never */
	bool no_vendor;		       /* behave like a plain peer: Code-Reject RFC 2153 */
	struct linkest_params est;     /* zero: linkest defaults */
	struct fsm_config fsm;	       /* zero: RFC defaults */
};

void plink_config_default(struct plink_config *c);

struct plink;

struct plink_ops {
	/* One datagram (a whole PPP frame) to the transport. 0 or -errno. */
	int (*send)(void *ctx, struct plink *pl, const uint8_t *dgram, size_t len);
	/* LCP Opened and authentication done both ways: the owner picks the
	 * bundle (RFC 1990 §5.1.3: peer name + ED) and calls bundle_attach, or
	 * plink_close. peer_name is "" when the peer was not authenticated,
	 * peer_ed NULL when it sent none. */
	void (*authenticated)(void *ctx, struct plink *pl, const char *peer_name,
			      const struct lcp_ed *peer_ed, const struct lcp_result *res);
	/* Liveness: the link went silent (dead, out of the schedule) or came
	 * back. Optional. */
	void (*link_dead)(void *ctx, struct plink *pl);
	void (*link_alive)(void *ctx, struct plink *pl);
	/* Left the Network phase (LCP down, terminated, auth failed); the link
	 * was detached from its bundle before. reason is static text. */
	void (*down)(void *ctx, struct plink *pl, const char *reason);
	/* LCP is finished with the link (Dead): the owner may free it later
	 * (not from inside this callback) or plink_open it again. Optional. */
	void (*finished)(void *ctx, struct plink *pl);
	/* Randomness for Magic-Numbers and CHAP challenges. NULL: getrandom. */
	uint32_t (*random32)(void *ctx);
};

struct plink_stats {
	enum plink_phase phase;
	enum link_liveness liveness;
	uint32_t srtt_us, rttvar_us, min_rtt_us;
	uint32_t loss_ppm;	    /* from the peer's feedback */
	uint64_t rate_out_Bps;	    /* delivery rate the peer reports (feedback) */
	int64_t in_flight;	    /* bytes sent, not yet reported received; -1 unknown */
	uint64_t rate_in_Bps;	    /* what we received, last second */
	int share_permille;	    /* of the bundle's scheduled bytes, -1 unknown */
	uint64_t tx_bytes, tx_pkts; /* datagrams */
	uint64_t rx_bytes, rx_pkts;
	uint64_t rx_discarded;	 /* malformed or not acceptable in this phase */
	uint64_t proto_rejected; /* frames we Protocol-Rejected */
	uint64_t feedback_tx, feedback_rx;
	bool vendor_rejected; /* the peer Code-Rejected our vendor packets */
};

struct plink *plink_new(const struct plink_config *c, const struct plink_ops *ops, void *ctx,
			const struct pclock *clk);
/* NULL-safe; detaches from its bundle, sends nothing; returns NULL. */
struct plink *plink_free(struct plink *pl);

/* Start LCP (active open: the transport is a socket, always "up"). */
void plink_open(struct plink *pl);
/* Terminate: Terminate-Request with reason, then Dead (finished). */
void plink_close(struct plink *pl, const char *reason);
/* The MRU for the next negotiation (path MTU changed). */
void plink_set_mru(struct plink *pl, uint16_t mru);

/* One received datagram. 0, or a negative errno when it was discarded
 * (-EBADMSG malformed, -ENOTCONN not acceptable in this phase,
 * -EPROTONOSUPPORT rejected). Never fatal for the link. */
int plink_input(struct plink *pl, const uint8_t *dgram, size_t len);

/* A frame with protocol proto to the peer on this link (plain network
 * frames, NCPs when no MP). 0 or -errno. */
int plink_send_proto(struct plink *pl, uint16_t proto, const uint8_t *info, size_t len);
/* An MP Information field with MP_TX_HEADROOM writable bytes in front. */
int plink_send_mp(struct plink *pl, uint8_t *frame, size_t len);
/* The peer speaks our RFC 2153 extensions (LCP up, never Code-Rejected). */
bool plink_vendor_ok(const struct plink *pl);
/* Ask the peer to resend MP numbers seq .. seq + count - 1 (vendor.h). */
int plink_send_nack(struct plink *pl, uint32_t seq, uint32_t count);

enum plink_phase plink_phase(const struct plink *pl);
uint32_t plink_id(const struct plink *pl);
const char *plink_name(const struct plink *pl);
struct bundle *plink_bundle(const struct plink *pl);
/* Valid from authenticated() until down(). */
const struct lcp_result *plink_lcp_result(const struct plink *pl);
const char *plink_peer_name(const struct plink *pl);
struct linkest *plink_est(struct plink *pl);
const struct linkest *plink_est_const(const struct plink *pl);
void plink_get_stats(const struct plink *pl, struct plink_stats *st);
struct lcp *plink_lcp(struct plink *pl);

/* For bundle.c only: membership bookkeeping. */
void plink_set_bundle_(struct plink *pl, struct bundle *b);
