/*
 * fuzz_resume.c - fuzzes the resume write parser (resume/parse.c) with raw POST /v1/resume
 * bodies, as any device may send them, and the PUT object reader over the same bytes.
 *
 * Besides not crashing: an accepted batch holds at most the cap, and every accepted write has
 * ids in their charset and length, position within [0, duration], duration, seq and ts within
 * their bounds, and t = min(ts, receive time). Differential: whenever the hot path (fast.c)
 * accepts a body, the jansson path accepts it too with the very same writes.
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

/* 1 when a and b hold the same write (the bytes after each string's NUL are not compared). */
static int same(const struct resume_write *a, const struct resume_write *b, int ids)
{
    const struct resume_report *x = &a->r, *y = &b->r;
    return (!ids || (strcmp(a->profile, b->profile) == 0 && strcmp(a->title, b->title) == 0)) &&
           strcmp(x->device, y->device) == 0 && strcmp(x->session, y->session) == 0 &&
           x->position_ms == y->position_ms && x->duration_ms == y->duration_ms &&
           x->seq == y->seq && x->ts == y->ts && x->t == y->t && x->since == y->since &&
           x->state == y->state;
}

/* The jansson path alone (what resume_parse_batch does when the hot path declines). */
static int slow_batch(const char *p, size_t size, struct resume_write **out, size_t *n)
{
    char err[240];
    json_t *arr = json_loadb(p, size, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, NULL);
    int rc = arr && json_is_array(arr) && json_array_size(arr) <= 64 ? 0 : -1;
    *n = rc ? 0 : json_array_size(arr);
    *out = calloc(*n + 1, sizeof **out);
    for (size_t i = 0; i < *n && !rc; i++)
        rc = resume_parse_object(json_array_get(arr, i), 1, RECV, &(*out)[i], err, sizeof err);
    json_decref(arr);
    if (rc) {
        free(*out);
        *out = NULL;
    }
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct resume_write *w = NULL;
    size_t n = 0;
    char err[240];
    struct resume_write *fw = NULL, one, fone;
    size_t fn = 0;
    if (resume_fast_batch((const char *)data, size, 64, RECV, &fw, &fn) == 0) {
        if (slow_batch((const char *)data, size, &w, &n) != 0 || n != fn)
            abort();
        for (size_t i = 0; i < n; i++)
            if (!same(&w[i], &fw[i], 1))
                abort();
        free(w);
    }
    free(fw);
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
    memset(&one, 0, sizeof one);
    memset(&fone, 0, sizeof fone);
    int fast = resume_fast_object((const char *)data, size, RECV, &fone);
    json_t *obj =
        json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, NULL);
    int slow = obj ? resume_parse_object(obj, 0, RECV, &one, err, sizeof err) : -1;
    if (slow == 0)
        check(&one, 0);
    if (fast == 0 && (slow != 0 || !same(&one, &fone, 0)))
        abort();
    json_decref(obj);
    return 0;
}
