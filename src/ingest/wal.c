/*
 * wal.c - the ingest write-ahead log: a POST /v1/events body is answered only once the events
 * the cube accepted are in the log, so a crash (kill -9, or power loss with
 * store.synchronous full) loses no acknowledged event; at start the log is replayed into the
 * cube, whose stored minutes refuse what was already counted (their events are "too old"), so
 * nothing is counted twice.
 *
 * Layout: DATA/ingest-wal/NNNNNNNNNNNN.log segments of records, each
 *   u32 magic "OCW3" (or "OCW2", read alike) | u32 stored body bytes | u32 events | u32 crc32 of
 * the rest | i64 newest accepted event time (ms) | u32 body bytes once decompressed (0: stored as
 * received) | u32 0 | bitmap of accepted events (1 bit per parsed event) | the body (LZ4 from 512
 * bytes) (little-endian, the host's order: the log never leaves the machine). What a body holds is
 * the ingest module's: a beacon body's accepted events in their compact form (walrec.c;
 * "OCW3" records), a CMCD or CDN log body with its route, or ("OCW2", logs written before the
 * compact form) a beacon body as received. A build that knows only "OCW2" stops at the first
 * "OCW3" record, with a warning naming the segment and offset. A segment is deleted
 * once every minute its accepted events fall in is stored. Group commit: writers append under
 * the mutex and wait; one of them syncs for all that appended before it started.
 */
#include "ingest/ingest.h"
#include "core/alloc.h"
#include "core/err.h"
#include "core/file.h"
#include "core/log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
#include <lz4.h>
#include <zlib.h>

#define WAL_MAGIC    0x3357434fu /* "OCW3": beacon bodies in their compact form (walrec.c) */
#define WAL_MAGIC_V2 0x3257434fu /* "OCW2": the same layout, bodies as received; replayed */
#define WAL_HEAD     32          /* bytes of a record's header */
#define WAL_LZ4_MIN  512         /* bodies this long or longer are compressed */
/* ...except a compact record (walrec.c) of at most this many bytes an event: LZ4 shrank the
 * bench's by 1.7x for a tenth of the server's CPU (bench/README.md); at 1M events/s, 96 MB/s */
#define WAL_LZ4_COMPACT 96
#define WAL_SEG_BYTES   (64u << 20) /* a segment is closed past this size */
#define WAL_MAX_SEGS    4096        /* segments kept (each its newest event time) */

struct wal_seg {
    uint64_t no;       /* its file number */
    int64_t max_ts_ms; /* newest accepted event in it (INT64_MIN: none) */
    uint64_t bytes;    /* its size */
};

struct ingest_wal {
    pthread_mutex_t mu;
    pthread_cond_t synced;
    char dir[1024];
    int fd;                            /* the open segment */
    int sync;                          /* fdatasync before answering (store.synchronous full) */
    uint64_t appended;                 /* records appended (sequence of the last) */
    uint64_t durable;                  /* records known synced */
    int syncing;                       /* a writer is in fdatasync */
    size_t seg_bytes;                  /* bytes in the open segment */
    struct wal_seg segs[WAL_MAX_SEGS]; /* oldest first; the last is the open one */
    int nsegs;
    int failed;             /* a write or sync failed: appends answer OC_EIO */
    _Atomic uint64_t total; /* bytes in every segment */
};

static void seg_path(const struct ingest_wal *w, uint64_t no, char *out, size_t n)
{
    snprintf(out, n, "%s/%012" PRIu64 ".log", w->dir, no);
}

/* Opens segment no for appending (created); 0 or OC_EIO. Caller holds mu (or owns w). */
static int open_seg(struct ingest_wal *w, uint64_t no)
{
    char path[1100];
    seg_path(w, no, path, sizeof(path));
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0) {
        oc_log(OC_LOG_ERROR, "ingest: cannot open %s: %s", path, strerror(errno));
        return OC_EIO;
    }
    int dfd = open(w->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) { /* the new name itself survives a power loss */
        fsync(dfd);
        close(dfd);
    }
    w->fd = fd;
    w->seg_bytes = 0;
    w->segs[w->nsegs++] = (struct wal_seg){.no = no, .max_ts_ms = INT64_MIN, .bytes = 0};
    return 0;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* The numbers of the segments in dir, sorted (at most cap; *n set). */
