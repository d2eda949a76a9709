/*
 * yaml.c - libyaml documents with line numbers for the SLO and alert-rule loaders: typed
 * field readers that fail with "FILE:LINE: message naming the field", unknown-key checks,
 * durations ("3m", "28d"), ops, metric names and slices.
 */
#include "slo/slo.h"
#include "core/timefmt.h"
#include "core/err.h"
#include "qoe/qoe.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int slo_yaml_open(struct slo_yaml *y, const char *name, const char *text, size_t n, char *err,
                  size_t errlen)
{
    memset(y, 0, sizeof(*y));
    y->name = name;
    y->err = err;
    y->errlen = errlen;
    if (n > SLO_MAX_FILE) {
        snprintf(err, errlen, "%s: larger than %d bytes", name, SLO_MAX_FILE);
        return OC_ETOOBIG;
    }
    if (!yaml_parser_initialize(&y->parser))
        return slo_yaml_fail(y, NULL, "cannot initialize the YAML parser");
    y->parser_ok = 1;
    yaml_parser_set_input_string(&y->parser, (const unsigned char *)text, n);
    return 0;
}

/* Whether root is a list of mappings that each have an apiVersion. */
static int object_list(struct slo_yaml *y, yaml_node_t *root)
{
    if (!root || root->type != YAML_SEQUENCE_NODE || slo_yaml_len(root) == 0)
        return 0;
    for (int i = 0; i < slo_yaml_len(root); i++) {
        yaml_node_t *it = slo_yaml_item(y, root, i);
        if (!it || it->type != YAML_MAPPING_NODE || !slo_yaml_get(y, it, "apiVersion"))
            return 0;
    }
    return 1;
}

int slo_yaml_next(struct slo_yaml *y, yaml_node_t **root)
{
    if (y->seq && y->seq_i < slo_yaml_len(y->seq)) {
        *root = slo_yaml_item(y, y->seq, y->seq_i++);
        return 1;
    }
    y->seq = NULL;
    if (y->loaded)
        yaml_document_delete(&y->doc);
    y->loaded = 0;
    *root = NULL;
    if (!yaml_parser_load(&y->parser, &y->doc)) {
        snprintf(y->err, y->errlen, "%s:%lu: %s", y->name,
                 (unsigned long)y->parser.problem_mark.line + 1,
                 y->parser.problem ? y->parser.problem : "YAML syntax error");
        return OC_EINVAL;
    }
    y->loaded = 1;
    *root = yaml_document_get_root_node(&y->doc);
    if (object_list(y, *root)) {
        y->seq = *root;
        y->seq_i = 1;
        *root = slo_yaml_item(y, y->seq, 0);
    }
    return *root ? 1 : 0;
}

void slo_yaml_free(struct slo_yaml *y)
{
    if (y->loaded)
        yaml_document_delete(&y->doc);
    if (y->parser_ok)
        yaml_parser_delete(&y->parser);
    y->loaded = y->parser_ok = 0;
}

int slo_yaml_fail(struct slo_yaml *y, const yaml_node_t *node, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    snprintf(y->err, y->errlen, "%s:%lu: %s", y->name,
             node ? (unsigned long)node->start_mark.line + 1 : 0UL, msg);
    return OC_EINVAL;
}

const char *slo_yaml_str(const yaml_node_t *n)
{
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

yaml_node_t *slo_yaml_get(struct slo_yaml *y, yaml_node_t *map, const char *key)
{
    if (!map || map->type != YAML_MAPPING_NODE)
        return NULL;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        const char *k = slo_yaml_str(yaml_document_get_node(&y->doc, p->key));
        if (k && strcmp(k, key) == 0)
            return yaml_document_get_node(&y->doc, p->value);
    }
    return NULL;
}

int slo_yaml_keys(struct slo_yaml *y, yaml_node_t *map, const char *const *allowed,
                  const char *what)
{
    if (!map || map->type != YAML_MAPPING_NODE)
        return slo_yaml_fail(y, map, "%s: expected a mapping", what);
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        yaml_node_t *kn = yaml_document_get_node(&y->doc, p->key);
        const char *k = slo_yaml_str(kn);
        int ok = 0;
        for (int i = 0; k && allowed[i]; i++)
            ok |= strcmp(k, allowed[i]) == 0;
        if (!ok)
            return slo_yaml_fail(y, kn, "%s: unknown field '%s'", what, k ? k : "(not a string)");
    }
    return 0;
}

int slo_yaml_len(const yaml_node_t *seq)
{
    if (!seq || seq->type != YAML_SEQUENCE_NODE)
        return 0;
    return (int)(seq->data.sequence.items.top - seq->data.sequence.items.start);
}

yaml_node_t *slo_yaml_item(struct slo_yaml *y, yaml_node_t *seq, int i)
{
    if (i < 0 || i >= slo_yaml_len(seq))
        return NULL;
    return yaml_document_get_node(&y->doc, seq->data.sequence.items.start[i]);
}

