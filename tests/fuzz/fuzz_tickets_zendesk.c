/*
 * fuzz_tickets_zendesk.c - fuzzes the Zendesk intake (tickets/zendesk.c, tickets/map.c) with
 * bytes an attacker controls: the input's first line is X-Zendesk-Webhook-Signature, the
 * second X-Zendesk-Webhook-Signature-Timestamp, the rest the body.
 *
 * Besides not crashing: every answer is a tickets_sig value; a signature verifies only when
 * it is the real one of the timestamp and the body; a body that parses has an id of 1 to
 * TICKETS_ID_MAX printable bytes and NUL-terminated fields, and its tags and SimHash are
 * computed without reading past them.
 */
#include "tickets/tickets.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define NOW 1796558400

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Cuts the next line of [*p, end) into a NUL-terminated copy (malloc'd). */
static char *line(const char **p, const char *end)
{
    const char *nl = memchr(*p, '\n', (size_t)(end - *p));
    size_t n = nl ? (size_t)(nl - *p) : (size_t)(end - *p);
    char *s = malloc(n + 1);
    memcpy(s, *p, n);
    s[n] = '\0';
    *p += n + (nl != NULL);
    return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data, *end = p + size;
    char *sig = line(&p, end), *ts = line(&p, end);
    size_t n = (size_t)(end - p);
    char *body = malloc(n + 1), want[64], err[300];
    memcpy(body, p, n);
    body[n] = '\0';
    int64_t t = 0;
    enum tickets_sig r = tickets_zendesk_verify("fuzz-secret", sig, ts, body, n, NOW, 300, &t);
    if (r < TICKETS_SIG_OK || r > TICKETS_SIG_NOKEY)
        abort();
    if (r == TICKETS_SIG_OK) {
        tickets_zendesk_sign("fuzz-secret", ts, body, n, want, sizeof want);
        if (strncmp(sig, want, 43) != 0 || t < NOW - 300 || t > NOW + 300)
            abort();
    }
    struct tickets_map m;
    struct tickets_keywords kw;
    static struct tickets_ticket tk;
    tickets_map_builtin(TICKETS_ZENDESK, &m);
    if (tickets_parse(&m, TICKETS_ZENDESK, body, n, &tk, err, sizeof err) == 0) {
        size_t idl = strlen(tk.ext_id);
        if (idl == 0 || idl > TICKETS_ID_MAX || strlen(tk.subject) >= TICKETS_SUBJECT_MAX ||
            strlen(tk.body) >= TICKETS_TEXT_MAX)
            abort();
        tickets_keywords_builtin(&kw);
        tickets_tag(&tk, &kw, NULL, 0);
        (void)tickets_simhash(&tk);
    } else if (!err[0]) {
        abort(); /* a refusal names its field */
    }
    free(sig);
    free(ts);
    free(body);
    return 0;
}
