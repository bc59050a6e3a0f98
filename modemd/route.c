/* Synchronous rtnetlink requests: one message, one ACK. rtnetlink handles a
 * request inside the sender's sendmsg(), so the ACK is already queued when
 * we read; the receive timeout only guards against a kernel that is not. */
#include "route.h"
#include "log.h"
#include "util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/fib_rules.h>
#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>

struct route_nl {
	struct mnl_socket *sock;
	unsigned portid;
	unsigned seq;
	/* The ACK of a failed request carries its header and the extended
	 * ACK text (NETLINK_CAP_ACK: not the whole request). */
	char buf[8192];
};

/* What the ACK said. */
struct ack {
	int error; /* 0 or -errno */
	bool done;
	char msg[128]; /* kernel's extended ACK text, or "" */
};

int route_addr_parse(const char *s, struct route_addr *out)
{
	char host[INET6_ADDRSTRLEN];
	const char *slash = s ? strchr(s, '/') : NULL;
	size_t hlen = slash ? (size_t)(slash - s) : (s ? strlen(s) : 0);
	struct route_addr a = {0};
	if (!s || hlen == 0 || hlen >= sizeof(host))
		return -EINVAL;
	memcpy(host, s, hlen);
	host[hlen] = 0;
	if (inet_pton(AF_INET, host, &a.a.v4) == 1) {
		a.family = AF_INET;
		a.len = 32;
	} else if (inet_pton(AF_INET6, host, &a.a.v6) == 1) {
		a.family = AF_INET6;
		a.len = 128;
	} else {
		return -EINVAL;
	}
	if (slash) {
		const char *p = slash + 1;
		unsigned len = 0;
		if (!*p || strlen(p) > 3)
			return -EINVAL;
		for (; *p; p++) {
			if (*p < '0' || *p > '9')
				return -EINVAL;
			len = len * 10 + (unsigned)(*p - '0');
		}
		if (len > a.len)
			return -EINVAL;
		a.len = len;
	}
	*out = a;
	return 0;
}

static size_t addr_bytes(int family)
{
	return family == AF_INET ? 4 : 16;
}

const char *route_addr_str(const struct route_addr *a, char *buf, size_t size)
{
	char host[INET6_ADDRSTRLEN] = "?";
	if (!a || (a->family != AF_INET && a->family != AF_INET6)) {
		snprintf(buf, size, "(none)");
		return buf;
	}
	inet_ntop(a->family, a->a.raw, host, sizeof(host));
	if (a->len == addr_bytes(a->family) * 8)
		snprintf(buf, size, "%s", host);
	else
		snprintf(buf, size, "%s/%u", host, a->len);
	return buf;
}

/* Always with "/len", for prefixes in log lines. */
static const char *prefix_str(const struct route_addr *a, char *buf, size_t size)
{
	char host[INET6_ADDRSTRLEN] = "?";
	inet_ntop(a->family, a->a.raw, host, sizeof(host));
	snprintf(buf, size, "%s/%u", host, a->len);
	return buf;
}

static bool addr_valid(const struct route_addr *a)
{
	return a && (a->family == AF_INET || a->family == AF_INET6) &&
	       a->len <= addr_bytes(a->family) * 8;
}

/* Clear host bits: the kernel refuses an IPv4 route with them set. */
static void mask_prefix(struct route_addr *a)
{
	size_t n = addr_bytes(a->family);
	for (size_t i = 0; i < n; i++) {
		unsigned bits = a->len > i * 8 ? a->len - (unsigned)i * 8 : 0;
		if (bits < 8)
			a->a.raw[i] &= (uint8_t)(0xff00u >> bits);
	}
}

static const char *ifname_of(int ifindex, char buf[IF_NAMESIZE])
{
	if (!ifindex || !if_indextoname((unsigned)ifindex, buf))
		snprintf(buf, IF_NAMESIZE, "#%d", ifindex);
	return buf;
}

struct route_nl *route_open(int *err)
{
	int r;
	struct route_nl *rt = calloc(1, sizeof(*rt));
	if (!rt) {
		r = -ENOMEM;
		goto fail;
	}
	rt->sock = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!rt->sock) {
		r = -errno;
		log_err("route: cannot open rtnetlink socket: %s", strerror(-r));
		goto fail;
	}
	if (mnl_socket_bind(rt->sock, 0, MNL_SOCKET_AUTOPID) < 0) {
		r = -errno;
		log_err("route: cannot bind rtnetlink socket: %s", strerror(-r));
		goto fail;
	}
	rt->portid = mnl_socket_get_portid(rt->sock);
	rt->seq = (unsigned)time(NULL);
	int one = 1, fd = mnl_socket_get_fd(rt->sock);
	/* Best effort: older kernels answer without the text. */
	setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	struct timeval tv = {.tv_sec = 2};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return rt;
