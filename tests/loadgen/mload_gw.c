/* Simulated gateways: per gateway a secrets table, a bundle and an IPCP
 * client; per link a connected UDP socket and a plink. Mirrors
 * modemd/gateway.c (link_setup, link_authenticated, bundle_get) and
 * modemd/gateway_ncp.c (ipcp_start) without the TUN, routes and policy
 * routing, which only matter to the gateway's host. */
#include "mload.h"

#include "gateway.h"
#include "ppp_proto.h"
#include "udp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define ML_RETRY_MS 2000 /* reopen a link that went Dead (GW_RETRY_MS) */

static uint64_t since_start(const struct mload *ml)
{
	return ml_now_us() - ml->t0_us;
}

/* ---- the bundle: what the receiver sends the gateway ---- */

static void gw_deliver(void *ctx, struct bundle *b, uint16_t proto, const uint8_t *pkt, size_t len)
{
	struct mgw *g = ctx;
	(void)b;
	(void)proto;
	(void)pkt;
	(void)len;
	g->ml->st.delivered_pkts++;
}

static const struct bundle_ops gw_bundle_ops = {.deliver = gw_deliver};

/* ---- IPCP client (gateway_ncp.c ipcp_start) ---- */

static void ipcp_tx(void *ctx, const uint8_t *pkt, size_t len)
{
	struct mgw *g = ctx;
	if (g->b)
		bundle_send(g->b, PPP_PROTO_IPCP, pkt, len);
}

static void ipcp_arm(void *ctx, uint32_t ms)
{
	ml_timer_arm(((struct mgw *)ctx)->ipcp_timer, ms);
}

static void ipcp_cancel(void *ctx)
{
	ml_timer_cancel(((struct mgw *)ctx)->ipcp_timer);
}

static void ipcp_fire(void *arg)
{
	struct mgw *g = arg;
	if (g->ipcp)
		ipcp_timeout(g->ipcp);
}

static void ipcp_on_up(void *ctx, uint32_t local, uint32_t peer, uint32_t dns1, uint32_t dns2)
{
	struct mgw *g = ctx;
	(void)dns1;
	(void)dns2;
	g->addr = local;
	g->peer = peer;
	if (!g->ipcp_us)
		g->ipcp_us = since_start(g->ml);
	ml_data_build(g);
	if (g->ml->o.verbose) {
		char a[16];
		fprintf(stderr, "mpload: %s: IPCP up, address %s\n", g->user,
			ipcp_addr_str(local, a, sizeof(a)));
	}
}

static void ipcp_on_down(void *ctx)
{
	((struct mgw *)ctx)->addr = 0;
}

static void ipcp_on_finished(void *ctx, const char *reason)
{
	struct mgw *g = ctx;
	g->addr = 0;
	g->ipcp_failed = true; /* restarted in the tick, not in here */
	if (g->ml->o.verbose)
		fprintf(stderr, "mpload: %s: IPCP finished: %s\n", g->user,
			reason ? reason : "closed");
}

static const struct ipcp_ops gw_ipcp_ops = {
    .io = {.tx = ipcp_tx, .timer_arm = ipcp_arm, .timer_cancel = ipcp_cancel},
    .up = ipcp_on_up,
    .down = ipcp_on_down,
    .finished = ipcp_on_finished,
};

static void ipcp_input_cb(void *ncp, const uint8_t *pkt, size_t len)
{
	struct mgw *g = ncp;
	if (g->ipcp)
		ipcp_input(g->ipcp, pkt, len);
}

static void ipcp_start(struct mgw *g)
{
	if (g->ipcp || !g->b)
		return;
	struct ipcp_config c;
	ipcp_config_default(&c);
	c.role = IPCP_CLIENT;
	c.ask_dns = true;
	g->ipcp = ipcp_new(bundle_name(g->b), &c, &gw_ipcp_ops, g);
	if (!g->ipcp)
		return;
	g->ipcp_failed = false;
	bundle_set_ncp_handler(g->b, PPP_PROTO_IPCP, ipcp_input_cb, g);
	ipcp_open(g->ipcp);
	ipcp_up(g->ipcp);
}

