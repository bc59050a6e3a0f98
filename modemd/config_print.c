/* The config value: built-in defaults, normalised printer, lookups, and the
 * file mode check for configs holding secrets. Parsing is in config.c. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "build-config.h"
#include "config-internal.h"
#include "config.h"
#include "log.h"
#include "util.h"

#define HIDDEN "<hidden>"
/* Where apn-db/ installs its two databases (apn-db/CMakeLists.txt); the
 * curated one wins. */
#define CFG_DEFAULT_APN_CURATED MODEMD_DATADIR "/curated.conf"
#define CFG_DEFAULT_APN_MBPI	MODEMD_DATADIR "/mbpi.conf"

static const struct cfg_model builtin_models[] = {
    {0x1e0e, 0x9001, "SIMCom SIM7100/SIM7600", 2, 3, "AT+CRESET"},
    {0x2c7c, 0x0125, "Quectel EC25/EG25", 2, 3, "AT+CFUN=1,1"},
};

int config_init_defaults(struct config *c)
{
	struct cfg_dial *d = &c->dial;

	memset(c, 0, sizeof(*c));
	c->log_level = LOG_INFO;
	strcpy(c->source, "<defaults>");
	strcpy(c->control_socket, MODEMD_DEFAULT_SOCKET);
	strcpy(c->control_group, "modemd");
	strcpy(c->run_dir, MODEMD_RUNDIR);
	strcpy(c->state_dir, "/var/lib/modemd");
	strcpy(c->apn_db[0], CFG_DEFAULT_APN_CURATED);
	strcpy(c->apn_db[1], CFG_DEFAULT_APN_MBPI);
	c->n_apn_db = 2;
	c->udev = true;

	d->at_timeout_ms = 5000;
	d->registration_timeout_ms = 90000;
	d->backoff_initial_ms = 2000;
	d->backoff_max_ms = 300000;
	d->reset_after_failures = 4;
	d->signal_refresh_ms = 30000;
	d->connect_timeout_ms = 60000;
	d->lcp_echo_interval = 10;
	d->lcp_echo_failure = 3;
	d->baud = 115200;
	strcpy(d->pppd_path, MODEMD_PPPD_PATH);
	strcpy(d->chat_path, MODEMD_CHAT_PATH);
	strcpy(d->chat_dir, MODEMD_DATADIR "/chat");
	strcpy(d->ifname_prefix, "ppp-");
	strcpy(d->pppd_extra[0], "noccp");
	d->n_pppd_extra = 1;

	c->models = malloc(sizeof(builtin_models));
	if (!c->models)
		return -ENOMEM;
	memcpy(c->models, builtin_models, sizeof(builtin_models));
	c->n_models = ARRAY_SIZE(builtin_models);
	config_bundle_defaults(c);
	return 0;
}

void config_release(struct config *c)
{
	if (!c)
		return;
	freep(&c->models);
	freep(&c->static_modems);
	freep(&c->sims);
	freep(&c->plmns);
	c->n_models = c->n_static_modems = c->n_sims = c->n_plmns = 0;
	config_bundle_release(c);
}

/* A libconfig string literal. Control characters never get this far (the
 * parser refuses them), so only '"' and '\' need escaping. */
static void put_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

static void put_kv(FILE *f, const char *indent, const char *key, const char *v)
{
	fprintf(f, "%s%s = ", indent, key);
	put_str(f, v);
	fputs(";\n", f);
}

static void put_secret(FILE *f, const char *indent, const char *key, const char *v, bool show)
{
	put_kv(f, indent, key, show || !v[0] ? v : HIDDEN);
}

static void put_strings(FILE *f, const char *indent, const char *key, const char *a, size_t size,
			size_t n)
{
	fprintf(f, "%s%s = [", indent, key);
	for (size_t i = 0; i < n; i++) {
		fputs(i ? ", " : " ", f);
		put_str(f, a + i * size);
	}
	fputs(" ];\n", f);
}

static void put_apn(FILE *f, const struct apn_profile *a, bool show)
{
	const char *in = "\t\t";

	put_kv(f, in, "apn", a->apn);
	put_kv(f, in, "number", a->number);
	put_kv(f, in, "user", a->user);
	put_secret(f, in, "password", a->password, show);
	put_kv(f, in, "auth", apn_auth_to_string(a->auth));
	put_kv(f, in, "kind", apn_dial_kind_to_string(a->kind));
}

