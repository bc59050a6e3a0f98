/* CHAP-MD5 client <-> server in memory: the bytes each side sends and the
 * outcome each reports, for a good login, a wrong secret, re-challenges,
 * identifier mismatches, lost packets; and MD5 vectors computed outside
 * (Python hashlib) for Response = MD5(id || secret || challenge). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "chap.h"
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
	uint8_t rnd_first; /* first random byte: picks the challenge length */
};

static void tx(void *ctx, uint16_t protocol, const uint8_t *pkt, size_t len)
{
	struct side *s = ctx;
	assert_int_equal(protocol, PPP_CHAP);
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

/* Deterministic "random": rnd_first, then 1, 2, 3, ... */
static int rnd(void *ctx, uint8_t *buf, size_t n)
{
	struct side *s = ctx;
	for (size_t i = 0; i < n; i++)
		buf[i] = i == 0 ? s->rnd_first : (uint8_t)i;
	return 0;
}

static struct auth_cb cb_for(struct side *s)
{
	return (struct auth_cb){.tx = tx,
				.timer_arm = arm,
				.timer_cancel = cancel,
				.result = result,
				.random = rnd,
				.ctx = s};
}

struct pair {
	struct side cs, ss;
	struct chap *client, *server;
	struct secrets *client_secrets, *server_secrets;
};

static void pair_setup(struct pair *p, const char *client_secret, unsigned rechallenge_ms)
{
	memset(p, 0, sizeof(*p));
	p->client_secrets = secrets_new();
	p->server_secrets = secrets_new();
	assert_int_equal(secrets_add(p->server_secrets, "gw1", "receiver", "s3cret"), 0);
	assert_int_equal(secrets_add(p->server_secrets, "gw2", "receiver", "other"), 0);
	assert_int_equal(secrets_add(p->client_secrets, "gw1", "*", client_secret), 0);
	struct auth_cb ccb = cb_for(&p->cs), scb = cb_for(&p->ss);
	p->client = chap_client_new(
	    &(struct chap_cfg){.our_name = "gw1", .secrets = p->client_secrets}, &ccb);
	p->server = chap_server_new(&(struct chap_cfg){.our_name = "receiver",
						       .secrets = p->server_secrets,
						       .max_challenges = 3,
						       .rechallenge_ms = rechallenge_ms},
				    &scb);
	assert_non_null(p->client);
	assert_non_null(p->server);
}

static void pair_teardown(struct pair *p)
{
	p->client = chap_free(p->client);
	p->server = chap_free(p->server);
	p->client_secrets = secrets_free(p->client_secrets);
	p->server_secrets = secrets_free(p->server_secrets);
}

static int deliver_last(struct side *from, struct chap *to)
{
	assert_true(from->n_pkts > 0);
	return chap_input(to, from->pkts[from->n_pkts - 1], from->lens[from->n_pkts - 1], NULL);
}

static void test_md5_vectors(void **state)
{
	uint8_t out[16], chal[24];

	for (int i = 0; i < 16; i++)
		chal[i] = (uint8_t)i;
	chap_md5_response(1, "secret", 6, chal, 16, out);
	static const uint8_t v1[] = {0x74, 0x0e, 0x86, 0x46, 0x3b, 0xda, 0x3a, 0x4d,
				     0x70, 0x17, 0xd6, 0xe0, 0xfb, 0xa0, 0x69, 0x9d};
	assert_memory_equal(out, v1, 16);

	/* Empty secret: MD5(id || challenge). */
	chap_md5_response(7, "", 0, chal, 16, out);
	static const uint8_t v2[] = {0xd8, 0xf0, 0x33, 0xcf, 0x05, 0x39, 0x75, 0x09,
				     0x07, 0xb9, 0xab, 0xdf, 0x83, 0x86, 0x16, 0xa3};
	assert_memory_equal(out, v2, 16);

	/* 24-byte challenge, secret with a quote and a space. */
	for (int i = 0; i < 24; i++)
		chal[i] = (uint8_t)(0xa0 + i);
	chap_md5_response(0x2a, "we\"ird s3cr3t", 13, chal, 24, out);
	static const uint8_t v3[] = {0x14, 0x70, 0x9d, 0x47, 0xf7, 0x7f, 0x7c, 0x08,
				     0x90, 0x95, 0xfa, 0x23, 0x23, 0x8a, 0xa7, 0xa8};
	assert_memory_equal(out, v3, 16);
}

static const uint8_t expect_digest[16] = {0xa6, 0xf6, 0xc4, 0x83, 0xe4, 0x29, 0x3e, 0x75,
					  0x39, 0xe3, 0xb7, 0x66, 0x61, 0x13, 0x63, 0x34};

static void test_login_ok_wire(void **state)
{
	struct pair p;
	pair_setup(&p, "s3cret", 0);

	chap_start(p.client);
	assert_true(p.cs.armed); /* the wait for a Challenge is bounded */
	chap_start(p.server);
	/* Challenge: id 1, 16 bytes 01..10, name "receiver". */
	assert_int_equal(p.ss.n_pkts, 1);
	assert_int_equal(p.ss.lens[0], 4 + 1 + 16 + 8);
	static const uint8_t hdr[] = {1, 1, 0, 29, 16};
	assert_memory_equal(p.ss.pkts[0], hdr, sizeof(hdr));
	for (int i = 0; i < 16; i++)
		assert_int_equal(p.ss.pkts[0][5 + i], i + 1);
	assert_memory_equal(p.ss.pkts[0] + 21, "receiver", 8);
	assert_true(p.ss.armed);
	assert_int_equal(p.ss.armed_ms, 3000);

	/* Response: id 1, MD5(01 || "s3cret" || 01..10), name "gw1". */
	assert_int_equal(deliver_last(&p.ss, p.client), 0);
	assert_int_equal(p.cs.n_pkts, 1);
	assert_int_equal(p.cs.lens[0], 4 + 1 + 16 + 3);
	static const uint8_t rhdr[] = {2, 1, 0, 24, 16};
	assert_memory_equal(p.cs.pkts[0], rhdr, sizeof(rhdr));
	assert_memory_equal(p.cs.pkts[0] + 5, expect_digest, 16);
	assert_memory_equal(p.cs.pkts[0] + 21, "gw1", 3);

	assert_int_equal(deliver_last(&p.cs, p.server), 0);
	static const uint8_t success[] = {3,   1,   0,	 18,  'A', 'c', 'c', 'e', 's',
					  's', ' ', 'g', 'r', 'a', 'n', 't', 'e', 'd'};
	assert_int_equal(p.ss.lens[1], sizeof(success));
	assert_memory_equal(p.ss.pkts[1], success, sizeof(success));
	assert_false(p.ss.armed);
	assert_int_equal(p.ss.n_results, 1);
	assert_true(p.ss.ok);
	assert_string_equal(p.ss.name, "gw1");
	assert_true(chap_done(p.server));

	assert_int_equal(deliver_last(&p.ss, p.client), 0);
	assert_int_equal(p.cs.n_results, 1);
	assert_true(p.cs.ok);
	assert_string_equal(p.cs.name, "receiver");
	assert_string_equal(p.cs.msg, "Access granted");
	assert_false(p.cs.armed);
	assert_true(chap_done(p.client));

	/* A duplicate Success changes nothing; a duplicate Response gets the
	 * same Success again. */
	assert_int_equal(deliver_last(&p.ss, p.client), -ENOMSG);
	assert_int_equal(p.cs.n_results, 1);
	assert_int_equal(chap_input(p.server, p.cs.pkts[0], p.cs.lens[0], NULL), 0);
	assert_int_equal(p.ss.n_pkts, 3);
	assert_memory_equal(p.ss.pkts[2], success, sizeof(success));
	assert_int_equal(p.ss.n_results, 1);
	pair_teardown(&p);
}

static void test_wrong_secret_failure(void **state)
{
	struct pair p;
	pair_setup(&p, "guess", 0);

	chap_start(p.client);
	chap_start(p.server);
	assert_int_equal(deliver_last(&p.ss, p.client), 0);
	assert_int_equal(deliver_last(&p.cs, p.server), 0);
	static const uint8_t failure[] = {4,   1,   0,	 17,  'A', 'c', 'c', 'e', 's',
					  's', ' ', 'd', 'e', 'n', 'i', 'e', 'd'};
	assert_int_equal(p.ss.lens[1], sizeof(failure));
	assert_memory_equal(p.ss.pkts[1], failure, sizeof(failure));
	assert_int_equal(p.ss.n_results, 1);
	assert_false(p.ss.ok);
	assert_string_equal(p.ss.name, "gw1");
	assert_string_equal(p.ss.msg, "wrong secret");
	assert_false(chap_done(p.server));

	assert_int_equal(deliver_last(&p.ss, p.client), 0);
	assert_int_equal(p.cs.n_results, 1);
	assert_false(p.cs.ok);
	assert_string_equal(p.cs.msg, "Access denied");
	assert_false(chap_done(p.client));

	/* The right digest sent now is too late: the answer stays Failure. */
	uint8_t late[4 + 1 + 16 + 3] = {2, 1, 0, 24, 16};
	memcpy(late + 5, expect_digest, 16);
	memcpy(late + 21, "gw1", 3);
	assert_int_equal(chap_input(p.server, late, sizeof(late), NULL), 0);
	assert_memory_equal(p.ss.pkts[2], failure, sizeof(failure));
	assert_int_equal(p.ss.n_results, 1);
	pair_teardown(&p);
}

static void test_rechallenge(void **state)
{
	struct pair p;
	pair_setup(&p, "s3cret", 60000);

	chap_start(p.client);
	chap_start(p.server);
	assert_int_equal(deliver_last(&p.ss, p.client), 0);
	assert_int_equal(deliver_last(&p.cs, p.server), 0);
	assert_int_equal(deliver_last(&p.ss, p.client), 0);
	assert_true(p.cs.ok && p.ss.ok);
	assert_true(p.ss.armed);
	assert_int_equal(p.ss.armed_ms, 60000);

	/* Interval over: a fresh Challenge with a new identifier. */
	p.ss.rnd_first = 0xff; /* 0xff % 9 = 3: 19 bytes */
	chap_timeout(p.server);
	assert_int_equal(p.ss.n_pkts, 3);
	assert_int_equal(p.ss.pkts[2][0], CHAP_CHALLENGE);
	assert_int_equal(p.ss.pkts[2][1], 2);
	assert_int_equal(p.ss.pkts[2][4], 19);
	assert_int_equal(p.ss.armed_ms, 3000);
	assert_true(chap_done(p.server)); /* still authenticated meanwhile */

	/* The client answers in Opened; both stay open with no new verdict. */
	assert_int_equal(deliver_last(&p.ss, p.client), 0);
	assert_int_equal(p.cs.n_pkts, 2);
	assert_int_equal(p.cs.pkts[1][1], 2);
	assert_int_equal(deliver_last(&p.cs, p.server), 0);
	assert_int_equal(p.ss.pkts[3][0], CHAP_SUCCESS);
	assert_int_equal(p.ss.pkts[3][1], 2);
	assert_int_equal(p.ss.armed_ms, 60000);
	assert_int_equal(deliver_last(&p.ss, p.client), -ENOMSG);
	assert_int_equal(p.ss.n_results, 1);
	assert_int_equal(p.cs.n_results, 1);
	assert_true(chap_done(p.server) && chap_done(p.client));
	pair_teardown(&p);
}

static void test_rechallenge_other_name_fails(void **state)
{
	struct pair p;
	pair_setup(&p, "s3cret", 60000);

	chap_start(p.client);
	chap_start(p.server);
	assert_int_equal(deliver_last(&p.ss, p.client), 0);
	assert_int_equal(deliver_last(&p.cs, p.server), 0);
	chap_timeout(p.server);
	/* gw2 answers the re-challenge correctly for itself: refused, because
	 * this link authenticated as gw1. */
	uint8_t resp[4 + 1 + 16 + 3] = {2, 2, 0, 24, 16};
	const uint8_t *chal = p.ss.pkts[p.ss.n_pkts - 1];
	chap_md5_response(2, "other", 5, chal + 5, chal[4], resp + 5);
	memcpy(resp + 21, "gw2", 3);
	assert_int_equal(chap_input(p.server, resp, sizeof(resp), NULL), 0);
	assert_int_equal(p.ss.pkts[p.ss.n_pkts - 1][0], CHAP_FAILURE);
	assert_int_equal(p.ss.n_results, 2);
	assert_false(p.ss.ok);
	assert_false(chap_done(p.server));
	assert_false(p.ss.armed);
	pair_teardown(&p);
}

static void test_id_mismatch_ignored(void **state)
{
	struct pair p;
	pair_setup(&p, "s3cret", 0);

	chap_start(p.client);
	chap_start(p.server);
	assert_int_equal(deliver_last(&p.ss, p.client), 0);
	/* The right digest under a wrong identifier: ignored, no answer. */
	uint8_t *resp = p.cs.pkts[0];
	resp[1] = 9;
	const char *why = NULL;
	assert_int_equal(chap_input(p.server, resp, p.cs.lens[0], &why), -ENOMSG);
	assert_non_null(why);
	assert_int_equal(p.ss.n_pkts, 1);
	assert_int_equal(p.ss.n_results, 0);
	assert_true(p.ss.armed);
	/* The proper one still works afterwards. */
	resp[1] = 1;
	assert_int_equal(chap_input(p.server, resp, p.cs.lens[0], NULL), 0);
	assert_true(p.ss.ok);

	/* A Success for an identifier we never answered: ignored. */
	static const uint8_t stray[] = {3, 5, 0, 4};
	assert_int_equal(chap_input(p.client, stray, sizeof(stray), NULL), -ENOMSG);
	assert_int_equal(p.cs.n_results, 0);
	pair_teardown(&p);
}

static void test_challenge_resent_then_give_up(void **state)
{
	struct pair p;
	pair_setup(&p, "s3cret", 0);

	chap_start(p.server);
	chap_timeout(p.server);
	chap_timeout(p.server);
	assert_int_equal(p.ss.n_pkts, 3);
	/* The same Challenge each time, so a late Response still matches. */
	assert_int_equal(p.ss.lens[1], p.ss.lens[0]);
	assert_memory_equal(p.ss.pkts[1], p.ss.pkts[0], p.ss.lens[0]);
	assert_memory_equal(p.ss.pkts[2], p.ss.pkts[0], p.ss.lens[0]);
	chap_timeout(p.server);
	assert_int_equal(p.ss.n_pkts, 3);
	assert_int_equal(p.ss.n_results, 1);
	assert_false(p.ss.ok);
	assert_string_equal(p.ss.msg, "no Response to 3 Challenges");
	pair_teardown(&p);
}

static void test_client_without_secret(void **state)
{
	struct pair p;
	pair_setup(&p, "s3cret", 0);
	struct secrets *none = secrets_new();
	struct auth_cb cb = cb_for(&p.cs);
	struct chap *c =
	    chap_client_new(&(struct chap_cfg){.our_name = "gw9", .secrets = none}, &cb);

	chap_start(c);
	chap_start(p.server);
	assert_int_equal(deliver_last(&p.ss, c), 0);
	assert_int_equal(p.cs.n_pkts, 0); /* nothing is sent without a secret */
	assert_int_equal(p.cs.n_results, 1);
	assert_false(p.cs.ok);
	assert_string_equal(p.cs.name, "receiver");
	assert_false(p.cs.armed);
	/* The resent Challenge is not reported again. */
	assert_int_equal(deliver_last(&p.ss, c), -ENOMSG);
	assert_int_equal(p.cs.n_results, 1);
	chap_free(c);
	secrets_free(none);
	pair_teardown(&p);
}

static void test_client_waits_bounded(void **state)
{
	struct pair p;
	pair_setup(&p, "s3cret", 0);

	chap_start(p.client);
	assert_int_equal(p.cs.armed_ms, 30000);
	chap_timeout(p.client);
	assert_int_equal(p.cs.n_results, 1);
	assert_false(p.cs.ok);
	assert_string_equal(p.cs.msg, "no Challenge from peer");
	pair_teardown(&p);
}

/* The authenticator's Success is lost (a cellular link in a coverage gap):
 * the client sends the same Response again every 2 s, the authenticator
 * answers the duplicate with Success again, and the client is through. */
static void test_lost_success_response_resent(void **state)
{
	struct pair p;
	pair_setup(&p, "s3cret", 0);

	chap_start(p.client);
	chap_start(p.server);
	assert_int_equal(deliver_last(&p.ss, p.client), 0); /* Challenge */
	assert_int_equal(p.cs.n_pkts, 1);
	assert_int_equal(p.cs.armed_ms, 2000);
	assert_int_equal(deliver_last(&p.cs, p.server), 0); /* Response */
	assert_int_equal(p.ss.n_results, 1);
	assert_true(p.ss.ok);
	/* ... its Success never arrives. */
	chap_timeout(p.client);
	assert_int_equal(p.cs.n_pkts, 2);
	assert_int_equal(p.cs.lens[1], p.cs.lens[0]);
	assert_memory_equal(p.cs.pkts[1], p.cs.pkts[0], p.cs.lens[0]);
	assert_int_equal(p.cs.n_results, 0);
	assert_int_equal(deliver_last(&p.cs, p.server), 0);
	assert_int_equal(p.ss.n_results, 1); /* decided already: not reported again */
	assert_int_equal(deliver_last(&p.ss, p.client), 0); /* Success again */
	assert_int_equal(p.cs.n_results, 1);
	assert_true(p.cs.ok);
	/* Still bounded: with no answer at all it gives up within wait_ms. */
	pair_teardown(&p);
	pair_setup(&p, "s3cret", 0);
	chap_start(p.client);
	chap_start(p.server);
	assert_int_equal(deliver_last(&p.ss, p.client), 0);
	unsigned waited = 0;
	while (p.cs.n_results == 0 && waited <= 30000) {
		waited += p.cs.armed_ms;
		chap_timeout(p.client);
	}
	assert_int_equal(p.cs.n_results, 1);
	assert_false(p.cs.ok);
	assert_true(waited <= 30000);
	assert_string_equal(p.cs.msg, "no Success or Failure from peer");
	pair_teardown(&p);
}

static void test_malformed(void **state)
{
	struct pair p;
	pair_setup(&p, "s3cret", 0);

	chap_start(p.client);
	chap_start(p.server);
	/* Value-Size past the end. */
	static const uint8_t c1[] = {1, 1, 0, 8, 16, 1, 2, 3};
	assert_int_equal(chap_input(p.client, c1, sizeof(c1), NULL), -EBADMSG);
	/* Zero-length value. */
	static const uint8_t c2[] = {1, 1, 0, 6, 0, 'x'};
	assert_int_equal(chap_input(p.client, c2, sizeof(c2), NULL), -EBADMSG);
	/* Control characters in the name. */
	static const uint8_t c3[] = {1, 1, 0, 8, 1, 0x55, 'a', '\n'};
	assert_int_equal(chap_input(p.client, c3, sizeof(c3), NULL), -EBADMSG);
	assert_int_equal(p.cs.n_pkts, 0);
	/* A Response with a digest of the wrong size is a Failure. */
	uint8_t r[4 + 1 + 8 + 3] = {2, 1, 0, 16, 8};
	memcpy(r + 13, "gw1", 3);
	assert_int_equal(chap_input(p.server, r, sizeof(r), NULL), 0);
	assert_int_equal(p.ss.pkts[1][0], CHAP_FAILURE);
	assert_false(p.ss.ok);
	/* Header too short, Length too small, unknown code. */
	static const uint8_t h1[] = {1, 1, 0};
	assert_int_equal(chap_input(p.client, h1, sizeof(h1), NULL), -EBADMSG);
	static const uint8_t h2[] = {1, 1, 0, 2, 0};
	assert_int_equal(chap_input(p.client, h2, sizeof(h2), NULL), -EBADMSG);
	static const uint8_t h3[] = {9, 1, 0, 4};
	assert_int_equal(chap_input(p.client, h3, sizeof(h3), NULL), -ENOMSG);
	pair_teardown(&p);
}

static void test_challenge_before_start_ignored(void **state)
{
	struct pair p;
	pair_setup(&p, "s3cret", 0);

	chap_start(p.server);
	assert_int_equal(deliver_last(&p.ss, p.client), -ENOMSG);
	assert_int_equal(p.cs.n_pkts, 0);
	chap_start(p.client);
	assert_int_equal(deliver_last(&p.ss, p.client), 0);
	assert_int_equal(p.cs.n_pkts, 1);
	pair_teardown(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_md5_vectors),
	    cmocka_unit_test(test_login_ok_wire),
	    cmocka_unit_test(test_wrong_secret_failure),
	    cmocka_unit_test(test_rechallenge),
	    cmocka_unit_test(test_rechallenge_other_name_fails),
	    cmocka_unit_test(test_id_mismatch_ignored),
	    cmocka_unit_test(test_challenge_resent_then_give_up),
	    cmocka_unit_test(test_client_without_secret),
	    cmocka_unit_test(test_client_waits_bounded),
	    cmocka_unit_test(test_lost_success_response_resent),
	    cmocka_unit_test(test_malformed),
	    cmocka_unit_test(test_challenge_before_start_ignored),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
