/*
 * parse.c - from a JSON tree (an API body, or a YAML file converted by load.c) to the catalog
 * model. Each object kind is a field table (key, type, where it goes, bounds); one walker
 * checks types, rejects unknown fields and names the field at fault in every message.
 */
#include "catalog/catalog_int.h"
#include "core/alloc.h"
#include "core/err.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum ftype {
    F_NAME = 1,  /* char *: [A-Za-z0-9._-], shorter than CATALOG_NAME_MAX */
    F_TEXT,      /* char *: printable, shorter than CATALOG_TEXT_MAX */
    F_KIND,      /* char *: one of catalog_kinds */
    F_INT,       /* int within [min, max] */
    F_NAMES,     /* struct catalog_strv of names; a single name is accepted */
    F_SLICES,    /* serves: struct catalog_slice * then int count */
    F_RACI,      /* struct catalog_raci */
    F_SCHEDULE,  /* struct catalog_schedule */
    F_HANDOFF,   /* "monday 09:00" into two ints (weekday, minute of day) */
    F_TIME,      /* int64_t unix ms (catalog_time_parse) */
    F_UTC,       /* must be "UTC"; stores nothing */
    F_OVERRIDES, /* struct catalog_override * then int count */
    F_STEPS,     /* struct catalog_step * then int count */
};

struct field {
    const char *key;
    enum ftype type;
    size_t off; /* into the struct being filled */
    int required;
    int min, max; /* F_INT bounds */
};

#define SVC(f) offsetof(struct catalog_service, f)
static const struct field service_fields[] = {
    {"name", F_NAME, SVC(name), 1, 0, 0},
    {"kind", F_KIND, SVC(kind), 1, 0, 0},
    {"team", F_NAME, SVC(team), 0, 0, 0},
    {"escalation_lead", F_NAME, SVC(lead), 0, 0, 0},
    {"support", F_TEXT, SVC(support), 0, 0, 0},
    {"runbook", F_TEXT, SVC(runbook), 0, 0, 0},
    {"rollback_doc", F_TEXT, SVC(rollback_doc), 0, 0, 0},
    {"deploy_webhook", F_TEXT, SVC(deploy_webhook), 0, 0, 0},
    {"description", F_TEXT, SVC(description), 0, 0, 0},
    {"public_name", F_TEXT, SVC(public_name), 0, 0, 0},
    {"tier", F_INT, SVC(tier), 0, 1, 4},
    {"serves", F_SLICES, SVC(serves), 0, 0, 0},
    {"depends_on", F_NAMES, SVC(depends_on), 0, 0, 0},
    {"raci", F_RACI, SVC(raci), 0, 0, 0},
    {0},
};

#define RACI(f) offsetof(struct catalog_raci, f)
static const struct field raci_fields[] = {
    {"responsible", F_NAMES, RACI(responsible), 0, 0, 0},
    {"accountable", F_NAMES, RACI(accountable), 0, 0, 0},
    {"consulted", F_NAMES, RACI(consulted), 0, 0, 0},
    {"informed", F_NAMES, RACI(informed), 0, 0, 0},
    {0},
};

#define PER(f) offsetof(struct catalog_person, f)
static const struct field person_fields[] = {
    {"name", F_NAME, PER(name), 1, 0, 0},
    {"full_name", F_TEXT, PER(full_name), 0, 0, 0},
    {"email", F_TEXT, PER(email), 0, 0, 0},
    {"phone", F_TEXT, PER(phone), 0, 0, 0},
    {0},
};

#define TEAM(f) offsetof(struct catalog_team, f)
static const struct field team_fields[] = {
    {"name", F_NAME, TEAM(name), 1, 0, 0},
    {"channel", F_TEXT, TEAM(channel), 0, 0, 0},
    {"escalation_policy", F_NAME, TEAM(policy), 0, 0, 0},
    {"oncall", F_SCHEDULE, TEAM(oncall), 0, 0, 0},
    {0},
};

