/* SPDX-License-Identifier: Apache-2.0 */
/* The durable event bus: EventBridge rules and targets in the metadata database, and the
 * transactional outbox. bus_publish() matches an event against every enabled rule, renders
 * each target's input and writes one outbox row per (event, rule, target) inside the
 * caller's transaction; the delivery worker (src/deliver/worker.h) drains the outbox. */
#ifndef VIGIL_EVENTS_BUS_H
#define VIGIL_EVENTS_BUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "store/meta.h"

/* ---- limits (EventBridge's) --------------------------------------------------------------- */

#define BUS_NAME_MAX        64   /* rule name and target Id: [.\-_A-Za-z0-9]+ */
#define BUS_DESCRIPTION_MAX 512  /* Description */
#define BUS_ARN_MAX         1600 /* target Arn, RoleArn */
#define BUS_PATTERN_MAX                                                                          \
    ((size_t)1 << 20)                            /* bytes of EventPattern looked at (the model's \
                                                    4096-character limit is the API layer's) */
#define BUS_TARGETS_PER_RULE 5                   /* LimitExceededException beyond */
#define BUS_EVENT_MAX        ((size_t)256 << 10) /* an event's JSON text */
#define BUS_LIST_LIMIT_MAX   100                 /* ListRules / ListTargetsByRule page size */
#define BUS_DEFAULT_BUS      "default"

/* ---- construction ------------------------------------------------------------------------- */

struct bus;

struct bus_config {
    const char *region;  /* "us-east-1"; copied */
    const char *account; /* 12 digits; copied */
};

/* Create or update the bus's tables (rules, targets, outbox, render failures) in db through
 * meta_migrate (module "events"). Call once at start-up before anything else below touches
 * the database (vigil serve, vigil events dlq, tests). Errors as meta_migrate. */
int bus_migrate(struct meta_db *db, struct diag *d);

/* A bus for this region and account. The rules live in the database; the bus holds only the
 * compiled rule set (rebuilt when the database's rule generation changes, so every thread and
 * process sees changes) and a hook to wake the delivery worker. 0 or -ERR_INVALID (region or
 * account empty, or an account that is not 12 digits). */
int bus_new(const struct bus_config *cfg, struct bus **out, struct diag *d);
void bus_free(struct bus *b);

/* "arn:aws:events:<region>:<account>:rule/<name>" (owned). */
char *bus_rule_arn(const struct bus *b, const char *name);

/* Register the function bus_kick() calls (the delivery worker registers worker_kick through
 * this; NULL clears it). Not thread-safe against a concurrent bus_kick(): set it once at
 * start-up, before any publisher runs. */
typedef void (*bus_notify_fn)(void *ctx);
void bus_set_notify(struct bus *b, bus_notify_fn fn, void *ctx);
/* Tell the delivery worker that new outbox rows were committed. Call it after the commit of a
 * transaction in which bus_publish() returned > 0 (calling it more often is harmless; not
 * calling it only delays delivery to the worker's next poll, about 250 ms). */
void bus_kick(struct bus *b);

/* ---- errors the API returns --------------------------------------------------------------- */

/* An EventBridge error: the exception name and its message, both ready for the wire.
 * code is a static string: "ResourceNotFoundException", "ValidationException",
 * "InvalidEventPatternException", "LimitExceededException", "InternalException". */
struct bus_error {
    const char *code;
    char message[2048];
};

/* Functions below that take a struct bus_error * fill it whenever they return an error that
 * the API should report (err may be NULL). Their return values:
 *   0              success
 *   -ERR_INVALID   ValidationException / InvalidEventPatternException (err says which)
 *   -ERR_NOT_FOUND ResourceNotFoundException
 *   -ERR_TOO_BIG   LimitExceededException
 *   -EBUSY, -ERR_DB, -ENOSPC, -EIO  database failures: err->code "InternalException"
 *
 * Transactions: every function that changes rows runs inside the caller's transaction when
 * one is open on c (meta_in_tx), so API handlers can combine calls; otherwise it begins and
 * commits its own. On error inside the caller's transaction nothing is rolled back here: the
 * caller rolls back (partial changes of the failed call may be in the transaction). */

/* EventBusName check: NULL, "", "default" or "arn:aws:events:<region>:<account>:event-bus/default"
 * are the default bus (0); anything else is -ERR_NOT_FOUND with
 * "Event bus <name> does not exist." (only the default bus exists in vigil). */
