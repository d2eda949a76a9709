/*
 * cli.c - `oncue rca`: localize the change in an exported CSV, and the report formats.
 *
 * `oncue rca --input FILE.csv --at TS [--json] [--top K]` prints the asserted root-cause set
 * and a ranked candidate list (JSON per docs/contracts.md "Root-cause input" with --json);
 * `oncue rca gen` and `oncue rca eval` are dispatched to gen.c and eval.c.
 */
#include "rca/rca_int.h"

#include "core/buf.h"
#include "core/err.h"
#include "core/opt.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CLI_OUT_MAX (16u << 20) /* cap on a printed report */

/* Pairs of e as indices into e->attr, sorted by attribute name then value. */
static void pair_order(const struct rca_data *d, const struct rca_elem *e, int *ord)
{
    for (int i = 0; i < e->n; i++)
        ord[i] = i;
    for (int i = 1; i < e->n; i++)
        for (int j = i; j > 0; j--) {
            const char *an = rca_data_attr_name(d, e->attr[ord[j - 1]]);
            const char *bn = rca_data_attr_name(d, e->attr[ord[j]]);
            int c = strcmp(an, bn);
            if (c == 0)
                c = strcmp(rca_data_value(d, e->attr[ord[j - 1]], e->val[ord[j - 1]]),
                           rca_data_value(d, e->attr[ord[j]], e->val[ord[j]]));
            if (c <= 0)
                break;
            int t = ord[j];
            ord[j] = ord[j - 1];
            ord[j - 1] = t;
        }
}

void rca_elem_format(const struct rca_data *d, const struct rca_elem *e, struct oc_buf *b)
{
    int ord[RCA_MAX_DEPTH];
    pair_order(d, e, ord);
    for (int i = 0; i < e->n; i++)
        oc_buf_printf(b, "%s%s=%s", i ? "&" : "", rca_data_attr_name(d, e->attr[ord[i]]),
                      rca_data_value(d, e->attr[ord[i]], e->val[ord[i]]));
}

static double round4(double x)
{
    return round(x * 1e4) / 1e4;
}

static json_t *elem_json(const struct rca_data *d, const struct rca_elem *e)
{
    int ord[RCA_MAX_DEPTH];
    json_t *el = json_object();
    pair_order(d, e, ord);
    for (int i = 0; i < e->n; i++)
        json_object_set_new(el, rca_data_attr_name(d, e->attr[ord[i]]),
                            json_string(rca_data_value(d, e->attr[ord[i]], e->val[ord[i]])));
    json_t *o = json_object();
    json_object_set_new(o, "element", el);
    json_object_set_new(o, "score", json_real(round4(e->score)));
    return o;
}

json_t *rca_result_to_json(const struct rca_data *d, const struct rca_result *r, double runtime_ms)
{
    json_t *root = json_object(), *causes = json_array(), *cands = json_array();
    for (int i = 0; i < r->n_causes; i++)
        json_array_append_new(causes, elem_json(d, &r->causes[i]));
    for (int i = 0; i < r->n_cands; i++)
        json_array_append_new(cands, elem_json(d, &r->cands[i]));
    json_object_set_new(root, "at", json_integer((json_int_t)r->at));
    json_object_set_new(root, "causes", causes);
    json_object_set_new(root, "candidates", cands);
    json_object_set_new(root, "runtime_ms", json_real(round(runtime_ms * 1000) / 1000));
    return root;
}

void rca_result_json(const struct rca_data *d, const struct rca_result *r, double runtime_ms,
                     struct oc_buf *b)
{
    json_t *root = rca_result_to_json(d, r, runtime_ms);
    char *text = json_dumps(root, JSON_COMPACT | JSON_REAL_PRECISION(8));
    if (text)
        oc_buf_puts(b, text);
    free(text);
    json_decref(root);
}

static void elem_line(const struct rca_data *d, const struct rca_elem *e, int i, struct oc_buf *b)
{
    oc_buf_printf(b, "  %2d. ", i + 1);
    rca_elem_format(d, e, b);
    oc_buf_printf(b, "  score %.3f  %s %.6g (expected %.6g)\n", e->score,
                  rca_data_is_ratio(d) ? "value" : "now", e->real, e->expected);
}

void rca_result_text(const struct rca_data *d, const struct rca_result *r, double runtime_ms,
                     struct oc_buf *b)
{
    oc_buf_printf(b, "at %lld: %s %.6g, expected %.6g\n", (long long)r->at,
                  rca_data_is_ratio(d) ? "ratio" : "total", r->real, r->expected);
    if (r->n_causes == 0)
        oc_buf_printf(b, "root cause: none (%s)\n", r->note ? r->note : "no element explains it");
    else
        oc_buf_printf(b, "root cause (%d element%s):\n", r->n_causes, r->n_causes > 1 ? "s" : "");
    for (int i = 0; i < r->n_causes; i++)
        elem_line(d, &r->causes[i], i, b);
    oc_buf_printf(b, "candidates:\n");
    for (int i = 0; i < r->n_cands; i++)
        elem_line(d, &r->cands[i], i, b);
    if (r->n_cands == 0)
        oc_buf_puts(b, "  (none)\n");
    oc_buf_printf(b, "runtime %.3f ms\n", runtime_ms);
}