static void list_segs(const char *dir, uint64_t *nos, int cap, int *n)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    *n = 0;
    while (d && (e = readdir(d)) != NULL && *n < cap) {
        char *end;
        uint64_t no = strtoull(e->d_name, &end, 10);
        if (end != e->d_name && strcmp(end, ".log") == 0)
            nos[(*n)++] = no;
    }
    if (d)
        closedir(d);
    qsort(nos, (size_t)*n, sizeof(*nos), cmp_u64);
}

/* A record's header, as written (host order). */
struct wal_head {
    uint32_t magic;
    uint32_t stored; /* bytes of the body as stored */
    uint32_t nev;    /* events (bits in the bitmap) */
    uint32_t crc;    /* crc32 of the bitmap and the stored body */
    int64_t max_ts;  /* newest accepted event (ms) */
    uint32_t raw;    /* bytes of the body once decompressed; 0: stored as received */
    uint32_t zero;
};

_Static_assert(sizeof(struct wal_head) == WAL_HEAD, "a record's header is 32 bytes");

int ingest_wal_scan(const uint8_t *p, size_t len, ingest_wal_record_fn fn, void *arg, size_t *used)
{
    size_t off = 0;
    int n = 0;
    char *raw = NULL; /* decompressed bodies, INGEST_WAL_MAX_BODY, allocated on first need */
    while (len - off >= WAL_HEAD) {
        struct wal_head h;
        memcpy(&h, p + off, sizeof(h));
        size_t bits = ((size_t)h.nev + 7) / 8;
        if ((h.magic != WAL_MAGIC && h.magic != WAL_MAGIC_V2) || h.stored > INGEST_WAL_MAX_BODY ||
            h.raw > INGEST_WAL_MAX_BODY || h.nev > INGEST_WAL_MAX_EVENTS || h.zero ||
            len - off - WAL_HEAD < bits + h.stored)
            break;
        const uint8_t *rest = p + off + WAL_HEAD;
        if ((uint32_t)crc32(0, rest, (uInt)(bits + h.stored)) != h.crc)
            break;
        const char *body = (const char *)rest + bits;
        size_t blen = h.stored;
        if (h.raw) {
            if (!raw)
                raw = oc_malloc(INGEST_WAL_MAX_BODY);
            if (LZ4_decompress_safe(body, raw, (int)h.stored, (int)h.raw) != (int)h.raw)
                break;
            body = raw;
            blen = h.raw;
        }
        if (fn)
            fn(arg, body, blen, rest, h.nev, h.max_ts);
        off += WAL_HEAD + bits + h.stored;
        n++;
    }
    free(raw);
    *used = off;
    return n;
}

/* Passes each record on to the caller's function and keeps the newest event time. */
struct replay_ctx {
    ingest_wal_record_fn fn;
    void *arg;
    int64_t max_ts;
};

static void replay_one(void *arg, const char *body, size_t len, const uint8_t *bits, uint32_t nev,
                       int64_t max_ts_ms)
{
    struct replay_ctx *rc = arg;
    if (max_ts_ms > rc->max_ts)
        rc->max_ts = max_ts_ms;
    if (rc->fn)
        rc->fn(rc->arg, body, len, bits, nev, max_ts_ms);
}

/* Replays segment no into fn; records its newest event time. 0, or OC_EIO (unreadable). */
static int replay_seg(struct ingest_wal *w, uint64_t no, ingest_wal_record_fn fn, void *arg,
                      size_t *records)
{
    char path[1100], err[300], *data = NULL;
    size_t len = 0, used = 0;
    struct replay_ctx rc = {fn, arg, INT64_MIN};
    seg_path(w, no, path, sizeof(path));
    if (oc_read_file(path, WAL_SEG_BYTES + INGEST_WAL_MAX_BODY + (1u << 20), &data, &len, err,
                     sizeof(err)) != 0) {
        oc_log(OC_LOG_ERROR, "ingest: %s", err);
        return OC_EIO;
    }
    *records += (size_t)ingest_wal_scan((const uint8_t *)data, len, replay_one, &rc, &used);
    w->segs[w->nsegs++] = (struct wal_seg){.no = no, .max_ts_ms = rc.max_ts, .bytes = len};
    w->total += len;
    if (used < len)
        oc_log(OC_LOG_WARN,
               "ingest: %s: %zu bytes after offset %zu are not a whole record (a write cut "
               "short by a crash); ignored",
               path, len - used, used);
    free(data);
    return 0;
}

