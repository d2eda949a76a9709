/*
 * bench.c - `oncue bench search`: builds the index over a corpus (generated or read), writes
 * and reads its snapshot, then runs exact, prefix and one-typo queries whose intended title
 * is known, on one thread, and the same queries on SQLite FTS5 word (unicode61, diacritics
 * removed, bm25 over title, people, description) and trigram (title) indexes built over the
 * same corpus in the same run. Prints latency percentiles, top-1 and top-10 recall, index
 * sizes and build times. A figure, never pass/fail.
 */
#include "search/search_int.h"
#include "core/alloc.h"
#include "core/clock.h"
#include "core/opt.h"
#include "store/store.h"

#include <jansson.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum { K_EXACT, K_PREFIX, K_TYPO, K_N };
static const char *const kind_names[] = {"exact", "prefix", "typo1"};

struct args {
    long titles, queries, fts_queries, seed, vocab, fts, slow_ms;
    const char *corpus, *dir, *emit;
    long played; /* titles given plays after the static order, out of it */
};

/* One query and the title it means. */
struct bq {
    char text[600];
    size_t target;
};

/* Latencies (wall clock, and the thread's CPU time: on a shared machine the wall clock also
 * counts the time other processes held the core) and recall of one engine on one kind. */
struct tally {
    double *ms, *cpu;
    size_t n, top1, top10;
};

static double now_ms(void)
{
    return (double)oc_mono_ns() / 1e6;
}

static double cpu_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static long rss_kb(void)
{
    long pages = 0, rss = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f && fscanf(f, "%ld %ld", &pages, &rss) != 2)
        rss = 0;
    if (f)
        fclose(f);
    return rss * (sysconf(_SC_PAGESIZE) / 1024);
}

/* Applies one edit of class cls (0 insertion, 1 deletion, 2 substitution, 3 transposition) at
 * a random place of word w (len bytes, >= 4) into out. */
static void typo(const char *w, size_t len, int cls, uint64_t *s, char *out)
{
    size_t at = 1 + bench_rand(s) % (len - 2); /* keep the first letter, as people do */
    char c = (char)('a' + bench_rand(s) % 26);
    if (cls == 2 && c == w[at])
        c = c == 'z' ? 'a' : (char)(c + 1);
    if (cls == 3 && w[at] == w[at + 1])
        cls = 1;
    memcpy(out, w, len + 1);
    if (cls == 0) {
        memmove(out + at + 1, out + at, len - at + 1);
        out[at] = c;
    } else if (cls == 1) {
        memmove(out + at, out + at + 1, len - at);
    } else if (cls == 2) {
        out[at] = c;
    } else {
        out[at] = w[at + 1];
        out[at + 1] = w[at];
    }
}

/* Makes the query of kind k for title t; -1 when t has no word to make it from. */
static int make_query(const struct bench_title *t, int k, uint64_t *s, char *out, size_t n)
{
    char w[16][80];
    int nw = 0, pick = -1;
    for (const char *p = t->title; *p && nw < 16;) {
        size_t l = strcspn(p, " ");
        if (l && l < 80) {
            memcpy(w[nw], p, l);
            w[nw++][l] = 0;
        }
        p += l + (p[l] ? 1 : 0);
    }
    if (nw == 0)
        return -1;
    if (k == K_PREFIX) {
        size_t l = strlen(w[nw - 1]);
        if (l < 2)
            return -1;
        w[nw - 1][(l + 1) / 2] = 0;
    } else if (k == K_TYPO) {
        int cands[16], nc = 0;
        for (int i = 0; i < nw; i++)
            if (strlen(w[i]) >= 4 &&
                strspn(w[i], "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") ==
                    strlen(w[i]))
                cands[nc++] = i;
        if (!nc)
            return -1;
        pick = cands[bench_rand(s) % (uint64_t)nc];
        char e[90];
        typo(w[pick], strlen(w[pick]), (int)(bench_rand(s) % 4), s, e);
        memcpy(w[pick], e, strlen(e) + 1);
    }
    size_t len = 0;
    for (int i = 0; i < nw; i++)
        len += (size_t)snprintf(out + len, n - len, "%s%s", i ? " " : "", w[i]);
    return 0;
}

