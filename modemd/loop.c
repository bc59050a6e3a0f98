#include "loop.h"
#include "log.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>

enum src_kind { SRC_IO, SRC_TIMER, SRC_SIGNAL, SRC_CHILD };

/* Every watched fd is a source; epoll's data.ptr points at it. */
struct src {
	enum src_kind kind;
	struct loop *loop;
	int fd;
	bool owns_fd, dead;
	struct src *next;      /* all sources */
	struct src *next_dead; /* graveyard, freed after dispatch */
};

struct loop_io {
	struct src s;
	loop_io_cb cb;
	void *data;
};

struct loop_timer {
	struct src s;
	loop_timer_cb cb;
	void *data;
	bool armed;
};

struct loop_child {
	struct src s;
	pid_t pid;
	loop_child_cb cb;
	void *data;
};

struct sig_handler {
	int signo;
	loop_signal_cb cb;
	void *data;
};

struct loop {
	int epfd;
	struct src *srcs;
	struct src *dead;
	struct src sig_src;
	sigset_t sigmask;
	struct sig_handler sigs[16];
	int n_sigs;
	bool quit;
	int quit_code;
	int depth; /* >0 while dispatching */
};

struct loop *loop_new(void)
{
	struct loop *l = calloc(1, sizeof(*l));
	if (!l)
		return NULL;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0) {
		free(l);
		return NULL;
	}
	l->sig_src.kind = SRC_SIGNAL;
	l->sig_src.fd = -1;
	l->sig_src.loop = l;
	sigemptyset(&l->sigmask);
	return l;
}

static void src_link(struct loop *l, struct src *s, enum src_kind kind, int fd, bool owns)
{
	s->kind = kind;
	s->loop = l;
	s->fd = fd;
	s->owns_fd = owns;
	s->next = l->srcs;
	l->srcs = s;
}

static void src_release(struct src *s)
{
	if (s->owns_fd && s->fd >= 0)
		close(s->fd);
	free(s);
}

static void src_kill(struct src *s)
{
	if (!s || s->dead)
		return;
	struct loop *l = s->loop;
	s->dead = true;
	if (s->fd >= 0)
		epoll_ctl(l->epfd, EPOLL_CTL_DEL, s->fd, NULL);
	/* Unlink from the live list now; free later if we are dispatching. */
	for (struct src **pp = &l->srcs; *pp; pp = &(*pp)->next)
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	if (l->depth > 0) {
		s->next_dead = l->dead;
		l->dead = s;
	} else {
		src_release(s);
	}
}

static void reap_dead(struct loop *l)
{
	while (l->dead) {
		struct src *s = l->dead;
		l->dead = s->next_dead;
		src_release(s);
	}
}

struct loop *loop_free(struct loop *l)
{
	if (!l)
		return NULL;
	while (l->srcs)
		src_kill(l->srcs);
	reap_dead(l);
	if (l->sig_src.fd >= 0) {
		close(l->sig_src.fd);
		sigprocmask(SIG_UNBLOCK, &l->sigmask, NULL);
	}
	close(l->epfd);
	free(l);
	return NULL;
}

struct loop_io *loop_io_add(struct loop *l, int fd, uint32_t events, loop_io_cb cb, void *data)
{
	struct loop_io *io = calloc(1, sizeof(*io));
	if (!io)
		return NULL;
	struct epoll_event ev = {.events = events, .data.ptr = &io->s};
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		log_debug("loop: cannot watch fd %d: %s", fd, strerror(errno));
		free(io);
		return NULL;
	}
	src_link(l, &io->s, SRC_IO, fd, false);
	io->cb = cb;
	io->data = data;
	return io;
}

int loop_io_mod(struct loop_io *io, uint32_t events)
{
	struct epoll_event ev = {.events = events, .data.ptr = &io->s};
	if (epoll_ctl(io->s.loop->epfd, EPOLL_CTL_MOD, io->s.fd, &ev) < 0)
		return -errno;
	return 0;
}

struct loop_io *loop_io_del(struct loop_io *io)
{
	if (io)
		src_kill(&io->s);
	return NULL;
}

struct loop_timer *loop_timer_new(struct loop *l, loop_timer_cb cb, void *data)
{
	int fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (fd < 0)
		return NULL;
	struct loop_timer *t = calloc(1, sizeof(*t));
	if (!t) {
		close(fd);
		return NULL;
	}
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &t->s};
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		close(fd);
		free(t);
		return NULL;
	}
	src_link(l, &t->s, SRC_TIMER, fd, true);
	t->cb = cb;
	t->data = data;
	return t;
}

