/*
 * fields.c - the beacon members: names, types, bounds and the validation reasons.
 *
 * One table maps a member name to what it sets, so adding a field to the contract is one row
 * plus (if it is a new kind) one case. Duplicate members: the last valid value wins, but any
 * invalid value rejects the event.
 */
#include "ingest/fields.h"
#include "qoe/accounts.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define NUM_MAX        400  /* bytes of a number we convert; longer ones are bad values */
#define MAX_MS         1e12 /* bound of a *_ms value */
#define MAX_BITRATE    1e9  /* bound of bitrate_kbps */
#define MAX_TS         9007199254740992.0 /* 2^53 */
#define TS_SECONDS_MIN 1e8                /* a ts from here ... */
#define TS_SECONDS_MAX 1e11 /* ... to here reads as seconds (1973 to 5138), not ms (1970) */

enum field_kind {
    F_TS = 1,
    F_TYPE,
    F_SESSION,
    F_DIM,
    F_OUTCOME,
    F_ERROR,
    F_MS,
    F_BITRATE,
    F_ACCOUNT
};

struct field_def {
    const char *name;
    uint32_t len; /* strlen(name) */
    enum field_kind kind;
    int arg; /* F_DIM: enum beacon_dim; F_MS: offset into the event */
};

static const struct field_def field_defs[] = {
    {"ts", 2, F_TS, 0},
    {"type", 4, F_TYPE, 0},
    {"session", 7, F_SESSION, 0},
    {"region", 6, F_DIM, BEACON_REGION},
    {"country", 7, F_DIM, BEACON_COUNTRY},
    {"cdn", 3, F_DIM, BEACON_CDN},
    {"pop", 3, F_DIM, BEACON_POP},
    {"isp", 3, F_DIM, BEACON_ISP},
    {"asn", 3, F_DIM, BEACON_ASN},
    {"device", 6, F_DIM, BEACON_DEVICE},
    {"os", 2, F_DIM, BEACON_OS},
    {"player", 6, F_DIM, BEACON_PLAYER},
    {"player_version", 14, F_DIM, BEACON_PLAYER_VERSION},
    {"drm", 3, F_DIM, BEACON_DRM},
    {"title", 5, F_DIM, BEACON_TITLE},
    {"live", 4, F_DIM, BEACON_LIVE},
    {"outcome", 7, F_OUTCOME, 0},
    {"error_code", 10, F_ERROR, 0},
    {"startup_ms", 10, F_MS, (int)offsetof(struct beacon_event, startup_ms)},
    {"playing_ms", 10, F_MS, (int)offsetof(struct beacon_event, playing_ms)},
    {"rebuffer_ms", 11, F_MS, (int)offsetof(struct beacon_event, rebuffer_ms)},
    {"bitrate_kbps", 12, F_BITRATE, 0},
    {"account_hmac", 12, F_ACCOUNT, 0},
    {0},
};

static const char *const type_names[] = {"", "start", "heartbeat", "error", "end", NULL};
static const char *const outcome_names[] = {"", "success", "failure", "exit", NULL};

double field_number(struct beacon_str s)
{
    char tmp[NUM_MAX + 1];
    int64_t v = 0;
    size_t i = 0;
    int neg = s.n > 0 && s.p[0] == '-';
    if (neg)
        i = 1;
    if (s.n - i <= 15) {
        for (; i < s.n && s.p[i] >= '0' && s.p[i] <= '9'; i++)
            v = v * 10 + (s.p[i] - '0');
        if (i == s.n)
            return neg ? -(double)v : (double)v;
    }
    if (s.n > NUM_MAX)
        return NAN;
    memcpy(tmp, s.p, s.n);
    tmp[s.n] = 0;
    return strtod(tmp, NULL);
}

static int str_eq(struct beacon_str s, const char *w)
{
    size_t n = strlen(w);
    return s.n == n && memcmp(s.p, w, n) == 0;
}

/* The index of s in a NULL-terminated name list (from 1), or 0. */
static int name_index(struct beacon_str s, const char *const *names)
{
    for (int i = 1; names[i]; i++)
        if (str_eq(s, names[i]))
            return i;
    return 0;
}

/* 1 when the n bytes at a and b are the same: names are a few bytes, for which a call to
 * memcmp cost more than the comparison. */
static int short_eq(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (a[i] != b[i])
            return 0;
    return 1;
}

static const struct field_def *field_find(struct beacon_str key)
{
    for (const struct field_def *d = field_defs; d->name; d++)
        if (key.n == d->len && key.p[0] == d->name[0] && short_eq(key.p, d->name, key.n))
            return d;
    return NULL;
}

static void set_reason(struct fields *f, enum ingest_reason r)
{
    if (!f->reason)
        f->reason = (uint8_t)r;
}

