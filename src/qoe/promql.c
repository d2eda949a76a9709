/*
 * promql.c - a hand-written recursive-descent parser for the PromQL subset of promql.h, the
 * matcher of its restricted regexes, and `oncue promql check`. It reads at most
 * PROMQL_MAX_LEN bytes, recurses at most a few levels (topk and sum nest once each, constant
 * arithmetic at most PAREN_DEPTH) and allocates nothing.
 */
#include "qoe/promql.h"
#include "core/err.h"
#include "core/suggest.h"
#include "qoe/qoe.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>

#define PAREN_DEPTH 16 /* nesting of parentheses in constant arithmetic */

struct parser {
    const char *s; /* the query */
    size_t i;      /* position in s */
    struct promql_expr *e;
    char *err;
    size_t errlen;
    int depth; /* constant arithmetic nesting */
};

#define PFAIL(code, ...) (snprintf(p->err, p->errlen, __VA_ARGS__), (code))

static void skip_ws(struct parser *p)
{
    while (p->s[p->i] == ' ' || p->s[p->i] == '\t' || p->s[p->i] == '\n' || p->s[p->i] == '\r')
        p->i++;
}

static int is_ident_start(char c)
{
    return isalpha((unsigned char)c) || c == '_' || c == ':';
}

static int is_ident(char c)
{
    return is_ident_start(c) || isdigit((unsigned char)c);
}

/* Reads an identifier into out (n bytes); its length, 0 when none is there or it is too long. */
static size_t ident(struct parser *p, char *out, size_t n)
{
    skip_ws(p);
    size_t start = p->i, j = p->i;
    if (!is_ident_start(p->s[j]))
        return 0;
    while (is_ident(p->s[j]))
        j++;
    if (j - start >= n)
        return 0;
    memcpy(out, p->s + start, j - start);
    out[j - start] = 0;
    p->i = j;
    return j - start;
}

static int peek(struct parser *p, char c)
{
    skip_ws(p);
    return p->s[p->i] == c;
}

static int expect(struct parser *p, char c, const char *what)
{
    skip_ws(p);
    if (p->s[p->i] != c) {
        if (!p->s[p->i])
            return PFAIL(OC_EMALFORMED, "unexpected end of query: expected '%c' %s", c, what);
        return PFAIL(OC_EMALFORMED, "at byte %zu: expected '%c' %s, found '%c'", p->i, c, what,
                     p->s[p->i]);
    }
    p->i++;
    return 0;
}

/* Copies a quoted string ("..." or '...', backslash escapes \\ \" \' \n \t) into the pool. */
static int string_lit(struct parser *p, const char **out)
{
    skip_ws(p);
    char q = p->s[p->i];
    if (q == '`')
        return PFAIL(OC_EMALFORMED, "unsupported: raw strings (`...`): use \"...\"");
    if (q != '"' && q != '\'')
        return PFAIL(OC_EMALFORMED, "at byte %zu: expected a quoted label value", p->i);
    struct promql_expr *e = p->e;
    char *o = e->pool + e->used;
    size_t k = 0;
    for (p->i++; p->s[p->i] != q; p->i++) {
        char c = p->s[p->i];
        if (!c)
            return PFAIL(OC_EMALFORMED, "unterminated string");
        if (c == '\\') {
            c = p->s[++p->i];
            if (c == 'n')
                c = '\n';
            else if (c == 't')
                c = '\t';
            else if (c != '\\' && c != '"' && c != '\'')
                return PFAIL(OC_EMALFORMED, "unsupported escape in a string at byte %zu", p->i);
        }
        if (e->used + k + 2 >= sizeof e->pool)
            return PFAIL(OC_EMALFORMED, "strings longer than the query");
        o[k++] = c;
    }
    p->i++;
    o[k] = 0;
    e->used += k + 1;
    *out = o;
    return 0;
}

#define RE_STAR 1 /* compiled regex: any run of characters (".*") */
#define RE_ANY  2 /* compiled regex: any one character (the first of ".+") */
#define RE_ALT  3 /* compiled regex: between alternatives */

/* Compiles the restricted regex re into out (strlen(re) + 1 bytes at least): literals,
 * escaped literals, ".*", ".+", '|' and one group around the whole. 0, or OC_EMALFORMED
 * naming what is not supported in why. */
