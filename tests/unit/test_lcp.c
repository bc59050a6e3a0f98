/* LCP: option codec, negotiation between two instances wired tx -> input
 * through a queue, and a single instance fed captured pppd-style packets,
 * checking the bytes it answers with. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "lcp.h"
#include "lcp_opts.h"
#include "log.h"
#include "ppp_proto.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define MAXPKT	1500
#define MAXQ	64
#define MAXSENT 64

struct net;

struct side {
	struct lcp *l;
	struct net *net;
	int idx;
	uint32_t rng;
	bool armed;
	int n_up, n_down, n_starting, n_finished, n_looped;
	struct lcp_result res;
	uint16_t proto_rejected;
	int n_proto_rej;
	int code_rejected, n_code_rej;
	uint32_t rtt_seq;
	uint64_t rtt_us;
	int n_rtt;
	int n_vendor;
	uint8_t sent[MAXSENT][MAXPKT];
	size_t sent_len[MAXSENT];
	int n_sent;
};

struct net {
	struct side s[2];
	bool wired;  /* deliver to the other side */
	bool looped; /* deliver to the sender */
	uint64_t now_us;
	struct {
		int to;
		uint8_t pkt[MAXPKT];
		size_t len;
	} q[MAXQ];
	int qn;
};

static void s_tx(void *ctx, const uint8_t *pkt, size_t len)
{
	struct side *s = ctx;
	struct net *n = s->net;

	assert_true(len <= MAXPKT);
	if (s->n_sent < MAXSENT) {
		memcpy(s->sent[s->n_sent], pkt, len);
		s->sent_len[s->n_sent++] = len;
	}
	if (!n->wired && !n->looped)
		return;
	assert_true(n->qn < MAXQ);
	n->q[n->qn].to = n->looped ? s->idx : 1 - s->idx;
	memcpy(n->q[n->qn].pkt, pkt, len);
	n->q[n->qn++].len = len;
}

static void s_arm(void *ctx, uint32_t ms)
{
	((struct side *)ctx)->armed = true;
}
static void s_cancel(void *ctx)
{
	((struct side *)ctx)->armed = false;
}
static uint32_t s_random(void *ctx)
{
	struct side *s = ctx;
	s->rng ^= s->rng << 13;
	s->rng ^= s->rng >> 17;
	s->rng ^= s->rng << 5;
	return s->rng;
}
static void s_up(void *ctx, const struct lcp_result *r)
{
	struct side *s = ctx;
	s->n_up++;
	s->res = *r;
}
static void s_down(void *ctx)
{
	((struct side *)ctx)->n_down++;
}
static void s_starting(void *ctx)
{
	((struct side *)ctx)->n_starting++;
}
static void s_finished(void *ctx)
{
	((struct side *)ctx)->n_finished++;
}
static void s_rtt(void *ctx, uint32_t seq, uint64_t rtt)
{
	struct side *s = ctx;
	s->n_rtt++;
	s->rtt_seq = seq;
	s->rtt_us = rtt;
}
static void s_proto_rej(void *ctx, uint16_t proto, const uint8_t *info, size_t len)
{
	struct side *s = ctx;
	(void)info;
	(void)len;
	s->n_proto_rej++;
	s->proto_rejected = proto;
}
static void s_code_rej(void *ctx, uint8_t code)
{
	struct side *s = ctx;
	s->n_code_rej++;
	s->code_rejected = code;
}
static void s_looped(void *ctx)
{
	((struct side *)ctx)->n_looped++;
}
static void s_vendor(void *ctx, uint8_t id, struct rbuf data)
{
	((struct side *)ctx)->n_vendor++;
}

static const struct lcp_ops ops = {
    .io = {.tx = s_tx, .timer_arm = s_arm, .timer_cancel = s_cancel},
    .random32 = s_random,
    .up = s_up,
    .down = s_down,
    .starting = s_starting,
    .finished = s_finished,
    .echo_rtt = s_rtt,
    .protocol_rejected = s_proto_rej,
    .code_rejected = s_code_rej,
    .looped_back = s_looped,
};

static struct lcp_ops ops_vendor;

static struct net *net_new(void)
{
	struct net *n = calloc(1, sizeof(*n));
	n->wired = true;
	n->now_us = 1000000;
	return n;
}

static void side_init(struct net *n, int idx, const struct lcp_config *c, const struct lcp_ops *o)
{
	struct side *s = &n->s[idx];
	s->net = n;
	s->idx = idx;
	s->rng = idx ? 0x12345678 : 0x9abcdef1;
	s->l = lcp_new(idx ? "b" : "a", c, o ? o : &ops, s);
	assert_non_null(s->l);
}

static void net_free(struct net *n)
{
	lcp_free(n->s[0].l);
	lcp_free(n->s[1].l);
	free(n);
}

