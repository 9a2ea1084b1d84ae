/* SPDX-License-Identifier: Apache-2.0 */
/* Event envelopes: the ECR / Inspector2 events against the documented samples (key order and
 * values, compared as compact text), time and id helpers, and PutEvents entry checks. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/xalloc.h"
#include "events/envelope.h"
#include "events/transform.h"
#include "test.h"

static char *text_of(const json_t *ev)
{
    struct buf b;
    buf_init(&b, (size_t)1 << 20);
    ASSERT_EQ(event_to_text(ev, &b), 0);
    return buf_detach(&b, NULL);
}

/* The golden file, parsed (keeping its key order) and printed compactly. */
static char *golden(const char *name)
{
    char *path = xasprintf("%s/transform/%s", test_data_dir(), name);
    json_error_t je;
    json_t *j = json_load_file(path, 0, &je);
    if (!j)
        test_fail(__FILE__, __LINE__, "cannot load '%s': %s", path, je.text);
    free(path);
    char *s = text_of(j);
    json_decref(j);
    return s;
}

static void assert_golden(json_t *ev, const char *file)
{
    char *got = text_of(ev);
    char *want = golden(file);
    if (strcmp(got, want) != 0)
        test_fail(__FILE__, __LINE__, "%s:\n got  %s\n want %s", file, got, want);
    free(got);
    free(want);
    json_decref(ev);
}

TEST(envelope_ecr_image_action)
{
    struct event_meta m = { "13cde686-328b-6117-af20-0e5566167482", "123456789012", "us-west-2",
                            "2019-11-16T01:54:34Z" };
    struct ecr_image_action a = {
        .action_type = "PUSH",
        .result = "SUCCESS",
        .repository_name = "my-repository-name",
        .image_digest = "sha256:7f5b2640fe6fb4f46592dfd3410c4a79dac4f89e4782432e0378abcd1234",
        .image_tag = "latest",
    };
    assert_golden(ecr_image_action_event(&m, &a), "event_ecr_image_action_push.json");

    m.id = "dd3b46cb-2c74-f49e-393b-28286b67279d";
    m.time = "2019-11-16T02:01:05Z";
    a.action_type = "DELETE";
    assert_golden(ecr_image_action_event(&m, &a), "event_ecr_image_action_delete.json");

    /* optional fields: no tag (push by digest), media types after image-tag */
    a.action_type = "PUSH";
    a.image_tag = NULL;
    a.manifest_media_type = "application/vnd.oci.image.manifest.v1+json";
    a.artifact_media_type = "application/vnd.oci.image.config.v1+json";
    json_t *ev = ecr_image_action_event(&m, &a);
    char *got = text_of(json_object_get(ev, "detail"));
    ASSERT_STREQ(got, "{\"result\":\"SUCCESS\",\"repository-name\":\"my-repository-name\","
                      "\"image-digest\":\"sha256:7f5b2640fe6fb4f46592dfd3410c4a79dac4f89e4782432e"
                      "0378abcd1234\",\"action-type\":\"PUSH\",\"manifest-media-type\":"
                      "\"application/vnd.oci.image.manifest.v1+json\",\"artifact-media-type\":"
                      "\"application/vnd.oci.image.config.v1+json\"}");
    free(got);
    json_decref(ev);
}

TEST(envelope_ecr_image_scan)
{
    struct event_meta m = { "85fc3613-e913-7fc4-a80c-a3753e4aa9ae", "123456789012", "us-east-1",
                            "2019-10-29T02:36:48Z" };
    struct ecr_image_scan s = {
        .scan_status = "COMPLETE",
        .repository_name = "my-repository-name",
        .counts = { .critical = 10, .medium = 9 },
        .image_digest = "sha256:7f5b2640fe6fb4f46592dfd3410c4a79dac4f89e4782432e0378abcd1234",
    };
    assert_golden(ecr_image_scan_event(&m, &s), "event_ecr_image_scan.json");

    /* only non-zero counts, in severity order; none at all gives {} */
    const char *tags[] = { "latest", "v1" };
    s.counts = (struct severity_counts){ .undefined = 1, .low = 2, .high = 3, .informational = 4 };
    s.image_tags = tags;
    s.n_image_tags = 2;
    json_t *ev = ecr_image_scan_event(&m, &s);
    char *got = text_of(json_object_get(ev, "detail"));
    ASSERT_STREQ(got, "{\"scan-status\":\"COMPLETE\",\"repository-name\":\"my-repository-name\","
                      "\"finding-severity-counts\":{\"HIGH\":3,\"LOW\":2,\"INFORMATIONAL\":4,"
                      "\"UNDEFINED\":1},\"image-digest\":\"sha256:7f5b2640fe6fb4f46592dfd3410c4a79d"
                      "ac4f89e4782432e0378abcd1234\",\"image-tags\":[\"latest\",\"v1\"]}");
    free(got);
    json_decref(ev);
    s.counts = (struct severity_counts){ 0 };
    ev = ecr_image_scan_event(&m, &s);
    got = text_of(json_object_get(json_object_get(ev, "detail"), "finding-severity-counts"));
    ASSERT_STREQ(got, "{}");
    free(got);
    json_decref(ev);
}

