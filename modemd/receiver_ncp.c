/* Receiver: the NCPs of each gateway's bundle (IPCP server with the pool
 * and DNS, IPV6CP) and what they route on the shared TUN: the gateway's
 * address and its IPv4 routes while IPCP is up, its link-local identifier
 * and IPv6 routes while IPV6CP is up. TUN packets find their bundle through
 * rx_route_lookup (exact address / identifier hashes, then the longest
 * configured prefix). */
#include "receiver-internal.h"

#include "daemon.h"
#include "ipv6cp.h"
#include "log.h"
#include "ppp_proto.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_addr.h>
#include <stdlib.h>
#include <string.h>

static uint32_t host4(const struct cfg_addr *a)
{
	return a->family == AF_INET ? ntohl(a->v4.s_addr) : 0;
}

static size_t h4(uint32_t a)
{
	return (a * 2654435761u) >> 22 & (RX_RT_HASH - 1);
}

static size_t h6(const uint8_t iid[8])
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < 8; i++)
		h = (h ^ iid[i]) * 16777619u;
	return h & (RX_RT_HASH - 1);
}

/* ---- the prefix table (users[].routes of the bundles that are up) ---- */

static void cfg_prefix_route(const struct cfg_prefix *p, struct route_addr *out)
{
	*out = (struct route_addr){.family = p->addr.family, .len = p->len};
	memcpy(out->a.raw, &p->addr.v4,
	       p->addr.family == AF_INET ? sizeof(struct in_addr) : sizeof(struct in6_addr));
}

static bool same_prefix(const struct rx_route *e, const struct cfg_prefix *p)
{
	return e->family == p->addr.family && e->len == p->len &&
	       !memcmp(e->a, &p->addr.v4, e->family == AF_INET ? 4 : 16);
}

static bool prefix_match(const struct rx_route *e, int family, const uint8_t *dst)
{
	if (e->family != family)
		return false;
	unsigned bits = e->len, i = 0;
	for (; bits >= 8; bits -= 8, i++)
		if (e->a[i] != dst[i])
			return false;
	return !bits || !((e->a[i] ^ dst[i]) & (uint8_t)(0xff << (8 - bits)));
}

/* Insert keeping the table sorted by prefix length, longest first, so the
 * first match is the longest. At most max_gateways x 16 entries. */
static int table_add(struct receiver *rx, const struct cfg_prefix *p, struct rx_bundle *rb)
{
	if (rx->n_routes == rx->cap_routes) {
		size_t cap = rx->cap_routes ? rx->cap_routes * 2 : 16;
		struct rx_route *t = reallocarray(rx->routes, cap, sizeof(*t));
		if (!t)
			return -ENOMEM;
		rx->routes = t;
		rx->cap_routes = cap;
	}
	size_t i = 0;
	while (i < rx->n_routes && rx->routes[i].len >= p->len)
		i++;
	memmove(&rx->routes[i + 1], &rx->routes[i], (rx->n_routes - i) * sizeof(*rx->routes));
	struct rx_route *e = &rx->routes[i];
	*e = (struct rx_route){.family = (uint8_t)p->addr.family, .len = (uint8_t)p->len, .rb = rb};
	memcpy(e->a, &p->addr.v4, p->addr.family == AF_INET ? 4 : 16);
	rx->n_routes++;
	return 0;
}

/* Removes rb's entry for p; true when another bundle still has p. */
static bool table_del(struct receiver *rx, const struct cfg_prefix *p, struct rx_bundle *rb)
{
	bool shared = false;
	for (size_t i = 0; i < rx->n_routes;) {
		struct rx_route *e = &rx->routes[i];
		if (!same_prefix(e, p)) {
			i++;
			continue;
		}
		if (e->rb != rb) {
			shared = true;
			i++;
			continue;
		}
		memmove(e, e + 1, (rx->n_routes - i - 1) * sizeof(*e));
		rx->n_routes--;
	}
	return shared;
}

