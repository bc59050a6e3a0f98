/* Modem lifecycle: creation and removal, the state machine's single
 * transition point, dialing with pppd, failure accounting with backoff and
 * module reset, administrative up/down, shutdown. The AT conversation that
 * leads up to dialing is in modem_probe.c. */
#include "modem-internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "at.h"
#include "daemon.h"
#include "log.h"
#include "loop.h"
#include "pppd.h"
#include "util.h"

static const char *const state_names[] = {
    [MODEM_PROBING] = "probing",
    [MODEM_SIM_LOCKED] = "sim-locked",
    [MODEM_REGISTERING] = "registering",
    [MODEM_NO_APN] = "no-apn",
    [MODEM_DIALING] = "dialing",
    [MODEM_CONNECTED] = "connected",
    [MODEM_HANGUP] = "hangup",
    [MODEM_BACKOFF] = "backoff",
    [MODEM_RESETTING] = "resetting",
    [MODEM_DOWN] = "down",
    [MODEM_GONE] = "gone",
};

const char *modem_state_to_string(enum modem_state s)
{
	if ((unsigned)s >= ARRAY_SIZE(state_names) || !state_names[s])
		return "?";
	return state_names[s];
}

/* One timer per modem whose meaning depends on the state. */
static void timer_fired(struct loop_timer *t, void *data)
{
	struct modem *m = data;
	void (*fn)(struct modem * m) = m->timer_fn;
	m->timer_fn = NULL;
	if (fn)
		fn(m);
}

void modem_timer(struct modem *m, uint64_t ms, void (*fn)(struct modem *m))
{
	m->timer_fn = fn;
	loop_timer_arm(m->timer, ms);
}

static void timer_cancel(struct modem *m)
{
	m->timer_fn = NULL;
	loop_timer_disarm(m->timer);
}

void modem_set_state(struct modem *m, enum modem_state s, const char *fmt, ...)
{
	char reason[sizeof(m->reason)] = "";
	if (fmt) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(reason, sizeof(reason), fmt, ap);
		va_end(ap);
	}
	if (m->state != s)
		log_info("%s: %s -> %s%s%s%s", m->name, modem_state_to_string(m->state),
			 modem_state_to_string(s), *reason ? " (" : "", reason, *reason ? ")" : "");
	else if (strcmp(reason, m->reason) != 0 && *reason)
		log_info("%s: %s (%s)", m->name, modem_state_to_string(s), reason);
	if (m->state != s)
		m->state_since_ms = now_ms();
	m->state = s;
	memcpy(m->reason, reason, sizeof(m->reason));
}

static void link_info_fill(struct modem *m, struct link_info *li, const char *reason)
{
	*li = (struct link_info){
	    .modem = m->name,
	    .ifname = m->ifname,
	    .ifindex = m->ifindex,
	    .local = m->local_addr,
	    .remote = m->remote_addr,
	    .reason = reason ? reason : "",
	};
}

/* Leaving CONNECTED for any reason: tell the bundle first. */
static void link_went_down(struct modem *m, const char *reason)
{
	if (m->state != MODEM_CONNECTED && m->state != MODEM_HANGUP)
		return;
	if (!m->connected_since_ms)
		return;
	struct link_info li;
	link_info_fill(m, &li, reason);
	daemon_link_publish(m->d, LINK_EV_DOWN, &li);
	m->connected_since_ms = 0;
	m->local_addr[0] = m->remote_addr[0] = 0;
	m->ifindex = 0;
}

static void backoff_expired(struct modem *m)
{
	modem_probe_start(m);
}

static void reset_expired(struct modem *m)
{
	/* The module rebooted without its ports vanishing (they do for USB
	 * modems: udev removes and re-adds them, and static ports go through
	 * "gone"); start over. */
	modem_probe_start(m);
}

static void do_reset(struct modem *m, const char *why)
{
	const char *cmd = *m->reset_cmd ? m->reset_cmd : "AT+CFUN=1,1";
	/* A fresh start after the reset: count failures from zero again. */
	m->failures = 0;
	modem_set_state(m, MODEM_RESETTING, "%s; sent %s", why, cmd);
	if (m->at)
		at_send(m->at, cmd, 5000, NULL, NULL);
	/* Let the command leave before the port vanishes; then close our end so
	 * the re-enumerated port can be opened fresh. */
	modem_timer(m, 20000, reset_expired);
}

