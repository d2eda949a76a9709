/*
 * fuzz_billing_apple.c - fuzzes what billing/jws.c reads of an App Store Server Notification
 * V2 once its signatures verified (billing_apple_payload): the notification's payload and its
 * signedTransactionInfo's, which fuzz_billing_sig cannot reach (no input chains to its root).
 * An input is the notification's payload JSON, then a NUL byte and the transaction's payload
 * JSON (without a NUL: no transaction came).
 *
 * Besides not crashing: a refusal is OC_EINVAL or OC_EMALFORMED; an accepted event has a valid
 * id and type, valid (or empty) subscription, account and plan ids, an account whenever it has
 * a subscription, a positive event time, a period end of 0 or more, and a rule that is NULL or
 * Apple's; deciding it gives a decision, and an applied one a known state.
 */
#include "billing/billing.h"
#include "core/err.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const struct billing_event *e)
{
    struct billing_sub next;
    if (!billing_id_valid(e->id, BILLING_ID_MAX) || !billing_id_valid(e->type, BILLING_TYPE_MAX) ||
        (e->subscription[0] && !billing_id_valid(e->subscription, BILLING_ID_MAX)) ||
        (e->account[0] && !billing_id_valid(e->account, BILLING_ID_MAX)) ||
        (e->subscription[0] && !e->account[0]) ||
        (e->plan[0] && !billing_id_valid(e->plan, BILLING_PLAN_MAX)) || e->event_ms <= 0 ||
        e->period_end_ms < 0 || e->provider != BILLING_APPLE ||
        (e->rule && e->rule->provider != BILLING_APPLE))
        abort();
    enum billing_decision d = billing_decide(NULL, e, 1, &next);
    if (d != BILLING_APPLIED && d != BILLING_RECORDED)
        abort();
    if (d == BILLING_APPLIED && (next.state <= BILLING_NONE || next.state >= BILLING_NSTATES))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct billing_event e;
    char err[240];
    const char *note = (const char *)data, *nul = memchr(data, '\0', size);
    size_t n = nul ? (size_t)(nul - note) : size;
    const char *tx = nul ? nul + 1 : NULL;
    size_t txn = nul ? size - n - 1 : 0;
    int rc = billing_apple_payload(note, n, tx, txn, &e, err, sizeof err);
    if (rc == 0)
        check(&e);
    else if (rc != OC_EINVAL && rc != OC_EMALFORMED)
        abort();
    return 0;
}