TEST(envelope_ecr_scan_resource_change)
{
    struct event_meta m = { "0c18352a-a4d4-6853-ef53-0ab8638973bf", "123456789012", "us-east-1",
                            "2021-10-14T20:53:46Z" };
    struct ecr_scan_repository repos[] = {
        { "repository-1", "SCAN_ON_PUSH", "MANUAL" },
        { "repository-2", "CONTINUOUS_SCAN", "SCAN_ON_PUSH" },
        { "repository-3", "CONTINUOUS_SCAN", "SCAN_ON_PUSH" },
    };
    struct ecr_scan_resource_change c = { .repositories = repos, .n_repositories = 3 };
    assert_golden(ecr_scan_resource_change_event(&m, &c), "event_ecr_scan_resource_change.json");
}

#define DIGEST "sha256:36c7b282abd0186e01419f2e58743e1bf635808231049bbc9d77e5e2ab1c2d3e"

TEST(envelope_inspector2_scan)
{
    struct event_meta m = { "739c0d3c-4f02-85c7-5a88-94a9e1f2c3d4", "123456789012", "us-east-2",
                            "2021-12-03T18:03:16Z" };
    const char *tags[] = { "latest" };
    struct inspector2_scan s = {
        .repository_name = "amazon/amazon-ecs-sample",
        /* 28 LOW findings count toward TOTAL but are not listed, as in Inspector's sample */
        .counts = { .critical = 7, .high = 61, .medium = 62, .low = 28 },
        .image_digest = DIGEST,
        .image_tags = tags,
        .n_image_tags = 1,
    };
    assert_golden(inspector2_scan_event(&m, &s), "event_inspector2_scan.json");
}

