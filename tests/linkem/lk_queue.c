/* One direction of an emulated link: ingress -> loss -> drop-tail queue ->
 * capacity (Mahimahi trace, fixed rate or unlimited) -> delay line (base
 * delay + jitter) -> egress. Packets live in a preallocated pool; nothing is
 * allocated per packet. Semantics are documented in docs/linkem.md. */
#include "lk.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

/* xoshiro256**: fast, and the same sequence for the same seed everywhere. */
static uint64_t rng_next(uint64_t *s)
{
	uint64_t r = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return r;
}

static double rng_unit(uint64_t *s)
{
	return (double)(rng_next(s) >> 11) * 0x1.0p-53;
}

uint64_t lk_link_bytes(uint32_t frame_len)
{
	/* Traces count IP packets (1500 = one MTU packet), not Ethernet frames. */
	return frame_len > LK_L2_HDR ? frame_len - LK_L2_HDR : 1;
}

void lk_dir_put(struct lk_dir *d, struct lk_pkt *p)
{
	d->freelist[d->nfree++] = (uint32_t)(p - d->pool);
}

struct lk_pkt *lk_dir_slot(struct lk_dir *d)
{
	if (!d->nfree)
		return NULL;
	return &d->pool[d->freelist[--d->nfree]];
}

static struct lk_pkt *q_at(struct lk_dir *d, uint32_t i)
{
	return &d->pool[d->q[(d->q_head + i) % d->pool_n]];
}

static struct lk_pkt *q_pop(struct lk_dir *d)
{
	struct lk_pkt *p = q_at(d, 0);

	d->q_head = (d->q_head + 1) % d->pool_n;
	d->q_len--;
	return p;
}

static bool heap_less(const struct lk_dir *d, uint32_t a, uint32_t b)
{
	const struct lk_pkt *x = &d->pool[a], *y = &d->pool[b];

	return x->when_ns < y->when_ns || (x->when_ns == y->when_ns && x->seq < y->seq);
}

static void heap_push(struct lk_dir *d, uint32_t idx)
{
	uint32_t i = d->heap_n++;

	while (i > 0) {
		uint32_t parent = (i - 1) / 2;

		if (!heap_less(d, idx, d->heap[parent]))
			break;
		d->heap[i] = d->heap[parent];
		i = parent;
	}
	d->heap[i] = idx;
}

static uint32_t heap_pop(struct lk_dir *d)
{
	uint32_t top = d->heap[0], last = d->heap[--d->heap_n], i = 0;

	for (;;) {
		uint32_t c = 2 * i + 1;

		if (c >= d->heap_n)
			break;
		if (c + 1 < d->heap_n && heap_less(d, d->heap[c + 1], d->heap[c]))
			c++;
		if (!heap_less(d, d->heap[c], last))
			break;
		d->heap[i] = d->heap[c];
		i = c;
	}
	if (d->heap_n)
		d->heap[i] = last;
	return top;
}

int lk_dir_init(struct lk_dir *d, const struct lk_dir_conf *c, uint64_t seed, uint64_t now)
{
	uint64_t x = seed;

	memset(d, 0, sizeof(*d));
	d->conf = c;
	d->pool_n = c->pool_packets ? c->pool_packets : LK_POOL_DEFAULT;
	/* Untouched pages of the pool cost no memory until traffic needs them. */
	d->pool = malloc((size_t)d->pool_n * sizeof(*d->pool));
	d->freelist = malloc((size_t)d->pool_n * sizeof(uint32_t));
	d->q = malloc((size_t)d->pool_n * sizeof(uint32_t));
	d->heap = malloc((size_t)d->pool_n * sizeof(uint32_t));
	if (!d->pool || !d->freelist || !d->q || !d->heap) {
		lk_dir_free(d);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < d->pool_n; i++)
		d->freelist[i] = d->pool_n - 1 - i;
	d->nfree = d->pool_n;
	for (int i = 0; i < 4; i++)
		d->rng[i] = splitmix64(&x);
	d->per_opp = (uint64_t)llround(LK_OPP_BYTES * c->scale);
	if (d->per_opp < 1)
		d->per_opp = 1;
	if (c->cap == LK_CAP_RATE)
		d->ns_per_byte = 8000.0 / (c->rate_mbit * c->scale);
	lk_dir_reset(d, now);
	return 0;
}

