/*
 * fuzz_cdnlog_cloudfront.c - libFuzzer target for CloudFront real-time log lines (cdnlog_parse,
 * src/ingest/cdnlog.c), with an eleven-column configuration. Any bytes: no crash, no read out of
 * bounds, no leak; the batch is consistent (cdn_check.h).
 */
#include "cdn_check.h"

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return cdn_fuzz_one(data, size, CDNLOG_CLOUDFRONT);
}
