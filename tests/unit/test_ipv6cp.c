/* IPV6CP: two instances back to back through a queue (random identifiers,
 * forced collision), and one instance fed scripted packets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "ipv6cp.h"
#include "log.h"
#include "ppp_proto.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAXPKT	256
#define MAXQ	64
#define MAXSENT 64

struct net;

struct side {
	struct ipv6cp *p;
	struct net *net;
	int idx;
	uint32_t rng;
	bool armed;
	int n_up, n_down, n_finished;
	uint8_t ours[8], peer[8];
	char reason[128];
	uint8_t sent[MAXSENT][MAXPKT];
	size_t sent_len[MAXSENT];
	int n_sent;
};

struct net {
	struct side s[2];
	bool wired;
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
	if (!n->wired)
		return;
	assert_true(n->qn < MAXQ);
	n->q[n->qn].to = 1 - s->idx;
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

static void s_up(void *ctx, const uint8_t ours[8], const uint8_t peer[8])
{
	struct side *s = ctx;
	s->n_up++;
	memcpy(s->ours, ours, 8);
	memcpy(s->peer, peer, 8);
}

static void s_down(void *ctx)
{
	((struct side *)ctx)->n_down++;
}

static void s_finished(void *ctx, const char *reason)
{
	struct side *s = ctx;
	s->n_finished++;
	snprintf(s->reason, sizeof(s->reason), "%s", reason);
}

static const struct ipv6cp_ops ops = {
    .io = {.tx = s_tx, .timer_arm = s_arm, .timer_cancel = s_cancel},
    .random32 = s_random,
    .up = s_up,
    .down = s_down,
    .finished = s_finished,
};

static const uint8_t zero8[8];

static struct net *net_new(bool wired)
{
	struct net *n = calloc(1, sizeof(*n));
	n->wired = wired;
	return n;
}

static void side_init(struct net *n, int idx, const struct ipv6cp_config *c)
{
	struct side *s = &n->s[idx];
	s->net = n;
	s->idx = idx;
	s->rng = idx ? 0x12345678 : 0x9abcdef1;
	s->p = ipv6cp_new("bundle", c, &ops, s);
	assert_non_null(s->p);
}

static void net_free(struct net *n)
{
	ipv6cp_free(n->s[0].p);
	ipv6cp_free(n->s[1].p);
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
		ipv6cp_input(n->s[to].p, pkt, len);
	}
}

static void start(struct net *n)
{
	for (int i = 0; i < 2; i++) {
		ipv6cp_open(n->s[i].p);
		ipv6cp_up(n->s[i].p);
	}
	pump(n);
}

static int count_sent(const struct side *s, uint8_t code)
{
	int c = 0;
	for (int i = 0; i < s->n_sent; i++)
		c += s->sent[i][0] == code;
	return c;
}

static void test_random_identifiers(void **state)
{
	struct net *n = net_new(true);
	side_init(n, 0, NULL);
	side_init(n, 1, NULL);
	start(n);
	struct side *A = &n->s[0], *B = &n->s[1];
	assert_int_equal(ipv6cp_state(A->p), FSM_OPENED);
	assert_int_equal(ipv6cp_state(B->p), FSM_OPENED);
	assert_int_equal(A->n_up, 1);
	assert_memory_equal(A->ours, B->peer, 8);
	assert_memory_equal(B->ours, A->peer, 8);
	assert_memory_not_equal(A->ours, zero8, 8);
	assert_memory_not_equal(A->ours, B->ours, 8);
	assert_int_equal(A->ours[0] & 0x02, 0); /* u/l bit: local */
	/* The request on the wire: option 1, length 10, our identifier. */
	assert_int_equal(A->sent[0][0], PPP_CONF_REQ);
	assert_int_equal(A->sent_len[0], 14);
	assert_int_equal(A->sent[0][4], 1);
	assert_int_equal(A->sent[0][5], 10);
	assert_memory_equal(A->sent[0] + 6, A->ours, 8);
	assert_int_equal(count_sent(A, PPP_CONF_NAK), 0);

	uint8_t o[8], p[8];
	ipv6cp_iids(A->p, o, p);
	assert_memory_equal(o, A->ours, 8);
	assert_memory_equal(p, A->peer, 8);

	ipv6cp_close(A->p, "bye");
	pump(n);
	assert_int_equal(A->n_down, 1);
	assert_int_equal(A->n_finished, 1);
	assert_string_equal(A->reason, "bye");
	assert_int_equal(B->n_down, 1);
	net_free(n);
}

