/*
 * load.c - reads a catalog file: libyaml's event parser builds a JSON tree (so files and API
 * bodies share one parser, parse.c) while a side table remembers the line of every node, so
 * each error reads "FILE:LINE: message". Aliases are refused (no billion laughs); depth,
 * node count and file size are capped.
 */
#include "catalog/catalog_int.h"
#include "core/alloc.h"
#include "core/err.h"
#include "core/file.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#define YMAX_DEPTH 32
#define YMAX_NODES 2000000

struct yline {
    const json_t *node;
    int line;
};

struct yframe {
    json_t *container; /* object or array being filled */
    char *key;         /* pending mapping key (owned), or NULL */
    int key_line;
};

struct ybuild {
    struct yline *lines; /* one per node */
    size_t nlines, cap;
    struct yframe stack[YMAX_DEPTH];
    int depth;
    json_t *root;
    int err_line;
    char err[CATALOG_ERR_MAX];
};

static int cmp_node(const void *a, const void *b)
{
    uintptr_t x = (uintptr_t)((const struct yline *)a)->node;
    uintptr_t y = (uintptr_t)((const struct yline *)b)->node;
    return x < y ? -1 : x > y;
}

/* The line of node (0 if unknown); b->lines is sorted by node address after the build. */
static int line_lookup(const void *map, const json_t *node)
{
    const struct ybuild *b = map;
    struct yline key = {node, 0};
    const struct yline *hit =
        node ? bsearch(&key, b->lines, b->nlines, sizeof(b->lines[0]), cmp_node) : NULL;
    return hit ? hit->line : 0;
}

static int yfail(struct ybuild *b, int line, const char *msg)
{
    b->err_line = line;
    snprintf(b->err, sizeof(b->err), "%s", msg);
    return OC_EINVAL;
}

/* A plain scalar becomes null, a boolean, an integer or a string; quoted ones stay strings. */
static json_t *scalar_value(const yaml_event_t *ev)
{
    const char *s = (const char *)ev->data.scalar.value;
    size_t n = ev->data.scalar.length;
    if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return json_stringn(s, n);
    if (n == 0 || strcmp(s, "~") == 0 || strcmp(s, "null") == 0)
        return json_null();
    if (strcmp(s, "true") == 0 || strcmp(s, "false") == 0)
        return json_boolean(s[0] == 't');
    size_t digits = strspn(s + (s[0] == '-'), "0123456789");
    if (digits > 0 && digits < 16 && digits + (s[0] == '-') == n)
        return json_integer(strtoll(s, NULL, 10));
    return json_stringn(s, n);
}

/* Attaches v (a new reference, stolen) to the current container or makes it the root. */
static int attach(struct ybuild *b, json_t *v, int line)
{
    if (!v)
        return yfail(b, line, "invalid text (not UTF-8?)");
    if (b->nlines >= YMAX_NODES) {
        json_decref(v);
        return yfail(b, line, "too many nodes");
    }
    b->lines = oc_grow(b->lines, &b->cap, b->nlines + 1, sizeof(b->lines[0]));
    b->lines[b->nlines++] = (struct yline){v, line};
    if (b->depth == 0) {
        b->root = v;
        return 0;
    }
    struct yframe *f = &b->stack[b->depth - 1];
    if (json_is_array(f->container))
        return json_array_append_new(f->container, v) == 0 ? 0 : yfail(b, line, "bad item");
    b->lines[b->nlines - 1].line = f->key_line; /* a member's line is its key's line */
    int rc = json_object_set_new(f->container, f->key, v) == 0 ? 0 : yfail(b, line, "bad key");
    free(f->key);
    f->key = NULL;
    return rc;
}

static int on_scalar(struct ybuild *b, const yaml_event_t *ev, int line)
{
    struct yframe *f = b->depth ? &b->stack[b->depth - 1] : NULL;
    if (f && json_is_object(f->container) && !f->key) {
        const char *k = (const char *)ev->data.scalar.value;
        if (json_object_get(f->container, k)) {
            char msg[CATALOG_ERR_MAX];
            snprintf(msg, sizeof(msg), "field \"%.64s\" given twice", k);
            return yfail(b, line, msg);
        }
        f->key = oc_strdup(k);
        f->key_line = line;
        return 0;
    }
    return attach(b, scalar_value(ev), line);
}

