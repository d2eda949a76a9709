/*
 * opt.c - the one command-line parser of the subcommands, and the help and Markdown written
 * from the same option tables (see opt.h).
 */
#include "core/opt.h"
#include "core/buf.h"
#include "core/suggest.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The row of c whose flag is the first flen bytes of arg, or NULL. */
static const struct oc_opt *find(const struct oc_cli *c, const char *arg, size_t flen)
{
    for (const struct oc_opt *o = c->opts; o && o->flag; o++)
        if (strlen(o->flag) == flen && strncmp(o->flag, arg, flen) == 0)
            return o;
    return NULL;
}

/* Parses v as a number for o and stores it in opts; 0, or -1 with why. */
static int store_number(const struct oc_opt *o, void *opts, const char *v, char *why, size_t n)
{
    char *end = NULL;
    int bounded = o->min != 0 || o->max != 0;
    errno = 0;
    if (o->kind == OC_OPT_LONG) {
        long x = strtol(v, &end, 10);
        if (!*v || errno || *end || (bounded && (x < o->min || x > o->max)))
            goto bad;
        memcpy((char *)opts + o->offset, &x, sizeof(x));
        return 0;
    }
    double d = strtod(v, &end);
    if (!*v || errno || *end || !isfinite(d) || (bounded && (d < o->min || d > o->max)))
        goto bad;
    memcpy((char *)opts + o->offset, &d, sizeof(d));
    return 0;
bad:
    if (bounded)
        snprintf(why, n, "expected %s between %ld and %ld, got \"%s\"",
                 o->kind == OC_OPT_LONG ? "an integer" : "a number", o->min, o->max, v);
    else
        snprintf(why, n, "expected %s, got \"%s\"",
                 o->kind == OC_OPT_LONG ? "an integer" : "a number", v);
    return -1;
}

/* Applies option o with value v (NULL for flags); 0, or -1 with why. */
static int apply(const struct oc_opt *o, void *opts, const char *v, char *why, size_t n)
{
    int one = 1;
    switch (o->kind) {
    case OC_OPT_FLAG:
        memcpy((char *)opts + o->offset, &one, sizeof(one));
        return 0;
    case OC_OPT_STR:
        memcpy((char *)opts + o->offset, &v, sizeof(v));
        return 0;
    case OC_OPT_LONG:
    case OC_OPT_DOUBLE:
        return store_number(o, opts, v, why, n);
    case OC_OPT_FN:
        return o->fn(opts, v, why, n);
    }
    return -1;
}

/* Applies the option at argv[*i] (maybe "--flag=value"); 0, or -1 with why in err. */
static int parse_one(const struct oc_cli *c, int argc, char **argv, int *i, void *opts, char *err,
                     size_t errlen)
{
    const char *arg = argv[*i], *eq = strchr(arg, '='), *v = NULL;
    size_t flen = eq ? (size_t)(eq - arg) : strlen(arg);
    const struct oc_opt *o = find(c, arg, flen);
    char why[512] = "";
    if (!o) {
        struct oc_suggest sg;
        char hint[160];
        oc_suggest_init(&sg, arg, flen);
        for (const struct oc_opt *x = c->opts; x && x->flag; x++)
            oc_suggest_add(&sg, x->flag);
        oc_suggest_add(&sg, "--help");
        return snprintf(err, errlen, "oncue %s: unknown option %.*s%s (see oncue %s --help)",
                        c->name, (int)flen, arg, oc_suggest_hint(&sg, hint, sizeof hint), c->name),
               -1;
    }
    if (o->kind == OC_OPT_FLAG && eq)
        return snprintf(err, errlen, "oncue %s: %s takes no value", c->name, o->flag), -1;
    if (o->kind != OC_OPT_FLAG) {
        v = eq ? eq + 1 : (*i + 1 < argc ? argv[++*i] : NULL);
        if (!v)
            return snprintf(err, errlen, "oncue %s: %s needs a value (see oncue %s --help)",
                            c->name, o->flag, c->name),
                   -1;
    }
    if (apply(o, opts, v, why, sizeof(why)) != 0)
        return snprintf(err, errlen, "oncue %s: %s: %s", c->name, o->flag, why), -1;
    return 0;
}