/* "start" lands in first_ms and is turned into the first handoff afterwards. */
#define SCH(f) offsetof(struct catalog_schedule, f)
static const struct field schedule_fields[] = {
    {"people", F_NAMES, SCH(people), 1, 0, 0},
    {"handoff", F_HANDOFF, SCH(handoff_wday), 0, 0, 0},
    {"start", F_TIME, SCH(first_ms), 0, 0, 0},
    {"timezone", F_UTC, 0, 0, 0, 0},
    {"overrides", F_OVERRIDES, SCH(overrides), 0, 0, 0},
    {0},
};

#define OVR(f) offsetof(struct catalog_override, f)
static const struct field override_fields[] = {
    {"from", F_TIME, OVR(from_ms), 1, 0, 0},
    {"to", F_TIME, OVR(to_ms), 1, 0, 0},
    {"person", F_NAME, OVR(person), 1, 0, 0},
    {0},
};

#define POL(f) offsetof(struct catalog_policy, f)
static const struct field policy_fields[] = {
    {"name", F_NAME, POL(name), 1, 0, 0},
    {"repeat", F_INT, POL(repeat), 0, 0, 10},
    {"steps", F_STEPS, POL(steps), 1, 0, 0},
    {0},
};

static const char *const weekdays[] = {"sunday",   "monday", "tuesday", "wednesday",
                                       "thursday", "friday", "saturday"};

static int fail(struct catalog_perr *e, const json_t *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(struct catalog_perr *e, const json_t *at, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
    va_end(ap);
    e->at = at;
    return OC_EINVAL;
}

static int parse_object(const json_t *obj, const struct field *fields, void *base, const char *what,
                        struct catalog_perr *e);

static int line_of(const struct catalog_perr *e, const json_t *node)
{
    return e->line_of ? e->line_of(e->map, node) : 0;
}

static int valid_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n >= CATALOG_NAME_MAX)
        return 0;
    return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == n;
}

static int valid_text(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n >= CATALOG_TEXT_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return 0;
    return 1;
}

/* A string field: checks it and stores a copy in *dst. */
static int get_string(const json_t *v, enum ftype t, char **dst, const char *what, const char *key,
                      struct catalog_perr *e)
{
    if (!json_is_string(v))
        return fail(e, v, "%s: field \"%s\" must be a string", what, key);
    const char *s = json_string_value(v);
    if (t == F_NAME && !valid_name(s))
        return fail(e, v,
                    "%s: field \"%s\": \"%.64s\" is not a name (letters, digits, '.', '_', "
                    "'-', at most %d)",
                    what, key, s, CATALOG_NAME_MAX - 1);
    if (t == F_TEXT && !valid_text(s))
        return fail(e, v, "%s: field \"%s\" must be non-empty printable text under %d bytes", what,
                    key, CATALOG_TEXT_MAX);
    if (t == F_KIND) {
        int ok = 0;
        for (const char *const *k = catalog_kinds; *k && !ok; k++)
            ok = strcmp(*k, s) == 0;
        if (!ok)
            return fail(e, v, "%s: field \"%s\": unknown kind \"%.64s\"", what, key, s);
    }
    free(*dst);
    *dst = oc_strdup(s);
    return 0;
}

static int get_names(const json_t *v, struct catalog_strv *dst, const char *what, const char *key,
                     struct catalog_perr *e)
{
    if (json_is_string(v)) {
        dst->v = oc_calloc(1, sizeof(char *));
        dst->n = 1;
        return get_string(v, F_NAME, &dst->v[0], what, key, e);
    }
    if (!json_is_array(v))
        return fail(e, v, "%s: field \"%s\" must be a list of names", what, key);
    if (json_array_size(v) > CATALOG_MAX_LIST)
        return fail(e, v, "%s: field \"%s\" has more than %d entries", what, key, CATALOG_MAX_LIST);
    dst->v = oc_calloc(json_array_size(v) + 1, sizeof(char *));
    size_t i;
    const json_t *item;
    json_array_foreach(v, i, item)
    {
        int rc = get_string(item, F_NAME, &dst->v[dst->n], what, key, e);
        if (rc)
            return rc;
        dst->n++;
    }
    return 0;
}

