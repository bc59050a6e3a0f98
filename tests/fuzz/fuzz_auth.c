/* Fuzz the PAP and CHAP modules: arbitrary packets, timer expiries and
 * restarts fed to a PAP client, PAP server, CHAP client and CHAP server.
 * Input: records of [op][len][len bytes]; op & 3 picks the instance,
 * op & 4 fires its timer first, op & 8 restarts it first. Whatever a module
 * sends must be a well-formed packet of its protocol, and whatever it
 * reports must be bounded and printable. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chap.h"
#include "pap.h"
#include "secrets.h"

struct sink {
	uint16_t protocol;
	unsigned results;
};

static void check_text(const char *s)
{
	size_t n = strlen(s);
	if (n > 255)
		abort();
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] == 0x7f)
			abort();
}

static void tx(void *ctx, uint16_t protocol, const uint8_t *pkt, size_t len)
{
	struct sink *s = ctx;
	if (protocol != s->protocol || len < 4 || len > 600)
		abort();
	if ((size_t)(pkt[2] << 8 | pkt[3]) != len)
		abort();
}

static void arm(void *ctx, unsigned ms)
{
	if (ms == 0)
		abort();
}

static void cancel(void *ctx)
{
}

static void result(void *ctx, bool ok, const char *name, const char *msg)
{
	struct sink *s = ctx;
	check_text(name);
	check_text(msg);
	s->results++;
}

static int rnd(void *ctx, uint8_t *buf, size_t n)
{
	memset(buf, 0x5a, n);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sink sinks[4] = {{PPP_PAP, 0}, {PPP_PAP, 0}, {PPP_CHAP, 0}, {PPP_CHAP, 0}};
	struct auth_cb cb[4];
	struct secrets *sec = secrets_new();

	if (!sec)
		return 0;
	for (int i = 0; i < 4; i++)
		cb[i] = (struct auth_cb){.tx = tx,
					 .timer_arm = arm,
					 .timer_cancel = cancel,
					 .result = result,
					 .random = rnd,
					 .ctx = &sinks[i]};
	secrets_add(sec, "gw1", "rx", "s3cret");
	secrets_add(sec, "*", "*", "any");
	secrets_add(sec, "rx", "*", "back");

	struct pap *pc = pap_client_new(
	    &(struct pap_client_cfg){.user = "gw1", .password = "s3cret", .max_requests = 3},
	    &cb[0]);
	struct pap *ps =
	    pap_server_new(&(struct pap_server_cfg){.our_name = "rx", .secrets = sec}, &cb[1]);
	struct chap_cfg ccfg = {.our_name = "gw1", .secrets = sec};
	struct chap_cfg scfg = {
	    .our_name = "rx", .secrets = sec, .max_challenges = 3, .rechallenge_ms = 1000};
	struct chap *cc = chap_client_new(&ccfg, &cb[2]);
	struct chap *cs = chap_server_new(&scfg, &cb[3]);
	if (!pc || !ps || !cc || !cs)
		abort();
	pap_start(pc);
	pap_start(ps);
	chap_start(cc);
	chap_start(cs);

	size_t off = 0;
	while (off + 2 <= size) {
		uint8_t op = data[off], len = data[off + 1];
		off += 2;
		if (len > size - off)
			len = (uint8_t)(size - off);
		/* Exact-size copy so ASan sees any read past the packet. */
		uint8_t *pkt = malloc(len ? len : 1);
		if (!pkt)
			break;
		memcpy(pkt, data + off, len);
		off += len;
		switch (op & 3) {
		case 0:
			if (op & 8) {
				pap_stop(pc);
				pap_start(pc);
			}
			if (op & 4)
				pap_timeout(pc);
			pap_input(pc, pkt, len, NULL);
			break;
		case 1:
			if (op & 8) {
				pap_stop(ps);
				pap_start(ps);
			}
			if (op & 4)
				pap_timeout(ps);
			pap_input(ps, pkt, len, NULL);
			break;
		case 2:
			if (op & 8) {
				chap_stop(cc);
				chap_start(cc);
			}
			if (op & 4)
				chap_timeout(cc);
			chap_input(cc, pkt, len, NULL);
			break;
		default:
			if (op & 8) {
				chap_stop(cs);
				chap_start(cs);
			}
			if (op & 4)
				chap_timeout(cs);
			chap_input(cs, pkt, len, NULL);
			break;
		}
		free(pkt);
	}
	pap_free(pc);
	pap_free(ps);
	chap_free(cc);
	chap_free(cs);
	secrets_free(sec);
	return 0;
}
