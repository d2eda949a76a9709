/*
 * token.c - `oncue token create|list|revoke` (API tokens) and `oncue key create|list|revoke`
 * (public ingest keys) in a data directory, without a server.
 *
 * Works on the store directly (the server may be running: SQLite in WAL mode lets both
 * write). Each change also writes an audit row with actor "cli". Exit status: 0 ok, 1 failure,
 * 2 usage error.
 */
#include "auth/auth.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/timefmt.h"
#include "core/opt.h"
#include "core/suggest.h"
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

/* What the command line of one `oncue token X` or `oncue key X` said. */
struct args {
    const char *prog;                        /* "oncue token" or "oncue key" */
    const char *data;                        /* --data DIR */
    const char *postgres;                    /* --postgres CONNINFO: the store on PostgreSQL */
    const char *role;                        /* --role ROLE */
    const char *name;                        /* --name NAME */
    const char *id;                          /* the positional argument */
    int json;                                /* --json */
    const char *origins[AUTH_KEY_ORIGINS_N]; /* --origin, repeated */
    int norigins;
    long rate;        /* --rate N */
    long client_rate; /* --client-rate N */
};

/* --origin ORIGIN: one more origin of the key. */
static int add_origin(void *opts, const char *value, char *why, size_t whylen)
{
    struct args *a = opts;
    if (a->norigins >= AUTH_KEY_ORIGINS_N) {
        snprintf(why, whylen, "at most %d origins", AUTH_KEY_ORIGINS_N);
        return -1;
    }
    if (!auth_origin_valid(value)) {
        snprintf(why, whylen,
                 "'%s' is not an origin (scheme://host[:port] with no path, or '*' for any page)",
                 value);
        return -1;
    }
    a->origins[a->norigins++] = value;
    return 0;
}

#define F(field)      offsetof(struct args, field)
#define STRINGIFY_(x) #x
#define STRINGIFY(x)  STRINGIFY_(x)
#define DATA_OPT                                                                                   \
    {"--data", OC_OPT_STR, F(data), "DIR", "the data directory (default " DEFAULT_DATA ")",        \
     0,        0,          NULL},                                                                  \
    {                                                                                              \
        "--postgres", OC_OPT_STR, F(postgres), "CONNINFO",                                         \
            "the store is on PostgreSQL (store.backend postgres; the server's store.postgres)", 0, \
            0, NULL                                                                                \
    }

static const struct oc_opt create_opts[] = {
    DATA_OPT,
    {"--role", OC_OPT_STR, F(role), "ROLE", "viewer, responder, admin or ingest", 0, 0, NULL},
    {"--name", OC_OPT_STR, F(name), "NAME",
     "1 to " STRINGIFY(AUTH_NAME_MAX) " characters of A-Z a-z 0-9 . _ -, unique", 0, 0, NULL},
    {0},
};
static const struct oc_opt list_opts[] = {
    DATA_OPT,
    {"--json", OC_OPT_FLAG, F(json), NULL, "print JSON", 0, 0, NULL},
    {0},
};
static const struct oc_opt revoke_opts[] = {DATA_OPT, {0}};
static const struct oc_opt key_create_opts[] = {
    DATA_OPT,
    {"--name", OC_OPT_STR, F(name), "NAME",
     "1 to " STRINGIFY(AUTH_NAME_MAX) " characters of A-Z a-z 0-9 . _ -, unique", 0, 0, NULL},
    {"--origin", OC_OPT_FN, 0, "ORIGIN",
     "a page origin allowed to send with the key (https://www.example.com; repeat for more, up "
     "to " STRINGIFY(AUTH_KEY_ORIGINS_N) "; '*' for any)",
     0, 0, add_origin},
    {"--rate", OC_OPT_LONG, F(rate), "N",
     "requests a second the key may make in all (default " STRINGIFY(AUTH_KEY_RATE_DEFAULT) ")", 1,
     AUTH_KEY_RATE_MAX, NULL},
    {"--client-rate", OC_OPT_LONG, F(client_rate), "N",
     "requests a minute the key may make from one client address (default " STRINGIFY(
         AUTH_KEY_CLIENT_RATE_DEFAULT) ")",
     1, AUTH_KEY_RATE_MAX, NULL},
    {0},
};

