/* Shared between the config parser (config.c), the printer (config_print.c)
 * and the bundle sections (config_bundle.c). Not for other subsystems. */
#pragma once
#include <libconfig.h>

#include "config.h"

struct parser {
	const char *name; /* file name for messages when libconfig has none */
	char *err;
	size_t errlen;
};

/* Schema helpers (config_schema.c); same contracts as there: getters return 0 if
 * the setting is absent, 1 if set, -EINVAL with "file:line: path: message"
 * in p->err. */
int cfg_fail(struct parser *p, const config_setting_t *s, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
int cfg_check_keys(struct parser *p, const config_setting_t *g, const char *const *keys);
int cfg_get_uint(struct parser *p, const config_setting_t *g, const char *key, unsigned min,
		 unsigned max, unsigned *out);
int cfg_get_bool(struct parser *p, const config_setting_t *g, const char *key, bool *out);
int cfg_get_str(struct parser *p, const config_setting_t *g, const char *key, char *dst,
		size_t size);
int cfg_get_path(struct parser *p, const config_setting_t *g, const char *key, char *dst,
		 size_t size);
int cfg_get_name(struct parser *p, const config_setting_t *g, const char *key, char *dst,
		 size_t size);
int cfg_get_list(struct parser *p, const config_setting_t *g, const char *key, int max,
		 const config_setting_t **out);
int cfg_get_strings(struct parser *p, const config_setting_t *g, const char *key, char *dst,
		    size_t size, int max, size_t *count);
int cfg_get_digits(struct parser *p, const config_setting_t *g, const char *key, char *dst,
		   size_t size, size_t min, size_t max);
/* An AT reset command ("reset"): printable, starts with AT. */
int cfg_get_reset(struct parser *p, const config_setting_t *g, char *dst, size_t size);
int cfg_get_enum(struct parser *p, const config_setting_t *g, const char *key,
		 int (*parse)(const char *, int *), const char *what, int *out);
/* v made only of alnum (if asked; upper-case too if upper) and extra chars. */
bool cfg_only(const char *v, const char *extra, bool alnum, bool upper);

/* Printer helpers of config_print.c. */
void cfg_put_str(FILE *f, const char *s);
void cfg_put_kv(FILE *f, const char *indent, const char *key, const char *v);
void cfg_put_secret(FILE *f, const char *indent, const char *key, const char *v, bool show);

/* config_bundle.c: the mode, bundle and receiver settings. */
void config_bundle_defaults(struct config *c);
/* After the modem sections (static link names are checked against modems). */
int config_bundle_parse(struct parser *p, const config_setting_t *root, struct config *c);
/* config_bundle_print.c */
void config_bundle_print(const struct config *c, FILE *f, bool show_secrets);
bool config_bundle_has_secrets(const struct config *c);
void config_bundle_release(struct config *c);
/* "10.200.0.0/24" */
const char *cfg_prefix_to_string(const struct cfg_prefix *pf, char *buf, size_t len);
