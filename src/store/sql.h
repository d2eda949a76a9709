/*
 * sql.h - internal to store/: the statements the store itself runs (connection PRAGMAs,
 * schema version, ping, transactions), as named macros. The schema is not here: it is the one
 * migration list in store/migrate.c, keyed on PRAGMA user_version.
 */
#ifndef OC_STORE_SQL_H
#define OC_STORE_SQL_H

/* A format: the synchronous mode ("FULL" or "NORMAL") and the busy timeout in ms. */
#define STORE_SQL_CONFIGURE    "PRAGMA synchronous=%s; PRAGMA foreign_keys=ON; PRAGMA busy_timeout=%d;"
#define STORE_SQL_WAL          "PRAGMA journal_mode=WAL"
#define STORE_SQL_USER_VERSION "PRAGMA user_version"
/* A format: the version a migration moves the database to. */
#define STORE_SQL_SET_VERSION "PRAGMA user_version = %d"
#define STORE_SQL_PING        "SELECT 1"
#define STORE_SQL_BEGIN       "BEGIN IMMEDIATE"
#define STORE_SQL_COMMIT      "COMMIT"
#define STORE_SQL_ROLLBACK    "ROLLBACK"

#endif
