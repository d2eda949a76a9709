/*
 * storm.c - a labelled ticket storm for measuring the clusters: eight faults (some sharing a
 * service or a symptom, so that telling them apart takes more than one tag), each written
 * through five paraphrases for the subject and five for the body, with filler sentences,
 * typos (a swapped or dropped letter in about one word in ten), fields present only part of
 * the time, and noise tickets about unrelated matters, each its own class. Deterministic in
 * the seed; every ticket is tagged with the built-in keywords and the storm's services.
 */
#include "tickets/tickets.h"
#include "core/alloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct fault {
    const char *service, *region, *device; /* fields, when present */
    const char *subject[5], *body[5];      /* paraphrases; %s is the device's name */
};

static const struct fault faults[] = {
    {"playback-api",
     "EU",
     "Samsung TV",
     {"Video won't play on my %s", "Black screen when I press play", "Playback error on every show",
      "Nothing plays, just a black screen", "Can't play any episode"},
     {"Since this morning the player shows a black screen on my %s and nothing plays.",
      "Every title fails to start with a playback error code on the %s.",
      "I press play and the video never starts, the player just sits there.",
      "Video unavailable message on all shows, won't play at all on %s.",
      "The player won't start any movie, stuck on loading then error code."}},
    {"playback-api",
     "US",
     "Chrome browser",
     {"Constant buffering on %s", "Video keeps buffering", "Stream is choppy and freezing",
      "Endless buffering mid episode", "Picture pixelated and lagging"},
     {"The player keeps buffering every few seconds on %s, unwatchable.",
      "Streams stutter and freeze, then buffer again, my internet is fine.",
      "Buffering constantly in the player, quality drops and it lags.",
      "Every episode freezes with the spinning wheel, buffering all evening.",
      "Video is choppy and keeps buffering even at low quality on %s."}},
    {"playback-api",
     "APAC",
     "Android phone",
     {"Buffering all the time on %s", "App keeps buffering", "Streaming freezes constantly",
      "Buffering every minute", "Lag and freezing in the player"},
     {"On my %s the player buffers every minute and freezes.",
      "Lots of buffering and stuttering tonight, other apps work fine.",
      "Stream keeps freezing in the player, then buffering for ages.",
      "The video lags and buffers constantly on mobile data and wifi.",
      "Playback freezes and buffers over and over on the %s app."}},
    {"auth",
     "US",
     "iPhone",
     {"Can't log in on my %s", "Wrong password error but it is right", "Logged out, cannot sign in",
      "Verification code never arrives", "Sign in button does nothing"},
     {"I got logged out and now the login page says my password is wrong on %s.",
      "Cannot sign in, the login keeps failing although I reset the password.",
      "Login fails with an error, I am locked out of my account on the %s.",
      "Sign in is broken, the verification code never comes and I am logged out.",
      "Every login attempt fails, the password reset email did not help."}},
    {"payments",
     "EU",
     "Firefox browser",
     {"Charged twice this month", "Card declined but money taken", "Double charged for premium",
      "Payment error on the billing page", "Refund for duplicate charge"},
     {"My card was charged twice for the subscription, please refund one payment.",
      "The payment failed with card declined but my bank shows the charge.",
      "I was double charged on my invoice this month, billing looks wrong.",
      "Billing page gives a payment error, yet I see two charges on my card.",
      "Please refund the duplicate charge, I was billed twice for one month."}},
    {"resume",
     "US",
     "Roku",
     {"Lost my place in the show", "Continue watching row empty", "Episodes start over",
      "Watch history disappeared", "Progress not saved on %s"},
     {"The app lost my progress, every episode starts from the beginning on %s.",
      "My continue watching row is empty and the resume point is gone.",
      "Progress is not saved anymore, it started over when I switched to the %s.",
      "Watch history disappeared, I lost my place in every series.",
      "Resume does not work, shows start from the beginning again and progress is lost."}},
    {"search-api",
     "APAC",
     "Android tablet",
     {"Search returns no results", "Can't find any show with search", "Search bar gives an error",
      "Typing in search shows nothing", "Cannot find the movie in search"},
     {"Search shows no results for any title I type on my %s.",
      "I cannot find the show, the search bar just returns an error.",
      "Searching for anything gives no results since yesterday.",
      "The search page is empty whatever I type, can't find any movie.",
      "Search does not work on the %s, no results for shows I watched last week."}},
    {"playback-api",
     "EU",
     "Safari browser",
     {"Subtitles out of sync", "Captions missing on every episode", "Subtitle track wrong language",
      "Closed captions don't show", "Subtitles not showing on %s"},
     {"The subtitles are out of sync by several seconds on %s.",
      "Captions are missing on every episode, the subtitle menu is empty.",
      "The subtitle track shows the wrong language whatever I pick.",
      "Closed captions do not show up even when turned on in the player.",
      "Subtitles disappeared from all shows on the %s, captions off for everyone."}},
};
#define NFAULTS (sizeof faults / sizeof faults[0])

