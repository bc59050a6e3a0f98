/* Control socket of linkem. Replies are short enough (a stats JSON of 16
 * links is ~10 KB) for the socket buffer, so they are written in one go; a
 * client that does not read them is dropped rather than waited for. */
#include "lk_ctl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int lk_ctl_open(struct lk_ctl *ctl, const char *path, int epfd, uint64_t tag_listen,
		uint64_t tag_client, lk_ctl_handler h, void *arg, char *out, size_t outlen)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = tag_listen};
	int r;

	memset(ctl, 0, sizeof(*ctl));
	ctl->listen_fd = -1;
	for (unsigned i = 0; i < LK_CTL_CLIENTS; i++)
		ctl->c[i].fd = -1;
	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	strcpy(ctl->path, path);
	ctl->epfd = epfd;
	ctl->tag_listen = tag_listen;
	ctl->tag_client = tag_client;
	ctl->handler = h;
	ctl->arg = arg;
	ctl->out = out;
	ctl->outlen = outlen;
	ctl->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (ctl->listen_fd < 0)
		return -errno;
	unlink(path); /* a stale socket of an earlier run */
	if (bind(ctl->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(ctl->listen_fd, 8) < 0 ||
	    epoll_ctl(epfd, EPOLL_CTL_ADD, ctl->listen_fd, &ev) < 0) {
		r = -errno;
		close(ctl->listen_fd);
		ctl->listen_fd = -1;
		return r;
	}
	return 0;
}

static void drop_client(struct lk_ctl *ctl, unsigned i)
{
	epoll_ctl(ctl->epfd, EPOLL_CTL_DEL, ctl->c[i].fd, NULL);
	close(ctl->c[i].fd);
	ctl->c[i].fd = -1;
	ctl->c[i].len = 0;
}

void lk_ctl_accept(struct lk_ctl *ctl)
{
	for (;;) {
		int fd = accept4(ctl->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		unsigned i;

		if (fd < 0)
			return;
		for (i = 0; i < LK_CTL_CLIENTS && ctl->c[i].fd >= 0; i++)
			;
		if (i == LK_CTL_CLIENTS) {
			static const char busy[] = "{\"error\":\"too many control clients\"}\n";

			(void)!write(fd, busy, sizeof(busy) - 1);
			close(fd);
			continue;
		}
		struct epoll_event ev = {.events = EPOLLIN, .data.u64 = ctl->tag_client + i};

		if (epoll_ctl(ctl->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
			close(fd);
			continue;
		}
		ctl->c[i].fd = fd;
		ctl->c[i].len = 0;
	}
}

/* Sends the whole reply or gives up on the client (returns false). */
static int send_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

void lk_ctl_readable(struct lk_ctl *ctl, unsigned i)
{
	struct lk_ctl_client *c = &ctl->c[i];
	ssize_t n;

	if (i >= LK_CTL_CLIENTS || c->fd < 0)
		return;
	n = recv(c->fd, c->buf + c->len, sizeof(c->buf) - 1 - c->len, 0);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		drop_client(ctl, i);
		return;
	}
	c->len += (size_t)n;
	for (;;) {
		char *nl = memchr(c->buf, '\n', c->len);
		size_t line_len, out;
		int fd = c->fd;

		if (!nl) {
			if (c->len == sizeof(c->buf) - 1) {
				static const char lng[] = "{\"error\":\"line too long\"}\n";

				(void)send_all(fd, lng, sizeof(lng) - 1);
				drop_client(ctl, i);
			}
			return;
		}
		*nl = '\0';
		line_len = (size_t)(nl - c->buf);
		if (line_len && c->buf[line_len - 1] == '\r')
			c->buf[line_len - 1] = '\0';
		out = ctl->handler(ctl->arg, c->buf, ctl->out, ctl->outlen);
		if (send_all(fd, ctl->out, out) < 0) {
			drop_client(ctl, i);
			return;
		}
		/* The handler may have closed everything (quit). */
		if (c->fd != fd)
			return;
		memmove(c->buf, nl + 1, c->len - line_len - 1);
		c->len -= line_len + 1;
	}
}

void lk_ctl_close(struct lk_ctl *ctl)
{
	for (unsigned i = 0; i < LK_CTL_CLIENTS; i++)
		if (ctl->c[i].fd >= 0)
			drop_client(ctl, i);
	if (ctl->listen_fd >= 0) {
		close(ctl->listen_fd);
		unlink(ctl->path);
		ctl->listen_fd = -1;
	}
}
