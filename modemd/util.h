/* Small helpers shared by all subsystems. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Copy with truncation, always NUL-terminated; returns -ENAMETOOLONG when cut. */
int strlcpy_checked(char *dst, const char *src, size_t size);
/* Milliseconds on CLOCK_MONOTONIC / CLOCK_REALTIME. */
uint64_t now_ms(void);
uint64_t wall_ms(void);
/* Free and NULL; NULL-safe. */
#define freep(p)                                                                                   \
	({                                                                                         \
		free(*(p));                                                                        \
		*(p) = NULL;                                                                       \
	})
/* Write a whole buffer to a file created with the given mode (O_EXCL not used;
 * the file is replaced atomically via rename). Returns 0 or -errno. */
int write_file_atomic(const char *path, const void *buf, size_t len, unsigned mode);
/* mkdir -p with a mode for created components. */
int mkdir_p(const char *path, unsigned mode);

/* Rate limit for log lines a stranger can trigger: at most per_sec lines per
 * second per instance (one instance per kind of event). After a quiet
 * second, `missed` holds how many were suppressed in the last window. */
struct ratelimit {
	uint64_t window_ms;
	unsigned count;
	unsigned suppressed;
	unsigned missed;
};
bool ratelimit_ok(struct ratelimit *rl, uint64_t now, unsigned per_sec);