void modem_fail(struct modem *m, const char *fmt, ...)
{
	char why[160];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);

	link_went_down(m, why);
	if (m->at)
		at_cancel_all(m->at);
	m->failures++;
	const struct cfg_dial *dc = &m->d->cfg.dial;
	if (dc->reset_after_failures && m->failures >= dc->reset_after_failures && m->at) {
		do_reset(m, why);
		return;
	}
	/* Exponential backoff with +-20% jitter so modems that failed together
	 * do not redial in lockstep. */
	uint64_t ms = dc->backoff_initial_ms;
	for (unsigned i = 1; i < m->failures && ms < dc->backoff_max_ms; i++)
		ms *= 2;
	if (ms > dc->backoff_max_ms)
		ms = dc->backoff_max_ms;
	ms = ms * (80 + (unsigned)(random() % 41)) / 100;
	m->backoff_ms = (unsigned)ms;
	modem_set_state(m, MODEM_BACKOFF, "%s; retry in %.1f s (failure %u)", why,
			(double)ms / 1000.0, m->failures);
	modem_timer(m, ms, backoff_expired);
}

static void dial_timeout(struct modem *m)
{
	if (m->state != MODEM_DIALING || !m->pppd)
		return;
	log_warn("%s: no link %u s after starting pppd; hanging up", m->name,
		 m->d->cfg.dial.connect_timeout_ms / 1000);
	snprintf(m->reason, sizeof(m->reason), "no link after %u s",
		 m->d->cfg.dial.connect_timeout_ms / 1000);
	pppd_stop(m->pppd);
}

static void after_stop(struct modem *m);
static void shutdown_check(struct daemon *d);

static void pppd_exited(struct pppd *p, int code, const char *reason, void *data)
{
	struct modem *m = data;
	log_info("%s: pppd exited (%d): %s", m->name, code, reason);
	m->pppd = pppd_free(m->pppd);
	m->ifname[0] = 0;
	timer_cancel(m);
	link_went_down(m, reason);
	if (m->state == MODEM_HANGUP || m->d->stopping || !m->admin_up) {
		after_stop(m);
		return;
	}
	if (m->state == MODEM_GONE) {
		/* Unplugged mid-session: pppd is gone now, wait for the ports. */
		modem_timer(m, 500, modem_port_poll);
		return;
	}
	if (m->state == MODEM_DIALING && strncmp(m->reason, "no link after", 13) == 0) {
		char r[160];
		snprintf(r, sizeof(r), "%s", m->reason);
		modem_fail(m, "%s (pppd: %s)", r, reason);
		return;
	}
	modem_fail(m, "%s", reason);
}

static void pdp_set(struct at_chan *ch, const struct at_response *r, void *data)
{
	struct modem *m = data;
	if (r->result == AT_RES_CANCELLED)
		return;
	if (r->result != AT_RES_OK) {
		const char *cme = r->err >= 0 ? at_cme_to_string(r->err) : NULL;
		modem_fail(m, "AT+CGDCONT failed: %s%s%s", at_result_to_string(r->result),
			   cme ? ": " : "", cme ? cme : "");
		return;
	}
	const struct config *c = &m->d->cfg;
	/* Interface names are at most 15 bytes (IFNAMSIZ - 1). */
	if (strlen(c->dial.ifname_prefix) + strlen(m->name) > 15) {
		modem_set_state(m, MODEM_NO_APN, "interface name %s%s longer than 15 characters",
				c->dial.ifname_prefix, m->name);
		return;
	}
	snprintf(m->ifname, sizeof(m->ifname), "%.15s%.15s", c->dial.ifname_prefix, m->name);
	struct pppd_params pp = {
	    .name = m->name,
	    .ifname = m->ifname,
	    .tty = m->ppp_port,
	    .run_dir = c->run_dir,
	    .apn = &m->apn,
	    .dial = &c->dial,
	};
	int err = 0;
	m->pppd = pppd_start(m->d->loop, &pp, pppd_exited, m, &err);
	if (!m->pppd) {
		m->ifname[0] = 0;
		modem_fail(m, "cannot start pppd: %s", strerror(-err));
		return;
	}
	if (!m->pppd_started_ms)
		m->pppd_started_ms = now_ms();
	modem_set_state(m, MODEM_DIALING, "pppd %d on %s, %s %s", (int)pppd_pid(m->pppd),
			m->ppp_port, m->apn.number, m->apn.apn);
	modem_timer(m, c->dial.connect_timeout_ms, dial_timeout);
}

