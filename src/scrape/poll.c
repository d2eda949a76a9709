/*
 * poll.c - the scrape thread: one libcurl multi handle drives the scrape of every target (no
 * thread per target). Each interval a target's URL is fetched (scrape.timeout_ms, at most
 * scrape.max_bytes); a body that reads whole replaces the target's series (kept up to
 * scrape.max_series, with the last value of each of the last 60 minutes), then the target's
 * rules are evaluated. A scrape that fails (no answer, not 200, too large, not exposition
 * text) leaves the series as they were; scrape.down_after of them in a row make the target
 * down. Rule and down transitions are published (scrape.failed / scrape.recovered) after the
 * mutex is let go.
 */
#include "scrape/scrape_int.h"
#include "core/alloc.h"
#include "core/bus.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/lock.h"
#include "core/log.h"
#include "core/netguard.h"
#include "core/topics.h"

#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

/* One scrape in flight. Owned by the scrape thread. */
struct scrape_job {
    struct scrape_target *t; /* kept alive by t->inflight */
    CURL *easy;
    struct oc_buf body;
    int too_big;
    int64_t started_ms;
    char refused[200];
    const struct oc_netguard *guard;
    char curl_err[CURL_ERROR_SIZE];
    struct curl_slist *hdrs;
    struct scrape_job *prev, *next;
};

/* ---- series ---------------------------------------------------------------------------- */

static uint32_t fnv(const char *s, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h;
}

static void series_free(struct scrape_series *s)
{
    for (int i = 0; i < 2 * s->nl; i++)
        free(s->labels[i]);
    free(s->labels);
    free(s->key);
    free(s->name);
    free(s);
}

void scrape_series_clear(struct scrape_target *t)
{
    for (uint32_t b = 0; b < t->nbuckets; b++)
        for (struct scrape_series *s = t->buckets[b], *n; s; s = n) {
            n = s->next;
            series_free(s);
        }
    free(t->buckets);
    t->buckets = NULL;
    t->nbuckets = 0;
    t->nseries = 0;
}

struct ingest {
    struct scrape_state *ss;
    struct scrape_target *t;
    int64_t now;
    uint64_t seen;
    struct oc_buf key;
    int samples;
};

static void key_escaped(struct oc_buf *b, const char *v)
{
    for (; *v; v++) {
        if (*v == '"' || *v == '\\')
            oc_buf_append(b, "\\", 1);
        if (*v == '\n')
            oc_buf_append(b, "\\n", 2);
        else
            oc_buf_append(b, v, 1);
    }
}

static int validate(void *arg, const struct scrape_sample *s)
{
    (void)s;
    ++*(int *)arg;
    return 0;
}

static int on_sample(void *arg, const struct scrape_sample *smp)
{
    struct ingest *in = arg;
    struct scrape_target *t = in->t;
    int order[SCRAPE_MAX_LABELS];
    in->samples++;
    for (int i = 0; i < smp->nlabels; i++) { /* insertion sort by label name */
        int j = i;
        while (j > 0 && strcmp(smp->label_name[order[j - 1]], smp->label_name[i]) > 0) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = i;
    }
    oc_buf_reset(&in->key);
    oc_buf_append(&in->key, smp->name, strlen(smp->name));
    if (smp->nlabels) {
        oc_buf_append(&in->key, "{", 1);
        for (int i = 0; i < smp->nlabels; i++) {
            oc_buf_printf(&in->key, "%s%s=\"", i ? "," : "", smp->label_name[order[i]]);
            key_escaped(&in->key, smp->label_value[order[i]]);
            oc_buf_append(&in->key, "\"", 1);
        }
        oc_buf_append(&in->key, "}", 1);
    }
    const char *key = in->key.data;
    uint32_t h = fnv(key, in->key.len);
    struct scrape_series *s = t->buckets[h & (t->nbuckets - 1)];
    while (s && (s->hash != h || strcmp(s->key, key) != 0))
        s = s->next;
    if (!s) {
        if (t->nseries >= in->ss->o.max_series) {
            t->dropped++;
            return 0;
        }
        s = oc_calloc(1, sizeof(*s));
        s->hash = h;
        s->key = oc_strdup(key);
        s->name = oc_strdup(smp->name);
        s->nl = smp->nlabels;
        s->labels = oc_calloc((size_t)(2 * smp->nlabels + 1), sizeof(char *));
        for (int i = 0; i < smp->nlabels; i++) {
            s->labels[2 * i] = oc_strdup(smp->label_name[order[i]]);
            s->labels[2 * i + 1] = oc_strdup(smp->label_value[order[i]]);
        }
        s->next = t->buckets[h & (t->nbuckets - 1)];
        t->buckets[h & (t->nbuckets - 1)] = s;
        t->nseries++;
    }
    if (s->seen != in->seen) { /* a name given twice in one body keeps the last value */
        s->prev_v = s->v;
        s->prev_ms = s->at_ms;
        s->prev_seen = s->seen;
    }
    s->v = smp->value;
    s->at_ms = in->now;
    s->seen = in->seen;
    s->type = smp->type;
    int64_t minute = in->now / 60000;
    s->minute[minute % SCRAPE_MINUTES] = (int32_t)minute;
    s->mv[minute % SCRAPE_MINUTES] = smp->value;
    return 0;
}