int ingest_wal_open(const char *data_dir, int sync, ingest_wal_record_fn fn, void *arg,
                    struct ingest_wal **out, size_t *records)
{
    struct ingest_wal *w = oc_calloc(1, sizeof(*w));
    uint64_t *nos = oc_malloc(WAL_MAX_SEGS * sizeof(*nos));
    int n = 0, rc = 0;
    *records = 0;
    snprintf(w->dir, sizeof(w->dir), "%s/ingest-wal", data_dir);
    if (mkdir(w->dir, 0700) != 0 && errno != EEXIST) {
        oc_log(OC_LOG_ERROR, "ingest: cannot create %s: %s", w->dir, strerror(errno));
        rc = OC_EIO;
    }
    if (rc == 0)
        list_segs(w->dir, nos, WAL_MAX_SEGS - 1, &n);
    for (int i = 0; rc == 0 && i < n; i++)
        rc = replay_seg(w, nos[i], fn, arg, records);
    if (rc == 0)
        rc = open_seg(w, n ? nos[n - 1] + 1 : 1);
    free(nos);
    if (rc) {
        free(w);
        return rc;
    }
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->synced, NULL);
    w->sync = sync;
    *out = w;
    return 0;
}

/* Writes all of the n buffers of v to fd, in one writev when the kernel takes it whole (v is
 * advanced past what was written); 0 or -1. */
