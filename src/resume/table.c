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

static uint64_t point_hash(const char *profile, const char *title)
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
        for (struct resume_point *p = t->pb[i], *nx; p; p = nx) {
            nx = p->next;
            free(p->title);
            free(p->r);
            free(p);
        }
    for (size_t i = 0; i < t->nfb; i++)
        for (struct resume_profile *f = t->fb[i], *nx; f; f = nx) {
            nx = f->next;
            free(f->id);
            free(f);
        }
    free(t->pb);
    free(t->fb);
    memset(t, 0, sizeof *t);
}

struct resume_profile *resume_table_profile(const struct resume_table *t, const char *profile)
{
    uint64_t h = profile_hash(profile);
    for (struct resume_profile *f = t->fb[h & (t->nfb - 1)]; f; f = f->next)
        if (f->hash == h && strcmp(f->id, profile) == 0)
            return f;
    return NULL;
}

struct resume_point *resume_table_get(const struct resume_table *t, const char *profile,
                                      const char *title)
{
    uint64_t h = point_hash(profile, title);
    for (struct resume_point *p = t->pb[h & (t->npb - 1)]; p; p = p->next)
        if (p->hash == h && strcmp(p->title, title) == 0 && strcmp(p->profile->id, profile) == 0)
            return p;
    return NULL;
}

/* Doubles the point buckets. */
static void grow_points(struct resume_table *t)
{
    size_t n = t->npb * 2;
    struct resume_point **b = oc_calloc(n, sizeof *b);
    for (size_t i = 0; i < t->npb; i++)
        for (struct resume_point *p = t->pb[i], *nx; p; p = nx) {
            nx = p->next;
            p->next = b[p->hash & (n - 1)];
            b[p->hash & (n - 1)] = p;
        }
    free(t->pb);
    t->pb = b;
    t->npb = n;
}

/* Doubles the profile buckets. */
static void grow_profiles(struct resume_table *t)
{
    size_t n = t->nfb * 2;
    struct resume_profile **b = oc_calloc(n, sizeof *b);
    for (size_t i = 0; i < t->nfb; i++)
        for (struct resume_profile *f = t->fb[i], *nx; f; f = nx) {
            nx = f->next;
            f->next = b[f->hash & (n - 1)];
            b[f->hash & (n - 1)] = f;
        }
    free(t->fb);
    t->fb = b;
    t->nfb = n;
}

/* The profile, created when absent. */
static struct resume_profile *profile_put(struct resume_table *t, const char *profile)
{
    struct resume_profile *f = resume_table_profile(t, profile);
    if (f)
        return f;
    if (t->nprofiles >= t->nfb)
        grow_profiles(t);
    f = oc_calloc(1, sizeof *f);
    f->id = oc_strdup(profile);
    f->hash = profile_hash(profile);
    f->next = t->fb[f->hash & (t->nfb - 1)];
    t->fb[f->hash & (t->nfb - 1)] = f;
    t->nprofiles++;
    return f;
}

int resume_table_put(struct resume_table *t, const char *profile, const char *title,
                     size_t max_points, int max_titles, struct resume_point **out)
{
    struct resume_point *p = resume_table_get(t, profile, title);
    if (p) {
        *out = p;
        return 0;
    }
    struct resume_profile *f = resume_table_profile(t, profile);
    if (t->npoints >= max_points || (f && f->npoints >= max_titles))
        return OC_ETOOBIG;
    f = profile_put(t, profile);
    if (t->npoints >= t->npb)
        grow_points(t);
    p = oc_calloc(1, sizeof *p);
    p->title = oc_strdup(title);
    p->profile = f;
    p->hash = point_hash(profile, title);
    p->next = t->pb[p->hash & (t->npb - 1)];
    t->pb[p->hash & (t->npb - 1)] = p;
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
