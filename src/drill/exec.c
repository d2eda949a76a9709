/*
 * exec.c - runbooks that run: a runbook executed against an open incident, step by step.
 * A check compares a query (an incident field, or a QoE metric over the incident's slice)
 * with its expected value; an action runs a mitigation through the host's binding to steer
 * (or POSTs a signed webhook, webhook.c); a decision waits for a person to approve or skip
 * the step after it; a step without a type is a manual note. Every step is recorded on the
 * incident's timeline with who, the runbook's version and content hash, and the result; a
 * dry run answers what would happen and records nothing. Runs are kept in memory (a waiting
 * run does not survive a restart; its timeline does). The module and its routes are in
 * exec_http.c.
 */
#include "drill/drill_int.h"

#include "core/alloc.h"
#include "core/err.h"
#include "core/lock.h"
#include "catalog/catalog.h"
#include "incident/incident.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Frees one run. */
static void run_free(struct drill_run *r)
{
    if (!r)
        return;
    drill_runbook_free(&r->rb);
    json_decref(r->vars);
    json_decref(r->steps);
    free(r);
}

/* Frees every run (at stop). */
void drill_exec_free_runs(struct drill_exec *x)
{
    for (int i = 0; i < x->nruns; i++)
        run_free(x->runs[i]);
    x->nruns = 0;
}

struct drill_run *drill_exec_find(struct drill_exec *x, int64_t inc)
{
    for (int i = 0; i < x->nruns; i++)
        if (x->runs[i]->inc == inc)
            return x->runs[i];
    return NULL;
}

/* "runbook KIND version V (sha256:...)" of r into out. */
static void run_label(const struct drill_run *r, char *out, size_t n)
{
    snprintf(out, n, "runbook %s version %s (%s)", r->rb.kind, r->rb.version ? r->rb.version : "-",
             r->rb.hash);
}

/* Writes one step's result onto the incident's timeline, as actor. */
static void record(struct drill_exec *x, struct drill_run *r, int i, const char *actor,
                   const json_t *res)
{
    char label[160], text[INCIDENT_MAX_TEXT];
    run_label(r, label, sizeof(label));
    snprintf(text, sizeof(text), "%s step %d/%d %s [%s]: %s: %s", label, i + 1, r->rb.nsteps,
             r->rb.steps[i].name, drill_step_type_name(r->rb.steps[i].type),
             json_string_value(json_object_get(res, "status")),
             json_string_value(json_object_get(res, "detail")));
    incident_note(incident_mgr_of(x->app), r->inc, actor, text);
}

/* The filled text of tmpl, or a copy of tmpl with what is missing when a placeholder has no
 * value (*ok 0). New string. */
static char *fill(const char *tmpl, const json_t *vars, int *ok)
{
    struct oc_buf b;
    char missing[64];
    oc_buf_init(&b, INCIDENT_MAX_TEXT / 2);
    *ok = drill_fill(tmpl, vars, &b, missing, sizeof(missing)) == 0;
    if (!*ok) {
        oc_buf_reset(&b);
        oc_buf_printf(&b, "no value for {%s} in: %s", missing, tmpl);
    }
    char *s = oc_strdup(b.data ? b.data : "");
    oc_buf_free(&b);
    return s;
}

/* The value of incident field f of inc (vars for slice and cause) into out. 0 or -1. */
static int incident_field(const json_t *inc, const json_t *vars, const char *f, char *out, size_t n)
{
    const json_t *v;
    if (strcmp(f, "acknowledged") == 0 || strcmp(f, "mitigated") == 0) {
        v = json_object_get(inc, f[0] == 'a' ? "acknowledged_at" : "mitigated_at");
        snprintf(out, n, "%s", v && !json_is_null(v) ? "true" : "false");
        return 0;
    }
    v = json_object_get(strcmp(f, "slice") == 0 || strcmp(f, "cause") == 0 ? vars : inc, f);
    if (!json_is_string(v))
        return -1;
    snprintf(out, n, "%s", json_string_value(v));
    return 0;
}

/* The parameters of the QoE query a check runs. */
struct qparams {
    const char *metric, *filter;
    char from[24], to[24];
};

