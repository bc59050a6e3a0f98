/* modemd.conf (libconfig) -> struct config. Every setting is checked against
 * a schema: unknown names are errors (a typo must not pass silently), and
 * every error names file:line and the setting path. See docs/config.md. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libconfig.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "build-config.h"
#include "config-internal.h"
#include "log.h"
#include "util.h"

#define CFG_FILE_MAX  (1024 * 1024) /* a config file larger than this is a mistake */
#define DEFAULT_RESET "AT+CFUN=1,1"
#define IFNAME_MAX    15 /* IFNAMSIZ - 1 */

static int auth_parse(const char *s, int *out)
{
	enum apn_auth a;
	int r = apn_auth_from_string(s, &a);

	*out = a;
	return r;
}

static int kind_parse(const char *s, int *out)
{
	enum apn_dial_kind k;
	int r = apn_dial_kind_from_string(s, &k);

	*out = k;
	return r;
}

/* apn, number, user, password, auth, kind of a sims[] or plmns[] entry.
 * Returns 1 if apn or number was given, 0 if none of them, <0 on error. */
static int parse_apn(struct parser *p, const config_setting_t *g, struct apn_profile *a)
{
	static const char *const extra[] = {"user", "password", "auth", "kind"};
	int auth = APN_AUTH_ANY, kind = APN_DIAL_3GPP, r, given = 0;

	memset(a, 0, sizeof(*a));
	r = cfg_get_str(p, g, "apn", a->apn, sizeof(a->apn));
	if (r > 0 && !cfg_only(a->apn, ".-_", true, true))
		return cfg_fail(p, config_setting_get_member(g, "apn"), NULL,
				"must be made of letters, digits, '.', '-' and '_'");
	given |= r;
	if (r >= 0)
		r = cfg_get_str(p, g, "number", a->number, sizeof(a->number));
	if (r > 0 && (!a->number[0] || !cfg_only(a->number, "*#+", false, false)))
		return cfg_fail(p, config_setting_get_member(g, "number"), NULL,
				"must be a dial string of digits, '*', '#' and '+'");
	given |= r;
	if (r >= 0)
		r = cfg_get_str(p, g, "user", a->user, sizeof(a->user));
	if (r >= 0)
		r = cfg_get_str(p, g, "password", a->password, sizeof(a->password));
	if (r >= 0)
		r = cfg_get_enum(p, g, "auth", auth_parse, "\"any\", \"none\", \"pap\", \"chap\"",
				 &auth);
	if (r >= 0)
		r = cfg_get_enum(p, g, "kind", kind_parse, "\"3gpp\", \"cdma\"", &kind);
	if (r < 0)
		return r;
	for (size_t i = 0; i < ARRAY_SIZE(extra) && !given; i++)
		if (config_setting_get_member(g, extra[i]))
			return cfg_fail(p, config_setting_get_member(g, extra[i]), NULL,
					"needs \"apn\" or \"number\" in the same entry");
	a->auth = auth;
	a->kind = kind;
	/* As in the APN database: 3GPP dialing sets a PDP context, so needs an APN. */
	if (given && kind == APN_DIAL_3GPP && !a->apn[0])
		return cfg_fail(
		    p, g, "apn",
		    "required for kind \"3gpp\" (set kind = \"cdma\" for #777-style dialing)");
	if (given && !a->number[0])
		strcpy(a->number, kind == APN_DIAL_CDMA ? "#777" : "*99#");
	r = snprintf(a->source, sizeof(a->source), "config %s:%d",
		     config_setting_source_file(g) ? config_setting_source_file(g) : p->name,
		     config_setting_source_line(g));
	(void)r; /* informational; a cut path is fine */
	return given;
}

