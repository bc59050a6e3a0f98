/* Shared by gateway.c and gateway_status.c. */
#pragma once
#include "gateway.h"

#include "bundle.h"
#include "ipcp.h"
#include "loop.h"
#include "route.h"
#include "secrets.h"
#include "udp.h"
#include "util.h"

#include <net/if.h>
#include <netinet/in.h>

#define GW_TICK_MS	   1000
#define GW_RETRY_MS	   2000	 /* reopen a link that went Dead */
#define GW_STOP_MS	   3000	 /* longest wait for Terminate-Acks at exit */
#define GW_GRACE_MS	   10000 /* bundle without members kept this long */
#define GW_DEAD_CLOSE_MS   30000 /* a silent link is closed (and reopened) after this */
#define GW_SLOTS	   32	 /* policy tables/priorities: 16 static + 16 modem links */
#define GW_TABLE_BASE	   6700	 /* table and rule priority of slot i: base + i */
#define GW_RX_BATCH	   32
#define GW_RX_BUFSIZE	   (PLINK_MAX_FRAME + 1)
#define GW_TUN_BURST	   64 /* packets read from the TUN per wakeup */
#define GW_UDP_OVERHEAD_V4 28
#define GW_UDP_OVERHEAD_V6 48

struct gw_link {
	struct gateway *gw;
	struct gw_link *next;
	char name[CFG_NAME_MAX];
	char ifname[IF_NAMESIZE];
	char local[INET6_ADDRSTRLEN];
	char waiting[64];	   /* why there is no plink yet (status) */
	char last_down[96];	   /* why it last left the bundle (status) */
	const struct cfg_link *cl; /* static link, else a modem link */
	int slot;
	bool admin_up;
	bool policy; /* route_link_policy added */
	struct route_addr pol_local;
	int fd;
	struct loop_io *io;
	struct plink *pl;
	bool finished;		/* plink went Dead: tear down in the tick */
	uint64_t dead_since_ms; /* silent (out of the schedule) since */
	uint64_t retry_ms;	/* setup again at this time (0: now) */
};

struct gateway;

/* gateway_ncp.c: IPCP + IPV6CP on the bundle, the TUN's addresses. */
int gw_ncp_init(struct gateway *gw);
void gw_ncp_free(struct gateway *gw);
void gw_ncp_start(struct gateway *gw); /* the first link joined */
void gw_ncp_stop(struct gateway *gw);  /* the bundle goes */
void gw_ncp_tick(struct gateway *gw);  /* restart a finished NCP */
void gw_ncp_close(struct gateway *gw, const char *reason);
/* May packets of proto (PPP_PROTO_IP, PPP_PROTO_IPV6) pass? */
bool gw_ncp_accepts(const struct gateway *gw, uint16_t proto);

static inline size_t gw_members(const struct bundle *b)
{
	struct bundle_stats st;
	bundle_get_stats(b, &st);
	return st.members;
}

struct gateway {
	struct daemon *d;
	const struct cfg_bundle *cfg;
	struct pclock clk;
	struct route_nl *rt;
	struct secrets *sec;
	char our_name[CFG_PPP_NAME_MAX];
	bool has_ed;
	struct lcp_ed ed;
	struct sockaddr_storage rx_addr;
	socklen_t rx_len;
	char rx_str[UDP_ADDRSTRLEN];

	int tun_fd;
	char tun_name[IF_NAMESIZE];
	int tun_ifindex;
	struct loop_io *tun_io;
	uint8_t *tun_buf;

	struct bundle *b;
	uint64_t empty_since_ms; /* bundle without members since, 0: has some */
	struct ipcp *ipcp;
	struct loop_timer *ipcp_timer;
	bool ipcp_failed; /* restart it in the tick */
	bool tun_up;	  /* IPCP up: IPv4 address on the TUN */
	uint32_t local, peer;
	uint32_t dns[2]; /* from IPCP (RFC 1877), 0: none; status only */

	struct ipv6cp *ipv6cp;
	struct loop_timer *ipv6cp_timer;
	bool ipv6cp_failed; /* restart it in the tick */
	bool ipv6cp_off;    /* the peer does not do IPv6: not for this bundle */
	bool has_ipv6;	    /* the kernel has IPv6 on the TUN */
	bool tun6_up;	    /* IPV6CP up: fe80::iid/64 on the TUN */
	uint8_t iid[8], peer_iid[8];
	bool link_up; /* TUN device up (either NCP up) */

	struct gw_link *links;
	uint32_t slots; /* bitmask of used slots */
	uint32_t next_id;
	struct udp_batch *rxb;
	struct loop_timer *tick;

	uint64_t drop_blocked, drop_down, drop_other, tun_write_errors;
	struct ratelimit rl_send, rl_tun;

	bool stopping;
	void (*done)(void *data);
	void *done_data;
	struct loop_timer *stop_timer;
};
