#include "plink-internal.h"

#include "bundle.h"
#include "log.h"
#include "mp.h"
#include "ppp_frame.h"
#include "ppp_proto.h"
#include "util.h"
#include "vendor.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

const char *plink_phase_name(enum plink_phase p)
{
	switch (p) {
	case PLINK_DEAD:
		return "dead";
	case PLINK_ESTABLISH:
		return "establish";
	case PLINK_AUTHENTICATE:
		return "authenticate";
	case PLINK_NETWORK:
		return "network";
	case PLINK_TERMINATE:
		return "terminate";
	}
	return "?";
}

void plink_config_default(struct plink_config *c)
{
	*c = (struct plink_config){
	    .mru = PPP_DEFAULT_MRU,
	    .mrru = PPP_DEFAULT_MRU,
	    .accept_ssnhf = true,
	    .accept_auth = LCP_AUTH_PAP | LCP_AUTH_CHAP_MD5,
	    .echo_interval_ms = PLINK_ECHO_MS,
	};
	linkest_params_default(&c->est);
	fsm_config_default(&c->fsm);
}

/* ---- phases and owner notifications ---- */

#define now_us(pl)	 plink_now_us_(pl)
#define t_arm(pl, t, ms) plink_t_arm_(pl, t, ms)
#define t_cancel(pl, t)	 plink_t_cancel_(pl, t)
#define set_phase(pl, p) plink_set_phase_(pl, p)
#define enter(pl)	 plink_enter_(pl)
#define leave(pl)	 plink_leave_(pl)

void plink_set_phase_(struct plink *pl, enum plink_phase p)
{
	if (pl->phase == p)
		return;
	log_debug("plink[%s]: %s -> %s", pl->name, plink_phase_name(pl->phase),
		  plink_phase_name(p));
	pl->phase = p;
}

/* The phase follows from LCP's state and authentication. */
static void sync_phase(struct plink *pl)
{
	switch (lcp_state(pl->lcp)) {
	case FSM_INITIAL:
	case FSM_STARTING:
	case FSM_CLOSED:
	case FSM_STOPPED:
		set_phase(pl, PLINK_DEAD);
		break;
	case FSM_CLOSING:
	case FSM_STOPPING:
		set_phase(pl, PLINK_TERMINATE);
		break;
	case FSM_REQ_SENT:
	case FSM_ACK_RCVD:
	case FSM_ACK_SENT:
		set_phase(pl, PLINK_ESTABLISH);
		break;
	case FSM_OPENED:
		set_phase(pl, pl->authed ? PLINK_NETWORK : PLINK_AUTHENTICATE);
		break;
	}
}

void plink_enter_(struct plink *pl)
{
	pl->depth++;
}

/* End of an entry point: deferred close, then the owner's callbacks. */
void plink_leave_(struct plink *pl)
{
	if (--pl->depth > 0)
		return;
	pl->depth++; /* owner callbacks re-enter: keep nested calls quiet */
	for (int guard = 0; guard < 8; guard++) {
		if (pl->close_reason) {
			const char *why = pl->close_reason;
			pl->close_reason = NULL;
			pl->closing = true;
			lcp_close(pl->lcp, why);
		}
		sync_phase(pl);
		unsigned p = pl->pending;
		pl->pending = 0;
		if (!p && !pl->close_reason)
			break;
		if ((p & PEND_DOWN) && pl->ops->down)
			pl->ops->down(pl->ctx, pl, pl->down_reason ? pl->down_reason : "link down");
		if ((p & PEND_FINISHED) && pl->ops->finished)
			pl->ops->finished(pl->ctx, pl);
		if ((p & PEND_AUTH) && pl->phase == PLINK_NETWORK && pl->ops->authenticated)
			pl->ops->authenticated(pl->ctx, pl, pl->peer_name,
					       pl->res.peer_ed_present ? &pl->res.peer_ed : NULL,
					       &pl->res);
		if ((p & PEND_DEAD) && pl->ops->link_dead)
			pl->ops->link_dead(pl->ctx, pl);
		if ((p & PEND_ALIVE) && pl->ops->link_alive)
			pl->ops->link_alive(pl->ctx, pl);
	}
	pl->depth--;
}

/* ---- output ---- */

/* Only data (network protocols and their NCPs, MP) counts for the link's
 * estimates, on both sides: echoes and feedback must not look like load, or
 * an idle link measures its echo rate and caps itself there. */
static bool is_data(uint16_t proto)
{
	return proto < 0xc000;
}

