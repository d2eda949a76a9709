/*
 * emit.c - what leaves the simulator as bytes: events as NDJSON lines in the docs/contracts.md
 * schema, the stable event hash the determinism test pins, and the ground truth as JSON.
 */
#include "sim/session.h"

#include "core/buf.h"
#include "core/err.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static const char *const type_names[] = {"", "start", "heartbeat", "error", "end"};
static const char *const outcome_names[] = {"", "success", "failure", "exit"};

/* Appends s as a JSON string (quotes included). */
static int put_str(struct oc_buf *b, const char *p, size_t n)
{
    char tmp[8];
    size_t run = 0;
    int rc = oc_buf_append(b, "\"", 1);
    for (size_t i = 0; i < n && rc == 0; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        rc = oc_buf_append(b, p + run, i - run);
        snprintf(tmp, sizeof(tmp), "\\u%04x", c);
        if (rc == 0)
            rc = oc_buf_append(b, tmp, 6);
        run = i + 1;
    }
    if (rc == 0)
        rc = oc_buf_append(b, p + run, n - run);
    return rc ? rc : oc_buf_append(b, "\"", 1);
}

/* Appends ,"key": and the value of one dimension (live as a JSON boolean). */
static int put_dim(struct oc_buf *b, int d, const struct beacon_str *v)
{
    int rc = oc_buf_printf(b, ",\"%s\":", sim_dim_names[d]);
    if (rc == 0 && d == BEACON_LIVE && v->n == 4 && memcmp(v->p, "true", 4) == 0)
        return oc_buf_puts(b, "true");
    if (rc == 0 && d == BEACON_LIVE && v->n == 5 && memcmp(v->p, "false", 5) == 0)
        return oc_buf_puts(b, "false");
    return rc ? rc : put_str(b, v->p, v->n);
}

/* The general writer (any string lengths), through oc_buf_printf. */
static int ndjson_slow(struct oc_buf *b, const struct beacon_event *ev)
{
    size_t mark = b->len;
    int t = ev->type >= BEACON_START && ev->type <= BEACON_END ? (int)ev->type : 0;
    int rc = oc_buf_printf(b, "{\"ts\":%" PRId64 ",\"type\":\"%s\",\"session\":", ev->ts_ms,
                           type_names[t]);
    if (rc == 0)
        rc = put_str(b, ev->session.p, ev->session.n);
    for (int d = 0; d < BEACON_NDIMS && rc == 0; d++)
        if (ev->dims[d].p)
            rc = put_dim(b, d, &ev->dims[d]);
    if (rc == 0 && ev->type == BEACON_START && ev->outcome > 0 && ev->outcome <= BEACON_EXIT)
        rc = oc_buf_printf(b, ",\"outcome\":\"%s\"", outcome_names[ev->outcome]);
    if (rc == 0 && ev->type == BEACON_START && ev->outcome == BEACON_SUCCESS)
        rc = oc_buf_printf(b, ",\"startup_ms\":%" PRId64, ev->startup_ms);
    if (rc == 0 && ev->error_code.p) {
        rc = oc_buf_puts(b, ",\"error_code\":");
        if (rc == 0)
            rc = put_str(b, ev->error_code.p, ev->error_code.n);
    }
    if (rc == 0 && ev->type == BEACON_HEARTBEAT)
        rc = oc_buf_printf(
            b, ",\"playing_ms\":%" PRId64 ",\"rebuffer_ms\":%" PRId64 ",\"bitrate_kbps\":%.0f",
            ev->playing_ms, ev->rebuffer_ms, ev->bitrate_kbps);
    if (rc == 0)
        rc = oc_buf_puts(b, "}\n");
    if (rc) { /* leave the buffer as it was */
        b->len = mark;
        if (b->data)
            b->data[mark] = 0;
    }
    return rc;
}

/* Fast path helpers: write into a stack buffer known to be large enough. */
static char *w_lit(char *p, const char *s)
{
    size_t n = strlen(s);
    memcpy(p, s, n);
    return p + n;
}

static char *w_i64(char *p, int64_t v)
{
    char tmp[24];
    int n = 0;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    if (v < 0)
        *p++ = '-';
    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    while (n)
        *p++ = tmp[--n];
    return p;
}

static char *w_str(char *p, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    *p++ = '"';
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\') {
            *p++ = (char)c;
            continue;
        }
        p = w_lit(p, "\\u00");
        *p++ = hex[c >> 4];
        *p++ = hex[c & 15];
    }
    *p++ = '"';
    return p;
}

#define NDJSON_FAST 4096 /* bytes of the stack buffer of the fast path */

/* Writes ev into out (at least NDJSON_FAST bytes); returns the length. The caller checked
 * that the strings fit. */
