/* SPDX-License-Identifier: Apache-2.0 */
/* Events of the server, built with the envelope builders and published on the bus inside the
 * caller's transaction (see serve_events.h). */
#include "cli/serve_events.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/buf.h"
#include "events/envelope.h"

/* Turn an event object into text and publish it; consumes ev. */
static int publish(const struct serve_events *se, struct meta_conn *c, json_t *ev, const char *id)
{
    if (!ev)
        return -ERR_INTERNAL;
    struct buf text;
    buf_init(&text, BUS_EVENT_MAX);
    int rc = event_to_text(ev, &text);
    json_decref(ev);
    if (rc == 0) {
        rc = bus_publish(se->bus, c, buf_cstr(&text), text.len, id);
        if (rc > 0)
            rc = 0;
    }
    buf_release(&text);
    return rc;
}

static int fill_meta(const struct serve_events *se, int64_t at, struct event_meta *m,
                     char id[EVENT_ID_LEN], char when[EVENT_TIME_LEN])
{
    int rc = event_new_id(id);
    if (rc < 0)
        return rc;
    rc = event_format_time((time_t)(at ? at : time(NULL)), when);
    if (rc < 0)
        return rc;
    m->id = id;
    m->account = se->account;
    m->region = se->region;
    m->time = when;
    return 0;
}

int serve_publish_image_action(const struct serve_events *se, struct meta_conn *c,
                               const struct reg_event *ev)
{
    if (!se->bus || (ev->action != REG_EVENT_PUSH && ev->action != REG_EVENT_DELETE))
        return 0;
    char id[EVENT_ID_LEN], when[EVENT_TIME_LEN];
    struct event_meta m;
    int rc = fill_meta(se, ev->at, &m, id, when);
    if (rc < 0)
        return rc;
    struct ecr_image_action a = { 0 };
    a.action_type = ev->action == REG_EVENT_PUSH ? "PUSH" : "DELETE";
    a.result = "SUCCESS";
    a.repository_name = ev->repo;
    a.image_digest = ev->digest;
    a.image_tag = ev->action == REG_EVENT_PUSH ? ev->tag : (ev->ntags ? ev->tags[0] : NULL);
    a.manifest_media_type = ev->media_type;
    a.artifact_media_type = ev->artifact_type;
    return publish(se, c, ecr_image_action_event(&m, &a), id);
}

static void counts_of(const struct scan_event *ev, struct severity_counts *s)
{
    s->critical = ev->counts[SEV_CRITICAL];
    s->high = ev->counts[SEV_HIGH];
    s->medium = ev->counts[SEV_MEDIUM];
    s->low = ev->counts[SEV_LOW];
    s->informational = ev->counts[SEV_INFORMATIONAL];
    s->undefined = ev->counts[SEV_UNDEFINED];
}

int serve_publish_scan_event(const struct serve_events *se, struct meta_conn *c,
                             const struct scan_event *ev)
{
    if (!se->bus)
        return 0;
    char id[EVENT_ID_LEN], when[EVENT_TIME_LEN];
    struct event_meta m;
    int rc = fill_meta(se, ev->at, &m, id, when);
    if (rc < 0)
        return rc;
    if (ev->kind == SCAN_EVENT_SCAN) {
        if (ev->scan_type != SCAN_TYPE_ENHANCED) {
            struct ecr_image_scan s = { 0 };
            s.scan_status = ev->status == SCAN_STATUS_COMPLETE ? "COMPLETE" : "FAILED";
            s.repository_name = ev->repo;
            counts_of(ev, &s.counts);
            s.image_digest = ev->digest;
            s.image_tags = ev->tags;
            s.n_image_tags = ev->ntags;
            return publish(se, c, ecr_image_scan_event(&m, &s), id);
        }
        if (!ev->initial)
            return 0;
        char *arn = ecr_repository_arn(se->region, se->account, ev->repo);
        struct inspector2_scan s = { 0 };
        s.repository_name = arn;
        counts_of(ev, &s.counts);
        s.image_digest = ev->digest;
        s.image_tags = ev->tags;
        s.n_image_tags = ev->ntags;
        rc = publish(se, c, inspector2_scan_event(&m, &s), id);
        free(arn);
        return rc;
    }
    if (!ev->finding)
        return 0;
    /* Inspector2 Finding: the detail is the finding itself, as Inspector sends it */
    char *arn = ecr_repository_arn(se->region, se->account, ev->repo);
    json_t *res = json_array();
    json_array_append_new(res, json_sprintf("%s/%s", arn, ev->digest));
    free(arn);
    json_t *detail = json_deep_copy(ev->finding);
    if (!detail) {
        json_decref(res);
        return -ERR_INTERNAL;
    }
    return publish(se, c, event_envelope(&m, "Inspector2 Finding", "aws.inspector2", res, detail),
                   id);
}
