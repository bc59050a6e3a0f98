/* Loss recovery towards our own peer: null fragments on idle links (so
 * its loss detection is not held back) and retransmission of fragments it
 * asks for again (so a fragment lost on a link costs about one round trip
 * on the fastest link, not a loss TCP sees). docs/multilink.md. */
#include "bundle-internal.h"

#include "ppp_frame.h"
#include "vendor.h"

/* Towards our own receiver: how long a live link may go without an MP
 * number while the bundle sends (then it gets a null fragment). */
#define BUNDLE_NULL_US 20000

/* The receiver gives a hole up once every live link has passed it (RFC
 * 1990 M, kept in mp_reasm). A link the scheduler leaves idle (slow or far
 * while the others suffice) never passes anything, so every loss would
 * wait out the whole reassembly timer. Towards a peer that sends per-link
 * feedback (ours), such a link gets a null fragment every BUNDLE_NULL_US
 * while data flows: a few dozen bytes that let a hole go after about the
 * links' delay spread. A plain peer gets rotation instead (send_now). */
void bundle_send_nulls_(struct bundle *b, uint64_t now)
{
	if (b->tx_pkts == 0)
		return; /* no number sent yet to repeat */
	for (size_t i = 0; i < b->n_members; i++) {
		struct plink *pl = b->member[i];
		const struct linkest *le = plink_est_const(pl);
		if (linkest_state(le) != LINK_ALIVE || linkest_in_flight(le, now) < 0)
			continue;
		uint64_t last = sched_link_last_us(&b->sched, le->id);
		if (last && now - last < BUNDLE_NULL_US)
			continue;
		if (mp_tx_null(b->tx, le->id, bundle_frag_tx_, b) >= 0)
			b->tx_nulls++;
		sched_link_touch(&b->sched, le->id, now);
	}
}

void bundle_retx_store_(struct bundle *b, uint32_t link, const uint8_t *frame, size_t len)
{
	struct mp_frag f;

	if (!b->retx || len <= mp_hdr_len(b->ssn_tx))
		return; /* not ours to keep, or a null fragment */
	if (mp_hdr_decode(frame, len, b->ssn_tx, &f, NULL) < 0)
		return;
	mp_retx_store(b->retx, f.seq, link, frame, len);
}

enum { RETX_ASKED = 1, RETX_RESCUED = 2 };

/* Send queued copies (asked for, rescued) before new data, each on the
 * live member where it would arrive first other than the one that lost
 * it, within the members' caps like new data. Returns false while copies
 * wait for room (the caller keeps new data back too: they are older). */
bool bundle_retx_drain_(struct bundle *b, uint64_t now)
{
	uint32_t seq, link, to;
	size_t len;
	uint8_t why;
	uint8_t *frame;

	while ((frame = mp_retx_head(b->retx, &seq, &len, &link, &why))) {
		uint32_t size = (uint32_t)len + 2 + PPP_FRAME_HDR_MAX;
		if (!sched_pick_resend(&b->sched, now, size, link, &to))
			return false;
		struct plink *pl = member_by_id(b, to);
		if (!pl || plink_send_mp(pl, frame, len) < 0) {
			mp_retx_pop(b->retx, link); /* not again on this one */
			continue;
		}
		mp_retx_pop(b->retx, to);
		b->tx_retx++;
		if (why == RETX_RESCUED)
			b->tx_rescued++;
	}
	return true;
}

/* Size of the next copy waiting (for the transmit timer), 0 if none. */
uint32_t bundle_retx_next_size_(struct bundle *b)
{
	uint32_t seq, link;
	size_t len;
	uint8_t why;

	if (!mp_retx_head(b->retx, &seq, &len, &link, &why))
		return 0;
	return (uint32_t)len + 2 + PPP_FRAME_HDR_MAX;
}

/* The peer asks for count numbers from seq again: each kept one is queued
 * to go out once more. */
void bundle_nack_(struct bundle *b, struct plink *from, uint32_t seq, uint32_t count)
{
	(void)from;
	b->retx_asked += count;
	for (uint32_t k = 0; k < count; k++)
		mp_retx_queue(b->retx, (seq + k) & mp_seq_mask(b->ssn_tx), RETX_ASKED);
	bundle_txq_drain_(b);
}

struct rescue {
	struct bundle *b;
	uint32_t after; /* the last number the peer reported on the link */
	bool any;	/* ... if it reported one */
};

static bool rescue_keep(void *ctx, uint32_t seq)
{
	const struct rescue *r = ctx;
	return !r->any || mp_seq_diff(seq, r->after, r->b->ssn_tx) > 0;
}

/* A member fell silent or stalled (suspect, dead): what it carried after
 * the last number its feedback confirmed is probably lost with it. Queue
 * that to go again on the others now, instead of letting the peer find
 * each hole by its wait and ask for it. Copies of what did arrive are
 * dropped as duplicates. The caller drains the queue. */
void bundle_rescue_(struct bundle *b, struct plink *pl)
{
	const struct linkest *le = plink_est_const(pl);
	struct rescue r = {.b = b, .after = le->fb_last.max_seq, .any = le->fb_valid};
	size_t others = 0;

	for (size_t i = 0; i < b->n_members; i++)
		others += b->member[i] != pl &&
			  linkest_state(plink_est_const(b->member[i])) == LINK_ALIVE;
	if (!others)
		return; /* nowhere else to send it: the receiver asks for what it misses */

	mp_retx_queue_link(b->retx, le->id, rescue_keep, &r, RETX_RESCUED);
}

/* Receiver side of the same: ask on the member with the shortest delay
 * whose peer speaks our vendor extensions. */
bool bundle_reasm_nack_(void *ctx, uint32_t seq, uint32_t count)
{
	struct bundle *b = ctx;
	struct plink *best = NULL;
	uint32_t best_rtt = UINT32_MAX;

	for (size_t i = 0; i < b->n_members; i++) {
		struct plink *pl = b->member[i];
		const struct linkest *le = plink_est_const(pl);
		if (linkest_state(le) != LINK_ALIVE || !plink_vendor_ok(pl))
			continue;
		uint32_t rtt = le->srtt_us ? le->srtt_us : UINT32_MAX - 1;
		if (rtt < best_rtt) {
			best_rtt = rtt;
			best = pl;
		}
	}
	if (!best ||
	    plink_send_nack(best, seq, count > VENDOR_NACK_MAX ? VENDOR_NACK_MAX : count) < 0)
		return false;
	b->rx_nacks++;
	return true;
}
