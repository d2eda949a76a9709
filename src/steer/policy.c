/*
 * policy.c - compiles a steering policy document and evaluates it per request.
 *
 * Compilation validates everything once (identifiers, known pathways, clone bases, caps) and
 * renders, for the default and for every rule, the manifest bytes that follow RELOAD-URI. A
 * request only picks the first matching rule whose sticky share covers its session, then
 * copies head + RELOAD-URI + tail: no JSON work on the hot path.
 */
#include "steer/steer_int.h"
#include "core/alloc.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/json.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TAIL_MAX 65536 /* bytes of one rendered tail */

static const char *const doc_keys[] = {"ttl",     "pathways", "clones", "rules",
                                       "retired", "flags",    "auto",   NULL};
static const char *const auto_keys[] = {"enabled", "regions", "hold_s", "min_interval_s", NULL};
static const char *const clone_keys[] = {"id", "base", "host", "params", NULL};
static const char *const rule_keys[] = {"name",   "region",   "country", "isp", "asn",
                                        "device", "priority", "percent", NULL};
static const char *const flag_keys[] = {"name",   "on",     "player", "player_version",
                                        "device", "region", NULL};

static int fail(char *err, size_t errlen, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return rc;
}

/* Reads optional (or required) identifier member key of obj into dst. */
static int get_id(const json_t *obj, const char *key, int required, char *dst, const char *ctx,
                  char *err, size_t errlen)
{
    const char *s = NULL;
    int rc = oc_json_get_str(obj, key, &s);
    dst[0] = '\0';
    if (rc == OC_ENOTFOUND && !required)
        return 0;
    if (rc || !steer_id_valid(s))
        return fail(err, errlen, OC_EINVAL, "%s.%s: %s", ctx, key,
                    rc == OC_ENOTFOUND ? "required" : "must be 1-64 of [A-Za-z0-9._-]");
    memcpy(dst, s, strlen(s) + 1);
    return 0;
}

/* Index of name in p->names, or -1. */
static int name_index(const struct steer_policy *p, const char *name)
{
    for (int i = 0; i < p->nnames; i++)
        if (strcmp(p->names[i], name) == 0)
            return i;
    return -1;
}

static int host_valid(const char *h)
{
    size_t n = strlen(h);
    if (n == 0 || n > 255)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]", h[i]))
            return 0;
    return 1;
}

static int param_value_valid(const char *v)
{
    size_t n = strlen(v);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)v[i] < 0x20 || (unsigned char)v[i] == 0x7f)
            return 0;
    return n <= 256;
}

/* Validates one clone and returns its PATHWAY-CLONES object (new reference) in *out. */
static int compile_clone(struct steer_policy *p, const json_t *c, int i, json_t **out, char *err,
                         size_t errlen)
{
    char ctx[32], id[STEER_ID_BUF], base[STEER_ID_BUF], k[STEER_ID_BUF];
    const char *host = NULL, *key;
    json_t *params = json_object_get(c, "params"), *v;
    snprintf(ctx, sizeof(ctx), "clones[%d]", i);
    if (!json_is_object(c) || oc_json_unknown_key(c, clone_keys))
        return fail(err, errlen, OC_EINVAL, "%s: an object with id, base, host, params", ctx);
    int rc = get_id(c, "id", 1, id, ctx, err, errlen);
    if (!rc)
        rc = get_id(c, "base", 1, base, ctx, err, errlen);
    if (rc)
        return rc;
    if (name_index(p, id) >= 0)
        return fail(err, errlen, OC_EINVAL, "%s.id: \"%s\" is already a pathway", ctx, id);
    if (name_index(p, base) < 0 || name_index(p, base) >= p->npathways)
        return fail(err, errlen, OC_EINVAL, "%s.base: \"%s\" is not a pathway", ctx, base);
    if (oc_json_get_str(c, "host", &host) == OC_EINVAL || (host && !host_valid(host)))
        return fail(err, errlen, OC_EINVAL, "%s.host: not a host name", ctx);
    if (params && (!json_is_object(params) || json_object_size(params) > STEER_MAX_PARAMS))
        return fail(err, errlen, OC_EINVAL, "%s.params: an object of at most %d strings", ctx,
                    STEER_MAX_PARAMS);
    json_t *repl = json_object();
    if (host)
        json_object_set_new(repl, "HOST", json_string(host));
    if (params) {
        json_t *po = json_object();
        json_object_foreach(params, key, v)
        {
            int ok = json_is_string(v) && param_value_valid(json_string_value(v)) &&
                     strlen(key) < sizeof(k) && steer_id_valid(key);
            if (!ok) {
                json_decref(po);
                json_decref(repl);
                return fail(err, errlen, OC_EINVAL, "%s.params: bad parameter \"%.64s\"", ctx, key);
            }
            json_object_set(po, key, v);
        }
        json_object_set_new(repl, "PARAMS", po);
    }
    *out = json_pack("{s:s, s:s, s:o}", "BASE-ID", base, "ID", id, "URI-REPLACEMENT", repl);
    memcpy(p->names[p->nnames++], id, sizeof(id));
    return 0;
}

