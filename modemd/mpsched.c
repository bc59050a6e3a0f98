/* Earliest-arrival multipath scheduler: see sched.h and docs/scheduler.md. */
#include "mpsched.h"

#include <errno.h>
#include <string.h>

#define US_PER_S 1000000ULL
/* Longest drain interval computed at once: keeps rate * dt inside 64 bits
 * (10 s at 1e12 B/s) and is far longer than any queue we allow. */
#define MAX_DRAIN_US (10ULL * US_PER_S)
/* Bounds on owner input so that every product below fits in 64 bits:
 * 1e11 B/s (800 Gbit/s) x 70 s < 2^63. */
#define MAX_RATE    100000000000ULL
#define MAX_TIME_US (60U * 1000 * 1000)
#define MAX_BYTES   (1ULL << 40)

const char *sched_policy_to_string(enum sched_policy p)
{
	switch (p) {
	case SCHED_EARLIEST:
		return "earliest";
	case SCHED_REDUNDANT:
		return "redundant";
	case SCHED_SINGLE:
		return "single";
	}
	return "?";
}

int sched_policy_from_string(const char *s)
{
	static const enum sched_policy all[] = {SCHED_EARLIEST, SCHED_REDUNDANT, SCHED_SINGLE};
	for (unsigned i = 0; s && i < sizeof(all) / sizeof(all[0]); i++)
		if (strcmp(s, sched_policy_to_string(all[i])) == 0)
			return (int)all[i];
	return -EINVAL;
}

void sched_params_default(struct sched_params *p)
{
	*p = (struct sched_params){
	    .policy = SCHED_EARLIEST,
	    .copies = 2,
	    .margin_us = 100 * 1000,
	    .probe_rate_Bps = 125000,
	    .probe_window = 16384,
	};
}

void sched_init(struct sched *s, const struct sched_params *p)
{
	memset(s, 0, sizeof(*s));
	if (p)
		s->p = *p;
	else
		sched_params_default(&s->p);
	if (s->p.copies == 0)
		s->p.copies = 1;
	if (s->p.probe_rate_Bps == 0)
		s->p.probe_rate_Bps = 1;
	if (s->p.probe_rate_Bps > MAX_RATE)
		s->p.probe_rate_Bps = MAX_RATE;
	if (s->p.margin_us > MAX_DRAIN_US)
		s->p.margin_us = MAX_DRAIN_US;
	s->active = -1;
}

void sched_set_policy(struct sched *s, enum sched_policy policy, unsigned copies)
{
	s->p.policy = policy;
	s->p.copies = copies ? copies : 1;
	s->active = -1;
}

static int slot_of(const struct sched *s, uint32_t id)
{
	for (int i = 0; i < SCHED_MAX_LINKS; i++)
		if (s->link[i].present && s->link[i].id == id)
			return i;
	return -1;
}

int sched_link_add(struct sched *s, uint32_t id)
{
	if (slot_of(s, id) >= 0)
		return -EEXIST;
	for (int i = 0; i < SCHED_MAX_LINKS; i++) {
		struct sched_link *l = &s->link[i];
		if (l->present)
			continue;
		memset(l, 0, sizeof(*l));
		l->present = true;
		l->id = id;
		l->in.state = LINK_DEAD;
		l->in.in_flight = -1;
		return 0;
	}
	return -ENOSPC;
}

int sched_link_remove(struct sched *s, uint32_t id)
{
	int i = slot_of(s, id);
	if (i < 0)
		return -ENOENT;
	s->tx_bytes -= s->link[i].tx_bytes; /* shares stay a sum over current links */
	memset(&s->link[i], 0, sizeof(s->link[i]));
	if (s->active == i)
		s->active = -1;
	return 0;
}

static uint64_t link_rate(const struct sched *s, const struct sched_link *l)
{
	return l->in.rate_Bps ? l->in.rate_Bps : s->p.probe_rate_Bps;
}

/* The virtual backlog at now_us: drained at the link's rate since vq_us. */
static uint64_t vq_at(const struct sched *s, const struct sched_link *l, uint64_t now_us)
{
	if (now_us <= l->vq_us || l->vq == 0)
		return l->vq;
	uint64_t dt = now_us - l->vq_us;
	if (dt > MAX_DRAIN_US)
		return 0;
	uint64_t drained = link_rate(s, l) * dt / US_PER_S;
	return drained >= l->vq ? 0 : l->vq - drained;
}

