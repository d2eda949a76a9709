/*
 * token.c - `oncue token create|list|revoke`: API tokens in a data directory, without a server.
 *
 * Works on the store directly (the server may be running: SQLite in WAL mode lets both
 * write). Each change also writes an audit row with actor "cli". Exit status: 0 ok, 1 failure,
 * 2 usage error.
 */
#include "auth/auth.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/timefmt.h"
#include "oncue/commands.h"
#include "store/store.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DEFAULT_DATA "./oncue-data"
#define EXIT_USAGE   2

/* What the command line of one `oncue token X` said. */
struct args {
    const char *data; /* --data DIR */
    const char *role; /* --role ROLE */
    const char *name; /* --name NAME */
    const char *id;   /* the positional argument */
    int json;         /* --json */
    int help;         /* --help */
};

enum { OPT_DATA = 1, OPT_ROLE = 2, OPT_NAME = 4, OPT_JSON = 8, OPT_ID = 16 };

/* The options, as a table: flag, bit, whether it takes a value, where the value goes. */
static const struct opt_def {
    const char *flag;
    int bit;
    size_t off; /* offsetof(struct args, field) for flags with a value; SIZE_MAX for none */
} opt_defs[] = {
    {"--data", OPT_DATA, offsetof(struct args, data)},
    {"--role", OPT_ROLE, offsetof(struct args, role)},
    {"--name", OPT_NAME, offsetof(struct args, name)},
    {"--json", OPT_JSON, SIZE_MAX},
    {0},
};

struct sub {
    const char *name;                /* `oncue token NAME` */
    int (*fn)(const struct args *a); /* returns the exit status */
    int accepts;                     /* OPT_* bits */
    const char *usage;               /* synopsis */
    const char *summary;             /* one line */
};

static int cmd_create(const struct args *a);
static int cmd_list(const struct args *a);
static int cmd_revoke(const struct args *a);

static const struct sub subs[] = {
    {"create", cmd_create, OPT_DATA | OPT_ROLE | OPT_NAME,
     "oncue token create [--data DIR] --role viewer|responder|admin|ingest --name NAME",
     "create a token and print it (shown once; only its hash is stored)"},
    {"list", cmd_list, OPT_DATA | OPT_JSON, "oncue token list [--data DIR] [--json]",
     "list tokens (never their secrets)"},
    {"revoke", cmd_revoke, OPT_DATA | OPT_ID, "oncue token revoke [--data DIR] ID",
     "revoke the token with this id"},
    {0},
};

/* Prints the help of one subcommand, or of `oncue token` when s is NULL. */
static void usage(FILE *f, const struct sub *s)
{
    if (s) {
        fprintf(f, "usage: %s\n\n%s.\n\n", s->usage, s->summary);
        fprintf(f, "  --data DIR   the data directory (default %s)\n", DEFAULT_DATA);
        if (s->accepts & OPT_ROLE)
            fprintf(f, "  --role ROLE  viewer, responder, admin or ingest\n");
        if (s->accepts & OPT_NAME)
            fprintf(f, "  --name NAME  1 to %d characters of A-Z a-z 0-9 . _ -, unique\n",
                    AUTH_NAME_MAX);
        if (s->accepts & OPT_JSON)
            fprintf(f, "  --json       print JSON\n");
        return;
    }
    fprintf(f, "usage: oncue token COMMAND [OPTIONS]\n\ncommands:\n");
    for (const struct sub *c = subs; c->name; c++)
        fprintf(f, "  %-8s %s\n", c->name, c->summary);
    fprintf(f, "\nRun `oncue token COMMAND --help` for its options.\n");
}