static void ipcp_stop(struct mgw *g)
{
	if (g->ipcp_timer)
		ml_timer_cancel(g->ipcp_timer);
	if (g->b)
		bundle_set_ncp_handler(g->b, PPP_PROTO_IPCP, NULL, NULL);
	g->ipcp = ipcp_free(g->ipcp);
	g->addr = 0;
}

/* ---- links (gateway.c link_* callbacks) ---- */

static int link_send(void *ctx, struct plink *pl, const uint8_t *dgram, size_t len)
{
	struct mlink *l = ctx;
	(void)pl;
	if (send(l->fd, dgram, len, MSG_DONTWAIT | MSG_NOSIGNAL) >= 0)
		return 0;
	l->gw->ml->st.send_errors++;
	return -errno;
}

static void link_authenticated(void *ctx, struct plink *pl, const char *peer_name,
			       const struct lcp_ed *peer_ed, const struct lcp_result *res)
{
	struct mlink *l = ctx;
	struct mgw *g = l->gw;
	(void)res;
	if (g->b && !bundle_matches(g->b, peer_name, peer_ed)) {
		plink_close(pl, "wrong peer for this bundle");
		return;
	}
	if (!g->b) {
		struct bundle_config bc;
		bundle_config_default(&bc);
		bc.name = g->user;
		g->b = bundle_new(&bc, &gw_bundle_ops, g, &g->ml->pclk);
		if (!g->b) {
			plink_close(pl, "out of memory");
			return;
		}
		const struct cfg_ppp *pp = &g->ml->cfg->bundle.ppp;
		bundle_set_policy(g->b, pp->policy, pp->redundancy);
		bundle_set_peer(g->b, peer_name, peer_ed);
	}
	const char *why = NULL;
	int r = bundle_attach(g->b, pl, &why);
	if (r < 0) {
		fprintf(stderr, "mpload: %s: refused by the bundle: %s\n", l->name,
			why ? why : strerror(-r));
		plink_close(pl, why ? why : "refused by the bundle");
		return;
	}
	l->joined = true;
	if (++g->joined == g->ml->o.links && !g->joined_us)
		g->joined_us = since_start(g->ml);
	ipcp_start(g);
}

static void link_down(void *ctx, struct plink *pl, const char *reason)
{
	struct mlink *l = ctx;
	(void)pl;
	if (l->joined) {
		l->joined = false;
		l->gw->joined--;
	}
	l->gw->ml->st.link_downs++;
	if (l->gw->ml->o.verbose)
		fprintf(stderr, "mpload: %s: down: %s\n", l->name, reason);
}

static void link_finished(void *ctx, struct plink *pl)
{
	struct mlink *l = ctx;
	(void)pl;
	l->finished = true; /* freed and reopened in the tick, never in here */
	l->retry_us = ml_now_us() + ML_RETRY_MS * 1000;
}

static void link_dead(void *ctx, struct plink *pl)
{
	(void)pl;
	((struct mlink *)ctx)->gw->ml->st.link_dead++;
}

static void link_alive(void *ctx, struct plink *pl)
{
	(void)pl;
	((struct mlink *)ctx)->gw->ml->st.link_alive++;
}

static const struct plink_ops gw_link_ops = {
    .send = link_send,
    .authenticated = link_authenticated,
    .link_dead = link_dead,
    .link_alive = link_alive,
    .down = link_down,
    .finished = link_finished,
    .random32 = bd_random32,
};

