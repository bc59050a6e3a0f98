/* modemd: cellular modem manager. Wires the subsystems to one event loop. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#ifdef HAVE_LIBSYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "build-config.h"
#include "control.h"
#include "daemon.h"
#include "gateway.h"
#include "log.h"
#include "loop.h"
#include "modem.h"
#include "netlink.h"
#include "receiver.h"
#include "udev.h"
#include "util.h"

static void usage(FILE *f)
{
	fprintf(f, "Usage: modemd [-c FILE] [-n] [-d] [-s SOCKET]\n"
		   "  -c FILE    configuration (default " MODEMD_DEFAULT_CONFIG ")\n"
		   "  -n         check the configuration, print it normalised, exit\n"
		   "  -d         debug logging\n"
		   "  -s SOCKET  control socket path (overrides the config)\n"
		   "  -V         version\n");
}

static void notify(const char *msg)
{
#ifdef HAVE_LIBSYSTEMD
	sd_notify(0, msg);
#else
	(void)msg;
#endif
}

/* One part (modems, the bundle) finished shutting down. */
static void part_done(struct daemon *d)
{
	if (d->stop_pending && --d->stop_pending)
		return;
	log_info("all links down; exiting");
	loop_quit(d->loop, 0);
}

static void shutdown_done(struct daemon *d)
{
	part_done(d);
}

static void bundle_done(void *data)
{
	part_done(data);
}

static void on_signal(struct loop *l, int signo, void *data)
{
	struct daemon *d = data;
	if (signo == SIGHUP) {
		log_info("SIGHUP: configuration reload is not supported yet; restart modemd");
		return;
	}
	if (d->stopping) {
		log_warn("second %s: exiting now", strsignal(signo));
		loop_quit(l, 1);
		return;
	}
	notify("STOPPING=1");
	if (d->cfg.mode == CFG_MODE_RECEIVER) {
		log_info("%s: terminating every link", strsignal(signo));
		d->stopping = true;
		d->stop_pending = 1;
		receiver_shutdown(d->rx, bundle_done, d);
		return;
	}
	log_info("%s: hanging up every modem", strsignal(signo));
	d->stop_pending = d->gw ? 2 : 1;
	if (d->gw)
		gateway_shutdown(d->gw, bundle_done, d);
	modem_shutdown_all(d, shutdown_done);
}

static void on_netlink(void *data, const char *ifname, int ifindex, bool up, const char *local,
		       const char *remote)
{
	modem_netlink_event(data, ifname, ifindex, up, local, remote);
}

static void on_udev_add(const struct udev_modem *um, void *data)
{
	struct daemon *d = data;
	if (d->stopping || modem_find_usb(d, um->usb_path))
		return;
	log_info("found %s at %s (AT %s, PPP %s)", um->model, um->usb_path, um->at_port,
		 um->ppp_port);
	modem_new(d, NULL, um->at_port, um->ppp_port, um->usb_path, um->reset_cmd, false);
}

static void on_udev_remove(const char *usb_path, void *data)
{
	struct daemon *d = data;
	modem_remove(modem_find_usb(d, usb_path), "device unplugged");
}

static int load_dbs(struct daemon *d)
{
	for (size_t i = 0; i < d->cfg.n_apn_db && d->n_dbs < ARRAY_SIZE(d->dbs); i++) {
		char err[256] = "";
		struct apn_db *db = apn_db_load(d->cfg.apn_db[i], err, sizeof(err));
		if (!db) {
			log_warn("APN database %s not loaded: %s", d->cfg.apn_db[i], err);
			continue;
		}
		log_info("APN database %s: %zu carriers", d->cfg.apn_db[i], apn_db_count(db));
		d->dbs[d->n_dbs++] = db;
	}
	if (!d->n_dbs)
		log_warn("no APN database loaded: only APNs from the configuration will be used");
	return 0;
}

static int load_config(struct config *c, const char *path, bool explicit_path)
{
	char err[512] = "";
	if (!explicit_path && access(path, F_OK) < 0) {
		log_info("no %s: using built-in defaults", path);
		return config_init_defaults(c);
	}
	/* Loads over built-in defaults itself. */
	int r = config_load_file(c, path, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "modemd: %s\n", err);
		return r;
	}
	r = config_check_file_mode(c, path, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "modemd: %s\n", err);
		config_release(c);
		return r;
	}
	return 0;
}

/* A receiver holds about six descriptors per gateway link (socket side
 * and timers): the usual soft limit of 1024 would stop it near 150 links.
 * Take the hard limit (systemd's unit sets it). */
static void raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			log_warn("cannot raise the open-file limit: %s", strerror(errno));
	}
}