TEST(envelope_inspector2_finding)
{
    struct event_meta m = { "42dbea55-45ad-b2b4-87a8-afa1b2c3d4e5", "123456789012", "us-east-2",
                            "2021-12-03T18:02:30Z" };
    char observed[32], pushed[32], vendor[32];
    ASSERT_EQ(inspector_format_time(1638554550, observed), 0);
    ASSERT_EQ(inspector_format_time(1638554533, pushed), 0);
    ASSERT_EQ(inspector_format_time(1571184000, vendor), 0);
    const struct inspector2_cvss cvss[] = {
        { 6.5, "CVSS:3.0/AV:N/AC:L/PR:N/UI:R/S:U/C:H/I:N/A:N", "REDHAT_CVE", "3.0" },
        { 5.8, "AV:N/AC:M/Au:N/C:P/I:N/A:P", "NVD", "2.0" },
        { 8.1, "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:H/I:N/A:H", "NVD", "3.1" },
    };
    const struct inspector2_package pkg = {
        .arch = "X86_64",
        .epoch = 0,
        .name = "libssh2",
        .package_manager = "OS",
        .release = "12.amzn2.2",
        .source_layer_hash =
            "sha256:72d97abdfae3b3c933ff41e39779cc72853d7bd9dc1e4800c5294d1a2b3c4d5e",
        .version = "1.4.3",
    };
    const char *refs[] = { "https://access.redhat.com/errata/RHSA-2020:3915" };
    const char *tags[] = { "latest" };
    struct inspector2_finding f = {
        .finding_id = "be674aaddd0f75ac632055e1f2a3b4c5",
        .title = "CVE-2019-17498 - libssh2",
        .description =
            "In libssh2 v1.9.0 and earlier versions, the SSH_MSG_DISCONNECT logic in packet.c "
            "has an integer overflow in a bounds check, enabling an attacker to specify an "
            "arbitrary (out-of-bounds) offset for a subsequent memory read. A crafted SSH server "
            "may be able to disclose sensitive information or cause a denial of service "
            "condition on the client system when a user connects to the server.",
        .severity = "MEDIUM",
        .status = "ACTIVE",
        .first_observed_at = observed,
        .last_observed_at = observed,
        .updated_at = observed,
        .has_inspector_score = true,
        .inspector_score = 6.5,
        .adjusted_source = "REDHAT_CVE",
        .adjusted_vector = "CVSS:3.0/AV:N/AC:L/PR:N/UI:R/S:U/C:H/I:N/A:N",
        .adjusted_version = "3.0",
        .adjusted_score = 6.5,
        .cvss = cvss,
        .n_cvss = 3,
        .reference_urls = refs,
        .n_reference_urls = 1,
        .vuln_source = "REDHAT_CVE",
        .source_url = "https://access.redhat.com/security/cve/CVE-2019-17498",
        .vendor_created_at = vendor,
        .vendor_severity = "Moderate",
        .vulnerability_id = "CVE-2019-17498",
        .packages = &pkg,
        .n_packages = 1,
        .remediation_text =
            "Update all packages in the vulnerable packages section to their latest versions.",
        .repository_name = "amazon/amazon-ecs-sample",
        .image_digest = DIGEST,
        .architecture = "amd64",
        .platform = "AMAZON_LINUX_2",
        .pushed_at = pushed,
        .image_tags = tags,
        .n_image_tags = 1,
    };
    assert_golden(inspector2_finding_event(&m, &f), "event_inspector2_finding.json");

    /* current Inspector fields sit in alphabetical order among the others */
    f.fix_available = "YES";
    f.exploit_available = "NO";
    f.has_epss = true;
    f.epss_score = 0.00123;
    f.remediation_url = "https://example.com/fix";
    json_t *ev = inspector2_finding_event(&m, &f);
    const char *order[] = { "awsAccountId",
                            "description",
                            "epss",
                            "exploitAvailable",
                            "findingArn",
                            "firstObservedAt",
                            "fixAvailable",
                            "inspectorScore",
                            "inspectorScoreDetails",
                            "lastObservedAt",
                            "packageVulnerabilityDetails",
                            "remediation",
                            "resources",
                            "severity",
                            "status",
                            "title",
                            "type",
                            "updatedAt" };
    const char *k;
    json_t *v;
    size_t i = 0;
    json_object_foreach(json_object_get(ev, "detail"), k, v)
    {
        ASSERT_TRUE(i < ARRAY_SIZE(order));
        ASSERT_STREQ(k, order[i]);
        i++;
    }
    ASSERT_EQ(i, ARRAY_SIZE(order));
    char *got = text_of(json_object_get(json_object_get(ev, "detail"), "epss"));
    ASSERT_STREQ(got, "{\"score\":0.00123}");
    free(got);
    json_decref(ev);
}

TEST(envelope_time_and_id)
{
    char t[EVENT_TIME_LEN];
    ASSERT_EQ(event_format_time(1572316608, t), 0);
    ASSERT_STREQ(t, "2019-10-29T02:36:48Z");
    ASSERT_EQ(event_format_time(0, t), 0);
    ASSERT_STREQ(t, "1970-01-01T00:00:00Z");
    char i[32];
    ASSERT_EQ(inspector_format_time(1638554550, i), 0);
    ASSERT_STREQ(i, "Dec 3, 2021, 6:02:30 PM");
    ASSERT_EQ(inspector_format_time(1638489605, i), 0);
    ASSERT_STREQ(i, "Dec 3, 2021, 12:00:05 AM");
    ASSERT_EQ(inspector_format_time(1638532800, i), 0);
    ASSERT_STREQ(i, "Dec 3, 2021, 12:00:00 PM");

    char a[EVENT_ID_LEN], b[EVENT_ID_LEN];
    ASSERT_EQ(event_new_id(a), 0);
    ASSERT_EQ(event_new_id(b), 0);
    ASSERT_EQ(strlen(a), 36);
    ASSERT_TRUE(strcmp(a, b) != 0);
    for (int k = 0; k < 36; k++) {
        if (k == 8 || k == 13 || k == 18 || k == 23)
            ASSERT_EQ(a[k], '-');
        else
            ASSERT_TRUE(strchr("0123456789abcdef", a[k]) != NULL);
    }
    ASSERT_EQ(a[14], '4');
    ASSERT_TRUE(strchr("89ab", a[19]) != NULL);

    char *arn = ecr_repository_arn("us-east-1", "123456789012", "team/app");
    ASSERT_STREQ(arn, "arn:aws:ecr:us-east-1:123456789012:repository/team/app");
    free(arn);
}

