/* AT channel over a real pty pair: the test plays the modem on the master
 * side and pumps the event loop until the expected callbacks arrive. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "at.h"
#include "log.h"
#include "loop.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

enum { CLOSE_NONE, CLOSE_IN_DONE, CLOSE_IN_URC, CLOSE_IN_DEAD };

struct done_rec {
	int id;
	enum at_result res;
	int err;
	char final[128];
	char lines[4][128];
	size_t n_lines;
	int seq;
};

struct fx;
struct tag {
	struct fx *fx;
	int id;
};

struct fx {
	struct loop *l;
	int master;
	char slave[128];
	struct at_chan *ch;
	struct tag tags[40];
	struct done_rec done[40];
	size_t n_done;
	char urcs[8][128];
	size_t n_urc;
	int dead_err, dead_seq, n_dead;
	int seq;
	int close_when;
	char mbuf[4096]; /* bytes read from the master, not yet returned */
	size_t mlen;
};

static void on_done(struct at_chan *ch, const struct at_response *r, void *data)
{
	const struct tag *t = data;
	struct fx *fx = t->fx;
	struct done_rec *d = &fx->done[fx->n_done++];

	d->id = t->id;
	d->res = r->result;
	d->err = r->err;
	d->seq = fx->seq++;
	snprintf(d->final, sizeof(d->final), "%s", r->final);
	d->n_lines = r->n_lines;
	for (size_t i = 0; i < r->n_lines && i < 4; i++)
		snprintf(d->lines[i], sizeof(d->lines[i]), "%s", r->lines[i]);
	if (fx->close_when == CLOSE_IN_DONE)
		fx->ch = at_close(ch);
}

static void on_urc(struct at_chan *ch, const char *line, void *data)
{
	struct fx *fx = data;

	assert_true(fx->n_urc < 8);
	snprintf(fx->urcs[fx->n_urc++], sizeof(fx->urcs[0]), "%s", line);
	if (fx->close_when == CLOSE_IN_URC)
		fx->ch = at_close(ch);
}

static void on_dead(struct at_chan *ch, int err, void *data)
{
	struct fx *fx = data;

	fx->n_dead++;
	fx->dead_err = err;
	fx->dead_seq = fx->seq++;
	if (fx->close_when == CLOSE_IN_DEAD)
		fx->ch = at_close(ch);
}

static int setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	int err = 0;

	assert_non_null(fx);
	fx->l = loop_new();
	fx->master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	assert_true(fx->master >= 0);
	assert_int_equal(grantpt(fx->master), 0);
	assert_int_equal(unlockpt(fx->master), 0);
	assert_int_equal(ptsname_r(fx->master, fx->slave, sizeof(fx->slave)), 0);
	fx->ch = at_open(fx->l, fx->slave, 115200, on_urc, on_dead, fx, &err);
	assert_non_null(fx->ch);
	for (int i = 0; i < 40; i++) {
		fx->tags[i].fx = fx;
		fx->tags[i].id = i;
	}
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;

	at_close(fx->ch);
	if (fx->master >= 0)
		close(fx->master);
	loop_free(fx->l);
	free(fx);
	return 0;
}

static int send(struct fx *fx, const char *cmd, unsigned timeout_ms, int id)
{
	return at_send(fx->ch, cmd, timeout_ms, on_done, &fx->tags[id]);
}

/* Pump the loop until cond holds; fail after 3 s. */
#define PUMP_UNTIL(fx, cond)                                                                       \
	do {                                                                                       \
		uint64_t deadline_ = now_ms() + 3000;                                              \
		while (!(cond) && now_ms() < deadline_)                                            \
			loop_iterate((fx)->l, 50);                                                 \
		assert_true(cond);                                                                 \
	} while (0)

