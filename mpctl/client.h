/* One request, one reply over modemd's control socket. */
#pragma once
#include <json-c/json.h>

/* Seconds to wait for connect, send and the whole reply. */
#define CLIENT_TIMEOUT_MS 5000
/* A reply longer than this is not one modemd sends. */
#define CLIENT_REPLY_MAX (4u << 20)

/* The socket: MODEMD_SOCKET from the environment (mpctl -s sets it), else
 * the compiled-in default. */
const char *client_socket_path(void);

/* Send {"version":1,"command":command[,"modem":modem]} and wait for the
 * reply. On success *reply holds the reply object (ok true) and 0 is
 * returned. Otherwise a message has been printed to stderr and an mpctl exit
 * code is returned (daemon not running, permission, unknown modem, ...). */
int client_call(const char *command, const char *modem, json_object **reply);

/* Field access that tolerates absent or null members. */
const char *json_str(json_object *o, const char *key);
json_object *json_get(json_object *o, const char *key);
