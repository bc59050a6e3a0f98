/* pppd-style secrets files: word syntax (quotes, escapes, comments), best
 * match with wildcards, refusal of unsafe files, and file:line errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "secrets.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static struct secrets *load(const char *text, int want, char *err, size_t errlen)
{
	struct secrets *s = secrets_new();
	assert_non_null(s);
	int r = secrets_load_string(s, text, strlen(text), "chap-secrets", err, errlen);
	if (r != want)
		fail_msg("load returned %d, want %d (%s)", r, want, err);
	return s;
}

static const char *secret_of(const struct secrets *s, const char *client, const char *server)
{
	const struct secret *e = secrets_lookup(s, client, server);
	return e ? e->secret : NULL;
}

static void test_basic_file(void **state)
{
	char err[256];
	static const char text[] =
	    "# Secrets for authentication using CHAP\n"
	    "# client\tserver\tsecret\t\t\tIP addresses\n"
	    "gw1\treceiver\ts3cret\t*\n"
	    "\n"
	    "   gw2  receiver  \"two words\"  10.0.0.2 !10.0.0.3 # trailing\n"
	    "receiver gw1 'single \"q\"' -\n";
	struct secrets *s = load(text, 3, err, sizeof(err));

	assert_int_equal(secrets_count(s), 3);
	const struct secret *e = secrets_lookup(s, "gw1", "receiver");
	assert_non_null(e);
	assert_string_equal(e->secret, "s3cret");
	assert_int_equal(e->secret_len, 6);
	assert_int_equal(e->n_addrs, 1);
	assert_string_equal(e->addrs[0], "*");
	assert_int_equal(e->line, 3);

	e = secrets_lookup(s, "gw2", "receiver");
	assert_non_null(e);
	assert_string_equal(e->secret, "two words");
	assert_int_equal(e->n_addrs, 2);
	assert_string_equal(e->addrs[0], "10.0.0.2");
	assert_string_equal(e->addrs[1], "!10.0.0.3");
	assert_int_equal(e->line, 5);

	assert_string_equal(secret_of(s, "receiver", "gw1"), "single \"q\"");
	/* Names are case-sensitive and must match exactly. */
	assert_null(secrets_lookup(s, "GW1", "receiver"));
	assert_null(secrets_lookup(s, "gw1", "receiver2"));
	secrets_free(s);
}

static void test_escapes(void **state)
{
	char err[256];
	static const char text[] = "a\\ b srv x\\sy\\tz\n"	/* \  and \s \t */
				   "c srv \\x41\\101\\^A\n"	/* hex, octal, control */
				   "d srv \"q\\\"uote\"\n"	/* escaped quote in quotes */
				   "e srv ab#cd\n"		/* # inside a word */
				   "f srv \"#not a comment\"\n" /* # in quotes */
				   "g srv mid\"dle q\"uote\n"	/* quoting inside a word */
				   "h srv con\\\ntinued\n"	/* backslash-newline */
				   "i \\\n srv joined\n"	/* continuation between words */
				   "j srv ''\n";		/* empty secret */
	struct secrets *s = load(text, 9, err, sizeof(err));

	assert_string_equal(secret_of(s, "a b", "srv"), "x y\tz");
	assert_string_equal(secret_of(s, "c", "srv"), "AA\x01");
	assert_string_equal(secret_of(s, "d", "srv"), "q\"uote");
	assert_string_equal(secret_of(s, "e", "srv"), "ab#cd");
	assert_string_equal(secret_of(s, "f", "srv"), "#not a comment");
	assert_string_equal(secret_of(s, "g", "srv"), "middle quote");
	assert_string_equal(secret_of(s, "h", "srv"), "continued");
	assert_string_equal(secret_of(s, "i", "srv"), "joined");
	assert_int_equal(secrets_lookup(s, "i", "srv")->line, 9);
	assert_string_equal(secret_of(s, "j", "srv"), "");
	secrets_free(s);
}

