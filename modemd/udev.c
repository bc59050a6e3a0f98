/* Modem discovery through libudev.
 *
 * One monitor (udev-processed events, subsystems "tty" and "usb/usb_device")
 * in the event loop, then one enumeration of existing ttys. Each tty is
 * resolved to its usb_interface (bInterfaceNumber) and usb_device (idVendor,
 * idProduct); only ttys on the model's AT or PPP interface are tracked, in a
 * group keyed by the USB device's syspath. A group becomes a modem once both
 * ports exist, and stops being one when either port or the USB device goes.
 *
 * Removal never reads sysfs (the device is gone by then): groups and ports are
 * found again by syspath. Everything is bounded: UDEV_MAX_GROUPS groups, two
 * ports each, UDEV_MAX_IGNORED remembered unknown devices. */
#include "udev.h"
#include "config.h"
#include "log.h"
#include "loop.h"
#include "util.h"

#include <errno.h>
#include <libudev.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

/* Events handled per wakeup; the loop is level-triggered, so the rest of a
 * burst is handled on the next round and other fds are not starved. */
#define UDEV_EVENTS_PER_WAKEUP 64
/* Kernel socket buffer for bursts (many modems re-enumerating at once). */
#define UDEV_RCVBUF (1024 * 1024)

enum port_role { ROLE_AT, ROLE_PPP, ROLE_COUNT };

struct port {
	char *syspath; /* the tty device; NULL: slot empty */
	char *devnode; /* /dev/ttyUSBn */
};

struct group {
	char *usb_path; /* usb_device syspath */
	unsigned vid, pid;
	char model[sizeof(((struct cfg_model *)0)->name)];
	char reset_cmd[sizeof(((struct cfg_model *)0)->reset_cmd)];
	struct port port[ROLE_COUNT];
	bool reported;
	uint64_t seq; /* creation order: the oldest unreported group is evicted */
};

struct udev_watch {
	struct loop *loop;
	const struct config *cfg;
	struct udev *udev;
	struct udev_monitor *mon;
	struct loop_io *io;
	udev_add_cb add;
	udev_remove_cb remove;
	void *data;

	struct group *groups[UDEV_MAX_GROUPS];
	uint64_t next_seq;
	/* USB devices already logged as unknown, so each gets one debug line. */
	char *ignored[UDEV_MAX_IGNORED];
	size_t ignored_next;

	int in_cb;     /* >0 while a user callback runs */
	bool stopping; /* udev_watch_stop() called from a callback */
};

static const char *const role_names[ROLE_COUNT] = {[ROLE_AT] = "AT", [ROLE_PPP] = "PPP"};

static struct group *group_free(struct group *g)
{
	if (!g)
		return NULL;
	for (int r = 0; r < ROLE_COUNT; r++) {
		free(g->port[r].syspath);
		free(g->port[r].devnode);
	}
	free(g->usb_path);
	free(g);
	return NULL;
}

static size_t group_ports(const struct group *g)
{
	size_t n = 0;
	for (int r = 0; r < ROLE_COUNT; r++)
		n += g->port[r].syspath != NULL;
	return n;
}

static int find_group(const struct udev_watch *w, const char *usb_path)
{
	for (int i = 0; i < UDEV_MAX_GROUPS; i++)
		if (w->groups[i] && strcmp(w->groups[i]->usb_path, usb_path) == 0)
			return i;
	return -1;
}

/* The group and role holding tty syspath, or -1. */
static int find_port(const struct udev_watch *w, const char *syspath, int *role)
{
	for (int i = 0; i < UDEV_MAX_GROUPS; i++) {
		const struct group *g = w->groups[i];
		if (!g)
			continue;
		for (int r = 0; r < ROLE_COUNT; r++)
			if (g->port[r].syspath && strcmp(g->port[r].syspath, syspath) == 0) {
				*role = r;
				return i;
			}
	}
	return -1;
}

/* A free slot: an empty one, else the oldest group that never became a modem
 * (half-enumerated leftovers must not lock out a real modem). -1 when every
 * slot holds a live modem. */
static int free_slot(struct udev_watch *w)
{
	int victim = -1;
	for (int i = 0; i < UDEV_MAX_GROUPS; i++) {
		if (!w->groups[i])
			return i;
		if (!w->groups[i]->reported &&
		    (victim < 0 || w->groups[i]->seq < w->groups[victim]->seq))
			victim = i;
	}
	if (victim >= 0) {
		log_debug("udev: %s: forgetting incomplete device to make room",
			  w->groups[victim]->usb_path);
		w->groups[victim] = group_free(w->groups[victim]);
	}
	return victim;
}

