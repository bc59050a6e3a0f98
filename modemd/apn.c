/* Carrier database: libconfig files of carriers (docs/apn-db.md), an index
 * sorted by PLMN for bsearch, the IMSI -> PLMN rule and the resolution order
 * (config per SIM, config per PLMN, databases in order). */
#include "apn.h"

#include <errno.h>
#include <fcntl.h>
#include <libconfig.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "util.h"

#define APN_NOTE_MAX 128

struct apn_carrier {
	struct apn_profile p; /* plmn empty; source "name:line (provider)" */
	char country[3];
	char note[APN_NOTE_MAX];
};

struct apn_index {
	char plmn[8];
	uint32_t carrier;
	unsigned line;
};

struct apn_db {
	char name[64];
	struct apn_carrier *carriers;
	size_t n_carriers;
	struct apn_index *index; /* sorted by plmn */
	size_t n_index, cap_index;
};

/* ---- small helpers ---- */

static bool all_digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

static bool valid_plmn(const char *s)
{
	size_t n = strlen(s);
	return (n == 5 || n == 6) && all_digits(s, n);
}

/* APN network identifier: labels of letters, digits and '-' (3GPP TS 23.003
 * 9.1); '_' and '.' tolerated as real-world APNs use them. Also keeps quotes
 * out of AT+CGDCONT and the chat script. */
static bool valid_apn_chars(const char *s)
{
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '-' || *s == '.' || *s == '_'))
			return false;
	return true;
}

static bool valid_number(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || *s == '*' || *s == '#' || *s == '+'))
			return false;
	return true;
}

/* User and password go into pppd secrets files and chat scripts: printable
 * ASCII, no quote or backslash that would need escaping there. */
static bool valid_secret(const char *s)
{
	for (; *s; s++)
		if (*s < 0x20 || *s > 0x7e || *s == '"' || *s == '\\')
			return false;
	return true;
}

