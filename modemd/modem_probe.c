/* The AT conversation before dialing: init, identity, SIM and PIN, IMSI ->
 * APN, registration wait; and the signal/registration refresh while
 * connected. Every step is one queued AT command whose reply handler decides
 * the next step, so a modem that stops answering only ever costs itself a
 * timeout. */
#include "modem-internal.h"

#include <errno.h>
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

enum step {
	STEP_AT,
	STEP_ECHO_OFF,
	STEP_CMEE,
	STEP_CGMI,
	STEP_CGMM,
	STEP_CGMR,
	STEP_CGSN,
	STEP_ICCID,
	STEP_QCCID,
	STEP_CPIN,
	STEP_CIMI,
	STEP_CREG_URC,
	STEP_CGREG_URC,
	STEP_CEREG_URC,
	STEP_COPS_FMT,
	STEP_REG_POLL, /* CEREG?, CGREG?, CREG? until registered */
	STEP_COPS,
	STEP_CSQ,
	STEP_CPSI,
	STEP_DIAL,
};

/* Command for each step; NULL means the step does not send one by itself. */
static const struct {
	const char *cmd;
	bool optional; /* an error reply is not a failure */
} steps[] = {
    [STEP_AT] = {"AT", false},
    [STEP_ECHO_OFF] = {"ATE0", false},
    [STEP_CMEE] = {"AT+CMEE=1", true},
    [STEP_CGMI] = {"AT+CGMI", true},
    [STEP_CGMM] = {"AT+CGMM", true},
    [STEP_CGMR] = {"AT+CGMR", true},
    [STEP_CGSN] = {"AT+CGSN", true},
    [STEP_ICCID] = {"AT+CICCID", true},
    [STEP_QCCID] = {"AT+QCCID", true},
    [STEP_CPIN] = {"AT+CPIN?", false},
    [STEP_CIMI] = {"AT+CIMI", false},
    [STEP_CREG_URC] = {"AT+CREG=2", true},
    [STEP_CGREG_URC] = {"AT+CGREG=2", true},
    [STEP_CEREG_URC] = {"AT+CEREG=2", true},
    [STEP_COPS_FMT] = {"AT+COPS=3,2", true},
    [STEP_REG_POLL] = {NULL, true},
    [STEP_COPS] = {"AT+COPS?", true},
    [STEP_CSQ] = {"AT+CSQ", true},
    [STEP_CPSI] = {"AT+CPSI?", true},
    [STEP_DIAL] = {NULL, false},
};

/* A booting module ignores AT until RDY: ask every second, for ~40 s
 * (SIM7100 boots in ~15 s; RDY cuts the wait short, see modem_urc). */
#define BOOT_TRIES	   40
#define BOOT_AT_TIMEOUT_MS 1000
#define SIM_BUSY_TRIES	   10

static void run_step(struct modem *m);
static void reg_poll(struct modem *m);

static void next(struct modem *m)
{
	m->probe_step++;
	run_step(m);
}

static const char *first_line(const struct at_response *r)
{
	return r->n_lines ? r->lines[0] : "";
}

/* Strip "+CGMR: " / "Revision: " style prefixes for display. */
static void copy_value(char *dst, size_t len, const char *line)
{
	const char *p = strchr(line, ':');
	if (p && (line[0] == '+' || strncmp(line, "Revision", 8) == 0))
		line = p + 1;
	while (*line == ' ')
		line++;
	snprintf(dst, len, "%s", line);
}

static void sim_recheck(struct modem *m)
{
	m->probe_step = STEP_CPIN;
	run_step(m);
}

static void pin_sent(struct at_chan *ch, const struct at_response *r, void *data)
{
	struct modem *m = data;
	if (r->result == AT_RES_CANCELLED)
		return;
	if (r->result == AT_RES_OK) {
		log_info("%s: SIM PIN accepted", m->name);
		/* The SIM needs a moment; +CPIN: READY may also arrive as a URC. */
		modem_timer(m, 1000, sim_recheck);
		return;
	}
	/* Never try the same wrong PIN again: three tries lock the SIM (PUK). */
	daemon_mark_bad_pin(m->d, m->ident.iccid);
	modem_set_state(m, MODEM_SIM_LOCKED,
			"SIM PIN from config rejected (%s); not retrying, fix the PIN for ICCID %s",
			r->err >= 0 && at_cme_to_string(r->err) ? at_cme_to_string(r->err)
								: at_result_to_string(r->result),
			m->ident.iccid);
}

