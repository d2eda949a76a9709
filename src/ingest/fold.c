/*
 * fold.c - a parsed batch into the cube: the cube folds the valid events and says which it
 * refused; the item reasons and the reject counters are ingest's.
 */
#include "ingest/ingest.h"

size_t ingest_fold(struct qoe_cube *c, struct ingest_batch *b, struct ingest_stats *st)
{
    struct qoe_fold f = {b->ev, b->nev, b->leaf, b->sh, b->verdict};
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
