/* Control socket server: UNIX stream socket, one JSON request per line, one
 * JSON reply per line. The protocol (keys, errors) is documented in
 * docs/control-protocol.md; scripts depend on it, so keys only ever get added.
 *
 * Every client has one fixed input buffer and at most one pending reply: we
 * stop reading a client while its reply is unsent, so a client that writes
 * without reading costs us one reply, not an unbounded queue. */
#include "control.h"

#include "build-config.h"
#include "daemon.h"
#include "gateway.h"
#include "log.h"
#include "loop.h"
#include "modem.h"
#include "receiver.h"
#include "util.h"

#include <errno.h>
#include <grp.h>
#include <stdarg.h>
#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/* Deep nesting buys a client nothing: requests are flat objects. */
#define CONTROL_JSON_DEPTH 8

struct client {
	struct control *ctl;
	struct client *next;
	int fd;
	struct loop_io *io;
	uint32_t events; /* what io waits for */
	char in[CONTROL_REQUEST_MAX];
	size_t in_len;
	char *out; /* the one pending reply, with its newline */
	size_t out_len, out_off;
	bool eof;	  /* peer shut down its side: close once flushed */
	bool close_after; /* protocol error: close once flushed */
};

struct control {
	struct daemon *d;
	int fd;
	struct loop_io *io;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct client *clients;
	unsigned n_clients;
	bool full_logged; /* one warning per episode of being full, not per client */
};

/* ---- replies ---------------------------------------------------------- */

static const char *errno_name(int e)
{
	const char *n = strerrorname_np(e);
	return n ? n : "EIO";
}

static json_object *reply_new(bool ok)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "version", json_object_new_int(CONTROL_PROTOCOL_VERSION));
	json_object_object_add(o, "ok", json_object_new_boolean(ok));
	return o;
}

/* err is a negative errno; the message is for humans, errno for scripts. */
static json_object *reply_error(int err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static json_object *reply_error(int err, const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_object *o = reply_new(false);
	json_object_object_add(o, "error", json_object_new_string(msg));
	json_object_object_add(o, "errno", json_object_new_string(errno_name(-err)));
	return o;
}

/* ---- status ----------------------------------------------------------- */

static bool utf8_valid(const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		unsigned char c = s[i];
		size_t k = c < 0x80		   ? 0
			   : c >= 0xc2 && c < 0xe0 ? 1
			   : c >= 0xe0 && c < 0xf0 ? 2
			   : c >= 0xf0 && c < 0xf5 ? 3
						   : 4;
		if (k == 4 || i + k >= n)
			return false;
		for (size_t j = 1; j <= k; j++)
			if ((s[i + j] & 0xc0) != 0x80)
				return false;
		i += k + 1;
	}
	return true;
}

/* A text field of a fixed array: null when empty; bytes that are not UTF-8
 * (a modem's GSM-alphabet operator name) become '?' so the reply stays JSON. */
static json_object *jstr_n(const char *s, size_t size)
{
	size_t n = strnlen(s, size);
	if (!n)
		return NULL;
	if (utf8_valid((const unsigned char *)s, n))
		return json_object_new_string_len(s, (int)n);
	char buf[512];
	n = n < sizeof(buf) ? n : sizeof(buf) - 1;
	for (size_t i = 0; i < n; i++)
		buf[i] = (unsigned char)s[i] < 0x80 ? s[i] : '?';
	return json_object_new_string_len(buf, (int)n);
}
#define jstr(field) jstr_n((field), sizeof(field))

static json_object *jstr_c(const char *s)
{
	return s && *s ? json_object_new_string(s) : NULL;
}

static json_object *jint_known(int v, bool known)
{
	return known ? json_object_new_int(v) : NULL;
}

static json_object *jtenths(int v10)
{
	if (!v10)
		return NULL;
	/* Serialise as written ("-9.4"), not as the nearest binary double. */
	char txt[16];
	snprintf(txt, sizeof(txt), "%.1f", v10 / 10.0);
	return json_object_new_double_s(v10 / 10.0, txt);
}

/* Milliseconds from appearance to an event stamped on the monotonic clock. */
static json_object *jsince(uint64_t start, uint64_t at)
{
	if (!at || at < start)
		return NULL;
	return json_object_new_int64((int64_t)(at - start));
}

