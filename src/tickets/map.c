/*
 * map.c - reading a ticket out of a JSON payload through a field-mapping table: for each of
 * oncue's fields, candidate paths into the payload, the first present winning. Built-in
 * tables for Zendesk (trigger payloads with a "ticket" object, and event webhooks with
 * "detail"), Freshdesk (the ticket API's fields and the automation webhook's
 * "freshdesk_webhook" placeholders) and Salesforce Case (API field names), and a generic one
 * that a flat YAML file (tickets.mapping_file) overrides field by field.
 */
#include "tickets/tickets_int.h"
#include "core/err.h"
#include "core/json.h"
#include "core/timefmt.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PATH_DEPTH_MAX 8 /* keys in one path */
#define MAP_FILE_MAX   (64 << 10)

const char *const tickets_format_names[] = {"zendesk", "freshdesk", "salesforce", "generic", NULL};
const char *const tickets_field_names[] = {
    "id",      "subject", "body",        "updated_at", "created_at", "status", "priority", "tier",
    "segment", "device",  "app_version", "region",     "service",    "tags",   "account",  NULL};

int tickets_format_find(const char *s)
{
    for (int i = 0; s && tickets_format_names[i]; i++)
        if (strcmp(s, tickets_format_names[i]) == 0)
            return i;
    return -1;
}

/* Built-in tables: one row per format, one string per field (in enum tickets_field order). */
static const char *const builtin[TICKETS_NFORMATS][TICKETS_NFIELDS] = {
    [TICKETS_ZENDESK] =
        {"ticket.id|detail.id|id", "ticket.subject|detail.subject|subject",
         "ticket.description|ticket.latest_comment|detail.description|description",
         "ticket.updated_at|detail.updated_at|updated_at",
         "ticket.created_at|detail.created_at|created_at", "ticket.status|detail.status|status",
         "ticket.priority|detail.priority|priority",
         "ticket.requester.tier|ticket.organization.tier|ticket.tier|tier",
         "ticket.requester.segment|ticket.organization.segment|ticket.segment|segment",
         "ticket.device|ticket.custom.device|device",
         "ticket.app_version|ticket.custom.app_version|app_version",
         "ticket.region|ticket.custom.region|region", "ticket.service|service",
         "ticket.tags|detail.tags|tags",
         "ticket.requester.external_id|ticket.organization.external_id|ticket.account|account"},
    [TICKETS_FRESHDESK] =
        {"freshdesk_webhook.ticket_id|ticket.id|id",
         "freshdesk_webhook.ticket_subject|ticket.subject|subject",
         "freshdesk_webhook.ticket_description|ticket.description_text|description_text|"
         "description",
         "freshdesk_webhook.ticket_updated_at|ticket.updated_at|updated_at",
         "freshdesk_webhook.ticket_created_at|ticket.created_at|created_at",
         "freshdesk_webhook.ticket_status|ticket.status|status",
         "freshdesk_webhook.ticket_priority|ticket.priority|priority",
         "freshdesk_webhook.ticket_cf_tier|custom_fields.cf_tier|ticket.custom_fields.cf_tier",
         "freshdesk_webhook.ticket_cf_segment|custom_fields.cf_segment",
         "freshdesk_webhook.ticket_cf_device|custom_fields.cf_device",
         "freshdesk_webhook.ticket_cf_app_version|custom_fields.cf_app_version",
         "freshdesk_webhook.ticket_cf_region|custom_fields.cf_region",
         "freshdesk_webhook.ticket_product|custom_fields.cf_service|product",
         "freshdesk_webhook.ticket_tags|ticket.tags|tags",
         "freshdesk_webhook.ticket_cf_account|custom_fields.cf_account|ticket.custom_fields.cf_"
         "account"},
    [TICKETS_SALESFORCE] = {"Id|CaseNumber", "Subject", "Description",
                            "LastModifiedDate|SystemModstamp", "CreatedDate", "Status", "Priority",
                            "Tier__c|Account.Tier__c", "Segment__c|Account.Segment__c", "Device__c",
                            "App_Version__c", "Region__c", "Product__c|Service__c", "Tags__c",
                            "Account_Id__c|AccountId|Account.Id"},
    [TICKETS_GENERIC] = {"id", "subject", "body", "updated_at", "created_at", "status", "priority",
                         "tier", "segment", "device", "app_version", "region", "service", "tags",
                         "account"},
};