static const char *const fillers[] = {
    "",
    " I already restarted the app and the device.",
    " Please help, this is really frustrating.",
    " This is the third time this week.",
    " My kids are waiting to watch their show.",
    " I pay for this every month.",
    " Reinstalling did not change anything.",
};

static const char *const noise_subjects[] = {
    "How do I change my profile picture",
    "Feature request: dark mode",
    "Cancel my account please",
    "Question about parental controls",
    "Add more documentaries",
    "How many screens can I use",
    "Update my email address",
    "Can I download episodes for my flight",
    "Suggestion for the kids section",
    "Where is the new season",
    "Gift card question",
    "Change the language of the menus",
};
static const char *const noise_words[] = {
    "garden",  "weekend", "holiday", "neighbour", "recipe",  "orchestra", "bicycle", "museum",
    "thunder", "puzzle",  "castle",  "harbour",   "lantern", "meadow",    "violin",  "glacier",
};

static const char *const tiers[] = {"premium", "standard", "free", "Premium VIP"};

static const struct tickets_service services[] = {
    {"playback-api", "player|video player|playback"},
    {"auth", "login page|account|sign in"},
    {"payments", "billing page|checkout"},
    {"resume", "continue watching"},
    {"search-api", "search bar|search page"},
};

const struct tickets_service *tickets_storm_services(int *ns)
{
    *ns = (int)(sizeof services / sizeof services[0]);
    return services;
}

static uint64_t next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Copies text into out (n bytes) with typos: in about one word of ten longer than three
 * letters, two letters swapped or one dropped. */
static void typo(const char *text, char *out, size_t n, uint64_t *s)
{
    size_t at = 0;
    for (const char *p = text; *p && at < n - 1;) {
        size_t len = strcspn(p, " ");
        int hit = len > 3 && next(s) % 10 == 0;
        size_t k = 1 + next(s) % (len > 2 ? len - 2 : 1);
        for (size_t i = 0; i < len && at < n - 1; i++) {
            if (hit && i == k && next(s) % 2) /* drop */
                continue;
            if (hit && i + 1 == k && i + 1 < len) { /* swap with the next */
                out[at++] = p[i + 1];
                if (at < n - 1)
                    out[at++] = p[i];
                i++;
                continue;
            }
            out[at++] = p[i];
        }
        p += len;
        if (*p == ' ' && at < n - 1)
            out[at++] = *p++;
    }
    out[at] = '\0';
}

/* Copies tmpl into out (n bytes) with each "%s" replaced by dev. */
static size_t fill_dev(const char *tmpl, const char *dev, char *out, size_t n)
{
    size_t at = 0, dl = strlen(dev);
    for (const char *p = tmpl; *p && at < n - 1; p++) {
        if (p[0] == '%' && p[1] == 's') {
            size_t k = dl < n - 1 - at ? dl : n - 1 - at;
            memcpy(out + at, dev, k);
            at += k;
            p++;
        } else {
            out[at++] = *p;
        }
    }
    out[at] = '\0';
    return at;
}

