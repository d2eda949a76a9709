/*
 * test_drill_runbook.c - runbooks as code: the embedded copies equal examples/runbooks/NAME.yaml
 * byte for byte, every shipped runbook has the seven triage steps in order, placeholders fill
 * from a cause, the mitigate template is chosen by what the cause names, and the command the
 * responder runs turns into the steer_mitigate request `oncue mitigate` would send.
 */
#include "t.h"

#include "core/buf.h"
#include "core/err.h"
#include "drill/drill.h"
#include "oncue/commands.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The seven triage steps, with the decision that gates the mitigation. */
static const char *const seven[] = {"confirm",
                                    "scope",
                                    "classify and announce",
                                    "check dashboards",
                                    "approve mitigation",
                                    "mitigate",
                                    "find the cause",
                                    "resolve",
                                    NULL};

static void test_embedded_equal_files(void)
{
    const char *src = getenv("ONCUE_SRC");
    char path[1024], here[1024];
    int n = 0;
    if (!src) { /* run by hand: the source tree this file was compiled from */
        snprintf(here, sizeof(here), "%s", __FILE__);
        char *cut = strstr(here, "/tests/pipeline/");
        if (cut)
            *cut = '\0';
        src = cut ? here : NULL;
    }
    T_TRUE(src != NULL);
    for (const char *const *name = drill_runbook_names; src && *name; name++, n++) {
        size_t len = 0, got;
        const char *text = drill_runbook_embedded(*name, &len);
        int k = snprintf(path, sizeof(path), "%s/examples/runbooks/%s.yaml", src, *name);
        T_TRUE(k > 0 && (size_t)k < sizeof(path));
        FILE *f = fopen(path, "rb");
        T_TRUE(f != NULL && text != NULL);
        if (!f || !text)
            continue;
        char *file = malloc(len + 2);
        got = fread(file, 1, len + 1, f);
        fclose(f);
        T_EQ_INT((long long)got, (long long)len);
        T_TRUE(memcmp(file, text, len) == 0);
        free(file);
    }
    T_EQ_INT(n, 5); /* exits-before-start, live-manifest, playback-failures, rebuffering,
                       start-failures */
    size_t len = 1;
    T_TRUE(drill_runbook_embedded("nope", &len) == NULL);
    T_EQ_INT((long long)len, 0);
}

static void test_seven_steps(void)
{
    char err[200] = "";
    for (const char *const *name = drill_runbook_names; *name; name++) {
        struct drill_runbook rb;
        size_t len;
        const char *text = drill_runbook_embedded(*name, &len);
        T_EQ_INT(drill_runbook_parse(text, len, &rb, err, sizeof(err)), 0);
        T_EQ_STR(rb.kind, *name);
        T_EQ_INT(rb.nsteps, 8);
        for (int i = 0; i < rb.nsteps && seven[i]; i++)
            T_EQ_STR(rb.steps[i].name, seven[i]);
        /* typed: the confirm check, the decision, the action it gates; the rest notes */
        T_EQ_STR(drill_step_type_name(rb.steps[0].type), "check");
        /* the viewers' runbooks confirm on the metric (start failures on vsf_rate, which the
         * license server's scraped errors lead to); live-manifest on the incident, held open
         * by the finding's alert */
        if (strcmp(*name, "live-manifest") == 0) {
            T_EQ_STR(rb.steps[0].query, "incident.state");
            T_EQ_STR(rb.steps[0].op, "!=");
            T_EQ_STR(rb.steps[0].expect, "resolved");
        } else {
            T_EQ_STR(rb.steps[0].query,
                     strcmp(*name, "start-failures") == 0 ? "qoe.vsf_rate" : "qoe.{metric}");
            T_EQ_STR(rb.steps[0].op, ">");
            T_EQ_STR(rb.steps[0].expect, "0");
            T_EQ_INT(rb.steps[0].window_s, 300);
        }
        T_EQ_STR(drill_step_type_name(rb.steps[4].type), "decision");
        T_EQ_STR(drill_step_type_name(rb.steps[5].type), "action");
        T_EQ_INT(rb.steps[5].ncmds, rb.ncmds);
        T_EQ_STR(drill_step_type_name(rb.steps[1].type), "note");
        T_EQ_STR(rb.version, "2");
        T_EQ_INT((long long)strlen(rb.hash), 19);
        T_TRUE(rb.ncmds >= 1);
        for (int i = 0; i < rb.ncmds; i++)
            T_EQ_INT(strncmp(rb.cmds[i].run, "oncue mitigate ", 15), 0);
        drill_runbook_free(&rb);
    }
}