static int link_socket(struct mload *ml, struct mlink *l)
{
	unsigned n = l->gw->idx * ml->o.links + l->k;
	struct sockaddr_in src = {.sin_family = AF_INET, .sin_addr = ml->o.src[n % ml->o.n_src]};
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* Distinct source port per link: the receiver keys links by address:port. */
	if (bind(fd, (struct sockaddr *)&src, sizeof(src)) < 0 ||
	    connect(fd, (struct sockaddr *)&ml->o.rx, sizeof(ml->o.rx)) < 0) {
		int r = -errno;
		close(fd);
		return r;
	}
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = l};
	if (epoll_ctl(ml->ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
		int r = -errno;
		close(fd);
		return r;
	}
	return fd;
}

static int link_open(struct mload *ml, struct mlink *l)
{
	struct mgw *g = l->gw;
	if (l->fd < 0) {
		int fd = link_socket(ml, l);
		if (fd < 0)
			return fd;
		l->fd = fd;
	}
	struct plink_config pc;
	bd_plink_config(&pc, &ml->cfg->bundle.ppp, g->user, true, &g->ed);
	pc.id = l->k + 1;
	pc.name = l->name;
	pc.secrets = g->sec;
	/* veth MTU 1500 minus IPv4 + UDP (udp_payload_mtu on the real one). */
	pc.mru = 1500 - 28;
	l->pl = plink_new(&pc, &gw_link_ops, l, &ml->pclk);
	if (!l->pl)
		return -ENOMEM;
	l->finished = false;
	l->started = true;
	plink_open(l->pl);
	return 0;
}

void ml_link_io(struct mload *ml, struct mlink *l)
{
	struct udp_batch *b = ml->rxb;
	for (int round = 0; round < 4 && l->pl; round++) {
		int n = udp_recv_batch(l->fd, b);
		if (n <= 0)
			return; /* an ICMP error (no receiver yet): LCP retries */
		for (int i = 0; i < n && l->pl; i++) {
			if (b->msg[i].truncated)
				continue;
			ml->st.rx_dgrams++;
			ml->st.rx_bytes += b->msg[i].len;
			plink_input(l->pl, b->msg[i].data, b->msg[i].len);
		}
		if ((unsigned)n < b->count)
			return;
	}
}

/* ---- lifecycle ---- */

static int gw_init(struct mload *ml, struct mgw *g, unsigned idx)
{
	unsigned num = ml->o.first + idx;
	g->ml = ml;
	g->idx = idx;
	snprintf(g->user, sizeof(g->user), "%s%u", ml->o.user_prefix, num);
	snprintf(g->secret, sizeof(g->secret), "%s%u", ml->o.secret_prefix, num);
	/* A magic-number block unique per gateway (RFC 1990 §5.1.3), as the
	 * real gateway derives one from /etc/machine-id. */
	g->ed = (struct lcp_ed){.class = LCP_ED_MAGIC, .len = 16};
	uint32_t words[4] = {htonl(0x6d706c64), htonl(ml->o.seed), htonl(num), htonl(~num)};
	memcpy(g->ed.addr, words, sizeof(words));
	if (!(g->sec = secrets_new()))
		return -ENOMEM;
	/* gateway.c build_secrets: we answer with it, and check the peer with it. */
	int r = secrets_add(g->sec, g->user, "*", g->secret);
	if (r >= 0)
		r = secrets_add(g->sec, "*", g->user, g->secret);
	if (r < 0)
		return r;
	if (!(g->ipcp_timer = ml_timer_new(ml->clk, ipcp_fire, g)))
		return -ENOMEM;
	for (unsigned k = 0; k < ml->o.links; k++) {
		struct mlink *l = &g->link[k];
		l->gw = g;
		l->k = k;
		l->fd = -1;
		snprintf(l->name, sizeof(l->name), "%.16s/%u", g->user, (k + 1) % 100);
	}
	return 0;
}

