/*
 * test_cmcd.c - CMCD (src/ingest/cmcd.c) and CDN log lines (src/ingest/cdnlog.c): the three
 * CMCD forms (query, headers, event-mode body), the mapping onto beacon events, each log
 * format's fields and per-line reasons, and the fold into the cube (sessions joined on sid).
 */
#include "t.h"
#include "core/clock.h"
#include "core/err.h"
#include "ingest/cmcd.h"
#include "qoe/persist.h"

#include <stdatomic.h>
#include <string.h>

static char scratch[8192];
static size_t used;
static char why[160];

static int str_is(struct beacon_str s, const char *w)
{
    return s.p && s.n == strlen(w) && memcmp(s.p, w, s.n) == 0;
}

/* The query form of CTA-5004's example, with a key oncue skips (nor) holding an escape. */
static void test_query_v1(void)
{
    const char *url =
        "/v/seg1.m4s?x=1&CMCD=bl%3D21300%2Cbr%3D3200%2Cbs%2Ccid%3D%2221cf726cfe3d937b5f974f72bb5bd0"
        "6a%22%2Cd%3D4004%2Cdl%3D18500%2Cmtp%3D48100%2Cnor%3D%22..%252F300kbps%252Ftrack.m4v%22%2C"
        "ot%3Dv%2Cpr%3D1.08%2Crtp%3D12000%2Csf%3Dd%2Csid%3D%226e2fb550-c457-11e9-bb97-0800200c9a66"
        "%22%2Cst%3Dv%2Csu%2Ctb%3D6000&y=2";
    struct cmcd c = {0};
    used = 0;
    T_EQ_INT(cmcd_parse_query(url, strlen(url), &c, scratch, &used, why, sizeof why), 1);
    T_EQ_INT(c.bl, 21300);
    T_EQ_INT(c.br, 3200);
    T_EQ_INT(c.bs, 1);
    T_EQ_INT(c.su, 1);
    T_EQ_INT(c.d, 4004);
    T_EQ_INT(c.dl, 18500);
    T_EQ_INT(c.mtp, 48100);
    T_EQ_INT(c.rtp, 12000);
    T_EQ_INT(c.tb, 6000);
    T_EQ_DBL(c.pr, 1.08, 1e-9);
    T_TRUE(str_is(c.cid, "21cf726cfe3d937b5f974f72bb5bd06a"));
    T_TRUE(str_is(c.sid, "6e2fb550-c457-11e9-bb97-0800200c9a66"));
    T_TRUE(str_is(c.ot, "v") && str_is(c.st, "v") && str_is(c.sf, "d"));
    T_TRUE(!CMCD_HAS(&c, CMCD_MSD) && !CMCD_HAS(&c, CMCD_TS));
    /* no CMCD parameter */
    memset(&c, 0, sizeof c);
    T_EQ_INT(cmcd_parse_query("/a?b=1&CMCDX=2", 14, &c, scratch, &used, why, sizeof why), 0);
    T_EQ_INT(cmcd_parse_query("/a?CMCD=br%3", 12, &c, scratch, &used, why, sizeof why), -1);
    T_CONTAINS(why, "percent-escape");
}

/* The four headers of one request fill one payload. */
static void test_headers(void)
{
    const char *h[] = {"br=3200,d=4004,ot=v,tb=6000", "bl=21300,dl=18500,mtp=48100,su",
                       "cid=\"faec5fc2-ac30-11ea-bb37-0242ac130002\",sf=d,sid=\"6e2f\",st=l",
                       "bs,rtp=12000"};
    struct cmcd c = {0};
    used = 0;
    for (int i = 0; i < 4; i++)
        T_EQ_INT(cmcd_parse_dict(h[i], strlen(h[i]), &c, scratch, &used, why, sizeof why), 0);
    T_EQ_INT(c.br, 3200);
    T_EQ_INT(c.bl, 21300);
    T_EQ_INT(c.rtp, 12000);
    T_EQ_INT(c.bs, 1);
    T_TRUE(str_is(c.sid, "6e2f") && str_is(c.st, "l"));
    T_EQ_INT(used, 0); /* no escapes: every string is a slice of its header */
}

