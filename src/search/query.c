/*
 * query.c - runs a search over the index: expands each query word into terms (exact,
 * synonyms, typos through the delete dictionary, prefixes of the last word), walks the
 * rarest required word's postings into candidates, checks the other words against them
 * (scanning short posting lists, galloping through long ones), then scores, ranks and counts
 * facets. The formula is in docs/internals/search.md.
 */
#include "search/search_int.h"
#include "core/alloc.h"
#include "core/err.h"

#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXP_MAX      64    /* terms one query word expands to */
#define TYPO_CANDS   256   /* typo candidates checked per word */
#define PREFIX_TERMS 24    /* most frequent completions of the last word (of 3+ bytes) */
#define TYPO_SKIP_DF 1000  /* a word found as typed in this many titles is not corrected */
#define PREFIX_SCAN  50000 /* terms looked at for completions */
#define FACET_EXACT  2000  /* matches past which facets are counted on a sample */
#define PTYPO_TERMS  8     /* completions of the last word's one-edit variants */
#define PTYPO_SCAN   256   /* terms looked at per variant */

/* One term a query word matches, with the quality of the match. */
struct exp {
    uint32_t term;
    float q;
};

struct word {
    struct exp e[EXP_MAX];
    int n;
    uint32_t terms[EXP_MAX]; /* the terms, sorted, for the phrase check */
    uint64_t df;             /* postings over the expansions */
    int required;
};

/* A candidate document. */
struct cand {
    uint32_t doc;
    float sum;      /* best match of each word so far, added */
    float cur;      /* best match of the current word */
    uint16_t mask;  /* words matched */
    uint16_t tmask; /* words matched in the title */
    uint8_t curt;   /* the current word matched in the title */
    uint8_t ntm;    /* words matched in the title, an optional article left out */
};

/* Resolved filters: tag ids (-1: any). */
struct filt {
    int genre, lang, region, ent, kind, ymin, ymax;
};

/* What one run holds. */
struct run {
    const struct search_index *x;
    const struct search_query *q;
    const struct search_weights *w;
    struct word *words;
    struct cand *c;
    size_t nc, ccap;
    struct filt f;
    int tier;        /* 0: titles, alternative titles, people; 1: descriptions too */
    int ranged;      /* 1: postings are read in the document range [lo, hi) only */
    uint32_t lo, hi; /* see ranged */
    double rec[SEARCH_YEAR_MAX - SEARCH_YEAR_MIN + 1]; /* recency by year, this query's */
    double pop_scale;                                  /* 1 / the largest sfeat.lpop */
    double inv_norm;                                   /* 1 / (words + phrase + coverage) */
};

static void exp_add(struct word *w, uint32_t t, float q)
{
    for (int i = 0; i < w->n; i++)
        if (w->e[i].term == t) {
            if (q > w->e[i].q)
                w->e[i].q = q;
            return;
        }
    if (w->n < EXP_MAX)
        w->e[w->n++] = (struct exp){t, q};
}

/* A typo candidate. */
struct tc {
    uint32_t term;
    int dist;
    uint32_t df;
};

static int cmp_tc(const void *a, const void *b)
{
    const struct tc *x = a, *y = b;
    if (x->dist != y->dist)
        return x->dist - y->dist;
    if (x->df != y->df)
        return x->df > y->df ? -1 : 1;
    return x->term < y->term ? -1 : x->term > y->term;
}

/* Adds term t as a typo candidate of s (n bytes) when within d edits. */
static void typo_check(const struct search_index *x, uint32_t t, const char *s, size_t n, int d,
                       struct tc *c, int *nc)
{
    for (int i = 0; i < *nc; i++)
        if (c[i].term == t)
            return;
    if (*nc >= TYPO_CANDS)
        return;
    int dist = search_distance(s, n, search_term_str(x, t), x->terms[t].len, d);
    if (dist >= 1 && dist <= d)
        c[(*nc)++] = (struct tc){t, dist, STERM_DF(&x->terms[t])};
}

/* Looks up one variant v (n bytes) of the query word s: as a term, and in the delete
 * dictionary. */
static void typo_variant(const struct search_index *x, const char *v, size_t vn, const char *s,
                         size_t n, int d, struct tc *c, int *nc)
{
    uint32_t t = search_term_find(x, v, vn);
    if (t != UINT32_MAX)
        typo_check(x, t, s, n, d, c, nc);
    uint32_t h = (uint32_t)search_hash(v, vn);
    for (uint32_t e = x->del.heads[h & (x->del.nheads - 1)]; e; e = x->del.e[e - 1].next)
        if (x->del.e[e - 1].h == h)
            typo_check(x, x->del.e[e - 1].term, s, n, d, c, nc);
}

/* Expands word s (canonical) by typos: 1 edit for 4 to 7 bytes, 2 for 8 and more. */
static void expand_typos(const struct run *r, struct word *w, const char *s)
{
    size_t n = strlen(s);
    int d = search_typos_for(n);
    struct tc c[TYPO_CANDS];
    char v[SEARCH_TOKEN_MAX], v2[SEARCH_TOKEN_MAX];
    int nc = 0;
    if (d == 0 || strspn(s, "0123456789") == n)
        return;
    typo_variant(r->x, s, n, s, n, d, c, &nc);
    for (size_t i = 0; i < n; i++) {
        memcpy(v, s, i);
        memcpy(v + i, s + i + 1, n - i - 1);
        typo_variant(r->x, v, n - 1, s, n, d, c, &nc);
        for (size_t j = i; d == 2 && j < n - 1; j++) {
            memcpy(v2, v, j);
            memcpy(v2 + j, v + j + 1, n - 2 - j);
            typo_variant(r->x, v2, n - 2, s, n, d, c, &nc);
        }
    }
    qsort(c, (size_t)nc, sizeof c[0], cmp_tc);
    for (int i = 0; i < nc; i++)
        exp_add(w, c[i].term, (float)(c[i].dist == 1 ? r->w->q_typo1 : r->w->q_typo2));
}

