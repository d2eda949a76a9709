/*
 * maint.c - the status page's scheduled maintenances: a name, the public components it
 * touches, a window and a note for viewers, kept in incident_maintenances. Whether one is
 * scheduled, in progress or completed follows from the server clock (each tick tells the
 * status page's subscribers when one starts or completes); a component under one in
 * progress reads under_maintenance unless an open incident makes it worse.
 */
#include "incident/incident_int.h"
#include "incident/sql.h"
#include "catalog/catalog.h"
#include "core/alloc.h"
#include "core/err.h"
#include "core/lock.h"
#include "core/json.h"
#include "core/timefmt.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAINT_NAME_MAX       255           /* bytes of a maintenance's name */
#define MAINT_COMPONENTS_MAX 16            /* components one maintenance names */
#define MAINT_WINDOW_MAX     (31 * 86400)  /* longest window */
#define MAINT_AHEAD_MAX      (366 * 86400) /* how far ahead one may be scheduled */

/* Every stored maintenance, newest window first, as rows {id, name, components (array),
 * body, for, until, created, by}; at most INCIDENT_MAINT_MAX. New reference. */
static json_t *rows(struct incident_mgr *m)
{
    struct store_stmt *st;
    json_t *arr = json_array();
    store_lock(m->app->store);
    if (store_prepare(m->app->store, INC_SQL_MNT_LIST, &st) == 0) {
        store_bind_int(st, 1, INCIDENT_MAINT_MAX);
        while (store_step(st) == STORE_ROW) {
            json_t *comps = json_loads(store_col_text(st, 2), 0, NULL);
            json_array_append_new(
                arr, json_pack("{s:I, s:s, s:o, s:s, s:I, s:I, s:I, s:s}", "id",
                               (json_int_t)store_col_int(st, 0), "name", store_col_text(st, 1),
                               "components", comps ? comps : json_array(), "body",
                               store_col_text(st, 3), "for", (json_int_t)store_col_int(st, 4),
                               "until", (json_int_t)store_col_int(st, 5), "created",
                               (json_int_t)store_col_int(st, 6), "by", store_col_text(st, 7)));
        }
        store_reset(st);
    }
    store_unlock(m->app->store);
    return arr;
}

static int64_t iget(const json_t *o, const char *k)
{
    return json_integer_value(json_object_get(o, k));
}

/* "scheduled", "in_progress" or "completed" for row r at now. */
static const char *maint_status(const json_t *r, int64_t now)
{
    return now < iget(r, "for")     ? "scheduled"
           : now < iget(r, "until") ? "in_progress"
                                    : "completed";
}

/* The index in cs of the component named name, or -1. */
static int comp_index(const struct inc_comps *cs, const char *name)
{
    for (int k = 0; name && k < cs->n; k++)
        if (strcmp(cs->c[k].name, name) == 0)
            return k;
    return -1;
}

static json_t *iso(int64_t t)
{
    char ts[32];
    inc_iso_time(t, ts, sizeof ts);
    return json_string(ts);
}

/* Its updates as Statuspage shows them, newest first: completed, in progress, scheduled. */
static json_t *maint_updates(const json_t *r, const char *id, int64_t now)
{
    static const char *const st[] = {"completed", "in_progress", "scheduled"};
    static const char *const said[] = {"The scheduled maintenance has been completed.",
                                       "Scheduled maintenance is currently in progress.", NULL};
    int64_t at[] = {iget(r, "until"), iget(r, "for"), iget(r, "created")};
    json_t *arr = json_array();
    char uid[64];
    for (int k = 0; k < 3; k++) {
        if (k < 2 && now < at[k])
            continue;
        snprintf(uid, sizeof uid, "%s-%s", id, st[k]);
        json_array_append_new(
            arr,
            json_pack("{s:s, s:s, s:s, s:s, s:o, s:o, s:o}", "id", uid, "status", st[k], "body",
                      said[k] ? said[k] : json_string_value(json_object_get(r, "body")),
                      "incident_id", id, "created_at", iso(at[k]), "updated_at", iso(at[k]),
                      "display_at", iso(at[k])));
    }
    return arr;
}

