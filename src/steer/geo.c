/*
 * geo.c - the client's region, country, ASN and ISP from MaxMind databases (libmaxminddb),
 * for steering requests that do not carry them, and the parser of a trusted client-address
 * header (untrusted bytes: the first entry of an X-Forwarded-For style list).
 *
 * Several databases may be open at once (a Country or City database, an ASN one, an ISP one);
 * each lookup asks every database for the fields still missing. The region comes from a map
 * of country codes (first) and continent codes to policy regions: the built-in one below, or
 * the one given in steer.geoip_regions, which replaces it. Lookups read memory-mapped files
 * and take no lock.
 */
#include "steer/steer_int.h"
#include "core/alloc.h"
#include "core/err.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <maxminddb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GEO_MAX_DBS  4   /* databases open at once */
#define GEO_MAX_MAP  512 /* entries of the region map */
#define GEO_ADDR_MAX 64  /* bytes of one address in the client header */
#define GEO_PATH_MAX 1024

/* One entry of the region map: a country ("GB") or continent ("EU") code to a region. */
struct geo_map_entry {
    char code[3];
    int continent; /* 1: code is a continent code */
    char region[STEER_ID_BUF];
};

struct steer_geo {
    MMDB_s dbs[GEO_MAX_DBS];
    int ndbs;
    struct geo_map_entry *map; /* nmap entries; owned */
    int nmap;
    _Atomic uint64_t found, missed; /* lookups that found an entry, and the others */
};

/* The built-in map: continents, then the countries whose usual streaming region is not
 * their continent's (the Middle East in EMEA, Mexico, Central America and the Caribbean in
 * LATAM). */
static const char *const default_map =
    "continent:AF=EMEA,continent:EU=EMEA,continent:NA=NA,continent:SA=LATAM,"
    "continent:AS=APAC,continent:OC=APAC,continent:AN=APAC,"
    "country:AE=EMEA,country:BH=EMEA,country:CY=EMEA,country:IL=EMEA,country:IQ=EMEA,"
    "country:IR=EMEA,country:JO=EMEA,country:KW=EMEA,country:LB=EMEA,country:OM=EMEA,"
    "country:PS=EMEA,country:QA=EMEA,country:SA=EMEA,country:SY=EMEA,country:TR=EMEA,"
    "country:YE=EMEA,country:GE=EMEA,country:AM=EMEA,country:AZ=EMEA,"
    "country:MX=LATAM,country:GT=LATAM,country:BZ=LATAM,country:SV=LATAM,country:HN=LATAM,"
    "country:NI=LATAM,country:CR=LATAM,country:PA=LATAM,country:CU=LATAM,country:DO=LATAM,"
    "country:HT=LATAM,country:JM=LATAM,country:PR=LATAM,country:TT=LATAM,country:BS=LATAM,"
    "country:BB=LATAM,country:AG=LATAM,country:DM=LATAM,country:GD=LATAM,country:KN=LATAM,"
    "country:LC=LATAM,country:VC=LATAM,country:AW=LATAM,country:CW=LATAM,country:KY=LATAM,"
    "country:GP=LATAM,country:MQ=LATAM,country:VG=LATAM,country:VI=LATAM,country:TC=LATAM";

/* Parses one "continent:XX=REGION" or "country:XX=REGION" entry (n bytes) into e. */
static int map_entry(const char *s, size_t n, struct geo_map_entry *e)
{
    char buf[128];
    size_t k = 0;
    if (n >= sizeof(buf))
        return OC_EINVAL;
    memcpy(buf, s, n);
    buf[n] = '\0';
    if (strncmp(buf, "continent:", 10) == 0)
        k = 10, e->continent = 1;
    else if (strncmp(buf, "country:", 8) == 0)
        k = 8, e->continent = 0;
    else
        return OC_EINVAL;
    if (!isupper((unsigned char)buf[k]) || !isupper((unsigned char)buf[k + 1]) ||
        buf[k + 2] != '=' || !steer_id_valid(buf + k + 3))
        return OC_EINVAL;
    e->code[0] = buf[k];
    e->code[1] = buf[k + 1];
    e->code[2] = '\0';
    snprintf(e->region, sizeof(e->region), "%s", buf + k + 3);
    return 0;
}

