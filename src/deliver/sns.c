/* SPDX-License-Identifier: Apache-2.0 */
/* SNS topics, subscriptions and Publish fan-out in the metadata database, with SNS's
 * validation texts; filter policies through the event-pattern engine; the deliveries table
 * the worker drains. */
#include "deliver/sns.h"

#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/log.h"
#include "base/vec.h"
#include "base/xalloc.h"
#include "deliver/internal.h"
#include "deliver/mime.h"
#include "deliver/webhook.h"
#include "events/pattern.h"
#include "store/queue.h"

#define DISPLAY_NAME_MAX 100
#define ENDPOINT_MAX     2048
#define JSON_ATTRS_MAX   ((size_t)1 << 20) /* a stored attributes object */
#define BAD_PARAM        "Invalid parameter: "
#define ATTRS_REASON     "Invalid parameter: Attributes Reason: "

/* ---- schema ------------------------------------------------------------------------------- */

/* The module's schema steps (meta_migrate, module "sns"); append only. Times in ms since the
 * epoch. */
static const char *const sns_steps[] = {
    /* 1: topics, subscriptions, deliveries */
    "CREATE TABLE sns_topics ("
    "  arn TEXT PRIMARY KEY,"
    "  name TEXT NOT NULL UNIQUE,"
    "  attributes TEXT NOT NULL,"
    "  tags TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE sns_subscriptions ("
    "  arn TEXT PRIMARY KEY,"
    "  topic_arn TEXT NOT NULL REFERENCES sns_topics(arn) ON DELETE CASCADE,"
    "  protocol TEXT NOT NULL,"
    "  endpoint TEXT NOT NULL,"
    "  attributes TEXT NOT NULL,"
    "  confirmed INTEGER NOT NULL,"
    "  auth_unsubscribe INTEGER NOT NULL DEFAULT 0,"
    "  token TEXT,"
    "  token_expires INTEGER,"
    "  created_at INTEGER NOT NULL,"
    "  UNIQUE (topic_arn, protocol, endpoint)) WITHOUT ROWID;"
    "CREATE INDEX sns_subscriptions_token ON sns_subscriptions(token);"
    "CREATE TABLE sns_deliveries ("
    "  id INTEGER PRIMARY KEY,"
    "  type INTEGER NOT NULL,"
    "  message_id TEXT NOT NULL,"
    "  topic_arn TEXT NOT NULL,"
    "  subscription_arn TEXT NOT NULL,"
    "  protocol TEXT NOT NULL,"
    "  endpoint TEXT NOT NULL,"
    "  subject TEXT,"
    "  message TEXT,"
    "  token TEXT,"
    "  event_id TEXT,"
    "  attributes TEXT,"
    "  timestamp_ms INTEGER NOT NULL,"
    "  state INTEGER NOT NULL,"
    "  attempts INTEGER NOT NULL,"
    "  first_attempt_at INTEGER,"
    "  next_at INTEGER NOT NULL,"
    "  created_at INTEGER NOT NULL,"
    "  updated_at INTEGER NOT NULL,"
    "  last_error TEXT);"
    "CREATE INDEX sns_deliveries_due ON sns_deliveries(state, next_at);"
    "CREATE INDEX sns_deliveries_sub ON sns_deliveries(subscription_arn, state);",
};

int sns_migrate(struct meta_db *db, struct diag *d)
{
    return meta_migrate(db, "sns", sns_steps, ARRAY_SIZE(sns_steps), d);
}

/* ---- the handle --------------------------------------------------------------------------- */

struct sns {
    char *region, *account;
    sns_notify_fn notify;
    void *notify_ctx;
};

static bool is_account(const char *a)
{
    if (!a || strlen(a) != 12)
        return false;
    for (const char *p = a; *p; p++)
        if (*p < '0' || *p > '9')
            return false;
    return true;
}

int sns_new(const struct sns_config *cfg, struct sns **out, struct diag *d)
{
    if (!cfg || !cfg->region || !*cfg->region)
        return diag_set(d, -ERR_INVALID, 0, "sns: region is required");
    if (!is_account(cfg->account))
        return diag_set(d, -ERR_INVALID, 0, "sns: account id must be 12 digits");
    struct sns *s = xcalloc(1, sizeof(*s));
    s->region = xstrdup(cfg->region);
    s->account = xstrdup(cfg->account);
    *out = s;
    return 0;
}

void sns_free(struct sns *s)
{
    if (!s)
        return;
    free(s->region);
    free(s->account);
    free(s);
}

void sns_set_notify(struct sns *s, sns_notify_fn fn, void *ctx)
{
    s->notify = fn;
    s->notify_ctx = ctx;
}

void sns_kick(struct sns *s)
{
    if (s && s->notify)
        s->notify(s->notify_ctx);
}

char *sns_topic_arn(const struct sns *s, const char *name)
{
    return xasprintf("arn:aws:sns:%s:%s:%s", s->region, s->account, name);
}

/* ---- helpers ------------------------------------------------------------------------------ */

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

static int set_err(struct sns_error *err, const char *code, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int set_err(struct sns_error *err, const char *code, int rc, const char *fmt, ...)
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

#define bad_param(err, ...) set_err(err, "InvalidParameter", -ERR_INVALID, __VA_ARGS__)

static int db_err(struct sns_error *err, int rc)
{
    return set_err(err, "InternalError", rc, "Internal error: %s", err_str(rc));
}

static int tx_begin(struct meta_conn *c, bool *own)
{
    *own = !meta_in_tx(c);
    return *own ? meta_begin(c) : 0;
}

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

/* SNS's ARN check: "Invalid parameter: <what> Reason: An ARN must have at least 6 elements,
 * not N" for text with fewer than six ':'-separated parts. */
static int arn_check(const char *arn, const char *what, struct sns_error *err)
{
    if (!arn || !*arn)
        return bad_param(err, BAD_PARAM "%s", what);
    size_t parts = 1;
    for (const char *p = arn; *p; p++)
        parts += *p == ':';
    if (parts < 6)
        return bad_param(err, BAD_PARAM "%s Reason: An ARN must have at least 6 elements, not %zu",
                         what, parts);
    if (strlen(arn) > SNS_FIELD_MAX)
        return bad_param(err, BAD_PARAM "%s", what);
    return 0;
}

/* A JSON object of string values from text (NULL/empty = {}); NULL when the text is not one. */
static json_t *attrs_load(const char *text)
{
    if (!text || !*text)
        return json_object();
    json_error_t je;
    json_t *o = json_loads(text, 0, &je);
    if (!json_is_object(o)) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static char *attrs_dump(const json_t *o)
{
    char *s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    BUG_ON(!s);
    char *out = xstrdup(s);
    free(s);
    return out;
}

static const char *attr_str(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

void sns_attrs_release(struct sns_attrs *a)
{
    if (!a)
        return;
    for (size_t i = 0; i < a->n; i++) {
        free(a->v[i].key);
        free(a->v[i].value);
    }
    free(a->v);
    memset(a, 0, sizeof(*a));
}

const char *sns_attrs_get(const struct sns_attrs *a, const char *key)
{
    for (size_t i = 0; i < a->n; i++)
        if (strcmp(a->v[i].key, key) == 0)
            return a->v[i].value;
    return NULL;
}

static void attrs_add(struct sns_attrs *a, const char *key, const char *value)
{
    a->v = xreallocarray(a->v, a->n + 1, sizeof(*a->v));
    a->v[a->n].key = xstrdup(key);
    a->v[a->n].value = xstrdup(value ? value : "");
    a->n++;
}

static bool attrs_has(const struct sns_attrs *a, const char *key)
{
    return sns_attrs_get(a, key) != NULL;
}

void sns_names_release(struct sns_names *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    free(l->next);
    memset(l, 0, sizeof(*l));
}

static bool is_valid_utf8(const char *s, size_t n)
{
    return dlv_utf8_valid(str_make(s, n));
}

/* Printable ASCII and UTF-8 without control characters (attribute values that are shown). */
static bool has_controls(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return true;
    return false;
}

/* ---- topics ------------------------------------------------------------------------------- */

static bool is_topic_name(const char *n)
{
    if (!n || !*n || strlen(n) > SNS_TOPIC_NAME_MAX)
        return false;
    for (const char *p = n; *p; p++) {
        char ch = *p;
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '-' || ch == '_'))
            return false;
    }
    return true;
}

/* Validate one topic attribute; on error write SNS's reason (the text after "Invalid
 * parameter: ") into why. */
static int topic_attr_check(const char *name, const char *value, char *why, size_t cap)
{
    size_t len = strlen(value);
    if (len > SNS_ATTR_VALUE_MAX || !is_valid_utf8(value, len)) {
        snprintf(why, cap, "%s", name);
        return -ERR_INVALID;
    }
    if (strcmp(name, "DisplayName") == 0) {
        if (len > DISPLAY_NAME_MAX || has_controls(value)) {
            snprintf(why, cap, "DisplayName");
            return -ERR_INVALID;
        }
        return 0;
    }
    if (strcmp(name, "Policy") == 0 || strcmp(name, "DataProtectionPolicy") == 0 ||
        strcmp(name, "ArchivePolicy") == 0) {
        if (len == 0)
            return 0;
        json_error_t je;
        json_t *o = json_loads(value, 0, &je);
        bool ok = json_is_object(o);
        json_decref(o);
        if (!ok) {
            snprintf(why, cap, "%s: failed to parse JSON. Policy must be a JSON object", name);
            return -ERR_INVALID;
        }
        return 0;
    }
    if (strcmp(name, "DeliveryPolicy") == 0) {
        if (len == 0)
            return 0;
        struct sns_delivery_policy p;
        struct diag d = { 0 };
        if (sns_delivery_policy_parse(str_make(value, len), SNS_POLICY_TOPIC, &p, &d) < 0) {
            snprintf(why, cap, "%s", d.msg);
            return -ERR_INVALID;
        }
        return 0;
    }
    if (strcmp(name, "SignatureVersion") == 0) {
        if (strcmp(value, "1") != 0 && strcmp(value, "2") != 0) {
            snprintf(why, cap, "SignatureVersion: Invalid value [%.40s]. Must be 1 or 2.", value);
            return -ERR_INVALID;
        }
        return 0;
    }
    if (strcmp(name, "TracingConfig") == 0) {
        if (strcmp(value, "PassThrough") != 0 && strcmp(value, "Active") != 0) {
            snprintf(why, cap,
                     "TracingConfig: Invalid value [%.40s]. Must be PassThrough or Active.", value);
            return -ERR_INVALID;
        }
        return 0;
    }
    if (strcmp(name, "KmsMasterKeyId") == 0)
        return 0;
    if (strcmp(name, "FifoTopic") == 0 || strcmp(name, "ContentBasedDeduplication") == 0) {
        if (strcmp(value, "false") == 0)
            return 0;
        snprintf(why, cap, "%s: FIFO topics are not supported", name);
        return -ERR_INVALID;
    }
    snprintf(why, cap, "AttributeName");
    return -ERR_NOT_FOUND;
}

static json_t *tags_json(const struct sns_kv *tags, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_pack("{s:s, s:s}", "Key", tags[i].key ? tags[i].key : "",
                                           "Value", tags[i].value ? tags[i].value : ""));
    return a;
}

