/* SPDX-License-Identifier: Apache-2.0 */
/* The durable event bus: rules and targets in SQLite, a compiled rule set cached in memory
 * (reloaded when the database's rule generation moves), and the transactional outbox. */
#include "events/bus.h"

#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/buf.h"
#include "base/log.h"
#include "base/vec.h"
#include "base/xalloc.h"
#include "events/envelope.h"
#include "events/pattern.h"
#include "events/transform.h"
#include "store/queue.h"

/* EventBridge RetryPolicy bounds and defaults (the same numbers as deliver/retry.h, which this
 * module may not include: deliver sits above events). */
#define RETRY_ATTEMPTS_DEFAULT 185
#define RETRY_ATTEMPTS_MAX     185
#define EVENT_AGE_DEFAULT_S    86400
#define EVENT_AGE_MIN_S        60
#define EVENT_AGE_MAX_S        86400
#define MESSAGE_MAX            ((size_t)256 << 10) /* a rendered input (the SNS message cap) */
#define FAILURE_EVENT_MAX      ((size_t)64 << 10)  /* event text kept with a render failure */
#define LIST_MAX_DEFAULT       1000

/* ---- schema ------------------------------------------------------------------------------- */

/* The module's schema steps (meta_migrate, module "events"); append only. Times in the outbox
 * are ms since the epoch, in the rule tables seconds. */
static const char *const bus_steps[] = {
    /* 1: rules, targets, the rule generation, the outbox and render failures */
    "CREATE TABLE events_rules ("
    "  name TEXT PRIMARY KEY,"
    "  arn TEXT NOT NULL,"
    "  pattern TEXT,"
    "  schedule TEXT,"
    "  enabled INTEGER NOT NULL,"
    "  description TEXT,"
    "  role_arn TEXT,"
    "  created_at INTEGER NOT NULL,"
    "  updated_at INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE events_targets ("
    "  rule TEXT NOT NULL REFERENCES events_rules(name) ON DELETE CASCADE,"
    "  id TEXT NOT NULL,"
    "  arn TEXT NOT NULL,"
    "  role_arn TEXT,"
    "  input TEXT,"
    "  input_path TEXT,"
    "  has_transformer INTEGER NOT NULL DEFAULT 0,"
    "  paths_map TEXT,"
    "  input_template TEXT,"
    "  has_retry INTEGER NOT NULL DEFAULT 0,"
    "  max_retry_attempts INTEGER NOT NULL,"
    "  max_event_age_s INTEGER NOT NULL,"
    "  dlq_arn TEXT,"
    "  created_at INTEGER NOT NULL,"
    "  PRIMARY KEY (rule, id)) WITHOUT ROWID;"
    "CREATE INDEX events_targets_arn ON events_targets(arn);"
    "CREATE TABLE events_state ("
    "  key TEXT PRIMARY KEY,"
    "  value INTEGER NOT NULL) WITHOUT ROWID;"
    "INSERT INTO events_state (key, value) VALUES ('generation', 1);"
    "CREATE TABLE events_outbox ("
    "  id INTEGER PRIMARY KEY,"
    "  event_id TEXT NOT NULL,"
    "  rule_arn TEXT NOT NULL,"
    "  rule_name TEXT NOT NULL,"
    "  target_id TEXT NOT NULL,"
    "  target_arn TEXT NOT NULL,"
    "  message TEXT NOT NULL,"
    "  dlq_arn TEXT,"
    "  state INTEGER NOT NULL,"
    "  attempts INTEGER NOT NULL,"
    "  max_retry_attempts INTEGER NOT NULL,"
    "  max_event_age_s INTEGER NOT NULL,"
    "  created_at INTEGER NOT NULL,"
    "  age_from INTEGER NOT NULL,"
    "  next_at INTEGER NOT NULL,"
    "  updated_at INTEGER NOT NULL,"
    "  last_error TEXT,"
    "  UNIQUE (event_id, rule_arn, target_id));"
    "CREATE INDEX events_outbox_due ON events_outbox(state, next_at);"
    "CREATE TABLE events_render_failures ("
    "  id INTEGER PRIMARY KEY,"
    "  event_id TEXT NOT NULL,"
    "  rule_arn TEXT NOT NULL,"
    "  target_id TEXT NOT NULL,"
    "  target_arn TEXT NOT NULL,"
    "  error TEXT NOT NULL,"
    "  event TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL);",
};

int bus_migrate(struct meta_db *db, struct diag *d)
{
    return meta_migrate(db, "events", bus_steps, ARRAY_SIZE(bus_steps), d);
}

/* ---- the compiled rule set ---------------------------------------------------------------- */

struct snap_target {
    char *id, *arn, *dlq_arn;
    struct xform *x;
    int max_retry_attempts, max_event_age_s;
};

struct snap_rule {
    char *name, *arn;
    VEC(struct snap_target) targets;
};

/* An immutable view of the enabled rules at one generation. Publishers hold a reference while
 * they match, so a reload never frees a set in use. */
struct snapshot {
    int64_t gen;
    unsigned refs; /* guarded by bus->lock */
    struct pattern_set *set;
    struct snap_rule *rules; /* sorted by name */
    size_t n_rules;
    size_t *set_to_rule; /* pattern_set index -> rules[] index */
};

struct bus {
    char *region, *account;
    pthread_mutex_t lock; /* guards snap, its refcounts and the scratch pool */
    struct snapshot *snap;
    VEC(struct pattern_scratch *) scratch;
    bus_notify_fn notify;
    void *notify_ctx;
};

static void snapshot_free(struct snapshot *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n_rules; i++) {
        struct snap_rule *r = &s->rules[i];
        for (size_t j = 0; j < r->targets.n; j++) {
            struct snap_target *t = &r->targets.v[j];
            free(t->id);
            free(t->arn);
            free(t->dlq_arn);
            xform_free(t->x);
        }
        VEC_FREE(&r->targets);
        free(r->name);
        free(r->arn);
    }
    free(s->rules);
    free(s->set_to_rule);
    pattern_set_free(s->set);
    free(s);
}

static void snapshot_unref(struct bus *b, struct snapshot *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&b->lock);
    bool last = --s->refs == 0;
    pthread_mutex_unlock(&b->lock);
    if (last)
        snapshot_free(s);
}

/* ---- small helpers ------------------------------------------------------------------------ */

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static char *col_dup(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? xstrdup((const char *)t) : NULL;
}

static int set_err(struct bus_error *err, const char *code, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int set_err(struct bus_error *err, const char *code, int rc, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        err->code = code;
        vsnprintf(err->message, sizeof(err->message), fmt, ap);
        va_end(ap);
    }
    return rc;
}

/* A database failure, reported as EventBridge's InternalException. */
static int db_err(struct bus_error *err, int rc)
{
    return set_err(err, "InternalException", rc, "Internal error: %s", err_str(rc));
}

static int rule_missing(struct bus_error *err, const char *name)
{
    return set_err(err, "ResourceNotFoundException", -ERR_NOT_FOUND,
                   "Rule %s does not exist on EventBus " BUS_DEFAULT_BUS ".", name);
}

/* [\.\-_A-Za-z0-9]+ of at most BUS_NAME_MAX */
static bool is_name(const char *s)
{
    if (!s || !*s)
        return false;
    size_t n = 0;
    for (const char *p = s; *p; p++, n++) {
        char ch = *p;
        bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                  (ch >= '0' && ch <= '9') || ch == '.' || ch == '-' || ch == '_';
        if (!ok)
            return false;
    }
    return n <= BUS_NAME_MAX;
}

