/* Synchronous rtnetlink requests (libmnl): link MTU and up/down, addresses,
 * routes and policy rules. Each call sends one request, waits for the
 * kernel's ACK and returns 0 or a negative errno; a failure is logged with
 * what was asked ("route: add route 0.0.0.0/0 via 10.2.0.1 dev b0 table 101:
 * Network is unreachable") plus the kernel's extended-ACK text when it gives one.
 *
 * Adds are idempotent (an existing identical address, route or rule is not
 * an error). Deleting something that is not there returns -ENOENT and logs
 * only at debug level: teardown after the kernel already removed it (the
 * link went away) is normal.
 *
 * The watcher for link/address events is netlink.[ch]; this is the writer. */
#pragma once
#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct route_nl;

/* An IPv4 or IPv6 address with a prefix length. */
struct route_addr {
	int family;   /* AF_INET, AF_INET6; 0: not set */
	unsigned len; /* prefix length: 0..32 or 0..128 */
	union {
		struct in_addr v4;
		struct in6_addr v6;
		uint8_t raw[16];
	} a;
};

/* "10.0.0.1" (len 32), "10.0.0.0/24", "fd00::1/64", "::/0". Numeric only.
 * Returns 0 or -EINVAL. */
int route_addr_parse(const char *s, struct route_addr *out);
/* "10.0.0.0/24"; the "/len" is left out for a host address. */
#define ROUTE_ADDRSTRLEN 64
const char *route_addr_str(const struct route_addr *a, char *buf, size_t size);

struct route_nl *route_open(int *err);
/* NULL-safe; returns NULL. */
struct route_nl *route_close(struct route_nl *rt);

int route_link_set_mtu(struct route_nl *rt, int ifindex, unsigned mtu);
int route_link_set_up(struct route_nl *rt, int ifindex, bool up);

/* An address on ifindex. peer (may be NULL) makes it point-to-point:
 * "ip addr add LOCAL peer PEER/LEN"; the prefix length is then the peer's.
 * ifa_flags: IFA_F_* (e.g. IFA_F_NODAD for an IPv6 address used at once).
 * Delete with the same local and peer as the add. */
int route_address(struct route_nl *rt, bool add, int ifindex, const struct route_addr *local,
		  const struct route_addr *peer, uint32_t ifa_flags);

struct route_spec {
	struct route_addr dst;	   /* prefix; host bits are masked off */
	struct route_addr gateway; /* family 0: directly via the device */
	struct route_addr prefsrc; /* family 0: none */
	int ifindex;		   /* 0: only with a gateway */
	uint32_t table;		   /* 0: main */
	uint32_t metric;
};
int route_route(struct route_nl *rt, bool add, const struct route_spec *r);

/* "ip rule add from FROM [oif DEV] lookup TABLE priority PRIORITY". */
struct route_rule_spec {
	struct route_addr from; /* family required; len 0 matches every source */
	/* Only packets whose output device is forced to this one
	 * (SO_BINDTODEVICE); "": any. A name, not an index: the kernel keeps
	 * the rule when the device goes and applies it again when a device
	 * of that name comes back (a re-dialed modem). */
	char oif[IF_NAMESIZE];
	uint32_t table;
	uint32_t priority; /* 0: let the kernel pick (only for add) */
};
int route_rule(struct route_nl *rt, bool add, const struct route_rule_spec *r);

/* Policy routing for one bundle link, so its datagrams leave through it
 * whatever the main table says: table `table` gets a default route of
 * local's family via gateway (NULL: a point-to-point link, dev only) on
 * ifname; at `priority`, "from local lookup table" sends everything
 * sourced from the link's address there (and makes strict rp_filter accept
 * the replies), and "oif ifname lookup table" catches sockets bound to the
 * device before they have a source address (IPv6 picks the source only
 * after a route is found, so without it connect() fails with
 * ENETUNREACH). Delete removes all three and ignores what is already gone
 * (the device itself may be gone: its routes went with it). */
int route_link_policy(struct route_nl *rt, bool add, const char *ifname,
		      const struct route_addr *local, const struct route_addr *gateway,
		      uint32_t table, uint32_t priority);
