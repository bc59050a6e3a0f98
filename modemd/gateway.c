/* Gateway side of the bundle: TUN <-> bundle <-> one plink + UDP socket per
 * link. See gateway.h and docs/architecture.md. */
#include "gateway-internal.h"

#include "bundle.h"
#include "daemon.h"
#include "ipcp.h"
#include "log.h"
#include "loop.h"
#include "ppp_proto.h"
#include "route.h"
#include "secrets.h"
#include "tun.h"
#include "udp.h"
#include "util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <json-c/json.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

static void link_teardown(struct gw_link *l);
static void stop_check(struct gateway *gw);

/* ---- the bundle ---- */

static void bundle_deliver(void *ctx, struct bundle *b, uint16_t proto, const uint8_t *pkt,
			   size_t len)
{
	struct gateway *gw = ctx;
	(void)b;
	/* Not before the packet's NCP is up (RFC 1661 §3.5): no address yet. */
	if (!gw_ncp_accepts(gw, proto)) {
		gw->drop_down++;
		return;
	}
	int r = tun_write(gw->tun_fd, pkt, len);
	if (r < 0) {
		gw->tun_write_errors++;
		if (ratelimit_ok(&gw->rl_tun, now_ms(), 1))
			log_warn("bundle: write to %s: %s", gw->tun_name, strerror(-r));
	}
}

static const struct bundle_ops gw_bundle_ops = {.deliver = bundle_deliver};

static void bundle_drop(struct gateway *gw)
{
	gw_ncp_stop(gw);
	if (gw->b)
		log_info("bundle: %s freed", bundle_name(gw->b));
	gw->b = bundle_free(gw->b);
	gw->empty_since_ms = 0;
}

static struct bundle *bundle_get(struct gateway *gw, const char *peer, const struct lcp_ed *ed)
{
	if (gw->b)
		return gw->b;
	struct bundle_config bc;
	bundle_config_default(&bc);
	bc.name = gw->cfg->ppp.tun;
	gw->b = bundle_new(&bc, &gw_bundle_ops, gw, &gw->clk);
	if (!gw->b)
		return NULL;
	bundle_set_policy(gw->b, gw->cfg->ppp.policy, gw->cfg->ppp.redundancy);
	bundle_set_peer(gw->b, peer, ed);
	return gw->b;
}

/* ---- links ---- */

static int link_send(void *ctx, struct plink *pl, const uint8_t *dgram, size_t len)
{
	struct gw_link *l = ctx;
	(void)pl;
	if (send(l->fd, dgram, len, MSG_DONTWAIT | MSG_NOSIGNAL) >= 0)
		return 0;
	int r = -errno;
	if (r != -EAGAIN && ratelimit_ok(&l->gw->rl_send, now_ms(), 2))
		log_debug("bundle[%s]: send: %s", l->name, strerror(-r));
	return r;
}

static void link_authenticated(void *ctx, struct plink *pl, const char *peer_name,
			       const struct lcp_ed *peer_ed, const struct lcp_result *res)
{
	struct gw_link *l = ctx;
	struct gateway *gw = l->gw;
	(void)res;
	if (gw->stopping) {
		plink_close(pl, "modemd exiting");
		return;
	}
	if (gw->b && !bundle_matches(gw->b, peer_name, peer_ed)) {
		log_warn(
		    "bundle[%s]: peer \"%s\" is not the bundle's peer \"%s\": closing the link",
		    l->name, peer_name, bundle_peer_name(gw->b));
		plink_close(pl, "wrong peer for this bundle");
		return;
	}
	struct bundle *b = bundle_get(gw, peer_name, peer_ed);
	const char *why = NULL;
	int r = b ? bundle_attach(b, pl, &why) : -ENOMEM;
	if (r < 0) {
		log_warn("bundle[%s]: refused by the bundle: %s", l->name,
			 why ? why : strerror(-r));
		plink_close(pl, why ? why : "refused by the bundle");
		return;
	}
	gw->empty_since_ms = 0;
	log_info("bundle[%s]: joined the bundle (peer \"%s\", %zu link(s))", l->name, peer_name,
		 gw_members(b));
	gw_ncp_start(gw);
}