/* Applies one flag (argv[*i], maybe "--flag=value"); 0, or -1 after printing why. */
static int parse_flag(const struct sub *s, int argc, char **argv, int *i, struct args *a, int *seen)
{
    const char *arg = argv[*i], *eq = strchr(arg, '=');
    size_t flen = eq ? (size_t)(eq - arg) : strlen(arg);
    for (const struct opt_def *d = opt_defs; d->flag; d++) {
        if (strlen(d->flag) != flen || strncmp(arg, d->flag, flen) != 0)
            continue;
        if (!(s->accepts & d->bit))
            break;
        *seen |= d->bit;
        if (d->off == SIZE_MAX) {
            a->json = 1;
            if (eq)
                fprintf(stderr, "oncue token %s: %s takes no value\n", s->name, d->flag);
            return eq ? -1 : 0;
        }
        const char *v = eq ? eq + 1 : (*i + 1 < argc ? argv[++*i] : NULL);
        if (!v) {
            fprintf(stderr, "oncue token %s: %s needs a value\n", s->name, d->flag);
            return -1;
        }
        *(const char **)((char *)a + d->off) = v;
        return 0;
    }
    fprintf(stderr, "oncue token %s: unknown option '%s'\n", s->name, arg);
    return -1;
}

/* Parses argv (after the subcommand name) into a; 0, or -1 after printing why. */
static int parse_args(const struct sub *s, int argc, char **argv, struct args *a)
{
    int seen = 0;
    memset(a, 0, sizeof *a);
    a->data = DEFAULT_DATA;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            a->help = 1;
            return 0;
        }
        if (argv[i][0] == '-' && argv[i][1]) {
            if (parse_flag(s, argc, argv, &i, a, &seen) != 0)
                return -1;
        } else if ((s->accepts & OPT_ID) && !a->id) {
            a->id = argv[i];
        } else {
            fprintf(stderr, "oncue token %s: unexpected argument '%s'\n", s->name, argv[i]);
            return -1;
        }
    }
    int need = s->accepts & (OPT_ROLE | OPT_NAME | OPT_ID);
    if ((need & OPT_ROLE && !a->role) || (need & OPT_NAME && !a->name) ||
        (need & OPT_ID && !a->id)) {
        fprintf(stderr, "oncue token %s: missing %s\n", s->name,
                need & OPT_ROLE && !a->role   ? "--role"
                : need & OPT_NAME && !a->name ? "--name"
                                              : "ID");
        return -1;
    }
    return 0;
}

/* Opens the store in dir; when must_exist, refuses to create a new one. NULL after printing. */
static struct store *open_store(const char *dir, int must_exist)
{
    char path[4096], err[512];
    struct store *s = NULL;
    snprintf(path, sizeof path, "%s/oncue.db", dir);
    if (must_exist && access(path, F_OK) != 0) {
        fprintf(stderr, "oncue token: no store in %s (%s); check --data\n", dir, strerror(errno));
        return NULL;
    }
    if (store_open(dir, STORE_SYNC_FULL, &s, err, sizeof err) != 0) {
        fprintf(stderr, "oncue token: %s\n", err);
        return NULL;
    }
    return s;
}

/* The wall clock as the CLI's injected clock. */
static int64_t now_ms(void)
{
    struct oc_clock c;
    oc_clock_init(&c, OC_CLOCK_REAL, 0);
    return oc_clock_now_ms(&c);
}

static int cmd_create(const struct args *a)
{
    char token[AUTH_TOKEN_LEN + 1], detail[64];
    enum http_role role;
    int64_t id = 0, t = now_ms();
    struct store *s = NULL;
    int rc = EXIT_USAGE;
    if (http_role_parse(a->role, &role) != 0) {
        fprintf(stderr, "oncue token create: --role must be viewer, responder, admin or ingest\n");
        goto out;
    }
    if (!auth_name_valid(a->name)) {
        fprintf(stderr,
                "oncue token create: --name must be 1 to %d characters of A-Z a-z 0-9 . _ -\n",
                AUTH_NAME_MAX);
        goto out;
    }
    rc = EXIT_FAILURE;
    if (!(s = open_store(a->data, 0)))
        goto out;
    if (store_begin(s) != 0) {
        fprintf(stderr, "oncue token create: %s\n", store_errmsg(s));
        goto out;
    }
    int err = auth_token_create(s, a->name, role, t, token, &id);
    snprintf(detail, sizeof detail, "role=%s", http_role_name(role));
    if (err == 0)
        err = auth_audit_append(s, t, "cli", "token create", a->name, 201, detail);
    if (err == 0)
        err = store_commit(s);
    else
        store_rollback(s);
    if (err) {
        fprintf(stderr, "oncue token create: %s\n",
                err == OC_ECONFLICT ? "a token with this name exists already" : store_errmsg(s));
        goto out;
    }
    printf("%s\n", token);
    fprintf(stderr,
            "created token %" PRId64 " '%s' (role %s); it is shown only once, store it now.\n"
            "use it as: Authorization: Bearer <token>  (or ONCUE_TOKEN=<token>)\n",
            id, a->name, http_role_name(role));
    rc = 0;
out:
    store_close(s);
    return rc;
}

