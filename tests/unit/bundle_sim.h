/* In-memory test bed for plink/bundle tests: a virtual clock with timers
 * (struct pclock), and per-path "wires" that queue datagrams for a delay,
 * can drop them (cut) and count what they carried. Two sides (gateway,
 * receiver), each with up to SIM_MAX_PATHS plinks; a side's owner
 * callbacks join authenticated links to one bundle per side, like the
 * daemon will. Deterministic: time only moves in sim_run(). */
#pragma once
#include "bundle.h"
#include "plink.h"
#include "ppp_frame.h"
#include "ppp_proto.h"
#include "secrets.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SIM_MAX_TIMERS 256
#define SIM_MAX_PATHS  4
#ifndef SIM_QLEN
#define SIM_QLEN 512
#endif
#define SIM_DGRAM  2048
#define SIM_MAX_RX 4096

struct sim;

struct vtimer {
	struct sim *sim;
	bool used, armed;
	uint64_t due, seq;
	ptimer_fn fn;
	void *arg;
};

struct pipe_msg {
	uint64_t due;
	size_t len;
	uint8_t d[SIM_DGRAM];
};

struct sim;

/* One direction of one path. */
struct pipe {
	struct sim *sim;
	int path, to_side;
	uint64_t delay_us;
	bool cut;
	unsigned drop_mp;   /* drop the next drop_mp MP data frames (then carry on) */
	struct pipe_msg *q; /* ring of SIM_QLEN */
	size_t head, n;
	struct vtimer *timer;
	uint64_t carried, dropped, dropped_mp, mp_carried, vendor_carried;
};

struct side {
	struct sim *sim;
	int idx; /* 0 gateway, 1 receiver */
	const char *name;
	struct plink *pl[SIM_MAX_PATHS];
	struct bundle *b;
	struct bundle_config bc;
	uint32_t rng;
	/* owner log */
	int n_auth, n_refused, n_down, n_finished, n_dead, n_alive;
	uint64_t dead_at_us[SIM_MAX_PATHS], alive_at_us[SIM_MAX_PATHS];
	const char *refuse_reason;
	const char *down_reason;
	char peer_name[64];
	/* delivered packets */
	uint32_t rx_id[SIM_MAX_RX];
	size_t rx_n;
	int rx_bad;
	void (*on_attach)(struct side *s, struct plink *pl);
};

struct sim {
	uint64_t now_us;
	uint64_t tseq;
	struct vtimer t[SIM_MAX_TIMERS];
	struct pclock clk;
	struct pipe pipe[SIM_MAX_PATHS][2]; /* [path][to side] */
	struct side side[2];
};

/* ---- clock ---- */

static inline uint64_t sim_now(void *ctx)
{
	return ((struct sim *)ctx)->now_us;
}

static inline void *sim_timer_new(void *ctx, ptimer_fn fn, void *arg)
{
	struct sim *s = ctx;
	for (int i = 0; i < SIM_MAX_TIMERS; i++) {
		if (!s->t[i].used) {
			s->t[i] = (struct vtimer){.sim = s, .used = true, .fn = fn, .arg = arg};
			return &s->t[i];
		}
	}
	return NULL;
}

static inline void sim_timer_arm(void *t, uint64_t ms)
{
	struct vtimer *v = t;
	struct sim *s = v->sim;
	v->armed = true;
	v->due = s->now_us + ms * 1000;
	v->seq = ++s->tseq;
}

static inline void sim_timer_cancel(void *t)
{
	((struct vtimer *)t)->armed = false;
}

static inline void sim_timer_free(void *t)
{
	if (t)
		*(struct vtimer *)t = (struct vtimer){0};
}

static const struct pclock_ops sim_clock_ops = {
    .now_us = sim_now,
    .timer_new = sim_timer_new,
    .timer_arm = sim_timer_arm,
    .timer_cancel = sim_timer_cancel,
    .timer_free = sim_timer_free,
};

/* Run timers in (deadline, arming order) until dur_us has passed. */
static inline void sim_run(struct sim *s, uint64_t dur_us)
{
	uint64_t until = s->now_us + dur_us;
	for (;;) {
		struct vtimer *best = NULL;
		for (int i = 0; i < SIM_MAX_TIMERS; i++) {
			struct vtimer *v = &s->t[i];
			if (v->used && v->armed && v->due <= until &&
			    (!best || v->due < best->due ||
			     (v->due == best->due && v->seq < best->seq)))
				best = v;
		}
		if (!best)
			break;
		if (best->due > s->now_us)
			s->now_us = best->due;
		best->armed = false;
		best->fn(best->arg);
	}
	s->now_us = until;
}

/* ---- wires ---- */