/* The model's message for a name that breaks its pattern or length. */
static int name_invalid(struct bus_error *err, const char *value, const char *where)
{
    const char *v = value ? value : "";
    if (strlen(v) > BUS_NAME_MAX)
        return set_err(err, "ValidationException", -ERR_INVALID,
                       "1 validation error detected: Value '%.100s' at '%s' failed to satisfy "
                       "constraint: Member must have length less than or equal to 64",
                       v, where);
    if (!*v)
        return set_err(err, "ValidationException", -ERR_INVALID,
                       "1 validation error detected: Value '' at '%s' failed to satisfy "
                       "constraint: Member must have length greater than or equal to 1",
                       where);
    return set_err(err, "ValidationException", -ERR_INVALID,
                   "1 validation error detected: Value '%.100s' at '%s' failed to satisfy "
                   "constraint: Member must satisfy regular expression pattern: "
                   "[\\.\\-_A-Za-z0-9]+",
                   v, where);
}

/* Begin a transaction unless the caller has one open. */
static int tx_begin(struct meta_conn *c, bool *own)
{
    *own = !meta_in_tx(c);
    return *own ? meta_begin(c) : 0;
}

/* Finish what tx_begin started: commit on success, roll back on failure. */
static int tx_end(struct meta_conn *c, bool own, int rc)
{
    if (!own)
        return rc;
    if (rc < 0) {
        meta_rollback(c);
        return rc;
    }
    int crc = meta_commit(c);
    if (crc < 0) {
        meta_rollback(c);
        return crc;
    }
    return rc;
}

static int bump_generation(struct meta_conn *c)
{
    sqlite3_stmt *st;
    int rc = meta_stmt(c,
                       "INSERT INTO events_state (key, value) VALUES ('generation', 1) "
                       "ON CONFLICT(key) DO UPDATE SET value = value + 1",
                       &st);
    return rc < 0 ? rc : meta_step_done(c, st);
}

static int read_generation(struct meta_conn *c, int64_t *gen)
{
    sqlite3_stmt *st;
    int rc = meta_stmt(c, "SELECT value FROM events_state WHERE key = 'generation'", &st);
    if (rc < 0)
        return rc;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *gen = sqlite3_column_int64(st, 0);
        rc = 0;
    } else if (rc == SQLITE_DONE) {
        *gen = 0;
        rc = 0;
    } else {
        rc = meta_err(c, rc, "read rule generation");
    }
    meta_done(st);
    return rc;
}

/* ---- construction ------------------------------------------------------------------------- */

static bool is_account(const char *a)
{
    if (!a || strlen(a) != 12)
        return false;
    for (const char *p = a; *p; p++)
        if (*p < '0' || *p > '9')
            return false;
    return true;
}

int bus_new(const struct bus_config *cfg, struct bus **out, struct diag *d)
{
    if (!cfg || !cfg->region || !*cfg->region)
        return diag_set(d, -ERR_INVALID, 0, "event bus: region is required");
    if (!is_account(cfg->account))
        return diag_set(d, -ERR_INVALID, 0, "event bus: account id must be 12 digits");
    struct bus *b = xcalloc(1, sizeof(*b));
    b->region = xstrdup(cfg->region);
    b->account = xstrdup(cfg->account);
    pthread_mutex_init(&b->lock, NULL);
    *out = b;
    return 0;
}

void bus_free(struct bus *b)
{
    if (!b)
        return;
    if (b->snap) {
        BUG_ON(b->snap->refs != 1);
        snapshot_free(b->snap);
    }
    for (size_t i = 0; i < b->scratch.n; i++)
        pattern_scratch_free(b->scratch.v[i]);
    VEC_FREE(&b->scratch);
    pthread_mutex_destroy(&b->lock);
    free(b->region);
    free(b->account);
    free(b);
}

char *bus_rule_arn(const struct bus *b, const char *name)
{
    return xasprintf("arn:aws:events:%s:%s:rule/%s", b->region, b->account, name);
}

void bus_set_notify(struct bus *b, bus_notify_fn fn, void *ctx)
{
    b->notify = fn;
    b->notify_ctx = ctx;
}

void bus_kick(struct bus *b)
{
    if (b && b->notify)
        b->notify(b->notify_ctx);
}

int bus_check_event_bus(const struct bus *b, const char *name, struct bus_error *err)
{
    if (!name || !*name || strcmp(name, BUS_DEFAULT_BUS) == 0)
        return 0;
    char *arn = xasprintf("arn:aws:events:%s:%s:event-bus/" BUS_DEFAULT_BUS, b->region, b->account);
    bool ok = strcmp(name, arn) == 0;
    free(arn);
    if (ok)
        return 0;
    return set_err(err, "ResourceNotFoundException", -ERR_NOT_FOUND,
                   "Event bus %.200s does not exist.", name);
}

/* ---- rules -------------------------------------------------------------------------------- */

static bool rule_exists(struct meta_conn *c, const char *name, int *rc)
{
    sqlite3_stmt *st;
    *rc = meta_stmt(c, "SELECT 1 FROM events_rules WHERE name = ?1", &st);
    if (*rc < 0)
        return false;
    meta_bind_text(st, 1, name);
    int s = sqlite3_step(st);
    bool found = s == SQLITE_ROW;
    if (s != SQLITE_ROW && s != SQLITE_DONE)
        *rc = meta_err(c, s, "find rule");
    meta_done(st);
    return found;
}

int bus_rule_put(struct bus *b, struct meta_conn *c, const struct bus_rule_spec *spec,
                 char **rule_arn, struct bus_error *err)
{
    if (!is_name(spec->name))
        return name_invalid(err, spec->name, "name");
    if (spec->description && strlen(spec->description) > BUS_DESCRIPTION_MAX)
        return set_err(err, "ValidationException", -ERR_INVALID,
                       "1 validation error detected: Value at 'description' failed to satisfy "
                       "constraint: Member must have length less than or equal to 512");
    if (spec->role_arn && strlen(spec->role_arn) > BUS_ARN_MAX)
        return set_err(err, "ValidationException", -ERR_INVALID,
                       "1 validation error detected: Value at 'roleArn' failed to satisfy "
                       "constraint: Member must have length less than or equal to 1600");
    if (spec->schedule_expression && *spec->schedule_expression)
        return set_err(err, "ValidationException", -ERR_INVALID,
                       "Parameter ScheduleExpression is not supported.");
    if (!spec->event_pattern)
        return set_err(err, "ValidationException", -ERR_INVALID,
                       "Parameter(s) ScheduleExpression or EventPattern must be specified.");
    size_t plen = spec->event_pattern_len ? spec->event_pattern_len : strlen(spec->event_pattern);
    if (plen > BUS_PATTERN_MAX)
        return set_err(err, "InvalidEventPatternException", -ERR_INVALID,
                       "Event pattern is not valid. Reason: the pattern is too long");
    char *msg = NULL;
    if (pattern_validate(spec->event_pattern, plen, &msg) < 0) {
        set_err(err, "InvalidEventPatternException", -ERR_INVALID, "%s",
                msg ? msg : "Event pattern is not valid.");
        free(msg);
        return -ERR_INVALID;
    }
    free(msg);

    bool own;
    int rc = tx_begin(c, &own);
    if (rc < 0)
        return db_err(err, rc);
    char *arn = bus_rule_arn(b, spec->name);
    int64_t now = time(NULL);
    sqlite3_stmt *st;
    rc =
        meta_stmt(c,
                  "INSERT INTO events_rules (name, arn, pattern, schedule, enabled, description,"
                  " role_arn, created_at, updated_at) VALUES (?1, ?2, ?3, NULL, ?4, ?5, ?6, ?7, ?7)"
                  " ON CONFLICT(name) DO UPDATE SET arn = ?2, pattern = ?3, schedule = NULL,"
                  " enabled = ?4, description = ?5, role_arn = ?6, updated_at = ?7",
                  &st);
    if (rc == 0) {
        sqlite3_bind_text(st, 3, spec->event_pattern, (int)plen, SQLITE_TRANSIENT);
        meta_bind_text(st, 1, spec->name);
        meta_bind_text(st, 2, arn);
        meta_bind_int(st, 4, spec->disabled ? 0 : 1);
        meta_bind_text(st, 5, spec->description);
        meta_bind_text(st, 6, spec->role_arn);
        meta_bind_int(st, 7, now);
        rc = meta_step_done(c, st);
    }
    if (rc == 0)
        rc = bump_generation(c);
    rc = tx_end(c, own, rc);
    if (rc < 0) {
        free(arn);
        return db_err(err, rc);
    }
    if (rule_arn)
        *rule_arn = arn;
    else
        free(arn);
    return 0;
}

