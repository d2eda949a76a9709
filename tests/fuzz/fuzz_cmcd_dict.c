/*
 * fuzz_cmcd_dict.c - libFuzzer target for the CMCD dictionary (the CMCD-* header values) and
 * the CMCD= query form (cmcd_parse_dict, cmcd_parse_query, src/ingest/cmcd.c). Any bytes: no
 * crash, no read out of bounds; every string kept lies in the input or the scratch buffer, and
 * every integer key is within 0 .. 1e15.
 */
#include "ingest/cmcd.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const struct cmcd *c, const char *in, size_t n, const char *sc, size_t cap)
{
    const struct beacon_str *s[] = {&c->sid, &c->cid, &c->cdn, &c->ot,
                                    &c->st,  &c->sf,  &c->sta, &c->e};
    const int64_t *v[] = {&c->br,  &c->bl,  &c->bsd, &c->d,  &c->dl,   &c->ltc, &c->msd,
                          &c->mtp, &c->rtp, &c->tb,  &c->ts, &c->ttfb, &c->v};
    for (size_t i = 0; i < sizeof s / sizeof s[0]; i++)
        if (s[i]->p && !((s[i]->p >= in && s[i]->p + s[i]->n <= in + n) ||
                         (s[i]->p >= sc && s[i]->p + s[i]->n <= sc + cap)))
            abort();
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        if (*v[i] < 0 || *v[i] > 1000000000000000LL)
            abort();
    if (c->pr < 0 || c->bs > 1 || c->su > 1)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char why[128];
    size_t cap = 3 * size + 16, used = 0;
    char *in = malloc(size ? size : 1), *scratch = malloc(cap);
    struct cmcd c;
    struct beacon_event ev;
    if (size)
        memcpy(in, data, size);
    memset(&c, 0, sizeof c);
    if (cmcd_parse_dict(in, size, &c, scratch, &used, why, sizeof why) == 0) {
        check(&c, in, size, scratch, cap);
        cmcd_to_event(&c, 1, &ev);
    }
    if (used > size)
        abort();
    memset(&c, 0, sizeof c);
    used = 0;
    if (cmcd_parse_query(in, size, &c, scratch, &used, why, sizeof why) == 1)
        check(&c, in, size, scratch, cap);
    if (used > 2 * size + 1)
        abort();
    free(in);
    free(scratch);
    return 0;
}
