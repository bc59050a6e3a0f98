/* What modemd remembers about modems across replug and restart: short names
 * stay with a modem (by USB path, static name or IMEI), administrative down
 * survives a restart, and the memory is bounded. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon.h"
#include "modem.h"

struct fixture {
	char dir[64];
	struct daemon d;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_daemon.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	assert_int_equal(config_init_defaults(&f->d.cfg), 0);
	snprintf(f->d.cfg.state_dir, sizeof(f->d.cfg.state_dir), "%s/state", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];
	config_release(&f->d.cfg);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static void test_names_survive_restart(void **state)
{
	struct fixture *f = *state;
	char name[32];

	daemon_next_name(&f->d, name, sizeof(name));
	assert_string_equal(name, "m0");
	daemon_remember(&f->d, "/sys/devices/usb1/1-1", "m0", true);
	daemon_remember(&f->d, "861234567890123", "m0", true);
	daemon_next_name(&f->d, name, sizeof(name));
	assert_string_equal(name, "m1");
	daemon_remember(&f->d, "/sys/devices/usb1/1-2", "m1", false);

	/* The file is there, one line per key, not world-writable. */
	char path[300];
	struct stat st;
	snprintf(path, sizeof(path), "%s/modems", f->d.cfg.state_dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0022, 0);

	/* A restarted daemon knows both modems, and that m1 was down. */
	struct daemon d2 = {0};
	d2.cfg = f->d.cfg;
	assert_int_equal(daemon_load_remembered(&d2), 0);
	assert_int_equal(d2.n_remembered, 3);
	const struct remembered *r = daemon_recall(&d2, "/sys/devices/usb1/1-2");
	assert_non_null(r);
	assert_string_equal(r->name, "m1");
	assert_false(r->admin_up);
	r = daemon_recall(&d2, "861234567890123");
	assert_non_null(r);
	assert_string_equal(r->name, "m0");
	assert_true(r->admin_up);
	assert_null(daemon_recall(&d2, "/sys/devices/usb1/1-3"));
	/* New modems get names nobody remembered. */
	daemon_next_name(&d2, name, sizeof(name));
	assert_string_equal(name, "m2");
}

static void test_static_names_are_reserved(void **state)
{
	struct fixture *f = *state;
	struct cfg_static_modem sm[2] = {{.name = "m0"}, {.name = "m1"}};
	f->d.cfg.static_modems = sm;
	f->d.cfg.n_static_modems = 2;
	char name[32];
	daemon_next_name(&f->d, name, sizeof(name));
	assert_string_equal(name, "m2");
	f->d.cfg.static_modems = NULL;
	f->d.cfg.n_static_modems = 0;
}

static void test_imei_brings_its_name(void **state)
{
	struct fixture *f = *state;
	/* The modem moved to another USB port: it first got a new name, and
	 * takes its remembered one back once the IMEI is read. */
	daemon_remember(&f->d, "861234567890123", "m3", true);
	struct modem m = {.d = &f->d, .name = "m0"};
	daemon_adopt_name(&f->d, &m, "861234567890123");
	assert_string_equal(m.name, "m3");
	/* Not if another live modem holds that name. */
	struct modem other = {.d = &f->d, .name = "m5"};
	f->d.modems = &other;
	daemon_remember(&f->d, "869999999999999", "m5", true);
	struct modem m2 = {.d = &f->d, .name = "m6"};
	daemon_adopt_name(&f->d, &m2, "869999999999999");
	assert_string_equal(m2.name, "m6");
	f->d.modems = NULL;
}

static void test_malformed_state_file(void **state)
{
	struct fixture *f = *state;
	char path[300];
	assert_int_equal(mkdir(f->d.cfg.state_dir, 0755), 0);
	snprintf(path, sizeof(path), "%s/modems", f->d.cfg.state_dir);
	FILE *fp = fopen(path, "w");
	fputs("# comment\n\nusb-a m4 up\ngarbage\nusb-b m5 sideways\nusb-c m6 down\n", fp);
	fclose(fp);
	assert_int_equal(daemon_load_remembered(&f->d), 0);
	assert_int_equal(f->d.n_remembered, 2);
	assert_string_equal(daemon_recall(&f->d, "usb-a")->name, "m4");
	assert_false(daemon_recall(&f->d, "usb-c")->admin_up);
	assert_null(daemon_recall(&f->d, "usb-b"));
}

static void test_memory_is_bounded(void **state)
{
	struct fixture *f = *state;
	/* No state_dir: nothing written, memory only. */
	f->d.cfg.state_dir[0] = 0;
	char key[32], name[32];
	for (int i = 0; i < REMEMBERED_MAX + 50; i++) {
		snprintf(key, sizeof(key), "key%d", i);
		snprintf(name, sizeof(name), "m%d", i);
		daemon_remember(&f->d, key, name, true);
	}
	assert_int_equal(f->d.n_remembered, REMEMBERED_MAX);
	/* The oldest were forgotten, the newest kept. */
	assert_null(daemon_recall(&f->d, "key0"));
	assert_non_null(daemon_recall(&f->d, "key305"));
}

static void test_bad_pin_remembered(void **state)
{
	struct fixture *f = *state;
	assert_false(daemon_bad_pin(&f->d, "89860112345678900102"));
	daemon_mark_bad_pin(&f->d, "89860112345678900102");
	assert_true(daemon_bad_pin(&f->d, "89860112345678900102"));
	assert_false(daemon_bad_pin(&f->d, "89860112345678900103"));
	/* Bounded too. */
	char iccid[24];
	for (int i = 0; i < 100; i++) {
		snprintf(iccid, sizeof(iccid), "8986%016d", i);
		daemon_mark_bad_pin(&f->d, iccid);
	}
	assert_true(f->d.n_bad_pins <= 16);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_names_survive_restart, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_static_names_are_reserved, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_imei_brings_its_name, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_malformed_state_file, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_memory_is_bounded, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_pin_remembered, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
