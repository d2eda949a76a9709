/*
 * store.c - the store interface (store.h): the SQLite backend, and the dispatch to the
 * PostgreSQL one (pg.c) when the store was opened on it (s->pg, st->pg set).
 *
 * SQLite: one connection in WAL mode, shared by every thread behind a recursive mutex. Prepared
 * statements are cached by SQL text in a small chained hash map (capped, finalized at close).
 * Schema migrations live in migrate.c and run from store_open.
 */
#include "store/store_int.h"
#include "store/migrate.h"
#include "store/sql.h"
#include "core/alloc.h"
#include "core/err.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define STORE_MAX_STMTS 1024 /* distinct SQL texts cached at most */
#define STORE_BUSY_MS   5000 /* busy_timeout: wait for another process's write lock */
#define STORE_DB_NAME   "oncue.db"

/* FNV-1a over a NUL-terminated string. */
static uint32_t hash_str(const char *p)
{
    uint32_t h = 2166136261u;
    for (; *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    return h;
}

/* Creates dir and its missing parents with mode 0700; 0 or OC_EIO with a reason. */
static int make_dirs(const char *dir, char *err, size_t errlen)
{
    char path[4096];
    struct stat sb;
    if (snprintf(path, sizeof path, "%s", dir) >= (int)sizeof path || !*path) {
        snprintf(err, errlen, "%s: data directory path too long or empty", dir);
        return OC_EIO;
    }
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(path, 0700) != 0 && errno != EEXIST) {
            snprintf(err, errlen, "%s: cannot create directory: %s", path, strerror(errno));
            return OC_EIO;
        }
        *p = '/';
    }
    if (mkdir(path, 0700) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "%s: cannot create directory: %s", path, strerror(errno));
        return OC_EIO;
    }
    if (stat(path, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        snprintf(err, errlen, "%s: not a directory", path);
        return OC_EIO;
    }
    return 0;
}

/* Applies the connection PRAGMAs; 0 or OC_EDB with a reason. */
static int configure(struct store *s, enum store_sync sync, char *err, size_t errlen)
{
    char sql[128];
    sqlite3_stmt *st = NULL;
    int rc = OC_EDB;
    snprintf(sql, sizeof sql, STORE_SQL_CONFIGURE, sync == STORE_SYNC_FULL ? "FULL" : "NORMAL",
             STORE_BUSY_MS);
    if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK)
        goto out;
    /* journal_mode answers with the mode in effect, which must be wal */
    if (sqlite3_prepare_v2(s->db, STORE_SQL_WAL, -1, &st, NULL) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW)
        goto out;
    const unsigned char *mode = sqlite3_column_text(st, 0);
    if (!mode || strcmp((const char *)mode, "wal") != 0) {
        snprintf(err, errlen, "cannot switch the database to WAL mode (got %s)",
                 mode ? (const char *)mode : "nothing");
        sqlite3_finalize(st);
        return OC_EDB;
    }
    rc = 0;
out:
    if (rc)
        snprintf(err, errlen, "configuring the database: %s", sqlite3_errmsg(s->db));
    sqlite3_finalize(st);
    return rc;
}

static void store_free(struct store *s, int checkpoint);

/* Allocates a store with its recursive mutex. */
static struct store *store_alloc(void)
{
    struct store *s = oc_calloc(1, sizeof *s);
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(&s->mu, &attr);
    pthread_mutexattr_destroy(&attr);
    return s;
}

/* Opens the PostgreSQL backend for o into s. */
static int open_pg(struct store *s, const struct store_opts *o, char *err, size_t errlen)
{
    int rc;
    if (!o->postgres || !*o->postgres) {
        snprintf(err, errlen,
                 "store.postgres: a PostgreSQL conninfo is needed with "
                 "store.backend postgres");
        return OC_EINVAL;
    }
    if ((rc = store_pg_open(s, o->postgres, o->pg_schema, err, errlen)) != 0)
        return rc;
    if ((rc = store_key_load(s, o->dir, err, errlen)) != 0)
        return rc;
    s->version = rc = store_pg_version(s);
    return rc < 0 ? rc : 0;
}