/* The next command the channel wrote, up to and including its "\r". */
static void expect_cmd(struct fx *fx, const char *want)
{
	uint64_t deadline = now_ms() + 3000;
	char *cr;

	while (!(cr = memchr(fx->mbuf, '\r', fx->mlen)) && now_ms() < deadline) {
		struct pollfd p = {.fd = fx->master, .events = POLLIN};
		if (poll(&p, 1, 100) == 1) {
			ssize_t n =
			    read(fx->master, fx->mbuf + fx->mlen, sizeof(fx->mbuf) - fx->mlen);
			assert_true(n > 0);
			fx->mlen += (size_t)n;
		}
	}
	assert_non_null(cr);
	size_t len = (size_t)(cr - fx->mbuf) + 1;
	char got[512];
	snprintf(got, sizeof(got), "%.*s", (int)len, fx->mbuf);
	assert_string_equal(got, want);
	memmove(fx->mbuf, fx->mbuf + len, fx->mlen - len);
	fx->mlen -= len;
}

/* Nothing more was written: at_send writes at once, so no waiting needed. */
static void expect_no_cmd(struct fx *fx)
{
	struct pollfd p = {.fd = fx->master, .events = POLLIN};

	assert_int_equal(fx->mlen, 0);
	assert_int_equal(poll(&p, 1, 0), 0);
}

static void modem_says(struct fx *fx, const char *s)
{
	assert_int_equal(write(fx->master, s, strlen(s)), (ssize_t)strlen(s));
}

static void test_queue_order(void **state)
{
	struct fx *fx = *state;

	assert_int_equal(send(fx, "AT+CGMI", 2000, 0), 0);
	assert_int_equal(send(fx, "AT+CGMM", 2000, 1), 0);
	assert_int_equal(send(fx, "AT+CGSN", 2000, 2), 0);
	expect_cmd(fx, "AT+CGMI\r");
	expect_no_cmd(fx); /* one at a time */
	modem_says(fx, "\r\nSIMCOM INCORPORATED\r\n\r\nOK\r\n");
	PUMP_UNTIL(fx, fx->n_done == 1);
	expect_cmd(fx, "AT+CGMM\r");
	modem_says(fx, "\r\nSIMCOM_SIM7100E\r\n\r\nOK\r\n");
	PUMP_UNTIL(fx, fx->n_done == 2);
	expect_cmd(fx, "AT+CGSN\r");
	modem_says(fx, "\r\n+CME ERROR: 10\r\n");
	PUMP_UNTIL(fx, fx->n_done == 3);

	assert_int_equal(fx->done[0].id, 0);
	assert_int_equal(fx->done[0].res, AT_RES_OK);
	assert_int_equal(fx->done[0].n_lines, 1);
	assert_string_equal(fx->done[0].lines[0], "SIMCOM INCORPORATED");
	assert_string_equal(fx->done[0].final, "OK");
	assert_int_equal(fx->done[1].id, 1);
	assert_string_equal(fx->done[1].lines[0], "SIMCOM_SIM7100E");
	assert_int_equal(fx->done[2].id, 2);
	assert_int_equal(fx->done[2].res, AT_RES_CME_ERROR);
	assert_int_equal(fx->done[2].err, 10);
	assert_int_equal(fx->done[2].n_lines, 0);
	assert_int_equal(fx->n_urc, 0);
}

static void test_timeout_then_next(void **state)
{
	struct fx *fx = *state;

	assert_int_equal(send(fx, "AT+SLOW", 150, 0), 0);
	assert_int_equal(send(fx, "AT", 2000, 1), 0);
	expect_cmd(fx, "AT+SLOW\r");
	PUMP_UNTIL(fx, fx->n_done == 1);
	assert_int_equal(fx->done[0].res, AT_RES_TIMEOUT);
	assert_string_equal(fx->done[0].final, "");
	expect_cmd(fx, "AT\r");
	modem_says(fx, "\r\nOK\r\n");
	PUMP_UNTIL(fx, fx->n_done == 2);
	assert_int_equal(fx->done[1].id, 1);
	assert_int_equal(fx->done[1].res, AT_RES_OK);
}

