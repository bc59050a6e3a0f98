/* The bundle in the daemon, gateway side (docs/bundle.md, docs/architecture.md):
 * one TUN device, one MP bundle towards cfg.bundle.receiver, and one plink +
 * UDP socket per link. Links come from the modem manager's link events
 * (cfg.bundle.modem_links) and from static interfaces (cfg.bundle.links);
 * each leaves through its interface by policy routing (route_link_policy).
 * IPCP runs as a client on the bundle and configures the TUN.
 *
 * The second half of this header is shared with receiver*.c: the pieces
 * both sides build from the configuration. */
#pragma once
#include "config.h"
#include "lcp_opts.h"
#include "plink.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct daemon;
struct gateway;
struct json_object;

/* Create the TUN, open the static links, subscribe to modem link events.
 * Returns NULL (and *err) when the TUN or rtnetlink cannot be opened. */
struct gateway *gateway_new(struct daemon *d, int *err);
/* NULL-safe, immediate (no Terminate); returns NULL. */
struct gateway *gateway_free(struct gateway *gw);
/* LCP Terminate on every link, then done(data) once all are Dead (or after
 * a bounded wait). */
void gateway_shutdown(struct gateway *gw, void (*done)(void *data), void *data);

/* mpctl up|down for a link by name (static link name or modem interface /
 * modem name). -ENOENT when no such link. */
int gateway_link_set_admin(struct gateway *gw, const char *name, bool up);
/* Every link's name, for "all". Returns how many (at most max). */
size_t gateway_link_names(const struct gateway *gw, const char **out, size_t max);
/* The "bundle" object of the status reply. */
struct json_object *gateway_status_json(const struct gateway *gw);

/* ---- shared with receiver*.c (gateway_common.c) ---- */

/* Our PPP name: cfg name, else the host name. */
void bd_our_name(const struct cfg_ppp *p, char *buf, size_t size);
/* Our Endpoint Discriminator from cfg ("auto": /etc/machine-id, class magic). */
void bd_endpoint(const struct cfg_ppp *p, bool *has_ed, struct lcp_ed *ed);
/* A plink config from the shared settings; id, name, mru, secrets set by the caller. */
void bd_plink_config(struct plink_config *pc, const struct cfg_ppp *p, const char *our_name,
		     bool has_ed, const struct lcp_ed *ed);
/* The per-link JSON row of a status reply (plink_get_stats). */
struct json_object *bd_link_json(const struct plink *pl, const char *kind, const char *ifname,
				 const char *local, const char *remote);
/* Bundle counters for a status reply. */
struct json_object *bd_bundle_json(const struct bundle *b);
/* Randomness for IPV6CP identifiers (getrandom). */
uint32_t bd_random32(void *ctx);
/* Before a TUN first goes up: no kernel-made link-local address on it
 * (addr_gen_mode none), IPV6CP's identifier is the only one, so that
 * source selection cannot pick another. -errno when the kernel has no
 * IPv6 there (then we do not run IPV6CP). */
int bd_tun_ipv6_prepare(const char *ifname);
/* fe80::IID/64. */
struct route_addr;
void bd_ll_addr(const uint8_t iid[8], struct route_addr *out);
/* "fe80::1:2:3:4" (buf >= ROUTE_ADDRSTRLEN). */
const char *bd_ll_str(const uint8_t iid[8], char *buf, size_t size);
/* "10.0.0.1" from host order. */
const char *bd_ip4(uint32_t a, char *buf, size_t size);
