/*
 * walrec.c - the compact form of a beacon body's accepted events, as the ingest log stores
 * them: the parsed fields (no JSON keys), about a quarter of the body's bytes, so LZ4, the
 * checksum, the write and the writeback each see less. Replay decodes it back into the very
 * beacon_events the cube folded the first time (every field the fold reads, byte for byte).
 *
 * Layout: INGEST_EVENTS_MARK | version 1 | per event:
 *   zigzag varint of ts_ms minus the previous event's (0 before the first)
 *   u8 type | outcome << 3 | stalled << 5 | bitrate kind << 6 (0: 0, 1: varint, 2: 8 bytes)
 *   zigzag varints startup_ms, playing_ms, rebuffer_ms | the bitrate (by its kind)
 *   16 strings (session, the 13 dimensions, error_code, account), each a varint: 0 absent, 1
 *   the same as the previous event's, else length + 2 followed by the bytes
 * Varints are LEB128. A reader checks every length and value against the parser's caps.
 */
#include "ingest/ingest.h"
#include "core/alloc.h"
#include "core/err.h"
#include "core/varint.h"
#include "qoe/accounts.h"

#include <math.h>
#include <string.h>

#define NSTR  (BEACON_NDIMS + 3) /* strings an event carries */
#define FIXED 64                 /* bytes of an event besides its strings, at most */

/* The strings of ev, in their order in the record. */
static void strings(const struct beacon_event *ev, const struct beacon_str *s[NSTR])
{
    s[0] = &ev->session;
    for (int d = 0; d < BEACON_NDIMS; d++)
        s[1 + d] = &ev->dims[d];
    s[1 + BEACON_NDIMS] = &ev->error_code;
    s[2 + BEACON_NDIMS] = &ev->account;
}

/* The same, to be filled in. */
static void strings_out(struct beacon_event *ev, struct beacon_str *s[NSTR])
{
    s[0] = &ev->session;
    for (int d = 0; d < BEACON_NDIMS; d++)
        s[1 + d] = &ev->dims[d];
    s[1 + BEACON_NDIMS] = &ev->error_code;
    s[2 + BEACON_NDIMS] = &ev->account;
}

/* a and b hold the same bytes (short ones compared inline: a call to memcmp for each of an
 * event's 16 strings cost more than the rest of encoding it) */
static int same(const struct beacon_str *a, const struct beacon_str *b)
{
    if (a->n != b->n)
        return 0;
    if (a->p == b->p)
        return 1;
    if (a->n > 16)
        return memcmp(a->p, b->p, a->n) == 0;
    for (uint32_t i = 0; i < a->n; i++)
        if (a->p[i] != b->p[i])
            return 0;
    return 1;
}

char *ingest_events_encode(const struct beacon_event *ev, const uint8_t *verdict, size_t nev,
                           size_t *len, uint32_t *count)
{
    size_t cap = 2 + nev * 128, n = 0;
    uint8_t *out = oc_malloc(cap), *o = out;
    int64_t prev = 0;
    const struct beacon_str *prev_s[NSTR], *const *last = NULL; /* the previous event's */
    *o++ = INGEST_EVENTS_MARK;
    *o++ = 1;
    for (size_t i = 0; i < nev; i++) {
        const struct beacon_event *e = &ev[i];
        const struct beacon_str *s[NSTR];
        if (verdict[i] != QOE_FOLD_OK)
            continue;
        if (e->type < BEACON_START || e->type > BEACON_END) {
            free(out);
            return NULL; /* only a player's events have this form */
        }
        /* one pass: the room this event may need, then the event */
        strings(e, s);
        size_t need = FIXED + NSTR * 5, at = (size_t)(o - out);
        for (int k = 0; k < NSTR; k++)
            need += s[k]->n;
        if (cap - at < need) {
            cap = 2 * cap + need;
            out = oc_realloc(out, cap);
            o = out + at;
        }
        double br = e->bitrate_kbps;
        /* an integral bitrate (the usual) as a varint; anything else bit for bit */
        int kind = br == 0 && !signbit(br)                                     ? 0
                   : br > 0 && br < 4294967296.0 && br == (double)(uint64_t)br ? 1
                                                                               : 2;
        o = oc_varint_put(o, oc_zigzag((int64_t)((uint64_t)e->ts_ms - (uint64_t)prev)));
        prev = e->ts_ms;
        *o++ = (uint8_t)(e->type | e->outcome << 3 | (e->stalled ? 1 : 0) << 5 | kind << 6);
        o = oc_varint_put(o, oc_zigzag(e->startup_ms));
        o = oc_varint_put(o, oc_zigzag(e->playing_ms));
        o = oc_varint_put(o, oc_zigzag(e->rebuffer_ms));
        if (kind == 1) {
            o = oc_varint_put(o, (uint64_t)br);
        } else if (kind == 2) {
            memcpy(o, &br, sizeof br);
            o += sizeof br;
        }
        for (int k = 0; k < NSTR; k++) {
            if (!s[k]->p) {
                *o++ = 0;
            } else if (last && last[k]->p && same(last[k], s[k])) {
                *o++ = 1; /* a body from one player repeats its session and dimensions */
            } else {
                o = oc_varint_put(o, (uint64_t)s[k]->n + 2);
                memcpy(o, s[k]->p, s[k]->n);
                o += s[k]->n;
            }
        }
        memcpy(prev_s, s, sizeof prev_s);
        last = prev_s;
        n++;
    }
    *len = (size_t)(o - out);
    *count = (uint32_t)n;
    return (char *)out;
}