int scrape_ingest(struct scrape_state *ss, struct scrape_target *t, const char *body, size_t n,
                  int om, int64_t now_ms, char *err, size_t errlen)
{
    int count = 0;
    int rc = scrape_expo_parse(body, n, om, validate, &count, err, errlen);
    if (rc)
        return rc; /* a body that does not read whole changes nothing */
    if (!t->buckets) {
        uint32_t nb = 64;
        while (nb < (uint64_t)ss->o.max_series && nb < (1u << 20))
            nb <<= 1;
        t->buckets = oc_calloc(nb, sizeof(*t->buckets));
        t->nbuckets = nb;
    }
    struct ingest in = {.ss = ss, .t = t, .now = now_ms, .seen = t->ok + 1};
    oc_buf_init(&in.key, 1u << 20);
    scrape_expo_parse(body, n, om, on_sample, &in, err, errlen);
    oc_buf_free(&in.key);
    t->ok++;
    t->samples = in.samples;
    for (uint32_t b = 0; b < t->nbuckets; b++) /* series absent for a while go */
        for (struct scrape_series **pp = &t->buckets[b]; *pp;) {
            struct scrape_series *s = *pp;
            if (s->seen + SCRAPE_GC_SCRAPES < t->ok) {
                *pp = s->next;
                series_free(s);
                t->nseries--;
            } else {
                pp = &s->next;
            }
        }
    return 0;
}

/* ---- rules ----------------------------------------------------------------------------- */

/* The rule's value over the series named metric that pass the matchers m[0..nm), read by
 * the last scrape; NaN when none has one. */
static double value_of(const struct scrape_target *t, const struct scrape_rule *r,
                       const char *metric, const struct scrape_match *m, int nm)
{
    double acc = NAN;
    int n = 0;
    for (uint32_t b = 0; b < t->nbuckets; b++)
        for (const struct scrape_series *s = t->buckets[b]; s; s = s->next) {
            if (s->seen != t->ok || strcmp(s->name, metric) != 0)
                continue;
            if (!scrape_matches(m, nm, s->nl, s->labels))
                continue;
            double x = s->v;
            if (r->rate) {
                if (!s->prev_seen || s->prev_seen + 1 != s->seen || s->at_ms <= s->prev_ms)
                    continue; /* no two scrapes in a row yet */
                double inc = s->v >= s->prev_v ? s->v - s->prev_v : s->v; /* a reset */
                x = inc / ((double)(s->at_ms - s->prev_ms) / 1000.0);
            }
            if (isnan(x))
                continue;
            if (n++ == 0)
                acc = x;
            else if (r->agg == AGG_MAX)
                acc = x > acc ? x : acc;
            else if (r->agg == AGG_MIN)
                acc = x < acc ? x : acc;
            else
                acc += x;
        }
    if (n && r->agg == AGG_AVG)
        acc /= n;
    return acc;
}

static int holds(const struct scrape_rule *r, double v)
{
    if (isnan(v))
        return 0;
    switch (r->op) {
    case OP_GT:
        return v > r->threshold;
    case OP_GE:
        return v >= r->threshold;
    case OP_LT:
        return v < r->threshold;
    default:
        return v <= r->threshold;
    }
}

static json_t *num_json(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

/* What a finding's detail shows on the bus (alerts, incidents, the console, the status page,
 * all seen by non-admins) and in the log: the target's URL cut after its host for "down",
 * whose detail quotes it; a rule's detail names no URL and is kept as it is. */
static const char *shown_detail(const char *rule, const char *detail, char *out, size_t n)
{
    if (strcmp(rule, "down") != 0)
        return detail;
    oc_text_cut_urls(detail, 1, out, n);
    return out;
}

static void emit_failed(struct scrape_target *t, const char *rule, const char *metric, int page,
                        const char *op, double value, double threshold,
                        const struct scrape_rstate *st, int64_t now, json_t *out)
{
    char shown[sizeof st->detail];
    json_t *p = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I}", "target", t->spec.name,
                          "service", t->spec.service, "rule", rule, "metric", metric, "level",
                          page ? "page" : "notify", "op", op, "detail",
                          shown_detail(rule, st->detail, shown, sizeof shown), "at",
                          (json_int_t)(now / 1000), "at_ms", (json_int_t)now);
    json_object_set_new(p, "value", num_json(value));
    json_object_set_new(p, "threshold", num_json(threshold));
    json_array_append_new(out,
                          json_pack("{s:s, s:o}", "topic", OC_TOPIC_SCRAPE_FAILED, "payload", p));
}

