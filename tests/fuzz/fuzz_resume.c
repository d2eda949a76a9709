/*
 * fuzz_resume.c - fuzzes the resume write parser (resume/parse.c) with raw POST /v1/resume
 * bodies, as any device may send them, and the PUT object reader over the same bytes.
 *
 * Besides not crashing: an accepted batch holds at most the cap, and every accepted write has
 * ids in their charset and length, position within [0, duration], duration, seq and ts within
 * their bounds, and t = min(ts, receive time).
 */
#include "core/err.h"
#include "resume/resume.h"

#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define RECV 1764000000000LL

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const struct resume_write *w, int ids)
{
    const struct resume_report *r = &w->r;
    if ((ids && (!resume_id_valid(w->profile, RESUME_ID_MAX) ||
                 !resume_id_valid(w->title, RESUME_ID_MAX))) ||
        !resume_id_valid(r->device, RESUME_DEVICE_MAX) ||
        !resume_id_valid(r->session, RESUME_SESSION_MAX) || r->duration_ms < 1 ||
        r->duration_ms > RESUME_POS_MAX_MS || r->position_ms < 0 ||
        r->position_ms > r->duration_ms || r->seq < 0 || r->seq > RESUME_SEQ_MAX ||
        r->ts < RESUME_TS_MIN_MS || r->ts > RESUME_TS_MAX_MS ||
        r->t != (r->ts < RECV ? r->ts : RECV) || r->state < RESUME_PAUSED ||
        r->state > RESUME_ENDED)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct resume_write *w = NULL;
    size_t n = 0;
    char err[240];
    int rc = resume_parse_batch((const char *)data, size, 64, RECV, &w, &n, err, sizeof err);
    if (rc == 0) {
        if (n > 64)
            abort();
        for (size_t i = 0; i < n; i++)
            check(&w[i], 1);
    } else if ((rc != OC_EINVAL && rc != OC_EMALFORMED && rc != OC_ETOOBIG) || w || n) {
        abort();
    }
    free(w);
    json_t *obj = json_loadb((const char *)data, size, JSON_ALLOW_NUL, NULL);
    if (obj) {
        struct resume_write one;
        if (resume_parse_object(obj, 0, RECV, &one, err, sizeof err) == 0)
            check(&one, 0);
        json_decref(obj);
    }
    return 0;
}
