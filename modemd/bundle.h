/* The MP bundle (RFC 1990): the links (plink.h) that authenticated as one
 * peer, one sequence space, one reassembler, one scheduler, and the NCPs.
 *
 * The owner creates a bundle when the first link of a peer authenticates
 * (bundle_matches() finds it for the next ones: peer name + endpoint
 * discriminator, RFC 1990 §5.1.3) and attaches links with bundle_attach().
 * The first link fixes the bundle's multilink parameters (both MRRUs, both
 * sequence formats); a later link that disagrees is refused with -EINVAL
 * and a reason (FreeBSD ppp does the same), the owner logs it and closes
 * that link. Links attach and detach at any time; sequence numbers and the
 * reassembler survive, so a re-dialed link (new address, new plink) rejoins
 * without disturbing the others.
 *
 * Transmit: bundle_send(proto, pkt) -> sched_pick -> the packet whole (B+E)
 * on the chosen link when it fits that link's MRU, else fragments on that
 * link; the `redundant` policy sends the same sequence numbers on two links
 * (the receiver drops the copy). Without multilink on the only link: plain
 * frames. NCP packets go the same way (MP-encapsulated, as Linux does).
 * Receive: MP frames -> mp_reasm -> IP/IPv6 to ops->deliver, IPCP/IPV6CP to
 * the handler set with bundle_set_ncp_handler(); other protocols are
 * Protocol-Rejected on the link they came in on. Plain frames on a member
 * are dispatched the same way, unsequenced. */
#pragma once
#include "lcp_opts.h"
#include "mp_reasm.h"
#include "plink.h"
#include "mpsched.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BUNDLE_MAX_LINKS SCHED_MAX_LINKS
#define BUNDLE_MAX_NCP	 4

struct bundle_config {
	const char *name; /* for log lines */
	struct sched_params sched;
	size_t reasm_max_frags; /* 0: mp_reasm default (256) */
	size_t reasm_max_bytes; /* 0: mp_reasm default (512 KiB) */
	uint32_t wait_min_ms;	/* 0: mp_reasm defaults (20..500 ms) */
	uint32_t wait_max_ms;
	/* Transmit queue for packets no link can take yet (all at their
	 * in-flight cap): at most txq_max_pkts packets and txq_ms at the
	 * members' current aggregate rate (at least 16 KiB, at most
	 * txq_max_bytes); beyond that the oldest is dropped (counted). A packet
	 * queued longer than 5 x txq_ms is dropped too. txq_max_pkts 0: no
	 * queue, bundle_send returns -EAGAIN as before. */
	uint32_t txq_max_pkts;	/* 256 */
	uint32_t txq_ms;	/* 100 */
	uint32_t txq_max_bytes; /* 2 MiB */
	/* CoDel (RFC 8289, 10 ms target, 100 ms interval) at the queue's head
	 * unless set: keeps a TCP upload from parking txq_ms in the queue. */
	bool txq_no_aqm;
	/* Ask the peer to resend fragments our loss detection gave up for
	 * certain (only a peer that is ours answers; the receiver sets it). */
	bool request_retx;
};

void bundle_config_default(struct bundle_config *c);

struct bundle;

struct bundle_ops {
	/* A packet from the peer for the TUN side (IP, IPv6). */
	void (*deliver)(void *ctx, struct bundle *b, uint16_t proto, const uint8_t *pkt,
			size_t len);
	/* After bundle_send returned -EAGAIN (only without a queue): a
	 * member's estimates changed (feedback, RTT, liveness), try again.
	 * Optional; also retry at bundle_next_ready_us(). Must not free the
	 * bundle. */
	void (*ready)(void *ctx, struct bundle *b);
	/* A member left (detached, down, freed). Optional. */
	void (*link_left)(void *ctx, struct bundle *b, struct plink *pl);
};

/* An NCP (ipcp, ipv6cp): gets each control packet (code, id, length, ...). */
typedef void (*bundle_ncp_fn)(void *ncp, const uint8_t *pkt, size_t len);

struct bundle *bundle_new(const struct bundle_config *c, const struct bundle_ops *ops, void *ctx,
			  const struct pclock *clk);
/* NULL-safe; detaches every member (no callbacks); returns NULL. */
struct bundle *bundle_free(struct bundle *b);

/* Identity for the owner's lookup: the authenticated peer name and the
 * peer's endpoint discriminator (NULL: none). */
int bundle_set_peer(struct bundle *b, const char *name, const struct lcp_ed *ed);
/* RFC 1990 §5.1.3: same name, and same discriminator when either has one. */
bool bundle_matches(const struct bundle *b, const char *name, const struct lcp_ed *ed);
const char *bundle_name(const struct bundle *b);
const char *bundle_peer_name(const struct bundle *b);