fail:
	route_close(rt);
	if (err)
		*err = r;
	return NULL;
}

struct route_nl *route_close(struct route_nl *rt)
{
	if (!rt)
		return NULL;
	if (rt->sock)
		mnl_socket_close(rt->sock);
	free(rt);
	return NULL;
}

static int ext_attr_cb(const struct nlattr *a, void *data)
{
	struct ack *ack = data;
	if (mnl_attr_get_type(a) == NLMSGERR_ATTR_MSG &&
	    mnl_attr_validate(a, MNL_TYPE_NUL_STRING) >= 0)
		strlcpy_checked(ack->msg, mnl_attr_get_str(a), sizeof(ack->msg));
	return MNL_CB_OK;
}

static int ack_cb(const struct nlmsghdr *nlh, void *data)
{
	struct ack *ack = data;
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*e)) {
		ack->error = -EBADMSG;
		ack->done = true;
		return MNL_CB_STOP;
	}
	ack->error = e->error <= 0 ? e->error : -e->error;
	ack->done = true;
	/* With NETLINK_CAP_ACK the TLVs follow the echoed header only. */
	if ((nlh->nlmsg_flags & NLM_F_ACK_TLVS) && (nlh->nlmsg_flags & NLM_F_CAPPED))
		mnl_attr_parse(nlh, sizeof(*e), ext_attr_cb, ack);
	return MNL_CB_STOP;
}

static int ignore_cb(const struct nlmsghdr *nlh, void *data)
{
	(void)nlh;
	(void)data;
	return MNL_CB_OK;
}

/* Errors a delete gets when the object is already gone. */
static bool is_absent(int e)
{
	return e == -ENOENT || e == -ESRCH || e == -EADDRNOTAVAIL || e == -ENODEV;
}

enum req { REQ_SET, REQ_DEL, REQ_ADD_EXCL };

/* Send nlh, wait for its ACK. what: the request in words, for log lines.
 * REQ_DEL: "not there" is -ENOENT, quietly; REQ_ADD_EXCL: EEXIST is success. */
static int request(struct route_nl *rt, struct nlmsghdr *nlh, enum req kind, const char *what)
{
	struct ack ack = {0};
	nlh->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = ++rt->seq;
	if (mnl_socket_sendto(rt->sock, nlh, nlh->nlmsg_len) < 0) {
		ack.error = -errno;
		goto out;
	}
	while (!ack.done) {
		ssize_t n = mnl_socket_recvfrom(rt->sock, rt->buf, sizeof(rt->buf));
		if (n < 0) {
			ack.error = errno == EAGAIN ? -ETIMEDOUT : -errno;
			goto out;
		}
		mnl_cb_t ctl[NLMSG_MIN_TYPE] = {[NLMSG_ERROR] = ack_cb};
		int r = mnl_cb_run2(rt->buf, (size_t)n, nlh->nlmsg_seq, rt->portid, ignore_cb, &ack,
				    ctl, NLMSG_MIN_TYPE);
		/* ESRCH: an answer to an older request that timed out. */
		if (r < 0 && errno != ESRCH && !ack.done) {
			ack.error = -errno;
			goto out;
		}
	}
out:
	if (!ack.error)
		return 0;
	if (kind == REQ_ADD_EXCL && ack.error == -EEXIST)
		return 0;
	if (kind == REQ_DEL && is_absent(ack.error)) {
		log_debug("route: %s: already gone (%s)", what, strerror(-ack.error));
		return -ENOENT;
	}
	log_err("route: %s: %s%s%s", what, strerror(-ack.error), ack.msg[0] ? ": " : "", ack.msg);
	return ack.error;
}

static int link_change(struct route_nl *rt, int ifindex, int mtu, int up, const char *what)
{
	char b[512];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(b);
	nlh->nlmsg_type = RTM_NEWLINK;
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	if (up >= 0) {
		ifi->ifi_change = IFF_UP;
		ifi->ifi_flags = up ? IFF_UP : 0;
	}
	if (mtu >= 0)
		mnl_attr_put_u32(nlh, IFLA_MTU, (uint32_t)mtu);
	return request(rt, nlh, REQ_SET, what);
}

