/* IPCP: a client and a server wired back to back through a queue (the
 * server assigning from a real ippool), and single instances fed captured
 * pppd-style packets, checking the bytes they answer with. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "ipcp.h"
#include "ippool.h"
#include "log.h"
#include "ppp_proto.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAXPKT	256
#define MAXQ	64
#define MAXSENT 64

#define A4(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))

struct net;

struct side {
	struct ipcp *p;
	struct net *net;
	int idx;
	bool armed;
	int n_up, n_down, n_finished, n_assign;
	uint32_t local, peer, dns1, dns2;
	char reason[128];
	struct ippool *pool;
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
	assert_int_equal(pkt[2] << 8 | pkt[3], len);
	if (s->n_sent < MAXSENT) {
		memcpy(s->sent[s->n_sent], pkt, len);
		s->sent_len[s->n_sent++] = len;
	}
	if (!n->wired)
		return;
	/* Queued, never delivered from inside tx (fsm.h). */
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

static int s_assign(void *ctx, uint32_t *addr)
{
	struct side *s = ctx;
	s->n_assign++;
	return ippool_alloc(s->pool, "gw-1", addr);
}

static void s_up(void *ctx, uint32_t local, uint32_t peer, uint32_t dns1, uint32_t dns2)
{
	struct side *s = ctx;
	s->n_up++;
	s->local = local;
	s->peer = peer;
	s->dns1 = dns1;
	s->dns2 = dns2;
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

static const struct ipcp_ops ops = {
    .io = {.tx = s_tx, .timer_arm = s_arm, .timer_cancel = s_cancel},
    .assign = s_assign,
    .up = s_up,
    .down = s_down,
    .finished = s_finished,
};

static struct ipcp_config client_conf(void)
{
	struct ipcp_config c;
	ipcp_config_default(&c);
	c.role = IPCP_CLIENT;
	c.ask_dns = true;
	return c;
}

static struct ipcp_config server_conf(bool dns)
{
	struct ipcp_config c;
	ipcp_config_default(&c);
	c.role = IPCP_SERVER;
	c.ask_dns = false;
	c.local = A4(10, 64, 0, 1);
	if (dns) {
		c.dns[0] = A4(8, 8, 8, 8);
		c.dns[1] = A4(1, 1, 1, 1);
	}
	return c;
}

static struct net *net_new(bool wired)
{
	struct net *n = calloc(1, sizeof(*n));
	n->wired = wired;
	return n;
}

static void side_init(struct net *n, int idx, const struct ipcp_config *c)
{
	struct side *s = &n->s[idx];
	s->net = n;
	s->idx = idx;
	assert_int_equal(ippool_new(&s->pool, A4(10, 64, 0, 0), 24, A4(10, 64, 0, 1)), 0);
	s->p = ipcp_new("bundle", c, &ops, s);
	assert_non_null(s->p);
}

static void net_free(struct net *n)
{
	for (int i = 0; i < 2; i++) {
		ipcp_free(n->s[i].p);
		ippool_free(n->s[i].pool);
	}
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
		ipcp_input(n->s[to].p, pkt, len);
	}
}

static void start(struct net *n, int nsides)
{
	for (int i = 0; i < nsides; i++) {
		ipcp_open(n->s[i].p);
		ipcp_up(n->s[i].p);
	}
	pump(n);
}

/* The first packet side idx sent with a code, from index from on. */
static int find_sent(const struct side *s, uint8_t code, int from)
{
	for (int i = from; i < s->n_sent; i++)
		if (s->sent[i][0] == code)
			return i;
	return -1;
}

static void assert_sent(const struct side *s, int i, uint8_t code, const uint8_t *opts, size_t n)
{
	assert_true(i >= 0 && i < s->n_sent);
	assert_int_equal(s->sent[i][0], code);
	assert_int_equal(s->sent_len[i], 4 + n);
	assert_memory_equal(s->sent[i] + 4, opts, n);
}

static int feed(struct side *s, const uint8_t *p, size_t len)
{
	return ipcp_input(s->p, p, len);
}

