/* The bundle end to end in memory: a gateway and a receiver, each with three
 * plinks, wired through per-path queues with delays and cuts (bundle_sim.h),
 * on a virtual clock. What a user sees: links authenticate and join one
 * bundle, IP packets come out intact and in order, a silent path is dropped
 * within a second and comes back, bad links are refused without harm. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "bundle_sim.h"
#include "ipcp.h"
#include "log.h"
#include "vendor.h"

#include <errno.h>

struct fx {
	struct sim *s;
	struct secrets *sec, *bad;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	f->s = sim_new();
	f->sec = secrets_new();
	secrets_add(f->sec, "gw1", "rcv", "gateway-secret");
	secrets_add(f->sec, "rcv", "gw1", "receiver-secret");
	f->bad = secrets_new();
	secrets_add(f->bad, "gw1", "rcv", "wrong-secret");
	secrets_add(f->bad, "rcv", "gw1", "receiver-secret");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	sim_free(f->s);
	secrets_free(f->sec);
	secrets_free(f->bad);
	free(f);
	return 0;
}

/* Three paths; cfg_hook may change one side's config of one path. */
typedef void (*cfg_hook)(struct plink_config *c, int side, int path, struct fx *f);

static void start(struct fx *f, cfg_hook hook)
{
	for (int side = 0; side < 2; side++) {
		for (int p = 0; p < 3; p++) {
			struct plink_config c;
			sim_link_config(&c, &f->s->side[side], p, f->sec);
			if (side == 1)
				c.feedback_interval_ms = 100;
			if (hook)
				hook(&c, side, p, f);
			assert_non_null(sim_add_link(f->s, side, p, &c));
		}
	}
	for (int side = 0; side < 2; side++)
		for (int p = 0; p < 3; p++)
			plink_open(f->s->side[side].pl[p]);
	sim_run(f->s, 2000000);
}

static size_t members(struct side *sd)
{
	struct bundle_stats st;
	if (!sd->b)
		return 0;
	bundle_get_stats(sd->b, &st);
	return st.members;
}

static void assert_in_order(const struct side *sd, uint32_t first, uint32_t n)
{
	assert_int_equal(sd->rx_bad, 0);
	assert_int_equal(sd->rx_n, n);
	for (uint32_t i = 0; i < n; i++)
		assert_int_equal(sd->rx_id[i], first + i);
}

static void test_converge(void **state)
{
	struct fx *f = *state;
	struct sim *s = f->s;

	start(f, NULL);
	for (int side = 0; side < 2; side++)
		for (int p = 0; p < 3; p++) {
			struct plink *pl = s->side[side].pl[p];
			assert_int_equal(plink_phase(pl), PLINK_NETWORK);
			assert_ptr_equal(plink_bundle(pl), s->side[side].b);
			/* CHAP both ways, multilink with long numbers. */
			assert_int_equal(plink_lcp_result(pl)->auth_peer, PPP_PROTO_CHAP);
			assert_int_equal(plink_lcp_result(pl)->auth_us, PPP_PROTO_CHAP);
			assert_true(plink_lcp_result(pl)->multilink);
		}
	assert_int_equal(members(&s->side[0]), 3);
	assert_int_equal(members(&s->side[1]), 3);
	assert_string_equal(s->side[1].peer_name, "gw1");
	assert_string_equal(s->side[0].peer_name, "rcv");
	assert_string_equal(bundle_peer_name(s->side[1].b), "gw1");
	assert_int_equal(s->side[1].n_refused, 0);
	/* Echoes measured the 40 ms round trip on every link. */
	struct plink_stats st;
	plink_get_stats(s->side[0].pl[1], &st);
	assert_int_equal(st.liveness, LINK_ALIVE);
	assert_in_range(st.srtt_us, 39000, 45000);
}

static void small_mru(struct plink_config *c, int side, int path, struct fx *f)
{
	(void)f;
	if (side == 1 && path == 2)
		c->mru = 576;
}