/* Parses argv into opts and args without printing; see opt.h. */
int oc_cli_parse_quiet(const struct oc_cli *c, int argc, char **argv, void *opts, const char **args,
                       int *nargs, char *err, size_t errlen)
{
    int options = 1; /* until "--" */
    *nargs = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (options && (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0))
            return 1;
        if (options && strcmp(a, "--") == 0) {
            options = 0;
        } else if (options && a[0] == '-' && a[1] == '-') {
            if (parse_one(c, argc, argv, &i, opts, err, errlen) != 0)
                return -1;
        } else if (c->max_args < 0 || *nargs < c->max_args) {
            args[(*nargs)++] = a;
        } else {
            snprintf(err, errlen, "oncue %s: unexpected argument '%s' (see oncue %s --help)",
                     c->name, a, c->name);
            return -1;
        }
    }
    return 0;
}

/* Parses argv into opts and args; see opt.h. */
int oc_cli_parse(const struct oc_cli *c, int argc, char **argv, void *opts, const char **args,
                 int *nargs)
{
    char err[640];
    int rc = oc_cli_parse_quiet(c, argc, argv, opts, args, nargs, err, sizeof(err));
    if (rc < 0) {
        fprintf(stderr, "%s\n", err);
    } else if (rc > 0) {
        struct oc_buf b;
        oc_buf_init(&b, 1 << 20);
        oc_cli_help(c, &b);
        fwrite(b.data ? b.data : "", 1, b.len, stdout);
        oc_buf_free(&b);
    }
    return rc;
}

/* Writes "--flag METAVAR" of o into b. */
static void put_flag(struct oc_buf *b, const struct oc_opt *o)
{
    oc_buf_puts(b, o->flag);
    if (o->kind != OC_OPT_FLAG)
        oc_buf_printf(b, " %s", o->metavar ? o->metavar : "VALUE");
}

/* Writes the help text; see opt.h. */
void oc_cli_help(const struct oc_cli *c, struct oc_buf *b)
{
    oc_buf_printf(b, "usage: oncue %s %s\n", c->name, c->usage ? c->usage : "[OPTIONS]");
    if (c->about)
        oc_buf_printf(b, "\n%s", c->about);
    if (!c->opts || !c->opts->flag)
        return;
    oc_buf_puts(b, "\noptions:\n");
    for (const struct oc_opt *o = c->opts; o->flag; o++) {
        size_t start = b->len;
        oc_buf_puts(b, "  ");
        put_flag(b, o);
        size_t w = b->len - start;
        oc_buf_printf(b, "%*s%s\n", w < 24 ? (int)(24 - w) : 1, "", o->help);
    }
}

/* Writes text into b with '|' escaped for a Markdown table cell. */
static void put_cell(struct oc_buf *b, const char *text)
{
    for (const char *p = text; *p; p++)
        oc_buf_printf(b, "%s%c", *p == '|' ? "\\" : "", *p);
}

/* Writes the Markdown section; see opt.h. */
void oc_cli_doc(const struct oc_cli *c, struct oc_buf *b)
{
    oc_buf_printf(b, "\n## oncue %s\n\n```\noncue %s %s\n```\n", c->name, c->name,
                  c->usage ? c->usage : "[OPTIONS]");
    if (c->about)
        oc_buf_printf(b, "\n%s", c->about);
    if (!c->opts || !c->opts->flag)
        return;
    oc_buf_puts(b, "\n| option | what it does |\n|---|---|\n");
    for (const struct oc_opt *o = c->opts; o->flag; o++) {
        struct oc_buf f;
        oc_buf_init(&f, 4096);
        put_flag(&f, o);
        oc_buf_puts(b, "| `");
        put_cell(b, f.data ? f.data : "");
        oc_buf_puts(b, "` | ");
        put_cell(b, o->help);
        oc_buf_puts(b, " |\n");
        oc_buf_free(&f);
    }
}
