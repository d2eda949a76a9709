/*
 * spec.c - what a scraped target is, read from one item of scrape.file (its YAML turned into
 * JSON, so numbers may come as strings):
 *
 *   - name: origin                  # [A-Za-z0-9._-], at most 63 bytes
 *     service: origin               # the catalog service it measures
 *     url: http://origin:9100/metrics
 *     interval_s: 5                 # scrape.interval_s otherwise
 *     down_after: 2                 # failed scrapes in a row before "down"; scrape.down_after
 *     down_level: page              # or notify
 *     rules:
 *       - name: origin_5xx_share
 *         metric: origin_http_responses_total
 *         match: {code: "~5.."}     # equal, or "~" and an anchored extended regex
 *         rate: true                # per-second increase between scrapes
 *         per: origin_http_responses_total   # divided by this metric's (rated) sum
 *         per_match: {}             # ... over the series these match (default: all)
 *         agg: sum                  # sum (default), max, min, avg over matching series
 *         op: ">"                   # > >= < <=
 *         threshold: 0.05
 *         for_s: 10                 # held this long before it fires (0: at once)
 *         clear_for_s: 10           # not held this long before it recovers (0: at once)
 *         level: page               # or notify
 *         summary: origin answers 5xx
 */
#include "scrape/scrape_int.h"
#include "core/alloc.h"
#include "core/err.h"

#include <curl/curl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int id_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n >= SCRAPE_ID_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

static int metric_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n >= SCRAPE_NAME_MAX || (s[0] >= '0' && s[0] <= '9'))
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == ':'))
            return 0;
    }
    return 1;
}

/* A number given as a JSON number or a string; 0, 1 when absent, -1 when not a number. */
static int num(const json_t *o, const char *k, double *out)
{
    const json_t *v = json_object_get(o, k);
    char *e;
    if (!v || json_is_null(v))
        return 1;
    if (json_is_number(v)) {
        *out = json_number_value(v);
        return isfinite(*out) ? 0 : -1;
    }
    if (!json_is_string(v) || !json_string_length(v))
        return -1;
    *out = strtod(json_string_value(v), &e);
    return *e || !isfinite(*out) ? -1 : 0;
}

/* A boolean given as true/false or a string; 0, 1 when absent, -1 otherwise. */
static int flag(const json_t *o, const char *k, int *out)
{
    const json_t *v = json_object_get(o, k);
    if (!v)
        return 1;
    if (json_is_boolean(v)) {
        *out = json_is_true(v);
        return 0;
    }
    const char *s = json_string_value(v);
    if (s && (!strcmp(s, "true") || !strcmp(s, "yes"))) {
        *out = 1;
        return 0;
    }
    if (s && (!strcmp(s, "false") || !strcmp(s, "no"))) {
        *out = 0;
        return 0;
    }
    return -1;
}