void bus_rule_release(struct bus_rule *r)
{
    if (!r)
        return;
    free(r->name);
    free(r->arn);
    free(r->event_pattern);
    free(r->schedule_expression);
    free(r->description);
    free(r->role_arn);
    memset(r, 0, sizeof(*r));
}

#define RULE_COLUMNS                                                                            \
    "r.name, r.arn, r.pattern, r.schedule, r.description, r.role_arn, r.enabled, r.created_at," \
    " (SELECT count(*) FROM events_targets t WHERE t.rule = r.name)"

static void rule_from_row(sqlite3_stmt *st, struct bus_rule *r)
{
    r->name = col_dup(st, 0);
    r->arn = col_dup(st, 1);
    r->event_pattern = col_dup(st, 2);
    r->schedule_expression = col_dup(st, 3);
    r->description = col_dup(st, 4);
    r->role_arn = col_dup(st, 5);
    r->enabled = sqlite3_column_int(st, 6) != 0;
    r->created_at = sqlite3_column_int64(st, 7);
    r->n_targets = (size_t)sqlite3_column_int64(st, 8);
}

int bus_rule_get(struct bus *b, struct meta_conn *c, const char *name, struct bus_rule *out,
                 struct bus_error *err)
{
    (void)b;
    memset(out, 0, sizeof(*out));
    if (!is_name(name))
        return rule_missing(err, name ? name : "");
    sqlite3_stmt *st;
    int rc = meta_stmt(c, "SELECT " RULE_COLUMNS " FROM events_rules r WHERE r.name = ?1", &st);
    if (rc < 0)
        return db_err(err, rc);
    meta_bind_text(st, 1, name);
    int s = sqlite3_step(st);
    if (s == SQLITE_ROW)
        rule_from_row(st, out);
    else if (s == SQLITE_DONE)
        rc = rule_missing(err, name);
    else
        rc = db_err(err, meta_err(c, s, "describe rule"));
    meta_done(st);
    return rc;
}

void bus_rule_list_release(struct bus_rule_list *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++)
        bus_rule_release(&l->v[i]);
    free(l->v);
    free(l->next);
    memset(l, 0, sizeof(*l));
}

static size_t page_limit(size_t limit)
{
    return limit == 0 || limit > BUS_LIST_LIMIT_MAX ? BUS_LIST_LIMIT_MAX : limit;
}

/* Escape LIKE wildcards so a NamePrefix is taken literally ('\' is the escape). */
static char *like_prefix(const char *prefix)
{
    struct buf b;
    buf_init(&b, (size_t)1 << 20);
    for (const char *p = prefix ? prefix : ""; *p; p++) {
        if (*p == '%' || *p == '_' || *p == '\\')
            buf_putc(&b, '\\');
        buf_putc(&b, *p);
    }
    buf_putc(&b, '%');
    return buf_detach(&b, NULL);
}

int bus_rule_list(struct bus *b, struct meta_conn *c, const char *name_prefix, const char *after,
                  size_t limit, struct bus_rule_list *out, struct bus_error *err)
{
    (void)b;
    memset(out, 0, sizeof(*out));
    limit = page_limit(limit);
    char *like = like_prefix(name_prefix);
    sqlite3_stmt *st;
    int rc = meta_stmt(c,
                       "SELECT " RULE_COLUMNS " FROM events_rules r"
                       " WHERE r.name LIKE ?1 ESCAPE '\\' AND r.name > ?2"
                       " ORDER BY r.name LIMIT ?3",
                       &st);
    if (rc < 0) {
        free(like);
        return db_err(err, rc);
    }
    meta_bind_text(st, 1, like);
    meta_bind_text(st, 2, after ? after : "");
    meta_bind_int(st, 3, (int64_t)limit + 1);
    VEC(struct bus_rule) v = VEC_INIT;
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        if (v.n == limit) {
            out->next = xstrdup(v.v[v.n - 1].name);
            break;
        }
        struct bus_rule r = { 0 };
        rule_from_row(st, &r);
        VEC_PUSH(&v, r);
    }
    if (s != SQLITE_ROW && s != SQLITE_DONE)
        rc = db_err(err, meta_err(c, s, "list rules"));
    meta_done(st);
    free(like);
    out->v = v.v;
    out->n = v.n;
    if (rc < 0)
        bus_rule_list_release(out);
    return rc;
}

void bus_names_release(struct bus_names *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    free(l->next);
    memset(l, 0, sizeof(*l));
}

int bus_rule_names_by_target(struct bus *b, struct meta_conn *c, const char *target_arn,
                             const char *after, size_t limit, struct bus_names *out,
                             struct bus_error *err)
{
    (void)b;
    memset(out, 0, sizeof(*out));
    limit = page_limit(limit);
    sqlite3_stmt *st;
    int rc = meta_stmt(c,
                       "SELECT DISTINCT rule FROM events_targets WHERE arn = ?1 AND rule > ?2"
                       " ORDER BY rule LIMIT ?3",
                       &st);
    if (rc < 0)
        return db_err(err, rc);
    meta_bind_text(st, 1, target_arn ? target_arn : "");
    meta_bind_text(st, 2, after ? after : "");
    meta_bind_int(st, 3, (int64_t)limit + 1);
    VEC(char *) v = VEC_INIT;
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        if (v.n == limit) {
            out->next = xstrdup(v.v[v.n - 1]);
            break;
        }
        VEC_PUSH(&v, col_dup(st, 0));
    }
    if (s != SQLITE_ROW && s != SQLITE_DONE)
        rc = db_err(err, meta_err(c, s, "list rule names"));
    meta_done(st);
    out->v = v.v;
    out->n = v.n;
    if (rc < 0)
        bus_names_release(out);
    return rc;
}

static int count_targets(struct meta_conn *c, const char *rule, int64_t *n)
{
    sqlite3_stmt *st;
    int rc = meta_stmt(c, "SELECT count(*) FROM events_targets WHERE rule = ?1", &st);
    if (rc < 0)
        return rc;
    meta_bind_text(st, 1, rule);
    int s = sqlite3_step(st);
    if (s == SQLITE_ROW)
        *n = sqlite3_column_int64(st, 0);
    else
        rc = meta_err(c, s, "count targets");
    meta_done(st);
    return rc;
}

