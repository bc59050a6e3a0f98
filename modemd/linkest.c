/* Per-link estimates: see linkest.h and docs/scheduler.md. */
#include "linkest.h"

#include <errno.h>
#include <string.h>

#define US_PER_S 1000000ULL
/* Queueing beyond the path's base RTT that marks a rate sample as taken
 * against a standing queue (see queue_backed). */
#define LINKEST_SAT_QUEUE_US  20000ULL
#define LINKEST_SAT_MIN_BYTES 3000ULL
#define LINKEST_SENT_STEP_US  20000ULL
#define LINKEST_LOSS_SLACK_US 300000ULL
#define LINKEST_SAT_VALID_US  500000ULL
/* Stall: data out longer than an RTT plus our receiver's feedback pace
 * while data flows (plink PLINK_FEEDBACK_BUSY_MS, 40 ms), one sent-log
 * step and a margin, and no delivery reported for two paces plus margin
 * (and the RTT variation). */
#define LINKEST_STALL_SLACK_US 80000ULL
#define LINKEST_STALL_GAP_US   100000ULL

const char *link_liveness_to_string(enum link_liveness s)
{
	switch (s) {
	case LINK_ALIVE:
		return "alive";
	case LINK_SUSPECT:
		return "suspect";
	case LINK_DEAD:
		return "dead";
	}
	return "?";
}

void linkest_params_default(struct linkest_params *p)
{
	*p = (struct linkest_params){
	    .min_rtt_window_us = 10 * 1000 * 1000,
	    .rate_window_us = 2 * 1000 * 1000,
	    .rate_min_interval_us = 20 * 1000,
	    .echo_interval_us = 100 * 1000,
	    .dead_min_us = 200 * 1000,
	    .dead_max_us = 1000 * 1000,
	    .feedback_stale_us = 1000 * 1000,
	    .revive_rx = 2,
	    .rate_hint_Bps = 0,
	    .dly_init_Bps = 125000,
	    .dly_max_Bps = 125000000,
	    .dly_target_us = 20 * 1000,
	};
}

/* ---- windowed min/max filter ------------------------------------------ */

static bool wf_better(bool max, uint64_t a, uint64_t b)
{
	return max ? a >= b : a <= b;
}

static void wf_reset(struct winfilt *f, uint64_t t, uint64_t v)
{
	for (unsigned i = 0; i < 3; i++) {
		f->s[i].t = t;
		f->s[i].v = v;
	}
	f->valid = true;
}

/* Keep the best, second-best and third-best samples from successive thirds
 * of the window so that when the best expires a good replacement is ready. */
static void wf_update(struct winfilt *f, bool max, uint64_t win, uint64_t t, uint64_t v)
{
	if (!f->valid || wf_better(max, v, f->s[0].v) || t - f->s[2].t > win) {
		wf_reset(f, t, v);
		return;
	}
	if (wf_better(max, v, f->s[1].v)) {
		f->s[1].t = f->s[2].t = t;
		f->s[1].v = f->s[2].v = v;
	} else if (wf_better(max, v, f->s[2].v)) {
		f->s[2].t = t;
		f->s[2].v = v;
	}
	uint64_t dt = t - f->s[0].t;
	if (dt > win) {
		f->s[0] = f->s[1];
		f->s[1] = f->s[2];
		f->s[2].t = t;
		f->s[2].v = v;
		if (t - f->s[0].t > win) {
			f->s[0] = f->s[1];
			f->s[1] = f->s[2];
		}
	} else if (f->s[1].t == f->s[0].t && dt > win / 4) {
		f->s[1].t = f->s[2].t = t;
		f->s[1].v = f->s[2].v = v;
	} else if (f->s[2].t == f->s[1].t && dt > win / 2) {
		f->s[2].t = t;
		f->s[2].v = v;
	}
}

static uint64_t wf_get(const struct winfilt *f)
{
	return f->valid ? f->s[0].v : 0;
}

/* ---- life cycle and events -------------------------------------------- */

