/*
 * test_catalog.c - the service catalog: the example file loads and matches its embedded copy,
 * loader errors name file, line and field, the graph answers upstream/downstream/blast radius
 * and names cycles, routing picks the most specific service and the on-call, the lint fails on
 * missing owners, and JSON bodies round-trip.
 */
#include "catalog/catalog.h"
#include "catalog/catalog_int.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/timefmt.h"
#include "store/store.h"
#include "t.h"
#include "t_store.h"

#include <stdlib.h>
#include <unistd.h>

static struct catalog *example(void)
{
    struct catalog *c = NULL;
    char err[CATALOG_ERR_MAX] = "";
    int rc = catalog_load_example(&c, err, sizeof(err));
    if (rc != 0)
        fprintf(stderr, "  example: %s\n", err);
    return c;
}

/* Loads text; returns the error code and leaves the message in err. */
static int load_text(const char *text, char *err, size_t errlen)
{
    struct catalog *c = NULL;
    int rc = catalog_load_buf("t.yaml", text, strlen(text), &c, err, errlen);
    catalog_destroy(c);
    return rc;
}

static int64_t at(const char *iso)
{
    int64_t ms = -1;
    catalog_time_parse(iso, &ms);
    return ms;
}

static void test_example_matches_file(void)
{
    char path[4096];
    const char *src = getenv("ONCUE_SRC");
    snprintf(path, sizeof(path), "%s/examples/catalog.yaml", src ? src : ".");
    FILE *f = fopen(path, "rb");
    T_TRUE(f != NULL);
    if (!f)
        return;
    static char file[1 << 20];
    size_t n = fread(file, 1, sizeof(file), f);
    fclose(f);
    size_t len = 0;
    char *emb = catalog_example_yaml(&len);
    T_EQ_INT(len, n);
    T_TRUE(len == n && memcmp(emb, file, n) == 0);
    free(emb);
}

static void test_example_loads(void)
{
    struct catalog *c = example();
    T_TRUE(c != NULL);
    if (!c)
        return;
    T_EQ_INT(c->nservices, 24);
    T_EQ_INT(c->nteams, 11);
    T_EQ_INT(c->npeople, 27);
    T_EQ_INT(c->npolicies, 11);
    const struct catalog_service *s = catalog_service_find(c, "cdn-primary");
    T_TRUE(s != NULL);
    T_EQ_STR(s->kind, "cdn");
    T_EQ_STR(s->team, "cdn-ops");
    T_EQ_STR(s->lead, "ines");
    T_EQ_INT(s->tier, 1);
    T_EQ_INT(s->nserves, 1);
    T_EQ_STR(s->serves[0].v[BEACON_CDN], "primary");
    T_EQ_STR(s->depends_on.v[0], "origin-shield");
    T_EQ_STR(s->raci.accountable.v[0], "ines");
    T_EQ_STR(catalog_service_find(c, "cdn-secondary")->serves[0].v[BEACON_CDN], "secondary");
    const struct catalog_policy *p = catalog_policy_find(c, "cdn-critical");
    T_EQ_INT(p->nsteps, 3);
    T_EQ_INT(p->repeat, 2);
    T_EQ_INT(p->steps[0].kind, CATALOG_TARGET_ONCALL);
    T_EQ_STR(p->steps[0].target, "cdn-ops");
    T_EQ_INT(p->steps[1].kind, CATALOG_TARGET_PERSON);
    T_EQ_INT(p->steps[1].wait_minutes, 10);
    T_EQ_INT(p->steps[2].kind, CATALOG_TARGET_WEBHOOK);
    struct oc_buf b;
    oc_buf_init(&b, 1 << 20);
    T_EQ_INT(catalog_lint(c, &b), 0);
    T_EQ_STR(b.data ? b.data : "", "");
    oc_buf_free(&b);
    catalog_destroy(c);
}