static const char *qget(void *arg, const char *name)
{
    struct qparams *p = arg;
    if (strcmp(name, "metric") == 0)
        return p->metric;
    if (strcmp(name, "from") == 0)
        return p->from;
    if (strcmp(name, "to") == 0)
        return p->to;
    if (strcmp(name, "filter") == 0)
        return p->filter[0] ? p->filter : NULL;
    return NULL;
}

/* Metric over the last window_s seconds in the incident's slice (inc "slice"): 0 with *v (NAN
 * without data), or -1 with why in err. */
static int qoe_value(struct drill_exec *x, const json_t *inc, const char *metric, int window_s,
                     double *v, char *err, size_t errlen)
{
    struct qoe_cube *c = qoe_cube_of(x->app);
    struct qoe_query q;
    struct qoe_result *res = NULL;
    struct oc_buf f;
    char scratch[1024];
    const char *k;
    json_t *val;
    if (!c) {
        snprintf(err, errlen, "the qoe module is not running");
        return -1;
    }
    int64_t now = oc_clock_now_s(x->app->clock);
    oc_buf_init(&f, sizeof(scratch) / 2);
    /* the slice's viewer dimensions: an incident opened by a service's own signal also names
     * its service, which is no dimension of the cube (the check reads all its viewers) */
    json_object_foreach(json_object_get(inc, "slice"), k,
                        val) if (json_is_string(val) && qoe_dim_parse(k) >= 0)
        oc_buf_printf(&f, "%s%s:%s", f.len ? "," : "", k, json_string_value(val));
    struct qparams p = {.metric = metric, .filter = f.data ? f.data : ""};
    snprintf(p.from, sizeof(p.from), "%lld", (long long)((now - window_s) / 60 * 60));
    snprintf(p.to, sizeof(p.to), "%lld", (long long)(now / 60 * 60));
    int rc = qoe_query_parse(&q, qget, &p, now, scratch, sizeof(scratch), err, errlen);
    if (rc == 0)
        rc = qoe_query_run(c, &q, &res, err, errlen);
    *v = NAN;
    if (rc == 0 && res->nseries > 0 && res->npoints > 0)
        *v = qoe_point(res, 0, 0);
    qoe_result_destroy(res);
    oc_buf_free(&f);
    return rc == 0 ? 0 : -1;
}

/* 1 when got OP want holds (numbers when both are numbers, else strings for == and !=),
 * 0 when not, -1 when OP cannot compare strings. */
static int compare(const char *got, const char *op, const char *want)
{
    char *e1, *e2;
    double a = strtod(got, &e1), b = strtod(want, &e2);
    int num = *got && *want && !*e1 && !*e2, c;
    if (num)
        c = a < b ? -1 : a > b;
    else
        c = strcmp(got, want);
    if (strcmp(op, "==") == 0)
        return c == 0;
    if (strcmp(op, "!=") == 0)
        return c != 0;
    if (!num)
        return -1;
    if (strcmp(op, "<") == 0)
        return c < 0;
    if (strcmp(op, "<=") == 0)
        return c <= 0;
    if (strcmp(op, ">") == 0)
        return c > 0;
    return c >= 0;
}

