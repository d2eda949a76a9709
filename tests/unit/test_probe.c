/*
 * test_probe.c - the HLS playlist parser and the live checks of the prober (src/probe/):
 * errors named by line, caps, and each fault kind seen from two consecutive polls.
 */
#include "t.h"
#include "core/buf.h"
#include "core/err.h"
#include "probe/probe.h"
#include "probe/probe_int.h"

#include <unistd.h>

static const char *live6 = "#EXTM3U\n"
                           "#EXT-X-VERSION:3\n"
                           "#EXT-X-TARGETDURATION:2\n"
                           "#EXT-X-MEDIA-SEQUENCE:40\n"
                           "#EXT-X-DISCONTINUITY-SEQUENCE:3\n"
                           "#EXT-X-PROGRAM-DATE-TIME:2026-12-06T12:00:00.000Z\n"
                           "#EXTINF:2.000000,\n"
                           "seg40.ts\n"
                           "#EXTINF:2.000000,\n"
                           "seg41.ts\n"
                           "#EXT-X-DISCONTINUITY\n"
                           "#EXT-X-PROGRAM-DATE-TIME:2026-12-06T13:00:00.500+0100\n"
                           "#EXTINF:1.960000,\n"
                           "seg42.ts\n";

static int parse(const char *text, struct probe_hls *h, char *err)
{
    return probe_hls_parse(text, strlen(text), h, err, 200);
}

static void test_media_playlist(void)
{
    struct probe_hls h;
    char err[200] = "";
    T_EQ_INT(parse(live6, &h, err), 0);
    T_EQ_STR(err, "");
    T_EQ_INT(h.multivariant, 0);
    T_EQ_INT(h.target, 2);
    T_EQ_INT(h.media_sequence, 40);
    T_EQ_INT(h.disc_sequence, 3);
    T_EQ_INT(h.nsegs, 3);
    T_EQ_STR(h.segs[2].uri, "seg42.ts");
    T_EQ_INT(h.segs[2].msn, 42);
    T_EQ_INT(h.segs[2].disc, 1);
    T_EQ_INT(h.segs[1].disc, 0);
    T_EQ_DBL(h.segs[2].duration, 1.96, 1e-9);
    T_EQ_INT(h.segs[0].pdt_ms, 1796558400000LL);
    T_EQ_INT(h.segs[1].pdt_ms, 1796558402000LL);
    T_EQ_INT(h.segs[2].pdt_ms, 1796558400500LL);
    T_EQ_INT(h.endlist, 0);
    probe_hls_free(&h);
}

/* The generated live stream (bench, simulator) is the playlist the parser and checks expect:
 * byte for byte, and one poll after another advancing cleanly, then stale when it stops. */
static void test_live_write(void)
{
    struct oc_buf b, b2;
    struct probe_hls h;
    struct probe_hls_memo m = {0};
    struct probe_obs obs[PROBE_OBS_MAX];
    char err[200] = "";
    oc_buf_init(&b, 1 << 12);
    T_EQ_INT(probe_hls_live_write(&b, 41, 2, 2), 0);
    T_EQ_STR(b.data,
             "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n"
             "#EXT-X-MEDIA-SEQUENCE:41\n#EXTINF:2.000,\nseg_41.ts\n#EXTINF:2.000,\nseg_42.ts\n");
    T_EQ_INT(parse(b.data, &h, err), 0);
    T_EQ_INT(probe_hls_check(&m, &h, 1000, obs), 0);
    probe_hls_free(&h);
    oc_buf_init(&b2, 1 << 12);
    T_EQ_INT(probe_hls_live_write(&b2, 42, 2, 2), 0);
    T_EQ_INT(parse(b2.data, &h, err), 0);
    T_EQ_INT(probe_hls_check(&m, &h, 3000, obs), 0);
    probe_hls_free(&h);
    T_EQ_INT(parse(b2.data, &h, err), 0); /* the same playlist a poll later */
    T_EQ_INT(probe_hls_check(&m, &h, 6100, obs), 1);
    T_EQ_STR(obs[0].detail, "media sequence 43 has not advanced for 3.1 s (limit 3.0 s)");
    probe_hls_free(&h);
    probe_hls_memo_free(&m);
    oc_buf_free(&b2);
    oc_buf_free(&b);
    oc_buf_init(&b, 64); /* the buffer's cap */
    T_EQ_INT(probe_hls_live_write(&b, 1, 6, 2), OC_ETOOBIG);
    oc_buf_free(&b);
}