static int parse_dial(struct parser *p, const config_setting_t *g, struct cfg_dial *d)
{
	static const char *const keys[] = {"at_timeout",
					   "registration_timeout",
					   "backoff_initial",
					   "backoff_max",
					   "reset_after_failures",
					   "signal_refresh",
					   "connect_timeout",
					   "lcp_echo_interval",
					   "lcp_echo_failure",
					   "baud",
					   "pppd",
					   "chat",
					   "chat_dir",
					   "ifname_prefix",
					   "pppd_options",
					   NULL};
	int r;

	if (!config_setting_is_group(g))
		return cfg_fail(p, g, NULL, "must be a group: dial = { ... };");
	if ((r = cfg_check_keys(p, g, keys)) < 0 ||
	    (r = cfg_get_uint(p, g, "at_timeout", 100, 600000, &d->at_timeout_ms)) < 0 ||
	    (r = cfg_get_uint(p, g, "registration_timeout", 1000, 3600000,
			      &d->registration_timeout_ms)) < 0 ||
	    (r = cfg_get_uint(p, g, "backoff_initial", 100, 3600000, &d->backoff_initial_ms)) < 0 ||
	    (r = cfg_get_uint(p, g, "backoff_max", 1000, 86400000, &d->backoff_max_ms)) < 0 ||
	    (r = cfg_get_uint(p, g, "reset_after_failures", 0, 1000, &d->reset_after_failures)) <
		0 ||
	    (r = cfg_get_uint(p, g, "signal_refresh", 1000, 3600000, &d->signal_refresh_ms)) < 0 ||
	    (r = cfg_get_uint(p, g, "connect_timeout", 1000, 600000, &d->connect_timeout_ms)) < 0 ||
	    (r = cfg_get_uint(p, g, "lcp_echo_interval", 0, 3600, &d->lcp_echo_interval)) < 0 ||
	    (r = cfg_get_uint(p, g, "lcp_echo_failure", 0, 100, &d->lcp_echo_failure)) < 0 ||
	    (r = cfg_get_uint(p, g, "baud", 300, 4000000, &d->baud)) < 0 ||
	    (r = cfg_get_path(p, g, "pppd", d->pppd_path, sizeof(d->pppd_path))) < 0 ||
	    (r = cfg_get_path(p, g, "chat", d->chat_path, sizeof(d->chat_path))) < 0 ||
	    (r = cfg_get_path(p, g, "chat_dir", d->chat_dir, sizeof(d->chat_dir))) < 0 ||
	    (r = cfg_get_str(p, g, "ifname_prefix", d->ifname_prefix, sizeof(d->ifname_prefix))) <
		0 ||
	    (r = cfg_get_strings(p, g, "pppd_options", d->pppd_extra[0], sizeof(d->pppd_extra[0]),
				 CFG_MAX_PPPD_OPTIONS, &d->n_pppd_extra)) < 0)
		return r;
	if (d->backoff_max_ms < d->backoff_initial_ms)
		return cfg_fail(p, g, "backoff_max", "must not be less than backoff_initial (%u)",
				d->backoff_initial_ms);
	/* Room for at least "m999" after the prefix within IFNAMSIZ. */
	if (!d->ifname_prefix[0] || strlen(d->ifname_prefix) > 11 ||
	    !cfg_only(d->ifname_prefix, "_-.", true, true))
		return cfg_fail(p, g, "ifname_prefix",
				"must be 1 to 11 letters, digits, '_', '-' or '.'");
	for (size_t i = 0; i < d->n_pppd_extra; i++) {
		const char *o = d->pppd_extra[i];
		if (!o[0] || strpbrk(o, " \t\"'\\#"))
			return cfg_fail(p,
					config_setting_get_elem(
					    config_setting_get_member(g, "pppd_options"), i),
					NULL, "must be one word (no spaces, quotes, '\\' or '#')");
	}
	return 0;
}

