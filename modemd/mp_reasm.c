/* RFC 1990 reassembly with a bounded adaptive wait; see mp_reasm.h. */
#include "mp_reasm.h"
#include "buf.h"
#include "mp.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define MP_REASM_NACK_MAX 32 /* numbers per request (vendor.h VENDOR_NACK_MAX) */
#define CHUNK		  256u
#define NO_CHUNK	  UINT32_MAX
#define HIST_BITS	  1024u		      /* sequence numbers remembered behind `next` */
#define SEQ_BASE	  (UINT64_C(1) << 32) /* wide numbers start here: room below */
#define REORDER_DECAY	  256u	/* in-order arrivals on a link that halve its window */
#define GIVEUP_LOG	  64u	/* recent holes given up by time, for lateness */
#define LATE_DECAY_MS	  1000u /* the learned wait shrinks by 1/8 per second without late */

enum {
	SLOT_PRESENT = 1,
	SLOT_B = 2,
	SLOT_E = 4,
	SLOT_ASKED = 8, /* a hole (not present) asked for again at `at` */
};

struct slot {
	uint64_t seq; /* wide */
	uint64_t at;  /* arrival, ms */
	uint32_t chunk;
	uint32_t len;
	uint8_t flags;
};

struct rlink {
	uint32_t id;
	bool used;
	bool seen;
	uint64_t max_seq;    /* wide, highest seen */
	uint64_t last_heard; /* last fragment or link_heard (or when added) */
	uint32_t reorder;    /* learned window */
	uint32_t run;	     /* in-order arrivals since the window last changed */
};

/* A hole given up because the wait ran out: if its fragment still comes,
 * the wait was too short by (arrival - at). */
struct giveup {
	uint64_t seq; /* wide; 0 = empty */
	uint64_t at;
	uint32_t wait;
};

struct mp_reasm {
	struct mp_reasm_cfg cfg;
	uint32_t wait_ms;	      /* in force: clamp(max(spread_wait, late_wait)) */
	uint32_t spread_wait;	      /* from the owner's delay spread (wait_max until set) */
	uint32_t late_wait;	      /* learned from late arrivals, decays; 0 = none */
	uint64_t late_epoch;	      /* last late arrival or decay step, ms */
	uint32_t fill_cur, fill_prev; /* longest hole fill (ms) this and last decay period */
	struct giveup gu[GIVEUP_LOG];
	unsigned gu_pos;

	struct slot *ring;
	size_t ring_size; /* power of 2 */
	size_t buffered;
	uint64_t next; /* lowest number neither delivered nor given up */
	uint64_t hi;   /* one past the highest buffered number (== next when empty) */
	bool started;
	bool advanced; /* next has moved: numbers below it are history */

	/* Oldest arrival among buffered fragments, cached with how many share it. */
	bool old_valid;
	uint64_t old_at;
	size_t old_cnt;

	uint8_t *pool;
	uint32_t *chain; /* next chunk of each chunk */
	uint32_t free_head;
	size_t n_chunks, free_chunks;

	uint8_t *pkt; /* reassembly scratch, mrru + 4 */
	size_t pkt_cap;

	uint64_t hist[HIST_BITS / 64]; /* received, for numbers in [next - HIST_BITS, next) */
	struct rlink links[MP_REASM_MAX_LINKS];
	struct mp_reasm_stats st;

	/* Retransmission: holes asked for are marked in their slots. */
	uint32_t nack_wait_ms;
};

void mp_reasm_cfg_default(struct mp_reasm_cfg *cfg)
{
	*cfg = (struct mp_reasm_cfg){
	    .mrru = 1500,
	    .max_frags = 256,
	    .max_bytes = 512 * 1024,
	    .wait_min_ms = 20,
	    .wait_max_ms = 500,
	    .alive_ms = 1000,
	    .reorder_min = 8,
	    .reorder_max = 64,
	};
}

struct mp_reasm *mp_reasm_new(const struct mp_reasm_cfg *cfg)
{
	struct mp_reasm *r;

