/*
 * history.c - drill scorecards kept as history: every `oncue drill SCENARIO` run and every
 * drill `oncue drill schedule --run` starts leaves its scorecard (the --json object) as
 * OUT/scorecards/TIME-SCENARIO-seedN.json, written whole or not at all; `oncue drill history`
 * lists them and `oncue catalog check --drills OUT` reads them for the services without a
 * drill in the last quarter.
 */
#include "drill/drill_int.h"

#include "core/err.h"
#include "core/json.h"
#include "core/opt.h"
#include "core/timefmt.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* mkdir that is fine with an existing directory: 0 or -1 (errno set). */
static int make_dir(const char *dir)
{
    return mkdir(dir, 0755) == 0 || errno == EEXIST ? 0 : -1;
}

void drill_history_dir(const char *out_dir, char *dir, size_t n)
{
    snprintf(dir, n, "%s/%s", out_dir ? out_dir : DRILL_DEFAULT_OUT, DRILL_HISTORY_DIR);
}

/* Writes text to a new file at path (fails when it exists): through a temporary file
 * linked into place, so a reader never sees half a scorecard. 0, or -1 (errno set). */
static int write_new(const char *path, const char *text)
{
    char tmp[PATH_MAX_DRILL + 200];
    snprintf(tmp, sizeof tmp, "%s.tmp%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "wx");
    if (!f)
        return -1;
    int ok = fputs(text, f) >= 0 && fflush(f) == 0 && fsync(fileno(f)) == 0;
    int e = errno;
    if (fclose(f) != 0 && ok) {
        ok = 0;
        e = errno;
    }
    if (ok && link(tmp, path) != 0) {
        ok = 0;
        e = errno;
    }
    unlink(tmp);
    errno = e;
    return ok ? 0 : -1;
}

int drill_history_save(const char *out_dir, const json_t *card, char *path, size_t pathlen,
                       char *err, size_t errlen)
{
    char dir[PATH_MAX_DRILL], stamp[32] = "", name[PATH_MAX_DRILL + 160];
    const char *ran = json_string_value(json_object_get(card, "ran_at"));
    const char *scn = json_string_value(json_object_get(card, "scenario"));
    json_int_t seed = json_integer_value(json_object_get(card, "seed"));
    size_t k = 0;
    for (const char *p = ran ? ran : ""; *p && k + 1 < sizeof stamp; p++)
        if (*p != '-' && *p != ':')
            stamp[k++] = *p; /* 2026-12-06T21:40:00.123Z -> 20261206T214000.123Z */
    stamp[k] = '\0';
    if (make_dir(out_dir ? out_dir : DRILL_DEFAULT_OUT) != 0) {
        snprintf(err, errlen, "cannot create %s: %s", out_dir ? out_dir : DRILL_DEFAULT_OUT,
                 strerror(errno));
        return OC_EIO;
    }
    drill_history_dir(out_dir, dir, sizeof dir);
    if (make_dir(dir) != 0) {
        snprintf(err, errlen, "cannot create %s: %s", dir, strerror(errno));
        return OC_EIO;
    }
    char *text = json_dumps(card, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
    if (!text) {
        snprintf(err, errlen, "the scorecard does not serialize");
        return OC_EIO;
    }
    int rc = -1;
    for (int i = 1; i <= 100 && rc != 0; i++) { /* two drills in one second: -2, -3, ... */
        if (i == 1)
            snprintf(name, sizeof name, "%s/%s-%s-seed%lld.json", dir, stamp, scn ? scn : "drill",
                     (long long)seed);
        else
            snprintf(name, sizeof name, "%s/%s-%s-seed%lld-%d.json", dir, stamp,
                     scn ? scn : "drill", (long long)seed, i);
        rc = write_new(name, text);
        if (rc != 0 && errno != EEXIST)
            break;
    }
    free(text);
    if (rc != 0) {
        snprintf(err, errlen, "cannot write %s: %s", name, strerror(errno));
        return OC_EIO;
    }
    snprintf(path, pathlen, "%s", name);
    return 0;
}

int drill_history_load(const char *out_dir, json_t **cards, int *skipped, char *err, size_t errlen)
{
    char dir[PATH_MAX_DRILL];
    drill_history_dir(out_dir, dir, sizeof dir);
    int rc =
        oc_json_dir_load(dir, DRILL_HISTORY_MAX, DRILL_HISTORY_BYTES, cards, skipped, err, errlen);
    return rc == OC_ENOTFOUND ? 0 : rc;
}

json_t *drill_history_last(const json_t *cards, const char *key, const char *value)
{
    for (size_t i = json_array_size(cards); i-- > 0;) {
        json_t *c = json_array_get(cards, i);
        const char *v = json_string_value(json_object_get(c, key));
        if (v && strcmp(v, value) == 0)
            return c;
    }
    return NULL;
}

/* --- oncue drill history --- */

struct hargs {
    const char *out;      /* --out */
    const char *scenario; /* --scenario */
    long limit;           /* --limit */
    int json;             /* --json */
};

#define F(field) offsetof(struct hargs, field)

const struct oc_opt drill_history_options[] = {
    {"--out", OC_OPT_STR, F(out), "DIR",
     "the drills' output directory whose scorecards/ to read (default ./oncue-drills)", 0, 0, NULL},
    {"--scenario", OC_OPT_STR, F(scenario), "NAME", "only the drills of this scenario", 0, 0, NULL},
    {"--limit", OC_OPT_LONG, F(limit), "N", "the newest N (default 50)", 1, 100000, NULL},
    {"--json", OC_OPT_FLAG, F(json), NULL, "print {\"scorecards\": [...]}, newest first", 0, 0,
     NULL},
    {0},
};

#undef F

/* "312 s" from a number member, or "-". */
static const char *secs(const json_t *c, const char *key, char *buf, size_t n)
{
    const json_t *v = json_object_get(c, key);
    if (!json_is_integer(v))
        return "-";
    snprintf(buf, n, "%lld s", (long long)json_integer_value(v));
    return buf;
}

static const char *str_or(const json_t *c, const char *key, const char *dflt)
{
    const char *v = json_string_value(json_object_get(c, key));
    return v && *v ? v : dflt;
}

int drill_history_cli_main(int argc, char **argv)
{
    struct hargs a = {.limit = 50};
    json_t *cards = NULL, *shown = json_array();
    char err[512], t[32];
    int skipped = 0, nargs = 0;
    int rc = oc_cli_parse(&drill_cli[DRILL_CLI_HISTORY], argc - 1, argv + 1, &a, NULL, &nargs);
    if (rc != 0) {
        json_decref(shown);
        return rc > 0 ? 0 : 2;
    }
    if (drill_history_load(a.out, &cards, &skipped, err, sizeof err) != 0) {
        fprintf(stderr, "oncue drill history: %s\n", err);
        json_decref(cards);
        json_decref(shown);
        return 2;
    }
    for (size_t i = json_array_size(cards); i-- > 0 && json_array_size(shown) < (size_t)a.limit;) {
        json_t *c = json_array_get(cards, i);
        if (!a.scenario || strcmp(str_or(c, "scenario", ""), a.scenario) == 0)
            json_array_append(shown, c);
    }
    if (a.json) {
        json_t *o = json_pack("{s:O, s:i}", "scorecards", shown, "unreadable", skipped);
        char *text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        printf("%s\n", text ? text : "{}");
        free(text);
        json_decref(o);
    } else if (json_array_size(shown) == 0) {
        char dir[PATH_MAX_DRILL];
        drill_history_dir(a.out, dir, sizeof dir);
        printf("no drill scorecards in %s\n", dir);
    } else {
        printf("%-24s %-18s %-18s %8s %-6s %-18s %s\n", "RAN AT", "SCHEDULE", "SCENARIO", "SEED",
               "RESULT", "SERVICE", "PAGE TO RELIEF");
        size_t i;
        json_t *c;
        json_array_foreach(shown, i, c)
        {
            printf("%-24s %-18s %-18s %8lld %-6s %-18s %s\n", str_or(c, "ran_at", "-"),
                   str_or(c, "schedule", "-"), str_or(c, "scenario", "-"),
                   (long long)json_integer_value(json_object_get(c, "seed")),
                   json_is_true(json_object_get(c, "pass")) ? "PASS" : "FAIL",
                   str_or(c, "service", "-"), secs(c, "page_to_relief_s", t, sizeof t));
        }
    }
    if (skipped)
        fprintf(stderr, "oncue drill history: %d scorecard files did not read as JSON\n", skipped);
    json_decref(cards);
    json_decref(shown);
    return 0;
}
