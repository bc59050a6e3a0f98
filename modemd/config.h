/* modemd configuration: a plain value parsed from libconfig, never global, so
 * it can be re-parsed and swapped. See docs/config.md for the file format. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <netinet/in.h>

#include "apn.h"
#include "lcp.h"     /* LCP_AUTH_*, struct lcp_ed */
#include "mpsched.h" /* enum sched_policy */

#define CFG_NAME_MAX 32
#define CFG_PATH_MAX 256

/* Upper bounds on what a config file can make us allocate. */
#define CFG_MAX_MODELS	      64 /* user entries, on top of the built-ins */
#define CFG_MAX_STATIC_MODEMS 32
#define CFG_MAX_SIMS	      256
#define CFG_MAX_PLMNS	      256
#define CFG_MAX_APN_DB	      4
#define CFG_MAX_PPPD_OPTIONS  8

/* One row of the USB model table: which tty (by USB interface number) is the
 * AT control port and which the PPP data port. */
struct cfg_model {
	unsigned vid, pid;
	char name[64];
	int at_interface, ppp_interface;
	char reset_cmd[32]; /* "AT+CRESET" for SIMCom, else "AT+CFUN=1,1" */
};

/* A modem not found through udev (UART module, simulator). */
struct cfg_static_modem {
	char name[CFG_NAME_MAX];
	char at_port[CFG_PATH_MAX];
	char ppp_port[CFG_PATH_MAX];
	char reset_cmd[32]; /* empty: "AT+CFUN=1,1" */
};

/* Per-SIM settings, keyed by ICCID: PIN and optional APN override. */
struct cfg_sim {
	char iccid[24];
	char pin[16]; /* empty: none configured */
	bool has_apn;
	struct apn_profile apn;
};

/* Per-PLMN APN override (wins over the database, loses to a per-SIM one). */
struct cfg_plmn {
	char plmn[8];
	struct apn_profile apn;
};

struct cfg_dial {
	unsigned at_timeout_ms;		  /* default per AT command, 5000 */
	unsigned registration_timeout_ms; /* 90000 */
	unsigned backoff_initial_ms;	  /* 2000 */
	unsigned backoff_max_ms;	  /* 300000 */
	unsigned reset_after_failures;	  /* 4 */
	unsigned signal_refresh_ms;	  /* 30000 */
	unsigned connect_timeout_ms;	  /* pppd start to link up, 60000 */
	unsigned lcp_echo_interval;	  /* s, 10 */
	unsigned lcp_echo_failure;	  /* 3 */
	unsigned baud;			  /* 115200 */
	char pppd_path[CFG_PATH_MAX];
	char chat_path[CFG_PATH_MAX];
	char chat_dir[CFG_PATH_MAX];		   /* where the chat scripts live */
	char ifname_prefix[16];			   /* "ppp-" -> ppp-m0, ppp-m1 */
	char pppd_extra[CFG_MAX_PPPD_OPTIONS][64]; /* extra pppd options, one word each */
	size_t n_pppd_extra;
};

/* ---- MP-over-UDP bundle (docs/config.md, "bundle" and "receiver") ---- */

#define CFG_PPP_NAME_MAX     256 /* PPP names and secrets: <= 255 bytes (SECRET_NAME_MAX) */
#define CFG_IFNAME_MAX	     16	 /* IFNAMSIZ */
#define CFG_MAX_BUNDLE_LINKS 16	 /* static links (SCHED_MAX_LINKS) */
#define CFG_MAX_USERS	     4096
#define CFG_MAX_DNS	     2 /* IPCP carries a primary and a secondary (RFC 1877) */
#define CFG_MAX_USER_ROUTES  16
#define CFG_BUNDLE_PORT	     6671

enum cfg_mode {
	CFG_MODE_GATEWAY,  /* modem manager, plus a bundle client if "bundle" is set */
	CFG_MODE_RECEIVER, /* bundle server only: no modems, no pppd */
};

/* An IP address literal; family 0 when not set. */
struct cfg_addr {
	int family; /* AF_INET, AF_INET6 or 0 */
	union {
		struct in_addr v4;
		struct in6_addr v6;
	};
};

/* A prefix "a.b.c.d/n" (host bits zero). */
struct cfg_prefix {
	struct cfg_addr addr;
	unsigned len;
};

enum cfg_endpoint {
	CFG_ED_AUTO, /* derived at run time (machine-id, else a MAC), class magic */
	CFG_ED_NONE, /* no Endpoint Discriminator option sent */
	CFG_ED_SET,  /* cfg_ppp.ed as given */
};

/* What both sides of the bundle share. */
struct cfg_ppp {
	char name[CFG_PPP_NAME_MAX]; /* our PPP name; "" = the host name */
	unsigned port;		     /* UDP: receiver's (gateway), listening (receiver) */
	char tun[CFG_IFNAME_MAX];
	unsigned mtu;
	unsigned mrru;
	bool short_seq; /* ask to receive 12-bit sequence numbers */
	enum cfg_endpoint endpoint;
	struct lcp_ed ed; /* CFG_ED_SET */
	enum sched_policy policy;
	unsigned redundancy; /* links per packet under SCHED_REDUNDANT */
	unsigned echo_interval_ms;
	unsigned dead_timeout_ms;	 /* cap of the adaptive dead-link timeout */
	unsigned accept_auth;		 /* LCP_AUTH_* we answer with when the peer asks */
	unsigned require_auth;		 /* LCP_AUTH_* the peer must use; 0 none */
	char secrets_file[CFG_PATH_MAX]; /* "" = none */
};

