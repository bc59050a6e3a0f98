/* linkem's engine under a fake clock: Mahimahi trace parsing and arithmetic,
 * partial sends across opportunities, lost opportunities, fixed-rate
 * serialization, the time-bounded drop-tail queue, delay and jitter
 * (FIFO and reorder), random and Gilbert-Elliott loss, outages and the
 * capacity they remove, determinism of the seed, profile errors. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lk.h"

#define MS LK_NS_PER_MS
#define T0 (1000 * LK_NS_PER_S) /* a monotonic clock never starts at 0 */

static struct lk_trace parse_ok(const char *text)
{
	struct lk_trace t;
	char err[256];

	assert_int_equal(lk_trace_parse(&t, text, strlen(text), "t", err, sizeof(err)), 0);
	return t;
}

static void parse_err(const char *text, const char *want)
{
	struct lk_trace t;
	char err[256] = "";

	assert_int_not_equal(lk_trace_parse(&t, text, strlen(text), "t", err, sizeof(err)), 0);
	if (!strstr(err, want))
		fail_msg("error '%s' lacks '%s'", err, want);
}

static void test_trace_parse(void **state)
{
	struct lk_trace t = parse_ok("1\n2\n2\r\n\n5");

	assert_int_equal(t.n, 4);
	assert_int_equal(t.period_ms, 5);
	lk_trace_free(&t);
	parse_err("1\n3\n2\n", "t:3: timestamp 2 goes back");
	parse_err("1\nx\n", "t:2: expected a millisecond timestamp");
	parse_err("1\n-2\n", "t:2:");
	parse_err("\n\n", "no timestamps");
	parse_err("0\n0\n", "last timestamp must be > 0");
	parse_err("99999999999\n", "t:1: timestamp too large");
}

static void test_trace_math(void **state)
{
	/* mm-link: opportunity j at (j / n) * 10 + ts[j % n] -> 0 5 10 10 15 20 20 ... */
	struct lk_trace t = parse_ok("0\n5\n10\n");

	assert_int_equal(lk_trace_time(&t, 0), 0);
	assert_int_equal(lk_trace_time(&t, 2), 10 * MS);
	assert_int_equal(lk_trace_time(&t, 3), 10 * MS);
	assert_int_equal(lk_trace_time(&t, 4), 15 * MS);
	assert_int_equal(lk_trace_first(&t, 0), 0);
	assert_int_equal(lk_trace_first(&t, 1), 1);
	assert_int_equal(lk_trace_first(&t, 10 * MS), 2);
	assert_int_equal(lk_trace_first(&t, 10 * MS + 1), 4);
	assert_int_equal(lk_trace_count(&t, 0), 1);
	assert_int_equal(lk_trace_count(&t, 9 * MS), 2);
	assert_int_equal(lk_trace_count(&t, 10 * MS), 4);
	assert_int_equal(lk_trace_count(&t, 1000 * MS), 301);
	lk_trace_free(&t);
}

struct rec {
	size_t n;
	uint64_t when[4096];
	uint64_t seq[4096];
};

/* Run the direction until nothing is pending, delivering at each event. */
static void drain(struct lk_dir *d, uint64_t *now, uint64_t until, struct rec *r)
{
	for (;;) {
		uint64_t next = lk_dir_next_event(d);
		struct lk_pkt *p;

		if (next == LK_NEVER || next > until)
			break;
		if (next > *now)
			*now = next;
		lk_dir_advance(d, *now, false);
		while ((p = lk_dir_due(d, *now))) {
			if (r && r->n < 4096) {
				r->when[r->n] = *now;
				r->seq[r->n++] = p->seq;
			}
			lk_dir_done(d, p, *now, true);
		}
	}
	if (until != LK_NEVER && until > *now)
		*now = until;
}

static void send_frame(struct lk_dir *d, uint32_t link_bytes, uint64_t now)
{
	struct lk_pkt *p = lk_dir_slot(d);

	assert_non_null(p);
	lk_dir_ingress(d, p, link_bytes + LK_L2_HDR, now, false);
}