int main(int argc, char **argv)
{
	const char *cfg_path = MODEMD_DEFAULT_CONFIG, *sock = NULL;
	bool check = false, debug = false, explicit_cfg = false;
	int opt;
	while ((opt = getopt(argc, argv, "c:nds:Vh")) != -1) {
		switch (opt) {
		case 'c':
			cfg_path = optarg;
			explicit_cfg = true;
			break;
		case 'n':
			check = true;
			break;
		case 'd':
			debug = true;
			break;
		case 's':
			sock = optarg;
			break;
		case 'V':
			printf("modemd %s\n", MODEMD_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}

	struct daemon d = {0};
	if (load_config(&d.cfg, cfg_path, explicit_cfg) < 0)
		return 1;
	if (check) {
		config_print(&d.cfg, stdout, false);
		config_release(&d.cfg);
		return 0;
	}
	if (sock)
		snprintf(d.cfg.control_socket, sizeof(d.cfg.control_socket), "%s", sock);
	log_set_level(debug ? LOG_DEBUG : d.cfg.log_level);
	srandom((unsigned)(time(NULL) ^ getpid()));
	signal(SIGPIPE, SIG_IGN);
	raise_nofile();
	umask(0022);

	int r = 1, err = 0;
	d.loop = loop_new();
	if (!d.loop) {
		log_err("cannot create the event loop");
		goto out;
	}
	loop_signal_add(d.loop, SIGTERM, on_signal, &d);
	loop_signal_add(d.loop, SIGINT, on_signal, &d);
	loop_signal_add(d.loop, SIGHUP, on_signal, &d);
	if ((err = mkdir_p(d.cfg.run_dir, 0750)) < 0) {
		log_err("cannot create %s: %s", d.cfg.run_dir, strerror(-err));
		goto out;
	}
	if (d.cfg.mode == CFG_MODE_RECEIVER) {
		/* No modems, no udev, no pppd: the bundle server only. */
		d.ctl = control_open(&d, d.cfg.control_socket, d.cfg.control_group, &err);
		if (!d.ctl) {
			log_err("cannot open control socket %s: %s", d.cfg.control_socket,
				strerror(-err));
			goto out;
		}
		d.rx = receiver_new(&d, &err);
		if (!d.rx) {
			log_err("cannot start the receiver: %s", strerror(-err));
			goto out;
		}
		log_info("ready (receiver, control %s)", d.cfg.control_socket);
		notify("READY=1");
		r = loop_run(d.loop);
		goto out;
	}
	if ((err = daemon_load_remembered(&d)) < 0)
		log_warn("cannot read remembered modems: %s", strerror(-err));
	load_dbs(&d);

	d.nl = netlink_open(d.loop, on_netlink, &d, &err);
	if (!d.nl) {
		log_err("cannot open rtnetlink: %s", strerror(-err));
		goto out;
	}
	d.ctl = control_open(&d, d.cfg.control_socket, d.cfg.control_group, &err);
	if (!d.ctl) {
		log_err("cannot open control socket %s: %s", d.cfg.control_socket, strerror(-err));
		goto out;
	}
	if (d.cfg.bundle.enabled) {
		/* Before the modems: it subscribes to their link events. */
		d.gw = gateway_new(&d, &err);
		if (!d.gw) {
			log_err("cannot start the bundle: %s", strerror(-err));
			goto out;
		}
	}
	for (size_t i = 0; i < d.cfg.n_static_modems; i++) {
		const struct cfg_static_modem *s = &d.cfg.static_modems[i];
		modem_new(&d, s->name, s->at_port, s->ppp_port, NULL, s->reset_cmd, true);
	}
	if (d.cfg.udev) {
		d.udev = udev_watch_start(d.loop, &d.cfg, on_udev_add, on_udev_remove, &d, &err);
		if (!d.udev)
			log_warn("udev discovery unavailable: %s; only static modems are managed",
				 strerror(-err));
	}
	log_info("ready (%zu static modem(s), udev %s, control %s)", d.cfg.n_static_modems,
		 d.udev ? "on" : "off", d.cfg.control_socket);
	notify("READY=1");
	r = loop_run(d.loop);

out:
	while (d.modems)
		modem_remove(d.modems, "modemd exiting");
	d.gw = gateway_free(d.gw);
	d.rx = receiver_free(d.rx);
	d.udev = udev_watch_stop(d.udev);
	d.ctl = control_close(d.ctl);
	d.nl = netlink_close(d.nl);
	for (size_t i = 0; i < d.n_dbs; i++)
		d.dbs[i] = apn_db_free(d.dbs[i]);
	d.loop = loop_free(d.loop);
	config_release(&d.cfg);
	return r;
}
