#include "bundle.h"
#include "bundle-internal.h"

#include "log.h"
#include "mp.h"
#include "ppp_frame.h"
#include "ppp_proto.h"
#include "util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void bundle_config_default(struct bundle_config *c)
{
	*c = (struct bundle_config){
	    .name = "bundle", .txq_max_pkts = 256, .txq_ms = 100, .txq_max_bytes = 2u << 20};
	sched_params_default(&c->sched);
}

/* ---- receive ---- */

static void dispatch(struct bundle *b, uint16_t proto, const uint8_t *pkt, size_t len)
{
	switch (proto) {
	case PPP_PROTO_IP:
	case PPP_PROTO_IPV6:
		b->rx_pkts++;
		if (b->ops->deliver)
			b->ops->deliver(b->ctx, b, proto, pkt, len);
		return;
	default:
		break;
	}
	for (size_t i = 0; i < BUNDLE_MAX_NCP; i++) {
		if (b->ncp[i].fn && b->ncp[i].proto == proto) {
			b->rx_pkts++;
			b->ncp[i].fn(b->ncp[i].ncp, pkt, len);
			return;
		}
	}
	/* A protocol nobody runs here: Protocol-Reject on the link it came
	 * in on (or any member, for packets a timer flushed). */
	struct plink *pl = b->rx_link ? b->rx_link : (b->n_members ? b->member[0] : NULL);
	b->rx_rejected++;
	if (pl)
		lcp_send_protocol_reject(plink_lcp(pl), proto, pkt, len);
}

static void reasm_deliver(void *ctx, uint16_t proto, const uint8_t *data, size_t len)
{
	dispatch(ctx, proto, data, len);
}

static void reasm_rearm(struct bundle *b, uint64_t now_ms)
{
	uint64_t next = mp_reasm_tick(b->reasm, now_ms);

	if (next == UINT64_MAX)
		b->clk.ops->timer_cancel(b->t_reasm);
	else
		b->clk.ops->timer_arm(b->t_reasm, next > now_ms ? next - now_ms : 1);
}

static void reasm_timer_fired(void *arg)
{
	struct bundle *b = arg;

	if (b->reasm)
		reasm_rearm(b, now_us(b) / 1000);
}

int bundle_link_input_(struct bundle *b, struct plink *pl, uint16_t proto, const uint8_t *info,
		       size_t len)
{
	int r = 0;

	b->rx_link = pl;
	if (proto == PPP_PROTO_MP) {
		uint64_t now_ms = now_us(b) / 1000;
		for (size_t i = 0; i < b->n_members; i++)
			if (b->member[i] == pl)
				b->last_mp_ms[i] = now_ms;
		r = mp_reasm_input(b->reasm, plink_id(pl), info, len, now_ms, NULL);
		reasm_rearm(b, now_ms);
	} else {
		/* Plain frame on a member: accepted unsequenced (RFC 1990 §3). */
		b->rx_plain++;
		dispatch(b, proto, info, len);
	}
	b->rx_link = NULL;
	return r;
}

/* A plain pppd rejects MP on a link it has not yet attached to its kernel
 * bundle (a few ms after authentication). Losing that fragment would leave
 * a hole that Linux, having no reassembly timer, never gets past; so send it
 * again with the same number, on another member if there is one, else once
 * more on this link (one round trip later the peer has attached it). Only
 * whole fragments (not cut by the peer's MRU) and each number only once. */
void bundle_mp_rejected_(struct bundle *b, struct plink *pl, const uint8_t *info, size_t len)
{
	struct mp_frag f;
	const char *why;
	uint8_t buf[MP_TX_HEADROOM + 2048];
	const struct lcp_result *res = plink_lcp_result(pl);

	if (!b->multilink || len > sizeof(buf) - MP_TX_HEADROOM || !res ||
	    len + 6 >= res->peer_mru || mp_hdr_decode(info, len, b->ssn_tx, &f, &why) < 0)
		return;
	if (b->resent_any && f.seq == b->last_resent_seq)
		return;
	b->resent_any = true;
	b->last_resent_seq = f.seq;
	struct plink *to = pl;
	for (size_t i = 0; i < b->n_members; i++)
		if (b->member[i] != pl && plink_bundle(b->member[i]) == b) {
			to = b->member[i];
			break;
		}
	memcpy(buf + MP_TX_HEADROOM, info, len);
	if (plink_send_mp(to, buf + MP_TX_HEADROOM, len) == 0)
		b->tx_resent++;
}

