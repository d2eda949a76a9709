/*
 * settings.c - the server's own settings table, the walk over it and every module's table,
 * and everything that reads them: defaults, typed parsing of values (config_apply,
 * config_set), typo suggestions and the generated reference (docs/config.md and the settings
 * part of `oncue serve --help`).
 *
 * A module's setting is a row in that module's table (struct oc_module's .settings); only
 * the server's own settings (store, http, log, clock, modules) are rows below.
 */
#include "config/config.h"
#include "core/alloc.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/module.h"
#include "core/suggest.h"

#include <arpa/inet.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const sync_choices[] = {"normal", "full", NULL};
static const char *const backend_choices[] = {"sqlite", "postgres", NULL};
static const char *const level_choices[] = {"debug", "info", "warn", "error", NULL};
static const char *const log_format_choices[] = {"json", "text", NULL};
static const char *const clock_choices[] = {"real", "virtual", "replay", NULL};

#define F(field) offsetof(struct oc_config, field)

const struct oc_setting config_server_settings[] = {
    {"store.data_dir", OC_SETTING_STR, "./oncue-data", 0, 0, NULL, F(data_dir), "--data",
     "directory holding the SQLite store and all other state"},
    {"store.synchronous", OC_SETTING_ENUM, "full", 0, 0, sync_choices, F(store_sync), NULL,
     "SQLite synchronous mode: full survives power loss, normal only a process crash"},
    {"store.backend", OC_SETTING_ENUM, "sqlite", 0, 0, backend_choices, F(store_backend), NULL,
     "where operational state lives: sqlite (DATA/oncue.db) or postgres (store.postgres; "
     "docs/deploy.md lists the modules that run there); DATA keeps oncue.key either way"},
    {"store.postgres", OC_SETTING_STR, "", 0, 0, NULL, F(store_postgres), NULL,
     "with store.backend postgres: the libpq conninfo `host=H port=P dbname=D user=U` or a "
     "postgresql:// URI (never logged; keep a password in PGPASSWORD or ~/.pgpass)"},
    {"http.listen", OC_SETTING_ADDR, "127.0.0.1:8470", 0, 0, NULL, F(listen), "--listen",
     "address and port to listen on; port 0 picks a free port (logged as `listening on`)"},
    {"http.workers", OC_SETTING_INT, "0", 0, 64, NULL, F(http_workers), "--workers",
     "event-loop worker threads sharing the listening socket; 0 means one per core"},
    {"http.max_body_bytes", OC_SETTING_INT, "16777216", 1024, 268435456, NULL, F(http_max_body),
     NULL,
     "largest request body the server reads at all; each route has its own lower cap "
     "(1 MiB unless it says otherwise); larger bodies get 413"},
    {"http.max_header_bytes", OC_SETTING_INT, "16384", 1024, 1048576, NULL, F(http_max_header),
     NULL, "largest request line plus headers accepted"},
    {"http.timeout_s", OC_SETTING_INT, "30", 1, 3600, NULL, F(http_timeout_s), NULL,
     "seconds a connection may take to send its request or read the reply"},
    {"http.shutdown_grace_ms", OC_SETTING_INT, "5000", 0, 60000, NULL, F(http_grace_ms), NULL,
     "milliseconds in-flight requests get to finish after SIGTERM or SIGINT"},
    {"http.request_memory_bytes", OC_SETTING_INT, "67108864", 65536, 1073741824, NULL,
     F(http_arena_max), NULL, "cap on the memory one request may use; past it the request fails"},
    {"http.max_connections", OC_SETTING_INT, "0", 0, 10000000, NULL, F(http_max_conns), NULL,
     "open client connections at most; past it a new connection gets 503 and is closed. 0: "
     "the descriptor limit (ulimit -n) less a tenth of it (at least 64) for the store and "
     "everything else"},
    {"http.max_connections_per_ip", OC_SETTING_INT, "0", 0, 10000000, NULL,
     F(http_max_conns_per_ip), NULL,
     "open connections from one client address at most (503 and closed past it), so one "
     "client cannot take every connection. 0: half of http.max_connections"},
    {"http.request_deadline_s", OC_SETTING_INT, "30", 1, 3600, NULL, F(http_deadline_s), NULL,
     "seconds a client has to send a whole request (headers and body) from connecting or from "
     "the end of the previous answer; then the connection is closed (slow senders)"},
    {"http.trust_forwarded_for", OC_SETTING_BOOL, "false", 0, 0, NULL, F(http_trust_xff), NULL,
     "take the client's address from the last X-Forwarded-For entry (the one your proxy "
     "adds) instead of the peer's: set it only behind a proxy that always sets it, since a "
     "client reaching the server directly could write any address there. Per-client rate "
     "limits of public ingest keys count by this address"},
    {"log.level", OC_SETTING_ENUM, "info", 0, 0, level_choices, F(log_level), "--log-level",
     "lowest level of the log lines written to stderr"},
    {"log.format", OC_SETTING_ENUM, "json", 0, 0, log_format_choices, F(log_format), "--log-format",
     "json (one JSON object a line, for collectors) or text (\"TIME level message key=value\", for"
     " a terminal)"},
    {"clock.kind", OC_SETTING_ENUM, "real", 0, 0, clock_choices, F(clock), "--clock",
     "time source: real, virtual (driven by tests and the simulator) or replay (event time:"
     " starts at the first event and follows the newest)"},
    {"modules", OC_SETTING_STR, "all", 0, 0, NULL, F(modules), "--modules",
     "comma-separated modules to run (see `oncue serve --help`), or all"},
    {"lease.postgres", OC_SETTING_STR, "", 0, 0, NULL, F(lease_postgres), NULL,
     "several control-plane replicas: PostgreSQL (libpq conninfo `host=H port=P dbname=D "
     "user=U` or a postgresql:// URI) holding the lease that lets one replica at a time run "
     "alert evaluation and incident ticks; empty: this process runs them (one replica)"},
    {"lease.name", OC_SETTING_STR, "oncue", 0, 0, NULL, F(lease_name), NULL,
     "the lease replicas of one deployment share (letters, digits, '-', '_', '.')"},
    {"lease.ttl_s", OC_SETTING_INT, "10", 2, 300, NULL, F(lease_ttl_s), NULL,
     "seconds the lease lasts unless renewed (every third of it): a replica killed while "
     "holding it is replaced within about 1.33 times this"},
    {0},
};