static int get_slices(const json_t *v, struct catalog_service *s, const char *what,
                      struct catalog_perr *e)
{
    if (!json_is_array(v))
        return fail(e, v, "%s: field \"serves\" must be a list of \"dim=value,...\"", what);
    if (json_array_size(v) > CATALOG_MAX_LIST)
        return fail(e, v, "%s: field \"serves\" has more than %d entries", what, CATALOG_MAX_LIST);
    s->serves = oc_calloc(json_array_size(v) + 1, sizeof(s->serves[0]));
    size_t i;
    const json_t *item;
    json_array_foreach(v, i, item)
    {
        char err[CATALOG_ERR_MAX / 2];
        if (!json_is_string(item))
            return fail(e, item, "%s: field \"serves\": entries must be strings", what);
        if (catalog_slice_parse(json_string_value(item), &s->serves[s->nserves], err,
                                sizeof(err)) != 0)
            return fail(e, item, "%s: field \"serves\": %s", what, err);
        s->nserves++;
    }
    return 0;
}

static int get_handoff(const json_t *v, int *wday_min, const char *what, struct catalog_perr *e)
{
    char day[16];
    int hh, mm, used = 0;
    const char *s = json_is_string(v) ? json_string_value(v) : "";
    if (sscanf(s, "%15s %2d:%2d%n", day, &hh, &mm, &used) != 3 || s[used] != '\0' || hh > 23 ||
        mm > 59 || hh < 0 || mm < 0)
        return fail(e, v, "%s: field \"handoff\" must look like \"monday 09:00\"", what);
    for (int d = 0; d < 7; d++) {
        if (strcasecmp(day, weekdays[d]) == 0 ||
            (strlen(day) == 3 && strncasecmp(day, weekdays[d], 3) == 0)) {
            wday_min[0] = d;
            wday_min[1] = hh * 60 + mm;
            return 0;
        }
    }
    return fail(e, v, "%s: field \"handoff\": unknown weekday \"%s\"", what, day);
}

static int get_overrides(const json_t *v, struct catalog_schedule *sch, const char *what,
                         struct catalog_perr *e)
{
    if (!json_is_array(v))
        return fail(e, v, "%s: field \"overrides\" must be a list", what);
    if (json_array_size(v) > CATALOG_MAX_OVERRIDES)
        return fail(e, v, "%s: more than %d overrides", what, CATALOG_MAX_OVERRIDES);
    sch->overrides = oc_calloc(json_array_size(v) + 1, sizeof(sch->overrides[0]));
    size_t i;
    const json_t *item;
    json_array_foreach(v, i, item)
    {
        struct catalog_override *o = &sch->overrides[sch->noverrides++];
        char sub[CATALOG_ERR_MAX / 2];
        snprintf(sub, sizeof(sub), "%s: overrides[%zu]", what, i);
        int rc = parse_object(item, override_fields, o, sub, e);
        if (rc)
            return rc;
        if (o->from_ms >= o->to_ms)
            return fail(e, item, "%s: \"from\" must be before \"to\"", sub);
    }
    return 0;
}

static const char *const step_targets[] = {"oncall", "person", "webhook", NULL};

static int get_step(const json_t *obj, struct catalog_step *st, const char *what,
                    struct catalog_perr *e)
{
    const char *key;
    const json_t *v;
    if (!json_is_object(obj))
        return fail(e, obj, "%s must be a mapping", what);
    json_object_foreach((json_t *)obj, key, v)
    {
        int k = 0;
        while (step_targets[k] && strcmp(step_targets[k], key) != 0)
            k++;
        if (step_targets[k]) {
            if (st->kind)
                return fail(e, v, "%s: give one of oncall, person or webhook", what);
            st->kind = (enum catalog_target)(k + 1);
            int rc = get_string(v, k == 2 ? F_TEXT : F_NAME, &st->target, what, key, e);
            if (rc)
                return rc;
        } else if (strcmp(key, "wait_minutes") == 0) {
            if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 1440)
                return fail(e, v, "%s: field \"wait_minutes\" must be an integer from 0 to 1440",
                            what);
            st->wait_minutes = (int)json_integer_value(v);
        } else {
            return fail(e, v, "%s: unknown field \"%s\"", what, key);
        }
    }
    if (!st->kind)
        return fail(e, obj, "%s: needs one of oncall, person or webhook", what);
    return 0;
}

