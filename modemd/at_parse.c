#include "at_parse.h"
#include "util.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void at_lines_init(struct at_lines *a)
{
	memset(a, 0, sizeof(*a));
}

size_t at_lines_push(struct at_lines *a, const void *buf, size_t n, const char **line)
{
	const unsigned char *p = buf;

	*line = NULL;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = p[i];

		if (c == '\r' || c == '\n') {
			if (a->overlong) {
				a->overlong = false;
				a->len = 0;
				continue;
			}
			while (a->len > 0 && a->buf[a->len - 1] == ' ')
				a->len--;
			if (a->len == 0)
				continue; /* blank line, or the LF of a CRLF */
			a->buf[a->len] = '\0';
			a->len = 0;
			*line = a->buf;
			return i + 1;
		}
		if (c == '\t')
			c = ' ';
		/* Line noise, NULs from a modem resetting, UCS2/8-bit junk:
		 * nothing we parse is outside printable ASCII. */
		if (c < 0x20 || c >= 0x7f) {
			a->n_dropped++;
			continue;
		}
		if (a->overlong || (c == ' ' && a->len == 0))
			continue;
		if (a->len == AT_LINE_MAX) {
			a->overlong = true;
			a->n_overlong++;
			a->len = 0;
			continue;
		}
		a->buf[a->len++] = (char)c;
	}
	return n;
}

/* 3GPP TS 27.007 section 9.2 */
static const struct {
	int code;
	const char *text;
} cme_table[] = {
    {0, "phone failure"},
    {1, "no connection to phone"},
    {2, "phone-adaptor link reserved"},
    {3, "operation not allowed"},
    {4, "operation not supported"},
    {5, "PH-SIM PIN required"},
    {6, "PH-FSIM PIN required"},
    {7, "PH-FSIM PUK required"},
    {10, "SIM not inserted"},
    {11, "SIM PIN required"},
    {12, "SIM PUK required"},
    {13, "SIM failure"},
    {14, "SIM busy"},
    {15, "SIM wrong"},
    {16, "incorrect password"},
    {17, "SIM PIN2 required"},
    {18, "SIM PUK2 required"},
    {20, "memory full"},
    {21, "invalid index"},
    {22, "not found"},
    {23, "memory failure"},
    {24, "text string too long"},
    {25, "invalid characters in text string"},
    {26, "dial string too long"},
    {27, "invalid characters in dial string"},
    {30, "no network service"},
    {31, "network timeout"},
    {32, "network not allowed - emergency calls only"},
    {40, "network personalization PIN required"},
    {41, "network personalization PUK required"},
    {42, "network subset personalization PIN required"},
    {43, "network subset personalization PUK required"},
    {44, "service provider personalization PIN required"},
    {45, "service provider personalization PUK required"},
    {46, "corporate personalization PIN required"},
    {47, "corporate personalization PUK required"},
    {100, "unknown"},
    {103, "illegal MS"},
    {106, "illegal ME"},
    {107, "GPRS services not allowed"},
    {111, "PLMN not allowed"},
    {112, "location area not allowed"},
    {113, "roaming not allowed in this location area"},
    {132, "service option not supported"},
    {133, "requested service option not subscribed"},
    {134, "service option temporarily out of order"},
    {148, "unspecified GPRS error"},
    {149, "PDP authentication failure"},
    {150, "invalid mobile class"},
};

const char *at_cme_to_string(int err)
{
	for (size_t i = 0; i < ARRAY_SIZE(cme_table); i++)
		if (cme_table[i].code == err)
			return cme_table[i].text;
	return NULL;
}

int at_cme_from_string(const char *text)
{
	for (size_t i = 0; i < ARRAY_SIZE(cme_table); i++)
		if (!strcasecmp(cme_table[i].text, text))
			return cme_table[i].code;
	/* Spellings seen besides the 27.007 ones (unverified for SIM7100). */
	if (!strcasecmp(text, "SIM PIN necessary"))
		return 11;
	if (!strcasecmp(text, "SIM PUK necessary"))
		return 12;
	if (!strcasecmp(text, "wrong password"))
		return 16;
	return -1;
}

