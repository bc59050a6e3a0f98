/* PPP authentication secrets: pppd-style secrets files (chap-secrets /
 * pap-secrets: "client server secret [address ...]") plus entries added in
 * memory from modemd.conf, and the owner callbacks shared by the PAP and
 * CHAP modules (pap.h, chap.h).
 *
 * File syntax is pppd(8)'s (OPTIONS FILES and AUTHENTICATION): words split
 * by whitespace, "..." or '...' quoting, backslash escapes, '#' comments at
 * the start of a word, "*" as client or server matches any name, and the
 * best match (fewest wildcards, client exact before server exact, first in
 * file order on a tie) wins. Secrets are never logged or put in error text. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "buf.h"

#define SECRET_NAME_MAX	    255 /* client / server name, and a PAP password */
#define SECRET_VALUE_MAX    255
#define SECRET_WORD_MAX	    255 /* any word, addresses included */
#define SECRETS_MAX_ADDRS   16
#define SECRETS_MAX_ENTRIES 4096
#define SECRETS_MAX_LINES   65536
#define SECRETS_FILE_MAX    (1024 * 1024)

struct secret {
	char *client;
	char *server;
	char *secret; /* NUL-terminated; a secret never holds a NUL byte */
	size_t secret_len;
	/* Words after the secret, verbatim (pppd's address list: "-" for none,
	 * "*" for any, "!a.b.c.d", "a.b.c.d/n"); interpreted by the owner. */
	char *addrs[SECRETS_MAX_ADDRS];
	size_t n_addrs;
	unsigned line; /* line in its file, 0 for secrets_add() */
};

struct secrets;

struct secrets *secrets_new(void);
/* NULL-safe; wipes every secret before freeing; returns NULL. */
struct secrets *secrets_free(struct secrets *s);

/* Parse secrets-file text (len bytes, need not be NUL-terminated) and append
 * its entries. name is used in error messages ("name:line: why"). All or
 * nothing: on error no entry of this text is kept. Returns the number of
 * entries added or a negative errno (-EINVAL syntax, -E2BIG a bound). */
int secrets_load_string(struct secrets *s, const char *text, size_t len, const char *name,
			char *err, size_t errlen);
/* Load a secrets file. It must be a regular file owned by owner_uid (the
 * daemon passes 0: root) with no group/other permission bits, else -EPERM
 * and an error naming the file and its mode/owner. */
int secrets_load_file(struct secrets *s, const char *path, uid_t owner_uid, char *err,
		      size_t errlen);
/* One entry from memory (modemd.conf). "*" wildcards work as in files. */
int secrets_add(struct secrets *s, const char *client, const char *server, const char *secret);

/* Best entry for (client, server) or NULL. The pointer stays valid until the
 * store is changed or freed. */
const struct secret *secrets_lookup(const struct secrets *s, const char *client,
				    const char *server);
size_t secrets_count(const struct secrets *s);
/* Entry i in load order (0 <= i < count), or NULL. */
const struct secret *secrets_at(const struct secrets *s, size_t i);

/* Callbacks an owner (a link) gives to each PAP/CHAP instance. The modules do
 * no I/O: everything leaves through these. One instance = one timer. */
struct auth_cb {
	/* A packet to send: pkt is the protocol payload (code, id, length, ...)
	 * to be framed with protocol (0xC023 PAP, 0xC223 CHAP). */
	void (*tx)(void *ctx, uint16_t protocol, const uint8_t *pkt, size_t len);
	/* One-shot timer: arming again replaces the deadline. When it fires,
	 * the owner calls pap_timeout()/chap_timeout(). */
	void (*timer_arm)(void *ctx, unsigned ms);
	void (*timer_cancel)(void *ctx);
	/* Outcome. name: the authenticated peer (server role) or the peer's
	 * name as known (client role; may be ""). message: the peer's message
	 * (made printable) or our own reason. The instance may be freed from
	 * inside this callback. */
	void (*result)(void *ctx, bool ok, const char *name, const char *message);
	/* Optional (CHAP server): fill buf with n random bytes, 0 or -errno.
	 * NULL means getrandom(2). */
	int (*random)(void *ctx, uint8_t *buf, size_t n);
	void *ctx;
};

/* Constant-time equality of two byte strings of at most SECRET_VALUE_MAX
 * bytes each (time does not depend on where they differ). */
bool auth_secret_equal(const void *a, size_t alen, const void *b, size_t blen);
/* Copy a peer-supplied message into out (size >= 1), replacing bytes that
 * are not printable ASCII by '?', truncated to fit. */
void auth_printable(char *out, size_t size, const uint8_t *p, size_t n);
/* A name a peer may present: 0..SECRET_NAME_MAX bytes, no control bytes. */
bool auth_name_valid(const uint8_t *p, size_t n);
/* Split a PAP/CHAP packet into code, identifier and the body the Length
 * field covers (bytes past Length are padding, RFC 1661 5). -EBADMSG if the
 * header is short or Length is below 4 or beyond the packet. */
int auth_hdr_parse(const uint8_t *pkt, size_t len, uint8_t *code, uint8_t *id, struct rbuf *body);
