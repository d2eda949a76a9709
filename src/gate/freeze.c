/*
 * freeze.c - freeze windows: while one is active on a service (or on every service, "*"),
 * its gate answers no-go. Stored in `gate_freezes`, committed before the caller hears "ok".
 */
#include "gate/gate_int.h"
#include "gate/sql.h"

#include "core/err.h"
#include "core/json.h"
#include "core/timefmt.h"
#include "store/store.h"

#include <stdio.h>
#include <string.h>

#define FREEZE_REASON_MAX 500 /* bytes of a reason */
#define FREEZE_NAME_MAX   128 /* bytes of a service name */

static const char *const freeze_keys[] = {"service", "from", "to", "reason", NULL};

static json_t *row_json(struct store_stmt *st)
{
    return json_pack("{s:I, s:s, s:I, s:I, s:s, s:s, s:I}", "id", (json_int_t)store_col_int(st, 0),
                     "service", store_col_text(st, 1), "from", (json_int_t)store_col_int(st, 2),
                     "to", (json_int_t)store_col_int(st, 3), "reason", store_col_text(st, 4),
                     "actor", store_col_text(st, 5), "created_ms",
                     (json_int_t)store_col_int(st, 6));
}

/* A time member (unix seconds, ISO 8601 or now+2h) into *out; def when absent and def >= 0. */
static int body_time(const json_t *body, const char *key, int64_t now_s, int64_t def, int64_t *out,
                     char *err, size_t errlen)
{
    const json_t *v = json_object_get(body, key);
    char why[160];
    if (!v && def >= 0) {
        *out = def;
        return 0;
    }
    if (json_is_integer(v) && json_integer_value(v) >= 0 &&
        json_integer_value(v) <= OC_JSON_UNIX_S_MAX) {
        *out = (int64_t)json_integer_value(v);
        return 0;
    }
    if (json_is_string(v) && oc_time_param(json_string_value(v), now_s, out, why, sizeof why) == 0)
        return 0;
    snprintf(err, errlen, "%s: a time (unix seconds, 2026-12-24T00:00:00Z or now+2h)", key);
    return OC_EINVAL;
}

/* Reads the body into service, from, to and reason; 0 or OC_EINVAL. */
static int freeze_read(const json_t *body, int64_t now_s, const char **service, int64_t *from,
                       int64_t *to, const char **reason, char *err, size_t errlen)
{
    const char *bad;
    if (!json_is_object(body)) {
        snprintf(err, errlen, "body: a JSON object {service, from, to, reason}");
        return OC_EINVAL;
    }
    if ((bad = oc_json_unknown_key(body, freeze_keys)) != NULL) {
        snprintf(err, errlen, "%.64s: unknown field (service, from, to, reason)", bad);
        return OC_EINVAL;
    }
    if (oc_json_get_str(body, "service", service) != 0 || !**service ||
        strlen(*service) > FREEZE_NAME_MAX) {
        snprintf(err, errlen, "service: a catalog service, or \"*\" for every service");
        return OC_EINVAL;
    }
    if (oc_json_get_str(body, "reason", reason) != 0 || !**reason ||
        strlen(*reason) > FREEZE_REASON_MAX) {
        snprintf(err, errlen, "reason: a non-empty string of at most %d bytes", FREEZE_REASON_MAX);
        return OC_EINVAL;
    }
    if (body_time(body, "from", now_s, now_s, from, err, errlen) ||
        body_time(body, "to", now_s, -1, to, err, errlen))
        return OC_EINVAL;
    if (*to <= *from) {
        snprintf(err, errlen, "to: after from");
        return OC_EINVAL;
    }
    return 0;
}

int gate_freeze_add(struct store *s, const json_t *body, const char *actor, int64_t now_s,
                    json_t **out, char *err, size_t errlen)
{
    const char *service, *reason;
    int64_t from, to, id = 0;
    struct store_stmt *st;
    *out = NULL;
    if (freeze_read(body, now_s, &service, &from, &to, &reason, err, errlen))
        return OC_EINVAL;
    store_lock(s);
    int rc = store_prepare(s, GATE_SQL_FREEZE_INSERT, &st);
    if (rc == 0) {
        STORE_BIND(st, STORE_TEXT(service), STORE_INT(from), STORE_INT(to), STORE_TEXT(reason),
                   STORE_TEXT(actor ? actor : ""), STORE_INT(now_s * 1000));
        rc = store_step(st) == STORE_DONE ? 0 : OC_EDB;
        store_reset(st);
        id = store_last_id(s);
    }
    if (rc == 0 && store_prepare(s, GATE_SQL_FREEZE_GET, &st) == 0) {
        STORE_BIND(st, STORE_INT(id));
        if (store_step(st) == STORE_ROW)
            *out = row_json(st);
        store_reset(st);
    }
    store_unlock(s);
    if (rc == 0 && !*out)
        rc = OC_EDB;
    if (rc)
        snprintf(err, errlen, "the freeze could not be stored");
    return rc;
}

/* Runs a listing statement with its bindings done by the caller; rows as an array. */
static json_t *rows(struct store_stmt *st)
{
    json_t *a = json_array();
    int rc;
    while ((rc = store_step(st)) == STORE_ROW)
        json_array_append_new(a, row_json(st));
    store_reset(st);
    if (rc != STORE_DONE) {
        json_decref(a);
        return NULL;
    }
    return a;
}

json_t *gate_freezes(struct store *s, int64_t since)
{
    struct store_stmt *st;
    json_t *a = NULL;
    store_lock(s);
    if (store_prepare(s, GATE_SQL_FREEZE_LIST, &st) == 0) {
        STORE_BIND(st, STORE_INT(since));
        a = rows(st);
    }
    store_unlock(s);
    return a;
}

json_t *gate_freezes_active(struct store *s, const char *service, int64_t now_s)
{
    struct store_stmt *st;
    json_t *a = NULL;
    store_lock(s);
    if (store_prepare(s, GATE_SQL_FREEZE_ACTIVE, &st) == 0) {
        STORE_BIND(st, STORE_TEXT(service), STORE_INT(now_s));
        a = rows(st);
    }
    store_unlock(s);
    return a;
}

int gate_freeze_delete(struct store *s, int64_t id)
{
    struct store_stmt *st;
    store_lock(s);
    int rc = store_prepare(s, GATE_SQL_FREEZE_DELETE, &st);
    if (rc == 0) {
        STORE_BIND(st, STORE_INT(id));
        rc = store_step(st) == STORE_DONE ? 0 : OC_EDB;
        store_reset(st);
        if (rc == 0 && store_changes(s) == 0)
            rc = OC_ENOTFOUND;
    }
    store_unlock(s);
    return rc;
}