static void test_for_metric(void)
{
    struct drill_runbook rb;
    T_EQ_INT(drill_runbook_for_metric("rebuffering_share", &rb), 0);
    T_EQ_STR(rb.kind, "rebuffering");
    T_EQ_STR(rb.metrics, "concurrent_rebuffering_share,rebuffering_share,rebuffer_ratio");
    drill_runbook_free(&rb);
    T_EQ_INT(drill_runbook_for_metric("vsf_rate", &rb), 0);
    T_EQ_STR(rb.kind, "start-failures");
    drill_runbook_free(&rb);
    T_EQ_INT(drill_runbook_for_metric("plays", &rb), OC_ENOTFOUND);
}

static void test_fill_and_choose(void)
{
    struct drill_runbook rb;
    struct oc_buf b;
    char missing[64] = "";
    json_t *vars =
        json_pack("{s:s, s:s, s:s}", "region", "EMEA", "cdn", "primary", "alternate", "secondary");
    oc_buf_init(&b, 4096);
    T_EQ_INT(drill_fill("to {alternate} in {region}", vars, &b, missing, sizeof(missing)), 0);
    T_EQ_STR(b.data, "to secondary in EMEA");
    oc_buf_reset(&b);
    T_EQ_INT(drill_fill("x {nope} y", vars, &b, missing, sizeof(missing)), OC_ENOTFOUND);
    T_EQ_STR(missing, "nope");
    oc_buf_reset(&b);
    T_EQ_INT(drill_runbook_for_metric("rebuffering_share", &rb), 0);
    T_EQ_INT(drill_runbook_command(&rb, vars, &b), 0);
    T_EQ_STR(b.data, "oncue mitigate shift-cdn --region EMEA --from primary --to secondary");
    oc_buf_reset(&b);
    json_object_del(vars, "cdn"); /* a cause that names no CDN: no template fits */
    T_EQ_INT(drill_runbook_command(&rb, vars, &b), OC_ENOTFOUND);
    T_EQ_INT((long long)b.len, 0);
    drill_runbook_free(&rb);
    oc_buf_free(&b);
    json_decref(vars);
}

/* The placeholders of an incident as GET /v1/incidents/{id} shows it, with its causes. */
static void test_vars_from_incident(void)
{
    json_t *inc = json_pack("{s:s, s:s, s:s, s:{s:s, s:s}}", "incident_id", "INC-4", "title",
                            "rebuffering_share in region=EMEA", "severity", "SEV2", "slice",
                            "region", "EMEA", "cdn", "primary");
    json_t *causes = json_pack("[{s:{s:s, s:s}}, {s:{s:s}}]", "element", "cdn", "primary", "pop",
                               "FRA", "element", "pop", "PAR");
    json_t *paths = json_pack("[s, s]", "primary", "secondary");
    json_t *vars = drill_runbook_vars(inc, causes, paths);
    struct drill_runbook rb;
    struct oc_buf b;
    T_EQ_STR(json_string_value(json_object_get(vars, "incident")), "INC-4");
    T_EQ_STR(json_string_value(json_object_get(vars, "metric")), "rebuffering_share");
    T_EQ_STR(json_string_value(json_object_get(vars, "slice")), "region=EMEA,cdn=primary");
    T_EQ_STR(json_string_value(json_object_get(vars, "pop")), "FRA,PAR");
    T_EQ_STR(json_string_value(json_object_get(vars, "cause")), "cdn=primary&pop=FRA; pop=PAR");
    T_EQ_STR(json_string_value(json_object_get(vars, "alternate")), "secondary");
    oc_buf_init(&b, 1 << 16);
    T_EQ_INT(drill_runbook_for_metric("rebuffering_share", &rb), 0);
    drill_runbook_render(&rb, vars, &b);
    T_CONTAINS(b.data, "runbook rebuffering: 1. confirm: Open INC-4: is rebuffering_share above");
    T_CONTAINS(b.data, "7. find the cause: Cause named by oncue: cdn=primary&pop=FRA; pop=PAR.");
    T_CONTAINS(b.data, " 8. resolve: ");
    drill_runbook_free(&rb);
    oc_buf_free(&b);
    json_decref(vars);
    vars = drill_runbook_vars(inc, NULL, NULL); /* not localized, no policy */
    T_EQ_STR(json_string_value(json_object_get(vars, "cause")), "not localized");
    T_TRUE(json_object_get(vars, "alternate") == NULL);
    json_decref(vars);
    json_decref(inc);
    json_decref(causes);
    json_decref(paths);
}

