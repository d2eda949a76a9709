/*
 * settings.c - the one table of oncue's settings, and everything that reads it: defaults,
 * typed parsing of values (config_apply, config_set), typo suggestions and the generated
 * reference (docs/config.md and the settings part of `oncue serve --help`).
 *
 * To add a setting: add a field to struct oc_config (config.h) and one row below.
 */
#include "config/config.h"
#include "core/alloc.h"
#include "core/buf.h"
#include "core/err.h"

#include <arpa/inet.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const sync_choices[] = {"normal", "full", NULL};
static const char *const level_choices[] = {"debug", "info", "warn", "error", NULL};
static const char *const clock_choices[] = {"real", "virtual", "replay", NULL};

#define F(field) offsetof(struct oc_config, field)

const struct config_setting config_settings[] = {
    {"store.data_dir", CONFIG_STR, "./oncue-data", 0, 0, NULL, F(data_dir), "--data",
     "directory holding the SQLite store and all other state"},
    {"store.synchronous", CONFIG_ENUM, "full", 0, 0, sync_choices, F(store_sync), NULL,
     "SQLite synchronous mode: full survives power loss, normal only a process crash"},
    {"http.listen", CONFIG_ADDR, "127.0.0.1:8470", 0, 0, NULL, F(listen), "--listen",
     "address and port to listen on; port 0 picks a free port (logged as `listening on`)"},
    {"http.workers", CONFIG_INT, "0", 0, 64, NULL, F(http_workers), "--workers",
     "event-loop worker threads sharing the listening socket; 0 means one per core"},
    {"http.max_body_bytes", CONFIG_INT, "16777216", 1024, 268435456, NULL, F(http_max_body), NULL,
     "largest request body the server reads at all; each route has its own lower cap "
     "(1 MiB unless it says otherwise); larger bodies get 413"},
    {"http.max_header_bytes", CONFIG_INT, "16384", 1024, 1048576, NULL, F(http_max_header), NULL,
     "largest request line plus headers accepted"},
    {"http.timeout_s", CONFIG_INT, "30", 1, 3600, NULL, F(http_timeout_s), NULL,
     "seconds a connection may take to send its request or read the reply"},
    {"http.shutdown_grace_ms", CONFIG_INT, "5000", 0, 60000, NULL, F(http_grace_ms), NULL,
     "milliseconds in-flight requests get to finish after SIGTERM or SIGINT"},
    {"http.request_memory_bytes", CONFIG_INT, "67108864", 65536, 1073741824, NULL,
     F(http_arena_max), NULL, "cap on the memory one request may use; past it the request fails"},
    {"log.level", CONFIG_ENUM, "info", 0, 0, level_choices, F(log_level), "--log-level",
     "lowest level of the JSON log lines written to stderr"},
    {"clock.kind", CONFIG_ENUM, "real", 0, 0, clock_choices, F(clock), "--clock",
     "time source: real, virtual (driven by tests and the simulator) or replay (event time:"
     " starts at the first event and follows the newest)"},
    {"modules", CONFIG_STR, "all", 0, 0, NULL, F(modules), "--modules",
     "comma-separated modules to run (see `oncue serve --help`), or all"},
    {"steer.ttl_s", CONFIG_INT, "10", 1, 86400, NULL, F(steer_ttl_s), NULL,
     "TTL in seconds of steering manifests when the policy sets none: how fast players follow"},
    {"steer.region_header", CONFIG_STR, "", 0, 0, NULL, F(steer_region_header), NULL,
     "trusted request header (set by the CDN edge) naming the client's region; empty: none"},
    {"steer.client_ip_header", CONFIG_STR, "", 0, 0, NULL, F(steer_client_ip_header), NULL,
     "trusted header set by the CDN edge with the client's address (its first entry, as in"
     " X-Forwarded-For) for MaxMind lookups; empty: the connection's peer"},
    {"steer.geoip_db", CONFIG_STR, "", 0, 0, NULL, F(steer_geoip_db), NULL,
     "MaxMind DB files, comma-separated (GeoIP2/GeoLite2 Country or City, ASN, ISP): region,"
     " country, ASN and ISP of steering clients whose request does not name them; empty: off"},
    {"steer.geoip_regions", CONFIG_STR, "", 0, 0, NULL, F(steer_geoip_regions), NULL,
     "continent:XX=REGION and country:XX=REGION entries, comma-separated (a country entry wins),"
     " mapping MaxMind codes to policy regions; empty: the built-in map (docs/internals/steer.md)"},
    {"steer.max_rps", CONFIG_INT, "0", 0, 10000000, NULL, F(steer_max_rps), NULL,
     "steering requests per second answered before 429 with Retry-After; 0: no cap"},
    {"steer.followup_hours", CONFIG_INT, "72", 1, 8760, NULL, F(steer_followup_hours), NULL,
     "deadline in hours of the follow-up item each mitigation creates"},
    {"steer.policy_file", CONFIG_STR, "", 0, 0, NULL, F(steer_policy_file), NULL,
     "JSON steering policy applied at start (replaces the stored one); empty: keep the stored"},
    {"steer.backup_origin", CONFIG_STR, "", 0, 0, NULL, F(steer_backup_origin), NULL,
     "host[:port] that `oncue mitigate backup-origin` steers to when --host is not given"},
    {"catalog.file", CONFIG_STR, "", 0, 0, NULL, F(catalog_file), NULL,
     "service catalog YAML loaded at start and on POST /v1/catalog/reload; empty: the example"},
    {"ingest.allowed_lateness_s", CONFIG_INT, "120", 0, 3600, NULL, F(ingest_lateness_s), NULL,
     "seconds an event may arrive after the latest event time and still land in its minute"},
    {"ingest.max_future_skew_s", CONFIG_INT, "300", 0, 86400, NULL, F(ingest_future_skew_s), NULL,
     "events more than this many seconds ahead of the clock are rejected (not in replay)"},
    {"ingest.max_values_per_dim", CONFIG_INT, "10000", 1, 1000000, NULL, F(ingest_max_values), NULL,
     "distinct values kept per dimension; later new values fold into `other`"},
    {"ingest.max_leaves_per_minute", CONFIG_INT, "200000", 1, 10000000, NULL,
     F(ingest_max_leaves_min), NULL,
     "dimension combinations kept per minute; beyond, events go to the all-`other` leaf"},
    {"ingest.max_leaves", CONFIG_INT, "1000000", 1, 100000000, NULL, F(ingest_max_leaves), NULL,
     "dimension combinations kept in all; beyond, events go to the all-`other` leaf"},
    {"ingest.max_sessions_per_minute", CONFIG_INT, "2000000", 1, 100000000, NULL,
     F(ingest_max_sessions), NULL,
     "(session, leaf) pairs counted exactly per minute; beyond, new pairs are not counted"},
    {"qoe.memory_minutes", CONFIG_INT, "360", 1, 100000, NULL, F(qoe_memory_minutes), NULL,
     "closed minutes kept in memory for queries (6 hours by default)"},
    {"qoe.rollup_5m_after_s", CONFIG_INT, "21600", 60, 315360000, NULL, F(qoe_rollup_5m_after_s),
     NULL, "stored minutes older than this merge into 5-minute rows"},
    {"qoe.rollup_1h_after_s", CONFIG_INT, "604800", 300, 315360000, NULL, F(qoe_rollup_1h_after_s),
     NULL, "stored 5-minute rows older than this merge into hourly rows"},
    {"qoe.retention_days", CONFIG_INT, "90", 1, 36500, NULL, F(qoe_retention_days), NULL,
     "stored QoE rows older than this many days are deleted"},
    {"incident.group_window_s", CONFIG_INT, "1800", 0, 604800, NULL, F(incident_group_window_s),
     NULL, "a firing alert joins an open incident with an overlapping slice opened this recently"},
    {"incident.recovery_window_s", CONFIG_INT, "1800", 0, 604800, NULL,
     F(incident_recovery_window_s), NULL,
     "seconds the metrics that opened an incident must stay inside their band before it resolves"},
    {"incident.followup_hours", CONFIG_INT, "72", 1, 8760, NULL, F(incident_followup_hours), NULL,
     "deadline of follow-up items for temporary mitigations that name none"},
    {"incident.sev1_cannot_start_pct", CONFIG_INT, "25", 1, 100, NULL, F(incident_sev1_start_pct),
     NULL, "severity grid: SEV1 when more than this % of viewers cannot start"},
    {"incident.sev1_rebuffer_pct", CONFIG_INT, "15", 1, 100, NULL, F(incident_sev1_rebuffer_pct),
     NULL, "severity grid: SEV1 when the global rebuffer ratio is above this %..."},
    {"incident.sev1_rebuffer_for_s", CONFIG_INT, "120", 0, 86400, NULL, F(incident_sev1_rebuffer_s),
     NULL, "...for longer than this many seconds"},
    {"incident.sev2_affected_pct", CONFIG_INT, "5", 1, 100, NULL, F(incident_sev2_pct), NULL,
     "severity grid: SEV2 when more than this % of viewers are affected"},
    {"incident.webhooks_file", CONFIG_STR, "", 0, 0, NULL, F(incident_webhooks_file), NULL,
     "YAML list of notification endpoints (name, kind slack|teams|pagerduty|webhook, url, secret)"},
    {"incident.public_url", CONFIG_STR, "", 0, 0, NULL, F(incident_public_url), NULL,
     "base URL of this server as viewers reach it, for status page links; empty: relative"},
    {"incident.deploy_secret", CONFIG_STR, "", 0, 0, NULL, F(incident_deploy_secret), NULL,
     "Standard Webhooks secret (whsec_...) signing rollback calls to catalog deploy_webhook URLs;"
     " empty: unsigned"},
    {"slo.file", CONFIG_STR, "", 0, 0, NULL, F(slo_file), NULL,
     "SLO YAML (OpenSLO-shaped) loaded at start; empty: the shipped examples/slos.yaml"},
    {"alert.rules_file", CONFIG_STR, "", 0, 0, NULL, F(alert_rules_file), NULL,
     "alert rules YAML loaded at start; empty: the shipped examples/rules.yaml"},
    {0},
};