	if (!cfg->deliver || !cfg->mrru || cfg->mrru > 65535 || !cfg->max_frags ||
	    cfg->max_frags > 1024 || cfg->max_bytes < cfg->mrru || cfg->max_bytes > (1u << 28) ||
	    cfg->wait_min_ms > cfg->wait_max_ms || cfg->reorder_min > cfg->reorder_max)
		return NULL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->cfg = *cfg;
	r->wait_ms = r->spread_wait = cfg->wait_max_ms;
	r->ring_size = 1;
	while (r->ring_size < cfg->max_frags)
		r->ring_size <<= 1;
	r->n_chunks = cfg->max_bytes / CHUNK;
	r->pkt_cap = cfg->mrru + 4; /* a stray FF 03 and a 2-byte protocol */
	r->ring = calloc(r->ring_size, sizeof(*r->ring));
	r->pool = malloc(r->n_chunks * CHUNK);
	r->chain = malloc(r->n_chunks * sizeof(*r->chain));
	r->pkt = malloc(r->pkt_cap);
	if (!r->ring || !r->pool || !r->chain || !r->pkt)
		return mp_reasm_free(r);
	for (size_t i = 0; i < r->n_chunks; i++)
		r->chain[i] = i + 1 < r->n_chunks ? (uint32_t)(i + 1) : NO_CHUNK;
	r->free_head = r->n_chunks ? 0 : NO_CHUNK;
	r->free_chunks = r->n_chunks;
	return r;
}

struct mp_reasm *mp_reasm_free(struct mp_reasm *r)
{
	if (r) {
		free(r->ring);
		free(r->pool);
		free(r->chain);
		free(r->pkt);
		free(r);
	}
	return NULL;
}

static struct rlink *link_find(struct mp_reasm *r, uint32_t id)
{
	for (size_t i = 0; i < MP_REASM_MAX_LINKS; i++)
		if (r->links[i].used && r->links[i].id == id)
			return &r->links[i];
	return NULL;
}

static void process(struct mp_reasm *r, uint64_t now);

int mp_reasm_link_add(struct mp_reasm *r, uint32_t id, uint64_t now)
{
	if (link_find(r, id))
		return -EEXIST;
	for (size_t i = 0; i < MP_REASM_MAX_LINKS; i++) {
		if (!r->links[i].used) {
			r->links[i] = (struct rlink){.id = id, .used = true, .last_heard = now};
			return 0;
		}
	}
	return -ENOSPC;
}

int mp_reasm_link_remove(struct mp_reasm *r, uint32_t id, uint64_t now)
{
	struct rlink *l = link_find(r, id);

	if (!l)
		return -ENOENT;
	l->used = false;
	/* M may have been waiting for this link only. */
	process(r, now);
	return 0;
}

int mp_reasm_link_heard(struct mp_reasm *r, uint32_t id, uint64_t now)
{
	struct rlink *l = link_find(r, id);

	if (!l)
		return -ENOENT;
	if (now > l->last_heard)
		l->last_heard = now;
	/* Nothing to process: a live link can only hold loss detection back. */
	return 0;
}

static void wait_update(struct mp_reasm *r)
{
	uint32_t w = r->spread_wait > r->late_wait ? r->spread_wait : r->late_wait;

	if (w < r->cfg.wait_min_ms)
		w = r->cfg.wait_min_ms;
	if (w > r->cfg.wait_max_ms)
		w = r->cfg.wait_max_ms;
	r->wait_ms = w;
}

void mp_reasm_set_spread(struct mp_reasm *r, uint32_t spread_ms)
{
	/* A hole is normally filled within one spread (the fragment took the
	 * slow link); twice that absorbs jitter on top. */
	uint64_t w = (uint64_t)spread_ms * 2;

	r->spread_wait = w > r->cfg.wait_max_ms ? r->cfg.wait_max_ms : (uint32_t)w;
	wait_update(r);
}

/* What actually happened sets a floor under the wait: a fragment that came
 * `lateness` ms after its number was given up needed wait + lateness. Raise
 * to that plus a quarter (jitter varies) at once; shrink by 1/8 per second
 * without late arrivals, but not below the longest hole fill seen in the
 * last two seconds (plus the same margin), which is what the wait must
 * cover to lose nothing. */
static uint32_t with_margin(uint64_t ms)
{
	uint64_t m = ms + ms / 4 + 2;
	return m > UINT32_MAX ? UINT32_MAX : (uint32_t)m;
}