static void test_loader_errors(void)
{
    char err[CATALOG_ERR_MAX];
    T_EQ_INT(load_text("version: 1\nservices:\n  - name: a\n    kind: cdn\n    runbok: x\n", err,
                       sizeof(err)),
             OC_EINVAL);
    T_EQ_STR(err, "t.yaml:5: service \"a\": unknown field \"runbok\"");
    load_text("services:\n  - name: a\n    kind: teleport\n", err, sizeof(err));
    T_EQ_STR(err, "t.yaml:3: service \"a\": field \"kind\": unknown kind \"teleport\"");
    load_text("services:\n  - name: a\n    kind: cdn\n    tier: 9\n", err, sizeof(err));
    T_EQ_STR(err, "t.yaml:4: service \"a\": field \"tier\" must be an integer from 1 to 4");
    load_text("services:\n  - name: a\n    kind: cdn\n    serves: [\"colour=red\"]\n", err,
              sizeof(err));
    T_EQ_STR(err, "t.yaml:4: service \"a\": field \"serves\": unknown dimension \"colour\"");
    load_text("services:\n  - kind: cdn\n", err, sizeof(err));
    T_EQ_STR(err, "t.yaml:2: services[0]: field \"name\" is required");
    load_text("services:\n  - {name: ~, kind: cdn}\n", err, sizeof(err));
    T_EQ_STR(err, "t.yaml:2: services[0]: field \"name\" is required");
    load_text("services:\n  - {name: a, kind: cdn}\n  - {name: a, kind: cdn}\n", err, sizeof(err));
    T_EQ_STR(err, "t.yaml:3: service \"a\" is defined twice (also at line 2)");
    load_text("people:\n  - {name: x}\nsurprise: 1\n", err, sizeof(err));
    T_EQ_STR(err, "t.yaml:3: unknown field \"surprise\"");
    load_text("default_owner: nope\nservices:\n  - {name: a, kind: cdn}\n", err, sizeof(err));
    T_EQ_STR(err, "t.yaml:1: field \"default_owner\": no service named \"nope\"");
    load_text("default_owner: [a]\n", err, sizeof(err));
    T_EQ_STR(err, "t.yaml:1: field \"default_owner\" must be a service name");
    load_text("a: &x 1\nb: *x\n", err, sizeof(err));
    T_EQ_STR(err, "t.yaml:2: aliases (*name) are not supported");
    load_text("services: [\n", err, sizeof(err));
    T_CONTAINS(err, "t.yaml:2: YAML: ");
    load_text("teams:\n  - name: t\n    oncall:\n      people: [a]\n      handoff: someday\n", err,
              sizeof(err));
    T_EQ_STR(err, "t.yaml:5: team \"t\": field \"handoff\" must look like \"monday 09:00\"");
    load_text("teams:\n  - name: t\n    oncall:\n      people: [a]\n      timezone: CET\n", err,
              sizeof(err));
    T_EQ_STR(err, "t.yaml:5: team \"t\": field \"timezone\": only UTC is supported");
    load_text("escalation_policies:\n  - name: p\n    steps:\n      - {wait_minutes: 5}\n", err,
              sizeof(err));
    T_EQ_STR(err, "t.yaml:4: escalation policy \"p\": steps[0]: needs one of oncall, person or "
                  "webhook");
}

static void test_cycle_named(void)
{
    char err[CATALOG_ERR_MAX];
    const char *text = "services:\n"
                       "  - {name: a, kind: api, depends_on: [b]}\n"
                       "  - {name: b, kind: api, depends_on: [c, z]}\n"
                       "  - {name: c, kind: api, depends_on: [a]}\n"
                       "  - {name: z, kind: api}\n";
    T_EQ_INT(load_text(text, err, sizeof(err)), OC_EINVAL);
    T_EQ_STR(err, "t.yaml:2: cycle: a -> b -> c -> a");
    T_EQ_INT(load_text("services:\n  - {name: a, kind: api, depends_on: [a]}\n", err, sizeof(err)),
             OC_EINVAL);
    T_EQ_STR(err, "t.yaml:2: cycle: a -> a");
}

static void expect_names(const struct catalog_names *n, const char *joined)
{
    char buf[4096] = "";
    size_t len = 0;
    for (int i = 0; i < n->n; i++)
        len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%s", i ? " " : "", n->v[i]);
    T_EQ_STR(buf, joined);
}

