/*
 * runbook.c - runbooks as code: the seven-step triage of one alert kind, read from YAML
 * (examples/runbooks/NAME.yaml, embedded by embed.sh), with {placeholder} filling and the choice
 * of the mitigate step's `oncue mitigate` command template from the named root cause.
 */
#include "drill/drill_int.h"

#include "core/alloc.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/timefmt.h"

#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#define RUNBOOK_MAX_YAML (64 << 10) /* bytes of one runbook file */

const char *drill_yaml_scalar(yaml_document_t *d, yaml_node_t *n)
{
    (void)d;
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

yaml_node_t *drill_yaml_get(yaml_document_t *d, yaml_node_t *m, const char *key)
{
    if (!m || m->type != YAML_MAPPING_NODE)
        return NULL;
    for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
        const char *k = drill_yaml_scalar(d, yaml_document_get_node(d, p->key));
        if (k && strcmp(k, key) == 0)
            return yaml_document_get_node(d, p->value);
    }
    return NULL;
}

/* Joins the scalars of sequence s (or one scalar) with commas into a new string. */
static char *join_list(yaml_document_t *d, yaml_node_t *s)
{
    struct oc_buf b;
    if (s && s->type == YAML_SCALAR_NODE)
        return oc_strdup(drill_yaml_scalar(d, s));
    oc_buf_init(&b, 4096);
    for (yaml_node_item_t *i = s ? s->data.sequence.items.start : NULL;
         s && s->type == YAML_SEQUENCE_NODE && i < s->data.sequence.items.top; i++) {
        const char *v = drill_yaml_scalar(d, yaml_document_get_node(d, *i));
        oc_buf_printf(&b, "%s%s", b.len ? "," : "", v ? v : "");
    }
    return oc_buf_steal(&b);
}

int drill_yaml_line(const yaml_node_t *n)
{
    return n ? (int)n->start_mark.line + 1 : 0;
}