int route_link_set_mtu(struct route_nl *rt, int ifindex, unsigned mtu)
{
	char what[64], n[IF_NAMESIZE];
	if (mtu > 65535)
		return -EINVAL;
	snprintf(what, sizeof(what), "set mtu %u on %s", mtu, ifname_of(ifindex, n));
	return link_change(rt, ifindex, (int)mtu, -1, what);
}

int route_link_set_up(struct route_nl *rt, int ifindex, bool up)
{
	char what[64], n[IF_NAMESIZE];
	snprintf(what, sizeof(what), "set %s %s", ifname_of(ifindex, n), up ? "up" : "down");
	return link_change(rt, ifindex, -1, up, what);
}

int route_address(struct route_nl *rt, bool add, int ifindex, const struct route_addr *local,
		  const struct route_addr *peer, uint32_t ifa_flags)
{
	char b[512], what[192], l[ROUTE_ADDRSTRLEN], p[ROUTE_ADDRSTRLEN], n[IF_NAMESIZE];
	if (!addr_valid(local) || (peer && (!addr_valid(peer) || peer->family != local->family)))
		return -EINVAL;
	snprintf(what, sizeof(what), "%s address %s%s%s on %s", add ? "add" : "delete",
		 route_addr_str(local, l, sizeof(l)), peer ? " peer " : "",
		 peer ? route_addr_str(peer, p, sizeof(p)) : "", ifname_of(ifindex, n));
	size_t alen = addr_bytes(local->family);
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(b);
	nlh->nlmsg_type = add ? RTM_NEWADDR : RTM_DELADDR;
	/* REPLACE: adding an address that is there updates it. */
	if (add)
		nlh->nlmsg_flags = NLM_F_CREATE | NLM_F_REPLACE;
	struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = (uint8_t)local->family;
	ifa->ifa_prefixlen = (uint8_t)(peer ? peer->len : local->len);
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = (uint32_t)ifindex;
	ifa->ifa_flags = (uint8_t)(ifa_flags & 0xff);
	mnl_attr_put(nlh, IFA_LOCAL, alen, local->a.raw);
	mnl_attr_put(nlh, IFA_ADDRESS, alen, peer ? peer->a.raw : local->a.raw);
	if (ifa_flags > 0xff)
		mnl_attr_put_u32(nlh, IFA_FLAGS, ifa_flags);
	return request(rt, nlh, add ? REQ_SET : REQ_DEL, what);
}

int route_route(struct route_nl *rt, bool add, const struct route_spec *r)
{
	char b[512], what[256], d[ROUTE_ADDRSTRLEN], g[ROUTE_ADDRSTRLEN], n[IF_NAMESIZE];
	char tbl[24] = "";
	if (!r || !addr_valid(&r->dst))
		return -EINVAL;
	bool has_gw = r->gateway.family != 0;
	if ((has_gw && (!addr_valid(&r->gateway) || r->gateway.family != r->dst.family)) ||
	    (r->prefsrc.family && r->prefsrc.family != r->dst.family) || (!has_gw && !r->ifindex))
		return -EINVAL;
	struct route_addr dst = r->dst;
	mask_prefix(&dst);
	if (r->table)
		snprintf(tbl, sizeof(tbl), " table %u", r->table);
	snprintf(what, sizeof(what), "%s route %s%s%s dev %s%s", add ? "add" : "delete",
		 prefix_str(&dst, d, sizeof(d)), has_gw ? " via " : "",
		 has_gw ? route_addr_str(&r->gateway, g, sizeof(g)) : "", ifname_of(r->ifindex, n),
		 tbl);

	size_t alen = addr_bytes(dst.family);
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(b);
	nlh->nlmsg_type = add ? RTM_NEWROUTE : RTM_DELROUTE;
	if (add)
		nlh->nlmsg_flags = NLM_F_CREATE | NLM_F_REPLACE;
	struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = (uint8_t)dst.family;
	rtm->rtm_dst_len = (uint8_t)dst.len;
	uint32_t table = r->table ? r->table : RT_TABLE_MAIN;
	rtm->rtm_table = table < 256 ? (uint8_t)table : RT_TABLE_UNSPEC;
	rtm->rtm_type = RTN_UNICAST;
	if (add) {
		rtm->rtm_protocol = RTPROT_STATIC;
		rtm->rtm_scope = has_gw ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK;
	} else {
		rtm->rtm_scope = RT_SCOPE_NOWHERE; /* match any scope */
	}
	mnl_attr_put(nlh, RTA_DST, alen, dst.a.raw);
	if (has_gw)
		mnl_attr_put(nlh, RTA_GATEWAY, alen, r->gateway.a.raw);
	if (r->prefsrc.family)
		mnl_attr_put(nlh, RTA_PREFSRC, alen, r->prefsrc.a.raw);
	if (r->ifindex)
		mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)r->ifindex);
	if (r->metric)
		mnl_attr_put_u32(nlh, RTA_PRIORITY, r->metric);
	mnl_attr_put_u32(nlh, RTA_TABLE, table);
	return request(rt, nlh, add ? REQ_SET : REQ_DEL, what);
}