/* Picks q titles per kind at random and makes their queries. */
static struct bq *make_queries(const struct bench_corpus *c, long q, uint64_t seed)
{
    struct bq *out = oc_calloc((size_t)q * K_N, sizeof *out);
    uint64_t s = seed ^ 0x5EA2C4ULL;
    for (int k = 0; k < K_N; k++)
        for (long i = 0; i < q;) {
            size_t t = bench_rand(&s) % c->n;
            struct bq *b = &out[(size_t)k * (size_t)q + (size_t)i];
            if (make_query(&c->t[t], k, &s, b->text, sizeof b->text) == 0) {
                b->target = t;
                i++;
            }
        }
    return out;
}

/* Counts the answer (the titles at ranks, n of them) against the intended title: a hit is the
 * title itself or one with the very same title text. */
static void score_answer(const struct bench_corpus *c, const struct bq *b, const size_t *ranks,
                         size_t n, struct tally *t)
{
    const char *want = c->t[b->target].title;
    for (size_t i = 0; i < n && i < 10; i++)
        if (ranks[i] == b->target || strcmp(c->t[ranks[i]].title, want) == 0) {
            t->top10++;
            t->top1 += i == 0;
            return;
        }
}

static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double pct_of(double *v, size_t n, double p)
{
    if (!n)
        return 0;
    qsort(v, n, sizeof *v, cmp_dbl);
    size_t i = (size_t)(p * (double)(n - 1) + 0.5);
    return v[i];
}

static double pct(struct tally *t, double p)
{
    return pct_of(t->ms, t->n, p);
}

/* An engine's results for the table. */
struct engine {
    const char *name;
    double build_s, order_s, mb, write_s, read_s;
    struct tally k[K_N];
};

/* The parameters of one bench query. */
struct qp {
    const char *q;
};

static const char *qp_get(void *arg, const char *name)
{
    const struct qp *p = arg;
    return strcmp(name, "q") == 0 ? p->q : strcmp(name, "limit") == 0 ? "10" : NULL;
}

/* Builds the index, its snapshot, and runs the queries on it. */
static void run_oncue(const struct args *a, const struct bench_corpus *c, const struct bq *qs,
                      struct engine *e)
{
    char path[4200];
    long r0 = rss_kb();
    double t0 = now_ms();
    struct search_index *x = search_index_new(), *y = NULL;
    size_t *map = oc_malloc(c->n * sizeof *map), ranks[10];
    struct search_weights w;
    struct search_result *r = oc_malloc(sizeof *r);
    int64_t gen;
    for (size_t i = 0; i < c->n; i++)
        if (bench_put(x, &c->t[i]) >= 0)
            map[x->ndocs - 1] = i;
    e->build_s = (now_ms() - t0) / 1e3;
    t0 = now_ms();
    search_index_compact(x); /* static order, as the server's first snapshot does */
    e->order_s = (now_ms() - t0) / 1e3;
    for (size_t i = 0; i < c->n; i++) { /* the documents were renumbered */
        uint32_t d = search_doc_find(x, c->t[i].id);
        if (d != UINT32_MAX)
            map[d] = i;
    }
    if (a->played > 0) { /* plays shuffled over random titles: the static order broken */
        size_t n = (size_t)a->played < c->n ? (size_t)a->played : c->n;
        const char **ids = oc_malloc((n + 1) * sizeof *ids);
        double *plays = oc_malloc((n + 1) * sizeof *plays);
        uint64_t s = (uint64_t)a->seed * 2654435761u + 1;
        for (size_t i = 0; i < n; i++) {
            s = s * 6364136223846793005ULL + 1442695040888963407ULL;
            ids[i] = c->t[(s >> 33) % c->n].id;
            s = s * 6364136223846793005ULL + 1442695040888963407ULL;
            plays[i] = c->t[(s >> 33) % c->n].pop; /* another title's popularity */
        }
        t0 = now_ms();
        size_t changed = search_index_set_plays(x, ids, plays, n);
        printf("plays set on %zu titles (%zu changed) in %.1f ms, %zu of them far above their"
               " block's bound\n",
               n, changed, now_ms() - t0, search_index_loosened(x));
        free(ids);
        free(plays);
        if (search_index_reorder_due(x)) { /* as the server's next snapshot would */
            t0 = now_ms();
            search_index_compact(x);
            printf("the static order redone, as a snapshot would: %.2f s\n", (now_ms() - t0) / 1e3);
            for (size_t i = 0; i < c->n; i++) {
                uint32_t d = search_doc_find(x, c->t[i].id);
                if (d != UINT32_MAX)
                    map[d] = i;
            }
        }
    }
    e->mb = (double)(rss_kb() - r0) / 1024;
    snprintf(path, sizeof path, "%s/search.idx", a->dir);
    t0 = now_ms();
    search_snapshot_write(x, 1, path);
    e->write_s = (now_ms() - t0) / 1e3;
    t0 = now_ms();
    if (search_snapshot_read(path, &y, &gen) != 0 || search_index_count(y) != search_index_count(x))
        fprintf(stderr, "oncue bench search: the snapshot did not read back\n");
    e->read_s = (now_ms() - t0) / 1e3;
    search_index_destroy(y);
    search_weights_default(&w);
    for (int k = 0; k < K_N; k++) {
        struct tally *t = &e->k[k];
        t->ms = oc_malloc((size_t)a->queries * sizeof *t->ms);
        t->cpu = oc_malloc((size_t)a->queries * sizeof *t->cpu);
        for (long i = 0; i < a->queries; i++) {
            const struct bq *b = &qs[(size_t)k * (size_t)a->queries + (size_t)i];
            struct qp p = {b->text};
            struct search_query q;
            char err[200];
            double q0 = now_ms(), c0 = cpu_ms();
            if (search_query_parse(qp_get, &p, 10, &q, err, sizeof err) == 0)
                search_run(x, &q, NULL, &w, 2025, r);
            else
                r->nhits = 0;
            t->ms[t->n] = now_ms() - q0;
            t->cpu[t->n++] = cpu_ms() - c0;
            if (a->slow_ms && t->ms[t->n - 1] > (double)a->slow_ms)
                fprintf(stderr, "slow %.1f ms (cpu %.1f) [%s] total %u\n", t->ms[t->n - 1],
                        t->cpu[t->n - 1], b->text, r->total);
            for (int h = 0; h < r->nhits; h++)
                ranks[h] = map[r->hits[h].doc];
            score_answer(c, b, ranks, (size_t)r->nhits, t);
        }
    }
    free(r);
    free(map);
    search_index_destroy(x);
}

