/* Receiver side of the bundle: listener -> per-source plink -> per-gateway
 * bundle -> shared TUN, and back. See receiver.h. Bundles, IPCP and the
 * TUN live in receiver_bundle.c. */
#include "receiver-internal.h"

#include "daemon.h"
#include "log.h"
#include "loop.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

/* ---- source address -> link ---- */

static const uint8_t *src_key(const struct sockaddr_storage *ss, size_t *len, uint16_t *port)
{
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const void *)ss;
		*len = 4;
		*port = s4->sin_port;
		return (const uint8_t *)&s4->sin_addr;
	}
	const struct sockaddr_in6 *s6 = (const void *)ss;
	*len = 16;
	*port = s6->sin6_port;
	return (const uint8_t *)&s6->sin6_addr;
}

static size_t src_hash(const struct sockaddr_storage *ss)
{
	size_t n;
	uint16_t port;
	const uint8_t *k = src_key(ss, &n, &port);
	uint32_t h = 2166136261u ^ port;
	for (size_t i = 0; i < n; i++)
		h = (h ^ k[i]) * 16777619u;
	return h % RX_HASH;
}

static bool src_equal(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	size_t na, nb;
	uint16_t pa, pb;
	if (a->ss_family != b->ss_family)
		return false;
	const uint8_t *ka = src_key(a, &na, &pa), *kb = src_key(b, &nb, &pb);
	return pa == pb && !memcmp(ka, kb, na);
}

static struct rx_link *link_lookup(struct receiver *rx, const struct sockaddr_storage *ss)
{
	for (struct rx_link *l = rx->hash[src_hash(ss)]; l; l = l->hnext)
		if (src_equal(&l->peer, ss))
			return l;
	return NULL;
}

/* ---- links ---- */

static int link_send(void *ctx, struct plink *pl, const uint8_t *dgram, size_t len)
{
	struct rx_link *l = ctx;
	struct receiver *rx = l->rx;
	struct udp_msg *m = &rx->txb->msg[0];
	(void)pl;
	/* The batch's own buffer is not used for sends: point at the frame. */
	uint8_t *own = m->data;
	size_t cap = m->cap;
	m->data = (uint8_t *)dgram;
	m->len = len;
	m->peer = l->peer;
	m->peer_len = l->peer_len;
	m->local = l->local;
	int r = udp_send_batch(rx->fd, rx->txb, 1);
	m->data = own;
	m->cap = cap;
	if (r == 0)
		return -EAGAIN;
	if (r < 0 && ratelimit_ok(&rx->rl_send, now_ms(), 2))
		log_debug("receiver[%s]: send: %s", l->name, strerror(-r));
	return r < 0 ? r : 0;
}

static void link_authenticated(void *ctx, struct plink *pl, const char *peer_name,
			       const struct lcp_ed *peer_ed, const struct lcp_result *res)
{
	struct rx_link *l = ctx;
	(void)res;
	if (!l->authed) {
		l->authed = true;
		l->rx->n_unauth--;
	}
	rx_bundle_join(l, pl, peer_name, peer_ed);
}

static void link_dead(void *ctx, struct plink *pl)
{
	struct rx_link *l = ctx;
	(void)pl;
	l->dead_since_ms = now_ms();
	log_info("receiver[%s]: link silent: out of the schedule", l->name);
}

static void link_alive(void *ctx, struct plink *pl)
{
	struct rx_link *l = ctx;
	(void)pl;
	l->dead_since_ms = 0;
	log_info("receiver[%s]: link alive again", l->name);
}

static void link_down(void *ctx, struct plink *pl, const char *reason)
{
	struct rx_link *l = ctx;
	(void)pl;
	if (l->authed || ratelimit_ok(&l->rx->rl_auth, now_ms(), 5))
		log_info("receiver[%s]: down: %s", l->name, reason);
	rx_bundle_left(l);
}

