/*
 * pg.c - the PostgreSQL backend of the store interface (libpq), behind store.c's dispatch.
 *
 * One connection shared by every thread behind the store's recursive mutex, like SQLite's.
 * store_prepare rewrites SQLite's placeholders (?, ?NNN) into $N and prepares the text once
 * with PQprepare, PostgreSQL inferring each parameter's type from where it stands. Values are
 * sent as text (blobs in binary) with PQexecPrepared; the first store_step runs the statement
 * and later steps walk its result, read as text and converted by the column accessors as
 * SQLite would (bytea decoded from hex, booleans as 1 and 0).
 *
 * Inside a transaction each statement runs under a savepoint, so that a failed one (a
 * constraint, which store_step answers OC_ECONFLICT) leaves the transaction usable as on
 * SQLite, where only the statement is undone; a prepared statement sends its savepoint, itself
 * and the release in one round trip (pipeline mode). A connection found broken outside a
 * transaction is reset once and its statements prepared again.
 */
#include "store/store_int.h"
#include "store/sql.h"
#include "core/alloc.h"
#include "core/err.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PG_BYTEA_OID  17 /* pg_type.oid of bytea */
#define PG_SCHEMA_MAX 63

struct store_pg {
    PGconn *conn;                   /* owned */
    char schema[PG_SCHEMA_MAX + 1]; /* search_path set at connect, "" for the default */
    char errmsg[512];               /* the last error */
    int changes;                    /* rows the last INSERT, UPDATE or DELETE changed */
    unsigned gen;                   /* bumped at each reconnection: statements prepare again */
    unsigned next_name;             /* prepared statement names oc1, oc2, ... */
};

struct store_pg_stmt {
    char name[16];       /* the server-side prepared statement */
    char *sql;           /* the text with $N placeholders; owned */
    unsigned gen;        /* the connection generation it was prepared on */
    int nparams;         /* parameters $1..$nparams */
    char **vals;         /* [nparams] bound values (NULL: SQL NULL); owned */
    int *lens;           /* [nparams] their lengths */
    int *fmts;           /* [nparams] 0 text, 1 binary (blobs) */
    PGresult *res;       /* the result of the run in progress, or NULL */
    int row;             /* the current row of res */
    int done;            /* the run returned its last row */
    int ncols;           /* columns of res */
    unsigned char **dec; /* [ncols] bytea values of the current row, decoded; owned */
    size_t *declen;      /* [ncols] their lengths */
};

/* Copies msg (libpq's, which ends in a newline) into p->errmsg. */
static void set_err(struct store_pg *p, const char *msg)
{
    snprintf(p->errmsg, sizeof p->errmsg, "%s", msg && *msg ? msg : "unknown PostgreSQL error");
    size_t n = strlen(p->errmsg);
    while (n && (p->errmsg[n - 1] == '\n' || p->errmsg[n - 1] == ' '))
        p->errmsg[--n] = '\0';
}

/* OC_ECONFLICT for an integrity violation (SQLSTATE class 23), else OC_EDB; keeps the message. */
static int result_err(struct store_pg *p, const PGresult *r)
{
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    set_err(p, r ? PQresultErrorMessage(r) : PQerrorMessage(p->conn));
    return state && strncmp(state, "23", 2) == 0 ? OC_ECONFLICT : OC_EDB;
}

/* Keeps the row count of an INSERT, UPDATE or DELETE for store_changes. */
static void count_changes(struct store_pg *p, PGresult *r)
{
    const char *cmd = PQcmdStatus(r);
    if (strncmp(cmd, "INSERT", 6) == 0 || strncmp(cmd, "UPDATE", 6) == 0 ||
        strncmp(cmd, "DELETE", 6) == 0)
        p->changes = (int)strtol(PQcmdTuples(r), NULL, 10);
}

/* Runs sql (one or more statements) without parameters: 0, OC_ECONFLICT or OC_EDB. */
static int run(struct store_pg *p, const char *sql)
{
    PGresult *r = PQexec(p->conn, sql);
    ExecStatusType st = PQresultStatus(r);
    int rc = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ? 0 : result_err(p, r);
    if (rc == 0)
        count_changes(p, r);
    PQclear(r);
    return rc;
}

static int in_tx(const struct store_pg *p)
{
    return PQtransactionStatus(p->conn) != PQTRANS_IDLE;
}

