/* mpload: many simulated bundle gateways in one process, one epoll loop,
 * against a real modemd receiver over real UDP. Each gateway is the
 * project's own protocol stack (plink + bundle + ipcp from modemd_core,
 * driven the way modemd/gateway.c drives them): one UDP socket per link,
 * LCP with MRRU and a per-gateway Endpoint Discriminator, CHAP-MD5 (or PAP)
 * with a per-gateway user and secret, MP bundle join, IPCP for an address,
 * LCP echoes, then MP-fragmented IPv4/UDP packets at a paced aggregate rate.
 *
 * Split by concern: mload_clock.c (timer heap behind a struct pclock, so
 * thousands of protocol timers cost no file descriptors here),
 * mload_gw.c (gateways and links), mload_data.c (packets and pacing),
 * mpload.c (options, loop, control on stdin, stats). */
#pragma once
#include "bundle.h"
#include "config.h"
#include "ipcp.h"
#include "plink.h"
#include "secrets.h"

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ML_MAX_LINKS 16
#define ML_MAX_SRC   64

/* ---- mload_clock.c: one-shot timers in a binary heap ---- */

struct ml_clock;
struct ml_clock *ml_clock_new(void);
struct ml_clock *ml_clock_free(struct ml_clock *c);
/* A struct pclock whose timers live in c. */
void ml_clock_pclock(struct ml_clock *c, struct pclock *out);
uint64_t ml_now_us(void);
/* Run every timer due by now; returns how many ran. */
unsigned ml_clock_run(struct ml_clock *c);
/* Microseconds until the next timer (UINT64_MAX: none). */
uint64_t ml_clock_next_us(const struct ml_clock *c);
size_t ml_clock_count(const struct ml_clock *c); /* timers that exist */
/* Worst lateness of a timer (ran after its deadline) since the last call:
 * shows whether the generator itself kept up. */
uint64_t ml_clock_take_lag_us(struct ml_clock *c);

/* Plain handles for the owner's own timers (IPCP). */
void *ml_timer_new(struct ml_clock *c, ptimer_fn fn, void *arg);
void ml_timer_arm(void *t, uint64_t ms);
void ml_timer_cancel(void *t);
void ml_timer_free(void *t);

/* ---- options ---- */

struct ml_opts {
	struct sockaddr_in rx;		/* receiver address:port */
	struct in_addr src[ML_MAX_SRC]; /* local addresses, links spread over them */
	unsigned n_src;
	unsigned gateways, links;
	unsigned first;		   /* number of the first gateway (users user<first>...) */
	const char *user_prefix;   /* user name = prefix + number */
	const char *secret_prefix; /* secret = prefix + number */
	bool pap;		   /* offer PAP instead of CHAP-MD5 */
	unsigned echo_ms;	   /* LCP echo interval (gateway default 200) */
	unsigned ramp_per_s;	   /* links started per second */
	struct in_addr dst;	   /* destination of the data packets */
	uint16_t dport;		   /* their UDP port */
	double pps;		   /* aggregate packets per second, 0: idle */
	unsigned size;		   /* IP packet size, bytes */
	double duration_s;	   /* exit after this long (0: until quit) */
	unsigned seed;		   /* Endpoint Discriminator salt */
	bool verbose;
};

/* ---- mload_gw.c ---- */

struct mload;
struct mgw;

struct mlink {
	struct mgw *gw;
	unsigned k; /* 0..links-1 */
	int fd;
	struct plink *pl;
	char name[PLINK_NAME_MAX];
	bool started, joined, finished;
	uint64_t retry_us; /* reopen at (after Dead) */
};

struct mgw {
	struct mload *ml;
	unsigned idx; /* 0-based */
	char user[64], secret[64];
	struct lcp_ed ed;
	struct secrets *sec;
	struct bundle *b;
	struct ipcp *ipcp;
	void *ipcp_timer;
	bool ipcp_failed;
	uint32_t addr, peer; /* IPCP (host order), 0: not yet */
	unsigned joined;
	uint64_t joined_us, ipcp_us; /* all links joined / IPCP up, since start */
	uint8_t pkt[2048];	     /* the data packet, built at IPCP up */
	struct mlink link[ML_MAX_LINKS];
};

struct ml_stats {
	uint64_t tx_pkts, tx_bytes;	/* IP packets handed to the bundles */
	uint64_t tx_refused;		/* bundle_send errors (no member, ...) */
	uint64_t gen_skipped;		/* packets the pacer gave up on (fell behind) */
	uint64_t rx_dgrams, rx_bytes;	/* datagrams from the receiver */
	uint64_t send_errors;		/* socket send failures (EAGAIN, ...) */
	uint64_t link_downs, reopens;	/* links that left Network / were reopened */
	uint64_t link_dead, link_alive; /* liveness: receiver went silent / came back */
	uint64_t ipcp_restarts;
	uint64_t delivered_pkts; /* IP packets the receiver sent us (bundles) */
};

struct mload {
	struct ml_opts o;
	struct ml_clock *clk;
	struct pclock pclk;
	struct config *cfg; /* config_bundle_defaults: the gateway's own defaults */
	int ep;
	struct mgw *gw;
	struct udp_batch *rxb;
	uint64_t t0_us;
	unsigned started_links, next_start;
	uint64_t auth_done_us, up_done_us; /* all links joined / all IPCP up (0: not yet) */
	bool up_reported;
	struct ml_stats st;
	/* pacing (mload_data.c) */
	uint64_t rate_t0_us;
	double rate_sent;
	unsigned rr; /* round robin over gateways */
};

int ml_gw_init(struct mload *ml);
void ml_gw_free(struct mload *ml);
/* Start links up to the ramp; reopen finished ones; restart failed IPCP. */
void ml_gw_tick(struct mload *ml, uint64_t now);
/* A link socket is readable. */
void ml_link_io(struct mload *ml, struct mlink *l);
unsigned ml_links_joined(const struct mload *ml);
unsigned ml_gateways_up(const struct mload *ml); /* IPCP up */

/* ---- mload_data.c ---- */

void ml_data_build(struct mgw *g); /* the gateway's packet template */
void ml_data_set_rate(struct mload *ml, double pps, unsigned size);
/* Send what the pacer owes by now; returns ms until more is due (-1: idle). */
int ml_data_run(struct mload *ml, uint64_t now);