/* A check step: "passed" or "failed" with what was seen. */
static void run_check(struct drill_exec *x, struct drill_run *r, const struct drill_step *st,
                      const json_t *inc, json_t *res)
{
    char got[256] = "", err[256] = "", detail[1024];
    int ok, pass = 0;
    char *q = fill(st->query, r->vars, &ok), *want = fill(st->expect, r->vars, &ok);
    double v;
    if (strncmp(q, "incident.", 9) == 0 && incident_field(inc, r->vars, q + 9, got, sizeof(got)))
        snprintf(err, sizeof(err), "unknown incident field %s", q + 9);
    else if (strncmp(q, "qoe.", 4) == 0) {
        if (qoe_value(x, inc, q + 4, st->window_s, &v, err, sizeof(err)) == 0) {
            if (isnan(v))
                snprintf(err, sizeof(err), "no data for %s over the last %d s", q + 4,
                         st->window_s);
            else
                snprintf(got, sizeof(got), "%.6g", v);
        }
    } else if (strncmp(q, "incident.", 9) != 0)
        snprintf(err, sizeof(err), "unknown query %s", q);
    if (!err[0]) {
        pass = compare(got, st->op, want);
        if (pass < 0)
            snprintf(err, sizeof(err), "%.200s is not a number", got);
    }
    if (err[0])
        snprintf(detail, sizeof(detail), "%s (expected %s %s)", err, st->op, want);
    else
        snprintf(detail, sizeof(detail), "%s = %s (expected %s %s)", q, got, st->op, want);
    json_object_set_new(res, "status", json_string(pass > 0 ? "passed" : "failed"));
    json_object_set_new(res, "detail", json_string(detail));
    if (got[0])
        json_object_set_new(res, "value", json_string(got));
    free(q);
    free(want);
}

/* The command an action runs: its `run:` filled, or the first of its commands the cause
 * fits. New string, or NULL with why in err. */
static char *action_command(const struct drill_run *r, const struct drill_step *st, char *err,
                            size_t errlen)
{
    int ok;
    if (st->run) {
        char *c = fill(st->run, r->vars, &ok);
        if (ok)
            return c;
        snprintf(err, errlen, "%s", c);
        free(c);
        return NULL;
    }
    for (int i = st->cmd_first; i < st->cmd_first + st->ncmds; i++) {
        if (!json_string_value(json_object_get(r->vars, r->rb.cmds[i].when)))
            continue;
        char *c = fill(r->rb.cmds[i].run, r->vars, &ok);
        if (ok)
            return c;
        free(c);
    }
    snprintf(err, errlen, "no command of this step fits the cause %s",
             json_string_value(json_object_get(r->vars, "cause")));
    return NULL;
}

/* An action step: a mitigation ("done", or "failed" with why), or in a dry run what it
 * would run. */
static void run_action(struct drill_exec *x, struct drill_run *r, const struct drill_step *st,
                       const char *actor, int dry, json_t *res)
{
    char err[512] = "", detail[1024], name[32];
    json_t *rec = NULL, *req = NULL;
    if (st->webhook) {
        drill_exec_webhook(x, r, st, dry, res);
        return;
    }
    char *cmd = action_command(r, st, err, sizeof(err));
    if (cmd)
        req = drill_command_request(x->host, cmd, err, sizeof(err));
    snprintf(name, sizeof(name), "INC-%lld", (long long)r->inc);
    if (req)
        json_object_set_new(req, "reason", json_string(name));
    if (!req)
        snprintf(detail, sizeof(detail), "%s", err);
    else if (dry)
        snprintf(detail, sizeof(detail), "would run: %s", cmd);
    else if (x->host->mitigate(x->app, req, actor, &rec, err, sizeof(err)) != 0)
        snprintf(detail, sizeof(detail), "%s: %s", cmd, err);
    else
        snprintf(detail, sizeof(detail), "ran: %s (mitigation %s)", cmd,
                 json_string_value(json_object_get(rec, "id"))
                     ? json_string_value(json_object_get(rec, "id"))
                     : "applied");
    json_object_set_new(res, "status",
                        json_string(!req || (!dry && !rec) ? "failed"
                                    : dry                  ? "would run"
                                                           : "done"));
    json_object_set_new(res, "detail", json_string(detail));
    if (cmd)
        json_object_set_new(res, "command", json_string(cmd));
    free(cmd);
    json_decref(req);
    json_decref(rec);
}

