/*
 * test_rca.c - unit tests of root-cause localization (src/rca/).
 *
 * The CSV reader's acceptance and its "FILE:LINE: message" errors; and the engine on
 * hand-built data sets whose answer is known by construction: one element, two elements,
 * a coarse parent whose children all deviate, three sibling values under a normal parent,
 * a ratio measure where the additive view misleads, a cause of 3 attributes a drift hides,
 * a child under its own penalty beside a mild parent,
 * amounts that are not counts, and changes with no cause; `rca eval`'s
 * match of an element by its leaves. Then change correlation: onsets of metric series and the
 * ranking of recorded changes.
 */
#include "t.h"
#include "t_rca.h"
#include "catalog/catalog.h"
#include "core/bus.h"

#include "core/buf.h"
#include "core/clock.h"
#include "ingest/ingest.h"
#include "rca/rca.h"
#include "sim/sim.h"
#include "store/store.h"
#include "t_store.h"

#include <fcntl.h>
#include <unistd.h>

#define T0   1700000000
#define STEP 60
#define BINS 10

/* Parses text and returns the data (NULL on error, message in err). */
static struct rca_data *parse(const char *text, char *err, size_t errlen)
{
    struct rca_data *d = NULL;
    err[0] = '\0';
    rca_csv_parse("in.csv", text, strlen(text), &d, err, errlen);
    return d;
}

static void test_csv_ok(void)
{
    char err[256];
    struct rca_data *d = parse("ts,cdn,region,value,total\r\n"
                               "60,a,EU,1,10\r\n\r\n60,b,EU,2,20\n120,a,EU,3,30",
                               err, sizeof(err));
    T_TRUE(d != NULL);
    T_EQ_STR(err, "");
    T_EQ_INT(rca_data_attrs(d), 2);
    T_EQ_INT(rca_data_is_ratio(d), 1);
    T_EQ_INT(rca_data_leaves(d), 2);
    T_EQ_INT(rca_data_rows(d), 3);
    T_EQ_STR(rca_data_attr_name(d, 1), "region");
    T_EQ_STR(rca_data_value(d, 0, 1), "b");
    T_EQ_INT(rca_data_last_ts(d), 120);
    rca_data_destroy(d);
}

struct csv_bad {
    const char *text;  /* input */
    const char *error; /* expected message */
};

static const struct csv_bad csv_bad_cases[] = {
    {"", "in.csv:1: empty file, expected a header line"},
    {"time,cdn,value\n", "in.csv:1: header must start with column 'ts'"},
    {"ts,cdn,count\n", "in.csv:1: header must end with 'value' or 'value,total'"},
    {"ts,value\n1,2\n", "in.csv:1: header has no attribute column"},
    {"ts,cdn,cdn,value\n", "in.csv:1: column 3: duplicate attribute 'cdn'"},
    {"ts,a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,value\n", "in.csv:1: more than 16 columns"},
    {"ts,cdn,value\n", "in.csv:2: no data rows"},
    {"ts,cdn,value\n60,a,1\n60,a\n", "in.csv:3: expected 3 columns, got 2"},
    {"ts,cdn,value\n60,a,1\n\n6x,a,1\n", "in.csv:4: ts '6x' is not an integer"},
    {"ts,cdn,value\n60,a,nan\n", "in.csv:2: value 'nan' is not a finite number"},
    {"ts,cdn,value,total\n60,a,1,-2\n", "in.csv:2: ratio needs value >= 0 and a finite total >= 0"},
    {0, 0},
};

static void test_csv_errors(void)
{
    char err[256];
    for (const struct csv_bad *c = csv_bad_cases; c->text; c++) {
        struct rca_data *d = parse(c->text, err, sizeof(err));
        T_TRUE(d == NULL);
        T_EQ_STR(err, c->error);
    }
}

static void test_csv_caps(void)
{
    char err[256];
    struct oc_buf b;
    oc_buf_init(&b, 1u << 20);
    oc_buf_puts(&b, "ts,cdn,value\n60,a,1\n60,");
    for (int i = 0; i < RCA_MAX_LINE; i++)
        oc_buf_puts(&b, "x");
    struct rca_data *d = NULL;
    rca_csv_parse("big.csv", b.data, b.len, &d, err, sizeof(err));
    T_TRUE(d == NULL);
    T_EQ_STR(err, "big.csv:3: line longer than 4096 bytes");
    T_TRUE(rca_csv_parse("nul.csv", "ts,cdn,value\n60,a\0,1\n", 21, &d, err, sizeof(err)) != 0);
    T_EQ_STR(err, "nul.csv:2: NUL byte in line");
    T_TRUE(rca_csv_read("/nonexistent/x.csv", &d, err, sizeof(err)) != 0);
    T_CONTAINS(err, "/nonexistent/x.csv:0: cannot open");
    oc_buf_free(&b);
}

static void test_leaf_cap(void)
{
    const char *names[] = {"id"};
    struct rca_data *d = rca_data_new(1, names, 0);
    char v[16];
    const char *vals[] = {v};
    int rc = 0;
    for (int i = 0; i <= RCA_MAX_LEAVES && rc == 0; i++) {
        snprintf(v, sizeof(v), "%d", i);
        rc = rca_data_add(d, 60, vals, 1, 0);
    }
    T_EQ_INT(rc, -3); /* OC_ETOOBIG */
    T_EQ_INT(rca_data_leaves(d), RCA_MAX_LEAVES);
    rca_data_destroy(d);
}

/* A hand-built data set: every combination of the values of up to three attributes. */
struct spec {
    const char *names[3];    /* attribute names */
    const char *vals[3][10]; /* values per attribute, NULL-terminated */
    int ratio;               /* value/total measure */
    /* The leaf's volume, and its multiplier (of value; of total when ratio) at the last bin. */
    double (*base)(const char *const *v);
    double (*now)(const char *const *v);
    double (*ratio_now)(const char *const *v); /* ratio only: the value/total now */
    double noise; /* history noise: +-2 times this (0: 1), reads as counts from 3 */
};

