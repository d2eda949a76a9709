/*
 * store_int.h - internal to store/: the store's state, shared by store.c (the SQLite
 * connection, the statement cache, the dispatch to a backend), pg.c (the PostgreSQL backend)
 * and seal.c (the key that seals secrets at rest).
 */
#ifndef OC_STORE_STORE_INT_H
#define OC_STORE_STORE_INT_H

#include "store/store.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#define STORE_BUCKETS  64          /* statement cache hash buckets */
#define STORE_KEY_NAME "oncue.key" /* the sealing key file in the data directory */

struct store_pg;      /* pg.c: the PostgreSQL connection */
struct store_pg_stmt; /* pg.c: one prepared statement with its parameters and result */

struct store_stmt {
    struct store *s;          /* owning store */
    sqlite3_stmt *st;         /* the SQLite prepared statement; owned (NULL on PostgreSQL) */
    struct store_pg_stmt *pg; /* the PostgreSQL one; owned (NULL on SQLite) */
    char *sql;                /* the SQL text it was prepared from; owned */
    uint32_t hash;            /* hash of sql */
    struct store_stmt *next;  /* bucket chain */
};

struct store {
    sqlite3 *db;                               /* the SQLite connection; owned (or NULL) */
    struct store_pg *pg;                       /* the PostgreSQL one; owned (or NULL) */
    pthread_mutex_t mu;                        /* recursive; see store_lock */
    struct store_stmt *buckets[STORE_BUCKETS]; /* statement cache */
    int nstmts;                                /* statements cached */
    int version;                               /* schema version after migrations */
    unsigned char key[32];                     /* DATA/oncue.key (seal.c) */
    int has_key;                               /* key was loaded */
    char *dir;                                 /* the data directory; owned */
};

/* The PostgreSQL backend (pg.c). Each mirrors the store.h function of the same name. */
int store_pg_open(struct store *s, const char *conninfo, const char *schema, char *err,
                  size_t errlen);
void store_pg_close(struct store *s);
int store_pg_exec(struct store *s, const char *sql);
int store_pg_prepare(struct store *s, const char *sql, struct store_pg_stmt **out /* OUT */);
void store_pg_stmt_free(struct store *s, struct store_pg_stmt *ps);
/* Binds parameter idx to v (n bytes; NULL binds NULL); blob sends it as binary. */
int store_pg_bind(struct store_pg_stmt *ps, int idx, const char *v, size_t n, int blob);
int store_pg_step(struct store *s, struct store_pg_stmt *ps);
const char *store_pg_col_text(struct store_pg_stmt *ps, int col);
const void *store_pg_col_blob(struct store_pg_stmt *ps, int col, size_t *n /* OUT */);
int store_pg_col_is_null(struct store_pg_stmt *ps, int col);
void store_pg_reset(struct store_pg_stmt *ps);
int64_t store_pg_last_id(struct store *s);
int store_pg_changes(struct store *s);
int store_pg_begin(struct store *s);
int store_pg_commit(struct store *s);
void store_pg_rollback(struct store *s);
const char *store_pg_errmsg(struct store *s);
/* Rewrites SQLite placeholders (?, ?NNN) in sql into PostgreSQL's $N outside quotes; the
 * number of parameters into *nparams. malloc'd. */
char *store_pg_placeholders(const char *sql, int *nparams /* OUT */);
/* Creates or upgrades the PostgreSQL schema (pg_schema.c); 0 or OC_EDB with why in err. */
int store_pg_migrate(struct store *s, const char *target, char *err, size_t errlen);
/* The schema version recorded in PostgreSQL, or OC_EDB. */
int store_pg_version(struct store *s);
/* The schema version the PostgreSQL DDL in pg_schema.c reaches. */
int store_pg_schema_latest(void);

/* Loads DATA/oncue.key into s (made, 0600, when absent): 0, or OC_EIO with why in err. */
int store_key_load(struct store *s, const char *dir, char *err, size_t errlen);

#endif