/* Runs step i of r (dry: only says what it would do) into a new result object. */
static json_t *run_step(struct drill_exec *x, struct drill_run *r, int i, const json_t *inc,
                        const char *actor, int dry)
{
    const struct drill_step *st = &r->rb.steps[i];
    int ok;
    char *text = fill(st->text, r->vars, &ok);
    json_t *res = json_pack("{s:i, s:s, s:s, s:s}", "step", i + 1, "name", st->name, "type",
                            drill_step_type_name(st->type), "text", text);
    if (st->type == DRILL_STEP_CHECK)
        run_check(x, r, st, inc, res);
    else if (st->type == DRILL_STEP_ACTION)
        run_action(x, r, st, actor, dry, res);
    else if (st->type == DRILL_STEP_DECISION)
        json_object_set_new(res, "status", json_string(dry ? "would wait" : "waiting"));
    else
        json_object_set_new(res, "status", json_string("manual"));
    if (!json_object_get(res, "detail"))
        json_object_set_new(res, "detail", json_string(text));
    if (!dry) {
        json_object_set_new(res, "by", json_string(actor));
        json_object_set_new(res, "at", json_integer(oc_clock_now_s(x->app->clock)));
    }
    free(text);
    return res;
}

/* 1 when a step's result counts as done without a person. */
static int automated(const json_t *res)
{
    const char *s = json_string_value(json_object_get(res, "status"));
    const char *t = json_string_value(json_object_get(res, "type"));
    return s && t && (strcmp(t, "check") == 0 || strcmp(t, "action") == 0) &&
           (strcmp(s, "passed") == 0 || strcmp(s, "done") == 0);
}

/* The run's closing line on the timeline. */
static void record_end(struct drill_exec *x, struct drill_run *r, const char *actor)
{
    char label[160], text[512];
    size_t i;
    json_t *v;
    int n = 0;
    json_array_foreach(r->steps, i, v) n += automated(v);
    run_label(r, label, sizeof(label));
    snprintf(text, sizeof(text), "%s %s: %d of %d steps done without a person", label, r->state, n,
             r->rb.nsteps);
    incident_note(incident_mgr_of(x->app), r->inc, actor, text);
}

void drill_exec_advance(struct drill_exec *x, struct drill_run *r, const char *actor)
{
    json_t *inc = NULL;
    if (incident_get_json(incident_mgr_of(x->app), r->inc, &inc) != 0) {
        snprintf(r->state, sizeof(r->state), "failed"); /* the incident is gone */
        return;
    }
    while (r->next < r->rb.nsteps) {
        int i = r->next;
        json_t *res;
        if (r->skip_next) { /* the decision before it was skipped */
            r->skip_next = 0;
            res = json_pack("{s:i, s:s, s:s, s:s, s:s, s:s, s:I}", "step", i + 1, "name",
                            r->rb.steps[i].name, "type", drill_step_type_name(r->rb.steps[i].type),
                            "status", "skipped", "detail", "its decision was skipped", "by", actor,
                            "at", (json_int_t)oc_clock_now_s(x->app->clock));
        } else
            res = run_step(x, r, i, inc, actor, 0);
        json_array_append_new(r->steps, res);
        record(x, r, i, actor, res);
        const char *s = json_string_value(json_object_get(res, "status"));
        if (strcmp(s, "waiting") == 0) {
            snprintf(r->state, sizeof(r->state), "waiting");
            json_decref(inc);
            return;
        }
        r->next++;
        if (strcmp(s, "failed") == 0 && !r->rb.steps[i].continue_on_fail) {
            snprintf(r->state, sizeof(r->state), "failed");
            record_end(x, r, actor);
            json_decref(inc);
            return;
        }
    }
    snprintf(r->state, sizeof(r->state), "done");
    record_end(x, r, actor);
    json_decref(inc);
}

/* Loads the runbook named name (a file of runbook.dir, else a shipped one), or when name is
 * NULL the first covering the incident's metric, into rb. 0 or OC_ENOTFOUND with why in err. */
static int pick_runbook(const struct drill_exec *x, const char *name, const json_t *vars,
                        struct drill_runbook *rb, char *err, size_t errlen)
{
    const char *metric = json_string_value(json_object_get(vars, "metric"));
    size_t len;
    for (int i = 0; x->files && i < x->files->n; i++) {
        const struct drill_file *f = &x->files->f[i];
        if (name && strcmp(f->name, name) != 0)
            continue;
        if (drill_runbook_parse(f->text, f->len, rb, err, errlen) != 0)
            continue; /* checked at start */
        if (name || drill_runbook_covers(rb, metric))
            return 0;
        drill_runbook_free(rb);
    }
    if (!name) {
        if (drill_runbook_for_metric(metric, rb) == 0)
            return 0;
        snprintf(err, errlen, "runbook: no runbook covers %s; name one", metric);
        return OC_ENOTFOUND;
    }
    const char *text = drill_runbook_embedded(name, &len);
    if (text && drill_runbook_parse(text, len, rb, err, errlen) == 0)
        return 0;
    snprintf(err, errlen, "runbook: no runbook named %s (GET /v1/runbooks)", name);
    return OC_ENOTFOUND;
}