static void link_finished(void *ctx, struct plink *pl)
{
	struct rx_link *l = ctx;
	(void)pl;
	l->doomed = true; /* freed by the reaper, never inside a plink callback */
	loop_timer_arm(l->rx->reaper, 0);
}

static const struct plink_ops rx_link_ops = {
    .send = link_send,
    .authenticated = link_authenticated,
    .link_dead = link_dead,
    .link_alive = link_alive,
    .down = link_down,
    .finished = link_finished,
};

void rx_link_free(struct rx_link *l)
{
	struct receiver *rx = l->rx;
	rx_bundle_left(l);
	l->pl = plink_free(l->pl);
	for (struct rx_link **pp = &rx->hash[src_hash(&l->peer)]; *pp; pp = &(*pp)->hnext)
		if (*pp == l) {
			*pp = l->hnext;
			break;
		}
	for (struct rx_link **pp = &rx->links; *pp; pp = &(*pp)->next)
		if (*pp == l) {
			*pp = l->next;
			break;
		}
	if (!l->authed)
		rx->n_unauth--;
	rx->n_links--;
	free(l);
}

/* Only an LCP Configure-Request (FF 03 C0 21 01) may create state: random
 * datagrams and stray MP/echo frames from forgotten sources cost nothing. */
static bool looks_like_lcp_confreq(const uint8_t *p, size_t n)
{
	return n >= 8 && p[0] == 0xff && p[1] == 0x03 && p[2] == 0xc0 && p[3] == 0x21 && p[4] == 1;
}

static struct rx_link *link_new(struct receiver *rx, const struct udp_msg *m)
{
	uint64_t now = now_ms();
	if (rx->stopping)
		return NULL;
	if (rx->n_unauth >= rx->cfg->max_unauthenticated) {
		rx->dropped_full++;
		if (ratelimit_ok(&rx->rl_full, now, 1)) {
			char s[UDP_ADDRSTRLEN];
			log_warn("receiver: %u sources negotiating already (max_unauthenticated): "
				 "ignoring %s (%u more not logged)",
				 rx->n_unauth, udp_addr_str((const void *)&m->peer, s, sizeof(s)),
				 rx->rl_full.missed);
		}
		return NULL;
	}
	struct rx_link *l = calloc(1, sizeof(*l));
	if (!l)
		return NULL;
	l->rx = rx;
	l->peer = m->peer;
	l->peer_len = m->peer_len;
	/* Before plink_open: our first Configure-Request must leave from the
	 * address the gateway talks to, or its connected socket drops it. */
	l->local = m->local;
	l->created_ms = now;
	udp_addr_str((const void *)&m->peer, l->name, sizeof(l->name));
	struct plink_config pc;
	bd_plink_config(&pc, &rx->cfg->ppp, rx->our_name, rx->has_ed, &rx->ed);
	pc.id = ++rx->next_id;
	pc.name = l->name;
	pc.secrets = rx->sec;
	pc.mru = rx->mru;
	pc.feedback_interval_ms = PLINK_FEEDBACK_MS;
	l->pl = plink_new(&pc, &rx_link_ops, l, &rx->clk);
	if (!l->pl) {
		free(l);
		return NULL;
	}
	size_t h = src_hash(&l->peer);
	l->hnext = rx->hash[h];
	rx->hash[h] = l;
	l->next = rx->links;
	rx->links = l;
	rx->n_links++;
	rx->n_unauth++;
	if (ratelimit_ok(&rx->rl_new, now, 5))
		log_info("receiver[%s]: new source", l->name);
	plink_open(l->pl);
	return l;
}

