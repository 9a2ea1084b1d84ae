/* SPDX-License-Identifier: Apache-2.0 */
/* vigil events dlq list|redrive: show the dead letters of the event bus (outbox rows and SNS
 * deliveries whose retries ran out, plus target inputs that could not be rendered) and make
 * dead ones pending again. Safe while `vigil serve` runs: it only changes rows, and the
 * server's delivery worker picks redriven rows up on its next poll. */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "base/str.h"
#include "base/xalloc.h"
#include "cli/cli.h"
#include "deliver/sns.h"
#include "events/bus.h"
#include "store/meta.h"

#define PAGE 500

static const char dlq_usage[] =
    "usage: vigil events dlq list [--data-dir DIR] [--format text|json]\n"
    "       vigil events dlq redrive [--data-dir DIR] (--id ID | --all)\n"
    "\n"
    "list shows the dead letters: EventBridge outbox rows (ids eb-N) and SNS deliveries\n"
    "(ids sns-N) whose retries ran out or that could not be delivered, and target inputs\n"
    "that could not be rendered (ids render-N; these are a record, not redrivable).\n"
    "redrive makes one dead letter (--id) or all of them (--all) pending again, with fresh\n"
    "retries; a running server delivers them within a second. The data directory defaults\n"
    "as for 'vigil serve'.\n";

struct dlq_opts {
    const char *cmd;
    const char *data_dir;
    const char *format;
    const char *id;
    bool all;
};

static void iso_time(int64_t ms, char out[32])
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    if (!gmtime_r(&t, &tm) || strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(out, 32, "%" PRId64, ms);
}

static int open_db(const struct dlq_opts *o, struct meta_db **db)
{
    char *dir = o->data_dir ? xstrdup(o->data_dir) : cli_default_data_dir();
    char *path = xasprintf("%s/%s", dir, META_DB_FILE);
    struct stat st;
    int status = 0;
    if (stat(path, &st) != 0) {
        fprintf(stderr, "vigil events dlq: no vigil data in '%s' (%s: %s)\n", dir, path,
                strerror(errno));
        status = 1;
        goto out;
    }
    struct diag d = { 0 };
    if (meta_open(path, NULL, db, &d) < 0 || bus_migrate(*db, &d) < 0 || sns_migrate(*db, &d) < 0) {
        fprintf(stderr, "vigil events dlq: %s\n", d.msg);
        meta_close(*db);
        *db = NULL;
        status = 1;
    }
out:
    free(path);
    free(dir);
    return status;
}

static json_t *jstr(const char *s)
{
    return s ? json_string(s) : json_null();
}

