/*
 * index.c - the in-memory search index: documents, the term dictionary with its postings,
 * the byte-ordered term list for prefixes, the symmetric-delete typo dictionary, the tag
 * dictionaries and the id hash. One writer at a time (the module's write lock); queries
 * (query.c) only read.
 */
#include "search/search_int.h"
#include "core/alloc.h"
#include "core/err.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ID_GONE UINT32_MAX /* a removed id hash slot */

uint64_t search_hash(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ULL;
    }
    return h ^ (h >> 29);
}

struct search_index *search_index_new(void)
{
    struct search_index *x = oc_calloc(1, sizeof *x);
    x->ntslots = 1024;
    x->tslots = oc_calloc(x->ntslots, sizeof *x->tslots);
    x->nids = 1024;
    x->ids = oc_calloc(x->nids, sizeof *x->ids);
    x->del.nheads = 4096;
    x->del.heads = oc_calloc(x->del.nheads, sizeof *x->del.heads);
    x->toks = oc_malloc(sizeof *x->toks);
    x->ptop1 = oc_calloc(256 * SPTOP_1, sizeof *x->ptop1);
    x->ptop2 = oc_calloc(65536 * SPTOP_2, sizeof *x->ptop2);
    return x;
}

void search_index_destroy(struct search_index *x)
{
    if (!x)
        return;
    for (uint32_t i = 0; x->docs && i < x->ndocs; i++)
        free(x->docs[i].blob);
    for (uint32_t i = 0; x->terms && i < x->nterms; i++) {
        free(x->terms[i].l[0].p);
        free(x->terms[i].l[1].p);
    }
    for (int k = 0; k < TAG_KINDS; k++) {
        for (uint32_t i = 0; i < x->tags[k].n; i++)
            free(x->tags[k].s[i]);
        free(x->tags[k].s);
        free(x->tags[k].slots);
    }
    free(x->docs);
    free(x->blocks);
    free(x->feat);
    free(x->facet);
    free(x->dead);
    free(x->terms);
    free(x->pool);
    free(x->tslots);
    free(x->ids);
    free(x->sorted);
    free(x->del.heads);
    free(x->del.e);
    free(x->toks);
    free(x->pairs);
    free(x->ptop1);
    free(x->ptop2);
    free(x);
}

/* ---- terms ---- */

uint32_t search_term_find(const struct search_index *x, const char *s, size_t n)
{
    uint32_t mask = x->ntslots - 1, i = (uint32_t)search_hash(s, n) & mask;
    for (; x->tslots[i]; i = (i + 1) & mask) {
        const struct sterm *t = &x->terms[x->tslots[i] - 1];
        if (t->len == n && memcmp(x->pool + t->str, s, n) == 0)
            return x->tslots[i] - 1;
    }
    return UINT32_MAX;
}

/* Places term id in the term hash (room is there). */
static void tslot_put(struct search_index *x, uint32_t id)
{
    const struct sterm *t = &x->terms[id];
    uint32_t mask = x->ntslots - 1, i = (uint32_t)search_hash(x->pool + t->str, t->len) & mask;
    while (x->tslots[i])
        i = (i + 1) & mask;
    x->tslots[i] = id + 1;
}

/* Doubles the term hash when it is half full. */
static void tslots_grow(struct search_index *x)
{
    if ((x->nterms + 1) * 2 <= x->ntslots)
        return;
    free(x->tslots);
    while ((x->nterms + 1) * 2 > x->ntslots)
        x->ntslots *= 2;
    x->tslots = oc_calloc(x->ntslots, sizeof *x->tslots);
    for (uint32_t i = 0; i < x->nterms; i++)
        tslot_put(x, i);
}