static int on_start(struct ybuild *b, json_t *container, int line)
{
    if (b->depth >= YMAX_DEPTH) {
        json_decref(container);
        return yfail(b, line, "nested too deeply");
    }
    json_incref(container);
    int rc = attach(b, container, line);
    if (rc) {
        json_decref(container);
        return rc;
    }
    b->stack[b->depth++] = (struct yframe){container, NULL, 0};
    json_decref(container); /* the parent (or root) holds it now */
    return 0;
}

/* Feeds one event to the builder. Returns 1 at the end of the first document, 0 to go on,
 * or an error. */
static int on_event(struct ybuild *b, const yaml_event_t *ev)
{
    int line = (int)ev->start_mark.line + 1;
    switch (ev->type) {
    case YAML_SCALAR_EVENT:
        return on_scalar(b, ev, line);
    case YAML_SEQUENCE_START_EVENT:
        return on_start(b, json_array(), line);
    case YAML_MAPPING_START_EVENT:
        return on_start(b, json_object(), line);
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT:
        b->depth--;
        return 0;
    case YAML_ALIAS_EVENT:
        return yfail(b, line, "aliases (*name) are not supported");
    case YAML_DOCUMENT_END_EVENT:
    case YAML_STREAM_END_EVENT:
        return 1;
    default:
        return 0;
    }
}

static int build(struct ybuild *b, const char *data, size_t n)
{
    yaml_parser_t parser;
    int rc = 0;
    if (!yaml_parser_initialize(&parser))
        return yfail(b, 0, "cannot initialize the YAML parser");
    yaml_parser_set_input_string(&parser, (const unsigned char *)data, n);
    while (rc == 0) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&parser, &ev)) {
            char msg[CATALOG_ERR_MAX];
            snprintf(msg, sizeof(msg), "YAML: %s", parser.problem ? parser.problem : "error");
            rc = yfail(b, (int)parser.problem_mark.line + 1, msg);
            break;
        }
        rc = on_event(b, &ev);
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&parser);
    return rc < 0 ? rc : 0;
}

static void build_free(struct ybuild *b)
{
    for (int i = 0; i < b->depth; i++)
        free(b->stack[i].key);
    free(b->lines);
    json_decref(b->root);
}

int catalog_load_buf(const char *name, const char *data, size_t n, struct catalog **out, char *err,
                     size_t errlen)
{
    struct ybuild b;
    struct catalog_perr pe;
    struct catalog *c = NULL;
    int rc;
    memset(&b, 0, sizeof(b));
    memset(&pe, 0, sizeof(pe));
    if (n > CATALOG_FILE_MAX) {
        snprintf(err, errlen, "%s: larger than %d bytes", name, CATALOG_FILE_MAX);
        return OC_ETOOBIG;
    }
    if ((rc = build(&b, data, n)) != 0) {
        snprintf(err, errlen, "%s:%d: %s", name, b.err_line, b.err);
        goto out;
    }
    if (b.nlines > 1)
        qsort(b.lines, b.nlines, sizeof(b.lines[0]), cmp_node);
    c = catalog_new(name);
    pe.line_of = line_lookup;
    pe.map = &b;
    if (!b.root) {
        rc = 0; /* an empty file is an empty catalog */
    } else if ((rc = catalog_parse_doc(b.root, c, &pe)) != 0) {
        int line = pe.line ? pe.line : line_lookup(&b, pe.at);
        snprintf(err, errlen, "%s:%d: %s", name, line, pe.msg);
        goto out;
    }
    const struct catalog_service *first = NULL;
    char msg[CATALOG_ERR_MAX];
    if ((rc = catalog_find_cycle(c, msg, sizeof(msg), &first)) != 0) {
        snprintf(err, errlen, "%s:%d: %s", name, first ? first->line : 0, msg);
        rc = OC_EINVAL;
        goto out;
    }
    *out = c;
    c = NULL;
out:
    catalog_destroy(c);
    build_free(&b);
    return rc;
}

int catalog_load_file(const char *path, struct catalog **out, char *err, size_t errlen)
{
    size_t n = 0;
    char *data = NULL;
    int rc = oc_read_file(path, (size_t)CATALOG_FILE_MAX, &data, &n, err, errlen);
    if (rc == 0)
        rc = catalog_load_buf(path, data, n, out, err, errlen);
    free(data);
    return rc;
}

int catalog_load_example(struct catalog **out, char *err, size_t errlen)
{
    size_t n;
    char *text = catalog_example_yaml(&n);
    int rc = catalog_load_buf("examples/catalog.yaml", text, n, out, err, errlen);
    free(text);
    return rc;
}