/* One maintenance as Statuspage shows it (components from cs). New reference. */
static json_t *maint_json(const json_t *r, const struct inc_comps *cs, const char *base,
                          int64_t now)
{
    char id[32], link[512];
    size_t i;
    json_t *v, *comps = json_array();
    const char *status = maint_status(r, now);
    snprintf(id, sizeof id, "MNT-%lld", (long long)iget(r, "id"));
    snprintf(link, sizeof link, "%s/status#%s", base, id);
    json_array_foreach(json_object_get(r, "components"), i, v)
    {
        int k = comp_index(cs, json_string_value(v));
        if (k >= 0)
            json_array_append_new(comps, inc_comp_json(&cs->c[k], k + 1, iget(r, "created")));
    }
    int64_t last = strcmp(status, "scheduled") == 0     ? iget(r, "created")
                   : strcmp(status, "in_progress") == 0 ? iget(r, "for")
                                                        : iget(r, "until");
    return json_pack(
        "{s:s, s:O, s:s, s:o, s:o, s:n, s:o, s:s, s:s, s:o, s:s, s:o, s:o, s:o, "
        "s:o}",
        "id", id, "name", json_object_get(r, "name"), "status", status, "created_at",
        iso(iget(r, "created")), "updated_at", iso(last), "monitoring_at", "resolved_at",
        strcmp(status, "completed") == 0 ? iso(iget(r, "until")) : json_null(), "impact",
        "maintenance", "shortlink", link, "started_at", iso(iget(r, "for")), "page_id", "oncue",
        "scheduled_for", iso(iget(r, "for")), "scheduled_until", iso(iget(r, "until")),
        "incident_updates", maint_updates(r, id, now), "components", comps);
}

json_t *inc_maint_json(struct incident_mgr *m, struct inc_comps *cs, const char *base, int64_t now,
                       enum inc_maint_which which)
{
    json_t *all = rows(m), *r, *out = json_array();
    size_t i, k;
    json_t *v;
    json_array_foreach(all, i, r)
    {
        if (strcmp(maint_status(r, now), "in_progress") != 0)
            continue;
        json_array_foreach(json_object_get(r, "components"), k, v)
        {
            int c = comp_index(cs, json_string_value(v));
            if (c >= 0)
                cs->c[c].maintenance = 1;
        }
    }
    json_array_foreach(all, i, r)
    {
        const char *st = maint_status(r, now);
        int want = which == MAINT_ALL        ? (int)i < INC_MAINT_LISTED
                   : which == MAINT_UPCOMING ? strcmp(st, "scheduled") == 0
                   : which == MAINT_ACTIVE   ? strcmp(st, "in_progress") == 0
                                             : strcmp(st, "completed") != 0;
        if (want)
            json_array_append_new(out, maint_json(r, cs, base, now));
    }
    json_decref(all);
    return out;
}

/* The components of body b (public names or ids of cs's components) as an array of public
 * names (into *out, new reference): 0, or OC_EINVAL with the field in err. */
static int parse_components(const json_t *b, const struct inc_comps *cs, json_t **out, char *err,
                            size_t errlen)
{
    const json_t *arr = json_object_get(b, "components");
    size_t i;
    json_t *v;
    char id[16];
    if (!json_is_array(arr) || json_array_size(arr) == 0 ||
        json_array_size(arr) > MAINT_COMPONENTS_MAX) {
        snprintf(err, errlen, "components: an array of 1 to %d public component names or ids",
                 MAINT_COMPONENTS_MAX);
        return OC_EINVAL;
    }
    *out = json_array();
    json_array_foreach(arr, i, v)
    {
        const char *s = json_string_value(v);
        int found = -1;
        for (int k = 0; s && found < 0 && k < cs->n; k++) {
            inc_comp_id(cs->c[k].name, id, sizeof id);
            if (strcmp(s, cs->c[k].name) == 0 || strcmp(s, id) == 0)
                found = k;
        }
        if (found < 0) {
            snprintf(err, errlen, "components[%zu]: not a public component name or id", i);
            json_decref(*out);
            *out = NULL;
            return OC_EINVAL;
        }
        json_array_append_new(*out, json_string(cs->c[found].name));
    }
    return 0;
}