static void link_dead(void *ctx, struct plink *pl)
{
	(void)pl;
	((struct gw_link *)ctx)->dead_since_ms = now_ms();
	log_warn("bundle[%s]: link silent: out of the schedule", ((struct gw_link *)ctx)->name);
}

static void link_alive(void *ctx, struct plink *pl)
{
	(void)pl;
	((struct gw_link *)ctx)->dead_since_ms = 0;
	log_info("bundle[%s]: link alive again", ((struct gw_link *)ctx)->name);
}

static void link_down(void *ctx, struct plink *pl, const char *reason)
{
	struct gw_link *l = ctx;
	(void)pl;
	log_info("bundle[%s]: left the bundle: %s", l->name, reason);
	snprintf(l->last_down, sizeof(l->last_down), "%s", reason);
	if (l->gw->b && !gw_members(l->gw->b) && !l->gw->empty_since_ms)
		l->gw->empty_since_ms = now_ms();
}

static void link_finished(void *ctx, struct plink *pl)
{
	struct gw_link *l = ctx;
	(void)pl;
	l->finished = true;
	l->retry_ms = now_ms() + GW_RETRY_MS;
	if (l->gw->stopping)
		stop_check(l->gw);
	else
		loop_timer_arm(l->gw->tick, 0);
}

static const struct plink_ops gw_link_ops = {
    .send = link_send,
    .authenticated = link_authenticated,
    .link_dead = link_dead,
    .link_alive = link_alive,
    .down = link_down,
    .finished = link_finished,
};

static void link_io(struct loop_io *io, int fd, uint32_t events, void *data)
{
	struct gw_link *l = data;
	struct udp_batch *b = l->gw->rxb;
	(void)io;
	(void)events;
	for (int round = 0; round < 4 && l->pl; round++) {
		int n = udp_recv_batch(fd, b);
		if (n <= 0) {
			/* An ICMP error (no receiver yet) comes back once: LCP retries. */
			if (n < 0 && n != -EAGAIN)
				log_debug("bundle[%s]: receive: %s", l->name, strerror(-n));
			return;
		}
		for (int i = 0; i < n && l->pl; i++)
			if (!b->msg[i].truncated)
				plink_input(l->pl, b->msg[i].data, b->msg[i].len);
		if ((unsigned)n < b->count)
			return;
	}
}

/* The interface's first address of the receiver's family. */
static int if_local_addr(const char *ifname, int family, struct route_addr *out, char *txt,
			 size_t txtlen)
{
	struct ifaddrs *ifa, *i;
	if (getifaddrs(&ifa) < 0)
		return -errno;
	int r = -EADDRNOTAVAIL;
	for (i = ifa; i; i = i->ifa_next) {
		if (!i->ifa_addr || i->ifa_addr->sa_family != family || strcmp(i->ifa_name, ifname))
			continue;
		*out = (struct route_addr){.family = family};
		if (family == AF_INET) {
			out->a.v4 = ((struct sockaddr_in *)(void *)i->ifa_addr)->sin_addr;
			out->len = 32;
		} else {
			const struct in6_addr *a6 =
			    &((struct sockaddr_in6 *)(void *)i->ifa_addr)->sin6_addr;
			if (IN6_IS_ADDR_LINKLOCAL(a6))
				continue;
			out->a.v6 = *a6;
			out->len = 128;
		}
		route_addr_str(out, txt, txtlen);
		r = 0;
		break;
	}
	freeifaddrs(ifa);
	return r;
}

