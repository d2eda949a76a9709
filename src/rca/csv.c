/*
 * csv.c - the reader of the root-cause input CSV (docs/contracts.md "Root-cause input") into a
 * struct rca_data.
 *
 * Input is untrusted: lines are capped at RCA_MAX_LINE bytes, columns at RCA_MAX_COLS, rows and
 * leaves by rca_data_add. Every error is reported as "FILE:LINE: message". Bytes are fed in
 * chunks through one line splitter, so a file and a memory buffer take the same path.
 */
#include "rca/rca_int.h"

#include "core/err.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct csv {
    const char *name;           /* file name for messages */
    long line;                  /* current line number, 1-based */
    int ncols;                  /* columns in the header */
    int ratio;                  /* header ends in value,total */
    struct rca_data *d;         /* built once the header is read */
    char buf[RCA_MAX_LINE + 1]; /* the line being assembled */
    size_t len;                 /* bytes in buf */
    int rows;                   /* data rows read */
    char *err;                  /* caller's message buffer */
    size_t errlen;              /* its size */
};

static int csv_fail(struct csv *c, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int csv_fail(struct csv *c, int rc, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (c->err && c->errlen)
        snprintf(c->err, c->errlen, "%s:%ld: %s", c->name, c->line, msg);
    return rc;
}

/* Splits line at commas in place; returns the field count or -1 past RCA_MAX_COLS. */
static int split(char *line, char **f)
{
    int n = 0;
    char *p = line;
    for (;;) {
        if (n == RCA_MAX_COLS)
            return -1;
        f[n++] = p;
        char *comma = strchr(p, ',');
        if (!comma)
            return n;
        *comma = '\0';
        p = comma + 1;
    }
}

static int is_reserved(const char *s)
{
    return strcmp(s, "ts") == 0 || strcmp(s, "value") == 0 || strcmp(s, "total") == 0;
}

static int csv_header(struct csv *c, char **f, int n)
{
    if (n < 0)
        return csv_fail(c, OC_ETOOBIG, "more than %d columns", RCA_MAX_COLS);
    if (strcmp(f[0], "ts") != 0)
        return csv_fail(c, OC_EINVAL, "header must start with column 'ts'");
    c->ratio = n >= 4 && strcmp(f[n - 2], "value") == 0 && strcmp(f[n - 1], "total") == 0;
    if (!c->ratio && strcmp(f[n - 1], "value") != 0)
        return csv_fail(c, OC_EINVAL, "header must end with 'value' or 'value,total'");
    int n_attrs = n - 2 - c->ratio;
    if (n_attrs < 1)
        return csv_fail(c, OC_EINVAL, "header has no attribute column");
    for (int a = 1; a <= n_attrs; a++) {
        if (f[a][0] == '\0' || is_reserved(f[a]))
            return csv_fail(c, OC_EINVAL, "column %d: bad attribute name '%s'", a + 1, f[a]);
        for (int b = 1; b < a; b++)
            if (strcmp(f[a], f[b]) == 0)
                return csv_fail(c, OC_EINVAL, "column %d: duplicate attribute '%s'", a + 1, f[a]);
    }
    c->ncols = n;
    c->d = rca_data_new(n_attrs, (const char *const *)(f + 1), c->ratio);
    return 0;
}

/* Parses a finite number filling the whole field; 0 or -1. */
static int parse_num(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end != '\0' || errno != 0 || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

static int csv_row(struct csv *c, char **f, int n)
{
    if (n != c->ncols)
        return csv_fail(c, OC_EINVAL, "expected %d columns, got %s%d", c->ncols,
                        n < 0 ? "more than " : "", n < 0 ? RCA_MAX_COLS : n);
    char *end;
    errno = 0;
    long long ts = strtoll(f[0], &end, 10);
    if (end == f[0] || *end != '\0' || errno != 0)
        return csv_fail(c, OC_EINVAL, "ts '%.40s' is not an integer", f[0]);
    double v = 0, t = 0;
    int vi = c->ncols - 1 - c->ratio;
    if (parse_num(f[vi], &v) != 0)
        return csv_fail(c, OC_EINVAL, "value '%.40s' is not a finite number", f[vi]);
    if (c->ratio && (parse_num(f[vi + 1], &t) != 0 || t < 0 || v < 0))
        return csv_fail(c, OC_EINVAL, "ratio needs value >= 0 and a finite total >= 0");
    int rc = rca_data_add(c->d, (int64_t)ts, (const char *const *)(f + 1), v, t);
    if (rc != 0)
        return csv_fail(c, rc, "too many %s (cap %d)",
                        rca_data_rows(c->d) >= RCA_MAX_ROWS ? "rows" : "leaves",
                        rca_data_rows(c->d) >= RCA_MAX_ROWS ? RCA_MAX_ROWS : RCA_MAX_LEAVES);
    c->rows++;
    return 0;
}

/* Handles one complete line (no newline) in c->buf. */
static int csv_line(struct csv *c)
{
    char *f[RCA_MAX_COLS];
    c->buf[c->len] = '\0';
    if (c->len && c->buf[c->len - 1] == '\r')
        c->buf[--c->len] = '\0';
    char *line = c->buf;
    if (c->line == 1 && (unsigned char)line[0] == 0xEF && (unsigned char)line[1] == 0xBB &&
        (unsigned char)line[2] == 0xBF)
        line += 3;
    if (strlen(line) != (size_t)(c->len - (size_t)(line - c->buf)))
        return csv_fail(c, OC_EINVAL, "NUL byte in line");
    if (line[0] == '\0')
        return c->d ? 0 : csv_fail(c, OC_EINVAL, "empty header line");
    int n = split(line, f);
    return c->d ? csv_row(c, f, n) : csv_header(c, f, n);
}

/* Feeds n bytes; complete lines are parsed as they end. */
static int csv_feed(struct csv *c, const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '\n') {
            int rc = csv_line(c);
            if (rc != 0)
                return rc;
            c->len = 0;
            c->line++;
            continue;
        }
        if (c->len >= RCA_MAX_LINE - 1)
            return csv_fail(c, OC_ETOOBIG, "line longer than %d bytes", RCA_MAX_LINE);
        c->buf[c->len++] = p[i];
    }
    return 0;
}