int loop_timer_arm(struct loop_timer *t, uint64_t ms)
{
	struct itimerspec its = {0};
	if (ms == 0)
		ms = 1; /* zero would disarm; "now" means next round */
	its.it_value.tv_sec = (time_t)(ms / 1000);
	its.it_value.tv_nsec = (long)(ms % 1000) * 1000000;
	if (timerfd_settime(t->s.fd, 0, &its, NULL) < 0)
		return -errno;
	t->armed = true;
	return 0;
}

void loop_timer_disarm(struct loop_timer *t)
{
	struct itimerspec its = {0};
	if (!t)
		return;
	timerfd_settime(t->s.fd, 0, &its, NULL);
	t->armed = false;
}

bool loop_timer_armed(const struct loop_timer *t)
{
	return t && t->armed;
}

struct loop_timer *loop_timer_free(struct loop_timer *t)
{
	if (t)
		src_kill(&t->s);
	return NULL;
}

int loop_signal_add(struct loop *l, int signo, loop_signal_cb cb, void *data)
{
	if (l->n_sigs >= (int)(sizeof(l->sigs) / sizeof(l->sigs[0])))
		return -ENOSPC;
	sigaddset(&l->sigmask, signo);
	if (sigprocmask(SIG_BLOCK, &l->sigmask, NULL) < 0)
		return -errno;
	int fd = signalfd(l->sig_src.fd, &l->sigmask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (fd < 0)
		return -errno;
	if (l->sig_src.fd < 0) {
		l->sig_src.fd = fd;
		struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &l->sig_src};
		if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
			return -errno;
	}
	l->sigs[l->n_sigs++] = (struct sig_handler){signo, cb, data};
	return 0;
}

static int pidfd_open_(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

struct loop_child *loop_child_add(struct loop *l, pid_t pid, loop_child_cb cb, void *data)
{
	int fd = pidfd_open_(pid);
	if (fd < 0)
		return NULL;
	struct loop_child *c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return NULL;
	}
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &c->s};
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		close(fd);
		free(c);
		return NULL;
	}
	src_link(l, &c->s, SRC_CHILD, fd, true);
	c->pid = pid;
	c->cb = cb;
	c->data = data;
	return c;
}

struct loop_child *loop_child_del(struct loop_child *c)
{
	if (c)
		src_kill(&c->s);
	return NULL;
}

static void dispatch_signals(struct loop *l)
{
	struct signalfd_siginfo si;
	while (read(l->sig_src.fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		for (int i = 0; i < l->n_sigs; i++)
			if (l->sigs[i].signo == (int)si.ssi_signo)
				l->sigs[i].cb(l, (int)si.ssi_signo, l->sigs[i].data);
	}
}

static void dispatch(struct src *s, uint32_t events)
{
	if (s->dead)
		return;
	switch (s->kind) {
	case SRC_IO: {
		struct loop_io *io = (struct loop_io *)s;
		io->cb(io, s->fd, events, io->data);
		break;
	}
	case SRC_TIMER: {
		struct loop_timer *t = (struct loop_timer *)s;
		uint64_t n;
		if (read(s->fd, &n, sizeof(n)) != (ssize_t)sizeof(n))
			break;
		t->armed = false;
		t->cb(t, t->data);
		break;
	}
	case SRC_SIGNAL:
		dispatch_signals(s->loop);
		break;
	case SRC_CHILD: {
		struct loop_child *c = (struct loop_child *)s;
		int status = 0;
		pid_t r = waitpid(c->pid, &status, WNOHANG);
		if (r == 0)
			break; /* spurious */
		if (r < 0)
			status = 0xff00; /* already reaped elsewhere: report exit 255 */
		pid_t pid = c->pid;
		loop_child_cb cb = c->cb;
		void *data = c->data;
		src_kill(s);
		cb(c, pid, status, data);
		break;
	}
	}
}

int loop_iterate(struct loop *l, int timeout_ms)
{
	struct epoll_event evs[32];
	int n = epoll_wait(l->epfd, evs, 32, timeout_ms);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	l->depth++;
	for (int i = 0; i < n; i++)
		dispatch(evs[i].data.ptr, evs[i].events);
	l->depth--;
	if (l->depth == 0)
		reap_dead(l);
	return n;
}

int loop_run(struct loop *l)
{
	l->quit = false;
	while (!l->quit) {
		int r = loop_iterate(l, -1);
		if (r < 0)
			return log_errno(r, "event loop: epoll_wait: %s", strerror(-r));
	}
	return l->quit_code;
}

void loop_quit(struct loop *l, int code)
{
	l->quit = true;
	l->quit_code = code;
}
