/*
 * store.h - the operational store: SQLite in WAL mode under the data directory (the default),
 * or PostgreSQL (store.backend: postgres; docs/internals/store.md says which modules run there).
 *
 * The interface is deliberately narrow (open, prepared statements with bind/step/column,
 * transactions, a lock) so that both backends sit behind it. Modules write SQL both accept,
 * with SQLite's ? and ?NNN placeholders. SQLite's schema versions are one migration list
 * (store/migrate.c) keyed on PRAGMA user_version; PostgreSQL's schema is store/pg_schema.c.
 * Both are applied at open.
 *
 * Threads: one connection is shared. A caller holds store_lock() from the first bind of a
 * statement to its reset, and across a whole transaction; the lock is recursive.
 * Statements from store_prepare are cached by SQL text and owned by the store.
 */
#ifndef OC_STORE_STORE_H
#define OC_STORE_STORE_H

#include <stddef.h>
#include <stdint.h>

struct store;
struct store_stmt;

enum store_sync {
    STORE_SYNC_NORMAL = 0, /* survives a process crash (kill -9) */
    STORE_SYNC_FULL,       /* also survives power loss */
};

#define STORE_ROW  1 /* store_step: a row is ready */
#define STORE_DONE 0 /* store_step: no more rows */

/* Creates dir if needed and opens dir/oncue.db, applying pending migrations. On failure
 * returns OC_EIO or OC_EDB and writes a reason into err. Close with store_close. */
int store_open(const char *dir, enum store_sync sync, struct store **out /* OUT */, char *err,
               size_t errlen);

/* Where the store lives (store_open_opts). */
struct store_opts {
    const char *dir;       /* data directory: oncue.db (SQLite) and oncue.key (both backends) */
    enum store_sync sync;  /* SQLite's synchronous mode */
    const char *backend;   /* "sqlite" (or NULL) or "postgres" */
    const char *postgres;  /* postgres: libpq conninfo or URI (its password is never logged) */
    const char *pg_schema; /* postgres: a schema of its own ([a-z0-9_], made when missing) or
                            * NULL for the connection's default */
};
/* store_open on the backend o names; OC_EINVAL for an unknown backend or a postgres one without
 * a conninfo. */
int store_open_opts(const struct store_opts *o, struct store **out /* OUT */, char *err,
                    size_t errlen);
/* "sqlite" or "postgres". */
const char *store_backend(struct store *s);
/* The data directory s was opened with (oncue.db on SQLite, oncue.key on both; files a
 * module keeps next to the store, such as search.idx, go here). Owned by s. */
const char *store_dir(struct store *s);

/* Finalizes cached statements, checkpoints the WAL and closes (NULL is a no-op). */
void store_close(struct store *s);

/* Secrets at rest (seal.c): values sealed with the data directory's key file
 * (DATA/oncue.key, 0600, made at the first open): STORE_SEALED_PREFIX and base64url of a
 * libsodium secretbox. */
#define STORE_SEALED_PREFIX "sealed1:"
/* plain sealed (malloc'd; NULL for NULL). */
char *store_seal(struct store *s, const char *plain);
/* Opens text into *plain (malloc'd; NULL for NULL): 0; a value stored before sealing (no
 * prefix) is copied as it is; OC_EAUTH when it does not open (another key, or altered). */
int store_unseal(struct store *s, const char *text, char **plain /* OUT */);
/* 1 when text is a sealed value. */
int store_is_sealed(const char *text);
/* The schema version after migrations (on PostgreSQL, the version its schema matches). */
int store_schema_version(struct store *s);
/* The schema version this binary knows: the number of the last migration in migrate.c. */
int store_schema_latest(void);
/* 0 when the database answers a trivial query, else OC_EDB. */
int store_ping(struct store *s);

void store_lock(struct store *s);
void store_unlock(struct store *s);

/* Runs one or more statements without results; 0 or OC_EDB. */
int store_exec(struct store *s, const char *sql);
/* Returns the cached prepared statement for sql (prepared on first use); 0 or OC_EDB
 * (OC_ETOOBIG past 1024 distinct SQL texts: build SQL from constants, not from input). */
int store_prepare(struct store *s, const char *sql, struct store_stmt **out /* OUT */);
/* Binds parameter idx (1-based); text and blobs are copied. 0 or OC_EDB. */
int store_bind_int(struct store_stmt *st, int idx, int64_t v);
int store_bind_double(struct store_stmt *st, int idx, double v);
int store_bind_text(struct store_stmt *st, int idx, const char *v); /* NULL binds NULL */
int store_bind_blob(struct store_stmt *st, int idx, const void *p, size_t n);
int store_bind_null(struct store_stmt *st, int idx);

/* One parameter value for store_bind_list; build it with the STORE_INT, STORE_DBL, STORE_TEXT,
 * STORE_BLOB and STORE_NULL macros, which convert the value to the field's type. */
struct store_val {
    char type;     /* 'i', 'd', 's' (text), 'b' (blob) or 'n' (NULL) */
    int64_t i;     /* 'i' */
    double d;      /* 'd' */
    const void *p; /* 's': NUL-terminated text (NULL binds NULL); 'b': the bytes */
    size_t n;      /* 'b': the byte count */
};
#define STORE_INT(v)         ((struct store_val){.type = 'i', .i = (v)})
#define STORE_DBL(v)         ((struct store_val){.type = 'd', .d = (v)})
#define STORE_TEXT(v)        ((struct store_val){.type = 's', .p = (v)})
#define STORE_BLOB(ptr, len) ((struct store_val){.type = 'b', .p = (ptr), .n = (len)})
#define STORE_NULL           ((struct store_val){.type = 'n'})
/* Binds v[0..n) to parameters 1..n in order (text and blobs are copied): 0, OC_EDB for the
 * first bind that failed, or OC_EINVAL for an unknown type. The caller owns v. */
int store_bind_list(struct store_stmt *st, const struct store_val *v, size_t n);
/* STORE_BIND(st, STORE_INT(id), STORE_TEXT(name), ...): store_bind_list over the values
 * given, counted at compile time. */
#define STORE_BIND(st, ...)                                                                        \
    store_bind_list((st), (const struct store_val[]){__VA_ARGS__},                                 \
                    sizeof((const struct store_val[]){__VA_ARGS__}) / sizeof(struct store_val))
/* Steps: STORE_ROW, STORE_DONE, OC_ECONFLICT (constraint) or OC_EDB. */
int store_step(struct store_stmt *st);
/* Column accessors for the current row (0-based); text is valid until the next step/reset. */
int64_t store_col_int(struct store_stmt *st, int col);
double store_col_double(struct store_stmt *st, int col);
const char *store_col_text(struct store_stmt *st, int col); /* NULL for SQL NULL */
const void *store_col_blob(struct store_stmt *st, int col, size_t *n /* OUT */);
int store_col_is_null(struct store_stmt *st, int col);
/* Resets the statement and clears its bindings. */
void store_reset(struct store_stmt *st);
/* The rowid of the last insert on this connection (PostgreSQL: lastval(), the last identity
 * value this connection drew). */
int64_t store_last_id(struct store *s);
/* The number of rows changed by the last statement. */
int store_changes(struct store *s);

/* Transactions; begin takes the store lock and commit/rollback release it. 0 or OC_EDB. */
int store_begin(struct store *s);
int store_commit(struct store *s);
void store_rollback(struct store *s);

/* The message of the last error on this connection (for logs). */
const char *store_errmsg(struct store *s);

#endif
