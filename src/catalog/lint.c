/*
 * lint.c - ownership rules. Every service needs an owning team, an escalation lead, a runbook
 * and a rollback document, and every name it mentions (dependencies, team, lead, RACI) must
 * exist; teams and escalation policies must mention known people, teams and policies.
 * `oncue catalog check` prints these problems; the API refuses a service whose references
 * are unknown (catalog_check_refs).
 */
#include "catalog/catalog_int.h"
#include "core/alloc.h"
#include "core/buf.h"
#include "core/err.h"

#include <stdarg.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int known_party(const struct catalog *c, const char *name)
{
    return catalog_team_find(c, name) || catalog_person_find(c, name);
}

static int problem(struct oc_buf *out, const struct catalog *c, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int problem(struct oc_buf *out, const struct catalog *c, int line, const char *fmt, ...)
{
    va_list ap;
    oc_buf_printf(out, "%s:%d: ", c->source, line);
    va_start(ap, fmt);
    oc_buf_vprintf(out, fmt, ap);
    va_end(ap);
    oc_buf_puts(out, "\n");
    return 1;
}

static int lint_raci(const struct catalog *c, const struct catalog_service *s, struct oc_buf *out)
{
    const struct {
        const char *role;
        const struct catalog_strv *v;
    } roles[] = {
        {"responsible", &s->raci.responsible},
        {"accountable", &s->raci.accountable},
        {"consulted", &s->raci.consulted},
        {"informed", &s->raci.informed},
    };
    int n = 0;
    for (size_t r = 0; r < sizeof(roles) / sizeof(roles[0]); r++)
        for (int i = 0; i < roles[r].v->n; i++)
            if (!known_party(c, roles[r].v->v[i]))
                n +=
                    problem(out, c, s->line, "service %s: RACI %s %s is not a known team or person",
                            s->name, roles[r].role, roles[r].v->v[i]);
    return n;
}

static int lint_service(const struct catalog *c, const struct catalog_service *s,
                        struct oc_buf *out)
{
    int n = 0;
    if (!s->team)
        n += problem(out, c, s->line, "service %s: no owner", s->name);
    else if (!catalog_team_find(c, s->team))
        n += problem(out, c, s->line, "service %s: owner team %s is not in the catalog", s->name,
                     s->team);
    if (!s->lead)
        n += problem(out, c, s->line, "service %s: no escalation lead", s->name);
    else if (!catalog_person_find(c, s->lead))
        n += problem(out, c, s->line, "service %s: escalation lead %s is not a known person",
                     s->name, s->lead);
    if (!s->runbook)
        n += problem(out, c, s->line, "service %s: no runbook", s->name);
    if (!s->rollback_doc)
        n += problem(out, c, s->line, "service %s: no rollback doc", s->name);
    for (int i = 0; i < s->depends_on.n; i++)
        if (!catalog_service_find(c, s->depends_on.v[i]))
            n += problem(out, c, s->line, "service %s: depends on unknown service %s", s->name,
                         s->depends_on.v[i]);
    return n + lint_raci(c, s, out);
}

static int lint_team(const struct catalog *c, const struct catalog_team *t, struct oc_buf *out)
{
    int n = 0;
    if (t->policy && !catalog_policy_find(c, t->policy))
        n += problem(out, c, t->line, "team %s: escalation policy %s is unknown", t->name,
                     t->policy);
    for (int i = 0; i < t->oncall.people.n; i++)
        if (!catalog_person_find(c, t->oncall.people.v[i]))
            n += problem(out, c, t->line, "team %s: on-call %s is not a known person", t->name,
                         t->oncall.people.v[i]);
    for (int i = 0; i < t->oncall.noverrides; i++)
        if (!catalog_person_find(c, t->oncall.overrides[i].person))
            n += problem(out, c, t->line, "team %s: override person %s is not a known person",
                         t->name, t->oncall.overrides[i].person);
    return n;
}

static int lint_policy(const struct catalog *c, const struct catalog_policy *p, struct oc_buf *out)
{
    int n = 0;
    for (int i = 0; i < p->nsteps; i++) {
        const struct catalog_step *st = &p->steps[i];
        if (st->kind == CATALOG_TARGET_ONCALL && !catalog_team_find(c, st->target))
            n += problem(out, c, p->line, "escalation policy %s: step %d: unknown team %s", p->name,
                         i + 1, st->target);
        if (st->kind == CATALOG_TARGET_PERSON && !catalog_person_find(c, st->target))
            n += problem(out, c, p->line, "escalation policy %s: step %d: unknown person %s",
                         p->name, i + 1, st->target);
    }
    return n;
}

static int cmp_line(const void *a, const void *b)
{
    const struct catalog_service *x = *(const struct catalog_service *const *)a;
    const struct catalog_service *y = *(const struct catalog_service *const *)b;
    if (x->line != y->line)
        return x->line < y->line ? -1 : 1;
    return strcmp(x->name, y->name);
}

int catalog_lint(const struct catalog *c, struct oc_buf *out)
{
    int n = 0;
    for (int i = 0; i < c->nteams; i++)
        n += lint_team(c, &c->teams[i], out);
    for (int i = 0; i < c->npolicies; i++)
        n += lint_policy(c, &c->policies[i], out);
    const struct catalog_service **byline = oc_calloc((size_t)c->nservices + 1, sizeof(*byline));
    for (int i = 0; i < c->nservices; i++)
        byline[i] = c->services[i];
    qsort(byline, (size_t)c->nservices, sizeof(*byline), cmp_line);
    for (int i = 0; i < c->nservices; i++)
        n += lint_service(c, byline[i], out);
    free(byline);
    return n;
}

/* Appends "; " then the message to err (for catalog_check_refs). */
static void add_ref(char *err, size_t errlen, size_t *len, const char *what, const char *name)
{
    if (*len < errlen)
        *len += (size_t)snprintf(err + *len, errlen - *len, "%s%s \"%s\"", *len ? "; " : "", what,
                                 name);
}

int catalog_check_refs(const struct catalog *c, const struct catalog_service *s, char *err,
                       size_t errlen)
{
    size_t len = 0;
    char path[CATALOG_ERR_MAX];
    err[0] = '\0';
    for (int i = 0; i < s->depends_on.n; i++)
        if (strcmp(s->depends_on.v[i], s->name) != 0 &&
            !catalog_service_find(c, s->depends_on.v[i]))
            add_ref(err, errlen, &len, "depends_on: unknown service", s->depends_on.v[i]);
    if (s->team && !catalog_team_find(c, s->team))
        add_ref(err, errlen, &len, "team: unknown team", s->team);
    if (s->lead && !catalog_person_find(c, s->lead))
        add_ref(err, errlen, &len, "escalation_lead: unknown person", s->lead);
    const struct catalog_strv *raci[] = {&s->raci.responsible, &s->raci.accountable,
                                         &s->raci.consulted, &s->raci.informed};
    for (size_t r = 0; r < 4; r++)
        for (int i = 0; i < raci[r]->n; i++)
            if (!known_party(c, raci[r]->v[i]))
                add_ref(err, errlen, &len, "raci: unknown team or person", raci[r]->v[i]);
    for (int i = 0; i < s->depends_on.n && len == 0; i++) {
        const char *d = s->depends_on.v[i];
        if (strcmp(d, s->name) == 0) {
            snprintf(err, errlen, "depends_on: cycle: %s -> %s", s->name, s->name);
            len = strlen(err);
        } else if (catalog_path_to(c, d, s->name, path, sizeof(path))) {
            snprintf(err, errlen, "depends_on: cycle: %s -> %s -> %s", s->name, path, s->name);
            len = strlen(err);
        }
    }
    return len ? OC_EINVAL : 0;
}
