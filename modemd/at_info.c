#include "at_info.h"
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* One reply line split at commas outside quotes; quotes and surrounding
 * spaces removed. Fixed size: a line cannot make us allocate. */
#define FIELDS_MAX 24
#define FIELD_LEN  64

struct fields {
	char v[FIELDS_MAX][FIELD_LEN];
	bool quoted[FIELDS_MAX];
	size_t n;
};

static const char *skip_spaces(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

/* Skip prefix (case-insensitive, e.g. "+CSQ:"); NULL when absent. */
static const char *after_prefix(const char *line, const char *prefix)
{
	size_t n = strlen(prefix);

	line = skip_spaces(line);
	return strncasecmp(line, prefix, n) ? NULL : line + n;
}

static int split(const char *p, struct fields *f)
{
	f->n = 0;
	for (;;) {
		char *out = f->v[f->n];
		size_t len = 0;
		bool quoted = false, in_quote = false;

		p = skip_spaces(p);
		if (*p == '"') {
			quoted = in_quote = true;
			p++;
		}
		for (; *p && (in_quote || *p != ','); p++) {
			if (*p == '"') {
				in_quote = false; /* text after the closing quote is ignored */
				continue;
			}
			if (!quoted || in_quote) {
				if (len + 1 >= FIELD_LEN)
					return -EINVAL;
				out[len++] = *p;
			}
		}
		while (!quoted && len > 0 && (out[len - 1] == ' ' || out[len - 1] == '\t'))
			len--;
		out[len] = '\0';
		f->quoted[f->n] = quoted;
		f->n++;
		if (*p != ',' || f->n == FIELDS_MAX)
			return 0;
		p++;
	}
}

/* Field i as a decimal integer (optional sign, whole field). */
static bool fnum(const struct fields *f, size_t i, long *out)
{
	char *end;

	if (i >= f->n || !f->v[i][0])
		return false;
	errno = 0;
	long v = strtol(f->v[i], &end, 10);
	if (errno || *end || end == f->v[i] || v < INT_MIN / 16 || v > INT_MAX / 16)
		return false;
	*out = v;
	return true;
}

static bool all_digits(const char *s, size_t min, size_t max)
{
	size_t n = strlen(s);

	if (n < min || n > max)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

int at_parse_cpin(const char *line, enum at_sim_state *out)
{
	static const struct {
		const char *text;
		enum at_sim_state state;
	} map[] = {
	    {"READY", AT_SIM_READY},
	    {"SIM PIN", AT_SIM_PIN},
	    {"SIM PUK", AT_SIM_PUK},
	    {"SIM PIN2", AT_SIM_PIN2},
	    {"SIM PUK2", AT_SIM_PUK2},
	    {"NOT INSERTED", AT_SIM_NOT_INSERTED}, /* some firmwares (unverified) */
	    {"SIM REMOVED", AT_SIM_NOT_INSERTED},
	};
	struct fields f;
	const char *p = after_prefix(line, "+CPIN:");

	if (!p) {
		/* SIMCom reports a missing card as its own URC. */
		p = after_prefix(line, "+SIMCARD:");
		if (p && !strcasecmp(skip_spaces(p), "NOT AVAILABLE")) {
			*out = AT_SIM_NOT_INSERTED;
			return 0;
		}
		return -EINVAL;
	}
	if (split(p, &f) < 0 || !f.v[0][0])
		return -EINVAL;
	for (size_t i = 0; i < ARRAY_SIZE(map); i++)
		if (!strcasecmp(f.v[0], map[i].text)) {
			*out = map[i].state;
			return 0;
		}
	/* PH-NET PIN, PH-SIM PIN, PH-NETSUB PIN, ...: device personalisation. */
	*out = strncasecmp(f.v[0], "PH-", 3) ? AT_SIM_UNKNOWN : AT_SIM_PH_NET;
	return 0;
}

static int reg_which(const char *line, const char **rest)
{
	static const char *const names[] = {"+CREG:", "+CGREG:", "+CEREG:"};

	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if ((*rest = after_prefix(line, names[i])))
			return (int)i;
	return -1;
}

static enum at_reg_state reg_stat(long v)
{
	switch (v) {
	case 0:
	case 1:
	case 2:
	case 3:
	case 5:
		return (enum at_reg_state)v;
	case 9: /* registered home, CSFB not preferred: data works */
		return AT_REG_HOME;
	case 10: /* same, roaming */
		return AT_REG_ROAMING;
	default:
		return AT_REG_UNKNOWN; /* 4, and 6-8 (SMS only, emergency) */
	}
}

int at_parse_reg(const char *line, int query, struct at_reg *out)
{
	struct fields f;
	const char *p;
	long n, stat, act;
	int which = reg_which(line, &p);

	if (which < 0 || split(p, &f) < 0)
		return -EINVAL;
	/* Unknown form: the query reply has an unquoted <stat> second; the
	 * URC has one field or a quoted <lac>/<tac> second. */
	if (query < 0)
		query = f.n >= 2 && !f.quoted[1];
	size_t s = query ? 1 : 0;
	if (query && (!fnum(&f, 0, &n) || n < 0 || n > 5))
		return -EINVAL;
	if (!fnum(&f, s, &stat) || stat < 0 || f.quoted[s])
		return -EINVAL;
	out->which = which;
	out->stat = reg_stat(stat);
	/* <stat>,<lac>,<ci>,<AcT>: CGREG may append <rac>, CEREG puts
	 * <AcT> in the same place. */
	out->act = fnum(&f, s + 3, &act) && act >= 0 && act < 100 ? (int)act : -1;
	return 0;
}

int at_parse_csq(const char *line, struct at_signal *out)
{
	struct fields f;
	const char *p = after_prefix(line, "+CSQ:");
	long rssi;

	if (!p || split(p, &f) < 0 || !fnum(&f, 0, &rssi))
		return -EINVAL;
	if (rssi >= 0 && rssi <= 31)
		out->rssi_dbm = (int)(-113 + 2 * rssi);
	else if (rssi >= 100 && rssi <= 191)
		/* TD-SCDMA extension: 100 = -116 dBm .. 191 = -25 dBm
		 * (SIMCom manual, unverified on SIM7100) */
		out->rssi_dbm = (int)(rssi - 216);
	else if (rssi == 99 || rssi == 199)
		out->rssi_dbm = 0;
	else
		return -EINVAL;
	out->csq = (int)rssi;
	return 0;
}

/* Tenths to whole units, rounding half away from zero. */
static int tenths_round(long v)
{
	return (int)(v < 0 ? (v - 5) / 10 : (v + 5) / 10);
}

/* "460-01" or "46001" -> "46001" */
static int parse_plmn(const char *s, char *out, size_t len)
{
	char digits[8];
	size_t n = 0;

	for (; *s; s++) {
		if (*s == '-' && n == 3)
			continue;
		if (!isdigit((unsigned char)*s) || n >= 6)
			return -EINVAL;
		digits[n++] = *s;
	}
	if (n < 5 || n + 1 > len)
		return -EINVAL;
	memcpy(out, digits, n);
	out[n] = '\0';
	return 0;
}

int at_parse_cpsi(const char *line, struct at_signal *out)
{
	struct fields f;
	struct at_signal s = *out;
	const char *p = after_prefix(line, "+CPSI:");
	long v;

	if (!p || split(p, &f) < 0 || !f.v[0][0])
		return -EINVAL;
	for (const char *c = f.v[0]; *c; c++)
		if (!isalnum((unsigned char)*c) && *c != ' ' && *c != '-' && *c != '_')
			return -EINVAL;
	if (strlcpy_checked(s.sysmode, f.v[0], sizeof(s.sysmode)) < 0)
		return -EINVAL;
	s.plmn[0] = '\0';
	s.rsrp_dbm = s.rsrq_db10 = s.sinr_db10 = 0;
	/* "NO SERVICE,Online" has no further fields; a PLMN of "000-00" or
	 * garbage just leaves it empty. */
	if (f.n > 2 && parse_plmn(f.v[2], s.plmn, sizeof(s.plmn)) < 0)
		s.plmn[0] = '\0';
	if (!strcasecmp(s.sysmode, "LTE") && f.n >= 14) {
		/* SIM7100/SIM7600 LTE: mode,op,mcc-mnc,tac,sci,pci,band,earfcn,
		 * dlbw,ulbw,rsrq,rsrp,rssi,rssnr. RSRQ/RSRP/RSSI in tenths of
		 * dB(m), RSSNR in whole dB (field order and units as in the
		 * SIMCom manual and field logs; unverified on every firmware). */
		if (fnum(&f, 10, &v) && v >= -300 && v <= 0)
			s.rsrq_db10 = (int)v;
		if (fnum(&f, 11, &v) && v >= -1600 && v <= -300)
			s.rsrp_dbm = tenths_round(v);
		if (fnum(&f, 13, &v) && v >= -30 && v <= 60)
			s.sinr_db10 = (int)v * 10;
	}
	/* WCDMA and GSM lines carry RSCP/EcIo and RxLev; CSQ covers those. */
	*out = s;
	return 0;
}

int at_parse_cops(const char *line, char *oper, size_t len, int *act)
{
	struct fields f;
	const char *p = after_prefix(line, "+COPS:");
	long mode, format, a;

	if (!p || len == 0)
		return -EINVAL;
	/* The test form "+COPS: (2,"CHN-UNICOM",...),..." is not a status. */
	if (*skip_spaces(p) == '(' || split(p, &f) < 0)
		return -EINVAL;
	if (!fnum(&f, 0, &mode) || mode < 0 || mode > 4)
		return -EINVAL;
	oper[0] = '\0';
	*act = -1;
	if (f.n == 1)
		return 0; /* not registered: "+COPS: 0" */
	if (!fnum(&f, 1, &format) || format < 0 || format > 2 || f.n < 3)
		return -EINVAL;
	if (format == 2 && !all_digits(f.v[2], 5, 6))
		return -EINVAL;
	for (const char *c = f.v[2]; *c; c++)
		if (!isprint((unsigned char)*c))
			return -EINVAL;
	if (strlcpy_checked(oper, f.v[2], len) < 0) {
		oper[0] = '\0';
		return -EINVAL;
	}
	if (fnum(&f, 3, &a) && a >= 0 && a < 100)
		*act = (int)a;
	return 0;
}

/* Value after an optional "+NAME:" prefix from the list, unquoted. */
static int bare_value(const char *line, const char *const *prefixes, size_t n_prefixes,
		      struct fields *f)
{
	const char *p = NULL;

	for (size_t i = 0; i < n_prefixes && !p; i++)
		p = after_prefix(line, prefixes[i]);
	if (!p)
		p = line;
	if (split(p, f) < 0 || f->n != 1)
		return -EINVAL;
	return 0;
}

int at_parse_iccid(const char *line, char *out, size_t len)
{
	static const char *const prefixes[] = {"+ICCID:", "+QCCID:", "+CCID:", "^ICCID:"};
	struct fields f;

	if (bare_value(line, prefixes, ARRAY_SIZE(prefixes), &f) < 0)
		return -EINVAL;
	char *v = f.v[0];
	size_t n = strlen(v);
	/* An odd-length ICCID is stored padded with F (EF_ICCID is BCD). */
	while (n > 0 && (v[n - 1] == 'F' || v[n - 1] == 'f'))
		v[--n] = '\0';
	if (!all_digits(v, 18, 22) || n + 1 > len)
		return -EINVAL;
	memcpy(out, v, n + 1);
	return 0;
}

int at_parse_digits(const char *line, char *out, size_t len)
{
	static const char *const prefixes[] = {"+CGSN:", "+GSN:", "+CIMI:"};
	struct fields f;

	if (bare_value(line, prefixes, ARRAY_SIZE(prefixes), &f) < 0)
		return -EINVAL;
	size_t n = strlen(f.v[0]);
	if (!all_digits(f.v[0], 6, 17) || n + 1 > len)
		return -EINVAL;
	memcpy(out, f.v[0], n + 1);
	return 0;
}

const char *at_act_to_string(int act)
{
	/* 3GPP TS 27.007 <AcT> */
	static const char *const names[] = {
	    "GSM", "GSM Compact", "UMTS",   "EDGE",    "HSDPA",	 "HSUPA", "HSPA",
	    "LTE", "EC-GSM-IoT",  "NB-IoT", "LTE-5GC", "NR-5GC", "NR",	  "EN-DC",
	};
	if (act < 0 || (size_t)act >= ARRAY_SIZE(names))
		return "unknown";
	return names[act];
}

const char *at_sim_state_to_string(enum at_sim_state s)
{
	switch (s) {
	case AT_SIM_READY:
		return "ready";
	case AT_SIM_PIN:
		return "pin-required";
	case AT_SIM_PUK:
		return "puk-required";
	case AT_SIM_PIN2:
		return "pin2-required";
	case AT_SIM_PUK2:
		return "puk2-required";
	case AT_SIM_PH_NET:
		return "network-locked";
	case AT_SIM_NOT_INSERTED:
		return "not-inserted";
	case AT_SIM_UNKNOWN:
		return "unknown";
	}
	return "unknown";
}

const char *at_reg_state_to_string(enum at_reg_state s)
{
	switch (s) {
	case AT_REG_NOT_SEARCHING:
		return "not-searching";
	case AT_REG_HOME:
		return "home";
	case AT_REG_SEARCHING:
		return "searching";
	case AT_REG_DENIED:
		return "denied";
	case AT_REG_UNKNOWN:
		return "unknown";
	case AT_REG_ROAMING:
		return "roaming";
	}
	return "unknown";
}
