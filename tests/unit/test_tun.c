/* TUN device and rtnetlink requests against the real kernel, in a private
 * network namespace: what the kernel routes into the device comes out of
 * the fd as IP packets, what we write into the fd is delivered (and
 * answered) by the kernel. Needs root. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../netns/nstest.h"

#include <linux/if_addr.h>

#include "buf.h"
#include "log.h"
#include "route.h"
#include "tun.h"
#include "udp.h"

struct env {
	int ns;
	struct route_nl *rt;
	int tun, ifindex;
	char name[IF_NAMESIZE];
};

static struct route_addr A(const char *s) {
	struct route_addr a;
	assert_int_equal(route_addr_parse(s, &a), 0);
	return a;
}

static int
setup(void **state)
{
	if (ns_require_root("test_tun") < 0)
		return -1;
	struct env *e = calloc(1, sizeof(*e));
	e->ns = ns_new();
	if (e->ns < 0)
		return -1;
	ns_sh("ip link set lo up");
	int err = 0;
	e->rt = route_open(&err);
	assert_non_null(e->rt);
	e->tun = tun_open(NULL, e->name, &err);
	assert_true(e->tun >= 0);
	e->ifindex = (int)if_nametoindex(e->name);
	assert_true(e->ifindex > 0);
	struct route_addr local = A("10.77.0.1"), peer = A("10.77.0.2/32"), v6 = A("fd00:77::1/64");
	assert_int_equal(route_link_set_mtu(e->rt, e->ifindex, 1400), 0);
	assert_int_equal(route_address(e->rt, true, e->ifindex, &local, &peer, 0), 0);
	assert_int_equal(route_address(e->rt, true, e->ifindex, &v6, NULL, IFA_F_NODAD), 0);
	assert_int_equal(route_link_set_up(e->rt, e->ifindex, true), 0);
	ns_wait_ipv6_ready();
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;
	close(e->tun);
	e->rt = route_close(e->rt);
	close(e->ns);
	free(e);
	return 0;
}

/* Next packet from the TUN fd, skipping IPv6 router/MLD chatter. */
static size_t read_ip(struct env *e, uint8_t *buf, size_t size, int version)
{
	uint64_t deadline = ns_now_ms() + NS_DEADLINE_MS;
	while (ns_wait_readable(e->tun, deadline)) {
		ssize_t n = tun_read(e->tun, buf, size);
		if (n == -EAGAIN)
			continue;
		assert_true(n > 0);
		if ((buf[0] >> 4) == version)
			return (size_t)n;
	}
	fail_msg("no IPv%d packet from %s", version, e->name);
	return 0;
}

static int udp4_socket(const char *bind_addr)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	if (bind_addr) {
		struct sockaddr_in in = {.sin_family = AF_INET};
		inet_pton(AF_INET, bind_addr, &in.sin_addr);
		assert_int_equal(bind(fd, (struct sockaddr *)&in, sizeof(in)), 0);
	}
	return fd;
}

static int send4(int fd, const char *dst, const void *p, size_t len)
{
	struct sockaddr_in in = {.sin_family = AF_INET, .sin_port = htons(9)};
	inet_pton(AF_INET, dst, &in.sin_addr);
	return sendto(fd, p, len, 0, (struct sockaddr *)&in, sizeof(in)) < 0 ? -errno : 0;
}

static void assert_ip4(const uint8_t *p, const char *src, const char *dst, uint8_t proto)
{
	uint8_t s[4], d[4];
	inet_pton(AF_INET, src, s);
	inet_pton(AF_INET, dst, d);
	assert_int_equal(p[9], proto);
	assert_memory_equal(p + 12, s, 4);
	assert_memory_equal(p + 16, d, 4);
}

/* A datagram routed into the device comes out of the fd as one IPv4
 * packet, from the device's address; the peer address is routed there too. */
