/*
 * action.c - support actions (grant, revoke, extend) run by the committer in the same
 * transaction as their audit row and their Idempotency-Key answer, so a replayed key answers
 * exactly what the first request was answered, even after a crash.
 *
 * A grant creates or reactivates one subscription ("manual-ACCOUNT" unless one is named); a
 * revoke and an extend apply to the named subscription or every subscription of the account.
 * An action is an event of the "manual" provider at the receive time: it goes through the
 * same ordering rule as provider events.
 */
#include "billing/billing_int.h"
#include "billing/sql.h"
#include "core/alloc.h"
#include "core/err.h"
#include "store/store.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const kind_names[] = {"", "grant", "revoke", "extend", "repair"};

/* The subscriptions an action targets (as the batch sees them) into out (cap entries): their
 * count. A grant without a subscription targets "manual-ACCOUNT", which may not exist yet
 * (then out[0] is NULL and *new_id holds its id). */
static int targets(struct billing_mod *m, struct billing_overlay *ov,
                   const struct billing_action *a, const struct billing_sub **out, int cap,
                   char *new_id)
{
    new_id[0] = '\0';
    int creates = a->kind == BILLING_GRANT || a->kind == BILLING_REPAIR;
    if (a->subscription[0] || creates) {
        if (a->subscription[0])
            snprintf(new_id, BILLING_ID_MAX + 1, "%s", a->subscription);
        else
            snprintf(new_id, BILLING_ID_MAX + 1, "manual-%.120s", a->account);
        out[0] = billing_ov_get(m, ov, new_id);
        return out[0] || creates ? 1 : 0;
    }
    const struct billing_account *acc = bmap_get(&m->table.accounts, a->account);
    int n = 0;
    for (size_t i = 0; acc && i < acc->n && n < cap; i++)
        out[n++] = billing_ov_get(m, ov, acc->subs[i]->id);
    return n;
}

/* A repair: the provider's state and period end, whatever the ordering key (the provider's
 * current state is newer than every event), on cur or a new subscription of e. Changed: 1. */
static int repair(const struct billing_op *op, const struct billing_sub *cur,
                  const struct billing_event *e, struct billing_sub *next)
{
    if (cur) {
        *next = *cur;
        if (op->act.move && strcmp(cur->account, op->act.account) != 0) {
            memcpy(next->account, op->act.account, sizeof next->account);
            next->last_ms = e->event_ms > next->last_ms ? e->event_ms : next->last_ms;
            snprintf(next->last_event, sizeof next->last_event, "%s", e->id);
            next->updated_ms = op->recv_ms;
            if (cur->state == op->act.state)
                return 1; /* moved, same state */
        }
    } else {
        memset(next, 0, sizeof *next);
        memcpy(next->id, e->subscription, sizeof next->id);
        memcpy(next->account, e->account, sizeof next->account);
        next->provider = op->act.provider;
    }
    if (cur && cur->state == op->act.state &&
        (!e->period_end_ms || cur->period_end_ms == e->period_end_ms))
        return 0;
    next->state = op->act.state;
    if (e->period_end_ms)
        next->period_end_ms = e->period_end_ms;
    next->last_ms = e->event_ms > next->last_ms ? e->event_ms : next->last_ms;
    next->last_tie = e->rule ? e->rule->tie : 2;
    snprintf(next->last_event, sizeof next->last_event, "%s", e->id);
    next->updated_ms = op->recv_ms;
    return 1;
}

/* Applies the action to one subscription cur (NULL: a grant's new one, id new_id) into next:
 * 1 when it changed it, 0 when stale. */
static int apply(const struct billing_op *op, const struct billing_sub *cur, const char *new_id,
                 struct billing_sub *next)
{
    const struct billing_action *a = &op->act;
    struct billing_event e;
    memset(&e, 0, sizeof e);
    e.provider = BILLING_MANUAL;
    if (a->key[0])
        snprintf(e.id, sizeof e.id, "action:%.120s", a->key);
    else
        snprintf(e.id, sizeof e.id, "reconcile:%.110s", a->subscription);
    snprintf(e.type, sizeof e.type, "%s", kind_names[a->kind]);
    snprintf(e.subscription, sizeof e.subscription, "%s", cur ? cur->id : new_id);
    snprintf(e.account, sizeof e.account, "%s", a->account);
    e.event_ms = op->recv_ms;
    e.period_end_ms = a->until_ms;
    e.rule = billing_rule_find(BILLING_MANUAL, kind_names[a->kind]);
    if (a->kind == BILLING_REPAIR)
        return repair(op, cur, &e, next);
    if (a->kind != BILLING_EXTEND)
        return billing_decide(cur, &e, op->recv_ms, next) == BILLING_APPLIED;
    *next = *cur;
    if (cur->last_ms > e.event_ms || (cur->last_ms == e.event_ms && cur->last_tie > e.rule->tie))
        return 0;
    next->period_end_ms = a->until_ms;
    if (next->state == BILLING_EXPIRED)
        next->state = BILLING_CANCELED;
    next->last_ms = e.event_ms;
    next->last_tie = e.rule->tie;
    snprintf(next->last_event, sizeof next->last_event, "%s", e.id);
    next->updated_ms = op->recv_ms;
    return 1;
}