/* The run (or dry run) r as JSON (new reference). */
json_t *drill_run_json(const struct drill_run *r)
{
    char name[32];
    int n = 0, manual = 0;
    size_t i;
    json_t *v;
    json_array_foreach(r->steps, i, v)
    {
        const char *t = json_string_value(json_object_get(v, "type"));
        n += automated(v);
        manual += t && (strcmp(t, "note") == 0 || strcmp(t, "decision") == 0);
    }
    snprintf(name, sizeof(name), "INC-%lld", (long long)r->inc);
    return json_pack("{s:s, s:s, s:s?, s:s, s:s, s:s, s:I, s:i, s:o, s:i, s:i, s:O}", "incident_id",
                     name, "runbook", r->rb.kind, "version", r->rb.version, "hash", r->rb.hash,
                     "state", r->state, "started_by", r->by, "started_at",
                     (json_int_t)r->started_at, "steps_total", r->rb.nsteps, "waiting_step",
                     strcmp(r->state, "waiting") == 0 ? json_integer(r->next + 1) : json_null(),
                     "automated", n, "manual", manual, "steps", r->steps);
}

json_t *drill_incident_vars(struct oc_app *app, const struct drill_host *h, const json_t *inc)
{
    json_t *pol = h && h->policy ? h->policy(app) : NULL;
    json_t *vars =
        drill_runbook_vars(inc, json_object_get(inc, "causes"), json_object_get(pol, "pathways"));
    json_decref(pol);
    struct catalog_ref ref;
    const char *svc = json_string_value(json_object_get(inc, "service"));
    if (svc && svc[0] && catalog_get(app, &ref) == 0) {
        const struct catalog_service *cs = catalog_service_find(ref.cat, svc);
        drill_runbook_board(vars, cs ? cs->kind : NULL);
        catalog_put(&ref);
    }
    return vars;
}

/* A new run of a runbook over incident inc (its JSON incj) as actor. */
static struct drill_run *run_new(struct drill_exec *x, int64_t inc, const json_t *incj,
                                 const char *actor)
{
    struct drill_run *r = oc_calloc(1, sizeof(*r));
    r->inc = inc;
    r->vars = drill_incident_vars(x->app, x->host, incj);
    r->steps = json_array();
    snprintf(r->by, sizeof(r->by), "%s", actor);
    snprintf(r->state, sizeof(r->state), "running");
    r->started_at = oc_clock_now_s(x->app->clock);
    return r;
}

/* Keeps r in x, making room by dropping the oldest finished run. 0 or OC_ETOOBIG. */
static int keep(struct drill_exec *x, struct drill_run *r)
{
    for (int i = 0; i < x->nruns; i++)
        if (x->runs[i]->inc == r->inc) { /* a finished run of the same incident */
            run_free(x->runs[i]);
            x->runs[i] = r;
            return 0;
        }
    if (x->nruns == DRILL_MAX_RUNS)
        for (int i = 0; i < x->nruns; i++)
            if (strcmp(x->runs[i]->state, "waiting") != 0) {
                run_free(x->runs[i]);
                memmove(&x->runs[i], &x->runs[i + 1],
                        (size_t)(x->nruns - i - 1) * sizeof(x->runs[0]));
                x->nruns--;
                break;
            }
    if (x->nruns == DRILL_MAX_RUNS)
        return OC_ETOOBIG;
    x->runs[x->nruns++] = r;
    return 0;
}

