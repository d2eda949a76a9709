/*
 * test_tickets.c - the tickets capability's pure parts: Zendesk signatures (an independent
 * vector made with `openssl dgst -sha256 -hmac`, tampered, stale, missing), the mapped intake
 * of each format and its errors, the mapping and keyword files, tagging, SimHash, the
 * incremental clusters, the labelled storm's precision and the routing table.
 */
#include "tickets/tickets.h"
#include "core/err.h"
#include "t.h"

#include <stdio.h>
#include <string.h>

#define SECRET "dGhpc2lzYXNlY3JldA"
#define TS     "2026-12-06T12:00:00Z"
#define TS_S   1796558400 /* TS in unix seconds */
#define BODY   "{\"ticket\":{\"id\":4711,\"subject\":\"Buffering on Roku\"}}"
/* printf '%s%s' "$TS" "$BODY" | openssl dgst -sha256 -hmac "$SECRET" -binary | base64 */
#define SIG "gqgd0RWXpu8O/MMNXlblqF4Y+H1g1eyRw0VzvRbf+CA="

static void test_zendesk_valid(void)
{
    int64_t ts = 0;
    char sig[64];
    T_EQ_INT(tickets_zendesk_verify(SECRET, SIG, TS, BODY, strlen(BODY), TS_S + 10, 300, &ts),
             TICKETS_SIG_OK);
    T_EQ_INT(ts, TS_S);
    tickets_zendesk_sign(SECRET, TS, BODY, strlen(BODY), sig, sizeof sig);
    T_EQ_STR(sig, SIG);
    /* unix seconds are read too (the signed text is the header's, whatever its form) */
    tickets_zendesk_sign(SECRET, "1796558400", BODY, strlen(BODY), sig, sizeof sig);
    T_EQ_INT(tickets_zendesk_verify(SECRET, sig, "1796558400", BODY, strlen(BODY), TS_S, 300, NULL),
             TICKETS_SIG_OK);
}

static void test_zendesk_tampered(void)
{
    char body[] = BODY, sig[] = SIG;
    body[30] = 'X';
    T_EQ_INT(tickets_zendesk_verify(SECRET, SIG, TS, body, strlen(body), TS_S, 300, NULL),
             TICKETS_SIG_NOMATCH);
    sig[3] = sig[3] == 'A' ? 'B' : 'A';
    T_EQ_INT(tickets_zendesk_verify(SECRET, sig, TS, BODY, strlen(BODY), TS_S, 300, NULL),
             TICKETS_SIG_NOMATCH);
    /* the timestamp is signed: another one with the same signature fails */
    T_EQ_INT(tickets_zendesk_verify(SECRET, SIG, "2026-12-06T12:00:01Z", BODY, strlen(BODY), TS_S,
                                    300, NULL),
             TICKETS_SIG_NOMATCH);
    T_EQ_INT(tickets_zendesk_verify("other", SIG, TS, BODY, strlen(BODY), TS_S, 300, NULL),
             TICKETS_SIG_NOMATCH);
    T_EQ_INT(tickets_zendesk_verify(SECRET, "not base64!", TS, BODY, strlen(BODY), TS_S, 300, NULL),
             TICKETS_SIG_NOMATCH);
}

static void test_zendesk_stale(void)
{
    int64_t ts = 0;
    T_EQ_INT(tickets_zendesk_verify(SECRET, SIG, TS, BODY, strlen(BODY), TS_S + 301, 300, &ts),
             TICKETS_SIG_STALE);
    T_EQ_INT(ts, TS_S);
    T_EQ_INT(tickets_zendesk_verify(SECRET, SIG, TS, BODY, strlen(BODY), TS_S - 301, 300, NULL),
             TICKETS_SIG_STALE);
    T_EQ_INT(tickets_zendesk_verify(SECRET, SIG, TS, BODY, strlen(BODY), TS_S + 300, 300, NULL),
             TICKETS_SIG_OK);
}