static void emit_recovered(struct scrape_target *t, const char *rule, const char *metric,
                           const struct scrape_rstate *st, int64_t now, json_t *out)
{
    char shown[sizeof st->detail];
    json_t *p = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:I}", "target", t->spec.name,
                          "service", t->spec.service, "rule", rule, "metric", metric, "detail",
                          shown_detail(rule, st->detail, shown, sizeof shown), "since",
                          (json_int_t)(st->since_ms / 1000), "at", (json_int_t)(now / 1000),
                          "at_ms", (json_int_t)now);
    json_array_append_new(
        out, json_pack("{s:s, s:o}", "topic", OC_TOPIC_SCRAPE_RECOVERED, "payload", p));
}

void scrape_eval(struct scrape_state *ss, struct scrape_target *t, int64_t now, json_t *out)
{
    (void)ss;
    t->fails = 0;
    if (t->down.active) {
        t->down.active = 0;
        char said[sizeof t->down.detail];
        snprintf(said, sizeof said, "%.300s answers again", t->spec.url);
        oc_text_cut_urls(said, 0, t->down.detail, sizeof t->down.detail);
        emit_recovered(t, "down", "up", &t->down, now, out);
    }
    for (int i = 0; i < t->spec.nrules; i++) {
        const struct scrape_rule *r = &t->spec.rules[i];
        struct scrape_rstate *st = &t->rs[i];
        double v = value_of(t, r, r->metric, r->match, r->nmatch);
        if (r->per[0]) {
            double d = value_of(t, r, r->per, r->per_match, r->per_nmatch);
            v = isnan(v) || isnan(d) || d == 0 ? NAN : v / d;
        }
        st->value = v;
        if (isnan(v))
            continue; /* no value (no series, no two scrapes, nothing to divide by): no change */
        if (holds(r, v)) {
            st->clear_ms = 0;
            if (!st->hold_ms)
                st->hold_ms = now;
            if (!st->active && now - st->hold_ms >= r->for_ms) {
                st->active = 1;
                st->since_ms = now;
                snprintf(st->detail, sizeof st->detail, "%.200s%s%.63s is %.6g %s %.6g",
                         r->summary[0] ? r->summary : "", r->summary[0] ? ": " : "", r->name, v,
                         scrape_op_name(r->op), r->threshold);
                emit_failed(t, r->name, r->metric, r->page, scrape_op_name(r->op), v, r->threshold,
                            st, now, out);
            }
            continue;
        }
        st->hold_ms = 0;
        if (!st->active)
            continue;
        if (!st->clear_ms)
            st->clear_ms = now;
        if (now - st->clear_ms >= r->clear_for_ms) {
            st->active = 0;
            snprintf(st->detail, sizeof st->detail, "%.63s is %.6g now", r->name, v);
            emit_recovered(t, r->name, r->metric, st, now, out);
        }
    }
}

void scrape_failed(struct scrape_state *ss, struct scrape_target *t, int64_t now, json_t *out)
{
    int after = t->spec.down_after ? t->spec.down_after : (int)ss->o.down_after;
    t->fails++;
    if (t->down.active || t->fails < after)
        return;
    t->down.active = 1;
    t->down.since_ms = now;
    snprintf(t->down.detail, sizeof t->down.detail, "%d scrapes failed: %.450s", t->fails,
             t->error);
    emit_failed(t, "down", "up", t->spec.down_page, "<", 0, 1, &t->down, now, out);
}

/* ---- fetches --------------------------------------------------------------------------- */

/* Sets t's error, the target's URL in it without its query string or user information (a
 * token in a scrape URL is a credential; the error reaches the log, the findings and the
 * bus). */
static void set_error(struct scrape_target *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void set_error(struct scrape_target *t, const char *fmt, ...)
{
    char said[sizeof t->error];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(said, sizeof said, fmt, ap);
    va_end(ap);
    oc_text_cut_urls(said, 0, t->error, sizeof t->error);
}

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
    struct scrape_job *j = arg;
    size_t len = size * n;
    if (oc_buf_append(&j->body, p, len) != 0) {
        j->too_big = 1;
        return 0;
    }
    return len;
}