static void late_raise(struct mp_reasm *r, uint64_t needed, uint64_t now)
{
	uint32_t w = with_margin(needed);

	if (w > r->cfg.wait_max_ms)
		w = r->cfg.wait_max_ms;
	r->late_epoch = now;
	if (w > r->late_wait) {
		r->late_wait = w;
		r->st.wait_raised++;
		wait_update(r);
	}
}

static void late_decay(struct mp_reasm *r, uint64_t now)
{
	if (now < r->late_epoch + LATE_DECAY_MS)
		return;
	uint64_t steps = (now - r->late_epoch) / LATE_DECAY_MS;
	r->late_epoch += steps * LATE_DECAY_MS;
	if (steps > 1)
		r->fill_prev = 0; /* a whole period without a fill */
	else
		r->fill_prev = r->fill_cur;
	r->fill_cur = 0;
	if (!r->late_wait)
		return;
	for (uint64_t i = 0; i < steps && r->late_wait; i++)
		r->late_wait -= r->late_wait / 8 ? r->late_wait / 8 : r->late_wait;
	uint32_t keep = r->fill_prev ? with_margin(r->fill_prev) : 0;
	if (r->late_wait < keep)
		r->late_wait = keep;
	if (r->late_wait < r->cfg.wait_min_ms)
		r->late_wait = 0;
	wait_update(r);
}

uint32_t mp_reasm_wait_ms(const struct mp_reasm *r)
{
	return r->wait_ms;
}

const struct mp_reasm_stats *mp_reasm_stats(const struct mp_reasm *r)
{
	return &r->st;
}

void mp_reasm_usage(const struct mp_reasm *r, size_t *frags, size_t *bytes)
{
	if (frags)
		*frags = r->buffered;
	if (bytes)
		*bytes = (r->n_chunks - r->free_chunks) * CHUNK;
}

/* ---- storage ---- */

static struct slot *slot_of(struct mp_reasm *r, uint64_t seq)
{
	return &r->ring[seq & (r->ring_size - 1)];
}

static bool present(struct mp_reasm *r, uint64_t seq)
{
	struct slot *s = slot_of(r, seq);

	return seq < r->hi && (s->flags & SLOT_PRESENT) && s->seq == seq;
}

static size_t chunks_for(size_t len)
{
	return (len + CHUNK - 1) / CHUNK;
}

static void hist_set(struct mp_reasm *r, uint64_t seq, bool got)
{
	uint64_t bit = UINT64_C(1) << (seq % 64);
	size_t word = (seq % HIST_BITS) / 64;

	if (got)
		r->hist[word] |= bit;
	else
		r->hist[word] &= ~bit;
}

static bool hist_get(const struct mp_reasm *r, uint64_t seq)
{
	return r->hist[(seq % HIST_BITS) / 64] >> (seq % 64) & 1;
}

static uint64_t oldest(struct mp_reasm *r)
{
	if (!r->old_valid) {
		r->old_at = UINT64_MAX;
		r->old_cnt = 0;
		for (uint64_t q = r->next; q < r->hi; q++) {
			if (!present(r, q))
				continue;
			uint64_t at = slot_of(r, q)->at;
			if (at < r->old_at) {
				r->old_at = at;
				r->old_cnt = 1;
			} else if (at == r->old_at) {
				r->old_cnt++;
			}
		}
		r->old_valid = true;
	}
	return r->old_at;
}

static void slot_release(struct mp_reasm *r, struct slot *s)
{
	uint32_t c = s->chunk;

	while (c != NO_CHUNK) {
		uint32_t nx = r->chain[c];
		r->chain[c] = r->free_head;
		r->free_head = c;
		r->free_chunks++;
		c = nx;
	}
	if (r->old_valid && s->at == r->old_at && --r->old_cnt == 0)
		r->old_valid = false;
	s->flags = 0;
	s->chunk = NO_CHUNK;
	r->buffered--;
}

