/*
 * snap.c - the index's snapshot file (search.idx next to the database): written whole to a
 * temporary file and renamed, read back in one pass with every count, offset and id checked,
 * and a checksum over the whole file, so a damaged or foreign file is refused (and the index
 * rebuilt from SQLite) rather than trusted. The hashes, the sorted term list and the delete
 * dictionary are rebuilt on read.
 */
#include "search/search_int.h"
#include "core/alloc.h"
#include "core/err.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SNAP_MAGIC   "OCSRCH01"
#define SNAP_END     "OCSRCEND"
#define SNAP_VERSION 3u /* 3: sdoc.plays */
#define SNAP_ENDIAN  0x01020304u

#define SUM_SEED  1469598103934665603ULL
#define SUM_PRIME 1099511628211ULL

/* The checksum of n bytes at p continued from h: 8-byte words, then the last bytes. */
static uint64_t sum_of(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    size_t i = 0;
    for (uint64_t w; i + 8 <= n; i += 8) {
        memcpy(&w, b + i, 8);
        h = (h ^ w) * SUM_PRIME;
        h ^= h >> 29;
    }
    for (; i < n; i++)
        h = (h ^ b[i]) * SUM_PRIME;
    return h;
}

/* A snapshot being written: the checksum of the words written so far, and the bytes of the
 * word not yet complete. */
struct wr {
    FILE *f;
    uint64_t sum;
    unsigned char carry[8];
    size_t nc;
};

static void put(struct wr *w, const void *p, size_t n)
{
    const unsigned char *b = p;
    if (!n)
        return;
    fwrite(p, 1, n, w->f);
    while (n && w->nc) { /* complete the pending word */
        w->carry[w->nc++] = *b++, n--;
        if (w->nc == 8) {
            w->sum = sum_of(w->sum, w->carry, 8);
            w->nc = 0;
        }
    }
    if (!n)
        return;
    size_t whole = n & ~(size_t)7;
    w->sum = sum_of(w->sum, b, whole);
    memcpy(w->carry, b + whole, n - whole);
    w->nc = n - whole;
}

/* Writes the header, the tags and the term strings. */
static void write_head(struct wr *f, const struct search_index *x, int64_t gen)
{
    uint32_t v[2] = {SNAP_VERSION, SNAP_ENDIAN};
    uint64_t pool = x->pool_len;
    put(f, SNAP_MAGIC, 8);
    put(f, v, sizeof v);
    put(f, &gen, 8);
    put(f, &x->ndocs, 4);
    put(f, &x->nterms, 4);
    put(f, &pool, 8);
    put(f, &x->max_pop, 4);
    for (int k = 0; k < TAG_KINDS; k++) {
        put(f, &x->tags[k].n, 4);
        for (uint32_t i = 0; i < x->tags[k].n; i++) {
            uint16_t l = (uint16_t)strlen(x->tags[k].s[i]);
            put(f, &l, 2);
            put(f, x->tags[k].s[i], l);
        }
    }
    put(f, x->pool, x->pool_len);
}

int search_snapshot_write(const struct search_index *x, int64_t gen, const char *path)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    struct wr wf = {fd >= 0 ? fdopen(fd, "wb") : NULL, SUM_SEED, {0}, 0}, *w = &wf;
    FILE *f = wf.f;
    if (!f) {
        if (fd >= 0)
            close(fd);
        return OC_EIO;
    }
    write_head(w, x, gen);
    for (uint32_t i = 0; i < x->nterms; i++) {
        const struct sterm *t = &x->terms[i];
        put(w, &t->str, 4);
        put(w, &t->len, 1);
        for (int k = 0; k < 2; k++) {
            put(w, &t->l[k].n, 4);
            put(w, t->l[k].p, (size_t)t->l[k].n * 4);
        }
    }
    uint64_t ndel = x->del.n;
    put(w, &x->nsorted, 4);
    put(w, x->sorted, (size_t)x->nsorted * 4);
    put(w, &x->del.nheads, 4);
    put(w, &ndel, 8);
    put(w, x->del.heads, (size_t)x->del.nheads * 4);
    put(w, x->del.e, x->del.n * sizeof *x->del.e);
    for (uint32_t i = 0; i < x->ndocs; i++) {
        const struct sdoc *d = &x->docs[i];
        uint8_t alive = d->blob != NULL;
        put(w, &alive, 1);
        if (!alive)
            continue;
        uint32_t bl = (uint32_t)sdoc_blob_size(d);
        put(w, (const char *)d + offsetof(struct sdoc, pop),
            offsetof(struct sdoc, lead) + 1 - offsetof(struct sdoc, pop));
        put(w, &bl, 4);
        put(w, d->blob, bl);
    }
    put(w, SNAP_END, 8);
    uint64_t sum = sum_of(w->sum, w->carry, w->nc);
    put(w, &sum, 8);
    int bad = ferror(f) | fflush(f) | fsync(fileno(f));
    bad |= fclose(f);
    if (bad || rename(tmp, path) != 0) {
        unlink(tmp);
        return OC_EIO;
    }
    return 0;
}

