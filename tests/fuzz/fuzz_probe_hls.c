/*
 * fuzz_probe_hls.c - fuzzes the prober's HLS playlist parser (probe/hls.c) with the bytes an
 * origin or CDN may answer, then feeds accepted media playlists to the live checks twice.
 *
 * Besides not crashing: a refused input names a line ("line N: ..."), an accepted one keeps
 * its caps and numbers its segments from the media sequence.
 */
#include "probe/probe.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct probe_hls h, again;
    char err[256] = "";
    struct probe_obs obs[PROBE_OBS_MAX];
    if (probe_hls_parse((const char *)data, size, &h, err, sizeof err) != 0) {
        if (strncmp(err, "line ", 5) != 0)
            abort();
        probe_hls_free(&h);
        return 0;
    }
    if (h.nsegs > PROBE_HLS_MAX_SEGMENTS || h.nvariants > PROBE_HLS_MAX_VARIANTS)
        abort();
    for (int i = 0; i < h.nsegs; i++)
        if (h.segs[i].msn != h.media_sequence + i || !h.segs[i].uri[0])
            abort();
    if (!h.multivariant) {
        struct probe_hls_memo m = {0};
        if (probe_hls_parse((const char *)data, size, &again, err, sizeof err) != 0)
            abort();
        if (probe_hls_check(&m, &h, 1000, obs) > PROBE_OBS_MAX ||
            probe_hls_check(&m, &again, 2000, obs) > PROBE_OBS_MAX)
            abort();
        probe_hls_agree(&m.last, "a", &m.last, "b", obs);
        probe_hls_memo_free(&m);
        probe_hls_free(&again);
    }
    probe_hls_free(&h);
    return 0;
}