int sns_topic_create(struct sns *s, struct meta_conn *c, const char *name,
                     const struct sns_kv *attrs, size_t n_attrs, const struct sns_kv *tags,
                     size_t n_tags, char **topic_arn, struct sns_error *err)
{
    if (name && strlen(name) > 5 && strcmp(name + strlen(name) - 5, ".fifo") == 0)
        return bad_param(err, ATTRS_REASON "FifoTopic: FIFO topics are not supported");
    if (!is_topic_name(name))
        return bad_param(err, BAD_PARAM "Topic Name");
    json_t *given = json_object();
    for (size_t i = 0; i < n_attrs; i++) {
        const char *k = attrs[i].key ? attrs[i].key : "";
        const char *v = attrs[i].value ? attrs[i].value : "";
        char why[600];
        int rc = topic_attr_check(k, v, why, sizeof(why));
        if (rc == -ERR_NOT_FOUND) {
            json_decref(given);
            return bad_param(err, ATTRS_REASON "Unknown attribute %.200s", k);
        }
        if (rc < 0) {
            json_decref(given);
            return bad_param(err, ATTRS_REASON "%s", why);
        }
        if (strcmp(k, "FifoTopic") == 0 || strcmp(k, "ContentBasedDeduplication") == 0)
            continue; /* "false" is the only accepted value: the default, not stored */
        json_object_set_new(given, k, json_string(v));
    }
    for (size_t i = 0; i < n_tags; i++) {
        const char *k = tags[i].key ? tags[i].key : "";
        const char *v = tags[i].value ? tags[i].value : "";
        if (!*k || strlen(k) > 128 || strlen(v) > 256) {
            json_decref(given);
            return bad_param(err, BAD_PARAM "Tags");
        }
    }
    char *arn = sns_topic_arn(s, name);
    bool own;
    int rc = tx_begin(c, &own);
    if (rc < 0) {
        db_err(err, rc);
        goto out;
    }
    sqlite3_stmt *st;
    rc = meta_stmt(c, "SELECT attributes, tags FROM sns_topics WHERE arn = ?1", &st);
    if (rc < 0) {
        db_err(err, rc);
        goto end;
    }
    meta_bind_text(st, 1, arn);
    int sr = sqlite3_step(st);
    if (sr == SQLITE_ROW) {
        /* idempotent: the attributes given must equal what is stored */
        json_t *have = attrs_load((const char *)sqlite3_column_text(st, 0));
        json_error_t je;
        json_t *have_tags = json_loads((const char *)sqlite3_column_text(st, 1), 0, &je);
        meta_done(st);
        bool same = have != NULL;
        const char *k;
        json_t *v;
        json_object_foreach(given, k, v)
        {
            const char *hv = attr_str(have, k);
            if (!hv || strcmp(hv, json_string_value(v)) != 0)
                same = false;
        }
        json_t *want_tags = tags_json(tags, n_tags);
        bool same_tags = n_tags == 0 || json_equal(want_tags, have_tags);
        json_decref(want_tags);
        json_decref(have);
        json_decref(have_tags);
        if (!same)
            rc = bad_param(err, ATTRS_REASON "Topic already exists with different attributes");
        else if (!same_tags)
            rc = bad_param(err, BAD_PARAM "Tags Reason: Topic already exists with different tags");
        goto end;
    }
    meta_done(st);
    if (sr != SQLITE_DONE) {
        rc = db_err(err, meta_err(c, sr, "find topic"));
        goto end;
    }
    rc = meta_stmt(c,
                   "INSERT INTO sns_topics (arn, name, attributes, tags, created_at)"
                   " VALUES (?1, ?2, ?3, ?4, ?5)",
                   &st);
    if (rc < 0) {
        db_err(err, rc);
        goto end;
    }
    char *attrs_text = attrs_dump(given);
    json_t *tj = tags_json(tags, n_tags);
    char *tags_text = attrs_dump(tj);
    json_decref(tj);
    meta_bind_text(st, 1, arn);
    meta_bind_text(st, 2, name);
    meta_bind_text(st, 3, attrs_text);
    meta_bind_text(st, 4, tags_text);
    meta_bind_int(st, 5, now_ms());
    rc = meta_step_done(c, st);
    free(attrs_text);
    free(tags_text);
    if (rc < 0)
        db_err(err, rc);
end:
    rc = tx_end(c, own, rc);
out:
    json_decref(given);
    if (rc == 0 && topic_arn)
        *topic_arn = arn;
    else
        free(arn);
    return rc;
}

/* Does the topic exist? 0 with *found, or a database error. */
static int topic_find(struct meta_conn *c, const char *arn, bool *found, char **attrs_text)
{
    sqlite3_stmt *st;
    int rc = meta_stmt(c, "SELECT attributes FROM sns_topics WHERE arn = ?1", &st);
    if (rc < 0)
        return rc;
    meta_bind_text(st, 1, arn);
    int sr = sqlite3_step(st);
    *found = sr == SQLITE_ROW;
    if (attrs_text)
        *attrs_text = *found ? col_dup(st, 0) : NULL;
    if (sr != SQLITE_ROW && sr != SQLITE_DONE)
        rc = meta_err(c, sr, "find topic");
    meta_done(st);
    return rc;
}

/* A topic that must exist: 0, InvalidParameter, NotFound or a database error. */
static int topic_need(struct meta_conn *c, const char *arn, char **attrs_text,
                      struct sns_error *err)
{
    int rc = arn_check(arn, "TopicArn", err);
    if (rc < 0)
        return rc;
    bool found;
    rc = topic_find(c, arn, &found, attrs_text);
    if (rc < 0)
        return db_err(err, rc);
    if (!found)
        return set_err(err, "NotFound", -ERR_NOT_FOUND, "Topic does not exist");
    return 0;
}

int sns_topic_exists(struct sns *s, struct meta_conn *c, const char *topic_arn, bool *exists,
                     struct sns_error *err)
{
    (void)s;
    *exists = false;
    int rc = arn_check(topic_arn, "TopicArn", err);
    if (rc < 0)
        return rc;
    rc = topic_find(c, topic_arn, exists, NULL);
    return rc < 0 ? db_err(err, rc) : 0;
}

static int exec_bind1(struct meta_conn *c, const char *sql, const char *a)
{
    sqlite3_stmt *st;
    int rc = meta_stmt(c, sql, &st);
    if (rc < 0)
        return rc;
    meta_bind_text(st, 1, a);
    return meta_step_done(c, st);
}

int sns_topic_delete(struct sns *s, struct meta_conn *c, const char *topic_arn,
                     struct sns_error *err)
{
    (void)s;
    int rc = arn_check(topic_arn, "TopicArn", err);
    if (rc < 0)
        return rc;
    bool own;
    rc = tx_begin(c, &own);
    if (rc < 0)
        return db_err(err, rc);
    rc = exec_bind1(c, "DELETE FROM sns_deliveries WHERE topic_arn = ?1 AND state = 0", topic_arn);
    if (rc == 0)
        rc = exec_bind1(c, "DELETE FROM sns_subscriptions WHERE topic_arn = ?1", topic_arn);
    if (rc == 0)
        rc = exec_bind1(c, "DELETE FROM sns_topics WHERE arn = ?1", topic_arn);
    if (rc < 0)
        db_err(err, rc);
    return tx_end(c, own, rc);
}

int sns_topic_list(struct sns *s, struct meta_conn *c, const char *after, struct sns_names *out,
                   struct sns_error *err)
{
    (void)s;
    memset(out, 0, sizeof(*out));
    sqlite3_stmt *st;
    int rc = meta_stmt(c, "SELECT arn FROM sns_topics WHERE arn > ?1 ORDER BY arn LIMIT ?2", &st);
    if (rc < 0)
        return db_err(err, rc);
    meta_bind_text(st, 1, after ? after : "");
    meta_bind_int(st, 2, SNS_LIST_PAGE + 1);
    VEC(char *) v = VEC_INIT;
    int sr;
    while ((sr = sqlite3_step(st)) == SQLITE_ROW) {
        if (v.n == SNS_LIST_PAGE) {
            out->next = xstrdup(v.v[v.n - 1]);
            break;
        }
        VEC_PUSH(&v, col_dup(st, 0));
    }
    if (sr != SQLITE_ROW && sr != SQLITE_DONE)
        rc = db_err(err, meta_err(c, sr, "list topics"));
    meta_done(st);
    out->v = v.v;
    out->n = v.n;
    if (rc < 0)
        sns_names_release(out);
    return rc;
}