int store_open_opts(const struct store_opts *o, struct store **out, char *err, size_t errlen)
{
    char path[4096];
    struct store *s = NULL;
    const char *dir = o->dir;
    int rc;
    *out = NULL;
    if (o->backend && strcmp(o->backend, "sqlite") != 0 && strcmp(o->backend, "postgres") != 0) {
        snprintf(err, errlen, "store.backend: unknown backend '%s' (sqlite or postgres)",
                 o->backend);
        return OC_EINVAL;
    }
    if ((rc = make_dirs(dir, err, errlen)) != 0)
        return rc;
    if (o->backend && strcmp(o->backend, "postgres") == 0) {
        s = store_alloc();
        rc = open_pg(s, o, err, errlen);
        goto out;
    }
    if (snprintf(path, sizeof path, "%s/%s", dir, STORE_DB_NAME) >= (int)sizeof path) {
        snprintf(err, errlen, "%s: data directory path too long", dir);
        return OC_EIO;
    }
    /* the database holds webhook secrets and routing keys: only its owner reads it. SQLite
     * gives the -wal and -shm files the database file's mode, so creating it 0600 (and
     * tightening one made before) covers all three. */
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd >= 0) {
        struct stat sb;
        if (fstat(fd, &sb) == 0 && (sb.st_mode & 077))
            (void)fchmod(fd, 0600);
        close(fd);
    }
    s = store_alloc();
    rc = OC_EDB;
    if (sqlite3_open_v2(path, &s->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                        NULL) != SQLITE_OK) {
        snprintf(err, errlen, "%s: %s", path,
                 s->db ? sqlite3_errmsg(s->db) : "cannot open the database");
        goto out;
    }
    sqlite3_extended_result_codes(s->db, 1);
    if ((rc = configure(s, o->sync, err, errlen)) != 0)
        goto out;
    if ((rc = store_migrate(s, path, err, errlen)) != 0)
        goto out;
    if ((rc = store_key_load(s, dir, err, errlen)) != 0)
        goto out;
    s->version = rc = store_user_version(s);
    if (rc < 0)
        goto out;
    rc = 0;
out:
    if (rc == 0) {
        s->dir = oc_strdup(dir);
        *out = s;
        s = NULL;
    }
    if (s)
        store_free(s, 0);
    return rc;
}

int store_open(const char *dir, enum store_sync sync, struct store **out, char *err, size_t errlen)
{
    struct store_opts o = {.dir = dir, .sync = sync};
    return store_open_opts(&o, out, err, errlen);
}

const char *store_backend(struct store *s)
{
    return s->pg ? "postgres" : "sqlite";
}

const char *store_dir(struct store *s)
{
    return s->dir;
}

/* Finalizes cached statements, optionally checkpoints, closes and frees s. */
static void store_free(struct store *s, int checkpoint)
{
    for (int i = 0; i < STORE_BUCKETS; i++) {
        struct store_stmt *st = s->buckets[i], *next;
        for (; st; st = next) {
            next = st->next;
            if (st->pg)
                store_pg_stmt_free(s, st->pg);
            else
                sqlite3_finalize(st->st);
            free(st->sql);
            free(st);
        }
    }
    if (checkpoint && s->db)
        sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
    if (s->db)
        sqlite3_close(s->db);
    store_pg_close(s);
    pthread_mutex_destroy(&s->mu);
    sodium_memzero(s->key, sizeof s->key);
    free(s->dir);
    free(s);
}

void store_close(struct store *s)
{
    if (s)
        store_free(s, 1);
}

int store_schema_version(struct store *s)
{
    return s->version;
}

int store_user_version(struct store *s)
{
    struct store_stmt *st;
    int v = OC_EDB;
    store_lock(s);
    if (store_prepare(s, STORE_SQL_USER_VERSION, &st) == 0) {
        if (store_step(st) == STORE_ROW)
            v = (int)store_col_int(st, 0);
        store_reset(st);
    }
    store_unlock(s);
    return v;
}

int store_ping(struct store *s)
{
    struct store_stmt *st;
    int rc = OC_EDB;
    store_lock(s);
    if (store_prepare(s, STORE_SQL_PING, &st) == 0) {
        if (store_step(st) == STORE_ROW && store_col_int(st, 0) == 1)
            rc = 0;
        store_reset(st);
    }
    store_unlock(s);
    return rc;
}

void store_lock(struct store *s)
{
    pthread_mutex_lock(&s->mu);
}

