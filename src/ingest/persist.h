/*
 * persist.h - internal to the cube: the encoding of a closed minute as a blob (host byte
 * order; the store is local), and the merge of several closed minutes into one row per leaf
 * (the 5-minute and hourly rollups).
 */
#ifndef OC_INGEST_PERSIST_H
#define OC_INGEST_PERSIST_H

#include "ingest/ingest.h"

#include <stddef.h>

/* A malloc'd blob of cm; its length in *len. */
void *minute_encode(const struct ingest_minute *cm, size_t *len /* OUT */);
/* The minute t decoded from a blob, or NULL when malformed (any leaf >= nleaves counts as
 * malformed). Free with ingest_minute_destroy. */
struct ingest_minute *minute_decode(int64_t t, const void *blob, size_t len, uint32_t nleaves);
/* One minute summing n minutes per leaf (sessions become session-minutes); caller owns. */
struct ingest_minute *minute_merge(int64_t t, struct ingest_minute *const *ms, int n);

#endif