static double base_flat(const char *const *v)
{
    (void)v;
    return 100;
}

/* Adds one leaf's rows: BINS history bins with +-2 deterministic noise, then the last bin. */
static void add_leaf(struct rca_data *d, const struct spec *s, const char *const *v, int leaf)
{
    double base = s->base(v);
    if (base <= 0)
        return;
    for (int b = 0; b <= BINS; b++) {
        double noise = ((double)((b * 7 + leaf * 3) % 5) - 2) * (s->noise > 0 ? s->noise : 1);
        double value, total = 0;
        if (!s->ratio) {
            value = b < BINS ? base + noise : base * s->now(v);
        } else {
            total = b < BINS ? base + noise : (base + noise) * s->now(v);
            value = b < BINS ? 0.02 * total : s->ratio_now(v) * total;
        }
        rca_data_add(d, T0 + STEP * b, v, value, total);
    }
}

static struct rca_data *build(const struct spec *s)
{
    int na = s->names[2] ? 3 : 2, leaf = 0;
    struct rca_data *d = rca_data_new(na, s->names, s->ratio);
    const char *v[3] = {0};
    for (int i = 0; s->vals[0][i]; i++)
        for (int j = 0; s->vals[1][j]; j++)
            for (int k = 0; na == 2 ? k == 0 : s->vals[2][k] != NULL; k++) {
                v[0] = s->vals[0][i];
                v[1] = s->vals[1][j];
                v[2] = na == 3 ? s->vals[2][k] : NULL;
                add_leaf(d, s, v, leaf++);
            }
    return d;
}

/* The engine's options for causes(): NULL (the defaults) unless a test sets them. */
static const struct rca_opts *run_opts;

/* Runs the engine and returns the causes as "e1 | e2 | ...". */
static const char *causes(const struct rca_data *d, struct rca_result *r)
{
    static char out[512];
    return t_rca_causes(d, T0 + STEP * BINS, run_opts, r, out, sizeof out);
}

#define CDN_REGION_DEVICE                                                                          \
    .names = {"cdn", "region", "device"},                                                          \
    .vals = {{"a", "b", "c"}, {"EU", "US", "AS"}, {"tv", "phone", "web"}}, .base = base_flat

static int is(const char *a, const char *b)
{
    return strcmp(a, b) == 0;
}

static double now_cdn_b(const char *const *v)
{
    return is(v[0], "b") ? 3 : 1;
}

static void test_single_element(void)
{
    struct spec s = {CDN_REGION_DEVICE, .now = now_cdn_b};
    struct rca_data *d = build(&s);
    struct rca_result r;
    T_EQ_STR(causes(d, &r), "cdn=b");
    T_EQ_INT(r.n_causes, 1);
    T_EQ_DBL(r.causes[0].real, 2700, 1e-9);
    T_TRUE(r.causes[0].expected > 880 && r.causes[0].expected < 920);
    T_TRUE(r.n_cands >= 1);
    rca_data_destroy(d);
}

static double now_two(const char *const *v)
{
    if (is(v[0], "a") && is(v[1], "EU"))
        return 0.2;
    if (is(v[1], "AS") && is(v[2], "phone"))
        return 0.2;
    return 1;
}

static void test_two_elements(void)
{
    struct spec s = {CDN_REGION_DEVICE, .now = now_two};
    struct rca_data *d = build(&s);
    struct rca_result r;
    T_EQ_STR(causes(d, &r), "device=phone&region=AS | cdn=a&region=EU"); /* equal shares */
    rca_data_destroy(d);
}

static double now_parent(const char *const *v)
{
    return is(v[0], "c") && is(v[1], "US") ? 4 : 1;
}

static void test_parent_not_children(void)
{
    struct spec s = {CDN_REGION_DEVICE, .now = now_parent};
    struct rca_data *d = build(&s);
    struct rca_result r;
    T_EQ_STR(causes(d, &r), "cdn=c&region=US");
    rca_data_destroy(d);
}

/* Issue 24, the failure classes of real data, each on a hand-built case. */

/* Parent asserted where the truth is a child: cdn=a in EU (3 leaves of 1,000) doubles; cdn=a
 * elsewhere (6 leaves of 50, 9% of the parent) stays put, although at the parent's scale it
 * would have grown from 300 to 570. The thin siblings are plainly normal, so the cause is the
 * child; a rule that wants 15% of the parent's mass in the normal part named cdn=a. */
static double base_a_eu(const char *const *v)
{
    return is(v[0], "a") ? (is(v[1], "EU") ? 1000 : 50) : 100;
}

static double now_a_eu(const char *const *v)
{
    return is(v[0], "a") && is(v[1], "EU") ? 2 : 1;
}

static void test_child_not_mild_parent(void)
{
    struct spec s = {.names = {"cdn", "region", "device"},
                     .vals = {{"a", "b", "c"}, {"EU", "US", "AS"}, {"tv", "phone", "web"}},
                     .base = base_a_eu,
                     .now = now_a_eu};
    struct rca_data *d = build(&s);
    struct rca_result r;
    T_EQ_STR(causes(d, &r), "cdn=a&region=EU");
    rca_data_destroy(d);
}

/* Child asserted where the truth is the parent: every region of cdn=b moves, by 2.6, 3.0 and
 * 2.8 (alike, not equal); US moves most, but the cause is cdn=b. */
static double now_cdn_b_alike(const char *const *v)
{
    if (!is(v[0], "b"))
        return 1;
    return is(v[1], "EU") ? 2.6 : is(v[1], "US") ? 3.0 : 2.8;
}

static void test_parent_children_alike(void)
{
    struct spec s = {CDN_REGION_DEVICE, .now = now_cdn_b_alike};
    struct rca_data *d = build(&s);
    struct rca_result r;
    T_EQ_STR(causes(d, &r), "cdn=b");
    rca_data_destroy(d);
}

/* A clear single cause must be asserted: the history is noisy (each leaf swings 90/110), so
 * cdn=b rising by 45% carries all of the change yet less evidence than the penalty of a
 * search over every element (18 < 24); alone it carries most of the change and is
 * significant by itself (p < 0.01), so it is asserted rather than nothing. */
