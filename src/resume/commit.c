/*
 * commit.c - group commit of resume writes to resume's own append-only log, and loading it
 * back at start-up.
 *
 * DATA/resume/ holds `snapshot` (every report, as of some moment) and the log segments
 * NNNNNNNNNNNN.log written after it (logfmt.c gives the bytes). A writer encodes its changes
 * into the batch filling (under the table's write lock, so in the table's order) and then
 * waits for the batch. The first waiter that finds no commit running takes everything queued
 * so far and appends it with one pwritev() (and, with store.synchronous=full, one fdatasync),
 * marks the batch done and wakes the others; writers arriving meanwhile share the next write.
 * When the log passes a multiple of the snapshot, the compactor thread opens a new segment,
 * encodes the table, writes it as the new snapshot (tmp, fsync, rename, fsync of the
 * directory) and removes the segments before the new one.
 */
#include "resume/resume_int.h"
#include "resume/sql.h"
#include "core/alloc.h"
#include "core/err.h"
#include "core/log.h"
#include "store/store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#define SNAP_NAME      "snapshot"
#define COMPACT_FACTOR 4    /* the log may grow to this many snapshots before one is written */
#define MAX_SEGS       1024 /* segments after a snapshot read at start-up */
#define FILE_MAX       (1ull << 36) /* bytes of one file read at start-up (64 GiB) */
/* A commit smaller than ZERO_SMALL that goes past the segment's written end also writes
 * ZERO_AHEAD zero bytes after its records (same write): the commits after it overwrite
 * them, so the file's size does not change and fdatasync writes the data alone, not the
 * inode as well (a second write to the disk, waited for, per commit). A large commit just
 * extends the file: its inode write is a small part of it. Start-up cuts the zeros off. */
#define ZERO_AHEAD (1u << 20)
#define ZERO_SMALL (64u << 10)

static const uint8_t zeros[ZERO_AHEAD]; /* in .bss: maps the zero page, costs no memory */

static void seg_path(const struct resume_log *l, uint64_t no, char *out, size_t n)
{
    snprintf(out, n, "%s/%012" PRIu64 ".log", l->dir, no);
}

/* fsyncs the log's directory, so a new or renamed name survives a power loss. */
static void sync_dir(const struct resume_log *l)
{
    int dfd = open(l->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
}

/* Opens segment no for appending (created): the descriptor, or -1 (logged). */
static int open_seg(struct resume_log *l, uint64_t no)
{
    char path[1100];
    seg_path(l, no, path, sizeof path);
    int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        oc_log(OC_LOG_ERROR, "resume: cannot open %s: %s", path, strerror(errno));
    else
        sync_dir(l);
    return fd;
}

/* Writes all n bytes of p to fd at offset at (at < 0: at the file's position): 0 or -1. With
 * pad (at >= 0 only), up to *pad zero bytes follow them in the same pwritev; *pad is set to
 * the zeros written (they only spare later inode writes: a failure to write them is not one
 * of the records). */
static int write_all(int fd, const uint8_t *p, size_t n, off_t at, size_t *pad)
{
    size_t want = pad ? *pad : 0;
    if (pad)
        *pad = 0;
    while (n > 0) {
        struct iovec v[2] = {{(void *)p, n}, {(void *)zeros, want}};
        ssize_t k = at < 0 ? write(fd, p, n) : pwritev(fd, v, want ? 2 : 1, at);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0 && want) { /* no room for the zeros, say: the records alone */
            want = 0;
            continue;
        }
        if (k <= 0)
            return -1;
        if ((size_t)k > n) { /* the records, and (some of) the zeros */
            *pad = (size_t)k - n;
            k = (ssize_t)n;
        }
        p += k;
        n -= (size_t)k;
        if (at >= 0)
            at += k;
    }
    return 0;
}

void resume_log_lock(struct resume_log *l)
{
    pthread_mutex_lock(&l->mu);
}

void resume_log_unlock(struct resume_log *l)
{
    pthread_mutex_unlock(&l->mu);
}

void resume_log_push(struct resume_log *l, int del, const struct resume_write *w, uint64_t *batch)
{
    struct resume_bytes *b = &l->fill;
    if (b->len == 0 || b->len - b->rec > RESUME_REC_SOFT) {
        if (b->len)
            resume_rec_close(b);
        resume_rec_open(b, RESUME_REC_CHANGES);
    }
    resume_rec_change(b, del, w);
    l->nfill++;
    *batch = l->filling;
}