static int send_dgram(struct plink *pl, const uint8_t *p, size_t len, bool data)
{
	int r = pl->ops->send(pl->ctx, pl, p, len);

	if (r < 0)
		return r;
	pl->st.tx_pkts++;
	pl->st.tx_bytes += len;
	if (pl->est_on && data)
		linkest_on_send(&pl->est, now_us(pl), (uint32_t)len);
	return 0;
}

int plink_send_proto(struct plink *pl, uint16_t proto, const uint8_t *info, size_t len)
{
	uint8_t buf[PLINK_MAX_FRAME];
	bool lcp = proto == PPP_PROTO_LCP;
	bool acfc = !lcp && pl->lcp_opened && pl->res.acfc_tx;
	bool pfc = !lcp && pl->lcp_opened && pl->res.pfc_tx;

	int n = ppp_frame_encode(buf, sizeof(buf), proto, acfc, pfc, info, len);
	if (n < 0)
		return -EMSGSIZE;
	return send_dgram(pl, buf, (size_t)n, is_data(proto));
}

int plink_send_mp(struct plink *pl, uint8_t *frame, size_t len)
{
	uint8_t hdr[PPP_FRAME_HDR_MAX];
	struct wbuf w = wbuf_make(hdr, sizeof(hdr));

	if (!pl->lcp_opened || !pl->res.peer_mrru)
		return -ENOTCONN;
	ppp_frame_put_header(&w, PPP_PROTO_MP, pl->res.acfc_tx, pl->res.pfc_tx);
	if (!wbuf_ok(&w) || w.len > MP_TX_HEADROOM)
		return -EINVAL;
	/* The fragmenter left MP_TX_HEADROOM bytes before frame for this. */
	uint8_t *start = frame - w.len;
	memcpy(start, hdr, w.len);
	return send_dgram(pl, start, len + w.len, true);
}

/* ---- LCP owner side ---- */

uint32_t plink_rand32_(struct plink *pl)
{
	uint32_t v = 0;

	if (pl->ops->random32)
		return pl->ops->random32(pl->ctx);
	if (getrandom(&v, sizeof(v), 0) != sizeof(v))
		v = (uint32_t)now_us(pl) * 2654435761u;
	return v;
}

static uint32_t lcp_random32(void *ctx)
{
	return plink_rand32_(ctx);
}

static void lcp_tx(void *ctx, const uint8_t *pkt, size_t len)
{
	plink_send_proto(ctx, PPP_PROTO_LCP, pkt, len);
}

static void lcp_timer_arm(void *ctx, uint32_t ms)
{
	struct plink *pl = ctx;
	t_arm(pl, pl->t_lcp, ms);
}

static void lcp_timer_cancel(void *ctx)
{
	struct plink *pl = ctx;
	t_cancel(pl, pl->t_lcp);
}

static void est_start(struct plink *pl)
{
	uint64_t now = now_us(pl);

	linkest_init(&pl->est, pl->c.id, &pl->c.est, now);
	pl->est_on = true;
	pl->last_echo_us = 0;
	pl->rate_t0_us = now;
	pl->rate_b0 = pl->st.rx_bytes;
	t_arm(pl, pl->t_est, pl->c.echo_interval_ms);
	if (pl->c.feedback_interval_ms && !pl->vendor_rejected)
		t_arm(pl, pl->t_fb, pl->c.feedback_interval_ms);
}

static void lcp_layer_up(void *ctx, const struct lcp_result *res)
{
	struct plink *pl = ctx;

	pl->res = *res;
	pl->lcp_opened = true;
	pl->authed = false;
	pl->closing = false;
	pl->peer_name[0] = 0;
	pl->fb_bytes = pl->fb_pkts = pl->fb_pkts_reported = 0;
	pl->fb_seq_valid = false;
	pl->fb_max_seq = 0;
	set_phase(pl, PLINK_AUTHENTICATE);
	est_start(pl);
	plink_auth_start_(pl);
}

static void lcp_layer_down(void *ctx)
{
	struct plink *pl = ctx;
	bool was_up = pl->authed;

	pl->lcp_opened = false;
	pl->authed = false;
	pl->est_on = false;
	t_cancel(pl, pl->t_est);
	t_cancel(pl, pl->t_fb);
	plink_auth_stop_(pl);
	if (pl->bundle)
		bundle_detach(pl->bundle, pl);
	pl->pending &= ~(unsigned)PEND_AUTH;
	if (was_up || pl->phase == PLINK_AUTHENTICATE) {
		pl->pending |= PEND_DOWN;
		if (!pl->down_reason)
			pl->down_reason = pl->closing ? "closed" : "LCP down";
	}
}

