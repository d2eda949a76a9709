/*
 * subscribe.c - webhook subscriptions to the public status page. An admin subscribes a URL
 * (POST /v1/status/subscriptions: an outbox endpoint of kind "status", named "status/NAME");
 * it then hears, through the durable outbox and signed per Standard Webhooks, what the
 * public page shows and nothing else: a published incident's publication, public updates
 * and resolution as incidents.json shows it, and maintenances scheduled or deleted. Drafts,
 * SEV4 incidents and internal events (pages, notes, internal titles) never reach it.
 */
#include "incident/incident_int.h"

void inc_status_notify(struct incident_mgr *m, const char *type, const struct incident *inc,
                       const json_t *maint)
{
    if (!m->ob || (inc && !inc_status_shown(inc)) || (!inc && !maint) ||
        !inc_outbox_has_status(m->ob))
        return;
    json_t *data = inc_status_payload(m, inc);
    if (maint)
        json_object_set(data, "scheduled_maintenance", (json_t *)maint);
    inc_outbox_status(m->ob, type, data);
    json_decref(data);
}
