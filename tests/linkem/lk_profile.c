/* linkem profiles (libconfig): links = ( { name; a; b; up = {...}; down =
 * {...}; outages = (...); } ); seed. Reference: docs/linkem.md. Every error
 * names the file, the line libconfig recorded, and the setting. */
#include "lk.h"

#include <errno.h>
#include <libconfig.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct perr {
	char *buf;
	size_t len;
	const char *fname;
};

__attribute__((format(printf, 4, 5))) static int fail(struct perr *e, const config_setting_t *s,
						      const char *path, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(e->buf, e->len, "%s:%d: %s: %s", e->fname, s ? config_setting_source_line(s) : 0,
		 path, msg);
	return -EINVAL;
}

/* Setting paths for messages, like links[0].up.rate_mbit. */
static void join(char *out, size_t len, const char *parent, const char *name)
{
	if (snprintf(out, len, "%s.%s", parent, name) >= (int)len)
		out[len - 1] = '\0';
}

static void index_path(char *out, size_t len, const char *parent, int i)
{
	if (snprintf(out, len, "%s[%d]", parent, i) >= (int)len)
		out[len - 1] = '\0';
}

static bool is_number(const config_setting_t *s)
{
	int t = config_setting_type(s);

	return t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64 || t == CONFIG_TYPE_FLOAT;
}

static double number(const config_setting_t *s)
{
	if (config_setting_type(s) == CONFIG_TYPE_FLOAT)
		return config_setting_get_float(s);
	return (double)config_setting_get_int64(s);
}

/* A number setting in [lo, hi] (lo excluded when lo_open). */
static int get_num(struct perr *e, const config_setting_t *s, const char *path, double lo,
		   bool lo_open, double hi, double *out)
{
	double v;

	if (!is_number(s))
		return fail(e, s, path, "must be a number");
	v = number(s);
	if (!(lo_open ? v > lo : v >= lo) || !(v <= hi))
		return fail(e, s, path, "must be %s %g and <= %g", lo_open ? ">" : ">=", lo, hi);
	*out = v;
	return 0;
}

static int get_str(struct perr *e, const config_setting_t *s, const char *path, const char **out)
{
	if (config_setting_type(s) != CONFIG_TYPE_STRING)
		return fail(e, s, path, "must be a string");
	*out = config_setting_get_string(s);
	return 0;
}

static bool valid_name(const char *n, size_t max, const char *extra)
{
	size_t len = strlen(n);

	if (len == 0 || len >= max)
		return false;
	for (const char *p = n; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || strchr(extra, *p)))
			return false;
	return true;
}

void lk_dir_conf_default(struct lk_dir_conf *d)
{
	memset(d, 0, sizeof(*d));
	d->cap = LK_CAP_NONE;
	d->scale = 1.0;
	d->pool_packets = LK_POOL_DEFAULT;
	d->ge_loss_bad = 1.0;
}

static int parse_burst(struct perr *e, const config_setting_t *g, const char *path,
		       struct lk_dir_conf *d)
{
	char p[160];
	bool have_gb = false, have_bg = false;
	int r;

	if (!config_setting_is_group(g))
		return fail(e, g, path, "must be a group { p_good_bad; p_bad_good; loss_bad; }");
	for (int i = 0; i < config_setting_length(g); i++) {
		const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
		const char *n = config_setting_name(s);

		join(p, sizeof(p), path, n);
		if (!strcmp(n, "p_good_bad")) {
			r = get_num(e, s, p, 0, true, 1, &d->ge_p_gb);
			have_gb = true;
		} else if (!strcmp(n, "p_bad_good")) {
			r = get_num(e, s, p, 0, true, 1, &d->ge_p_bg);
			have_bg = true;
		} else if (!strcmp(n, "loss_bad")) {
			r = get_num(e, s, p, 0, false, 1, &d->ge_loss_bad);
		} else if (!strcmp(n, "loss_good")) {
			r = get_num(e, s, p, 0, false, 1, &d->ge_loss_good);
		} else {
			r = fail(e, s, p,
				 "unknown setting (p_good_bad, p_bad_good, loss_bad, "
				 "loss_good)");
		}
		if (r)
			return r;
	}
	if (!have_gb || !have_bg)
		return fail(e, g, path, "needs both p_good_bad and p_bad_good");
	d->ge = true;
	return 0;
}

