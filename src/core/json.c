/*
 * json.c - jansson helpers (see json.h).
 */
#include "core/json.h"
#include "core/buf.h"
#include "core/err.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

int oc_json_parse(const char *p, size_t n, json_t **out, char *err, size_t errlen)
{
    json_error_t e;
    json_t *v = json_loadb(p, n, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &e);
    if (!v) {
        if (err && errlen)
            snprintf(err, errlen, "line %d column %d: %s", e.line, e.column, e.text);
        return OC_EINVAL;
    }
    *out = v;
    return 0;
}

int oc_json_get_str(const json_t *obj, const char *key, const char **out)
{
    json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v))
        return OC_ENOTFOUND;
    if (!json_is_string(v))
        return OC_EINVAL;
    *out = json_string_value(v);
    return 0;
}

int oc_json_get_int(const json_t *obj, const char *key, int64_t *out)
{
    json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v))
        return OC_ENOTFOUND;
    if (json_is_integer(v)) {
        *out = (int64_t)json_integer_value(v);
        return 0;
    }
    if (json_is_real(v)) {
        double d = json_real_value(v);
        if (d == floor(d) && fabs(d) < 9.0e15) {
            *out = (int64_t)d;
            return 0;
        }
    }
    return OC_EINVAL;
}

int oc_json_get_num(const json_t *obj, const char *key, double *out)
{
    json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v))
        return OC_ENOTFOUND;
    if (!json_is_number(v))
        return OC_EINVAL;
    *out = json_number_value(v);
    return 0;
}

int oc_json_get_bool(const json_t *obj, const char *key, int *out)
{
    json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v))
        return OC_ENOTFOUND;
    if (!json_is_boolean(v))
        return OC_EINVAL;
    *out = json_is_true(v);
    return 0;
}

static int dump_cb(const char *p, size_t n, void *data)
{
    return oc_buf_append(data, p, n) ? -1 : 0;
}

int oc_json_dump(const json_t *v, struct oc_buf *b)
{
    size_t before = b->len;
    if (json_dump_callback(v, dump_cb, b,
                           JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(15)) != 0) {
        b->len = before;
        if (b->data)
            b->data[before] = '\0';
        return OC_ETOOBIG;
    }
    return 0;
}

const char *oc_json_unknown_key(const json_t *obj, const char *const *allowed)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)obj, key, v)
    {
        (void)v;
        int ok = 0;
        for (const char *const *a = allowed; *a; a++)
            if (strcmp(*a, key) == 0)
                ok = 1;
        if (!ok)
            return key;
    }
    return NULL;
}
