/* What the gateway and the receiver both build from the configuration:
 * our PPP name and Endpoint Discriminator, the plink config, and the
 * status JSON rows of links and bundles. */
#include "gateway.h"

#include "bundle.h"
#include "linkest.h"
#include "route.h"
#include "util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

void bd_our_name(const struct cfg_ppp *p, char *buf, size_t size)
{
	if (p->name[0]) {
		snprintf(buf, size, "%s", p->name);
		return;
	}
	if (gethostname(buf, size) < 0 || !buf[0])
		snprintf(buf, size, "modemd");
	buf[size - 1] = 0;
}

static int hexval(char c)
{
	return c >= '0' && c <= '9'   ? c - '0'
	       : c >= 'a' && c <= 'f' ? c - 'a' + 10
	       : c >= 'A' && c <= 'F' ? c - 'A' + 10
				      : -1;
}

/* "auto": the first 16 bytes of /etc/machine-id as a magic-number block, so
 * the same box always presents the same discriminator. Without a
 * machine-id no discriminator is sent (the name alone then picks the
 * bundle, RFC 1990 §5.1.3). */
static bool ed_auto(struct lcp_ed *ed)
{
	char hex[64] = "";
	int fd = open("/etc/machine-id", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	ssize_t n = read(fd, hex, sizeof(hex) - 1);
	close(fd);
	if (n < 32)
		return false;
	*ed = (struct lcp_ed){.class = LCP_ED_MAGIC, .len = 16};
	for (size_t i = 0; i < 16; i++) {
		int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return false;
		ed->addr[i] = (uint8_t)(hi << 4 | lo);
	}
	return true;
}

void bd_endpoint(const struct cfg_ppp *p, bool *has_ed, struct lcp_ed *ed)
{
	*ed = (struct lcp_ed){0};
	switch (p->endpoint) {
	case CFG_ED_AUTO:
		*has_ed = ed_auto(ed);
		return;
	case CFG_ED_NONE:
		*has_ed = false;
		return;
	case CFG_ED_SET:
		*ed = p->ed;
		*has_ed = true;
		return;
	}
	*has_ed = false;
}

void bd_plink_config(struct plink_config *pc, const struct cfg_ppp *p, const char *our_name,
		     bool has_ed, const struct lcp_ed *ed)
{
	plink_config_default(pc);
	pc->our_name = our_name;
	pc->require_auth = p->require_auth;
	pc->accept_auth = p->accept_auth;
	pc->mrru = (uint16_t)p->mrru;
	pc->ssnhf = p->short_seq;
	pc->accept_ssnhf = true;
	pc->has_ed = has_ed;
	if (has_ed)
		pc->ed = *ed;
	pc->echo_interval_ms = p->echo_interval_ms;
	pc->est.echo_interval_us = p->echo_interval_ms * 1000;
	pc->est.dead_max_us = p->dead_timeout_ms * 1000;
	if (pc->est.dead_min_us > pc->est.dead_max_us)
		pc->est.dead_min_us = pc->est.dead_max_us;
}

uint32_t bd_random32(void *ctx)
{
	uint32_t v = 0;
	(void)ctx;
	if (getrandom(&v, sizeof(v), 0) != sizeof(v))
		v = (uint32_t)now_ms() * 2654435761u; /* no entropy: still nonzero-ish */
	return v;
}

int bd_tun_ipv6_prepare(const char *ifname)
{
	char path[96];
	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/addr_gen_mode", ifname);
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	/* 1: IN6_ADDR_GEN_MODE_NONE. */
	int r = write(fd, "1", 1) == 1 ? 0 : -errno;
	close(fd);
	return r;
}

void bd_ll_addr(const uint8_t iid[8], struct route_addr *out)
{
	*out = (struct route_addr){.family = AF_INET6, .len = 64};
	out->a.raw[0] = 0xfe;
	out->a.raw[1] = 0x80;
	memcpy(out->a.raw + 8, iid, 8);
}

const char *bd_ll_str(const uint8_t iid[8], char *buf, size_t size)
{
	struct route_addr a;
	bd_ll_addr(iid, &a);
	if (!inet_ntop(AF_INET6, &a.a.v6, buf, (socklen_t)size))
		snprintf(buf, size, "?");
	return buf;
}

const char *bd_ip4(uint32_t a, char *buf, size_t size)
{
	struct in_addr in = {.s_addr = htonl(a)};
	if (!inet_ntop(AF_INET, &in, buf, (socklen_t)size))
		snprintf(buf, size, "?");
	return buf;
}

static json_object *jstr(const char *s)
{
	return s && *s ? json_object_new_string(s) : NULL;
}

static json_object *ju64(uint64_t v)
{
	return json_object_new_int64((int64_t)v);
}

json_object *bd_link_json(const struct plink *pl, const char *kind, const char *ifname,
			  const char *local, const char *remote)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "name", jstr(plink_name(pl)));
	json_object_object_add(o, "kind", jstr(kind));
	json_object_object_add(o, "interface", jstr(ifname));
	json_object_object_add(o, "local_address", jstr(local));
	json_object_object_add(o, "remote_address", jstr(remote));
	struct plink_stats st;
	plink_get_stats(pl, &st);
	json_object_object_add(o, "id", ju64(plink_id(pl)));
	json_object_object_add(o, "phase", jstr(plink_phase_name(st.phase)));
	json_object_object_add(o, "liveness", jstr(link_liveness_to_string(st.liveness)));
	json_object_object_add(o, "in_bundle", json_object_new_boolean(plink_bundle(pl) != NULL));
	json_object_object_add(o, "peer_name", jstr(plink_peer_name(pl)));
	json_object_object_add(o, "srtt_us", st.srtt_us ? ju64(st.srtt_us) : NULL);
	json_object_object_add(o, "rttvar_us", st.srtt_us ? ju64(st.rttvar_us) : NULL);
	json_object_object_add(o, "min_rtt_us", st.min_rtt_us ? ju64(st.min_rtt_us) : NULL);
	json_object_object_add(o, "loss_ppm", ju64(st.loss_ppm));
	json_object_object_add(o, "rate_out_Bps", ju64(st.rate_out_Bps));
	json_object_object_add(o, "rate_in_Bps", ju64(st.rate_in_Bps));
	json_object_object_add(o, "in_flight",
			       st.in_flight >= 0 ? json_object_new_int64(st.in_flight) : NULL);
	json_object_object_add(o, "share_permille",
			       st.share_permille >= 0 ? json_object_new_int(st.share_permille)
						      : NULL);
	json_object_object_add(o, "tx_bytes", ju64(st.tx_bytes));
	json_object_object_add(o, "tx_packets", ju64(st.tx_pkts));
	json_object_object_add(o, "rx_bytes", ju64(st.rx_bytes));
	json_object_object_add(o, "rx_packets", ju64(st.rx_pkts));
	json_object_object_add(o, "rx_discarded", ju64(st.rx_discarded));
	json_object_object_add(o, "proto_rejected", ju64(st.proto_rejected));
	json_object_object_add(o, "feedback_tx", ju64(st.feedback_tx));
	json_object_object_add(o, "feedback_rx", ju64(st.feedback_rx));
	json_object_object_add(o, "vendor_rejected", json_object_new_boolean(st.vendor_rejected));
	return o;
}

