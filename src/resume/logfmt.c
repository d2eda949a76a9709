/*
 * logfmt.c - the bytes of resume's log and snapshot files: records framed with a length and a
 * CRC32C, each change of a device report in a compact binary form, and the reader that finds
 * where the whole records of a file end and why (a torn tail, or damage in the middle).
 *
 * A record (host byte order, little-endian here: the files never leave the machine):
 *   u32 magic "ORL1" | u32 kind | u32 payload bytes | u32 count | u32 crc32c of the first 16
 *   bytes and the payload | payload
 * kind 1 (changes): count changes, each
 *   u8 flags (bit 0: delete; bits 1-2: state) | u8 n + profile | u8 n + title | u8 n + device
 *   then for a put: u8 n + session | varint position, duration, seq, ts | zigzag varint
 *   ts - t, t - since
 * kind 2 (snapshot head): u64 the first log segment to replay after it | u64 points
 * kind 3 (snapshot end): u64 the changes the snapshot holds
 */
#include "resume/resume_int.h"
#include "core/alloc.h"
#include "core/varint.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define REC_MAGIC 0x314c524fu /* "ORL1" */

/* --- CRC32C (Castagnoli), with the SSE4.2 instruction where the CPU has it --- */

static uint32_t crc_table[256];
static int crc_hw;
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void crc_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = c & 1 ? (c >> 1) ^ 0x82f63b78u : c >> 1;
        crc_table[i] = c;
    }
#if defined(__x86_64__) && defined(__GNUC__)
    __builtin_cpu_init();
    crc_hw = __builtin_cpu_supports("sse4.2");
#endif
}

#if defined(__x86_64__) && defined(__GNUC__)
__attribute__((target("sse4.2"))) static uint32_t crc_sse42(uint32_t c, const uint8_t *p, size_t n)
{
    uint64_t c64 = c;
    for (; n >= 8; n -= 8, p += 8) {
        uint64_t v;
        memcpy(&v, p, 8);
        c64 = __builtin_ia32_crc32di(c64, v);
    }
    c = (uint32_t)c64;
    for (; n; n--, p++)
        c = __builtin_ia32_crc32qi(c, *p);
    return c;
}
#endif

uint32_t resume_crc32c(uint32_t crc, const void *data, size_t n)
{
    const uint8_t *p = data;
    uint32_t c = ~crc;
    pthread_once(&crc_once, crc_init);
#if defined(__x86_64__) && defined(__GNUC__)
    if (crc_hw)
        return ~crc_sse42(c, p, n);
#endif
    for (; n; n--, p++)
        c = crc_table[(c ^ *p) & 0xff] ^ (c >> 8);
    return ~c;
}

/* --- writing --- */

/* Makes room for n more bytes at the end of b. */
static uint8_t *room(struct resume_bytes *b, size_t n)
{
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n)
            cap *= 2;
        b->p = oc_realloc(b->p, cap);
        b->cap = cap;
    }
    return b->p + b->len;
}

