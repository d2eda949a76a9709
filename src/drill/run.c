/*
 * run.c - one drill: wires the real pipeline in-process on a virtual clock (simulator ->
 * NDJSON -> ingest parser -> cube -> alert engine -> incident manager with the example
 * catalog -> rca on incident.opened -> steering the simulated players follow), steps it
 * second by second until the incident resolves, and writes the post-incident review.
 */
#include "drill/drill_int.h"

#include "alert/alert.h"
#include "catalog/catalog.h"
#include "core/alloc.h"
#include "core/bus.h"
#include "core/err.h"
#include "core/log.h"
#include "incident/incident.h"
#include "sim/sim.h"
#include "slo/slo.h"
#include "steer/steer.h"
#include "store/store.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* The base steering policy: the topology's 80/20 split between the two CDNs. */
static const char *const drill_policy =
    "{\"ttl\": 60, \"pathways\": [\"primary\", \"secondary\"], \"rules\": [{\"name\": \"split\","
    " \"priority\": [\"secondary\", \"primary\"], \"percent\": 20}]}";
/* The same with automatic steering on (no revert within a drill). */
static const char *const drill_policy_auto =
    "{\"ttl\": 60, \"pathways\": [\"primary\", \"secondary\"], \"rules\": [{\"name\": \"split\","
    " \"priority\": [\"secondary\", \"primary\"], \"percent\": 20}], \"auto\": {\"enabled\": true,"
    " \"hold_s\": 7200, \"min_interval_s\": 900}}";

static void sink(void *arg, const struct beacon_event *ev)
{
    struct drill *d = arg;
    qoe_cube_add_event(d->cube, ev); /* straight into the cube: no NDJSON round trip */
    drill_meter_add(d, ev);
}

/* The sim_steer_fn: asks the steering engine, as a player's steering request would. */
static int ask(void *arg, const struct sim_steer_req *req, char pw[][SIM_NAME_MAX], int *n,
               int *ttl)
{
    struct drill *d = arg;
    struct steer_query q;
    struct steer_decision dec;
    memset(&q, 0, sizeof(q));
    snprintf(q.pathway[0], sizeof(q.pathway[0]), "%s", req->pathway);
    q.npathway = 1;
    snprintf(q.region, sizeof(q.region), "%s", req->region);
    snprintf(q.country, sizeof(q.country), "%s", req->country);
    snprintf(q.isp, sizeof(q.isp), "%s", req->isp);
    snprintf(q.device, sizeof(q.device), "%s", req->device);
    snprintf(q.session, sizeof(q.session), "%s", req->session);
    if (steer_decide(d->st, &q, &dec) < 0)
        return -1;
    *n = 0;
    for (char *p = dec.priority; *p && *n < SIM_MAX_PATHWAYS;) {
        size_t k = strcspn(p, ",");
        snprintf(pw[(*n)++], SIM_NAME_MAX, "%.*s", (int)k, p);
        p += k + (p[k] == ',');
    }
    *ttl = (int)dec.ttl_s;
    return 0;
}

/* The sim_flag_fn: the flag as GET /v1/flags would answer it for the player. */
static int flag(void *arg, const struct sim_flag_req *req)
{
    struct drill *d = arg;
    return steer_flag_value(d->st, req->flag, req->player, req->player_version, req->device,
                            req->region);
}

static int cube_measure(void *arg, const json_t *slice, int64_t now_s, struct incident_impact *out)
{
    struct drill *d = arg;
    struct incident_grid g;
    incident_grid_default(&g);
    return incident_measure_cube(d->cube, &g, slice, now_s, out);
}

/* After each simulated second: ingest, close minutes; every 10 s evaluate the alert rules,
 * the incident rules and the responder; automatic steering every second. */
static void tick(void *arg, int64_t now_ms)
{
    struct drill *d = arg;
    qoe_cube_tick(d->cube);
    if (d->o->auto_mitigate)
        steer_auto_tick(d->st);
    if (now_ms % DRILL_EVAL_MS == 0) {
        alert_eval_tick(d->eng, d->cube, now_ms / 1000);
        incident_tick(d->m);
        drill_responder_tick(d, now_ms / 1000);
    }
}

/* Automatic steering hears only paging alerts: backlog-level rules fire on baseline noise and
 * notify-level ones are for humans (steer_auto_on_alert itself does not look at the level). */
static void auto_on_alert(const char *topic, const json_t *payload, void *arg)
{
    const char *level = json_string_value(json_object_get(payload, "level"));
    if (level && strcmp(level, "page") == 0)
        steer_auto_on_alert(topic, payload, arg);
}