/* Writes "line N: " and the formatted message into err; returns OC_EINVAL. */
static int fail_at(int line, char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail_at(int line, char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    int k = snprintf(err, errlen, "line %d: ", line);
    va_start(ap, fmt);
    if (k >= 0 && (size_t)k < errlen)
        vsnprintf(err + k, errlen - (size_t)k, fmt, ap);
    va_end(ap);
    return OC_EINVAL;
}

/* Reads a step's commands list into rb. 0 or OC_EINVAL. */
static int read_cmds(yaml_document_t *d, yaml_node_t *s, struct drill_runbook *rb, char *err,
                     size_t errlen)
{
    if (!s)
        return 0;
    if (s->type != YAML_SEQUENCE_NODE)
        return fail_at(drill_yaml_line(s), err, errlen, "commands: a list of {when, run}");
    for (yaml_node_item_t *i = s->data.sequence.items.start; i < s->data.sequence.items.top; i++) {
        yaml_node_t *c = yaml_document_get_node(d, *i);
        const char *when = drill_yaml_scalar(d, drill_yaml_get(d, c, "when")),
                   *run = drill_yaml_scalar(d, drill_yaml_get(d, c, "run"));
        if (!when || !run || rb->ncmds == DRILL_MAX_CMDS)
            return fail_at(drill_yaml_line(c), err, errlen,
                           "commands[%d]: when and run strings (at most %d commands)", rb->ncmds,
                           DRILL_MAX_CMDS);
        rb->cmds[rb->ncmds].when = oc_strdup(when);
        rb->cmds[rb->ncmds++].run = oc_strdup(run);
    }
    return 0;
}

const char *drill_step_type_name(enum drill_step_type t)
{
    static const char *const names[] = {"note", "check", "action", "decision"};
    return (unsigned)t < 4 ? names[t] : "?";
}

/* The keys a step may have; anything else is refused (a typo would be silently ignored). */
static const char *const step_keys[] = {"name",   "do",     "type", "commands", "check",   "query",
                                        "expect", "window", "run",  "webhook",  "on_fail", NULL};

/* Splits "OP VALUE" (">= 0.02", "!= resolved") of a check into st. 0 or OC_EINVAL. */
static int read_expect(const char *e, struct drill_step *st, int line, char *err, size_t errlen)
{
    static const char *const ops[] = {"==", "!=", "<=", ">=", "<", ">", NULL};
    for (const char *const *op = ops; e && *op; op++) {
        size_t k = strlen(*op);
        if (strncmp(e, *op, k) != 0)
            continue;
        e += k;
        e += strspn(e, " ");
        if (!*e)
            break;
        st->op = oc_strdup(*op);
        st->expect = oc_strdup(e);
        return 0;
    }
    return fail_at(line, err, errlen,
                   "expect: \"OP VALUE\" with OP one of == != < <= > >= (as \"> 0.02\")");
}

/* Reads "30s", "5m" or "1h" (or seconds) into *out, 60 s to one day. 0 or -1. */
static int read_window(const char *s, int *out)
{
    char *end;
    long v = s ? strtol(s, &end, 10) : 0;
    if (!s || end == s)
        return -1;
    if (*end == 'm')
        v *= 60, end++;
    else if (*end == 'h')
        v *= 3600, end++;
    else if (*end == 's')
        end++;
    if (*end || v < 60 || v > 86400)
        return -1;
    *out = (int)v;
    return 0;
}

/* Reads what a check step needs (query, expect, window). 0 or OC_EINVAL. */
static int read_check(yaml_document_t *d, yaml_node_t *n, struct drill_step *st, char *err,
                      size_t errlen)
{
    const char *q = drill_yaml_scalar(d, drill_yaml_get(d, n, "query")),
               *e = drill_yaml_scalar(d, drill_yaml_get(d, n, "expect"));
    yaml_node_t *w = drill_yaml_get(d, n, "window");
    if (!q)
        return fail_at(drill_yaml_line(n), err, errlen,
                       "a check needs query: \"incident.FIELD\" or \"qoe.METRIC\"");
    st->query = oc_strdup(q);
    st->window_s = 300;
    if (w && read_window(drill_yaml_scalar(d, w), &st->window_s) != 0)
        return fail_at(drill_yaml_line(w), err, errlen,
                       "window: a duration from 60s to 24h (as \"5m\")");
    yaml_node_t *en = drill_yaml_get(d, n, "expect");
    return read_expect(e, st, drill_yaml_line(en ? en : n), err, errlen);
}

/* Reads the typed parts of step st (node n). 0 or OC_EINVAL. */
static int read_typed(yaml_document_t *d, yaml_node_t *n, struct drill_step *st,
                      struct drill_runbook *rb, char *err, size_t errlen)
{
    static const char *const types[] = {"note", "check", "action", "decision", NULL};
    yaml_node_t *tn = drill_yaml_get(d, n, "type"), *of = drill_yaml_get(d, n, "on_fail");
    const char *t = drill_yaml_scalar(d, tn),
               *run = drill_yaml_scalar(d, drill_yaml_get(d, n, "run")),
               *hook = drill_yaml_scalar(d, drill_yaml_get(d, n, "webhook"));
    st->type = DRILL_STEP_NOTE;
    if (tn) {
        int k = 0;
        while (types[k] && (!t || strcmp(types[k], t) != 0))
            k++;
        if (!types[k])
            return fail_at(drill_yaml_line(tn), err, errlen,
                           "type: unknown step type '%s' (check, action, decision, or none "
                           "for a manual note)",
                           t ? t : "(not a string)");
        st->type = (enum drill_step_type)k;
    }
    if (of) {
        const char *v = drill_yaml_scalar(d, of);
        if (!v || (strcmp(v, "stop") != 0 && strcmp(v, "continue") != 0))
            return fail_at(drill_yaml_line(of), err, errlen, "on_fail: stop or continue");
        st->continue_on_fail = strcmp(v, "continue") == 0;
    }
    st->cmd_first = rb->ncmds;
    int rc = read_cmds(d, drill_yaml_get(d, n, "commands"), rb, err, errlen);
    st->ncmds = rb->ncmds - st->cmd_first;
    if (rc != 0)
        return rc;
    if (run)
        st->run = oc_strdup(run);
    if (hook)
        st->webhook = oc_strdup(hook);
    if (st->type == DRILL_STEP_CHECK) {
        yaml_node_t *c = drill_yaml_get(d, n, "check");
        return read_check(d, c ? c : n, st, err, errlen);
    }
    if (st->type == DRILL_STEP_ACTION && !!run + !!hook + !!st->ncmds != 1)
        return fail_at(drill_yaml_line(n), err, errlen,
                       "an action needs one of run: \"oncue mitigate ...\", commands: "
                       "[{when, run}] or webhook: URL");
    if (st->type != DRILL_STEP_ACTION && (run || hook))
        return fail_at(drill_yaml_line(n), err, errlen, "%s: only an action step runs something",
                       run ? "run" : "webhook");
    return 0;
}

/* Reads the steps list into rb. 0 or OC_EINVAL. */
static int read_steps(yaml_document_t *d, yaml_node_t *s, struct drill_runbook *rb, char *err,
                      size_t errlen)
{
    if (!s || s->type != YAML_SEQUENCE_NODE)
        return fail_at(drill_yaml_line(s), err, errlen, "steps: a list of {name, do}");
    for (yaml_node_item_t *i = s->data.sequence.items.start; i < s->data.sequence.items.top; i++) {
        yaml_node_t *n = yaml_document_get_node(d, *i);
        const char *name = drill_yaml_scalar(d, drill_yaml_get(d, n, "name")),
                   *text = drill_yaml_scalar(d, drill_yaml_get(d, n, "do"));
        if (!name || !text || rb->nsteps == DRILL_MAX_STEPS)
            return fail_at(drill_yaml_line(n), err, errlen,
                           "steps[%d]: name and do strings (at most %d steps)", rb->nsteps,
                           DRILL_MAX_STEPS);
        for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
             p++) {
            yaml_node_t *kn = yaml_document_get_node(d, p->key);
            const char *k = drill_yaml_scalar(d, kn);
            int j = 0;
            while (k && step_keys[j] && strcmp(step_keys[j], k) != 0)
                j++;
            if (!k || !step_keys[j])
                return fail_at(drill_yaml_line(kn), err, errlen, "steps[%d]: unknown key '%s'",
                               rb->nsteps, k ? k : "?");
        }
        struct drill_step *st = &rb->steps[rb->nsteps++];
        st->name = oc_strdup(name);
        st->text = oc_strdup(text);
        st->line = drill_yaml_line(n);
        int rc = read_typed(d, n, st, rb, err, errlen);
        if (rc != 0)
            return rc;
    }
    return 0;
}