/* An incident opened by a service's own signal (a scrape rule, as in the drm-outage drill)
 * has no slice: the runbook names the service instead of an empty slice. */
static void test_vars_without_slice(void)
{
    json_t *inc = json_pack("{s:s, s:s, s:s, s:{}, s:s}", "incident_id", "INC-1", "title",
                            "drm_license_requests_total on drm-license", "severity", "SEV2",
                            "slice", "service", "drm-license");
    json_t *vars = drill_runbook_vars(inc, NULL, NULL);
    struct drill_runbook rb;
    struct oc_buf b;
    T_EQ_STR(json_string_value(json_object_get(vars, "slice")), "service drm-license");
    oc_buf_init(&b, 1 << 16);
    T_EQ_INT(drill_runbook_for_metric("drm_license_requests_total", &rb), 0);
    drill_runbook_render(&rb, vars, &b);
    T_CONTAINS(b.data, "1. confirm: Open INC-1: is drm_license_requests_total above its band in "
                       "service drm-license; which error codes dominate?");
    T_CONTAINS(b.data, "2. scope: Group by drm, player_version, device and cdn in service "
                       "drm-license; one DRM");
    T_CONTAINS(b.data, "manifest validity dashboards for service drm-license. The owning");
    drill_runbook_free(&rb);
    oc_buf_free(&b);
    json_decref(vars);
    json_object_del(inc, "service"); /* nor a service: all traffic */
    vars = drill_runbook_vars(inc, NULL, NULL);
    T_EQ_STR(json_string_value(json_object_get(vars, "slice")), "all traffic");
    json_decref(vars);
    json_decref(inc);
}

static void test_parse_errors(void)
{
    struct drill_runbook rb;
    char err[200] = "";
    const char *no_kind = "steps: []\n";
    const char *bad_step = "kind: x\nsteps:\n  - name: confirm\n";
    const char *bad_yaml = "kind: [x\n";
    T_EQ_INT(drill_runbook_parse(no_kind, strlen(no_kind), &rb, err, sizeof(err)), OC_EINVAL);
    T_EQ_STR(err, "kind: a string is required");
    T_EQ_INT(drill_runbook_parse(bad_step, strlen(bad_step), &rb, err, sizeof(err)), OC_EINVAL);
    T_EQ_STR(err, "line 3: steps[0]: name and do strings (at most 24 steps)");
    T_EQ_INT(drill_runbook_parse(bad_yaml, strlen(bad_yaml), &rb, err, sizeof(err)), OC_EINVAL);
    T_CONTAINS(err, "line ");
}

static void test_command_request(void)
{
    char err[200] = "";
    json_t *r = drill_command_request(
        &oncue_drill_host,
        "oncue mitigate shift-cdn --region EMEA --from primary --to secondary --percent 50", err,
        sizeof(err));
    T_TRUE(r != NULL);
    char *text = json_dumps(r, JSON_COMPACT | JSON_SORT_KEYS);
    T_EQ_STR(text, "{\"from\":\"primary\",\"kind\":\"shift-cdn\",\"percent\":50.0,\"region\":"
                   "\"EMEA\",\"to\":\"secondary\"}");
    free(text);
    json_decref(r);
    r = drill_command_request(&oncue_drill_host,
                              "oncue mitigate flag --name abr-v2 --off --player-version 7.2.0", err,
                              sizeof(err));
    text = json_dumps(r, JSON_COMPACT | JSON_SORT_KEYS);
    T_EQ_STR(text, "{\"kind\":\"flag\",\"name\":\"abr-v2\",\"on\":false,\"player_version\":"
                   "\"7.2.0\"}");
    free(text);
    json_decref(r);
    T_TRUE(drill_command_request(&oncue_drill_host, "rm -rf /", err, sizeof(err)) == NULL);
    T_CONTAINS(err, "not an `oncue mitigate KIND ...` command");
    T_TRUE(drill_command_request(&oncue_drill_host, "oncue mitigate flag --bogus 1", err,
                                 sizeof(err)) == NULL);
    T_EQ_STR(err, "oncue mitigate: unknown option --bogus (see oncue mitigate --help)");
}

