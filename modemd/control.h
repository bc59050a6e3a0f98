/* Control socket: UNIX stream, mode 0660, one JSON request per line, one
 * JSON reply per line (protocol in docs/control-protocol.md). The daemon
 * returns data; mpctl renders it. */
#pragma once

struct daemon;
struct control;

#define CONTROL_PROTOCOL_VERSION 1
/* A request line (without its newline) must be shorter than this. */
#define CONTROL_REQUEST_MAX 4096
/* Connections beyond this get one error reply and are closed. */
#define CONTROL_CLIENTS_MAX 32

/* Listen on path (stale socket replaced only when nobody answers on it),
 * mode 0660, owned by group when group is non-empty. path NULL: no listener,
 * clients only through control_adopt() (tests, fuzzing). On failure returns
 * NULL and sets *err to a negative errno. */
struct control *control_open(struct daemon *d, const char *path, const char *group, int *err);
/* Closes every client and the listener, unlinks the socket. NULL-safe. */
struct control *control_close(struct control *c);
/* Serve an already connected stream socket (ownership passes to c, also on
 * failure). Returns 0, or -EBUSY when CONTROL_CLIENTS_MAX are connected (the
 * peer got an error reply). */
int control_adopt(struct control *c, int fd);
