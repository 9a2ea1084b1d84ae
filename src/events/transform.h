/* SPDX-License-Identifier: Apache-2.0 */
/* EventBridge target input: the whole event, a constant Input, an InputPath, or an
 * InputTransformer (InputPathsMap + InputTemplate). Validated at PutTargets time with
 * EventBridge's ValidationException texts; rendered per event as EventBridge renders it. */
#ifndef VIGIL_EVENTS_TRANSFORM_H
#define VIGIL_EVENTS_TRANSFORM_H

#include <stdbool.h>
#include <stddef.h>

#include "base/buf.h"
#include "base/err.h"

/* Limits from the EventBridge model (lengths in UTF-16 code units, as the service counts). */
#define XFORM_MAX_PATHS          100          /* InputPathsMap entries */
#define XFORM_KEY_MAX            256          /* InputPathsMap key length */
#define XFORM_PATH_MAX           256          /* InputPathsMap value and InputPath length */
#define XFORM_TEMPLATE_MAX       8192         /* InputTemplate length */
#define XFORM_INPUT_MAX          8192         /* Input length */
#define XFORM_EVENT_MAX          (1u << 20)   /* largest event text xform_render() parses */
#define XFORM_PATHS_MAP_TEXT_MAX (256u << 10) /* largest InputPathsMap JSON text looked at */

/* What PutTargets carried for one target (all borrowed; a NULL pointer means "not given"). */
struct xform_spec {
    const char *target_id; /* the target's Id, quoted in messages (NULL reads as "") */
    unsigned member;       /* 1-based position of the target in Targets[], for model messages */
    const char *input;     /* Input: constant JSON text */
    size_t input_len;
    const char *input_path; /* InputPath */
    size_t input_path_len;
    bool has_transformer;  /* InputTransformer present */
    const char *paths_map; /* InputPathsMap as JSON object text {"name":"$.path",...}, or NULL */
    size_t paths_map_len;
    const char *input_template; /* InputTemplate (required with InputTransformer) */
    size_t input_template_len;
};

/* Per-delivery values of the predefined variables (borrowed, NUL-terminated). */
struct xform_ctx {
    const char *rule_arn;       /* <aws.events.rule-arn> */
    const char *rule_name;      /* <aws.events.rule-name> */
    const char *ingestion_time; /* <aws.events.event.ingestion-time>, ISO 8601 */
};

struct xform;

/*
 * Validate a target's input settings and compile them. On success *out is owned by the
 * caller (xform_free); with none of Input/InputPath/InputTransformer set the result delivers
 * the whole event.
 *
 * On refusal returns -ERR_INVALID (or -ERR_TOO_BIG for an InputPathsMap text over
 * XFORM_PATHS_MAP_TEXT_MAX) and, when msg is not NULL, puts the exact ValidationException
 * message in *msg (replacing its contents): the model checks first
 *   "1 validation error detected: Value '...' at 'targets.N.member.inputTransformer.inputTemplate'
 *    failed to satisfy constraint: Member must have length less than or equal to 8192"
 * (and likewise for input, inputPath, inputPathsMap size / keys / values), then
 *   "Only one of Input, InputPath, or InputTransformer must be provided for target ID."
 *   "Input for target ID is not a valid JSON text."
 *   "InputPath for target ID is not a valid JSON path."                     (wording not verified)
 *   "InputPathsMap for target ID contains an invalid JSON path for key K."  (wording not verified)
 *   "InputTemplate for target ID contains invalid placeholder NAME."
 * *d, when given, gets the error code, a (possibly shortened) copy of the message and, for
 * template and path errors, the offset in that text.
 */
int xform_compile(const struct xform_spec *spec, struct xform **out, struct buf *msg,
                  struct diag *d);
void xform_free(struct xform *x);

/* True when the compiled input is an InputTransformer whose template is JSON (starts with '{'). */
bool xform_is_json_template(const struct xform *x);

/*
 * Render the target input for one event (event: the event's JSON object text, len bytes).
 * Appends to out (whose max caps the result). Rules, as EventBridge applies them:
 *  - whole event: the event text as given; Input: the constant text as given;
 *  - InputPath: the selected value as compact JSON (a string keeps its quotes);
 *  - string template (not starting with '{'): the template text, every <name> replaced by
 *    raw text: strings unquoted and unescaped, numbers/booleans/null as written, objects and
 *    arrays as {k:v,...} / [a,b] with every string unquoted; missing paths give "";
 *    <aws.events.event> and <aws.events.event.json> give their JSON text. Lines and the
 *    template's own quotes are kept, so a template of several "quoted lines" renders as those
 *    lines with values filled in.
 *  - JSON template: a placeholder outside a JSON string becomes JSON (strings quoted and
 *    escaped, objects/arrays as JSON, a missing path ""); inside a string the value's raw text
 *    is spliced in unescaped (objects and arrays as JSON text). The result must be valid
 *    JSON; it is delivered minified (whitespace outside strings removed).
 * Returns 0; -ERR_CORRUPT when the event is not a JSON object; -ERR_NOT_FOUND when an
 * InputPath selects nothing; -ERR_INVALID when a JSON template renders to invalid JSON
 * (EventBridge drops such a delivery: the caller records it); -ERR_TOO_BIG when the event
 * exceeds XFORM_EVENT_MAX or the output would exceed out->max. *d says why. On error out may
 * hold a partial result.
 */
int xform_render(const struct xform *x, const char *event, size_t len, const struct xform_ctx *ctx,
                 struct buf *out, struct diag *d);

/*
 * InputPath on its own: compile path, apply it to the event and append the compact JSON of
 * the selection to out. -ERR_INVALID for a bad path, otherwise as xform_render().
 */
int input_path_apply(const char *path, const char *event, size_t len, struct buf *out,
                     struct diag *d);

#endif