static int get_steps(const json_t *v, struct catalog_policy *p, const char *what,
                     struct catalog_perr *e)
{
    if (!json_is_array(v) || json_array_size(v) == 0)
        return fail(e, v, "%s: field \"steps\" must be a non-empty list", what);
    if (json_array_size(v) > CATALOG_MAX_STEPS)
        return fail(e, v, "%s: more than %d steps", what, CATALOG_MAX_STEPS);
    p->steps = oc_calloc(json_array_size(v), sizeof(p->steps[0]));
    size_t i;
    const json_t *item;
    json_array_foreach(v, i, item)
    {
        char sub[CATALOG_ERR_MAX / 2];
        snprintf(sub, sizeof(sub), "%s: steps[%zu]", what, i);
        p->nsteps++;
        int rc = get_step(item, &p->steps[i], sub, e);
        if (rc)
            return rc;
    }
    return 0;
}

/* Stores one field's value at base + f->off. */
static int set_field(const json_t *v, const struct field *f, void *base, const char *what,
                     struct catalog_perr *e)
{
    char *p = (char *)base + f->off;
    switch (f->type) {
    case F_NAME:
    case F_TEXT:
    case F_KIND:
        return get_string(v, f->type, (char **)(void *)p, what, f->key, e);
    case F_INT:
        if (!json_is_integer(v) || json_integer_value(v) < f->min || json_integer_value(v) > f->max)
            return fail(e, v, "%s: field \"%s\" must be an integer from %d to %d", what, f->key,
                        f->min, f->max);
        *(int *)(void *)p = (int)json_integer_value(v);
        return 0;
    case F_NAMES:
        return get_names(v, (struct catalog_strv *)(void *)p, what, f->key, e);
    case F_SLICES:
        return get_slices(v, (struct catalog_service *)base, what, e);
    case F_RACI:
        return parse_object(v, raci_fields, p, what, e);
    case F_SCHEDULE:
        return parse_object(v, schedule_fields, p, what, e);
    case F_HANDOFF:
        return get_handoff(v, (int *)(void *)p, what, e);
    case F_TIME:
        if (!json_is_string(v) ||
            catalog_time_parse(json_string_value(v), (int64_t *)(void *)p) != 0)
            return fail(e, v, "%s: field \"%s\" must be a UTC time like 2026-11-25T19:43:00Z", what,
                        f->key);
        return 0;
    case F_UTC:
        if (!json_is_string(v) || strcmp(json_string_value(v), "UTC") != 0)
            return fail(e, v, "%s: field \"%s\": only UTC is supported", what, f->key);
        return 0;
    case F_OVERRIDES:
        return get_overrides(v, (struct catalog_schedule *)base, what, e);
    case F_STEPS:
        return get_steps(v, (struct catalog_policy *)base, what, e);
    }
    return fail(e, v, "%s: field \"%s\": unsupported type", what, f->key);
}

/* 1 when obj has members not in fields: e names them all and points at the first. */
static int unknown_fields(const json_t *obj, const struct field *fields, const char *what,
                          struct catalog_perr *e)
{
    const char *key;
    const json_t *v, *first = NULL;
    char names[CATALOG_ERR_MAX / 2] = "";
    size_t len = 0;
    int n = 0;
    json_object_foreach((json_t *)obj, key, v)
    {
        const struct field *f = fields;
        while (f->key && strcmp(f->key, key) != 0)
            f++;
        if (f->key)
            continue;
        first = first ? first : v;
        if (len < sizeof(names))
            len += (size_t)snprintf(names + len, sizeof(names) - len, "%s\"%.64s\"", n ? ", " : "",
                                    key);
        n++;
    }
    if (n)
        fail(e, first, "%s: unknown field%s %s", what, n > 1 ? "s" : "", names);
    return n > 0;
}