static void test_ip_in_order_with_reordering_and_fragments(void **state)
{
	struct fx *f = *state;
	struct sim *s = f->s;

	/* Paths 15, 25 and 40 ms away, a packet every 2 ms: packets overtake
	 * each other across paths; the 576-byte MRU path needs fragments. */
	sim_set_delay(s, 0, 15000);
	sim_set_delay(s, 1, 25000);
	sim_set_delay(s, 2, 40000);
	start(f, small_mru);
	assert_int_equal(members(&s->side[0]), 3);
	assert_int_equal(plink_lcp_result(s->side[0].pl[2])->peer_mru, 576);

	/* The reassembler starts at the first number it sees (in a daemon,
	 * IPCP's): one packet first, then the burst. */
	uint32_t n = 400;
	assert_int_equal(sim_send(s, 0, 0, 100), 0);
	sim_run(s, 200000);
	for (uint32_t i = 1; i < n; i++) {
		size_t len = i % 3 == 0 ? 1500 : i % 3 == 1 ? 1000 : 60;
		assert_int_equal(sim_send(s, 0, i, len), 0);
		sim_run(s, 2000);
	}
	sim_run(s, 1000000);
	assert_in_order(&s->side[1], 0, n);
	/* All three paths carried data. */
	for (int p = 0; p < 3; p++)
		assert_true(s->pipe[p][1].mp_carried > 10);
	struct bundle_stats st;
	bundle_get_stats(s->side[1].b, &st);
	assert_int_equal(st.reasm.lost, 0);
	assert_int_equal(st.reasm.delivered, n);
	bundle_get_stats(s->side[0].b, &st);
	assert_true(st.tx_frames > n); /* 1500-byte packets went in fragments */
}

/* A fragment lost on a link: the receiver asks for it again (vendor
 * request on its fastest link), the gateway resends the very same frame,
 * and every packet comes out in order: TCP would see delay, not loss. */
static void test_lost_fragment_retransmitted(void **state)
{
	struct fx *f = *state;
	struct sim *s = f->s;

	sim_set_delay(s, 0, 15000);
	sim_set_delay(s, 1, 25000);
	sim_set_delay(s, 2, 40000);
	start(f, NULL);
	uint32_t n = 300;
	assert_int_equal(sim_send(s, 0, 0, 1000), 0);
	sim_run(s, 200000);
	for (uint32_t i = 1; i < n; i++) {
		if (i == 100)
			s->pipe[0][1].drop_mp = 1; /* the next data fragment on path 0 */
		if (i == 200)
			s->pipe[0][1].drop_mp = 2; /* two in a row */
		assert_int_equal(sim_send(s, 0, i, 1000), 0);
		sim_run(s, 2000);
	}
	sim_run(s, 1000000);
	assert_int_equal(s->pipe[0][1].drop_mp, 0); /* they were dropped */
	assert_in_order(&s->side[1], 0, n);
	struct bundle_stats rx, gw;
	bundle_get_stats(s->side[1].b, &rx);
	bundle_get_stats(s->side[0].b, &gw);
	assert_int_equal(rx.reasm.lost, 0);
	assert_true(rx.rx_nacks >= 1);
	assert_true(rx.reasm.nacked >= 3);
	assert_true(gw.tx_retx >= 3);
}