static int dlq_list(struct meta_conn *c, bool json)
{
    json_t *dead = json_array(), *renders = json_array();
    int rc = 0;
    int64_t after = 0;
    for (;;) {
        struct bus_outbox_rows rows;
        rc = bus_outbox_list(c, BUS_OUTBOX_DEAD, after, PAGE, &rows);
        if (rc < 0)
            goto out;
        for (size_t i = 0; i < rows.n; i++) {
            struct bus_outbox_row *r = &rows.v[i];
            char id[32], when[32];
            snprintf(id, sizeof(id), "eb-%" PRId64, r->id);
            iso_time(r->updated_ms, when);
            json_array_append_new(
                dead, json_pack("{s:s, s:s, s:o, s:o, s:o, s:o, s:i, s:s, s:o, s:o, s:o}", "id", id,
                                "kind", "eventbridge-target", "event_id", jstr(r->event_id),
                                "rule_arn", jstr(r->rule_arn), "target_id", jstr(r->target_id),
                                "target_arn", jstr(r->target_arn), "attempts", r->attempts,
                                "dead_since", when, "error", jstr(r->last_error), "dead_letter_arn",
                                jstr(r->dead_letter_arn), "message", jstr(r->message)));
            after = r->id;
        }
        size_t n = rows.n;
        bus_outbox_rows_release(&rows);
        if (n < PAGE)
            break;
    }
    after = 0;
    for (;;) {
        struct sns_deliveries rows;
        rc = sns_delivery_list(NULL, c, SNS_DELIVERY_DEAD, after, PAGE, &rows);
        if (rc < 0)
            goto out;
        for (size_t i = 0; i < rows.n; i++) {
            struct sns_delivery *d = &rows.v[i];
            char id[32], when[32];
            snprintf(id, sizeof(id), "sns-%" PRId64, d->id);
            iso_time(d->updated_ms, when);
            json_array_append_new(
                dead, json_pack("{s:s, s:s, s:o, s:o, s:o, s:s, s:o, s:i, s:s, s:o, s:o}", "id", id,
                                "kind",
                                d->type == SNS_NOTIFICATION ? "sns-notification"
                                                            : "sns-subscription-confirmation",
                                "message_id", jstr(d->message_id), "topic_arn", jstr(d->topic_arn),
                                "subscription_arn", jstr(d->subscription_arn), "protocol",
                                sns_protocol_name(d->protocol), "endpoint", jstr(d->endpoint),
                                "attempts", d->attempts, "dead_since", when, "error",
                                jstr(d->last_error), "message", jstr(d->message)));
            after = d->id;
        }
        size_t n = rows.n;
        sns_deliveries_release(&rows);
        if (n < PAGE)
            break;
    }
    after = 0;
    for (;;) {
        struct bus_render_failures rows;
        rc = bus_render_failures_list(c, after, PAGE, &rows);
        if (rc < 0)
            goto out;
        for (size_t i = 0; i < rows.n; i++) {
            struct bus_render_failure *f = &rows.v[i];
            char id[32], when[32];
            snprintf(id, sizeof(id), "render-%" PRId64, f->id);
            iso_time(f->created_ms, when);
            json_array_append_new(
                renders, json_pack("{s:s, s:o, s:o, s:o, s:o, s:s, s:o}", "id", id, "event_id",
                                   jstr(f->event_id), "rule_arn", jstr(f->rule_arn), "target_id",
                                   jstr(f->target_id), "target_arn", jstr(f->target_arn), "at",
                                   when, "error", jstr(f->error)));
            after = f->id;
        }
        size_t n = rows.n;
        bus_render_failures_release(&rows);
        if (n < PAGE)
            break;
    }
    if (json) {
        json_t *root = json_pack("{s:O, s:O}", "dead_letters", dead, "render_failures", renders);
        json_dumpf(root, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        fputc('\n', stdout);
        json_decref(root);
    } else {
        size_t i;
        json_t *e;
        if (json_array_size(dead) == 0)
            printf("no dead letters\n");
        json_array_foreach(dead, i, e)
        {
            const char *kind = json_string_value(json_object_get(e, "kind"));
            bool eb = strcmp(kind, "eventbridge-target") == 0;
            printf("%s  %s  %lld attempt(s), dead since %s\n",
                   json_string_value(json_object_get(e, "id")), kind,
                   (long long)json_integer_value(json_object_get(e, "attempts")),
                   json_string_value(json_object_get(e, "dead_since")));
            printf("    %s %s\n", eb ? "target" : "to",
                   eb ? json_string_value(json_object_get(e, "target_arn"))
                      : json_string_value(json_object_get(e, "endpoint")));
            printf("    %s %s\n", eb ? "event" : "message",
                   json_string_value(json_object_get(e, eb ? "event_id" : "message_id")));
            const char *err = json_string_value(json_object_get(e, "error"));
            printf("    error: %s\n", err ? err : "-");
        }
        json_array_foreach(renders, i, e)
        {
            printf("%s  not rendered  at %s\n", json_string_value(json_object_get(e, "id")),
                   json_string_value(json_object_get(e, "at")));
            printf("    rule %s target %s, event %s\n",
                   json_string_value(json_object_get(e, "rule_arn")),
                   json_string_value(json_object_get(e, "target_id")),
                   json_string_value(json_object_get(e, "event_id")));
            printf("    error: %s\n", json_string_value(json_object_get(e, "error")));
        }
    }
out:
    json_decref(dead);
    json_decref(renders);
    if (rc < 0)
        fprintf(stderr, "vigil events dlq: cannot read the dead letters: %s\n", err_str(rc));
    return rc < 0 ? 1 : 0;
}

/* "eb-12" / "sns-7": which table and row. */
static int parse_id(const char *text, bool *eb, int64_t *id)
{
    struct str s = str_from(text);
    if (str_has_prefix(s, "eb-")) {
        *eb = true;
        s = str_make(s.ptr + 3, s.len - 3);
    } else if (str_has_prefix(s, "sns-")) {
        *eb = false;
        s = str_make(s.ptr + 4, s.len - 4);
    } else {
        return -ERR_INVALID;
    }
    unsigned long long v;
    if (!str_to_u64(s, &v) || v == 0 || v > INT64_MAX)
        return -ERR_INVALID;
    *id = (int64_t)v;
    return 0;
}

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int dlq_redrive(struct meta_conn *c, const struct dlq_opts *o)
{
    bool eb = false;
    int64_t id = 0;
    if (o->id && parse_id(o->id, &eb, &id) < 0) {
        fprintf(stderr,
                "vigil events dlq: '%s' is not a dead-letter id (eb-N or sns-N, see 'vigil "
                "events dlq list')\n",
                o->id);
        return 2;
    }
    int rc = meta_begin(c);
    size_t n_eb = 0, n_sns = 0;
    int64_t now = wall_ms();
    if (rc == 0 && (o->all || eb))
        rc = bus_outbox_redrive(c, o->all ? 0 : id, now, &n_eb);
    if (rc == 0 && (o->all || !eb))
        rc = sns_delivery_redrive(c, o->all ? 0 : id, now, &n_sns);
    if (rc < 0) {
        meta_rollback(c);
        if (rc == -ERR_NOT_FOUND)
            fprintf(stderr, "vigil events dlq: %s is not a dead letter\n", o->id);
        else
            fprintf(stderr, "vigil events dlq: redrive failed: %s\n", err_str(rc));
        return 1;
    }
    rc = meta_commit(c);
    if (rc < 0) {
        meta_rollback(c);
        fprintf(stderr, "vigil events dlq: redrive failed: %s\n", err_str(rc));
        return 1;
    }
    printf("redriven: %zu EventBridge target(s), %zu SNS deliver%s\n", n_eb, n_sns,
           n_sns == 1 ? "y" : "ies");
    return 0;
}

int cmd_events_dlq(int argc, char **argv)
{
    struct dlq_opts o = { 0 };
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(dlq_usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    o.cmd = argv[1];
    if (strcmp(o.cmd, "list") != 0 && strcmp(o.cmd, "redrive") != 0) {
        fprintf(stderr, "vigil events dlq: unknown subcommand '%s'\n", o.cmd);
        fputs(dlq_usage, stderr);
        return 2;
    }
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        const char **dst = NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(dlq_usage, stdout);
            return 0;
        }
        if (strcmp(a, "--all") == 0) {
            o.all = true;
            continue;
        }
        if (strcmp(a, "--data-dir") == 0)
            dst = &o.data_dir;
        else if (strcmp(a, "--format") == 0)
            dst = &o.format;
        else if (strcmp(a, "--id") == 0)
            dst = &o.id;
        if (!dst || i + 1 >= argc) {
            fprintf(stderr, "vigil events dlq: %s '%s'\n",
                    dst ? "missing value for" : "unknown option", a);
            fputs(dlq_usage, stderr);
            return 2;
        }
        *dst = argv[++i];
    }
    bool list = strcmp(o.cmd, "list") == 0;
    if (list && (o.id || o.all)) {
        fprintf(stderr, "vigil events dlq list: --id and --all are for redrive\n");
        return 2;
    }
    if (list && o.format && strcmp(o.format, "text") != 0 && strcmp(o.format, "json") != 0) {
        fprintf(stderr, "vigil events dlq list: --format is text or json\n");
        return 2;
    }
    if (!list && (o.format || (!o.id == !o.all))) {
        fprintf(stderr, "vigil events dlq redrive: give exactly one of --id ID and --all\n");
        return 2;
    }
    struct meta_db *db = NULL;
    int status = open_db(&o, &db);
    if (status)
        return status;
    struct meta_conn *c;
    if (meta_conn_get(db, &c) < 0) {
        fprintf(stderr, "vigil events dlq: cannot open the database\n");
        meta_close(db);
        return 1;
    }
    status = list ? dlq_list(c, o.format && strcmp(o.format, "json") == 0) : dlq_redrive(c, &o);
    meta_close(db);
    return status;
}
