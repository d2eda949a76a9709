/*
 * fold.c - a parsed batch into the cube: the cube folds the valid events and says which it
 * refused; the item reasons and the reject counters are ingest's.
 */
#include "ingest/ingest.h"
#include "core/err.h"

size_t ingest_fold(struct qoe_cube *c, struct ingest_batch *b, struct ingest_stats *st)
{
    struct qoe_fold f = {b->ev, b->nev, b->leaf, b->sh, b->verdict, b->principal};
    size_t ok = qoe_cube_add(c, &f);
    for (size_t i = 0; i < b->nev; i++) {
        if (b->verdict[i] == QOE_FOLD_TOO_OLD)
            b->reason[b->index[i]] = INGEST_TOO_OLD;
        else if (b->verdict[i] == QOE_FOLD_TOO_FAR_FUTURE)
            b->reason[b->index[i]] = INGEST_TOO_FAR_FUTURE;
    }
    for (size_t i = 0; st && i < b->nitems; i++)
        if (b->reason[i] != INGEST_OK)
            st->rejected[b->reason[i]]++;
    return ok;
}

int ingest_batch_keep(struct ingest_batch *b, const uint8_t *bits, uint32_t nev)
{
    size_t k = 0;
    if (b->nev != nev)
        return OC_EINVAL;
    for (size_t i = 0; i < b->nev; i++) {
        if (!(bits[i / 8] & (1u << (i % 8)))) {
            b->reason[b->index[i]] = INGEST_TOO_OLD; /* refused the first time */
            continue;
        }
        b->ev[k] = b->ev[i];
        b->index[k++] = b->index[i];
    }
    b->nev = k;
    return 0;
}