void tickets_map_builtin(enum tickets_format f, struct tickets_map *out)
{
    memset(out, 0, sizeof *out);
    for (int i = 0; i < TICKETS_NFIELDS; i++)
        snprintf(out->paths[i], sizeof out->paths[i], "%s", builtin[f][i]);
}

/* Cuts line [s, e) into key and value around the first ':', both trimmed: 1 for a
 * key-value line, 0 for a blank or comment line, -1 otherwise. */
static int kv_line(char *s, char **key, char **val)
{
    char *hash = strchr(s, '#');
    if (hash)
        *hash = '\0';
    s += strspn(s, " \t");
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        s[--n] = '\0';
    if (!n)
        return 0;
    char *colon = strchr(s, ':');
    if (!colon)
        return -1;
    *colon = '\0';
    char *v = colon + 1;
    v += strspn(v, " \t");
    size_t kn = strlen(s);
    while (kn && (s[kn - 1] == ' ' || s[kn - 1] == '\t'))
        s[--kn] = '\0';
    /* a quoted value loses its quotes */
    size_t vn = strlen(v);
    if (vn >= 2 && (v[0] == '"' || v[0] == '\'') && v[vn - 1] == v[0]) {
        v[vn - 1] = '\0';
        v++;
    }
    *key = s;
    *val = v;
    return 1;
}

/* Walks text line by line, calling fn on each key-value line: 0, or fn's error (err filled
 * with "name:line: ..."). */
int tickets_flat_yaml(const char *name, const char *text, size_t n,
                      int (*fn)(const char *key, const char *val, void *arg, char *why, size_t wn),
                      void *arg, char *err, size_t errlen)
{
    char line[1024], why[200];
    int lineno = 0;
    for (size_t off = 0; off < n;) {
        const char *nl = memchr(text + off, '\n', n - off);
        size_t len = nl ? (size_t)(nl - (text + off)) : n - off;
        char *key = NULL, *val = NULL;
        lineno++;
        if (len >= sizeof line) {
            snprintf(err, errlen, "%s:%d: a line longer than %zu bytes", name, lineno,
                     sizeof line - 1);
            return OC_EINVAL;
        }
        memcpy(line, text + off, len);
        line[len] = '\0';
        if (memchr(line, '\0', len)) {
            snprintf(err, errlen, "%s:%d: a NUL byte", name, lineno);
            return OC_EINVAL;
        }
        off += len + (nl != NULL);
        int k = kv_line(line, &key, &val);
        if (k < 0) {
            snprintf(err, errlen, "%s:%d: expected \"key: value\"", name, lineno);
            return OC_EINVAL;
        }
        if (k == 0)
            continue;
        int rc = fn(key, val, arg, why, sizeof why);
        if (rc) {
            snprintf(err, errlen, "%s:%d: %s", name, lineno, why);
            return rc;
        }
    }
    return 0;
}

static int map_row(const char *key, const char *val, void *arg, char *why, size_t wn)
{
    struct tickets_map *m = arg;
    for (int i = 0; i < TICKETS_NFIELDS; i++) {
        if (strcmp(key, tickets_field_names[i]) != 0)
            continue;
        if (!val[0] || strlen(val) >= TICKETS_PATHS_MAX ||
            strspn(val, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.|-") !=
                strlen(val)) {
            snprintf(why, wn, "%s: 1 to %d characters of paths (a.b.c) separated by |", key,
                     TICKETS_PATHS_MAX - 1);
            return OC_EINVAL;
        }
        snprintf(m->paths[i], sizeof m->paths[i], "%s", val);
        return 0;
    }
    snprintf(why, wn,
             "%.60s: not a field (id, subject, body, updated_at, created_at, status, "
             "priority, tier, segment, device, app_version, region, service, tags, account)",
             key);
    return OC_EINVAL;
}

int tickets_map_parse(const char *name, const char *text, size_t n, struct tickets_map *out,
                      char *err, size_t errlen)
{
    return tickets_flat_yaml(name, text, n, map_row, out, err, errlen);
}

/* Reads a whole small file into a malloc'd buffer: 0 or OC_EIO / OC_ETOOBIG. */
int tickets_slurp(const char *path, char **out, size_t *n, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: cannot open", path);
        return OC_EIO;
    }
    char *b = malloc(MAP_FILE_MAX + 1);
    size_t got = b ? fread(b, 1, MAP_FILE_MAX + 1, f) : 0;
    fclose(f);
    if (!b || got > MAP_FILE_MAX) {
        free(b);
        snprintf(err, errlen, "%s: larger than %d bytes", path, MAP_FILE_MAX);
        return OC_ETOOBIG;
    }
    b[got] = '\0';
    *out = b;
    *n = got;
    return 0;
}