/* The scalar of field: 1 found, 0 absent (fails when required), or OC_EINVAL. */
static int scalar(struct slo_yaml *y, yaml_node_t *map, const char *field, int required,
                  const char **out)
{
    yaml_node_t *n = slo_yaml_get(y, map, field);
    if (!n)
        return required ? slo_yaml_fail(y, map, "%s: required", field) : 0;
    *out = slo_yaml_str(n);
    if (!*out)
        return slo_yaml_fail(y, n, "%s: expected a scalar", field);
    return 1;
}

int slo_yaml_text(struct slo_yaml *y, yaml_node_t *map, const char *field, int required, char *out,
                  size_t outlen)
{
    const char *s = NULL;
    int rc = scalar(y, map, field, required, &s);
    if (rc <= 0)
        return rc;
    if (strlen(s) >= outlen)
        return slo_yaml_fail(y, slo_yaml_get(y, map, field), "%s: longer than %zu bytes", field,
                             outlen - 1);
    memcpy(out, s, strlen(s) + 1);
    return 0;
}

int slo_yaml_num(struct slo_yaml *y, yaml_node_t *map, const char *field, int required, double *out)
{
    const char *s = NULL;
    char *end;
    int rc = scalar(y, map, field, required, &s);
    if (rc <= 0)
        return rc;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v))
        return slo_yaml_fail(y, slo_yaml_get(y, map, field), "%s: expected a number, got '%s'",
                             field, s);
    *out = v;
    return 0;
}

int slo_yaml_int(struct slo_yaml *y, yaml_node_t *map, const char *field, int required,
                 int64_t *out)
{
    const char *s = NULL;
    char *end;
    int rc = scalar(y, map, field, required, &s);
    if (rc <= 0)
        return rc;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v < 0)
        return slo_yaml_fail(y, slo_yaml_get(y, map, field),
                             "%s: expected a non-negative integer, got '%s'", field, s);
    *out = v;
    return 0;
}

int slo_parse_duration(const char *s, int64_t *out)
{
    size_t n = s ? strlen(s) : 0;
    /* the core's durations, a unit required (a bare number is ambiguous in a file) */
    if (n < 2 || (s[n - 1] >= '0' && s[n - 1] <= '9') || oc_duration_parse(s, out) != 0)
        return -1;
    return 0;
}

int slo_yaml_duration(struct slo_yaml *y, yaml_node_t *map, const char *field, int required,
                      int64_t *out)
{
    const char *s = NULL;
    int rc = scalar(y, map, field, required, &s);
    if (rc <= 0)
        return rc;
    if (slo_parse_duration(s, out) != 0)
        return slo_yaml_fail(y, slo_yaml_get(y, map, field),
                             "%s: expected a duration like 15s, 3m, 1h or 28d, got '%s'", field, s);
    return 0;
}

int slo_yaml_op(struct slo_yaml *y, yaml_node_t *map, const char *field, enum slo_op *out)
{
    const char *s = NULL;
    int rc = scalar(y, map, field, 1, &s);
    if (rc <= 0)
        return rc ? rc : OC_EINVAL;
    if (strcmp(s, "<") == 0)
        *out = SLO_OP_LT;
    else if (strcmp(s, ">") == 0)
        *out = SLO_OP_GT;
    else
        return slo_yaml_fail(y, slo_yaml_get(y, map, field),
                             "%s: expected \"<\" or \">\", got '%s'", field, s);
    return 0;
}

int slo_yaml_metric(struct slo_yaml *y, yaml_node_t *map, const char *field, int *out)
{
    const char *s = NULL;
    int rc = scalar(y, map, field, 1, &s);
    if (rc <= 0)
        return rc ? rc : OC_EINVAL;
    *out = qoe_metric_parse(s);
    if (*out >= 0)
        return 0;
    char why[1024];
    qoe_metric_unknown(s, why, sizeof why);
    return slo_yaml_fail(y, slo_yaml_get(y, map, field), "%s: %s", field, why);
}

int slo_yaml_filter(struct slo_yaml *y, yaml_node_t *map, const char *field, struct slo_filter *f,
                    int *n)
{
    yaml_node_t *m = slo_yaml_get(y, map, field);
    *n = 0;
    if (!m)
        return 0;
    if (m->type != YAML_MAPPING_NODE)
        return slo_yaml_fail(y, m, "%s: expected a mapping of dimension: value", field);
    for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
        yaml_node_t *kn = yaml_document_get_node(&y->doc, p->key);
        const char *k = slo_yaml_str(kn);
        const char *v = slo_yaml_str(yaml_document_get_node(&y->doc, p->value));
        int d = k ? qoe_dim_parse(k) : -1;
        if (d < 0)
            return slo_yaml_fail(y, kn, "%s: unknown dimension '%s'", field, k ? k : "?");
        if (!v || strlen(v) > QOE_MAX_DIM_VALUE)
            return slo_yaml_fail(y, kn, "%s.%s: expected a value of at most %d bytes", field, k,
                                 QOE_MAX_DIM_VALUE);
        if (*n >= SLO_MAX_FILTERS)
            return slo_yaml_fail(y, kn, "%s: more than %d dimensions", field, SLO_MAX_FILTERS);
        f[*n].dim = d;
        memcpy(f[*n].value, v, strlen(v) + 1);
        (*n)++;
    }
    return 0;
}
