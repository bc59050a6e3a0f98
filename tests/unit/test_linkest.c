/* Per-link estimates: RFC 6298 RTT math against hand-computed values, base
 * delay window, delivery rate / loss / in flight from receiver feedback, and
 * liveness (dead within 1 s of silence, no false death on a slow link). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "linkest.h"

#define MS 1000ULL
#define S  1000000ULL

static void rtt_rfc6298(void **state)
{
	(void)state;
	struct linkest le;
	linkest_init(&le, 1, NULL, 0);
	assert_int_equal(le.srtt_us, 0);
	assert_int_equal(linkest_min_rtt_us(&le), 0);

	/* First sample: SRTT = R, RTTVAR = R/2. */
	linkest_on_rtt(&le, 100 * MS, 100000);
	assert_int_equal(le.srtt_us, 100000);
	assert_int_equal(le.rttvar_us, 50000);
	/* R = 120 ms: RTTVAR = 3/4*50000 + 1/4*|100000-120000| = 42500,
	 * SRTT = 7/8*100000 + 1/8*120000 = 102500. */
	linkest_on_rtt(&le, 200 * MS, 120000);
	assert_int_equal(le.rttvar_us, 42500);
	assert_int_equal(le.srtt_us, 102500);
	/* R = 80 ms: RTTVAR = (3*42500 + 22500)/4 = 37500,
	 * SRTT = (7*102500 + 80000)/8 = 99687 (truncated). */
	linkest_on_rtt(&le, 300 * MS, 80000);
	assert_int_equal(le.rttvar_us, 37500);
	assert_int_equal(le.srtt_us, 99687);
	assert_int_equal(linkest_rto_us(&le), 99687 + 4 * 37500);
	assert_int_equal(linkest_min_rtt_us(&le), 80000);
	assert_int_equal(linkest_owd_us(&le), 40000);
	assert_int_equal(linkest_queue_delay_us(&le), 99687 - 80000);

	/* A steady 60 ms path: SRTT converges to it, RTTVAR towards 0. */
	for (unsigned i = 0; i < 80; i++)
		linkest_on_rtt(&le, 400 * MS + i * 100 * MS, 60000);
	assert_in_range(le.srtt_us, 60000, 60010);
	assert_true(le.rttvar_us < 100);
	assert_int_equal(linkest_min_rtt_us(&le), 60000);
	assert_int_equal(linkest_queue_delay_us(&le), le.srtt_us - 60000);
}

static void min_rtt_window(void **state)
{
	(void)state;
	struct linkest le;
	linkest_init(&le, 1, NULL, 0);
	linkest_on_rtt(&le, 0, 20000);
	/* Queueing raises later samples; the 20 ms base holds for 10 s ... */
	for (uint64_t t = 1; t <= 9; t++)
		linkest_on_rtt(&le, t * S, 50000 + (uint32_t)t * 1000);
	assert_int_equal(linkest_min_rtt_us(&le), 20000);
	/* ... then expires: the path really got slower (a handover). */
	for (uint64_t t = 10; t <= 13; t++)
		linkest_on_rtt(&le, t * S, 70000);
	assert_in_range(linkest_min_rtt_us(&le), 50000, 70000);
	assert_true(linkest_min_rtt_us(&le) > 20000);
	/* A lower sample always wins at once. */
	linkest_on_rtt(&le, 14 * S, 30000);
	assert_int_equal(linkest_min_rtt_us(&le), 30000);
}

static struct link_feedback fb(uint32_t bytes, uint32_t pkts, uint32_t lost, uint32_t ts)
{
	return (struct link_feedback){
	    .link_id = 1, .bytes_rx = bytes, .pkts_rx = pkts, .pkts_lost = lost, .rx_ts_us = ts};
}

static void send_n(struct linkest *le, uint64_t now, unsigned n, uint32_t size)
{
	for (unsigned i = 0; i < n; i++)
		linkest_on_send(le, now, size);
}