static json_object *apn_json(const struct modem *m)
{
	if (!m->have_apn)
		return NULL;
	const struct apn_profile *p = &m->apn;
	json_object *o = json_object_new_object();
	/* The password never leaves the daemon. */
	json_object_object_add(o, "apn", jstr(p->apn));
	json_object_object_add(o, "number", jstr(p->number));
	json_object_object_add(o, "user", jstr(p->user));
	json_object_object_add(o, "auth", jstr_c(apn_auth_to_string(p->auth)));
	json_object_object_add(o, "kind",
			       json_object_new_string(p->kind == APN_DIAL_CDMA ? "cdma" : "3gpp"));
	json_object_object_add(o, "provider", jstr(p->provider));
	json_object_object_add(o, "source", jstr(p->source));
	return o;
}

static json_object *signal_json(const struct at_signal *s)
{
	json_object *o = json_object_new_object();
	/* CSQ fills csq and rssi_dbm together; a zeroed struct is "never measured". */
	bool csq_known = s->csq >= 0 && s->csq <= 31 && s->rssi_dbm != 0;
	json_object_object_add(o, "csq", jint_known(s->csq, csq_known));
	json_object_object_add(o, "rssi_dbm", jint_known(s->rssi_dbm, s->rssi_dbm != 0));
	json_object_object_add(o, "rsrp_dbm", jint_known(s->rsrp_dbm, s->rsrp_dbm != 0));
	json_object_object_add(o, "rsrq_db", jtenths(s->rsrq_db10));
	json_object_object_add(o, "sinr_db", jtenths(s->sinr_db10));
	json_object_object_add(o, "sysmode", jstr(s->sysmode));
	return o;
}

static json_object *modem_json(const struct modem *m, uint64_t now)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "name", jstr(m->name));
	json_object_object_add(o, "id", jstr(m->id));
	json_object_object_add(o, "static", json_object_new_boolean(m->is_static));
	json_object_object_add(o, "usb_path", jstr(m->usb_path));
	json_object_object_add(o, "at_port", jstr(m->at_port));
	json_object_object_add(o, "ppp_port", jstr(m->ppp_port));
	json_object_object_add(o, "manufacturer", jstr(m->ident.manufacturer));
	json_object_object_add(o, "model", jstr(m->ident.model));
	json_object_object_add(o, "revision", jstr(m->ident.revision));
	json_object_object_add(o, "imei", jstr(m->ident.imei));
	json_object_object_add(o, "iccid", jstr(m->ident.iccid));
	json_object_object_add(o, "imsi", jstr(m->ident.imsi));
	json_object_object_add(o, "plmn", jstr(m->plmn));
	json_object_object_add(o, "operator", jstr(m->operator_name));
	json_object_object_add(o, "access_tech",
			       m->act >= 0 ? jstr_c(at_act_to_string(m->act)) : NULL);
	json_object_object_add(o, "sim", jstr_c(at_sim_state_to_string(m->sim)));
	json_object_object_add(o, "registration", jstr_c(at_reg_state_to_string(m->reg.stat)));
	json_object_object_add(o, "signal", signal_json(&m->signal));
	json_object_object_add(o, "apn", apn_json(m));
	json_object_object_add(o, "state", jstr_c(modem_state_to_string(m->state)));
	json_object_object_add(o, "reason", jstr(m->reason));
	json_object_object_add(o, "admin", json_object_new_string(m->admin_up ? "up" : "down"));
	json_object_object_add(o, "ifname", jstr(m->ifname));
	json_object_object_add(o, "local_address", jstr(m->local_addr));
	json_object_object_add(o, "remote_address", jstr(m->remote_addr));
	json_object_object_add(o, "state_seconds",
			       json_object_new_int64(m->state_since_ms && now >= m->state_since_ms
							 ? (int64_t)(now - m->state_since_ms) / 1000
							 : 0));
	bool up =
	    m->state == MODEM_CONNECTED && m->connected_since_ms && now >= m->connected_since_ms;
	json_object_object_add(
	    o, "uptime_seconds",
	    up ? json_object_new_int64((int64_t)(now - m->connected_since_ms) / 1000) : NULL);
	json_object_object_add(o, "redials", json_object_new_int64(m->redials));
	json_object_object_add(o, "failures", json_object_new_int64(m->failures));
	json_object *t = json_object_new_object();
	json_object_object_add(t, "pppd_started_ms", jsince(m->appeared_ms, m->pppd_started_ms));
	json_object_object_add(t, "link_up_ms", jsince(m->appeared_ms, m->link_up_ms));
	json_object_object_add(o, "timing", t);
	return o;
}