static void test_graph(void)
{
    struct catalog *c = example();
    struct catalog_names n;
    T_EQ_INT(catalog_upstream(c, "cdn-primary", &n), 0);
    expect_names(&n, "origin-shield origin packager media-storage");
    catalog_names_free(&n);
    T_EQ_INT(catalog_downstream(c, "origin", &n), 0);
    expect_names(&n, "origin-shield cdn-primary cdn-secondary manifest-service player-mobile "
                     "player-tv player-web");
    catalog_names_free(&n);
    T_EQ_INT(catalog_downstream(c, "nope", &n), OC_ENOTFOUND);
    struct catalog_blast b;
    T_EQ_INT(catalog_blast_radius(c, "cdn-primary", &b), 0);
    expect_names(&b.services, "player-mobile player-tv player-web");
    expect_names(&b.slices,
                 "cdn=primary device=mobile device=set_top device=smart_tv device=web "
                 "player=avplay player=avplayer player=dash.js player=exoplayer player=gstreamer "
                 "player=hls.js player=roku-player player=shaka");
    catalog_blast_free(&b);
    T_EQ_INT(catalog_blast_radius(c, "billing", &b), 0);
    expect_names(&b.services, "entitlements api-gateway drm-license manifest-service "
                              "player-mobile player-tv player-web");
    catalog_blast_free(&b);
    T_EQ_INT(catalog_blast_radius(c, "media-storage", &b), 0);
    T_EQ_INT(b.services.n, 12);
    expect_names(&b.slices, "cdn=primary cdn=primary,live=true cdn=secondary "
                            "cdn=secondary,live=true device=mobile device=set_top device=smart_tv "
                            "device=web live=true player=avplay player=avplayer player=dash.js "
                            "player=exoplayer player=gstreamer player=hls.js player=roku-player "
                            "player=shaka");
    catalog_blast_free(&b);
    catalog_destroy(c);
}

static void route_slice(const struct catalog *c, const char *text, int64_t when,
                        struct catalog_route *r, int want_rc)
{
    struct catalog_slice s;
    char err[CATALOG_ERR_MAX];
    T_EQ_INT(catalog_slice_parse(text, &s, err, sizeof(err)), 0);
    T_EQ_INT(catalog_route(c, &s, when, r), want_rc);
    catalog_slice_free(&s);
}

