/*
 * migrate.c - the one list of schema migrations, keyed on PRAGMA user_version.
 *
 * store_open applies, in order, every entry whose version is above the database's
 * user_version, each in one transaction that also bumps user_version. A database newer than
 * the last entry fails to open rather than being written by an older binary.
 */
#include "store/migrate.h"
#include "store/store.h"
#include "core/err.h"

#include <stdio.h>

struct migration {
    int version;      /* 1, 2, 3, ... consecutive */
    const char *name; /* short description, for messages */
    const char *sql;  /* one or more statements */
};

/*
 * TO ADD TABLES: append ONE entry at the end of this list with the next version number
 * (last version + 1), with a small edit. Never renumber, reorder or edit an entry that has
 * shipped: databases in the field have already applied it. Fix a mistake with a new entry.
 */
static const struct migration migrations[] = {
    {1, "auth: tokens and the append-only audit log",
     "CREATE TABLE tokens ("
     " id INTEGER PRIMARY KEY,"
     " name TEXT NOT NULL UNIQUE,"
     " role TEXT NOT NULL,"
     " hash BLOB NOT NULL UNIQUE,"
     " created_ms INTEGER NOT NULL,"
     " revoked_ms INTEGER);"
     "CREATE TABLE audit ("
     " id INTEGER PRIMARY KEY,"
     " ts_ms INTEGER NOT NULL,"
     " actor TEXT NOT NULL,"
     " action TEXT NOT NULL,"
     " target TEXT,"
     " status INTEGER NOT NULL,"
     " detail TEXT);"
     "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit"
     " BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;"
     "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit"
     " BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;"},
    {0},
};

int store_schema_latest(void)
{
    int v = 0;
    for (const struct migration *m = migrations; m->version; m++)
        v = m->version;
    return v;
}

/* Applies m inside its own transaction unless another process already did. */
static int apply(struct store *s, const struct migration *m, const char *path, char *err,
                 size_t errlen)
{
    char bump[64];
    int cur, rc = store_begin(s);
    if (rc) {
        snprintf(err, errlen, "%s: migration %d: cannot begin: %s", path, m->version,
                 store_errmsg(s));
        return rc;
    }
    cur = store_user_version(s);
    if (cur >= m->version) { /* applied meanwhile by another process */
        store_rollback(s);
        return cur < 0 ? OC_EDB : 0;
    }
    snprintf(bump, sizeof bump, "PRAGMA user_version = %d", m->version);
    if (store_exec(s, m->sql) != 0 || store_exec(s, bump) != 0) {
        snprintf(err, errlen, "%s: migration %d (%s) failed: %s", path, m->version, m->name,
                 store_errmsg(s));
        store_rollback(s);
        return OC_EDB;
    }
    if (store_commit(s) != 0) {
        snprintf(err, errlen, "%s: migration %d: commit failed: %s", path, m->version,
                 store_errmsg(s));
        return OC_EDB;
    }
    return 0;
}

int store_migrate(struct store *s, const char *path, char *err, size_t errlen)
{
    int latest = store_schema_latest(), cur = store_user_version(s), prev = 0, rc;
    if (cur < 0) {
        snprintf(err, errlen, "%s: cannot read the schema version: %s", path, store_errmsg(s));
        return OC_EDB;
    }
    if (cur > latest) {
        snprintf(err, errlen,
                 "%s: the database has schema version %d but this oncue knows only up to %d; "
                 "run a newer oncue",
                 path, cur, latest);
        return OC_EDB;
    }
    for (const struct migration *m = migrations; m->version; m++) {
        if (m->version != prev + 1) {
            snprintf(err, errlen, "store/migrate.c: migration %d follows %d (must be %d)",
                     m->version, prev, prev + 1);
            return OC_EDB;
        }
        prev = m->version;
        if (m->version <= cur)
            continue;
        if ((rc = apply(s, m, path, err, errlen)) != 0)
            return rc;
    }
    return 0;
}