/* Sets the search path to p->schema (made when missing); 0 or OC_EDB. */
static int use_schema(struct store_pg *p)
{
    char sql[2 * PG_SCHEMA_MAX + 96];
    if (!p->schema[0])
        return 0;
    snprintf(sql, sizeof sql, "CREATE SCHEMA IF NOT EXISTS %s; SET search_path TO %s", p->schema,
             p->schema);
    return run(p, sql);
}

/* A broken connection outside a transaction is reset once; statements then prepare again. */
static int ensure_conn(struct store_pg *p)
{
    if (PQstatus(p->conn) == CONNECTION_OK)
        return 0;
    PQreset(p->conn);
    if (PQstatus(p->conn) != CONNECTION_OK) {
        set_err(p, PQerrorMessage(p->conn));
        return OC_EDB;
    }
    p->gen++;
    PQsetClientEncoding(p->conn, "UTF8");
    return use_schema(p);
}

/* Notices (such as "already exists, skipping") are not errors: dropped. */
static void quiet(void *arg, const char *msg)
{
    (void)arg;
    (void)msg;
}

int store_pg_open(struct store *s, const char *conninfo, const char *schema, char *err,
                  size_t errlen)
{
    struct store_pg *p = oc_calloc(1, sizeof *p);
    char target[256];
    int rc = OC_EDB;
    s->pg = p;
    if (schema && *schema) {
        size_t n = strlen(schema);
        if (n > PG_SCHEMA_MAX || strspn(schema, "abcdefghijklmnopqrstuvwxyz0123456789_") != n ||
            (schema[0] >= '0' && schema[0] <= '9')) {
            snprintf(err, errlen,
                     "store.postgres_schema: '%s' is not a schema name (a-z, 0-9, _; at most %d)",
                     schema, PG_SCHEMA_MAX);
            return OC_EINVAL;
        }
        memcpy(p->schema, schema, n + 1);
    }
    p->conn = PQconnectdb(conninfo);
    if (!p->conn || PQstatus(p->conn) != CONNECTION_OK) {
        /* libpq's message names the host and the reason, never the password */
        set_err(p, p->conn ? PQerrorMessage(p->conn) : "out of memory");
        snprintf(err, errlen, "cannot connect to PostgreSQL: %s", p->errmsg);
        return OC_EDB;
    }
    PQsetClientEncoding(p->conn, "UTF8");
    PQsetNoticeProcessor(p->conn, quiet, NULL);
    snprintf(target, sizeof target, "postgres host=%s port=%s dbname=%s%s%s", PQhost(p->conn),
             PQport(p->conn), PQdb(p->conn), p->schema[0] ? " schema=" : "", p->schema);
    if (use_schema(p) != 0) {
        snprintf(err, errlen, "%s: cannot use the schema: %s", target, p->errmsg);
        return OC_EDB;
    }
    rc = store_pg_migrate(s, target, err, errlen);
    return rc;
}

void store_pg_close(struct store *s)
{
    if (!s->pg)
        return;
    PQfinish(s->pg->conn);
    free(s->pg);
    s->pg = NULL;
}

int store_pg_exec(struct store *s, const char *sql)
{
    struct store_pg *p = s->pg;
    int rc, sp;
    if (!in_tx(p) && ensure_conn(p) != 0)
        return OC_EDB;
    sp = PQtransactionStatus(p->conn) == PQTRANS_INTRANS;
    if (sp && run(p, STORE_PG_SQL_SAVEPOINT) != 0)
        return OC_EDB;
    rc = run(p, sql);
    if (sp) {
        char keep[sizeof p->errmsg];
        memcpy(keep, p->errmsg, sizeof keep);
        if (run(p, rc ? STORE_PG_SQL_UNDO : STORE_PG_SQL_RELEASE) != 0 && rc == 0)
            rc = OC_EDB;
        else
            memcpy(p->errmsg, keep, sizeof keep);
    }
    return rc ? OC_EDB : 0;
}

char *store_pg_placeholders(const char *sql, int *nparams)
{
    size_t n = strlen(sql);
    char *out = oc_malloc(n * 5 + 8), *o = out; /* "?" becomes at most "$NNNN" */
    int max = 0;
    char quote = 0;
    for (const char *c = sql; *c; c++) {
        if (quote) {
            if (*c == quote)
                quote = 0;
            *o++ = *c;
            continue;
        }
        if (*c == '\'' || *c == '"') {
            quote = *c;
            *o++ = *c;
            continue;
        }
        if (*c != '?') {
            *o++ = *c;
            continue;
        }
        int idx;
        if (c[1] >= '0' && c[1] <= '9') {
            char *end;
            idx = (int)strtol(c + 1, &end, 10);
            c = end - 1;
        } else {
            idx = max + 1; /* SQLite: a bare ? takes the next number after the largest so far */
        }
        if (idx > 9999)
            idx = 9999; /* SQLite's own limit is lower: prepare fails on either */
        if (idx > max)
            max = idx;
        o += snprintf(o, 8, "$%d", idx);
    }
    *o = '\0';
    *nparams = max;
    return out;
}

