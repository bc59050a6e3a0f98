/* AT information-line parsers: real SIM7100/SIM7600 lines, odd spacing and
 * quoting, and inputs that must be refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "at_info.h"

#include <errno.h>
#include <string.h>

static void test_cpin(void **state)
{
	enum at_sim_state s;

	assert_int_equal(at_parse_cpin("+CPIN: READY", &s), 0);
	assert_int_equal(s, AT_SIM_READY);
	assert_int_equal(at_parse_cpin("+CPIN:SIM PIN", &s), 0);
	assert_int_equal(s, AT_SIM_PIN);
	assert_int_equal(at_parse_cpin("+CPIN: SIM PUK", &s), 0);
	assert_int_equal(s, AT_SIM_PUK);
	assert_int_equal(at_parse_cpin("+CPIN: \"SIM PIN2\"", &s), 0);
	assert_int_equal(s, AT_SIM_PIN2);
	assert_int_equal(at_parse_cpin("+CPIN: PH-NET PIN", &s), 0);
	assert_int_equal(s, AT_SIM_PH_NET);
	assert_int_equal(at_parse_cpin("+CPIN: PH-SIM PIN", &s), 0);
	assert_int_equal(s, AT_SIM_PH_NET);
	assert_int_equal(at_parse_cpin("+CPIN: NOT INSERTED", &s), 0);
	assert_int_equal(s, AT_SIM_NOT_INSERTED);
	assert_int_equal(at_parse_cpin("+SIMCARD: NOT AVAILABLE", &s), 0);
	assert_int_equal(s, AT_SIM_NOT_INSERTED);
	assert_int_equal(at_parse_cpin("+CPIN: WHATEVER", &s), 0);
	assert_int_equal(s, AT_SIM_UNKNOWN);
	assert_int_equal(at_parse_cpin("+CPIN:", &s), -EINVAL);
	assert_int_equal(at_parse_cpin("+CPIN:   ", &s), -EINVAL);
	assert_int_equal(at_parse_cpin("READY", &s), -EINVAL);
	assert_int_equal(at_parse_cpin("", &s), -EINVAL);
	assert_string_equal(at_sim_state_to_string(AT_SIM_PUK), "puk-required");
}

static void test_reg(void **state)
{
	struct at_reg r;

	/* query form: <n>,<stat>[,<lac>,<ci>[,<AcT>]] */
	assert_int_equal(at_parse_reg("+CREG: 0,1", 1, &r), 0);
	assert_int_equal(r.which, 0);
	assert_int_equal(r.stat, AT_REG_HOME);
	assert_int_equal(r.act, -1);
	assert_int_equal(at_parse_reg("+CGREG: 2,5,\"A809\",\"0EB1\",7", 1, &r), 0);
	assert_int_equal(r.which, 1);
	assert_int_equal(r.stat, AT_REG_ROAMING);
	assert_int_equal(r.act, 7);
	assert_int_equal(at_parse_reg("+CEREG:  2 , 3 ", 1, &r), 0);
	assert_int_equal(r.which, 2);
	assert_int_equal(r.stat, AT_REG_DENIED);

	/* unsolicited form: <stat>[,<lac>,<ci>[,<AcT>]] */
	assert_int_equal(at_parse_reg("+CREG: 2", 0, &r), 0);
	assert_int_equal(r.stat, AT_REG_SEARCHING);
	assert_int_equal(at_parse_reg("+CEREG: 1,\"5A1E\",\"0B289103\",7", 0, &r), 0);
	assert_int_equal(r.stat, AT_REG_HOME);
	assert_int_equal(r.act, 7);

	/* form told from the fields */
	assert_int_equal(at_parse_reg("+CREG: 1", -1, &r), 0);
	assert_int_equal(r.stat, AT_REG_HOME);
	assert_int_equal(at_parse_reg("+CREG: 0,5", -1, &r), 0);
	assert_int_equal(r.stat, AT_REG_ROAMING);
	assert_int_equal(at_parse_reg("+CREG: 5,\"A809\",\"0EB1\",2", -1, &r), 0);
	assert_int_equal(r.stat, AT_REG_ROAMING);
	assert_int_equal(r.act, 2);
	assert_int_equal(at_parse_reg("+CREG: 2,1,\"A809\",\"0EB1\",2", -1, &r), 0);
	assert_int_equal(r.stat, AT_REG_HOME);

	/* odd values */
	assert_int_equal(at_parse_reg("+CEREG: 0,9", 1, &r), 0);
	assert_int_equal(r.stat, AT_REG_HOME);
	assert_int_equal(at_parse_reg("+CEREG: 0,8", 1, &r), 0);
	assert_int_equal(r.stat, AT_REG_UNKNOWN);

	/* refused */
	assert_int_equal(at_parse_reg("+CREG:", 0, &r), -EINVAL);
	assert_int_equal(at_parse_reg("+CREG: x", 0, &r), -EINVAL);
	assert_int_equal(at_parse_reg("+CREG: -1", 0, &r), -EINVAL);
	assert_int_equal(at_parse_reg("+CREG: 7,1", 1, &r), -EINVAL);
	assert_int_equal(at_parse_reg("+CREG: 2", 1, &r), -EINVAL);
	assert_int_equal(at_parse_reg("+COPS: 0,1", 1, &r), -EINVAL);
	assert_int_equal(at_parse_reg("+CREG: 99999999999999999999", 0, &r), -EINVAL);
	assert_string_equal(at_reg_state_to_string(AT_REG_DENIED), "denied");
}