/* A bounds-checked reader over the file's bytes. */
struct cur {
    const unsigned char *p, *end;
    int bad;
};

static const void *take(struct cur *c, size_t n)
{
    if (c->bad || (size_t)(c->end - c->p) < n) {
        c->bad = 1;
        return NULL;
    }
    const void *r = c->p;
    c->p += n;
    return r;
}

static void get(struct cur *c, void *out, size_t n)
{
    const void *p = take(c, n);
    if (p)
        memcpy(out, p, n);
    else
        memset(out, 0, n);
}

/* Reads the tags and term strings into x. */
static int read_head(struct cur *c, struct search_index *x, int64_t *gen)
{
    uint32_t v[2];
    uint64_t pool;
    const void *m = take(c, 8);
    if (!m || memcmp(m, SNAP_MAGIC, 8) != 0)
        return -1;
    get(c, v, sizeof v);
    get(c, gen, 8);
    get(c, &x->ndocs, 4);
    get(c, &x->nterms, 4);
    get(c, &pool, 8);
    get(c, &x->max_pop, 4);
    if (c->bad || v[0] != SNAP_VERSION || v[1] != SNAP_ENDIAN || x->ndocs > SEARCH_DOCS_MAX ||
        pool > UINT32_MAX || x->nterms > pool)
        return -1;
    for (int k = 0; k < TAG_KINDS; k++) {
        uint32_t n;
        get(c, &n, 4);
        for (uint32_t i = 0; i < n && !c->bad; i++) {
            uint16_t l;
            char s[SEARCH_TAG_MAX + 1];
            get(c, &l, 2);
            const char *p = l <= SEARCH_TAG_MAX ? take(c, l) : NULL;
            if (!p)
                return -1;
            memcpy(s, p, l);
            s[l] = 0;
            if (search_tag_intern(x, k, s) != (int)i)
                return -1;
        }
    }
    const char *p = take(c, (size_t)pool);
    if (!p || (pool && p[pool - 1] != 0))
        return -1;
    x->pool = oc_malloc(pool + 1);
    memcpy(x->pool, p, pool);
    x->pool_len = x->pool_cap = pool;
    return c->bad ? -1 : 0;
}

/* Reads one posting list; -1 when it is cut short or out of order. */
static int read_list(struct cur *c, struct splist *l, uint32_t ndocs)
{
    get(c, &l->n, 4);
    if (c->bad || l->n > ndocs)
        return -1;
    const uint32_t *p = take(c, (size_t)l->n * 4);
    if (!p)
        return -1;
    l->cap = l->n;
    l->p = oc_malloc(((size_t)l->n + 1) * 4);
    memcpy(l->p, p, (size_t)l->n * 4);
    for (uint32_t k = 0; k < l->n; k++)
        if ((l->p[k] >> SP_SHIFT) >= ndocs || (k && l->p[k] <= l->p[k - 1]))
            return -1;
    return 0;
}

/* Reads the terms and their postings. */
static int read_terms(struct cur *c, struct search_index *x)
{
    x->terms = oc_calloc(x->nterms + 1, sizeof *x->terms);
    x->terms_cap = x->nterms + 1;
    for (uint32_t i = 0; i < x->nterms; i++) {
        struct sterm *t = &x->terms[i];
        get(c, &t->str, 4);
        get(c, &t->len, 1);
        if (c->bad || t->len == 0 || t->len > SEARCH_TOKEN_MAX ||
            t->str + (size_t)t->len >= x->pool_len || x->pool[t->str + t->len] != 0 ||
            strlen(x->pool + t->str) != t->len)
            return -1;
        for (int k = 0; k < 2; k++)
            if (read_list(c, &t->l[k], x->ndocs) != 0)
                return -1;
    }
    return 0;
}

/* Reads the sorted term order and the delete dictionary, each id and link checked. */
static int read_dicts(struct cur *c, struct search_index *x)
{
    uint64_t n;
    get(c, &x->nsorted, 4);
    const uint32_t *p = x->nsorted <= x->nterms ? take(c, (size_t)x->nsorted * 4) : NULL;
    if (!p)
        return -1;
    x->sorted = oc_malloc(((size_t)x->nsorted + 1) * 4);
    memcpy(x->sorted, p, (size_t)x->nsorted * 4);
    for (uint32_t i = 0; i < x->nsorted; i++)
        if (x->sorted[i] >= x->nterms)
            return -1;
    get(c, &x->del.nheads, 4);
    get(c, &n, 8);
    if (c->bad || x->del.nheads == 0 || (x->del.nheads & (x->del.nheads - 1)) ||
        x->del.nheads > (1u << 30) || n > UINT32_MAX - 1)
        return -1;
    const uint32_t *h = take(c, (size_t)x->del.nheads * 4);
    const void *e = take(c, (size_t)n * sizeof *x->del.e);
    if (!h || !e)
        return -1;
    free(x->del.heads);
    x->del.heads = oc_malloc((size_t)x->del.nheads * 4);
    memcpy(x->del.heads, h, (size_t)x->del.nheads * 4);
    x->del.e = oc_malloc(((size_t)n + 1) * sizeof *x->del.e);
    memcpy(x->del.e, e, (size_t)n * sizeof *x->del.e);
    x->del.n = x->del.cap = (size_t)n;
    for (uint32_t i = 0; i < x->del.nheads; i++)
        if (x->del.heads[i] > n)
            return -1;
    for (size_t i = 0; i < n; i++)
        if (x->del.e[i].term >= x->nterms || x->del.e[i].next > n)
            return -1;
    return 0;
}