static void pump(struct net *n)
{
	for (int i = 0; n->qn > 0; i++) {
		assert_true(i < 1000);
		int to = n->q[0].to;
		uint8_t pkt[MAXPKT];
		size_t len = n->q[0].len;
		memcpy(pkt, n->q[0].pkt, len);
		memmove(&n->q[0], &n->q[1], sizeof(n->q[0]) * (size_t)(n->qn - 1));
		n->qn--;
		lcp_input(n->s[to].l, pkt, len, n->now_us);
	}
}

static void start(struct net *n)
{
	lcp_open(n->s[0].l);
	lcp_open(n->s[1].l);
	lcp_up(n->s[0].l);
	lcp_up(n->s[1].l);
	pump(n);
}

static struct lcp_config mp_conf(uint16_t mru, bool ssnhf, uint8_t ed_class, const char *ed)
{
	/* ed: a string without NUL bytes */
	struct lcp_config c;
	lcp_config_default(&c);
	c.mru = mru;
	c.mrru = 1500;
	c.ssnhf = ssnhf;
	c.accept_ssnhf = true;
	c.has_ed = true;
	c.ed.class = ed_class;
	c.ed.len = (uint8_t)strlen(ed);
	memcpy(c.ed.addr, ed, c.ed.len);
	return c;
}

/* --- codec --- */

static void test_opts_round_trip(void **state)
{
	struct lcp_opts o = {0}, p;
	uint8_t buf[128];
	struct wbuf w = wbuf_make(buf, sizeof(buf));

	o.has = ~0u & 0x1ff;
	o.mru = 1472;
	o.accm = 0xa0000;
	o.auth = PPP_PROTO_CHAP;
	o.chap_alg = PPP_CHAP_MD5;
	o.magic = 0xdeadbeef;
	o.mrru = 1600;
	o.ed.class = LCP_ED_MAC;
	o.ed.len = 6;
	memcpy(o.ed.addr, "\x02\x00\x5e\x10\x20\x30", 6);
	lcp_opts_write(&w, &o, ~0u);
	assert_true(wbuf_ok(&w));
	static const uint8_t want[] = {1,    4,	 0x05, 0xc0, 2,	   6,	 0,    0x0a, 0,	   0,
				       3,    5,	 0xc2, 0x23, 5,	   5,	 6,    0xde, 0xad, 0xbe,
				       0xef, 7,	 2,    8,    2,	   17,	 4,    0x06, 0x40, 18,
				       2,    19, 9,    3,    0x02, 0x00, 0x5e, 0x10, 0x20, 0x30};
	assert_int_equal(w.len, sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));
	assert_int_equal(lcp_opts_parse(buf, w.len, &p), 0);
	assert_int_equal(p.has, o.has);
	assert_int_equal(p.mru, 1472);
	assert_int_equal(p.accm, 0xa0000);
	assert_int_equal(p.auth, PPP_PROTO_CHAP);
	assert_int_equal(p.chap_alg, 5);
	assert_int_equal(p.magic, 0xdeadbeef);
	assert_int_equal(p.mrru, 1600);
	assert_true(lcp_ed_equal(&p.ed, &o.ed));
}

static void test_opts_malformed(void **state)
{
	struct lcp_opts p;
	static const uint8_t len0[] = {1, 0, 5, 0xdc};
	static const uint8_t len1[] = {7, 1};
	static const uint8_t overrun[] = {1, 6, 5, 0xdc};
	static const uint8_t truncated[] = {1};
	static const uint8_t mru_len3[] = {1, 3, 5};
	static const uint8_t pfc_len3[] = {7, 3, 0};
	static const uint8_t magic_len4[] = {5, 4, 1, 2};
	static const uint8_t chap_noalg[] = {3, 4, 0xc2, 0x23};
	static const uint8_t dup[] = {7, 2, 8, 2, 7, 2};
	static const uint8_t quality[] = {4, 8, 0xc0, 0x25, 0, 0, 0, 10};
	static const uint8_t ed_short[] = {19, 2};

	assert_int_equal(lcp_opts_parse(len0, sizeof(len0), &p), -EBADMSG);
	assert_int_equal(lcp_opts_parse(len1, sizeof(len1), &p), -EBADMSG);
	assert_int_equal(lcp_opts_parse(overrun, sizeof(overrun), &p), -EBADMSG);
	assert_int_equal(lcp_opts_parse(truncated, sizeof(truncated), &p), -EBADMSG);
	assert_int_equal(lcp_opts_parse(mru_len3, sizeof(mru_len3), &p), -EINVAL);
	assert_int_equal(lcp_opts_parse(pfc_len3, sizeof(pfc_len3), &p), -EINVAL);
	assert_int_equal(lcp_opts_parse(magic_len4, sizeof(magic_len4), &p), -EINVAL);
	assert_int_equal(lcp_opts_parse(chap_noalg, sizeof(chap_noalg), &p), -EINVAL);
	assert_int_equal(lcp_opts_parse(dup, sizeof(dup), &p), -EEXIST);
	assert_int_equal(lcp_opts_parse(quality, sizeof(quality), &p), -ENOENT);
	assert_int_equal(lcp_opts_parse(ed_short, sizeof(ed_short), &p), -EINVAL);
	assert_int_equal(lcp_opts_parse(NULL, 0, &p), 0);
	assert_int_equal(p.has, 0);
}

