/*
 * eval.c - `oncue rca eval DIR`: scores the engine on labelled cases made by `oncue rca gen`.
 *
 * For each case_NNNN.truth/.csv pair (or each case generated in memory with --gen), runs
 * rca_run at the truth's `at` and compares the asserted elements with the true ones (the same
 * sorted attr=value pairs, or the same leaves of the case: the engine drops a pair that does
 * not narrow an element, the generator may name it). TP, FP and FN are summed per setting tag; the
 * table gives micro-F1 = 2TP/(2TP+FP+FN), precision, recall and the median and maximum engine
 * runtime (CSV reading and generation excluded).
 */
#include "rca/rca_int.h"

#include "core/alloc.h"
#include "core/buf.h"
#include "core/opt.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EVAL_MAX_SETS 96  /* distinct tags overall */
#define EVAL_TAG_LEN  32  /* bytes per tag */
#define EVAL_ELEM_LEN 256 /* bytes per element string */

struct eval_set {
    char tag[EVAL_TAG_LEN]; /* "all", "ratio", "layer=2", ... */
    long tp, fp, fn, cases; /* summed counts */
    long indist, alt;       /* --ident: missed true elements alike their alternative, or worse */
    long fp_alike, fp_fix;  /* --ident: false elements that are an alike or a worse-fitting
                               alternative */
    double *ms;             /* runtimes, owned */
    size_t n_ms, cap_ms;
};

static int read_truth(const char *path, struct rca_truth *t)
{
    char line[1024];
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    memset(t, 0, sizeof(*t));
    while (fgets(line, sizeof(line), f)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (strncmp(line, "at ", 3) == 0)
            t->at = strtoll(line + 3, NULL, 10);
        else if (strncmp(line, "cause ", 6) == 0 && t->n_el < RCA_TRUTH_ELS)
            snprintf(t->el[t->n_el++], RCA_TRUTH_LEN, "%.*s", RCA_TRUTH_LEN - 1, line + 6);
        else if (strncmp(line, "tags ", 5) == 0) {
            char *p = line + 5;
            while (*p && t->n_tags < RCA_TRUTH_TAGS) {
                size_t n = strcspn(p, " ");
                if (n > 0 && n < EVAL_TAG_LEN) {
                    memcpy(t->tags[t->n_tags], p, n);
                    t->tags[t->n_tags++][n] = '\0';
                }
                p += n + (p[n] == ' ');
            }
        }
    }
    fclose(f);
    return 0;
}

static struct eval_set *set_get(struct eval_set *sets, int *n, const char *tag)
{
    for (int i = 0; i < *n; i++)
        if (strcmp(sets[i].tag, tag) == 0)
            return &sets[i];
    if (*n == EVAL_MAX_SETS)
        return NULL;
    struct eval_set *s = &sets[(*n)++];
    memset(s, 0, sizeof(*s));
    snprintf(s->tag, sizeof(s->tag), "%s", tag);
    return s;
}

/* One case's counts. */
struct eval_counts {
    int tp, fp, fn;
    int indist;   /* --ident: missed true elements the data cannot tell from their alternative */
    int alt;      /* --ident: missed true elements whose alternative fits better */
    int fp_alike; /* --ident: false elements that are the alike alternative of a missed one */
    int fp_fix;   /* --ident: false elements the data tell a missed one from, in its favour */
    double ms;    /* engine runtime */
};

static void set_add(struct eval_set *s, const struct eval_counts *c)
{
    if (!s)
        return;
    s->tp += c->tp;
    s->fp += c->fp;
    s->fn += c->fn;
    s->indist += c->indist;
    s->alt += c->alt;
    s->fp_alike += c->fp_alike;
    s->fp_fix += c->fp_fix;
    s->cases++;
    s->ms = oc_grow(s->ms, &s->cap_ms, s->n_ms + 1, sizeof(*s->ms));
    s->ms[s->n_ms++] = c->ms;
}

