/*
 * overlay.c - what each mitigation kind does to the steering policy.
 *
 * A mitigation is a small JSON spec ({"kind": "shift-cdn", "region": "EMEA", "to": "cdn-b"}).
 * Its overlay is a rule, clone or flag entry put in front of the base policy's own, so the
 * newest mitigation wins and reverting one is simply leaving its overlay out. One table lists
 * the kinds, their arguments and their overlay function.
 */
#include "steer/steer_int.h"
#include "core/err.h"
#include "core/json.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Adds kind's overlay for record id to doc (a private copy). */
typedef int overlay_fn(json_t *doc, const json_t *spec, int64_t id, char *err, size_t errlen);

struct kind {
    const char *name;            /* "shift-cdn" */
    const char *const *required; /* identifier arguments that must be present */
    const char *const *optional; /* other arguments allowed */
    overlay_fn *apply;           /* NULL: recorded and announced only */
    const char *summary;         /* one line for --help */
};

static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return OC_EINVAL;
}

/* Puts v (stolen) first in doc's array member key, creating it if needed. */
static void prepend(json_t *doc, const char *key, json_t *v)
{
    json_t *a = json_object_get(doc, key);
    if (!json_is_array(a)) {
        a = json_array();
        json_object_set_new(doc, key, a);
    }
    json_array_insert_new(a, 0, v);
}

static int known_pathway(const json_t *doc, const char *id)
{
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(doc, "pathways"), i, v)
    {
        if (json_is_string(v) && strcmp(json_string_value(v), id) == 0)
            return 1;
    }
    json_array_foreach(json_object_get(doc, "clones"), i, v)
    {
        const char *cid = json_string_value(json_object_get(v, "id"));
        if (cid && strcmp(cid, id) == 0)
            return 1;
    }
    return 0;
}

static json_t *rule_name(int64_t id)
{
    char name[32];
    snprintf(name, sizeof(name), "mitigation-%lld", (long long)id);
    return json_string(name);
}

/* shift-cdn: sessions of region (a share of them with percent) get `to` first, `from` last. */
static int apply_shift(json_t *doc, const json_t *spec, int64_t id, char *err, size_t errlen)
{
    const char *to = json_string_value(json_object_get(spec, "to"));
    const char *from = json_string_value(json_object_get(spec, "from"));
    json_t *pct = json_object_get(spec, "percent"), *prio = json_array(), *v;
    size_t i;
    if (!known_pathway(doc, to) || (from && !known_pathway(doc, from))) {
        json_decref(prio);
        return fail(err, errlen, "unknown pathway \"%s\" (the policy has no such pathway)",
                    known_pathway(doc, to) ? from : to);
    }
    json_array_append_new(prio, json_string(to));
    json_array_foreach(json_object_get(doc, "pathways"), i, v)
    {
        const char *p = json_string_value(v);
        if (p && strcmp(p, to) != 0 && (!from || strcmp(p, from) != 0))
            json_array_append(prio, v);
    }
    if (from && strcmp(from, to) != 0)
        json_array_append_new(prio, json_string(from));
    json_t *rule = json_pack("{s:o, s:O, s:o}", "name", rule_name(id), "region",
                             json_object_get(spec, "region"), "priority", prio);
    if (pct)
        json_object_set(rule, "percent", pct);
    prepend(doc, "rules", rule);
    return 0;
}

/* backup-origin: a clone of the first pathway whose HOST is the backup origin, served first. */
static int apply_backup(json_t *doc, const json_t *spec, int64_t id, char *err, size_t errlen)
{
    const char *svc = json_string_value(json_object_get(spec, "service"));
    const char *host = json_string_value(json_object_get(spec, "host"));
    const char *base = json_string_value(json_array_get(json_object_get(doc, "pathways"), 0));
    char cid[STEER_ID_BUF + 16];
    snprintf(cid, sizeof(cid), "backup-%s", svc);
    if (!host || !host[0])
        return fail(err, errlen, "host: required (or set steer.backup_origin)");
    if (!base)
        return fail(err, errlen, "the steering policy has no pathway to clone");
    if (!steer_id_valid(cid))
        return fail(err, errlen, "service: too long for a clone id");
    if (!known_pathway(doc, cid))
        prepend(doc, "clones", json_pack("{s:s, s:s, s:s}", "id", cid, "base", base, "host", host));
    prepend(doc, "rules", json_pack("{s:o, s:[s]}", "name", rule_name(id), "priority", cid));
    return 0;
}

/* flag: one flag entry, first so it wins over the base policy's. */
static int apply_flag(json_t *doc, const json_t *spec, int64_t id, char *err, size_t errlen)
{
    static const char *const keys[] = {"name",   "on",     "player", "player_version",
                                       "device", "region", NULL};
    json_t *f = json_object();
    (void)id;
    (void)err;
    (void)errlen;
    for (int i = 0; keys[i]; i++)
        if (json_object_get(spec, keys[i]))
            json_object_set(f, keys[i], json_object_get(spec, keys[i]));
    prepend(doc, "flags", f);
    return 0;
}