/* Walks obj against fields: unknown and missing fields are errors. */
static int parse_object(const json_t *obj, const struct field *fields, void *base, const char *what,
                        struct catalog_perr *e)
{
    const char *key;
    const json_t *v;
    if (!json_is_object(obj))
        return fail(e, obj, "%s must be a mapping", what);
    if (unknown_fields(obj, fields, what, e))
        return OC_EINVAL;
    json_object_foreach((json_t *)obj, key, v)
    {
        const struct field *f = fields;
        while (f->key && strcmp(f->key, key) != 0)
            f++;
        if (json_is_null(v))
            continue;
        int rc = set_field(v, f, base, what, e);
        if (rc)
            return rc;
    }
    for (const struct field *f = fields; f->key; f++) {
        const json_t *rv = json_object_get(obj, f->key);
        if (f->required && (!rv || json_is_null(rv)))
            return fail(e, obj, "%s: field \"%s\" is required", what, f->key);
    }
    return 0;
}

/* "service \"NAME\"" when the object has a string name, else "services[i]". */
static void item_label(const json_t *obj, const char *singular, const char *list, size_t i,
                       char *out, size_t n)
{
    const json_t *name = json_object_get(obj, "name");
    if (json_is_string(name) && valid_name(json_string_value(name)))
        snprintf(out, n, "%s \"%s\"", singular, json_string_value(name));
    else
        snprintf(out, n, "%s[%zu]", list, i);
}

int catalog_parse_service(const json_t *obj, struct catalog_service **out, struct catalog_perr *e)
{
    char what[CATALOG_NAME_MAX + 16];
    struct catalog_service *s = oc_calloc(1, sizeof(*s));
    item_label(obj, "service", "services", 0, what, sizeof(what));
    int rc = parse_object(obj, service_fields, s, what, e);
    if (rc) {
        catalog_service_destroy(s);
        return rc;
    }
    *out = s;
    return 0;
}

/* Turns the "start" time parsed into first_ms into the first handoff at or after it. */
static void schedule_finish(struct catalog_schedule *sch, int has_handoff)
{
    if (!has_handoff) {
        sch->handoff_wday = 1; /* monday 09:00 */
        sch->handoff_min = 9 * 60;
    }
    int64_t start = sch->first_ms;
    int64_t day = start >= 0 ? start / 86400000 : (start - 86399999) / 86400000;
    int wday = (int)(((day % 7) + 7 + 4) % 7); /* 1970-01-01 was a Thursday */
    int64_t first = day * 86400000 + (int64_t)((sch->handoff_wday - wday + 7) % 7) * 86400000 +
                    (int64_t)sch->handoff_min * 60000;
    if (first < start)
        first += CATALOG_WEEK_MS;
    sch->first_ms = first;
}

static int parse_people(const json_t *arr, struct catalog *c, struct catalog_perr *e)
{
    size_t i;
    const json_t *item;
    if (json_array_size(arr) > CATALOG_MAX_PEOPLE)
        return fail(e, arr, "more than %d people", CATALOG_MAX_PEOPLE);
    c->people = oc_calloc(json_array_size(arr) + 1, sizeof(c->people[0]));
    json_array_foreach(arr, i, item)
    {
        char what[CATALOG_NAME_MAX + 16];
        item_label(item, "person", "people", i, what, sizeof(what));
        c->people[c->npeople].line = line_of(e, item);
        int rc = parse_object(item, person_fields, &c->people[c->npeople++], what, e);
        if (rc)
            return rc;
    }
    return 0;
}

static int parse_teams(const json_t *arr, struct catalog *c, struct catalog_perr *e)
{
    size_t i;
    const json_t *item;
    if (json_array_size(arr) > CATALOG_MAX_TEAMS)
        return fail(e, arr, "more than %d teams", CATALOG_MAX_TEAMS);
    c->teams = oc_calloc(json_array_size(arr) + 1, sizeof(c->teams[0]));
    json_array_foreach(arr, i, item)
    {
        char what[CATALOG_NAME_MAX + 16];
        struct catalog_team *t = &c->teams[c->nteams++];
        t->line = line_of(e, item);
        item_label(item, "team", "teams", i, what, sizeof(what));
        int rc = parse_object(item, team_fields, t, what, e);
        if (rc)
            return rc;
        const json_t *oc = json_object_get(item, "oncall");
        if (json_is_object(oc))
            schedule_finish(&t->oncall, json_object_get(oc, "handoff") != NULL);
    }
    return 0;
}