void linkest_init(struct linkest *le, uint32_t id, const struct linkest_params *p, uint64_t now_us)
{
	memset(le, 0, sizeof(*le));
	if (p)
		le->p = *p;
	else
		linkest_params_default(&le->p);
	if (le->p.dead_max_us < le->p.dead_min_us)
		le->p.dead_max_us = le->p.dead_min_us;
	if (le->p.revive_rx == 0)
		le->p.revive_rx = 1;
	le->id = id;
	le->state = LINK_ALIVE;
	le->last_rx_us = now_us;
	le->in_startup = true;
	le->round_start_us = now_us;
}

void linkest_on_send(struct linkest *le, uint64_t now_us, uint32_t bytes)
{
	le->bytes_sent += bytes;
	le->pkts_sent++;
	/* Log bytes_sent over time: one entry per step, the newest updated. */
	if (le->sent_n) {
		uint32_t last = (le->sent_head + le->sent_n - 1) % LINKEST_SENT_LOG;
		if (now_us - le->sent_log[last].t_us < LINKEST_SENT_STEP_US) {
			le->sent_log[last].bytes = le->bytes_sent;
			return;
		}
	}
	if (le->sent_n == LINKEST_SENT_LOG) {
		le->sent_head = (le->sent_head + 1) % LINKEST_SENT_LOG;
		le->sent_n--;
	}
	uint32_t i = (le->sent_head + le->sent_n++) % LINKEST_SENT_LOG;
	le->sent_log[i].t_us = now_us;
	le->sent_log[i].bytes = le->bytes_sent;
}

static uint64_t lost_bytes(const struct linkest *le)
{
	if (le->pkts_sent == 0)
		return 0;
	/* The receiver counts frames, not bytes: charge the mean frame size. */
	return le->fb_pkts_lost * (le->bytes_sent / le->pkts_sent);
}

static uint64_t raw_in_flight(const struct linkest *le)
{
	uint64_t done = le->fb_bytes_rx + lost_bytes(le) + le->inflight_forgiven;
	return le->bytes_sent > done ? le->bytes_sent - done : 0;
}

static void enter_dead(struct linkest *le)
{
	le->state = LINK_DEAD;
	le->revive_count = 0;
	/* Whatever was in flight is gone: do not let it count against the link
	 * when it comes back. */
	le->inflight_forgiven += raw_in_flight(le);
}

static void revive(struct linkest *le, uint64_t now_us)
{
	le->state = LINK_ALIVE;
	/* It may be a new path (a re-dialed modem): measure delay afresh and
	 * let the rate prove itself again, starting from the old estimate. */
	le->srtt_us = 0;
	le->rttvar_us = 0;
	le->min_rtt.valid = false;
	le->in_startup = true;
	le->full_rate = 0;
	le->full_rounds = 0;
	le->round_start_us = now_us;
	le->fb_valid = false;
	le->dly_full = false;
	le->dly_mark_us = now_us;
	le->dly_mark_bytes = le->bytes_sent;
}

void linkest_on_rx(struct linkest *le, uint64_t now_us)
{
	switch (le->state) {
	case LINK_DEAD:
		/* Receptions must come close together to revive: one stray late
		 * datagram does not bring a link back. */
		if (le->revive_count > 0 && now_us - le->last_rx_us > linkest_dead_timeout_us(le))
			le->revive_count = 0;
		if (le->revive_count > 0 && now_us == le->last_rx_us)
			break; /* the same datagram again (an echo reply is also an RTT) */
		if (++le->revive_count >= le->p.revive_rx)
			revive(le, now_us);
		break;
	case LINK_SUSPECT:
		/* A stalled link is heard (feedback still comes back) but does
		 * not deliver: only progress revives it (unstall). */
		if (!le->stalled)
			le->state = LINK_ALIVE;
		break;
	case LINK_ALIVE:
		break;
	}
	if (now_us > le->last_rx_us)
		le->last_rx_us = now_us;
}

/* The link carried something again: data reported received, or an echo
 * that went up the same path. */
static void unstall(struct linkest *le)
{
	if (le->stalled && le->state == LINK_SUSPECT)
		le->state = LINK_ALIVE;
	le->stalled = false;
}

static void dly_update(struct linkest *le, uint64_t now_us, uint32_t rtt_us);