/* Parses a comma-separated map into g->map. */
static int map_parse(struct steer_geo *g, const char *s, char *err, size_t errlen)
{
    const char *p = s;
    g->map = oc_calloc(GEO_MAX_MAP, sizeof(*g->map));
    while (*p) {
        size_t n = strcspn(p, ", ");
        if (n > 0) {
            char shown[80];
            snprintf(shown, sizeof(shown), "%.*s", (int)(n < 64 ? n : 64), p);
            if (g->nmap == GEO_MAX_MAP) {
                snprintf(err, errlen, "steer.geoip_regions: more than %d entries", GEO_MAX_MAP);
                return OC_EINVAL;
            }
            if (map_entry(p, n, &g->map[g->nmap]) != 0) {
                snprintf(err, errlen,
                         "steer.geoip_regions: \"%s\": expected continent:XX=REGION or "
                         "country:XX=REGION (XX two capital letters, REGION 1-64 of "
                         "[A-Za-z0-9._-])",
                         shown);
                return OC_EINVAL;
            }
            g->nmap++;
        }
        p += n;
        p += strspn(p, ", ");
    }
    return 0;
}

char *steer_geo_map_regions(const char *regions)
{
    struct steer_geo g = {0};
    char err[256];
    char *out = NULL;
    size_t len = 0, cap = 0;
    if (map_parse(&g, regions && regions[0] ? regions : default_map, err, sizeof err) == 0) {
        for (int i = 0; i < g.nmap; i++) {
            int seen = 0;
            for (int j = 0; j < i && !seen; j++)
                seen = strcmp(g.map[j].region, g.map[i].region) == 0;
            if (seen)
                continue;
            size_t n = strlen(g.map[i].region);
            out = oc_grow(out, &cap, len + n + 2, 1);
            if (len)
                out[len++] = ',';
            memcpy(out + len, g.map[i].region, n + 1);
            len += n;
        }
    }
    free(g.map);
    return out;
}

/* Opens the databases of a comma-separated list of paths. */
static int dbs_open(struct steer_geo *g, const char *paths, char *err, size_t errlen)
{
    const char *p = paths;
    while (*p) {
        size_t n = strcspn(p, ",");
        char path[GEO_PATH_MAX];
        snprintf(path, sizeof(path), "%.*s", (int)(n < sizeof(path) - 1 ? n : sizeof(path) - 1), p);
        if (path[0]) {
            if (g->ndbs == GEO_MAX_DBS) {
                snprintf(err, errlen, "steer.geoip_db: at most %d databases", GEO_MAX_DBS);
                return OC_EINVAL;
            }
            errno = 0;
            int rc = MMDB_open(path, MMDB_MODE_MMAP, &g->dbs[g->ndbs]), e = errno;
            if (rc != MMDB_SUCCESS) {
                const char *why = (rc == MMDB_IO_ERROR || rc == MMDB_FILE_OPEN_ERROR) && e
                                      ? strerror(e)
                                      : MMDB_strerror(rc);
                snprintf(err, errlen, "steer.geoip_db: %s: %s", path, why);
                return OC_EINVAL;
            }
            g->ndbs++;
        }
        p += n;
        p += *p == ',';
    }
    return 0;
}

int steer_geo_open(const char *paths, const char *regions, struct steer_geo **out, char *err,
                   size_t errlen)
{
    struct steer_geo *g = oc_calloc(1, sizeof(*g));
    int rc = map_parse(g, regions && regions[0] ? regions : default_map, err, errlen);
    if (!rc && paths)
        rc = dbs_open(g, paths, err, errlen);
    if (rc) {
        steer_geo_close(g);
        g = NULL;
    }
    *out = g;
    return rc;
}

void steer_geo_close(struct steer_geo *g)
{
    if (!g)
        return;
    for (int i = 0; i < g->ndbs; i++)
        MMDB_close(&g->dbs[i]);
    free(g->map);
    free(g);
}

int steer_geo_ndbs(const struct steer_geo *g)
{
    return g ? g->ndbs : 0;
}

const char *steer_geo_region(const struct steer_geo *g, const char *country, const char *continent)
{
    for (int pass = 0; pass < 2; pass++) {
        const char *code = pass ? continent : country;
        if (!code || !code[0])
            continue;
        for (int i = 0; i < g->nmap; i++)
            if (g->map[i].continent == pass && strcmp(g->map[i].code, code) == 0)
                return g->map[i].region;
    }
    return NULL;
}

/* Copies a MaxMind string (not NUL-terminated) into out as an identifier: ASCII letters and
 * digits lowercased when lower is set, every run of other bytes one '-', no '-' at either
 * end; "" when nothing is left. */
static void to_id(const char *s, uint32_t n, int lower, char *out, size_t cap)
{
    size_t k = 0;
    int dash = 0;
    for (uint32_t i = 0; i < n && k + 1 < cap; i++) {
        unsigned char c = (unsigned char)s[i];
        if (isalnum(c) || c == '.' || c == '_') {
            if (dash && k > 0 && k + 2 < cap)
                out[k++] = '-';
            dash = 0;
            out[k++] = (char)(lower ? tolower(c) : c);
        } else {
            dash = 1;
        }
    }
    out[k] = '\0';
}

