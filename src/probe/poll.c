/*
 * poll.c - the probe thread: one libcurl multi handle drives every fetch of every stream (no
 * thread per stream). Each poll fetches each pathway's playlist; a multivariant playlist
 * leads to its media playlists; each media playlist is checked against its previous poll
 * (checks.c) and its newest segments are fetched once. Observations raise findings at once
 * (probe.failed); a finding not observed for probe.recovery_polls whole polls recovers
 * (probe.recovered). Findings are stored and published after the mutex is let go.
 */
#include "probe/probe_int.h"
#include "probe/sql.h"
#include "core/alloc.h"
#include "core/bus.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/lock.h"
#include "core/log.h"
#include "core/netguard.h"
#include "core/topics.h"
#include "store/store.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

enum job_kind { JOB_TOP, JOB_MEDIA, JOB_SEG };

/* One fetch in flight. Owned by the probe thread. */
struct job {
    struct probe_stream *s; /* kept alive by s->inflight */
    enum job_kind kind;
    int path, media; /* indexes into s->paths and its media */
    int64_t msn;     /* JOB_SEG: the segment's media sequence number */
    int64_t poll;    /* the stream's poll that started it */
    CURL *easy;
    struct oc_buf body; /* playlists; segments are only counted */
    size_t seg_bytes;
    char url[PROBE_URL_MAX];
    char refused[200]; /* why the guard refused to connect */
    const struct oc_netguard *guard;
    char curl_err[CURL_ERROR_SIZE];
    struct job *prev, *next; /* the list of fetches in flight (ps->jobs) */
};

/* Observations and transitions gathered under the mutex, published after it. */
struct outbox {
    json_t *events; /* [{topic, payload}] */
};

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
    struct job *j = arg;
    size_t len = size * n;
    if (j->kind == JOB_SEG) {
        j->seg_bytes += len;
        return j->seg_bytes > PROBE_SEG_MAX_BYTES ? 0 : len;
    }
    return oc_buf_append(&j->body, p, len) == 0 ? len : 0;
}

/* The socket opener: the address connected to must pass probe.outbound_allow's guard. */
static curl_socket_t open_guarded(void *arg, curlsocktype purpose, struct curl_sockaddr *addr)
{
    struct job *j = arg;
    char text[INET6_ADDRSTRLEN] = "?";
    (void)purpose;
    const char *why = oc_netguard_refuses(j->guard, &addr->addr);
    if (why) {
        const void *a = addr->family == AF_INET6
                            ? (const void *)&((struct sockaddr_in6 *)(void *)&addr->addr)->sin6_addr
                            : (const void *)&((struct sockaddr_in *)(void *)&addr->addr)->sin_addr;
        inet_ntop(addr->family, a, text, sizeof(text));
        snprintf(j->refused, sizeof(j->refused),
                 "refused to connect to %s: a %s address (list it in probe.outbound_allow)", text,
                 why);
        return CURL_SOCKET_BAD;
    }
    return socket(addr->family, addr->socktype, addr->protocol);
}

/* Starts a fetch of url for stream s; call under ps->mu. */
static void start(struct probe_state *ps, struct probe_stream *s, enum job_kind kind, int path,
                  int media, int64_t msn, const char *url)
{
    struct job *j = oc_calloc(1, sizeof(*j));
    j->s = s;
    j->kind = kind;
    j->path = path;
    j->media = media;
    j->msn = msn;
    j->poll = s->poll;
    j->guard = &ps->guard;
    snprintf(j->url, sizeof j->url, "%s", url);
    oc_buf_init(&j->body, PROBE_HLS_MAX_BYTES);
    CURL *c = j->easy = curl_easy_init();
    if (!c)
        oc_oom(sizeof(*j));
    curl_easy_setopt(c, CURLOPT_URL, j->url);
    curl_easy_setopt(c, CURLOPT_PRIVATE, j);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, j);
    curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, open_guarded);
    curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, j);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, j->curl_err);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)ps->o.timeout_ms);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)ps->o.timeout_ms);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, 3L);
    curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(c, CURLOPT_USERAGENT, "oncue-probe");
    curl_multi_add_handle(ps->multi, c);
    j->next = ps->jobs;
    if (j->next)
        j->next->prev = j;
    ps->jobs = j;
    s->inflight++;
    ps->requests++;
}