static int re_compile(const char *re, char *out, char *why, size_t n)
{
    size_t len = strlen(re), i = 0, k = 0;
    if (len >= 2 && re[0] == '(' && re[len - 1] == ')' && re[len - 2] != '\\') {
        i = re[1] == '?' && re[2] == ':' ? 3 : 1;
        len--;
    }
    for (; i < len; i++) {
        char c = re[i];
        if ((unsigned char)c < 0x20)
            return snprintf(why, n, "a control character in a regex"), OC_EMALFORMED;
        if (c == '\\' && i + 1 < len && !isalnum((unsigned char)re[i + 1])) {
            out[k++] = re[++i];
        } else if (c == '.' && i + 1 < len && (re[i + 1] == '*' || re[i + 1] == '+')) {
            if (re[++i] == '+')
                out[k++] = RE_ANY;
            out[k++] = RE_STAR;
        } else if (c == '|') {
            out[k++] = RE_ALT;
        } else if (strchr("\\.*+?()[]{}^$", c)) {
            return snprintf(why, n,
                            "unsupported in a regex: '%c' (literals, '|', '.*' and '.+' only)", c),
                   OC_EMALFORMED;
        } else {
            out[k++] = c;
        }
    }
    out[k] = 0;
    return 0;
}

/* Whether v matches pattern pat[0..pn) whole (RE_STAR and RE_ANY wildcards); linear with
 * one backtrack point, as glob matching. */
static int glob(const char *pat, size_t pn, const char *v)
{
    size_t i = 0, j = 0, vn = strlen(v), star = (size_t)-1, mark = 0;
    while (j < vn) {
        if (i < pn && (pat[i] == RE_ANY || pat[i] == v[j])) {
            i++, j++;
        } else if (i < pn && pat[i] == RE_STAR) {
            star = i++;
            mark = j;
        } else if (star != (size_t)-1) {
            i = star + 1;
            j = ++mark;
        } else {
            return 0;
        }
    }
    while (i < pn && pat[i] == RE_STAR)
        i++;
    return i == pn;
}

int promql_match(const struct promql_matcher *m, const char *value)
{
    if (m->op == PROMQL_EQ || m->op == PROMQL_NE)
        return (strcmp(m->value, value) == 0) == (m->op == PROMQL_EQ);
    char pat[PROMQL_MAX_LEN + 1], why[8];
    int hit = 0;
    if (strlen(m->value) < sizeof pat && re_compile(m->value, pat, why, sizeof why) == 0) {
        for (const char *a = pat; !hit;) {
            const char *end = strchr(a, RE_ALT);
            size_t an = end ? (size_t)(end - a) : strlen(a);
            hit = glob(a, an, value);
            if (!end)
                break;
            a = end + 1;
        }
    }
    return hit == (m->op == PROMQL_RE);
}

void promql_metric_name(int metric, char *out, size_t n)
{
    snprintf(out, n, "%s%s", PROMQL_PREFIX,
             metric >= 0 && metric < QOE_NMETRICS ? qoe_metrics[metric].name : "?");
}

static int unknown_metric(struct parser *p, const char *name)
{
    char why[1024];
    size_t plen = strlen(PROMQL_PREFIX);
    qoe_metric_unknown(strncmp(name, PROMQL_PREFIX, plen) == 0 ? name + plen : name, why,
                       sizeof why);
    return PFAIL(OC_EINVAL, "metric %s (names are %s followed by one of them)", why, PROMQL_PREFIX);
}

static int set_metric(struct parser *p, const char *name)
{
    size_t plen = strlen(PROMQL_PREFIX);
    if (p->e->metric >= 0)
        return PFAIL(OC_EMALFORMED, "the metric is named twice");
    if (strncmp(name, PROMQL_PREFIX, plen) != 0 || qoe_metric_parse(name + plen) < 0)
        return unknown_metric(p, name);
    p->e->metric = qoe_metric_parse(name + plen);
    return 0;
}

static int unknown_label(struct parser *p, const char *name)
{
    char list[512];
    size_t at = 0;
    for (int d = 0; d < BEACON_NDIMS && at < sizeof list; d++)
        at += (size_t)snprintf(list + at, sizeof list - at, "%s%s", d ? ", " : "",
                               beacon_dim_names[d]);
    return PFAIL(OC_EINVAL, "unknown label '%.64s'; labels: %s", name, list);
}

