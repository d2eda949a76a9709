/*
 * cluster.c - near-duplicate clusters: a 64-bit SimHash of each ticket (normalized word
 * unigrams and bigrams, and its tag tokens weighted more, so that two tickets of one fault
 * written differently still land close), banded LSH (8 bands of 8 bits: two hashes within 7
 * bits always share a band) to find candidate clusters, and incremental assignment: a ticket
 * joins the closest candidate within the threshold whose known tags agree, or starts a
 * cluster. A cluster's representative is its first ticket's hash, so it never drifts.
 */
#include "tickets/tickets.h"
#include "core/alloc.h"
#include "core/err.h"

#include <stdlib.h>
#include <string.h>

#define TAG_WEIGHT 16 /* weight of one tag token against one word token */
#define WORDS_MAX  600
#define STOP_WORDS " the a an and or to is it i my of on in for this that with but be have was "

/* FNV-1a over n bytes, then a final mix so that nearby strings spread over all 64 bits. */
static uint64_t hash64(const char *s, size_t n, uint64_t seed)
{
    uint64_t h = 1469598103934665603ull ^ seed;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ull;
    }
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 33;
    return h;
}

static void add(int32_t v[64], uint64_t h, int w)
{
    for (int b = 0; b < 64; b++)
        v[b] += (h >> b) & 1 ? w : -w;
}

/* 1 when the word (n bytes) is a stop word. */
static int stop(const char *w, size_t n)
{
    char k[16];
    if (n + 2 >= sizeof k)
        return 0;
    k[0] = ' ';
    memcpy(k + 1, w, n);
    k[n + 1] = ' ';
    k[n + 2] = '\0';
    return strstr(STOP_WORDS, k) != NULL;
}

static void add_tag(int32_t v[64], const char *dim, const char *val, int w)
{
    char tok[96];
    if (!val[0])
        return;
    size_t n = (size_t)snprintf(tok, sizeof tok, "%s=%s", dim, val);
    add(v, hash64(tok, n < sizeof tok ? n : sizeof tok - 1, 7), w);
}

uint64_t tickets_simhash(const struct tickets_ticket *t)
{
    static _Thread_local char norm[TICKETS_SUBJECT_MAX + TICKETS_TEXT_MAX + 8];
    char text[TICKETS_SUBJECT_MAX + TICKETS_TEXT_MAX + 4];
    int32_t v[64] = {0};
    const char *prev = NULL;
    size_t plen = 0;
    int words = 0;
    snprintf(text, sizeof text, "%s %s", t->subject, t->body);
    tickets_normalize(text, norm, sizeof norm);
    for (const char *p = norm + 1; *p && words < WORDS_MAX; words++) {
        size_t n = strcspn(p, " ");
        if (!n)
            break;
        if (!stop(p, n)) {
            add(v, hash64(p, n, 1), 1);
            if (prev) { /* the bigram: prev word, space, this word, contiguous or not */
                char bg[128];
                if (plen + n + 1 < sizeof bg) {
                    memcpy(bg, prev, plen);
                    bg[plen] = ' ';
                    memcpy(bg + plen + 1, p, n);
                    add(v, hash64(bg, plen + n + 1, 2), 1);
                }
            }
            prev = p;
            plen = n;
        }
        p += n + 1;
    }
    add_tag(v, "svc", t->tags.service, TAG_WEIGHT);
    add_tag(v, "sym", t->tags.symptom, TAG_WEIGHT);
    add_tag(v, "dev", t->tags.device, TAG_WEIGHT / 4);
    add_tag(v, "reg", t->tags.region, TAG_WEIGHT / 4);
    uint64_t h = 0;
    for (int b = 0; b < 64; b++)
        if (v[b] > 0)
            h |= 1ull << b;
    return h;
}

int tickets_hamming(uint64_t a, uint64_t b)
{
    return __builtin_popcountll(a ^ b);
}

void tickets_clusters_init(struct tickets_clusters *cs, size_t max, int threshold)
{
    memset(cs, 0, sizeof *cs);
    cs->max = max;
    cs->threshold = threshold;
}

void tickets_clusters_free(struct tickets_clusters *cs)
{
    for (int b = 0; b < TICKETS_BANDS; b++)
        for (int i = 0; i <= TICKETS_BAND_MASK; i++)
            free(cs->bucket[b][i]);
    free(cs->c);
    memset(cs, 0, sizeof *cs);
}

struct tickets_cluster *tickets_cluster_get(struct tickets_clusters *cs, int64_t id)
{
    return id >= 1 && (size_t)id <= cs->n ? &cs->c[id - 1] : NULL;
}

/* 1 when two known values differ. */
static int clash(const char *a, const char *b)
{
    return a[0] && b[0] && strcmp(a, b) != 0;
}