static inline void pipe_fire(void *arg)
{
	struct pipe *p = arg;
	struct sim *s = p->sim;
	while (p->n && p->q[p->head].due <= s->now_us) {
		struct pipe_msg *m = &p->q[p->head];
		p->head = (p->head + 1) % SIM_QLEN;
		p->n--;
		struct plink *dst = s->side[p->to_side].pl[p->path];
		if (dst)
			plink_input(dst, m->d, m->len);
	}
	if (p->n) {
		uint64_t due = p->q[p->head].due;
		sim_timer_arm(p->timer, due > s->now_us ? (due - s->now_us + 999) / 1000 : 0);
	}
}

static inline bool dgram_is(const uint8_t *d, size_t len, uint16_t proto)
{
	struct ppp_frame f;
	return ppp_frame_decode(d, len, &f) == 0 && f.protocol == proto;
}

static inline bool dgram_is_vendor(const uint8_t *d, size_t len)
{
	struct ppp_frame f;
	uint8_t code;
	return ppp_frame_decode(d, len, &f) == 0 && f.protocol == PPP_PROTO_LCP &&
	       rbuf_peek8(&f.payload, 0, &code) == 0 && code == PPP_CODE_VENDOR;
}

static inline void pipe_push(struct pipe *p, const uint8_t *d, size_t len)
{
	struct sim *s = p->sim;
	bool mp_data = dgram_is(d, len, PPP_PROTO_MP) && len > 12; /* not a null fragment */
	if (p->drop_mp && mp_data) {
		p->drop_mp--;
		p->dropped++;
		p->dropped_mp++;
		return;
	}
	if (p->cut || p->n == SIM_QLEN || len > SIM_DGRAM) {
		p->dropped++;
		if (dgram_is(d, len, PPP_PROTO_MP))
			p->dropped_mp++;
		return;
	}
	p->carried++;
	if (dgram_is(d, len, PPP_PROTO_MP))
		p->mp_carried++;
	if (dgram_is_vendor(d, len))
		p->vendor_carried++;
	struct pipe_msg *m = &p->q[(p->head + p->n) % SIM_QLEN];
	m->due = s->now_us + p->delay_us;
	m->len = len;
	memcpy(m->d, d, len);
	if (p->n++ == 0)
		sim_timer_arm(p->timer, (p->delay_us + 999) / 1000);
}

/* ---- side (owner) ---- */

static inline int side_path(const struct side *sd, const struct plink *pl)
{
	for (int i = 0; i < SIM_MAX_PATHS; i++)
		if (sd->pl[i] == pl)
			return i;
	return -1;
}

static inline int side_send(void *ctx, struct plink *pl, const uint8_t *d, size_t len)
{
	struct side *sd = ctx;
	int path = side_path(sd, pl);
	if (path < 0)
		return -ENOENT;
	pipe_push(&sd->sim->pipe[path][!sd->idx], d, len);
	return 0;
}

static inline void side_deliver(void *ctx, struct bundle *b, uint16_t proto, const uint8_t *pkt,
				size_t len)
{
	struct side *sd = ctx;
	(void)b;
	if (proto != PPP_PROTO_IP || len < 4) {
		sd->rx_bad++;
		return;
	}
	uint32_t id =
	    (uint32_t)pkt[0] << 24 | (uint32_t)pkt[1] << 16 | (uint32_t)pkt[2] << 8 | pkt[3];
	for (size_t i = 4; i < len; i++)
		if (pkt[i] != (uint8_t)(id + i))
			sd->rx_bad++;
	if (sd->rx_n < SIM_MAX_RX)
		sd->rx_id[sd->rx_n++] = id;
}

static const struct bundle_ops side_bundle_ops = {.deliver = side_deliver};

static inline void side_authenticated(void *ctx, struct plink *pl, const char *peer,
				      const struct lcp_ed *ed, const struct lcp_result *res)
{
	struct side *sd = ctx;
	const char *why = NULL;
	(void)res;
	sd->n_auth++;
	snprintf(sd->peer_name, sizeof(sd->peer_name), "%s", peer);
	if (!sd->b) {
		sd->b = bundle_new(&sd->bc, &side_bundle_ops, sd, &sd->sim->clk);
		bundle_set_peer(sd->b, peer, ed);
	}
	if (!bundle_matches(sd->b, peer, ed)) {
		sd->n_refused++;
		sd->refuse_reason = "other peer";
		plink_close(pl, "other peer");
		return;
	}
	if (bundle_attach(sd->b, pl, &why) < 0) {
		sd->n_refused++;
		sd->refuse_reason = why;
		plink_close(pl, why);
		return;
	}
	if (sd->on_attach)
		sd->on_attach(sd, pl);
}

static inline void side_dead(void *ctx, struct plink *pl)
{
	struct side *sd = ctx;
	sd->n_dead++;
	sd->dead_at_us[side_path(sd, pl)] = sd->sim->now_us;
}

static inline void side_alive(void *ctx, struct plink *pl)
{
	struct side *sd = ctx;
	sd->n_alive++;
	sd->alive_at_us[side_path(sd, pl)] = sd->sim->now_us;
}

