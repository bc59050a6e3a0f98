/* The bundle in the daemon, receiver side (docs/bundle.md,
 * docs/architecture.md): one UDP listener for every gateway, links
 * demultiplexed by source address:port into plinks, authenticated links
 * grouped into one bundle per gateway (peer name + endpoint discriminator),
 * an IPCP server per bundle (address from the pool, a user's static address
 * wins), and one TUN shared by all gateways: packets are routed to a bundle
 * by destination address (the gateway's address and its configured routes).
 *
 * Everything a stranger can cause is bounded: state for unauthenticated
 * sources (max_unauthenticated, unauthenticated_timeout), only an LCP
 * Configure-Request creates one, bundles (max_gateways), links per bundle
 * (max_links_per_gateway); their log lines are rate-limited. */
#pragma once
#include <stdbool.h>

struct daemon;
struct receiver;
struct json_object;

/* Listener, TUN, secrets, pool. NULL (and *err) on failure (logged). */
struct receiver *receiver_new(struct daemon *d, int *err);
/* NULL-safe, immediate; returns NULL. */
struct receiver *receiver_free(struct receiver *rx);
/* LCP Terminate on every link, then done(data) once all are Dead (or after
 * a bounded wait). */
void receiver_shutdown(struct receiver *rx, void (*done)(void *data), void *data);
/* The "gateways" array of the status reply: one object per bundle with its
 * links; *info (if not NULL) gets the "receiver" object (listener, TUN,
 * unauthenticated sources, drop counters). */
struct json_object *receiver_status_json(const struct receiver *rx, struct json_object **info);