const char *at_result_to_string(enum at_result r)
{
	switch (r) {
	case AT_RES_OK:
		return "OK";
	case AT_RES_ERROR:
		return "ERROR";
	case AT_RES_CME_ERROR:
		return "+CME ERROR";
	case AT_RES_CMS_ERROR:
		return "+CMS ERROR";
	case AT_RES_NO_CARRIER:
		return "NO CARRIER";
	case AT_RES_BUSY:
		return "BUSY";
	case AT_RES_NO_ANSWER:
		return "NO ANSWER";
	case AT_RES_NO_DIALTONE:
		return "NO DIALTONE";
	case AT_RES_CONNECT:
		return "CONNECT";
	case AT_RES_TIMEOUT:
		return "timeout";
	case AT_RES_CANCELLED:
		return "cancelled";
	}
	return "?";
}

const char *at_line_kind_to_string(enum at_line_kind k)
{
	switch (k) {
	case AT_LINE_FINAL:
		return "final";
	case AT_LINE_ECHO:
		return "echo";
	case AT_LINE_INFO:
		return "info";
	case AT_LINE_URC:
		return "urc";
	}
	return "?";
}

static const char *skip_spaces(const char *s)
{
	while (*s == ' ')
		s++;
	return s;
}

/* Case-insensitive prefix test; returns the rest of s or NULL. */
static const char *has_prefix(const char *s, const char *prefix)
{
	size_t n = strlen(prefix);
	return strncasecmp(s, prefix, n) ? NULL : s + n;
}

/* Whole string is 1..9 decimal digits (trailing spaces allowed). */
static bool parse_small_uint(const char *s, int *out)
{
	long v = 0;
	size_t n = 0;

	for (; isdigit((unsigned char)*s) && n < 9; s++, n++)
		v = v * 10 + (*s - '0');
	if (n == 0 || *skip_spaces(s))
		return false;
	*out = (int)v;
	return true;
}

bool at_parse_final(const char *line, enum at_result *res, int *err)
{
	static const struct {
		const char *text;
		enum at_result res;
	} plain[] = {
	    {"OK", AT_RES_OK},
	    {"ERROR", AT_RES_ERROR},
	    {"NO CARRIER", AT_RES_NO_CARRIER},
	    {"BUSY", AT_RES_BUSY},
	    {"NO ANSWER", AT_RES_NO_ANSWER},
	    {"NO DIALTONE", AT_RES_NO_DIALTONE},
	    {"NO DIAL TONE", AT_RES_NO_DIALTONE},
	};
	const char *rest;

	*err = -1;
	for (size_t i = 0; i < ARRAY_SIZE(plain); i++)
		if (!strcasecmp(line, plain[i].text)) {
			*res = plain[i].res;
			return true;
		}
	if ((rest = has_prefix(line, "+CME ERROR:"))) {
		rest = skip_spaces(rest);
		*res = AT_RES_CME_ERROR;
		if (!parse_small_uint(rest, err))
			*err = at_cme_from_string(rest);
		return true;
	}
	if ((rest = has_prefix(line, "+CMS ERROR:"))) {
		*res = AT_RES_CMS_ERROR;
		if (!parse_small_uint(skip_spaces(rest), err))
			*err = -1;
		return true;
	}
	if (at_connect_rate(line) >= 0) {
		*res = AT_RES_CONNECT;
		return true;
	}
	return false;
}

long long at_connect_rate(const char *line)
{
	const char *rest = has_prefix(line, "CONNECT");
	long long rate = 0;

	if (!rest)
		return -1;
	if (*rest == '\0')
		return 0;
	if (*rest != ' ')
		return -1; /* "CONNECTED", "CONNECT:" are not result codes */
	rest = skip_spaces(rest);
	/* "CONNECT 150000000"; text after the rate ("/V42") is ignored */
	for (int n = 0; isdigit((unsigned char)*rest) && n < 15; rest++, n++)
		rate = rate * 10 + (*rest - '0');
	return rate;
}

/* Lines that are unsolicited wherever they appear, unless the pending
 * command asked for that very prefix. */