static void feedback_rate_loss_inflight(void **state)
{
	(void)state;
	struct linkest le;
	linkest_init(&le, 1, NULL, 0);
	assert_int_equal(linkest_in_flight(&le, 0), -1); /* no feedback yet */
	assert_int_equal(linkest_rate_Bps(&le), 0);

	send_n(&le, 0, 100, 1000);
	/* Receiver clock is unrelated to ours: only its differences count. */
	struct link_feedback f = fb(20000, 20, 0, 7000000);
	assert_int_equal(linkest_on_feedback(&le, 50 * MS, &f), 0);
	assert_int_equal(linkest_in_flight(&le, 50 * MS), 80000);

	/* 50000 bytes over 100 ms of receiver time: 500 kB/s, taken while
	 * the owner had more to send (an app-limited first sample would not
	 * start the estimate: an idle link must not look slow for good). */
	linkest_on_blocked(&le);
	f = fb(70000, 70, 0, 7100000);
	assert_int_equal(linkest_on_feedback(&le, 150 * MS, &f), 0);
	assert_int_equal(linkest_in_flight(&le, 150 * MS), 30000);
	assert_int_equal(linkest_rate_Bps(&le), 500000);
	assert_int_equal(le.loss_ppm, 0);

	/* One frame lost out of ten: EWMA moves 1/8 of the way to 10 %; the
	 * lost frame no longer counts as in flight. A slower sample does not
	 * lower the windowed maximum. */
	f = fb(79000, 79, 1, 7120000);
	assert_int_equal(linkest_on_feedback(&le, 170 * MS, &f), 0);
	assert_int_equal(le.loss_ppm, 12500);
	assert_int_equal(linkest_in_flight(&le, 170 * MS), 100000 - 79000 - 1000);
	assert_int_equal(linkest_rate_Bps(&le), 500000);

	/* A duplicate or reordered (older) record changes nothing. */
	f = fb(70000, 70, 0, 7100000);
	assert_int_equal(linkest_on_feedback(&le, 180 * MS, &f), 0);
	assert_int_equal(linkest_in_flight(&le, 180 * MS), 20000);
	assert_int_equal(le.loss_ppm, 12500);

	/* More received than we ever sent: refused, totals re-based. */
	f = fb(500000, 500, 1, 7200000);
	assert_int_equal(linkest_on_feedback(&le, 250 * MS, &f), -EINVAL);
	assert_int_equal(linkest_in_flight(&le, 250 * MS), 0);

	/* Without feedback for a second, in flight is unknown again. */
	assert_int_equal(linkest_in_flight(&le, 250 * MS + 1 * S + 1), -1);
}

static void feedback_wraps(void **state)
{
	(void)state;
	struct linkest le;
	linkest_init(&le, 1, NULL, 0);
	send_n(&le, 0, 20, 1000);
	/* Counters from the receiver's earlier life of this link: re-based,
	 * and what we had in flight is written off. */
	struct link_feedback f = fb(0xFFFFF000u, 5, 0, 0xFFFFFF00u);
	assert_int_equal(linkest_on_feedback(&le, 10 * MS, &f), -EINVAL);
	assert_int_equal(linkest_in_flight(&le, 10 * MS), 0);
	send_n(&le, 10 * MS, 10, 1000);
	/* Bytes and timestamp both wrap modulo 2^32: 8000 bytes in 50 ms. */
	linkest_on_blocked(&le);
	f = fb(0xFFFFF000u + 8000u, 13, 0, 0xFFFFFF00u + 50000u);
	assert_int_equal(linkest_on_feedback(&le, 60 * MS, &f), 0);
	assert_int_equal(linkest_in_flight(&le, 60 * MS), 2000);
	assert_int_equal(linkest_rate_Bps(&le), 160000);
}

/* Our receiver reports no per-link losses: what was sent long enough ago
 * (an RTO plus slack) and is still not reported received was lost, and
 * stops counting in flight (else the link would look full for ever). */