int drill_runbook_parse(const char *yaml, size_t n, struct drill_runbook *rb, char *err,
                        size_t errlen)
{
    yaml_parser_t p;
    yaml_document_t d;
    unsigned char h[crypto_hash_sha256_BYTES];
    int rc = OC_EINVAL, loaded = 0;
    memset(rb, 0, sizeof(*rb));
    if (n > RUNBOOK_MAX_YAML) {
        snprintf(err, errlen, "runbook over %d bytes", RUNBOOK_MAX_YAML);
        return OC_ETOOBIG;
    }
    yaml_parser_initialize(&p);
    yaml_parser_set_input_string(&p, (const unsigned char *)yaml, n);
    if (!yaml_parser_load(&p, &d)) {
        snprintf(err, errlen, "line %zu: %s", p.problem_mark.line + 1,
                 p.problem ? p.problem : "malformed YAML");
        goto out;
    }
    loaded = 1;
    yaml_node_t *root = yaml_document_get_root_node(&d);
    const char *kind = drill_yaml_scalar(&d, drill_yaml_get(&d, root, "kind"));
    if (!kind) {
        snprintf(err, errlen, "kind: a string is required");
        goto out;
    }
    rb->kind = oc_strdup(kind);
    rb->metrics = join_list(&d, drill_yaml_get(&d, root, "metrics"));
    const char *version = drill_yaml_scalar(&d, drill_yaml_get(&d, root, "version"));
    rb->version = version ? oc_strdup(version) : NULL;
    yaml_node_t *rn = drill_yaml_get(&d, root, "reviewed");
    if (rn) {
        const char *rv = drill_yaml_scalar(&d, rn);
        int64_t ms;
        if (!rv || strlen(rv) != 10 || oc_time_parse(rv, OC_TIME_UTC, &ms) != 0) {
            fail_at(drill_yaml_line(rn), err, errlen,
                    "reviewed: the date of the last review, YYYY-MM-DD, got '%s'", rv ? rv : "?");
            goto out;
        }
        memcpy(rb->reviewed, rv, 11);
        rb->reviewed_line = drill_yaml_line(rn);
    }
    crypto_hash_sha256(h, (const unsigned char *)yaml, n);
    memcpy(rb->hash, "sha256:", 7);
    for (int i = 0; i < 6; i++)
        snprintf(rb->hash + 7 + 2 * i, 3, "%02x", h[i]);
    rc = read_steps(&d, drill_yaml_get(&d, root, "steps"), rb, err, errlen);
out:
    if (loaded)
        yaml_document_delete(&d);
    yaml_parser_delete(&p);
    if (rc != 0)
        drill_runbook_free(rb);
    return rc;
}

