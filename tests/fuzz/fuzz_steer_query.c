/*
 * fuzz_steer_query.c - fuzzes the steering query parser (steer/query.c) with raw query bytes.
 *
 * Besides not crashing, every accepted parse must respect the struct's invariants: list
 * counts within caps, every pathway and attribute a valid identifier or empty.
 */
#include "steer/steer.h"

#include <stdint.h>
#include <math.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_id(const char *s)
{
    if (s[0] && !steer_id_valid(s))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct steer_query q;
    int rc = steer_query_parse((const char *)data, size, &q);
    if (q.npathway < 0 || q.npathway > STEER_MAX_LIST || q.nthroughput < 0 ||
        q.nthroughput > STEER_MAX_LIST)
        abort();
    if (rc != 0)
        return 0;
    for (int i = 0; i < q.npathway; i++)
        if (!steer_id_valid(q.pathway[i]))
            abort();
    for (int i = 0; i < q.nthroughput; i++)
        if (!(q.throughput[i] >= 0) && !isnan(q.throughput[i])) /* NAN: no measurement */
            abort();
    check_id(q.region);
    check_id(q.country);
    check_id(q.isp);
    check_id(q.asn);
    check_id(q.device);
    check_id(q.session);
    int b = steer_bucket(q.session);
    if (b < 0 || b >= 10000)
        abort();
    return 0;
}