static void user_routes(struct rx_bundle *rb, int family, bool add)
{
	struct receiver *rx = rb->rx;
	struct route_spec r = {.ifindex = rx->tun_ifindex};
	char txt[ROUTE_ADDRSTRLEN];
	for (size_t i = 0; rb->user && i < rb->user->n_routes; i++) {
		const struct cfg_prefix *p = &rb->user->routes[i];
		if (p->addr.family != family)
			continue;
		cfg_prefix_route(p, &r.dst);
		if (!add) {
			if (!table_del(rx, p, rb))
				route_route(rx->rt, false, &r);
			continue;
		}
		for (size_t k = 0; k < rx->n_routes; k++)
			if (same_prefix(&rx->routes[k], p) && rx->routes[k].rb != rb)
				log_warn("receiver[%s]: route %s is already %s's: it keeps it",
					 rb->bname, route_addr_str(&r.dst, txt, sizeof(txt)),
					 bundle_peer_name(rx->routes[k].rb->b));
		if (table_add(rx, p, rb) < 0) {
			log_err("receiver[%s]: out of memory for routes", rb->bname);
			continue;
		}
		route_route(rx->rt, true, &r);
	}
}

/* ---- IPv4: the gateway's address and routes, while IPCP is up ---- */

static void routes4(struct rx_bundle *rb, bool add)
{
	struct receiver *rx = rb->rx;
	if (rb->routed == add || !rb->addr)
		return;
	rb->routed = add;
	struct route_spec r = {.ifindex = rx->tun_ifindex};
	r.dst = (struct route_addr){.family = AF_INET, .len = 32};
	r.dst.a.v4.s_addr = htonl(rb->addr);
	struct rx_bundle **pp = &rx->h4[h4(rb->addr)];
	if (add) {
		rb->hnext4 = *pp;
		*pp = rb;
	} else {
		for (; *pp; pp = &(*pp)->hnext4)
			if (*pp == rb) {
				*pp = rb->hnext4;
				break;
			}
	}
	route_route(rx->rt, add, &r);
	user_routes(rb, AF_INET, add);
}

/* ---- IPv6: the gateway's identifier and routes, while IPV6CP is up ---- */

static struct rx_bundle *find_iid(struct receiver *rx, const uint8_t iid[8])
{
	for (struct rx_bundle *rb = rx->h6[h6(iid)]; rb; rb = rb->hnext6)
		if (!memcmp(rb->peer_iid, iid, 8))
			return rb;
	return NULL;
}

static void routes6(struct rx_bundle *rb, bool add)
{
	struct receiver *rx = rb->rx;
	if (rb->routed6 == add)
		return;
	rb->routed6 = add;
	struct rx_bundle **pp = &rx->h6[h6(rb->peer_iid)];
	if (add) {
		rb->hnext6 = *pp;
		*pp = rb;
	} else {
		for (; *pp; pp = &(*pp)->hnext6)
			if (*pp == rb) {
				*pp = rb->hnext6;
				break;
			}
	}
	user_routes(rb, AF_INET6, add);
}

struct rx_bundle *rx_route_lookup(struct receiver *rx, int family, const uint8_t *dst)
{
	if (family == AF_INET) {
		uint32_t d = (uint32_t)dst[0] << 24 | (uint32_t)dst[1] << 16 |
			     (uint32_t)dst[2] << 8 | dst[3];
		for (struct rx_bundle *rb = rx->h4[h4(d)]; rb; rb = rb->hnext4)
			if (rb->addr == d)
				return rb;
	} else if (dst[0] == 0xfe && (dst[1] & 0xc0) == 0x80) {
		/* fe80::/10 on the TUN: the gateway whose identifier it is. */
		return find_iid(rx, dst + 8);
	}
	for (size_t i = 0; i < rx->n_routes; i++)
		if (prefix_match(&rx->routes[i], family, dst))
			return rx->routes[i].rb;
	return NULL;
}

bool rx_ncp_accepts(const struct rx_bundle *rb, uint16_t proto)
{
	return proto == PPP_PROTO_IPV6 ? rb->routed6 : rb->routed;
}

/* ---- IPCP server ---- */

static void ipcp_tx(void *ctx, const uint8_t *pkt, size_t len)
{
	struct rx_bundle *rb = ctx;
	bundle_send(rb->b, PPP_PROTO_IPCP, pkt, len);
}

