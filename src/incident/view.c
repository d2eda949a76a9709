/*
 * view.c - the members other capabilities add to the incident API's JSON.
 *
 * A capability above incident (tickets: the count of linked tickets) registers a function on
 * the manager at start; the API's routes run them over the incidents they answer with,
 * holding no lock. So the incident shows what others know of it while incident includes none
 * of them.
 */
#include "incident/incident_int.h"
#include "core/err.h"

int incident_view_add(struct incident_mgr *m, incident_view_fn *fn, void *arg)
{
    if (m->nviews >= INCIDENT_VIEWS_MAX)
        return OC_ETOOBIG;
    m->views[m->nviews].fn = fn;
    m->views[m->nviews].arg = arg;
    m->nviews++;
    return 0;
}

void incident_view_remove(struct incident_mgr *m, incident_view_fn *fn, void *arg)
{
    for (int i = 0; i < m->nviews; i++) {
        if (m->views[i].fn != fn || m->views[i].arg != arg)
            continue;
        for (int k = i + 1; k < m->nviews; k++)
            m->views[k - 1] = m->views[k];
        m->nviews--;
        return;
    }
}

void incident_view_apply(struct incident_mgr *m, json_t *incidents)
{
    for (int i = 0; i < m->nviews; i++)
        m->views[i].fn(m->views[i].arg, incidents);
}