static curl_socket_t open_guarded(void *arg, curlsocktype purpose, struct curl_sockaddr *addr)
{
    struct scrape_job *j = arg;
    char text[INET6_ADDRSTRLEN] = "?";
    (void)purpose;
    const char *why = oc_netguard_refuses(j->guard, &addr->addr);
    if (why) {
        const void *a = addr->family == AF_INET6
                            ? (const void *)&((struct sockaddr_in6 *)(void *)&addr->addr)->sin6_addr
                            : (const void *)&((struct sockaddr_in *)(void *)&addr->addr)->sin_addr;
        inet_ntop(addr->family, a, text, sizeof(text));
        snprintf(j->refused, sizeof(j->refused),
                 "refused to connect to %s: a %s address (list it in scrape.outbound_allow)", text,
                 why);
        return CURL_SOCKET_BAD;
    }
    return socket(addr->family, addr->socktype, addr->protocol);
}

static void start(struct scrape_state *ss, struct scrape_target *t, int64_t now)
{
    struct scrape_job *j = oc_calloc(1, sizeof(*j));
    j->t = t;
    j->guard = &ss->guard;
    j->started_ms = now;
    oc_buf_init(&j->body, (size_t)ss->o.max_bytes);
    CURL *c = j->easy = curl_easy_init();
    if (!c)
        oc_oom(sizeof(*j));
    j->hdrs = curl_slist_append(NULL, "Accept: application/openmetrics-text;version=1.0.0;q=0.5,"
                                      "text/plain;version=0.0.4;q=0.4,*/*;q=0.1");
    curl_easy_setopt(c, CURLOPT_URL, t->spec.url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, j->hdrs);
    curl_easy_setopt(c, CURLOPT_PRIVATE, j);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, j);
    curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, open_guarded);
    curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, j);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, j->curl_err);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)ss->o.timeout_ms);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)ss->o.timeout_ms);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, 3L);
    curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(c, CURLOPT_USERAGENT, "oncue-scrape");
    curl_multi_add_handle(ss->multi, c);
    j->next = ss->jobs;
    if (j->next)
        j->next->prev = j;
    ss->jobs = j;
    t->inflight = 1;
    ss->requests++;
}

static void drop(struct scrape_state *ss, struct scrape_job *j)
{
    if (j->prev)
        j->prev->next = j->next;
    else
        ss->jobs = j->next;
    if (j->next)
        j->next->prev = j->prev;
    curl_multi_remove_handle(ss->multi, j->easy);
    curl_easy_cleanup(j->easy);
    curl_slist_free_all(j->hdrs);
    oc_buf_free(&j->body);
    free(j);
}

static void finish(struct scrape_state *ss, json_t *out, CURLMsg *msg, int64_t now)
{
    struct scrape_job *j = NULL;
    long status = 0;
    char *ctype = NULL;
    char err[300] = "";
    curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&j);
    curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(msg->easy_handle, CURLINFO_CONTENT_TYPE, &ctype);
    CURLcode cc = msg->data.result;
    struct scrape_target *t = j->t;
    t->inflight = 0;
    if (t->deleted) {
        drop(ss, j);
        return;
    }
    t->have = 1;
    t->last_ms = now;
    t->duration_s = (double)(now - j->started_ms) / 1000.0;
    t->bytes = j->body.len;
    t->error[0] = 0;
    if (j->too_big)
        set_error(t, "%.300s: the body is larger than scrape.max_bytes (%lld)", t->spec.url,
                  (long long)ss->o.max_bytes);
    else if (cc != CURLE_OK)
        set_error(t, "%.300s: %.250s", t->spec.url,
                  j->refused[0]    ? j->refused
                  : j->curl_err[0] ? j->curl_err
                                   : curl_easy_strerror(cc));
    else if (status != 200)
        set_error(t, "%.300s answered %ld", t->spec.url, status);
    if (!t->error[0]) {
        int om = ctype && !strncasecmp(ctype, "application/openmetrics-text", 28);
        t->openmetrics = om;
        if (scrape_ingest(ss, t, j->body.data ? j->body.data : "", j->body.len, om, now, err,
                          sizeof err) != 0)
            set_error(t, "%.300s: %.290s", t->spec.url, err);
    }
    t->up = !t->error[0];
    if (t->up) {
        scrape_eval(ss, t, now, out);
    } else {
        ss->failures++;
        scrape_failed(ss, t, now, out);
    }
    drop(ss, j);
}

