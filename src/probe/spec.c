/*
 * spec.c - what a probed stream is: read from a JSON object (POST /v1/probes, and each item
 * of probe.file once its YAML is turned into JSON) and written back for GET /v1/probes.
 *
 * probe.file is a YAML list:
 *   - name: news            # [A-Za-z0-9._-], at most 63 bytes
 *     kind: hls             # or dash
 *     service: packager     # the catalog service it belongs to (optional)
 *     poll_s: 2             # optional; probe.poll_s otherwise
 *     urls:                 # pathway: URL (or one `url:`), at most 4
 *       cdn-a: http://a.example/live/master.m3u8
 *       cdn-b: http://b.example/live/master.m3u8
 *   - name: sports
 *     url: http://{pathway}.example/live/master.m3u8   # every pathway of the steering policy
 */
#include "probe/probe_int.h"
#include "core/err.h"
#include "core/file.h"
#include "core/json.h"
#include "core/yamlj.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n >= PROBE_NAME_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

static int url_ok(const char *u)
{
    size_t n = strlen(u);
    if (n >= PROBE_URL_MAX || n < 8)
        return 0;
    if (strncmp(u, "http://", 7) && strncmp(u, "https://", 8))
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)u[i] <= ' ' || u[i] == 0x7f)
            return 0;
    return 1;
}