static void test_urc_while_pending(void **state)
{
	struct fx *fx = *state;

	assert_int_equal(send(fx, "AT+CSQ", 2000, 0), 0);
	expect_cmd(fx, "AT+CSQ\r");
	/* split inside the reply line */
	modem_says(fx, "\r\n+CREG: 1\r\n\r\nRDY\r\n\r\n+CS");
	PUMP_UNTIL(fx, fx->n_urc == 2);
	assert_int_equal(fx->n_done, 0);
	modem_says(fx, "Q: 20,99\r\n\r\nOK\r\n\r\nSMS DONE\r\n");
	PUMP_UNTIL(fx, fx->n_done == 1 && fx->n_urc == 3);
	assert_string_equal(fx->urcs[0], "+CREG: 1");
	assert_string_equal(fx->urcs[1], "RDY");
	assert_string_equal(fx->urcs[2], "SMS DONE");
	assert_int_equal(fx->done[0].n_lines, 1);
	assert_string_equal(fx->done[0].lines[0], "+CSQ: 20,99");
}

static void test_echo(void **state)
{
	struct fx *fx = *state;

	assert_int_equal(send(fx, "AT+CPIN?", 2000, 0), 0);
	expect_cmd(fx, "AT+CPIN?\r");
	modem_says(fx, "AT+CPIN?\r\r\n+CPIN: READY\r\n\r\nOK\r\n");
	PUMP_UNTIL(fx, fx->n_done == 1);
	assert_int_equal(fx->done[0].res, AT_RES_OK);
	assert_int_equal(fx->done[0].n_lines, 1);
	assert_string_equal(fx->done[0].lines[0], "+CPIN: READY");
	assert_int_equal(fx->n_urc, 0);
}

static void test_master_closed(void **state)
{
	struct fx *fx = *state;

	assert_int_equal(send(fx, "AT+CSQ", 2000, 0), 0);
	assert_int_equal(send(fx, "AT+CGMI", 2000, 1), 0);
	expect_cmd(fx, "AT+CSQ\r");
	close(fx->master); /* the modem is unplugged */
	fx->master = -1;
	PUMP_UNTIL(fx, fx->n_dead == 1);
	assert_int_equal(fx->n_done, 2);
	assert_int_equal(fx->done[0].res, AT_RES_CANCELLED);
	assert_int_equal(fx->done[1].res, AT_RES_CANCELLED);
	assert_true(fx->done[1].seq < fx->dead_seq); /* every command answered first */
	/* EIO from read(), or HUP/EOF reported as ENODEV */
	assert_true(fx->dead_err == -EIO || fx->dead_err == -ENODEV);
	assert_int_equal(send(fx, "AT", 2000, 2), -ENOTCONN);
	loop_iterate(fx->l, 0);
	assert_int_equal(fx->n_dead, 1);
}

static void test_close_in_dead(void **state)
{
	struct fx *fx = *state;

	fx->close_when = CLOSE_IN_DEAD;
	assert_int_equal(send(fx, "AT", 2000, 0), 0);
	close(fx->master);
	fx->master = -1;
	PUMP_UNTIL(fx, fx->n_dead == 1);
	assert_null(fx->ch);
	assert_int_equal(fx->n_done, 1);
	loop_iterate(fx->l, 0);
}

static void test_close_in_done(void **state)
{
	struct fx *fx = *state;

	fx->close_when = CLOSE_IN_DONE;
	assert_int_equal(send(fx, "AT", 2000, 0), 0);
	assert_int_equal(send(fx, "AT+CSQ", 100, 1), 0);
	expect_cmd(fx, "AT\r");
	/* more lines after the final code, in the same read */
	modem_says(fx, "\r\nOK\r\n\r\n+CREG: 1\r\n\r\nOK\r\n");
	PUMP_UNTIL(fx, fx->n_done == 1);
	assert_null(fx->ch);
	loop_iterate(fx->l, 300); /* past the second command's timeout */
	assert_int_equal(fx->n_done, 1);
	assert_int_equal(fx->n_urc, 0);
}

