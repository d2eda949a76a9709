/*
 * model.c - the catalog's data: creation and destruction, name lookups over arrays kept sorted
 * by name, service insertion and removal, and QoE slices ("dim=value,dim=value").
 */
#include "catalog/catalog_int.h"
#include "core/alloc.h"
#include "core/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const catalog_kinds[] = {
    "playback", "player",    "cdn",     "origin",   "packager", "encoder",
    "manifest", "drm",       "search",  "profile",  "billing",  "entitlements",
    "ads",      "api",       "auth",    "metadata", "resume",   "analytics",
    "storage",  "messaging", "network", "other",    NULL,
};

struct catalog *catalog_new(const char *source)
{
    struct catalog *c = oc_calloc(1, sizeof(*c));
    c->source = oc_strdup(source ? source : "catalog");
    return c;
}

static void strv_free(struct catalog_strv *v)
{
    for (int i = 0; i < v->n; i++)
        free(v->v[i]);
    free(v->v);
    v->v = NULL;
    v->n = 0;
}

void catalog_service_destroy(struct catalog_service *s)
{
    if (!s)
        return;
    free(s->name);
    free(s->kind);
    free(s->team);
    free(s->lead);
    free(s->support);
    free(s->runbook);
    free(s->rollback_doc);
    free(s->deploy_webhook);
    free(s->description);
    free(s->public_name);
    for (int i = 0; i < s->nserves; i++)
        catalog_slice_free(&s->serves[i]);
    free(s->serves);
    strv_free(&s->depends_on);
    strv_free(&s->raci.responsible);
    strv_free(&s->raci.accountable);
    strv_free(&s->raci.consulted);
    strv_free(&s->raci.informed);
    free(s);
}

static void team_free(struct catalog_team *t)
{
    free(t->name);
    free(t->channel);
    free(t->policy);
    strv_free(&t->oncall.people);
    for (int i = 0; i < t->oncall.noverrides; i++)
        free(t->oncall.overrides[i].person);
    free(t->oncall.overrides);
}

static void policy_free(struct catalog_policy *p)
{
    free(p->name);
    for (int i = 0; i < p->nsteps; i++)
        free(p->steps[i].target);
    free(p->steps);
}

void catalog_destroy(struct catalog *c)
{
    if (!c)
        return;
    for (int i = 0; i < c->nservices; i++)
        catalog_service_destroy(c->services[i]);
    free(c->services);
    free(c->default_owner);
    for (int i = 0; i < c->nteams; i++)
        team_free(&c->teams[i]);
    free(c->teams);
    for (int i = 0; i < c->npeople; i++) {
        free(c->people[i].name);
        free(c->people[i].full_name);
        free(c->people[i].email);
        free(c->people[i].phone);
    }
    free(c->people);
    for (int i = 0; i < c->npolicies; i++)
        policy_free(&c->policies[i]);
    free(c->policies);
    free(c->source);
    free(c);
}

/* Binary search over an array of n elements of size sz whose first member is `char *name`.
 * Returns the index of name, or -(insertion point) - 1. */
static int name_search(const void *base, int n, size_t sz, const char *name)
{
    int lo = 0, hi = n - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        const char *const *elem = (const char *const *)((const char *)base + (size_t)mid * sz);
        int cmp = strcmp(*elem, name);
        if (cmp == 0)
            return mid;
        if (cmp < 0)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return -lo - 1;
}

/* Index of the service named name, or -(insertion point) - 1. */
static int service_search(const struct catalog *c, const char *name)
{
    int lo = 0, hi = c->nservices - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        int cmp = strcmp(c->services[mid]->name, name);
        if (cmp == 0)
            return mid;
        if (cmp < 0)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return -lo - 1;
}

int catalog_service_index(const struct catalog *c, const char *name)
{
    int i = name ? service_search(c, name) : -1;
    return i >= 0 ? i : -1;
}

const struct catalog_service *catalog_service_find(const struct catalog *c, const char *name)
{
    if (!name)
        return NULL;
    int i = service_search(c, name);
    return i >= 0 ? c->services[i] : NULL;
}

