/* PAP client <-> server in memory: what each side puts on the wire and what
 * each reports, for a good login, a wrong password, lost packets and
 * malformed input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "pap.h"
#include "secrets.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define MAX_PKTS 16

struct side {
	uint8_t pkts[MAX_PKTS][600];
	size_t lens[MAX_PKTS];
	size_t n_pkts;
	bool armed;
	unsigned armed_ms;
	int n_results;
	bool ok;
	char name[256], msg[256];
};

static void tx(void *ctx, uint16_t protocol, const uint8_t *pkt, size_t len)
{
	struct side *s = ctx;
	assert_int_equal(protocol, PPP_PAP);
	assert_true(s->n_pkts < MAX_PKTS && len <= sizeof(s->pkts[0]));
	memcpy(s->pkts[s->n_pkts], pkt, len);
	s->lens[s->n_pkts++] = len;
}

static void arm(void *ctx, unsigned ms)
{
	struct side *s = ctx;
	s->armed = true;
	s->armed_ms = ms;
}

static void cancel(void *ctx)
{
	((struct side *)ctx)->armed = false;
}

static void result(void *ctx, bool ok, const char *name, const char *msg)
{
	struct side *s = ctx;
	s->n_results++;
	s->ok = ok;
	snprintf(s->name, sizeof(s->name), "%s", name);
	snprintf(s->msg, sizeof(s->msg), "%s", msg);
}

static struct auth_cb cb_for(struct side *s)
{
	return (struct auth_cb){
	    .tx = tx, .timer_arm = arm, .timer_cancel = cancel, .result = result, .ctx = s};
}

struct pair {
	struct side cs, ss;
	struct pap *client, *server;
	struct secrets *secrets;
};

static void pair_setup(struct pair *p, const char *password, unsigned max_requests)
{
	memset(p, 0, sizeof(*p));
	p->secrets = secrets_new();
	assert_non_null(p->secrets);
	assert_int_equal(secrets_add(p->secrets, "gw1", "receiver", "s3cret"), 0);
	struct auth_cb ccb = cb_for(&p->cs), scb = cb_for(&p->ss);
	p->client = pap_client_new(&(struct pap_client_cfg){.user = "gw1",
							    .password = password,
							    .max_requests = max_requests},
				   &ccb);
	p->server = pap_server_new(
	    &(struct pap_server_cfg){.our_name = "receiver", .secrets = p->secrets}, &scb);
	assert_non_null(p->client);
	assert_non_null(p->server);
}

static void pair_teardown(struct pair *p)
{
	p->client = pap_free(p->client);
	p->server = pap_free(p->server);
	p->secrets = secrets_free(p->secrets);
}

/* Deliver the last packet `from` sent to `to`. */
static int deliver_last(struct side *from, struct pap *to)
{
	assert_true(from->n_pkts > 0);
	return pap_input(to, from->pkts[from->n_pkts - 1], from->lens[from->n_pkts - 1], NULL);
}

static void test_login_ok(void **state)
{
	struct pair p;
	pair_setup(&p, "s3cret", 0);

	pap_start(p.server);
	assert_true(p.ss.armed); /* waiting for a request, bounded */
	assert_int_equal(p.ss.n_pkts, 0);

	pap_start(p.client);
	static const uint8_t req[] = {1, 1,   0,   15,	3,   'g', 'w', '1',
				      6, 's', '3', 'c', 'r', 'e', 't'};
	assert_int_equal(p.cs.n_pkts, 1);
	assert_int_equal(p.cs.lens[0], sizeof(req));
	assert_memory_equal(p.cs.pkts[0], req, sizeof(req));
	assert_true(p.cs.armed);
	assert_int_equal(p.cs.armed_ms, 3000);

	assert_int_equal(deliver_last(&p.cs, p.server), 0);
	static const uint8_t ack[] = {2, 1, 0, 13, 8, 'L', 'o', 'g', 'i', 'n', ' ', 'o', 'k'};
	assert_int_equal(p.ss.n_pkts, 1);
	assert_memory_equal(p.ss.pkts[0], ack, sizeof(ack));
	assert_int_equal(p.ss.lens[0], sizeof(ack));
	assert_false(p.ss.armed);
	assert_int_equal(p.ss.n_results, 1);
	assert_true(p.ss.ok);
	assert_string_equal(p.ss.name, "gw1");
	assert_true(pap_done(p.server));

	assert_int_equal(deliver_last(&p.ss, p.client), 0);
	assert_int_equal(p.cs.n_results, 1);
	assert_true(p.cs.ok);
	assert_string_equal(p.cs.msg, "Login ok");
	assert_false(p.cs.armed);
	assert_true(pap_done(p.client));
	pair_teardown(&p);
}