static int parse_dir(struct perr *e, const config_setting_t *g, const char *path,
		     struct lk_dir_conf *d, bool load_traces)
{
	const config_setting_t *trace = NULL, *rate = NULL, *qp = NULL;
	char p[160];
	double v;
	int r = 0;

	if (!config_setting_is_group(g))
		return fail(e, g, path, "must be a group { ... }");
	for (int i = 0; i < config_setting_length(g) && !r; i++) {
		const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
		const char *n = config_setting_name(s), *str = NULL;

		join(p, sizeof(p), path, n);
		if (!strcmp(n, "trace")) {
			if (!(r = get_str(e, s, p, &str)) && !*str)
				r = fail(e, s, p, "must not be empty");
			if (!r && !(d->trace_path = strdup(str)))
				r = fail(e, s, p, "out of memory");
			trace = s;
		} else if (!strcmp(n, "rate_mbit")) {
			r = get_num(e, s, p, 0, true, 100000, &d->rate_mbit);
			rate = s;
		} else if (!strcmp(n, "scale")) {
			r = get_num(e, s, p, 0, true, 1000, &d->scale);
		} else if (!strcmp(n, "delay_ms")) {
			r = get_num(e, s, p, 0, false, 60000, &d->delay_ms);
		} else if (!strcmp(n, "jitter_ms")) {
			r = get_num(e, s, p, 0, false, 60000, &d->jitter_ms);
		} else if (!strcmp(n, "jitter")) {
			if (!(r = get_str(e, s, p, &str))) {
				if (!strcmp(str, "uniform"))
					d->jitter_dist = LK_JIT_UNIFORM;
				else if (!strcmp(str, "normal"))
					d->jitter_dist = LK_JIT_NORMAL;
				else
					r = fail(e, s, p, "must be \"uniform\" or \"normal\"");
			}
		} else if (!strcmp(n, "reorder")) {
			if (config_setting_type(s) != CONFIG_TYPE_BOOL)
				r = fail(e, s, p, "must be true or false");
			else
				d->reorder = config_setting_get_bool(s);
		} else if (!strcmp(n, "loss")) {
			r = get_num(e, s, p, 0, false, 1, &d->loss);
		} else if (!strcmp(n, "burst_loss")) {
			r = parse_burst(e, s, p, d);
		} else if (!strcmp(n, "queue_packets")) {
			if (!(r = get_num(e, s, p, 1, false, LK_POOL_MAX, &v)))
				d->queue_packets = (uint32_t)v;
			if (!r && v != (double)d->queue_packets)
				r = fail(e, s, p, "must be a whole number");
			qp = s;
		} else if (!strcmp(n, "queue_ms")) {
			r = get_num(e, s, p, 0, true, 600000, &d->queue_ms);
		} else if (!strcmp(n, "pool_packets")) {
			if (!(r = get_num(e, s, p, 16, false, LK_POOL_MAX, &v)))
				d->pool_packets = (uint32_t)v;
			if (!r && v != (double)d->pool_packets)
				r = fail(e, s, p, "must be a whole number");
		} else {
			r = fail(e, s, p,
				 "unknown setting (trace, rate_mbit, scale, delay_ms, jitter_ms, "
				 "jitter, reorder, loss, burst_loss, queue_packets, queue_ms, "
				 "pool_packets)");
		}
	}
	if (r)
		return r;
	if (trace && rate)
		return fail(e, rate, path, "trace and rate_mbit exclude each other");
	if (qp && d->queue_packets >= d->pool_packets)
		return fail(e, qp, path, "queue_packets must be below pool_packets (%u)",
			    d->pool_packets);
	if (rate)
		d->cap = LK_CAP_RATE;
	if (trace) {
		char terr[512];

		d->cap = LK_CAP_TRACE;
		if (load_traces && lk_trace_load(&d->trace, d->trace_path, terr, sizeof(terr)))
			return fail(e, trace, path, "trace: %s", terr);
		if (!load_traces) {
			/* Fuzzing: a fixed one-opportunity-per-ms trace stands in. */
			if (lk_trace_parse(&d->trace, "1\n", 2, "-", terr, sizeof(terr)))
				return fail(e, trace, path, "trace: %s", terr);
		}
	}
	return 0;
}