static void test_dead_path_and_return(void **state)
{
	struct fx *f = *state;
	struct sim *s = f->s;
	uint32_t id = 0;

	start(f, NULL);
	for (int i = 0; i < 200; i++, sim_run(s, 5000))
		assert_int_equal(sim_send(s, 0, id++, 1000), 0);

	/* The path carrying most of the traffic goes silent both ways (the
	 * scheduler is free to prefer any path on these unlimited pipes). */
	int cp = 0;
	for (int p = 1; p < 3; p++)
		if (s->pipe[p][1].mp_carried > s->pipe[cp][1].mp_carried)
			cp = p;
	uint64_t cut_at = s->now_us;
	sim_cut(s, cp, true);
	for (int i = 0; i < 400; i++, sim_run(s, 5000))
		assert_int_equal(sim_send(s, 0, id++, 1000), 0);
	sim_run(s, 1000000);
	assert_int_equal(s->side[0].n_dead, 1);
	assert_true(s->side[0].dead_at_us[cp] > cut_at);
	assert_true(s->side[0].dead_at_us[cp] - cut_at <= 1000000);
	assert_true(s->side[1].dead_at_us[cp] - cut_at <= 1000000);
	/* What went into the dead path was resent over the others as soon as
	 * the gateway saw the link fall silent (or asked for by the
	 * receiver): nothing is missing, all in order. */
	uint64_t lost = s->pipe[cp][1].dropped_mp;
	assert_true(lost > 0);
	assert_true(lost < 60);
	assert_int_equal(s->side[1].rx_n, id);
	struct bundle_stats gst;
	bundle_get_stats(s->side[0].b, &gst);
	assert_true(gst.tx_rescued > 0);
	assert_int_equal(s->side[1].rx_bad, 0);
	for (size_t i = 1; i < s->side[1].rx_n; i++)
		assert_true(s->side[1].rx_id[i] > s->side[1].rx_id[i - 1]);
	/* After death nothing more was lost. */
	uint64_t lost_before = lost;
	for (int i = 0; i < 100; i++, sim_run(s, 5000))
		assert_int_equal(sim_send(s, 0, id++, 1000), 0);
	sim_run(s, 500000);
	assert_int_equal(s->pipe[cp][1].dropped_mp, lost_before);
	assert_int_equal(s->side[1].rx_n, id);

	/* The path comes back: the link revives and carries traffic again. */
	sim_cut(s, cp, false);
	uint64_t mp_before = s->pipe[cp][1].mp_carried;
	sim_run(s, 1000000);
	assert_int_equal(s->side[0].n_alive, 1);
	size_t rx_before = s->side[1].rx_n;
	uint32_t first = id;
	/* Demand beyond what one path's cap allows, so every live link is
	 * needed (these pipes have no rate limit of their own). */
	for (int i = 0; i < 30; i++, sim_run(s, 5000))
		for (int k = 0; k < 10; k++)
			assert_int_equal(sim_send(s, 0, id++, 1000), 0);
	sim_run(s, 1000000);
	assert_true(s->pipe[cp][1].mp_carried > mp_before);
	assert_int_equal(s->side[1].rx_n - rx_before, id - first);
	for (size_t i = rx_before; i < s->side[1].rx_n; i++)
		assert_int_equal(s->side[1].rx_id[i], first + (i - rx_before));
	assert_int_equal(members(&s->side[1]), 3);
}

/* A plain pppd Protocol-Rejects MP on a link it has not attached to its
 * kernel bundle yet. The bundle sends the rejected fragment again with the
 * same number, so the peer's reassembly (no timer in Linux) sees no hole;
 * the same reject twice is not resent twice. */
