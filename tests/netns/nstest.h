/* Helpers for cmocka tests that build their own network namespaces
 * (tests/unit/test_udp.c, test_tun.c). Include after <cmocka.h>.
 *
 * One process, several namespaces: unshare(CLONE_NEWNET) makes a fresh one
 * and an fd on /proc/self/ns/net keeps it alive; setns() moves between them.
 * A socket stays in the namespace it was created in, so a test can hold the
 * gateway's and the receiver's sockets at once. `ip` is run with the
 * caller's current namespace; another namespace is named to `ip ... netns`
 * as /proc/PID/fd/N (iproute2 opens a name with a '/' as a path). */
#pragma once
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define NS_DEADLINE_MS 5000

static inline int ns_require_root(const char *test)
{
	if (geteuid() != 0) {
		fprintf(stderr,
			"%s must run as root: it creates network namespaces, veth and TUN "
			"devices (CAP_NET_ADMIN, CAP_NET_RAW). Run it with sudo; it is not "
			"skipped.\n",
			test);
		return -1;
	}
	return 0;
}

/* A fresh namespace, entered; returns an fd that keeps it alive. */
static inline int ns_new(void)
{
	if (unshare(CLONE_NEWNET) < 0) {
		fprintf(stderr, "unshare(CLONE_NEWNET): %s\n", strerror(errno));
		return -1;
	}
	return open("/proc/self/ns/net", O_RDONLY); /* inherited by ip: see ns_path */
}

static inline void ns_enter(int nsfd)
{
	if (setns(nsfd, CLONE_NEWNET) < 0)
		fail_msg("setns: %s", strerror(errno));
}

/* "/proc/PID/fd/N": how `ip ... netns` names the namespace held by nsfd. */
static inline const char *ns_path(int nsfd, char *buf, size_t size)
{
	snprintf(buf, size, "/proc/%d/fd/%d", (int)getpid(), nsfd);
	return buf;
}

/* Run a shell command in the current namespace; fail the test if it fails. */
__attribute__((format(printf, 1, 2))) static inline void ns_sh(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	int r = system(cmd);
	if (r != 0)
		fail_msg("command failed (%d): %s", r, cmd);
}

static inline uint64_t ns_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Wait until fd is readable or the deadline passes. */
static inline bool ns_wait_readable(int fd, uint64_t deadline)
{
	for (;;) {
		uint64_t now = ns_now_ms();
		if (now >= deadline)
			return false;
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int r = poll(&p, 1, (int)(deadline - now));
		if (r > 0)
			return true;
		if (r < 0 && errno != EINTR)
			return false;
	}
}

/* IPv6 addresses stay tentative for a moment after the link comes up, even
 * with nodad (the kernel finishes them from a work queue); packets to
 * them are dropped until then. Wait until none is left in the current
 * namespace (link-local ones do real DAD, ~1 s, and do not matter here). */
static inline void ns_wait_ipv6_ready(void)
{
	uint64_t deadline = ns_now_ms() + NS_DEADLINE_MS;
	while (system("ip -6 addr show tentative scope global | grep -q inet6") == 0) {
		if (ns_now_ms() >= deadline)
			fail_msg("IPv6 addresses still tentative after %d ms", NS_DEADLINE_MS);
		usleep(10000);
	}
}

/* AF_PACKET socket seeing every frame in and out of ifname (current
 * namespace). Non-blocking. */
static inline int ns_capture(const char *ifname)
{
	int fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, htons(ETH_P_ALL));
	if (fd < 0)
		fail_msg("AF_PACKET socket: %s", strerror(errno));
	struct sockaddr_ll sll = {.sll_family = AF_PACKET,
				  .sll_protocol = htons(ETH_P_ALL),
				  .sll_ifindex = (int)if_nametoindex(ifname)};
	if (!sll.sll_ifindex || bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0)
		fail_msg("bind AF_PACKET to %s: %s", ifname, strerror(errno));
	return fd;
}

typedef bool (*ns_frame_match)(const uint8_t *f, size_t len, int pkttype, void *arg);

/* Read frames from a capture until one matches (true) or the deadline. */
static inline bool ns_wait_frame(int cap, ns_frame_match match, void *arg, uint64_t deadline)
{
	uint8_t f[2048];
	for (;;) {
		struct sockaddr_ll from;
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(cap, f, sizeof(f), 0, (struct sockaddr *)&from, &fl);
		if (n >= 0) {
			if (match(f, (size_t)n, from.sll_pkttype, arg))
				return true;
			continue;
		}
		if (errno != EAGAIN || !ns_wait_readable(cap, deadline))
			return false;
	}
}

/* Whether a matching frame is already queued on the capture (no waiting). */
static inline bool ns_frame_queued(int cap, ns_frame_match match, void *arg)
{
	return ns_wait_frame(cap, match, arg, 0);
}

/* Internet checksum over a buffer, continuing from sum. */
static inline uint32_t ns_csum_add(uint32_t sum, const uint8_t *p, size_t len)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)(p[len - 1] << 8);
	return sum;
}

static inline uint16_t ns_csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}
