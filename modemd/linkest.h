/* Per-link estimates for the MP bundle: RTT (RFC 6298 SRTT/RTTVAR), windowed
 * minimum RTT (base delay), delivery rate, loss, queueing delay, bytes in
 * flight and liveness (alive / suspect / dead with an adaptive timeout).
 *
 * Pure logic: the owner feeds events with a monotonic now_us and reads the
 * estimates; nothing here does I/O, allocates or logs. Time is microseconds
 * everywhere so that short delivery-rate intervals stay precise. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

enum link_liveness {
	LINK_ALIVE,
	LINK_SUSPECT, /* silent longer than usual: the scheduler avoids it */
	LINK_DEAD,    /* silent past the dead timeout: out of the schedule */
};

const char *link_liveness_to_string(enum link_liveness s);

/* Per-link feedback the receiver sends to the gateway (carried later in an
 * RFC 2153 vendor LCP packet). Counters are cumulative since the receiver
 * first saw the link and wrap modulo 2^32, so a lost feedback packet loses
 * nothing: the next one carries the totals. */
struct link_feedback {
	uint32_t link_id;
	uint32_t bytes_rx;  /* MP payload bytes received on this link */
	uint32_t pkts_rx;   /* frames received on this link */
	uint32_t pkts_lost; /* frames the receiver counts as lost on this link */
	uint32_t max_seq;   /* highest MP sequence number seen on this link */
	uint32_t rx_ts_us;  /* receiver's monotonic clock in microseconds, mod 2^32 */
};

/* Windowed min or max filter (Nichols' algorithm with three samples, as in
 * BBR): the best value seen within the last window, O(1) memory. */
struct winfilt {
	struct {
		uint64_t t;
		uint64_t v;
	} s[3];
	bool valid;
};

#define LINKEST_SENT_LOG 64

struct linkest_params {
	uint32_t min_rtt_window_us;    /* base delay = min RTT over this window (10 s) */
	uint32_t rate_window_us;       /* delivery rate = max sample over this window (2 s) */
	uint32_t rate_min_interval_us; /* shortest receiver interval for a rate sample (20 ms) */
	uint32_t echo_interval_us;     /* how often the owner sends LCP echoes (100 ms) */
	uint32_t dead_min_us;	       /* dead timeout bounds (200 ms .. 1 s) */
	uint32_t dead_max_us;
	uint32_t feedback_stale_us; /* in-flight unknown after this without feedback (1 s) */
	uint32_t revive_rx;	    /* receptions needed to leave DEAD (2) */
	uint64_t rate_hint_Bps;	    /* configured rate used until measured (0 = none) */
	/* Without feedback (a plain pppd peer) and without a hint: a rate from
	 * echo RTTs alone, grown while the queueing delay stays below the
	 * target and the link is loaded, cut when it exceeds twice the target.
	 * dly_init_Bps 0 turns it off (rate unknown: the scheduler probes). */
	uint64_t dly_init_Bps;	/* starting rate (125000 = 1 Mbit/s) */
	uint64_t dly_max_Bps;	/* ceiling (125 MB/s) */
	uint32_t dly_target_us; /* queueing delay target (20 ms) */
};

void linkest_params_default(struct linkest_params *p);

struct linkest {
	struct linkest_params p;
	uint32_t id;

	/* RTT, microseconds. srtt == 0 means no sample yet. */
	uint32_t srtt_us;
	uint32_t rttvar_us;
	uint32_t last_rtt_us;
	uint64_t rtt_samples;
	struct winfilt min_rtt;

	/* Delivery rate, bytes per second, from receiver feedback. */
	struct winfilt max_rate;
	bool in_startup;      /* rate still growing: schedule it with a gain */
	uint64_t full_rate;   /* startup: best rate of the last growth round */
	uint32_t full_rounds; /* startup: rounds without 25 % growth */
	uint64_t round_start_us;
	uint64_t cycle_start_us;

	/* Loss EWMA in parts per million. */
	uint32_t loss_ppm;

	/* Send side and feedback totals (64-bit, widened from the wire). */
	uint64_t bytes_sent;
	uint64_t pkts_sent;
	uint64_t fb_bytes_rx;
	uint64_t fb_pkts_rx;
	uint64_t fb_pkts_lost;
	uint64_t inflight_forgiven; /* bytes written off (link died, counter reset, lost) */
	/* bytes_sent at past moments (oldest first, one per LINKEST_SENT_STEP_US
	 * at most): what was sent long enough ago and is still not reported
	 * received was lost (our receiver reports no per-link losses). */
	struct {
		uint64_t t_us;
		uint64_t bytes;
	} sent_log[LINKEST_SENT_LOG];
	uint32_t sent_head, sent_n;
	bool fb_valid; /* a baseline feedback record has been seen */
	struct link_feedback fb_last;
	uint64_t fb_last_us; /* our clock when the last feedback arrived */
	uint32_t rs_ts_us;   /* start of the current rate sample (receiver clock) */
	uint64_t rs_bytes;   /* fb_bytes_rx at that start */
	bool blocked;	     /* demand exceeded the cap since the sample began */
	uint64_t sat_est;    /* capacity now: running average of queue-backed samples */
	uint64_t sat_us;     /* when the last queue-backed sample came */

