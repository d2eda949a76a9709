/*
 * fuzz_resume_log.c - fuzzes the reader of resume's log and snapshot files (resume/logfmt.c,
 * resume_log_scan) with bytes as a crash, a full disk or a stray write could leave them.
 *
 * Besides not crashing: it stops inside the input; every change it hands back has ids of the
 * API's charset and numbers in the API's bounds (t <= ts, since <= t), encodes again to bytes
 * that read back as the same change, and folds into a table as start-up replay does and into
 * another as a replica folds another's rows (resume.shared: merged twice, the second time
 * changing nothing but perhaps a since, which the first already lowered); a scan
 * of the whole records alone (the prefix it used) reads them all again with nothing left.
 */
#include "resume/resume_int.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct seen {
    struct resume_table t;
    struct resume_table merged; /* as shared.c's rows are folded */
    uint64_t changes;
};

static void same_or_abort(const struct resume_op *a, const struct resume_op *b)
{
    const struct resume_report *x = &a->w.r, *y = &b->w.r;
    if (a->del != b->del || strcmp(a->w.profile, b->w.profile) || strcmp(a->w.title, b->w.title) ||
        strcmp(x->device, y->device))
        abort();
    if (!a->del && (strcmp(x->session, y->session) || x->position_ms != y->position_ms ||
                    x->duration_ms != y->duration_ms || x->seq != y->seq || x->ts != y->ts ||
                    x->t != y->t || x->since != y->since || x->state != y->state))
        abort();
}

static int again(void *arg, int kind, uint64_t a, uint64_t c, const struct resume_op *op)
{
    (void)kind, (void)a, (void)c;
    same_or_abort(arg, op);
    return 0;
}

static int one(void *arg, int kind, uint64_t a, uint64_t c, const struct resume_op *op)
{
    struct seen *s = arg;
    (void)a, (void)c;
    if (kind != RESUME_REC_CHANGES)
        return op ? (abort(), 0) : 0;
    const struct resume_report *r = &op->w.r;
    if (!resume_id_valid(op->w.profile, RESUME_ID_MAX) ||
        !resume_id_valid(op->w.title, RESUME_ID_MAX) ||
        !resume_id_valid(r->device, RESUME_DEVICE_MAX))
        abort();
    if (!op->del &&
        (!resume_id_valid(r->session, RESUME_SESSION_MAX) || r->duration_ms < 1 ||
         r->duration_ms > RESUME_POS_MAX_MS || r->position_ms < 0 ||
         r->position_ms > r->duration_ms || r->seq < 0 || r->seq > RESUME_SEQ_MAX ||
         r->ts < RESUME_TS_MIN_MS || r->ts > RESUME_TS_MAX_MS || r->t > r->ts || r->since > r->t))
        abort();
    struct resume_bytes b = {0};
    struct resume_scan sc;
    resume_rec_open(&b, RESUME_REC_CHANGES);
    resume_rec_change(&b, op->del, &op->w);
    resume_rec_close(&b);
    resume_rec_seal(b.p, b.len);
    if (resume_log_scan(b.p, b.len, again, (void *)op, &sc) != 0 || sc.used != b.len ||
        sc.changes != 1)
        abort();
    resume_bytes_free(&b);
    if (resume_table_apply(&s->t, op) != 0)
        abort();
    int first = resume_table_merge(&s->merged, op, 1u << 20, 1 << 20);
    int second = resume_table_merge(&s->merged, op, 1u << 20, 1 << 20);
    if (first < 0 || (!op->del && second != RESUME_STALE))
        abort();
    s->changes++;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct seen s = {.changes = 0};
    struct resume_scan sc, whole;
    resume_table_init(&s.t);
    resume_table_init(&s.merged);
    if (resume_log_scan(data, size, one, &s, &sc) != 0 || sc.used > size ||
        sc.changes != s.changes || (sc.used < size && !sc.why) || (sc.used == size && sc.torn))
        abort();
    if (resume_log_scan(data, sc.used, NULL, NULL, &whole) != 0 || whole.used != sc.used ||
        whole.changes != sc.changes || whole.records != sc.records)
        abort();
    resume_table_free(&s.t);
    resume_table_free(&s.merged);
    return 0;
}