static void listener_io(struct loop_io *io, int fd, uint32_t events, void *data)
{
	struct receiver *rx = data;
	struct udp_batch *b = rx->rxb;
	(void)io;
	(void)events;
	for (int round = 0; round < 8; round++) {
		int n = udp_recv_batch(fd, b);
		if (n <= 0)
			return;
		for (int i = 0; i < n; i++) {
			struct udp_msg *m = &b->msg[i];
			struct rx_link *l = link_lookup(rx, &m->peer);
			if (m->truncated) {
				rx->dropped_garbage++;
				continue;
			}
			if (!l) {
				if (!looks_like_lcp_confreq(m->data, m->len)) {
					rx->dropped_garbage++;
					continue;
				}
				if (!(l = link_new(rx, m)))
					continue;
			}
			if (l->doomed)
				continue;
			/* Reply from the address the gateway talks to. */
			if (m->local.ss_family)
				l->local = m->local;
			int r = plink_input(l->pl, m->data, m->len);
			if (r == -EBADMSG && ratelimit_ok(&rx->rl_garbage, now_ms(), 2))
				log_info("receiver[%s]: malformed frame discarded", l->name);
		}
		if ((unsigned)n < b->count)
			return;
	}
}

/* Reaper: free links whose plink went Dead (deferred out of callbacks). */
static void reaper(struct loop_timer *t, void *data)
{
	struct receiver *rx = data;
	(void)t;
	for (struct rx_link *l = rx->links, *next; l; l = next) {
		next = l->next;
		if (l->doomed)
			rx_link_free(l);
	}
	if (rx->stopping)
		rx_stop_check(rx);
}

/* Housekeeping: unauthenticated sources past their time, links dead too
 * long, bundles empty past the grace period. */
static void tick(struct loop_timer *t, void *data)
{
	struct receiver *rx = data;
	uint64_t now = now_ms();
	loop_timer_arm(t, RX_TICK_MS);
	for (struct rx_link *l = rx->links, *next; l; l = next) {
		next = l->next;
		if (!l->authed && !l->doomed &&
		    now - l->created_ms >= rx->cfg->unauthenticated_timeout_ms) {
			if (ratelimit_ok(&rx->rl_auth, now, 5))
				log_info("receiver[%s]: not authenticated within %u ms: dropped",
					 l->name, rx->cfg->unauthenticated_timeout_ms);
			rx_link_free(l);
			continue;
		}
		if (l->dead_since_ms && !l->doomed && now - l->dead_since_ms >= RX_DEAD_CLOSE_MS) {
			l->dead_since_ms = 0;
			plink_close(l->pl, "link silent too long");
		}
	}
	rx_bundles_tick(rx, now);
}

/* ---- lifecycle ---- */

static int build_secrets(struct receiver *rx)
{
	const struct cfg_receiver *c = rx->cfg;
	if (!(rx->sec = secrets_new()))
		return -ENOMEM;
	for (size_t i = 0; i < c->n_users; i++) {
		const struct cfg_user *u = &c->users[i];
		if (!u->secret[0])
			continue;
		/* The gateway authenticates to us, and we to it when it asks. */
		int r = secrets_add(rx->sec, u->name, "*", u->secret);
		if (r >= 0)
			r = secrets_add(rx->sec, rx->our_name, u->name, u->secret);
		if (r < 0)
			return log_errno(r, "receiver: user %s: %s", u->name, strerror(-r));
	}
	if (c->ppp.secrets_file[0]) {
		char err[256] = "";
		int r = secrets_load_file(rx->sec, c->ppp.secrets_file, 0, err, sizeof(err));
		if (r < 0)
			return log_errno(r, "receiver: %s", err);
		log_info("receiver: %d secret(s) from %s", r, c->ppp.secrets_file);
	}
	return 0;
}