static json_object *req_status(struct control *c, json_object *req)
{
	json_object *arr = json_object_new_array();
	uint64_t now = now_ms();
	for (const struct modem *m = c->d->modems; m; m = m->next)
		json_object_array_add(arr, modem_json(m, now));
	json_object *o = reply_new(true);
	json_object_object_add(o, "mode",
			       json_object_new_string(config_mode_to_string(c->d->cfg.mode)));
	json_object_object_add(o, "modems", arr);
	if (c->d->cfg.mode == CFG_MODE_GATEWAY)
		json_object_object_add(o, "bundle",
				       c->d->gw ? gateway_status_json(c->d->gw) : NULL);
	if (c->d->cfg.mode == CFG_MODE_RECEIVER && c->d->rx) {
		json_object *info = NULL;
		json_object *gws = receiver_status_json(c->d->rx, &info);
		json_object_object_add(o, "receiver", info);
		json_object_object_add(o, "gateways", gws);
	}
	return o;
}

/* ---- up / down -------------------------------------------------------- */

static json_object *set_admin(struct control *c, json_object *req, bool up)
{
	json_object *jm;
	if (!json_object_object_get_ex(req, "modem", &jm) ||
	    !json_object_is_type(jm, json_type_string))
		return reply_error(-EINVAL, "\"modem\" must be a modem name, id or \"all\"");
	const char *name = json_object_get_string(jm);
	json_object *done = json_object_new_array();
	int r = 0;
	const char *failed = NULL;
	if (c->d->cfg.mode == CFG_MODE_RECEIVER) {
		json_object_put(done);
		return reply_error(-EOPNOTSUPP, "a receiver has no links to bring up or down");
	}
	if (strcmp(name, "all") == 0) {
		/* Static bundle links first; modem links follow their modem. */
		const char *names[CFG_MAX_BUNDLE_LINKS * 2];
		size_t nn = c->d->gw ? gateway_link_names(c->d->gw, names, ARRAY_SIZE(names)) : 0;
		for (size_t i = 0; i < nn; i++)
			if (gateway_link_set_admin(c->d->gw, names[i], up) >= 0 &&
			    !modem_find(c->d, names[i]))
				json_object_array_add(done, json_object_new_string(names[i]));
		/* modem_set_admin never frees the modem, so walking on is safe. */
		for (struct modem *m = c->d->modems; m; m = m->next) {
			int k = modem_set_admin(m, up);
			if (k < 0 && !r) {
				r = k;
				failed = m->name;
			}
			if (k >= 0)
				json_object_array_add(done, json_object_new_string(m->name));
		}
	} else {
		struct modem *m = modem_find(c->d, name);
		if (!m && c->d->gw && (r = gateway_link_set_admin(c->d->gw, name, up)) >= 0) {
			log_info("control: %s %s", up ? "up" : "down", name);
			json_object_array_add(done, json_object_new_string(name));
			json_object *o = reply_new(true);
			json_object_object_add(o, "modems", done);
			return o;
		}
		if (!m) {
			json_object_put(done);
			return reply_error(-ENOENT, "unknown %s %.64s",
					   c->d->gw ? "modem or link" : "modem", name);
		}
		r = modem_set_admin(m, up);
		failed = m->name;
		if (r >= 0)
			json_object_array_add(done, json_object_new_string(m->name));
	}
	if (r < 0) {
		json_object_put(done);
		return reply_error(r, "%s %s: %s", up ? "up" : "down", failed, strerror(-r));
	}
	log_info("control: %s %s", up ? "up" : "down", name);
	json_object *o = reply_new(true);
	json_object_object_add(o, "modems", done);
	return o;
}

