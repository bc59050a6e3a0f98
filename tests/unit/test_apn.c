/* APN database: the shipped curated and imported files, IMSI -> PLMN with 2-
 * and 3-digit MNCs, resolution order (config, curated, imported) and the
 * errors a user sees for malformed database files. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "apn.h"
#include "config.h"

#define CURATED TEST_SRCDIR "/apn-db/curated.conf"
#define MBPI	TEST_BINDIR "/apn-db/mbpi.conf"

struct dbs {
	struct apn_db *curated, *mbpi;
};

static struct apn_db *load_or_fail(const char *path)
{
	char err[256];
	struct apn_db *db = apn_db_load(path, err, sizeof(err));
	if (!db)
		fail_msg("%s", err);
	return db;
}

static int setup(void **state)
{
	struct dbs *d = calloc(1, sizeof(*d));
	d->curated = load_or_fail(CURATED);
	d->mbpi = load_or_fail(MBPI);
	*state = d;
	return 0;
}

static int teardown(void **state)
{
	struct dbs *d = *state;
	apn_db_free(d->curated);
	apn_db_free(d->mbpi);
	free(d);
	return 0;
}

static struct apn_db *from_string(const char *text)
{
	char err[256];
	struct apn_db *db = apn_db_load_string(text, strlen(text), "t.conf", err, sizeof(err));
	if (!db)
		fail_msg("%s", err);
	return db;
}

static void resolve_ok(struct dbs *d, const char *imsi, const char *plmn, struct apn_profile *p)
{
	struct apn_db *list[] = {d->curated, d->mbpi};
	char why[200];
	int r = apn_resolve(NULL, list, 2, NULL, imsi, plmn, p, why, sizeof(why));
	if (r != 0)
		fail_msg("%s/%s: %d %s", imsi ? imsi : "-", plmn ? plmn : "-", r, why);
	assert_string_equal(why, p->source);
}

static void test_seed_carriers(void **state)
{
	struct apn_profile p;

	resolve_ok(*state, "460011234567890", NULL, &p);
	assert_string_equal(p.plmn, "46001");
	assert_string_equal(p.provider, "China Unicom");
	assert_string_equal(p.apn, "3GNET");
	assert_string_equal(p.number, "*99#");
	assert_string_equal(p.user, "");
	assert_int_equal(p.kind, APN_DIAL_3GPP);
	assert_non_null(strstr(p.source, "curated.conf:"));
	assert_non_null(strstr(p.source, "(China Unicom)"));

	resolve_ok(*state, NULL, "46003", &p);
	assert_string_equal(p.provider, "China Telecom");
	assert_string_equal(p.number, "#777");
	assert_string_equal(p.user, "ctnet@mycdma.cn");
	assert_string_equal(p.password, "vnet.mobi");
	assert_string_equal(p.apn, "");
	assert_int_equal(p.kind, APN_DIAL_CDMA);
	assert_int_equal(p.auth, APN_AUTH_ANY);

	resolve_ok(*state, "460001234567890", NULL, &p);
	assert_string_equal(p.plmn, "46000");
	assert_string_equal(p.apn, "CMNET");
	assert_string_equal(p.number, "*99***1#");
	assert_int_equal(p.auth, APN_AUTH_NONE);

	/* Every PLMN of the seed carriers is listed. */
	const char *all[] = {"46000", "46001", "46002", "46003", "46004", "46005",
			     "46006", "46007", "46008", "46009", "46011"};
	struct dbs *d = *state;
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		assert_non_null(apn_db_lookup(d->curated, all[i]));
	assert_int_equal(apn_db_count(d->curated), 3);
}

