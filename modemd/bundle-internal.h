/* Internals of the bundle shared by its files: bundle.c (membership,
 * send/receive, transmit queue) and bundle_loss.c (null fragments,
 * retransmission). Not for other modules. */
#pragma once
#include "bundle.h"
#include "mp.h"
#include "mp_reasm.h"
#include "mp_retx.h"

struct ncp_slot {
	uint16_t proto;
	bundle_ncp_fn fn;
	void *ncp;
};

/* A packet waiting for a link's cap to open. */
struct txq_ent {
	uint16_t proto;
	uint32_t len;
	uint64_t at_us; /* queued */
	uint8_t *data;
};

#define TXQ_MIN_BYTES 16384u
#define TXQ_AGE_MULT  5u /* a packet older than 5 x txq_ms is dropped */

struct bundle {
	char name[32];
	char peer_name[SECRET_NAME_MAX + 1];
	bool has_peer_ed;
	struct lcp_ed peer_ed;
	struct bundle_config c;
	const struct bundle_ops *ops;
	void *ctx;
	struct pclock clk;
	void *t_reasm;

	struct plink *member[BUNDLE_MAX_LINKS];
	uint64_t last_mp_ms[BUNDLE_MAX_LINKS]; /* last MP frame from each member */
	size_t n_members;

	/* Fixed by the first link that joins (RFC 1990 §5.1.3, FreeBSD). */
	bool params_set;
	bool multilink;
	uint16_t our_mrru, peer_mrru;
	bool ssn_rx, ssn_tx;

	struct mp_tx *tx;
	struct mp_reasm *reasm;
	struct sched sched;
	struct ncp_slot ncp[BUNDLE_MAX_NCP];
	struct plink *rx_link; /* member whose frame is being handled */
	bool blocked;	       /* a send got -EAGAIN: tell the owner when to retry */

	/* Transmit queue: a ring of c.txq_max_pkts entries. */
	struct txq_ent *txq;
	uint32_t txq_head, txq_n;
	uint64_t txq_bytes;
	void *t_txq;
	bool draining;
	uint64_t txq_queued, txq_dropped, txq_aqm_dropped;
	/* CoDel state (bundle_txq.c). */
	uint64_t cd_first_above, cd_drop_next;
	uint32_t cd_count, cd_lastcount;
	bool cd_dropping;

	uint64_t tx_pkts, tx_bytes, tx_frames, tx_blocked;
	uint64_t rx_pkts, rx_plain, rx_rejected;
	uint64_t tx_resent;	  /* MP fragments sent again after a Protocol-Reject */
	uint64_t tx_nulls;	  /* null fragments on idle links (send_nulls) */
	uint32_t last_resent_seq; /* each number is resent once at most */
	/* Retransmission (bundle_loss.c). */
	struct mp_retx *retx; /* sent fragments, once the peer is ours */
	uint64_t tx_retx;     /* fragments sent again on request */
	uint64_t retx_asked;  /* numbers the peer asked for */
	uint64_t rx_nacks;    /* requests we sent */
	uint64_t tx_rescued;  /* fragments resent because their link fell silent */
	bool resent_any;
};

static inline uint64_t now_us(const struct bundle *b)
{
	return pclock_now_us(&b->clk);
}

static inline struct plink *member_by_id(const struct bundle *b, uint32_t id)
{
	for (size_t i = 0; i < b->n_members; i++)
		if (plink_id(b->member[i]) == id)
			return b->member[i];
	return NULL;
}

/* Sent fragments kept for the peer's retransmit requests: 2048 frames
 * (~3 MiB) cover a request's round trip on a cellular bundle at tens of
 * Mbit/s. Allocated only once the peer shows it is ours (per-link
 * feedback), so never towards pppd. */
#define BUNDLE_RETX_SLOTS    2048
#define BUNDLE_RETX_BYTES    1536
#define BUNDLE_RETX_SLACK_MS 30

/* mp_tx_cb: one MP frame on member `link` (kept for retransmission). */
int bundle_frag_tx_(void *ctx, uint32_t link, uint8_t *frame, size_t len);
/* After a packet went out: null fragments on idle members (bundle_loss.c). */
void bundle_send_nulls_(struct bundle *b, uint64_t now);
/* mp_reasm_cfg.nack: ask the peer for these numbers again. */
bool bundle_reasm_nack_(void *ctx, uint32_t seq, uint32_t count);
/* Keep a copy of an MP frame just sent, for the peer's requests. */
void bundle_retx_store_(struct bundle *b, uint32_t link, const uint8_t *frame, size_t len);
bool bundle_retx_drain_(struct bundle *b, uint64_t now);
/* The transmit queue (bundle_txq.c). */
int bundle_txq_init_(struct bundle *b);
void bundle_txq_free_(struct bundle *b);
void bundle_txq_drain_(struct bundle *b); /* copies, then queued packets */
/* Multilink send of one packet now (bundle.c): 0, -EAGAIN (every link at
 * its cap), -ENETDOWN, or an error from the links. */
int bundle_send_now_(struct bundle *b, uint16_t proto, const uint8_t *pkt, size_t len,
		     uint64_t now);
bool bundle_any_alive_(const struct bundle *b);
uint32_t bundle_retx_next_size_(struct bundle *b);
/* A member left the schedule (suspect, dead): resend what it may have lost. */
void bundle_rescue_(struct bundle *b, struct plink *pl);