static inline void side_down(void *ctx, struct plink *pl, const char *reason)
{
	struct side *sd = ctx;
	(void)pl;
	sd->n_down++;
	sd->down_reason = reason;
}

static inline void side_finished(void *ctx, struct plink *pl)
{
	(void)pl;
	((struct side *)ctx)->n_finished++;
}

static inline uint32_t side_random(void *ctx)
{
	struct side *sd = ctx;
	sd->rng = sd->rng * 1103515245u + 12345u;
	return sd->rng ^ (sd->rng >> 16);
}

static const struct plink_ops side_plink_ops = {
    .send = side_send,
    .authenticated = side_authenticated,
    .link_dead = side_dead,
    .link_alive = side_alive,
    .down = side_down,
    .finished = side_finished,
    .random32 = side_random,
};

/* ---- setup ---- */

static inline struct sim *sim_new(void)
{
	struct sim *s = calloc(1, sizeof(*s));
	s->now_us = 1000000;
	s->clk = (struct pclock){.ops = &sim_clock_ops, .ctx = s};
	for (int p = 0; p < SIM_MAX_PATHS; p++) {
		for (int d = 0; d < 2; d++) {
			struct pipe *pp = &s->pipe[p][d];
			pp->sim = s;
			pp->path = p;
			pp->to_side = d;
			pp->delay_us = 20000;
			pp->q = calloc(SIM_QLEN, sizeof(*pp->q));
			pp->timer = sim_timer_new(s, pipe_fire, pp);
		}
	}
	for (int i = 0; i < 2; i++) {
		struct side *sd = &s->side[i];
		sd->sim = s;
		sd->idx = i;
		sd->name = i ? "rcv" : "gw1";
		sd->rng = 0x1234u + (uint32_t)i * 77u;
		bundle_config_default(&sd->bc);
		sd->bc.name = sd->name;
		sd->bc.request_retx = i == 1; /* the receiver side, as modemd's receiver */
	}
	return s;
}

static inline void sim_free(struct sim *s)
{
	for (int i = 0; i < 2; i++) {
		for (int p = 0; p < SIM_MAX_PATHS; p++)
			s->side[i].pl[p] = plink_free(s->side[i].pl[p]);
		s->side[i].b = bundle_free(s->side[i].b);
	}
	for (int p = 0; p < SIM_MAX_PATHS; p++)
		for (int d = 0; d < 2; d++)
			free(s->pipe[p][d].q);
	free(s);
}

static inline void sim_set_delay(struct sim *s, int path, uint64_t us)
{
	s->pipe[path][0].delay_us = us;
	s->pipe[path][1].delay_us = us;
}

static inline void sim_cut(struct sim *s, int path, bool cut)
{
	s->pipe[path][0].cut = cut;
	s->pipe[path][1].cut = cut;
}

/* A link config like the daemon's: CHAP both ways, MP with long numbers. */
static inline void sim_link_config(struct plink_config *c, const struct side *sd, int path,
				   const struct secrets *sec)
{
	plink_config_default(c);
	c->id = (uint32_t)path + 1;
	c->name = sd->idx ? "rcv-path" : "gw-path";
	c->our_name = sd->name;
	c->require_auth = LCP_AUTH_CHAP_MD5;
	c->secrets = sec;
	c->mru = 1400;
	c->mrru = 1500;
	c->has_ed = true;
	c->ed = (struct lcp_ed){.class = LCP_ED_LOCAL, .len = 3};
	memcpy(c->ed.addr, sd->name, 3);
}

static inline struct plink *sim_add_link(struct sim *s, int side, int path,
					 const struct plink_config *c)
{
	struct side *sd = &s->side[side];
	sd->pl[path] = plink_new(c, &side_plink_ops, sd, &s->clk);
	return sd->pl[path];
}

/* A test packet: id in the first 4 bytes, then a pattern the receiver checks. */
static inline size_t sim_packet(uint8_t *p, uint32_t id, size_t len)
{
	p[0] = (uint8_t)(id >> 24);
	p[1] = (uint8_t)(id >> 16);
	p[2] = (uint8_t)(id >> 8);
	p[3] = (uint8_t)id;
	for (size_t i = 4; i < len; i++)
		p[i] = (uint8_t)(id + i);
	return len;
}

/* Send a packet through side's bundle, waiting (virtual time) while the
 * scheduler holds it back. Returns the bundle_send result. */
static inline int sim_send(struct sim *s, int side, uint32_t id, size_t len)
{
	uint8_t pkt[2048];
	sim_packet(pkt, id, len);
	int r = bundle_send(s->side[side].b, PPP_PROTO_IP, pkt, len);
	/* Backpressure like the old -EAGAIN loop: let the bundle's queue
	 * drain before the next packet (tests of the queue send bursts). */
	for (int tries = 0; r == 0 && tries < 200; tries++) {
		struct bundle_stats st;
		bundle_get_stats(s->side[side].b, &st);
		if (!st.txq_pkts)
			break;
		sim_run(s, 1000);
	}
	return r;
}
