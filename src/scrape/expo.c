/*
 * expo.c - a bounded reader of the Prometheus text exposition format (0.0.4) and of
 * OpenMetrics 1.0 text, the bytes an exporter answers to a scrape.
 *
 * One line at a time (at most SCRAPE_LINE_MAX bytes, copied into one scratch buffer): "# HELP"
 * is skipped, "# TYPE" sets the family type of the samples that follow (a sample belongs to
 * the family named by the last TYPE when its name is the family's or the family's with
 * _total, _count, _sum, _bucket, _created or _info), other comments are skipped, "# EOF" ends
 * OpenMetrics text. A sample is NAME[{LABEL="VALUE",...}] VALUE [TIMESTAMP] [# EXEMPLAR]:
 * names as Prometheus spells them, label values unescaped (\\, \", \n) and valid UTF-8, at
 * most SCRAPE_MAX_LABELS distinct labels, values as Go's ParseFloat reads them (NaN, +Inf,
 * -Inf included, no hexadecimal). Any error names its line.
 */
#include "scrape/scrape.h"
#include "core/alloc.h"
#include "core/err.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *scrape_type_name(enum scrape_type t)
{
    static const char *const names[] = {"untyped",   "counter", "gauge",
                                        "histogram", "summary", "other"};
    return (unsigned)t < sizeof(names) / sizeof(names[0]) ? names[t] : "untyped";
}

struct rd {
    char *line; /* the current line, NUL-terminated (scratch) */
    int lineno;
    char *err;
    size_t errlen;
    char family[SCRAPE_NAME_MAX];
    enum scrape_type ftype;
};

static int fail(struct rd *r, int rc, const char *fmt, ...)
{
    va_list ap;
    int k = snprintf(r->err, r->errlen, "line %d: ", r->lineno);
    if (k >= 0 && (size_t)k < r->errlen) {
        va_start(ap, fmt);
        vsnprintf(r->err + k, r->errlen - (size_t)k, fmt, ap);
        va_end(ap);
    }
    return rc;
}

static int name_start(char c, int colon)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon && c == ':');
}

static int name_char(char c, int colon)
{
    return name_start(c, colon) || (c >= '0' && c <= '9');
}

/* Reads a name at *p (metric names allow ':'); its length, or 0 when there is none. */
static size_t read_name(const char *p, int colon)
{
    size_t n = 0;
    if (!name_start(p[0], colon))
        return 0;
    while (name_char(p[n], colon))
        n++;
    return n;
}

static const char *skip_ws(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

/* 1 when s (n bytes) is UTF-8 without overlongs, surrogates or NULs. */
static int utf8_ok(const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        unsigned c = s[i], cp, len;
        if (c == 0)
            return 0;
        if (c < 0x80) {
            i++;
            continue;
        }
        if ((c & 0xe0) == 0xc0)
            len = 2, cp = c & 0x1f;
        else if ((c & 0xf0) == 0xe0)
            len = 3, cp = c & 0x0f;
        else if ((c & 0xf8) == 0xf0)
            len = 4, cp = c & 0x07;
        else
            return 0;
        if (i + len > n)
            return 0;
        for (unsigned k = 1; k < len; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return 0;
            cp = (cp << 6) | (s[i + k] & 0x3f);
        }
        if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
            cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return 0;
        i += len;
    }
    return 1;
}

/* Reads a float token [p, end) the way Prometheus does; 0, or -1 when it is not one. */
static int read_float(const char *p, size_t n, double *out)
{
    char tok[64];
    if (n == 0 || n >= sizeof tok)
        return -1;
    memcpy(tok, p, n);
    tok[n] = 0;
    const char *t = tok + (tok[0] == '+' || tok[0] == '-');
    if (!strcmp(t, "NaN") || !strcmp(t, "nan")) {
        *out = NAN;
        return 0;
    }
    if (!strcmp(t, "Inf") || !strcmp(t, "inf") || !strcmp(t, "+Inf")) {
        *out = tok[0] == '-' ? -INFINITY : INFINITY;
        return 0;
    }
    for (const char *c = t; *c; c++)
        if (!((*c >= '0' && *c <= '9') || *c == '.' || *c == 'e' || *c == 'E' || *c == '+' ||
              *c == '-'))
            return -1;
    char *e;
    errno = 0;
    *out = strtod(tok, &e);
    return *e || e == tok ? -1 : 0;
}

static size_t token_len(const char *p)
{
    size_t n = 0;
    while (p[n] && p[n] != ' ' && p[n] != '\t')
        n++;
    return n;
}

