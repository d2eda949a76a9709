/*
 * fuzz_cmcd_events.c - libFuzzer target for the event-mode body of POST /v1/cmcd
 * (cmcd_parse_events: CMCD dictionary lines, JSON lines, a JSON array). Any bytes: no crash, no
 * read out of bounds, no leak; the batch is consistent (cdn_check.h).
 */
#include "cdn_check.h"

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return cdn_fuzz_one(data, size, 0);
}