/* The truth element s ("a=v&b=w") as attribute and value ids of d into t; -1 when it names
 * an attribute or a value d does not have (then it holds no leaf). */
static int truth_elem(const struct rca_data *d, const char *s, struct rca_elem *t)
{
    char buf[EVAL_ELEM_LEN];
    snprintf(buf, sizeof(buf), "%s", s);
    t->n = 0;
    for (char *save = NULL, *p = strtok_r(buf, "&", &save); p; p = strtok_r(NULL, "&", &save)) {
        char *eq = strchr(p, '=');
        int a = 0;
        if (!eq || t->n == RCA_MAX_DEPTH)
            return -1;
        *eq = 0;
        while (a < d->n_attrs && strcmp(d->names[a], p) != 0)
            a++;
        uint32_t v = 0;
        while (a < d->n_attrs && v < d->dict[a].n && strcmp(d->dict[a].strs[v], eq + 1) != 0)
            v++;
        if (a == d->n_attrs || v == d->dict[a].n)
            return -1;
        t->attr[t->n] = a;
        t->val[t->n++] = v;
    }
    return t->n > 0 ? 0 : -1;
}

static int leaf_holds(const struct rca_data *d, size_t l, const struct rca_elem *e)
{
    for (int i = 0; i < e->n; i++)
        if (d->leaf_vals[l * (size_t)d->n_attrs + e->attr[i]] != e->val[i])
            return 0;
    return 1;
}

/* Whether element e and the truth element s hold the same (non-empty) set of leaves of d. */
static int same_leaves(const struct rca_data *d, const struct rca_elem *e, const char *s)
{
    struct rca_elem t;
    size_t both = 0;
    if (truth_elem(d, s, &t) != 0)
        return 0;
    for (size_t l = 0; l < d->n_leaves; l++) {
        int in = leaf_holds(d, l, e);
        if (in != leaf_holds(d, l, &t))
            return 0;
        both += (size_t)in;
    }
    return both > 0;
}

/* The forecast mass (r + f) of the leaves both e and t hold. */
static double shared_mass(const struct rca_data *d, const struct rca_obs *ob,
                          const struct rca_elem *e, const struct rca_elem *t)
{
    double m = 0;
    for (size_t l = 0; l < d->n_leaves && l < ob->n; l++)
        if (leaf_holds(d, l, e) && leaf_holds(d, l, t))
            m += ob->r[l] + ob->f[l];
    return m;
}

/* --ident: classes each missed true element (used[j] == 0) by whether the data tell it from
 * the false element holding most of its mass (hit[i] == 0), or when none holds any from its
 * best parent, the other true elements in place (ident.c). Adds the classes to c. */