/* A string member, or one a YAML scalar gave as text; NULL when absent or not a string. */
static const char *str_of(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static int add_path(struct probe_spec *s, const char *pathway, const json_t *url, char *err,
                    size_t errlen)
{
    if (s->npaths >= PROBE_MAX_PATHS) {
        snprintf(err, errlen, "%s: more than %d pathways", s->name, PROBE_MAX_PATHS);
        return OC_EINVAL;
    }
    if (!name_ok(pathway)) {
        snprintf(err, errlen, "%s: pathway names are 1 to 63 of A-Z a-z 0-9 . _ -", s->name);
        return OC_EINVAL;
    }
    if (!json_is_string(url) || !url_ok(json_string_value(url))) {
        snprintf(err, errlen,
                 "%s: the URL of pathway %s must be http:// or https://, without "
                 "spaces, under %d bytes",
                 s->name, pathway, PROBE_URL_MAX);
        return OC_EINVAL;
    }
    snprintf(s->path_name[s->npaths], PROBE_NAME_MAX, "%s", pathway);
    snprintf(s->url[s->npaths], PROBE_URL_MAX, "%s", json_string_value(url));
    s->npaths++;
    return 0;
}

/* poll_s: a number, or a YAML scalar holding one; 0.5 to 3600 s. */
static int read_poll(const json_t *o, struct probe_spec *s, char *err, size_t errlen)
{
    const json_t *v = json_object_get(o, "poll_s");
    double d;
    if (!v)
        return 0;
    if (json_is_number(v))
        d = json_number_value(v);
    else if (json_is_string(v))
        d = strtod(json_string_value(v), NULL);
    else
        d = 0;
    if (!(d >= 0.5 && d <= 3600)) {
        snprintf(err, errlen, "%s: poll_s must be a number of seconds from 0.5 to 3600", s->name);
        return OC_EINVAL;
    }
    s->poll_ms = (int)(d * 1000 + 0.5);
    return 0;
}

int probe_spec_from_json(const json_t *o, struct probe_spec *s, char *err, size_t errlen)
{
    static const char *const keys[] = {"name", "kind", "service", "poll_s", "url", "urls", NULL};
    const char *name = str_of(o, "name"), *kind = str_of(o, "kind");
    const char *service = str_of(o, "service"), *bad;
    const json_t *url = json_object_get(o, "url"), *urls = json_object_get(o, "urls"), *v;
    const char *k;
    int rc;
    memset(s, 0, sizeof(*s));
    if (!json_is_object(o)) {
        snprintf(err, errlen, "a stream is an object {name, kind, url | urls, ...}");
        return OC_EINVAL;
    }
    if ((bad = oc_json_unknown_key(o, keys)) != NULL) {
        snprintf(err, errlen,
                 "unknown field \"%s\" (fields: name, kind, service, poll_s, url, "
                 "urls)",
                 bad);
        return OC_EINVAL;
    }
    if (!name || !name_ok(name)) {
        snprintf(err, errlen, "name: 1 to 63 of A-Z a-z 0-9 . _ -");
        return OC_EINVAL;
    }
    snprintf(s->name, sizeof s->name, "%s", name);
    if (kind && strcmp(kind, "hls") != 0 && strcmp(kind, "dash") != 0) {
        snprintf(err, errlen, "%s: kind \"%s\": hls or dash", name, kind);
        return OC_EINVAL;
    }
    snprintf(s->kind, sizeof s->kind, "%s", kind ? kind : "hls");
    if (service && strlen(service) >= PROBE_NAME_MAX) {
        snprintf(err, errlen, "%s: service names are under %d bytes", name, PROBE_NAME_MAX);
        return OC_EINVAL;
    }
    snprintf(s->service, sizeof s->service, "%s", service ? service : "");
    if ((rc = read_poll(o, s, err, errlen)) != 0)
        return rc;
    if (!url == !urls || (urls && !json_is_object(urls))) {
        snprintf(err, errlen, "%s: give either url or urls {pathway: url}", name);
        return OC_EINVAL;
    }
    if (url && json_is_string(url) && strstr(json_string_value(url), "{pathway}")) {
        /* checked as the URL of a pathway named "pathway"; expanded by probe_spec_expand */
        if ((rc = add_path(s, "pathway", url, err, errlen)) != 0)
            return rc;
        snprintf(s->tmpl, sizeof s->tmpl, "%s", json_string_value(url));
        s->npaths = 0;
        return 0;
    }
    if (url)
        return add_path(s, "default", url, err, errlen);
    json_object_foreach((json_t *)urls, k, v)
    {
        if ((rc = add_path(s, k, v, err, errlen)) != 0)
            return rc;
    }
    if (s->npaths == 0) {
        snprintf(err, errlen, "%s: urls is empty", name);
        return OC_EINVAL;
    }
    return 0;
}

int probe_spec_expand(struct probe_spec *s, const json_t *pathways)
{
    size_t i;
    const json_t *v;
    char url[2 * PROBE_URL_MAX];
    s->npaths = 0;
    json_array_foreach(pathways, i, v)
    {
        const char *pw = json_string_value(v), *at = strstr(s->tmpl, "{pathway}");
        if (s->npaths == PROBE_MAX_PATHS || !at)
            break;
        if (!pw || !name_ok(pw))
            continue;
        int n = snprintf(url, sizeof url, "%.*s%s%s", (int)(at - s->tmpl), s->tmpl, pw,
                         at + strlen("{pathway}"));
        if (n < 0 || n >= PROBE_URL_MAX || !url_ok(url))
            continue;
        snprintf(s->path_name[s->npaths], PROBE_NAME_MAX, "%s", pw);
        memcpy(s->url[s->npaths], url, (size_t)n + 1); /* n < PROBE_URL_MAX: checked above */
        s->npaths++;
    }
    return s->npaths;
}

int probe_spec_same_paths(const struct probe_spec *a, const struct probe_spec *b)
{
    if (a->npaths != b->npaths)
        return 0;
    for (int i = 0; i < a->npaths; i++)
        if (strcmp(a->path_name[i], b->path_name[i]) || strcmp(a->url[i], b->url[i]))
            return 0;
    return 1;
}

json_t *probe_spec_json(const struct probe_spec *s)
{
    json_t *urls = json_object();
    for (int i = 0; i < s->npaths; i++)
        json_object_set_new(urls, s->path_name[i], json_string(s->url[i]));
    json_t *o = json_pack("{s:s, s:s}", "name", s->name, "kind", s->kind);
    if (s->tmpl[0]) { /* read back as written: the pathways follow the policy */
        json_object_set_new(o, "url", json_string(s->tmpl));
        json_decref(urls);
    } else
        json_object_set_new(o, "urls", urls);
    if (s->service[0])
        json_object_set_new(o, "service", json_string(s->service));
    if (s->poll_ms)
        json_object_set_new(o, "poll_s", json_real(s->poll_ms / 1000.0));
    return o;
}

int probe_file_load(const char *path, json_t **out, char *err, size_t errlen)
{
    return oc_yaml_list_load(path, PROBE_FILE_MAX, "streams", out, err, errlen);
}