static const char *const urc_exact[] = {
    "RDY",
    "SMS DONE",
    "PB DONE",
    "NORMAL POWER DOWN",
    "POWERED DOWN",
    "RING",
    "START",
    "SMS READY",
    "CALL READY",
    "OPL DONE",
    "PNN DONE",
    "UNDER-VOLTAGE POWER DOWN",
    "OVER-VOLTAGE POWER DOWN",
    "VOICE CALL: BEGIN",
    "VOICE CALL: END",
};
static const char *const urc_prefix[] = {
    "+CPIN:", "+CREG:",	  "+CGREG:",   "+CEREG:", "+C5GREG:", "+CPSI:",	    "+CFUN:",
    "+QIND",  "*ATREADY", "+SIMCARD:", "+CMTI:",  "+CMT:",    "+CDS:",	    "+CBM:",
    "+CGEV:", "+CUSD:",	  "+CLIP:",    "+CRING:", "+CSQ:",    "+CNSMOD:",   "+CTZV:",
    "+CTZE:", "*PSUTTZ",  "DST:",      "+QUSIM:", "+STIN:",   "+CSCON:",    "+CIEV:",
    "^SIMST", "^MODE:",	  "^RSSI:",    "^BOOT:",  "^HCSQ:",   "+QSIMSTAT:", "+CPINR",
};

static bool is_known_urc(const char *line)
{
	for (size_t i = 0; i < ARRAY_SIZE(urc_exact); i++)
		if (!strcasecmp(line, urc_exact[i]))
			return true;
	for (size_t i = 0; i < ARRAY_SIZE(urc_prefix); i++)
		if (has_prefix(line, urc_prefix[i]))
			return true;
	return false;
}

/* "+NAME:" style (also ^NAME:, *NAME:, $NAME:): a prefixed reply or URC. */
static bool is_prefixed(const char *line)
{
	if (!strchr("+^*$#%", line[0]) || !isalpha((unsigned char)line[1]))
		return false;
	for (const char *p = line + 1; *p; p++) {
		if (*p == ':')
			return true;
		if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-')
			return false;
	}
	return false;
}

enum cmd_form { FORM_EXEC, FORM_QUERY, FORM_SET, FORM_TEST };

struct expect {
	struct {
		char pfx[24]; /* "+CREG:" */
		enum cmd_form form;
	} e[4];
	size_t n;
};

/* Replies whose prefix is not the command name. */
static const struct {
	const char *cmd, *reply;
} reply_alias[] = {
    {"+CICCID", "+ICCID"}, /* SIMCom */
};

/* Commands where a line with their own prefix, arriving while a set command
 * is pending, is the unsolicited report the set command (re)enabled, not a
 * reply: AT+CREG=2 answers only OK, AT+CPIN="..." is followed by +CPIN: READY. */
static bool set_reply_is_urc(const char *name)
{
	static const char *const names[] = {"+CREG",   "+CGREG", "+CEREG",
					    "+C5GREG", "+CPIN",	 "+CFUN"};
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (!strcasecmp(name, names[i]))
			return true;
	return false;
}

static bool is_reg_name(const char *pfx)
{
	return has_prefix(pfx, "+CREG:") || has_prefix(pfx, "+CGREG:") ||
	       has_prefix(pfx, "+CEREG:") || has_prefix(pfx, "+C5GREG:");
}

static void expect_from_cmd(const char *cmd, struct expect *ex)
{
	const char *p = has_prefix(skip_spaces(cmd), "AT");

	ex->n = 0;
	while (p && *p && ex->n < ARRAY_SIZE(ex->e)) {
		if (*p == ';') {
			p++;
			continue;
		}
		if (strchr("+^$*#%", *p) && isalpha((unsigned char)p[1])) {
			char name[20];
			size_t len = 0;

			name[len++] = *p++;
			while (isalnum((unsigned char)*p) && len < sizeof(name) - 1)
				name[len++] = (char)toupper((unsigned char)*p++);
			name[len] = '\0';
			enum cmd_form form = FORM_EXEC;
			if (*p == '?')
				form = FORM_QUERY;
			else if (p[0] == '=' && p[1] == '?')
				form = FORM_TEST;
			else if (*p == '=')
				form = FORM_SET;
			const char *reply = name;
			for (size_t i = 0; i < ARRAY_SIZE(reply_alias); i++)
				if (!strcasecmp(name, reply_alias[i].cmd))
					reply = reply_alias[i].reply;
			snprintf(ex->e[ex->n].pfx, sizeof(ex->e[ex->n].pfx), "%s:", reply);
			ex->e[ex->n].form = form;
			ex->n++;
		}
		/* Skip to the next ';' outside quotes (basic commands like I,
		 * E0, D*99# have no reply prefix). */
		bool quoted = false;
		for (; *p && (quoted || *p != ';'); p++)
			if (*p == '"')
				quoted = !quoted;
	}
}

