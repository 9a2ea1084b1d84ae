/* SPDX-License-Identifier: Apache-2.0 */
/* The events `vigil serve` publishes on its bus, built inside the transaction of the change
 * that causes them (transactional outbox): ECR Image Action for pushes and deletes, ECR Image
 * Scan / Inspector2 Scan when a scan finishes, Inspector2 Finding when a finding is created,
 * updated or closed. */
#ifndef VIGIL_CLI_SERVE_EVENTS_H
#define VIGIL_CLI_SERVE_EVENTS_H

#include "events/bus.h"
#include "registry/registry.h"
#include "scan/service.h"
#include "store/meta.h"

struct serve_events {
    struct bus *bus; /* NULL = publish nothing */
    const char *account;
    const char *region;
};

/* Publish "ECR Image Action" (PUSH or DELETE) for a registry event, in its transaction.
 * Returns 0 or <0 (the change is then rolled back). */
int serve_publish_image_action(const struct serve_events *se, struct meta_conn *c,
                               const struct reg_event *ev);
/* Publish what a scan event means: ECR Image Scan (BASIC), Inspector2 Scan (ENHANCED, first
 * completed scan), Inspector2 Finding (ENHANCED finding changes). 0 or <0. */
int serve_publish_scan_event(const struct serve_events *se, struct meta_conn *c,
                             const struct scan_event *ev);

#endif
