/* UDP transport of the bundle: one frame per datagram.
 *
 * Gateway: one socket per link, bound to the link's interface and connected
 * to the receiver (udp_link_open). Receiver: one listening socket for every
 * gateway (udp_listen) that records the address each datagram arrived at,
 * so replies leave from it. Both move datagrams in batches with
 * recvmmsg/sendmmsg through a struct udp_batch allocated once: the data path
 * does no allocation per packet. See docs/transport.md. */
#pragma once
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define UDP_DEFAULT_PORT 6671

/* "192.0.2.1:6671" or "[2001:db8::1]:6671" (IPv4-mapped shown as IPv4). */
#define UDP_ADDRSTRLEN (INET6_ADDRSTRLEN + 8)
const char *udp_addr_str(const struct sockaddr *sa, char *buf, size_t size);
/* Numeric host (IPv4 or IPv6, no brackets) and port into a sockaddr.
 * Returns 0 or -EINVAL. */
int udp_addr_parse(const char *host, uint16_t port, struct sockaddr_storage *out, socklen_t *len);

/* Gateway link socket: family of remote, non-blocking, close-on-exec,
 * SO_BINDTODEVICE(ifname) so the route lookup only considers routes through
 * that interface, bound to local_port (0: any), connected to remote (the
 * kernel then drops datagrams from other sources). On an Ethernet-like link
 * the next hop comes from the link's policy table (route_link_policy);
 * without it the kernel assumes remote is on-link and ARPs for it.
 * Returns the fd or a negative errno (also in *err when err is not NULL). */
int udp_link_open(const char *ifname, const struct sockaddr *remote, socklen_t remote_len,
		  uint16_t local_port, int *err);

/* Receiver socket on addr ("0.0.0.0", "::" = dual-stack, or one address;
 * NULL or "" = "::") and port (0: any; see getsockname). Reports each
 * datagram's destination address (IP_PKTINFO / IPV6_RECVPKTINFO; on the
 * dual-stack socket IPv4 arrives as IPv4-mapped IPv6). Returns the fd or a
 * negative errno (also in *err when err is not NULL). */
int udp_listen(const char *addr, uint16_t port, int *err);

/* Largest UDP payload that leaves a connected socket unfragmented, from the
 * route's MTU (IP_MTU / IPV6_MTU). Returns it or a negative errno. */
int udp_payload_mtu(int fd);

struct udp_msg {
	uint8_t *data; /* cap bytes, preallocated; for a send it may point elsewhere */
	size_t cap;
	size_t len;	/* received length / length to send */
	bool truncated; /* received datagram was longer than cap (the rest is lost) */
	/* Receive: the source. Send: the destination, peer_len 0 on a
	 * connected socket. */
	struct sockaddr_storage peer;
	socklen_t peer_len;
	/* Receive: the address the datagram was sent to and the interface it
	 * came in on (family 0 if the socket does not report it). Send: when
	 * family is set, the source address to use (copy it from the received
	 * message so a reply leaves from the address the gateway talks to). */
	struct sockaddr_storage local;
	int ifindex;
};

struct udp_batch_priv;

struct udp_batch {
	unsigned count; /* number of msg */
	struct udp_msg *msg;
	struct udp_batch_priv *priv;
};

/* count messages (1..1024) of bufsize bytes (1..65535) each, in one go. */
struct udp_batch *udp_batch_new(unsigned count, size_t bufsize);
/* NULL-safe; returns NULL. */
struct udp_batch *udp_batch_free(struct udp_batch *b);

/* Receive up to b->count datagrams without blocking into msg[0..n).
 * Returns n (0: none waiting) or a negative errno; on a connected socket an
 * ICMP error from the peer comes back as -ECONNREFUSED and the like, once. */
int udp_recv_batch(int fd, struct udp_batch *b);
/* Send msg[0..n) without blocking. Returns how many the kernel took (0: the
 * socket buffer is full) or a negative errno when the first one failed. */
int udp_send_batch(int fd, struct udp_batch *b, unsigned n);
