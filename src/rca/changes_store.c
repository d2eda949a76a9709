/*
 * changes_store.c - recorded changes (deploys, config changes, flag flips) in the store, and
 * their ranking against an onset as JSON for the API and the incident capability.
 */
#include "rca/rca.h"
#include "rca/sql.h"

#include "core/alloc.h"
#include "core/err.h"
#include "store/store.h"

#include <stdlib.h>
#include <string.h>

int rca_change_add(struct store *s, const struct rca_change *c, const char *actor, int64_t now_ms,
                   int64_t *id)
{
    struct store_stmt *st;
    store_lock(s);
    int rc = store_prepare(s, RCA_SQL_CHANGE_INSERT, &st);
    if (rc == 0) {
        STORE_BIND(st, STORE_INT(c->time), STORE_TEXT(c->service), STORE_TEXT(c->kind),
                   STORE_TEXT(c->description ? c->description : ""), STORE_TEXT(c->version),
                   STORE_TEXT(actor ? actor : ""), STORE_INT(now_ms));
        rc = store_step(st) == STORE_DONE ? 0 : OC_EDB;
        store_reset(st);
        if (rc == 0 && id)
            *id = store_last_id(s);
    }
    store_unlock(s);
    return rc;
}

static json_t *row_json(struct store_stmt *st)
{
    const char *version = store_col_text(st, 5);
    return json_pack("{s:I, s:I, s:s, s:s, s:s, s:o, s:s}", "id", (json_int_t)store_col_int(st, 0),
                     "time", (json_int_t)store_col_int(st, 1), "service", store_col_text(st, 2),
                     "kind", store_col_text(st, 3), "description", store_col_text(st, 4), "version",
                     version ? json_string(version) : json_null(), "actor", store_col_text(st, 6));
}

json_t *rca_changes_list(struct store *s, int64_t since, int64_t until, const char *service,
                         int limit)
{
    struct store_stmt *st;
    json_t *out = NULL;
    store_lock(s);
    if (store_prepare(s, RCA_SQL_CHANGE_LIST, &st) != 0)
        goto out;
    STORE_BIND(st, STORE_INT(since), STORE_INT(until), STORE_TEXT(service), STORE_INT(limit));
    out = json_array();
    int rc;
    while ((rc = store_step(st)) == STORE_ROW)
        json_array_append_new(out, row_json(st));
    store_reset(st);
    if (rc != STORE_DONE) {
        json_decref(out);
        out = NULL;
    }
out:
    store_unlock(s);
    return out;
}

json_t *rca_changes_ranked(struct store *s, int64_t onset, const char *service)
{
    json_t *list =
        rca_changes_list(s, onset - RCA_CHANGE_WINDOW_S, onset + 60, NULL, RCA_MAX_CHANGES);
    if (!list)
        return NULL;
    size_t n = json_array_size(list);
    struct rca_change *ch = oc_calloc(n ? n : 1, sizeof(*ch));
    struct rca_change_score *sc = oc_calloc(n ? n : 1, sizeof(*sc));
    for (size_t i = 0; i < n; i++) {
        const json_t *c = json_array_get(list, i);
        ch[i].time = (int64_t)json_integer_value(json_object_get(c, "time"));
        ch[i].service = json_string_value(json_object_get(c, "service"));
        ch[i].kind = json_string_value(json_object_get(c, "kind"));
    }
    size_t k = rca_changes_rank(ch, n, onset, service, sc);
    json_t *out = json_array();
    for (size_t i = 0; i < k; i++) {
        json_t *c = json_deep_copy(json_array_get(list, sc[i].index));
        json_object_set_new(c, "score", json_real(sc[i].score));
        json_object_set_new(c, "lead_s", json_integer((json_int_t)sc[i].lead_s));
        json_array_append_new(out, c);
    }
    free(ch);
    free(sc);
    json_decref(list);
    return out;
}