int drill_exec_start(struct drill_exec *x, int64_t inc, const char *name, int dry,
                     const char *actor, json_t **out, char *err, size_t errlen)
{
    json_t *incj = NULL;
    struct incident_mgr *m = incident_mgr_of(x->app);
    int rc;
    *out = NULL;
    if (!m) {
        snprintf(err, errlen, "the incident module is not running");
        return OC_EINVAL;
    }
    if ((rc = incident_get_json(m, inc, &incj)) != 0) {
        snprintf(err, errlen, "no incident INC-%lld", (long long)inc);
        return rc;
    }
    struct drill_run *r = run_new(x, inc, incj, actor);
    oc_lock(&x->mu); /* runbook.dir's files, the runs */
    if ((rc = pick_runbook(x, name, r->vars, &r->rb, err, errlen)) != 0)
        goto out;
    if (dry) {
        snprintf(r->state, sizeof(r->state), "dry_run");
        for (int i = 0; i < r->rb.nsteps; i++)
            json_array_append_new(r->steps, run_step(x, r, i, incj, actor, 1));
        *out = drill_run_json(r);
        goto out;
    }
    struct drill_run *old = drill_exec_find(x, inc);
    if (old && strcmp(old->state, "waiting") == 0) {
        snprintf(err, errlen, "INC-%lld: its %s run waits at step %d; approve or skip it",
                 (long long)inc, old->rb.kind, old->next + 1);
        rc = OC_ECONFLICT;
    } else if ((rc = keep(x, r)) != 0)
        snprintf(err, errlen, "%d runs wait for a decision; no room for another", DRILL_MAX_RUNS);
    else {
        char label[160], text[256];
        run_label(r, label, sizeof(label));
        snprintf(text, sizeof(text), "%s started: %d steps", label, r->rb.nsteps);
        incident_note(m, inc, actor, text);
        drill_exec_advance(x, r, actor);
        *out = drill_run_json(r);
        r = NULL; /* kept */
    }
out:
    oc_unlock(&x->mu);
    run_free(r);
    json_decref(incj);
    return rc;
}

int drill_exec_decide(struct drill_exec *x, int64_t inc, int approve, int step, const char *actor,
                      json_t **out, char *err, size_t errlen)
{
    int rc = 0;
    *out = NULL;
    oc_lock(&x->mu);
    struct drill_run *r = drill_exec_find(x, inc);
    if (!r) {
        snprintf(err, errlen, "INC-%lld has no runbook run", (long long)inc);
        rc = OC_ENOTFOUND;
    } else if (strcmp(r->state, "waiting") != 0) {
        snprintf(err, errlen, "INC-%lld: its %s run is %s, not waiting for a decision",
                 (long long)inc, r->rb.kind, r->state);
        rc = OC_ECONFLICT;
    } else if (step && step != r->next + 1) {
        snprintf(err, errlen, "step: the run waits at step %d, not %d", r->next + 1, step);
        rc = OC_ECONFLICT;
    } else {
        json_t *res = json_array_get(r->steps, json_array_size(r->steps) - 1);
        char detail[INCIDENT_MAX_TEXT / 2];
        snprintf(detail, sizeof(detail), "%s by %s: %s", approve ? "approved" : "skipped", actor,
                 json_string_value(json_object_get(res, "text")));
        json_object_set_new(res, "status", json_string(approve ? "approved" : "skipped"));
        json_object_set_new(res, "detail", json_string(detail));
        json_object_set_new(res, "by", json_string(actor));
        json_object_set_new(res, "at", json_integer(oc_clock_now_s(x->app->clock)));
        record(x, r, r->next, actor, res);
        r->skip_next = !approve;
        r->next++;
        snprintf(r->state, sizeof(r->state), "running");
        drill_exec_advance(x, r, actor);
        *out = drill_run_json(r);
    }
    oc_unlock(&x->mu);
    return rc;
}

int drill_exec_get(struct drill_exec *x, int64_t inc, json_t **out)
{
    oc_lock(&x->mu);
    struct drill_run *r = drill_exec_find(x, inc);
    *out = r ? drill_run_json(r) : NULL;
    oc_unlock(&x->mu);
    return r ? 0 : OC_ENOTFOUND;
}