static int count_subs(struct meta_conn *c, const char *topic_arn, bool confirmed, long long *n)
{
    sqlite3_stmt *st;
    int rc = meta_stmt(c,
                       "SELECT count(*) FROM sns_subscriptions WHERE topic_arn = ?1"
                       " AND confirmed = ?2",
                       &st);
    if (rc < 0)
        return rc;
    meta_bind_text(st, 1, topic_arn);
    meta_bind_int(st, 2, confirmed ? 1 : 0);
    int sr = sqlite3_step(st);
    *n = sr == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    if (sr != SQLITE_ROW)
        rc = meta_err(c, sr, "count subscriptions");
    meta_done(st);
    return rc;
}

/* The policy SNS shows for a topic nobody gave one: the owner may do everything. */
static char *default_policy(const struct sns *s, const char *arn)
{
    return xasprintf(
        "{\"Version\":\"2008-10-17\",\"Id\":\"__default_policy_ID\",\"Statement\":[{\"Sid\":"
        "\"__default_statement_ID\",\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"*\"},"
        "\"Action\":[\"SNS:GetTopicAttributes\",\"SNS:SetTopicAttributes\","
        "\"SNS:AddPermission\",\"SNS:RemovePermission\",\"SNS:DeleteTopic\",\"SNS:Subscribe\","
        "\"SNS:ListSubscriptionsByTopic\",\"SNS:Publish\"],\"Resource\":\"%s\",\"Condition\":"
        "{\"StringEquals\":{\"AWS:SourceOwner\":\"%s\"}}}]}",
        arn, s->account);
}

/* Parse a stored DeliveryPolicy (NULL when absent or, for old rows, unparsable). */
static bool stored_policy(const char *text, enum sns_policy_level level,
                          struct sns_delivery_policy *out)
{
    if (!text || !*text)
        return false;
    return sns_delivery_policy_parse(str_from(text), level, out, NULL) == 0;
}

int sns_topic_get_attributes(struct sns *s, struct meta_conn *c, const char *topic_arn,
                             struct sns_attrs *out, struct sns_error *err)
{
    memset(out, 0, sizeof(*out));
    char *text = NULL;
    int rc = topic_need(c, topic_arn, &text, err);
    if (rc < 0)
        return rc;
    json_t *a = attrs_load(text);
    free(text);
    if (!a)
        a = json_object();
    long long pending = 0, confirmed = 0;
    rc = count_subs(c, topic_arn, false, &pending);
    if (rc == 0)
        rc = count_subs(c, topic_arn, true, &confirmed);
    if (rc < 0) {
        json_decref(a);
        return db_err(err, rc);
    }
    char num[32];
    const char *policy = attr_str(a, "Policy");
    if (policy) {
        attrs_add(out, "Policy", policy);
    } else {
        char *p = default_policy(s, topic_arn);
        attrs_add(out, "Policy", p);
        free(p);
    }
    attrs_add(out, "Owner", s->account);
    snprintf(num, sizeof(num), "%lld", pending);
    attrs_add(out, "SubscriptionsPending", num);
    attrs_add(out, "TopicArn", topic_arn);
    struct sns_delivery_policy tp, eff;
    bool has_tp = stored_policy(attr_str(a, "DeliveryPolicy"), SNS_POLICY_TOPIC, &tp);
    sns_delivery_policy_effective(has_tp ? &tp : NULL, NULL, &eff);
    struct buf b;
    buf_init(&b, 4096);
    sns_delivery_policy_json(&eff, SNS_POLICY_TOPIC, &b);
    attrs_add(out, "EffectiveDeliveryPolicy", buf_cstr(&b));
    buf_release(&b);
    snprintf(num, sizeof(num), "%lld", confirmed);
    attrs_add(out, "SubscriptionsConfirmed", num);
    const char *dn = attr_str(a, "DisplayName");
    attrs_add(out, "DisplayName", dn ? dn : "");
    attrs_add(out, "SubscriptionsDeleted", "0");
    const char *k;
    json_t *v;
    json_object_foreach(a, k, v)
    {
        if (!attrs_has(out, k))
            attrs_add(out, k, json_string_value(v));
    }
    json_decref(a);
    return 0;
}

int sns_topic_set_attribute(struct sns *s, struct meta_conn *c, const char *topic_arn,
                            const char *name, const char *value, struct sns_error *err)
{
    (void)s;
    if (!name || !*name)
        return bad_param(err, BAD_PARAM "AttributeName");
    char why[600];
    int rc = topic_attr_check(name, value ? value : "", why, sizeof(why));
    if (rc < 0)
        return bad_param(err, BAD_PARAM "%s", why);
    bool own;
    rc = tx_begin(c, &own);
    if (rc < 0)
        return db_err(err, rc);
    char *text = NULL;
    rc = topic_need(c, topic_arn, &text, err);
    if (rc < 0)
        return tx_end(c, own, rc);
    json_t *a = attrs_load(text);
    free(text);
    if (!a)
        a = json_object();
    if (!value || !*value || strcmp(name, "FifoTopic") == 0 ||
        strcmp(name, "ContentBasedDeduplication") == 0)
        json_object_del(a, name);
    else
        json_object_set_new(a, name, json_string(value));
    char *out = attrs_dump(a);
    json_decref(a);
    sqlite3_stmt *st;
    rc = meta_stmt(c, "UPDATE sns_topics SET attributes = ?2 WHERE arn = ?1", &st);
    if (rc == 0) {
        meta_bind_text(st, 1, topic_arn);
        meta_bind_text(st, 2, out);
        rc = meta_step_done(c, st);
    }
    free(out);
    if (rc < 0)
        db_err(err, rc);
    return tx_end(c, own, rc);
}

/* ---- filter policies ---------------------------------------------------------------------- */

struct policy_shape {
    size_t keys;   /* leaf paths */
    double combos; /* value combinations */
    bool nested;   /* an object below a top-level key (not $or) */
};

/* Walk a policy object: leaf arrays are keys; $or branches add up, keys multiply. */
static void policy_walk(const json_t *o, int depth, struct policy_shape *sh, double *combos)
{
    *combos = 1;
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)(uintptr_t)o, k, v)
    {
        if (strcmp(k, "$or") == 0 && json_is_array(v)) {
            double sum = 0;
            size_t i;
            json_t *br;
            json_array_foreach(v, i, br)
            {
                if (!json_is_object(br))
                    continue;
                double cb;
                policy_walk(br, depth, sh, &cb);
                sum += cb;
            }
            *combos *= sum > 0 ? sum : 1;
        } else if (json_is_array(v)) {
            sh->keys++;
            *combos *= json_array_size(v) ? (double)json_array_size(v) : 1;
        } else if (json_is_object(v)) {
            if (depth == 0)
                sh->nested = true;
            double cb;
            policy_walk(v, depth + 1, sh, &cb);
            *combos *= cb;
        }
    }
}

static const char pattern_reason_prefix[] = "Event pattern is not valid. Reason: ";

/* Is the policy "no policy" ("" or an empty object, blanks allowed)? */
static bool policy_is_empty(struct str p)
{
    struct str t = str_trim(p);
    if (t.len == 0)
        return true;
    if (t.ptr[0] != '{' || t.ptr[t.len - 1] != '}')
        return false;
    for (size_t i = 1; i + 1 < t.len; i++)
        if (t.ptr[i] != ' ' && t.ptr[i] != '\t' && t.ptr[i] != '\n' && t.ptr[i] != '\r')
            return false;
    return true;
}

int sns_filter_policy_check(struct str policy, enum sns_filter_scope scope, struct diag *d)
{
    static const char pre[] = BAD_PARAM "FilterPolicy: ";
    if (policy_is_empty(policy))
        return 0;
    if (policy.len > SNS_FILTER_POLICY_MAX)
        return diag_set(d, -ERR_INVALID, 0, "%sFilter policy is too long", pre);
    json_error_t je;
    json_t *root = json_loadb(policy.ptr, policy.len, JSON_DECODE_ANY, &je);
    if (!root) {
        return diag_set(d, -ERR_INVALID, 0, "%sfailed to parse JSON. %s at line %d column %d", pre,
                        je.text, je.line, je.column);
    }
    if (!json_is_object(root)) {
        json_decref(root);
        return diag_set(d, -ERR_INVALID, 0, "%sFilter policy must be a JSON object", pre);
    }
    struct policy_shape sh = { 0 };
    double combos;
    policy_walk(root, 0, &sh, &combos);
    json_decref(root);
    if (scope == SNS_SCOPE_ATTRIBUTES && sh.nested)
        return diag_set(d, -ERR_INVALID, 0,
                        "%sFilter policy scope MessageAttributes does not support nested filter "
                        "policy",
                        pre);
    if (sh.keys > SNS_FILTER_KEYS_MAX)
        return diag_set(d, -ERR_INVALID, 0, "%sFilter policy can not have more than %d keys", pre,
                        SNS_FILTER_KEYS_MAX);
    if (combos > SNS_FILTER_COMBOS_MAX)
        return diag_set(d, -ERR_INVALID, 0, "%sFilter policy is too complex", pre);
    struct pattern *p = NULL;
    struct diag pd = { 0 };
    if (pattern_compile(policy.ptr, policy.len, &p, &pd) < 0) {
        const char *reason = pd.msg;
        if (strncmp(reason, pattern_reason_prefix, sizeof(pattern_reason_prefix) - 1) == 0)
            reason += sizeof(pattern_reason_prefix) - 1;
        return diag_set(d, -ERR_INVALID, 0, "%s%s", pre, reason);
    }
    pattern_free(p);
    return 0;
}