int search_exhaustive;
uint32_t search_ranged_min = 32768;
uint32_t search_range_docs = 65536;
uint32_t search_prefix_title_cands =
    4000; /* candidates whose titles are read for rarer completions */

/* Keeps term t in the top max completions (more postings first, then bytes). */
static void prefix_keep(const struct search_index *x, uint32_t t, uint32_t *top, int *n, int max)
{
    int full = *n == max, i = full ? max - 1 : (*n)++;
    if (!STERM_DF(&x->terms[t]) || (full && !search_term_before(x, t, top[i]))) {
        *n -= !full;
        return;
    }
    top[i] = t;
    for (; i > 0 && search_term_before(x, top[i], top[i - 1]); i--) {
        uint32_t k = top[i];
        top[i] = top[i - 1];
        top[i - 1] = k;
    }
}

/* Expands the last word p by its most frequent completions: for 1 or 2 bytes, the index's
 * kept lists; from 3 bytes, a scan of the byte-ordered terms from the prefix on. */
static void expand_prefix(const struct run *r, struct word *w, const char *p)
{
    const struct search_index *x = r->x;
    size_t pl = strlen(p), lo = 0, hi = x->nsorted;
    uint32_t top[PREFIX_TERMS];
    int n = 0, max = pl == 1 ? SPTOP_1 : pl == 2 ? SPTOP_2 : PREFIX_TERMS;
    size_t scan = pl <= 2 ? SIZE_MAX : PREFIX_SCAN;
    if (pl == 0)
        return;
    if (pl <= 2 && !search_exhaustive) {
        const uint32_t *k = search_ptop(x, p, pl);
        for (; n < max && k[n]; n++)
            top[n] = k[n] - 1;
    } else {
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            if (strcmp(search_term_str(x, x->sorted[mid]), p) < 0)
                lo = mid + 1;
            else
                hi = mid;
        }
        for (size_t i = lo, k = 0; i < x->nsorted && k < scan; i++, k++) {
            if (strncmp(search_term_str(x, x->sorted[i]), p, pl) != 0)
                break;
            prefix_keep(x, x->sorted[i], top, &n, max);
        }
        for (uint32_t t = x->nsorted; t < x->nterms; t++)
            if (strncmp(search_term_str(x, t), p, pl) == 0)
                prefix_keep(x, t, top, &n, max);
    }
    for (int i = 0; i < n; i++) {
        double share = (double)pl / x->terms[top[i]].len;
        exp_add(w, top[i], (float)(r->w->q_prefix + (r->w->q_exact - r->w->q_prefix) * share));
    }
}

/* Adds to top (n of max) the completions of prefix v (vn bytes) in the sorted terms, looking
 * at PTYPO_SCAN of them at most. */
