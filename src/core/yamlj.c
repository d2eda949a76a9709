/*
 * yamlj.c - a YAML list read as JSON (yamlj.h).
 */
#include "core/yamlj.h"
#include "core/err.h"
#include "core/file.h"

#include <stdio.h>
#include <stdlib.h>
#include <yaml.h>

/* Turns a YAML node into JSON (scalars are strings); NULL past depth 8. */
static json_t *node_json(yaml_document_t *d, yaml_node_t *n, int depth)
{
    if (!n || depth > 8)
        return NULL;
    if (n->type == YAML_SCALAR_NODE)
        return json_stringn((const char *)n->data.scalar.value, n->data.scalar.length);
    if (n->type == YAML_SEQUENCE_NODE) {
        json_t *a = json_array();
        for (yaml_node_item_t *i = n->data.sequence.items.start; i < n->data.sequence.items.top;
             i++) {
            json_t *v = node_json(d, yaml_document_get_node(d, *i), depth + 1);
            if (!v) {
                json_decref(a);
                return NULL;
            }
            json_array_append_new(a, v);
        }
        return a;
    }
    json_t *o = json_object();
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        yaml_node_t *k = yaml_document_get_node(d, p->key);
        json_t *v = node_json(d, yaml_document_get_node(d, p->value), depth + 1);
        if (!k || k->type != YAML_SCALAR_NODE || !v) {
            json_decref(v);
            json_decref(o);
            return NULL;
        }
        json_object_set_new(o, (const char *)k->data.scalar.value, v);
    }
    return o;
}

/* Top-level keys of mapping n and their 1-based lines. */
static json_t *key_lines_of(yaml_document_t *d, yaml_node_t *n)
{
    json_t *o = json_object();
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        yaml_node_t *k = yaml_document_get_node(d, p->key);
        if (k && k->type == YAML_SCALAR_NODE)
            json_object_set_new(o, (const char *)k->data.scalar.value,
                                json_integer((json_int_t)k->start_mark.line + 1));
    }
    return o;
}

int oc_yaml_load(const char *path, size_t max, json_t **out, json_t **key_lines, char *err,
                 size_t errlen)
{
    char *text = NULL;
    size_t n = 0;
    yaml_parser_t p;
    yaml_document_t d;
    *out = NULL;
    if (key_lines)
        *key_lines = NULL;
    int rc = oc_read_file(path, max, &text, &n, err, errlen);
    if (rc)
        return rc;
    if (n > max) {
        snprintf(err, errlen, "%s: larger than %zu bytes", path, max);
        free(text);
        return OC_ETOOBIG;
    }
    rc = OC_EINVAL;
    yaml_parser_initialize(&p);
    yaml_parser_set_input_string(&p, (const unsigned char *)text, n);
    if (!yaml_parser_load(&p, &d)) {
        snprintf(err, errlen, "%s:%lu: %s", path, (unsigned long)p.problem_mark.line + 1,
                 p.problem ? p.problem : "not YAML");
        goto out_parser;
    }
    yaml_node_t *root = yaml_document_get_root_node(&d);
    json_t *v = root ? node_json(&d, root, 0) : json_null();
    if (!v) {
        snprintf(err, errlen, "%s: nested deeper than 8 levels, or a key that is not a string",
                 path);
    } else {
        if (key_lines && root && root->type == YAML_MAPPING_NODE)
            *key_lines = key_lines_of(&d, root);
        *out = v;
        rc = 0;
    }
    yaml_document_delete(&d);
out_parser:
    yaml_parser_delete(&p);
    free(text);
    return rc;
}

int oc_yaml_list_load(const char *path, size_t max, const char *what, json_t **out, char *err,
                      size_t errlen)
{
    json_t *v = NULL;
    int rc = oc_yaml_load(path, max, &v, NULL, err, errlen);
    if (rc)
        return rc;
    if (json_is_null(v)) {
        json_decref(v);
        v = json_array();
    }
    if (!json_is_array(v)) {
        snprintf(err, errlen, "%s: must be a list of %s", path, what);
        json_decref(v);
        *out = NULL;
        return OC_EINVAL;
    }
    *out = v;
    return 0;
}