/* Prepares ps on the server under its name; 0 or OC_EDB. */
static int server_prepare(struct store_pg *p, struct store_pg_stmt *ps)
{
    PGresult *r = PQprepare(p->conn, ps->name, ps->sql, 0, NULL);
    int rc = PQresultStatus(r) == PGRES_COMMAND_OK ? 0 : result_err(p, r);
    PQclear(r);
    if (rc == 0)
        ps->gen = p->gen;
    return rc == 0 ? 0 : OC_EDB;
}

int store_pg_prepare(struct store *s, const char *sql, struct store_pg_stmt **out)
{
    struct store_pg *p = s->pg;
    struct store_pg_stmt *ps = oc_calloc(1, sizeof *ps);
    int sp = in_tx(p), rc;
    *out = NULL;
    ps->sql = store_pg_placeholders(sql, &ps->nparams);
    snprintf(ps->name, sizeof ps->name, "oc%u", ++p->next_name);
    /* a failed prepare inside a transaction would abort it: guard it like a statement */
    if (!sp)
        rc = ensure_conn(p);
    else
        rc = run(p, STORE_PG_SQL_SAVEPOINT);
    if (rc == 0)
        rc = server_prepare(p, ps);
    else
        sp = 0;
    if (sp) {
        char keep[sizeof p->errmsg];
        memcpy(keep, p->errmsg, sizeof keep);
        run(p, rc ? STORE_PG_SQL_UNDO : STORE_PG_SQL_RELEASE);
        memcpy(p->errmsg, keep, sizeof keep);
    }
    if (rc) {
        free(ps->sql);
        free(ps);
        return OC_EDB;
    }
    if (ps->nparams) {
        ps->vals = oc_calloc((size_t)ps->nparams, sizeof *ps->vals);
        ps->lens = oc_calloc((size_t)ps->nparams, sizeof *ps->lens);
        ps->fmts = oc_calloc((size_t)ps->nparams, sizeof *ps->fmts);
    }
    *out = ps;
    return 0;
}

/* Frees the decoded values of the current row. */
static void drop_row(struct store_pg_stmt *ps)
{
    for (int i = 0; i < ps->ncols && ps->dec; i++) {
        free(ps->dec[i]);
        ps->dec[i] = NULL;
    }
}

/* Forgets the result of the last run. */
static void drop_result(struct store_pg_stmt *ps)
{
    drop_row(ps);
    free(ps->dec);
    free(ps->declen);
    ps->dec = NULL;
    ps->declen = NULL;
    PQclear(ps->res);
    ps->res = NULL;
    ps->ncols = 0;
    ps->row = 0;
    ps->done = 0;
}

void store_pg_reset(struct store_pg_stmt *ps)
{
    drop_result(ps);
    for (int i = 0; i < ps->nparams; i++) {
        free(ps->vals[i]);
        ps->vals[i] = NULL;
        ps->lens[i] = 0;
        ps->fmts[i] = 0;
    }
}

void store_pg_stmt_free(struct store *s, struct store_pg_stmt *ps)
{
    char sql[48];
    if (!ps)
        return;
    store_pg_reset(ps);
    /* deallocate on the server, unless the connection is gone (closing frees them anyway) */
    if (s->pg && s->pg->conn && ps->gen == s->pg->gen && PQstatus(s->pg->conn) == CONNECTION_OK &&
        !in_tx(s->pg)) {
        snprintf(sql, sizeof sql, "DEALLOCATE %s", ps->name);
        PQclear(PQexec(s->pg->conn, sql));
    }
    free(ps->vals);
    free(ps->lens);
    free(ps->fmts);
    free(ps->sql);
    free(ps);
}

int store_pg_bind(struct store_pg_stmt *ps, int idx, const char *v, size_t n, int blob)
{
    if (idx < 1 || idx > ps->nparams || n > (size_t)1 << 30)
        return OC_EDB;
    free(ps->vals[idx - 1]);
    ps->vals[idx - 1] = NULL;
    if (v) {
        ps->vals[idx - 1] = oc_malloc(n + 1);
        memcpy(ps->vals[idx - 1], v, n);
        ps->vals[idx - 1][n] = '\0';
    }
    ps->lens[idx - 1] = (int)n;
    ps->fmts[idx - 1] = blob ? 1 : 0;
    return 0;
}

