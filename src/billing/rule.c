/*
 * rule.c - the one entitlement state machine: the table mapping each provider's event types to
 * a state (also the documentation, billing_rules_doc), the ordering rule that decides whether
 * an event applies, and the entitlement verdict of the playback path.
 *
 * Every event sets a state outright (never relative to the current one), so applying the
 * events of a subscription in any order with the ordering rule converges on the state of the
 * greatest (event time, tie rank, event id): the storm's ground truth.
 */
#include "billing/billing.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/timefmt.h"

#include <stdio.h>
#include <string.h>

const char *const billing_state_names[] = {"none",   "trialing", "active",  "past_due", "grace",
                                           "paused", "canceled", "expired", "revoked"};
const char *const billing_provider_names[] = {"stripe", "standard", "apple", "google", "manual"};
const char *const billing_decision_names[] = {"applied", "stale", "recorded"};

/* Tie ranks: among events of one subscription with the same event time, the higher wins. A
 * creation is the earliest thing of its second; an end beats a renewal; a refund or
 * revocation beats everything. */
#define TIE_CREATE 0
#define TIE_CHANGE 1
#define TIE_END    2
#define TIE_REVOKE 3

// clang-format off
const struct billing_rule billing_rules[] = {
    {BILLING_STRIPE, "customer.subscription.created", BILLING_STATUS, BILLING_NONE, TIE_CREATE,
     "the subscription's status (see the status map)"},
    {BILLING_STRIPE, "customer.subscription.updated", BILLING_STATUS, BILLING_NONE, TIE_CHANGE,
     "the subscription's status; cancel_at_period_end gives canceled"},
    {BILLING_STRIPE, "customer.subscription.paused", BILLING_SET, BILLING_PAUSED, TIE_CHANGE,
     "paused"},
    {BILLING_STRIPE, "customer.subscription.resumed", BILLING_STATUS, BILLING_NONE, TIE_CHANGE,
     "the subscription's status"},
    {BILLING_STRIPE, "customer.subscription.deleted", BILLING_SET, BILLING_EXPIRED, TIE_END,
     "the subscription ended"},
    {BILLING_STRIPE, "customer.subscription.trial_will_end", BILLING_RECORD, BILLING_NONE,
     TIE_CHANGE, "recorded only"},
    {BILLING_STRIPE, "invoice.paid", BILLING_SET, BILLING_ACTIVE, TIE_CHANGE,
     "a renewal (or the first payment) succeeded"},
    {BILLING_STRIPE, "invoice.payment_succeeded", BILLING_SET, BILLING_ACTIVE, TIE_CHANGE,
     "as invoice.paid"},
    {BILLING_STRIPE, "invoice.payment_failed", BILLING_SET, BILLING_PAST_DUE, TIE_CHANGE,
     "a renewal failed; Stripe retries"},
    {BILLING_STRIPE, "charge.refunded", BILLING_REVOKE, BILLING_REVOKED, TIE_REVOKE,
     "refunded: access revoked"},
    {BILLING_STRIPE, "charge.dispute.created", BILLING_REVOKE, BILLING_REVOKED, TIE_REVOKE,
     "disputed (chargeback): access revoked"},
    {BILLING_STANDARD, "subscription.trial_started", BILLING_SET, BILLING_TRIALING, TIE_CREATE,
     "a trial began"},
    {BILLING_STANDARD, "subscription.activated", BILLING_SET, BILLING_ACTIVE, TIE_CREATE,
     "a paid subscription began"},
    {BILLING_STANDARD, "subscription.renewed", BILLING_SET, BILLING_ACTIVE, TIE_CHANGE,
     "a renewal succeeded"},
    {BILLING_STANDARD, "subscription.payment_failed", BILLING_SET, BILLING_PAST_DUE, TIE_CHANGE,
     "a renewal failed; the provider retries"},
    {BILLING_STANDARD, "subscription.grace_started", BILLING_SET, BILLING_GRACE, TIE_CHANGE,
     "grace period: access until period_end"},
    {BILLING_STANDARD, "subscription.paused", BILLING_SET, BILLING_PAUSED, TIE_CHANGE, "paused"},
    {BILLING_STANDARD, "subscription.resumed", BILLING_SET, BILLING_ACTIVE, TIE_CHANGE,
     "resumed"},
    {BILLING_STANDARD, "subscription.canceled", BILLING_SET, BILLING_CANCELED, TIE_CHANGE,
     "canceled: access until period_end"},
    {BILLING_STANDARD, "subscription.expired", BILLING_SET, BILLING_EXPIRED, TIE_END, "ended"},
    {BILLING_STANDARD, "subscription.refunded", BILLING_REVOKE, BILLING_REVOKED, TIE_REVOKE,
     "refunded: access revoked"},
    {BILLING_STANDARD, "subscription.revoked", BILLING_REVOKE, BILLING_REVOKED, TIE_REVOKE,
     "revoked (chargeback, fraud)"},
    {BILLING_APPLE, "SUBSCRIBED", BILLING_SET, BILLING_ACTIVE, TIE_CREATE,
     "a purchase or resubscription"},
    {BILLING_APPLE, "DID_RENEW", BILLING_SET, BILLING_ACTIVE, TIE_CHANGE, "a renewal succeeded"},
    {BILLING_APPLE, "DID_FAIL_TO_RENEW", BILLING_SET, BILLING_PAST_DUE, TIE_CHANGE,
     "a renewal failed; Apple retries"},
    {BILLING_APPLE, "DID_FAIL_TO_RENEW/GRACE_PERIOD", BILLING_SET, BILLING_GRACE, TIE_CHANGE,
     "a renewal failed within the billing grace period"},
    {BILLING_APPLE, "DID_CHANGE_RENEWAL_STATUS/AUTO_RENEW_DISABLED", BILLING_SET,
     BILLING_CANCELED, TIE_CHANGE, "renewal turned off: access until expiresDate"},
    {BILLING_APPLE, "DID_CHANGE_RENEWAL_STATUS/AUTO_RENEW_ENABLED", BILLING_SET, BILLING_ACTIVE,
     TIE_CHANGE, "renewal turned back on"},
    {BILLING_APPLE, "GRACE_PERIOD_EXPIRED", BILLING_SET, BILLING_EXPIRED, TIE_END,
     "the grace period ended unpaid"},
    {BILLING_APPLE, "EXPIRED", BILLING_SET, BILLING_EXPIRED, TIE_END, "ended"},
    {BILLING_APPLE, "REFUND", BILLING_REVOKE, BILLING_REVOKED, TIE_REVOKE, "refunded"},
    {BILLING_APPLE, "REVOKE", BILLING_REVOKE, BILLING_REVOKED, TIE_REVOKE,
     "Family Sharing access revoked"},
    {BILLING_GOOGLE, "SUBSCRIPTION_PURCHASED", BILLING_SET, BILLING_ACTIVE, TIE_CREATE,
     "notificationType 4"},
    {BILLING_GOOGLE, "SUBSCRIPTION_RENEWED", BILLING_SET, BILLING_ACTIVE, TIE_CHANGE,
     "notificationType 2"},
    {BILLING_GOOGLE, "SUBSCRIPTION_RECOVERED", BILLING_SET, BILLING_ACTIVE, TIE_CHANGE,
     "notificationType 1: recovered from account hold"},
    {BILLING_GOOGLE, "SUBSCRIPTION_RESTARTED", BILLING_SET, BILLING_ACTIVE, TIE_CHANGE,
     "notificationType 7: renewal turned back on"},
    {BILLING_GOOGLE, "SUBSCRIPTION_IN_GRACE_PERIOD", BILLING_SET, BILLING_GRACE, TIE_CHANGE,
     "notificationType 6"},
    {BILLING_GOOGLE, "SUBSCRIPTION_ON_HOLD", BILLING_SET, BILLING_PAUSED, TIE_CHANGE,
     "notificationType 5: account hold, no access"},
    {BILLING_GOOGLE, "SUBSCRIPTION_PAUSED", BILLING_SET, BILLING_PAUSED, TIE_CHANGE,
     "notificationType 10"},
    {BILLING_GOOGLE, "SUBSCRIPTION_CANCELED", BILLING_SET, BILLING_CANCELED, TIE_CHANGE,
     "notificationType 3: access until the period end"},
    {BILLING_GOOGLE, "SUBSCRIPTION_EXPIRED", BILLING_SET, BILLING_EXPIRED, TIE_END,
     "notificationType 13"},
    {BILLING_GOOGLE, "SUBSCRIPTION_REVOKED", BILLING_REVOKE, BILLING_REVOKED, TIE_REVOKE,
     "notificationType 12: refunded or revoked"},
    {BILLING_MANUAL, "grant", BILLING_SET, BILLING_ACTIVE, TIE_END,
     "support action: active until `until` (or open-ended)"},
    {BILLING_MANUAL, "revoke", BILLING_REVOKE, BILLING_REVOKED, TIE_REVOKE,
     "support action: revoked"},
    {BILLING_MANUAL, "extend", BILLING_RECORD, BILLING_NONE, TIE_END,
     "support action: the period end moves to `until`; expired becomes canceled"},
    {BILLING_MANUAL, "repair", BILLING_RECORD, BILLING_NONE, TIE_END,
     "reconciliation: the provider's current state and period end, audited"},
    {0},
};
// clang-format on

