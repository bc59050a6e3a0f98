/* mpctl: command-line client of modemd. This file is only the dispatch
 * table; each verb lives in its own file. */
#include "build-config.h"
#include "client.h"
#include "commands.h"
#include "util.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmd_help(int argc, char **argv);

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *args;
	const char *description;
} commands[] = {
    {"status", cmd_status, "[--json]", "show every modem (table, or the daemon's JSON)"},
    {"up", cmd_up, "[MODEM|all]", "administratively enable a modem (default all)"},
    {"down", cmd_down, "[MODEM|all]", "hang up and keep a modem down (default all)"},
    {"apn", cmd_apn, "IMSI|PLMN [--db FILE]", "show the APN profile that would be used, and why"},
    {"version", cmd_version, "", "show mpctl's and modemd's versions"},
    {"help", cmd_help, "", "show this help"},
};

static void usage(FILE *f)
{
	fprintf(f, "usage: mpctl [-s SOCKET] COMMAND [ARGS]\n\ncommands:\n");
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++) {
		char left[64];
		snprintf(left, sizeof(left), "%s %s", commands[i].name, commands[i].args);
		fprintf(f, "  %-30s %s\n", left, commands[i].description);
	}
	fprintf(f,
		"\noptions:\n"
		"  -s, --socket SOCKET  control socket (default $MODEMD_SOCKET, else %s)\n",
		MODEMD_DEFAULT_SOCKET);
}

static int cmd_help(int argc, char **argv)
{
	usage(stdout);
	printf("\nexit codes:\n"
	       "  0   success\n"
	       "  1   modemd refused or failed the request (message on stderr)\n"
	       "  2   unknown modem\n"
	       "  3   modemd is not running (no socket, or nothing listening on it)\n"
	       "  4   permission denied on the socket (need root or group modemd)\n"
	       "  5   no reply within %d s, or a reply mpctl cannot read\n"
	       "  64  usage error\n",
	       CLIENT_TIMEOUT_MS / 1000);
	return MPCTL_EXIT_OK;
}

#ifdef MPCTL_NO_APN
/* mpctl/apn.c is not in this tree yet. */
int cmd_apn(int argc, char **argv)
{
	fprintf(stderr, "mpctl: apn: not built into this mpctl\n");
	return MPCTL_EXIT_FAILURE;
}
#endif

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"socket", required_argument, NULL, 's'},
	    {"help", no_argument, NULL, 'h'},
	    {},
	};
	int c;
	/* '+': options end at the command; the rest belongs to it. */
	while ((c = getopt_long(argc, argv, "+s:h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			/* The client reads the socket from the environment: -s wins over an
			 * inherited MODEMD_SOCKET, without a global. */
			if (setenv("MODEMD_SOCKET", optarg, 1) < 0) {
				perror("mpctl: setenv");
				return MPCTL_EXIT_FAILURE;
			}
			break;
		case 'h':
			return cmd_help(0, NULL);
		default:
			usage(stderr);
			return MPCTL_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return MPCTL_EXIT_USAGE;
	}
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (strcmp(argv[optind], commands[i].name) == 0)
			return commands[i].fn(argc - optind, argv + optind);
	fprintf(stderr, "mpctl: unknown command \"%s\" (see mpctl help)\n", argv[optind]);
	return MPCTL_EXIT_USAGE;
}
