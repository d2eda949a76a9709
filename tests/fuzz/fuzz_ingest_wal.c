/*
 * fuzz_ingest_wal.c - fuzzes the ingest log's reader (ingest/wal.c, ingest_wal_scan) with a
 * segment's bytes as a crash, a full disk or a stray write could leave them.
 *
 * Besides not crashing: the records it hands back (bodies LZ4-decompressed where stored so)
 * have their bitmaps inside the input, stay within the caps and fit before where it says it
 * stopped; each body is decoded as start-up replay does: a compact record (the accepted events'
 * fields, ingest_events_decode) into events whose strings lie inside the body and within the
 * parser's caps, anything else parsed and kept to its bitmap (ingest_parse, ingest_batch_keep).
 */
#include "core/err.h"
#include "ingest/ingest.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* A decoded string lies inside the record's body (or is absent) and within cap bytes. */
static void check_str(struct beacon_str s, const char *body, size_t len, size_t cap)
{
    if (s.p && (s.p < body || s.p + s.n > body + len || s.n > cap))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct seen {
    const uint8_t *start, *end; /* the input */
    size_t bytes;               /* record bytes handed back */
};

static void record(void *arg, const char *body, size_t len, const uint8_t *bits, uint32_t nev,
                   int64_t max_ts_ms)
{
    struct seen *s = arg;
    struct ingest_batch b;
    char err[160];
    (void)max_ts_ms;
    size_t nbits = ((size_t)nev + 7) / 8;
    if (bits < s->start || bits + nbits > s->end || len > INGEST_WAL_MAX_BODY ||
        nev > INGEST_WAL_MAX_EVENTS)
        abort();
    s->bytes += 32 + nbits; /* the header and bitmap; the stored body is at most the rest */
    if (len > 0 && body[0] == INGEST_EVENTS_MARK) {
        struct beacon_event *ev = malloc(((size_t)nev ? nev : 1) * sizeof(*ev));
        if (!ev)
            abort();
        if (ingest_events_decode(body, len, nev, ev) == 0) {
            for (uint32_t i = 0; i < nev; i++) {
                if (ev[i].ts_ms <= 0 || ev[i].type < BEACON_START || ev[i].type > BEACON_END ||
                    !ev[i].session.p || ev[i].playing_ms < 0 || !(ev[i].bitrate_kbps >= 0))
                    abort();
                check_str(ev[i].session, body, len, INGEST_MAX_SESSION);
                for (int d = 0; d < BEACON_NDIMS; d++)
                    check_str(ev[i].dims[d], body, len, QOE_MAX_DIM_VALUE);
                check_str(ev[i].error_code, body, len, len);
                check_str(ev[i].account, body, len, 64);
            }
        }
        free(ev);
        return;
    }
    ingest_batch_init(&b, INGEST_WAL_MAX_EVENTS);
    if (ingest_parse(&b, body, len, err, sizeof(err)) == 0 && b.nev == nev) {
        if (ingest_batch_keep(&b, bits, nev) != 0 || b.nev > nev)
            abort();
    }
    ingest_batch_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct seen s = {data, data + size, 0};
    size_t used = 0;
    int n = ingest_wal_scan(data, size, record, &s, &used);
    if (n < 0 || used > size || s.bytes > used)
        abort();
    return 0;
}
