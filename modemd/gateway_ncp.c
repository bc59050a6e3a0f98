/* Gateway: the NCPs on the bundle and the TUN they configure. IPCP client
 * (address, DNS servers for status) and IPV6CP (interface identifiers ->
 * fe80::IID/64 on the TUN). The TUN is up while either NCP is up. */
#include "gateway-internal.h"

#include "daemon.h"
#include "ipv6cp.h"
#include "log.h"
#include "ppp_proto.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_addr.h>
#include <string.h>

/* ---- the TUN device ---- */

static int tun_route(struct gateway *gw, bool add, const char *dst)
{
	struct route_spec r = {.ifindex = gw->tun_ifindex};
	if (route_addr_parse(dst, &r.dst) < 0)
		return -EINVAL;
	return route_route(gw->rt, add, &r);
}

/* MTU and link up with the first NCP, down after the last. */
static int tun_link(struct gateway *gw)
{
	bool want = gw->tun_up || gw->tun6_up;
	if (want == gw->link_up)
		return 0;
	gw->link_up = want;
	if (!want)
		return route_link_set_up(gw->rt, gw->tun_ifindex, false);
	int r = route_link_set_mtu(gw->rt, gw->tun_ifindex, gw->cfg->ppp.mtu);
	return r < 0 ? r : route_link_set_up(gw->rt, gw->tun_ifindex, true);
}

static void tun4_deconfigure(struct gateway *gw)
{
	if (!gw->tun_up)
		return;
	gw->tun_up = false;
	struct route_addr la = {.family = AF_INET, .len = 32}, pa = la;
	la.a.v4.s_addr = htonl(gw->local);
	pa.a.v4.s_addr = htonl(gw->peer);
	if (gw->cfg->default_route) {
		tun_route(gw, false, "0.0.0.0/1");
		tun_route(gw, false, "128.0.0.0/1");
	}
	route_address(gw->rt, false, gw->tun_ifindex, &la, gw->peer ? &pa : NULL, 0);
	memset(gw->dns, 0, sizeof(gw->dns));
	tun_link(gw);
}

static void tun6_deconfigure(struct gateway *gw)
{
	if (!gw->tun6_up)
		return;
	gw->tun6_up = false;
	struct route_addr la;
	bd_ll_addr(gw->iid, &la);
	route_address(gw->rt, false, gw->tun_ifindex, &la, NULL, 0);
	tun_link(gw);
}

/* ---- IPCP client ---- */

static void ipcp_tx(void *ctx, const uint8_t *pkt, size_t len)
{
	struct gateway *gw = ctx;
	if (gw->b)
		bundle_send(gw->b, PPP_PROTO_IPCP, pkt, len);
}

static void ipcp_arm(void *ctx, uint32_t ms)
{
	loop_timer_arm(((struct gateway *)ctx)->ipcp_timer, ms);
}

static void ipcp_cancel(void *ctx)
{
	loop_timer_disarm(((struct gateway *)ctx)->ipcp_timer);
}

static void ipcp_fire(struct loop_timer *t, void *data)
{
	struct gateway *gw = data;
	(void)t;
	if (gw->ipcp)
		ipcp_timeout(gw->ipcp);
}

static void ipcp_on_up(void *ctx, uint32_t local, uint32_t peer, uint32_t dns1, uint32_t dns2)
{
	struct gateway *gw = ctx;
	char a[16], p[16], d1[16], d2[16];
	if (gw->tun_up && (local != gw->local || peer != gw->peer))
		tun4_deconfigure(gw);
	gw->local = local;
	gw->peer = peer;
	/* Shown in status only: /etc/resolv.conf belongs to the system's
	 * resolver manager (systemd-resolved, NetworkManager, resolvconf),
	 * which the administrator points at these servers if wanted. */
	gw->dns[0] = dns1;
	gw->dns[1] = dns2;
	struct route_addr la = {.family = AF_INET, .len = 32}, pa = la;
	la.a.v4.s_addr = htonl(local);
	pa.a.v4.s_addr = htonl(peer);
	log_info("bundle: IPCP up: %s local %s peer %s dns %s %s", gw->tun_name,
		 bd_ip4(local, a, sizeof(a)), bd_ip4(peer, p, sizeof(p)),
		 dns1 ? bd_ip4(dns1, d1, sizeof(d1)) : "-",
		 dns2 ? bd_ip4(dns2, d2, sizeof(d2)) : "-");
	gw->tun_up = true;
	int r = tun_link(gw);
	if (r >= 0)
		r = route_address(gw->rt, true, gw->tun_ifindex, &la, peer ? &pa : NULL, 0);
	/* Two /1 routes win over any default route without replacing it; the
	 * link sockets keep to their links through policy routing. */
	if (r >= 0 && gw->cfg->default_route) {
		r = tun_route(gw, true, "0.0.0.0/1");
		if (r >= 0)
			r = tun_route(gw, true, "128.0.0.0/1");
	}
	if (r < 0)
		log_err("bundle: cannot configure %s: %s", gw->tun_name, strerror(-r));
}