static void test_clear_single_cause(void)
{
    const char *names[] = {"cdn", "region"}, *cdn[] = {"a", "b", "c"}, *reg[] = {"EU", "US", "AS"};
    struct rca_data *d = rca_data_new(2, names, 0);
    struct rca_result r;
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) {
            const char *v[] = {cdn[i], reg[j]};
            for (int b = 0; b < BINS; b++)
                rca_data_add(d, T0 + STEP * b, v, b % 2 ? 110 : 90, 0);
            rca_data_add(d, T0 + STEP * BINS, v, i == 1 ? 145 : 100, 0);
        }
    T_EQ_STR(causes(d, &r), "cdn=b");
    T_EQ_DBL(r.causes[0].score, 1, 1e-9);
    rca_data_destroy(d);
}

/* A child under its own penalty beside a mild parent (issue 24, sixth pass): every leaf swings
 * 90/110 in its history, all rise by 8% now (a drift within noise) and cdn=b in EU (3 of 27
 * leaves) rises to 160. Neither the child (its chi-square under the 36 of two attributes) nor
 * its parents (cdn=b, region=EU: mild, under 24) pays, and the whole change is not significant,
 * so by default nothing would be asserted; drill_first tries the deviating children of the
 * first candidates at the price of a refinement (the parent's 24 plus 6.63 per child), and
 * the child pays. Its siblings stay at the drift, so no parent is asserted instead. */
static struct rca_data *child_under_penalty(void)
{
    const char *names[] = {"cdn", "region", "device"}, *cdn[] = {"a", "b", "c"},
               *reg[] = {"EU", "US", "AS"}, *dev[] = {"tv", "phone", "web"};
    struct rca_data *d = rca_data_new(3, names, 0);
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
            for (int k = 0; k < 3; k++) {
                const char *v[] = {cdn[i], reg[j], dev[k]};
                for (int b = 0; b < BINS; b++)
                    rca_data_add(d, T0 + STEP * b, v, (b + i + j + k) % 2 ? 110 : 90, 0);
                rca_data_add(d, T0 + STEP * BINS, v, i == 1 && j == 0 ? 160 : 108, 0);
            }
    return d;
}

static void test_drill_first_child(void)
{
    struct rca_data *d = child_under_penalty();
    struct rca_result r;
    T_EQ_STR(causes(d, &r), "cdn=b&region=EU");
    T_EQ_DBL(r.causes[0].real, 480, 1e-9);
    struct rca_opts o;
    rca_opts_default(&o);
    o.drill_first = 0;
    run_opts = &o;
    T_EQ_STR(causes(d, &r), "");
    run_opts = NULL;
    rca_data_destroy(d);
}

/* Extra elements must not be asserted: cdn=a triples (1,800 more); two big slices of the
 * other cdns rise by a fifth (480 more each). Those are significant alone, but each carries
 * 17% of the change and deviates a tenth as much as cdn=a: noise beside the cause. */
static double base_decoys(const char *const *v)
{
    if ((is(v[0], "b") && is(v[1], "US")) || (is(v[0], "c") && is(v[2], "web")))
        return 800;
    return 100;
}

static double now_strong_and_weak(const char *const *v)
{
    if (is(v[0], "a"))
        return 3;
    return base_decoys(v) > 100 ? 1.2 : 1;
}

static void test_no_weak_extras(void)
{
    struct spec s = {.names = {"cdn", "region", "device"},
                     .vals = {{"a", "b", "c"}, {"EU", "US", "AS"}, {"tv", "phone", "web"}},
                     .base = base_decoys,
                     .now = now_strong_and_weak};
    struct rca_data *d = build(&s);
    struct rca_result r;
    T_EQ_STR(causes(d, &r), "cdn=a");
    T_TRUE(r.n_cands >= 2); /* the decoys are still ranked as candidates */
    rca_data_destroy(d);
}

/* A small but clear second cause must be asserted beside a big one: cdn=a quadruples (2,700
 * more) and one leaf of cdn=b doubles (100 more, 3.6% of the change: under the 5% an element
 * needs of the whole change, not of what cdn=a leaves unexplained) when the live share applies.
 * RiskLoc's S data is full of such cases (a leaf of 100 next to a slice holding a fifth of the
 * data). The default for amounts; off for counts, since with a small audience it also asserts
 * noise beside the cause. */
static double now_big_and_leaf(const char *const *v)
{
    if (is(v[0], "a"))
        return 4;
    return is(v[0], "b") && is(v[1], "US") && is(v[2], "tv") ? 2 : 1;
}

static void test_small_second_cause(void)
{
    struct spec s = {CDN_REGION_DEVICE, .now = now_big_and_leaf, .noise = 3};
    struct rca_data *d = build(&s);
    struct rca_result r;
    /* counts (a history varying +-6 around 100, about as much as Poisson): by default the 3.6%
     * element is not a candidate */
    T_EQ_STR(causes(d, &r), "cdn=a");
    rca_data_destroy(d);
    /* amounts (+-2 around 100, far under Poisson): what cdn=a leaves unexplained is the base,
     * so both are asserted */
    s.noise = 0;
    d = build(&s);
    T_EQ_STR(causes(d, &r), "cdn=a | cdn=b&device=tv&region=US");
    T_EQ_DBL(r.causes[1].real, 200, 1e-9);
    rca_data_destroy(d);
}

/* The option support_penalty (the set's penalty by an element's forecast mass, never above
 * its layer's) keeps every hand-built failure class: parent against child both ways, the
 * clear single cause, no weak extras. */
static void test_support_penalty_classes(void)
{
    struct rca_opts o;
    rca_opts_default(&o);
    o.support_penalty = 1;
    run_opts = &o;
    test_single_element();
    test_two_elements();
    test_parent_not_children();
    test_child_not_mild_parent();
    test_parent_children_alike();
    test_clear_single_cause();
    test_no_weak_extras();
    run_opts = NULL;
}