static json_object *req_up(struct control *c, json_object *req)
{
	return set_admin(c, req, true);
}

static json_object *req_down(struct control *c, json_object *req)
{
	return set_admin(c, req, false);
}

static json_object *req_version(struct control *c, json_object *req)
{
	json_object *o = reply_new(true);
	json_object_object_add(o, "modemd", json_object_new_string(MODEMD_VERSION));
	json_object_object_add(o, "protocol", json_object_new_int(CONTROL_PROTOCOL_VERSION));
	return o;
}

static const struct {
	const char *name;
	json_object *(*fn)(struct control *c, json_object *req);
} commands[] = {
    {"status", req_status},
    {"up", req_up},
    {"down", req_down},
    {"version", req_version},
};

/* ---- request parsing -------------------------------------------------- */

static json_object *dispatch(struct control *c, json_object *req)
{
	if (!json_object_is_type(req, json_type_object))
		return reply_error(-EINVAL, "request must be a JSON object");
	json_object *jv, *jc;
	if (!json_object_object_get_ex(req, "version", &jv) ||
	    !json_object_is_type(jv, json_type_int))
		return reply_error(-EINVAL,
				   "request needs an integer \"version\" (this is version %d)",
				   CONTROL_PROTOCOL_VERSION);
	int64_t v = json_object_get_int64(jv);
	if (v != CONTROL_PROTOCOL_VERSION)
		return reply_error(-EPROTONOSUPPORT,
				   "unsupported protocol version %lld (modemd speaks version %d)",
				   (long long)v, CONTROL_PROTOCOL_VERSION);
	if (!json_object_object_get_ex(req, "command", &jc) ||
	    !json_object_is_type(jc, json_type_string))
		return reply_error(-EINVAL, "request needs a string \"command\"");
	const char *cmd = json_object_get_string(jc);
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (strcmp(cmd, commands[i].name) == 0)
			return commands[i].fn(c, req);
	return reply_error(-EOPNOTSUPP, "unknown command \"%.64s\"", cmd);
}

/* One request line (no newline) -> one reply object. */
static json_object *handle_line(struct control *c, const char *line, size_t len)
{
	json_tokener *tok = json_tokener_new_ex(CONTROL_JSON_DEPTH);
	if (!tok)
		return reply_error(-ENOMEM, "out of memory");
	json_object *req = json_tokener_parse_ex(tok, line, (int)len);
	enum json_tokener_error jerr = json_tokener_get_error(tok);
	size_t end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	json_object *reply;
	if (!req || jerr != json_tokener_success) {
		reply = reply_error(-EINVAL, "request is not valid JSON: %s",
				    jerr == json_tokener_continue ? "unexpected end of line"
								  : json_tokener_error_desc(jerr));
		goto out;
	}
	for (size_t i = end; i < len; i++)
		if (line[i] != ' ' && line[i] != '\t' && line[i] != '\r') {
			reply = reply_error(-EINVAL, "request has text after the JSON object");
			goto out;
		}
	reply = dispatch(c, req);
out:
	json_object_put(req);
	return reply;
}

/* ---- clients ---------------------------------------------------------- */

static void client_free(struct client *cl)
{
	struct control *c = cl->ctl;
	for (struct client **pp = &c->clients; *pp; pp = &(*pp)->next)
		if (*pp == cl) {
			*pp = cl->next;
			break;
		}
	c->n_clients--;
	c->full_logged = false;
	loop_io_del(cl->io);
	close(cl->fd);
	free(cl->out);
	free(cl);
}

static int client_queue(struct client *cl, json_object *reply)
{
	size_t n;
	const char *s = json_object_to_json_string_length(
	    reply, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &n);
	char *out = s ? malloc(n + 1) : NULL;
	if (!out) {
		json_object_put(reply);
		return -ENOMEM;
	}
	memcpy(out, s, n);
	out[n] = '\n';
	json_object_put(reply);
	cl->out = out;
	cl->out_len = n + 1;
	cl->out_off = 0;
	return 0;
}

