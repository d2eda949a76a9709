/*
 * audit.c - the append-only audit log: who did what, to what, when, with which outcome.
 *
 * Rows are only ever inserted; triggers from migration 1 make UPDATE and DELETE fail. Every
 * text field is truncated to AUDIT_FIELD_MAX bytes so a request cannot write an unbounded row.
 */
#include "auth/auth.h"
#include "auth/sql.h"
#include "core/err.h"
#include "store/store.h"

#include <stdio.h>

#define AUDIT_FIELD_MAX 1024 /* bytes kept of actor, action, target and detail */

/* Copies s (NULL stays NULL) into buf, truncated; returns what to bind. */
static const char *clip(const char *s, char buf[AUDIT_FIELD_MAX])
{
    if (!s)
        return NULL;
    snprintf(buf, AUDIT_FIELD_MAX, "%s", s);
    return buf;
}

int auth_audit_append(struct store *s, int64_t ts_ms, const char *actor, const char *action,
                      const char *target, int status, const char *detail)
{
    char a[AUDIT_FIELD_MAX], b[AUDIT_FIELD_MAX], c[AUDIT_FIELD_MAX], d[AUDIT_FIELD_MAX];
    struct store_stmt *st;
    int rc = OC_EDB;
    store_lock(s);
    if (store_prepare(s, AUTH_SQL_AUDIT_INSERT, &st) != 0)
        goto out;
    STORE_BIND(st, STORE_INT(ts_ms), STORE_TEXT(clip(actor ? actor : "anonymous", a)),
               STORE_TEXT(clip(action ? action : "", b)), STORE_TEXT(clip(target, c)),
               STORE_INT(status), STORE_TEXT(clip(detail, d)));
    rc = store_step(st) == STORE_DONE ? 0 : OC_EDB;
    store_reset(st);
out:
    store_unlock(s);
    return rc;
}

/* A text column as JSON: a string, or null for SQL NULL. */
static json_t *text_or_null(struct store_stmt *st, int col)
{
    const char *v = store_col_text(st, col);
    return v ? json_string(v) : json_null();
}

/* One row of AUTH_SQL_AUDIT_LIST as a JSON object. */
static json_t *audit_row_json(struct store_stmt *st)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(store_col_int(st, 0)));
    json_object_set_new(o, "ts_ms", json_integer(store_col_int(st, 1)));
    json_object_set_new(o, "actor", text_or_null(st, 2));
    json_object_set_new(o, "action", text_or_null(st, 3));
    json_object_set_new(o, "target", text_or_null(st, 4));
    json_object_set_new(o, "status", json_integer(store_col_int(st, 5)));
    json_object_set_new(o, "detail", text_or_null(st, 6));
    return o;
}

int auth_audit_list(struct store *s, int64_t before_id, int limit, json_t **out)
{
    struct store_stmt *st;
    json_t *arr;
    int rc;
    *out = NULL;
    if (limit < 1 || limit > AUTH_LIST_MAX || before_id < 0)
        return OC_EINVAL;
    arr = json_array();
    rc = OC_EDB;
    store_lock(s);
    if (store_prepare(s, AUTH_SQL_AUDIT_LIST, &st) != 0)
        goto out;
    store_bind_int(st, 1, before_id > 0 ? before_id : INT64_MAX);
    store_bind_int(st, 2, limit);
    while ((rc = store_step(st)) == STORE_ROW)
        json_array_append_new(arr, audit_row_json(st));
    store_reset(st);
    rc = rc == STORE_DONE ? 0 : OC_EDB;
out:
    store_unlock(s);
    if (rc)
        json_decref(arr);
    else
        *out = arr;
    return rc;
}
