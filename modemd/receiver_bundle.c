/* Receiver: one bundle per gateway, its IPCP server and address, and the
 * shared TUN (routes per gateway, packets demultiplexed by destination). */
#include "receiver-internal.h"

#include "daemon.h"
#include "log.h"
#include "ppp_proto.h"
#include "tun.h"

#include <arpa/inet.h>
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

static uint32_t host4(const struct cfg_addr *a)
{
	return a->family == AF_INET ? ntohl(a->v4.s_addr) : 0;
}

static size_t members(const struct bundle *b)
{
	struct bundle_stats st;
	bundle_get_stats(b, &st);
	return st.members;
}

/* ---- bundles ---- */

static void bundle_deliver(void *ctx, struct bundle *b, uint16_t proto, const uint8_t *pkt,
			   size_t len)
{
	struct rx_bundle *rb = ctx;
	struct receiver *rx = rb->rx;
	(void)b;
	/* Not before the packet's NCP is up (RFC 1661 §3.5): not routed back. */
	if (!rx_ncp_accepts(rb, proto)) {
		rx->rx_ncp_down++;
		return;
	}
	int r = tun_write(rx->tun_fd, pkt, len);
	if (r < 0) {
		rx->tun_write_errors++;
		if (ratelimit_ok(&rx->rl_tun, now_ms(), 1))
			log_warn("receiver: write to %s: %s", rx->tun_name, strerror(-r));
	}
}

static const struct bundle_ops rx_bundle_ops = {.deliver = bundle_deliver};

static struct rx_bundle *bundle_create(struct receiver *rx, const char *peer,
				       const struct lcp_ed *ed)
{
	struct rx_bundle *rb = calloc(1, sizeof(*rb));
	if (!rb)
		return NULL;
	rb->rx = rx;
	snprintf(rb->bname, sizeof(rb->bname), "b%u", rx->next_bundle++);
	rb->user = config_find_user(rx->d ? &rx->d->cfg : NULL, peer);
	struct bundle_config bc;
	bundle_config_default(&bc);
	bc.name = rb->bname;
	bc.request_retx = true; /* gateways are ours: they keep what they sent */
	rb->b = bundle_new(&bc, &rx_bundle_ops, rb, &rx->clk);
	if (!rb->b || rx_ncp_init(rb) < 0 || bundle_set_peer(rb->b, peer, ed) < 0) {
		rx_ncp_free(rb);
		bundle_free(rb->b);
		free(rb);
		return NULL;
	}
	bundle_set_policy(rb->b, rx->cfg->ppp.policy, rx->cfg->ppp.redundancy);
	rb->next = rx->bundles;
	rx->bundles = rb;
	rx->n_bundles++;
	log_info("receiver[%s]: new bundle for \"%s\"", rb->bname, peer);
	return rb;
}

static void bundle_destroy(struct rx_bundle *rb)
{
	struct receiver *rx = rb->rx;
	for (struct rx_link *l = rx->links; l; l = l->next)
		if (l->rb == rb)
			l->rb = NULL;
	rx_ncp_free(rb);
	if (rb->pooled && rx->pool)
		ippool_release(rx->pool, rb->addr);
	rb->b = bundle_free(rb->b);
	for (struct rx_bundle **pp = &rx->bundles; *pp; pp = &(*pp)->next)
		if (*pp == rb) {
			*pp = rb->next;
			break;
		}
	rx->n_bundles--;
	free(rb);
}

void rx_bundle_join(struct rx_link *l, struct plink *pl, const char *peer, const struct lcp_ed *ed)
{
	struct receiver *rx = l->rx;
	uint64_t now = now_ms();
	if (rx->stopping) {
		plink_close(pl, "modemd exiting");
		return;
	}
	if (!peer[0]) {
		plink_close(pl, "not authenticated");
		return;
	}
	struct rx_bundle *rb;
	for (rb = rx->bundles; rb; rb = rb->next)
		if (bundle_matches(rb->b, peer, ed))
			break;
	if (!rb && rx->n_bundles >= rx->cfg->max_gateways) {
		if (ratelimit_ok(&rx->rl_bundle, now, 1))
			log_warn(
			    "receiver[%s]: %u gateways already (max_gateways): refusing \"%s\"",
			    l->name, rx->n_bundles, peer);
		plink_close(pl, "too many gateways");
		return;
	}
	if (!rb && !(rb = bundle_create(rx, peer, ed))) {
		plink_close(pl, "out of memory");
		return;
	}
	if (members(rb->b) >= rx->cfg->max_links_per_gateway) {
		if (ratelimit_ok(&rx->rl_bundle, now, 1))
			log_warn("receiver[%s]: \"%s\" has %zu links (max_links_per_gateway): "
				 "refusing this one",
				 l->name, peer, members(rb->b));
		plink_close(pl, "too many links for this gateway");
		return;
	}
	const char *why = NULL;
	int r = bundle_attach(rb->b, pl, &why);
	if (r < 0) {
		if (ratelimit_ok(&rx->rl_bundle, now, 1))
			log_warn("receiver[%s]: refused by bundle %s of \"%s\": %s", l->name,
				 rb->bname, peer, why ? why : strerror(-r));
		plink_close(pl, why ? why : "refused by the bundle");
		return;
	}
	l->rb = rb;
	rb->empty_since_ms = 0;
	log_info("receiver[%s]: \"%s\" joined bundle %s (%zu link(s))", l->name, peer, rb->bname,
		 members(rb->b));
	rx_ncp_start(rb);
}