/* Appends name to csv (comma separated) unless already there. */
static void csv_add(char *csv, size_t cap, const char *name)
{
    size_t n = strlen(name), len = strlen(csv);
    for (const char *s = csv; *s;) {
        const char *e = strchr(s, ',');
        size_t l = e ? (size_t)(e - s) : strlen(s);
        if (l == n && memcmp(s, name, n) == 0)
            return;
        s += l + (e != NULL);
    }
    if (len + n + 2 <= cap)
        snprintf(csv + len, cap - len, "%s%s", len ? "," : "", name);
}

/* Renders r->tail from r->priority and the clones JSON. */
static int render_tail(struct steer_rule *r, const char *clones)
{
    struct oc_buf b;
    oc_buf_init(&b, TAIL_MAX);
    int rc = oc_buf_puts(&b, "\",\"PATHWAY-PRIORITY\":[");
    for (const char *s = r->priority; *s && !rc;) {
        const char *e = strchr(s, ',');
        int l = e ? (int)(e - s) : (int)strlen(s);
        rc = oc_buf_printf(&b, "%s\"%.*s\"", s == r->priority ? "" : ",", l, s);
        s += l + (e != NULL);
    }
    if (!rc)
        rc =
            oc_buf_printf(&b, "]%s%s}", clones ? ",\"PATHWAY-CLONES\":" : "", clones ? clones : "");
    if (rc) {
        oc_buf_free(&b);
        return rc;
    }
    r->tail_len = b.len;
    r->tail = oc_buf_steal(&b);
    return 0;
}

/* Fills r's priority: its own list first (each a known name), then the default order. */
static int rule_priority(struct steer_policy *p, struct steer_rule *r, const json_t *prio,
                         const char *ctx, char *err, size_t errlen)
{
    size_t i;
    json_t *v;
    r->priority[0] = '\0';
    if (prio && (!json_is_array(prio) || json_array_size(prio) > STEER_MAX_PATHWAYS))
        return fail(err, errlen, OC_EINVAL, "%s.priority: an array of pathway ids", ctx);
    json_array_foreach(prio, i, v)
    {
        if (!json_is_string(v) || name_index(p, json_string_value(v)) < 0)
            return fail(err, errlen, OC_EINVAL, "%s.priority[%zu]: not a pathway or clone", ctx, i);
        csv_add(r->priority, sizeof(r->priority), json_string_value(v));
    }
    for (int k = 0; k < p->npathways; k++)
        csv_add(r->priority, sizeof(r->priority), p->names[k]);
    return 0;
}

/* Compiles rules[i]. */
static int compile_rule(struct steer_policy *p, const json_t *o, int i, struct steer_rule *r,
                        char *err, size_t errlen)
{
    char ctx[32];
    double pct = 100;
    snprintf(ctx, sizeof(ctx), "rules[%d]", i);
    if (!json_is_object(o) || oc_json_unknown_key(o, rule_keys))
        return fail(err, errlen, OC_EINVAL, "%s: an object with name, match fields, priority", ctx);
    int rc = get_id(o, "name", 1, r->name, ctx, err, errlen);
    if (!rc)
        rc = get_id(o, "region", 0, r->region, ctx, err, errlen);
    if (!rc)
        rc = get_id(o, "country", 0, r->country, ctx, err, errlen);
    if (!rc)
        rc = get_id(o, "isp", 0, r->isp, ctx, err, errlen);
    if (!rc)
        rc = get_id(o, "asn", 0, r->asn, ctx, err, errlen);
    if (!rc)
        rc = get_id(o, "device", 0, r->device, ctx, err, errlen);
    if (!rc && oc_json_get_num(o, "percent", &pct) == OC_EINVAL)
        rc = fail(err, errlen, OC_EINVAL, "%s.percent: a number", ctx);
    if (!rc && !(pct >= 0 && pct <= 100))
        rc = fail(err, errlen, OC_EINVAL, "%s.percent: between 0 and 100", ctx);
    if (!rc)
        rc = rule_priority(p, r, json_object_get(o, "priority"), ctx, err, errlen);
    r->share = (int)(pct * 100 + 0.5);
    return rc;
}