static void handle_cpin(struct modem *m, const struct at_response *r)
{
	if (r->result == AT_RES_CME_ERROR && r->err == 14 && m->probe_retries++ < SIM_BUSY_TRIES) {
		modem_timer(m, 1000, sim_recheck); /* SIM busy: still booting */
		return;
	}
	if (r->result == AT_RES_CME_ERROR && (r->err == 10 || r->err == 13)) {
		m->sim = AT_SIM_NOT_INSERTED;
		modem_set_state(m, MODEM_SIM_LOCKED, "SIM not inserted or failed (+CME ERROR: %d)",
				r->err);
		modem_timer(m, 30000, sim_recheck);
		return;
	}
	enum at_sim_state st = AT_SIM_UNKNOWN;
	if (r->result != AT_RES_OK || at_parse_cpin(first_line(r), &st) < 0) {
		modem_fail(m, "cannot read SIM state (AT+CPIN?: %s)",
			   at_result_to_string(r->result));
		return;
	}
	m->sim = st;
	switch (st) {
	case AT_SIM_READY:
		next(m);
		return;
	case AT_SIM_PIN: {
		const struct cfg_sim *s = config_find_sim(&m->d->cfg, m->ident.iccid);
		if (!s || !*s->pin) {
			modem_set_state(m, MODEM_SIM_LOCKED,
					"SIM PIN required; no PIN configured for ICCID %s",
					*m->ident.iccid ? m->ident.iccid : "(unknown)");
			return;
		}
		if (m->pin_tried || daemon_bad_pin(m->d, m->ident.iccid)) {
			modem_set_state(
			    m, MODEM_SIM_LOCKED,
			    "SIM PIN required; configured PIN was rejected before, not retrying");
			return;
		}
		m->pin_tried = true;
		char cmd[48];
		snprintf(cmd, sizeof(cmd), "AT+CPIN=\"%s\"", s->pin);
		if (at_send(m->at, cmd, m->d->cfg.dial.at_timeout_ms, pin_sent, m) < 0)
			modem_fail(m, "cannot queue AT+CPIN");
		return;
	}
	case AT_SIM_PUK:
	case AT_SIM_PUK2:
		modem_set_state(m, MODEM_SIM_LOCKED, "SIM locked: PUK required");
		return;
	case AT_SIM_NOT_INSERTED:
		modem_set_state(m, MODEM_SIM_LOCKED, "SIM not inserted");
		modem_timer(m, 30000, sim_recheck);
		return;
	case AT_SIM_PIN2:
	case AT_SIM_PH_NET:
	case AT_SIM_UNKNOWN:
		modem_set_state(m, MODEM_SIM_LOCKED, "SIM locked (%s)", at_sim_state_to_string(st));
		return;
	}
}

static void handle_cimi(struct modem *m, const struct at_response *r)
{
	if (r->result != AT_RES_OK ||
	    at_parse_digits(first_line(r), m->ident.imsi, sizeof(m->ident.imsi)) < 0) {
		modem_fail(m, "cannot read IMSI (AT+CIMI: %s)", at_result_to_string(r->result));
		return;
	}
	char why[160] = "";
	struct apn_profile p;
	int err = apn_resolve(&m->d->cfg, m->d->dbs, m->d->n_dbs, m->ident.iccid, m->ident.imsi,
			      NULL, &p, why, sizeof(why));
	apn_plmn_from_imsi(m->ident.imsi, m->plmn, sizeof(m->plmn));
	if (err < 0) {
		m->have_apn = false;
		snprintf(m->apn_why, sizeof(m->apn_why), "%s", why);
		modem_set_state(m, MODEM_NO_APN, "%s", *why ? why : "no APN profile");
		return;
	}
	m->apn = p;
	m->have_apn = true;
	if (*p.plmn)
		snprintf(m->plmn, sizeof(m->plmn), "%s", p.plmn);
	snprintf(m->apn_why, sizeof(m->apn_why), "%s", p.source);
	log_info("%s: IMSI PLMN %s -> APN \"%s\" number %s (%s)", m->name, m->plmn, p.apn, p.number,
		 p.source);
	next(m);
}

/* Registration from the three queries; the best one wins. */
static bool reg_registered(const struct at_reg *r)
{
	return r->stat == AT_REG_HOME || r->stat == AT_REG_ROAMING;
}

static void note_reg(struct modem *m, const struct at_reg *r)
{
	/* Keep the best: registered beats denied beats searching. */
	if (reg_registered(r) || !reg_registered(&m->reg))
		m->reg = *r;
	if (r->act >= 0)
		m->act = r->act;
}