void drill_runbook_free(struct drill_runbook *rb)
{
    free(rb->kind);
    free(rb->metrics);
    free(rb->version);
    for (int i = 0; i < rb->nsteps; i++) {
        free(rb->steps[i].name);
        free(rb->steps[i].text);
        free(rb->steps[i].query);
        free(rb->steps[i].op);
        free(rb->steps[i].expect);
        free(rb->steps[i].run);
        free(rb->steps[i].webhook);
    }
    for (int i = 0; i < rb->ncmds; i++) {
        free(rb->cmds[i].when);
        free(rb->cmds[i].run);
    }
    memset(rb, 0, sizeof(*rb));
}

/* 1 when metric is one of the comma list. */
static int list_has(const char *list, const char *metric)
{
    size_t n = strlen(metric);
    for (const char *p = list; p && *p;) {
        size_t k = strcspn(p, ",");
        if (k == n && strncmp(p, metric, n) == 0)
            return 1;
        p += k + (p[k] == ',');
    }
    return 0;
}

int drill_runbook_covers(const struct drill_runbook *rb, const char *metric)
{
    return metric && list_has(rb->metrics, metric);
}

int drill_runbook_for_metric(const char *metric, struct drill_runbook *rb)
{
    char err[200];
    size_t len;
    for (const char *const *name = drill_runbook_names; *name; name++) {
        const char *text = drill_runbook_embedded(*name, &len);
        if (!text || drill_runbook_parse(text, len, rb, err, sizeof(err)) != 0)
            continue;
        if (list_has(rb->metrics, metric))
            return 0;
        drill_runbook_free(rb);
    }
    return OC_ENOTFOUND;
}

int drill_fill(const char *tmpl, const json_t *vars, struct oc_buf *b, char *missing, size_t mlen)
{
    char key[64];
    for (const char *p = tmpl; *p;) {
        const char *close = *p == '{' ? strchr(p, '}') : NULL;
        if (!close || (size_t)(close - p - 1) >= sizeof(key)) {
            oc_buf_append(b, p++, 1);
            continue;
        }
        snprintf(key, sizeof(key), "%.*s", (int)(close - p - 1), p + 1);
        const char *v = json_string_value(json_object_get(vars, key));
        if (!v) {
            snprintf(missing, mlen, "%s", key);
            return OC_ENOTFOUND;
        }
        oc_buf_puts(b, v);
        p = close + 1;
    }
    return 0;
}

int drill_runbook_command(const struct drill_runbook *rb, const json_t *vars, struct oc_buf *b)
{
    char missing[64];
    for (int i = 0; i < rb->ncmds; i++) {
        if (!json_string_value(json_object_get(vars, rb->cmds[i].when)))
            continue;
        size_t mark = b->len;
        if (drill_fill(rb->cmds[i].run, vars, b, missing, sizeof(missing)) == 0)
            return 0;
        b->len = mark;
        if (b->data)
            b->data[mark] = '\0';
    }
    return OC_ENOTFOUND;
}

/* Adds attr -> value to vars unless attr is set; a comma list when set to other values. */
static void var_add(json_t *vars, const char *attr, const char *val)
{
    const char *old = json_string_value(json_object_get(vars, attr));
    char joined[256];
    if (!val)
        return;
    if (!old)
        json_object_set_new(vars, attr, json_string(val));
    else if (!strstr(old, val)) {
        snprintf(joined, sizeof(joined), "%s,%s", old, val);
        json_object_set_new(vars, attr, json_string(joined));
    }
}

/* Appends "a=b,c=d" of the string members of obj to b, pairs joined by sep. */
static void format_pairs(const json_t *obj, const char *sep, struct oc_buf *b)
{
    const char *k;
    json_t *v;
    int first = 1;
    json_object_foreach((json_t *)obj, k, v)
    {
        if (!json_is_string(v))
            continue;
        oc_buf_printf(b, "%s%s=%s", first ? "" : sep, k, json_string_value(v));
        first = 0;
    }
}