static void test_route(void)
{
    struct catalog *c = example();
    struct catalog_route r;
    int64_t t = at("2026-11-25T19:43:00Z");
    route_slice(c, "cdn:primary,region:EMEA", t, &r, 0);
    T_EQ_STR(r.service, "cdn-primary");
    T_EQ_STR(r.team, "cdn-ops");
    T_EQ_STR(r.lead, "ines");
    T_EQ_STR(r.oncall, "chen");
    T_EQ_STR(r.policy, "cdn-critical");
    T_EQ_STR(r.matched, "cdn=primary");
    T_EQ_INT(r.score, 1);
    T_EQ_STR(r.reason, "region=EMEA,cdn=primary is served most specifically by cdn-primary "
                       "(serves cdn=primary: 1 of 2 dimensions); owner team cdn-ops, escalation "
                       "lead ines; on call at 2026-11-25T19:43:00Z: chen (weekly rotation until "
                       "2026-11-30T09:00:00Z)");
    route_slice(c, "cdn=primary,live=true,region=EMEA", t, &r, 0);
    T_EQ_STR(r.service, "live-edge");
    T_EQ_STR(r.team, "live-ops");
    T_EQ_INT(r.score, 2);
    route_slice(c, "cdn=secondary,pop=FRA", t, &r, 0);
    T_EQ_STR(r.service, "cdn-secondary");
    /* drm-license (tier 1) and player-tv (tier 2) both match one dimension: tier decides. */
    route_slice(c, "device=smart_tv,drm=fairplay", t, &r, 0);
    T_EQ_STR(r.service, "drm-license");
    T_EQ_STR(r.oncall, "priya"); /* week 46 of a two-person rotation */
    T_CONTAINS(r.reason, "chosen over equally specific services by tier, then name");
    /* player-web and player-mobile are both tier 2 and match one dimension: name decides. */
    route_slice(c, "device=mobile,player=hls.js", t, &r, 0);
    T_EQ_STR(r.service, "player-mobile");
    /* isp-interconnect serves "isp=*": any one ISP, below an exact value of another service */
    route_slice(c, "isp=vodafone-de,region=EMEA", t, &r, 0);
    T_EQ_STR(r.service, "isp-interconnect");
    T_EQ_STR(r.team, "cdn-ops");
    T_EQ_STR(r.matched, "isp=*");
    T_EQ_INT(r.score, 1);
    route_slice(c, "cdn=primary,isp=vodafone-de", t, &r, 0);
    T_EQ_STR(r.service, "cdn-primary");
    route_slice(c, "device=smart_tv,isp=telekom-de", t, &r, 0);
    T_EQ_STR(r.service, "player-tv");
    route_slice(c, "region=EMEA", t, &r, OC_ENOTFOUND);
    T_EQ_STR(r.reason, "no service in the catalog serves region=EMEA");
    /* what nothing serves belongs to the example's default_owner */
    T_EQ_INT(catalog_route_default(c, t, &r), 0);
    T_EQ_STR(r.service, "manifest-service");
    T_EQ_STR(r.team, "playback-services");
    T_CONTAINS(r.reason, "the catalog's default owner manifest-service");
    T_EQ_INT(catalog_route_service(c, "search", t, &r), 0);
    T_EQ_STR(r.team, "discovery");
    T_EQ_STR(r.lead, "carla");
    T_EQ_STR(r.oncall, "carla");
    T_EQ_INT(catalog_route_service(c, "nope", t, &r), OC_ENOTFOUND);
    catalog_destroy(c);
}

static void test_oncall(void)
{
    struct catalog *c = example();
    struct catalog_shift sh;
    char when[32];
    T_EQ_INT(catalog_oncall(c, "cdn-ops", at("2026-11-30T08:59:59Z"), &sh), 0);
    T_EQ_STR(sh.person, "chen");
    T_EQ_INT(sh.is_override, 0);
    oc_time_format(sh.from_ms, when, sizeof(when));
    T_EQ_STR(when, "2026-11-23T09:00:00Z");
    T_EQ_INT(catalog_oncall(c, "cdn-ops", at("2026-11-30T09:00:00Z"), &sh), 0);
    T_EQ_STR(sh.person, "dara");
    T_EQ_INT(catalog_oncall(c, "cdn-ops", at("2026-01-05T09:00:00Z"), &sh), 0);
    T_EQ_STR(sh.person, "amara");
    T_EQ_INT(catalog_oncall(c, "cdn-ops", at("2026-01-05T08:00:00Z"), &sh), 0);
    T_EQ_STR(sh.person, "dara"); /* before the start the rotation runs backwards */
    T_EQ_INT(catalog_oncall(c, "cdn-ops", at("2026-12-25T12:00:00Z"), &sh), 0);
    T_EQ_STR(sh.person, "bjorn");
    T_EQ_INT(sh.is_override, 1);
    oc_time_format(sh.to_ms, when, sizeof(when));
    T_EQ_STR(when, "2026-12-27T00:00:00Z");
    T_EQ_INT(catalog_oncall(c, "cdn-ops", at("2026-12-27T00:00:00Z"), &sh), 0);
    T_EQ_STR(sh.person, "chen");
    T_EQ_INT(sh.is_override, 0);
    /* live-ops hands off on fridays at 17:00, starting 2026-01-02 (a friday). */
    T_EQ_INT(catalog_oncall(c, "live-ops", at("2026-01-09T16:59:00Z"), &sh), 0);
    T_EQ_STR(sh.person, "kenji");
    T_EQ_INT(catalog_oncall(c, "live-ops", at("2026-01-09T17:00:00Z"), &sh), 0);
    T_EQ_STR(sh.person, "lucia");
    T_EQ_INT(catalog_oncall(c, "nobody", 0, &sh), OC_ENOTFOUND);
    catalog_destroy(c);
}