static size_t ndjson_fast(char *out, const struct beacon_event *ev)
{
    char *p = w_lit(out, "{\"ts\":");
    p = w_i64(p, ev->ts_ms);
    p = w_lit(p, ",\"type\":\"");
    p = w_lit(p, type_names[ev->type]);
    p = w_lit(p, "\",\"session\":");
    p = w_str(p, ev->session.p, ev->session.n);
    for (int d = 0; d < BEACON_NDIMS; d++) {
        const struct beacon_str *v = &ev->dims[d];
        if (!v->p)
            continue;
        *p++ = ',';
        p = w_str(p, sim_dim_names[d], strlen(sim_dim_names[d]));
        *p++ = ':';
        if (d == BEACON_LIVE &&
            ((v->n == 4 && !memcmp(v->p, "true", 4)) || (v->n == 5 && !memcmp(v->p, "false", 5))))
            p = w_lit(p, v->n == 4 ? "true" : "false");
        else
            p = w_str(p, v->p, v->n);
    }
    if (ev->type == BEACON_START && ev->outcome > 0 && ev->outcome <= BEACON_EXIT) {
        p = w_lit(p, ",\"outcome\":\"");
        p = w_lit(p, outcome_names[ev->outcome]);
        *p++ = '"';
    }
    if (ev->type == BEACON_START && ev->outcome == BEACON_SUCCESS) {
        p = w_lit(p, ",\"startup_ms\":");
        p = w_i64(p, ev->startup_ms);
    }
    if (ev->error_code.p) {
        p = w_lit(p, ",\"error_code\":");
        p = w_str(p, ev->error_code.p, ev->error_code.n);
    }
    if (ev->type == BEACON_HEARTBEAT) {
        p = w_lit(p, ",\"playing_ms\":");
        p = w_i64(p, ev->playing_ms);
        p = w_lit(p, ",\"rebuffer_ms\":");
        p = w_i64(p, ev->rebuffer_ms);
        p = w_lit(p, ",\"bitrate_kbps\":");
        p = w_i64(p, (int64_t)(ev->bitrate_kbps + 0.5));
    }
    p = w_lit(p, "}\n");
    return (size_t)(p - out);
}

int sim_ndjson_append(struct oc_buf *b, const struct beacon_event *ev)
{
    char tmp[NDJSON_FAST];
    size_t worst = 400 + 6 * (size_t)(ev->session.n + ev->error_code.n);
    int t = ev->type >= BEACON_START && ev->type <= BEACON_END;
    for (int d = 0; d < BEACON_NDIMS; d++)
        worst += 24 + 6 * (size_t)ev->dims[d].n;
    if (!t || worst > NDJSON_FAST || ev->bitrate_kbps < 0 || ev->bitrate_kbps > 1e15)
        return ndjson_slow(b, ev);
    return oc_buf_append(b, tmp, ndjson_fast(tmp, ev));
}

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *c = p;
    for (size_t i = 0; i < n; i++) {
        h ^= c[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

static uint64_t fnv_i64(uint64_t h, int64_t v)
{
    unsigned char le[8];
    for (int i = 0; i < 8; i++)
        le[i] = (unsigned char)((uint64_t)v >> (8 * i));
    return fnv(h, le, 8);
}

static uint64_t fnv_str(uint64_t h, struct beacon_str s)
{
    h = fnv_i64(h, s.p ? (int64_t)s.n : -1);
    return s.p ? fnv(h, s.p, s.n) : h;
}

uint64_t sim_hash_event(uint64_t h, const struct beacon_event *ev)
{
    h = fnv_i64(h, ev->ts_ms);
    h = fnv_i64(h, ev->type * 16 + ev->outcome);
    h = fnv_str(h, ev->session);
    for (int d = 0; d < BEACON_NDIMS; d++)
        h = fnv_str(h, ev->dims[d]);
    h = fnv_str(h, ev->error_code);
    h = fnv_i64(h, ev->startup_ms);
    h = fnv_i64(h, ev->playing_ms);
    h = fnv_i64(h, ev->rebuffer_ms);
    return fnv_i64(h, (int64_t)ev->bitrate_kbps);
}

int sim_truth_match(const struct sim_truth *t, const struct beacon_event *ev)
{
    for (int d = 0; d < t->n_dims; d++) {
        const struct sim_slice_dim *sd = &t->dims[d];
        const struct beacon_str *v = &ev->dims[sd->dim];
        int ok = 0;
        for (int k = 0; k < sd->n && !ok; k++)
            ok = v->p && strlen(sd->vals[k]) == v->n && memcmp(sd->vals[k], v->p, v->n) == 0;
        if (!ok)
            return 0;
    }
    return 1;
}

/* Appends one fault of the truth as a JSON object. */
static int truth_fault(struct oc_buf *b, const struct sim_truth *t)
{
    int rc = oc_buf_puts(b, "{\"name\":");
    if (rc == 0)
        rc = put_str(b, t->name, strlen(t->name));
    if (rc == 0)
        rc = oc_buf_puts(b, ",\"slice\":{");
    for (int d = 0; d < t->n_dims && rc == 0; d++) {
        rc = oc_buf_printf(b, "%s\"%s\":[", d ? "," : "", sim_dim_names[t->dims[d].dim]);
        for (int k = 0; k < t->dims[d].n && rc == 0; k++) {
            if (k)
                rc = oc_buf_puts(b, ",");
            if (rc == 0)
                rc = put_str(b, t->dims[d].vals[k], strlen(t->dims[d].vals[k]));
        }
        if (rc == 0)
            rc = oc_buf_puts(b, "]");
    }
    if (rc == 0)
        rc = oc_buf_printf(b,
                           "},\"start\":%" PRId64 ",\"end\":%" PRId64 ",\"start_ms\":%" PRId64
                           ",\"end_ms\":%" PRId64 ",\"expect_incident\":%s}",
                           t->start_ms / 1000, t->end_ms / 1000, t->start_ms, t->end_ms,
                           t->expect_incident ? "true" : "false");
    return rc;
}

int sim_truth_json(const struct sim *s, struct oc_buf *b)
{
    const char *name = s->sc ? s->sc->name : "healthy";
    int rc = oc_buf_puts(b, "{\"scenario\":");
    if (rc == 0)
        rc = put_str(b, name, strlen(name));
    if (rc == 0)
        rc = oc_buf_printf(b, ",\"run_start\":%" PRId64 ",\"faults\":[", s->start_ms / 1000);
    for (int i = 0; i < s->n_faults && rc == 0; i++) {
        if (i)
            rc = oc_buf_puts(b, ",");
        if (rc == 0)
            rc = truth_fault(b, &s->truth[i]);
    }
    return rc ? rc : oc_buf_puts(b, "]}\n");
}
