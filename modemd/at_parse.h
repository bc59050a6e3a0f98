/* AT line assembly and classification: pure functions, no I/O, so the
 * channel (at.c) and the fuzzer (tests/fuzz/fuzz_at.c) run the same code.
 *
 * The assembler takes arbitrary byte chunks (split anywhere), ends lines at
 * CR or LF (so CRLF, LFCR and blank lines give no empty lines), drops NUL,
 * control and non-ASCII bytes, and discards lines longer than AT_LINE_MAX. */
#pragma once
#include "at.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AT_LINE_MAX 512 /* longest line kept; longer ones are discarded */

struct at_lines {
	char buf[AT_LINE_MAX + 1];
	size_t len;
	bool overlong;		  /* discarding until the next line end */
	unsigned long n_overlong; /* lines discarded for length */
	unsigned long n_dropped;  /* non-printable bytes dropped */
};

void at_lines_init(struct at_lines *a);
/* Consume bytes from buf until one line completes or buf is used up. Returns
 * the number of bytes consumed; *line is the completed line (NUL-terminated,
 * trimmed of surrounding spaces, never empty, valid until the next call) or
 * NULL. Call again with the rest of buf until it returns 0 and *line is NULL.
 * A pull interface, so a caller whose callback frees it can stop in between. */
size_t at_lines_push(struct at_lines *a, const void *buf, size_t n, const char **line);

enum at_line_kind {
	AT_LINE_FINAL, /* final result code: the pending command is done */
	AT_LINE_ECHO,  /* the pending command echoed back (ATE1) */
	AT_LINE_INFO,  /* information line belonging to the pending command */
	AT_LINE_URC,   /* unsolicited result code */
};

/* Parse a final result code. Returns true for OK, ERROR, +CME ERROR: n|text,
 * +CMS ERROR: n, NO CARRIER, BUSY, NO ANSWER, NO DIALTONE, CONNECT [rate];
 * *err is the CME/CMS number (verbose CME texts mapped, unknown -> -1) or -1. */
bool at_parse_final(const char *line, enum at_result *res, int *err);
/* Classify one assembled line. pending is the command in flight (as sent,
 * without "\r") or NULL. Final codes are AT_LINE_FINAL even with nothing
 * pending; the caller decides what a stray one means. */
enum at_line_kind at_classify(const char *line, const char *pending, enum at_result *res, int *err);
/* Rate of "CONNECT 150000000" in bit/s, 0 when absent, -1 when not CONNECT. */
long long at_connect_rate(const char *line);
/* +CME ERROR verbose text ("SIM not inserted") to its number, or -1. */
int at_cme_from_string(const char *text);
/* Copy line to out for logging with secrets masked: the PIN/PUK arguments of
 * AT+CPIN=, and the passwords of AT+CLCK= and AT+CPWD= become "****". */
void at_redact(const char *line, char *out, size_t len);
const char *at_line_kind_to_string(enum at_line_kind k);
