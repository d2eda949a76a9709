/*
 * builtin.c - the routes every server has: liveness, readiness, Prometheus metrics, and the
 * list of running modules.
 */
#include "oncue/builtin.h"
#include "gate/gate.h"
#include "steer/steer.h"
#include "drill/drill.h"
#include "oncue/commands.h"
#include "core/alloc.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/metrics.h"
#include "core/topics.h"
#include "http/http.h"
#include "store/store.h"

#include <dirent.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

/* The module's state: when it started, for the process start gauge. */
struct builtin_mod {
    int64_t started_wall_ms;
};

static void healthz(struct http_req *req)
{
    http_reply(req, 200, "text/plain; charset=utf-8", "ok\n", 3);
}

static void readyz(struct http_req *req)
{
    if (!req->app->store || store_ping(req->app->store) != 0) {
        http_problem(req, 503, "the store is not open");
        return;
    }
    http_reply(req, 200, "text/plain; charset=utf-8", "ready\n", 6);
}

static void metrics(struct http_req *req)
{
    struct oc_buf b;
    oc_buf_init(&b, 64 << 20);
    oc_metrics_render(req->app->metrics, &b);
    http_reply(req, 200, "text/plain; version=0.0.4; charset=utf-8", b.data ? b.data : "", b.len);
    oc_buf_free(&b);
}

static void modules(struct http_req *req)
{
    json_t *list = json_array();
    for (int i = 0; i < req->app->nrunning; i++)
        json_array_append_new(list, json_string(req->app->running[i].mod->name));
    http_reply_json(req, 200, json_pack("{s:s, s:o}", "version", ONCUE_VERSION, "modules", list));
}

/* What /proc says of this process: CPU seconds, memory, descriptors; 0, or -1 off Linux. */
struct proc_stats {
    double cpu_s, vsize, rss;
    double open_fds, max_fds;
};

static int proc_read(struct proc_stats *ps)
{
    char buf[1024];
    FILE *f = fopen("/proc/self/stat", "r");
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f)
        fclose(f);
    buf[n] = 0;
    /* the fields after the command's closing parenthesis: state is field 3 */
    const char *p = strrchr(buf, ')');
    unsigned long utime, stime, vsize;
    long rss;
    if (!p || sscanf(p + 2,
                     "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu %*d %*d %*d %*d %*d %*d "
                     "%*u %lu %ld",
                     &utime, &stime, &vsize, &rss) != 4)
        return -1;
    double tick = (double)sysconf(_SC_CLK_TCK), page = (double)sysconf(_SC_PAGESIZE);
    ps->cpu_s = (double)(utime + stime) / (tick > 0 ? tick : 100);
    ps->vsize = (double)vsize;
    ps->rss = (double)rss * page;
    ps->open_fds = 0;
    DIR *d = opendir("/proc/self/fd");
    for (struct dirent *e; d && (e = readdir(d)) != NULL;)
        ps->open_fds += e->d_name[0] != '.';
    if (d) {
        closedir(d);
        ps->open_fds--; /* the one opendir held */
    }
    struct rlimit rl;
    ps->max_fds = getrlimit(RLIMIT_NOFILE, &rl) == 0 ? (double)rl.rlim_cur : 0;
    return 0;
}

