/* Fuzz LCP (and the automaton under it) in every state. Input: byte 0 picks
 * the starting state and configuration; then records of [len][bytes] are fed
 * as LCP packets, with a record length of 0 meaning "restart timer fired"
 * and 255 "send an echo". Everything sent must be a well-formed packet no
 * larger than the bounds fsm documents. */
#include "lcp.h"
#include "log.h"
#include "ppp_proto.h"

#include <stdint.h>
#include <string.h>

struct fz {
	struct lcp *l;
	uint8_t last_req[FSM_MAX_PKT];
	size_t last_req_len;
	uint32_t rng;
	uint64_t now;
};

static void fz_tx(void *ctx, const uint8_t *pkt, size_t len)
{
	struct fz *z = ctx;
	if (len < 4 || len > FSM_MAX_PKT || (size_t)(pkt[2] << 8 | pkt[3]) != len)
		__builtin_trap();
	if (pkt[0] == PPP_CONF_REQ) {
		memcpy(z->last_req, pkt, len);
		z->last_req_len = len;
	}
}

static void fz_arm(void *ctx, uint32_t ms)
{
}

static void fz_cancel(void *ctx)
{
}

static uint32_t fz_random(void *ctx)
{
	struct fz *z = ctx;
	z->rng = z->rng * 1103515245u + 12345u;
	return z->rng;
}

static void fz_up(void *ctx, const struct lcp_result *r)
{
	if (r->peer_ed_present && lcp_ed_check(r->peer_ed.class, r->peer_ed.len) < 0)
		__builtin_trap();
}

static void fz_vendor(void *ctx, uint8_t id, struct rbuf data)
{
}

static const struct lcp_ops ops = {
    .io = {.tx = fz_tx, .timer_arm = fz_arm, .timer_cancel = fz_cancel},
    .random32 = fz_random,
    .up = fz_up,
};

static const struct lcp_ops ops_vendor = {
    .io = {.tx = fz_tx, .timer_arm = fz_arm, .timer_cancel = fz_cancel},
    .random32 = fz_random,
    .up = fz_up,
    .vendor = fz_vendor,
};

static void feed(struct fz *z, const uint8_t *p, size_t n)
{
	lcp_input(z->l, p, n, z->now);
}

static void ack_ours(struct fz *z)
{
	uint8_t p[FSM_MAX_PKT];
	memcpy(p, z->last_req, z->last_req_len);
	p[0] = PPP_CONF_ACK;
	feed(z, p, z->last_req_len);
}

static void go(struct fz *z, enum fsm_state s)
{
	static const uint8_t peer_req[] = {1, 0x11, 0, 14, 1, 4, 5, 0xdc, 5, 6, 1, 2, 3, 4};
	static const uint8_t code_rej[] = {7, 0x12, 0, 8, 1, 1, 0, 4};
	static const uint8_t term_req[] = {5, 0x13, 0, 4};

	switch (s) {
	case FSM_INITIAL:
		break;
	case FSM_STARTING:
		lcp_open(z->l);
		break;
	case FSM_CLOSED:
		lcp_up(z->l);
		break;
	case FSM_STOPPED:
		go(z, FSM_REQ_SENT);
		feed(z, code_rej, sizeof(code_rej));
		break;
	case FSM_CLOSING:
		go(z, FSM_REQ_SENT);
		lcp_close(z->l, "fuzz");
		break;
	case FSM_STOPPING:
		go(z, FSM_OPENED);
		feed(z, term_req, sizeof(term_req));
		break;
	case FSM_REQ_SENT:
		lcp_open(z->l);
		lcp_up(z->l);
		break;
	case FSM_ACK_RCVD:
		go(z, FSM_REQ_SENT);
		ack_ours(z);
		break;
	case FSM_ACK_SENT:
		go(z, FSM_REQ_SENT);
		feed(z, peer_req, sizeof(peer_req));
		break;
	case FSM_OPENED:
		go(z, FSM_ACK_SENT);
		ack_ours(z);
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz z = {.rng = 1, .now = 1000000};
	struct lcp_config c;

	if (size < 1)
		return 0;
	log_set_level(LOG_ERR);
	lcp_config_default(&c);
	if (data[0] & 0x10) {
		c.mrru = 1500;
		c.ssnhf = true;
		c.accept_ssnhf = data[0] & 0x20;
		c.has_ed = true;
		c.ed.class = LCP_ED_MAGIC;
		c.ed.len = 4;
		memcpy(c.ed.addr, "\x01\x02\x03\x04", 4);
	}
	if (data[0] & 0x40)
		c.require_auth = LCP_AUTH_CHAP_MD5 | LCP_AUTH_PAP;
	z.l = lcp_new("fuzz", &c, data[0] & 0x80 ? &ops_vendor : &ops, &z);
	if (!z.l)
		return 0;
	go(&z, (enum fsm_state)((data[0] & 0x0f) % FSM_N_STATES));
	data++;
	size--;
	while (size > 0) {
		size_t n = data[0];
		data++;
		size--;
		z.now += 1000;
		if (n == 0) {
			lcp_timeout(z.l);
			continue;
		}
		if (n == 255) {
			lcp_send_echo(z.l, z.now);
			lcp_send_protocol_reject(z.l, PPP_PROTO_CCP, data, size);
			continue;
		}
		if (n > size)
			n = size;
		feed(&z, data, n);
		data += n;
		size -= n;
	}
	lcp_free(z.l);
	return 0;
}
