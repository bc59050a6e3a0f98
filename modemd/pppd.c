/* pppd on a modem's data port: options file, fork/exec, captured output,
 * exit code -> a reason a user understands. See docs/dialing.md. */
#include "pppd.h"
#include "config.h"
#include "log.h"
#include "loop.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <unistd.h>

#define PPPD_LINES    32   /* output lines kept for the exit reason */
#define PPPD_LINE_MAX 200  /* longer lines are cut */
#define PPPD_GRACE_MS 5000 /* SIGTERM -> SIGKILL */

struct pppd {
	struct loop *loop;
	char name[CFG_NAME_MAX];
	pid_t pid;
	struct loop_child *child;
	struct loop_io *out_io;
	int out_fd;
	struct loop_timer *kill_timer;
	unsigned grace_ms;
	pppd_exit_cb cb;
	void *data;
	bool exited, stopping, killed;
	/* Ring of the last output lines, plus the line being assembled. */
	char lines[PPPD_LINES][PPPD_LINE_MAX];
	size_t n_lines, head;
	char cur[PPPD_LINE_MAX];
	size_t cur_len;
};

/* pppd(8) "EXIT STATUS", worded for someone reading `mpctl status`. */
static const char *const exit_text[] = {
    [0] = "pppd finished normally",
    [1] = "pppd hit a fatal error",
    [2] = "invalid pppd options",
    [3] = "pppd must run as root",
    [4] = "the kernel has no PPP support (no /dev/ppp)",
    [5] = "pppd stopped by a signal (hangup requested)",
    [6] = "serial port is locked by another program",
    [7] = "could not open the serial port",
    [8] = "connect script (chat) failed",
    [9] = "pty command failed",
    [10] = "PPP negotiation failed",
    [11] = "peer failed our authentication",
    [12] = "link was idle too long",
    [13] = "connect time limit reached",
    [14] = "callback negotiated",
    [15] = "LCP echo timeout: carrier stopped answering",
    [16] = "modem hung up",
    [17] = "serial line is looped back",
    [18] = "init script failed",
    [19] = "carrier rejected our user name or password",
};

const char *pppd_exit_to_string(int code)
{
	if (code < 0)
		return "pppd killed by a signal";
	if ((size_t)code >= ARRAY_SIZE(exit_text))
		return "pppd exited with an unknown status";
	return exit_text[code];
}

/* ---- options file ---- */

struct out {
	char *buf;
	size_t len, pos;
	int err;
};

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct out *o, const char *fmt, ...)
{
	if (o->err)
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(o->buf + o->pos, o->len - o->pos, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= o->len - o->pos)
		o->err = -ENOSPC;
	else
		o->pos += (size_t)n;
}

/* Characters that cannot be carried safely: pppd strings are "..." with
 * backslash escapes, the connect string is run by /bin/sh with values in
 * '...'. Refusing is clearer than a clever escape nobody can check. */
static bool safe_value(const char *s, bool shell)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c < 0x20 || c == 0x7f || c == '"' || (shell && c == '\''))
			return false;
	}
	return true;
}

/* A double-quoted pppd word; backslash is pppd's escape character. */
static void put_quoted(struct out *o, const char *s)
{
	put(o, "\"");
	for (; *s; s++) {
		if (*s == '\\')
			put(o, "\\\\");
		else
			put(o, "%c", *s);
	}
	put(o, "\"");
}

int pppd_chat_script(const struct pppd_params *p, char *buf, size_t len)
{
	const char *f = p->apn->kind == APN_DIAL_CDMA ? "cdma.chat" : "3gpp.chat";
	int n = snprintf(buf, len, "%s/%s", p->dial->chat_dir, f);
	return n < 0 || (size_t)n >= len ? -ENOSPC : n;
}

static int check(const char *what, const char *v, bool shell, const char *name)
{
	if (safe_value(v, shell))
		return 0;
	return log_errno(-EINVAL, "%s: %s contains a quote or control character", name, what);
}