static void test_escalation_plan(void)
{
    struct catalog *c = example();
    struct catalog_page pages[CATALOG_MAX_PAGES];
    int n = -1;
    char when[32];
    /* cdn-critical: on-call (5 min), ines (10 min), NOC webhook; repeated twice. Opened 5
     * minutes before the monday handoff, the second on-call page reaches the next person. */
    T_EQ_INT(catalog_escalation_plan(c, "cdn-critical", at("2026-11-30T08:55:00Z"), pages,
                                     CATALOG_MAX_PAGES, &n),
             0);
    T_EQ_INT(n, 9);
    T_EQ_STR(pages[0].person, "chen");
    T_EQ_INT(pages[0].kind, CATALOG_TARGET_ONCALL);
    T_EQ_STR(pages[1].person, "ines");
    oc_time_format(pages[1].at_ms, when, sizeof(when));
    T_EQ_STR(when, "2026-11-30T09:00:00Z");
    T_EQ_INT(pages[2].kind, CATALOG_TARGET_WEBHOOK);
    T_EQ_STR(pages[2].target, "https://hooks.example.com/noc-bridge");
    T_EQ_STR(pages[2].person, "");
    T_EQ_INT(pages[3].round, 1);
    T_EQ_INT(pages[3].step, 0);
    T_EQ_STR(pages[3].person, "dara");
    oc_time_format(pages[8].at_ms, when, sizeof(when));
    T_EQ_STR(when, "2026-11-30T09:40:00Z"); /* 3 rounds of 15 minutes */
    T_EQ_INT(catalog_escalation_plan(c, "cdn-critical", 0, pages, 2, &n), 0);
    T_EQ_INT(n, 2);
    T_EQ_INT(catalog_escalation_plan(c, "nope", 0, pages, 2, &n), OC_ENOTFOUND);
    catalog_destroy(c);
}

static void test_time(void)
{
    int64_t ms;
    char s[32];
    T_EQ_INT(catalog_time_parse("1970-01-01", &ms), 0);
    T_EQ_INT(ms, 0);
    T_EQ_INT(catalog_time_parse("2026-11-25T19:43Z", &ms), 0);
    T_EQ_INT(ms, 1795635780000LL);
    T_EQ_INT(catalog_time_parse("1795635780", &ms), 0);
    T_EQ_INT(ms, 1795635780000LL);
    oc_time_format(ms, s, sizeof(s));
    T_EQ_STR(s, "2026-11-25T19:43:00Z");
    T_EQ_INT(catalog_time_parse("2026-13-01", &ms), OC_EINVAL);
    T_EQ_INT(catalog_time_parse("2026-11-25T19:43:00+01:00", &ms), OC_EINVAL);
}

static void test_slices(void)
{
    struct catalog_slice s;
    char err[CATALOG_ERR_MAX], text[256];
    T_EQ_INT(catalog_slice_parse("live=true, cdn:primary,title=a=b", &s, err, sizeof(err)), 0);
    T_EQ_INT(catalog_slice_dims(&s), 3);
    catalog_slice_format(&s, text, sizeof(text));
    T_EQ_STR(text, "cdn=primary,title=a=b,live=true");
    catalog_slice_free(&s);
    T_EQ_INT(catalog_slice_parse("cdn=a,cdn=b", &s, err, sizeof(err)), OC_EINVAL);
    T_EQ_STR(err, "dimension \"cdn\" given twice");
    T_EQ_INT(catalog_slice_parse("cdn=", &s, err, sizeof(err)), OC_EINVAL);
    T_EQ_STR(err, "\"cdn=\" is not dim=value");
    T_EQ_INT(catalog_slice_parse("cdn=a,", &s, err, sizeof(err)), OC_EINVAL);
    T_EQ_INT(catalog_slice_parse("", &s, err, sizeof(err)), OC_EINVAL);
    T_EQ_STR(err, "empty slice");
    T_TRUE(s.buf == NULL);
}