/* Free text (provider, note): anything but control characters. */
static bool valid_text(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

static bool valid_country(const char *s)
{
	return !*s || (strlen(s) == 2 && s[0] >= 'a' && s[0] <= 'z' && s[1] >= 'a' && s[1] <= 'z');
}

static const char *auth_names[] = {
    [APN_AUTH_ANY] = "any",
    [APN_AUTH_NONE] = "none",
    [APN_AUTH_PAP] = "pap",
    [APN_AUTH_CHAP] = "chap",
};

const char *apn_auth_to_string(enum apn_auth a)
{
	return (unsigned)a < ARRAY_SIZE(auth_names) ? auth_names[a] : "?";
}

int apn_auth_from_string(const char *s, enum apn_auth *out)
{
	for (size_t i = 0; s && i < ARRAY_SIZE(auth_names); i++)
		if (!strcmp(s, auth_names[i])) {
			*out = (enum apn_auth)i;
			return 0;
		}
	return -EINVAL;
}

static const char *kind_names[] = {
    [APN_DIAL_3GPP] = "3gpp",
    [APN_DIAL_CDMA] = "cdma",
};

const char *apn_dial_kind_to_string(enum apn_dial_kind k)
{
	return (unsigned)k < ARRAY_SIZE(kind_names) ? kind_names[k] : "?";
}

int apn_dial_kind_from_string(const char *s, enum apn_dial_kind *out)
{
	for (size_t i = 0; s && i < ARRAY_SIZE(kind_names); i++)
		if (!strcmp(s, kind_names[i])) {
			*out = (enum apn_dial_kind)i;
			return 0;
		}
	return -EINVAL;
}

/* ---- loading ---- */

struct load_ctx {
	struct apn_db *db;
	const char *name; /* as given, for messages */
	char *err;
	size_t errlen;
};

static int __attribute__((format(printf, 3, 4)))
fail(struct load_ctx *ctx, unsigned line, const char *fmt, ...)
{
	if (!ctx->err || !ctx->errlen)
		return -EINVAL;
	int n = snprintf(ctx->err, ctx->errlen, "%s:%u: ", ctx->name, line);
	if (n < 0 || (size_t)n >= ctx->errlen)
		return -EINVAL;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(ctx->err + n, ctx->errlen - n, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* Copy a string setting into buf after checking type, length and characters. */
static int get_string(struct load_ctx *ctx, const config_setting_t *s, const char *what, char *buf,
		      size_t size, bool (*valid)(const char *), const char *rule)
{
	unsigned line = config_setting_source_line(s);
	if (config_setting_type(s) != CONFIG_TYPE_STRING)
		return fail(ctx, line, "%s: must be a string", what);
	const char *v = config_setting_get_string(s);
	if (strlen(v) >= size)
		return fail(ctx, line, "%s: longer than %zu characters", what, size - 1);
	if (valid && !valid(v))
		return fail(ctx, line, "%s: \"%s\" %s", what, v, rule);
	memcpy(buf, v, strlen(v) + 1);
	return 0;
}

static int add_index(struct load_ctx *ctx, const char *plmn, size_t carrier, unsigned line)
{
	struct apn_db *db = ctx->db;
	if (db->n_index == db->cap_index) {
		/* Bounded: carriers <= APN_DB_MAX_CARRIERS, each <= APN_DB_MAX_PLMNS. */
		size_t cap = db->cap_index ? db->cap_index * 2 : 256;
		struct apn_index *n = reallocarray(db->index, cap, sizeof(*n));
		if (!n)
			return -ENOMEM;
		db->index = n;
		db->cap_index = cap;
	}
	struct apn_index *e = &db->index[db->n_index++];
	memcpy(e->plmn, plmn, strlen(plmn) + 1);
	e->carrier = (uint32_t)carrier;
	e->line = line;
	return 0;
}

static int parse_plmns(struct load_ctx *ctx, const config_setting_t *s, const char *what,
		       size_t carrier)
{
	unsigned line = config_setting_source_line(s);
	if (!config_setting_is_aggregate(s) || config_setting_is_group(s))
		return fail(ctx, line, "%s: must be a list of PLMN strings, e.g. [\"46001\"]",
			    what);
	int n = config_setting_length(s);
	if (n < 1 || n > APN_DB_MAX_PLMNS)
		return fail(ctx, line, "%s: needs 1 to %d PLMNs, has %d", what, APN_DB_MAX_PLMNS,
			    n);
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, i);
		char name[128], plmn[8];
		snprintf(name, sizeof(name), "%s[%d]", what, i);
		int r = get_string(ctx, e, name, plmn, sizeof(plmn), valid_plmn,
				   "is not a PLMN (MCC + MNC: 5 or 6 digits)");
		if (r < 0)
			return r;
		r = add_index(ctx, plmn, carrier, config_setting_source_line(e));
		if (r < 0)
			return r;
	}
	return 0;
}

static int parse_carrier(struct load_ctx *ctx, const config_setting_t *g, size_t idx)
{
	struct apn_carrier *c = &ctx->db->carriers[idx];
	unsigned line = config_setting_source_line(g);
	char what[96];
	bool have_plmn = false, have_provider = false, have_number = false, have_auth = false;
	int r;

	if (!config_setting_is_group(g))
		return fail(ctx, line, "carriers[%zu]: must be a group { ... }", idx);
	int n = config_setting_length(g);
	for (int i = 0; i < n; i++) {
		const config_setting_t *s = config_setting_get_elem(g, i);
		const char *key = config_setting_name(s);
		snprintf(what, sizeof(what), "carriers[%zu].%s", idx, key ? key : "?");
		if (!key) {
			r = fail(ctx, config_setting_source_line(s), "%s: unnamed setting", what);
		} else if (!strcmp(key, "plmn")) {
			r = parse_plmns(ctx, s, what, idx);
			have_plmn = true;
		} else if (!strcmp(key, "provider")) {
			r = get_string(ctx, s, what, c->p.provider, sizeof(c->p.provider),
				       valid_text, "contains control characters");
			have_provider = r == 0 && c->p.provider[0];
		} else if (!strcmp(key, "country")) {
			char v[16]; /* so "CHN" gets the helpful message, not "too long" */
			r = get_string(ctx, s, what, v, sizeof(v), valid_country,
				       "is not a two-letter lower-case country code");
			if (r == 0)
				memcpy(c->country, v, sizeof(c->country));
		} else if (!strcmp(key, "apn")) {
			r = get_string(ctx, s, what, c->p.apn, sizeof(c->p.apn), valid_apn_chars,
				       "may only contain letters, digits, '-', '.' and '_'");
		} else if (!strcmp(key, "number")) {
			r = get_string(ctx, s, what, c->p.number, sizeof(c->p.number), valid_number,
				       "is not a dial string (digits, '*', '#', '+')");
			have_number = true;
		} else if (!strcmp(key, "user")) {
			r = get_string(ctx, s, what, c->p.user, sizeof(c->p.user), valid_secret,
				       "must be printable ASCII without '\"' or '\\'");
		} else if (!strcmp(key, "password")) {
			r = get_string(ctx, s, what, c->p.password, sizeof(c->p.password),
				       valid_secret,
				       "must be printable ASCII without '\"' or '\\'");
		} else if (!strcmp(key, "auth")) {
			char v[16];
			r = get_string(ctx, s, what, v, sizeof(v), NULL, NULL);
			if (r == 0 && apn_auth_from_string(v, &c->p.auth) < 0)
				r = fail(ctx, config_setting_source_line(s),
					 "%s: \"%s\" is not none, pap, chap or any", what, v);
			have_auth = true;
		} else if (!strcmp(key, "kind")) {
			char v[16];
			r = get_string(ctx, s, what, v, sizeof(v), NULL, NULL);
			if (r == 0 && apn_dial_kind_from_string(v, &c->p.kind) < 0)
				r = fail(ctx, config_setting_source_line(s),
					 "%s: \"%s\" is not 3gpp or cdma", what, v);
		} else if (!strcmp(key, "note")) {
			r = get_string(ctx, s, what, c->note, sizeof(c->note), valid_text,
				       "contains control characters");
		} else {
			r = fail(ctx, config_setting_source_line(s),
				 "%s: unknown setting (expected plmn, provider, country, apn, "
				 "number, user, password, auth, kind, note)",
				 what);
		}
		if (r < 0)
			return r;
	}
	if (!have_plmn)
		return fail(ctx, line, "carriers[%zu]: missing plmn", idx);
	if (!have_provider)
		return fail(ctx, line, "carriers[%zu]: missing provider", idx);
	if (!have_number)
		return fail(ctx, line, "carriers[%zu]: missing number", idx);
	if (c->p.kind == APN_DIAL_3GPP && !c->p.apn[0])
		return fail(ctx, line, "carriers[%zu] (%s): a 3gpp carrier needs an apn", idx,
			    c->p.provider);
	if (!have_auth)
		c->p.auth = c->p.user[0] || c->p.password[0] ? APN_AUTH_ANY : APN_AUTH_NONE;

	/* The source is informational; a long file name may cut it. */
	int w = snprintf(c->p.source, sizeof(c->p.source), "%s:%u (%s)", ctx->db->name, line,
			 c->p.provider);
	(void)w;
	return 0;
}

static int cmp_index(const void *a, const void *b)
{
	const struct apn_index *x = a, *y = b;
	int r = strcmp(x->plmn, y->plmn);
	if (r)
		return r;
	return x->carrier < y->carrier ? -1 : x->carrier > y->carrier;
}

static int build_index(struct load_ctx *ctx)
{
	struct apn_db *db = ctx->db;
	if (db->n_index)
		qsort(db->index, db->n_index, sizeof(*db->index), cmp_index);
	for (size_t i = 1; i < db->n_index; i++) {
		const struct apn_index *a = &db->index[i - 1], *b = &db->index[i];
		if (!strcmp(a->plmn, b->plmn)) {
			const struct apn_index *later = a->line > b->line ? a : b;
			const struct apn_index *first = later == a ? b : a;
			return fail(
			    ctx, later->line,
			    "PLMN %s is already listed at line %u (%s); one carrier per PLMN",
			    a->plmn, first->line, db->carriers[first->carrier].p.provider);
		}
	}
	return 0;
}

/* libconfig would open any file named by @include (even /dev/zero): refuse it. */
static int refuse_include(struct load_ctx *ctx, const char *text, size_t len)
{
	const char *p = memmem(text, len, "@include", 8);
	if (!p)
		return 0;
	unsigned line = 1;
	for (const char *q = text; q < p; q++)
		line += *q == '\n';
	return fail(ctx, line, "@include is not allowed in an APN database");
}

static int load_config(struct load_ctx *ctx, const char *text, size_t len)
{
	config_t cfg;
	int r;

	if (len > APN_DB_MAX_BYTES)
		return fail(ctx, 0, "larger than %u bytes", APN_DB_MAX_BYTES);
	if (memchr(text, 0, len)) {
		unsigned line = 1;
		for (const char *q = text; *q; q++)
			line += *q == '\n';
		return fail(ctx, line, "contains a NUL byte");
	}
	r = refuse_include(ctx, text, len);
	if (r < 0)
		return r;
	char *copy = strndup(text, len);
	if (!copy)
		return -ENOMEM;

	config_init(&cfg);
	if (!config_read_string(&cfg, copy)) {
		r = fail(ctx, (unsigned)config_error_line(&cfg), "%s", config_error_text(&cfg));
		goto out;
	}
	config_setting_t *root = config_root_setting(&cfg);
	config_setting_t *list = NULL;
	for (int i = 0; i < config_setting_length(root); i++) {
		config_setting_t *s = config_setting_get_elem(root, i);
		if (strcmp(config_setting_name(s), "carriers")) {
			r = fail(ctx, config_setting_source_line(s),
				 "%s: unknown setting (a database holds only 'carriers')",
				 config_setting_name(s));
			goto out;
		}
		list = s;
	}
	if (!list) {
		r = fail(ctx, 1, "no 'carriers = ( ... );' list");
		goto out;
	}
	if (!config_setting_is_list(list)) {
		r = fail(ctx, config_setting_source_line(list),
			 "carriers: must be a list ( { ... }, ... )");
		goto out;
	}
	int n = config_setting_length(list);
	if (n > APN_DB_MAX_CARRIERS) {
		r = fail(ctx, config_setting_source_line(list),
			 "carriers: %d entries, at most %d allowed", n, APN_DB_MAX_CARRIERS);
		goto out;
	}
	ctx->db->carriers = calloc(n ? (size_t)n : 1, sizeof(*ctx->db->carriers));
	if (!ctx->db->carriers) {
		r = -ENOMEM;
		goto out;
	}
	ctx->db->n_carriers = (size_t)n;
	for (int i = 0; i < n; i++) {
		r = parse_carrier(ctx, config_setting_get_elem(list, i), (size_t)i);
		if (r < 0)
			goto out;
	}
	r = build_index(ctx);
out:
	config_destroy(&cfg);
	free(copy);
	return r;
}

struct apn_db *apn_db_load_string(const char *text, size_t len, const char *name, char *err,
				  size_t errlen)
{
	struct apn_db *db = calloc(1, sizeof(*db));
	struct load_ctx ctx = {
	    .db = db, .name = name ? name : "(string)", .err = err, .errlen = errlen};
	if (err && errlen)
		err[0] = 0;
	if (!db) {
		if (err && errlen)
			snprintf(err, errlen, "%s: out of memory", ctx.name);
		return NULL;
	}
	const char *base = strrchr(ctx.name, '/');
	/* The name only labels sources; a long one is cut, which is harmless. */
	strlcpy_checked(db->name, base ? base + 1 : ctx.name, sizeof(db->name));

	int r = load_config(&ctx, text ? text : "", text ? len : 0);
	if (r < 0) {
		if (r == -ENOMEM && err && errlen)
			snprintf(err, errlen, "%s: out of memory", ctx.name);
		return apn_db_free(db);
	}
	log_debug("apn: %s: %zu carriers, %zu PLMNs", ctx.name, db->n_carriers, db->n_index);
	return db;
}

struct apn_db *apn_db_load(const char *path, char *err, size_t errlen)
{
	struct apn_db *db = NULL;
	char *buf = NULL;
	struct stat st;

	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		goto out;
	}
	if ((uint64_t)st.st_size > APN_DB_MAX_BYTES) {
		snprintf(err, errlen, "%s: larger than %u bytes", path, APN_DB_MAX_BYTES);
		goto out;
	}
	/* One byte more than expected detects a file that grew meanwhile. */
	size_t cap = (size_t)st.st_size + 1, len = 0;
	buf = malloc(cap);
	if (!buf) {
		snprintf(err, errlen, "%s: out of memory", path);
		goto out;
	}
	for (;;) {
		ssize_t n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len == cap) {
			snprintf(err, errlen, "%s: changed while being read", path);
			goto out;
		}
	}
	db = apn_db_load_string(buf, len, path, err, errlen);
