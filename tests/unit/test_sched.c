/* Scheduler decisions given link estimates, checked against a small
 * deterministic fluid model of the paths: proportional shares on unequal
 * links, in-order arrival, delay awareness, the in-flight cap, failover
 * when a link dies and rejoining when it returns, redundant and single
 * policies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "linkest.h"
#include "mpsched.h"

#define MS   1000ULL
#define S    1000000ULL
#define MBIT 125000ULL /* bytes per second in one Mbit/s */

/* ---- fluid model of a path ---------------------------------------------
 * A bottleneck of a given rate (FIFO, busy until busy_us) followed by a
 * propagation delay; the receiver's report of a packet reaches the sender
 * owd_us after the packet arrived. */
#define SIM_MAX_PKTS 4096

struct sim_path {
	uint32_t id;
	uint64_t rate;
	uint64_t owd_us;
	bool cut; /* datagrams vanish */
	uint64_t busy_us;
	uint64_t acked_at[SIM_MAX_PKTS]; /* when the sender learns of it */
	uint32_t size[SIM_MAX_PKTS];
	unsigned head, n;
	uint64_t picked_bytes;
};

static uint64_t sim_send(struct sim_path *p, uint64_t now, uint32_t size)
{
	uint64_t start = p->busy_us > now ? p->busy_us : now;
	p->busy_us = start + size * S / p->rate;
	uint64_t arrive = p->busy_us + p->owd_us;
	p->picked_bytes += size;
	if (p->n < SIM_MAX_PKTS) {
		unsigned i = (p->head + p->n++) % SIM_MAX_PKTS;
		p->acked_at[i] = arrive + p->owd_us;
		p->size[i] = size;
	}
	return arrive;
}

static int64_t sim_in_flight(struct sim_path *p, uint64_t now)
{
	while (p->n && p->acked_at[p->head] <= now) {
		p->head = (p->head + 1) % SIM_MAX_PKTS;
		p->n--;
	}
	int64_t b = 0;
	for (unsigned k = 0; k < p->n; k++)
		b += p->size[(p->head + k) % SIM_MAX_PKTS];
	return b;
}

/* Exact estimates, as linkest would converge to. */
static void sim_sync(struct sched *s, struct sim_path *p, uint64_t now)
{
	struct sched_link_input in = {
	    .state = LINK_ALIVE,
	    .rate_Bps = p->rate,
	    .owd_us = (uint32_t)p->owd_us,
	    .rtt_us = (uint32_t)(2 * p->owd_us),
	    .min_rtt_us = (uint32_t)(2 * p->owd_us),
	    .in_flight = sim_in_flight(p, now),
	};
	assert_int_equal(sched_link_update(s, p->id, now, &in), 0);
}

static struct sim_path *path_by_id(struct sim_path *p, unsigned n, uint32_t id)
{
	for (unsigned i = 0; i < n; i++)
		if (p[i].id == id)
			return &p[i];
	fail_msg("unknown link id %u", id);
	return NULL;
}

/* Offer `per_ms` packets of `size` every millisecond for `dur`; a packet
 * no link can take is dropped (the bundle's queue would hold it). Returns
 * the worst lateness of a packet behind an earlier one, in microseconds. */
static uint64_t sim_run(struct sched *s, struct sim_path *p, unsigned n, uint64_t from,
			uint64_t dur, unsigned per_ms, uint32_t size)
{
	uint64_t latest = 0, worst = 0;
	for (uint64_t t = from; t < from + dur; t += MS) {
		for (unsigned k = 0; k < per_ms; k++) {
			for (unsigned i = 0; i < n; i++)
				sim_sync(s, &p[i], t);
			uint32_t id;
			if (sched_pick(s, t, size, &id, 1) != 1)
				continue;
			uint64_t a = sim_send(path_by_id(p, n, id), t, size);
			if (a < latest && latest - a > worst)
				worst = latest - a;
			if (a > latest)
				latest = a;
		}
	}
	return worst;
}

static void setup_paths(struct sched *s, struct sim_path *p, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		p[i].id = 10 + i;
		assert_int_equal(sched_link_add(s, p[i].id), 0);
	}
}

/* ---- tests --------------------------------------------------------------- */