static void ipcp_arm(void *ctx, uint32_t ms)
{
	loop_timer_arm(((struct rx_bundle *)ctx)->ipcp_timer, ms);
}

static void ipcp_cancel(void *ctx)
{
	loop_timer_disarm(((struct rx_bundle *)ctx)->ipcp_timer);
}

static void ipcp_fire(struct loop_timer *t, void *data)
{
	struct rx_bundle *rb = data;
	(void)t;
	if (rb->ipcp)
		ipcp_timeout(rb->ipcp);
}

static int ipcp_assign(void *ctx, uint32_t *addr)
{
	struct rx_bundle *rb = ctx;
	struct receiver *rx = rb->rx;
	const char *name = bundle_peer_name(rb->b);
	if (rb->addr) {
		*addr = rb->addr;
		return 0;
	}
	if (rx->pool) {
		/* Static user addresses are in the pool as static entries: they win. */
		int r = ippool_alloc(rx->pool, name, addr);
		if (r < 0)
			return log_errno(r, "receiver[%s]: no address for %s: %s", rb->bname, name,
					 strerror(-r));
		rb->pooled = true;
	} else if (rb->user && rb->user->address.family) {
		*addr = host4(&rb->user->address);
	} else {
		return log_errno(-EADDRNOTAVAIL, "receiver[%s]: no pool and no address for %s",
				 rb->bname, name);
	}
	rb->addr = *addr;
	return 0;
}

static void ipcp_on_up(void *ctx, uint32_t local, uint32_t peer, uint32_t dns1, uint32_t dns2)
{
	struct rx_bundle *rb = ctx;
	char a[16];
	(void)local;
	(void)dns1;
	(void)dns2;
	log_info("receiver[%s]: IPCP up: %s is %s", rb->bname, bundle_peer_name(rb->b),
		 bd_ip4(peer, a, sizeof(a)));
	routes4(rb, true);
}

static void ipcp_on_down(void *ctx)
{
	struct rx_bundle *rb = ctx;
	log_info("receiver[%s]: IPCP down", rb->bname);
	routes4(rb, false);
}

static void ipcp_on_finished(void *ctx, const char *reason)
{
	struct rx_bundle *rb = ctx;
	if (ratelimit_ok(&rb->rx->rl_bundle, now_ms(), 2))
		log_warn("receiver[%s]: IPCP finished: %s", rb->bname, reason ? reason : "closed");
	routes4(rb, false);
	rb->ipcp_failed = true; /* restarted from the tick */
}

static const struct ipcp_ops rx_ipcp_ops = {
    .io = {.tx = ipcp_tx, .timer_arm = ipcp_arm, .timer_cancel = ipcp_cancel},
    .assign = ipcp_assign,
    .up = ipcp_on_up,
    .down = ipcp_on_down,
    .finished = ipcp_on_finished,
};

static void ipcp_input_cb(void *ncp, const uint8_t *pkt, size_t len)
{
	struct rx_bundle *rb = ncp;
	if (rb->ipcp)
		ipcp_input(rb->ipcp, pkt, len);
}

static void ipcp_start(struct rx_bundle *rb)
{
	const struct cfg_receiver *c = rb->rx->cfg;
	struct ipcp_config ic;
	ipcp_config_default(&ic);
	ic.role = IPCP_SERVER;
	ic.ask_dns = false;
	ic.local = host4(&c->local_address);
	for (size_t i = 0; i < c->n_dns && i < 2; i++)
		ic.dns[i] = host4(&c->dns[i]);
	rb->ipcp = ipcp_new(rb->bname, &ic, &rx_ipcp_ops, rb);
	if (!rb->ipcp) {
		log_err("receiver[%s]: cannot start IPCP", rb->bname);
		return;
	}
	rb->ipcp_failed = false;
	bundle_set_ncp_handler(rb->b, PPP_PROTO_IPCP, ipcp_input_cb, rb);
	ipcp_open(rb->ipcp);
	ipcp_up(rb->ipcp);
}