static int write_all(int fd, struct iovec *v, int n)
{
    while (n > 0) {
        ssize_t k = writev(fd, v, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return -1;
        while (n > 0 && (size_t)k >= v->iov_len) {
            k -= (ssize_t)v->iov_len;
            v++, n--;
        }
        if (n > 0) {
            v->iov_base = (char *)v->iov_base + k;
            v->iov_len -= (size_t)k;
        }
    }
    return 0;
}

/* Closes the open segment (synced) and opens the next. Caller holds mu, no sync running. */
static int rotate(struct ingest_wal *w)
{
    if (w->nsegs >= WAL_MAX_SEGS)
        return 0; /* keep appending to the open one until old ones are deleted */
    if (fdatasync(w->fd) != 0)
        return OC_EIO;
    w->durable = w->appended;
    close(w->fd);
    return open_seg(w, w->segs[w->nsegs - 1].no + 1);
}

/* Appends one record: its header h (crc set) and the bitmap and stored body. mu held; 0 or
 * OC_EIO. */
static int append(struct ingest_wal *w, const struct wal_head *h, const uint8_t *bits,
                  const char *stored)
{
    size_t nbits = ((size_t)h->nev + 7) / 8, len = h->stored;
    int64_t max_ts_ms = h->max_ts;
    struct iovec v[3] = {{(void *)h, WAL_HEAD}, {(void *)bits, nbits}, {(void *)stored, len}};
    if (write_all(w->fd, v, 3)) {
        oc_log(OC_LOG_ERROR, "ingest: cannot write to the log in %s: %s", w->dir, strerror(errno));
        w->failed = 1;
        return OC_EIO;
    }
    w->seg_bytes += WAL_HEAD + nbits + len;
    struct wal_seg *s = &w->segs[w->nsegs - 1];
    s->bytes += WAL_HEAD + nbits + len;
    w->total += WAL_HEAD + nbits + len;
    s->max_ts_ms = max_ts_ms > s->max_ts_ms ? max_ts_ms : s->max_ts_ms;
    w->appended++;
    return 0;
}

int ingest_wal_write(struct ingest_wal *w, const char *body, size_t len, const uint8_t *bits,
                     uint32_t nev, int64_t max_ts_ms, uint64_t *seq)
{
    int rc = 0, zlen = 0;
    char *z = NULL;
    if (len > INGEST_WAL_MAX_BODY || nev > INGEST_WAL_MAX_EVENTS)
        return OC_ETOOBIG;
    /* compressed outside the lock (LZ4: about 4x on beacon NDJSON at about 1 GB/s): the log's
     * bytes, not its CPU, bound ingest once the disk's writeback throttles; a compact record
     * is already 4x smaller than its JSON, so only a wordy one is */
    if (len >= WAL_LZ4_MIN &&
        (body[0] != INGEST_EVENTS_MARK || len > (size_t)WAL_LZ4_COMPACT * nev)) {
        z = oc_malloc((size_t)LZ4_compressBound((int)len));
        zlen = LZ4_compress_default(body, z, (int)len, LZ4_compressBound((int)len));
        if (zlen <= 0 || (size_t)zlen >= len)
            zlen = 0;
    }
    /* the record's header and checksum too: the mutex covers only the write */
    const char *stored = zlen ? z : body;
    size_t slen = zlen ? (size_t)zlen : len;
    struct wal_head h = {WAL_MAGIC, (uint32_t)slen, nev, 0, max_ts_ms, zlen ? (uint32_t)len : 0, 0};
    h.crc =
        (uint32_t)crc32(crc32(0, bits, (uInt)((nev + 7) / 8)), (const Bytef *)stored, (uInt)slen);
    pthread_mutex_lock(&w->mu);
    while (w->syncing && w->seg_bytes >= WAL_SEG_BYTES) /* a rotation waits for the sync */
        pthread_cond_wait(&w->synced, &w->mu);
    if (w->failed)
        rc = OC_EIO;
    if (rc == 0 && w->seg_bytes >= WAL_SEG_BYTES)
        rc = rotate(w);
    if (rc == 0)
        rc = append(w, &h, bits, stored);
    *seq = w->appended;
    pthread_mutex_unlock(&w->mu);
    free(z);
    return rc;
}

int ingest_wal_sync(struct ingest_wal *w, uint64_t seq)
{
    pthread_mutex_lock(&w->mu);
    /* group commit: the first caller to find no sync running syncs for everything appended so
     * far; the others wait for a sync that covers them */
    while (w->sync && w->durable < seq && !w->failed) {
        if (w->syncing) {
            pthread_cond_wait(&w->synced, &w->mu);
            continue;
        }
        uint64_t upto = w->appended;
        int fd = w->fd;
        w->syncing = 1;
        pthread_mutex_unlock(&w->mu);
        int bad = fdatasync(fd) != 0;
        pthread_mutex_lock(&w->mu);
        w->syncing = 0;
        if (bad) {
            oc_log(OC_LOG_ERROR, "ingest: cannot sync the log in %s: %s", w->dir, strerror(errno));
            w->failed = 1;
        } else if (upto > w->durable) {
            w->durable = upto;
        }
        pthread_cond_broadcast(&w->synced);
    }
    int rc = w->failed ? OC_EIO : 0;
    pthread_mutex_unlock(&w->mu);
    return rc;
}

int ingest_wal_append(struct ingest_wal *w, const char *body, size_t len, const uint8_t *bits,
                      uint32_t nev, int64_t max_ts_ms)
{
    uint64_t seq = 0;
    int rc = ingest_wal_write(w, body, len, bits, nev, max_ts_ms, &seq);
    return rc ? rc : ingest_wal_sync(w, seq);
}

int ingest_wal_synced(const struct ingest_wal *w)
{
    return w->sync;
}

int ingest_wal_trim(struct ingest_wal *w, int64_t stored_upto_s)
{
    int removed = 0;
    char path[1100];
    pthread_mutex_lock(&w->mu);
    /* never the open segment: it is the last */
    while (w->nsegs > 1 &&
           (w->segs[0].max_ts_ms == INT64_MIN || w->segs[0].max_ts_ms / 1000 < stored_upto_s)) {
        seg_path(w, w->segs[0].no, path, sizeof(path));
        if (unlink(path) != 0 && errno != ENOENT)
            break;
        w->total -= w->segs[0].bytes;
        memmove(w->segs, w->segs + 1, (size_t)(w->nsegs - 1) * sizeof(w->segs[0]));
        w->nsegs--;
        removed++;
    }
    /* a quiet log: the open segment itself is all stored; the next append starts another */
    struct wal_seg *cur = &w->segs[w->nsegs - 1];
    if (!w->syncing && w->seg_bytes > 0 && cur->max_ts_ms != INT64_MIN &&
        cur->max_ts_ms / 1000 < stored_upto_s && w->nsegs < WAL_MAX_SEGS && rotate(w) == 0) {
        int i = w->nsegs - 2; /* the segment just closed */
        seg_path(w, w->segs[i].no, path, sizeof(path));
        if (unlink(path) == 0) {
            w->total -= w->segs[i].bytes;
            w->segs[i] = w->segs[i + 1];
            w->nsegs--;
            removed++;
        }
    }
    pthread_mutex_unlock(&w->mu);
    return removed;
}

void ingest_wal_close(struct ingest_wal *w)
{
    if (!w)
        return;
    if (w->fd >= 0) {
        fdatasync(w->fd);
        close(w->fd);
    }
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->synced);
    free(w);
}

uint64_t ingest_wal_bytes(struct ingest_wal *w)
{
    return atomic_load(&w->total);
}
