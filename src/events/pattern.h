/* SPDX-License-Identifier: Apache-2.0 */
/* EventBridge event patterns: compile and validate one pattern (with EventBridge's exact
 * InvalidEventPatternException messages), test one event against it, and match events against
 * a set of rules in one pass over the event text. Semantics follow aws/event-ruler, the
 * library EventBridge is built on; docs/EVENT-PATTERNS.md describes the language and design. */
#ifndef VIGIL_EVENTS_PATTERN_H
#define VIGIL_EVENTS_PATTERN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

/* ---- one pattern -------------------------------------------------------------------------- */

struct pattern;

/* Compile the JSON text of an event pattern. On success *out is owned by the caller (free it
 * with pattern_free) and 0 is returned. A pattern EventBridge would refuse returns
 * -ERR_INVALID and, when d is not NULL, d->msg holds EventBridge's message without Jackson's
 * location suffix ("Event pattern is not valid. Reason: Empty arrays are not allowed", cut to
 * the size of d->msg) and d->offset the byte offset the location refers to. The text is
 * borrowed; at most 1 MiB is accepted. */
int pattern_compile(const char *json, size_t len, struct pattern **out, struct diag *d);

/* Validate only. On refusal returns -ERR_INVALID and, when msg is not NULL, *msg is the full
 * message as EventBridge returns it, including Jackson's location lines
 * ("...\n at [Source: (String)\"{...}\"; line: 1, column: 17]"); owned by the caller. On
 * success returns 0 and sets *msg to NULL. */
int pattern_validate(const char *json, size_t len, char **msg);

void pattern_free(struct pattern *p);

/* Test one event (a JSON object as text) against a compiled pattern: *matched is set and 0
 * returned; -ERR_INVALID when the event is not a well-formed JSON object, -ERR_TOO_BIG when it
 * nests deeper than 256 levels. Thread-safe for concurrent callers on the same pattern. */
int pattern_match(const struct pattern *p, const char *event, size_t len, bool *matched);

/* ---- a set of rules ----------------------------------------------------------------------- */

struct pattern_set;
struct pattern_scratch;

/* An empty set (never NULL). */
struct pattern_set *pattern_set_new(void);
void pattern_set_free(struct pattern_set *s);

/* Compile json and add it under rule_id (copied). A rule id already present is replaced.
 * Returns 0, or -ERR_INVALID with d as for pattern_compile. The set must be (re)built with
 * pattern_set_build before the next match. */
int pattern_set_add(struct pattern_set *s, const char *rule_id, const char *json, size_t len,
                    struct diag *d);
/* Remove a rule: 0, or -ERR_NOT_FOUND. Rebuild before matching. */
int pattern_set_remove(struct pattern_set *s, const char *rule_id);
/* Build the matching indexes from the rules added so far: 0 (allocation failures abort). */
int pattern_set_build(struct pattern_set *s);
/* Number of rules, and the id of rule i (0 <= i < count; the index is stable until the next
 * add or remove). */
size_t pattern_set_count(const struct pattern_set *s);
const char *pattern_set_rule_id(const struct pattern_set *s, size_t i);

/* Per-thread working memory for matching (no allocation per event once warm). */
struct pattern_scratch *pattern_scratch_new(void);
void pattern_scratch_free(struct pattern_scratch *m);

/* Called once per matching rule with the rule's index (see pattern_set_rule_id); return
 * non-zero to stop. */
typedef int (*pattern_match_fn)(void *ctx, size_t rule);

/* Match one event against a built set: fn is called once for each rule that matches, in no
 * particular order. Returns the number of matching rules (>= 0), -ERR_INVALID for an event
 * that is not a well-formed JSON object, -ERR_TOO_BIG beyond 256 levels of nesting. A built
 * set is read-only here: any number of threads may match concurrently, each with its own
 * scratch; adding, removing or building must not run concurrently with matching. */
int pattern_set_match(const struct pattern_set *s, struct pattern_scratch *m, const char *event,
                      size_t len, pattern_match_fn fn, void *ctx);

#endif
