/* Fuzz the secrets-file parser through its string loader. A refusal must
 * say where (name:line), never keep part of the text, and an accepted text
 * must give entries that look themselves up. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "secrets.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256];
	struct secrets *s = secrets_new();
	int r;

	if (!s)
		return 0;
	r = secrets_load_string(s, (const char *)data, size, "fuzz", err, sizeof(err));
	if (r < 0) {
		if (strncmp(err, "fuzz", 4) != 0 || secrets_count(s) != 0)
			abort();
		secrets_free(s);
		return 0;
	}
	if ((size_t)r != secrets_count(s) || secrets_count(s) > SECRETS_MAX_ENTRIES)
		abort();
	for (size_t i = 0; i < secrets_count(s); i++) {
		const struct secret *e = secrets_at(s, i);
		if (strlen(e->client) > SECRET_NAME_MAX || strlen(e->server) > SECRET_NAME_MAX ||
		    strlen(e->secret) != e->secret_len || e->secret_len > SECRET_VALUE_MAX ||
		    e->n_addrs > SECRETS_MAX_ADDRS || e->line == 0)
			abort();
		/* Its own names find an entry at least as good (maybe an
		 * earlier one with the same names). */
		const struct secret *f = secrets_lookup(s, e->client, e->server);
		if (!f)
			abort();
	}
	secrets_free(s);
	return 0;
}
