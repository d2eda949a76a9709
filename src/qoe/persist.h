/*
 * persist.h - internal to the cube: the encoding of a closed minute as a blob (host byte
 * order; the store is local), and the merge of several closed minutes into one row per leaf
 * (the 5-minute and hourly rollups).
 */
#ifndef OC_QOE_PERSIST_H
#define OC_QOE_PERSIST_H

#include "qoe/cube.h"

#include <stddef.h>

/* A malloc'd blob of cm; its length in *len. */
void *minute_encode(const struct qoe_minute *cm, size_t *len /* OUT */);
/* The minute (blob v1) or rollup row (v2, with its res and per-minute detail) t decoded
 * from a blob, or NULL when malformed (any leaf >= nleaves counts as malformed). A v1 blob
 * decodes with res 60: the caller sets res when it knows better. Free with
 * qoe_minute_destroy. */
struct qoe_minute *minute_decode(int64_t t, const void *blob, size_t len, uint32_t nleaves);
/* The rollup row [t, t + res) summing n minutes or rollup rows inside it per leaf (sessions
 * become session-minutes) and keeping each leaf's per-minute sessions in det; caller owns. */
struct qoe_minute *minute_merge(int64_t t, int res, struct qoe_minute *const *ms, int n);

#endif