/* Answer side 0's latest Configure-Request with code and options. */
static void reply_ours(struct side *s, uint8_t code, const uint8_t *opts, size_t n)
{
	for (int i = s->n_sent - 1; i >= 0; i--) {
		if (s->sent[i][0] != PPP_CONF_REQ)
			continue;
		uint8_t p[MAXPKT];
		p[0] = code;
		p[1] = s->sent[i][1];
		p[2] = 0;
		p[3] = (uint8_t)(4 + n);
		memcpy(p + 4, opts, n);
		assert_int_equal(feed(s, p, 4 + n), 0);
		return;
	}
	fail();
}

static void ack_ours(struct side *s)
{
	for (int i = s->n_sent - 1; i >= 0; i--) {
		if (s->sent[i][0] != PPP_CONF_REQ)
			continue;
		reply_ours(s, PPP_CONF_ACK, s->sent[i] + 4, s->sent_len[i] - 4);
		return;
	}
	fail();
}

/* --- client and server back to back --- */

static void test_client_gets_pool_address_and_dns(void **state)
{
	struct net *n = net_new(true);
	struct ipcp_config cc = client_conf(), sc = server_conf(true);
	side_init(n, 0, &cc);
	side_init(n, 1, &sc);
	start(n, 2);

	struct side *C = &n->s[0], *S = &n->s[1];
	assert_int_equal(ipcp_state(C->p), FSM_OPENED);
	assert_int_equal(ipcp_state(S->p), FSM_OPENED);
	assert_int_equal(C->n_up, 1);
	assert_int_equal(S->n_up, 1);
	assert_false(C->armed);
	assert_false(S->armed);
	/* The first free pool address after the server's own. */
	assert_int_equal(C->local, A4(10, 64, 0, 2));
	assert_int_equal(C->peer, A4(10, 64, 0, 1));
	assert_int_equal(C->dns1, A4(8, 8, 8, 8));
	assert_int_equal(C->dns2, A4(1, 1, 1, 1));
	assert_int_equal(S->local, A4(10, 64, 0, 1));
	assert_int_equal(S->peer, A4(10, 64, 0, 2));
	assert_int_equal(S->dns1, A4(8, 8, 8, 8));
	assert_int_equal(S->n_assign, 1);
	assert_string_equal(ippool_owner(S->pool, A4(10, 64, 0, 2)), "gw-1");

	/* On the wire: the client asks for 0.0.0.0 and DNS 0.0.0.0 ... */
	static const uint8_t ask[] = {3, 6, 0, 0, 0, 0, 129, 6, 0, 0, 0, 0, 131, 6, 0, 0, 0, 0};
	assert_sent(C, 0, PPP_CONF_REQ, ask, sizeof(ask));
	/* ... the server asks with its own address and Naks with the values. */
	static const uint8_t sreq[] = {3, 6, 10, 64, 0, 1};
	assert_sent(S, 0, PPP_CONF_REQ, sreq, sizeof(sreq));
	static const uint8_t nak[] = {3, 6, 10, 64, 0, 2, 129, 6, 8, 8, 8, 8, 131, 6, 1, 1, 1, 1};
	assert_sent(S, find_sent(S, PPP_CONF_NAK, 0), PPP_CONF_NAK, nak, sizeof(nak));
	/* The client's second request carries them and is acked as is. */
	static const uint8_t req2[] = {3, 6, 10, 64, 0, 2, 129, 6, 8, 8, 8, 8, 131, 6, 1, 1, 1, 1};
	assert_sent(C, find_sent(C, PPP_CONF_REQ, 1), PPP_CONF_REQ, req2, sizeof(req2));
	assert_sent(S, find_sent(S, PPP_CONF_ACK, 0), PPP_CONF_ACK, req2, sizeof(req2));

	/* The client closes: both down, the server finished with a reason. */
	ipcp_close(C->p, "admin down");
	pump(n);
	assert_int_equal(C->n_down, 1);
	assert_int_equal(C->n_finished, 1);
	assert_string_equal(C->reason, "admin down");
	assert_int_equal(S->n_down, 1);
	assert_int_equal(ipcp_state(S->p), FSM_STOPPING);
	ipcp_timeout(S->p);
	assert_int_equal(S->n_finished, 1);
	assert_string_equal(S->reason, "terminated by peer");
	net_free(n);
}

