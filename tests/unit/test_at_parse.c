/* AT line assembler and classifier: split reads, garbage, echo, result codes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "at_parse.h"

#include <stdio.h>
#include <string.h>

#define MAX_OUT 32

struct out {
	char lines[MAX_OUT][AT_LINE_MAX + 1];
	size_t n;
};

static void feed(struct at_lines *a, const void *buf, size_t n, struct out *o)
{
	size_t off = 0;
	while (off < n) {
		const char *line;
		size_t used = at_lines_push(a, (const char *)buf + off, n - off, &line);
		assert_true(used > 0);
		off += used;
		if (line) {
			assert_true(o->n < MAX_OUT);
			assert_true(strlen(line) > 0);
			snprintf(o->lines[o->n++], sizeof(o->lines[0]), "%s", line);
		}
	}
}

static void assert_lines(const struct out *o, const char *const *want, size_t n_want)
{
	assert_int_equal(o->n, n_want);
	for (size_t i = 0; i < n_want; i++)
		assert_string_equal(o->lines[i], want[i]);
}

/* What a SIM7100E prints after power-up, then our first commands with echo
 * still on. */
static const char boot[] = "\r\nRDY\r\n"
			   "\r\n+CPIN: READY\r\n"
			   "\r\nSMS DONE\r\n"
			   "\r\nPB DONE\r\n"
			   "AT\r\r\nOK\r\n"
			   "ATE0\r\r\nOK\r\n";
static const char *const boot_lines[] = {"RDY", "+CPIN: READY", "SMS DONE", "PB DONE",
					 "AT",	"OK",		"ATE0",	    "OK"};

static void test_boot_every_split(void **state)
{
	size_t n = sizeof(boot) - 1;

	for (size_t i = 0; i <= n; i++) {
		for (size_t j = i; j <= n; j++) {
			struct at_lines a;
			struct out o = {0};
			at_lines_init(&a);
			feed(&a, boot, i, &o);
			feed(&a, boot + i, j - i, &o);
			feed(&a, boot + j, n - j, &o);
			assert_lines(&o, boot_lines, 8);
			assert_int_equal(a.n_overlong, 0);
		}
	}
}

static void test_byte_by_byte(void **state)
{
	struct at_lines a;
	struct out o = {0};

	at_lines_init(&a);
	for (size_t i = 0; i < sizeof(boot) - 1; i++)
		feed(&a, boot + i, 1, &o);
	assert_lines(&o, boot_lines, 8);
}

static void test_line_endings(void **state)
{
	static const char in[] = "A\rB\nC\r\nD\n\rE\r\r\n\n\n   \r\n  F  \r\n";
	static const char *const want[] = {"A", "B", "C", "D", "E", "F"};
	struct at_lines a;
	struct out o = {0};

	at_lines_init(&a);
	feed(&a, in, sizeof(in) - 1, &o);
	assert_lines(&o, want, 6);
}

static void test_garbage_dropped(void **state)
{
	static const unsigned char in[] = {0x00, 0xff, 'O',  0x00, 'K', 0x1b, '\r', '\n', 0x80,
					   0x07, '\r', '\n', '+',  'C', 'S',  'Q',  ':',  ' ',
					   '1',	 '8',  0xfe, ',',  '9', '9',  '\r', '\n'};
	static const char *const want[] = {"OK", "+CSQ: 18,99"};
	struct at_lines a;
	struct out o = {0};

	at_lines_init(&a);
	feed(&a, in, sizeof(in), &o);
	assert_lines(&o, want, 2);
	assert_int_equal(a.n_dropped, 7);
}

static void test_overlong(void **state)
{
	char big[2000];
	struct at_lines a;
	struct out o = {0};

	at_lines_init(&a);
	memset(big, 'A', sizeof(big));
	feed(&a, big, 600, &o); /* split in the middle of the long line */
	feed(&a, big, 600, &o);
	feed(&a, "\r\nOK\r\n", 6, &o);
	assert_int_equal(o.n, 1);
	assert_string_equal(o.lines[0], "OK");
	assert_int_equal(a.n_overlong, 1);

	/* Exactly AT_LINE_MAX is kept, one more is not. */
	o.n = 0;
	feed(&a, big, AT_LINE_MAX, &o);
	feed(&a, "\n", 1, &o);
	feed(&a, big, AT_LINE_MAX + 1, &o);
	feed(&a, "\nERROR\n", 7, &o);
	assert_int_equal(o.n, 2);
	assert_int_equal(strlen(o.lines[0]), AT_LINE_MAX);
	assert_string_equal(o.lines[1], "ERROR");
	assert_int_equal(a.n_overlong, 2);
}