/* Adds (h, term) to the delete dictionary. */
static void del_add(struct sdel *d, uint32_t h, uint32_t term)
{
    if (d->n + 1 > (size_t)d->nheads * 2) {
        free(d->heads);
        d->nheads *= 2;
        d->heads = oc_calloc(d->nheads, sizeof *d->heads);
        for (size_t i = 0; i < d->n; i++) {
            uint32_t b = d->e[i].h & (d->nheads - 1);
            d->e[i].next = d->heads[b];
            d->heads[b] = (uint32_t)i + 1;
        }
    }
    d->e = oc_grow(d->e, &d->cap, d->n + 1, sizeof *d->e);
    uint32_t b = h & (d->nheads - 1);
    d->e[d->n] = (struct sdel_entry){h, term, d->heads[b]};
    d->heads[b] = (uint32_t)++d->n;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* Registers term id (s, n bytes) under the hashes of its deletions: one byte for 4 bytes and
 * more, two as well for 8 to 20 bytes. */
static void del_term(struct search_index *x, uint32_t id, const char *s, size_t n)
{
    uint32_t h[1 + 20 + 190];
    char v[SEARCH_TOKEN_MAX];
    size_t nh = 0;
    if (n < 4 || n > SEARCH_TOKEN_MAX)
        return;
    for (size_t i = 0; i < n; i++) {
        memcpy(v, s, i);
        memcpy(v + i, s + i + 1, n - i - 1);
        if (nh < 211)
            h[nh++] = (uint32_t)search_hash(v, n - 1);
        for (size_t j = i; n >= 8 && n <= 20 && j < n - 1; j++) {
            char w[SEARCH_TOKEN_MAX];
            memcpy(w, v, j);
            memcpy(w + j, v + j + 1, n - 2 - j);
            h[nh++] = (uint32_t)search_hash(w, n - 2);
        }
    }
    qsort(h, nh, sizeof h[0], cmp_u32);
    for (size_t i = 0; i < nh; i++)
        if (i == 0 || h[i] != h[i - 1])
            del_add(&x->del, h[i], id);
}

static const struct search_index *sort_ctx;                 /* qsort has no context argument */
static pthread_mutex_t sort_mu = PTHREAD_MUTEX_INITIALIZER; /* held while sort_ctx is set */

static int cmp_term(const void *a, const void *b)
{
    const struct search_index *x = sort_ctx;
    return strcmp(search_term_str(x, *(const uint32_t *)a),
                  search_term_str(x, *(const uint32_t *)b));
}

/* Merges the unsorted tail into the sorted term list once it holds 64 terms and a sixteenth
 * of the sorted ones (or always, with force). */
static void sort_tail(struct search_index *x, int force)
{
    uint32_t tail = x->nterms - x->nsorted;
    if (!tail || (!force && (tail < 64 || tail * 16 < x->nsorted)))
        return;
    uint32_t *all = oc_malloc((size_t)x->nterms * sizeof *all), *t = all + x->nsorted;
    for (uint32_t i = 0; i < tail; i++)
        t[i] = x->nsorted + i;
    pthread_mutex_lock(&sort_mu);
    sort_ctx = x;
    qsort(t, tail, sizeof *t, cmp_term);
    pthread_mutex_unlock(&sort_mu);
    uint32_t i = 0, j = 0, k = 0;
    uint32_t *merged = oc_malloc((size_t)x->nterms * sizeof *merged);
    while (i < x->nsorted || j < tail) {
        if (j >= tail || (i < x->nsorted &&
                          strcmp(search_term_str(x, x->sorted[i]), search_term_str(x, t[j])) < 0))
            merged[k++] = x->sorted[i++];
        else
            merged[k++] = t[j++];
    }
    free(all);
    free(x->sorted);
    x->sorted = merged;
    x->nsorted = x->nterms;
}

uint32_t search_term_intern(struct search_index *x, const char *s, size_t n)
{
    uint32_t id = search_term_find(x, s, n);
    if (id != UINT32_MAX)
        return id;
    tslots_grow(x);
    id = x->nterms++;
    x->terms = oc_grow(x->terms, &x->terms_cap, x->nterms, sizeof *x->terms);
    x->pool = oc_grow(x->pool, &x->pool_cap, x->pool_len + n + 1, 1);
    memcpy(x->pool + x->pool_len, s, n);
    x->pool[x->pool_len + n] = 0;
    x->terms[id] = (struct sterm){.str = (uint32_t)x->pool_len, .len = (uint8_t)n};
    x->pool_len += n + 1;
    tslot_put(x, id);
    del_term(x, id, s, n);
    sort_tail(x, 0);
    return id;
}

void search_index_rehash(struct search_index *x)
{
    free(x->tslots);
    x->ntslots = 1024;
    while ((x->nterms + 1) * 2 > x->ntslots)
        x->ntslots *= 2;
    x->tslots = oc_calloc(x->ntslots, sizeof *x->tslots);
    for (uint32_t i = 0; i < x->nterms; i++)
        tslot_put(x, i);
}

/* ---- completions of short prefixes ---- */

int search_term_before(const struct search_index *x, uint32_t a, uint32_t b)
{
    uint32_t da = STERM_DF(&x->terms[a]), db = STERM_DF(&x->terms[b]);
    if (da != db)
        return da > db;
    return strcmp(search_term_str(x, a), search_term_str(x, b)) < 0;
}

/* Places term t (whose postings just grew, or new) in the list top of max slots. */
static void ptop_offer(const struct search_index *x, uint32_t *top, int max, uint32_t t)
{
    int i = 0;
    while (i < max && top[i] && top[i] != t + 1)
        i++;
    if (i == max) { /* not there and the list is full: t replaces the last if it ranks above */
        if (!search_term_before(x, t, top[max - 1] - 1))
            return;
        i = max - 1;
    }
    top[i] = t + 1;
    for (; i > 0 && search_term_before(x, t, top[i - 1] - 1); i--) {
        top[i] = top[i - 1];
        top[i - 1] = t + 1;
    }
}

/* Offers term t to the lists of its 1- and 2-byte prefixes. */
static void ptop_term(struct search_index *x, uint32_t t)
{
    const char *s = search_term_str(x, t);
    ptop_offer(x, (uint32_t *)search_ptop(x, s, 1), SPTOP_1, t);
    if (x->terms[t].len >= 2)
        ptop_offer(x, (uint32_t *)search_ptop(x, s, 2), SPTOP_2, t);
}

void search_ptop_rebuild(struct search_index *x)
{
    memset(x->ptop1, 0, 256 * SPTOP_1 * sizeof *x->ptop1);
    memset(x->ptop2, 0, 65536 * SPTOP_2 * sizeof *x->ptop2);
    for (uint32_t t = 0; t < x->nterms; t++)
        if (STERM_DF(&x->terms[t]))
            ptop_term(x, t);
}

/* ---- tags ---- */

int search_tag_find(const struct search_index *x, int k, const char *s)
{
    const struct sdict *d = &x->tags[k];
    if (!d->nslots)
        return -1;
    uint32_t mask = d->nslots - 1, i = (uint32_t)search_hash(s, strlen(s)) & mask;
    for (; d->slots[i]; i = (i + 1) & mask)
        if (strcmp(d->s[d->slots[i] - 1], s) == 0)
            return (int)d->slots[i] - 1;
    return -1;
}

int search_tag_intern(struct search_index *x, int k, const char *s)
{
    struct sdict *d = &x->tags[k];
    int id = search_tag_find(x, k, s);
    if (id >= 0)
        return id;
    if (d->n >= SEARCH_TAGS_MAX)
        return -1;
    if ((d->n + 1) * 2 > d->nslots) {
        free(d->slots);
        d->nslots = d->nslots ? d->nslots * 2 : 64;
        d->slots = oc_calloc(d->nslots, sizeof *d->slots);
        for (uint32_t i = 0; i < d->n; i++) {
            uint32_t j = (uint32_t)search_hash(d->s[i], strlen(d->s[i])) & (d->nslots - 1);
            while (d->slots[j])
                j = (j + 1) & (d->nslots - 1);
            d->slots[j] = i + 1;
        }
    }
    size_t cap = d->cap;
    d->s = oc_grow(d->s, &cap, d->n + 1, sizeof *d->s);
    d->cap = (uint32_t)cap;
    d->s[d->n] = oc_strdup(s);
    uint32_t j = (uint32_t)search_hash(s, strlen(s)) & (d->nslots - 1);
    while (d->slots[j])
        j = (j + 1) & (d->nslots - 1);
    d->slots[j] = ++d->n;
    return (int)d->n - 1;
}

/* ---- ids ---- */

uint32_t search_doc_find(const struct search_index *x, const char *id)
{
    uint32_t mask = x->nids - 1, i = (uint32_t)search_hash(id, strlen(id)) & mask;
    for (; x->ids[i]; i = (i + 1) & mask)
        if (x->ids[i] != ID_GONE && strcmp(sdoc_id(&x->docs[x->ids[i] - 1]), id) == 0)
            return x->ids[i] - 1;
    return UINT32_MAX;
}

void search_ids_add(struct search_index *x, uint32_t d)
{
    if ((x->ids_used + 1) * 2 > x->nids) { /* rebuild without removed slots */
        uint32_t old = x->nids, *prev = x->ids;
        while (x->live * 4 > x->nids)
            x->nids *= 2;
        x->ids = oc_calloc(x->nids, sizeof *x->ids);
        x->ids_used = 0;
        for (uint32_t i = 0; i < old; i++)
            if (prev[i] && prev[i] != ID_GONE) {
                const char *s = sdoc_id(&x->docs[prev[i] - 1]);
                uint32_t j = (uint32_t)search_hash(s, strlen(s)) & (x->nids - 1);
                while (x->ids[j])
                    j = (j + 1) & (x->nids - 1);
                x->ids[j] = prev[i];
                x->ids_used++;
            }
        free(prev);
    }
    const char *s = sdoc_id(&x->docs[d]);
    uint32_t j = (uint32_t)search_hash(s, strlen(s)) & (x->nids - 1);
    while (x->ids[j] && x->ids[j] != ID_GONE)
        j = (j + 1) & (x->nids - 1);
    if (!x->ids[j])
        x->ids_used++;
    x->ids[j] = d + 1;
}

/* Removes doc d from the id hash. */
static void ids_remove(struct search_index *x, uint32_t d)
{
    const char *s = sdoc_id(&x->docs[d]);
    uint32_t mask = x->nids - 1, i = (uint32_t)search_hash(s, strlen(s)) & mask;
    for (; x->ids[i]; i = (i + 1) & mask)
        if (x->ids[i] == d + 1) {
            x->ids[i] = ID_GONE;
            return;
        }
}

/* ---- documents ---- */

/* log1p(popularity) scaled to sfeat.lpop. */
static uint16_t lpop_of(double pop)
{
    double lp = log1p(pop) * SFEAT_LPOP_SCALE;
    return lp > 65535 ? 65535 : (uint16_t)lround(lp);
}

void search_doc_meta(struct search_index *x, uint32_t d)
{
    size_t b = d >> SBLOCK_SHIFT, words = (size_t)(d >> 6) + 1, old = x->dead_cap;
    if (b >= x->blocks_cap) {
        size_t cap = x->blocks_cap;
        x->blocks = oc_grow(x->blocks, &cap, b + 1, sizeof *x->blocks);
        memset(x->blocks + x->blocks_cap, 0, (cap - x->blocks_cap) * sizeof *x->blocks);
        x->blocks_cap = cap;
    }
    if (words > old) {
        x->dead = oc_grow(x->dead, &x->dead_cap, words, sizeof *x->dead);
        memset(x->dead + old, 0, (x->dead_cap - old) * sizeof *x->dead);
    }
    x->feat = oc_grow(x->feat, &x->feat_cap, (size_t)d + 1, sizeof *x->feat);
    x->facet = oc_grow(x->facet, &x->facet_cap, (size_t)d + 1, sizeof *x->facet);
    const struct sdoc *sd = &x->docs[d];
    if (!sd->blob) {
        x->dead[d >> 6] |= 1ULL << (d & 63);
        return;
    }
    x->dead[d >> 6] &= ~(1ULL << (d & 63));
    struct sfacet *fc = &x->facet[d];
    memset(fc, 0, sizeof *fc);
    for (int i = 0; i < sd->ngenre && i < SFACET_GENRES; i++)
        fc->genre[i] = (uint16_t)(sdoc_tags(sd)[i] + 1);
    fc->lk = (uint16_t)(sd->lang << 3 | (sd->ngenre > SFACET_GENRES ? 4 : 0) | sd->kind);
    struct sfeat *f = &x->feat[d];
    f->lpop = sd->plays ? (uint16_t)(sd->plays - 1) : lpop_of(sd->pop);
    f->year = sd->year;
    f->ntitle = (uint16_t)(sd->ntok - sd->lead);
    if (f->lpop > x->max_lpop)
        x->max_lpop = f->lpop;
    if (f->lpop > x->blocks[b].lpop)
        x->blocks[b].lpop = f->lpop;
    if (sd->year > x->blocks[b].year)
        x->blocks[b].year = sd->year;
}

int search_index_delete(struct search_index *x, const char *id)
{
    uint32_t d = search_doc_find(x, id);
    if (d == UINT32_MAX)
        return OC_ENOTFOUND;
    ids_remove(x, d);
    x->blob_bytes -= sdoc_blob_size(&x->docs[d]);
    free(x->docs[d].blob);
    x->docs[d].blob = NULL;
    search_doc_meta(x, d);
    x->live--;
    return 0;
}

/* Tokenizes text into the writer's pairs as fields f; title tokens also go to toks. */
static void add_text(struct search_index *x, const char *text, uint32_t f, size_t *np,
                     uint32_t *toks, int *ntok)
{
    if (!text)
        return;
    search_tokenize(text, strlen(text), 1, x->toks);
    x->pairs = oc_grow(x->pairs, &x->pairs_cap, *np + (size_t)x->toks->n, sizeof *x->pairs);
    for (int i = 0; i < x->toks->n; i++) {
        uint32_t t = search_term_intern(x, x->toks->t[i], strlen(x->toks->t[i]));
        x->pairs[(*np)++] = (uint64_t)t << 32 | f;
        if (toks && *ntok < SEARCH_TITLE_TOKS)
            toks[(*ntok)++] = t;
    }
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Appends the postings of doc d from the writer's pairs (n of them). */
static void add_postings(struct search_index *x, uint32_t d, size_t n)
{
    qsort(x->pairs, n, sizeof *x->pairs, cmp_u64);
    for (size_t i = 0; i < n;) {
        uint32_t t = (uint32_t)(x->pairs[i] >> 32), f = 0;
        for (; i < n && (uint32_t)(x->pairs[i] >> 32) == t; i++)
            f |= (uint32_t)x->pairs[i];
        struct splist *l = &x->terms[t].l[f == SF_DESC];
        if (l->n == l->cap) {
            l->cap = l->cap < 4 ? l->cap + 1 : l->cap + l->cap / 2;
            l->p = oc_realloc(l->p, l->cap * sizeof *l->p);
        }
        l->p[l->n++] = d << SP_SHIFT | f;
        ptop_term(x, t);
    }
}

/* Interns the tags of t into tag (genres, regions, entitlements in order); -1 when full. */
static int doc_tags(struct search_index *x, const struct search_title *t, uint16_t *tag,
                    struct sdoc *sd)
{
    const char *const *lists[] = {t->genres, t->regions, t->entitlements};
    const int counts[] = {t->ngenres, t->nregions, t->nentitlements};
    const int kinds[] = {TAG_GENRE, TAG_REGION, TAG_ENT};
    uint8_t *outs[] = {&sd->ngenre, &sd->nregion, &sd->nent};
    int n = 0;
    for (int l = 0; l < 3; l++) {
        *outs[l] = 0;
        for (int i = 0; i < counts[l]; i++) {
            int id = search_tag_intern(x, kinds[l], lists[l][i]);
            if (id < 0)
                return -1;
            tag[n++] = (uint16_t)id;
            (*outs[l])++;
        }
    }
    int lang = t->language ? search_tag_intern(x, TAG_LANG, t->language) : -1;
    if (t->language && lang < 0)
        return -1;
    sd->lang = (uint16_t)(lang + 1);
    return n;
}

/* Builds the blob of sd from its title tokens, tags, id and title. */
static void doc_blob(struct sdoc *sd, const uint32_t *toks, const uint16_t *tag, int ntag,
                     const char *id, const char *title)
{
    size_t il = strlen(id) + 1, tl = strlen(title) + 1;
    size_t size = sd->ntok * 4u + (size_t)ntag * 2u + il + tl;
    char *b = oc_malloc(size);
    memcpy(b, toks, sd->ntok * 4u);
    memcpy(b + sd->ntok * 4u, tag, (size_t)ntag * 2u);
    memcpy(b + sd->ntok * 4u + (size_t)ntag * 2u, id, il);
    memcpy(b + sd->ntok * 4u + (size_t)ntag * 2u + il, title, tl);
    sd->blob = b;
}

int search_index_put(struct search_index *x, const struct search_title *t)
{
    uint32_t toks[SEARCH_TITLE_TOKS];
    uint16_t tag[3 * SEARCH_LIST_MAX];
    struct sdoc sd = {0};
    size_t np = 0;
    int ntok = 0, ntag, replaced = 0;
    if (x->ndocs >= SEARCH_DOCS_MAX)
        return OC_ETOOBIG;
    if ((ntag = doc_tags(x, t, tag, &sd)) < 0)
        return OC_ETOOBIG;
    uint32_t old = search_doc_find(x, t->id);
    sd.plays = old != UINT32_MAX ? x->docs[old].plays : 0; /* a replaced title keeps them */
    replaced = search_index_delete(x, t->id) == 0;
    uint32_t d = x->ndocs++;
    add_text(x, t->title, SF_TITLE, &np, toks, &ntok);
    add_text(x, t->original_title, SF_ALT, &np, NULL, NULL);
    add_text(x, t->series, SF_ALT, &np, NULL, NULL);
    for (int i = 0; i < t->nalt; i++)
        add_text(x, t->alt[i], SF_ALT, &np, NULL, NULL);
    for (int i = 0; i < t->npeople; i++)
        add_text(x, t->people[i], SF_PEOPLE, &np, NULL, NULL);
    add_text(x, t->description, SF_DESC, &np, NULL, NULL);
    add_postings(x, d, np);
    search_tokenize(t->title, strlen(t->title), 0, x->toks);
    sd.lead = x->toks->n > 1 && search_is_article(x->toks->t[0]);
    sd.ntok = (uint8_t)ntok;
    sd.year = (int16_t)t->year;
    sd.kind = (uint8_t)t->kind;
    sd.pop = (float)t->popularity;
    doc_blob(&sd, toks, tag, ntag, t->id, t->title);
    x->docs = oc_grow(x->docs, &x->docs_cap, x->ndocs, sizeof *x->docs);
    x->docs[d] = sd;
    x->blob_bytes += sdoc_blob_size(&sd);
    x->live++;
    if (sd.pop > x->max_pop)
        x->max_pop = sd.pop;
    search_ids_add(x, d);
    search_doc_meta(x, d);
    return replaced;
}

/* Sets block b's best popularity to its live documents' largest (a dead slot keeps the
 * popularity it had, plays included, and would hold the bound up). */
static void block_rebound(struct search_index *x, size_t b)
{
    uint32_t lo = (uint32_t)(b << SBLOCK_SHIFT), hi = lo + (1u << SBLOCK_SHIFT);
    uint16_t best = 0;
    for (uint32_t d = lo; d < hi && d < x->ndocs; d++)
        if (!search_doc_dead(x, d) && x->feat[d].lpop > best)
            best = x->feat[d].lpop;
    x->blocks[b].lpop = best;
}

size_t search_index_set_plays(struct search_index *x, const char *const *ids, const double *plays,
                              size_t n)
{
    size_t changed = 0, lowered = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t d = search_doc_find(x, ids[i]);
        if (d == UINT32_MAX)
            continue;
        struct sdoc *sd = &x->docs[d];
        uint16_t lp = plays[i] < 0 ? 0 : lpop_of(plays[i]);
        uint16_t p = plays[i] < 0 ? 0 : lp == 65535 ? 65535 : (uint16_t)(lp + 1);
        if (p == sd->plays)
            continue;
        uint16_t before = x->feat[d].lpop, bound = x->blocks[d >> SBLOCK_SHIFT].lpop;
        sd->plays = p;
        search_doc_meta(x, d); /* raises the block's and the index's bounds */
        changed++;
        if (x->feat[d].lpop > bound + x->max_lpop / 32)
            x->loosened++; /* out of static order by far: its block's bound is loose now */
        if (x->feat[d].lpop < before && x->blocks[d >> SBLOCK_SHIFT].lpop == before) {
            block_rebound(x, d >> SBLOCK_SHIFT);
            lowered++;
        }
    }
    if (lowered) { /* the largest may have fallen too */
        size_t nbl = ((size_t)x->ndocs + (1u << SBLOCK_SHIFT) - 1) >> SBLOCK_SHIFT;
        x->max_lpop = 0;
        for (size_t b = 0; b < nbl; b++)
            x->max_lpop = x->blocks[b].lpop > x->max_lpop ? x->blocks[b].lpop : x->max_lpop;
    }
    return changed;
}

int search_index_played(const struct search_index *x, const char *id)
{
    uint32_t d = search_doc_find(x, id);
    return d == UINT32_MAX ? -1 : x->docs[d].plays != 0;
}

/* Renumbers the postings of list l through map (UINT32_MAX: dropped), sorts them again when
 * the order changed; gives back room. */
static void remap_list(struct splist *l, const uint32_t *map)
{
    uint32_t out = 0, sorted = 1;
    for (uint32_t i = 0; i < l->n; i++) {
        uint32_t m = map[l->p[i] >> SP_SHIFT];
        if (m != UINT32_MAX) {
            l->p[out] = m << SP_SHIFT | (l->p[i] & ((1u << SP_SHIFT) - 1));
            sorted &= out == 0 || l->p[out - 1] < l->p[out];
            out++;
        }
    }
    l->n = out;
    if (!sorted)
        qsort(l->p, out, sizeof *l->p, cmp_u32);
    if (out < l->cap / 2) {
        l->cap = out;
        l->p = out ? oc_realloc(l->p, out * sizeof *l->p) : (free(l->p), NULL);
    }
}

/* 1 when live document a comes before live document b in static order. */
static int static_before(const struct search_index *x, uint32_t a, uint32_t b)
{
    const struct sfeat *fa = &x->feat[a], *fb = &x->feat[b];
    if (fa->lpop != fb->lpop)
        return fa->lpop > fb->lpop;
    if (fa->year != fb->year)
        return fa->year > fb->year;
    return a < b;
}

static int cmp_static(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x == y ? 0 : static_before(sort_ctx, x, y) ? -1 : 1;
}

void search_index_find_ordered(struct search_index *x)
{
    uint32_t d = 0;
    while (d < x->ndocs && x->docs[d].blob && (d == 0 || static_before(x, d - 1, d)))
        d++;
    x->ordered = d;
}

size_t search_index_compact(struct search_index *x)
{
    uint32_t *order = oc_malloc(((size_t)x->ndocs + 1) * sizeof *order), n = 0;
    for (uint32_t d = 0; d < x->ndocs; d++)
        if (x->docs[d].blob)
            order[n++] = d;
    size_t dropped = x->ndocs - n;
    if (!dropped && x->ordered >= x->ndocs && !x->loosened) {
        free(order);
        return 0;
    }
    pthread_mutex_lock(&sort_mu);
    sort_ctx = x;
    qsort(order, n, sizeof *order, cmp_static);
    pthread_mutex_unlock(&sort_mu);
    uint32_t *map = oc_malloc(((size_t)x->ndocs + 1) * sizeof *map);
    memset(map, 0xff, ((size_t)x->ndocs + 1) * sizeof *map);
    for (uint32_t i = 0; i < n; i++)
        map[order[i]] = i;
    for (uint32_t t = 0; t < x->nterms; t++)
        for (int k = 0; k < 2; k++)
            remap_list(&x->terms[t].l[k], map);
    struct sdoc *docs = oc_malloc(((size_t)n + 1) * sizeof *docs);
    for (uint32_t i = 0; i < n; i++)
        docs[i] = x->docs[order[i]];
    memcpy(x->docs, docs, (size_t)n * sizeof *docs);
    free(docs);
    x->ndocs = n;
    memset(x->ids, 0, x->nids * sizeof *x->ids);
    x->ids_used = 0;
    memset(x->blocks, 0, x->blocks_cap * sizeof *x->blocks);
    memset(x->dead, 0, x->dead_cap * sizeof *x->dead);
    x->max_lpop = 0;
    for (uint32_t d = 0; d < n; d++) {
        search_ids_add(x, d);
        search_doc_meta(x, d);
    }
    search_ptop_rebuild(x);
    x->ordered = n;
    x->loosened = 0;
    free(map);
    free(order);
    return dropped;
}

size_t search_index_unordered(const struct search_index *x)
{
    return x->ndocs - x->ordered;
}

size_t search_index_loosened(const struct search_index *x)
{
    return x->loosened;
}

int search_index_reorder_due(const struct search_index *x)
{
    size_t unordered = x->ndocs - x->ordered;
    size_t blocks = ((size_t)x->ndocs + (1u << SBLOCK_SHIFT) - 1) >> SBLOCK_SHIFT;
    return (unordered > SEARCH_REORDER_MIN && unordered > x->live / 8) ||
           (x->loosened > 64 && x->loosened > blocks / 8);
}

size_t search_index_count(const struct search_index *x)
{
    return x->live;
}

size_t search_index_dead(const struct search_index *x)
{
    return x->ndocs - x->live;
}

size_t search_index_bytes(const struct search_index *x)
{
    size_t b = sizeof *x + x->docs_cap * sizeof *x->docs + x->blob_bytes + x->live * 16 +
               x->facet_cap * sizeof *x->facet + x->feat_cap * sizeof *x->feat +
               x->terms_cap * sizeof *x->terms + x->pool_cap + x->ntslots * 4u + x->nids * 4u +
               x->nsorted * 4u + x->del.nheads * 4u + x->del.cap * sizeof *x->del.e +
               (256 * SPTOP_1 + 65536 * SPTOP_2) * 4u;
    for (uint32_t i = 0; i < x->nterms; i++)
        for (int k = 0; k < 2; k++)
            b += x->terms[i].l[k].cap * 4u + (x->terms[i].l[k].cap ? 16 : 0);
    return b;
}

const char *search_doc_id(const struct search_index *x, uint32_t doc)
{
    return doc < x->ndocs && x->docs[doc].blob ? sdoc_id(&x->docs[doc]) : NULL;
}

const char *search_doc_title(const struct search_index *x, uint32_t doc)
{
    return doc < x->ndocs && x->docs[doc].blob ? sdoc_title(&x->docs[doc]) : NULL;
}