/* Bytes of the database file after a checkpoint. */
static double db_mb(struct store *s, const char *dir /* at most 4200 bytes */)
{
    char path[4400];
    struct stat st;
    store_exec(s, "PRAGMA wal_checkpoint(TRUNCATE)");
    snprintf(path, sizeof path, "%.4200s/oncue.db", dir);
    return stat(path, &st) == 0 ? (double)st.st_size / 1048576 : 0;
}

/* Builds one FTS5 table over the corpus; its build seconds. */
static double fts_build(struct store *s, const struct bench_corpus *c, int trigram)
{
    struct store_stmt *st = NULL;
    double t0 = now_ms();
    store_exec(s, trigram ? "CREATE VIRTUAL TABLE g USING fts5(title, tokenize='trigram')"
                          : "CREATE VIRTUAL TABLE w USING fts5(title, people, description,"
                            " tokenize='unicode61 remove_diacritics 2')");
    store_begin(s);
    store_prepare(s,
                  trigram
                      ? "INSERT INTO g(rowid, title) VALUES (?1, ?2)"
                      : "INSERT INTO w(rowid, title, people, description) VALUES (?1, ?2, ?3, ?4)",
                  &st);
    for (size_t i = 0; i < c->n && st; i++) {
        if (trigram)
            STORE_BIND(st, STORE_INT((int64_t)i + 1), STORE_TEXT(c->t[i].title));
        else
            STORE_BIND(st, STORE_INT((int64_t)i + 1), STORE_TEXT(c->t[i].title),
                       STORE_TEXT(c->t[i].people), STORE_TEXT(c->t[i].desc));
        store_step(st);
        store_reset(st);
    }
    store_commit(s);
    return (now_ms() - t0) / 1e3;
}

/* The FTS5 MATCH text of query b for the word index or the trigram index. */
static void fts_match(const char *text, int kind, int trigram, char *out, size_t n)
{
    struct search_toks *tk = oc_malloc(sizeof *tk);
    size_t len = 0;
    out[0] = 0;
    search_tokenize(text, strlen(text), 0, tk);
    if (!trigram) {
        for (int i = 0; i < tk->n; i++)
            len += (size_t)snprintf(out + len, n - len, "%s\"%s\"%s", i ? " " : "", tk->t[i],
                                    kind == K_PREFIX && i == tk->n - 1 ? "*" : "");
    } else if (kind != K_TYPO) {
        len += (size_t)snprintf(out, n, "\"");
        for (const char *p = text; *p && len + 3 < n; p++) {
            out[len++] = *p;
            if (*p == '"')
                out[len++] = '"';
        }
        snprintf(out + len, n - len, "\"");
    } else {
        for (int i = 0; i < tk->n; i++)
            for (size_t j = 0; j + 3 <= strlen(tk->t[i]); j++)
                len += (size_t)snprintf(out + len, n - len, "%s\"%.3s\"", len ? " OR " : "",
                                        tk->t[i] + j);
    }
    free(tk);
}

