/* SPDX-License-Identifier: Apache-2.0 */
/* Inside the AWS wire layer: the generated shape tables (aws_shapes.inc), the regular-expression
 * matcher for the models' patterns, input validation and the form decoder. Used by the
 * awsproto*.c files, the unit tests and the fuzz targets; operation code uses awsproto.h. */
#ifndef VIGIL_API_AWSPROTO_INTERNAL_H
#define VIGIL_API_AWSPROTO_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "awsproto.h"
#include "base/err.h"
#include "base/str.h"

/* ---- Shape tables (filled by tools/gen-aws-shapes.py) ------------------------------------ */

enum aws_type {
    AWS_T_STRUCTURE,
    AWS_T_LIST,
    AWS_T_MAP,
    AWS_T_STRING,
    AWS_T_INTEGER,
    AWS_T_LONG,
    AWS_T_BOOLEAN,
    AWS_T_TIMESTAMP,
    AWS_T_BLOB,
    AWS_T_DOUBLE,
    AWS_T_FLOAT,
};

#define AWS_HAS_MIN 1
#define AWS_HAS_MAX 2

/* A structure member. */
struct aws_field {
    const char *name;       /* as in JSON bodies ("repositoryName", "TopicArn") */
    const char *query_name; /* Query protocol name when the model renames it, else NULL */
    short shape;            /* index in the shape table */
    bool required;
};

/* A model shape. min/max bound the length of a string (characters), list or map (entries), or
 * the value of a number, when the flag says so. */
struct aws_shape {
    const char *name;
    unsigned char type; /* enum aws_type */
    unsigned char flags;
    long long min, max;
    short pattern; /* index in the pattern table, -1 = none */
    unsigned short enum_first, enum_count;
    unsigned short first, count; /* structure members: aws_fields[first .. first+count) */
    short member;                /* list element or map key shape, -1 = none */
    short value;                 /* map value shape, -1 = none */
    const char *member_name;     /* Query: list element name ("member") or map key name */
    const char *value_name;      /* Query: map value name */
};

struct aws_service_def {
    enum aws_protocol protocol;
    const char *signing_name;  /* "ecr", "events", "sns" */
    const char *target_prefix; /* JSON: X-Amz-Target prefix; NULL for Query */
    const char *api_version;
    const char *xml_namespace; /* Query only */
};

struct aws_operation {
    enum aws_service service;
    const char *name;
    short input;                /* input shape, -1 = none */
    bool has_output;            /* Query: whether <OpResult> is written */
    const char *result_wrapper; /* Query: "CreateTopicResult", or NULL */
};

struct aws_error_def {
    enum aws_service service;
    const char *shape; /* exception shape name ("NotFoundException") */
    const char *code;  /* error code on the wire ("NotFound") */
    short http_status;
    bool sender; /* client fault (Query <Type>Sender</Type>) */
};

const struct aws_shape *aws_shape_at(int index);
const struct aws_field *aws_field_at(size_t index);
const char *aws_enum_value(const struct aws_shape *s, unsigned i);
const char *aws_pattern_text(int index);
size_t aws_pattern_count(void);
const struct aws_service_def *aws_service_def(enum aws_service svc);
size_t aws_operation_count(void);
const struct aws_operation *aws_operation_at(size_t index);
/* Operation of that service and name, or NULL. */
const struct aws_operation *aws_operation_find(enum aws_service svc, const char *name);
/* Service whose X-Amz-Target prefix (JSON) or signing name (Query, and JSON too) is `name`. */
bool aws_service_by_name(const char *name, enum aws_service *out);
/* Modelled error of that service by wire code or exception shape name, or NULL. */
const struct aws_error_def *aws_error_find(enum aws_service svc, const char *code);

/* ---- Patterns --------------------------------------------------------------------------- */

/* A compiled pattern: the subset of java.util.regex the service models use. Literals and
 * escapes (\d \D \w \W \s \S \t \n \r \f \e \a \xhh \uhhhh, escaped punctuation), '.', classes
 * with ranges, negation and \p{L} \p{N} \p{Z} \p{Lu} \p{Ll} \p{Nd} (non-ASCII code points are
 * classified approximately: see docs/API.md), groups (...) (?:...), lookahead (?=...) (?!...),
 * alternation, the quantifiers * + ? {n} {n,} {n,m} (a trailing lazy '?' is accepted; it does
 * not change whether a string matches), and the anchors ^ and $.
 * Matching is of the whole string (Java's Matcher.matches(), which is how AWS applies model
 * patterns), over UTF-8 code points, in O(length x program size) with no backtracking, so
 * patterns such as ^[a-z0-9*](?:[._\-/a-z0-9*]?[a-z0-9*]+)*$ cannot blow up. */
struct aws_regex;

#define AWS_REGEX_PATTERN_MAX 2048  /* bytes of pattern text */
#define AWS_REGEX_PROGRAM_MAX 20000 /* instructions after expanding {n,m} */