/* The object a MessageAttributes-scope policy is matched against. */
static json_t *attrs_object(const struct sns_msg_attr *attrs, size_t n)
{
    json_t *o = json_object();
    for (size_t i = 0; i < n; i++) {
        const struct sns_msg_attr *a = &attrs[i];
        if (!a->name || !a->data_type)
            continue;
        const char *v = a->string_value ? a->string_value : "";
        json_t *val = NULL;
        if (strncmp(a->data_type, "Binary", 6) == 0)
            continue;
        json_error_t je;
        if (strncmp(a->data_type, "Number", 6) == 0) {
            val = json_loads(v, JSON_DECODE_ANY, &je);
            if (!json_is_number(val)) {
                json_decref(val);
                val = json_string(v);
            }
        } else if (strncmp(a->data_type, "String.Array", 12) == 0) {
            val = json_loads(v, JSON_DECODE_ANY, &je);
            if (!json_is_array(val)) {
                json_decref(val);
                val = json_string(v);
            }
        } else {
            val = json_string(v);
        }
        if (val)
            json_object_set_new(o, a->name, val);
    }
    return o;
}

int sns_filter_match(struct str policy, enum sns_filter_scope scope,
                     const struct sns_msg_attr *attrs, size_t n_attrs, struct str message,
                     bool *pass)
{
    *pass = true;
    if (policy_is_empty(policy))
        return 0;
    struct pattern *p = NULL;
    if (policy.len > SNS_FILTER_POLICY_MAX || pattern_compile(policy.ptr, policy.len, &p, NULL) < 0)
        return -ERR_INVALID;
    bool m = false;
    if (scope == SNS_SCOPE_BODY) {
        /* a body that is not a JSON object matches nothing */
        if (pattern_match(p, message.ptr ? message.ptr : "", message.len, &m) < 0)
            m = false;
    } else {
        json_t *o = attrs_object(attrs, n_attrs);
        char *text = json_dumps(o, JSON_COMPACT);
        json_decref(o);
        if (!text || pattern_match(p, text, strlen(text), &m) < 0)
            m = false;
        free(text);
    }
    pattern_free(p);
    *pass = m;
    return 0;
}

/* ---- subscriptions ------------------------------------------------------------------------ */

static const char *const protocol_names[] = { "email", "email-json", "http", "https" };

const char *sns_protocol_name(enum sns_protocol p)
{
    return (size_t)p < ARRAY_SIZE(protocol_names) ? protocol_names[p] : "?";
}

int sns_protocol_parse(const char *name, enum sns_protocol *out)
{
    for (size_t i = 0; name && i < ARRAY_SIZE(protocol_names); i++) {
        if (strcmp(name, protocol_names[i]) == 0) {
            *out = (enum sns_protocol)i;
            return 0;
        }
    }
    return -ERR_INVALID;
}

static bool is_http(enum sns_protocol p)
{
    return p == SNS_PROTO_HTTP || p == SNS_PROTO_HTTPS;
}

/* The scope named by text (NULL = default). */
static int scope_parse(const char *text, enum sns_filter_scope *out)
{
    if (!text || strcmp(text, "MessageAttributes") == 0) {
        *out = SNS_SCOPE_ATTRIBUTES;
        return 0;
    }
    if (strcmp(text, "MessageBody") == 0) {
        *out = SNS_SCOPE_BODY;
        return 0;
    }
    return -ERR_INVALID;
}

/* Validate one subscription attribute for protocol p; `scope_text` is the FilterPolicyScope
 * that will apply (for checking a FilterPolicy). why gets SNS's reason text. -ERR_NOT_FOUND
 * for an unknown name. */
static int sub_attr_check(enum sns_protocol p, const char *name, const char *value,
                          const char *scope_text, char *why, size_t cap)
{
    size_t len = strlen(value);
    if (len > SNS_ATTR_VALUE_MAX || !is_valid_utf8(value, len)) {
        snprintf(why, cap, "%s", name);
        return -ERR_INVALID;
    }
    if (strcmp(name, "RawMessageDelivery") == 0) {
        if (strcmp(value, "true") != 0 && strcmp(value, "false") != 0) {
            snprintf(why, cap, "RawMessageDelivery: Invalid value [%.60s]. Must be true or false.",
                     value);
            return -ERR_INVALID;
        }
        if (p == SNS_PROTO_EMAIL && strcmp(value, "true") == 0) {
            snprintf(why, cap, "Delivery protocol [email] does not support raw message delivery.");
            return -ERR_INVALID;
        }
        return 0;
    }
    if (strcmp(name, "DeliveryPolicy") == 0) {
        if (len == 0)
            return 0;
        if (!is_http(p)) {
            snprintf(why, cap,
                     "DeliveryPolicy: Delivery protocol [%s] does not support delivery "
                     "policies.",
                     sns_protocol_name(p));
            return -ERR_INVALID;
        }
        struct sns_delivery_policy dp;
        struct diag d = { 0 };
        if (sns_delivery_policy_parse(str_make(value, len), SNS_POLICY_SUBSCRIPTION, &dp, &d) < 0) {
            snprintf(why, cap, "%s", d.msg);
            return -ERR_INVALID;
        }
        return 0;
    }
    if (strcmp(name, "FilterPolicyScope") == 0) {
        enum sns_filter_scope sc;
        if (scope_parse(value, &sc) < 0) {
            snprintf(why, cap,
                     "FilterPolicyScope: Invalid value [%.60s]. Please use either "
                     "MessageBody or MessageAttributes",
                     value);
            return -ERR_INVALID;
        }
        return 0;
    }
    if (strcmp(name, "FilterPolicy") == 0) {
        enum sns_filter_scope sc = SNS_SCOPE_ATTRIBUTES;
        if (scope_parse(scope_text, &sc) < 0)
            sc = SNS_SCOPE_ATTRIBUTES;
        struct diag d = { 0 };
        if (sns_filter_policy_check(str_make(value, len), sc, &d) < 0) {
            /* the diag holds the whole text; callers prefix "Invalid parameter: " again */
            const char *m = d.msg;
            if (strncmp(m, BAD_PARAM, sizeof(BAD_PARAM) - 1) == 0)
                m += sizeof(BAD_PARAM) - 1;
            snprintf(why, cap, "%s", m);
            return -ERR_INVALID;
        }
        return 0;
    }
    if (strcmp(name, "RedrivePolicy") == 0) {
        if (len == 0)
            return 0;
        json_error_t je;
        json_t *o = json_loads(value, 0, &je);
        bool ok = json_is_object(o) && json_is_string(json_object_get(o, "deadLetterTargetArn"));
        json_decref(o);
        if (!ok) {
            snprintf(why, cap, "RedrivePolicy: deadLetterTargetArn is missing or not a string");
            return -ERR_INVALID;
        }
        return 0;
    }
    if (strcmp(name, "SubscriptionRoleArn") == 0)
        return 0;
    snprintf(why, cap, "AttributeName");
    return -ERR_NOT_FOUND;
}

/* The attribute object for a Subscribe request (RawMessageDelivery "false" and empty values
 * are not stored: they are the defaults). */
static int subscribe_attrs(enum sns_protocol p, const struct sns_subscribe_req *req, json_t **out,
                           struct sns_error *err)
{
    const char *scope = NULL;
    for (size_t i = 0; i < req->n_attrs; i++)
        if (req->attrs[i].key && strcmp(req->attrs[i].key, "FilterPolicyScope") == 0)
            scope = req->attrs[i].value;
    json_t *o = json_object();
    for (size_t i = 0; i < req->n_attrs; i++) {
        const char *k = req->attrs[i].key ? req->attrs[i].key : "";
        const char *v = req->attrs[i].value ? req->attrs[i].value : "";
        char why[700];
        int rc = sub_attr_check(p, k, v, scope, why, sizeof(why));
        if (rc == -ERR_NOT_FOUND) {
            json_decref(o);
            return bad_param(err, ATTRS_REASON "Unknown attribute %.200s", k);
        }
        if (rc < 0) {
            json_decref(o);
            return bad_param(err, ATTRS_REASON "%s", why);
        }
        if (!*v || (strcmp(k, "RawMessageDelivery") == 0 && strcmp(v, "false") == 0))
            continue;
        json_object_set_new(o, k, json_string(v));
    }
    *out = o;
    return 0;
}

static int endpoint_check(enum sns_protocol p, const char *endpoint, struct sns_error *err)
{
    if (!endpoint || !*endpoint)
        return bad_param(err, BAD_PARAM "Endpoint");
    size_t len = strlen(endpoint);
    if (len > ENDPOINT_MAX || has_controls(endpoint) || !is_valid_utf8(endpoint, len))
        return bad_param(err, BAD_PARAM "Endpoint");
    if (is_http(p)) {
        const char *scheme = p == SNS_PROTO_HTTP ? "http://" : "https://";
        if (strncasecmp(endpoint, scheme, strlen(scheme)) != 0 || len == strlen(scheme) ||
            strchr(endpoint, ' '))
            return bad_param(err, BAD_PARAM "Endpoint must match the specified protocol");
        return 0;
    }
    if (mime_addr_check(str_make(endpoint, len), NULL) < 0)
        return bad_param(err, BAD_PARAM "Email address");
    return 0;
}

static void new_token(char out[2 * SNS_TOKEN_BYTES + 1])
{
    unsigned char raw[SNS_TOKEN_BYTES];
    dlv_random(raw, sizeof(raw));
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < sizeof(raw); i++) {
        out[2 * i] = hex[raw[i] >> 4];
        out[2 * i + 1] = hex[raw[i] & 15];
    }
    out[2 * SNS_TOKEN_BYTES] = '\0';
}

/* Queue a delivery row. type: notification or confirmation. */
struct new_delivery {
    enum sns_msg_type type;
    const char *message_id, *topic_arn, *subscription_arn, *protocol, *endpoint;
    const char *subject, *message, *token, *event_id, *attrs_json;
    int64_t timestamp_ms;
};

