/*
 * json.c - jansson helpers (see json.h).
 */
#include "core/json.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/file.h"
#include "core/netguard.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
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

int oc_json_get_int_range(const json_t *obj, const char *ctx, const char *key, int64_t min,
                          int64_t max, int64_t *out, char *err, size_t errlen)
{
    int64_t v;
    int rc = oc_json_get_int(obj, key, &v);
    if (rc == 0 && (v < min || v > max))
        rc = OC_EINVAL;
    if (rc == OC_EINVAL && err && errlen)
        snprintf(err, errlen, "%s%s%s: an integer from %lld to %lld", ctx ? ctx : "",
                 ctx ? "." : "", key, (long long)min, (long long)max);
    if (rc == 0)
        *out = v;
    return rc;
}

/* Appends ".key" or "[i]" to path[0..len) when it fits (a cut path still names the field). */
static void path_push(char *path, size_t pathn, size_t len, const char *key, size_t i)
{
    if (len >= pathn)
        return;
    if (key)
        snprintf(path + len, pathn - len, "%s%s", len ? "." : "", key);
    else
        snprintf(path + len, pathn - len, "[%zu]", i);
}

/* oc_json_find_nul on v, whose path so far is path[0..len). Recursive: jansson's parser caps
 * nesting at 2048 levels. */
static int find_nul(const json_t *v, char *path, size_t pathn, size_t len)
{
    const char *key;
    json_t *m;
    size_t i;
    if (json_is_string(v))
        return memchr(json_string_value(v), '\0', json_string_length(v)) ? OC_EINVAL : 0;
    json_object_foreach((json_t *)v, key, m)
    {
        path_push(path, pathn, len, key, 0);
        if (find_nul(m, path, pathn, strnlen(path, pathn)) != 0)
            return OC_EINVAL;
    }
    json_array_foreach(v, i, m)
    {
        path_push(path, pathn, len, NULL, i);
        if (find_nul(m, path, pathn, strnlen(path, pathn)) != 0)
            return OC_EINVAL;
    }
    if (len < pathn)
        path[len] = '\0';
    return 0;
}

int oc_json_find_nul(const json_t *v, char *path, size_t pathn)
{
    char none[1];
    if (!pathn) {
        path = none;
        pathn = sizeof(none);
    }
    path[0] = '\0';
    return find_nul(v, path, pathn, 0);
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

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int oc_json_dir_load(const char *dir, size_t max_files, size_t max_bytes, json_t **out,
                     int *skipped, char *err, size_t errlen)
{
    DIR *dp = opendir(dir);
    struct dirent *e;
    char **names = NULL, path[4096], why[256];
    size_t n = 0, cap = 0;
    *out = json_array();
    *skipped = 0;
    if (!dp) {
        snprintf(err, errlen, "%s: %s", dir, strerror(errno));
        return errno == ENOENT ? OC_ENOTFOUND : OC_EIO;
    }
    while ((e = readdir(dp)) != NULL) {
        size_t len = strlen(e->d_name);
        if (e->d_name[0] == '.' || len < 6 || strcmp(e->d_name + len - 5, ".json") != 0)
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            char **grown = realloc(names, cap * sizeof(*names));
            if (!grown)
                break;
            names = grown;
        }
        if ((names[n] = strdup(e->d_name)) != NULL)
            n++;
    }
    closedir(dp);
    if (n)
        qsort(names, n, sizeof(*names), name_cmp);
    for (size_t i = 0; i < n; i++) {
        char *text = NULL;
        size_t len = 0;
        json_t *doc = NULL;
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        if ((n > max_files && i < n - max_files) ||
            oc_read_file(path, max_bytes, &text, &len, why, sizeof why) != 0 || len > max_bytes ||
            oc_json_parse(text, len, &doc, why, sizeof why) != 0)
            ++*skipped;
        else
            json_array_append_new(*out, doc);
        free(text);
        free(names[i]);
    }
    free(names);
    return 0;
}

void oc_json_cut_url(json_t *obj, const char *key)
{
    const char *url = json_string_value(json_object_get(obj, key));
    char shown[OC_URL_SHOWN_MAX];
    if (!url)
        return;
    oc_url_cut(url, shown, sizeof shown);
    json_object_set_new(obj, key, json_string(shown));
}

void oc_json_cut_urls(json_t *obj, const char *key)
{
    const char *t = json_string_value(json_object_get(obj, key));
    char shown[1024];
    if (!t)
        return;
    oc_text_cut_urls(t, 1, shown, sizeof shown);
    json_object_set_new(obj, key, json_string(shown));
}