static bool ignored_seen(struct udev_watch *w, const char *usb_path)
{
	for (size_t i = 0; i < UDEV_MAX_IGNORED; i++)
		if (w->ignored[i] && strcmp(w->ignored[i], usb_path) == 0)
			return true;
	return false;
}

/* Remember an unknown device (ring: the oldest is forgotten first). */
static void ignored_add(struct udev_watch *w, const char *usb_path)
{
	char *copy = strdup(usb_path);
	if (!copy)
		return;
	free(w->ignored[w->ignored_next]);
	w->ignored[w->ignored_next] = copy;
	w->ignored_next = (w->ignored_next + 1) % UDEV_MAX_IGNORED;
}

static void ignored_forget(struct udev_watch *w, const char *usb_path)
{
	for (size_t i = 0; i < UDEV_MAX_IGNORED; i++)
		if (w->ignored[i] && strcmp(w->ignored[i], usb_path) == 0)
			freep(&w->ignored[i]);
}

/* Report the modem once both ports exist. */
static void group_maybe_report(struct udev_watch *w, struct group *g)
{
	if (g->reported || group_ports(g) != ROLE_COUNT)
		return;
	g->reported = true;
	struct udev_modem um = {
	    .usb_path = g->usb_path,
	    .vid = g->vid,
	    .pid = g->pid,
	    .model = g->model,
	    .at_port = g->port[ROLE_AT].devnode,
	    .ppp_port = g->port[ROLE_PPP].devnode,
	    .reset_cmd = g->reset_cmd,
	};
	log_info("udev: %s %04x:%04x at %s: AT %s, PPP %s", g->model, g->vid, g->pid, g->usb_path,
		 um.at_port, um.ppp_port);
	w->in_cb++;
	w->add(&um, w->data);
	w->in_cb--;
}

/* Forget group i, telling the owner if it had been reported as a modem. */
static void group_drop(struct udev_watch *w, int i, const char *why)
{
	struct group *g = w->groups[i];
	w->groups[i] = NULL;
	if (g->reported) {
		log_info("udev: %s at %s gone (%s)", g->model, g->usb_path, why);
		w->in_cb++;
		w->remove(g->usb_path, w->data);
		w->in_cb--;
	}
	group_free(g);
}

static int parse_hex(const char *s, unsigned max, unsigned *out)
{
	if (!s || !*s)
		return -EINVAL;
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 16);
	if (errno || *end || v > max)
		return -EINVAL;
	*out = (unsigned)v;
	return 0;
}

/* A tty appeared (or changed): find its USB device and interface, and track
 * it when it is the AT or PPP port of a known model. */