/* Copies data into pool chunks; the caller made sure they are free. */
static void slot_store(struct mp_reasm *r, uint64_t seq, bool b, bool e, const uint8_t *data,
		       size_t len, uint64_t now)
{
	struct slot *s = slot_of(r, seq);
	struct rbuf in = rbuf_make(data, len);
	uint32_t *link = &s->chunk;

	*s = (struct slot){.seq = seq,
			   .at = now,
			   .len = (uint32_t)len,
			   .flags = (uint8_t)(SLOT_PRESENT | (b ? SLOT_B : 0) | (e ? SLOT_E : 0))};
	*link = NO_CHUNK;
	while (in.len) {
		uint32_t c = r->free_head;
		size_t n = in.len < CHUNK ? in.len : CHUNK;

		r->free_head = r->chain[c];
		r->free_chunks--;
		r->chain[c] = NO_CHUNK;
		rbuf_get_bytes(&in, &r->pool[(size_t)c * CHUNK], n);
		*link = c;
		link = &r->chain[c];
	}
	r->buffered++;
	if (seq >= r->hi)
		r->hi = seq + 1;
	if (r->old_valid) {
		if (now < r->old_at) {
			r->old_at = now;
			r->old_cnt = 1;
		} else if (now == r->old_at) {
			r->old_cnt++;
		}
	}
}

static void slot_copy_out(struct mp_reasm *r, const struct slot *s, struct wbuf *w)
{
	size_t left = s->len;

	for (uint32_t c = s->chunk; c != NO_CHUNK && left; c = r->chain[c]) {
		size_t n = left < CHUNK ? left : CHUNK;
		wbuf_put_bytes(w, &r->pool[(size_t)c * CHUNK], n);
		left -= n;
	}
}

/* Move `next` past one number: drop its fragment if buffered (counted by
 * the caller), remember whether it was received. */
static void pass_one(struct mp_reasm *r)
{
	uint64_t q = r->next;
	bool got = present(r, q);

	if (got)
		slot_release(r, slot_of(r, q));
	hist_set(r, q, got);
	r->next = q + 1;
	r->advanced = true;
	if (r->hi < r->next)
		r->hi = r->next;
	if (!r->buffered)
		r->hi = r->next;
}

/* Give up (count) the numbers [next, end): holes as lost, fragments as
 * discarded. Holes given up because the wait ran out are logged with the
 * time and the wait, to learn from a late arrival. */
static void give_up_to(struct mp_reasm *r, uint64_t end, bool by_time, uint64_t now)
{
	while (r->next < end) {
		if (present(r, r->next)) {
			r->st.discarded++;
		} else {
			r->st.lost++;
			if (by_time) {
				r->gu[r->gu_pos] =
				    (struct giveup){.seq = r->next, .at = now, .wait = r->wait_ms};
				r->gu_pos = (r->gu_pos + 1) % GIVEUP_LOG;
			}
		}
		pass_one(r);
	}
}

static void deliver_bytes(struct mp_reasm *r, const uint8_t *p, size_t len)
{
	struct rbuf in = rbuf_make(p, len);
	uint16_t proto;

	if (mp_inner_proto(&in, &proto, NULL) < 0) {
		r->st.malformed++;
		return;
	}
	r->st.delivered++;
	r->cfg.deliver(r->cfg.ctx, proto, in.p, in.len);
}

/* [next, end) holds one complete packet. */
static void deliver_head(struct mp_reasm *r, uint64_t end)
{
	struct wbuf w = wbuf_make(r->pkt, r->pkt_cap);

	for (uint64_t q = r->next; q < end; q++)
		slot_copy_out(r, slot_of(r, q), &w);
	while (r->next < end)
		pass_one(r);
	if (!wbuf_ok(&w)) {
		r->st.malformed++;
		return;
	}
	deliver_bytes(r, w.p, w.len);
}

/* ---- loss detection ---- */

/* Alive: the link may still carry any number above its max_seq, even after
 * a long idle period (the sender picks it again). Only a link not heard at
 * all for the liveness bound is taken for dead and leaves M. */
static bool link_alive(const struct mp_reasm *r, const struct rlink *l, uint64_t now)
{
	uint64_t bound = r->cfg.alive_ms > r->wait_ms ? r->cfg.alive_ms : r->wait_ms;

	return l->used && (now <= l->last_heard || now - l->last_heard <= bound);
}

enum { NOT_LOST, LOST_BY_M, LOST_BY_TIME };

/* RFC 1990 §4.1, with a reorder window per link. A link sends in
 * increasing order, so it can only carry q if q is above what it delivered
 * (less its reordering). An idle link counts like a busy one: its next
 * packet may be q, overtaken in flight by faster links; only the wait gives
 * such a q up. A fresh link may still carry anything. */
