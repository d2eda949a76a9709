/*
 * shared.c - resume points shared by several replicas through PostgreSQL (resume.shared with
 * store.backend postgres; docs/internals/resume.md, "Several replicas").
 *
 * The leader of each group commit inserts the batch's sealed change records (the log's own
 * bytes) as one row of resume_changes, under a transaction-level advisory lock, so ids commit
 * in their order and "id above the last folded" misses nothing. A poller thread reads the rows
 * after its cursor and folds the other replicas' changes into the table with resume_merge
 * (which converges in any order, any number of times). The cursor is kept in each snapshot;
 * after one, the replica records it in resume_replicas, uploads the snapshot as resume_base
 * when it is newer than the one there, and deletes the rows that every live replica and the
 * base have passed. Two connections of its own (store_open_opts): the leader's and the
 * poller's (shared with the compactor under mu).
 */
#include "resume/resume_int.h"
#include "core/alloc.h"
#include "core/err.h"
#include "core/log.h"
#include "store/store.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#define LOCK_KEY     0x6f6e6375652d7273LL /* "oncue-rs": the advisory lock of the inserts */
#define POLL_ROWS    16                   /* rows read per query (each one group commit) */
#define HEARTBEAT_MS 10000                /* resume_replicas.seen_ms refreshed this often */
#define NODE_FILE    "node"               /* DATA/resume/node: this replica's id */
#define NODE_LEN     16                   /* hex digits of a node id */

/* One statement: the lock (held to the commit), then the row, whose identity value is drawn
 * after the lock: the previous holder's row is committed (visible) before this id exists. */
#define SQL_INSERT                                                                                 \
    "WITH l AS MATERIALIZED (SELECT pg_advisory_xact_lock(?3)) "                                   \
    "INSERT INTO resume_changes (node, payload) SELECT ?1, ?2 FROM l"
/* The rows after a cursor; another replica's with its payload, this one's without. */
#define SQL_POLL                                                                                   \
    "SELECT id, node = ?2, CASE WHEN node = ?2 THEN ''::bytea ELSE payload END "                   \
    "FROM resume_changes WHERE id > ?1 ORDER BY id LIMIT ?3"
#define SQL_NOW_MS "(extract(epoch from clock_timestamp()) * 1000)::bigint"
#define SQL_REGISTER                                                                               \
    "INSERT INTO resume_replicas (node, cursor, seen_ms) VALUES (?1, ?2, " SQL_NOW_MS ") "         \
    "ON CONFLICT (node) DO UPDATE SET cursor = excluded.cursor, seen_ms = excluded.seen_ms"
#define SQL_HEARTBEAT "UPDATE resume_replicas SET seen_ms = " SQL_NOW_MS " WHERE node = ?1"
#define SQL_BASE_HEAD "SELECT cursor, trimmed FROM resume_base WHERE id = 1"
#define SQL_BASE      "SELECT cursor, payload FROM resume_base WHERE id = 1"
#define SQL_BASE_PUT                                                                               \
    "INSERT INTO resume_base (id, cursor, trimmed, payload) VALUES (1, ?1, 0, ?2) "                \
    "ON CONFLICT (id) DO UPDATE SET cursor = excluded.cursor, payload = excluded.payload "         \
    "WHERE resume_base.cursor < excluded.cursor"
/* Up to the least of the base's cursor and every live replica's (seen within ?1 ms). */
#define SQL_TRIM                                                                                   \
    "WITH t AS (SELECT least(b.cursor, (SELECT coalesce(min(cursor), 0) FROM resume_replicas "     \
    "WHERE seen_ms > " SQL_NOW_MS " - ?1)) AS upto FROM resume_base b WHERE b.id = 1), "           \
    "u AS (UPDATE resume_base SET trimmed = greatest(trimmed, (SELECT upto FROM t)) "              \
    "WHERE id = 1 AND (SELECT upto FROM t) IS NOT NULL) "                                          \
    "DELETE FROM resume_changes WHERE id <= (SELECT upto FROM t)"