void linkest_on_rtt(struct linkest *le, uint64_t now_us, uint32_t rtt_us)
{
	linkest_on_rx(le, now_us);
	unstall(le);
	if (rtt_us > 60 * US_PER_S)
		return; /* a stale or forged timestamp, not a delay */
	if (rtt_us == 0)
		rtt_us = 1; /* srtt 0 means "no sample" */
	le->last_rtt_us = rtt_us;
	le->rtt_samples++;
	/* RFC 6298 2.2 and 2.3 with alpha = 1/8, beta = 1/4; RTTVAR first,
	 * from the old SRTT. */
	if (le->srtt_us == 0) {
		le->srtt_us = rtt_us;
		le->rttvar_us = rtt_us / 2;
	} else {
		uint32_t err = le->srtt_us > rtt_us ? le->srtt_us - rtt_us : rtt_us - le->srtt_us;
		le->rttvar_us = (uint32_t)((3ULL * le->rttvar_us + err) / 4);
		le->srtt_us = (uint32_t)((7ULL * le->srtt_us + rtt_us) / 8);
		if (le->srtt_us == 0)
			le->srtt_us = 1;
	}
	wf_update(&le->min_rtt, false, le->p.min_rtt_window_us, now_us, rtt_us);
	dly_update(le, now_us, rtt_us);
}

/* Capacity without feedback, from the echo RTT alone (Vegas/LEDBAT-like):
 * queueing delay = this sample - min RTT. Below the target while we sent at
 * least half the current rate over the last interval (the link was loaded,
 * not idle), the path carries more: grow, x2 per sample until queueing was
 * first seen, then x5/4. Above twice the target we fill a queue: x3/4. In
 * between, hold. The interval is at least an RTT (and 20 ms) so that the
 * delay reflects what was sent. Download traffic also queues echoes (the
 * RTT covers both directions): that can only make this estimate low. */
static void dly_update(struct linkest *le, uint64_t now_us, uint32_t rtt_us)
{
	if (!le->p.dly_init_Bps || le->max_rate.valid)
		return;
	if (!le->dly_rate) {
		le->dly_rate = le->p.dly_init_Bps;
		le->dly_mark_us = now_us;
		le->dly_mark_bytes = le->bytes_sent;
		return;
	}
	uint64_t span = now_us > le->dly_mark_us ? now_us - le->dly_mark_us : 0;
	uint64_t min_span =
	    le->srtt_us > le->p.rate_min_interval_us ? le->srtt_us : le->p.rate_min_interval_us;
	if (span > 60 * US_PER_S) { /* idle for long: start a new interval */
		le->dly_mark_us = now_us;
		le->dly_mark_bytes = le->bytes_sent;
		return;
	}
	if (span < min_span)
		return;
	uint64_t sent = le->bytes_sent - le->dly_mark_bytes;
	uint64_t sent_rate = sent * US_PER_S / span;
	uint32_t min = linkest_min_rtt_us(le);
	uint64_t q = rtt_us > min ? rtt_us - min : 0;
	uint64_t r = le->dly_rate;
	if (q > le->p.dly_target_us) {
		le->dly_full = true;
		r -= q > 2ULL * le->p.dly_target_us ? r / 4 : r / 8;
	} else if (q < le->p.dly_target_us / 2 && sent_rate >= r / 2) {
		r += le->dly_full ? r / 8 : r / 2;
	}
	if (r < le->p.dly_init_Bps / 16)
		r = le->p.dly_init_Bps / 16 ? le->p.dly_init_Bps / 16 : 1;
	if (r > le->p.dly_max_Bps)
		r = le->p.dly_max_Bps;
	le->dly_rate = r;
	le->dly_mark_us = now_us;
	le->dly_mark_bytes = le->bytes_sent;
}

void linkest_on_echo_sent(struct linkest *le, uint64_t now_us)
{
	le->last_echo_us = now_us;
	le->echo_sent = true;
}

/* ---- feedback: delivery rate, loss, in flight ------------------------- */

