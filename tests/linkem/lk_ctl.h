/* linkem control socket: a unix stream socket, one text line in, one JSON
 * line out, several lines per connection allowed (docs/linkem.md). */
#ifndef LK_CTL_H
#define LK_CTL_H

#include <stddef.h>
#include <stdint.h>

#define LK_CTL_CLIENTS 8
#define LK_CTL_LINE    256

/* Answers one command line (without newline) into out; returns the length. */
typedef size_t (*lk_ctl_handler)(void *arg, char *line, char *out, size_t outlen);

struct lk_ctl_client {
	int fd;
	size_t len;
	char buf[LK_CTL_LINE];
};

struct lk_ctl {
	int listen_fd, epfd;
	uint64_t tag_listen, tag_client; /* epoll data: tag_client + index */
	char path[108];
	struct lk_ctl_client c[LK_CTL_CLIENTS];
	lk_ctl_handler handler;
	void *arg;
	char *out;
	size_t outlen;
};

int lk_ctl_open(struct lk_ctl *ctl, const char *path, int epfd, uint64_t tag_listen,
		uint64_t tag_client, lk_ctl_handler h, void *arg, char *out, size_t outlen);
void lk_ctl_accept(struct lk_ctl *ctl);
void lk_ctl_readable(struct lk_ctl *ctl, unsigned idx);
void lk_ctl_close(struct lk_ctl *ctl);

#endif