static int delivery_insert(struct meta_conn *c, const struct new_delivery *d, int64_t now)
{
    sqlite3_stmt *st;
    int rc = meta_stmt(c,
                       "INSERT INTO sns_deliveries (type, message_id, topic_arn,"
                       " subscription_arn, protocol, endpoint, subject, message, token, event_id,"
                       " attributes, timestamp_ms, state, attempts, next_at, created_at,"
                       " updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12,"
                       " 0, 0, ?13, ?13, ?13)",
                       &st);
    if (rc < 0)
        return rc;
    meta_bind_int(st, 1, d->type);
    meta_bind_text(st, 2, d->message_id);
    meta_bind_text(st, 3, d->topic_arn);
    meta_bind_text(st, 4, d->subscription_arn);
    meta_bind_text(st, 5, d->protocol);
    meta_bind_text(st, 6, d->endpoint);
    meta_bind_text(st, 7, d->subject);
    meta_bind_text(st, 8, d->message);
    meta_bind_text(st, 9, d->token);
    meta_bind_text(st, 10, d->event_id);
    meta_bind_text(st, 11, d->attrs_json);
    meta_bind_int(st, 12, d->timestamp_ms);
    meta_bind_int(st, 13, now);
    return meta_step_done(c, st);
}

static int queue_confirmation(struct meta_conn *c, const char *topic_arn, const char *sub_arn,
                              const char *protocol, const char *endpoint, const char *token,
                              int64_t now)
{
    char mid[SNS_UUID_LEN + 1];
    sns_uuid4(mid);
    struct new_delivery d = {
        .type = SNS_SUBSCRIPTION_CONFIRMATION,
        .message_id = mid,
        .topic_arn = topic_arn,
        .subscription_arn = sub_arn,
        .protocol = protocol,
        .endpoint = endpoint,
        .token = token,
        .timestamp_ms = now,
    };
    return delivery_insert(c, &d, now);
}

int sns_subscribe(struct sns *s, struct meta_conn *c, const struct sns_subscribe_req *req,
                  char **subscription_arn, bool *pending, struct sns_error *err)
{
    (void)s;
    *pending = false;
    int rc = arn_check(req->topic_arn, "TopicArn", err);
    if (rc < 0)
        return rc;
    enum sns_protocol p;
    if (!req->protocol || sns_protocol_parse(req->protocol, &p) < 0)
        return bad_param(err, BAD_PARAM "Amazon SNS does not support this protocol string: %.100s",
                         req->protocol ? req->protocol : "");
    rc = endpoint_check(p, req->endpoint, err);
    if (rc < 0)
        return rc;
    json_t *attrs = NULL;
    rc = subscribe_attrs(p, req, &attrs, err);
    if (rc < 0)
        return rc;

    bool own;
    char *arn = NULL;
    rc = tx_begin(c, &own);
    if (rc < 0) {
        json_decref(attrs);
        return db_err(err, rc);
    }
    rc = topic_need(c, req->topic_arn, NULL, err);
    if (rc < 0)
        goto out;
    int64_t now = now_ms();
    char token[2 * SNS_TOKEN_BYTES + 1];
    sqlite3_stmt *st;
    rc = meta_stmt(c,
                   "SELECT arn, attributes, confirmed, token, token_expires FROM"
                   " sns_subscriptions WHERE topic_arn = ?1 AND protocol = ?2 AND endpoint = ?3",
                   &st);
    if (rc < 0) {
        db_err(err, rc);
        goto out;
    }
    meta_bind_text(st, 1, req->topic_arn);
    meta_bind_text(st, 2, sns_protocol_name(p));
    meta_bind_text(st, 3, req->endpoint);
    int sr = sqlite3_step(st);
    if (sr == SQLITE_ROW) {
        arn = col_dup(st, 0);
        json_t *have = attrs_load((const char *)sqlite3_column_text(st, 1));
        bool confirmed = sqlite3_column_int(st, 2) != 0;
        const char *old_token = (const char *)sqlite3_column_text(st, 3);
        int64_t expires = sqlite3_column_int64(st, 4);
        bool token_ok = old_token && expires > now && strlen(old_token) < sizeof(token);
        if (token_ok)
            snprintf(token, sizeof(token), "%s", old_token);
        meta_done(st);
        bool same = req->n_attrs == 0 || (have && json_equal(have, attrs));
        json_decref(have);
        if (!same) {
            rc = bad_param(err,
                           ATTRS_REASON "Subscription already exists with different attributes");
            goto out;
        }
        if (confirmed)
            goto out;
        /* still pending: send the confirmation again (with a fresh token once expired) */
        *pending = true;
        if (!token_ok) {
            new_token(token);
            rc = meta_stmt(c,
                           "UPDATE sns_subscriptions SET token = ?2, token_expires = ?3"
                           " WHERE arn = ?1",
                           &st);
            if (rc == 0) {
                meta_bind_text(st, 1, arn);
                meta_bind_text(st, 2, token);
                meta_bind_int(st, 3, now + SNS_TOKEN_TTL_MS);
                rc = meta_step_done(c, st);
            }
            if (rc < 0) {
                db_err(err, rc);
                goto out;
            }
        }
        rc = queue_confirmation(c, req->topic_arn, arn, sns_protocol_name(p), req->endpoint, token,
                                now);
        if (rc < 0)
            db_err(err, rc);
        goto out;
    }
    meta_done(st);
    if (sr != SQLITE_DONE) {
        rc = db_err(err, meta_err(c, sr, "find subscription"));
        goto out;
    }
    char uuid[SNS_UUID_LEN + 1];
    sns_uuid4(uuid);
    arn = xasprintf("%s:%s", req->topic_arn, uuid);
    new_token(token);
    rc = meta_stmt(c,
                   "INSERT INTO sns_subscriptions (arn, topic_arn, protocol, endpoint, attributes,"
                   " confirmed, token, token_expires, created_at)"
                   " VALUES (?1, ?2, ?3, ?4, ?5, 0, ?6, ?7, ?8)",
                   &st);
    if (rc < 0) {
        db_err(err, rc);
        goto out;
    }
    char *attrs_text = attrs_dump(attrs);
    meta_bind_text(st, 1, arn);
    meta_bind_text(st, 2, req->topic_arn);
    meta_bind_text(st, 3, sns_protocol_name(p));
    meta_bind_text(st, 4, req->endpoint);
    meta_bind_text(st, 5, attrs_text);
    meta_bind_text(st, 6, token);
    meta_bind_int(st, 7, now + SNS_TOKEN_TTL_MS);
    meta_bind_int(st, 8, now);
    rc = meta_step_done(c, st);
    free(attrs_text);
    if (rc == 0)
        rc = queue_confirmation(c, req->topic_arn, arn, sns_protocol_name(p), req->endpoint, token,
                                now);
    if (rc < 0)
        db_err(err, rc);
    *pending = true;
out:
    json_decref(attrs);
    rc = tx_end(c, own, rc);
    if (rc == 0 && subscription_arn)
        *subscription_arn = arn;
    else
        free(arn);
    if (rc < 0)
        *pending = false;
    return rc;
}

int sns_confirm_subscription(struct sns *s, struct meta_conn *c, const char *topic_arn,
                             const char *token, bool authenticate_on_unsubscribe,
                             char **subscription_arn, struct sns_error *err)
{
    (void)s;
    bool own;
    int rc = tx_begin(c, &own);
    if (rc < 0)
        return db_err(err, rc);
    char *arn = NULL;
    rc = topic_need(c, topic_arn, NULL, err);
    if (rc < 0)
        goto out;
    if (!token || !*token || strlen(token) > SNS_FIELD_MAX) {
        rc = bad_param(err, "Invalid token");
        goto out;
    }
    sqlite3_stmt *st;
    rc = meta_stmt(c,
                   "SELECT arn, token_expires, confirmed FROM sns_subscriptions"
                   " WHERE topic_arn = ?1 AND token = ?2",
                   &st);
    if (rc < 0) {
        db_err(err, rc);
        goto out;
    }
    meta_bind_text(st, 1, topic_arn);
    meta_bind_text(st, 2, token);
    int sr = sqlite3_step(st);
    bool confirmed = false;
    if (sr == SQLITE_ROW && sqlite3_column_int64(st, 1) > now_ms()) {
        arn = col_dup(st, 0);
        confirmed = sqlite3_column_int(st, 2) != 0;
    }
    meta_done(st);
    if (sr != SQLITE_ROW && sr != SQLITE_DONE) {
        rc = db_err(err, meta_err(c, sr, "find token"));
        goto out;
    }
    if (!arn) {
        rc = bad_param(err, "Invalid token");
        goto out;
    }
    if (!confirmed) {
        rc = meta_stmt(c,
                       "UPDATE sns_subscriptions SET confirmed = 1, auth_unsubscribe = ?2"
                       " WHERE arn = ?1",
                       &st);
        if (rc == 0) {
            meta_bind_text(st, 1, arn);
            meta_bind_int(st, 2, authenticate_on_unsubscribe ? 1 : 0);
            rc = meta_step_done(c, st);
        }
        if (rc < 0)
            db_err(err, rc);
    }
out:
    rc = tx_end(c, own, rc);
    if (rc == 0 && subscription_arn)
        *subscription_arn = arn;
    else
        free(arn);
    return rc;
}