static void ipcp_on_down(void *ctx)
{
	log_info("bundle: IPCP down");
	tun4_deconfigure(ctx);
}

static void ipcp_on_finished(void *ctx, const char *reason)
{
	struct gateway *gw = ctx;
	log_warn("bundle: IPCP finished: %s", reason ? reason : "closed");
	tun4_deconfigure(gw);
	gw->ipcp_failed = true; /* freed and restarted in the tick, not in here */
}

static const struct ipcp_ops gw_ipcp_ops = {
    .io = {.tx = ipcp_tx, .timer_arm = ipcp_arm, .timer_cancel = ipcp_cancel},
    .up = ipcp_on_up,
    .down = ipcp_on_down,
    .finished = ipcp_on_finished,
};

static void ipcp_input_cb(void *ncp, const uint8_t *pkt, size_t len)
{
	struct gateway *gw = ncp;
	if (gw->ipcp)
		ipcp_input(gw->ipcp, pkt, len);
}

static void ipcp_start(struct gateway *gw)
{
	struct ipcp_config c;
	ipcp_config_default(&c);
	c.role = IPCP_CLIENT;
	/* RFC 1877: ask for DNS servers. A peer without any Rejects the
	 * options (pppd without ms-dns) and we carry on without. */
	c.ask_dns = true;
	gw->ipcp = ipcp_new(bundle_name(gw->b), &c, &gw_ipcp_ops, gw);
	if (!gw->ipcp) {
		log_err("bundle: cannot start IPCP: out of memory");
		return;
	}
	gw->ipcp_failed = false;
	bundle_set_ncp_handler(gw->b, PPP_PROTO_IPCP, ipcp_input_cb, gw);
	ipcp_open(gw->ipcp);
	ipcp_up(gw->ipcp);
}

static void ipcp_stop(struct gateway *gw)
{
	loop_timer_disarm(gw->ipcp_timer);
	if (gw->b)
		bundle_set_ncp_handler(gw->b, PPP_PROTO_IPCP, NULL, NULL);
	tun4_deconfigure(gw);
	gw->ipcp = ipcp_free(gw->ipcp);
}

/* ---- IPV6CP ---- */

static void ipv6cp_tx(void *ctx, const uint8_t *pkt, size_t len)
{
	struct gateway *gw = ctx;
	if (gw->b)
		bundle_send(gw->b, PPP_PROTO_IPV6CP, pkt, len);
}

static void ipv6cp_arm(void *ctx, uint32_t ms)
{
	loop_timer_arm(((struct gateway *)ctx)->ipv6cp_timer, ms);
}

static void ipv6cp_cancel(void *ctx)
{
	loop_timer_disarm(((struct gateway *)ctx)->ipv6cp_timer);
}

static void ipv6cp_fire(struct loop_timer *t, void *data)
{
	struct gateway *gw = data;
	(void)t;
	if (gw->ipv6cp)
		ipv6cp_timeout(gw->ipv6cp);
}

static void ipv6cp_on_up(void *ctx, const uint8_t ours[IPV6CP_IID_LEN],
			 const uint8_t peer[IPV6CP_IID_LEN])
{
	struct gateway *gw = ctx;
	if (gw->tun6_up && memcmp(ours, gw->iid, IPV6CP_IID_LEN))
		tun6_deconfigure(gw);
	memcpy(gw->iid, ours, IPV6CP_IID_LEN);
	memcpy(gw->peer_iid, peer, IPV6CP_IID_LEN);
	struct route_addr la;
	char a[ROUTE_ADDRSTRLEN], p[ROUTE_ADDRSTRLEN];
	bd_ll_addr(ours, &la);
	bd_ll_str(ours, a, sizeof(a));
	bd_ll_str(peer, p, sizeof(p));
	log_info("bundle: IPV6CP up: %s local %s peer %s", gw->tun_name, a, p);
	gw->tun6_up = true;
	int r = tun_link(gw);
	/* No DAD: IPV6CP already made the identifiers unique on this link. */
	if (r >= 0)
		r = route_address(gw->rt, true, gw->tun_ifindex, &la, NULL, IFA_F_NODAD);
	if (r < 0)
		log_err("bundle: cannot configure IPv6 on %s: %s", gw->tun_name, strerror(-r));
}

