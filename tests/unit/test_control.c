/* Control socket server over a real UNIX socket in a temp directory, driven
 * by the real event loop: what a client (mpctl, a script) sends and reads. */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "control.h"
#include "daemon.h"
#include "loop.h"
#include "modem.h"
#include "util.h"

struct fx {
	char dir[64];
	char path[128];
	struct daemon d;
	struct modem m[2];
};

static void fill_modems(struct fx *f)
{
	uint64_t now = now_ms();
	struct modem *a = &f->m[0], *b = &f->m[1];
	a->d = b->d = &f->d;
	strcpy(a->name, "m0");
	strcpy(a->id, "861234567890123");
	strcpy(a->usb_path, "/devices/pci0000:00/usb1/1-1");
	strcpy(a->at_port, "/dev/ttyUSB2");
	strcpy(a->ppp_port, "/dev/ttyUSB3");
	strcpy(a->ident.manufacturer, "SIMCOM INCORPORATED");
	strcpy(a->ident.model, "SIMCOM_SIM7100C");
	strcpy(a->ident.imei, "861234567890123");
	strcpy(a->ident.imsi, "460011234567890");
	strcpy(a->plmn, "46001");
	strcpy(a->operator_name, "CHN-UNICOM");
	a->act = 7;
	a->sim = AT_SIM_READY;
	a->reg.stat = AT_REG_HOME;
	a->signal =
	    (struct at_signal){.csq = 20, .rssi_dbm = -73, .rsrp_dbm = -95, .rsrq_db10 = -105};
	a->have_apn = true;
	a->apn = (struct apn_profile){.plmn = "46001",
				      .provider = "China Unicom",
				      .apn = "3gnet",
				      .number = "*99#",
				      .user = "u",
				      .password = "s3cret",
				      .auth = APN_AUTH_CHAP,
				      .source = "curated"};
	a->state = MODEM_CONNECTED;
	a->admin_up = true;
	strcpy(a->ifname, "ppp-m0");
	strcpy(a->local_addr, "10.64.1.2");
	a->appeared_ms = now - 60000;
	a->state_since_ms = a->connected_since_ms = now - 42000;
	a->pppd_started_ms = a->appeared_ms + 1500;
	a->link_up_ms = a->appeared_ms + 4200;
	a->redials = 3;

	strcpy(b->name, "m1");
	strcpy(b->id, "/devices/usb1/1-2");
	b->act = -1;
	b->sim = AT_SIM_UNKNOWN;
	b->reg.stat = AT_REG_UNKNOWN;
	b->signal.csq = 99;
	/* A GSM-alphabet byte from a modem must not break the JSON. */
	strcpy(b->operator_name, "Op\xe9rateur");
	b->state = MODEM_GONE;
	strcpy(b->reason, "ports vanished");
	b->admin_up = true;
	b->appeared_ms = now - 1000;
	b->state_since_ms = now - 1000;

	a->next = b;
	f->d.modems = a;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	strcpy(f->dir, "/tmp/test_control.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/control.sock", f->dir);
	f->d.loop = loop_new();
	assert_non_null(f->d.loop);
	fill_modems(f);
	int err = 1;
	f->d.ctl = control_open(&f->d, f->path, NULL, &err);
	assert_non_null(f->d.ctl);
	assert_int_equal(err, 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	f->d.ctl = control_close(f->d.ctl);
	assert_int_equal(access(f->path, F_OK), -1); /* unlinked */
	loop_free(f->d.loop);
	rmdir(f->dir);
	free(f);
	return 0;
}

static int connect_to(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	strcpy(sa.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

static void send_all(int fd, const char *s, size_t n)
{
	assert_int_equal(send(fd, s, n, MSG_NOSIGNAL), (ssize_t)n);
}

/* Run the loop until one reply line arrives on fd; returns it (malloc'd),
 * or NULL when the server closed the connection first. */
static char *read_line(struct fx *f, int fd)
{
	char buf[65536];
	size_t len = 0;
	for (int i = 0; i < 400; i++) {
		ssize_t n = recv(fd, buf + len, 1, 0); /* bytewise: keep what follows queued */
		if (n == 0)
			return NULL;
		if (n > 0) {
			if (buf[len] == '\n') {
				buf[len] = 0;
				return strdup(buf);
			}
			len++;
			assert_true(len < sizeof(buf));
			i = 0;
			continue;
		}
		assert_int_equal(errno, EAGAIN);
		assert_true(loop_iterate(f->d.loop, 50) >= 0);
	}
	fail_msg("no reply");
	return NULL;
}

/* The connection is closed by the server once pending replies are read. */
static bool closed_by_server(struct fx *f, int fd)
{
	char c;
	for (int i = 0; i < 200; i++) {
		ssize_t n = recv(fd, &c, 1, 0);
		if (n == 0 || (n < 0 && errno == ECONNRESET))
			return true;
		if (n > 0)
			return false;
		loop_iterate(f->d.loop, 50);
	}
	return false;
}

static json_object *request(struct fx *f, int fd, const char *line)
{
	send_all(fd, line, strlen(line));
	char *r = read_line(f, fd);
	assert_non_null(r);
	json_object *o = json_tokener_parse(r);
	if (!o)
		fail_msg("reply is not JSON: %s", r);
	free(r);
	json_object *v = json_object_object_get(o, "version");
	assert_int_equal(json_object_get_int(v), CONTROL_PROTOCOL_VERSION);
	return o;
}

static const char *sget(json_object *o, const char *key)
{
	json_object *v;
	if (!json_object_object_get_ex(o, key, &v))
		fail_msg("missing key %s", key);
	return json_object_get_string(v);
}

static bool ok_of(json_object *o)
{
	return json_object_get_boolean(json_object_object_get(o, "ok"));
}

static void assert_error(json_object *o, const char *err_name, const char *text)
{
	assert_false(ok_of(o));
	assert_string_equal(sget(o, "errno"), err_name);
	if (!strstr(sget(o, "error"), text))
		fail_msg("error \"%s\" does not mention \"%s\"", sget(o, "error"), text);
}

static void test_socket_mode(void **state)
{
	struct fx *f = *state;
	struct stat st;
	assert_int_equal(stat(f->path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0660);
}

static void test_status_keys(void **state)
{
	struct fx *f = *state;
	int fd = connect_to(f->path);
	json_object *o = request(f, fd, "{\"version\":1,\"command\":\"status\"}\n");
	assert_true(ok_of(o));
	json_object *arr = json_object_object_get(o, "modems");
	assert_int_equal(json_object_array_length(arr), 2);

	static const char *const keys[] = {
	    "name",	      "id",	 "usb_path",	  "at_port",	    "ppp_port",
	    "manufacturer",   "model",	 "revision",	  "imei",	    "iccid",
	    "imsi",	      "plmn",	 "operator",	  "access_tech",    "sim",
	    "registration",   "signal",	 "apn",		  "state",	    "reason",
	    "admin",	      "ifname",	 "local_address", "remote_address", "state_seconds",
	    "uptime_seconds", "redials", "failures",	  "timing",
	};
	for (size_t i = 0; i < 2; i++) {
		json_object *m = json_object_array_get_idx(arr, i);
		for (size_t k = 0; k < ARRAY_SIZE(keys); k++)
			if (!json_object_object_get_ex(m, keys[k], NULL))
				fail_msg("modem %zu lacks \"%s\"", i, keys[k]);
	}

	json_object *m0 = json_object_array_get_idx(arr, 0);
	assert_string_equal(sget(m0, "name"), "m0");
	assert_string_equal(sget(m0, "model"), "SIMCOM_SIM7100C");
	assert_string_equal(sget(m0, "state"), "connected");
	assert_string_equal(sget(m0, "admin"), "up");
	assert_string_equal(sget(m0, "access_tech"), "LTE");
	assert_string_equal(sget(m0, "ifname"), "ppp-m0");
	assert_true(json_object_get_int(json_object_object_get(m0, "uptime_seconds")) >= 42);
	assert_int_equal(json_object_get_int(json_object_object_get(m0, "redials")), 3);
	json_object *sig = json_object_object_get(m0, "signal");
	assert_int_equal(json_object_get_int(json_object_object_get(sig, "csq")), 20);
	assert_int_equal(json_object_get_int(json_object_object_get(sig, "rssi_dbm")), -73);
	assert_true(json_object_get_double(json_object_object_get(sig, "rsrq_db")) == -10.5);
	assert_null(json_object_object_get(sig, "sinr_db"));
	json_object *apn = json_object_object_get(m0, "apn");
	assert_string_equal(sget(apn, "apn"), "3gnet");
	assert_string_equal(sget(apn, "number"), "*99#");
	assert_string_equal(sget(apn, "kind"), "3gpp");
	assert_false(json_object_object_get_ex(apn, "password", NULL));
	json_object *t = json_object_object_get(m0, "timing");
	assert_int_equal(json_object_get_int(json_object_object_get(t, "pppd_started_ms")), 1500);
	assert_int_equal(json_object_get_int(json_object_object_get(t, "link_up_ms")), 4200);

	json_object *m1 = json_object_array_get_idx(arr, 1);
	assert_string_equal(sget(m1, "reason"), "ports vanished");
	assert_string_equal(sget(m1, "operator"), "Op?rateur");
	assert_null(json_object_object_get(m1, "imei"));
	assert_null(json_object_object_get(m1, "apn"));
	assert_null(json_object_object_get(m1, "uptime_seconds"));
	assert_null(json_object_object_get(m1, "access_tech"));
	sig = json_object_object_get(m1, "signal");
	assert_null(json_object_object_get(sig, "csq"));
	t = json_object_object_get(m1, "timing");
	assert_null(json_object_object_get(t, "link_up_ms"));
	json_object_put(o);

	/* The password is nowhere in the raw bytes either. */
	send_all(fd, "{\"version\":1,\"command\":\"status\"}\n", 33);
	char *raw = read_line(f, fd);
	assert_null(strstr(raw, "s3cret"));
	free(raw);
	close(fd);
}

static void test_version(void **state)
{
	struct fx *f = *state;
	int fd = connect_to(f->path);
	json_object *o = request(f, fd, "{\"version\":1,\"command\":\"version\"}\n");
	assert_true(ok_of(o));
	assert_int_equal(json_object_get_int(json_object_object_get(o, "protocol")), 1);
	assert_non_null(sget(o, "modemd"));
	json_object_put(o);
	close(fd);
}

static int pty_new(char *name, size_t len)
{
	int fd = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(grantpt(fd), 0);
	assert_int_equal(unlockpt(fd), 0);
	assert_int_equal(ptsname_r(fd, name, len), 0);
	return fd;
}

static const char *state_of(struct fx *f, int fd, const char *name)
{
	static char st[64];
	json_object *o = request(f, fd, "{\"version\":1,\"command\":\"status\"}\n");
	json_object *arr = json_object_object_get(o, "modems");
	st[0] = 0;
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		json_object *m = json_object_array_get_idx(arr, i);
		if (strcmp(sget(m, "name"), name) == 0)
			snprintf(st, sizeof(st), "%s/%s", sget(m, "admin"), sget(m, "state"));
	}
	json_object_put(o);
	return st;
}

/* up/down drive real modem objects (modem_new on ptys nobody answers). */
static void test_up_down(void **state)
{
	struct fx *f = *state;
	f->d.modems = NULL; /* the hand-filled ones have no ports */
	assert_int_equal(config_init_defaults(&f->d.cfg), 0);
	char p[4][64];
	int ptm[4];
	for (int i = 0; i < 4; i++)
		ptm[i] = pty_new(p[i], sizeof(p[i]));
	struct modem *a = modem_new(&f->d, "ma", p[0], p[1], NULL, NULL, true);
	struct modem *b = modem_new(&f->d, "mb", p[2], p[3], NULL, NULL, true);
	assert_non_null(a);
	assert_non_null(b);

	int fd = connect_to(f->path);
	json_object *o = request(f, fd, "{\"version\":1,\"command\":\"down\",\"modem\":\"m7\"}\n");
	assert_error(o, "ENOENT", "unknown modem m7");
	json_object_put(o);
	o = request(f, fd, "{\"version\":1,\"command\":\"up\",\"modem\":\"m7\"}\n");
	assert_error(o, "ENOENT", "unknown modem m7");
	json_object_put(o);
	o = request(f, fd, "{\"version\":1,\"command\":\"up\"}\n");
	assert_error(o, "EINVAL", "modem");
	json_object_put(o);

	assert_string_equal(state_of(f, fd, "mb"), "up/probing");
	o = request(f, fd, "{\"version\":1,\"command\":\"down\",\"modem\":\"mb\"}\n");
	assert_true(ok_of(o));
	assert_string_equal(json_object_get_string(
				json_object_array_get_idx(json_object_object_get(o, "modems"), 0)),
			    "mb");
	json_object_put(o);
	assert_string_equal(state_of(f, fd, "mb"), "down/down");
	assert_string_equal(state_of(f, fd, "ma"), "up/probing");

	o = request(f, fd, "{\"version\":1,\"command\":\"down\",\"modem\":\"all\"}\n");
	assert_true(ok_of(o));
	assert_int_equal(json_object_array_length(json_object_object_get(o, "modems")), 2);
	json_object_put(o);
	assert_string_equal(state_of(f, fd, "ma"), "down/down");

	o = request(f, fd, "{\"version\":1,\"command\":\"up\",\"modem\":\"all\"}\n");
	assert_true(ok_of(o));
	json_object_put(o);
	assert_string_equal(state_of(f, fd, "ma"), "up/probing");
	assert_string_equal(state_of(f, fd, "mb"), "up/probing");
	close(fd);

	modem_remove(a, "test over");
	modem_remove(b, "test over");
	for (int i = 0; i < 4; i++)
		close(ptm[i]);
	config_release(&f->d.cfg);
}

static void test_bad_requests(void **state)
{
	struct fx *f = *state;
	int fd = connect_to(f->path);
	static const struct {
		const char *line, *err, *text;
	} cases[] = {
	    {"hello\n", "EINVAL", "not valid JSON"},
	    {"{\"version\":1,\"command\":\n", "EINVAL", "not valid JSON"},
	    {"[1,2]\n", "EINVAL", "JSON object"},
	    {"{\"version\":1,\"command\":\"status\"} x\n", "EINVAL", "after"},
	    {"{\"command\":\"status\"}\n", "EINVAL", "version"},
	    {"{\"version\":\"1\",\"command\":\"status\"}\n", "EINVAL", "version"},
	    {"{\"version\":2,\"command\":\"status\"}\n", "EPROTONOSUPPORT",
	     "unsupported protocol version 2 (modemd speaks version 1)"},
	    {"{\"version\":1}\n", "EINVAL", "command"},
	    {"{\"version\":1,\"command\":\"reboot\"}\n", "EOPNOTSUPP",
	     "unknown command \"reboot\""},
	    {"{\"version\":1,\"command\":\"up\",\"modem\":5}\n", "EINVAL", "modem"},
	    {"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\n", "EINVAL", "not valid JSON"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		json_object *o = request(f, fd, cases[i].line);
		assert_error(o, cases[i].err, cases[i].text);
		json_object_put(o);
	}
	/* Blank lines are not requests; the connection still works after all that. */
	json_object *o = request(f, fd, "\r\n\n{\"version\":1,\"command\":\"version\"}\r\n");
	assert_true(ok_of(o));
	json_object_put(o);
	close(fd);
}

static void test_oversized(void **state)
{
	struct fx *f = *state;
	int fd = connect_to(f->path);
	size_t n = CONTROL_REQUEST_MAX + 100;
	char *big = malloc(n);
	memset(big, ' ', n);
	memcpy(big, "{\"version\":1,\"command\":\"status\"", 31);
	big[n - 2] = '}';
	big[n - 1] = '\n';
	send_all(fd, big, n);
	free(big);
	char *r = read_line(f, fd);
	assert_non_null(r);
	json_object *o = json_tokener_parse(r);
	free(r);
	assert_error(o, "EMSGSIZE", "too long");
	json_object_put(o);
	assert_true(closed_by_server(f, fd));
	close(fd);
}

static void test_pipelined_and_eof(void **state)
{
	struct fx *f = *state;
	int fd = connect_to(f->path);
	/* Two requests in one write, the last without a newline, then EOF. */
	const char *two = "{\"version\":1,\"command\":\"version\"}\n"
			  "{\"version\":1,\"command\":\"down\",\"modem\":\"m9\"}";
	send_all(fd, two, strlen(two));
	shutdown(fd, SHUT_WR);
	char *r1 = read_line(f, fd), *r2 = read_line(f, fd);
	assert_non_null(r1);
	assert_non_null(r2);
	assert_non_null(strstr(r1, "\"ok\":true"));
	assert_non_null(strstr(r2, "unknown modem m9"));
	free(r1);
	free(r2);
	assert_true(closed_by_server(f, fd));
	close(fd);
}

static void test_client_flood(void **state)
{
	struct fx *f = *state;
	int fds[CONTROL_CLIENTS_MAX + 8];
	for (size_t i = 0; i < ARRAY_SIZE(fds); i++) {
		fds[i] = connect_to(f->path);
		loop_iterate(f->d.loop, 50); /* accept */
	}
	/* The ones over the limit are told why and closed. */
	for (size_t i = CONTROL_CLIENTS_MAX; i < ARRAY_SIZE(fds); i++) {
		char *r = read_line(f, fds[i]);
		assert_non_null(r);
		json_object *o = json_tokener_parse(r);
		free(r);
		assert_error(o, "EBUSY", "too many clients");
		json_object_put(o);
		assert_true(closed_by_server(f, fds[i]));
		close(fds[i]);
	}
	/* Those within the limit are served. */
	json_object *o = request(f, fds[0], "{\"version\":1,\"command\":\"version\"}\n");
	assert_true(ok_of(o));
	json_object_put(o);
	o = request(f, fds[CONTROL_CLIENTS_MAX - 1], "{\"version\":1,\"command\":\"version\"}\n");
	assert_true(ok_of(o));
	json_object_put(o);
	/* A slot freed by a hang-up is available again. */
	close(fds[0]);
	for (int i = 0; i < 5; i++)
		loop_iterate(f->d.loop, 20);
	fds[0] = connect_to(f->path);
	o = request(f, fds[0], "{\"version\":1,\"command\":\"version\"}\n");
	assert_true(ok_of(o));
	json_object_put(o);
	for (size_t i = 0; i < CONTROL_CLIENTS_MAX; i++)
		close(fds[i]);
}

/* A client that writes and never reads: its reply waits, its input stops
 * being read, and others are still served. */
static void test_reader_that_never_reads(void **state)
{
	struct fx *f = *state;
	int bad = connect_to(f->path);
	int sz = 4096;
	setsockopt(bad, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	const char *req = "{\"version\":1,\"command\":\"status\"}\n";
	size_t sent = 0;
	for (int i = 0; i < 20000; i++) {
		ssize_t n = send(bad, req, strlen(req), MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			assert_int_equal(errno, EAGAIN);
			if (loop_iterate(f->d.loop, 20) == 0)
				break;
			continue;
		}
		sent += (size_t)n;
		loop_iterate(f->d.loop, 0);
	}
	/* The kernel buffers filled up: the server stopped reading. */
	assert_true(sent < 20000 * strlen(req));
	int good = connect_to(f->path);
	json_object *o = request(f, good, "{\"version\":1,\"command\":\"version\"}\n");
	assert_true(ok_of(o));
	json_object_put(o);
	close(good);
	close(bad);
}

static void test_stale_and_live_socket(void **state)
{
	struct fx *f = *state;
	/* A second daemon must not steal a live socket. */
	int err = 0;
	struct control *c2 = control_open(&f->d, f->path, NULL, &err);
	assert_null(c2);
	assert_int_equal(err, -EADDRINUSE);

	/* A socket file nobody listens on is replaced. */
	char stale[160];
	snprintf(stale, sizeof(stale), "%s/stale.sock", f->dir);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	strcpy(sa.sun_path, stale);
	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(s);
	c2 = control_open(&f->d, stale, NULL, &err);
	assert_non_null(c2);
	int fd = connect_to(stale);
	json_object *o = request(f, fd, "{\"version\":1,\"command\":\"version\"}\n");
	assert_true(ok_of(o));
	json_object_put(o);
	close(fd);
	control_close(c2);

	/* A regular file in the way is not removed. */
	FILE *fp = fopen(stale, "w");
	fclose(fp);
	c2 = control_open(&f->d, stale, NULL, &err);
	assert_null(c2);
	assert_int_equal(err, -EADDRINUSE);
	unlink(stale);

	/* A missing group is not fatal: the socket stays root-only, 0660. */
	c2 = control_open(&f->d, stale, "no-such-group-xyz", &err);
	assert_non_null(c2);
	struct stat st;
	assert_int_equal(stat(stale, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0660);
	assert_int_equal(st.st_gid, 0);
	control_close(c2);
	assert_int_equal(access(stale, F_OK), -1);
}

static void test_adopt_socketpair(void **state)
{
	struct fx *f = *state;
	int err;
	struct control *c = control_open(&f->d, NULL, NULL, &err);
	assert_non_null(c);
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
	assert_int_equal(control_adopt(c, sv[0]), 0);
	json_object *o = request(f, sv[1], "{\"version\":1,\"command\":\"status\"}\n");
	assert_true(ok_of(o));
	json_object_put(o);
	close(sv[1]);
	control_close(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_socket_mode, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_status_keys, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_version, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_up_down, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_requests, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_oversized, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_pipelined_and_eof, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_client_flood, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reader_that_never_reads, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_stale_and_live_socket, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_adopt_socketpair, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
