/* mpctl apn IMSI|PLMN: which APN profile modemd would use for a SIM, and why,
 * computed locally from the same databases and config (no daemon needed). */
#include "apn.h"
#include "build-config.h"
#include "commands.h"
#include "config.h"
#include "util.h"

#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DBS 8

static int usage(void)
{
	fprintf(stderr,
		"usage: mpctl apn IMSI|PLMN [--db FILE]... [-c CONFIG] [--iccid ICCID] [--json]\n"
		"                 [--show-secrets]\n"
		"  IMSI (7-15 digits) or PLMN (MCC+MNC, 5 or 6 digits)\n"
		"  --db FILE       database to search, in order; repeatable (default: the\n"
		"                  config's apn_db with -c, else %s/curated.conf then mbpi.conf)\n"
		"  -c CONFIG       apply this modemd.conf's per-SIM and per-PLMN overrides\n"
		"  --iccid ICCID   the SIM's ICCID, for per-SIM overrides\n"
		"  --json          one JSON object on stdout\n"
		"  --show-secrets  print the password instead of <hidden>\n",
		MODEMD_DATADIR);
	return MPCTL_EXIT_USAGE;
}

static bool digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

static const char *secret(const char *pw, bool show)
{
	return pw[0] && !show ? "<hidden>" : pw;
}

static void print_json(const struct apn_profile *p, int r, const char *why, bool show)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "found", json_object_new_boolean(r == 0));
	json_object_object_add(o, "plmn", json_object_new_string(p->plmn));
	if (r == 0) {
		json_object_object_add(o, "provider", json_object_new_string(p->provider));
		json_object_object_add(o, "apn", json_object_new_string(p->apn));
		json_object_object_add(o, "number", json_object_new_string(p->number));
		json_object_object_add(o, "user", json_object_new_string(p->user));
		json_object_object_add(o, "password",
				       json_object_new_string(secret(p->password, show)));
		json_object_object_add(o, "auth",
				       json_object_new_string(apn_auth_to_string(p->auth)));
		json_object_object_add(o, "kind",
				       json_object_new_string(apn_dial_kind_to_string(p->kind)));
		json_object_object_add(o, "source", json_object_new_string(p->source));
	} else {
		json_object_object_add(o, "reason", json_object_new_string(why));
	}
	puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
}

static void print_text(const struct apn_profile *p, bool show)
{
	const char *dash = "-";
	printf("plmn      %s\n", p->plmn);
	printf("provider  %s\n", p->provider[0] ? p->provider : dash);
	printf("apn       %s\n", p->apn[0] ? p->apn : dash);
	printf("number    %s\n", p->number);
	printf("user      %s\n", p->user[0] ? p->user : dash);
	printf("password  %s\n", p->password[0] ? secret(p->password, show) : dash);
	printf("auth      %s\n", apn_auth_to_string(p->auth));
	printf("kind      %s\n", apn_dial_kind_to_string(p->kind));
	printf("source    %s\n", p->source);
}

int cmd_apn(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"db", required_argument, NULL, 'd'},
	    {"config", required_argument, NULL, 'c'},
	    {"iccid", required_argument, NULL, 'i'},
	    {"json", no_argument, NULL, 'j'},
	    {"show-secrets", no_argument, NULL, 'S'},
	    {"help", no_argument, NULL, 'h'},
	    {},
	};
	const char *paths[MAX_DBS], *config_path = NULL, *iccid = NULL;
	size_t n_paths = 0;
	bool json = false, show = false;
	int c;

	optind = 0; /* glibc: full re-initialisation after main's getopt ("+" mode) */
	while ((c = getopt_long(argc, argv, "c:jh", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			if (n_paths == MAX_DBS) {
				fprintf(stderr, "mpctl apn: at most %d --db files\n", MAX_DBS);
				return MPCTL_EXIT_USAGE;
			}
			paths[n_paths++] = optarg;
			break;
		case 'c':
			config_path = optarg;
			break;
		case 'i':
			iccid = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'S':
			show = true;
			break;
		default:
			return usage();
		}
	}
	if (optind + 1 != argc)
		return usage();
	const char *arg = argv[optind];
	size_t len = strlen(arg);
	if (!digits(arg) || len < 5 || len > 15) {
		fprintf(stderr,
			"mpctl apn: \"%s\" is neither an IMSI (7-15 digits) nor a PLMN "
			"(5 or 6 digits)\n",
			arg);
		return MPCTL_EXIT_USAGE;
	}
	const char *imsi = len >= 7 ? arg : NULL, *plmn = len <= 6 ? arg : NULL;

	struct config cfg;
	bool have_cfg = false;
	char err[512], why[256], defaults[2][CFG_PATH_MAX];
	struct apn_db *dbs[MAX_DBS] = {0};
	size_t n_dbs = 0;
	int ret = MPCTL_EXIT_FAILURE;

	if (config_path) {
		if (config_load_file(&cfg, config_path, err, sizeof(err)) < 0) {
			fprintf(stderr, "mpctl apn: %s\n", err);
			return MPCTL_EXIT_FAILURE;
		}
		have_cfg = true;
		/* Search what the daemon would search with this config. */
		for (size_t i = 0; !n_paths && i < cfg.n_apn_db && i < MAX_DBS; i++)
			paths[i] = cfg.apn_db[i];
		if (!n_paths)
			n_paths = cfg.n_apn_db < MAX_DBS ? cfg.n_apn_db : MAX_DBS;
	}
	if (!n_paths) {
		snprintf(defaults[0], sizeof(defaults[0]), "%s/curated.conf", MODEMD_DATADIR);
		snprintf(defaults[1], sizeof(defaults[1]), "%s/mbpi.conf", MODEMD_DATADIR);
		paths[0] = defaults[0];
		paths[1] = defaults[1];
		n_paths = 2;
	}
	for (size_t i = 0; i < n_paths; i++) {
		dbs[n_dbs] = apn_db_load(paths[i], err, sizeof(err));
		if (!dbs[n_dbs]) {
			fprintf(stderr, "mpctl apn: %s\n", err);
			goto out;
		}
		n_dbs++;
	}

	struct apn_profile p;
	int r = apn_resolve(have_cfg ? &cfg : NULL, dbs, n_dbs, iccid, imsi, plmn, &p, why,
			    sizeof(why));
	if (r == -EINVAL) {
		fprintf(stderr, "mpctl apn: %s\n", why);
		ret = MPCTL_EXIT_USAGE;
		goto out;
	}
	if (json)
		print_json(&p, r, why, show);
	else if (r == 0)
		print_text(&p, show);
	if (r < 0)
		fprintf(stderr, "mpctl apn: %s\n", why);
	ret = r == 0 ? MPCTL_EXIT_OK : MPCTL_EXIT_FAILURE;
out:
	for (size_t i = 0; i < n_dbs; i++)
		apn_db_free(dbs[i]);
	if (have_cfg)
		config_release(&cfg);
	return ret;
}
