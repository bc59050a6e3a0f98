/* Modem discovery through libudev: enumerate at start, then follow hotplug on
 * subsystem tty. The tty ports of one USB device are grouped; the AT and PPP
 * ports are chosen by USB interface number from the model table. A modem is
 * reported once both its ports exist, and removed when any of them goes. */
#pragma once
#include <stddef.h>

/* Bounds on what plugged devices can make us keep: USB devices tracked (one
 * group each, at most two ports per group) and unknown USB devices remembered
 * so each is logged once. */
#define UDEV_MAX_GROUPS	 64
#define UDEV_MAX_IGNORED 32

struct loop;
struct config;
struct udev_watch;

struct udev_modem {
	const char *usb_path; /* sysfs path of the USB device: stable per port */
	unsigned vid, pid;
	const char *model;    /* model table name */
	const char *at_port;  /* /dev/ttyUSB2 */
	const char *ppp_port; /* /dev/ttyUSB3 */
	const char *reset_cmd;
};

/* The strings of *um are valid during the callback only. Callbacks may call
 * udev_watch_stop(); the watch is then freed once the current event is done.
 * No callback runs from udev_watch_stop(). */
typedef void (*udev_add_cb)(const struct udev_modem *um, void *data);
typedef void (*udev_remove_cb)(const char *usb_path, void *data);

/* cfg must outlive the watch (models are looked up on every new device).
 * Existing modems are reported from inside this call. On failure returns NULL
 * and a negative errno in *err. */
struct udev_watch *udev_watch_start(struct loop *l, const struct config *cfg, udev_add_cb add,
				    udev_remove_cb remove, void *data, int *err);
/* NULL-safe; returns NULL. */
struct udev_watch *udev_watch_stop(struct udev_watch *w);
/* USB devices currently tracked (complete modems and half-seen ones). */
size_t udev_watch_tracked(const struct udev_watch *w);