#undef F

/* The row named name, or NULL (a linear scan: the table is small). */
const struct config_setting *config_find(const char *name)
{
    for (const struct config_setting *s = config_settings; s->name; s++)
        if (strcmp(s->name, name) == 0)
            return s;
    return NULL;
}

/* The row whose flag is flag ("--listen"), or NULL. */
const struct config_setting *config_find_flag(const char *flag)
{
    for (const struct config_setting *s = config_settings; s->name; s++)
        if (s->flag && strcmp(s->flag, flag) == 0)
            return s;
    return NULL;
}

/* Quotes and escapes s for a message; see config.h. */
void config_quote(const char *s, size_t n, char *out, size_t outlen)
{
    size_t o = 0, limit = 40;
    if (outlen < 8) {
        if (outlen)
            out[0] = '\0';
        return;
    }
    out[o++] = '"';
    for (size_t i = 0; i < n && o + 8 < outlen; i++) {
        unsigned char c = (unsigned char)s[i];
        if (i == limit) {
            memcpy(out + o, "...", 3);
            o += 3;
            break;
        }
        if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\')
            o += (size_t)snprintf(out + o, outlen - o, "\\x%02x", c);
        else
            out[o++] = (char)c;
    }
    out[o++] = '"';
    out[o] = '\0';
}

