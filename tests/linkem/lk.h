/* linkem: user-space link emulator (docs/linkem.md). Shared types of the
 * profile parser (lk_profile.c), the Mahimahi trace loader (lk_trace.c) and
 * the per-direction queue/delay/loss engine (lk_queue.c). All times are
 * absolute CLOCK_MONOTONIC nanoseconds passed in by the caller, so the
 * engine runs the same under a fake clock (test_lk_queue.c). */
#ifndef LK_H
#define LK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LK_MAX_LINKS	16
#define LK_MAX_OUTAGES	32 /* scripted per link; as many again from `outage` */
#define LK_NAME_MAX	32
#define LK_IFNAME_MAX	16   /* IFNAMSIZ */
#define LK_FRAME_MAX	2048 /* pool slot; veth MTU 1500 frames are 1514 */
#define LK_L2_HDR	14   /* Ethernet header, not counted as link bytes */
#define LK_OPP_BYTES	1500 /* one Mahimahi delivery opportunity */
#define LK_POOL_DEFAULT 4096
#define LK_POOL_MAX	65536
#define LK_NS_PER_MS	1000000ULL
#define LK_NS_PER_S	1000000000ULL
#define LK_NEVER	UINT64_MAX

enum lk_cap { LK_CAP_NONE, LK_CAP_RATE, LK_CAP_TRACE };
enum lk_jitter { LK_JIT_UNIFORM, LK_JIT_NORMAL };
enum { LK_UP = 0, LK_DOWN = 1 };

/* A Mahimahi trace: one opportunity per line at ts_ms[i] within a period;
 * opportunity j is at (j / n) * period + ts[j % n] (mm-link repeats the file
 * with the last timestamp as period). */
struct lk_trace {
	uint32_t *ts_ms;
	size_t n;
	uint64_t period_ms;
};

struct lk_dir_conf {
	enum lk_cap cap;
	double rate_mbit;
	char *trace_path;
	struct lk_trace trace;
	double scale; /* capacity multiplier (trace and rate) */
	double delay_ms, jitter_ms;
	enum lk_jitter jitter_dist;
	bool reorder;
	double loss; /* independent per-packet loss probability */
	bool ge;     /* Gilbert-Elliott bursty loss on top of `loss` */
	double ge_p_gb, ge_p_bg, ge_loss_bad, ge_loss_good;
	uint32_t queue_packets; /* 0: only the pool bounds it */
	double queue_ms;	/* 0: no time bound */
	uint32_t pool_packets;
};

struct lk_outage {
	uint64_t start_ns, end_ns; /* relative to the epoch in a profile */
};

struct lk_link_conf {
	char name[LK_NAME_MAX];
	char a[LK_IFNAME_MAX], b[LK_IFNAME_MAX];
	struct lk_dir_conf dir[2]; /* LK_UP: a -> b, LK_DOWN: b -> a */
	struct lk_outage outages[LK_MAX_OUTAGES];
	size_t n_outages;
};

struct lk_config {
	struct lk_link_conf links[LK_MAX_LINKS];
	size_t n_links;
	uint64_t seed;
};

/* lk_trace.c: parse trace text; on error fills err with "NAME:LINE: msg". */
int lk_trace_parse(struct lk_trace *t, const char *buf, size_t len, const char *name, char *err,
		   size_t errlen);
int lk_trace_load(struct lk_trace *t, const char *path, char *err, size_t errlen);
void lk_trace_free(struct lk_trace *t);
/* Opportunities at relative times <= rel_ns (Mahimahi: none at 0 unless a
 * line says 0). */
uint64_t lk_trace_count(const struct lk_trace *t, uint64_t rel_ns);
/* Relative time of opportunity j, and the first j at relative time >= rel_ns. */
uint64_t lk_trace_time(const struct lk_trace *t, uint64_t j);
uint64_t lk_trace_first(const struct lk_trace *t, uint64_t rel_ns);

/* lk_profile.c: parse a profile (libconfig text). load_traces=false keeps
 * trace paths unread (fuzzing). On error returns -EINVAL and err holds
 * "FILE:LINE: setting: message". */
int lk_profile_parse(struct lk_config *c, const char *text, const char *fname, bool load_traces,
		     char *err, size_t errlen);