static void lcp_layer_finished(void *ctx)
{
	struct plink *pl = ctx;

	pl->pending |= PEND_FINISHED;
}

static void liveness_changed(struct plink *pl, enum link_liveness old);

static void lcp_echo_rtt(void *ctx, uint32_t seq, uint64_t rtt_us)
{
	struct plink *pl = ctx;

	(void)seq;
	if (!pl->est_on)
		return;
	enum link_liveness old = linkest_state(&pl->est);
	linkest_on_rtt(&pl->est, now_us(pl), rtt_us > UINT32_MAX ? UINT32_MAX : (uint32_t)rtt_us);
	liveness_changed(pl, old); /* an echo through revives a stalled or dead link */
	if (pl->bundle)
		bundle_link_update_(pl->bundle, pl);
}

static void lcp_protocol_rejected(void *ctx, uint16_t proto, const uint8_t *info, size_t len)
{
	struct plink *pl = ctx;

	log_debug("plink[%s]: peer rejected protocol 0x%04x", pl->name, proto);
	if (proto == PPP_PROTO_MP && pl->bundle)
		bundle_mp_rejected_(pl->bundle, pl, info, len);
}

static void lcp_code_rejected(void *ctx, uint8_t code)
{
	struct plink *pl = ctx;

	if (code != PPP_CODE_VENDOR)
		return;
	if (!pl->vendor_rejected)
		log_info("plink[%s]: peer does not know vendor packets (RFC 2153), "
			 "no per-link feedback",
			 pl->name);
	pl->vendor_rejected = true;
	t_cancel(pl, pl->t_fb);
}

static void lcp_looped_back(void *ctx)
{
	struct plink *pl = ctx;

	log_warn("plink[%s]: link is looped back", pl->name);
	pl->down_reason = "looped back";
}

static void lcp_vendor(void *ctx, uint8_t id, struct rbuf data)
{
	struct plink *pl = ctx;
	struct vendor_msg m;
	struct link_feedback fb;

	(void)id;
	if (vendor_parse(data.p, data.len, &m) < 0 || m.oui != VENDOR_OUI) {
		pl->st.rx_discarded++;
		return;
	}
	if (m.magic && m.magic == pl->res.our_magic)
		return; /* our own packet looped back */
	if (m.kind == VENDOR_KIND_NACK) {
		uint32_t seq;
		uint8_t count;
		if (vendor_nack_decode(m.value, &seq, &count) < 0 || !pl->bundle) {
			pl->st.rx_discarded++;
			return;
		}
		linkest_on_rx(&pl->est, now_us(pl));
		bundle_nack_(pl->bundle, pl, seq, count);
		return;
	}
	if (m.kind != VENDOR_KIND_FEEDBACK || vendor_feedback_decode(m.value, &fb) < 0) {
		pl->st.rx_discarded++;
		return;
	}
	pl->st.feedback_rx++;
	if (!pl->est_on)
		return;
	enum link_liveness old = linkest_state(&pl->est);
	linkest_on_feedback(&pl->est, now_us(pl), &fb);
	liveness_changed(pl, old);
	if (pl->bundle)
		bundle_link_update_(pl->bundle, pl);
}

/* ---- liveness, echoes, feedback ---- */

static void liveness_changed(struct plink *pl, enum link_liveness old)
{
	enum link_liveness now = linkest_state(&pl->est);

	if (now == old)
		return;
	if (now == LINK_DEAD || old == LINK_DEAD)
		log_info("plink[%s]: %s -> %s", pl->name, link_liveness_to_string(old),
			 link_liveness_to_string(now));
	if (pl->bundle)
		bundle_link_update_(pl->bundle, pl);
	if (now == LINK_DEAD)
		pl->pending |= PEND_DEAD;
	else if (old == LINK_DEAD)
		pl->pending |= PEND_ALIVE;
}

/* Echo faster while a link is suspect: the dead decision needs replies or
 * their absence, and the dead timeout is at most 1 s. */
static uint64_t echo_interval_us(const struct plink *pl)
{
	uint64_t iv = (uint64_t)pl->c.echo_interval_ms * 1000;

	if (linkest_state(&pl->est) == LINK_SUSPECT)
		iv /= 2;
	return iv < 20000 ? 20000 : iv;
}

