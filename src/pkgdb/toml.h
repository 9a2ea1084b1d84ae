/* SPDX-License-Identifier: Apache-2.0 */
/* A strict, capped TOML 1.0 reader for lockfiles (poetry.lock; usable for Cargo.lock). It
 * checks the whole document's syntax and reports, through a callback, each table header and
 * each key/value pair of a table body; values nested in arrays and inline tables are checked
 * but reported only as the raw text of the array or inline table. Not done: duplicate keys
 * and tables, and redefinition of a table by dotted keys, are not detected (a caller that
 * cares checks the keys it uses). */
#ifndef VIGIL_PKGDB_TOML_H
#define VIGIL_PKGDB_TOML_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"
#include "base/str.h"

/* Largest document, deepest nesting of arrays/inline tables, most parts of a dotted key or
 * header: inputs beyond these fail with -ERR_TOO_BIG. */
#define TOML_MAX_DOC   (64u << 20)
#define TOML_MAX_DEPTH 32
#define TOML_MAX_KEYS  16

enum toml_type {
    TOML_STRING,
    TOML_INTEGER,
    TOML_FLOAT,
    TOML_BOOL,
    TOML_DATETIME,
    TOML_ARRAY,
    TOML_INLINE_TABLE,
};

enum toml_event_kind {
    TOML_EV_TABLE, /* a [header] or [[header]] line */
    TOML_EV_VALUE, /* key = value in the current table */
};

/* Everything points into storage that lives until the callback returns. */
struct toml_event {
    enum toml_event_kind kind;
    const struct str *table; /* keys of the current header, decoded; none before the first */
    size_t ntable;
    bool array_table;      /* the header was [[...]] */
    const struct str *key; /* VALUE: the (dotted) key, decoded */
    size_t nkey;
    enum toml_type type;
    struct str value; /* STRING: the decoded text (NUL-terminated); otherwise the raw text */
    size_t line;      /* 1-based line of the header or key */
    size_t offset;    /* byte offset of the header or key */
};

/* Return 0 to go on, <0 to stop (toml_parse returns it; the callback fills d itself). */
typedef int (*toml_event_fn)(const struct toml_event *ev, void *ctx, struct diag *d);

/* Parse data, calling fn for each header and each key/value pair in document order. Returns
 * 0, the callback's error, -ERR_CORRUPT with "line N: ..." in d for a syntax error, or
 * -ERR_TOO_BIG past a cap. */
int toml_parse(struct str data, toml_event_fn fn, void *ctx, struct diag *d);

/* True when the key list equals `dotted` split at '.' (toml_key_is(ev->table, ev->ntable,
 * "package.source")); keys holding a '.' themselves cannot be asked for. */
bool toml_key_is(const struct str *keys, size_t n, const char *dotted);

#endif