int route_rule(struct route_nl *rt, bool add, const struct route_rule_spec *r)
{
	char b[512], what[192], f[ROUTE_ADDRSTRLEN];
	if (!r || !addr_valid(&r->from) || !r->table)
		return -EINVAL;
	if (!memchr(r->oif, 0, sizeof(r->oif)))
		return -EINVAL;
	struct route_addr from = r->from;
	mask_prefix(&from);
	snprintf(what, sizeof(what), "%s rule from %s%s%s lookup %u priority %u",
		 add ? "add" : "delete", prefix_str(&from, f, sizeof(f)), r->oif[0] ? " oif " : "",
		 r->oif, r->table, r->priority);
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(b);
	nlh->nlmsg_type = add ? RTM_NEWRULE : RTM_DELRULE;
	/* Rules may be duplicated; EXCL makes the kernel refuse an identical
	 * one with EEXIST, which we then treat as success. */
	if (add)
		nlh->nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
	struct fib_rule_hdr *frh = mnl_nlmsg_put_extra_header(nlh, sizeof(*frh));
	frh->family = (uint8_t)from.family;
	frh->src_len = (uint8_t)from.len;
	frh->action = FR_ACT_TO_TBL;
	frh->table = r->table < 256 ? (uint8_t)r->table : RT_TABLE_UNSPEC;
	if (from.len)
		mnl_attr_put(nlh, FRA_SRC, addr_bytes(from.family), from.a.raw);
	if (r->oif[0])
		mnl_attr_put_strz(nlh, FRA_OIFNAME, r->oif);
	mnl_attr_put_u32(nlh, FRA_TABLE, r->table);
	if (r->priority)
		mnl_attr_put_u32(nlh, FRA_PRIORITY, r->priority);
	return request(rt, nlh, add ? REQ_ADD_EXCL : REQ_DEL, what);
}

int route_link_policy(struct route_nl *rt, bool add, const char *ifname,
		      const struct route_addr *local, const struct route_addr *gateway,
		      uint32_t table, uint32_t priority)
{
	if (!ifname || !*ifname || strlen(ifname) >= IF_NAMESIZE || !addr_valid(local) || !table ||
	    (gateway && (!addr_valid(gateway) || gateway->family != local->family)))
		return -EINVAL;
	int ifindex = (int)if_nametoindex(ifname);
	struct route_spec rs = {.ifindex = ifindex, .table = table};
	rs.dst.family = local->family; /* default: 0.0.0.0/0 or ::/0 */
	if (gateway)
		rs.gateway = *gateway;
	struct route_rule_spec from = {.from = *local, .table = table, .priority = priority};
	from.from.len = (unsigned)addr_bytes(local->family) * 8;
	struct route_rule_spec oif = {.table = table, .priority = priority};
	oif.from.family = local->family;
	strlcpy_checked(oif.oif, ifname, sizeof(oif.oif));
	if (add) {
		if (!ifindex)
			return log_errno(-ENODEV, "route: policy for %s: no such interface",
					 ifname);
		int r = route_route(rt, true, &rs);
		if (r >= 0)
			r = route_rule(rt, true, &from);
		if (r >= 0)
			r = route_rule(rt, true, &oif);
		if (r < 0)
			route_link_policy(rt, false, ifname, local, gateway, table, priority);
		return r;
	}
	/* Rules first: without them nothing looks the table up any more. */
	int res[3] = {route_rule(rt, false, &oif), route_rule(rt, false, &from),
		      ifindex ? route_route(rt, false, &rs) : -ENOENT};
	for (int i = 0; i < 3; i++)
		if (res[i] < 0 && res[i] != -ENOENT)
			return res[i];
	return 0;
}
