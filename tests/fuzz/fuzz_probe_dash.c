/*
 * fuzz_probe_dash.c - fuzzes the prober's MPD reader (probe/dash.c, over expat) with the bytes
 * an origin or CDN may answer, then checks accepted MPDs against themselves and builds every
 * segment URL.
 *
 * Besides not crashing: a refused input names a line, an accepted one keeps its caps and
 * every timeline has a positive timescale.
 */
#include "probe/probe.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct probe_dash d, again;
    char err[256] = "", url[1024];
    struct probe_obs obs[PROBE_OBS_MAX];
    int total = 0;
    if (probe_dash_parse((const char *)data, size, &d, err, sizeof err) != 0) {
        if (strncmp(err, "line ", 5) != 0)
            abort();
        probe_dash_free(&d);
        return 0;
    }
    if (d.ntl > PROBE_DASH_MAX_TIMELINES)
        abort();
    for (int i = 0; i < d.ntl; i++) {
        if (d.tl[i].timescale <= 0)
            abort();
        total += d.tl[i].n;
        for (int k = 0; k < d.tl[i].n; k++)
            probe_dash_segment_url(&d.tl[i], k, url, sizeof url);
    }
    if (total > PROBE_DASH_MAX_SEGMENTS)
        abort();
    if (probe_dash_parse((const char *)data, size, &again, err, sizeof err) != 0)
        abort();
    struct probe_dash_memo m = {0};
    probe_dash_agree(&d, "a", &again, "b", obs);
    if (probe_dash_check(&m, &d, 1796558420000LL, obs) > PROBE_OBS_MAX ||
        probe_dash_check(&m, &again, 1796558422000LL, obs) > PROBE_OBS_MAX)
        abort();
    probe_dash_memo_free(&m);
    return 0;
}