/* Reads the string at path (NULL-terminated list) of entry into out, when it is one. */
static int get_str(MMDB_entry_s *entry, const char *const *path, int lower, char *out, size_t cap)
{
    MMDB_entry_data_s d;
    if (MMDB_aget_value(entry, &d, path) != MMDB_SUCCESS || !d.has_data ||
        d.type != MMDB_DATA_TYPE_UTF8_STRING)
        return 0;
    to_id(d.utf8_string, d.data_size, lower, out, cap);
    return out[0] != '\0';
}

static const char *const p_country[] = {"country", "iso_code", NULL};
static const char *const p_registered[] = {"registered_country", "iso_code", NULL};
static const char *const p_continent[] = {"continent", "code", NULL};
static const char *const p_isp[] = {"isp", NULL};
static const char *const p_as_org[] = {"autonomous_system_organization", NULL};
static const char *const p_asn[] = {"autonomous_system_number", NULL};

int steer_geo_fill(struct steer_geo *g, const struct sockaddr *addr, struct steer_query *q)
{
    char country[STEER_ID_BUF] = "", continent[STEER_ID_BUF] = "";
    int found = 0;
    if (!g || !addr)
        return 0;
    for (int i = 0; i < g->ndbs; i++) {
        int mmerr;
        MMDB_entry_data_s d;
        MMDB_lookup_result_s r = MMDB_lookup_sockaddr(&g->dbs[i], addr, &mmerr);
        if (mmerr != MMDB_SUCCESS || !r.found_entry)
            continue;
        found = 1;
        if (!country[0] && !get_str(&r.entry, p_country, 0, country, sizeof(country)))
            get_str(&r.entry, p_registered, 0, country, sizeof(country));
        if (!continent[0])
            get_str(&r.entry, p_continent, 0, continent, sizeof(continent));
        if (!q->isp[0] && !get_str(&r.entry, p_isp, 1, q->isp, sizeof(q->isp)))
            get_str(&r.entry, p_as_org, 1, q->isp, sizeof(q->isp));
        if (!q->asn[0] && MMDB_aget_value(&r.entry, &d, p_asn) == MMDB_SUCCESS && d.has_data &&
            d.type == MMDB_DATA_TYPE_UINT32)
            snprintf(q->asn, sizeof(q->asn), "%u", (unsigned)d.uint32);
    }
    atomic_fetch_add_explicit(found ? &g->found : &g->missed, 1, memory_order_relaxed);
    if (!q->country[0] && country[0])
        snprintf(q->country, sizeof(q->country), "%s", country);
    if (!q->region[0]) {
        const char *region = steer_geo_region(g, q->country, continent);
        if (region)
            snprintf(q->region, sizeof(q->region), "%s", region);
    }
    return found;
}

void steer_geo_counts(struct steer_geo *g, uint64_t *found, uint64_t *missed)
{
    *found = g ? atomic_load_explicit(&g->found, memory_order_relaxed) : 0;
    *missed = g ? atomic_load_explicit(&g->missed, memory_order_relaxed) : 0;
}

int steer_client_addr_parse(const char *s, size_t n, struct sockaddr_storage *out)
{
    char buf[GEO_ADDR_MAX];
    size_t a = 0, b;
    memset(out, 0, sizeof(*out));
    if (!s)
        return OC_EINVAL;
    b = 0;
    while (b < n && s[b] != ',') /* the first entry is the client; proxies append */
        b++;
    while (a < b && (s[a] == ' ' || s[a] == '\t'))
        a++;
    while (b > a && (s[b - 1] == ' ' || s[b - 1] == '\t'))
        b--;
    if (a < b && s[a] == '[') { /* [v6] or [v6]:port */
        size_t e = a + 1;
        while (e < b && s[e] != ']')
            e++;
        if (e == b)
            return OC_EINVAL;
        a++;
        b = e;
    } else {
        size_t colons = 0, dots = 0, first = b;
        for (size_t i = a; i < b; i++) {
            dots += s[i] == '.';
            if (s[i] == ':' && colons++ == 0)
                first = i;
        }
        if (colons == 1 && dots > 0) /* v4:port */
            b = first;
    }
    if (b - a == 0 || b - a >= sizeof(buf))
        return OC_EINVAL;
    memcpy(buf, s + a, b - a);
    buf[b - a] = '\0';
    struct sockaddr_in *v4 = (struct sockaddr_in *)out;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)out;
    if (inet_pton(AF_INET, buf, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        return 0;
    }
    memset(out, 0, sizeof(*out));
    if (inet_pton(AF_INET6, buf, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        return 0;
    }
    memset(out, 0, sizeof(*out));
    return OC_EINVAL;
}