/* A static link: any interface, not a modem. */
struct cfg_link {
	char name[CFG_NAME_MAX];
	char interface[CFG_IFNAME_MAX];
	struct cfg_addr gateway; /* next hop towards the receiver; family 0: on-link/main table */
};

/* Gateway side. */
struct cfg_bundle {
	bool enabled; /* a "bundle" section was given */
	struct cfg_ppp ppp;
	struct cfg_addr receiver;
	char secret[CFG_PPP_NAME_MAX]; /* "" = none (secrets_file or no auth) */
	bool default_route;
	bool modem_links; /* every modem link that comes up joins */
	struct cfg_link links[CFG_MAX_BUNDLE_LINKS];
	size_t n_links;
};

/* A gateway the receiver knows by name. */
struct cfg_user {
	char name[CFG_PPP_NAME_MAX];
	char secret[CFG_PPP_NAME_MAX]; /* "" = from secrets_file */
	struct cfg_addr address;       /* family 0: from the pool */
	struct cfg_prefix routes[CFG_MAX_USER_ROUTES];
	size_t n_routes;
};

/* Receiver side. */
struct cfg_receiver {
	bool enabled; /* a "receiver" section was given */
	struct cfg_ppp ppp;
	struct cfg_addr listen;
	struct cfg_addr local_address; /* IPv4 */
	struct cfg_prefix pool;	       /* IPv4; family 0: no pool */
	struct cfg_addr dns[CFG_MAX_DNS];
	size_t n_dns;
	struct cfg_user *users;
	size_t n_users;
	unsigned max_gateways;
	unsigned max_links_per_gateway;
	unsigned max_unauthenticated;
	unsigned unauthenticated_timeout_ms;
};

struct config {
	char source[CFG_PATH_MAX]; /* file it was read from */
	int log_level;		   /* syslog level */
	char control_socket[CFG_PATH_MAX];
	char control_group[CFG_NAME_MAX]; /* group owning the socket; empty: root */
	char run_dir[CFG_PATH_MAX];	  /* options files, state */
	char state_dir[CFG_PATH_MAX];	  /* kept across reboots: remembered names, admin state */
	char apn_db[CFG_MAX_APN_DB][CFG_PATH_MAX]; /* databases, first match wins */
	size_t n_apn_db;
	bool udev; /* discover modems through udev */

	struct cfg_dial dial;

	struct cfg_model *models; /* built-in defaults first, then the user's */
	size_t n_models;
	struct cfg_static_modem *static_modems;
	size_t n_static_modems;
	struct cfg_sim *sims;
	size_t n_sims;
	struct cfg_plmn *plmns;
	size_t n_plmns;

	enum cfg_mode mode;
	struct cfg_bundle bundle;     /* gateway mode */
	struct cfg_receiver receiver; /* receiver mode */
};

/* Built-in defaults (no file). */
int config_init_defaults(struct config *c);
/* Parse a file on top of the built-in defaults (c need not be initialised;
 * it is overwritten, not freed). On error returns -EINVAL (or -errno), leaves
 * c zeroed and writes a message naming file, line and setting into err
 * ("modemd.conf:12: dial.baud: must be an integer between 300 and 4000000"). */
int config_load_file(struct config *c, const char *path, char *err, size_t errlen);
/* Same from a string (tests, fuzzing); name is used in messages. */
int config_load_string(struct config *c, const char *text, const char *name, char *err,
		       size_t errlen);
/* Free what config_load_* allocated; NULL-safe. */
void config_release(struct config *c);
/* Print the normalised configuration (libconfig syntax, parses again; secrets
 * printed as "<hidden>" unless show_secrets). */
int config_print(const struct config *c, FILE *f, bool show_secrets);

/* True if the config holds a SIM PIN, an APN password or a PPP secret
 * (bundle.secret, receiver.users[].secret). */
bool config_has_secrets(const struct config *c);
/* A config holding secrets must not be readable by group or others: returns
 * -EPERM with a message in err if path is, 0 if fine (or no secrets), -errno
 * if path cannot be examined. modemd refuses to start on -EPERM. */
int config_check_file_mode(const struct config *c, const char *path, char *err, size_t len);

const struct cfg_model *config_find_model(const struct config *c, unsigned vid, unsigned pid);
const struct cfg_sim *config_find_sim(const struct config *c, const char *iccid);
const struct cfg_plmn *config_find_plmn(const struct config *c, const char *plmn);
/* Receiver user by PPP name, or NULL. */
const struct cfg_user *config_find_user(const struct config *c, const char *name);

const char *config_mode_to_string(enum cfg_mode m);
/* Text form of an address ("" when family is 0); buf >= INET6_ADDRSTRLEN. */
const char *config_addr_to_string(const struct cfg_addr *a, char *buf, size_t len);