/* Runs the first nq queries of each kind on one FTS5 table. */
static void fts_queries(struct store *s, const struct bench_corpus *c, const struct bq *qs,
                        long per, long nq, int trigram, struct engine *e)
{
    const char *sql = trigram ? "SELECT rowid FROM g WHERE g MATCH ?1 ORDER BY rank LIMIT 10"
                              : "SELECT rowid FROM w WHERE w MATCH ?1"
                                " ORDER BY bm25(w, 10.0, 5.0, 1.0) LIMIT 10";
    struct store_stmt *st = NULL;
    char m[8192];
    size_t ranks[10];
    store_prepare(s, sql, &st);
    for (int k = 0; k < K_N && st; k++) {
        struct tally *t = &e->k[k];
        t->ms = oc_malloc((size_t)nq * sizeof *t->ms);
        t->cpu = oc_malloc((size_t)nq * sizeof *t->cpu);
        for (long i = 0; i < nq; i++) {
            const struct bq *b = &qs[(size_t)k * (size_t)per + (size_t)i];
            size_t n = 0;
            fts_match(b->text, k, trigram, m, sizeof m);
            double q0 = now_ms(), c0 = cpu_ms();
            STORE_BIND(st, STORE_TEXT(m));
            while (n < 10 && store_step(st) == STORE_ROW)
                ranks[n++] = (size_t)store_col_int(st, 0) - 1;
            store_reset(st);
            t->ms[t->n] = now_ms() - q0;
            t->cpu[t->n++] = cpu_ms() - c0;
            score_answer(c, b, ranks, n, t);
        }
    }
}

/* Builds the FTS5 word and trigram tables in dir/fts and runs the queries on both. */
static void run_fts(const struct args *a, const struct bench_corpus *c, const struct bq *qs,
                    struct engine *w, struct engine *g)
{
    char dir[4200], err[300];
    struct store *s = NULL;
    snprintf(dir, sizeof dir, "%.4000s/fts", a->dir);
    if (store_open(dir, STORE_SYNC_NORMAL, &s, err, sizeof err) != 0) {
        fprintf(stderr, "oncue bench search: %s\n", err);
        return;
    }
    store_exec(s, "PRAGMA cache_size=-262144");
    double base = db_mb(s, dir);
    w->build_s = fts_build(s, c, 0);
    w->mb = db_mb(s, dir) - base;
    base += w->mb;
    g->build_s = fts_build(s, c, 1);
    g->mb = db_mb(s, dir) - base;
    long nq = a->fts_queries < a->queries ? a->fts_queries : a->queries;
    fts_queries(s, c, qs, a->queries, nq, 0, w);
    fts_queries(s, c, qs, a->queries, nq, 1, g);
    store_close(s);
}

/* Prints one row: a label and one value per engine (negative: "-"). */
static void row(const char *label, int dec, const struct engine *e, int ne,
                double (*get)(const struct engine *, int), int k)
{
    printf("%-26s", label);
    for (int i = 0; i < ne; i++) {
        double v = get(&e[i], k);
        char cell[32];
        if (v < 0)
            snprintf(cell, sizeof cell, "-");
        else
            snprintf(cell, sizeof cell, "%.*f", dec, v);
        printf(" %14s", cell);
    }
    printf("\n");
}