static void test_rejected_mp_resent(void **state)
{
	struct fx *f = *state;
	struct sim *s = f->s;
	uint32_t id = 0;

	start(f, NULL);
	for (int i = 0; i < 20; i++, sim_run(s, 5000))
		assert_int_equal(sim_send(s, 0, id++, 500), 0);
	sim_run(s, 200000);
	size_t rx_before = s->side[1].rx_n;
	assert_int_equal(rx_before, id);

	/* One more packet; its MP frame never reaches the receiver. */
	uint32_t lost_id = id;
	assert_int_equal(sim_send(s, 0, id++, 500), 0);
	int path = -1;
	uint8_t frame[SIM_DGRAM];
	size_t flen = 0;
	for (int p = 0; p < 3 && path < 0; p++) {
		struct pipe *pp = &s->pipe[p][1];
		for (size_t k = 0; k < pp->n; k++) {
			struct pipe_msg *m = &pp->q[(pp->head + k) % SIM_QLEN];
			if (m->len && dgram_is(m->d, m->len, PPP_PROTO_MP)) {
				memcpy(frame, m->d, m->len);
				flen = m->len;
				m->len = 0; /* taken off the wire: the receiver drops it */
				path = p;
				break;
			}
		}
	}
	assert_true(path >= 0);

	/* The receiver "rejects" it: LCP Protocol-Reject carrying the frame. */
	struct ppp_frame pf;
	assert_int_equal(ppp_frame_decode(frame, flen, &pf), 0);
	uint8_t rej[SIM_DGRAM + 16];
	struct wbuf w = wbuf_make(rej, sizeof(rej));
	wbuf_put16(&w, 0xff03);
	wbuf_put16(&w, PPP_PROTO_LCP);
	wbuf_put8(&w, 8); /* Protocol-Reject */
	wbuf_put8(&w, 0x42);
	wbuf_put16(&w, (uint16_t)(4 + 2 + pf.payload.len));
	wbuf_put16(&w, PPP_PROTO_MP);
	wbuf_put_bytes(&w, pf.payload.p, pf.payload.len);
	assert_true(wbuf_ok(&w));
	plink_input(s->side[0].pl[path], rej, w.len);
	sim_run(s, 200000);

	struct bundle_stats st;
	bundle_get_stats(s->side[0].b, &st);
	assert_int_equal(st.tx_resent, 1);
	assert_int_equal(s->side[1].rx_n, rx_before + 1);
	assert_int_equal(s->side[1].rx_id[rx_before], lost_id);

	/* A second reject of the same number: not resent again. */
	plink_input(s->side[0].pl[path], rej, w.len);
	sim_run(s, 200000);
	bundle_get_stats(s->side[0].b, &st);
	assert_int_equal(st.tx_resent, 1);
	assert_int_equal(s->side[1].rx_n, rx_before + 1);

	/* Traffic goes on in order. */
	for (int i = 0; i < 20; i++, sim_run(s, 5000))
		assert_int_equal(sim_send(s, 0, id++, 500), 0);
	sim_run(s, 200000);
	assert_int_equal(s->side[1].rx_n, id);
	for (size_t i = 1; i < s->side[1].rx_n; i++)
		assert_true(s->side[1].rx_id[i] > s->side[1].rx_id[i - 1]);
}

/* A re-dialed modem: the old link is gone, a new one (new id, new source)
 * authenticates and joins the same bundle; sequence numbers go on. */
static void test_redial_rejoins(void **state)
{
	struct fx *f = *state;
	struct sim *s = f->s;
	uint32_t id = 0;

	start(f, NULL);
	for (int i = 0; i < 100; i++, sim_run(s, 5000))
		assert_int_equal(sim_send(s, 0, id++, 800), 0);
	sim_run(s, 300000);
	struct bundle_stats before;
	bundle_get_stats(s->side[0].b, &before);

	for (int side = 0; side < 2; side++)
		s->side[side].pl[2] = plink_free(s->side[side].pl[2]);
	assert_int_equal(members(&s->side[0]), 2);
	assert_int_equal(members(&s->side[1]), 2);
	for (int i = 0; i < 50; i++, sim_run(s, 5000))
		assert_int_equal(sim_send(s, 0, id++, 800), 0);

	for (int side = 0; side < 2; side++) {
		struct plink_config c;
		sim_link_config(&c, &s->side[side], 2, f->sec);
		c.id = 7;
		sim_add_link(s, side, 2, &c);
		plink_open(s->side[side].pl[2]);
	}
	for (int i = 0; i < 300; i++, sim_run(s, 5000))
		assert_int_equal(sim_send(s, 0, id++, 800), 0);
	sim_run(s, 1000000);
	assert_int_equal(members(&s->side[0]), 3);
	assert_int_equal(members(&s->side[1]), 3);
	assert_true(s->pipe[2][1].mp_carried > 0);
	assert_in_order(&s->side[1], 0, id);
	struct bundle_stats after;
	bundle_get_stats(s->side[0].b, &after);
	assert_true(after.tx_seq > before.tx_seq);
}

