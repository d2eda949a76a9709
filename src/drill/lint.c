/*
 * lint.c - `oncue runbook check FILE...`: a runbook read as the server would read it, then
 * each typed step checked against what exists (incident fields, QoE metrics, the
 * mitigations `oncue mitigate` knows), each problem one "FILE:LINE: message" line.
 */
#include "drill/drill_int.h"

#include "core/alloc.h"
#include "core/err.h"
#include "core/timefmt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const char *const drill_check_fields[] = {"state",        "severity",  "service", "team",
                                          "title",        "slice",     "cause",   "public_status",
                                          "acknowledged", "mitigated", NULL};

/* 1 when field is one of drill_check_fields. */
static int known_field(const char *field)
{
    for (const char *const *f = drill_check_fields; *f; f++)
        if (strcmp(*f, field) == 0)
            return 1;
    return 0;
}

/* Appends "FILE:LINE: message" to out. */
static void problem(struct oc_buf *out, const char *file, int line, const char *msg)
{
    oc_buf_printf(out, "%s:%d: %s\n", file, line, msg);
}

/* Checks a check step's query; 0 or 1 problem written. */
static int lint_query(const char *file, const struct drill_step *st, struct oc_buf *out)
{
    char msg[DRILL_MAX_TEXT], why[256];
    const char *q = st->query;
    if (strchr(q, '{')) /* filled from the incident when it runs */
        return 0;
    if (strncmp(q, "incident.", 9) == 0) {
        if (known_field(q + 9))
            return 0;
        snprintf(msg, sizeof(msg),
                 "unknown query field '%s' (incident fields: state, severity, service, team, "
                 "title, slice, cause, public_status, acknowledged, mitigated)",
                 q);
    } else if (strncmp(q, "qoe.", 4) == 0) {
        if (qoe_metric_find(q + 4)) {
            char *end;
            strtod(st->expect, &end);
            if (*end == '\0' || strchr(st->expect, '{'))
                return 0;
            snprintf(msg, sizeof(msg), "expect: a QoE metric compares with a number, not '%s'",
                     st->expect);
        } else {
            qoe_metric_unknown(q + 4, why, sizeof(why));
            snprintf(msg, sizeof(msg), "unknown query field '%s': metric %s", q, why);
        }
    } else
        snprintf(msg, sizeof(msg), "unknown query field '%s' (incident.FIELD or qoe.METRIC)", q);
    problem(out, file, st->line, msg);
    return 1;
}

/* Checks one `oncue mitigate ...` template by reading it with the command's option table,
 * its placeholders standing for "1". 0 or 1 problem written. */
static int lint_command(const char *file, int line, const struct drill_host *h, const char *tmpl,
                        struct oc_buf *out)
{
    char cmd[DRILL_MAX_TEXT], err[256] = "", msg[DRILL_MAX_TEXT + 300];
    size_t k = 0;
    for (const char *p = tmpl; *p && k + 2 < sizeof(cmd); p++) {
        const char *close = *p == '{' ? strchr(p, '}') : NULL;
        if (close) {
            cmd[k++] = '1';
            p = close;
        } else
            cmd[k++] = *p;
    }
    cmd[k] = '\0';
    if (!h)
        return 0;
    json_t *req = drill_command_request(h, cmd, err, sizeof(err));
    int bad = !req || (h->check && h->check(req, err, sizeof(err)) != 0);
    json_decref(req);
    if (!bad)
        return 0;
    snprintf(msg, sizeof(msg), "unknown mitigation: %s", err);
    problem(out, file, line, msg);
    return 1;
}

/* Checks an action step; the problems written. */
static int lint_action(const char *file, const struct drill_step *st,
                       const struct drill_runbook *rb, const struct drill_host *h,
                       struct oc_buf *out)
{
    int n = 0;
    if (st->run)
        n += lint_command(file, st->line, h, st->run, out);
    for (int i = st->cmd_first; i < st->cmd_first + st->ncmds; i++)
        n += lint_command(file, st->line, h, rb->cmds[i].run, out);
    if (st->webhook && strncmp(st->webhook, "https://", 8) != 0 &&
        strncmp(st->webhook, "http://", 7) != 0) {
        problem(out, file, st->line, "webhook: an http:// or https:// URL");
        n++;
    }
    return n;
}

int drill_runbook_lint(const char *file, const char *yaml, size_t len, const struct drill_host *h,
                       struct oc_buf *out)
{
    struct drill_runbook rb;
    char err[DRILL_MAX_TEXT];
    int n = 0;
    if (drill_runbook_parse(yaml, len, &rb, err, sizeof(err)) != 0) {
        long line = 1;
        const char *msg = err;
        if (strncmp(err, "line ", 5) == 0) {
            char *end;
            line = strtol(err + 5, &end, 10);
            msg = *end == ':' ? end + 2 : err;
        }
        oc_buf_printf(out, "%s:%ld: %s\n", file, line, msg);
        return 1;
    }
    int64_t reviewed_ms = 0;
    if (rb.reviewed[0] && oc_time_parse(rb.reviewed, OC_TIME_UTC, &reviewed_ms) == 0 &&
        reviewed_ms > (int64_t)time(NULL) * 1000 + 86400000) {
        problem(out, file, rb.reviewed_line, "reviewed: a date in the future");
        n++;
    }
    for (int i = 0; i < rb.nsteps; i++) {
        const struct drill_step *st = &rb.steps[i];
        if (st->type == DRILL_STEP_CHECK)
            n += lint_query(file, st, out);
        else if (st->type == DRILL_STEP_ACTION)
            n += lint_action(file, st, &rb, h, out);
        else if (st->type == DRILL_STEP_NOTE)
            for (int k = st->cmd_first; k < st->cmd_first + st->ncmds; k++)
                n += lint_command(file, st->line, h, rb.cmds[k].run, out);
        if (st->type == DRILL_STEP_DECISION && i == rb.nsteps - 1) {
            problem(out, file, st->line, "a decision gates the step after it; this is the last");
            n++;
        }
    }
    drill_runbook_free(&rb);
    return n;
}
