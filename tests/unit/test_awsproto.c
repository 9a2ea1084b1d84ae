/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the AWS wire layer (src/api/awsproto*): the model-pattern matcher, JSON 1.1
 * and Query input validation with bodies the aws CLI really sends, the error texts, the form
 * decoder, the XML writer, tokens, timestamps and the dispatcher end to end. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/awsproto.h"
#include "api/awsproto_internal.h"
#include "base/arena.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/xalloc.h"
#include "test.h"

/* ---- Patterns ---------------------------------------------------------------------------- */

static bool re_match(const char *pattern, const char *s)
{
    struct aws_regex *re;
    struct diag d = { 0 };
    if (aws_regex_compile(pattern, &re, &d) != 0)
        test_fail(__FILE__, __LINE__, "pattern %s does not compile: %s", pattern, d.msg);
    bool ok = aws_regex_match(re, s, strlen(s));
    aws_regex_free(re);
    return ok;
}

static bool re_compiles(const char *pattern)
{
    struct aws_regex *re = NULL;
    struct diag d = { 0 };
    int rc = aws_regex_compile(pattern, &re, &d);
    aws_regex_free(re);
    if (rc != 0 && d.msg[0] == '\0')
        test_fail(__FILE__, __LINE__, "no diagnostic for %s", pattern);
    return rc == 0;
}

static int pattern_index(const char *text)
{
    for (size_t i = 0; i < aws_pattern_count(); i++)
        if (strcmp(aws_pattern_text((int)i), text) == 0)
            return (int)i;
    return -1;
}

static bool model_match(const char *pattern, const char *s)
{
    int i = pattern_index(pattern);
    if (i < 0)
        test_fail(__FILE__, __LINE__, "pattern %s is not in the model tables", pattern);
    return aws_regex_match(aws_pattern_regex(i), s, strlen(s));
}

#define REPO_RE   "(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*"
#define FILTER_RE "^[a-z0-9*](?:[._\\-/a-z0-9*]?[a-z0-9*]+)*$"
#define RULE_RE   "[\\.\\-_A-Za-z0-9]+"

TEST(awsproto_every_model_pattern_compiles)
{
    ASSERT_TRUE(aws_pattern_count() >= 10);
    for (size_t i = 0; i < aws_pattern_count(); i++) {
        struct aws_regex *re = NULL;
        struct diag d = { 0 };
        int rc = aws_regex_compile(aws_pattern_text((int)i), &re, &d);
        if (rc != 0)
            test_fail(__FILE__, __LINE__, "%s: %s", aws_pattern_text((int)i), d.msg);
        aws_regex_free(re);
        ASSERT_TRUE(aws_pattern_regex((int)i) != NULL);
    }
}

TEST(awsproto_regex_repository_name)
{
    const char *good[] = { "demo-app", "team/app", "a.b_c-d/e0", "ab", "x/y/z", "0" };
    const char *bad[] = { "Demo", "a//b", "-a", "a-", "a..b", "a/", "/a", "a b", "", "a__b" };
    for (size_t i = 0; i < ARRAY_SIZE(good); i++)
        if (!model_match(REPO_RE, good[i]))
            test_fail(__FILE__, __LINE__, "'%s' should match", good[i]);
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
        if (model_match(REPO_RE, bad[i]))
            test_fail(__FILE__, __LINE__, "'%s' should not match", bad[i]);
}

TEST(awsproto_regex_scan_filter_no_blowup)
{
    ASSERT_TRUE(model_match(FILTER_RE, "prod-*"));
    ASSERT_TRUE(model_match(FILTER_RE, "*"));
    ASSERT_TRUE(model_match(FILTER_RE, "a*b/c.d"));
    ASSERT_FALSE(model_match(FILTER_RE, "Prod"));
    ASSERT_FALSE(model_match(FILTER_RE, "-a"));
    ASSERT_FALSE(model_match(FILTER_RE, ""));
    ASSERT_FALSE(model_match(FILTER_RE, "a--b"));
    /* a backtracking matcher takes exponential time on this; the NFA simulation is linear */
    char s[4001];
    memset(s, 'a', 3999);
    s[3999] = '!';
    s[4000] = '\0';
    ASSERT_FALSE(model_match(FILTER_RE, s));
    s[3999] = 'a';
    ASSERT_TRUE(model_match(FILTER_RE, s));
}

TEST(awsproto_regex_eventbridge_patterns)
{
    ASSERT_TRUE(model_match(RULE_RE, "scan-critical"));
    ASSERT_TRUE(model_match(RULE_RE, "a.b_c-D9"));
    ASSERT_FALSE(model_match(RULE_RE, "bad name"));
    ASSERT_FALSE(model_match(RULE_RE, ""));
    ASSERT_FALSE(model_match(RULE_RE, "r\xc3\xa9gle"));

    const char *bus = "(arn:aws[\\w-]*:events:[a-z]{2}-[a-z]+-[\\w-]+:[0-9]{12}:event-bus\\/)?"
                      "[/\\.\\-_A-Za-z0-9]+";
    ASSERT_TRUE(model_match(bus, "default"));
    ASSERT_TRUE(model_match(bus, "arn:aws:events:us-east-1:123456789012:event-bus/custom"));
    ASSERT_FALSE(model_match(bus, "arn:aws:events:us-east-1:12345:event-bus/x y"));

    const char *path = "^(?!\\s*$).+";
    ASSERT_TRUE(model_match(path, "x"));
    ASSERT_TRUE(model_match(path, " a"));
    ASSERT_FALSE(model_match(path, "   "));
    ASSERT_FALSE(model_match(path, ""));
    ASSERT_FALSE(model_match(path, "a\n"));

    const char *hkey = "^[!#$%&'*+-.^_`|~0-9a-zA-Z]+$";
    ASSERT_TRUE(model_match(hkey, "Content-Type"));
    ASSERT_TRUE(model_match(hkey, "a,b")); /* '+-.' is a range that holds ',' */
    ASSERT_FALSE(model_match(hkey, "a b"));
    ASSERT_FALSE(model_match(hkey, "a:b"));

    const char *hval = "^[ \\t]*[\\x20-\\x7E]+([ \\t]+[\\x20-\\x7E]+)*[ \\t]*$";
    ASSERT_TRUE(model_match(hval, "text/plain; charset=utf-8"));
    ASSERT_TRUE(model_match(hval, "\ta\tb "));
    ASSERT_FALSE(model_match(hval, "a\x01"));

    const char *key = "^[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*$";
    ASSERT_TRUE(model_match(key, "Gr\xc3\xbc\xc3\x9f"
                                 "e 42"));
    ASSERT_TRUE(model_match(key, "\xe6\x97\xa5\xe6\x9c\xac")); /* CJK letters */
    ASSERT_TRUE(model_match(key, "\xd9\xa3"));                 /* Arabic-Indic three */
    ASSERT_TRUE(model_match(key, ""));
    ASSERT_FALSE(model_match(key, "a!b"));
    ASSERT_FALSE(model_match(key, "\xe2\x82\xac"));     /* euro sign: a symbol */
    ASSERT_FALSE(model_match(key, "\xf0\x9f\x98\x80")); /* emoji */

    const char *secret = "(^arn:aws([a-z]|\\-)*:secretsmanager:[a-z0-9-.]+:.*)|"
                         "(\\$(\\.[\\w_-]+(\\[(\\d+|\\*)\\])*)*)";
    ASSERT_TRUE(model_match(secret, "$.detail.a[0][*]"));
    ASSERT_TRUE(model_match(secret, "arn:aws:secretsmanager:us-east-1:1:secret:x"));
    ASSERT_FALSE(model_match(secret, "nope"));
    ASSERT_FALSE(model_match(secret, "$.a[x]"));
}

TEST(awsproto_regex_syntax)
{
    ASSERT_TRUE(re_match("[0-9]{12}", "123456789012"));
    ASSERT_FALSE(re_match("[0-9]{12}", "12345678901"));
    ASSERT_FALSE(re_match("[0-9]{12}", "1234567890123"));
    ASSERT_TRUE(re_match("a{2,}", "aaaa"));
    ASSERT_FALSE(re_match("a{2,3}", "aaaa"));
    ASSERT_TRUE(re_match("(?=ab)a.", "ab"));
    ASSERT_FALSE(re_match("(?=ab)a.", "ac"));
    ASSERT_TRUE(re_match("\\d+\\s\\w+", "12 ab_9"));
    ASSERT_TRUE(re_match("\\D\\W\\S", "a-b"));
    ASSERT_FALSE(re_match("\\D", "5"));
    ASSERT_TRUE(re_match("[^a-c]+", "xyz"));
    ASSERT_FALSE(re_match("[^a-c]+", "xbz"));
    ASSERT_TRUE(re_match("\\u00e9|\\x41", "\xc3\xa9"));
    ASSERT_TRUE(re_match("a|", ""));
    ASSERT_TRUE(re_match("x*?y", "xxy"));
    ASSERT_TRUE(re_match("^a$", "a"));
    ASSERT_FALSE(re_match("^a$", "a\n")); /* '$' may stand before the final newline, '\n' still
                                             has to be matched by something */
    ASSERT_TRUE(re_match("^a$\n", "a\n"));
    ASSERT_TRUE(re_match("(a*)*b", "aaab"));
    ASSERT_FALSE(re_match(".", "\xff"));
    ASSERT_FALSE(re_match(".*", "ok\xc3"));

    ASSERT_FALSE(re_compiles("("));
    ASSERT_FALSE(re_compiles("a)"));
    ASSERT_FALSE(re_compiles("[z-a]"));
    ASSERT_FALSE(re_compiles("[abc"));
    ASSERT_FALSE(re_compiles("a{3,1}"));
    ASSERT_FALSE(re_compiles("\\q"));
    ASSERT_FALSE(re_compiles("\\1"));
    ASSERT_FALSE(re_compiles("(?<n>x)"));
    ASSERT_FALSE(re_compiles("*a"));
    ASSERT_FALSE(re_compiles("a{1001}"));
    ASSERT_FALSE(re_compiles("[[a]]"));
    ASSERT_FALSE(re_compiles("[\\W]"));
    ASSERT_FALSE(re_compiles("\\p{Greek}"));
    ASSERT_FALSE(re_compiles("a++"));
    ASSERT_FALSE(re_compiles("(a{1000}){1000}")); /* expands past the program cap */
}