/* A burst far beyond what the links take at once (no waiting between
 * sends): bundle_send queues instead of refusing, the queue drains as caps
 * open, packets leave in order, and beyond the queue's bound the oldest
 * are dropped and counted (the newest get through). */
static void test_txq_burst(void **state)
{
	struct fx *f = *state;
	struct sim *s = f->s;
	uint8_t pkt[1000];
	struct bundle_stats st;
	const uint32_t n = 200;

	start(f, NULL);
	for (uint32_t i = 0; i < n; i++) {
		sim_packet(pkt, i, sizeof(pkt));
		assert_int_equal(bundle_send(s->side[0].b, PPP_PROTO_IP, pkt, sizeof(pkt)), 0);
	}
	bundle_get_stats(s->side[0].b, &st);
	assert_true(st.txq_pkts > 0);
	assert_true(st.txq_queued > 0);
	assert_int_equal(st.tx_blocked, 0);
	sim_run(s, 2000000);
	bundle_get_stats(s->side[0].b, &st);
	assert_int_equal(st.txq_pkts, 0);
	assert_int_equal(st.txq_bytes, 0);
	assert_true(st.txq_dropped > 0); /* 200 KB > 100 ms at the probe rates */
	const struct side *rx = &s->side[1];
	assert_int_equal(rx->rx_bad, 0);
	assert_int_equal(rx->rx_n + st.txq_dropped, n);
	for (uint32_t i = 1; i < rx->rx_n; i++)
		assert_true(rx->rx_id[i] > rx->rx_id[i - 1]);
	assert_int_equal(rx->rx_id[rx->rx_n - 1], n - 1);
	bundle_get_stats(rx->b, &st);
	assert_int_equal(st.reasm.lost, 0);
}

static void wrong_secret(struct plink_config *c, int side, int path, struct fx *f)
{
	if (side == 0 && path == 2)
		c->secrets = f->bad;
}

static void test_wrong_secret_refused(void **state)
{
	struct fx *f = *state;
	struct sim *s = f->s;

	start(f, wrong_secret);
	assert_int_equal(members(&s->side[1]), 2);
	assert_int_equal(members(&s->side[0]), 2);
	assert_int_not_equal(plink_phase(s->side[1].pl[2]), PLINK_NETWORK);
	assert_null(plink_bundle(s->side[1].pl[2]));
	assert_string_equal(s->side[1].down_reason, "peer failed authentication");
	for (uint32_t i = 0; i < 100; i++, sim_run(s, 5000))
		assert_int_equal(sim_send(s, 0, i, 1000), 0);
	sim_run(s, 500000);
	assert_in_order(&s->side[1], 0, 100);
	assert_int_equal(s->pipe[2][1].mp_carried, 0);
}

static void big_mrru(struct plink_config *c, int side, int path, struct fx *f)
{
	(void)f;
	if (path == 2) {
		c->mrru = side == 0 ? 1600 : 1500;
		sim_set_delay(f->s, 2, 60000); /* joins last */
	}
}

static void test_mrru_mismatch_refused(void **state)
{
	struct fx *f = *state;
	struct sim *s = f->s;

	start(f, big_mrru);
	assert_int_equal(members(&s->side[1]), 2);
	assert_true(s->side[1].n_refused >= 1);
	assert_non_null(strstr(s->side[1].refuse_reason, "MRRU"));
	assert_null(plink_bundle(s->side[1].pl[2]));
	for (uint32_t i = 0; i < 50; i++, sim_run(s, 5000))
		assert_int_equal(sim_send(s, 0, i, 1000), 0);
	sim_run(s, 500000);
	assert_in_order(&s->side[1], 0, 50);
}

