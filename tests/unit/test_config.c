/* Config: defaults, the shipped example, lookups, overrides, mode check,
 * round trips, and the golden files in tests/config/ (err-*.conf must fail
 * with the message in err-*.err, ok-*.conf must print as ok-*.ok).
 * UPDATE_GOLDEN=1 rewrites the expected files (review the diff!). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include "build-config.h"
#include "config.h"

#define GOLDEN_DIR TEST_SRCDIR "/tests/config"
#define EXAMPLE	   TEST_SRCDIR "/etc/modemd.conf.example"
#define RX_EXAMPLE TEST_SRCDIR "/etc/receiver.conf.example"

/* libconfig 1.5 leaks a string token when a syntax error follows it. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
	return "leak:strbuf_append\nleak:libconfig_yylex\n";
}

static char *print_to_string(const struct config *c, bool secrets)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	assert_int_equal(config_print(c, f, secrets), 0);
	fclose(f);
	return buf;
}

/* Everything after the first line (which names the source file). */
static const char *body(const char *printed)
{
	const char *nl = strchr(printed, '\n');
	return nl ? nl + 1 : printed;
}

/* Printing, parsing the print and printing again gives the same text. */
static void assert_round_trip(const struct config *c)
{
	char *once = print_to_string(c, true), err[512] = "";
	struct config again;

	if (config_load_string(&again, once, "printed", err, sizeof(err)) < 0)
		fail_msg("printed config does not parse: %s\n%s", err, once);
	char *twice = print_to_string(&again, true);
	assert_string_equal(body(once), body(twice));
	free(once);
	free(twice);
	config_release(&again);
}

static int load(struct config *c, const char *text, char *err, size_t len)
{
	return config_load_string(c, text, "test.conf", err, len);
}

static void test_defaults(void **state)
{
	struct config c, parsed;
	char err[512];

	assert_int_equal(config_init_defaults(&c), 0);
	assert_int_equal(c.log_level, LOG_INFO);
	assert_string_equal(c.control_socket, "/run/modemd/control.sock");
	assert_string_equal(c.control_group, "modemd");
	assert_string_equal(c.state_dir, "/var/lib/modemd");
	assert_true(c.udev);
	assert_int_equal(c.n_apn_db, 2);
	assert_string_equal(c.apn_db[0], MODEMD_DATADIR "/curated.conf");
	assert_string_equal(c.apn_db[1], MODEMD_DATADIR "/mbpi.conf");
	assert_int_equal(c.dial.at_timeout_ms, 5000);
	assert_int_equal(c.dial.registration_timeout_ms, 90000);
	assert_int_equal(c.dial.backoff_initial_ms, 2000);
	assert_int_equal(c.dial.backoff_max_ms, 300000);
	assert_int_equal(c.dial.reset_after_failures, 4);
	assert_int_equal(c.dial.signal_refresh_ms, 30000);
	assert_int_equal(c.dial.connect_timeout_ms, 60000);
	assert_int_equal(c.dial.lcp_echo_interval, 10);
	assert_int_equal(c.dial.lcp_echo_failure, 3);
	assert_int_equal(c.dial.baud, 115200);
	assert_string_equal(c.dial.chat_dir, MODEMD_DATADIR "/chat");
	assert_string_equal(c.dial.ifname_prefix, "ppp-");
	assert_int_equal(c.dial.n_pppd_extra, 1);
	assert_string_equal(c.dial.pppd_extra[0], "noccp");
	assert_int_equal(c.n_models, 2);
	assert_int_equal(c.n_static_modems + c.n_sims + c.n_plmns, 0);
	assert_false(config_has_secrets(&c));

	/* An empty file is the same value. */
	assert_int_equal(load(&parsed, "", err, sizeof(err)), 0);
	char *a = print_to_string(&c, true), *b = print_to_string(&parsed, true);
	assert_string_equal(body(a), body(b));
	free(a);
	free(b);
	assert_round_trip(&c);
	config_release(&c);
	config_release(&parsed);
	config_release(&c); /* twice is fine */
	config_release(NULL);
}