#undef DATA_OPT
#undef F

const struct oc_cli oc_token_cli[] = {
    {"token create", "[--data DIR] --role viewer|responder|admin|ingest --name NAME",
     "Creates a token and prints it (shown once; only its hash is stored).\n", create_opts, 0},
    {"token list", "[--data DIR] [--json]", "Lists tokens (never their secrets).\n", list_opts, 0},
    {"token revoke", "[--data DIR] ID", "Revokes the token with this id.\n", revoke_opts, 1},
    {0},
};

const struct oc_cli oc_key_cli[] = {
    {"key create",
     "[--data DIR] --name NAME --origin ORIGIN [--origin ORIGIN...] [--rate N] [--client-rate N]",
     "Creates a public ingest key and prints it. Web pages put it in the query string of POST\n"
     "/v1/events (?key=...), since navigator.sendBeacon cannot send a token. It is not a\n"
     "secret: it can only post telemetry, from the listed origins, within its rates.\n",
     key_create_opts, 0},
    {"key list", "[--data DIR] [--json]",
     "Lists public ingest keys with their origins and rates.\n", list_opts, 0},
    {"key revoke", "[--data DIR] ID",
     "Revokes the key with this id (a running server refuses it within 5 s).\n", revoke_opts, 1},
    {0},
};

struct sub {
    const char *name;                /* `oncue token NAME` */
    int (*fn)(const struct args *a); /* returns the exit status */
    const struct oc_cli *cli;        /* its options */
    const char *summary;             /* one line */
};

static int cmd_create(const struct args *a);
static int cmd_list(const struct args *a);
static int cmd_revoke(const struct args *a);
static int cmd_key_create(const struct args *a);
static int cmd_key_list(const struct args *a);
static int cmd_key_revoke(const struct args *a);

static const struct sub token_subs[] = {
    {"create", cmd_create, &oc_token_cli[0],
     "create a token and print it (shown once; only its hash is stored)"},
    {"list", cmd_list, &oc_token_cli[1], "list tokens (never their secrets)"},
    {"revoke", cmd_revoke, &oc_token_cli[2], "revoke the token with this id"},
    {0},
};

static const struct sub key_subs[] = {
    {"create", cmd_key_create, &oc_key_cli[0], "create a public ingest key and print it"},
    {"list", cmd_key_list, &oc_key_cli[1], "list public ingest keys"},
    {"revoke", cmd_key_revoke, &oc_key_cli[2], "revoke the key with this id"},
    {0},
};

/* Prints the help of `prog` (its subcommands subs). */
static void usage(FILE *f, const char *prog, const struct sub *subs)
{
    fprintf(f, "usage: %s COMMAND [OPTIONS]\n\ncommands:\n", prog);
    for (const struct sub *c = subs; c->name; c++)
        fprintf(f, "  %-8s %s\n", c->name, c->summary);
    fprintf(f, "\nRun `%s COMMAND --help` for its options.\n", prog);
}

/* Parses argv (after the subcommand name) into a; 0, 1 (help shown) or -1 after printing
 * why. */
static int parse_args(const char *prog, const struct sub *s, int argc, char **argv, struct args *a)
{
    int nargs = 0;
    memset(a, 0, sizeof *a);
    a->prog = prog;
    a->data = DEFAULT_DATA;
    a->rate = AUTH_KEY_RATE_DEFAULT;
    a->client_rate = AUTH_KEY_CLIENT_RATE_DEFAULT;
    int rc = oc_cli_parse(s->cli, argc, argv, a, &a->id, &nargs);
    if (rc != 0)
        return rc;
    int create = s->fn == cmd_create || s->fn == cmd_key_create;
    const char *missing = s->fn == cmd_create && !a->role                              ? "--role"
                          : create && !a->name                                         ? "--name"
                          : s->fn == cmd_key_create && a->norigins == 0                ? "--origin"
                          : (s->fn == cmd_revoke || s->fn == cmd_key_revoke) && !a->id ? "ID"
                                                                                       : NULL;
    if (missing) {
        fprintf(stderr, "%s %s: missing %s\n", prog, s->name, missing);
        return -1;
    }
    return 0;
}

