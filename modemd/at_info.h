/* Parsers for AT information responses and URCs. Pure functions over one
 * line (no "\r\n"), tolerant of spaces and quotes; 0 on success or -EINVAL. */
#pragma once
#include <stddef.h>

enum at_sim_state {
	AT_SIM_READY,
	AT_SIM_PIN, /* "SIM PIN" */
	AT_SIM_PUK, /* "SIM PUK" */
	AT_SIM_PIN2,
	AT_SIM_PUK2,
	AT_SIM_PH_NET, /* "PH-NET PIN" and other PH- locks */
	AT_SIM_NOT_INSERTED,
	AT_SIM_UNKNOWN,
};

/* 3GPP 27.007 <stat>: 0 not searching, 1 home, 2 searching, 3 denied,
 * 4 unknown, 5 roaming; 9/10 (registered, CSFB not preferred) map to 1/5,
 * others to 4. */
enum at_reg_state {
	AT_REG_NOT_SEARCHING = 0,
	AT_REG_HOME = 1,
	AT_REG_SEARCHING = 2,
	AT_REG_DENIED = 3,
	AT_REG_UNKNOWN = 4,
	AT_REG_ROAMING = 5,
};

struct at_reg {
	int which; /* 0 CREG, 1 CGREG, 2 CEREG */
	enum at_reg_state stat;
	int act; /* access technology if given, else -1 */
};

struct at_signal {
	int rssi_dbm;	  /* from CSQ; 0 when unknown */
	int csq;	  /* 0..31, 99 unknown */
	int rsrp_dbm;	  /* from CPSI (LTE), 0 unknown */
	int rsrq_db10;	  /* RSRQ in tenths of dB, 0 unknown */
	int sinr_db10;	  /* SINR in tenths of dB, 0 unknown */
	char sysmode[16]; /* "LTE", "WCDMA", "GSM", "NO SERVICE" from CPSI */
	char plmn[8];	  /* from CPSI "460-01" -> "46001", may be empty */
};

/* "+CPIN: READY" */
int at_parse_cpin(const char *line, enum at_sim_state *out);
/* "+CREG: ..." / "+CGREG:" / "+CEREG:". query: line answers "AT+CxREG?"
 * (first field is <n>); 0: it is the unsolicited form; < 0: tell from the
 * fields (a query reply has an unquoted second field). */
int at_parse_reg(const char *line, int query, struct at_reg *out);
/* "+CSQ: 18,99" -> csq and rssi_dbm (-113 + 2*csq) in out. */
int at_parse_csq(const char *line, struct at_signal *out);
/* SIMCom "+CPSI: LTE,Online,460-01,0x1816,...,rsrq,rsrp,rssi,rssnr" -> fills
 * sysmode, plmn, rsrp/rsrq/sinr where present. */
int at_parse_cpsi(const char *line, struct at_signal *out);
/* "+COPS: 0,2,\"46001\",7" -> numeric or alphanumeric operator and act. */
int at_parse_cops(const char *line, char *oper, size_t len, int *act);
/* "+ICCID: 8986..." / "+QCCID: ..." / "+CCID: ..." / bare digits; strips a
 * trailing F padding. */
int at_parse_iccid(const char *line, char *out, size_t len);
/* A bare identifier line (IMEI from AT+CGSN, IMSI from AT+CIMI): digits only,
 * 6..17 of them; optional "+CGSN: " prefix. */
int at_parse_digits(const char *line, char *out, size_t len);
/* Access technology number (27.007 <AcT>) to text: 7 -> "LTE". */
const char *at_act_to_string(int act);
const char *at_sim_state_to_string(enum at_sim_state s);
const char *at_reg_state_to_string(enum at_reg_state s);