/* A time field of b: unix seconds or an RFC 3339 date-time. 0, or OC_EINVAL naming it. */
static int parse_time(const json_t *b, const char *key, int64_t *out, char *err, size_t errlen)
{
    const json_t *v = json_object_get(b, key);
    int64_t ms;
    if (json_is_integer(v) && json_integer_value(v) > 0 &&
        json_integer_value(v) < OC_JSON_UNIX_S_MAX) {
        *out = json_integer_value(v);
        return 0;
    }
    if (json_is_string(v) && oc_time_parse(json_string_value(v), OC_TIME_STRICT, &ms) == 0) {
        *out = ms / 1000;
        return 0;
    }
    snprintf(err, errlen, "%s: an RFC 3339 date-time (2026-12-06T22:00:00Z) or unix seconds", key);
    return OC_EINVAL;
}

/* The fields of b other than components: 0, or OC_EINVAL with the field in err. */
static int parse_fields(const json_t *b, int64_t now, int64_t *from, int64_t *until, char *err,
                        size_t errlen)
{
    const char *name = json_string_value(json_object_get(b, "name"));
    const json_t *body = json_object_get(b, "body");
    if (!name || !name[0] || strlen(name) > MAINT_NAME_MAX)
        return snprintf(err, errlen, "name: 1 to %d bytes", MAINT_NAME_MAX), OC_EINVAL;
    if (body && (!json_is_string(body) || strlen(json_string_value(body)) > INCIDENT_MAX_TEXT))
        return snprintf(err, errlen, "body: a string of at most %d bytes", INCIDENT_MAX_TEXT),
               OC_EINVAL;
    if (parse_time(b, "scheduled_for", from, err, errlen) ||
        parse_time(b, "scheduled_until", until, err, errlen))
        return OC_EINVAL;
    if (*until <= *from || *until - *from > MAINT_WINDOW_MAX || *until <= now ||
        *from > now + MAINT_AHEAD_MAX)
        return snprintf(err, errlen,
                        "scheduled_until: after scheduled_for and now, at most 31 days after "
                        "scheduled_for, which is at most a year ahead"),
               OC_EINVAL;
    return 0;
}

/* Stores one maintenance; 0, OC_ETOOBIG (INCIDENT_MAINT_MAX kept) or OC_EDB; *id set. */
static int insert(struct incident_mgr *m, const json_t *b, const char *comps, int64_t from,
                  int64_t until, const char *actor, int64_t now, int64_t *id)
{
    struct store_stmt *st;
    const char *body = json_string_value(json_object_get(b, "body"));
    int rc = OC_EDB;
    store_lock(m->app->store);
    if (store_prepare(m->app->store, INC_SQL_MNT_COUNT, &st) == 0) {
        int full = store_step(st) == STORE_ROW && store_col_int(st, 0) >= INCIDENT_MAINT_MAX;
        store_reset(st);
        rc = full ? OC_ETOOBIG : OC_EDB;
        if (!full && store_prepare(m->app->store, INC_SQL_MNT_ADD, &st) == 0) {
            STORE_BIND(st, STORE_TEXT(json_string_value(json_object_get(b, "name"))),
                       STORE_TEXT(comps), STORE_TEXT(body ? body : ""), STORE_INT(from),
                       STORE_INT(until), STORE_INT(now), STORE_TEXT(actor));
            rc = store_step(st) == STORE_DONE ? 0 : OC_EDB;
            store_reset(st);
            *id = store_last_id(m->app->store);
        }
    }
    store_unlock(m->app->store);
    return rc;
}

int incident_maint_add(struct incident_mgr *m, const char *actor, const json_t *b, json_t **out,
                       char *err, size_t errlen)
{
    int64_t now = oc_clock_now_s(m->app->clock), from = 0, until = 0, id = 0;
    struct inc_comps *cs = oc_malloc(sizeof *cs);
    struct catalog_ref ref;
    json_t *names = NULL, *all, *r;
    char *text = NULL;
    size_t i;
    int rc;
    *out = NULL;
    inc_lock(m);
    const struct catalog *cat = catalog_get(m->app, &ref) == 0 ? ref.cat : NULL;
    inc_comps_build(m, cat, cs);
    if ((rc = parse_fields(b, now, &from, &until, err, errlen)) != 0 ||
        (rc = parse_components(b, cs, &names, err, errlen)) != 0)
        goto out;
    text = json_dumps(names, JSON_COMPACT);
    if ((rc = insert(m, b, text, from, until, actor, now, &id)) != 0) {
        snprintf(err, errlen,
                 rc == OC_ETOOBIG ? "at most %d maintenances are kept: delete some"
                                  : "cannot store the maintenance",
                 INCIDENT_MAINT_MAX);
        goto out;
    }
    json_decref(inc_maint_json(m, cs, "", now, MAINT_ACTIVE)); /* marks components under one */
    all = rows(m);
    json_array_foreach(all, i, r)
    {
        if (iget(r, "id") == id)
            *out = maint_json(r, cs, m->o.public_url ? m->o.public_url : "", now);
    }
    json_decref(all);
    inc_status_notify(m, "maintenance.scheduled", NULL, *out);
out:
    if (cat)
        catalog_put(&ref);
    inc_unlock(m);
    json_decref(names);
    free(text);
    free(cs);
    return rc;
}