/* A drifting history must not hide a sharp local drop: every leaf's level climbs by 8 a bin
 * (a diurnal ramp, 100 to 172), the last bin follows the ramp (180) except cdn=b in EU,
 * which falls to 60. Around its median the ramp looks like a spread of 30 per leaf and the
 * drop like noise (nothing asserted); bin-to-bin the leaves move by 8 +-2, so the spread is
 * the differences' and the drop is the cause. */
static void test_drift_hides_no_drop(void)
{
    const char *names[] = {"cdn", "region"}, *cdn[] = {"a", "b", "c"}, *reg[] = {"EU", "US", "AS"};
    struct rca_data *d = rca_data_new(2, names, 0);
    struct rca_result r;
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) {
            const char *v[] = {cdn[i], reg[j]};
            for (int b = 0; b < BINS; b++)
                rca_data_add(d, T0 + STEP * b, v, 100 + 8 * b + ((b * 7 + i * 3 + j) % 5) - 2, 0);
            rca_data_add(d, T0 + STEP * BINS, v, i == 1 && j == 0 ? 60 : 180, 0);
        }
    T_EQ_STR(causes(d, &r), "cdn=b&region=EU");
    T_TRUE(r.causes[0].real == 60);
    rca_data_destroy(d);
}

/* A level that climbs through the history (a diurnal ramp, 100 to 172 over the bins, 180 now)
 * while one CDN's viewers fall to 120: against the history's median (136) that CDN looks
 * hardly moved and the others up by a third, and nothing, or a wrong CDN, was asserted. The
 * forecast follows the total's clear trend (Theil-Sen), so the fall is the cause. */
static void test_level_follows_ramp(void)
{
    const char *names[] = {"cdn", "region"}, *cdn[] = {"a", "b", "c", "d"},
               *reg[] = {"EU", "US", "AS", "SA"};
    struct rca_data *d = rca_data_new(2, names, 0);
    struct rca_result r;
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++) {
            const char *v[] = {cdn[i], reg[j]};
            for (int b = 0; b < BINS; b++)
                rca_data_add(d, T0 + STEP * b, v, 100 + 8 * b + ((b * 7 + i * 3 + j) % 5) - 2, 0);
            rca_data_add(d, T0 + STEP * BINS, v, i == 1 ? 120 : 180, 0);
        }
    T_EQ_STR(causes(d, &r), "cdn=b");
    rca_data_destroy(d);
}

/* A cause of 3 attributes that a drift hides (issue 24, fifth pass): 6 attributes of 3 values
 * (729 leaves of 100, history within +-2 swing), every leaf falls to 80 but the 27 of
 * a=a1&b=b1&c=c1, which triple. Each of a1, b1, c1 as a whole moves by 4% against the rest's
 * -20%: no value of the cause has contrast of its own, so the combinations never named it, and
 * the fall everywhere (a0, a2) was asserted. With seed_values the values of the leaves beyond
 * noise are combined too, and the cause is the one element asserted. With a swing of 2 the
 * history varies far less than a count and the measure is an amount (always seeded since the
 * seventh pass, test_seed_values_amounts); with 20 it is a count, seeded only on request, but
 * since the eleventh pass a1, b1 and c1, which deviate against the rest without contrast of
 * their own, are combined among themselves by default (rel_values). */
static struct rca_data *deep_under_drift(double frac, double swing)
{
    const char *names[] = {"a", "b", "c", "d", "e", "f"};
    struct rca_data *d = rca_data_new(6, names, 0);
    char vals[6][4];
    const char *v[6];
    for (int leaf = 0; leaf < 729; leaf++) {
        int x[6], k = leaf;
        for (int i = 5; i >= 0; i--, k /= 3) {
            x[i] = k % 3;
            snprintf(vals[i], sizeof(vals[i]), "%c%d", 'a' + i, x[i]);
            v[i] = vals[i];
        }
        for (int b = 0; b < BINS; b++)
            rca_data_add(d, T0 + STEP * b, v, frac + 100 + swing * (((b * 7 + leaf * 3) % 5) - 2),
                         0);
        int cause = x[0] == 1 && x[1] == 1 && x[2] == 1;
        rca_data_add(d, T0 + STEP * BINS, v, frac + (cause ? 300 : 80), 0);
    }
    return d;
}

static void test_seed_values_deep_cause(void)
{
    struct rca_data *d = deep_under_drift(0, 10);
    struct rca_result r;
    struct rca_opts o;
    rca_opts_default(&o);
    o.seed_values = 1;
    run_opts = &o;
    T_EQ_STR(causes(d, &r), "a=a1&b=b1&c=c1");
    T_EQ_DBL(r.causes[0].real, 8100, 1e-9);
    run_opts = NULL;
    /* the default (seed_values off for counts) names it too since issue 24's eleventh pass:
     * a1, b1 and c1 deviate against the rest though not against their forecast (rel_values);
     * with neither, the cause is not named */
    T_EQ_STR(causes(d, &r), "a=a1&b=b1&c=c1");
    o.seed_values = 0;
    o.rel_values = 0;
    run_opts = &o;
    T_EQ_STR(causes(d, &r), "a=a0 | a=a2");
    run_opts = NULL;
    rca_data_destroy(d);
}

/* Amounts always seed (issue 24, seventh pass): the same cause under the same drift, the
 * values 0.25 over whole numbers (an amount, weighed by its measured spread). With the default
 * options (seed_values off) the values of the leaves beyond noise are combined all the same,
 * and the cause is the one element asserted. */
static void test_seed_values_amounts(void)
{
    struct rca_data *d = deep_under_drift(0.25, 1);
    struct rca_result r;
    T_EQ_STR(causes(d, &r), "a=a1&b=b1&c=c1");
    T_EQ_DBL(r.causes[0].real, 27 * 300.25, 1e-9);
    rca_data_destroy(d);
}