static void routed_packet_read_from_fd(void **state)
{
	struct env *e = *state;
	struct route_spec r = {.dst = A("10.78.0.0/24"), .ifindex = e->ifindex};
	assert_int_equal(route_route(e->rt, true, &r), 0);
	assert_int_equal(route_route(e->rt, true, &r), 0); /* idempotent */
	int fd = udp4_socket(NULL);
	uint8_t pkt[2048];
	assert_int_equal(send4(fd, "10.78.0.5", "hello-tun", 9), 0);
	size_t n = read_ip(e, pkt, sizeof(pkt), 4);
	assert_int_equal(n, 20 + 8 + 9);
	assert_ip4(pkt, "10.77.0.1", "10.78.0.5", IPPROTO_UDP);
	assert_memory_equal(pkt + 28, "hello-tun", 9);

	assert_int_equal(send4(fd, "10.77.0.2", "peer", 4), 0);
	n = read_ip(e, pkt, sizeof(pkt), 4);
	assert_ip4(pkt, "10.77.0.1", "10.77.0.2", IPPROTO_UDP);

	/* MTU 1400: a 3000-byte datagram leaves in fragments that fit. */
	uint8_t big[3000] = {0};
	assert_int_equal(send4(fd, "10.78.0.5", big, sizeof(big)), 0);
	size_t total = 0;
	bool more = true;
	while (more) {
		n = read_ip(e, pkt, sizeof(pkt), 4);
		assert_true(n <= 1400);
		more = (pkt[6] & 0x20) != 0; /* MF */
		total += n - 20;
	}
	assert_int_equal(total, 8 + sizeof(big));

	assert_int_equal(route_route(e->rt, false, &r), 0);
	assert_int_equal(route_route(e->rt, false, &r), -ENOENT);
	assert_int_equal(send4(fd, "10.78.0.5", "x", 1), -ENETUNREACH);
	close(fd);
}

static void put_ip4(struct wbuf *w, const char *src, const char *dst, uint8_t proto, size_t payload)
{
	uint8_t s[4], d[4];
	inet_pton(AF_INET, src, s);
	inet_pton(AF_INET, dst, d);
	size_t start = w->len;
	wbuf_put8(w, 0x45);
	wbuf_put8(w, 0);
	wbuf_put16(w, (uint16_t)(20 + payload));
	wbuf_put32(w, 0x12340000); /* id, no fragment */
	wbuf_put8(w, 64);
	wbuf_put8(w, proto);
	wbuf_put16(w, 0);
	wbuf_put_bytes(w, s, 4);
	wbuf_put_bytes(w, d, 4);
	wbuf_set16(w, start + 10, ns_csum_fold(ns_csum_add(0, w->p + start, 20)));
}

/* Ping through the device: an echo request written into the fd is
 * answered by the kernel, and the reply comes out of the fd. */
static void ping_through_tun(void **state)
{
	struct env *e = *state;
	struct route_spec r = {.dst = A("10.78.0.0/24"), .ifindex = e->ifindex};
	assert_int_equal(route_route(e->rt, true, &r), 0);
	uint8_t pkt[256];
	struct wbuf w = wbuf_make(pkt, sizeof(pkt));
	put_ip4(&w, "10.78.0.5", "10.77.0.1", IPPROTO_ICMP, 8 + 16);
	size_t icmp = w.len;
	wbuf_put8(&w, 8); /* echo request */
	wbuf_put8(&w, 0);
	wbuf_put16(&w, 0);
	wbuf_put16(&w, 0xbeef); /* id */
	wbuf_put16(&w, 7);	/* seq */
	wbuf_put_bytes(&w, "0123456789abcdef", 16);
	assert_true(wbuf_ok(&w));
	wbuf_set16(&w, icmp + 2, ns_csum_fold(ns_csum_add(0, pkt + icmp, w.len - icmp)));
	assert_int_equal(tun_write(e->tun, pkt, w.len), 0);

	uint8_t in[2048];
	size_t n = read_ip(e, in, sizeof(in), 4);
	assert_int_equal(n, w.len);
	assert_ip4(in, "10.77.0.1", "10.78.0.5", IPPROTO_ICMP);
	assert_int_equal(in[20], 0);			/* echo reply */
	assert_memory_equal(in + 24, pkt + 24, 4 + 16); /* id, seq, data */
}