int bus_rule_delete(struct bus *b, struct meta_conn *c, const char *name, bool force,
                    struct bus_error *err)
{
    (void)b;
    if (!is_name(name))
        return name_invalid(err, name, "name");
    bool own;
    int rc = tx_begin(c, &own);
    if (rc < 0)
        return db_err(err, rc);
    int64_t n = 0;
    rc = count_targets(c, name, &n);
    if (rc < 0) {
        db_err(err, rc);
        goto out;
    }
    if (n > 0 && !force) {
        rc = set_err(err, "ValidationException", -ERR_INVALID,
                     "Rule can't be deleted since it has targets.");
        goto out;
    }
    sqlite3_stmt *st;
    rc = meta_stmt(c, "DELETE FROM events_targets WHERE rule = ?1", &st);
    if (rc == 0) {
        meta_bind_text(st, 1, name);
        rc = meta_step_done(c, st);
    }
    if (rc == 0)
        rc = meta_stmt(c, "DELETE FROM events_rules WHERE name = ?1", &st);
    if (rc == 0) {
        meta_bind_text(st, 1, name);
        rc = meta_step_done(c, st);
    }
    if (rc == 0 && meta_changes(c) > 0)
        rc = bump_generation(c);
    if (rc < 0)
        db_err(err, rc);
out:
    return tx_end(c, own, rc);
}

int bus_rule_set_enabled(struct bus *b, struct meta_conn *c, const char *name, bool enabled,
                         struct bus_error *err)
{
    (void)b;
    if (!is_name(name))
        return rule_missing(err, name ? name : "");
    bool own;
    int rc = tx_begin(c, &own);
    if (rc < 0)
        return db_err(err, rc);
    sqlite3_stmt *st;
    rc = meta_stmt(c, "UPDATE events_rules SET enabled = ?2, updated_at = ?3 WHERE name = ?1", &st);
    if (rc == 0) {
        meta_bind_text(st, 1, name);
        meta_bind_int(st, 2, enabled ? 1 : 0);
        meta_bind_int(st, 3, time(NULL));
        rc = meta_step_done(c, st);
    }
    if (rc < 0) {
        db_err(err, rc);
    } else if (meta_changes(c) == 0) {
        rc = rule_missing(err, name);
    } else {
        rc = bump_generation(c);
        if (rc < 0)
            db_err(err, rc);
    }
    return tx_end(c, own, rc);
}

/* ---- targets ------------------------------------------------------------------------------ */

void bus_failed_entries_release(struct bus_failed_entries *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->n; i++) {
        free(f->v[i].target_id);
        free(f->v[i].error_message);
    }
    free(f->v);
    memset(f, 0, sizeof(*f));
}

static void add_failure(struct bus_failed_entries *f, const char *id, const char *code,
                        char *message)
{
    f->v = xreallocarray(f->v, f->n + 1, sizeof(*f->v));
    f->v[f->n].target_id = xstrdup(id ? id : "");
    f->v[f->n].error_code = code;
    f->v[f->n].error_message = message;
    f->n++;
}

/* Is arn an SNS topic of this region and account ("arn:aws:sns:<r>:<a>:<name>")? */
static bool is_local_topic_arn(const struct bus *b, const char *arn)
{
    char *prefix = xasprintf("arn:aws:sns:%s:%s:", b->region, b->account);
    size_t n = strlen(prefix);
    bool ok = strncmp(arn, prefix, n) == 0 && arn[n] != '\0';
    free(prefix);
    if (!ok)
        return false;
    for (const char *p = arn + n; *p; p++) {
        char ch = *p;
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '-' || ch == '_'))
            return false;
    }
    return strlen(arn + n) <= 256;
}

/* Compile a target's input settings (validation and, in the snapshot, rendering). */
static int target_xform(const struct bus_target_spec *t, unsigned member, struct xform **x,
                        struct bus_error *err)
{
    struct xform_spec xs = { 0 };
    xs.target_id = t->id;
    xs.member = member;
    xs.input = t->input;
    xs.input_len = t->input ? strlen(t->input) : 0;
    xs.input_path = t->input_path;
    xs.input_path_len = t->input_path ? strlen(t->input_path) : 0;
    xs.has_transformer = t->has_transformer;
    xs.paths_map = t->paths_map;
    xs.paths_map_len = t->paths_map ? strlen(t->paths_map) : 0;
    xs.input_template = t->input_template;
    xs.input_template_len = t->input_template ? strlen(t->input_template) : 0;
    struct buf msg;
    buf_init(&msg, 8192);
    struct diag d = { 0 };
    int rc = xform_compile(&xs, x, &msg, &d);
    if (rc < 0)
        set_err(err, "ValidationException", -ERR_INVALID, "%s", msg.len ? buf_cstr(&msg) : d.msg);
    buf_release(&msg);
    return rc < 0 ? -ERR_INVALID : 0;
}

static int retry_invalid(struct bus_error *err, unsigned member, long long v, const char *field,
                         const char *rel, int bound)
{
    return set_err(err, "ValidationException", -ERR_INVALID,
                   "1 validation error detected: Value '%lld' at "
                   "'targets.%u.member.retryPolicy.%s' failed to satisfy constraint: Member "
                   "must have value %s than or equal to %d",
                   v, member, field, rel, bound);
}

/* RetryPolicy of a target after defaults; 0 or ValidationException. */
static int target_retry(const struct bus_target_spec *t, unsigned member, int *attempts, int *age_s,
                        struct bus_error *err)
{
    *attempts = RETRY_ATTEMPTS_DEFAULT;
    *age_s = EVENT_AGE_DEFAULT_S;
    if (!t->has_retry_policy)
        return 0;
    if (t->has_max_retry_attempts)
        *attempts = t->max_retry_attempts;
    if (t->max_event_age_s != 0)
        *age_s = t->max_event_age_s;
    if (*attempts < 0)
        return retry_invalid(err, member, *attempts, "maximumRetryAttempts", "greater", 0);
    if (*attempts > RETRY_ATTEMPTS_MAX)
        return retry_invalid(err, member, *attempts, "maximumRetryAttempts", "less",
                             RETRY_ATTEMPTS_MAX);
    if (*age_s < EVENT_AGE_MIN_S)
        return retry_invalid(err, member, *age_s, "maximumEventAgeInSeconds", "greater",
                             EVENT_AGE_MIN_S);
    if (*age_s > EVENT_AGE_MAX_S)
        return retry_invalid(err, member, *age_s, "maximumEventAgeInSeconds", "less",
                             EVENT_AGE_MAX_S);
    return 0;
}

static bool target_exists(struct meta_conn *c, const char *rule, const char *id, int *rc)
{
    sqlite3_stmt *st;
    *rc = meta_stmt(c, "SELECT 1 FROM events_targets WHERE rule = ?1 AND id = ?2", &st);
    if (*rc < 0)
        return false;
    meta_bind_text(st, 1, rule);
    meta_bind_text(st, 2, id);
    int s = sqlite3_step(st);
    if (s != SQLITE_ROW && s != SQLITE_DONE)
        *rc = meta_err(c, s, "find target");
    meta_done(st);
    return s == SQLITE_ROW;
}