/* Prints the token list as a table. */
static void print_tokens(const json_t *arr)
{
    size_t i;
    json_t *t;
    printf("%-6s %-24s %-10s %-21s %s\n", "ID", "NAME", "ROLE", "CREATED", "REVOKED");
    json_array_foreach(arr, i, t)
    {
        char created[32], revoked[32] = "-";
        json_t *r = json_object_get(t, "revoked_ms");
        oc_time_format(json_integer_value(json_object_get(t, "created_ms")), created,
                       sizeof created);
        if (json_is_integer(r))
            oc_time_format(json_integer_value(r), revoked, sizeof revoked);
        printf("%-6" PRId64 " %-24s %-10s %-21s %s\n",
               (int64_t)json_integer_value(json_object_get(t, "id")),
               json_string_value(json_object_get(t, "name")),
               json_string_value(json_object_get(t, "role")), created, revoked);
    }
}

static int cmd_list(const struct args *a)
{
    struct store *s = open_store(a->data, 1);
    json_t *arr = NULL;
    int rc = EXIT_FAILURE;
    if (!s)
        goto out;
    if (auth_token_list(s, &arr) != 0) {
        fprintf(stderr, "oncue token list: %s\n", store_errmsg(s));
        goto out;
    }
    if (a->json) {
        json_t *o = json_pack("{s:O}", "tokens", arr);
        json_dumpf(o, stdout, JSON_COMPACT);
        putchar('\n');
        json_decref(o);
    } else {
        print_tokens(arr);
    }
    rc = 0;
out:
    json_decref(arr);
    store_close(s);
    return rc;
}

static int cmd_revoke(const struct args *a)
{
    char *end;
    struct store *s = NULL;
    int64_t t = now_ms();
    int rc = EXIT_USAGE;
    errno = 0;
    long long id = strtoll(a->id, &end, 10);
    if (errno || *end || end == a->id || id <= 0) {
        fprintf(stderr, "oncue token revoke: ID must be a positive integer (see token list)\n");
        goto out;
    }
    rc = EXIT_FAILURE;
    if (!(s = open_store(a->data, 1)))
        goto out;
    if (store_begin(s) != 0) {
        fprintf(stderr, "oncue token revoke: %s\n", store_errmsg(s));
        goto out;
    }
    int err = auth_token_revoke(s, id, t);
    if (err == 0 || err == OC_ENOTFOUND)
        auth_audit_append(s, t, "cli", "token revoke", a->id, err ? 404 : 204, NULL);
    if (store_commit(s) != 0 && err == 0)
        err = OC_EDB;
    if (err) {
        fprintf(stderr, "oncue token revoke: %s\n",
                err == OC_ENOTFOUND ? "no token with this id" : store_errmsg(s));
        goto out;
    }
    fprintf(stderr, "revoked token %lld\n", id);
    rc = 0;
out:
    store_close(s);
    return rc;
}

int oc_token_main(int argc, char **argv)
{
    struct args a;
    const struct sub *s;
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(argc < 2 ? stderr : stdout, NULL);
        return argc < 2 ? EXIT_USAGE : 0;
    }
    for (s = subs; s->name; s++)
        if (strcmp(argv[1], s->name) == 0)
            break;
    if (!s->name) {
        fprintf(stderr, "oncue token: unknown command '%s'\n\n", argv[1]);
        usage(stderr, NULL);
        return EXIT_USAGE;
    }
    if (parse_args(s, argc - 2, argv + 2, &a) != 0) {
        fprintf(stderr, "usage: %s\n", s->usage);
        return EXIT_USAGE;
    }
    if (a.help) {
        usage(stdout, s);
        return 0;
    }
    return s->fn(&a);
}