/* Fills the unknown tags of c from tg. */
static void fill(struct tickets_tags *c, const struct tickets_tags *tg)
{
    if (!c->service[0])
        memcpy(c->service, tg->service, sizeof c->service);
    if (!c->symptom[0])
        memcpy(c->symptom, tg->symptom, sizeof c->symptom);
    if (!c->region[0])
        memcpy(c->region, tg->region, sizeof c->region);
    if (!c->device[0])
        memcpy(c->device, tg->device, sizeof c->device);
}

static void bucket_add(struct tickets_clusters *cs, int band, int v, int32_t idx)
{
    int32_t *b = cs->bucket[band][v];
    int32_t n = b ? b[0] : 0;
    if (n + 2 > cs->bcap[band][v]) {
        size_t cap = (size_t)cs->bcap[band][v];
        b = oc_grow(b, &cap, (size_t)n + 2, sizeof *b);
        cs->bcap[band][v] = (int32_t)cap;
        cs->bucket[band][v] = b;
    }
    b[n + 1] = idx;
    b[0] = n + 1;
}

int tickets_clusters_add(struct tickets_clusters *cs, uint64_t h, const struct tickets_tags *tg,
                         int64_t at_ms, int64_t *id)
{
    int32_t best = -1;
    int bestd = cs->threshold + 1;
    for (int band = 0; band < TICKETS_BANDS; band++) {
        const int32_t *b = cs->bucket[band][(h >> (band * TICKETS_BAND_BITS)) & TICKETS_BAND_MASK];
        for (int32_t i = 1; b && i <= b[0]; i++) {
            const struct tickets_cluster *c = &cs->c[b[i]];
            int d = tickets_hamming(h, c->rep);
            /* without a symptom on both sides only near-identical text joins */
            int near = c->tags.symptom[0] && tg->symptom[0] ? cs->threshold : cs->threshold / 3;
            if (d < bestd && d <= near && !clash(c->tags.service, tg->service) &&
                !clash(c->tags.symptom, tg->symptom) && !clash(c->tags.region, tg->region)) {
                bestd = d;
                best = b[i];
            }
        }
    }
    if (best >= 0) {
        struct tickets_cluster *c = &cs->c[best];
        c->n++;
        if (at_ms < c->first_ms)
            c->first_ms = at_ms;
        if (at_ms > c->last_ms)
            c->last_ms = at_ms;
        fill(&c->tags, tg);
        *id = c->id;
        return 0;
    }
    if (cs->n >= cs->max)
        return OC_ETOOBIG;
    cs->c = oc_grow(cs->c, &cs->cap, cs->n + 1, sizeof *cs->c);
    struct tickets_cluster *c = &cs->c[cs->n];
    memset(c, 0, sizeof *c);
    c->id = (int64_t)cs->n + 1;
    c->rep = h;
    c->tags = *tg;
    c->n = 1;
    c->first_ms = c->last_ms = at_ms;
    for (int band = 0; band < TICKETS_BANDS; band++)
        bucket_add(cs, band, (int)((h >> (band * TICKETS_BAND_BITS)) & TICKETS_BAND_MASK),
                   (int32_t)cs->n);
    cs->n++;
    *id = c->id;
    return 0;
}

/* Pairs (cluster, label) sorted to count co-occurrences. */
struct pair {
    int64_t a, b;
};

static int cmp_pair(const void *x, const void *y)
{
    const struct pair *p = x, *q = y;
    if (p->a != q->a)
        return p->a < q->a ? -1 : 1;
    return p->b < q->b ? -1 : p->b > q->b;
}

/* Sum over groups of equal keys (a, then a and b when both) of n * (n - 1) / 2. */
static double same_pairs(struct pair *v, size_t n, int both)
{
    double s = 0;
    if (n > 1) /* qsort must not see NULL, even for no pairs */
        qsort(v, n, sizeof *v, cmp_pair);
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        while (j < n && v[j].a == v[i].a && (!both || v[j].b == v[i].b))
            j++;
        s += (double)(j - i) * (double)(j - i - 1) / 2;
        i = j;
    }
    return s;
}

void tickets_pair_scores(const int64_t *cluster, const int *label, size_t n, double *precision,
                         double *recall)
{
    struct pair *v = oc_calloc(n ? n : 1, sizeof *v);
    for (size_t i = 0; i < n; i++) /* a noise ticket is a class of its own */
        v[i] = (struct pair){cluster[i], label[i] >= 0 ? label[i] : -1 - (int64_t)i};
    double both = same_pairs(v, n, 1), in_cluster = same_pairs(v, n, 0);
    for (size_t i = 0; i < n; i++)
        v[i] = (struct pair){v[i].b, 0};
    double in_label = same_pairs(v, n, 0);
    *precision = in_cluster > 0 ? both / in_cluster : 1.0;
    *recall = in_label > 0 ? both / in_label : 1.0;
    free(v);
}