static void unreported_loss_written_off(void **state)
{
	(void)state;
	struct linkest le;
	linkest_init(&le, 1, NULL, 0);
	linkest_on_rtt(&le, 0, 40000);
	send_n(&le, 0, 100, 1000);
	struct link_feedback f = fb(20000, 20, 0, 1000000);
	linkest_on_feedback(&le, 50 * MS, &f);
	assert_int_equal(linkest_in_flight(&le, 50 * MS), 80000);
	/* 40 of the 100 frames never arrive; 600 ms later that is clear. */
	f = fb(60000, 60, 0, 1100000);
	linkest_on_feedback(&le, 150 * MS, &f);
	assert_int_equal(linkest_in_flight(&le, 150 * MS), 40000); /* too early to tell */
	f = fb(60000, 60, 0, 1600000);
	linkest_on_feedback(&le, 650 * MS, &f);
	assert_int_equal(linkest_in_flight(&le, 650 * MS), 0);
}

/* A sample taken while a queue stood on the link is its capacity now: the
 * estimate follows a fall at once (the windowed maximum would hold the old
 * peak for 2 s), and returns to the recent best when such samples stop. */
static void queue_backed_rate_follows_capacity_down(void **state)
{
	(void)state;
	struct linkest le;
	linkest_init(&le, 1, NULL, 0);
	linkest_on_rtt(&le, 0, 40000);
	uint64_t t = 0, sent = 0, rx = 0;
	for (unsigned i = 0; i < 30; i++) {
		t += 50 * MS;
		send_n(&le, t, 50, 1000);
		sent += 50000;
		linkest_on_blocked(&le);
		/* 1 MB/s with 150 kB in flight (40 kB pipe + a queue), then
		 * the link falls to 250 kB/s under the same offered load. */
		rx = i < 15 ? sent - 150000 : rx + 12500;
		struct link_feedback f = fb((uint32_t)rx, (uint32_t)(rx / 1000), 0, (uint32_t)t);
		linkest_on_feedback(&le, t, &f);
		if (i == 14)
			assert_int_equal(linkest_rate_Bps(&le), 1000000);
	}
	/* Samples averaged in (1/4 each) from 1 MB/s: far below the 2 s
	 * maximum (which still says 1 MB/s), close to the new capacity. */
	assert_in_range(linkest_rate_Bps(&le), 250000, 300000);
	assert_true(linkest_sched_rate_Bps(&le, t) <= 300000 + 300000 / 4);
	/* Half a second without news: the recent best is tried again. */
	assert_true(linkest_sched_rate_Bps(&le, t + 600 * MS) >= 750000);
}

/* Feed a steady delivery rate; check startup's 2x gain ends once the rate
 * stops growing and the probing cycle follows. */
static void rate_startup_then_cycle(void **state)
{
	(void)state;
	struct linkest le;
	linkest_init(&le, 1, NULL, 0);
	linkest_on_rtt(&le, 0, 40000);
	uint32_t bytes = 0, pkts = 0;
	uint64_t t = 0;
	for (unsigned i = 0; i < 20; i++) {
		t += 50 * MS;
		send_n(&le, t, 50, 1000); /* 1 MB/s, pipe kept full: */
		linkest_on_blocked(&le);  /* the owner had more to send */
		bytes += 50000;
		pkts += 50;
		struct link_feedback f = fb(bytes - 40000, pkts - 40, 0, (uint32_t)t);
		linkest_on_feedback(&le, t, &f);
		if (i == 1) {
			assert_true(le.in_startup);
			assert_int_equal(linkest_sched_rate_Bps(&le, t), 2000000);
		}
	}
	assert_false(le.in_startup);
	assert_int_equal(linkest_rate_Bps(&le), 1000000);
	/* Phases of one srtt: probe 5/4, drain 3/4, then cruise. */
	uint64_t c = le.cycle_start_us;
	assert_int_equal(linkest_sched_rate_Bps(&le, c), 1250000);
	assert_int_equal(linkest_sched_rate_Bps(&le, c + le.srtt_us), 750000);
	assert_int_equal(linkest_sched_rate_Bps(&le, c + 2 * le.srtt_us), 1000000);
	assert_int_equal(linkest_sched_rate_Bps(&le, c + 8 * le.srtt_us), 1250000);
}