static void test_lint(void)
{
    const char *text = "people:\n  - {name: lee}\n"
                       "teams:\n  - {name: web, escalation_policy: gone}\n"
                       "services:\n"
                       "  - {name: a, kind: api, team: web, escalation_lead: lee, runbook: r,"
                       " rollback_doc: d}\n"
                       "  - name: b\n    kind: api\n    depends_on: [a, ghost]\n";
    struct catalog *c = NULL;
    char err[CATALOG_ERR_MAX];
    T_EQ_INT(catalog_load_buf("t.yaml", text, strlen(text), &c, err, sizeof(err)), 0);
    struct oc_buf b;
    oc_buf_init(&b, 1 << 16);
    T_EQ_INT(catalog_lint(c, &b), 6);
    T_EQ_STR(b.data, "t.yaml:4: team web: escalation policy gone is unknown\n"
                     "t.yaml:7: service b: no owner\n"
                     "t.yaml:7: service b: no escalation lead\n"
                     "t.yaml:7: service b: no runbook\n"
                     "t.yaml:7: service b: no rollback doc\n"
                     "t.yaml:7: service b: depends on unknown service ghost\n");
    oc_buf_free(&b);
    catalog_destroy(c);
}

static void test_json_round_trip(void)
{
    struct catalog *c = example();
    json_t *j = catalog_service_to_json(catalog_service_find(c, "live-edge"));
    struct catalog_service *s = NULL;
    char err[CATALOG_ERR_MAX];
    T_EQ_INT(catalog_service_from_json(j, &s, err, sizeof(err)), 0);
    json_t *j2 = catalog_service_to_json(s);
    T_TRUE(json_equal(j, j2));
    T_EQ_STR(json_string_value(json_array_get(json_object_get(j, "serves"), 0)),
             "cdn=primary,live=true");
    T_EQ_INT(catalog_check_refs(c, s, err, sizeof(err)), 0);
    json_decref(j2);
    json_decref(j);
    catalog_service_destroy(s);
    j = json_pack("{s:s, s:s, s:s, s:[s, s], s:s}", "name", "x", "kind", "api", "team", "ghosts",
                  "depends_on", "auth", "nope", "colour", "red");
    T_EQ_INT(catalog_service_from_json(j, &s, err, sizeof(err)), OC_EINVAL);
    T_EQ_STR(err, "service \"x\": unknown field \"colour\"");
    json_object_set_new(j, "size", json_integer(3));
    T_EQ_INT(catalog_service_from_json(j, &s, err, sizeof(err)), OC_EINVAL);
    T_EQ_STR(err, "service \"x\": unknown fields \"colour\", \"size\"");
    json_object_del(j, "size");
    json_object_del(j, "colour");
    T_EQ_INT(catalog_service_from_json(j, &s, err, sizeof(err)), 0);
    T_EQ_INT(catalog_check_refs(c, s, err, sizeof(err)), OC_EINVAL);
    T_EQ_STR(err, "depends_on: unknown service \"nope\"; team: unknown team \"ghosts\"");
    catalog_service_destroy(s);
    json_decref(j);
    /* Making origin depend on player-web closes a loop through the CDNs. */
    j = catalog_service_to_json(catalog_service_find(c, "origin"));
    json_array_append_new(json_object_get(j, "depends_on"), json_string("player-web"));
    T_EQ_INT(catalog_service_from_json(j, &s, err, sizeof(err)), 0);
    T_EQ_INT(catalog_check_refs(c, s, err, sizeof(err)), OC_EINVAL);
    T_EQ_STR(err, "depends_on: cycle: origin -> player-web -> manifest-service -> origin-shield -> "
                  "origin");
    catalog_service_destroy(s);
    json_decref(j);
    catalog_destroy(c);
}