static void final_is(const char *line, enum at_result want, int want_err)
{
	enum at_result res;
	int err;

	assert_true(at_parse_final(line, &res, &err));
	assert_int_equal(res, want);
	assert_int_equal(err, want_err);
}

static void test_finals(void **state)
{
	enum at_result res;
	int err;

	final_is("OK", AT_RES_OK, -1);
	final_is("ERROR", AT_RES_ERROR, -1);
	final_is("+CME ERROR: 10", AT_RES_CME_ERROR, 10);
	final_is("+CME ERROR:14", AT_RES_CME_ERROR, 14);
	final_is("+CME ERROR: SIM not inserted", AT_RES_CME_ERROR, 10);
	final_is("+CME ERROR: incorrect password", AT_RES_CME_ERROR, 16);
	final_is("+CME ERROR: SIM PUK required", AT_RES_CME_ERROR, 12);
	final_is("+CME ERROR: frobnicated", AT_RES_CME_ERROR, -1);
	final_is("+CMS ERROR: 500", AT_RES_CMS_ERROR, 500);
	final_is("+CMS ERROR: unknown error", AT_RES_CMS_ERROR, -1);
	final_is("NO CARRIER", AT_RES_NO_CARRIER, -1);
	final_is("BUSY", AT_RES_BUSY, -1);
	final_is("NO ANSWER", AT_RES_NO_ANSWER, -1);
	final_is("NO DIALTONE", AT_RES_NO_DIALTONE, -1);
	final_is("CONNECT", AT_RES_CONNECT, -1);
	final_is("CONNECT 150000000", AT_RES_CONNECT, -1);
	assert_int_equal(at_connect_rate("CONNECT 150000000"), 150000000LL);
	assert_int_equal(at_connect_rate("CONNECT"), 0);
	assert_int_equal(at_connect_rate("OK"), -1);

	assert_false(at_parse_final("OKAY", &res, &err));
	assert_false(at_parse_final("CONNECTED", &res, &err));
	assert_false(at_parse_final("+CPIN: READY", &res, &err));
	assert_false(at_parse_final("ERRORS", &res, &err));
	assert_string_equal(at_cme_to_string(10), "SIM not inserted");
	assert_null(at_cme_to_string(9999));
}

static enum at_line_kind kind(const char *line, const char *pending)
{
	enum at_result res;
	int err;
	return at_classify(line, pending, &res, &err);
}