static void test_zendesk_missing(void)
{
    T_EQ_INT(tickets_zendesk_verify("", SIG, TS, BODY, 10, TS_S, 300, NULL), TICKETS_SIG_NOKEY);
    T_EQ_INT(tickets_zendesk_verify(SECRET, NULL, TS, BODY, 10, TS_S, 300, NULL),
             TICKETS_SIG_MISSING);
    T_EQ_INT(tickets_zendesk_verify(SECRET, SIG, NULL, BODY, 10, TS_S, 300, NULL),
             TICKETS_SIG_MISSING);
    T_EQ_INT(tickets_zendesk_verify(SECRET, SIG, "yesterday", BODY, 10, TS_S, 300, NULL),
             TICKETS_SIG_MALFORMED);
    T_EQ_STR(tickets_sig_reasons[TICKETS_SIG_STALE], "stale timestamp");
}

static void test_parse_zendesk(void)
{
    struct tickets_map m;
    struct tickets_ticket t;
    char err[300];
    const char *b = "{\"ticket\":{\"id\":4711,\"subject\":\"Buffering on Roku\",\"description\":"
                    "\"It keeps buffering\",\"updated_at\":\"2026-12-06T11:59:00Z\",\"status\":"
                    "\"open\",\"tags\":[\"vip\",\"roku\"],\"requester\":{\"tier\":\"Premium\"},"
                    "\"region\":\"eu\"}}";
    tickets_map_builtin(TICKETS_ZENDESK, &m);
    T_EQ_INT(tickets_parse(&m, TICKETS_ZENDESK, b, strlen(b), &t, err, sizeof err), 0);
    T_EQ_STR(t.ext_id, "4711");
    T_EQ_STR(t.subject, "Buffering on Roku");
    T_EQ_STR(t.body, "It keeps buffering");
    T_EQ_INT(t.updated_ms, 1796558340000LL);
    T_EQ_STR(t.status, "open");
    T_EQ_STR(t.tags_in, "vip roku");
    T_EQ_STR(t.f_tier, "Premium");
    T_EQ_STR(t.f_region, "eu");
    /* an event webhook's detail object */
    const char *e = "{\"type\":\"zen:event-type:ticket.created\",\"detail\":{\"id\":\"88\","
                    "\"subject\":\"Login broken\"}}";
    T_EQ_INT(tickets_parse(&m, TICKETS_ZENDESK, e, strlen(e), &t, err, sizeof err), 0);
    T_EQ_STR(t.ext_id, "88");
}

static void test_parse_freshdesk_salesforce(void)
{
    struct tickets_map m;
    struct tickets_ticket t;
    char err[300];
    const char *f = "{\"id\":17,\"subject\":\"Charged twice\",\"description_text\":\"Refund "
                    "please\",\"updated_at\":\"2026-12-06T10:00:00Z\",\"priority\":3,"
                    "\"custom_fields\":{\"cf_device\":\"iPhone\",\"cf_region\":\"US\"},"
                    "\"tags\":[\"billing\"]}";
    tickets_map_builtin(TICKETS_FRESHDESK, &m);
    T_EQ_INT(tickets_parse(&m, TICKETS_FRESHDESK, f, strlen(f), &t, err, sizeof err), 0);
    T_EQ_STR(t.ext_id, "17");
    T_EQ_STR(t.body, "Refund please");
    T_EQ_STR(t.priority, "3");
    T_EQ_STR(t.f_device, "iPhone");
    T_EQ_STR(t.f_region, "US");
    T_EQ_INT(t.format, TICKETS_FRESHDESK);
    const char *s = "{\"Id\":\"5003000000D8cuI\",\"CaseNumber\":\"00001026\",\"Subject\":"
                    "\"Video won't play\",\"Description\":\"Black screen\",\"LastModifiedDate\":"
                    "\"2026-12-06T10:00:00.000+0000\",\"Status\":\"New\",\"Region__c\":\"EU\"}";
    tickets_map_builtin(TICKETS_SALESFORCE, &m);
    T_EQ_INT(tickets_parse(&m, TICKETS_SALESFORCE, s, strlen(s), &t, err, sizeof err), 0);
    T_EQ_STR(t.ext_id, "5003000000D8cuI");
    T_EQ_INT(t.updated_ms, 1796551200000LL);
    T_EQ_STR(t.status, "New");
}

