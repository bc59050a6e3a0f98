/* Control socket client: connect, one JSON line out, one JSON line back,
 * everything under one deadline so a wedged daemon cannot hang a script. */
#include "client.h"

#include "build-config.h"
#include "commands.h"
#include "control.h"
#include "util.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

const char *client_socket_path(void)
{
	const char *s = getenv("MODEMD_SOCKET");
	return s && *s ? s : MODEMD_DEFAULT_SOCKET;
}

json_object *json_get(json_object *o, const char *key)
{
	json_object *v = NULL;
	if (!o || !json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, key, &v))
		return NULL;
	return v;
}

const char *json_str(json_object *o, const char *key)
{
	json_object *v = json_get(o, key);
	return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

static int remaining(uint64_t deadline)
{
	uint64_t now = now_ms();
	return now >= deadline ? 0 : (int)(deadline - now);
}

/* Wait for fd to become ready for events before the deadline. */
static int wait_fd(int fd, short events, uint64_t deadline)
{
	struct pollfd p = {.fd = fd, .events = events};
	for (;;) {
		int r = poll(&p, 1, remaining(deadline));
		if (r > 0)
			return 0;
		if (r == 0)
			return -ETIMEDOUT;
		if (errno != EINTR)
			return -errno;
	}
}

static int connect_socket(const char *path, uint64_t deadline)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlcpy_checked(sa.sun_path, path, sizeof(sa.sun_path)) < 0) {
		fprintf(stderr, "mpctl: socket path too long: %s\n", path);
		return -MPCTL_EXIT_USAGE;
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		fprintf(stderr, "mpctl: socket: %m\n");
		return -MPCTL_EXIT_FAILURE;
	}
	int r = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	/* A full backlog makes a non-blocking UNIX connect fail with EAGAIN:
	 * retry until the deadline rather than give up at once. */
	while (r < 0 && errno == EAGAIN && remaining(deadline) > 0) {
		usleep(20000);
		r = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	}
	if (r == 0)
		return fd;
	int e = errno;
	close(fd);
	switch (e) {
	case ENOENT:
		fprintf(stderr, "mpctl: modemd is not running (no socket at %s)\n", path);
		return -MPCTL_EXIT_NOT_RUNNING;
	case ECONNREFUSED:
		fprintf(stderr, "mpctl: modemd is not running (nothing listening on %s)\n", path);
		return -MPCTL_EXIT_NOT_RUNNING;
	case EACCES:
	case EPERM:
		fprintf(stderr, "mpctl: permission denied on %s (need root or group modemd)\n",
			path);
		return -MPCTL_EXIT_PERMISSION;
	case EAGAIN:
		fprintf(stderr, "mpctl: modemd is not accepting connections on %s\n", path);
		return -MPCTL_EXIT_PROTOCOL;
	default:
		fprintf(stderr, "mpctl: cannot connect to %s: %s\n", path, strerror(e));
		return -MPCTL_EXIT_FAILURE;
	}
}