/* Stripe's subscription statuses and the state each maps to (canceled: see
 * billing_stripe_status). */
static const struct {
    const char *status;
    enum billing_state state;
} stripe_status[] = {
    {"trialing", BILLING_TRIALING},
    {"active", BILLING_ACTIVE},
    {"past_due", BILLING_PAST_DUE},
    {"unpaid", BILLING_EXPIRED},
    {"paused", BILLING_PAUSED},
    {"incomplete", BILLING_EXPIRED},
    {"incomplete_expired", BILLING_EXPIRED},
    {"canceled", BILLING_CANCELED},
    {NULL, BILLING_NONE},
};

int billing_state_parse(const char *s, enum billing_state *out)
{
    for (int i = 0; i < BILLING_NSTATES; i++)
        if (strcmp(s, billing_state_names[i]) == 0) {
            *out = (enum billing_state)i;
            return 0;
        }
    return OC_EINVAL;
}

const struct billing_rule *billing_rule_find(enum billing_provider p, const char *type)
{
    for (const struct billing_rule *r = billing_rules; r->type; r++)
        if (r->provider == p && strcmp(r->type, type) == 0)
            return r;
    return NULL;
}

int billing_stripe_status(const char *status, int cancel_at_period_end, int64_t period_end_ms,
                          int64_t event_ms, enum billing_state *out)
{
    int i = 0;
    while (stripe_status[i].status && strcmp(stripe_status[i].status, status) != 0)
        i++;
    if (!stripe_status[i].status)
        return OC_EINVAL;
    enum billing_state s = stripe_status[i].state;
    if (cancel_at_period_end && (s == BILLING_ACTIVE || s == BILLING_TRIALING))
        s = BILLING_CANCELED;
    if (s == BILLING_CANCELED && (period_end_ms == 0 || period_end_ms <= event_ms))
        s = BILLING_EXPIRED;
    *out = s;
    return 0;
}