/* v2 keys, inner lists (first item kept), booleans as ?0/?1, escapes, skipped custom keys. */
static void test_dict_v2(void)
{
    const char *s = "br=(3000 1200),bs=?0,sta=p,e=t,ts=1767268800000,bsd=1200,ttfb=45,ltc=3200,"
                    "msd=850,v=2, com.example-x=\"a,b\";p=1,cdn=\"fastly\",sid=\"a\\\"b\\\\c\"";
    struct cmcd c = {0};
    used = 0;
    T_EQ_INT(cmcd_parse_dict(s, strlen(s), &c, scratch, &used, why, sizeof why), 0);
    T_EQ_INT(c.br, 3000);
    T_EQ_INT(c.bs, 0);
    T_TRUE(CMCD_HAS(&c, CMCD_BS));
    T_TRUE(str_is(c.sta, "p") && str_is(c.e, "t") && str_is(c.cdn, "fastly"));
    T_EQ_INT(c.ts, 1767268800000LL);
    T_EQ_INT(c.bsd, 1200);
    T_EQ_INT(c.ttfb, 45);
    T_EQ_INT(c.ltc, 3200);
    T_EQ_INT(c.msd, 850);
    T_EQ_INT(c.v, 2);
    T_TRUE(str_is(c.sid, "a\"b\\c"));
}