#undef F

static const struct oc_setting no_rows[] = {{0}};

/* Whether s keeps its value as a string (char *) at its offset. */
static int is_string(const struct oc_setting *s)
{
    return s->type == OC_SETTING_STR || s->type == OC_SETTING_ENUM || s->type == OC_SETTING_ADDR;
}

/* Whether s reads an integer (whatever it is stored as). */
static int is_int(const struct oc_setting *s)
{
    return s->type == OC_SETTING_INT || s->type == OC_SETTING_U32 || s->type == OC_SETTING_PCT;
}

/* Moves w to the next row of cfg: the server's table first, then each module's table in
 * module-table order. Returns the row (w->base is where its options struct is) or NULL. */
const struct oc_setting *config_walk(const struct oc_config *cfg, struct config_walk *w)
{
    if (!w->row) {
        w->row = config_server_settings;
        w->base = (void *)cfg; /* the caller's config, not a constant */
        w->mod = 0;
    } else if (w->row->name) {
        w->row++;
    }
    while (!w->row->name) {
        if (!cfg->mods || w->mod >= cfg->nmods)
            return NULL;
        const struct oc_module *m = cfg->mods[w->mod];
        w->base = cfg->blocks[w->mod];
        w->row = m->settings && w->base ? m->settings : no_rows;
        w->mod++;
    }
    return w->row;
}

/* The row named name and (in *base, when not NULL) its options struct, or NULL. */
const struct oc_setting *config_locate(const struct oc_config *cfg, const char *name, void **base)
{
    struct config_walk w = {0};
    for (const struct oc_setting *s; (s = config_walk(cfg, &w)) != NULL;) {
        if (strcmp(s->name, name) == 0) {
            if (base)
                *base = w.base;
            return s;
        }
    }
    return NULL;
}

/* The row named name, or NULL (a linear scan: the tables are small). */
const struct oc_setting *config_find(const struct oc_config *cfg, const char *name)
{
    return config_locate(cfg, name, NULL);
}