json_t *drill_runbook_vars(const json_t *inc, const json_t *causes, const json_t *pathways)
{
    json_t *vars = json_object(), *slice = json_object_get(inc, "slice"), *v;
    const char *sev = json_string_value(json_object_get(inc, "severity"));
    const char *title = json_string_value(json_object_get(inc, "title"));
    const char *id = json_string_value(json_object_get(inc, "incident_id"));
    struct oc_buf b;
    size_t i;
    oc_buf_init(&b, DRILL_MAX_TEXT - 1);
    const char *svc = json_string_value(json_object_get(inc, "service"));
    format_pairs(slice, ",", &b);
    if (b.len == 0) /* opened by a service's own signal (a scrape rule, a probe): no slice */
        oc_buf_printf(&b, "%s%s", svc && svc[0] ? "service " : "all traffic",
                      svc && svc[0] ? svc : "");
    json_object_set_new(vars, "slice", json_string(b.data ? b.data : ""));
    oc_buf_reset(&b);
    json_object_update(vars, slice);
    json_array_foreach(causes, i, v)
    {
        const char *k;
        json_t *e;
        oc_buf_puts(&b, i ? "; " : "");
        format_pairs(json_object_get(v, "element"), "&", &b);
        json_object_foreach(json_object_get(v, "element"), k, e)
            var_add(vars, k, json_string_value(e));
    }
    json_object_set_new(vars, "cause", json_string(b.len ? b.data : "not localized"));
    /* the service the incident is routed to, when its slice does not name one */
    if (svc && svc[0])
        var_add(vars, "service", svc);
    oc_buf_free(&b);
    json_object_set_new(vars, "incident", json_string(id ? id : "?"));
    json_object_set_new(vars, "metric",
                        json_stringn(title ? title : "", title ? strcspn(title, " ") : 0));
    json_object_set_new(vars, "severity", json_string(sev ? sev : "?"));
    drill_runbook_board(vars, NULL); /* callers that know the service's kind name its board */
    const char *cdn = json_string_value(json_object_get(vars, "cdn"));
    json_array_foreach(pathways, i, v)
    {
        const char *p = json_string_value(v);
        if (p && (!cdn || strcmp(p, cdn) != 0)) {
            json_object_set_new(vars, "alternate", json_string(p));
            break;
        }
    }
    return vars;
}

/* The console's war-room boards by catalog service kind (web/src/views/dashboards.js's
 * BOARDS, `kinds`: change both together). */
static const struct {
    const char *kind, *board, *title;
} boards[] = {
    {"origin", "origin", "Origin"},
    {"storage", "origin", "Origin"},
    {"packager", "packager", "Packager"},
    {"encoder", "packager", "Packager"},
    {"cdn", "cdn", "CDN edge"},
    {"manifest", "manifest", "Manifest validity"},
    {"drm", "drm", "DRM license"},
    {"player", "errors", "Player error codes"},
    {"network", "isp-cdn", "ISP/CDN correlation"},
};

void drill_runbook_board(json_t *vars, const char *kind)
{
    char text[160];
    for (size_t i = 0; kind && i < sizeof boards / sizeof boards[0]; i++)
        if (strcmp(boards[i].kind, kind) == 0) {
            snprintf(text, sizeof text, "the %s board (console #/dashboards?d=%s)", boards[i].title,
                     boards[i].board);
            json_object_set_new(vars, "dashboard", json_string(text));
            return;
        }
    json_object_set_new(vars, "dashboard",
                        json_string("the war-room boards in runbook order (console "
                                    "#/dashboards?d=all)"));
}

void drill_runbook_render(const struct drill_runbook *rb, const json_t *vars, struct oc_buf *b)
{
    char missing[64];
    oc_buf_printf(b, "runbook %s:", rb->kind);
    for (int i = 0; i < rb->nsteps; i++) {
        oc_buf_printf(b, " %d. %s: ", i + 1, rb->steps[i].name);
        if (drill_fill(rb->steps[i].text, vars, b, missing, sizeof(missing)) != 0)
            oc_buf_printf(b, "(no value for {%s})", missing);
    }
}
