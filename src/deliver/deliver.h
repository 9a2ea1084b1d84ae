/* SPDX-License-Identifier: Apache-2.0 */
/* What every delivery transport (SMTP, webhook) reports about one attempt, and the one-time
 * libcurl initialisation they share. */
#ifndef VIGIL_DELIVER_DELIVER_H
#define VIGIL_DELIVER_DELIVER_H

#include <stdbool.h>

/* The outcome of one delivery attempt, as the retry logic needs it. */
enum deliver_outcome {
    DELIVER_OK = 0,   /* accepted by the relay / the endpoint answered 2xx or 3xx */
    DELIVER_RETRY,    /* temporary: connection error, timeout, SMTP 4xx, HTTP 5xx; try again */
    DELIVER_REJECTED, /* final: SMTP 5xx, HTTP 4xx, or refused before sending; never retried */
};

/* "delivered", "retry" or "rejected". Never NULL. */
const char *deliver_outcome_name(enum deliver_outcome o);

/* True for outcomes that end the delivery (no further attempt). */
static inline bool deliver_outcome_is_final(enum deliver_outcome o)
{
    return o != DELIVER_RETRY;
}

/* curl_global_init() exactly once per process (thread-safe through pthread_once). Every
 * function in src/deliver that makes a curl handle calls it; callers that build their own
 * handles for the multi interface call it before curl_multi_init(). */
void deliver_curl_init(void);

#endif