static void test_parse_errors(void)
{
    struct tickets_map m;
    struct tickets_ticket t;
    char err[300];
    tickets_map_builtin(TICKETS_GENERIC, &m);
    T_EQ_INT(tickets_parse(&m, TICKETS_GENERIC, "[1]", 3, &t, err, sizeof err), OC_EMALFORMED);
    T_CONTAINS(err, "not a JSON object");
    const char *noid = "{\"subject\":\"x\"}";
    T_EQ_INT(tickets_parse(&m, TICKETS_GENERIC, noid, strlen(noid), &t, err, sizeof err),
             OC_EINVAL);
    T_CONTAINS(err, "id (id)");
    const char *badtime = "{\"id\":1,\"subject\":\"x\",\"updated_at\":\"soon\"}";
    T_EQ_INT(tickets_parse(&m, TICKETS_GENERIC, badtime, strlen(badtime), &t, err, sizeof err),
             OC_EINVAL);
    T_CONTAINS(err, "updated_at (updated_at)");
    const char *obj = "{\"id\":1,\"subject\":{\"a\":1}}";
    T_EQ_INT(tickets_parse(&m, TICKETS_GENERIC, obj, strlen(obj), &t, err, sizeof err), OC_EINVAL);
    T_CONTAINS(err, "subject (subject)");
    const char *notext = "{\"id\":1}";
    T_EQ_INT(tickets_parse(&m, TICKETS_GENERIC, notext, strlen(notext), &t, err, sizeof err),
             OC_EINVAL);
    T_CONTAINS(err, "needs some text");
    const char *space = "{\"id\":\"a b\",\"subject\":\"x\"}";
    T_EQ_INT(tickets_parse(&m, TICKETS_GENERIC, space, strlen(space), &t, err, sizeof err),
             OC_EINVAL);
}

static void test_mapping_file(void)
{
    struct tickets_map m;
    struct tickets_ticket t;
    char err[300];
    const char *y = "# our helpdesk\nid: case.key\nsubject: case.title|title\n"
                    "updated_at: case.changed  # unix seconds\n";
    tickets_map_builtin(TICKETS_GENERIC, &m);
    T_EQ_INT(tickets_map_parse("map.yaml", y, strlen(y), &m, err, sizeof err), 0);
    T_EQ_STR(m.paths[TICKETS_F_ID], "case.key");
    T_EQ_STR(m.paths[TICKETS_F_BODY], "body"); /* kept */
    const char *b = "{\"case\":{\"key\":\"K-9\",\"title\":\"Search broken\",\"changed\":"
                    "1796558400}}";
    T_EQ_INT(tickets_parse(&m, TICKETS_GENERIC, b, strlen(b), &t, err, sizeof err), 0);
    T_EQ_STR(t.ext_id, "K-9");
    T_EQ_STR(t.subject, "Search broken");
    T_EQ_INT(t.updated_ms, 1796558400000LL);
    const char *bad = "id: x\n\nsubjekt: y\n";
    T_EQ_INT(tickets_map_parse("map.yaml", bad, strlen(bad), &m, err, sizeof err), OC_EINVAL);
    T_CONTAINS(err, "map.yaml:3: subjekt: not a field");
    const char *nocolon = "id x\n";
    T_EQ_INT(tickets_map_parse("m", nocolon, strlen(nocolon), &m, err, sizeof err), OC_EINVAL);
    T_CONTAINS(err, "m:1: expected");
}

static const struct tickets_service svcs[] = {
    {"playback-api", "player|video player"},
    {"auth", "login page"},
};