/* Appends the sealed records p[0..n) to the open segment (and syncs it when l->sync): 0 or
 * OC_EIO. A write that fails is cut off again, so the segment never holds a partial record
 * before later ones. Only the leader of a commit calls it (busy set). */
static int append(struct resume_log *l, const uint8_t *p, size_t n)
{
    if (l->fd < 0 && !l->dir[0])
        return 0; /* no files: a host without HTTP (resume_log_open) */
    if (l->broken)
        return OC_EIO;
    size_t pad = l->off + n > l->end && n < ZERO_SMALL ? ZERO_AHEAD : 0;
    if (write_all(l->fd, p, n, (off_t)l->off, &pad) == 0 && (!l->sync || fdatasync(l->fd) == 0)) {
        l->off += n;
        if (l->off + pad > l->end)
            l->end = l->off + pad;
        return 0;
    }
    oc_log(OC_LOG_ERROR, "resume: cannot write the log segment %" PRIu64 " in %s: %s", l->seg,
           l->dir, strerror(errno));
    l->end = l->off;
    if (ftruncate(l->fd, (off_t)l->off) != 0) {
        oc_log(OC_LOG_ERROR,
               "resume: cannot cut the failed write off the log: %s; every later "
               "write fails until a restart",
               strerror(errno));
        l->broken = 1;
    }
    return OC_EIO;
}

/* Wakes the compactor when the changes since the snapshot (this log's, and the other
 * replicas' folded) pass compact_min and COMPACT_FACTOR times the snapshot. mu held. */
static void want_compaction(struct resume_log *l)
{
    uint64_t since = l->log_bytes + l->folded_bytes;
    if (l->compactor_started && !l->compact_wanted && since > l->compact_min &&
        since > COMPACT_FACTOR * l->snap_bytes) {
        l->compact_wanted = 1;
        pthread_cond_signal(&l->ccv);
    }
}

void resume_log_note_folded(struct resume_log *l, uint64_t bytes)
{
    pthread_mutex_lock(&l->mu);
    l->folded_bytes += bytes;
    want_compaction(l);
    pthread_mutex_unlock(&l->mu);
}

int resume_log_wait(struct resume_log *l, uint64_t batch)
{
    pthread_mutex_lock(&l->mu);
    while (l->done < batch) {
        if (l->busy) {
            pthread_cond_wait(&l->cv, &l->mu);
            continue;
        }
        /* Lead: take the filling batch; later writers queue into the next one. */
        struct resume_bytes take = l->fill;
        size_t n = l->nfill;
        uint64_t b = l->filling++;
        if (take.len)
            resume_rec_close(&take);
        l->fill = l->spare;
        l->fill.len = 0;
        l->nfill = 0;
        l->busy = 1;
        pthread_mutex_unlock(&l->mu);
        resume_rec_seal(take.p, take.len);
        /* shared: PostgreSQL first, so a crash between the two leaves the change where every
         * replica (this one at its restart) reads it, never only in this node's log */
        int rc = n && l->shared ? resume_shared_put(l->shared, take.p, take.len) : 0;
        if (!rc && n)
            rc = append(l, take.p, take.len);
        pthread_mutex_lock(&l->mu);
        l->spare = take;
        l->busy = 0;
        l->done = b;
        if (rc)
            l->failed = b;
        else
            l->log_bytes += take.len;
        atomic_fetch_add(&l->commits, 1);
        atomic_fetch_add(&l->rows, n);
        want_compaction(l);
        pthread_cond_broadcast(&l->cv);
    }
    int rc = l->failed == batch ? OC_EIO : 0;
    pthread_mutex_unlock(&l->mu);
    return rc;
}

/* Writes b (a whole snapshot, sealed) as DIR/snapshot: tmp, fsync, rename, fsync of the
 * directory. 0 or OC_EIO (logged). */
static int write_snapshot(struct resume_log *l, const struct resume_bytes *b)
{
    char tmp[1100], path[1100];
    snprintf(tmp, sizeof tmp, "%s/%s.tmp", l->dir, SNAP_NAME);
    snprintf(path, sizeof path, "%s/%s", l->dir, SNAP_NAME);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    int rc = fd < 0 || write_all(fd, b->p, b->len, -1, NULL) != 0 || fsync(fd) != 0;
    if (fd >= 0 && close(fd) != 0)
        rc = 1;
    if (!rc && rename(tmp, path) != 0)
        rc = 1;
    if (rc) {
        oc_log(OC_LOG_ERROR, "resume: cannot write the snapshot %s: %s", tmp, strerror(errno));
        unlink(tmp);
        return OC_EIO;
    }
    sync_dir(l);
    return 0;
}