/* ---- JSON 1.1 validation ----------------------------------------------------------------- */

static const struct aws_operation *op_of(enum aws_service svc, const char *name)
{
    const struct aws_operation *op = aws_operation_find(svc, name);
    if (!op)
        test_fail(__FILE__, __LINE__, "no operation %s", name);
    return op;
}

/* Decode body for svc/op; returns the error code ("" on success) and fills *err. */
static const char *decode(enum aws_service svc, const char *op, const char *body,
                          struct aws_error *err)
{
    json_t *out = NULL;
    memset(err, 0, sizeof(*err));
    int rc = aws_json_decode_input(op_of(svc, op), body, strlen(body), &out, err);
    json_decref(out);
    if (rc == 0) {
        ASSERT_EQ(err->code[0], '\0');
        return "";
    }
    ASSERT_TRUE(err->code[0] != '\0');
    ASSERT_TRUE(err->status >= 400);
    return err->code;
}

static void expect_error(enum aws_service svc, const char *op, const char *body, const char *code,
                         const char *message, int line)
{
    struct aws_error err;
    const char *got = decode(svc, op, body, &err);
    if (strcmp(got, code) != 0)
        test_fail(__FILE__, line, "%s %s: code '%s' != '%s' (%s)", op, body, got, code,
                  err.message);
    if (message && strcmp(err.message, message) != 0)
        test_fail(__FILE__, line, "%s %s: message\n  '%s' !=\n  '%s'", op, body, err.message,
                  message);
}
#define EXPECT_ERROR(svc, op, body, code, msg) expect_error(svc, op, body, code, msg, __LINE__)

static json_t *load_fixtures(void)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/awsproto/cli-requests.jsonl", test_data_dir());
    FILE *f = fopen(path, "r");
    if (!f)
        test_fail(__FILE__, __LINE__, "cannot open %s", path);
    json_t *all = json_array();
    char line[16384];
    while (fgets(line, sizeof(line), f)) {
        json_t *r = json_loads(line, 0, NULL);
        ASSERT_TRUE(r != NULL);
        json_array_append_new(all, r);
    }
    fclose(f);
    return all;
}

TEST(awsproto_cli_bodies_all_validate)
{
    json_t *all = load_fixtures();
    ASSERT_EQ(json_array_size(all), 62);
    size_t json_n = 0, query_n = 0;
    size_t i;
    json_t *r;
    json_array_foreach(all, i, r)
    {
        const char *body = json_string_value(json_object_get(r, "body"));
        const char *target = json_string_value(json_object_get(r, "target"));
        struct aws_error err = { 0 };
        json_t *in = NULL;
        if (target) {
            const char *dot = strrchr(target, '.');
            char prefix[128];
            size_t plen = (size_t)(dot - target);
            ASSERT_TRUE(plen < sizeof(prefix));
            memcpy(prefix, target, plen);
            prefix[plen] = '\0';
            enum aws_service svc;
            ASSERT_TRUE(aws_service_by_name(prefix, &svc));
            const struct aws_operation *op = op_of(svc, dot + 1);
            if (aws_json_decode_input(op, body, strlen(body), &in, &err) != 0)
                test_fail(__FILE__, __LINE__, "%s %s: %s %s", target, body, err.code, err.message);
            /* nothing the CLI sends is dropped by normalisation */
            json_t *orig = json_loads(body, 0, NULL);
            ASSERT_TRUE(json_equal(orig, in));
            json_decref(orig);
            json_n++;
        } else {
            struct aws_form form;
            ASSERT_EQ(aws_form_parse(str_from(body), &form, &err), 0);
            const char *action = aws_form_get(&form, "Action");
            ASSERT_STREQ(aws_form_get(&form, "Version"), "2010-03-31");
            const struct aws_operation *op = op_of(AWS_SVC_SNS, action);
            if (aws_query_decode_input(op, &form, &in, &err) != 0)
                test_fail(__FILE__, __LINE__, "%s: %s %s", body, err.code, err.message);
            /* every parameter but Action and Version landed somewhere */
            ASSERT_TRUE(json_object_size(in) > 0 || form.n == 2);
            aws_form_release(&form);
            query_n++;
        }
        json_decref(in);
    }
    ASSERT_EQ(json_n, 43);
    ASSERT_EQ(query_n, 19);
    json_decref(all);
}

TEST(awsproto_json_malformed_is_serialization_exception)
{
    const char *bodies[] = { "{",
                             "{\"repositoryName\": \"ab\"}x",
                             "",
                             "{'repositoryName': 'ab'}",
                             "{\"repositoryName\": \"ab\",}",
                             "{\"repositoryName\": \"ab\", \"repositoryName\": \"cd\"}",
                             "{\"maxResults\": 99999999999999999999999}",
                             "{\"a\": NaN}",
                             "{\"s\": \"\\u0000\"}",
                             "{\"s\": \"\xff\"}",
                             "\f{}" };
    for (size_t i = 0; i < ARRAY_SIZE(bodies); i++) {
        struct aws_error err;
        const char *code = decode(AWS_SVC_ECR, "DescribeRepositories", bodies[i], &err);
        if (strcmp(code, "SerializationException") != 0)
            test_fail(__FILE__, __LINE__, "%s: %s", bodies[i], code);
        ASSERT_EQ(err.status, 400);
        ASSERT_TRUE(err.cap_message);
    }
    EXPECT_ERROR(AWS_SVC_ECR, "DescribeRepositories", "[{}]", "SerializationException",
                 "Start of list found where not expected");
    EXPECT_ERROR(AWS_SVC_ECR, "DescribeRepositories", "10", "SerializationException",
                 "Unexpected field type");
    EXPECT_ERROR(AWS_SVC_ECR, "DescribeRepositories", "null", "SerializationException",
                 "Unexpected field type");
}

TEST(awsproto_json_type_errors)
{
    EXPECT_ERROR(AWS_SVC_ECR, "CreateRepository", "{\"repositoryName\": 5}",
                 "SerializationException", "NUMBER_VALUE cannot be converted to String");
    EXPECT_ERROR(AWS_SVC_ECR, "CreateRepository", "{\"repositoryName\": true}",
                 "SerializationException", "TRUE_VALUE cannot be converted to String");
    EXPECT_ERROR(AWS_SVC_ECR, "CreateRepository", "{\"repositoryName\": 1.5}",
                 "SerializationException", "DECIMAL_VALUE cannot be converted to String");
    EXPECT_ERROR(AWS_SVC_ECR, "CreateRepository", "{\"repositoryName\": [\"a\"]}",
                 "SerializationException", "Unrecognized collection type class java.lang.String");
    EXPECT_ERROR(AWS_SVC_ECR, "CreateRepository", "{\"repositoryName\": {}}",
                 "SerializationException", "Start of structure or map found where not expected");
    EXPECT_ERROR(AWS_SVC_ECR, "DeleteRepository",
                 "{\"repositoryName\": \"ab\", \"force\": \"true\"}", "SerializationException",
                 "Unexpected token received from parser");
    EXPECT_ERROR(AWS_SVC_ECR, "DeleteRepository", "{\"repositoryName\": \"ab\", \"force\": 1}",
                 "SerializationException", "NUMBER_VALUE cannot be converted to Boolean");
    EXPECT_ERROR(AWS_SVC_ECR, "DescribeRepositories", "{\"maxResults\": \"10\"}",
                 "SerializationException", "STRING_VALUE cannot be converted to Integer");
    EXPECT_ERROR(AWS_SVC_ECR, "DescribeRepositories", "{\"maxResults\": 10.0}",
                 "SerializationException", "DECIMAL_VALUE cannot be converted to Integer");
    EXPECT_ERROR(AWS_SVC_ECR, "DescribeRepositories", "{\"maxResults\": 3000000000}",
                 "SerializationException", "NUMBER_VALUE cannot be converted to Integer");
    EXPECT_ERROR(AWS_SVC_ECR, "DescribeRepositories", "{\"repositoryNames\": \"ab\"}",
                 "SerializationException", "Unexpected field type");
    EXPECT_ERROR(AWS_SVC_ECR, "DescribeRepositories", "{\"repositoryNames\": {}}",
                 "SerializationException", "Start of structure or map found where not expected");
    EXPECT_ERROR(AWS_SVC_ECR, "DescribeRepositories", "{\"repositoryNames\": [\"ab\", null]}",
                 "SerializationException", NULL);
    EXPECT_ERROR(AWS_SVC_ECR, "StartImageScan", "{\"repositoryName\": \"ab\", \"imageId\": []}",
                 "SerializationException", "Start of list found where not expected");
    EXPECT_ERROR(AWS_SVC_ECR, "StartImageScan", "{\"repositoryName\": \"ab\", \"imageId\": 3}",
                 "SerializationException", "Unexpected field type");
    EXPECT_ERROR(AWS_SVC_EVENTS, "PutEvents",
                 "{\"Entries\": [{\"Source\": \"a\", \"Time\": \"2024-01-02T03:04:05Z\"}]}",
                 "SerializationException", "STRING_VALUE cannot be converted to Timestamp");
    EXPECT_ERROR(AWS_SVC_EVENTS, "PutTargets",
                 "{\"Rule\": \"r\", \"Targets\": [{\"Id\": \"1\", \"Arn\": \"a\", "
                 "\"InputTransformer\": {\"InputTemplate\": \"x\", \"InputPathsMap\": "
                 "{\"k\": 1}}}]}",
                 "SerializationException", "NUMBER_VALUE cannot be converted to String");
    /* a type error anywhere wins over constraint violations elsewhere (Coral deserialises
     * first) */
    EXPECT_ERROR(AWS_SVC_EVENTS, "PutRule", "{\"State\": \"BOGUS\", \"Description\": 1}",
                 "SerializationException", "NUMBER_VALUE cannot be converted to String");
}

