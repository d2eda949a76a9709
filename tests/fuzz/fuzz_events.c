/*
 * fuzz_events.c - libFuzzer target for the beacon parser (src/ingest/parse.c).
 *
 * Any bytes: the parser must not crash, read out of bounds or leak, and its result must be
 * consistent: valid events are a subset of the items, every valid event has its required
 * fields, and every string slice lies inside the body or the scratch buffer.
 */
#include "core/err.h"
#include "ingest/ingest.h"
#include "qoe/accounts.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int inside(const struct beacon_str *s, const char *a, size_t an, const char *b, size_t bn)
{
    if (!s->p)
        return 1;
    if (s->p >= a && s->p + s->n <= a + an)
        return 1;
    if (s->p >= b && s->p + s->n <= b + bn)
        return 1;
    return s->n <= 5; /* "true"/"false" for booleans */
}

static void check(const struct ingest_batch *b, const char *body, size_t size)
{
    if (b->nev > b->nitems)
        abort();
    for (size_t i = 0; i < b->nitems; i++)
        if (b->reason[i] >= INGEST_NREASONS)
            abort();
    for (size_t i = 0; i < b->nev; i++) {
        const struct beacon_event *e = &b->ev[i];
        if (b->reason[b->index[i]] != INGEST_OK || e->ts_ms <= 0 || e->session.n == 0)
            abort();
        if (e->type < BEACON_START || e->type > BEACON_END)
            abort();
        if (e->startup_ms < 0 || e->playing_ms < 0 || e->rebuffer_ms < 0 || e->bitrate_kbps < 0)
            abort();
        if (!inside(&e->session, body, size, b->scratch, b->scratch_cap))
            abort();
        for (int d = 0; d < BEACON_NDIMS; d++)
            if (!inside(&e->dims[d], body, size, b->scratch, b->scratch_cap))
                abort();
        /* an account_hmac kept is always 64 lower-case hex digits */
        if (e->account.p && (!inside(&e->account, body, size, b->scratch, b->scratch_cap) ||
                             qoe_account_parse(e->account.p, e->account.n, NULL) != 0))
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ingest_batch b;
    char err[128];
    /* an exact-size copy so that ASan catches any read past the end */
    char *body = malloc(size ? size : 1);
    if (size)
        memcpy(body, data, size);
    ingest_batch_init(&b, 10000);
    int rc = ingest_parse(&b, body, size, err, sizeof err);
    if (rc == 0)
        check(&b, body, size);
    else if (rc != OC_EINVAL && rc != OC_ETOOBIG)
        abort();
    ingest_batch_free(&b);
    free(body);
    return 0;
}