static int one_matcher(struct parser *p)
{
    char label[128], why[160];
    const char *value;
    enum promql_op op;
    if (!ident(p, label, sizeof label))
        return PFAIL(OC_EMALFORMED, "at byte %zu: expected a label name", p->i);
    skip_ws(p);
    const char *o = p->s + p->i;
    if (o[0] == '=' && o[1] == '~')
        op = PROMQL_RE, p->i += 2;
    else if (o[0] == '!' && o[1] == '~')
        op = PROMQL_NRE, p->i += 2;
    else if (o[0] == '!' && o[1] == '=')
        op = PROMQL_NE, p->i += 2;
    else if (o[0] == '=')
        op = PROMQL_EQ, p->i += 1;
    else
        return PFAIL(OC_EMALFORMED, "at byte %zu: expected =, !=, =~ or !~ after '%s'", p->i,
                     label);
    int rc = string_lit(p, &value);
    if (rc != 0)
        return rc;
    if (strcmp(label, "__name__") == 0) {
        if (op != PROMQL_EQ)
            return PFAIL(OC_EMALFORMED, "unsupported: __name__ with an operator other than =");
        return set_metric(p, value);
    }
    int d = qoe_dim_parse(label);
    if (d < 0)
        return unknown_label(p, label);
    if (p->e->nmatchers >= PROMQL_MAX_MATCHERS)
        return PFAIL(OC_EINVAL, "more than %d label matchers", PROMQL_MAX_MATCHERS);
    if (op == PROMQL_RE || op == PROMQL_NRE) {
        char *tmp = p->e->pool + p->e->used; /* scratch past the strings, never kept */
        if (strlen(value) + 1 > sizeof p->e->pool - p->e->used)
            return PFAIL(OC_EMALFORMED, "regex too long");
        if (re_compile(value, tmp, why, sizeof why) != 0)
            return PFAIL(OC_EMALFORMED, "label %s: %s", label, why);
    }
    p->e->m[p->e->nmatchers++] = (struct promql_matcher){d, op, value};
    return 0;
}

static int matchers(struct parser *p)
{
    int rc = expect(p, '{', "to open label matchers");
    while (rc == 0 && !peek(p, '}')) {
        if ((rc = one_matcher(p)) != 0)
            break;
        if (!peek(p, ','))
            break;
        p->i++;
    }
    return rc ? rc : expect(p, '}', "to close label matchers");
}

/* What follows a selector that the subset does not take: a range, offset, @, a subquery. */
static int after_selector(struct parser *p)
{
    char word[16];
    size_t at = p->i;
    if (peek(p, '['))
        return PFAIL(OC_EMALFORMED, "unsupported: range selector [...] (QoE points are already "
                                    "aggregated over each step)");
    if (peek(p, '@'))
        return PFAIL(OC_EMALFORMED, "unsupported: @ modifier");
    if (ident(p, word, sizeof word) && strcmp(word, "offset") == 0)
        return PFAIL(OC_EMALFORMED, "unsupported: offset");
    p->i = at;
    return 0;
}

static int selector(struct parser *p, const char *name)
{
    int rc = 0;
    if (name && (rc = set_metric(p, name)) != 0)
        return rc;
    if (peek(p, '{') && (rc = matchers(p)) != 0)
        return rc;
    if (p->e->metric < 0)
        return PFAIL(OC_EMALFORMED, "a selector must name a metric (%sMETRIC or __name__)",
                     PROMQL_PREFIX);
    p->e->kind = PROMQL_SELECTOR;
    return after_selector(p);
}

/* "(label, ...)" after by or without, into a mask of dimensions. */
static int label_list(struct parser *p, unsigned *mask)
{
    char label[128];
    int rc = expect(p, '(', "after by/without");
    *mask = 0;
    while (rc == 0 && !peek(p, ')')) {
        if (!ident(p, label, sizeof label))
            return PFAIL(OC_EMALFORMED, "at byte %zu: expected a label name", p->i);
        int d = qoe_dim_parse(label);
        if (d < 0)
            return unknown_label(p, label);
        *mask |= 1u << d;
        if (!peek(p, ','))
            break;
        p->i++;
    }
    return rc ? rc : expect(p, ')', "to close the label list");
}

/* Reads an optional "by (...)" or "without (...)" clause; *seen says whether one was there. */
static int grouping(struct parser *p, int *seen)
{
    char word[16];
    size_t at = p->i;
    unsigned mask;
    *seen = 0;
    if (!ident(p, word, sizeof word) || (strcmp(word, "by") && strcmp(word, "without"))) {
        p->i = at;
        return 0;
    }
    int rc = label_list(p, &mask);
    if (rc != 0)
        return rc;
    *seen = 1;
    p->e->group_mask = word[0] == 'b' ? mask : ((1u << BEACON_NDIMS) - 1) & ~mask;
    return 0;
}

