/*
 * fuzz_billing_event.c - fuzzes the webhook payload parsers (billing/event.c, google.c) with
 * raw bodies, as Stripe, a Standard Webhooks sender or a Pub/Sub push could sign them, then
 * runs the ordering rule on what they accept.
 *
 * Besides not crashing: a refusal is OC_EINVAL or OC_EMALFORMED; an accepted event has a
 * valid id and type, valid (or empty) subscription, account and plan ids, a region list within its
 * cap, a positive event time, and a rule that is NULL or of its provider; deciding it gives
 * a decision, and an applied one a known state.
 */
#include "billing/billing.h"
#include "core/err.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const struct billing_event *e, enum billing_provider p)
{
    struct billing_sub cur, next;
    if (!billing_id_valid(e->id, BILLING_ID_MAX) || !billing_id_valid(e->type, BILLING_TYPE_MAX) ||
        (e->subscription[0] && !billing_id_valid(e->subscription, BILLING_ID_MAX)) ||
        (e->account[0] && !billing_id_valid(e->account, BILLING_ID_MAX)) ||
        strlen(e->regions) > BILLING_REGIONS_MAX ||
        (e->plan[0] && !billing_id_valid(e->plan, BILLING_PLAN_MAX)) || e->event_ms <= 0 ||
        e->provider != p || (e->rule && e->rule->provider != p))
        abort();
    enum billing_decision d = billing_decide(NULL, e, 1, &next);
    if (d != BILLING_APPLIED && d != BILLING_RECORDED)
        abort();
    if (d == BILLING_APPLIED && (next.state <= BILLING_NONE || next.state >= BILLING_NSTATES))
        abort();
    cur = next;
    if (d == BILLING_APPLIED && billing_decide(&cur, e, 2, &next) != BILLING_STALE)
        abort(); /* the same event again never applies */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct billing_event e;
    char err[240];
    int rc = billing_parse_stripe((const char *)data, size, &e, err, sizeof err);
    if (rc == 0)
        check(&e, BILLING_STRIPE);
    else if (rc != OC_EINVAL && rc != OC_EMALFORMED)
        abort();
    rc = billing_parse_standard("msg_fuzz", (const char *)data, size, &e, err, sizeof err);
    if (rc == 0)
        check(&e, BILLING_STANDARD);
    else if (rc != OC_EINVAL && rc != OC_EMALFORMED)
        abort();
    rc = billing_parse_google((const char *)data, size, &e, err, sizeof err);
    if (rc == 0)
        check(&e, BILLING_GOOGLE);
    else if (rc != OC_EINVAL && rc != OC_EMALFORMED)
        abort();
    return 0;
}
