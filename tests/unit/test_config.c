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

#include "build-config.h"
#include "config.h"

#define GOLDEN_DIR TEST_SRCDIR "/tests/config"
#define EXAMPLE	   TEST_SRCDIR "/etc/modemd.conf.example"

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
	config_release(&c);
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