const struct catalog_team *catalog_team_find(const struct catalog *c, const char *name)
{
    if (!name)
        return NULL;
    int i = name_search(c->teams, c->nteams, sizeof(c->teams[0]), name);
    return i >= 0 ? &c->teams[i] : NULL;
}

const struct catalog_person *catalog_person_find(const struct catalog *c, const char *name)
{
    if (!name)
        return NULL;
    int i = name_search(c->people, c->npeople, sizeof(c->people[0]), name);
    return i >= 0 ? &c->people[i] : NULL;
}

const struct catalog_policy *catalog_policy_find(const struct catalog *c, const char *name)
{
    if (!name)
        return NULL;
    int i = name_search(c->policies, c->npolicies, sizeof(c->policies[0]), name);
    return i >= 0 ? &c->policies[i] : NULL;
}

int catalog_put_service(struct catalog *c, struct catalog_service *s)
{
    int i = service_search(c, s->name);
    if (i >= 0) {
        catalog_service_destroy(c->services[i]);
        c->services[i] = s;
        return 0;
    }
    if (c->nservices >= CATALOG_MAX_SERVICES) {
        catalog_service_destroy(s);
        return OC_ETOOBIG;
    }
    int at = -i - 1;
    c->services = oc_realloc(c->services, sizeof(c->services[0]) * (size_t)(c->nservices + 1));
    memmove(&c->services[at + 1], &c->services[at],
            sizeof(c->services[0]) * (size_t)(c->nservices - at));
    c->services[at] = s;
    c->nservices++;
    return 0;
}

int catalog_remove_service(struct catalog *c, const char *name)
{
    int i = service_search(c, name);
    if (i < 0)
        return OC_ENOTFOUND;
    catalog_service_destroy(c->services[i]);
    memmove(&c->services[i], &c->services[i + 1],
            sizeof(c->services[0]) * (size_t)(c->nservices - i - 1));
    c->nservices--;
    return 0;
}

static int dup(struct catalog_perr *e, const char *what, const char *name, int l1, int l2)
{
    int a = l1 < l2 ? l1 : l2, b = l1 < l2 ? l2 : l1;
    e->at = NULL;
    e->line = b;
    snprintf(e->msg, sizeof(e->msg), "%s \"%s\" is defined twice (also at line %d)", what, name, a);
    return OC_EINVAL;
}

static int cmp_person(const void *a, const void *b)
{
    return strcmp(((const struct catalog_person *)a)->name,
                  ((const struct catalog_person *)b)->name);
}

static int cmp_team(const void *a, const void *b)
{
    return strcmp(((const struct catalog_team *)a)->name, ((const struct catalog_team *)b)->name);
}

static int cmp_policy(const void *a, const void *b)
{
    return strcmp(((const struct catalog_policy *)a)->name,
                  ((const struct catalog_policy *)b)->name);
}

static int cmp_service(const void *a, const void *b)
{
    const struct catalog_service *const *x = a, *const *y = b;
    return strcmp((*x)->name, (*y)->name);
}

/* Sorts people, teams, policies and services by name (lookups bsearch them), then rejects a
 * name given twice, naming the later line and the earlier one. */
int catalog_sort(struct catalog *c, struct catalog_perr *e)
{
    if (c->npeople > 1)
        qsort(c->people, (size_t)c->npeople, sizeof(c->people[0]), cmp_person);
    if (c->nteams > 1)
        qsort(c->teams, (size_t)c->nteams, sizeof(c->teams[0]), cmp_team);
    if (c->npolicies > 1)
        qsort(c->policies, (size_t)c->npolicies, sizeof(c->policies[0]), cmp_policy);
    if (c->nservices > 1)
        qsort(c->services, (size_t)c->nservices, sizeof(c->services[0]), cmp_service);
    for (int i = 1; i < c->npeople; i++)
        if (strcmp(c->people[i - 1].name, c->people[i].name) == 0)
            return dup(e, "person", c->people[i].name, c->people[i - 1].line, c->people[i].line);
    for (int i = 1; i < c->nteams; i++)
        if (strcmp(c->teams[i - 1].name, c->teams[i].name) == 0)
            return dup(e, "team", c->teams[i].name, c->teams[i - 1].line, c->teams[i].line);
    for (int i = 1; i < c->npolicies; i++)
        if (strcmp(c->policies[i - 1].name, c->policies[i].name) == 0)
            return dup(e, "escalation policy", c->policies[i].name, c->policies[i - 1].line,
                       c->policies[i].line);
    for (int i = 1; i < c->nservices; i++)
        if (strcmp(c->services[i - 1]->name, c->services[i]->name) == 0)
            return dup(e, "service", c->services[i]->name, c->services[i - 1]->line,
                       c->services[i]->line);
    return 0;
}