	/* Delay-based rate (no feedback): see linkest_params. */
	uint64_t dly_rate;	 /* bytes/s, 0 = not started (no RTT sample yet) */
	bool dly_full;		 /* queueing seen once: grow by 1/4, not x2 */
	uint64_t dly_mark_us;	 /* start of the current load interval */
	uint64_t dly_mark_bytes; /* bytes_sent then */

	/* Liveness. */
	enum link_liveness state;
	bool stalled;	      /* suspect because data stopped arriving (see linkest_tick) */
	uint64_t progress_us; /* last feedback that reported more bytes delivered */
	uint64_t last_rx_us;
	uint64_t last_echo_us;
	bool echo_sent;
	uint32_t revive_count;
};

/* Start estimating a link that came up at now_us (silence is counted from
 * here until the first reception). p may be NULL for the defaults. */
void linkest_init(struct linkest *le, uint32_t id, const struct linkest_params *p, uint64_t now_us);

/* Events from the owner. Each reception also feeds liveness. */
void linkest_on_send(struct linkest *le, uint64_t now_us, uint32_t bytes);
void linkest_on_rx(struct linkest *le, uint64_t now_us);
/* An LCP Echo-Reply carrying our timestamp: rtt_us = now - timestamp. */
void linkest_on_rtt(struct linkest *le, uint64_t now_us, uint32_t rtt_us);
/* Receiver feedback for this link. Returns 0, or -EINVAL when the record is
 * inconsistent with what we sent (the totals are re-based, nothing else
 * changes). */
/* The owner had packets for this link that its cap held back: the current
 * rate sample measures capacity (not app-limited). */
void linkest_on_blocked(struct linkest *le);
int linkest_on_feedback(struct linkest *le, uint64_t now_us, const struct link_feedback *fb);
void linkest_on_echo_sent(struct linkest *le, uint64_t now_us);

/* Re-evaluate liveness at now_us. Returns true when the state changed (the
 * owner logs it and resyncs the scheduler). Receptions can also change the
 * state; compare linkest_state() before and after if needed. */
bool linkest_tick(struct linkest *le, uint64_t now_us);
/* The next time tick or an echo is due, for the owner's timer. */
uint64_t linkest_next_event_us(const struct linkest *le);
bool linkest_echo_due(const struct linkest *le, uint64_t now_us);

/* Read-outs. */
static inline enum link_liveness linkest_state(const struct linkest *le)
{
	return le->state;
}
uint32_t linkest_min_rtt_us(const struct linkest *le);	   /* 0 = unknown */
uint32_t linkest_owd_us(const struct linkest *le);	   /* min_rtt / 2 */
uint32_t linkest_queue_delay_us(const struct linkest *le); /* srtt - min_rtt, >= 0 */
uint32_t linkest_rto_us(const struct linkest *le);	   /* srtt + 4 rttvar */
/* Measured from feedback, else the hint, else the delay-based rate; 0 = unknown. */
uint64_t linkest_rate_Bps(const struct linkest *le);
/* The rate the scheduler should assume now: the measured rate times a probing
 * gain (2 while the rate still grows, then a 5/4, 3/4, 1 x6 cycle per srtt)
 * so that an under-used link can show it carries more. 0 = unknown. */
uint64_t linkest_sched_rate_Bps(const struct linkest *le, uint64_t now_us);
/* Bytes sent and not yet reported received or lost; -1 when unknown (no
 * feedback yet, or none for feedback_stale_us). */
int64_t linkest_in_flight(const struct linkest *le, uint64_t now_us);
/* In flight as the scheduler should see it: the last feedback's figure less
 * what the link will have delivered since at the scheduled rate. */
int64_t linkest_in_flight_est(const struct linkest *le, uint64_t now_us);
/* Silence after which the link turns suspect / dead, given current RTTs. */
uint32_t linkest_suspect_timeout_us(const struct linkest *le);
/* Towards a peer that reports per-link delivery: how long the oldest byte
 * in flight must have stayed unreported before the link can count as
 * stalled (suspect; also no delivery reported for 100 ms + RTTVAR),
 * 0 = not applicable. */
uint32_t linkest_stall_timeout_us(const struct linkest *le);
uint32_t linkest_dead_timeout_us(const struct linkest *le);