static bool lost_by_m(const struct mp_reasm *r, uint64_t q, uint64_t now)
{
	bool any = false;
	for (size_t i = 0; i < MP_REASM_MAX_LINKS; i++) {
		const struct rlink *l = &r->links[i];
		if (!link_alive(r, l, now))
			continue;
		if (!l->seen)
			return false;
		uint32_t win = l->reorder > r->cfg.reorder_min ? l->reorder : r->cfg.reorder_min;
		if (q + win >= l->max_seq)
			return false;
		any = true;
	}
	return any;
}

/* Is the missing number h never going to arrive (or not worth waiting for)? */
static int is_lost(struct mp_reasm *r, uint64_t h, uint64_t now)
{
	/* Time: something behind the obstacle has waited long enough. */
	uint64_t old = oldest(r);
	if (old != UINT64_MAX && now >= old && now - old >= r->wait_ms)
		return LOST_BY_TIME;
	return lost_by_m(r, h, now) ? LOST_BY_M : NOT_LOST;
}

/* Was the hole h asked for again (and when)? */
static bool in_nack(struct mp_reasm *r, uint64_t h)
{
	const struct slot *s = slot_of(r, h);
	return h >= r->next && h < r->hi && s->seq == h &&
	       (s->flags & (SLOT_ASKED | SLOT_PRESENT)) == SLOT_ASKED;
}

/* Ask for the run [q, q + n) and mark it; false if the owner could not. */
static bool ask_run(struct mp_reasm *r, uint64_t q, uint32_t n, uint64_t now)
{
	if (!r->cfg.nack(r->cfg.ctx, (uint32_t)q & mp_seq_mask(r->cfg.short_seq), n))
		return false;
	for (uint32_t k = 0; k < n; k++) {
		struct slot *s = slot_of(r, q + k);
		*s = (struct slot){.seq = q + k, .at = now, .chunk = NO_CHUNK, .flags = SLOT_ASKED};
	}
	r->st.nacked += n;
	return true;
}

#define MP_REASM_NACK_RUNS 16 /* requests per round, at most */

/* The head hole h is about to be given up: ask for it, and in the same
 * round for every other hole behind the head that is as good as lost
 * (something above it waited the whole wait, or M passed it) and not yet
 * asked for. Asked one at a time, a link's worth of holes (a modem cut
 * mid-transfer, a coverage gap) cost one request round trip each: seconds
 * of stalled delivery. */
static void ask_holes(struct mp_reasm *r, uint64_t h, uint64_t now)
{
	/* Oldest arrival above each number, from the top down. */
	uint64_t min_above = UINT64_MAX;
	uint64_t lost_below = h; /* numbers <= this one are overdue by time */
	for (uint64_t q = r->hi; q-- > h;) {
		if (present(r, q)) {
			uint64_t at = slot_of(r, q)->at;
			min_above = at < min_above ? at : min_above;
		} else if (min_above != UINT64_MAX && now >= min_above &&
			   now - min_above >= r->wait_ms) {
			lost_below = q;
			break;
		}
	}
	unsigned runs = 0;
	uint64_t q = h;
	while (q < r->hi && runs < MP_REASM_NACK_RUNS) {
		if (present(r, q) || in_nack(r, q) ||
		    (q != h && q > lost_below && !lost_by_m(r, q, now))) {
			q++;
			continue;
		}
		uint32_t n = 1;
		while (n < MP_REASM_NACK_MAX && q + n < r->hi && !present(r, q + n) &&
		       !in_nack(r, q + n))
			n++;
		if (!ask_run(r, q, n, now))
			return;
		runs++;
		q += n;
	}
}

/* Before a hole is given up (the M rule proved it lost, or the wait ran
 * out: on a cellular link in a coverage gap, whose queue drops what waits,
 * even the null fragments stop and M never passes), ask the sender for it
 * (with the other holes as good as lost, ask_holes) once and hold it
 * nack_wait_ms for the copy. If it was only late, the copy is dropped as a
 * duplicate. */
static int arq_hold(struct mp_reasm *r, uint64_t h, int why, uint64_t now)
{
	if (why == NOT_LOST)
		return NOT_LOST;
	if (!in_nack(r, h)) {
		if (!r->cfg.nack || !r->nack_wait_ms)
			return why;
		ask_holes(r, h, now);
		if (!in_nack(r, h))
			return why;
	}
	return now < slot_of(r, h)->at + r->nack_wait_ms ? NOT_LOST : why;
}