out:
	free(buf);
	close(fd);
	return db;
}

struct apn_db *apn_db_free(struct apn_db *db)
{
	if (!db)
		return NULL;
	free(db->carriers);
	free(db->index);
	free(db);
	return NULL;
}

size_t apn_db_count(const struct apn_db *db)
{
	return db ? db->n_carriers : 0;
}

const char *apn_db_name(const struct apn_db *db)
{
	return db ? db->name : "";
}

static int cmp_key(const void *key, const void *elem)
{
	return strcmp(key, ((const struct apn_index *)elem)->plmn);
}

const struct apn_profile *apn_db_lookup(const struct apn_db *db, const char *plmn)
{
	if (!db || !plmn || !db->n_index)
		return NULL;
	const struct apn_index *e =
	    bsearch(plmn, db->index, db->n_index, sizeof(*db->index), cmp_key);
	return e ? &db->carriers[e->carrier].p : NULL;
}

/* ---- IMSI -> PLMN ---- */

/* MCCs whose networks use 3-digit MNCs, from ITU-T E.212 (the list of MNCs as
 * of 2013-01-01, T-SP-E.212B-2013, as also tabulated by oFono's mnclength
 * plugin and Android). North America/Caribbean (302-376), Honduras, Argentina,
 * Colombia, Falklands. The lists change: new assignments after 2013 are not
 * reflected, which is why apn_resolve also tries the other length. */
