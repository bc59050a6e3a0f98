/* UDP transport against the real kernel, in private network namespaces.
 *
 *   gw (the test's own namespace)            rx                 dead
 *   a0 10.1.0.2/24  fd00:1::2/64  ------------------------------ a1 10.1.0.1  (default route)
 *   b0 10.2.0.2/24  fd00:2::2/64  ------- b1 10.2.0.1/24 fd00:2::1/64
 *                                          lo 10.9.0.1 fd00:9::1 (the receiver)
 *
 * The gateway's default route points at a0, whose far end is a dead end:
 * the receiver is only reachable through b0. Strict reverse-path filtering
 * on the gateway. rx answers ARP only for addresses on the asking
 * interface, as a carrier's router would. Needs root. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../netns/nstest.h"

#include <netinet/ip.h>
#include <netinet/ip6.h>
#include <netinet/udp.h>

#include "log.h"
#include "route.h"
#include "tun.h"
#include "udp.h"

#define B1_MAC	"02:00:00:00:0b:01"
#define TABLE_B 102
#define PRIO_B	1002
#define PAYLOAD "modemd-bundle-frame"

struct env {
	int gw, rx, dead; /* namespace fds */
	struct route_nl *rt;
	int b0;
};

static int setup(void **state)
{
	if (ns_require_root("test_udp") < 0)
		return -1;
	struct env *e = calloc(1, sizeof(*e));
	char p[64];
	e->dead = ns_new();
	ns_sh("ip link set lo up");
	e->rx = ns_new();
	ns_sh("ip link set lo up && ip addr add 10.9.0.1/32 dev lo && "
	      "ip addr add fd00:9::1/128 dev lo && sysctl -qw net.ipv4.conf.all.arp_ignore=1");
	e->gw = ns_new();
	if (e->dead < 0 || e->rx < 0 || e->gw < 0)
		return -1;
	ns_sh("ip link set lo up && sysctl -qw net.ipv4.conf.all.rp_filter=1 "
	      "net.ipv4.conf.default.rp_filter=1");
	ns_sh("ip link add a0 type veth peer name a1 netns %s", ns_path(e->dead, p, sizeof(p)));
	ns_sh("ip link add b0 type veth peer name b1 address " B1_MAC " netns %s",
	      ns_path(e->rx, p, sizeof(p)));
	ns_sh("ip addr add 10.1.0.2/24 dev a0 && ip addr add fd00:1::2/64 dev a0 nodad && "
	      "ip addr add 10.2.0.2/24 dev b0 && ip addr add fd00:2::2/64 dev b0 nodad && "
	      "ip link set a0 up && ip link set b0 up && "
	      "ip route add default via 10.1.0.1 dev a0 && "
	      "ip -6 route add default via fd00:1::1 dev a0");
	ns_enter(e->dead);
	ns_sh("ip addr add 10.1.0.1/24 dev a1 && ip addr add fd00:1::1/64 dev a1 nodad && "
	      "ip link set a1 up");
	ns_enter(e->rx);
	ns_sh("ip addr add 10.2.0.1/24 dev b1 && ip addr add fd00:2::1/64 dev b1 nodad && "
	      "ip link set b1 up");
	ns_wait_ipv6_ready();
	ns_enter(e->gw);
	ns_wait_ipv6_ready();
	int err = 0;
	e->rt = route_open(&err);
	assert_non_null(e->rt);
	e->b0 = (int)if_nametoindex("b0");
	assert_true(e->b0 > 0);
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;
	e->rt = route_close(e->rt);
	close(e->gw);
	close(e->rx);
	close(e->dead);
	free(e);
	return 0;
}

static void policy_b(struct env *e, bool v6)
{
	struct route_addr local, gw;
	assert_int_equal(route_addr_parse(v6 ? "fd00:2::2" : "10.2.0.2", &local), 0);
	assert_int_equal(route_addr_parse(v6 ? "fd00:2::1" : "10.2.0.1", &gw), 0);
	assert_int_equal(route_link_policy(e->rt, true, "b0", &local, &gw, TABLE_B, PRIO_B), 0);
}

/* The receiver's listening socket, created inside rx. */
static int listen_rx(struct env *e, const char *addr, uint16_t *port)
{
	ns_enter(e->rx);
	int fd = udp_listen(addr, 0, NULL);
	ns_enter(e->gw);
	assert_true(fd >= 0);
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&ss, &len), 0);
	*port = ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
					      : ((struct sockaddr_in6 *)&ss)->sin6_port);
	return fd;
}

