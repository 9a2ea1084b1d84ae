/* SPDX-License-Identifier: Apache-2.0 */
/* The control-API HTTP entry: buffered bodies, SigV4 verification, dispatch (see gateway.h). */
#include "api/gateway.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/err.h"
#include "base/log.h"
#include "base/xalloc.h"

struct api_gateway {
    struct api_gateway_config cfg;
    struct sigv4_replay *replay;
};

static enum api_auth_status map_status(enum sigv4_status st)
{
    switch (st) {
    case SIGV4_OK:
        return API_AUTH_OK;
    case SIGV4_MISSING:
        return API_AUTH_MISSING;
    case SIGV4_INCOMPLETE:
        return API_AUTH_INCOMPLETE;
    case SIGV4_UNKNOWN_KEY:
        return API_AUTH_UNKNOWN_KEY;
    case SIGV4_EXPIRED:
        return API_AUTH_EXPIRED;
    case SIGV4_MISMATCH:
        return API_AUTH_MISMATCH;
    case SIGV4_REPLAYED:
        return API_AUTH_REPLAYED;
    }
    return API_AUTH_DENIED;
}

static enum api_auth_status gateway_auth(void *ctx, struct http_req *req,
                                         const struct api_auth_info *info, char *msg,
                                         size_t msg_size)
{
    struct api_gateway *g = ctx;
    if (info->anonymous_ok && !http_req_header(req, "Authorization"))
        return API_AUTH_OK;
    if (!g->cfg.keys) {
        snprintf(msg, msg_size, "The security token included in the request is invalid.");
        return API_AUTH_UNKNOWN_KEY;
    }
    struct sigv4_result res;
    struct diag d = { 0 };
    int64_t now = (int64_t)time(NULL);
    int64_t skew = g->cfg.max_skew_s ? g->cfg.max_skew_s : 900;
    if (sigv4_verify(g->cfg.keys, req, req->body.data ? req->body.data : "", req->body.len, now,
                     skew, &res, &d) < 0) {
        snprintf(msg, msg_size, "%s", d.msg);
        return map_status(res.status);
    }
    if (strcmp(res.service, info->signing_name) != 0) {
        snprintf(msg, msg_size, "Credential should be scoped to correct service: '%s'. ",
                 info->signing_name);
        return API_AUTH_MISMATCH;
    }
    if (g->cfg.region && *g->cfg.region && strcmp(res.region, g->cfg.region) != 0) {
        snprintf(msg, msg_size, "Credential should be scoped to a valid region. ");
        return API_AUTH_MISMATCH;
    }
    if (g->replay && sigv4_replay_check(g->replay, &res, now, &d) < 0) {
        snprintf(msg, msg_size, "%s", d.msg);
        return API_AUTH_REPLAYED;
    }
    req->principal = arena_strdup(req->arena, res.access_key);
    return API_AUTH_OK;
}

int api_gateway_new(const struct api_gateway_config *cfg, struct api_gateway **out)
{
    if (!cfg->router)
        return -ERR_INVALID;
    struct api_gateway *g = xcalloc(1, sizeof(*g));
    g->cfg = *cfg;
    if (cfg->refuse_replays)
        g->replay = sigv4_replay_new(65536, cfg->max_skew_s ? cfg->max_skew_s : 900);
    api_router_set_auth(cfg->router, gateway_auth, g);
    *out = g;
    return 0;
}

void api_gateway_free(struct api_gateway *g)
{
    if (!g)
        return;
    if (g->replay)
        sigv4_replay_free(g->replay);
    free(g);
}

static void gw_begin(void *app, struct http_req *req, struct http_resp *resp)
{
    (void)app;
    (void)resp;
    /* one byte over the cap so that api_dispatch sees an oversized body as such */
    req->body_max = AWS_BODY_MAX + 1;
}

static void gw_end(void *app, struct http_req *req, struct http_resp *resp)
{
    struct api_gateway *g = app;
    api_dispatch(g->cfg.router, req, resp);
}

void api_gateway_handler(struct api_gateway *g, struct http_handler *h)
{
    memset(h, 0, sizeof(*h));
    h->app = g;
    h->begin = gw_begin;
    h->end = gw_end;
}
