/* The daemon's context: one value passed to every subsystem (no globals). */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include "apn.h"
#include "config.h"

struct loop;
struct modem;
struct udev_watch;
struct netlink;
struct control;
struct gateway;
struct receiver;

/* Link events published for the bundle (and anything else) to consume. */
enum link_event { LINK_EV_UP, LINK_EV_DOWN };
struct link_info {
	const char *modem;  /* "m0" */
	const char *ifname; /* "ppp-m0" */
	int ifindex;
	const char *local;  /* local address, text */
	const char *remote; /* peer address, text, may be "" */
	const char *reason; /* for DOWN: why */
};
typedef void (*link_event_cb)(enum link_event ev, const struct link_info *li, void *data);

#define LINK_SUBSCRIBERS_MAX 8
#define REMEMBERED_MAX	     256

/* What we keep about a modem across replug and restart (state_dir/modems):
 * keyed by IMEI, USB path or static name. */
struct remembered {
	char key[64];
	char name[32];
	bool admin_up;
};

struct daemon {
	struct loop *loop;
	struct config cfg;
	struct apn_db *dbs[4];
	size_t n_dbs;
	struct modem *modems; /* list */
	unsigned next_index;  /* for short names m0, m1, ... */
	struct udev_watch *udev;
	struct netlink *nl;
	struct control *ctl;
	struct gateway *gw;    /* gateway mode with a "bundle" section (gateway.h) */
	struct receiver *rx;   /* receiver mode (receiver.h) */
	unsigned stop_pending; /* parts still shutting down (modems, bundle) */
	bool stopping;
	void (*shutdown_done)(struct daemon *d);
	struct remembered remembered[REMEMBERED_MAX];
	size_t n_remembered;
	char bad_pins[16][24]; /* ICCIDs whose configured PIN was rejected */
	size_t n_bad_pins;
	struct {
		link_event_cb cb;
		void *data;
	} link_subs[LINK_SUBSCRIBERS_MAX];
	size_t n_link_subs;
};

int daemon_link_subscribe(struct daemon *d, link_event_cb cb, void *data);
void daemon_link_publish(struct daemon *d, enum link_event ev, const struct link_info *li);

/* Remembered names and admin state (daemon.c); saved to state_dir/modems. */
const struct remembered *daemon_recall(struct daemon *d, const char *key);
void daemon_remember(struct daemon *d, const char *key, const char *name, bool admin_up);
int daemon_load_remembered(struct daemon *d);
/* Next free short name "mN" not used by a live or remembered modem. */
void daemon_next_name(struct daemon *d, char *buf, size_t len);
/* Once the IMEI is known: take the name remembered for it, if free. */
void daemon_adopt_name(struct daemon *d, struct modem *m, const char *imei);
/* A configured PIN was rejected for this ICCID: never send it again. */
void daemon_mark_bad_pin(struct daemon *d, const char *iccid);
bool daemon_bad_pin(struct daemon *d, const char *iccid);
