/* Logging: levels are syslog's (LOG_ERR..LOG_DEBUG). Under systemd (stderr is
 * the journal) each line carries a "<N>" priority prefix; otherwise plain
 * "modemd: level: text". */
#pragma once
#include <syslog.h>

void log_set_level(int level);
int log_get_level(void);
/* Parse "error|warning|notice|info|debug"; returns level or -EINVAL. */
int log_level_from_string(const char *s);
const char *log_level_to_string(int level);
void log_set_ident(const char *ident);
void log_msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_err(...)   log_msg(LOG_ERR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_WARNING, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

/* Log at error level and evaluate to r (a negative errno): the project's
 * "log-and-return" idiom:  return log_errno(-ENOENT, "no %s", x); */
#define log_errno(r, ...)                                                                          \
	({                                                                                         \
		log_msg(LOG_ERR, __VA_ARGS__);                                                     \
		(r);                                                                               \
	})