int tickets_map_load(const char *path, struct tickets_map *out, char *err, size_t errlen)
{
    char *b = NULL;
    size_t n = 0;
    int rc = tickets_slurp(path, &b, &n, err, errlen);
    if (!rc)
        rc = tickets_map_parse(path, b, n, out, err, errlen);
    free(b);
    return rc;
}

/* --- keyword files share the reader --- */

static int kw_row(const char *key, const char *val, void *arg, char *why, size_t wn)
{
    struct tickets_keywords *kw = arg;
    const char *dot = strchr(key, '.');
    static const char *const dims[] = {"symptom", "device", "tier", "service", NULL};
    int ok = 0;
    for (int i = 0; dot && dims[i]; i++)
        ok |= strlen(dims[i]) == (size_t)(dot - key) && strncmp(key, dims[i], strlen(dims[i])) == 0;
    if (!ok || !dot[1] || strlen(dot + 1) >= TICKETS_FIELD_MAX) {
        snprintf(why, wn, "%.60s: expected symptom.NAME, device.NAME, tier.NAME or service.NAME",
                 key);
        return OC_EINVAL;
    }
    struct tickets_keyword r;
    memset(&r, 0, sizeof r);
    snprintf(r.dim, sizeof r.dim, "%.*s", (int)(dot - key), key);
    snprintf(r.value, sizeof r.value, "%s", dot + 1);
    /* "a, b c, d" or "[a, b c, d]" -> "a|b c|d", each normalized */
    size_t at = 0;
    for (const char *p = val + (val[0] == '['); *p && *p != ']';) {
        size_t len = strcspn(p, ",]");
        char word[128], norm[160];
        if (len && len < sizeof word) {
            memcpy(word, p, len);
            word[len] = '\0';
            tickets_normalize(word, norm, sizeof norm);
            size_t nl = strlen(norm);
            if (nl > 2) { /* strip the framing spaces */
                norm[nl - 1] = '\0';
                int w =
                    snprintf(r.words + at, sizeof r.words - at, "%s%s", at ? "|" : "", norm + 1);
                if (w < 0 || (size_t)w >= sizeof r.words - at) {
                    snprintf(why, wn, "%s: keywords longer than %zu bytes", key,
                             sizeof r.words - 1);
                    return OC_ETOOBIG;
                }
                at += (size_t)w;
            }
        }
        p += len;
        if (*p == ',')
            p++;
    }
    if (!at) {
        snprintf(why, wn, "%s: no keywords", key);
        return OC_EINVAL;
    }
    for (int i = 0; i < kw->n; i++)
        if (strcmp(kw->rows[i].dim, r.dim) == 0 && strcmp(kw->rows[i].value, r.value) == 0) {
            kw->rows[i] = r;
            return 0;
        }
    if (kw->n >= TICKETS_KEYWORDS_MAX) {
        snprintf(why, wn, "more than %d keyword rows", TICKETS_KEYWORDS_MAX);
        return OC_ETOOBIG;
    }
    kw->rows[kw->n++] = r;
    return 0;
}

int tickets_keywords_parse(const char *name, const char *text, size_t n,
                           struct tickets_keywords *kw, char *err, size_t errlen)
{
    return tickets_flat_yaml(name, text, n, kw_row, kw, err, errlen);
}

int tickets_keywords_load(const char *path, struct tickets_keywords *kw, char *err, size_t errlen)
{
    char *b = NULL;
    size_t n = 0;
    int rc = tickets_slurp(path, &b, &n, err, errlen);
    if (!rc)
        rc = tickets_keywords_parse(path, b, n, kw, err, errlen);
    free(b);
    return rc;
}

/* --- reading a payload --- */