TEST(awsproto_ecr_constraint_messages)
{
    /* ECR answers InvalidParameterException with its own wording (see docs/API.md) */
    EXPECT_ERROR(AWS_SVC_ECR, "CreateRepository", "{}", "InvalidParameterException",
                 "Invalid parameter at 'repositoryName' failed to satisfy constraint: 'Member "
                 "must not be null'");
    EXPECT_ERROR(AWS_SVC_ECR, "CreateRepository", "{\"repositoryName\": null}",
                 "InvalidParameterException",
                 "Invalid parameter at 'repositoryName' failed to satisfy constraint: 'Member "
                 "must not be null'");
    EXPECT_ERROR(AWS_SVC_ECR, "CreateRepository", "{\"repositoryName\": \"Organization/repo\"}",
                 "InvalidParameterException",
                 "Invalid parameter at 'repositoryName' failed to satisfy constraint: 'must "
                 "satisfy regular expression '" REPO_RE "''");
    EXPECT_ERROR(AWS_SVC_ECR, "CreateRepository", "{\"repositoryName\": \"a\"}",
                 "InvalidParameterException",
                 "Invalid parameter at 'repositoryName' failed to satisfy constraint: 'must have "
                 "length greater than or equal to 2'");
    char body[600];
    snprintf(body, sizeof(body), "{\"repositoryName\": \"%0257d\"}", 0);
    EXPECT_ERROR(AWS_SVC_ECR, "CreateRepository", body, "InvalidParameterException",
                 "Invalid parameter at 'repositoryName' failed to satisfy constraint: 'must have "
                 "length less than or equal to 256'");
    EXPECT_ERROR(AWS_SVC_ECR, "DescribeRepositories",
                 "{\"repositoryNames\": [\"ok\", \"arn:aws:ecr:x:1:repository/a\"]}",
                 "InvalidParameterException",
                 "Invalid parameter at 'repositoryName' failed to satisfy constraint: 'must "
                 "satisfy regular expression '" REPO_RE "''");
    EXPECT_ERROR(AWS_SVC_ECR, "ListImages", "{\"repositoryName\": \"ab\", \"maxResults\": 10000}",
                 "InvalidParameterException",
                 "Invalid parameter at 'maxResults' failed to satisfy constraint: 'Member must "
                 "have value less than or equal to 1000'");
    EXPECT_ERROR(AWS_SVC_ECR, "ListImages", "{\"repositoryName\": \"ab\", \"maxResults\": 0}",
                 "InvalidParameterException",
                 "Invalid parameter at 'maxResults' failed to satisfy constraint: 'Member must "
                 "have value greater than or equal to 1'");
    EXPECT_ERROR(AWS_SVC_ECR, "BatchDeleteImage", "{\"repositoryName\": \"ab\", \"imageIds\": []}",
                 "InvalidParameterException",
                 "Invalid parameter at 'imageIds' failed to satisfy constraint: 'Member must have "
                 "length greater than or equal to 1'");
    EXPECT_ERROR(AWS_SVC_ECR, "GetAuthorizationToken", "{\"registryIds\": [\"0123\"]}",
                 "InvalidParameterException",
                 "Invalid parameter at 'registryIds' failed to satisfy constraint: 'Member must "
                 "satisfy constraint: [Member must satisfy regular expression pattern: "
                 "[0-9]{12}]'");
    EXPECT_ERROR(AWS_SVC_ECR, "PutImageTagMutability",
                 "{\"repositoryName\": \"ab\", \"imageTagMutability\": \"SOMETIMES\"}",
                 "InvalidParameterException",
                 "Invalid parameter at 'imageTagMutability' failed to satisfy constraint: "
                 "'Member must satisfy enum value set: [MUTABLE, IMMUTABLE]'");
    EXPECT_ERROR(AWS_SVC_ECR, "StartImageScan",
                 "{\"repositoryName\": \"ab\", \"imageId\": {\"imageTag\": \"\"}}",
                 "InvalidParameterException",
                 "Invalid parameter at 'imageId.imageTag' failed to satisfy constraint: 'Member "
                 "must have length greater than or equal to 1'");
    EXPECT_ERROR(AWS_SVC_ECR, "PutRegistryScanningConfiguration",
                 "{\"rules\": [{\"scanFrequency\": \"SCAN_ON_PUSH\", \"repositoryFilters\": "
                 "[{\"filter\": \"Prod\", \"filterType\": \"WILDCARD\"}]}]}",
                 "InvalidParameterException",
                 "Invalid parameter at 'rules.1.member.repositoryFilters.1.member.filter' failed "
                 "to satisfy constraint: 'Member must satisfy regular expression pattern: "
                 "^[a-z0-9*](?:[._\\-/a-z0-9*]?[a-z0-9*]+)*$'");
    EXPECT_ERROR(AWS_SVC_ECR, "PutRegistryScanningConfiguration",
                 "{\"rules\": [{\"scanFrequency\": \"SCAN_ON_PUSH\"}, {\"scanFrequency\": "
                 "\"MANUAL\", \"repositoryFilters\": []}, {\"scanFrequency\": \"MANUAL\", "
                 "\"repositoryFilters\": []}]}",
                 "InvalidParameterException",
                 "Invalid parameter at 'rules' failed to satisfy constraint: 'Member must have "
                 "length less than or equal to 2'");
}

TEST(awsproto_coral_constraint_messages)
{
    EXPECT_ERROR(AWS_SVC_EVENTS, "PutRule", "{}", "ValidationException",
                 "1 validation error detected: Value null at 'name' failed to satisfy "
                 "constraint: Member must not be null");
    EXPECT_ERROR(AWS_SVC_EVENTS, "PutTargets",
                 "{\"Rule\": \"r\", \"Targets\": [{\"Id\": \"ok\", \"Arn\": \"a\"}, {\"Id\": "
                 "\"bad id\", \"Arn\": \"a\"}]}",
                 "ValidationException",
                 "1 validation error detected: Value 'bad id' at 'targets.2.member.id' failed "
                 "to satisfy constraint: Member must satisfy regular expression pattern: "
                 "[\\.\\-_A-Za-z0-9]+");
    /* several violations: all named, pattern before length as Coral does */
    char name[80];
    memset(name, 'x', 70);
    name[0] = '!';
    name[70] = '\0';
    char body[256];
    snprintf(body, sizeof(body), "{\"Name\": \"%s\", \"State\": \"ON\"}", name);
    char want[1024];
    snprintf(want, sizeof(want),
             "3 validation errors detected: Value '%s' at 'name' failed to satisfy constraint: "
             "Member must satisfy regular expression pattern: [\\.\\-_A-Za-z0-9]+; Value '%s' at "
             "'name' failed to satisfy constraint: Member must have length less than or equal "
             "to 64; Value 'ON' at 'state' failed to satisfy constraint: Member must satisfy "
             "enum value set: [ENABLED, DISABLED]",
             name, name);
    EXPECT_ERROR(AWS_SVC_EVENTS, "PutRule", body, "ValidationException", want);
    /* list length, with the value rendered as Java would */
    struct buf b;
    buf_init(&b, 1 << 16);
    buf_append_cstr(&b, "{\"Entries\": [");
    for (int i = 0; i < 11; i++)
        buf_printf(&b, "%s{\"Source\": \"s%d\"}", i ? ", " : "", i);
    buf_append_cstr(&b, "]}");
    struct aws_error err;
    ASSERT_STREQ(decode(AWS_SVC_EVENTS, "PutEvents", buf_cstr(&b), &err), "ValidationException");
    ASSERT_TRUE(strncmp(err.message,
                        "1 validation error detected: Value '[{Source=s0}, {Source=s1}, ",
                        62) == 0);
    ASSERT_TRUE(str_has_suffix(str_from(err.message),
                               "' at 'entries' failed to satisfy constraint: Member must have "
                               "length less than or equal to 10"));
    buf_release(&b);
    /* map keys and values */
    EXPECT_ERROR(AWS_SVC_EVENTS, "PutTargets",
                 "{\"Rule\": \"r\", \"Targets\": [{\"Id\": \"1\", \"Arn\": \"a\", "
                 "\"InputTransformer\": {\"InputTemplate\": \"x\", \"InputPathsMap\": {\"bad "
                 "key\": \"$.a\"}}}]}",
                 "ValidationException",
                 "1 validation error detected: Value '{bad key=$.a}' at "
                 "'targets.1.member.inputTransformer.inputPathsMap' failed to satisfy "
                 "constraint: Map keys must satisfy constraint: [Member must satisfy regular "
                 "expression pattern: [A-Za-z0-9\\_\\-]+]");
    EXPECT_ERROR(AWS_SVC_EVENTS, "PutTargets",
                 "{\"Rule\": \"r\", \"Targets\": [{\"Id\": \"1\", \"Arn\": \"a\", "
                 "\"RetryPolicy\": {\"MaximumRetryAttempts\": 186}}]}",
                 "ValidationException",
                 "1 validation error detected: Value '186' at "
                 "'targets.1.member.retryPolicy.maximumRetryAttempts' failed to satisfy "
                 "constraint: Member must have value less than or equal to 185");
    EXPECT_ERROR(AWS_SVC_EVENTS, "RemoveTargets", "{\"Rule\": \"r\", \"Ids\": [\"a b\", \"\"]}",
                 "ValidationException",
                 "1 validation error detected: Value '[a b, ]' at 'ids' failed to satisfy "
                 "constraint: Member must satisfy constraint: [Member must satisfy regular "
                 "expression pattern: [\\.\\-_A-Za-z0-9]+, Member must have length greater than "
                 "or equal to 1]");
}