/* Policy routing, socket, plink: the link starts LCP. */
static int link_setup(struct gw_link *l)
{
	struct gateway *gw = l->gw;
	int fam = gw->rx_addr.ss_family, r;
	struct route_addr local;
	r = if_local_addr(l->ifname, fam, &local, l->local, sizeof(l->local));
	if (r < 0) {
		snprintf(l->waiting, sizeof(l->waiting), "no %s address on %s",
			 fam == AF_INET ? "IPv4" : "IPv6", l->ifname);
		return r;
	}
	struct route_addr nh = {0};
	if (l->cl && l->cl->gateway.family) {
		nh.family = l->cl->gateway.family;
		nh.len = nh.family == AF_INET ? 32 : 128;
		memcpy(nh.a.raw, &l->cl->gateway.v4,
		       nh.family == AF_INET ? sizeof(struct in_addr) : sizeof(struct in6_addr));
	}
	uint32_t t = GW_TABLE_BASE + (uint32_t)l->slot;
	r = route_link_policy(gw->rt, true, l->ifname, &local, nh.family ? &nh : NULL, t, t);
	if (r < 0) {
		snprintf(l->waiting, sizeof(l->waiting), "policy routing: %s", strerror(-r));
		return r;
	}
	l->policy = true;
	l->pol_local = local;
	int err = 0;
	l->fd = udp_link_open(l->ifname, (struct sockaddr *)&gw->rx_addr, gw->rx_len, 0, &err);
	if (l->fd < 0) {
		snprintf(l->waiting, sizeof(l->waiting), "socket: %s", strerror(-err));
		log_warn("bundle[%s]: cannot open a socket on %s to %s: %s", l->name, l->ifname,
			 gw->rx_str, strerror(-err));
		return err;
	}
	int mtu = udp_payload_mtu(l->fd);
	if (mtu <= 0)
		mtu = 1500 - (fam == AF_INET ? GW_UDP_OVERHEAD_V4 : GW_UDP_OVERHEAD_V6);
	if (mtu > PLINK_MAX_FRAME)
		mtu = PLINK_MAX_FRAME;
	struct plink_config pc;
	bd_plink_config(&pc, &gw->cfg->ppp, gw->our_name, gw->has_ed, &gw->ed);
	pc.id = ++gw->next_id;
	pc.name = l->name;
	pc.secrets = gw->sec;
	pc.mru = (uint16_t)mtu;
	l->pl = plink_new(&pc, &gw_link_ops, l, &gw->clk);
	l->io = loop_io_add(gw->d->loop, l->fd, EPOLLIN, link_io, l);
	if (!l->pl || !l->io) {
		snprintf(l->waiting, sizeof(l->waiting), "out of memory");
		return -ENOMEM;
	}
	l->waiting[0] = 0;
	l->finished = false;
	l->dead_since_ms = 0;
	log_info("bundle[%s]: %s (%s) -> %s, MRU %d", l->name, l->ifname, l->local, gw->rx_str,
		 mtu);
	plink_open(l->pl);
	return 0;
}

static void link_teardown(struct gw_link *l)
{
	struct gateway *gw = l->gw;
	if (l->pl) {
		struct bundle *b = plink_bundle(l->pl);
		l->pl = plink_free(l->pl);
		if (b && !gw_members(b) && !gw->empty_since_ms)
			gw->empty_since_ms = now_ms();
	}
	l->io = loop_io_del(l->io);
	if (l->fd >= 0)
		close(l->fd);
	l->fd = -1;
	if (l->policy)
		route_link_policy(gw->rt, false, l->ifname, &l->pol_local, NULL,
				  GW_TABLE_BASE + (uint32_t)l->slot,
				  GW_TABLE_BASE + (uint32_t)l->slot);
	l->policy = false;
}

