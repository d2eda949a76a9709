/*
 * bench_gen.c - the corpora of `oncue bench search`: a generated catalog (pronounceable words
 * made of syllables, drawn with Zipf frequencies, titles of one to five words, people,
 * genres, years, popularity; deterministic from the seed) or an NDJSON file of titles (the
 * vega-datasets movies, converted by bench/search.sh).
 */
#include "search/search_int.h"
#include "core/alloc.h"
#include "core/json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK (1u << 20) /* bytes of one string chunk */

uint64_t bench_rand(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

/* Copies n bytes of s into the corpus's pool; the copy. */
static char *keep(struct bench_corpus *c, const char *s, size_t n)
{
    if (!c->nchunks || c->used + n + 1 > CHUNK) {
        c->chunks = oc_realloc(c->chunks, (c->nchunks + 1) * sizeof *c->chunks);
        c->chunks[c->nchunks++] = oc_malloc(n + 1 > CHUNK ? n + 1 : CHUNK);
        c->used = 0;
    }
    char *p = c->chunks[c->nchunks - 1] + c->used;
    memcpy(p, s, n);
    p[n] = 0;
    c->used += n + 1;
    return p;
}

static const char *const onsets[] = {"b",  "c",  "d",  "f",  "g",  "h",  "k",  "l",
                                     "m",  "n",  "p",  "r",  "s",  "t",  "v",  "z",
                                     "br", "st", "tr", "gr", "ch", "sh", "pl", "w"};
static const char *const vowels[] = {"a", "e", "i", "o", "u", "ai", "ou"};
static const char *const codas[] = {"", "n", "r", "s", "l", "m"};
#define NON  (sizeof onsets / sizeof onsets[0])
#define NVOW (sizeof vowels / sizeof vowels[0])
#define NCOD (sizeof codas / sizeof codas[0])
#define NSYL (NON * NVOW * NCOD) /* 1008 syllables */

/* Word number k of a family (salt) with syl syllables: a bijection of k onto the syllable
 * strings, so distinct k give distinct words. */
static void word_of(uint64_t k, int syl, uint64_t salt, char *out, size_t n)
{
    uint64_t space = 1;
    for (int i = 0; i < syl; i++)
        space *= NSYL;
    uint64_t v = (k * 2654435761ULL + salt) % space; /* odd multiplier, space has no factor */
    size_t len = 0;
    out[0] = 0;
    for (int i = 0; i < syl; i++, v /= NSYL) {
        unsigned s = (unsigned)(v % NSYL);
        len += (size_t)snprintf(out + len, n - len, "%s%s%s", onsets[s % NON],
                                vowels[(s / NON) % NVOW], codas[s / (NON * NVOW)]);
    }
}

/* A Zipf (s = 1) table over n ranks: cumulative weights. */
static double *zipf_table(size_t n)
{
    double *c = oc_malloc(n * sizeof *c), sum = 0;
    for (size_t i = 0; i < n; i++)
        c[i] = (sum += 1.0 / (double)(i + 1));
    for (size_t i = 0; i < n; i++)
        c[i] /= sum;
    return c;
}

static size_t zipf_draw(const double *c, size_t n, uint64_t *s)
{
    double u = (double)(bench_rand(s) >> 11) / 9007199254740992.0;
    size_t lo = 0, hi = n - 1;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (c[mid] < u)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* The generator's vocabularies. */
struct vocab {
    char (*words)[32], (*first)[32], (*last)[32];
    double *zw, *zf, *zl;
    size_t nw, nf, nl;
};

static void vocab_make(struct vocab *v, size_t nw)
{
    v->nw = nw, v->nf = 3000, v->nl = 30000;
    v->words = oc_malloc(nw * sizeof *v->words);
    v->first = oc_malloc(v->nf * sizeof *v->first);
    v->last = oc_malloc(v->nl * sizeof *v->last);
    for (size_t i = 0; i < nw; i++) /* frequent words are short */
        word_of(i, i < 400 ? 1 : i < 20000 ? 2 : 3, 17, v->words[i], 32);
    for (size_t i = 0; i < v->nf; i++)
        word_of(i, 2, 91, v->first[i], 32);
    for (size_t i = 0; i < v->nl; i++)
        word_of(i, i < 1000 ? 2 : 3, 433, v->last[i], 32);
    v->zw = zipf_table(nw), v->zf = zipf_table(v->nf), v->zl = zipf_table(v->nl);
}

static void vocab_free(struct vocab *v)
{
    free(v->words), free(v->first), free(v->last), free(v->zw), free(v->zf), free(v->zl);
}

/* Appends k Zipf words (capitalized when cap) to b at *len. */
static void words(const struct vocab *v, uint64_t *s, int k, int cap, char *b, size_t *len,
                  size_t n)
{
    for (int i = 0; i < k; i++) {
        const char *w = v->words[zipf_draw(v->zw, v->nw, s)];
        size_t at = *len;
        *len += (size_t)snprintf(b + *len, n - *len, "%s%s", *len ? " " : "", w);
        if (cap && *len < n)
            b[at + (at ? 1 : 0)] = (char)(b[at + (at ? 1 : 0)] - 32);
    }
}

static const char *const genres[] = {"drama",   "comedy",  "action",  "thriller",  "documentary",
                                     "horror",  "romance", "scifi",   "animation", "crime",
                                     "family",  "fantasy", "music",   "sport",     "war",
                                     "western", "history", "mystery", "kids",      "reality"};
static const char *const langs[] = {"en", "es", "fr", "de", "it", "ja", "ko", "pt", "hi", "sv"};
static const char *const regions[] = {"us", "gb", "fr", "de", "es", "it", "br", "jp", "in", "au"};
static const char *const ents[] = {"basic", "standard", "premium"};
static const char *const sequels[] = {" II", " 2", " III", " Two", " 4"};

/* Generates title i into t. */
static void gen_one(struct bench_corpus *c, const struct vocab *v, uint64_t *s, size_t i,
                    struct bench_title *t)
{
    char b[1024];
    size_t len = 0;
    static const int lens[] = {1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 4, 4, 4, 5};
    snprintf(b, sizeof b, "t%07zu", i);
    t->id = keep(c, b, strlen(b));
    if (bench_rand(s) % 5 == 0)
        len = (size_t)snprintf(b, sizeof b, "The");
    words(v, s, lens[bench_rand(s) % 20], 1, b, &len, sizeof b);
    if (bench_rand(s) % 33 == 0)
        len += (size_t)snprintf(b + len, sizeof b - len, "%s", sequels[bench_rand(s) % 5]);
    t->title = keep(c, b, len);
    len = 0;
    for (int k = 0, np = 2 + (int)(bench_rand(s) % 2); k < np; k++)
        len += (size_t)snprintf(b + len, sizeof b - len, "%s%s %s", k ? "|" : "",
                                v->first[zipf_draw(v->zf, v->nf, s)],
                                v->last[zipf_draw(v->zl, v->nl, s)]);
    t->people = keep(c, b, len);
    len = 0;
    words(v, s, 8 + (int)(bench_rand(s) % 7), 0, b, &len, sizeof b);
    t->desc = keep(c, b, len);
    uint64_t g = bench_rand(s);
    len = (size_t)snprintf(b, sizeof b, "%s", genres[g % 20]);
    if (g & 0x100)
        len += (size_t)snprintf(b + len, sizeof b - len, "|%s", genres[(g >> 9) % 20]);
    t->genres = keep(c, b, len);
    t->language = langs[(size_t)floor(pow((double)(bench_rand(s) % 1000) / 1000.0, 3) * 10)];
    uint64_t r = bench_rand(s);
    len = (size_t)snprintf(b, sizeof b, "%s|%s", regions[r % 10], regions[(r >> 8) % 10]);
    t->regions = keep(c, b, len);
    t->ents = ents[(r >> 16) % 3];
    t->year = 2025 - (int)(pow((double)(bench_rand(s) % 1000) / 1000.0, 2) * 95);
    uint64_t k = bench_rand(s) % 20;
    t->kind = k < 17 ? SEARCH_MOVIE : k < 19 ? SEARCH_SERIES : SEARCH_EPISODE;
    t->pop = floor(1e6 / (double)(1 + bench_rand(s) % 100000));
}

void bench_corpus_generate(struct bench_corpus *c, size_t n, uint64_t seed, size_t vocab)
{
    struct vocab v;
    uint64_t s = seed;
    char name[160];
    memset(c, 0, sizeof *c);
    vocab_make(&v, vocab);
    c->t = oc_calloc(n ? n : 1, sizeof *c->t);
    c->n = n;
    for (size_t i = 0; i < n; i++)
        gen_one(c, &v, &s, i, &c->t[i]);
    vocab_free(&v);
    snprintf(name, sizeof name, "generated: %zu titles, seed %llu, %zu-word vocabulary, Zipf s=1",
             n, (unsigned long long)seed, vocab);
    c->name = oc_strdup(name);
}

/* Joins the strings of list key of obj with '|' into the pool; NULL when absent. */
static const char *joined(struct bench_corpus *c, const json_t *obj, const char *key)
{
    const json_t *a = json_object_get(obj, key);
    char b[4096];
    size_t len = 0;
    for (size_t i = 0; json_is_array(a) && i < json_array_size(a); i++)
        if (json_is_string(json_array_get(a, i)))
            len += (size_t)snprintf(b + len, sizeof b - len, "%s%s", len ? "|" : "",
                                    json_string_value(json_array_get(a, i)));
    return len && len < sizeof b ? keep(c, b, len) : NULL;
}

/* Reads one NDJSON line into t; -1 when it is not a valid title. */
static int read_one(struct bench_corpus *c, const char *line, size_t n, struct bench_title *t)
{
    struct search_title st;
    char err[200];
    json_t *j = json_loadb(line, n, 0, NULL);
    int rc = -1;
    if (j && search_parse_title(j, &st, err, sizeof err) == 0) {
        t->id = keep(c, st.id, strlen(st.id));
        t->title = keep(c, st.title, strlen(st.title));
        t->desc = st.description ? keep(c, st.description, strlen(st.description)) : NULL;
        t->language = st.language ? keep(c, st.language, strlen(st.language)) : NULL;
        t->people = joined(c, j, "people");
        t->genres = joined(c, j, "genres");
        t->regions = joined(c, j, "regions");
        t->ents = joined(c, j, "entitlements");
        t->year = st.year, t->kind = st.kind, t->pop = st.popularity;
        rc = 0;
    }
    json_decref(j);
    return rc;
}

int bench_corpus_read(struct bench_corpus *c, const char *path)
{
    FILE *f = fopen(path, "r");
    char *line = NULL;
    size_t cap = 0, tcap = 0;
    ssize_t n;
    memset(c, 0, sizeof *c);
    if (!f) {
        fprintf(stderr, "oncue bench search: cannot read %s\n", path);
        return -1;
    }
    while ((n = getline(&line, &cap, f)) > 0) {
        c->t = oc_grow(c->t, &tcap, c->n + 1, sizeof *c->t);
        if (read_one(c, line, (size_t)n, &c->t[c->n]) == 0)
            c->n++;
    }
    free(line);
    fclose(f);
    char name[4200];
    snprintf(name, sizeof name, "%s: %zu titles", path, c->n);
    c->name = oc_strdup(name);
    return c->n ? 0 : -1;
}

void bench_corpus_free(struct bench_corpus *c)
{
    for (size_t i = 0; i < c->nchunks; i++)
        free(c->chunks[i]);
    free(c->chunks);
    free(c->t);
    free(c->name);
    memset(c, 0, sizeof *c);
}

/* Splits a '|' list into out (copies in buf). */
static int split(const char *s, char *buf, size_t n, const char **out)
{
    int k = 0;
    if (!s)
        return 0;
    snprintf(buf, n, "%s", s);
    for (char *p = buf; p && *p && k < SEARCH_LIST_MAX; k++) {
        out[k] = p;
        if ((p = strchr(p, '|')))
            *p++ = 0;
    }
    return k;
}

int bench_put(struct search_index *x, const struct bench_title *b)
{
    struct search_title t;
    char pb[4096], gb[1024], rb[1024], eb[1024];
    memset(&t, 0, sizeof t);
    t.id = b->id, t.title = b->title, t.description = b->desc, t.language = b->language;
    t.year = b->year, t.kind = b->kind, t.popularity = b->pop;
    t.npeople = split(b->people, pb, sizeof pb, t.people);
    t.ngenres = split(b->genres, gb, sizeof gb, t.genres);
    t.nregions = split(b->regions, rb, sizeof rb, t.regions);
    t.nentitlements = split(b->ents, eb, sizeof eb, t.entitlements);
    return search_index_put(x, &t);
}