static int parse_outages(struct perr *e, const config_setting_t *l, const char *path,
			 struct lk_link_conf *lc)
{
	char p[160];
	int r;

	if (!config_setting_is_list(l) && !config_setting_is_array(l))
		return fail(e, l, path, "must be a list ( { start; duration; }, ... )");
	if (config_setting_length(l) > LK_MAX_OUTAGES)
		return fail(e, l, path, "at most %d outages", LK_MAX_OUTAGES);
	for (int i = 0; i < config_setting_length(l); i++) {
		const config_setting_t *g = config_setting_get_elem(l, (unsigned)i);
		double start = -1, dur = -1;

		index_path(p, sizeof(p), path, i);
		if (!config_setting_is_group(g))
			return fail(e, g, p, "must be a group { start; duration; }");
		for (int k = 0; k < config_setting_length(g); k++) {
			const config_setting_t *s = config_setting_get_elem(g, (unsigned)k);
			const char *n = config_setting_name(s);
			char q[200];

			join(q, sizeof(q), p, n);
			if (!strcmp(n, "start"))
				r = get_num(e, s, q, 0, false, 1e6, &start);
			else if (!strcmp(n, "duration"))
				r = get_num(e, s, q, 0, true, 1e6, &dur);
			else
				r = fail(e, s, q, "unknown setting (start, duration)");
			if (r)
				return r;
		}
		if (start < 0 || dur < 0)
			return fail(e, g, p, "needs start and duration (seconds)");
		lc->outages[i].start_ns = (uint64_t)(start * (double)LK_NS_PER_S);
		lc->outages[i].end_ns =
		    lc->outages[i].start_ns + (uint64_t)(dur * (double)LK_NS_PER_S);
		lc->n_outages++;
	}
	return 0;
}

static int parse_link(struct perr *e, const config_setting_t *g, const char *path,
		      struct lk_link_conf *lc, bool load_traces)
{
	const char *str = NULL;
	char p[160];
	int r = 0;

	if (!config_setting_is_group(g))
		return fail(e, g, path, "must be a group { name; a; b; up; down; }");
	for (int i = 0; i < config_setting_length(g) && !r; i++) {
		const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
		const char *n = config_setting_name(s);

		join(p, sizeof(p), path, n);
		if (!strcmp(n, "name")) {
			if (!(r = get_str(e, s, p, &str)) && !valid_name(str, LK_NAME_MAX, "_.-"))
				r = fail(e, s, p, "1-%d of [A-Za-z0-9_.-]", LK_NAME_MAX - 1);
			if (!r)
				strcpy(lc->name, str);
		} else if (!strcmp(n, "a") || !strcmp(n, "b")) {
			if (!(r = get_str(e, s, p, &str)) &&
			    !valid_name(str, LK_IFNAME_MAX, "_.-@"))
				r = fail(e, s, p, "not an interface name");
			if (!r)
				strcpy(n[0] == 'a' ? lc->a : lc->b, str);
		} else if (!strcmp(n, "up")) {
			r = parse_dir(e, s, p, &lc->dir[LK_UP], load_traces);
		} else if (!strcmp(n, "down")) {
			r = parse_dir(e, s, p, &lc->dir[LK_DOWN], load_traces);
		} else if (!strcmp(n, "outages")) {
			r = parse_outages(e, s, p, lc);
		} else {
			r = fail(e, s, p, "unknown setting (name, a, b, up, down, outages)");
		}
	}
	if (r)
		return r;
	if (!lc->name[0])
		return fail(e, g, path, "needs a name");
	if (!lc->a[0] || !lc->b[0])
		return fail(e, g, path, "needs both interfaces a and b");
	if (!strcmp(lc->a, lc->b))
		return fail(e, g, path, "a and b are the same interface");
	return 0;
}