/* Opens the store in dir (on PostgreSQL with pg); when must_exist, refuses to create a new
 * SQLite one. NULL after printing. */
static struct store *open_store(const char *prog, const char *dir, const char *pg, int must_exist)
{
    char path[4096], err[512];
    struct store *s = NULL;
    struct store_opts o = {
        .dir = dir, .sync = STORE_SYNC_FULL, .backend = "postgres", .postgres = pg};
    if (pg) {
        if (store_open_opts(&o, &s, err, sizeof err) != 0) {
            fprintf(stderr, "%s: %s\n", prog, err);
            return NULL;
        }
        return s;
    }
    snprintf(path, sizeof path, "%s/oncue.db", dir);
    if (must_exist && access(path, F_OK) != 0) {
        fprintf(stderr, "%s: no store in %s (%s); check --data\n", prog, dir, strerror(errno));
        return NULL;
    }
    if (store_open(dir, STORE_SYNC_FULL, &s, err, sizeof err) != 0) {
        fprintf(stderr, "%s: %s\n", prog, err);
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
    if (!(s = open_store(a->prog, a->data, a->postgres, 0)))
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
    struct store *s = open_store(a->prog, a->data, a->postgres, 1);
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

/* `oncue token revoke ID` and `oncue key revoke ID`: what is "token" or "key", fn revokes. */
static int revoke_id(const struct args *a, const char *what,
                     int (*fn)(struct store *s, int64_t id, int64_t now_ms))
{
    char *end, action[32];
    struct store *s = NULL;
    int64_t t = now_ms();
    int rc = EXIT_USAGE;
    errno = 0;
    long long id = strtoll(a->id, &end, 10);
    if (errno || *end || end == a->id || id <= 0) {
        fprintf(stderr, "%s revoke: ID must be a positive integer (see %s list)\n", a->prog,
                a->prog);
        goto out;
    }
    rc = EXIT_FAILURE;
    if (!(s = open_store(a->prog, a->data, a->postgres, 1)))
        goto out;
    if (store_begin(s) != 0) {
        fprintf(stderr, "%s revoke: %s\n", a->prog, store_errmsg(s));
        goto out;
    }
    int err = fn(s, id, t);
    snprintf(action, sizeof action, "%s revoke", what);
    if (err == 0 || err == OC_ENOTFOUND)
        auth_audit_append(s, t, "cli", action, a->id, err ? 404 : 204, NULL);
    if (store_commit(s) != 0 && err == 0)
        err = OC_EDB;
    if (err) {
        fprintf(stderr, "%s revoke: %s\n", a->prog,
                err == OC_ENOTFOUND ? "no such id" : store_errmsg(s));
        goto out;
    }
    fprintf(stderr, "revoked %s %lld\n", what, id);
    rc = 0;
out:
    store_close(s);
    return rc;
}

static int cmd_revoke(const struct args *a)
{
    return revoke_id(a, "token", auth_token_revoke);
}

static int cmd_key_revoke(const struct args *a)
{
    return revoke_id(a, "key", auth_key_revoke);
}

static int cmd_key_create(const struct args *a)
{
    char key[AUTH_KEY_LEN + 1], origins[AUTH_KEY_ORIGINS_MAX], detail[64];
    int64_t id = 0, t = now_ms();
    struct store *s = NULL;
    int rc = EXIT_USAGE;
    if (!auth_name_valid(a->name)) {
        fprintf(stderr,
                "oncue key create: --name must be 1 to %d characters of A-Z a-z 0-9 . _ -\n",
                AUTH_NAME_MAX);
        goto out;
    }
    if (auth_key_origins_join(a->origins, a->norigins, origins, sizeof origins) != 0) {
        fprintf(stderr, "oncue key create: the origins are longer than %d bytes in all\n",
                AUTH_KEY_ORIGINS_MAX - 1);
        goto out;
    }
    rc = EXIT_FAILURE;
    if (!(s = open_store(a->prog, a->data, a->postgres, 0)))
        goto out;
    if (store_begin(s) != 0) {
        fprintf(stderr, "oncue key create: %s\n", store_errmsg(s));
        goto out;
    }
    int err = auth_key_create(s, a->name, origins, a->rate, a->client_rate, t, key, &id);
    snprintf(detail, sizeof detail, "origins=%d", a->norigins);
    if (err == 0)
        err = auth_audit_append(s, t, "cli", "key create", a->name, 201, detail);
    if (err == 0)
        err = store_commit(s);
    else
        store_rollback(s);
    if (err) {
        fprintf(stderr, "oncue key create: %s\n",
                err == OC_ECONFLICT ? "a key with this name exists already" : store_errmsg(s));
        goto out;
    }
    printf("%s\n", key);
    fprintf(stderr,
            "created public ingest key %" PRId64 " '%s' for %s (%ld requests/s in all, %ld a "
            "minute per client).\nuse it as: POST /v1/events?key=<key> from those pages (it is "
            "not a secret; it can only post telemetry)\n",
            id, a->name, origins, a->rate, a->client_rate);
    rc = 0;
out:
    store_close(s);
    return rc;
}

static int cmd_key_list(const struct args *a)
{
    struct store *s = open_store(a->prog, a->data, a->postgres, 1);
    json_t *arr = NULL, *k;
    size_t i;
    int rc = EXIT_FAILURE;
    if (!s)
        goto out;
    if (auth_key_list(s, &arr) != 0) {
        fprintf(stderr, "oncue key list: %s\n", store_errmsg(s));
        goto out;
    }
    if (a->json) {
        json_t *o = json_pack("{s:O}", "keys", arr);
        json_dumpf(o, stdout, JSON_COMPACT);
        putchar('\n');
        json_decref(o);
        rc = 0;
        goto out;
    }
    printf("%-6s %-20s %-28s %-8s %-8s %-10s %s\n", "ID", "NAME", "KEY", "RATE/S", "CLIENT/M",
           "REVOKED", "ORIGINS");
    json_array_foreach(arr, i, k)
    {
        char revoked[32] = "-";
        json_t *r = json_object_get(k, "revoked_ms"), *o;
        size_t j;
        if (json_is_integer(r))
            oc_time_format(json_integer_value(r), revoked, sizeof revoked);
        printf("%-6" PRId64 " %-20s %-28s %-8" PRId64 " %-8" PRId64 " %-10s",
               (int64_t)json_integer_value(json_object_get(k, "id")),
               json_string_value(json_object_get(k, "name")),
               json_string_value(json_object_get(k, "key")),
               (int64_t)json_integer_value(json_object_get(k, "rate_per_s")),
               (int64_t)json_integer_value(json_object_get(k, "client_per_min")), revoked);
        json_array_foreach(json_object_get(k, "origins"), j, o)
            printf("%s%s", j ? " " : " ", json_string_value(o));
        putchar('\n');
    }
    rc = 0;
out:
    json_decref(arr);
    store_close(s);
    return rc;
}

/* `prog COMMAND [OPTIONS]` over the subcommands subs. */
static int sub_main(const char *prog, const struct sub *subs, int argc, char **argv)
{
    struct args a;
    const struct sub *s;
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        if (argc < 2)
            fprintf(stderr, "%s: name a command\n\n", prog);
        usage(argc < 2 ? stderr : stdout, prog, subs);
        return argc < 2 ? EXIT_USAGE : 0;
    }
    for (s = subs; s->name; s++)
        if (strcmp(argv[1], s->name) == 0)
            break;
    if (!s->name) {
        char hint[160];
        if (argv[1][0] == '-')
            fprintf(stderr, "%s: name a command before the options ('%s' came first)\n\n", prog,
                    argv[1]);
        else
            fprintf(stderr, "%s: unknown command '%s'%s\n\n", prog, argv[1],
                    OC_SUGGEST_TABLE(argv[1], subs, hint));
        usage(stderr, prog, subs);
        return EXIT_USAGE;
    }
    int rc = parse_args(prog, s, argc - 2, argv + 2, &a);
    if (rc != 0) {
        if (rc < 0)
            fprintf(stderr, "usage: oncue %s %s\n", s->cli->name, s->cli->usage);
        return rc < 0 ? EXIT_USAGE : 0;
    }
    return s->fn(&a);
}

int oc_token_main(int argc, char **argv)
{
    return sub_main("oncue token", token_subs, argc, argv);
}

int oc_key_main(int argc, char **argv)
{
    return sub_main("oncue key", key_subs, argc, argv);
}