/* Returns -EAGAIN while bytes remain, 0 when flushed, other -errno on error. */
static int client_flush(struct client *cl)
{
	while (cl->out && cl->out_off < cl->out_len) {
		ssize_t w = send(cl->fd, cl->out + cl->out_off, cl->out_len - cl->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0)
			return errno == EINTR ? 0 : errno == EAGAIN ? -EAGAIN : -errno;
		cl->out_off += (size_t)w;
	}
	freep(&cl->out);
	cl->out_len = cl->out_off = 0;
	return 0;
}

static int client_wait(struct client *cl, uint32_t events)
{
	if (cl->events == events)
		return 0;
	cl->events = events;
	return loop_io_mod(cl->io, events);
}

/* Answer buffered requests until one reply cannot be sent at once, then
 * wait for the socket to drain (EPOLLOUT) or for more input (EPOLLIN). */
static void client_process(struct client *cl)
{
	for (;;) {
		int r = client_flush(cl);
		if (r == -EAGAIN) {
			if (client_wait(cl, EPOLLOUT) < 0)
				break;
			return;
		}
		if (r < 0 || cl->close_after)
			break;
		char *nl = memchr(cl->in, '\n', cl->in_len);
		size_t len;
		if (nl) {
			len = (size_t)(nl - cl->in);
		} else if (cl->in_len == sizeof(cl->in)) {
			/* Never grows: the peer learns why, then we hang up. */
			cl->close_after = true;
			if (client_queue(cl,
					 reply_error(-EMSGSIZE, "request too long (limit %d bytes)",
						     CONTROL_REQUEST_MAX - 1)) < 0)
				break;
			continue;
		} else if (cl->eof && cl->in_len) {
			len = cl->in_len; /* last line without a newline */
		} else if (cl->eof) {
			break;
		} else {
			if (client_wait(cl, EPOLLIN) < 0)
				break;
			return;
		}
		size_t l = len;
		while (l &&
		       (cl->in[l - 1] == '\r' || cl->in[l - 1] == ' ' || cl->in[l - 1] == '\t'))
			l--;
		json_object *reply = NULL;
		if (l)
			reply = handle_line(cl->ctl, cl->in, l);
		size_t used = nl ? len + 1 : len;
		memmove(cl->in, cl->in + used, cl->in_len - used);
		cl->in_len -= used;
		if (reply && client_queue(cl, reply) < 0)
			break;
	}
	client_free(cl);
}

static void client_io(struct loop_io *io, int fd, uint32_t events, void *data)
{
	struct client *cl = data;
	if (events & EPOLLIN && !cl->out) {
		ssize_t n =
		    recv(fd, cl->in + cl->in_len, sizeof(cl->in) - cl->in_len, MSG_DONTWAIT);
		if (n < 0 && errno != EAGAIN && errno != EINTR) {
			client_free(cl);
			return;
		}
		if (n == 0)
			cl->eof = true;
		if (n > 0)
			cl->in_len += (size_t)n;
	} else if (events & (EPOLLERR | EPOLLHUP) && !(events & EPOLLOUT)) {
		client_free(cl);
		return;
	}
	client_process(cl);
}

