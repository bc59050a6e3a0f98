/* Fuzz IPCP (client and server) and IPV6CP, and the automaton under them, in
 * every state. Input: byte 0 picks the protocol/role (bits 4-5: 0 IPCP
 * client, 1 IPCP server, 2-3 IPV6CP), DNS configuration (bit 6) and the
 * starting state (low nibble); then records of [len][bytes] are fed as
 * packets, with a record length of 0 meaning "restart timer fired" and 255
 * "lower layer down, open, up again". Everything sent must be a well-formed
 * packet within fsm's bounds, and what comes up must be sane. */
#include "ipcp.h"
#include "ipv6cp.h"
#include "log.h"
#include "ppp_proto.h"

#include <stdint.h>
#include <string.h>

#define POOL_ADDR 0x0a400002u /* 10.64.0.2 */

struct fz {
	int kind; /* 0 client, 1 server, 2 ipv6cp */
	struct ipcp *ip;
	struct ipv6cp *v6;
	uint8_t last_req[FSM_MAX_PKT];
	size_t last_req_len;
	uint32_t rng;
	bool up;
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

static int fz_assign(void *ctx, uint32_t *addr)
{
	*addr = POOL_ADDR;
	return 0;
}

static void fz_ip_up(void *ctx, uint32_t local, uint32_t peer, uint32_t dns1, uint32_t dns2)
{
	struct fz *z = ctx;
	if (z->up || !ipcp_addr_usable(local))
		__builtin_trap();
	/* A server's peer has the pool's address or named none. */
	if (z->kind == 1 && peer != POOL_ADDR && peer != 0)
		__builtin_trap();
	z->up = true;
}

static void fz_v6_up(void *ctx, const uint8_t ours[8], const uint8_t peer[8])
{
	static const uint8_t zero[8];
	struct fz *z = ctx;
	if (z->up || !memcmp(ours, zero, 8) || !memcmp(ours, peer, 8))
		__builtin_trap();
	z->up = true;
}

static void fz_down(void *ctx)
{
	struct fz *z = ctx;
	if (!z->up)
		__builtin_trap(); /* down without up */
	z->up = false;
}

static void fz_finished(void *ctx, const char *reason)
{
	if (!reason || !reason[0])
		__builtin_trap();
}

static const struct ipcp_ops ip_ops = {
    .io = {.tx = fz_tx, .timer_arm = fz_arm, .timer_cancel = fz_cancel},
    .assign = fz_assign,
    .up = fz_ip_up,
    .down = fz_down,
    .finished = fz_finished,
};

static const struct ipv6cp_ops v6_ops = {
    .io = {.tx = fz_tx, .timer_arm = fz_arm, .timer_cancel = fz_cancel},
    .random32 = fz_random,
    .up = fz_v6_up,
    .down = fz_down,
    .finished = fz_finished,
};

static void feed(struct fz *z, const uint8_t *p, size_t n)
{
	if (z->ip)
		ipcp_input(z->ip, p, n);
	else
		ipv6cp_input(z->v6, p, n);
}

static void ack_ours(struct fz *z)
{
	uint8_t p[FSM_MAX_PKT];
	memcpy(p, z->last_req, z->last_req_len);
	p[0] = PPP_CONF_ACK;
	feed(z, p, z->last_req_len);
}

static void admin(struct fz *z, char what)
{
	switch (what) {
	case 'o':
		z->ip ? ipcp_open(z->ip) : ipv6cp_open(z->v6);
		break;
	case 'u':
		z->ip ? ipcp_up(z->ip) : ipv6cp_up(z->v6);
		break;
	case 'd':
		z->ip ? ipcp_down(z->ip) : ipv6cp_down(z->v6);
		break;
	case 'c':
		z->ip ? ipcp_close(z->ip, "fuzz") : ipv6cp_close(z->v6, "fuzz");
		break;
	case 't':
		z->ip ? ipcp_timeout(z->ip) : ipv6cp_timeout(z->v6);
		break;
	default:
		break;
	}
}

/* An acceptable request from the peer, for each kind. */
static void peer_req(struct fz *z)
{
	static const uint8_t client[] = {1, 0x11, 0, 10, 3, 6, 10, 64, 0, 1};
	static const uint8_t server[] = {1, 0x11, 0, 10, 3, 6, 10, 64, 0, 2};
	static const uint8_t v6[] = {1, 0x11, 0, 14, 1, 10, 0x12, 0x34, 0x56, 0x78, 9, 8, 7, 6};

	if (z->kind == 0)
		feed(z, client, sizeof(client));
	else if (z->kind == 1)
		feed(z, server, sizeof(server));
	else
		feed(z, v6, sizeof(v6));
}

static void go(struct fz *z, enum fsm_state s)
{
	static const uint8_t code_rej[] = {7, 0x12, 0, 8, 1, 1, 0, 4};
	static const uint8_t term_req[] = {5, 0x13, 0, 4};

	switch (s) {
	case FSM_INITIAL:
		break;
	case FSM_STARTING:
		admin(z, 'o');
		break;
	case FSM_CLOSED:
		admin(z, 'u');
		break;
	case FSM_STOPPED:
		go(z, FSM_REQ_SENT);
		feed(z, code_rej, sizeof(code_rej));
		break;
	case FSM_CLOSING:
		go(z, FSM_REQ_SENT);
		admin(z, 'c');
		break;
	case FSM_STOPPING:
		go(z, FSM_OPENED);
		feed(z, term_req, sizeof(term_req));
		break;
	case FSM_REQ_SENT:
		admin(z, 'o');
		admin(z, 'u');
		break;
	case FSM_ACK_RCVD:
		go(z, FSM_REQ_SENT);
		ack_ours(z);
		break;
	case FSM_ACK_SENT:
		go(z, FSM_REQ_SENT);
		peer_req(z);
		break;
	case FSM_OPENED:
		go(z, FSM_ACK_SENT);
		ack_ours(z);
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz z = {.rng = 1};

	if (size < 1)
		return 0;
	log_set_level(LOG_ERR);
	z.kind = (data[0] >> 4) & 3;
	if (z.kind == 3)
		z.kind = 2;
	if (z.kind < 2) {
		struct ipcp_config c;
		ipcp_config_default(&c);
		c.role = z.kind ? IPCP_SERVER : IPCP_CLIENT;
		c.local = z.kind ? 0x0a400001u : 0;
		c.ask_dns = !z.kind;
		if (data[0] & 0x40) {
			c.dns[0] = 0x08080808u;
			c.dns[1] = 0x01010101u;
		}
		z.ip = ipcp_new("fuzz", &c, &ip_ops, &z);
		if (!z.ip)
			__builtin_trap();
	} else {
		struct ipv6cp_config c;
		ipv6cp_config_default(&c);
		if (data[0] & 0x40)
			memcpy(c.iid, "\x12\x34\x56\x78\x09\x08\x07\x06", 8); /* collides */
		z.v6 = ipv6cp_new("fuzz", &c, &v6_ops, &z);
		if (!z.v6)
			__builtin_trap();
	}
	go(&z, (enum fsm_state)((data[0] & 0x0f) % FSM_N_STATES));
	data++;
	size--;
	while (size > 0) {
		size_t n = data[0];
		data++;
		size--;
		if (n == 0) {
			admin(&z, 't');
			continue;
		}
		if (n == 255) {
			admin(&z, 'd');
			admin(&z, 'o');
			admin(&z, 'u');
			continue;
		}
		if (n > size)
			n = size;
		feed(&z, data, n);
		data += n;
		size -= n;
	}
	ipcp_free(z.ip);
	ipv6cp_free(z.v6);
	return 0;
}
