/* modemd configuration: a plain value parsed from libconfig, never global, so
 * it can be re-parsed and swapped. See docs/config.md for the file format. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "apn.h"

#define CFG_NAME_MAX 32
#define CFG_PATH_MAX 256

/* Upper bounds on what a config file can make us allocate. */
#define CFG_MAX_MODELS 64         /* user entries, on top of the built-ins */
#define CFG_MAX_STATIC_MODEMS 32
#define CFG_MAX_SIMS 256
#define CFG_MAX_PLMNS 256
#define CFG_MAX_APN_DB 4
#define CFG_MAX_PPPD_OPTIONS 8

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
	unsigned at_timeout_ms;           /* default per AT command, 5000 */
	unsigned registration_timeout_ms; /* 90000 */
	unsigned backoff_initial_ms;      /* 2000 */
	unsigned backoff_max_ms;          /* 300000 */
	unsigned reset_after_failures;    /* 4 */
	unsigned signal_refresh_ms;       /* 30000 */
	unsigned connect_timeout_ms;      /* pppd start to link up, 60000 */
	unsigned lcp_echo_interval;       /* s, 10 */
	unsigned lcp_echo_failure;        /* 3 */
	unsigned baud;                    /* 115200 */
	char pppd_path[CFG_PATH_MAX];
	char chat_path[CFG_PATH_MAX];
	char chat_dir[CFG_PATH_MAX];  /* where the chat scripts live */
	char ifname_prefix[16];       /* "ppp-" -> ppp-m0, ppp-m1 */
	char pppd_extra[CFG_MAX_PPPD_OPTIONS][64]; /* extra pppd options, one word each */
	size_t n_pppd_extra;
};

struct config {
	char source[CFG_PATH_MAX]; /* file it was read from */
	int log_level;             /* syslog level */
	char control_socket[CFG_PATH_MAX];
	char control_group[CFG_NAME_MAX]; /* group owning the socket; empty: root */
	char run_dir[CFG_PATH_MAX];       /* options files, state */
	char state_dir[CFG_PATH_MAX];     /* kept across reboots: remembered names, admin state */
	char apn_db[CFG_MAX_APN_DB][CFG_PATH_MAX]; /* databases, first match wins */
	size_t n_apn_db;
	bool udev;                        /* discover modems through udev */

	struct cfg_dial dial;

	struct cfg_model *models; /* built-in defaults first, then the user's */
	size_t n_models;
	struct cfg_static_modem *static_modems;
	size_t n_static_modems;
	struct cfg_sim *sims;
	size_t n_sims;
	struct cfg_plmn *plmns;
	size_t n_plmns;
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

/* True if the config holds a SIM PIN or an APN password. */
bool config_has_secrets(const struct config *c);
/* A config holding secrets must not be readable by group or others: returns
 * -EPERM with a message in err if path is, 0 if fine (or no secrets), -errno
 * if path cannot be examined. modemd refuses to start on -EPERM. */
int config_check_file_mode(const struct config *c, const char *path, char *err, size_t len);

const struct cfg_model *config_find_model(const struct config *c, unsigned vid, unsigned pid);
const struct cfg_sim *config_find_sim(const struct config *c, const char *iccid);
const struct cfg_plmn *config_find_plmn(const struct config *c, const char *plmn);
