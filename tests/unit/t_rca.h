/*
 * t_rca.h - what the rca unit tests share: one run of the engine with its asserted causes as
 * one line, "e1 | e2 | ...", to compare with the expected set (test_rca.c,
 * test_rca_choose.c, test_rca_ident.c). Header-only, like tests/t.h.
 */
#ifndef OC_TESTS_UNIT_T_RCA_H
#define OC_TESTS_UNIT_T_RCA_H

#include "t.h"
#include "core/buf.h"
#include "rca/rca.h"

#include <stdio.h>

/* Runs the engine on d at `at` with o into r (the run must succeed) and writes its causes
 * into out (n bytes) as "e1 | e2 | ...", "" when none; returns out. */
static inline const char *t_rca_causes(const struct rca_data *d, int64_t at,
                                       const struct rca_opts *o, struct rca_result *r, char *out,
                                       size_t n)
{
    struct oc_buf b;
    T_EQ_INT(rca_run(d, at, o, r), 0);
    oc_buf_init(&b, 256);
    for (int i = 0; i < r->n_causes; i++) {
        if (i)
            oc_buf_puts(&b, " | ");
        rca_elem_format(d, &r->causes[i], &b);
    }
    snprintf(out, n, "%s", b.data ? b.data : "");
    oc_buf_free(&b);
    return out;
}

#endif
