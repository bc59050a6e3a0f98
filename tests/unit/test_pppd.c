/* pppd options, exit reasons, and process handling with a real child (a
 * shell script standing in for pppd: the host has no /dev/ppp). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "loop.h"
#include "pppd.h"
#include "util.h"

static void dial_defaults(struct cfg_dial *d)
{
	memset(d, 0, sizeof(*d));
	d->lcp_echo_interval = 10;
	d->lcp_echo_failure = 3;
	d->baud = 115200;
	strcpy(d->pppd_path, "/usr/sbin/pppd");
	strcpy(d->chat_path, "/usr/sbin/chat");
	strcpy(d->chat_dir, "/usr/share/modemd/chat");
}

static const struct apn_profile unicom = {
    .plmn = "46001", .apn = "3GNET", .number = "*99#", .auth = APN_AUTH_ANY, .kind = APN_DIAL_3GPP};
static const struct apn_profile telecom = {.plmn = "46003",
					   .number = "#777",
					   .user = "ctnet@mycdma.cn",
					   .password = "vnet.mobi",
					   .auth = APN_AUTH_CHAP,
					   .kind = APN_DIAL_CDMA};

static struct pppd_params params(const struct apn_profile *a, const struct cfg_dial *d)
{
	return (struct pppd_params){.name = "m0",
				    .ifname = "ppp-m0",
				    .tty = "/dev/ttyUSB3",
				    .run_dir = "/run/modemd",
				    .apn = a,
				    .dial = d};
}

static void render_3gpp(void **state)
{
	(void)state;
	struct cfg_dial d;
	dial_defaults(&d);
	struct pppd_params p = params(&unicom, &d);
	char buf[4096];
	int n = pppd_render_options(&p, buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_equal((size_t)n, strlen(buf));
	assert_non_null(strstr(buf, "\n\"/dev/ttyUSB3\"\n115200\n"));
	const char *want[] = {"\nnodetach\n",
			      "\nnodefaultroute\n",
			      "\nnoipdefault\n",
			      "\nmaxfail 1\n",
			      "\nifname \"ppp-m0\"\n",
			      "\nipparam \"m0\"\n",
			      "\nlcp-echo-interval 10\n",
			      "\nlcp-echo-failure 3\n",
			      "\nnoauth\n",
			      "\nnovj\n",
			      "\nnoccp\n",
			      "\nlocal\n",
			      "\nlock\n",
			      "\nconnect \"/usr/sbin/chat -v -s -S -T '*99#' -U '3GNET' -f "
			      "'/usr/share/modemd/chat/3gpp.chat'\"\n"};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		assert_non_null(strstr(buf, want[i]));
	assert_null(strstr(buf, "\nuser"));
	assert_null(strstr(buf, "\npassword"));
	assert_null(strstr(buf, "\nrefuse-"));
	assert_null(strstr(buf, "\nusepeerdns"));
	assert_null(strstr(buf, "\ndefaultroute"));

	char script[512];
	assert_true(pppd_chat_script(&p, script, sizeof(script)) > 0);
	assert_string_equal(script, "/usr/share/modemd/chat/3gpp.chat");
}

static void render_cdma_password(void **state)
{
	(void)state;
	struct cfg_dial d;
	dial_defaults(&d);
	struct pppd_params p = params(&telecom, &d);
	char buf[4096];
	assert_true(pppd_render_options(&p, buf, sizeof(buf)) > 0);
	/* '#' would start a shell comment unquoted: the number is in '...'. */
	assert_non_null(strstr(buf, "\nconnect \"/usr/sbin/chat -v -s -S -T '#777' -U '' -f "
				    "'/usr/share/modemd/chat/cdma.chat'\"\n"));
	assert_non_null(strstr(buf, "\nuser \"ctnet@mycdma.cn\"\npassword \"vnet.mobi\"\n"));
	assert_non_null(strstr(buf, "\nrefuse-pap\n"));
	assert_non_null(strstr(buf, "\nrefuse-eap\n"));
	assert_null(strstr(buf, "\nrefuse-chap\n"));
}