static void ident_case(const struct rca_data *d, const struct rca_truth *t,
                       const struct rca_opts *o, const struct rca_result *r,
                       const unsigned char *used, const unsigned char *hit, int verbose,
                       double nats, struct eval_counts *c)
{
    struct rca_ident x;
    struct rca_elem tr[RCA_TRUTH_ELS];
    int idx[RCA_TRUTH_ELS], n = 0;
    unsigned char alike[RCA_MAX_CAUSES] = {0}, fix[RCA_MAX_CAUSES] = {0};
    if (rca_ident_open(&x, d, (int64_t)t->at, o->window) != 0) {
        rca_ident_close(&x);
        return;
    }
    for (int j = 0; j < t->n_el; j++)
        if (truth_elem(d, t->el[j], &tr[n]) == 0)
            idx[n++] = j;
    for (int k = 0; k < n; k++) {
        if (used[idx[k]])
            continue;
        int best = -1;
        double bm = 0;
        for (int i = 0; i < r->n_causes; i++) {
            double m = hit[i] ? 0 : shared_mass(d, &x.ob, &r->causes[i], &tr[k]);
            if (m > bm) {
                bm = m;
                best = i;
            }
        }
        struct rca_elem parent;
        double delta = rca_ident_delta(&x, tr, n, k, best >= 0 ? &r->causes[best] : NULL, &parent);
        int cls = rca_ident_class(delta, nats);
        c->indist += cls == RCA_IDENT_INDIST;
        c->alt += cls == RCA_IDENT_ALT;
        if (cls == RCA_IDENT_INDIST && best >= 0)
            alike[best] = 1;
        if (cls == RCA_IDENT_TRUTH && best >= 0)
            fix[best] = 1;
        if (verbose) {
            static const char *const names[] = {"alike", "truth fits better", "other fits better"};
            struct oc_buf b;
            oc_buf_init(&b, 512);
            oc_buf_puts(&b, "  fn ");
            oc_buf_puts(&b, t->el[idx[k]]);
            oc_buf_puts(&b, best >= 0 ? " vs asserted " : " vs parent ");
            if (best < 0 && parent.n == 0)
                oc_buf_puts(&b, "(all leaves)");
            else
                rca_elem_format(d, best >= 0 ? &r->causes[best] : &parent, &b);
            int rank = 0; /* the truth's place among the candidates, 0: not there */
            for (int i = 0; i < r->n_cands && !rank; i++)
                if (same_leaves(d, &r->cands[i], t->el[idx[k]]))
                    rank = i + 1;
            fprintf(
                stderr, "%s: %+.2f nats (phi %.2f), %s; its own evidence %.1f nats, candidate %d\n",
                b.data ? b.data : "", delta, x.phi, names[cls], rca_ident_own(&x, tr, n, k), rank);
            oc_buf_free(&b);
        }
    }
    for (int i = 0; i < r->n_causes; i++) {
        c->fp_alike += alike[i];
        c->fp_fix += fix[i] && !alike[i];
    }
    rca_ident_close(&x);
}

/* Runs the engine on d; counts matches of predicted against true elements into c (and with
 * ident the classes of the missed ones). 0 or -1. */
static int eval_data(const struct rca_data *d, const struct rca_truth *t, const struct rca_opts *o,
                     int verbose, double ident, struct eval_counts *c)
{
    struct rca_result *r = oc_malloc(sizeof(*r));
    double t0 = rca_now_ms();
    if (rca_run(d, (int64_t)t->at, o, r) != 0) {
        free(r);
        return -1;
    }
    memset(c, 0, sizeof(*c));
    c->ms = rca_now_ms() - t0;
    unsigned char used[RCA_TRUTH_ELS] = {0}; /* true elements already matched */
    unsigned char hit[RCA_MAX_CAUSES] = {0}; /* asserted elements that matched one */
    for (int i = 0; i < r->n_causes; i++) {
        struct oc_buf b;
        oc_buf_init(&b, EVAL_ELEM_LEN);
        rca_elem_format(d, &r->causes[i], &b);
        int h = -1;
        for (int j = 0; j < t->n_el && h < 0; j++)
            if (!used[j] && b.data && strcmp(b.data, t->el[j]) == 0)
                h = j;
        for (int j = 0; j < t->n_el && h < 0; j++)
            if (!used[j] && same_leaves(d, &r->causes[i], t->el[j]))
                h = j;
        if (h >= 0) {
            used[h] = 1;
            hit[i] = 1;
            c->tp++;
        }
        oc_buf_free(&b);
    }
    c->fp = r->n_causes - c->tp;
    c->fn = t->n_el - c->tp;
    if (verbose) { /* is each true element among the first three candidates? */
        int top3 = 0;
        for (int j = 0; j < t->n_el; j++)
            for (int i = 0; i < r->n_cands && i < 3; i++) {
                struct oc_buf b;
                oc_buf_init(&b, EVAL_ELEM_LEN);
                rca_elem_format(d, &r->cands[i], &b);
                int same = b.data && strcmp(b.data, t->el[j]) == 0;
                oc_buf_free(&b);
                if (same) {
                    top3++;
                    break;
                }
            }
        fprintf(stderr, "  top3 %d/%d\n", top3, t->n_el);
    }
    if (verbose && (c->fp || c->fn)) {
        struct oc_buf b;
        oc_buf_init(&b, 4096);
        oc_buf_puts(&b, "  asserted:");
        for (int i = 0; i < r->n_causes; i++) {
            oc_buf_puts(&b, " ");
            rca_elem_format(d, &r->causes[i], &b);
        }
        oc_buf_puts(&b, "  first candidate: ");
        if (r->n_cands > 0)
            rca_elem_format(d, &r->cands[0], &b);
        oc_buf_puts(&b, "  true:");
        for (int j = 0; j < t->n_el; j++) {
            oc_buf_puts(&b, " ");
            oc_buf_puts(&b, t->el[j]);
        }
        fprintf(stderr, "%s\n", b.data ? b.data : "");
        oc_buf_free(&b);
    }
    if (ident > 0 && c->fn)
        ident_case(d, t, o, r, used, hit, verbose, ident, c);
    free(r);
    return 0;
}