/* Inside a transaction: SAVEPOINT, ps and RELEASE in one round trip (libpq's pipeline mode);
 * ps's result into *res. 0, or ps's error once rolled back to the savepoint (the failed
 * RELEASE left it). */
static int execute_guarded(struct store_pg *p, struct store_pg_stmt *ps, PGresult **res)
{
    PGresult *r;
    int rc = 0, k = 0, nulls = 0;
    *res = NULL;
    if (!PQenterPipelineMode(p->conn)) {
        set_err(p, PQerrorMessage(p->conn));
        return OC_EDB;
    }
    if (!PQsendQueryParams(p->conn, STORE_PG_SQL_SAVEPOINT, 0, NULL, NULL, NULL, NULL, 0) ||
        !PQsendQueryPrepared(p->conn, ps->name, ps->nparams, (const char *const *)ps->vals,
                             ps->lens, ps->fmts, 0) ||
        !PQsendQueryParams(p->conn, STORE_PG_SQL_RELEASE, 0, NULL, NULL, NULL, NULL, 0) ||
        !PQpipelineSync(p->conn)) {
        set_err(p, PQerrorMessage(p->conn));
        rc = OC_EDB;
    }
    /* one result per query, each followed by NULL, then the sync's */
    while (nulls <= 4 && PQstatus(p->conn) == CONNECTION_OK) {
        if (!(r = PQgetResult(p->conn))) {
            if (rc && k == 0)
                break; /* nothing was sent */
            nulls++;
            continue;
        }
        ExecStatusType st = PQresultStatus(r);
        if (st == PGRES_PIPELINE_SYNC) {
            PQclear(r);
            break;
        }
        if (k++ == 1) {
            *res = r;
            continue;
        }
        if (st != PGRES_COMMAND_OK && st != PGRES_PIPELINE_ABORTED && rc == 0)
            rc = result_err(p, r);
        PQclear(r);
    }
    PQexitPipelineMode(p->conn);
    ExecStatusType st = *res ? PQresultStatus(*res) : PGRES_FATAL_ERROR;
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        char keep[sizeof p->errmsg];
        if (*res && st != PGRES_PIPELINE_ABORTED)
            rc = result_err(p, *res);
        else if (rc == 0) {
            set_err(p, PQerrorMessage(p->conn));
            rc = OC_EDB;
        }
        memcpy(keep, p->errmsg, sizeof keep);
        run(p, STORE_PG_SQL_UNDO);
        memcpy(p->errmsg, keep, sizeof keep);
    }
    return rc;
}

/* Runs ps with its bound values (under a savepoint inside a transaction); 0, OC_ECONFLICT or
 * OC_EDB. */
static int execute(struct store_pg *p, struct store_pg_stmt *ps)
{
    int sp = in_tx(p), rc;
    if (!sp && ensure_conn(p) != 0)
        return OC_EDB;
    if (ps->gen != p->gen && server_prepare(p, ps) != 0)
        return OC_EDB;
    if (sp) {
        rc = execute_guarded(p, ps, &ps->res);
    } else {
        ps->res = PQexecPrepared(p->conn, ps->name, ps->nparams, (const char *const *)ps->vals,
                                 ps->lens, ps->fmts, 0);
        ExecStatusType st = PQresultStatus(ps->res);
        rc = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ? 0 : result_err(p, ps->res);
    }
    if (rc == 0) {
        count_changes(p, ps->res);
        ps->ncols = PQnfields(ps->res);
        if (ps->ncols) {
            ps->dec = oc_calloc((size_t)ps->ncols, sizeof *ps->dec);
            ps->declen = oc_calloc((size_t)ps->ncols, sizeof *ps->declen);
        }
    } else {
        PQclear(ps->res);
        ps->res = NULL;
    }
    ps->row = -1;
    return rc;
}

int store_pg_step(struct store *s, struct store_pg_stmt *ps)
{
    int rc;
    if (ps->done)
        return STORE_DONE;
    if (!ps->res && (rc = execute(s->pg, ps)) != 0) {
        ps->done = 1;
        return rc;
    }
    drop_row(ps);
    if (++ps->row >= PQntuples(ps->res)) {
        ps->done = 1;
        return STORE_DONE;
    }
    return STORE_ROW;
}