static void test_trace_partial(void **state)
{
	struct lk_dir_conf c;
	struct lk_dir d;
	static struct rec r;
	uint64_t now = T0;

	lk_dir_conf_default(&c);
	c.cap = LK_CAP_TRACE;
	c.trace = parse_ok("1\n"); /* 1500 bytes every ms */
	assert_int_equal(lk_dir_init(&d, &c, 1, T0), 0);
	/* Three 1000-byte packets: 1 at 1 ms, 2 finishes at 2 ms with 3. */
	for (int i = 0; i < 3; i++)
		send_frame(&d, 1000, now);
	drain(&d, &now, LK_NEVER, &r);
	assert_int_equal(r.n, 3);
	assert_int_equal(r.when[0], T0 + 1 * MS);
	assert_int_equal(r.when[1], T0 + 2 * MS);
	assert_int_equal(r.when[2], T0 + 2 * MS);
	/* Idle opportunities are lost: a packet at 10.5 ms leaves at 11 ms. */
	r.n = 0;
	now = T0 + 10 * MS + MS / 2;
	send_frame(&d, 1500, now);
	drain(&d, &now, LK_NEVER, &r);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.when[0], T0 + 11 * MS);
	/* Capacity counts every opportunity, used or not. */
	assert_int_equal(lk_dir_capacity(&d, T0 + 20 * MS, NULL, 0), 20 * 1500);
	assert_int_equal(d.st.delivered_bytes, 4500);
	lk_dir_free(&d);
	lk_trace_free(&c.trace);
}

static void test_trace_scale(void **state)
{
	struct lk_dir_conf c;
	struct lk_dir d;
	static struct rec r;
	uint64_t now = T0;

	lk_dir_conf_default(&c);
	c.cap = LK_CAP_TRACE;
	c.scale = 0.25; /* 375 bytes per opportunity */
	c.trace = parse_ok("1\n");
	assert_int_equal(lk_dir_init(&d, &c, 1, T0), 0);
	send_frame(&d, 1500, now);
	drain(&d, &now, LK_NEVER, &r);
	assert_int_equal(r.when[0], T0 + 4 * MS);
	assert_int_equal(lk_dir_capacity(&d, T0 + 1000 * MS, NULL, 0), 375000);
	lk_dir_free(&d);
	lk_trace_free(&c.trace);
}

static void test_rate(void **state)
{
	struct lk_dir_conf c;
	struct lk_dir d;
	uint64_t now = T0;

	lk_dir_conf_default(&c);
	c.cap = LK_CAP_RATE;
	c.rate_mbit = 12.0; /* 1500 bytes per ms */
	c.queue_packets = 50;
	assert_int_equal(lk_dir_init(&d, &c, 1, T0), 0);
	/* Offer 2x the rate for one second: 2 x 1500 bytes every ms. */
	for (int ms = 0; ms < 1000; ms++) {
		drain(&d, &now, T0 + (uint64_t)ms * MS, NULL);
		for (int k = 0; k < 2; k++) {
			struct lk_pkt *p = lk_dir_slot(&d);

			assert_non_null(p);
			lk_dir_ingress(&d, p, 1514, now, false);
		}
	}
	drain(&d, &now, T0 + 1000 * MS, NULL);
	/* Exactly one packet per ms went out; the rest was dropped at the tail. */
	assert_in_range(d.st.delivered_pkts, 999, 1000);
	assert_int_equal(d.st.delivered_bytes, d.st.delivered_pkts * 1500);
	assert_int_equal(d.st.dropped_queue + d.st.delivered_pkts + d.q_len, 2000);
	assert_int_equal(lk_dir_capacity(&d, T0 + 1000 * MS, NULL, 0), 1500000);
	lk_dir_free(&d);
}