static void tty_added(struct udev_watch *w, struct udev_device *tty)
{
	const char *syspath = udev_device_get_syspath(tty);
	const char *devnode = udev_device_get_devnode(tty);
	struct udev_device *usbdev =
	    udev_device_get_parent_with_subsystem_devtype(tty, "usb", "usb_device");
	if (!syspath || !usbdev)
		return; /* not a USB tty (ttyS, virtual consoles): not ours, not worth a line */
	const char *usb_path = udev_device_get_syspath(usbdev);
	unsigned vid, pid;
	if (!usb_path ||
	    parse_hex(udev_device_get_sysattr_value(usbdev, "idVendor"), 0xffff, &vid) < 0 ||
	    parse_hex(udev_device_get_sysattr_value(usbdev, "idProduct"), 0xffff, &pid) < 0) {
		log_debug("udev: %s: USB parent without idVendor/idProduct, ignored", syspath);
		return;
	}
	const struct cfg_model *m = config_find_model(w->cfg, vid, pid);
	if (!m) {
		if (!ignored_seen(w, usb_path)) {
			log_debug("udev: %04x:%04x at %s: not a known modem model, ignored", vid,
				  pid, usb_path);
			ignored_add(w, usb_path);
		}
		return;
	}
	struct udev_device *intf =
	    udev_device_get_parent_with_subsystem_devtype(tty, "usb", "usb_interface");
	unsigned ifnum;
	if (!intf ||
	    parse_hex(udev_device_get_sysattr_value(intf, "bInterfaceNumber"), 0xff, &ifnum) < 0) {
		log_debug("udev: %s: no USB interface number (yet), ignored", syspath);
		return;
	}
	int role = (int)ifnum == m->at_interface    ? ROLE_AT
		   : (int)ifnum == m->ppp_interface ? ROLE_PPP
						    : -1;
	if (role < 0)
		return; /* diag, NMEA, audio...: not used */
	if (!devnode) {
		log_debug("udev: %s: no device node (yet), ignored", syspath);
		return;
	}

	int i = find_group(w, usb_path);
	if (i < 0) {
		i = free_slot(w);
		if (i < 0) {
			log_warn("udev: %s: already %d modems, ignored", usb_path, UDEV_MAX_GROUPS);
			return;
		}
		struct group *g = calloc(1, sizeof(*g));
		if (!g || !(g->usb_path = strdup(usb_path))) {
			free(g);
			log_err("udev: out of memory");
			return;
		}
		g->vid = vid;
		g->pid = pid;
		strlcpy_checked(g->model, m->name, sizeof(g->model));
		strlcpy_checked(g->reset_cmd, m->reset_cmd, sizeof(g->reset_cmd));
		g->seq = w->next_seq++;
		w->groups[i] = g;
	}
	struct group *g = w->groups[i];
	struct port *p = &g->port[role];
	if (p->syspath && strcmp(p->syspath, syspath) != 0) {
		/* Two ttys on one interface: keep the first until it is removed. */
		log_debug("udev: %s: interface %u already has %s, ignored", syspath, ifnum,
			  p->syspath);
		return;
	}
	if (p->syspath && strcmp(p->devnode, devnode) == 0)
		return; /* seen before (enumerate vs monitor, or a "change") */
	if (g->reported) {
		/* The node of a reported port changed under us: withdraw the
		 * modem and report it again with the new node below. */
		log_info("udev: %s: %s port now %s", usb_path, role_names[role], devnode);
		g->reported = false;
		w->in_cb++;
		w->remove(g->usb_path, w->data);
		w->in_cb--;
		if (w->stopping)
			return;
	}
	char *sp = p->syspath ? p->syspath : strdup(syspath);
	char *dn = strdup(devnode);
	if (!sp || !dn) {
		if (sp != p->syspath)
			free(sp);
		free(dn);
		log_err("udev: out of memory");
		if (group_ports(g) == 0)
			w->groups[i] = group_free(g);
		return;
	}
	free(p->devnode);
	p->syspath = sp;
	p->devnode = dn;
	log_debug("udev: %s: %s port %s (interface %u)", usb_path, role_names[role], devnode,
		  ifnum);
	group_maybe_report(w, g);
}

static void tty_removed(struct udev_watch *w, const char *syspath)
{
	int role;
	int i = find_port(w, syspath, &role);
	if (i < 0)
		return;
	struct group *g = w->groups[i];
	if (g->reported) {
		group_drop(w, i, "port removed");
		return;
	}
	freep(&g->port[role].syspath);
	freep(&g->port[role].devnode);
	if (group_ports(g) == 0)
		w->groups[i] = group_free(g);
}

static void usb_removed(struct udev_watch *w, const char *usb_path)
{
	ignored_forget(w, usb_path);
	int i = find_group(w, usb_path);
	if (i >= 0)
		group_drop(w, i, "USB device removed");
}

static void handle_device(struct udev_watch *w, struct udev_device *dev)
{
	const char *action = udev_device_get_action(dev);
	const char *subsystem = udev_device_get_subsystem(dev);
	const char *syspath = udev_device_get_syspath(dev);
	if (!subsystem || !syspath)
		return;
	bool is_tty = strcmp(subsystem, "tty") == 0;
	/* Enumerated devices carry no action: they are present. */
	if (!action || strcmp(action, "add") == 0 || strcmp(action, "change") == 0 ||
	    strcmp(action, "bind") == 0) {
		if (is_tty)
			tty_added(w, dev);
	} else if (strcmp(action, "remove") == 0) {
		if (is_tty)
			tty_removed(w, syspath);
		else
			usb_removed(w, syspath);
	}
	/* "move" does not happen to ttyUSB; "unbind" is followed by the
	 * ttys' own "remove". */
}

