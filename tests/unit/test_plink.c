/* One plink pair over one in-memory path (bundle_sim.h): the phases, what is
 * accepted in which phase, the bytes of a Protocol-Reject, PAP, a plain
 * (non-multilink) link, and the RFC 2153 feedback codec. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "bundle_sim.h"
#include "log.h"
#include "vendor.h"

#include <errno.h>

struct fx {
	struct sim *s;
	struct secrets *sec;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	f->s = sim_new();
	f->sec = secrets_new();
	secrets_add(f->sec, "gw1", "rcv", "gateway-secret");
	secrets_add(f->sec, "rcv", "gw1", "receiver-secret");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	sim_free(f->s);
	secrets_free(f->sec);
	free(f);
	return 0;
}

static struct pipe_msg *last_sent(struct sim *s, int to_side)
{
	struct pipe *p = &s->pipe[0][to_side];
	assert_true(p->n > 0);
	return &p->q[(p->head + p->n - 1) % SIM_QLEN];
}

static size_t members(struct side *sd)
{
	struct bundle_stats st;
	if (!sd->b)
		return 0;
	bundle_get_stats(sd->b, &st);
	return st.members;
}

/* One path; the receiver requires auth (PAP or CHAP), the gateway none. */
static void pair(struct fx *f, unsigned rcv_auth, uint16_t mrru)
{
	struct plink_config c;

	for (int side = 0; side < 2; side++) {
		sim_link_config(&c, &f->s->side[side], 0, f->sec);
		c.require_auth = side ? rcv_auth : 0;
		c.mrru = mrru;
		sim_add_link(f->s, side, 0, &c);
	}
}

static void test_phases_and_close(void **state)
{
	struct fx *f = *state;
	struct sim *s = f->s;

	pair(f, LCP_AUTH_CHAP_MD5, 1500);
	struct plink *gw = s->side[0].pl[0], *rc = s->side[1].pl[0];
	assert_int_equal(plink_phase(gw), PLINK_DEAD);
	plink_open(gw);
	assert_int_equal(plink_phase(gw), PLINK_ESTABLISH);
	plink_open(rc);
	sim_run(s, 1000000);
	assert_int_equal(plink_phase(gw), PLINK_NETWORK);
	assert_int_equal(plink_phase(rc), PLINK_NETWORK);
	assert_string_equal(plink_peer_name(rc), "gw1");
	assert_string_equal(plink_peer_name(gw), ""); /* we did not ask */
	assert_int_equal(s->side[1].n_auth, 1);

	plink_close(gw, "admin down");
	assert_int_equal(plink_phase(gw), PLINK_TERMINATE);
	assert_null(plink_bundle(gw));
	sim_run(s, 5000000);
	assert_int_equal(plink_phase(gw), PLINK_DEAD);
	assert_int_equal(s->side[0].n_finished, 1);
	assert_string_equal(s->side[0].down_reason, "admin down");
	/* The peer saw Terminate-Request: down, then Dead after Stopping. */
	assert_int_equal(s->side[1].n_down, 1);
	assert_int_equal(plink_phase(rc), PLINK_DEAD);
	assert_int_equal(members(&s->side[1]), 0);
}

static void test_accept_by_phase(void **state)
{
	struct fx *f = *state;
	struct sim *s = f->s;
	const uint8_t ip[] = {0xff, 0x03, 0x00, 0x21, 0x45, 0x00, 0x00, 0x14};
	const uint8_t ccp[] = {0xff, 0x03, 0x80, 0xfd, 0x01, 0x07, 0x00, 0x04};
	const uint8_t bad[] = {0xff, 0x05, 0xc0, 0x21};

	pair(f, LCP_AUTH_CHAP_MD5, 1500);
	struct plink *rc = s->side[1].pl[0];
	plink_open(rc);
	/* Establish: only LCP counts; nothing is rejected or answered. */
	uint64_t sent = s->pipe[0][0].carried;
	assert_int_equal(plink_input(rc, ip, sizeof(ip)), -ENOTCONN);
	assert_int_equal(plink_input(rc, ccp, sizeof(ccp)), -ENOTCONN);
	assert_int_equal(plink_input(rc, bad, sizeof(bad)), -EBADMSG);
	assert_int_equal(s->pipe[0][0].carried, sent);
	struct plink_stats st;
	plink_get_stats(rc, &st);
	assert_int_equal(st.rx_discarded, 3);

	plink_open(s->side[0].pl[0]);
	sim_run(s, 1000000);
	assert_int_equal(plink_phase(rc), PLINK_NETWORK);
	/* Opened: CCP is Protocol-Rejected with the frame's information. */
	assert_int_equal(plink_input(rc, ccp, sizeof(ccp)), -EPROTONOSUPPORT);
	struct pipe_msg *m = last_sent(s, 0);
	const uint8_t want[] = {0xff, 0x03, 0xc0, 0x21, 0x08, m->d[5], 0x00,
				0x0a, 0x80, 0xfd, 0x01, 0x07, 0x00,    0x04};
	assert_int_equal(m->len, sizeof(want));
	assert_memory_equal(m->d, want, sizeof(want));
	/* Network and joined: IP goes to the bundle (plain frame). */
	assert_int_equal(plink_input(rc, ip, sizeof(ip)), 0);
	sim_run(s, 100000);
	struct bundle_stats bs;
	bundle_get_stats(s->side[1].b, &bs);
	assert_int_equal(bs.rx_plain, 1);
}