static int get_signed(const uint8_t **p, const uint8_t *end, int64_t *v)
{
    uint64_t z;
    if (oc_varint_get(p, end, &z) != 0)
        return -1;
    *v = oc_unzigzag(z);
    return 0;
}

/* The most bytes string k of an event may hold (as the parser lets through). */
static size_t string_cap(int k)
{
    if (k == 0)
        return INGEST_MAX_SESSION;
    if (k <= BEACON_NDIMS)
        return QOE_MAX_DIM_VALUE;
    return INGEST_WAL_MAX_BODY; /* error_code: any length; account: checked below */
}

int ingest_events_decode(const char *body, size_t len, uint32_t nev, struct beacon_event *ev)
{
    const uint8_t *p = (const uint8_t *)body, *end = p + len;
    int64_t prev = 0;
    if (len < 2 || p[0] != INGEST_EVENTS_MARK || p[1] != 1)
        return OC_EINVAL;
    p += 2;
    for (uint32_t i = 0; i < nev; i++) {
        struct beacon_event *e = &ev[i];
        int64_t dt;
        memset(e, 0, sizeof *e);
        if (get_signed(&p, end, &dt) != 0 || p >= end)
            return OC_EINVAL;
        e->ts_ms = (int64_t)((uint64_t)prev + (uint64_t)dt);
        prev = e->ts_ms;
        uint8_t f = *p++;
        int kind = f >> 6;
        e->type = (enum beacon_type)(f & 7);
        e->outcome = (enum beacon_outcome)(f >> 3 & 3);
        e->stalled = (uint8_t)(f >> 5 & 1);
        if (e->type < BEACON_START || e->type > BEACON_END || kind == 3 ||
            get_signed(&p, end, &e->startup_ms) != 0 || get_signed(&p, end, &e->playing_ms) != 0 ||
            get_signed(&p, end, &e->rebuffer_ms) != 0)
            return OC_EINVAL;
        if (kind == 1) {
            uint64_t v;
            if (oc_varint_get(&p, end, &v) != 0 || v >= 4294967296u)
                return OC_EINVAL;
            e->bitrate_kbps = (double)v;
        } else if (kind == 2) {
            if ((size_t)(end - p) < sizeof e->bitrate_kbps)
                return OC_EINVAL;
            memcpy(&e->bitrate_kbps, p, sizeof e->bitrate_kbps);
            p += sizeof e->bitrate_kbps;
        }
        /* what the fold relies on: no negative amount, no NaN, ts a positive integer */
        if (e->ts_ms <= 0 || e->ts_ms > (int64_t)1 << 53 || e->startup_ms < 0 ||
            e->playing_ms < 0 || e->rebuffer_ms < 0 || !(e->bitrate_kbps >= 0))
            return OC_EINVAL;
        struct beacon_str *s[NSTR];
        strings_out(e, s);
        for (int k = 0; k < NSTR; k++) {
            uint64_t n;
            if (oc_varint_get(&p, end, &n) != 0)
                return OC_EINVAL;
            if (n == 1) { /* the previous event's */
                if (i == 0 || !ev[i - 1].session.p)
                    return OC_EINVAL;
                struct beacon_str *was[NSTR];
                strings_out(&ev[i - 1], was);
                if (!was[k]->p)
                    return OC_EINVAL;
                *s[k] = *was[k];
            } else if (n) {
                if (n - 2 > (uint64_t)(end - p) || n - 2 > string_cap(k))
                    return OC_EINVAL;
                *s[k] = (struct beacon_str){(const char *)p, (uint32_t)(n - 2)};
                p += n - 2;
            }
        }
        if (!e->session.p || !e->session.n ||
            (e->account.p && qoe_account_parse(e->account.p, e->account.n, NULL) != 0))
            return OC_EINVAL;
    }
    return p == end ? 0 : OC_EINVAL;
}
