/* AT command channel on one serial port (libserialport, non-blocking, inside
 * the event loop). Commands are queued and sent one at a time, each with a
 * timeout; lines that are not part of the pending command's reply (URCs:
 * RDY, +CPIN:, SMS DONE, PB DONE, +CREG/+CGREG/+CEREG, ...) go to urc_cb. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

struct loop;
struct at_chan;

enum at_result {
	AT_RES_OK,
	AT_RES_ERROR,
	AT_RES_CME_ERROR, /* code in at_response.err */
	AT_RES_CMS_ERROR,
	AT_RES_NO_CARRIER,
	AT_RES_BUSY,
	AT_RES_NO_ANSWER,
	AT_RES_NO_DIALTONE,
	AT_RES_CONNECT,
	AT_RES_TIMEOUT,	  /* no final result code in time */
	AT_RES_CANCELLED, /* channel closed or at_cancel_all() */
};

#define AT_MAX_LINES 16

struct at_response {
	enum at_result result;
	int err;			 /* +CME/+CMS error number, or -1 */
	const char *final;		 /* the final line as received ("" on timeout) */
	const char *lines[AT_MAX_LINES]; /* intermediate (information) lines */
	size_t n_lines;
};

typedef void (*at_done_cb)(struct at_chan *ch, const struct at_response *r, void *data);
typedef void (*at_urc_cb)(struct at_chan *ch, const char *line, void *data);
/* The port failed (read error, EOF, unplugged). err is negative errno. The
 * channel is unusable after this; the owner must at_close() it. Pending
 * commands have already completed with AT_RES_CANCELLED when this runs. */
typedef void (*at_dead_cb)(struct at_chan *ch, int err, void *data);

/* Open path at baud (0: 115200), raw 8N1, no flow control. Returns NULL and *err. */
struct at_chan *at_open(struct loop *l, const char *path, unsigned baud, at_urc_cb urc,
			at_dead_cb dead, void *data, int *err);
/* Cancel pending commands (their callbacks are NOT called) and close. NULL-safe. */
struct at_chan *at_close(struct at_chan *ch);
/* Queue cmd (without "\r"); done is called exactly once unless the channel is
 * closed first (done may be NULL). Returns 0 or -errno (-ENOSPC: queue of 32
 * full; -EINVAL: empty, over 512 bytes, control characters, timeout 0;
 * -ENOTCONN: the port is dead). Every callback may call at_close(). */
int at_send(struct at_chan *ch, const char *cmd, unsigned timeout_ms, at_done_cb done, void *data);
/* Drop queued and in-flight commands; their callbacks get AT_RES_CANCELLED. */
void at_cancel_all(struct at_chan *ch);
const char *at_chan_path(const struct at_chan *ch);
const char *at_result_to_string(enum at_result r);
/* Human text for a +CME ERROR number ("SIM not inserted"), or NULL. */
const char *at_cme_to_string(int err);