static void test_plmn_from_imsi(void **state)
{
	static const struct {
		const char *imsi, *plmn;
	} cases[] = {
	    {"310260123456789", "310260"}, /* T-Mobile US: 3-digit MNC */
	    {"234150123456789", "23415"},  /* Vodafone UK: 2-digit */
	    {"460001234567890", "46000"},  {"302720123456789", "302720"}, /* Canada */
	    {"334020123456789", "334020"},				  /* Mexico */
	    {"722070123456789", "722070"},				  /* Argentina */
	    {"405025123456789", "405025"},			    /* India 405: 3-digit range */
	    {"405051234567890", "40505"},			    /* India 405: 2-digit network */
	    {"404451234567890", "40445"},  {"2621012345", "26210"}, /* short but valid */
	};
	char out[8];
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(apn_plmn_from_imsi(cases[i].imsi, out, sizeof(out)), 0);
		assert_string_equal(out, cases[i].plmn);
	}
	assert_int_equal(apn_plmn_from_imsi("123456", out, sizeof(out)), -EINVAL);
	assert_int_equal(apn_plmn_from_imsi("3102601234567890", out, sizeof(out)), -EINVAL);
	assert_int_equal(apn_plmn_from_imsi("31026012345678a", out, sizeof(out)), -EINVAL);
	assert_int_equal(apn_plmn_from_imsi("", out, sizeof(out)), -EINVAL);
	assert_int_equal(apn_plmn_from_imsi(NULL, out, sizeof(out)), -EINVAL);
	assert_int_equal(apn_plmn_from_imsi("310260123456789", out, 6), -ENOBUFS);

	assert_true(apn_mcc_is_ambiguous("310"));
	assert_true(apn_mcc_is_ambiguous("40501"));
	assert_false(apn_mcc_is_ambiguous("234"));
	assert_false(apn_mcc_is_ambiguous("46"));
}

static void test_imported_lookup(void **state)
{
	struct apn_profile p;

	resolve_ok(*state, "310260123456789", NULL, &p);
	assert_string_equal(p.plmn, "310260");
	assert_string_equal(p.provider, "T-Mobile");
	assert_non_null(strstr(p.source, "mbpi.conf:"));

	resolve_ok(*state, "234150123456789", NULL, &p);
	assert_string_equal(p.plmn, "23415");
	assert_string_equal(p.provider, "Vodafone");
	assert_string_equal(p.number, "*99#");

	/* mbpi lists Telcel as "33402" though Mexico uses 3-digit MNCs: the
	 * 6-digit reading misses, the 5-digit one matches. */
	resolve_ok(*state, "334020123456789", NULL, &p);
	assert_string_equal(p.plmn, "33402");
}

static void test_imported_size(void **state)
{
	struct dbs *d = *state;
	assert_true(apn_db_count(d->mbpi) > 500);
	assert_string_equal(apn_db_name(d->mbpi), "mbpi.conf");
	/* Every imported carrier can be found under a PLMN it lists. */
	assert_non_null(apn_db_lookup(d->mbpi, "26201"));
}

static void test_curated_wins(void **state)
{
	struct dbs *d = *state;
	struct apn_profile p;
	char why[200];

	/* The imported file knows 46001 too (with user "uninet"). */
	const struct apn_profile *imp = apn_db_lookup(d->mbpi, "46001");
	assert_non_null(imp);
	resolve_ok(d, NULL, "46001", &p);
	assert_string_equal(p.apn, "3GNET");
	assert_string_equal(p.user, "");

	/* Same with two small databases, and order decides. */
	struct apn_db *a = from_string("carriers = ( { plmn = [\"26201\"]; provider = \"A\";\n"
				       "  apn = \"a.example\"; number = \"*99#\"; } );\n");
	struct apn_db *b =
	    from_string("carriers = (\n { plmn = [\"26202\", \"26201\"];\n"
			"  provider = \"B\"; apn = \"b.example\"; number = \"*99#\"; }\n);\n");
	struct apn_db *ab[] = {a, b}, *ba[] = {b, a};
	assert_int_equal(apn_resolve(NULL, ab, 2, NULL, NULL, "26201", &p, why, sizeof(why)), 0);
	assert_string_equal(p.apn, "a.example");
	assert_string_equal(why, "t.conf:1 (A)");
	assert_int_equal(apn_resolve(NULL, ba, 2, NULL, NULL, "26201", &p, why, sizeof(why)), 0);
	assert_string_equal(p.apn, "b.example");
	assert_string_equal(why, "t.conf:2 (B)");
	assert_int_equal(p.auth, APN_AUTH_NONE);
	apn_db_free(a);
	apn_db_free(b);
}