int sched_link_update(struct sched *s, uint32_t id, uint64_t now_us,
		      const struct sched_link_input *in)
{
	int i = slot_of(s, id);
	if (i < 0)
		return -ENOENT;
	struct sched_link *l = &s->link[i];
	if (l->in.state == LINK_DEAD && in->state != LINK_DEAD) {
		l->vq = 0; /* a revived link starts empty */
	} else {
		l->vq = vq_at(s, l, now_us); /* drain at the old rate up to now */
	}
	if (now_us > l->vq_us)
		l->vq_us = now_us;
	l->pending = 0;
	l->in = *in;
	if (l->in.rate_Bps > MAX_RATE)
		l->in.rate_Bps = MAX_RATE;
	if (l->in.owd_us > MAX_TIME_US)
		l->in.owd_us = MAX_TIME_US;
	if (l->in.rtt_us > MAX_TIME_US)
		l->in.rtt_us = MAX_TIME_US;
	if (l->in.min_rtt_us > MAX_TIME_US)
		l->in.min_rtt_us = MAX_TIME_US;
	if (l->in.in_flight > (int64_t)MAX_BYTES)
		l->in.in_flight = (int64_t)MAX_BYTES;
	if (l->in.in_flight < 0)
		l->in.in_flight = -1;
	if (l->in.queued > MAX_BYTES)
		l->in.queued = MAX_BYTES;
	return 0;
}

int sched_link_sync(struct sched *s, const struct linkest *le, uint64_t now_us, uint64_t queued)
{
	struct sched_link_input in = {
	    .state = linkest_state(le),
	    .rate_Bps = linkest_sched_rate_Bps(le, now_us),
	    .owd_us = linkest_owd_us(le),
	    .rtt_us = le->srtt_us,
	    .min_rtt_us = linkest_min_rtt_us(le),
	    .in_flight = linkest_in_flight_est(le, now_us),
	    .queued = queued,
	};
	return sched_link_update(s, le->id, now_us, &in);
}

/* Bytes ahead of a new packet on this link. */
static uint64_t backlog(const struct sched *s, const struct sched_link *l, uint64_t now_us)
{
	uint64_t vq = vq_at(s, l, now_us);
	uint64_t measured = l->in.queued;
	if (l->in.in_flight >= 0) {
		/* In flight beyond the pipe's base capacity is sitting in a
		 * queue somewhere on the path. */
		uint64_t inflight = (uint64_t)l->in.in_flight + l->pending;
		uint64_t pipe = link_rate(s, l) * l->in.min_rtt_us / US_PER_S;
		if (inflight > pipe)
			measured += inflight - pipe;
	}
	return vq > measured ? vq : measured;
}

static uint64_t arrival(const struct sched *s, const struct sched_link *l, uint64_t now_us,
			uint32_t size)
{
	uint64_t b = backlog(s, l, now_us) + size;
	return now_us + b * US_PER_S / link_rate(s, l) + l->in.owd_us;
}

/* "Never more in flight than the link can carry". Without a measured in
 * flight, assume the pipe is full and bound the local backlog instead. A
 * link with nothing outstanding always takes one packet. */
static bool under_cap(const struct sched *s, const struct sched_link *l, uint64_t now_us,
		      uint32_t size)
{
	uint64_t out, cap;
	if (l->in.in_flight >= 0)
		out = (uint64_t)l->in.in_flight + l->pending + l->in.queued;
	else
		out = vq_at(s, l, now_us) + l->in.queued;
	if (out == 0)
		return true;
	if (l->in.rate_Bps == 0) {
		cap = s->p.probe_window;
	} else {
		/* The base RTT, not the smoothed one: queueing we caused would
		 * otherwise raise the cap that let it build (bufferbloat feeding
		 * itself on a link whose capacity just fell). */
		uint64_t rtt =
		    l->in.in_flight >= 0 ? (l->in.min_rtt_us ? l->in.min_rtt_us : l->in.rtt_us) : 0;
		cap = l->in.rate_Bps * (rtt + s->p.margin_us) / US_PER_S;
	}
	return out + size <= cap;
}

