/* SPDX-License-Identifier: Apache-2.0 */
/* Settings of the long-running commands (`vigil serve`, `vigil gc`): one table of typed keys
 * whose values come, in increasing precedence, from the defaults, a config file, VIGIL_*
 * environment variables and --key flags. `--help` text is generated from the same table. */
#ifndef VIGIL_CLI_CONFIG_H
#define VIGIL_CLI_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "base/err.h"

enum conf_type {
    CONF_STRING,
    CONF_INT,      /* decimal integer, range-checked by min/max */
    CONF_BOOL,     /* true/false, yes/no, on/off, 1/0 */
    CONF_DURATION, /* "250ms", "30s", "5m", "24h", "7d"; a bare number is seconds */
    CONF_SIZE,     /* "4096", "64KiB", "4MiB", "1GiB" (also kB/MB/GB as powers of 1000) */
};

struct conf_def {
    const char *key; /* "listen", "smtp-url"; the flag is --key, the variable VIGIL_KEY */
    enum conf_type type;
    const char *def;    /* default as text; NULL = unset */
    long long min, max; /* CONF_INT / CONF_DURATION (ms) / CONF_SIZE bounds; 0,0 = none */
    const char *help;
    bool secret; /* never printed (passwords) */
};

struct conf {
    const struct conf_def *defs;
    size_t n;
    char **value;        /* owned, NULL = unset */
    const char **origin; /* "default", "file PATH:LINE", "env VIGIL_X", "flag" */
    char *file;          /* path of the file loaded, owned */
};

void conf_init(struct conf *c, const struct conf_def *defs, size_t n);
void conf_release(struct conf *c);

/* Set one key from text, checking its type. Errors: -ERR_INVALID (unknown key or bad value: d
 * says which and why). `origin` must outlive the conf (a literal or conf-owned text). */
int conf_set(struct conf *c, const char *key, const char *value, const char *origin,
             struct diag *d);

/* Read a config file: `key = value` lines, '#' comments, blank lines; values may be quoted
 * with "..." (backslash escapes \" \\ \n). Errors name the file and line. */
int conf_load_file(struct conf *c, const char *path, struct diag *d);
/* Same, from text (for tests and fuzzing); `name` is used in messages. */
int conf_load_text(struct conf *c, const char *name, const char *text, size_t len, struct diag *d);
/* Apply VIGIL_<KEY> variables (key upper-cased, '-' as '_') that are set and non-empty. */
int conf_load_env(struct conf *c, struct diag *d);

/* Consume argv[*i] when it is --key VALUE or --key=VALUE for a known key (bools also accept a
 * bare --key and --no-key). Returns 1 consumed, 0 not a config flag, <0 error (d set). */
int conf_flag(struct conf *c, int argc, char **argv, int *i, struct diag *d);

/* Typed getters. The key must exist in the table (BUG otherwise); unset values give 0/NULL. */
const char *conf_str(const struct conf *c, const char *key);
long long conf_int(const struct conf *c, const char *key);
bool conf_bool(const struct conf *c, const char *key);
int64_t conf_duration_ms(const struct conf *c, const char *key);
uint64_t conf_size(const struct conf *c, const char *key);

/* Parsers used by conf_set, exposed for tests. Return 0 or -ERR_INVALID. */
int conf_parse_duration_ms(const char *s, int64_t *out);
int conf_parse_size(const char *s, uint64_t *out);
int conf_parse_bool(const char *s, bool *out);

/* One line per key: --key VALUE, help, default, variable name. */
void conf_help(FILE *f, const struct conf_def *defs, size_t n);
/* The effective settings with their origins (secrets masked), `key = value  # origin`. */
void conf_dump(FILE *f, const struct conf *c);

#endif
