/* SPDX-License-Identifier: Apache-2.0 */
/* AWS Signature Version 4 on the server side: verify the Authorization header of an AWS JSON
 * 1.1 or Query request (ECR, EventBridge, SNS) against a keyring loaded from an aws CLI
 * credentials file, plus the canonical-request and string-to-sign builders and a replay cache. */
#ifndef VIGIL_API_SIGV4_H
#define VIGIL_API_SIGV4_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/http_msg.h"
#include "base/str.h"

#define SIGV4_AUTH_MAX        4096 /* longest Authorization header considered */
#define SIGV4_KEY_ID_MAX      128  /* access key id length */
#define SIGV4_SECRET_MAX      256  /* secret access key length */
#define SIGV4_SCOPE_PART_MAX  64   /* region and service names */
#define SIGV4_SIGNED_HDRS_MAX 64   /* names in SignedHeaders */
#define SIGV4_CREDS_FILE_MAX  (1u << 20)
#define SIGV4_DEFAULT_SKEW_S  900 /* AWS allows 15 minutes either way */

/* ---- Keyring ---------------------------------------------------------------------------- */

/* Access key id -> secret pairs. Owns copies of its strings. Read-only after loading, so
 * lookups from several threads need no lock. */
struct sigv4_keyring;

struct sigv4_keyring *sigv4_keyring_new(void);
void sigv4_keyring_free(struct sigv4_keyring *kr);

/* Add a key. The id is 1..SIGV4_KEY_ID_MAX characters of [A-Za-z0-9._-] (it is written between
 * '/' in the Credential scope); the secret 1..SIGV4_SECRET_MAX printable ASCII characters.
 * Adding an id again with the same secret is a no-op. Returns 0, or -ERR_INVALID for a bad id
 * or secret or an id already present with another secret. */
int sigv4_keyring_add(struct sigv4_keyring *kr, const char *akid, const char *secret);

/* Parse the text of an aws CLI credentials file and add every profile's key: INI sections
 * "[name]" (or "[profile name]") with `aws_access_key_id` and `aws_secret_access_key`; other
 * keys are ignored, as are indented continuation lines, blank lines and lines starting with
 * '#' or ';'. Returns 0, or -ERR_INVALID with d naming the line ("line 7: ...") for a line that
 * is none of those, a key outside a section, a profile with only one of the two keys, or a key
 * refused by sigv4_keyring_add(). Keys added before an error stay added. */
int sigv4_keyring_parse(struct sigv4_keyring *kr, struct str text, struct diag *d);

/* Read the credentials file at path (at most SIGV4_CREDS_FILE_MAX bytes) into a new keyring.
 * Returns 0 and sets *out (owned), -errno when the file cannot be read, -ERR_TOO_BIG, or the
 * error of sigv4_keyring_parse() (d prefixed with the path). A file with no key at all is
 * -ERR_INVALID. */
int sigv4_keyring_load(const char *path, struct sigv4_keyring **out, struct diag *d);

/* Secret for an access key id (borrowed from kr), or NULL. */
const char *sigv4_keyring_lookup(const struct sigv4_keyring *kr, struct str akid);
size_t sigv4_keyring_count(const struct sigv4_keyring *kr);

/* ---- Parsing and building --------------------------------------------------------------- */

/* The parts of "AWS4-HMAC-SHA256 Credential=AKID/DATE/REGION/SERVICE/aws4_request,
 * SignedHeaders=a;b, Signature=hex": slices of the parsed header value. */
struct sigv4_auth {
    struct str access_key, date, region, service;
    struct str signed_headers; /* "content-type;host;x-amz-date" as sent */
    struct str signature;      /* 64 lower-case hex digits */
};

/* Parse an Authorization value. Components may come in any order, separated by ',' with
 * optional spaces; each must appear once. Checks: the algorithm, a five-part scope ending in
 * "aws4_request" whose date is 8 digits, a SignedHeaders list of at most
 * SIGV4_SIGNED_HDRS_MAX distinct lower-case names that includes "host" (the order is not
 * checked: the canonical headers follow the list as sent), and a 64-lower-case-hex-digit
 * signature. The slices point into value. Returns 0 or -ERR_INVALID with d saying which rule
 * failed. */
int sigv4_parse_authorization(struct str value, struct sigv4_auth *out, struct diag *d);

/* Append the canonical request to *out:
 *   METHOD \n canonical URI \n canonical query \n canonical headers \n signed headers \n hash
 * The URI is req->path with "." and ".." segments and repeated '/' removed, each byte outside
 * A-Za-z0-9-._~ and '/' percent-encoded (req->path is already decoded, so a path that arrived
 * with %XX is encoded once, as for the services whose paths are always "/"). The query comes
 * from req->raw_query: '&'-separated pairs, %XX decoded and re-encoded, sorted by name then
 * value. Headers are those named in signed_headers (a ';' list), looked up case-insensitively
 * in req->headers; repeated headers are joined with ',' in arrival order; values are trimmed
 * and inner runs of white space folded to one space. payload_hash is the hex SHA-256 of the
 * body (or the X-Amz-Content-SHA256 value). Returns 0, -ERR_INVALID with d naming a signed
 * header that the request lacks or a malformed name list, or -ERR_TOO_BIG (capped input). */
int sigv4_canonical_request(const struct http_req *req, struct str signed_headers,
                            struct str payload_hash, struct buf *out, struct diag *d);

/* Append "AWS4-HMAC-SHA256\n<amz_date>\n<date>/<region>/<service>/aws4_request\n<hex sha256 of
 * canonical_request>" to *out. amz_date's first 8 characters give the scope date. 0 or
 * -ERR_TOO_BIG. */