static const char *str(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

const char *scrape_op_name(enum scrape_op op)
{
    static const char *const n[] = {">", ">=", "<", "<="};
    return n[op];
}

const char *scrape_agg_name(enum scrape_agg a)
{
    static const char *const n[] = {"sum", "max", "min", "avg"};
    return n[a];
}

static int level(const char *s, int *page)
{
    if (!s[0] || !strcmp(s, "page"))
        *page = 1;
    else if (!strcmp(s, "notify"))
        *page = 0;
    else
        return -1;
    return 0;
}

#define BAD(...)                                                                                   \
    do {                                                                                           \
        snprintf(err, errlen, __VA_ARGS__);                                                        \
        return OC_EINVAL;                                                                          \
    } while (0)

/* Reads a mapping of label: value (or "~regex") into m[0..*n). */
static int matchers(const char *tname, const char *rname, const char *field, const json_t *m,
                    struct scrape_match *out, int *n, char *err, size_t errlen)
{
    const char *k;
    const json_t *v;
    if (m && !json_is_object(m))
        BAD("%s: rule %s: %s must be a mapping of label: value", tname, rname, field);
    json_object_foreach((json_t *)m, k, v)
    {
        struct scrape_match *x = &out[*n];
        const char *val = json_string_value(v);
        if (*n >= SCRAPE_MAX_MATCH)
            BAD("%s: rule %s: %s has more than %d labels", tname, rname, field, SCRAPE_MAX_MATCH);
        if (!metric_ok(k) || strchr(k, ':') || !val || strlen(val) >= sizeof x->value)
            BAD("%s: rule %s: %s.%s must be a label name and a string value", tname, rname, field,
                k);
        snprintf(x->label, sizeof x->label, "%s", k);
        snprintf(x->value, sizeof x->value, "%s", val);
        if (val[0] == '~') {
            char anchored[SCRAPE_LABEL_VALUE_MAX + 8];
            snprintf(anchored, sizeof anchored, "^(%s)$", val + 1);
            if (regcomp(&x->re, anchored, REG_EXTENDED | REG_NOSUB) != 0)
                BAD("%s: rule %s: %s.%s is not an extended regular expression", tname, rname, field,
                    k);
            x->is_re = 1;
        }
        (*n)++;
    }
    return 0;
}

static int rule_from_json(const char *tname, int idx, const json_t *o, struct scrape_rule *r,
                          char *err, size_t errlen)
{
    double d;
    int rc;
    const char *k;
    const json_t *v;
    static const char *const known[] = {"name",  "metric",      "match",   "rate",      "agg",
                                        "per",   "per_match",   "op",      "threshold", "for_s",
                                        "level", "clear_for_s", "summary", NULL};
    if (!json_is_object(o))
        BAD("%s: rules[%d] must be a mapping", tname, idx);
    json_object_foreach((json_t *)o, k, v)
    {
        int ok = 0;
        for (int i = 0; known[i]; i++)
            ok |= !strcmp(known[i], k);
        if (!ok)
            BAD("%s: rules[%d]: unknown field %s", tname, idx, k);
    }
    if (!id_ok(str(o, "name")))
        BAD("%s: rules[%d].name must be 1 to 63 of [A-Za-z0-9._-]", tname, idx);
    snprintf(r->name, sizeof r->name, "%s", str(o, "name"));
    if (!strcmp(r->name, "down"))
        BAD("%s: rules[%d].name: \"down\" is the target's own rule", tname, idx);
    if (!metric_ok(str(o, "metric")))
        BAD("%s: rule %s: metric must be a metric name", tname, r->name);
    snprintf(r->metric, sizeof r->metric, "%s", str(o, "metric"));
    if ((rc = matchers(tname, r->name, "match", json_object_get(o, "match"), r->match, &r->nmatch,
                       err, errlen)) != 0 ||
        (rc = matchers(tname, r->name, "per_match", json_object_get(o, "per_match"), r->per_match,
                       &r->per_nmatch, err, errlen)) != 0)
        return rc;
    if ((rc = flag(o, "rate", &r->rate)) < 0)
        BAD("%s: rule %s: rate must be true or false", tname, r->name);
    const char *agg = str(o, "agg");
    r->agg = AGG_SUM;
    for (int i = 0; i < 4 && agg[0]; i++)
        if (!strcmp(agg, scrape_agg_name((enum scrape_agg)i)))
            r->agg = (enum scrape_agg)i;
    if (agg[0] && strcmp(agg, scrape_agg_name(r->agg)))
        BAD("%s: rule %s: agg must be sum, max, min or avg", tname, r->name);
    if (json_object_get(o, "per")) {
        if (!metric_ok(str(o, "per")))
            BAD("%s: rule %s: per must be a metric name", tname, r->name);
        snprintf(r->per, sizeof r->per, "%s", str(o, "per"));
    }
    const char *op = str(o, "op");
    int found = 0;
    for (int i = 0; i < 4; i++)
        if (!strcmp(op, scrape_op_name((enum scrape_op)i)))
            r->op = (enum scrape_op)i, found = 1;
    if (!found)
        BAD("%s: rule %s: op must be >, >=, < or <=", tname, r->name);
    if (num(o, "threshold", &r->threshold) != 0)
        BAD("%s: rule %s: threshold must be a number", tname, r->name);
    d = 0;
    if ((rc = num(o, "for_s", &d)) < 0 || d < 0 || d > 86400)
        BAD("%s: rule %s: for_s must be 0 to 86400 seconds", tname, r->name);
    r->for_ms = (int64_t)(d * 1000);
    d = 0;
    if ((rc = num(o, "clear_for_s", &d)) < 0 || d < 0 || d > 86400)
        BAD("%s: rule %s: clear_for_s must be 0 to 86400 seconds", tname, r->name);
    r->clear_for_ms = (int64_t)(d * 1000);
    if (level(str(o, "level"), &r->page))
        BAD("%s: rule %s: level must be page or notify", tname, r->name);
    if (strlen(str(o, "summary")) >= sizeof r->summary)
        BAD("%s: rule %s: summary is longer than %zu bytes", tname, r->name, sizeof r->summary - 1);
    snprintf(r->summary, sizeof r->summary, "%s", str(o, "summary"));
    return 0;
}

int scrape_spec_from_json(const json_t *o, struct scrape_spec *s, char *err, size_t errlen)
{
    double d;
    const char *k;
    const json_t *v;
    static const char *const known[] = {"name",       "service", "url",  "interval_s", "down_after",
                                        "down_level", "rules",   "push", NULL};
    memset(s, 0, sizeof(*s));
    if (!json_is_object(o))
        BAD("a target must be a mapping");
    const char *name = str(o, "name");
    if (!id_ok(name))
        BAD("a target's name must be 1 to 63 of [A-Za-z0-9._-] (got \"%.63s\")", name);
    snprintf(s->name, sizeof s->name, "%s", name);
    json_object_foreach((json_t *)o, k, v)
    {
        int ok = 0;
        for (int i = 0; known[i]; i++)
            ok |= !strcmp(known[i], k);
        if (!ok)
            BAD("%s: unknown field %s", name, k);
    }
    if (json_object_get(o, "service") && !id_ok(str(o, "service")))
        BAD("%s: service must be a catalog service name", name);
    snprintf(s->service, sizeof s->service, "%s", str(o, "service"));
    const char *url = str(o, "url"), *push = str(o, "push");
    if (push[0] && strcmp(push, "otlp") != 0)
        BAD("%s: push must be otlp (OTLP/HTTP metrics, JSON)", name);
    s->push = push[0] != 0;
    if (s->push && !s->service[0])
        BAD("%s: a push target needs service (its resources' service.name)", name);
    if (s->push && url[0])
        BAD("%s: a push target has no url", name);
    if (s->push)
        url = "";
    else if (strlen(url) >= SCRAPE_URL_MAX ||
             (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0))
        BAD("%s: url must be an http:// or https:// URL under %d bytes", name, SCRAPE_URL_MAX);
    if (!s->push) { /* credentials in the URL would show in GET /v1/scrape/targets and logs */
        CURLU *u = curl_url();
        char *user = NULL;
        int bad = !u || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK;
        if (!bad && curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK)
            bad = 2;
        curl_free(user);
        curl_url_cleanup(u);
        if (bad == 2)
            BAD("%s: url: credentials in the URL are refused (they would be shown to viewers)",
                name);
        if (bad)
            BAD("%s: url is not a URL", name);
    }
    snprintf(s->url, sizeof s->url, "%s", url);
    d = 0;
    if (num(o, "interval_s", &d) < 0 || (d != 0 && (d < 0.5 || d > 3600)))
        BAD("%s: interval_s must be 0.5 to 3600 seconds", name);
    s->interval_ms = (int64_t)(d * 1000);
    d = 0;
    if (num(o, "down_after", &d) < 0 || d < 0 || d > 100 || d != floor(d))
        BAD("%s: down_after must be 1 to 100 scrapes", name);
    s->down_after = (int)d;
    if (level(str(o, "down_level"), &s->down_page))
        BAD("%s: down_level must be page or notify", name);
    const json_t *rules = json_object_get(o, "rules");
    if (rules && !json_is_array(rules))
        BAD("%s: rules must be a list", name);
    if (json_array_size(rules) > SCRAPE_MAX_RULES)
        BAD("%s: more than %d rules", name, SCRAPE_MAX_RULES);
    if (json_array_size(rules))
        s->rules = oc_calloc(json_array_size(rules), sizeof(*s->rules));
    for (size_t i = 0; i < json_array_size(rules); i++) {
        int rc = rule_from_json(name, (int)i, json_array_get(rules, i), &s->rules[i], err, errlen);
        s->nrules = (int)i + 1; /* its expressions are freed with the spec */
        if (rc) {
            scrape_spec_free(s);
            return rc;
        }
        for (size_t j = 0; j < i; j++)
            if (!strcmp(s->rules[j].name, s->rules[i].name)) {
                snprintf(err, errlen, "%s: two rules are named %s", name, s->rules[i].name);
                scrape_spec_free(s);
                return OC_EINVAL;
            }
    }
    s->doc = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    return 0;
}

void scrape_spec_free(struct scrape_spec *s)
{
    for (int i = 0; i < s->nrules; i++)
        for (int j = 0; j < SCRAPE_MAX_MATCH; j++) {
            struct scrape_match *a = &s->rules[i].match[j], *b = &s->rules[i].per_match[j];
            if (a->is_re)
                regfree(&a->re);
            if (b->is_re)
                regfree(&b->re);
            a->is_re = b->is_re = 0;
        }
    s->nrules = 0;
    free(s->rules);
    s->rules = NULL;
    free(s->doc);
    s->doc = NULL;
}

static json_t *rule_json(const struct scrape_rule *r)
{
    json_t *m = json_object();
    for (int i = 0; i < r->nmatch; i++)
        json_object_set_new(m, r->match[i].label, json_string(r->match[i].value));
    json_t *o = json_pack("{s:s, s:s, s:o, s:b, s:s, s:s, s:f, s:f, s:f, s:s}", "name", r->name,
                          "metric", r->metric, "match", m, "rate", r->rate, "agg",
                          scrape_agg_name(r->agg), "op", scrape_op_name(r->op), "threshold",
                          r->threshold, "for_s", (double)r->for_ms / 1000.0, "clear_for_s",
                          (double)r->clear_for_ms / 1000.0, "level", r->page ? "page" : "notify");
    if (r->per[0]) {
        json_t *pm = json_object();
        for (int i = 0; i < r->per_nmatch; i++)
            json_object_set_new(pm, r->per_match[i].label, json_string(r->per_match[i].value));
        json_object_set_new(o, "per", json_string(r->per));
        json_object_set_new(o, "per_match", pm);
    }
    if (r->summary[0])
        json_object_set_new(o, "summary", json_string(r->summary));
    return o;
}

json_t *scrape_spec_json(const struct scrape_spec *s)
{
    json_t *rules = json_array();
    for (int i = 0; i < s->nrules; i++)
        json_array_append_new(rules, rule_json(&s->rules[i]));
    json_t *o = json_pack("{s:s, s:s, s:o}", "name", s->name, "url", s->url, "rules", rules);
    if (s->service[0])
        json_object_set_new(o, "service", json_string(s->service));
    if (s->push)
        json_object_set_new(o, "push", json_string("otlp"));
    return o;
}

int scrape_matches(const struct scrape_match *m, int n, int nl, char *const *labels)
{
    for (int i = 0; i < n; i++) {
        const struct scrape_match *x = &m[i];
        const char *val = "";
        for (int j = 0; j < nl; j++)
            if (!strcmp(labels[2 * j], x->label))
                val = labels[2 * j + 1];
        if (x->is_re ? regexec(&x->re, val, 0, NULL, 0) != 0 : strcmp(val, x->value) != 0)
            return 0;
    }
    return 1;
}
