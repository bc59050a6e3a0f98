#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int strlcpy_checked(char *dst, const char *src, size_t size)
{
	if (!size)
		return -ENAMETOOLONG;
	size_t n = strlen(src);
	if (n >= size) {
		memcpy(dst, src, size - 1);
		dst[size - 1] = 0;
		return -ENAMETOOLONG;
	}
	memcpy(dst, src, n + 1);
	return 0;
}

static uint64_t clock_ms(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

uint64_t now_ms(void)
{
	return clock_ms(CLOCK_MONOTONIC);
}

uint64_t wall_ms(void)
{
	return clock_ms(CLOCK_REALTIME);
}

int write_file_atomic(const char *path, const void *buf, size_t len, unsigned mode)
{
	char tmp[4096];
	if (snprintf(tmp, sizeof(tmp), "%s.tmpXXXXXX", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	int fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int r = 0;
	/* Restrict before writing: secrets never hit a readable file. */
	if (fchmod(fd, mode) < 0) {
		r = -errno;
		goto fail;
	}
	const char *p = buf;
	while (len) {
		ssize_t w = write(fd, p, len);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			goto fail;
		}
		p += w;
		len -= (size_t)w;
	}
	if (close(fd) < 0) {
		fd = -1;
		r = -errno;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) < 0) {
		r = -errno;
		goto fail;
	}
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return r;
}

int mkdir_p(const char *path, unsigned mode)
{
	char buf[4096];
	if (strlcpy_checked(buf, path, sizeof(buf)) < 0)
		return -ENAMETOOLONG;
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(buf, mode) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, mode) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

bool ratelimit_ok(struct ratelimit *rl, uint64_t now, unsigned per_sec)
{
	if (now - rl->window_ms >= 1000) {
		rl->window_ms = now;
		rl->missed = rl->suppressed;
		rl->suppressed = 0;
		rl->count = 0;
	}
	if (rl->count < per_sec) {
		rl->count++;
		return true;
	}
	rl->suppressed++;
	return false;
}