static void rate_hint_until_measured(void **state)
{
	(void)state;
	struct linkest_params p;
	linkest_params_default(&p);
	p.rate_hint_Bps = 625000;
	struct linkest le;
	linkest_init(&le, 1, &p, 0);
	assert_int_equal(linkest_rate_Bps(&le), 625000);
	assert_int_equal(linkest_sched_rate_Bps(&le, 0), 625000);
}

/* A plain peer sends no feedback: the rate comes from echo RTTs alone. A
 * 10 Mbit/s bottleneck 40 ms away (fluid model, 1 ms steps) fed at the
 * rate linkest allows, echoes every 100 ms queued behind the data. Returns
 * the largest queueing delay seen after `settle`, and fills min/max of the
 * scheduler rate after it. offered: bytes/s the sender has to send (it
 * sends min(offered, rate)). */
struct dly_run {
	uint64_t rate_min, rate_max, qdelay_max;
	uint64_t util_permille; /* bottleneck busy after settle */
	uint64_t reached_us;	/* first time the rate was >= 80 % of capacity */
};

static void dly_sim(struct linkest *le, uint64_t offered, uint64_t end, uint64_t settle,
		    struct dly_run *out)
{
	const uint64_t cap = 1250000, base = 40 * MS;
	uint64_t q = 0, credit = 0; /* bytes queued at the bottleneck; bytes x 1000 */
	uint64_t reply_at[64], reply_rtt[64];
	unsigned nr = 0;

	uint64_t busy = 0;

	*out = (struct dly_run){.rate_min = UINT64_MAX};
	for (uint64_t t = 0; t < end; t += MS) {
		uint64_t rate = linkest_sched_rate_Bps(le, t);
		if (!rate)
			rate = 125000; /* the scheduler's probe rate */
		credit += rate < offered ? rate : offered;
		while (credit >= 1500 * 1000) {
			credit -= 1500 * 1000;
			linkest_on_send(le, t, 1500);
			q += 1500;
		}
		if (t >= settle && q >= cap / 1000)
			busy++;
		q = q > cap / 1000 ? q - cap / 1000 : 0;
		if (linkest_echo_due(le, t)) {
			linkest_on_echo_sent(le, t);
			assert_true(nr < 64);
			reply_rtt[nr] = base + q * S / cap;
			reply_at[nr] = t + reply_rtt[nr];
			nr++;
		}
		for (unsigned i = 0; i < nr;) {
			if (reply_at[i] > t) {
				i++;
				continue;
			}
			linkest_on_rtt(le, t, (uint32_t)reply_rtt[i]);
			reply_at[i] = reply_at[nr - 1];
			reply_rtt[i] = reply_rtt[--nr];
		}
		if (!out->reached_us && rate >= cap * 8 / 10)
			out->reached_us = t;
		if (t >= settle) {
			uint64_t qd = q * S / cap;
			out->qdelay_max = qd > out->qdelay_max ? qd : out->qdelay_max;
			out->rate_min = rate < out->rate_min ? rate : out->rate_min;
			out->rate_max = rate > out->rate_max ? rate : out->rate_max;
		}
	}
	out->util_permille = busy * 1000 / ((end - settle) / MS);
}

