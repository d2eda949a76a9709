/*
 * churn.c - the cancellations recorded in the billing audit, for the business-impact reports
 * of other capabilities (tickets' churn after incidents): every subscription change to
 * canceled, at the provider's event time.
 */
#include "billing/billing.h"
#include "billing/sql.h"
#include "core/err.h"
#include "store/store.h"

int billing_cancellations(struct store *s, int64_t from_ms, int64_t to_ms,
                          void (*fn)(const char *account, int64_t at_ms, void *arg), void *arg)
{
    struct store_stmt *q = NULL;
    int rc = OC_EDB, r = STORE_DONE;
    store_lock(s);
    if (store_prepare(s, BILLING_SQL_CANCELLATIONS, &q) == 0 &&
        STORE_BIND(q, STORE_INT(from_ms), STORE_INT(to_ms)) == 0) {
        while ((r = store_step(q)) == STORE_ROW) {
            const char *a = store_col_text(q, 0);
            fn(a ? a : "", store_col_int(q, 1), arg);
        }
        if (r == STORE_DONE)
            rc = 0;
    }
    if (q)
        store_reset(q);
    store_unlock(s);
    return rc;
}