static void render_auth_variants(void **state)
{
	(void)state;
	struct cfg_dial d;
	dial_defaults(&d);
	struct apn_profile a = telecom;
	char buf[4096];
	struct pppd_params p = params(&a, &d);

	a.auth = APN_AUTH_PAP;
	assert_true(pppd_render_options(&p, buf, sizeof(buf)) > 0);
	assert_non_null(strstr(buf, "\nrefuse-chap\n"));
	assert_non_null(strstr(buf, "\nrefuse-mschap\n"));
	assert_non_null(strstr(buf, "\nrefuse-mschap-v2\n"));
	assert_non_null(strstr(buf, "\nrefuse-eap\n"));
	assert_null(strstr(buf, "\nrefuse-pap\n"));

	a.auth = APN_AUTH_NONE;
	assert_true(pppd_render_options(&p, buf, sizeof(buf)) > 0);
	assert_null(strstr(buf, "\nrefuse-"));

	a.auth = APN_AUTH_ANY;
	assert_true(pppd_render_options(&p, buf, sizeof(buf)) > 0);
	assert_null(strstr(buf, "\nrefuse-"));

	/* A user without a password still sends an (empty) password. */
	strcpy(a.user, "card");
	a.password[0] = 0;
	assert_true(pppd_render_options(&p, buf, sizeof(buf)) > 0);
	assert_non_null(strstr(buf, "\nuser \"card\"\npassword \"\"\n"));
}

static void render_bad_characters(void **state)
{
	(void)state;
	struct cfg_dial d;
	dial_defaults(&d);
	struct apn_profile a = telecom;
	struct pppd_params p = params(&a, &d);
	char buf[4096];

	strcpy(a.password, "pa\"ss");
	assert_int_equal(pppd_render_options(&p, buf, sizeof(buf)), -EINVAL);
	strcpy(a.password, "pa\nss");
	assert_int_equal(pppd_render_options(&p, buf, sizeof(buf)), -EINVAL);
	strcpy(a.password, "ok");
	strcpy(a.user, "us\"er");
	assert_int_equal(pppd_render_options(&p, buf, sizeof(buf)), -EINVAL);
	strcpy(a.user, "user\r");
	assert_int_equal(pppd_render_options(&p, buf, sizeof(buf)), -EINVAL);
	strcpy(a.user, "user");
	strcpy(a.apn, "in'ternet");
	assert_int_equal(pppd_render_options(&p, buf, sizeof(buf)), -EINVAL);
	strcpy(a.apn, "internet");
	strcpy(a.number, "*99#\"");
	assert_int_equal(pppd_render_options(&p, buf, sizeof(buf)), -EINVAL);
	strcpy(a.number, "*99#");

	/* Backslash is pppd's escape: doubled, and the value survives. */
	strcpy(a.password, "a\\b");
	assert_true(pppd_render_options(&p, buf, sizeof(buf)) > 0);
	assert_non_null(strstr(buf, "\npassword \"a\\\\b\"\n"));

	/* Extra words are quoted, so "#" cannot comment out the rest. */
	strcpy(d.pppd_extra[0], "mtu");
	strcpy(d.pppd_extra[1], "1400");
	d.n_pppd_extra = 2;
	assert_true(pppd_render_options(&p, buf, sizeof(buf)) > 0);
	assert_non_null(strstr(buf, "\n\"mtu\"\n\"1400\"\n"));
	strcpy(d.pppd_extra[1], "bad\"word");
	assert_int_equal(pppd_render_options(&p, buf, sizeof(buf)), -EINVAL);
	d.n_pppd_extra = 0;

	assert_int_equal(pppd_render_options(&p, buf, 64), -ENOSPC);
	assert_int_equal(pppd_render_options(&p, buf, 0), -ENOSPC);
}

static void exit_code_table(void **state)
{
	(void)state;
	for (int i = 0; i <= 19; i++) {
		const char *s = pppd_exit_to_string(i);
		assert_non_null(s);
		assert_null(strstr(s, "unknown"));
		for (int j = 0; j < i; j++)
			assert_string_not_equal(s, pppd_exit_to_string(j));
	}
	assert_non_null(strstr(pppd_exit_to_string(20), "unknown"));
	assert_non_null(strstr(pppd_exit_to_string(-1), "signal"));
	assert_string_equal(pppd_exit_to_string(16), "modem hung up");
	assert_non_null(strstr(pppd_exit_to_string(15), "LCP echo"));
	assert_non_null(strstr(pppd_exit_to_string(19), "password"));
}