static void test_queue_ms(void **state)
{
	struct lk_dir_conf c;
	struct lk_dir d;
	static struct rec r;
	uint64_t now = T0;

	lk_dir_conf_default(&c);
	c.cap = LK_CAP_RATE;
	c.rate_mbit = 12.0;
	c.queue_ms = 10;
	assert_int_equal(lk_dir_init(&d, &c, 1, T0), 0);
	/* A burst of 20: packets that would leave later than 10 ms are dropped. */
	for (int i = 0; i < 20; i++)
		send_frame(&d, 1500, now);
	assert_int_equal(d.q_len, 10);
	assert_int_equal(d.st.dropped_queue, 10);
	drain(&d, &now, LK_NEVER, &r);
	assert_int_equal(r.n, 10);
	assert_true(r.when[9] - T0 <= 10 * MS);
	lk_dir_free(&d);

	/* Same with a trace: the departure opportunity is known in advance. */
	lk_dir_conf_default(&c);
	c.cap = LK_CAP_TRACE;
	c.trace = parse_ok("2\n"); /* one opportunity every 2 ms */
	c.queue_ms = 10;
	now = T0;
	r.n = 0;
	assert_int_equal(lk_dir_init(&d, &c, 1, T0), 0);
	for (int i = 0; i < 20; i++)
		send_frame(&d, 1500, now);
	assert_int_equal(d.q_len, 5); /* leaving at 2, 4, 6, 8, 10 ms */
	drain(&d, &now, LK_NEVER, &r);
	assert_int_equal(r.when[4], T0 + 10 * MS);
	lk_dir_free(&d);
	lk_trace_free(&c.trace);
}

static void test_delay_jitter(void **state)
{
	struct lk_dir_conf c;
	struct lk_dir d;
	static struct rec r;
	uint64_t now = T0;
	double sum = 0, sq = 0;
	bool reordered = false;

	lk_dir_conf_default(&c);
	c.delay_ms = 20;
	c.jitter_ms = 5;
	assert_int_equal(lk_dir_init(&d, &c, 1, T0), 0);
	/* 1000 packets 50 ms apart: jitter never collides with FIFO order. */
	for (int i = 0; i < 1000; i++) {
		uint64_t sent = T0 + (uint64_t)i * 50 * MS;

		r.n = 0;
		drain(&d, &now, sent, NULL);
		send_frame(&d, 100, now);
		drain(&d, &now, LK_NEVER, &r);
		assert_int_equal(r.n, 1);
		double ms = (double)(r.when[0] - sent) / MS;
		assert_true(ms >= 15 - 1e-6 && ms <= 25 + 1e-6);
		sum += ms;
		sq += ms * ms;
	}
	double mean = sum / 1000, sd = sqrt(sq / 1000 - mean * mean);
	assert_true(fabs(mean - 20) < 0.5);
	assert_true(fabs(sd - 5 / sqrt(3)) < 0.4);
	lk_dir_free(&d);

	/* Back to back: FIFO by default, overtaking only with reorder. */
	for (int ro = 0; ro < 2; ro++) {
		c.reorder = ro;
		now = T0;
		r.n = 0;
		assert_int_equal(lk_dir_init(&d, &c, 1, T0), 0);
		for (int i = 0; i < 200; i++) {
			drain(&d, &now, T0 + (uint64_t)i * MS / 10, &r);
			send_frame(&d, 100, now);
		}
		drain(&d, &now, LK_NEVER, &r);
		assert_int_equal(r.n, 200);
		reordered = false;
		for (size_t i = 1; i < r.n; i++)
			if (r.seq[i] < r.seq[i - 1])
				reordered = true;
		assert_int_equal(reordered, ro);
		lk_dir_free(&d);
	}
}

static uint64_t count_loss(const struct lk_dir_conf *c, uint64_t seed, int n, int *max_burst,
			   uint32_t *pattern)
{
	struct lk_dir d;
	uint64_t dropped;
	int burst = 0;

	assert_int_equal(lk_dir_init(&d, c, seed, T0), 0);
	*max_burst = 0;
	for (int i = 0; i < n; i++) {
		uint64_t before = d.st.dropped_loss;
		struct lk_pkt *p = lk_dir_slot(&d);

		lk_dir_ingress(&d, p, 100, T0, false);
		if (d.st.dropped_loss > before) {
			if (++burst > *max_burst)
				*max_burst = burst;
			if (pattern && i < 32)
				*pattern |= 1u << i;
		} else {
			burst = 0;
			lk_dir_done(&d, lk_dir_due(&d, T0), T0, true);
		}
	}
	dropped = d.st.dropped_loss;
	lk_dir_free(&d);
	return dropped;
}