/* +CxREG: the query reply is "<n>,<stat>[,<lac>,...]", the URC
 * "<stat>[,<lac>,...]": one field, or a quoted second field (<lac>/<tac>),
 * means URC. */
static bool reg_line_is_urc(const char *line)
{
	const char *p = strchr(line, ':');
	const char *comma = p ? strchr(p, ',') : NULL;

	if (!comma)
		return true;
	return *skip_spaces(comma + 1) == '"';
}

static bool is_stale_echo(const char *line)
{
	const char *rest = has_prefix(line, "AT");
	return rest && (*rest == '\0' || strchr("+&^$*#%", *rest));
}

enum at_line_kind at_classify(const char *line, const char *pending, enum at_result *res, int *err)
{
	struct expect ex;

	if (at_parse_final(line, res, err))
		return AT_LINE_FINAL;
	if (pending && !strcasecmp(line, skip_spaces(pending)))
		return AT_LINE_ECHO;
	/* A modem never starts a reply with "AT+": this is the late echo of an
	 * earlier (timed-out) command, and may carry a PIN. */
	if (is_stale_echo(line))
		return AT_LINE_ECHO;
	if (!pending)
		return AT_LINE_URC;
	expect_from_cmd(pending, &ex);
	for (size_t i = 0; i < ex.n; i++) {
		if (!has_prefix(line, ex.e[i].pfx))
			continue;
		char name[24];
		snprintf(name, sizeof(name), "%.*s", (int)strlen(ex.e[i].pfx) - 1, ex.e[i].pfx);
		if (ex.e[i].form == FORM_SET && set_reply_is_urc(name))
			return AT_LINE_URC;
		if (ex.e[i].form != FORM_TEST && is_reg_name(ex.e[i].pfx) && reg_line_is_urc(line))
			return AT_LINE_URC;
		return AT_LINE_INFO;
	}
	if (is_known_urc(line))
		return AT_LINE_URC;
	/* Some other +NAME: line while a prefixed reply is expected. */
	if (ex.n > 0 && is_prefixed(line))
		return AT_LINE_URC;
	return AT_LINE_INFO;
}

/* Append c, keeping room for the NUL. */
static void put(char *out, size_t len, size_t *o, char c)
{
	if (*o + 1 < len)
		out[(*o)++] = c;
}

/* Index of the first secret argument, or -1. */
static int secret_from(const char *line, size_t *name_len)
{
	static const struct {
		const char *name;
		int first;
	} secrets[] = {
	    {"AT+CPIN=", 0}, /* pin[,newpin] or puk,newpin */
	    {"AT+CPIN2=", 0},
	    {"AT+CLCK=", 2}, /* fac,mode,passwd */
	    {"AT+CPWD=", 1}, /* fac,oldpwd,newpwd */
	};
	for (size_t i = 0; i < ARRAY_SIZE(secrets); i++)
		if (has_prefix(line, secrets[i].name)) {
			*name_len = strlen(secrets[i].name);
			return secrets[i].first;
		}
	return -1;
}

void at_redact(const char *line, char *out, size_t len)
{
	size_t name_len = 0, o = 0;
	int first = secret_from(line, &name_len);

	if (len == 0)
		return;
	if (first < 0) {
		snprintf(out, len, "%s", line);
		return;
	}
	for (size_t i = 0; i < name_len; i++)
		put(out, len, &o, line[i]);
	const char *p = line + name_len;
	for (int field = 0; *p; field++) {
		const char *start = p;
		bool quoted = false;
		for (; *p && (quoted || *p != ','); p++)
			if (*p == '"')
				quoted = !quoted;
		if (field >= first) {
			bool q = *skip_spaces(start) == '"';
			const char *mask = q ? "\"****\"" : "****";
			for (; *mask; mask++)
				put(out, len, &o, *mask);
		} else {
			for (const char *c = start; c < p; c++)
				put(out, len, &o, *c);
		}
		if (*p == ',') {
			put(out, len, &o, ',');
			p++;
		}
	}
	out[o] = '\0';
}