static void proportional_shares(void **state)
{
	(void)state;
	struct sched s;
	sched_init(&s, NULL);
	static struct sim_path p[3];
	memset(p, 0, sizeof(p));
	setup_paths(&s, p, 3);
	p[0].rate = 20 * MBIT, p[1].rate = 10 * MBIT, p[2].rate = 5 * MBIT;
	p[0].owd_us = p[1].owd_us = p[2].owd_us = 20 * MS;

	/* 40 Mbit/s offered to 35 Mbit/s of links for 10 s. */
	uint64_t worst = sim_run(&s, p, 3, 0, 10 * S, 4, 1250);
	uint64_t total = p[0].picked_bytes + p[1].picked_bytes + p[2].picked_bytes;
	/* Shares follow the rates: 57 / 29 / 14 %. */
	assert_in_range(sched_link_share_permille(&s, 10), 561, 581);
	assert_in_range(sched_link_share_permille(&s, 11), 276, 296);
	assert_in_range(sched_link_share_permille(&s, 12), 133, 153);
	/* And every link was kept busy: the bundle carried ~ the sum. */
	assert_true(total >= 35 * MBIT * 10 * 98 / 100);
	/* Packets arrive in order: earliest arrival never overtakes. */
	assert_true(worst <= 1 * MS);
	uint64_t bytes, pkts;
	assert_int_equal(sched_link_stats(&s, 10, &bytes, &pkts), 0);
	assert_int_equal(bytes, p[0].picked_bytes);
	assert_int_equal(pkts * 1250, bytes);
}

static void delay_aware(void **state)
{
	(void)state;
	struct sched s;
	sched_init(&s, NULL);
	static struct sim_path p[2];
	memset(p, 0, sizeof(p));
	setup_paths(&s, p, 2);
	/* Fast but far (a satellite-like 150 ms) and slow but near. */
	p[0].rate = 20 * MBIT, p[0].owd_us = 150 * MS;
	p[1].rate = 5 * MBIT, p[1].owd_us = 10 * MS;

	/* Small packets at a low rate (VoIP, ACKs): all on the near link,
	 * where each arrives 140 ms sooner. */
	for (uint64_t t = 0; t < 2 * S; t += 5 * MS) {
		sim_sync(&s, &p[0], t);
		sim_sync(&s, &p[1], t);
		uint32_t id;
		assert_int_equal(sched_pick(&s, t, 200, &id, 1), 1);
		assert_int_equal(id, 11);
		sim_send(path_by_id(p, 2, id), t, 200);
	}
	assert_true(sched_arrival_us(&s, 11, 2 * S, 200) < sched_arrival_us(&s, 10, 2 * S, 200));
	assert_int_equal(p[0].picked_bytes, 0);

	/* Bulk: once the near link's queue is worth 140 ms, the far link
	 * carries the rest and most of the bytes. */
	uint64_t near_before = p[1].picked_bytes;
	sim_run(&s, p, 2, 2 * S, 5 * S, 3, 1250);
	uint64_t far = p[0].picked_bytes, near = p[1].picked_bytes - near_before;
	assert_true(far > 3 * near);
	assert_true(near >= 5 * MBIT * 5 * 95 / 100); /* near link still full */
}

