/* Shared by receiver.c (listener, links) and receiver_bundle.c (bundles,
 * IPCP, TUN). */
#pragma once
#include "receiver.h"

#include "bundle.h"
#include "config.h"
#include "gateway.h"
#include "ipcp.h"
#include "ippool.h"
#include "loop.h"
#include "plink.h"
#include "route.h"
#include "secrets.h"
#include "udp.h"
#include "util.h"

#include <net/if.h>

#define RX_HASH		 1024
#define RX_BATCH	 64
#define RX_TICK_MS	 500
#define RX_STOP_MS	 3000
#define RX_GRACE_MS	 10000 /* bundle without links kept this long (a re-dial rejoins) */
#define RX_DEAD_CLOSE_MS 30000 /* a silent link is closed after this */
#define RX_TUN_BURST	 64
#define RX_RT_HASH	 1024 /* buckets of the address and identifier hashes (power of 2) */

struct rx_bundle;

struct rx_link {
	struct receiver *rx;
	struct rx_link *next, *hnext;
	struct sockaddr_storage peer;
	socklen_t peer_len;
	struct sockaddr_storage local; /* where the gateway sends to: our reply source */
	char name[UDP_ADDRSTRLEN];
	struct plink *pl;
	struct rx_bundle *rb;
	uint64_t created_ms;
	uint64_t dead_since_ms;
	bool authed;
	bool doomed; /* Dead: the reaper frees it */
};

struct rx_bundle {
	struct receiver *rx;
	struct rx_bundle *next;
	struct bundle *b;
	char bname[32];
	struct ipcp *ipcp;
	struct loop_timer *ipcp_timer;
	bool ipcp_failed;
	const struct cfg_user *user;
	uint32_t addr; /* assigned (host order), 0: none yet */
	bool pooled;   /* addr came from the pool: release it */
	bool routed;   /* IPCP up: host route + IPv4 user routes on the TUN */
	struct rx_bundle *hnext4;

	struct ipv6cp *ipv6cp;
	struct loop_timer *ipv6cp_timer;
	bool ipv6cp_failed;
	bool ipv6cp_off; /* the gateway does not do IPv6 */
	bool routed6;	 /* IPV6CP up: identifier + IPv6 user routes */
	uint8_t peer_iid[8];
	struct rx_bundle *hnext6;

	uint64_t empty_since_ms;
};

/* One configured prefix of a bundle that is up (rx_route_lookup). */
struct rx_route {
	uint8_t family, len;
	uint8_t a[16];
	struct rx_bundle *rb;
};

struct receiver {
	struct daemon *d;
	const struct cfg_receiver *cfg;
	struct pclock clk;
	struct secrets *sec;
	char our_name[CFG_PPP_NAME_MAX];
	bool has_ed;
	struct lcp_ed ed;
	uint16_t mru;

	int fd;
	struct loop_io *io;
	struct udp_batch *rxb, *txb;
	struct rx_link *hash[RX_HASH];
	struct rx_link *links;
	unsigned n_links, n_unauth;
	uint32_t next_id;

	struct route_nl *rt;
	int tun_fd;
	char tun_name[IF_NAMESIZE];
	int tun_ifindex;
	struct loop_io *tun_io;
	uint8_t *tun_buf;
	struct ippool *pool;
	bool has_ipv6;
	uint8_t iid[8];			  /* ours on the TUN: fe80::IID/64 */
	struct rx_bundle *h4[RX_RT_HASH]; /* by assigned address */
	struct rx_bundle *h6[RX_RT_HASH]; /* by IPV6CP identifier */
	struct rx_route *routes;	  /* longest prefix first */
	size_t n_routes, cap_routes;

	struct rx_bundle *bundles;
	unsigned n_bundles, next_bundle;

	struct loop_timer *tick, *reaper;
	struct ratelimit rl_new, rl_full, rl_auth, rl_garbage, rl_send, rl_tun, rl_bundle;
	uint64_t dropped_full, dropped_garbage, tun_no_route, tun_blocked, tun_write_errors;
	uint64_t rx_ncp_down; /* from a gateway before that protocol's NCP was up */

	bool stopping;
	void (*done)(void *data);
	void *done_data;
	struct loop_timer *stop_timer;
};

/* receiver.c */
void rx_link_free(struct rx_link *l);
void rx_stop_check(struct receiver *rx);

/* receiver_bundle.c */
int rx_tun_open(struct receiver *rx);
void rx_tun_close(struct receiver *rx);
/* An authenticated link: find or create its gateway's bundle and attach
 * (or close the link, logged). */
void rx_bundle_join(struct rx_link *l, struct plink *pl, const char *peer, const struct lcp_ed *ed);
/* The link left its bundle (down, freed). */
void rx_bundle_left(struct rx_link *l);
void rx_bundles_tick(struct receiver *rx, uint64_t now);
void rx_bundles_close(struct receiver *rx);
void rx_bundles_free(struct receiver *rx);

/* receiver_ncp.c */
int rx_ncp_init(struct rx_bundle *rb);	/* timers */
void rx_ncp_free(struct rx_bundle *rb); /* stops both NCPs, routes removed */
void rx_ncp_start(struct rx_bundle *rb);
void rx_ncp_tick(struct rx_bundle *rb, bool has_links);
void rx_ncp_close(struct rx_bundle *rb, const char *reason);
bool rx_ncp_accepts(const struct rx_bundle *rb, uint16_t proto);
/* The bundle a TUN packet to dst (4 or 16 bytes) goes to, or NULL. */
struct rx_bundle *rx_route_lookup(struct receiver *rx, int family, const uint8_t *dst);
/* Before the TUN goes up: IPv6 on it (our identifier); then its address. */
int rx_ncp_tun_ipv6(struct receiver *rx);
int rx_ncp_tun_ipv6_address(struct receiver *rx);
