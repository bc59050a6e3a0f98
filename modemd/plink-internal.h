/* Internals shared by plink.c (phases, LCP, liveness, input) and
 * plink_auth.c (PAP/CHAP both ways). Not for other modules. */
#pragma once
#include "chap.h"
#include "pap.h"
#include "plink.h"

enum { AUTH_SERVER, AUTH_CLIENT }; /* we authenticate the peer / the peer us */

struct auth_slot {
	struct plink *pl;
	struct pap *pap;
	struct chap *chap;
	void *timer;
	bool active, ok;
};

/* Owner notifications, run when the current entry point is done so the
 * owner may call back into the plink (close, attach) safely. */
enum {
	PEND_DOWN = 1 << 0,
	PEND_FINISHED = 1 << 1,
	PEND_AUTH = 1 << 2,
	PEND_DEAD = 1 << 3,
	PEND_ALIVE = 1 << 4,
};

struct plink {
	struct plink_config c;
	char name[PLINK_NAME_MAX];
	char our_name[SECRET_NAME_MAX + 1];
	char remote_name[SECRET_NAME_MAX + 1];
	const struct plink_ops *ops;
	void *ctx;
	struct pclock clk;
	struct lcp *lcp;
	struct lcp_ops lcp_ops;
	void *t_lcp, *t_est, *t_fb;
	struct auth_slot auth[2];

	enum plink_phase phase;
	bool lcp_opened, authed, closing;
	struct lcp_result res;
	char peer_name[SECRET_NAME_MAX + 1];
	struct bundle *bundle;

	unsigned pending;
	const char *close_reason; /* close once the entry point is done */
	const char *down_reason;
	int depth; /* entry point nesting */

	struct linkest est;
	bool est_on;
	bool vendor_rejected;
	uint64_t last_echo_us;

	/* Since LCP up, for the feedback we send (receiver side). */
	uint64_t fb_bytes, fb_pkts;
	uint64_t fb_pkts_reported; /* fb_pkts in the last feedback sent */
	bool fb_soon;		   /* the feedback timer was pulled in for new data */
	uint32_t fb_max_seq;
	bool fb_seq_valid;
	/* Receive rate over ~1 s windows. */
	uint64_t rate_t0_us, rate_b0, rate_in_Bps;

	struct plink_stats st;
};

static inline uint64_t plink_now_us_(const struct plink *pl)
{
	return pclock_now_us(&pl->clk);
}

static inline void plink_t_arm_(const struct plink *pl, void *t, uint64_t ms)
{
	pl->clk.ops->timer_arm(t, ms);
}

static inline void plink_t_cancel_(const struct plink *pl, void *t)
{
	if (t)
		pl->clk.ops->timer_cancel(t);
}

/* plink.c */
void plink_set_phase_(struct plink *pl, enum plink_phase p);
void plink_enter_(struct plink *pl);
void plink_leave_(struct plink *pl);
uint32_t plink_rand32_(struct plink *pl);
/* plink_auth.c */
void plink_auth_start_(struct plink *pl);
void plink_auth_stop_(struct plink *pl);
int plink_auth_input_(struct plink *pl, uint16_t proto, struct rbuf pkt);
void plink_auth_timer_fired_(void *arg);
