/*
 * store_int.h - internal to store/: the store's state, shared by store.c (the SQLite
 * connection and statement cache) and seal.c (the key that seals secrets at rest).
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

struct store_stmt {
    struct store *s;         /* owning store */
    sqlite3_stmt *st;        /* the prepared statement; owned */
    char *sql;               /* the SQL text it was prepared from; owned */
    uint32_t hash;           /* hash of sql */
    struct store_stmt *next; /* bucket chain */
};

struct store {
    sqlite3 *db;                               /* the connection; owned */
    pthread_mutex_t mu;                        /* recursive; see store_lock */
    struct store_stmt *buckets[STORE_BUCKETS]; /* statement cache */
    int nstmts;                                /* statements cached */
    int version;                               /* schema version after migrations */
    unsigned char key[32];                     /* DATA/oncue.key (seal.c) */
    int has_key;                               /* key was loaded */
};

/* Loads DATA/oncue.key into s (made, 0600, when absent): 0, or OC_EIO with why in err. */
int store_key_load(struct store *s, const char *dir, char *err, size_t errlen);

#endif