static struct gw_link *link_add(struct gateway *gw, const char *name, const char *ifname,
				const struct cfg_link *cl)
{
	int slot = -1;
	for (int i = cl ? 0 : CFG_MAX_BUNDLE_LINKS; i < GW_SLOTS && slot < 0; i++)
		if (!(gw->slots & (1u << i)))
			slot = i;
	struct gw_link *l = slot >= 0 ? calloc(1, sizeof(*l)) : NULL;
	if (!l) {
		log_err("bundle: no room for link %s", name);
		return NULL;
	}
	gw->slots |= 1u << slot;
	l->gw = gw;
	l->slot = slot;
	l->cl = cl;
	l->fd = -1;
	l->admin_up = true;
	snprintf(l->name, sizeof(l->name), "%s", name);
	snprintf(l->ifname, sizeof(l->ifname), "%s", ifname);
	l->next = gw->links;
	gw->links = l;
	return l;
}

static void link_remove(struct gw_link *l)
{
	struct gateway *gw = l->gw;
	link_teardown(l);
	for (struct gw_link **pp = &gw->links; *pp; pp = &(*pp)->next)
		if (*pp == l) {
			*pp = l->next;
			break;
		}
	gw->slots &= ~(1u << l->slot);
	free(l);
}

static struct gw_link *link_find(struct gateway *gw, const char *name)
{
	for (struct gw_link *l = gw->links; l; l = l->next)
		if (!strcmp(l->name, name) || !strcmp(l->ifname, name))
			return l;
	return NULL;
}

/* Modem manager: a pppN came up (join) or went away (leave). */
static void on_link_event(enum link_event ev, const struct link_info *li, void *data)
{
	struct gateway *gw = data;
	if (!gw->cfg->modem_links || !li->ifname)
		return;
	struct gw_link *l = link_find(gw, li->ifname);
	if (ev == LINK_EV_DOWN) {
		if (l && !l->cl) {
			log_info("bundle[%s]: modem link down (%s)", l->name,
				 li->reason ? li->reason : "");
			link_remove(l);
			if (gw->stopping)
				stop_check(gw);
		}
		return;
	}
	if (gw->stopping || (l && l->cl))
		return;
	if (l)
		link_teardown(l); /* a new address: start over */
	else if (!(l = link_add(gw, li->ifname, li->ifname, NULL)))
		return;
	if (link_setup(l) < 0) {
		log_warn("bundle[%s]: cannot join: %s", l->name, l->waiting);
		link_teardown(l);
		l->retry_ms = now_ms() + GW_RETRY_MS;
	}
}

/* Housekeeping: (re)open links, restart IPCP, drop an empty bundle. */
static void tick(struct loop_timer *t, void *data)
{
	struct gateway *gw = data;
	uint64_t now = now_ms();
	loop_timer_arm(t, GW_TICK_MS);
	if (gw->stopping)
		return;
	for (struct gw_link *l = gw->links; l; l = l->next) {
		/* The receiver forgets a link silent this long: start over. */
		if (l->pl && !l->finished && l->dead_since_ms &&
		    now - l->dead_since_ms >= GW_DEAD_CLOSE_MS) {
			l->dead_since_ms = 0;
			plink_close(l->pl, "link silent too long");
		}
		if (l->pl && l->finished) {
			link_teardown(l);
			if (!l->admin_up)
				snprintf(l->waiting, sizeof(l->waiting), "administratively down");
		}
		if (!l->pl && l->admin_up && now >= l->retry_ms) {
			char before[sizeof(l->waiting)];
			snprintf(before, sizeof(before), "%s", l->waiting);
			if (link_setup(l) < 0) {
				if (strcmp(before, l->waiting))
					log_warn("bundle[%s]: waiting: %s", l->name, l->waiting);
				link_teardown(l);
				l->retry_ms = now + GW_RETRY_MS;
			}
		}
	}
	gw_ncp_tick(gw);
	if (gw->b && gw->empty_since_ms && now - gw->empty_since_ms >= GW_GRACE_MS &&
	    !gw_members(gw->b))
		bundle_drop(gw);
}

/* ---- TUN -> bundle ---- */

