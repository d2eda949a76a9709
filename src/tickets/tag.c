/*
 * tag.c - auto-tagging a ticket: the service (a field naming a catalog service, else a
 * catalog name or alias or a service keyword row found in the text), the symptom (keyword
 * rows), tier and VIP, segment, device family, app version and region. Keywords match at
 * word starts of the normalized text, so "buffer" finds "buffering" but not "rebuffer".
 * docs/internals/tickets.md lists the built-in table; tickets.keywords_file adds or replaces
 * rows.
 */
#include "tickets/tickets.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#define NORM_MAX (TICKETS_SUBJECT_MAX + TICKETS_TEXT_MAX + TICKETS_TAGS_IN_MAX + 8)

/* dim, value, keywords ('|'-separated, normalized). First the symptoms, most specific
 * first: a tie in hits goes to the earlier row. */
static const char *const rows[][3] = {
    {"symptom", "payment",
     "payment|charged|charge|credit card|card declined|declined|refund|invoice|billing|"
     "double charged|billed"},
    {"symptom", "login",
     "login|log in|logged out|sign in|signin|signed out|password|locked out|verification code|"
     "2fa|two factor|cannot log|can t log"},
    {"symptom", "subtitles",
     "subtitle|caption|closed caption|cc missing|out of sync subtitles|wrong language"},
    {"symptom", "progress_lost",
     "progress|continue watching|where i left|lost my place|starts over|started over|"
     "starts from the beginning|watch history|resume point|resume"},
    {"symptom", "search", "search|can t find|cannot find|no results|find the show|find the movie"},
    {"symptom", "cannot_start",
     "won t play|wont play|will not play|doesn t play|does not play|not playing|won t start|"
     "wont start|will not start|fails to start|black screen|playback error|error code|"
     "can t play|cannot play|won t load|wont load|not loading|stuck on loading|infinite spinner|"
     "video unavailable|nothing plays"},
    {"symptom", "buffering",
     "buffering|buffer|rebuffer|stutter|stuttering|lag|lagging|choppy|freez|keeps pausing|"
     "spinning|pixelated|low quality|blurry|loading wheel"},
    {"symptom", "audio", "no sound|no audio|audio|sound out of sync|volume"},
    {"device", "ios", "iphone|ipad|ios"},
    {"device", "android", "android|pixel phone|galaxy"},
    {"device", "tvos", "apple tv|appletv|tvos"},
    {"device", "roku", "roku"},
    {"device", "firetv", "fire tv|firetv|fire stick|firestick"},
    {"device", "smarttv", "smart tv|smarttv|samsung tv|lg tv|tizen|webos|vizio"},
    {"device", "console", "xbox|playstation|ps5|ps4"},
    {"device", "web", "browser|chrome|firefox|safari|edge|website|web app"},
    {"tier", "premium", "premium|platinum|gold|enterprise|ultra|4k plan"},
    {"tier", "standard", "standard|basic|silver"},
    {"tier", "free", "free|ad supported|with ads|trial"},
};

void tickets_keywords_builtin(struct tickets_keywords *out)
{
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < sizeof rows / sizeof rows[0] && out->n < TICKETS_KEYWORDS_MAX; i++) {
        struct tickets_keyword *k = &out->rows[out->n++];
        snprintf(k->dim, sizeof k->dim, "%s", rows[i][0]);
        snprintf(k->value, sizeof k->value, "%s", rows[i][1]);
        snprintf(k->words, sizeof k->words, "%s", rows[i][2]);
    }
}

void tickets_normalize(const char *text, char *out, size_t n)
{
    size_t at = 0;
    if (n < 3) {
        if (n)
            out[0] = '\0';
        return;
    }
    out[at++] = ' ';
    for (const unsigned char *p = (const unsigned char *)text; *p && at < n - 2; p++) {
        unsigned char c = *p;
        if (c == '\'') /* "won't" -> "won t" keeps the phrase tables simple */
            c = ' ';
        if (isalnum(c) && c < 0x80)
            out[at++] = (char)tolower(c);
        else if (out[at - 1] != ' ')
            out[at++] = ' ';
    }
    if (out[at - 1] != ' ')
        out[at++] = ' ';
    out[at] = '\0';
}

/* Hits of the '|'-separated keywords at word starts of norm (framed by spaces). */
static int hits(const char *norm, const char *words)
{
    char kw[160];
    int n = 0;
    for (const char *p = words; *p;) {
        size_t len = strcspn(p, "|");
        if (len && len < sizeof kw - 1) {
            kw[0] = ' ';
            memcpy(kw + 1, p, len);
            kw[len + 1] = '\0';
            for (const char *s = norm; (s = strstr(s, kw)) != NULL; s += len)
                n++;
        }
        p += len + (p[len] == '|');
    }
    return n;
}

/* The value of dim with the most hits in norm (earlier rows win ties), or NULL. */
static const char *best(const struct tickets_keywords *kw, const char *dim, const char *norm)
{
    const char *v = NULL;
    int top = 0;
    for (int i = 0; i < kw->n; i++) {
        if (strcmp(kw->rows[i].dim, dim) != 0)
            continue;
        int h = hits(norm, kw->rows[i].words);
        if (h > top) {
            top = h;
            v = kw->rows[i].value;
        }
    }
    return v;
}