double rca_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

struct cli_args {
    const char *input; /* --input */
    long long at;      /* --at */
    int has_at;        /* --at given */
    int json;          /* --json */
    long top;          /* --top */
};

/* --at TS: any whole number of unix seconds. */
static int set_at(void *p, const char *v, char *why, size_t n)
{
    struct cli_args *a = p;
    char *end;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (end == v || *end || errno) {
        snprintf(why, n, "expected unix seconds, got \"%s\"", v);
        return -1;
    }
    a->at = x;
    a->has_at = 1;
    return 0;
}

#define F(f) offsetof(struct cli_args, f)
static const struct oc_opt cli_opts[] = {
    {"--input", OC_OPT_STR, F(input), "FILE.csv", "the CSV to read (required)", 0, 0, NULL},
    {"--at", OC_OPT_FN, 0, "TS", "the anomalous time bin, unix seconds (default: the last)", 0, 0,
     set_at},
    {"--json", OC_OPT_FLAG, F(json), NULL,
     "print {\"at\",\"causes\",\"candidates\",\"runtime_ms\"}", 0, 0, NULL},
    {"--top", OC_OPT_LONG, F(top), "K", "candidates to list (default 10)", 0, RCA_MAX_CANDS, NULL},
    {0},
};
#undef F

const struct oc_cli rca_cli[] = {
    {"rca",
     "--input FILE.csv [--at TS] [--json] [--top K]\n"
     "       oncue rca gen --out DIR [--profile P] [--cases N] [--seed S] [--leaves L]\n"
     "       oncue rca eval DIR|--gen P,... [--json] [--verbose] [--penalty X] ...",
     "Localizes the change at time bin TS (default: the last bin in the file) to the\n"
     "smallest set of attr=value elements that explains it. FILE.csv has a header\n"
     "ts,ATTR...,value[,total] (docs/contracts.md); rows before TS are\n"
     "the history the forecast is made from.\n",
     cli_opts, 0},
    {"rca gen", "--out DIR [--profile P] [--cases N] [--seed S] [--leaves L]",
     "Writes N labelled cases (case_NNNN.csv + .truth) into DIR. Profile default\n"
     "cycles through measure x layer x elements x noise; real adds heavy-tailed\n"
     "leaves, a diurnal noisy ratio history and parent/child/weak-decoy cases;\n"
     "riskloc-s and riskloc-l regenerate the RiskLoc paper's datasets S and L.\n"
     "L fixes the leaves per case (default and real only).\n",
     rca_gen_opts, 0},
    {"rca eval",
     "DIR|--gen P,... [--cases N] [--seed S] [--leaves L] [--json] [--verbose]\n"
     "       [--penalty X] [--min-share X] [--split-mass X] [--min-score X] [--window N]",
     "Runs every case of DIR (from `oncue rca gen`), or N cases per profile\n"
     "generated in memory (--gen default,real,riskloc-s,riskloc-l), and prints micro-F1,\n"
     "precision, recall and median/max runtime per setting. --verbose prints\n"
     "each case's TP/FP/FN on stderr; the other options override the engine's\n"
     "defaults, for tuning.\n",
     rca_eval_opts, 1},
    {0},
};

/* Reads, localizes and prints; returns the exit status. */
static int cli_run(const struct cli_args *a)
{
    struct rca_data *d = NULL;
    struct rca_result *res = malloc(sizeof(*res));
    struct rca_opts o;
    struct oc_buf b;
    char err[512];
    int status = 1;
    oc_buf_init(&b, CLI_OUT_MAX);
    if (!res)
        goto out;
    if (rca_csv_read(a->input, &d, err, sizeof(err)) != 0) {
        fprintf(stderr, "oncue rca: %s\n", err);
        goto out;
    }
    rca_opts_default(&o);
    o.top_k = (int)a->top;
    int64_t at = a->has_at ? (int64_t)a->at : rca_data_last_ts(d);
    double t0 = rca_now_ms();
    int rc = rca_run(d, at, &o, res);
    double ms = rca_now_ms() - t0;
    if (rc != 0) {
        fprintf(stderr, "oncue rca: %s: no rows at ts %lld, or no history before it\n", a->input,
                (long long)at);
        goto out;
    }
    if (a->json)
        rca_result_json(d, res, ms, &b);
    else
        rca_result_text(d, res, ms, &b);
    printf("%s%s", b.data ? b.data : "", a->json ? "\n" : "");
    status = 0;
out:
    oc_buf_free(&b);
    rca_data_destroy(d);
    free(res);
    return status;
}

int rca_cli_main(int argc, char **argv)
{
    struct cli_args a = {.top = RCA_DEFAULT_TOPK};
    if (argc >= 2 && strcmp(argv[1], "gen") == 0)
        return rca_gen_main(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "eval") == 0)
        return rca_eval_main(argc - 1, argv + 1);
    int nargs = 0, p = oc_cli_parse(rca_cli, argc - 1, argv + 1, &a, NULL, &nargs);
    if (p != 0)
        return p > 0 ? 0 : 2;
    if (!a.input) {
        fprintf(stderr, "oncue rca: --input is required (see oncue rca --help)\n");
        return 2;
    }
    return cli_run(&a);
}