static int parse_models(struct parser *p, const config_setting_t *root, struct config *c)
{
	static const char *const keys[] = {"vid",	    "pid",   "name", "at_interface",
					   "ppp_interface", "reset", NULL};
	static const char *const req[] = {"vid", "pid", "at_interface", "ppp_interface"};
	const config_setting_t *list;
	size_t n_builtin = c->n_models;
	int n = cfg_get_list(p, root, "models", CFG_MAX_MODELS, &list), r;
	struct cfg_model *t;

	if (n <= 0)
		return n;
	t = realloc(c->models, (n_builtin + (size_t)n) * sizeof(*t));
	if (!t)
		return -ENOMEM;
	c->models = t;
	for (int i = 0; i < n; i++) {
		const config_setting_t *g = config_setting_get_elem(list, i);
		struct cfg_model m = {.reset_cmd = DEFAULT_RESET};
		size_t at = c->n_models;

		if ((r = cfg_check_keys(p, g, keys)) < 0 ||
		    (r = cfg_get_uint(p, g, "vid", 0, 0xffff, &m.vid)) < 0 ||
		    (r = cfg_get_uint(p, g, "pid", 0, 0xffff, &m.pid)) < 0)
			return r;
		for (size_t j = 0; j < c->n_models; j++) {
			if (c->models[j].vid != m.vid || c->models[j].pid != m.pid)
				continue;
			if (j >= n_builtin)
				return cfg_fail(p, g, NULL,
						"%04x:%04x is already listed in models[%zu]", m.vid,
						m.pid, j - n_builtin);
			/* Overriding a built-in: what is not given keeps its value. */
			at = j;
			m = c->models[j];
		}
		for (size_t k = 0; k < ARRAY_SIZE(req); k++)
			if (!config_setting_get_member(g, req[k]) && (k < 2 || at == c->n_models))
				return cfg_fail(p, g, req[k], "required setting is missing");
		if ((r = cfg_get_str(p, g, "name", m.name, sizeof(m.name))) < 0 ||
		    (r = cfg_get_uint(p, g, "at_interface", 0, 15, (unsigned *)&m.at_interface)) <
			0 ||
		    (r = cfg_get_uint(p, g, "ppp_interface", 0, 15, (unsigned *)&m.ppp_interface)) <
			0 ||
		    (r = cfg_get_reset(p, g, m.reset_cmd, sizeof(m.reset_cmd))) < 0)
			return r;
		if (m.at_interface == m.ppp_interface)
			return cfg_fail(p, g, "ppp_interface", "must differ from at_interface");
		if (!m.name[0])
			snprintf(m.name, sizeof(m.name), "USB %04x:%04x", m.vid, m.pid);
		c->models[at] = m;
		if (at == c->n_models)
			c->n_models++;
	}
	return 0;
}

static int parse_modems(struct parser *p, const config_setting_t *root, struct config *c)
{
	static const char *const keys[] = {"name", "at_port", "ppp_port", "reset", NULL};
	static const char *const req[] = {"name", "at_port", "ppp_port"};
	const config_setting_t *list;
	int n = cfg_get_list(p, root, "modems", CFG_MAX_STATIC_MODEMS, &list), r;

	if (n <= 0)
		return n;
	c->static_modems = calloc((size_t)n, sizeof(*c->static_modems));
	if (!c->static_modems)
		return -ENOMEM;
	for (int i = 0; i < n; i++) {
		const config_setting_t *g = config_setting_get_elem(list, i);
		struct cfg_static_modem *m = &c->static_modems[i];

		if ((r = cfg_check_keys(p, g, keys)) < 0)
			return r;
		for (size_t k = 0; k < ARRAY_SIZE(req); k++)
			if (!config_setting_get_member(g, req[k]))
				return cfg_fail(p, g, req[k], "required setting is missing");
		if ((r = cfg_get_name(p, g, "name", m->name, sizeof(m->name))) < 0 ||
		    (r = cfg_get_path(p, g, "at_port", m->at_port, sizeof(m->at_port))) < 0 ||
		    (r = cfg_get_path(p, g, "ppp_port", m->ppp_port, sizeof(m->ppp_port))) < 0 ||
		    (r = cfg_get_reset(p, g, m->reset_cmd, sizeof(m->reset_cmd))) < 0)
			return r;
		if (strlen(c->dial.ifname_prefix) + strlen(m->name) > IFNAME_MAX)
			return cfg_fail(
			    p, g, "name",
			    "interface name \"%s%s\" would be longer than %d characters",
			    c->dial.ifname_prefix, m->name, IFNAME_MAX);
		if (strcmp(m->at_port, m->ppp_port) == 0)
			return cfg_fail(p, g, "ppp_port", "must differ from at_port");
		c->n_static_modems++;
		for (int j = 0; j < i; j++) {
			const struct cfg_static_modem *o = &c->static_modems[j];
			if (strcmp(o->name, m->name) == 0)
				return cfg_fail(p, g, "name",
						"\"%s\" is already used by modems[%d]", m->name, j);
			if (!strcmp(o->at_port, m->at_port) || !strcmp(o->ppp_port, m->at_port))
				return cfg_fail(p, g, "at_port", "%s is already used by modems[%d]",
						m->at_port, j);
			if (!strcmp(o->at_port, m->ppp_port) || !strcmp(o->ppp_port, m->ppp_port))
				return cfg_fail(p, g, "ppp_port",
						"%s is already used by modems[%d]", m->ppp_port, j);
		}
	}
	return 0;
}

