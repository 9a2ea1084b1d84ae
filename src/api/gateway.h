/* SPDX-License-Identifier: Apache-2.0 */
/* The AWS control-API entry point of the server: an HTTP handler for POST / (and GET /?Action=)
 * that buffers the body, verifies SigV4 against the configured keys (clock skew limit, optional
 * replay refusal) and hands the request to the operation router (awsproto.h). */
#ifndef VIGIL_API_GATEWAY_H
#define VIGIL_API_GATEWAY_H

#include <stdbool.h>
#include <stdint.h>

#include "api/awsproto.h"
#include "api/sigv4.h"
#include "base/http_msg.h"

struct api_gateway_config {
    struct api_router *router;  /* borrowed */
    struct sigv4_keyring *keys; /* borrowed; NULL = no credentials: every signed call fails */
    int64_t max_skew_s;         /* 0 = 900 (AWS's 15 minutes) */
    bool refuse_replays;        /* refuse a signature seen before within the skew window */
    const char *region;         /* when set, the scope's region must equal it */
};

struct api_gateway;

/* Build the gateway (cfg copied, its pointers borrowed). Installs the SigV4 hook on the
 * router. Returns 0 or -ERR_INVALID (no router). */
int api_gateway_new(const struct api_gateway_config *cfg, struct api_gateway **out);
void api_gateway_free(struct api_gateway *g);
/* The HTTP handler to route POST / (and GET / carrying an Action) to; h->app is g. */
void api_gateway_handler(struct api_gateway *g, struct http_handler *h);

#endif
