/* AT command channel: one serial port, one command in flight, replies split
 * into lines by at_parse.c. Every callback may at_close() the channel: entry
 * points hold a busy count and the memory is freed when the outermost one
 * returns (the loop handles are deleted at once; the loop defers their
 * release). */
#include "at.h"
#include "at_parse.h"
#include "log.h"
#include "loop.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <libserialport.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <termios.h>
#include <unistd.h>

#define AT_QUEUE_MAX 32
#define AT_CMD_MAX   512 /* longest command accepted, without "\r" */

struct at_cmd {
	char text[AT_CMD_MAX + 1];
	unsigned timeout_ms;
	at_done_cb done;
	void *data;
};

struct at_chan {
	struct loop *loop;
	char path[256];
	struct sp_port *port; /* NULL when opened through the termios fallback */
	int fd;
	struct loop_io *io;
	uint32_t events;
	struct loop_timer *timer;      /* timeout of the command in flight */
	struct loop_timer *fail_timer; /* reports a write failure from the loop */
	int fail_err;
	at_urc_cb urc;
	at_dead_cb dead;
	void *data;

	struct at_cmd queue[AT_QUEUE_MAX]; /* ring; queue[head] is next/in flight */
	size_t head, count;
	bool in_flight, cancelling;
	char wbuf[AT_CMD_MAX + 2];
	size_t wlen, woff;

	struct at_lines lines;
	char info[AT_MAX_LINES][AT_LINE_MAX + 1];
	size_t n_info;
	char final[AT_LINE_MAX + 1];

	bool is_dead; /* the port failed; only at_close() is left */
	bool closed;  /* at_close() ran; freed when busy drops to 0 */
	int busy;
};

static void enter(struct at_chan *ch)
{
	ch->busy++;
}

/* Returns true when the channel was closed (and maybe freed): stop. */
static bool leave(struct at_chan *ch)
{
	if (--ch->busy > 0)
		return ch->closed;
	if (ch->closed) {
		free(ch);
		return true;
	}
	return false;
}

static void set_events(struct at_chan *ch, uint32_t events)
{
	if (!ch->io || ch->events == events)
		return;
	if (loop_io_mod(ch->io, events) == 0)
		ch->events = events;
}

static void fail_later(struct at_chan *ch, int err)
{
	/* Never call the owner back from inside at_send(): report from the
	 * loop instead. */
	if (!ch->fail_err) {
		ch->fail_err = err;
		loop_timer_arm(ch->fail_timer, 0);
	}
}

static void flush(struct at_chan *ch)
{
	while (ch->woff < ch->wlen) {
		ssize_t n = write(ch->fd, ch->wbuf + ch->woff, ch->wlen - ch->woff);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			set_events(ch, EPOLLIN | EPOLLOUT);
			return;
		}
		if (n <= 0) {
			fail_later(ch, n < 0 ? -errno : -EIO);
			return;
		}
		ch->woff += (size_t)n;
	}
	set_events(ch, EPOLLIN);
}

static void kick(struct at_chan *ch)
{
	char red[AT_CMD_MAX + 1];

	if (ch->in_flight || ch->count == 0 || ch->is_dead || ch->closed || ch->cancelling ||
	    ch->fail_err)
		return;
	struct at_cmd *c = &ch->queue[ch->head];
	ch->in_flight = true;
	ch->n_info = 0;
	ch->wlen = (size_t)snprintf(ch->wbuf, sizeof(ch->wbuf), "%s\r", c->text);
	ch->woff = 0;
	at_redact(c->text, red, sizeof(red));
	log_debug("%s: --> %s", ch->path, red);
	loop_timer_arm(ch->timer, c->timeout_ms);
	flush(ch);
}

/* Finish queue[head] with res and call its callback. Returns true when the
 * callback closed the channel. */