/* The absolute URL of ref against base (out, n bytes); 0 or -1. */
static int resolve(const char *base, const char *ref, char *out, size_t n)
{
    CURLU *u = curl_url();
    char *full = NULL;
    int rc = -1;
    if (u && curl_url_set(u, CURLUPART_URL, base, 0) == CURLUE_OK &&
        curl_url_set(u, CURLUPART_URL, ref, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_URL, &full, 0) == CURLUE_OK && strlen(full) < n) {
        snprintf(out, n, "%s", full);
        rc = 0;
    }
    curl_free(full);
    curl_url_cleanup(u);
    return rc;
}

/* Records an observation of kind on s; publishes probe.failed when it was not active. */
static void observe(struct probe_state *ps, struct outbox *ob, struct probe_stream *s,
                    enum probe_kind kind, const char *pathway, const char *detail, int64_t now)
{
    struct probe_finding *f = &s->f[kind];
    char said[512], shown[sizeof f->detail];
    f->seen_poll = s->poll;
    f->seen_ms = now;
    /* a fetched URL's query string or path token (a signed URL's credential) is never kept */
    snprintf(said, sizeof said, "%s: %s", pathway, detail);
    oc_text_cut_urls(said, 0, f->detail, sizeof f->detail);
    if (f->active)
        return;
    f->active = 1;
    f->since_ms = now;
    oc_text_cut_urls(said, 1, shown, sizeof shown);
    json_t *p = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I}", "stream", s->spec.name,
                          "service", s->spec.service, "kind", probe_kind_name(kind), "pathway",
                          pathway, "detail", shown, "detail_kept", f->detail, "at",
                          (json_int_t)(now / 1000), "at_ms", (json_int_t)now);
    json_array_append_new(ob->events,
                          json_pack("{s:s, s:o}", "topic", OC_TOPIC_PROBE_FAILED, "payload", p));
    (void)ps;
}

/* At the start of a poll: findings not observed for probe.recovery_polls whole polls
 * recover. */
static void recover(struct probe_state *ps, struct outbox *ob, struct probe_stream *s, int64_t now)
{
    for (int k = 0; k < PROBE_NKINDS; k++) {
        struct probe_finding *f = &s->f[k];
        if (!f->active || (s->poll - 1) - f->seen_poll < ps->o.recovery_polls)
            continue;
        char shown[sizeof f->detail];
        f->active = 0;
        oc_text_cut_urls(f->detail, 1, shown, sizeof shown);
        json_t *p =
            json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:I}", "stream", s->spec.name, "service",
                      s->spec.service, "kind", probe_kind_name((enum probe_kind)k), "detail", shown,
                      "detail_kept", f->detail, "at", (json_int_t)(now / 1000), "at_ms",
                      (json_int_t)now, "since", (json_int_t)(f->since_ms / 1000));
        json_array_append_new(
            ob->events, json_pack("{s:s, s:o}", "topic", OC_TOPIC_PROBE_RECOVERED, "payload", p));
    }
}

/* Fetches the newest probe.segments segments not yet fetched whole. */
static void fetch_segments(struct probe_state *ps, struct probe_stream *s, int path, int mi)
{
    struct probe_media *m = &s->paths[path].media[mi];
    const struct probe_hls *h = &m->memo.last;
    char url[PROBE_URL_MAX];
    int from = h->nsegs - (int)ps->o.segments;
    for (int i = from < 0 ? 0 : from; i < h->nsegs; i++) {
        if (h->segs[i].msn <= m->seg_ok_msn)
            continue;
        if (resolve(m->url, h->segs[i].uri, url, sizeof url) == 0)
            start(ps, s, JOB_SEG, path, mi, h->segs[i].msn, url);
    }
}

/* A media playlist arrived and parsed: the checks, the measurements, the segments. */
static void on_media(struct probe_state *ps, struct outbox *ob, struct job *j, struct probe_hls *h,
                     int64_t now)
{
    struct probe_stream *s = j->s;
    struct probe_path *p = &s->paths[j->path];
    struct probe_media *m = &p->media[j->media];
    struct probe_obs obs[PROBE_OBS_MAX];
    const char *pw = s->spec.path_name[j->path];
    int n = probe_hls_check(&m->memo, h, now, obs);
    for (int i = 0; i < n; i++)
        observe(ps, ob, s, obs[i].kind, pw, obs[i].detail, now);
    m->ok_poll = j->poll;
    const struct probe_hls *last = &m->memo.last;
    if (j->media == 0) {
        p->age_s = (double)(now - m->memo.advanced_ms) / 1000.0;
        p->latency_s = -1;
        if (last->nsegs && last->segs[last->nsegs - 1].pdt_ms) {
            const struct probe_hls_seg *sg = &last->segs[last->nsegs - 1];
            p->latency_s = (double)(now - sg->pdt_ms) / 1000.0 - sg->duration;
        }
    }
    fetch_segments(ps, s, j->path, j->media);
}