/* The row whose flag is flag ("--listen"), or NULL. */
const struct oc_setting *config_find_flag(const struct oc_config *cfg, const char *flag)
{
    struct config_walk w = {0};
    for (const struct oc_setting *s; (s = config_walk(cfg, &w)) != NULL;)
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
static void put_choices(struct oc_buf *b, const struct oc_setting *s, const char *sep)
{
    for (size_t i = 0; s->choices[i]; i++)
        oc_buf_printf(b, "%s%s", i ? sep : "", s->choices[i]);
}

/* Writes what a valid value of s looks like ("an integer between 0 and 64") into out. */
static void expected(const struct oc_setting *s, char *out, size_t outlen)
{
    struct oc_buf b;
    oc_buf_init(&b, 1024);
    switch (s->type) {
    case OC_SETTING_INT:
    case OC_SETTING_U32:
    case OC_SETTING_PCT:
        oc_buf_printf(&b, "an integer between %lld and %lld", (long long)s->min, (long long)s->max);
        break;
    case OC_SETTING_BOOL:
        oc_buf_puts(&b, "true or false (or yes/no, on/off)");
        break;
    case OC_SETTING_ENUM:
        oc_buf_puts(&b, "one of ");
        put_choices(&b, s, ", ");
        break;
    case OC_SETTING_ADDR:
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
static int check_value(const struct oc_setting *s, const char *value, int64_t *iv)
{
    int bv = 0;
    switch (s->type) {
    case OC_SETTING_INT:
    case OC_SETTING_U32:
    case OC_SETTING_PCT:
        return parse_int(value, iv) == 0 && *iv >= s->min && *iv <= s->max ? 0 : OC_EINVAL;
    case OC_SETTING_BOOL:
        if (parse_bool(value, &bv) != 0)
            return OC_EINVAL;
        *iv = bv;
        return 0;
    case OC_SETTING_ENUM:
        for (size_t i = 0; s->choices[i]; i++)
            if (strcmp(s->choices[i], value) == 0)
                return 0;
        return OC_EINVAL;
    case OC_SETTING_ADDR:
        return check_addr(value);
    default:
        return 0; /* any string, empty included ("none" for some settings) */
    }
}

/* Stores a checked value at field as s->type says: iv for integers and booleans, str (now
 * owned by the field) for the string types, freeing the string stored there before unless it
 * is the row's static default. */
static void store_value(const struct oc_setting *s, char *field, int64_t iv, char *str)
{
    if (s->type == OC_SETTING_U32) {
        uint32_t u = (uint32_t)iv;
        memcpy(field, &u, sizeof(u));
    } else if (s->type == OC_SETTING_PCT) {
        double d = (double)iv / 100.0;
        memcpy(field, &d, sizeof(d));
    } else if (s->type == OC_SETTING_INT) {
        memcpy(field, &iv, sizeof(iv));
    } else if (s->type == OC_SETTING_BOOL) {
        int bv = (int)iv;
        memcpy(field, &bv, sizeof(bv));
    } else {
        char *old;
        memcpy(&old, field, sizeof(old));
        if (old != s->def)
            free(old);
        memcpy(field, &str, sizeof(str));
    }
}

/* Parses value as s and stores it in base; 0 or OC_EINVAL with why. See config.h. */
int config_apply(void *base, const struct oc_setting *s, const char *value, char *why,
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
    store_value(s, field, iv, is_string(s) ? oc_strdup(value) : NULL);
    return 0;
}

/* Fills the rows of table at base with their defaults (strings point at the static default
 * text); a default that does not parse is a bug: abort. */
void config_settings_defaults(const struct oc_setting *table, void *base)
{
    char why[512], exp[256];
    for (const struct oc_setting *s = table; s && s->name; s++) {
        int64_t iv = 0;
        if (check_value(s, s->def, &iv) != 0) {
            expected(s, exp, sizeof(exp));
            snprintf(why, sizeof(why), "expected %s", exp);
            fprintf(stderr, "oncue: bad default for %s: %s\n", s->name, why);
            abort();
        }
        if (is_string(s)) {
            char *def = (char *)s->def; /* static; never freed (see store_value) */
            memcpy((char *)base + s->offset, &def, sizeof(def));
        } else {
            store_value(s, (char *)base + s->offset, iv, NULL);
        }
    }
}

/* Fills cfg with the server's defaults and one block per module of mods; see config.h. */
void config_init(struct oc_config *cfg, const struct oc_module *const *mods)
{
    memset(cfg, 0, sizeof(*cfg));
    config_settings_defaults(config_server_settings, cfg);
    if (!mods)
        return;
    while (mods[cfg->nmods])
        cfg->nmods++;
    cfg->mods = mods;
    cfg->blocks = oc_calloc(cfg->nmods ? cfg->nmods : 1, sizeof(*cfg->blocks));
    for (size_t i = 0; i < cfg->nmods; i++) {
        if (!mods[i]->settings || mods[i]->opts_size == 0)
            continue;
        cfg->blocks[i] = oc_calloc(1, mods[i]->opts_size);
        config_settings_defaults(mods[i]->settings, cfg->blocks[i]);
    }
}

/* The server's settings only. */
void config_defaults(struct oc_config *cfg)
{
    config_init(cfg, NULL);
}

/* m's block in cfg, or scratch filled with m's defaults; see config.h. */
const void *config_module_opts(const struct oc_config *cfg, const struct oc_module *m,
                               void *scratch)
{
    for (size_t i = 0; cfg && i < cfg->nmods; i++)
        if (cfg->mods[i] == m && cfg->blocks[i])
            return cfg->blocks[i];
    if (scratch) {
        memset(scratch, 0, m->opts_size);
        config_settings_defaults(m->settings, scratch);
    }
    return scratch;
}

/* Frees every owned string setting of cfg and sets it to NULL, then the module blocks, so a
 * second call is harmless. */
void config_free(struct oc_config *cfg)
{
    struct config_walk w = {0};
    for (const struct oc_setting *s; (s = config_walk(cfg, &w)) != NULL;) {
        if (!is_string(s))
            continue;
        char *p, *null = NULL;
        memcpy(&p, (char *)w.base + s->offset, sizeof(p));
        if (p != s->def)
            free(p);
        memcpy((char *)w.base + s->offset, &null, sizeof(null));
    }
    for (size_t i = 0; i < cfg->nmods; i++)
        free(cfg->blocks[i]);
    free(cfg->blocks);
    cfg->blocks = NULL;
    cfg->mods = NULL;
    cfg->nmods = 0;
}

/* Sets one setting by name from text; 0, OC_ENOTFOUND or OC_EINVAL with "NAME: ...". */
int config_set(struct oc_config *cfg, const char *name, const char *value, char *err, size_t errlen)
{
    char why[512];
    void *base = NULL;
    const struct oc_setting *s = config_locate(cfg, name, &base);
    if (!s) {
        const char *near = config_suggest(cfg, name);
        snprintf(err, errlen, "%s: unknown setting%s%s%s", name, near ? "; did you mean " : "",
                 near ? near : "", near ? "?" : "");
        return OC_ENOTFOUND;
    }
    if (config_apply(base, s, value, why, sizeof(why)) != 0) {
        snprintf(err, errlen, "%s: %s", name, why);
        return OC_EINVAL;
    }
    return 0;
}

/* The part of name after its last '.'. */
static const char *last_part(const char *name)
{
    const char *d = strrchr(name, '.');
    return d ? d + 1 : name;
}

/* Closest known name: by edit distance, then same last part, then as a prefix; or NULL. */
const char *config_suggest(const struct oc_config *cfg, const char *name)
{
    const char *best = NULL;
    size_t best_d = (size_t)-1, n = strlen(name);
    struct config_walk w = {0};
    for (const struct oc_setting *s; n < 128 && (s = config_walk(cfg, &w)) != NULL;) {
        size_t d = (size_t)oc_suggest_distance(name, n, s->name, strlen(s->name));
        if (d < best_d) {
            best_d = d;
            best = s->name;
        }
    }
    if (best && best_d <= 2 + strlen(best) / 8)
        return best;
    memset(&w, 0, sizeof(w));
    for (const struct oc_setting *s; (s = config_walk(cfg, &w)) != NULL;)
        if (strcmp(last_part(s->name), last_part(name)) == 0)
            return s->name;
    memset(&w, 0, sizeof(w));
    for (const struct oc_setting *s; (s = config_walk(cfg, &w)) != NULL;)
        if (n >= 4 && strncmp(s->name, name, n) == 0)
            return s->name;
    return NULL;
}

static const char *const type_names[] = {
    [OC_SETTING_STR] = "string",   [OC_SETTING_INT] = "integer",  [OC_SETTING_U32] = "integer",
    [OC_SETTING_PCT] = "integer",  [OC_SETTING_BOOL] = "boolean", [OC_SETTING_ENUM] = "enum",
    [OC_SETTING_ADDR] = "address",
};

/* A default as shown in the docs: an empty one as "". */
static const char *shown(const char *def)
{
    return *def ? def : "\"\"";
}

/* Writes the placeholder for a flag's value ("N", "ADDR:PORT", "DIR") into b. */
static void put_metavar(struct oc_buf *b, const struct oc_setting *s)
{
    const char *p = last_part(s->name), *u = strrchr(p, '_');
    if (is_int(s)) {
        oc_buf_puts(b, "N");
    } else if (s->type == OC_SETTING_ADDR) {
        oc_buf_puts(b, "ADDR:PORT");
    } else if (s->type == OC_SETTING_BOOL) {
        oc_buf_puts(b, "true|false");
    } else {
        for (p = u ? u + 1 : p; *p; p++)
            oc_buf_printf(b, "%c", *p >= 'a' && *p <= 'z' ? *p - 'a' + 'A' : *p);
    }
}

/* Writes the bounds or choices of s ("0..64", "normal|full") into b, or nothing. */
static void put_bounds(struct oc_buf *b, const struct oc_setting *s, const char *sep)
{
    if (is_int(s))
        oc_buf_printf(b, "%lld..%lld", (long long)s->min, (long long)s->max);
    else if (s->type == OC_SETTING_ENUM)
        put_choices(b, s, sep);
    else if (s->type == OC_SETTING_ADDR)
        oc_buf_puts(b, "IPv4:PORT or [IPv6]:PORT");
    else if (s->type == OC_SETTING_BOOL)
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

/* A setting in the example YAML: its place in the walk, and the place of the first setting
 * with the same top-level key ("ingest" of "ingest.wal"). */
struct example_row {
    const struct oc_setting *s;
    size_t order, top;
};

/* Orders by top-level key, in the order the keys first appear, then by walk order: settings
 * of one top-level mapping given by several modules are written under one key. */
static int cmp_example(const void *a, const void *b)
{
    const struct example_row *x = a, *y = b;
    if (x->top != y->top)
        return x->top < y->top ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

/* 1 when names a and b start with the same top-level key. */
static int same_top(const char *a, const char *b)
{
    size_t na = strcspn(a, "."), nb = strcspn(b, ".");
    return na == nb && memcmp(a, b, na) == 0;
}

/* Writes the YAML of every default, grouped by top-level key. */
static void put_examples(const struct oc_config *cfg, struct oc_buf *b)
{
    struct config_walk w = {0};
    size_t n = 0, cap = 64;
    struct example_row *rows = oc_malloc(cap * sizeof(*rows));
    for (const struct oc_setting *s; (s = config_walk(cfg, &w)) != NULL; n++) {
        if (n == cap)
            rows = oc_realloc(rows, (cap *= 2) * sizeof(*rows));
        size_t top = n;
        for (size_t i = 0; i < n && top == n; i++)
            if (same_top(rows[i].s->name, s->name))
                top = rows[i].top;
        rows[n] = (struct example_row){s, n, top};
    }
    qsort(rows, n, sizeof(*rows), cmp_example);
    for (size_t i = 0; i < n; i++)
        put_example(b, i ? rows[i - 1].s->name : NULL, rows[i].s->name, rows[i].s->def);
    free(rows);
}

/* Writes docs/config.md: title, how to use, the YAML of every default, then the table. */
void config_doc_markdown(const struct oc_config *cfg, struct oc_buf *b)
{
    struct config_walk w = {0};
    oc_buf_puts(b, "# oncue configuration\n\n"
                   "This file is generated from the settings tables (the server's in "
                   "`src/config/settings.c`, each module's in its `struct oc_module`) "
                   "by `oncue docs config`; do not edit it by hand.\n\n"
                   "Every setting has a default, so no file is needed. Pass a YAML file with "
                   "`oncue serve --config FILE`, set one setting with `--set NAME=VALUE`, or use "
                   "the flag listed below. Nested mappings and dotted names are the same "
                   "(`http:` then `  listen: ...` is `http.listen: ...`). This file holds every "
                   "default:\n\n```yaml\n");
    put_examples(cfg, b);
    oc_buf_puts(b, "```\n\n| setting | type | default | bounds/choices | flag | description |\n"
                   "|---|---|---|---|---|---|\n");
    memset(&w, 0, sizeof(w));
    for (const struct oc_setting *s; (s = config_walk(cfg, &w)) != NULL;) {
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
void config_doc_help(const struct oc_config *cfg, struct oc_buf *b)
{
    struct config_walk w = {0};
    oc_buf_puts(b, "Settings flags (each sets one setting):\n");
    for (const struct oc_setting *s; (s = config_walk(cfg, &w)) != NULL;) {
        if (!s->flag)
            continue;
        size_t start = b->len;
        oc_buf_printf(b, "  %s ", s->flag);
        put_metavar(b, s);
        pad_to(b, start, 23);
        oc_buf_printf(b, "%s (default %s): %s\n", s->name, shown(s->def), s->desc);
    }
    oc_buf_puts(b, "\nAll settings (in --config FILE as YAML, or as --set NAME=VALUE):\n");
    memset(&w, 0, sizeof(w));
    for (const struct oc_setting *s; (s = config_walk(cfg, &w)) != NULL;) {
        size_t start = b->len;
        oc_buf_printf(b, "  %s", s->name);
        pad_to(b, start, 30);
        oc_buf_printf(b, "%s", type_names[s->type]);
        if (s->type != OC_SETTING_STR) {
            oc_buf_puts(b, " ");
            put_bounds(b, s, "|");
        }
        oc_buf_printf(b, ", default %s: %s\n", shown(s->def), s->desc);
    }
}
