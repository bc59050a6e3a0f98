/* One modem: its ports, what the AT probe learned, and its lifecycle
 *   probing -> (sim error | registering) -> dialing -> connected
 *   -> backoff -> probing ... ; resetting after repeated failures;
 *   admin down at any time. Every state change goes through one function
 * that logs old -> new with a reason. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "apn.h"
#include "at_info.h"

struct daemon;
struct at_chan;
struct pppd;
struct loop_timer;

enum modem_state {
	MODEM_PROBING,	   /* AT init + identity */
	MODEM_SIM_LOCKED,  /* missing, PIN needed without a configured PIN, PUK, wrong PIN */
	MODEM_REGISTERING, /* waiting for network registration */
	MODEM_NO_APN,	   /* no profile for this PLMN: waits for config change */
	MODEM_DIALING,	   /* PDP context set, pppd + chat running */
	MODEM_CONNECTED,   /* pppN up with an address */
	MODEM_HANGUP,	   /* pppd asked to stop */
	MODEM_BACKOFF,	   /* waiting to redial after a failure */
	MODEM_RESETTING,   /* AT+CRESET sent, waiting for the module to return */
	MODEM_DOWN,	   /* administratively down */
	MODEM_GONE,	   /* ports vanished (static modem); waits for them */
};

struct modem_identity {
	char manufacturer[64];
	char model[64];
	char revision[64];
	char imei[20];
	char iccid[24];
	char imsi[20];
};

struct modem {
	struct modem *next;
	struct daemon *d;
	char name[32];	    /* "m0" */
	char id[128];	    /* stable identity: IMEI when known, else USB path */
	char usb_path[128]; /* sysfs devpath of the USB device, "" for static */
	char at_port[256];
	char ppp_port[256];
	char reset_cmd[32];
	bool is_static;

	struct modem_identity ident;
	enum at_sim_state sim;
	struct at_reg reg; /* best of CREG/CGREG/CEREG */
	struct at_signal signal;
	char operator_name[64];
	char plmn[8];
	int act; /* access technology, -1 unknown */
	bool have_apn;
	struct apn_profile apn;
	char apn_why[160];

	enum modem_state state;
	char reason[160]; /* why we are in this state, for humans */
	bool admin_up;
	char ifname[32]; /* "ppp-m0" once pppd runs */
	int ifindex;
	char local_addr[64];
	char remote_addr[64];
	uint64_t state_since_ms; /* monotonic */
	uint64_t connected_since_ms;
	uint64_t appeared_ms;	  /* when the modem object was created */
	uint64_t pppd_started_ms; /* for the benchmark: appearance -> pppd */
	uint64_t link_up_ms;	  /*                    appearance -> link up */
	unsigned redials;	  /* successful dials after the first */
	unsigned failures;	  /* consecutive failures, reset on link up */
	unsigned backoff_ms;

	/* private to modem.c */
	struct at_chan *at;
	struct pppd *pppd;
	struct loop_timer *timer;	   /* state timeouts, backoff */
	void (*timer_fn)(struct modem *m); /* what m->timer means right now */
	struct loop_timer *refresh;	   /* signal/registration refresh */
	int probe_step;
	unsigned probe_retries;
	int reg_pending; /* registration queries outstanding */
	bool pin_tried;
	uint64_t deadline_ms;
};

/* Create a modem for a port pair and start it (probing unless admin down was
 * remembered for this id). name may be NULL: the next free "mN" is chosen. */
struct modem *modem_new(struct daemon *d, const char *name, const char *at_port,
			const char *ppp_port, const char *usb_path, const char *reset_cmd,
			bool is_static);
/* The device went away: end pppd, close ports, unlink and free. NULL-safe. */
void modem_remove(struct modem *m, const char *why);
struct modem *modem_find(struct daemon *d, const char *name_or_id);
struct modem *modem_find_usb(struct daemon *d, const char *usb_path);
/* Administrative state; kept until changed. down hangs up cleanly. */
int modem_set_admin(struct modem *m, bool up);
/* Netlink told us about an interface or address change (see netlink.h). */
void modem_netlink_event(struct daemon *d, const char *ifname, int ifindex, bool up,
			 const char *local, const char *remote);
/* Orderly shutdown of every modem (SIGTERM); done() is called once every
 * pppd has exited. */
void modem_shutdown_all(struct daemon *d, void (*done)(struct daemon *d));

const char *modem_state_to_string(enum modem_state s);
