/* The bundle's transmit queue: packets wait here, in order, while every
 * member is at its in-flight cap (mpsched), with copies to resend
 * (bundle_loss.c) going first; bounded in packets, bytes (txq_ms at the
 * members' rates) and age, with CoDel at the head. */
#include "bundle-internal.h"

#include "mp.h"
#include "ppp_frame.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static uint32_t pkt_size(size_t len)
{
	return (uint32_t)len + MP_HDR_LONG_LEN + 2 + PPP_FRAME_HDR_MAX;
}

/* Bytes the queue may hold: txq_ms at the rate the scheduler assumes for
 * the live members now (the probe rate for an unknown one). */
static uint64_t txq_limit(const struct bundle *b, uint64_t now)
{
	uint64_t rate = 0;

	for (size_t i = 0; i < b->n_members; i++) {
		const struct linkest *le = plink_est_const(b->member[i]);
		if (linkest_state(le) == LINK_DEAD)
			continue;
		uint64_t r = linkest_sched_rate_Bps(le, now);
		rate += r ? r : b->c.sched.probe_rate_Bps;
	}
	uint64_t lim = rate * b->c.txq_ms / 1000;
	if (lim < TXQ_MIN_BYTES)
		lim = TXQ_MIN_BYTES;
	return lim > b->c.txq_max_bytes ? b->c.txq_max_bytes : lim;
}

static struct txq_ent *txq_at(struct bundle *b, uint32_t i)
{
	return &b->txq[(b->txq_head + i) % b->c.txq_max_pkts];
}

static void txq_pop(struct bundle *b, bool dropped)
{
	struct txq_ent *e = txq_at(b, 0);

	b->txq_bytes -= e->len;
	free(e->data);
	e->data = NULL;
	b->txq_head = (b->txq_head + 1) % b->c.txq_max_pkts;
	b->txq_n--;
	if (dropped)
		b->txq_dropped++;
}

/* Drop from the head beyond the bounds, like a qdisc: the oldest packet is
 * the one TCP would rather lose (its sender learns soonest). */
static int txq_push(struct bundle *b, uint16_t proto, const uint8_t *pkt, size_t len, uint64_t now)
{
	uint64_t lim = txq_limit(b, now);
	uint8_t *d = malloc(len ? len : 1);

	if (!d)
		return -ENOMEM;
	while (b->txq_n && (b->txq_n >= b->c.txq_max_pkts || b->txq_bytes + len > lim))
		txq_pop(b, true);
	memcpy(d, pkt, len);
	*txq_at(b, b->txq_n) =
	    (struct txq_ent){.proto = proto, .len = (uint32_t)len, .at_us = now, .data = d};
	b->txq_n++;
	b->txq_bytes += len;
	b->txq_queued++;
	return 0;
}

/* ---- CoDel (RFC 8289) at the head of the queue ----
 *
 * TCP (Cubic, Reno) fills whatever queue it meets. Without a signal here,
 * one bulk upload kept txq_ms (100 ms) standing in this queue on top of
 * the links' own queues: every packet, pings and video included, waited
 * behind it. CoDel drops at the head once the time packets spend in the
 * queue stays above the target for an interval, then more often (interval
 * / sqrt(count)) until it comes back under: TCP backs off early and the
 * queue stays near the target while the links stay busy. */
#define CODEL_TARGET_US	  10000
#define CODEL_INTERVAL_US 100000
#define CODEL_MIN_BYTES	  1500 /* never below one packet: nothing to drain */

static uint64_t isqrt(uint64_t v)
{
	uint64_t r = 0, bit = UINT64_C(1) << 62;
	while (bit > v)
		bit >>= 2;
	while (bit) {
		if (v >= r + bit) {
			v -= r + bit;
			r = (r >> 1) + bit;
		} else {
			r >>= 1;
		}
		bit >>= 2;
	}
	return r;
}

static uint64_t codel_next(uint64_t t, uint32_t count)
{
	uint64_t root = isqrt(count ? count : 1);
	return t + CODEL_INTERVAL_US / (root ? root : 1);
}

/* Has the sojourn time stayed above the target for a whole interval? */
static bool codel_above(struct bundle *b, const struct txq_ent *e, uint64_t now)
{
	uint64_t sojourn = now > e->at_us ? now - e->at_us : 0;
	if (sojourn < CODEL_TARGET_US || b->txq_bytes <= CODEL_MIN_BYTES) {
		b->cd_first_above = 0;
		return false;
	}
	if (!b->cd_first_above) {
		b->cd_first_above = now + CODEL_INTERVAL_US;
		return false;
	}
	return now >= b->cd_first_above;
}

/* Should the head (about to be sent) be dropped instead? */
static bool codel_drop(struct bundle *b, const struct txq_ent *e, uint64_t now)
{
	bool above = codel_above(b, e, now);
	if (b->cd_dropping) {
		if (!above) {
			b->cd_dropping = false;
			return false;
		}
		if (now < b->cd_drop_next)
			return false;
		b->cd_count++;
		b->cd_drop_next = codel_next(b->cd_drop_next, b->cd_count);
		return true;
	}
	if (!above)
		return false;
	/* Back into dropping soon after leaving it: resume near the old rate. */
	uint32_t delta = b->cd_count - b->cd_lastcount;
	b->cd_count = delta > 1 && now - b->cd_drop_next < 16ULL * CODEL_INTERVAL_US ? delta : 1;
	b->cd_lastcount = b->cd_count;
	b->cd_drop_next = codel_next(now, b->cd_count);
	b->cd_dropping = true;
	return true;
}