int bus_targets_put(struct bus *b, struct meta_conn *c, const char *rule,
                    const struct bus_target_spec *targets, size_t n,
                    struct bus_failed_entries *failed, struct bus_error *err)
{
    memset(failed, 0, sizeof(*failed));
    if (!is_name(rule))
        return name_invalid(err, rule, "rule");
    if (n == 0)
        return set_err(err, "ValidationException", -ERR_INVALID,
                       "1 validation error detected: Value '[]' at 'targets' failed to satisfy "
                       "constraint: Member must have length greater than or equal to 1");
    if (n > 100)
        return set_err(err, "ValidationException", -ERR_INVALID,
                       "1 validation error detected: Value at 'targets' failed to satisfy "
                       "constraint: Member must have length less than or equal to 100");
    /* request-level validation first: nothing is stored when one target is malformed */
    for (size_t i = 0; i < n; i++) {
        const struct bus_target_spec *t = &targets[i];
        char where[64];
        snprintf(where, sizeof(where), "targets.%zu.member.id", i + 1);
        if (!is_name(t->id))
            return name_invalid(err, t->id, where);
        if (!t->arn || !*t->arn || strlen(t->arn) > BUS_ARN_MAX)
            return set_err(err, "ValidationException", -ERR_INVALID,
                           "1 validation error detected: Value at 'targets.%zu.member.arn' "
                           "failed to satisfy constraint: Member must have length %s",
                           i + 1,
                           t->arn && *t->arn ? "less than or equal to 1600"
                                             : "greater than or equal to 1");
        for (size_t j = 0; j < i; j++)
            if (strcmp(targets[j].id, t->id) == 0)
                return set_err(err, "ValidationException", -ERR_INVALID,
                               "Target Id %s appears more than once in the request.", t->id);
        struct xform *x = NULL;
        if (target_xform(t, (unsigned)(i + 1), &x, err) < 0)
            return -ERR_INVALID;
        xform_free(x);
        int attempts, age;
        if (target_retry(t, (unsigned)(i + 1), &attempts, &age, err) < 0)
            return -ERR_INVALID;
        if (t->dead_letter_arn && strlen(t->dead_letter_arn) > BUS_ARN_MAX)
            return set_err(err, "ValidationException", -ERR_INVALID,
                           "1 validation error detected: Value at "
                           "'targets.%zu.member.deadLetterConfig.arn' failed to satisfy "
                           "constraint: Member must have length less than or equal to 1600",
                           i + 1);
    }

    bool own;
    int rc = tx_begin(c, &own);
    if (rc < 0)
        return db_err(err, rc);
    if (!rule_exists(c, rule, &rc)) {
        rc = rc < 0 ? db_err(err, rc) : rule_missing(err, rule);
        goto out;
    }
    /* the limit counts the targets the rule would have afterwards */
    int64_t have = 0;
    rc = count_targets(c, rule, &have);
    if (rc < 0) {
        db_err(err, rc);
        goto out;
    }
    int64_t adding = 0;
    for (size_t i = 0; i < n; i++) {
        if (!is_local_topic_arn(b, targets[i].arn))
            continue;
        bool exists = target_exists(c, rule, targets[i].id, &rc);
        if (rc < 0) {
            db_err(err, rc);
            goto out;
        }
        adding += exists ? 0 : 1;
    }
    if (have + adding > BUS_TARGETS_PER_RULE) {
        rc = set_err(err, "LimitExceededException", -ERR_TOO_BIG,
                     "The requested resource exceeds the maximum number allowed.");
        goto out;
    }
    int64_t now = time(NULL);
    for (size_t i = 0; i < n; i++) {
        const struct bus_target_spec *t = &targets[i];
        if (!is_local_topic_arn(b, t->arn)) {
            add_failure(failed, t->id, "ValidationException",
                        xasprintf("Target %s: vigil delivers only to SNS topics of %s account "
                                  "%s (arn:aws:sns:%s:%s:<topic>), not to %.300s.",
                                  t->id, b->region, b->account, b->region, b->account, t->arn));
            continue;
        }
        int attempts, age;
        target_retry(t, (unsigned)(i + 1), &attempts, &age, NULL);
        sqlite3_stmt *st;
        rc = meta_stmt(c,
                       "INSERT INTO events_targets (rule, id, arn, role_arn, input, input_path,"
                       " has_transformer, paths_map, input_template, has_retry,"
                       " max_retry_attempts, max_event_age_s, dlq_arn, created_at)"
                       " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)"
                       " ON CONFLICT(rule, id) DO UPDATE SET arn = ?3, role_arn = ?4, input = ?5,"
                       " input_path = ?6, has_transformer = ?7, paths_map = ?8,"
                       " input_template = ?9, has_retry = ?10, max_retry_attempts = ?11,"
                       " max_event_age_s = ?12, dlq_arn = ?13",
                       &st);
        if (rc < 0) {
            db_err(err, rc);
            goto out;
        }
        meta_bind_text(st, 1, rule);
        meta_bind_text(st, 2, t->id);
        meta_bind_text(st, 3, t->arn);
        meta_bind_text(st, 4, t->role_arn);
        meta_bind_text(st, 5, t->input);
        meta_bind_text(st, 6, t->input_path);
        meta_bind_int(st, 7, t->has_transformer ? 1 : 0);
        meta_bind_text(st, 8, t->has_transformer ? t->paths_map : NULL);
        meta_bind_text(st, 9, t->has_transformer ? t->input_template : NULL);
        meta_bind_int(st, 10, t->has_retry_policy ? 1 : 0);
        meta_bind_int(st, 11, attempts);
        meta_bind_int(st, 12, age);
        meta_bind_text(st, 13, t->dead_letter_arn);
        meta_bind_int(st, 14, now);
        rc = meta_step_done(c, st);
        if (rc < 0) {
            db_err(err, rc);
            goto out;
        }
    }
    rc = bump_generation(c);
    if (rc < 0)
        db_err(err, rc);
out:
    rc = tx_end(c, own, rc);
    if (rc < 0)
        bus_failed_entries_release(failed);
    return rc;
}

int bus_targets_remove(struct bus *b, struct meta_conn *c, const char *rule, const char *const *ids,
                       size_t n, bool force, struct bus_failed_entries *failed,
                       struct bus_error *err)
{
    (void)b;
    (void)force; /* managed rules do not exist in vigil */
    memset(failed, 0, sizeof(*failed));
    if (!is_name(rule))
        return name_invalid(err, rule, "rule");
    if (n == 0 || n > 100)
        return set_err(err, "ValidationException", -ERR_INVALID,
                       "1 validation error detected: Value at 'ids' failed to satisfy "
                       "constraint: Member must have length %s",
                       n == 0 ? "greater than or equal to 1" : "less than or equal to 100");
    for (size_t i = 0; i < n; i++) {
        char where[64];
        snprintf(where, sizeof(where), "ids.%zu.member", i + 1);
        if (!is_name(ids[i]))
            return name_invalid(err, ids[i], where);
    }
    bool own;
    int rc = tx_begin(c, &own);
    if (rc < 0)
        return db_err(err, rc);
    if (!rule_exists(c, rule, &rc)) {
        rc = rc < 0 ? db_err(err, rc) : rule_missing(err, rule);
        goto out;
    }
    size_t removed = 0;
    for (size_t i = 0; i < n; i++) {
        sqlite3_stmt *st;
        rc = meta_stmt(c, "DELETE FROM events_targets WHERE rule = ?1 AND id = ?2", &st);
        if (rc == 0) {
            meta_bind_text(st, 1, rule);
            meta_bind_text(st, 2, ids[i]);
            rc = meta_step_done(c, st);
        }
        if (rc < 0) {
            db_err(err, rc);
            goto out;
        }
        if (meta_changes(c) == 0)
            add_failure(failed, ids[i], "ResourceNotFoundException",
                        xasprintf("Target %s does not exist on rule %s.", ids[i], rule));
        else
            removed++;
    }
    if (removed > 0) {
        rc = bump_generation(c);
        if (rc < 0)
            db_err(err, rc);
    }
out:
    rc = tx_end(c, own, rc);
    if (rc < 0)
        bus_failed_entries_release(failed);
    return rc;
}

