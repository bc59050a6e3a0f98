/* Fuzz the whole datagram input path of a plink (ppp_frame -> LCP, PAP,
 * CHAP, RFC 2153 vendor packets, MP -> bundle -> mp_reasm, plain network
 * frames, Protocol-Reject) in each phase, with a real peer on the other end
 * of an in-memory path so answers are processed too.
 *
 * Input: byte 0 picks the phase the fuzzed link (the receiver side) is
 * driven to first: 0 Establish (no peer), 1 Authenticate (the peer has no
 * CHAP secret, so it never answers), 2 Network in a multilink bundle with
 * long sequence numbers, 3 the same with short ones, 4 Network without
 * multilink. Then records [len][bytes]: each is one datagram into the
 * link; len 0 lets 50 ms of virtual time pass, len 255 one second. */
#define SIM_QLEN 32
#include "../unit/bundle_sim.h"
#include "log.h"

#include <stdint.h>
#include <string.h>

static void drive(struct sim *s, struct secrets *sec, struct secrets *empty, int mode)
{
	for (int side = 0; side < 2; side++) {
		struct plink_config c;
		sim_link_config(&c, &s->side[side], 0, side == 0 && mode == 1 ? empty : sec);
		if (side == 1)
			c.feedback_interval_ms = 100;
		if (mode == 3)
			c.ssnhf = true;
		if (mode == 4)
			c.mrru = 0;
		sim_add_link(s, side, 0, &c);
	}
	plink_open(s->side[1].pl[0]);
	if (mode > 0)
		plink_open(s->side[0].pl[0]);
	sim_run(s, 500000);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool quiet;
	if (!quiet) {
		log_set_level(LOG_CRIT);
		quiet = true;
	}
	if (size < 1)
		return 0;
	struct sim *s = sim_new();
	struct secrets *sec = secrets_new(), *empty = secrets_new();
	secrets_add(sec, "gw1", "rcv", "gateway-secret");
	secrets_add(sec, "rcv", "gw1", "receiver-secret");
	drive(s, sec, empty, data[0] % 5);

	size_t i = 1;
	while (i < size) {
		uint8_t len = data[i++];
		if (len == 0) {
			sim_run(s, 50000);
			continue;
		}
		if (len == 255) {
			sim_run(s, 1000000);
			continue;
		}
		if (len > size - i)
			len = (uint8_t)(size - i);
		struct plink *pl = s->side[1].pl[0];
		plink_input(pl, data + i, len);
		i += len;
		/* The link may have joined a bundle: its data path must work. */
		if (s->side[1].b && plink_bundle(pl)) {
			uint8_t pkt[64];
			sim_packet(pkt, (uint32_t)i, sizeof(pkt));
			bundle_send(s->side[1].b, PPP_PROTO_IP, pkt, sizeof(pkt));
		}
	}
	sim_run(s, 300000);
	struct plink_stats st;
	plink_get_stats(s->side[1].pl[0], &st);
	if (st.rx_pkts < st.rx_discarded)
		__builtin_trap();
	sim_free(s);
	secrets_free(sec);
	secrets_free(empty);
	return 0;
}