int lk_profile_load(struct lk_config *c, const char *path, char *err, size_t errlen);
void lk_profile_free(struct lk_config *c);
void lk_dir_conf_default(struct lk_dir_conf *d);

/* ---- lk_queue.c: one direction of one link ---- */

struct lk_pkt {
	uint64_t arrive_ns;
	uint64_t when_ns; /* rate: serialization end; delay line: release */
	uint64_t seq;
	uint32_t len;  /* frame bytes */
	uint32_t sent; /* link bytes already sent (partial, Mahimahi) */
	uint8_t data[LK_FRAME_MAX];
};

struct lk_stats {
	uint64_t rx_pkts, rx_bytes;
	uint64_t delivered_pkts, delivered_bytes;
	uint64_t dropped_loss, dropped_queue, dropped_outage, dropped_pool, dropped_tx;
	uint64_t delay_sum_ns, delay_max_ns;
	uint64_t queue_max;
};

struct lk_dir {
	const struct lk_dir_conf *conf;
	struct lk_pkt *pool;
	uint32_t pool_n;
	uint32_t *freelist, nfree;
	uint32_t *q, q_head, q_len; /* bottleneck FIFO, ring of pool_n */
	uint64_t q_bytes;	    /* link bytes still to send */
	uint32_t *heap, heap_n;	    /* delay line, min-heap on (when, seq) */
	uint64_t seq;
	uint64_t epoch_ns;
	uint64_t next_opp;     /* trace: next opportunity index */
	uint64_t tail_free_ns; /* rate: when the last queued packet is sent */
	uint64_t last_release_ns;
	uint64_t per_opp;   /* trace: bytes per opportunity (1500 * scale) */
	double ns_per_byte; /* rate */
	uint64_t rng[4];
	bool ge_bad;
	struct lk_stats st;
};

int lk_dir_init(struct lk_dir *d, const struct lk_dir_conf *c, uint64_t seed, uint64_t now);
void lk_dir_free(struct lk_dir *d);
/* Start over at now: trace clock, counters; queued packets are dropped. */
void lk_dir_reset(struct lk_dir *d, uint64_t now);
/* A free slot to receive into, or NULL (pool exhausted: caller counts it). */
struct lk_pkt *lk_dir_slot(struct lk_dir *d);
void lk_dir_put(struct lk_dir *d, struct lk_pkt *p);
/* A frame of len bytes is in slot p (from lk_dir_slot): loss, queue limit,
 * enqueue; the slot is returned to the pool if dropped. */
void lk_dir_ingress(struct lk_dir *d, struct lk_pkt *p, uint32_t len, uint64_t now, bool outage);
/* Use the capacity up to now (moves packets to the delay line); in an outage
 * the queue is flushed instead. */
void lk_dir_advance(struct lk_dir *d, uint64_t now, bool outage);
/* Next delay-line packet due at or before now, or NULL; hand it back with
 * lk_dir_done once sent (ok=false: the send failed). */
struct lk_pkt *lk_dir_due(struct lk_dir *d, uint64_t now);
void lk_dir_done(struct lk_dir *d, struct lk_pkt *p, uint64_t now, bool ok);
/* Earliest time something happens without new input, or LK_NEVER. */
uint64_t lk_dir_next_event(const struct lk_dir *d);
/* Link bytes the capacity offered between the epoch and now, outages
 * (absolute [start,end) pairs) excluded; 0 for an unlimited direction. */
uint64_t lk_dir_capacity(const struct lk_dir *d, uint64_t now, const struct lk_outage *out,
			 size_t n_out);
uint64_t lk_link_bytes(uint32_t frame_len);

/* ---- outage schedule of a link (absolute times) ---- */
struct lk_sched {
	struct lk_outage o[2 * LK_MAX_OUTAGES];
	size_t n;
};
void lk_sched_reset(struct lk_sched *s, const struct lk_link_conf *c, uint64_t epoch);
int lk_sched_add(struct lk_sched *s, uint64_t now, uint64_t dur_ns);
bool lk_sched_active(const struct lk_sched *s, uint64_t now);
uint64_t lk_sched_next_edge(const struct lk_sched *s, uint64_t now);

#endif