/* A family type name, or -1. */
static int type_of(const char *t, int om)
{
    if (!strcmp(t, "counter"))
        return SCRAPE_COUNTER;
    if (!strcmp(t, "gauge"))
        return SCRAPE_GAUGE;
    if (!strcmp(t, "histogram"))
        return SCRAPE_HISTOGRAM;
    if (!strcmp(t, "summary"))
        return SCRAPE_SUMMARY;
    if (!strcmp(t, om ? "unknown" : "untyped"))
        return SCRAPE_UNTYPED;
    if (om && (!strcmp(t, "gaugehistogram") || !strcmp(t, "stateset") || !strcmp(t, "info")))
        return SCRAPE_OTHER;
    return -1;
}

/* "# ..." lines; 1 when it was # EOF. */
static int comment(struct rd *r, int om, int *rc)
{
    const char *p = r->line + 1;
    *rc = 0;
    if (*p != ' ' && *p != '\t')
        return 0; /* "#foo": a plain comment */
    p = skip_ws(p);
    if (!strcmp(p, "EOF"))
        return 1;
    int type = !strncmp(p, "TYPE", 4) && (p[4] == ' ' || p[4] == '\t');
    if (!type)
        return 0; /* HELP, UNIT, or a comment */
    p = skip_ws(p + 4);
    size_t n = read_name(p, 1);
    if (n == 0) {
        *rc = fail(r, OC_EINVAL, "# TYPE needs a metric name");
        return 0;
    }
    if (n >= SCRAPE_NAME_MAX) {
        *rc = fail(r, OC_ETOOBIG, "a metric name longer than %d bytes", SCRAPE_NAME_MAX - 1);
        return 0;
    }
    memcpy(r->family, p, n);
    r->family[n] = 0;
    p = skip_ws(p + n);
    size_t tl = token_len(p);
    char t[32] = "";
    if (tl < sizeof t)
        memcpy(t, p, tl), t[tl] = 0;
    int ty = type_of(t, om);
    if (ty < 0 || *skip_ws(p + tl)) {
        *rc = fail(r, OC_EINVAL, "# TYPE %s: unknown type \"%.20s\"", r->family, p);
        return 0;
    }
    r->ftype = (enum scrape_type)ty;
    return 0;
}

/* The family type of a sample named name. */
static enum scrape_type family_type(const struct rd *r, const char *name)
{
    static const char *const suffixes[] = {"",        "_total",   "_count", "_sum",
                                           "_bucket", "_created", "_info",  NULL};
    size_t fl = strlen(r->family);
    if (!fl || strncmp(name, r->family, fl) != 0)
        return SCRAPE_UNTYPED;
    for (int i = 0; suffixes[i]; i++)
        if (!strcmp(name + fl, suffixes[i]))
            return r->ftype;
    return SCRAPE_UNTYPED;
}

/* Reads the labels after '{' at *pp (in place: values are unescaped over themselves). */
static int labels(struct rd *r, char **pp, struct scrape_sample *s)
{
    char *p = *pp;
    for (;;) {
        p = (char *)skip_ws(p);
        if (*p == '}') {
            *pp = p + 1;
            return 0;
        }
        size_t n = read_name(p, 0);
        if (n == 0)
            return fail(r, OC_EINVAL, "a label name was expected at column %d",
                        (int)(p - r->line) + 1);
        if (n >= SCRAPE_NAME_MAX)
            return fail(r, OC_ETOOBIG, "a label name longer than %d bytes", SCRAPE_NAME_MAX - 1);
        if (s->nlabels >= SCRAPE_MAX_LABELS)
            return fail(r, OC_ETOOBIG, "more than %d labels", SCRAPE_MAX_LABELS);
        char *lname = p;
        p = (char *)skip_ws(p + n);
        if (*p != '=')
            return fail(r, OC_EINVAL, "'=' was expected after the label %.*s", (int)n, lname);
        lname[n] = 0;
        p = (char *)skip_ws(p + 1);
        if (*p != '"')
            return fail(r, OC_EINVAL, "the value of label %s must be quoted", lname);
        char *v = ++p, *o = p;
        for (;; p++) {
            if (*p == 0)
                return fail(r, OC_EINVAL, "the value of label %s is not closed", lname);
            if (*p == '"')
                break;
            if (*p == '\\') {
                p++;
                if (*p == 'n')
                    *o++ = '\n';
                else if (*p == '\\' || *p == '"')
                    *o++ = *p;
                else
                    return fail(r, OC_EINVAL, "label %s: unknown escape \\%c", lname,
                                *p ? *p : '0');
            } else {
                *o++ = *p;
            }
        }
        p++; /* past the quote (before o is terminated, which may overwrite it) */
        if ((size_t)(o - v) >= SCRAPE_LABEL_VALUE_MAX)
            return fail(r, OC_ETOOBIG, "the value of label %s is longer than %d bytes", lname,
                        SCRAPE_LABEL_VALUE_MAX - 1);
        if (!utf8_ok((const unsigned char *)v, (size_t)(o - v)))
            return fail(r, OC_EINVAL, "the value of label %s is not UTF-8", lname);
        *o = 0;
        for (int i = 0; i < s->nlabels; i++)
            if (!strcmp(s->label_name[i], lname))
                return fail(r, OC_EINVAL, "label %s is given twice", lname);
        s->label_name[s->nlabels] = lname;
        s->label_value[s->nlabels++] = v;
        p = (char *)skip_ws(p);
        if (*p == ',')
            p++;
        else if (*p != '}')
            return fail(r, OC_EINVAL, "',' or '}' was expected after the label %s", lname);
    }
}