/* 1 when col is a column of the current row. */
static int has_col(const struct store_pg_stmt *ps, int col)
{
    return ps->res && !ps->done && ps->row >= 0 && col >= 0 && col < ps->ncols;
}

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* The bytea value of col, decoded from libpq's hex text (\x0102...) once per row. */
static const unsigned char *bytea(struct store_pg_stmt *ps, int col, size_t *n)
{
    if (!ps->dec[col]) {
        const char *t = PQgetvalue(ps->res, ps->row, col);
        size_t len = strlen(t), k = 0;
        unsigned char *b = oc_malloc(len / 2 + 1);
        if (t[0] == '\\' && t[1] == 'x') {
            for (size_t i = 2; i + 1 < len; i += 2) {
                int hi = hexval(t[i]), lo = hexval(t[i + 1]);
                if (hi < 0 || lo < 0)
                    break;
                b[k++] = (unsigned char)(hi << 4 | lo);
            }
        }
        b[k] = '\0';
        ps->dec[col] = b;
        ps->declen[col] = k;
    }
    *n = ps->declen[col];
    return ps->dec[col];
}

const char *store_pg_col_text(struct store_pg_stmt *ps, int col)
{
    size_t n;
    if (!has_col(ps, col) || PQgetisnull(ps->res, ps->row, col))
        return NULL;
    if (PQftype(ps->res, col) == PG_BYTEA_OID)
        return (const char *)bytea(ps, col, &n);
    return PQgetvalue(ps->res, ps->row, col);
}

const void *store_pg_col_blob(struct store_pg_stmt *ps, int col, size_t *n)
{
    *n = 0;
    if (!has_col(ps, col) || PQgetisnull(ps->res, ps->row, col))
        return NULL;
    if (PQftype(ps->res, col) == PG_BYTEA_OID)
        return bytea(ps, col, n);
    *n = (size_t)PQgetlength(ps->res, ps->row, col);
    return PQgetvalue(ps->res, ps->row, col);
}

int store_pg_col_is_null(struct store_pg_stmt *ps, int col)
{
    return !has_col(ps, col) || PQgetisnull(ps->res, ps->row, col);
}

int64_t store_pg_last_id(struct store *s)
{
    struct store_pg *p = s->pg;
    int sp = in_tx(p);
    int64_t v = 0;
    /* lastval() fails when this connection drew no identity yet: guard a transaction */
    if (sp && run(p, STORE_PG_SQL_SAVEPOINT) != 0)
        return 0;
    PGresult *r = PQexec(p->conn, STORE_PG_SQL_LASTVAL);
    int ok = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1;
    if (ok)
        v = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    if (sp)
        run(p, ok ? STORE_PG_SQL_RELEASE : STORE_PG_SQL_UNDO);
    return v;
}

int store_pg_changes(struct store *s)
{
    return s->pg->changes;
}

int store_pg_begin(struct store *s)
{
    struct store_pg *p = s->pg;
    if (in_tx(p)) {
        set_err(p, "cannot start a transaction within a transaction");
        return OC_EDB;
    }
    if (ensure_conn(p) != 0)
        return OC_EDB;
    return run(p, STORE_PG_SQL_BEGIN) == 0 ? 0 : OC_EDB;
}

int store_pg_commit(struct store *s)
{
    struct store_pg *p = s->pg;
    PGTransactionStatusType t = PQtransactionStatus(p->conn);
    if (t == PQTRANS_IDLE) {
        set_err(p, "cannot commit - no transaction is active");
        return OC_EDB;
    }
    if (t != PQTRANS_INTRANS) { /* failed (or the connection broke): it cannot commit */
        run(p, STORE_SQL_ROLLBACK);
        if (!p->errmsg[0])
            set_err(p, "the transaction failed and was rolled back");
        return OC_EDB;
    }
    PGresult *r = PQexec(p->conn, STORE_SQL_COMMIT);
    int rc = PQresultStatus(r) == PGRES_COMMAND_OK && strcmp(PQcmdStatus(r), "COMMIT") == 0
                 ? 0
                 : result_err(p, r);
    PQclear(r);
    if (rc && in_tx(p))
        run(p, STORE_SQL_ROLLBACK);
    return rc ? OC_EDB : 0;
}

void store_pg_rollback(struct store *s)
{
    if (in_tx(s->pg))
        run(s->pg, STORE_SQL_ROLLBACK);
}

const char *store_pg_errmsg(struct store *s)
{
    return s->pg->errmsg;
}