TEST(awsproto_validation_error_cap_and_count)
{
    /* 12 targets without Id and Arn: 24 violations, 10 listed, all counted */
    struct buf b;
    buf_init(&b, 1 << 16);
    buf_append_cstr(&b, "{\"Rule\": \"r\", \"Targets\": [");
    for (int i = 0; i < 12; i++)
        buf_printf(&b, "%s{}", i ? ", " : "");
    buf_append_cstr(&b, "]}");
    struct aws_error err;
    ASSERT_STREQ(decode(AWS_SVC_EVENTS, "PutTargets", buf_cstr(&b), &err), "ValidationException");
    ASSERT_TRUE(strncmp(err.message, "24 validation errors detected: ", 31) == 0);
    size_t n = 0;
    for (const char *p = err.message; (p = strstr(p, "Value null")) != NULL; p++)
        n++;
    ASSERT_EQ(n, AWS_VALIDATION_ERRORS_MAX);
    buf_release(&b);
}

TEST(awsproto_unknown_and_null_members_dropped)
{
    const struct aws_operation *op = op_of(AWS_SVC_ECR, "CreateRepository");
    const char *body = "{\"repositoryName\": \"ab\", \"bogus\": {\"x\": 1}, \"tags\": null, "
                       "\"imageScanningConfiguration\": {\"scanOnPush\": true, \"extra\": 1}}";
    json_t *in = NULL;
    struct aws_error err;
    ASSERT_EQ(aws_json_decode_input(op, body, strlen(body), &in, &err), 0);
    json_t *want = json_loads("{\"repositoryName\": \"ab\", \"imageScanningConfiguration\": "
                              "{\"scanOnPush\": true}}",
                              0, NULL);
    ASSERT_TRUE(json_equal(in, want));
    json_decref(want);
    json_decref(in);

    /* on error the input is left as it was */
    json_t *bad = json_loads("{\"repositoryName\": \"A\", \"bogus\": 1}", 0, NULL);
    ASSERT_EQ(aws_validate_input(op, bad, &err), -ERR_INVALID);
    ASSERT_TRUE(json_object_get(bad, "bogus") != NULL);
    json_decref(bad);

    /* operations without input members accept {} and anything modelled nowhere */
    ASSERT_STREQ(decode(AWS_SVC_ECR, "GetRegistryScanningConfiguration", "{\"x\": [1]}", &err), "");
}

TEST(awsproto_body_cap)
{
    const struct aws_operation *op = op_of(AWS_SVC_ECR, "DescribeRepositories");
    json_t *in = NULL;
    struct aws_error err;
    ASSERT_EQ(aws_json_decode_input(op, "{}", AWS_BODY_MAX + 1, &in, &err), -ERR_TOO_BIG);
    ASSERT_EQ(err.status, 413);
    ASSERT_TRUE(in == NULL);
}

/* ---- Query protocol ---------------------------------------------------------------------- */

TEST(awsproto_form_decoding)
{
    struct aws_form f;
    struct aws_error err;
    ASSERT_EQ(aws_form_parse(STR_LIT("a=1&b=x+y%20z%2B&&c&d=&e=%C3%A9%3d"), &f, &err), 0);
    ASSERT_EQ(f.n, 5);
    ASSERT_STREQ(aws_form_get(&f, "a"), "1");
    ASSERT_STREQ(aws_form_get(&f, "b"), "x y z+");
    ASSERT_STREQ(aws_form_get(&f, "c"), "");
    ASSERT_STREQ(aws_form_get(&f, "d"), "");
    ASSERT_STREQ(aws_form_get(&f, "e"), "\xc3\xa9=");
    ASSERT_TRUE(aws_form_get(&f, "A") == NULL);
    aws_form_release(&f);

    ASSERT_EQ(aws_form_parse(STR_LIT(""), &f, &err), 0);
    ASSERT_EQ(f.n, 0);
    aws_form_release(&f);
    ASSERT_EQ(aws_form_parse(STR_LIT("%41%42=%7e"), &f, &err), 0);
    ASSERT_STREQ(aws_form_get(&f, "AB"), "~");
    aws_form_release(&f);

    const char *bad[] = { "a=%zz", "a=%4", "a=%", "a=%C3%28", "a=%00", "a=1&a=2", "=x", "%ff=1" };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        memset(&err, 0, sizeof(err));
        if (aws_form_parse(str_from(bad[i]), &f, &err) != -ERR_INVALID)
            test_fail(__FILE__, __LINE__, "'%s' accepted", bad[i]);
        ASSERT_STREQ(err.code, "MalformedQueryString");
        ASSERT_EQ(err.status, 404);
        ASSERT_TRUE(f.n == 0 && f.v == NULL);
    }

    struct buf b;
    buf_init(&b, 1 << 20);
    for (int i = 0; i <= AWS_FORM_PARAMS_MAX; i++)
        buf_printf(&b, "p%d=1&", i);
    ASSERT_EQ(aws_form_parse(buf_str(&b), &f, &err), -ERR_INVALID);
    buf_reset(&b);
    for (int i = 0; i <= AWS_FORM_NAME_MAX; i++)
        buf_putc(&b, 'n');
    buf_append_cstr(&b, "=1");
    ASSERT_EQ(aws_form_parse(buf_str(&b), &f, &err), -ERR_INVALID);
    buf_release(&b);
}