/* The value at path (dot-separated keys) in root, or NULL. */
static const json_t *walk(const json_t *root, const char *path, size_t len)
{
    const json_t *v = root;
    char key[TICKETS_PATHS_MAX];
    int depth = 0;
    for (size_t i = 0; i < len && v;) {
        size_t k = 0;
        while (i < len && path[i] != '.' && k < sizeof key - 1)
            key[k++] = path[i++];
        key[k] = '\0';
        i += i < len; /* the dot */
        if (!json_is_object(v) || ++depth > PATH_DEPTH_MAX)
            return NULL;
        v = json_object_get(v, key);
    }
    return v;
}

/* The first present (non-null) value of the '|'-separated paths, or NULL. */
static const json_t *first(const json_t *root, const char *paths)
{
    for (const char *p = paths; *p;) {
        size_t n = strcspn(p, "|");
        const json_t *v = n ? walk(root, p, n) : NULL;
        if (v && !json_is_null(v))
            return v;
        p += n + (p[n] == '|');
    }
    return NULL;
}

/* Copies s into out (n bytes), cut at a UTF-8 character boundary. */
static void copy_cut(char *out, size_t n, const char *s)
{
    size_t len = strlen(s);
    if (len >= n) {
        len = n - 1;
        while (len && ((unsigned char)s[len] & 0xC0) == 0x80)
            len--;
    }
    memcpy(out, s, len);
    out[len] = '\0';
}

/* Writes a scalar's text (string, integer, real, bool) into out: 0, or -1 for arrays and
 * objects. */
static int scalar(const json_t *v, char *out, size_t n)
{
    if (json_is_string(v))
        copy_cut(out, n, json_string_value(v));
    else if (json_is_integer(v))
        snprintf(out, n, "%lld", (long long)json_integer_value(v));
    else if (json_is_real(v))
        snprintf(out, n, "%.17g", json_real_value(v));
    else if (json_is_boolean(v))
        snprintf(out, n, "%s", json_is_true(v) ? "true" : "false");
    else
        return -1;
    return 0;
}

/* Reads a time: RFC 3339 (a "+0000" offset, Salesforce's, is read as "+00:00"), or a number
 * of unix seconds (ms past 1e11). 0 or -1. */
static int read_time(const json_t *v, int64_t *ms)
{
    if (json_is_integer(v) || json_is_real(v)) {
        double d = json_number_value(v);
        if (!(d > 0 && d < 1e14))
            return -1;
        *ms = (int64_t)(d < 1e11 ? d * 1000 : d);
        return 0;
    }
    if (!json_is_string(v))
        return -1;
    char buf[48];
    const char *s = json_string_value(v);
    size_t n = strlen(s);
    if (n < 10 || n >= sizeof buf - 1)
        return -1;
    memcpy(buf, s, n + 1);
    if (n > 5 && (buf[n - 5] == '+' || buf[n - 5] == '-') &&
        strspn(buf + n - 4, "0123456789") == 4 && buf[n - 8] != '-') {
        memmove(buf + n - 1, buf + n - 2, 3); /* "+0000" -> "+00:00" */
        buf[n - 2] = ':';
    }
    return oc_time_parse(buf, 0, ms) == 0 ? 0 : -1;
}

/* Joins an array of strings (or takes a string) as the provider's tags. */
static void read_tags(const json_t *v, char *out, size_t n)
{
    size_t at = 0;
    out[0] = '\0';
    if (json_is_string(v)) {
        copy_cut(out, n, json_string_value(v));
        for (char *p = out; *p; p++)
            if (*p == ',' || *p == ';')
                *p = ' ';
        return;
    }
    size_t i;
    const json_t *e;
    json_array_foreach(v, i, e)
    {
        if (!json_is_string(e))
            continue;
        int w = snprintf(out + at, n - at, "%s%s", at ? " " : "", json_string_value(e));
        if (w < 0 || (size_t)w >= n - at) {
            out[at] = '\0';
            return;
        }
        at += (size_t)w;
    }
}

/* 1 when s is a valid external id: printable ASCII without spaces or quotes. */
static int id_valid(const char *s)
{
    if (!s[0])
        return 0;
    for (; *s; s++)
        if (*s <= ' ' || *s > '~' || *s == '"' || *s == '\\')
            return 0;
    return 1;
}

/* Copies a short scalar field f into out, or fails naming it. */
static int field(const json_t *root, const struct tickets_map *map, enum tickets_field f, char *out,
                 size_t n, char *err, size_t errlen)
{
    const json_t *v = first(root, map->paths[f]);
    if (!v)
        return 0;
    if (scalar(v, out, n) != 0) {
        snprintf(err, errlen, "%s (%s): expected a string or a number", tickets_field_names[f],
                 map->paths[f]);
        return OC_EINVAL;
    }
    return 0;
}

