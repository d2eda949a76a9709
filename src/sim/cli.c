/*
 * cli.c - `oncue sim`: runs the population against a real server, posting NDJSON batches to
 * POST /v1/events over one keep-alive libcurl connection, in real time or X times faster
 * (the server then runs with --clock replay); or writes the NDJSON to stdout. `--demo` runs
 * a modest population in real time that injects a shipped fault every few minutes.
 */
#include "sim/sim_int.h"
#include "sim/exporter.h"

#include "core/alloc.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/file.h"
#include "core/opt.h"
#include "core/suggest.h"
#include "core/timefmt.h"

#include <curl/curl.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define CLI_MAX_BATCH 10000      /* events per POST (the server takes 8 MiB bodies) */
#define CLI_BODY_MAX  (8u << 20) /* bytes of one body */
#define CLI_RETRIES   20         /* 429/503 answers tolerated per batch */

struct cli_args {
    const char *target, *token, *scenario, *topology, *truth, *duration, *exporters;
    double speed, seed, viewers, batch, start;
    int to_stdout, demo, steer, cdn_logs, edge_logs;
};

#define A(f) offsetof(struct cli_args, f)
static const struct oc_opt cli_opts[] = {
    {"--target", OC_OPT_STR, A(target), "URL",
     "server URL (default $ONCUE_SERVER or http://127.0.0.1:8470)", 0, 0, NULL},
    {"--token", OC_OPT_STR, A(token), "TOKEN", "ingest token (default $ONCUE_TOKEN)", 0, 0, NULL},
    {"--scenario", OC_OPT_STR, A(scenario), "NAME|FILE",
     "shipped scenario name or a scenario YAML file", 0, 0, NULL},
    {"--topology", OC_OPT_STR, A(topology), "FILE", "topology YAML file (default: the shipped one)",
     0, 0, NULL},
    {"--viewers", OC_OPT_DOUBLE, A(viewers), "N",
     "concurrent viewers at the start (default: topology's)", 0, 0, NULL},
    {"--speed", OC_OPT_DOUBLE, A(speed), "X",
     "simulated seconds per wall second; 0 = as fast as possible "
     "(default 1; above 1 run the server with --clock replay)",
     0, 0, NULL},
    {"--seed", OC_OPT_DOUBLE, A(seed), "N", "random seed (default 1): same seed, same events", 0, 0,
     NULL},
    {"--duration", OC_OPT_STR, A(duration), "DURATION",
     "simulated time to run, e.g. 30m (default: scenario's)", 0, 0, NULL},
    {"--start", OC_OPT_DOUBLE, A(start), "TS",
     "first simulated instant, unix seconds (default: now; with "
     "--stdout the scenario's begin on 2026-03-02)",
     0, 0, NULL},
    {"--batch", OC_OPT_DOUBLE, A(batch), "N", "events per POST, at most 10000 (default 5000)", 0, 0,
     NULL},
    {"--truth", OC_OPT_STR, A(truth), "FILE", "write the ground truth JSON to this file", 0, 0,
     NULL},
    {"--cdn-logs", OC_OPT_FLAG, A(cdn_logs), NULL,
     "speak as the CDN: each event as the Fastly log line of its request, with CMCD, posted to "
     "/v1/cdn-logs?format=fastly (or written by --stdout) instead of beacons",
     0, 0, NULL},
    {"--edge-logs", OC_OPT_FLAG, A(edge_logs), NULL,
     "beacons and, besides them, each event's Fastly log line posted to "
     "/v1/cdn-logs?format=fastly&player_events=0: the CDN edge series fill while beacons stay "
     "the only player source (nothing counted twice)",
     0, 0, NULL},
    {"--stdout", OC_OPT_FLAG, A(to_stdout), NULL, "write NDJSON to stdout instead of posting", 0, 0,
     NULL},
    {"--steer", OC_OPT_FLAG, A(steer), NULL,
     "players follow the server's steering manifests and read its feature flags, every TTL", 0, 0,
     NULL},
    {"--exporters", OC_OPT_STR, A(exporters), "HOST:PORT",
     "serve the simulated DRM license server, live packager and origin's Prometheus metrics "
     "(/drm-license/metrics, /live-packager/metrics, /origin/metrics) for oncue to scrape, and "
     "the live stream (/live/media.m3u8, which stops advancing while a fault stalls live "
     "streams) for oncue to probe",
     0, 0, NULL},
    {"--demo", OC_OPT_FLAG, A(demo), NULL,
     "10000 viewers, --steer, a shipped fault every 8 minutes, repeated until stopped "
     "(unless --duration); real time unless --speed",
     0, 0, NULL},
    {0},
};
#undef A