static void test_wrong_password_nak(void **state)
{
	struct pair p;
	pair_setup(&p, "guess", 0);

	pap_start(p.server);
	pap_start(p.client);
	assert_int_equal(deliver_last(&p.cs, p.server), 0);
	static const uint8_t nak[] = {3,   1,	0,   20,  15,  'L', 'o', 'g', 'i', 'n',
				      ' ', 'i', 'n', 'c', 'o', 'r', 'r', 'e', 'c', 't'};
	assert_int_equal(p.ss.lens[0], sizeof(nak));
	assert_memory_equal(p.ss.pkts[0], nak, sizeof(nak));
	assert_int_equal(p.ss.n_results, 1);
	assert_false(p.ss.ok);
	assert_string_equal(p.ss.name, "gw1");
	assert_string_equal(p.ss.msg, "wrong password");
	assert_false(pap_done(p.server));

	assert_int_equal(deliver_last(&p.ss, p.client), 0);
	assert_int_equal(p.cs.n_results, 1);
	assert_false(p.cs.ok);
	assert_string_equal(p.cs.msg, "Login incorrect");
	assert_false(pap_done(p.client));

	/* A retry after the Nak is Nak'd again without a second verdict. */
	static const uint8_t retry[] = {1, 9,	0,   15,  3,   'g', 'w', '1',
					6, 's', '3', 'c', 'r', 'e', 't'};
	assert_int_equal(pap_input(p.server, retry, sizeof(retry), NULL), 0);
	assert_int_equal(p.ss.n_pkts, 2);
	assert_int_equal(p.ss.pkts[1][0], PAP_AUTH_NAK);
	assert_int_equal(p.ss.pkts[1][1], 9);
	assert_int_equal(p.ss.n_results, 1);
	pair_teardown(&p);
}

static void test_unknown_user_nak(void **state)
{
	struct pair p;
	pair_setup(&p, "s3cret", 0);
	static const uint8_t req[] = {1, 4,   0,   15,	3,   'g', 'w', '2',
				      6, 's', '3', 'c', 'r', 'e', 't'};

	pap_start(p.server);
	assert_int_equal(pap_input(p.server, req, sizeof(req), NULL), 0);
	assert_int_equal(p.ss.pkts[0][0], PAP_AUTH_NAK);
	assert_int_equal(p.ss.pkts[0][1], 4);
	assert_false(p.ss.ok);
	assert_string_equal(p.ss.msg, "no secret for this peer");
	pair_teardown(&p);
}

static void test_repeated_request_after_ack(void **state)
{
	struct pair p;
	pair_setup(&p, "s3cret", 0);

	pap_start(p.server);
	pap_start(p.client);
	assert_int_equal(deliver_last(&p.cs, p.server), 0);
	/* The Ack is lost; the client's timer fires and it asks again with a
	 * new identifier; the server answers the same, once more. */
	pap_timeout(p.client);
	assert_int_equal(p.cs.n_pkts, 2);
	assert_int_equal(p.cs.pkts[1][1], 2);
	assert_int_equal(deliver_last(&p.cs, p.server), 0);
	assert_int_equal(p.ss.n_pkts, 2);
	assert_int_equal(p.ss.lens[1], p.ss.lens[0]);
	assert_int_equal(p.ss.pkts[1][0], PAP_AUTH_ACK);
	assert_int_equal(p.ss.pkts[1][1], 2);
	assert_memory_equal(p.ss.pkts[1] + 2, p.ss.pkts[0] + 2, p.ss.lens[0] - 2);
	assert_int_equal(p.ss.n_results, 1);

	/* The stale Ack (id 1) means nothing to the client; the fresh one does. */
	assert_int_equal(pap_input(p.client, p.ss.pkts[0], p.ss.lens[0], NULL), -ENOMSG);
	assert_int_equal(p.cs.n_results, 0);
	assert_int_equal(deliver_last(&p.ss, p.client), 0);
	assert_true(p.cs.ok);
	pair_teardown(&p);
}

static void test_client_gives_up(void **state)
{
	struct pair p;
	pair_setup(&p, "s3cret", 3);

	pap_start(p.client);
	pap_timeout(p.client);
	pap_timeout(p.client);
	assert_int_equal(p.cs.n_pkts, 3);
	for (size_t i = 0; i < 3; i++)
		assert_int_equal(p.cs.pkts[i][1], i + 1); /* new identifier each time */
	assert_int_equal(p.cs.n_results, 0);
	pap_timeout(p.client);
	assert_int_equal(p.cs.n_pkts, 3);
	assert_int_equal(p.cs.n_results, 1);
	assert_false(p.cs.ok);
	assert_string_equal(p.cs.msg, "no answer to 3 Authenticate-Requests");
	/* A late timer does nothing more. */
	pap_timeout(p.client);
	assert_int_equal(p.cs.n_results, 1);
	pair_teardown(&p);
}