static const uint16_t mcc_mnc3[] = {
    302, 310, 311, 312, 313, 314, 315, 316, 330, 332, 334, 338, 342, 344, 346,
    348, 350, 352, 354, 356, 358, 360, 364, 365, 366, 376, 708, 722, 732, 750,
};

/* 3-digit MNCs inside MCCs that otherwise use 2 digits (same sources; India's
 * 405 is the big mixed case, plus ranges seen in mobile-broadband-provider-info
 * 20230416). Inclusive ranges of MCC*1000+MNC. */
static const struct {
	uint32_t lo, hi;
} plmn_mnc3[] = {
    {374130, 374130}, {374140, 374140}, {405000, 405000}, {405005, 405007}, {405009, 405014},
    {405018, 405018}, {405020, 405022}, {405025, 405047}, {405750, 405756}, {405799, 405812},
    {405845, 405845}, {405848, 405848}, {405850, 405850}, {714020, 714020},
};

static int mcc_of(const char *s)
{
	if (!s || strnlen(s, 3) < 3 || !all_digits(s, 3))
		return -EINVAL;
	return (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
}

static bool mcc_uses_mnc3(int mcc)
{
	for (size_t i = 0; i < ARRAY_SIZE(mcc_mnc3); i++)
		if (mcc_mnc3[i] == mcc)
			return true;
	return false;
}

static bool mcc_has_mnc3_exceptions(int mcc)
{
	for (size_t i = 0; i < ARRAY_SIZE(plmn_mnc3); i++)
		if (plmn_mnc3[i].lo / 1000 == (uint32_t)mcc)
			return true;
	return false;
}

bool apn_mcc_is_ambiguous(const char *s)
{
	int mcc = mcc_of(s);
	return mcc >= 0 && (mcc_uses_mnc3(mcc) || mcc_has_mnc3_exceptions(mcc));
}

int apn_plmn_from_imsi(const char *imsi, char *out, size_t outlen)
{
	if (!imsi || !out)
		return -EINVAL;
	size_t n = strnlen(imsi, 16);
	/* An IMSI has at most 15 digits; at least MCC + 3-digit MNC + 1. */
	if (n < 7 || n > 15 || !all_digits(imsi, n))
		return -EINVAL;
	if (outlen < 7)
		return -ENOBUFS;
	int mcc = mcc_of(imsi);
	uint32_t six = (uint32_t)mcc * 1000 +
		       (uint32_t)((imsi[3] - '0') * 100 + (imsi[4] - '0') * 10 + (imsi[5] - '0'));
	bool mnc3 = mcc_uses_mnc3(mcc);
	for (size_t i = 0; !mnc3 && i < ARRAY_SIZE(plmn_mnc3); i++)
		mnc3 = six >= plmn_mnc3[i].lo && six <= plmn_mnc3[i].hi;
	size_t len = mnc3 ? 6 : 5;
	memcpy(out, imsi, len);
	out[len] = 0;
	return 0;
}

/* ---- resolution ---- */

static void __attribute__((format(printf, 3, 4)))
set_why(char *why, size_t whylen, const char *fmt, ...)
{
	if (!why || !whylen)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
}

/* PLMNs to try, best first. From an IMSI with an ambiguous MCC: the 6-digit
 * then the 5-digit reading (databases disagree: mbpi lists "33402" for a
 * Mexican network that E.212 numbers 334020). */
static int plmn_candidates(const char *imsi, const char *plmn, char cand[2][8], size_t *n,
			   char *why, size_t whylen)
{
	char guess[8];
	*n = 0;
	if (imsi && *imsi && apn_plmn_from_imsi(imsi, guess, sizeof(guess)) == 0) {
		if (apn_mcc_is_ambiguous(imsi)) {
			memcpy(cand[0], imsi, 6);
			cand[0][6] = 0;
			memcpy(cand[1], imsi, 5);
			cand[1][5] = 0;
			*n = 2;
		} else {
			memcpy(cand[0], guess, sizeof(guess));
			*n = 1;
		}
		return 0;
	}
	if (plmn && *plmn && strnlen(plmn, 8) < 8 && valid_plmn(plmn)) {
		memcpy(cand[0], plmn, strlen(plmn) + 1);
		*n = 1;
		if (strlen(plmn) == 6 && apn_mcc_is_ambiguous(plmn)) {
			memcpy(cand[1], plmn, 5);
			cand[1][5] = 0;
			*n = 2;
		}
		return 0;
	}
	if (imsi && *imsi)
		set_why(why, whylen, "invalid IMSI \"%.20s\" (expected 7 to 15 digits)", imsi);
	else if (plmn && *plmn)
		set_why(why, whylen, "invalid PLMN \"%.20s\" (expected 5 or 6 digits)", plmn);
	else
		set_why(why, whylen, "no IMSI or PLMN to look up");
	return -EINVAL;
}

static int found(struct apn_profile *out, const struct apn_profile *p, const char *plmn, char *why,
		 size_t whylen)
{
	*out = *p;
	strlcpy_checked(out->plmn, plmn, sizeof(out->plmn));
	set_why(why, whylen, "%s", out->source);
	return 0;
}

/* An override from the config: source "config: sim 8986..." plus where in
 * the file when the config recorded it ("config modemd.conf:12"). */
static int found_config(struct apn_profile *out, const struct apn_profile *p, const char *what,
			const char *plmn, char *why, size_t whylen)
{
	struct apn_profile c = *p;
	const char *where = strncmp(p->source, "config ", 7) ? NULL : p->source + 7;
	int n = snprintf(c.source, sizeof(c.source), "config: %s%s%s%s", what, where ? " (" : "",
			 where ? where : "", where ? ")" : "");
	(void)n; /* informational; a long path is cut */
	return found(out, &c, plmn, why, whylen);
}

int apn_resolve(const struct config *cfg, struct apn_db *const *dbs, size_t n_dbs,
		const char *iccid, const char *imsi, const char *plmn, struct apn_profile *out,
		char *why, size_t whylen)
{
	char cand[2][8] = {{0}}, what[48];
	size_t n_cand;
	int r = plmn_candidates(imsi, plmn, cand, &n_cand, why, whylen);

	memset(out, 0, sizeof(*out));
	if (cfg && iccid && *iccid) {
		const struct cfg_sim *sim = config_find_sim(cfg, iccid);
		if (sim && sim->has_apn) {
			snprintf(what, sizeof(what), "sim %.24s", iccid);
			return found_config(out, &sim->apn, what, cand[0], why, whylen);
		}
	}
	if (r < 0)
		return r;
	for (size_t i = 0; cfg && i < n_cand; i++) {
		const struct cfg_plmn *cp = config_find_plmn(cfg, cand[i]);
		if (cp) {
			snprintf(what, sizeof(what), "plmn %s", cand[i]);
			return found_config(out, &cp->apn, what, cand[i], why, whylen);
		}
	}
	/* Databases in order (curated first), and within each the exact reading first. */
	for (size_t d = 0; d < n_dbs; d++)
		for (size_t i = 0; i < n_cand; i++) {
			const struct apn_profile *p = apn_db_lookup(dbs[d], cand[i]);
			if (p)
				return found(out, p, cand[i], why, whylen);
		}
	memcpy(out->plmn, cand[0], sizeof(out->plmn));
	if (n_cand == 2)
		set_why(why, whylen, "no APN for PLMN %s (nor %s)", cand[0], cand[1]);
	else
		set_why(why, whylen, "no APN for PLMN %s", cand[0]);
	return -ENOENT;
}