void resume_bytes_free(struct resume_bytes *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

void resume_rec_open(struct resume_bytes *b, uint32_t kind)
{
    uint8_t *h = room(b, RESUME_REC_HEAD);
    uint32_t head[4] = {REC_MAGIC, kind, 0, 0};
    memcpy(h, head, sizeof head);
    memset(h + 16, 0, 4);
    b->rec = b->len;
    b->len += RESUME_REC_HEAD;
    b->count = 0;
}

void resume_rec_close(struct resume_bytes *b)
{
    uint32_t len = (uint32_t)(b->len - b->rec - RESUME_REC_HEAD), count = b->count;
    memcpy(b->p + b->rec + 8, &len, 4);
    memcpy(b->p + b->rec + 12, &count, 4);
}

void resume_rec_seal(uint8_t *p, size_t n)
{
    size_t off = 0;
    while (n - off >= RESUME_REC_HEAD) {
        uint32_t len, crc;
        memcpy(&len, p + off + 8, 4);
        crc = resume_crc32c(0, p + off, 16);
        crc = resume_crc32c(crc, p + off + RESUME_REC_HEAD, len);
        memcpy(p + off + 16, &crc, 4);
        off += RESUME_REC_HEAD + (size_t)len;
    }
}

static void put_str(struct resume_bytes *b, const char *s)
{
    size_t n = strlen(s);
    uint8_t *d = room(b, n + 1);
    d[0] = (uint8_t)n;
    memcpy(d + 1, s, n);
    b->len += n + 1;
}

static void put_varint(struct resume_bytes *b, uint64_t v)
{
    uint8_t *d = room(b, OC_VARINT_MAX);
    b->len += (size_t)(oc_varint_put(d, v) - d);
}

void resume_rec_change(struct resume_bytes *b, int del, const struct resume_write *w)
{
    const struct resume_report *r = &w->r;
    uint8_t *f = room(b, 1);
    *f = (uint8_t)(del ? 1 : (unsigned)r->state << 1);
    b->len++;
    put_str(b, w->profile);
    put_str(b, w->title);
    put_str(b, r->device);
    if (!del) {
        put_str(b, r->session);
        put_varint(b, (uint64_t)r->position_ms);
        put_varint(b, (uint64_t)r->duration_ms);
        put_varint(b, (uint64_t)r->seq);
        put_varint(b, (uint64_t)r->ts);
        put_varint(b, oc_zigzag((int64_t)((uint64_t)r->ts - (uint64_t)r->t)));
        put_varint(b, oc_zigzag((int64_t)((uint64_t)r->t - (uint64_t)r->since)));
    }
    b->count++;
}

void resume_rec_u64s(struct resume_bytes *b, uint32_t kind, uint64_t a, uint64_t c)
{
    resume_rec_open(b, kind);
    uint8_t *d = room(b, 16);
    memcpy(d, &a, 8);
    memcpy(d + 8, &c, 8);
    b->len += 16;
    resume_rec_close(b);
}

/* --- reading --- */

/* A cursor over one record's payload. */
struct cur {
    const uint8_t *p, *end;
};

static int get_str(struct cur *c, char *dst, size_t max)
{
    if (c->p >= c->end)
        return -1;
    size_t n = *c->p++;
    if (n > max || (size_t)(c->end - c->p) < n)
        return -1;
    memcpy(dst, c->p, n);
    dst[n] = '\0';
    c->p += n;
    return resume_id_valid(dst, max) ? 0 : -1;
}

static int get_varint(struct cur *c, uint64_t *out)
{
    return oc_varint_get(&c->p, c->end, out);
}

/* Decodes one change at c into op: 0, or -1 when the bytes are not one. */
static int get_change(struct cur *c, struct resume_op *op)
{
    struct resume_report *r = &op->w.r;
    uint64_t pos, dur, seq, ts, dt, ds;
    if (c->p >= c->end)
        return -1;
    uint8_t f = *c->p++;
    memset(r, 0, sizeof *r);
    op->del = f & 1;
    if ((f >> 3) || ((f >> 1) & 3) > RESUME_ENDED || (op->del && (f >> 1)))
        return -1;
    r->state = (enum resume_state)((f >> 1) & 3);
    if (get_str(c, op->w.profile, RESUME_ID_MAX) || get_str(c, op->w.title, RESUME_ID_MAX) ||
        get_str(c, r->device, RESUME_DEVICE_MAX))
        return -1;
    if (op->del)
        return 0;
    if (get_str(c, r->session, RESUME_SESSION_MAX) || get_varint(c, &pos) || get_varint(c, &dur) ||
        get_varint(c, &seq) || get_varint(c, &ts) || get_varint(c, &dt) || get_varint(c, &ds))
        return -1;
    /* what the parser admits, so a damaged file cannot hand the rule what a client cannot */
    if (dur < 1 || dur > (uint64_t)RESUME_POS_MAX_MS || pos > dur || seq > RESUME_SEQ_MAX ||
        ts < (uint64_t)RESUME_TS_MIN_MS || ts > (uint64_t)RESUME_TS_MAX_MS)
        return -1;
    int64_t d1 = oc_unzigzag(dt), d2 = oc_unzigzag(ds);
    if (d1 < 0 || d1 > RESUME_TS_MAX_MS || d2 < 0 || d2 > RESUME_TS_MAX_MS)
        return -1; /* t <= ts, since <= t */
    r->position_ms = (int64_t)pos;
    r->duration_ms = (int64_t)dur;
    r->seq = (int64_t)seq;
    r->ts = (int64_t)ts;
    r->t = r->ts - d1;
    r->since = r->t - d2;
    return 0;
}

/* Checks the payload of a record of kind with count items; 0, or -1 with *why set. */
static int check_payload(uint32_t kind, uint32_t count, const uint8_t *p, size_t len,
                         const char **why)
{
    struct cur c = {p, p + len};
    struct resume_op op;
    if (kind == RESUME_REC_SNAP_HEAD || kind == RESUME_REC_SNAP_END) {
        if (len != 16 || count != 0) {
            *why = "a snapshot mark of the wrong size";
            return -1;
        }
        return 0;
    }
    if (kind != RESUME_REC_CHANGES) {
        *why = "an unknown record kind";
        return -1;
    }
    for (uint32_t i = 0; i < count; i++)
        if (get_change(&c, &op) != 0) {
            *why = "a change that does not decode (the checksum matched)";
            return -1;
        }
    if (c.p != c.end) {
        *why = "bytes after the record's last change";
        return -1;
    }
    return 0;
}

/* 1 when every byte of p[0..n) is zero (space a file system extended but never wrote). */
static int all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return 0;
    return 1;
}