static void test_ed_classes(void **state)
{
	static const struct {
		uint8_t class;
		size_t min, max;
	} ok[] = {{0, 0, 0}, {1, 0, 20}, {2, 4, 4}, {3, 6, 6}, {4, 4, 20}, {5, 0, 15}};

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		for (size_t len = 0; len <= 21; len++)
			assert_int_equal(lcp_ed_check(ok[i].class, len) == 0,
					 len >= ok[i].min && len <= ok[i].max);
	assert_int_equal(lcp_ed_check(6, 4), -EINVAL);
}

/* --- two instances --- */

static void test_converge_multilink(void **state)
{
	struct net *n = net_new();
	struct lcp_config a = mp_conf(1472, true, LCP_ED_MAGIC, "\x11\x22\x33\x44\x55");
	struct lcp_config b = mp_conf(1400, true, LCP_ED_LOCAL, "gw-7");
	b.require_auth = LCP_AUTH_CHAP_MD5;
	side_init(n, 0, &a, NULL);
	side_init(n, 1, &b, NULL);
	start(n);

	struct side *A = &n->s[0], *B = &n->s[1];
	assert_int_equal(lcp_state(A->l), FSM_OPENED);
	assert_int_equal(lcp_state(B->l), FSM_OPENED);
	assert_int_equal(A->n_up, 1);
	assert_int_equal(B->n_up, 1);
	assert_false(A->armed);
	assert_int_equal(A->res.our_mru, 1472);
	assert_int_equal(A->res.peer_mru, 1400);
	assert_true(A->res.multilink && B->res.multilink);
	assert_int_equal(A->res.our_mrru, 1500);
	assert_int_equal(A->res.peer_mrru, 1500);
	assert_true(A->res.ssn_rx && A->res.ssn_tx && B->res.ssn_rx && B->res.ssn_tx);
	assert_true(A->res.pfc_rx && A->res.pfc_tx && A->res.acfc_rx && A->res.acfc_tx);
	assert_true(A->res.peer_ed_present && B->res.peer_ed_present);
	assert_true(lcp_ed_equal(&A->res.peer_ed, &b.ed));
	assert_true(lcp_ed_equal(&B->res.peer_ed, &a.ed));
	assert_int_equal(A->res.peer_magic, B->res.our_magic);
	assert_int_equal(B->res.peer_magic, A->res.our_magic);
	assert_true(A->res.our_magic != 0 && A->res.our_magic != B->res.our_magic);
	/* B authenticates A with CHAP-MD5; A authenticates no one. */
	assert_int_equal(B->res.auth_peer, PPP_PROTO_CHAP);
	assert_int_equal(B->res.auth_peer_alg, 5);
	assert_int_equal(A->res.auth_us, PPP_PROTO_CHAP);
	assert_int_equal(A->res.auth_peer, 0);
	assert_int_equal(B->res.auth_us, 0);
	net_free(n);
}

static void test_asymmetric_ssnhf(void **state)
{
	struct net *n = net_new();
	struct lcp_config a = mp_conf(1472, true, LCP_ED_NULL, "");
	struct lcp_config b = mp_conf(1472, false, LCP_ED_NULL, "");
	side_init(n, 0, &a, NULL);
	side_init(n, 1, &b, NULL);
	start(n);
	struct side *A = &n->s[0], *B = &n->s[1];
	assert_int_equal(lcp_state(A->l), FSM_OPENED);
	assert_true(A->res.ssn_rx);
	assert_false(A->res.ssn_tx);
	assert_false(B->res.ssn_rx);
	assert_true(B->res.ssn_tx);
	net_free(n);

	/* A peer that does not send short numbers rejects our SSNHF: long
	 * both ways, multilink still on. */
	n = net_new();
	b.accept_ssnhf = false;
	side_init(n, 0, &a, NULL);
	side_init(n, 1, &b, NULL);
	start(n);
	A = &n->s[0];
	assert_int_equal(lcp_state(A->l), FSM_OPENED);
	assert_true(A->res.multilink);
	assert_false(A->res.ssn_rx);
	assert_false(A->res.ssn_tx);
	net_free(n);
}