static void set_ts(struct fields *f, struct beacon_event *ev, const struct jv *v)
{
    if (v->kind == JV_NULL)
        return;
    double d = v->kind == JV_NUMBER ? field_number(v->s) : NAN;
    if (!(d > 0 && d <= MAX_TS && d == floor(d))) {
        set_reason(f, INGEST_BAD_TS);
        return;
    }
    if (d >= TS_SECONDS_MIN && d < TS_SECONDS_MAX) { /* 1973..5138 in seconds, 1970 in ms */
        set_reason(f, INGEST_TS_IN_SECONDS);
        return;
    }
    ev->ts_ms = (int64_t)d;
    f->has_ts = 1;
}

static void set_dim(struct fields *f, struct beacon_str *out, const struct jv *v)
{
    static const char t[] = "true", fa[] = "false";
    switch (v->kind) {
    case JV_STRING:
    case JV_NUMBER:
        if (v->s.n > QOE_MAX_DIM_VALUE) {
            set_reason(f, INGEST_BAD_DIMENSION);
            return;
        }
        *out = v->s;
        return;
    case JV_TRUE:
        out->p = t, out->n = 4;
        return;
    case JV_FALSE:
        out->p = fa, out->n = 5;
        return;
    case JV_NULL:
        out->p = NULL, out->n = 0;
        return;
    default:
        set_reason(f, INGEST_BAD_DIMENSION);
        return;
    }
}

/* A non-negative bounded number; 0 and *out set, or the reason. */
static int nonneg(const struct jv *v, double max, double *out)
{
    if (v->kind != JV_NUMBER)
        return INGEST_BAD_VALUE;
    double d = field_number(v->s);
    if (d < 0)
        return INGEST_NEGATIVE_VALUE;
    if (!(d <= max))
        return INGEST_BAD_VALUE;
    *out = d;
    return 0;
}

static void set_number(struct fields *f, struct beacon_event *ev, const struct field_def *d,
                       const struct jv *v)
{
    double x = 0;
    if (v->kind == JV_NULL)
        return;
    int r = nonneg(v, d->kind == F_MS ? MAX_MS : MAX_BITRATE, &x);
    if (r != 0) {
        set_reason(f, (enum ingest_reason)r);
        return;
    }
    if (d->kind == F_BITRATE) {
        ev->bitrate_kbps = x;
        return;
    }
    *(int64_t *)((char *)ev + d->arg) = llround(x);
    if (d->arg == (int)offsetof(struct beacon_event, startup_ms))
        f->has_startup = 1;
}

static void set_enum(struct fields *f, int *out, const struct jv *v, const char *const *names,
                     enum ingest_reason bad)
{
    if (v->kind == JV_NULL)
        return;
    int i = v->kind == JV_STRING ? name_index(v->s, names) : 0;
    if (i == 0)
        set_reason(f, bad);
    else
        *out = i;
}

void field_set(struct fields *f, struct beacon_event *ev, struct beacon_str key, const struct jv *v)
{
    const struct field_def *d = field_find(key);
    int e;
    if (!d)
        return;
    switch (d->kind) {
    case F_TS:
        set_ts(f, ev, v);
        break;
    case F_TYPE:
        e = (int)ev->type;
        set_enum(f, &e, v, type_names, INGEST_BAD_TYPE);
        ev->type = (enum beacon_type)e;
        break;
    case F_OUTCOME:
        e = (int)ev->outcome;
        set_enum(f, &e, v, outcome_names, INGEST_BAD_OUTCOME);
        ev->outcome = (enum beacon_outcome)e;
        break;
    case F_SESSION:
        if (v->kind == JV_NULL)
            break;
        if (v->kind != JV_STRING || v->s.n > INGEST_MAX_SESSION)
            set_reason(f, INGEST_BAD_SESSION);
        else
            ev->session = v->s;
        break;
    case F_DIM:
        set_dim(f, &ev->dims[d->arg], v);
        break;
    case F_ERROR:
        if (v->kind == JV_STRING || v->kind == JV_NUMBER)
            ev->error_code = v->s;
        else if (v->kind != JV_NULL)
            set_reason(f, INGEST_BAD_VALUE);
        break;
    case F_MS:
    case F_BITRATE:
        set_number(f, ev, d, v);
        break;
    case F_ACCOUNT: /* 64 lower-case hex digits: an HMAC-SHA256, never an account id */
        if (v->kind == JV_NULL)
            ev->account.p = NULL, ev->account.n = 0;
        else if (v->kind != JV_STRING || qoe_account_parse(v->s.p, v->s.n, NULL) != 0)
            set_reason(f, INGEST_BAD_ACCOUNT);
        else
            ev->account = v->s;
        break;
    }
}

uint8_t fields_finish(const struct fields *f, const struct beacon_event *ev)
{
    if (f->reason)
        return f->reason;
    if (!f->has_ts)
        return INGEST_MISSING_TS;
    if (ev->type == 0)
        return INGEST_MISSING_TYPE;
    if (ev->session.p == NULL || ev->session.n == 0)
        return INGEST_MISSING_SESSION;
    if (ev->type == BEACON_START && ev->outcome == BEACON_OUTCOME_NONE)
        return INGEST_BAD_OUTCOME;
    if (ev->type == BEACON_START && ev->outcome == BEACON_SUCCESS && !f->has_startup)
        return INGEST_MISSING_STARTUP_MS;
    return INGEST_OK;
}
