/* SPDX-License-Identifier: Apache-2.0 */
/* logfmt writer. One fprintf per line so concurrent threads do not interleave lines. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

enum log_level log_threshold = LOG_WARN;

static const char *const level_names[] = { "error", "warn", "info", "debug" };

void log_set_level(enum log_level lvl)
{
    log_threshold = lvl;
}

int log_level_parse(const char *s)
{
    for (int i = 0; i < 4; i++)
        if (strcmp(s, level_names[i]) == 0)
            return i;
    return -1;
}

void log_write(enum log_level lvl, const char *sub, const char *fmt, ...)
{
    char msg[1024];
    char esc[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    /* logfmt: quote the message, escape quotes, backslashes and newlines */
    size_t j = 0;
    for (size_t i = 0; msg[i] && j + 2 < sizeof(esc); i++) {
        char c = msg[i];
        if (c == '"' || c == '\\') {
            esc[j++] = '\\';
            esc[j++] = c;
        } else if (c == '\n') {
            esc[j++] = '\\';
            esc[j++] = 'n';
        } else {
            esc[j++] = c;
        }
    }
    esc[j] = '\0';
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char tbuf[32];
    strftime(tbuf, sizeof(tbuf), "%Y-%m-%dT%H:%M:%S", &tm);
    fprintf(stderr, "ts=%s.%03ldZ level=%s sub=%s msg=\"%s\"\n", tbuf, ts.tv_nsec / 1000000,
            level_names[lvl], sub, esc);
}
