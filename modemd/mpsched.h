/* Multipath scheduler for the MP bundle: for each packet, the link where it
 * would arrive earliest, so that links are used in proportion to what they
 * deliver and packets arrive close to in order.
 *
 *   arrival(link) = now + (backlog + S) / rate + owd
 *   backlog       = max(virtual queue, queued + in_flight - rate * min_rtt)
 *
 * The virtual queue is a fluid model kept here: each packet picked adds S,
 * and it drains at the link's rate. The measured term (from receiver
 * feedback) corrects it when a link delivers less than its estimate. A link
 * never gets more in flight than rate * (min rtt + margin).
 *
 * Pure and deterministic: no I/O, no allocation, no clock; the owner feeds
 * link estimates (usually from linkest) and now_us. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "linkest.h"

#define SCHED_MAX_LINKS 16

enum sched_policy {
	SCHED_EARLIEST,	 /* one link per packet, earliest arrival (default) */
	SCHED_REDUNDANT, /* each packet on the `copies` best links */
	SCHED_SINGLE,	 /* failover: one active link until it fails */
};

const char *sched_policy_to_string(enum sched_policy p);
/* "earliest" | "redundant" | "single"; returns the policy or -EINVAL. */
int sched_policy_from_string(const char *s);

struct sched_params {
	enum sched_policy policy;
	unsigned copies;	 /* redundant: links per packet (2) */
	uint32_t margin_us;	 /* in-flight cap = rate * (min rtt + margin) (100 ms) */
	uint64_t probe_rate_Bps; /* rate assumed for a link whose rate is unknown (1 Mbit/s) */
	uint32_t probe_window;	 /* in-flight cap of such a link, bytes (16 KiB) */
	/* earliest: a live link left unused this long takes the next packet if
	 * it arrives within rotate_us of the best (0 = off, the default). For
	 * plain RFC 1990 receivers, where an idle link freezes the minimum
	 * sequence number M and so loss detection. */
	uint32_t rotate_us;
};

void sched_params_default(struct sched_params *p);

/* What the owner knows about a link. */
struct sched_link_input {
	enum link_liveness state;
	uint64_t rate_Bps;   /* 0 = unknown: probe share */
	uint32_t owd_us;     /* one-way delay estimate */
	uint32_t rtt_us;     /* smoothed RTT, 0 = unknown */
	uint32_t min_rtt_us; /* base RTT, 0 = unknown */
	int64_t in_flight;   /* bytes sent and not reported received; -1 = unknown.
			      * Must count every packet picked before this update. */
	uint64_t queued;     /* bytes waiting locally (socket, qdisc), 0 if unknown */
};

struct sched_link {
	bool present;
	uint32_t id;
	struct sched_link_input in;
	uint64_t vq; /* virtual backlog in bytes as of vq_us */
	uint64_t vq_us;
	uint64_t pending; /* bytes picked since the last update */
	uint64_t last_pick_us;
	bool picked;
	uint64_t tx_bytes;
	uint64_t tx_pkts;
};

struct sched {
	struct sched_params p;
	struct sched_link link[SCHED_MAX_LINKS];
	uint64_t tx_bytes;
	int active; /* single policy: slot of the active link, -1 = none */
};

/* p may be NULL for the defaults. */
void sched_init(struct sched *s, const struct sched_params *p);
void sched_set_policy(struct sched *s, enum sched_policy policy, unsigned copies);

/* Links start DEAD (never picked) until the first update. Returns 0,
 * -EEXIST or -ENOSPC (add), -ENOENT (others). */
int sched_link_add(struct sched *s, uint32_t id);
int sched_link_remove(struct sched *s, uint32_t id);
int sched_link_update(struct sched *s, uint32_t id, uint64_t now_us,
		      const struct sched_link_input *in);
/* sched_link_update from a link's estimates (id = le->id). */
int sched_link_sync(struct sched *s, const struct linkest *le, uint64_t now_us, uint64_t queued);

/* Links for the next packet of size bytes, written to out_ids (at most max).
 * Returns how many: 1 (earliest, single), up to `copies` (redundant), or 0
 * when no link is usable or every usable link is at its in-flight cap (the
 * owner holds the packet and asks again at sched_next_ready_us() or on the
 * next feedback). The pick is committed: the owner sends on those links. */
unsigned sched_pick(struct sched *s, uint64_t now_us, uint32_t size, uint32_t *out_ids,
		    unsigned max);
/* One link for a frame sent again: the earliest arrival among usable links
 * under their cap, except `avoid` (the link that lost it) unless it is the
 * only usable one. Returns 1 (committed, *out_id set) or 0 (wait). */
unsigned sched_pick_resend(struct sched *s, uint64_t now_us, uint32_t size, uint32_t avoid,
			   uint32_t *out_id);
/* When the local backlog of some usable link will have drained enough to
 * take a packet of size bytes (now_us if one can take it now, UINT64_MAX if
 * none is usable or only feedback can free one). */
uint64_t sched_next_ready_us(const struct sched *s, uint64_t now_us, uint32_t size);
/* Arrival time the scheduler predicts for size bytes on a link (no commit);
 * UINT64_MAX for an unknown or dead link. For tests and mpctl. */
uint64_t sched_arrival_us(const struct sched *s, uint32_t id, uint64_t now_us, uint32_t size);

/* The liveness of the link's last update (LINK_DEAD if unknown id). */
enum link_liveness sched_link_state(const struct sched *s, uint32_t id);

/* When a link last took a packet (a pick, or sched_link_touch for traffic
 * sent outside the scheduler); 0 if never or unknown id. */
uint64_t sched_link_last_us(const struct sched *s, uint32_t id);
void sched_link_touch(struct sched *s, uint32_t id, uint64_t now_us);

/* Traffic shares for mpctl: bytes picked per link (copies count on each
 * link) and that link's share of all bytes picked, in permille. */
int sched_link_stats(const struct sched *s, uint32_t id, uint64_t *bytes, uint64_t *pkts);
int sched_link_share_permille(const struct sched *s, uint32_t id);
