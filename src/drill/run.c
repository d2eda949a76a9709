/*
 * run.c - one drill: starts the modules `serve` runs (the host's table, through the shared
 * runner of core/module.h, minus the HTTP listener) on a virtual clock and a temporary store,
 * feeds the simulator's beacons into the qoe cube where POST /v1/events folds them, lets the
 * simulated players follow steering through the host's bindings, steps everything second by
 * second until the incident resolves, and writes the post-incident review.
 */
#include "drill/drill_int.h"

#include "core/alloc.h"
#include "core/bus.h"
#include "core/err.h"
#include "core/suggest.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/module.h"
#include "incident/incident.h"
#include "sim/sim.h"
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

#define DRILL_LOG_BYTES (8u << 20) /* log lines buffered before a parse and fold */

/* --cdn-logs: the buffered log lines through the CDN log parser into the cube, as POST
 * /v1/cdn-logs?format=fastly folds them. */
static void flush_logs(struct drill *d)
{
    if (!d->logs.len)
        return;
    d->o->host->cdn_logs(d->cube, d->logs.data, d->logs.len);
    oc_buf_reset(&d->logs);
}

static void sink(void *arg, const struct beacon_event *ev)
{
    struct drill *d = arg;
    if (d->o->cdn_logs) { /* the same event, as the CDN logs its request */
        if (sim_cdnlog_append(&d->logs, ev) != 0) {
            flush_logs(d);
            sim_cdnlog_append(&d->logs, ev);
        }
    } else {
        qoe_cube_add_event(d->cube, ev); /* where POST /v1/events folds it, without NDJSON */
    }
    drill_meter_add(d, ev);
}

/* After each simulated second: the module timers due now (as `serve` runs them, with their
 * own periods) and the bus; every DRILL_EVAL_MS the scripted responder, at a human's pace. */
static void tick(void *arg, int64_t now_ms)
{
    struct drill *d = arg;
    flush_logs(d);
    if (d->sim)
        drill_sources_tick(d, d->sim, now_ms);
    oc_app_tick(&d->app, now_ms);
    if (now_ms % DRILL_EVAL_MS == 0)
        drill_storm_tick(d, now_ms);
    if (now_ms % DRILL_EVAL_MS == 0) {
        drill_responder_tick(d, now_ms / 1000);
        oc_bus_drain(d->bus);
    }
}

/* Writes the drill's steering policy into the data directory and points the settings at it,
 * with the drill's TTL and backup origin. 0, or an error with err set. */
static int settings(struct drill *d, char *err, size_t errlen)
{
    char path[128], ttl[16];
    snprintf(path, sizeof(path), "%s/policy.json", d->dir);
    FILE *f = fopen(path, "w");
    if (!f || fputs(d->o->auto_mitigate ? drill_policy_auto : drill_policy, f) < 0) {
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
        if (f)
            fclose(f);
        return OC_EIO;
    }
    fclose(f);
    snprintf(ttl, sizeof(ttl), "%d", DRILL_TTL_S);
    int rc = config_set(&d->cfg, "steer.policy_file", path, err, errlen);
    if (rc == 0)
        rc = config_set(&d->cfg, "steer.ttl_s", ttl, err, errlen);
    if (rc == 0)
        rc = config_set(&d->cfg, "steer.backup_origin", "origin-backup.drill.invalid", err, errlen);
    return rc;
}

/* Creates the drill's data directory: in memory where the machine has /dev/shm (the store
 * does what serve's does, minus waiting for a disk), else in /tmp. 0 or -1 (errno set). */
static int make_dir(char *dir, size_t n)
{
    static const char *const where[] = {"/dev/shm", "/tmp"};
    for (size_t i = 0; i < sizeof(where) / sizeof(where[0]); i++) {
        snprintf(dir, n, "%s/oncue-drill.XXXXXX", where[i]);
        if (mkdtemp(dir))
            return 0;
    }
    return -1;
}

/* Starts the modules `serve` runs (no HTTP listener) on the drill's clock and store. 0, or
 * an error with err set. */