int resume_log_scan(const uint8_t *p, size_t len, resume_scan_fn fn, void *arg,
                    struct resume_scan *out)
{
    size_t off = 0;
    memset(out, 0, sizeof *out);
    while (off < len) {
        uint32_t h[5];
        size_t left = len - off;
        if (left < RESUME_REC_HEAD) {
            out->torn = 1;
            out->why = "a record's header cut short";
            break;
        }
        memcpy(h, p + off, sizeof h);
        if (h[0] != REC_MAGIC || h[2] > RESUME_REC_MAX) {
            out->torn = all_zero(p + off, left);
            out->why = out->torn           ? "zero bytes"
                       : h[0] != REC_MAGIC ? "no record header"
                                           : "a record length over the cap";
            break;
        }
        if (left - RESUME_REC_HEAD < h[2]) {
            out->torn = 1;
            out->why = "a record cut short";
            break;
        }
        const uint8_t *pay = p + off + RESUME_REC_HEAD;
        uint32_t crc = resume_crc32c(resume_crc32c(0, p + off, 16), pay, h[2]);
        if (crc != h[4]) {
            /* the last record of the file, or followed only by zeros (space a file system
             * extended the file with but never wrote): a write a crash cut short */
            out->torn = all_zero(pay + h[2], left - RESUME_REC_HEAD - h[2]);
            out->why = "a checksum mismatch";
            break;
        }
        if (check_payload(h[1], h[3], pay, h[2], &out->why) != 0)
            break;
        struct cur c = {pay, pay + h[2]};
        struct resume_op op;
        uint64_t v[2];
        if (h[1] == RESUME_REC_CHANGES) {
            for (uint32_t i = 0; i < h[3]; i++) {
                get_change(&c, &op);
                if (fn && fn(arg, RESUME_REC_CHANGES, 0, 0, &op) != 0) {
                    out->why = "refused by the reader";
                    out->used = off;
                    return -1;
                }
            }
            out->changes += h[3];
        } else {
            memcpy(v, pay, 16);
            if (fn && fn(arg, (int)h[1], v[0], v[1], NULL) != 0) {
                out->why = "refused by the reader";
                out->used = off;
                return -1;
            }
        }
        out->records++;
        off += RESUME_REC_HEAD + (size_t)h[2];
    }
    out->used = off;
    return 0;
}