struct resume_shared {
    struct store *ins;  /* the leader's connection (one leader at a time: the log's busy) */
    struct store *rd;   /* the poller's and the compactor's; under mu */
    pthread_mutex_t mu; /* guards rd, stop (taken before the table's lock, never under it) */
    pthread_cond_t cv;  /* wakes the poller to stop */
    char node[NODE_LEN + 1];
    int64_t poll_ms;     /* resume.shared_poll_ms */
    int64_t forget_ms;   /* resume.shared_forget_s: a replica silent this long stops trims */
    resume_fold_fn fold; /* folds one row's changes into the table */
    void *fold_arg;
    atomic_ullong cursor; /* every row up to it is folded */
    int64_t beat_ms;      /* monotonic time of the last heartbeat */
    pthread_t th;
    int started, stop;
    int failing;     /* the last poll failed: the next failures are not logged again */
    int ins_failing; /* the same for the leader's inserts (one leader at a time) */
    atomic_ullong inserts, insert_errors, rows, poll_errors, trims;
};

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Reads DIR/node, or makes it (random, 0600, synced): 0 or OC_EIO with why in err. */
static int node_id(const char *dir, char *out, char *err, size_t errlen)
{
    char path[1100], buf[NODE_LEN + 2] = {0};
    snprintf(path, sizeof path, "%s/%s", dir, NODE_FILE);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        ssize_t k = read(fd, buf, NODE_LEN + 1);
        close(fd);
        if (k == NODE_LEN && strspn(buf, "0123456789abcdef") == NODE_LEN) {
            memcpy(out, buf, NODE_LEN + 1);
            return 0;
        }
        snprintf(err, errlen, "%s: not a node id (%d hex digits)", path, NODE_LEN);
        return OC_EIO;
    }
    unsigned char r[NODE_LEN / 2];
    if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r) {
        snprintf(err, errlen, "getrandom: %s", strerror(errno));
        return OC_EIO;
    }
    for (size_t i = 0; i < sizeof r; i++)
        snprintf(out + 2 * i, 3, "%02x", r[i]);
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0 || write(fd, out, NODE_LEN) != NODE_LEN || fsync(fd) != 0) {
        snprintf(err, errlen, "%s: cannot write: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return OC_EIO;
    }
    close(fd);
    return 0;
}

/* Runs sql (no rows expected) with v bound on s: 0 or OC_EDB (logged with what unless
 * what is NULL). */
static int run(struct store *s, const char *sql, const struct store_val *v, size_t n,
               const char *what)
{
    struct store_stmt *st = NULL;
    store_lock(s);
    int rc = store_prepare(s, sql, &st);
    if (!rc)
        rc = store_bind_list(st, v, n);
    if (!rc) {
        int k = store_step(st);
        rc = k == STORE_DONE || k == STORE_ROW ? 0 : OC_EDB;
    }
    if (rc && what)
        oc_log(OC_LOG_ERROR, "resume: shared: cannot %s: %s", what, store_errmsg(s));
    if (st)
        store_reset(st);
    store_unlock(s);
    return rc;
}

int resume_shared_put(struct resume_shared *sh, const uint8_t *p, size_t n)
{
    struct store_val v[] = {STORE_TEXT(sh->node), STORE_BLOB(p, n), STORE_INT(LOCK_KEY)};
    int rc = run(sh->ins, SQL_INSERT, v, 3, NULL);
    if (rc && !sh->ins_failing)
        oc_log(OC_LOG_ERROR,
               "resume: shared: cannot insert a commit's changes (its writes answer 503; logged"
               " again once an insert works): %s",
               store_errmsg(sh->ins));
    else if (!rc && sh->ins_failing)
        oc_log(OC_LOG_INFO, "resume: shared: inserting commits again");
    sh->ins_failing = rc != 0;
    atomic_fetch_add(rc ? &sh->insert_errors : &sh->inserts, 1);
    return rc ? OC_EDB : 0;
}

/* Folds the base (a replica's snapshot standing for the rows trimmed) when this replica's
 * cursor is behind what was trimmed; then the cursor is the base's. rd under mu. 0 or
 * OC_EDB. */