/* -1, 0 or 1 as the key (ms, tie, id) of a is below, equal to or above b's. */
static int key_cmp(int64_t ams, int atie, const char *aid, int64_t bms, int btie, const char *bid)
{
    if (ams != bms)
        return ams < bms ? -1 : 1;
    if (atie != btie)
        return atie < btie ? -1 : 1;
    int c = strcmp(aid, bid);
    return c < 0 ? -1 : c > 0;
}

/* The state event e sets (its rule's), or BILLING_NONE when it sets none. */
static enum billing_state target(const struct billing_event *e)
{
    enum billing_state s = BILLING_NONE;
    if (!e->rule || e->rule->effect == BILLING_RECORD)
        return BILLING_NONE;
    if (e->rule->effect != BILLING_STATUS)
        return e->rule->state;
    if (billing_stripe_status(e->status, e->cancel_at_period_end, e->period_end_ms, e->event_ms,
                              &s) != 0)
        return BILLING_NONE;
    return s;
}

enum billing_decision billing_decide(const struct billing_sub *cur, const struct billing_event *e,
                                     int64_t recv_ms, struct billing_sub *next)
{
    enum billing_state s = target(e);
    if (cur)
        *next = *cur;
    else {
        memset(next, 0, sizeof *next);
        memcpy(next->id, e->subscription, sizeof next->id);
        memcpy(next->account, e->account, sizeof next->account);
        next->provider = e->provider;
        next->last_ms = INT64_MIN;
        next->last_tie = -1;
    }
    if (s == BILLING_NONE)
        return BILLING_RECORDED;
    if (cur && key_cmp(e->event_ms, e->rule->tie, e->id, cur->last_ms, cur->last_tie,
                       cur->last_event) <= 0)
        return BILLING_STALE;
    next->state = s;
    if (e->period_end_ms)
        next->period_end_ms = e->period_end_ms;
    if (e->regions[0])
        memcpy(next->regions, e->regions, sizeof next->regions);
    if (e->plan[0])
        memcpy(next->plan, e->plan, sizeof next->plan);
    if (!next->account[0])
        memcpy(next->account, e->account, sizeof next->account);
    next->last_ms = e->event_ms;
    next->last_tie = e->rule->tie;
    memcpy(next->last_event, e->id, sizeof next->last_event);
    next->updated_ms = recv_ms;
    return BILLING_APPLIED;
}