/* IPv6: a UDP datagram written into the fd reaches a socket on the
 * device's IPv6 address. */
static void ipv6_packet_delivered(void **state)
{
	struct env *e = *state;
	int fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in6 me = {.sin6_family = AF_INET6};
	inet_pton(AF_INET6, "fd00:77::1", &me.sin6_addr);
	assert_int_equal(bind(fd, (struct sockaddr *)&me, sizeof(me)), 0);
	socklen_t ml = sizeof(me);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&me, &ml), 0);

	uint8_t pkt[256], src[16];
	inet_pton(AF_INET6, "fd00:77::2", src);
	const char *data = "v6-through-tun";
	size_t ulen = 8 + strlen(data);
	struct wbuf w = wbuf_make(pkt, sizeof(pkt));
	wbuf_put32(&w, 0x60000000);
	wbuf_put16(&w, (uint16_t)ulen);
	wbuf_put8(&w, IPPROTO_UDP);
	wbuf_put8(&w, 64);
	wbuf_put_bytes(&w, src, 16);
	wbuf_put_bytes(&w, &me.sin6_addr, 16);
	wbuf_put16(&w, 4242);
	wbuf_put16(&w, ntohs(me.sin6_port));
	wbuf_put16(&w, (uint16_t)ulen);
	wbuf_put16(&w, 0);
	wbuf_put_bytes(&w, data, strlen(data));
	assert_true(wbuf_ok(&w));
	/* Pseudo-header: addresses, length, next header. */
	uint32_t sum = ns_csum_add(0, pkt + 8, 32);
	sum += (uint32_t)ulen + IPPROTO_UDP;
	sum = ns_csum_add(sum, pkt + 40, ulen);
	wbuf_set16(&w, 40 + 6, ns_csum_fold(sum));
	assert_int_equal(tun_write(e->tun, pkt, w.len), 0);

	assert_true(ns_wait_readable(fd, ns_now_ms() + NS_DEADLINE_MS));
	char got[64];
	struct sockaddr_in6 from;
	socklen_t fl = sizeof(from);
	ssize_t n = recvfrom(fd, got, sizeof(got), 0, (struct sockaddr *)&from, &fl);
	assert_int_equal(n, (ssize_t)strlen(data));
	assert_memory_equal(got, data, strlen(data));
	assert_memory_equal(&from.sin6_addr, src, 16);
	assert_int_equal(ntohs(from.sin6_port), 4242);
	close(fd);
}

/* A rule sends traffic from the device's address to its own table, whose
 * default route is the device; the main table has no default route. */
static void rule_and_table(void **state)
{
	struct env *e = *state;
	struct route_spec def = {.dst = A("0.0.0.0/0"), .ifindex = e->ifindex, .table = 200};
	struct route_rule_spec rule = {.from = A("10.77.0.1"), .table = 200, .priority = 2000};
	int fd = udp4_socket("10.77.0.1");
	assert_int_equal(send4(fd, "192.0.2.1", "x", 1), -ENETUNREACH);

	assert_int_equal(route_route(e->rt, true, &def), 0);
	assert_int_equal(route_rule(e->rt, true, &rule), 0);
	assert_int_equal(route_rule(e->rt, true, &rule), 0); /* idempotent */
	assert_int_equal(send4(fd, "192.0.2.1", "via-table", 9), 0);
	uint8_t pkt[2048];
	read_ip(e, pkt, sizeof(pkt), 4);
	assert_ip4(pkt, "10.77.0.1", "192.0.2.1", IPPROTO_UDP);

	/* Unbound sockets are not "from 10.77.0.1": still no route. */
	int other = udp4_socket(NULL);
	assert_int_equal(send4(other, "192.0.2.1", "x", 1), -ENETUNREACH);
	close(other);

	assert_int_equal(route_rule(e->rt, false, &rule), 0);
	assert_int_equal(route_rule(e->rt, false, &rule), -ENOENT);
	assert_int_equal(send4(fd, "192.0.2.1", "x", 1), -ENETUNREACH);
	assert_int_equal(route_route(e->rt, false, &def), 0);
	close(fd);
}