int ml_gw_init(struct mload *ml)
{
	struct cfg_ppp *pp;
	if (!(ml->cfg = calloc(1, sizeof(*ml->cfg))) || config_init_defaults(ml->cfg) < 0)
		return -ENOMEM;
	/* The gateway's defaults (mode gateway), with our echo interval and auth. */
	pp = &ml->cfg->bundle.ppp;
	pp->echo_interval_ms = ml->o.echo_ms;
	if (pp->dead_timeout_ms <= pp->echo_interval_ms)
		pp->dead_timeout_ms = 5 * pp->echo_interval_ms;
	pp->accept_auth = ml->o.pap ? LCP_AUTH_PAP : LCP_AUTH_CHAP_MD5;
	pp->require_auth = 0;
	if (!(ml->gw = calloc(ml->o.gateways, sizeof(*ml->gw))))
		return -ENOMEM;
	if (!(ml->rxb = udp_batch_new(32, PLINK_MAX_FRAME + 1)))
		return -ENOMEM;
	for (unsigned i = 0; i < ml->o.gateways; i++) {
		int r = gw_init(ml, &ml->gw[i], i);
		if (r < 0)
			return r;
	}
	return 0;
}

void ml_gw_free(struct mload *ml)
{
	for (unsigned i = 0; ml->gw && i < ml->o.gateways; i++) {
		struct mgw *g = &ml->gw[i];
		for (unsigned k = 0; k < ml->o.links; k++) {
			struct mlink *l = &g->link[k];
			l->pl = plink_free(l->pl);
			if (l->fd >= 0)
				close(l->fd);
		}
		ipcp_stop(g);
		g->b = bundle_free(g->b);
		ml_timer_free(g->ipcp_timer);
		g->sec = secrets_free(g->sec);
	}
	free(ml->gw);
	ml->gw = NULL;
	ml->rxb = udp_batch_free(ml->rxb);
	if (ml->cfg) {
		config_release(ml->cfg);
		free(ml->cfg);
		ml->cfg = NULL;
	}
}

void ml_gw_tick(struct mload *ml, uint64_t now)
{
	unsigned total = ml->o.gateways * ml->o.links;
	/* Ramp: links start in the order gateway 0 link 1..L, gateway 1 ... */
	uint64_t allowed =
	    ml->o.ramp_per_s ? (now - ml->t0_us) * ml->o.ramp_per_s / 1000000 + 1 : total;
	while (ml->next_start < total && ml->next_start < allowed) {
		unsigned n = ml->next_start++;
		struct mlink *l = &ml->gw[n / ml->o.links].link[n % ml->o.links];
		int r = link_open(ml, l);
		if (r < 0) {
			fprintf(stderr, "mpload: %s: cannot open: %s\n", l->name, strerror(-r));
			l->finished = true;
			l->retry_us = now + ML_RETRY_MS * 1000;
		}
		ml->started_links++;
	}
	for (unsigned i = 0; i < ml->o.gateways; i++) {
		struct mgw *g = &ml->gw[i];
		for (unsigned k = 0; k < ml->o.links; k++) {
			struct mlink *l = &g->link[k];
			if (!l->finished || now < l->retry_us)
				continue;
			l->pl = plink_free(l->pl);
			ml->st.reopens++;
			if (link_open(ml, l) < 0)
				l->retry_us = now + ML_RETRY_MS * 1000;
		}
		if (g->ipcp_failed && g->b) {
			ipcp_stop(g);
			ml->st.ipcp_restarts++;
			ipcp_start(g);
		}
	}
	if (!ml->auth_done_us && ml_links_joined(ml) == total)
		ml->auth_done_us = now - ml->t0_us;
	if (!ml->up_done_us && ml_gateways_up(ml) == ml->o.gateways)
		ml->up_done_us = now - ml->t0_us;
}

unsigned ml_links_joined(const struct mload *ml)
{
	unsigned n = 0;
	for (unsigned i = 0; i < ml->o.gateways; i++)
		n += ml->gw[i].joined;
	return n;
}

unsigned ml_gateways_up(const struct mload *ml)
{
	unsigned n = 0;
	for (unsigned i = 0; i < ml->o.gateways; i++)
		n += ml->gw[i].addr != 0;
	return n;
}