static int parse_sims(struct parser *p, const config_setting_t *root, struct config *c)
{
	static const char *const keys[] = {"iccid",    "pin",  "apn",  "number", "user",
					   "password", "auth", "kind", NULL};
	const config_setting_t *list;
	int n = cfg_get_list(p, root, "sims", CFG_MAX_SIMS, &list), r;

	if (n <= 0)
		return n;
	c->sims = calloc((size_t)n, sizeof(*c->sims));
	if (!c->sims)
		return -ENOMEM;
	for (int i = 0; i < n; i++) {
		const config_setting_t *g = config_setting_get_elem(list, i);
		struct cfg_sim *s = &c->sims[i];

		if ((r = cfg_check_keys(p, g, keys)) < 0)
			return r;
		if (!config_setting_get_member(g, "iccid"))
			return cfg_fail(p, g, "iccid", "required setting is missing");
		if ((r = cfg_get_digits(p, g, "iccid", s->iccid, sizeof(s->iccid), 18, 22)) < 0)
			return r;
		/* An empty PIN means "none configured". */
		r = cfg_get_str(p, g, "pin", s->pin, sizeof(s->pin));
		if (r > 0 && s->pin[0])
			r = cfg_get_digits(p, g, "pin", s->pin, sizeof(s->pin), 4, 8);
		if (r < 0 || (r = parse_apn(p, g, &s->apn)) < 0)
			return r;
		s->has_apn = r > 0;
		c->n_sims++;
		for (int j = 0; j < i; j++)
			if (strcmp(c->sims[j].iccid, s->iccid) == 0)
				return cfg_fail(p, g, "iccid", "%s is already listed in sims[%d]",
						s->iccid, j);
	}
	return 0;
}

static int parse_plmns(struct parser *p, const config_setting_t *root, struct config *c)
{
	static const char *const keys[] = {"plmn",     "apn",  "number", "user",
					   "password", "auth", "kind",	 NULL};
	const config_setting_t *list;
	int n = cfg_get_list(p, root, "plmns", CFG_MAX_PLMNS, &list), r;

	if (n <= 0)
		return n;
	c->plmns = calloc((size_t)n, sizeof(*c->plmns));
	if (!c->plmns)
		return -ENOMEM;
	for (int i = 0; i < n; i++) {
		const config_setting_t *g = config_setting_get_elem(list, i);
		struct cfg_plmn *o = &c->plmns[i];

		if ((r = cfg_check_keys(p, g, keys)) < 0)
			return r;
		if (!config_setting_get_member(g, "plmn"))
			return cfg_fail(p, g, "plmn", "required setting is missing");
		if ((r = cfg_get_digits(p, g, "plmn", o->plmn, sizeof(o->plmn), 5, 6)) < 0 ||
		    (r = parse_apn(p, g, &o->apn)) < 0)
			return r;
		if (r == 0)
			return cfg_fail(p, g, NULL, "needs \"apn\" or \"number\"");
		strcpy(o->apn.plmn, o->plmn);
		c->n_plmns++;
		for (int j = 0; j < i; j++)
			if (strcmp(c->plmns[j].plmn, o->plmn) == 0)
				return cfg_fail(p, g, "plmn", "%s is already listed in plmns[%d]",
						o->plmn, j);
	}
	return 0;
}