static int parse_root(struct perr *e, config_t *cfg, struct lk_config *c, bool load_traces)
{
	const config_setting_t *root = config_root_setting(cfg), *links = NULL;
	char p[64];
	int r;

	for (int i = 0; i < config_setting_length(root); i++) {
		const config_setting_t *s = config_setting_get_elem(root, (unsigned)i);
		const char *n = config_setting_name(s);
		double v;

		if (!strcmp(n, "links")) {
			links = s;
		} else if (!strcmp(n, "seed")) {
			if ((r = get_num(e, s, n, 0, false, 9007199254740992.0, &v)))
				return r;
			c->seed = (uint64_t)v;
		} else {
			return fail(e, s, n, "unknown setting (links, seed)");
		}
	}
	if (!links)
		return fail(e, root, "links", "missing: links = ( { name; a; b; ... } )");
	if (!config_setting_is_list(links) && !config_setting_is_array(links))
		return fail(e, links, "links", "must be a list ( { ... }, ... )");
	if (config_setting_length(links) < 1 || config_setting_length(links) > LK_MAX_LINKS)
		return fail(e, links, "links", "1 to %d links", LK_MAX_LINKS);
	for (int i = 0; i < config_setting_length(links); i++) {
		const config_setting_t *g = config_setting_get_elem(links, (unsigned)i);
		struct lk_link_conf *lc = &c->links[i];

		index_path(p, sizeof(p), "links", i);
		c->n_links++;
		if ((r = parse_link(e, g, p, lc, load_traces)))
			return r;
		for (int k = 0; k < i; k++) {
			const struct lk_link_conf *o = &c->links[k];

			if (!strcmp(o->name, lc->name))
				return fail(e, g, p, "duplicate link name \"%s\"", lc->name);
			if (!strcmp(o->a, lc->a) || !strcmp(o->b, lc->a) || !strcmp(o->a, lc->b) ||
			    !strcmp(o->b, lc->b))
				return fail(e, g, p, "interface used by link \"%s\" too", o->name);
		}
	}
	return 0;
}

int lk_profile_parse(struct lk_config *c, const char *text, const char *fname, bool load_traces,
		     char *err, size_t errlen)
{
	struct perr e = {err, errlen, fname};
	config_t cfg;
	int r;

	memset(c, 0, sizeof(*c));
	c->seed = 1;
	for (size_t i = 0; i < LK_MAX_LINKS; i++) {
		lk_dir_conf_default(&c->links[i].dir[LK_UP]);
		lk_dir_conf_default(&c->links[i].dir[LK_DOWN]);
	}
	/* No @include: a profile is one self-contained file (and the fuzzer
	 * must not read files). */
	const char *inc = strstr(text, "@include");
	if (inc) {
		int line = 1;

		for (const char *q = text; q < inc; q++)
			line += *q == '\n';
		snprintf(err, errlen, "%s:%d: syntax: @include is not supported", fname, line);
		lk_profile_free(c);
		return -EINVAL;
	}
	config_init(&cfg);
	if (config_read_string(&cfg, text) != CONFIG_TRUE) {
		snprintf(err, errlen, "%s:%d: syntax: %s", fname, config_error_line(&cfg),
			 config_error_text(&cfg));
		r = -EINVAL;
	} else {
		r = parse_root(&e, &cfg, c, load_traces);
	}
	config_destroy(&cfg);
	if (r)
		lk_profile_free(c);
	return r;
}

int lk_profile_load(struct lk_config *c, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "re");
	char *text = NULL;
	size_t cap = 0;
	ssize_t n;
	int r;

	if (!f) {
		r = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return r;
	}
	/* Read it whole (with NULs rejected by libconfig as syntax). */
	n = getdelim(&text, &cap, '\0', f);
	fclose(f);
	if (n < 0) {
		free(text);
		text = strdup("");
	}
	if (!text) {
		snprintf(err, errlen, "%s: out of memory", path);
		return -ENOMEM;
	}
	r = lk_profile_parse(c, text, path, true, err, errlen);
	free(text);
	return r;
}

void lk_profile_free(struct lk_config *c)
{
	for (size_t i = 0; i < LK_MAX_LINKS; i++) {
		for (int d = 0; d < 2; d++) {
			free(c->links[i].dir[d].trace_path);
			c->links[i].dir[d].trace_path = NULL;
			lk_trace_free(&c->links[i].dir[d].trace);
		}
	}
	c->n_links = 0;
}
