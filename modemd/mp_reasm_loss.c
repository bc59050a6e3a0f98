/* MP reassembly: when a missing number is lost (RFC 1990 M with reorder
 * windows, or the bounded wait), and asking our own gateway for it again
 * before giving it up. docs/multilink.md. */
#include "mp.h"
#include "mp_reasm-internal.h"

/* Alive: the link may still carry any number above its max_seq, even after
 * a long idle period (the sender picks it again). Only a link not heard at
 * all for the liveness bound is taken for dead and leaves M. */
bool mp_reasm_link_alive_(const struct mp_reasm *r, const struct rlink *l, uint64_t now)
{
	uint64_t bound = r->cfg.alive_ms > r->wait_ms ? r->cfg.alive_ms : r->wait_ms;

	return l->used && (now <= l->last_heard || now - l->last_heard <= bound);
}

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
		if (!mp_reasm_link_alive_(r, l, now))
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
	uint64_t old = mp_reasm_oldest_(r);
	if (old != UINT64_MAX && now >= old && now - old >= r->wait_ms)
		return LOST_BY_TIME;
	return lost_by_m(r, h, now) ? LOST_BY_M : NOT_LOST;
}

/* Was the hole h asked for again (and when)? */
bool mp_reasm_asked_(struct mp_reasm *r, uint64_t h)
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
		if (present(r, q) || mp_reasm_asked_(r, q) ||
		    (q != h && q > lost_below && !lost_by_m(r, q, now))) {
			q++;
			continue;
		}
		uint32_t n = 1;
		while (n < MP_REASM_NACK_MAX && q + n < r->hi && !present(r, q + n) &&
		       !mp_reasm_asked_(r, q + n))
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
int mp_reasm_hold_(struct mp_reasm *r, uint64_t h, uint64_t now)
{
	int why = is_lost(r, h, now);
	if (why == NOT_LOST)
		return NOT_LOST;
	if (!mp_reasm_asked_(r, h)) {
		if (!r->cfg.nack || !r->nack_wait_ms)
			return why;
		ask_holes(r, h, now);
		if (!mp_reasm_asked_(r, h))
			return why;
	}
	return now < slot_of(r, h)->at + r->nack_wait_ms ? NOT_LOST : why;
}