static int parse_root(struct parser *p, const config_setting_t *root, struct config *c)
{
	static const char *const keys[] = {
	    "log_level", "control_socket", "control_group", "run_dir", "state_dir", "udev",
	    "apn_db",	 "dial",	   "models",	    "modems",  "sims",	    "plmns",
	    "mode",	 "bundle",	   "receiver",	    NULL};
	const config_setting_t *s;
	char level[16];
	int r;

	if ((r = cfg_check_keys(p, root, keys)) < 0)
		return r;
	r = cfg_get_str(p, root, "log_level", level, sizeof(level));
	if (r > 0) {
		int l = log_level_from_string(level);
		if (l < LOG_ERR)
			return cfg_fail(
			    p, config_setting_get_member(root, "log_level"), NULL,
			    "must be one of \"error\", \"warning\", \"notice\", \"info\", "
			    "\"debug\"");
		c->log_level = l;
	}
	if (r < 0 ||
	    (r = cfg_get_path(p, root, "control_socket", c->control_socket,
			      sizeof(c->control_socket))) < 0 ||
	    (r = cfg_get_str(p, root, "control_group", c->control_group,
			     sizeof(c->control_group))) < 0)
		return r;
	if (c->control_group[0] &&
	    (c->control_group[0] == '-' || !cfg_only(c->control_group, "_-.", true, true)))
		return cfg_fail(p, config_setting_get_member(root, "control_group"), NULL,
				"must be a group name (letters, digits, '_', '-', '.') or \"\"");
	if ((r = cfg_get_path(p, root, "run_dir", c->run_dir, sizeof(c->run_dir))) < 0 ||
	    (r = cfg_get_path(p, root, "state_dir", c->state_dir, sizeof(c->state_dir))) < 0 ||
	    (r = cfg_get_bool(p, root, "udev", &c->udev)) < 0 ||
	    (r = cfg_get_strings(p, root, "apn_db", c->apn_db[0], sizeof(c->apn_db[0]),
				 CFG_MAX_APN_DB, &c->n_apn_db)) < 0)
		return r;
	for (size_t i = 0; i < c->n_apn_db; i++)
		if (c->apn_db[i][0] != '/')
			return cfg_fail(
			    p,
			    config_setting_get_elem(config_setting_get_member(root, "apn_db"), i),
			    NULL, "must be an absolute path");
	s = config_setting_get_member(root, "dial");
	if (s && (r = parse_dial(p, s, &c->dial)) < 0)
		return r;
	if ((r = parse_models(p, root, c)) < 0 || (r = parse_modems(p, root, c)) < 0 ||
	    (r = parse_sims(p, root, c)) < 0 || (r = parse_plmns(p, root, c)) < 0 ||
	    (r = config_bundle_parse(p, root, c)) < 0)
		return r;
	return 0;
}

/* libconfig 1.5 silently wraps integer literals past 32 bits (4294967596 reads
 * as 300), so find them before it does. Mirrors its lexer: strings, the three
 * comment styles, names, floats. No setting takes a value above INT_MAX. */
static int check_literals(struct parser *p, const char *t)
{
	int line = 1;

	while (*t) {
		const char *start = t;
		if (*t == '\n') {
			line++;
			t++;
		} else if (*t == '"') {
			int first = line;
			for (t++; *t && *t != '"'; t++) {
				if (*t == '\\' && t[1])
					t++;
				line += *t == '\n';
			}
			/* Also spares us libconfig 1.5 leaking its buffer on this. */
			if (!*t) {
				snprintf(p->err, p->errlen, "%s:%d: unterminated string", p->name,
					 first);
				return -EINVAL;
			}
			t++;
		} else if (*t == '#' || (t[0] == '/' && t[1] == '/')) {
			t += strcspn(t, "\n");
		} else if (t[0] == '/' && t[1] == '*') {
			for (t += 2; *t && !(t[0] == '*' && t[1] == '/'); t++)
				line += *t == '\n';
			t += *t ? 2 : 0;
		} else if (isalpha((unsigned char)*t) || *t == '*' || *t == '@') {
			while (*t && (isalnum((unsigned char)*t) || strchr("-_*@", *t)))
				t++;
		} else if (*t == '.') {
			t += 1 + strspn(t + 1, "0123456789eE+-.");
		} else if (isdigit((unsigned char)*t)) {
			bool hex = t[0] == '0' && (t[1] == 'x' || t[1] == 'X');
			t += hex ? 2 + strspn(t + 2, "0123456789abcdefABCDEF")
				 : strspn(t, "0123456789");
			if (!hex && (*t == '.' || *t == 'e' || *t == 'E')) {
				t += strspn(t, "0123456789eE+-.");
				continue;
			}
			errno = 0;
			unsigned long long v = strtoull(start, NULL, hex ? 16 : 10);
			if (errno == ERANGE || v > INT_MAX) {
				snprintf(p->err, p->errlen, "%s:%d: integer %.*s is out of range",
					 p->name, line, (int)(t - start > 24 ? 24 : t - start),
					 start);
				return -EINVAL;
			}
		} else {
			t++;
		}
	}
	return 0;
}