static void test_tag(void)
{
    struct tickets_keywords kw;
    struct tickets_ticket t;
    memset(&t, 0, sizeof t);
    tickets_keywords_builtin(&kw);
    snprintf(t.subject, sizeof t.subject, "The video player keeps BUFFERING");
    snprintf(t.body, sizeof t.body, "Since app version 4.12.1 it stutters on my Roku.");
    snprintf(t.f_tier, sizeof t.f_tier, "Premium VIP");
    snprintf(t.f_region, sizeof t.f_region, "eu-west");
    tickets_tag(&t, &kw, svcs, 2);
    T_EQ_STR(t.tags.service, "playback-api");
    T_EQ_STR(t.tags.symptom, "buffering");
    T_EQ_STR(t.tags.tier, "premium");
    T_EQ_INT(t.tags.vip, 1);
    T_EQ_STR(t.tags.device, "roku");
    T_EQ_STR(t.tags.app_version, "4.12.1");
    T_EQ_STR(t.tags.region, "EU-WEST");
    /* a field naming a service wins over the text; the device field over the text */
    memset(&t, 0, sizeof t);
    snprintf(t.subject, sizeof t.subject, "I can't log in, password rejected (v2.3)");
    snprintf(t.f_service, sizeof t.f_service, "auth");
    snprintf(t.f_device, sizeof t.f_device, "Samsung Smart TV");
    snprintf(t.f_tier, sizeof t.f_tier, "free");
    tickets_tag(&t, &kw, svcs, 2);
    T_EQ_STR(t.tags.service, "auth");
    T_EQ_STR(t.tags.symptom, "login");
    T_EQ_STR(t.tags.device, "smarttv");
    T_EQ_STR(t.tags.tier, "free");
    T_EQ_INT(t.tags.vip, 0);
    T_EQ_STR(t.tags.app_version, "2.3");
    /* keywords: "rebuffer" is its own word, "buffer" matches word starts only */
    char norm[64];
    tickets_normalize("Won't PLAY!!", norm, sizeof norm);
    T_EQ_STR(norm, " won t play ");
}

static void test_keywords_file(void)
{
    struct tickets_keywords kw;
    struct tickets_ticket t;
    char err[300];
    tickets_keywords_builtin(&kw);
    int before = kw.n;
    const char *y = "symptom.downloads: download, offline\nsymptom.buffering: [spinner]\n"
                    "service.downloads-api: download\n";
    T_EQ_INT(tickets_keywords_parse("kw.yaml", y, strlen(y), &kw, err, sizeof err), 0);
    T_EQ_INT(kw.n, before + 2); /* buffering replaced, two new rows */
    memset(&t, 0, sizeof t);
    snprintf(t.subject, sizeof t.subject, "Offline downloads fail");
    tickets_tag(&t, &kw, NULL, 0);
    T_EQ_STR(t.tags.symptom, "downloads");
    T_EQ_STR(t.tags.service, "downloads-api");
    snprintf(t.subject, sizeof t.subject, "endless buffering"); /* buffering lost its words */
    tickets_tag(&t, &kw, NULL, 0);
    T_EQ_STR(t.tags.symptom, "");
    const char *bad = "colour.red: x\n";
    T_EQ_INT(tickets_keywords_parse("kw.yaml", bad, strlen(bad), &kw, err, sizeof err), OC_EINVAL);
    T_CONTAINS(err, "kw.yaml:1: colour.red: expected symptom.NAME");
}

static void test_simhash(void)
{
    struct tickets_ticket a, b, c;
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    memset(&c, 0, sizeof c);
    snprintf(a.subject, sizeof a.subject, "Video keeps buffering on my Roku every few seconds");
    snprintf(b.subject, sizeof b.subject, "video keeps bufering on my roku every few seconds!");
    snprintf(c.subject, sizeof c.subject, "How do I change my profile picture in settings");
    uint64_t ha = tickets_simhash(&a), hb = tickets_simhash(&b), hc = tickets_simhash(&c);
    /* a typo and punctuation stay within the default threshold (24); another matter not */
    T_EQ_INT(tickets_hamming(ha, hb), 13);
    T_EQ_INT(tickets_hamming(ha, hc), 31);
    T_EQ_INT(tickets_hamming(ha, ha), 0);
    T_EQ_INT(tickets_hamming(0, ~0ull), 64);
}