static int link_socket(const char *ifname, const char *host, uint16_t port)
{
	struct sockaddr_storage ss;
	socklen_t len;
	assert_int_equal(udp_addr_parse(host, port, &ss, &len), 0);
	int err = 0;
	int fd = udp_link_open(ifname, (struct sockaddr *)&ss, len, 0, &err);
	assert_true(fd >= 0);
	return fd;
}

static void send_one(int fd, struct udp_batch *b, const char *text)
{
	b->msg[0].len = strlen(text);
	memcpy(b->msg[0].data, text, b->msg[0].len);
	b->msg[0].peer_len = 0;
	b->msg[0].local.ss_family = 0;
	assert_int_equal(udp_send_batch(fd, b, 1), 1);
}

/* Wait for datagrams and receive one batch of them. */
static int recv_some(int fd, struct udp_batch *b)
{
	int n = 0;
	uint64_t deadline = ns_now_ms() + NS_DEADLINE_MS;
	while (n == 0 && ns_wait_readable(fd, deadline))
		n = udp_recv_batch(fd, b);
	assert_true(n >= 0);
	return n;
}

/* Frame matchers (Ethernet + IPv4/IPv6 + UDP or ARP). */
struct want_frame {
	int family;
	const char *src, *dst; /* IP addresses, NULL: any */
	bool arp;
	const uint8_t *eth_dst; /* NULL: any */
	bool outgoing;
};

static bool ip_is(int family, const uint8_t *p, const char *text)
{
	uint8_t a[16];
	if (!text)
		return true;
	assert_int_equal(inet_pton(family, text, a), 1);
	return !memcmp(p, a, family == AF_INET ? 4 : 16);
}

static bool match(const uint8_t *f, size_t len, int pkttype, void *arg)
{
	struct want_frame *w = arg;
	if (len < 14 || (w->outgoing != (pkttype == PACKET_OUTGOING)))
		return false;
	if (w->eth_dst && memcmp(f, w->eth_dst, 6))
		return false;
	uint16_t type = (uint16_t)(f[12] << 8 | f[13]);
	const uint8_t *ip = f + 14;
	size_t iplen = len - 14;
	if (w->arp) /* request: target protocol address at offset 24 */
		return type == ETH_P_ARP && iplen >= 28 && ip[7] == 1 &&
		       ip_is(AF_INET, ip + 14, w->src) && ip_is(AF_INET, ip + 24, w->dst);
	if (w->family == AF_INET)
		return type == ETH_P_IP && iplen >= 28 && ip[9] == IPPROTO_UDP &&
		       ip_is(AF_INET, ip + 12, w->src) && ip_is(AF_INET, ip + 16, w->dst);
	return type == ETH_P_IPV6 && iplen >= 48 && ip[6] == IPPROTO_UDP &&
	       ip_is(AF_INET6, ip + 8, w->src) && ip_is(AF_INET6, ip + 24, w->dst);
}

/* SO_BINDTODEVICE alone, default route elsewhere: the datagram does go to
 * b0, with b0's address as source, but with no route through b0 the kernel
 * takes the receiver for an on-link neighbour and ARPs for it. This is why
 * an Ethernet-like link needs its policy table. */
static void bindtodevice_alone_arps_for_receiver(void **state)
{
	struct env *e = *state;
	int cap_a = ns_capture("a0"), cap_b = ns_capture("b0");
	int fd = link_socket("b0", "10.9.0.1", UDP_DEFAULT_PORT);
	struct udp_batch *b = udp_batch_new(1, 2048);
	send_one(fd, b, PAYLOAD);
	struct want_frame arp = {
	    .arp = true, .src = "10.2.0.2", .dst = "10.9.0.1", .outgoing = true};
	assert_true(ns_wait_frame(cap_b, match, &arp, ns_now_ms() + NS_DEADLINE_MS));
	struct want_frame udp_a = {.family = AF_INET, .dst = "10.9.0.1", .outgoing = true};
	assert_false(ns_frame_queued(cap_a, match, &udp_a));
	(void)e;
	udp_batch_free(b);
	close(fd);
	close(cap_a);
	close(cap_b);
}

/* The full path, IPv4 link to a dual-stack receiver (IPv4-mapped):
 * out through b0 to b1's MAC (the policy table's gateway) from 10.2.0.2,
 * the receiver sees that source and the address it was sent to, and its
 * reply from that address passes the gateway's strict rp_filter and the
 * connected socket's source filter. */