void lk_dir_free(struct lk_dir *d)
{
	free(d->pool);
	free(d->freelist);
	free(d->q);
	free(d->heap);
	memset(d, 0, sizeof(*d));
}

static void flush_queue(struct lk_dir *d, uint64_t *counter)
{
	while (d->q_len) {
		lk_dir_put(d, q_pop(d));
		if (counter)
			(*counter)++;
	}
	d->q_bytes = 0;
}

void lk_dir_reset(struct lk_dir *d, uint64_t now)
{
	flush_queue(d, NULL);
	d->epoch_ns = now;
	d->next_opp = 0;
	d->tail_free_ns = now;
	memset(&d->st, 0, sizeof(d->st));
}

static bool lost(struct lk_dir *d)
{
	const struct lk_dir_conf *c = d->conf;
	bool drop = false;

	if (c->ge) {
		/* Move between the states first, then lose with the state's rate. */
		if (rng_unit(d->rng) < (d->ge_bad ? c->ge_p_bg : c->ge_p_gb))
			d->ge_bad = !d->ge_bad;
		double pl = d->ge_bad ? c->ge_loss_bad : c->ge_loss_good;
		if (pl > 0 && rng_unit(d->rng) < pl)
			drop = true;
	}
	if (c->loss > 0 && rng_unit(d->rng) < c->loss)
		drop = true;
	return drop;
}

static uint64_t jitter_delay(struct lk_dir *d)
{
	const struct lk_dir_conf *c = d->conf;
	double ms = c->delay_ms;

	if (c->jitter_ms > 0) {
		if (c->jitter_dist == LK_JIT_NORMAL) {
			/* Box-Muller; u1 in (0,1] so log() is finite. */
			double u1 = 1.0 - rng_unit(d->rng), u2 = rng_unit(d->rng);
			ms += c->jitter_ms * sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
		} else {
			ms += c->jitter_ms * (2.0 * rng_unit(d->rng) - 1.0);
		}
	}
	if (ms <= 0)
		return 0;
	return (uint64_t)(ms * (double)LK_NS_PER_MS);
}

/* The packet left the bottleneck at dep: into the delay line. */
static void to_delay(struct lk_dir *d, struct lk_pkt *p, uint64_t dep)
{
	uint64_t rel = dep + jitter_delay(d);

	/* FIFO unless reorder: a packet never overtakes the one before it. */
	if (!d->conf->reorder && rel < d->last_release_ns)
		rel = d->last_release_ns;
	d->last_release_ns = rel;
	p->when_ns = rel;
	heap_push(d, (uint32_t)(p - d->pool));
}

static void enqueue(struct lk_dir *d, struct lk_pkt *p, uint64_t bytes)
{
	d->q[(d->q_head + d->q_len) % d->pool_n] = (uint32_t)(p - d->pool);
	d->q_len++;
	d->q_bytes += bytes;
	if (d->q_len > d->st.queue_max)
		d->st.queue_max = d->q_len;
}