static void rate_sample(struct linkest *le, uint64_t now_us, uint64_t rate, bool app_limited)
{
	uint64_t cur = wf_get(&le->max_rate);
	/* A sample taken while we did not fill the pipe only says "at least
	 * this much"; it may raise the estimate but never lower it. */
	if (app_limited && (!le->max_rate.valid || rate < cur))
		return; /* nor start it: an idle link would look slow for good */
	wf_update(&le->max_rate, true, le->p.rate_window_us, now_us, rate);
	if (!le->in_startup || app_limited)
		return;
	uint64_t round =
	    le->srtt_us > le->p.rate_min_interval_us ? le->srtt_us : le->p.rate_min_interval_us;
	if (now_us - le->round_start_us < round)
		return;
	le->round_start_us = now_us;
	cur = wf_get(&le->max_rate);
	if (cur >= le->full_rate + le->full_rate / 4) {
		le->full_rate = cur;
		le->full_rounds = 0;
	} else if (++le->full_rounds >= 3) {
		/* Three rounds without 25 % growth: the link is full. */
		le->in_startup = false;
		le->cycle_start_us = now_us;
	}
}

/* bytes_sent as of time t (from the log; entries are at most one step
 * early), 0 if the log does not reach back that far. */
static uint64_t sent_by(const struct linkest *le, uint64_t t)
{
	uint64_t v = 0;
	for (uint32_t k = 0; k < le->sent_n; k++) {
		const uint32_t i = (le->sent_head + k) % LINKEST_SENT_LOG;
		if (le->sent_log[i].t_us + LINKEST_SENT_STEP_US > t)
			break;
		v = le->sent_log[i].bytes;
	}
	return v;
}

/* Was a queue standing on the link when this record was written? Yes if
 * data we sent long enough ago to have arrived over an empty path (base
 * RTT plus LINKEST_SAT_QUEUE_US) had still not arrived: then the link, not
 * we, set the pace of the sample. Data sent since does not count, or a
 * burst just sent would make an idle link look full. */
static bool queue_backed(const struct linkest *le, uint64_t now_us)
{
	uint64_t mr = linkest_min_rtt_us(le);
	if (!mr || now_us < mr + LINKEST_SAT_QUEUE_US)
		return false;
	uint64_t then = sent_by(le, now_us - mr - LINKEST_SAT_QUEUE_US);
	uint64_t done = le->fb_bytes_rx + lost_bytes(le) + le->inflight_forgiven;
	return then > done + LINKEST_SAT_MIN_BYTES;
}

/* A queue-backed sample is what the link carries now. A cellular link's
 * capacity falls as often as it rises; the max filter alone would hold an
 * old peak for its whole window and keep queueing into it (bufferbloat on
 * that link, late arrivals, held reassembly). So while such samples come,
 * the estimate is their running average (see cur_rate). */
static void rate_capacity(struct linkest *le, uint64_t now_us, uint64_t rate)
{
	/* One 40 ms sample is noisy (a cellular link pauses for tens of ms
	 * even with a queue): average them (1/4 each), starting from the
	 * windowed maximum when none came recently. */
	if (!le->sat_us || now_us - le->sat_us > LINKEST_SAT_VALID_US) {
		uint64_t m = wf_get(&le->max_rate);
		le->sat_est = m ? m : rate;
	}
	if (rate >= le->sat_est)
		le->sat_est += (rate - le->sat_est) / 4;
	else
		le->sat_est -= (le->sat_est - rate) / 4;
	le->sat_us = now_us;
	wf_update(&le->max_rate, true, le->p.rate_window_us, now_us, rate);
	if (le->in_startup) {
		/* A standing queue: the link is full, startup is over. */
		le->in_startup = false;
		le->cycle_start_us = now_us;
	}
}

/* What was sent before now - horizon and is still not reported received
 * (nor written off) will not be: a queue on the path dropped it. Counting
 * it in flight for ever would make the link look full (the scheduler avoids
 * it) and its rate samples look queue-backed. The horizon covers an RTO,
 * two feedback intervals and the longest queue we expect to wait in. */