static void test_example(void **state)
{
	struct config c;
	char err[512] = "";

	if (config_load_file(&c, EXAMPLE, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	assert_string_equal(c.source, EXAMPLE);
	assert_int_equal(c.n_models, 3);
	assert_int_equal(config_find_model(&c, 0x1e0e, 0x9011)->ppp_interface, 5);
	assert_int_equal(c.n_sims, 1);
	assert_true(c.sims[0].has_apn);
	assert_string_equal(c.sims[0].apn.apn, "3gnet");
	assert_int_equal(c.sims[0].apn.auth, APN_AUTH_NONE);
	assert_string_equal(config_find_plmn(&c, "46000")->apn.number, "*98*1#");
	/* As shipped it holds no secrets, so a 0644 install is fine. */
	assert_false(config_has_secrets(&c));
	assert_int_equal(config_check_file_mode(&c, EXAMPLE, err, sizeof(err)), 0);
	assert_round_trip(&c);
	assert_false(c.bundle.enabled); /* the bundle example is commented out */
	config_release(&c);
}

static char *read_all(const char *path);

/* The commented-out bundle example, with its leading '#' removed as the
 * example says, is a valid configuration. */
static void test_example_bundle(void **state)
{
	char *text = read_all(EXAMPLE), *line, err[512] = "";
	bool in = false;
	struct config c;

	assert_non_null(text);
	for (line = text; line && *line;
	     line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
		if (strncmp(line, "#bundle = {", 11) == 0)
			in = true;
		if (!in || line[0] != '#')
			continue;
		in = strncmp(line, "#};", 3) != 0;
		line[0] = ' ';
	}
	if (load(&c, text, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	assert_true(c.bundle.enabled);
	assert_string_equal(c.bundle.links[0].interface, "eth0");
	assert_true(config_has_secrets(&c)); /* the placeholder secret */
	assert_round_trip(&c);
	config_release(&c);
	free(text);
}

static void test_models_override(void **state)
{
	struct config c;
	char err[512] = "";
	const struct cfg_model *m;

	assert_int_equal(
	    load(&c,
		 "models = ( { vid = 0x1e0e; pid = 0x9001; at_interface = 4; "
		 "ppp_interface = 5; },\n"
		 "{ vid = 0x1bc7; pid = 0x1201; at_interface = 0; ppp_interface = 3; } );",
		 err, sizeof(err)),
	    0);
	assert_int_equal(c.n_models, 3);
	m = config_find_model(&c, 0x1e0e, 0x9001);
	assert_ptr_equal(m, &c.models[0]); /* replaced in place, not appended */
	assert_int_equal(m->at_interface, 4);
	assert_int_equal(m->ppp_interface, 5);
	/* What the override does not set keeps the built-in value. */
	assert_string_equal(m->reset_cmd, "AT+CRESET");
	assert_string_equal(m->name, "SIMCom SIM7100/SIM7600");
	m = config_find_model(&c, 0x2c7c, 0x0125);
	assert_non_null(m);
	assert_string_equal(m->reset_cmd, "AT+CFUN=1,1");
	m = config_find_model(&c, 0x1bc7, 0x1201);
	assert_non_null(m);
	assert_int_equal(m->at_interface, 0);
	assert_null(config_find_model(&c, 0x1bc7, 0x1202));
	config_release(&c);

	/* Overriding only the reset command of a built-in. */
	assert_int_equal(load(&c,
			      "models = ( { vid = 0x2c7c; pid = 0x125; reset = \"AT+CRESET\"; } );",
			      err, sizeof(err)),
			 0);
	assert_int_equal(c.n_models, 2);
	m = config_find_model(&c, 0x2c7c, 0x0125);
	assert_string_equal(m->reset_cmd, "AT+CRESET");
	assert_string_equal(m->name, "Quectel EC25/EG25");
	assert_int_equal(m->at_interface, 2);
	config_release(&c);
	/* A new model needs its interfaces. */
	assert_int_equal(load(&c, "models = ( { vid = 0x2c7c; pid = 0x126; at_interface = 2; } );",
			      err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err,
			    "test.conf:1: models[0].ppp_interface: required setting is missing");

	/* Built-ins without a config. */
	assert_int_equal(config_init_defaults(&c), 0);
	m = config_find_model(&c, 0x1e0e, 0x9001);
	assert_string_equal(m->reset_cmd, "AT+CRESET");
	assert_int_equal(m->at_interface, 2);
	assert_int_equal(m->ppp_interface, 3);
	m = config_find_model(&c, 0x2c7c, 0x0125);
	assert_string_equal(m->reset_cmd, "AT+CFUN=1,1");
	config_release(&c);
}

static void test_lookups(void **state)
{
	struct config c;
	char err[512] = "";

	assert_int_equal(
	    load(&c,
		 "sims = ( { iccid = \"89860012345678901234\"; pin = \"1234\"; },\n"
		 " { iccid = \"89860312345678901234\"; number = \"#777\"; kind = \"cdma\";"
		 "   user = \"ctnet@mycdma.cn\"; password = \"vnet.mobi\"; auth = \"chap\"; } );\n"
		 "plmns = ( { plmn = \"46001\"; apn = \"3gnet\"; },\n"
		 " { plmn = \"310410\"; apn = \"broadband\"; number = \"*99***1#\"; } );",
		 err, sizeof(err)),
	    0);
	const struct cfg_sim *s = config_find_sim(&c, "89860012345678901234");
	assert_non_null(s);
	assert_string_equal(s->pin, "1234");
	assert_false(s->has_apn);
	s = config_find_sim(&c, "89860312345678901234");
	assert_true(s->has_apn);
	assert_int_equal(s->apn.kind, APN_DIAL_CDMA);
	assert_int_equal(s->apn.auth, APN_AUTH_CHAP);
	assert_string_equal(s->apn.user, "ctnet@mycdma.cn");
	assert_string_equal(s->apn.password, "vnet.mobi");
	assert_string_equal(s->apn.source, "config test.conf:2");
	assert_null(config_find_sim(&c, "8986001234567890123"));
	assert_null(config_find_sim(&c, NULL));

	const struct cfg_plmn *p = config_find_plmn(&c, "46001");
	assert_non_null(p);
	assert_string_equal(p->apn.apn, "3gnet");
	assert_string_equal(p->apn.number, "*99#"); /* default for 3gpp */
	assert_string_equal(p->apn.plmn, "46001");
	assert_int_equal(p->apn.auth, APN_AUTH_ANY);
	assert_string_equal(config_find_plmn(&c, "310410")->apn.number, "*99***1#");
	assert_null(config_find_plmn(&c, "31041"));
	assert_null(config_find_plmn(&c, NULL));
	assert_true(config_has_secrets(&c));
	config_release(&c);
}

static void test_secrets_hidden(void **state)
{
	struct config c;
	char err[512] = "";

	assert_int_equal(
	    load(&c,
		 "sims = ( { iccid = \"89860012345678901234\"; pin = \"4321\"; apn = \"x\";"
		 " password = \"s3cret\"; } );\n"
		 "plmns = ( { plmn = \"46001\"; apn = \"3gnet\"; password = \"0ther\"; } );",
		 err, sizeof(err)),
	    0);
	char *hidden = print_to_string(&c, false), *shown = print_to_string(&c, true);
	assert_null(strstr(hidden, "4321"));
	assert_null(strstr(hidden, "s3cret"));
	assert_null(strstr(hidden, "0ther"));
	assert_non_null(strstr(hidden, "pin = \"<hidden>\";"));
	assert_non_null(strstr(hidden, "password = \"<hidden>\";"));
	assert_non_null(strstr(shown, "pin = \"4321\";"));
	assert_non_null(strstr(shown, "password = \"s3cret\";"));
	assert_non_null(strstr(shown, "password = \"0ther\";"));
	free(hidden);
	free(shown);
	config_release(&c);
}

static void check_mode(const struct config *c, const char *path, mode_t mode, int expect)
{
	char err[512] = "";

	assert_int_equal(chmod(path, mode), 0);
	assert_int_equal(config_check_file_mode(c, path, err, sizeof(err)), expect);
	if (expect == -EPERM) {
		assert_non_null(strstr(err, path));
		assert_non_null(strstr(err, "holds secrets"));
		assert_non_null(strstr(err, "chmod 600"));
	}
}

static void test_file_mode(void **state)
{
	char path[] = "/tmp/test_config_XXXXXX", err[512] = "";
	const char *text = "sims = ( { iccid = \"89860012345678901234\"; pin = \"1234\"; } );\n";
	struct config c, plain;
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	assert_int_equal(config_load_file(&c, path, err, sizeof(err)), 0);
	assert_true(config_has_secrets(&c));
	check_mode(&c, path, 0600, 0);
	check_mode(&c, path, 0400, 0);
	check_mode(&c, path, 0640, -EPERM);
	check_mode(&c, path, 0604, -EPERM);
	check_mode(&c, path, 0644, -EPERM);
	/* No secrets: any mode is fine. */
	assert_int_equal(config_init_defaults(&plain), 0);
	check_mode(&plain, path, 0644, 0);
	config_release(&plain);
	unlink(path);
	assert_int_equal(config_check_file_mode(&c, path, err, sizeof(err)), -ENOENT);
	config_release(&c);
}

static void test_load_file_errors(void **state)
{
	struct config c;
	char err[512] = "", path[] = "/tmp/test_config_XXXXXX";
	int fd;

	assert_int_equal(config_load_file(&c, "/nonexistent/modemd.conf", err, sizeof(err)),
			 -ENOENT);
	assert_string_equal(err, "/nonexistent/modemd.conf: No such file or directory");
	assert_int_equal(c.n_models, 0); /* left zeroed */
	config_release(&c);

	assert_int_equal(config_load_file(&c, "/tmp", err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "/tmp: not a regular file");

	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "udev = true;\n\0x", 15), 15);
	assert_int_equal(config_load_file(&c, path, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "contains a NUL byte"));
	assert_int_equal(ftruncate(fd, 2 * 1024 * 1024), 0);
	assert_int_equal(config_load_file(&c, path, err, sizeof(err)), -EFBIG);
	close(fd);
	unlink(path);
}

/* A setting inside a nested group, and messages naming the string's name. */
static void test_error_paths(void **state)
{
	struct config c;
	char err[512] = "";

	assert_int_equal(load(&c,
			      "\n\nsims = (\n {iccid=\"89860012345678901234\";},\n"
			      " { iccid = \"89860012345678901235\";\n pin = \"12\"; } );",
			      err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "test.conf:6: sims[1].pin: must be 4 to 8 digits");
	assert_int_equal(config_load_string(&c, "udev = 1;", NULL, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "<string>:1: udev: must be true or false");
	/* A literal that only looks too large inside a string or comment is fine. */
	assert_int_equal(load(&c,
			      "# 99999999999\n/* 0x100000000 */ // 77777777777\n"
			      "control_group = \"g99999999999\";",
			      err, sizeof(err)),
			 0);
	config_release(&c);
}

/* ---- bundle and receiver sections ---- */

static void test_bundle_defaults(void **state)
{
	struct config c;

	assert_int_equal(config_init_defaults(&c), 0);
	assert_int_equal(c.mode, CFG_MODE_GATEWAY);
	assert_false(c.bundle.enabled); /* no bundle: modem manager only */
	assert_false(c.receiver.enabled);
	assert_int_equal(c.bundle.ppp.port, 6671);
	assert_string_equal(c.bundle.ppp.tun, "mp0");
	assert_int_equal(c.bundle.ppp.mtu, 1400);
	assert_int_equal(c.bundle.ppp.mrru, 1600);
	assert_false(c.bundle.ppp.short_seq);
	assert_int_equal(c.bundle.ppp.endpoint, CFG_ED_AUTO);
	assert_int_equal(c.bundle.ppp.policy, SCHED_EARLIEST);
	assert_int_equal(c.bundle.ppp.redundancy, 2);
	assert_int_equal(c.bundle.ppp.echo_interval_ms, 200);
	assert_int_equal(c.bundle.ppp.dead_timeout_ms, 1000);
	assert_int_equal(c.bundle.ppp.accept_auth, LCP_AUTH_CHAP_MD5);
	assert_int_equal(c.bundle.ppp.require_auth, 0);
	assert_true(c.bundle.modem_links);
	assert_false(c.bundle.default_route);
	assert_int_equal(c.receiver.ppp.require_auth, LCP_AUTH_CHAP_MD5);
	assert_int_equal(c.receiver.listen.family, AF_INET);
	assert_int_equal(c.receiver.max_gateways, 1024);
	assert_int_equal(c.receiver.max_links_per_gateway, 8);
	assert_int_equal(c.receiver.max_unauthenticated, 256);
	assert_int_equal(c.receiver.unauthenticated_timeout_ms, 10000);
	config_release(&c);
}

static void test_bundle_values(void **state)
{
	struct config c;
	char err[512] = "", a[INET6_ADDRSTRLEN];

	assert_int_equal(
	    load(&c,
		 "bundle = { receiver = \"203.0.113.10\"; name = \"gw1\"; secret = \"pw\";"
		 " auth = \"pap\"; require_auth = \"chap\"; short_seq = true;"
		 " policy = \"redundant\"; redundancy = 3; default_route = true;"
		 " links = ( { name = \"eth0\"; interface = \"eth0\"; gateway = \"192.0.2.1\"; },"
		 " { name = \"wifi\"; interface = \"wlan0\"; } ); };",
		 err, sizeof(err)),
	    0);
	assert_true(c.bundle.enabled);
	assert_int_equal(c.bundle.receiver.family, AF_INET);
	assert_int_equal(ntohl(c.bundle.receiver.v4.s_addr), 0xcb00710a);
	assert_string_equal(config_addr_to_string(&c.bundle.receiver, a, sizeof(a)),
			    "203.0.113.10");
	assert_string_equal(c.bundle.ppp.name, "gw1");
	assert_string_equal(c.bundle.secret, "pw");
	assert_int_equal(c.bundle.ppp.accept_auth, LCP_AUTH_PAP);
	assert_int_equal(c.bundle.ppp.require_auth, LCP_AUTH_CHAP_MD5);
	assert_true(c.bundle.ppp.short_seq);
	assert_int_equal(c.bundle.ppp.policy, SCHED_REDUNDANT);
	assert_int_equal(c.bundle.ppp.redundancy, 3);
	assert_int_equal(c.bundle.n_links, 2);
	assert_string_equal(c.bundle.links[1].interface, "wlan0");
	assert_int_equal(c.bundle.links[0].gateway.family, AF_INET);
	assert_int_equal(c.bundle.links[1].gateway.family, 0); /* none */
	assert_true(config_has_secrets(&c));
	config_release(&c);

	assert_int_equal(load(&c,
			      "mode = \"receiver\";\nreceiver = { listen = \"::\";"
			      " local_address = \"10.200.0.1\"; pool = \"10.200.0.0/24\";"
			      " dns = [ \"192.0.2.53\" ]; secrets_file = \"/etc/modemd/secrets\";"
			      " users = ( { name = \"gw1\"; address = \"10.200.0.9\";"
			      " routes = [ \"192.168.50.0/24\" ]; } ); };",
			      err, sizeof(err)),
			 0);
	assert_int_equal(c.mode, CFG_MODE_RECEIVER);
	assert_true(c.receiver.enabled);
	assert_false(c.bundle.enabled);
	assert_int_equal(c.receiver.listen.family, AF_INET6);
	assert_int_equal(ntohl(c.receiver.local_address.v4.s_addr), 0x0ac80001);
	assert_int_equal(ntohl(c.receiver.pool.addr.v4.s_addr), 0x0ac80000);
	assert_int_equal(c.receiver.pool.len, 24);
	assert_int_equal(c.receiver.n_dns, 1);
	const struct cfg_user *u = config_find_user(&c, "gw1");
	assert_non_null(u);
	assert_int_equal(ntohl(u->address.v4.s_addr), 0x0ac80009);
	assert_int_equal(u->n_routes, 1);
	assert_int_equal(u->routes[0].len, 24);
	assert_string_equal(u->secret, ""); /* from the secrets file */
	assert_null(config_find_user(&c, "gw2"));
	assert_null(config_find_user(&c, NULL));
	/* A secrets file is not a secret in this file. */
	assert_false(config_has_secrets(&c));
	assert_round_trip(&c);
	config_release(&c);
}

/* Every Endpoint Discriminator class, as bytes and in its printed form. */
static void test_bundle_endpoints(void **state)
{
	static const struct {
		const char *in, *out;
		int kind, class;
		size_t len;
		const char *bytes;
	} ok[] = {
	    {"auto", "auto", CFG_ED_AUTO, 0, 0, ""},
	    {"none", "none", CFG_ED_NONE, 0, 0, ""},
	    {"null", "null", CFG_ED_SET, LCP_ED_NULL, 0, ""},
	    {"local:", "local:", CFG_ED_SET, LCP_ED_LOCAL, 0, ""},
	    {"local:6777310a", "local:6777310a", CFG_ED_SET, LCP_ED_LOCAL, 4, "gw1\n"},
	    {"ip:192.0.2.1", "ip:192.0.2.1", CFG_ED_SET, LCP_ED_IP, 4, "\xc0\x00\x02\x01"},
	    {"mac:00:1A:2b:3c:4d:5e", "mac:00:1a:2b:3c:4d:5e", CFG_ED_SET, LCP_ED_MAC, 6,
	     "\x00\x1a\x2b\x3c\x4d\x5e"},
	    {"magic:DEADBEEF", "magic:deadbeef", CFG_ED_SET, LCP_ED_MAGIC, 4, "\xde\xad\xbe\xef"},
	    {"magic:000102030405060708090a0b0c0d0e0f10111213",
	     "magic:000102030405060708090a0b0c0d0e0f10111213", CFG_ED_SET, LCP_ED_MAGIC, 20,
	     "\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10\x11"
	     "\x12\x13"},
	    {"e164:4930123456", "e164:4930123456", CFG_ED_SET, LCP_ED_E164, 10, "4930123456"},
	};
	static const char *const bad[] = {
	    "",
	    "Auto",
	    "magic:",
	    "magic:010203",
	    "magic:0g010203",
	    "magic:0102030",
	    "magic:000102030405060708090a0b0c0d0e0f1011121314",
	    "local:0",
	    "ip:192.0.2",
	    "ip:2001:db8::1",
	    "mac:00:11:22:33:44",
	    "mac:00:11:22:33:44:55:66",
	    "mac:001122334455",
	    "e164:+4930",
	    "e164:1234567890123456",
	    "class7:00",
	};
	char text[256], err[512];
	struct config c;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		snprintf(text, sizeof(text),
			 "bundle = { receiver = \"192.0.2.9\"; endpoint = \"%s\"; };", ok[i].in);
		if (load(&c, text, err, sizeof(err)) < 0)
			fail_msg("%s: %s", ok[i].in, err);
		assert_int_equal(c.bundle.ppp.endpoint, ok[i].kind);
		if (ok[i].kind == CFG_ED_SET) {
			assert_int_equal(c.bundle.ppp.ed.class, ok[i].class);
			assert_int_equal(c.bundle.ppp.ed.len, ok[i].len);
			assert_memory_equal(c.bundle.ppp.ed.addr, ok[i].bytes, ok[i].len);
		}
		char *printed = print_to_string(&c, false), want[128];
		snprintf(want, sizeof(want), "\tendpoint = \"%s\";\n", ok[i].out);
		if (!strstr(printed, want))
			fail_msg("%s: printed without %s", ok[i].in, want);
		free(printed);
		assert_round_trip(&c);
		config_release(&c);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text),
			 "bundle = { receiver = \"192.0.2.9\"; endpoint = \"%s\"; };", bad[i]);
		if (load(&c, text, err, sizeof(err)) != -EINVAL)
			fail_msg("endpoint \"%s\" accepted", bad[i]);
		assert_non_null(strstr(err, "test.conf:1: bundle.endpoint: must be \"auto\""));
	}
}

/* PPP secrets: hidden in the print, counted for the file mode rule. */
static void test_bundle_secrets(void **state)
{
	static const char *const texts[] = {
	    "bundle = { receiver = \"192.0.2.9\"; secret = \"gw-s3cret\"; };\n",
	    "mode = \"receiver\";\nreceiver = { local_address = \"10.200.0.1\";"
	    " pool = \"10.200.0.0/24\"; users = ( { name = \"a\"; secret = \"gw-s3cret\"; } ); "
	    "};\n",
	};
	char path[] = "/tmp/test_config_XXXXXX", err[512] = "";

	for (size_t i = 0; i < 2; i++) {
		struct config c;
		int fd = mkstemp(path);

		assert_true(fd >= 0);
		assert_int_equal(write(fd, texts[i], strlen(texts[i])), (ssize_t)strlen(texts[i]));
		close(fd);
		if (config_load_file(&c, path, err, sizeof(err)) < 0)
			fail_msg("%s", err);
		assert_true(config_has_secrets(&c));
		char *hidden = print_to_string(&c, false), *shown = print_to_string(&c, true);
		assert_null(strstr(hidden, "gw-s3cret"));
		assert_non_null(strstr(hidden, "secret = \"<hidden>\";"));
		assert_non_null(strstr(shown, "secret = \"gw-s3cret\";"));
		free(hidden);
		free(shown);
		check_mode(&c, path, 0600, 0);
		check_mode(&c, path, 0640, -EPERM);
		assert_int_equal(config_check_file_mode(&c, path, err, sizeof(err)), -EPERM);
		assert_non_null(strstr(err, "PPP secret"));
		unlink(path);
		config_release(&c);
		strcpy(path, "/tmp/test_config_XXXXXX");
	}
}

static void test_receiver_example(void **state)
{
	struct config c;
	char err[512] = "";

	if (config_load_file(&c, RX_EXAMPLE, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	assert_int_equal(c.mode, CFG_MODE_RECEIVER);
	assert_true(c.receiver.enabled);
	assert_true(c.receiver.n_users > 0);
	/* As shipped it holds no secrets (they live in the secrets file). */
	assert_false(config_has_secrets(&c));
	assert_round_trip(&c);
	config_release(&c);
}

/* ---- golden files ---- */

static char *read_all(const char *path)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t len = 0;

	if (!f)
		return NULL;
	FILE *m = open_memstream(&buf, &len);
	int ch;
	while ((ch = fgetc(f)) != EOF)
		fputc(ch, m);
	fclose(m);
	fclose(f);
	return buf;
}

static void write_all(const char *path, const char *text)
{
	FILE *f = fopen(path, "we");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* Install paths differ between builds: golden files name them by placeholder. */
static char *placeholders(const char *text)
{
	static const char *const subst[][2] = {
	    {MODEMD_DATADIR, "@DATADIR@"},
	    {MODEMD_PPPD_PATH, "@PPPD@"},
	    {MODEMD_CHAT_PATH, "@CHAT@"},
	};
	char *out = strdup(text);

	for (size_t i = 0; i < sizeof(subst) / sizeof(subst[0]); i++) {
		char *hit;
		while ((hit = strstr(out, subst[i][0]))) {
			char *n = NULL;
			assert_true(asprintf(&n, "%.*s%s%s", (int)(hit - out), out, subst[i][1],
					     hit + strlen(subst[i][0])) > 0);
			free(out);
			out = n;
		}
	}
	return out;
}

static void test_golden(void **state)
{
	const char *name = *state; /* "err-foo.conf" or "ok-foo.conf" */
	bool want_ok = strncmp(name, "ok-", 3) == 0, update = getenv("UPDATE_GOLDEN");
	char expect_path[512], err[512] = "";
	struct config c;

	assert_int_equal(chdir(GOLDEN_DIR), 0); /* messages name the file as given */
	snprintf(expect_path, sizeof(expect_path), "%.*s%s", (int)(strlen(name) - 5), name,
		 want_ok ? ".ok" : ".err");
	int r = config_load_file(&c, name, err, sizeof(err));
	char *got = NULL;
	if (r == 0) {
		char *printed = print_to_string(&c, false);
		got = placeholders(printed);
		free(printed);
		assert_round_trip(&c);
		config_release(&c);
	} else {
		assert_true(asprintf(&got, "%s\n", err) > 0);
	}
	if (update)
		write_all(expect_path, got);
	char *expect = read_all(expect_path);
	if (!expect)
		fail_msg("%s missing; got:\n%s", expect_path, got);
	if (want_ok != (r == 0) || strcmp(expect, got) != 0)
		fail_msg("%s: expected (%s):\n%s\ngot (r=%d):\n%s", name, expect_path, expect, r,
			 got);
	free(expect);
	free(got);
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int conf_file(const struct dirent *e)
{
	size_t l = strlen(e->d_name);
	return l > 5 && strcmp(e->d_name + l - 5, ".conf") == 0 &&
	       (!strncmp(e->d_name, "ok-", 3) || !strncmp(e->d_name, "err-", 4));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults),	     cmocka_unit_test(test_example),
	    cmocka_unit_test(test_models_override),  cmocka_unit_test(test_lookups),
	    cmocka_unit_test(test_secrets_hidden),   cmocka_unit_test(test_file_mode),
	    cmocka_unit_test(test_load_file_errors), cmocka_unit_test(test_error_paths),
	    cmocka_unit_test(test_bundle_defaults),  cmocka_unit_test(test_bundle_values),
	    cmocka_unit_test(test_bundle_endpoints), cmocka_unit_test(test_bundle_secrets),
	    cmocka_unit_test(test_receiver_example), cmocka_unit_test(test_example_bundle),
	};
	struct dirent **files;
	int n = scandir(GOLDEN_DIR, &files, conf_file, by_name), failed;

	failed = cmocka_run_group_tests_name("config", tests, NULL, NULL);
	if (n <= 0) {
		fprintf(stderr, "no golden files in %s\n", GOLDEN_DIR);
		return 1;
	}
	struct CMUnitTest *golden = calloc((size_t)n, sizeof(*golden));
	for (int i = 0; i < n; i++)
		golden[i] = (struct CMUnitTest){.name = files[i]->d_name,
						.test_func = test_golden,
						.initial_state = files[i]->d_name};
	failed += _cmocka_run_group_tests("config_golden", golden, (size_t)n, NULL, NULL);
	for (int i = 0; i < n; i++)
		free(files[i]);
	free(files);
	free(golden);
	return failed;
}