static int parse_policies(const json_t *arr, struct catalog *c, struct catalog_perr *e)
{
    size_t i;
    const json_t *item;
    if (json_array_size(arr) > CATALOG_MAX_POLICIES)
        return fail(e, arr, "more than %d escalation policies", CATALOG_MAX_POLICIES);
    c->policies = oc_calloc(json_array_size(arr) + 1, sizeof(c->policies[0]));
    json_array_foreach(arr, i, item)
    {
        char what[CATALOG_NAME_MAX + 32];
        item_label(item, "escalation policy", "escalation_policies", i, what, sizeof(what));
        c->policies[c->npolicies].line = line_of(e, item);
        int rc = parse_object(item, policy_fields, &c->policies[c->npolicies++], what, e);
        if (rc)
            return rc;
    }
    return 0;
}

static int parse_services(const json_t *arr, struct catalog *c, struct catalog_perr *e)
{
    size_t i;
    const json_t *item;
    if (json_array_size(arr) > CATALOG_MAX_SERVICES)
        return fail(e, arr, "more than %d services", CATALOG_MAX_SERVICES);
    c->services = oc_calloc(json_array_size(arr) + 1, sizeof(c->services[0]));
    json_array_foreach(arr, i, item)
    {
        char what[CATALOG_NAME_MAX + 16];
        struct catalog_service *s = oc_calloc(1, sizeof(*s));
        c->services[c->nservices++] = s;
        s->line = line_of(e, item);
        item_label(item, "service", "services", i, what, sizeof(what));
        int rc = parse_object(item, service_fields, s, what, e);
        if (rc)
            return rc;
    }
    return 0;
}

typedef int parse_list_fn(const json_t *arr, struct catalog *c, struct catalog_perr *e);

static const struct {
    const char *key;
    parse_list_fn *fn;
} sections[] = {
    {"people", parse_people},     {"teams", parse_teams}, {"escalation_policies", parse_policies},
    {"services", parse_services}, {NULL, NULL},
};

/* default_owner: the name of a service (checked once the services are read). */
static int parse_default_owner(const json_t *v, struct catalog *c, struct catalog_perr *e)
{
    const char *s = json_string_value(v);
    if (!s || !s[0] || strlen(s) >= CATALOG_NAME_MAX)
        return fail(e, v, "field \"default_owner\" must be a service name");
    free(c->default_owner);
    c->default_owner = oc_strdup(s);
    return 0;
}

int catalog_parse_doc(const json_t *root, struct catalog *c, struct catalog_perr *e)
{
    const char *key;
    const json_t *v, *owner = NULL;
    if (!json_is_object(root))
        return fail(e, root,
                    "the catalog must be a mapping (version, people, teams, "
                    "escalation_policies, services, default_owner)");
    json_object_foreach((json_t *)root, key, v)
    {
        if (strcmp(key, "version") == 0) {
            if (!json_is_integer(v) || json_integer_value(v) != 1)
                return fail(e, v, "field \"version\" must be 1");
            continue;
        }
        if (strcmp(key, "default_owner") == 0) {
            int rc = parse_default_owner(v, c, e);
            if (rc)
                return rc;
            owner = v;
            continue;
        }
        int k = 0;
        while (sections[k].key && strcmp(sections[k].key, key) != 0)
            k++;
        if (!sections[k].key)
            return fail(e, v, "unknown field \"%.64s\"", key);
        if (json_is_null(v))
            continue;
        if (!json_is_array(v))
            return fail(e, v, "field \"%s\" must be a list", key);
        int rc = sections[k].fn(v, c, e);
        if (rc)
            return rc;
    }
    int rc = catalog_sort(c, e);
    if (rc == 0 && c->default_owner && !catalog_service_find(c, c->default_owner))
        rc =
            fail(e, owner, "field \"default_owner\": no service named \"%.64s\"", c->default_owner);
    return rc;
}