static void est_timer_fired(void *arg)
{
	struct plink *pl = arg;

	if (!pl->est_on)
		return;
	enter(pl);
	uint64_t now = now_us(pl);
	enum link_liveness old = linkest_state(&pl->est);
	linkest_tick(&pl->est, now);
	liveness_changed(pl, old);

	uint64_t iv = echo_interval_us(pl);
	if (!pl->est.echo_sent || now - pl->last_echo_us >= iv) {
		if (lcp_send_echo(pl->lcp, now) >= 0) {
			linkest_on_echo_sent(&pl->est, now);
			pl->last_echo_us = now;
		}
	}
	if (now - pl->rate_t0_us >= 1000000) {
		pl->rate_in_Bps =
		    (pl->st.rx_bytes - pl->rate_b0) * 1000000 / (now - pl->rate_t0_us);
		pl->rate_t0_us = now;
		pl->rate_b0 = pl->st.rx_bytes;
	}

	uint64_t next = pl->last_echo_us + iv;
	uint64_t ev = linkest_next_event_us(&pl->est);
	if (ev > now && ev < next)
		next = ev;
	uint64_t ms = next > now ? (next - now + 999) / 1000 : 1;
	t_arm(pl, pl->t_est, ms ? ms : 1);
	leave(pl);
}

static void fb_timer_fired(void *arg)
{
	struct plink *pl = arg;
	uint8_t buf[VENDOR_FEEDBACK_LEN];

	if (!pl->lcp_opened || pl->vendor_rejected || !pl->c.feedback_interval_ms)
		return;
	enter(pl);
	uint64_t now = now_us(pl);
	struct link_feedback fb = {
	    .link_id = pl->c.id,
	    .bytes_rx = (uint32_t)pl->fb_bytes,
	    .pkts_rx = (uint32_t)pl->fb_pkts,
	    .max_seq = pl->fb_max_seq,
	    .rx_ts_us = (uint32_t)now,
	};
	int n = vendor_feedback_encode(buf, sizeof(buf), pl->res.our_magic, &fb);
	if (n > 0 && lcp_send_vendor(pl->lcp, buf, (size_t)n) >= 0)
		pl->st.feedback_tx++;
	/* While data flows, report more often: the sender's rate estimate
	 * tracks a cellular link's capacity only as fast as these come. */
	uint32_t next = pl->c.feedback_interval_ms;
	if (pl->fb_pkts != pl->fb_pkts_reported && next > PLINK_FEEDBACK_BUSY_MS)
		next = PLINK_FEEDBACK_BUSY_MS;
	pl->fb_pkts_reported = pl->fb_pkts;
	pl->fb_soon = false;
	t_arm(pl, pl->t_fb, next);
	leave(pl);
}

bool plink_vendor_ok(const struct plink *pl)
{
	return pl->lcp_opened && !pl->vendor_rejected;
}

int plink_send_nack(struct plink *pl, uint32_t seq, uint32_t count)
{
	uint8_t buf[VENDOR_NACK_LEN];

	if (!plink_vendor_ok(pl) || count == 0 || count > VENDOR_NACK_MAX)
		return -EINVAL;
	int n = vendor_nack_encode(buf, sizeof(buf), pl->res.our_magic, seq, (uint8_t)count);
	if (n < 0)
		return n;
	return lcp_send_vendor(pl->lcp, buf, (size_t)n) < 0 ? -EIO : 0;
}

static void lcp_timer_fired(void *arg)
{
	struct plink *pl = arg;

	enter(pl);
	lcp_timeout(pl->lcp);
	leave(pl);
}

/* ---- input ---- */

static bool bundle_proto(uint16_t proto)
{
	return proto == PPP_PROTO_MP || proto == PPP_PROTO_IP || proto == PPP_PROTO_IPV6 ||
	       proto == PPP_PROTO_IPCP || proto == PPP_PROTO_IPV6CP;
}

static void note_mp_seq(struct plink *pl, struct rbuf info)
{
	struct mp_frag f;

	if (mp_hdr_decode(info.p, info.len, pl->res.ssn_rx, &f, NULL) < 0)
		return;
	if (!pl->fb_seq_valid || mp_seq_diff(f.seq, pl->fb_max_seq, pl->res.ssn_rx) > 0)
		pl->fb_max_seq = f.seq;
	pl->fb_seq_valid = true;
}