int pppd_render_options(const struct pppd_params *p, char *buf, size_t len)
{
	const struct apn_profile *a = p->apn;
	const struct cfg_dial *d = p->dial;
	char script[CFG_PATH_MAX + 16];
	struct out o = {buf, len, 0, 0};
	int r;

	if (!len)
		return -ENOSPC;
	r = pppd_chat_script(p, script, sizeof(script));
	if (r < 0)
		return r;
	if (check("tty", p->tty, false, p->name) || check("ifname", p->ifname, false, p->name) ||
	    check("name", p->name, false, p->name) || check("user", a->user, false, p->name) ||
	    check("password", a->password, false, p->name) ||
	    check("dial number", a->number, true, p->name) || check("APN", a->apn, true, p->name) ||
	    check("chat path", d->chat_path, true, p->name) ||
	    check("chat script", script, true, p->name))
		return -EINVAL;
	for (size_t i = 0; i < d->n_pppd_extra; i++)
		if (check("dial.pppd_extra", d->pppd_extra[i], false, p->name))
			return -EINVAL;

	put(&o, "# modemd: pppd options for %s (generated, mode 0600)\n", p->name);
	put_quoted(&o, p->tty);
	put(&o, "\n%u\n", d->baud);
	/* modemd watches pppd and owns retries, routes and DNS. */
	put(&o, "nodetach\nnodefaultroute\nnoipdefault\nmaxfail 1\n");
	put(&o, "ifname ");
	put_quoted(&o, p->ifname);
	put(&o, "\nipparam ");
	put_quoted(&o, p->name);
	put(&o, "\nlcp-echo-interval %u\nlcp-echo-failure %u\n", d->lcp_echo_interval,
	    d->lcp_echo_failure);
	/* The network never authenticates to us; VJ and CCP only cost CPU and
	 * are rarely offered by carriers. */
	put(&o, "noauth\nnovj\nnoccp\n");
	/* USB serial ports (and ptys) have no real modem control lines: hangup
	 * comes from the port vanishing or LCP, not from DCD. */
	put(&o, "local\n");
	/* UUCP lock in /var/lock keeps other dialers off the port. */
	put(&o, "lock\n");
	/* usepeerdns is left off: modemd does not rewrite resolv.conf. */
	put(&o, "connect ");
	char conn[3 * CFG_PATH_MAX + 256];
	int n = snprintf(conn, sizeof(conn), "%s -v -s -S -T '%s' -U '%s' -f '%s'", d->chat_path,
			 a->number, a->apn, script);
	if (n < 0 || (size_t)n >= sizeof(conn))
		return -ENOSPC;
	put_quoted(&o, conn);
	put(&o, "\n");
	if (a->user[0]) {
		put(&o, "user ");
		put_quoted(&o, a->user);
		put(&o, "\npassword ");
		put_quoted(&o, a->password);
		put(&o, "\n");
	}
	switch (a->auth) {
	case APN_AUTH_PAP:
		put(&o, "refuse-chap\nrefuse-mschap\nrefuse-mschap-v2\nrefuse-eap\n");
		break;
	case APN_AUTH_CHAP:
		put(&o, "refuse-pap\nrefuse-eap\n");
		break;
	case APN_AUTH_ANY:
	case APN_AUTH_NONE:
		break;
	}
	for (size_t i = 0; i < d->n_pppd_extra; i++) {
		put_quoted(&o, d->pppd_extra[i]);
		put(&o, "\n");
	}
	return o.err ? o.err : (int)o.pos;
}

/* ---- exit reason ---- */

/* chat -v prints "Failed (NO CARRIER)" for an ABORT string and "alarm"
 * then a bare "Failed" on TIMEOUT. */
static bool chat_reason(const char *const *lines, size_t n, char *buf, size_t len)
{
	for (size_t i = n; i-- > 0;) {
		const char *l = lines[i];
		const char *f = strstr(l, "Failed (");
		if (f) {
			f += strlen("Failed (");
			const char *e = strrchr(f, ')');
			int flen = e ? (int)(e - f) : (int)strlen(f);
			snprintf(buf, len, "chat: modem answered %.*s", flen, f);
			return true;
		}
	}
	for (size_t i = n; i-- > 0;)
		if (!strcmp(lines[i], "alarm") || strstr(lines[i], "timeout")) {
			snprintf(buf, len, "chat: modem did not answer in time (timeout)");
			return true;
		}
	return false;
}

int pppd_exit_reason(int status, const char *const *lines, size_t n_lines, char *buf, size_t len)
{
	if (WIFSIGNALED(status)) {
		snprintf(buf, len, "pppd killed by signal %d (%s)", WTERMSIG(status),
			 strsignal(WTERMSIG(status)));
		return -1;
	}
	int code = WEXITSTATUS(status);
	if (code == 8 && chat_reason(lines, n_lines, buf, len))
		return code;
	/* For setup errors pppd's last words name the culprit ("Failed to
	 * open /dev/ttyUSB3: No such file or directory"). */
	if ((code == 1 || code == 2 || code == 6 || code == 7) && n_lines) {
		snprintf(buf, len, "%s: %s", pppd_exit_to_string(code), lines[n_lines - 1]);
		return code;
	}
	snprintf(buf, len, "%s", pppd_exit_to_string(code));
	return code;
}

/* ---- process ---- */