/* The state of s at now_ms: canceled and grace past their period end are expired. */
static enum billing_state effective(const struct billing_sub *s, int64_t now_ms)
{
    if ((s->state == BILLING_CANCELED || s->state == BILLING_GRACE) && s->period_end_ms &&
        s->period_end_ms <= now_ms)
        return BILLING_EXPIRED;
    return s->state;
}

static int allows(enum billing_state s)
{
    return s == BILLING_TRIALING || s == BILLING_ACTIVE || s == BILLING_PAST_DUE ||
           s == BILLING_GRACE || s == BILLING_CANCELED;
}

/* 1 when the comma-separated list covers region ("" covers every region). */
static int covers(const char *list, const char *region)
{
    size_t rl = region ? strlen(region) : 0;
    if (!list[0] || rl == 0)
        return 1;
    for (const char *p = list; *p;) {
        size_t n = strcspn(p, ",");
        if (n == rl && strncasecmp(p, region, n) == 0)
            return 1;
        p += n + (p[n] == ',');
    }
    return 0;
}

/* The reason text of an answer about s in state st. */
static void reason_of(const struct billing_sub *s, enum billing_state st, char *out, size_t n)
{
    char until[OC_TIME_LEN] = "";
    if (s->period_end_ms)
        oc_time_format(s->period_end_ms, until, sizeof until);
    switch (st) {
    case BILLING_TRIALING:
        snprintf(out, n, "trial of %s", s->id);
        break;
    case BILLING_ACTIVE:
        snprintf(out, n, "subscription %s is active", s->id);
        break;
    case BILLING_PAST_DUE:
        snprintf(out, n, "a payment of %s failed; access kept while it is retried", s->id);
        break;
    case BILLING_GRACE:
    case BILLING_CANCELED:
        snprintf(out, n, "%s is %s; access until %s", s->id, billing_state_names[st],
                 until[0] ? until : "its period ends");
        break;
    default:
        snprintf(out, n, "subscription %s is %s", s->id, billing_state_names[st]);
    }
}

