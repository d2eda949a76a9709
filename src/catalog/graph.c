/*
 * graph.c - the dependency graph over the catalog's services: transitive upstream (what a
 * service depends on) and downstream (what depends on it), the blast radius of a failure, and
 * cycle detection that names the cycle. Edges are resolved by name on every query into a
 * compact adjacency list (services are few, queries rare), so mutations need no upkeep.
 */
#include "catalog/catalog_int.h"
#include "core/alloc.h"
#include "core/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Compressed adjacency: the neighbours of i are to[off[i]] .. to[off[i + 1] - 1]. */
struct adj {
    int *off;
    int *to;
};

static void adj_free(struct adj *a)
{
    free(a->off);
    free(a->to);
}

/* Builds dependency edges (i -> what i depends on), or the reverse when reverse is set.
 * Unknown dependencies are left out. */
static void adj_build(const struct catalog *c, int reverse, struct adj *a)
{
    int n = c->nservices, m = 0;
    int *cnt = oc_calloc((size_t)n + 1, sizeof(int));
    for (int i = 0; i < n; i++) {
        const struct catalog_strv *d = &c->services[i]->depends_on;
        for (int k = 0; k < d->n; k++) {
            int j = catalog_service_index(c, d->v[k]);
            if (j >= 0) {
                cnt[reverse ? j : i]++;
                m++;
            }
        }
    }
    a->off = oc_calloc((size_t)n + 1, sizeof(int));
    a->to = oc_calloc((size_t)m + 1, sizeof(int));
    for (int i = 0; i < n; i++)
        a->off[i + 1] = a->off[i] + cnt[i];
    memset(cnt, 0, sizeof(int) * ((size_t)n + 1));
    for (int i = 0; i < n; i++) {
        const struct catalog_strv *d = &c->services[i]->depends_on;
        for (int k = 0; k < d->n; k++) {
            int j = catalog_service_index(c, d->v[k]);
            if (j < 0)
                continue;
            int from = reverse ? j : i, to = reverse ? i : j;
            a->to[a->off[from] + cnt[from]++] = to;
        }
    }
    free(cnt);
}

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

/* Breadth-first walk from start (excluded); visits level by level, each level in name order
 * (indexes follow name order). Writes the order into out. */
static void bfs(const struct catalog *c, int start, int reverse, struct catalog_names *out)
{
    struct adj a;
    int n = c->nservices, head = 0, tail = 0;
    adj_build(c, reverse, &a);
    char *seen = oc_calloc((size_t)n, 1);
    int *queue = oc_calloc((size_t)n + 1, sizeof(int));
    seen[start] = 1;
    queue[tail++] = start;
    while (head < tail) {
        int level_end = tail;
        for (; head < level_end; head++) {
            int u = queue[head];
            for (int k = a.off[u]; k < a.off[u + 1]; k++)
                if (!seen[a.to[k]]) {
                    seen[a.to[k]] = 1;
                    queue[tail++] = a.to[k];
                }
        }
        qsort(queue + level_end, (size_t)(tail - level_end), sizeof(int), cmp_int);
    }
    out->n = tail - 1;
    out->v = oc_calloc((size_t)tail, sizeof(char *));
    for (int i = 1; i < tail; i++)
        out->v[i - 1] = oc_strdup(c->services[queue[i]]->name);
    free(queue);
    free(seen);
    adj_free(&a);
}

int catalog_upstream(const struct catalog *c, const char *name, struct catalog_names *out)
{
    memset(out, 0, sizeof(*out));
    int i = catalog_service_index(c, name);
    if (i < 0)
        return OC_ENOTFOUND;
    bfs(c, i, 0, out);
    return 0;
}