static void test_server_without_dns_rejects_dns(void **state)
{
	struct net *n = net_new(true);
	struct ipcp_config cc = client_conf(), sc = server_conf(false);
	side_init(n, 0, &cc);
	side_init(n, 1, &sc);
	start(n, 2);
	struct side *C = &n->s[0], *S = &n->s[1];
	assert_int_equal(ipcp_state(C->p), FSM_OPENED);
	assert_int_equal(C->local, A4(10, 64, 0, 2));
	assert_int_equal(C->dns1, 0);
	assert_int_equal(C->dns2, 0);
	static const uint8_t rej[] = {129, 6, 0, 0, 0, 0, 131, 6, 0, 0, 0, 0};
	assert_sent(S, find_sent(S, PPP_CONF_REJ, 0), PPP_CONF_REJ, rej, sizeof(rej));
	net_free(n);
}

/* --- a client against captured pppd packets --- */

static void test_client_vs_pppd(void **state)
{
	struct net *n = net_new(false);
	struct ipcp_config cc = client_conf();
	side_init(n, 0, &cc);
	struct side *C = &n->s[0];
	ipcp_open(C->p);
	ipcp_up(C->p);
	assert_int_equal(C->n_sent, 1);

	/* pppd (192.168.1.1:192.168.1.2, no ms-dns) asks for VJ and its
	 * address: we Reject VJ. */
	static const uint8_t pppd_req[] = {1,	 0x01, 0, 16, 2,   6,	0, 0x2d,
					   0x0f, 1,    3, 6,  192, 168, 1, 1};
	assert_int_equal(feed(C, pppd_req, sizeof(pppd_req)), 0);
	static const uint8_t rej_vj[] = {2, 6, 0, 0x2d, 0x0f, 1};
	assert_sent(C, C->n_sent - 1, PPP_CONF_REJ, rej_vj, sizeof(rej_vj));
	assert_int_equal(C->sent[C->n_sent - 1][1], 0x01);

	/* It Rejects our DNS options ... */
	static const uint8_t dns_rej[] = {129, 6, 0, 0, 0, 0, 131, 6, 0, 0, 0, 0};
	reply_ours(C, PPP_CONF_REJ, dns_rej, sizeof(dns_rej));
	static const uint8_t req2[] = {3, 6, 0, 0, 0, 0};
	assert_sent(C, C->n_sent - 1, PPP_CONF_REQ, req2, sizeof(req2));
	/* ... Naks our address with its configured remote ... */
	static const uint8_t nak[] = {3, 6, 192, 168, 1, 2};
	reply_ours(C, PPP_CONF_NAK, nak, sizeof(nak));
	static const uint8_t req3[] = {3, 6, 192, 168, 1, 2};
	assert_sent(C, C->n_sent - 1, PPP_CONF_REQ, req3, sizeof(req3));
	/* ... asks again without VJ (acked verbatim) and acks ours. */
	static const uint8_t pppd_req2[] = {1, 0x02, 0, 10, 3, 6, 192, 168, 1, 1};
	assert_int_equal(feed(C, pppd_req2, sizeof(pppd_req2)), 0);
	assert_sent(C, C->n_sent - 1, PPP_CONF_ACK, pppd_req2 + 4, 6);
	ack_ours(C);
	assert_int_equal(ipcp_state(C->p), FSM_OPENED);
	assert_int_equal(C->n_up, 1);
	assert_int_equal(C->local, A4(192, 168, 1, 2));
	assert_int_equal(C->peer, A4(192, 168, 1, 1));
	assert_int_equal(C->dns1, 0);
	net_free(n);
}