static void test_wildcards(void **state)
{
	char err[256];
	static const char text[] = "*   *   any-any\n"
				   "*   rx  any-rx\n"
				   "gw1 *   gw1-any\n"
				   "gw1 rx  gw1-rx\n"
				   "gw1 rx  second\n";
	struct secrets *s = load(text, 5, err, sizeof(err));

	/* Exact beats '*'; the first of two exact entries wins. */
	assert_string_equal(secret_of(s, "gw1", "rx"), "gw1-rx");
	/* pppd ranks an exact client above an exact server. */
	assert_string_equal(secret_of(s, "gw1", "other"), "gw1-any");
	assert_string_equal(secret_of(s, "gw2", "rx"), "any-rx");
	assert_string_equal(secret_of(s, "gw2", "other"), "any-any");
	secrets_free(s);

	s = load("*   rx  any-rx\ngw1 *   gw1-any\n", 2, err, sizeof(err));
	assert_string_equal(secret_of(s, "gw1", "rx"), "gw1-any");
	secrets_free(s);

	/* A quoted "*" is still a wildcard (pppd compares the word). */
	s = load("\"*\" rx w\n", 1, err, sizeof(err));
	assert_string_equal(secret_of(s, "anyone", "rx"), "w");
	secrets_free(s);
}