int catalog_downstream(const struct catalog *c, const char *name, struct catalog_names *out)
{
    memset(out, 0, sizeof(*out));
    int i = catalog_service_index(c, name);
    if (i < 0)
        return OC_ENOTFOUND;
    bfs(c, i, 1, out);
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Appends the formatted slices of s to v (capacity checked by the caller). */
static void add_slices(const struct catalog_service *s, struct catalog_names *v)
{
    for (int k = 0; k < s->nserves; k++) {
        char text[CATALOG_TEXT_MAX];
        catalog_slice_format(&s->serves[k], text, sizeof(text));
        v->v[v->n++] = oc_strdup(text);
    }
}

int catalog_blast_radius(const struct catalog *c, const char *name, struct catalog_blast *out)
{
    memset(out, 0, sizeof(*out));
    const struct catalog_service *self = catalog_service_find(c, name);
    if (!self)
        return OC_ENOTFOUND;
    catalog_downstream(c, name, &out->services);
    size_t total = (size_t)self->nserves;
    for (int i = 0; i < out->services.n; i++)
        total += (size_t)catalog_service_find(c, out->services.v[i])->nserves;
    out->slices.v = oc_calloc(total + 1, sizeof(char *));
    add_slices(self, &out->slices);
    for (int i = 0; i < out->services.n; i++)
        add_slices(catalog_service_find(c, out->services.v[i]), &out->slices);
    qsort(out->slices.v, (size_t)out->slices.n, sizeof(char *), cmp_str);
    int w = 0; /* drop duplicates */
    for (int r = 0; r < out->slices.n; r++) {
        if (w > 0 && strcmp(out->slices.v[w - 1], out->slices.v[r]) == 0)
            free(out->slices.v[r]);
        else
            out->slices.v[w++] = out->slices.v[r];
    }
    out->slices.n = w;
    return 0;
}

/* Writes "cycle: a -> b -> ... -> a" for the path stack[from..top] closed back to its start. */
static void cycle_msg(const struct catalog *c, const int *stack, int from, int top, char *msg,
                      size_t msglen)
{
    size_t len = (size_t)snprintf(msg, msglen, "cycle:");
    for (int i = from; i <= top && len < msglen; i++)
        len += (size_t)snprintf(msg + len, msglen - len, " %s ->", c->services[stack[i]]->name);
    if (len < msglen)
        snprintf(msg + len, msglen - len, " %s", c->services[stack[from]]->name);
}

int catalog_find_cycle(const struct catalog *c, char *msg, size_t msglen,
                       const struct catalog_service **first)
{
    struct adj a;
    int n = c->nservices, rc = 0;
    adj_build(c, 0, &a);
    char *color = oc_calloc((size_t)n + 1, 1); /* 0 white, 1 on the stack, 2 done */
    int *stack = oc_calloc((size_t)n + 1, sizeof(int));
    int *next = oc_calloc((size_t)n + 1, sizeof(int)); /* next edge to try, per stack slot */
    for (int s = 0; s < n && !rc; s++) {
        if (color[s])
            continue;
        int top = 0;
        stack[0] = s;
        next[0] = a.off[s];
        color[s] = 1;
        while (top >= 0 && !rc) {
            int u = stack[top];
            if (next[top] == a.off[u + 1]) {
                color[u] = 2;
                top--;
                continue;
            }
            int v = a.to[next[top]++];
            if (color[v] == 1) {
                int from = top;
                while (stack[from] != v)
                    from--;
                cycle_msg(c, stack, from, top, msg, msglen);
                if (first)
                    *first = c->services[v];
                rc = OC_ECONFLICT;
            } else if (color[v] == 0) {
                color[v] = 1;
                stack[++top] = v;
                next[top] = a.off[v];
            }
        }
    }
    free(next);
    free(stack);
    free(color);
    adj_free(&a);
    return rc;
}

int catalog_path_to(const struct catalog *c, const char *from, const char *to, char *msg,
                    size_t msglen)
{
    int n = c->nservices, head = 0, tail = 0, hit = -1, rc = 0;
    int *queue = oc_calloc((size_t)n + 1, sizeof(int));
    int *parent = oc_calloc((size_t)n + 1, sizeof(int));
    char *seen = oc_calloc((size_t)n + 1, 1);
    int start = catalog_service_index(c, from);
    if (start < 0 || strcmp(from, to) == 0)
        goto out;
    seen[start] = 1;
    parent[start] = -1;
    queue[tail++] = start;
    while (head < tail && hit < 0) {
        int u = queue[head++];
        const struct catalog_strv *d = &c->services[u]->depends_on;
        for (int k = 0; k < d->n && hit < 0; k++) {
            int v = catalog_service_index(c, d->v[k]);
            if (strcmp(d->v[k], to) == 0)
                hit = u;
            else if (v >= 0 && !seen[v]) {
                seen[v] = 1;
                parent[v] = u;
                queue[tail++] = v;
            }
        }
    }
    if (hit < 0)
        goto out;
    int len = 0; /* rebuild from -> ... -> hit, reversed into queue */
    for (int u = hit; u >= 0; u = parent[u])
        queue[len++] = u;
    size_t w = 0;
    for (int i = len - 1; i >= 0 && w < msglen; i--)
        w += (size_t)snprintf(msg + w, msglen - w, "%s%s", i == len - 1 ? "" : " -> ",
                              c->services[queue[i]]->name);
    rc = 1;
out:
    free(seen);
    free(parent);
    free(queue);
    return rc;
}
