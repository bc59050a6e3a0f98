/* UDP sockets for the bundle: per-link gateway sockets, the receiver's
 * listening socket, and batched I/O with the destination address of each
 * datagram (so the receiver answers from the address it was reached at:
 * gateways behind carrier NAT only accept replies from that address). */
#include "udp.h"
#include "log.h"
#include "util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define UDP_BATCH_MAX 1024
#define UDP_BUF_MAX   65535

/* Room for one pktinfo of either family. */
union udp_cmsg {
	struct cmsghdr align;
	char buf[CMSG_SPACE(sizeof(struct in6_pktinfo)) + CMSG_SPACE(sizeof(struct in_pktinfo))];
};

struct udp_batch_priv {
	struct mmsghdr *hdr;
	struct iovec *iov;
	union udp_cmsg *ctl;
	uint8_t *bufs;
};

const char *udp_addr_str(const struct sockaddr *sa, char *buf, size_t size)
{
	char host[INET6_ADDRSTRLEN] = "?";
	if (sa && sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
		inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
		snprintf(buf, size, "%s:%u", host, ntohs(in->sin_port));
	} else if (sa && sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
		if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
			inet_ntop(AF_INET, &in6->sin6_addr.s6_addr[12], host, sizeof(host));
			snprintf(buf, size, "%s:%u", host, ntohs(in6->sin6_port));
		} else {
			inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
			snprintf(buf, size, "[%s]:%u", host, ntohs(in6->sin6_port));
		}
	} else {
		snprintf(buf, size, "(none)");
	}
	return buf;
}

int udp_addr_parse(const char *host, uint16_t port, struct sockaddr_storage *out, socklen_t *len)
{
	memset(out, 0, sizeof(*out));
	struct sockaddr_in *in = (struct sockaddr_in *)out;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)out;
	if (!host)
		return -EINVAL;
	if (inet_pton(AF_INET, host, &in->sin_addr) == 1) {
		in->sin_family = AF_INET;
		in->sin_port = htons(port);
		*len = sizeof(*in);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		*len = sizeof(*in6);
		return 0;
	}
	return -EINVAL;
}

#define UDP_LISTEN_RCVBUF (8 << 20)

static int set_int(int fd, int level, int opt, int v)
{
	return setsockopt(fd, level, opt, &v, sizeof(v)) < 0 ? -errno : 0;
}

static int bind_any(int fd, int family, uint16_t port)
{
	struct sockaddr_storage ss = {0};
	socklen_t len;
	if (family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)&ss;
		in->sin_family = AF_INET;
		in->sin_port = htons(port);
		len = sizeof(*in);
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		len = sizeof(*in6);
	}
	return bind(fd, (struct sockaddr *)&ss, len) < 0 ? -errno : 0;
}

int udp_link_open(const char *ifname, const struct sockaddr *remote, socklen_t remote_len,
		  uint16_t local_port, int *err)
{
	char rs[UDP_ADDRSTRLEN];
	int r, fd = -1;
	if (!ifname || !*ifname || strlen(ifname) >= IF_NAMESIZE) {
		r = log_errno(-EINVAL, "udp: bad interface name for a link socket");
		goto fail;
	}
	if (!remote ||
	    !((remote->sa_family == AF_INET && remote_len >= sizeof(struct sockaddr_in)) ||
	      (remote->sa_family == AF_INET6 && remote_len >= sizeof(struct sockaddr_in6)))) {
		r = log_errno(-EINVAL, "udp: %s: remote is not an IPv4/IPv6 address", ifname);
		goto fail;
	}
	udp_addr_str(remote, rs, sizeof(rs));
	fd = socket(remote->sa_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_UDP);
	if (fd < 0) {
		r = -errno;
		log_err("udp: %s: socket: %s", ifname, strerror(-r));
		goto fail;
	}
	/* Before bind and connect: both then only consider this device, and
	 * the same local port may be used on every link. */
	if (setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, ifname, (socklen_t)strlen(ifname) + 1) <
	    0) {
		r = -errno;
		log_err("udp: %s: SO_BINDTODEVICE: %s", ifname, strerror(-r));
		goto fail;
	}
	if (remote->sa_family == AF_INET6 && (r = set_int(fd, IPPROTO_IPV6, IPV6_V6ONLY, 1)) < 0) {
		log_err("udp: %s: IPV6_V6ONLY: %s", ifname, strerror(-r));
		goto fail;
	}
	if (local_port && (r = bind_any(fd, remote->sa_family, local_port)) < 0) {
		log_err("udp: %s: bind to port %u: %s", ifname, local_port, strerror(-r));
		goto fail;
	}
	/* connect() picks the source address (the link's) and then looks the
	 * route up again with it, so "from <link address>" rules apply. */
	if (connect(fd, remote, remote_len) < 0) {
		r = -errno;
		log_err("udp: %s: connect to %s: %s", ifname, rs, strerror(-r));
		goto fail;
	}
	log_debug("udp: link socket on %s to %s", ifname, rs);
	return fd;
