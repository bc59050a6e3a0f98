/* Fuzz linkem's input parsers (tests/linkem): byte 0 even -> the rest is a
 * Mahimahi trace file, odd -> a libconfig profile (trace files not opened).
 * A trace that parses must satisfy the invariants the engine relies on, and
 * a profile that parses must drive one packet through every direction. */
#include "lk.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void check_trace(const struct lk_trace *t)
{
	if (!t->n || !t->period_ms || t->ts_ms[t->n - 1] != t->period_ms)
		abort();
	for (size_t i = 1; i < t->n; i++)
		if (t->ts_ms[i] < t->ts_ms[i - 1])
			abort();
	/* first() and count() agree with time() around a few instants. */
	for (uint64_t rel = 0; rel < 3 * t->period_ms * LK_NS_PER_MS;
	     rel += t->period_ms * LK_NS_PER_MS / 2 + 1) {
		uint64_t j = lk_trace_first(t, rel);

		if (lk_trace_time(t, j) < rel || (j && lk_trace_time(t, j - 1) >= rel))
			abort();
		uint64_t c = lk_trace_count(t, rel);

		if ((c && lk_trace_time(t, c - 1) > rel) || lk_trace_time(t, c) <= rel)
			abort();
	}
}

static void drive(const struct lk_config *c)
{
	for (size_t i = 0; i < c->n_links; i++) {
		for (int d = 0; d < 2; d++) {
			struct lk_dir_conf dc = c->links[i].dir[d];
			struct lk_dir dir;
			struct lk_pkt *p;
			uint64_t now = 1000;

			dc.pool_packets = 16; /* keep the fuzzer fast */
			if (dc.queue_packets >= dc.pool_packets)
				dc.queue_packets = 8;
			if (lk_dir_init(&dir, &dc, c->seed, now))
				abort();
			for (int k = 0; k < 4 && (p = lk_dir_slot(&dir)); k++)
				lk_dir_ingress(&dir, p, 1514, now, false);
			for (int step = 0; step < 64; step++) {
				uint64_t next = lk_dir_next_event(&dir);

				if (next == LK_NEVER)
					break;
				now = next > now ? next : now;
				lk_dir_advance(&dir, now, false);
				while ((p = lk_dir_due(&dir, now)))
					lk_dir_done(&dir, p, now, true);
			}
			(void)lk_dir_capacity(&dir, now, NULL, 0);
			lk_dir_free(&dir);
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[1024];
	char *text;

	if (size < 1 || size > 65536)
		return 0;
	if (!(data[0] & 1)) {
		struct lk_trace t;

		if (lk_trace_parse(&t, (const char *)data + 1, size - 1, "fuzz", err,
				   sizeof(err)) == 0) {
			check_trace(&t);
			lk_trace_free(&t);
		}
		return 0;
	}
	text = malloc(size);
	if (!text)
		return 0;
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	{
		static struct lk_config c;

		if (lk_profile_parse(&c, text, "fuzz.conf", false, err, sizeof(err)) == 0) {
			drive(&c);
			lk_profile_free(&c);
		}
	}
	free(text);
	return 0;
}
