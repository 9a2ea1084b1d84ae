/* SPDX-License-Identifier: Apache-2.0 */
/* The AWS wire layer of the control APIs: ECR and EventBridge on AWS JSON 1.1, SNS on the AWS
 * Query protocol (XML responses). It parses and validates requests against the service models
 * (tables generated from the aws CLI's botocore data), dispatches them to registered operation
 * handlers after an authentication hook, and encodes responses and errors as AWS does.
 * No business logic lives here. Protocol and error details: docs/API.md. */
#ifndef VIGIL_API_AWSPROTO_H
#define VIGIL_API_AWSPROTO_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/http_msg.h"

#define AWS_BODY_MAX       (1u << 20)  /* request bodies beyond this are refused (413) */
#define AWS_RESPONSE_MAX   (64u << 20) /* largest response body we build */
#define AWS_REQUEST_ID_LEN 36          /* a UUID */
#define AWS_ERROR_CODE_MAX 64
#define AWS_ERROR_MSG_MAX  4096 /* longer messages are cut (at a UTF-8 boundary) with "..." */

enum aws_service {
    AWS_SVC_ECR,
    AWS_SVC_EVENTS,
    AWS_SVC_SNS,
};
#define AWS_SVC_COUNT 3

enum aws_protocol {
    AWS_PROTO_JSON,
    AWS_PROTO_QUERY,
};

/* A failed request as it goes on the wire: the error code (JSON: the exception name such as
 * "RepositoryNotFoundException"; Query: the code such as "NotFound"), the message and the HTTP
 * status. `sender` is the Query <Type> (true: Sender, false: Receiver). */
struct aws_error {
    char code[AWS_ERROR_CODE_MAX];
    char message[AWS_ERROR_MSG_MAX];
    int status;
    bool sender;
    bool no_message;  /* send no message at all (Coral's bare SerializationException and
                       * UnknownOperationException) */
    bool cap_message; /* JSON: the key is "Message" (Coral's deserialisation errors) */
};

/* Fill *e (code copied, message formatted and cut to fit). Returns -ERR_INVALID so callers can
 * `return aws_error_set(...)`. */
int aws_error_set(struct aws_error *e, int status, bool sender, const char *code, const char *fmt,
                  ...) __attribute__((format(printf, 5, 6)));

/* ---- XML writer (Query responses) ------------------------------------------------------- */

#define XML_DEPTH_MAX 32

/* Writes elements into a struct buf it does not own. Text is escaped (& < >, CR as &#xD;;
 * attribute values also " and '); characters XML 1.0 cannot carry (C0 controls other than
 * TAB/LF/CR, U+FFFE/U+FFFF) and bytes that are not UTF-8 are written as U+FFFD. Errors are sticky:
 * after the first (buffer cap, nesting beyond XML_DEPTH_MAX, close without open) calls do nothing
 * and xml_writer_error() reports it. */
struct xml_writer {
    struct buf *out;
    const char *stack[XML_DEPTH_MAX];
    int depth;
    int err;
};

void xml_writer_init(struct xml_writer *w, struct buf *out);
/* <name> / <name xmlns="ns">. name must be an XML name of ASCII letters, digits, '_', '-', '.',
 * ':' (not starting with a digit, '-' or '.'); anything else is an error (-ERR_INVALID). */