static int pipeline_open(struct drill *d, char *err, size_t errlen)
{
    int rc;
    if (make_dir(d->dir, sizeof(d->dir)) != 0) {
        snprintf(err, errlen, "cannot create a temporary directory: %s", strerror(errno));
        d->dir[0] = '\0';
        return OC_EIO;
    }
    if ((rc = store_open(d->dir, STORE_SYNC_NORMAL, &d->store, err, errlen)) != 0)
        return rc;
    d->bus = oc_bus_new();
    config_init(&d->cfg, d->o->host->modules);
    if ((rc = settings(d, err, errlen)) != 0)
        return rc;
    d->app = (struct oc_app){.cfg = &d->cfg, .clock = &d->clk, .bus = d->bus, .store = d->store};
    d->app.metrics = oc_metrics_new();
    d->started = 1;
    if ((rc = oc_app_start(&d->app, d->o->host->modules, "all")) != 0) {
        snprintf(err, errlen, "a module failed to start: %s", oc_strerror(rc));
        return rc;
    }
    d->cube = qoe_cube_of(&d->app);
    d->m = incident_mgr_of(&d->app);
    if (!d->cube || !d->m) {
        snprintf(err, errlen, "the qoe and incident modules must run");
        return OC_ENOTFOUND;
    }
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
    if (d->bus)
        drill_unsubscribe(d);
    if (d->started)
        oc_app_stop(&d->app);
    if (d->bus) {
        struct oc_bus_stats st;
        oc_bus_stats(d->bus, &st);
        d->sc->bus_deliveries = st.delivered;
        d->sc->bus_violations = st.violations;
    }
    oc_metrics_destroy(d->app.metrics);
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

/* Reads the first incident's final severity, resolve time, cross-check and causes: the
 * causes it ends with are the ones its review names (the first localization may have given
 * way to the alert's group, or an incident opened by a probe may have taken the beacons'
 * cause when they merged into it). */
static void read_incident(struct drill *d)
{
    json_t *inc = NULL, *c;
    size_t i;
    if (!d->inc_id || incident_get_json(d->m, d->inc_id, &inc) != 0)
        return;
    json_array_clear(d->sc->cause);
    json_array_foreach(json_object_get(inc, "causes"), i, c)
        json_array_append(d->sc->cause, json_object_get(c, "element"));
    const char *svc = json_string_value(json_object_get(inc, "service"));
    snprintf(d->sc->service, sizeof(d->sc->service), "%s", svc ? svc : "");
    const char *sev = json_string_value(json_object_get(inc, "severity"));
    snprintf(d->sc->severity, sizeof(d->sc->severity), "%s", sev ? sev : "");
    d->sc->resolved_at = json_integer_value(json_object_get(inc, "resolved_at"));
    const char *xc =
        json_string_value(json_object_get(json_object_get(inc, "cross_check"), "verdict"));
    snprintf(d->sc->cross_check, sizeof(d->sc->cross_check), "%s", xc ? xc : "");
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
    so.sink_arg = so.tick_arg = d;
    so.steer = d->o->host->steer;
    so.steer_arg = so.flag_arg = &d->app;
    so.flag = d->o->host->flag;
    so.tick = tick;
    so.clock = &d->clk;
    int healthy = strcmp(d->o->scenario, DRILL_HEALTHY) == 0;
    if (healthy)
        so.start_ms = (SIM_DEFAULT_DAY + d->o->healthy_from_s) * 1000; /* midnight by default */
    else if (rc == 0 && (rc = sim_scenario_builtin(d->o->scenario, &scn)) != 0) {
        char hint[160];
        snprintf(err, errlen, "unknown scenario %s%s", d->o->scenario,
                 oc_suggest_names(d->o->scenario, sim_scenario_names, sizeof sim_scenario_names[0],
                                  hint, sizeof hint));
    }
    if (rc == 0 && (rc = sim_new(&so, t, scn, &s)) != 0)
        snprintf(err, errlen, "simulator: %s", oc_strerror(rc));
    if (rc != 0)
        goto out;
    d->t0_ms = sim_now_ms(s);
    int64_t run_ms = d->o->duration_ms > 0 ? d->o->duration_ms
                     : healthy             ? DRILL_HEALTHY_MS
                                           : sim_scenario_duration_ms(scn);
    int64_t len_ms = run_ms + DRILL_EXTRA_MIN * 60000LL;
    d->nbuckets = (int)(len_ms / DRILL_BUCKET_MS) + 8;
    d->buckets = oc_calloc((size_t)d->nbuckets, sizeof(*d->buckets));
    drill_meter_name(d);
    d->truth = sim_truth(s, &n);
    if (n < 1)
        d->truth = NULL;
    d->sc->fault_start = d->truth ? d->truth->start_ms / 1000 : 0;
    d->sim = s;
    run_sim(d, s, run_ms);
    d->sim = NULL;
    d->sc->simulated_s = (sim_now_ms(s) - d->t0_ms) / 1000;
    read_incident(d);
    drill_storm_score(d);
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
    struct timespec wall;
    clock_gettime(CLOCK_REALTIME, &wall);
    out->ran_at_ms = (int64_t)wall.tv_sec * 1000 + wall.tv_nsec / 1000000;
    out->viewers = o->viewers > 0 ? o->viewers : DRILL_DEFAULT_VIEWERS;
    out->cause = json_array();
    d->o = o;
    d->sc = out;
    d->rule = drill_rule_for(o->scenario);
    oc_buf_init(&d->logs, DRILL_LOG_BYTES);
    oc_clock_init(&d->clk, OC_CLOCK_VIRTUAL, 0);
    int host_ok = o->host && (!o->cdn_logs || o->host->cdn_logs);
    rc = host_ok ? pipeline_open(d, err, errlen) : OC_EINVAL;
    if (!host_ok)
        snprintf(err, errlen, "no drill host (modules, steering and CDN log bindings)");
    if (rc == 0)
        rc = simulate(d, err, errlen);
    drill_storm_free(d);
    drill_sources_free(d);
    pipeline_close(d);
    oc_buf_free(&d->logs);
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