static void render_process(struct oc_buf *b, void *arg)
{
    const struct builtin_mod *m = arg;
    struct proc_stats ps;
    oc_metrics_family(b, "oncue_build_info", "gauge", "Always 1; the version as a label.");
    const char *labels[] = {"version", ONCUE_VERSION, NULL};
    oc_metrics_sample(b, "oncue_build_info", labels, 1);
    /* the standard process collector's names, as every Prometheus client library exports */
    oc_metrics_family(b, "process_start_time_seconds", "gauge",
                      "Start time of the process since unix epoch in seconds.");
    oc_metrics_sample(b, "process_start_time_seconds", NULL, (double)m->started_wall_ms / 1000.0);
    if (proc_read(&ps) != 0)
        return;
    static const struct {
        const char *name, *type, *help;
        size_t off;
    } rows[] = {
        {"process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds.",
         offsetof(struct proc_stats, cpu_s)},
        {"process_resident_memory_bytes", "gauge", "Resident memory size in bytes.",
         offsetof(struct proc_stats, rss)},
        {"process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.",
         offsetof(struct proc_stats, vsize)},
        {"process_open_fds", "gauge", "Number of open file descriptors.",
         offsetof(struct proc_stats, open_fds)},
        {"process_max_fds", "gauge", "Maximum number of open file descriptors.",
         offsetof(struct proc_stats, max_fds)},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        double v;
        memcpy(&v, (const char *)&ps + rows[i].off, sizeof v);
        oc_metrics_family(b, rows[i].name, rows[i].type, rows[i].help);
        oc_metrics_sample(b, rows[i].name, NULL, v);
    }
}

/* The gate's host binding: mitigations through the steer module the app runs. */
static int host_mitigate(struct oc_app *app, const json_t *req, const char *actor, json_t **rec,
                         char *err, size_t errlen)
{
    struct steer *st = steer_of(app);
    if (!st) {
        snprintf(err, errlen, "the steer module is not running");
        return OC_ENOTFOUND;
    }
    return steer_mitigate(st, req, actor, 0, rec, err, errlen);
}

static json_t *host_mitigations(struct oc_app *app)
{
    struct steer *st = steer_of(app);
    return st ? steer_mitigations(st) : NULL;
}

static struct gate_host gate_host = {host_mitigate, host_mitigations};

/* The base steering policy, for the prober's streams that follow its pathways and the CDN
 * list of ingest.cdns=steering. */
static json_t *host_policy(struct oc_app *app)
{
    struct steer *st = oc_app_find(app, STEER_PROVIDES);
    return st ? steer_policy_get(st) : NULL;
}

/* The regions of the steering region map, for ingest.regions=steering. */
static char *host_regions(struct oc_app *app)
{
    struct steer *st = oc_app_find(app, STEER_PROVIDES);
    return st ? steer_regions(st) : NULL;
}

static struct oc_policy_host policy_host = {host_policy, host_regions};

static int builtin_init(struct oc_app *app, void **state)
{
    struct builtin_mod *m = oc_calloc(1, sizeof(*m));
    m->started_wall_ms = oc_wall_ms();
    if (app->metrics)
        oc_metrics_register(app->metrics, render_process, m);
    oc_app_provide(app, GATE_PROVIDES_HOST, &gate_host);
    oc_app_provide(app, OC_PROVIDES_POLICY_HOST, &policy_host);
    /* the runbook module reaches steering through the drill's bindings (drill_host.c) */
    oc_app_provide(app, DRILL_PROVIDES_HOST, (void *)&oncue_drill_host);
    *state = m;
    return 0;
}

static void builtin_stop(struct oc_app *app, void *state)
{
    oc_app_withdraw(app, GATE_PROVIDES_HOST);
    oc_app_withdraw(app, OC_PROVIDES_POLICY_HOST);
    oc_app_withdraw(app, DRILL_PROVIDES_HOST);
    free(state);
}

static const struct http_route routes[] = {
    {"GET", "/healthz", healthz, HTTP_PUBLIC, 0, "200 while the process runs"},
    {"GET", "/readyz", readyz, HTTP_PUBLIC, 0, "200 when the store is open, else 503"},
    {"GET", "/metrics", metrics, HTTP_PUBLIC, 0, "Prometheus text exposition"},
    {"GET", "/v1/modules", modules, HTTP_VIEWER, 0, "version and the modules running"},
    {0},
};

const struct oc_module builtin_module = {
    .name = "builtin",
    .summary = "health, readiness, metrics",
    .init = builtin_init,
    .routes = routes,
    .stop = builtin_stop,
};