static void test_clusters(void)
{
    struct tickets_clusters cs;
    struct tickets_tags buf, buf_us, none;
    int64_t id = 0;
    memset(&buf, 0, sizeof buf);
    memset(&none, 0, sizeof none);
    snprintf(buf.symptom, sizeof buf.symptom, "buffering");
    snprintf(buf.region, sizeof buf.region, "EU");
    buf_us = buf;
    snprintf(buf_us.region, sizeof buf_us.region, "US");
    tickets_clusters_init(&cs, 3, 10);
    T_EQ_INT(tickets_clusters_add(&cs, 0xF0F0F0F0F0F0F0F0ull, &buf, 1000, &id), 0);
    T_EQ_INT(id, 1);
    T_EQ_INT(tickets_clusters_add(&cs, 0xF0F0F0F0F0F0F0F7ull, &buf, 500, &id), 0); /* 3 bits */
    T_EQ_INT(id, 1);
    T_EQ_INT(cs.c[0].n, 2);
    T_EQ_INT(cs.c[0].first_ms, 500);
    T_EQ_INT(cs.c[0].last_ms, 1000);
    /* the same text from another region is another cluster */
    T_EQ_INT(tickets_clusters_add(&cs, 0xF0F0F0F0F0F0F0F0ull, &buf_us, 1000, &id), 0);
    T_EQ_INT(id, 2);
    /* without a symptom only near-identical text joins (threshold / 3 = 3 bits) */
    T_EQ_INT(tickets_clusters_add(&cs, 0xF0F0F0F0F0F0F00Full, &none, 1000, &id), 0);
    T_EQ_INT(id, 3);
    T_EQ_INT(tickets_clusters_add(&cs, 0x0F0F0F0F0F0F0F0Full, &buf, 1000, &id), OC_ETOOBIG);
    T_TRUE(tickets_cluster_get(&cs, 4) == NULL);
    T_EQ_INT(tickets_cluster_get(&cs, 2)->n, 1);
    tickets_clusters_free(&cs);
}

static void test_pair_scores(void)
{
    /* clusters {0,1,2} {3} ; labels a a b | a ; one noise ticket alone */
    int64_t cl[] = {1, 1, 1, 2, 3};
    int lab[] = {0, 0, 1, 0, -1};
    double p = 0, r = 0;
    tickets_pair_scores(cl, lab, 5, &p, &r);
    T_EQ_DBL(p, 1.0 / 3.0, 1e-9); /* pairs in clusters: 3, of which 1 same label */
    T_EQ_DBL(r, 1.0 / 3.0, 1e-9); /* pairs of label 0: 3, of which 1 clustered */
}

/* The labelled storm of docs/internals/tickets.md: 10,000 tickets, 20 % noise, seed 42,
 * threshold 24 (the default): precision at least 0.9 is the target. */
static void test_storm_precision(void)
{
    struct tickets_storm s;
    struct tickets_clusters cs;
    tickets_storm_make(10000, 20, 42, &s);
    int64_t *cl = calloc(s.n, sizeof *cl);
    tickets_clusters_init(&cs, s.n, 24);
    for (size_t i = 0; i < s.n; i++)
        T_EQ_INT(tickets_clusters_add(&cs, tickets_simhash(&s.t[i]), &s.t[i].tags,
                                      s.t[i].updated_ms, &cl[i]),
                 0);
    double p = 0, r = 0;
    tickets_pair_scores(cl, s.label, s.n, &p, &r);
    printf("storm: precision %.4f recall %.4f clusters %zu\n", p, r, cs.n);
    T_TRUE(p >= 0.9);
    T_EQ_DBL(p, 0.9709, 0.0001);
    T_EQ_DBL(r, 0.9241, 0.0001);
    tickets_clusters_free(&cs);
    tickets_storm_free(&s);
    free(cl);
}