static bool complete(struct at_chan *ch, enum at_result res, int err, const char *final)
{
	struct at_cmd *c = &ch->queue[ch->head];
	struct at_response r = {.result = res, .err = err, .final = final};
	char red[AT_CMD_MAX + 1];

	if (ch->in_flight) {
		r.n_lines = ch->n_info;
		for (size_t i = 0; i < ch->n_info; i++)
			r.lines[i] = ch->info[i];
		loop_timer_disarm(ch->timer);
	}
	at_redact(c->text, red, sizeof(red));
	if (res == AT_RES_CME_ERROR && at_cme_to_string(err))
		log_debug("%s: %s: +CME ERROR %d (%s)", ch->path, red, err, at_cme_to_string(err));
	else
		log_debug("%s: %s: %s", ch->path, red, at_result_to_string(res));
	at_done_cb done = c->done;
	void *data = c->data;
	ch->head = (ch->head + 1) % AT_QUEUE_MAX;
	ch->count--;
	ch->in_flight = false;
	ch->wlen = ch->woff = 0; /* a half-written command is abandoned */
	set_events(ch, EPOLLIN);
	if (done)
		done(ch, &r, data);
	return ch->closed;
}

/* Complete the first n queued commands with AT_RES_CANCELLED; commands
 * queued by their callbacks stay queued. */
static void cancel_n(struct at_chan *ch, size_t n)
{
	ch->cancelling = true;
	while (n-- > 0 && ch->count > 0 && !ch->closed)
		if (complete(ch, AT_RES_CANCELLED, -1, ""))
			return;
	ch->cancelling = false;
}

static void go_dead(struct at_chan *ch, int err)
{
	if (ch->is_dead)
		return;
	ch->is_dead = true;
	log_debug("%s: port failed: %s", ch->path, strerror(-err));
	ch->io = loop_io_del(ch->io); /* a hung-up fd would poll forever */
	loop_timer_disarm(ch->timer);
	/* Every command gets its one callback before the owner hears of the
	 * death (and most likely closes the channel from dead_cb). */
	cancel_n(ch, ch->count);
	if (!ch->closed && ch->dead)
		ch->dead(ch, err, ch->data);
}

/* Returns true when a callback closed the channel. */
static bool handle_line(struct at_chan *ch, const char *line)
{
	char red[AT_LINE_MAX + 1];
	const char *pending = ch->in_flight ? ch->queue[ch->head].text : NULL;
	enum at_result res;
	int err;
	enum at_line_kind kind = at_classify(line, pending, &res, &err);

	at_redact(line, red, sizeof(red)); /* an echoed AT+CPIN="..." */
	log_debug("%s: <-- %s (%s)", ch->path, red, at_line_kind_to_string(kind));
	switch (kind) {
	case AT_LINE_FINAL:
		if (!pending) {
			/* A late reply to a timed-out command, or a dropped call. */
			if (res != AT_RES_NO_CARRIER)
				return false;
			break; /* NO CARRIER is worth telling the owner */
		}
		snprintf(ch->final, sizeof(ch->final), "%s", line);
		if (complete(ch, res, err, ch->final))
			return true;
		kick(ch);
		return false;
	case AT_LINE_ECHO:
		return false;
	case AT_LINE_INFO:
		if (ch->n_info < AT_MAX_LINES)
			snprintf(ch->info[ch->n_info++], sizeof(ch->info[0]), "%s", line);
		else
			log_debug("%s: more than %d reply lines, dropped", ch->path, AT_MAX_LINES);
		return false;
	case AT_LINE_URC:
		break;
	}
	if (ch->urc)
		ch->urc(ch, line, ch->data);
	return ch->closed;
}

static void read_port(struct at_chan *ch, uint32_t events)
{
	char buf[1024];
	ssize_t n = read(ch->fd, buf, sizeof(buf));

	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
		if (events & (EPOLLHUP | EPOLLERR))
			go_dead(ch, -ENODEV);
		return;
	}
	if (n < 0) {
		go_dead(ch, -errno); /* EIO: unplugged, or the pty master closed */
		return;
	}
	if (n == 0) {
		go_dead(ch, -ENODEV); /* EOF: the tty was hung up */
		return;
	}
	size_t off = 0;
	while (off < (size_t)n) {
		const char *line;
		off += at_lines_push(&ch->lines, buf + off, (size_t)n - off, &line);
		if (line && handle_line(ch, line))
			return;
	}
}

