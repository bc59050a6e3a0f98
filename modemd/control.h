/* Control socket: UNIX stream, mode 0660, one JSON request per line, one
 * JSON reply per line (protocol in docs/control-protocol.md). The daemon
 * returns data; mpctl renders it. */
#pragma once

struct daemon;
struct control;

#define CONTROL_PROTOCOL_VERSION 1

struct control *control_open(struct daemon *d, const char *path, const char *group, int *err);
struct control *control_close(struct control *c);
