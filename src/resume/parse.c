/*
 * parse.c - the resume write bodies, from untrusted bytes: one report object (PUT) or an
 * array of them with their profile and title (POST /v1/resume). Every number has explicit
 * bounds, every string a length cap and a charset, and a refusal names the field.
 */
#include "resume/resume.h"
#include "core/alloc.h"
#include "core/err.h"
#include "core/json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* 1 when s is 1 to max bytes of A-Z a-z 0-9 . _ : - */
int resume_id_valid(const char *s, size_t max)
{
    size_t n = 0;
    for (; s[n]; n++) {
        char c = s[n];
        if (n >= max || !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                          (c >= '0' && c <= '9') || c == '.' || c == '_' || c == ':' || c == '-'))
            return 0;
    }
    return n > 0;
}

/* Copies the id member key of obj into out (max + 1 bytes); -1 with a detail if bad. */
static int get_id(const json_t *obj, const char *key, size_t max, char *out, char *err,
                  size_t errlen)
{
    const json_t *v = json_object_get(obj, key);
    const char *s = v && json_is_string(v) ? json_string_value(v) : NULL;
    if (!s || strlen(s) != json_string_length(v) || !resume_id_valid(s, max)) {
        snprintf(err, errlen, "%s: required, 1 to %zu characters of A-Z a-z 0-9 . _ : -", key, max);
        return -1;
    }
    memcpy(out, s, strlen(s) + 1);
    return 0;
}

/* Reads the integer member key of obj within [lo, hi]; -1 with a detail if bad. */
static int get_int(const json_t *obj, const char *key, int64_t lo, int64_t hi, int64_t *out,
                   char *err, size_t errlen)
{
    const json_t *v = json_object_get(obj, key);
    if (!v || !json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi) {
        snprintf(err, errlen, "%s: required, an integer from %lld to %lld", key, (long long)lo,
                 (long long)hi);
        return -1;
    }
    *out = json_integer_value(v);
    return 0;
}

static int get_state(const json_t *obj, enum resume_state *out, char *err, size_t errlen)
{
    const char *s;
    if (oc_json_get_str(obj, "state", &s) == 0)
        for (int i = 0; resume_state_names[i]; i++)
            if (strcmp(s, resume_state_names[i]) == 0) {
                *out = (enum resume_state)i;
                return 0;
            }
    snprintf(err, errlen, "state: required, one of paused, playing, ended");
    return -1;
}

/* Checks one report object; see resume.h. */
int resume_parse_object(const json_t *obj, int ids, int64_t recv_ms, struct resume_write *w,
                        char *err, size_t errlen)
{
    static const char *const allowed[] = {"position_ms", "duration_ms", "device",  "session", "seq",
                                          "state",       "ts",          "profile", "title",   NULL};
    struct resume_report *r = &w->r;
    if (!json_is_object(obj)) {
        snprintf(err, errlen, "a report must be a JSON object");
        return OC_EINVAL;
    }
    const char *unknown = oc_json_unknown_key(obj, allowed);
    if (unknown || (!ids && (json_object_get(obj, "profile") || json_object_get(obj, "title")))) {
        snprintf(err, errlen, "%s: unknown field", unknown ? unknown : "profile/title");
        return OC_EINVAL;
    }
    if ((ids && (get_id(obj, "profile", RESUME_ID_MAX, w->profile, err, errlen) ||
                 get_id(obj, "title", RESUME_ID_MAX, w->title, err, errlen))) ||
        get_id(obj, "device", RESUME_DEVICE_MAX, r->device, err, errlen) ||
        get_id(obj, "session", RESUME_SESSION_MAX, r->session, err, errlen) ||
        get_int(obj, "duration_ms", 1, RESUME_POS_MAX_MS, &r->duration_ms, err, errlen) ||
        get_int(obj, "position_ms", 0, r->duration_ms, &r->position_ms, err, errlen) ||
        get_int(obj, "seq", 0, RESUME_SEQ_MAX, &r->seq, err, errlen) ||
        get_int(obj, "ts", RESUME_TS_MIN_MS, RESUME_TS_MAX_MS, &r->ts, err, errlen) ||
        get_state(obj, &r->state, err, errlen))
        return OC_EINVAL;
    r->t = r->ts < recv_ms ? r->ts : recv_ms;
    r->since = r->t;
    return 0;
}

/* Parses a batch body; see resume.h. */
int resume_parse_batch(const char *p, size_t n, size_t max, int64_t recv_ms,
                       struct resume_write **out, size_t *nout, char *err, size_t errlen)
{
    json_t *arr = NULL;
    struct resume_write *w = NULL;
    char why[160];
    int rc = OC_EMALFORMED;
    *out = NULL;
    *nout = 0;
    if (resume_fast_batch(p, n, max, recv_ms, out, nout) == 0)
        return 0;
    if (oc_json_parse(p, n, &arr, why, sizeof why) != 0) {
        snprintf(err, errlen, "body: not JSON: %s", why);
        goto out;
    }
    if (!json_is_array(arr)) {
        snprintf(err, errlen, "body: must be a JSON array of reports");
        goto out;
    }
    rc = OC_ETOOBIG;
    size_t count = json_array_size(arr);
    if (count > max) {
        snprintf(err, errlen, "body: %zu reports, at most %zu in one request", count, max);
        goto out;
    }
    w = oc_malloc((count ? count : 1) * sizeof *w);
    for (size_t i = 0; i < count; i++) {
        rc = resume_parse_object(json_array_get(arr, i), 1, recv_ms, &w[i], why, sizeof why);
        if (rc) {
            snprintf(err, errlen, "[%zu].%s", i, why);
            goto out;
        }
    }
    *out = w;
    *nout = count;
    w = NULL;
    rc = 0;
out:
    free(w);
    json_decref(arr);
    return rc;
}