static void test_csq(void **state)
{
	struct at_signal s = {0};

	assert_int_equal(at_parse_csq("+CSQ: 18,99", &s), 0);
	assert_int_equal(s.csq, 18);
	assert_int_equal(s.rssi_dbm, -77);
	assert_int_equal(at_parse_csq("+CSQ:31,0", &s), 0);
	assert_int_equal(s.rssi_dbm, -51);
	assert_int_equal(at_parse_csq("+CSQ: 99,99", &s), 0);
	assert_int_equal(s.csq, 99);
	assert_int_equal(s.rssi_dbm, 0);
	assert_int_equal(at_parse_csq("+CSQ: 0,99", &s), 0);
	assert_int_equal(s.rssi_dbm, -113);
	assert_int_equal(at_parse_csq("+CSQ: 32,99", &s), -EINVAL);
	assert_int_equal(at_parse_csq("+CSQ: ,99", &s), -EINVAL);
	assert_int_equal(at_parse_csq("+CSQ", &s), -EINVAL);
	assert_int_equal(at_parse_csq("18,99", &s), -EINVAL);
	assert_int_equal(s.rssi_dbm, -113); /* untouched by failures */
}

static void test_cpsi(void **state)
{
	struct at_signal s = {.csq = 20, .rssi_dbm = -73};

	assert_int_equal(at_parse_cpsi("+CPSI: LTE,Online,460-01,0x5A1E,187214339,256,EUTRAN-BAND3,"
				       "1825,5,5,-94,-850,-565,15",
				       &s),
			 0);
	assert_string_equal(s.sysmode, "LTE");
	assert_string_equal(s.plmn, "46001");
	assert_int_equal(s.rsrq_db10, -94);
	assert_int_equal(s.rsrp_dbm, -85);
	assert_int_equal(s.sinr_db10, 150);
	assert_int_equal(s.csq, 20); /* CSQ fields are not CPSI's */
	assert_int_equal(s.rssi_dbm, -73);

	/* rounding half away from zero */
	assert_int_equal(at_parse_cpsi("+CPSI: LTE,Online,310-260,0x8A1F,27447298,417,EUTRAN-BAND2,"
				       "850,5,5,-125,-1055,-761,-3",
				       &s),
			 0);
	assert_string_equal(s.plmn, "310260");
	assert_int_equal(s.rsrp_dbm, -106);
	assert_int_equal(s.rsrq_db10, -125);
	assert_int_equal(s.sinr_db10, -30);

	assert_int_equal(at_parse_cpsi("+CPSI: WCDMA,Online,460-01,0xA809,14286973,WCDMA IMT 2000,"
				       "240,10700,0,4.5,80,33,48,500",
				       &s),
			 0);
	assert_string_equal(s.sysmode, "WCDMA");
	assert_string_equal(s.plmn, "46001");
	assert_int_equal(s.rsrp_dbm, 0);
	assert_int_equal(s.rsrq_db10, 0);

	assert_int_equal(
	    at_parse_cpsi("+CPSI: GSM,Online,460-00,0x1816,10307,60 EGSM 900,-71,0,42-42", &s), 0);
	assert_string_equal(s.sysmode, "GSM");
	assert_string_equal(s.plmn, "46000");

	assert_int_equal(at_parse_cpsi("+CPSI: NO SERVICE,Online", &s), 0);
	assert_string_equal(s.sysmode, "NO SERVICE");
	assert_string_equal(s.plmn, "");

	/* truncated LTE line: mode and PLMN only */
	assert_int_equal(at_parse_cpsi("+CPSI: LTE,Online,460-11,0x5A1E", &s), 0);
	assert_string_equal(s.plmn, "46011");
	assert_int_equal(s.rsrp_dbm, 0);
	/* absurd values are not taken */
	assert_int_equal(at_parse_cpsi("+CPSI: LTE,Online,460-01,0x5A1E,1,2,EUTRAN-BAND3,1825,5,5,"
				       "-9999,12,x,1000",
				       &s),
			 0);
	assert_int_equal(s.rsrp_dbm, 0);
	assert_int_equal(s.rsrq_db10, 0);
	assert_int_equal(s.sinr_db10, 0);

	assert_int_equal(at_parse_cpsi("+CPSI:", &s), -EINVAL);
	assert_int_equal(at_parse_cpsi("+CPSI: ,Online", &s), -EINVAL);
	assert_int_equal(at_parse_cpsi("+CPSI: AVERYLONGSYSTEMMODENAME,Online", &s), -EINVAL);
	assert_int_equal(at_parse_cpsi("+CSQ: 1,2", &s), -EINVAL);
	assert_string_equal(s.plmn, "46001"); /* untouched by failures */
}