/* Amounts are not counts (issue 24, fifth pass): values near 100.25 that vary by +-5 a bin
 * (spread^2 of about 25, a quarter of the value) read as counts by their spread alone, and the
 * Poisson floor (variance 100) hid one leaf falling to 55.5: nothing was asserted. Values now
 * that are not whole numbers are an amount, weighed by their spread, and the fall is the cause. */
static void test_amount_not_count(void)
{
    const char *names[] = {"cdn", "region"}, *cdn[] = {"a", "b", "c", "d"},
               *reg[] = {"EU", "US", "AS", "SA"};
    struct rca_data *d = rca_data_new(2, names, 0);
    struct rca_result r;
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++) {
            const char *v[] = {cdn[i], reg[j]};
            int leaf = i * 4 + j;
            for (int b = 0; b < BINS; b++)
                rca_data_add(d, T0 + STEP * b, v, 100.25 + 2.5 * (((b * 7 + leaf * 3) % 5) - 2), 0);
            rca_data_add(d, T0 + STEP * BINS, v, i == 1 && j == 0 ? 55.5 : 100.25, 0);
        }
    T_EQ_STR(causes(d, &r), "cdn=b&region=EU");
    T_EQ_DBL(r.causes[0].real, 55.5, 1e-9);
    rca_data_destroy(d);
}

#define REGION_POP_DEVICE                                                                          \
    .names = {"device", "pop", "region"},                                                          \
    .vals = {{"tv", "phone"},                                                                      \
             {"FRA", "AMS", "PAR", "MAD", "NYC", "LAX", "ORD", "MIA"},                             \
             {"EMEA", "AMER"}},                                                                    \
    .base = base_pop

/* pops live in one region only: the other combinations are empty leaves. */
static double base_pop(const char *const *v)
{
    int emea = is(v[1], "FRA") || is(v[1], "AMS") || is(v[1], "PAR") || is(v[1], "MAD");
    return emea == is(v[2], "EMEA") ? 100 : 0;
}

static double now_three_pops(const char *const *v)
{
    return is(v[1], "FRA") || is(v[1], "AMS") || is(v[1], "PAR") ? 3 : 1;
}

static void test_sibling_values(void)
{
    struct spec s = {REGION_POP_DEVICE, .now = now_three_pops};
    struct rca_data *d = build(&s);
    struct rca_result r;
    T_EQ_STR(causes(d, &r), "pop=FRA | pop=AMS | pop=PAR");
    rca_data_destroy(d);
}

static double now_emea(const char *const *v)
{
    return is(v[2], "EMEA") ? 3 : 1;
}

static void test_whole_region(void)
{
    struct spec s = {REGION_POP_DEVICE, .now = now_emea};
    struct rca_data *d = build(&s);
    struct rca_result r;
    T_EQ_STR(causes(d, &r), "region=EMEA");
    rca_data_destroy(d);
}

/* Viewers: cdn=a&region=EU is the big slice, cdn=b&region=AS a small one. */
static double base_viewers(const char *const *v)
{
    if (is(v[0], "a") && is(v[1], "EU"))
        return 5000;
    return is(v[0], "b") && is(v[1], "AS") ? 50 : 300;
}

static double now_viewers(const char *const *v)
{
    return is(v[0], "a") && is(v[1], "EU") ? 3 : 1; /* a viewer surge, same stall ratio */
}

static double now_stall_ratio(const char *const *v)
{
    return is(v[0], "b") && is(v[1], "AS") ? 0.2 : 0.02; /* the small slice breaks */
}

#define STALLS                                                                                     \
    .names = {"cdn", "region"}, .vals = {{"a", "b"}, {"EU", "US", "AS"}}, .base = base_viewers,    \
    .now = now_viewers, .ratio_now = now_stall_ratio

static void test_ratio_measure(void)
{
    struct spec s = {STALLS, .ratio = 1};
    struct rca_data *d = build(&s);
    struct rca_result r;
    T_EQ_STR(causes(d, &r), "cdn=b&region=AS");
    T_EQ_DBL(r.expected, 0.02, 1e-3);
    T_TRUE(r.real > 0.02);
    rca_data_destroy(d);
}

/* The same stalls read as an additive count blame the slice that merely grew. (cdn=b in EU
 * kept its 6 stalls where the region's scale predicts 17: pooled chi-square 7.8, so the grown
 * slice is named cdn=a&region=EU rather than region=EU.) The broken slice's 9 more stalls are
 * 4% of the change, under the 5% an element needs of the whole: named beside it only with
 * live_share (all of what the grown slice leaves unexplained). */
static void test_ratio_additive_view_misleads(void)
{
    const char *names[] = {"cdn", "region"};
    struct spec s = {STALLS, .ratio = 1};
    struct rca_data *ratio = build(&s), *counts = rca_data_new(2, names, 0);
    struct rca_result r;
    const char *a[] = {"a", "b"}, *g[] = {"EU", "US", "AS"};
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 3; j++) {
            const char *v[] = {a[i], g[j]};
            double base = base_viewers(v);
            for (int b = 0; b <= BINS; b++) {
                double t = b < BINS ? base : base * now_viewers(v);
                rca_data_add(counts, T0 + STEP * b, v, t * (b < BINS ? 0.02 : now_stall_ratio(v)),
                             0);
            }
        }
    T_EQ_STR(causes(counts, &r), "cdn=a&region=EU");
    struct rca_opts o;
    rca_opts_default(&o);
    o.live_share = 1;
    T_EQ_INT(rca_run(counts, T0 + STEP * BINS, &o, &r), 0);
    T_EQ_INT(r.n_causes, 2);
    rca_data_destroy(counts);
    rca_data_destroy(ratio);
}

static double now_same(const char *const *v)
{
    (void)v;
    return 1;
}

static double now_all_double(const char *const *v)
{
    (void)v;
    return 2;
}

/* Thin counts: a bad build fails 9 of its 42 starts this minute, all 9 in NA (30 starts),
 * none in EMEA (12 starts). At the build's pooled rate EMEA expected 2.6 failures: seeing none
 * is not unlikely (p ~ 0.08), so the cause is the build, not the build in NA. The weighted
 * gain alone called EMEA "clearly normal" and split (the drill's bad-player-build at 20,000
 * viewers, seed 1, named two titles of the build the same way). */