struct receiver *receiver_new(struct daemon *d, int *err)
{
	struct receiver *rx = calloc(1, sizeof(*rx));
	int r = -ENOMEM;
	if (!rx)
		goto fail;
	rx->d = d;
	rx->cfg = &d->cfg.receiver;
	rx->fd = rx->tun_fd = -1;
	pclock_loop(&rx->clk, d->loop);
	bd_our_name(&rx->cfg->ppp, rx->our_name, sizeof(rx->our_name));
	bd_endpoint(&rx->cfg->ppp, &rx->has_ed, &rx->ed);
	if ((r = build_secrets(rx)) < 0)
		goto fail;
	char host[INET6_ADDRSTRLEN];
	config_addr_to_string(&rx->cfg->listen, host, sizeof(host));
	rx->fd = udp_listen(host[0] ? host : "0.0.0.0", (uint16_t)rx->cfg->ppp.port, &r);
	if (rx->fd < 0) {
		log_err("receiver: cannot listen on %s port %u: %s", host, rx->cfg->ppp.port,
			strerror(-r));
		goto fail;
	}
	/* The largest datagram a gateway may send us: the interface MTU is not
	 * known per source; 1500 minus the bigger (IPv6) overhead is safe. */
	rx->mru = 1500 - 48;
	if ((r = rx_tun_open(rx)) < 0)
		goto fail;
	r = -ENOMEM;
	rx->rxb = udp_batch_new(RX_BATCH, PLINK_MAX_FRAME + 1);
	rx->txb = udp_batch_new(1, 16);
	rx->io = loop_io_add(d->loop, rx->fd, EPOLLIN, listener_io, rx);
	rx->tick = loop_timer_new(d->loop, tick, rx);
	rx->reaper = loop_timer_new(d->loop, reaper, rx);
	if (!rx->rxb || !rx->txb || !rx->io || !rx->tick || !rx->reaper)
		goto fail;
	loop_timer_arm(rx->tick, RX_TICK_MS);
	log_info("receiver: %s listening on %s port %u, TUN %s", rx->our_name,
		 host[0] ? host : "0.0.0.0", rx->cfg->ppp.port, rx->tun_name);
	if (err)
		*err = 0;
	return rx;
fail:
	receiver_free(rx);
	if (err)
		*err = r;
	return NULL;
}

struct receiver *receiver_free(struct receiver *rx)
{
	if (!rx)
		return NULL;
	while (rx->links)
		rx_link_free(rx->links);
	rx_bundles_free(rx);
	rx->io = loop_io_del(rx->io);
	if (rx->fd >= 0)
		close(rx->fd);
	rx_tun_close(rx);
	rx->tick = loop_timer_free(rx->tick);
	rx->reaper = loop_timer_free(rx->reaper);
	rx->stop_timer = loop_timer_free(rx->stop_timer);
	rx->rxb = udp_batch_free(rx->rxb);
	rx->txb = udp_batch_free(rx->txb);
	rx->sec = secrets_free(rx->sec);
	free(rx);
	return NULL;
}

static void stop_now(struct receiver *rx)
{
	void (*done)(void *) = rx->done;
	rx->done = NULL;
	loop_timer_disarm(rx->stop_timer);
	if (done)
		done(rx->done_data);
}

void rx_stop_check(struct receiver *rx)
{
	for (struct rx_link *l = rx->links; l; l = l->next)
		if (!l->doomed && plink_phase(l->pl) != PLINK_DEAD)
			return;
	stop_now(rx);
}

static void stop_timeout(struct loop_timer *t, void *data)
{
	(void)t;
	log_warn("receiver: no Terminate-Ack from every link; exiting anyway");
	stop_now(data);
}

void receiver_shutdown(struct receiver *rx, void (*done)(void *data), void *data)
{
	rx->stopping = true;
	rx->done = done;
	rx->done_data = data;
	rx_bundles_close(rx);
	for (struct rx_link *l = rx->links; l; l = l->next)
		if (!l->doomed && plink_phase(l->pl) != PLINK_DEAD)
			plink_close(l->pl, "modemd exiting");
	rx->stop_timer = loop_timer_new(rx->d->loop, stop_timeout, rx);
	if (rx->stop_timer)
		loop_timer_arm(rx->stop_timer, RX_STOP_MS);
	rx_stop_check(rx);
}