static void tun_io(struct loop_io *io, int fd, uint32_t events, void *data)
{
	struct gateway *gw = data;
	(void)io;
	(void)events;
	for (int i = 0; i < GW_TUN_BURST; i++) {
		ssize_t n = tun_read(fd, gw->tun_buf, 65535);
		if (n <= 0)
			return;
		uint8_t v = gw->tun_buf[0] >> 4;
		if (v != 4 && v != 6) {
			gw->drop_other++;
			continue;
		}
		uint16_t proto = v == 4 ? PPP_PROTO_IP : PPP_PROTO_IPV6;
		if (!gw->b || !gw_ncp_accepts(gw, proto)) {
			gw->drop_down++;
			continue;
		}
		int r = bundle_send_ip(gw->b, proto, gw->tun_buf, (size_t)n);
		/* No queue yet: a packet every link refuses is dropped and
		 * counted (TCP sees a loss and slows down). */
		if (r == -EAGAIN)
			gw->drop_blocked++;
		else if (r == -ENETDOWN)
			gw->drop_down++;
		else if (r < 0)
			gw->drop_other++;
	}
}

/* ---- lifecycle ---- */

static int build_secrets(struct gateway *gw)
{
	const struct cfg_bundle *c = gw->cfg;
	gw->sec = secrets_new();
	if (!gw->sec)
		return -ENOMEM;
	if (c->secret[0]) {
		/* We answer as our_name to any server, and check the receiver
		 * (require_auth) with the same secret. */
		int r = secrets_add(gw->sec, gw->our_name, "*", c->secret);
		if (r >= 0)
			r = secrets_add(gw->sec, "*", gw->our_name, c->secret);
		if (r < 0)
			return r;
	}
	if (c->ppp.secrets_file[0]) {
		char err[256] = "";
		int r = secrets_load_file(gw->sec, c->ppp.secrets_file, 0, err, sizeof(err));
		if (r < 0)
			return log_errno(r, "bundle: %s", err);
	}
	return 0;
}

struct gateway *gateway_new(struct daemon *d, int *err)
{
	struct gateway *gw = calloc(1, sizeof(*gw));
	int r = -ENOMEM;
	if (!gw)
		goto fail;
	gw->d = d;
	gw->cfg = &d->cfg.bundle;
	gw->tun_fd = -1;
	pclock_loop(&gw->clk, d->loop);
	bd_our_name(&gw->cfg->ppp, gw->our_name, sizeof(gw->our_name));
	bd_endpoint(&gw->cfg->ppp, &gw->has_ed, &gw->ed);
	if ((r = build_secrets(gw)) < 0)
		goto fail;
	struct cfg_addr ra = gw->cfg->receiver;
	char host[INET6_ADDRSTRLEN];
	config_addr_to_string(&ra, host, sizeof(host));
	if ((r = udp_addr_parse(host, (uint16_t)gw->cfg->ppp.port, &gw->rx_addr, &gw->rx_len)) <
	    0) {
		log_err("bundle: bad receiver address %s", host);
		goto fail;
	}
	udp_addr_str((struct sockaddr *)&gw->rx_addr, gw->rx_str, sizeof(gw->rx_str));
	if (!(gw->rt = route_open(&r))) {
		log_err("bundle: cannot open rtnetlink: %s", strerror(-r));
		goto fail;
	}
	gw->tun_fd = tun_open(gw->cfg->ppp.tun, gw->tun_name, &r);
	if (gw->tun_fd < 0) {
		log_err("bundle: cannot create TUN %s: %s", gw->cfg->ppp.tun, strerror(-r));
		goto fail;
	}
	gw->tun_ifindex = (int)if_nametoindex(gw->tun_name);
	r = -ENOMEM;
	gw->tun_buf = malloc(65536);
	gw->rxb = udp_batch_new(GW_RX_BATCH, GW_RX_BUFSIZE);
	gw->tick = loop_timer_new(d->loop, tick, gw);
	gw->tun_io = loop_io_add(d->loop, gw->tun_fd, EPOLLIN, tun_io, gw);
	if (!gw->tun_buf || !gw->rxb || !gw->tick || gw_ncp_init(gw) < 0 || !gw->tun_io)
		goto fail;
	for (size_t i = 0; i < gw->cfg->n_links; i++)
		if (!link_add(gw, gw->cfg->links[i].name, gw->cfg->links[i].interface,
			      &gw->cfg->links[i]))
			goto fail;
	if (gw->cfg->modem_links && (r = daemon_link_subscribe(d, on_link_event, gw)) < 0) {
		log_err("bundle: cannot subscribe to modem links: %s", strerror(-r));
		goto fail;
	}
	loop_timer_arm(gw->tick, 0);
	log_info("bundle: gateway %s towards %s on %s (%zu static link(s), modem links %s)",
		 gw->our_name, gw->rx_str, gw->tun_name, gw->cfg->n_links,
		 gw->cfg->modem_links ? "on" : "off");
	if (err)
		*err = 0;
	return gw;
fail:
	gateway_free(gw);
	if (err)
		*err = r;
	return NULL;
}