/* A point-to-point link's policy (a ppp link: no gateway, dev only):
 * a link socket bound to the device reaches any address through it, from
 * the device's address, though the main table has no default route. */
static void link_policy_point_to_point(void **state)
{
	struct env *e = *state;
	struct route_addr l4 = A("10.77.0.1"), l6 = A("fd00:77::1");
	assert_int_equal(route_link_policy(e->rt, true, e->name, &l4, NULL, 300, 3000), 0);
	assert_int_equal(route_link_policy(e->rt, true, e->name, &l6, NULL, 300, 3000), 0);
	const char *dst[2] = {"192.0.2.1", "2001:db8::1"};
	for (int i = 0; i < 2; i++) {
		struct sockaddr_storage ss;
		socklen_t len;
		assert_int_equal(udp_addr_parse(dst[i], 6671, &ss, &len), 0);
		int fd = udp_link_open(e->name, (struct sockaddr *)&ss, len, 0, NULL);
		assert_true(fd >= 0);
		assert_int_equal(send(fd, "p2p", 3, 0), 3);
		uint8_t pkt[2048], want[16];
		if (i == 0) {
			read_ip(e, pkt, sizeof(pkt), 4);
			assert_ip4(pkt, "10.77.0.1", "192.0.2.1", IPPROTO_UDP);
		} else {
			read_ip(e, pkt, sizeof(pkt), 6);
			inet_pton(AF_INET6, "fd00:77::1", want);
			assert_memory_equal(pkt + 8, want, 16);
			inet_pton(AF_INET6, dst[i], want);
			assert_memory_equal(pkt + 24, want, 16);
		}
		close(fd);
	}
	assert_int_equal(route_link_policy(e->rt, false, e->name, &l4, NULL, 300, 3000), 0);
	assert_int_equal(route_link_policy(e->rt, false, e->name, &l4, NULL, 300, 3000), 0);
	assert_int_equal(route_link_policy(e->rt, false, e->name, &l6, NULL, 300, 3000), 0);
	struct route_rule_spec gone = {.from = l4, .table = 300};
	assert_int_equal(route_rule(e->rt, false, &gone), -ENOENT);
}

/* A modem drops (its device goes, the table's route with it) and is
 * re-dialed under the same name: the policy is set up again over the old
 * rules without error, works, and is then removed without a trace. */
static void policy_across_redial(void **state)
{
	struct env *e = *state;
	struct route_addr local = A("10.66.0.1"), peer = A("10.66.0.2");
	struct sockaddr_storage ss;
	socklen_t len;
	assert_int_equal(udp_addr_parse("192.0.2.7", 6671, &ss, &len), 0);
	for (int round = 0; round < 2; round++) {
		int fd = tun_open("ppp-t1", NULL, NULL);
		assert_true(fd >= 0);
		int ifindex = (int)if_nametoindex("ppp-t1");
		assert_int_equal(route_address(e->rt, true, ifindex, &local, &peer, 0), 0);
		assert_int_equal(route_link_set_up(e->rt, ifindex, true), 0);
		assert_int_equal(route_link_policy(e->rt, true, "ppp-t1", &local, NULL, 301, 3001),
				 0);
		int s = udp_link_open("ppp-t1", (struct sockaddr *)&ss, len, 0, NULL);
		assert_true(s >= 0);
		assert_int_equal(send(s, "r", 1, 0), 1);
		uint8_t pkt[2048];
		ssize_t n;
		assert_true(ns_wait_readable(fd, ns_now_ms() + NS_DEADLINE_MS));
		while ((n = tun_read(fd, pkt, sizeof(pkt))) > 0 && (pkt[0] >> 4) != 4)
			;
		assert_true(n >= 20);
		assert_ip4(pkt, "10.66.0.1", "192.0.2.7", IPPROTO_UDP);
		close(s);
		close(fd); /* the link drops: device and its routes gone */
		assert_int_equal(if_nametoindex("ppp-t1"), 0);
	}
	assert_int_equal(route_link_policy(e->rt, false, "ppp-t1", &local, NULL, 301, 3001), 0);
	struct route_rule_spec oif = {.table = 301, .priority = 3001, .oif = "ppp-t1"};
	oif.from.family = AF_INET;
	struct route_rule_spec from = {.from = local, .table = 301};
	assert_int_equal(route_rule(e->rt, false, &oif), -ENOENT);
	assert_int_equal(route_rule(e->rt, false, &from), -ENOENT);
}