int sns_unsubscribe(struct sns *s, struct meta_conn *c, const char *subscription_arn,
                    bool authenticated, struct sns_error *err)
{
    (void)s;
    int rc = arn_check(subscription_arn, "SubscriptionArn", err);
    if (rc < 0)
        return rc;
    bool own;
    rc = tx_begin(c, &own);
    if (rc < 0)
        return db_err(err, rc);
    sqlite3_stmt *st;
    rc = meta_stmt(c, "SELECT auth_unsubscribe FROM sns_subscriptions WHERE arn = ?1", &st);
    if (rc < 0) {
        db_err(err, rc);
        goto out;
    }
    meta_bind_text(st, 1, subscription_arn);
    int sr = sqlite3_step(st);
    bool need_auth = sr == SQLITE_ROW && sqlite3_column_int(st, 0) != 0;
    meta_done(st);
    if (sr == SQLITE_DONE) {
        rc = set_err(err, "NotFound", -ERR_NOT_FOUND, "Subscription does not exist");
        goto out;
    }
    if (sr != SQLITE_ROW) {
        rc = db_err(err, meta_err(c, sr, "find subscription"));
        goto out;
    }
    if (need_auth && !authenticated) {
        rc = set_err(err, "AuthorizationError", -ERR_DENIED,
                     "This subscription requires authentication to unsubscribe");
        goto out;
    }
    rc = exec_bind1(c, "DELETE FROM sns_deliveries WHERE subscription_arn = ?1 AND state = 0",
                    subscription_arn);
    if (rc == 0)
        rc = exec_bind1(c, "DELETE FROM sns_subscriptions WHERE arn = ?1", subscription_arn);
    if (rc < 0)
        db_err(err, rc);
out:
    return tx_end(c, own, rc);
}

void sns_subscription_list_release(struct sns_subscription_list *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++) {
        struct sns_subscription *x = &l->v[i];
        free(x->arn);
        free(x->topic_arn);
        free(x->protocol);
        free(x->endpoint);
        free(x->owner);
    }
    free(l->v);
    free(l->next);
    memset(l, 0, sizeof(*l));
}

int sns_subscription_list(struct sns *s, struct meta_conn *c, const char *topic_arn,
                          const char *after, struct sns_subscription_list *out,
                          struct sns_error *err)
{
    memset(out, 0, sizeof(*out));
    int rc;
    if (topic_arn) {
        rc = topic_need(c, topic_arn, NULL, err);
        if (rc < 0)
            return rc;
    }
    sqlite3_stmt *st;
    rc = meta_stmt(c,
                   "SELECT arn, topic_arn, protocol, endpoint, confirmed FROM sns_subscriptions"
                   " WHERE (?1 IS NULL OR topic_arn = ?1) AND arn > ?2 ORDER BY arn LIMIT ?3",
                   &st);
    if (rc < 0)
        return db_err(err, rc);
    meta_bind_text(st, 1, topic_arn);
    meta_bind_text(st, 2, after ? after : "");
    meta_bind_int(st, 3, SNS_LIST_PAGE + 1);
    VEC(struct sns_subscription) v = VEC_INIT;
    int sr;
    while ((sr = sqlite3_step(st)) == SQLITE_ROW) {
        if (v.n == SNS_LIST_PAGE) {
            out->next = xstrdup(v.v[v.n - 1].arn);
            break;
        }
        struct sns_subscription x = {
            .arn = col_dup(st, 0),
            .topic_arn = col_dup(st, 1),
            .protocol = col_dup(st, 2),
            .endpoint = col_dup(st, 3),
            .owner = xstrdup(s->account),
            .pending = sqlite3_column_int(st, 4) == 0,
        };
        VEC_PUSH(&v, x);
    }
    if (sr != SQLITE_ROW && sr != SQLITE_DONE)
        rc = db_err(err, meta_err(c, sr, "list subscriptions"));
    meta_done(st);
    out->v = v.v;
    out->n = v.n;
    if (rc < 0)
        sns_subscription_list_release(out);
    return rc;
}

/* One subscription's row (for get/set attributes). */
struct sub_row {
    char *topic_arn, *protocol, *endpoint, *attrs;
    bool confirmed, auth;
};

static void sub_row_release(struct sub_row *r)
{
    free(r->topic_arn);
    free(r->protocol);
    free(r->endpoint);
    free(r->attrs);
}

static int sub_need(struct meta_conn *c, const char *arn, struct sub_row *r, struct sns_error *err)
{
    memset(r, 0, sizeof(*r));
    int rc = arn_check(arn, "SubscriptionArn", err);
    if (rc < 0)
        return rc;
    sqlite3_stmt *st;
    rc = meta_stmt(c,
                   "SELECT topic_arn, protocol, endpoint, attributes, confirmed, auth_unsubscribe"
                   " FROM sns_subscriptions WHERE arn = ?1",
                   &st);
    if (rc < 0)
        return db_err(err, rc);
    meta_bind_text(st, 1, arn);
    int sr = sqlite3_step(st);
    if (sr == SQLITE_ROW) {
        r->topic_arn = col_dup(st, 0);
        r->protocol = col_dup(st, 1);
        r->endpoint = col_dup(st, 2);
        r->attrs = col_dup(st, 3);
        r->confirmed = sqlite3_column_int(st, 4) != 0;
        r->auth = sqlite3_column_int(st, 5) != 0;
    }
    meta_done(st);
    if (sr == SQLITE_DONE)
        return set_err(err, "NotFound", -ERR_NOT_FOUND, "Subscription does not exist");
    if (sr != SQLITE_ROW)
        return db_err(err, meta_err(c, sr, "find subscription"));
    return 0;
}

int sns_subscription_get_attributes(struct sns *s, struct meta_conn *c,
                                    const char *subscription_arn, struct sns_attrs *out,
                                    struct sns_error *err)
{
    memset(out, 0, sizeof(*out));
    struct sub_row r;
    int rc = sub_need(c, subscription_arn, &r, err);
    if (rc < 0)
        return rc;
    json_t *a = attrs_load(r.attrs);
    if (!a)
        a = json_object();
    attrs_add(out, "SubscriptionArn", subscription_arn);
    attrs_add(out, "TopicArn", r.topic_arn);
    attrs_add(out, "Owner", s->account);
    attrs_add(out, "Protocol", r.protocol);
    attrs_add(out, "Endpoint", r.endpoint);
    attrs_add(out, "PendingConfirmation", r.confirmed ? "false" : "true");
    attrs_add(out, "ConfirmationWasAuthenticated", r.auth ? "true" : "false");
    const char *raw = attr_str(a, "RawMessageDelivery");
    attrs_add(out, "RawMessageDelivery", raw ? raw : "false");
    enum sns_protocol p = SNS_PROTO_EMAIL;
    sns_protocol_parse(r.protocol, &p);
    if (is_http(p)) {
        char *ttext = NULL;
        bool found = false;
        struct sns_delivery_policy tp, sp, eff;
        bool has_tp = false;
        if (topic_find(c, r.topic_arn, &found, &ttext) == 0 && found) {
            json_t *ta = attrs_load(ttext);
            has_tp = stored_policy(attr_str(ta, "DeliveryPolicy"), SNS_POLICY_TOPIC, &tp);
            json_decref(ta);
        }
        free(ttext);
        bool has_sp = stored_policy(attr_str(a, "DeliveryPolicy"), SNS_POLICY_SUBSCRIPTION, &sp);
        sns_delivery_policy_effective(has_tp ? &tp : NULL, has_sp ? &sp : NULL, &eff);
        struct buf b;
        buf_init(&b, 4096);
        sns_delivery_policy_json(&eff, SNS_POLICY_SUBSCRIPTION, &b);
        attrs_add(out, "EffectiveDeliveryPolicy", buf_cstr(&b));
        buf_release(&b);
    }
    const char *k;
    json_t *v;
    json_object_foreach(a, k, v)
    {
        if (!attrs_has(out, k))
            attrs_add(out, k, json_string_value(v));
    }
    json_decref(a);
    sub_row_release(&r);
    return 0;
}

int sns_subscription_set_attribute(struct sns *s, struct meta_conn *c, const char *subscription_arn,
                                   const char *name, const char *value, struct sns_error *err)
{
    (void)s;
    if (!name || !*name)
        return bad_param(err, BAD_PARAM "AttributeName");
    if (!value)
        value = "";
    bool own;
    int rc = tx_begin(c, &own);
    if (rc < 0)
        return db_err(err, rc);
    struct sub_row r;
    rc = sub_need(c, subscription_arn, &r, err);
    if (rc < 0) {
        sub_row_release(&r);
        return tx_end(c, own, rc);
    }
    json_t *a = attrs_load(r.attrs);
    if (!a)
        a = json_object();
    enum sns_protocol p = SNS_PROTO_EMAIL;
    sns_protocol_parse(r.protocol, &p);
    /* a new scope must suit the policy already set, a new policy the scope already set */
    const char *scope =
        strcmp(name, "FilterPolicyScope") == 0 ? value : attr_str(a, "FilterPolicyScope");
    char why[700];
    rc = sub_attr_check(p, name, value, scope, why, sizeof(why));
    if (rc == 0 && strcmp(name, "FilterPolicyScope") == 0 && attr_str(a, "FilterPolicy"))
        rc =
            sub_attr_check(p, "FilterPolicy", attr_str(a, "FilterPolicy"), value, why, sizeof(why));
    if (rc < 0) {
        rc = bad_param(err, BAD_PARAM "%s", why);
        goto out;
    }
    if (!*value || (strcmp(name, "RawMessageDelivery") == 0 && strcmp(value, "false") == 0))
        json_object_del(a, name);
    else
        json_object_set_new(a, name, json_string(value));
    char *text = attrs_dump(a);
    sqlite3_stmt *st;
    rc = meta_stmt(c, "UPDATE sns_subscriptions SET attributes = ?2 WHERE arn = ?1", &st);
    if (rc == 0) {
        meta_bind_text(st, 1, subscription_arn);
        meta_bind_text(st, 2, text);
        rc = meta_step_done(c, st);
    }
    free(text);
    if (rc < 0)
        db_err(err, rc);
out:
    json_decref(a);
    sub_row_release(&r);
    return tx_end(c, own, rc);
}

/* ---- publish ------------------------------------------------------------------------------ */

/* Subject: printable ASCII, first character a letter, digit or punctuation, under 100. */
static bool subject_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > SNS_SUBJECT_MAX || s[0] == ' ')
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
            return false;
    return true;
}