void catalog_names_free(struct catalog_names *n)
{
    for (int i = 0; i < n->n; i++)
        free(n->v[i]);
    free(n->v);
    n->v = NULL;
    n->n = 0;
}

void catalog_blast_free(struct catalog_blast *b)
{
    catalog_names_free(&b->services);
    catalog_names_free(&b->slices);
}

static int dim_index(const char *name, size_t n)
{
    for (int d = 0; d < BEACON_NDIMS; d++)
        if (strlen(beacon_dim_names[d]) == n && memcmp(beacon_dim_names[d], name, n) == 0)
            return d;
    return -1;
}

/* Parses one "dim=value" term in place (term is NUL-terminated inside out->buf). */
static int slice_term(char *term, struct catalog_slice *out, char *err, size_t errlen)
{
    char *sep = strpbrk(term, "=:");
    if (!sep || sep == term || sep[1] == '\0') {
        snprintf(err, errlen, "\"%s\" is not dim=value", term);
        return OC_EINVAL;
    }
    int d = dim_index(term, (size_t)(sep - term));
    if (d < 0) {
        snprintf(err, errlen, "unknown dimension \"%.*s\"", (int)(sep - term), term);
        return OC_EINVAL;
    }
    if (out->v[d]) {
        snprintf(err, errlen, "dimension \"%s\" given twice", beacon_dim_names[d]);
        return OC_EINVAL;
    }
    out->v[d] = sep + 1;
    return 0;
}

int catalog_slice_parse(const char *text, struct catalog_slice *out, char *err, size_t errlen)
{
    int rc = OC_EINVAL;
    memset(out, 0, sizeof(*out));
    if (!text || !*text) {
        snprintf(err, errlen, "empty slice");
        return OC_EINVAL;
    }
    if (strlen(text) >= CATALOG_TEXT_MAX) {
        snprintf(err, errlen, "slice longer than %d bytes", CATALOG_TEXT_MAX - 1);
        return OC_EINVAL;
    }
    out->buf = oc_strdup(text);
    char *p = out->buf;
    for (;;) {
        char *comma = strchr(p, ',');
        if (comma)
            *comma = '\0';
        while (*p == ' ')
            p++;
        if ((rc = slice_term(p, out, err, errlen)) != 0)
            goto out;
        if (!comma)
            break;
        p = comma + 1;
    }
    rc = 0;
out:
    if (rc)
        catalog_slice_free(out);
    return rc;
}

void catalog_slice_free(struct catalog_slice *s)
{
    free(s->buf);
    memset(s, 0, sizeof(*s));
}

void catalog_slice_format(const struct catalog_slice *s, char *out, size_t n)
{
    size_t len = 0;
    if (n == 0)
        return;
    out[0] = '\0';
    for (int d = 0; d < BEACON_NDIMS; d++) {
        if (!s->v[d])
            continue;
        int w =
            snprintf(out + len, n - len, "%s%s=%s", len ? "," : "", beacon_dim_names[d], s->v[d]);
        if (w < 0 || (size_t)w >= n - len)
            return;
        len += (size_t)w;
    }
}

int catalog_slice_dims(const struct catalog_slice *s)
{
    int k = 0;
    for (int d = 0; d < BEACON_NDIMS; d++)
        k += s->v[d] != NULL;
    return k;
}