static void test_classify(void **state)
{
	/* echo on until ATE0 */
	assert_int_equal(kind("AT+CSQ", "AT+CSQ"), AT_LINE_ECHO);
	assert_int_equal(kind("at+csq", "AT+CSQ"), AT_LINE_ECHO);
	assert_int_equal(kind("+CSQ: 18,99", "AT+CSQ"), AT_LINE_INFO);
	assert_int_equal(kind("OK", "AT+CSQ"), AT_LINE_FINAL);
	assert_int_equal(kind("OK", NULL), AT_LINE_FINAL);
	/* late echo of an earlier command: never a URC (may hold a PIN) */
	assert_int_equal(kind("AT+CPIN=\"1234\"", NULL), AT_LINE_ECHO);
	assert_int_equal(kind("AT+CSQ", "AT+CGMI"), AT_LINE_ECHO);
	assert_int_equal(kind("AT", NULL), AT_LINE_ECHO);
	assert_int_equal(kind("ATTENTION", NULL), AT_LINE_URC);

	/* boot URCs interleaved with a pending bare-reply command */
	assert_int_equal(kind("RDY", "AT+CGSN"), AT_LINE_URC);
	assert_int_equal(kind("SMS DONE", "AT+CGSN"), AT_LINE_URC);
	assert_int_equal(kind("PB DONE", "AT+CGSN"), AT_LINE_URC);
	assert_int_equal(kind("+CPIN: READY", "AT+CGSN"), AT_LINE_URC);
	assert_int_equal(kind("861234567890123", "AT+CGSN"), AT_LINE_INFO);
	assert_int_equal(kind("+CGSN: 861234567890123", "AT+CGSN"), AT_LINE_INFO);
	assert_int_equal(kind("460011234567890", "AT+CIMI"), AT_LINE_INFO);
	assert_int_equal(kind("SIMCOM INCORPORATED", "AT+CGMI"), AT_LINE_INFO);
	assert_int_equal(kind("SIMCOM_SIM7100E", "AT+CGMM"), AT_LINE_INFO);
	assert_int_equal(kind("+CGMR: 4534B03SIM7100E", "AT+CGMR"), AT_LINE_INFO);

	/* +CPIN: READY is both the reply to AT+CPIN? and a boot URC */
	assert_int_equal(kind("+CPIN: READY", "AT+CPIN?"), AT_LINE_INFO);
	assert_int_equal(kind("+CPIN: READY", NULL), AT_LINE_URC);
	assert_int_equal(kind("+CPIN: READY", "AT+CPIN=\"1234\""), AT_LINE_URC);
	assert_int_equal(kind("AT+CPIN=\"1234\"", "AT+CPIN=\"1234\""), AT_LINE_ECHO);

	/* registration: query reply vs unsolicited form */
	assert_int_equal(kind("+CREG: 0,1", "AT+CREG?"), AT_LINE_INFO);
	assert_int_equal(kind("+CREG: 2,1,\"A809\",\"0EB1\",7", "AT+CREG?"), AT_LINE_INFO);
	assert_int_equal(kind("+CREG: 1", "AT+CREG?"), AT_LINE_URC);
	assert_int_equal(kind("+CREG: 5,\"A809\",\"0EB1\",7", "AT+CREG?"), AT_LINE_URC);
	assert_int_equal(kind("+CEREG: 1", "AT+CREG?"), AT_LINE_URC);
	assert_int_equal(kind("+CREG: 1", "AT+CREG=2"), AT_LINE_URC);
	assert_int_equal(kind("+CREG: (0-2)", "AT+CREG=?"), AT_LINE_INFO);

	/* ICCID reply prefix differs from the command name (SIMCom) */
	assert_int_equal(kind("+ICCID: 89860117851011722960", "AT+CICCID"), AT_LINE_INFO);
	/* CPSI: a reply when queried, a URC when auto-reported */
	assert_int_equal(
	    kind("+CPSI: LTE,Online,460-01,0x5A1E,1,2,EUTRAN-BAND3,1825,5,5,-94,-850,-565,15",
		 "AT+CPSI?"),
	    AT_LINE_INFO);
	assert_int_equal(kind("+CPSI: NO SERVICE,Online", "AT+CSQ"), AT_LINE_URC);
	/* unknown prefixed line while a prefixed reply is expected */
	assert_int_equal(kind("+CGEV: ME PDN DEACT 1", "AT+CSQ"), AT_LINE_URC);
	assert_int_equal(kind("+FOO: 1", "AT+CSQ"), AT_LINE_URC);
	assert_int_equal(kind("*ATREADY: 1", "AT"), AT_LINE_URC);
	assert_int_equal(kind("+QIND: SMS DONE", "AT+CSQ"), AT_LINE_URC);
	assert_int_equal(kind("+SIMCARD: NOT AVAILABLE", "AT+CPIN?"), AT_LINE_URC);
	assert_int_equal(kind("NORMAL POWER DOWN", "AT+CRESET"), AT_LINE_URC);
	assert_int_equal(kind("+CFUN: 1", "AT+CSQ"), AT_LINE_URC);
	/* compound command: both prefixes are replies */
	assert_int_equal(kind("+COPS: 0,2,\"46001\",7", "AT+COPS=3,2;+COPS?"), AT_LINE_INFO);
	/* ATI: free text */
	assert_int_equal(kind("Manufacturer: SIMCOM INCORPORATED", "ATI"), AT_LINE_INFO);
	/* nothing pending: everything non-final is a URC */
	assert_int_equal(kind("+CSQ: 18,99", NULL), AT_LINE_URC);
	assert_int_equal(kind("hello", NULL), AT_LINE_URC);
}

static void redact_is(const char *in, const char *want)
{
	char out[128];
	at_redact(in, out, sizeof(out));
	assert_string_equal(out, want);
}

static void test_redact(void **state)
{
	char small[10];

	redact_is("AT+CPIN=\"1234\"", "AT+CPIN=\"****\"");
	redact_is("at+cpin=1234", "at+cpin=****");
	redact_is("AT+CPIN=\"12345678\",\"4321\"", "AT+CPIN=\"****\",\"****\"");
	redact_is("AT+CLCK=\"SC\",0,\"1234\"", "AT+CLCK=\"SC\",0,\"****\"");
	redact_is("AT+CPWD=\"SC\",\"1234\",\"5678\"", "AT+CPWD=\"SC\",\"****\",\"****\"");
	redact_is("AT+CPIN?", "AT+CPIN?");
	redact_is("+CPIN: SIM PIN", "+CPIN: SIM PIN");
	redact_is("AT+CGDCONT=1,\"IP\",\"3GNET\"", "AT+CGDCONT=1,\"IP\",\"3GNET\"");
	at_redact("AT+CPIN=\"1234\"", small, sizeof(small));
	assert_string_equal(small, "AT+CPIN=\"");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_boot_every_split), cmocka_unit_test(test_byte_by_byte),
	    cmocka_unit_test(test_line_endings),     cmocka_unit_test(test_garbage_dropped),
	    cmocka_unit_test(test_overlong),	     cmocka_unit_test(test_finals),
	    cmocka_unit_test(test_classify),	     cmocka_unit_test(test_redact),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