/* Parses a plain decimal integer (optional '-', digits only) into *out; 0 or OC_EINVAL. */
static int parse_int(const char *v, int64_t *out)
{
    int neg = (*v == '-');
    const char *p = v + neg;
    uint64_t acc = 0, limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    if (!*p)
        return OC_EINVAL;
    for (; *p; p++) {
        if (*p < '0' || *p > '9')
            return OC_EINVAL;
        unsigned d = (unsigned)(*p - '0');
        if (acc > (limit - d) / 10)
            return OC_EINVAL;
        acc = acc * 10 + d;
    }
    *out = neg ? (int64_t)(0 - acc) : (int64_t)acc;
    return 0;
}

/* Parses true/false/yes/no/on/off (any case) into *out; 0 or OC_EINVAL. */
static int parse_bool(const char *v, int *out)
{
    static const char *const yes[] = {"true", "yes", "on"}, *const no[] = {"false", "no", "off"};
    for (size_t i = 0; i < 3; i++) {
        if (strcasecmp(v, yes[i]) == 0 || strcasecmp(v, no[i]) == 0) {
            *out = strcasecmp(v, yes[i]) == 0;
            return 0;
        }
    }
    return OC_EINVAL;
}

/* Checks "IPv4:PORT" or "[IPv6]:PORT" with a decimal port 0-65535; 0 or OC_EINVAL. */
static int check_addr(const char *v)
{
    char host[64];
    const char *colon = strrchr(v, ':'), *h = v;
    size_t hlen;
    int af = AF_INET;
    if (!colon)
        return OC_EINVAL;
    hlen = (size_t)(colon - v);
    if (*v == '[') {
        if (hlen < 2 || colon[-1] != ']')
            return OC_EINVAL;
        h = v + 1;
        hlen -= 2;
        af = AF_INET6;
    }
    if (hlen == 0 || hlen >= sizeof(host))
        return OC_EINVAL;
    memcpy(host, h, hlen);
    host[hlen] = '\0';
    unsigned char addr[16];
    if (inet_pton(af, host, addr) != 1)
        return OC_EINVAL;
    int64_t port;
    if (strlen(colon + 1) > 5 || colon[1] == '-' || parse_int(colon + 1, &port) != 0 ||
        port > 65535)
        return OC_EINVAL;
    return 0;
}

