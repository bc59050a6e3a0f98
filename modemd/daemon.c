/* Daemon-wide services: link event fan-out, and what is remembered about
 * modems across replug and restart (short names, administrative state). */
#include "daemon.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "modem.h"
#include "util.h"

int daemon_link_subscribe(struct daemon *d, link_event_cb cb, void *data)
{
	if (d->n_link_subs >= LINK_SUBSCRIBERS_MAX)
		return -ENOSPC;
	d->link_subs[d->n_link_subs].cb = cb;
	d->link_subs[d->n_link_subs].data = data;
	d->n_link_subs++;
	return 0;
}

void daemon_link_publish(struct daemon *d, enum link_event ev, const struct link_info *li)
{
	log_info("%s: link %s %s%s%s%s%s", li->modem, ev == LINK_EV_UP ? "up" : "down", li->ifname,
		 *li->local ? " " : "", li->local, *li->reason ? ": " : "", li->reason);
	for (size_t i = 0; i < d->n_link_subs; i++)
		d->link_subs[i].cb(ev, li, d->link_subs[i].data);
}

static void state_path(struct daemon *d, char *buf, size_t len)
{
	snprintf(buf, len, "%s/modems", d->cfg.state_dir);
}

static void save_remembered(struct daemon *d)
{
	if (!*d->cfg.state_dir)
		return;
	char path[512], *text = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&text, &size);
	if (!f)
		return;
	fprintf(f, "# modemd: remembered modems (key name admin); rewritten by modemd\n");
	for (size_t i = 0; i < d->n_remembered; i++)
		fprintf(f, "%s %s %s\n", d->remembered[i].key, d->remembered[i].name,
			d->remembered[i].admin_up ? "up" : "down");
	fclose(f);
	state_path(d, path, sizeof(path));
	int r = mkdir_p(d->cfg.state_dir, 0755);
	if (r == 0)
		r = write_file_atomic(path, text, size, 0644);
	if (r < 0)
		log_warn("cannot save %s: %s", path, strerror(-r));
	free(text);
}

int daemon_load_remembered(struct daemon *d)
{
	char path[512], line[256];
	if (!*d->cfg.state_dir)
		return 0;
	state_path(d, path, sizeof(path));
	FILE *f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? 0 : -errno;
	unsigned lineno = 0;
	while (fgets(line, sizeof(line), f) && d->n_remembered < REMEMBERED_MAX) {
		lineno++;
		char key[64], name[32], admin[8];
		if (line[0] == '#' || line[0] == '\n')
			continue;
		if (sscanf(line, "%63s %31s %7s", key, name, admin) != 3 ||
		    (strcmp(admin, "up") != 0 && strcmp(admin, "down") != 0)) {
			log_warn("%s:%u: ignoring malformed line", path, lineno);
			continue;
		}
		struct remembered *r = &d->remembered[d->n_remembered++];
		snprintf(r->key, sizeof(r->key), "%s", key);
		snprintf(r->name, sizeof(r->name), "%s", name);
		r->admin_up = strcmp(admin, "up") == 0;
	}
	fclose(f);
	return 0;
}

const struct remembered *daemon_recall(struct daemon *d, const char *key)
{
	if (!key || !*key)
		return NULL;
	for (size_t i = 0; i < d->n_remembered; i++)
		if (strcmp(d->remembered[i].key, key) == 0)
			return &d->remembered[i];
	return NULL;
}

void daemon_remember(struct daemon *d, const char *key, const char *name, bool admin_up)
{
	if (!key || !*key)
		return;
	struct remembered *r = (struct remembered *)daemon_recall(d, key);
	if (r && strcmp(r->name, name) == 0 && r->admin_up == admin_up)
		return;
	if (!r) {
		if (d->n_remembered >= REMEMBERED_MAX) {
			/* Forget the oldest: bounded, and old entries matter least. */
			memmove(&d->remembered[0], &d->remembered[1],
				(REMEMBERED_MAX - 1) * sizeof(d->remembered[0]));
			d->n_remembered--;
		}
		r = &d->remembered[d->n_remembered++];
		snprintf(r->key, sizeof(r->key), "%s", key);
	}
	snprintf(r->name, sizeof(r->name), "%s", name);
	r->admin_up = admin_up;
	save_remembered(d);
}

static bool name_in_use(struct daemon *d, const char *name)
{
	if (modem_find(d, name))
		return true;
	for (size_t i = 0; i < d->n_remembered; i++)
		if (strcmp(d->remembered[i].name, name) == 0)
			return true;
	for (size_t i = 0; i < d->cfg.n_static_modems; i++)
		if (strcmp(d->cfg.static_modems[i].name, name) == 0)
			return true;
	return false;
}

void daemon_next_name(struct daemon *d, char *buf, size_t len)
{
	for (unsigned i = 0;; i++) {
		snprintf(buf, len, "m%u", i);
		if (!name_in_use(d, buf))
			return;
	}
}

void daemon_adopt_name(struct daemon *d, struct modem *m, const char *imei)
{
	const struct remembered *r = daemon_recall(d, imei);
	if (!r || strcmp(r->name, m->name) == 0 || modem_find(d, r->name))
		return;
	log_info("%s: known as %s (IMEI %s)", m->name, r->name, imei);
	snprintf(m->name, sizeof(m->name), "%s", r->name);
}

void daemon_mark_bad_pin(struct daemon *d, const char *iccid)
{
	if (daemon_bad_pin(d, iccid) || d->n_bad_pins >= ARRAY_SIZE(d->bad_pins))
		return;
	snprintf(d->bad_pins[d->n_bad_pins++], sizeof(d->bad_pins[0]), "%s", iccid);
}

bool daemon_bad_pin(struct daemon *d, const char *iccid)
{
	for (size_t i = 0; i < d->n_bad_pins; i++)
		if (strcmp(d->bad_pins[i], iccid) == 0)
			return true;
	return false;
}
