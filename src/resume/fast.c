/*
 * fast.c - the hot path of the resume write parser: the common, plain shape of a report body
 * read straight into struct resume_write, without building a JSON tree.
 *
 * Why: with jansson, parsing and its allocations took about 70% of the server's CPU on
 * batched writes (bench/README.md, "Resume"). This reader accepts only what it is sure about:
 * objects whose members are exactly the report's fields, each once, strings of printable
 * ASCII without escapes, integers of at most 16 digits without fraction or exponent, and
 * values within their bounds. On anything else it declines (-1) and the caller parses with
 * jansson (parse.c), which gives the authoritative answer and the refusal naming the field.
 * When it accepts, the result equals parse.c's (tests/fuzz/fuzz_resume.c checks both).
 */
#include "resume/resume.h"
#include "core/alloc.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* The array of a thread's last batch, kept for its next one up to SPARE_MAX bytes: a new
 * array of 1,000 reports is 0.5 MB of pages the kernel clears and faults in on every POST
 * (glibc gives such blocks back between requests). */
#define SPARE_MAX (8u << 20)

struct spare {
    struct resume_write *w; /* kept; owned */
    size_t cap;
    struct resume_write *lent; /* the array last handed out, and its room */
    size_t lent_cap;
};

static pthread_key_t spare_key;
static pthread_once_t spare_once = PTHREAD_ONCE_INIT;
static int spare_ok;

static void spare_free(void *arg)
{
    struct spare *s = arg;
    free(s->w);
    free(s);
}

static void spare_init(void)
{
    spare_ok = pthread_key_create(&spare_key, spare_free) == 0;
}

/* The calling thread's spare (created), or NULL when there is no key. */
static struct spare *spare_get(void)
{
    pthread_once(&spare_once, spare_init);
    if (!spare_ok)
        return NULL;
    struct spare *s = pthread_getspecific(spare_key);
    if (!s) {
        s = oc_calloc(1, sizeof *s);
        if (pthread_setspecific(spare_key, s) != 0) {
            free(s);
            return NULL;
        }
    }
    return s;
}

/* An array of at least *cap writes: the thread's spare when it is large enough (*cap is set
 * to its room), else a new one. */
static struct resume_write *spare_take(size_t *cap)
{
    struct spare *s = spare_get();
    struct resume_write *w;
    if (s && s->w && s->cap >= *cap) {
        w = s->w;
        *cap = s->cap;
        s->w = NULL;
    } else {
        w = oc_malloc(*cap * sizeof *w);
    }
    if (s) {
        s->lent = w;
        s->lent_cap = *cap;
    }
    return w;
}

void resume_batch_done(struct resume_write *w)
{
    struct spare *s = w ? spare_get() : NULL;
    if (!s || w != s->lent || s->lent_cap * sizeof *w > SPARE_MAX) {
        free(w);
        return;
    }
    free(s->w);
    s->w = w;
    s->cap = s->lent_cap;
    s->lent = NULL;
}

/* The fields, as bits of a seen-mask. */
enum field {
    F_POSITION,
    F_DURATION,
    F_DEVICE,
    F_SESSION,
    F_SEQ,
    F_STATE,
    F_TS,
    F_PROFILE,
    F_TITLE,
    F_COUNT
};

static const char *const names[F_COUNT] = {
    "position_ms", "duration_ms", "device", "session", "seq", "state", "ts", "profile", "title"};
static const unsigned char name_len[F_COUNT] = {11, 11, 6, 7, 3, 5, 2, 7, 5}; /* strlen(names[f]) */

/* A cursor over the body. */
struct cur {
    const char *p, *end;
};

static void skip_ws(struct cur *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\n' || *c->p == '\r' || *c->p == '\t'))
        c->p++;
}

/* Reads a string of printable ASCII without escapes; its start and length, or -1. */
static int read_str(struct cur *c, const char **s, size_t *len)
{
    if (c->p >= c->end || *c->p != '"')
        return -1;
    const char *b = ++c->p;
    while (c->p < c->end && *c->p != '"') {
        unsigned char ch = (unsigned char)*c->p;
        if (ch < 0x20 || ch > 0x7e || ch == '\\')
            return -1;
        c->p++;
    }
    if (c->p >= c->end)
        return -1;
    *s = b;
    *len = (size_t)(c->p - b);
    c->p++;
    return 0;
}

/* Reads an integer: an optional minus, then 1 to 16 digits without a leading zero. */
static int read_int(struct cur *c, int64_t *out)
{
    int neg = 0, nd = 0;
    int64_t v = 0;
    if (c->p < c->end && *c->p == '-')
        neg = 1, c->p++;
    if (c->p < c->end && *c->p == '0' && c->p + 1 < c->end && c->p[1] >= '0' && c->p[1] <= '9')
        return -1;
    while (c->p < c->end && *c->p >= '0' && *c->p <= '9' && nd < 17)
        v = v * 10 + (*c->p++ - '0'), nd++;
    if (nd == 0 || nd > 16 || (c->p < c->end && (*c->p == '.' || *c->p == 'e' || *c->p == 'E')))
        return -1;
    *out = neg ? -v : v;
    return 0;
}

/* Copies an id of at most max bytes in the id charset into dst (max + 1 bytes). */
static int copy_id(char *dst, const char *s, size_t len, size_t max)
{
    if (len == 0 || len > max)
        return -1;
    memcpy(dst, s, len);
    dst[len] = '\0';
    return resume_id_valid(dst, max) ? 0 : -1;
}

