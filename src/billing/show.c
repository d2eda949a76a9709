/*
 * show.c - the account view for support: an account's subscriptions as stored, its
 * entitlement verdict now, and its latest audit rows (received events with their decisions,
 * support actions). Read from the store, so the CLI shows it without a running server. Also
 * the pruning of event ids and Idempotency-Key answers, in chunks.
 */
#include "billing/billing_int.h"
#include "billing/sql.h"
#include "core/err.h"
#include "core/timefmt.h"
#include "store/store.h"

#include <jansson.h>
#include <string.h>

#define PRUNE_CHUNK  20000 /* rows deleted under one hold of the store's lock */
#define PRUNE_CHUNKS 100   /* chunks per table per run (2,000,000 rows a minute) */

/* The subscriptions of account into arr and subs (up to BILLING_SUBS_PER_ACCOUNT). */
static int read_subs(struct store *s, const char *account, json_t *arr, struct billing_sub *subs,
                     int *n)
{
    struct store_stmt *q;
    int rc = store_prepare(s, BILLING_SQL_SUB_OF, &q), r = STORE_DONE;
    *n = 0;
    if (rc)
        return rc;
    if (STORE_BIND(q, STORE_TEXT(account)) != 0)
        rc = OC_EDB;
    while (!rc && (r = store_step(q)) == STORE_ROW && *n < BILLING_SUBS_PER_ACCOUNT) {
        struct billing_sub *b = &subs[(*n)++];
        char end[OC_TIME_LEN] = "";
        billing_sub_read(q, b);
        if (b->period_end_ms)
            oc_time_format(b->period_end_ms, end, sizeof end);
        json_array_append_new(arr,
                              json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:I}", "id", b->id,
                                        "provider", billing_provider_names[b->provider], "state",
                                        billing_state_names[b->state], "period_end", end, "regions",
                                        b->regions, "plan", b->plan, "last_event", b->last_event,
                                        "last_event_ms", (json_int_t)b->last_ms));
    }
    if (r < 0)
        rc = OC_EDB;
    store_reset(q);
    return rc;
}

/* The latest limit audit rows of account into arr, newest first. */
static int read_audit(struct store *s, const char *account, int limit, json_t *arr)
{
    struct store_stmt *q;
    int rc = store_prepare(s, BILLING_SQL_AUDIT_OF, &q), r = STORE_DONE;
    if (rc)
        return rc;
    if (STORE_BIND(q, STORE_TEXT(account), STORE_INT((int64_t)limit)) != 0)
        rc = OC_EDB;
    while (!rc && (r = store_step(q)) == STORE_ROW) {
        const char *d = store_col_text(q, 4);
        json_t *detail = d ? json_loads(d, 0, NULL) : NULL;
        json_array_append_new(
            arr, json_pack("{s:I,s:I,s:s,s:s,s:o}", "id", (json_int_t)store_col_int(q, 0), "ts_ms",
                           (json_int_t)store_col_int(q, 1), "kind",
                           store_col_text(q, 2) ? store_col_text(q, 2) : "", "subscription",
                           store_col_text(q, 3) ? store_col_text(q, 3) : "", "detail",
                           detail ? detail : json_null()));
    }
    if (r < 0)
        rc = OC_EDB;
    store_reset(q);
    return rc;
}

int billing_account_json(struct store *s, const char *account, int64_t now_ms, int limit,
                         json_t **out)
{
    struct billing_sub subs[BILLING_SUBS_PER_ACCOUNT];
    const struct billing_sub *p[BILLING_SUBS_PER_ACCOUNT];
    json_t *arr = json_array(), *audit = json_array();
    struct billing_verdict v;
    int n = 0;
    *out = NULL;
    store_lock(s);
    int rc = read_subs(s, account, arr, subs, &n);
    if (!rc)
        rc = read_audit(s, account, limit, audit);
    for (int i = 0; i < n; i++)
        p[i] = &subs[i];
    billing_verdict(p, n, NULL, now_ms, &v);
    store_unlock(s);
    if (rc) {
        json_decref(arr);
        json_decref(audit);
        return rc;
    }
    *out = json_pack("{s:s,s:b,s:s,s:s,s:o,s:o}", "account", account, "allowed", v.allowed, "state",
                     billing_state_names[v.state], "reason", v.reason, "subscriptions", arr,
                     "audit", audit);
    return 0;
}

/* Deletes up to PRUNE_CHUNK rows of sql older than before: how many, or OC_EDB. The store's
 * lock is held for one chunk only, so the committer waits at most that long. */
static int64_t prune_chunk(struct store *s, const char *sql, int64_t before)
{
    struct store_stmt *q;
    int64_t n = OC_EDB;
    store_lock(s);
    if (store_prepare(s, sql, &q) == 0) {
        if (STORE_BIND(q, STORE_INT(before), STORE_INT(PRUNE_CHUNK)) == 0 &&
            store_step(q) == STORE_DONE)
            n = store_changes(s);
        store_reset(q);
    }
    store_unlock(s);
    return n;
}

int billing_prune(struct store *s, int64_t events_before, int64_t idem_before, int64_t *deleted)
{
    const char *sql[2] = {BILLING_SQL_EVENT_PRUNE, BILLING_SQL_IDEM_PRUNE};
    int64_t before[2] = {events_before, idem_before};
    *deleted = 0;
    for (int i = 0; i < 2; i++)
        for (int k = 0; k < PRUNE_CHUNKS; k++) {
            int64_t n = prune_chunk(s, sql[i], before[i]);
            if (n < 0)
                return OC_EDB;
            *deleted += n;
            if (n < PRUNE_CHUNK)
                break;
        }
    return 0;
}