static void inflight_cap(void **state)
{
	(void)state;
	struct sched s;
	sched_init(&s, NULL); /* margin 100 ms */
	assert_int_equal(sched_link_add(&s, 1), 0);
	struct sched_link_input in = {
	    .state = LINK_ALIVE,
	    .rate_Bps = 1000000,
	    .owd_us = 25000,
	    .rtt_us = 50000,
	    .min_rtt_us = 50000,
	    .in_flight = 0,
	};
	assert_int_equal(sched_link_update(&s, 1, 0, &in), 0);
	/* 1 MB/s x (50 + 100) ms = 150000 bytes: exactly 100 packets. */
	uint32_t id;
	unsigned n = 0;
	while (sched_pick(&s, 0, 1500, &id, 1) == 1 && n < 1000)
		n++;
	assert_int_equal(n, 100);
	/* Time alone does not free a measured window: only feedback does. */
	assert_int_equal(sched_pick(&s, 2 * S, 1500, &id, 1), 0);
	assert_int_equal(sched_next_ready_us(&s, 2 * S, 1500), UINT64_MAX);
	in.in_flight = 150000 - 75000;
	sched_link_update(&s, 1, 2 * S, &in);
	n = 0;
	while (sched_pick(&s, 2 * S, 1500, &id, 1) == 1 && n < 1000)
		n++;
	assert_int_equal(n, 50);

	/* No feedback (a plain pppd peer): the local backlog is bounded to
	 * rate x margin = 100000 bytes, and drains with time. */
	in.in_flight = -1;
	sched_link_update(&s, 1, 10 * S, &in);
	n = 0;
	while (sched_pick(&s, 10 * S, 1500, &id, 1) == 1 && n < 1000)
		n++;
	assert_int_equal(n, 66);
	uint64_t ready = sched_next_ready_us(&s, 10 * S, 1500);
	assert_int_equal(ready, 10 * S + 500); /* 99000 -> 98500 bytes */
	assert_int_equal(sched_pick(&s, ready - 1, 1500, &id, 1), 0);
	assert_int_equal(sched_pick(&s, ready, 1500, &id, 1), 1);
}

static void capped_link_spills_to_others(void **state)
{
	(void)state;
	struct sched s;
	sched_init(&s, NULL);
	sched_link_add(&s, 1);
	sched_link_add(&s, 2);
	struct sched_link_input fast = {.state = LINK_ALIVE,
					.rate_Bps = 10 * MBIT,
					.owd_us = 10000,
					.rtt_us = 20000,
					.min_rtt_us = 20000,
					.in_flight = 0};
	struct sched_link_input slow = fast;
	slow.rate_Bps = 1 * MBIT;
	slow.owd_us = 200000;
	slow.rtt_us = slow.min_rtt_us = 400000;
	sched_link_update(&s, 1, 0, &fast);
	sched_link_update(&s, 2, 0, &slow);
	/* A burst larger than the fast link's cap (1.25 MB/s x 120 ms =
	 * 150000 bytes): the fast link fills to its cap, never beyond. */
	uint64_t on[3] = {0};
	for (unsigned k = 0; k < 200; k++) {
		uint32_t id;
		if (sched_pick(&s, 0, 1500, &id, 1) == 1)
			on[id] += 1500;
	}
	assert_true(on[1] <= 150000);
	assert_true(on[1] >= 148500);
	assert_true(on[2] > 0);
}

/* Three 4 Mbit/s links estimated by linkest from echoes (no feedback:
 * rates are configured hints) under 10 Mbit/s of load; link 2 goes
 * silent at 2 s and returns at 5 s. */
struct est_world {
	struct sched s;
	struct linkest le[3];
	bool cut[3];
	uint64_t echo_sent[3];
	bool echo_pending[3];
	uint64_t last_pick[3];
	uint64_t picked[3];
};

static void world_step(struct est_world *w, uint64_t t)
{
	for (unsigned i = 0; i < 3; i++) {
		struct linkest *le = &w->le[i];
		if (w->echo_pending[i] && t >= w->echo_sent[i] + 40 * MS) {
			w->echo_pending[i] = false;
			if (!w->cut[i])
				linkest_on_rtt(le, t, (uint32_t)(t - w->echo_sent[i]));
		}
		if (linkest_echo_due(le, t)) {
			linkest_on_echo_sent(le, t);
			w->echo_sent[i] = t;
			w->echo_pending[i] = true;
		}
		linkest_tick(le, t);
		sched_link_sync(&w->s, le, t, 0);
	}
	/* 10 Mbit/s of 1250-byte packets: one per millisecond. */
	uint32_t id;
	if (sched_pick(&w->s, t, 1250, &id, 1) == 1) {
		linkest_on_send(&w->le[id], t, 1250);
		w->last_pick[id] = t;
		w->picked[id] += 1250;
	}
}