static void delay_based_rate(void **state)
{
	(void)state;
	struct linkest le;
	struct dly_run run;

	/* Demand beyond capacity: from 1 Mbit/s to the link's 10 Mbit/s
	 * within a second, then around it without a standing queue. */
	linkest_init(&le, 1, NULL, 0);
	assert_int_equal(linkest_rate_Bps(&le), 0); /* nothing known before an echo */
	dly_sim(&le, 10 * 1250000, 10 * S, 3 * S, &run);
	assert_true(run.reached_us > 0 && run.reached_us < 1 * S);
	assert_true(run.rate_min >= 1250000 / 2);
	assert_true(run.rate_max <= 1250000 * 2);
	assert_true(run.qdelay_max < 100 * MS);
	assert_true(run.util_permille >= 800);		      /* 84 % with these gains */
	assert_int_equal(linkest_in_flight(&le, 10 * S), -1); /* still no feedback */

	/* Little demand and no queueing: the rate does not grow on its own
	 * (an idle link says nothing about its capacity). */
	linkest_init(&le, 1, NULL, 0);
	dly_sim(&le, 20000, 5 * S, 0, &run);
	assert_int_equal(linkest_rate_Bps(&le), 125000);

	/* Off: the rate stays unknown and the scheduler probes. */
	struct linkest_params p;
	linkest_params_default(&p);
	p.dly_init_Bps = 0;
	linkest_init(&le, 1, &p, 0);
	dly_sim(&le, 10 * 1250000, 2 * S, 0, &run);
	assert_int_equal(linkest_rate_Bps(&le), 0);

	/* Feedback, once it comes, measures the rate and takes over. */
	linkest_init(&le, 1, NULL, 0);
	dly_sim(&le, 10 * 1250000, 2 * S, 0, &run);
	assert_true(linkest_rate_Bps(&le) > 125000);
	struct link_feedback fb = {.link_id = 1, .rx_ts_us = 0};
	assert_int_equal(linkest_on_feedback(&le, 2 * S, &fb), 0);
	fb.bytes_rx = 10000;
	fb.pkts_rx = 7;
	fb.rx_ts_us = 100000;
	assert_int_equal(linkest_on_feedback(&le, 2 * S + 100 * MS, &fb), 0);
	assert_int_equal(linkest_rate_Bps(&le), 100000);
}

/* Echo every 100 ms (the default interval); each reply comes back after
 * rtt(n). Echoes sent at or after `cut` get no reply. Records the times of
 * the transitions to SUSPECT and DEAD (0 = none) and the last reception
 * before death. */
struct echo_sim {
	uint64_t sent[64];
	uint64_t back[64];
	unsigned npend, seq;
	uint64_t t_suspect, t_dead, last_rx_at_death;
};

static void run_echoes(struct echo_sim *e, struct linkest *le, uint64_t from, uint64_t until,
		       uint64_t cut, uint32_t (*rtt)(unsigned))
{
	for (uint64_t t = from; t <= until; t += MS) {
		if (linkest_echo_due(le, t)) {
			linkest_on_echo_sent(le, t);
			uint32_t r = rtt(e->seq++);
			if (t < cut && e->npend < 64) {
				e->sent[e->npend] = t;
				e->back[e->npend++] = t + r;
			}
		}
		for (unsigned i = 0; i < e->npend;) {
			if (e->back[i] <= t) {
				linkest_on_rtt(le, t, (uint32_t)(t - e->sent[i]));
				e->npend--;
				e->sent[i] = e->sent[e->npend];
				e->back[i] = e->back[e->npend];
			} else {
				i++;
			}
		}
		if (linkest_tick(le, t)) {
			if (linkest_state(le) == LINK_SUSPECT && !e->t_suspect)
				e->t_suspect = t;
			if (linkest_state(le) == LINK_DEAD && !e->t_dead) {
				e->t_dead = t;
				e->last_rx_at_death = le->last_rx_us;
			}
		}
	}
}

static uint32_t rtt_typical(unsigned i)
{
	return 40000 + (i % 5) * 3000; /* 40..52 ms */
}

static uint32_t rtt_slow(unsigned i)
{
	static const int32_t jitter[] = {0, 40000, -30000, 50000, -50000, 10000, 30000, -20000};
	return (uint32_t)(600000 + jitter[i % 8]); /* 550..650 ms */
}

