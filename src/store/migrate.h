/*
 * migrate.h - internal to store/: the migration runner that store_open calls.
 *
 * Other capabilities never include this; they add migrations by appending entries to the list
 * in store/migrate.c.
 */
#ifndef OC_STORE_MIGRATE_H
#define OC_STORE_MIGRATE_H

#include <stddef.h>

struct store;

/* Applies every migration newer than the database's user_version, each in its own
 * transaction. path names the database in messages. 0, or OC_EDB with a reason in err
 * (including a database newer than this binary). */
int store_migrate(struct store *s, const char *path, char *err, size_t errlen);
/* The database's PRAGMA user_version, or OC_EDB. */
int store_user_version(struct store *s);

#endif
