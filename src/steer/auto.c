/*
 * auto.c - automatic steering: when an alert fires on one CDN in one region while another CDN
 * there is healthy, shift the region with an ordinary shift-cdn mitigation (actor "auto", with a
 * reason), and revert it once the broken CDN has been healthy for the hold time.
 *
 * Off unless the policy's "auto" object enables it. Hysteresis: the revert waits for hold_s of
 * health; a region moves (either way) at most once per min_interval_s. Decisions are made under
 * auto_mu, but mitigations are applied outside it, since applying publishes on the bus and a
 * subscriber may publish alerts in turn.
 */
#include "steer/steer_int.h"
#include "core/lock.h"
#include "core/topics.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/log.h"

#include <stdio.h>
#include <string.h>

/* A snapshot of the policy's automatic-steering settings. */
struct auto_cfg {
    int enabled;                                  /* allowed for this region */
    int64_t hold_ms, interval_ms;                 /* hysteresis and move cap */
    char order[STEER_MAX_PATHWAYS][STEER_ID_BUF]; /* default pathway order */
    int norder;
};

/* Reads the settings that apply to region from the effective policy. */
static void auto_cfg_read(struct steer *st, const char *region, struct auto_cfg *c)
{
    memset(c, 0, sizeof(*c));
    pthread_rwlock_rdlock(&st->lock);
    const struct steer_policy *p = st->pol;
    if (p && p->auto_enabled) {
        c->enabled = p->nauto_regions == 0;
        for (int i = 0; i < p->nauto_regions && !c->enabled; i++)
            c->enabled = strcmp(p->auto_regions[i], region) == 0;
        c->hold_ms = p->auto_hold_s * 1000;
        c->interval_ms = p->auto_interval_s * 1000;
        c->norder = p->npathways;
        memcpy(c->order, p->names, sizeof(c->order[0]) * (size_t)p->npathways);
    }
    pthread_rwlock_unlock(&st->lock);
}

/* The firing counter of (region, cdn); created (if room) when create is set. NULL otherwise. */
static struct steer_auto_firing *firing_get(struct steer *st, const char *region, const char *cdn,
                                            int create)
{
    for (int i = 0; i < st->nfiring; i++)
        if (strcmp(st->firing[i].region, region) == 0 && strcmp(st->firing[i].cdn, cdn) == 0)
            return &st->firing[i];
    if (!create || st->nfiring == STEER_AUTO_MAX)
        return NULL;
    struct steer_auto_firing *f = &st->firing[st->nfiring++];
    snprintf(f->region, sizeof(f->region), "%s", region);
    snprintf(f->cdn, sizeof(f->cdn), "%s", cdn);
    f->count = 0;
    return f;
}

static int firing_count(struct steer *st, const char *region, const char *cdn)
{
    struct steer_auto_firing *f = firing_get(st, region, cdn, 0);
    return f ? f->count : 0;
}

/* The automatic-steering state of region; created (if room) when create is set. */
static struct steer_auto_region *region_get(struct steer *st, const char *region, int create)
{
    for (int i = 0; i < st->nauto; i++)
        if (strcmp(st->auto_regions[i].region, region) == 0)
            return &st->auto_regions[i];
    if (!create || st->nauto == STEER_AUTO_MAX)
        return NULL;
    struct steer_auto_region *r = &st->auto_regions[st->nauto++];
    memset(r, 0, sizeof(*r));
    snprintf(r->region, sizeof(r->region), "%s", region);
    return r;
}

/* Decides under auto_mu whether an alert on (region, cdn) moves the region; on yes, marks the
 * region as applying and writes the target pathway into to. */
static int decide_shift(struct steer *st, const char *region, const char *cdn,
                        const struct auto_cfg *c, int64_t now, char to[STEER_ID_BUF])
{
    struct steer_auto_region *r = region_get(st, region, 1);
    int known = 0;
    for (int i = 0; i < c->norder; i++)
        known |= strcmp(c->order[i], cdn) == 0;
    if (!r || !known)
        return 0;
    if (r->mitigation_id) { /* already shifted: the broken pathway is broken again */
        if (strcmp(r->from, cdn) == 0)
            r->healthy_since_ms = 0;
        return 0;
    }
    if (r->last_move_ms && now - r->last_move_ms < c->interval_ms) {
        oc_log(OC_LOG_WARN, "steer auto: %s moved %llds ago, not moving again yet", region,
               (long long)((now - r->last_move_ms) / 1000));
        return 0;
    }
    for (int i = 0; i < c->norder; i++) {
        if (strcmp(c->order[i], cdn) == 0 || firing_count(st, region, c->order[i]) > 0)
            continue;
        snprintf(to, STEER_ID_BUF, "%s", c->order[i]);
        snprintf(r->from, sizeof(r->from), "%s", cdn);
        snprintf(r->to, sizeof(r->to), "%s", to);
        r->mitigation_id = -1;
        r->healthy_since_ms = 0;
        return 1;
    }
    return 0;
}