/* Join: pl must be authenticated (Network phase) and in no bundle.
 * -EINVAL with *reason when its multilink parameters disagree with the
 * bundle's (or it has no multilink and the bundle is not empty); -EBUSY,
 * -EEXIST (id taken), -ENOSPC. reason may be NULL. */
int bundle_attach(struct bundle *b, struct plink *pl, const char **reason);
/* Leave; what it delivered stays in the reassembler. -ENOENT. */
int bundle_detach(struct bundle *b, struct plink *pl);

void bundle_set_policy(struct bundle *b, enum sched_policy policy, unsigned copies);
/* Route packets of an NCP protocol (PPP_PROTO_IPCP, PPP_PROTO_IPV6CP) to fn;
 * fn NULL removes it (the protocol is then Protocol-Rejected). */
int bundle_set_ncp_handler(struct bundle *b, uint16_t proto, bundle_ncp_fn fn, void *ncp);

/* Send one packet (proto + information) to the peer. 0 when sent or queued
 * (every link at its cap: it leaves in order as caps open, on estimate
 * changes and at a timer; the queue drops its oldest beyond its bounds);
 * -EAGAIN only without a queue (txq_max_pkts 0); -ENETDOWN without a usable
 * member; -EMSGSIZE above the peer's MRRU / MRU; -ENOMEM. */
int bundle_send(struct bundle *b, uint16_t proto, const uint8_t *pkt, size_t len);
static inline int bundle_send_ip(struct bundle *b, uint16_t proto, const uint8_t *pkt, size_t len)
{
	return bundle_send(b, proto, pkt, len);
}
uint64_t bundle_next_ready_us(struct bundle *b, uint32_t size);

struct bundle_stats {
	size_t members;
	bool multilink;
	uint16_t our_mrru, peer_mrru;
	bool ssn_rx, ssn_tx;
	uint32_t tx_seq;  /* next MP sequence number */
	uint64_t tx_pkts; /* packets sent (copies count once) */
	uint64_t tx_bytes;
	uint64_t tx_frames;   /* MP or plain frames */
	uint64_t tx_blocked;  /* -EAGAIN / -ENETDOWN returns */
	uint64_t rx_pkts;     /* packets delivered to the owner or an NCP */
	uint64_t rx_plain;    /* of which arrived as plain (non-MP) frames */
	uint64_t rx_rejected; /* packets Protocol-Rejected */
	uint64_t tx_resent;   /* MP fragments resent after the peer rejected them */
	uint64_t tx_nulls;    /* null fragments sent on idle links (moves the peer's M) */
	uint64_t tx_retx;     /* fragments resent because the peer asked */
	uint64_t retx_asked;  /* numbers the peer asked for again */
	uint64_t rx_nacks;    /* retransmit requests we sent */
	uint64_t tx_rescued;  /* of tx_retx: resent because their link fell silent */
	uint32_t txq_pkts;    /* transmit queue now */
	uint32_t txq_bytes;
	uint64_t txq_queued;	  /* packets that had to wait in the queue */
	uint64_t txq_dropped;	  /* dropped by the queue (full, too old, send error, AQM) */
	uint64_t txq_aqm_dropped; /* of those, by CoDel */
	uint32_t reasm_wait_ms;
	struct mp_reasm_stats reasm; /* zero before the first link */
};
void bundle_get_stats(const struct bundle *b, struct bundle_stats *st);
/* Members in attach order; returns how many (at most max). */
size_t bundle_members(const struct bundle *b, struct plink **out, size_t max);

/* ---- for plink.c ---- */

/* A frame for the bundle arrived on member pl: MP Information field or a
 * network protocol's information field. */
int bundle_link_input_(struct bundle *b, struct plink *pl, uint16_t proto, const uint8_t *info,
		       size_t len);
/* Any frame arrived on member pl (keeps an MP-idle link in loss detection). */
void bundle_link_heard_(struct bundle *b, struct plink *pl);
/* The peer Protocol-Rejected an MP frame on pl (info: what it returned). */
void bundle_mp_rejected_(struct bundle *b, struct plink *pl, const uint8_t *info, size_t len);
/* A member's estimates changed (RTT sample, liveness). */
void bundle_link_update_(struct bundle *b, struct plink *pl);
/* The peer asks for MP numbers seq .. seq + count - 1 again (vendor.h). */
void bundle_nack_(struct bundle *b, struct plink *from, uint32_t seq, uint32_t count);
/* Scheduler share of a member, permille, or -1. */
int bundle_link_share_(const struct bundle *b, uint32_t id);