static void test_thin_counts_roll_up(void)
{
    const char *names[2] = {"version", "region"};
    const char *versions[3] = {"bad", "good1", "good2"}, *regions[2] = {"NA", "EMEA"};
    struct rca_data *d = rca_data_new(2, names, 1);
    struct rca_result r;
    for (int vi = 0; vi < 3; vi++)
        for (int ri = 0; ri < 2; ri++) {
            const char *v[2] = {versions[vi], regions[ri]};
            double starts = vi == 0 ? (ri == 0 ? 30 : 12) : 100;
            for (int b = 0; b <= BINS; b++) {
                double fails = 0.005 * starts; /* the baseline */
                if (b == BINS)
                    fails = vi == 0 ? (ri == 0 ? 9 : 0) : (b + vi + ri) % 2;
                rca_data_add(d, T0 + STEP * b, v, fails, starts);
            }
        }
    T_EQ_STR(causes(d, &r), "version=bad");
    rca_data_destroy(d);
}

static void test_no_cause(void)
{
    struct spec quiet = {CDN_REGION_DEVICE, .now = now_same};
    struct spec global = {CDN_REGION_DEVICE, .now = now_all_double};
    struct rca_data *d = build(&quiet);
    struct rca_result r;
    T_EQ_STR(causes(d, &r), "");
    T_EQ_STR(r.note, "no significant change at this time bin");
    rca_data_destroy(d);
    d = build(&global);
    T_EQ_STR(causes(d, &r), "");
    T_EQ_STR(r.note, "the change is spread over all leaves; no element explains it");
    rca_data_destroy(d);
}

static void test_json_contract(void)
{
    struct spec s = {CDN_REGION_DEVICE, .now = now_parent};
    struct rca_data *d = build(&s);
    struct rca_result r;
    struct oc_buf b;
    causes(d, &r);
    oc_buf_init(&b, 1u << 16);
    rca_result_json(d, &r, 1.5, &b);
    T_CONTAINS(b.data, "{\"at\":1700000600,\"causes\":[{\"element\":{\"cdn\":\"c\","
                       "\"region\":\"US\"},\"score\":");
    T_CONTAINS(b.data, "\"candidates\":[{\"element\":{\"cdn\":\"c\",\"region\":\"US\"}");
    T_CONTAINS(b.data, "\"runtime_ms\":1.5}");
    oc_buf_free(&b);
    T_EQ_INT(rca_run(d, T0 + STEP * (BINS + 1), NULL, &r), -2); /* no rows then */
    T_EQ_INT(rca_run(d, T0, NULL, &r), -2);                     /* no history */
    rca_data_destroy(d);
}

/* 30 one-minute bins around 100; `from` on they sit at `level`. */
static void series(int64_t *ts, double *v, int from, double level)
{
    for (int i = 0; i < 30; i++) {
        ts[i] = T0 + STEP * i;
        v[i] = i >= from ? level : 100 + (i % 3) - 1;
    }
}

static void test_onset(void)
{
    int64_t ts[30], onset = 0;
    double v[30];
    series(ts, v, 25, 200);
    T_EQ_INT(rca_onset(ts, v, 30, ts[29], &onset), 0);
    T_EQ_INT(onset, ts[25]);
    series(ts, v, 30, 0); /* nothing moved */
    T_EQ_INT(rca_onset(ts, v, 30, ts[29], &onset), -4);
    T_EQ_INT(rca_onset(ts, v, 30, ts[29] + 1, &onset), -4); /* no such bin */
}

static void test_first_onset(void)
{
    int64_t ta[30], tb[30], onset = 0;
    double va[30], vb[30];
    size_t which = 9;
    series(ta, va, 27, 300); /* rebuffering moved at bin 27 */
    series(tb, vb, 24, 20);  /* start failures moved (down in plays) at bin 24 */
    struct rca_series s[] = {{"rebuffer", ta, va, 30}, {"plays", tb, vb, 30}};
    T_EQ_INT(rca_first_onset(s, 2, ta[29], &which, &onset), 0);
    T_EQ_INT(which, 1);
    T_EQ_INT(onset, tb[24]);
}

static void test_changes_rank(void)
{
    const int64_t on = T0 + 36000;
    const struct rca_change ch[] = {
        {on - 300, "cdn-edge", "deploy", "edge 4.2", "4.2"},
        {on - 60, "player", "config", "abr tweak", NULL},
        {on - 18000, "cdn-edge", "deploy", "edge 4.1", "4.1"},
        {on + 30, "player", "flag", "new-abr on", "true"},
        {on - 7 * 3600, "cdn-edge", "deploy", "too old", "4.0"},
        {on + 600, "cdn-edge", "deploy", "after the onset", "4.3"},
    };
    struct rca_change_score out[6];
    size_t n = rca_changes_rank(ch, 6, on, "CDN-EDGE", out);
    T_EQ_INT(n, 4);
    T_EQ_INT(out[0].index, 0);
    T_EQ_DBL(out[0].score, 0.75, 1e-9);
    T_EQ_INT(out[0].lead_s, 300);
    T_EQ_INT(out[1].index, 3);
    T_EQ_DBL(out[1].score, 0.2, 1e-9);
    T_EQ_INT(out[2].index, 1);
    T_EQ_DBL(out[2].score, 0.1875, 1e-9);
    T_EQ_INT(out[3].index, 2);
    T_EQ_DBL(out[3].score, 1.0 / 21, 1e-9);
    n = rca_changes_rank(ch, 6, on, NULL, out); /* service unknown: time and kind decide */
    T_EQ_INT(out[0].index, 3);
    T_EQ_DBL(out[0].score, 0.4, 1e-9);
}

/* Writes text to dir/name. */
static void write_file(const char *dir, const char *name, const char *text)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    T_TRUE(f != NULL);
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