static void test_no_match(void **state)
{
	struct dbs *d = *state;
	struct apn_db *list[] = {d->curated, d->mbpi};
	struct apn_profile p;
	char why[200];

	assert_int_equal(apn_resolve(NULL, list, 2, NULL, NULL, "00101", &p, why, sizeof(why)),
			 -ENOENT);
	assert_string_equal(why, "no APN for PLMN 00101");
	assert_string_equal(p.plmn, "00101");
	assert_int_equal(
	    apn_resolve(NULL, list, 2, NULL, "001011234567890", NULL, &p, why, sizeof(why)),
	    -ENOENT);
	assert_string_equal(why, "no APN for PLMN 00101");
	assert_int_equal(
	    apn_resolve(NULL, list, 2, NULL, "316999123456789", NULL, &p, why, sizeof(why)),
	    -ENOENT);
	assert_string_equal(why, "no APN for PLMN 316999 (nor 31699)");
	assert_int_equal(apn_resolve(NULL, NULL, 0, NULL, NULL, "46001", &p, why, sizeof(why)),
			 -ENOENT);
	assert_int_equal(apn_resolve(NULL, list, 2, NULL, "12x", NULL, &p, why, sizeof(why)),
			 -EINVAL);
	assert_string_equal(why, "invalid IMSI \"12x\" (expected 7 to 15 digits)");
	assert_int_equal(apn_resolve(NULL, list, 2, NULL, NULL, NULL, &p, why, sizeof(why)),
			 -EINVAL);
}

static void expect_error(const char *text, const char *msg)
{
	char err[256];
	struct apn_db *db = apn_db_load_string(text, strlen(text), "bad.conf", err, sizeof(err));
	if (db)
		fail_msg("accepted: %s", text);
	if (!strstr(err, msg))
		fail_msg("error \"%s\" lacks \"%s\"", err, msg);
}

#define ENTRY(body) "carriers = (\n  {\n" body "  }\n);\n"
#define OK_FIELDS   "    provider = \"X\";\n    apn = \"x\";\n    number = \"*99#\";\n"

