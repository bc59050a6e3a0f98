/* The receiver's IPv4 address pool: gateway addresses from one CIDR range
 * plus static per-user addresses (authenticated name -> address), which win.
 *
 * - The range excludes its network and broadcast addresses and the server's
 *   own address. At most a /16 (bitmap of 8 KiB), at least a /30.
 * - ippool_alloc(name) is stable per name while held: a second alloc for a
 *   name that holds an address returns the same one and takes a reference
 *   (a gateway whose new bundle replaces its old one keeps its address);
 *   each alloc is paired with one ippool_release.
 * - After a release the pool remembers (name, address) for the last
 *   IPPOOL_RECENT releases and gives a rejoining name the same address again
 *   if nobody took it meanwhile; new addresses are handed out next-fit, so a
 *   freshly released one is reused last.
 * - An anonymous alloc (name NULL or "") gets a fresh address each time.
 * - Allocation is a bitmap scan from a cursor (at most size/64 words); leases
 *   are found by name and by address through hash tables. Memory is bounded
 *   by the range size: one lease per address, names up to IPPOOL_NAME_MAX.
 *
 * Addresses are host byte order (10.0.0.1 == 0x0a000001). Not thread-safe. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IPPOOL_MIN_PREFIX 16   /* largest range: a /16 */
#define IPPOOL_MAX_PREFIX 30   /* smallest: two hosts */
#define IPPOOL_NAME_MAX	  255  /* longest user name (pppd's MAXNAMELEN) */
#define IPPOOL_MAX_STATIC 4096 /* static entries from the configuration */
#define IPPOOL_RECENT	  256  /* remembered releases for rejoin */

struct ippool;

/* "10.64.0.0/16" -> net (host bits cleared) and prefix. 0 or -EINVAL. */
int ippool_parse_cidr(const char *s, uint32_t *net, unsigned *prefix);

/* A pool over net/prefix; server is the receiver's own address (excluded
 * when inside the range; 0 for none). -EINVAL for a prefix outside
 * [IPPOOL_MIN_PREFIX, IPPOOL_MAX_PREFIX] or a range in 0/8, 127/8, 224/3;
 * -ENOMEM. */
int ippool_new(struct ippool **out, uint32_t net, unsigned prefix, uint32_t server);
/* NULL-safe; returns NULL. */
struct ippool *ippool_free(struct ippool *p);

/* A static address for a user; it may lie inside the range (then it is
 * never handed to anyone else) or outside it. -EINVAL (unusable address,
 * the server's, the range's network/broadcast, empty name), -ENAMETOOLONG,
 * -EEXIST (name or address already static), -EBUSY (currently leased to
 * someone else), -ENOSPC (IPPOOL_MAX_STATIC entries), -ENOMEM. */
int ippool_add_static(struct ippool *p, const char *name, uint32_t addr);

/* An address for name: 0 and *addr, -ENOSPC when the range is exhausted,
 * -ENAMETOOLONG, -ENOMEM. */
int ippool_alloc(struct ippool *p, const char *name, uint32_t *addr);
/* Drop one reference to addr's lease. 0, or -ENOENT when not leased. */
int ippool_release(struct ippool *p, uint32_t addr);

/* Who holds addr: the lease's name ("" anonymous), NULL when free. */
const char *ippool_owner(const struct ippool *p, uint32_t addr);
/* Dynamic addresses still free / the range's usable host count. */
size_t ippool_available(const struct ippool *p);
size_t ippool_capacity(const struct ippool *p);
bool ippool_in_range(const struct ippool *p, uint32_t addr);
