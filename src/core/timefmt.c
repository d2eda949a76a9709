/*
 * timefmt.c - ISO 8601 / RFC 3339 UTC timestamps to and from unix milliseconds, by
 * arithmetic on the proleptic Gregorian calendar (Howard Hinnant's days-from-civil and
 * civil-from-days), so no gmtime_r/timegm and no dependence on the process's time zone.
 */
#include "core/timefmt.h"
#include "core/err.h"

#include <stdio.h>
#include <string.h>

/* Floor division (rounds toward negative infinity), for times before 1970. */
static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

int64_t oc_days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* The date of day z since 1970-01-01. */
static void civil_from_days(int64_t z, int *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

void oc_time_format(int64_t ms, char *out, size_t n)
{
    int64_t s = floor_div(ms, 1000), days = floor_div(s, 86400), sod = s - days * 86400;
    int y, m, d;
    civil_from_days(days, &y, &m, &d);
    snprintf(out, n, "%04d-%02d-%02dT%02d:%02d:%02dZ", y, m, d, (int)(sod / 3600),
             (int)(sod / 60 % 60), (int)(sod % 60));
}

/* Reads exactly width decimal digits at *p into *v and advances *p; 0 or -1. */
static int digits(const char **p, int width, int *v)
{
    int x = 0;
    for (int i = 0; i < width; i++) {
        char c = (*p)[i];
        if (c < '0' || c > '9')
            return -1;
        x = x * 10 + (c - '0');
    }
    *p += width;
    *v = x;
    return 0;
}

/* Reads "HH:MM" at *p into minutes east of UTC with sign; 0 or -1. */
static int zone(const char **p, int sign, int64_t *off_min)
{
    int h, m;
    if (digits(p, 2, &h) != 0 || **p != ':')
        return -1;
    ++*p;
    if (digits(p, 2, &m) != 0 || h > 23 || m > 59)
        return -1;
    *off_min = sign * (h * 60 + m);
    return 0;
}

/* Reads ".digits" at *p as milliseconds (digits past the third are dropped); 0 or -1. */
static int fraction(const char **p, int *ms)
{
    int k = 0, v = 0;
    const char *t = *p + 1;
    for (; *t >= '0' && *t <= '9'; t++, k++)
        if (k < 3)
            v = v * 10 + (*t - '0');
    if (k == 0)
        return -1;
    for (; k < 3; k++)
        v *= 10;
    *p = t;
    *ms = v;
    return 0;
}

/* Parses what follows the date at t (time of day, fraction, zone) into milliseconds since
 * that midnight and the zone's offset in minutes east of UTC; 0 or -1. */
static int time_of_day(const char *t, unsigned flags, int64_t *ms, int64_t *off_min)
{
    int strict = (flags & OC_TIME_STRICT) != 0, hh = 0, mi = 0, ss = 0, frac = 0;
    *off_min = 0;
    if (*t == 'T' || (*t == ' ' && !strict)) {
        t++;
        if (digits(&t, 2, &hh) != 0 || *t++ != ':' || digits(&t, 2, &mi) != 0)
            return -1;
        if (*t == ':') {
            t++;
            if (digits(&t, 2, &ss) != 0 || (*t == '.' && fraction(&t, &frac) != 0))
                return -1;
        } else if (strict) {
            return -1;
        }
        if (*t == 'Z' || *t == 'z') {
            t++;
        } else if ((*t == '+' || *t == '-') && !(flags & OC_TIME_UTC)) {
            int sign = *t++ == '-' ? -1 : 1;
            if (zone(&t, sign, off_min) != 0)
                return -1;
        } else if (strict) {
            return -1;
        }
    } else if (strict) {
        return -1;
    }
    if (*t != '\0' || hh > 23 || mi > 59 || ss > 60)
        return -1;
    *ms = ((int64_t)hh * 3600 + mi * 60 + ss) * 1000 + frac;
    return 0;
}

int oc_time_parse(const char *s, unsigned flags, int64_t *out_ms)
{
    int rc = OC_EINVAL, y, mo, d;
    int64_t ms, off_min;
    const char *p = s;
    if (!p || digits(&p, 4, &y) != 0 || *p++ != '-' || digits(&p, 2, &mo) != 0 || *p++ != '-' ||
        digits(&p, 2, &d) != 0)
        goto out;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || time_of_day(p, flags, &ms, &off_min) != 0)
        goto out;
    *out_ms = oc_days_from_civil(y, mo, d) * 86400000 + ms - off_min * 60000;
    rc = 0;
out:
    return rc;
}

#define TIME_MAX_S 253402300799LL /* 9999-12-31T23:59:59Z */

int oc_duration_parse(const char *s, int64_t *out_s)
{
    static const struct {
        char unit;
        int64_t s;
    } units[] = {{'s', 1}, {'m', 60}, {'h', 3600}, {'d', 86400}, {'w', 604800}};
    int64_t v = 0;
    const char *p = s;
    if (!p || *p < '0' || *p > '9')
        return OC_EINVAL;
    for (; *p >= '0' && *p <= '9'; p++) {
        if (v > TIME_MAX_S)
            return OC_EINVAL;
        v = v * 10 + (*p - '0');
    }
    int64_t mult = 1;
    if (*p) {
        size_t i = 0;
        while (i < sizeof units / sizeof units[0] && units[i].unit != *p)
            i++;
        if (i == sizeof units / sizeof units[0] || p[1])
            return OC_EINVAL;
        mult = units[i].s;
    }
    if (v > TIME_MAX_S / mult)
        return OC_EINVAL;
    *out_s = v * mult;
    return 0;
}

int oc_time_param(const char *s, int64_t now_s, int64_t *out_s, char *why, size_t n)
{
    int64_t v, d;
    const char *p = s;
    if (!s || !*s)
        return snprintf(why, n, "empty; give unix seconds, an ISO 8601 time or now-1h"),
               OC_EMALFORMED;
    if (strncmp(s, "now", 3) == 0) {
        v = now_s;
        if (s[3] && ((s[3] != '-' && s[3] != '+') || oc_duration_parse(s + 4, &d) != 0))
            return snprintf(why, n,
                            "'%.40s': after now, + or - and a duration such as 90s, 15m, 1h, 7d"
                            " or 2w",
                            s),
                   OC_EMALFORMED;
        if (s[3])
            v = s[3] == '-' ? now_s - d : now_s + d;
    } else if (*p == '-' && p[1] && strspn(p + 1, "0123456789") == strlen(p + 1)) {
        return snprintf(why, n, "'%.40s' is before 1970", s), OC_EINVAL;
    } else if (*p >= '0' && *p <= '9' && strspn(p, "0123456789") == strlen(p)) {
        /* 12 digits and more: after the year 5138 in seconds, 1973 on in milliseconds */
        if (strlen(p) >= 12 || oc_duration_parse(p, &v) != 0 || v >= 100000000000LL)
            return snprintf(why, n, "'%.40s' looks like milliseconds; this takes unix seconds", s),
                   OC_EINVAL;
    } else if (oc_time_parse(s, 0, &v) == 0) {
        v = v >= 0 ? v / 1000 : -((-v + 999) / 1000);
    } else {
        return snprintf(why, n,
                        "'%.40s': give unix seconds, an ISO 8601 time (2026-03-02T19:40:00Z) or"
                        " now-1h",
                        s),
               OC_EMALFORMED;
    }
    if (v < 0 || v > TIME_MAX_S)
        return snprintf(why, n, "'%.40s' is before 1970 or after 9999", s), OC_EINVAL;
    *out_s = v;
    return 0;
}