static void test_loss(void **state)
{
	struct lk_dir_conf c;
	int maxb, n = 100000;
	uint32_t pa = 0, pb = 0, pc = 0;
	uint64_t lost;

	lk_dir_conf_default(&c);
	c.loss = 0.1;
	lost = count_loss(&c, 1, n, &maxb, &pa);
	/* Binomial: 4 standard deviations is ~380 packets of 100000. */
	assert_in_range(lost, 10000 - 380, 10000 + 380);
	/* Determinism: same seed same drops, another seed others. */
	count_loss(&c, 1, 32, &maxb, &pb);
	count_loss(&c, 2, 32, &maxb, &pc);
	assert_int_equal(pa, pb);
	assert_int_not_equal(pa, pc);

	/* Gilbert-Elliott: bad 0.01/(0.01+0.25) = 3.85% of the time, bursts of
	 * mean 1/0.25 = 4 packets. */
	lk_dir_conf_default(&c);
	c.ge = true;
	c.ge_p_gb = 0.01;
	c.ge_p_bg = 0.25;
	c.ge_loss_bad = 1.0;
	lost = count_loss(&c, 3, n, &maxb, NULL);
	assert_in_range(lost, 3300, 4400);
	assert_true(maxb >= 10); /* bursty, unlike independent 3.85% */
}

static void test_outage(void **state)
{
	struct lk_link_conf lc = {0};
	struct lk_sched s;
	struct lk_dir_conf c;
	struct lk_dir d;
	uint64_t now = T0;

	lc.outages[0] = (struct lk_outage){2 * LK_NS_PER_S, 3 * LK_NS_PER_S};
	lc.n_outages = 1;
	lk_sched_reset(&s, &lc, T0);
	assert_false(lk_sched_active(&s, T0 + LK_NS_PER_S));
	assert_true(lk_sched_active(&s, T0 + 2 * LK_NS_PER_S));
	assert_false(lk_sched_active(&s, T0 + 3 * LK_NS_PER_S));
	assert_int_equal(lk_sched_next_edge(&s, T0), T0 + 2 * LK_NS_PER_S);
	assert_int_equal(lk_sched_next_edge(&s, T0 + 2 * LK_NS_PER_S), T0 + 3 * LK_NS_PER_S);
	/* An overlapping outage from the control socket. */
	assert_int_equal(lk_sched_add(&s, T0 + 2500 * MS, LK_NS_PER_S), 0);
	assert_true(lk_sched_active(&s, T0 + 3200 * MS));

	lk_dir_conf_default(&c);
	c.cap = LK_CAP_RATE;
	c.rate_mbit = 12;
	assert_int_equal(lk_dir_init(&d, &c, 1, T0), 0);
	for (int i = 0; i < 10; i++)
		send_frame(&d, 1500, now);
	/* The outage flushes the queue and drops what arrives meanwhile. */
	now = T0 + 2 * MS;
	lk_dir_advance(&d, now, false); /* two have left */
	lk_dir_advance(&d, now, true);
	assert_int_equal(d.q_len, 0);
	assert_int_equal(d.st.dropped_outage, 8);
	lk_dir_ingress(&d, lk_dir_slot(&d), 1514, now, true);
	assert_int_equal(d.st.dropped_outage, 9);
	/* 5 s of 12 Mbit/s minus the 1.5 s of outages (union of 2-3 and 2.5-3.5). */
	assert_int_equal(lk_dir_capacity(&d, T0 + 5 * LK_NS_PER_S, s.o, s.n), 3500 * 1500);
	lk_dir_free(&d);
}