static void test_peer_rejects_mrru(void **state)
{
	struct net *n = net_new();
	struct lcp_config a = mp_conf(1472, true, LCP_ED_IP, "\xc0\xa8\x02\x01");
	struct lcp_config b;
	lcp_config_default(&b);
	side_init(n, 0, &a, NULL);
	side_init(n, 1, &b, NULL);
	start(n);
	struct side *A = &n->s[0], *B = &n->s[1];
	assert_int_equal(lcp_state(A->l), FSM_OPENED);
	assert_false(A->res.multilink);
	assert_int_equal(A->res.our_mrru, 0);
	assert_int_equal(A->res.peer_mrru, 0);
	assert_false(A->res.ssn_rx);
	/* B's first answer to A was a Reject naming MRRU and SSNHF. */
	bool saw = false;
	for (int i = 0; i < B->n_sent; i++) {
		if (B->sent[i][0] != PPP_CONF_REJ)
			continue;
		static const uint8_t rej[] = {17, 4, 0x05, 0xdc, 18, 2};
		assert_int_equal(B->sent_len[i], 4 + sizeof(rej));
		assert_memory_equal(B->sent[i] + 4, rej, sizeof(rej));
		saw = true;
	}
	assert_true(saw);
	/* The ED was acked even without multilink. */
	assert_true(B->res.peer_ed_present);
	net_free(n);
}

static void test_auth_nak_converges(void **state)
{
	struct net *n = net_new();
	struct lcp_config a, b;
	lcp_config_default(&a);
	lcp_config_default(&b);
	a.require_auth = LCP_AUTH_CHAP_MD5 | LCP_AUTH_PAP;
	b.accept_auth = LCP_AUTH_PAP;
	side_init(n, 0, &a, NULL);
	side_init(n, 1, &b, NULL);
	start(n);
	assert_int_equal(lcp_state(n->s[0].l), FSM_OPENED);
	assert_int_equal(n->s[0].res.auth_peer, PPP_PROTO_PAP);
	assert_int_equal(n->s[1].res.auth_us, PPP_PROTO_PAP);
	net_free(n);

	/* A peer that authenticates with nothing: we close. */
	n = net_new();
	a.require_auth = LCP_AUTH_CHAP_MD5;
	b.accept_auth = 0;
	side_init(n, 0, &a, NULL);
	side_init(n, 1, &b, NULL);
	start(n);
	assert_int_equal(n->s[0].n_up, 0);
	assert_true(lcp_state(n->s[0].l) == FSM_CLOSED);
	assert_int_equal(n->s[0].n_finished, 1);
	net_free(n);
}

static void test_loopback_detected(void **state)
{
	struct net *n = net_new();
	n->wired = false;
	n->looped = true;
	side_init(n, 0, NULL, NULL);
	lcp_open(n->s[0].l);
	lcp_up(n->s[0].l);
	pump(n);
	struct side *A = &n->s[0];
	assert_int_equal(A->n_looped, 1);
	assert_int_equal(A->n_up, 0);
	assert_int_equal(lcp_state(A->l), FSM_CLOSED);
	/* It told the "peer" (itself) why. */
	bool term = false;
	for (int i = 0; i < A->n_sent; i++)
		if (A->sent[i][0] == PPP_TERM_REQ)
			term = A->sent_len[i] == 4 + strlen("looped back") &&
			       !memcmp(A->sent[i] + 4, "looped back", 11);
	assert_true(term);
	net_free(n);
}

static void test_terminate_paths(void **state)
{
	struct net *n = net_new();
	side_init(n, 0, NULL, NULL);
	side_init(n, 1, NULL, NULL);
	start(n);
	struct side *A = &n->s[0], *B = &n->s[1];
	lcp_close(A->l, "admin down");
	pump(n);
	assert_int_equal(lcp_state(A->l), FSM_CLOSED);
	assert_int_equal(A->n_down, 1);
	assert_int_equal(A->n_finished, 1);
	assert_int_equal(lcp_state(B->l), FSM_STOPPING);
	assert_int_equal(B->n_down, 1);
	assert_true(B->armed);
	lcp_timeout(B->l);
	assert_int_equal(lcp_state(B->l), FSM_STOPPED);
	assert_int_equal(B->n_finished, 1);
	/* Stopped answers a new request and renegotiates (irc,scr,sca/8). */
	lcp_open(A->l);
	pump(n);
	assert_int_equal(lcp_state(A->l), FSM_OPENED);
	assert_int_equal(lcp_state(B->l), FSM_OPENED);
	assert_int_equal(B->n_up, 2);
	net_free(n);
}