int bus_check_event_bus(const struct bus *b, const char *event_bus_name, struct bus_error *err);

/* ---- rules -------------------------------------------------------------------------------- */

struct bus_rule_spec {
    const char *name;                /* required: 1-64 of [.\-_A-Za-z0-9] */
    const char *event_pattern;       /* JSON text, NULL = none */
    size_t event_pattern_len;        /* 0 = strlen(event_pattern) */
    const char *schedule_expression; /* NULL = none; vigil runs no schedules (refused) */
    bool disabled;                   /* State DISABLED (default ENABLED) */
    const char *description;         /* NULL = none; <= 512 bytes */
    const char *role_arn;            /* stored and shown, never used */
};

/*
 * PutRule: create the rule or replace every field of an existing one (EventBridge keeps no
 * omitted field). *rule_arn (owned) gets the rule's ARN. Errors:
 *   ValidationException  "Parameter(s) ScheduleExpression or EventPattern must be specified."
 *                        "Parameter ScheduleExpression is not supported."   (vigil's)
 *                        bad name / description length (model-style messages)
 *   InvalidEventPatternException  pattern_validate()'s message, verbatim
 * The rule generation is bumped, so every bus reloads its rule set before the next match.
 */
int bus_rule_put(struct bus *b, struct meta_conn *c, const struct bus_rule_spec *spec,
                 char **rule_arn, struct bus_error *err);

/* A rule as stored. Strings owned (bus_rule_release). */
struct bus_rule {
    char *name;
    char *arn;
    char *event_pattern;       /* NULL when none */
    char *schedule_expression; /* NULL (never stored today) */
    char *description;         /* NULL when none */
    char *role_arn;            /* NULL when none */
    bool enabled;              /* State ENABLED / DISABLED */
    int64_t created_at;        /* seconds since the epoch */
    size_t n_targets;
};
void bus_rule_release(struct bus_rule *r);

/* DescribeRule. -ERR_NOT_FOUND: "Rule <name> does not exist on EventBus default." */
int bus_rule_get(struct bus *b, struct meta_conn *c, const char *name, struct bus_rule *out,
                 struct bus_error *err);

/* A page of rules (owned; bus_rule_list_release frees rules and next). */
struct bus_rule_list {
    struct bus_rule *v;
    size_t n;
    char *next; /* the name to pass as `after` for the next page; NULL on the last page */
};
void bus_rule_list_release(struct bus_rule_list *l);

/* ListRules: rules whose name starts with name_prefix (NULL = all), in name order, after the
 * name `after` (exclusive; NULL = from the start), at most limit (1..100; 0 = 100). The API
 * layer wraps `next` into its NextToken. */
int bus_rule_list(struct bus *b, struct meta_conn *c, const char *name_prefix, const char *after,
                  size_t limit, struct bus_rule_list *out, struct bus_error *err);

/* ListRuleNamesByTarget: names of rules with a target whose Arn is target_arn, in name order,
 * paged as above. Names are owned (bus_names_release). */
struct bus_names {
    char **v;
    size_t n;
    char *next;
};
void bus_names_release(struct bus_names *l);
int bus_rule_names_by_target(struct bus *b, struct meta_conn *c, const char *target_arn,
                             const char *after, size_t limit, struct bus_names *out,
                             struct bus_error *err);

/* DeleteRule. A missing rule is not an error (EventBridge's DeleteRule is idempotent). A rule
 * with targets is refused unless force: ValidationException "Rule can't be deleted since it
 * has targets." With force its targets go too. Outbox rows already written stay (they are
 * delivered). */
int bus_rule_delete(struct bus *b, struct meta_conn *c, const char *name, bool force,
                    struct bus_error *err);

/* EnableRule / DisableRule. -ERR_NOT_FOUND as bus_rule_get. */
int bus_rule_set_enabled(struct bus *b, struct meta_conn *c, const char *name, bool enabled,
                         struct bus_error *err);

/* ---- targets ------------------------------------------------------------------------------ */

/* One target as PutTargets carries it (borrowed; NULL = not given). */
struct bus_target_spec {
    const char *id;  /* required: 1-64 of [.\-_A-Za-z0-9] */
    const char *arn; /* required: the SNS topic ARN events are published to */
    const char *role_arn;
    const char *input;      /* Input: constant JSON text */
    const char *input_path; /* InputPath */
    bool has_transformer;   /* InputTransformer given */
    const char *paths_map;  /* InputPathsMap as JSON object text, NULL = none */
    const char *input_template;
    bool has_retry_policy;
    int max_retry_attempts; /* RetryPolicy.MaximumRetryAttempts (when has_retry_policy) */
    int max_event_age_s;    /* RetryPolicy.MaximumEventAgeInSeconds; 0 = not given */
    bool has_max_retry_attempts;
    const char *dead_letter_arn; /* DeadLetterConfig.Arn */
};

