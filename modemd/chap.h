/* CHAP with MD5 (RFC 1994, protocol 0xC223, algorithm 5), both roles, with
 * no I/O: packets leave through auth_cb.tx, time through timer_arm /
 * timer_cancel (the owner calls chap_timeout() when the timer fires), the
 * outcome through auth_cb.result.
 *
 * Server (we authenticate the peer): sends a Challenge of 16-24 random bytes
 * and our name, resends the same Challenge every restart interval, checks
 * Response = MD5(id || secret || challenge) in constant time with the secret
 * for (peer's name, our name), answers Success/Failure; a Response whose
 * identifier is not the last Challenge's is ignored, a repeated one gets the
 * same answer. Optionally re-challenges every rechallenge_ms; the peer must
 * then answer as the same name.
 * Client (we are authenticated): answers every Challenge, in any state after
 * start (re-challenges included), with the secret for (our name, the name in
 * the Challenge); reports Success/Failure for the last Response it sent. */
#pragma once
#include "secrets.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PPP_CHAP      0xC223
#define CHAP_MD5      5
#define CHAP_MD5_SIZE 16

enum chap_code {
	CHAP_CHALLENGE = 1,
	CHAP_RESPONSE = 2,
	CHAP_SUCCESS = 3,
	CHAP_FAILURE = 4,
};

struct chap_cfg {
	const char *our_name;	       /* <= SECRET_NAME_MAX */
	const struct secrets *secrets; /* not copied; must outlive the instance */
	unsigned restart_ms;	       /* server: Challenge resend; 0: 3000 */
	unsigned max_challenges;       /* server: sends before giving up; 0: 10 */
	unsigned rechallenge_ms;       /* server: 0 = never re-challenge */
	unsigned wait_ms;	       /* client: wait for Challenge + Success; 0: 30000 */
};

struct chap;

struct chap *chap_client_new(const struct chap_cfg *cfg, const struct auth_cb *cb);
struct chap *chap_server_new(const struct chap_cfg *cfg, const struct auth_cb *cb);
/* NULL-safe, cancels the timer; returns NULL. */
struct chap *chap_free(struct chap *c);

/* LCP reached Opened: the server sends a Challenge, the client starts
 * listening. */
void chap_start(struct chap *c);
/* LCP left Opened. */
void chap_stop(struct chap *c);
void chap_timeout(struct chap *c);

/* One CHAP packet (information field of a 0xC223 frame). 0 acted on,
 * -EBADMSG malformed, -ENOMSG ignored (wrong identifier/state/role, unknown
 * code); *why gets a short static reason for the negative cases.
 * result() is called when the first exchange completes, and again only for
 * a later failure (a failed re-challenge, or on the client a Failure). */
int chap_input(struct chap *c, const uint8_t *pkt, size_t len, const char **why);

/* Authenticated (and not failed since); stays true during a re-challenge. */
bool chap_done(const struct chap *c);

/* MD5(id || secret || challenge), RFC 1994 4.1. */
void chap_md5_response(uint8_t id, const void *secret, size_t secret_len, const uint8_t *challenge,
		       size_t challenge_len, uint8_t out[CHAP_MD5_SIZE]);
