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
#define freep(p) ({ free(*(p)); *(p) = NULL; })
/* Write a whole buffer to a file created with the given mode (O_EXCL not used;
 * the file is replaced atomically via rename). Returns 0 or -errno. */
int write_file_atomic(const char *path, const void *buf, size_t len, unsigned mode);
/* mkdir -p with a mode for created components. */
int mkdir_p(const char *path, unsigned mode);