static void test_collision(void **state)
{
	struct net *n = net_new(true);
	struct ipv6cp_config c;
	static const uint8_t same[8] = {0x02, 0x11, 0x22, 0xff, 0xfe, 0x33, 0x44, 0x55};
	ipv6cp_config_default(&c);
	memcpy(c.iid, same, 8);
	side_init(n, 0, &c);
	side_init(n, 1, &c);
	start(n);
	struct side *A = &n->s[0], *B = &n->s[1];
	assert_int_equal(ipv6cp_state(A->p), FSM_OPENED);
	assert_int_equal(ipv6cp_state(B->p), FSM_OPENED);
	/* Each saw its own identifier and Nak'd with another one. */
	assert_true(count_sent(A, PPP_CONF_NAK) >= 1);
	assert_memory_not_equal(A->ours, B->ours, 8);
	assert_memory_equal(A->ours, B->peer, 8);
	assert_memory_equal(B->ours, A->peer, 8);
	assert_memory_not_equal(A->ours, zero8, 8);
	assert_memory_not_equal(B->ours, zero8, 8);
	net_free(n);
}

static struct side *single(struct net *n)
{
	struct ipv6cp_config c;
	static const uint8_t mine[8] = {0, 0, 0, 0, 0, 0, 0, 1};
	ipv6cp_config_default(&c);
	memcpy(c.iid, mine, 8);
	side_init(n, 0, &c);
	ipv6cp_open(n->s[0].p);
	ipv6cp_up(n->s[0].p);
	assert_int_equal(n->s[0].n_sent, 1);
	return &n->s[0];
}

static void test_zero_and_collision_naked(void **state)
{
	struct net *n = net_new(false);
	struct side *A = single(n);

	static const uint8_t zero[] = {1, 1, 0, 14, 1, 10, 0, 0, 0, 0, 0, 0, 0, 0};
	assert_int_equal(ipv6cp_input(A->p, zero, sizeof(zero)), 0);
	const uint8_t *r = A->sent[A->n_sent - 1];
	assert_int_equal(r[0], PPP_CONF_NAK);
	assert_int_equal(r[1], 1);
	assert_int_equal(A->sent_len[A->n_sent - 1], 14);
	assert_int_equal(r[4], 1);
	assert_int_equal(r[5], 10);
	assert_memory_not_equal(r + 6, zero8, 8);
	assert_memory_not_equal(r + 6, A->sent[0] + 6, 8);

	/* Our own identifier back: Nak with a different one. */
	static const uint8_t coll[] = {1, 2, 0, 14, 1, 10, 0, 0, 0, 0, 0, 0, 0, 1};
	assert_int_equal(ipv6cp_input(A->p, coll, sizeof(coll)), 0);
	r = A->sent[A->n_sent - 1];
	assert_int_equal(r[0], PPP_CONF_NAK);
	assert_memory_not_equal(r + 6, coll + 6, 8);
	assert_memory_not_equal(r + 6, zero8, 8);

	/* Our request Nak'd with a suggestion: adopted in the next one. */
	uint8_t nak[] = {3, A->sent[0][1], 0, 14, 1, 10, 0xaa, 0, 0, 0, 0, 0, 0, 0x0b};
	assert_int_equal(ipv6cp_input(A->p, nak, sizeof(nak)), 0);
	r = A->sent[A->n_sent - 1];
	assert_int_equal(r[0], PPP_CONF_REQ);
	assert_memory_equal(r + 6, nak + 6, 8);

	/* Nak'd with zero, or with our own value again: we draw a new one. */
	uint8_t prev[8];
	memcpy(prev, r + 6, 8);
	uint8_t nak0[] = {3, r[1], 0, 14, 1, 10, 0, 0, 0, 0, 0, 0, 0, 0};
	assert_int_equal(ipv6cp_input(A->p, nak0, sizeof(nak0)), 0);
	r = A->sent[A->n_sent - 1];
	assert_int_equal(r[0], PPP_CONF_REQ);
	assert_memory_not_equal(r + 6, zero8, 8);
	assert_memory_not_equal(r + 6, prev, 8);
	memcpy(prev, r + 6, 8);
	uint8_t nak_same[14] = {3, r[1], 0, 14, 1, 10};
	memcpy(nak_same + 6, prev, 8);
	assert_int_equal(ipv6cp_input(A->p, nak_same, sizeof(nak_same)), 0);
	r = A->sent[A->n_sent - 1];
	assert_int_equal(r[0], PPP_CONF_REQ);
	assert_memory_not_equal(r + 6, prev, 8);
	assert_memory_not_equal(r + 6, zero8, 8);
	net_free(n);
}