int sigv4_string_to_sign(struct str amz_date, struct str region, struct str service,
                         struct str canonical_request, struct buf *out);

/* kSigning = HMAC chain over "AWS4"+secret, date (YYYYMMDD), region, service, "aws4_request". */
void sigv4_signing_key(struct str secret, struct str date, struct str region, struct str service,
                       unsigned char out[32]);

/* Sign a request as a client would, for tests and tools: the canonical request over
 * signed_headers (all of which the request must carry; the caller adds X-Amz-Date = amz_date
 * to the request and usually to the list), the body hash (or the request's
 * X-Amz-Content-SHA256), then appends the whole Authorization value to *out. Returns 0,
 * -ERR_INVALID for a bad date, region or service, or the errors of
 * sigv4_canonical_request(). */
struct sigv4_cred {
    const char *access_key;
    const char *secret;
};
int sigv4_sign(const struct sigv4_cred *cred, const char *region, const char *service,
               const char *amz_date, const struct http_req *req, const char *body, size_t body_len,
               struct str signed_headers, struct buf *out, struct diag *d);

/* ---- Verification ----------------------------------------------------------------------- */

/* What the API layer answers (JSON services / Query services):
 *   MISSING     MissingAuthenticationTokenException / MissingAuthenticationToken
 *   INCOMPLETE  IncompleteSignatureException / IncompleteSignature   (malformed header, no
 *               X-Amz-Date, unusable X-Amz-Content-SHA256)
 *   UNKNOWN_KEY UnrecognizedClientException / InvalidClientTokenId
 *   EXPIRED     InvalidSignatureException / SignatureDoesNotMatch with AWS's "Signature
 *               expired: ..." (or "Signature not yet current: ...") message
 *   MISMATCH    InvalidSignatureException / SignatureDoesNotMatch
 *   REPLAYED    InvalidSignatureException / SignatureDoesNotMatch (set by sigv4_replay_check) */
enum sigv4_status {
    SIGV4_OK = 0,
    SIGV4_MISSING,
    SIGV4_INCOMPLETE,
    SIGV4_UNKNOWN_KEY,
    SIGV4_EXPIRED,
    SIGV4_MISMATCH,
    SIGV4_REPLAYED,
};

/* Exception name for the JSON 1.1 protocol and error code for the Query protocol. */
const char *sigv4_status_json_error(enum sigv4_status st);
const char *sigv4_status_query_error(enum sigv4_status st);
/* HTTP status AWS uses: 400 for JSON services, 403 for Query services (all statuses). */
int sigv4_status_http(enum sigv4_status st, bool query_protocol);

struct sigv4_result {
    enum sigv4_status status;
    char access_key[SIGV4_KEY_ID_MAX + 1];
    char date[9];                           /* scope date YYYYMMDD */
    char region[SIGV4_SCOPE_PART_MAX + 1];  /* from the scope */
    char service[SIGV4_SCOPE_PART_MAX + 1]; /* from the scope: "ecr", "events", "sns" */
    char amz_date[17];                      /* X-Amz-Date */
    int64_t request_time;                   /* X-Amz-Date as unix seconds */
    unsigned char signature[32];            /* the verified signature (for the replay cache) */
};

/* Verify req's Authorization header against kr at time now (unix seconds), allowing
 * max_skew_s of clock difference either way (<= 0: SIGV4_DEFAULT_SKEW_S). body is the whole
 * request body. On success returns 0 with res filled and res->status = SIGV4_OK; the caller
 * then checks res->service (and res->region if it cares). On failure returns -ERR_UNAUTHORIZED
 * with res->status saying why, d->msg holding the message to send (AWS's wording where known;
 * never a secret), and the res fields that were parsed filled (the rest empty).
 * The checks run in AWS's order: header present, header well-formed, X-Amz-Date present and
 * matching the scope date, key known, date within the skew, body hash header (if sent) equal
 * to the body's hash, signature equal (constant-time). */
int sigv4_verify(const struct sigv4_keyring *kr, const struct http_req *req, const char *body,
                 size_t body_len, int64_t now, int64_t max_skew_s, struct sigv4_result *res,
                 struct diag *d);

/* Parse "YYYYMMDDTHHMMSSZ" to unix seconds. false for anything else (or an impossible date). */
bool sigv4_parse_amz_date(struct str s, int64_t *out);

/* ---- Replay cache (optional) ------------------------------------------------------------ */

/* AWS itself accepts a signed request again within the skew window. With this cache the API
 * refuses a signature it has already accepted while that signature's date is still within the
 * window. Memory is fixed at creation (set-associative table, 4 entries per set); when a set
 * is full the entry closest to expiring is dropped, so under a flood of distinct valid requests
 * an old signature can be forgotten early: this narrows replay, it does not make it
 * impossible. Note that a client retry in the same second with the same body carries the same
 * signature and is refused too. Thread-safe (one mutex). */
struct sigv4_replay;

/* capacity: entries (rounded up to a multiple of 4, at least 64, at most 1<<20); window_s: how
 * long a signature is remembered after its request time (<= 0: SIGV4_DEFAULT_SKEW_S). */
struct sigv4_replay *sigv4_replay_new(size_t capacity, int64_t window_s);
void sigv4_replay_free(struct sigv4_replay *rp);

/* Record res->signature. Returns 0 when it was not seen within the window, or -ERR_UNAUTHORIZED
 * (res->status = SIGV4_REPLAYED, d set) when it was. */
int sigv4_replay_check(struct sigv4_replay *rp, struct sigv4_result *res, int64_t now,
                       struct diag *d);

#endif
