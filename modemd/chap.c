/* CHAP-MD5 (RFC 1994) client and server as I/O-free protocol modules. */
#include "chap.h"

#include "buf.h"

#include <errno.h>
#include <nettle/md5.h>
#include <nettle/version.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#define CHAP_RESTART_MS	    3000
#define CHAP_MAX_CHALLENGES 10
#define CHAP_WAIT_MS	    30000
#define CHAP_CHAL_MIN	    16 /* pppd's range */
#define CHAP_CHAL_MAX	    24
#define CHAP_PKT_MAX	    (4 + 1 + CHAP_CHAL_MAX + SECRET_NAME_MAX)

static const char msg_ok[] = "Access granted";
static const char msg_bad[] = "Access denied";

enum chap_role { CHAP_CLIENT, CHAP_SERVER };

enum chap_state {
	CHAP_INITIAL, /* not started (LCP not Opened) */
	CHAP_PENDING, /* server: Challenge out; client: waiting for the outcome */
	CHAP_OPEN,    /* authenticated (a re-challenge may be under way) */
	CHAP_FAILED,
};

struct chap {
	enum chap_role role;
	enum chap_state state;
	struct auth_cb cb;
	unsigned restart_ms, max_challenges, rechallenge_ms, wait_ms;
	char our_name[SECRET_NAME_MAX + 1];
	const struct secrets *secrets;
	char peer[SECRET_NAME_MAX + 1]; /* server: authenticated name; client: challenger */
	bool peer_ok;			/* server: peer authenticated at least once */
	/* server */
	uint8_t id;
	uint8_t challenge[CHAP_CHAL_MAX];
	size_t challenge_len;
	unsigned sent;
	bool rechallenging; /* PENDING after OPEN: answer must come from peer */
	/* client */
	uint8_t resp_id;
	bool responded;
	uint8_t resp_digest[CHAP_MD5_SIZE]; /* kept to answer again (resend) */
	unsigned resp_sent;		    /* times this Response went out */
};

/* Client: a Response with no Success or Failure is sent again every
 * CHAP_RESEND_MS (same identifier: the authenticator answers a duplicate
 * with the same status, RFC 1994 §4.1), up to wait_ms in all. RFC 1994
 * leaves retransmission to the authenticator's Challenges, but once it
 * has sent Success it sends nothing more: on a lossy cellular link a lost
 * Success would otherwise leave us waiting out wait_ms (30 s). */
#define CHAP_RESEND_MS 2000u

void chap_md5_response(uint8_t id, const void *secret, size_t secret_len, const uint8_t *challenge,
		       size_t challenge_len, uint8_t out[CHAP_MD5_SIZE])
{
	struct md5_ctx ctx;

	md5_init(&ctx);
	md5_update(&ctx, 1, &id);
	md5_update(&ctx, secret_len, secret);
	md5_update(&ctx, challenge_len, challenge);
#if NETTLE_VERSION_MAJOR > 3 || (NETTLE_VERSION_MAJOR == 3 && NETTLE_VERSION_MINOR >= 10)
	md5_digest(&ctx, out);
#else
	md5_digest(&ctx, CHAP_MD5_SIZE, out);
#endif
	explicit_bzero(&ctx, sizeof(ctx));
}

static struct chap *chap_alloc(enum chap_role role, const struct chap_cfg *cfg,
			       const struct auth_cb *cb)
{
	struct chap *c;

	if (!cb || !cb->tx || !cb->timer_arm || !cb->timer_cancel || !cb->result)
		return NULL;
	if (!cfg || !cfg->our_name || !cfg->secrets || strlen(cfg->our_name) > SECRET_NAME_MAX)
		return NULL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->role = role;
	c->cb = *cb;
	strcpy(c->our_name, cfg->our_name);
	c->secrets = cfg->secrets;
	c->restart_ms = cfg->restart_ms ? cfg->restart_ms : CHAP_RESTART_MS;
	c->max_challenges = cfg->max_challenges ? cfg->max_challenges : CHAP_MAX_CHALLENGES;
	c->rechallenge_ms = cfg->rechallenge_ms;
	c->wait_ms = cfg->wait_ms ? cfg->wait_ms : CHAP_WAIT_MS;
	return c;
}

struct chap *chap_client_new(const struct chap_cfg *cfg, const struct auth_cb *cb)
{
	return chap_alloc(CHAP_CLIENT, cfg, cb);
}