static void link_socket_leaves_through_its_link(void **state, const char *listen_addr)
{
	struct env *e = *state;
	const uint8_t b1_mac[6] = {2, 0, 0, 0, 0x0b, 1};
	uint16_t port;
	policy_b(e, false);
	int lfd = listen_rx(e, listen_addr, &port);
	int cap_a = ns_capture("a0"), cap_b = ns_capture("b0");
	int fd = link_socket("b0", "10.9.0.1", port);
	struct udp_batch *b = udp_batch_new(4, 2048), *rb = udp_batch_new(4, 2048);

	send_one(fd, b, PAYLOAD);
	struct want_frame out = {.family = AF_INET,
				 .src = "10.2.0.2",
				 .dst = "10.9.0.1",
				 .eth_dst = b1_mac,
				 .outgoing = true};
	assert_true(ns_wait_frame(cap_b, match, &out, ns_now_ms() + NS_DEADLINE_MS));
	assert_false(ns_frame_queued(cap_a, match, &out));

	assert_int_equal(recv_some(lfd, rb), 1);
	struct udp_msg *m = &rb->msg[0];
	char s[UDP_ADDRSTRLEN];
	assert_int_equal(m->len, strlen(PAYLOAD));
	assert_memory_equal(m->data, PAYLOAD, m->len);
	assert_false(m->truncated);
	struct sockaddr_storage mine;
	socklen_t ml = sizeof(mine);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&mine, &ml), 0);
	char want_peer[UDP_ADDRSTRLEN], want_local[UDP_ADDRSTRLEN];
	snprintf(want_peer, sizeof(want_peer), "10.2.0.2:%u",
		 ntohs(((struct sockaddr_in *)&mine)->sin_port));
	snprintf(want_local, sizeof(want_local), "10.9.0.1:%u", port);
	assert_string_equal(udp_addr_str((struct sockaddr *)&m->peer, s, sizeof(s)), want_peer);
	assert_string_equal(udp_addr_str((struct sockaddr *)&m->local, s, sizeof(s)), want_local);

	/* Reply in place: same peer, from the address it arrived at. */
	memcpy(m->data, "reply", 5);
	m->len = 5;
	assert_int_equal(udp_send_batch(lfd, rb, 1), 1);
	struct want_frame in = {.family = AF_INET, .src = "10.9.0.1", .dst = "10.2.0.2"};
	assert_true(ns_wait_frame(cap_b, match, &in, ns_now_ms() + NS_DEADLINE_MS));
	assert_int_equal(recv_some(fd, b), 1);
	assert_int_equal(b->msg[0].len, 5);
	assert_memory_equal(b->msg[0].data, "reply", 5);

	/* The same reply without a source address: the kernel would pick
	 * rx's address on b1, and the gateway's connected socket would drop
	 * it. Seen on the wire, so we know the source matters. */
	rb->msg[0].local.ss_family = 0;
	assert_int_equal(udp_send_batch(lfd, rb, 1), 1);
	struct want_frame wrong = {.family = AF_INET, .src = "10.2.0.1", .dst = "10.2.0.2"};
	assert_true(ns_wait_frame(cap_b, match, &wrong, ns_now_ms() + NS_DEADLINE_MS));

	udp_batch_free(b);
	udp_batch_free(rb);
	close(fd);
	close(lfd);
	close(cap_a);
	close(cap_b);
}

static void link_ipv4_dual_stack_listener(void **state)
{
	link_socket_leaves_through_its_link(state, "::");
}

static void link_ipv4_ipv4_listener(void **state)
{
	link_socket_leaves_through_its_link(state, "0.0.0.0");
}

