/*
 * yaml.c - the small YAML reader the topology and scenario parsers share (libyaml's document
 * API), plus parsing of durations ("15s", "20m") and clock times ("19:43").
 */
#include "sim/sim_int.h"

#include "core/err.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const sim_dim_names[BEACON_NDIMS] = {
    "region", "country",        "cdn", "pop",   "isp",  "asn", "device", "os",
    "player", "player_version", "drm", "title", "live",
};

int sim_dim_lookup(const char *name)
{
    for (int i = 0; i < BEACON_NDIMS; i++)
        if (strcmp(sim_dim_names[i], name) == 0)
            return i;
    return -1;
}

int sim_yaml_fail(struct sim_yaml *y, const char *fmt, ...)
{
    if (y->err && y->errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(y->err, y->errlen, fmt, ap);
        va_end(ap);
    }
    return OC_EINVAL;
}

/* Loads one document; 0, OC_ETOOBIG past SIM_MAX_FILE, or OC_EINVAL with the reason. */
int sim_yaml_load(struct sim_yaml *y, const char *text, size_t n)
{
    yaml_parser_t p;
    int rc = OC_EINVAL;

    y->loaded = 0;
    if (n > SIM_MAX_FILE)
        return OC_ETOOBIG;
    if (!yaml_parser_initialize(&p))
        return sim_yaml_fail(y, "yaml: cannot initialize");
    yaml_parser_set_input_string(&p, (const unsigned char *)text, n);
    if (!yaml_parser_load(&p, &y->doc)) {
        rc = sim_yaml_fail(y, "yaml line %lu: %s", (unsigned long)p.problem_mark.line + 1,
                           p.problem ? p.problem : "syntax error");
        goto out;
    }
    y->loaded = 1;
    if (!yaml_document_get_root_node(&y->doc)) {
        rc = sim_yaml_fail(y, "yaml: empty document");
        goto out;
    }
    rc = 0;
out:
    yaml_parser_delete(&p);
    return rc;
}

/* Frees the document (safe after a failed load). */
void sim_yaml_free(struct sim_yaml *y)
{
    if (y->loaded)
        yaml_document_delete(&y->doc);
    y->loaded = 0;
}

/* The root node or NULL. */
yaml_node_t *sim_yaml_root(struct sim_yaml *y)
{
    return y->loaded ? yaml_document_get_root_node(&y->doc) : NULL;
}

/* The value of key in mapping map, or NULL. */
yaml_node_t *sim_yaml_get(struct sim_yaml *y, yaml_node_t *map, const char *key)
{
    if (!map || map->type != YAML_MAPPING_NODE)
        return NULL;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = yaml_document_get_node(&y->doc, p->key);
        if (k && k->type == YAML_SCALAR_NODE && strcmp((char *)k->data.scalar.value, key) == 0)
            return yaml_document_get_node(&y->doc, p->value);
    }
    return NULL;
}

/* Items in a sequence node (0 when not a sequence). */
int sim_yaml_len(yaml_node_t *seq)
{
    if (!seq || seq->type != YAML_SEQUENCE_NODE)
        return 0;
    return (int)(seq->data.sequence.items.top - seq->data.sequence.items.start);
}

/* The i-th item of a sequence, or NULL. */
yaml_node_t *sim_yaml_item(struct sim_yaml *y, yaml_node_t *seq, int i)
{
    if (i < 0 || i >= sim_yaml_len(seq))
        return NULL;
    return yaml_document_get_node(&y->doc, seq->data.sequence.items.start[i]);
}

/* The text of a scalar node, or NULL. */
const char *sim_yaml_str(yaml_node_t *n)
{
    if (!n || n->type != YAML_SCALAR_NODE)
        return NULL;
    return (const char *)n->data.scalar.value;
}

/* A numeric scalar; what names it in the error. */
int sim_yaml_num(struct sim_yaml *y, yaml_node_t *n, const char *what, double *out)
{
    const char *s = sim_yaml_str(n);
    char *end = NULL;
    if (!s || !*s)
        return sim_yaml_fail(y, "%s: a number is required", what);
    errno = 0;
    double v = strtod(s, &end);
    if (errno || *end || v != v)
        return sim_yaml_fail(y, "%s: '%s' is not a number", what, s);
    *out = v;
    return 0;
}

/* "90" (seconds), "1500ms", "15s", "20m", "1h" into milliseconds. */
int sim_parse_duration(const char *s, int64_t *ms)
{
    char *end = NULL;
    if (!s || !*s)
        return OC_EINVAL;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || v < 0 || v > 1e7)
        return OC_EINVAL;
    double unit = 1000;
    if (strcmp(end, "ms") == 0)
        unit = 1;
    else if (strcmp(end, "m") == 0)
        unit = 60000;
    else if (strcmp(end, "h") == 0)
        unit = 3600000;
    else if (*end && strcmp(end, "s") != 0)
        return OC_EINVAL;
    *ms = (int64_t)(v * unit + 0.5);
    return 0;
}

/* "HH:MM" or "HH:MM:SS" (UTC) into seconds since midnight. */
int sim_parse_clock(const char *s, int *sod)
{
    int h = 0, m = 0, sec = 0, used = 0;
    if (!s || (sscanf(s, "%2d:%2d%n", &h, &m, &used) != 2))
        return OC_EINVAL;
    if (s[used] == ':') {
        int more = 0;
        if (sscanf(s + used + 1, "%2d%n", &sec, &more) != 1)
            return OC_EINVAL;
        used += 1 + more;
    }
    if (s[used] || h < 0 || h > 23 || m < 0 || m > 59 || sec < 0 || sec > 59)
        return OC_EINVAL;
    *sod = h * 3600 + m * 60 + sec;
    return 0;
}