static void add_line(struct pppd *p)
{
	p->cur[p->cur_len] = 0;
	p->cur_len = 0;
	if (!p->cur[0])
		return;
	log_debug("%s: pppd: %s", p->name, p->cur);
	size_t slot = (p->head + p->n_lines) % PPPD_LINES;
	if (p->n_lines == PPPD_LINES)
		p->head = (p->head + 1) % PPPD_LINES;
	else
		p->n_lines++;
	memcpy(p->lines[slot], p->cur, sizeof(p->cur));
}

static void feed(struct pppd *p, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (b[i] == '\n') {
			add_line(p);
		} else if (b[i] == '\r') {
			continue;
		} else if (p->cur_len < PPPD_LINE_MAX - 1) {
			p->cur[p->cur_len++] = b[i];
		} /* else bounded: the rest of a long line is dropped */
	}
}

static void close_output(struct pppd *p)
{
	p->out_io = loop_io_del(p->out_io);
	if (p->out_fd >= 0)
		close(p->out_fd);
	p->out_fd = -1;
}

/* Read what is there now; EOF or error closes the pipe. */
static void drain(struct pppd *p)
{
	char b[1024];
	for (;;) {
		ssize_t n = read(p->out_fd, b, sizeof(b));
		if (n > 0) {
			feed(p, b, (size_t)n);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		close_output(p);
		return;
	}
}

static void on_output(struct loop_io *io, int fd, uint32_t events, void *data)
{
	(void)io;
	(void)fd;
	(void)events;
	drain(data);
}

static void reap_only(struct loop_child *c, pid_t pid, int status, void *data)
{
	(void)c;
	(void)pid;
	(void)status;
	(void)data;
}

static void on_exit_(struct loop_child *c, pid_t pid, int status, void *data)
{
	struct pppd *p = data;
	(void)c;
	p->child = NULL; /* the loop releases it */
	p->exited = true;
	p->kill_timer = loop_timer_free(p->kill_timer);
	if (p->out_fd >= 0)
		drain(p);
	if (p->cur_len)
		add_line(p);
	close_output(p);
	/* pppd ran in its own process group: leftover chat goes with it. */
	kill(-pid, SIGTERM);

	const char *lines[PPPD_LINES];
	for (size_t i = 0; i < p->n_lines; i++)
		lines[i] = p->lines[(p->head + i) % PPPD_LINES];
	char reason[256];
	int code = pppd_exit_reason(status, lines, p->n_lines, reason, sizeof(reason));
	if (p->killed)
		snprintf(reason, sizeof(reason), "pppd did not stop within %u ms and was killed",
			 p->grace_ms);
	else if (p->stopping && (code == 5 || code == -1))
		snprintf(reason, sizeof(reason), "hung up on request");
	log_debug("%s: pppd (pid %d) exited, code %d: %s", p->name, (int)pid, code, reason);
	pppd_exit_cb cb = p->cb;
	p->cb = NULL;
	/* Last thing: the callback may free p. */
	if (cb)
		cb(p, code, reason, p->data);
}

static void on_grace_over(struct loop_timer *t, void *data)
{
	struct pppd *p = data;
	(void)t;
	if (p->exited)
		return;
	log_debug("%s: pppd (pid %d) ignored SIGTERM, sending SIGKILL", p->name, (int)p->pid);
	p->killed = true;
	kill(-p->pid, SIGKILL);
	kill(p->pid, SIGKILL);
}

/* In the child, between fork and exec: async-signal-safe calls only. */
static void exec_child(const char *path, const char *opts, int out_fd, int err_pipe)
{
	sigset_t none;
	sigemptyset(&none);
	/* The loop blocks SIGTERM/SIGCHLD for its signalfd; pppd needs them. */
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (int s = 1; s < NSIG; s++)
		signal(s, SIG_DFL);
	setsid(); /* own process group: we can kill pppd and chat together */
	int nul = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (nul < 0 || dup2(nul, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(out_fd, 2) < 0)
		goto fail;
	/* Keep only 0-2 and the CLOEXEC error pipe. */
	if (err_pipe > 3)
		close_range(3, (unsigned)err_pipe - 1, 0);
	close_range((unsigned)err_pipe + 1, ~0U, 0);
	char *const argv[] = {(char *)path, "file", (char *)opts, NULL};
	execv(path, argv);
fail:;
	int e = errno;
	while (write(err_pipe, &e, sizeof(e)) < 0 && errno == EINTR)
		;
	_exit(127);
}

struct pppd *pppd_start(struct loop *l, const struct pppd_params *prm, pppd_exit_cb cb, void *data,
			int *err)
{
	char opts[8192], path[CFG_PATH_MAX + CFG_NAME_MAX + 16];
	int out[2] = {-1, -1}, ep[2] = {-1, -1};
	struct pppd *p = NULL;
	int r, n;

	n = pppd_render_options(prm, opts, sizeof(opts));
	if (n < 0) {
		r = n;
		goto fail;
	}
	r = mkdir_p(prm->run_dir, 0700);
	if (r < 0) {
		log_err("%s: cannot create %s: %s", prm->name, prm->run_dir, strerror(-r));
		goto fail;
	}
	if (snprintf(path, sizeof(path), "%s/%s.options", prm->run_dir, prm->name) >=
	    (int)sizeof(path)) {
		r = -ENAMETOOLONG;
		goto fail;
	}
	r = write_file_atomic(path, opts, (size_t)n, 0600);
	explicit_bzero(opts, sizeof(opts)); /* it may hold a password */
	if (r < 0) {
		log_err("%s: cannot write %s: %s", prm->name, path, strerror(-r));
		goto fail;
	}
	p = calloc(1, sizeof(*p));
	if (!p) {
		r = -ENOMEM;
		goto fail;
	}
	p->loop = l;
	p->out_fd = -1;
	p->grace_ms = PPPD_GRACE_MS;
	p->cb = cb;
	p->data = data;
	strlcpy_checked(p->name, prm->name, sizeof(p->name));
	if (pipe2(out, O_CLOEXEC) < 0 || pipe2(ep, O_CLOEXEC) < 0) {
		r = -errno;
		goto fail;
	}
	p->kill_timer = loop_timer_new(l, on_grace_over, p);
	if (!p->kill_timer) {
		r = -ENOMEM;
		goto fail;
	}
	pid_t pid = fork();
	if (pid < 0) {
		r = -errno;
		goto fail;
	}
	if (pid == 0)
		exec_child(prm->dial->pppd_path, path, out[1], ep[1]);
	p->pid = pid;
	close(out[1]);
	close(ep[1]);
	out[1] = ep[1] = -1;
	/* The error pipe closes on exec (nothing read) or carries errno. */
	int e = 0;
	ssize_t got;
	while ((got = read(ep[0], &e, sizeof(e))) < 0 && errno == EINTR)
		;
	close(ep[0]);
	ep[0] = -1;
	if (got == (ssize_t)sizeof(e)) {
		waitpid(pid, NULL, 0);
		p->pid = 0;
		r = -e;
		log_err("%s: cannot run %s: %s", prm->name, prm->dial->pppd_path, strerror(e));
		goto fail;
	}
	p->out_fd = out[0];
	out[0] = -1;
	fcntl(p->out_fd, F_SETFL, O_NONBLOCK);
	p->out_io = loop_io_add(l, p->out_fd, EPOLLIN, on_output, p);
	p->child = loop_child_add(l, pid, on_exit_, p);
	if (!p->out_io || !p->child) {
		r = -ENOMEM;
		goto fail;
	}
	log_debug("%s: started %s file %s (pid %d)", p->name, prm->dial->pppd_path, path, (int)pid);
	return p;
fail:
	for (int i = 0; i < 2; i++) {
		if (out[i] >= 0)
			close(out[i]);
		if (ep[i] >= 0)
			close(ep[i]);
	}
	if (p)
		p->cb = NULL;
	pppd_free(p);
	if (err)
		*err = r;
	return NULL;
}

void pppd_set_stop_grace(struct pppd *p, unsigned ms)
{
	if (p)
		p->grace_ms = ms;
}

void pppd_stop(struct pppd *p)
{
	if (!p || p->exited || p->stopping || p->pid <= 0)
		return;
	p->stopping = true;
	log_debug("%s: stopping pppd (pid %d)", p->name, (int)p->pid);
	/* pppd hangs up cleanly on SIGTERM (LCP terminate, kills chat). */
	kill(p->pid, SIGTERM);
	loop_timer_arm(p->kill_timer, p->grace_ms);
}

struct pppd *pppd_free(struct pppd *p)
{
	if (!p)
		return NULL;
	if (p->pid > 0 && !p->exited) {
		/* Still running and nobody will wait: kill hard, let the loop reap. */
		p->child = loop_child_del(p->child);
		kill(-p->pid, SIGKILL);
		kill(p->pid, SIGKILL);
		if (!loop_child_add(p->loop, p->pid, reap_only, NULL))
			waitpid(p->pid, NULL, 0);
	}
	p->child = loop_child_del(p->child);
	p->kill_timer = loop_timer_free(p->kill_timer);
	close_output(p);
	free(p);
	return NULL;
}

size_t pppd_last_lines(const struct pppd *p, const char **lines, size_t max)
{
	size_t n = p ? p->n_lines : 0, skip = n > max ? n - max : 0;
	for (size_t i = skip; i < n; i++)
		lines[i - skip] = p->lines[(p->head + i) % PPPD_LINES];
	return n - skip;
}

pid_t pppd_pid(const struct pppd *p)
{
	return p ? p->pid : 0;
}

bool pppd_running(const struct pppd *p)
{
	return p && p->pid > 0 && !p->exited;
}