static void link_ipv6(void **state)
{
	struct env *e = *state;
	const uint8_t b1_mac[6] = {2, 0, 0, 0, 0x0b, 1};
	uint16_t port;
	policy_b(e, true);
	int lfd = listen_rx(e, "::", &port);
	int cap_b = ns_capture("b0");
	int fd = link_socket("b0", "fd00:9::1", port);
	struct udp_batch *b = udp_batch_new(2, 2048), *rb = udp_batch_new(2, 2048);
	send_one(fd, b, PAYLOAD);
	struct want_frame out = {.family = AF_INET6,
				 .src = "fd00:2::2",
				 .dst = "fd00:9::1",
				 .eth_dst = b1_mac,
				 .outgoing = true};
	assert_true(ns_wait_frame(cap_b, match, &out, ns_now_ms() + NS_DEADLINE_MS));
	assert_int_equal(recv_some(lfd, rb), 1);
	char s[UDP_ADDRSTRLEN], want[UDP_ADDRSTRLEN];
	snprintf(want, sizeof(want), "[fd00:9::1]:%u", port);
	assert_string_equal(udp_addr_str((struct sockaddr *)&rb->msg[0].local, s, sizeof(s)), want);
	assert_int_equal(strncmp(udp_addr_str((struct sockaddr *)&rb->msg[0].peer, s, sizeof(s)),
				 "[fd00:2::2]:", 12),
			 0);
	assert_int_equal(udp_send_batch(lfd, rb, 1), 1);
	assert_int_equal(recv_some(fd, b), 1);
	assert_memory_equal(b->msg[0].data, PAYLOAD, strlen(PAYLOAD));
	udp_batch_free(b);
	udp_batch_free(rb);
	close(fd);
	close(lfd);
	close(cap_b);
}

/* 64 datagrams in one sendmmsg, received in order with their contents,
 * echoed back in one sendmmsg. */
static void batch_64(void **state)
{
	struct env *e = *state;
	uint16_t port;
	policy_b(e, false);
	int lfd = listen_rx(e, "::", &port);
	int fd = link_socket("b0", "10.9.0.1", port);
	struct udp_batch *b = udp_batch_new(64, 1500), *rb = udp_batch_new(64, 1500);
	for (unsigned i = 0; i < 64; i++) {
		struct udp_msg *m = &b->msg[i];
		m->len = 100 + i * 10; /* different sizes */
		memset(m->data, (int)i, m->len);
		m->peer_len = 0;
	}
	assert_int_equal(udp_send_batch(fd, b, 64), 64);

	int got = 0;
	uint64_t deadline = ns_now_ms() + NS_DEADLINE_MS;
	while (got < 64 && ns_wait_readable(lfd, deadline)) {
		int n = udp_recv_batch(lfd, rb);
		assert_true(n >= 0);
		for (int i = 0; i < n; i++) {
			struct udp_msg *m = &rb->msg[i];
			unsigned seq = (unsigned)(got + i);
			assert_int_equal(m->len, 100 + seq * 10);
			assert_int_equal(m->data[0], (uint8_t)seq);
			assert_int_equal(m->data[m->len - 1], (uint8_t)seq);
		}
		/* Echo this round back at once. */
		if (n > 0)
			assert_int_equal(udp_send_batch(lfd, rb, (unsigned)n), n);
		got += n;
	}
	assert_int_equal(got, 64);

	got = 0;
	deadline = ns_now_ms() + NS_DEADLINE_MS;
	while (got < 64 && ns_wait_readable(fd, deadline)) {
		int n = udp_recv_batch(fd, b);
		assert_true(n >= 0);
		for (int i = 0; i < n; i++)
			assert_int_equal(b->msg[i].len, 100 + (unsigned)(got + i) * 10);
		got += n;
	}
	assert_int_equal(got, 64);
	udp_batch_free(b);
	udp_batch_free(rb);
	close(fd);
	close(lfd);
}

/* The gateway's situation once the bundle is up: the default route is the
 * bundle's TUN device. Link sockets still reach the receiver through their
 * links (policy tables), and nothing of theirs loops into the TUN. */
