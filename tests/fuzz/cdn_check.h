/*
 * cdn_check.h - what the CMCD and CDN log fuzz targets (fuzz_cmcd_*.c, fuzz_cdnlog_*.c)
 * check of a parsed batch: counts consistent, every reason known, every event valid with its
 * strings inside the body, the scratch buffer or a static string (at most two events a line:
 * the player's and the edge request), every edge record sane.
 */
#ifndef OC_TESTS_FUZZ_CDN_CHECK_H
#define OC_TESTS_FUZZ_CDN_CHECK_H

#include "core/err.h"
#include "ingest/cmcd.h"

#include <stdlib.h>
#include <string.h>

static int cdn_inside(struct beacon_str s, const char *a, size_t an, const char *b, size_t bn)
{
    if (!s.p)
        return 1;
    if (s.p >= a && s.p + s.n <= a + an)
        return 1;
    if (s.p >= b && s.p + s.n <= b + bn)
        return 1;
    return s.n <= 10; /* "true"/"false" and the route's dimensions */
}

static void cdn_check(const struct cmcd_batch *b, const char *body, size_t size)
{
    size_t rejected = 0;
    if (b->nev > 2 * b->nlines || b->nedge > b->nlines || b->used > b->scratch_cap)
        abort();
    for (size_t i = 0; i < b->nlines; i++) {
        if (b->reason[i] >= CMCD_NREASONS)
            abort();
        rejected += b->reason[i] != CMCD_OK;
    }
    if (rejected != b->rejected || b->nerrors > CMCD_MAX_ERRORS)
        abort();
    for (size_t i = 0; i < b->nev; i++) {
        const struct beacon_event *e = &b->ev[i];
        if (b->ev_line[i] >= b->nlines || b->reason[b->ev_line[i]] != CMCD_OK)
            abort();
        if (e->ts_ms <= 0 || e->type < BEACON_START || e->type > BEACON_EDGE)
            abort();
        if (e->type == BEACON_EDGE ? e->session.n != 0 || e->edge_ttfb_ms < -1 : e->session.n == 0)
            abort();
        if (e->startup_ms < 0 || e->playing_ms < 0 || e->rebuffer_ms < 0 || e->bitrate_kbps < 0)
            abort();
        if (!cdn_inside(e->session, body, size, b->scratch, b->scratch_cap))
            abort();
        for (int d = 0; d < BEACON_NDIMS; d++)
            if (!cdn_inside(e->dims[d], body, size, b->scratch, b->scratch_cap))
                abort();
    }
    for (size_t i = 0; i < b->nedge; i++) {
        const struct cdn_edge *g = &b->edge[i];
        if (g->ts_ms <= 0 || (g->status && (g->status < 100 || g->status > 599)) ||
            g->cache > CDN_CACHE_PASS || g->ttfb_ms < -1 || g->bytes < -1)
            abort();
        if (!cdn_inside(g->pop, body, size, b->scratch, b->scratch_cap))
            abort();
    }
}

/* Parses data (an exact-size copy, so ASan sees any read past the end) as format f (0: an
 * event-mode body) and checks the batch. */
static int cdn_fuzz_one(const uint8_t *data, size_t size, int f)
{
    struct cmcd_batch b;
    struct cmcd_dims dims = {0};
    char *body = malloc(size ? size : 1);
    if (size)
        memcpy(body, data, size);
    dims.d[BEACON_CDN] = (struct beacon_str){"fuzz", 4};
    cmcd_batch_init(&b, 5000);
    struct cdnlog_fields fields;
    char why[128];
    /* CloudFront: a short configuration, so that random lines reach every column's parser */
    cdnlog_fields_parse("timestamp,x-edge-location,sc-status,x-edge-result-type,"
                        "time-to-first-byte,cs-uri-query,cmcd-session-id,cmcd-buffer-starvation,"
                        "cmcd-object-duration,cmcd-encoded-bitrate,asn",
                        &fields, why, sizeof why);
    int rc = f ? cdnlog_parse(&b, (enum cdnlog_format)f, &fields, body, size, &dims)
               : cmcd_parse_events(&b, body, size, &dims);
    if (rc == 0)
        cdn_check(&b, body, size);
    else if (rc != OC_ETOOBIG)
        abort();
    cmcd_batch_free(&b);
    free(body);
    return 0;
}

#endif