static void test_echo_rtt(void **state)
{
	struct net *n = net_new();
	side_init(n, 0, NULL, NULL);
	side_init(n, 1, NULL, NULL);
	assert_int_equal(lcp_send_echo(n->s[0].l, n->now_us), -ENOTCONN);
	start(n);
	struct side *A = &n->s[0];
	uint64_t t0 = n->now_us;
	assert_int_equal(lcp_send_echo(A->l, t0), 1);
	assert_int_equal(lcp_send_echo(A->l, t0 + 100), 2);
	n->now_us = t0 + 2500;
	pump(n);
	assert_int_equal(A->n_rtt, 2);
	assert_int_equal(A->rtt_seq, 2);
	assert_int_equal(A->rtt_us, 2400);
	/* Our request on the wire: magic, 8-byte timestamp, sequence. */
	const uint8_t *e = A->sent[A->n_sent - 2];
	assert_int_equal(e[0], PPP_ECHO_REQ);
	assert_int_equal(e[2] << 8 | e[3], 20);
	uint32_t m = A->res.our_magic;
	const uint8_t want[] = {(uint8_t)(m >> 24),
				(uint8_t)(m >> 16),
				(uint8_t)(m >> 8),
				(uint8_t)m,
				0,
				0,
				0,
				0,
				0,
				0x0f,
				0x42,
				0x40,
				0,
				0,
				0,
				1};
	assert_memory_equal(e + 4, want, sizeof(want));
	net_free(n);
}

/* --- one instance and a scripted (pppd-like) peer --- */

static struct net *single(const struct lcp_config *c, const struct lcp_ops *o)
{
	struct net *n = net_new();
	n->wired = false;
	side_init(n, 0, c, o);
	lcp_open(n->s[0].l);
	lcp_up(n->s[0].l);
	assert_int_equal(n->s[0].n_sent, 1);
	return n;
}

static int feed(struct net *n, const uint8_t *p, size_t len)
{
	return lcp_input(n->s[0].l, p, len, n->now_us);
}

/* Ack our outstanding Configure-Request (the last one sent). */
static void ack_ours(struct net *n)
{
	struct side *A = &n->s[0];
	for (int i = A->n_sent - 1; i >= 0; i--) {
		if (A->sent[i][0] != PPP_CONF_REQ)
			continue;
		uint8_t p[MAXPKT];
		memcpy(p, A->sent[i], A->sent_len[i]);
		p[0] = PPP_CONF_ACK;
		feed(n, p, A->sent_len[i]);
		return;
	}
	fail();
}

static const uint8_t *last(struct net *n, size_t *len)
{
	struct side *A = &n->s[0];
	*len = A->sent_len[A->n_sent - 1];
	return A->sent[A->n_sent - 1];
}

static void expect_last(struct net *n, const uint8_t *want, size_t len)
{
	size_t got;
	const uint8_t *p = last(n, &got);
	assert_int_equal(got, len);
	assert_memory_equal(p, want, len);
}

/* pppd with `multilink mrru 1500 endpoint magic:11223344`. */
static const uint8_t pppd_req[] = {
    0x01, 0x01, 0x00, 0x23, 0x01, 0x04, 0x05, 0xdc, 0x02, 0x06, 0x00, 0x00,
    0x00, 0x00, 0x05, 0x06, 0x5a, 0x3b, 0x1c, 0x0d, 0x07, 0x02, 0x08, 0x02,
    0x11, 0x04, 0x05, 0xdc, 0x13, 0x07, 0x04, 0x11, 0x22, 0x33, 0x44,
};

static void test_pppd_request_acked(void **state)
{
	struct lcp_config c = mp_conf(1472, true, LCP_ED_LOCAL, "gw");
	struct net *n = single(&c, NULL);
	struct side *A = &n->s[0];

	/* Our own request: MRU, magic, PFC, ACFC, MRRU, SSNHF, ED. */
	uint8_t m[4];
	memcpy(m, A->sent[0] + 10, 4);
	const uint8_t ours[] = {1, 1, 0, 29, 1, 4, 0x05, 0xc0, 5, 6,  m[0], m[1], m[2], m[3], 7,
				2, 8, 2, 17, 4, 5, 0xdc, 18,   2, 19, 5,    1,	  'g',	'w'};
	assert_int_equal(A->sent_len[0], sizeof(ours));
	assert_memory_equal(A->sent[0], ours, sizeof(ours));

	assert_int_equal(feed(n, pppd_req, sizeof(pppd_req)), 0);
	uint8_t ack[sizeof(pppd_req)];
	memcpy(ack, pppd_req, sizeof(ack));
	ack[0] = PPP_CONF_ACK;
	expect_last(n, ack, sizeof(ack));
	assert_int_equal(lcp_state(A->l), FSM_ACK_SENT);
	ack_ours(n);
	assert_int_equal(lcp_state(A->l), FSM_OPENED);
	const struct lcp_result *r = lcp_result(A->l);
	assert_int_equal(r->peer_mru, 1500);
	assert_int_equal(r->peer_mrru, 1500);
	assert_true(r->multilink);
	assert_true(r->ssn_rx);
	assert_false(r->ssn_tx);
	assert_true(r->pfc_tx && r->acfc_tx);
	assert_int_equal(r->peer_magic, 0x5a3b1c0d);
	assert_true(r->peer_ed_present);
	assert_int_equal(r->peer_ed.class, LCP_ED_MAGIC);
	assert_int_equal(r->peer_ed.len, 4);
	assert_memory_equal(r->peer_ed.addr, "\x11\x22\x33\x44", 4);
	net_free(n);
}

