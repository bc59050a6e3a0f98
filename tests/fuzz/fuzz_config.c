/* Fuzz the config loader. Whatever it accepts must print, and the print must
 * parse again to the same value (same normalised text), so the printer and
 * the parser can never drift apart. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

/* libconfig 1.5's parser leaks a string token when a syntax error follows it
 * (no bison %destructor); that is libconfig's, bounded per failed parse. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
	return "leak:strbuf_append\nleak:libconfig_yylex\n";
}

static char *print(const struct config *c)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		abort();
	if (config_print(c, f, true) < 0)
		abort();
	fclose(f);
	return buf;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512], *text = malloc(size + 1);
	struct config c, again;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = 0;
	if (config_load_string(&c, text, "fuzz.conf", err, sizeof(err)) < 0) {
		/* Every refusal says where. */
		if (strncmp(err, "fuzz.conf", 9) != 0)
			abort();
		config_release(&c);
		free(text);
		return 0;
	}
	char *once = print(&c);
	if (config_load_string(&again, once, "fuzz.conf", err, sizeof(err)) < 0) {
		fprintf(stderr, "printed config does not parse: %s\n%s\n", err, once);
		abort();
	}
	char *twice = print(&again);
	if (strcmp(strchr(once, '\n'), strchr(twice, '\n')) != 0) {
		fprintf(stderr, "round trip differs:\n%s\n---\n%s\n", once, twice);
		abort();
	}
	(void)config_has_secrets(&c);
	for (size_t i = 0; i < c.n_sims; i++)
		if (config_find_sim(&c, c.sims[i].iccid) != &c.sims[i])
			abort();
	for (size_t i = 0; i < c.n_plmns; i++)
		if (config_find_plmn(&c, c.plmns[i].plmn) != &c.plmns[i])
			abort();
	for (size_t i = 0; i < c.n_models; i++)
		if (config_find_model(&c, c.models[i].vid, c.models[i].pid) != &c.models[i])
			abort();
	free(once);
	free(twice);
	config_release(&c);
	config_release(&again);
	free(text);
	return 0;
}