static void dead_link_failover_and_rejoin(void **state)
{
	(void)state;
	static struct est_world w;
	memset(&w, 0, sizeof(w));
	sched_init(&w.s, NULL);
	static const uint64_t rate[3] = {4 * MBIT, 4 * MBIT, 4 * MBIT};
	for (uint32_t i = 0; i < 3; i++) {
		struct linkest_params p;
		linkest_params_default(&p);
		p.rate_hint_Bps = rate[i];
		linkest_init(&w.le[i], i, &p, 0);
		assert_int_equal(sched_link_add(&w.s, i), 0);
	}
	for (uint64_t t = 0; t < 2 * S; t += MS)
		world_step(&w, t);
	for (unsigned i = 0; i < 3; i++)
		assert_true(w.picked[i] > 500000); /* all three in use */

	/* Cut link 2: it leaves the schedule within 300 ms of its last
	 * reply and is dead within 1 s; the others carry everything. */
	w.cut[2] = true;
	uint64_t cut = 2 * S, dead_at = 0;
	uint64_t before[3] = {w.picked[0], w.picked[1], w.picked[2]};
	for (uint64_t t = cut; t < 5 * S; t += MS) {
		world_step(&w, t);
		if (!dead_at && linkest_state(&w.le[2]) == LINK_DEAD)
			dead_at = t;
	}
	assert_true(dead_at > cut && dead_at - cut <= 1 * S);
	assert_true(w.last_pick[2] < cut + 300 * MS);
	uint64_t after0 = w.picked[0] - before[0], after1 = w.picked[1] - before[1];
	/* The two left run full: 2 x 4 Mbit/s = 1 MB/s. */
	assert_true(after0 + after1 >= 1000000 * 29 / 10 * 95 / 100);
	assert_in_range(after0 * 100 / (after0 + after1), 45, 55);

	/* It answers again: back in the schedule within a few echoes. */
	w.cut[2] = false;
	uint64_t back = 5 * S;
	for (uint64_t t = back; t < 6 * S; t += MS)
		world_step(&w, t);
	assert_int_equal(linkest_state(&w.le[2]), LINK_ALIVE);
	assert_true(w.last_pick[2] > back);
	assert_true(w.picked[2] - before[2] > 200000);
}

/* Closed loop: linkest learns each path from echoes and receiver feedback
 * every 50 ms (rates unknown at the start), the scheduler uses what it
 * learns. Shares must still settle near 57 / 29 / 14 %. */
struct loop_path {
	struct sim_path sim;
	struct linkest le;
	uint64_t arr_t[SIM_MAX_PKTS];
	uint32_t arr_sz[SIM_MAX_PKTS];
	unsigned ah, an;
	uint32_t rx_bytes, rx_pkts;
	struct link_feedback fbq[64];
	uint64_t fbq_at[64];
	unsigned fn;
	uint64_t echo_back;
	uint32_t echo_rtt;
};

static void loop_step(struct sched *s, struct loop_path *lp, unsigned n, uint64_t t)
{
	for (unsigned i = 0; i < n; i++) {
		struct loop_path *l = &lp[i];
		while (l->an && l->arr_t[l->ah] <= t) {
			l->rx_bytes += l->arr_sz[l->ah];
			l->rx_pkts++;
			l->ah = (l->ah + 1) % SIM_MAX_PKTS;
			l->an--;
		}
		if (t % (50 * MS) == 0 && l->fn < 64) {
			l->fbq[l->fn] = (struct link_feedback){.link_id = l->sim.id,
							       .bytes_rx = l->rx_bytes,
							       .pkts_rx = l->rx_pkts,
							       .rx_ts_us = (uint32_t)t};
			l->fbq_at[l->fn++] = t + l->sim.owd_us;
		}
		while (l->fn && l->fbq_at[0] <= t) {
			assert_int_equal(linkest_on_feedback(&l->le, t, &l->fbq[0]), 0);
			memmove(l->fbq, l->fbq + 1, --l->fn * sizeof(l->fbq[0]));
			memmove(l->fbq_at, l->fbq_at + 1, l->fn * sizeof(l->fbq_at[0]));
		}
		if (l->echo_back && l->echo_back <= t) {
			linkest_on_rtt(&l->le, t, l->echo_rtt);
			l->echo_back = 0;
		}
		if (linkest_echo_due(&l->le, t)) {
			/* The echo waits in the bottleneck queue like data. */
			linkest_on_echo_sent(&l->le, t);
			uint64_t q = l->sim.busy_us > t ? l->sim.busy_us - t : 0;
			l->echo_rtt = (uint32_t)(q + 2 * l->sim.owd_us);
			l->echo_back = t + l->echo_rtt;
		}
		linkest_tick(&l->le, t);
		sched_link_sync(s, &l->le, t, 0);
	}
}