/* Parses the last line if it has no newline and checks the file had rows. */
static int csv_finish(struct csv *c)
{
    if (c->len) {
        int rc = csv_line(c);
        if (rc != 0)
            return rc;
    }
    if (!c->d)
        return csv_fail(c, OC_EINVAL, "empty file, expected a header line");
    if (c->rows == 0)
        return csv_fail(c, OC_EINVAL, "no data rows");
    return 0;
}

static void csv_init(struct csv *c, const char *name, char *err, size_t errlen)
{
    c->name = name;
    c->line = 1;
    c->ncols = 0;
    c->ratio = 0;
    c->d = NULL;
    c->len = 0;
    c->rows = 0;
    c->err = err;
    c->errlen = errlen;
}

int rca_csv_parse(const char *name, const char *buf, size_t len, struct rca_data **out, char *err,
                  size_t errlen)
{
    struct csv *c = malloc(sizeof(*c));
    int rc = OC_ENOMEM;
    *out = NULL;
    if (!c)
        goto out;
    csv_init(c, name, err, errlen);
    rc = csv_feed(c, buf, len);
    if (rc == 0)
        rc = csv_finish(c);
    if (rc == 0) {
        *out = c->d;
        c->d = NULL;
    }
out:
    if (c)
        rca_data_destroy(c->d);
    free(c);
    return rc;
}

int rca_csv_read(const char *path, struct rca_data **out, char *err, size_t errlen)
{
    struct csv *c = malloc(sizeof(*c));
    char chunk[65536];
    int rc = OC_ENOMEM;
    FILE *fp = NULL;
    *out = NULL;
    if (!c)
        goto out;
    csv_init(c, path, err, errlen);
    fp = fopen(path, "rb");
    if (!fp) {
        c->line = 0;
        rc = csv_fail(c, OC_EIO, "cannot open: %s", strerror(errno));
        goto out;
    }
    size_t n;
    rc = 0;
    while (rc == 0 && (n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
        rc = csv_feed(c, chunk, n);
    if (rc == 0 && ferror(fp))
        rc = csv_fail(c, OC_EIO, "read error");
    if (rc == 0)
        rc = csv_finish(c);
    if (rc == 0) {
        *out = c->d;
        c->d = NULL;
    }
out:
    if (fp)
        fclose(fp);
    if (c)
        rca_data_destroy(c->d);
    free(c);
    return rc;
}