static void reg_reply(struct at_chan *ch, const struct at_response *r, void *data)
{
	struct modem *m = data;
	if (r->result == AT_RES_CANCELLED)
		return;
	if (r->result == AT_RES_TIMEOUT) {
		modem_fail(m, "modem not answering (timeout on registration query)");
		return;
	}
	struct at_reg reg;
	if (r->result == AT_RES_OK && at_parse_reg(first_line(r), 1, &reg) == 0)
		note_reg(m, &reg);
	if (--m->reg_pending > 0)
		return;
	/* All three answered. */
	if (reg_registered(&m->reg)) {
		log_info("%s: registered (%s)", m->name, at_reg_state_to_string(m->reg.stat));
		m->probe_step = STEP_COPS;
		run_step(m);
		return;
	}
	if (m->reg.stat == AT_REG_DENIED) {
		modem_fail(m, "registration denied by the network");
		return;
	}
	if (now_ms() >= m->deadline_ms) {
		modem_fail(m, "not registered after %u s (%s)",
			   m->d->cfg.dial.registration_timeout_ms / 1000,
			   at_reg_state_to_string(m->reg.stat));
		return;
	}
	modem_timer(m, 2000, reg_poll);
}

static void reg_poll(struct modem *m)
{
	static const char *const q[] = {"AT+CEREG?", "AT+CGREG?", "AT+CREG?"};
	m->reg = (struct at_reg){.stat = AT_REG_UNKNOWN, .act = -1};
	m->reg_pending = 3;
	for (size_t i = 0; i < ARRAY_SIZE(q); i++)
		if (at_send(m->at, q[i], m->d->cfg.dial.at_timeout_ms, reg_reply, m) < 0) {
			modem_fail(m, "cannot queue %s", q[i]);
			return;
		}
}

static void step_reply(struct at_chan *ch, const struct at_response *r, void *data)
{
	struct modem *m = data;
	if (r->result == AT_RES_CANCELLED)
		return;
	enum step s = (enum step)m->probe_step;

	if (s == STEP_AT && r->result == AT_RES_TIMEOUT) {
		if (m->probe_retries++ < BOOT_TRIES) {
			run_step(m);
			return;
		}
		modem_fail(m, "modem not answering AT on %s", m->at_port);
		return;
	}
	if (r->result == AT_RES_TIMEOUT) {
		modem_fail(m, "modem not answering (timeout on %s)", steps[s].cmd);
		return;
	}
	if (s == STEP_CPIN) {
		handle_cpin(m, r);
		return;
	}
	if (s == STEP_CIMI) {
		handle_cimi(m, r);
		return;
	}
	if (r->result != AT_RES_OK && !steps[s].optional) {
		modem_fail(m, "%s failed: %s", steps[s].cmd, at_result_to_string(r->result));
		return;
	}
	if (r->result == AT_RES_OK) {
		const char *l = first_line(r);
		switch (s) {
		case STEP_AT:
			m->probe_retries = 0;
			break;
		case STEP_CGMI:
			copy_value(m->ident.manufacturer, sizeof(m->ident.manufacturer), l);
			break;
		case STEP_CGMM:
			copy_value(m->ident.model, sizeof(m->ident.model), l);
			break;
		case STEP_CGMR:
			copy_value(m->ident.revision, sizeof(m->ident.revision), l);
			break;
		case STEP_CGSN:
			if (at_parse_digits(l, m->ident.imei, sizeof(m->ident.imei)) == 0) {
				/* IMEI is the stable identity; a remembered name follows it. */
				if (!m->is_static) {
					snprintf(m->id, sizeof(m->id), "%s", m->ident.imei);
					daemon_adopt_name(m->d, m, m->ident.imei);
				}
				modem_remember(m);
			}
			break;
		case STEP_ICCID:
		case STEP_QCCID:
			at_parse_iccid(l, m->ident.iccid, sizeof(m->ident.iccid));
			break;
		case STEP_COPS:
			at_parse_cops(l, m->operator_name, sizeof(m->operator_name), &m->act);
			break;
		case STEP_CSQ:
			at_parse_csq(l, &m->signal);
			break;
		case STEP_CPSI:
			at_parse_cpsi(l, &m->signal);
			break;
		default:
			break;
		}
	}
	if (s == STEP_ICCID && *m->ident.iccid)
		m->probe_step++; /* skip the Quectel spelling */
	next(m);
}

static void run_step(struct modem *m)
{
	enum step s = (enum step)m->probe_step;
	unsigned timeout = m->d->cfg.dial.at_timeout_ms;
	if (s == STEP_AT && timeout > BOOT_AT_TIMEOUT_MS)
		timeout = BOOT_AT_TIMEOUT_MS;
	if (s == STEP_REG_POLL) {
		modem_set_state(m, MODEM_REGISTERING, "waiting for network registration");
		m->deadline_ms = now_ms() + m->d->cfg.dial.registration_timeout_ms;
		reg_poll(m);
		return;
	}
	if (s == STEP_DIAL) {
		modem_dial(m);
		return;
	}
	if (at_send(m->at, steps[s].cmd, timeout, step_reply, m) < 0)
		modem_fail(m, "cannot queue %s", steps[s].cmd);
}