TEST(envelope_put_events_checks)
{
    struct put_events_error err;
    struct put_events_entry e = { 0 };
    ASSERT_EQ(put_events_entry_check(&e, &err), -ERR_INVALID);
    ASSERT_STREQ(err.code, "InvalidArgument");
    ASSERT_STREQ(err.message,
                 "Parameter Source is not valid. Reason: Source is a required argument.");
    e.source = "";
    e.detail = "not json"; /* the missing Source is reported first */
    ASSERT_EQ(put_events_entry_check(&e, &err), -ERR_INVALID);
    ASSERT_STREQ(err.message,
                 "Parameter Source is not valid. Reason: Source is a required argument.");
    e.source = "my.app";
    ASSERT_EQ(put_events_entry_check(&e, &err), -ERR_INVALID);
    ASSERT_STREQ(err.code, "InvalidArgument");
    ASSERT_STREQ(err.message,
                 "Parameter DetailType is not valid. Reason: DetailType is a required argument.");
    e.detail_type = "thing happened";
    e.detail = NULL;
    ASSERT_EQ(put_events_entry_check(&e, &err), -ERR_INVALID);
    ASSERT_STREQ(err.message,
                 "Parameter Detail is not valid. Reason: Detail is a required argument.");
    static const char *const malformed[] = { "detail",  "\"a string\"", "[1,2]", "42",
                                             "{\"a\":", "{\"a\":1} {}", "null" };
    for (size_t k = 0; k < ARRAY_SIZE(malformed); k++) {
        e.detail = malformed[k];
        ASSERT_EQ(put_events_entry_check(&e, &err), -ERR_INVALID);
        ASSERT_STREQ(err.code, "MalformedDetail");
        ASSERT_STREQ(err.message, "Detail is malformed.");
        ASSERT_TRUE(put_events_entry_event(&(struct event_meta){ "i", "a", "r", "t" }, &e) == NULL);
    }
    e.detail = "{}";
    ASSERT_EQ(put_events_entry_check(&e, &err), 0);
    e.detail = " {\"a\": [1, {\"b\": null}]} ";
    ASSERT_EQ(put_events_entry_check(&e, &err), 0);
}

TEST(envelope_put_events_size)
{
    const char *res[] = { "arn:a", "arn:bb" };
    struct put_events_entry e = {
        .source = "src", .detail_type = "dt", .detail = "{}", .resources = res, .n_resources = 2
    };
    ASSERT_EQ(put_events_entry_size(&e), 3 + 2 + 2 + 5 + 6);
    e.has_time = true;
    ASSERT_EQ(put_events_entry_size(&e), 14 + 3 + 2 + 2 + 5 + 6);
    e.detail_type = "日本"; /* UTF-8 bytes */
    ASSERT_EQ(put_events_entry_size(&e), 14 + 3 + 6 + 2 + 5 + 6);

    /* exactly 256 KiB in total passes, one byte more does not */
    size_t n = PUT_EVENTS_MAX_BYTES - 3 - 2;
    char *big = xmalloc(n + 1);
    memset(big, ' ', n);
    big[0] = '{';
    big[n - 1] = '}';
    big[n] = '\0';
    struct put_events_entry two[2] = {
        { .source = "src", .detail_type = "dt", .detail = big },
        { .source = "s", .detail_type = "d", .detail = "{}" },
    };
    ASSERT_TRUE(put_events_check_total(two, 1) == NULL);
    ASSERT_STREQ(put_events_check_total(two, 2),
                 "Total size of the entries in the request is over the limit.");
    free(big);
}