static void test_server_wait_bounded(void **state)
{
	struct pair p;
	pair_setup(&p, "s3cret", 0);

	pap_start(p.server);
	assert_int_equal(p.ss.armed_ms, 30000);
	pap_timeout(p.server);
	assert_int_equal(p.ss.n_results, 1);
	assert_false(p.ss.ok);
	assert_int_equal(p.ss.n_pkts, 0);
	pair_teardown(&p);
}

static void test_malformed_ignored(void **state)
{
	struct pair p;
	pair_setup(&p, "s3cret", 0);
	const char *why;

	pap_start(p.server);
	/* Peer-ID length past the end. */
	static const uint8_t bad1[] = {1, 1, 0, 8, 9, 'g', 'w', '1'};
	assert_int_equal(pap_input(p.server, bad1, sizeof(bad1), &why), -EBADMSG);
	assert_non_null(why);
	/* Length field beyond the datagram. */
	static const uint8_t bad2[] = {1, 1, 0, 40, 3, 'g', 'w', '1', 0};
	assert_int_equal(pap_input(p.server, bad2, sizeof(bad2), NULL), -EBADMSG);
	/* Length below the header. */
	static const uint8_t bad3[] = {1, 1, 0, 3};
	assert_int_equal(pap_input(p.server, bad3, sizeof(bad3), NULL), -EBADMSG);
	/* Unknown code, and an Ack sent to a server. */
	static const uint8_t odd[] = {7, 1, 0, 4};
	assert_int_equal(pap_input(p.server, odd, sizeof(odd), NULL), -ENOMSG);
	static const uint8_t ack[] = {2, 1, 0, 5, 0};
	assert_int_equal(pap_input(p.server, ack, sizeof(ack), NULL), -ENOMSG);
	assert_int_equal(p.ss.n_pkts, 0);
	assert_int_equal(p.ss.n_results, 0);

	/* Padding past Length is ignored: the request still counts. */
	static const uint8_t padded[] = {1,   5,   0,	15,  3,	  'g', 'w',  '1', 6,
					 's', '3', 'c', 'r', 'e', 't', 0xAA, 0xBB};
	assert_int_equal(pap_input(p.server, padded, sizeof(padded), NULL), 0);
	assert_int_equal(p.ss.pkts[0][0], PAP_AUTH_ACK);
	pair_teardown(&p);
}

static void test_client_message_printable(void **state)
{
	struct pair p;
	pair_setup(&p, "s3cret", 0);

	pap_start(p.client);
	/* A Nak whose message carries an escape sequence. */
	static const uint8_t nak[] = {3, 1, 0, 10, 5, 'n', 'o', 0x1b, '[', 'm'};
	assert_int_equal(pap_input(p.client, nak, sizeof(nak), NULL), 0);
	assert_false(p.cs.ok);
	assert_string_equal(p.cs.msg, "no?[m");
	pair_teardown(&p);
}

static void test_ack_without_msg_length(void **state)
{
	struct pair p;
	pair_setup(&p, "s3cret", 0);

	pap_start(p.client);
	static const uint8_t ack[] = {2, 1, 0, 4};
	assert_int_equal(pap_input(p.client, ack, sizeof(ack), NULL), 0);
	assert_true(p.cs.ok);
	assert_string_equal(p.cs.msg, "");
	pair_teardown(&p);
}

static void test_stop_and_restart(void **state)
{
	struct pair p;
	pair_setup(&p, "s3cret", 0);

	pap_start(p.client);
	pap_stop(p.client);
	assert_false(p.cs.armed);
	/* The answer to a request from before the link went down is ignored. */
	static const uint8_t ack[] = {2, 1, 0, 5, 0};
	assert_int_equal(pap_input(p.client, ack, sizeof(ack), NULL), -ENOMSG);
	pap_start(p.client);
	assert_int_equal(p.cs.n_pkts, 2);
	assert_int_equal(p.cs.pkts[1][1], 2);
	pair_teardown(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_login_ok),
	    cmocka_unit_test(test_wrong_password_nak),
	    cmocka_unit_test(test_unknown_user_nak),
	    cmocka_unit_test(test_repeated_request_after_ack),
	    cmocka_unit_test(test_client_gives_up),
	    cmocka_unit_test(test_server_wait_bounded),
	    cmocka_unit_test(test_malformed_ignored),
	    cmocka_unit_test(test_client_message_printable),
	    cmocka_unit_test(test_ack_without_msg_length),
	    cmocka_unit_test(test_stop_and_restart),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