static void dead_within_1s_typical(void **state)
{
	(void)state;
	struct linkest le;
	struct echo_sim e = {0};
	linkest_init(&le, 1, NULL, 0);
	/* Ten seconds of a healthy link: no state change at all. */
	run_echoes(&e, &le, 0, 10 * S, UINT64_MAX, rtt_typical);
	assert_int_equal(e.t_suspect, 0);
	assert_int_equal(e.t_dead, 0);
	/* Then replies stop: suspect first, dead well within one second of
	 * the last reception, and not before the 200 ms floor. */
	run_echoes(&e, &le, 10 * S + MS, 12 * S, 10 * S, rtt_typical);
	assert_int_equal(linkest_state(&le), LINK_DEAD);
	assert_true(e.t_suspect > 0 && e.t_suspect < e.t_dead);
	uint64_t silent = e.t_dead - e.last_rx_at_death;
	assert_true(silent >= 200 * MS);
	assert_true(silent <= 400 * MS); /* typical RTTs: far inside 1 s */
	assert_true(e.t_dead - 10 * S <= 1 * S);
}

static void no_false_death_600ms(void **state)
{
	(void)state;
	struct linkest le;
	struct echo_sim e = {0};
	linkest_init(&le, 1, NULL, 0);
	/* The first reply comes 600 ms after link-up and replies keep coming
	 * every 100 ms with +-50 ms jitter: never suspect, never dead. */
	run_echoes(&e, &le, 0, 60 * S, UINT64_MAX, rtt_slow);
	assert_int_equal(e.t_suspect, 0);
	assert_int_equal(e.t_dead, 0);
	assert_int_equal(linkest_state(&le), LINK_ALIVE);
	assert_in_range(le.srtt_us, 550000, 650000);
	/* When it does go silent, it is still dead within 1 s of silence. */
	run_echoes(&e, &le, 60 * S + MS, 63 * S, 60 * S, rtt_slow);
	assert_int_equal(linkest_state(&le), LINK_DEAD);
	assert_true(e.t_dead - e.last_rx_at_death <= 1 * S + MS);
}

/* Data at 1 MB/s (1000-byte frames every ms) over a 50 ms path; the
 * receiver reports what arrived every 40 ms, echoes every 100 ms. From
 * `stop` on nothing more arrives (feedback still comes, echoes do not);
 * from `resume` on, delivery goes on. `drop` loses one frame. Returns
 * when the link first turned suspect, 0 if never. */
static uint64_t run_stream(struct linkest *le, uint64_t from, uint64_t until, uint64_t stop,
			   uint64_t resume, uint64_t drop, uint32_t *rx_bytes)
{
	uint64_t t_suspect = 0;
	for (uint64_t t = from; t <= until; t += MS) {
		linkest_on_send(le, t, 1000);
		bool delivering = t < stop || t >= resume;
		/* What was sent 25 ms ago arrives now (one way). */
		if (delivering && t >= 25 * MS && t - 25 * MS != drop)
			*rx_bytes += 1000;
		if (t % (40 * MS) == 0) { /* the report reaches us 25 ms later: */
			struct link_feedback f =
			    fb(*rx_bytes > 25000 ? *rx_bytes - 25000 : 0, 0, 0, (uint32_t)t);
			linkest_on_feedback(le, t, &f);
		}
		if (delivering && t % (100 * MS) == 0)
			linkest_on_rtt(le, t, 50000);
		if (linkest_tick(le, t) && linkest_state(le) == LINK_SUSPECT && !t_suspect)
			t_suspect = t;
	}
	return t_suspect;
}

static void stall_seen_from_feedback(void **state)
{
	(void)state;
	struct linkest le;
	uint32_t rx = 0;
	linkest_init(&le, 1, NULL, 0);
	/* Three healthy seconds, one frame lost at 2 s: a loss on a link that
	 * keeps delivering is no stall. */
	assert_int_equal(run_stream(&le, 0, 3 * S, UINT64_MAX, 0, 2 * S, &rx), 0);
	assert_int_equal(linkest_state(&le), LINK_ALIVE);
	assert_int_equal(linkest_stall_timeout_us(&le) / 1000, 50 + 80);
	/* Delivery stops (a coverage gap on the way up): suspect within a few
	 * feedback paces, long before the silence timeout, although the
	 * feedback itself still comes back ... */
	uint64_t sus = run_stream(&le, 3 * S + MS, 4 * S, 3 * S, UINT64_MAX, 0, &rx);
	assert_true(sus > 3 * S);
	assert_true(sus - 3 * S <= 250 * MS);
	assert_true(le.stalled);
	/* ... and it stays suspect while feedback reports nothing new (no
	 * flapping back to alive on every report). */
	assert_int_equal(linkest_state(&le), LINK_SUSPECT);
	/* Delivery resumes: the first report of progress makes it alive. */
	run_stream(&le, 4 * S + MS, 5 * S, 0, 4 * S, 0, &rx);
	assert_int_equal(linkest_state(&le), LINK_ALIVE);
	assert_false(le.stalled);
}

