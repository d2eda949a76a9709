/*
 * fuzz_billing_stores.c - fuzzes the readers of the app stores' API answers that
 * reconciliation trusts (billing/stores.c): the App Store Server API's Get All Subscription
 * Statuses and the Play Developer API's subscriptionsv2, as any bytes the network could bring.
 *
 * Besides not crashing: an answer read gives a known state, a period end that is 0 or
 * positive, and an account that is empty or a valid id.
 */
#include "billing/billing_int.h"

#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const struct billing_theirs *t)
{
    if (t->state <= BILLING_NONE || t->state >= BILLING_NSTATES || t->period_end_ms < 0 ||
        (t->account[0] && !billing_id_valid(t->account, BILLING_ID_MAX)))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct billing_theirs t;
    json_t *a = json_loadb((const char *)data, size, 0, NULL);
    if (!a)
        return 0;
    if (billing_theirs_read(BILLING_APPLE, a, "1000", &t) == 0)
        check(&t);
    if (billing_theirs_read(BILLING_GOOGLE, a, NULL, &t) == 0)
        check(&t);
    json_decref(a);
    return 0;
}