static void test_pool(void **state)
{
	struct lk_dir_conf c;
	struct lk_dir d;
	int got = 0;

	lk_dir_conf_default(&c);
	c.delay_ms = 100;
	c.pool_packets = 16;
	assert_int_equal(lk_dir_init(&d, &c, 1, T0), 0);
	for (struct lk_pkt *p; (p = lk_dir_slot(&d)); got++)
		lk_dir_ingress(&d, p, 100, T0, false);
	assert_int_equal(got, 16);
	assert_int_equal(d.heap_n, 16);
	lk_dir_free(&d);
}

static void profile_err(const char *text, const char *want)
{
	static struct lk_config cfg;
	char err[512] = "";

	if (lk_profile_parse(&cfg, text, "p.conf", false, err, sizeof(err)) == 0)
		fail_msg("accepted: %s", text);
	if (!strstr(err, want))
		fail_msg("error '%s' lacks '%s'", err, want);
}

static void test_profile(void **state)
{
	static struct lk_config cfg;
	char err[512] = "";
	const char *ok = "seed = 9;\n"
			 "links = ( { name = \"l1\"; a = \"g1\"; b = \"r1\";\n"
			 "  up = { trace = \"" TEST_SRCDIR "/tests/fuzz/corpus/fuzz_linkem_profile/"
			 "trace-one\"; delay_ms = 30; queue_ms = 200; };\n"
			 "  down = { rate_mbit = 20; delay_ms = 30.5; queue_packets = 300;\n"
			 "    burst_loss = { p_good_bad = 0.01; p_bad_good = 0.5; }; };\n"
			 "  outages = ( { start = 20; duration = 5.0; } ); } );\n";

	if (lk_profile_parse(&cfg, ok, "p.conf", false, err, sizeof(err)))
		fail_msg("%s", err);
	assert_int_equal(cfg.seed, 9);
	assert_int_equal(cfg.n_links, 1);
	assert_int_equal(cfg.links[0].dir[LK_UP].cap, LK_CAP_TRACE);
	assert_int_equal(cfg.links[0].dir[LK_DOWN].cap, LK_CAP_RATE);
	assert_true(cfg.links[0].dir[LK_DOWN].delay_ms == 30.5);
	assert_true(cfg.links[0].dir[LK_DOWN].ge);
	assert_int_equal(cfg.links[0].outages[0].end_ns, 25 * LK_NS_PER_S);
	lk_profile_free(&cfg);

	profile_err(
	    "links = ( { name = \"l1\"; a = \"g1\"; b = \"r1\";\n up = { rate_mbit = -1; }; } );",
	    "p.conf:2: links[0].up.rate_mbit: must be > 0");
	profile_err(
	    "links = ( { name = \"l1\"; a = \"g1\";\n b = \"r1\"; up = { delay = 1; }; } );",
	    "p.conf:2: links[0].up.delay: unknown setting");
	profile_err("links = ( { name = \"l1\"; a = \"g1\"; b = \"r1\"; },\n"
		    "{ name = \"l1\"; a = \"g2\"; b = \"r2\"; } );",
		    "p.conf:2: links[1]: duplicate link name");
	profile_err("links = ( { name = \"l1\"; a = } );", "p.conf:1: syntax:");
	profile_err("seed = 1;", "links: missing");
	assert_int_equal(lk_profile_parse(&cfg,
					  "links = ( { name = \"l1\"; a = \"g1\"; b = \"r1\";\n\n"
					  "up = { trace = \"/nonexistent.up\"; }; } );",
					  "p.conf", true, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "p.conf:3: links[0].up: trace: /nonexistent.up: No such file"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_trace_parse),	  cmocka_unit_test(test_trace_math),
	    cmocka_unit_test(test_trace_partial), cmocka_unit_test(test_trace_scale),
	    cmocka_unit_test(test_rate),	  cmocka_unit_test(test_queue_ms),
	    cmocka_unit_test(test_delay_jitter),  cmocka_unit_test(test_loss),
	    cmocka_unit_test(test_outage),	  cmocka_unit_test(test_pool),
	    cmocka_unit_test(test_profile),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