int control_adopt(struct control *c, int fd)
{
	if (c->n_clients >= CONTROL_CLIENTS_MAX) {
		char msg[160];
		int n = snprintf(
		    msg, sizeof(msg),
		    "{\"version\":%d,\"ok\":false,\"error\":\"too many clients (limit %d)\","
		    "\"errno\":\"EBUSY\"}\n",
		    CONTROL_PROTOCOL_VERSION, CONTROL_CLIENTS_MAX);
		/* Best effort: a fresh socket's buffer takes this at once. */
		if (send(fd, msg, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
			log_debug("control: cannot refuse client: %m");
		close(fd);
		if (!c->full_logged)
			log_warn("control: refusing clients: %d already connected",
				 CONTROL_CLIENTS_MAX);
		c->full_logged = true;
		return -EBUSY;
	}
	struct client *cl = calloc(1, sizeof(*cl));
	if (!cl) {
		close(fd);
		return -ENOMEM;
	}
	cl->ctl = c;
	cl->fd = fd;
	cl->events = EPOLLIN;
	cl->io = loop_io_add(c->d->loop, fd, EPOLLIN, client_io, cl);
	if (!cl->io) {
		close(fd);
		free(cl);
		return -ENOMEM;
	}
	cl->next = c->clients;
	c->clients = cl;
	c->n_clients++;
	return 0;
}

static void listener_io(struct loop_io *io, int fd, uint32_t events, void *data)
{
	struct control *c = data;
	int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (cfd < 0) {
		if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
			log_warn("control: accept: %m");
		return;
	}
	control_adopt(c, cfd);
}

/* ---- socket ----------------------------------------------------------- */

/* A socket file nobody answers on is a leftover of a crash; one that
 * answers belongs to a running daemon and must not be stolen. */
static int remove_stale(const struct sockaddr_un *sa)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	int r = connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) < 0 ? -errno : 0;
	close(fd);
	if (r == 0)
		return log_errno(-EADDRINUSE, "control: %s: another modemd is listening",
				 sa->sun_path);
	struct stat st;
	/* connect() to a regular file is refused too: only remove sockets. */
	if (r == -ECONNREFUSED && lstat(sa->sun_path, &st) == 0 && S_ISSOCK(st.st_mode)) {
		log_info("control: removing stale socket %s", sa->sun_path);
		if (unlink(sa->sun_path) < 0 && errno != ENOENT)
			return log_errno(-errno, "control: cannot remove %s: %m", sa->sun_path);
	}
	return 0; /* ENOENT and the rest: bind() will tell */
}

static int set_group(const char *path, const char *group)
{
	char buf[1024];
	struct group gr, *res = NULL;
	int r = getgrnam_r(group, &gr, buf, sizeof(buf), &res);
	if (r || !res) {
		/* Not fatal: the socket stays root-only (0660 root:root). */
		log_warn("control: group %s does not exist; %s is for root only", group, path);
		return 0;
	}
	if (chown(path, (uid_t)-1, res->gr_gid) < 0)
		return log_errno(-errno, "control: chown %s to group %s: %m", path, group);
	return 0;
}

static int listen_on(struct control *c, const char *path, const char *group)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlcpy_checked(sa.sun_path, path, sizeof(sa.sun_path)) < 0)
		return log_errno(-ENAMETOOLONG, "control: socket path too long: %s", path);
	char dir[sizeof(sa.sun_path)];
	strlcpy_checked(dir, path, sizeof(dir));
	char *slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = 0;
		int r = mkdir_p(dir, 0755);
		if (r < 0)
			return log_errno(r, "control: cannot create %s: %s", dir, strerror(-r));
	}
	int r = remove_stale(&sa);
	if (r < 0)
		return r;
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return log_errno(-errno, "control: socket: %m");
	/* Born with the final mode: no window where others may connect. */
	mode_t old = umask(0117);
	r = bind(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ? -errno : 0;
	umask(old);
	if (r < 0)
		return log_errno(r, "control: bind %s: %s", path, strerror(-r));
	strlcpy_checked(c->path, path, sizeof(c->path));
	if (chmod(path, 0660) < 0)
		return log_errno(-errno, "control: chmod %s: %m", path);
	if (group && *group && (r = set_group(path, group)) < 0)
		return r;
	if (listen(c->fd, CONTROL_CLIENTS_MAX) < 0)
		return log_errno(-errno, "control: listen %s: %m", path);
	c->io = loop_io_add(c->d->loop, c->fd, EPOLLIN, listener_io, c);
	if (!c->io)
		return log_errno(-ENOMEM, "control: cannot watch %s", path);
	log_info("control: listening on %s", path);
	return 0;
}

struct control *control_open(struct daemon *d, const char *path, const char *group, int *err)
{
	struct control *c = calloc(1, sizeof(*c));
	int r = -ENOMEM;
	if (!c)
		goto fail;
	c->d = d;
	c->fd = -1;
	if (path && (r = listen_on(c, path, group)) < 0)
		goto fail;
	if (err)
		*err = 0;
	return c;
fail:
	control_close(c);
	if (err)
		*err = r;
	return NULL;
}

struct control *control_close(struct control *c)
{
	if (!c)
		return NULL;
	while (c->clients)
		client_free(c->clients);
	loop_io_del(c->io);
	if (c->fd >= 0)
		close(c->fd);
	if (c->path[0])
		unlink(c->path);
	free(c);
	return NULL;
}