const struct oc_cli sim_cli[] = {
    {"sim", "[OPTIONS]",
     "Simulates viewers and posts their beacons to POST /v1/events (or writes them to stdout\n"
     "with --stdout). `oncue sim --help` lists the shipped scenarios.\n",
     cli_opts, 0},
    {0},
};

/* Reads a whole file into a heap buffer (caller frees): 0, OC_EIO (reason in err) or
 * OC_ETOOBIG past SIM_MAX_FILE. */
static int read_file(const char *path, char **out, size_t *len, char *err, size_t errlen)
{
    int rc = oc_read_file(path, SIM_MAX_FILE, out, len, err, errlen);
    if (rc == 0 && *len > SIM_MAX_FILE) {
        snprintf(err, errlen, "%s: larger than %d bytes", path, SIM_MAX_FILE);
        free(*out);
        *out = NULL;
        rc = OC_ETOOBIG;
    }
    return rc;
}

/* The topology and scenario the arguments name. */
static int load_inputs(const struct cli_args *a, struct sim_topo **t, struct sim_scenario **sc)
{
    char err[640] = "", *text = NULL;
    size_t n = 0;
    int rc = a->topology ? read_file(a->topology, &text, &n, err, sizeof(err)) : 0;
    if (rc == 0)
        rc = text ? sim_topo_parse(text, n, t, err, sizeof(err)) : sim_topo_default(t);
    free(text);
    text = NULL;
    if (rc == 0 && a->scenario && strcmp(a->scenario, "demo") != 0 &&
        sim_scenario_builtin(a->scenario, sc) == OC_ENOTFOUND) {
        rc = read_file(a->scenario, &text, &n, err, sizeof(err));
        if (rc != 0 && access(a->scenario, F_OK) != 0) { /* neither a built-in nor a file */
            char hint[160], names[256] = "";
            for (size_t i = 0, at = 0; sim_scenario_names[i] && at < sizeof names; i++)
                at += (size_t)snprintf(names + at, sizeof names - at, "%s%s", i ? ", " : "",
                                       sim_scenario_names[i]);
            snprintf(err, sizeof(err), "%.128s: not a built-in scenario (%s) nor a file%s",
                     a->scenario, names,
                     oc_suggest_names(a->scenario, sim_scenario_names, sizeof sim_scenario_names[0],
                                      hint, sizeof hint));
        }
        if (rc == 0)
            rc = sim_scenario_parse(text, n, sc, err, sizeof(err));
        free(text);
    }
    if (rc < 0 && err[0])
        fprintf(stderr, "oncue sim: %s: %s\n", oc_strerror(rc), err);
    else if (rc < 0)
        fprintf(stderr, "oncue sim: cannot read %s: %s\n",
                a->topology && !*t ? a->topology : a->scenario, oc_strerror(rc));
    return rc;
}

/* The demo scenario: the first fault of every shipped scenario (blip included), one every
 * DEMO_EVERY_MS from minute 2, each lasting at most DEMO_FAULT_MS (long enough for a rule's
 * 3-minute window after a ramp, short enough that the next fault starts on a healthy
 * platform). Strings borrow from srcs. */
#define DEMO_FIRST_MS 120000 /* the first fault starts 2 minutes in */
#define DEMO_EVERY_MS 480000 /* one fault every 8 minutes */
#define DEMO_FAULT_MS 360000 /* each lasting at most 6 minutes */