static int catch_base(struct resume_shared *sh)
{
    struct store_stmt *st = NULL;
    int64_t trimmed = 0, cursor = 0;
    int rc;
    store_lock(sh->rd);
    rc = store_prepare(sh->rd, SQL_BASE_HEAD, &st);
    if (!rc && (rc = store_step(st)) == STORE_ROW) {
        cursor = store_col_int(st, 0);
        trimmed = store_col_int(st, 1);
    }
    if (st)
        store_reset(st);
    rc = rc < 0 ? OC_EDB : 0;
    if (!rc && trimmed > 0 && (uint64_t)trimmed > atomic_load(&sh->cursor)) {
        rc = store_prepare(sh->rd, SQL_BASE, &st);
        if (!rc && (rc = store_step(st)) == STORE_ROW) {
            size_t n = 0;
            const void *p = store_col_blob(st, 1, &n);
            cursor = store_col_int(st, 0);
            oc_log(OC_LOG_INFO,
                   "resume: shared: rows up to %" PRId64 " were trimmed; loading the base (%zu"
                   " bytes, up to row %" PRId64 ")",
                   trimmed, n, cursor);
            sh->fold(sh->fold_arg, p, n, 0);
            if ((uint64_t)cursor > atomic_load(&sh->cursor))
                atomic_store(&sh->cursor, (uint64_t)cursor);
            rc = 0;
        } else {
            rc = rc < 0 ? OC_EDB : 0;
        }
        if (st)
            store_reset(st);
    }
    if (rc)
        oc_log(OC_LOG_ERROR, "resume: shared: cannot read the base: %s", store_errmsg(sh->rd));
    store_unlock(sh->rd);
    return rc;
}

/* Reads and folds the rows after the cursor, POLL_ROWS at a time, until none is left (own
 * rows too when own: at start-up). rd under mu. The rows folded, or OC_EDB. */
static int64_t poll_rows(struct resume_shared *sh, int own)
{
    int64_t total = 0;
    for (;;) {
        struct store_stmt *st = NULL;
        int got = 0, rc;
        store_lock(sh->rd);
        rc = store_prepare(sh->rd, SQL_POLL, &st);
        if (!rc)
            rc = STORE_BIND(st, STORE_INT((int64_t)atomic_load(&sh->cursor)),
                            STORE_TEXT(own ? "" : sh->node), STORE_INT(POLL_ROWS));
        while (!rc && (rc = store_step(st)) == STORE_ROW) {
            int64_t id = store_col_int(st, 0);
            size_t n = 0;
            const void *p = store_col_blob(st, 2, &n);
            if (!store_col_int(st, 1) && n)
                sh->fold(sh->fold_arg, p, n, id);
            atomic_store(&sh->cursor, (uint64_t)id); /* after the fold: every row up to it */
            got++;
            rc = 0;
        }
        if (st)
            store_reset(st);
        if (rc < 0) {
            if (!sh->failing)
                oc_log(OC_LOG_ERROR,
                       "resume: shared: cannot read the changes (retried every poll, logged"
                       " again once it works): %s",
                       store_errmsg(sh->rd));
            sh->failing = 1;
            store_unlock(sh->rd);
            atomic_fetch_add(&sh->poll_errors, 1);
            return OC_EDB;
        }
        if (sh->failing)
            oc_log(OC_LOG_INFO, "resume: shared: reading the changes again, after row %" PRIu64,
                   (uint64_t)atomic_load(&sh->cursor));
        sh->failing = 0;
        store_unlock(sh->rd);
        atomic_fetch_add(&sh->rows, (unsigned long long)got);
        total += got;
        if (got < POLL_ROWS)
            return total;
    }
}

/* The poller: folds the other replicas' rows every poll_ms, refreshes its heartbeat, and
 * reads the base again when rows it needs were trimmed (it was silent past the bound). */
static void *poller_main(void *arg)
{
    struct resume_shared *sh = arg;
    pthread_mutex_lock(&sh->mu);
    while (!sh->stop) {
        poll_rows(sh, 0);
        int64_t now = mono_ms();
        if (now - sh->beat_ms >= HEARTBEAT_MS) {
            struct store_val v[] = {STORE_TEXT(sh->node)};
            if (run(sh->rd, SQL_HEARTBEAT, v, 1, "refresh the heartbeat") == 0)
                sh->beat_ms = now;
            catch_base(sh);
        }
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        int64_t ns = until.tv_nsec + (sh->poll_ms % 1000) * 1000000;
        until.tv_sec += (time_t)(sh->poll_ms / 1000 + ns / 1000000000);
        until.tv_nsec = (long)(ns % 1000000000);
        if (!sh->stop)
            pthread_cond_timedwait(&sh->cv, &sh->mu, &until);
    }
    pthread_mutex_unlock(&sh->mu);
    return NULL;
}