void billing_verdict(const struct billing_sub *const *subs, int n, const char *region,
                     int64_t now_ms, struct billing_verdict *out)
{
    const struct billing_sub *shown = NULL, *outside = NULL;
    memset(out, 0, sizeof *out);
    for (int i = 0; i < n; i++) {
        enum billing_state st = effective(subs[i], now_ms);
        if (allows(st) && covers(subs[i]->regions, region)) {
            out->allowed = 1;
            out->state = st;
            reason_of(subs[i], st, out->reason, sizeof out->reason);
            return;
        }
        if (allows(st))
            outside = subs[i];
        if (!shown || subs[i]->updated_ms > shown->updated_ms)
            shown = subs[i];
    }
    if (outside) {
        out->state = effective(outside, now_ms);
        snprintf(out->reason, sizeof out->reason, "region %s is not in the plan of %s (%s)", region,
                 outside->id, outside->regions);
        return;
    }
    if (!shown) {
        out->state = BILLING_NONE;
        snprintf(out->reason, sizeof out->reason, "no subscription");
        return;
    }
    out->state = effective(shown, now_ms);
    reason_of(shown, out->state, out->reason, sizeof out->reason);
}

void billing_verdict_title(const struct billing_sub *const *subs, int n, const char *region,
                           const struct billing_title *t, int64_t now_ms,
                           struct billing_verdict *out)
{
    billing_verdict(subs, n, region, now_ms, out);
    if (!t)
        return;
    if (!t->known) {
        out->allowed = 0;
        snprintf(out->reason, sizeof out->reason, "title %.128s is not in the catalog", t->id);
        return;
    }
    if (region && region[0] && !covers(t->regions, region)) {
        out->allowed = 0;
        snprintf(out->reason, sizeof out->reason,
                 "title %.128s is not available in region %.8s (its regions: %.200s)", t->id,
                 region, t->regions);
        return;
    }
    if (!out->allowed || !t->ents[0])
        return;
    const struct billing_sub *other = NULL;
    for (int i = 0; i < n; i++) {
        enum billing_state st = effective(subs[i], now_ms);
        if (!allows(st) || !covers(subs[i]->regions, region))
            continue;
        if (subs[i]->plan[0] && covers(t->ents, subs[i]->plan)) {
            out->state = st;
            reason_of(subs[i], st, out->reason, sizeof out->reason);
            size_t at = strlen(out->reason);
            snprintf(out->reason + at, sizeof out->reason - at, "; title %.128s is in plan %s",
                     t->id, subs[i]->plan);
            return;
        }
        other = other ? other : subs[i];
    }
    out->allowed = 0;
    out->state = effective(other, now_ms);
    snprintf(out->reason, sizeof out->reason, "title %.100s needs plan %.100s; %.100s is on %s",
             t->id, t->ents, other->id, other->plan[0] ? other->plan : "no named plan");
}

void billing_rules_doc(struct oc_buf *b)
{
    static const char *const effects[] = {"", "sets", "status of the object", "revokes", "records"};
    oc_buf_puts(b, "| provider | event type | effect | state | tie rank | note |\n"
                   "|---|---|---|---|---|---|\n");
    for (const struct billing_rule *r = billing_rules; r->type; r++)
        oc_buf_printf(b, "| %s | `%s` | %s | %s | %d | %s |\n", billing_provider_names[r->provider],
                      r->type, effects[r->effect],
                      r->effect == BILLING_SET || r->effect == BILLING_REVOKE
                          ? billing_state_names[r->state]
                          : "-",
                      r->tie, r->note);
    oc_buf_puts(b, "\nStripe subscription status map (`customer.subscription.*`):\n\n"
                   "| status | state |\n|---|---|\n");
    for (int i = 0; stripe_status[i].status; i++)
        oc_buf_printf(b, "| `%s` | %s |\n", stripe_status[i].status,
                      billing_state_names[stripe_status[i].state]);
    oc_buf_puts(b, "\n`cancel_at_period_end` on an active or trialing subscription gives "
                   "canceled; canceled with no period end after the event time gives expired.\n");
}