int billing_write_idem(struct store *st, const struct billing_op *op)
{
    struct store_stmt *q;
    if (!op->act.key[0]) /* a repair: no key */
        return 0;
    int rc = store_prepare(st, BILLING_SQL_IDEM_PUT, &q);
    if (!rc)
        rc = STORE_BIND(q, STORE_TEXT(op->act.key), STORE_BLOB(op->act.fingerprint, 32),
                        STORE_INT((int64_t)op->status), STORE_TEXT(op->answer),
                        STORE_INT(op->recv_ms));
    if (!rc && store_step(q) != STORE_DONE)
        rc = OC_EDB;
    if (q)
        store_reset(q);
    return rc;
}

/* The answer of an applied action: the changes and the account's verdict after them. */
static char *answer_text(struct billing_mod *m, struct billing_overlay *ov,
                         const struct billing_op *op, json_t *changes)
{
    const struct billing_sub *subs[BILLING_SUBS_PER_ACCOUNT + 1];
    const struct billing_account *acc = bmap_get(&m->table.accounts, op->act.account);
    struct billing_verdict v;
    int n = 0;
    for (size_t i = 0; acc && i < acc->n && n < BILLING_SUBS_PER_ACCOUNT; i++)
        subs[n++] = billing_ov_get(m, ov, acc->subs[i]->id);
    for (size_t i = 0; i < ov->n; i++) /* subscriptions this batch created for the account */
        if (strcmp(ov->v[i]->account, op->act.account) == 0 &&
            !bmap_get(&m->table.subs, ov->v[i]->id) && n <= BILLING_SUBS_PER_ACCOUNT)
            subs[n++] = ov->v[i];
    billing_verdict(subs, n, NULL, op->recv_ms, &v);
    json_t *a = json_pack("{s:s,s:s,s:O,s:b,s:s,s:s}", "account", op->act.account, "action",
                          kind_names[op->act.kind], "changes", changes, "allowed", v.allowed,
                          "state", billing_state_names[v.state], "reason", v.reason);
    char *text = json_dumps(a, JSON_COMPACT);
    json_decref(a);
    return text;
}

/* Runs the action on its targets, filling changes: 0, OC_ENOTFOUND (no target), OC_ECONFLICT
 * (the named subscription is another account's), OC_ETOOBIG or OC_EDB. */
static int run_targets(struct billing_mod *m, struct billing_overlay *ov, struct billing_op *op,
                       json_t *changes)
{
    const struct billing_sub *t[BILLING_SUBS_PER_ACCOUNT];
    char new_id[BILLING_ID_MAX + 1];
    struct billing_sub next;
    int n = targets(m, ov, &op->act, t, BILLING_SUBS_PER_ACCOUNT, new_id);
    if (n == 0)
        return OC_ENOTFOUND;
    for (int i = 0; i < n; i++) {
        if (t[i] && strcmp(t[i]->account, op->act.account) != 0 && !op->act.move)
            return OC_ECONFLICT;
        if (!t[i] && op->act.kind != BILLING_GRANT && op->act.kind != BILLING_REPAIR)
            return OC_ENOTFOUND;
        if (!apply(op, t[i], new_id, &next))
            continue;
        int rc = billing_ov_put(m, ov, &next);
        if (!rc)
            rc = billing_write_sub(m->app->store, &next);
        if (rc)
            return rc;
        json_array_append_new(changes,
                              json_pack("{s:s,s:s,s:s}", "subscription", next.id, "from",
                                        billing_state_names[t[i] ? t[i]->state : BILLING_NONE],
                                        "to", billing_state_names[next.state]));
    }
    return 0;
}

int billing_run_action(struct billing_mod *m, struct billing_overlay *ov, struct billing_op *op)
{
    json_t *changes = json_array();
    char *detail = NULL;
    int rc = run_targets(m, ov, op, changes);
    if (rc == OC_ENOTFOUND || rc == OC_ECONFLICT || rc == OC_ETOOBIG) {
        op->status = rc == OC_ENOTFOUND ? 404 : rc == OC_ECONFLICT ? 409 : 503;
        op->answer = oc_strdup(rc == OC_ENOTFOUND   ? "the account has no such subscription"
                               : rc == OC_ECONFLICT ? "the subscription belongs to another account"
                                                    : "the subscription table is full");
        rc = op->status == 503 ? 0 : billing_write_idem(m->app->store, op);
        json_decref(changes);
        return rc;
    }
    if (!rc) {
        json_t *d = json_pack("{s:s,s:s,s:s,s:s,s:I,s:O}", "action", kind_names[op->act.kind],
                              "key", op->act.key, "actor", op->act.actor, "reason", op->act.reason,
                              "until_ms", (json_int_t)op->act.until_ms, "changes", changes);
        detail = json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS);
        json_decref(d);
        rc = billing_write_audit(m, op->recv_ms, "action", op->act.account, op->act.subscription,
                                 detail);
    }
    if (!rc) {
        op->status = 200;
        op->answer = answer_text(m, ov, op, changes);
        rc = billing_write_idem(m->app->store, op);
        atomic_fetch_add(&m->st.actions, 1);
    }
    free(detail);
    json_decref(changes);
    return rc;
}
