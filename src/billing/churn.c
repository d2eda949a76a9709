/*
 * churn.c - the cancellations recorded in the billing audit, for the business-impact reports
 * of other capabilities (tickets' churn after incidents): every subscription change to
 * canceled, at the provider's event time.
 *
 * The audit rows that mention "canceled" are read in id order and their JSON detail is
 * examined here (not with SQLite's json_each), so the same code runs on PostgreSQL.
 */
#include "billing/billing.h"
#include "billing/sql.h"
#include "core/alloc.h"
#include "core/err.h"
#include "store/store.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

struct cancel {
    char *account; /* owned */
    int64_t at_ms; /* the event's time (detail.event_ms), else the row's */
    int64_t id;    /* the audit row: ties keep id order */
};

static int by_time(const void *a, const void *b)
{
    const struct cancel *x = a, *y = b;
    if (x->at_ms != y->at_ms)
        return x->at_ms < y->at_ms ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

/* The number of changes to canceled in detail (an array or object of {"to": ...}). */
static int canceled_changes(const json_t *detail)
{
    const json_t *changes = json_object_get(detail, "changes"), *c;
    const char *key;
    size_t i;
    int n = 0;
    if (json_is_array(changes)) {
        json_array_foreach(changes, i, c)
        {
            const char *to = json_string_value(json_object_get(c, "to"));
            n += to && strcmp(to, "canceled") == 0;
        }
    } else if (json_is_object(changes)) {
        json_object_foreach((json_t *)changes, key, c)
        {
            const char *to = json_string_value(json_object_get(c, "to"));
            n += to && strcmp(to, "canceled") == 0;
        }
    }
    return n;
}

int billing_cancellations(struct store *s, int64_t from_ms, int64_t to_ms,
                          void (*fn)(const char *account, int64_t at_ms, void *arg), void *arg)
{
    struct store_stmt *q = NULL;
    struct cancel *v = NULL;
    size_t n = 0, cap = 0;
    int rc = OC_EDB, r = STORE_DONE;
    store_lock(s);
    if (store_prepare(s, BILLING_SQL_CANCELLATIONS, &q) == 0) {
        while ((r = store_step(q)) == STORE_ROW) {
            const char *d = store_col_text(q, 3), *a = store_col_text(q, 1);
            json_t *detail = d ? json_loads(d, 0, NULL) : NULL;
            const json_t *ev = json_object_get(detail, "event_ms");
            int64_t at = json_is_number(ev) ? (int64_t)json_number_value(ev) : store_col_int(q, 2);
            int k = canceled_changes(detail);
            json_decref(detail);
            for (; k > 0 && at >= from_ms && at < to_ms; k--) {
                if (n == cap) {
                    cap = cap ? cap * 2 : 64;
                    v = oc_realloc(v, cap * sizeof *v);
                }
                v[n++] = (struct cancel){oc_strdup(a ? a : ""), at, store_col_int(q, 0)};
            }
        }
        if (r == STORE_DONE)
            rc = 0;
    }
    if (q)
        store_reset(q);
    store_unlock(s);
    if (n)
        qsort(v, n, sizeof *v, by_time);
    for (size_t i = 0; i < n; i++) {
        if (rc == 0)
            fn(v[i].account, v[i].at_ms, arg);
        free(v[i].account);
    }
    free(v);
    return rc;
}
