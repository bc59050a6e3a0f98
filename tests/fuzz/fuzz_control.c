/* Control requests: the bytes are one client's input on a real socket pair,
 * served by the real control code and event loop, with two modems in the
 * daemon (so status builds real replies). Asserts: no crash, every reply is
 * one JSON object per line without the APN password, and the server hangs
 * up after our EOF. */
#include <errno.h>
#include <json-c/json.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "config.h"
#include "control.h"
#include "daemon.h"
#include "log.h"
#include "loop.h"
#include "modem.h"

/* One daemon for the whole run: two real modems on ports that do not exist
 * (they sit in probing/backoff, so up/down run the real lifecycle code
 * without touching devices). */
static struct daemon *daemon_get(void)
{
	static struct daemon *d;
	if (d)
		return d;
	d = calloc(1, sizeof(*d));
	log_set_level(LOG_CRIT);
	d->loop = loop_new();
	int err;
	if (!d->loop || config_init_defaults(&d->cfg) < 0)
		abort();
	d->ctl = control_open(d, NULL, NULL, &err);
	if (!d->ctl)
		abort();
	for (int i = 0; i < 2; i++) {
		char name[8], at[64], ppp[64];
		snprintf(name, sizeof(name), "m%d", i);
		snprintf(at, sizeof(at), "/nonexistent/fuzz-at%d", i);
		snprintf(ppp, sizeof(ppp), "/nonexistent/fuzz-ppp%d", i);
		struct modem *m = modem_new(d, name, at, ppp, NULL, NULL, true);
		if (!m)
			abort();
		/* What a modem may report: bytes that are not UTF-8, control chars. */
		strcpy(m->operator_name, "Op\xe9rateur\x01");
		strcpy(m->ident.model, "SIMCOM_SIM7100C");
		m->have_apn = i == 0;
		strcpy(m->apn.apn, "3gnet");
		strcpy(m->apn.password, "pw-Zq81x");
	}
	return d;
}

/* Each reply line must parse as a JSON object. */
static void check_replies(char *buf, size_t *len)
{
	char *nl;
	while ((nl = memchr(buf, '\n', *len))) {
		size_t n = (size_t)(nl - buf);
		json_tokener *tok = json_tokener_new();
		json_object *o = json_tokener_parse_ex(tok, buf, (int)n);
		if (!o || !json_object_is_type(o, json_type_object) ||
		    json_tokener_get_parse_end(tok) != n)
			abort();
		/* Error replies may echo the request; successful ones never hold it. */
		json_object *ok = json_object_object_get(o, "ok");
		if (json_object_get_boolean(ok) && memmem(buf, n, "pw-Zq81x", 8))
			abort();
		json_object_put(o);
		json_tokener_free(tok);
		memmove(buf, nl + 1, *len - n - 1);
		*len -= n + 1;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct daemon *d = daemon_get();
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0)
		abort();
	if (control_adopt(d->ctl, sv[0]) < 0)
		abort();
	static char reply[1 << 16];
	size_t rlen = 0, off = 0;
	bool shut = false, closed = false;
	for (int round = 0; round < 100000 && !closed; round++) {
		if (off < size) {
			ssize_t n = send(sv[1], data + off, size - off, MSG_NOSIGNAL);
			if (n > 0)
				off += (size_t)n;
			else if (n < 0 && errno != EAGAIN)
				break; /* the server hung up (request too long) */
		} else if (!shut) {
			shutdown(sv[1], SHUT_WR);
			shut = true;
		}
		loop_iterate(d->loop, 0);
		for (;;) {
			ssize_t n = recv(sv[1], reply + rlen, sizeof(reply) - rlen, 0);
			if (n == 0 || (n < 0 && errno == ECONNRESET)) {
				closed = true;
				break;
			}
			if (n < 0)
				break;
			rlen += (size_t)n;
			check_replies(reply, &rlen);
			if (rlen == sizeof(reply))
				abort(); /* a reply line far larger than any real one */
		}
	}
	if (!closed)
		abort(); /* EOF must end the conversation */
	close(sv[1]);
	/* Let the loop release the closed client. */
	loop_iterate(d->loop, 0);
	return 0;
}