static void test_malformed(void **state)
{
	expect_error("carriers = ( { plmn = [\"46001\"; provider = \"X\"; } );\n",
		     "bad.conf:1: syntax error");
	expect_error("\n\ncarriers = (\n", "bad.conf:4: syntax error");
	expect_error("carrier = ();\n", "bad.conf:1: carrier: unknown setting");
	expect_error("", "bad.conf:1: no 'carriers");
	expect_error("carriers = { };\n", "bad.conf:1: carriers: must be a list");
	expect_error("carriers = ( 1 );\n", "bad.conf:1: carriers[0]: must be a group");
	expect_error(ENTRY("    plmn = [\"4600\"];\n" OK_FIELDS),
		     "bad.conf:3: carriers[0].plmn[0]: \"4600\" is not a PLMN");
	expect_error(ENTRY("    plmn = \"46001\";\n" OK_FIELDS),
		     "bad.conf:3: carriers[0].plmn: must be a list");
	expect_error(ENTRY("    plmn = [];\n" OK_FIELDS), "carriers[0].plmn: needs 1 to 64");
	expect_error(ENTRY(OK_FIELDS), "bad.conf:2: carriers[0]: missing plmn");
	expect_error(ENTRY("    plmn = [\"46001\"];\n    provider = \"X\";\n    apn = \"x\";\n"),
		     "bad.conf:2: carriers[0]: missing number");
	expect_error(ENTRY("    plmn = [\"46001\"];\n" OK_FIELDS "    colour = \"red\";\n"),
		     "bad.conf:7: carriers[0].colour: unknown setting");
	expect_error(ENTRY("    plmn = [\"46001\"];\n" OK_FIELDS "    auth = \"md5\";\n"),
		     "bad.conf:7: carriers[0].auth: \"md5\" is not none, pap, chap or any");
	expect_error(ENTRY("    plmn = [\"46001\"];\n" OK_FIELDS "    kind = \"lte\";\n"),
		     "bad.conf:7: carriers[0].kind: \"lte\" is not 3gpp or cdma");
	expect_error(ENTRY("    plmn = [\"46001\"];\n" OK_FIELDS "    user = 7;\n"),
		     "bad.conf:7: carriers[0].user: must be a string");
	expect_error(ENTRY("    plmn = [\"46001\"];\n" OK_FIELDS "    password = \"a\\\"b\";\n"),
		     "bad.conf:7: carriers[0].password: \"a\"b\" must be printable ASCII");
	expect_error(
	    ENTRY("    plmn = [\"46001\"];\n    provider = \"X\";\n    number = \"*99#\";\n"),
	    "bad.conf:2: carriers[0] (X): a 3gpp carrier needs an apn");
	expect_error(ENTRY("    plmn = [\"46001\"];\n    provider = \"X\";\n    apn = \"a b\";\n"
			   "    number = \"*99#\";\n"),
		     "bad.conf:5: carriers[0].apn: \"a b\" may only contain");
	expect_error(ENTRY("    plmn = [\"46001\"];\n" OK_FIELDS "    country = \"CHN\";\n"),
		     "carriers[0].country: \"CHN\" is not a two-letter");
	expect_error(ENTRY("    plmn = [\"46001\"];\n    provider = \"X\";\n    apn = \"x\";\n"
			   "    number = \"ATD*99#\";\n"),
		     "bad.conf:6: carriers[0].number: \"ATD*99#\" is not a dial string");
	/* Too long is an error, never a silent cut. */
	expect_error(
	    ENTRY("    plmn = [\"46001\"];\n    provider = \"X\";\n    number = \"*99#\";\n"
		  "    apn = \""
		  "0123456789012345678901234567890123456789"
		  "012345678901234567890123\";\n"),
	    "bad.conf:6: carriers[0].apn: longer than 63 characters");
	expect_error("carriers = (\n { plmn = [\"46001\"];" OK_FIELDS "},\n"
		     " { plmn = [\"46002\", \"46001\"];" OK_FIELDS "}\n);\n",
		     "bad.conf:6: PLMN 46001 is already listed at line 2 (X)");
	expect_error("@include \"/dev/zero\"\n", "bad.conf:1: @include is not allowed");
	static const char nul[] = "carriers = (\n);\n#\0x\n";
	char err[256];
	assert_null(apn_db_load_string(nul, sizeof(nul) - 1, "bad.conf", err, sizeof(err)));
	assert_string_equal(err, "bad.conf:3: contains a NUL byte");
	expect_error("carriers = ( );\nextra = 1;\n", "bad.conf:2: extra: unknown setting");
}

static void test_too_many_carriers(void **state)
{
	size_t n = APN_DB_MAX_CARRIERS + 1, cap = n * 64 + 64, len = 0;
	char *text = malloc(cap);
	len += (size_t)snprintf(text + len, cap - len, "carriers = (\n");
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(
		    text + len, cap - len,
		    "{plmn=[\"%06zu\"];provider=\"P\";apn=\"a\";number=\"*99#\";}%s\n", 100000 + i,
		    i + 1 < n ? "," : "");
	len += (size_t)snprintf(text + len, cap - len, ");\n");
	char err[256];
	assert_null(apn_db_load_string(text, len, "big.conf", err, sizeof(err)));
	assert_string_equal(err, "big.conf:1: carriers: 20001 entries, at most 20000 allowed");
	free(text);
}

static void test_file_errors(void **state)
{
	char path[] = "/tmp/test_apn.XXXXXX", err[512], want[600];
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	const char *text = "carriers = (\n  { plmn = [\"46001\"]; provider = \"X\"; apn = \"x\";\n"
			   "    number = \"*99#\"; kind = \"gsm\"; }\n);\n";
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	assert_null(apn_db_load(path, err, sizeof(err)));
	snprintf(want, sizeof(want), "%s:3: carriers[0].kind: \"gsm\" is not 3gpp or cdma", path);
	assert_string_equal(err, want);
	unlink(path);

	assert_null(apn_db_load("/nonexistent/apn.conf", err, sizeof(err)));
	assert_string_equal(err, "/nonexistent/apn.conf: No such file or directory");
	assert_null(apn_db_load("/tmp", err, sizeof(err)));
	assert_string_equal(err, "/tmp: not a regular file");
}