/* One failed entry of PutTargets / RemoveTargets (strings owned). */
struct bus_failed_entry {
    char *target_id;
    const char *error_code; /* static */
    char *error_message;
};
struct bus_failed_entries {
    struct bus_failed_entry *v;
    size_t n;
};
void bus_failed_entries_release(struct bus_failed_entries *f);

/*
 * PutTargets: add or replace (by Id) the n targets of rule `rule`. Request-level errors (the
 * whole call fails, nothing changes):
 *   ResourceNotFoundException  "Rule <rule> does not exist on EventBus default."
 *   ValidationException        xform_compile()'s messages (Input / InputPath /
 *                              InputTransformer), RetryPolicy ranges
 *                              (eb_retry_policy_check), a bad or duplicate Id
 *   LimitExceededException     "The requested resource exceeds the maximum number allowed."
 *                              when the rule would have more than 5 targets
 * Per-entry failures (the other entries are still stored) go to *failed (owned by the
 * caller): a target Arn vigil cannot deliver to (anything but an SNS topic ARN,
 * "arn:aws:sns:<region>:<account>:<topic>", of this region and account) fails with
 * ErrorCode "ValidationException" and a message naming the Arn.
 */
int bus_targets_put(struct bus *b, struct meta_conn *c, const char *rule,
                    const struct bus_target_spec *targets, size_t n,
                    struct bus_failed_entries *failed, struct bus_error *err);

/*
 * RemoveTargets: remove the targets with these ids. A missing rule is
 * ResourceNotFoundException; an id the rule does not have is a per-entry failure
 * (ErrorCode "ResourceNotFoundException", "Target <id> does not exist on rule <rule>.").
 */
int bus_targets_remove(struct bus *b, struct meta_conn *c, const char *rule, const char *const *ids,
                       size_t n, bool force, struct bus_failed_entries *failed,
                       struct bus_error *err);

/* A target as stored (strings owned; NULL = not set). */
struct bus_target {
    char *id;
    char *arn;
    char *role_arn;
    char *input;
    char *input_path;
    bool has_transformer;
    char *paths_map; /* InputPathsMap JSON object text as given (NULL when absent) */
    char *input_template;
    bool has_retry_policy;
    int max_retry_attempts; /* when has_retry_policy */
    int max_event_age_s;    /* when has_retry_policy */
    char *dead_letter_arn;
};
void bus_target_release(struct bus_target *t);

struct bus_target_list {
    struct bus_target *v;
    size_t n;
    char *next; /* the Id to pass as `after`; NULL on the last page */
};
void bus_target_list_release(struct bus_target_list *l);

/* ListTargetsByRule: in Id order after `after` (exclusive), at most limit (0 = 100).
 * -ERR_NOT_FOUND for a missing rule. */
int bus_targets_list(struct bus *b, struct meta_conn *c, const char *rule, const char *after,
                     size_t limit, struct bus_target_list *out, struct bus_error *err);

/* ---- publishing --------------------------------------------------------------------------- */

/*
 * Match one event (its JSON object text, at most BUS_EVENT_MAX bytes) against every ENABLED
 * rule and, for each target of each matching rule, render the target's input (whole event,
 * Input, InputPath or InputTransformer, with <aws.events.rule-arn>, <aws.events.rule-name> and
 * <aws.events.event.ingestion-time> = now) and insert one pending outbox row.
 *
 * Must be called INSIDE the caller's open transaction on c (the state change that caused the
 * event and its outbox rows commit or roll back together); without one it returns -EINVAL.
 * event_id is the event's id, the idempotency key of every delivery it causes (NULL: read
 * from the event's "id" member; an event without one is -ERR_INVALID).
 *
 * A target whose input cannot be rendered (an InputPath that selects nothing, a JSON template
 * that renders invalid JSON, an output over 256 KiB) is not delivered, as EventBridge drops
 * it, but recorded in the render-failure table (bus_render_failures_list) with the reason,
 * and the event's other targets proceed.
 *
 * Returns the number of outbox rows written (>= 0; after the commit call bus_kick() when it is
 * > 0), -ERR_TOO_BIG for an event over BUS_EVENT_MAX, -ERR_INVALID for text that is not a JSON
 * object, or a database error. Never blocks on delivery. Thread-safe: any number of threads
 * may publish at once, each on its own connection.
 */