void modem_dial(struct modem *m)
{
	if (m->apn.kind == APN_DIAL_CDMA) {
		/* CDMA/EVDO dials #777 with no PDP context. */
		struct at_response ok = {.result = AT_RES_OK, .err = -1, .final = "OK"};
		pdp_set(m->at, &ok, m);
		return;
	}
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "AT+CGDCONT=1,\"IP\",\"%s\"", m->apn.apn);
	modem_set_state(m, MODEM_DIALING, "setting PDP context %s", m->apn.apn);
	if (at_send(m->at, cmd, m->d->cfg.dial.at_timeout_ms, pdp_set, m) < 0)
		modem_fail(m, "cannot queue AT+CGDCONT");
}

void modem_netlink_event(struct daemon *d, const char *ifname, int ifindex, bool up,
			 const char *local, const char *remote)
{
	for (struct modem *m = d->modems; m; m = m->next) {
		if (!*m->ifname || strcmp(m->ifname, ifname) != 0)
			continue;
		if (up && *local && m->state == MODEM_DIALING) {
			timer_cancel(m);
			m->ifindex = ifindex;
			snprintf(m->local_addr, sizeof(m->local_addr), "%s", local);
			snprintf(m->remote_addr, sizeof(m->remote_addr), "%s",
				 remote ? remote : "");
			m->connected_since_ms = now_ms();
			if (!m->link_up_ms)
				m->link_up_ms = m->connected_since_ms;
			else
				m->redials++;
			m->failures = 0;
			modem_set_state(m, MODEM_CONNECTED, "%s %s", ifname, local);
			struct link_info li;
			link_info_fill(m, &li, NULL);
			daemon_link_publish(d, LINK_EV_UP, &li);
			modem_refresh_start(m);
		} else if (up && *local && m->state == MODEM_CONNECTED &&
			   strcmp(local, m->local_addr) != 0) {
			/* Address changed under a live link: republish. */
			link_went_down(m, "address changed");
			snprintf(m->local_addr, sizeof(m->local_addr), "%s", local);
			snprintf(m->remote_addr, sizeof(m->remote_addr), "%s",
				 remote ? remote : "");
			m->ifindex = ifindex;
			m->connected_since_ms = now_ms();
			struct link_info li;
			link_info_fill(m, &li, NULL);
			daemon_link_publish(d, LINK_EV_UP, &li);
		} else if (!up && m->state == MODEM_CONNECTED) {
			/* pppd's exit will follow and carry the reason. */
			link_went_down(m, "interface went down");
		}
	}
}

/* pppd (if any) has stopped: settle into the administrative state. */
static void after_stop(struct modem *m)
{
	if (m->d->stopping) {
		modem_set_state(m, MODEM_DOWN, "modemd stopping");
		shutdown_check(m->d);
		return;
	}
	if (!m->admin_up) {
		modem_set_state(m, MODEM_DOWN, "administratively down");
		/* Release the port so other tools may use it while we are down. */
		m->at = at_close(m->at);
		return;
	}
	modem_probe_start(m);
}

/* Stop whatever the modem is doing; pppd exit completes asynchronously. */
static void modem_stop(struct modem *m, const char *why)
{
	timer_cancel(m);
	loop_timer_disarm(m->refresh);
	if (m->at)
		at_cancel_all(m->at);
	if (m->pppd && pppd_running(m->pppd)) {
		modem_set_state(m, MODEM_HANGUP, "%s", why);
		pppd_stop(m->pppd);
		return;
	}
	after_stop(m);
}

int modem_set_admin(struct modem *m, bool up)
{
	if (m->admin_up == up)
		return 0;
	m->admin_up = up;
	modem_remember(m);
	log_info("%s: administratively %s", m->name, up ? "up" : "down");
	if (up) {
		if (m->state == MODEM_DOWN)
			modem_probe_start(m);
		return 0;
	}
	modem_stop(m, "administratively down");
	return 0;
}

static void modem_free(struct modem *m)
{
	m->pppd = pppd_free(m->pppd);
	m->at = at_close(m->at);
	m->timer = loop_timer_free(m->timer);
	m->refresh = loop_timer_free(m->refresh);
	free(m);
}