static void test_client_address_rejected(void **state)
{
	struct net *n = net_new(false);
	struct ipcp_config cc = client_conf();
	cc.ask_dns = false;
	side_init(n, 0, &cc);
	struct side *C = &n->s[0];
	ipcp_open(C->p);
	ipcp_up(C->p);
	static const uint8_t rej[] = {3, 6, 0, 0, 0, 0};
	reply_ours(C, PPP_CONF_REJ, rej, sizeof(rej));
	/* Without an address of its own the client gives up, and says so. */
	assert_int_equal(ipcp_state(C->p), FSM_CLOSING);
	int t = find_sent(C, PPP_TERM_REQ, 0);
	assert_true(t >= 0);
	static const uint8_t term_ack[] = {6, 0, 0, 4};
	uint8_t ta[4];
	memcpy(ta, term_ack, 4);
	ta[1] = C->sent[t][1];
	feed(C, ta, 4);
	assert_int_equal(ipcp_state(C->p), FSM_CLOSED);
	assert_int_equal(C->n_finished, 1);
	assert_string_equal(C->reason, "peer will not assign us an address (IP-Address rejected)");
	assert_int_equal(C->n_up, 0);
	net_free(n);
}

static void test_no_answer(void **state)
{
	struct net *n = net_new(false);
	struct ipcp_config cc = client_conf();
	side_init(n, 0, &cc);
	struct side *C = &n->s[0];
	ipcp_open(C->p);
	ipcp_up(C->p);
	for (int i = 0; i < 10 && C->armed; i++)
		ipcp_timeout(C->p);
	assert_int_equal(C->n_sent, 10); /* Max-Configure requests */
	assert_int_equal(ipcp_state(C->p), FSM_STOPPED);
	assert_int_equal(C->n_finished, 1);
	assert_string_equal(C->reason, "no answer from peer");
	net_free(n);
}

/* --- a server against a scripted client --- */

static struct side *single_server(struct net *n, bool dns)
{
	struct ipcp_config sc = server_conf(dns);
	side_init(n, 0, &sc);
	ipcp_open(n->s[0].p);
	ipcp_up(n->s[0].p);
	return &n->s[0];
}

static void test_server_naks_wrong_address_then_refuses(void **state)
{
	struct net *n = net_new(false);
	struct side *S = single_server(n, true);
	uint8_t req[] = {1, 0x10, 0, 10, 3, 6, 10, 0, 0, 9};
	static const uint8_t nak[] = {3, 6, 10, 64, 0, 2};

	/* A peer that wants 10.0.0.9 is Nak'd with its pool address, five
	 * times (Max-Failure) ... */
	for (int i = 0; i < 5; i++) {
		req[1] = (uint8_t)(0x10 + i);
		assert_int_equal(feed(S, req, sizeof(req)), 0);
		assert_sent(S, S->n_sent - 1, PPP_CONF_NAK, nak, sizeof(nak));
		assert_int_equal(S->sent[S->n_sent - 1][1], req[1]);
	}
	assert_int_equal(S->n_assign, 1);
	/* ... then refused: Reject, Terminate-Request, finished with both
	 * addresses in the reason. */
	req[1] = 0x20;
	assert_int_equal(feed(S, req, sizeof(req)), 0);
	int r = find_sent(S, PPP_CONF_REJ, 0);
	assert_sent(S, r, PPP_CONF_REJ, req + 4, 6);
	assert_int_equal(S->sent[r + 1][0], PPP_TERM_REQ);
	assert_int_equal(ipcp_state(S->p), FSM_CLOSING);
	ipcp_timeout(S->p);
	ipcp_timeout(S->p);
	assert_int_equal(ipcp_state(S->p), FSM_CLOSED);
	assert_int_equal(S->n_finished, 1);
	assert_string_equal(S->reason, "peer insists on 10.0.0.9, assigned 10.64.0.2");
	assert_int_equal(S->n_up, 0);
	net_free(n);
}