static int send_all(int fd, const char *buf, size_t len, uint64_t deadline)
{
	while (len) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EAGAIN) {
			int r = wait_fd(fd, POLLOUT, deadline);
			if (r < 0)
				return r;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Read until the first newline; returns a malloc'd NUL-terminated line. */
static int recv_line(int fd, char **out, uint64_t deadline)
{
	size_t len = 0, cap = 0;
	char *buf = NULL;
	int r;
	for (;;) {
		if (len + 4096 + 1 > cap) {
			if (cap >= CLIENT_REPLY_MAX) {
				r = -EMSGSIZE;
				goto fail;
			}
			cap = cap ? cap * 2 : 16384;
			char *nb = realloc(buf, cap);
			if (!nb) {
				r = -ENOMEM;
				goto fail;
			}
			buf = nb;
		}
		ssize_t n = recv(fd, buf + len, cap - len - 1, 0);
		if (n < 0 && errno == EAGAIN) {
			if ((r = wait_fd(fd, POLLIN, deadline)) < 0)
				goto fail;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			goto fail;
		}
		if (n == 0) {
			r = -ECONNRESET;
			goto fail;
		}
		char *nl = memchr(buf + len, '\n', (size_t)n);
		len += (size_t)n;
		if (nl) {
			*nl = 0;
			*out = buf;
			return 0;
		}
	}
fail:
	free(buf);
	return r;
}

static int parse_reply(const char *line, json_object **reply)
{
	json_tokener *tok = json_tokener_new();
	if (!tok)
		return -ENOMEM;
	json_object *o = json_tokener_parse_ex(tok, line, (int)strlen(line));
	bool good = o && json_tokener_get_error(tok) == json_tokener_success &&
		    json_object_is_type(o, json_type_object);
	json_tokener_free(tok);
	if (!good) {
		json_object_put(o);
		return -EBADMSG;
	}
	*reply = o;
	return 0;
}

/* Turn a reply into an exit code; prints the daemon's error. */
static int check_reply(json_object *o)
{
	json_object *v = json_get(o, "version");
	if (!v || json_object_get_int(v) != CONTROL_PROTOCOL_VERSION) {
		const char *err = json_str(o, "error");
		fprintf(stderr, "mpctl: modemd speaks protocol version %s, mpctl speaks %d%s%s\n",
			v ? json_object_get_string(v) : "?", CONTROL_PROTOCOL_VERSION,
			err ? ": " : "", err ? err : "");
		return MPCTL_EXIT_PROTOCOL;
	}
	json_object *ok = json_get(o, "ok");
	if (ok && json_object_get_boolean(ok))
		return MPCTL_EXIT_OK;
	const char *err = json_str(o, "error"), *eno = json_str(o, "errno");
	fprintf(stderr, "mpctl: %s\n", err ? err : "request failed");
	return eno && strcmp(eno, "ENOENT") == 0 ? MPCTL_EXIT_NO_MODEM : MPCTL_EXIT_FAILURE;
}

int client_call(const char *command, const char *modem, json_object **reply)
{
	const char *path = client_socket_path();
	uint64_t deadline = now_ms() + CLIENT_TIMEOUT_MS;
	*reply = NULL;

	json_object *req = json_object_new_object();
	json_object_object_add(req, "version", json_object_new_int(CONTROL_PROTOCOL_VERSION));
	json_object_object_add(req, "command", json_object_new_string(command));
	if (modem)
		json_object_object_add(req, "modem", json_object_new_string(modem));
	char line[CONTROL_REQUEST_MAX + 1];
	int n = snprintf(line, sizeof(line), "%s\n",
			 json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN));
	json_object_put(req);
	if (n < 0 || (size_t)n >= sizeof(line)) {
		fprintf(stderr, "mpctl: request too long\n");
		return MPCTL_EXIT_USAGE;
	}

	int fd = connect_socket(path, deadline);
	if (fd < 0)
		return -fd;
	char *text = NULL;
	int r = send_all(fd, line, (size_t)n, deadline);
	if (r == 0)
		r = recv_line(fd, &text, deadline);
	close(fd);
	if (r == -ETIMEDOUT) {
		fprintf(stderr, "mpctl: no reply from modemd on %s within %d s\n", path,
			CLIENT_TIMEOUT_MS / 1000);
		return MPCTL_EXIT_PROTOCOL;
	}
	if (r < 0) {
		fprintf(stderr, "mpctl: lost connection to modemd on %s: %s\n", path, strerror(-r));
		return MPCTL_EXIT_PROTOCOL;
	}
	json_object *o = NULL;
	r = parse_reply(text, &o);
	free(text);
	if (r < 0) {
		fprintf(stderr, "mpctl: modemd sent a reply that is not a JSON object\n");
		return MPCTL_EXIT_PROTOCOL;
	}
	int code = check_reply(o);
	if (code != MPCTL_EXIT_OK) {
		json_object_put(o);
		return code;
	}
	*reply = o;
	return MPCTL_EXIT_OK;
}