/* A multivariant playlist: follows its first PROBE_MAX_MEDIA variants and renditions. */
static void on_multivariant(struct probe_state *ps, struct job *j, const struct probe_hls *h)
{
    struct probe_path *p = &j->s->paths[j->path];
    char url[PROBE_URL_MAX];
    int n = 0;
    for (int i = 0; i < h->nvariants && n < PROBE_MAX_MEDIA; i++) {
        if (resolve(j->url, h->variants[i], url, sizeof url) != 0)
            continue;
        struct probe_media *m = &p->media[n];
        if (n >= p->nmedia || strcmp(m->url, url) != 0) {
            if (n < p->nmedia)
                probe_hls_memo_free(&m->memo);
            memset(m, 0, sizeof(*m));
            m->seg_ok_msn = -1;
            snprintf(m->url, sizeof m->url, "%s", url);
        }
        n++;
    }
    for (int i = n; i < p->nmedia; i++)
        probe_hls_memo_free(&p->media[i].memo);
    p->nmedia = n;
    for (int i = 0; i < n; i++)
        start(ps, j->s, JOB_MEDIA, j->path, i, 0, p->media[i].url);
}

/* An MPD arrived and parsed: the checks, the measurements, the newest segments of each
 * timeline. */
static void on_dash(struct probe_state *ps, struct outbox *ob, struct job *j, struct probe_dash *d,
                    int64_t now)
{
    struct probe_stream *s = j->s;
    struct probe_path *p = &s->paths[j->path];
    struct probe_obs obs[PROBE_OBS_MAX];
    char rel[PROBE_URL_MAX], url[PROBE_URL_MAX];
    int n = probe_dash_check(&p->dash, d, now, obs);
    for (int i = 0; i < n; i++)
        observe(ps, ob, s, obs[i].kind, s->spec.path_name[j->path], obs[i].detail, now);
    p->dash_ok_poll = j->poll;
    p->up = 1;
    p->age_s = (double)(now - p->dash.advanced_ms) / 1000.0;
    p->latency_s = -1;
    const struct probe_dash *last = &p->dash.last;
    for (int t = 0; t < last->ntl; t++) {
        const struct probe_dash_tl *tl = &last->tl[t];
        if (t == 0 && last->dynamic && last->ast_ms && tl->n)
            p->latency_s =
                (double)(now - last->ast_ms - tl->period_start_ms) / 1000.0 -
                (double)(tl->t[tl->n - 1] + tl->d[tl->n - 1] - tl->pto) / (double)tl->timescale;
        int complete = tl->n - tl->incomplete; /* the newest may still be written */
        int from = complete - (int)ps->o.segments;
        for (int i = from < 0 ? 0 : from; i < complete; i++) {
            if (p->dash_seg_ok[t] && tl->t[i] <= p->dash_seg_ok[t] - 1)
                continue;
            if (probe_dash_segment_url(tl, i, rel, sizeof rel) == 0 &&
                resolve(j->url, rel, url, sizeof url) == 0)
                start(ps, s, JOB_SEG, j->path, t, tl->t[i], url);
        }
    }
}

