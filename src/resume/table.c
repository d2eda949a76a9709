/*
 * table.c - the resume points in memory: a chained hash by (profile, title) and one by
 * profile, each profile listing its points for the continue-watching row. The caller locks
 * (the module's rwlock); every size is capped by resume_table_put's limits.
 */
#include "resume/resume_int.h"
#include "core/alloc.h"
#include "core/err.h"

#include <stdlib.h>
#include <string.h>

#define TABLE_MIN_BUCKETS 1024 /* buckets of an empty table; doubled past one entry each */

/* FNV-1a over s, continuing from h. */
static uint64_t fnv(uint64_t h, const char *s)
{
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

static uint64_t profile_hash(const char *profile)
{
    return fnv(14695981039346656037ULL, profile);
}

uint64_t resume_point_hash(const char *profile, const char *title)
{
    return fnv(fnv(profile_hash(profile), "\x1f"), title);
}

void resume_table_init(struct resume_table *t)
{
    memset(t, 0, sizeof *t);
    t->npb = t->nfb = TABLE_MIN_BUCKETS;
    t->pb = oc_calloc(t->npb, sizeof *t->pb);
    t->fb = oc_calloc(t->nfb, sizeof *t->fb);
}

void resume_table_free(struct resume_table *t)
{
    for (size_t i = 0; i < t->npb; i++)
        for (struct resume_link *l = t->pb[i], *nx; l; l = nx) {
            struct resume_point *p = (struct resume_point *)l;
            nx = l->next;
            free(p->title);
            free(p->r);
            free(p);
        }
    for (size_t i = 0; i < t->nfb; i++)
        for (struct resume_link *l = t->fb[i], *nx; l; l = nx) {
            nx = l->next;
            free(((struct resume_profile *)l)->id);
            free(l);
        }
    free(t->pb);
    free(t->fb);
    memset(t, 0, sizeof *t);
}

struct resume_profile *resume_table_profile(const struct resume_table *t, const char *profile)
{
    uint64_t h = profile_hash(profile);
    for (struct resume_link *l = t->fb[h & (t->nfb - 1)]; l; l = l->next)
        if (l->hash == h && strcmp(((struct resume_profile *)l)->id, profile) == 0)
            return (struct resume_profile *)l;
    return NULL;
}

struct resume_point *resume_table_get(const struct resume_table *t, const char *profile,
                                      const char *title)
{
    return resume_table_get_hashed(t, profile, title, resume_point_hash(profile, title));
}

struct resume_point *resume_table_get_hashed(const struct resume_table *t, const char *profile,
                                             const char *title, uint64_t h)
{
    for (struct resume_link *l = t->pb[h & (t->npb - 1)]; l; l = l->next) {
        const struct resume_point *p = (const struct resume_point *)l;
        if (l->hash == h && strcmp(p->title, title) == 0 && strcmp(p->profile->id, profile) == 0)
            return (struct resume_point *)l;
    }
    return NULL;
}

void resume_table_prefetch(const struct resume_table *t, uint64_t hash, int stage)
{
#if defined(__GNUC__)
    struct resume_link *const *b = &t->pb[hash & (t->npb - 1)];
    if (stage == 0)
        __builtin_prefetch(b);
    else if (*b)
        __builtin_prefetch(*b);
#else
    (void)t, (void)hash, (void)stage;
#endif
}

/* Links l into the buckets b (*n of them), doubling them first when *count reaches *n. */
static void link_in(struct resume_link ***b, size_t *n, size_t count, struct resume_link *l)
{
    if (count >= *n) {
        size_t m = *n * 2;
        struct resume_link **nb = oc_calloc(m, sizeof *nb);
        for (size_t i = 0; i < *n; i++)
            for (struct resume_link *x = (*b)[i], *nx; x; x = nx) {
                nx = x->next;
                x->next = nb[x->hash & (m - 1)];
                nb[x->hash & (m - 1)] = x;
            }
        free(*b);
        *b = nb;
        *n = m;
    }
    l->next = (*b)[l->hash & (*n - 1)];
    (*b)[l->hash & (*n - 1)] = l;
}

/* The profile, created when absent. */
static struct resume_profile *profile_put(struct resume_table *t, const char *profile)
{
    struct resume_profile *f = resume_table_profile(t, profile);
    if (f)
        return f;
    f = oc_calloc(1, sizeof *f);
    f->id = oc_strdup(profile);
    f->link.hash = profile_hash(profile);
    link_in(&t->fb, &t->nfb, t->nprofiles++, &f->link);
    return f;
}

int resume_table_put(struct resume_table *t, const char *profile, const char *title,
                     size_t max_points, int max_titles, struct resume_point **out)
{
    return resume_table_put_hashed(t, profile, title, resume_point_hash(profile, title), max_points,
                                   max_titles, out);
}

int resume_table_put_hashed(struct resume_table *t, const char *profile, const char *title,
                            uint64_t hash, size_t max_points, int max_titles,
                            struct resume_point **out)
{
    struct resume_point *p = resume_table_get_hashed(t, profile, title, hash);
    if (p) {
        *out = p;
        return 0;
    }
    struct resume_profile *f = resume_table_profile(t, profile);
    if (t->npoints >= max_points || (f && f->npoints >= max_titles))
        return OC_ETOOBIG;
    f = profile_put(t, profile);
    p = oc_calloc(1, sizeof *p);
    p->title = oc_strdup(title);
    p->profile = f;
    p->link.hash = hash;
    link_in(&t->pb, &t->npb, t->npoints, &p->link);
    p->pnext = f->points;
    f->points = p;
    f->npoints++;
    t->npoints++;
    *out = p;
    return 0;
}

void resume_point_reserve(struct resume_point *p)
{
    if (p->n < p->cap || p->cap >= RESUME_DEVICES)
        return;
    p->cap = p->cap ? p->cap * 2 : 1;
    if (p->cap > RESUME_DEVICES)
        p->cap = RESUME_DEVICES;
    p->r = oc_realloc(p->r, (size_t)p->cap * sizeof *p->r);
}

void resume_point_reserve_for(struct resume_point *p, const char *device)
{
    if (p->n < p->cap)
        return;
    for (int k = 0; k < p->n; k++)
        if (strcmp(p->r[k].device, device) == 0)
            return; /* its report is replaced in place */
    resume_point_reserve(p);
}

size_t resume_table_encode_from(const struct resume_table *t, struct resume_bytes *b, size_t from,
                                size_t max_reports)
{
    struct resume_write w;
    size_t i, done = 0;
    resume_rec_open(b, RESUME_REC_CHANGES);
    for (i = from; i < t->npb && done < max_reports; i++)
        for (const struct resume_link *l = t->pb[i]; l; l = l->next) {
            const struct resume_point *p = (const struct resume_point *)l;
            for (int k = 0; k < p->n; k++, done++) {
                if (b->len - b->rec > RESUME_REC_SOFT) {
                    resume_rec_close(b);
                    resume_rec_open(b, RESUME_REC_CHANGES);
                }
                /* only the ids are copied: the strings are at most 128 bytes each */
                memcpy(w.profile, p->profile->id, strlen(p->profile->id) + 1);
                memcpy(w.title, p->title, strlen(p->title) + 1);
                w.r = p->r[k];
                resume_rec_change(b, 0, &w);
            }
        }
    resume_rec_close(b);
    return i;
}

void resume_table_encode(const struct resume_table *t, struct resume_bytes *b)
{
    resume_table_encode_from(t, b, 0, SIZE_MAX);
}

int resume_table_apply(struct resume_table *t, const struct resume_op *op)
{
    struct resume_point *p;
    const struct resume_report *r = &op->w.r;
    if (op->del) {
        p = resume_table_get(t, op->w.profile, op->w.title);
        for (int k = 0; p && k < p->n; k++)
            if (strcmp(p->r[k].device, r->device) == 0) {
                p->r[k] = p->r[--p->n]; /* the winner does not depend on the order */
                break;
            }
        return 0;
    }
    if (resume_table_put(t, op->w.profile, op->w.title, SIZE_MAX, 1 << 30, &p) != 0)
        return OC_ETOOBIG;
    for (int k = 0; k < p->n; k++)
        if (strcmp(p->r[k].device, r->device) == 0) {
            p->r[k] = *r;
            return 0;
        }
    if (p->n >= RESUME_DEVICES) { /* not written so (a delete precedes the 17th): drop the oldest */
        int o = 0;
        for (int k = 1; k < p->n; k++)
            if (p->r[k].t < p->r[o].t)
                o = k;
        p->r[o] = *r;
        return 0;
    }
    resume_point_reserve(p);
    p->r[p->n++] = *r;
    return 0;
}

int resume_table_merge(struct resume_table *t, const struct resume_op *op, size_t max_points,
                       int max_titles)
{
    struct resume_point *p;
    if (op->del) /* another replica's eviction: the 17th device evicts here too, when merged */
        return RESUME_STALE;
    if (resume_table_put(t, op->w.profile, op->w.title, max_points, max_titles, &p) != 0)
        return OC_ETOOBIG;
    resume_point_reserve_for(p, op->w.r.device);
    return (int)resume_merge(p->r, &p->n, &op->w.r);
}