/* `oncue rca eval DIR` counts an asserted element right when it holds the same leaves as the
 * true one: pop=FRA triples and every FRA leaf is in EMEA, so the engine names pop=FRA where
 * the truth says pop=FRA&region=EMEA (exact names alone scored F1 0). */
static void test_eval_same_leaves(void)
{
    char dir[] = "/tmp/test_rca_XXXXXX", path[256], out[512] = {0};
    T_TRUE(mkdtemp(dir) != NULL);
    struct oc_buf csv;
    oc_buf_init(&csv, 1 << 16);
    oc_buf_puts(&csv, "ts,region,pop,value\n");
    const char *leaves[][2] = {{"EMEA", "FRA"}, {"EMEA", "AMS"}, {"AMER", "NYC"}, {"AMER", "LAX"}};
    for (int b = 0; b <= BINS; b++)
        for (int i = 0; i < 4; i++) {
            char row[128];
            int v = b < BINS ? 100 + (b * 7 + i * 3) % 5 - 2 : i == 0 ? 300 : 100;
            snprintf(row, sizeof(row), "%d,%s,%s,%d\n", T0 + STEP * b, leaves[i][0], leaves[i][1],
                     v);
            oc_buf_puts(&csv, row);
        }
    write_file(dir, "case_0000.csv", csv.data);
    oc_buf_free(&csv);
    snprintf(path, sizeof(path), "at %d\ntags t\ncause pop=FRA&region=EMEA\n", T0 + STEP * BINS);
    write_file(dir, "case_0000.truth", path);
    snprintf(path, sizeof(path), "%s/out.json", dir);
    fflush(stdout);
    int saved = dup(1), fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    T_TRUE(saved >= 0 && fd >= 0);
    dup2(fd, 1);
    close(fd);
    char *argv[] = {"eval", dir, "--json", NULL};
    int rc = rca_eval_main(3, argv);
    fflush(stdout);
    dup2(saved, 1);
    close(saved);
    T_EQ_INT(rc, 0);
    FILE *f = fopen(path, "r");
    T_TRUE(f != NULL);
    if (f) {
        size_t n = fread(out, 1, sizeof(out) - 1, f);
        out[n] = '\0';
        fclose(f);
    }
    T_TRUE(strstr(out, "{\"setting\":\"all\",\"cases\":1,\"f1\":1.0000,") != NULL);
    const char *names[] = {"case_0000.csv", "case_0000.truth", "out.json"};
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        unlink(path);
    }
    rmdir(dir);
}

/* Changes in a fresh store: recorded, listed with filters, ranked against an onset. */
static void test_changes_store(void)
{
    char dir[] = "/tmp/test_rca_XXXXXX", err[256];
    struct store *st = NULL;
    T_TRUE(mkdtemp(dir) != NULL);
    T_EQ_INT(t_store_open(dir, STORE_SYNC_NORMAL, &st, err, sizeof(err)), 0);
    const int64_t on = T0 + 36000;
    const struct rca_change ch[] = {
        {on - 3 * 3600, "origin", "config", "cache ttl", NULL},
        {on - 120, "cdn-edge", "deploy", "edge 4.2", "4.2"},
        {on - 600, "player", "flag", "new-abr", "on"},
    };
    int64_t id = 0;
    for (int i = 0; i < 3; i++)
        T_EQ_INT(rca_change_add(st, &ch[i], "ci", 1, &id), 0);
    T_EQ_INT(id, 3);
    json_t *all = rca_changes_list(st, 0, on, NULL, 10);
    T_EQ_INT(json_array_size(all), 3);
    T_EQ_STR(json_string_value(json_object_get(json_array_get(all, 0), "service")), "cdn-edge");
    T_TRUE(json_is_null(json_object_get(json_array_get(all, 2), "version")));
    json_decref(all);
    json_t *one = rca_changes_list(st, 0, on, "player", 10);
    T_EQ_INT(json_array_size(one), 1);
    T_EQ_STR(json_string_value(json_object_get(json_array_get(one, 0), "actor")), "ci");
    json_decref(one);
    json_t *ranked = rca_changes_ranked(st, on, "player");
    T_EQ_INT(json_array_size(ranked), 3);
    json_t *top = json_array_get(ranked, 0);
    T_EQ_STR(json_string_value(json_object_get(top, "description")), "new-abr");
    T_EQ_INT(json_integer_value(json_object_get(top, "lead_s")), 600);
    T_EQ_DBL(json_real_value(json_object_get(top, "score")), 0.8 / (1 + 600.0 / 900), 1e-9);
    json_decref(ranked);
    store_close(st);
    t_rmtree(dir);
}

/* The simulator's emea-cdn scenario through the ingest cube, localized as the rca module does
 * when an incident opens: the three primary-CDN POPs in EMEA whose caches miss (PAR is served
 * by the primary CDN only, so pop=PAR is the same slice as cdn=primary&pop=PAR). */
struct sim_run {
    struct oc_clock clk;
    struct qoe_cube *cube;
    struct ingest_batch batch;
    struct oc_buf body;
};

static void sim_sink(void *arg, const struct beacon_event *ev)
{
    struct sim_run *r = arg;
    T_EQ_INT(sim_ndjson_append(&r->body, ev), 0);
}

static void sim_tick(void *arg, int64_t now_ms)
{
    struct sim_run *r = arg;
    char err[200];
    (void)now_ms;
    if (r->body.len) {
        T_EQ_INT(ingest_parse(&r->batch, r->body.data, r->body.len, err, sizeof(err)), 0);
        ingest_fold(r->cube, &r->batch, NULL);
        oc_buf_reset(&r->body);
    }
    qoe_cube_tick(r->cube);
}

/* The service the change ranking is told about: the incident slice's own "service", else the
 * catalog service serving the first cause that one serves (pop=PAR: none; cdn=primary&pop=FRA:
 * cdn-primary), else the one serving the incident's slice; none without a catalog. */
