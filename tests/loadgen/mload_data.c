/* Data: each gateway sends IPv4/UDP packets from its IPCP address to
 * --dst through its bundle (bundle_send: the real scheduler, MP headers,
 * fragments when a packet does not fit a link). One aggregate rate, paced
 * by the loop's timeout and spread round robin over the gateways that are
 * up, so every gateway carries rate / N. */
#include "mload.h"

#include "ppp_proto.h"

#include <arpa/inet.h>
#include <string.h>

#define ML_TICK_MS    1	   /* pacing granularity */
#define ML_MAX_BURST  4096 /* packets per loop round at most */
#define ML_MAX_BEHIND 0.1  /* seconds of debt forgiven (counted as skipped) */

static uint16_t csum(const uint8_t *p, size_t n)
{
	uint32_t s = 0;
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

void ml_data_build(struct mgw *g)
{
	const struct ml_opts *o = &g->ml->o;
	uint8_t *p = g->pkt;
	size_t n = o->size;
	memset(p, 0, n);
	p[0] = 0x45;
	p[2] = (uint8_t)(n >> 8);
	p[3] = (uint8_t)n;
	p[6] = 0x40; /* DF */
	p[8] = 64;
	p[9] = 17; /* UDP */
	uint32_t src = htonl(g->addr);
	memcpy(p + 12, &src, 4);
	memcpy(p + 16, &o->dst, 4);
	uint16_t c = csum(p, 20);
	p[10] = (uint8_t)(c >> 8);
	p[11] = (uint8_t)c;
	uint16_t sport = (uint16_t)(10000 + g->idx % 50000), ulen = (uint16_t)(n - 20);
	p[20] = (uint8_t)(sport >> 8);
	p[21] = (uint8_t)sport;
	p[22] = (uint8_t)(o->dport >> 8);
	p[23] = (uint8_t)o->dport;
	p[24] = (uint8_t)(ulen >> 8);
	p[25] = (uint8_t)ulen; /* UDP checksum 0: none (IPv4) */
	for (size_t i = 28; i < n; i++)
		p[i] = (uint8_t)(i * 7 + g->idx);
}

void ml_data_set_rate(struct mload *ml, double pps, unsigned size)
{
	ml->o.pps = pps;
	if (size && size != ml->o.size) {
		ml->o.size = size;
		for (unsigned i = 0; i < ml->o.gateways; i++)
			if (ml->gw[i].addr)
				ml_data_build(&ml->gw[i]);
	}
	ml->rate_t0_us = ml_now_us();
	ml->rate_sent = 0;
}

int ml_data_run(struct mload *ml, uint64_t now)
{
	if (ml->o.pps <= 0)
		return -1;
	double due = (double)(now - ml->rate_t0_us) / 1e6 * ml->o.pps - ml->rate_sent;
	if (due > ml->o.pps * ML_MAX_BEHIND) {
		/* We (not the receiver) fell behind: forgive, and say so. */
		double forgive = due - ml->o.pps * ML_MAX_BEHIND;
		ml->st.gen_skipped += (uint64_t)forgive;
		ml->rate_sent += forgive;
		due -= forgive;
	}
	unsigned n = due > ML_MAX_BURST ? ML_MAX_BURST : (unsigned)due;
	unsigned tries = 0;
	while (n && tries < ml->o.gateways) {
		struct mgw *g = &ml->gw[ml->rr];
		ml->rr = (ml->rr + 1) % ml->o.gateways;
		if (!g->addr || !g->b) {
			tries++;
			continue;
		}
		tries = 0;
		int r = bundle_send(g->b, PPP_PROTO_IP, g->pkt, ml->o.size);
		if (r < 0)
			ml->st.tx_refused++;
		else {
			ml->st.tx_pkts++;
			ml->st.tx_bytes += ml->o.size;
		}
		ml->rate_sent += 1;
		n--;
	}
	if (n) /* no gateway up: what is due is not owed */
		ml->rate_sent += n;
	return ML_TICK_MS;
}