/* A playlist fetch ended: status, parse, then multivariant or media. */
static void on_playlist(struct probe_state *ps, struct outbox *ob, struct job *j, CURLcode cc,
                        long status, int64_t now)
{
    struct probe_stream *s = j->s;
    struct probe_path *p = &s->paths[j->path];
    const char *pw = s->spec.path_name[j->path];
    char detail[PROBE_URL_MAX + 400], err[160] = "";
    struct probe_hls h;
    curl_off_t ttfb = 0;
    p->up = 0;
    if (cc != CURLE_OK) {
        snprintf(detail, sizeof detail, "%s: %s", j->url,
                 j->refused[0]    ? j->refused
                 : j->curl_err[0] ? j->curl_err
                                  : curl_easy_strerror(cc));
        observe(ps, ob, s, PROBE_UNREACHABLE, pw, detail, now);
        return;
    }
    if (curl_easy_getinfo(j->easy, CURLINFO_STARTTRANSFER_TIME_T, &ttfb) == CURLE_OK)
        p->ttfb_s = (double)ttfb / 1e6;
    if (status != 200) {
        snprintf(detail, sizeof detail, "%ld from %s", status, j->url);
        observe(ps, ob, s, PROBE_HTTP_STATUS, pw, detail, now);
        return;
    }
    if (!strcmp(s->spec.kind, "dash")) {
        struct probe_dash d;
        if (probe_dash_parse(j->body.data ? j->body.data : "", j->body.len, &d, err, sizeof err)) {
            snprintf(detail, sizeof detail, "%s: %s", j->url, err);
            observe(ps, ob, s, PROBE_PARSE_ERROR, pw, detail, now);
        } else {
            on_dash(ps, ob, j, &d, now);
        }
        probe_dash_free(&d);
        return;
    }
    if (probe_hls_parse(j->body.data ? j->body.data : "", j->body.len, &h, err, sizeof err)) {
        snprintf(detail, sizeof detail, "%s: %s", j->url, err);
        observe(ps, ob, s, PROBE_PARSE_ERROR, pw, detail, now);
    } else if (h.multivariant && j->kind == JOB_TOP) {
        on_multivariant(ps, j, &h);
        p->up = 1;
    } else if (h.multivariant) {
        snprintf(detail, sizeof detail, "%s: a multivariant playlist where a media one belongs",
                 j->url);
        observe(ps, ob, s, PROBE_PARSE_ERROR, pw, detail, now);
    } else {
        if (j->kind == JOB_TOP) { /* the URL is the media playlist itself */
            if (p->nmedia != 1 || strcmp(p->media[0].url, j->url) != 0) {
                for (int i = 0; i < p->nmedia; i++)
                    probe_hls_memo_free(&p->media[i].memo);
                memset(&p->media[0], 0, sizeof(p->media[0]));
                p->media[0].seg_ok_msn = -1;
                snprintf(p->media[0].url, sizeof p->media[0].url, "%s", j->url);
                p->nmedia = 1;
            }
            j->media = 0;
        }
        on_media(ps, ob, j, &h, now);
        p->up = 1;
    }
    probe_hls_free(&h);
}

/* A segment fetch ended: 200 records time to first byte and throughput; else missing. */
static void on_segment(struct probe_state *ps, struct outbox *ob, struct job *j, CURLcode cc,
                       long status, int64_t now)
{
    struct probe_stream *s = j->s;
    struct probe_path *p = &s->paths[j->path];
    struct probe_media *m = &p->media[j->media];
    char detail[PROBE_URL_MAX + 400];
    curl_off_t ttfb = 0, total = 0;
    int dash = !strcmp(s->spec.kind, "dash");
    if (!dash && (j->media >= p->nmedia || strcmp(m->url, "") == 0))
        return;
    if (cc == CURLE_OK && status == 200) {
        if (dash && j->msn + 1 > p->dash_seg_ok[j->media])
            p->dash_seg_ok[j->media] = j->msn + 1; /* 0 means none */
        else if (!dash && j->msn > m->seg_ok_msn)
            m->seg_ok_msn = j->msn;
        curl_easy_getinfo(j->easy, CURLINFO_STARTTRANSFER_TIME_T, &ttfb);
        curl_easy_getinfo(j->easy, CURLINFO_TOTAL_TIME_T, &total);
        p->seg_ttfb_s = (double)ttfb / 1e6;
        p->seg_bps = total > 0 ? (double)j->seg_bytes / ((double)total / 1e6) : 0;
        return;
    }
    if (cc != CURLE_OK)
        snprintf(detail, sizeof detail, "segment %lld (%s): %s", (long long)j->msn, j->url,
                 j->refused[0] ? j->refused : curl_easy_strerror(cc));
    else
        snprintf(detail, sizeof detail, "segment %lld answered %ld (%s)", (long long)j->msn, status,
                 j->url);
    observe(ps, ob, s, PROBE_SEGMENT_MISSING, s->spec.path_name[j->path], detail, now);
}

/* After a poll's last fetch: do the pathways agree (each first media playlist against the
 * first pathway's, when both parsed in this poll)? */
