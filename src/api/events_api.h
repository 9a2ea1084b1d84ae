/* SPDX-License-Identifier: Apache-2.0 */
/* The EventBridge control API (AWS JSON 1.1, target prefix AWSEvents) over vigil's event bus
 * (src/events/bus.h): rules, targets, TestEventPattern and PutEvents, with EventBridge's
 * shapes, error codes and messages, so that `aws events ... --endpoint-url` drives vigil.
 * Operations and deviations: docs/API.md ("EventBridge operations"). */
#ifndef VIGIL_API_EVENTS_API_H
#define VIGIL_API_EVENTS_API_H

#include <stdint.h>

#include "api/awsproto.h"
#include "base/err.h"
#include "events/bus.h"
#include "store/meta.h"

#define EVENTS_TARGET_PREFIX   "AWSEvents"
#define EVENTS_DEFAULT_ACCOUNT "000000000000"
#define EVENTS_DEFAULT_REGION  "us-east-1"

/* Current time in unix seconds (a seam for tests: PutEvents' default event time). */
typedef int64_t (*events_now_fn)(void *ctx);

struct events_api_config {
    struct meta_db *db;     /* required, borrowed: the metadata database the bus keeps rules in */
    struct bus *bus;        /* required, borrowed: made for the same account and region */
    const char *account_id; /* 12 digits: CreatedBy, the "account" of PutEvents events;
                             * NULL = EVENTS_DEFAULT_ACCOUNT */
    const char *region;     /* the "region" of PutEvents events; NULL = EVENTS_DEFAULT_REGION */
    events_now_fn now;      /* NULL = the real clock */
    void *now_ctx;
};

/* The handlers' shared state; read-only after creation, so handlers run on any number of
 * HTTP threads at once (each with its own database connection). */
struct events_api;

/* Check cfg (strings copied, pointers borrowed) and bring the bus's tables up to date
 * (bus_migrate). Errors: -ERR_INVALID (db or bus missing, account not 12 digits, bad region;
 * d says which), or bus_migrate's. */
int events_api_new(const struct events_api_config *cfg, struct events_api **out, struct diag *d);
/* Free. The router holding its handlers must not dispatch any more. NULL is a no-op. */
void events_api_free(struct events_api *e);

/* Register PutRule, DescribeRule, ListRules, DeleteRule, EnableRule, DisableRule, PutTargets,
 * RemoveTargets, ListTargetsByRule, TestEventPattern and PutEvents on r. Returns 0 or the
 * first api_router_add_json() error (-EEXIST when one is registered already). */
int events_api_register(struct events_api *e, struct api_router *r);

#endif