fail:
	if (fd >= 0)
		close(fd);
	if (err)
		*err = r;
	return r;
}

int udp_listen(const char *addr, uint16_t port, int *err)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int r, fd = -1;
	if (!addr || !*addr)
		addr = "::";
	if (udp_addr_parse(addr, port, &ss, &len) < 0) {
		r = log_errno(-EINVAL, "udp: listen address is not numeric IPv4/IPv6: %s", addr);
		goto fail;
	}
	fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_UDP);
	if (fd < 0) {
		r = -errno;
		log_err("udp: socket for %s: %s", addr, strerror(-r));
		goto fail;
	}
	if (ss.ss_family == AF_INET6) {
		const struct in6_addr *a = &((struct sockaddr_in6 *)&ss)->sin6_addr;
		/* "::" serves both families, whatever the bindv6only sysctl says. */
		r = set_int(fd, IPPROTO_IPV6, IPV6_V6ONLY, IN6_IS_ADDR_UNSPECIFIED(a) ? 0 : 1);
		if (r >= 0)
			r = set_int(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, 1);
	} else {
		r = set_int(fd, IPPROTO_IP, IP_PKTINFO, 1);
	}
	if (r < 0) {
		log_err("udp: socket options for %s: %s", addr, strerror(-r));
		goto fail;
	}
	/* One socket carries every gateway: a burst (or a flood from strangers)
	 * must not overflow the default ~200 KiB buffer and cost good links
	 * datagrams. FORCE needs CAP_NET_ADMIN; fall back to the sysctl cap. */
	if (set_int(fd, SOL_SOCKET, SO_RCVBUFFORCE, UDP_LISTEN_RCVBUF) < 0)
		set_int(fd, SOL_SOCKET, SO_RCVBUF, UDP_LISTEN_RCVBUF);
	if (bind(fd, (struct sockaddr *)&ss, len) < 0) {
		r = -errno;
		log_err("udp: bind to %s port %u: %s", addr, port, strerror(-r));
		goto fail;
	}
	return fd;
fail:
	if (fd >= 0)
		close(fd);
	if (err)
		*err = r;
	return r;
}

int udp_payload_mtu(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int mtu;
	socklen_t ml = sizeof(mtu);
	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return -errno;
	bool v6 = ss.ss_family == AF_INET6;
	if (getsockopt(fd, v6 ? IPPROTO_IPV6 : IPPROTO_IP, v6 ? IPV6_MTU : IP_MTU, &mtu, &ml) < 0)
		return -errno;
	int payload = mtu - (v6 ? 40 : 20) - 8;
	return payload > 0 ? payload : -EMSGSIZE;
}

struct udp_batch *udp_batch_new(unsigned count, size_t bufsize)
{
	if (count == 0 || count > UDP_BATCH_MAX || bufsize == 0 || bufsize > UDP_BUF_MAX)
		return NULL;
	struct udp_batch *b = calloc(1, sizeof(*b));
	if (!b)
		return NULL;
	b->count = count;
	b->msg = calloc(count, sizeof(*b->msg));
	b->priv = calloc(1, sizeof(*b->priv));
	if (!b->msg || !b->priv)
		return udp_batch_free(b);
	struct udp_batch_priv *p = b->priv;
	p->hdr = calloc(count, sizeof(*p->hdr));
	p->iov = calloc(count, sizeof(*p->iov));
	p->ctl = calloc(count, sizeof(*p->ctl));
	p->bufs = calloc(count, bufsize);
	if (!p->hdr || !p->iov || !p->ctl || !p->bufs)
		return udp_batch_free(b);
	for (unsigned i = 0; i < count; i++) {
		b->msg[i].data = p->bufs + (size_t)i * bufsize;
		b->msg[i].cap = bufsize;
	}
	return b;
}

struct udp_batch *udp_batch_free(struct udp_batch *b)
{
	if (!b)
		return NULL;
	if (b->priv) {
		free(b->priv->hdr);
		free(b->priv->iov);
		free(b->priv->ctl);
		free(b->priv->bufs);
		free(b->priv);
	}
	free(b->msg);
	free(b);
	return NULL;
}