/* Down: routes through the device go, sends fail; up again works. */
static void down_and_errors(void **state)
{
	struct env *e = *state;
	struct route_spec r = {.dst = A("10.78.0.0/24"), .ifindex = e->ifindex};
	assert_int_equal(route_route(e->rt, true, &r), 0);
	assert_int_equal(route_link_set_up(e->rt, e->ifindex, false), 0);
	int fd = udp4_socket(NULL);
	assert_int_equal(send4(fd, "10.78.0.5", "x", 1), -ENETUNREACH);
	close(fd);

	/* A point-to-point address is named by local and peer, as added. */
	struct route_addr local = A("10.77.0.1"), peer = A("10.77.0.2/32"), gw = A("10.99.0.1");
	assert_int_equal(route_address(e->rt, false, e->ifindex, &local, NULL, 0), -ENOENT);
	assert_int_equal(route_address(e->rt, false, e->ifindex, &local, &peer, 0), 0);
	assert_int_equal(route_address(e->rt, false, e->ifindex, &local, &peer, 0), -ENOENT);
	assert_int_equal(route_address(e->rt, true, 999, &local, NULL, 0), -ENODEV);
	assert_int_equal(route_link_set_mtu(e->rt, 999, 1400), -ENODEV);
	/* The kernel says why: no route to the gateway. */
	struct route_spec via = {.dst = A("10.80.0.0/16"), .gateway = gw, .ifindex = e->ifindex};
	assert_int_equal(route_route(e->rt, true, &via), -ENETUNREACH);
	struct route_addr bad;
	assert_int_equal(route_addr_parse("10.0.0.0/33", &bad), -EINVAL);
	assert_int_equal(route_addr_parse("10.0.0.1/", &bad), -EINVAL);
	assert_int_equal(route_addr_parse("fd00::/129", &bad), -EINVAL);
	assert_int_equal(route_addr_parse("host", &bad), -EINVAL);
	char s[ROUTE_ADDRSTRLEN];
	assert_string_equal(route_addr_str(&r.dst, s, sizeof(s)), "10.78.0.0/24");
	assert_int_equal(route_link_set_mtu(e->rt, e->ifindex, 70000), -EINVAL);
}

/* A named device; the name is taken while open, and gone when closed. */
static void named_device(void **state)
{
	(void)state;
	char name[IF_NAMESIZE];
	int err = 0;
	int fd = tun_open("mp0", name, &err);
	assert_true(fd >= 0);
	assert_string_equal(name, "mp0");
	assert_true(if_nametoindex("mp0") > 0);
	assert_int_equal(tun_open("mp0", NULL, &err), -EBUSY);
	assert_int_equal(err, -EBUSY);
	uint8_t buf[64];
	assert_int_equal(tun_read(fd, buf, sizeof(buf)), -EAGAIN);
	close(fd);
	assert_int_equal(if_nametoindex("mp0"), 0);
	assert_int_equal(tun_open("a-name-much-too-long", NULL, NULL), -EINVAL);
}

int main(void)
{
	log_set_level(LOG_DEBUG);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(routed_packet_read_from_fd, setup, teardown),
	    cmocka_unit_test_setup_teardown(ping_through_tun, setup, teardown),
	    cmocka_unit_test_setup_teardown(ipv6_packet_delivered, setup, teardown),
	    cmocka_unit_test_setup_teardown(rule_and_table, setup, teardown),
	    cmocka_unit_test_setup_teardown(link_policy_point_to_point, setup, teardown),
	    cmocka_unit_test_setup_teardown(policy_across_redial, setup, teardown),
	    cmocka_unit_test_setup_teardown(down_and_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(named_device, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