static int dispatch(struct plink *pl, const struct ppp_frame *f, uint64_t now)
{
	uint16_t proto = f->protocol;

	if (proto == PPP_PROTO_LCP)
		return lcp_input(pl->lcp, f->payload.p, f->payload.len, now);
	if (!pl->lcp_opened)
		return -ENOTCONN; /* RFC 1661 §3.4: only LCP before Opened */
	if (proto == PPP_PROTO_PAP || proto == PPP_PROTO_CHAP)
		return plink_auth_input_(pl, proto, f->payload);
	if (bundle_proto(proto) && !(proto == PPP_PROTO_MP && !pl->res.our_mrru)) {
		if (pl->phase != PLINK_NETWORK || !pl->bundle)
			return -ENOTCONN; /* not (yet) joined: discarded */
		if (proto == PPP_PROTO_MP)
			note_mp_seq(pl, f->payload);
		return bundle_link_input_(pl->bundle, pl, proto, f->payload.p, f->payload.len);
	}
	pl->st.proto_rejected++;
	lcp_send_protocol_reject(pl->lcp, proto, f->payload.p, f->payload.len);
	return -EPROTONOSUPPORT;
}

int plink_input(struct plink *pl, const uint8_t *dgram, size_t len)
{
	struct ppp_frame f;
	uint64_t now = now_us(pl);

	pl->st.rx_pkts++;
	pl->st.rx_bytes += len;
	if (ppp_frame_decode(dgram, len, &f) < 0) {
		pl->st.rx_discarded++;
		return -EBADMSG;
	}
	enter(pl);
	if (pl->lcp_opened && is_data(f.protocol)) {
		/* Data after a quiet spell: report within the busy pace, not the
		 * idle one; the sender judges a link stalled by how long its
		 * data goes unreported (linkest_stall_timeout_us). */
		if (pl->fb_pkts == pl->fb_pkts_reported && pl->c.feedback_interval_ms &&
		    !pl->fb_soon) {
			t_arm(pl, pl->t_fb, PLINK_FEEDBACK_BUSY_MS);
			pl->fb_soon = true;
		}
		pl->fb_bytes += len;
		pl->fb_pkts++;
	}
	if (pl->est_on) {
		enum link_liveness old = linkest_state(&pl->est);
		linkest_on_rx(&pl->est, now);
		liveness_changed(pl, old);
	}
	if (pl->bundle && f.protocol != PPP_PROTO_MP)
		bundle_link_heard_(pl->bundle, pl);
	int r = dispatch(pl, &f, now);
	if (r < 0 && r != -EPROTONOSUPPORT)
		pl->st.rx_discarded++;
	leave(pl);
	return r;
}

/* ---- public ---- */

struct plink *plink_new(const struct plink_config *c, const struct plink_ops *ops, void *ctx,
			const struct pclock *clk)
{
	struct plink *pl;
	struct lcp_config lc;

	if (!c || !ops || !ops->send || !clk || !clk->ops)
		return NULL;
	pl = calloc(1, sizeof(*pl));
	if (!pl)
		return NULL;
	pl->c = *c;
	pl->ops = ops;
	pl->ctx = ctx;
	pl->clk = *clk;
	if (!pl->c.echo_interval_ms)
		pl->c.echo_interval_ms = PLINK_ECHO_MS;
	if (!pl->c.est.dead_max_us)
		linkest_params_default(&pl->c.est);
	pl->c.est.echo_interval_us = pl->c.echo_interval_ms * 1000;
	strlcpy_checked(pl->name, c->name ? c->name : "link", sizeof(pl->name));
	strlcpy_checked(pl->our_name, c->our_name ? c->our_name : "", sizeof(pl->our_name));
	strlcpy_checked(pl->remote_name, c->remote_name ? c->remote_name : "",
			sizeof(pl->remote_name));
	pl->c.name = pl->name;
	pl->c.our_name = pl->our_name;
	pl->c.remote_name = NULL;

	lcp_config_default(&lc);
	lc.mru = c->mru;
	lc.mrru = c->mrru;
	lc.ssnhf = c->ssnhf;
	lc.accept_ssnhf = c->accept_ssnhf;
	lc.has_ed = c->has_ed;
	lc.ed = c->ed;
	lc.require_auth = c->require_auth;
	lc.accept_auth = c->accept_auth;
	if (c->fsm.restart_ms)
		lc.fsm = c->fsm;
	pl->lcp_ops = (struct lcp_ops){
	    .io = {.tx = lcp_tx, .timer_arm = lcp_timer_arm, .timer_cancel = lcp_timer_cancel},
	    .random32 = lcp_random32,
	    .up = lcp_layer_up,
	    .down = lcp_layer_down,
	    .finished = lcp_layer_finished,
	    .echo_rtt = lcp_echo_rtt,
	    .protocol_rejected = lcp_protocol_rejected,
	    .code_rejected = lcp_code_rejected,
	    .looped_back = lcp_looped_back,
	    .vendor = c->no_vendor ? NULL : lcp_vendor,
	};
	pl->lcp = lcp_new(pl->name, &lc, &pl->lcp_ops, pl);
	pl->t_lcp = clk->ops->timer_new(clk->ctx, lcp_timer_fired, pl);
	pl->t_est = clk->ops->timer_new(clk->ctx, est_timer_fired, pl);
	pl->t_fb = clk->ops->timer_new(clk->ctx, fb_timer_fired, pl);
	for (int i = 0; i < 2; i++) {
		pl->auth[i].pl = pl;
		pl->auth[i].timer =
		    clk->ops->timer_new(clk->ctx, plink_auth_timer_fired_, &pl->auth[i]);
	}
	if (!pl->lcp || !pl->t_lcp || !pl->t_est || !pl->t_fb || !pl->auth[0].timer ||
	    !pl->auth[1].timer)
		return plink_free(pl);
	return pl;
}