/* Writes "a, b, c" (the choices of s) into b. */
static void put_choices(struct oc_buf *b, const struct config_setting *s, const char *sep)
{
    for (size_t i = 0; s->choices[i]; i++)
        oc_buf_printf(b, "%s%s", i ? sep : "", s->choices[i]);
}

/* Writes what a valid value of s looks like ("an integer between 0 and 64") into out. */
static void expected(const struct config_setting *s, char *out, size_t outlen)
{
    struct oc_buf b;
    oc_buf_init(&b, 1024);
    switch (s->type) {
    case CONFIG_INT:
        oc_buf_printf(&b, "an integer between %lld and %lld", (long long)s->min, (long long)s->max);
        break;
    case CONFIG_BOOL:
        oc_buf_puts(&b, "true or false (or yes/no, on/off)");
        break;
    case CONFIG_ENUM:
        oc_buf_puts(&b, "one of ");
        put_choices(&b, s, ", ");
        break;
    case CONFIG_ADDR:
        oc_buf_puts(&b, "ADDR:PORT (an IPv4 address or [IPv6] address, and a port 0-65535)");
        break;
    default:
        oc_buf_puts(&b, "a string");
        break;
    }
    snprintf(out, outlen, "%s", b.data ? b.data : "");
    oc_buf_free(&b);
}

/* Checks value against the type of s; 0 or OC_EINVAL. Sets *iv for ints and booleans. */
static int check_value(const struct config_setting *s, const char *value, int64_t *iv)
{
    int bv = 0;
    switch (s->type) {
    case CONFIG_INT:
        return parse_int(value, iv) == 0 && *iv >= s->min && *iv <= s->max ? 0 : OC_EINVAL;
    case CONFIG_BOOL:
        if (parse_bool(value, &bv) != 0)
            return OC_EINVAL;
        *iv = bv;
        return 0;
    case CONFIG_ENUM:
        for (size_t i = 0; s->choices[i]; i++)
            if (strcmp(s->choices[i], value) == 0)
                return 0;
        return OC_EINVAL;
    case CONFIG_ADDR:
        return check_addr(value);
    default:
        return 0; /* any string, empty included ("none" for some settings) */
    }
}

/* Parses value as s and stores it in base; 0 or OC_EINVAL with why. See config.h. */
int config_apply(void *base, const struct config_setting *s, const char *value, char *why,
                 size_t whylen)
{
    char *field = (char *)base + s->offset, exp[256], got[64];
    int64_t iv = 0;
    size_t n = strlen(value);
    if (n > CONFIG_MAX_VALUE) {
        snprintf(why, whylen, "value longer than %d bytes", CONFIG_MAX_VALUE);
        return OC_EINVAL;
    }
    if (check_value(s, value, &iv) != 0) {
        expected(s, exp, sizeof(exp));
        config_quote(value, n, got, sizeof(got));
        snprintf(why, whylen, "expected %s, got %s", exp, got);
        return OC_EINVAL;
    }
    if (s->type == CONFIG_INT) {
        memcpy(field, &iv, sizeof(iv));
    } else if (s->type == CONFIG_BOOL) {
        int bv = (int)iv;
        memcpy(field, &bv, sizeof(bv));
    } else {
        char *old, *dup = oc_strdup(value);
        memcpy(&old, field, sizeof(old));
        free(old);
        memcpy(field, &dup, sizeof(dup));
    }
    return 0;
}

/* Fills cfg from every row's default; a default that does not parse is a bug: abort. */
void config_defaults(struct oc_config *cfg)
{
    char why[512];
    memset(cfg, 0, sizeof(*cfg));
    for (const struct config_setting *s = config_settings; s->name; s++) {
        if (config_apply(cfg, s, s->def, why, sizeof(why)) != 0) {
            fprintf(stderr, "oncue: bad default for %s: %s\n", s->name, why);
            abort();
        }
    }
}