/* The snapshot's bytes: its head (the first segment after it, and the shared cursor: every
 * row of PostgreSQL's resume_changes up to it is in the table), the changes of t (or what
 * snap encodes), its end. */
static void encode_snapshot(struct resume_bytes *b, uint64_t first, uint64_t cursor,
                            const struct resume_table *t, resume_snap_fn snap, void *arg)
{
    resume_rec_u64s(b, RESUME_REC_SNAP_HEAD, first, cursor);
    size_t from = b->len;
    if (t)
        resume_table_encode(t, b);
    else
        snap(arg, b);
    uint64_t changes = 0;
    for (size_t off = from; off < b->len;) { /* count what was encoded */
        uint32_t len, count;
        memcpy(&len, b->p + off + 8, 4);
        memcpy(&count, b->p + off + 12, 4);
        changes += count;
        off += RESUME_REC_HEAD + len;
    }
    resume_rec_u64s(b, RESUME_REC_SNAP_END, changes, 0);
    resume_rec_seal(b->p, b->len);
}

/* Removes the segments numbered below first. */
static void drop_segments(struct resume_log *l, uint64_t first)
{
    DIR *d = opendir(l->dir);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        char *end, path[1100];
        uint64_t no = strtoull(e->d_name, &end, 10);
        if (end != e->d_name && strcmp(end, ".log") == 0 && no < first) {
            seg_path(l, no, path, sizeof path);
            unlink(path);
        }
    }
    if (d)
        closedir(d);
}

int resume_log_compact(struct resume_log *l)
{
    struct resume_bytes b = {0};
    if (!l->snap || !l->dir[0])
        return OC_EINVAL;
    /* switch segments between two commits: every change queued from now on goes to the new
     * one, and the table encoded below holds at least everything in the old ones */
    pthread_mutex_lock(&l->mu);
    while (l->busy)
        pthread_cond_wait(&l->cv, &l->mu);
    l->busy = 1;
    pthread_mutex_unlock(&l->mu);
    /* read before the switch: every row up to it was folded before, so the table encoded
     * below holds it; a row folded later is read again after a restart */
    uint64_t cursor = l->shared ? resume_shared_cursor(l->shared) : l->cursor0;
    uint64_t next = l->seg + 1;
    int fd = open_seg(l, next), rc = fd < 0 ? OC_EIO : 0;
    pthread_mutex_lock(&l->mu);
    if (!rc) {
        close(l->fd);
        l->fd = fd;
        l->seg = next;
        l->off = l->end = 0;
        l->log_bytes = 0;
        l->folded_bytes = 0;
        l->broken = 0;
    }
    l->busy = 0;
    pthread_cond_broadcast(&l->cv);
    pthread_mutex_unlock(&l->mu);
    if (rc)
        return rc;
    /* the table from now on (the callback may unlock it between chunks): a change made
     * meanwhile is in the new segment, whichever of its values the snapshot took, and
     * replaying it sets it again (each change sets or removes one device's report) */
    encode_snapshot(&b, next, cursor, NULL, l->snap, l->snap_arg);
    rc = write_snapshot(l, &b);
    if (!rc) {
        drop_segments(l, next);
        l->cursor0 = cursor;
        if (l->shared)
            resume_shared_snapshotted(l->shared, b.p, b.len, cursor);
        pthread_mutex_lock(&l->mu);
        l->snap_bytes = b.len;
        pthread_mutex_unlock(&l->mu);
        atomic_fetch_add(&l->compactions, 1);
    }
    resume_bytes_free(&b);
    return rc;
}

/* The compactor: writes a snapshot whenever a commit finds the log large enough. */
static void *compactor_main(void *arg)
{
    struct resume_log *l = arg;
    pthread_mutex_lock(&l->mu);
    for (;;) {
        while (!l->compact_wanted && !l->stopping)
            pthread_cond_wait(&l->ccv, &l->mu);
        if (l->stopping)
            break;
        pthread_mutex_unlock(&l->mu);
        resume_log_compact(l);
        pthread_mutex_lock(&l->mu);
        l->compact_wanted = 0;
    }
    pthread_mutex_unlock(&l->mu);
    return NULL;
}

