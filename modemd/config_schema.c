/* Schema helpers for the libconfig parser (config.c, config_bundle.c): every
 * value checked, every error "file:line: setting.path: message". */
#include <ctype.h>
#include <errno.h>
#include <libconfig.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config-internal.h"
#include "util.h"

/* ---- messages ---- */

/* "sims[3].apn": walk up the parents, list elements by index. */
static void setting_path(const config_setting_t *s, char *buf, size_t len)
{
	const config_setting_t *chain[8];
	size_t n = 0, off = 0;

	for (; s && !config_setting_is_root(s) && n < ARRAY_SIZE(chain);
	     s = config_setting_parent(s))
		chain[n++] = s;
	buf[0] = 0;
	while (n--) {
		const char *name = config_setting_name(chain[n]);
		int w =
		    name ? snprintf(buf + off, len - off, "%s%s", off ? "." : "", name)
			 : snprintf(buf + off, len - off, "[%d]", config_setting_index(chain[n]));
		if (w < 0 || (size_t)w >= len - off)
			break;
		off += w;
	}
}

/* Error at setting s (or at its member key, when key is given and missing). */
static int __attribute__((format(printf, 4, 0)))
vfail(struct parser *p, const config_setting_t *s, const char *key, const char *fmt, va_list ap)
{
	char path[160], msg[384];
	const char *file = config_setting_source_file(s);

	setting_path(s, path, sizeof(path));
	if (key) {
		size_t l = strlen(path);
		snprintf(path + l, sizeof(path) - l, "%s%s", l ? "." : "", key);
	}
	vsnprintf(msg, sizeof(msg), fmt, ap);
	snprintf(p->err, p->errlen, "%s:%d: %s: %s", file ? file : p->name,
		 config_setting_source_line(s), path, msg);
	return -EINVAL;
}

int __attribute__((format(printf, 4, 5)))
cfg_fail(struct parser *p, const config_setting_t *s, const char *key, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vfail(p, s, key, fmt, ap);
	va_end(ap);
	return r;
}

/* Edit distance, for "did you mean" on unknown settings. */
static size_t distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), row[64];

	if (la >= ARRAY_SIZE(row) || lb >= ARRAY_SIZE(row))
		return SIZE_MAX;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j], best = diag + (a[i - 1] != b[j - 1]);
			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			diag = up;
			row[j] = best;
		}
	}
	return row[lb];
}

int cfg_check_keys(struct parser *p, const config_setting_t *g, const char *const *keys)
{
	int n = config_setting_length(g);

	for (int i = 0; i < n; i++) {
		const config_setting_t *m = config_setting_get_elem(g, i);
		const char *name = config_setting_name(m), *near = NULL;
		size_t best = 3;
		bool known = false;

		for (const char *const *k = keys; *k && !known; k++) {
			size_t d = distance(name, *k);
			known = d == 0;
			if (d < best) {
				best = d;
				near = *k;
			}
		}
		if (known)
			continue;
		if (near)
			return cfg_fail(p, m, NULL, "unknown setting (did you mean \"%s\"?)", near);
		return cfg_fail(p, m, NULL, "unknown setting");
	}
	return 0;
}

/* ---- typed getters: 0 if absent, 1 if set, <0 on error ---- */

int cfg_get_uint(struct parser *p, const config_setting_t *g, const char *key, unsigned min,
		 unsigned max, unsigned *out)
{
	const config_setting_t *s = config_setting_get_member(g, key);
	long long v;

	if (!s)
		return 0;
	if (config_setting_type(s) != CONFIG_TYPE_INT &&
	    config_setting_type(s) != CONFIG_TYPE_INT64)
		v = -1;
	else
		v = config_setting_get_int64(s);
	if (v < min || v > max) {
		if (min == 0 && max == 0xffff) /* USB ids */
			return cfg_fail(p, s, NULL, "must be an integer between 0x0000 and 0xffff");
		return cfg_fail(p, s, NULL, "must be an integer between %u and %u", min, max);
	}
	*out = (unsigned)v;
	return 1;
}

int cfg_get_bool(struct parser *p, const config_setting_t *g, const char *key, bool *out)
{
	const config_setting_t *s = config_setting_get_member(g, key);

	if (!s)
		return 0;
	if (config_setting_type(s) != CONFIG_TYPE_BOOL)
		return cfg_fail(p, s, NULL, "must be true or false");
	*out = config_setting_get_bool(s);
	return 1;
}

static int check_string(struct parser *p, const config_setting_t *s, size_t size)
{
	const char *v = config_setting_get_string(s);

	if (!v)
		return cfg_fail(p, s, NULL, "must be a string");
	if (strlen(v) >= size)
		return cfg_fail(p, s, NULL, "is too long (at most %zu characters)", size - 1);
	for (const char *c = v; *c; c++)
		if (iscntrl((unsigned char)*c))
			return cfg_fail(p, s, NULL, "must not contain control characters");
	return 0;
}

