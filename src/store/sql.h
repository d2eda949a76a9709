/*
 * sql.h - internal to store/: the statements the store itself runs (connection PRAGMAs,
 * schema version, ping, transactions), as named macros, for SQLite and PostgreSQL. The schema
 * is not here: it is the one migration list in store/migrate.c, keyed on PRAGMA user_version,
 * and its PostgreSQL form in store/pg_schema.c, keyed on the table oncue_schema.
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

/* PostgreSQL (pg.c, pg_schema.c): each statement in a transaction runs under a savepoint */
#define STORE_PG_SQL_BEGIN     "BEGIN"
#define STORE_PG_SQL_SAVEPOINT "SAVEPOINT oc_stmt"
#define STORE_PG_SQL_RELEASE   "RELEASE SAVEPOINT oc_stmt"
#define STORE_PG_SQL_UNDO      "ROLLBACK TO SAVEPOINT oc_stmt; RELEASE SAVEPOINT oc_stmt"
#define STORE_PG_SQL_LASTVAL   "SELECT lastval()"
/* one opener at a time creates or upgrades the schema (a transaction-scoped advisory lock) */
#define STORE_PG_SQL_LOCK "SELECT pg_advisory_xact_lock(7236828851630120293)"
/* SQLite's json_extract(doc, '$.a.b') as PostgreSQL functions, (re)made at every open (they
 * are part of the dialect, not of the schema's version): the value at the path as SQLite's
 * text of it (a string unquoted, true and false 1 and 0, JSON null and a missing key NULL,
 * numbers, objects and arrays as their JSON); invalid JSON is an error, as on SQLite. Typed
 * uses need a CAST (numbers compare as text here). */
#define STORE_PG_SQL_FUNCTIONS                                                                     \
    "CREATE OR REPLACE FUNCTION json_extract(doc TEXT, path TEXT) RETURNS TEXT LANGUAGE sql"       \
    " IMMUTABLE AS $$SELECT CASE jsonb_typeof(v) WHEN 'string' THEN v #>> '{}' WHEN 'boolean'"     \
    " THEN CASE WHEN v = 'true'::jsonb THEN '1' ELSE '0' END WHEN 'null' THEN NULL ELSE v::text"   \
    " END FROM (SELECT CAST(doc AS jsonb) #> string_to_array(substr(path, 3), '.') AS v) x$$"
#define STORE_PG_SQL_HAS_VERSION "SELECT to_regclass('oncue_schema') IS NOT NULL"
#define STORE_PG_SQL_VERSION     "SELECT max(version) FROM oncue_schema"
/* A format: the version the schema is now at. */
#define STORE_PG_SQL_SET_VERSION                                                                   \
    "CREATE TABLE IF NOT EXISTS oncue_schema (version INTEGER NOT NULL);"                          \
    " DELETE FROM oncue_schema; INSERT INTO oncue_schema (version) VALUES (%d)"

#endif