/* A member we hear from (echoes) but that carried no MP frame for a while
 * may still carry the next missing number when the sender picks it again:
 * mp_reasm would have dropped it from loss detection (M) as silent, and
 * give up that number as soon as the faster links pass it. Re-adding it
 * makes it a fresh link, which holds rule 1 back, so a hole waits the
 * bounded time instead. */
void bundle_link_heard_(struct bundle *b, struct plink *pl)
{
	if (!b->reasm)
		return;
	uint64_t now_ms = now_us(b) / 1000;
	uint32_t idle_max = mp_reasm_wait_ms(b->reasm) / 2;
	for (size_t i = 0; i < b->n_members; i++) {
		if (b->member[i] != pl || now_ms - b->last_mp_ms[i] <= idle_max)
			continue;
		b->last_mp_ms[i] = now_ms;
		mp_reasm_link_heard(b->reasm, plink_id(pl), now_ms);
	}
}

/* Reassembly waits for twice the one-way delay spread between the links. */
static void update_spread(struct bundle *b)
{
	uint32_t lo = UINT32_MAX, hi = 0;
	size_t n = 0;

	if (!b->reasm)
		return;
	for (size_t i = 0; i < b->n_members; i++) {
		const struct linkest *le = plink_est_const(b->member[i]);
		if (linkest_state(le) == LINK_DEAD || !linkest_min_rtt_us(le))
			continue;
		/* Queueing delay counts: it is delay the packets see. */
		uint32_t d = linkest_owd_us(le) + linkest_queue_delay_us(le) / 2;
		lo = d < lo ? d : lo;
		hi = d > hi ? d : hi;
		n++;
	}
	if (n)
		mp_reasm_set_spread(b->reasm, (hi - lo + 999) / 1000);
	/* A requested copy comes back over the fastest links: one round trip
	 * there, plus room for the sender's queue. */
	if (n && b->c.request_retx)
		mp_reasm_set_nack_wait(b->reasm, 2 * lo / 1000 + BUNDLE_RETX_SLACK_MS);
}

void bundle_link_update_(struct bundle *b, struct plink *pl)
{
	const struct linkest *le = plink_est_const(pl);
	bool was_alive = sched_link_state(&b->sched, le->id) == LINK_ALIVE;

	sched_link_sync(&b->sched, le, now_us(b), 0);
	if (was_alive && linkest_state(le) != LINK_ALIVE)
		bundle_rescue_(b, pl);
	update_spread(b);
	bundle_txq_drain_(b);
	if (b->blocked && b->ops->ready) {
		b->blocked = false;
		b->ops->ready(b->ctx, b);
	}
}

int bundle_link_share_(const struct bundle *b, uint32_t id)
{
	return sched_link_share_permille(&b->sched, id);
}

/* ---- transmit ---- */

int bundle_frag_tx_(void *ctx, uint32_t link, uint8_t *frame, size_t len)
{
	struct bundle *b = ctx;
	struct plink *pl = member_by_id(b, link);

	if (!pl)
		return -ENOENT;
	int r = plink_send_mp(pl, frame, len);
	if (r == 0) {
		b->tx_frames++;
		bundle_retx_store_(b, link, frame, len);
	}
	return r;
}

bool bundle_any_alive_(const struct bundle *b)
{
	for (size_t i = 0; i < b->n_members; i++)
		if (linkest_state(plink_est_const(b->member[i])) != LINK_DEAD)
			return true;
	return false;
}

/* Longest a link may stay idle towards a plain RFC 1990 peer. */
#define BUNDLE_PLAIN_ROTATE_US 50000

/* Multilink: the scheduler's pick, then the fragmenter on each picked
 * link. -EAGAIN when every link is at its cap. */