void rx_bundle_left(struct rx_link *l)
{
	struct rx_bundle *rb = l->rb;
	if (!rb)
		return;
	if (l->pl && plink_bundle(l->pl) == rb->b)
		bundle_detach(rb->b, l->pl);
	l->rb = NULL;
	if (!members(rb->b) && !rb->empty_since_ms)
		rb->empty_since_ms = now_ms();
}

void rx_bundles_tick(struct receiver *rx, uint64_t now)
{
	for (struct rx_bundle *rb = rx->bundles, *next; rb; rb = next) {
		next = rb->next;
		if (rb->empty_since_ms && now - rb->empty_since_ms >= RX_GRACE_MS &&
		    !members(rb->b)) {
			log_info("receiver[%s]: \"%s\" has had no link for %u s: bundle freed",
				 rb->bname, bundle_peer_name(rb->b), RX_GRACE_MS / 1000);
			bundle_destroy(rb);
			continue;
		}
		rx_ncp_tick(rb, members(rb->b) > 0);
	}
}

void rx_bundles_close(struct receiver *rx)
{
	for (struct rx_bundle *rb = rx->bundles; rb; rb = rb->next)
		rx_ncp_close(rb, "modemd exiting");
}

void rx_bundles_free(struct receiver *rx)
{
	while (rx->bundles)
		bundle_destroy(rx->bundles);
}

/* ---- the shared TUN ---- */

static void tun_io(struct loop_io *io, int fd, uint32_t events, void *data)
{
	struct receiver *rx = data;
	(void)io;
	(void)events;
	for (int i = 0; i < RX_TUN_BURST; i++) {
		ssize_t n = tun_read(fd, rx->tun_buf, 65535);
		if (n <= 0)
			return;
		const uint8_t *p = rx->tun_buf;
		uint8_t v = p[0] >> 4;
		struct rx_bundle *rb = NULL;
		if (v == 4 && n >= 20)
			rb = rx_route_lookup(rx, AF_INET, p + 16);
		else if (v == 6 && n >= 40)
			rb = rx_route_lookup(rx, AF_INET6, p + 24);
		if (!rb) {
			rx->tun_no_route++;
			continue;
		}
		/* No transmit queue yet: a packet every link refuses is dropped. */
		if (bundle_send_ip(rb->b, v == 4 ? PPP_PROTO_IP : PPP_PROTO_IPV6, p, (size_t)n) < 0)
			rx->tun_blocked++;
	}
}

int rx_tun_open(struct receiver *rx)
{
	int r;
	if (!(rx->rt = route_open(&r)))
		return log_errno(r, "receiver: cannot open rtnetlink: %s", strerror(-r));
	rx->tun_fd = tun_open(rx->cfg->ppp.tun, rx->tun_name, &r);
	if (rx->tun_fd < 0)
		return log_errno(r, "receiver: cannot create TUN %s: %s", rx->cfg->ppp.tun,
				 strerror(-r));
	rx->tun_ifindex = (int)if_nametoindex(rx->tun_name);
	struct route_addr la = {.family = AF_INET, .len = 32};
	la.a.v4 = rx->cfg->local_address.v4;
	if ((r = rx_ncp_tun_ipv6(rx)) < 0 ||
	    (r = route_link_set_mtu(rx->rt, rx->tun_ifindex, rx->cfg->ppp.mtu)) < 0 ||
	    (r = route_address(rx->rt, true, rx->tun_ifindex, &la, NULL, 0)) < 0 ||
	    (r = route_link_set_up(rx->rt, rx->tun_ifindex, true)) < 0 ||
	    (r = rx_ncp_tun_ipv6_address(rx)) < 0)
		return log_errno(r, "receiver: cannot configure %s: %s", rx->tun_name,
				 strerror(-r));
	const struct cfg_prefix *pool = &rx->cfg->pool;
	if (pool->addr.family == AF_INET) {
		r = ippool_new(&rx->pool, host4(&pool->addr), pool->len,
			       host4(&rx->cfg->local_address));
		if (r < 0)
			return log_errno(r, "receiver: address pool: %s", strerror(-r));
		for (size_t i = 0; i < rx->cfg->n_users; i++) {
			const struct cfg_user *u = &rx->cfg->users[i];
			if (u->address.family &&
			    (r = ippool_add_static(rx->pool, u->name, host4(&u->address))) < 0)
				return log_errno(r, "receiver: user %s: address: %s", u->name,
						 strerror(-r));
		}
	}
	if (!(rx->tun_buf = malloc(65536)))
		return -ENOMEM;
	rx->tun_io = loop_io_add(rx->d->loop, rx->tun_fd, EPOLLIN, tun_io, rx);
	return rx->tun_io ? 0 : -ENOMEM;
}