/* The service: a field naming one; else the service whose name or aliases occur most. */
static void tag_service(struct tickets_ticket *t, const char *norm,
                        const struct tickets_keywords *kw, const struct tickets_service *svcs,
                        int ns)
{
    char name[TICKETS_FIELD_MAX + 2], alias[TICKETS_FIELD_MAX * 2];
    int top = 0;
    for (int i = 0; i < ns; i++)
        if (t->f_service[0] && strcmp(t->f_service, svcs[i].name) == 0) {
            snprintf(t->tags.service, sizeof t->tags.service, "%s", svcs[i].name);
            return;
        }
    for (int i = 0; i < ns; i++) {
        tickets_normalize(svcs[i].name, name, sizeof name);
        size_t nl = strlen(name);
        if (nl < 3)
            continue;
        name[nl - 1] = '\0'; /* the framing spaces go; hits adds the leading one */
        snprintf(alias, sizeof alias, "%s%s%s", name + 1, svcs[i].aliases ? "|" : "",
                 svcs[i].aliases ? svcs[i].aliases : "");
        int h = hits(norm, alias);
        if (h > top) {
            top = h;
            snprintf(t->tags.service, sizeof t->tags.service, "%s", svcs[i].name);
        }
    }
    if (!top) {
        const char *v = best(kw, "service", norm);
        if (v)
            snprintf(t->tags.service, sizeof t->tags.service, "%s", v);
    }
}

/* Copies the characters of s that are [A-Za-z0-9.-] (at most n - 1), lower-cased or not. */
static void token_copy(char *out, size_t n, const char *s, int lower)
{
    size_t at = 0;
    for (; *s && at < n - 1; s++)
        if (isalnum((unsigned char)*s) || *s == '.' || *s == '-')
            out[at++] = lower ? (char)tolower((unsigned char)*s) : *s;
    out[at] = '\0';
}

/* An app version in the raw text: "version 4.2.1", "v4.2", "app 4.2.1" (digits and dots
 * with at least one dot, starting a word or after a lone 'v'). */
static void version_in(const char *text, char *out, size_t n)
{
    for (const char *p = text; *p; p++) {
        int start =
            p == text || p[-1] == ' ' ||
            ((p[-1] == 'v' || p[-1] == 'V') && (p - 1 == text || !isalnum((unsigned char)p[-2])));
        if (!isdigit((unsigned char)*p) || !start)
            continue;
        size_t len = strspn(p, "0123456789.");
        while (len && p[len - 1] == '.')
            len--;
        if (len >= 3 && len < n && memchr(p, '.', len) && !isalnum((unsigned char)p[len])) {
            memcpy(out, p, len);
            out[len] = '\0';
            return;
        }
        p += len ? len - 1 : 0;
    }
}

void tickets_tag(struct tickets_ticket *t, const struct tickets_keywords *kw,
                 const struct tickets_service *svcs, int ns)
{
    static _Thread_local char norm[NORM_MAX], fnorm[TICKETS_FIELD_MAX * 3 + 8];
    char text[NORM_MAX];
    const char *v;
    memset(&t->tags, 0, sizeof t->tags);
    snprintf(text, sizeof text, "%s\n%s\n%s", t->subject, t->body, t->tags_in);
    tickets_normalize(text, norm, sizeof norm);
    if (t->f_app_version[0])
        token_copy(t->tags.app_version, sizeof t->tags.app_version, t->f_app_version, 0);
    else
        version_in(text, t->tags.app_version, sizeof t->tags.app_version);
    tag_service(t, norm, kw, svcs, ns);
    if ((v = best(kw, "symptom", norm)) != NULL)
        snprintf(t->tags.symptom, sizeof t->tags.symptom, "%s", v);
    /* tier, segment and VIP from their fields (and the provider's tags) */
    snprintf(text, sizeof text, "%s %s %s", t->f_tier, t->f_segment, t->tags_in);
    tickets_normalize(text, fnorm, sizeof fnorm);
    if (t->f_tier[0] || t->tags_in[0])
        if ((v = best(kw, "tier", fnorm)) != NULL)
            snprintf(t->tags.tier, sizeof t->tags.tier, "%s", v);
    t->tags.vip = strstr(fnorm, " vip") != NULL;
    token_copy(t->tags.segment, sizeof t->tags.segment, t->f_segment, 1);
    /* device: the field's family, else the text's */
    tickets_normalize(t->f_device, fnorm, sizeof fnorm);
    if ((v = best(kw, "device", t->f_device[0] ? fnorm : norm)) != NULL)
        snprintf(t->tags.device, sizeof t->tags.device, "%s", v);
    else if (t->f_device[0])
        token_copy(t->tags.device, sizeof t->tags.device, t->f_device, 1);
    token_copy(t->tags.region, sizeof t->tags.region, t->f_region, 0);
    for (char *p = t->tags.region; *p; p++)
        *p = (char)toupper((unsigned char)*p);
}