int bundle_send_now_(struct bundle *b, uint16_t proto, const uint8_t *pkt, size_t len, uint64_t now)
{
	uint32_t ids[SCHED_MAX_LINKS];

	/* A peer that sends no per-link feedback is a plain RFC 1990 receiver
	 * (pppd, the Linux kernel): it has no reassembly timer and only gets
	 * past a hole once every member link has moved beyond it, so no link
	 * may stay idle for long. Rotate links then (ours has its own wait). */
	bool plain = false;
	for (size_t i = 0; i < b->n_members; i++) {
		const struct linkest *le = plink_est_const(b->member[i]);
		sched_link_sync(&b->sched, le, now, 0);
		if (linkest_state(le) != LINK_DEAD && linkest_in_flight(le, now) < 0)
			plain = true;
	}
	b->sched.p.rotate_us = plain ? BUNDLE_PLAIN_ROTATE_US : b->c.sched.rotate_us;
	if (!plain && !b->retx && b->n_members)
		b->retx = mp_retx_new(BUNDLE_RETX_SLOTS, BUNDLE_RETX_BYTES); /* NULL: no resends */
	uint32_t size = (uint32_t)len + MP_HDR_LONG_LEN + 2 + PPP_FRAME_HDR_MAX;
	unsigned n = sched_pick(&b->sched, now, size, ids, SCHED_MAX_LINKS);
	if (n == 0) {
		if (!bundle_any_alive_(b))
			return -ENETDOWN;
		/* Demand beyond every link's cap: their next rate samples
		 * measure capacity, not how little we happened to send. */
		for (size_t i = 0; i < b->n_members; i++)
			linkest_on_blocked(plink_est(b->member[i]));
		return -EAGAIN;
	}
	/* Copies (redundant) carry the same sequence numbers and the same cuts,
	 * so the receiver keeps the first and drops the rest by number. */
	size_t mru = SIZE_MAX;
	for (unsigned i = 0; i < n; i++) {
		struct plink *pl = member_by_id(b, ids[i]);
		size_t m = pl ? plink_lcp_result(pl)->peer_mru : 0;
		mru = m < mru ? m : mru;
	}
	uint32_t seq0 = mp_tx_seq(b->tx), seq_end = seq0;
	int r = 0, sent = 0;
	for (unsigned i = 0; i < n; i++) {
		struct mp_tx_link l = {.id = ids[i], .mru = mru};
		mp_tx_set_seq(b->tx, seq0);
		r = mp_fragment(b->tx, proto, pkt, len, &l, 1, bundle_frag_tx_, b);
		if (r >= 0) {
			sent++;
			seq_end = mp_tx_seq(b->tx);
		}
	}
	if (!sent) {
		mp_tx_set_seq(b->tx, seq0 + 1); /* the peer sees a loss, not a gap */
		return r;
	}
	mp_tx_set_seq(b->tx, seq_end);
	b->tx_pkts++;
	b->tx_bytes += len;
	if (!plain)
		bundle_send_nulls_(b, now);
	return 0;
}

uint64_t bundle_next_ready_us(struct bundle *b, uint32_t size)
{
	return sched_next_ready_us(&b->sched, now_us(b), size);
}

/* ---- membership ---- */

static int params_from(struct bundle *b, const struct lcp_result *res)
{
	struct mp_tx_cfg tc = {
	    .short_seq = res->ssn_tx,
	    .pfc = res->pfc_tx,
	    .mrru = res->peer_mrru,
	};
	struct mp_reasm_cfg rc;

	mp_reasm_cfg_default(&rc);
	rc.short_seq = res->ssn_rx;
	rc.mrru = res->our_mrru ? res->our_mrru : PPP_DEFAULT_MRU;
	if (b->c.reasm_max_frags)
		rc.max_frags = b->c.reasm_max_frags;
	if (b->c.reasm_max_bytes)
		rc.max_bytes = b->c.reasm_max_bytes;
	if (rc.max_bytes < rc.mrru)
		rc.max_bytes = rc.mrru;
	if (b->c.wait_max_ms) {
		rc.wait_min_ms = b->c.wait_min_ms;
		rc.wait_max_ms = b->c.wait_max_ms;
	}
	rc.deliver = reasm_deliver;
	rc.ctx = b;
	if (b->c.request_retx)
		rc.nack = bundle_reasm_nack_;
	b->multilink = res->multilink;
	b->our_mrru = res->our_mrru;
	b->peer_mrru = res->peer_mrru;
	b->ssn_rx = res->ssn_rx;
	b->ssn_tx = res->ssn_tx;
	if (b->multilink) {
		b->tx = mp_tx_new(&tc);
		b->reasm = mp_reasm_new(&rc);
		if (!b->tx || !b->reasm) {
			b->tx = mp_tx_free(b->tx);
			b->reasm = mp_reasm_free(b->reasm);
			return -ENOMEM;
		}
	}
	b->params_set = true;
	return 0;
}