/* 1 when the blob of d (bl bytes) is well formed against x's tags and terms. */
static int blob_ok(const struct search_index *x, const struct sdoc *d, const char *b, uint32_t bl)
{
    size_t fixed = d->ntok * 4u + (d->ngenre + d->nregion + d->nent) * 2u;
    if (bl < fixed + 4 || d->kind >= SEARCH_KINDS || d->ntok > SEARCH_TITLE_TOKS ||
        d->lang > x->tags[TAG_LANG].n || b[bl - 1] != 0)
        return 0;
    const char *id = b + fixed, *end = b + bl;
    size_t il = strnlen(id, (size_t)(end - id));
    if (il == 0 || id + il + 1 >= end)
        return 0;
    const char *title = id + il + 1;
    size_t tl = strnlen(title, (size_t)(end - title));
    if (tl == 0 || title + tl != end - 1)
        return 0;
    uint32_t t;
    uint16_t g;
    for (int i = 0; i < d->ntok; i++) {
        memcpy(&t, b + 4 * i, 4);
        if (t >= x->nterms)
            return 0;
    }
    const uint32_t lim[] = {x->tags[TAG_GENRE].n, x->tags[TAG_REGION].n, x->tags[TAG_ENT].n};
    const int cnt[] = {d->ngenre, d->nregion, d->nent};
    for (int l = 0, k = 0; l < 3; l++)
        for (int i = 0; i < cnt[l]; i++, k++) {
            memcpy(&g, b + d->ntok * 4u + 2u * k, 2);
            if (g >= lim[l])
                return 0;
        }
    return 1;
}

/* Reads the documents. */
static int read_docs(struct cur *c, struct search_index *x)
{
    const size_t fields = offsetof(struct sdoc, lead) + 1 - offsetof(struct sdoc, pop);
    x->docs = oc_calloc(x->ndocs + 1, sizeof *x->docs);
    x->docs_cap = x->ndocs + 1;
    for (uint32_t i = 0; i < x->ndocs; i++) {
        struct sdoc *d = &x->docs[i];
        uint8_t alive;
        uint32_t bl;
        get(c, &alive, 1);
        if (!alive)
            continue;
        get(c, (char *)d + offsetof(struct sdoc, pop), fields);
        get(c, &bl, 4);
        const char *b = take(c, bl);
        if (!b || !blob_ok(x, d, b, bl))
            return -1;
        d->blob = oc_malloc(bl);
        memcpy(d->blob, b, bl);
        x->blob_bytes += bl;
        x->live++;
        search_ids_add(x, i);
    }
    for (uint32_t i = 0; i < x->ndocs; i++)
        search_doc_meta(x, i);
    const void *m = take(c, 8);
    return m && memcmp(m, SNAP_END, 8) == 0 && c->p + 8 == c->end ? 0 : -1;
}

int search_snapshot_read(const char *path, struct search_index **out, int64_t *gen)
{
    struct stat st;
    unsigned char *buf = NULL;
    struct search_index *x = NULL;
    int rc = OC_EIO;
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return errno == ENOENT ? OC_ENOTFOUND : OC_EIO;
    if (fstat(fileno(f), &st) != 0 || st.st_size < 16)
        goto out;
    buf = oc_malloc((size_t)st.st_size);
    if (fread(buf, 1, (size_t)st.st_size, f) != (size_t)st.st_size)
        goto out;
    uint64_t sum;
    memcpy(&sum, buf + st.st_size - 8, 8);
    if (sum_of(SUM_SEED, buf, (size_t)st.st_size - 8) != sum)
        goto out;
    struct cur c = {buf, buf + st.st_size, 0};
    x = search_index_new();
    if (read_head(&c, x, gen) || read_terms(&c, x) || read_dicts(&c, x) || read_docs(&c, x))
        goto out;
    search_index_rehash(x);
    search_ptop_rebuild(x);
    search_index_find_ordered(x);
    *out = x;
    x = NULL;
    rc = 0;
out:
    search_index_destroy(x);
    free(buf);
    fclose(f);
    return rc;
}