/* Deliver complete packets at the head; give up obstacles that are lost. */
static void process(struct mp_reasm *r, uint64_t now)
{
	while (r->buffered) {
		uint64_t h = r->next;

		if (!present(r, h)) {
			int why = arq_hold(r, h, is_lost(r, h, now), now);
			if (why == NOT_LOST)
				return;
			give_up_to(r, h + 1, why == LOST_BY_TIME, now);
			continue;
		}
		if (!(slot_of(r, h)->flags & SLOT_B)) {
			/* Its first fragment is behind us: the packet is gone. */
			give_up_to(r, h + 1, false, now);
			continue;
		}
		size_t total = 0;
		uint64_t q = h;
		for (;; q++) {
			if (!present(r, q))
				break;
			struct slot *s = slot_of(r, q);
			if (q > h && (s->flags & SLOT_B))
				break; /* B implies E on the one before: incomplete */
			total += s->len;
			if (total > r->pkt_cap || (s->flags & SLOT_E))
				break;
		}
		int why;
		if (present(r, q) && q > h && (slot_of(r, q)->flags & SLOT_B)) {
			give_up_to(r, q, false, now);
		} else if (present(r, q) && total > r->pkt_cap) {
			r->st.malformed++;
			give_up_to(r, q + 1, false, now);
		} else if (present(r, q)) {
			deliver_head(r, q + 1);
		} else if ((why = arq_hold(r, q, is_lost(r, q, now), now)) != NOT_LOST) {
			/* the fragments and the hole */
			give_up_to(r, q + 1, why == LOST_BY_TIME, now);
		} else {
			return;
		}
	}
}

/* The memory bound is hit: give up the obstacle at the head. */
static void force_one(struct mp_reasm *r, uint64_t now)
{
	if (present(r, r->next)) {
		r->st.overflow++;
		pass_one(r);
	} else {
		give_up_to(r, r->next + 1, false, now);
	}
	process(r, now);
}

static void jump_to(struct mp_reasm *r, uint64_t seq)
{
	/* Nothing buffered: every number up to seq is a hole. */
	uint64_t gap = seq - r->next;

	r->st.lost += gap;
	if (gap >= HIST_BITS)
		memset(r->hist, 0, sizeof(r->hist));
	else
		for (uint64_t q = r->next; q < seq; q++)
			hist_set(r, q, false);
	r->next = r->hi = seq;
	r->advanced = true;
}

static void link_saw(struct mp_reasm *r, struct rlink *l, uint64_t w, uint64_t now)
{
	if (now > l->last_heard)
		l->last_heard = now;
	if (!l->seen || w > l->max_seq) {
		l->seen = true;
		l->max_seq = w;
		/* Forget old reordering slowly: halve after a long clean run. */
		if (l->reorder && ++l->run >= REORDER_DECAY) {
			l->reorder /= 2;
			l->run = 0;
		}
	} else if (w < l->max_seq) {
		uint64_t depth = l->max_seq - w;
		if (depth > r->cfg.reorder_max)
			depth = r->cfg.reorder_max;
		if (depth > l->reorder)
			l->reorder = (uint32_t)depth;
		l->run = 0;
	}
}

/* A fragment whose number was given up by the wait: learn how late it is. */
static void late_learn(struct mp_reasm *r, uint64_t w, uint64_t now)
{
	for (unsigned i = 0; i < GIVEUP_LOG; i++) {
		const struct giveup *g = &r->gu[i];
		if (g->seq == w && now >= g->at) {
			late_raise(r, (uint64_t)g->wait + (now - g->at), now);
			return;
		}
	}
}

/* A fragment filled a hole: if it was the first hole, what waited behind
 * it waited now - oldest, the time the wait had to cover. */
static void fill_sample(struct mp_reasm *r, uint64_t w, uint64_t now)
{
	if (in_nack(r, w)) {
		r->st.nack_filled++; /* a copy we asked for: says nothing of the wait */
		return;
	}
	if (w >= r->hi || !r->buffered)
		return;
	for (uint64_t q = r->next; q < w; q++)
		if (!present(r, q))
			return;
	uint64_t old = oldest(r);
	if (old == UINT64_MAX || now <= old)
		return;
	uint64_t d = now - old;
	if (d > r->fill_cur)
		r->fill_cur = d > UINT32_MAX ? UINT32_MAX : (uint32_t)d;
}