static void test_multivariant(void)
{
    struct probe_hls h;
    char err[200] = "";
    const char *t = "#EXTM3U\r\n#EXT-X-VERSION:7\r\n"
                    "#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"a\",NAME=\"en\",URI=\"audio/en.m3u8\"\r\n"
                    "#EXT-X-STREAM-INF:BANDWIDTH=985600,CODECS=\"avc1.64001e\"\r\n"
                    "v0/media.m3u8\r\n"
                    "#EXT-X-STREAM-INF:BANDWIDTH=400000\r\n"
                    "http://127.0.0.1:1/v1/media.m3u8\r\n";
    T_EQ_INT(parse(t, &h, err), 0);
    T_EQ_INT(h.multivariant, 1);
    T_EQ_INT(h.nvariants, 3);
    T_EQ_STR(h.variants[0], "audio/en.m3u8");
    T_EQ_STR(h.variants[1], "v0/media.m3u8");
    T_EQ_STR(h.variants[2], "http://127.0.0.1:1/v1/media.m3u8");
    probe_hls_free(&h);
}

/* Each malformed playlist and the exact error it gets. */
static void test_errors_name_the_line(void)
{
    static const struct {
        const char *text, *err;
        int rc;
    } cases[] = {
        {"", "line 1: empty: no #EXTM3U", OC_EINVAL},
        {"#EXTM4U\n", "line 1: not a playlist: no #EXTM3U", OC_EINVAL},
        {"#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2.0,\nseg1.ts",
         "line 4: the playlist ends mid-line (no final line feed)", OC_EINVAL},
        {"#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2.0,\nseg1.ts\n#EXTINF:2.0\n",
         "line 5: #EXTINF without a segment URI after it (truncated?)", OC_EINVAL},
        {"#EXTM3U\n#EXT-X-TARGETDURATION:x2\n",
         "line 2: #EXT-X-TARGETDURATION: not a decimal "
         "integer",
         OC_EINVAL},
        {"#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:-1,\nseg.ts\n",
         "line 3: #EXTINF: the duration is not a non-negative number", OC_EINVAL},
        {"#EXTM3U\n#EXT-X-TARGETDURATION:2\nseg.ts\n",
         "line 3: a URI without #EXTINF or #EXT-X-STREAM-INF before it", OC_EINVAL},
        {"#EXTM3U\n#EXTINF:2,\nseg.ts\n", "line 3: a media playlist without #EXT-X-TARGETDURATION",
         OC_EINVAL},
        {"#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\na.ts\n#EXT-X-MEDIA-SEQUENCE:4\n",
         "line 5: #EXT-X-MEDIA-SEQUENCE after the first segment", OC_EINVAL},
        {"#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\n",
         "line 2: #EXT-X-STREAM-INF without a URI after it (truncated?)", OC_EINVAL},
        {"#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\nv.m3u8\n#EXT-X-TARGETDURATION:2\n",
         "line 4: both multivariant and media playlist tags", OC_EINVAL},
        {"#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-PROGRAM-DATE-TIME:yesterday\n",
         "line 3: #EXT-X-PROGRAM-DATE-TIME: not an ISO 8601 date and time", OC_EINVAL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct probe_hls h;
        char err[200] = "";
        T_EQ_INT(parse(cases[i].text, &h, err), cases[i].rc);
        T_EQ_STR(err, cases[i].err);
        probe_hls_free(&h);
    }
}

static void test_caps(void)
{
    struct probe_hls h;
    char err[200] = "";
    size_t n = PROBE_HLS_MAX_LINE + 32;
    char *t = malloc(n + 16);
    memcpy(t, "#EXTM3U\n#", 9);
    memset(t + 9, 'x', n);
    memcpy(t + 9 + n, "\n", 2);
    T_EQ_INT(probe_hls_parse(t, strlen(t), &h, err, sizeof err), OC_ETOOBIG);
    T_EQ_STR(err, "line 2: line longer than 8192 bytes");
    probe_hls_free(&h);
    T_EQ_INT(probe_hls_parse(t, PROBE_HLS_MAX_BYTES + 1, &h, err, sizeof err), OC_ETOOBIG);
    T_EQ_STR(err, "line 1: larger than 4194304 bytes");
    probe_hls_free(&h);
    free(t);
    /* one segment past the cap */
    size_t cap = 64 + (size_t)(PROBE_HLS_MAX_SEGMENTS + 1) * 24;
    char *big = malloc(cap);
    size_t at = (size_t)snprintf(big, cap, "#EXTM3U\n#EXT-X-TARGETDURATION:2\n");
    for (int i = 0; i <= PROBE_HLS_MAX_SEGMENTS; i++)
        at += (size_t)snprintf(big + at, cap - at, "#EXTINF:2,\ns%d.ts\n", i);
    T_EQ_INT(probe_hls_parse(big, at, &h, err, sizeof err), OC_ETOOBIG);
    T_EQ_STR(err, "line 40004: more than 20000 segments");
    probe_hls_free(&h);
    free(big);
}

/* A live playlist: media sequence first, the segments seg<first>..seg<first+n-1>, each dur
 * seconds; disc_at > 0 puts a discontinuity before that sequence number. */
static void live(struct probe_hls *h, int64_t first, int n, int64_t disc_seq, int64_t disc_at,
                 double dur)
{
    char t[2048], err[200] = "";
    size_t at = (size_t)snprintf(t, sizeof t,
                                 "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:%lld\n"
                                 "#EXT-X-DISCONTINUITY-SEQUENCE:%lld\n",
                                 (long long)first, (long long)disc_seq);
    for (int64_t s = first; s < first + n; s++)
        at += (size_t)snprintf(t + at, sizeof t - at, "%s#EXTINF:%.3f,\nseg%lld.ts\n",
                               s == disc_at ? "#EXT-X-DISCONTINUITY\n" : "", dur, (long long)s);
    if (probe_hls_parse(t, at, h, err, sizeof err) != 0)
        T_FAIL_AT("fixture does not parse: %s", err);
}

static int check(struct probe_hls_memo *m, int64_t first, int n, int64_t disc_seq, int64_t disc_at,
                 double dur, int64_t now_ms, struct probe_obs *obs)
{
    struct probe_hls h;
    live(&h, first, n, disc_seq, disc_at, dur);
    int k = probe_hls_check(m, &h, now_ms, obs);
    probe_hls_free(&h);
    return k;
}

static void test_advancing_is_clean(void)
{
    struct probe_hls_memo m = {0};
    struct probe_obs obs[PROBE_OBS_MAX];
    T_EQ_INT(check(&m, 10, 6, 0, 0, 2.0, 1000, obs), 0);
    T_EQ_INT(check(&m, 10, 6, 0, 0, 2.0, 3900, obs), 0); /* 2.9 s: within 1.5 x 2 s */
    T_EQ_INT(check(&m, 11, 6, 0, 0, 2.0, 4000, obs), 0);
    T_EQ_INT(m.advanced_ms, 4000);
    probe_hls_memo_free(&m);
}

static void test_stale_after_one_and_a_half_targets(void)
{
    struct probe_hls_memo m = {0};
    struct probe_obs obs[PROBE_OBS_MAX];
    T_EQ_INT(check(&m, 10, 6, 0, 0, 2.0, 1000, obs), 0);
    T_EQ_INT(check(&m, 10, 6, 0, 0, 2.0, 4000, obs), 0); /* exactly 3 s: not yet */
    T_EQ_INT(check(&m, 10, 6, 0, 0, 2.0, 4100, obs), 1);
    T_EQ_INT(obs[0].kind, PROBE_STALE);
    T_EQ_STR(obs[0].detail, "media sequence 15 has not advanced for 3.1 s (limit 3.0 s)");
    T_EQ_STR(probe_kind_name(obs[0].kind), "stale");
    probe_hls_memo_free(&m);
}

static void test_went_back_shrank_changed(void)
{
    struct probe_hls_memo m = {0};
    struct probe_obs obs[PROBE_OBS_MAX];
    check(&m, 10, 6, 0, 0, 2.0, 1000, obs);
    T_EQ_INT(check(&m, 8, 6, 0, 0, 2.0, 2000, obs), 1);
    T_EQ_INT(obs[0].kind, PROBE_WENT_BACK);
    T_EQ_STR(obs[0].detail, "media sequence 8 after 10");
    T_EQ_INT(check(&m, 8, 5, 0, 0, 2.0, 2500, obs), 1);
    T_EQ_INT(obs[0].kind, PROBE_SHRANK);
    T_EQ_STR(obs[0].detail, "5 segments at media sequence 8, were 6");
    T_EQ_INT(check(&m, 8, 5, 0, 0, 1.5, 3000, obs), 1);
    T_EQ_INT(obs[0].kind, PROBE_CHANGED_SAME_SEQUENCE);
    T_EQ_STR(obs[0].detail, "segment 8 was seg8.ts (2.000 s), now seg8.ts (1.500 s)");
    probe_hls_memo_free(&m);
}

static void test_discontinuity_sequence(void)
{
    struct probe_hls_memo m = {0};
    struct probe_obs obs[PROBE_OBS_MAX];
    check(&m, 10, 6, 5, 11, 2.0, 1000, obs);              /* seg11 has a discontinuity */
    T_EQ_INT(check(&m, 11, 6, 5, 11, 2.0, 2000, obs), 0); /* seg10 left: no change */
    T_EQ_INT(check(&m, 12, 6, 5, 0, 2.0, 3000, obs), 1);  /* seg11 left: must be 6 */
    T_EQ_INT(obs[0].kind, PROBE_DISCONTINUITY_MISMATCH);
    T_EQ_STR(obs[0].detail, "discontinuity sequence 5 at media sequence 12, expected 6");
    probe_hls_memo_free(&m);
    check(&m, 10, 6, 5, 11, 2.0, 1000, obs);
    T_EQ_INT(check(&m, 12, 6, 6, 0, 2.0, 2000, obs), 0);
    probe_hls_memo_free(&m);
}

static void test_segment_too_long(void)
{
    struct probe_hls_memo m = {0};
    struct probe_obs obs[PROBE_OBS_MAX];
    T_EQ_INT(check(&m, 10, 3, 0, 0, 2.49, 1000, obs), 0); /* rounds to 2 */
    T_EQ_INT(check(&m, 11, 3, 0, 0, 2.5, 2000, obs), 2);  /* rounds to 3; seg11 changed too */
    T_EQ_INT(obs[1].kind, PROBE_SEGMENT_TOO_LONG);
    T_EQ_STR(obs[1].detail, "segment 11 lasts 2.500 s, target 2 s");
    probe_hls_memo_free(&m);
}

static void test_origins_agree(void)
{
    struct probe_hls a, b;
    struct probe_obs o;
    live(&a, 10, 6, 0, 0, 2.0);
    live(&b, 9, 6, 0, 0, 2.0);
    T_EQ_INT(probe_hls_agree(&a, "cdn-a", &b, "cdn-b", &o), 0); /* one behind: a poll's race */
    probe_hls_free(&b);
    live(&b, 7, 6, 0, 0, 2.0);
    T_EQ_INT(probe_hls_agree(&a, "cdn-a", &b, "cdn-b", &o), 1);
    T_EQ_INT(o.kind, PROBE_ORIGINS_DISAGREE);
    T_EQ_STR(o.detail, "cdn-b is 3 segments behind cdn-a (media sequence 12 vs 15)");
    probe_hls_free(&b);
    live(&b, 10, 6, 0, 0, 2.0);
    free(b.segs[3].uri);
    b.segs[3].uri = strdup("http://x/other13.ts?t=1");
    T_EQ_INT(probe_hls_agree(&a, "cdn-a", &b, "cdn-b", &o), 1);
    T_EQ_STR(o.detail, "segment 13 is seg13.ts on cdn-a, http://x/other13.ts?t=1 on cdn-b");
    free(b.segs[3].uri);
    b.segs[3].uri = strdup("http://x/live/seg13.ts?t=1");
    T_EQ_INT(probe_hls_agree(&a, "cdn-a", &b, "cdn-b", &o), 0);
    probe_hls_free(&a);
    probe_hls_free(&b);
}

/* A dynamic MPD: publishTime pub, one Representation whose timeline starts at t0 (timescale
 * 12800, 2 s segments, n of them, numbers from start). */
static void mpd(struct probe_dash *d, const char *pub, long long t0, int n, long long start)
{
    char t[4096], err[200] = "";
    int at =
        snprintf(t, sizeof t,
                 "<?xml version=\"1.0\"?>\n"
                 "<MPD xmlns=\"urn:mpeg:dash:schema:mpd:2011\" type=\"dynamic\"\n"
                 "  availabilityStartTime=\"2026-12-06T12:00:00Z\" publishTime=\"%s\"\n"
                 "  maxSegmentDuration=\"PT2.0S\">\n"
                 " <Period id=\"0\" start=\"PT0.0S\">\n"
                 "  <AdaptationSet id=\"0\">\n"
                 "   <Representation id=\"0\" bandwidth=\"200000\">\n"
                 "    <SegmentTemplate timescale=\"12800\" startNumber=\"%lld\"\n"
                 "      media=\"chunk-$RepresentationID$-$Number%%05d$.m4s\">\n"
                 "     <SegmentTimeline><S t=\"%lld\" d=\"25600\" r=\"%d\"/></SegmentTimeline>\n"
                 "    </SegmentTemplate>\n"
                 "   </Representation>\n"
                 "  </AdaptationSet>\n"
                 " </Period>\n"
                 "</MPD>\n",
                 pub, start, t0, n - 1);
    if (probe_dash_parse(t, (size_t)at, d, err, sizeof err) != 0)
        T_FAIL_AT("fixture does not parse: %s", err);
}

static void test_dash_parse(void)
{
    struct probe_dash d;
    char url[256];
    mpd(&d, "2026-12-06T12:00:20Z", 25600 * 4, 6, 5);
    T_EQ_INT(d.dynamic, 1);
    T_EQ_INT(d.publish_ms, 1796558420000LL);
    T_EQ_INT(d.ast_ms, 1796558400000LL);
    T_EQ_DBL(d.max_seg_s, 2.0, 1e-9);
    T_EQ_INT(d.ntl, 1);
    T_EQ_STR(d.tl[0].key, "0/0/0");
    T_EQ_INT(d.tl[0].n, 6);
    T_EQ_INT(d.tl[0].t[5], 25600 * 9);
    T_EQ_INT(d.tl[0].timescale, 12800);
    T_EQ_STR(d.tl[0].gap, "");
    T_EQ_INT(probe_dash_segment_url(&d.tl[0], 5, url, sizeof url), 0);
    T_EQ_STR(url, "chunk-0-00010.m4s");
    snprintf(d.tl[0].media, sizeof d.tl[0].media, "v/$Time$_$Bandwidth$$$.mp4");
    T_EQ_INT(probe_dash_segment_url(&d.tl[0], 0, url, sizeof url), 0);
    T_EQ_STR(url, "v/102400_200000$.mp4");
    snprintf(d.tl[0].media, sizeof d.tl[0].media, "v/$Number%%d$.mp4");
    T_EQ_INT(probe_dash_segment_url(&d.tl[0], 0, url, sizeof url), -1);
    probe_dash_free(&d);
}

static void test_dash_errors(void)
{
    static const struct {
        const char *text, *err;
    } cases[] = {
        {"<MPD type=\"dynamic\">\n<Period>\n<AdaptationSet>", "line 3: no element found"},
        {"<?xml version=\"1.0\"?>\n<html/>", "line 2: not an MPD: the root is <html>"},
        {"<MPD publishTime=\"soon\"/>", "line 1: MPD@publishTime: not an ISO 8601 date and time"},
        {"<!DOCTYPE MPD [<!ENTITY a \"b\">]>\n<MPD/>", "line 1: a DOCTYPE (DTDs are not read)"},
        {"<MPD><Period><AdaptationSet><Representation id=\"1\"><SegmentTemplate>\n"
         "<SegmentTimeline><S d=\"1\"/></SegmentTimeline></SegmentTemplate></Representation>"
         "</AdaptationSet></Period></MPD>",
         "line 2: S: d must be a positive integer and the first S needs t"},
        {"", "line 1: no element found"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct probe_dash d;
        char err[200] = "";
        T_EQ_INT(probe_dash_parse(cases[i].text, strlen(cases[i].text), &d, err, sizeof err),
                 OC_EINVAL);
        T_EQ_STR(err, cases[i].err);
        probe_dash_free(&d);
    }
}

static void test_dash_checks(void)
{
    struct probe_dash_memo m = {0};
    struct probe_dash d;
    struct probe_obs obs[PROBE_OBS_MAX];
    /* now: 12:00:20, the newest segment (5 of 2 s from t=4 segments) ends at 20 s */
    int64_t now = 1796558420000LL;
    mpd(&d, "2026-12-06T12:00:20Z", 25600 * 4, 6, 5);
    T_EQ_INT(probe_dash_check(&m, &d, now, obs), 0);
    mpd(&d, "2026-12-06T12:00:22Z", 25600 * 5, 6, 6);
    T_EQ_INT(probe_dash_check(&m, &d, now + 2000, obs), 0);
    /* the same MPD for 3.5 s: the timeline and publishTime are stale (limit 3 s) */
    mpd(&d, "2026-12-06T12:00:22Z", 25600 * 5, 6, 6);
    T_EQ_INT(probe_dash_check(&m, &d, now + 5500, obs), 2);
    T_EQ_INT(obs[0].kind, PROBE_STALE);
    T_EQ_STR(obs[0].detail, "no timeline has grown for 3.5 s (limit 3.0 s)");
    T_EQ_INT(obs[1].kind, PROBE_PUBLISH_TIME_STALE);
    T_EQ_STR(obs[1].detail, "publishTime has not advanced for 3.5 s (limit 3.0 s)");
    /* publishTime back, and a timeline ending 6 s ahead of the clock */
    mpd(&d, "2026-12-06T12:00:21Z", 25600 * 10, 6, 11);
    T_EQ_INT(probe_dash_check(&m, &d, now + 6000, obs), 3);
    T_EQ_INT(obs[0].kind, PROBE_AVAILABILITY_SKEW);
    T_EQ_STR(obs[0].detail, "representation 0: the newest segment is available only in 6.0 s "
                            "(availabilityStartTime + timeline)");
    T_EQ_STR(probe_kind_name(obs[1].kind), "went_back");
    T_EQ_STR(obs[1].detail, "publishTime went back by 1.000 s");
    T_EQ_STR(probe_kind_name(obs[2].kind), "publish_time_stale"); /* 22 s was 4 s ago */
    probe_dash_memo_free(&m);
}

static void test_dash_gap_and_agree(void)
{
    struct probe_dash d, a, b;
    char err[200] = "";
    struct probe_obs o;
    const char *t = "<MPD><Period><AdaptationSet><Representation id=\"v\"><SegmentTemplate "
                    "timescale=\"1000\"><SegmentTimeline><S t=\"0\" d=\"2000\" r=\"1\"/>"
                    "<S t=\"4500\" d=\"2000\"/></SegmentTimeline></SegmentTemplate>"
                    "</Representation></AdaptationSet></Period></MPD>";
    T_EQ_INT(probe_dash_parse(t, strlen(t), &d, err, sizeof err), 0);
    T_EQ_INT(d.tl[0].n, 3);
    T_EQ_STR(d.tl[0].gap, "representation v: a segment starts at 4500, the one before ends at "
                          "4000 (gap)");
    probe_dash_free(&d);
    mpd(&a, "2026-12-06T12:00:20Z", 25600 * 4, 6, 5);
    mpd(&b, "2026-12-06T12:00:20Z", 25600 * 3, 6, 4);
    T_EQ_INT(probe_dash_agree(&a, "cdn-a", &b, "cdn-b", &o), 0);
    probe_dash_free(&b);
    mpd(&b, "2026-12-06T12:00:20Z", 25600 * 2, 6, 3);
    T_EQ_INT(probe_dash_agree(&a, "cdn-a", &b, "cdn-b", &o), 1);
    T_EQ_STR(o.detail, "cdn-b is 4.0 s behind cdn-a (representation 0 ends at 16.000 s vs "
                       "20.000 s)");
    probe_dash_free(&a);
    probe_dash_free(&b);
}

static void test_spec(void)
{
    static const struct {
        const char *json, *err;
    } bad[] = {
        {"{\"name\":\"a b\",\"url\":\"http://x/a.m3u8\"}", "name: 1 to 63 of A-Z a-z 0-9 . _ -"},
        {"{\"name\":\"a\",\"url\":\"ftp://x/a.m3u8\"}",
         "a: the URL of pathway default must be http:// or https://, without spaces, under 2048 "
         "bytes"},
        {"{\"name\":\"a\"}", "a: give either url or urls {pathway: url}"},
        {"{\"name\":\"a\",\"kind\":\"smooth\",\"url\":\"http://x/a\"}",
         "a: kind \"smooth\": hls or dash"},
        {"{\"name\":\"a\",\"poll_s\":0.1,\"url\":\"http://x/a\"}",
         "a: poll_s must be a number of seconds from 0.5 to 3600"},
        {"{\"name\":\"a\",\"uri\":\"http://x/a\"}",
         "unknown field \"uri\" (fields: name, kind, service, poll_s, url, urls)"},
        {"{\"name\":\"a\",\"urls\":{\"1\":\"http://x/1\",\"2\":\"http://x/2\",\"3\":\"http://x/3\","
         "\"4\":\"http://x/4\",\"5\":\"http://x/5\"}}",
         "a: more than 4 pathways"},
    };
    struct probe_spec sp;
    char err[256];
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        json_t *o = json_loads(bad[i].json, 0, NULL);
        T_EQ_INT(probe_spec_from_json(o, &sp, err, sizeof err), OC_EINVAL);
        T_EQ_STR(err, bad[i].err);
        json_decref(o);
    }
    json_t *o =
        json_loads("{\"name\":\"news\",\"kind\":\"dash\",\"service\":\"packager\",\"poll_s\":1.5,"
                   "\"urls\":{\"cdn-a\":\"http://a/x.mpd\",\"cdn-b\":\"https://b/x.mpd\"}}",
                   0, NULL);
    T_EQ_INT(probe_spec_from_json(o, &sp, err, sizeof err), 0);
    json_decref(o);
    T_EQ_STR(sp.kind, "dash");
    T_EQ_INT(sp.poll_ms, 1500);
    T_EQ_INT(sp.npaths, 2);
    T_EQ_STR(sp.path_name[1], "cdn-b");
    T_EQ_STR(sp.url[1], "https://b/x.mpd");
    T_EQ_STR(sp.service, "packager");
}

static void test_file(void)
{
    char path[] = "/tmp/oncue-probe-XXXXXX";
    int fd = mkstemp(path);
    const char *yaml = "- name: live\n  kind: hls\n  poll_s: 2\n  urls:\n"
                       "    cdn-a: http://127.0.0.1:1/a.m3u8\n- name: two\n"
                       "  url: http://127.0.0.1:1/b.m3u8\n";
    T_EQ_INT(write(fd, yaml, strlen(yaml)), (long long)strlen(yaml));
    close(fd);
    json_t *list = NULL;
    char err[256] = "";
    struct probe_spec sp;
    T_EQ_INT(probe_file_load(path, &list, err, sizeof err), 0);
    T_EQ_INT(json_array_size(list), 2);
    T_EQ_INT(probe_spec_from_json(json_array_get(list, 0), &sp, err, sizeof err), 0);
    T_EQ_INT(sp.poll_ms, 2000);
    T_EQ_STR(sp.path_name[0], "cdn-a");
    T_EQ_INT(probe_spec_from_json(json_array_get(list, 1), &sp, err, sizeof err), 0);
    T_EQ_STR(sp.path_name[0], "default");
    json_decref(list);
    FILE *f = fopen(path, "w");
    fputs("name: not a list\n", f);
    fclose(f);
    T_EQ_INT(probe_file_load(path, &list, err, sizeof err), OC_EINVAL);
    T_TRUE(strstr(err, ": must be a list of streams") != NULL);
    unlink(path);
}

static const struct t_case cases[] = {
    T_CASE(test_spec),
    T_CASE(test_file),
    T_CASE(test_dash_parse),
    T_CASE(test_dash_errors),
    T_CASE(test_dash_checks),
    T_CASE(test_dash_gap_and_agree),
    T_CASE(test_media_playlist),
    T_CASE(test_live_write),
    T_CASE(test_multivariant),
    T_CASE(test_errors_name_the_line),
    T_CASE(test_caps),
    T_CASE(test_advancing_is_clean),
    T_CASE(test_stale_after_one_and_a_half_targets),
    T_CASE(test_went_back_shrank_changed),
    T_CASE(test_discontinuity_sequence),
    T_CASE(test_segment_too_long),
    T_CASE(test_origins_agree),
    {0},
};

T_MAIN(cases)
