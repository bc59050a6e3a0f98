/* PAP (RFC 1334) client and server as I/O-free protocol modules. */
#include "pap.h"

#include "buf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PAP_RESTART_MS	 3000
#define PAP_MAX_REQUESTS 10
#define PAP_WAIT_MS	 30000
/* code, id, length, 2 length bytes, two 255-byte fields */
#define PAP_PKT_MAX (4 + 1 + SECRET_NAME_MAX + 1 + SECRET_VALUE_MAX)

static const char msg_ok[] = "Login ok";
static const char msg_bad[] = "Login incorrect";

enum pap_role { PAP_CLIENT, PAP_SERVER };

enum pap_state {
	PAP_INITIAL, /* not started (LCP not Opened) */
	PAP_PENDING, /* client: request out; server: waiting for a request */
	PAP_OPEN,    /* authenticated */
	PAP_FAILED,
};

struct pap {
	enum pap_role role;
	enum pap_state state;
	struct auth_cb cb;
	uint8_t id;    /* client: identifier of the request out */
	unsigned sent; /* client: requests sent in this exchange */
	unsigned restart_ms, max_requests, wait_ms;
	char user[SECRET_NAME_MAX + 1];
	char password[SECRET_VALUE_MAX + 1];
	char our_name[SECRET_NAME_MAX + 1];
	const struct secrets *secrets;
	char peer[SECRET_NAME_MAX + 1]; /* server: name the peer presented */
};

static struct pap *pap_alloc(enum pap_role role, const struct auth_cb *cb)
{
	struct pap *p;

	if (!cb || !cb->tx || !cb->timer_arm || !cb->timer_cancel || !cb->result)
		return NULL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->role = role;
	p->cb = *cb;
	return p;
}

struct pap *pap_client_new(const struct pap_client_cfg *cfg, const struct auth_cb *cb)
{
	struct pap *p;

	if (!cfg || !cfg->user || !cfg->password || strlen(cfg->user) > SECRET_NAME_MAX ||
	    strlen(cfg->password) > SECRET_VALUE_MAX)
		return NULL;
	p = pap_alloc(PAP_CLIENT, cb);
	if (!p)
		return NULL;
	strcpy(p->user, cfg->user);
	strcpy(p->password, cfg->password);
	p->restart_ms = cfg->restart_ms ? cfg->restart_ms : PAP_RESTART_MS;
	p->max_requests = cfg->max_requests ? cfg->max_requests : PAP_MAX_REQUESTS;
	return p;
}

struct pap *pap_server_new(const struct pap_server_cfg *cfg, const struct auth_cb *cb)
{
	struct pap *p;

	if (!cfg || !cfg->our_name || !cfg->secrets || strlen(cfg->our_name) > SECRET_NAME_MAX)
		return NULL;
	p = pap_alloc(PAP_SERVER, cb);
	if (!p)
		return NULL;
	strcpy(p->our_name, cfg->our_name);
	p->secrets = cfg->secrets;
	p->wait_ms = cfg->wait_ms ? cfg->wait_ms : PAP_WAIT_MS;
	return p;
}

struct pap *pap_free(struct pap *p)
{
	if (!p)
		return NULL;
	if (p->state == PAP_PENDING)
		p->cb.timer_cancel(p->cb.ctx);
	explicit_bzero(p, sizeof(*p));
	free(p);
	return NULL;
}

bool pap_done(const struct pap *p)
{
	return p && p->state == PAP_OPEN;
}

static void send_request(struct pap *p)
{
	uint8_t pkt[PAP_PKT_MAX];
	struct wbuf w = wbuf_make(pkt, sizeof(pkt));
	size_t ulen = strlen(p->user), plen = strlen(p->password);

	/* RFC 1334 2.2.1: a new identifier for every request sent. */
	p->id++;
	wbuf_put8(&w, PAP_AUTH_REQ);
	wbuf_put8(&w, p->id);
	wbuf_put16(&w, (uint16_t)(4 + 1 + ulen + 1 + plen));
	wbuf_put8(&w, (uint8_t)ulen);
	wbuf_put_bytes(&w, p->user, ulen);
	wbuf_put8(&w, (uint8_t)plen);
	wbuf_put_bytes(&w, p->password, plen);
	p->sent++;
	p->cb.timer_arm(p->cb.ctx, p->restart_ms);
	if (wbuf_ok(&w))
		p->cb.tx(p->cb.ctx, PPP_PAP, pkt, w.len);
	explicit_bzero(pkt, sizeof(pkt));
}

static void send_answer(struct pap *p, uint8_t code, uint8_t id, const char *msg)
{
	uint8_t pkt[4 + 1 + 255];
	struct wbuf w = wbuf_make(pkt, sizeof(pkt));
	size_t mlen = strlen(msg);

	wbuf_put8(&w, code);
	wbuf_put8(&w, id);
	wbuf_put16(&w, (uint16_t)(4 + 1 + mlen));
	wbuf_put8(&w, (uint8_t)mlen);
	wbuf_put_bytes(&w, msg, mlen);
	if (wbuf_ok(&w))
		p->cb.tx(p->cb.ctx, PPP_PAP, pkt, w.len);
}