static void ipcp_stop(struct rx_bundle *rb)
{
	loop_timer_disarm(rb->ipcp_timer);
	bundle_set_ncp_handler(rb->b, PPP_PROTO_IPCP, NULL, NULL);
	routes4(rb, false);
	rb->ipcp = ipcp_free(rb->ipcp);
}

/* ---- IPV6CP ---- */

static void ipv6cp_tx(void *ctx, const uint8_t *pkt, size_t len)
{
	struct rx_bundle *rb = ctx;
	bundle_send(rb->b, PPP_PROTO_IPV6CP, pkt, len);
}

static void ipv6cp_arm(void *ctx, uint32_t ms)
{
	loop_timer_arm(((struct rx_bundle *)ctx)->ipv6cp_timer, ms);
}

static void ipv6cp_cancel(void *ctx)
{
	loop_timer_disarm(((struct rx_bundle *)ctx)->ipv6cp_timer);
}

static void ipv6cp_fire(struct loop_timer *t, void *data)
{
	struct rx_bundle *rb = data;
	(void)t;
	if (rb->ipv6cp)
		ipv6cp_timeout(rb->ipv6cp);
}

static void ipv6cp_on_up(void *ctx, const uint8_t ours[IPV6CP_IID_LEN],
			 const uint8_t peer[IPV6CP_IID_LEN])
{
	struct rx_bundle *rb = ctx;
	struct receiver *rx = rb->rx;
	char p[ROUTE_ADDRSTRLEN];
	static const uint8_t zero[IPV6CP_IID_LEN];
	bd_ll_str(peer, p, sizeof(p));
	/* The TUN is shared: a gateway's identifier must be unique on it, and
	 * ours is the one address the TUN has (a gateway that Naked it away
	 * still reaches us through the fe80::/64 route). */
	struct rx_bundle *other = find_iid(rx, peer);
	if (!memcmp(peer, zero, sizeof(zero)) || (other && other != rb)) {
		if (ratelimit_ok(&rx->rl_bundle, now_ms(), 2))
			log_warn("receiver[%s]: IPV6CP: %s's identifier %s is %s: no IPv6 for it",
				 rb->bname, bundle_peer_name(rb->b), p,
				 other ? "another gateway's" : "missing");
		return;
	}
	if (memcmp(ours, rx->iid, IPV6CP_IID_LEN))
		log_info("receiver[%s]: IPV6CP: the gateway gave us another identifier", rb->bname);
	memcpy(rb->peer_iid, peer, IPV6CP_IID_LEN);
	log_info("receiver[%s]: IPV6CP up: %s is %s", rb->bname, bundle_peer_name(rb->b), p);
	routes6(rb, true);
}

static void ipv6cp_on_down(void *ctx)
{
	struct rx_bundle *rb = ctx;
	log_info("receiver[%s]: IPV6CP down", rb->bname);
	routes6(rb, false);
}

static void ipv6cp_on_finished(void *ctx, const char *reason)
{
	struct rx_bundle *rb = ctx;
	routes6(rb, false);
	/* A gateway without IPv6 (pppd without +ipv6) Protocol-Rejects or
	 * ignores IPV6CP: IPv4 only for this bundle. */
	if (reason && (!strcmp(reason, "no answer from peer") || strstr(reason, "Protocol-Reject")))
		rb->ipv6cp_off = true;
	if (ratelimit_ok(&rb->rx->rl_bundle, now_ms(), 2))
		log_info("receiver[%s]: IPV6CP finished: %s%s", rb->bname,
			 reason ? reason : "closed", rb->ipv6cp_off ? ": IPv4 only" : "");
	rb->ipv6cp_failed = true;
}

static const struct ipv6cp_ops rx_ipv6cp_ops = {
    .io = {.tx = ipv6cp_tx, .timer_arm = ipv6cp_arm, .timer_cancel = ipv6cp_cancel},
    .random32 = bd_random32,
    .up = ipv6cp_on_up,
    .down = ipv6cp_on_down,
    .finished = ipv6cp_on_finished,
};

static void ipv6cp_input_cb(void *ncp, const uint8_t *pkt, size_t len)
{
	struct rx_bundle *rb = ncp;
	if (rb->ipv6cp)
		ipv6cp_input(rb->ipv6cp, pkt, len);
}

