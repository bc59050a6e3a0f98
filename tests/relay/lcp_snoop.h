/* --accm-after-lcp: watch LCP through the relay and, once pppd has LCP
 * Opened, escape towards pppd only what pppd asked for (its ACCM request as
 * acked by the peer), like a real async peer does. Escaping everything is
 * always safe (pppd accepts escaped bytes in any state); this mode exists to
 * exercise pppd's negotiated-ACCM receive path. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum lcp_snoop_dir {
	LCP_SNOOP_FROM_TTY, /* pppd -> UDP */
	LCP_SNOOP_TO_TTY,   /* UDP -> pppd */
};

struct lcp_snoop {
	bool ack_to_tty;     /* the peer acked pppd's current Configure-Request */
	bool ack_from_tty;   /* pppd acked the peer's current Configure-Request */
	uint32_t acked_accm; /* ACCM in the Ack sent to pppd (default: all) */
	uint32_t tx_accm;    /* what the relay escapes towards pppd now */
};

void lcp_snoop_init(struct lcp_snoop *s);
/* Look at one frame (without FCS). Returns true when the ACCM to use towards
 * pppd changed. The negotiated ACCM is applied only once pppd sends a
 * non-LCP frame after both Acks: pppd sets its receive ACCM in lcp_up before
 * it sends anything else, so no frame can reach it under the wrong map.
 * Any Configure-Request or Terminate goes back to escaping everything. */
bool lcp_snoop_frame(struct lcp_snoop *s, enum lcp_snoop_dir dir, const uint8_t *frame, size_t len);
static inline uint32_t lcp_snoop_tx_accm(const struct lcp_snoop *s)
{
	return s->tx_accm;
}
