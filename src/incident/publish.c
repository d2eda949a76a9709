/*
 * publish.c - the status page's publish gate. A new incident is a draft: the status page,
 * its JSON, its feed and its subscribers see it only once a person publishes it (the API,
 * `oncue incident publish`, the console, or a public status update) or the rule of its
 * severity does (incident.publish_sevN_after_s after it opened, while it is still open).
 * An incident a test alert opened is never published by a rule.
 */
#include "incident/incident_int.h"
#include "core/lock.h"
#include "core/err.h"

#include <stdio.h>
#include <string.h>

int inc_publish_locked(struct incident_mgr *m, struct incident *inc, const char *actor,
                       const char *how, int64_t now)
{
    if (inc->published_s)
        return OC_ECONFLICT;
    inc->published_s = now;
    snprintf(inc->published_by, sizeof inc->published_by, "%s", actor);
    inc_tl_add(m, inc->id, now, "published", actor, NULL, 0,
               "published on the status page by %s%s%s", actor, how[0] ? " " : "", how);
    int rc = inc_save(m, inc);
    inc_status_notify(m, "incident.published", inc, NULL);
    return rc;
}

int inc_publish_by_rule(struct incident_mgr *m, struct incident *inc, int64_t now)
{
    char how[96];
    if (inc->published_s || inc->test || !inc_is_open(inc) || inc->sev < 1 || inc->sev > 4)
        return 0;
    int64_t after = m->o.publish_after_s[inc->sev];
    if (after < 0 || now - inc->opened_s < after)
        return 0;
    snprintf(how, sizeof how, "(%s still open %lld s after it opened)", inc_sev_name(inc->sev),
             (long long)(now - inc->opened_s));
    inc_publish_locked(m, inc, "rule", how, now);
    return 1;
}

int incident_publish(struct incident_mgr *m, int64_t id, const char *actor, char *err,
                     size_t errlen)
{
    char at[32];
    int rc;
    inc_lock_write(m);
    struct incident *inc = inc_find(m, id);
    if (!inc) {
        rc = OC_ENOTFOUND;
    } else if (inc->published_s) {
        inc_iso_time(inc->published_s, at, sizeof at);
        snprintf(err, errlen, "already published by %s at %s", inc->published_by, at);
        rc = OC_ECONFLICT;
    } else if (inc->merged_into[0]) { /* one fault, one public incident */
        snprintf(err, errlen, "merged into %s: publish that incident", inc->merged_into);
        rc = OC_ECONFLICT;
    } else {
        rc = inc_publish_locked(m, inc, actor, "", oc_clock_now_s(m->app->clock));
    }
    inc_unlock(m);
    return rc;
}