static bool attr_name_ok(const char *n)
{
    size_t len = strlen(n);
    if (len == 0 || len > SNS_ATTR_NAME_MAX || n[0] == '.' || n[len - 1] == '.')
        return false;
    if (strncasecmp(n, "AWS.", 4) == 0 || strncasecmp(n, "Amazon.", 7) == 0)
        return false;
    for (size_t i = 0; i < len; i++) {
        char ch = n[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '_' || ch == '-' || ch == '.'))
            return false;
        if (ch == '.' && n[i + 1] == '.')
            return false;
    }
    return true;
}

/* Type prefix of a DataType ("String", "Number", "Binary"; "String.Array" counts as String),
 * NULL when it is none of them. */
static const char *type_prefix(const char *t)
{
    static const char *const prefixes[] = { "String", "Number", "Binary" };
    for (size_t i = 0; i < ARRAY_SIZE(prefixes); i++) {
        size_t n = strlen(prefixes[i]);
        if (strncmp(t, prefixes[i], n) == 0 && (t[n] == '\0' || (t[n] == '.' && t[n + 1])))
            return prefixes[i];
    }
    return NULL;
}

static int check_msg_attrs(const struct sns_msg_attr *attrs, size_t n, struct sns_error *err)
{
    if (n > SNS_ATTRS_MAX)
        return bad_param(err,
                         BAD_PARAM "MessageAttributes Reason: Number of message attributes [%zu] "
                                   "exceeds the allowed maximum [%d].",
                         n, SNS_ATTRS_MAX);
    for (size_t i = 0; i < n; i++) {
        const struct sns_msg_attr *a = &attrs[i];
        const char *name = a->name ? a->name : "";
        if (!attr_name_ok(name))
            return bad_param(err,
                             BAD_PARAM "MessageAttributes Reason: The message attribute name "
                                       "'%.256s' is invalid.",
                             name);
        for (size_t j = 0; j < i; j++)
            if (attrs[j].name && strcmp(attrs[j].name, name) == 0)
                return bad_param(err,
                                 BAD_PARAM "MessageAttributes Reason: The message attribute "
                                           "'%.256s' appears more than once.",
                                 name);
        const char *prefix = a->data_type ? type_prefix(a->data_type) : NULL;
        if (!prefix || strlen(a->data_type) > 256)
            return bad_param(err,
                             BAD_PARAM "The message attribute '%.256s' has an invalid message "
                                       "attribute type, the set of supported type prefixes is "
                                       "Binary, Number, and String.",
                             name);
        bool binary = strcmp(prefix, "Binary") == 0;
        const char *v = binary ? a->binary_value : a->string_value;
        if (!v || !*v)
            return bad_param(err,
                             BAD_PARAM "The message attribute '%.256s' must contain non-empty "
                                       "message attribute value for message attribute type "
                                       "'%s'.",
                             name, prefix);
        if (!is_valid_utf8(v, strlen(v)) || strlen(v) > SNS_MESSAGE_MAX)
            return bad_param(err, BAD_PARAM "The message attribute '%.256s' has an invalid value.",
                             name);
        if (strcmp(prefix, "Number") == 0) {
            char *end;
            errno = 0;
            strtod(v, &end);
            if (*end || end == v)
                return bad_param(err,
                                 BAD_PARAM "Value %.100s for parameter MessageAttributes is "
                                           "invalid. Reason: Could not cast message attribute "
                                           "'%.256s' value to number.",
                                 v, name);
        }
        if (strncmp(a->data_type, "String.Array", 12) == 0 && a->data_type[12] == '\0') {
            json_error_t je;
            json_t *arr = json_loads(v, JSON_DECODE_ANY, &je);
            bool ok = json_is_array(arr);
            json_decref(arr);
            if (!ok)
                return bad_param(err,
                                 BAD_PARAM "The message attribute '%.256s' with type "
                                           "'String.Array' must use a JSON array of values.",
                                 name);
        }
    }
    return 0;
}

static char *msg_attrs_json(const struct sns_msg_attr *attrs, size_t n)
{
    if (n == 0)
        return NULL;
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++) {
        bool binary = strncmp(attrs[i].data_type, "Binary", 6) == 0;
        json_array_append_new(a, json_pack("{s:s, s:s, s:s}", "Name", attrs[i].name, "Type",
                                           attrs[i].data_type, "Value",
                                           binary ? attrs[i].binary_value : attrs[i].string_value));
    }
    char *text = attrs_dump(a);
    json_decref(a);
    return text;
}

/* MessageStructure=json: the text for a protocol (borrowed from root). */
static const char *structured_message(const json_t *root, enum sns_protocol p)
{
    const char *v = json_string_value(json_object_get(root, sns_protocol_name(p)));
    return v ? v : json_string_value(json_object_get(root, "default"));
}

int sns_publish(struct sns *s, struct meta_conn *c, const struct sns_publish_req *req,
                char message_id[SNS_UUID_LEN + 1], size_t *n_deliveries, struct sns_error *err)
{
    (void)s;
    if (n_deliveries)
        *n_deliveries = 0;
    int rc = arn_check(req->topic_arn, "TopicArn", err);
    if (rc < 0)
        return rc;
    if (!req->message || req->message_len == 0)
        return bad_param(err, BAD_PARAM "Empty message");
    if (req->message_len > SNS_MESSAGE_MAX)
        return bad_param(err, BAD_PARAM "Message too long");
    if (!is_valid_utf8(req->message, req->message_len) ||
        memchr(req->message, '\0', req->message_len))
        return bad_param(err, BAD_PARAM "Message");
    if (req->subject && !subject_ok(req->subject))
        return bad_param(err, BAD_PARAM "Subject");
    rc = check_msg_attrs(req->attrs, req->n_attrs, err);
    if (rc < 0)
        return rc;
    json_t *structured = NULL;
    if (req->message_structure && *req->message_structure) {
        if (strcmp(req->message_structure, "json") != 0)
            return bad_param(err, BAD_PARAM "MessageStructure");
        json_error_t je;
        structured = json_loadb(req->message, req->message_len, 0, &je);
        if (!json_is_object(structured)) {
            json_decref(structured);
            return bad_param(err, BAD_PARAM "Message Structure - JSON message body failed to "
                                            "parse");
        }
        if (!json_is_string(json_object_get(structured, "default"))) {
            json_decref(structured);
            return bad_param(err, BAD_PARAM "Message Structure - No default entry in JSON "
                                            "message body");
        }
    }
    char *plain = structured ? NULL : xstrndup(req->message, req->message_len);
    char *attrs_json = msg_attrs_json(req->attrs, req->n_attrs);
    bool own;
    rc = tx_begin(c, &own);
    if (rc < 0) {
        db_err(err, rc);
        goto done;
    }
    rc = topic_need(c, req->topic_arn, NULL, err);
    if (rc < 0)
        goto out;
    sns_uuid4(message_id);
    int64_t now = now_ms();
    /* read every confirmed subscription first: inserting while a SELECT is open on the same
     * connection is legal in SQLite, but keeping them apart is simpler to reason about */
    struct sub {
        char *arn, *protocol, *endpoint, *attrs;
    };
    VEC(struct sub) subs = VEC_INIT;
    sqlite3_stmt *st;
    rc = meta_stmt(c,
                   "SELECT arn, protocol, endpoint, attributes FROM sns_subscriptions"
                   " WHERE topic_arn = ?1 AND confirmed = 1 ORDER BY arn",
                   &st);
    if (rc < 0) {
        db_err(err, rc);
        goto out;
    }
    meta_bind_text(st, 1, req->topic_arn);
    int sr;
    while ((sr = sqlite3_step(st)) == SQLITE_ROW) {
        struct sub x = { col_dup(st, 0), col_dup(st, 1), col_dup(st, 2), col_dup(st, 3) };
        VEC_PUSH(&subs, x);
    }
    meta_done(st);
    if (sr != SQLITE_DONE)
        rc = db_err(err, meta_err(c, sr, "list subscriptions"));
    size_t rows = 0;
    for (size_t i = 0; rc == 0 && i < subs.n; i++) {
        enum sns_protocol p;
        if (sns_protocol_parse(subs.v[i].protocol, &p) < 0)
            continue;
        const char *text = structured ? structured_message(structured, p) : plain;
        json_t *a = attrs_load(subs.v[i].attrs);
        const char *policy = attr_str(a, "FilterPolicy");
        enum sns_filter_scope scope = SNS_SCOPE_ATTRIBUTES;
        scope_parse(attr_str(a, "FilterPolicyScope"), &scope);
        bool pass = true;
        if (policy && sns_filter_match(str_from(policy), scope, req->attrs, req->n_attrs,
                                       str_from(text), &pass) < 0) {
            log_warn("sns",
                     "subscription %s: stored filter policy does not compile; message "
                     "%s not delivered to it",
                     subs.v[i].arn, message_id);
            pass = false;
        }
        json_decref(a);
        if (!pass)
            continue;
        struct new_delivery d = {
            .type = SNS_NOTIFICATION,
            .message_id = message_id,
            .topic_arn = req->topic_arn,
            .subscription_arn = subs.v[i].arn,
            .protocol = subs.v[i].protocol,
            .endpoint = subs.v[i].endpoint,
            .subject = req->subject,
            .message = text,
            .event_id = req->event_id,
            .attrs_json = attrs_json,
            .timestamp_ms = now,
        };
        rc = delivery_insert(c, &d, now);
        if (rc < 0)
            db_err(err, rc);
        else
            rows++;
    }
    for (size_t i = 0; i < subs.n; i++) {
        free(subs.v[i].arn);
        free(subs.v[i].protocol);
        free(subs.v[i].endpoint);
        free(subs.v[i].attrs);
    }
    VEC_FREE(&subs);
    if (rc == 0 && n_deliveries)
        *n_deliveries = rows;
out:
    rc = tx_end(c, own, rc);
done:
    json_decref(structured);
    free(plain);
    free(attrs_json);
    return rc;
}

