/* udev discovery against umockdev testbeds: real libudev, fake sysfs.
 * Runs under umockdev-wrapper (LD_PRELOAD), see tests/udev/tests.cmake.
 * Testbeds are the *.umockdev record files next to this file; the bound test
 * builds its devices with umockdev_testbed_add_device. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <umockdev.h>

#include "config.h"
#include "log.h"
#include "loop.h"
#include "udev.h"

#define SIM_USB		  "/sys/devices/pci0000:00/0000:00:14.0/usb1/1-1"
#define EC25_USB	  "/sys/devices/pci0000:00/0000:00:14.0/usb1/1-2"
#define FTDI_USB	  "/sys/devices/pci0000:00/0000:00:14.0/usb1/1-3"
#define SHUF_USB	  "/sys/devices/pci0000:00/0000:00:14.0/usb2/2-1"
#define TTY(usb, intf, n) usb "/" intf "/ttyUSB" #n "/tty/ttyUSB" #n

/* Generous bound for one awaited event; normally it arrives at once. */
#define WAIT_MS 5000

struct seen_modem {
	char usb_path[256], model[64], at[64], ppp[64], reset[32];
	unsigned vid, pid;
};

struct fx {
	UMockdevTestbed *tb;
	struct loop *loop;
	struct config cfg;
	struct udev_watch *w;
	struct seen_modem added[16];
	int n_added;
	char removed[16][256];
	int n_removed;
	bool stop_in_add; /* call udev_watch_stop from the add callback */
	int log_fd, saved_stderr;
};

static void on_add(const struct udev_modem *um, void *data)
{
	struct fx *f = data;
	assert_true(f->n_added < 16);
	struct seen_modem *m = &f->added[f->n_added++];
	snprintf(m->usb_path, sizeof(m->usb_path), "%s", um->usb_path);
	snprintf(m->model, sizeof(m->model), "%s", um->model);
	snprintf(m->at, sizeof(m->at), "%s", um->at_port);
	snprintf(m->ppp, sizeof(m->ppp), "%s", um->ppp_port);
	snprintf(m->reset, sizeof(m->reset), "%s", um->reset_cmd);
	m->vid = um->vid;
	m->pid = um->pid;
	if (f->stop_in_add)
		f->w = udev_watch_stop(f->w);
}

static void on_remove(const char *usb_path, void *data)
{
	struct fx *f = data;
	assert_true(f->n_removed < 16);
	snprintf(f->removed[f->n_removed++], 256, "%s", usb_path);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	f->tb = umockdev_testbed_new();
	assert_non_null(f->tb);
	f->loop = loop_new();
	assert_non_null(f->loop);
	/* The built-in model table: SIMCom 1e0e:9001 and Quectel 2c7c:0125,
	 * AT on interface 2, PPP on interface 3. */
	assert_int_equal(config_init_defaults(&f->cfg), 0);
	f->cfg.udev = true;
	/* Capture the log to count lines. */
	fflush(stderr);
	f->log_fd = memfd_create("udev-log", MFD_CLOEXEC);
	assert_true(f->log_fd >= 0);
	f->saved_stderr = dup(STDERR_FILENO);
	dup2(f->log_fd, STDERR_FILENO);
	log_set_level(LOG_DEBUG);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	udev_watch_stop(f->w);
	config_release(&f->cfg);
	loop_free(f->loop);
	g_object_unref(f->tb);
	fflush(stderr);
	dup2(f->saved_stderr, STDERR_FILENO);
	close(f->saved_stderr);
	/* Show the captured log, for failures. */
	char buf[4096];
	ssize_t n;
	lseek(f->log_fd, 0, SEEK_SET);
	while ((n = read(f->log_fd, buf, sizeof(buf))) > 0)
		fwrite(buf, 1, (size_t)n, stderr);
	close(f->log_fd);
	free(f);
	return 0;
}

static void pump(struct fx *f);

static void load_opt(struct fx *f, const char *name, bool nodes);
static void load(struct fx *f, const char *name)
{
	load_opt(f, name, true);
}

/* Load a testbed file. Our files start with "#" comment lines describing the
 * device, which umockdev's parser does not accept: drop them first. */