static const char *const shift_req[] = {"region", "to", NULL};
static const char *const shift_opt[] = {"from", "percent", NULL};
static const char *const backup_req[] = {"service", NULL};
static const char *const backup_opt[] = {"host", NULL};
static const char *const flag_req[] = {"name", NULL};
static const char *const flag_opt[] = {"on", "player_version", "player", "device", "region", NULL};
static const char *const rollback_req[] = {"service", NULL};
static const char *const none[] = {NULL};

static const struct kind kinds[] = {
    {"shift-cdn", shift_req, shift_opt, apply_shift,
     "move a region's sessions (or a sticky percent of them) to another CDN pathway"},
    {"backup-origin", backup_req, backup_opt, apply_backup,
     "serve every session from a clone of the first pathway on the backup origin host"},
    {"flag", flag_req, flag_opt, apply_flag,
     "turn a feature flag on or off for players (by player, version, device, region)"},
    {"rollback", rollback_req, none, NULL,
     "record and announce a rollback of a service's last deploy"},
    {0},
};

static const struct kind *kind_find(const char *name)
{
    for (const struct kind *k = kinds; name && k->name; k++)
        if (strcmp(k->name, name) == 0)
            return k;
    return NULL;
}

static int in_list(const char *const *l, const char *s)
{
    for (; *l; l++)
        if (strcmp(*l, s) == 0)
            return 1;
    return 0;
}

/* Checks one argument's type: identifiers, except on (bool), percent (0-100), reason (any
 * kind's free text, shown on the timeline), host. */
static int check_arg(const char *key, const json_t *v, char *err, size_t errlen)
{
    double pct;
    if (strcmp(key, "on") == 0)
        return json_is_boolean(v) ? 0 : fail(err, errlen, "on: true or false");
    if (strcmp(key, "percent") == 0) {
        pct = json_number_value(v);
        return json_is_number(v) && pct > 0 && pct <= 100
                   ? 0
                   : fail(err, errlen, "percent: a number above 0, at most 100");
    }
    if (strcmp(key, "reason") == 0)
        return json_is_string(v) && json_string_length(v) <= 512
                   ? 0
                   : fail(err, errlen, "reason: a text of at most 512 bytes");
    if (strcmp(key, "host") == 0)
        return json_is_string(v) && json_string_length(v) <= 255
                   ? 0
                   : fail(err, errlen, "host: a host name");
    return steer_id_valid(json_string_value(v))
               ? 0
               : fail(err, errlen, "%s: 1-64 of [A-Za-z0-9._-]", key);
}

int steer_overlay_check(const json_t *req, json_t **spec, char *err, size_t errlen)
{
    const char *key;
    json_t *v;
    const struct kind *k = kind_find(json_string_value(json_object_get(req, "kind")));
    *spec = NULL;
    if (!json_is_object(req) || !k)
        return fail(err, errlen, "kind: one of shift-cdn, backup-origin, flag, rollback");
    for (int i = 0; k->required[i]; i++)
        if (!json_object_get(req, k->required[i]))
            return fail(err, errlen, "%s: required for %s", k->required[i], k->name);
    if (strcmp(k->name, "flag") == 0 && !json_object_get(req, "on"))
        return fail(err, errlen, "on: required for flag (true or false)");
    json_object_foreach((json_t *)req, key, v)
    {
        if (strcmp(key, "kind") == 0 || strcmp(key, "dry_run") == 0)
            continue;
        if (!in_list(k->required, key) && !in_list(k->optional, key) && strcmp(key, "reason") != 0)
            return fail(err, errlen, "%s: not an argument of %s", key, k->name);
        if (check_arg(key, v, err, errlen))
            return OC_EINVAL;
    }
    *spec = json_deep_copy(req);
    json_object_del(*spec, "dry_run");
    return 0;
}

int steer_mitigation_check(const json_t *req, char *err, size_t errlen)
{
    json_t *spec = NULL;
    int rc = steer_overlay_check(req, &spec, err, errlen);
    json_decref(spec);
    return rc;
}

/* Applies one record's overlay to doc. */
static int apply_record(json_t *doc, const struct steer_record *r, char *err, size_t errlen)
{
    const struct kind *k = kind_find(json_string_value(json_object_get(r->spec, "kind")));
    if (!k)
        return fail(err, errlen, "mitigation %lld: unknown kind", (long long)r->id);
    return k->apply ? k->apply(doc, r->spec, r->id, err, errlen) : 0;
}

json_t *steer_effective_doc(const json_t *base, const struct steer_record *recs, int nrecs,
                            const struct steer_record *extra, char *err, size_t errlen)
{
    json_t *doc = base ? json_deep_copy(base) : json_pack("{s:[]}", "pathways");
    int rc = 0;
    for (int i = 0; i < nrecs && !rc; i++)
        if (!recs[i].reverted_ms)
            rc = apply_record(doc, &recs[i], err, errlen);
    if (!rc && extra)
        rc = apply_record(doc, extra, err, errlen);
    if (rc) {
        json_decref(doc);
        return NULL;
    }
    return doc;
}

const char *steer_kind_summary(int i, const char **name)
{
    if (i < 0 || i >= (int)(sizeof(kinds) / sizeof(kinds[0])) - 1)
        return NULL;
    *name = kinds[i].name;
    return kinds[i].summary;
}