int cfg_get_str(struct parser *p, const config_setting_t *g, const char *key, char *dst,
		size_t size)
{
	const config_setting_t *s = config_setting_get_member(g, key);
	int r;

	if (!s)
		return 0;
	r = check_string(p, s, size);
	if (r < 0)
		return r;
	strcpy(dst, config_setting_get_string(s));
	return 1;
}

/* ---- value checks ---- */

bool cfg_only(const char *v, const char *extra, bool alnum, bool upper)
{
	for (; *v; v++) {
		unsigned char c = *v;
		if (strchr(extra, c) || isdigit(c) || (alnum && islower(c)) ||
		    (alnum && upper && isupper(c)))
			continue;
		return false;
	}
	return true;
}

int cfg_get_path(struct parser *p, const config_setting_t *g, const char *key, char *dst,
		 size_t size)
{
	int r = cfg_get_str(p, g, key, dst, size);

	if (r > 0 && dst[0] != '/')
		return cfg_fail(p, config_setting_get_member(g, key), NULL,
				"must be an absolute path");
	return r;
}

int cfg_get_digits(struct parser *p, const config_setting_t *g, const char *key, char *dst,
		   size_t size, size_t min, size_t max)
{
	int r = cfg_get_str(p, g, key, dst, size);
	size_t l = strlen(dst);

	if (r > 0 && (!cfg_only(dst, "", false, false) || l < min || l > max))
		return cfg_fail(p, config_setting_get_member(g, key), NULL,
				"must be %zu to %zu digits", min, max);
	return r;
}

int cfg_get_reset(struct parser *p, const config_setting_t *g, char *dst, size_t size)
{
	int r = cfg_get_str(p, g, "reset", dst, size);

	if (r > 0 && strncasecmp(dst, "AT", 2) != 0)
		return cfg_fail(p, config_setting_get_member(g, "reset"), NULL,
				"must be an AT command (\"AT+CRESET\", \"AT+CFUN=1,1\")");
	return r;
}

/* Short names for humans and interface names: [a-z0-9_-]. */
int cfg_get_name(struct parser *p, const config_setting_t *g, const char *key, char *dst,
		 size_t size)
{
	int r = cfg_get_str(p, g, key, dst, size);

	if (r > 0 && (!dst[0] || !cfg_only(dst, "_-", true, false)))
		return cfg_fail(p, config_setting_get_member(g, key), NULL,
				"must be made of a-z, 0-9, '_' and '-'");
	return r;
}

/* A list of groups "( { ... }, ... )"; an empty "[]" is accepted too. */
int cfg_get_list(struct parser *p, const config_setting_t *g, const char *key, int max,
		 const config_setting_t **out)
{
	const config_setting_t *s = config_setting_get_member(g, key);
	int n;

	*out = s;
	if (!s)
		return 0;
	n = config_setting_length(s);
	if (!config_setting_is_list(s) && !(config_setting_is_array(s) && n == 0))
		return cfg_fail(p, s, NULL, "must be a list of groups: %s = ( { ... }, { ... } );",
				key);
	if (n > max)
		return cfg_fail(p, s, NULL, "too many entries (at most %d)", max);
	for (int i = 0; i < n; i++)
		if (!config_setting_is_group(config_setting_get_elem(s, i)))
			return cfg_fail(p, config_setting_get_elem(s, i), NULL,
					"must be a group { ... }");
	return n;
}

/* A list or array of strings, each checked by get_str's rules. */
int cfg_get_strings(struct parser *p, const config_setting_t *g, const char *key, char *dst,
		    size_t size, int max, size_t *count)
{
	const config_setting_t *s = config_setting_get_member(g, key);
	int n, r;

	if (!s)
		return 0;
	n = config_setting_length(s);
	if (!config_setting_is_array(s) && !config_setting_is_list(s))
		return cfg_fail(p, s, NULL, "must be a list of strings: %s = [ \"...\", \"...\" ];",
				key);
	if (n > max)
		return cfg_fail(p, s, NULL, "too many entries (at most %d)", max);
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, i);
		r = check_string(p, e, size);
		if (r < 0)
			return r;
		strcpy(dst + (size_t)i * size, config_setting_get_string(e));
	}
	*count = (size_t)n;
	return 1;
}

/* ---- sections ---- */

/* auth = "pap"; kind = "cdma": names shared with the APN database. */
int cfg_get_enum(struct parser *p, const config_setting_t *g, const char *key,
		 int (*parse)(const char *, int *), const char *what, int *out)
{
	char v[16];
	int r = cfg_get_str(p, g, key, v, sizeof(v));

	if (r > 0 && parse(v, out) < 0)
		return cfg_fail(p, config_setting_get_member(g, key), NULL, "must be one of %s",
				what);
	return r;
}