static const char *params_mismatch(const struct bundle *b, const struct lcp_result *res)
{
	if (!b->multilink || !res->multilink)
		return "no multilink on this link or on the bundle (MRRU not negotiated)";
	if (res->our_mrru != b->our_mrru)
		return "our MRRU on this link differs from the bundle's";
	if (res->peer_mrru != b->peer_mrru)
		return "peer's MRRU on this link differs from the bundle's";
	if (res->ssn_rx != b->ssn_rx || res->ssn_tx != b->ssn_tx)
		return "sequence number format differs from the bundle's";
	return NULL;
}

int bundle_attach(struct bundle *b, struct plink *pl, const char **reason)
{
	const char *why = NULL;
	int r;

	if (plink_bundle(pl)) {
		why = "already in a bundle";
		r = -EBUSY;
		goto fail;
	}
	if (plink_phase(pl) != PLINK_NETWORK) {
		why = "not authenticated";
		r = -EINVAL;
		goto fail;
	}
	const struct lcp_result *res = plink_lcp_result(pl);
	if (!b->params_set || (!b->n_members && !b->multilink)) {
		r = params_from(b, res);
		if (r < 0) {
			why = "out of memory";
			goto fail;
		}
	} else if ((why = params_mismatch(b, res))) {
		r = -EINVAL;
		goto fail;
	}
	if (member_by_id(b, plink_id(pl))) {
		why = "link id already in the bundle";
		r = -EEXIST;
		goto fail;
	}
	if (b->n_members >= BUNDLE_MAX_LINKS) {
		why = "bundle is full";
		r = -ENOSPC;
		goto fail;
	}
	uint64_t now = now_us(b);
	if (b->multilink) {
		r = sched_link_add(&b->sched, plink_id(pl));
		if (r == 0) {
			r = mp_reasm_link_add(b->reasm, plink_id(pl), now / 1000);
			if (r < 0)
				sched_link_remove(&b->sched, plink_id(pl));
		}
		if (r < 0) {
			why = "no room in the scheduler";
			goto fail;
		}
		sched_link_sync(&b->sched, plink_est_const(pl), now, 0);
	}
	b->last_mp_ms[b->n_members] = now / 1000;
	b->member[b->n_members++] = pl;
	plink_set_bundle_(pl, b);
	update_spread(b);
	log_info("bundle[%s]: %s joined (%zu links)", b->name, plink_name(pl), b->n_members);
	return 0;
fail:
	if (reason)
		*reason = why;
	return r;
}

int bundle_detach(struct bundle *b, struct plink *pl)
{
	size_t i;

	for (i = 0; i < b->n_members && b->member[i] != pl; i++)
		;
	if (i == b->n_members)
		return -ENOENT;
	memmove(&b->member[i], &b->member[i + 1], (b->n_members - i - 1) * sizeof(b->member[0]));
	memmove(&b->last_mp_ms[i], &b->last_mp_ms[i + 1],
		(b->n_members - i - 1) * sizeof(b->last_mp_ms[0]));
	b->n_members--;
	plink_set_bundle_(pl, NULL);
	if (b->rx_link == pl)
		b->rx_link = NULL;
	if (b->multilink) {
		uint64_t now = now_us(b);
		sched_link_remove(&b->sched, plink_id(pl));
		mp_reasm_link_remove(b->reasm, plink_id(pl), now / 1000);
		reasm_rearm(b, now / 1000);
	}
	log_info("bundle[%s]: %s left (%zu links)", b->name, plink_name(pl), b->n_members);
	if (b->ops->link_left)
		b->ops->link_left(b->ctx, b, pl);
	return 0;
}

/* ---- lifecycle, identity, stats ---- */

struct bundle *bundle_new(const struct bundle_config *c, const struct bundle_ops *ops, void *ctx,
			  const struct pclock *clk)
{
	struct bundle *b;

	if (!ops || !clk || !clk->ops)
		return NULL;
	b = calloc(1, sizeof(*b));
	if (!b)
		return NULL;
	if (c)
		b->c = *c;
	else
		bundle_config_default(&b->c);
	strlcpy_checked(b->name, b->c.name ? b->c.name : "bundle", sizeof(b->name));
	b->c.name = b->name;
	b->ops = ops;
	b->ctx = ctx;
	b->clk = *clk;
	sched_init(&b->sched, &b->c.sched);
	b->t_reasm = clk->ops->timer_new(clk->ctx, reasm_timer_fired, b);
	if (!b->t_reasm)
		return bundle_free(b);
	if (bundle_txq_init_(b) < 0)
		return bundle_free(b);
	return b;
}

