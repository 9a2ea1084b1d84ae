/* SPDX-License-Identifier: Apache-2.0 */
/* A strict reader for the subset of YAML 1.2 that lockfile writers emit (pnpm-lock.yaml, yarn
 * berry's yarn.lock): block mappings and sequences, plain, single- and double-quoted scalars,
 * flow mappings and sequences ({a: b}, [x, y]), literal/folded block scalars, comments and
 * "---" document separators. Anchors, aliases, tags, complex ("? ") keys and multi-line
 * plain or quoted scalars are refused with an error rather than guessed at. Duplicate keys
 * are kept (the consumer sees both). Private to src/pkgdb (npm.c). */
#ifndef VIGIL_PKGDB_NPM_YAML_H
#define VIGIL_PKGDB_NPM_YAML_H

#include <stddef.h>

#include "base/arena.h"
#include "base/err.h"
#include "base/str.h"

/* Nesting deeper than this (block and flow levels together) is an error. */
#define YAML_MAX_DEPTH 64
/* Most nodes one document set may hold: a large pnpm lockfile has a few hundred thousand. */
#define YAML_MAX_NODES (16u << 20)

enum yaml_kind {
    YAML_SCALAR, /* also an empty value ("key:" with nothing under it): str.len == 0 */
    YAML_MAP,
    YAML_SEQ,
};

struct yaml_node {
    enum yaml_kind kind;
    struct str key;          /* the key when the node is a mapping value, else empty */
    struct str str;          /* YAML_SCALAR: the value, unescaped, NUL-terminated (arena) */
    size_t line;             /* 1-based line where the node (or its key) starts */
    struct yaml_node *child; /* YAML_MAP: the values (each with .key), YAML_SEQ: the items */
    struct yaml_node *next;  /* next sibling */
};

/* Parse text into a list of documents (each a root node, linked by ->next; an empty
 * document is an empty YAML_SCALAR) in arena a. Returns 0, or -ERR_CORRUPT (bad or
 * unsupported syntax), -ERR_TOO_BIG (depth or node cap) with "line L column C: why" and the
 * byte offset in d. *docs is NULL when the text has no document at all. */
int yaml_parse(struct str text, struct arena *a, struct yaml_node **docs, struct diag *d);

/* The value of key in mapping m (the first one when repeated), or NULL. */
const struct yaml_node *yaml_get(const struct yaml_node *m, const char *key);

/* The scalar value of key in mapping m, or NULL when absent or not a scalar. */
const struct str *yaml_get_str(const struct yaml_node *m, const char *key);

#endif