static void load_opt(struct fx *f, const char *name, bool nodes)
{
	char path[512];
	gchar *text = NULL;
	GError *e = NULL;
	snprintf(path, sizeof(path), "%s/tests/udev/%s", TEST_SRCDIR, name);
	if (!g_file_get_contents(path, &text, NULL, &e))
		fail_msg("%s: %s", path, e ? e->message : "?");
	GString *data = g_string_new(NULL);
	gchar **lines = g_strsplit(text, "\n", -1);
	for (gchar **l = lines; *l; l++)
		if (**l != '#' && (nodes || !g_str_has_prefix(*l, "N:")))
			g_string_append_printf(data, "%s\n", *l);
	g_strfreev(lines);
	g_free(text);
	/* One device at a time, pumping in between: each sends an "add". */
	gchar **devs = g_strsplit(g_strchug(data->str), "\n\n", -1);
	for (gchar **d = devs; *d; d++) {
		if (!**d)
			continue;
		if (!umockdev_testbed_add_from_string(f->tb, *d, &e))
			fail_msg("%s: %s", path, e ? e->message : "?");
		if (f->w)
			pump(f);
	}
	g_strfreev(devs);
	g_string_free(data, TRUE);
}

static void start(struct fx *f)
{
	int err = 1;
	f->w = udev_watch_start(f->loop, &f->cfg, on_add, on_remove, f, &err);
	assert_non_null(f->w);
	assert_int_equal(err, 0);
}

/* Run the loop until *counter reaches want (or fail after WAIT_MS). */
static void await_count(struct fx *f, const int *counter, int want)
{
	for (int waited = 0; *counter < want; waited += 50) {
		if (waited >= WAIT_MS)
			fail_msg("waited %d ms for %d events, have %d", WAIT_MS, want, *counter);
		assert_true(loop_iterate(f->loop, 50) >= 0);
	}
}

static void await_tracked(struct fx *f, size_t want)
{
	for (int waited = 0; udev_watch_tracked(f->w) != want; waited += 50) {
		if (waited >= WAIT_MS)
			fail_msg("waited for %zu tracked devices, have %zu", want,
				 udev_watch_tracked(f->w));
		assert_true(loop_iterate(f->loop, 50) >= 0);
	}
}

/* Handle every uevent already queued. umockdev sends synchronously, so what
 * it sent is in the monitor socket when its call returns; the socket queue is
 * short (a unix datagram socket), so the test pumps after each step. */
static void pump(struct fx *f)
{
	int n;
	while ((n = loop_iterate(f->loop, 0)) > 0)
		;
	assert_true(n == 0);
}

/* syspath as umockdev_testbed_add_device returns it: /sys/devices/... */
static void uevent(struct fx *f, const char *syspath, const char *action)
{
	umockdev_testbed_uevent(f->tb, syspath, action);
	pump(f);
}

/* Unplug what a testbed file describes the way the kernel does: children
 * first, each with its "remove" uevent, then gone from sysfs. Devices the file
 * lists but the testbed lacks are skipped. */
static void unplug(struct fx *f, const char *name)
{
	char path[512];
	gchar *text = NULL;
	snprintf(path, sizeof(path), "%s/tests/udev/%s", TEST_SRCDIR, name);
	assert_true(g_file_get_contents(path, &text, NULL, NULL));
	GPtrArray *devs = g_ptr_array_new_with_free_func(g_free);
	gchar **lines = g_strsplit(text, "\n", -1);
	for (gchar **l = lines; *l; l++)
		if (g_str_has_prefix(*l, "P: "))
			g_ptr_array_add(devs, g_strconcat("/sys", *l + 3, NULL));
	g_strfreev(lines);
	g_free(text);
	gchar *root = umockdev_testbed_get_root_dir(f->tb);
	for (guint i = devs->len; i-- > 0;) {
		const char *dev = g_ptr_array_index(devs, i);
		gchar *real = g_strconcat(root, dev, NULL);
		if (g_file_test(real, G_FILE_TEST_IS_DIR)) {
			uevent(f, dev, "remove");
			umockdev_testbed_remove_device(f->tb, dev);
		}
		g_free(real);
	}
	g_free(root);
	g_ptr_array_free(devs, TRUE);
}

/* Lines in the captured log containing all of a and b. */
static int log_count(struct fx *f, const char *a, const char *b)
{
	fflush(stderr);
	off_t len = lseek(f->log_fd, 0, SEEK_END);
	char *text = calloc(1, (size_t)len + 1);
	assert_non_null(text);
	assert_int_equal(pread(f->log_fd, text, (size_t)len, 0), len);
	int n = 0;
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n"))
		n += strstr(line, a) && strstr(line, b);
	free(text);
	return n;
}

/* Present at start: SIM7100 and EC25 are found with the right two ports each,
 * the FTDI adapter is ignored with one line, the net interfaces are not ports. */
