/* SPDX-License-Identifier: Apache-2.0 */
/* `vigil events dlq list|redrive` on a data directory holding dead outbox rows, dead SNS
 * deliveries and a render failure: the JSON listing, redrive by id and --all, and the usage
 * errors. */
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/xalloc.h"
#include "deliver/sns.h"
#include "events/bus.h"
#include "store/meta.h"
#include "test.h"

int cmd_events_dlq(int argc, char **argv);

#define TOPIC "arn:aws:sns:us-east-1:123456789012:alerts"

/* Run the command with stdout going to a file; returns the exit status, *out the output. */
static int run(const char *const *args, int argc, char **out)
{
    char *argv[16];
    for (int i = 0; i < argc; i++)
        argv[i] = xstrdup(args[i]);
    char *path = xasprintf("%s/dlq-out.txt", test_tmpdir());
    fflush(stdout);
    int saved = dup(1);
    int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0600);
    ASSERT_TRUE(fd >= 0);
    dup2(fd, 1);
    close(fd);
    int status = cmd_events_dlq(argc, argv);
    for (int i = 0; i < argc; i++)
        free(argv[i]);
    fflush(stdout);
    dup2(saved, 1);
    close(saved);
    FILE *f = fopen(path, "rb");
    ASSERT_TRUE(f != NULL);
    char buf[65536];
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    buf[n] = '\0';
    fclose(f);
    free(path);
    *out = xstrdup(buf);
    return status;
}

static int count(struct meta_conn *c, const char *sql)
{
    sqlite3_stmt *st;
    ASSERT_EQ(meta_stmt(c, sql, &st), 0);
    int n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
    meta_done(st);
    return n;
}