static void test_server_naks_zero_and_missing_address(void **state)
{
	struct net *n = net_new(false);
	struct side *S = single_server(n, false);
	static const uint8_t nak[] = {3, 6, 10, 64, 0, 2};

	static const uint8_t zero[] = {1, 1, 0, 10, 3, 6, 0, 0, 0, 0};
	assert_int_equal(feed(S, zero, sizeof(zero)), 0);
	assert_sent(S, S->n_sent - 1, PPP_CONF_NAK, nak, sizeof(nak));
	/* No IP-Address at all: the Nak adds it. */
	static const uint8_t none[] = {1, 2, 0, 4};
	assert_int_equal(feed(S, none, sizeof(none)), 0);
	assert_sent(S, S->n_sent - 1, PPP_CONF_NAK, nak, sizeof(nak));
	/* The right one is acked; with our request acked we are up. */
	static const uint8_t good[] = {1, 3, 0, 10, 3, 6, 10, 64, 0, 2};
	assert_int_equal(feed(S, good, sizeof(good)), 0);
	assert_sent(S, S->n_sent - 1, PPP_CONF_ACK, good + 4, 6);
	ack_ours(S);
	assert_int_equal(ipcp_state(S->p), FSM_OPENED);
	assert_int_equal(S->peer, A4(10, 64, 0, 2));
	assert_int_equal(S->n_assign, 1);
	net_free(n);
}

static void test_server_pool_exhausted(void **state)
{
	struct net *n = net_new(false);
	struct side *S = single_server(n, false);
	uint32_t a;
	while (ippool_alloc(S->pool, NULL, &a) == 0)
		;
	static const uint8_t zero[] = {1, 1, 0, 10, 3, 6, 0, 0, 0, 0};
	assert_int_equal(feed(S, zero, sizeof(zero)), 0);
	assert_sent(S, find_sent(S, PPP_CONF_REJ, 0), PPP_CONF_REJ, zero + 4, 6);
	assert_int_equal(ipcp_state(S->p), FSM_CLOSING);
	ipcp_timeout(S->p);
	ipcp_timeout(S->p);
	assert_int_equal(S->n_finished, 1);
	assert_string_equal(S->reason, "no address to assign (No space left on device)");
	net_free(n);
}

static void test_rejects_unsupported(void **state)
{
	struct net *n = net_new(false);
	struct side *S = single_server(n, false);
	/* VJ, NBNS1, address, DNS1 (no DNS here), NBNS2, unknown 0x42,
	 * address again, old IP-Addresses: all but the first address are
	 * rejected verbatim and in order. */
	static const uint8_t req[] = {
	    1,	  7,  0,  52,			     /* header */
	    2,	  6,  0,  0x2d, 0x0f, 1,	     /* VJ */
	    130,  6,  0,  0,	0,    0,	     /* NBNS1 */
	    3,	  6,  10, 64,	0,    2,	     /* address */
	    129,  6,  0,  0,	0,    0,	     /* DNS1 */
	    132,  6,  0,  0,	0,    0,	     /* NBNS2 */
	    0x42, 2,				     /* unknown */
	    3,	  6,  10, 0,	0,    9,	     /* address again */
	    1,	  10, 0,  0,	0,    0, 0, 0, 0, 0, /* IP-Addresses */
	};
	assert_int_equal(feed(S, req, sizeof(req)), 0);
	assert_int_equal(S->sent[S->n_sent - 1][1], 7);
	/* The Reject: all of it but the first address option. */
	uint8_t want[sizeof(req) - 4 - 6];
	memcpy(want, req + 4, 12);
	memcpy(want + 12, req + 22, sizeof(want) - 12);
	assert_sent(S, S->n_sent - 1, PPP_CONF_REJ, want, sizeof(want));
	net_free(n);
}