static void test_cops(void **state)
{
	char oper[32];
	int act;

	assert_int_equal(at_parse_cops("+COPS: 0,2,\"46001\",7", oper, sizeof(oper), &act), 0);
	assert_string_equal(oper, "46001");
	assert_int_equal(act, 7);
	assert_int_equal(at_parse_cops("+COPS: 0,0,\"CHN-UNICOM\",2", oper, sizeof(oper), &act), 0);
	assert_string_equal(oper, "CHN-UNICOM");
	assert_int_equal(act, 2);
	assert_int_equal(at_parse_cops("+COPS: 0,2, \"310260\"", oper, sizeof(oper), &act), 0);
	assert_string_equal(oper, "310260");
	assert_int_equal(act, -1);
	assert_int_equal(at_parse_cops("+COPS: 0", oper, sizeof(oper), &act), 0);
	assert_string_equal(oper, "");
	assert_int_equal(act, -1);
	assert_int_equal(
	    at_parse_cops("+COPS: (2,\"CHN-UNICOM\",\"UNICOM\",\"46001\",7),,(0-4),(0-2)", oper,
			  sizeof(oper), &act),
	    -EINVAL);
	assert_int_equal(at_parse_cops("+COPS: 0,2,\"46A01\",7", oper, sizeof(oper), &act),
			 -EINVAL);
	assert_int_equal(at_parse_cops("+COPS: 0,2", oper, sizeof(oper), &act), -EINVAL);
	assert_int_equal(at_parse_cops("+COPS: 0,0,\"CHN-UNICOM\"", oper, 4, &act), -EINVAL);
	assert_int_equal(at_parse_cops("+COPS:", oper, sizeof(oper), &act), -EINVAL);
}

static void test_iccid(void **state)
{
	char id[24];

	assert_int_equal(at_parse_iccid("+ICCID: 89860117851011722960", id, sizeof(id)), 0);
	assert_string_equal(id, "89860117851011722960");
	assert_int_equal(at_parse_iccid("+QCCID: 8986011785101172296F", id, sizeof(id)), 0);
	assert_string_equal(id, "8986011785101172296");
	assert_int_equal(at_parse_iccid("+CCID: \"89860117851011722960\"", id, sizeof(id)), 0);
	assert_string_equal(id, "89860117851011722960");
	assert_int_equal(at_parse_iccid("89860117851011722960", id, sizeof(id)), 0);
	assert_int_equal(at_parse_iccid("+ICCID: 8986", id, sizeof(id)), -EINVAL);
	assert_int_equal(at_parse_iccid("+ICCID: 89860117851011722960", id, 10), -EINVAL);
	assert_int_equal(at_parse_iccid("+ICCID: 8986X117851011722960", id, sizeof(id)), -EINVAL);
	assert_int_equal(at_parse_iccid("+ICCID: FFFFFFFFFFFFFFFFFFFF", id, sizeof(id)), -EINVAL);
	assert_int_equal(at_parse_iccid("", id, sizeof(id)), -EINVAL);
}

static void test_digits(void **state)
{
	char d[20];

	assert_int_equal(at_parse_digits("861234567890123", d, sizeof(d)), 0);
	assert_string_equal(d, "861234567890123");
	assert_int_equal(at_parse_digits("+CGSN: 861234567890123", d, sizeof(d)), 0);
	assert_string_equal(d, "861234567890123");
	assert_int_equal(at_parse_digits("  460011234567890 ", d, sizeof(d)), 0);
	assert_string_equal(d, "460011234567890");
	assert_int_equal(at_parse_digits("12345", d, sizeof(d)), -EINVAL);
	assert_int_equal(at_parse_digits("123456789012345678", d, sizeof(d)), -EINVAL);
	assert_int_equal(at_parse_digits("SIMCOM_SIM7100E", d, sizeof(d)), -EINVAL);
	assert_int_equal(at_parse_digits("861234567890123", d, 8), -EINVAL);
	assert_int_equal(at_parse_digits("", d, sizeof(d)), -EINVAL);
}

static void test_names(void **state)
{
	assert_string_equal(at_act_to_string(7), "LTE");
	assert_string_equal(at_act_to_string(0), "GSM");
	assert_string_equal(at_act_to_string(-1), "unknown");
	assert_string_equal(at_act_to_string(1000), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cpin),   cmocka_unit_test(test_reg),
	    cmocka_unit_test(test_csq),	   cmocka_unit_test(test_cpsi),
	    cmocka_unit_test(test_cops),   cmocka_unit_test(test_iccid),
	    cmocka_unit_test(test_digits), cmocka_unit_test(test_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