/* Each bad payload names its key. */
static void test_dict_errors(void)
{
    static const struct {
        const char *in, *why;
    } cases[] = {
        {"br=abc", "CMCD key 'br': 'abc' is not a non-negative integer"},
        {"br=-5", "CMCD key 'br': '-5' is not a non-negative integer"},
        {"br", "CMCD key 'br' needs a value"},
        {"bs=?2", "CMCD key 'bs': '?2' is not a boolean"},
        {"sid=\"abc", "CMCD key 'sid': an unterminated or invalid string"},
        {"sid=\"\"", "CMCD key 'sid': '' is not a string of 1 to 256 bytes"},
        {"br=1 d=2", "CMCD: ',' expected after key 'br'"},
        {",,", "CMCD: a key is expected"},
        {"pr=1.", "CMCD key 'pr': '1.' is not a decimal"},
        {"br=(3000", "CMCD key 'br': an inner list without ')'"},
        {"x=(1", "CMCD key 'x': an invalid value"},
        {"br=99999999999999999", "CMCD key 'br'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct cmcd c = {0};
        used = 0;
        why[0] = 0;
        T_EQ_INT(
            cmcd_parse_dict(cases[i].in, strlen(cases[i].in), &c, scratch, &used, why, sizeof why),
            -1);
        T_CONTAINS(why, cases[i].why);
    }
}

static struct beacon_event map(const char *dict, int64_t ts)
{
    struct cmcd c = {0};
    struct beacon_event ev;
    used = 0;
    T_EQ_INT(cmcd_parse_dict(dict, strlen(dict), &c, scratch, &used, why, sizeof why), 0);
    memset(&ev, 0, sizeof ev);
    ev.type = 0;
    int r = cmcd_to_event(&c, ts, &ev);
    if (r)
        ev.type = 0;
    return ev;
}

/* docs/contracts.md "CMCD and CDN logs": the mapping table, row by row. */
static void test_to_event(void)
{
    struct beacon_event e = map("sid=\"s1\",msd=850,cid=\"t1\",st=l", 1000);
    T_EQ_INT(e.type, BEACON_START);
    T_EQ_INT(e.outcome, BEACON_SUCCESS);
    T_EQ_INT(e.startup_ms, 850);
    T_TRUE(str_is(e.session, "s1") && str_is(e.dims[BEACON_TITLE], "t1"));
    T_TRUE(str_is(e.dims[BEACON_LIVE], "true"));
    T_EQ_INT(map("sid=\"s1\",sta=f,e=ps", 1).type, BEACON_ERROR);
    T_EQ_INT(map("sid=\"s1\",e=e,ec=(\"E1\")", 1).type, BEACON_ERROR);
    T_EQ_INT(map("sid=\"s1\",sta=q", 1).type, BEACON_END);
    T_EQ_INT(map("sid=\"s1\",sta=e", 1).type, BEACON_END);
    e = map("sid=\"s1\",ot=v,d=4000,br=3200,bsd=700,st=v", 5);
    T_EQ_INT(e.type, BEACON_HEARTBEAT);
    T_EQ_INT(e.ts_ms, 5);
    T_EQ_INT(e.playing_ms, 4000);
    T_EQ_DBL(e.bitrate_kbps, 3200, 0);
    T_EQ_INT(e.rebuffer_ms, 700);
    T_EQ_INT(e.stalled, 1);
    T_TRUE(str_is(e.dims[BEACON_LIVE], "false"));
    e = map("sid=\"s1\",ot=a,d=4000,br=128", 5); /* audio: no media time, no bitrate */
    T_EQ_INT(e.playing_ms, 0);
    T_EQ_DBL(e.bitrate_kbps, 0, 0);
    T_EQ_INT(e.stalled, 0);
    e = map("sid=\"s1\",d=2000,bs", 5); /* a stall without its duration */
    T_EQ_INT(e.playing_ms, 2000);
    T_EQ_INT(e.rebuffer_ms, 0);
    T_EQ_INT(e.stalled, 1);
    T_EQ_INT(map("sid=\"s1\",sta=r,e=ps", 5).stalled, 1);
    T_EQ_INT(map("br=1", 5).type, 0); /* no sid */
}

/* POST /v1/cmcd bodies: dictionary lines, JSON lines and a JSON array, reasons per report. */
static void test_event_body(void)
{
    struct cmcd_batch b;
    cmcd_batch_init(&b, 100);
    const char *body =
        "e=t,sta=p,sid=\"s1\",ts=1767268800000,br=3000,bsd=0\n"
        "\n"
        "{\"e\":\"ps\",\"sta\":\"s\",\"sid\":\"s2\",\"ts\":1767268801000,\"msd\":900,"
        "\"bs\":true}\n"
        "e=t,sid=\"s3\"\n"
        "e=t,sid=\"s3\",ts=1767268800\n"
        "e=t,ts=1767268800000\n"
        "e=t,br=x,sid=\"s4\",ts=1767268800000\n"
        "{\"sid\":\"s5\",\"ts\":1767268800000,\"br\":\"3000\"}\n"
        "{\"sid\":\"s5\"\n";
    struct cmcd_dims dims = {0};
    dims.d[BEACON_REGION] = (struct beacon_str){"emea", 4};
    T_EQ_INT(cmcd_parse_events(&b, body, strlen(body), &dims), 0);
    T_EQ_INT(b.nlines, 8);
    T_EQ_INT(b.nev, 2);
    T_EQ_INT(b.rejected, 6);
    T_EQ_INT(b.ev[0].type, BEACON_HEARTBEAT);
    T_TRUE(str_is(b.ev[0].dims[BEACON_REGION], "emea"));
    T_EQ_INT(b.ev[1].type, BEACON_START);
    T_EQ_INT(b.ev[1].startup_ms, 900);
    T_EQ_INT(b.ev_line[1], 1);
    T_EQ_INT(b.nerrors, 6);
    T_EQ_INT(b.errors[0].line, 3);
    T_EQ_STR(cmcd_reason_names[b.errors[0].reason], "missing_ts");
    T_EQ_STR(cmcd_reason_names[b.errors[1].reason], "bad_ts");
    T_CONTAINS(b.errors[1].detail, "1767268800 is not unix milliseconds");
    T_EQ_STR(cmcd_reason_names[b.errors[2].reason], "missing_sid");
    T_EQ_STR(cmcd_reason_names[b.errors[3].reason], "bad_cmcd");
    T_CONTAINS(b.errors[3].detail, "CMCD key 'br'");
    T_EQ_INT(b.errors[4].line, 7);
    T_CONTAINS(b.errors[4].detail, "CMCD key 'br': wrong JSON type");
    T_EQ_STR(cmcd_reason_names[b.errors[5].reason], "malformed");
    /* a JSON array */
    const char *arr = "[{\"sid\":\"a\",\"ts\":1767268800000,\"d\":4000},"
                      "{\"sid\":\"b\",\"ts\":1767268800000,\"e\":\"e\"}]";
    T_EQ_INT(cmcd_parse_events(&b, arr, strlen(arr), NULL), 0);
    T_EQ_INT(b.nlines, 2);
    T_EQ_INT(b.nev, 2);
    T_EQ_INT(b.ev[0].playing_ms, 4000);
    T_EQ_INT(b.ev[1].type, BEACON_ERROR);
    cmcd_batch_free(&b);
    /* the line cap */
    cmcd_batch_init(&b, 2);
    T_EQ_INT(cmcd_parse_events(&b, "a=1\nb=2\nc=3\n", 12, NULL), OC_ETOOBIG);
    cmcd_batch_free(&b);
}

static struct cmcd_dims cdn_dims(const char *cdn)
{
    struct cmcd_dims d = {0};
    d.d[BEACON_CDN] = (struct beacon_str){cdn, (uint32_t)strlen(cdn)};
    return d;
}

static void test_fastly(void)
{
    struct cmcd_batch b;
    struct cmcd_dims d = cdn_dims("fastly");
    const char *body =
        "{\"timestamp\":\"1767268800.250\",\"pop\":\"FRA\",\"status\":200,\"cache_status\":"
        "\"HIT-STALE\",\"ttfb_ms\":12,\"bytes\":1200000,\"asn\":3320,\"country\":\"DE\","
        "\"region\":\"emea\",\"url\":\"/v/seg1.m4s?CMCD=br%3D3200%2Cd%3D4000%2Cot%3Dv%2C"
        "sid%3D%22s1%22%2Ccid%3D%22t1%22\",\"tags\":{\"a\":[1,2]}}\n"
        "{\"time\":\"2026-01-01T12:00:01.5Z\",\"server_datacenter\":\"LHR\",\"status\":\"503\","
        "\"client_as_name\":\"vodafone-de\","
        "\"cache_status\":\"MISS\",\"time_to_first_byte\":0.25}\n"
        "{\"timestamp\":1767268802000,\"pop\":\"FRA\",\"status\":700}\n"
        "{\"pop\":\"FRA\"}\n"
        "{\"timestamp\":\"1767268800\",\"cmcd\":\"br=abc,sid=\\\"s2\\\"\"}\n"
        "not json\n"
        "{\"timestamp\":\"1767268800\",\"cmcd_request\":\"bl=100,bs\",\"cmcd_session\":"
        "\"sid=\\\"s3\\\"\",\"pop\":\"F\\u00c9\"}\n";
    cmcd_batch_init(&b, 100);
    T_EQ_INT(cdnlog_parse(&b, CDNLOG_FASTLY, NULL, body, strlen(body), &d), 0);
    T_EQ_INT(b.nlines, 7);
    T_EQ_INT(b.nedge, 2);
    T_EQ_INT(b.edge[0].ts_ms, 1767268800250LL);
    T_EQ_INT(b.edge[0].status, 200);
    T_EQ_INT(b.edge[0].cache, CDN_CACHE_HIT);
    T_EQ_INT(b.edge[0].ttfb_ms, 12);
    T_EQ_INT(b.edge[0].bytes, 1200000);
    T_TRUE(str_is(b.edge[0].pop, "FRA"));
    T_EQ_INT(b.edge[1].ts_ms, 1767268801500LL);
    T_EQ_INT(b.edge[1].status, 503);
    T_EQ_INT(b.edge[1].cache, CDN_CACHE_MISS);
    T_EQ_INT(b.edge[1].ttfb_ms, 250);
    T_EQ_INT(b.nev, 3); /* a player event (the first line has a sid), an edge event a line */
    T_EQ_INT(b.ev[0].type, BEACON_HEARTBEAT);
    T_EQ_INT(b.ev[1].type, BEACON_EDGE);
    T_EQ_INT(b.ev[1].edge_status, 200);
    T_EQ_INT(b.ev[1].edge_miss + b.ev[1].edge_origin, 0);
    T_EQ_INT(b.ev[1].edge_ttfb_ms, 12);
    T_TRUE(str_is(b.ev[1].dims[BEACON_TITLE], "t1")); /* the player's leaf */
    T_EQ_INT(b.ev[2].type, BEACON_EDGE);
    T_EQ_INT(b.ev[2].edge_status, 503);
    T_EQ_INT(b.ev[2].edge_miss, 1);
    T_EQ_INT(b.ev[2].edge_origin, 1);
    T_TRUE(str_is(b.ev[2].dims[BEACON_POP], "LHR") && str_is(b.ev[2].dims[BEACON_CDN], "fastly"));
    T_TRUE(str_is(b.ev[2].dims[BEACON_ISP], "vodafone-de"));
    T_EQ_INT(b.ev[0].playing_ms, 4000);
    T_TRUE(str_is(b.ev[0].session, "s1") && str_is(b.ev[0].dims[BEACON_TITLE], "t1"));
    T_TRUE(str_is(b.ev[0].dims[BEACON_CDN], "fastly") && str_is(b.ev[0].dims[BEACON_POP], "FRA"));
    T_TRUE(str_is(b.ev[0].dims[BEACON_ASN], "3320") && str_is(b.ev[0].dims[BEACON_REGION], "emea"));
    T_EQ_INT(b.nerrors, 5);
    T_EQ_INT(b.errors[0].line, 3);
    T_EQ_STR(b.errors[0].detail, "status: '700' is not an HTTP status (100-599)");
    T_EQ_STR(cmcd_reason_names[b.errors[1].reason], "missing_ts");
    T_EQ_STR(cmcd_reason_names[b.errors[2].reason], "bad_cmcd");
    T_CONTAINS(b.errors[2].detail, "CMCD key 'br'");
    T_EQ_STR(cmcd_reason_names[b.errors[3].reason], "malformed");
    T_EQ_INT(b.errors[4].line, 7);
    T_CONTAINS(b.errors[4].detail, "pop: ");
    T_CONTAINS(b.errors[4].detail, "printable ASCII");
    /* player_events=0: the same lines give the edge events only, the first still in the
     * player's leaf (its CMCD names the title) */
    d.edge_only = 1;
    T_EQ_INT(cdnlog_parse(&b, CDNLOG_FASTLY, NULL, body, strlen(body), &d), 0);
    T_EQ_INT(b.nedge, 2);
    T_EQ_INT(b.nev, 2);
    T_EQ_INT(b.ev[0].type, BEACON_EDGE);
    T_TRUE(str_is(b.ev[0].dims[BEACON_TITLE], "t1"));
    T_EQ_INT(b.ev[1].type, BEACON_EDGE);
    T_EQ_INT(b.ev[1].edge_status, 503);
    cmcd_batch_free(&b);
}

static void test_akamai(void)
{
    struct cmcd_batch b;
    struct cmcd_dims d = cdn_dims("akamai");
    const char *body =
        "{\"version\":1,\"cp\":\"123456\",\"reqTimeSec\":\"1767268800.123\",\"bytes\":\"4995\","
        "\"statusCode\":\"206\",\"cacheStatus\":\"0\",\"cacheable\":\"1\",\"timeToFirstByte\":"
        "\"31\",\"country\":\"DE\",\"asn\":\"3320\",\"edgeIP\":\"198.51.100.7\",\"queryStr\":"
        "\"CMCD=bs%2Cd%3D2000%2Csid%3D%22s9%22\"}\n"
        "{\"reqTimeSec\":\"1767268800\",\"statusCode\":\"200\",\"cacheStatus\":\"0\","
        "\"cacheable\":\"0\",\"pop\":\"FRA\",\"edgeIP\":\"198.51.100.7\",\"cmcd\":"
        "\"br=3200,sid=\\\"s8\\\",bsd=500\"}\n"
        "{\"reqTimeSec\":\"1767268800\",\"cacheStatus\":\"2\"}\n";
    cmcd_batch_init(&b, 100);
    T_EQ_INT(cdnlog_parse(&b, CDNLOG_AKAMAI, NULL, body, strlen(body), &d), 0);
    T_EQ_INT(b.nedge, 2);
    T_EQ_INT(b.edge[0].cache, CDN_CACHE_MISS);
    T_EQ_INT(b.edge[0].status, 206);
    T_EQ_INT(b.edge[0].ttfb_ms, 31);
    T_TRUE(str_is(b.edge[0].pop, "198.51.100.7")); /* no pop: edgeIP */
    T_EQ_INT(b.edge[1].cache, CDN_CACHE_PASS);
    T_TRUE(str_is(b.edge[1].pop, "FRA"));
    T_EQ_INT(b.nev, 4); /* player, edge, player, edge */
    T_EQ_INT(b.ev[0].stalled, 1);
    T_EQ_INT(b.ev[0].playing_ms, 2000);
    T_EQ_INT(b.ev[1].edge_miss, 1);
    T_EQ_INT(b.ev[2].rebuffer_ms, 500);
    T_TRUE(str_is(b.ev[2].dims[BEACON_CDN], "akamai"));
    T_EQ_INT(b.ev[3].edge_miss, 0);   /* not cacheable: a pass, */
    T_EQ_INT(b.ev[3].edge_origin, 1); /* ... pulled from the origin */
    T_EQ_INT(b.nerrors, 1);
    T_EQ_STR(b.errors[0].detail, "cacheStatus: '2' is not 0 or 1");
    cmcd_batch_free(&b);
}

static void test_cloudfront(void)
{
    struct cmcd_batch b;
    struct cmcd_dims d = cdn_dims("cloudfront");
    struct cdnlog_fields f;
    T_EQ_INT(cdnlog_fields_parse("timestamp,x-edge-location,sc-status,x-edge-result-type,"
                                 "time-to-first-byte,c-country,cmcd-session-id,"
                                 "cmcd-object-duration,cmcd-encoded-bitrate,"
                                 "cmcd-buffer-starvation,cmcd-stream-type",
                                 &f, why, sizeof why),
             0);
    T_EQ_INT(f.n, 11);
    const char *body = "#Version: 1.0\n"
                       "1767268800.551\tFRA56-P1\t200\tHit\t0.002\tDE\ts1\t4000\t3200\ttrue\tl\n"
                       "1767268801.000\tFRA56-P1\t502\tError\t0.300\tDE\t-\t-\t-\t-\t-\n"
                       "1767268801.000\tFRA56-P1\t200\n"
                       "1767268801.000\tFRA56-P1\t200\tMiss\t0.002\tDE\ts1\t4000\t3200\tmaybe\tl\n";
    cmcd_batch_init(&b, 100);
    T_EQ_INT(cdnlog_parse(&b, CDNLOG_CLOUDFRONT, &f, body, strlen(body), &d), 0);
    T_EQ_INT(b.nlines, 4);
    T_EQ_INT(b.nedge, 2);
    T_EQ_INT(b.edge[0].ts_ms, 1767268800551LL);
    T_EQ_INT(b.edge[0].cache, CDN_CACHE_HIT);
    T_EQ_INT(b.edge[0].ttfb_ms, 2);
    T_TRUE(str_is(b.edge[0].pop, "FRA56-P1"));
    T_EQ_INT(b.edge[1].status, 502);
    T_EQ_INT(b.edge[1].ttfb_ms, 300);
    T_EQ_INT(b.nev, 3);
    T_EQ_INT(b.ev[0].stalled, 1);
    T_EQ_INT(b.ev[2].edge_status, 502);
    T_EQ_INT(b.ev[2].edge_ttfb_ms, 300);
    T_TRUE(str_is(b.ev[0].dims[BEACON_LIVE], "true"));
    T_TRUE(str_is(b.ev[0].dims[BEACON_CDN], "cloudfront"));
    T_EQ_INT(b.nerrors, 2);
    T_EQ_STR(b.errors[0].detail, "3 columns where fields lists 11");
    T_CONTAINS(b.errors[1].detail, "CMCD key 'bs': 'maybe' is not a boolean");
    /* the default columns: AWS's reference order, 63 of them */
    T_EQ_INT(cdnlog_fields_parse(NULL, &f, why, sizeof why), 0);
    T_EQ_INT(f.n, 63);
    T_EQ_INT(cdnlog_fields_parse("timestamp,,sc-status", &f, why, sizeof why), OC_EINVAL);
    T_EQ_STR(why, "fields: an empty name at column 2");
    cmcd_batch_free(&b);
}

/* Player-side events fold into the cube under the beacon formulas; a log line and an event
 * report of the same sid are one session. */
static void test_fold_joins_sid(void)
{
    struct oc_clock clk;
    struct qoe_cube_opts o;
    qoe_cube_opts_default(&o);
    o.complete_after_s = o.allowed_lateness_s;
    oc_clock_init(&clk, OC_CLOCK_VIRTUAL, 1767268860000LL);
    struct qoe_cube *c = qoe_cube_new(&o, &clk);
    struct cmcd_batch b;
    struct cmcd_dims d = cdn_dims("fastly");
    _Atomic uint64_t rejected[CMCD_NREASONS] = {0};
    const char *logs =
        "{\"timestamp\":\"1767268800.1\",\"pop\":\"FRA\",\"url\":\"/s?CMCD=d%3D4000%2Cbr%3D3000"
        "%2Csid%3D%22s1%22\"}\n"
        "{\"timestamp\":\"1767268804.1\",\"pop\":\"FRA\",\"url\":\"/s?CMCD=d%3D4000%2Cbr%3D1000"
        "%2Cbs%2Csid%3D%22s1%22\"}\n"
        "{\"timestamp\":\"1767268804.1\",\"pop\":\"FRA\",\"url\":\"/s?CMCD=d%3D4000%2Cbr%3D1000"
        "%2Csid%3D%22s2%22\"}\n"
        "{\"timestamp\":\"1767200000\",\"pop\":\"FRA\",\"url\":\"/s?CMCD=d%3D1%2Csid%3D%22s2%22"
        "\"}\n";
    cmcd_batch_init(&b, 100);
    T_EQ_INT(cdnlog_parse(&b, CDNLOG_FASTLY, NULL, logs, strlen(logs), &d), 0);
    qoe_cube_tick(c);
    T_EQ_INT(cmcd_fold(c, &b, rejected), 6); /* three lines: a player and an edge event each */
    T_EQ_INT(rejected[CMCD_R_TOO_OLD], 1);   /* the fourth line: its minute had closed */
    const char *rep = "sid=\"s1\",e=ps,sta=s,msd=1200,ts=1767268805000\n";
    struct cmcd_dims d2 = cdn_dims("fastly");
    d2.d[BEACON_POP] = (struct beacon_str){"FRA", 3};
    T_EQ_INT(cmcd_parse_events(&b, rep, strlen(rep), &d2), 0);
    T_EQ_INT(cmcd_fold(c, &b, rejected), 1);
    qoe_cube_flush(c);
    const struct qoe_minute *m = qoe_cube_minute(c, 1767268800);
    T_TRUE(m != NULL);
    if (m) {
        T_EQ_INT(m->nrows, 1);
        struct qoe_row r;
        qoe_minute_row(m, 0, &r);
        T_EQ_INT(r.hb_sessions, 2); /* s1 twice, s2 once */
        T_EQ_INT(r.rb_sessions, 1); /* s1 reported bs */
        T_EQ_INT(r.playing_ms, 12000);
        T_EQ_DBL(r.bitrate_ms, 4000.0 * 3000 + 4000.0 * 1000 * 2, 1e-6);
        T_EQ_INT(r.starts, 1);
        T_EQ_INT(r.sk_n, 1);
        T_EQ_INT(r.edge_req, 3);
        T_EQ_INT(r.edge_ttfb_n, 0); /* the lines had no ttfb */
    }
    cmcd_batch_free(&b);
    qoe_cube_destroy(c);
}

/* A logged body folds again exactly the events the cube accepted the first time. */
static void test_batch_keep(void)
{
    struct cmcd_batch b;
    const char *body = "sid=\"a\",ts=1767268800000,d=1\nsid=\"b\",ts=1767268800000,d=2\n"
                       "sid=\"c\",ts=1767268800000,d=3\n";
    uint8_t bits[1] = {5}; /* the first and the third */
    cmcd_batch_init(&b, 10);
    T_EQ_INT(cmcd_parse_events(&b, body, strlen(body), NULL), 0);
    T_EQ_INT(cmcd_batch_keep(&b, bits, 2), OC_EINVAL);
    T_EQ_INT(cmcd_batch_keep(&b, bits, 3), 0);
    T_EQ_INT(b.nev, 2);
    T_EQ_INT(b.ev[1].playing_ms, 3);
    T_EQ_INT(b.ev_line[1], 2);
    cmcd_batch_free(&b);
}

/* The edge columns persist (blob flag BLOB_EDGE); a minute without them encodes byte for byte
 * as before, and a blob of the old format (pad 0) loads without edge columns. */
static void test_edge_blob(void)
{
    struct qoe_minute *m = qoe_minute_new(1767268800, 2, 0), *d;
    struct qoe_row r = {.leaf = 0, .starts = 1, .playing_ms = 7};
    size_t len, len0;
    qoe_minute_set(m, 0, &r);
    r = (struct qoe_row){.leaf = 1, .hb_sessions = 2};
    qoe_minute_set(m, 1, &r);
    void *old = minute_encode(m, &len0);
    T_EQ_INT(len0, 16 + m->mem_len); /* v1: header, columns, no sketch */
    T_EQ_INT(((const uint32_t *)old)[3], 0);
    d = minute_decode(1767268800, old, len0, 2);
    T_TRUE(d && !d->edge_req && d->playing_ms[0] == 7 && d->hb_sessions[1] == 2);
    qoe_minute_destroy(d);
    qoe_minute_edge_alloc(m);
    r = (struct qoe_row){.leaf = 1,
                         .hb_sessions = 2,
                         .edge_req = 9,
                         .edge_5xx = 2,
                         .edge_miss = 3,
                         .edge_origin = 4,
                         .edge_ttfb_n = 8,
                         .edge_ttfb_ms = 640};
    qoe_minute_set(m, 1, &r);
    void *blob = minute_encode(m, &len);
    T_EQ_INT(len, len0 + 2 * 28);
    T_EQ_INT(((const uint32_t *)blob)[3], 1);
    d = minute_decode(1767268800, blob, len, 2);
    T_TRUE(d && d->edge_req);
    if (d && d->edge_req) {
        qoe_minute_row(d, 1, &r);
        T_EQ_INT(r.edge_req, 9);
        T_EQ_INT(r.edge_5xx, 2);
        T_EQ_INT(r.edge_miss, 3);
        T_EQ_INT(r.edge_origin, 4);
        T_EQ_INT(r.edge_ttfb_n, 8);
        T_EQ_INT(r.edge_ttfb_ms, 640);
        T_EQ_INT(d->edge_req[0], 0);
    }
    qoe_minute_destroy(d);
    T_TRUE(minute_decode(1767268800, blob, len - 1, 2) == NULL); /* cut short */
    ((uint32_t *)blob)[3] = 3;                                   /* an unknown flag */
    T_TRUE(minute_decode(1767268800, blob, len, 2) == NULL);
    /* a rollup of the two keeps the sums */
    struct qoe_minute *ms[2] = {m, m};
    d = minute_merge(1767268800, 300, ms, 2);
    T_TRUE(d && d->edge_req && d->edge_req[1] == 18 && d->edge_ttfb_ms[1] == 1280);
    qoe_minute_destroy(d);
    free(old);
    free(blob);
    qoe_minute_destroy(m);
}

static const struct t_case cases[] = {
    T_CASE(test_query_v1),
    T_CASE(test_headers),
    T_CASE(test_dict_v2),
    T_CASE(test_dict_errors),
    T_CASE(test_to_event),
    T_CASE(test_event_body),
    T_CASE(test_fastly),
    T_CASE(test_akamai),
    T_CASE(test_cloudfront),
    T_CASE(test_fold_joins_sid),
    T_CASE(test_edge_blob),
    T_CASE(test_batch_keep),
    {0},
};

T_MAIN(cases)