static void write_off_lost(struct linkest *le, uint64_t now_us)
{
	uint64_t horizon = (uint64_t)linkest_rto_us(le) + LINKEST_LOSS_SLACK_US;
	if (!le->srtt_us || now_us < horizon)
		return;
	uint64_t before = now_us - horizon, sent_then = 0;
	while (le->sent_n && le->sent_log[le->sent_head].t_us <= before) {
		sent_then = le->sent_log[le->sent_head].bytes;
		le->sent_head = (le->sent_head + 1) % LINKEST_SENT_LOG;
		le->sent_n--;
	}
	uint64_t done = le->fb_bytes_rx + lost_bytes(le) + le->inflight_forgiven;
	if (sent_then > done)
		le->inflight_forgiven += sent_then - done;
}

static void fb_rebase(struct linkest *le, uint64_t now_us, const struct link_feedback *fb)
{
	le->fb_last = *fb;
	le->fb_valid = true;
	le->fb_last_us = now_us;
	le->rs_ts_us = fb->rx_ts_us;
	le->rs_bytes = le->fb_bytes_rx;
}

void linkest_on_blocked(struct linkest *le)
{
	le->blocked = true;
}

int linkest_on_feedback(struct linkest *le, uint64_t now_us, const struct link_feedback *fb)
{
	linkest_on_rx(le, now_us);
	const struct link_feedback *last = &le->fb_last;
	struct link_feedback zero = {.rx_ts_us = fb->rx_ts_us};
	if (!le->fb_valid && le->fb_bytes_rx == 0 && le->fb_pkts_rx == 0)
		last = &zero; /* first record: totals count from the link's start */
	else if (!le->fb_valid) {
		fb_rebase(le, now_us, fb); /* revived link: new baseline */
		le->inflight_forgiven += raw_in_flight(le);
		return 0;
	}

	uint32_t dts = fb->rx_ts_us - last->rx_ts_us;
	if (last != &zero && (dts == 0 || dts >= 1U << 31))
		return 0; /* duplicate or reordered record: nothing new */
	uint64_t db = (uint32_t)(fb->bytes_rx - last->bytes_rx);
	uint64_t dp = (uint32_t)(fb->pkts_rx - last->pkts_rx);
	uint64_t dl = (uint32_t)(fb->pkts_lost - last->pkts_lost);
	if (le->fb_bytes_rx + db > le->bytes_sent || le->fb_pkts_rx + dp > le->pkts_sent ||
	    dl > le->pkts_sent) {
		/* More received than we ever sent: the receiver restarted its
		 * counters or the record is bogus. Start over from it. */
		fb_rebase(le, now_us, fb);
		le->inflight_forgiven += raw_in_flight(le);
		return -EINVAL;
	}

	uint64_t inflight_before = raw_in_flight(le);
	if (db) {
		unstall(le);
		le->progress_us = now_us;
	}
	le->fb_bytes_rx += db;
	le->fb_pkts_rx += dp;
	le->fb_pkts_lost += dl;
	write_off_lost(le, now_us);
	if (dp + dl > 0) {
		int64_t sample = (int64_t)(dl * US_PER_S / (dp + dl));
		int64_t loss = le->loss_ppm;
		le->loss_ppm = (uint32_t)(loss + (sample - loss) / 8);
	}
	bool first = last == &zero;
	le->fb_last = *fb;
	le->fb_valid = true;
	le->fb_last_us = now_us;
	if (first) {
		le->rs_ts_us = fb->rx_ts_us;
		le->rs_bytes = le->fb_bytes_rx;
		return 0;
	}

	/* Delivery rate over the receiver's clock: immune to jitter on the
	 * way back. Short intervals accumulate into one sample. */
	uint32_t interval = fb->rx_ts_us - le->rs_ts_us;
	if (interval < le->p.rate_min_interval_us)
		return 0;
	uint64_t bytes = le->fb_bytes_rx - le->rs_bytes;
	uint64_t rate = bytes * US_PER_S / interval;
	/* App-limited (BBR's sense) unless the owner had more to send than the
	 * caps allowed during this sample: a link the scheduler left idle, or
	 * light traffic like pings, says nothing about capacity and must not
	 * erase the estimate or end startup. */
	(void)inflight_before;
	if (queue_backed(le, now_us))
		rate_capacity(le, now_us, rate);
	else
		rate_sample(le, now_us, rate, !le->blocked);
	le->blocked = false;
	le->rs_ts_us = fb->rx_ts_us;
	le->rs_bytes = le->fb_bytes_rx;
	return 0;
}