static void test_redundant_once(void **state)
{
	struct fx *f = *state;
	struct sim *s = f->s;

	sim_set_delay(s, 0, 15000);
	sim_set_delay(s, 2, 40000);
	start(f, NULL);
	bundle_set_policy(s->side[0].b, SCHED_REDUNDANT, 2);
	for (uint32_t i = 0; i < 200; i++, sim_run(s, 5000))
		assert_int_equal(sim_send(s, 0, i, 700), 0);
	sim_run(s, 500000);
	assert_in_order(&s->side[1], 0, 200);
	struct bundle_stats st;
	bundle_get_stats(s->side[1].b, &st);
	uint64_t frames = 0;
	for (int p = 0; p < 3; p++)
		frames += s->pipe[p][1].mp_carried;
	/* Nearly every packet went twice (a copy is skipped when the second
	 * link is at its cap); each extra copy was dropped as a duplicate.
	 * The third link, left idle, carried null fragments only. */
	assert_true(frames >= 360);
	assert_int_equal(st.reasm.duplicates + st.reasm.nulls, frames - 200);
}

static void test_vendor_feedback_reaches_gateway(void **state)
{
	struct fx *f = *state;
	struct sim *s = f->s;

	start(f, NULL);
	for (uint32_t i = 0; i < 300; i++, sim_run(s, 3000))
		assert_int_equal(sim_send(s, 0, i, 1200), 0);
	sim_run(s, 300000);
	for (int p = 0; p < 3; p++) {
		struct plink_stats gw, rc;
		plink_get_stats(s->side[0].pl[p], &gw);
		plink_get_stats(s->side[1].pl[p], &rc);
		assert_true(rc.feedback_tx > 10);
		assert_true(gw.feedback_rx > 10);
		assert_false(rc.vendor_rejected);
		const struct linkest *le = plink_est_const(s->side[0].pl[p]);
		assert_true(le->fb_valid);
		assert_true(le->fb_bytes_rx > 0);
		assert_true(gw.rate_out_Bps > 0);
		/* On the wire: LCP code 0 with our OUI, receiver -> gateway only. */
		assert_true(s->pipe[p][0].vendor_carried > 10);
		assert_int_equal(s->pipe[p][1].vendor_carried, 0);
	}
}

static void plain_gateway(struct plink_config *c, int side, int path, struct fx *f)
{
	(void)path;
	(void)f;
	if (side == 0)
		c->no_vendor = true;
}

static void test_code_reject_stops_vendor(void **state)
{
	struct fx *f = *state;
	struct sim *s = f->s;

	start(f, plain_gateway);
	sim_run(s, 2000000);
	for (int p = 0; p < 3; p++) {
		struct plink_stats rc;
		plink_get_stats(s->side[1].pl[p], &rc);
		assert_true(rc.vendor_rejected);
		assert_int_equal(rc.feedback_tx, 1);
		assert_int_equal(s->pipe[p][0].vendor_carried, 1);
		assert_int_equal(plink_phase(s->side[1].pl[p]), PLINK_NETWORK);
	}
	for (uint32_t i = 0; i < 50; i++, sim_run(s, 5000))
		assert_int_equal(sim_send(s, 0, i, 1000), 0);
	sim_run(s, 500000);
	assert_in_order(&s->side[1], 0, 50);
}

/* ---- IPCP hosted on the bundle (MP-encapsulated, as Linux does) ---- */

struct ncp_side {
	struct side *sd;
	struct ipcp *ipcp;
	void *timer;
	uint32_t local, peer;
	int n_up;
};

static void ncp_tx(void *ctx, const uint8_t *pkt, size_t len)
{
	struct ncp_side *n = ctx;
	bundle_send(n->sd->b, PPP_PROTO_IPCP, pkt, len);
}

static void ncp_arm(void *ctx, uint32_t ms)
{
	struct ncp_side *n = ctx;
	n->sd->sim->clk.ops->timer_arm(n->timer, ms);
}