static const char *const other_aggs[] = {
    "avg",      "min",          "max",   "count",   "stddev", "stdvar",
    "quantile", "count_values", "group", "bottomk", "limitk", NULL,
};

static int vector_expr(struct parser *p, int allow_sum);

/* sum [by|without (...)] (selector) [by|without (...)], after the word "sum". */
static int sum_expr(struct parser *p)
{
    int seen_before, seen_after, rc = grouping(p, &seen_before);
    if (rc == 0)
        rc = expect(p, '(', "after sum");
    if (rc == 0)
        rc = vector_expr(p, 0);
    if (rc == 0)
        rc = expect(p, ')', "to close sum(...)");
    if (rc == 0)
        rc = grouping(p, &seen_after);
    if (rc == 0 && seen_before && seen_after)
        rc = PFAIL(OC_EMALFORMED, "by/without given twice");
    if (rc == 0)
        p->e->kind = PROMQL_SUM; /* no clause: group by nothing, the whole selection */
    return rc;
}

/* topk(N, expr), after the word "topk". */
static int topk_expr(struct parser *p)
{
    int rc = expect(p, '(', "after topk");
    if (rc != 0)
        return rc;
    skip_ws(p);
    char *end;
    const char *at = p->s + p->i;
    if (!isdigit((unsigned char)*at))
        return PFAIL(OC_EMALFORMED, "topk: the first argument must be a number");
    double n = strtod(at, &end);
    if (n != floor(n) || n < 1 || n > PROMQL_MAX_TOPK)
        return PFAIL(OC_EINVAL, "topk: N must be a whole number from 1 to %d", PROMQL_MAX_TOPK);
    p->e->topk = (int)n;
    p->i += (size_t)(end - at);
    if ((rc = expect(p, ',', "after topk's N")) != 0 || (rc = vector_expr(p, 1)) != 0)
        return rc;
    return expect(p, ')', "to close topk(...)");
}

/* A selector, or with allow_sum also sum(...), or topk at the top (depth 0 of vectors). */
static int vector_expr(struct parser *p, int allow_sum)
{
    char name[128];
    skip_ws(p);
    if (p->s[p->i] == '{')
        return selector(p, NULL);
    if (!ident(p, name, sizeof name)) {
        if (!p->s[p->i])
            return PFAIL(OC_EMALFORMED, "unexpected end of query: expected a metric");
        return PFAIL(OC_EMALFORMED, "at byte %zu: expected a metric, found '%c'", p->i, p->s[p->i]);
    }
    int call = peek(p, '(');
    int grouped = strncmp(p->s + p->i, "by", 2) == 0 || strncmp(p->s + p->i, "without", 7) == 0;
    if (!call && !grouped)
        return selector(p, name);
    for (int k = 0; other_aggs[k]; k++)
        if (strcmp(name, other_aggs[k]) == 0)
            return PFAIL(OC_EMALFORMED,
                         "unsupported: %s() (QoE metrics are ratios: sum by (...) computes the "
                         "metric over each group, see docs/internals/promql.md)",
                         name);
    if (strcmp(name, "sum") == 0 && allow_sum)
        return sum_expr(p);
    if (strcmp(name, "sum") == 0)
        return PFAIL(OC_EMALFORMED, "unsupported: nested aggregation");
    if (strcmp(name, "topk") == 0)
        return PFAIL(OC_EMALFORMED, "unsupported: topk() inside another expression");
    return PFAIL(OC_EMALFORMED, "unsupported: %.64s()", name);
}

static int arith(struct parser *p, double *v);

static int factor(struct parser *p, double *v)
{
    skip_ws(p);
    char c = p->s[p->i], *end;
    if (c == '-' || c == '+') { /* a run of signs, read in a loop: no recursion per sign */
        int neg = 0;
        for (; p->s[p->i] == '-' || p->s[p->i] == '+'; skip_ws(p))
            neg ^= p->s[p->i++] == '-';
        int rc = factor(p, v);
        *v = neg ? -*v : *v;
        return rc;
    }
    if (c == '(') {
        if (++p->depth > PAREN_DEPTH)
            return PFAIL(OC_EMALFORMED, "parentheses nested deeper than %d", PAREN_DEPTH);
        p->i++;
        int rc = arith(p, v);
        p->depth--;
        return rc ? rc : expect(p, ')', "to close the parenthesis");
    }
    if (!isdigit((unsigned char)c) && c != '.')
        return PFAIL(OC_EMALFORMED, "unsupported: binary operators between a metric and a "
                                    "number or another metric");
    *v = strtod(p->s + p->i, &end);
    p->i = (size_t)(end - p->s);
    return 0;
}