/* Compiles flags[i]. */
static int compile_flag(const json_t *o, int i, struct steer_flag *f, char *err, size_t errlen)
{
    char ctx[32];
    snprintf(ctx, sizeof(ctx), "flags[%d]", i);
    if (!json_is_object(o) || oc_json_unknown_key(o, flag_keys))
        return fail(err, errlen, OC_EINVAL, "%s: an object with name, on and match fields", ctx);
    int rc = get_id(o, "name", 1, f->name, ctx, err, errlen);
    if (!rc && oc_json_get_bool(o, "on", &f->on) != 0)
        rc = fail(err, errlen, OC_EINVAL, "%s.on: true or false (required)", ctx);
    if (!rc)
        rc = get_id(o, "player", 0, f->player, ctx, err, errlen);
    if (!rc)
        rc = get_id(o, "player_version", 0, f->player_version, ctx, err, errlen);
    if (!rc)
        rc = get_id(o, "device", 0, f->device, ctx, err, errlen);
    if (!rc)
        rc = get_id(o, "region", 0, f->region, ctx, err, errlen);
    return rc;
}

static int cmp_id(const void *a, const void *b)
{
    return strcmp((const char *)a, (const char *)b);
}

/* Reads "pathways" (the default order) and "ttl". */
static int compile_pathways(struct steer_policy *p, const json_t *doc, int64_t default_ttl,
                            char *err, size_t errlen)
{
    json_t *a = json_object_get(doc, "pathways"), *v;
    size_t i;
    if (!json_is_array(a) || json_array_size(a) > STEER_MAX_PATHWAYS)
        return fail(err, errlen, OC_EINVAL, "pathways: an array of at most %d pathway ids",
                    STEER_MAX_PATHWAYS);
    json_array_foreach(a, i, v)
    {
        const char *s = json_string_value(v);
        if (!steer_id_valid(s) || name_index(p, s) >= 0)
            return fail(err, errlen, OC_EINVAL, "pathways[%zu]: a new id of [A-Za-z0-9._-]", i);
        memcpy(p->names[p->nnames++], s, strlen(s) + 1);
    }
    p->npathways = p->nnames;
    p->ttl_s = default_ttl;
    if (oc_json_get_int_range(doc, NULL, "ttl", 1, 86400, &p->ttl_s, err, errlen) == OC_EINVAL)
        return OC_EINVAL;
    return 0;
}

/* Checks that member key of doc is absent or an array of at most max entries. */
static int array_member(const json_t *doc, const char *key, size_t max, json_t **out, char *err,
                        size_t errlen)
{
    *out = json_object_get(doc, key);
    if (*out && (!json_is_array(*out) || json_array_size(*out) > max))
        return fail(err, errlen, OC_ETOOBIG, "%s: an array of at most %zu entries", key, max);
    return 0;
}