static int late(struct mp_reasm *r, uint64_t w, bool b, bool e, const uint8_t *data, size_t len,
		uint64_t now)
{
	if (r->next - w > HIST_BITS) {
		r->st.late++;
		return 0;
	}
	if (hist_get(r, w)) {
		r->st.duplicates++;
		return 0;
	}
	hist_set(r, w, true);
	late_learn(r, w, now);
	if (b && e && !r->cfg.no_late) {
		r->st.delivered_late++;
		deliver_bytes(r, data, len);
		return 0;
	}
	r->st.late++;
	return 0;
}

int mp_reasm_push(struct mp_reasm *r, uint32_t id, uint32_t seq, bool b, bool e,
		  const uint8_t *data, size_t len, uint64_t now)
{
	struct rlink *l = link_find(r, id);

	if (!l)
		return -ENOENT;
	if (len > r->pkt_cap) {
		r->st.malformed++;
		return -EMSGSIZE;
	}
	if (!r->started) {
		r->started = true;
		r->next = r->hi = SEQ_BASE + (seq & mp_seq_mask(r->cfg.short_seq));
	}
	uint64_t w = mp_seq_widen(seq, r->next, r->cfg.short_seq);
	if (in_nack(r, w)) {
		/* A copy we asked for: it says nothing of the link's order. */
		if (now > l->last_heard)
			l->last_heard = now;
	} else {
		link_saw(r, l, w, now);
	}
	late_decay(r, now);
	if (b && e && len == 0) {
		/* A null fragment (mp_tx_null): the sender's last number, sent
		 * on a link it leaves idle. It only says "this link has passed
		 * w": never stored, so it cannot stand in for real data. */
		r->st.nulls++;
		process(r, now);
		return 0;
	}

	if (w < r->next) {
		/* Before anything left, an earlier number is the true start. */
		if (!r->advanced && r->hi - w <= r->ring_size)
			r->next = w;
		else
			return late(r, w, b, e, data, len, now);
	}
	if (w >= r->next + r->ring_size && !r->buffered)
		jump_to(r, w - r->ring_size + 1);
	while (w >= r->next + r->ring_size && r->buffered)
		force_one(r, now);
	if (w >= r->next + r->ring_size)
		jump_to(r, w - r->ring_size + 1);
	if (present(r, w)) {
		r->st.duplicates++;
		return 0;
	}
	fill_sample(r, w, now);
	if (w == r->next && b && e) {
		/* Fast path: the next packet, whole. No copy. */
		pass_one(r);
		hist_set(r, w, true);
		deliver_bytes(r, data, len);
		process(r, now);
		return 0;
	}
	while (r->free_chunks < chunks_for(len) && r->buffered && w >= r->next)
		force_one(r, now);
	if (w < r->next || r->free_chunks < chunks_for(len)) {
		r->st.overflow++;
		return 0;
	}
	slot_store(r, w, b, e, data, len, now);
	process(r, now);
	return 0;
}

int mp_reasm_input(struct mp_reasm *r, uint32_t link, const uint8_t *frame, size_t len,
		   uint64_t now, const char **reason)
{
	struct mp_frag f;
	int err = mp_hdr_decode(frame, len, r->cfg.short_seq, &f, reason);

	if (err < 0) {
		if (link_find(r, link))
			r->st.malformed++;
		return err;
	}
	return mp_reasm_push(r, link, f.seq, f.b, f.e, f.payload.p, f.payload.len, now);
}

uint64_t mp_reasm_tick(struct mp_reasm *r, uint64_t now)
{
	late_decay(r, now);
	process(r, now);
	if (!r->buffered)
		return UINT64_MAX;
	uint64_t d = oldest(r) + r->wait_ms;
	if (in_nack(r, r->next)) {
		/* The head is held for a copy: the wait may have passed already. */
		uint64_t n = slot_of(r, r->next)->at + r->nack_wait_ms;
		if (n > now && (d <= now || n < d))
			d = n;
	}
	return d;
}

void mp_reasm_set_nack_wait(struct mp_reasm *r, uint32_t wait_ms)
{
	r->nack_wait_ms = wait_ms;
}