static void test_names(void **state)
{
	enum apn_auth a;
	enum apn_dial_kind k;
	assert_int_equal(apn_auth_from_string("chap", &a), 0);
	assert_int_equal(a, APN_AUTH_CHAP);
	assert_string_equal(apn_auth_to_string(APN_AUTH_PAP), "pap");
	assert_int_equal(apn_auth_from_string("CHAP", &a), -EINVAL);
	assert_int_equal(apn_dial_kind_from_string("cdma", &k), 0);
	assert_int_equal(k, APN_DIAL_CDMA);
	assert_string_equal(apn_dial_kind_to_string(APN_DIAL_3GPP), "3gpp");
	assert_null(apn_db_free(NULL));
	assert_int_equal(apn_db_count(NULL), 0);
}

/* Overrides in modemd.conf beat the databases: per SIM, then per PLMN. */
static void test_config_overrides(void **state)
{
	struct dbs *d = *state;
	struct apn_db *list[] = {d->curated, d->mbpi};
	struct config cfg;
	struct apn_profile p;
	char err[256], why[200];
	const char *text = "sims = (\n"
			   "  { iccid = \"89860112345678901234\"; apn = \"private.corp\";\n"
			   "    user = \"u\"; password = \"s\"; auth = \"chap\"; }\n"
			   ");\n"
			   "plmns = (\n"
			   "  { plmn = \"46001\"; apn = \"uninet\"; number = \"*99***1#\"; },\n"
			   "  { plmn = \"31026\"; apn = \"five.example\"; }\n"
			   ");\n";
	if (config_load_string(&cfg, text, "modemd.conf", err, sizeof(err)) < 0)
		fail_msg("%s", err);

	/* Per-SIM wins over everything, even without a usable IMSI. */
	assert_int_equal(apn_resolve(&cfg, list, 2, "89860112345678901234", "460011234567890", NULL,
				     &p, why, sizeof(why)),
			 0);
	assert_string_equal(p.apn, "private.corp");
	assert_string_equal(p.user, "u");
	assert_int_equal(p.auth, APN_AUTH_CHAP);
	assert_string_equal(p.plmn, "46001");
	assert_true(strncmp(why, "config: sim 89860112345678901234", 32) == 0);
	assert_int_equal(
	    apn_resolve(&cfg, list, 2, "89860112345678901234", NULL, NULL, &p, why, sizeof(why)),
	    0);
	assert_string_equal(p.apn, "private.corp");

	/* Another SIM on the same network: the per-PLMN override. */
	assert_int_equal(apn_resolve(&cfg, list, 2, "89860100000000000000", "460011234567890", NULL,
				     &p, why, sizeof(why)),
			 0);
	assert_string_equal(p.apn, "uninet");
	assert_string_equal(p.number, "*99***1#");
	assert_true(strncmp(why, "config: plmn 46001", 18) == 0);

	/* A 5-digit override still catches a 3-digit-MNC IMSI, after the
	 * 6-digit reading found no override. */
	assert_int_equal(
	    apn_resolve(&cfg, list, 2, NULL, "310260123456789", NULL, &p, why, sizeof(why)), 0);
	assert_string_equal(p.apn, "five.example");
	assert_string_equal(p.plmn, "31026");

	/* No override: the database. */
	assert_int_equal(apn_resolve(&cfg, list, 2, NULL, NULL, "46000", &p, why, sizeof(why)), 0);
	assert_string_equal(p.apn, "CMNET");
	config_release(&cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_seed_carriers),    cmocka_unit_test(test_plmn_from_imsi),
	    cmocka_unit_test(test_imported_lookup),  cmocka_unit_test(test_imported_size),
	    cmocka_unit_test(test_curated_wins),     cmocka_unit_test(test_no_match),
	    cmocka_unit_test(test_malformed),	     cmocka_unit_test(test_too_many_carriers),
	    cmocka_unit_test(test_file_errors),	     cmocka_unit_test(test_names),
	    cmocka_unit_test(test_config_overrides),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