void resume_log_start_compactor(struct resume_log *l, uint64_t min_bytes, resume_snap_fn snap,
                                void *arg)
{
    l->compact_min = min_bytes;
    l->snap = snap;
    l->snap_arg = arg;
    pthread_cond_init(&l->ccv, NULL);
    l->compactor_started = pthread_create(&l->compactor, NULL, compactor_main, l) == 0;
    if (!l->compactor_started) {
        pthread_cond_destroy(&l->ccv);
        oc_log(OC_LOG_WARN, "resume: no compactor thread; the log is not compacted");
    }
}

void resume_log_close(struct resume_log *l)
{
    if (l->compactor_started) {
        pthread_mutex_lock(&l->mu);
        l->stopping = 1;
        pthread_cond_signal(&l->ccv);
        pthread_mutex_unlock(&l->mu);
        pthread_join(l->compactor, NULL);
        pthread_cond_destroy(&l->ccv);
        l->compactor_started = 0;
    }
    if (l->fd >= 0)
        close(l->fd);
    l->fd = -1;
    resume_bytes_free(&l->fill);
    resume_bytes_free(&l->spare);
    pthread_cond_destroy(&l->cv);
    pthread_mutex_destroy(&l->mu);
}

/* --- start-up --- */

/* What the loader of one file keeps between records. */
struct load {
    struct resume_table *t;
    int snapshot;      /* reading the snapshot: marks expected */
    int head, end;     /* marks seen */
    uint64_t first;    /* the head's first segment */
    uint64_t cursor;   /* the head's shared cursor */
    int merge;         /* fold reports with resume_merge (resume.shared), not set them */
    uint64_t changes;  /* changes applied from this file */
    uint64_t declared; /* the end's count */
};

static int load_one(void *arg, int kind, uint64_t a, uint64_t c, const struct resume_op *op)
{
    struct load *ld = arg;
    if (kind == RESUME_REC_CHANGES) {
        if (ld->snapshot && (!ld->head || ld->end))
            return -1;
        if (ld->merge && !op->del ? resume_table_merge(ld->t, op, SIZE_MAX, 1 << 30) < 0
                                  : resume_table_apply(ld->t, op) != 0)
            return -1;
        ld->changes++;
        return 0;
    }
    if (!ld->snapshot || (kind == RESUME_REC_SNAP_HEAD && ld->head) ||
        (kind == RESUME_REC_SNAP_END && (!ld->head || ld->end)))
        return -1;
    if (kind == RESUME_REC_SNAP_HEAD) {
        ld->head = 1;
        ld->first = a;
        ld->cursor = c;
    } else {
        ld->end = 1;
        ld->declared = a;
    }
    return 0;
}

/* Reads the whole of path into *out (the caller frees; *len its bytes, NUL after them): 0, or
 * OC_EIO with "PATH: ..." in err. */
static int read_whole(const char *path, char **out, size_t *len, char *err, size_t errlen)
{
    struct stat st = {0};
    size_t got = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    *out = NULL;
    if (fd < 0 || fstat(fd, &st) != 0 || (uint64_t)st.st_size > FILE_MAX) {
        snprintf(err, errlen, "%s: cannot read: %s", path,
                 fd >= 0 && (uint64_t)st.st_size > FILE_MAX ? "larger than 64 GiB"
                                                            : strerror(errno));
        if (fd >= 0)
            close(fd);
        return OC_EIO;
    }
    char *p = oc_malloc((size_t)st.st_size + 1);
    while (got < (size_t)st.st_size) {
        ssize_t k = read(fd, p + got, (size_t)st.st_size - got);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break;
        got += (size_t)k;
    }
    close(fd);
    if (got < (size_t)st.st_size) {
        snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
        free(p);
        return OC_EIO;
    }
    p[got] = '\0';
    *out = p;
    *len = got;
    return 0;
}

/* 1 when p[0..n) are all zero bytes. */
static int zero_tail(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return 0;
    return 1;
}

/* Reads path into ld. *size its bytes. torn_ok: a torn tail (a record cut short, or zeros a
 * file system extended the file with) is cut off (a segment); otherwise any damage refuses
 * (the snapshot). 0, or
 * OC_EIO with "PATH: offset N: what" in err. */