/* Decode a Query body for op into JSON text (compact, keys sorted) or the error code. */
static char *query(const char *op, const char *body, struct aws_error *err)
{
    struct aws_form f;
    memset(err, 0, sizeof(*err));
    if (aws_form_parse(str_from(body), &f, err) != 0)
        return xstrdup(err->code);
    json_t *in = NULL;
    int rc = aws_query_decode_input(op_of(AWS_SVC_SNS, op), &f, &in, err);
    aws_form_release(&f);
    if (rc)
        return xstrdup(err->code);
    char *s = json_dumps(in, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(in);
    return s;
}

static void expect_query(const char *op, const char *body, const char *want, int line)
{
    struct aws_error err;
    char *got = query(op, body, &err);
    if (strcmp(got, want) != 0)
        test_fail(__FILE__, line, "%s:\n  got  %s (%s)\n  want %s", body, got, err.message, want);
    free(got);
}
#define EXPECT_QUERY(op, body, want) expect_query(op, body, want, __LINE__)

TEST(awsproto_query_unflatten)
{
    EXPECT_QUERY("CreateTopic",
                 "Action=CreateTopic&Version=2010-03-31&Name=scan-alerts&Attributes.entry.2.key="
                 "FifoTopic&Attributes.entry.2.value=false&Attributes.entry.1.key=DisplayName&"
                 "Attributes.entry.1.value=Vigil&Tags.member.2.Key=b&Tags.member.2.Value=2&Tags."
                 "member.1.Key=a&Tags.member.1.Value=1&Unknown.member.1=x",
                 "{\"Attributes\":{\"DisplayName\":\"Vigil\",\"FifoTopic\":\"false\"},\"Name\":"
                 "\"scan-alerts\",\"Tags\":[{\"Key\":\"a\",\"Value\":\"1\"},{\"Key\":\"b\","
                 "\"Value\":\"2\"}]}");
    EXPECT_QUERY("CreateTopic", "Action=CreateTopic&Name=t&Tags=", "{\"Name\":\"t\",\"Tags\":[]}");
    EXPECT_QUERY("Publish",
                 "Action=Publish&TopicArn=arn&Message=hi&MessageAttributes.entry.1.Name=sev&"
                 "MessageAttributes.entry.1.Value.DataType=String&MessageAttributes.entry.1.Value."
                 "StringValue=HIGH&MessageAttributes.entry.2.Name=b&MessageAttributes.entry.2."
                 "Value.DataType=Binary&MessageAttributes.entry.2.Value.BinaryValue=aGk%3D",
                 "{\"Message\":\"hi\",\"MessageAttributes\":{\"b\":{\"BinaryValue\":\"aGk=\","
                 "\"DataType\":\"Binary\"},\"sev\":{\"DataType\":\"String\",\"StringValue\":"
                 "\"HIGH\"}},\"TopicArn\":\"arn\"}");
    EXPECT_QUERY("Subscribe",
                 "Action=Subscribe&TopicArn=a&Protocol=https&ReturnSubscriptionArn=TRUE",
                 "{\"Protocol\":\"https\",\"ReturnSubscriptionArn\":true,\"TopicArn\":\"a\"}");
    EXPECT_QUERY("ListTopics", "Action=ListTopics", "{}");
}

TEST(awsproto_query_errors)
{
    struct aws_error err;
    char *s = query("Publish", "Action=Publish&TopicArn=a", &err);
    ASSERT_STREQ(s, "ValidationError");
    ASSERT_STREQ(err.message, "1 validation error detected: Value null at 'message' failed to "
                              "satisfy constraint: Member must not be null");
    ASSERT_TRUE(err.sender);
    free(s);
    s = query("CreateTopic", "Action=CreateTopic&Name=t&Tags.member.1.Key=k", &err);
    ASSERT_STREQ(s, "ValidationError");
    ASSERT_STREQ(err.message, "1 validation error detected: Value null at 'tags.1.member.value' "
                              "failed to satisfy constraint: Member must not be null");
    free(s);
    s = query("Publish",
              "Action=Publish&Message=m&MessageAttributes.entry.1.Name=n&MessageAttributes.entry.1."
              "Value.StringValue=v",
              &err);
    ASSERT_STREQ(s, "ValidationError");
    ASSERT_STREQ(err.message,
                 "1 validation error detected: Value null at 'messageAttributes.n.member.dataType' "
                 "failed to satisfy constraint: Member must not be null");
    free(s);
    s = query("Subscribe", "Action=Subscribe&TopicArn=a&Protocol=p&ReturnSubscriptionArn=yes",
              &err);
    ASSERT_STREQ(s, "ValidationError");
    ASSERT_TRUE(strstr(err.message, "'yes' at 'ReturnSubscriptionArn'") != NULL);
    free(s);
    s = query("Publish",
              "Action=Publish&Message=m&MessageAttributes.entry.1.Name=n&MessageAttributes.entry.1."
              "Value.DataType=Binary&MessageAttributes.entry.1.Value.BinaryValue=a%3D%3D%3D",
              &err);
    ASSERT_STREQ(s, "ValidationError");
    free(s);

    const char *malformed[] = {
        "Action=CreateTopic&Name=t&Tags.member.0.Key=k&Tags.member.0.Value=v",
        "Action=CreateTopic&Name=t&Tags.member.x.Key=k",
        "Action=CreateTopic&Name=t&Tags.member.01.Key=k",
        "Action=CreateTopic&Name=t&Tags.member.999999999.Key=k",
        "Action=CreateTopic&Name=t&Tags=notempty",
        "Action=CreateTopic&Name=t&Attributes.entry.1.value=v",
        "Action=CreateTopic&Name=t&Attributes.entry.1.key=k",
        "Action=CreateTopic&Name=t&Attributes.entry.1.key=k&Attributes.entry.1.value=1&"
        "Attributes.entry.2.key=k&Attributes.entry.2.value=2",
    };
    for (size_t i = 0; i < ARRAY_SIZE(malformed); i++) {
        s = query("CreateTopic", malformed[i], &err);
        if (strcmp(s, "MalformedQueryString") != 0)
            test_fail(__FILE__, __LINE__, "%s: %s %s", malformed[i], s, err.message);
        free(s);
    }
}

/* ---- XML --------------------------------------------------------------------------------- */

TEST(awsproto_xml_escaping)
{
    struct buf b;
    buf_init(&b, 1024);
    ASSERT_EQ(xml_escape(&b, "a&b<c>\"'\r\n\t\x01\x7f\xff\xc3\xa9\xef\xbf\xbe", 17), 0);
    ASSERT_STREQ(buf_cstr(&b), "a&amp;b&lt;c&gt;\"'&#xD;\n\t\xef\xbf\xbd\x7f\xef\xbf\xbd"
                               "\xc3\xa9\xef\xbf\xbd");
    buf_release(&b);

    buf_init(&b, 8);
    ASSERT_EQ(xml_escape(&b, "<<<", 3), -ERR_TOO_BIG);
    buf_release(&b);
}

TEST(awsproto_xml_writer)
{
    struct buf b;
    buf_init(&b, 4096);
    struct xml_writer w;
    xml_writer_init(&w, &b);
    xml_open_ns(&w, "R", "urn:x&y");
    xml_text(&w, "A", "1 < 2");
    xml_text(&w, "Skipped", NULL);
    xml_textf(&w, "N", "%d", 42);
    xml_bool(&w, "B", false);
    json_t *attrs = json_pack("{s:s, s:i, s:b, s:n}", "Owner", "123", "Count", 3, "On", 1, "Z");
    xml_string_map(&w, "Attributes", attrs);
    json_decref(attrs);
    json_t *o = json_pack("{s:[{s:s},{s:s}], s:{s:s}, s:n}", "Topics", "TopicArn", "a1", "TopicArn",
                          "a2", "Nested", "K", "v", "Null");
    xml_json_members(&w, o);
    json_decref(o);
    xml_close(&w);
    ASSERT_EQ(xml_writer_finish(&w), 0);
    ASSERT_STREQ(buf_cstr(&b),
                 "<R xmlns=\"urn:x&amp;y\"><A>1 &lt; 2</A><N>42</N><B>false</B><Attributes><entry>"
                 "<key>Owner</key><value>123</value></entry><entry><key>Count</key><value>3</value>"
                 "</entry><entry><key>On</key><value>true</value></entry></Attributes><Topics>"
                 "<member><TopicArn>a1</TopicArn></member><member><TopicArn>a2</TopicArn></member>"
                 "</Topics><Nested><K>v</K></Nested></R>");

    /* misuse is reported, not crashed on */
    buf_reset(&b);
    xml_writer_init(&w, &b);
    xml_close(&w);
    ASSERT_EQ(xml_writer_finish(&w), -ERR_INVALID);
    xml_writer_init(&w, &b);
    xml_open(&w, "x");
    ASSERT_EQ(xml_writer_finish(&w), -ERR_INVALID);
    xml_writer_init(&w, &b);
    for (int i = 0; i < XML_DEPTH_MAX + 1; i++)
        xml_open(&w, "d");
    ASSERT_EQ(xml_writer_finish(&w), -ERR_INVALID);
    const char *bad_names[] = { "", "a b", "a><x", "1a", "-a", "\xc3\xa9" };
    for (size_t i = 0; i < ARRAY_SIZE(bad_names); i++) {
        buf_reset(&b);
        xml_writer_init(&w, &b);
        xml_text(&w, bad_names[i], "v");
        ASSERT_EQ(xml_writer_finish(&w), -ERR_INVALID);
        ASSERT_EQ(b.len, 0);
    }
    /* a JSON key that is no XML name cannot inject markup */
    buf_reset(&b);
    xml_writer_init(&w, &b);
    json_t *evil = json_pack("{s:s}", "x><y", "v");
    xml_json_members(&w, evil);
    json_decref(evil);
    ASSERT_EQ(xml_writer_finish(&w), -ERR_INVALID);
    buf_release(&b);
}

TEST(awsproto_error_documents)
{
    struct aws_error e;
    aws_error_set(&e, 404, true, "NotFound", "Topic does not exist");
    struct buf b;
    buf_init(&b, 4096);
    ASSERT_EQ(aws_xml_error(&b, "http://sns.amazonaws.com/doc/2010-03-31/", &e, "rid-1"), 0);
    ASSERT_STREQ(buf_cstr(&b),
                 "<ErrorResponse xmlns=\"http://sns.amazonaws.com/doc/2010-03-31/\"><Error><Type>"
                 "Sender</Type><Code>NotFound</Code><Message>Topic does not exist</Message>"
                 "</Error><RequestId>rid-1</RequestId></ErrorResponse>");
    buf_release(&b);

    aws_error_set(&e, 500, false, "InternalError", "a <b> & c");
    buf_init(&b, 4096);
    ASSERT_EQ(aws_xml_error(&b, "ns", &e, "r"), 0);
    ASSERT_TRUE(strstr(buf_cstr(&b), "<Type>Receiver</Type>") != NULL);
    ASSERT_TRUE(strstr(buf_cstr(&b), "<Message>a &lt;b&gt; &amp; c</Message>") != NULL);
    buf_release(&b);

    /* JSON bodies parse back to what was set */
    aws_error_set(&e, 400, true, "RepositoryNotFoundException", "repo \"x\"\n\xff");
    char *s = aws_json_error_body(&e);
    json_t *j = json_loads(s, 0, NULL);
    ASSERT_TRUE(j != NULL);
    ASSERT_STREQ(json_string_value(json_object_get(j, "__type")), "RepositoryNotFoundException");
    ASSERT_STREQ(json_string_value(json_object_get(j, "message")), "repo \"x\"\n?");
    ASSERT_EQ(json_object_size(j), 2);
    json_decref(j);
    free(s);
    e.cap_message = true;
    s = aws_json_error_body(&e);
    j = json_loads(s, 0, NULL);
    ASSERT_TRUE(json_object_get(j, "Message") && !json_object_get(j, "message"));
    json_decref(j);
    free(s);
    e.no_message = true;
    s = aws_json_error_body(&e);
    ASSERT_STREQ(s, "{\"__type\":\"RepositoryNotFoundException\"}");
    free(s);

    /* long messages are cut at a character boundary */
    char big[AWS_ERROR_MSG_MAX + 100];
    for (size_t i = 0; i + 2 < sizeof(big); i += 2)
        memcpy(big + i, "\xc3\xa9", 2);
    big[sizeof(big) - 2] = '\0';
    aws_error_set(&e, 400, true, "X", "%s", big);
    ASSERT_TRUE(strlen(e.message) < AWS_ERROR_MSG_MAX);
    ASSERT_TRUE(str_has_suffix(str_from(e.message), "..."));
    ASSERT_TRUE(aws_utf8_valid(e.message, strlen(e.message)));
}

/* ---- Tokens, timestamps, ids ------------------------------------------------------------- */

TEST(awsproto_page_tokens)
{
    json_t *st = json_pack("{s:s, s:i}", "after", "repo/\xc3\xa9", "n", 100);
    char *tok = aws_page_token_encode("ecr:DescribeRepositories", st);
    ASSERT_TRUE(tok != NULL);
    for (const char *p = tok; *p; p++)
        ASSERT_TRUE(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", *p));
    json_t *back = NULL;
    ASSERT_EQ(aws_page_token_decode("ecr:DescribeRepositories", tok, &back), 0);
    ASSERT_TRUE(json_equal(st, back));
    json_decref(back);
    ASSERT_EQ(aws_page_token_decode("ecr:ListImages", tok, &back), -ERR_INVALID);
    ASSERT_TRUE(back == NULL);
    /* any single-character change is caught */
    size_t len = strlen(tok);
    for (size_t i = 0; i < len; i++) {
        char *t = xstrdup(tok);
        t[i] = t[i] == 'A' ? 'B' : 'A';
        ASSERT_EQ(aws_page_token_decode("ecr:DescribeRepositories", t, &back), -ERR_INVALID);
        free(t);
    }
    char *cut = xstrndup(tok, len - 1);
    ASSERT_EQ(aws_page_token_decode("ecr:DescribeRepositories", cut, &back), -ERR_INVALID);
    free(cut);
    free(tok);
    ASSERT_EQ(aws_page_token_decode("s", "", &back), -ERR_INVALID);
    ASSERT_EQ(aws_page_token_decode("s", "page-2", &back), -ERR_INVALID);
    ASSERT_EQ(aws_page_token_decode("s", "a+b/", &back), -ERR_INVALID);
    ASSERT_EQ(aws_page_token_decode("s", NULL, &back), -ERR_INVALID);

    json_t *arr = json_array();
    ASSERT_TRUE(aws_page_token_encode("s", arr) == NULL);
    json_decref(arr);
    char big[AWS_TOKEN_MAX];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    json_object_set_new(st, "big", json_string(big));
    ASSERT_TRUE(aws_page_token_encode("s", st) == NULL);
    json_decref(st);
}

TEST(awsproto_timestamps)
{
    json_t *t = aws_json_time(1700000000000LL);
    ASSERT_TRUE(json_is_integer(t));
    ASSERT_EQ(json_integer_value(t), 1700000000);
    json_decref(t);
    json_t *o = json_object();
    ASSERT_EQ(aws_json_set_time(o, "at", 1704164645123LL), 0);
    char *s = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(15));
    ASSERT_STREQ(s, "{\"at\":1704164645.123}");
    free(s);
    int64_t ms;
    ASSERT_EQ(aws_json_get_time(json_object_get(o, "at"), &ms), 0);
    ASSERT_EQ(ms, 1704164645123LL);
    json_decref(o);
    ASSERT_EQ(aws_json_set_time(NULL, "x", 0), -ERR_INVALID);

    json_t *i = json_integer(1704164645);
    ASSERT_EQ(aws_json_get_time(i, &ms), 0);
    ASSERT_EQ(ms, 1704164645000LL);
    json_decref(i);
    json_t *bad = json_string("2024");
    ASSERT_EQ(aws_json_get_time(bad, &ms), -ERR_INVALID);
    json_decref(bad);
    bad = json_integer(999999999999999LL);
    ASSERT_EQ(aws_json_get_time(bad, &ms), -ERR_INVALID);
    json_decref(bad);

    char iso[25];
    aws_iso8601(0, iso);
    ASSERT_STREQ(iso, "1970-01-01T00:00:00.000Z");
    aws_iso8601(1704164645123LL, iso);
    ASSERT_STREQ(iso, "2024-01-02T03:04:05.123Z");
    aws_iso8601(-1, iso);
    ASSERT_STREQ(iso, "1969-12-31T23:59:59.999Z");
}

TEST(awsproto_request_ids)
{
    struct aws_regex *re;
    ASSERT_EQ(aws_regex_compile("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-"
                                "[0-9a-f]{12}",
                                &re, NULL),
              0);
    char a[AWS_REQUEST_ID_LEN + 1], b[AWS_REQUEST_ID_LEN + 1];
    aws_request_id(a);
    aws_request_id(b);
    ASSERT_EQ(strlen(a), AWS_REQUEST_ID_LEN);
    ASSERT_TRUE(aws_regex_match(re, a, strlen(a)));
    ASSERT_TRUE(aws_regex_match(re, b, strlen(b)));
    ASSERT_TRUE(strcmp(a, b) != 0);
    aws_regex_free(re);
}

TEST(awsproto_model_tables)
{
    ASSERT_EQ(aws_operation_count(), 38);
    enum aws_service svc;
    ASSERT_TRUE(aws_service_by_name("AmazonEC2ContainerRegistry_V20150921", &svc));
    ASSERT_EQ(svc, AWS_SVC_ECR);
    ASSERT_TRUE(aws_service_by_name("AWSEvents", &svc));
    ASSERT_EQ(svc, AWS_SVC_EVENTS);
    ASSERT_TRUE(aws_service_by_name("sns", &svc));
    ASSERT_EQ(svc, AWS_SVC_SNS);
    ASSERT_FALSE(aws_service_by_name("sqs", &svc));
    ASSERT_STREQ(aws_service_def(AWS_SVC_SNS)->xml_namespace,
                 "http://sns.amazonaws.com/doc/2010-03-31/");
    ASSERT_FALSE(aws_operation_find(AWS_SVC_SNS, "DeleteTopic")->has_output);
    ASSERT_STREQ(aws_operation_find(AWS_SVC_SNS, "CreateTopic")->result_wrapper,
                 "CreateTopicResult");
    const struct aws_error_def *e = aws_error_find(AWS_SVC_SNS, "NotFoundException");
    ASSERT_TRUE(e && e->http_status == 404 && strcmp(e->code, "NotFound") == 0);
    e = aws_error_find(AWS_SVC_SNS, "InternalError");
    ASSERT_TRUE(e && e->http_status == 500 && !e->sender);
    e = aws_error_find(AWS_SVC_ECR, "ServerException");
    ASSERT_TRUE(e && e->http_status == 500);
    ASSERT_TRUE(aws_error_find(AWS_SVC_ECR, "NotFound") == NULL);
}

/* ---- Dispatch ---------------------------------------------------------------------------- */

struct fake {
    struct arena arena;
    struct http_req req;
    struct http_resp resp;
};

static void fake_init(struct fake *f, enum http_method m, const char *body)
{
    memset(f, 0, sizeof(*f));
    arena_init(&f->arena);
    f->req.arena = &f->arena;
    f->req.method = m;
    f->req.method_str = http_method_name(m);
    f->req.path = "/";
    f->req.raw_query = "";
    buf_init(&f->req.body, AWS_BODY_MAX);
    if (body)
        buf_append_cstr(&f->req.body, body);
    buf_init(&f->resp.body, AWS_RESPONSE_MAX);
    f->resp.fd = -1;
}

static void fake_header(struct fake *f, const char *name, const char *value)
{
    struct http_kv kv = { name, value };
    VEC_PUSH(&f->req.headers, kv);
}

static const char *resp_header(const struct fake *f, const char *name)
{
    for (size_t i = 0; i < f->resp.headers.n; i++)
        if (strcasecmp(f->resp.headers.v[i].name, name) == 0)
            return f->resp.headers.v[i].value;
    return NULL;
}

static void fake_release(struct fake *f)
{
    VEC_FREE(&f->req.headers);
    VEC_FREE(&f->resp.headers);
    buf_release(&f->req.body);
    buf_release(&f->resp.body);
    arena_release(&f->arena);
}

struct counters {
    int calls;
    int auth_calls;
    bool last_anonymous_ok;
    enum api_auth_status auth_answer;
};

static int h_create_repository(void *ctx, struct api_call *call)
{
    struct counters *c = ctx;
    c->calls++;
    const char *name = json_string_value(json_object_get(call->input, "repositoryName"));
    if (strcmp(name, "missing") == 0)
        return api_fail(call, "RepositoryNotFoundException",
                        "The repository with name '%s' "
                        "does not exist",
                        name);
    if (strcmp(name, "crash") == 0)
        return -1;
    call->output = json_pack("{s:{s:s}}", "repository", "repositoryName", name);
    aws_json_set_time(json_object_get(call->output, "repository"), "createdAt", 1700000000500LL);
    return 0;
}

static int h_create_topic(void *ctx, struct api_call *call)
{
    struct counters *c = ctx;
    c->calls++;
    const char *name = json_string_value(json_object_get(call->input, "Name"));
    if (strcmp(name, "gone") == 0)
        return api_fail(call, "NotFound", "Topic does not exist");
    xml_textf(call->xml, "TopicArn", "arn:aws:sns:us-east-1:000000000000:%s", name);
    return 0;
}

static int h_delete_topic(void *ctx, struct api_call *call)
{
    struct counters *c = ctx;
    c->calls++;
    ASSERT_TRUE(call->xml == NULL);
    return 0;
}

static int h_count(void *ctx, struct api_call *call)
{
    struct counters *c = ctx;
    c->calls++;
    ASSERT_TRUE(call->input != NULL);
    return 0;
}

static int h_confirm(void *ctx, struct api_call *call)
{
    struct counters *c = ctx;
    c->calls++;
    xml_text(call->xml, "SubscriptionArn",
             json_string_value(json_object_get(call->input, "TopicArn")));
    return 0;
}

static enum api_auth_status auth_hook(void *ctx, struct http_req *req,
                                      const struct api_auth_info *info, char *msg, size_t size)
{
    struct counters *c = ctx;
    c->auth_calls++;
    c->last_anonymous_ok = info->anonymous_ok;
    if (info->anonymous_ok && !http_req_header(req, "Authorization"))
        return API_AUTH_OK;
    if (c->auth_answer == API_AUTH_UNKNOWN_KEY)
        snprintf(msg, size, "key %s unknown", info->signing_name);
    return c->auth_answer;
}

static struct api_router *test_router(struct counters *c)
{
    struct api_router *r = api_router_new();
    ASSERT_EQ(api_router_add_json(r, "AmazonEC2ContainerRegistry_V20150921", "CreateRepository",
                                  h_create_repository, c),
              0);
    ASSERT_EQ(api_router_add_json(r, "AmazonEC2ContainerRegistry_V20150921", "CreateRepository",
                                  h_create_repository, c),
              -EEXIST);
    ASSERT_EQ(api_router_add_json(r, "AmazonEC2ContainerRegistry_V20150921", "PutImage",
                                  h_create_repository, c),
              -ENOENT);
    ASSERT_EQ(api_router_add_json(r, "sns", "CreateTopic", h_create_topic, c), -EINVAL);
    ASSERT_EQ(api_router_add_query(r, "AWSEvents", "PutRule", h_create_topic, c), -EINVAL);
    ASSERT_EQ(api_router_add_query(r, "sqs", "SendMessage", h_create_topic, c), -ENOENT);
    ASSERT_EQ(api_router_add_query(r, "sns", "CreateTopic", h_create_topic, c), 0);
    ASSERT_EQ(api_router_add_query(r, "sns", "DeleteTopic", h_delete_topic, c), 0);
    ASSERT_EQ(api_router_add_query(r, "sns", "ConfirmSubscription", h_confirm, c), 0);
    ASSERT_EQ(api_router_allow_anonymous(r, "sns", "ConfirmSubscription"), 0);
    ASSERT_EQ(api_router_allow_anonymous(r, "sns", "Publish"), -ENOENT);
    return r;
}

static json_t *resp_json(const struct fake *f)
{
    json_t *j = json_loadb(f->resp.body.data, f->resp.body.len, 0, NULL);
    if (!j)
        test_fail(__FILE__, __LINE__, "response is not JSON: %s", buf_cstr(&f->resp.body));
    return j;
}

static void json_call(struct api_router *r, struct fake *f, const char *target, const char *body)
{
    fake_init(f, HTTP_POST, body);
    fake_header(f, "Content-Type", "application/x-amz-json-1.1");
    if (target)
        fake_header(f, "X-Amz-Target", target);
    api_dispatch(r, &f->req, &f->resp);
    const char *rid = resp_header(f, "x-amzn-RequestId");
    ASSERT_TRUE(rid && strlen(rid) == AWS_REQUEST_ID_LEN);
    ASSERT_STREQ(resp_header(f, "Content-Type"), "application/x-amz-json-1.1");
}

#define ECR_TARGET "AmazonEC2ContainerRegistry_V20150921."

TEST(awsproto_dispatch_json)
{
    struct counters c = { 0 };
    struct api_router *r = test_router(&c);
    struct fake f;

    json_call(r, &f, ECR_TARGET "CreateRepository", "{\"repositoryName\": \"demo-app\"}");
    ASSERT_EQ(f.resp.status, 200);
    ASSERT_STREQ(buf_cstr(&f.resp.body),
                 "{\"repository\":{\"repositoryName\":\"demo-app\",\"createdAt\":1700000000.5}}");
    ASSERT_TRUE(resp_header(&f, "x-amzn-ErrorType") == NULL);
    fake_release(&f);
    ASSERT_EQ(c.calls, 1);

    /* validation failures never reach the handler */
    json_call(r, &f, ECR_TARGET "CreateRepository", "{\"repositoryName\": \"Demo\"}");
    ASSERT_EQ(f.resp.status, 400);
    ASSERT_STREQ(resp_header(&f, "x-amzn-ErrorType"), "InvalidParameterException");
    json_t *j = resp_json(&f);
    ASSERT_STREQ(json_string_value(json_object_get(j, "__type")), "InvalidParameterException");
    ASSERT_TRUE(strstr(json_string_value(json_object_get(j, "message")), "'repositoryName'"));
    json_decref(j);
    fake_release(&f);
    json_call(r, &f, ECR_TARGET "CreateRepository", "{\"repositoryName\": ");
    ASSERT_EQ(f.resp.status, 400);
    j = resp_json(&f);
    ASSERT_STREQ(json_string_value(json_object_get(j, "__type")), "SerializationException");
    ASSERT_TRUE(json_is_string(json_object_get(j, "Message")));
    json_decref(j);
    fake_release(&f);
    ASSERT_EQ(c.calls, 1);

    /* unknown or unregistered operations, and a missing target prefix */
    const char *unknown[] = { ECR_TARGET "Nope",   ECR_TARGET "DescribeImages",
                              "AWSEvents.PutRule", "DynamoDB_20120810.GetItem",
                              "CreateRepository",  "sns.CreateTopic" };
    for (size_t i = 0; i < ARRAY_SIZE(unknown); i++) {
        json_call(r, &f, unknown[i], "{}");
        ASSERT_EQ(f.resp.status, 400);
        ASSERT_STREQ(buf_cstr(&f.resp.body), "{\"__type\":\"UnknownOperationException\"}");
        ASSERT_STREQ(resp_header(&f, "x-amzn-ErrorType"), "UnknownOperationException");
        fake_release(&f);
    }

    /* handler errors: modelled, and unexpected */
    json_call(r, &f, ECR_TARGET "CreateRepository", "{\"repositoryName\": \"missing\"}");
    ASSERT_EQ(f.resp.status, 400);
    ASSERT_STREQ(buf_cstr(&f.resp.body),
                 "{\"__type\":\"RepositoryNotFoundException\",\"message\":\"The repository with "
                 "name 'missing' does not exist\"}");
    fake_release(&f);
    json_call(r, &f, ECR_TARGET "CreateRepository", "{\"repositoryName\": \"crash\"}");
    ASSERT_EQ(f.resp.status, 500);
    j = resp_json(&f);
    ASSERT_STREQ(json_string_value(json_object_get(j, "__type")), "ServerException");
    json_decref(j);
    fake_release(&f);

    /* a body the adapter could not hold */
    fake_init(&f, HTTP_POST, "{}");
    fake_header(&f, "X-Amz-Target", ECR_TARGET "CreateRepository");
    f.req.body_err = -ERR_TOO_BIG;
    api_dispatch(r, &f.req, &f.resp);
    ASSERT_EQ(f.resp.status, 413);
    ASSERT_TRUE(f.resp.close);
    fake_release(&f);
    ASSERT_EQ(c.calls, 3);
    api_router_free(r);
}

TEST(awsproto_dispatch_auth)
{
    struct counters c = { .auth_answer = API_AUTH_MISSING };
    struct api_router *r = test_router(&c);
    api_router_set_auth(r, auth_hook, &c);
    struct fake f;

    /* authentication comes before the body is looked at */
    json_call(r, &f, ECR_TARGET "CreateRepository", "{not json");
    ASSERT_EQ(f.resp.status, 400);
    ASSERT_STREQ(buf_cstr(&f.resp.body), "{\"__type\":\"MissingAuthenticationTokenException\","
                                         "\"message\":\"Missing Authentication Token\"}");
    fake_release(&f);
    ASSERT_EQ(c.auth_calls, 1);
    ASSERT_FALSE(c.last_anonymous_ok);

    c.auth_answer = API_AUTH_UNKNOWN_KEY;
    json_call(r, &f, ECR_TARGET "CreateRepository", "{\"repositoryName\": \"ab\"}");
    json_t *j = resp_json(&f);
    ASSERT_STREQ(json_string_value(json_object_get(j, "__type")), "UnrecognizedClientException");
    ASSERT_STREQ(json_string_value(json_object_get(j, "message")), "key ecr unknown");
    json_decref(j);
    fake_release(&f);

    /* Query: 403 and the Query codes */
    c.auth_answer = API_AUTH_MISMATCH;
    fake_init(&f, HTTP_POST, "Action=CreateTopic&Version=2010-03-31&Name=t");
    fake_header(&f, "Content-Type", "application/x-www-form-urlencoded; charset=utf-8");
    api_dispatch(r, &f.req, &f.resp);
    ASSERT_EQ(f.resp.status, 403);
    ASSERT_TRUE(strstr(buf_cstr(&f.resp.body), "<Code>SignatureDoesNotMatch</Code>"));
    ASSERT_TRUE(strstr(buf_cstr(&f.resp.body), "<Type>Sender</Type>"));
    fake_release(&f);
    ASSERT_EQ(c.calls, 0);

    /* the confirmation link works without credentials */
    fake_init(&f, HTTP_GET, NULL);
    f.req.raw_query = "Action=ConfirmSubscription&TopicArn=arn%3Aaws%3Asns%3Ax&Token=abc";
    ASSERT_TRUE(api_request_is_aws(&f.req));
    api_dispatch(r, &f.req, &f.resp);
    ASSERT_EQ(f.resp.status, 200);
    ASSERT_TRUE(c.last_anonymous_ok);
    ASSERT_TRUE(strstr(buf_cstr(&f.resp.body), "<SubscriptionArn>arn:aws:sns:x</SubscriptionArn>"));
    fake_release(&f);
    ASSERT_EQ(c.calls, 1);
    api_router_free(r);
}

static void query_call(struct api_router *r, struct fake *f, const char *body)
{
    fake_init(f, HTTP_POST, body);
    fake_header(f, "Content-Type", "application/x-www-form-urlencoded; charset=utf-8");
    ASSERT_TRUE(api_request_is_aws(&f->req));
    api_dispatch(r, &f->req, &f->resp);
    ASSERT_STREQ(resp_header(f, "Content-Type"), "text/xml");
}

TEST(awsproto_dispatch_query)
{
    struct counters c = { 0 };
    struct api_router *r = test_router(&c);
    struct fake f;
    char want[1024];

    query_call(r, &f, "Action=CreateTopic&Version=2010-03-31&Name=scan-alerts");
    ASSERT_EQ(f.resp.status, 200);
    const char *rid = resp_header(&f, "x-amzn-RequestId");
    snprintf(want, sizeof(want),
             "<CreateTopicResponse xmlns=\"http://sns.amazonaws.com/doc/2010-03-31/\">"
             "<CreateTopicResult><TopicArn>arn:aws:sns:us-east-1:000000000000:scan-alerts"
             "</TopicArn></CreateTopicResult><ResponseMetadata><RequestId>%s</RequestId>"
             "</ResponseMetadata></CreateTopicResponse>",
             rid);
    ASSERT_STREQ(buf_cstr(&f.resp.body), want);
    fake_release(&f);

    query_call(r, &f, "Action=DeleteTopic&Version=2010-03-31&TopicArn=arn");
    ASSERT_EQ(f.resp.status, 200);
    snprintf(want, sizeof(want),
             "<DeleteTopicResponse xmlns=\"http://sns.amazonaws.com/doc/2010-03-31/\">"
             "<ResponseMetadata><RequestId>%s</RequestId></ResponseMetadata>"
             "</DeleteTopicResponse>",
             resp_header(&f, "x-amzn-RequestId"));
    ASSERT_STREQ(buf_cstr(&f.resp.body), want);
    fake_release(&f);

    /* the model's status for a modelled error */
    query_call(r, &f, "Action=CreateTopic&Version=2010-03-31&Name=gone");
    ASSERT_EQ(f.resp.status, 404);
    snprintf(want, sizeof(want),
             "<ErrorResponse xmlns=\"http://sns.amazonaws.com/doc/2010-03-31/\"><Error><Type>"
             "Sender</Type><Code>NotFound</Code><Message>Topic does not exist</Message></Error>"
             "<RequestId>%s</RequestId></ErrorResponse>",
             resp_header(&f, "x-amzn-RequestId"));
    ASSERT_STREQ(buf_cstr(&f.resp.body), want);
    fake_release(&f);
    ASSERT_EQ(c.calls, 3);

    struct {
        const char *body;
        int status;
        const char *fragment;
    } errs[] = {
        { "Version=2010-03-31&Name=t", 400,
          "<Code>MissingAction</Code><Message>The request must contain the parameter Action."
          "</Message>" },
        { "Action=Nope&Version=2010-03-31", 400,
          "<Code>InvalidAction</Code><Message>The action Nope is not valid for this web service."
          "</Message>" },
        { "Action=Publish&Version=2010-03-31&Message=m", 400, "<Code>InvalidAction</Code>" },
        { "Action=CreateTopic&Version=2099-01-01&Name=t", 400,
          "<Code>InvalidParameterValue</Code>" },
        { "Action=CreateTopic&Version=2010-03-31", 400,
          "<Code>ValidationError</Code><Message>1 validation error detected: Value null at "
          "'name' failed to satisfy constraint: Member must not be null</Message>" },
        { "Action=CreateTopic&Name=%zz", 404, "<Code>MalformedQueryString</Code>" },
    };
    for (size_t i = 0; i < ARRAY_SIZE(errs); i++) {
        query_call(r, &f, errs[i].body);
        if (f.resp.status != errs[i].status || !strstr(buf_cstr(&f.resp.body), errs[i].fragment))
            test_fail(__FILE__, __LINE__, "%s: %d %s", errs[i].body, f.resp.status,
                      buf_cstr(&f.resp.body));
        ASSERT_TRUE(strstr(buf_cstr(&f.resp.body), "<ErrorResponse xmlns=\"http://sns."));
        fake_release(&f);
    }
    ASSERT_EQ(c.calls, 3);

    /* Version is optional (the links SNS mails out carry none) */
    query_call(r, &f, "Action=CreateTopic&Name=t2");
    ASSERT_EQ(f.resp.status, 200);
    fake_release(&f);

    /* not for this layer */
    fake_init(&f, HTTP_GET, NULL);
    f.req.raw_query = "n=1";
    ASSERT_FALSE(api_request_is_aws(&f.req));
    fake_release(&f);
    fake_init(&f, HTTP_POST, "{}");
    fake_header(&f, "Content-Type", "application/json");
    ASSERT_FALSE(api_request_is_aws(&f.req));
    fake_header(&f, "X-Amz-Target", "AWSEvents.PutRule");
    ASSERT_TRUE(api_request_is_aws(&f.req));
    fake_release(&f);
    api_router_free(r);
}

TEST(awsproto_dispatch_cli_fixtures)
{
    /* every request the CLI sent reaches its handler through the dispatcher */
    json_t *all = load_fixtures();
    struct counters c = { 0 };
    struct api_router *r = api_router_new();
    for (size_t i = 0; i < aws_operation_count(); i++) {
        const struct aws_operation *op = aws_operation_at(i);
        const struct aws_service_def *sd = aws_service_def(op->service);
        int rc = sd->protocol == AWS_PROTO_JSON
                     ? api_router_add_json(r, sd->target_prefix, op->name, h_count, &c)
                     : api_router_add_query(r, sd->signing_name, op->name, h_count, &c);
        ASSERT_EQ(rc, 0);
    }
    size_t i;
    json_t *e;
    int expected = 0;
    json_array_foreach(all, i, e)
    {
        struct fake f;
        const char *target = json_string_value(json_object_get(e, "target"));
        fake_init(&f, HTTP_POST, json_string_value(json_object_get(e, "body")));
        fake_header(&f, "Content-Type", json_string_value(json_object_get(e, "content_type")));
        if (target)
            fake_header(&f, "X-Amz-Target", target);
        api_dispatch(r, &f.req, &f.resp);
        if (f.resp.status != 200)
            test_fail(__FILE__, __LINE__, "%s: %d %s", buf_cstr(&f.req.body), f.resp.status,
                      buf_cstr(&f.resp.body));
        expected++;
        fake_release(&f);
    }
    ASSERT_EQ(c.calls, expected);
    api_router_free(r);
    json_decref(all);
}
