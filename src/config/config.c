/*
 * config.c - reads a YAML configuration document (libyaml's event API) into struct oc_config.
 *
 * Nested mappings flatten to dotted names ("http:\n  listen: x" is "http.listen: x"); every
 * leaf must name a setting: a row of the server's table (settings.c) or of a module's table. The
 * document is untrusted: it is bounded (size, depth, key length), aliases and sequences are
 * refused, and every problem is reported once as "FILE:LINE: what is wrong" (libyaml marks are
 * 0-based; lines here 1-based).
 */
#include "config/config.h"
#include "core/alloc.h"
#include "core/err.h"
#include "core/file.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#define NAME_MAX_LEN (CONFIG_MAX_DEPTH * (CONFIG_MAX_KEY + 1) + 16)

/* A dotted name already given in the document, to refuse duplicates. */
struct seen {
    char *name;  /* owned */
    size_t line; /* 1-based line where it was given */
};

struct loader {
    yaml_parser_t parser;
    yaml_event_t ev;         /* the current event, valid when have_ev */
    int have_ev;             /* ev must be deleted */
    struct oc_config *cfg;   /* settings being filled */
    const char *file;        /* name used in messages */
    const char *data;        /* the document */
    size_t n;                /* its length */
    char *err;               /* message out */
    size_t errlen;           /* its size */
    char name[NAME_MAX_LEN]; /* dotted name of the current key */
    size_t name_len;         /* bytes used in name */
    struct seen *seen;       /* names given so far (owned) */
    size_t nseen, seen_cap;  /* used, allocated */
};