static void monitor_cb(struct loop_io *io, int fd, uint32_t events, void *data)
{
	struct udev_watch *w = data;
	for (int n = 0; n < UDEV_EVENTS_PER_WAKEUP && !w->stopping; n++) {
		struct udev_device *dev = udev_monitor_receive_device(w->mon);
		if (!dev)
			break; /* EAGAIN, or a malformed message libudev dropped */
		handle_device(w, dev);
		udev_device_unref(dev);
	}
	if (w->stopping) {
		w->stopping = false;
		udev_watch_stop(w);
	}
}

static int enumerate(struct udev_watch *w)
{
	struct udev_enumerate *e = udev_enumerate_new(w->udev);
	if (!e)
		return -ENOMEM;
	int r = udev_enumerate_add_match_subsystem(e, "tty");
	if (r >= 0)
		r = udev_enumerate_scan_devices(e);
	if (r < 0) {
		udev_enumerate_unref(e);
		return r;
	}
	struct udev_list_entry *entry;
	udev_list_entry_foreach(entry, udev_enumerate_get_list_entry(e))
	{
		if (w->stopping)
			break;
		struct udev_device *dev =
		    udev_device_new_from_syspath(w->udev, udev_list_entry_get_name(entry));
		if (!dev)
			continue; /* vanished since the scan: its "remove" is queued */
		handle_device(w, dev);
		udev_device_unref(dev);
	}
	udev_enumerate_unref(e);
	return 0;
}

struct udev_watch *udev_watch_start(struct loop *l, const struct config *cfg, udev_add_cb add,
				    udev_remove_cb remove, void *data, int *err)
{
	int r = -EINVAL;
	struct udev_watch *w = NULL;
	if (!l || !cfg || !add || !remove)
		goto fail;
	r = -ENOMEM;
	w = calloc(1, sizeof(*w));
	if (!w)
		goto fail;
	w->loop = l;
	w->cfg = cfg;
	w->add = add;
	w->remove = remove;
	w->data = data;
	w->udev = udev_new();
	if (!w->udev)
		goto fail;
	/* "udev" events: after rules ran, so the device node exists. */
	w->mon = udev_monitor_new_from_netlink(w->udev, "udev");
	if (!w->mon) {
		r = errno ? -errno : -ENOMEM;
		log_err("udev: cannot create monitor: %s", strerror(-r));
		goto fail;
	}
	r = udev_monitor_filter_add_match_subsystem_devtype(w->mon, "tty", NULL);
	if (r >= 0)
		r = udev_monitor_filter_add_match_subsystem_devtype(w->mon, "usb", "usb_device");
	if (r >= 0)
		(void)udev_monitor_set_receive_buffer_size(w->mon, UDEV_RCVBUF); /* best effort */
	if (r >= 0)
		r = udev_monitor_enable_receiving(w->mon);
	if (r < 0) {
		log_err("udev: cannot start monitor: %s", strerror(-r));
		goto fail;
	}
	/* libudev's monitor fd is non-blocking and close-on-exec. */
	w->io = loop_io_add(l, udev_monitor_get_fd(w->mon), EPOLLIN, monitor_cb, w);
	if (!w->io) {
		r = -ENOMEM;
		goto fail;
	}
	/* Monitor first, then enumerate: a device that appears in between is
	 * seen twice, and the group state makes the second sighting a no-op. */
	r = enumerate(w);
	if (r < 0) {
		log_err("udev: cannot enumerate tty devices: %s", strerror(-r));
		goto fail;
	}
	if (w->stopping) { /* a callback stopped us during enumeration */
		w->stopping = false;
		r = -ECANCELED;
		goto fail;
	}
	if (err)
		*err = 0;
	return w;
fail:
	if (err)
		*err = r;
	udev_watch_stop(w);
	return NULL;
}

struct udev_watch *udev_watch_stop(struct udev_watch *w)
{
	if (!w)
		return NULL;
	if (w->in_cb) {
		/* Called from our own add/remove callback: finish the event first. */
		w->stopping = true;
		return NULL;
	}
	loop_io_del(w->io);
	udev_monitor_unref(w->mon);
	udev_unref(w->udev);
	for (int i = 0; i < UDEV_MAX_GROUPS; i++)
		group_free(w->groups[i]);
	for (size_t i = 0; i < UDEV_MAX_IGNORED; i++)
		free(w->ignored[i]);
	free(w);
	return NULL;
}

size_t udev_watch_tracked(const struct udev_watch *w)
{
	size_t n = 0;
	for (int i = 0; w && i < UDEV_MAX_GROUPS; i++)
		n += w->groups[i] != NULL;
	return n;
}