static void test_peer_naks_mru(void **state)
{
	struct lcp_config c;
	lcp_config_default(&c);
	c.mru = 1472;
	c.pfc = c.acfc = false;
	struct net *n = single(&c, NULL);
	struct side *A = &n->s[0];
	uint8_t m[4];
	memcpy(m, A->sent[0] + 10, 4);
	const uint8_t nak[] = {3, 1, 0, 8, 1, 4, 0x05, 0x78}; /* 1400 */
	feed(n, nak, sizeof(nak));
	const uint8_t want[] = {1, 2, 0, 14, 1, 4, 0x05, 0x78, 5, 6, m[0], m[1], m[2], m[3]};
	expect_last(n, want, sizeof(want));
	/* A Nak above what we can receive is not followed. */
	const uint8_t nak_big[] = {3, 2, 0, 8, 1, 4, 0x23, 0x28};
	feed(n, nak_big, sizeof(nak_big));
	const uint8_t want3[] = {1, 3, 0, 14, 1, 4, 0x05, 0x78, 5, 6, m[0], m[1], m[2], m[3]};
	expect_last(n, want3, sizeof(want3));
	net_free(n);
}

static void test_auth_requests_answered(void **state)
{
	struct lcp_config c;
	lcp_config_default(&c);
	struct net *n = single(&c, NULL);

	/* pppd asks EAP first: Nak towards CHAP-MD5. */
	const uint8_t eap[] = {1, 2, 0, 8, 3, 4, 0xc2, 0x27};
	feed(n, eap, sizeof(eap));
	const uint8_t nak_chap[] = {3, 2, 0, 9, 3, 5, 0xc2, 0x23, 5};
	expect_last(n, nak_chap, sizeof(nak_chap));
	/* MS-CHAPv2 likewise. */
	const uint8_t mschap[] = {1, 3, 0, 9, 3, 5, 0xc2, 0x23, 0x81};
	feed(n, mschap, sizeof(mschap));
	const uint8_t nak_chap3[] = {3, 3, 0, 9, 3, 5, 0xc2, 0x23, 5};
	expect_last(n, nak_chap3, sizeof(nak_chap3));
	/* CHAP-MD5 is acked. */
	const uint8_t chap[] = {1, 4, 0, 9, 3, 5, 0xc2, 0x23, 5};
	feed(n, chap, sizeof(chap));
	uint8_t ack[sizeof(chap)];
	memcpy(ack, chap, sizeof(ack));
	ack[0] = PPP_CONF_ACK;
	expect_last(n, ack, sizeof(ack));
	net_free(n);

	/* Accepting only PAP: Nak towards PAP. */
	c.accept_auth = LCP_AUTH_PAP;
	n = single(&c, NULL);
	feed(n, eap, sizeof(eap));
	const uint8_t nak_pap[] = {3, 2, 0, 8, 3, 4, 0xc0, 0x23};
	expect_last(n, nak_pap, sizeof(nak_pap));
	net_free(n);

	/* Accepting nothing: Reject. */
	c.accept_auth = 0;
	n = single(&c, NULL);
	feed(n, eap, sizeof(eap));
	uint8_t rej[sizeof(eap)];
	memcpy(rej, eap, sizeof(rej));
	rej[0] = PPP_CONF_REJ;
	expect_last(n, rej, sizeof(rej));
	net_free(n);
}