static void test_malformed_discarded(void **state)
{
	struct net *n = net_new(false);
	struct side *S = single_server(n, true);
	int sent = S->n_sent;
	static const uint8_t len1[] = {1, 1, 0, 7, 3, 1, 0};
	static const uint8_t overrun[] = {1, 2, 0, 8, 3, 6, 10, 64};
	static const uint8_t len0[] = {1, 3, 0, 6, 129, 0};
	static const uint8_t short_hdr[] = {1, 4, 0};
	static const uint8_t bad_len[] = {1, 5, 0, 2};
	static const uint8_t nak_junk[] = {3, 0, 0, 6, 3, 9};

	assert_int_equal(feed(S, len1, sizeof(len1)), -EBADMSG);
	assert_int_equal(feed(S, overrun, sizeof(overrun)), -EBADMSG);
	assert_int_equal(feed(S, len0, sizeof(len0)), -EBADMSG);
	assert_int_equal(feed(S, short_hdr, sizeof(short_hdr)), -EBADMSG);
	assert_int_equal(feed(S, bad_len, sizeof(bad_len)), -EBADMSG);
	uint8_t nj[sizeof(nak_junk)];
	memcpy(nj, nak_junk, sizeof(nj));
	nj[1] = S->sent[0][1];
	assert_int_equal(feed(S, nj, sizeof(nj)), -EBADMSG);
	assert_int_equal(S->n_sent, sent); /* nothing answered */
	assert_int_equal(ipcp_state(S->p), FSM_REQ_SENT);

	/* A well-framed option with a wrong length is Rejected, not Nak'd. */
	static const uint8_t addr4[] = {1, 6, 0, 8, 3, 4, 10, 64};
	assert_int_equal(feed(S, addr4, sizeof(addr4)), 0);
	assert_sent(S, S->n_sent - 1, PPP_CONF_REJ, addr4 + 4, 4);
	/* A Reject naming an option we never sent is discarded. */
	static const uint8_t bogus_rej[] = {129, 6, 0, 0, 0, 0};
	int before = S->n_sent;
	uint8_t br[10] = {PPP_CONF_REJ, S->sent[0][1], 0, 10};
	memcpy(br + 4, bogus_rej, 6);
	assert_int_equal(feed(S, br, sizeof(br)), -EBADMSG);
	assert_int_equal(S->n_sent, before);
	net_free(n);
}

static void test_dns_nak_by_server(void **state)
{
	struct net *n = net_new(false);
	struct side *S = single_server(n, true);
	/* Correct address, a stale DNS1, our DNS2: Nak with DNS1 only. */
	static const uint8_t req[] = {1, 1, 0, 22, 3, 6,   10, 64, 0, 2, 129,
				      6, 9, 9, 9,  9, 131, 6,  1,  1, 1, 1};
	assert_int_equal(feed(S, req, sizeof(req)), 0);
	static const uint8_t nak[] = {129, 6, 8, 8, 8, 8};
	assert_sent(S, S->n_sent - 1, PPP_CONF_NAK, nak, sizeof(nak));
	net_free(n);
}

static void test_bad_config(void **state)
{
	struct ipcp_config sc = server_conf(false);
	sc.local = 0;
	assert_null(ipcp_new("x", &sc, &ops, NULL));
	struct ipcp_ops noassign = ops;
	noassign.assign = NULL;
	sc = server_conf(false);
	assert_null(ipcp_new("x", &sc, &noassign, NULL));
	assert_null(ipcp_free(NULL));
	char b[16];
	assert_string_equal(ipcp_addr_str(A4(192, 0, 2, 255), b, sizeof(b)), "192.0.2.255");
	assert_false(ipcp_addr_usable(0));
	assert_false(ipcp_addr_usable(A4(127, 0, 0, 1)));
	assert_false(ipcp_addr_usable(A4(224, 0, 0, 1)));
	assert_true(ipcp_addr_usable(A4(100, 64, 0, 1)));
}

int main(void)
{
	log_set_level(LOG_ERR);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_client_gets_pool_address_and_dns),
	    cmocka_unit_test(test_server_without_dns_rejects_dns),
	    cmocka_unit_test(test_client_vs_pppd),
	    cmocka_unit_test(test_client_address_rejected),
	    cmocka_unit_test(test_no_answer),
	    cmocka_unit_test(test_server_naks_wrong_address_then_refuses),
	    cmocka_unit_test(test_server_naks_zero_and_missing_address),
	    cmocka_unit_test(test_server_pool_exhausted),
	    cmocka_unit_test(test_rejects_unsupported),
	    cmocka_unit_test(test_malformed_discarded),
	    cmocka_unit_test(test_dns_nak_by_server),
	    cmocka_unit_test(test_bad_config),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
