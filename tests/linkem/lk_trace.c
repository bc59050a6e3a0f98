/* Mahimahi trace files: one decimal millisecond timestamp per line, each an
 * opportunity for 1500 bytes to leave the queue; non-decreasing; the file
 * repeats with its last timestamp as the period (as mm-link does). */
#include "lk.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define LK_TRACE_MAX_LINES (64u << 20)
#define LK_TRACE_MAX_MS	   (1000u * 86400u * 7u) /* a week */

int lk_trace_parse(struct lk_trace *t, const char *buf, size_t len, const char *name, char *err,
		   size_t errlen)
{
	size_t cap = 0, line = 1, i = 0;
	uint32_t *ts = NULL;

	memset(t, 0, sizeof(*t));
	while (i < len) {
		uint64_t v = 0;
		size_t digits = 0;

		/* Blank lines (and a trailing CR) are tolerated, nothing else. */
		while (i < len && (buf[i] == ' ' || buf[i] == '\t'))
			i++;
		while (i < len && buf[i] >= '0' && buf[i] <= '9') {
			v = v * 10 + (uint64_t)(buf[i] - '0');
			if (v > LK_TRACE_MAX_MS) {
				snprintf(err, errlen, "%s:%zu: timestamp too large (max %u ms)",
					 name, line, LK_TRACE_MAX_MS);
				goto fail;
			}
			digits++;
			i++;
		}
		while (i < len && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\r'))
			i++;
		if (i < len && buf[i] != '\n') {
			snprintf(err, errlen, "%s:%zu: expected a millisecond timestamp", name,
				 line);
			goto fail;
		}
		if (digits) {
			if (t->n && v < ts[t->n - 1]) {
				snprintf(err, errlen, "%s:%zu: timestamp %llu goes back (after %u)",
					 name, line, (unsigned long long)v, ts[t->n - 1]);
				goto fail;
			}
			if (t->n == cap) {
				size_t ncap = cap ? cap * 2 : 1024;
				uint32_t *nts;

				if (ncap > LK_TRACE_MAX_LINES) {
					snprintf(err, errlen, "%s:%zu: too many lines", name, line);
					goto fail;
				}
				nts = realloc(ts, ncap * sizeof(*ts));
				if (!nts) {
					snprintf(err, errlen, "%s: out of memory", name);
					goto fail;
				}
				ts = nts;
				cap = ncap;
			}
			ts[t->n++] = (uint32_t)v;
		}
		if (i < len) {
			i++; /* '\n' */
			line++;
		}
	}
	if (!t->n) {
		snprintf(err, errlen, "%s:%zu: no timestamps in trace", name, line);
		goto fail;
	}
	if (ts[t->n - 1] == 0) {
		snprintf(err, errlen, "%s:%zu: last timestamp must be > 0 (it is the period)", name,
			 line);
		goto fail;
	}
	t->ts_ms = ts;
	t->period_ms = ts[t->n - 1];
	return 0;
fail:
	free(ts);
	memset(t, 0, sizeof(*t));
	return -EINVAL;
}

int lk_trace_load(struct lk_trace *t, const char *path, char *err, size_t errlen)
{
	struct stat sb;
	char *buf = NULL;
	size_t got = 0;
	int fd, r = -EIO;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return r;
	}
	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		goto out;
	}
	buf = malloc((size_t)sb.st_size + 1);
	if (!buf) {
		r = -ENOMEM;
		snprintf(err, errlen, "%s: out of memory", path);
		goto out;
	}
	while (got < (size_t)sb.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)sb.st_size - got);

		if (n <= 0) {
			snprintf(err, errlen, "%s: read failed", path);
			goto out;
		}
		got += (size_t)n;
	}
	r = lk_trace_parse(t, buf, got, path, err, errlen);
out:
	free(buf);
	close(fd);
	return r;
}

void lk_trace_free(struct lk_trace *t)
{
	free(t->ts_ms);
	memset(t, 0, sizeof(*t));
}

/* First index i with ts[i] (ns) > x (upper) or >= x (lower). */
static size_t bound(const struct lk_trace *t, uint64_t x_ns, bool upper)
{
	size_t lo = 0, hi = t->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		uint64_t v = (uint64_t)t->ts_ms[mid] * LK_NS_PER_MS;

		if (upper ? v <= x_ns : v < x_ns)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

uint64_t lk_trace_count(const struct lk_trace *t, uint64_t rel_ns)
{
	uint64_t period = t->period_ms * LK_NS_PER_MS;
	uint64_t per = rel_ns / period;

	/* Every earlier period's opportunities are at or before per * period. */
	return per * t->n + bound(t, rel_ns % period, true);
}

uint64_t lk_trace_time(const struct lk_trace *t, uint64_t j)
{
	return (j / t->n) * t->period_ms * LK_NS_PER_MS +
	       (uint64_t)t->ts_ms[j % t->n] * LK_NS_PER_MS;
}

uint64_t lk_trace_first(const struct lk_trace *t, uint64_t rel_ns)
{
	uint64_t period = t->period_ms * LK_NS_PER_MS;
	uint64_t per = rel_ns / period, within = rel_ns % period;

	/* The previous period's last opportunity sits exactly on the boundary. */
	if (within == 0 && per > 0)
		return (per - 1) * t->n + bound(t, period, false);
	return per * t->n + bound(t, within, false);
}
