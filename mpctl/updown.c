/* mpctl up|down [MODEM|all]: administrative state, kept by modemd until
 * changed (also across replug and restart). */
#include "client.h"
#include "commands.h"

#include <stdio.h>
#include <string.h>

static int set_admin(int argc, char **argv, const char *verb)
{
	if (argc > 2 || (argc == 2 && (argv[1][0] == '-' || !argv[1][0]))) {
		fprintf(stderr, "usage: mpctl %s [MODEM|all]\n", verb);
		return MPCTL_EXIT_USAGE;
	}
	const char *target = argc == 2 ? argv[1] : "all";
	json_object *reply;
	int r = client_call(verb, target, &reply);
	if (r != MPCTL_EXIT_OK)
		return r;
	json_object *done = json_get(reply, "modems");
	size_t n =
	    done && json_object_is_type(done, json_type_array) ? json_object_array_length(done) : 0;
	for (size_t i = 0; i < n; i++)
		printf("%s: %s\n", json_object_get_string(json_object_array_get_idx(done, i)),
		       verb);
	if (!n && strcmp(target, "all") == 0)
		printf("no modems\n");
	json_object_put(reply);
	return MPCTL_EXIT_OK;
}

int cmd_up(int argc, char **argv)
{
	return set_admin(argc, argv, "up");
}

int cmd_down(int argc, char **argv)
{
	return set_admin(argc, argv, "down");
}