/* Creates the steering state with the drill's policy. 0 or an error with err set. */
static int steer_open(struct drill *d, char *err, size_t errlen)
{
    struct steer_opts so = {.clock = &d->clk, .bus = d->bus, .ttl_s = DRILL_TTL_S};
    so.backup_origin = "origin-backup.drill.invalid";
    json_t *doc = json_loads(d->o->auto_mitigate ? drill_policy_auto : drill_policy, 0, NULL);
    int rc = steer_new(&so, &d->st);
    if (rc == 0)
        rc = steer_policy_set(d->st, doc, "drill", err, errlen);
    json_decref(doc);
    if (rc == 0 && d->o->auto_mitigate) {
        oc_bus_subscribe(d->bus, "alert.fired", auto_on_alert, d->st);
        oc_bus_subscribe(d->bus, "alert.resolved", auto_on_alert, d->st);
    }
    return rc;
}

/* Opens every capability of the pipeline. 0, or an error with err set. */
static int pipeline_open(struct drill *d, char *err, size_t errlen)
{
    struct qoe_cube_opts co;
    struct incident_opts io;
    int rc;
    snprintf(d->dir, sizeof(d->dir), "/tmp/oncue-drill.XXXXXX");
    if (!mkdtemp(d->dir)) {
        snprintf(err, errlen, "cannot create a temporary directory: %s", strerror(errno));
        d->dir[0] = '\0';
        return OC_EIO;
    }
    if ((rc = store_open(d->dir, STORE_SYNC_NORMAL, &d->store, err, errlen)) != 0)
        return rc;
    d->bus = oc_bus_new();
    config_defaults(&d->cfg);
    d->app = (struct oc_app){.cfg = &d->cfg, .clock = &d->clk, .bus = d->bus, .store = d->store};
    if ((rc = catalog_module.init(&d->app, &d->catalog_state)) != 0) {
        snprintf(err, errlen, "catalog: %s", oc_strerror(rc));
        return rc;
    }
    qoe_cube_opts_default(&co);
    d->cube = qoe_cube_new(&co, &d->clk);
    if ((rc = slo_set_load(NULL, &d->slos, err, errlen)) != 0 ||
        (rc = alert_rules_load(NULL, d->slos, &d->rules, err, errlen)) != 0)
        return rc;
    d->eng = alert_engine_new(d->rules, d->slos, d->bus, NULL);
    incident_opts_default(&io);
    io.measure = cube_measure;
    io.measure_arg = d;
    if ((rc = incident_mgr_new(&d->app, &io, &d->m, err, errlen)) != 0)
        return rc;
    if ((rc = steer_open(d, err, errlen)) != 0)
        return rc;
    drill_subscribe(d);
    return 0;
}