/* The routing file and the pick: specificity, file order among equals, VIP, defaults. */
static void test_routing(void)
{
    static struct tickets_routing rt;
    static const int mins[TICKETS_NPRIO + 1] = {0, 15, 60, 240, 1440};
    struct tickets_tags g;
    struct tickets_route r;
    char err[300];
    const char *y = "# comment\n*/*/vip: vip-desk respond_min=10\n\n"
                    "player-tv/*/premium: tv-premium team=player\n"
                    "*/enterprise/*: ent  # trailing\nbilling/*/*: billing-desk\n*/*/free: self\n";
    rt.n = 0;
    T_EQ_INT(tickets_routing_parse("r.yaml", y, strlen(y), &rt, err, sizeof err), 0);
    T_EQ_INT(rt.n, 5);
    T_EQ_INT(rt.r[0].line, 2);
    T_EQ_INT(rt.r[1].line, 4);
    T_EQ_INT(rt.r[4].line, 7);
    T_EQ_STR(rt.r[1].team, "player");
    T_EQ_INT(rt.r[0].respond_min, 10);
    memset(&g, 0, sizeof g);
    snprintf(g.service, sizeof g.service, "player-tv");
    snprintf(g.tier, sizeof g.tier, "premium");
    g.vip = 1;
    tickets_route_pick(&rt, &g, "support", mins, &r);
    T_EQ_STR(r.queue, "tv-premium"); /* two parts beat the VIP rule's one */
    T_EQ_INT(r.prio, TICKETS_P_URGENT);
    T_EQ_INT(r.respond_min, 15);
    snprintf(g.service, sizeof g.service, "auth");
    tickets_route_pick(&rt, &g, "support", mins, &r);
    T_EQ_STR(r.queue, "vip-desk");
    T_EQ_INT(r.respond_min, 10);
    T_EQ_INT(r.rule, 0);
    g.vip = 0;
    snprintf(g.service, sizeof g.service, "billing");
    snprintf(g.tier, sizeof g.tier, "free");
    tickets_route_pick(&rt, &g, "support", mins, &r);
    T_EQ_STR(r.queue, "billing-desk"); /* first of two one-part rules */
    T_EQ_INT(r.prio, TICKETS_P_LOW);
    T_EQ_INT(r.respond_min, 1440);
    snprintf(g.service, sizeof g.service, "search");
    snprintf(g.tier, sizeof g.tier, "standard");
    tickets_route_pick(&rt, &g, "support", mins, &r);
    T_EQ_STR(r.queue, "support");
    T_EQ_INT(r.rule, -1);
    T_EQ_INT(r.prio, TICKETS_P_NORMAL);
    tickets_route_pick(NULL, &g, "general", mins, &r);
    T_EQ_STR(r.queue, "general");
    static const struct {
        const char *text, *err;
    } bad[] = {
        {"*/*: q\n", "r.yaml:1: */*: expected SERVICE/SEGMENT/TIER"},
        {"\n*/*/gold: q\n", "r.yaml:2: tier: vip, premium, standard, free or *"},
        {"*/small_biz/*: q\n", "r.yaml:1: segment: a lower-case name"},
        {"Player/*/*: q\n", "r.yaml:1: service: a catalog service's name"},
        {"*/*/*: q respond_min=0\n", "r.yaml:1: respond_min: minutes from 1 to 100000"},
        {"*/*/*: q owner=x\n", "r.yaml:1: owner=x: expected team=TEAM or respond_min=N"},
        {"*/*/*:\n", "r.yaml:1: no queue"},
        {"*/*/* q\n", "r.yaml:1: expected \"key: value\""},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        rt.n = 0;
        T_EQ_INT(
            tickets_routing_parse("r.yaml", bad[i].text, strlen(bad[i].text), &rt, err, sizeof err),
            OC_EINVAL);
        T_CONTAINS(err, bad[i].err);
    }
}

/* The SLA report's availability targets. */
static void test_sla_targets(void)
{
    double v[3];
    char err[300];
    T_EQ_INT(tickets_sla_targets_parse("", v, err, sizeof err), 0);
    T_EQ_DBL(v[0], 99.95, 1e-9);
    T_EQ_DBL(v[1], 99.9, 1e-9);
    T_EQ_DBL(v[2], 99.5, 1e-9);
    T_EQ_INT(tickets_sla_targets_parse("standard=99, premium = 99.99 ,", v, err, sizeof err), 0);
    T_EQ_DBL(v[0], 99.99, 1e-9);
    T_EQ_DBL(v[1], 99, 1e-9);
    T_EQ_DBL(v[2], 99.5, 1e-9);
    T_EQ_INT(tickets_sla_targets_parse("gold=99", v, err, sizeof err), OC_EINVAL);
    T_CONTAINS(err, "tickets.sla_targets: \"gold=99\": expected premium=PCT");
    T_EQ_INT(tickets_sla_targets_parse("premium=101", v, err, sizeof err), OC_EINVAL);
    T_EQ_INT(tickets_sla_targets_parse("premium=", v, err, sizeof err), OC_EINVAL);
    T_EQ_INT(tickets_sla_targets_parse("premium=9x", v, err, sizeof err), OC_EINVAL);
}