static double g_build(const struct engine *e, int k)
{
    (void)k;
    return e->k[0].n ? e->build_s : -1;
}
static double g_mb(const struct engine *e, int k)
{
    (void)k;
    return e->k[0].n ? e->mb : -1;
}
static double g_order(const struct engine *e, int k)
{
    (void)k;
    return e->order_s > 0 ? e->order_s : -1;
}
static double g_write(const struct engine *e, int k)
{
    (void)k;
    return e->write_s > 0 ? e->write_s : -1;
}
static double g_read(const struct engine *e, int k)
{
    (void)k;
    return e->read_s > 0 ? e->read_s : -1;
}
static double g_p50(const struct engine *e, int k)
{
    return e->k[k].n ? pct((struct tally *)&e->k[k], 0.50) : -1;
}
static double g_p95(const struct engine *e, int k)
{
    return e->k[k].n ? pct((struct tally *)&e->k[k], 0.95) : -1;
}
static double g_p99(const struct engine *e, int k)
{
    return e->k[k].n ? pct((struct tally *)&e->k[k], 0.99) : -1;
}
static double g_cpu95(const struct engine *e, int k)
{
    return e->k[k].n ? pct_of(e->k[k].cpu, e->k[k].n, 0.95) : -1;
}
static double g_cpu99(const struct engine *e, int k)
{
    return e->k[k].n ? pct_of(e->k[k].cpu, e->k[k].n, 0.99) : -1;
}
static double g_top1(const struct engine *e, int k)
{
    return e->k[k].n ? 100.0 * (double)e->k[k].top1 / (double)e->k[k].n : -1;
}
static double g_top10(const struct engine *e, int k)
{
    return e->k[k].n ? 100.0 * (double)e->k[k].top10 / (double)e->k[k].n : -1;
}

static void print_table(const struct args *a, const struct bench_corpus *c, struct engine *e,
                        int ne)
{
    char label[64];
    printf("corpus %s\n", c->name);
    printf("queries: %ld per kind (oncue), the first %ld of them (FTS5); one thread; load %s",
           a->queries, a->fts_queries, "");
    FILE *f = fopen("/proc/loadavg", "r");
    char la[64] = "";
    if (f && fgets(la, sizeof la, f))
        printf("%s", la);
    else
        printf("\n");
    if (f)
        fclose(f);
    printf("%-26s", "");
    for (int i = 0; i < ne; i++)
        printf(" %14s", e[i].name);
    printf("\n");
    row("build s", 1, e, ne, g_build, 0);
    row("static order s", 2, e, ne, g_order, 0);
    row("index MB (RSS / disk)", 0, e, ne, g_mb, 0);
    row("snapshot write s", 2, e, ne, g_write, 0);
    row("restart: snapshot read s", 2, e, ne, g_read, 0);
    for (int k = 0; k < K_N; k++) {
        static const char *const what[] = {"p50 ms",     "p95 ms",  "p99 ms",  "p95 cpu ms",
                                           "p99 cpu ms", "top-1 %", "top-10 %"};
        double (*const fns[])(const struct engine *, int) = {g_p50,   g_p95,  g_p99,  g_cpu95,
                                                             g_cpu99, g_top1, g_top10};
        for (int m = 0; m < 7; m++) {
            snprintf(label, sizeof label, "%s %s", kind_names[k], what[m]);
            row(label, m < 5 ? 3 : 1, e, ne, fns[m], k);
        }
    }
}

/* Appends the '|' list s as a JSON array member key to o. */
static void list_member(json_t *o, const char *key, const char *s)
{
    json_t *a = json_array();
    for (const char *p = s; p && *p;) {
        size_t l = strcspn(p, "|");
        json_array_append_new(a, json_stringn(p, l));
        p += l + (p[l] ? 1 : 0);
    }
    json_object_set_new(o, key, a);
}

/* Writes the corpus as NDJSON titles to path: 0, or 1 after a message. */
static int emit(const struct bench_corpus *c, const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "oncue bench search: cannot write %s\n", path);
        return 1;
    }
    for (size_t i = 0; i < c->n; i++) {
        const struct bench_title *t = &c->t[i];
        json_t *o = json_pack("{s:s,s:s,s:s,s:i,s:f}", "id", t->id, "title", t->title, "kind",
                              search_kind_names[t->kind], "year", t->year, "popularity", t->pop);
        if (t->desc)
            json_object_set_new(o, "description", json_string(t->desc));
        if (t->language)
            json_object_set_new(o, "language", json_string(t->language));
        list_member(o, "people", t->people);
        list_member(o, "genres", t->genres);
        list_member(o, "regions", t->regions);
        list_member(o, "entitlements", t->ents);
        json_dumpf(o, f, JSON_COMPACT);
        fputc('\n', f);
        json_decref(o);
    }
    return fclose(f) == 0 ? 0 : 1;
}