struct plink *plink_free(struct plink *pl)
{
	if (!pl)
		return NULL;
	if (pl->bundle)
		bundle_detach(pl->bundle, pl);
	for (int i = 0; i < 2; i++) {
		pl->auth[i].pap = pap_free(pl->auth[i].pap);
		pl->auth[i].chap = chap_free(pl->auth[i].chap);
		pl->clk.ops->timer_free(pl->auth[i].timer);
	}
	pl->clk.ops->timer_free(pl->t_lcp);
	pl->clk.ops->timer_free(pl->t_est);
	pl->clk.ops->timer_free(pl->t_fb);
	lcp_free(pl->lcp);
	free(pl);
	return NULL;
}

void plink_open(struct plink *pl)
{
	enter(pl);
	pl->closing = false;
	pl->down_reason = NULL;
	lcp_open(pl->lcp);
	lcp_up(pl->lcp);
	leave(pl);
}

void plink_close(struct plink *pl, const char *reason)
{
	enter(pl);
	if (!pl->down_reason)
		pl->down_reason = reason;
	pl->closing = true;
	lcp_close(pl->lcp, reason);
	leave(pl);
}

void plink_set_mru(struct plink *pl, uint16_t mru)
{
	lcp_set_mru(pl->lcp, mru);
}

enum plink_phase plink_phase(const struct plink *pl)
{
	return pl->phase;
}

uint32_t plink_id(const struct plink *pl)
{
	return pl->c.id;
}

const char *plink_name(const struct plink *pl)
{
	return pl->name;
}

struct bundle *plink_bundle(const struct plink *pl)
{
	return pl->bundle;
}

const struct lcp_result *plink_lcp_result(const struct plink *pl)
{
	return &pl->res;
}

const char *plink_peer_name(const struct plink *pl)
{
	return pl->peer_name;
}

struct linkest *plink_est(struct plink *pl)
{
	return &pl->est;
}

const struct linkest *plink_est_const(const struct plink *pl)
{
	return &pl->est;
}

struct lcp *plink_lcp(struct plink *pl)
{
	return pl->lcp;
}

void plink_set_bundle_(struct plink *pl, struct bundle *b)
{
	pl->bundle = b;
}

void plink_get_stats(const struct plink *pl, struct plink_stats *st)
{
	*st = pl->st;
	st->phase = pl->phase;
	st->liveness = pl->est_on ? linkest_state(&pl->est) : LINK_DEAD;
	st->srtt_us = pl->est.srtt_us;
	st->rttvar_us = pl->est.rttvar_us;
	st->min_rtt_us = linkest_min_rtt_us(&pl->est);
	st->loss_ppm = pl->est.loss_ppm;
	st->rate_out_Bps = linkest_rate_Bps(&pl->est);
	st->in_flight = pl->est_on ? linkest_in_flight_est(&pl->est, now_us(pl)) : -1;
	st->rate_in_Bps = pl->rate_in_Bps;
	st->share_permille = pl->bundle ? bundle_link_share_(pl->bundle, pl->c.id) : -1;
	st->vendor_rejected = pl->vendor_rejected;
}