/* Applies the automatic shift decided for region and records its outcome. */
static void apply_shift(struct steer *st, const char *region, const char *from, const char *to,
                        const char *rule)
{
    char reason[512], err[256] = "";
    json_t *rec = NULL;
    snprintf(reason, sizeof(reason),
             "automatic: alert %s fired on cdn=%s in region=%s; cdn=%s has no alert there",
             rule ? rule : "(unnamed)", from, region, to);
    json_t *req = json_pack("{s:s, s:s, s:s, s:s, s:s}", "kind", "shift-cdn", "region", region,
                            "from", from, "to", to, "reason", reason);
    int rc = steer_mitigate(st, req, "auto", 0, &rec, err, sizeof(err));
    int64_t now = oc_clock_now_ms(st->clock);
    oc_lock(&st->auto_mu);
    struct steer_auto_region *r = region_get(st, region, 0);
    if (r) {
        r->mitigation_id = rc ? 0 : json_integer_value(json_object_get(rec, "id"));
        if (!rc)
            r->last_move_ms = now;
    }
    oc_unlock(&st->auto_mu);
    if (rc)
        oc_log(OC_LOG_ERROR, "steer auto: shifting %s to %s failed: %s", region, to, err);
    json_decref(rec);
    json_decref(req);
}

void steer_auto_on_alert(const char *topic, const json_t *payload, void *arg)
{
    struct steer *st = arg;
    struct auto_cfg c;
    char to[STEER_ID_BUF];
    struct oc_ev_alert ev;
    oc_ev_alert_read(payload, &ev); /* fields absent from payload read as "" or NULL */
    const char *region = json_string_value(json_object_get(ev.slice, "region"));
    const char *cdn = json_string_value(json_object_get(ev.slice, "cdn"));
    int fired = strcmp(topic, OC_TOPIC_ALERT_FIRED) == 0, shift = 0;
    if ((ev.level[0] && strcmp(ev.level, "page") != 0) || !steer_id_valid(region) ||
        !steer_id_valid(cdn) || (!fired && strcmp(topic, OC_TOPIC_ALERT_RESOLVED) != 0))
        return;
    auto_cfg_read(st, region, &c);
    int64_t now = oc_clock_now_ms(st->clock);
    oc_lock(&st->auto_mu);
    struct steer_auto_firing *f = firing_get(st, region, cdn, fired);
    if (f)
        f->count = fired ? f->count + 1 : (f->count > 0 ? f->count - 1 : 0);
    if (fired && c.enabled) {
        shift = decide_shift(st, region, cdn, &c, now, to);
    } else if (!fired) {
        struct steer_auto_region *r = region_get(st, region, 0);
        if (r && r->mitigation_id > 0 && strcmp(r->from, cdn) == 0 &&
            firing_count(st, region, cdn) == 0)
            r->healthy_since_ms = now;
    }
    oc_unlock(&st->auto_mu);
    if (shift)
        apply_shift(st, region, cdn, to, ev.rule[0] ? ev.rule : NULL);
}

int steer_auto_tick(struct steer *st)
{
    int64_t due[STEER_AUTO_MAX], now = oc_clock_now_ms(st->clock);
    int ndue = 0, reverted = 0;
    oc_lock(&st->auto_mu);
    for (int i = 0; i < st->nauto; i++) {
        struct steer_auto_region *r = &st->auto_regions[i];
        struct auto_cfg c;
        if (r->mitigation_id <= 0 || !r->healthy_since_ms)
            continue;
        oc_unlock(&st->auto_mu); /* the policy lock is never taken inside auto_mu */
        auto_cfg_read(st, r->region, &c);
        oc_lock(&st->auto_mu);
        if (r->mitigation_id > 0 && r->healthy_since_ms && now - r->healthy_since_ms >= c.hold_ms &&
            now - r->last_move_ms >= c.interval_ms) {
            due[ndue++] = r->mitigation_id;
            r->mitigation_id = 0;
            r->healthy_since_ms = 0;
            r->last_move_ms = now;
        }
    }
    oc_unlock(&st->auto_mu);
    for (int i = 0; i < ndue; i++) {
        int rc = steer_revert(st, due[i], "auto", NULL);
        reverted += rc == 0;
        if (rc && rc != OC_ECONFLICT) /* ECONFLICT: a person reverted it already */
            oc_log(OC_LOG_ERROR, "steer auto: revert of %lld: %s", (long long)due[i],
                   oc_strerror(rc));
    }
    return reverted;
}