static int state_of(const char *s, size_t len, enum resume_state *out)
{
    for (int i = 0; resume_state_names[i]; i++)
        if (strlen(resume_state_names[i]) == len && memcmp(resume_state_names[i], s, len) == 0) {
            *out = (enum resume_state)i;
            return 0;
        }
    return -1;
}

/* Reads one member's value for field f into w. */
static int read_value(struct cur *c, enum field f, struct resume_write *w, int64_t *num)
{
    const char *s;
    size_t len;
    if (f == F_POSITION || f == F_DURATION || f == F_SEQ || f == F_TS)
        return read_int(c, &num[f]);
    if (read_str(c, &s, &len) != 0)
        return -1;
    switch (f) {
    case F_DEVICE:
        return copy_id(w->r.device, s, len, RESUME_DEVICE_MAX);
    case F_SESSION:
        return copy_id(w->r.session, s, len, RESUME_SESSION_MAX);
    case F_PROFILE:
        return copy_id(w->profile, s, len, RESUME_ID_MAX);
    case F_TITLE:
        return copy_id(w->title, s, len, RESUME_ID_MAX);
    default:
        return state_of(s, len, &w->r.state);
    }
}

/* Checks the numbers as parse.c does and sets them in w. */
static int set_numbers(struct resume_write *w, const int64_t *num, int64_t recv_ms)
{
    struct resume_report *r = &w->r;
    r->duration_ms = num[F_DURATION];
    r->position_ms = num[F_POSITION];
    r->seq = num[F_SEQ];
    r->ts = num[F_TS];
    if (r->duration_ms < 1 || r->duration_ms > RESUME_POS_MAX_MS || r->position_ms < 0 ||
        r->position_ms > r->duration_ms || r->seq < 0 || r->seq > RESUME_SEQ_MAX ||
        r->ts < RESUME_TS_MIN_MS || r->ts > RESUME_TS_MAX_MS)
        return -1;
    r->t = r->ts < recv_ms ? r->ts : recv_ms;
    r->since = r->t;
    return 0;
}

/* Reads one object with every field of the report (and profile and title when ids). */
static int read_object(struct cur *c, int ids, int64_t recv_ms, struct resume_write *w)
{
    unsigned seen = 0, want = ids ? (1u << F_COUNT) - 1 : (1u << F_PROFILE) - 1;
    int64_t num[F_COUNT] = {0};
    skip_ws(c);
    if (c->p >= c->end || *c->p++ != '{')
        return -1;
    for (int next = 0;;) {
        const char *k;
        size_t len;
        int f = F_COUNT;
        skip_ws(c);
        if (read_str(c, &k, &len) != 0)
            return -1;
        /* from the field after the last one: a client sends its members in one order */
        for (int i = 0; i < F_COUNT; i++) {
            int g = (next + i) % F_COUNT;
            if (name_len[g] == len && memcmp(names[g], k, len) == 0) {
                f = g;
                break;
            }
        }
        if (f == F_COUNT || !(want & (1u << f)) || (seen & (1u << f)))
            return -1;
        next = f + 1;
        seen |= 1u << f;
        skip_ws(c);
        if (c->p >= c->end || *c->p++ != ':')
            return -1;
        skip_ws(c);
        if (read_value(c, (enum field)f, w, num) != 0)
            return -1;
        skip_ws(c);
        if (c->p < c->end && *c->p == ',') {
            c->p++;
            continue;
        }
        if (c->p >= c->end || *c->p++ != '}')
            return -1;
        break;
    }
    return seen == want ? set_numbers(w, num, recv_ms) : -1;
}

/* One PUT body; 0, or -1: parse it with parse.c. */
int resume_fast_object(const char *p, size_t n, int64_t recv_ms, struct resume_write *w)
{
    struct cur c = {p, p + n};
    if (read_object(&c, 0, recv_ms, w) != 0)
        return -1;
    skip_ws(&c);
    return c.p == c.end ? 0 : -1;
}

/* One POST body of at most max reports; 0 (the caller frees *out), or -1: parse it with
 * parse.c. */
int resume_fast_batch(const char *p, size_t n, size_t max, int64_t recv_ms,
                      struct resume_write **out, size_t *nout)
{
    struct cur c = {p, p + n};
    struct resume_write *w = NULL;
    size_t cap = 0, k = 0;
    skip_ws(&c);
    if (c.p >= c.end || *c.p++ != '[')
        return -1;
    /* every report names its 9 members: over 96 bytes each, so this is room for all of them
     * (no copying as the array grows; pages past the last report are never touched) */
    cap = n / 96 + 1 < max ? n / 96 + 1 : max;
    cap = cap ? cap : 1;
    w = spare_take(&cap);
    skip_ws(&c);
    if (c.p < c.end && *c.p == ']') {
        c.p++;
    } else {
        for (;;) {
            if (k >= max)
                goto decline;
            w = oc_grow(w, &cap, k + 1, sizeof *w);
            if (read_object(&c, 1, recv_ms, &w[k]) != 0)
                goto decline;
            k++;
            skip_ws(&c);
            if (c.p < c.end && *c.p == ',') {
                c.p++;
                continue;
            }
            if (c.p >= c.end || *c.p++ != ']')
                goto decline;
            break;
        }
    }
    skip_ws(&c);
    if (c.p != c.end)
        goto decline;
    *out = w ? w : oc_malloc(sizeof *w);
    *nout = k;
    return 0;
decline:
    resume_batch_done(w);
    return -1;
}