int tickets_parse(const struct tickets_map *map, int format, const char *body, size_t n,
                  struct tickets_ticket *t, char *err, size_t errlen)
{
    json_t *root = NULL;
    char jerr[160];
    int rc = OC_EMALFORMED;
    memset(t, 0, sizeof *t);
    t->format = format;
    if (oc_json_parse(body, n, &root, jerr, sizeof jerr) != 0 || !json_is_object(root)) {
        snprintf(err, errlen, "the body is not a JSON object%s%s", root ? "" : ": ",
                 root ? "" : jerr);
        goto out;
    }
    rc = OC_EINVAL;
    const json_t *id = first(root, map->paths[TICKETS_F_ID]);
    if (!id || scalar(id, t->ext_id, sizeof t->ext_id) != 0 || !id_valid(t->ext_id) ||
        (json_is_string(id) && strlen(json_string_value(id)) > TICKETS_ID_MAX)) {
        snprintf(err, errlen, "id (%s): a string or number of 1 to %d printable characters",
                 map->paths[TICKETS_F_ID], TICKETS_ID_MAX);
        goto out;
    }
    static const struct {
        enum tickets_field f;
        size_t off, size;
    } shorts[] = {
        {TICKETS_F_SUBJECT, offsetof(struct tickets_ticket, subject), TICKETS_SUBJECT_MAX},
        {TICKETS_F_BODY, offsetof(struct tickets_ticket, body), TICKETS_TEXT_MAX},
        {TICKETS_F_STATUS, offsetof(struct tickets_ticket, status), 32},
        {TICKETS_F_PRIORITY, offsetof(struct tickets_ticket, priority), 32},
        {TICKETS_F_TIER, offsetof(struct tickets_ticket, f_tier), TICKETS_FIELD_MAX},
        {TICKETS_F_SEGMENT, offsetof(struct tickets_ticket, f_segment), TICKETS_FIELD_MAX},
        {TICKETS_F_DEVICE, offsetof(struct tickets_ticket, f_device), TICKETS_FIELD_MAX},
        {TICKETS_F_APP_VERSION, offsetof(struct tickets_ticket, f_app_version), TICKETS_FIELD_MAX},
        {TICKETS_F_REGION, offsetof(struct tickets_ticket, f_region), TICKETS_FIELD_MAX},
        {TICKETS_F_SERVICE, offsetof(struct tickets_ticket, f_service), TICKETS_FIELD_MAX},
        {TICKETS_F_ACCOUNT, offsetof(struct tickets_ticket, account), TICKETS_ACCOUNT_MAX + 1},
    };
    for (size_t i = 0; i < sizeof shorts / sizeof shorts[0]; i++)
        if (field(root, map, shorts[i].f, (char *)t + shorts[i].off, shorts[i].size, err, errlen) !=
            0)
            goto out;
    const json_t *v;
    if ((v = first(root, map->paths[TICKETS_F_UPDATED])) && read_time(v, &t->updated_ms) != 0) {
        snprintf(err, errlen, "updated_at (%s): an RFC 3339 time or unix seconds",
                 map->paths[TICKETS_F_UPDATED]);
        goto out;
    }
    if ((v = first(root, map->paths[TICKETS_F_CREATED])) && read_time(v, &t->created_ms) != 0) {
        snprintf(err, errlen, "created_at (%s): an RFC 3339 time or unix seconds",
                 map->paths[TICKETS_F_CREATED]);
        goto out;
    }
    if ((v = first(root, map->paths[TICKETS_F_TAGS])) != NULL) {
        if (!json_is_array(v) && !json_is_string(v)) {
            snprintf(err, errlen, "tags (%s): an array of strings or a string",
                     map->paths[TICKETS_F_TAGS]);
            goto out;
        }
        read_tags(v, t->tags_in, sizeof t->tags_in);
    }
    if (!t->subject[0] && !t->body[0]) {
        snprintf(err, errlen, "subject (%s) or body (%s): a ticket needs some text",
                 map->paths[TICKETS_F_SUBJECT], map->paths[TICKETS_F_BODY]);
        goto out;
    }
    rc = 0;
out:
    json_decref(root);
    return rc;
}
