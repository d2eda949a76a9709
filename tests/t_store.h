/*
 * t_store.h - opening a test's store on the backend the test run names.
 *
 * Unit tests open their store with t_store_open instead of store_open. Without ONCUE_TEST_PG it
 * is store_open (SQLite under the directory). With ONCUE_TEST_PG set to a libpq conninfo
 * (tests/integration/pg_run.sh starts a throwaway PostgreSQL and sets it) the store is on
 * PostgreSQL, in a schema of its own per data directory: a new directory starts empty, as
 * on SQLite, and reopening the same directory in the same test program finds its data.
 */
#ifndef OC_TESTS_T_STORE_H
#define OC_TESTS_T_STORE_H

#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define T_STORE_DIRS 256 /* data directories one test program maps to schemas */

/* The conninfo of the PostgreSQL the tests run on, or NULL for SQLite. */
static inline const char *t_pg(void)
{
    const char *c = getenv("ONCUE_TEST_PG");
    return c && *c ? c : NULL;
}

/* The schema of dir in this program (a new one for a directory not seen before). */
static inline const char *t_pg_schema(const char *dir)
{
    static char dirs[T_STORE_DIRS][256], names[T_STORE_DIRS][32];
    static int n;
    for (int i = 0; i < n; i++)
        if (strcmp(dirs[i], dir) == 0)
            return names[i];
    int i = n < T_STORE_DIRS ? n++ : T_STORE_DIRS - 1;
    snprintf(dirs[i], sizeof dirs[i], "%s", dir);
    snprintf(names[i], sizeof names[i], "t%ld_%d_%ld", (long)getpid(), i, (long)time(NULL));
    return names[i];
}

/* store_open on the test run's backend (see above). */
static inline int t_store_open(const char *dir, enum store_sync sync, struct store **out, char *err,
                               size_t errlen)
{
    if (!t_pg())
        return store_open(dir, sync, out, err, errlen);
    struct store_opts o = {.dir = dir,
                           .sync = sync,
                           .backend = "postgres",
                           .postgres = t_pg(),
                           .pg_schema = t_pg_schema(dir)};
    return store_open_opts(&o, out, err, errlen);
}

#endif