static int load_file(const char *path, struct load *ld, int torn_ok, uint64_t *size, char *err,
                     size_t errlen)
{
    char *data = NULL;
    size_t len = 0;
    struct resume_scan sc;
    if (read_whole(path, &data, &len, err, errlen) != 0)
        return OC_EIO;
    int rc = resume_log_scan((const uint8_t *)data, len, load_one, ld, &sc);
    int ahead =
        rc == 0 && sc.used < len && zero_tail((const uint8_t *)data + sc.used, len - sc.used);
    free(data);
    *size = len;
    if (rc == 0 && sc.used < len && sc.torn && torn_ok) {
        if (!ahead) /* only zeros: the space a commit wrote ahead (ZERO_AHEAD) */
            oc_log(OC_LOG_WARN,
                   "resume: %s: %zu bytes from offset %zu are a write cut short by a crash (%s):"
                   " cut off; no acknowledged write is in them",
                   path, len - sc.used, sc.used, sc.why);
        int fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0 || ftruncate(fd, (off_t)sc.used) != 0 || fsync(fd) != 0) {
            snprintf(err, errlen, "%s: cannot cut at offset %zu: %s", path, sc.used,
                     strerror(errno));
            if (fd >= 0)
                close(fd);
            return OC_EIO;
        }
        close(fd);
        *size = sc.used;
        return 0;
    }
    if (rc == 0 && sc.used == len)
        return 0;
    snprintf(err, errlen,
             "%s: offset %zu: %s, %zu bytes before the end; the file is damaged (acknowledged "
             "writes may follow): restore it, or cut it there (truncate -s %zu) to start without "
             "what follows",
             path, sc.used, sc.why ? sc.why : "unexpected", len - sc.used, sc.used);
    return OC_EIO;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* The numbers of the segments in the log's directory, sorted (*n set; at most MAX_SEGS). */
static int list_segs(const struct resume_log *l, uint64_t *nos, int *n)
{
    DIR *d = opendir(l->dir);
    struct dirent *e;
    *n = 0;
    while (d && (e = readdir(d)) != NULL) {
        char *end;
        uint64_t no = strtoull(e->d_name, &end, 10);
        if (end == e->d_name || strcmp(end, ".log") != 0)
            continue;
        if (*n == MAX_SEGS) {
            closedir(d);
            return OC_ETOOBIG;
        }
        nos[(*n)++] = no;
    }
    if (d)
        closedir(d);
    qsort(nos, (size_t)*n, sizeof *nos, cmp_u64);
    return 0;
}

/* The first start of the log: imports what SQLite holds and writes it as the snapshot before
 * segment 1. */
static int first_start(struct resume_log *l, struct store *store, struct resume_table *t, char *err,
                       size_t errlen)
{
    struct resume_bytes b = {0};
    if (store && resume_store_import(store, t) != 0) {
        snprintf(err, errlen, "cannot import resume_reports from the store: %s",
                 store_errmsg(store));
        return OC_EDB;
    }
    encode_snapshot(&b, 1, 0, t, NULL, NULL);
    int rc = write_snapshot(l, &b);
    if (rc)
        snprintf(err, errlen, "%s/%s: cannot write the first snapshot", l->dir, SNAP_NAME);
    else if (t->npoints)
        oc_log(OC_LOG_INFO, "resume: imported %zu points from the store into %s", t->npoints,
               l->dir);
    l->snap_bytes = b.len;
    resume_bytes_free(&b);
    return rc;
}