static bool usable(const struct sched_link *l, enum link_liveness want)
{
	return l->present && l->in.state == want;
}

/* Suspect links only when nothing is alive; dead links never. */
static enum link_liveness usable_class(const struct sched *s)
{
	for (int i = 0; i < SCHED_MAX_LINKS; i++)
		if (usable(&s->link[i], LINK_ALIVE))
			return LINK_ALIVE;
	return LINK_SUSPECT;
}

static void commit(struct sched *s, int i, uint64_t now_us, uint32_t size)
{
	struct sched_link *l = &s->link[i];
	l->vq = vq_at(s, l, now_us) + size;
	if (now_us > l->vq_us)
		l->vq_us = now_us;
	l->pending += size;
	l->tx_bytes += size;
	l->tx_pkts++;
	l->last_pick_us = now_us;
	l->picked = true;
	s->tx_bytes += size;
}

/* Slots of usable links under their cap, sorted by arrival (ties: slot). */
static unsigned ranked(const struct sched *s, uint64_t now_us, uint32_t size, int *slots,
		       uint64_t *at, unsigned want)
{
	enum link_liveness cls = usable_class(s);
	unsigned n = 0;
	for (int i = 0; i < SCHED_MAX_LINKS; i++) {
		const struct sched_link *l = &s->link[i];
		if (!usable(l, cls) || !under_cap(s, l, now_us, size))
			continue;
		uint64_t a = arrival(s, l, now_us, size);
		unsigned j = n++;
		/* Insertion sort: at most SCHED_MAX_LINKS entries. */
		while (j > 0 && at[j - 1] > a) {
			at[j] = at[j - 1];
			slots[j] = slots[j - 1];
			j--;
		}
		at[j] = a;
		slots[j] = i;
	}
	return n < want ? n : want;
}

/* Rotation: among links idle for rotate_us whose arrival is within
 * rotate_us of the best, the longest idle one; -1 if none. */
static int rotate_slot(const struct sched *s, uint64_t now_us, const int *slots, const uint64_t *at,
		       unsigned n)
{
	int best = -1;
	uint64_t oldest = UINT64_MAX;
	for (unsigned k = 1; k < n && s->p.rotate_us; k++) {
		const struct sched_link *l = &s->link[slots[k]];
		uint64_t since = l->picked ? l->last_pick_us : 0;
		if (at[k] - at[0] > s->p.rotate_us || now_us - since < s->p.rotate_us)
			continue;
		if (since < oldest) {
			oldest = since;
			best = slots[k];
		}
	}
	return best;
}

static unsigned pick_single(struct sched *s, uint64_t now_us, uint32_t size, uint32_t *out)
{
	enum link_liveness cls = usable_class(s);
	int a = s->active;
	if (a < 0 || !usable(&s->link[a], cls) ||
	    (cls == LINK_ALIVE && s->link[a].in.state != LINK_ALIVE)) {
		/* Fail over to the link that would deliver soonest when idle. */
		uint64_t best = UINT64_MAX;
		a = -1;
		for (int i = 0; i < SCHED_MAX_LINKS; i++) {
			const struct sched_link *l = &s->link[i];
			if (!usable(l, cls))
				continue;
			uint64_t t = (uint64_t)size * US_PER_S / link_rate(s, l) + l->in.owd_us;
			if (t < best) {
				best = t;
				a = i;
			}
		}
		s->active = a;
	}
	if (a < 0 || !under_cap(s, &s->link[a], now_us, size))
		return 0;
	commit(s, a, now_us, size);
	out[0] = s->link[a].id;
	return 1;
}