static void ipv6cp_start(struct rx_bundle *rb)
{
	if (!rb->rx->has_ipv6 || rb->ipv6cp_off)
		return;
	struct ipv6cp_config c;
	ipv6cp_config_default(&c);
	memcpy(c.iid, rb->rx->iid, sizeof(c.iid));
	rb->ipv6cp = ipv6cp_new(rb->bname, &c, &rx_ipv6cp_ops, rb);
	if (!rb->ipv6cp) {
		log_err("receiver[%s]: cannot start IPV6CP", rb->bname);
		return;
	}
	rb->ipv6cp_failed = false;
	bundle_set_ncp_handler(rb->b, PPP_PROTO_IPV6CP, ipv6cp_input_cb, rb);
	ipv6cp_open(rb->ipv6cp);
	ipv6cp_up(rb->ipv6cp);
}

static void ipv6cp_stop(struct rx_bundle *rb)
{
	loop_timer_disarm(rb->ipv6cp_timer);
	bundle_set_ncp_handler(rb->b, PPP_PROTO_IPV6CP, NULL, NULL);
	routes6(rb, false);
	rb->ipv6cp = ipv6cp_free(rb->ipv6cp);
}

/* ---- for receiver_bundle.c ---- */

int rx_ncp_init(struct rx_bundle *rb)
{
	struct loop *l = rb->rx->d->loop;
	rb->ipcp_timer = loop_timer_new(l, ipcp_fire, rb);
	rb->ipv6cp_timer = loop_timer_new(l, ipv6cp_fire, rb);
	return rb->ipcp_timer && rb->ipv6cp_timer ? 0 : -ENOMEM;
}

void rx_ncp_free(struct rx_bundle *rb)
{
	if (rb->b) {
		ipcp_stop(rb);
		ipv6cp_stop(rb);
	}
	rb->ipcp_timer = loop_timer_free(rb->ipcp_timer);
	rb->ipv6cp_timer = loop_timer_free(rb->ipv6cp_timer);
}

void rx_ncp_start(struct rx_bundle *rb)
{
	if (!rb->ipcp)
		ipcp_start(rb);
	if (!rb->ipv6cp)
		ipv6cp_start(rb);
}

void rx_ncp_tick(struct rx_bundle *rb, bool has_links)
{
	if (rb->ipcp && rb->ipcp_failed) {
		ipcp_stop(rb);
		if (has_links)
			ipcp_start(rb);
	}
	if (rb->ipv6cp && rb->ipv6cp_failed) {
		ipv6cp_stop(rb);
		if (has_links)
			ipv6cp_start(rb);
	}
}

void rx_ncp_close(struct rx_bundle *rb, const char *reason)
{
	if (rb->ipcp)
		ipcp_close(rb->ipcp, reason);
	if (rb->ipv6cp)
		ipv6cp_close(rb->ipv6cp, reason);
}

int rx_ncp_tun_ipv6(struct receiver *rx)
{
	if (bd_tun_ipv6_prepare(rx->tun_name) < 0) {
		log_info("receiver: no IPv6 on %s: IPV6CP will be Protocol-Rejected", rx->tun_name);
		return 0;
	}
	/* One identifier for the shared TUN: fe80::IID is our address towards
	 * every gateway, and each gateway's own identifier picks its bundle. */
	uint32_t a = bd_random32(NULL) | 1, b = bd_random32(NULL);
	for (int i = 0; i < 4; i++) {
		rx->iid[i] = (uint8_t)(a >> (24 - 8 * i));
		rx->iid[4 + i] = (uint8_t)(b >> (24 - 8 * i));
	}
	rx->iid[0] &= (uint8_t)~0x02; /* u/l bit: not a global identifier */
	rx->has_ipv6 = true;
	return 0;
}

int rx_ncp_tun_ipv6_address(struct receiver *rx)
{
	if (!rx->has_ipv6)
		return 0;
	struct route_addr la;
	bd_ll_addr(rx->iid, &la);
	return route_address(rx->rt, true, rx->tun_ifindex, &la, NULL, IFA_F_NODAD);
}