static void test_others_rejected_malformed_discarded(void **state)
{
	struct net *n = net_new(false);
	struct side *A = single(n);

	/* IPv6-Compression-Protocol, option 1 with a bad length, unknown. */
	static const uint8_t req[] = {1, 3,  0,	   28, 2, 4, 0x00, 0x4f, 1, 6, 1,    2, 3, 4,
				      1, 10, 0x0a, 0,  0, 0, 0,	   0,	 0, 7, 0x77, 2, 9, 2};
	assert_int_equal(ipv6cp_input(A->p, req, sizeof(req)), 0);
	const uint8_t *r = A->sent[A->n_sent - 1];
	assert_int_equal(r[0], PPP_CONF_REJ);
	static const uint8_t want[] = {2, 4, 0x00, 0x4f, 1, 6, 1, 2, 3, 4, 0x77, 2, 9, 2};
	assert_int_equal(A->sent_len[A->n_sent - 1], 4 + sizeof(want));
	assert_memory_equal(r + 4, want, sizeof(want));

	int sent = A->n_sent;
	static const uint8_t len1[] = {1, 4, 0, 6, 1, 1};
	static const uint8_t overrun[] = {1, 5, 0, 8, 1, 10, 1, 2};
	assert_int_equal(ipv6cp_input(A->p, len1, sizeof(len1)), -EBADMSG);
	assert_int_equal(ipv6cp_input(A->p, overrun, sizeof(overrun)), -EBADMSG);
	assert_int_equal(A->n_sent, sent);

	/* A peer without identifier: acked, up with a zero peer id. */
	static const uint8_t empty[] = {1, 6, 0, 4};
	assert_int_equal(ipv6cp_input(A->p, empty, sizeof(empty)), 0);
	assert_int_equal(A->sent[A->n_sent - 1][0], PPP_CONF_ACK);
	uint8_t ack[14];
	memcpy(ack, A->sent[0], 14);
	ack[0] = PPP_CONF_ACK;
	assert_int_equal(ipv6cp_input(A->p, ack, sizeof(ack)), 0);
	assert_int_equal(ipv6cp_state(A->p), FSM_OPENED);
	assert_memory_equal(A->peer, zero8, 8);

	/* A Term-Req from the peer: down, then finished with the reason. */
	static const uint8_t term[] = {5, 9, 0, 4};
	assert_int_equal(ipv6cp_input(A->p, term, sizeof(term)), 0);
	assert_int_equal(A->n_down, 1);
	assert_int_equal(A->sent[A->n_sent - 1][0], PPP_TERM_ACK);
	ipv6cp_timeout(A->p);
	assert_int_equal(A->n_finished, 1);
	assert_string_equal(A->reason, "terminated by peer");
	net_free(n);
}

static void test_protocol_rejected(void **state)
{
	struct net *n = net_new(false);
	struct side *A = single(n);
	ipv6cp_protocol_rejected(A->p);
	assert_int_equal(ipv6cp_state(A->p), FSM_STOPPED);
	assert_int_equal(A->n_finished, 1);
	assert_string_equal(A->reason, "peer rejected IPV6CP (Protocol-Reject)");
	net_free(n);
}

int main(void)
{
	log_set_level(LOG_ERR);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_random_identifiers),
	    cmocka_unit_test(test_collision),
	    cmocka_unit_test(test_zero_and_collision_naked),
	    cmocka_unit_test(test_others_rejected_malformed_discarded),
	    cmocka_unit_test(test_protocol_rejected),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
