/* SPDX-License-Identifier: Apache-2.0 */
/* Registry authentication: HTTP Basic against configured users (password hashes), and the
 * stateless ECR-style token (`AWS:<password>` where the password is an HMAC-signed, expiring
 * token minted by the control API's GetAuthorizationToken). */
#ifndef VIGIL_REGISTRY_AUTH_H
#define VIGIL_REGISTRY_AUTH_H

#include <stdbool.h>
#include <stdint.h>

#include "base/arena.h"
#include "base/buf.h"
#include "base/err.h"

struct reg_auth;

struct reg_auth_config {
    /* Users as "name:hash" lines (hash as made by reg_auth_hash_password), or NULL. */
    const char *users_text;
    /* 32+ byte secret that signs tokens; NULL = load or create DATA/token.key (mode 0600). */
    const unsigned char *token_key;
    size_t token_key_len;
    const char *data_dir; /* where token.key lives when token_key is NULL */
    bool anonymous;       /* allow unauthenticated pulls and pushes (off by default) */
    int64_t token_ttl_s;  /* lifetime of minted tokens; 0 = 12 hours (as ECR) */
};

/* Build the checker. Errors: -ERR_INVALID (a bad users line: d names the line), -errno on the
 * key file. */
int reg_auth_new(const struct reg_auth_config *cfg, struct reg_auth **out, struct diag *d);
void reg_auth_free(struct reg_auth *a);

/* Check an Authorization header value (NULL when absent) at time `now` (unix seconds).
 * Accepts "Basic base64(user:password)" for a configured user, and "Basic base64(AWS:<token>)"
 * or "Bearer <token>" for a valid unexpired token. On success returns 0 and sets *principal
 * (in arena) to the user name or the token's identity. Returns -ERR_UNAUTHORIZED when the
 * header is absent, malformed, or the credentials or token are wrong or expired (the caller
 * answers 401 with `WWW-Authenticate: Basic realm="vigil"`). With anonymous access on, a missing
 * header is accepted with *principal = NULL; a present but wrong one is still refused. */
int reg_auth_check(struct reg_auth *a, const char *authorization, int64_t now, struct arena *arena,
                   const char **principal);

/* Mint a token for `identity` (an access key id or user name, no ':'), valid from now for the
 * configured TTL. Appends the password part (no "AWS:" prefix) to *out and sets *expires_at.
 * Returns 0 or -ERR_INVALID for an unusable identity. */
int reg_auth_token_mint(struct reg_auth *a, const char *identity, int64_t now, struct buf *out,
                        int64_t *expires_at);

/* Hash a password for the users list ("pbkdf2-sha256$<iterations>$<salt b64>$<hash b64>").
 * Appends to *out. Returns 0 or -errno (random source). */
int reg_auth_hash_password(const char *password, struct buf *out);

#endif