static void test_malformed_requests(void **state)
{
	struct lcp_config c;
	lcp_config_default(&c);
	struct net *n = single(&c, NULL);
	struct side *A = &n->s[0];

	static const uint8_t len0[] = {1, 5, 0, 6, 1, 0};
	static const uint8_t len1[] = {1, 5, 0, 6, 7, 1};
	static const uint8_t overrun[] = {1, 5, 0, 8, 1, 6, 5, 0xdc};
	static const uint8_t truncated[] = {1, 5, 0, 12, 1, 4, 5, 0xdc};
	assert_int_equal(feed(n, len0, sizeof(len0)), -EBADMSG);
	assert_int_equal(feed(n, len1, sizeof(len1)), -EBADMSG);
	assert_int_equal(feed(n, overrun, sizeof(overrun)), -EBADMSG);
	assert_int_equal(feed(n, truncated, sizeof(truncated)), -EBADMSG);
	assert_int_equal(A->n_sent, 1);
	assert_int_equal(lcp_state(A->l), FSM_REQ_SENT);

	/* Duplicated option: the second copy is rejected. */
	static const uint8_t dup[] = {1, 6, 0, 12, 1, 4, 5, 0xdc, 1, 4, 5, 0};
	feed(n, dup, sizeof(dup));
	static const uint8_t rej_dup[] = {4, 6, 0, 8, 1, 4, 5, 0};
	expect_last(n, rej_dup, sizeof(rej_dup));

	/* Quality, unknown, MRRU without multilink, bad ED: one Reject with
	 * those, in order; the good options are not listed. */
	static const uint8_t mixed[] = {1,    7, 0, 33, 1,  4,	5,  0xdc, 4,	8,    0xc0,
					0x25, 0, 0, 0,	10, 17, 4,  5,	  0xdc, 0x42, 2,
					19,   6, 2, 1,	2,  3,	19, 3,	  9,	7,    2};
	feed(n, mixed, sizeof(mixed));
	static const uint8_t rej_mixed[] = {4,	7, 0,  27, 4, 8, 0xc0, 0x25, 0,
					    0,	0, 10, 17, 4, 5, 0xdc, 0x42, 2,
					    19, 6, 2,  1,  2, 3, 19,   3,    9};
	expect_last(n, rej_mixed, sizeof(rej_mixed));

	/* Zero magic and a tiny MRU: Nak with usable values. */
	static const uint8_t zero_magic[] = {1, 8, 0, 14, 1, 4, 0, 64, 5, 6, 0, 0, 0, 0};
	feed(n, zero_magic, sizeof(zero_magic));
	size_t len;
	const uint8_t *p = last(n, &len);
	assert_int_equal(len, 14);
	assert_memory_equal(p, "\x03\x08\x00\x0e\x01\x04\x00\x80\x05\x06", 10);
	assert_true(p[10] | p[11] | p[12] | p[13]);

	/* Every ED class with a valid length is acked (one per request). */
	static const uint8_t eds[][12] = {
	    {19, 3, 0},
	    {19, 5, 1, 'a', 'b'},
	    {19, 7, 2, 10, 0, 0, 1},
	    {19, 9, 3, 2, 0, 0x5e, 0, 0, 1},
	    {19, 7, 4, 1, 2, 3, 4},
	    {19, 5, 5, '1', '2'},
	};
	for (size_t i = 0; i < sizeof(eds) / sizeof(eds[0]); i++) {
		uint8_t req[16] = {1, (uint8_t)(0x30 + i), 0, (uint8_t)(4 + eds[i][1])};
		memcpy(req + 4, eds[i], eds[i][1]);
		feed(n, req, 4u + eds[i][1]);
		p = last(n, &len);
		assert_int_equal(p[0], PPP_CONF_ACK);
		assert_int_equal(len, 4u + eds[i][1]);
		assert_memory_equal(p + 4, eds[i], eds[i][1]);
	}
	net_free(n);
}

static void open_single(struct net *n)
{
	static const uint8_t req[] = {1,    0x20, 0, 14,   1,	 4,    0x00,
				      0x80, 5,	  6, 0xca, 0xfe, 0xba, 0xbe};
	ack_ours(n);
	feed(n, req, sizeof(req));
	assert_int_equal(lcp_state(n->s[0].l), FSM_OPENED);
	n->s[0].n_sent = 0;
}

static void test_echo_reply_byte_for_byte(void **state)
{
	struct net *n = single(NULL, NULL);
	/* Not yet Opened: no answer. */
	static const uint8_t early[] = {9, 0x41, 0, 8, 0xca, 0xfe, 0xba, 0xbe};
	feed(n, early, sizeof(early));
	assert_int_equal(n->s[0].sent[n->s[0].n_sent - 1][0], PPP_CONF_REQ);
	open_single(n);
	uint32_t m = lcp_result(n->s[0].l)->our_magic;
	/* FreeBSD ppp's echo: magic, "YNOT", sequence. */
	static const uint8_t req[] = {9,   0x42, 0,   16,  0xca, 0xfe, 0xba, 0xbe,
				      'Y', 'N',	 'O', 'T', 0,	 0,    0,    7};
	feed(n, req, sizeof(req));
	const uint8_t want[] = {10,
				0x42,
				0,
				16,
				(uint8_t)(m >> 24),
				(uint8_t)(m >> 16),
				(uint8_t)(m >> 8),
				(uint8_t)m,
				'Y',
				'N',
				'O',
				'T',
				0,
				0,
				0,
				7};
	expect_last(n, want, sizeof(want));
	/* Discard-Request, Identification, Time-Remaining: silence. */
	int before = n->s[0].n_sent;
	static const uint8_t disc[] = {11, 1, 0, 8, 0xca, 0xfe, 0xba, 0xbe};
	static const uint8_t ident[] = {12, 2, 0, 10, 0xca, 0xfe, 0xba, 0xbe, 'h', 'i'};
	static const uint8_t trem[] = {13, 3, 0, 12, 0xca, 0xfe, 0xba, 0xbe, 0, 0, 0x0e, 0x10};
	feed(n, disc, sizeof(disc));
	feed(n, ident, sizeof(ident));
	feed(n, trem, sizeof(trem));
	assert_int_equal(n->s[0].n_sent, before);
	net_free(n);
}