static void io_cb(struct loop_io *io, int fd, uint32_t events, void *data)
{
	struct at_chan *ch = data;

	enter(ch);
	if (events & EPOLLOUT) {
		if (ch->in_flight)
			flush(ch);
		else
			set_events(ch, EPOLLIN);
	}
	if (!ch->closed && !ch->is_dead && (events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		read_port(ch, events);
	leave(ch);
}

static void timer_cb(struct loop_timer *t, void *data)
{
	struct at_chan *ch = data;

	enter(ch);
	if (ch->in_flight && !complete(ch, AT_RES_TIMEOUT, -1, ""))
		kick(ch);
	leave(ch);
}

static void fail_cb(struct loop_timer *t, void *data)
{
	struct at_chan *ch = data;

	enter(ch);
	go_dead(ch, ch->fail_err);
	leave(ch);
}

static int sp_err(enum sp_return r)
{
	int e = sp_last_error_code();
	return r == SP_ERR_MEM ? -ENOMEM : r == SP_ERR_FAIL && e > 0 ? -e : -EINVAL;
}

static int open_libserialport(struct at_chan *ch, unsigned baud)
{
	enum sp_return r;

	if ((r = sp_open(ch->port, SP_MODE_READ_WRITE)) != SP_OK)
		return log_errno(sp_err(r), "%s: cannot open: %s", ch->path,
				 sp_last_error_message());
	if ((r = sp_set_baudrate(ch->port, (int)baud)) != SP_OK ||
	    (r = sp_set_bits(ch->port, 8)) != SP_OK ||
	    (r = sp_set_parity(ch->port, SP_PARITY_NONE)) != SP_OK ||
	    (r = sp_set_stopbits(ch->port, 1)) != SP_OK ||
	    (r = sp_set_flowcontrol(ch->port, SP_FLOWCONTROL_NONE)) != SP_OK)
		return log_errno(sp_err(r), "%s: cannot configure: %s", ch->path,
				 sp_last_error_message());
	if ((r = sp_get_port_handle(ch->port, &ch->fd)) != SP_OK)
		return log_errno(sp_err(r), "%s: no handle", ch->path);
	/* libserialport opens without O_CLOEXEC; pppd and chat must not
	 * inherit the AT port. */
	if (fcntl(ch->fd, F_SETFD, FD_CLOEXEC) < 0 ||
	    fcntl(ch->fd, F_SETFL, fcntl(ch->fd, F_GETFL) | O_NONBLOCK) < 0)
		return log_errno(-errno, "%s: fcntl: %m", ch->path);
	return 0;
}

static speed_t baud_to_speed(unsigned baud)
{
	static const struct {
		unsigned baud;
		speed_t speed;
	} map[] = {
	    {9600, B9600},	 {19200, B19200},     {38400, B38400},	 {57600, B57600},
	    {115200, B115200},	 {230400, B230400},   {460800, B460800}, {921600, B921600},
	    {3000000, B3000000}, {4000000, B4000000},
	};
	for (size_t i = 0; i < ARRAY_SIZE(map); i++)
		if (map[i].baud == baud)
			return map[i].speed;
	return B0;
}

/* libserialport 0.1.1 looks every port up in /sys/class/tty/<name>, which a
 * pseudo-terminal (or a symlink to one) does not have, so
 * sp_get_port_by_name() fails with ENOENT for it. The simulator and the tests
 * use ptys: for a tty libserialport does not know, set the same raw 8N1 mode
 * with termios. */
static int open_termios(struct at_chan *ch, unsigned baud)
{
	struct termios t;
	speed_t speed = baud_to_speed(baud);

	if (speed == B0)
		return log_errno(-EINVAL, "%s: unsupported baud rate %u", ch->path, baud);
	ch->fd = open(ch->path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (ch->fd < 0)
		return log_errno(-errno, "%s: cannot open: %m", ch->path);
	if (!isatty(ch->fd))
		return log_errno(-ENOTTY, "%s: not a tty", ch->path);
	if (tcgetattr(ch->fd, &t) < 0)
		return log_errno(-errno, "%s: tcgetattr: %m", ch->path);
	cfmakeraw(&t);
	t.c_cflag &= ~(CSTOPB | PARENB | CRTSCTS);
	t.c_cflag |= CS8 | CLOCAL | CREAD;
	t.c_iflag &= ~(IXON | IXOFF | IXANY);
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	cfsetispeed(&t, speed);
	cfsetospeed(&t, speed);
	if (tcsetattr(ch->fd, TCSANOW, &t) < 0)
		return log_errno(-errno, "%s: tcsetattr: %m", ch->path);
	return 0;
}

struct at_chan *at_open(struct loop *l, const char *path, unsigned baud, at_urc_cb urc,
			at_dead_cb dead, void *data, int *err)
{
	struct at_chan *ch = calloc(1, sizeof(*ch));
	int r;

	if (!ch) {
		r = -ENOMEM;
		goto fail;
	}
	ch->fd = -1;
	ch->loop = l;
	ch->urc = urc;
	ch->dead = dead;
	ch->data = data;
	at_lines_init(&ch->lines);
	if (!path || strlcpy_checked(ch->path, path, sizeof(ch->path)) < 0) {
		r = log_errno(-EINVAL, "AT port path too long or missing");
		goto fail;
	}
	if (baud == 0)
		baud = 115200;
	if (sp_get_port_by_name(path, &ch->port) == SP_OK) {
		r = open_libserialport(ch, baud);
	} else {
		ch->port = NULL;
		log_debug("%s: not known to libserialport (a pty?), using termios", path);
		r = open_termios(ch, baud);
	}
	if (r < 0)
		goto fail;
	ch->io = loop_io_add(l, ch->fd, EPOLLIN, io_cb, ch);
	ch->events = EPOLLIN;
	ch->timer = loop_timer_new(l, timer_cb, ch);
	ch->fail_timer = loop_timer_new(l, fail_cb, ch);
	if (!ch->io || !ch->timer || !ch->fail_timer) {
		r = log_errno(-ENOMEM, "%s: cannot watch port", path);
		goto fail;
	}
	log_debug("%s: opened at %u baud", path, baud);
	return ch;
fail:
	if (err)
		*err = r;
	at_close(ch);
	return NULL;
}

struct at_chan *at_close(struct at_chan *ch)
{
	if (!ch || ch->closed)
		return NULL;
	ch->closed = true;
	ch->io = loop_io_del(ch->io);
	ch->timer = loop_timer_free(ch->timer);
	ch->fail_timer = loop_timer_free(ch->fail_timer);
	if (ch->port) {
		sp_close(ch->port); /* closes the fd */
		sp_free_port(ch->port);
		ch->port = NULL;
	} else if (ch->fd >= 0) {
		close(ch->fd);
	}
	ch->fd = -1;
	if (ch->path[0])
		log_debug("%s: closed, %zu command(s) dropped", ch->path, ch->count);
	if (ch->busy == 0)
		free(ch);
	return NULL;
}

int at_send(struct at_chan *ch, const char *cmd, unsigned timeout_ms, at_done_cb done, void *data)
{
	if (!ch || ch->closed || !cmd || timeout_ms == 0)
		return -EINVAL;
	if (ch->is_dead || ch->fail_err)
		return -ENOTCONN;
	size_t len = strlen(cmd);
	if (len == 0 || len > AT_CMD_MAX)
		return log_errno(-EINVAL, "%s: AT command of %zu bytes refused", ch->path, len);
	/* A CR inside would send a second command (say, from a hostile APN). */
	for (const char *c = cmd; *c; c++)
		if (*c < 0x20 || *c >= 0x7f)
			return log_errno(-EINVAL, "%s: control character in AT command refused",
					 ch->path);
	if (ch->count == AT_QUEUE_MAX) {
		log_debug("%s: command queue full", ch->path);
		return -ENOSPC;
	}
	struct at_cmd *c = &ch->queue[(ch->head + ch->count) % AT_QUEUE_MAX];
	memcpy(c->text, cmd, len + 1);
	c->timeout_ms = timeout_ms;
	c->done = done;
	c->data = data;
	ch->count++;
	kick(ch);
	return 0;
}

void at_cancel_all(struct at_chan *ch)
{
	if (!ch || ch->closed)
		return;
	enter(ch);
	cancel_n(ch, ch->count);
	if (!leave(ch))
		kick(ch);
}

const char *at_chan_path(const struct at_chan *ch)
{
	return ch ? ch->path : "";
}