struct bundle *bundle_free(struct bundle *b)
{
	if (!b)
		return NULL;
	for (size_t i = 0; i < b->n_members; i++)
		plink_set_bundle_(b->member[i], NULL);
	b->clk.ops->timer_free(b->t_reasm);
	bundle_txq_free_(b);
	mp_tx_free(b->tx);
	mp_reasm_free(b->reasm);
	mp_retx_free(b->retx);
	free(b);
	return NULL;
}

int bundle_set_peer(struct bundle *b, const char *name, const struct lcp_ed *ed)
{
	int r = strlcpy_checked(b->peer_name, name ? name : "", sizeof(b->peer_name));

	b->has_peer_ed = ed != NULL;
	if (ed)
		b->peer_ed = *ed;
	return r;
}

bool bundle_matches(const struct bundle *b, const char *name, const struct lcp_ed *ed)
{
	if (strcmp(b->peer_name, name ? name : "") != 0)
		return false;
	if (b->has_peer_ed != (ed != NULL))
		return false;
	return !ed || lcp_ed_equal(&b->peer_ed, ed);
}

const char *bundle_name(const struct bundle *b)
{
	return b->name;
}

const char *bundle_peer_name(const struct bundle *b)
{
	return b->peer_name;
}

void bundle_set_policy(struct bundle *b, enum sched_policy policy, unsigned copies)
{
	sched_set_policy(&b->sched, policy, copies);
}

int bundle_set_ncp_handler(struct bundle *b, uint16_t proto, bundle_ncp_fn fn, void *ncp)
{
	struct ncp_slot *free_slot = NULL;

	if (proto == PPP_PROTO_IP || proto == PPP_PROTO_IPV6 || proto == PPP_PROTO_MP ||
	    !ppp_proto_valid(proto))
		return -EINVAL;
	for (size_t i = 0; i < BUNDLE_MAX_NCP; i++) {
		if (b->ncp[i].fn && b->ncp[i].proto == proto) {
			b->ncp[i].fn = fn;
			b->ncp[i].ncp = ncp;
			return 0;
		}
		if (!b->ncp[i].fn && !free_slot)
			free_slot = &b->ncp[i];
	}
	if (!fn)
		return 0;
	if (!free_slot)
		return -ENOSPC;
	*free_slot = (struct ncp_slot){.proto = proto, .fn = fn, .ncp = ncp};
	return 0;
}

void bundle_get_stats(const struct bundle *b, struct bundle_stats *st)
{
	*st = (struct bundle_stats){
	    .members = b->n_members,
	    .multilink = b->multilink,
	    .our_mrru = b->our_mrru,
	    .peer_mrru = b->peer_mrru,
	    .ssn_rx = b->ssn_rx,
	    .ssn_tx = b->ssn_tx,
	    .tx_seq = b->tx ? mp_tx_seq(b->tx) : 0,
	    .tx_pkts = b->tx_pkts,
	    .tx_bytes = b->tx_bytes,
	    .tx_frames = b->tx_frames,
	    .tx_blocked = b->tx_blocked,
	    .rx_pkts = b->rx_pkts,
	    .rx_plain = b->rx_plain,
	    .rx_rejected = b->rx_rejected,
	    .tx_resent = b->tx_resent,
	    .tx_nulls = b->tx_nulls,
	    .tx_retx = b->tx_retx,
	    .retx_asked = b->retx_asked,
	    .rx_nacks = b->rx_nacks,
	    .tx_rescued = b->tx_rescued,
	    .txq_pkts = b->txq_n,
	    .txq_bytes = (uint32_t)b->txq_bytes,
	    .txq_queued = b->txq_queued,
	    .txq_dropped = b->txq_dropped,
	    .txq_aqm_dropped = b->txq_aqm_dropped,
	};
	if (b->reasm) {
		st->reasm = *mp_reasm_stats(b->reasm);
		st->reasm_wait_ms = mp_reasm_wait_ms(b->reasm);
	}
}

size_t bundle_members(const struct bundle *b, struct plink **out, size_t max)
{
	size_t n = b->n_members < max ? b->n_members : max;

	memcpy(out, b->member, n * sizeof(*out));
	return n;
}