/* Constant arithmetic: + - * / over numbers (left to right, * and / first). */
static int arith(struct parser *p, double *v)
{
    double r;
    int rc = factor(p, v);
    while (rc == 0) {
        skip_ws(p);
        char op = p->s[p->i];
        if (op != '+' && op != '-' && op != '*' && op != '/')
            break;
        p->i++;
        if (op == '*' || op == '/') {
            if ((rc = factor(p, &r)) == 0)
                *v = op == '*' ? *v * r : *v / r;
            continue;
        }
        if ((rc = factor(p, &r)) != 0)
            break;
        for (skip_ws(p); rc == 0 && (p->s[p->i] == '*' || p->s[p->i] == '/');) {
            double r2;
            char op2 = p->s[p->i++];
            if ((rc = factor(p, &r2)) == 0)
                r = op2 == '*' ? r * r2 : r / r2;
            skip_ws(p);
        }
        *v = op == '+' ? *v + r : *v - r;
    }
    return rc;
}

int promql_parse(const char *s, struct promql_expr *e, char *err, size_t errlen)
{
    struct parser p = {s, 0, e, err, errlen, 0};
    int rc;
    memset(e, 0, offsetof(struct promql_expr, pool));
    e->metric = -1;
    e->pool[0] = 0;
    if (strnlen(s, PROMQL_MAX_LEN + 1) > PROMQL_MAX_LEN)
        return snprintf(err, errlen, "query: longer than %d bytes", PROMQL_MAX_LEN), OC_EMALFORMED;
    skip_ws(&p);
    char c = s[p.i];
    if (!c)
        return snprintf(err, errlen, "query: empty"), OC_EMALFORMED;
    if (isdigit((unsigned char)c) || c == '.' || c == '(' || c == '-' || c == '+') {
        e->kind = PROMQL_SCALAR;
        rc = arith(&p, &e->value);
    } else if (strncmp(s + p.i, "topk", 4) == 0 && !is_ident(s[p.i + 4])) {
        p.i += 4;
        rc = topk_expr(&p);
    } else {
        rc = vector_expr(&p, 1);
    }
    if (rc != 0)
        return rc;
    skip_ws(&p);
    c = s[p.i];
    if (c && strchr("+-*/%^<>=!", c))
        return snprintf(err, errlen, "unsupported: binary operator '%c'", c), OC_EMALFORMED;
    if (c) {
        char word[32];
        if (ident(&p, word, sizeof word) &&
            (strcmp(word, "and") == 0 || strcmp(word, "or") == 0 || strcmp(word, "unless") == 0))
            return snprintf(err, errlen, "unsupported: binary operator '%s'", word), OC_EMALFORMED;
        return snprintf(err, errlen, "at byte %zu: unexpected '%c'", p.i, s[p.i]), OC_EMALFORMED;
    }
    return 0;
}

int promql_cli_main(int argc, char **argv)
{
    struct promql_expr *e = malloc(sizeof *e);
    char err[1200];
    int bad = 0;
    if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        printf("usage: oncue promql check EXPR...\n\nParses each expression of the PromQL subset "
               "the Prometheus-compatible API answers\n(docs/internals/promql.md): ok or the "
               "error, one line each; exit 1 on any error.\n");
        free(e);
        return 0;
    }
    if (argc < 3 || strcmp(argv[1], "check") != 0) {
        static const char *const cmds[] = {"check", NULL};
        char hint[160];
        if (argc < 2)
            fprintf(stderr, "oncue promql: name a command: check EXPR...");
        else if (strcmp(argv[1], "check") != 0)
            fprintf(stderr, "oncue promql: unknown command '%s'%s", argv[1],
                    OC_SUGGEST_TABLE(argv[1], cmds, hint));
        else
            fprintf(stderr, "oncue promql check: needs EXPR...");
        fprintf(stderr, " (usage: oncue promql check EXPR...)\n");
        free(e);
        return 2;
    }
    for (int i = 2; i < argc; i++) {
        if (promql_parse(argv[i], e, err, sizeof err) == 0) {
            printf("ok: %s\n", argv[i]);
        } else {
            printf("error: %s: %s\n", argv[i], err);
            bad = 1;
        }
    }
    free(e);
    return bad;
}
