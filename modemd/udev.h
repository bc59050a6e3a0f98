/* Modem discovery through libudev: enumerate at start, then follow hotplug on
 * subsystem tty. The tty ports of one USB device are grouped; the AT and PPP
 * ports are chosen by USB interface number from the model table. A modem is
 * reported once both its ports exist, and removed when any of them goes. */
#pragma once

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

typedef void (*udev_add_cb)(const struct udev_modem *um, void *data);
typedef void (*udev_remove_cb)(const char *usb_path, void *data);

struct udev_watch *udev_watch_start(struct loop *l, const struct config *cfg, udev_add_cb add,
				    udev_remove_cb remove, void *data, int *err);
struct udev_watch *udev_watch_stop(struct udev_watch *w);