static void ipv6cp_on_down(void *ctx)
{
	log_info("bundle: IPV6CP down");
	tun6_deconfigure(ctx);
}

static void ipv6cp_on_finished(void *ctx, const char *reason)
{
	struct gateway *gw = ctx;
	tun6_deconfigure(gw);
	/* A peer without IPv6 (pppd without +ipv6) Protocol-Rejects IPV6CP
	 * or never answers: do not ask again for this bundle. */
	if (reason &&
	    (!strcmp(reason, "no answer from peer") || strstr(reason, "Protocol-Reject"))) {
		log_info("bundle: IPV6CP: %s: IPv4 only on this bundle", reason);
		gw->ipv6cp_off = true;
	} else {
		log_warn("bundle: IPV6CP finished: %s", reason ? reason : "closed");
	}
	gw->ipv6cp_failed = true;
}

static const struct ipv6cp_ops gw_ipv6cp_ops = {
    .io = {.tx = ipv6cp_tx, .timer_arm = ipv6cp_arm, .timer_cancel = ipv6cp_cancel},
    .random32 = bd_random32,
    .up = ipv6cp_on_up,
    .down = ipv6cp_on_down,
    .finished = ipv6cp_on_finished,
};

static void ipv6cp_input_cb(void *ncp, const uint8_t *pkt, size_t len)
{
	struct gateway *gw = ncp;
	if (gw->ipv6cp)
		ipv6cp_input(gw->ipv6cp, pkt, len);
}

static void ipv6cp_start(struct gateway *gw)
{
	/* Without IPv6 in the kernel the receiver gets a Protocol-Reject. */
	if (!gw->has_ipv6 || gw->ipv6cp_off)
		return;
	gw->ipv6cp = ipv6cp_new(bundle_name(gw->b), NULL, &gw_ipv6cp_ops, gw);
	if (!gw->ipv6cp) {
		log_err("bundle: cannot start IPV6CP: out of memory");
		return;
	}
	gw->ipv6cp_failed = false;
	bundle_set_ncp_handler(gw->b, PPP_PROTO_IPV6CP, ipv6cp_input_cb, gw);
	ipv6cp_open(gw->ipv6cp);
	ipv6cp_up(gw->ipv6cp);
}

static void ipv6cp_stop(struct gateway *gw)
{
	loop_timer_disarm(gw->ipv6cp_timer);
	if (gw->b)
		bundle_set_ncp_handler(gw->b, PPP_PROTO_IPV6CP, NULL, NULL);
	tun6_deconfigure(gw);
	gw->ipv6cp = ipv6cp_free(gw->ipv6cp);
}

/* ---- for gateway.c ---- */

int gw_ncp_init(struct gateway *gw)
{
	gw->has_ipv6 = bd_tun_ipv6_prepare(gw->tun_name) >= 0;
	gw->ipcp_timer = loop_timer_new(gw->d->loop, ipcp_fire, gw);
	gw->ipv6cp_timer = loop_timer_new(gw->d->loop, ipv6cp_fire, gw);
	return gw->ipcp_timer && gw->ipv6cp_timer ? 0 : -ENOMEM;
}

void gw_ncp_free(struct gateway *gw)
{
	gw_ncp_stop(gw);
	gw->ipcp_timer = loop_timer_free(gw->ipcp_timer);
	gw->ipv6cp_timer = loop_timer_free(gw->ipv6cp_timer);
}

void gw_ncp_start(struct gateway *gw)
{
	if (!gw->ipcp)
		ipcp_start(gw);
	if (!gw->ipv6cp)
		ipv6cp_start(gw);
}

void gw_ncp_stop(struct gateway *gw)
{
	ipcp_stop(gw);
	ipv6cp_stop(gw);
	gw->ipv6cp_off = false; /* a new bundle may be another peer */
}

void gw_ncp_tick(struct gateway *gw)
{
	bool up = gw->b && gw_members(gw->b);
	if (gw->ipcp && gw->ipcp_failed) {
		ipcp_stop(gw);
		if (up)
			ipcp_start(gw);
	}
	if (gw->ipv6cp && gw->ipv6cp_failed) {
		ipv6cp_stop(gw);
		if (up)
			ipv6cp_start(gw);
	}
}

void gw_ncp_close(struct gateway *gw, const char *reason)
{
	if (gw->ipcp)
		ipcp_close(gw->ipcp, reason);
	if (gw->ipv6cp)
		ipv6cp_close(gw->ipv6cp, reason);
}

bool gw_ncp_accepts(const struct gateway *gw, uint16_t proto)
{
	return proto == PPP_PROTO_IPV6 ? gw->tun6_up : gw->tun_up;
}
