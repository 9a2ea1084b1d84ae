/* SPDX-License-Identifier: Apache-2.0 */
/* ECR severity names and the mapping from vendors' own ratings (Debian urgency, Red Hat
 * impact, GHSA severity) to them. */
#include <strings.h>

#include "base/xalloc.h"
#include "vulndb/finding.h"
#include "vulndb/match.h"

static const char *const sev_names[SEV_COUNT] = {
    [SEV_UNDEFINED] = "UNDEFINED",
    [SEV_INFORMATIONAL] = "INFORMATIONAL",
    [SEV_LOW] = "LOW",
    [SEV_MEDIUM] = "MEDIUM",
    [SEV_HIGH] = "HIGH",
    [SEV_CRITICAL] = "CRITICAL",
};

const char *severity_name(enum severity s)
{
    if ((unsigned)s >= SEV_COUNT)
        return "UNDEFINED";
    return sev_names[s];
}

int severity_parse(const char *s)
{
    if (!s)
        return -1;
    for (int i = 0; i < SEV_COUNT; i++)
        if (strcasecmp(s, sev_names[i]) == 0)
            return i;
    return -1;
}

enum severity severity_from_vendor(const char *word)
{
    static const struct {
        const char *word;
        enum severity sev;
    } map[] = {
        /* Debian urgency; "not yet assigned" and "end-of-life" are not ratings */
        { "unimportant", SEV_INFORMATIONAL },
        { "low", SEV_LOW },
        { "medium", SEV_MEDIUM },
        { "high", SEV_HIGH },
        /* Red Hat impact */
        { "moderate", SEV_MEDIUM },
        { "important", SEV_HIGH },
        { "critical", SEV_CRITICAL },
    };
    if (!word)
        return SEV_UNDEFINED;
    for (size_t i = 0; i < ARRAY_SIZE(map); i++)
        if (strcasecmp(word, map[i].word) == 0)
            return map[i].sev;
    return SEV_UNDEFINED;
}