static void closed_loop_shares(void **state)
{
	(void)state;
	struct sched s;
	sched_init(&s, NULL);
	static struct loop_path lp[3];
	memset(lp, 0, sizeof(lp));
	static const uint64_t rate[3] = {20 * MBIT, 10 * MBIT, 5 * MBIT};
	for (unsigned i = 0; i < 3; i++) {
		lp[i].sim.id = i;
		lp[i].sim.rate = rate[i];
		lp[i].sim.owd_us = 20 * MS;
		linkest_init(&lp[i].le, i, NULL, 0);
		assert_int_equal(sched_link_add(&s, i), 0);
	}
	uint64_t at5[3] = {0};
	for (uint64_t t = 0; t < 10 * S; t += MS) {
		if (t == 5 * S)
			for (unsigned i = 0; i < 3; i++)
				at5[i] = lp[i].sim.picked_bytes;
		loop_step(&s, lp, 3, t);
		/* 40 Mbit/s offered in 1250-byte packets. */
		for (unsigned k = 0; k < 4; k++) {
			uint32_t id;
			if (sched_pick(&s, t, 1250, &id, 1) != 1)
				continue;
			struct loop_path *l = &lp[id];
			linkest_on_send(&l->le, t, 1250);
			uint64_t a = sim_send(&l->sim, t, 1250);
			if (l->an < SIM_MAX_PKTS) {
				unsigned j = (l->ah + l->an++) % SIM_MAX_PKTS;
				l->arr_t[j] = a;
				l->arr_sz[j] = 1250;
			}
			sched_link_sync(&s, &l->le, t, 0);
		}
	}
	uint64_t d[3], sum = 0;
	for (unsigned i = 0; i < 3; i++) {
		d[i] = lp[i].sim.picked_bytes - at5[i];
		sum += d[i];
		/* The estimate found the path's rate. */
		assert_in_range(linkest_rate_Bps(&lp[i].le), rate[i] * 95 / 100, rate[i] * 105 / 100);
	}
	assert_in_range(d[0] * 100 / sum, 55, 59);
	assert_in_range(d[1] * 100 / sum, 27, 31);
	assert_in_range(d[2] * 100 / sum, 12, 16);
	/* Links kept full: >= 95 % of 35 Mbit/s over the last 5 s. */
	assert_true(sum >= 35 * MBIT * 5 * 95 / 100);
}

/* Three equal links, load two can carry: earliest arrival leaves the third
 * idle; with rotation on (for plain RFC 1990 receivers) it gets a packet
 * every rotate_us, and reordering stays below rotate_us. */
static void rotation_keeps_links_warm(void **state)
{
	(void)state;
	for (unsigned rot = 0; rot < 2; rot++) {
		struct sched_params sp;
		sched_params_default(&sp);
		sp.rotate_us = rot ? 50 * MS : 0;
		struct sched s;
		sched_init(&s, &sp);
		static struct sim_path p[3];
		memset(p, 0, sizeof(p));
		setup_paths(&s, p, 3);
		for (unsigned i = 0; i < 3; i++)
			p[i].rate = 4 * MBIT, p[i].owd_us = 20 * MS;
		p[2].owd_us = 30 * MS;
		uint64_t worst = sim_run(&s, p, 3, 0, 2 * S, 1, 1000);
		if (!rot) {
			assert_int_equal(p[2].picked_bytes, 0);
			assert_true(worst <= 1 * MS);
		} else {
			assert_in_range(p[2].picked_bytes / 1000, 35, 41);
			assert_true(worst <= 50 * MS);
		}
	}
}