static void prefix_range(const struct search_index *x, const char *v, size_t vn, uint32_t *top,
                         int *n, int max)
{
    size_t lo = 0, hi = x->nsorted;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        const char *t = search_term_str(x, x->sorted[mid]);
        if (strncmp(t, v, vn) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (size_t i = lo, k = 0; i < x->nsorted && k < PTYPO_SCAN; i++, k++) {
        if (strncmp(search_term_str(x, x->sorted[i]), v, vn) != 0)
            break;
        prefix_keep(x, x->sorted[i], top, n, max);
    }
}

/* 1 when term t starts with a string within one edit of p (pl bytes): its first pl - 1, pl
 * or pl + 1 bytes are. */
static int prefix_near(const struct search_index *x, uint32_t t, const char *p, size_t pl)
{
    const char *s = search_term_str(x, t);
    size_t tl = x->terms[t].len;
    for (size_t k = pl - 1; k <= pl + 1; k++)
        if (k <= tl && search_distance(p, pl, s, k, 1) <= 1)
            return 1;
    return 0;
}

/* Typos inside the completed last word p (as typed, pl >= SEARCH_PTYPO_MIN bytes): the
 * completions of every string one edit from p that keeps its first byte (a deletion, a
 * transposition, a substitution or an insertion of [a-z0-9]), the PTYPO_TERMS most frequent,
 * each at the one-edit quality times its completion's. Called only when nothing else matched
 * the word (no term, synonym, completion or whole-word typo), so a query that found anything
 * before finds the same. */
static void expand_prefix_typos(const struct run *r, struct word *w, const char *p)
{
    const struct search_index *x = r->x;
    static const char alpha[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    size_t pl = strlen(p);
    uint32_t top[PTYPO_TERMS];
    char v[SEARCH_TOKEN_MAX + 2];
    int n = 0;
    if (pl < SEARCH_PTYPO_MIN || pl + 1 >= sizeof v || strspn(p, "0123456789") == pl)
        return;
    for (size_t i = 1; i < pl; i++) { /* deletions, transpositions */
        memcpy(v, p, i);
        memcpy(v + i, p + i + 1, pl - i - 1);
        prefix_range(x, v, pl - 1, top, &n, PTYPO_TERMS);
        if (i + 1 < pl) {
            memcpy(v, p, pl);
            v[i] = p[i + 1];
            v[i + 1] = p[i];
            prefix_range(x, v, pl, top, &n, PTYPO_TERMS);
        }
    }
    for (size_t i = 1; i <= pl; i++) /* substitutions (i < pl), insertions */
        for (const char *a = alpha; *a; a++) {
            if (i < pl && *a != p[i]) {
                memcpy(v, p, pl);
                v[i] = *a;
                prefix_range(x, v, pl, top, &n, PTYPO_TERMS);
            }
            memcpy(v, p, i);
            v[i] = *a;
            memcpy(v + i + 1, p + i, pl - i);
            prefix_range(x, v, pl + 1, top, &n, PTYPO_TERMS);
        }
    for (uint32_t t = x->nsorted; t < x->nterms; t++) /* the unsorted tail */
        if (search_term_str(x, t)[0] == p[0] && prefix_near(x, t, p, pl))
            prefix_keep(x, t, top, &n, PTYPO_TERMS);
    for (int i = 0; i < n; i++) {
        double share = (double)pl / x->terms[top[i]].len;
        if (share > 1)
            share = 1;
        double pq = r->w->q_prefix + (r->w->q_exact - r->w->q_prefix) * share;
        exp_add(w, top[i], (float)(r->w->q_typo1 * pq / r->w->q_exact));
    }
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* Builds the expansions of every word. */
static void expand_all(struct run *r, const struct search_synonyms *syn)
{
    const struct search_query *q = r->q;
    for (int i = 0; i < q->nw; i++) {
        struct word *w = &r->words[i];
        uint32_t t = search_term_find(r->x, q->w[i], strlen(q->w[i]));
        w->required = !(i == 0 && q->optional0);
        if (t != UINT32_MAX)
            exp_add(w, t, (float)r->w->q_exact);
        for (int k = 0; syn && k < syn->n; k++)
            if (strcmp(syn->a[k], q->w[i]) == 0 &&
                (t = search_term_find(r->x, syn->b[k], strlen(syn->b[k]))) != UINT32_MAX)
                exp_add(w, t, (float)r->w->q_syn);
        if (i == q->nw - 1 && q->prefix)
            expand_prefix(r, w, q->last_raw);
        t = search_term_find(r->x, q->w[i], strlen(q->w[i]));
        if (t == UINT32_MAX || STERM_DF(&r->x->terms[t]) < TYPO_SKIP_DF)
            expand_typos(r, w, q->w[i]);
        if (i == q->nw - 1 && q->prefix && w->n == 0) /* nothing else: a typo in the prefix */
            expand_prefix_typos(r, w, q->last_raw);
        for (int k = 0; k < w->n; k++)
            w->terms[k] = w->e[k].term;
        qsort(w->terms, (size_t)w->n, sizeof w->terms[0], cmp_u32);
    }
}

/* Resolves the tag filters; -1 when a filter names a value no title has. */
static int resolve_filters(struct run *r)
{
    const struct search_query *q = r->q;
    struct filt *f = &r->f;
    f->genre = f->lang = f->region = f->ent = -1;
    f->kind = q->kind;
    f->ymin = q->year_min;
    f->ymax = q->year_max;
    const char *vals[] = {q->genre, q->language, q->region, q->entitlement};
    int *outs[] = {&f->genre, &f->lang, &f->region, &f->ent};
    const int kinds[] = {TAG_GENRE, TAG_LANG, TAG_REGION, TAG_ENT};
    for (int i = 0; i < 4; i++)
        if (vals[i][0] && (*outs[i] = search_tag_find(r->x, kinds[i], vals[i])) < 0)
            return -1;
    return 0;
}

/* 1 when tag id is among the n tags at t. */
static int has_tag(const uint16_t *t, int n, int id)
{
    for (int i = 0; i < n; i++)
        if (t[i] == id)
            return 1;
    return 0;
}

/* 1 when document d passes the filters. */
static int passes(const struct sdoc *d, const struct filt *f)
{
    if (!d->blob || (f->kind >= 0 && d->kind != f->kind) || (f->ymin && d->year < f->ymin) ||
        (f->ymax && (d->year == 0 || d->year > f->ymax)) ||
        (f->lang >= 0 && d->lang != f->lang + 1))
        return 0;
    const uint16_t *t = sdoc_tags(d);
    return (f->genre < 0 || has_tag(t, d->ngenre, f->genre)) &&
           (f->region < 0 || has_tag(t + d->ngenre, d->nregion, f->region)) &&
           (f->ent < 0 || has_tag(t + d->ngenre + d->nregion, d->nent, f->ent));
}

/* The weight of the best field among the bits of f. */
static float field_weight(const struct search_weights *w, uint32_t f)
{
    return (float)((f & SF_TITLE)    ? w->f_title
                   : (f & SF_ALT)    ? w->f_alt
                   : (f & SF_PEOPLE) ? w->f_people
                                     : w->f_desc);
}

static void credit(struct run *r, struct cand *c, uint32_t post, float q)
{
    float s = q * field_weight(r->w, post & 15u);
    if (s > c->cur)
        c->cur = s;
    if (post & SF_TITLE)
        c->curt = 1;
}

/* Buffers one thread's searches reuse (candidates, sort keys), so that a search of many
 * candidates does not fault in fresh pages each time; given back after a search that needed
 * more than SCRATCH_KEEP of them. */
#define SCRATCH_KEEP (256u * 1024u)
static _Thread_local struct {
    struct cand *c;
    uint64_t *k, *tmp;
    size_t ccap, kcap, tcap;
} scratch;

/* A bit per document: the matches of a ranged search (thread's own, as the scratch). */
static _Thread_local struct {
    uint64_t *w;
    size_t cap;
} mbits;

/* A thread's buffers are given back when it ends (an HTTP worker at stop): the key's
 * destructor runs while the thread's own storage is still there. */
static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;

static void scratch_free(void *unused)
{
    (void)unused;
    free(scratch.c);
    free(scratch.k);
    free(scratch.tmp);
    memset(&scratch, 0, sizeof scratch);
    free(mbits.w);
    memset(&mbits, 0, sizeof mbits);
}

static int scratch_keyed; /* 0: no key (the process ran out): buffers live as long as it */

static void scratch_key_make(void)
{
    scratch_keyed = pthread_key_create(&scratch_key, scratch_free) == 0;
}

/* Registers the calling thread's buffers to be freed when it ends (once per thread). */
static void scratch_hold(void)
{
    pthread_once(&scratch_once, scratch_key_make);
    if (scratch_keyed && !pthread_getspecific(scratch_key))
        pthread_setspecific(scratch_key, &scratch);
}

static void scratch_trim(void)
{
    if (scratch.ccap > SCRATCH_KEEP || scratch.kcap > SCRATCH_KEEP || scratch.tcap > SCRATCH_KEEP) {
        free(scratch.c);
        free(scratch.k);
        free(scratch.tmp);
        memset(&scratch, 0, sizeof scratch);
    }
    if (mbits.cap > SCRATCH_KEEP) {
        free(mbits.w);
        memset(&mbits, 0, sizeof mbits);
    }
}

/* Sorts n keys by their high 32 bits (the document, below ndocs) in passes of 11 bits, as
 * many as ndocs needs (two up to 4M documents), between k and tmp (n keys each); the buffer
 * that holds the sorted keys. */
static uint64_t *radix_docs(uint64_t *k, uint64_t *tmp, size_t n, uint32_t ndocs)
{
    uint32_t cnt[2048];
    int bits = 1;
    while (bits < 32 && (ndocs >> bits))
        bits++;
    for (int sh = 32; sh < 32 + bits; sh += 11) {
        memset(cnt, 0, sizeof cnt);
        for (size_t i = 0; i < n; i++)
            cnt[(k[i] >> sh) & 2047]++;
        for (uint32_t i = 0, sum = 0; i < 2048; i++) {
            uint32_t c = cnt[i];
            cnt[i] = sum;
            sum += c;
        }
        for (size_t i = 0; i < n; i++)
            tmp[cnt[(k[i] >> sh) & 2047]++] = k[i];
        uint64_t *t = k;
        k = tmp;
        tmp = t;
    }
    return k;
}

/* The first posting of l at or after document doc. */
static uint32_t post_lower(const struct splist *l, uint32_t doc)
{
    uint32_t lo = 0, hi = l->n, key = doc << SP_SHIFT;
    if (doc >= (UINT32_MAX >> SP_SHIFT))
        return l->n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (l->p[mid] < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* The part of l in the run's document range (all of it outside a ranged search). */
static struct splist in_range(const struct run *r, const struct splist *l)
{
    if (!r->ranged)
        return *l;
    uint32_t a = post_lower(l, r->lo), b = post_lower(l, r->hi);
    return (struct splist){l->p + a, b - a, 0};
}

/* Walks the postings of the driving word into candidates in document order (filters apply
 * when ranking): each posting as (document, its credit, the title bit), sorted, merged. */
static void drive(struct run *r, const struct word *w)
{
    size_t n = 0;
    for (int e = 0; e < w->n; e++)
        for (int li = 0; li <= r->tier; li++)
            n += in_range(r, &r->x->terms[w->e[e].term].l[li]).n;
    scratch.k = oc_grow(scratch.k, &scratch.kcap, n + 1, sizeof *scratch.k);
    uint64_t *k = scratch.k;
    n = 0;
    for (int e = 0; e < w->n; e++)
        for (int li = 0; li <= r->tier; li++) {
            const struct splist v = in_range(r, &r->x->terms[w->e[e].term].l[li]), *l = &v;
            for (uint32_t i = 0; i < l->n; i++) {
                float c = w->e[e].q * field_weight(r->w, l->p[i] & 15u);
                k[n++] = (uint64_t)(l->p[i] >> SP_SHIFT) << 32 | (uint32_t)(c * (1 << 24)) << 1 |
                         ((l->p[i] & SF_TITLE) != 0);
            }
        }
    if (w->n > 1 || r->tier) {
        scratch.tmp = oc_grow(scratch.tmp, &scratch.tcap, n + 1, sizeof *scratch.tmp);
        k = radix_docs(k, scratch.tmp, n, r->x->ndocs);
    }
    r->c = scratch.c = oc_grow(scratch.c, &scratch.ccap, n + 1, sizeof *scratch.c);
    r->ccap = scratch.ccap;
    for (size_t i = 0; i < n;) {
        uint32_t doc = (uint32_t)(k[i] >> 32), best = 0, t = 0;
        for (; i < n && (uint32_t)(k[i] >> 32) == doc; i++) {
            uint32_t v = (uint32_t)k[i];
            best = v >> 1 > best ? v >> 1 : best;
            t |= v & 1;
        }
        r->c[r->nc++] =
            (struct cand){.doc = doc, .cur = (float)best / (1 << 24), .curt = (uint8_t)t};
    }
}

/* The first candidate at or after from whose document is at least doc (galloping). */
static size_t cand_seek(const struct run *r, size_t from, uint32_t doc)
{
    size_t step = 1, lo = from, hi;
    while (lo + step < r->nc && r->c[lo + step].doc < doc)
        lo += step, step *= 2;
    hi = lo + step < r->nc ? lo + step : r->nc;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (r->c[mid].doc < doc)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* The first posting at or after from whose key is at least key (galloping). */
static uint32_t post_seek(const struct splist *t, uint32_t from, uint32_t key)
{
    uint32_t step = 1, lo = from, hi;
    while (lo + step < t->n && t->p[lo + step] < key)
        lo += step, step *= 2;
    hi = lo + step < t->n ? lo + step : t->n;
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        if (t->p[mid] < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Credits the candidates (in document order) that the posting list t (quality q) holds:
 * galloping through the candidates for a short list, through the list for a long one,
 * merging the two when their sizes are near. */
static void check_term(struct run *r, const struct splist *t, float q)
{
    uint32_t pos = 0;
    size_t i = 0;
    if ((size_t)t->n * 8 < r->nc) {
        for (uint32_t k = 0; k < t->n && i < r->nc; k++) {
            i = cand_seek(r, i, t->p[k] >> SP_SHIFT);
            if (i < r->nc && r->c[i].doc == t->p[k] >> SP_SHIFT)
                credit(r, &r->c[i], t->p[k], q);
        }
    } else if ((size_t)t->n <= 8 * r->nc + 64) {
        for (; i < r->nc && pos < t->n; i++) {
            uint32_t key = r->c[i].doc << SP_SHIFT;
            while (pos < t->n && t->p[pos] < key)
                pos++;
            if (pos < t->n && (t->p[pos] >> SP_SHIFT) == r->c[i].doc)
                credit(r, &r->c[i], t->p[pos], q);
        }
    } else {
        for (; i < r->nc && pos < t->n; i++) {
            pos = post_seek(t, pos, r->c[i].doc << SP_SHIFT);
            if (pos < t->n && (t->p[pos] >> SP_SHIFT) == r->c[i].doc)
                credit(r, &r->c[i], t->p[pos], q);
        }
    }
}

/* Closes word k: adds each candidate's best match; drops those missing a required word. */
static void close_word(struct run *r, int k, int required)
{
    size_t out = 0;
    for (size_t i = 0; i < r->nc; i++) {
        struct cand c = r->c[i];
        if (c.cur > 0) {
            c.sum += c.cur;
            c.mask |= (uint16_t)(1u << k);
            if (c.curt) {
                c.tmask |= (uint16_t)(1u << k);
                c.ntm += !(k == 0 && r->q->optional0);
            }
        }
        c.cur = 0;
        c.curt = 0;
        if (!required || (c.mask & (1u << k)))
            r->c[out++] = c;
    }
    r->nc = out;
}

/* 1 when term t is among the word's terms. */
static int word_has(const struct word *w, uint32_t t)
{
    int lo = 0, hi = w->n;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (w->terms[mid] < t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < w->n && w->terms[lo] == t;
}

/* 1 when the title of d holds words [from, nw) consecutively. */
static int phrase_in(const struct sdoc *d, const struct word *w, int from, int nw)
{
    const uint32_t *t = sdoc_toks(d);
    int len = nw - from;
    for (int j = 0; j + len <= d->ntok; j++) {
        int k = 0;
        while (k < len && word_has(&w[from + k], t[j + k]))
            k++;
        if (k == len)
            return 1;
    }
    return 0;
}

/* The recency of a year: 1 this year, 1/2 after the half-life, 0 unknown. */
static double recency(const struct search_weights *w, int year, int now_year)
{
    if (!year)
        return 0;
    double age = now_year > year ? now_year - year : 0;
    return 1 / (1 + age / w->recency_half_life_y);
}

/* The score of candidate c (docs/internals/search.md). The phrase, which reads the title,
 * is checked only when it could lift the score to floor (the lowest hit kept so far). */
static double score(const struct run *r, const struct cand *c, double floor)
{
    const struct search_weights *w = r->w;
    const struct sfeat *f = &r->x->feat[c->doc];
    int nw = r->q->nw, from = r->q->optional0 && !(c->mask & 1u) ? 1 : 0;
    double cover = f->ntitle > c->ntm ? (double)c->ntm / f->ntitle : f->ntitle ? 1 : 0;
    double s = w->text * (c->sum + w->coverage * cover) * r->inv_norm +
               w->popularity * f->lpop * r->pop_scale +
               w->recency * (f->year ? r->rec[f->year - SEARCH_YEAR_MIN] : 0);
    double gain = w->text * w->phrase * r->inv_norm;
    uint32_t need = ((1u << (nw - from)) - 1) << from; /* the phrase's words, all in the title */
    if (nw - from >= 2 && (c->tmask & need) == need && s + gain >= floor &&
        phrase_in(&r->x->docs[c->doc], r->words, from, nw))
        s += gain;
    return s;
}

/* 1 when hit a ranks below hit b: lower score, or the same score and a later id. */
static int below(const struct search_index *x, const struct search_hit *a,
                 const struct search_hit *b)
{
    if (a->score != b->score)
        return a->score < b->score;
    return strcmp(sdoc_id(&x->docs[a->doc]), sdoc_id(&x->docs[b->doc])) > 0;
}

/* Offers h to the heap of the best limit hits (its root is the lowest). */
static void heap_offer(const struct search_index *x, struct search_hit *hp, int *n, int limit,
                       struct search_hit h)
{
    int i;
    if (*n < limit) {
        for (i = (*n)++; i > 0 && below(x, &h, &hp[(i - 1) / 2]); i = (i - 1) / 2)
            hp[i] = hp[(i - 1) / 2];
        hp[i] = h;
        return;
    }
    if (!below(x, &hp[0], &h))
        return;
    for (i = 0;;) {
        int l = 2 * i + 1, m = l;
        if (l >= *n)
            break;
        if (l + 1 < *n && below(x, &hp[l + 1], &hp[l]))
            m = l + 1;
        if (!below(x, &hp[m], &h))
            break;
        hp[i] = hp[m];
        i = m;
    }
    hp[i] = h;
}

/* A ranking block holding candidates: its first candidate and the best score any of them
 * could reach. */
struct bub {
    uint32_t start;
    double ub;
};

#define SEED_BLOCKS 8 /* blocks of the best bounds, ranked first to raise the floor */

/* The best score a candidate of block b with text sum at most sum could reach. */
static double block_bound(const struct run *r, uint32_t b, float sum)
{
    const struct search_weights *w = r->w;
    const struct sblock *k = &r->x->blocks[b];
    int nw = r->q->nw;
    double text = (sum + (nw >= 2 ? w->phrase : 0) + w->coverage) / (nw + w->phrase + w->coverage);
    return w->text * text + w->popularity * k->lpop * r->pop_scale +
           w->recency * (k->year ? r->rec[k->year - SEARCH_YEAR_MIN] : 0) + 1e-9;
}

/* Offers the candidates [from, to) to the hits. */
static void rank_run(struct run *r, size_t from, size_t to, struct search_hit *heap, int *n)
{
    for (size_t j = from; j < to; j++) {
        const struct cand *c = &r->c[j];
        double floor = *n == r->q->limit && !search_exhaustive ? heap[0].score : -1;
        if (!search_doc_dead(r->x, c->doc))
            heap_offer(r->x, heap, n, r->q->limit, (struct search_hit){c->doc, score(r, c, floor)});
    }
}

/* Ranks the candidates (no filters) block by block: first the SEED_BLOCKS blocks of the best
 * bounds, then the others in order, skipping those whose bound is below the lowest hit once
 * the hits are full. */
static void rank_blocks(struct run *r, struct search_hit *heap, int *n)
{
    struct bub *bl = NULL;
    size_t nbl = 0, cap = 0, seed[SEED_BLOCKS];
    int nseed = 0;
    for (size_t i = 0; i < r->nc;) { /* candidates are in document order: blocks are runs */
        uint32_t b = r->c[i].doc >> SBLOCK_SHIFT;
        float maxsum = 0;
        bl = oc_grow(bl, &cap, nbl + 2, sizeof *bl);
        bl[nbl].start = (uint32_t)i;
        for (; i < r->nc && r->c[i].doc >> SBLOCK_SHIFT == b; i++)
            maxsum = r->c[i].sum > maxsum ? r->c[i].sum : maxsum;
        bl[nbl].ub = block_bound(r, b, maxsum);
        if (nseed < SEED_BLOCKS || bl[seed[nseed - 1]].ub < bl[nbl].ub) { /* the best bounds */
            int k = nseed < SEED_BLOCKS ? nseed++ : SEED_BLOCKS - 1;
            for (; k > 0 && bl[seed[k - 1]].ub < bl[nbl].ub; k--)
                seed[k] = seed[k - 1];
            seed[k] = nbl;
        }
        nbl++;
    }
    if (bl)
        bl[nbl].start = (uint32_t)r->nc;
    for (int s = 0; s < nseed; s++) {
        rank_run(r, bl[seed[s]].start, bl[seed[s] + 1].start, heap, n);
        bl[seed[s]].ub = -1; /* done */
    }
    for (size_t i = 0; i < nbl; i++) {
        if (bl[i].ub < 0 || (!search_exhaustive && *n == r->q->limit && bl[i].ub < heap[0].score))
            continue;
        rank_run(r, bl[i].start, bl[i + 1].start, heap, n);
    }
    free(bl);
}

/* Counts the facets and the total; past FACET_EXACT candidates the facets are counted on an
 * even sample and scaled. With filters, also ranks (every candidate is read anyway). */
static void count_all(struct run *r, struct search_counts *k, int filtered, struct search_hit *heap,
                      int *n, struct search_result *out)
{
    size_t step = r->nc > FACET_EXACT ? (r->nc + FACET_EXACT - 1) / FACET_EXACT : 1;
    size_t since = step - 1; /* matches since the last one counted: the first is counted */
    for (size_t i = 0; i < r->nc; i++) {
        const struct sdoc *d = &r->x->docs[r->c[i].doc];
        if (filtered) {
            if (!passes(d, &r->f))
                continue;
            double floor = *n == r->q->limit && !search_exhaustive ? heap[0].score : -1;
            heap_offer(r->x, heap, n, r->q->limit,
                       (struct search_hit){r->c[i].doc, score(r, &r->c[i], floor)});
        } else if (search_doc_dead(r->x, r->c[i].doc)) {
            continue;
        }
        if (k && ++since == step) { /* every step-th match */
            search_count_doc(r->x, r->c[i].doc, k);
            since = 0;
        }
        out->total++;
    }
    out->facets_sampled = step > 1;
    if (k && step > 1)
        search_counts_scale(r->x, k, (uint32_t)step);
}

static void hits_out(struct run *r, struct search_hit *heap, int n, struct search_counts *k,
                     struct search_result *out);

/* 1 when the query has filters. */
static int filtered(const struct run *r)
{
    const struct filt *f = &r->f;
    return f->genre >= 0 || f->lang >= 0 || f->region >= 0 || f->ent >= 0 || f->kind >= 0 ||
           f->ymin || f->ymax;
}

/* Facet counters for the tags of x, or NULL without facets. */
static struct search_counts *counts_new(const struct run *r)
{
    struct search_counts *k = r->q->facets ? oc_calloc(1, sizeof *k) : NULL;
    if (k) {
        k->genre = oc_calloc(r->x->tags[TAG_GENRE].n + 1, sizeof *k->genre);
        k->lang = oc_calloc(r->x->tags[TAG_LANG].n + 1, sizeof *k->lang);
    }
    return k;
}

/* Scores the surviving candidates into the hits and counts the facets. */
static void rank(struct run *r, struct search_result *out)
{
    struct search_hit heap[SEARCH_LIMIT_MAX];
    int n = 0, filt = filtered(r);
    struct search_counts *k = counts_new(r);
    count_all(r, k, filt, heap, &n, out);
    if (!filt)
        rank_blocks(r, heap, &n);
    hits_out(r, heap, n, k, out);
}

/* Moves the heap of n hits into out in order, and the facet counts k (freed). */
static void hits_out(struct run *r, struct search_hit *heap, int n, struct search_counts *k,
                     struct search_result *out)
{
    for (out->nhits = n; n > 0; n--) { /* pop the lowest to the back */
        struct search_hit low = heap[0];
        heap[0] = heap[n - 1];
        int m = n - 1, i = 0;
        for (;;) {
            int l = 2 * i + 1, c = l;
            if (l >= m)
                break;
            if (l + 1 < m && below(r->x, &heap[l + 1], &heap[l]))
                c = l + 1;
            if (!below(r->x, &heap[c], &heap[i]))
                break;
            struct search_hit s = heap[i];
            heap[i] = heap[c];
            heap[c] = s;
            i = c;
        }
        out->hits[n - 1] = low;
    }
    if (k) {
        search_facets_out(r->x, k, out);
        free(k->genre);
        free(k->lang);
        free(k);
    }
}

/* Credits the candidates not yet matching the last word p whose title has a word beginning
 * with it: completions rarer than the ones expanded, read from the few titles left. */
static void prefix_in_titles(struct run *r, const char *p)
{
    size_t pl = strlen(p);
    if (!pl || r->nc > search_prefix_title_cands)
        return;
    for (size_t i = 0; i < r->nc; i++) {
        const struct sdoc *d = &r->x->docs[r->c[i].doc];
        if (r->c[i].cur > 0 || !d->blob)
            continue;
        for (int j = 0; j < d->ntok; j++) {
            const struct sterm *t = &r->x->terms[sdoc_toks(d)[j]];
            if (t->len >= pl && memcmp(r->x->pool + t->str, p, pl) == 0)
                credit(r, &r->c[i], SF_TITLE,
                       (float)(r->w->q_prefix +
                               (r->w->q_exact - r->w->q_prefix) * (double)pl / t->len));
        }
    }
}

/* The postings of word i, counted 8 times over for the completed last word pw: its
 * completions are only the most frequent, so it drives only when far rarer than the others. */
static uint64_t weight(const struct run *r, int i, int pw)
{
    return i == pw ? r->words[i].df * 8 : r->words[i].df;
}

/* Runs the words against the candidates: the driver (the required word with the fewest
 * postings, see weight) first, the completed last word last. */
static int pick(struct run *r, int *pw_out, int *nreq_out)
{
    int nw = r->q->nw, drv = -1, nreq = 0;
    for (int i = 0; i < nw; i++)
        nreq += r->words[i].required;
    int pw = r->q->prefix && nreq >= 2 ? nw - 1 : -1; /* the completed word goes last */
    for (int i = 0; i < nw; i++) {
        struct word *w = &r->words[i];
        w->df = 0;
        for (int k = 0; k < w->n; k++)
            for (int li = 0; li <= r->tier; li++)
                w->df += r->x->terms[w->e[k].term].l[li].n;
        if (w->required && (drv < 0 || weight(r, i, pw) < weight(r, drv, pw)))
            drv = i;
    }
    *pw_out = pw;
    *nreq_out = nreq;
    return drv;
}

/* Runs the words against the candidates: the driver first, the completed last word pw (when
 * set and not the driver) last. */
static void match_words(struct run *r, int drv, int pw)
{
    drive(r, &r->words[drv]);
    close_word(r, drv, 1);
    for (int i = 0; i < r->q->nw && r->nc; i++) { /* pw, when set, is the last word */
        if (i == drv)
            continue;
        for (int k = 0; k < r->words[i].n; k++)
            for (int li = 0; li <= r->tier; li++) {
                struct splist v = in_range(r, &r->x->terms[r->words[i].e[k].term].l[li]);
                check_term(r, &v, r->words[i].e[k].q);
            }
        if (i == pw) /* not the driver: its rarer completions are looked up in the titles */
            prefix_in_titles(r, r->q->last_raw);
        close_word(r, i, r->words[i].required);
    }
}

/* 1 when the run may be searched in ranges (ranged): its driver has postings past
 * search_ranged_min, titles, alternative titles and people only, no filters, every credit
 * above zero (so that every posting of a word is a match of it). */
static int rangeable(const struct run *r, int drv)
{
    const struct search_weights *w = r->w;
    if (search_exhaustive || r->tier || filtered(r) || r->words[drv].df < search_ranged_min ||
        !(w->f_title > 0 && w->f_alt > 0 && w->f_people > 0))
        return 0;
    for (int i = 0; i < r->q->nw; i++)
        for (int k = 0; k < r->words[i].n; k++)
            if (!(r->words[i].e[k].q > 0))
                return 0;
    return 1;
}

/* Marks the documents of word i (tier 0) in bits (cleared first). */
static void word_bits(const struct run *r, int i, uint64_t *bits, size_t nw64)
{
    const struct word *w = &r->words[i];
    memset(bits, 0, nw64 * sizeof *bits);
    for (int e = 0; e < w->n; e++) {
        const struct splist *l = &r->x->terms[w->e[e].term].l[0];
        for (uint32_t k = 0; k < l->n; k++) {
            uint32_t d = l->p[k] >> SP_SHIFT;
            bits[d >> 6] |= 1ULL << (d & 63);
        }
    }
}

/* A search whose driving word drv matches many titles: the matches (every required word)
 * are marked in a bitmap (their number, and the facets on the same even sample as count_all),
 * then the words are matched and ranked range by range of search_range_docs documents, which
 * come in static order (search_index_compact); it stops before a range when the best score
 * any of its documents or later ones could reach (the best text any candidate can have, the
 * ranges' best popularity and year) is below the lowest hit kept. The same hits as the whole
 * search. 0 without searching when the completed last word pw would look its rarer
 * completions up in the titles (few candidates: the whole search is quick). */
static int ranged(struct run *r, int drv, int pw, struct search_result *out)
{
    const struct search_index *x = r->x;
    const struct search_weights *w = r->w;
    size_t nw64 = ((size_t)x->ndocs + 63) / 64, nc = 0;
    mbits.w = oc_grow(mbits.w, &mbits.cap, 2 * nw64 + 1, sizeof *mbits.w);
    uint64_t *bits = mbits.w, *other = mbits.w + nw64;
    if (pw == drv) /* the driver's completions are not looked up in titles */
        pw = -1;
    word_bits(r, drv, bits, nw64);
    for (int i = 0; i < r->q->nw; i++) { /* the required words but pw */
        if (i == drv || i == pw || !r->words[i].required)
            continue;
        word_bits(r, i, other, nw64);
        for (size_t j = 0; j < nw64; j++)
            bits[j] &= other[j];
    }
    if (pw >= 0) {
        for (size_t j = 0; j < nw64; j++)
            nc += (size_t)__builtin_popcountll(bits[j]);
        if (nc <= search_prefix_title_cands)
            return 0;
        word_bits(r, pw, other, nw64);
        for (size_t j = 0; j < nw64; j++)
            bits[j] &= other[j];
        nc = 0;
    }
    for (size_t i = 0; i < nw64; i++) {
        nc += (size_t)__builtin_popcountll(bits[i]);
        bits[i] &= ~x->dead[i];
        out->total += (uint32_t)__builtin_popcountll(bits[i]);
    }
    struct search_counts *k = counts_new(r);
    size_t step = nc > FACET_EXACT ? (nc + FACET_EXACT - 1) / FACET_EXACT : 1;
    size_t since = step - 1; /* as count_all: every step-th match, the first counted */
    for (size_t i = 0; k && i < nw64; i++) {
        size_t c = (size_t)__builtin_popcountll(bits[i]);
        if (since + c < step) {
            since += c;
            continue;
        }
        for (uint64_t v = bits[i]; v; v &= v - 1)
            if (++since == step) {
                search_count_doc(x, (uint32_t)(i * 64 + (size_t)__builtin_ctzll(v)), k);
                since = 0;
            }
    }
    out->facets_sampled = step > 1;
    if (k && step > 1)
        search_counts_scale(x, k, (uint32_t)step);
    /* the best text any candidate can have: every word at its best quality, best field */
    double fmax = w->f_title > w->f_alt ? w->f_title : w->f_alt, tb = 0;
    fmax = fmax > w->f_people ? fmax : w->f_people;
    for (int i = 0; i < r->q->nw; i++) {
        double best = 0;
        for (int e = 0; e < r->words[i].n; e++)
            best = r->words[i].e[e].q > best ? r->words[i].e[e].q : best;
        tb += best * fmax;
    }
    size_t nbl = ((size_t)x->ndocs + (1u << SBLOCK_SHIFT) - 1) >> SBLOCK_SHIFT;
    double *suf = oc_malloc((nbl + 1) * sizeof *suf);
    suf[nbl] = -1;
    for (size_t b = nbl; b-- > 0;) {
        double ub = block_bound(r, (uint32_t)b, (float)tb + 1e-6f);
        suf[b] = ub > suf[b + 1] ? ub : suf[b + 1];
    }
    struct search_hit heap[SEARCH_LIMIT_MAX];
    int n = 0;
    r->ranged = 1;
    for (uint32_t lo = 0; lo < x->ndocs; lo += search_range_docs) {
        if (n == r->q->limit && suf[lo >> SBLOCK_SHIFT] < heap[0].score)
            break;
        r->lo = lo;
        r->hi = x->ndocs - lo > search_range_docs ? lo + search_range_docs : x->ndocs;
        r->nc = 0;
        match_words(r, drv, -1); /* past search_prefix_title_cands: no titles read */
        rank_blocks(r, heap, &n);
    }
    r->ranged = 0;
    free(suf);
    hits_out(r, heap, n, k, out);
    return 1;
}

/* Runs the words against the candidates, or the whole ranged search (then 1). */
static int match(struct run *r, struct search_result *out)
{
    int pw, nreq, drv = pick(r, &pw, &nreq);
    (void)nreq;
    if (rangeable(r, drv) && ranged(r, drv, pw, out))
        return 1;
    match_words(r, drv, pw);
    return 0;
}

/* Clears the candidates for another tier. */
static void reset(struct run *r)
{
    r->nc = 0;
}

int search_run(const struct search_index *x, const struct search_query *q,
               const struct search_synonyms *syn, const struct search_weights *w, int now_year,
               struct search_result *out)
{
    struct run r = {.x = x, .q = q, .w = w};
    memset(out, 0, sizeof *out);
    if (q->nw == 0 || resolve_filters(&r) != 0)
        return 0;
    r.words = oc_calloc((size_t)q->nw, sizeof *r.words);
    scratch_hold();
    for (int y = SEARCH_YEAR_MIN; y <= SEARCH_YEAR_MAX; y++)
        r.rec[y - SEARCH_YEAR_MIN] = recency(w, y, now_year);
    r.pop_scale = x->max_lpop ? 1.0 / x->max_lpop : 0;
    r.inv_norm = 1 / (q->nw + w->phrase + w->coverage);
    expand_all(&r, syn);
    for (int i = 0; i < q->nw; i++)
        if (r.words[i].required && r.words[i].n == 0)
            goto out;
    for (r.tier = 0; r.tier < 2; r.tier++) { /* descriptions only when titles give too few */
        memset(out, 0, sizeof *out);
        if (!match(&r, out))
            rank(&r, out);
        reset(&r);
        if (out->total >= (uint32_t)q->limit)
            break;
    }
out:
    free(r.words);
    scratch_trim();
    return 0;
}

void search_hit_json(const struct search_index *x, const struct search_hit *h, json_t *out)
{
    const struct sdoc *d = &x->docs[h->doc];
    json_t *o = json_object(), *g = json_array();
    json_object_set_new(o, "id", json_string(sdoc_id(d)));
    json_object_set_new(o, "title", json_string(sdoc_title(d)));
    json_object_set_new(o, "score", json_real(round(h->score * 10000) / 10000));
    if (d->year)
        json_object_set_new(o, "year", json_integer(d->year));
    json_object_set_new(o, "kind", json_string(search_kind_names[d->kind]));
    if (d->lang)
        json_object_set_new(o, "language", json_string(x->tags[TAG_LANG].s[d->lang - 1]));
    for (int i = 0; i < d->ngenre; i++)
        json_array_append_new(g, json_string(x->tags[TAG_GENRE].s[sdoc_tags(d)[i]]));
    json_object_set_new(o, "genres", g);
    json_object_set_new(o, "popularity_from", json_string(d->plays ? "plays" : "field"));
    json_array_append_new(out, o);
}