static void test_close_in_urc(void **state)
{
	struct fx *fx = *state;

	fx->close_when = CLOSE_IN_URC;
	assert_int_equal(send(fx, "AT+CSQ", 100, 0), 0);
	expect_cmd(fx, "AT+CSQ\r");
	modem_says(fx, "\r\nRDY\r\n\r\nPB DONE\r\n\r\n+CSQ: 1,1\r\n\r\nOK\r\n");
	PUMP_UNTIL(fx, fx->n_urc == 1);
	assert_null(fx->ch);
	loop_iterate(fx->l, 300);
	assert_int_equal(fx->n_urc, 1);
	assert_int_equal(fx->n_done, 0); /* at_close drops callbacks */
}

static void test_close_in_timeout(void **state)
{
	struct fx *fx = *state;

	fx->close_when = CLOSE_IN_DONE;
	assert_int_equal(send(fx, "AT", 50, 0), 0);
	assert_int_equal(send(fx, "AT", 50, 1), 0);
	PUMP_UNTIL(fx, fx->n_done == 1);
	assert_int_equal(fx->done[0].res, AT_RES_TIMEOUT);
	assert_null(fx->ch);
	loop_iterate(fx->l, 200);
	assert_int_equal(fx->n_done, 1);
}

static void test_cancel_all(void **state)
{
	struct fx *fx = *state;

	for (int i = 0; i < 3; i++)
		assert_int_equal(send(fx, "AT", 2000, i), 0);
	expect_cmd(fx, "AT\r");
	at_cancel_all(fx->ch);
	assert_int_equal(fx->n_done, 3);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(fx->done[i].id, i);
		assert_int_equal(fx->done[i].res, AT_RES_CANCELLED);
	}
	assert_int_equal(send(fx, "ATI", 2000, 3), 0);
	expect_cmd(fx, "ATI\r");
	modem_says(fx,
		   "\r\nManufacturer: SIMCOM INCORPORATED\r\nModel: SIMCOM_SIM7100E\r\n\r\nOK\r\n");
	PUMP_UNTIL(fx, fx->n_done == 4);
	assert_int_equal(fx->done[3].n_lines, 2);
}

static bool master_readable(struct fx *fx)
{
	struct pollfd p = {.fd = fx->master, .events = POLLIN};
	return poll(&p, 1, 0) == 1;
}

/* Output suspended (as by XOFF): the write would block, the channel waits
 * for EPOLLOUT and finishes the command once the port drains. */
static void test_write_blocks(void **state)
{
	struct fx *fx = *state;
	int slave = open(fx->slave, O_RDWR | O_NOCTTY | O_CLOEXEC);

	assert_true(slave >= 0);
	assert_int_equal(tcflow(slave, TCOOFF), 0);
	assert_int_equal(send(fx, "AT+CSQ", 2000, 0), 0);
	loop_iterate(fx->l, 0);
	expect_no_cmd(fx);
	assert_int_equal(tcflow(slave, TCOON), 0);
	PUMP_UNTIL(fx, master_readable(fx));
	expect_cmd(fx, "AT+CSQ\r");
	modem_says(fx, "\r\n+CSQ: 12,99\r\n\r\nOK\r\n");
	PUMP_UNTIL(fx, fx->n_done == 1);
	assert_int_equal(fx->done[0].res, AT_RES_OK);

	/* Times out while still blocked; the next command goes out later. */
	assert_int_equal(tcflow(slave, TCOOFF), 0);
	assert_int_equal(send(fx, "AT+CGMI", 100, 1), 0);
	PUMP_UNTIL(fx, fx->n_done == 2);
	assert_int_equal(fx->done[1].res, AT_RES_TIMEOUT);
	assert_int_equal(tcflow(slave, TCOON), 0);
	assert_int_equal(send(fx, "AT", 2000, 2), 0);
	expect_cmd(fx, "AT\r");
	modem_says(fx, "\r\nOK\r\n");
	PUMP_UNTIL(fx, fx->n_done == 3);
	assert_int_equal(fx->done[2].res, AT_RES_OK);
	close(slave);
}