void store_unlock(struct store *s)
{
    pthread_mutex_unlock(&s->mu);
}

int store_exec(struct store *s, const char *sql)
{
    int rc;
    store_lock(s);
    if (s->pg)
        rc = store_pg_exec(s, sql);
    else
        rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : OC_EDB;
    store_unlock(s);
    return rc;
}

int store_prepare(struct store *s, const char *sql, struct store_stmt **out)
{
    uint32_t h = hash_str(sql);
    struct store_stmt *st;
    sqlite3_stmt *raw = NULL;
    struct store_pg_stmt *pg = NULL;
    int rc = OC_EDB;
    store_lock(s);
    for (st = s->buckets[h % STORE_BUCKETS]; st; st = st->next)
        if (st->hash == h && strcmp(st->sql, sql) == 0)
            break;
    if (st) {
        rc = 0;
        goto out;
    }
    if (s->nstmts >= STORE_MAX_STMTS) {
        rc = OC_ETOOBIG;
        goto out;
    }
    if (s->pg) {
        if (store_pg_prepare(s, sql, &pg) != 0)
            goto out;
    } else if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &raw, NULL) !=
                   SQLITE_OK ||
               !raw) {
        sqlite3_finalize(raw);
        goto out;
    }
    st = oc_calloc(1, sizeof *st);
    st->s = s;
    st->st = raw;
    st->pg = pg;
    st->sql = oc_strdup(sql);
    st->hash = h;
    st->next = s->buckets[h % STORE_BUCKETS];
    s->buckets[h % STORE_BUCKETS] = st;
    s->nstmts++;
    rc = 0;
out:
    store_unlock(s);
    *out = rc == 0 ? st : NULL;
    return rc;
}

int store_bind_int(struct store_stmt *st, int idx, int64_t v)
{
    if (st->pg) {
        char t[24];
        int n = snprintf(t, sizeof t, "%lld", (long long)v);
        return store_pg_bind(st->pg, idx, t, (size_t)n, 0);
    }
    return sqlite3_bind_int64(st->st, idx, v) == SQLITE_OK ? 0 : OC_EDB;
}

int store_bind_double(struct store_stmt *st, int idx, double v)
{
    if (st->pg) {
        char t[40];
        int n = isnan(v)   ? snprintf(t, sizeof t, "NaN")
                : isinf(v) ? snprintf(t, sizeof t, "%sInfinity", v < 0 ? "-" : "")
                           : snprintf(t, sizeof t, "%.17g", v);
        return store_pg_bind(st->pg, idx, t, (size_t)n, 0);
    }
    return sqlite3_bind_double(st->st, idx, v) == SQLITE_OK ? 0 : OC_EDB;
}

int store_bind_text(struct store_stmt *st, int idx, const char *v)
{
    if (!v)
        return store_bind_null(st, idx);
    if (st->pg)
        return store_pg_bind(st->pg, idx, v, strlen(v), 0);
    return sqlite3_bind_text(st->st, idx, v, -1, SQLITE_TRANSIENT) == SQLITE_OK ? 0 : OC_EDB;
}

int store_bind_blob(struct store_stmt *st, int idx, const void *p, size_t n)
{
    if (st->pg)
        return store_pg_bind(st->pg, idx, n ? p : "", n, 1);
    int rc = n == 0 ? sqlite3_bind_zeroblob(st->st, idx, 0)
                    : sqlite3_bind_blob64(st->st, idx, p, n, SQLITE_TRANSIENT);
    return rc == SQLITE_OK ? 0 : OC_EDB;
}

int store_bind_null(struct store_stmt *st, int idx)
{
    if (st->pg)
        return store_pg_bind(st->pg, idx, NULL, 0, 0);
    return sqlite3_bind_null(st->st, idx) == SQLITE_OK ? 0 : OC_EDB;
}

int store_bind_list(struct store_stmt *st, const struct store_val *v, size_t n)
{
    int rc = 0;
    for (size_t k = 0; k < n && rc == 0; k++) {
        int idx = (int)k + 1;
        switch (v[k].type) {
        case 'i':
            rc = store_bind_int(st, idx, v[k].i);
            break;
        case 'd':
            rc = store_bind_double(st, idx, v[k].d);
            break;
        case 's':
            rc = store_bind_text(st, idx, v[k].p);
            break;
        case 'b':
            rc = store_bind_blob(st, idx, v[k].p, v[k].n);
            break;
        case 'n':
            rc = store_bind_null(st, idx);
            break;
        default:
            rc = OC_EINVAL;
        }
    }
    return rc;
}