static struct sim_scenario *demo_scenario(struct sim_scenario **srcs)
{
    struct sim_scenario *d = oc_calloc(1, sizeof(*d));
    oc_arena_init(&d->arena, 1024);
    d->name = "demo";
    d->duration_ms = DEMO_FIRST_MS + 6 * DEMO_EVERY_MS;
    for (int i = 0; sim_scenario_names[i] && d->n_faults < SIM_MAX_FAULTS; i++) {
        if (sim_scenario_builtin(sim_scenario_names[i], &srcs[i]) < 0 || !srcs[i]->n_faults)
            continue;
        struct sim_fault *f = &d->faults[d->n_faults++];
        *f = srcs[i]->faults[0];
        int64_t len = f->truth.end_ms - f->truth.start_ms;
        f->truth.start_ms = DEMO_FIRST_MS + (int64_t)i * DEMO_EVERY_MS;
        f->truth.end_ms = f->truth.start_ms + (len < DEMO_FAULT_MS ? len : DEMO_FAULT_MS);
    }
    return d;
}

struct poster {
    CURL *curl;
    struct curl_slist *hdrs;
    char url[512];
    struct oc_buf body;
    size_t n;     /* events in body */
    size_t batch; /* flush past this many */
    FILE *out;    /* --stdout: write here instead */
    uint64_t posted, failed;
    int err;                   /* first fatal error */
    int cdn_logs;              /* --cdn-logs: Fastly log lines with CMCD, not beacons */
    struct sim_remote *remote; /* --steer: the players' steering and flags; or NULL */
    struct poster *edge;       /* --edge-logs: the same events as edge-only log lines; or NULL */
    struct sim_exporter *exporters; /* --exporters: the services' metrics; or NULL */
};

static size_t discard(char *p, size_t sz, size_t n, void *arg)
{
    (void)p;
    (void)arg;
    return sz * n;
}

/* Posts the body, retrying on 429/503 after Retry-After. 0 or OC_EIO. */
static int post(struct poster *p)
{
    long status = 0;
    for (int attempt = 0; attempt < CLI_RETRIES; attempt++) {
        curl_off_t retry = 0;
        curl_easy_setopt(p->curl, CURLOPT_POSTFIELDS, p->body.data);
        curl_easy_setopt(p->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)p->body.len);
        CURLcode cc = curl_easy_perform(p->curl);
        if (cc != CURLE_OK) {
            fprintf(stderr, "oncue sim: POST %s: %s\n", p->url, curl_easy_strerror(cc));
            return OC_EIO;
        }
        curl_easy_getinfo(p->curl, CURLINFO_RESPONSE_CODE, &status);
        if (status >= 200 && status < 300)
            return 0;
        if (status != 429 && status != 503)
            break;
        curl_easy_getinfo(p->curl, CURLINFO_RETRY_AFTER, &retry);
        struct timespec ts = {retry > 0 && retry < 60 ? (time_t)retry : 1, 0};
        nanosleep(&ts, NULL);
    }
    fprintf(stderr, "oncue sim: POST %s answered %ld\n", p->url, status);
    return OC_EIO;
}

/* Sends what is buffered (and what the edge-log poster holds). */
static void flush(struct poster *p)
{
    if (p->edge) {
        flush(p->edge);
        if (p->edge->err && !p->err)
            p->err = p->edge->err;
    }
    if (!p->n || p->err)
        goto out;
    if (p->out) {
        if (fwrite(p->body.data, 1, p->body.len, p->out) != p->body.len)
            p->err = OC_EIO;
    } else if ((p->err = post(p)) == 0) {
        p->posted += p->n;
    }
out:
    oc_buf_reset(&p->body);
    p->n = 0;
}

