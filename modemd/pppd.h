/* Running the real pppd on a modem's data port. The options (including any
 * password) go into a per-modem file under run_dir, mode 0600, that pppd
 * reads with "file"; nothing secret is on a command line. The chat script is
 * pppd's "connect" program. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "apn.h"

struct loop;
struct cfg_dial;
struct pppd;

struct pppd_params {
	const char *name;   /* modem name: ipparam and log prefix */
	const char *ifname; /* stable interface name, "ppp-m0" */
	const char *tty;    /* PPP data port */
	const char *run_dir;
	const struct apn_profile *apn;
	const struct cfg_dial *dial;
};

/* Render the options file text; returns length, -ENOSPC, or -EINVAL when a
 * value holds a quote or control character (see docs/dialing.md). */
int pppd_render_options(const struct pppd_params *p, char *buf, size_t len);
/* Path of the chat script used for this profile (3gpp.chat or cdma.chat). */
int pppd_chat_script(const struct pppd_params *p, char *buf, size_t len);

/* code: pppd's exit status (0..19), or -1 when killed by a signal. reason is
 * a sentence a user understands ("chat: modem answered NO CARRIER",
 * "LCP echo timeout: carrier stopped answering"). */
typedef void (*pppd_exit_cb)(struct pppd *p, int code, const char *reason, void *data);

struct pppd *pppd_start(struct loop *l, const struct pppd_params *p, pppd_exit_cb cb, void *data,
			int *err);
/* Ask pppd to hang up (SIGTERM; SIGKILL after a grace period). The exit
 * callback still runs once. */
void pppd_stop(struct pppd *p);
/* Forget a pppd (after its exit callback, or kill it hard if still running). NULL-safe. */
struct pppd *pppd_free(struct pppd *p);
pid_t pppd_pid(const struct pppd *p);
bool pppd_running(const struct pppd *p);

/* pppd exit code -> text ("modem hangup", "peer failed our authentication"). */
const char *pppd_exit_to_string(int code);

/* The last lines pppd (and chat) printed, oldest first, at most max;
 * pointers stay valid until pppd prints more or is freed. Returns the count. */
size_t pppd_last_lines(const struct pppd *p, const char **lines, size_t max);
/* Grace period between SIGTERM and SIGKILL in pppd_stop (default 5000 ms). */
void pppd_set_stop_grace(struct pppd *p, unsigned ms);
/* The exit reason for a wait(2) status and pppd's captured output (lines,
 * oldest first): chat's "Failed (NO CARRIER)" or "alarm" turn exit 8 into
 * "chat: modem answered NO CARRIER". Exposed for tests. */
int pppd_exit_reason(int status, const char *const *lines, size_t n_lines, char *buf, size_t len);