void bus_target_release(struct bus_target *t)
{
    if (!t)
        return;
    free(t->id);
    free(t->arn);
    free(t->role_arn);
    free(t->input);
    free(t->input_path);
    free(t->paths_map);
    free(t->input_template);
    free(t->dead_letter_arn);
    memset(t, 0, sizeof(*t));
}

void bus_target_list_release(struct bus_target_list *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++)
        bus_target_release(&l->v[i]);
    free(l->v);
    free(l->next);
    memset(l, 0, sizeof(*l));
}

#define TARGET_COLUMNS                                                                  \
    "id, arn, role_arn, input, input_path, has_transformer, paths_map, input_template," \
    " has_retry, max_retry_attempts, max_event_age_s, dlq_arn"

static void target_from_row(sqlite3_stmt *st, int base, struct bus_target *t)
{
    t->id = col_dup(st, base + 0);
    t->arn = col_dup(st, base + 1);
    t->role_arn = col_dup(st, base + 2);
    t->input = col_dup(st, base + 3);
    t->input_path = col_dup(st, base + 4);
    t->has_transformer = sqlite3_column_int(st, base + 5) != 0;
    t->paths_map = col_dup(st, base + 6);
    t->input_template = col_dup(st, base + 7);
    t->has_retry_policy = sqlite3_column_int(st, base + 8) != 0;
    t->max_retry_attempts = sqlite3_column_int(st, base + 9);
    t->max_event_age_s = sqlite3_column_int(st, base + 10);
    t->dead_letter_arn = col_dup(st, base + 11);
}

int bus_targets_list(struct bus *b, struct meta_conn *c, const char *rule, const char *after,
                     size_t limit, struct bus_target_list *out, struct bus_error *err)
{
    (void)b;
    memset(out, 0, sizeof(*out));
    if (!is_name(rule))
        return rule_missing(err, rule ? rule : "");
    int rc;
    if (!rule_exists(c, rule, &rc))
        return rc < 0 ? db_err(err, rc) : rule_missing(err, rule);
    limit = page_limit(limit);
    sqlite3_stmt *st;
    rc = meta_stmt(c,
                   "SELECT " TARGET_COLUMNS " FROM events_targets WHERE rule = ?1 AND id > ?2"
                   " ORDER BY id LIMIT ?3",
                   &st);
    if (rc < 0)
        return db_err(err, rc);
    meta_bind_text(st, 1, rule);
    meta_bind_text(st, 2, after ? after : "");
    meta_bind_int(st, 3, (int64_t)limit + 1);
    VEC(struct bus_target) v = VEC_INIT;
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        if (v.n == limit) {
            out->next = xstrdup(v.v[v.n - 1].id);
            break;
        }
        struct bus_target t = { 0 };
        target_from_row(st, 0, &t);
        VEC_PUSH(&v, t);
    }
    if (s != SQLITE_ROW && s != SQLITE_DONE)
        rc = db_err(err, meta_err(c, s, "list targets"));
    meta_done(st);
    out->v = v.v;
    out->n = v.n;
    if (rc < 0)
        bus_target_list_release(out);
    return rc;
}

/* ---- loading the rule set ----------------------------------------------------------------- */

static int cmp_rule_name(const void *a, const void *b)
{
    return strcmp(((const struct snap_rule *)a)->name, ((const struct snap_rule *)b)->name);
}

static struct snap_rule *find_rule(struct snapshot *s, const char *name)
{
    struct snap_rule key = { .name = (char *)(uintptr_t)name };
    return bsearch(&key, s->rules, s->n_rules, sizeof(*s->rules), cmp_rule_name);
}

/* Build the snapshot of generation gen from the rows c sees. A stored rule or target that no
 * longer compiles (written by another version) is skipped with a warning, never fatal. */
static int snapshot_load(struct meta_conn *c, int64_t gen, struct snapshot **out)
{
    struct snapshot *s = xcalloc(1, sizeof(*s));
    s->gen = gen;
    s->refs = 1;
    s->set = pattern_set_new();
    VEC(struct snap_rule) rules = VEC_INIT;
    sqlite3_stmt *st;
    int rc = meta_stmt(c,
                       "SELECT name, arn, pattern FROM events_rules"
                       " WHERE enabled = 1 AND pattern IS NOT NULL ORDER BY name",
                       &st);
    if (rc < 0)
        goto fail;
    int sr;
    while ((sr = sqlite3_step(st)) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(st, 0);
        const char *pat = (const char *)sqlite3_column_text(st, 2);
        size_t plen = (size_t)sqlite3_column_bytes(st, 2);
        struct diag d = { 0 };
        if (pattern_set_add(s->set, name, pat, plen, &d) < 0) {
            log_warn("events", "rule %s: stored pattern no longer compiles: %s", name, d.msg);
            continue;
        }
        struct snap_rule r = { 0 };
        r.name = xstrdup(name);
        r.arn = col_dup(st, 1);
        VEC_PUSH(&rules, r);
    }
    if (sr != SQLITE_DONE)
        rc = meta_err(c, sr, "load rules");
    meta_done(st);
    s->rules = rules.v;
    s->n_rules = rules.n;
    if (rc < 0)
        goto fail;

    rc = meta_stmt(c,
                   "SELECT rule, " TARGET_COLUMNS " FROM events_targets"
                   " WHERE rule IN (SELECT name FROM events_rules WHERE enabled = 1)"
                   " ORDER BY rule, id",
                   &st);
    if (rc < 0)
        goto fail;
    while ((sr = sqlite3_step(st)) == SQLITE_ROW) {
        struct snap_rule *r = find_rule(s, (const char *)sqlite3_column_text(st, 0));
        if (!r)
            continue;
        struct bus_target t = { 0 };
        target_from_row(st, 1, &t);
        struct bus_target_spec spec = {
            .id = t.id,
            .arn = t.arn,
            .input = t.input,
            .input_path = t.input_path,
            .has_transformer = t.has_transformer,
            .paths_map = t.paths_map,
            .input_template = t.input_template,
        };
        struct xform *x = NULL;
        struct bus_error e;
        if (target_xform(&spec, 1, &x, &e) < 0) {
            log_warn("events", "rule %s target %s: stored input no longer compiles: %s", r->name,
                     t.id, e.message);
            bus_target_release(&t);
            continue;
        }
        struct snap_target st2 = {
            .id = t.id,
            .arn = t.arn,
            .dlq_arn = t.dead_letter_arn,
            .x = x,
            .max_retry_attempts = t.max_retry_attempts,
            .max_event_age_s = t.max_event_age_s,
        };
        t.id = t.arn = t.dead_letter_arn = NULL;
        bus_target_release(&t);
        VEC_PUSH(&r->targets, st2);
    }
    if (sr != SQLITE_DONE)
        rc = meta_err(c, sr, "load targets");
    meta_done(st);
    if (rc < 0)
        goto fail;

    pattern_set_build(s->set);
    size_t n = pattern_set_count(s->set);
    s->set_to_rule = xcalloc(n ? n : 1, sizeof(size_t));
    for (size_t i = 0; i < n; i++) {
        struct snap_rule *r = find_rule(s, pattern_set_rule_id(s->set, i));
        BUG_ON(!r);
        s->set_to_rule[i] = (size_t)(r - s->rules);
    }
    *out = s;
    return 0;
fail:
    snapshot_free(s);
    return rc;
}

/* The rule set for the generation c sees, loading it when the cached one is stale. The caller
 * owns one reference. */