static void test_pap_wrong_password(void **state)
{
	struct fx *f = *state;
	struct sim *s = f->s;
	struct plink_config c;
	struct secrets *gw = secrets_new();

	secrets_add(gw, "gw1", "rcv", "not-the-password");
	for (int side = 0; side < 2; side++) {
		sim_link_config(&c, &s->side[side], 0, side ? f->sec : gw);
		c.require_auth = side ? LCP_AUTH_PAP : 0;
		c.remote_name = "rcv";
		sim_add_link(s, side, 0, &c);
		plink_open(s->side[side].pl[0]);
	}
	sim_run(s, 1000000);
	assert_int_equal(s->side[1].n_auth, 0);
	assert_string_equal(s->side[1].down_reason, "peer failed authentication");
	assert_string_equal(s->side[0].down_reason, "peer refused our authentication");
	assert_int_not_equal(plink_phase(s->side[1].pl[0]), PLINK_NETWORK);
	assert_int_equal(plink_lcp_result(s->side[1].pl[0])->auth_peer, PPP_PROTO_PAP);
	for (int side = 0; side < 2; side++)
		s->side[side].pl[0] = plink_free(s->side[side].pl[0]);
	secrets_free(gw);
}

static void test_plain_link_without_mrru(void **state)
{
	struct fx *f = *state;
	struct sim *s = f->s;

	pair(f, LCP_AUTH_CHAP_MD5, 0);
	plink_open(s->side[0].pl[0]);
	plink_open(s->side[1].pl[0]);
	sim_run(s, 1000000);
	struct bundle_stats bs;
	bundle_get_stats(s->side[0].b, &bs);
	assert_false(bs.multilink);
	assert_int_equal(sim_send(s, 0, 42, 100), 0);
	/* ACFC and PFC acked: the frame is `21` + packet, no MP header. */
	struct pipe_msg *m = last_sent(s, 1);
	assert_int_equal(m->len, 101);
	assert_int_equal(m->d[0], 0x21);
	sim_run(s, 100000);
	assert_int_equal(s->side[1].rx_n, 1);
	assert_int_equal(s->side[1].rx_id[0], 42);
	/* An MP frame on a link without multilink is Protocol-Rejected. */
	const uint8_t mp[] = {0x3d, 0xc0, 0x00, 0x00, 0x00, 0x21, 0x45};
	assert_int_equal(plink_input(s->side[1].pl[0], mp, sizeof(mp)), -EPROTONOSUPPORT);
}

static void test_vendor_codec(void **state)
{
	(void)state;
	uint8_t buf[64];
	struct link_feedback fb = {.link_id = 3,
				   .bytes_rx = 0x01020304,
				   .pkts_rx = 5,
				   .pkts_lost = 6,
				   .max_seq = 0xabcdef,
				   .rx_ts_us = 0xfffffff0};
	int n = vendor_feedback_encode(buf, sizeof(buf), 0x11223344, &fb);
	assert_int_equal(n, VENDOR_FEEDBACK_LEN);
	const uint8_t head[] = {0x11, 0x22, 0x33, 0x44, 0x02, 0x4d, 0x44, 0x01, 0x01,
				0x00, 0x00, 0x00, 0x00, 0x03, 0x01, 0x02, 0x03, 0x04};
	assert_memory_equal(buf, head, sizeof(head));

	struct vendor_msg m;
	struct link_feedback out;
	assert_int_equal(vendor_parse(buf, (size_t)n, &m), 0);
	assert_int_equal(m.oui, VENDOR_OUI);
	assert_int_equal(m.kind, VENDOR_KIND_FEEDBACK);
	assert_int_equal(vendor_feedback_decode(m.value, &out), 0);
	assert_memory_equal(&out, &fb, sizeof(fb));
	/* Truncated anywhere: refused. */
	for (int len = 0; len < n; len++) {
		if (vendor_parse(buf, (size_t)len, &m) == 0)
			assert_int_equal(vendor_feedback_decode(m.value, &out), -EBADMSG);
		else
			assert_true(len < VENDOR_HDR_LEN);
	}
	buf[8] = 2; /* unknown version */
	assert_int_equal(vendor_parse(buf, (size_t)n, &m), 0);
	assert_int_equal(vendor_feedback_decode(m.value, &out), -EPROTO);
	assert_int_equal(vendor_feedback_encode(buf, 10, 1, &fb), -ENOBUFS);
}

int main(void)
{
	log_set_level(LOG_WARNING);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_phases_and_close, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_accept_by_phase, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_pap_wrong_password, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_plain_link_without_mrru, setup, teardown),
	    cmocka_unit_test(test_vendor_codec),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