/* The AT port failed (unplugged, module reset): drop everything that used
 * it and wait for it to return. udev modems are removed by udev instead. */
static void at_dead(struct at_chan *ch, int err, void *data)
{
	struct modem *m = data;
	m->at = at_close(m->at);
	if (m->pppd && pppd_running(m->pppd))
		pppd_stop(m->pppd);
	if (m->state == MODEM_RESETTING)
		log_info("%s: ports gone while the module resets", m->name);
	else
		modem_set_state(m, MODEM_GONE, "AT port %s vanished (%s)", m->at_port,
				strerror(-err));
	modem_timer(m, 1000, modem_port_poll);
}

void modem_port_poll(struct modem *m)
{
	if (m->pppd && pppd_running(m->pppd)) {
		modem_timer(m, 500, modem_port_poll);
		return;
	}
	if (access(m->at_port, R_OK | W_OK) < 0 || access(m->ppp_port, R_OK | W_OK) < 0) {
		modem_timer(m, 1000, modem_port_poll);
		return;
	}
	log_info("%s: ports are back", m->name);
	if (!m->admin_up) {
		modem_set_state(m, MODEM_DOWN, "administratively down");
		return;
	}
	modem_probe_start(m);
}

void modem_probe_start(struct modem *m)
{
	loop_timer_disarm(m->refresh);
	if (!m->at) {
		int err = 0;
		m->at = at_open(m->d->loop, m->at_port, m->d->cfg.dial.baud, modem_urc, at_dead, m,
				&err);
		if (!m->at) {
			modem_set_state(m, MODEM_GONE, "cannot open AT port %s: %s", m->at_port,
					strerror(-err));
			modem_timer(m, 1000, modem_port_poll);
			return;
		}
	}
	m->probe_step = STEP_AT;
	m->probe_retries = 0;
	modem_set_state(m, MODEM_PROBING, "talking AT on %s", m->at_port);
	run_step(m);
}

static void refresh_reply(struct at_chan *ch, const struct at_response *r, void *data)
{
	struct modem *m = data;
	if (r->result != AT_RES_OK || !r->n_lines)
		return;
	const char *l = r->lines[0];
	struct at_reg reg;
	if (strncmp(l, "+CSQ:", 5) == 0)
		at_parse_csq(l, &m->signal);
	else if (strncmp(l, "+CPSI:", 6) == 0)
		at_parse_cpsi(l, &m->signal);
	else if (at_parse_reg(l, 1, &reg) == 0)
		note_reg(m, &reg);
}

void modem_refresh_fired(struct loop_timer *t, void *data)
{
	struct modem *m = data;
	if (m->state != MODEM_CONNECTED || !m->at)
		return;
	unsigned to = m->d->cfg.dial.at_timeout_ms;
	at_send(m->at, "AT+CSQ", to, refresh_reply, m);
	at_send(m->at, "AT+CPSI?", to, refresh_reply, m);
	at_send(m->at, "AT+CEREG?", to, refresh_reply, m);
	loop_timer_arm(m->refresh, m->d->cfg.dial.signal_refresh_ms);
}

void modem_refresh_start(struct modem *m)
{
	if (m->d->cfg.dial.signal_refresh_ms)
		loop_timer_arm(m->refresh, m->d->cfg.dial.signal_refresh_ms);
}

void modem_urc(struct at_chan *ch, const char *line, void *data)
{
	struct modem *m = data;
	struct at_reg reg;
	enum at_sim_state st;
	if (at_parse_reg(line, 0, &reg) == 0) {
		log_debug("%s: registration now %s", m->name, at_reg_state_to_string(reg.stat));
		if (m->state == MODEM_CONNECTED)
			note_reg(m, &reg);
	} else if (at_parse_cpin(line, &st) == 0) {
		/* A SIM that became ready while we wait for it: go on at once. */
		if (st == AT_SIM_READY && m->timer_fn == sim_recheck)
			sim_recheck(m);
	} else if (strcmp(line, "RDY") == 0 && m->state == MODEM_PROBING &&
		   m->probe_step == STEP_AT && m->probe_retries > 0) {
		/* The module just finished booting: ask again now rather than
		 * after the unanswered AT times out. */
		log_debug("%s: module ready", m->name);
		at_cancel_all(m->at);
		run_step(m);
	} else {
		log_debug("%s: URC %s", m->name, line);
	}
}