static void txq_rearm(struct bundle *b, uint64_t now)
{
	uint32_t copy = bundle_retx_next_size_(b);
	if (!b->txq_n && !copy) {
		b->clk.ops->timer_cancel(b->t_txq);
		return;
	}
	uint64_t next, expire = UINT64_MAX;
	if (copy) {
		next = sched_next_ready_us(&b->sched, now, copy);
	} else {
		const struct txq_ent *e = txq_at(b, 0);
		next = sched_next_ready_us(&b->sched, now, pkt_size(e->len));
		expire = e->at_us + (uint64_t)TXQ_AGE_MULT * b->c.txq_ms * 1000;
	}
	if (next > expire)
		next = expire; /* only feedback can open a cap: age the head out */
	if (next == UINT64_MAX)
		next = now + 10000; /* copies wait for feedback: look again soon */
	uint64_t ms = next > now ? (next - now + 999) / 1000 : 1;
	b->clk.ops->timer_arm(b->t_txq, ms ? ms : 1);
}

/* Send what the links take now, in order. */
static void txq_drain(struct bundle *b)
{
	if ((!b->txq_n && !mp_retx_queued(b->retx)) || b->draining || !b->multilink)
		return;
	b->draining = true;
	uint64_t now = now_us(b);
	uint64_t max_age = (uint64_t)TXQ_AGE_MULT * b->c.txq_ms * 1000;
	bool copies_done = bundle_retx_drain_(b, now);
	while (copies_done && b->txq_n) {
		struct txq_ent *e = txq_at(b, 0);
		if (now > e->at_us && now - e->at_us > max_age) {
			txq_pop(b, true);
			continue;
		}
		if (!b->c.txq_no_aqm && codel_drop(b, e, now)) {
			txq_pop(b, true);
			b->txq_aqm_dropped++;
			continue;
		}
		int r = bundle_send_now_(b, e->proto, e->data, e->len, now);
		if (r == -EAGAIN || r == -ENETDOWN)
			break;
		txq_pop(b, r < 0);
	}
	txq_rearm(b, now);
	b->draining = false;
}

static void txq_timer_fired(void *arg)
{
	txq_drain(arg);
}

void bundle_txq_drain_(struct bundle *b)
{
	txq_drain(b);
}

int bundle_send(struct bundle *b, uint16_t proto, const uint8_t *pkt, size_t len)
{
	uint64_t now = now_us(b);

	if (!b->n_members) {
		b->tx_blocked++;
		return -ENETDOWN;
	}
	if (!b->multilink) {
		struct plink *pl = b->member[0];
		int r = plink_send_proto(pl, proto, pkt, len);
		if (r == 0) {
			b->tx_pkts++;
			b->tx_bytes += len;
			b->tx_frames++;
		}
		return r;
	}
	if (!bundle_any_alive_(b)) {
		b->tx_blocked++;
		return -ENETDOWN;
	}
	bool queue = b->txq != NULL;
	if (queue && len > b->peer_mrru)
		return -EMSGSIZE; /* would fail on every link: refuse it now */
	/* Packets leave in order: behind what already waits (copies first). */
	txq_drain(b);
	if (queue && (b->txq_n || mp_retx_queued(b->retx))) {
		int r = txq_push(b, proto, pkt, len, now);
		if (r == 0)
			txq_rearm(b, now);
		return r;
	}
	int r = bundle_send_now_(b, proto, pkt, len, now);
	if (r != -EAGAIN)
		return r;
	if (queue && !b->draining) {
		r = txq_push(b, proto, pkt, len, now);
		if (r == 0)
			txq_rearm(b, now);
		return r;
	}
	b->tx_blocked++;
	b->blocked = true;
	return -EAGAIN;
}

int bundle_txq_init_(struct bundle *b)
{
	if (!b->c.txq_max_pkts)
		return 0;
	if (b->c.txq_max_pkts > 65536)
		b->c.txq_max_pkts = 65536;
	if (!b->c.txq_ms)
		b->c.txq_ms = 100;
	if (b->c.txq_max_bytes < TXQ_MIN_BYTES)
		b->c.txq_max_bytes = TXQ_MIN_BYTES;
	b->txq = calloc(b->c.txq_max_pkts, sizeof(*b->txq));
	b->t_txq = b->clk.ops->timer_new(b->clk.ctx, txq_timer_fired, b);
	return b->txq && b->t_txq ? 0 : -ENOMEM;
}

void bundle_txq_free_(struct bundle *b)
{
	if (b->t_txq)
		b->clk.ops->timer_free(b->t_txq);
	while (b->txq_n)
		txq_pop(b, false);
	free(b->txq);
}