int bus_publish(struct bus *b, struct meta_conn *c, const char *event_json, size_t len,
                const char *event_id);

/* ---- the outbox (for the delivery worker and `vigil events dlq`) ------------------------- */

enum bus_outbox_state {
    BUS_OUTBOX_PENDING = 0, /* waiting for its next attempt (next_at) */
    BUS_OUTBOX_DONE = 1,    /* handed to its target */
    BUS_OUTBOX_DEAD = 2,    /* retries exhausted or not deliverable: dead letter */
};

/* "pending", "done", "dead". */
const char *bus_outbox_state_name(enum bus_outbox_state s);

/* One outbox row (strings owned). Times are ms since the epoch. */
struct bus_outbox_row {
    int64_t id;
    char *event_id;
    char *rule_arn;
    char *rule_name;
    char *target_id;
    char *target_arn;
    char *message; /* the rendered input: what the target receives */
    char *dead_letter_arn;
    char *last_error;
    enum bus_outbox_state state;
    int attempts;
    int max_retry_attempts; /* the target's RetryPolicy when the event was published */
    int max_event_age_s;
    int64_t created_ms;  /* when the event was published */
    int64_t age_from_ms; /* the event's age counts from here (created_ms, or the redrive) */
    int64_t next_ms;     /* next attempt (pending rows) */
    int64_t updated_ms;
};
void bus_outbox_row_release(struct bus_outbox_row *r);

struct bus_outbox_rows {
    struct bus_outbox_row *v;
    size_t n;
};
void bus_outbox_rows_release(struct bus_outbox_rows *l);

/* Pending rows due at now_ms (next_at <= now_ms) with id > after_id, ordered by due time then
 * id, at most limit (0 = 1000). No transaction needed (one read). */
int bus_outbox_due(struct meta_conn *c, int64_t now_ms, int64_t after_id, size_t limit,
                   struct bus_outbox_rows *out);
/* Earliest next_at of a pending row, or INT64_MAX when there is none. */
int bus_outbox_next_due(struct meta_conn *c, int64_t *next_ms);

/* Outcomes of an attempt, written by the worker (each its own statement; call them in a
 * transaction to combine with other writes). A row that is no longer pending is left alone
 * (-ERR_NOT_FOUND), so a redrive or a second writer is never overwritten. */
int bus_outbox_mark_done(struct meta_conn *c, int64_t id, int64_t now_ms);
int bus_outbox_mark_retry(struct meta_conn *c, int64_t id, int64_t next_ms, const char *error,
                          int64_t now_ms);
int bus_outbox_mark_dead(struct meta_conn *c, int64_t id, const char *error, int64_t now_ms);

/* Rows in `state`, id > after_id, ascending, at most limit (0 = 1000). For `vigil events dlq
 * list` (state DEAD) and tests. */
int bus_outbox_list(struct meta_conn *c, enum bus_outbox_state state, int64_t after_id,
                    size_t limit, struct bus_outbox_rows *out);

/* Redrive dead rows: id > 0 redrives that row, id == 0 every dead row. Each becomes pending
 * with attempts 0, due now, and its event age counted from now (so MaximumEventAgeInSeconds
 * does not kill it at once). *n (optional) = rows changed. A row that is not dead is
 * -ERR_NOT_FOUND when named by id. */
int bus_outbox_redrive(struct meta_conn *c, int64_t id, int64_t now_ms, size_t *n);

/* A target input that could not be rendered (strings owned). */
struct bus_render_failure {
    int64_t id;
    char *event_id;
    char *rule_arn;
    char *target_id;
    char *target_arn;
    char *error; /* "InputTemplate rendered invalid JSON: ..." */
    char *event; /* the event text (cut at 64 KiB) */
    int64_t created_ms;
};
struct bus_render_failures {
    struct bus_render_failure *v;
    size_t n;
};
void bus_render_failures_release(struct bus_render_failures *l);
/* Recorded render failures with id > after_id, ascending, at most limit (0 = 1000). */
int bus_render_failures_list(struct meta_conn *c, int64_t after_id, size_t limit,
                             struct bus_render_failures *out);

#endif
