/* SPDX-License-Identifier: Apache-2.0 */
/* The EventBridge operations: request members in, bus calls, EventBridge's output shapes and
 * errors out. Rules and targets live in the bus (src/events/bus.h); PutEvents turns entries
 * into events (src/events/envelope.h) and publishes each in its own transaction. */
#include "api/events_api.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/buf.h"
#include "base/log.h"
#include "base/xalloc.h"
#include "events/envelope.h"
#include "events/pattern.h"

struct events_api {
    struct meta_db *db;
    struct bus *bus;
    char account[13];
    char region[64];
    events_now_fn now;
    void *now_ctx;
};

/* ---- construction ------------------------------------------------------------------------ */

static bool is_digits(const char *s, size_t n)
{
    if (strlen(s) != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

static bool is_region(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n >= 64)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
            return false;
    return true;
}

int events_api_new(const struct events_api_config *cfg, struct events_api **out, struct diag *d)
{
    *out = NULL;
    if (!cfg->db || !cfg->bus)
        return diag_set(d, -ERR_INVALID, 0, "the EventBridge API needs the %s",
                        cfg->db ? "event bus" : "metadata database");
    const char *acct = cfg->account_id ? cfg->account_id : EVENTS_DEFAULT_ACCOUNT;
    const char *region = cfg->region ? cfg->region : EVENTS_DEFAULT_REGION;
    if (!is_digits(acct, 12))
        return diag_set(d, -ERR_INVALID, 0, "account id '%s' is not 12 digits", acct);
    if (!is_region(region))
        return diag_set(d, -ERR_INVALID, 0, "region '%s' is not a region name ([a-z0-9-])", region);
    int rc = bus_migrate(cfg->db, d);
    if (rc < 0)
        return rc;
    struct events_api *e = xcalloc(1, sizeof(*e));
    e->db = cfg->db;
    e->bus = cfg->bus;
    memcpy(e->account, acct, 13);
    snprintf(e->region, sizeof(e->region), "%s", region);
    e->now = cfg->now;
    e->now_ctx = cfg->now_ctx;
    *out = e;
    return 0;
}

void events_api_free(struct events_api *e)
{
    free(e);
}

/* ---- shared helpers ---------------------------------------------------------------------- */

static const char *in_str(const struct api_call *call, const char *name)
{
    return json_string_value(json_object_get(call->input, name));
}

static int fail_internal(struct api_call *call, int rc, const char *what)
{
    log_error("events", "%s: %s", what, err_str(rc));
    return api_fail(call, "InternalException", "An internal error occurred");
}

/* The answer to a bus call that failed: the bus's exception and message when it named one
 * (validation, missing rule, limits), InternalException for database failures. */
static int fail_bus(struct api_call *call, int rc, const struct bus_error *err)
{
    if (err->code && strcmp(err->code, "InternalException") != 0 && err->message[0])
        return api_fail(call, err->code, "%s", err->message);
    return fail_internal(call, rc, call->operation);
}

static int get_conn(struct events_api *e, struct api_call *call, struct meta_conn **c)
{
    int rc = meta_conn_get(e->db, c);
    return rc < 0 ? fail_internal(call, rc, "database connection") : 0;
}

/* EventBusName of the request: only the default bus exists. */
static int check_bus(struct events_api *e, struct api_call *call)
{
    struct bus_error err = { 0 };
    int rc = bus_check_event_bus(e->bus, in_str(call, "EventBusName"), &err);
    return rc < 0 ? fail_bus(call, rc, &err) : 0;
}

static void set_str(json_t *o, const char *key, const char *v)
{
    if (v)
        json_object_set_new(o, key, json_string(v));
}

/* A NextToken of this operation: 0 and *state (owned) or the service's invalid-token error;
 * absent token = *state NULL. */
static int token_in(struct api_call *call, const char *scope, json_t **state)
{
    *state = NULL;
    const char *tok = in_str(call, "NextToken");
    if (!tok)
        return 0;
    if (aws_page_token_decode(scope, tok, state) != 0)
        return api_fail_next_token(call);
    return 0;
}

static void token_out(json_t *out, const char *scope, json_t *state)
{
    char *tok = aws_page_token_encode(scope, state);
    json_decref(state);
    if (tok)
        json_object_set_new(out, "NextToken", json_string(tok));
    free(tok);
}

static size_t limit_in(const struct api_call *call)
{
    json_t *v = json_object_get(call->input, "Limit");
    json_int_t n = json_is_integer(v) ? json_integer_value(v) : 0;
    return n >= 1 && n <= BUS_LIST_LIMIT_MAX ? (size_t)n : 0;
}

/* ---- rules ------------------------------------------------------------------------------- */

static int op_put_rule(void *ctx, struct api_call *call)
{
    struct events_api *e = ctx;
    struct meta_conn *c;
    if (check_bus(e, call) < 0 || get_conn(e, call, &c) < 0)
        return -ERR_INVALID;
    /* Tags are accepted and not kept: vigil has no tagging operations. */
    const char *state = in_str(call, "State");
    struct bus_rule_spec spec = {
        .name = in_str(call, "Name"),
        .event_pattern = in_str(call, "EventPattern"),
        .schedule_expression = in_str(call, "ScheduleExpression"),
        .disabled = state && strcmp(state, "DISABLED") == 0,
        .description = in_str(call, "Description"),
        .role_arn = in_str(call, "RoleArn"),
    };
    if (spec.event_pattern)
        spec.event_pattern_len = strlen(spec.event_pattern);
    struct bus_error err = { 0 };
    char *arn = NULL;
    int rc = bus_rule_put(e->bus, c, &spec, &arn, &err);
    if (rc < 0)
        return fail_bus(call, rc, &err);
    call->output = json_pack("{s:s}", "RuleArn", arn);
    free(arn);
    return 0;
}

/* The members DescribeRule and ListRules share. */
static json_t *rule_json(const struct bus_rule *r)
{
    json_t *o = json_object();
    set_str(o, "Name", r->name);
    set_str(o, "Arn", r->arn);
    set_str(o, "EventPattern", r->event_pattern);
    set_str(o, "ScheduleExpression", r->schedule_expression);
    set_str(o, "State", r->enabled ? "ENABLED" : "DISABLED");
    set_str(o, "Description", r->description);
    set_str(o, "RoleArn", r->role_arn);
    set_str(o, "EventBusName", BUS_DEFAULT_BUS);
    return o;
}

static int op_describe_rule(void *ctx, struct api_call *call)
{
    struct events_api *e = ctx;
    struct meta_conn *c;
    if (check_bus(e, call) < 0 || get_conn(e, call, &c) < 0)
        return -ERR_INVALID;
    struct bus_rule r = { 0 };
    struct bus_error err = { 0 };
    int rc = bus_rule_get(e->bus, c, in_str(call, "Name"), &r, &err);
    if (rc < 0)
        return fail_bus(call, rc, &err);
    call->output = rule_json(&r);
    json_object_set_new(call->output, "CreatedBy", json_string(e->account));
    bus_rule_release(&r);
    return 0;
}

static int op_list_rules(void *ctx, struct api_call *call)
{
    struct events_api *e = ctx;
    struct meta_conn *c;
    if (check_bus(e, call) < 0 || get_conn(e, call, &c) < 0)
        return -ERR_INVALID;
    const char *prefix = in_str(call, "NamePrefix");
    json_t *st;
    if (token_in(call, "events:ListRules", &st) < 0)
        return -ERR_INVALID;
    const char *after = NULL;
    if (st) {
        /* a token carries the prefix it was issued for: another prefix is another listing */
        after = json_string_value(json_object_get(st, "after"));
        const char *p = json_string_value(json_object_get(st, "prefix"));
        if (!after || !p || strcmp(p, prefix ? prefix : "") != 0) {
            json_decref(st);
            return api_fail_next_token(call);
        }
    }
    struct bus_rule_list l = { 0 };
    struct bus_error err = { 0 };
    int rc = bus_rule_list(e->bus, c, prefix, after, limit_in(call), &l, &err);
    json_decref(st);
    if (rc < 0)
        return fail_bus(call, rc, &err);
    json_t *rules = json_array();
    for (size_t i = 0; i < l.n; i++)
        json_array_append_new(rules, rule_json(&l.v[i]));
    call->output = json_object();
    json_object_set_new(call->output, "Rules", rules);
    if (l.next)
        token_out(call->output, "events:ListRules",
                  json_pack("{s:s,s:s}", "after", l.next, "prefix", prefix ? prefix : ""));
    bus_rule_list_release(&l);
    return 0;
}

static int op_delete_rule(void *ctx, struct api_call *call)
{
    struct events_api *e = ctx;
    struct meta_conn *c;
    if (check_bus(e, call) < 0 || get_conn(e, call, &c) < 0)
        return -ERR_INVALID;
    struct bus_error err = { 0 };
    int rc = bus_rule_delete(e->bus, c, in_str(call, "Name"),
                             json_is_true(json_object_get(call->input, "Force")), &err);
    return rc < 0 ? fail_bus(call, rc, &err) : 0;
}

static int set_enabled(struct events_api *e, struct api_call *call, bool enabled)
{
    struct meta_conn *c;
    if (check_bus(e, call) < 0 || get_conn(e, call, &c) < 0)
        return -ERR_INVALID;
    struct bus_error err = { 0 };
    int rc = bus_rule_set_enabled(e->bus, c, in_str(call, "Name"), enabled, &err);
    return rc < 0 ? fail_bus(call, rc, &err) : 0;
}

static int op_enable_rule(void *ctx, struct api_call *call)
{
    return set_enabled(ctx, call, true);
}

static int op_disable_rule(void *ctx, struct api_call *call)
{
    return set_enabled(ctx, call, false);
}

/* ---- targets ----------------------------------------------------------------------------- */

/* {FailedEntryCount, FailedEntries[{TargetId, ErrorCode, ErrorMessage}]} */
static json_t *failed_json(const struct bus_failed_entries *f)
{
    json_t *list = json_array();
    for (size_t i = 0; i < f->n; i++) {
        json_t *o = json_object();
        set_str(o, "TargetId", f->v[i].target_id);
        set_str(o, "ErrorCode", f->v[i].error_code);
        set_str(o, "ErrorMessage", f->v[i].error_message);
        json_array_append_new(list, o);
    }
    return json_pack("{s:I,s:o}", "FailedEntryCount", (json_int_t)f->n, "FailedEntries", list);
}

/* One Target of the request as the bus takes it. Strings stay in the request's JSON; the
 * InputPathsMap is dumped into *paths_map (owned by the caller). */
static void target_spec(json_t *t, struct bus_target_spec *s, char **paths_map)
{
    memset(s, 0, sizeof(*s));
    *paths_map = NULL;
    s->id = json_string_value(json_object_get(t, "Id"));
    s->arn = json_string_value(json_object_get(t, "Arn"));
    s->role_arn = json_string_value(json_object_get(t, "RoleArn"));
    s->input = json_string_value(json_object_get(t, "Input"));
    s->input_path = json_string_value(json_object_get(t, "InputPath"));
    json_t *x = json_object_get(t, "InputTransformer");
    if (json_is_object(x)) {
        s->has_transformer = true;
        json_t *map = json_object_get(x, "InputPathsMap");
        if (json_is_object(map))
            *paths_map = json_dumps(map, JSON_COMPACT);
        s->paths_map = *paths_map;
        s->input_template = json_string_value(json_object_get(x, "InputTemplate"));
    }
    json_t *rp = json_object_get(t, "RetryPolicy");
    if (json_is_object(rp)) {
        s->has_retry_policy = true;
        json_t *a = json_object_get(rp, "MaximumRetryAttempts");
        json_t *age = json_object_get(rp, "MaximumEventAgeInSeconds");
        if (json_is_integer(a)) {
            s->has_max_retry_attempts = true;
            s->max_retry_attempts = (int)json_integer_value(a);
        }
        if (json_is_integer(age))
            s->max_event_age_s = (int)json_integer_value(age);
    }
    s->dead_letter_arn =
        json_string_value(json_object_get(json_object_get(t, "DeadLetterConfig"), "Arn"));
}

static int op_put_targets(void *ctx, struct api_call *call)
{
    struct events_api *e = ctx;
    struct meta_conn *c;
    if (check_bus(e, call) < 0 || get_conn(e, call, &c) < 0)
        return -ERR_INVALID;
    json_t *targets = json_object_get(call->input, "Targets");
    size_t n = json_array_size(targets); /* 1..100, checked against the model */
    struct bus_target_spec *specs = xcalloc(n ? n : 1, sizeof(*specs));
    char **maps = xcalloc(n ? n : 1, sizeof(*maps));
    for (size_t i = 0; i < n; i++)
        target_spec(json_array_get(targets, i), &specs[i], &maps[i]);
    struct bus_failed_entries failed = { 0 };
    struct bus_error err = { 0 };
    int rc = bus_targets_put(e->bus, c, in_str(call, "Rule"), specs, n, &failed, &err);
    for (size_t i = 0; i < n; i++)
        free(maps[i]);
    free(maps);
    free(specs);
    if (rc < 0) {
        bus_failed_entries_release(&failed);
        return fail_bus(call, rc, &err);
    }
    call->output = failed_json(&failed);
    bus_failed_entries_release(&failed);
    return 0;
}

static int op_remove_targets(void *ctx, struct api_call *call)
{
    struct events_api *e = ctx;
    struct meta_conn *c;
    if (check_bus(e, call) < 0 || get_conn(e, call, &c) < 0)
        return -ERR_INVALID;
    json_t *ids = json_object_get(call->input, "Ids");
    size_t n = json_array_size(ids);
    const char **v = xcalloc(n ? n : 1, sizeof(*v));
    for (size_t i = 0; i < n; i++)
        v[i] = json_string_value(json_array_get(ids, i));
    struct bus_failed_entries failed = { 0 };
    struct bus_error err = { 0 };
    int rc = bus_targets_remove(e->bus, c, in_str(call, "Rule"), v, n,
                                json_is_true(json_object_get(call->input, "Force")), &failed, &err);
    free(v);
    if (rc < 0) {
        bus_failed_entries_release(&failed);
        return fail_bus(call, rc, &err);
    }
    call->output = failed_json(&failed);
    bus_failed_entries_release(&failed);
    return 0;
}

/* A stored target in the Target shape. */
static json_t *target_json(const struct bus_target *t)
{
    json_t *o = json_object();
    set_str(o, "Id", t->id);
    set_str(o, "Arn", t->arn);
    set_str(o, "RoleArn", t->role_arn);
    set_str(o, "Input", t->input);
    set_str(o, "InputPath", t->input_path);
    if (t->has_transformer) {
        json_t *x = json_object();
        json_t *map = t->paths_map ? json_loads(t->paths_map, 0, NULL) : NULL;
        if (json_is_object(map))
            json_object_set(x, "InputPathsMap", map);
        json_decref(map);
        set_str(x, "InputTemplate", t->input_template);
        json_object_set_new(o, "InputTransformer", x);
    }
    if (t->dead_letter_arn)
        json_object_set_new(o, "DeadLetterConfig", json_pack("{s:s}", "Arn", t->dead_letter_arn));
    if (t->has_retry_policy)
        json_object_set_new(o, "RetryPolicy",
                            json_pack("{s:i,s:i}", "MaximumRetryAttempts", t->max_retry_attempts,
                                      "MaximumEventAgeInSeconds", t->max_event_age_s));
    return o;
}

static int op_list_targets(void *ctx, struct api_call *call)
{
    struct events_api *e = ctx;
    struct meta_conn *c;
    if (check_bus(e, call) < 0 || get_conn(e, call, &c) < 0)
        return -ERR_INVALID;
    const char *rule = in_str(call, "Rule");
    json_t *st;
    if (token_in(call, "events:ListTargetsByRule", &st) < 0)
        return -ERR_INVALID;
    const char *after = NULL;
    if (st) {
        after = json_string_value(json_object_get(st, "after"));
        const char *r = json_string_value(json_object_get(st, "rule"));
        if (!after || !r || strcmp(r, rule) != 0) {
            json_decref(st);
            return api_fail_next_token(call);
        }
    }
    struct bus_target_list l = { 0 };
    struct bus_error err = { 0 };
    int rc = bus_targets_list(e->bus, c, rule, after, limit_in(call), &l, &err);
    json_decref(st);
    if (rc < 0)
        return fail_bus(call, rc, &err);
    json_t *list = json_array();
    for (size_t i = 0; i < l.n; i++)
        json_array_append_new(list, target_json(&l.v[i]));
    call->output = json_object();
    json_object_set_new(call->output, "Targets", list);
    if (l.next)
        token_out(call->output, "events:ListTargetsByRule",
                  json_pack("{s:s,s:s}", "after", l.next, "rule", rule));
    bus_target_list_release(&l);
    return 0;
}

/* ---- TestEventPattern -------------------------------------------------------------------- */

/* The members EventBridge requires of a test event (its API reference). */
static const char *const event_required[] = { "id",   "account", "source",
                                              "time", "region",  "detail-type" };

static int op_test_event_pattern(void *ctx, struct api_call *call)
{
    (void)ctx;
    const char *pat = in_str(call, "EventPattern");
    const char *ev = in_str(call, "Event");
    char *msg = NULL;
    if (pattern_validate(pat, strlen(pat), &msg) != 0) {
        int rc = api_fail(call, "InvalidEventPatternException", "%s",
                          msg ? msg : "Event pattern is not valid.");
        free(msg);
        return rc;
    }
    json_t *doc = json_loads(ev, JSON_DECODE_INT_AS_REAL, NULL);
    bool ok = json_is_object(doc);
    for (size_t i = 0; ok && i < ARRAY_SIZE(event_required); i++)
        ok = json_object_get(doc, event_required[i]) != NULL;
    json_decref(doc);
    if (!ok)
        return api_fail(call, "ValidationException", "Parameter Event is not valid.");
    struct pattern *p = NULL;
    struct diag d = { 0 };
    if (pattern_compile(pat, strlen(pat), &p, &d) != 0)
        return api_fail(call, "InvalidEventPatternException", "%s", d.msg);
    bool matched = false;
    int rc = pattern_match(p, ev, strlen(ev), &matched);
    pattern_free(p);
    if (rc < 0)
        return api_fail(call, "ValidationException", "Parameter Event is not valid.");
    call->output = json_pack("{s:b}", "Result", matched);
    return 0;
}

/* ---- PutEvents --------------------------------------------------------------------------- */

/* One request entry with the arrays its struct borrows. */
struct entry_in {
    struct put_events_entry e;
    const char **resources; /* owned array of borrowed strings */
};

static void entry_read(json_t *o, struct entry_in *in)
{
    memset(in, 0, sizeof(*in));
    in->e.source = json_string_value(json_object_get(o, "Source"));
    in->e.detail_type = json_string_value(json_object_get(o, "DetailType"));
    in->e.detail = json_string_value(json_object_get(o, "Detail"));
    in->e.event_bus_name = json_string_value(json_object_get(o, "EventBusName"));
    json_t *res = json_object_get(o, "Resources");
    size_t n = json_array_size(res);
    if (n) {
        in->resources = xcalloc(n, sizeof(*in->resources));
        for (size_t i = 0; i < n; i++) {
            const char *r = json_string_value(json_array_get(res, i));
            in->resources[i] = r ? r : "";
        }
        in->e.resources = in->resources;
        in->e.n_resources = n;
    }
    int64_t ms;
    json_t *t = json_object_get(o, "Time");
    if (t && aws_json_get_time(t, &ms) == 0) {
        in->e.has_time = true;
        in->e.time = (double)ms / 1000.0;
    }
}

static json_t *entry_error(const char *code, const char *message)
{
    return json_pack("{s:s,s:s}", "ErrorCode", code, "ErrorMessage", message);
}

/* Publish one accepted entry in its own transaction. Returns the outbox rows written (>= 0)
 * or a negative code. */
static int publish_entry(struct events_api *e, struct meta_conn *c, const struct entry_in *in,
                         const char *id, const char *now_text)
{
    struct event_meta m = {
        .id = id, .account = e->account, .region = e->region, .time = now_text
    };
    json_t *ev = put_events_entry_event(&m, &in->e);
    if (!ev)
        return -ERR_INVALID;
    struct buf text;
    buf_init(&text, BUS_EVENT_MAX + 1);
    int rc = event_to_text(ev, &text);
    json_decref(ev);
    if (rc == 0)
        rc = meta_begin(c);
    if (rc == 0) {
        rc = bus_publish(e->bus, c, text.data, text.len, id);
        if (rc >= 0) {
            int crc = meta_commit(c);
            if (crc < 0)
                rc = crc;
        } else {
            meta_rollback(c);
        }
    }
    buf_release(&text);
    return rc;
}

static int op_put_events(void *ctx, struct api_call *call)
{
    struct events_api *e = ctx;
    json_t *entries = json_object_get(call->input, "Entries");
    size_t n = json_array_size(entries); /* 1..10, checked against the model */
    struct entry_in *in = xcalloc(n ? n : 1, sizeof(*in));
    struct put_events_entry *flat = xcalloc(n ? n : 1, sizeof(*flat));
    for (size_t i = 0; i < n; i++) {
        entry_read(json_array_get(entries, i), &in[i]);
        flat[i] = in[i].e;
    }
    int rc = 0;
    const char *too_big = put_events_check_total(flat, n);
    if (too_big) {
        rc = api_fail(call, "ValidationException", "%s", too_big);
        goto out;
    }
    struct meta_conn *c;
    if ((rc = get_conn(e, call, &c)) < 0)
        goto out;
    time_t now = e->now ? (time_t)e->now(e->now_ctx) : time(NULL);
    char now_text[EVENT_TIME_LEN];
    if (event_format_time(now, now_text) < 0) {
        rc = fail_internal(call, -ERR_INVALID, "clock");
        goto out;
    }
    json_t *results = json_array();
    size_t failed = 0;
    bool kick = false;
    for (size_t i = 0; i < n; i++) {
        struct put_events_error perr = { 0 };
        if (put_events_entry_check(&in[i].e, &perr) < 0) {
            json_array_append_new(results, entry_error(perr.code, perr.message));
            failed++;
            continue;
        }
        char id[EVENT_ID_LEN];
        int irc = event_new_id(id);
        /* an entry for a bus that does not exist is accepted and dropped, as EventBridge
         * does */
        if (irc == 0 && bus_check_event_bus(e->bus, in[i].e.event_bus_name, NULL) == 0)
            irc = publish_entry(e, c, &in[i], id, now_text);
        if (irc < 0) {
            log_error("events", "PutEvents: cannot publish entry %zu: %s", i, err_str(irc));
            json_array_append_new(results,
                                  entry_error("InternalFailure", "An internal error occurred"));
            failed++;
            continue;
        }
        kick |= irc > 0;
        json_array_append_new(results, json_pack("{s:s}", "EventId", id));
    }
    if (kick)
        bus_kick(e->bus);
    call->output =
        json_pack("{s:I,s:o}", "FailedEntryCount", (json_int_t)failed, "Entries", results);
out:
    for (size_t i = 0; i < n; i++)
        free(in[i].resources);
    free(in);
    free(flat);
    return rc;
}

/* ---- registration ------------------------------------------------------------------------ */

static const struct {
    const char *name;
    api_handler_fn fn;
} ops[] = {
    { "PutRule", op_put_rule },
    { "DescribeRule", op_describe_rule },
    { "ListRules", op_list_rules },
    { "DeleteRule", op_delete_rule },
    { "EnableRule", op_enable_rule },
    { "DisableRule", op_disable_rule },
    { "PutTargets", op_put_targets },
    { "RemoveTargets", op_remove_targets },
    { "ListTargetsByRule", op_list_targets },
    { "TestEventPattern", op_test_event_pattern },
    { "PutEvents", op_put_events },
};

int events_api_register(struct events_api *e, struct api_router *r)
{
    for (size_t i = 0; i < ARRAY_SIZE(ops); i++) {
        int rc = api_router_add_json(r, EVENTS_TARGET_PREFIX, ops[i].name, ops[i].fn, e);
        if (rc < 0)
            return rc;
    }
    return 0;
}
