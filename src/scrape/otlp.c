/*
 * otlp.c - OTLP/HTTP metrics in the JSON encoding (what an OpenTelemetry SDK's exporter posts
 * to ENDPOINT/v1/metrics), turned into the exposition text the scrape targets read, so a
 * service that pushes keeps its series, rules and alerts the way a scraped one does.
 *
 * Per resourceMetrics item: its resource's service.name picks the target; each metric's
 * name is spelled the Prometheus way (characters outside [A-Za-z0-9_:] become '_'); a gauge
 * is a gauge, a monotonic cumulative sum a counter (with _total added when missing), another
 * cumulative sum a gauge, a cumulative histogram NAME_bucket{le}, NAME_sum and NAME_count;
 * data point attributes become labels (strings, integers, doubles and booleans; others are
 * left out). Delta temporality, exponential histograms and summaries are refused and
 * counted, as OTLP's partial success reports them.
 */
#include "scrape/scrape_int.h"
#include "core/buf.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OTLP_CUMULATIVE 2 /* AGGREGATION_TEMPORALITY_CUMULATIVE */

static const char *str_of(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

/* Appends s spelled as a Prometheus name (at most SCRAPE_NAME_MAX - 16 bytes). */
static void put_name(struct oc_buf *b, const char *s, int label)
{
    size_t n = 0;
    if (!*s || (*s >= '0' && *s <= '9'))
        oc_buf_puts(b, "_"), n++;
    for (; *s && n < SCRAPE_NAME_MAX - 16; s++, n++) {
        char c = *s;
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '_' || (!label && c == ':');
        oc_buf_append(b, ok ? &c : "_", 1);
    }
}

static void put_value(struct oc_buf *b, const char *v)
{
    oc_buf_puts(b, "\"");
    for (; *v; v++) {
        if (*v == '\\' || *v == '"')
            oc_buf_append(b, "\\", 1);
        if (*v == '\n')
            oc_buf_puts(b, "\\n");
        else
            oc_buf_append(b, v, 1);
    }
    oc_buf_puts(b, "\"");
}

/* An AnyValue as text: 0, or -1 for kinds left out (arrays, maps, bytes). */
static int any_text(const json_t *v, char *out, size_t n)
{
    const json_t *x;
    if ((x = json_object_get(v, "stringValue")) && json_is_string(x))
        snprintf(out, n, "%s", json_string_value(x));
    else if ((x = json_object_get(v, "boolValue")) && json_is_boolean(x))
        snprintf(out, n, "%s", json_is_true(x) ? "true" : "false");
    else if ((x = json_object_get(v, "intValue")) && json_is_string(x))
        snprintf(out, n, "%s", json_string_value(x));
    else if (x && json_is_integer(x))
        snprintf(out, n, "%lld", (long long)json_integer_value(x));
    else if ((x = json_object_get(v, "doubleValue")) && json_is_number(x))
        snprintf(out, n, "%.17g", json_number_value(x));
    else
        return -1;
    return 0;
}

const char *scrape_otlp_service(const json_t *rm, char *out, size_t n)
{
    size_t i;
    const json_t *a;
    out[0] = 0;
    json_array_foreach(json_object_get(json_object_get(rm, "resource"), "attributes"), i, a)
    {
        if (!strcmp(str_of(a, "key"), "service.name"))
            any_text(json_object_get(a, "value"), out, n);
    }
    return out;
}

/* A data point's value: asDouble (a number, or "NaN", "Infinity", "-Infinity") or asInt (a
 * string or a number); 0, or -1 without one. */
static int point_value(const json_t *p, double *v)
{
    const json_t *x = json_object_get(p, "asDouble");
    if (json_is_number(x)) {
        *v = json_number_value(x);
        return 0;
    }
    if (json_is_string(x)) {
        const char *s = json_string_value(x);
        *v = !strcmp(s, "NaN")         ? NAN
             : !strcmp(s, "Infinity")  ? INFINITY
             : !strcmp(s, "-Infinity") ? -INFINITY
                                       : 0;
        return !strcmp(s, "NaN") || strstr(s, "Infinity") ? 0 : -1;
    }
    x = json_object_get(p, "asInt");
    if (json_is_integer(x)) {
        *v = (double)json_integer_value(x);
        return 0;
    }
    if (json_is_string(x)) {
        char *e;
        *v = strtod(json_string_value(x), &e);
        return *e || e == json_string_value(x) ? -1 : 0;
    }
    return -1;
}

/* A uint64 as OTLP's JSON writes it (a string) or a number; 0 otherwise. */
static double num_of(const json_t *x)
{
    if (json_is_string(x))
        return strtod(json_string_value(x), NULL);
    return json_is_number(x) ? json_number_value(x) : 0;
}

static double num_field(const json_t *o, const char *k)
{
    return num_of(json_object_get(o, k));
}

/* NAME{attributes[,extra="x"]} V\n */
static void sample(struct oc_buf *b, const char *name, const char *suffix, const json_t *p,
                   const char *extra_k, const char *extra_v, double v)
{
    size_t i;
    const json_t *a;
    char text[SCRAPE_LABEL_VALUE_MAX];
    int first = 1;
    put_name(b, name, 0);
    oc_buf_puts(b, suffix);
    oc_buf_puts(b, "{");
    json_array_foreach(json_object_get(p, "attributes"), i, a)
    {
        const char *k = str_of(a, "key");
        if (!k[0] || (extra_k && !strcmp(k, extra_k)) ||
            any_text(json_object_get(a, "value"), text, sizeof text) != 0)
            continue;
        if (!first)
            oc_buf_puts(b, ",");
        first = 0;
        put_name(b, k, 1);
        oc_buf_puts(b, "=");
        put_value(b, text);
    }
    if (extra_k) {
        oc_buf_printf(b, "%s%s=", first ? "" : ",", extra_k);
        put_value(b, extra_v);
    }
    oc_buf_printf(b, "} %s\n",
                  isnan(v)   ? "NaN"
                  : isinf(v) ? (v > 0 ? "+Inf" : "-Inf")
                             : (snprintf(text, sizeof text, "%.17g", v), text));
}

/* Appends "# TYPE" for name+suffix. */
static void type_line(struct oc_buf *b, const char *name, const char *suffix, const char *type)
{
    oc_buf_puts(b, "# TYPE ");
    put_name(b, name, 0);
    oc_buf_printf(b, "%s %s\n", suffix, type);
}

int scrape_otlp_text(const json_t *rm, struct oc_buf *out, int *rejected, char *why, size_t n)
{
    size_t i, j, k;
    const json_t *sm, *m, *p;
    int read = 0;
    *rejected = 0;
    json_array_foreach(json_object_get(rm, "scopeMetrics"), i, sm)
    {
        json_array_foreach(json_object_get(sm, "metrics"), j, m)
        {
            const char *name = str_of(m, "name");
            const json_t *g = json_object_get(m, "gauge"), *s = json_object_get(m, "sum"),
                         *h = json_object_get(m, "histogram");
            const json_t *body = g ? g : s ? s : h;
            size_t np = json_array_size(json_object_get(body, "dataPoints"));
            if (!name[0] || !body) {
                *rejected += (int)np;
                snprintf(why, n, "metric %.64s: only gauge, sum and histogram are read",
                         name[0] ? name : "(no name)");
                continue;
            }
            if ((s || h) && json_integer_value(json_object_get(body, "aggregationTemporality")) !=
                                OTLP_CUMULATIVE) {
                *rejected += (int)np;
                snprintf(why, n, "metric %.64s: delta temporality is not read (export cumulative)",
                         name);
                continue;
            }
            int counter = s && json_is_true(json_object_get(s, "isMonotonic"));
            size_t nl = strlen(name);
            const char *suffix =
                counter && (nl < 6 || strcmp(name + nl - 6, "_total")) ? "_total" : "";
            if (h) {
                type_line(out, name, "", "histogram");
            } else {
                type_line(out, name, suffix, counter ? "counter" : "gauge");
            }
            json_array_foreach(json_object_get(body, "dataPoints"), k, p)
            {
                double v;
                if (!h) {
                    if (point_value(p, &v) != 0) {
                        ++*rejected;
                        snprintf(why, n, "metric %.64s: a data point without asDouble or asInt",
                                 name);
                        continue;
                    }
                    sample(out, name, suffix, p, NULL, NULL, v);
                    read++;
                    continue;
                }
                const json_t *bc = json_object_get(p, "bucketCounts"),
                             *eb = json_object_get(p, "explicitBounds");
                double count, sum, cum = 0;
                char le[40];
                count = num_field(p, "count");
                sum = json_is_number(json_object_get(p, "sum"))
                          ? json_number_value(json_object_get(p, "sum"))
                          : NAN;
                if (json_array_size(bc) != json_array_size(eb) + 1) {
                    ++*rejected;
                    snprintf(why, n,
                             "metric %.64s: bucketCounts must be one more than "
                             "explicitBounds",
                             name);
                    continue;
                }
                for (size_t b = 0; b < json_array_size(bc); b++) {
                    cum += num_of(json_array_get(bc, b));
                    if (b < json_array_size(eb))
                        snprintf(le, sizeof le, "%.17g", json_number_value(json_array_get(eb, b)));
                    else
                        snprintf(le, sizeof le, "+Inf");
                    sample(out, name, "_bucket", p, "le", le, cum);
                }
                sample(out, name, "_count", p, NULL, NULL, count);
                if (!isnan(sum))
                    sample(out, name, "_sum", p, NULL, NULL, sum);
                read++;
            }
        }
    }
    return read;
}
