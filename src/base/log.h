/* SPDX-License-Identifier: Apache-2.0 */
/* logfmt logging to stderr: `ts=... level=warn sub=image msg="..."`. The level is checked
 * before anything is formatted. Never log secrets. */
#ifndef VIGIL_BASE_LOG_H
#define VIGIL_BASE_LOG_H

enum log_level { LOG_ERROR = 0, LOG_WARN = 1, LOG_INFO = 2, LOG_DEBUG = 3 };

extern enum log_level log_threshold;

void log_set_level(enum log_level lvl);
/* "error", "warn", "info", "debug"; returns -1 for anything else. */
int log_level_parse(const char *s);
void log_write(enum log_level lvl, const char *sub, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define log_at(lvl, sub, ...)                     \
    do {                                          \
        if ((lvl) <= log_threshold)               \
            log_write((lvl), (sub), __VA_ARGS__); \
    } while (0)
#define log_error(sub, ...) log_at(LOG_ERROR, sub, __VA_ARGS__)
#define log_warn(sub, ...)  log_at(LOG_WARN, sub, __VA_ARGS__)
#define log_info(sub, ...)  log_at(LOG_INFO, sub, __VA_ARGS__)
#define log_debug(sub, ...) log_at(LOG_DEBUG, sub, __VA_ARGS__)

#endif