TEST(envelope_put_events_event)
{
    struct event_meta m = { "6f1c2a3b-4d5e-4f60-8a1b-2c3d4e5f6a7b", "123456789012",
                            "ap-northeast-1", "2024-01-02T03:04:05Z" };
    const char *res[] = { "arn:aws:ecr:ap-northeast-1:123456789012:repository/app" };
    struct put_events_entry e = {
        .source = "my.app",
        .detail_type = "スキャン完了",
        .detail = "{ \"メッセージ\" : \"重大な脆弱性\", \"n\": 1.50, \"big\": 9007199254740993 }",
        .resources = res,
        .n_resources = 1,
        .has_time = true,
        .time = 1572316608.75,
    };
    json_t *ev = put_events_entry_event(&m, &e);
    ASSERT_TRUE(ev != NULL);
    char *got = text_of(ev);
    ASSERT_STREQ(got, "{\"version\":\"0\",\"id\":\"6f1c2a3b-4d5e-4f60-8a1b-2c3d4e5f6a7b\","
                      "\"detail-type\":\"スキャン完了\",\"source\":\"my.app\",\"account\":"
                      "\"123456789012\",\"time\":\"2019-10-29T02:36:48Z\",\"region\":"
                      "\"ap-northeast-1\",\"resources\":[\"arn:aws:ecr:ap-northeast-1:"
                      "123456789012:repository/app\"],\"detail\":{\"メッセージ\":\"重大な脆弱性\","
                      "\"n\":1.5,\"big\":9007199254740993}}");
    free(got);
    json_decref(ev);

    /* no Time: the receive time; a Time out of range falls back the same way */
    e.has_time = false;
    e.n_resources = 0;
    ev = put_events_entry_event(&m, &e);
    ASSERT_STREQ(json_string_value(json_object_get(ev, "time")), "2024-01-02T03:04:05Z");
    ASSERT_EQ(json_array_size(json_object_get(ev, "resources")), 0);
    json_decref(ev);
    e.has_time = true;
    e.time = 1e300;
    ev = put_events_entry_event(&m, &e);
    ASSERT_STREQ(json_string_value(json_object_get(ev, "time")), "2024-01-02T03:04:05Z");
    json_decref(ev);
}

/* The seed scenario end to end inside the events module: an ECR Image Scan event built here,
 * rendered by the transformer the operator configured (DESIGN.md step 4). */
TEST(envelope_seed_scenario_render)
{
    struct event_meta m = { "85fc3613-e913-7fc4-a80c-a3753e4aa9ae", "123456789012", "us-east-1",
                            "2019-10-29T02:36:48Z" };
    struct ecr_image_scan s = {
        .scan_status = "COMPLETE",
        .repository_name = "team/app",
        .counts = { .critical = 2, .high = 5, .low = 7 },
        .image_digest = "sha256:7f5b2640fe6fb4f46592dfd3410c4a79dac4f89e4782432e0378abcd1234",
    };
    json_t *ev = ecr_image_scan_event(&m, &s);
    char *text = text_of(ev);
    json_decref(ev);
    const char *map =
        "{\"CRITICAL\":\"$.detail.finding-severity-counts.CRITICAL\","
        "\"HIGH\":\"$.detail.finding-severity-counts.HIGH\","
        "\"detailtype\":\"$.detail-type\",\"repository\":\"$.detail.repository-name\","
        "\"time\":\"$.time\"}";
    const char *tmpl = "\"Repository: <repository>\"\n\"Event: <detailtype> at <time>\"\n"
                       "\"CRITICAL: <CRITICAL>\"\n\"HIGH: <HIGH>\"";
    struct xform_spec spec = { .target_id = "mail", .member = 1, .has_transformer = true };
    spec.paths_map = map;
    spec.paths_map_len = strlen(map);
    spec.input_template = tmpl;
    spec.input_template_len = strlen(tmpl);
    struct xform *x = NULL;
    ASSERT_EQ(xform_compile(&spec, &x, NULL, NULL), 0);
    struct buf out;
    buf_init(&out, 1 << 16);
    ASSERT_EQ(xform_render(x, text, strlen(text), NULL, &out, NULL), 0);
    ASSERT_STREQ(buf_cstr(&out), "\"Repository: team/app\"\n"
                                 "\"Event: ECR Image Scan at 2019-10-29T02:36:48Z\"\n"
                                 "\"CRITICAL: 2\"\n\"HIGH: 5\"");
    buf_release(&out);
    xform_free(x);
    free(text);
}