void rx_tun_close(struct receiver *rx)
{
	rx->tun_io = loop_io_del(rx->tun_io);
	if (rx->tun_fd >= 0)
		close(rx->tun_fd);
	rx->tun_fd = -1;
	free(rx->tun_buf);
	rx->tun_buf = NULL;
	rx->pool = ippool_free(rx->pool);
	rx->rt = route_close(rx->rt);
	free(rx->routes);
	rx->routes = NULL;
	rx->n_routes = rx->cap_routes = 0;
}

/* ---- status ---- */

json_object *receiver_status_json(const struct receiver *rx, json_object **info)
{
	json_object *arr = json_object_new_array();
	char a[16];
	for (const struct rx_bundle *rb = rx->bundles; rb; rb = rb->next) {
		json_object *o = json_object_new_object(), *links = json_object_new_array();
		json_object_object_add(o, "bundle", json_object_new_string(rb->bname));
		json_object_object_add(o, "name", json_object_new_string(bundle_peer_name(rb->b)));
		json_object_object_add(o, "state",
				       json_object_new_string(rb->routed       ? "up"
							      : members(rb->b) ? "negotiating"
									       : "no-links"));
		json_object_object_add(
		    o, "address",
		    rb->addr ? json_object_new_string(bd_ip4(rb->addr, a, sizeof(a))) : NULL);
		char l6[ROUTE_ADDRSTRLEN];
		json_object_object_add(o, "ipv6",
				       json_object_new_string(rb->routed6      ? "up"
							      : rb->ipv6cp_off ? "refused"
							      : !rx->has_ipv6  ? "off"
							      : rb->ipv6cp     ? "negotiating"
									       : "down"));
		json_object_object_add(
		    o, "address6",
		    rb->routed6 ? json_object_new_string(bd_ll_str(rb->peer_iid, l6, sizeof(l6)))
				: NULL);
		/* Configured prefixes routed to this gateway right now. */
		json_object *routes = json_object_new_array();
		for (size_t i = 0; rb->user && i < rb->user->n_routes; i++) {
			const struct cfg_prefix *p = &rb->user->routes[i];
			if (!(p->addr.family == AF_INET ? rb->routed : rb->routed6))
				continue;
			char t[INET6_ADDRSTRLEN], pfx[INET6_ADDRSTRLEN + 8];
			config_addr_to_string(&p->addr, t, sizeof(t));
			snprintf(pfx, sizeof(pfx), "%s/%u", t, p->len);
			json_object_array_add(routes, json_object_new_string(pfx));
		}
		json_object_object_add(o, "routes", routes);
		json_object_object_add(o, "stats", bd_bundle_json(rb->b));
		for (const struct rx_link *l = rx->links; l; l = l->next) {
			if (l->rb != rb || !l->pl)
				continue;
			char loc[UDP_ADDRSTRLEN] = "";
			if (l->local.ss_family)
				udp_addr_str((const void *)&l->local, loc, sizeof(loc));
			json_object_array_add(
			    links, bd_link_json(l->pl, "udp", rx->tun_name, loc, l->name));
		}
		json_object_object_add(o, "links", links);
		json_object_array_add(arr, o);
	}
	if (info) {
		json_object *o = *info = json_object_new_object();
		char lst[INET6_ADDRSTRLEN];
		config_addr_to_string(&rx->cfg->listen, lst, sizeof(lst));
		json_object_object_add(o, "name", json_object_new_string(rx->our_name));
		json_object_object_add(o, "listen", json_object_new_string(lst));
		json_object_object_add(o, "port", json_object_new_int((int)rx->cfg->ppp.port));
		json_object_object_add(o, "tun", json_object_new_string(rx->tun_name));
		json_object_object_add(
		    o, "local_address",
		    json_object_new_string(bd_ip4(host4(&rx->cfg->local_address), a, sizeof(a))));
		char l6[ROUTE_ADDRSTRLEN];
		json_object_object_add(
		    o, "local_address6",
		    rx->has_ipv6 ? json_object_new_string(bd_ll_str(rx->iid, l6, sizeof(l6)))
				 : NULL);
		json_object_object_add(o, "links", json_object_new_int64(rx->n_links));
		json_object_object_add(o, "unauthenticated", json_object_new_int64(rx->n_unauth));
		json_object_object_add(o, "dropped_full",
				       json_object_new_int64((int64_t)rx->dropped_full));
		json_object_object_add(o, "dropped_garbage",
				       json_object_new_int64((int64_t)rx->dropped_garbage));
		json_object_object_add(o, "tun_no_route",
				       json_object_new_int64((int64_t)rx->tun_no_route));
		json_object_object_add(o, "tun_blocked",
				       json_object_new_int64((int64_t)rx->tun_blocked));
		json_object_object_add(o, "rx_ncp_down",
				       json_object_new_int64((int64_t)rx->rx_ncp_down));
	}
	return arr;
}