static void ncp_cancel(void *ctx)
{
	struct ncp_side *n = ctx;
	n->sd->sim->clk.ops->timer_cancel(n->timer);
}

static void ncp_fire(void *arg)
{
	ipcp_timeout(((struct ncp_side *)arg)->ipcp);
}

static int ncp_assign(void *ctx, uint32_t *addr)
{
	(void)ctx;
	*addr = 0x0a000002;
	return 0;
}

static void ncp_up(void *ctx, uint32_t local, uint32_t peer, uint32_t d1, uint32_t d2)
{
	struct ncp_side *n = ctx;
	(void)d1;
	(void)d2;
	n->local = local;
	n->peer = peer;
	n->n_up++;
}

static const struct ipcp_ops ncp_ops = {
    .io = {.tx = ncp_tx, .timer_arm = ncp_arm, .timer_cancel = ncp_cancel},
    .assign = ncp_assign,
    .up = ncp_up,
};

static void ncp_input(void *ncp, const uint8_t *pkt, size_t len)
{
	ipcp_input(((struct ncp_side *)ncp)->ipcp, pkt, len);
}

static struct ncp_side ncps[2];

static void ncp_on_attach(struct side *sd, struct plink *pl)
{
	struct ncp_side *n = &ncps[sd->idx];
	(void)pl;
	if (n->ipcp)
		return;
	struct ipcp_config c;
	ipcp_config_default(&c);
	c.role = sd->idx ? IPCP_SERVER : IPCP_CLIENT;
	c.local = sd->idx ? 0x0a000001 : 0;
	n->sd = sd;
	n->timer = sd->sim->clk.ops->timer_new(sd->sim->clk.ctx, ncp_fire, n);
	n->ipcp = ipcp_new(sd->name, &c, &ncp_ops, n);
	assert_non_null(n->ipcp);
	bundle_set_ncp_handler(sd->b, PPP_PROTO_IPCP, ncp_input, n);
	ipcp_open(n->ipcp);
	ipcp_up(n->ipcp);
}

static void test_ipcp_over_bundle(void **state)
{
	struct fx *f = *state;
	struct sim *s = f->s;

	memset(ncps, 0, sizeof(ncps));
	s->side[0].on_attach = ncp_on_attach;
	s->side[1].on_attach = ncp_on_attach;
	start(f, NULL);
	assert_int_equal(ncps[0].n_up, 1);
	assert_int_equal(ncps[1].n_up, 1);
	assert_int_equal(ncps[0].local, 0x0a000002);
	assert_int_equal(ncps[0].peer, 0x0a000001);
	assert_int_equal(ncps[1].peer, 0x0a000002);
	/* IPCP went MP-encapsulated (no plain IPCP frames on the wire). */
	struct bundle_stats st;
	bundle_get_stats(s->side[1].b, &st);
	assert_int_equal(st.rx_plain, 0);
	assert_true(st.rx_pkts >= 2);
	/* Without a handler IPV6CP is Protocol-Rejected by the peer. */
	uint8_t v6cp[] = {1, 1, 0, 4};
	assert_int_equal(bundle_send(s->side[0].b, PPP_PROTO_IPV6CP, v6cp, sizeof(v6cp)), 0);
	sim_run(s, 200000);
	bundle_get_stats(s->side[1].b, &st);
	assert_int_equal(st.rx_rejected, 1);
	for (int i = 0; i < 2; i++) {
		ncps[i].ipcp = ipcp_free(ncps[i].ipcp);
		s->clk.ops->timer_free(ncps[i].timer);
	}
}

int main(void)
{
	log_set_level(LOG_WARNING);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_converge, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ip_in_order_with_reordering_and_fragments, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_dead_path_and_return, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rejected_mp_resent, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_redial_rejoins, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_txq_burst, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_wrong_secret_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_mrru_mismatch_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_redundant_once, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_lost_fragment_retransmitted, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_vendor_feedback_reaches_gateway, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_code_reject_stops_vendor, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ipcp_over_bundle, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