/* ---- deliveries --------------------------------------------------------------------------- */

const char *sns_delivery_state_name(enum sns_delivery_state s)
{
    switch (s) {
    case SNS_DELIVERY_PENDING:
        return "pending";
    case SNS_DELIVERY_DONE:
        return "done";
    case SNS_DELIVERY_DEAD:
        return "dead";
    }
    return "?";
}

void sns_delivery_release(struct sns_delivery *d)
{
    if (!d)
        return;
    free(d->message_id);
    free(d->topic_arn);
    free(d->subscription_arn);
    free(d->endpoint);
    free(d->subject);
    free(d->message);
    free(d->token);
    free(d->event_id);
    for (size_t i = 0; i < d->n_attrs; i++) {
        free((char *)(uintptr_t)d->attrs[i].name);
        free((char *)(uintptr_t)d->attrs[i].type);
        free((char *)(uintptr_t)d->attrs[i].value);
    }
    free(d->attrs);
    free(d->last_error);
    free(d->display_name);
    memset(d, 0, sizeof(*d));
}

void sns_deliveries_release(struct sns_deliveries *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++)
        sns_delivery_release(&l->v[i]);
    free(l->v);
    memset(l, 0, sizeof(*l));
}

static void load_msg_attrs(const char *text, struct sns_delivery *d)
{
    if (!text)
        return;
    json_error_t je;
    json_t *a = json_loads(text, 0, &je);
    if (!json_is_array(a)) {
        json_decref(a);
        return;
    }
    size_t n = json_array_size(a) < SNS_ATTRS_MAX ? json_array_size(a) : SNS_ATTRS_MAX;
    d->attrs = xcalloc(n ? n : 1, sizeof(*d->attrs));
    for (size_t i = 0; i < n; i++) {
        json_t *e = json_array_get(a, i);
        const char *name = json_string_value(json_object_get(e, "Name"));
        const char *type = json_string_value(json_object_get(e, "Type"));
        const char *value = json_string_value(json_object_get(e, "Value"));
        if (!name || !type || !value)
            continue;
        d->attrs[d->n_attrs].name = xstrdup(name);
        d->attrs[d->n_attrs].type = xstrdup(type);
        d->attrs[d->n_attrs].value = xstrdup(value);
        d->n_attrs++;
    }
    json_decref(a);
}

#define DELIVERY_COLUMNS                                                                    \
    "d.id, d.type, d.state, d.message_id, d.topic_arn, d.subscription_arn, d.protocol,"     \
    " d.endpoint, d.subject, d.message, d.token, d.event_id, d.attributes, d.timestamp_ms," \
    " d.attempts, d.first_attempt_at, d.next_at, d.created_at, d.updated_at, d.last_error," \
    " s.arn IS NOT NULL, s.attributes, t.attributes"

static int delivery_query(struct meta_conn *c, sqlite3_stmt *st, struct sns_deliveries *out)
{
    VEC(struct sns_delivery) v = VEC_INIT;
    int sr;
    while ((sr = sqlite3_step(st)) == SQLITE_ROW) {
        struct sns_delivery d = { 0 };
        d.id = sqlite3_column_int64(st, 0);
        d.type = (enum sns_msg_type)sqlite3_column_int(st, 1);
        d.state = (enum sns_delivery_state)sqlite3_column_int(st, 2);
        d.message_id = col_dup(st, 3);
        d.topic_arn = col_dup(st, 4);
        d.subscription_arn = col_dup(st, 5);
        if (sns_protocol_parse((const char *)sqlite3_column_text(st, 6), &d.protocol) < 0)
            d.protocol = SNS_PROTO_EMAIL;
        d.endpoint = col_dup(st, 7);
        d.subject = col_dup(st, 8);
        d.message = col_dup(st, 9);
        d.token = col_dup(st, 10);
        d.event_id = col_dup(st, 11);
        load_msg_attrs((const char *)sqlite3_column_text(st, 12), &d);
        d.timestamp_ms = sqlite3_column_int64(st, 13);
        d.attempts = sqlite3_column_int(st, 14);
        d.first_attempt_ms = sqlite3_column_int64(st, 15);
        d.next_ms = sqlite3_column_int64(st, 16);
        d.created_ms = sqlite3_column_int64(st, 17);
        d.updated_ms = sqlite3_column_int64(st, 18);
        d.last_error = col_dup(st, 19);
        d.subscription_exists = sqlite3_column_int(st, 20) != 0;
        json_t *sa = attrs_load((const char *)sqlite3_column_text(st, 21));
        json_t *ta = attrs_load((const char *)sqlite3_column_text(st, 22));
        const char *raw = attr_str(sa, "RawMessageDelivery");
        d.raw = raw && strcmp(raw, "true") == 0 && d.protocol != SNS_PROTO_EMAIL;
        const char *dn = attr_str(ta, "DisplayName");
        d.display_name = dn && *dn ? xstrdup(dn) : NULL;
        const char *sv = attr_str(ta, "SignatureVersion");
        d.signature_version = sv && strcmp(sv, "2") == 0 ? 2 : 1;
        if (is_http(d.protocol)) {
            struct sns_delivery_policy tp, sp, eff;
            bool has_tp = stored_policy(attr_str(ta, "DeliveryPolicy"), SNS_POLICY_TOPIC, &tp);
            bool has_sp =
                stored_policy(attr_str(sa, "DeliveryPolicy"), SNS_POLICY_SUBSCRIPTION, &sp);
            sns_delivery_policy_effective(has_tp ? &tp : NULL, has_sp ? &sp : NULL, &eff);
            d.retry = eff.has_retry ? eff.retry : sns_retry_http_default;
            snprintf(d.content_type, sizeof(d.content_type), "%s", eff.header_content_type);
        } else {
            d.retry = sns_retry_email;
        }
        json_decref(sa);
        json_decref(ta);
        VEC_PUSH(&v, d);
    }
    int rc = sr == SQLITE_DONE ? 0 : meta_err(c, sr, "read deliveries");
    meta_done(st);
    out->v = v.v;
    out->n = v.n;
    if (rc < 0)
        sns_deliveries_release(out);
    return rc;
}

int sns_delivery_due(struct sns *s, struct meta_conn *c, int64_t now, int64_t after_id,
                     size_t limit, struct sns_deliveries *out)
{
    (void)s;
    memset(out, 0, sizeof(*out));
    sqlite3_stmt *st;
    int rc = queue_page(c,
                        "SELECT " DELIVERY_COLUMNS " FROM sns_deliveries d"
                        " LEFT JOIN sns_subscriptions s ON s.arn = d.subscription_arn"
                        " LEFT JOIN sns_topics t ON t.arn = d.topic_arn"
                        " WHERE d.state = 0 AND d.next_at <= ?1 AND d.id > ?2"
                        " ORDER BY d.next_at, d.id LIMIT ?3",
                        now, after_id, limit, &st);
    if (rc < 0)
        return rc;
    return delivery_query(c, st, out);
}

int sns_delivery_next_due(struct meta_conn *c, int64_t *next)
{
    return queue_scalar_int64(c, "SELECT min(next_at) FROM sns_deliveries WHERE state = 0",
                              "next delivery", INT64_MAX, next);
}

int sns_delivery_mark_done(struct meta_conn *c, int64_t id, int64_t now)
{
    return queue_row_update(c,
                            "UPDATE sns_deliveries SET state = 1, attempts = attempts + 1,"
                            " first_attempt_at = coalesce(first_attempt_at, ?4), updated_at = ?4"
                            " WHERE id = ?1 AND state = 0",
                            id, 0, NULL, now);
}

int sns_delivery_mark_retry(struct meta_conn *c, int64_t id, int64_t next, const char *error,
                            int64_t now)
{
    return queue_row_update(c,
                            "UPDATE sns_deliveries SET attempts = attempts + 1, next_at = ?2,"
                            " last_error = ?3, first_attempt_at = coalesce(first_attempt_at, ?4),"
                            " updated_at = ?4 WHERE id = ?1 AND state = 0",
                            id, next, error, now);
}

int sns_delivery_mark_dead(struct meta_conn *c, int64_t id, const char *error, int64_t now)
{
    return queue_row_update(c,
                            "UPDATE sns_deliveries SET state = 2, attempts = attempts + 1,"
                            " last_error = ?3, first_attempt_at = coalesce(first_attempt_at, ?4),"
                            " updated_at = ?4 WHERE id = ?1 AND state = 0",
                            id, 0, error, now);
}

int sns_delivery_list(struct sns *s, struct meta_conn *c, enum sns_delivery_state state,
                      int64_t after_id, size_t limit, struct sns_deliveries *out)
{
    (void)s;
    memset(out, 0, sizeof(*out));
    sqlite3_stmt *st;
    int rc = queue_page(c,
                        "SELECT " DELIVERY_COLUMNS " FROM sns_deliveries d"
                        " LEFT JOIN sns_subscriptions s ON s.arn = d.subscription_arn"
                        " LEFT JOIN sns_topics t ON t.arn = d.topic_arn"
                        " WHERE d.state = ?1 AND d.id > ?2 ORDER BY d.id LIMIT ?3",
                        state, after_id, limit, &st);
    if (rc < 0)
        return rc;
    return delivery_query(c, st, out);
}

int sns_delivery_redrive(struct meta_conn *c, int64_t id, int64_t now, size_t *n)
{
    return queue_redrive(
        c,
        "UPDATE sns_deliveries SET state = 0, attempts = 0, first_attempt_at = NULL,"
        " next_at = ?2, updated_at = ?2 WHERE state = 2 AND (?1 = 0 OR id = ?1)",
        id, now, n);
}