/* `oncue runbook check`: each problem is FILE:LINE: message on the step's line. */
static void test_lint(void)
{
    struct oc_buf b;
    const char *bad = "kind: x\n"                                         /* 1 */
                      "steps:\n"                                          /* 2 */
                      "  - name: a\n"                                     /* 3 */
                      "    type: check\n"                                 /* 4 */
                      "    do: \"look\"\n"                                /* 5 */
                      "    query: incident.colour\n"                      /* 6 */
                      "    expect: \"== red\"\n"                          /* 7 */
                      "  - name: b\n"                                     /* 8 */
                      "    type: check\n"                                 /* 9 */
                      "    do: \"look\"\n"                                /* 10 */
                      "    query: qoe.rebufering_share\n"                 /* 11 */
                      "    expect: \"> 0.1\"\n"                           /* 12 */
                      "  - name: c\n"                                     /* 13 */
                      "    type: action\n"                                /* 14 */
                      "    do: \"act\"\n"                                 /* 15 */
                      "    run: \"oncue mitigate teleport --to {cdn}\"\n" /* 16 */
                      "  - name: d\n"                                     /* 17 */
                      "    type: decision\n"                              /* 18 */
                      "    do: \"ok?\"\n";                                /* 19 */
    oc_buf_init(&b, 1 << 16);
    T_EQ_INT(drill_runbook_lint("x.yaml", bad, strlen(bad), &oncue_drill_host, &b), 4);
    T_CONTAINS(b.data, "x.yaml:3: unknown query field 'incident.colour'");
    T_CONTAINS(b.data, "x.yaml:8: unknown query field 'qoe.rebufering_share': metric unknown");
    T_CONTAINS(b.data, "x.yaml:13: unknown mitigation: ");
    T_CONTAINS(b.data, "x.yaml:17: a decision gates the step after it; this is the last");
    oc_buf_reset(&b);
    const char *typo = "kind: x\nsteps:\n  - name: a\n    do: b\n    type: chek\n";
    T_EQ_INT(drill_runbook_lint("y.yaml", typo, strlen(typo), NULL, &b), 1);
    T_EQ_STR(b.data, "y.yaml:5: type: unknown step type 'chek' (check, action, decision, or none "
                     "for a manual note)\n");
    oc_buf_reset(&b);
    const char *key = "kind: x\nsteps:\n  - name: a\n    do: b\n    expcet: 1\n";
    T_EQ_INT(drill_runbook_lint("z.yaml", key, strlen(key), NULL, &b), 1);
    T_EQ_STR(b.data, "z.yaml:5: steps[0]: unknown key 'expcet'\n");
    oc_buf_reset(&b);
    const char *op = "kind: x\nsteps:\n  - name: a\n    do: b\n    type: check\n"
                     "    query: incident.state\n    expect: resolved\n";
    T_EQ_INT(drill_runbook_lint("o.yaml", op, strlen(op), NULL, &b), 1);
    T_CONTAINS(b.data, "o.yaml:7: expect: \"OP VALUE\"");
    for (const char *const *name = drill_runbook_names; *name; name++) {
        size_t len;
        const char *text = drill_runbook_embedded(*name, &len);
        oc_buf_reset(&b);
        T_EQ_INT(drill_runbook_lint(*name, text, len, &oncue_drill_host, &b), 0);
    }
    oc_buf_free(&b);
}

static const struct t_case cases[] = {
    T_CASE(test_embedded_equal_files),
    T_CASE(test_seven_steps),
    T_CASE(test_for_metric),
    T_CASE(test_fill_and_choose),
    T_CASE(test_vars_from_incident),
    T_CASE(test_vars_without_slice),
    T_CASE(test_parse_errors),
    T_CASE(test_command_request),
    T_CASE(test_lint),
    {0},
};

T_MAIN(cases)