static void poster_sink(void *arg, const struct beacon_event *ev)
{
    struct poster *p = arg;
    int (*append)(struct oc_buf *, const struct beacon_event *) =
        p->cdn_logs ? sim_cdnlog_append : sim_ndjson_append;
    if (append(&p->body, ev) < 0) {
        flush(p);
        append(&p->body, ev);
    }
    if (++p->n >= p->batch)
        flush(p);
    if (p->edge)
        poster_sink(p->edge, ev);
}

/* edge: 1 for the --edge-logs poster (edge-only log lines beside the beacons). */
static int poster_init(struct poster *p, const struct cli_args *a, int edge)
{
    const char *target = a->target ? a->target : getenv("ONCUE_SERVER");
    const char *token = a->token ? a->token : getenv("ONCUE_TOKEN");
    char auth[600];
    oc_buf_init(&p->body, CLI_BODY_MAX);
    p->batch = a->batch > 0 && a->batch <= CLI_MAX_BATCH ? (size_t)a->batch : 5000;
    p->cdn_logs = a->cdn_logs || edge;
    if (a->to_stdout) {
        p->out = stdout;
        return 0;
    }
    snprintf(p->url, sizeof(p->url), "%s%s", target ? target : "http://127.0.0.1:8470",
             edge          ? "/v1/cdn-logs?format=fastly&player_events=0"
             : a->cdn_logs ? "/v1/cdn-logs?format=fastly"
                           : "/v1/events");
    if (!edge && a->edge_logs) {
        p->edge = oc_calloc(1, sizeof *p->edge);
        int rc = poster_init(p->edge, a, 1);
        if (rc)
            return rc;
    }
    if (!edge && a->steer &&
        sim_remote_new(target ? target : "http://127.0.0.1:8470", &p->remote) != 0)
        return OC_EIO;
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token ? token : "");
    if (!(p->curl = curl_easy_init()))
        return OC_EIO;
    p->hdrs = curl_slist_append(p->hdrs, "Content-Type: application/x-ndjson");
    p->hdrs = curl_slist_append(p->hdrs, auth);
    curl_easy_setopt(p->curl, CURLOPT_URL, p->url);
    curl_easy_setopt(p->curl, CURLOPT_HTTPHEADER, p->hdrs);
    curl_easy_setopt(p->curl, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(p->curl, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(p->curl, CURLOPT_TIMEOUT, 30L);
    return 0;
}

static void poster_free(struct poster *p)
{
    if (p->edge) {
        poster_free(p->edge);
        free(p->edge);
    }
    sim_remote_free(p->remote);
    if (p->curl)
        curl_easy_cleanup(p->curl);
    curl_slist_free_all(p->hdrs);
    oc_buf_free(&p->body);
}

/* Writes the ground truth JSON to path. */
static int write_truth(const struct sim *s, const char *path)
{
    struct oc_buf b;
    FILE *f = fopen(path, "w");
    int rc = OC_EIO;
    oc_buf_init(&b, 1 << 20);
    if (f && sim_truth_json(s, &b) == 0 && fwrite(b.data, 1, b.len, f) == b.len)
        rc = 0;
    if (f && fclose(f) != 0)
        rc = OC_EIO;
    oc_buf_free(&b);
    if (rc)
        fprintf(stderr, "oncue sim: cannot write %s\n", path);
    return rc;
}

/* Writes f's slice as "dim=a|b, dim=c" (or "everyone") into out. */
static void slice_text(const struct sim_truth *f, char *out, size_t n)
{
    size_t len = 0;
    out[0] = '\0';
    for (int d = 0; d < f->n_dims && len < n; d++) {
        len += (size_t)snprintf(out + len, n - len, "%s%s=", d ? ", " : "",
                                beacon_dim_names[f->dims[d].dim]);
        for (int v = 0; v < f->dims[d].n && len < n; v++)
            len += (size_t)snprintf(out + len, n - len, "%s%s", v ? "|" : "", f->dims[d].vals[v]);
    }
    if (!f->n_dims)
        snprintf(out, n, "everyone");
}

/* Logs on stderr, so whoever watches knows what runs: with when < 0 the plan (every fault,
 * its slice, start and end); else each fault that started or ended in (when - 1 s, when]. */
static void log_faults(struct sim *s, int64_t t0, int64_t when)
{
    int n = 0;
    const struct sim_truth *tr = sim_truth(s, &n);
    char slice[512], at[32];
    for (int i = 0; i < n; i++) {
        const struct sim_truth *f = &tr[i];
        int starts = when >= 0 && f->start_ms > when - 1000 && f->start_ms <= when;
        int ends = when >= 0 && f->end_ms > when - 1000 && f->end_ms <= when;
        if (when >= 0 && !starts && !ends)
            continue;
        slice_text(f, slice, sizeof(slice));
        oc_time_format(ends ? f->end_ms : f->start_ms, at, sizeof(at));
        if (when < 0)
            fprintf(stderr, "oncue sim: plan: fault %s on %s at t+%llds (%s) for %llds%s\n",
                    f->name, slice, (long long)((f->start_ms - t0) / 1000), at,
                    (long long)((f->end_ms - f->start_ms) / 1000),
                    f->expect_incident ? "" : " (noise: no incident expected)");
        else
            fprintf(stderr, "oncue sim: fault %s %s at %s on %s\n", f->name,
                    ends ? "ended" : "started", at, slice);
    }
}

/* Steps the simulation second by second, pacing it against the wall clock when speed > 0. */
static int drive(struct sim *s, struct poster *p, int64_t run_ms, double speed)
{
    int64_t t0 = sim_now_ms(s), w0 = oc_mono_ns();
    if (!p->out)
        log_faults(s, t0, -1);
    if (p->exporters)
        sim_exporter_update(p->exporters, s);
    while (sim_now_ms(s) < t0 + run_ms && !p->err) {
        sim_run(s, sim_now_ms(s) + 1000);
        if (p->exporters)
            sim_exporter_update(p->exporters, s);
        if (!p->out)
            log_faults(s, t0, sim_now_ms(s));
        if (speed <= 0)
            continue;
        flush(p); /* real time: post every simulated second */
        int64_t due_ns = w0 + (int64_t)((double)(sim_now_ms(s) - t0) * 1e6 / speed);
        int64_t wait = due_ns - oc_mono_ns();
        if (wait > 0) {
            struct timespec ts = {(time_t)(wait / 1000000000), (long)(wait % 1000000000)};
            nanosleep(&ts, NULL);
        }
        if ((sim_now_ms(s) - t0) % 60000 == 0 && !p->out)
            fprintf(stderr, "oncue sim: t+%llds %d sessions, %llu events posted\n",
                    (long long)((sim_now_ms(s) - t0) / 1000), sim_sessions(s),
                    (unsigned long long)p->posted);
    }
    flush(p);
    return p->err;
}

/* One simulation from start_ms for run_ms: creates the sim, writes the truth, drives it. */
static int run_once(const struct cli_args *a, const struct sim_topo *t,
                    const struct sim_scenario *sc, struct poster *p, int64_t start_ms,
                    uint64_t seed, int64_t run_ms)
{
    struct sim *s = NULL;
    struct sim_opts o = {.seed = seed, .viewers = (int)a->viewers, .start_ms = start_ms};
    o.sink = poster_sink;
    o.sink_arg = p;
    if (p->remote) {
        o.steer = sim_remote_steer;
        o.flag = sim_remote_flag;
        o.steer_arg = o.flag_arg = p->remote;
    }
    int rc = sim_new(&o, t, sc, &s);
    if (rc < 0)
        fprintf(stderr, "oncue sim: %s (at most 4000000 viewers)\n", oc_strerror(rc));
    if (rc == 0 && a->truth)
        rc = write_truth(s, a->truth);
    if (rc == 0)
        rc = drive(s, p, run_ms, a->speed);
    sim_destroy(s);
    return rc;
}

/* Everything after parsing: inputs, the runs (--demo without --duration repeats its cycle
 * until killed), the truth file. */
static int run(struct cli_args *a)
{
    struct sim_topo *t = NULL;
    struct sim_scenario *sc = NULL, *srcs[16] = {0};
    struct poster p = {0};
    int64_t run_ms = 0;
    int rc = load_inputs(a, &t, &sc);
    if (rc == 0 && (a->demo || (a->scenario && strcmp(a->scenario, "demo") == 0)))
        sc = demo_scenario(srcs);
    if (rc == 0 && a->duration && sim_parse_duration(a->duration, &run_ms) < 0) {
        fprintf(stderr, "oncue sim: --duration '%s' is not a duration\n", a->duration);
        rc = OC_EINVAL;
    }
    if (rc == 0)
        rc = poster_init(&p, a, 0);
    if (rc == 0 && a->exporters) {
        char err[300];
        if (sim_exporter_start(a->exporters, &p.exporters, err, sizeof err) != 0) {
            fprintf(stderr, "oncue sim: %s\n", err);
            rc = OC_EINVAL;
        } else {
            fprintf(stderr,
                    "oncue sim: exporters on http://%s/{drm-license,live-packager,origin}/metrics, "
                    "the live stream on http://%s/live/media.m3u8\n",
                    a->exporters, a->exporters);
        }
    }
    int forever = a->demo && !run_ms;
    for (uint64_t cycle = 0; rc == 0 && (cycle == 0 || forever); cycle++) {
        int64_t start = a->start > 0 ? (int64_t)a->start * 1000
                                     : (a->to_stdout ? 0 : oc_wall_ms() / 1000 * 1000);
        rc = run_once(a, t, sc, &p, start, (uint64_t)a->seed + cycle,
                      run_ms ? run_ms : (sc ? sc->duration_ms : 3600000));
    }
    if (rc == 0 && !p.out)
        fprintf(stderr, "oncue sim: done, %llu events posted\n", (unsigned long long)p.posted);
    if (p.remote) {
        uint64_t fetched, failed;
        sim_remote_counts(p.remote, &fetched, &failed);
        fprintf(stderr, "oncue sim: %llu steering manifests followed, %llu fetches failed\n",
                (unsigned long long)fetched, (unsigned long long)failed);
    }
    sim_exporter_stop(p.exporters);
    poster_free(&p);
    sim_scenario_destroy(sc);
    for (int i = 0; i < 16; i++)
        sim_scenario_destroy(srcs[i]);
    sim_topo_destroy(t);
    return rc;
}

int sim_cli_main(int argc, char **argv)
{
    struct cli_args a = {.speed = -1, .seed = 1};
    int nargs = 0, p = oc_cli_parse(sim_cli, argc - 1, argv + 1, &a, NULL, &nargs);
    if (p > 0) { /* the options are printed; the scenarios follow */
        printf("\nscenarios:");
        for (int i = 0; sim_scenario_names[i]; i++)
            printf(" %s", sim_scenario_names[i]);
        printf(" demo (--demo's schedule)");
        for (int i = 0; sim_scenario_extra[i]; i++)
            printf(" %s", sim_scenario_extra[i]);
        printf("\n");
        return 0;
    }
    if (p < 0)
        return 2;
    if (a.demo) { /* real time unless --speed says otherwise (tests replay it at 60x) */
        a.steer = !a.to_stdout;
        a.speed = a.speed < 0 ? 1 : a.speed;
        a.viewers = a.viewers > 0 ? a.viewers : 10000;
        a.scenario = NULL;
    }
    if (a.speed < 0)
        a.speed = a.to_stdout ? 0 : 1;
    if (a.steer && a.to_stdout) {
        fprintf(stderr, "oncue sim: --steer needs a server, not --stdout\n");
        return 2;
    }
    if (a.edge_logs && (a.to_stdout || a.cdn_logs)) {
        fprintf(stderr, "oncue sim: --edge-logs posts beside beacons: not with %s\n",
                a.to_stdout ? "--stdout" : "--cdn-logs (log lines only)");
        return 2;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int rc = run(&a);
    curl_global_cleanup();
    return rc == 0 ? 0 : 1;
}
