/*
 * tally.c - refused webhook deliveries and duplicate deliveries in the audit chain, at a
 * bounded rate: each is counted in a bucket per provider, reason and minute of the injected
 * clock, and a bucket becomes one audit row (kind "refused" or "duplicate", account
 * "webhooks:PROVIDER") once its minute has passed, or when the committer stops. A flood of
 * forged deliveries writes at most one row per provider and reason a minute.
 *
 * A row names the provider, the reason, the minute, the count, the first and last delivery's
 * time and up to BILLING_TALLY_IDS event ids as the delivery stated them (an unverified
 * delivery's id is only what it claims); never a key, a signature or the body.
 */
#include "billing/billing_int.h"
#include "core/alloc.h"
#include "core/timefmt.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MINUTE_MS 60000

/* The reason labels of the buckets (enum billing_sig, 0 an unusable payload, then duplicate);
 * the same as the reason label of oncue_billing_refused_total. */
const char *const billing_tally_reasons[BILLING_TALLY_NREASONS] = {
    "payload", "missing", "malformed", "stale", "nomatch", "nokey", "chain", "duplicate",
};

/* Makes the detached operation that writes bucket b (provider p, reason r) as an audit row. */
static struct billing_op *row_op(enum billing_provider p, int r, const struct billing_tally *b,
                                 int64_t now_ms)
{
    struct billing_op *op = oc_calloc(1, sizeof *op);
    char minute[OC_TIME_LEN];
    json_t *ids = json_array();
    oc_time_format(b->minute_ms, minute, sizeof minute);
    for (int i = 0; i < b->nids; i++)
        json_array_append_new(ids, json_string(b->ids[i]));
    json_t *d =
        json_pack("{s:s,s:s,s:s,s:I,s:I,s:I,s:o,s:I}", "provider", billing_provider_names[p],
                  "reason", billing_tally_reasons[r], "minute", minute, "count",
                  (json_int_t)b->count, "first_ms", (json_int_t)b->first_ms, "last_ms",
                  (json_int_t)b->last_ms, "ids", ids, "ids_more", (json_int_t)b->more);
    op->kind = BILLING_OP_TALLY;
    op->detached = 1;
    op->payload = json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS);
    op->plen = strlen(op->payload);
    json_decref(d);
    snprintf(op->act.reason, sizeof op->act.reason, "%s",
             r == BILLING_TALLY_DUP ? "duplicate" : "refused");
    snprintf(op->act.account, sizeof op->act.account, "webhooks:%s", billing_provider_names[p]);
    op->recv_ms = now_ms;
    return op;
}

/* Appends the row of bucket (p, r) to *list and empties it. Under m->tmu. */
static void take(struct billing_mod *m, int p, int r, int64_t now_ms, struct billing_op **list)
{
    struct billing_tally *b = &m->tally[p][r];
    struct billing_op *op = row_op((enum billing_provider)p, r, b, now_ms);
    op->next = *list;
    *list = op;
    memset(b, 0, sizeof *b);
}

void billing_tally_add(struct billing_mod *m, enum billing_provider p, int reason, const char *id,
                       int64_t now_ms)
{
    struct billing_op *closed = NULL;
    int64_t minute = now_ms - now_ms % MINUTE_MS;
    if ((int)p < 0 || p >= BILLING_MANUAL || reason < 0 || reason >= BILLING_TALLY_NREASONS)
        return;
    pthread_mutex_lock(&m->tmu);
    struct billing_tally *b = &m->tally[p][reason];
    if (b->count && b->minute_ms != minute)
        take(m, (int)p, reason, now_ms, &closed);
    if (!b->count) {
        b->minute_ms = minute;
        b->first_ms = now_ms;
    }
    b->count++;
    b->last_ms = now_ms;
    if (id && billing_id_valid(id, BILLING_ID_MAX)) {
        int known = 0;
        for (int i = 0; i < b->nids && !known; i++)
            known = strcmp(b->ids[i], id) == 0;
        if (!known && b->nids < BILLING_TALLY_IDS)
            memcpy(b->ids[b->nids++], id, strlen(id) + 1);
        else if (!known)
            b->more++;
    }
    pthread_mutex_unlock(&m->tmu);
    if (closed)
        billing_submit(m, closed); /* detached: the committer writes and frees it */
}

struct billing_op *billing_tally_take(struct billing_mod *m, int64_t now_ms, int all)
{
    struct billing_op *list = NULL;
    int64_t minute = now_ms - now_ms % MINUTE_MS;
    pthread_mutex_lock(&m->tmu);
    for (int p = 0; p < BILLING_MANUAL; p++)
        for (int r = 0; r < BILLING_TALLY_NREASONS; r++)
            if (m->tally[p][r].count && (all || m->tally[p][r].minute_ms < minute))
                take(m, p, r, now_ms, &list);
    pthread_mutex_unlock(&m->tmu);
    return list;
}

int billing_run_tally(struct billing_mod *m, struct billing_op *op)
{
    int rc = billing_write_audit(m, op->recv_ms, op->act.reason, op->act.account, "", op->payload);
    if (!rc)
        op->status = 200;
    return rc;
}