/* One ticket of fault f into t. */
static void fault_ticket(const struct fault *f, uint64_t *s, struct tickets_ticket *t)
{
    char raw[TICKETS_TEXT_MAX];
    fill_dev(f->subject[next(s) % 5], f->device, raw, sizeof raw);
    typo(raw, t->subject, sizeof t->subject, s);
    size_t w = fill_dev(f->body[next(s) % 5], f->device, raw, sizeof raw);
    snprintf(raw + w, sizeof raw - w, "%s", fillers[next(s) % 7]);
    typo(raw, t->body, sizeof t->body, s);
    if (next(s) % 100 < 80)
        snprintf(t->f_region, sizeof t->f_region, "%s", f->region);
    if (next(s) % 100 < 60)
        snprintf(t->f_device, sizeof t->f_device, "%s", f->device);
    if (next(s) % 100 < 30)
        snprintf(t->f_service, sizeof t->f_service, "%s", f->service);
}

/* One noise ticket into t: an unrelated matter with words of its own. */
static void noise_ticket(uint64_t *s, struct tickets_ticket *t)
{
    snprintf(t->subject, sizeof t->subject, "%s", noise_subjects[next(s) % 12]);
    snprintf(t->body, sizeof t->body, "Hello, %s %s %s. Thanks, customer %llu.",
             noise_words[next(s) % 16], noise_words[next(s) % 16], noise_words[next(s) % 16],
             (unsigned long long)(next(s) % 100000));
    static const char *const regions[] = {"EU", "US", "APAC"};
    if (next(s) % 2)
        snprintf(t->f_region, sizeof t->f_region, "%s", regions[next(s) % 3]);
}

void tickets_storm_make(size_t n, int noise_pct, uint64_t seed, struct tickets_storm *out)
{
    struct tickets_keywords kw;
    uint64_t s = seed ? seed : 1;
    int ns = 0;
    const struct tickets_service *svcs = tickets_storm_services(&ns);
    tickets_keywords_builtin(&kw);
    out->n = n;
    out->t = oc_calloc(n ? n : 1, sizeof *out->t);
    out->label = oc_calloc(n ? n : 1, sizeof *out->label);
    for (size_t i = 0; i < n; i++) {
        struct tickets_ticket *t = &out->t[i];
        t->format = TICKETS_GENERIC;
        snprintf(t->ext_id, sizeof t->ext_id, "S%06zu", i);
        t->updated_ms = t->created_ms = 1700000000000 + (int64_t)i * 6;
        snprintf(t->f_tier, sizeof t->f_tier, "%s", tiers[next(&s) % 4]);
        if ((int)(next(&s) % 100) < noise_pct) {
            out->label[i] = -1;
            noise_ticket(&s, t);
        } else {
            out->label[i] = (int)(next(&s) % NFAULTS);
            fault_ticket(&faults[out->label[i]], &s, t);
        }
        tickets_tag(t, &kw, svcs, ns);
    }
}

void tickets_storm_fault(size_t n, int noise_pct, uint64_t seed, const char *region,
                         const char *symptom, struct tickets_storm *out)
{
    uint64_t s = seed ? seed : 1;
    struct fault f = faults[symptom && strcmp(symptom, "cannot_start") == 0 ? 0 : 1];
    f.region = region ? region : "";
    out->n = n;
    out->t = oc_calloc(n ? n : 1, sizeof *out->t);
    out->label = oc_calloc(n ? n : 1, sizeof *out->label);
    for (size_t i = 0; i < n; i++) {
        struct tickets_ticket *t = &out->t[i];
        t->format = TICKETS_GENERIC;
        snprintf(t->ext_id, sizeof t->ext_id, "D%06zu", i);
        snprintf(t->account, sizeof t->account, "A%05zu", i / 2); /* two tickets an account */
        snprintf(t->f_tier, sizeof t->f_tier, "%s", tiers[next(&s) % 4]);
        if ((int)(next(&s) % 100) < noise_pct) {
            out->label[i] = -1;
            noise_ticket(&s, t);
        } else {
            fault_ticket(&f, &s, t);
        }
    }
}

void tickets_storm_free(struct tickets_storm *s)
{
    free(s->t);
    free(s->label);
    memset(s, 0, sizeof *s);
}
