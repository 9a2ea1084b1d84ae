/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: SNS DeliveryPolicy JSON. The first byte picks the level (topic/subscription).
 * An accepted policy must give a schedule of exactly numRetries delays within its bounds, and
 * its EffectiveDeliveryPolicy JSON must parse back to the same policy. */
#include <stdint.h>
#include <string.h>

#include "base/buf.h"
#include "base/xalloc.h"
#include "deliver/retry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > SNS_DELIVERY_POLICY_MAX + 1)
        return 0;
    enum sns_policy_level lvl = data[0] & 1 ? SNS_POLICY_SUBSCRIPTION : SNS_POLICY_TOPIC;
    struct str in = str_make((const char *)data + 1, size - 1);
    struct sns_delivery_policy p, q;
    struct diag d = { 0 };
    if (sns_delivery_policy_parse(in, lvl, &p, &d) != 0) {
        BUG_ON(d.msg[0] == '\0');
        BUG_ON(strncmp(d.msg, "DeliveryPolicy: ", 16) != 0);
        return 0;
    }
    const struct sns_retry_policy *r = &p.retry;
    BUG_ON(r->min_delay_s < 1 || r->min_delay_s > r->max_delay_s || r->max_delay_s > 3600);
    BUG_ON(r->num_retries < 0 || r->num_retries > 100);
    BUG_ON(r->num_no_delay + r->num_min_delay + r->num_max_delay > r->num_retries);
    int n;
    for (n = 1; n <= 101; n++) {
        int64_t ms = sns_retry_delay_ms(r, n);
        if (ms < 0)
            break;
        BUG_ON(ms > (int64_t)r->max_delay_s * 1000);
        BUG_ON(n > r->num_no_delay && ms < (int64_t)r->min_delay_s * 1000);
        int64_t jit;
        BUG_ON(!sns_retry_next(r, n, 0, 0, NULL, &jit));
        BUG_ON(jit < 0 || jit > ms + ms / 10 + 1);
    }
    BUG_ON(n - 1 != r->num_retries);

    struct buf j;
    buf_init(&j, 1 << 16);
    BUG_ON(sns_delivery_policy_json(&p, lvl, &j) != 0);
    BUG_ON(sns_delivery_policy_parse(buf_str(&j), lvl, &q, &d) != 0);
    BUG_ON(memcmp(&p.retry, &q.retry, sizeof(p.retry)) != 0);
    BUG_ON(p.max_receives_per_second != q.max_receives_per_second);
    BUG_ON(strcmp(p.header_content_type, q.header_content_type) != 0);
    BUG_ON(lvl == SNS_POLICY_TOPIC &&
           p.disable_subscription_overrides != q.disable_subscription_overrides);
    buf_release(&j);
    return 0;
}