void xml_open(struct xml_writer *w, const char *name);
void xml_open_ns(struct xml_writer *w, const char *name, const char *xmlns);
/* Close the innermost open element. */
void xml_close(struct xml_writer *w);
/* <name>text</name>; text may be NULL (then nothing is written). */
void xml_text(struct xml_writer *w, const char *name, const char *text);
void xml_textn(struct xml_writer *w, const char *name, const char *text, size_t len);
void xml_textf(struct xml_writer *w, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void xml_bool(struct xml_writer *w, const char *name, bool v);
/* Escaped character data at the current position. */
void xml_chars(struct xml_writer *w, const char *text, size_t len);
/* One map entry: <entry><key>k</key><value>v</value></entry>. */
void xml_map_entry(struct xml_writer *w, const char *key, const char *value);
/* <name> + one entry per member of obj (string values as text, numbers and booleans as their
 * JSON text, others as compact JSON) + </name>. Nothing for a NULL or non-object obj. */
void xml_string_map(struct xml_writer *w, const char *name, json_t *obj);
/* Members of a JSON object as elements: strings/numbers/booleans as text, objects as nested
 * elements (structures), arrays as <member> lists; nulls skipped. For Query results built as
 * JSON (use xml_string_map for map-typed members). Both only read obj (jansson's iteration
 * API is not const). */
void xml_json_members(struct xml_writer *w, json_t *obj);
/* 0, or the first error (-ERR_TOO_BIG, -ERR_INVALID); also -ERR_INVALID when elements are
 * still open. */
int xml_writer_finish(struct xml_writer *w);
/* Append s[0..len) escaped as XML character data. 0 or -ERR_TOO_BIG. */
int xml_escape(struct buf *out, const char *s, size_t len);

/* The Query error document:
 *   <ErrorResponse xmlns="ns"><Error><Type>Sender|Receiver</Type><Code>..</Code>
 *   <Message>..</Message></Error><RequestId>..</RequestId></ErrorResponse>
 * 0 or -ERR_TOO_BIG. */
int aws_xml_error(struct buf *out, const char *xmlns, const struct aws_error *e,
                  const char *request_id);
/* The JSON 1.1 error body {"__type":code,"message":text} (see struct aws_error). Returns an
 * owned NUL-terminated string. */
char *aws_json_error_body(const struct aws_error *e);

/* ---- Timestamps and request ids --------------------------------------------------------- */

/* JSON protocol timestamps are epoch seconds as numbers: a whole second is written as an
 * integer, otherwise as a real with millisecond precision (both parse in the CLI). Returns a
 * new reference. */
json_t *aws_json_time(int64_t epoch_ms);
/* obj[key] = aws_json_time(epoch_ms). 0 or -ERR_INVALID (obj not an object). */
int aws_json_set_time(json_t *obj, const char *key, int64_t epoch_ms);
/* Read a validated timestamp input member (an integer or real number of seconds). Returns 0
 * and *epoch_ms, or -ERR_INVALID (not a number, not finite, out of range). */
int aws_json_get_time(const json_t *v, int64_t *epoch_ms);
/* "YYYY-MM-DDTHH:MM:SS.mmmZ" (ISO 8601, what Query timestamps look like) into out[25]. */
void aws_iso8601(int64_t epoch_ms, char out[25]);
/* A random UUID (v4) as 36 characters plus NUL. */
void aws_request_id(char out[AWS_REQUEST_ID_LEN + 1]);

/* ---- Pagination tokens ------------------------------------------------------------------ */

#define AWS_TOKEN_MAX 2048 /* characters of a token we accept or produce */

/* An opaque, tamper-evident NextToken: base64url of a compact JSON state object followed by
 * an 8-byte SHA-256 check over a scope string (e.g. "ecr:DescribeImages") and the JSON, so a
 * token edited by hand, truncated, or issued by another operation is refused. (A checksum, not
 * a MAC: it stops accidents and casual edits, not a determined forger; the state must never
 * grant access the caller would not have anyway.) Returns an owned string, or NULL when state
 * is not an object or the token would exceed AWS_TOKEN_MAX. */
char *aws_page_token_encode(const char *scope, const json_t *state);
/* Decode a token made by aws_page_token_encode() with the same scope. Returns 0 and *state
 * (owned object), or -ERR_INVALID. */
int aws_page_token_decode(const char *scope, const char *token, json_t **state);

/* ---- Dispatch --------------------------------------------------------------------------- */

struct api_router;

/* One request being served, as a handler sees it. */
struct api_call {
    struct http_req *req;
    enum aws_service service;
    const char *operation; /* "CreateRepository" */
    const char *request_id;
    /* The validated input (an object holding only modelled, non-null members). Borrowed:
     * owned by the dispatcher for the duration of the call. */
    json_t *input;
    /* JSON protocol: the handler sets the output object here (the call takes the reference);
     * NULL answers {}. */
    json_t *output;
    /* Query protocol: a writer positioned inside <OpResult> (NULL for JSON, and for Query
     * operations without output). Write the result members with xml_text() & co. */
    struct xml_writer *xml;
    /* Set by api_fail() & co. when the handler returns an error. */
    struct aws_error err;
    bool failed;
};

/* An operation. Returns 0 on success; on failure calls api_fail() (or fills call->err) and
 * returns a negative code. A negative return with no error set answers the service's internal
 * error (ECR ServerException, EventBridge InternalException, SNS InternalError; 500). */
typedef int (*api_handler_fn)(void *ctx, struct api_call *call);

/* Fail the call with an error of the service's model: the HTTP status and fault come from
 * the model when `code` names one of its exceptions (by wire code such as "NotFound" or shape
 * name such as "NotFoundException"); other codes get 400 (or 500 for the internal-error code).
 * Returns -ERR_INVALID. */
int api_fail(struct api_call *call, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Same with an explicit HTTP status. */
int api_fail_status(struct api_call *call, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* The service's answer to a NextToken that aws_page_token_decode() refused: ECR
 * InvalidParameterException "Invalid NextToken", EventBridge ValidationException "Invalid
 * NextToken", SNS InvalidParameter "Invalid parameter: NextToken". Returns -ERR_INVALID. */
int api_fail_next_token(struct api_call *call);

/* Authentication, protocol-neutral. The dispatcher turns a failure into the protocol's error
 * (JSON: 400 with the exception named; Query: 403 with the code named):
 *   MISSING     MissingAuthenticationTokenException / MissingAuthenticationToken
 *   INCOMPLETE  IncompleteSignatureException       / IncompleteSignature
 *   UNKNOWN_KEY UnrecognizedClientException        / InvalidClientTokenId
 *   EXPIRED, MISMATCH, REPLAYED
 *               InvalidSignatureException          / SignatureDoesNotMatch
 *   DENIED      AccessDeniedException              / AuthorizationError */
enum api_auth_status {
    API_AUTH_OK = 0,
    API_AUTH_MISSING,
    API_AUTH_INCOMPLETE,
    API_AUTH_UNKNOWN_KEY,
    API_AUTH_EXPIRED,
    API_AUTH_MISMATCH,
    API_AUTH_REPLAYED,
    API_AUTH_DENIED,
};

struct api_auth_info {
    enum aws_service service;
    const char *signing_name; /* "ecr", "events", "sns": the scope's service must be this */
    const char *operation;
    bool anonymous_ok; /* api_router_allow_anonymous() was called for this operation */
};

/* Verify the request (its headers and req->body). Return API_AUTH_OK (and set req->principal
 * if wanted), or a failure with msg (msg_size bytes, NUL-terminated) holding the text to send;
 * an empty msg gets AWS's default text for that failure. Called before the body is parsed.
 * With anonymous_ok the hook should accept a request that carries no Authorization header. */
typedef enum api_auth_status (*api_auth_fn)(void *ctx, struct http_req *req,
                                            const struct api_auth_info *info, char *msg,
                                            size_t msg_size);

/* The router: which handler serves each operation. Register everything before serving;
 * dispatching only reads it, from any number of threads. */
struct api_router *api_router_new(void);
void api_router_free(struct api_router *r);

/* Register a JSON 1.1 operation by X-Amz-Target prefix and name, e.g.
 * ("AmazonEC2ContainerRegistry_V20150921", "CreateRepository") or ("AWSEvents", "PutRule").
 * Returns 0, -ENOENT when the service or operation has no shape table (regenerate
 * aws_shapes.inc to add one), -EEXIST when already registered, -EINVAL for a Query service. */
int api_router_add_json(struct api_router *r, const char *target_prefix, const char *operation,
                        api_handler_fn fn, void *ctx);
/* Register a Query operation by service name and Action, e.g. ("sns", "CreateTopic"). Same
 * returns; -EINVAL for a JSON service. */
int api_router_add_query(struct api_router *r, const char *service, const char *operation,
                         api_handler_fn fn, void *ctx);
/* Mark a registered operation as callable without credentials (SNS ConfirmSubscription, whose
 * link is followed from a mail or an HTTP endpoint). `service` is the target prefix or the
 * service name. Returns 0 or -ENOENT (not registered). */
int api_router_allow_anonymous(struct api_router *r, const char *service, const char *operation);
/* The authentication hook (SigV4 verification goes here). Without one, every request is
 * accepted as anonymous: for tests and a server without credentials configured. */
void api_router_set_auth(struct api_router *r, api_auth_fn fn, void *ctx);

/* True when the request is meant for this layer: it has an X-Amz-Target header, or a form
 * content type, or (GET) an Action query argument. */
bool api_request_is_aws(const struct http_req *req);

/* Serve one complete, buffered request (POST / with the body in req->body, or GET with the
 * Action in the query string) and fill *resp (status, headers, body). Steps, in order:
 * protocol (X-Amz-Target -> JSON; form body or Action argument -> Query), body limit
 * (req->body_err or more than AWS_BODY_MAX -> 413), operation lookup (JSON
 * UnknownOperationException; Query MissingAction / InvalidAction), authentication hook, input
 * decoding and validation, handler, response encoding. Every response carries
 * x-amzn-RequestId. */
void api_dispatch(struct api_router *r, struct http_req *req, struct http_resp *resp);

#endif