static void redundant_two_distinct(void **state)
{
	(void)state;
	struct sched s;
	sched_init(&s, NULL);
	sched_set_policy(&s, SCHED_REDUNDANT, 2);
	static struct sim_path p[3];
	memset(p, 0, sizeof(p));
	setup_paths(&s, p, 3);
	p[0].rate = 20 * MBIT, p[0].owd_us = 80 * MS;
	p[1].rate = 10 * MBIT, p[1].owd_us = 20 * MS;
	p[2].rate = 5 * MBIT, p[2].owd_us = 30 * MS;
	for (uint64_t t = 0; t < 1 * S; t += 2 * MS) {
		uint64_t at[3];
		for (unsigned i = 0; i < 3; i++) {
			sim_sync(&s, &p[i], t);
			at[i] = sched_arrival_us(&s, p[i].id, t, 1000);
		}
		uint32_t ids[4];
		unsigned n = sched_pick(&s, t, 1000, ids, 4);
		assert_int_equal(n, 2);
		assert_int_not_equal(ids[0], ids[1]);
		/* The two chosen are the two earliest arrivals. */
		unsigned other = 0;
		while (p[other].id == ids[0] || p[other].id == ids[1])
			other++;
		assert_true(at[ids[0] - 10] <= at[other] && at[ids[1] - 10] <= at[other]);
		assert_true(at[ids[0] - 10] <= at[ids[1] - 10]);
		sim_send(path_by_id(p, 3, ids[0]), t, 1000);
		sim_send(path_by_id(p, 3, ids[1]), t, 1000);
	}
	/* Light load: the two near links carry the copies. */
	assert_int_equal(p[0].picked_bytes, 0);
	/* A caller asking for one link gets one; with one link alive, one. */
	uint32_t id;
	assert_int_equal(sched_pick(&s, 1 * S, 1000, &id, 1), 1);
	struct sched_link_input dead = {.state = LINK_DEAD, .in_flight = -1};
	sched_link_update(&s, 11, 1 * S, &dead);
	sched_link_update(&s, 12, 1 * S, &dead);
	uint32_t ids[4];
	assert_int_equal(sched_pick(&s, 1 * S, 1000, ids, 4), 1);
	assert_int_equal(ids[0], 10);
}

static void single_failover_sticky(void **state)
{
	(void)state;
	struct sched s;
	sched_init(&s, NULL);
	sched_set_policy(&s, SCHED_SINGLE, 1);
	sched_link_add(&s, 1);
	sched_link_add(&s, 2);
	struct sched_link_input a = {.state = LINK_ALIVE,
				     .rate_Bps = 10 * MBIT,
				     .owd_us = 20000,
				     .rtt_us = 40000,
				     .min_rtt_us = 40000,
				     .in_flight = -1};
	struct sched_link_input b = a;
	b.rate_Bps = 2 * MBIT;
	sched_link_update(&s, 1, 0, &a);
	sched_link_update(&s, 2, 0, &b);
	uint32_t id;
	for (uint64_t t = 0; t < 100 * MS; t += MS) {
		assert_int_equal(sched_pick(&s, t, 1000, &id, 1), 1);
		assert_int_equal(id, 1); /* only the best link */
	}
	/* Suspect: fail over at once; dead: same. */
	a.state = LINK_SUSPECT;
	sched_link_update(&s, 1, 100 * MS, &a);
	assert_int_equal(sched_pick(&s, 100 * MS, 1000, &id, 1), 1);
	assert_int_equal(id, 2);
	a.state = LINK_DEAD;
	sched_link_update(&s, 1, 200 * MS, &a);
	assert_int_equal(sched_pick(&s, 200 * MS, 1000, &id, 1), 1);
	assert_int_equal(id, 2);
	/* The old link's return does not flap traffic back. */
	a.state = LINK_ALIVE;
	sched_link_update(&s, 1, 300 * MS, &a);
	assert_int_equal(sched_pick(&s, 300 * MS, 1000, &id, 1), 1);
	assert_int_equal(id, 2);
	/* Nothing usable: nothing picked. */
	b.state = a.state = LINK_DEAD;
	sched_link_update(&s, 1, 400 * MS, &a);
	sched_link_update(&s, 2, 400 * MS, &b);
	assert_int_equal(sched_pick(&s, 400 * MS, 1000, &id, 1), 0);
	assert_int_equal(sched_next_ready_us(&s, 400 * MS, 1000), UINT64_MAX);
}