/* Compiles clones into names and a serialized PATHWAY-CLONES array (*clones, owned). */
static int compile_clones(struct steer_policy *p, const json_t *a, char **clones, char *err,
                          size_t errlen)
{
    size_t i;
    json_t *v, *arr = json_array();
    int rc = 0;
    if (json_array_size(a) + (size_t)p->nnames > STEER_MAX_PATHWAYS)
        rc = fail(err, errlen, OC_ETOOBIG, "clones: at most %d pathways and clones",
                  STEER_MAX_PATHWAYS);
    json_array_foreach(a, i, v)
    {
        json_t *c = NULL;
        if (rc || (rc = compile_clone(p, v, (int)i, &c, err, errlen)) != 0)
            break;
        json_array_append_new(arr, c);
    }
    if (!rc && json_array_size(arr) > 0)
        *clones = json_dumps(arr, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(arr);
    return rc;
}

/* Compiles the rules, flags and retired lists. */
static int compile_lists(struct steer_policy *p, const json_t *doc, const char *clones, char *err,
                         size_t errlen)
{
    json_t *rules, *flags, *retired, *v;
    size_t i;
    int rc = array_member(doc, "rules", STEER_MAX_RULES, &rules, err, errlen);
    if (!rc)
        rc = array_member(doc, "flags", STEER_MAX_FLAGS, &flags, err, errlen);
    if (!rc)
        rc = array_member(doc, "retired", STEER_MAX_RETIRED, &retired, err, errlen);
    if (rc)
        return rc;
    p->rules = oc_calloc(json_array_size(rules) + 1, sizeof(*p->rules));
    json_array_foreach(rules, i, v)
    {
        struct steer_rule *r = &p->rules[p->nrules++];
        if ((rc = compile_rule(p, v, (int)i, r, err, errlen)) != 0 ||
            (rc = render_tail(r, clones)) != 0)
            return rc;
    }
    p->flags = oc_calloc(json_array_size(flags) + 1, sizeof(*p->flags));
    json_array_foreach(flags, i, v)
    {
        if ((rc = compile_flag(v, (int)i, &p->flags[p->nflags++], err, errlen)) != 0)
            return rc;
    }
    p->retired = oc_calloc(json_array_size(retired) + 1, sizeof(*p->retired));
    json_array_foreach(retired, i, v)
    {
        if (!steer_id_valid(json_string_value(v)))
            return fail(err, errlen, OC_EINVAL, "retired[%zu]: an asset id", i);
        snprintf(p->retired[p->nretired++], STEER_ID_BUF, "%s", json_string_value(v));
    }
    qsort(p->retired, (size_t)p->nretired, sizeof(*p->retired), cmp_id);
    return 0;
}

/* Reads the optional "auto" object: {"enabled", "regions", "hold_s", "min_interval_s"}. */
static int compile_auto(struct steer_policy *p, const json_t *doc, char *err, size_t errlen)
{
    json_t *a = json_object_get(doc, "auto"), *regions, *v;
    size_t i;
    p->auto_hold_s = 600;
    p->auto_interval_s = 900;
    if (!a)
        return 0;
    if (!json_is_object(a) || oc_json_unknown_key(a, auto_keys))
        return fail(err, errlen, OC_EINVAL,
                    "auto: an object with enabled, regions, hold_s, "
                    "min_interval_s");
    if (oc_json_get_bool(a, "enabled", &p->auto_enabled) == OC_EINVAL)
        return fail(err, errlen, OC_EINVAL, "auto.enabled: true or false");
    if (oc_json_get_int_range(a, "auto", "hold_s", 0, 86400, &p->auto_hold_s, err, errlen) ==
            OC_EINVAL ||
        oc_json_get_int_range(a, "auto", "min_interval_s", 0, 86400, &p->auto_interval_s, err,
                              errlen) == OC_EINVAL)
        return OC_EINVAL;
    int rc = array_member(a, "regions", STEER_MAX_RULES, &regions, err, errlen);
    if (rc)
        return rc;
    p->auto_regions = oc_calloc(json_array_size(regions) + 1, sizeof(*p->auto_regions));
    json_array_foreach(regions, i, v)
    {
        if (!steer_id_valid(json_string_value(v)))
            return fail(err, errlen, OC_EINVAL, "auto.regions[%zu]: a region id", i);
        snprintf(p->auto_regions[p->nauto_regions++], STEER_ID_BUF, "%s", json_string_value(v));
    }
    return 0;
}

int steer_policy_compile(const json_t *doc, int64_t default_ttl, struct steer_policy **out,
                         char *err, size_t errlen)
{
    struct steer_policy *p = oc_calloc(1, sizeof(*p));
    json_t *clone_arr = NULL;
    char *clones = NULL;
    const char *bad;
    int rc = OC_EINVAL;
    *out = NULL;
    if (!json_is_object(doc)) {
        fail(err, errlen, rc, "the policy must be a JSON object");
        goto out;
    }
    if ((bad = oc_json_unknown_key(doc, doc_keys)) != NULL) {
        fail(err, errlen, rc, "unknown member \"%.64s\"", bad);
        goto out;
    }
    if ((rc = compile_pathways(p, doc, default_ttl, err, errlen)) != 0 ||
        (rc = array_member(doc, "clones", STEER_MAX_PATHWAYS, &clone_arr, err, errlen)) != 0 ||
        (rc = compile_clones(p, clone_arr, &clones, err, errlen)) != 0)
        goto out;
    rule_priority(p, &p->def, NULL, "default", err, errlen);
    p->def.share = 10000;
    if ((rc = render_tail(&p->def, clones)) != 0 ||
        (rc = compile_lists(p, doc, clones, err, errlen)) != 0 ||
        (rc = compile_auto(p, doc, err, errlen)) != 0)
        goto out;
    char head[96];
    int n = snprintf(head, sizeof(head), "{\"VERSION\":1,\"TTL\":%lld,\"RELOAD-URI\":\"",
                     (long long)p->ttl_s);
    p->head = oc_strndup(head, (size_t)n);
    p->head_len = (size_t)n;
    *out = p;
    p = NULL;
    rc = 0;
out:
    free(clones);
    steer_policy_free(p);
    return rc;
}

void steer_policy_free(struct steer_policy *p)
{
    if (!p)
        return;
    for (int i = 0; i < p->nrules; i++)
        free(p->rules[i].tail);
    free(p->def.tail);
    free(p->rules);
    free(p->flags);
    free(p->retired);
    free(p->auto_regions);
    free(p->head);
    free(p);
}

static int attr_match(const char *want, const char *have)
{
    return want[0] == '\0' || strcmp(want, have) == 0;
}

const struct steer_rule *steer_policy_eval(const struct steer_policy *p,
                                           const struct steer_query *q)
{
    int bucket = -1;
    for (int i = 0; i < p->nrules; i++) {
        const struct steer_rule *r = &p->rules[i];
        if (!attr_match(r->region, q->region) || !attr_match(r->country, q->country) ||
            !attr_match(r->isp, q->isp) || !attr_match(r->asn, q->asn) ||
            !attr_match(r->device, q->device))
            continue;
        if (r->share >= 10000)
            return r;
        if (bucket < 0)
            bucket = steer_bucket(q->session);
        if (bucket < r->share)
            return r;
    }
    return &p->def;
}

int steer_policy_retired(const struct steer_policy *p, const char *asset)
{
    return p->nretired &&
           bsearch(asset, p->retired, (size_t)p->nretired, sizeof(*p->retired), cmp_id) != NULL;
}

/* Appends "&name=value" (or "?name=value" first) to dst at *n when value is set; the caller
 * sized dst for every attribute at its maximum length. */
static void reload_attr(char *dst, size_t *n, int *first, const char *name, const char *value)
{
    size_t nl = strlen(name), vl = strlen(value);
    if (!vl)
        return;
    dst[(*n)++] = *first ? '?' : '&';
    memcpy(dst + *n, name, nl);
    *n += nl;
    dst[(*n)++] = '=';
    memcpy(dst + *n, value, vl);
    *n += vl;
    *first = 0;
}

int steer_policy_render(const struct steer_policy *p, const struct steer_rule *r, const char *asset,
                        const struct steer_query *q, struct oc_buf *out)
{
    /* asset plus six "&name=value" attributes, each at most STEER_ID_MAX + 10 bytes */
    char uri[8 * (STEER_ID_MAX + 10)];
    size_t n = strlen(asset);
    int first = 1;
    if (n > STEER_ID_MAX)
        return OC_EINVAL;
    memcpy(uri, asset, n);
    reload_attr(uri, &n, &first, "region", q->region);
    reload_attr(uri, &n, &first, "country", q->country);
    reload_attr(uri, &n, &first, "isp", q->isp);
    reload_attr(uri, &n, &first, "asn", q->asn);
    reload_attr(uri, &n, &first, "device", q->device);
    reload_attr(uri, &n, &first, "session", q->session);
    /* one append, so the buffer grows once */
    char stack[4096];
    size_t total = p->head_len + n + r->tail_len;
    char *tmp = total <= sizeof(stack) ? stack : oc_malloc(total);
    memcpy(tmp, p->head, p->head_len);
    memcpy(tmp + p->head_len, uri, n);
    memcpy(tmp + p->head_len + n, r->tail, r->tail_len);
    int rc = oc_buf_append(out, tmp, total);
    if (tmp != stack)
        free(tmp);
    return rc;
}