static int sample(struct rd *r, int om, struct scrape_sample *s)
{
    char *p = r->line;
    size_t n = read_name(p, 1);
    int rc;
    memset(s, 0, sizeof(*s));
    s->line = r->lineno;
    if (n == 0)
        return fail(r, OC_EINVAL, "a metric name was expected");
    if (n >= SCRAPE_NAME_MAX)
        return fail(r, OC_ETOOBIG, "a metric name longer than %d bytes", SCRAPE_NAME_MAX - 1);
    char *name = p, *q = (char *)skip_ws(p + n);
    if (*q == '{') {
        name[n] = 0; /* the '{' or a blank */
        p = q + 1;
        if ((rc = labels(r, &p, s)) != 0)
            return rc;
    } else if (q == p + n && *q) {
        return fail(r, OC_EINVAL, "unexpected '%c' after the metric name %.*s", *q, (int)n, name);
    } else {
        p += n;
    }
    if (*p != ' ' && *p != '\t') {
        name[n] = 0;
        return fail(r, OC_EINVAL, "%s: a value was expected", name);
    }
    name[n] = 0; /* a blank, or already terminated */
    if (p == name + n)
        p++;
    p = (char *)skip_ws(p);
    n = token_len(p);
    if (read_float(p, n, &s->value) != 0)
        return fail(r, OC_EINVAL, "%s: \"%.*s\" is not a number", name, n > 40 ? 40 : (int)n, p);
    p = (char *)skip_ws(p + n);
    if (*p && *p != '#') {
        double ts;
        n = token_len(p);
        if (read_float(p, n, &ts) != 0 || !isfinite(ts) ||
            (!om && (memchr(p, '.', n) || memchr(p, 'e', n) || memchr(p, 'E', n))))
            return fail(r, OC_EINVAL, "%s: \"%.*s\" is not a timestamp", name, n > 40 ? 40 : (int)n,
                        p);
        s->has_ts = 1;
        ts = om ? ts * 1000.0 : ts;
        s->ts_ms = ts > 9e15    ? INT64_C(9000000000000000)
                   : ts < -9e15 ? -INT64_C(9000000000000000)
                                : (int64_t)ts;
        p = (char *)skip_ws(p + n);
    }
    if (*p == '#' && om && (p[1] == ' ' || p[1] == 0)) {
        /* an exemplar: skipped */
    } else if (*p) {
        return fail(r, OC_EINVAL, "%s: unexpected text after the value", name);
    }
    s->name = name;
    s->type = family_type(r, name);
    return 0;
}

int scrape_expo_parse(const char *text, size_t n, int om, scrape_sample_fn *fn, void *arg,
                      char *err, size_t errlen)
{
    struct rd r = {.err = err, .errlen = errlen};
    struct scrape_sample s;
    int rc = 0, eof = 0;
    size_t off = 0;
    if (errlen)
        err[0] = 0;
    r.line = oc_malloc(SCRAPE_LINE_MAX + 1);
    while (off < n && rc == 0) {
        const char *start = text + off, *nl = memchr(start, '\n', n - off);
        size_t len = nl ? (size_t)(nl - start) : n - off;
        off += len + (nl != NULL);
        r.lineno++;
        if (len && start[len - 1] == '\r')
            len--;
        if (len > SCRAPE_LINE_MAX) {
            rc = fail(&r, OC_ETOOBIG, "longer than %d bytes", SCRAPE_LINE_MAX);
            break;
        }
        if (memchr(start, 0, len)) {
            rc = fail(&r, OC_EINVAL, "a NUL byte");
            break;
        }
        memcpy(r.line, start, len);
        r.line[len] = 0;
        const char *p = skip_ws(r.line);
        if (eof) {
            if (*p)
                rc = fail(&r, OC_EINVAL, "text after # EOF");
            continue;
        }
        if (!*p)
            continue;
        if (p != r.line) {
            rc = fail(&r, OC_EINVAL, "a line may not start with a blank");
            break;
        }
        if (*p == '#') {
            eof = comment(&r, om, &rc);
            continue;
        }
        if ((rc = sample(&r, om, &s)) == 0)
            rc = fn(arg, &s);
    }
    if (rc == 0 && om && !eof) {
        r.lineno++;
        rc = fail(&r, OC_EINVAL, "OpenMetrics text must end with # EOF");
    }
    free(r.line);
    return rc;
}