int config_print(const struct config *c, FILE *f, bool show_secrets)
{
	const struct cfg_dial *d = &c->dial;

	fprintf(f, "# modemd configuration, normalised from %s\n", c->source);
	put_kv(f, "", "log_level", log_level_to_string(c->log_level));
	put_kv(f, "", "control_socket", c->control_socket);
	put_kv(f, "", "control_group", c->control_group);
	put_kv(f, "", "run_dir", c->run_dir);
	put_kv(f, "", "state_dir", c->state_dir);
	fprintf(f, "udev = %s;\n", c->udev ? "true" : "false");
	put_strings(f, "", "apn_db", c->apn_db[0], sizeof(c->apn_db[0]), c->n_apn_db);

	fputs("\ndial = {\n", f);
	fprintf(f, "\tat_timeout = %u;\n", d->at_timeout_ms);
	fprintf(f, "\tregistration_timeout = %u;\n", d->registration_timeout_ms);
	fprintf(f, "\tbackoff_initial = %u;\n", d->backoff_initial_ms);
	fprintf(f, "\tbackoff_max = %u;\n", d->backoff_max_ms);
	fprintf(f, "\treset_after_failures = %u;\n", d->reset_after_failures);
	fprintf(f, "\tsignal_refresh = %u;\n", d->signal_refresh_ms);
	fprintf(f, "\tconnect_timeout = %u;\n", d->connect_timeout_ms);
	fprintf(f, "\tlcp_echo_interval = %u;\n", d->lcp_echo_interval);
	fprintf(f, "\tlcp_echo_failure = %u;\n", d->lcp_echo_failure);
	fprintf(f, "\tbaud = %u;\n", d->baud);
	put_kv(f, "\t", "pppd", d->pppd_path);
	put_kv(f, "\t", "chat", d->chat_path);
	put_kv(f, "\t", "chat_dir", d->chat_dir);
	put_kv(f, "\t", "ifname_prefix", d->ifname_prefix);
	put_strings(f, "\t", "pppd_options", d->pppd_extra[0], sizeof(d->pppd_extra[0]),
		    d->n_pppd_extra);
	fputs("};\n", f);

	fputs("\nmodels = (", f);
	for (size_t i = 0; i < c->n_models; i++) {
		const struct cfg_model *m = &c->models[i];
		fprintf(f, "%s\n\t{\n\t\tvid = 0x%04x;\n\t\tpid = 0x%04x;\n", i ? "," : "", m->vid,
			m->pid);
		put_kv(f, "\t\t", "name", m->name);
		fprintf(f, "\t\tat_interface = %d;\n\t\tppp_interface = %d;\n", m->at_interface,
			m->ppp_interface);
		put_kv(f, "\t\t", "reset", m->reset_cmd);
		fputs("\t}", f);
	}
	fputs(c->n_models ? "\n);\n\nmodems = (" : " );\n\nmodems = (", f);
	for (size_t i = 0; i < c->n_static_modems; i++) {
		const struct cfg_static_modem *m = &c->static_modems[i];
		fprintf(f, "%s\n\t{\n", i ? "," : "");
		put_kv(f, "\t\t", "name", m->name);
		put_kv(f, "\t\t", "at_port", m->at_port);
		put_kv(f, "\t\t", "ppp_port", m->ppp_port);
		if (m->reset_cmd[0])
			put_kv(f, "\t\t", "reset", m->reset_cmd);
		fputs("\t}", f);
	}
	fputs(c->n_static_modems ? "\n);\n\nsims = (" : " );\n\nsims = (", f);
	for (size_t i = 0; i < c->n_sims; i++) {
		const struct cfg_sim *s = &c->sims[i];
		fprintf(f, "%s\n\t{\n", i ? "," : "");
		put_kv(f, "\t\t", "iccid", s->iccid);
		if (s->pin[0])
			put_secret(f, "\t\t", "pin", s->pin, show_secrets);
		if (s->has_apn)
			put_apn(f, &s->apn, show_secrets);
		fputs("\t}", f);
	}
	fputs(c->n_sims ? "\n);\n\nplmns = (" : " );\n\nplmns = (", f);
	for (size_t i = 0; i < c->n_plmns; i++) {
		fprintf(f, "%s\n\t{\n", i ? "," : "");
		put_kv(f, "\t\t", "plmn", c->plmns[i].plmn);
		put_apn(f, &c->plmns[i].apn, show_secrets);
		fputs("\t}", f);
	}
	fputs(c->n_plmns ? "\n);\n" : " );\n", f);
	config_bundle_print(c, f, show_secrets);
	return ferror(f) ? -EIO : 0;
}

bool config_has_secrets(const struct config *c)
{
	for (size_t i = 0; i < c->n_sims; i++)
		if (c->sims[i].pin[0] || c->sims[i].apn.password[0])
			return true;
	for (size_t i = 0; i < c->n_plmns; i++)
		if (c->plmns[i].apn.password[0])
			return true;
	return config_bundle_has_secrets(c);
}

int config_check_file_mode(const struct config *c, const char *path, char *err, size_t len)
{
	struct stat st;

	if (!config_has_secrets(c))
		return 0;
	if (stat(path, &st) < 0) {
		int r = -errno;
		snprintf(err, len, "%s: %s", path, strerror(-r));
		return r;
	}
	if (st.st_mode & (S_IRGRP | S_IROTH)) {
		snprintf(
		    err, len,
		    "%s: holds secrets (SIM PIN, APN password or PPP secret) but is readable by %s "
		    "(mode %04o); run: chmod 600 %s",
		    path, st.st_mode & S_IROTH ? "others" : "its group",
		    (unsigned)(st.st_mode & 07777), path);
		return -EPERM;
	}
	return 0;
}

const struct cfg_model *config_find_model(const struct config *c, unsigned vid, unsigned pid)
{
	for (size_t i = 0; i < c->n_models; i++)
		if (c->models[i].vid == vid && c->models[i].pid == pid)
			return &c->models[i];
	return NULL;
}

const struct cfg_sim *config_find_sim(const struct config *c, const char *iccid)
{
	for (size_t i = 0; iccid && i < c->n_sims; i++)
		if (strcmp(c->sims[i].iccid, iccid) == 0)
			return &c->sims[i];
	return NULL;
}

/* ---- for config_bundle.c (config-internal.h) ---- */

void cfg_put_str(FILE *f, const char *s)
{
	put_str(f, s);
}

void cfg_put_kv(FILE *f, const char *indent, const char *key, const char *v)
{
	put_kv(f, indent, key, v);
}

void cfg_put_secret(FILE *f, const char *indent, const char *key, const char *v, bool show)
{
	put_secret(f, indent, key, v, show);
}

const struct cfg_plmn *config_find_plmn(const struct config *c, const char *plmn)
{
	for (size_t i = 0; plmn && i < c->n_plmns; i++)
		if (strcmp(c->plmns[i].plmn, plmn) == 0)
			return &c->plmns[i];
	return NULL;
}
