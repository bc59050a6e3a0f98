/* Fuzz the AT line assembler, the classifier and every information parser.
 * Input: byte 0 picks the read size (split reads), byte 1 the pending
 * command; the rest is what the modem "sent". Each line is also classified
 * with the previous line as the pending command, so arbitrary command
 * strings reach the reply-prefix logic. */
#include "at_info.h"
#include "at_parse.h"

#include <stdint.h>
#include <string.h>

static const char *const pending_cmds[] = {
    NULL,
    "AT",
    "AT+CPIN?",
    "AT+CREG?",
    "AT+CEREG?",
    "AT+CSQ",
    "AT+CPSI?",
    "AT+CGSN",
    "AT+CICCID",
    "AT+COPS=3,2;+COPS?",
    "ATI",
    "AT+CPIN=\"1234\"",
    "AT+CREG=2",
    "ATD*99#",
    "AT+CGDCONT=1,\"IP\",\"3GNET\"",
};

static void parse_all(const char *s)
{
	enum at_sim_state sim;
	struct at_reg reg;
	struct at_signal sig = {0};
	char buf[64], tiny[4], red[AT_LINE_MAX + 1];
	int act;

	at_parse_cpin(s, &sim);
	at_parse_reg(s, 0, &reg);
	at_parse_reg(s, 1, &reg);
	at_parse_reg(s, -1, &reg);
	at_parse_csq(s, &sig);
	at_parse_cpsi(s, &sig);
	at_parse_cops(s, buf, sizeof(buf), &act);
	at_parse_cops(s, tiny, sizeof(tiny), &act);
	at_parse_iccid(s, buf, sizeof(buf));
	at_parse_iccid(s, tiny, sizeof(tiny));
	at_parse_digits(s, buf, sizeof(buf));
	at_parse_digits(s, tiny, sizeof(tiny));
	at_redact(s, red, sizeof(red));
	at_redact(s, tiny, sizeof(tiny));
	at_connect_rate(s);
	at_cme_from_string(s);
	/* The outputs must be strings. */
	(void)strlen(sig.sysmode);
	(void)strlen(sig.plmn);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char prev[AT_LINE_MAX + 1];
	struct at_lines a;
	enum at_result res;
	int err;

	if (size < 2)
		return 0;
	size_t chunk = 1 + data[0] % 64;
	const char *pending =
	    pending_cmds[data[1] % (sizeof(pending_cmds) / sizeof(pending_cmds[0]))];
	data += 2;
	size -= 2;

	/* Raw input as one string: parsers must cope with what the assembler
	 * would have filtered out. */
	char whole[1024];
	size_t n = size < sizeof(whole) - 1 ? size : sizeof(whole) - 1;
	memcpy(whole, data, n);
	whole[n] = '\0';
	parse_all(whole);

	at_lines_init(&a);
	prev[0] = '\0';
	for (size_t off = 0; off < size;) {
		size_t len = size - off < chunk ? size - off : chunk;
		const char *line;
		size_t used = at_lines_push(&a, data + off, len, &line);
		if (used == 0 || used > len)
			__builtin_trap();
		off += used;
		if (!line)
			continue;
		if (!*line || strlen(line) > AT_LINE_MAX)
			__builtin_trap();
		at_classify(line, pending, &res, &err);
		at_classify(line, prev[0] ? prev : NULL, &res, &err);
		parse_all(line);
		memcpy(prev, line, strlen(line) + 1);
	}
	return 0;
}