/* Removes the temporary data directory and its files. */
static void remove_dir(const char *dir)
{
    DIR *dp = opendir(dir);
    struct dirent *e;
    char path[512];
    while (dp && (e = readdir(dp)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        unlink(path);
    }
    if (dp)
        closedir(dp);
    rmdir(dir);
}

static void pipeline_close(struct drill *d)
{
    if (d->bus) {
        drill_unsubscribe(d);
        if (d->o->auto_mitigate && d->st) {
            oc_bus_unsubscribe(d->bus, auto_on_alert, d->st);
        }
    }
    steer_destroy(d->st);
    incident_mgr_destroy(d->m);
    alert_engine_destroy(d->eng);
    alert_rules_destroy(d->rules);
    slo_set_destroy(d->slos);
    if (d->catalog_state)
        catalog_module.stop(&d->app, d->catalog_state);
    qoe_cube_destroy(d->cube);
    oc_bus_destroy(d->bus);
    store_close(d->store);
    config_free(&d->cfg);
    json_decref(d->rca);
    free(d->buckets);
    if (d->dir[0])
        remove_dir(d->dir);
}

/* Steps the simulator minute by minute: the scenario's length, then on while an incident is
 * open (at most DRILL_EXTRA_MIN more minutes). */
static void run_sim(struct drill *d, struct sim *s, int64_t scenario_ms)
{
    int64_t end = d->t0_ms + scenario_ms, cap = end + DRILL_EXTRA_MIN * 60000LL;
    while (sim_now_ms(s) < cap) {
        sim_run(s, sim_now_ms(s) + 60000);
        if (sim_now_ms(s) >= end && d->open_incidents == 0)
            break;
    }
}

/* Writes the review of the first incident into the output directory. */
static void write_review(struct drill *d)
{
    const char *dir = d->o->out_dir ? d->o->out_dir : DRILL_DEFAULT_OUT;
    char *md = NULL;
    FILE *f;
    if (!d->inc_id || incident_review_md(d->m, d->inc_id, &md) != 0)
        return;
    if (mkdir(dir, 0755) != 0 && errno != EEXIST)
        oc_log(OC_LOG_WARN, "drill: cannot create %s: %s", dir, strerror(errno));
    snprintf(d->sc->review_path, sizeof(d->sc->review_path), "%s/%s-seed%llu-%s.md", dir,
             d->sc->scenario, (unsigned long long)d->sc->seed, d->inc_name);
    f = fopen(d->sc->review_path, "w");
    if (f) {
        fputs(md, f);
        fclose(f);
    } else {
        oc_log(OC_LOG_WARN, "drill: cannot write %s: %s", d->sc->review_path, strerror(errno));
        d->sc->review_path[0] = '\0';
    }
    free(md);
}

/* Reads the first incident's final severity and resolve time. */
static void read_incident(struct drill *d)
{
    json_t *inc = NULL;
    if (!d->inc_id || incident_get_json(d->m, d->inc_id, &inc) != 0)
        return;
    const char *sev = json_string_value(json_object_get(inc, "severity"));
    snprintf(d->sc->severity, sizeof(d->sc->severity), "%s", sev ? sev : "");
    d->sc->resolved_at = json_integer_value(json_object_get(inc, "resolved_at"));
    json_decref(inc);
}

/* Runs the simulation through the opened pipeline. 0 or OC_ENOTFOUND / OC_EINVAL. */
static int simulate(struct drill *d, char *err, size_t errlen)
{
    struct sim_topo *t = NULL;
    struct sim_scenario *scn = NULL;
    struct sim *s = NULL;
    int n = 0, rc = sim_topo_default(&t);
    struct sim_opts so = {.seed = d->o->seed, .viewers = d->sc->viewers, .sink = sink};
    so.sink_arg = so.steer_arg = so.tick_arg = d;
    so.steer = ask;
    so.flag = flag;
    so.flag_arg = d;
    so.tick = tick;
    so.clock = &d->clk;
    if (rc == 0 && (rc = sim_scenario_builtin(d->o->scenario, &scn)) != 0)
        snprintf(err, errlen, "unknown scenario %s", d->o->scenario);
    if (rc == 0 && (rc = sim_new(&so, t, scn, &s)) != 0)
        snprintf(err, errlen, "simulator: %s", oc_strerror(rc));
    if (rc != 0)
        goto out;
    d->t0_ms = sim_now_ms(s);
    int64_t len_ms = sim_scenario_duration_ms(scn) + DRILL_EXTRA_MIN * 60000LL;
    d->nbuckets = (int)(len_ms / DRILL_BUCKET_MS) + 8;
    d->buckets = oc_calloc((size_t)d->nbuckets, sizeof(*d->buckets));
    drill_meter_name(d);
    d->truth = sim_truth(s, &n);
    if (n < 1)
        d->truth = NULL;
    d->sc->fault_start = d->truth ? d->truth->start_ms / 1000 : 0;
    alert_engine_start_at(d->eng, d->t0_ms / 1000);
    run_sim(d, s, sim_scenario_duration_ms(scn));
    read_incident(d);
    write_review(d);
    drill_judge(d);
out:
    sim_destroy(s);
    sim_scenario_destroy(scn);
    sim_topo_destroy(t);
    return rc;
}

int drill_run(const struct drill_opts *o, struct drill_score *out, char *err, size_t errlen)
{
    struct drill *d = oc_calloc(1, sizeof(*d));
    struct timespec a, b;
    int rc;
    clock_gettime(CLOCK_MONOTONIC, &a);
    memset(out, 0, sizeof(*out));
    snprintf(out->scenario, sizeof(out->scenario), "%s", o->scenario);
    out->seed = o->seed;
    out->viewers = o->viewers > 0 ? o->viewers : DRILL_DEFAULT_VIEWERS;
    out->cause = json_array();
    d->o = o;
    d->sc = out;
    d->rule = drill_rule_for(o->scenario);
    oc_clock_init(&d->clk, OC_CLOCK_VIRTUAL, 0);
    rc = pipeline_open(d, err, errlen);
    if (rc == 0)
        rc = simulate(d, err, errlen);
    pipeline_close(d);
    free(d);
    clock_gettime(CLOCK_MONOTONIC, &b);
    out->wall_s = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
    if (rc != 0)
        drill_score_free(out);
    return rc;
}

void drill_score_free(struct drill_score *s)
{
    json_decref(s->cause);
    s->cause = NULL;
}
