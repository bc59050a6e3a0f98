/* RFC 1990 reassembly with a bounded adaptive wait; see mp_reasm.h. */
#include "mp_reasm.h"
#include "buf.h"
#include "mp.h"
#include "mp_reasm-internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

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

uint64_t mp_reasm_oldest_(struct mp_reasm *r)
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

/* Deliver complete packets at the head; give up obstacles that are lost. */
static void process(struct mp_reasm *r, uint64_t now)
{
	while (r->buffered) {
		uint64_t h = r->next;

		if (!present(r, h)) {
			int why = mp_reasm_hold_(r, h, now);
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
		} else if ((why = mp_reasm_hold_(r, q, now)) != NOT_LOST) {
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
	if (mp_reasm_asked_(r, w)) {
		r->st.nack_filled++; /* a copy we asked for: says nothing of the wait */
		return;
	}
	if (w >= r->hi || !r->buffered)
		return;
	for (uint64_t q = r->next; q < w; q++)
		if (!present(r, q))
			return;
	uint64_t old = mp_reasm_oldest_(r);
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
	if (mp_reasm_asked_(r, w)) {
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
	uint64_t d = mp_reasm_oldest_(r) + r->wait_ms;
	/* The first hole (the head, or one inside the packet at the head) may
	 * be held for a copy: the wait may have passed already. */
	uint64_t q = r->next;
	while (q < r->hi && present(r, q))
		q++;
	if (mp_reasm_asked_(r, q)) {
		uint64_t n = slot_of(r, q)->at + r->nack_wait_ms;
		if (n > now && (d <= now || n < d))
			d = n;
	}
	return d;
}

void mp_reasm_set_nack_wait(struct mp_reasm *r, uint32_t wait_ms)
{
	r->nack_wait_ms = wait_ms;
}