/* Starts the scrapes that are due and frees deleted targets nothing refers to; returns the
 * milliseconds until the next one is due (at most 1000). */
static int start_due(struct scrape_state *ss, int64_t now, json_t *out)
{
    int64_t wait = 1000;
    for (int i = 0; i < ss->ntargets; i++) {
        struct scrape_target *t = ss->targets[i];
        if (t->deleted) {
            if (!t->inflight) {
                scrape_series_clear(t);
                scrape_spec_free(&t->spec);
                free(t->rs);
                free(t);
                ss->targets[i--] = ss->targets[--ss->ntargets];
            }
            continue;
        }
        int64_t period = t->spec.interval_ms ? t->spec.interval_ms : ss->o.interval_s * 1000;
        if (t->spec.push) { /* no push for down_after periods: down */
            int after = t->spec.down_after ? t->spec.down_after : (int)ss->o.down_after;
            if (t->have && !t->down.active && now - t->last_ms > after * period) {
                snprintf(t->error, sizeof t->error, "no OTLP push for %lld s",
                         (long long)((now - t->last_ms) / 1000));
                t->up = 0;
                t->fails = after - 1;
                scrape_failed(ss, t, now, out);
            }
            continue;
        }
        if (!t->inflight && now >= t->next_ms) {
            t->scrapes++;
            /* keep the cadence after a late start, but never start the next one sooner than
             * half a period after this one: a rate over a few milliseconds between two
             * scrapes reads a counter's last step as thousands a second */
            t->next_ms = (now - t->next_ms < period ? t->next_ms : now) + period;
            if (t->next_ms < now + period / 2)
                t->next_ms = now + period / 2;
            start(ss, t, now);
        }
        if (!t->inflight && t->next_ms - now < wait)
            wait = t->next_ms - now;
    }
    return wait < 1 ? 1 : (int)wait;
}

/* Publishes the transitions gathered under the mutex; runs holding no lock. */
void scrape_publish(struct scrape_state *ss, json_t *out, int drain)
{
    size_t i;
    json_t *e;
    json_array_foreach(out, i, e)
    {
        const char *topic = json_string_value(json_object_get(e, "topic"));
        json_t *p = json_object_get(e, "payload");
        oc_log(OC_LOG_INFO, "scrape: %s %s %s: %s", topic,
               json_string_value(json_object_get(p, "target")),
               json_string_value(json_object_get(p, "rule")),
               json_string_value(json_object_get(p, "detail")));
        json_object_del(p, "at_ms");
        oc_bus_publish(ss->app->bus, topic, p);
    }
    if (drain && json_array_size(out))
        oc_bus_drain(ss->app->bus);
    json_array_clear(out);
}

static void *engine_main(void *arg)
{
    struct scrape_state *ss = arg;
    json_t *out = json_array();
    int wait = 10, running;
    CURLMsg *msg;
    for (;;) {
        curl_multi_poll(ss->multi, NULL, 0, wait, NULL);
        curl_multi_perform(ss->multi, &running);
        int64_t now = oc_clock_now_ms(ss->app->clock);
        oc_lock(&ss->mu);
        if (ss->stop) {
            oc_unlock(&ss->mu);
            break;
        }
        while ((msg = curl_multi_info_read(ss->multi, &running)) != NULL)
            if (msg->msg == CURLMSG_DONE)
                finish(ss, out, msg, now);
        wait = start_due(ss, now, out);
        oc_unlock(&ss->mu);
        scrape_publish(ss, out, 1);
        curl_multi_perform(ss->multi, &running);
    }
    json_decref(out);
    return NULL;
}

int scrape_engine_start(struct scrape_state *ss)
{
    ss->multi = curl_multi_init();
    if (!ss->multi)
        return OC_EIO;
    curl_multi_setopt(ss->multi, CURLMOPT_MAX_HOST_CONNECTIONS, 16L);
    if (pthread_create(&ss->thread, NULL, engine_main, ss) != 0)
        return OC_EIO;
    ss->thread_started = 1;
    return 0;
}

void scrape_engine_stop(struct scrape_state *ss)
{
    if (ss->thread_started) {
        oc_lock(&ss->mu);
        ss->stop = 1;
        oc_unlock(&ss->mu);
        curl_multi_wakeup(ss->multi);
        pthread_join(ss->thread, NULL);
        ss->thread_started = 0;
    }
    if (!ss->multi)
        return;
    while (ss->jobs) {
        ss->jobs->t->inflight = 0;
        drop(ss, ss->jobs);
    }
    curl_multi_cleanup(ss->multi);
    ss->multi = NULL;
}
