/* IPV6CP on the bundle (RFC 5072): negotiates the 64-bit Interface-Identifiers
 * the two ends build their link-local addresses from. Only option 1
 * (Interface-Identifier) is supported; IPv6-Compression-Protocol and anything
 * else is Rejected.
 *
 * Our identifier is the configured one or random (nonzero, u/l bit clear).
 * A peer's request is Nak'd with a different suggestion when its identifier is
 * zero or equal to ours (collision); a Nak of ours is adopted when the
 * suggestion is usable, otherwise we draw a new one.
 *
 * The owner frames what tx gives it as protocol 0x8057, feeds received
 * IPV6CP packets to ipv6cp_input, runs the restart timer and never re-enters
 * ipv6cp_input from tx. */
#pragma once
#include "fsm.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IPV6CP_OPT_IID	1
#define IPV6CP_OPT_COMP 2
#define IPV6CP_IID_LEN	8

struct ipv6cp_config {
	uint8_t iid[IPV6CP_IID_LEN]; /* all zero: random */
	struct fsm_config fsm;
};

struct ipv6cp_ops {
	struct fsm_owner io;
	uint32_t (*random32)(void *ctx); /* required */
	/* peer is all zero when the peer named no identifier. */
	void (*up)(void *ctx, const uint8_t ours[IPV6CP_IID_LEN],
		   const uint8_t peer[IPV6CP_IID_LEN]);
	void (*down)(void *ctx);
	void (*finished)(void *ctx, const char *reason);
};

struct ipv6cp;

void ipv6cp_config_default(struct ipv6cp_config *c);
/* c copied (NULL: defaults), ops kept by pointer. NULL without tx/random32. */
struct ipv6cp *ipv6cp_new(const char *bundle, const struct ipv6cp_config *c,
			  const struct ipv6cp_ops *ops, void *ctx);
struct ipv6cp *ipv6cp_free(struct ipv6cp *p);

void ipv6cp_up(struct ipv6cp *p);
void ipv6cp_down(struct ipv6cp *p);
void ipv6cp_open(struct ipv6cp *p);
void ipv6cp_close(struct ipv6cp *p, const char *reason);
void ipv6cp_timeout(struct ipv6cp *p);
/* The peer's LCP Protocol-Rejected 0x8057 (a peer without IPv6). */
void ipv6cp_protocol_rejected(struct ipv6cp *p);

/* One received IPV6CP packet. 0, or -EBADMSG when it was discarded. */
int ipv6cp_input(struct ipv6cp *p, const uint8_t *pkt, size_t len);

enum fsm_state ipv6cp_state(const struct ipv6cp *p);
/* Negotiated identifiers (meaningful in Opened). */
void ipv6cp_iids(const struct ipv6cp *p, uint8_t ours[IPV6CP_IID_LEN],
		 uint8_t peer[IPV6CP_IID_LEN]);
struct fsm *ipv6cp_fsm(struct ipv6cp *p);
