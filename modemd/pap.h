/* PAP (RFC 1334, protocol 0xC023), both roles, with no I/O: packets leave
 * through auth_cb.tx, time through auth_cb.timer_arm/timer_cancel (the owner
 * calls pap_timeout() when the timer fires), the outcome through
 * auth_cb.result.
 *
 * Client (we are authenticated): sends Authenticate-Request with a new
 * identifier every restart interval until an Ack/Nak with that identifier
 * comes back or max_requests were sent.
 * Server (we authenticate the peer): checks the peer-id/password against a
 * secrets store (client = peer-id, server = our name) in constant time and
 * answers Ack/Nak; a repeated request after the answer gets the same answer
 * again (the peer may have lost it). Gives up if no request comes in
 * wait_ms. */
#pragma once
#include "secrets.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PPP_PAP 0xC023

enum pap_code {
	PAP_AUTH_REQ = 1,
	PAP_AUTH_ACK = 2,
	PAP_AUTH_NAK = 3,
};

struct pap_client_cfg {
	const char *user;      /* peer-id we present, <= SECRET_NAME_MAX */
	const char *password;  /* <= SECRET_VALUE_MAX; copied and wiped on free */
	unsigned restart_ms;   /* 0: 3000 */
	unsigned max_requests; /* 0: 10 */
};

struct pap_server_cfg {
	const char *our_name;	       /* server column of the secrets lookup */
	const struct secrets *secrets; /* not copied; must outlive the instance */
	unsigned wait_ms;	       /* wait for the first request; 0: 30000 */
};

struct pap;

struct pap *pap_client_new(const struct pap_client_cfg *cfg, const struct auth_cb *cb);
struct pap *pap_server_new(const struct pap_server_cfg *cfg, const struct auth_cb *cb);
/* NULL-safe, cancels the timer, wipes the password; returns NULL. */
struct pap *pap_free(struct pap *p);

/* LCP reached Opened: the client sends its first request, the server starts
 * waiting. Starting again restarts the exchange. */
void pap_start(struct pap *p);
/* LCP left Opened: stop timers, forget the exchange. */
void pap_stop(struct pap *p);
void pap_timeout(struct pap *p);

/* One PAP packet (the information field of a 0xC023 frame). Returns 0 when
 * acted on, -EBADMSG when malformed, -ENOMSG when ignored (unknown code,
 * identifier that matches nothing, not for our role or state). *why, if
 * given, gets a short static reason for the negative cases. */
int pap_input(struct pap *p, const uint8_t *pkt, size_t len, const char **why);

/* Authentication finished successfully (and not failed since). */
bool pap_done(const struct pap *p);