static void test_enumerate(void **state)
{
	struct fx *f = *state;
	load(f, "sim7100.umockdev");
	load(f, "ec25.umockdev");
	load(f, "unknown-serial.umockdev");
	start(f);

	assert_int_equal(f->n_added, 2);
	assert_int_equal(f->n_removed, 0);
	struct seen_modem *sim = NULL, *ec = NULL;
	for (int i = 0; i < f->n_added; i++) {
		if (f->added[i].vid == 0x1e0e)
			sim = &f->added[i];
		if (f->added[i].vid == 0x2c7c)
			ec = &f->added[i];
	}
	assert_non_null(sim);
	assert_non_null(ec);
	assert_string_equal(sim->usb_path, SIM_USB);
	assert_int_equal(sim->pid, 0x9001);
	assert_non_null(strstr(sim->model, "SIM7100"));
	assert_string_equal(sim->at, "/dev/ttyUSB2");
	assert_string_equal(sim->ppp, "/dev/ttyUSB3");
	assert_string_equal(sim->reset, "AT+CRESET");
	assert_string_equal(ec->usb_path, EC25_USB);
	assert_non_null(strstr(ec->model, "EC25"));
	assert_int_equal(ec->pid, 0x0125);
	assert_string_equal(ec->at, "/dev/ttyUSB7");
	assert_string_equal(ec->ppp, "/dev/ttyUSB8");
	assert_string_equal(ec->reset, "AT+CFUN=1,1");
	assert_int_equal(udev_watch_tracked(f->w), 2);

	/* The unknown adapter: one line for the device, though it has two
	 * ports, and none more when its ports send events again. */
	assert_int_equal(log_count(f, FTDI_USB, "ignored"), 1);
	uevent(f, TTY(FTDI_USB, "1-3:1.0", 10), "add");
	uevent(f, TTY(FTDI_USB, "1-3:1.1", 11), "change");
	/* Sync point: a remove of the EC25 PPP port must come after them. */
	uevent(f, TTY(EC25_USB, "1-2:1.3", 8), "remove");
	await_count(f, &f->n_removed, 1);
	assert_string_equal(f->removed[0], EC25_USB);
	assert_int_equal(log_count(f, FTDI_USB, "ignored"), 1);
	assert_int_equal(log_count(f, SIM_USB, "ignored"), 0);
	assert_int_equal(f->n_added, 2);
}

/* Ports are chosen by interface number, not tty number. */
static void test_shuffled_numbering(void **state)
{
	struct fx *f = *state;
	load(f, "sim7100-shuffled.umockdev");
	start(f);
	assert_int_equal(f->n_added, 1);
	assert_string_equal(f->added[0].usb_path, SHUF_USB);
	assert_string_equal(f->added[0].at, "/dev/ttyUSB6");
	assert_string_equal(f->added[0].ppp, "/dev/ttyUSB5");
}

/* Hotplug: a device whose AT port appears without its PPP port is no modem;
 * its PPP port's "add" makes it one; the remove of one port frees it; a replug
 * brings it back; a lone remove of the USB device also frees it. */
static void test_hotplug(void **state)
{
	struct fx *f = *state;
	start(f);
	assert_int_equal(f->n_added, 0);
	assert_int_equal(udev_watch_tracked(f->w), 0);

	load(f, "sim7100-at-only.umockdev"); /* sends "add" for each device */
	assert_int_equal(udev_watch_tracked(f->w), 1);
	assert_int_equal(f->n_added, 0);

	/* The PPP port's driver binds late: usb-serial port, then its tty. */
	load(f, "sim7100-ppp-port.umockdev");
	await_count(f, &f->n_added, 1);
	assert_string_equal(f->added[0].usb_path, SIM_USB);
	assert_string_equal(f->added[0].at, "/dev/ttyUSB2");
	assert_string_equal(f->added[0].ppp, "/dev/ttyUSB3");

	/* Unplug: the diag port's remove is not ours; then every other device
	 * goes, children first; exactly one remove. */
	uevent(f, TTY(SIM_USB, "1-1:1.0", 0), "remove");
	umockdev_testbed_remove_device(f->tb, TTY(SIM_USB, "1-1:1.0", 0));
	assert_int_equal(f->n_removed, 0);
	unplug(f, "sim7100.umockdev");
	assert_int_equal(f->n_removed, 1);
	assert_string_equal(f->removed[0], SIM_USB);
	assert_int_equal(udev_watch_tracked(f->w), 0);
	/* Replug at the same path. umockdev 0.17 keeps a removed device's
	 * pty, so this time the ttys get no fake node (DEVNAME stays). */
	load_opt(f, "sim7100.umockdev", false);
	await_count(f, &f->n_added, 2);
	assert_string_equal(f->added[1].at, "/dev/ttyUSB2");
	assert_string_equal(f->added[1].ppp, "/dev/ttyUSB3");

	/* Only the USB device's remove arrives (tty removes lost): freed too. */
	uevent(f, SIM_USB, "remove");
	await_count(f, &f->n_removed, 2);
	assert_string_equal(f->removed[1], SIM_USB);
	assert_int_equal(udev_watch_tracked(f->w), 0);
	assert_int_equal(f->n_added, 2);
}