/* Reads csv and runs it; 0 or -1. */
static int eval_case(const char *csv, const struct rca_truth *t, const struct rca_opts *o,
                     int verbose, double ident, struct eval_counts *c)
{
    struct rca_data *d = NULL;
    char err[512];
    if (rca_csv_read(csv, &d, err, sizeof(err)) != 0) {
        fprintf(stderr, "oncue rca eval: %s\n", err);
        return -1;
    }
    int rc = eval_data(d, t, o, verbose, ident, c);
    rca_data_destroy(d);
    return rc;
}

static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* The F1 the RiskLoc paper publishes for its methods on a setting, when we have it. We could
 * not read the paper's table (the authors' repository holds the generator, not the results),
 * so every entry is unknown (NAN) and printed as "n/a"; fill them in from the paper. */
struct eval_paper {
    const char *tag;         /* setting */
    double riskloc, squeeze; /* published micro-F1, NAN when unknown */
};

static const struct eval_paper eval_papers[] = {
    {"riskloc-s", NAN, NAN},
    {"riskloc-l", NAN, NAN},
    {"riskloc-h", NAN, NAN},
    {0},
};

static void paper_cell(const char *tag, char *out, size_t n)
{
    snprintf(out, n, "%s", "");
    for (const struct eval_paper *p = eval_papers; p->tag; p++)
        if (strcmp(p->tag, tag) == 0) {
            if (isnan(p->riskloc))
                snprintf(out, n, "n/a");
            else
                snprintf(out, n, "%.3f", p->riskloc);
        }
}