/* ---- liveness ---------------------------------------------------------- */

/* Silence expected on a healthy link: the echo interval plus an RTO's worth
 * of delay and jitter (the whole dead maximum before any RTT sample). */
static uint64_t expected_gap_us(const struct linkest *le)
{
	uint64_t rto = le->srtt_us ? linkest_rto_us(le) : le->p.dead_max_us;
	return le->p.echo_interval_us + rto;
}

uint32_t linkest_dead_timeout_us(const struct linkest *le)
{
	uint64_t t = 2 * expected_gap_us(le);
	if (t < le->p.dead_min_us)
		t = le->p.dead_min_us;
	if (t > le->p.dead_max_us)
		t = le->p.dead_max_us;
	return (uint32_t)t;
}

uint32_t linkest_suspect_timeout_us(const struct linkest *le)
{
	uint64_t dead = linkest_dead_timeout_us(le);
	uint64_t t = expected_gap_us(le);
	if (t < dead / 2)
		t = dead / 2;
	return (uint32_t)(t < dead ? t : dead);
}

/* When the oldest byte not yet reported received (nor written off) was
 * sent, at most one log step early; 0 = nothing outstanding. */
static uint64_t oldest_unreported_us(const struct linkest *le)
{
	uint64_t done = le->fb_bytes_rx + lost_bytes(le) + le->inflight_forgiven;
	for (uint32_t k = 0; k < le->sent_n; k++) {
		const uint32_t i = (le->sent_head + k) % LINKEST_SENT_LOG;
		if (le->sent_log[i].bytes > done)
			return le->sent_log[i].t_us;
	}
	return 0;
}

uint32_t linkest_stall_timeout_us(const struct linkest *le)
{
	if (!le->fb_valid || !le->srtt_us)
		return 0;
	uint64_t t = (uint64_t)le->srtt_us + LINKEST_STALL_SLACK_US;
	return t > UINT32_MAX ? UINT32_MAX : (uint32_t)t;
}

static uint64_t stall_gap_us(const struct linkest *le)
{
	return LINKEST_STALL_GAP_US + le->rttvar_us;
}

/* When stalled_now() turns true if nothing changes; 0 = never. */
static uint64_t stall_deadline_us(const struct linkest *le, uint64_t now_us)
{
	uint32_t limit = linkest_stall_timeout_us(le);
	if (!limit || now_us - le->fb_last_us > le->p.feedback_stale_us)
		return 0;
	uint64_t t = oldest_unreported_us(le);
	if (!t)
		return 0;
	uint64_t a = t + limit;
	uint64_t b = (le->progress_us > t ? le->progress_us : t) + stall_gap_us(le);
	return (a > b ? a : b) + 1;
}

/* Our receiver reports what each link delivered every 40 ms while data
 * arrives. Data out longer than an RTT and that pace, with no delivery
 * reported for two paces, means the link stopped delivering (died, or a
 * coverage gap), whether or not its feedback still comes back: suspect
 * now, so the bundle resends what it carried elsewhere, instead of after
 * the silence timeout. A loss on a link that keeps delivering is not a
 * stall (write_off_lost handles it). */
static bool stalled_now(const struct linkest *le, uint64_t now_us)
{
	uint64_t d = stall_deadline_us(le, now_us);
	return d && now_us >= d;
}

bool linkest_tick(struct linkest *le, uint64_t now_us)
{
	enum link_liveness old = le->state;
	uint64_t silence = now_us > le->last_rx_us ? now_us - le->last_rx_us : 0;
	if (le->state != LINK_DEAD && silence > linkest_dead_timeout_us(le)) {
		enter_dead(le);
		le->stalled = false;
	} else if (le->state == LINK_ALIVE && silence > linkest_suspect_timeout_us(le)) {
		le->state = LINK_SUSPECT;
	} else if (le->state == LINK_ALIVE && stalled_now(le, now_us)) {
		le->state = LINK_SUSPECT;
		le->stalled = true;
	}
	return le->state != old;
}

bool linkest_echo_due(const struct linkest *le, uint64_t now_us)
{
	return !le->echo_sent || now_us - le->last_echo_us >= le->p.echo_interval_us;
}