void modem_remove(struct modem *m, const char *why)
{
	if (!m)
		return;
	log_info("%s: removed (%s)", m->name, why);
	link_went_down(m, why);
	for (struct modem **pp = &m->d->modems; *pp; pp = &(*pp)->next)
		if (*pp == m) {
			*pp = m->next;
			break;
		}
	/* pppd_free kills a still-running pppd hard: its port is gone anyway. */
	modem_free(m);
}

struct modem *modem_find(struct daemon *d, const char *name_or_id)
{
	for (struct modem *m = d->modems; m; m = m->next)
		if (strcmp(m->name, name_or_id) == 0 ||
		    (*m->id && strcmp(m->id, name_or_id) == 0) ||
		    (*m->ident.imei && strcmp(m->ident.imei, name_or_id) == 0))
			return m;
	return NULL;
}

struct modem *modem_find_usb(struct daemon *d, const char *usb_path)
{
	for (struct modem *m = d->modems; m; m = m->next)
		if (*m->usb_path && strcmp(m->usb_path, usb_path) == 0)
			return m;
	return NULL;
}

static bool name_taken(struct daemon *d, const char *name)
{
	return modem_find(d, name) != NULL;
}

struct modem *modem_new(struct daemon *d, const char *name, const char *at_port,
			const char *ppp_port, const char *usb_path, const char *reset_cmd,
			bool is_static)
{
	struct modem *m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->d = d;
	m->timer = loop_timer_new(d->loop, timer_fired, m);
	m->refresh = loop_timer_new(d->loop, modem_refresh_fired, m);
	if (!m->timer || !m->refresh) {
		modem_free(m);
		return NULL;
	}
	m->is_static = is_static;
	snprintf(m->at_port, sizeof(m->at_port), "%s", at_port);
	snprintf(m->ppp_port, sizeof(m->ppp_port), "%s", ppp_port);
	snprintf(m->usb_path, sizeof(m->usb_path), "%s", usb_path ? usb_path : "");
	snprintf(m->reset_cmd, sizeof(m->reset_cmd), "%s", reset_cmd ? reset_cmd : "");
	snprintf(m->id, sizeof(m->id), "%s", is_static ? name : m->usb_path);
	m->admin_up = true;
	m->act = -1;
	m->reg = (struct at_reg){.stat = AT_REG_UNKNOWN, .act = -1};
	m->sim = AT_SIM_UNKNOWN;
	m->appeared_ms = m->state_since_ms = now_ms();
	m->state = MODEM_PROBING;

	const struct remembered *r = daemon_recall(d, is_static ? name : m->usb_path);
	if (name)
		snprintf(m->name, sizeof(m->name), "%s", name);
	else if (r && !name_taken(d, r->name))
		snprintf(m->name, sizeof(m->name), "%s", r->name);
	else
		daemon_next_name(d, m->name, sizeof(m->name));
	if (r)
		m->admin_up = r->admin_up;

	/* Append: status lists modems in the order they appeared. */
	struct modem **tail = &d->modems;
	while (*tail)
		tail = &(*tail)->next;
	*tail = m;
	log_info("%s: new modem (AT %s, PPP %s%s%s)", m->name, at_port, ppp_port,
		 *m->usb_path ? ", usb " : "", m->usb_path);
	modem_remember(m);
	if (!m->admin_up) {
		modem_set_state(m, MODEM_DOWN, "administratively down (remembered)");
		return m;
	}
	modem_probe_start(m);
	return m;
}

void modem_remember(struct modem *m)
{
	daemon_remember(m->d, m->is_static ? m->name : m->usb_path, m->name, m->admin_up);
	if (*m->ident.imei)
		daemon_remember(m->d, m->ident.imei, m->name, m->admin_up);
}

static void shutdown_check(struct daemon *d)
{
	if (!d->stopping || !d->shutdown_done)
		return;
	for (struct modem *m = d->modems; m; m = m->next)
		if (m->pppd && pppd_running(m->pppd))
			return;
	void (*fn)(struct daemon *) = d->shutdown_done;
	d->shutdown_done = NULL;
	fn(d);
}

void modem_shutdown_all(struct daemon *d, void (*done)(struct daemon *d))
{
	d->stopping = true;
	d->shutdown_done = done;
	for (struct modem *m = d->modems; m; m = m->next)
		modem_stop(m, "modemd stopping");
	/* Done now if no pppd was running; else when the last one exits. */
	shutdown_check(d);
}