TEST(events_dlq_list_and_redrive)
{
    char *dir = xasprintf("%s/dlqdata", test_tmpdir());
    ASSERT_EQ(mkdir(dir, 0700), 0);
    char *dbpath = xasprintf("%s/%s", dir, META_DB_FILE);
    struct meta_db *db;
    struct diag d = { 0 };
    ASSERT_EQ(meta_open(dbpath, NULL, &db, &d), 0);
    ASSERT_EQ(bus_migrate(db, &d), 0);
    ASSERT_EQ(sns_migrate(db, &d), 0);
    struct meta_conn *c;
    ASSERT_EQ(meta_conn_get(db, &c), 0);
    struct bus *bus;
    struct bus_config bc = { "us-east-1", "123456789012" };
    ASSERT_EQ(bus_new(&bc, &bus, NULL), 0);
    struct sns *sns;
    struct sns_config sc = { "us-east-1", "123456789012" };
    ASSERT_EQ(sns_new(&sc, &sns, NULL), 0);

    /* two outbox rows (one dead), a render failure, one dead delivery */
    struct bus_rule_spec rs = { .name = "r", .event_pattern = "{\"source\":[\"s\"]}" };
    struct bus_error berr;
    ASSERT_EQ(bus_rule_put(bus, c, &rs, NULL, &berr), 0);
    struct bus_target_spec ts[2] = {
        { .id = "a", .arn = TOPIC },
        { .id = "b", .arn = TOPIC, .input_path = "$.detail.missing" },
    };
    struct bus_failed_entries f;
    ASSERT_EQ(bus_targets_put(bus, c, "r", ts, 2, &f, &berr), 0);
    bus_failed_entries_release(&f);
    const char *ev1 = "{\"id\":\"ev-1\",\"source\":\"s\",\"detail\":{}}";
    const char *ev2 = "{\"id\":\"ev-2\",\"source\":\"s\",\"detail\":{}}";
    ASSERT_EQ(meta_begin(c), 0);
    ASSERT_EQ(bus_publish(bus, c, ev1, strlen(ev1), NULL), 1);
    ASSERT_EQ(bus_publish(bus, c, ev2, strlen(ev2), NULL), 1);
    ASSERT_EQ(meta_commit(c), 0);
    struct bus_outbox_rows rows;
    ASSERT_EQ(bus_outbox_list(c, BUS_OUTBOX_PENDING, 0, 0, &rows), 0);
    ASSERT_EQ(rows.n, 2);
    int64_t dead_eb = rows.v[0].id;
    ASSERT_EQ(bus_outbox_mark_dead(c, dead_eb, "NO_RESOURCE: Topic does not exist", 1000), 0);
    bus_outbox_rows_release(&rows);

    struct sns_error serr;
    ASSERT_EQ(sns_topic_create(sns, c, "alerts", NULL, 0, NULL, 0, NULL, &serr), 0);
    struct sns_subscribe_req req = { TOPIC, "email", "ops@example.com", NULL, 0 };
    bool pending;
    ASSERT_EQ(sns_subscribe(sns, c, &req, NULL, &pending, &serr), 0);
    ASSERT_EQ(meta_exec(c, "UPDATE sns_deliveries SET state = 2, attempts = 51,"
                           " last_error = '550 mailbox unavailable'"),
              0);
    int64_t dead_sns = count(c, "SELECT max(id) FROM sns_deliveries");

    char *out = NULL;
    const char *list_json[] = { "dlq", "list", "--data-dir", dir, "--format", "json" };
    ASSERT_EQ(run(list_json, 6, &out), 0);
    json_error_t je;
    json_t *root = json_loads(out, 0, &je);
    if (!root)
        test_fail(__FILE__, __LINE__, "not JSON: %s\n%s", je.text, out);
    free(out);
    json_t *dead = json_object_get(root, "dead_letters");
    ASSERT_EQ(json_array_size(dead), 2);
    char want_eb[32], want_sns[32];
    snprintf(want_eb, sizeof(want_eb), "eb-%lld", (long long)dead_eb);
    snprintf(want_sns, sizeof(want_sns), "sns-%lld", (long long)dead_sns);
    json_t *e0 = json_array_get(dead, 0), *e1 = json_array_get(dead, 1);
    ASSERT_STREQ(json_string_value(json_object_get(e0, "id")), want_eb);
    ASSERT_STREQ(json_string_value(json_object_get(e0, "event_id")), "ev-1");
    ASSERT_STREQ(json_string_value(json_object_get(e0, "error")),
                 "NO_RESOURCE: Topic does not exist");
    ASSERT_STREQ(json_string_value(json_object_get(e1, "id")), want_sns);
    ASSERT_STREQ(json_string_value(json_object_get(e1, "kind")), "sns-subscription-confirmation");
    ASSERT_STREQ(json_string_value(json_object_get(e1, "endpoint")), "ops@example.com");
    ASSERT_EQ(json_integer_value(json_object_get(e1, "attempts")), 51);
    json_t *renders = json_object_get(root, "render_failures");
    ASSERT_EQ(json_array_size(renders), 2);
    ASSERT_STREQ(json_string_value(json_object_get(json_array_get(renders, 0), "target_id")), "b");
    json_decref(root);

    const char *list_text[] = { "dlq", "list", "--data-dir", dir };
    ASSERT_EQ(run(list_text, 4, &out), 0);
    ASSERT_TRUE(strstr(out, want_eb) != NULL);
    ASSERT_TRUE(strstr(out, "550 mailbox unavailable") != NULL);
    ASSERT_TRUE(strstr(out, "render-1") != NULL);
    free(out);

    /* redrive one, then all */
    const char *redrive_one[] = { "dlq", "redrive", "--data-dir", dir, "--id", want_eb };
    ASSERT_EQ(run(redrive_one, 6, &out), 0);
    ASSERT_STREQ(out, "redriven: 1 EventBridge target(s), 0 SNS deliveries\n");
    free(out);
    ASSERT_EQ(count(c, "SELECT count(*) FROM events_outbox WHERE state = 0"), 2);
    ASSERT_EQ(run(redrive_one, 6, &out), 1); /* not dead any more */
    free(out);
    const char *redrive_all[] = { "dlq", "redrive", "--data-dir", dir, "--all" };
    ASSERT_EQ(run(redrive_all, 5, &out), 0);
    ASSERT_STREQ(out, "redriven: 0 EventBridge target(s), 1 SNS delivery\n");
    free(out);
    ASSERT_EQ(count(c, "SELECT count(*) FROM sns_deliveries WHERE state = 0 AND attempts = 0"), 1);

    /* usage errors */
    const char *bad_id[] = { "dlq", "redrive", "--data-dir", dir, "--id", "12" };
    ASSERT_EQ(run(bad_id, 6, &out), 2);
    free(out);
    const char *both[] = { "dlq", "redrive", "--data-dir", dir, "--id", want_eb, "--all" };
    ASSERT_EQ(run(both, 7, &out), 2);
    free(out);
    const char *neither[] = { "dlq", "redrive", "--data-dir", dir };
    ASSERT_EQ(run(neither, 4, &out), 2);
    free(out);
    const char *fmt[] = { "dlq", "list", "--data-dir", dir, "--format", "xml" };
    ASSERT_EQ(run(fmt, 6, &out), 2);
    free(out);
    const char *sub[] = { "dlq", "purge" };
    ASSERT_EQ(run(sub, 2, &out), 2);
    free(out);
    char *nodir_path = xasprintf("%s/none", test_tmpdir());
    const char *nodir[] = { "dlq", "list", "--data-dir", nodir_path };
    ASSERT_EQ(run(nodir, 4, &out), 1);
    free(out);
    free(nodir_path);

    sns_free(sns);
    bus_free(bus);
    meta_close(db);
    free(dbpath);
    free(dir);
}