int resume_log_open(struct resume_log *l, const char *data_dir, int sync, int merge,
                    struct store *store, struct resume_table *t, char *err, size_t errlen)
{
    char path[1100];
    uint64_t *nos = NULL, size;
    struct stat st;
    int n = 0, rc = 0;
    memset(l, 0, sizeof *l);
    pthread_mutex_init(&l->mu, NULL);
    pthread_cond_init(&l->cv, NULL);
    l->fd = -1;
    l->sync = sync;
    l->filling = 1;
    if (!data_dir)
        return 0; /* no files: nothing is loaded or written */
    snprintf(l->dir, sizeof l->dir, "%s/resume", data_dir);
    if (mkdir(l->dir, 0700) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "%s: cannot create: %s", l->dir, strerror(errno));
        return OC_EIO;
    }
    nos = oc_malloc(MAX_SEGS * sizeof *nos);
    if (list_segs(l, nos, &n) != 0) {
        snprintf(err, errlen, "%s: more than %d log segments", l->dir, MAX_SEGS);
        rc = OC_EIO;
        goto out;
    }
    snprintf(path, sizeof path, "%s/%s", l->dir, SNAP_NAME);
    struct load ld = {.t = t, .snapshot = 1, .first = 1, .merge = merge};
    if (stat(path, &st) != 0) {
        if (n > 0) {
            snprintf(err, errlen, "%s: log segments but no snapshot", l->dir);
            rc = OC_EIO;
            goto out;
        }
        rc = first_start(l, store, t, err, errlen);
    } else {
        rc = load_file(path, &ld, 0, &l->snap_bytes, err, errlen);
        if (!rc && (!ld.end || ld.declared != ld.changes)) {
            snprintf(err, errlen, "%s: not a whole snapshot (%s)", path,
                     ld.end ? "its count of changes differs" : "no end mark");
            rc = OC_EIO;
        }
    }
    l->seg = ld.first;
    l->cursor0 = ld.cursor;
    for (int i = 0; !rc && i < n; i++) {
        if (nos[i] < ld.first) { /* covered by the snapshot: a compaction's leftover */
            seg_path(l, nos[i], path, sizeof path);
            unlink(path);
            continue;
        }
        struct load sl = {.t = t, .merge = merge};
        seg_path(l, nos[i], path, sizeof path);
        rc = load_file(path, &sl, 1, &size, err, errlen);
        l->log_bytes += size;
        l->seg = nos[i];
        l->off = l->end = size;
    }
    if (!rc) {
        l->fd = open_seg(l, l->seg);
        if (l->fd < 0) {
            snprintf(err, errlen, "%s: cannot open log segment %" PRIu64, l->dir, l->seg);
            rc = OC_EIO;
        }
    }
out:
    free(nos);
    if (rc) {
        pthread_cond_destroy(&l->cv);
        pthread_mutex_destroy(&l->mu);
    }
    return rc;
}

/* --- the import from SQLite (the store of versions before the log) --- */

/* Reads one stored row into w. */
static void read_row(struct store_stmt *st, struct resume_write *w)
{
    const char *s[4];
    char *dst[4] = {w->profile, w->title, w->r.device, w->r.session};
    size_t max[4] = {RESUME_ID_MAX, RESUME_ID_MAX, RESUME_DEVICE_MAX, RESUME_SESSION_MAX};
    for (int i = 0; i < 4; i++) {
        s[i] = store_col_text(st, i);
        size_t n = s[i] ? strnlen(s[i], max[i]) : 0;
        memcpy(dst[i], s[i] ? s[i] : "", n);
        dst[i][n] = '\0';
    }
    w->r.position_ms = store_col_int(st, 4);
    w->r.duration_ms = store_col_int(st, 5);
    w->r.seq = store_col_int(st, 6);
    w->r.ts = store_col_int(st, 7);
    w->r.t = store_col_int(st, 8);
    w->r.since = store_col_int(st, 9);
    int64_t state = store_col_int(st, 10);
    w->r.state =
        state >= RESUME_PAUSED && state <= RESUME_ENDED ? (enum resume_state)state : RESUME_PAUSED;
}

int resume_store_import(struct store *s, struct resume_table *t)
{
    struct store_stmt *st = NULL;
    struct resume_write w;
    int rc;
    store_lock(s);
    rc = store_prepare(s, RESUME_SQL_ALL, &st);
    while (!rc && (rc = store_step(st)) == STORE_ROW) {
        struct resume_point *p;
        read_row(st, &w);
        if (!resume_id_valid(w.profile, RESUME_ID_MAX) ||
            !resume_id_valid(w.title, RESUME_ID_MAX) ||
            !resume_id_valid(w.r.device, RESUME_DEVICE_MAX) ||
            !resume_id_valid(w.r.session, RESUME_SESSION_MAX)) {
            oc_log(OC_LOG_ERROR, "resume: skipping a stored report with a malformed id");
            continue;
        }
        rc = resume_table_put(t, w.profile, w.title, SIZE_MAX, 1 << 30, &p);
        if (rc)
            break;
        if (p->n >= RESUME_DEVICES)
            continue; /* not written by this binary: one row per device, at most 16 */
        resume_point_reserve(p);
        p->r[p->n++] = w.r; /* as stored, since included */
    }
    if (rc == STORE_DONE)
        rc = 0;
    if (st)
        store_reset(st);
    store_unlock(s);
    return rc < 0 ? rc : 0;
}
