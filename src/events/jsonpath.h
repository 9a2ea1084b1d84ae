/* SPDX-License-Identifier: Apache-2.0 */
/* The JSONPath subset EventBridge accepts in InputPath and InputPathsMap, evaluated over a
 * jansson tree, and the compact JSON writer that transformed values and events are printed
 * with (integers exact, reals in their shortest round-trip form). */
#ifndef VIGIL_EVENTS_JSONPATH_H
#define VIGIL_EVENTS_JSONPATH_H

#include <jansson.h>
#include <stdbool.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/str.h"

/* Longest path text jsonpath_compile() looks at (PutTargets itself allows 256 characters). */
#define JSONPATH_TEXT_MAX 4096

struct jsonpath;

/*
 * Compile a path. Accepted (surrounding ASCII whitespace is ignored):
 *   $                    the whole document
 *   .name                member; a name is any run of bytes other than . [ ] * ' " and
 *                        ASCII space/control, so "detail-type", "finding-severity-counts",
 *                        "a/b" and UTF-8 names work
 *   ['name'] ["name"]    member in bracket notation (a backslash escapes the next byte)
 *   [N] [-N]             array element, negative counts from the end
 *   .* [*]               every member value of an object / every element of an array
 * Refused with -ERR_INVALID and a message in *d: anything else, including deep scan (..),
 * filters, slices, unions and text longer than JSONPATH_TEXT_MAX.
 * On success *out is owned by the caller (jsonpath_free).
 */
int jsonpath_compile(struct str text, struct jsonpath **out, struct diag *d);
void jsonpath_free(struct jsonpath *p);

/* True when the path has no wildcard, so it selects at most one value. */
bool jsonpath_is_definite(const struct jsonpath *p);

/*
 * Evaluate over root (borrowed). A definite path returns a new reference to the value it
 * names; a path with a wildcard returns a new array holding every match in document order.
 * NULL when nothing matched (missing member, index out of range, step on the wrong type,
 * or a wildcard path with no match).
 */
json_t *jsonpath_eval(const struct jsonpath *p, json_t *root);

/*
 * Append v as compact JSON (no whitespace, members in insertion order, non-ASCII UTF-8 kept
 * as is, '/' not escaped, control characters escaped). Integers print exactly; reals print in
 * the shortest form that reads back to the same double, with ".0" added when that form looks
 * like an integer. 0 or -ERR_TOO_BIG (out->max reached; out then holds a prefix).
 */
int jsonpath_dump(const json_t *v, struct buf *out);

/* Append the shortest round-trip text of a real (as jsonpath_dump prints it). */
int jsonpath_dump_real(double x, struct buf *out);

#endif