static void exit_reasons(void **state)
{
	(void)state;
	char r[256];
	const char *nc[] = {"send (ATD*99#^M)", "expect (CONNECT)",    "NO CARRIER",
			    " -- failed",	"Failed (NO CARRIER)", "Connect script failed"};
	assert_int_equal(pppd_exit_reason(8 << 8, nc, 6, r, sizeof(r)), 8);
	assert_string_equal(r, "chat: modem answered NO CARRIER");
	const char *busy[] = {"Failed (BUSY)"};
	pppd_exit_reason(8 << 8, busy, 1, r, sizeof(r));
	assert_string_equal(r, "chat: modem answered BUSY");
	const char *to[] = {"expect (CONNECT)", "alarm", "Failed", "Connect script failed"};
	pppd_exit_reason(8 << 8, to, 4, r, sizeof(r));
	assert_string_equal(r, "chat: modem did not answer in time (timeout)");
	pppd_exit_reason(8 << 8, NULL, 0, r, sizeof(r));
	assert_string_equal(r, "connect script (chat) failed");
	pppd_exit_reason(16 << 8, nc, 6, r, sizeof(r));
	assert_string_equal(r, "modem hung up");
	const char *open_fail[] = {"Failed to open /dev/ttyUSB3: No such file or directory"};
	assert_int_equal(pppd_exit_reason(7 << 8, open_fail, 1, r, sizeof(r)), 7);
	assert_string_equal(r, "could not open the serial port: Failed to open /dev/ttyUSB3: "
			       "No such file or directory");
	assert_int_equal(pppd_exit_reason(SIGKILL, NULL, 0, r, sizeof(r)), -1);
	assert_non_null(strstr(r, "signal 9"));
}

/* ---- real child ---- */

struct ctx {
	char dir[64];
	char script[128];
	char run_dir[128];
	struct cfg_dial dial;
	struct apn_profile apn;
	struct pppd_params prm;
	struct loop *loop;
	struct pppd *p;
	int calls, code;
	char reason[256];
	bool free_in_cb;
};

static const char fake_pppd[] =
    "#!/bin/sh\n"
    "# stands in for pppd: $1 = file, $2 = the options file\n"
    "[ \"$1\" = file ] && [ -f \"$2\" ] && [ $# -eq 2 ] || exit 2\n"
    "case \"$(cat \"$(dirname \"$0\")/mode\")\" in\n"
    "nocarrier)\n"
    "  echo 'send (ATD*99#^M)' >&2; echo 'expect (CONNECT)' >&2\n"
    "  echo 'NO CARRIER' >&2; echo ' -- failed' >&2; echo 'Failed (NO CARRIER)' >&2\n"
    "  echo 'Connect script failed'; exit 8;;\n"
    "timeout) printf 'expect (CONNECT)\\r\\nalarm\\nFailed\\n' >&2; exit 8;;\n"
    "hangup) echo 'Modem hangup'; exit 16;;\n"
    "term) trap 'echo bye; exit 5' TERM; echo ready; sleep 1000 & wait;;\n"
    "stubborn) trap '' TERM; echo ready; sleep 1000 & wait; sleep 1000;;\n"
    "esac\n";

static void on_exit_cb(struct pppd *p, int code, const char *reason, void *data)
{
	struct ctx *c = data;
	assert_ptr_equal(p, c->p);
	c->calls++;
	c->code = code;
	snprintf(c->reason, sizeof(c->reason), "%s", reason);
	if (c->free_in_cb)
		c->p = pppd_free(p);
}

static void ignore_signal(struct loop *l, int signo, void *data)
{
	(void)l;
	(void)signo;
	(void)data;
}

static int setup(void **state)
{
	struct ctx *c = calloc(1, sizeof(*c));
	strcpy(c->dir, "/tmp/test_pppd.XXXXXX");
	assert_non_null(mkdtemp(c->dir));
	snprintf(c->script, sizeof(c->script), "%s/fake-pppd", c->dir);
	assert_int_equal(write_file_atomic(c->script, fake_pppd, strlen(fake_pppd), 0700), 0);
	snprintf(c->run_dir, sizeof(c->run_dir), "%s/run/modemd", c->dir);
	dial_defaults(&c->dial);
	strcpy(c->dial.pppd_path, c->script);
	c->apn = telecom;
	c->prm = params(&c->apn, &c->dial);
	c->prm.run_dir = c->run_dir;
	c->loop = loop_new();
	/* Like the daemon: SIGTERM/SIGCHLD blocked and read via signalfd. */
	assert_int_equal(loop_signal_add(c->loop, SIGTERM, ignore_signal, NULL), 0);
	assert_int_equal(loop_signal_add(c->loop, SIGCHLD, ignore_signal, NULL), 0);
	*state = c;
	return 0;
}