static void revival(void **state)
{
	(void)state;
	struct linkest le;
	linkest_init(&le, 1, NULL, 0);
	linkest_on_rtt(&le, 50 * MS, 50000);
	send_n(&le, 60 * MS, 10, 1000);
	struct link_feedback f = fb(2000, 2, 0, 1000);
	linkest_on_feedback(&le, 70 * MS, &f);
	assert_int_equal(linkest_in_flight(&le, 70 * MS), 8000);
	assert_true(linkest_tick(&le, 2 * S));
	assert_int_equal(linkest_state(&le), LINK_DEAD);

	/* One stray datagram much later does not revive it ... */
	linkest_on_rx(&le, 10 * S);
	assert_int_equal(linkest_state(&le), LINK_DEAD);
	/* ... nor another one after more silence ... */
	linkest_on_rx(&le, 20 * S);
	assert_int_equal(linkest_state(&le), LINK_DEAD);
	/* ... but a second reception close behind does. */
	linkest_on_rtt(&le, 20 * S + 100 * MS, 90000);
	assert_int_equal(linkest_state(&le), LINK_ALIVE);
	/* Possibly a new path: delay measured afresh, not min'd with the old
	 * 50 ms; what was in flight at death no longer counts. */
	assert_int_equal(le.srtt_us, 90000);
	assert_int_equal(linkest_min_rtt_us(&le), 90000);
	f = fb(2000, 2, 0, 900000);
	assert_int_equal(linkest_on_feedback(&le, 20 * S + 150 * MS, &f), 0);
	assert_int_equal(linkest_in_flight(&le, 20 * S + 150 * MS), 0);
	send_n(&le, 20 * S + 160 * MS, 3, 1000);
	assert_int_equal(linkest_in_flight(&le, 20 * S + 160 * MS), 3000);
}

static void suspect_recovers_on_rx(void **state)
{
	(void)state;
	struct linkest le;
	linkest_init(&le, 1, NULL, 0);
	linkest_on_rtt(&le, 0, 40000);
	uint32_t sus = linkest_suspect_timeout_us(&le);
	assert_true(sus < linkest_dead_timeout_us(&le));
	assert_false(linkest_tick(&le, sus));
	assert_true(linkest_tick(&le, sus + 1));
	assert_int_equal(linkest_state(&le), LINK_SUSPECT);
	assert_true(linkest_next_event_us(&le) <= le.last_rx_us + linkest_dead_timeout_us(&le) + 1);
	linkest_on_rx(&le, sus + 2);
	assert_int_equal(linkest_state(&le), LINK_ALIVE);
	assert_string_equal(link_liveness_to_string(LINK_SUSPECT), "suspect");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(rtt_rfc6298),
	    cmocka_unit_test(min_rtt_window),
	    cmocka_unit_test(feedback_rate_loss_inflight),
	    cmocka_unit_test(feedback_wraps),
	    cmocka_unit_test(rate_startup_then_cycle),
	    cmocka_unit_test(unreported_loss_written_off),
	    cmocka_unit_test(queue_backed_rate_follows_capacity_down),
	    cmocka_unit_test(rate_hint_until_measured),
	    cmocka_unit_test(delay_based_rate),
	    cmocka_unit_test(dead_within_1s_typical),
	    cmocka_unit_test(no_false_death_600ms),
	    cmocka_unit_test(stall_seen_from_feedback),
	    cmocka_unit_test(revival),
	    cmocka_unit_test(suspect_recovers_on_rx),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
