/* Internals of mp_reasm shared by its files: mp_reasm.c (storage, order,
 * delivery, the adaptive wait) and mp_reasm_loss.c (when a hole is lost,
 * retransmission requests). Not for other modules. */
#pragma once
#include "mp_reasm.h"

#include <stdbool.h>
#include <stdint.h>

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

static inline struct slot *slot_of(struct mp_reasm *r, uint64_t seq)
{
	return &r->ring[seq & (r->ring_size - 1)];
}

static inline bool present(struct mp_reasm *r, uint64_t seq)
{
	struct slot *s = slot_of(r, seq);

	return seq < r->hi && (s->flags & SLOT_PRESENT) && s->seq == seq;
}

/* Oldest arrival among buffered fragments (UINT64_MAX if none). */
uint64_t mp_reasm_oldest_(struct mp_reasm *r);

enum { NOT_LOST, LOST_BY_M, LOST_BY_TIME };
/* Is the missing head number h to be given up now (LOST_BY_*), or held
 * (NOT_LOST: still in time, or asked for again and waiting for the copy)? */
int mp_reasm_hold_(struct mp_reasm *r, uint64_t h, uint64_t now);
/* Was the hole h asked for again (its slot marked, at = when)? */
bool mp_reasm_asked_(struct mp_reasm *r, uint64_t h);
/* Alive: may still carry numbers above its max_seq (mp_reasm_loss.c). */
bool mp_reasm_link_alive_(const struct mp_reasm *r, const struct rlink *l, uint64_t now);