static int fail(struct loader *ld, size_t line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Writes "FILE:LINE: message" into the error buffer; returns OC_EINVAL. */
static int fail(struct loader *ld, size_t line, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    snprintf(ld->err, ld->errlen, "%s:%zu: %s", ld->file, line, msg);
    return OC_EINVAL;
}

/* 1-based line of the current event's start. */
static size_t ev_line(const struct loader *ld)
{
    return ld->ev.start_mark.line + 1;
}

/* Reports the parser's error with the best line it has. */
static int syntax_error(struct loader *ld)
{
    const yaml_parser_t *p = &ld->parser;
    size_t line = p->problem_mark.line + 1;
    if (p->error == YAML_READER_ERROR) {
        line = 1;
        for (size_t i = 0; i < p->problem_offset && i < ld->n; i++)
            line += ld->data[i] == '\n';
    }
    if (p->error == YAML_MEMORY_ERROR)
        return fail(ld, line, "out of memory while parsing");
    if (p->context)
        return fail(ld, line, "YAML syntax error: %s (%s started on line %zu)",
                    p->problem ? p->problem : "invalid YAML", p->context, p->context_mark.line + 1);
    return fail(ld, line, "YAML syntax error: %s", p->problem ? p->problem : "invalid YAML");
}

/* Moves to the next event; 0 or OC_EINVAL (syntax error, or an alias or anchor). */
static int next(struct loader *ld)
{
    if (ld->have_ev)
        yaml_event_delete(&ld->ev);
    ld->have_ev = 0;
    if (!yaml_parser_parse(&ld->parser, &ld->ev))
        return syntax_error(ld);
    ld->have_ev = 1;
    const yaml_char_t *anchor = NULL;
    if (ld->ev.type == YAML_SCALAR_EVENT)
        anchor = ld->ev.data.scalar.anchor;
    else if (ld->ev.type == YAML_MAPPING_START_EVENT)
        anchor = ld->ev.data.mapping_start.anchor;
    else if (ld->ev.type == YAML_SEQUENCE_START_EVENT)
        anchor = ld->ev.data.sequence_start.anchor;
    if (ld->ev.type == YAML_ALIAS_EVENT || anchor)
        return fail(ld, ev_line(ld), "anchors and aliases are not supported; write values out");
    return 0;
}

/* The current name quoted for a message. */
static const char *quoted_name(const struct loader *ld, char *out, size_t outlen)
{
    config_quote(ld->name, ld->name_len, out, outlen);
    return out;
}

/* Whether some setting of cfg has a name that starts with prefix followed by a '.'. */
static int known_prefix(const struct oc_config *cfg, const char *prefix, size_t n)
{
    struct config_walk w = {0};
    for (const struct oc_setting *s; (s = config_walk(cfg, &w)) != NULL;)
        if (strncmp(s->name, prefix, n) == 0 && s->name[n] == '.')
            return 1;
    return 0;
}

/* Records the current name at line, or fails if it was given before. */
static int remember(struct loader *ld, size_t line)
{
    char q[64];
    for (size_t i = 0; i < ld->nseen; i++)
        if (strcmp(ld->seen[i].name, ld->name) == 0)
            return fail(ld, line, "duplicate key: %s was already given on line %zu",
                        quoted_name(ld, q, sizeof(q)), ld->seen[i].line);
    ld->seen = oc_grow(ld->seen, &ld->seen_cap, ld->nseen + 1, sizeof(*ld->seen));
    ld->seen[ld->nseen].name = oc_strdup(ld->name);
    ld->seen[ld->nseen++].line = line;
    return 0;
}

/* Fails with "unknown setting" for the current name, suggesting the closest known one. */
static int unknown(struct loader *ld, size_t line)
{
    char q[64];
    const char *near = config_suggest(ld->cfg, ld->name);
    return fail(ld, line, "unknown setting %s%s%s%s", quoted_name(ld, q, sizeof(q)),
                near ? "; did you mean " : "", near ? near : "", near ? "?" : "");
}

/* Whether the current event is a plain scalar meaning "nothing" (empty, ~ or null). */
static int is_null_scalar(const struct loader *ld)
{
    const char *v = (const char *)ld->ev.data.scalar.value;
    return ld->ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
           (!*v || strcmp(v, "~") == 0 || strcmp(v, "null") == 0);
}

/* Applies the current scalar event as the value of the current name. */
static int leaf(struct loader *ld)
{
    char why[768];
    size_t line = ev_line(ld), len = ld->ev.data.scalar.length;
    const char *v = (const char *)ld->ev.data.scalar.value;
    void *base = NULL;
    const struct oc_setting *s = config_locate(ld->cfg, ld->name, &base);
    if (!s && known_prefix(ld->cfg, ld->name, ld->name_len) && is_null_scalar(ld))
        return remember(ld, line); /* "http:" with nothing under it */
    if (!s && known_prefix(ld->cfg, ld->name, ld->name_len))
        return fail(ld, line, "%s: expected a mapping of settings, got a single value", ld->name);
    if (!s)
        return unknown(ld, line);
    if (remember(ld, line) != 0)
        return OC_EINVAL;
    if (strlen(v) != len)
        return fail(ld, line, "%s: the value contains a NUL byte", s->name);
    if (is_null_scalar(ld) && s->type == OC_SETTING_STR)
        v = ""; /* "name:" with nothing after it is an empty string */
    else if (is_null_scalar(ld))
        return fail(ld, line, "%s: no value given (remove the line to keep the default %s)",
                    s->name, s->def);
    if (config_apply(base, s, v, why, sizeof(why)) != 0)
        return fail(ld, line, "%s: %s", s->name, why);
    return 0;
}

static int mapping(struct loader *ld, int depth);

/* Handles the value (current event) of the key just appended to the name (given on line
 * key_line). */
static int value(struct loader *ld, int depth, size_t key_line)
{
    char q[64];
    size_t line = ev_line(ld);
    const struct oc_setting *s = config_find(ld->cfg, ld->name);
    switch (ld->ev.type) {
    case YAML_SCALAR_EVENT:
        return leaf(ld);
    case YAML_SEQUENCE_START_EVENT:
        if (!s)
            return unknown(ld, line);
        return fail(ld, line, "%s: sequences (lists) are not supported yet; give one value",
                    s->name);
    case YAML_MAPPING_START_EVENT:
        if (s)
            return fail(ld, line, "%s: expected a single value, got a mapping", s->name);
        if (depth >= CONFIG_MAX_DEPTH)
            return fail(ld, line, "%s: nested deeper than %d levels", quoted_name(ld, q, sizeof(q)),
                        CONFIG_MAX_DEPTH);
        if (remember(ld, key_line) != 0)
            return OC_EINVAL;
        return mapping(ld, depth + 1);
    default:
        return fail(ld, line, "unexpected YAML event");
    }
}

/* Appends ".key" (or "key" at the top) from the current scalar event to the name. */
static int push_key(struct loader *ld)
{
    size_t len = ld->ev.data.scalar.length, line = ev_line(ld);
    const char *k = (const char *)ld->ev.data.scalar.value;
    char q[64];
    if (len > CONFIG_MAX_KEY) {
        config_quote(k, len, q, sizeof(q));
        return fail(ld, line, "key %s is longer than %d bytes", q, CONFIG_MAX_KEY);
    }
    if (len == 0 || strlen(k) != len) {
        config_quote(k, len, q, sizeof(q));
        return fail(ld, line, "invalid key %s (empty or with a NUL byte)", q);
    }
    if (ld->name_len)
        ld->name[ld->name_len++] = '.';
    memcpy(ld->name + ld->name_len, k, len + 1);
    ld->name_len += len;
    return 0;
}

/* Reads key/value pairs after a MAPPING_START event at nesting level depth (1 = top), up to
 * and including its MAPPING_END. The name on entry is the mapping's own dotted name. */
static int mapping(struct loader *ld, int depth)
{
    size_t base = ld->name_len, start_line = ev_line(ld), keys = 0, key_line;
    int rc;
    for (;;) {
        if ((rc = next(ld)) != 0)
            return rc;
        if (ld->ev.type == YAML_MAPPING_END_EVENT)
            break;
        if (ld->ev.type != YAML_SCALAR_EVENT)
            return fail(ld, ev_line(ld), "keys must be plain names, not mappings or lists");
        key_line = ev_line(ld);
        if ((rc = push_key(ld)) != 0 || (rc = next(ld)) != 0 ||
            (rc = value(ld, depth, key_line)) != 0)
            return rc;
        ld->name_len = base;
        ld->name[base] = '\0';
        keys++;
    }
    if (keys == 0 && base > 0 && !known_prefix(ld->cfg, ld->name, base))
        return unknown(ld, start_line);
    return 0;
}

/* Reads one document's root after DOCUMENT_START; an empty document is fine. */
static int root(struct loader *ld)
{
    int rc = next(ld);
    if (rc != 0)
        return rc;
    switch (ld->ev.type) {
    case YAML_MAPPING_START_EVENT:
        return mapping(ld, 1);
    case YAML_SCALAR_EVENT:
        if (is_null_scalar(ld))
            return 0;
        return fail(ld, ev_line(ld),
                    "expected a mapping of settings (name: value), got a "
                    "scalar");
    case YAML_SEQUENCE_START_EVENT:
        return fail(ld, ev_line(ld),
                    "expected a mapping of settings (name: value), got a "
                    "sequence");
    default:
        return fail(ld, ev_line(ld), "expected a mapping of settings");
    }
}

/* Walks the whole stream: at most one document. */
static int stream(struct loader *ld)
{
    int rc, docs = 0;
    while ((rc = next(ld)) == 0 && ld->ev.type != YAML_STREAM_END_EVENT) {
        if (ld->ev.type == YAML_STREAM_START_EVENT || ld->ev.type == YAML_DOCUMENT_END_EVENT)
            continue;
        if (ld->ev.type != YAML_DOCUMENT_START_EVENT)
            return fail(ld, ev_line(ld), "unexpected YAML event");
        if (++docs > 1)
            return fail(ld, ev_line(ld), "only one YAML document is supported");
        if ((rc = root(ld)) != 0)
            return rc;
    }
    return rc;
}

/* Applies the n bytes at data over cfg; 0, or OC_EINVAL with "NAME:LINE: ..." in err. The
 * caller keeps data and name; cfg's strings stay owned by cfg (see config.h). */
int config_load_buf(struct oc_config *cfg, const char *name, const char *data, size_t n, char *err,
                    size_t errlen)
{
    struct loader *ld = oc_calloc(1, sizeof(*ld));
    int rc;
    ld->cfg = cfg;
    ld->file = name;
    ld->data = data;
    ld->n = n;
    ld->err = err;
    ld->errlen = errlen;
    if (n > CONFIG_MAX_BYTES) {
        rc = fail(ld, 1, "file is larger than %d bytes", CONFIG_MAX_BYTES);
        goto out;
    }
    if (!yaml_parser_initialize(&ld->parser))
        oc_oom(sizeof(ld->parser));
    yaml_parser_set_input_string(&ld->parser, (const unsigned char *)data, n);
    rc = stream(ld);
    if (ld->have_ev)
        yaml_event_delete(&ld->ev);
    yaml_parser_delete(&ld->parser);
out:
    for (size_t i = 0; i < ld->nseen; i++)
        free(ld->seen[i].name);
    free(ld->seen);
    free(ld);
    return rc;
}

/* Reads at most CONFIG_MAX_BYTES + 1 bytes of path and applies them; 0, OC_EIO or OC_EINVAL. */
int config_load_file(struct oc_config *cfg, const char *path, char *err, size_t errlen)
{
    size_t n = 0;
    char *data = NULL;
    int rc = oc_read_file(path, CONFIG_MAX_BYTES, &data, &n, err, errlen);
    if (rc == 0)
        rc = config_load_buf(cfg, path, data, n, err, errlen);
    free(data);
    return rc;
}