static int snapshot_get(struct bus *b, struct meta_conn *c, struct snapshot **out)
{
    int64_t gen = 0;
    int rc = read_generation(c, &gen);
    if (rc < 0)
        return rc;
    pthread_mutex_lock(&b->lock);
    struct snapshot *s = b->snap;
    if (s && s->gen == gen) {
        s->refs++;
        pthread_mutex_unlock(&b->lock);
        *out = s;
        return 0;
    }
    pthread_mutex_unlock(&b->lock);

    struct snapshot *fresh;
    rc = snapshot_load(c, gen, &fresh);
    if (rc < 0)
        return rc;
    fresh->refs++; /* the caller's */
    struct snapshot *old = NULL;
    pthread_mutex_lock(&b->lock);
    /* keep the newest generation cached; a reader inside an older transaction uses its own */
    if (!b->snap || b->snap->gen < gen) {
        old = b->snap;
        b->snap = fresh;
    } else {
        fresh->refs--; /* not cached: only the caller holds it */
    }
    pthread_mutex_unlock(&b->lock);
    snapshot_unref(b, old);
    *out = fresh;
    return 0;
}

static struct pattern_scratch *scratch_get(struct bus *b)
{
    struct pattern_scratch *m = NULL;
    pthread_mutex_lock(&b->lock);
    if (b->scratch.n > 0)
        m = b->scratch.v[--b->scratch.n];
    pthread_mutex_unlock(&b->lock);
    return m ? m : pattern_scratch_new();
}

static void scratch_put(struct bus *b, struct pattern_scratch *m)
{
    pthread_mutex_lock(&b->lock);
    VEC_PUSH(&b->scratch, m);
    pthread_mutex_unlock(&b->lock);
}

/* ---- publishing --------------------------------------------------------------------------- */

struct matches {
    VEC(size_t) idx;
};

static int on_match(void *ctx, size_t rule)
{
    struct matches *m = ctx;
    VEC_PUSH(&m->idx, rule);
    return 0;
}

static int record_failure(struct meta_conn *c, const char *event_id, const struct snap_rule *r,
                          const struct snap_target *t, const char *error, const char *event,
                          size_t len, int64_t now)
{
    sqlite3_stmt *st;
    int rc = meta_stmt(c,
                       "INSERT INTO events_render_failures (event_id, rule_arn, target_id,"
                       " target_arn, error, event, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                       &st);
    if (rc < 0)
        return rc;
    meta_bind_text(st, 1, event_id);
    meta_bind_text(st, 2, r->arn);
    meta_bind_text(st, 3, t->id);
    meta_bind_text(st, 4, t->arn);
    meta_bind_text(st, 5, error);
    sqlite3_bind_text(st, 6, event, (int)(len < FAILURE_EVENT_MAX ? len : FAILURE_EVENT_MAX),
                      SQLITE_TRANSIENT);
    meta_bind_int(st, 7, now);
    return meta_step_done(c, st);
}

static const char *render_reason(int rc)
{
    switch (rc) {
    case -ERR_NOT_FOUND:
        return "InputPath selects nothing in the event";
    case -ERR_INVALID:
        return "InputTemplate rendered invalid JSON";
    case -ERR_TOO_BIG:
        return "rendered input is over 256 KiB";
    default:
        return "input could not be rendered";
    }
}

/* The event's "id" member (owned), NULL when it has none or is not a JSON object. */
static char *event_id_of(const char *event, size_t len, bool *is_object)
{
    json_error_t je;
    json_t *root = json_loadb(event, len, JSON_DECODE_ANY, &je);
    *is_object = json_is_object(root);
    const char *id = json_string_value(json_object_get(root, "id"));
    char *out = id && *id ? xstrdup(id) : NULL;
    json_decref(root);
    return out;
}

int bus_publish(struct bus *b, struct meta_conn *c, const char *event_json, size_t len,
                const char *event_id)
{
    if (!meta_in_tx(c))
        return -EINVAL;
    if (len > BUS_EVENT_MAX)
        return -ERR_TOO_BIG;
    char *id_owned = NULL;
    if (!event_id) {
        bool is_object;
        id_owned = event_id_of(event_json, len, &is_object);
        if (!id_owned)
            return -ERR_INVALID;
        event_id = id_owned;
    }
    struct snapshot *s;
    int rc = snapshot_get(b, c, &s);
    if (rc < 0) {
        free(id_owned);
        return rc;
    }
    struct matches m = { VEC_INIT };
    struct pattern_scratch *scratch = scratch_get(b);
    int nm = pattern_set_match(s->set, scratch, event_json, len, on_match, &m);
    scratch_put(b, scratch);
    if (nm < 0) {
        rc = nm == -ERR_TOO_BIG ? -ERR_INVALID : nm;
        goto out;
    }
    int64_t now = now_ms();
    char ingestion[EVENT_TIME_LEN];
    if (event_format_time((time_t)(now / 1000), ingestion) < 0)
        ingestion[0] = '\0';
    struct buf msg;
    buf_init(&msg, MESSAGE_MAX);
    int rows = 0;
    for (size_t i = 0; i < m.idx.n && rc == 0; i++) {
        const struct snap_rule *r = &s->rules[s->set_to_rule[m.idx.v[i]]];
        struct xform_ctx xc = { .rule_arn = r->arn,
                                .rule_name = r->name,
                                .ingestion_time = ingestion };
        for (size_t j = 0; j < r->targets.n && rc == 0; j++) {
            const struct snap_target *t = &r->targets.v[j];
            buf_reset(&msg);
            struct diag d = { 0 };
            int rr = xform_render(t->x, event_json, len, &xc, &msg, &d);
            if (rr < 0) {
                char *why = d.msg[0] && rr != -ERR_NOT_FOUND
                                ? xasprintf("%s: %s", render_reason(rr), d.msg)
                                : xstrdup(render_reason(rr));
                log_warn("events", "event %s rule %s target %s not delivered: %s", event_id,
                         r->name, t->id, why);
                rc = record_failure(c, event_id, r, t, why, event_json, len, now);
                free(why);
                continue;
            }
            sqlite3_stmt *st;
            /* (event, rule, target) is unique: publishing the same event twice is harmless */
            rc = meta_stmt(c,
                           "INSERT OR IGNORE INTO events_outbox (event_id, rule_arn, rule_name,"
                           " target_id, target_arn, message, dlq_arn, state, attempts,"
                           " max_retry_attempts, max_event_age_s, created_at, age_from, next_at,"
                           " updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 0, 0, ?8, ?9, ?10,"
                           " ?10, ?10, ?10)",
                           &st);
            if (rc < 0)
                break;
            meta_bind_text(st, 1, event_id);
            meta_bind_text(st, 2, r->arn);
            meta_bind_text(st, 3, r->name);
            meta_bind_text(st, 4, t->id);
            meta_bind_text(st, 5, t->arn);
            sqlite3_bind_text(st, 6, buf_cstr(&msg), (int)msg.len, SQLITE_TRANSIENT);
            meta_bind_text(st, 7, t->dlq_arn);
            meta_bind_int(st, 8, t->max_retry_attempts);
            meta_bind_int(st, 9, t->max_event_age_s);
            meta_bind_int(st, 10, now);
            rc = meta_step_done(c, st);
            if (rc == 0 && meta_changes(c) > 0)
                rows++;
        }
    }
    buf_release(&msg);
    if (rc == 0)
        rc = rows;
out:
    VEC_FREE(&m.idx);
    snapshot_unref(b, s);
    free(id_owned);
    return rc;
}

/* ---- the outbox --------------------------------------------------------------------------- */

const char *bus_outbox_state_name(enum bus_outbox_state s)
{
    switch (s) {
    case BUS_OUTBOX_PENDING:
        return "pending";
    case BUS_OUTBOX_DONE:
        return "done";
    case BUS_OUTBOX_DEAD:
        return "dead";
    }
    return "?";
}

void bus_outbox_row_release(struct bus_outbox_row *r)
{
    if (!r)
        return;
    free(r->event_id);
    free(r->rule_arn);
    free(r->rule_name);
    free(r->target_id);
    free(r->target_arn);
    free(r->message);
    free(r->dead_letter_arn);
    free(r->last_error);
    memset(r, 0, sizeof(*r));
}

void bus_outbox_rows_release(struct bus_outbox_rows *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++)
        bus_outbox_row_release(&l->v[i]);
    free(l->v);
    memset(l, 0, sizeof(*l));
}

