/*
 * fuzz_ingest_wal.c - fuzzes the ingest log's reader (ingest/wal.c, ingest_wal_scan) with a
 * segment's bytes as a crash, a full disk or a stray write could leave them.
 *
 * Besides not crashing: the records it hands back (bodies LZ4-decompressed where stored so)
 * have their bitmaps inside the input, stay within the caps and fit before where it says it
 * stopped; each body is parsed and kept to its bitmap as start-up replay does (ingest_parse,
 * ingest_batch_keep).
 */
#include "core/err.h"
#include "ingest/ingest.h"

#include <stdint.h>
#include <stdlib.h>

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