/* Edits through the module state survive a restart: they are stored over the file. */
static void test_state_persists(void)
{
    char dir[] = "/tmp/oncue-catalog-XXXXXX", err[CATALOG_ERR_MAX];
    struct store *st = NULL;
    struct catalog_mod *m = NULL;
    struct catalog_service *s = NULL;
    int created = -1;
    T_TRUE(mkdtemp(dir) != NULL);
    T_EQ_INT(t_store_open(dir, STORE_SYNC_NORMAL, &st, err, sizeof(err)), 0);
    T_EQ_INT(catalog_mod_new(st, NULL, &m, err, sizeof(err)), 0);
    json_t *j = json_pack("{s:s, s:s, s:s, s:[s]}", "name", "cdn-tertiary", "kind", "cdn", "team",
                          "cdn-ops", "depends_on", "origin-shield");
    T_EQ_INT(catalog_service_from_json(j, &s, err, sizeof(err)), 0);
    T_EQ_INT(catalog_mod_put(m, s, 1, "test", 1000, &created, err, sizeof(err)), 0);
    T_EQ_INT(created, 1);
    T_EQ_INT(catalog_service_from_json(j, &s, err, sizeof(err)), 0);
    T_EQ_INT(catalog_mod_put(m, s, 1, "test", 1000, &created, err, sizeof(err)), OC_ECONFLICT);
    json_decref(j);
    T_EQ_INT(catalog_mod_delete(m, "origin", "test", 2000, err, sizeof(err)), OC_ECONFLICT);
    T_EQ_STR(err, "services depend on origin: origin-shield");
    T_EQ_INT(catalog_mod_delete(m, "search", "test", 2000, err, sizeof(err)), OC_ECONFLICT);
    T_EQ_INT(catalog_mod_delete(m, "player-web", "test", 2000, err, sizeof(err)), 0);
    T_EQ_INT(catalog_mod_delete(m, "player-web", "test", 2000, err, sizeof(err)), OC_ENOTFOUND);
    catalog_mod_destroy(m);
    m = NULL;
    T_EQ_INT(catalog_mod_new(st, NULL, &m, err, sizeof(err)), 0);
    T_EQ_INT(m->cat->nservices, 24); /* 24 + cdn-tertiary - player-web */
    T_TRUE(catalog_service_find(m->cat, "player-web") == NULL);
    T_EQ_STR(catalog_service_find(m->cat, "cdn-tertiary")->team, "cdn-ops");
    struct catalog_route r;
    struct catalog_slice sl = {0};
    sl.v[BEACON_CDN] = "primary";
    T_EQ_INT(catalog_route(m->cat, &sl, 0, &r), 0);
    T_EQ_STR(r.service, "cdn-primary");
    /* Other capabilities reach the running catalog through the app it is provided in. */
    struct oc_app app;
    memset(&app, 0, sizeof app);
    T_EQ_INT(catalog_route_app(&app, &sl, NULL, 0, &r), OC_ENOTFOUND);
    T_EQ_STR(r.reason, "the catalog module is not running");
    T_EQ_INT(oc_app_provide(&app, CATALOG_PROVIDES, m), 0);
    T_EQ_INT(catalog_route_app(&app, NULL, "cdn-tertiary", 0, &r), 0);
    T_EQ_STR(r.team, "cdn-ops");
    struct catalog_ref ref;
    T_EQ_INT(catalog_get(&app, &ref), 0);
    T_EQ_INT(ref.cat->nservices, 24);
    catalog_put(&ref);
    oc_app_withdraw(&app, CATALOG_PROVIDES);
    T_EQ_INT(catalog_get(&app, &ref), OC_ENOTFOUND);
    catalog_mod_destroy(m);
    store_close(st);
    t_rmtree(dir);
}

static const struct t_case cases[] = {
    T_CASE(test_example_matches_file),
    T_CASE(test_example_loads),
    T_CASE(test_loader_errors),
    T_CASE(test_cycle_named),
    T_CASE(test_graph),
    T_CASE(test_route),
    T_CASE(test_oncall),
    T_CASE(test_escalation_plan),
    T_CASE(test_time),
    T_CASE(test_slices),
    T_CASE(test_lint),
    T_CASE(test_json_round_trip),
    T_CASE(test_state_persists),
    {0},
};

T_MAIN(cases)
