/* mpctl version: this program's version and the running daemon's. */
#include "build-config.h"
#include "client.h"
#include "commands.h"

#include <stdio.h>

int cmd_version(int argc, char **argv)
{
	if (argc != 1) {
		fprintf(stderr, "usage: mpctl version\n");
		return MPCTL_EXIT_USAGE;
	}
	printf("mpctl %s\n", MODEMD_VERSION);
	fflush(stdout);
	json_object *reply;
	int r = client_call("version", NULL, &reply);
	if (r != MPCTL_EXIT_OK)
		return r;
	json_object *p = json_get(reply, "protocol");
	const char *v = json_str(reply, "modemd");
	printf("modemd %s (protocol %d)\n", v ? v : "?", p ? json_object_get_int(p) : 0);
	json_object_put(reply);
	return MPCTL_EXIT_OK;
}