static void unknown_rate_probe_share(void **state)
{
	(void)state;
	struct sched s;
	sched_init(&s, NULL); /* probe: 1 Mbit/s, window 16 KiB */
	sched_link_add(&s, 1);
	sched_link_add(&s, 2);
	struct sched_link_input known = {.state = LINK_ALIVE,
					 .rate_Bps = 10 * MBIT,
					 .owd_us = 20000,
					 .rtt_us = 40000,
					 .min_rtt_us = 40000,
					 .in_flight = 0};
	struct sched_link_input fresh = known;
	fresh.rate_Bps = 0;
	fresh.rtt_us = fresh.min_rtt_us = 0;
	sched_link_update(&s, 1, 0, &known);
	sched_link_update(&s, 2, 0, &fresh);
	uint64_t on[3] = {0};
	for (unsigned k = 0; k < 100; k++) {
		uint32_t id;
		assert_int_equal(sched_pick(&s, 0, 1000, &id, 1), 1);
		on[id] += 1000;
	}
	/* The fresh link gets a small share and never more than the probe
	 * window in flight. */
	assert_true(on[2] > 0);
	assert_true(on[2] <= 16384);
	assert_true(on[1] > 5 * on[2]);
}

static void dead_and_unknown_never_picked(void **state)
{
	(void)state;
	struct sched s;
	sched_init(&s, NULL);
	uint32_t id;
	assert_int_equal(sched_pick(&s, 0, 1000, &id, 1), 0);
	assert_int_equal(sched_link_add(&s, 7), 0);
	assert_int_equal(sched_link_add(&s, 7), -EEXIST);
	/* Added but never updated: not yet usable. */
	assert_int_equal(sched_pick(&s, 0, 1000, &id, 1), 0);
	for (uint32_t i = 100; i < 100 + SCHED_MAX_LINKS - 1; i++)
		assert_int_equal(sched_link_add(&s, i), 0);
	assert_int_equal(sched_link_add(&s, 999), -ENOSPC);
	assert_int_equal(sched_link_remove(&s, 999), -ENOENT);
	assert_int_equal(sched_link_update(&s, 999, 0, &(struct sched_link_input){0}), -ENOENT);
	assert_int_equal(sched_link_remove(&s, 7), 0);
	assert_int_equal(sched_link_share_permille(&s, 7), -ENOENT);
	assert_int_equal(sched_arrival_us(&s, 100, 0, 1000), UINT64_MAX);
	/* Absurd estimates are clamped, not overflowed. */
	struct sched_link_input huge = {.state = LINK_ALIVE,
					.rate_Bps = UINT64_MAX,
					.owd_us = UINT32_MAX,
					.rtt_us = UINT32_MAX,
					.min_rtt_us = UINT32_MAX,
					.in_flight = INT64_MAX,
					.queued = UINT64_MAX};
	assert_int_equal(sched_link_update(&s, 100, 0, &huge), 0);
	uint64_t a = sched_arrival_us(&s, 100, 0, 1000);
	assert_true(a > 0 && a < 200 * S);
}

static void policy_names(void **state)
{
	(void)state;
	assert_int_equal(sched_policy_from_string("earliest"), SCHED_EARLIEST);
	assert_int_equal(sched_policy_from_string("redundant"), SCHED_REDUNDANT);
	assert_int_equal(sched_policy_from_string("single"), SCHED_SINGLE);
	assert_int_equal(sched_policy_from_string("roundrobin"), -EINVAL);
	assert_int_equal(sched_policy_from_string(NULL), -EINVAL);
	assert_string_equal(sched_policy_to_string(SCHED_REDUNDANT), "redundant");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(proportional_shares),
	    cmocka_unit_test(delay_aware),
	    cmocka_unit_test(inflight_cap),
	    cmocka_unit_test(capped_link_spills_to_others),
	    cmocka_unit_test(dead_link_failover_and_rejoin),
	    cmocka_unit_test(closed_loop_shares),
	    cmocka_unit_test(rotation_keeps_links_warm),
	    cmocka_unit_test(redundant_two_distinct),
	    cmocka_unit_test(single_failover_sticky),
	    cmocka_unit_test(unknown_rate_probe_share),
	    cmocka_unit_test(dead_and_unknown_never_picked),
	    cmocka_unit_test(policy_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