static void test_affected_service(void)
{
    struct oc_app app;
    struct oc_clock clk;
    void *cat = NULL;
    char buf[128];
    memset(&app, 0, sizeof(app));
    oc_clock_init(&clk, OC_CLOCK_VIRTUAL, 1764964800000LL);
    app.clock = &clk;
    app.bus = oc_bus_new();
    json_t *opened = json_pack("{s:s, s:{s:s}}", "incident_id", "INC-1", "slice", "region", "EMEA");
    json_t *causes = json_pack("[{s:{s:s}}, {s:{s:s, s:s}}]", "element", "pop", "PAR", "element",
                               "cdn", "primary", "pop", "FRA");
    json_t *live = json_pack("{s:{s:s, s:s}}", "slice", "live", "true", "region", "NA");
    json_t *named = json_pack("{s:{s:s}}", "slice", "service", "origin-shield");
    T_TRUE(rca_affected_service(&app, opened, causes, 1764964800, buf, sizeof(buf)) == NULL);
    T_EQ_STR(rca_affected_service(NULL, named, causes, 1764964800, buf, sizeof(buf)),
             "origin-shield");
    T_EQ_INT(catalog_module.init(&app, &cat), 0); /* the example catalog */
    T_EQ_STR(rca_affected_service(&app, opened, causes, 1764964800, buf, sizeof(buf)),
             "cdn-primary");
    T_EQ_STR(rca_affected_service(&app, named, causes, 1764964800, buf, sizeof(buf)),
             "origin-shield");
    T_EQ_STR(rca_affected_service(&app, live, NULL, 1764964800, buf, sizeof(buf)), "live-packager");
    T_TRUE(rca_affected_service(&app, opened, NULL, 1764964800, buf, sizeof(buf)) == NULL);
    catalog_module.stop(&app, cat);
    json_decref(opened);
    json_decref(causes);
    json_decref(live);
    json_decref(named);
    oc_bus_destroy(app.bus);
}

static void test_incident_on_cube(void)
{
    struct sim_run *r = calloc(1, sizeof(*r));
    struct qoe_cube_opts co;
    struct sim_topo *t = NULL;
    struct sim_scenario *sc = NULL;
    struct sim *s = NULL;
    oc_clock_init(&r->clk, OC_CLOCK_VIRTUAL, 0);
    qoe_cube_opts_default(&co);
    co.complete_after_s = co.allowed_lateness_s; /* the newest minute read is 19:46, as pinned */
    r->cube = qoe_cube_new(&co, &r->clk);
    ingest_batch_init(&r->batch, 1000000);
    oc_buf_init(&r->body, 64u << 20);
    struct sim_opts o = {.seed = 7, .viewers = 4000, .sink = sim_sink, .sink_arg = r};
    o.tick = sim_tick;
    o.tick_arg = r;
    o.clock = &r->clk;
    T_EQ_INT(sim_topo_default(&t), 0);
    T_EQ_INT(sim_scenario_builtin("emea-cdn", &sc), 0);
    T_EQ_INT(sim_new(&o, t, sc, &s), 0);
    int64_t t0 = sim_now_ms(s) / 1000; /* 19:30; the fault starts at 19:43 */
    sim_run(s, sim_now_ms(s) + 19 * 60000LL);
    json_t *p = json_pack("{s:s, s:I, s:s}", "incident_id", "INC-1", "at",
                          (json_int_t)(t0 + 19 * 60), "title", "rebuffering_share in EMEA");
    json_t *out = rca_localize_cube(r->cube, NULL, p);
    T_TRUE(out != NULL);
    char *text = json_dumps(out, JSON_COMPACT);
    if (getenv("SHOW_RCA"))
        printf("%s\n", text);
    T_CONTAINS(text, "\"incident_id\":\"INC-1\"");
    T_CONTAINS(text, "\"metric\":\"rebuffering_share\"");
    T_EQ_INT(json_array_size(json_object_get(out, "causes")), 3);
    T_CONTAINS(text, "{\"element\":{\"pop\":\"PAR\"},\"score\":");
    T_CONTAINS(text, "{\"element\":{\"cdn\":\"primary\",\"pop\":\"FRA\"},\"score\":");
    T_CONTAINS(text, "{\"element\":{\"cdn\":\"primary\",\"pop\":\"AMS\"},\"score\":");
    free(text);
    json_decref(out);
    json_decref(p);
    T_TRUE(rca_localize_cube(NULL, NULL, p) == NULL);
    sim_destroy(s);
    sim_scenario_destroy(sc);
    sim_topo_destroy(t);
    qoe_cube_destroy(r->cube);
    ingest_batch_free(&r->batch);
    oc_buf_free(&r->body);
    free(r);
}

static const struct t_case cases[] = {
    T_CASE(test_csv_ok),
    T_CASE(test_csv_errors),
    T_CASE(test_csv_caps),
    T_CASE(test_leaf_cap),
    T_CASE(test_single_element),
    T_CASE(test_two_elements),
    T_CASE(test_parent_not_children),
    T_CASE(test_child_not_mild_parent),
    T_CASE(test_parent_children_alike),
    T_CASE(test_clear_single_cause),
    T_CASE(test_no_weak_extras),
    T_CASE(test_small_second_cause),
    T_CASE(test_support_penalty_classes),
    T_CASE(test_drift_hides_no_drop),
    T_CASE(test_level_follows_ramp),
    T_CASE(test_seed_values_deep_cause),
    T_CASE(test_seed_values_amounts),
    T_CASE(test_drill_first_child),
    T_CASE(test_amount_not_count),
    T_CASE(test_sibling_values),
    T_CASE(test_whole_region),
    T_CASE(test_ratio_measure),
    T_CASE(test_ratio_additive_view_misleads),
    T_CASE(test_thin_counts_roll_up),
    T_CASE(test_no_cause),
    T_CASE(test_json_contract),
    T_CASE(test_onset),
    T_CASE(test_first_onset),
    T_CASE(test_changes_rank),
    T_CASE(test_eval_same_leaves),
    T_CASE(test_changes_store),
    T_CASE(test_affected_service),
    T_CASE(test_incident_on_cube),
    {0},
};

T_MAIN(cases)
