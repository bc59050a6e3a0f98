/* mpctl subcommands: one file per verb, each int cmd_x(argc, argv) with
 * argv[0] the verb itself, returning an exit code (see exit codes below and
 * docs/control-protocol.md). */
#pragma once

/* Exit codes, stable for scripts. */
enum mpctl_exit {
	MPCTL_EXIT_OK = 0,
	MPCTL_EXIT_FAILURE = 1,	    /* the daemon refused or failed the request */
	MPCTL_EXIT_NO_MODEM = 2,    /* unknown modem name */
	MPCTL_EXIT_NOT_RUNNING = 3, /* no socket, or nobody listening on it */
	MPCTL_EXIT_PERMISSION = 4,  /* not allowed to connect to the socket */
	MPCTL_EXIT_PROTOCOL = 5,    /* no reply in time, or a reply we cannot read */
	MPCTL_EXIT_USAGE = 64,	    /* bad command line (sysexits EX_USAGE) */
};

int cmd_status(int argc, char **argv);
int cmd_up(int argc, char **argv);
int cmd_down(int argc, char **argv);
int cmd_apn(int argc, char **argv);
int cmd_version(int argc, char **argv);
