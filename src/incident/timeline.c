/*
 * timeline.c - the append-only incident timeline and the follow-up items.
 *
 * Every alert change, classification, page, acknowledgement, role change, status update,
 * mitigation and note is one row with its time to the second. The table refuses UPDATE and
 * DELETE (triggers), so a correction is a new entry. Public rows (public = 1) are the status
 * updates that the status page shows.
 */
#include "incident/incident_int.h"

#include <string.h>
#include "incident/sql.h"
#include "core/bus.h"
#include "core/err.h"
#include "core/topics.h"
#include "core/log.h"
#include "store/store.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

/* Appends one entry to incident id's timeline at time at: the text from fmt, data (stolen,
 * may be NULL) as JSON. Returns 0 or OC_EDB. */
int inc_tl_add(struct incident_mgr *m, int64_t id, int64_t at, const char *kind, const char *actor,
               json_t *data, int pub, const char *fmt, ...)
{
    char text[INCIDENT_MAX_TEXT + 256];
    char *dj = data ? json_dumps(data, JSON_COMPACT) : NULL;
    struct store_stmt *st;
    int rc = OC_EDB;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    store_lock(m->app->store);
    if (store_prepare(m->app->store, INC_SQL_TL_ADD, &st) == 0) {
        STORE_BIND(st, STORE_INT(id), STORE_INT(at), STORE_TEXT(kind),
                   STORE_TEXT(actor ? actor : "oncue"), STORE_TEXT(text), STORE_TEXT(dj),
                   STORE_INT(pub));
        rc = store_step(st) == STORE_DONE ? 0 : OC_EDB;
        store_reset(st);
    }
    store_unlock(m->app->store);
    if (rc)
        oc_log(OC_LOG_ERROR, "incident: timeline of INC-%lld: %s", (long long)id,
               store_errmsg(m->app->store));
    else if (m->app->bus) { /* announced to consoles only: not through the outbox */
        char iid[32];
        inc_format_id(id, iid, sizeof iid);
        /* an alert entry names its alert, so the alert history links the firing to us */
        const char *aid = data && strcmp(kind, "alert") == 0
                              ? json_string_value(json_object_get(data, "alert_id"))
                              : NULL;
        json_t *ids = aid ? json_pack("[s]", aid) : NULL;
        struct oc_ev_incident ev = {.incident_id = iid, .kind = kind, .alert_ids = ids, .at = at};
        json_t *p = oc_ev_incident_build(&ev);
        json_decref(ids);
        oc_bus_publish(m->app->bus, OC_TOPIC_INCIDENT_TIMELINE, p);
        json_decref(p);
    }
    free(dj);
    json_decref(data);
    return rc;
}

/* The timeline of incident id, oldest first, as a JSON array (new reference). */
json_t *inc_tl_json(struct incident_mgr *m, int64_t id)
{
    struct store_stmt *st;
    json_t *arr = json_array();
    store_lock(m->app->store);
    if (store_prepare(m->app->store, INC_SQL_TL_LIST, &st) == 0) {
        store_bind_int(st, 1, id);
        while (store_step(st) == STORE_ROW) {
            const char *data = store_col_text(st, 5);
            json_t *e =
                json_pack("{s:I, s:I, s:s, s:s, s:s, s:b}", "seq", (json_int_t)store_col_int(st, 0),
                          "at", (json_int_t)store_col_int(st, 1), "kind", store_col_text(st, 2),
                          "actor", store_col_text(st, 3), "text", store_col_text(st, 4), "public",
                          (int)store_col_int(st, 6));
            if (data)
                json_object_set_new(e, "data", json_loads(data, 0, NULL));
            json_array_append_new(arr, e);
        }
        store_reset(st);
    }
    store_unlock(m->app->store);
    return arr;
}

/* The public status updates of incident id, newest first: [{seq, at, body, status}]. */
json_t *inc_tl_public(struct incident_mgr *m, int64_t id)
{
    struct store_stmt *st;
    json_t *arr = json_array();
    store_lock(m->app->store);
    if (store_prepare(m->app->store, INC_SQL_TL_PUBLIC, &st) == 0) {
        store_bind_int(st, 1, id);
        while (store_step(st) == STORE_ROW) {
            const char *data = store_col_text(st, 3);
            json_t *d = data ? json_loads(data, 0, NULL) : NULL;
            const char *status = json_string_value(json_object_get(d, "status"));
            json_array_append_new(
                arr, json_pack("{s:I, s:I, s:s, s:s}", "seq", (json_int_t)store_col_int(st, 0),
                               "at", (json_int_t)store_col_int(st, 1), "body",
                               store_col_text(st, 2), "status", status ? status : "investigating"));
            json_decref(d);
        }
        store_reset(st);
    }
    store_unlock(m->app->store);
    return arr;
}

/* Adds a follow-up item to incident id (kind "mitigation" with ref the mitigation id, or
 * "action"); 0 or OC_EDB. */
int inc_fu_add(struct incident_mgr *m, int64_t id, const char *title, const char *kind,
               const char *ref, int64_t due_s)
{
    struct store_stmt *st;
    int rc = OC_EDB;
    store_lock(m->app->store);
    if (store_prepare(m->app->store, INC_SQL_FU_ADD, &st) == 0) {
        STORE_BIND(st, STORE_INT(id), STORE_TEXT(title), STORE_TEXT(kind), STORE_TEXT(ref),
                   STORE_INT(due_s), STORE_INT(oc_clock_now_s(m->app->clock)));
        rc = store_step(st) == STORE_DONE ? 0 : OC_EDB;
        store_reset(st);
    }
    store_unlock(m->app->store);
    return rc;
}

/* Marks the open follow-ups of (kind, ref) done at now. */
void inc_fu_done(struct incident_mgr *m, const char *kind, const char *ref, int64_t now)
{
    struct store_stmt *st;
    store_lock(m->app->store);
    if (store_prepare(m->app->store, INC_SQL_FU_DONE, &st) == 0) {
        STORE_BIND(st, STORE_INT(now), STORE_TEXT(kind), STORE_TEXT(ref));
        store_step(st);
        store_reset(st);
    }
    store_unlock(m->app->store);
}

/* The follow-ups of incident id as a JSON array (new reference). */
json_t *inc_fu_json(struct incident_mgr *m, int64_t id)
{
    struct store_stmt *st;
    json_t *arr = json_array();
    store_lock(m->app->store);
    if (store_prepare(m->app->store, INC_SQL_FU_LIST, &st) == 0) {
        store_bind_int(st, 1, id);
        while (store_step(st) == STORE_ROW) {
            const char *ref = store_col_text(st, 3);
            json_array_append_new(
                arr, json_pack("{s:I, s:s, s:s, s:s?, s:I, s:I, s:o}", "id",
                               (json_int_t)store_col_int(st, 0), "title", store_col_text(st, 1),
                               "kind", store_col_text(st, 2), "ref", ref, "due_at",
                               (json_int_t)store_col_int(st, 4), "created_at",
                               (json_int_t)store_col_int(st, 5), "done_at",
                               store_col_is_null(st, 6) ? json_null()
                                                        : json_integer(store_col_int(st, 6))));
        }
        store_reset(st);
    }
    store_unlock(m->app->store);
    return arr;
}