/* Frees every string setting of cfg and sets it to NULL, so a second call is harmless. */
void config_free(struct oc_config *cfg)
{
    for (const struct config_setting *s = config_settings; s->name; s++) {
        if (s->type == CONFIG_INT || s->type == CONFIG_BOOL)
            continue;
        char *p, *null = NULL;
        memcpy(&p, (char *)cfg + s->offset, sizeof(p));
        free(p);
        memcpy((char *)cfg + s->offset, &null, sizeof(null));
    }
}

/* Sets one setting by name from text; 0, OC_ENOTFOUND or OC_EINVAL with "NAME: ...". */
int config_set(struct oc_config *cfg, const char *name, const char *value, char *err, size_t errlen)
{
    char why[512];
    const struct config_setting *s = config_find(name);
    if (!s) {
        const char *near = config_suggest(name);
        snprintf(err, errlen, "%s: unknown setting%s%s%s", name, near ? "; did you mean " : "",
                 near ? near : "", near ? "?" : "");
        return OC_ENOTFOUND;
    }
    if (config_apply(cfg, s, value, why, sizeof(why)) != 0) {
        snprintf(err, errlen, "%s: %s", name, why);
        return OC_EINVAL;
    }
    return 0;
}

/* Levenshtein distance between a and b (b at most 127 bytes). */
static size_t distance(const char *a, const char *b)
{
    size_t m = strlen(b), row[128];
    for (size_t j = 0; j <= m; j++)
        row[j] = j;
    for (size_t i = 1; a[i - 1]; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= m; j++) {
            size_t up = row[j], best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            diag = up;
            row[j] = best;
        }
    }
    return row[m];
}

/* The part of name after its last '.'. */
static const char *last_part(const char *name)
{
    const char *d = strrchr(name, '.');
    return d ? d + 1 : name;
}

/* Closest known name: by edit distance, then same last part, then as a prefix; or NULL. */
const char *config_suggest(const char *name)
{
    const char *best = NULL;
    size_t best_d = (size_t)-1, n = strlen(name);
    for (const struct config_setting *s = config_settings; n < 128 && s->name; s++) {
        size_t d = strlen(s->name) < 128 ? distance(name, s->name) : (size_t)-1;
        if (d < best_d) {
            best_d = d;
            best = s->name;
        }
    }
    if (best && best_d <= 2 + strlen(best) / 8)
        return best;
    for (const struct config_setting *s = config_settings; s->name; s++)
        if (strcmp(last_part(s->name), last_part(name)) == 0)
            return s->name;
    for (const struct config_setting *s = config_settings; s->name; s++)
        if (n >= 4 && strncmp(s->name, name, n) == 0)
            return s->name;
    return NULL;
}

static const char *const type_names[] = {
    [CONFIG_STR] = "string", [CONFIG_INT] = "integer",  [CONFIG_BOOL] = "boolean",
    [CONFIG_ENUM] = "enum",  [CONFIG_ADDR] = "address",
};

/* A default as shown in the docs: an empty one as "". */
static const char *shown(const char *def)
{
    return *def ? def : "\"\"";
}

/* Writes the placeholder for a flag's value ("N", "ADDR:PORT", "DIR") into b. */
static void put_metavar(struct oc_buf *b, const struct config_setting *s)
{
    const char *p = last_part(s->name), *u = strrchr(p, '_');
    if (s->type == CONFIG_INT) {
        oc_buf_puts(b, "N");
    } else if (s->type == CONFIG_ADDR) {
        oc_buf_puts(b, "ADDR:PORT");
    } else if (s->type == CONFIG_BOOL) {
        oc_buf_puts(b, "true|false");
    } else {
        for (p = u ? u + 1 : p; *p; p++)
            oc_buf_printf(b, "%c", *p >= 'a' && *p <= 'z' ? *p - 'a' + 'A' : *p);
    }
}

/* Writes the bounds or choices of s ("0..64", "normal|full") into b, or nothing. */
static void put_bounds(struct oc_buf *b, const struct config_setting *s, const char *sep)
{
    if (s->type == CONFIG_INT)
        oc_buf_printf(b, "%lld..%lld", (long long)s->min, (long long)s->max);
    else if (s->type == CONFIG_ENUM)
        put_choices(b, s, sep);
    else if (s->type == CONFIG_ADDR)
        oc_buf_puts(b, "IPv4:PORT or [IPv6]:PORT");
    else if (s->type == CONFIG_BOOL)
        oc_buf_puts(b, "true, false");
}