int resume_shared_open(const struct store_opts *o, const char *dir, uint64_t cursor,
                       int64_t poll_ms, int64_t forget_s, resume_fold_fn fold, void *arg,
                       struct resume_shared **out, char *err, size_t errlen)
{
    struct resume_shared *sh = oc_calloc(1, sizeof *sh);
    int rc;
    *out = NULL;
    pthread_mutex_init(&sh->mu, NULL);
    pthread_cond_init(&sh->cv, NULL);
    sh->poll_ms = poll_ms;
    sh->forget_ms = forget_s * 1000;
    sh->fold = fold;
    sh->fold_arg = arg;
    atomic_store(&sh->cursor, cursor);
    if ((rc = node_id(dir, sh->node, err, errlen)) != 0)
        goto fail;
    if ((rc = store_open_opts(o, &sh->ins, err, errlen)) != 0 ||
        (rc = store_open_opts(o, &sh->rd, err, errlen)) != 0)
        goto fail;
    struct store_val v[] = {STORE_TEXT(sh->node), STORE_INT((int64_t)cursor)};
    /* registered (with the snapshot's cursor) before reading: no trim passes it from now on */
    if (run(sh->rd, SQL_REGISTER, v, 2, "register the replica") != 0 || catch_base(sh) != 0) {
        snprintf(err, errlen, "PostgreSQL: %s", store_errmsg(sh->rd));
        rc = OC_EDB;
        goto fail;
    }
    /* everything after the snapshot's cursor, this replica's rows too (a commit inserted
     * there whose log write a crash cut short): folding twice changes nothing */
    int64_t t0 = mono_ms(), n = poll_rows(sh, 1);
    if (n < 0) {
        snprintf(err, errlen, "PostgreSQL: cannot read resume_changes: %s", store_errmsg(sh->rd));
        rc = OC_EDB;
        goto fail;
    }
    sh->beat_ms = mono_ms();
    oc_log(OC_LOG_INFO,
           "resume: shared through PostgreSQL as node %s: %" PRId64 " rows after %" PRIu64
           " folded in %" PRId64 " ms",
           sh->node, n, cursor, sh->beat_ms - t0);
    *out = sh;
    return 0;
fail:
    resume_shared_close(sh);
    return rc;
}

void resume_shared_start(struct resume_shared *sh)
{
    sh->started = pthread_create(&sh->th, NULL, poller_main, sh) == 0;
    if (!sh->started)
        oc_log(OC_LOG_ERROR, "resume: shared: no poller thread; other replicas' writes are not"
                             " folded until a restart");
}

uint64_t resume_shared_cursor(struct resume_shared *sh)
{
    return atomic_load(&sh->cursor);
}

void resume_shared_snapshotted(struct resume_shared *sh, const uint8_t *p, size_t n,
                               uint64_t cursor)
{
    struct store_val reg[] = {STORE_TEXT(sh->node), STORE_INT((int64_t)cursor)};
    struct store_val base[] = {STORE_INT((int64_t)cursor), STORE_BLOB(p, n)};
    struct store_val trim[] = {STORE_INT(sh->forget_ms)};
    pthread_mutex_lock(&sh->mu);
    if (run(sh->rd, SQL_REGISTER, reg, 2, "record the snapshot's cursor") == 0 &&
        run(sh->rd, SQL_BASE_PUT, base, 2, "upload the base") == 0 &&
        run(sh->rd, SQL_TRIM, trim, 1, "trim the changes") == 0) {
        int k = store_changes(sh->rd);
        atomic_fetch_add(&sh->trims, 1);
        if (k > 0)
            oc_log(OC_LOG_INFO, "resume: shared: trimmed %d rows (snapshot up to row %" PRIu64 ")",
                   k, cursor);
    }
    pthread_mutex_unlock(&sh->mu);
}

void resume_shared_stats(struct resume_shared *sh, uint64_t out[5])
{
    out[0] = atomic_load(&sh->inserts);
    out[1] = atomic_load(&sh->insert_errors);
    out[2] = atomic_load(&sh->rows);
    out[3] = atomic_load(&sh->poll_errors);
    out[4] = atomic_load(&sh->cursor);
}

void resume_shared_stop(struct resume_shared *sh)
{
    if (!sh || !sh->started)
        return;
    pthread_mutex_lock(&sh->mu);
    sh->stop = 1;
    pthread_cond_signal(&sh->cv);
    pthread_mutex_unlock(&sh->mu);
    pthread_join(sh->th, NULL);
    sh->started = 0;
}

void resume_shared_close(struct resume_shared *sh)
{
    if (!sh)
        return;
    resume_shared_stop(sh);
    store_close(sh->ins);
    store_close(sh->rd);
    pthread_cond_destroy(&sh->cv);
    pthread_mutex_destroy(&sh->mu);
    free(sh);
}