#define F(f) offsetof(struct args, f)
static const struct oc_opt opts[] = {
    {"--titles", OC_OPT_LONG, F(titles), "N", "titles to generate (default 1000000)", 1, 20000000,
     NULL},
    {"--corpus", OC_OPT_STR, F(corpus), "FILE",
     "read an NDJSON file of titles instead of generating", 0, 0, NULL},
    {"--seed", OC_OPT_LONG, F(seed), "S", "generator and query seed (default 21)", 0, 2147483647,
     NULL},
    {"--vocabulary", OC_OPT_LONG, F(vocab), "N", "distinct words of the generator (default 100000)",
     100, 10000000, NULL},
    {"--queries", OC_OPT_LONG, F(queries), "N", "queries per kind (default 1000)", 1, 1000000,
     NULL},
    {"--fts-queries", OC_OPT_LONG, F(fts_queries), "N",
     "queries per kind on each FTS5 index (default 200)", 1, 1000000, NULL},
    {"--fts", OC_OPT_LONG, F(fts), "0|1", "build and query the FTS5 indexes (default 1)", 0, 1,
     NULL},
    {"--show-slow", OC_OPT_LONG, F(slow_ms), "MS",
     "print each oncue query slower than MS milliseconds to stderr (default 0: none)", 0, 100000,
     NULL},
    {"--emit", OC_OPT_STR, F(emit), "FILE",
     "write the corpus as NDJSON titles (a POST /v1/titles body) to FILE and stop", 0, 0, NULL},
    {"--played", OC_OPT_LONG, F(played), "N",
     "after the static order, give N random titles plays (another random title's popularity),"
     " as the QoE cube's plays do between compactions (default 0)",
     0, 20000000, NULL},
    {"--dir", OC_OPT_STR, F(dir), "DIR",
     "where the snapshot and the FTS5 database go (default a new /tmp directory)", 0, 0, NULL},
    {0},
};
#undef F

const struct oc_cli search_bench_cli[] = {
    {"bench search", "[--titles N | --corpus FILE] [OPTIONS]",
     "Builds the search index over a generated Zipf corpus (or an NDJSON file of titles),\n"
     "runs exact, prefix and one-typo queries whose intended title is known, and the same\n"
     "queries on SQLite FTS5 word and trigram indexes of the same corpus; prints p50/p95/p99\n"
     "latency, top-1 and top-10 recall, index size, build time and the snapshot's read time.\n",
     opts, 0},
    {0},
};

/* Removes what the bench wrote under dir (which it created) and dir itself. */
static void remove_work(const char *dir)
{
    static const char *const files[] = {"search.idx",       "fts/oncue.db", "fts/oncue.db-wal",
                                        "fts/oncue.db-shm", "fts",          ""};
    char path[4200];
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(path, sizeof path, "%.4000s/%s", dir, files[i]);
        if (remove(path) != 0 && errno != ENOENT)
            fprintf(stderr, "oncue bench search: cannot remove %s\n", path);
    }
}

int search_bench_main(int argc, char **argv)
{
    struct args a = {1000000, 1000, 200, 21, 100000, 1, 0, NULL, NULL, NULL, 0};
    struct bench_corpus c;
    const char *own = NULL; /* the directory the bench made, removed at the end */
    struct engine e[3] = {{.name = "oncue"}, {.name = "fts5-word"}, {.name = "fts5-trigram"}};
    char tmp[] = "/tmp/oncue-bench-search.XXXXXX";
    int nargs = 0, p = oc_cli_parse(search_bench_cli, argc - 1, argv + 1, &a, NULL, &nargs);
    if (p != 0)
        return p > 0 ? 0 : 2;
    if (!a.dir && !(a.dir = own = mkdtemp(tmp))) {
        fprintf(stderr, "oncue bench search: cannot create a directory in /tmp\n");
        return 1;
    }
    mkdir(a.dir, 0700);
    if (a.corpus ? bench_corpus_read(&c, a.corpus) != 0 : 0) {
        if (own)
            remove_work(own);
        return 1;
    }
    if (!a.corpus)
        bench_corpus_generate(&c, (size_t)a.titles, (uint64_t)a.seed, (size_t)a.vocab);
    if (a.emit) {
        int rc = emit(&c, a.emit);
        bench_corpus_free(&c);
        if (own)
            remove_work(own);
        return rc;
    }
    struct bq *qs = make_queries(&c, a.queries, (uint64_t)a.seed);
    run_oncue(&a, &c, qs, &e[0]);
    if (a.fts)
        run_fts(&a, &c, qs, &e[1], &e[2]);
    print_table(&a, &c, e, a.fts ? 3 : 1);
    for (int i = 0; i < 3; i++)
        for (int k = 0; k < K_N; k++) {
            free(e[i].k[k].ms);
            free(e[i].k[k].cpu);
        }
    free(qs);
    bench_corpus_free(&c);
    if (own)
        remove_work(own);
    return 0;
}