static void agree(struct probe_state *ps, struct outbox *ob, struct probe_stream *s, int64_t now)
{
    struct probe_obs o;
    const struct probe_path *a = &s->paths[0];
    if (!strcmp(s->spec.kind, "dash")) {
        for (int i = 1; i < s->spec.npaths && a->dash_ok_poll == s->poll; i++)
            if (s->paths[i].dash_ok_poll == s->poll &&
                probe_dash_agree(&a->dash.last, s->spec.path_name[0], &s->paths[i].dash.last,
                                 s->spec.path_name[i], &o))
                observe(ps, ob, s, o.kind, s->spec.path_name[i], o.detail, now);
        return;
    }
    if (s->spec.npaths < 2 || a->nmedia == 0 || a->media[0].ok_poll != s->poll)
        return;
    for (int i = 1; i < s->spec.npaths; i++) {
        const struct probe_path *b = &s->paths[i];
        if (b->nmedia == 0 || b->media[0].ok_poll != s->poll)
            continue;
        if (probe_hls_agree(&a->media[0].memo.last, s->spec.path_name[0], &b->media[0].memo.last,
                            s->spec.path_name[i], &o))
            observe(ps, ob, s, o.kind, s->spec.path_name[i], o.detail, now);
    }
}

/* Ends a fetch and frees it. */
static void drop(struct probe_state *ps, struct job *j)
{
    if (j->prev)
        j->prev->next = j->next;
    else
        ps->jobs = j->next;
    if (j->next)
        j->next->prev = j->prev;
    curl_multi_remove_handle(ps->multi, j->easy);
    curl_easy_cleanup(j->easy);
    oc_buf_free(&j->body);
    free(j);
}

static void finish(struct probe_state *ps, struct outbox *ob, CURLMsg *msg, int64_t now)
{
    struct job *j = NULL;
    long status = 0;
    curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&j);
    curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &status);
    CURLcode cc = msg->data.result;
    struct probe_stream *s = j->s;
    if (cc != CURLE_OK || status != 200)
        ps->failures++;
    if (!s->deleted && j->poll == s->poll) {
        if (j->kind == JOB_SEG)
            on_segment(ps, ob, j, cc, status, now);
        else
            on_playlist(ps, ob, j, cc, status, now);
    }
    drop(ps, j);
    if (--s->inflight == 0 && !s->deleted)
        agree(ps, ob, s, now);
}

/* Takes a stream's new pathways (the steering policy changed) between two polls: a pathway
 * kept at the same URL keeps its state, a new one starts afresh, a removed one is freed (a
 * finding only it caused recovers once the polls stop seeing it). Caller holds ps->mu. */
static void take_paths(struct probe_stream *s)
{
    struct probe_path *old = oc_malloc(sizeof s->paths);
    int used[PROBE_MAX_PATHS] = {0};
    memcpy(old, s->paths, sizeof s->paths);
    for (int i = 0; i < PROBE_MAX_PATHS; i++) {
        int from = -1;
        for (int j = 0; i < s->next->npaths && j < s->spec.npaths && from < 0; j++)
            if (!used[j] && !strcmp(s->next->path_name[i], s->spec.path_name[j]) &&
                !strcmp(s->next->url[i], s->spec.url[j]))
                from = j;
        if (from >= 0) {
            s->paths[i] = old[from];
            used[from] = 1;
        } else {
            memset(&s->paths[i], 0, sizeof(s->paths[i]));
            s->paths[i].latency_s = -1;
        }
    }
    for (int j = 0; j < PROBE_MAX_PATHS; j++)
        if (!used[j])
            probe_path_clear(&old[j]);
    free(old);
    s->spec = *s->next;
    free(s->next);
    s->next = NULL;
}

/* Starts the polls that are due and frees deleted streams nothing refers to; returns the
 * milliseconds until the next poll is due (at most 1000). */
static int start_due(struct probe_state *ps, struct outbox *ob, int64_t now)
{
    int64_t wait = 1000;
    for (int i = 0; i < ps->nstreams; i++) {
        struct probe_stream *s = ps->streams[i];
        if (s->deleted) {
            if (s->inflight == 0) {
                probe_stream_clear(s);
                free(s->next);
                free(s);
                ps->streams[i--] = ps->streams[--ps->nstreams];
            }
            continue;
        }
        if (s->next && s->inflight == 0)
            take_paths(s);
        if (s->inflight == 0 && now >= s->next_ms) {
            int64_t period = s->spec.poll_ms ? s->spec.poll_ms : ps->o.poll_s * 1000;
            s->poll++;
            s->polls_total++;
            s->next_ms = (now - s->next_ms < period ? s->next_ms : now) + period;
            recover(ps, ob, s, now);
            for (int p = 0; p < s->spec.npaths; p++)
                start(ps, s, JOB_TOP, p, 0, 0, s->spec.url[p]);
        }
        if (s->inflight == 0 && s->next_ms - now < wait)
            wait = s->next_ms - now;
    }
    return wait < 1 ? 1 : (int)wait;
}