static int teardown(void **state)
{
	struct ctx *c = *state;
	c->p = pppd_free(c->p);
	loop_iterate(c->loop, 0);
	c->loop = loop_free(c->loop);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", c->dir);
	assert_int_equal(system(cmd), 0);
	free(c);
	return 0;
}

static void set_mode(struct ctx *c, const char *mode)
{
	char path[128];
	snprintf(path, sizeof(path), "%s/mode", c->dir);
	assert_int_equal(write_file_atomic(path, mode, strlen(mode), 0600), 0);
}

/* Run the loop until cond() holds or a generous deadline passes. */
static bool run_until(struct ctx *c, bool (*cond)(struct ctx *))
{
	uint64_t end = now_ms() + 20000;
	while (!cond(c) && now_ms() < end)
		loop_iterate(c->loop, 100);
	return cond(c);
}

static bool exited(struct ctx *c)
{
	return c->calls > 0;
}

static bool said_ready(struct ctx *c)
{
	const char *l[32];
	size_t n = pppd_last_lines(c->p, l, 32);
	return n && !strcmp(l[n - 1], "ready");
}

static void start(struct ctx *c)
{
	int err = 0;
	c->p = pppd_start(c->loop, &c->prm, on_exit_cb, c, &err);
	assert_int_equal(err, 0);
	assert_non_null(c->p);
	assert_true(pppd_running(c->p));
}