/* The destination address and interface from the control messages. */
static void parse_pktinfo(struct msghdr *mh, struct udp_msg *m, uint16_t port)
{
	memset(&m->local, 0, sizeof(m->local));
	m->ifindex = 0;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO &&
		    c->cmsg_len >= CMSG_LEN(sizeof(struct in_pktinfo))) {
			struct in_pktinfo pi;
			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			struct sockaddr_in *in = (struct sockaddr_in *)&m->local;
			in->sin_family = AF_INET;
			in->sin_addr = pi.ipi_addr;
			in->sin_port = port;
			m->ifindex = pi.ipi_ifindex;
		} else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO &&
			   c->cmsg_len >= CMSG_LEN(sizeof(struct in6_pktinfo))) {
			struct in6_pktinfo pi;
			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&m->local;
			in6->sin6_family = AF_INET6;
			in6->sin6_addr = pi.ipi6_addr;
			in6->sin6_port = port;
			m->ifindex = (int)pi.ipi6_ifindex;
		}
	}
}

static uint16_t sock_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return 0;
	if (ss.ss_family == AF_INET)
		return ((struct sockaddr_in *)&ss)->sin_port;
	if (ss.ss_family == AF_INET6)
		return ((struct sockaddr_in6 *)&ss)->sin6_port;
	return 0;
}

int udp_recv_batch(int fd, struct udp_batch *b)
{
	struct udp_batch_priv *p = b->priv;
	for (unsigned i = 0; i < b->count; i++) {
		struct msghdr *mh = &p->hdr[i].msg_hdr;
		p->iov[i] = (struct iovec){.iov_base = b->msg[i].data, .iov_len = b->msg[i].cap};
		*mh = (struct msghdr){
		    .msg_name = &b->msg[i].peer,
		    .msg_namelen = sizeof(b->msg[i].peer),
		    .msg_iov = &p->iov[i],
		    .msg_iovlen = 1,
		    .msg_control = p->ctl[i].buf,
		    .msg_controllen = sizeof(p->ctl[i].buf),
		};
	}
	int n = recvmmsg(fd, p->hdr, b->count, MSG_DONTWAIT, NULL);
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -errno;
	uint16_t port = n > 0 ? sock_port(fd) : 0;
	for (int i = 0; i < n; i++) {
		struct udp_msg *m = &b->msg[i];
		struct msghdr *mh = &p->hdr[i].msg_hdr;
		m->len = p->hdr[i].msg_len;
		m->truncated = (mh->msg_flags & MSG_TRUNC) != 0;
		if (m->len > m->cap)
			m->len = m->cap;
		m->peer_len = mh->msg_namelen;
		parse_pktinfo(mh, m, port);
	}
	return n;
}

/* Source address for one datagram: IP_PKTINFO on an IPv4 socket,
 * IPV6_PKTINFO (IPv4-mapped for IPv4 peers) on an IPv6 one. The interface
 * is left to routing, except for link-local sources that need it. */
static socklen_t put_pktinfo(const struct udp_msg *m, union udp_cmsg *ctl)
{
	memset(ctl, 0, sizeof(*ctl));
	struct msghdr mh = {.msg_control = ctl->buf, .msg_controllen = sizeof(ctl->buf)};
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
	if (m->local.ss_family == AF_INET) {
		struct in_pktinfo pi = {0};
		pi.ipi_spec_dst = ((const struct sockaddr_in *)&m->local)->sin_addr;
		c->cmsg_level = IPPROTO_IP;
		c->cmsg_type = IP_PKTINFO;
		c->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(c), &pi, sizeof(pi));
		return CMSG_SPACE(sizeof(pi));
	}
	if (m->local.ss_family == AF_INET6) {
		struct in6_pktinfo pi = {0};
		pi.ipi6_addr = ((const struct sockaddr_in6 *)&m->local)->sin6_addr;
		if (IN6_IS_ADDR_LINKLOCAL(&pi.ipi6_addr))
			pi.ipi6_ifindex = (unsigned)m->ifindex;
		c->cmsg_level = IPPROTO_IPV6;
		c->cmsg_type = IPV6_PKTINFO;
		c->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(c), &pi, sizeof(pi));
		return CMSG_SPACE(sizeof(pi));
	}
	return 0;
}

int udp_send_batch(int fd, struct udp_batch *b, unsigned n)
{
	struct udp_batch_priv *p = b->priv;
	if (n > b->count)
		return -EINVAL;
	if (n == 0)
		return 0;
	for (unsigned i = 0; i < n; i++) {
		struct udp_msg *m = &b->msg[i];
		struct msghdr *mh = &p->hdr[i].msg_hdr;
		p->iov[i] = (struct iovec){.iov_base = m->data, .iov_len = m->len};
		socklen_t cl = put_pktinfo(m, &p->ctl[i]);
		*mh = (struct msghdr){
		    .msg_name = m->peer_len ? &m->peer : NULL,
		    .msg_namelen = m->peer_len,
		    .msg_iov = &p->iov[i],
		    .msg_iovlen = 1,
		    .msg_control = cl ? p->ctl[i].buf : NULL,
		    .msg_controllen = cl,
		};
	}
	int sent = sendmmsg(fd, p->hdr, n, MSG_DONTWAIT);
	if (sent < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -errno;
	return sent;
}
