/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: the `vigil serve` config-file parser and the typed value parsers. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"
#include "cli/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct conf_def defs[] = {
    { "listen", CONF_STRING, "127.0.0.1:5000", 0, 0, "address", false },
    { "threads", CONF_INT, "8", 1, 256, "threads", false },
    { "anonymous", CONF_BOOL, "false", 0, 0, "anonymous", false },
    { "idle-timeout", CONF_DURATION, "30s", 1000, 3600000, "timeout", false },
    { "max-manifest", CONF_SIZE, "4MiB", 1, 1 << 30, "cap", false },
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct conf c;
    struct diag d = { 0 };
    conf_init(&c, defs, sizeof(defs) / sizeof(defs[0]));
    if (conf_load_text(&c, "fuzz.conf", (const char *)data, size, &d) < 0)
        BUG_ON(d.msg[0] == '\0');
    /* every value that was accepted reads back through its typed getter */
    (void)conf_int(&c, "threads");
    (void)conf_bool(&c, "anonymous");
    BUG_ON(conf_duration_ms(&c, "idle-timeout") < 1000);
    BUG_ON(conf_size(&c, "max-manifest") < 1);
    conf_release(&c);

    char *s = xmalloc(size + 1);
    memcpy(s, data, size);
    s[size] = '\0';
    int64_t ms;
    uint64_t sz;
    (void)conf_parse_duration_ms(s, &ms);
    (void)conf_parse_size(s, &sz);
    free(s);
    return 0;
}