/* Compile. Returns 0 and *out (owned), or -ERR_INVALID with d saying what is wrong and where
 * (offset into the pattern), or -ERR_TOO_BIG. */
int aws_regex_compile(const char *pattern, struct aws_regex **out, struct diag *d);
void aws_regex_free(struct aws_regex *re);
/* True when all of s[0..len) matches. Bytes that are not valid UTF-8 never match anything. */
bool aws_regex_match(const struct aws_regex *re, const char *s, size_t len);
/* The compiled form of the table pattern `index` (compiled once, on first use; thread-safe). */
const struct aws_regex *aws_pattern_regex(int index);

/* ---- Validation ------------------------------------------------------------------------- */

/* Which error format a service uses for constraint violations (docs/API.md). */
enum aws_validation_style {
    AWS_STYLE_CORAL, /* "N validation errors detected: Value 'x' at 'a.b' failed ..." */
    AWS_STYLE_ECR,   /* InvalidParameterException "Invalid parameter at 'a' failed ..." */
};

/* Check `input` (the decoded body of a JSON request) against the operation's input shape.
 * Pass 1, types: a value of the wrong JSON type fails with SerializationException (Coral's
 * texts, "Message" key), stopping at the first. Pass 2, constraints: required members, min/max,
 * patterns, enums; every violation is collected (up to AWS_VALIDATION_ERRORS_MAX) into one
 * ValidationException (EventBridge), ValidationError (SNS), or, for ECR, the first one as
 * InvalidParameterException. On success the input is normalised in place: members that are
 * null or not in the model are removed, so handlers see only modelled members.
 * Returns 0, or -ERR_INVALID with *err filled. */
#define AWS_VALIDATION_ERRORS_MAX 10
int aws_validate_input(const struct aws_operation *op, json_t *input, struct aws_error *err);

/* Decode a JSON 1.1 request body for op: parse (JSON_REJECT_DUPLICATES; len capped at
 * AWS_BODY_MAX), require an object, then aws_validate_input(). Returns 0 and *out (owned), or
 * -ERR_INVALID / -ERR_TOO_BIG with *err filled (SerializationException for a body that is not
 * a JSON object). */
int aws_json_decode_input(const struct aws_operation *op, const char *body, size_t len,
                          json_t **out, struct aws_error *err);

/* ---- Query protocol form ---------------------------------------------------------------- */

#define AWS_FORM_PARAMS_MAX 1000 /* name=value pairs in one request */
#define AWS_FORM_NAME_MAX   512  /* bytes of one decoded name */

struct aws_param {
    char *name;  /* decoded, NUL-terminated */
    char *value; /* decoded, NUL-terminated, valid UTF-8 without NUL */
    size_t value_len;
};

/* Decoded application/x-www-form-urlencoded pairs in arrival order. Owns its strings. */
struct aws_form {
    struct aws_param *v;
    size_t n;
};

/* Decode `text` (a body or a raw query string): pairs split on '&' (empty pairs skipped), name
 * and value split at the first '=', '+' as space, %XX decoded. Fails with MalformedQueryString
 * for a bad %-escape, more than AWS_FORM_PARAMS_MAX pairs, a name longer than
 * AWS_FORM_NAME_MAX or empty, a name given twice, or a value that is not UTF-8 or holds NUL.
 * Returns 0 (form filled; release with aws_form_release) or -ERR_INVALID with *err set. */
int aws_form_parse(struct str text, struct aws_form *form, struct aws_error *err);
void aws_form_release(struct aws_form *form);
/* Value of a parameter (borrowed), or NULL. */
const char *aws_form_get(const struct aws_form *form, const char *name);

/* Build the operation's input from the flattened Query parameters (structures "A.B", lists
 * "A.member.N", maps "A.entry.N.key" / ".value" with the model's location names; Action and
 * Version and names outside the model are ignored), then run aws_validate_input() on it.
 * Structural problems (bad list index, map entry without key, duplicate map key, a scalar
 * where a list/map/structure belongs) fail with MalformedQueryString; a boolean, number,
 * timestamp or blob that does not parse fails with ValidationError. Returns 0 and *out
 * (owned), or -ERR_INVALID with *err set. */
int aws_query_decode_input(const struct aws_operation *op, const struct aws_form *form,
                           json_t **out, struct aws_error *err);

/* ---- Small codecs ----------------------------------------------------------------------- */

/* True when s is UTF-8 (RFC 3629: no overlongs, no surrogates, at most U+10FFFF). */
bool aws_utf8_valid(const char *s, size_t len);
/* Decode one code point at s[0..len) (len > 0). Returns its byte length (1-4) and sets *cp, or
 * 0 for an invalid sequence. */
int aws_utf8_decode(const char *s, size_t len, unsigned *cp);
/* True when s is canonical padded standard base64 (what botocore sends for blobs). */
bool aws_base64_valid(const char *s, size_t len);

#endif