static void test_protocol_reject(void **state)
{
	struct net *n = single(NULL, NULL);
	uint8_t info[300];
	for (size_t i = 0; i < sizeof(info); i++)
		info[i] = (uint8_t)i;
	assert_int_equal(lcp_send_protocol_reject(n->s[0].l, PPP_PROTO_CCP, info, 10), -ENOTCONN);
	open_single(n); /* the peer asked for MRU 128 */
	assert_true(lcp_send_protocol_reject(n->s[0].l, PPP_PROTO_CCP, info, sizeof(info)) > 0);
	size_t len;
	const uint8_t *p = last(n, &len);
	assert_int_equal(len, 128);
	assert_int_equal(p[0], PPP_PROTO_REJ);
	assert_int_equal(p[2] << 8 | p[3], 128);
	assert_int_equal(p[4] << 8 | p[5], PPP_PROTO_CCP);
	assert_memory_equal(p + 6, info, 122);

	/* The peer rejects one of ours: reported, link stays. */
	static const uint8_t pr[] = {8, 9, 0, 10, 0x80, 0x57, 1, 1, 0, 4};
	feed(n, pr, sizeof(pr));
	assert_int_equal(n->s[0].n_proto_rej, 1);
	assert_int_equal(n->s[0].proto_rejected, PPP_PROTO_IPV6CP);
	assert_int_equal(lcp_state(n->s[0].l), FSM_OPENED);
	/* Protocol-Reject of LCP itself is catastrophic. */
	static const uint8_t prl[] = {8, 10, 0, 6, 0xc0, 0x21};
	feed(n, prl, sizeof(prl));
	assert_int_equal(lcp_state(n->s[0].l), FSM_STOPPING);
	net_free(n);
}

static void test_code_reject_and_vendor(void **state)
{
	struct net *n = single(NULL, NULL);
	open_single(n);
	/* RFC 2153 packet with no handler: Code-Reject, whole packet. */
	static const uint8_t vend[] = {0, 5, 0, 10, 0xcf, 0x00, 0x00, 0x01, 0xab, 0xcd};
	feed(n, vend, sizeof(vend));
	size_t len;
	const uint8_t *p = last(n, &len);
	assert_int_equal(len, 4 + sizeof(vend));
	assert_int_equal(p[0], PPP_CODE_REJ);
	assert_int_equal(p[3], 4 + sizeof(vend));
	assert_memory_equal(p + 4, vend, sizeof(vend));
	/* Unknown code 14 likewise. */
	static const uint8_t c14[] = {14, 6, 0, 4};
	feed(n, c14, sizeof(c14));
	p = last(n, &len);
	assert_int_equal(p[0], PPP_CODE_REJ);
	assert_memory_equal(p + 4, c14, sizeof(c14));
	/* A pppd answering our vendor packet with Code-Reject: reported. */
	assert_true(lcp_send_vendor(n->s[0].l, "\xcf\x00\x00\x01", 4) >= 0);
	static const uint8_t cj[] = {7, 1, 0, 12, 0, 3, 0, 8, 0xcf, 0, 0, 1};
	feed(n, cj, sizeof(cj));
	assert_int_equal(n->s[0].n_code_rej, 1);
	assert_int_equal(n->s[0].code_rejected, 0);
	assert_int_equal(lcp_state(n->s[0].l), FSM_OPENED);
	net_free(n);

	/* With a handler registered the owner gets it, nothing is sent. */
	ops_vendor = ops;
	ops_vendor.vendor = s_vendor;
	n = single(NULL, &ops_vendor);
	open_single(n);
	feed(n, vend, sizeof(vend));
	assert_int_equal(n->s[0].n_vendor, 1);
	assert_int_equal(n->s[0].n_sent, 0);
	net_free(n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_opts_round_trip),
	    cmocka_unit_test(test_opts_malformed),
	    cmocka_unit_test(test_ed_classes),
	    cmocka_unit_test(test_converge_multilink),
	    cmocka_unit_test(test_asymmetric_ssnhf),
	    cmocka_unit_test(test_peer_rejects_mrru),
	    cmocka_unit_test(test_auth_nak_converges),
	    cmocka_unit_test(test_loopback_detected),
	    cmocka_unit_test(test_terminate_paths),
	    cmocka_unit_test(test_echo_rtt),
	    cmocka_unit_test(test_pppd_request_acked),
	    cmocka_unit_test(test_peer_naks_mru),
	    cmocka_unit_test(test_auth_requests_answered),
	    cmocka_unit_test(test_malformed_requests),
	    cmocka_unit_test(test_echo_reply_byte_for_byte),
	    cmocka_unit_test(test_protocol_reject),
	    cmocka_unit_test(test_code_reject_and_vendor),
	};
	log_set_level(LOG_ERR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
