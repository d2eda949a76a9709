/*
 * t.h - oncue's tiny test harness.
 *
 * A test file defines static void test_x(void) functions, lists them in a table with
 * T_CASE(test_x), and ends with T_MAIN(table). Asserts print both values on failure and
 * mark the current case failed; the program ends with "N passed, N failed" and exits 1 if any
 * case failed. Run one case with `test_foo CASE_NAME`.
 */
#ifndef OC_TESTS_T_H
#define OC_TESTS_T_H

#include <ftw.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct t_case {
    const char *name;
    void (*fn)(void);
};

static int t_failed_now;

/* nftw callback of t_rmtree: removes one entry. */
static inline int t_rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* Removes the directory tree at dir (a case's temporary data directory) and what is in it. */
static inline void t_rmtree(const char *dir)
{
    nftw(dir, t_rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

#define T_CASE(fn)                                                                                 \
    {                                                                                              \
#fn, fn                                                                                    \
    }

#define T_FAIL_AT(...)                                                                             \
    do {                                                                                           \
        fprintf(stderr, "  %s:%d: ", __FILE__, __LINE__);                                          \
        fprintf(stderr, __VA_ARGS__);                                                              \
        fputc('\n', stderr);                                                                       \
        t_failed_now = 1;                                                                          \
    } while (0)

#define T_TRUE(c)                                                                                  \
    do {                                                                                           \
        if (!(c))                                                                                  \
            T_FAIL_AT("expected true: %s", #c);                                                    \
    } while (0)

#define T_EQ_INT(a, b)                                                                             \
    do {                                                                                           \
        long long t_a = (long long)(a), t_b = (long long)(b);                                      \
        if (t_a != t_b)                                                                            \
            T_FAIL_AT("%s == %s: got %lld, expected %lld", #a, #b, t_a, t_b);                      \
    } while (0)

#define T_EQ_STR(a, b)                                                                             \
    do {                                                                                           \
        const char *t_a = (a), *t_b = (b);                                                         \
        if (!t_a || !t_b || strcmp(t_a, t_b) != 0)                                                 \
            T_FAIL_AT("%s == %s: got \"%s\", expected \"%s\"", #a, #b, t_a ? t_a : "(null)",       \
                      t_b ? t_b : "(null)");                                                       \
    } while (0)

#define T_EQ_DBL(a, b, tol)                                                                        \
    do {                                                                                           \
        double t_a = (a), t_b = (b);                                                               \
        if (!(fabs(t_a - t_b) <= (tol)))                                                           \
            T_FAIL_AT("%s == %s: got %.12g, expected %.12g (tol %g)", #a, #b, t_a, t_b,            \
                      (double)(tol));                                                              \
    } while (0)

#define T_CONTAINS(hay, needle)                                                                    \
    do {                                                                                           \
        const char *t_h = (hay), *t_n = (needle);                                                  \
        if (!t_h || !strstr(t_h, t_n))                                                             \
            T_FAIL_AT("%s contains \"%s\": got \"%s\"", #hay, t_n, t_h ? t_h : "(null)");          \
    } while (0)

static inline int t_run(const struct t_case *cases, int argc, char **argv)
{
    int passed = 0, failed = 0;
    for (const struct t_case *c = cases; c->name; c++) {
        if (argc > 1 && strcmp(argv[1], c->name) != 0)
            continue;
        t_failed_now = 0;
        c->fn();
        if (t_failed_now) {
            fprintf(stderr, "FAIL %s\n", c->name);
            failed++;
        } else {
            fprintf(stderr, "ok   %s\n", c->name);
            passed++;
        }
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}

#define T_MAIN(cases)                                                                              \
    int main(int argc, char **argv)                                                                \
    {                                                                                              \
        return t_run(cases, argc, argv);                                                           \
    }

#endif