/* Stores each finding transition and publishes it; runs holding no lock. */
static void publish(struct probe_state *ps, struct outbox *ob)
{
    size_t i;
    json_t *e;
    struct store_stmt *st;
    json_array_foreach(ob->events, i, e)
    {
        const char *topic = json_string_value(json_object_get(e, "topic"));
        json_t *p = json_object_get(e, "payload");
        if (ps->app->store) {
            store_lock(ps->app->store);
            if (store_prepare(ps->app->store, PROBE_SQL_FINDING_INSERT, &st) == 0) {
                STORE_BIND(
                    st, STORE_TEXT(json_string_value(json_object_get(p, "stream"))),
                    STORE_TEXT(json_string_value(json_object_get(p, "kind"))),
                    STORE_TEXT(strcmp(topic, OC_TOPIC_PROBE_FAILED) ? "recovered" : "failed"),
                    STORE_TEXT(json_string_value(json_object_get(p, "detail_kept"))),
                    STORE_INT(json_integer_value(json_object_get(p, "at_ms"))));
                if (store_step(st) != STORE_DONE)
                    oc_log(OC_LOG_WARN, "probe: cannot store a finding: %s",
                           store_errmsg(ps->app->store));
                store_reset(st);
            }
            if (++ps->written % PROBE_TRIM_EVERY == 0 &&
                store_prepare(ps->app->store, PROBE_SQL_FINDING_TRIM, &st) == 0) {
                STORE_BIND(st, STORE_INT(PROBE_FINDINGS_KEEP));
                store_step(st);
                store_reset(st);
            }
            store_unlock(ps->app->store);
        }
        oc_log(OC_LOG_INFO, "probe: %s %s %s: %s", topic,
               json_string_value(json_object_get(p, "stream")),
               json_string_value(json_object_get(p, "kind")),
               json_string_value(json_object_get(p, "detail_kept")));
        json_object_del(p, "at_ms");
        json_object_del(p, "detail_kept"); /* the bus carries detail, URLs cut after the host */
        oc_bus_publish(ps->app->bus, topic, p);
    }
    if (json_array_size(ob->events))
        oc_bus_drain(ps->app->bus);
    json_array_clear(ob->events);
}

static void *engine_main(void *arg)
{
    struct probe_state *ps = arg;
    struct outbox ob = {.events = json_array()};
    int wait = 10, running;
    CURLMsg *msg;
    for (;;) {
        curl_multi_poll(ps->multi, NULL, 0, wait, NULL);
        curl_multi_perform(ps->multi, &running);
        int64_t now = oc_clock_now_ms(ps->app->clock);
        oc_lock(&ps->mu);
        if (ps->stop) {
            oc_unlock(&ps->mu);
            break;
        }
        while ((msg = curl_multi_info_read(ps->multi, &running)) != NULL)
            if (msg->msg == CURLMSG_DONE)
                finish(ps, &ob, msg, now);
        wait = start_due(ps, &ob, now);
        oc_unlock(&ps->mu);
        publish(ps, &ob);
        curl_multi_perform(ps->multi, &running);
    }
    json_decref(ob.events);
    return NULL;
}

int probe_engine_start(struct probe_state *ps)
{
    ps->multi = curl_multi_init();
    if (!ps->multi)
        return OC_EIO;
    /* many streams share a CDN host: their fetches queue for at most 64 connections to it */
    curl_multi_setopt(ps->multi, CURLMOPT_MAX_HOST_CONNECTIONS, 64L);
    if (pthread_create(&ps->thread, NULL, engine_main, ps) != 0)
        return OC_EIO;
    ps->thread_started = 1;
    return 0;
}

void probe_engine_stop(struct probe_state *ps)
{
    if (ps->thread_started) {
        oc_lock(&ps->mu);
        ps->stop = 1;
        oc_unlock(&ps->mu);
        curl_multi_wakeup(ps->multi);
        pthread_join(ps->thread, NULL);
        ps->thread_started = 0;
    }
    if (!ps->multi)
        return;
    while (ps->jobs) { /* fetches still in flight */
        struct job *j = ps->jobs;
        j->s->inflight--;
        drop(ps, j);
    }
    curl_multi_cleanup(ps->multi);
    ps->multi = NULL;
}
