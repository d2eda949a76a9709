/*
 * config.h - oncue's settings: one table, a YAML file, and command-line overrides.
 *
 * Every setting is declared once in config/settings.c (name, type, default, bounds,
 * description, where it lives in struct oc_config). `oncue serve --help` and docs/config.md
 * are generated from that table. Every setting has a default, so no file is needed. A file is
 * YAML (libyaml): nested mappings whose dotted paths name settings ("http:\n  listen: ...",
 * or "http.listen: ..."). A bad file fails with "FILE:LINE: what is wrong", never a crash.
 *
 * To add a setting: add a field to struct oc_config and a row to the table.
 */
#ifndef OC_CONFIG_CONFIG_H
#define OC_CONFIG_CONFIG_H

#include <stddef.h>
#include <stdint.h>

struct oc_buf;

enum config_type {
    CONFIG_STR = 1, /* char * (owned by the config) */
    CONFIG_INT,     /* int64_t within [min, max] */
    CONFIG_BOOL,    /* int, from true/false/yes/no/on/off */
    CONFIG_ENUM,    /* char * that must be one of choices */
    CONFIG_ADDR,    /* char * "IPv4:PORT" or "[IPv6]:PORT", port 0-65535 */
};

/* Hard caps on a configuration document (config_load_buf rejects anything beyond them). */
#define CONFIG_MAX_BYTES (1024 * 1024) /* whole document */
#define CONFIG_MAX_DEPTH 16            /* nested mappings */
#define CONFIG_MAX_KEY   256           /* bytes in one key */
#define CONFIG_MAX_VALUE 4096          /* bytes in one value */

struct oc_config {
    char *data_dir;          /* store.data_dir */
    char *store_sync;        /* store.synchronous: normal | full */
    char *listen;            /* http.listen */
    int64_t http_workers;    /* http.workers; 0 = number of cores */
    int64_t http_max_body;   /* http.max_body_bytes */
    int64_t http_max_header; /* http.max_header_bytes */
    int64_t http_timeout_s;  /* http.timeout_s */
    int64_t http_grace_ms;   /* http.shutdown_grace_ms */
    int64_t http_arena_max;  /* http.request_memory_bytes */
    char *log_level;         /* log.level */
    char *clock;             /* clock.kind */
    char *modules;           /* modules */

    /* Capabilities' settings: one group each, after a blank line. */
    int64_t steer_ttl_s;          /* steer.ttl_s */
    char *steer_region_header;    /* steer.region_header */
    char *steer_client_ip_header; /* steer.client_ip_header */
    char *steer_geoip_db;         /* steer.geoip_db */
    char *steer_geoip_regions;    /* steer.geoip_regions */
    int64_t steer_max_rps;        /* steer.max_rps; 0 = no cap */
    int64_t steer_followup_hours; /* steer.followup_hours */
    char *steer_policy_file;      /* steer.policy_file */
    char *steer_backup_origin;    /* steer.backup_origin */
    char *catalog_file;           /* catalog.file; empty = the embedded example */

    /* ingest and qoe */
    int64_t ingest_lateness_s;     /* ingest.allowed_lateness_s */
    int64_t ingest_future_skew_s;  /* ingest.max_future_skew_s */
    int64_t ingest_max_values;     /* ingest.max_values_per_dim */
    int64_t ingest_max_leaves_min; /* ingest.max_leaves_per_minute */
    int64_t ingest_max_leaves;     /* ingest.max_leaves */
    int64_t ingest_max_sessions;   /* ingest.max_sessions_per_minute */
    int64_t qoe_memory_minutes;    /* qoe.memory_minutes */
    int64_t qoe_rollup_5m_after_s; /* qoe.rollup_5m_after_s */
    int64_t qoe_rollup_1h_after_s; /* qoe.rollup_1h_after_s */
    int64_t qoe_retention_days;    /* qoe.retention_days */

    /* incident */
    int64_t incident_group_window_s;    /* incident.group_window_s */
    int64_t incident_recovery_window_s; /* incident.recovery_window_s */
    int64_t incident_followup_hours;    /* incident.followup_hours */
    int64_t incident_sev1_start_pct;    /* incident.sev1_cannot_start_pct */
    int64_t incident_sev1_rebuffer_pct; /* incident.sev1_rebuffer_pct */
    int64_t incident_sev1_rebuffer_s;   /* incident.sev1_rebuffer_for_s */
    int64_t incident_sev2_pct;          /* incident.sev2_affected_pct */
    char *incident_webhooks_file;       /* incident.webhooks_file */
    char *incident_public_url;          /* incident.public_url */
    char *incident_deploy_secret;       /* incident.deploy_secret */

    /* slo and alert */
    char *slo_file;         /* slo.file; empty = the embedded defaults */
    char *alert_rules_file; /* alert.rules_file; empty = the embedded defaults */
};

struct config_setting {
    const char *name; /* dotted path, e.g. "http.listen" */
    enum config_type type;
    const char *def;            /* default, as it would be written in the file */
    int64_t min, max;           /* bounds for CONFIG_INT */
    const char *const *choices; /* NULL-terminated, for CONFIG_ENUM */
    size_t offset;              /* offsetof(struct oc_config, field) */
    const char *flag;           /* command-line flag of `oncue serve`, or NULL */
    const char *desc;           /* one line */
};

/* The settings table, ending in {0}. */
extern const struct config_setting config_settings[];

/* Fills cfg with every default. Free with config_free. */
void config_defaults(struct oc_config *cfg);
/* Frees the strings cfg owns. */
void config_free(struct oc_config *cfg);
/* Applies a YAML document (n bytes, named name in messages) over cfg. On failure returns
 * OC_EINVAL and writes "NAME:LINE: what is wrong" into err; cfg may be partly updated. */
int config_load_buf(struct oc_config *cfg, const char *name, const char *data, size_t n, char *err,
                    size_t errlen);
/* Reads and applies a file; as config_load_buf, plus OC_EIO ("FILE: reason") if unreadable. */
int config_load_file(struct oc_config *cfg, const char *path, char *err, size_t errlen);
/* Sets one setting from text (a flag or --set name=value). On failure writes
 * "NAME: what is wrong" into err and returns OC_EINVAL or OC_ENOTFOUND. */
int config_set(struct oc_config *cfg, const char *name, const char *value, char *err,
               size_t errlen);
/* The setting with this name, or NULL. */
const struct config_setting *config_find(const char *name);
/* The setting whose command-line flag is flag ("--listen"), or NULL. */
const struct config_setting *config_find_flag(const char *flag);
/* Writes the settings as Markdown (docs/config.md) or as --help text into b. */
void config_doc_markdown(struct oc_buf *b);
void config_doc_help(struct oc_buf *b);

/* Parses text value as setting s and stores it at (char *)base + s->offset, freeing the string
 * stored there before (base must hold NULL or an owned string there). Returns 0, or OC_EINVAL
 * with why filled with what is wrong ("expected ..., got \"...\"") without the name. */
int config_apply(void *base, const struct config_setting *s, const char *value, char *why,
                 size_t whylen);
/* The known setting name closest to name (a likely typo), or NULL when none is close. */
const char *config_suggest(const char *name);
/* Writes the n bytes at s into out as a double-quoted string for messages: non-printable
 * bytes as \xNN, cut to about 40 bytes with "...". out always ends in NUL. */
void config_quote(const char *s, size_t n, char *out, size_t outlen);

#endif
