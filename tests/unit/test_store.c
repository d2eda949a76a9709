/*
 * test_store.c - the store: open (SQLite in WAL mode with migrations), statements, constraint
 * mapping, transactions, durability across reopen, and refusal of a newer schema.
 *
 * The same program runs on PostgreSQL under the CTest label "pg" (ONCUE_TEST_PG, t_store.h):
 * the cases about SQLite's files and PRAGMAs check PostgreSQL's equivalents there, and
 * test_pg_schema_matches compares both schemas.
 */
#include "core/err.h"
#include "store/store.h"
#include "store/store_int.h"
#include "t.h"
#include "t_store.h"

#include <ftw.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmp_root[64];

/* nftw callback: removes one entry. */
static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* Creates a fresh temporary directory; returns DIR/data (not yet created). */
static const char *tmp_data(void)
{
    static char data[128];
    snprintf(tmp_root, sizeof tmp_root, "/tmp/oncue-store-XXXXXX");
    if (!mkdtemp(tmp_root)) {
        perror("mkdtemp");
        exit(1);
    }
    snprintf(data, sizeof data, "%s/nested/data", tmp_root);
    return data;
}

/* Removes the temporary directory and everything in it. */
static void tmp_cleanup(void)
{
    nftw(tmp_root, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

/* Opens dir or fails the case; returns NULL on failure. */
static struct store *open_ok(const char *dir)
{
    char err[256] = "";
    struct store *s = NULL;
    int rc = t_store_open(dir, STORE_SYNC_NORMAL, &s, err, sizeof err);
    if (rc != 0)
        fprintf(stderr, "  store_open: %s\n", err);
    T_EQ_INT(rc, 0);
    return s;
}

/* The single integer a query returns, or -1. */
static int64_t query_int(struct store *s, const char *sql)
{
    struct store_stmt *st;
    int64_t v = -1;
    if (store_prepare(s, sql, &st) != 0)
        return -1;
    if (store_step(st) == STORE_ROW)
        v = store_col_int(st, 0);
    store_reset(st);
    return v;
}

/* json_extract and the other shared forms answer the same on both backends (on PostgreSQL,
 * json_extract is the store's function); store_dir names the data directory. */
static void test_shared_sql(void)
{
    static const char doc[] = "{\"a\": {\"b\": \"x y\"}, \"n\": 1712, \"t\": true, \"f\": false,"
                              " \"z\": null, \"r\": [1, 2]}";
    static const struct {
        const char *path, *want; /* want NULL: SQL NULL */
    } cases[] = {{"$.a.b", "x y"}, {"$.n", "1712"},  {"$.t", "1"},      {"$.f", "0"},
                 {"$.z", NULL},    {"$.gone", NULL}, {"$.a.gone", NULL}};
    const char *dir = tmp_data();
    struct store *s = open_ok(dir);
    struct store_stmt *st;
    if (!s)
        goto out;
    T_EQ_STR(store_dir(s), dir);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        T_EQ_INT(store_prepare(s, "SELECT json_extract(?1, ?2)", &st), 0);
        STORE_BIND(st, STORE_TEXT(doc), STORE_TEXT(cases[i].path));
        T_EQ_INT(store_step(st), STORE_ROW);
        if (cases[i].want)
            T_EQ_STR(store_col_text(st, 0), cases[i].want);
        else
            T_TRUE(store_col_is_null(st, 0));
        store_reset(st);
    }
    /* a number used as one is cast; a parameter tested for NULL first carries its type */
    T_EQ_INT(store_prepare(s,
                           "SELECT CAST(json_extract(?1, '$.n') AS BIGINT) * 2,"
                           " CAST(?2 AS TEXT) IS NULL OR 'a' = ?2,"
                           " CASE WHEN substr('zd_problem', 1, 3) = 'zd_' THEN 1 ELSE 0 END",
                           &st),
             0);
    STORE_BIND(st, STORE_TEXT(doc), STORE_TEXT(NULL));
    T_EQ_INT(store_step(st), STORE_ROW);
    T_EQ_INT(store_col_int(st, 0), 3424);
    T_EQ_INT(store_col_int(st, 1), 1);
    T_EQ_INT(store_col_int(st, 2), 1);
    store_reset(st);
    /* invalid JSON is an error on both */
    T_EQ_INT(store_prepare(s, "SELECT json_extract(?1, '$.a')", &st), 0);
    STORE_BIND(st, STORE_TEXT("{not json"));
    T_EQ_INT(store_step(st), OC_EDB);
    store_reset(st);
out:
    store_close(s);
    tmp_cleanup();
}

static void test_open_wal_and_migrations(void)
{
    const char *dir = tmp_data();
    struct store *s = open_ok(dir);
    struct store_stmt *st;
    struct stat sb;
    if (!s)
        goto out;
    T_TRUE(store_schema_latest() >= 1);
    T_EQ_INT(store_schema_version(s), store_schema_latest());
    T_EQ_INT(store_ping(s), 0);
    if (t_pg()) {
        T_EQ_STR(store_backend(s), "postgres");
        T_EQ_INT(query_int(s, "SELECT version FROM oncue_schema"), store_schema_latest());
        T_EQ_INT(query_int(s,
                           "SELECT count(*) FROM information_schema.tables"
                           " WHERE table_schema = current_schema() AND table_name = 'incidents'"),
                 1);
        goto out;
    }
    T_EQ_STR(store_backend(s), "sqlite");
    T_EQ_INT(query_int(s, "PRAGMA user_version"), store_schema_latest());
    T_EQ_INT(query_int(s, "PRAGMA foreign_keys"), 1);
    T_EQ_INT(query_int(s, "PRAGMA busy_timeout"), 5000);
    T_EQ_INT(query_int(s, "PRAGMA synchronous"), 1); /* NORMAL */
    T_EQ_INT(store_prepare(s, "PRAGMA journal_mode", &st), 0);
    T_EQ_INT(store_step(st), STORE_ROW);
    T_EQ_STR(store_col_text(st, 0), "wal");
    store_reset(st);
    T_EQ_INT(store_ping(s), 0);
    T_EQ_INT(stat(dir, &sb), 0);
    T_EQ_INT(sb.st_mode & 0777, 0700);
out:
    store_close(s);
    tmp_cleanup();
}

static void test_sync_full(void)
{
    char err[256];
    struct store *s = NULL;
    if (t_pg()) { /* SQLite's synchronous mode: PostgreSQL's durability is the server's */
        T_TRUE(1);
        return;
    }
    T_EQ_INT(store_open(tmp_data(), STORE_SYNC_FULL, &s, err, sizeof err), 0);
    if (s)
        T_EQ_INT(query_int(s, "PRAGMA synchronous"), 2);
    store_close(s);
    tmp_cleanup();
}

static void test_roundtrip(void)
{
    struct store *s = open_ok(tmp_data());
    struct store_stmt *ins, *sel, *again;
    size_t n = 0;
    if (!s)
        goto out;
    T_EQ_INT(store_exec(s, t_pg() ? "CREATE TABLE t(id BIGINT GENERATED BY DEFAULT AS IDENTITY"
                                    " PRIMARY KEY, i BIGINT, d DOUBLE PRECISION, s TEXT, b BYTEA,"
                                    " z TEXT)"
                                  : "CREATE TABLE t(id INTEGER PRIMARY KEY, i INTEGER, d REAL,"
                                    " s TEXT, b BLOB, z TEXT)"),
             0);
    T_EQ_INT(store_prepare(s, "INSERT INTO t(i, d, s, b, z) VALUES (?, ?, ?, ?, ?)", &ins), 0);
    T_EQ_INT(store_prepare(s, "INSERT INTO t(i, d, s, b, z) VALUES (?, ?, ?, ?, ?)", &again), 0);
    T_TRUE(ins == again); /* cached by SQL text */
    store_lock(s);
    T_EQ_INT(store_bind_int(ins, 1, INT64_C(-9007199254740993)), 0);
    T_EQ_INT(store_bind_double(ins, 2, 2.5), 0);
    T_EQ_INT(store_bind_text(ins, 3, "héllo"), 0);
    T_EQ_INT(store_bind_blob(ins, 4, "\x00\x01\x02", 3), 0);
    T_EQ_INT(store_bind_text(ins, 5, NULL), 0);
    T_EQ_INT(store_step(ins), STORE_DONE);
    store_reset(ins);
    T_EQ_INT(store_changes(s), 1);
    T_EQ_INT(store_last_id(s), 1);
    store_unlock(s);
    T_EQ_INT(store_prepare(s, "SELECT i, d, s, b, z FROM t WHERE id = ?", &sel), 0);
    T_EQ_INT(store_bind_int(sel, 1, 1), 0);
    T_EQ_INT(store_step(sel), STORE_ROW);
    T_EQ_INT(store_col_int(sel, 0), INT64_C(-9007199254740993));
    T_EQ_DBL(store_col_double(sel, 1), 2.5, 0);
    T_EQ_STR(store_col_text(sel, 2), "héllo");
    const unsigned char *b = store_col_blob(sel, 3, &n);
    T_EQ_INT(n, 3);
    T_TRUE(b && b[0] == 0 && b[1] == 1 && b[2] == 2);
    T_EQ_INT(store_col_is_null(sel, 4), 1);
    T_TRUE(store_col_text(sel, 4) == NULL);
    T_EQ_INT(store_col_is_null(sel, 0), 0);
    T_EQ_INT(store_step(sel), STORE_DONE);
    store_reset(sel);
    /* reset cleared the binding: ?1 is NULL now, so no row matches */
    T_EQ_INT(store_step(sel), STORE_DONE);
    store_reset(sel);
out:
    store_close(s);
    tmp_cleanup();
}

static void test_bind_list(void)
{
    struct store *s = open_ok(tmp_data());
    struct store_stmt *ins, *sel;
    size_t n = 0;
    int small = -7;
    if (!s)
        goto out;
    T_EQ_INT(store_exec(s, t_pg() ? "CREATE TABLE t(i BIGINT, d DOUBLE PRECISION, s TEXT, b BYTEA,"
                                    " z TEXT, y TEXT)"
                                  : "CREATE TABLE t(i INTEGER, d REAL, s TEXT, b BLOB, z TEXT,"
                                    " y TEXT)"),
             0);
    T_EQ_INT(store_prepare(s, "INSERT INTO t VALUES (?, ?, ?, ?, ?, ?)", &ins), 0);
    store_lock(s);
    T_EQ_INT(STORE_BIND(ins, STORE_INT(small), STORE_DBL(2.5), STORE_TEXT("hi"),
                        STORE_BLOB("\x00\x01", 2), STORE_NULL, STORE_TEXT(NULL)),
             0);
    T_EQ_INT(store_step(ins), STORE_DONE);
    store_reset(ins);
    T_EQ_INT(STORE_BIND(ins, STORE_INT(INT64_C(9007199254740993))), 0); /* a prefix */
    T_EQ_INT(store_step(ins), STORE_DONE);
    store_reset(ins);
    struct store_val bad = {.type = 'x'};
    T_EQ_INT(store_bind_list(ins, &bad, 1), OC_EINVAL);
    store_reset(ins);
    T_EQ_INT(STORE_BIND(ins, STORE_INT(1), STORE_INT(2), STORE_INT(3), STORE_INT(4), STORE_INT(5),
                        STORE_INT(6), STORE_INT(7)),
             OC_EDB); /* only six parameters */
    store_reset(ins);
    store_unlock(s);
    T_EQ_INT(store_prepare(s,
                           t_pg() ? "SELECT i, d, s, b, z, y FROM t ORDER BY ctid"
                                  : "SELECT i, d, s, b, z, y FROM t ORDER BY rowid",
                           &sel),
             0);
    T_EQ_INT(store_step(sel), STORE_ROW);
    T_EQ_INT(store_col_int(sel, 0), -7);
    T_EQ_DBL(store_col_double(sel, 1), 2.5, 0);
    T_EQ_STR(store_col_text(sel, 2), "hi");
    const unsigned char *b = store_col_blob(sel, 3, &n);
    T_EQ_INT(n, 2);
    T_TRUE(b && b[0] == 0 && b[1] == 1);
    T_EQ_INT(store_col_is_null(sel, 4), 1);
    T_EQ_INT(store_col_is_null(sel, 5), 1);
    T_EQ_INT(store_step(sel), STORE_ROW);
    T_EQ_INT(store_col_int(sel, 0), INT64_C(9007199254740993));
    T_EQ_INT(store_col_is_null(sel, 1), 1);
    T_EQ_INT(store_step(sel), STORE_DONE);
    store_reset(sel);
out:
    store_close(s);
    tmp_cleanup();
}

static void test_bad_sql(void)
{
    struct store *s = open_ok(tmp_data());
    struct store_stmt *st = (struct store_stmt *)1;
    if (!s)
        goto out;
    T_EQ_INT(store_prepare(s, "SELEKT nonsense", &st), OC_EDB);
    T_TRUE(st == NULL);
    T_CONTAINS(store_errmsg(s), "syntax error");
    T_EQ_INT(store_exec(s, "DROP TABLE no_such_table"), OC_EDB);
out:
    store_close(s);
    tmp_cleanup();
}

static void test_constraint_conflict(void)
{
    struct store *s = open_ok(tmp_data());
    struct store_stmt *st;
    if (!s)
        goto out;
    T_EQ_INT(store_exec(s, "CREATE TABLE u(name TEXT UNIQUE NOT NULL)"), 0);
    T_EQ_INT(store_prepare(s, "INSERT INTO u(name) VALUES (?)", &st), 0);
    store_bind_text(st, 1, "a");
    T_EQ_INT(store_step(st), STORE_DONE);
    store_reset(st);
    store_bind_text(st, 1, "a");
    T_EQ_INT(store_step(st), OC_ECONFLICT);
    store_reset(st);
    store_bind_null(st, 1); /* NOT NULL is a constraint too */
    T_EQ_INT(store_step(st), OC_ECONFLICT);
    store_reset(st);
    T_EQ_INT(query_int(s, "SELECT count(*) FROM u"), 1);
out:
    store_close(s);
    tmp_cleanup();
}

static void test_transactions(void)
{
    struct store *s = open_ok(tmp_data());
    if (!s)
        goto out;
    T_EQ_INT(store_exec(s, "CREATE TABLE v(x INTEGER)"), 0);
    T_EQ_INT(store_begin(s), 0);
    T_EQ_INT(store_exec(s, "INSERT INTO v VALUES (1)"), 0);
    T_EQ_INT(store_commit(s), 0);
    T_EQ_INT(store_begin(s), 0);
    T_EQ_INT(store_exec(s, "INSERT INTO v VALUES (2)"), 0);
    T_EQ_INT(query_int(s, "SELECT count(*) FROM v"), 2); /* visible inside */
    store_rollback(s);
    T_EQ_INT(query_int(s, "SELECT sum(x) FROM v"), 1);
    /* a commit without a transaction fails and still releases the lock it does not hold */
    store_lock(s);
    T_EQ_INT(store_commit(s), OC_EDB);
    /* the lock is balanced: a new transaction works */
    T_EQ_INT(store_begin(s), 0);
    T_EQ_INT(store_exec(s, "INSERT INTO v VALUES (5)"), 0);
    T_EQ_INT(store_commit(s), 0);
    T_EQ_INT(query_int(s, "SELECT sum(x) FROM v"), 6);
out:
    store_close(s);
    tmp_cleanup();
}

static void test_reopen_keeps_data(void)
{
    const char *dir = tmp_data();
    char wal[256];
    struct stat sb;
    struct store *s = open_ok(dir);
    if (!s)
        goto out;
    T_EQ_INT(store_exec(s, "CREATE TABLE k(v TEXT); INSERT INTO k VALUES ('kept')"), 0);
    store_close(s);
    /* close checkpointed with TRUNCATE: the WAL is empty */
    snprintf(wal, sizeof wal, "%s/oncue.db-wal", dir);
    T_TRUE(stat(wal, &sb) != 0 || sb.st_size == 0);
    if (t_pg()) { /* nothing of the database is under the data directory */
        snprintf(wal, sizeof wal, "%s/oncue.db", dir);
        T_TRUE(stat(wal, &sb) != 0);
    }
    s = open_ok(dir);
    if (!s)
        goto out;
    T_EQ_INT(store_schema_version(s), store_schema_latest());
    T_EQ_INT(query_int(s, "SELECT count(*) FROM k WHERE v = 'kept'"), 1);
out:
    store_close(s);
    tmp_cleanup();
}

/* Secrets at rest: a sealed value opens with the data directory's key and no other; each seal
 * differs; an altered byte, another key or a malformed key file are refused; a value stored
 * before sealing reads as it is. */
static void test_seal(void)
{
    const char *dir = tmp_data();
    char path[256], other[256], err[256] = "";
    struct stat sb;
    struct store *s = open_ok(dir), *t = NULL;
    char *a = NULL, *b = NULL, *p = NULL;
    if (!s)
        goto out;
    snprintf(path, sizeof path, "%s/oncue.key", dir);
    T_EQ_INT(stat(path, &sb), 0);
    T_EQ_INT(sb.st_size, 32);
    T_EQ_INT(sb.st_mode & 0777, 0600);
    a = store_seal(s, "https://hooks.slack.com/services/T0/B0/secret");
    b = store_seal(s, "https://hooks.slack.com/services/T0/B0/secret");
    T_TRUE(store_is_sealed(a));
    T_TRUE(strcmp(a, b) != 0); /* a fresh nonce each time */
    T_TRUE(strstr(a, "slack") == NULL);
    T_EQ_INT(store_unseal(s, a, &p), 0);
    T_EQ_STR(p, "https://hooks.slack.com/services/T0/B0/secret");
    free(p);
    T_EQ_INT(store_unseal(s, "http://plain.example/hook", &p), 0); /* stored before sealing */
    T_EQ_STR(p, "http://plain.example/hook");
    free(p);
    T_EQ_INT(store_unseal(s, NULL, &p), 0);
    T_TRUE(p == NULL);
    b[strlen(b) - 3] = b[strlen(b) - 3] == 'A' ? 'B' : 'A'; /* one altered character */
    T_EQ_INT(store_unseal(s, b, &p), OC_EAUTH);
    T_TRUE(p == NULL);
    T_EQ_INT(store_unseal(s, "sealed1:***", &p), OC_EAUTH);
    /* another data directory has another key: it cannot open a */
    snprintf(other, sizeof other, "%s/other", tmp_root);
    t = open_ok(other);
    if (t)
        T_EQ_INT(store_unseal(t, a, &p), OC_EAUTH);
    store_close(t);
    store_close(s);
    s = NULL;
    /* a key file of the wrong size stops the store from opening, naming it */
    FILE *f = fopen(path, "w");
    fputs("short", f);
    fclose(f);
    T_EQ_INT(t_store_open(dir, STORE_SYNC_NORMAL, &t, err, sizeof err), OC_EIO);
    T_CONTAINS(err, "oncue.key: expected 32 bytes, found 5");
out:
    free(a);
    free(b);
    store_close(s);
    tmp_cleanup();
}

static void test_future_version_refused(void)
{
    const char *dir = tmp_data();
    char sql[64], err[256] = "", want[64];
    struct store *s = open_ok(dir), *s2 = (struct store *)1;
    if (!s)
        goto out;
    snprintf(sql, sizeof sql,
             t_pg() ? "UPDATE oncue_schema SET version = %d" : "PRAGMA user_version = %d",
             store_schema_latest() + 5);
    T_EQ_INT(store_exec(s, sql), 0);
    store_close(s);
    s = NULL;
    T_EQ_INT(t_store_open(dir, STORE_SYNC_NORMAL, &s2, err, sizeof err), OC_EDB);
    T_TRUE(s2 == NULL);
    snprintf(want, sizeof want, "schema version %d", store_schema_latest() + 5);
    T_CONTAINS(err, want);
    snprintf(want, sizeof want, "knows only up to %d", store_schema_latest());
    T_CONTAINS(err, want);
    T_CONTAINS(err, t_pg() ? "postgres host=127.0.0.1" : "oncue.db");
out:
    store_close(s);
    tmp_cleanup();
}

static void test_open_fails_on_file(void)
{
    char path[128], err[256] = "";
    struct store *s = (struct store *)1;
    tmp_data();
    snprintf(path, sizeof path, "%s/file", tmp_root);
    FILE *f = fopen(path, "w");
    T_TRUE(f != NULL);
    if (f)
        fclose(f);
    T_EQ_INT(t_store_open(path, STORE_SYNC_NORMAL, &s, err, sizeof err), OC_EIO);
    T_TRUE(s == NULL);
    T_CONTAINS(err, "not a directory");
    tmp_cleanup();
}

static void test_close_null(void)
{
    store_close(NULL);
    T_TRUE(1 == 1); /* reaching here without a crash is the assertion */
}

/* A constraint failure inside a transaction undoes that statement only: the transaction goes
 * on and commits the rest (SQLite's behaviour, kept on PostgreSQL with a savepoint). */
static void test_conflict_in_transaction(void)
{
    struct store *s = open_ok(tmp_data());
    struct store_stmt *st;
    if (!s)
        goto out;
    T_EQ_INT(store_exec(s, "CREATE TABLE w(name TEXT PRIMARY KEY, n INTEGER NOT NULL)"), 0);
    T_EQ_INT(store_begin(s), 0);
    T_EQ_INT(store_prepare(s, "INSERT INTO w(name, n) VALUES (?1, ?2)", &st), 0);
    T_EQ_INT(STORE_BIND(st, STORE_TEXT("a"), STORE_INT(1)), 0);
    T_EQ_INT(store_step(st), STORE_DONE);
    store_reset(st);
    T_EQ_INT(STORE_BIND(st, STORE_TEXT("a"), STORE_INT(2)), 0);
    T_EQ_INT(store_step(st), OC_ECONFLICT);
    store_reset(st);
    T_EQ_INT(store_prepare(s, "SELEKT 1", &st), OC_EDB); /* a bad statement, too */
    T_EQ_INT(store_exec(s, "INSERT INTO w(name, n) VALUES ('b', 3)"), 0);
    T_EQ_INT(store_commit(s), 0);
    T_EQ_INT(query_int(s, "SELECT sum(n) FROM w"), 4);
    T_EQ_INT(query_int(s, "SELECT count(*) FROM w"), 2);
    /* the shared SQL forms both dialects accept: upsert, RETURNING, CAST */
    T_EQ_INT(store_prepare(s,
                           "INSERT INTO w(name, n) VALUES (?, ?) ON CONFLICT(name) DO UPDATE"
                           " SET n = w.n + excluded.n RETURNING n",
                           &st),
             0);
    T_EQ_INT(STORE_BIND(st, STORE_TEXT("b"), STORE_INT(10)), 0);
    T_EQ_INT(store_step(st), STORE_ROW);
    T_EQ_INT(store_col_int(st, 0), 13);
    T_EQ_INT(store_step(st), STORE_DONE);
    store_reset(st);
    T_EQ_INT(store_changes(s), 1);
    T_EQ_INT(query_int(s, "SELECT CAST(max(n) AS INTEGER) + 1 FROM w"), 14);
    T_EQ_INT(query_int(s, "SELECT count(*) FROM w WHERE name = 'it''s?'"), 0); /* ? in quotes */
    T_EQ_INT(store_exec(s, "UPDATE w SET n = n + 1"), 0);
    T_EQ_INT(store_changes(s), 2);
out:
    store_close(s);
    tmp_cleanup();
}

/* The append-only tables refuse UPDATE and DELETE as a constraint (OC_ECONFLICT). */
static void test_append_only(void)
{
    struct store *s = open_ok(tmp_data());
    struct store_stmt *st;
    if (!s)
        goto out;
    T_EQ_INT(store_prepare(s,
                           "INSERT INTO audit(ts_ms, actor, action, target, status, detail)"
                           " VALUES (?, ?, ?, ?, ?, ?)",
                           &st),
             0);
    T_EQ_INT(STORE_BIND(st, STORE_INT(1700000000000), STORE_TEXT("ops"), STORE_TEXT("token.create"),
                        STORE_TEXT("ci"), STORE_INT(201), STORE_NULL),
             0);
    T_EQ_INT(store_step(st), STORE_DONE);
    store_reset(st);
    T_EQ_INT(store_last_id(s), 1);
    T_EQ_INT(store_prepare(s, "UPDATE audit SET actor = ? WHERE id = ?", &st), 0);
    T_EQ_INT(STORE_BIND(st, STORE_TEXT("mallory"), STORE_INT(1)), 0);
    T_EQ_INT(store_step(st), OC_ECONFLICT);
    store_reset(st);
    T_CONTAINS(store_errmsg(s), "audit is append-only");
    T_EQ_INT(store_exec(s, "DELETE FROM audit"), OC_EDB);
    T_EQ_INT(query_int(s, "SELECT count(*) FROM audit WHERE actor = 'ops'"), 1);
out:
    store_close(s);
    tmp_cleanup();
}

/* SQLite placeholders become PostgreSQL's, outside quoted text. */
static void test_placeholders(void)
{
    int n = -1;
    char *q = store_pg_placeholders("SELECT ? , ?3, ?, '?', \"a?\" FROM t WHERE x = ?1", &n);
    T_EQ_STR(q, "SELECT $1 , $3, $4, '?', \"a?\" FROM t WHERE x = $1");
    T_EQ_INT(n, 4);
    free(q);
    q = store_pg_placeholders("SELECT 1", &n);
    T_EQ_STR(q, "SELECT 1");
    T_EQ_INT(n, 0);
    free(q);
}

/* A PostgreSQL that cannot be reached fails the open with libpq's reason, never the password. */
static void test_pg_unreachable(void)
{
    char err[512] = "";
    struct store *s = (struct store *)1;
    struct store_opts o = {.dir = tmp_data(),
                           .backend = "postgres",
                           .postgres = "host=127.0.0.1 port=1 user=u password=hunter2 "
                                       "connect_timeout=2"};
    T_EQ_INT(store_open_opts(&o, &s, err, sizeof err), OC_EDB);
    T_TRUE(s == NULL);
    T_CONTAINS(err, "cannot connect to PostgreSQL");
    T_TRUE(strstr(err, "hunter2") == NULL);
    o.postgres = "";
    T_EQ_INT(store_open_opts(&o, &s, err, sizeof err), OC_EINVAL);
    T_CONTAINS(err, "store.postgres");
    o.backend = "mysql";
    T_EQ_INT(store_open_opts(&o, &s, err, sizeof err), OC_EINVAL);
    T_CONTAINS(err, "unknown backend 'mysql'");
    tmp_cleanup();
}

#define SCHEMA_MAX 1024 /* table.column entries compared */

/* Fills out[] with "table.column notnull" of every column of s's schema; the count. */
static int schema_columns(struct store *s, char out[][96])
{
    struct store_stmt *st;
    int n = 0;
    const char *sql =
        strcmp(store_backend(s), "postgres") == 0
            ? "SELECT table_name, column_name, CASE WHEN is_nullable = 'NO' THEN 1 ELSE 0 END"
              " FROM information_schema.columns WHERE table_schema = current_schema()"
              " AND table_name <> 'oncue_schema'"
            : "SELECT m.name, p.name, p.\"notnull\" OR p.pk > 0 FROM sqlite_master m,"
              " pragma_table_info(m.name) p WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'";
    if (store_prepare(s, sql, &st) != 0)
        return 0;
    while (n < SCHEMA_MAX && store_step(st) == STORE_ROW)
        snprintf(out[n++], sizeof out[0], "%s.%s %s", store_col_text(st, 0), store_col_text(st, 1),
                 store_col_int(st, 2) ? "NOT NULL" : "NULL");
    store_reset(st);
    qsort(out, (size_t)n, sizeof out[0], (int (*)(const void *, const void *))strcmp);
    return n;
}

/* PostgreSQL's schema (store/pg_schema.c) has the tables, columns and NOT NULLs of SQLite's
 * migrations, at the same version. */
static void test_pg_schema_matches(void)
{
    static char a[SCHEMA_MAX][96], b[SCHEMA_MAX][96];
    char lite[256];
    struct store *pg, *sq = NULL;
    int na, nb, shown = 0;
    if (!t_pg()) { /* runs under the "pg" label */
        T_TRUE(1);
        return;
    }
    pg = open_ok(tmp_data());
    snprintf(lite, sizeof lite, "%s/sqlite", tmp_root);
    char err[256];
    T_EQ_INT(store_open(lite, STORE_SYNC_NORMAL, &sq, err, sizeof err), 0);
    if (!pg || !sq)
        goto out;
    T_EQ_INT(store_schema_version(pg), store_schema_version(sq));
    na = schema_columns(sq, a);
    nb = schema_columns(pg, b);
    T_TRUE(na > 200);
    for (int i = 0, j = 0; (i < na || j < nb) && shown < 10;) {
        int c = i >= na ? 1 : j >= nb ? -1 : strcmp(a[i], b[j]);
        if (c == 0) {
            i++, j++;
            continue;
        }
        T_FAIL_AT("%s only on %s", c < 0 ? a[i] : b[j], c < 0 ? "SQLite" : "PostgreSQL");
        c < 0 ? i++ : j++;
        shown++;
    }
    T_EQ_INT(na, nb);
out:
    store_close(pg);
    store_close(sq);
    tmp_cleanup();
}

static const struct t_case cases[] = {
    T_CASE(test_open_wal_and_migrations),
    T_CASE(test_sync_full),
    T_CASE(test_roundtrip),
    T_CASE(test_bind_list),
    T_CASE(test_bad_sql),
    T_CASE(test_constraint_conflict),
    T_CASE(test_transactions),
    T_CASE(test_reopen_keeps_data),
    T_CASE(test_future_version_refused),
    T_CASE(test_open_fails_on_file),
    T_CASE(test_close_null),
    T_CASE(test_seal),
    T_CASE(test_conflict_in_transaction),
    T_CASE(test_append_only),
    T_CASE(test_placeholders),
    T_CASE(test_pg_unreachable),
    T_CASE(test_pg_schema_matches),
    T_CASE(test_shared_sql),
    {0},
};

T_MAIN(cases)
