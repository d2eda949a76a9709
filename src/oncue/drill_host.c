/*
 * drill_host.c - the drill's bindings above the capabilities: the module table `serve` runs,
 * and steering reached as a player (steering request, flags) or an operator (a mitigation,
 * the policy) would reach it over HTTP, here through the steer module the drill started.
 */
#include "oncue/commands.h"
#include "core/module.h"
#include "billing/billing.h"
#include "drill/drill.h"
#include "ingest/cmcd.h"
#include "steer/steer.h"

#include <stdio.h>
#include <string.h>

/* The sim_steer_fn: asks the steering engine, as a player's steering request would. */
static int drill_steer(void *app, const struct sim_steer_req *req, char pw[][SIM_NAME_MAX], int *n,
                       int *ttl)
{
    struct steer *st = steer_of(app);
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
    if (!st || steer_decide(st, &q, &dec) < 0)
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
static int drill_flag(void *app, const struct sim_flag_req *req)
{
    struct steer *st = steer_of(app);
    return st ? steer_flag_value(st, req->flag, req->player, req->player_version, req->device,
                                 req->region)
              : 0;
}

static int drill_mitigate(struct oc_app *app, const json_t *req, const char *actor, json_t **rec,
                          char *err, size_t errlen)
{
    struct steer *st = steer_of(app);
    if (!st) {
        snprintf(err, errlen, "the steer module is not running");
        return -1;
    }
    return steer_mitigate(st, req, actor, 0, rec, err, errlen);
}

static json_t *drill_policy(struct oc_app *app)
{
    struct steer *st = steer_of(app);
    return st ? steer_policy_get(st) : NULL;
}

static size_t drill_cdn_logs(struct qoe_cube *c, const char *body, size_t len)
{
    struct cmcd_batch b;
    size_t refused = 0;
    cmcd_batch_init(&b, CMCD_MAX_LINES);
    if (cdnlog_parse(&b, CDNLOG_FASTLY, NULL, body, len, NULL) == 0) {
        cmcd_fold(c, &b, NULL);
        refused = b.rejected;
    }
    cmcd_batch_free(&b);
    return refused;
}

const struct drill_host oncue_drill_host = {
    .modules = oc_modules,
    .steer = drill_steer,
    .flag = drill_flag,
    .mitigate = drill_mitigate,
    .policy = drill_policy,
    .request = steer_mitigate_request,
    .check = steer_mitigation_check,
    .cdn_logs = drill_cdn_logs,
    .webhook_storm = billing_drill_main,
};

int oc_drill_main(int argc, char **argv)
{
    return drill_cli_main(argc, argv, &oncue_drill_host);
}

int oc_runbook_main(int argc, char **argv)
{
    return drill_runbook_cli_main(argc, argv, &oncue_drill_host);
}