struct gateway *gateway_free(struct gateway *gw)
{
	if (!gw)
		return NULL;
	while (gw->links)
		link_remove(gw->links);
	bundle_drop(gw);
	gw->tun_io = loop_io_del(gw->tun_io);
	if (gw->tun_fd >= 0)
		close(gw->tun_fd);
	gw->tick = loop_timer_free(gw->tick);
	gw_ncp_free(gw);
	gw->stop_timer = loop_timer_free(gw->stop_timer);
	gw->rxb = udp_batch_free(gw->rxb);
	gw->rt = route_close(gw->rt);
	gw->sec = secrets_free(gw->sec);
	free(gw->tun_buf);
	free(gw);
	return NULL;
}

static void stop_now(struct gateway *gw)
{
	void (*done)(void *) = gw->done;
	gw->done = NULL;
	loop_timer_disarm(gw->stop_timer);
	if (done)
		done(gw->done_data);
}

static void stop_check(struct gateway *gw)
{
	for (struct gw_link *l = gw->links; l; l = l->next)
		if (l->pl && !l->finished && plink_phase(l->pl) != PLINK_DEAD)
			return;
	stop_now(gw);
}

static void stop_timeout(struct loop_timer *t, void *data)
{
	(void)t;
	log_warn("bundle: no Terminate-Ack from every link; exiting anyway");
	stop_now(data);
}

void gateway_shutdown(struct gateway *gw, void (*done)(void *data), void *data)
{
	gw->stopping = true;
	gw->done = done;
	gw->done_data = data;
	gw_ncp_close(gw, "modemd exiting");
	for (struct gw_link *l = gw->links; l; l = l->next)
		if (l->pl && plink_phase(l->pl) != PLINK_DEAD)
			plink_close(l->pl, "modemd exiting");
	gw->stop_timer = loop_timer_new(gw->d->loop, stop_timeout, gw);
	if (gw->stop_timer)
		loop_timer_arm(gw->stop_timer, GW_STOP_MS);
	stop_check(gw);
}

int gateway_link_set_admin(struct gateway *gw, const char *name, bool up)
{
	struct gw_link *l = link_find(gw, name);
	if (!l)
		return -ENOENT;
	if (l->admin_up == up)
		return 0;
	l->admin_up = up;
	log_info("bundle[%s]: administratively %s", l->name, up ? "up" : "down");
	if (!up && l->pl && plink_phase(l->pl) != PLINK_DEAD)
		plink_close(l->pl, "administratively down");
	else if (!up)
		link_teardown(l);
	if (!up)
		snprintf(l->waiting, sizeof(l->waiting), "administratively down");
	l->retry_ms = 0;
	loop_timer_arm(gw->tick, 0);
	return 0;
}