static void set_print(struct eval_set *s, int json, int ident, int first)
{
    char paper[16];
    qsort(s->ms, s->n_ms, sizeof(double), cmp_dbl);
    double p = s->tp + s->fp ? (double)s->tp / (double)(s->tp + s->fp) : 0;
    double r = s->tp + s->fn ? (double)s->tp / (double)(s->tp + s->fn) : 0;
    double f1 = 2 * s->tp + s->fp + s->fn ? 2.0 * s->tp / (double)(2 * s->tp + s->fp + s->fn) : 0;
    double med = s->n_ms ? s->ms[s->n_ms / 2] : 0, mx = s->n_ms ? s->ms[s->n_ms - 1] : 0;
    /* lenient: an alike alternative counts as a hit; reach: every missed element the data
     * favour is found (its false alternative gone), the alike and worse stay missed */
    long otp = s->tp + s->indist, ofp = s->fp - s->fp_alike, ofn = s->fn - s->indist;
    long fix = s->fn - s->indist - s->alt, rtp = s->tp + fix, rfp = s->fp - s->fp_fix;
    double of1 = 2 * otp + ofp + ofn ? 2.0 * otp / (double)(2 * otp + ofp + ofn) : 0;
    double rf1 =
        2 * rtp + rfp + s->fn - fix ? 2.0 * rtp / (double)(2 * rtp + rfp + s->fn - fix) : 0;
    paper_cell(s->tag, paper, sizeof(paper));
    if (json) {
        printf("%s{\"setting\":\"%s\",\"cases\":%ld,\"f1\":%.4f,\"precision\":%.4f,"
               "\"recall\":%.4f,\"median_ms\":%.3f,\"max_ms\":%.3f",
               first ? "" : ",", s->tag, s->cases, f1, p, r, med, mx);
        if (ident)
            printf(",\"fn\":%ld,\"fn_alike\":%ld,\"fn_worse\":%ld,\"f1_reach\":%.4f,"
                   "\"f1_lenient\":%.4f",
                   s->fn, s->indist, s->alt, rf1, of1);
        printf("}");
    } else {
        printf("| %-22s | %5ld | %.3f | %.3f | %.3f | %8.2f | %8.2f | %-13s |", s->tag, s->cases,
               f1, p, r, med, mx, paper);
        if (ident)
            printf(" %4ld | %5ld | %5ld | %.3f | %.3f |", s->fn, s->indist, s->alt, rf1, of1);
        printf("\n");
    }
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The sorted case_NNNN stems ("DIR/case_NNNN") of dir; *n gets the count. */
static char **list_cases(const char *dir, size_t *n)
{
    DIR *dp = opendir(dir);
    char **v = NULL;
    size_t cap = 0;
    *n = 0;
    if (!dp)
        return NULL;
    struct dirent *e;
    while ((e = readdir(dp)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len < 7 || strcmp(e->d_name + len - 6, ".truth") != 0)
            continue;
        v = oc_grow(v, &cap, *n + 1, sizeof(*v));
        char path[4096];
        snprintf(path, sizeof(path), "%s/%.*s", dir, (int)(len - 6), e->d_name);
        v[(*n)++] = oc_strdup(path);
    }
    closedir(dp);
    if (*n)
        qsort(v, *n, sizeof(*v), by_name);
    return v;
}

/* What the command line of `oncue rca eval` says. */
struct eval_args {
    struct rca_opts o;        /* the engine, defaults overridden by the tuning options */
    int json;                 /* --json */
    int verbose;              /* --verbose */
    double ident;             /* --ident NATS: the identifiability diagnostic (0: off) */
    const char *gen;          /* --gen P1,P2,...: generate in memory instead of reading DIR */
    long cases, seed, leaves; /* --cases, --seed, --leaves (with --gen) */
};

/* Adds one case's counts to "all" and to each of its tags. */
static void record(struct eval_set *sets, int *n_sets, const struct rca_truth *t,
                   const struct eval_counts *c)
{
    set_add(set_get(sets, n_sets, "all"), c);
    for (int k = 0; k < t->n_tags; k++)
        set_add(set_get(sets, n_sets, t->tags[k]), c);
}

/* Scores every case of stems[] into sets; returns the number that failed to run. */
static int eval_all(char **stems, size_t n, const struct eval_args *a, struct eval_set *sets,
                    int *n_sets)
{
    int failed = 0;
    set_get(sets, n_sets, "all");
    for (size_t i = 0; i < n; i++) {
        char truth[4200], csv[4200];
        struct rca_truth t;
        struct eval_counts c;
        snprintf(truth, sizeof(truth), "%s.truth", stems[i]);
        snprintf(csv, sizeof(csv), "%s.csv", stems[i]);
        if (read_truth(truth, &t) != 0 ||
            eval_case(csv, &t, &a->o, a->verbose, a->ident, &c) != 0) {
            failed++;
            continue;
        }
        record(sets, n_sets, &t, &c);
        if (a->verbose)
            fprintf(stderr, "%s tp=%d fp=%d fn=%d %.2fms\n", stems[i], c.tp, c.fp, c.fn, c.ms);
    }
    return failed;
}

/* Generates and scores a.cases cases of each profile named in the comma list a->gen; returns
 * the number that could not be drawn or run, or -1 for an unknown profile. */
static int eval_gen(const struct eval_args *a, struct eval_set *sets, int *n_sets, size_t *n)
{
    char list[256];
    int failed = 0;
    snprintf(list, sizeof(list), "%s", a->gen);
    set_get(sets, n_sets, "all");
    for (char *p = list, *next; p && *p; p = next) {
        next = strchr(p, ',');
        if (next)
            *next++ = '\0';
        int prof = rca_gen_profile_of(p);
        if (prof < 0 || prof == RCA_GEN_RISKLOC_H) {
            fprintf(stderr, "oncue rca eval: %s: %s\n", p,
                    prof < 0 ? "unknown profile" : "2,400,000 leaves, over the 100,000-leaf cap");
            return -1;
        }
        for (long i = 0; i < a->cases; i++) {
            struct rca_data *d = NULL;
            struct rca_truth t;
            struct eval_counts c;
            (*n)++;
            if (rca_gen_case(prof, a->seed, (int)i, (int)a->leaves, NULL, &d, &t) != 0 ||
                eval_data(d, &t, &a->o, a->verbose, a->ident, &c) != 0) {
                rca_data_destroy(d);
                failed++;
                continue;
            }
            rca_data_destroy(d);
            record(sets, n_sets, &t, &c);
            if (a->verbose) {
                fprintf(stderr, "%s/%ld tp=%d fp=%d fn=%d %.2fms", p, i, c.tp, c.fp, c.fn, c.ms);
                for (int k = 0; k < t.n_tags; k++)
                    fprintf(stderr, " %s", t.tags[k]);
                fprintf(stderr, "\n");
            }
        }
    }
    return failed;
}

static int by_tag(const void *a, const void *b)
{
    const struct eval_set *x = a, *y = b;
    if (strcmp(x->tag, "all") == 0 || strcmp(y->tag, "all") == 0)
        return strcmp(x->tag, "all") == 0 ? -1 : strcmp(y->tag, "all") == 0;
    return strcmp(x->tag, y->tag);
}

/* --window N: history bins, 0 to 1000000. */
static int set_window(void *p, const char *v, char *why, size_t n)
{
    char *end;
    errno = 0;
    long x = strtol(v, &end, 10);
    if (end == v || *end || errno || x < 0 || x > 1000000) {
        snprintf(why, n, "expected an integer between 0 and 1000000, got \"%s\"", v);
        return -1;
    }
    ((struct eval_args *)p)->o.window = (int)x;
    return 0;
}

/* "on" or "off" into *flag; -1 with why otherwise. */
static int on_off(int *flag, const char *v, char *why, size_t n)
{
    if (strcmp(v, "on") != 0 && strcmp(v, "off") != 0) {
        snprintf(why, n, "expected \"on\" or \"off\", got \"%s\"", v);
        return -1;
    }
    *flag = strcmp(v, "on") == 0;
    return 0;
}

static int set_drill_first(void *p, const char *v, char *why, size_t n)
{
    return on_off(&((struct eval_args *)p)->o.drill_first, v, why, n);
}

static int set_rename(void *p, const char *v, char *why, size_t n)
{
    return on_off(&((struct eval_args *)p)->o.rename, v, why, n);
}

static int set_entry_likelihood(void *p, const char *v, char *why, size_t n)
{
    return on_off(&((struct eval_args *)p)->o.entry_ll, v, why, n);
}

static int set_relative_values(void *p, const char *v, char *why, size_t n)
{
    return on_off(&((struct eval_args *)p)->o.rel_values, v, why, n);
}

static int set_rename_merge(void *p, const char *v, char *why, size_t n)
{
    return on_off(&((struct eval_args *)p)->o.rename_merge, v, why, n);
}

static int set_split_children(void *p, const char *v, char *why, size_t n)
{
    return on_off(&((struct eval_args *)p)->o.split_kids, v, why, n);
}

static int set_both_directions(void *p, const char *v, char *why, size_t n)
{
    return on_off(&((struct eval_args *)p)->o.dir_pool, v, why, n);
}

static int set_pool_relative(void *p, const char *v, char *why, size_t n)
{
    return on_off(&((struct eval_args *)p)->o.pool_rel, v, why, n);
}

#define F(f) offsetof(struct eval_args, f)
const struct oc_opt rca_eval_opts[] = {
    {"--json", OC_OPT_FLAG, F(json), NULL, "print one JSON object", 0, 0, NULL},
    {"--verbose", OC_OPT_FLAG, F(verbose), NULL, "print each case's TP/FP/FN on stderr", 0, 0,
     NULL},
    {"--ident", OC_OPT_DOUBLE, F(ident), "NATS",
     "diagnostic: class each missed true element by whether the data tell it (log-likelihood "
     "difference under NATS, 2 suggested) from the false element holding most of its mass, or "
     "else its best parent; adds the columns fn, alike, worse and two diagnostic F1s, never "
     "the F1 reported (docs/internals/rca.md); with --verbose, each one's class",
     0.001, 1000, NULL},
    {"--gen", OC_OPT_STR, F(gen), "P,...",
     "generate the cases in memory from these profiles (default, real, riskloc-s, riskloc-l) "
     "instead of reading DIR",
     0, 0, NULL},
    {"--cases", OC_OPT_LONG, F(cases), "N", "with --gen: cases per profile (default 200)", 1,
     100000, NULL},
    {"--seed", OC_OPT_LONG, F(seed), "S", "with --gen: random seed (default 1)", 0, LONG_MAX, NULL},
    {"--leaves", OC_OPT_LONG, F(leaves), "L", "with --gen: leaves per case (default: varies)", 0,
     RCA_MAX_LEAVES, NULL},
    {"--penalty", OC_OPT_DOUBLE, F(o.penalty), "X", "tuning: the engine's penalty", 0, 1000000,
     NULL},
    {"--min-share", OC_OPT_DOUBLE, F(o.min_share), "X", "tuning: the engine's min_share", 0,
     1000000, NULL},
    {"--split-mass", OC_OPT_DOUBLE, F(o.split_mass), "X", "tuning: the engine's split_mass", 0,
     1000000, NULL},
    {"--min-score", OC_OPT_DOUBLE, F(o.min_score), "X", "tuning: the engine's min_score", 0,
     1000000, NULL},
    {"--live-share", OC_OPT_FLAG, F(o.live_share), NULL,
     "tuning: a further element's min_share counts against what is left to explain", 0, 0, NULL},
    {"--support-penalty", OC_OPT_FLAG, F(o.support_penalty), NULL,
     "tuning: the set's penalty by an element's forecast mass, not its layer alone", 0, 0, NULL},
    {"--seed-values", OC_OPT_FLAG, F(o.seed_values), NULL,
     "tuning: the search also combines the values of the leaves that deviate beyond noise "
     "(amounts always seed 6 such values, combined among themselves)",
     0, 0, NULL},
    {"--drill-first", OC_OPT_FN, 0, "on|off",
     "tuning: with nothing asserted, try the first candidates' deviating children (default on)", 0,
     0, set_drill_first},
    {"--rename", OC_OPT_FN, 0, "on|off",
     "tuning: counts: another name of an asserted element's largest leaf replaces it when the "
     "counts' likelihood favours it by 2 nats (default on)",
     0, 0, set_rename},
    {"--leaf-disjoint", OC_OPT_FLAG, F(o.leaf_disjoint), NULL,
     "tuning: two asserted elements clash only when the data hold a leaf of both, not whenever "
     "their names may overlap",
     0, 0, NULL},
    {"--entry-likelihood", OC_OPT_FN, 0, "on|off",
     "tuning: counts: after the additions by the weighted gain, further additions judged by the "
     "counts' likelihood at the same penalties (default on)",
     0, 0, set_entry_likelihood},
    {"--relative-values", OC_OPT_FN, 0, "on|off",
     "tuning: counts: the search also combines, among themselves, 6 values that deviate against "
     "the other leaves but not against their forecast (default on)",
     0, 0, set_relative_values},
    {"--rename-merge", OC_OPT_FN, 0, "on|off",
     "tuning: counts: with --rename, a name that overlaps another asserted element replaces it "
     "too, when the likelihood favours it by 2 nats or the objective rises by the penalty "
     "(default on)",
     0, 0, set_rename_merge},
    {"--split-children", OC_OPT_FN, 0, "on|off",
     "tuning: counts: an asserted element is replaced by its deviating children along one "
     "attribute when the counts' likelihood objective rises and its other children are normal "
     "by that likelihood (default on)",
     0, 0, set_split_children},
    {"--both-directions", OC_OPT_FN, 0, "on|off",
     "tuning: counts: the first candidates of the direction not chosen may join the set, each "
     "element with its own sign, when the counts' likelihood pays for them (default on)",
     0, 0, set_both_directions},
    {"--pool-relative", OC_OPT_FN, 0, "on|off",
     "tuning: counts: with --both-directions, that pool also holds elements that deviate only "
     "against the other leaves, not their forecast; one added beside a non-empty set carries 10% "
     "of the change and deviates from its own forecast; each expects 5 counts, and one taken is "
     "replaced by its deviating children when the likelihood pays at a refinement's price "
     "(default on)",
     0, 0, set_pool_relative},
    {"--window", OC_OPT_FN, 0, "N", "tuning: history bins the forecast uses", 0, 0, set_window},
    {0},
};
#undef F

int rca_eval_main(int argc, char **argv)
{
    const char *dir = NULL;
    struct eval_args a = {.json = 0, .cases = 200, .seed = 1};
    rca_opts_default(&a.o);
    int nargs = 0, p = oc_cli_parse(&rca_cli[RCA_CLI_EVAL], argc - 1, argv + 1, &a, &dir, &nargs);
    if (p != 0)
        return p > 0 ? 0 : 2;
    if (!dir == !a.gen) {
        fprintf(stderr, "oncue rca eval: name a directory or --gen (see oncue rca eval --help)\n");
        return 2;
    }
    size_t n = 0;
    char **stems = NULL;
    struct eval_set *sets = oc_calloc(EVAL_MAX_SETS, sizeof(*sets));
    int n_sets = 0, failed;
    if (dir) {
        stems = list_cases(dir, &n);
        if (n == 0) {
            fprintf(stderr, "oncue rca eval: no case_*.truth files in %s\n", dir);
            free(sets);
            return 1;
        }
        failed = eval_all(stems, n, &a, sets, &n_sets);
    } else if ((failed = eval_gen(&a, sets, &n_sets, &n)) < 0) {
        free(sets);
        return 2;
    }
    qsort(sets, (size_t)n_sets, sizeof(*sets), by_tag);
    if (a.json)
        printf("{\"cases\":%zu,\"failed\":%d,\"settings\":[", n, failed);
    else
        printf("| setting                | cases | F1    | prec  | recall | median ms | max ms "
               "| paper RiskLoc |%s\n"
               "|------------------------|-------|-------|-------|--------|-----------|--------"
               "|---------------|%s\n",
               a.ident ? " fn   | alike | worse | reach | lenient |" : "",
               a.ident ? "------|-------|-------|-------|---------|" : "");
    for (int i = 0; i < n_sets; i++)
        set_print(&sets[i], a.json, a.ident, i == 0);
    printf(a.json ? "]}\n" : "");
    if (!a.json && failed)
        printf("%d case(s) could not be drawn or run\n", failed);
    for (int i = 0; i < n_sets; i++)
        free(sets[i].ms);
    free(sets);
    for (size_t i = 0; i < n; i++)
        free(stems ? stems[i] : NULL);
    free(stems);
    return failed ? 1 : 0;
}
