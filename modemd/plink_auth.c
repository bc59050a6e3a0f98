#include "plink-internal.h"

#include "log.h"
#include "ppp_proto.h"
#include "util.h"

#include <errno.h>
#include <string.h>

static int auth_random(void *ctx, uint8_t *buf, size_t n);

static struct auth_slot *slot_of(void *ctx)
{
	return ctx;
}

static void auth_tx(void *ctx, uint16_t protocol, const uint8_t *pkt, size_t len)
{
	plink_send_proto(slot_of(ctx)->pl, protocol, pkt, len);
}

static void auth_timer_arm(void *ctx, unsigned ms)
{
	struct auth_slot *a = slot_of(ctx);
	plink_t_arm_(a->pl, a->timer, ms);
}

static void auth_timer_cancel(void *ctx)
{
	struct auth_slot *a = slot_of(ctx);
	plink_t_cancel_(a->pl, a->timer);
}

static void auth_check_done(struct plink *pl)
{
	for (int i = 0; i < 2; i++)
		if (pl->auth[i].active && !pl->auth[i].ok)
			return;
	if (pl->authed || !pl->lcp_opened)
		return;
	pl->authed = true;
	plink_set_phase_(pl, PLINK_NETWORK);
	pl->pending |= PEND_AUTH;
}

static void auth_result(void *ctx, bool ok, const char *name, const char *message)
{
	struct auth_slot *a = slot_of(ctx);
	struct plink *pl = a->pl;
	bool server = a == &pl->auth[AUTH_SERVER];

	if (!ok) {
		log_info("plink[%s]: %s failed: %s", pl->name,
			 server ? "authentication of the peer" : "our authentication", message);
		a->ok = false;
		pl->down_reason =
		    server ? "peer failed authentication" : "peer refused our authentication";
		pl->close_reason = "Authentication failed";
		return;
	}
	a->ok = true;
	if (server)
		strlcpy_checked(pl->peer_name, name, sizeof(pl->peer_name));
	auth_check_done(pl);
}

static const struct auth_cb *auth_cb_for(struct auth_slot *a, struct auth_cb *cb)
{
	*cb = (struct auth_cb){
	    .tx = auth_tx,
	    .timer_arm = auth_timer_arm,
	    .timer_cancel = auth_timer_cancel,
	    .result = auth_result,
	    .random = auth_random,
	    .ctx = a,
	};
	return cb;
}

/* PAP client password: (our name, remote name) or the first entry for our
 * name, as pppd does without a remotename. */
static const struct secret *pap_secret(const struct plink *pl)
{
	const struct secrets *s = pl->c.secrets;

	if (!s)
		return NULL;
	if (pl->remote_name[0])
		return secrets_lookup(s, pl->our_name, pl->remote_name);
	for (size_t i = 0; i < secrets_count(s); i++) {
		const struct secret *e = secrets_at(s, i);
		if (e && strcmp(e->client, pl->our_name) == 0)
			return e;
	}
	return NULL;
}

static void auth_start_slot(struct plink *pl, int role, uint16_t proto)
{
	struct auth_slot *a = &pl->auth[role];
	struct auth_cb cb;

	a->active = true;
	a->ok = false;
	auth_cb_for(a, &cb);
	if (proto == PPP_PROTO_CHAP) {
		struct chap_cfg cc = {.our_name = pl->our_name, .secrets = pl->c.secrets};
		a->chap =
		    role == AUTH_SERVER ? chap_server_new(&cc, &cb) : chap_client_new(&cc, &cb);
		if (a->chap)
			chap_start(a->chap);
	} else if (proto == PPP_PROTO_PAP && role == AUTH_SERVER) {
		struct pap_server_cfg sc = {.our_name = pl->our_name, .secrets = pl->c.secrets};
		a->pap = pap_server_new(&sc, &cb);
		if (a->pap)
			pap_start(a->pap);
	} else if (proto == PPP_PROTO_PAP) {
		const struct secret *e = pap_secret(pl);
		struct pap_client_cfg pc = {.user = pl->our_name, .password = e ? e->secret : ""};
		if (!e)
			log_info("plink[%s]: no PAP secret for %s", pl->name, pl->our_name);
		a->pap = pap_client_new(&pc, &cb);
		if (a->pap)
			pap_start(a->pap);
	}
	if (!a->chap && !a->pap) {
		pl->down_reason = "authentication could not start";
		pl->close_reason = "Authentication failed";
	}
}

void plink_auth_start_(struct plink *pl)
{
	if (pl->res.auth_peer)
		auth_start_slot(pl, AUTH_SERVER, pl->res.auth_peer);
	if (pl->res.auth_us)
		auth_start_slot(pl, AUTH_CLIENT, pl->res.auth_us);
	auth_check_done(pl);
}

void plink_auth_stop_(struct plink *pl)
{
	for (int i = 0; i < 2; i++) {
		struct auth_slot *a = &pl->auth[i];
		a->pap = pap_free(a->pap);
		a->chap = chap_free(a->chap);
		plink_t_cancel_(pl, a->timer);
		a->active = a->ok = false;
	}
}

int plink_auth_input_(struct plink *pl, uint16_t proto, struct rbuf pkt)
{
	uint8_t code;
	const char *why = NULL;

	if (rbuf_peek8(&pkt, 0, &code) < 0)
		return -EBADMSG;
	/* Requests/Responses go to the server role, the rest to the client. */
	bool to_server = proto == PPP_PROTO_PAP ? code == PAP_AUTH_REQ : code == CHAP_RESPONSE;
	struct auth_slot *a = &pl->auth[to_server ? AUTH_SERVER : AUTH_CLIENT];
	int r = -ENOMSG;
	if (proto == PPP_PROTO_PAP && a->pap)
		r = pap_input(a->pap, pkt.p, pkt.len, &why);
	else if (proto == PPP_PROTO_CHAP && a->chap)
		r = chap_input(a->chap, pkt.p, pkt.len, &why);
	if (r < 0)
		log_debug("plink[%s]: %s packet ignored: %s", pl->name,
			  proto == PPP_PROTO_PAP ? "PAP" : "CHAP", why ? why : "no exchange");
	return r;
}

void plink_auth_timer_fired_(void *arg)
{
	struct auth_slot *a = arg;
	struct plink *pl = a->pl;

	plink_enter_(pl);
	if (a->pap)
		pap_timeout(a->pap);
	else if (a->chap)
		chap_timeout(a->chap);
	plink_leave_(pl);
}

static int auth_random(void *ctx, uint8_t *buf, size_t n)
{
	struct auth_slot *a = ctx;

	for (size_t i = 0; i < n; i += 4) {
		uint32_t v = plink_rand32_(a->pl);
		size_t k = n - i < 4 ? n - i : 4;
		memcpy(buf + i, &v, k);
	}
	return 0;
}