void pap_start(struct pap *p)
{
	if (!p)
		return;
	p->state = PAP_PENDING;
	p->sent = 0;
	p->peer[0] = 0;
	if (p->role == PAP_CLIENT)
		send_request(p);
	else
		p->cb.timer_arm(p->cb.ctx, p->wait_ms);
}

void pap_stop(struct pap *p)
{
	if (!p)
		return;
	if (p->state == PAP_PENDING)
		p->cb.timer_cancel(p->cb.ctx);
	p->state = PAP_INITIAL;
}

void pap_timeout(struct pap *p)
{
	char why[96];

	if (!p || p->state != PAP_PENDING)
		return;
	if (p->role == PAP_CLIENT && p->sent < p->max_requests) {
		send_request(p);
		return;
	}
	p->state = PAP_FAILED;
	if (p->role == PAP_CLIENT)
		snprintf(why, sizeof(why), "no answer to %u Authenticate-Requests", p->sent);
	else
		snprintf(why, sizeof(why), "peer sent no Authenticate-Request");
	p->cb.result(p->cb.ctx, false, "", why);
}

/* Server: an Authenticate-Request. */
static int server_request(struct pap *p, uint8_t id, struct rbuf *body, const char **why)
{
	uint8_t ulen, plen;
	const uint8_t *user, *pw;
	const struct secret *e = NULL;
	char name[SECRET_NAME_MAX + 1], printable[SECRET_NAME_MAX + 1];
	const char *reason;
	bool ok;

	if (p->state == PAP_INITIAL) {
		*why = "request before authentication phase";
		return -ENOMSG;
	}
	if (rbuf_get8(body, &ulen) < 0 || body->len < ulen) {
		*why = "short Peer-ID";
		return -EBADMSG;
	}
	user = body->p;
	rbuf_skip(body, ulen);
	if (rbuf_get8(body, &plen) < 0 || body->len < plen) {
		*why = "short Password";
		return -EBADMSG;
	}
	pw = body->p;
	/* Already answered: the peer lost our answer; say it again. */
	if (p->state == PAP_OPEN) {
		send_answer(p, PAP_AUTH_ACK, id, msg_ok);
		return 0;
	}
	if (p->state == PAP_FAILED) {
		send_answer(p, PAP_AUTH_NAK, id, msg_bad);
		return 0;
	}
	auth_printable(printable, sizeof(printable), user, ulen);
	if (!auth_name_valid(user, ulen)) {
		reason = "peer-id has control characters";
		ok = false;
	} else {
		memcpy(name, user, ulen);
		name[ulen] = 0;
		e = secrets_lookup(p->secrets, name, p->our_name);
		/* Compare even without an entry, so the time taken does not
		 * tell which names exist. */
		ok = auth_secret_equal(e ? e->secret : "", e ? e->secret_len : 0, pw, plen) &&
		     e != NULL;
		reason = !e ? "no secret for this peer" : ok ? msg_ok : "wrong password";
	}
	p->cb.timer_cancel(p->cb.ctx);
	p->state = ok ? PAP_OPEN : PAP_FAILED;
	send_answer(p, ok ? PAP_AUTH_ACK : PAP_AUTH_NAK, id, ok ? msg_ok : msg_bad);
	if (ok)
		strcpy(p->peer, printable);
	p->cb.result(p->cb.ctx, ok, printable, reason);
	return 0;
}

/* Client: an Ack or a Nak. */
static int client_answer(struct pap *p, uint8_t code, uint8_t id, struct rbuf *body,
			 const char **why)
{
	char msg[256];
	uint8_t mlen = 0;

	if (p->state != PAP_PENDING || id != p->id) {
		*why = "answer to no outstanding request";
		return -ENOMSG;
	}
	/* Some peers omit Msg-Length on an empty message (pppd accepts it). */
	if (body->len > 0 && (rbuf_get8(body, &mlen) < 0 || body->len < mlen)) {
		*why = "Msg-Length beyond packet";
		return -EBADMSG;
	}
	auth_printable(msg, sizeof(msg), body->p, mlen);
	p->cb.timer_cancel(p->cb.ctx);
	p->state = code == PAP_AUTH_ACK ? PAP_OPEN : PAP_FAILED;
	p->cb.result(p->cb.ctx, code == PAP_AUTH_ACK, "", msg);
	return 0;
}

int pap_input(struct pap *p, const uint8_t *pkt, size_t len, const char **why)
{
	const char *dummy;
	struct rbuf body;
	uint8_t code, id;

	if (!why)
		why = &dummy;
	*why = NULL;
	if (!p)
		return -EINVAL;
	if (auth_hdr_parse(pkt, len, &code, &id, &body) < 0) {
		*why = "bad header or Length";
		return -EBADMSG;
	}
	switch (code) {
	case PAP_AUTH_REQ:
		if (p->role == PAP_SERVER)
			return server_request(p, id, &body, why);
		break;
	case PAP_AUTH_ACK:
	case PAP_AUTH_NAK:
		if (p->role == PAP_CLIENT)
			return client_answer(p, code, id, &body, why);
		break;
	default:
		*why = "unknown code";
		return -ENOMSG;
	}
	*why = "not for our role";
	return -ENOMSG;
}