unsigned sched_pick(struct sched *s, uint64_t now_us, uint32_t size, uint32_t *out_ids,
		    unsigned max)
{
	if (!out_ids || max == 0)
		return 0;
	if (s->p.policy == SCHED_SINGLE)
		return pick_single(s, now_us, size, out_ids);
	unsigned want = s->p.policy == SCHED_REDUNDANT ? s->p.copies : 1;
	if (want > max)
		want = max;
	int slots[SCHED_MAX_LINKS];
	uint64_t at[SCHED_MAX_LINKS];
	unsigned all = ranked(s, now_us, size, slots, at, SCHED_MAX_LINKS);
	unsigned n = all < want ? all : want;
	if (want == 1 && all > 1) {
		int r = rotate_slot(s, now_us, slots, at, all);
		if (r >= 0)
			slots[0] = r;
	}
	for (unsigned k = 0; k < n; k++) {
		commit(s, slots[k], now_us, size);
		out_ids[k] = s->link[slots[k]].id;
	}
	return n;
}

unsigned sched_pick_resend(struct sched *s, uint64_t now_us, uint32_t size, uint32_t avoid,
			   uint32_t *out_id)
{
	enum link_liveness cls = usable_class(s);
	unsigned usable_n = 0;
	for (int i = 0; i < SCHED_MAX_LINKS; i++)
		usable_n += usable(&s->link[i], cls);
	int slots[SCHED_MAX_LINKS];
	uint64_t at[SCHED_MAX_LINKS];
	unsigned all = ranked(s, now_us, size, slots, at, SCHED_MAX_LINKS);
	for (unsigned k = 0; k < all; k++) {
		/* The link that lost it only when it is the only one left. */
		if (s->link[slots[k]].id == avoid && usable_n > 1)
			continue;
		commit(s, slots[k], now_us, size);
		*out_id = s->link[slots[k]].id;
		return 1;
	}
	return 0;
}

uint64_t sched_next_ready_us(const struct sched *s, uint64_t now_us, uint32_t size)
{
	enum link_liveness cls = usable_class(s);
	uint64_t best = UINT64_MAX;
	for (int i = 0; i < SCHED_MAX_LINKS; i++) {
		const struct sched_link *l = &s->link[i];
		if (!usable(l, cls))
			continue;
		if (under_cap(s, l, now_us, size))
			return now_us;
		if (l->in.in_flight >= 0)
			continue; /* only feedback lowers a measured in flight */
		/* Time for the backlog to shrink to what the cap admits. */
		uint64_t cap =
		    l->in.rate_Bps ? l->in.rate_Bps * s->p.margin_us / US_PER_S : s->p.probe_window;
		uint64_t vq = vq_at(s, l, now_us);
		uint64_t keep = cap > (uint64_t)size + l->in.queued ? cap - size - l->in.queued : 0;
		uint64_t excess = vq > keep ? vq - keep : 0;
		uint64_t t = now_us + (excess * US_PER_S + link_rate(s, l) - 1) / link_rate(s, l);
		if (t < best)
			best = t;
	}
	return best;
}

uint64_t sched_arrival_us(const struct sched *s, uint32_t id, uint64_t now_us, uint32_t size)
{
	int i = slot_of(s, id);
	if (i < 0 || s->link[i].in.state == LINK_DEAD)
		return UINT64_MAX;
	return arrival(s, &s->link[i], now_us, size);
}

enum link_liveness sched_link_state(const struct sched *s, uint32_t id)
{
	int i = slot_of(s, id);
	return i >= 0 ? s->link[i].in.state : LINK_DEAD;
}

uint64_t sched_link_last_us(const struct sched *s, uint32_t id)
{
	int i = slot_of(s, id);
	return i >= 0 && s->link[i].picked ? s->link[i].last_pick_us : 0;
}

void sched_link_touch(struct sched *s, uint32_t id, uint64_t now_us)
{
	int i = slot_of(s, id);
	if (i < 0)
		return;
	s->link[i].last_pick_us = now_us;
	s->link[i].picked = true;
}

int sched_link_stats(const struct sched *s, uint32_t id, uint64_t *bytes, uint64_t *pkts)
{
	int i = slot_of(s, id);
	if (i < 0)
		return -ENOENT;
	if (bytes)
		*bytes = s->link[i].tx_bytes;
	if (pkts)
		*pkts = s->link[i].tx_pkts;
	return 0;
}

int sched_link_share_permille(const struct sched *s, uint32_t id)
{
	int i = slot_of(s, id);
	if (i < 0)
		return -ENOENT;
	if (s->tx_bytes == 0)
		return 0;
	return (int)(s->link[i].tx_bytes * 1000 / s->tx_bytes);
}