/* A port seen by both the enumeration and the monitor, or by a "change",
 * is not a second modem. */
static void test_no_double_report(void **state)
{
	struct fx *f = *state;
	load(f, "sim7100.umockdev");
	start(f);
	assert_int_equal(f->n_added, 1);

	uevent(f, TTY(SIM_USB, "1-1:1.2", 2), "add");
	uevent(f, TTY(SIM_USB, "1-1:1.3", 3), "add");
	uevent(f, TTY(SIM_USB, "1-1:1.3", 3), "change");
	uevent(f, SIM_USB, "add");
	assert_int_equal(f->n_added, 1);
	load(f, "ec25.umockdev"); /* a second modem is still welcome */
	await_count(f, &f->n_added, 2);
	assert_string_equal(f->added[1].usb_path, EC25_USB);
	assert_int_equal(f->n_removed, 0);
	assert_int_equal(udev_watch_tracked(f->w), 2);
}

/* Half-enumerated devices produce nothing: AT port without PPP port, ports
 * without an interface number, and the remove of a lone port frees its group. */
static void test_half_enumerated(void **state)
{
	struct fx *f = *state;
	load(f, "sim7100-at-only.umockdev");
	load(f, "sim7100-no-ifnum.umockdev");
	start(f);
	assert_int_equal(f->n_added, 0);
	assert_int_equal(udev_watch_tracked(f->w), 1); /* the AT-only one */

	uevent(f, TTY(SIM_USB, "1-1:1.2", 2), "add"); /* again: still no modem */
	uevent(f, TTY(SIM_USB, "1-1:1.2", 2), "remove");
	await_tracked(f, 0);
	assert_int_equal(f->n_added, 0);
	assert_int_equal(f->n_removed, 0);
}

/* Every group is bounded: many half devices cannot keep a real modem out. */
static void test_bounded(void **state)
{
	struct fx *f = *state;
	for (int i = 0; i < UDEV_MAX_GROUPS + 6; i++) {
		char name[16], port[16], dev[32], intf[32];
		snprintf(name, sizeof(name), "3-%d", i + 1);
		/* umockdev returns the new device's syspath, ours to free. */
		gchar *usb = umockdev_testbed_add_device(f->tb, "usb", name, NULL, "idVendor",
							 "1e0e", "idProduct", "9001", NULL,
							 "DEVTYPE", "usb_device", NULL);
		assert_non_null(usb);
		snprintf(intf, sizeof(intf), "%s:1.2", name);
		gchar *ifp =
		    umockdev_testbed_add_device(f->tb, "usb", intf, usb, "bInterfaceNumber", "02",
						NULL, "DEVTYPE", "usb_interface", NULL);
		assert_non_null(ifp);
		snprintf(port, sizeof(port), "ttyUSB%d", 100 + i);
		snprintf(dev, sizeof(dev), "/dev/%s", port);
		gchar *tty = umockdev_testbed_add_device(f->tb, "tty", port, ifp, NULL, "DEVNAME",
							 dev, NULL);
		assert_non_null(tty);
		g_free(tty);
		g_free(ifp);
		g_free(usb);
	}
	start(f);
	assert_int_equal(f->n_added, 0);
	assert_int_equal(udev_watch_tracked(f->w), UDEV_MAX_GROUPS);

	load(f, "sim7100.umockdev");
	await_count(f, &f->n_added, 1);
	assert_string_equal(f->added[0].usb_path, SIM_USB);
	assert_int_equal(udev_watch_tracked(f->w), UDEV_MAX_GROUPS);
}

/* The owner may stop the watch from inside its own callback. */
static void test_stop_in_callback(void **state)
{
	struct fx *f = *state;
	start(f);
	f->stop_in_add = true;
	load(f, "sim7100.umockdev");
	assert_int_equal(f->n_added, 1);
	assert_null(f->w); /* freed once the event was handled; ASan checks */
	pump(f);
	assert_int_equal(f->n_added, 1);
}

int main(void)
{
	/* umockdev_in_mock_environment() is only true once a testbed exists. */
	const char *preload = getenv("LD_PRELOAD");
	if (!preload || !strstr(preload, "umockdev-preload")) {
		fprintf(stderr, "run under umockdev-wrapper\n");
		return 1;
	}
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_enumerate, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_shuffled_numbering, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_hotplug, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_no_double_report, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_half_enumerated, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bounded, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_stop_in_callback, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
