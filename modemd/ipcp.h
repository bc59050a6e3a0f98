/* IPCP on the bundle (RFC 1332, RFC 1877 DNS): negotiation policy on top of
 * fsm.c, in two roles.
 *
 * Client (gateway): asks for IP-Address 0.0.0.0 (or its configured one) and,
 * if configured, primary/secondary DNS 0.0.0.0; adopts the values a server
 * Naks with; copes with pppd, which Naks with its configured remote address
 * and Rejects DNS unless ms-dns is set.
 * Server (receiver): asks with its own address, assigns the peer one through
 * the assign callback (the pool), Naks a wrong or zero peer address with the
 * assigned one, provides DNS if configured. A peer that still insists on
 * another address after Max-Failure Naks is refused: IPCP closes with a
 * reason naming both addresses.
 *
 * Both roles Reject IP-Compression-Protocol (VJ), NBNS (130/132), the old
 * IP-Addresses option and anything unknown or given twice, and Reject DNS
 * requests when they have no DNS to give.
 *
 * Addresses are IPv4 in host byte order (10.0.0.1 == 0x0a000001).
 * The owner (the bundle) frames what tx gives it as protocol 0x8021, feeds
 * received IPCP packets (the frame's information field) to ipcp_input, runs
 * the restart timer (ipcp_timeout) and never re-enters ipcp_input from tx. */
#pragma once
#include "fsm.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* IPCP option types (RFC 1332, RFC 1877). */
#define IPCP_OPT_ADDRS 1 /* deprecated IP-Addresses */
#define IPCP_OPT_COMP  2 /* IP-Compression-Protocol (VJ 0x002d) */
#define IPCP_OPT_ADDR  3
#define IPCP_OPT_DNS1  129
#define IPCP_OPT_NBNS1 130
#define IPCP_OPT_DNS2  131
#define IPCP_OPT_NBNS2 132

enum ipcp_role {
	IPCP_CLIENT,
	IPCP_SERVER,
};

struct ipcp_config {
	enum ipcp_role role;
	/* Our address. Client: 0 asks the server for one. Server: required. */
	uint32_t local;
	bool ask_dns; /* ask the peer for DNS servers (client) */
	/* DNS servers given to a peer that asks; 0: Reject its request. */
	uint32_t dns[2];
	struct fsm_config fsm;
};

/* What was negotiated (valid from up until down). */
struct ipcp_result {
	uint32_t local;	 /* our address */
	uint32_t peer;	 /* the peer's address, 0 when it named none */
	uint32_t dns[2]; /* client: servers we were given; server: given away */
};

struct ipcp_ops {
	/* tx gets one IPCP packet (code, id, length, data); timer for fsm. */
	struct fsm_owner io;
	/* Server: the address for this peer (from the pool). Called at most
	 * once per ipcp object; the owner releases it when the bundle ends.
	 * 0, or <0 (no address: IPCP closes). */
	int (*assign)(void *ctx, uint32_t *addr);
	void (*up)(void *ctx, uint32_t local, uint32_t peer, uint32_t dns1, uint32_t dns2);
	void (*down)(void *ctx);
	/* IPCP is done (tlf): negotiation failed, was refused or closed. */
	void (*finished)(void *ctx, const char *reason);
};

struct ipcp;

void ipcp_config_default(struct ipcp_config *c);
/* c is copied, ops kept by pointer. NULL when c is unusable (a server
 * without a local address or assign callback). */
struct ipcp *ipcp_new(const char *bundle, const struct ipcp_config *c, const struct ipcp_ops *ops,
		      void *ctx);
/* NULL-safe; returns NULL. Sends nothing. */
struct ipcp *ipcp_free(struct ipcp *p);

void ipcp_up(struct ipcp *p);
void ipcp_down(struct ipcp *p);
void ipcp_open(struct ipcp *p);
void ipcp_close(struct ipcp *p, const char *reason);
void ipcp_timeout(struct ipcp *p);
/* The peer's LCP Protocol-Rejected 0x8021: IPCP stops (RXJ-). */
void ipcp_protocol_rejected(struct ipcp *p);

/* One received IPCP packet. 0, or -EBADMSG when it was discarded. */
int ipcp_input(struct ipcp *p, const uint8_t *pkt, size_t len);

enum fsm_state ipcp_state(const struct ipcp *p);
const struct ipcp_result *ipcp_result(const struct ipcp *p);
struct fsm *ipcp_fsm(struct ipcp *p);

/* An address a peer may be given or use: not 0.0.0.0, 127/8, 224/3. */
bool ipcp_addr_usable(uint32_t a);
/* "a.b.c.d" into buf (>= 16 bytes); returns buf. */
const char *ipcp_addr_str(uint32_t a, char *buf, size_t size);