static void default_route_via_tun(void **state)
{
	struct env *e = *state;
	char name[IF_NAMESIZE];
	int tun = tun_open("mp0", name, NULL);
	assert_true(tun >= 0);
	int ti = (int)if_nametoindex(name);
	struct route_addr local, peer;
	assert_int_equal(route_addr_parse("10.77.0.1", &local), 0);
	assert_int_equal(route_addr_parse("10.77.0.2", &peer), 0);
	assert_int_equal(route_address(e->rt, true, ti, &local, &peer, 0), 0);
	assert_int_equal(route_link_set_up(e->rt, ti, true), 0);
	struct route_spec def = {.ifindex = ti};
	assert_int_equal(route_addr_parse("0.0.0.0/0", &def.dst), 0);
	assert_int_equal(route_route(e->rt, true, &def), 0); /* replaces via a0 */
	policy_b(e, false);

	uint16_t port;
	int lfd = listen_rx(e, "0.0.0.0", &port);
	int fd = link_socket("b0", "10.9.0.1", port);
	struct udp_batch *b = udp_batch_new(1, 2048), *rb = udp_batch_new(1, 2048);
	send_one(fd, b, PAYLOAD);
	assert_int_equal(recv_some(lfd, rb), 1);
	assert_memory_equal(rb->msg[0].data, PAYLOAD, strlen(PAYLOAD));
	uint8_t pkt[2048];
	ssize_t n;
	while ((n = tun_read(tun, pkt, sizeof(pkt))) > 0)
		assert_false((pkt[0] >> 4) == 4 && pkt[9] == IPPROTO_UDP);
	assert_int_equal(n, -EAGAIN);
	/* An ordinary socket does follow the default route into the TUN. */
	int plain = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(port)};
	inet_pton(AF_INET, "10.9.0.1", &to.sin_addr);
	assert_int_equal(sendto(plain, "x", 1, 0, (struct sockaddr *)&to, sizeof(to)), 1);
	uint64_t deadline = ns_now_ms() + NS_DEADLINE_MS;
	do {
		assert_true(ns_wait_readable(tun, deadline));
		n = tun_read(tun, pkt, sizeof(pkt));
	} while (n < 20 || (pkt[0] >> 4) != 4);
	assert_int_equal(pkt[9], IPPROTO_UDP);
	assert_memory_equal(pkt + 16, &to.sin_addr, 4);
	close(plain);
	udp_batch_free(b);
	udp_batch_free(rb);
	close(fd);
	close(lfd);
	close(tun);
}

/* A datagram longer than the buffer is flagged, not overrun. */
static void truncated_flagged(void **state)
{
	struct env *e = *state;
	uint16_t port;
	policy_b(e, false);
	int lfd = listen_rx(e, "0.0.0.0", &port);
	int fd = link_socket("b0", "10.9.0.1", port);
	struct udp_batch *b = udp_batch_new(1, 1000), *rb = udp_batch_new(1, 100);
	b->msg[0].len = 1000;
	memset(b->msg[0].data, 0x5a, 1000);
	assert_int_equal(udp_send_batch(fd, b, 1), 1);
	assert_int_equal(recv_some(lfd, rb), 1);
	assert_true(rb->msg[0].truncated);
	assert_int_equal(rb->msg[0].len, 100);
	/* b0's MTU is 1500: 1500 - 20 - 8. */
	assert_int_equal(udp_payload_mtu(fd), 1472);
	udp_batch_free(b);
	udp_batch_free(rb);
	close(fd);
	close(lfd);
}

static void bad_arguments(void **state)
{
	(void)state;
	struct sockaddr_storage ss;
	socklen_t len;
	char s[UDP_ADDRSTRLEN];
	int err = 0;
	assert_int_equal(udp_addr_parse("10.9.0.1", 6671, &ss, &len), 0);
	assert_string_equal(udp_addr_str((struct sockaddr *)&ss, s, sizeof(s)), "10.9.0.1:6671");
	assert_int_equal(udp_link_open("nosuchdev", (struct sockaddr *)&ss, len, 0, &err), -ENODEV);
	assert_int_equal(err, -ENODEV);
	assert_int_equal(udp_link_open("b0", (struct sockaddr *)&ss, 2, 0, NULL), -EINVAL);
	/* The same local port on two links: allowed, each bound to its device. */
	int f1 = udp_link_open("a0", (struct sockaddr *)&ss, len, 46671, NULL);
	int f2 = udp_link_open("b0", (struct sockaddr *)&ss, len, 46671, NULL);
	assert_true(f1 >= 0 && f2 >= 0);
	close(f1);
	close(f2);
	assert_int_equal(udp_addr_parse("example.org", 1, &ss, &len), -EINVAL);
	assert_int_equal(udp_listen("not-an-address", 0, NULL), -EINVAL);
	assert_null(udp_batch_new(0, 100));
	assert_null(udp_batch_new(1, 70000));
	assert_null(udp_batch_free(NULL));
}

int main(void)
{
	log_set_level(LOG_DEBUG);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(bindtodevice_alone_arps_for_receiver, setup, teardown),
	    cmocka_unit_test_setup_teardown(link_ipv4_dual_stack_listener, setup, teardown),
	    cmocka_unit_test_setup_teardown(link_ipv4_ipv4_listener, setup, teardown),
	    cmocka_unit_test_setup_teardown(link_ipv6, setup, teardown),
	    cmocka_unit_test_setup_teardown(batch_64, setup, teardown),
	    cmocka_unit_test_setup_teardown(default_route_via_tun, setup, teardown),
	    cmocka_unit_test_setup_teardown(truncated_flagged, setup, teardown),
	    cmocka_unit_test_setup_teardown(bad_arguments, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