/* Writes def for YAML, double-quoted when a plain scalar would not read back the same. */
static void put_yaml_value(struct oc_buf *b, const char *def)
{
    if (!*def || strchr("[]{}&*!|>'\"%@`#,?:- ", def[0]) || strstr(def, ": ") || strstr(def, " #"))
        oc_buf_printf(b, "\"%s\"", def);
    else
        oc_buf_puts(b, def);
}

/* Writes one example line for name, opening the parent mappings it does not share with prev. */
static void put_example(struct oc_buf *b, const char *prev, const char *name, const char *def)
{
    const char *p = name, *q = prev, *pd, *qd;
    int depth = 0;
    while (q && (pd = strchr(p, '.')) && (qd = strchr(q, '.')) && pd - p == qd - q &&
           memcmp(p, q, (size_t)(pd - p)) == 0) {
        p = pd + 1;
        q = qd + 1;
        depth++;
    }
    for (; (pd = strchr(p, '.')) != NULL; p = pd + 1, depth++)
        oc_buf_printf(b, "%*s%.*s:\n", depth * 2, "", (int)(pd - p), p);
    oc_buf_printf(b, "%*s%s: ", depth * 2, "", p);
    put_yaml_value(b, def);
    oc_buf_puts(b, "\n");
}

/* Writes docs/config.md: title, how to use, the YAML of every default, then the table. */
void config_doc_markdown(struct oc_buf *b)
{
    const char *prev = NULL;
    oc_buf_puts(b, "# oncue configuration\n\n"
                   "This file is generated from the settings table in `src/config/settings.c` "
                   "by `oncue docs config`; do not edit it by hand.\n\n"
                   "Every setting has a default, so no file is needed. Pass a YAML file with "
                   "`oncue serve --config FILE`, set one setting with `--set NAME=VALUE`, or use "
                   "the flag listed below. Nested mappings and dotted names are the same "
                   "(`http:` then `  listen: ...` is `http.listen: ...`). This file holds every "
                   "default:\n\n```yaml\n");
    for (const struct config_setting *s = config_settings; s->name; prev = s->name, s++)
        put_example(b, prev, s->name, s->def);
    oc_buf_puts(b, "```\n\n| setting | type | default | bounds/choices | flag | description |\n"
                   "|---|---|---|---|---|---|\n");
    for (const struct config_setting *s = config_settings; s->name; s++) {
        oc_buf_printf(b, "| `%s` | %s | `%s` | ", s->name, type_names[s->type], shown(s->def));
        put_bounds(b, s, ", ");
        oc_buf_puts(b, " | ");
        if (s->flag) {
            oc_buf_printf(b, "`%s ", s->flag);
            put_metavar(b, s);
            oc_buf_puts(b, "`");
        }
        oc_buf_printf(b, " | %s |\n", s->desc);
    }
}

/* Appends spaces to b until the current line (which started at offset start) is col wide. */
static void pad_to(struct oc_buf *b, size_t start, size_t col)
{
    size_t w = b->len - start;
    oc_buf_printf(b, "%*s", w < col ? (int)(col - w) : 1, "");
}

/* Writes the flags, then every setting, as plain-text lines for `oncue serve --help`. */
void config_doc_help(struct oc_buf *b)
{
    oc_buf_puts(b, "Settings flags (each sets one setting):\n");
    for (const struct config_setting *s = config_settings; s->name; s++) {
        if (!s->flag)
            continue;
        size_t start = b->len;
        oc_buf_printf(b, "  %s ", s->flag);
        put_metavar(b, s);
        pad_to(b, start, 23);
        oc_buf_printf(b, "%s (default %s): %s\n", s->name, shown(s->def), s->desc);
    }
    oc_buf_puts(b, "\nAll settings (in --config FILE as YAML, or as --set NAME=VALUE):\n");
    for (const struct config_setting *s = config_settings; s->name; s++) {
        size_t start = b->len;
        oc_buf_printf(b, "  %s", s->name);
        pad_to(b, start, 30);
        oc_buf_printf(b, "%s", type_names[s->type]);
        if (s->type != CONFIG_STR) {
            oc_buf_puts(b, " ");
            put_bounds(b, s, "|");
        }
        oc_buf_printf(b, ", default %s: %s\n", shown(s->def), s->desc);
    }
}