/* libconfig would open any file an @include names, even from a string. */
static int check_no_include(struct parser *p, const char *t)
{
	for (int line = 1; t; line++) {
		const char *l = t + strspn(t, " \t");
		if (strncmp(l, "@include", 8) == 0) {
			snprintf(p->err, p->errlen, "%s:%d: @include is not supported", p->name,
				 line);
			return -EINVAL;
		}
		t = strchr(t, '\n');
		t = t ? t + 1 : NULL;
	}
	return 0;
}

int config_load_string(struct config *c, const char *text, const char *name, char *err,
		       size_t errlen)
{
	struct parser p = {.name = name ? name : "<string>", .err = err, .errlen = errlen};
	struct config tmp;
	config_t cf;
	int r;

	memset(c, 0, sizeof(*c));
	r = config_init_defaults(&tmp);
	if (r < 0) {
		snprintf(err, errlen, "%s: %s", p.name, strerror(-r));
		return r;
	}
	strlcpy_checked(tmp.source, p.name, sizeof(tmp.source));
	config_init(&cf);
	if ((r = check_no_include(&p, text)) < 0 || (r = check_literals(&p, text)) < 0)
		goto out;
	if (!config_read_string(&cf, text)) {
		snprintf(err, errlen, "%s:%d: %s",
			 config_error_file(&cf) ? config_error_file(&cf) : p.name,
			 config_error_line(&cf), config_error_text(&cf));
		r = -EINVAL;
		goto out;
	}
	r = parse_root(&p, config_root_setting(&cf), &tmp);
	if (r == -ENOMEM)
		snprintf(err, errlen, "%s: %s", p.name, strerror(ENOMEM));
out:
	config_destroy(&cf);
	if (r < 0)
		config_release(&tmp);
	else
		*c = tmp;
	return r;
}

int config_load_file(struct config *c, const char *path, char *err, size_t errlen)
{
	struct stat st;
	char *buf = NULL;
	ssize_t n = 0;
	int fd, r;

	memset(c, 0, sizeof(*c));
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0 || fstat(fd, &st) < 0) {
		r = -errno;
		goto fail;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > CFG_FILE_MAX) {
		r = S_ISREG(st.st_mode) ? -EFBIG : -EINVAL;
		snprintf(err, errlen, "%s: %s", path,
			 r == -EFBIG ? "file too large (at most 1 MiB)" : "not a regular file");
		goto out;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		r = -ENOMEM;
		goto fail;
	}
	/* Read once into memory: bounded, and what we check is what we parse. */
	while (n < st.st_size) {
		ssize_t k = read(fd, buf + n, (size_t)(st.st_size - n));
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			r = -errno;
			goto fail;
		}
		if (k == 0)
			break;
		n += k;
	}
	buf[n] = 0;
	if (memchr(buf, 0, (size_t)n)) {
		snprintf(err, errlen, "%s: contains a NUL byte (not a text file?)", path);
		r = -EINVAL;
		goto out;
	}
	r = config_load_string(c, buf, path, err, errlen);
	goto out;
fail:
	snprintf(err, errlen, "%s: %s", path, strerror(-r));
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	return r;
}