uint64_t linkest_next_event_us(const struct linkest *le)
{
	if (!le->echo_sent)
		return 0; /* an echo is due at once */
	uint64_t next = le->last_echo_us + le->p.echo_interval_us;
	uint64_t t = 0;
	if (le->state == LINK_ALIVE)
		t = le->last_rx_us + linkest_suspect_timeout_us(le) + 1;
	else if (le->state == LINK_SUSPECT)
		t = le->last_rx_us + linkest_dead_timeout_us(le) + 1;
	if (t && t < next)
		next = t;
	uint64_t stall = le->state == LINK_ALIVE ? stall_deadline_us(le, le->last_rx_us) : 0;
	if (stall && stall < next)
		next = stall;
	return next;
}

/* ---- read-outs --------------------------------------------------------- */

uint32_t linkest_min_rtt_us(const struct linkest *le)
{
	return (uint32_t)wf_get(&le->min_rtt);
}

uint32_t linkest_owd_us(const struct linkest *le)
{
	/* Half the base RTT: only differences between links matter to the
	 * scheduler, and cellular asymmetry is similar across modems. */
	return linkest_min_rtt_us(le) / 2;
}

uint32_t linkest_queue_delay_us(const struct linkest *le)
{
	uint32_t m = linkest_min_rtt_us(le);
	return le->srtt_us > m ? le->srtt_us - m : 0;
}

uint32_t linkest_rto_us(const struct linkest *le)
{
	uint64_t r = (uint64_t)le->srtt_us + 4ULL * le->rttvar_us;
	return r > UINT32_MAX ? UINT32_MAX : (uint32_t)r;
}

/* The windowed maximum, or for a while after a queue-backed sample what
 * that sample showed (the link's capacity now, often below its recent
 * best). It expires so that a link that fell to nothing (a coverage gap)
 * is tried again at its recent best, and measured again. */
static uint64_t cur_rate(const struct linkest *le, uint64_t now_us)
{
	uint64_t r = wf_get(&le->max_rate);
	if (le->sat_us && le->sat_est < r && now_us - le->sat_us < LINKEST_SAT_VALID_US)
		return le->sat_est;
	return r;
}

uint64_t linkest_rate_Bps(const struct linkest *le)
{
	uint64_t r = cur_rate(le, le->fb_last_us);
	if (r)
		return r;
	return le->p.rate_hint_Bps ? le->p.rate_hint_Bps : le->dly_rate;
}

uint64_t linkest_sched_rate_Bps(const struct linkest *le, uint64_t now_us)
{
	uint64_t r = cur_rate(le, now_us);
	if (r == 0) /* the delay-based rate probes by growing: no gain */
		return le->p.rate_hint_Bps ? le->p.rate_hint_Bps : le->dly_rate;
	if (le->in_startup)
		return 2 * r;
	uint64_t phase_len = le->srtt_us > 10000 ? le->srtt_us : 10000;
	switch ((now_us - le->cycle_start_us) / phase_len % 8) {
	case 0:
		return r + r / 4; /* probe for more */
	case 1:
		return r - r / 4; /* drain what the probe queued */
	default:
		return r;
	}
}

int64_t linkest_in_flight(const struct linkest *le, uint64_t now_us)
{
	if (!le->fb_valid || now_us - le->fb_last_us > le->p.feedback_stale_us)
		return -1;
	return (int64_t)raw_in_flight(le);
}

int64_t linkest_in_flight_est(const struct linkest *le, uint64_t now_us)
{
	int64_t raw = linkest_in_flight(le, now_us);
	if (raw <= 0)
		return raw;
	/* Feedback comes every ~100 ms while the path's RTT may be far
	 * shorter: between records, assume delivery went on at the rate we
	 * schedule for (with startup/probe gain, so the estimate can grow),
	 * or the cap would allow one cap's worth per feedback interval and the
	 * rate could never rise above what it already is. */
	uint64_t drained =
	    linkest_sched_rate_Bps(le, now_us) * (now_us - le->fb_last_us) / US_PER_S;
	return (uint64_t)raw > drained ? raw - (int64_t)drained : 0;
}