static void test_bad_sends(void **state)
{
	struct fx *fx = *state;
	char big[600];

	assert_int_equal(send(fx, "AT\rAT+CFUN=0", 2000, 0), -EINVAL);
	assert_int_equal(send(fx, "", 2000, 0), -EINVAL);
	assert_int_equal(send(fx, "AT", 0, 0), -EINVAL);
	memset(big, 'A', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(send(fx, big, 2000, 0), -EINVAL);
	for (int i = 0; i < 32; i++)
		assert_int_equal(send(fx, "AT", 2000, i), 0);
	assert_int_equal(send(fx, "AT", 2000, 32), -ENOSPC);
	fx->ch = at_close(fx->ch); /* 32 pending: no callbacks */
	assert_int_equal(fx->n_done, 0);
}

static void test_pin_not_logged(void **state)
{
	struct fx *fx = *state;
	FILE *f = tmpfile();
	int saved = dup(2);
	char text[8192] = "";

	assert_non_null(f);
	fflush(stderr);
	dup2(fileno(f), 2);
	int level = log_get_level();
	log_set_level(LOG_DEBUG);
	assert_int_equal(send(fx, "AT+CPIN=\"1234\"", 2000, 0), 0);
	expect_cmd(fx, "AT+CPIN=\"1234\"\r");
	modem_says(fx, "AT+CPIN=\"1234\"\r\r\nOK\r\n\r\n+CPIN: READY\r\n");
	PUMP_UNTIL(fx, fx->n_done == 1 && fx->n_urc == 1);
	log_set_level(level);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	rewind(f);
	size_t n = fread(text, 1, sizeof(text) - 1, f);
	text[n] = '\0';
	fclose(f);
	assert_null(strstr(text, "1234"));
	assert_non_null(strstr(text, "AT+CPIN=\"****\""));
	assert_non_null(strstr(text, fx->slave)); /* lines name the port */
	assert_string_equal(fx->urcs[0], "+CPIN: READY");
}

static void test_symlink_and_missing(void **state)
{
	struct fx *fx = *state;
	char dir[] = "/tmp/test_at_chan.XXXXXX";
	char link[64];
	int err = 0;

	assert_non_null(mkdtemp(dir));
	snprintf(link, sizeof(link), "%s/ttyAT", dir);
	assert_int_equal(symlink(fx->slave, link), 0);
	fx->ch = at_close(fx->ch);
	fx->ch = at_open(fx->l, link, 115200, on_urc, on_dead, fx, &err);
	assert_non_null(fx->ch);
	assert_string_equal(at_chan_path(fx->ch), link);
	assert_int_equal(send(fx, "AT", 2000, 0), 0);
	expect_cmd(fx, "AT\r");
	modem_says(fx, "\r\nOK\r\n");
	PUMP_UNTIL(fx, fx->n_done == 1);
	unlink(link);
	rmdir(dir);

	assert_null(at_open(fx->l, "/nonexistent/ttyUSB9", 115200, on_urc, on_dead, fx, &err));
	assert_int_equal(err, -ENOENT);
	assert_null(at_open(fx->l, "/dev/null", 115200, on_urc, on_dead, fx, &err));
	assert_int_equal(err, -ENOTTY);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(test_queue_order),    T(test_timeout_then_next),	 T(test_urc_while_pending),
	    T(test_echo),	    T(test_master_closed),	 T(test_close_in_dead),
	    T(test_close_in_done),  T(test_close_in_urc),	 T(test_close_in_timeout),
	    T(test_cancel_all),	    T(test_write_blocks),	 T(test_bad_sends),
	    T(test_pin_not_logged), T(test_symlink_and_missing),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