static void test_add_in_memory(void **state)
{
	char err[256];
	struct secrets *s = load("gw1 rx from-file\n", 1, err, sizeof(err));
	char long_name[SECRET_NAME_MAX + 2];

	assert_int_equal(secrets_add(s, "gw1", "*", "from-config"), 0);
	assert_string_equal(secret_of(s, "gw1", "rx"), "from-file");
	assert_string_equal(secret_of(s, "gw1", "other"), "from-config");
	assert_int_equal(secrets_lookup(s, "gw1", "other")->line, 0);

	memset(long_name, 'n', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = 0;
	assert_int_equal(secrets_add(s, long_name, "rx", "x"), -ENAMETOOLONG);
	assert_int_equal(secrets_add(s, NULL, "rx", "x"), -EINVAL);
	assert_int_equal(secrets_count(s), 2);
	secrets_free(s);
}

struct bad_case {
	const char *text;
	const char *err;
};

static void test_malformed_lines(void **state)
{
	static const struct bad_case cases[] = {
	    {"gw1 rx ok\ngw2 rx\n",
	     "chap-secrets:2: expected \"client server secret [address ...]\""},
	    {"gw1 rx \"open\n", "chap-secrets:1: unterminated \" quote"},
	    {"# c\ngw1 rx 'open", "chap-secrets:2: unterminated ' quote"},
	    {"gw1 rx sec\\", "chap-secrets:1: backslash at end of file"},
	    {"gw1 rx a\\000b\n", "chap-secrets:1: NUL byte in a word"},
	    {"gw1 rx \\xZZ\n", "chap-secrets:1: \\x without hex digits"},
	    {"\n\ngw1 rx @/etc/ppp/secret\n",
	     "chap-secrets:3: secrets read from a file (@...) are not supported"},
	    {"gw1 rx s 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17\n",
	     "chap-secrets:1: more than 16 addresses"},
	    {"gw1\nrx s\n", "chap-secrets:1: expected \"client server secret [address ...]\""},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char err[256] = "";
		struct secrets *s = secrets_new();
		int r = secrets_load_string(s, cases[i].text, strlen(cases[i].text), "chap-secrets",
					    err, sizeof(err));
		if (r >= 0)
			fail_msg("case %zu accepted", i);
		assert_string_equal(err, cases[i].err);
		/* All or nothing: the good line before the bad one is not kept. */
		assert_int_equal(secrets_count(s), 0);
		secrets_free(s);
	}
}

static void test_bounds(void **state)
{
	char err[256];
	struct secrets *s = secrets_new();
	/* A word one byte over the limit. */
	char text[600];
	int n = snprintf(text, sizeof(text), "gw1 rx ");
	memset(text + n, 'x', SECRET_WORD_MAX + 1);
	text[n + SECRET_WORD_MAX + 1] = 0;
	assert_int_equal(secrets_load_string(s, text, strlen(text), "f", err, sizeof(err)), -E2BIG);
	assert_string_equal(err, "f:1: word longer than 255 bytes");
	/* Exactly at the limit is fine. */
	text[n + SECRET_WORD_MAX] = 0;
	assert_int_equal(secrets_load_string(s, text, strlen(text), "f", err, sizeof(err)), 1);
	assert_int_equal(secrets_lookup(s, "gw1", "rx")->secret_len, SECRET_WORD_MAX);
	secrets_free(s);

	/* More entries than the store takes. */
	size_t cap = (SECRETS_MAX_ENTRIES + 1) * 12 + 1, len = 0;
	char *big = malloc(cap);
	assert_non_null(big);
	for (int i = 0; i <= SECRETS_MAX_ENTRIES; i++)
		len += (size_t)snprintf(big + len, cap - len, "c%05d s x\n", i);
	s = secrets_new();
	assert_int_equal(secrets_load_string(s, big, len, "f", err, sizeof(err)), -E2BIG);
	assert_string_equal(err, "f:4097: more than 4096 secrets");
	assert_int_equal(secrets_count(s), 0);
	secrets_free(s);
	free(big);
}

static void write_file(const char *path, const char *text, mode_t mode)
{
	unlink(path);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	assert_int_equal(chmod(path, mode), 0);
}

static void test_file_permissions(void **state)
{
	char dir[] = "/tmp/test_secrets.XXXXXX", path[64], err[512], want[512];
	struct secrets *s = secrets_new();

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/chap-secrets", dir);

	/* Readable by others: refused, naming the file and its mode. */
	write_file(path, "gw1 rx s3cret\n", 0644);
	assert_int_equal(secrets_load_file(s, path, getuid(), err, sizeof(err)), -EPERM);
	snprintf(want, sizeof(want),
		 "%s: mode 0644 gives group/others access to secrets; use chmod 600", path);
	assert_string_equal(err, want);
	/* Group-readable only: refused too. */
	assert_int_equal(chmod(path, 0640), 0);
	assert_int_equal(secrets_load_file(s, path, getuid(), err, sizeof(err)), -EPERM);
	assert_non_null(strstr(err, "mode 0640"));
	assert_int_equal(secrets_count(s), 0);

	/* 0600 and the right owner: loaded. */
	assert_int_equal(chmod(path, 0600), 0);
	assert_int_equal(secrets_load_file(s, path, getuid(), err, sizeof(err)), 1);
	assert_string_equal(secret_of(s, "gw1", "rx"), "s3cret");

	/* Someone else's file: refused. */
	assert_int_equal(secrets_load_file(s, path, getuid() + 1, err, sizeof(err)), -EPERM);
	assert_non_null(strstr(err, "must be owned by uid"));

	/* Errors inside the file name the path and line. */
	write_file(path, "gw1 rx ok\nbroken line\n", 0600);
	assert_int_equal(secrets_load_file(s, path, getuid(), err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want), "%s:2: expected", path);
	assert_memory_equal(err, want, strlen(want));

	/* Missing file, and a directory. */
	unlink(path);
	assert_int_equal(secrets_load_file(s, path, getuid(), err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, path));
	assert_int_equal(secrets_load_file(s, dir, getuid(), err, sizeof(err)), -EPERM);
	assert_non_null(strstr(err, "not a regular file"));
	assert_int_equal(secrets_count(s), 1);
	rmdir(dir);
	secrets_free(s);
}

static void test_helpers(void **state)
{
	assert_true(auth_secret_equal("abc", 3, "abc", 3));
	assert_false(auth_secret_equal("abc", 3, "abd", 3));
	assert_false(auth_secret_equal("abc", 3, "abc\0", 4));
	assert_false(auth_secret_equal("", 0, "x", 1));
	assert_true(auth_secret_equal("", 0, "", 0));
	char out[8];
	auth_printable(out, sizeof(out), (const uint8_t *)"ok\x01\xffmore", 8);
	assert_string_equal(out, "ok??mor");
	assert_true(auth_name_valid((const uint8_t *)"gw 1", 4));
	assert_false(auth_name_valid((const uint8_t *)"gw\n1", 4));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_basic_file),	     cmocka_unit_test(test_escapes),
	    cmocka_unit_test(test_wildcards),	     cmocka_unit_test(test_add_in_memory),
	    cmocka_unit_test(test_malformed_lines),  cmocka_unit_test(test_bounds),
	    cmocka_unit_test(test_file_permissions), cmocka_unit_test(test_helpers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