void lk_dir_ingress(struct lk_dir *d, struct lk_pkt *p, uint32_t len, uint64_t now, bool outage)
{
	const struct lk_dir_conf *c = d->conf;
	uint64_t bytes = lk_link_bytes(len), dep;

	d->st.rx_pkts++;
	d->st.rx_bytes += bytes;
	p->len = len;
	p->arrive_ns = now;
	p->sent = 0;
	p->seq = d->seq++;
	if (outage) {
		d->st.dropped_outage++;
		goto drop;
	}
	if (lost(d)) {
		d->st.dropped_loss++;
		goto drop;
	}
	if (c->cap == LK_CAP_NONE) {
		to_delay(d, p, now);
		return;
	}
	if (c->queue_packets && d->q_len >= c->queue_packets)
		goto drop_queue;
	if (c->cap == LK_CAP_RATE) {
		uint64_t start = d->tail_free_ns > now ? d->tail_free_ns : now;

		dep = start + (uint64_t)ceil((double)bytes * d->ns_per_byte);
	} else {
		const struct lk_trace *t = &c->trace;
		uint64_t first = lk_trace_first(t, now - d->epoch_ns), k;

		/* Opportunities that passed while the queue was empty are lost. */
		if (!d->q_len && first > d->next_opp)
			d->next_opp = first;
		/* The queue never wastes credit, so the opportunity that sends
		 * this packet's last byte is known now (exact drop-tail). */
		k = (d->q_bytes + bytes + d->per_opp - 1) / d->per_opp;
		dep = d->epoch_ns + lk_trace_time(t, d->next_opp + k - 1);
	}
	if (c->queue_ms > 0 && dep > now && (double)(dep - now) > c->queue_ms * LK_NS_PER_MS)
		goto drop_queue;
	if (c->cap == LK_CAP_RATE)
		d->tail_free_ns = dep;
	p->when_ns = dep;
	enqueue(d, p, bytes);
	return;
drop_queue:
	d->st.dropped_queue++;
drop:
	lk_dir_put(d, p);
}

void lk_dir_advance(struct lk_dir *d, uint64_t now, bool outage)
{
	const struct lk_dir_conf *c = d->conf;

	if (outage) {
		flush_queue(d, &d->st.dropped_outage);
		d->tail_free_ns = now;
		return;
	}
	if (c->cap == LK_CAP_RATE) {
		while (d->q_len && q_at(d, 0)->when_ns <= now) {
			struct lk_pkt *p = q_pop(d);

			d->q_bytes -= lk_link_bytes(p->len);
			to_delay(d, p, p->when_ns);
		}
		return;
	}
	if (c->cap != LK_CAP_TRACE)
		return;
	while (d->q_len) {
		uint64_t t = d->epoch_ns + lk_trace_time(&c->trace, d->next_opp);
		uint64_t credit = d->per_opp;

		if (t > now)
			break;
		d->next_opp++;
		/* mm-link: a packet bigger than the credit left is sent in part
		 * and finishes at a later opportunity; leftover credit is lost. */
		while (credit && d->q_len) {
			struct lk_pkt *p = q_at(d, 0);
			uint64_t rem = lk_link_bytes(p->len) - p->sent;

			if (rem <= credit) {
				credit -= rem;
				d->q_bytes -= rem;
				to_delay(d, q_pop(d), t);
			} else {
				p->sent += (uint32_t)credit;
				d->q_bytes -= credit;
				credit = 0;
			}
		}
	}
}

struct lk_pkt *lk_dir_due(struct lk_dir *d, uint64_t now)
{
	if (!d->heap_n || d->pool[d->heap[0]].when_ns > now)
		return NULL;
	return &d->pool[heap_pop(d)];
}

void lk_dir_done(struct lk_dir *d, struct lk_pkt *p, uint64_t now, bool ok)
{
	if (ok) {
		uint64_t dl = now > p->arrive_ns ? now - p->arrive_ns : 0;

		d->st.delivered_pkts++;
		d->st.delivered_bytes += lk_link_bytes(p->len);
		d->st.delay_sum_ns += dl;
		if (dl > d->st.delay_max_ns)
			d->st.delay_max_ns = dl;
	} else {
		d->st.dropped_tx++;
	}
	lk_dir_put(d, p);
}