int store_step(struct store_stmt *st)
{
    if (st->pg)
        return store_pg_step(st->s, st->pg);
    int rc = sqlite3_step(st->st);
    if (rc == SQLITE_ROW)
        return STORE_ROW;
    if (rc == SQLITE_DONE)
        return STORE_DONE;
    if ((rc & 0xff) == SQLITE_CONSTRAINT)
        return OC_ECONFLICT;
    return OC_EDB;
}

/* A PostgreSQL text value as SQLite would convert it to an integer (booleans are 1 and 0). */
static int64_t text_int(const char *t)
{
    char *end;
    if (!t)
        return 0;
    if ((t[0] == 't' || t[0] == 'f') && !t[1])
        return t[0] == 't';
    long long v = strtoll(t, &end, 10);
    if (*end == '.' || *end == 'e' || *end == 'E')
        return (int64_t)strtod(t, NULL);
    return v;
}

int64_t store_col_int(struct store_stmt *st, int col)
{
    if (st->pg)
        return text_int(store_pg_col_text(st->pg, col));
    return sqlite3_column_int64(st->st, col);
}

double store_col_double(struct store_stmt *st, int col)
{
    if (st->pg) {
        const char *t = store_pg_col_text(st->pg, col);
        return t ? strtod(t, NULL) : 0;
    }
    return sqlite3_column_double(st->st, col);
}

const char *store_col_text(struct store_stmt *st, int col)
{
    if (st->pg)
        return store_pg_col_text(st->pg, col);
    return (const char *)sqlite3_column_text(st->st, col);
}

const void *store_col_blob(struct store_stmt *st, int col, size_t *n)
{
    if (st->pg)
        return store_pg_col_blob(st->pg, col, n);
    const void *p = sqlite3_column_blob(st->st, col);
    *n = (size_t)sqlite3_column_bytes(st->st, col);
    return p;
}

int store_col_is_null(struct store_stmt *st, int col)
{
    if (st->pg)
        return store_pg_col_is_null(st->pg, col);
    return sqlite3_column_type(st->st, col) == SQLITE_NULL;
}

void store_reset(struct store_stmt *st)
{
    if (st->pg) {
        store_pg_reset(st->pg);
        return;
    }
    sqlite3_reset(st->st);
    sqlite3_clear_bindings(st->st);
}

int64_t store_last_id(struct store *s)
{
    if (s->pg)
        return store_pg_last_id(s);
    return sqlite3_last_insert_rowid(s->db);
}

int store_changes(struct store *s)
{
    if (s->pg)
        return store_pg_changes(s);
    return sqlite3_changes(s->db);
}

int store_begin(struct store *s)
{
    store_lock(s);
    if (s->pg) {
        if (store_pg_begin(s) != 0) {
            store_unlock(s);
            return OC_EDB;
        }
        return 0;
    }
    if (sqlite3_exec(s->db, STORE_SQL_BEGIN, NULL, NULL, NULL) != SQLITE_OK) {
        store_unlock(s);
        return OC_EDB;
    }
    return 0;
}

int store_commit(struct store *s)
{
    int rc = 0;
    if (s->pg)
        rc = store_pg_commit(s);
    else if (sqlite3_exec(s->db, STORE_SQL_COMMIT, NULL, NULL, NULL) != SQLITE_OK) {
        rc = OC_EDB;
        if (!sqlite3_get_autocommit(s->db))
            sqlite3_exec(s->db, STORE_SQL_ROLLBACK, NULL, NULL, NULL);
    }
    store_unlock(s);
    return rc;
}

void store_rollback(struct store *s)
{
    if (s->pg)
        store_pg_rollback(s);
    else if (!sqlite3_get_autocommit(s->db))
        sqlite3_exec(s->db, STORE_SQL_ROLLBACK, NULL, NULL, NULL);
    store_unlock(s);
}

const char *store_errmsg(struct store *s)
{
    if (s->pg)
        return store_pg_errmsg(s);
    return sqlite3_errmsg(s->db);
}