/* NPS and CSAT replies: one, a batch, and the refusals naming the field. */
static void test_feedback_parse(void)
{
    static struct tickets_feedback f[4];
    char err[300];
    int n = 0;
    const char *one = "{\"kind\":\"nps\",\"score\":3,\"segment\":\"Small Biz\",\"region\":\"eu\","
                      "\"tier\":\"Premium\",\"incident_id\":\"INC-7\",\"at\":1796558400}";
    T_EQ_INT(tickets_feedback_parse(one, strlen(one), f, 4, &n, err, sizeof err), 0);
    T_EQ_INT(n, 1);
    T_EQ_INT(f[0].kind, TICKETS_NPS);
    T_EQ_INT(f[0].score, 3);
    T_EQ_STR(f[0].segment, "smallbiz");
    T_EQ_STR(f[0].region, "EU");
    T_EQ_STR(f[0].tier, "premium");
    T_EQ_INT(f[0].incident_id, 7);
    T_EQ_INT(f[0].at_ms, 1796558400000LL);
    const char *batch = "{\"responses\":[{\"kind\":\"csat\",\"score\":5,\"id\":\"a\"},"
                        "{\"kind\":\"nps\",\"score\":10,\"at\":\"2026-12-06T12:00:00Z\"}]}";
    T_EQ_INT(tickets_feedback_parse(batch, strlen(batch), f, 4, &n, err, sizeof err), 0);
    T_EQ_INT(n, 2);
    T_EQ_STR(f[0].id, "a");
    T_EQ_INT(f[1].at_ms, 1796558400000LL);
    static const struct {
        const char *body, *err;
        int rc;
    } bad[] = {
        {"{\"score\":3}", "kind: nps or csat", OC_EINVAL},
        {"{\"kind\":\"csat\",\"score\":0}", "score: an integer from 1 to 5 (csat)", OC_EINVAL},
        {"{\"responses\":[{\"kind\":\"nps\",\"score\":1},{\"kind\":\"nps\",\"score\":\"9\"}]}",
         "responses[1].score: an integer from 0 to 10 (nps)", OC_EINVAL},
        {"{\"kind\":\"nps\",\"score\":1,\"tier\":\"gold\"}", "tier: premium, standard or free",
         OC_EINVAL},
        {"{\"kind\":\"nps\",\"score\":1,\"text\":7}", "text: a string", OC_EINVAL},
        {"{\"kind\":\"nps\",\"score\":1,\"at\":-5}", "at: an RFC 3339 time or unix seconds",
         OC_EINVAL},
        {"{\"kind\":\"nps\",\"score\":1,\"at\":\"1013-12-06T10:00:00Z\"}",
         "at: an RFC 3339 time or unix seconds", OC_EINVAL}, /* before 1970 (found by fuzzing) */
        {"{\"responses\":[1,2,3,4,5]}", "responses: at most 4 replies (got 5)", OC_ETOOBIG},
        {"{\"responses\":[]}", "responses: an array of 1 to 4 replies", OC_EINVAL},
        {"[1]", "the body is not a JSON object", OC_EMALFORMED},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        T_EQ_INT(
            tickets_feedback_parse(bad[i].body, strlen(bad[i].body), f, 4, &n, err, sizeof err),
            bad[i].rc);
        T_CONTAINS(err, bad[i].err);
        T_EQ_INT(n, 0);
    }
    double v = 0;
    T_EQ_INT(tickets_nps(4, 3, 8, &v), 0);
    T_EQ_DBL(v, 12.5, 1e-9);
    T_EQ_INT(tickets_nps(0, 0, 0, &v), -1);
}

static const struct t_case cases[] = {
    T_CASE(test_zendesk_valid),
    T_CASE(test_zendesk_tampered),
    T_CASE(test_zendesk_stale),
    T_CASE(test_zendesk_missing),
    T_CASE(test_parse_zendesk),
    T_CASE(test_parse_freshdesk_salesforce),
    T_CASE(test_parse_errors),
    T_CASE(test_mapping_file),
    T_CASE(test_tag),
    T_CASE(test_keywords_file),
    T_CASE(test_simhash),
    T_CASE(test_clusters),
    T_CASE(test_pair_scores),
    T_CASE(test_storm_precision),
    T_CASE(test_routing),
    T_CASE(test_sla_targets),
    T_CASE(test_feedback_parse),
    {0},
};

T_MAIN(cases)
