/* Shared between modem.c (lifecycle, dialing) and modem_probe.c (the AT
 * conversation). Not for other subsystems. */
#pragma once
#include "modem.h"

/* The one place state changes: logs "m0: probing -> registering (reason)". */
void modem_set_state(struct modem *m, enum modem_state s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A dial attempt failed: count it, then back off or reset the module. */
void modem_fail(struct modem *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Probe finished, registered, APN known: set the PDP context and start pppd. */
void modem_dial(struct modem *m);
/* (Re)open the AT port if needed and run the probe from the start. */
void modem_probe_start(struct modem *m);
/* While connected: refresh signal and registration. */
void modem_refresh_start(struct modem *m);
/* Ports gone: poll until both are back, then probe again. */
void modem_port_poll(struct modem *m);
void modem_refresh_fired(struct loop_timer *t, void *data);
void modem_urc(struct at_chan *ch, const char *line, void *data);
/* Arm m->timer for ms; fn runs on expiry (replaces any previous use). */
void modem_timer(struct modem *m, uint64_t ms, void (*fn)(struct modem *m));
/* Remembered per-modem facts (name, admin state) across replug and restart. */
void modem_remember(struct modem *m);