json_object *bd_bundle_json(const struct bundle *b)
{
	json_object *o = json_object_new_object();
	struct bundle_stats st;
	bundle_get_stats(b, &st);
	json_object_object_add(o, "peer_name", jstr(bundle_peer_name(b)));
	json_object_object_add(o, "members", ju64(st.members));
	json_object_object_add(o, "multilink", json_object_new_boolean(st.multilink));
	json_object_object_add(o, "our_mrru", ju64(st.our_mrru));
	json_object_object_add(o, "peer_mrru", ju64(st.peer_mrru));
	json_object_object_add(o, "short_seq_rx", json_object_new_boolean(st.ssn_rx));
	json_object_object_add(o, "short_seq_tx", json_object_new_boolean(st.ssn_tx));
	json_object_object_add(o, "tx_packets", ju64(st.tx_pkts));
	json_object_object_add(o, "tx_bytes", ju64(st.tx_bytes));
	json_object_object_add(o, "tx_blocked", ju64(st.tx_blocked));
	json_object_object_add(o, "rx_packets", ju64(st.rx_pkts));
	json_object_object_add(o, "rx_rejected", ju64(st.rx_rejected));
	json_object_object_add(o, "tx_resent", ju64(st.tx_resent));
	json_object_object_add(o, "tx_nulls", ju64(st.tx_nulls));
	json_object_object_add(o, "txq_packets", ju64(st.txq_pkts));
	json_object_object_add(o, "txq_queued", ju64(st.txq_queued));
	json_object_object_add(o, "txq_dropped", ju64(st.txq_dropped));
	json_object_object_add(o, "txq_aqm_dropped", ju64(st.txq_aqm_dropped));
	json_object_object_add(o, "reasm_delivered_late", ju64(st.reasm.delivered_late));
	json_object_object_add(o, "tx_retx", ju64(st.tx_retx));
	json_object_object_add(o, "retx_asked", ju64(st.retx_asked));
	json_object_object_add(o, "rx_nacks", ju64(st.rx_nacks));
	json_object_object_add(o, "tx_rescued", ju64(st.tx_rescued));
	json_object_object_add(o, "reasm_nacked", ju64(st.reasm.nacked));
	json_object_object_add(o, "reasm_nack_filled", ju64(st.reasm.nack_filled));
	json_object_object_add(o, "reasm_wait_ms", ju64(st.reasm_wait_ms));
	json_object_object_add(o, "reasm_lost", ju64(st.reasm.lost));
	json_object_object_add(o, "reasm_late", ju64(st.reasm.late));
	json_object_object_add(o, "reasm_duplicates", ju64(st.reasm.duplicates));
	json_object_object_add(o, "reasm_nulls", ju64(st.reasm.nulls));
	return o;
}