struct chap *chap_server_new(const struct chap_cfg *cfg, const struct auth_cb *cb)
{
	return chap_alloc(CHAP_SERVER, cfg, cb);
}

static bool timer_running(const struct chap *c)
{
	return c->state == CHAP_PENDING ||
	       (c->role == CHAP_SERVER && c->state == CHAP_OPEN && c->rechallenge_ms);
}

struct chap *chap_free(struct chap *c)
{
	if (!c)
		return NULL;
	if (timer_running(c))
		c->cb.timer_cancel(c->cb.ctx);
	explicit_bzero(c, sizeof(*c));
	free(c);
	return NULL;
}

bool chap_done(const struct chap *c)
{
	/* During a re-challenge the peer stays authenticated until it fails. */
	return c && (c->state == CHAP_OPEN || (c->state == CHAP_PENDING && c->rechallenging));
}

static int get_random(struct chap *c, uint8_t *buf, size_t n)
{
	if (c->cb.random)
		return c->cb.random(c->cb.ctx, buf, n);
	while (n > 0) {
		ssize_t r = getrandom(buf, n, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		buf += r;
		n -= (size_t)r;
	}
	return 0;
}

static void send_challenge(struct chap *c)
{
	uint8_t pkt[CHAP_PKT_MAX];
	struct wbuf w = wbuf_make(pkt, sizeof(pkt));
	size_t nlen = strlen(c->our_name);

	wbuf_put8(&w, CHAP_CHALLENGE);
	wbuf_put8(&w, c->id);
	wbuf_put16(&w, (uint16_t)(4 + 1 + c->challenge_len + nlen));
	wbuf_put8(&w, (uint8_t)c->challenge_len);
	wbuf_put_bytes(&w, c->challenge, c->challenge_len);
	wbuf_put_bytes(&w, c->our_name, nlen);
	c->sent++;
	c->cb.timer_arm(c->cb.ctx, c->restart_ms);
	if (wbuf_ok(&w))
		c->cb.tx(c->cb.ctx, PPP_CHAP, pkt, w.len);
}

/* A fresh identifier and value; the same packet is then resent on timeout
 * so a slow Response to an earlier copy still matches (as pppd does). */
static void new_challenge(struct chap *c)
{
	uint8_t rnd[1 + CHAP_CHAL_MAX];

	if (get_random(c, rnd, sizeof(rnd)) < 0) {
		c->cb.timer_cancel(c->cb.ctx);
		c->state = CHAP_FAILED;
		c->cb.result(c->cb.ctx, false, c->peer, "no random bytes for a challenge");
		return;
	}
	c->id++;
	c->challenge_len = CHAP_CHAL_MIN + rnd[0] % (CHAP_CHAL_MAX - CHAP_CHAL_MIN + 1);
	memcpy(c->challenge, rnd + 1, c->challenge_len);
	c->sent = 0;
	c->state = CHAP_PENDING;
	send_challenge(c);
}

static void send_status(struct chap *c, uint8_t code, uint8_t id)
{
	const char *msg = code == CHAP_SUCCESS ? msg_ok : msg_bad;
	uint8_t pkt[4 + sizeof(msg_ok) + sizeof(msg_bad)];
	struct wbuf w = wbuf_make(pkt, sizeof(pkt));
	size_t mlen = strlen(msg);

	wbuf_put8(&w, code);
	wbuf_put8(&w, id);
	wbuf_put16(&w, (uint16_t)(4 + mlen));
	wbuf_put_bytes(&w, msg, mlen);
	if (wbuf_ok(&w))
		c->cb.tx(c->cb.ctx, PPP_CHAP, pkt, w.len);
}

static void send_response(struct chap *c, uint8_t id, const uint8_t digest[CHAP_MD5_SIZE])
{
	uint8_t pkt[4 + 1 + CHAP_MD5_SIZE + SECRET_NAME_MAX];
	struct wbuf w = wbuf_make(pkt, sizeof(pkt));
	size_t nlen = strlen(c->our_name);

	wbuf_put8(&w, CHAP_RESPONSE);
	wbuf_put8(&w, id);
	wbuf_put16(&w, (uint16_t)(4 + 1 + CHAP_MD5_SIZE + nlen));
	wbuf_put8(&w, CHAP_MD5_SIZE);
	wbuf_put_bytes(&w, digest, CHAP_MD5_SIZE);
	wbuf_put_bytes(&w, c->our_name, nlen);
	if (wbuf_ok(&w))
		c->cb.tx(c->cb.ctx, PPP_CHAP, pkt, w.len);
}

void chap_start(struct chap *c)
{
	if (!c)
		return;
	c->peer[0] = 0;
	c->peer_ok = false;
	c->rechallenging = false;
	c->responded = false;
	if (c->role == CHAP_SERVER) {
		new_challenge(c);
		return;
	}
	c->state = CHAP_PENDING;
	c->cb.timer_arm(c->cb.ctx, c->wait_ms);
}

void chap_stop(struct chap *c)
{
	if (!c)
		return;
	if (timer_running(c))
		c->cb.timer_cancel(c->cb.ctx);
	c->state = CHAP_INITIAL;
}

void chap_timeout(struct chap *c)
{
	char why[96];

	if (!c)
		return;
	if (c->role == CHAP_SERVER && c->state == CHAP_OPEN && c->rechallenge_ms) {
		c->rechallenging = true;
		new_challenge(c);
		return;
	}
	if (c->state != CHAP_PENDING)
		return;
	if (c->role == CHAP_SERVER && c->sent < c->max_challenges) {
		send_challenge(c);
		return;
	}
	if (c->role == CHAP_CLIENT && c->responded &&
	    (c->resp_sent + 1) * CHAP_RESEND_MS < c->wait_ms) {
		c->resp_sent++;
		send_response(c, c->resp_id, c->resp_digest);
		c->cb.timer_arm(c->cb.ctx, CHAP_RESEND_MS);
		return;
	}
	c->state = CHAP_FAILED;
	if (c->role == CHAP_SERVER)
		snprintf(why, sizeof(why), "no Response to %u Challenges", c->sent);
	else
		snprintf(why, sizeof(why), "%s",
			 c->responded ? "no Success or Failure from peer"
				      : "no Challenge from peer");
	c->cb.result(c->cb.ctx, false, c->peer, why);
}

static int server_response(struct chap *c, uint8_t id, struct rbuf *body, const char **why)
{
	uint8_t vlen, expect[CHAP_MD5_SIZE];
	const uint8_t *value;
	char name[SECRET_NAME_MAX + 1], printable[SECRET_NAME_MAX + 1];
	const struct secret *e = NULL;
	const char *reason;
	bool ok = false, first;

	if (c->state == CHAP_INITIAL || id != c->id) {
		*why = "Response to no outstanding Challenge";
		return -ENOMSG;
	}
	if (rbuf_get8(body, &vlen) < 0 || body->len < vlen) {
		*why = "Value-Size beyond packet";
		return -EBADMSG;
	}
	value = body->p;
	rbuf_skip(body, vlen);
	/* Already decided for this identifier: the peer lost our answer. */
	if (c->state == CHAP_OPEN || c->state == CHAP_FAILED) {
		send_status(c, c->state == CHAP_OPEN ? CHAP_SUCCESS : CHAP_FAILURE, id);
		return 0;
	}
	auth_printable(printable, sizeof(printable), body->p, body->len);
	if (!auth_name_valid(body->p, body->len)) {
		reason = "bad name in Response";
	} else {
		memcpy(name, body->p, body->len);
		name[body->len] = 0;
		e = secrets_lookup(c->secrets, name, c->our_name);
		if (!e) {
			reason = "no secret for this peer";
		} else if (c->rechallenging && strcmp(name, c->peer) != 0) {
			reason = "re-challenge answered under another name";
		} else if (vlen != CHAP_MD5_SIZE) {
			reason = "Response value is not an MD5 digest";
		} else {
			chap_md5_response(c->id, e->secret, e->secret_len, c->challenge,
					  c->challenge_len, expect);
			ok = auth_secret_equal(expect, sizeof(expect), value, vlen);
			explicit_bzero(expect, sizeof(expect));
			reason = ok ? msg_ok : "wrong secret";
		}
	}
	c->cb.timer_cancel(c->cb.ctx);
	c->state = ok ? CHAP_OPEN : CHAP_FAILED;
	send_status(c, ok ? CHAP_SUCCESS : CHAP_FAILURE, id);
	first = !c->peer_ok;
	if (ok) {
		strcpy(c->peer, printable);
		c->peer_ok = true;
		c->rechallenging = false;
		if (c->rechallenge_ms)
			c->cb.timer_arm(c->cb.ctx, c->rechallenge_ms);
		if (!first)
			return 0; /* a passed re-challenge changes nothing */
	}
	c->cb.result(c->cb.ctx, ok, printable, reason);
	return 0;
}

static int client_challenge(struct chap *c, uint8_t id, struct rbuf *body, const char **why)
{
	uint8_t vlen, digest[CHAP_MD5_SIZE];
	const uint8_t *value;
	const struct secret *e;
	char name[SECRET_NAME_MAX + 1];

	if (c->state == CHAP_INITIAL) {
		*why = "Challenge before authentication phase";
		return -ENOMSG;
	}
	if (rbuf_get8(body, &vlen) < 0 || vlen == 0 || body->len < vlen) {
		*why = "bad Value-Size";
		return -EBADMSG;
	}
	value = body->p;
	rbuf_skip(body, vlen);
	if (!auth_name_valid(body->p, body->len)) {
		*why = "bad name in Challenge";
		return -EBADMSG;
	}
	memcpy(name, body->p, body->len);
	name[body->len] = 0;
	e = secrets_lookup(c->secrets, c->our_name, name);
	if (!e) {
		/* Like pppd, say nothing to the peer; tell the owner once. */
		if (c->state == CHAP_FAILED) {
			*why = "no secret for this peer";
			return -ENOMSG;
		}
		if (c->state == CHAP_PENDING)
			c->cb.timer_cancel(c->cb.ctx);
		strcpy(c->peer, name);
		c->state = CHAP_FAILED;
		c->cb.result(c->cb.ctx, false, c->peer,
			     "no secret to authenticate us to this peer");
		return 0;
	}
	strcpy(c->peer, name);
	chap_md5_response(id, e->secret, e->secret_len, value, vlen, digest);
	c->resp_id = id;
	c->responded = true;
	/* A re-challenge after a Failure starts a new attempt. */
	if (c->state == CHAP_FAILED)
		c->state = CHAP_PENDING;
	memcpy(c->resp_digest, digest, sizeof(c->resp_digest));
	c->resp_sent = 0;
	if (c->state == CHAP_PENDING)
		c->cb.timer_arm(c->cb.ctx,
				c->wait_ms < CHAP_RESEND_MS ? c->wait_ms : CHAP_RESEND_MS);
	send_response(c, id, digest);
	explicit_bzero(digest, sizeof(digest));
	return 0;
}

static int client_status(struct chap *c, uint8_t code, uint8_t id, struct rbuf *body,
			 const char **why)
{
	char msg[256];
	bool ok = code == CHAP_SUCCESS;

	if (!c->responded || id != c->resp_id || c->state == CHAP_INITIAL) {
		*why = "answer to no Response of ours";
		return -ENOMSG;
	}
	if ((ok && c->state == CHAP_OPEN) || (!ok && c->state == CHAP_FAILED)) {
		*why = "repeated answer";
		return -ENOMSG;
	}
	auth_printable(msg, sizeof(msg), body->p, body->len);
	if (c->state == CHAP_PENDING)
		c->cb.timer_cancel(c->cb.ctx);
	c->state = ok ? CHAP_OPEN : CHAP_FAILED;
	c->cb.result(c->cb.ctx, ok, c->peer, msg);
	return 0;
}

int chap_input(struct chap *c, const uint8_t *pkt, size_t len, const char **why)
{
	const char *dummy;
	struct rbuf body;
	uint8_t code, id;

	if (!why)
		why = &dummy;
	*why = NULL;
	if (!c)
		return -EINVAL;
	if (auth_hdr_parse(pkt, len, &code, &id, &body) < 0) {
		*why = "bad header or Length";
		return -EBADMSG;
	}
	switch (code) {
	case CHAP_CHALLENGE:
		if (c->role == CHAP_CLIENT)
			return client_challenge(c, id, &body, why);
		break;
	case CHAP_RESPONSE:
		if (c->role == CHAP_SERVER)
			return server_response(c, id, &body, why);
		break;
	case CHAP_SUCCESS:
	case CHAP_FAILURE:
		if (c->role == CHAP_CLIENT)
			return client_status(c, code, id, &body, why);
		break;
	default:
		*why = "unknown code";
		return -ENOMSG;
	}
	*why = "not for our role";
	return -ENOMSG;
}
