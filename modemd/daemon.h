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

/* Link events published for the bundle (and anything else) to consume. */
enum link_event { LINK_EV_UP, LINK_EV_DOWN };
struct link_info {
	const char *modem;   /* "m0" */
	const char *ifname;  /* "ppp-m0" */
	int ifindex;
	const char *local;   /* local address, text */
	const char *remote;  /* peer address, text, may be "" */
	const char *reason;  /* for DOWN: why */
};
typedef void (*link_event_cb)(enum link_event ev, const struct link_info *li, void *data);

#define LINK_SUBSCRIBERS_MAX 8

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
	bool stopping;
	struct {
		link_event_cb cb;
		void *data;
	} link_subs[LINK_SUBSCRIBERS_MAX];
	size_t n_link_subs;
};

int daemon_link_subscribe(struct daemon *d, link_event_cb cb, void *data);
void daemon_link_publish(struct daemon *d, enum link_event ev, const struct link_info *li);