static void child_no_carrier(void **state)
{
	struct ctx *c = *state;
	set_mode(c, "nocarrier");
	start(c);

	/* Nothing but "file <options>" on the command line, no password. */
	char path[64], cmdline[1024];
	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pppd_pid(c->p));
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	ssize_t n = read(fd, cmdline, sizeof(cmdline) - 1);
	close(fd);
	assert_true(n > 0);
	char want[512];
	int wl =
	    snprintf(want, sizeof(want), "%s%cfile%c%s/m0.options", c->script, 0, 0, c->run_dir);
	/* /bin/sh runs the script: argv is "/bin/sh SCRIPT file OPTIONS". */
	assert_true(n >= wl + 1);
	assert_memory_equal(cmdline + n - wl - 1, want, (size_t)wl + 1);
	assert_null(memmem(cmdline, (size_t)n, "vnet.mobi", 9));

	/* Options file: 0600 in a 0700 run dir, holding the secret. */
	struct stat st;
	assert_int_equal(stat(c->run_dir, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	snprintf(want, sizeof(want), "%s/m0.options", c->run_dir);
	assert_int_equal(stat(want, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);

	assert_true(run_until(c, exited));
	assert_int_equal(c->calls, 1);
	assert_int_equal(c->code, 8);
	assert_string_equal(c->reason, "chat: modem answered NO CARRIER");
	assert_false(pppd_running(c->p));
	const char *l[32];
	size_t nl = pppd_last_lines(c->p, l, 32);
	assert_true(nl >= 2);
	assert_string_equal(l[nl - 1], "Connect script failed");
}

/* The loop's blocked SIGTERM/SIGCHLD must not reach pppd. dash clears its
 * mask at startup and would hide that, so python reports what exec gave it. */
static void child_signal_mask(void **state)
{
	struct ctx *c = *state;
	static const char py[] = "#!/usr/bin/python3\n"
				 "import re\n"
				 "s = open('/proc/self/status').read()\n"
				 "print(re.search('SigBlk:.*', s).group(0))\n";
	snprintf(c->dial.pppd_path, sizeof(c->dial.pppd_path), "%s/fake-pppd.py", c->dir);
	assert_int_equal(write_file_atomic(c->dial.pppd_path, py, strlen(py), 0700), 0);
	start(c);
	assert_true(run_until(c, exited));
	assert_int_equal(c->code, 0);
	const char *l[32];
	size_t n = pppd_last_lines(c->p, l, 32);
	assert_int_equal(n, 1);
	assert_string_equal(l[0], "SigBlk:\t0000000000000000");
}

static void child_timeout_and_hangup(void **state)
{
	struct ctx *c = *state;
	set_mode(c, "timeout");
	start(c);
	assert_true(run_until(c, exited));
	assert_int_equal(c->code, 8);
	assert_string_equal(c->reason, "chat: modem did not answer in time (timeout)");
	c->p = pppd_free(c->p);

	c->calls = 0;
	set_mode(c, "hangup");
	c->free_in_cb = true; /* and pppd_free inside the callback is safe */
	start(c);
	assert_true(run_until(c, exited));
	assert_int_equal(c->calls, 1);
	assert_int_equal(c->code, 16);
	assert_string_equal(c->reason, "modem hung up");
	assert_null(c->p);
}

static void child_stop(void **state)
{
	struct ctx *c = *state;
	set_mode(c, "term");
	start(c);
	assert_true(run_until(c, said_ready));
	pppd_stop(c->p);
	pppd_stop(c->p); /* twice is harmless */
	assert_true(run_until(c, exited));
	assert_int_equal(c->calls, 1);
	assert_int_equal(c->code, 5);
	assert_string_equal(c->reason, "hung up on request");
}

static void child_stop_stubborn(void **state)
{
	struct ctx *c = *state;
	set_mode(c, "stubborn");
	start(c);
	pid_t pid = pppd_pid(c->p);
	assert_true(run_until(c, said_ready));
	pppd_set_stop_grace(c->p, 300);
	uint64_t t0 = now_ms();
	pppd_stop(c->p);
	assert_true(run_until(c, exited));
	assert_true(now_ms() - t0 >= 300);
	assert_int_equal(c->calls, 1);
	assert_int_equal(c->code, -1);
	assert_non_null(strstr(c->reason, "killed"));
	/* Reaped: no zombie left behind. */
	assert_int_equal(kill(pid, 0), -1);
	assert_int_equal(errno, ESRCH);
	/* More loop rounds never call back again. */
	loop_iterate(c->loop, 50);
	assert_int_equal(c->calls, 1);
}

static bool gone_pid;
static bool proc_gone(struct ctx *c)
{
	(void)c;
	return gone_pid;
}

static void child_free_running(void **state)
{
	struct ctx *c = *state;
	set_mode(c, "stubborn");
	start(c);
	pid_t pid = pppd_pid(c->p);
	c->p = pppd_free(c->p); /* killed hard, reaped by the loop, no callback */
	uint64_t end = now_ms() + 5000;
	while (!(gone_pid = kill(pid, 0) < 0 && errno == ESRCH) && now_ms() < end)
		loop_iterate(c->loop, 100);
	assert_true(proc_gone(c));
	assert_int_equal(c->calls, 0);
}

static void start_failures(void **state)
{
	struct ctx *c = *state;
	int err = 0;
	strcpy(c->dial.pppd_path, "/nonexistent/pppd");
	assert_null(pppd_start(c->loop, &c->prm, on_exit_cb, c, &err));
	assert_int_equal(err, -ENOENT);
	strcpy(c->apn.password, "bad\"pw");
	assert_null(pppd_start(c->loop, &c->prm, on_exit_cb, c, &err));
	assert_int_equal(err, -EINVAL);
	assert_int_equal(c->calls, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(render_3gpp),
	    cmocka_unit_test(render_cdma_password),
	    cmocka_unit_test(render_auth_variants),
	    cmocka_unit_test(render_bad_characters),
	    cmocka_unit_test(exit_code_table),
	    cmocka_unit_test(exit_reasons),
	    cmocka_unit_test_setup_teardown(child_no_carrier, setup, teardown),
	    cmocka_unit_test_setup_teardown(child_signal_mask, setup, teardown),
	    cmocka_unit_test_setup_teardown(child_timeout_and_hangup, setup, teardown),
	    cmocka_unit_test_setup_teardown(child_stop, setup, teardown),
	    cmocka_unit_test_setup_teardown(child_stop_stubborn, setup, teardown),
	    cmocka_unit_test_setup_teardown(child_free_running, setup, teardown),
	    cmocka_unit_test_setup_teardown(start_failures, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