/* incident_maint_list_json with m->mu held. */
static json_t *list_locked(struct incident_mgr *m)
{
    struct inc_comps *cs = oc_malloc(sizeof *cs);
    struct catalog_ref ref;
    const struct catalog *cat = catalog_get(m->app, &ref) == 0 ? ref.cat : NULL;
    inc_comps_build(m, cat, cs);
    json_t *out = inc_maint_json(m, cs, m->o.public_url ? m->o.public_url : "",
                                 oc_clock_now_s(m->app->clock), MAINT_ALL);
    if (cat)
        catalog_put(&ref);
    free(cs);
    return out;
}

int incident_maint_delete(struct incident_mgr *m, int64_t id)
{
    struct store_stmt *st;
    int rc = OC_EDB;
    char mid[32];
    snprintf(mid, sizeof mid, "MNT-%lld", (long long)id);
    json_t *gone = NULL, *all, *r;
    size_t i;
    inc_lock(m);
    all = list_locked(m);
    json_array_foreach(all, i, r)
    {
        if (strcmp(json_string_value(json_object_get(r, "id")), mid) == 0)
            gone = json_incref(r);
    }
    json_decref(all);
    store_lock(m->app->store);
    if (store_prepare(m->app->store, INC_SQL_MNT_DEL, &st) == 0) {
        store_bind_int(st, 1, id);
        rc = store_step(st) == STORE_DONE ? 0 : OC_EDB;
        store_reset(st);
        if (rc == 0 && store_changes(m->app->store) == 0)
            rc = OC_ENOTFOUND;
    }
    store_unlock(m->app->store);
    if (rc == 0 && gone)
        inc_status_notify(m, "maintenance.deleted", NULL, gone);
    inc_unlock(m);
    json_decref(gone);
    return rc;
}

#define DUE_MAX 16 /* maintenances that changed status one tick tells subscribers about */

int inc_maint_tick(struct incident_mgr *m, int64_t now)
{
    struct store_stmt *st;
    int64_t ids[DUE_MAX];
    char status[DUE_MAX][16], mid[32];
    int n = 0;
    store_lock(m->app->store);
    if (store_prepare(m->app->store, INC_SQL_MNT_DUE, &st) == 0) {
        store_bind_int(st, 1, now);
        while (n < DUE_MAX && store_step(st) == STORE_ROW) {
            ids[n] = store_col_int(st, 0);
            snprintf(status[n++], sizeof status[0], "%s", store_col_text(st, 1));
        }
        store_reset(st);
    }
    for (int i = 0; i < n && store_prepare(m->app->store, INC_SQL_MNT_NOTIFIED, &st) == 0; i++) {
        STORE_BIND(st, STORE_TEXT(status[i]), STORE_INT(ids[i]));
        store_step(st);
        store_reset(st);
    }
    store_unlock(m->app->store);
    json_t *all = n ? list_locked(m) : NULL, *r;
    size_t k;
    for (int i = 0; i < n; i++) {
        snprintf(mid, sizeof mid, "MNT-%lld", (long long)ids[i]);
        json_array_foreach(all, k, r)
        {
            if (strcmp(json_string_value(json_object_get(r, "id")), mid) == 0)
                inc_status_notify(m, "maintenance.updated", NULL, r);
        }
    }
    json_decref(all);
    return n;
}

json_t *incident_maint_list_json(struct incident_mgr *m)
{
    inc_lock(m);
    json_t *out = list_locked(m);
    inc_unlock(m);
    return out;
}