#define OUTBOX_COLUMNS                                                                        \
    "id, event_id, rule_arn, rule_name, target_id, target_arn, message, dlq_arn, last_error," \
    " state, attempts, max_retry_attempts, max_event_age_s, created_at, age_from, next_at,"   \
    " updated_at"

static int outbox_query(struct meta_conn *c, sqlite3_stmt *st, struct bus_outbox_rows *out)
{
    VEC(struct bus_outbox_row) v = VEC_INIT;
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        struct bus_outbox_row r = { 0 };
        r.id = sqlite3_column_int64(st, 0);
        r.event_id = col_dup(st, 1);
        r.rule_arn = col_dup(st, 2);
        r.rule_name = col_dup(st, 3);
        r.target_id = col_dup(st, 4);
        r.target_arn = col_dup(st, 5);
        r.message = col_dup(st, 6);
        r.dead_letter_arn = col_dup(st, 7);
        r.last_error = col_dup(st, 8);
        r.state = (enum bus_outbox_state)sqlite3_column_int(st, 9);
        r.attempts = sqlite3_column_int(st, 10);
        r.max_retry_attempts = sqlite3_column_int(st, 11);
        r.max_event_age_s = sqlite3_column_int(st, 12);
        r.created_ms = sqlite3_column_int64(st, 13);
        r.age_from_ms = sqlite3_column_int64(st, 14);
        r.next_ms = sqlite3_column_int64(st, 15);
        r.updated_ms = sqlite3_column_int64(st, 16);
        VEC_PUSH(&v, r);
    }
    int rc = s == SQLITE_DONE ? 0 : meta_err(c, s, "read outbox");
    meta_done(st);
    out->v = v.v;
    out->n = v.n;
    if (rc < 0)
        bus_outbox_rows_release(out);
    return rc;
}

int bus_outbox_due(struct meta_conn *c, int64_t now, int64_t after_id, size_t limit,
                   struct bus_outbox_rows *out)
{
    memset(out, 0, sizeof(*out));
    sqlite3_stmt *st;
    int rc = queue_page(c,
                        "SELECT " OUTBOX_COLUMNS " FROM events_outbox WHERE state = 0"
                        " AND next_at <= ?1 AND id > ?2 ORDER BY next_at, id LIMIT ?3",
                        now, after_id, limit, &st);
    if (rc < 0)
        return rc;
    return outbox_query(c, st, out);
}

int bus_outbox_next_due(struct meta_conn *c, int64_t *next)
{
    return queue_scalar_int64(c, "SELECT min(next_at) FROM events_outbox WHERE state = 0",
                              "next outbox row", INT64_MAX, next);
}

/* The mark_* updates below touch one pending row: -ERR_NOT_FOUND (from queue_row_update) when
 * the row is not pending any more. */

int bus_outbox_mark_done(struct meta_conn *c, int64_t id, int64_t now)
{
    return queue_row_update(c,
                            "UPDATE events_outbox SET state = 1, attempts = attempts + 1,"
                            " updated_at = ?4, last_error = coalesce(?3, last_error)"
                            " WHERE id = ?1 AND state = 0",
                            id, 0, NULL, now);
}

int bus_outbox_mark_retry(struct meta_conn *c, int64_t id, int64_t next, const char *error,
                          int64_t now)
{
    return queue_row_update(c,
                            "UPDATE events_outbox SET attempts = attempts + 1, next_at = ?2,"
                            " last_error = ?3, updated_at = ?4 WHERE id = ?1 AND state = 0",
                            id, next, error, now);
}

int bus_outbox_mark_dead(struct meta_conn *c, int64_t id, const char *error, int64_t now)
{
    return queue_row_update(c,
                            "UPDATE events_outbox SET state = 2, attempts = attempts + 1,"
                            " last_error = ?3, updated_at = ?4 WHERE id = ?1 AND state = 0",
                            id, 0, error, now);
}

int bus_outbox_list(struct meta_conn *c, enum bus_outbox_state state, int64_t after_id,
                    size_t limit, struct bus_outbox_rows *out)
{
    memset(out, 0, sizeof(*out));
    sqlite3_stmt *st;
    int rc = queue_page(c,
                        "SELECT " OUTBOX_COLUMNS " FROM events_outbox WHERE state = ?1"
                        " AND id > ?2 ORDER BY id LIMIT ?3",
                        state, after_id, limit, &st);
    if (rc < 0)
        return rc;
    return outbox_query(c, st, out);
}

int bus_outbox_redrive(struct meta_conn *c, int64_t id, int64_t now, size_t *n)
{
    return queue_redrive(c,
                         "UPDATE events_outbox SET state = 0, attempts = 0, next_at = ?2,"
                         " age_from = ?2, updated_at = ?2 WHERE state = 2 AND (?1 = 0 OR id = ?1)",
                         id, now, n);
}

void bus_render_failures_release(struct bus_render_failures *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++) {
        struct bus_render_failure *f = &l->v[i];
        free(f->event_id);
        free(f->rule_arn);
        free(f->target_id);
        free(f->target_arn);
        free(f->error);
        free(f->event);
    }
    free(l->v);
    memset(l, 0, sizeof(*l));
}

int bus_render_failures_list(struct meta_conn *c, int64_t after_id, size_t limit,
                             struct bus_render_failures *out)
{
    memset(out, 0, sizeof(*out));
    sqlite3_stmt *st;
    int rc = meta_stmt(c,
                       "SELECT id, event_id, rule_arn, target_id, target_arn, error, event,"
                       " created_at FROM events_render_failures WHERE id > ?1 ORDER BY id"
                       " LIMIT ?2",
                       &st);
    if (rc < 0)
        return rc;
    meta_bind_int(st, 1, after_id);
    meta_bind_int(st, 2, (int64_t)(limit ? limit : LIST_MAX_DEFAULT));
    VEC(struct bus_render_failure) v = VEC_INIT;
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        struct bus_render_failure f = { 0 };
        f.id = sqlite3_column_int64(st, 0);
        f.event_id = col_dup(st, 1);
        f.rule_arn = col_dup(st, 2);
        f.target_id = col_dup(st, 3);
        f.target_arn = col_dup(st, 4);
        f.error = col_dup(st, 5);
        f.event = col_dup(st, 6);
        f.created_ms = sqlite3_column_int64(st, 7);
        VEC_PUSH(&v, f);
    }
    rc = s == SQLITE_DONE ? 0 : meta_err(c, s, "read render failures");
    meta_done(st);
    out->v = v.v;
    out->n = v.n;
    if (rc < 0)
        bus_render_failures_release(out);
    return rc;
}