uint64_t lk_dir_next_event(const struct lk_dir *d)
{
	uint64_t next = LK_NEVER;

	if (d->q_len) {
		if (d->conf->cap == LK_CAP_RATE)
			next = d->pool[d->q[d->q_head]].when_ns;
		else if (d->conf->cap == LK_CAP_TRACE)
			next = d->epoch_ns + lk_trace_time(&d->conf->trace, d->next_opp);
	}
	if (d->heap_n && d->pool[d->heap[0]].when_ns < next)
		next = d->pool[d->heap[0]].when_ns;
	return next;
}

static int cmp_outage(const void *a, const void *b)
{
	const struct lk_outage *x = a, *y = b;

	return x->start_ns < y->start_ns ? -1 : x->start_ns > y->start_ns;
}

/* Capacity offered in the relative window (a, b]. */
static double offered(const struct lk_dir *d, uint64_t a, uint64_t b)
{
	if (d->conf->cap == LK_CAP_RATE)
		return (double)(b - a) / d->ns_per_byte;
	return (double)(lk_trace_count(&d->conf->trace, b) - lk_trace_count(&d->conf->trace, a)) *
	       (double)d->per_opp;
}

uint64_t lk_dir_capacity(const struct lk_dir *d, uint64_t now, const struct lk_outage *out,
			 size_t n_out)
{
	struct lk_outage o[2 * LK_MAX_OUTAGES];
	uint64_t end = now > d->epoch_ns ? now - d->epoch_ns : 0, cur_s = 0, cur_e = 0;
	double total;
	size_t n = 0;

	if (d->conf->cap == LK_CAP_NONE)
		return 0;
	total = offered(d, 0, end);
	/* Clip to [epoch, now], then subtract the union of the outages. */
	for (size_t i = 0; i < n_out && n < 2 * LK_MAX_OUTAGES; i++) {
		uint64_t s = out[i].start_ns > d->epoch_ns ? out[i].start_ns - d->epoch_ns : 0;
		uint64_t e = out[i].end_ns > d->epoch_ns ? out[i].end_ns - d->epoch_ns : 0;

		if (e > end)
			e = end;
		if (s < e)
			o[n++] = (struct lk_outage){s, e};
	}
	qsort(o, n, sizeof(o[0]), cmp_outage);
	for (size_t i = 0; i <= n; i++) {
		if (i < n && o[i].start_ns <= cur_e && cur_e > cur_s) {
			if (o[i].end_ns > cur_e)
				cur_e = o[i].end_ns;
			continue;
		}
		if (cur_e > cur_s)
			total -= offered(d, cur_s, cur_e);
		if (i < n) {
			cur_s = o[i].start_ns;
			cur_e = o[i].end_ns;
		}
	}
	return total > 0 ? (uint64_t)llround(total) : 0;
}

void lk_sched_reset(struct lk_sched *s, const struct lk_link_conf *c, uint64_t epoch)
{
	s->n = 0;
	for (size_t i = 0; i < c->n_outages; i++)
		s->o[s->n++] = (struct lk_outage){epoch + c->outages[i].start_ns,
						  epoch + c->outages[i].end_ns};
}

int lk_sched_add(struct lk_sched *s, uint64_t now, uint64_t dur_ns)
{
	/* Past outages stay: the capacity since reset excludes them. */
	if (s->n >= 2 * LK_MAX_OUTAGES)
		return -ENOSPC;
	s->o[s->n++] = (struct lk_outage){now, now + dur_ns};
	return 0;
}

bool lk_sched_active(const struct lk_sched *s, uint64_t now)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->o[i].start_ns <= now && now < s->o[i].end_ns)
			return true;
	return false;
}

uint64_t lk_sched_next_edge(const struct lk_sched *s, uint64_t now)
{
	uint64_t next = LK_NEVER;

	for (size_t i = 0; i < s->n; i++) {
		if (s->o[i].start_ns > now && s->o[i].start_ns < next)
			next = s->o[i].start_ns;
		if (s->o[i].end_ns > now && s->o[i].end_ns < next)
			next = s->o[i].end_ns;
	}
	return next;
}
