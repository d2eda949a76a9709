/*
 * test_config.c - the settings table, the YAML loader and its "FILE:LINE: what is wrong"
 * messages, command-line overrides (config_set) and the generated reference docs. The
 * config is made over the real module table, so the modules' rows are walked too.
 */
#include "config/config.h"
#include "core/buf.h"
#include "core/err.h"
#include "incident/incident.h"
#include "oncue/commands.h"
#include "qoe/qoe.h"
#include "t.h"

#include <stddef.h>
#include <unistd.h>

static char err[1024];

/* Loads doc (named x.yaml) over fresh defaults into *cfg; returns config_load_buf's code. */
static int load(struct oc_config *cfg, const char *doc)
{
    err[0] = '\0';
    config_init(cfg, oc_modules);
    return config_load_buf(cfg, "x.yaml", doc, strlen(doc), err, sizeof(err));
}

/* Loads doc, expects failure with exactly message want, and frees everything. */
static void expect_error(const char *doc, const char *want)
{
    struct oc_config cfg;
    T_EQ_INT(load(&cfg, doc), OC_EINVAL);
    T_EQ_STR(err, want);
    T_EQ_INT(config_load_file(&cfg, "/tmp", err, sizeof(err)), OC_EIO);
    T_EQ_STR(err, "/tmp: cannot read: Is a directory");
    config_free(&cfg);
}

static void test_defaults(void)
{
    struct oc_config cfg;
    config_defaults(&cfg);
    T_EQ_STR(cfg.data_dir, "./oncue-data");
    T_EQ_STR(cfg.store_sync, "full");
    T_EQ_STR(cfg.listen, "127.0.0.1:8470");
    T_EQ_INT(cfg.http_workers, 0);
    T_EQ_INT(cfg.http_max_body, 16777216);
    T_EQ_INT(cfg.http_max_header, 16384);
    T_EQ_INT(cfg.http_timeout_s, 30);
    T_EQ_INT(cfg.http_grace_ms, 5000);
    T_EQ_INT(cfg.http_arena_max, 67108864);
    T_EQ_STR(cfg.log_level, "info");
    T_EQ_STR(cfg.clock, "real");
    T_EQ_STR(cfg.modules, "all");
    config_free(&cfg);
    T_TRUE(cfg.data_dir == NULL && cfg.modules == NULL);
    config_free(&cfg); /* a second free is harmless */
}

static void test_table(void)
{
    size_t n = 0;
    struct oc_config cfg;
    const struct oc_setting *s;
    struct config_walk w = {0};
    config_init(&cfg, oc_modules);
    for (; (s = config_walk(&cfg, &w)) != NULL; n++) {
        T_TRUE(s->def != NULL && s->desc != NULL && *s->desc);
        T_TRUE(config_find(&cfg, s->name) == s);
        T_TRUE(s->type != OC_SETTING_ENUM || s->choices != NULL);
    }
    T_TRUE(n >= 12); /* the foundation's rows; capabilities add more */
    T_TRUE(n > 12);  /* ... and the modules' tables are walked */
    T_EQ_STR(config_find_flag(&cfg, "--data")->name, "store.data_dir");
    T_EQ_STR(config_find_flag(&cfg, "--listen")->name, "http.listen");
    T_EQ_STR(config_find_flag(&cfg, "--workers")->name, "http.workers");
    T_EQ_STR(config_find_flag(&cfg, "--log-level")->name, "log.level");
    T_EQ_STR(config_find_flag(&cfg, "--clock")->name, "clock.kind");
    T_EQ_STR(config_find_flag(&cfg, "--modules")->name, "modules");
    T_TRUE(config_find_flag(&cfg, "--nope") == NULL);
    T_TRUE(config_find(&cfg, "http") == NULL);
    config_free(&cfg);
}

/* A module's setting lands in its own options block, typed as its row says. */
static void test_module_blocks(void)
{
    struct oc_config cfg;
    struct incident_opts def;
    T_EQ_INT(load(&cfg, "incident:\n  recovery_window_s: 60\n  sev2_affected_pct: 7\n"
                        "ingest.max_leaves: 5\ncatalog.file: /x.yaml\n"),
             0);
    const struct incident_opts *io = config_module_opts(&cfg, &incident_module, NULL);
    T_EQ_INT(io->recovery_window_s, 60);
    T_EQ_INT(io->group_window_s, 1800); /* untouched */
    T_EQ_DBL(io->grid.sev2_affected, 0.07, 1e-12);
    T_EQ_DBL(io->grid.sev1_cannot_start, 0.25, 1e-12);
    const struct qoe_cube_opts *qo = config_module_opts(&cfg, &qoe_module, NULL);
    T_EQ_INT(qo->max_leaves, 5);
    T_EQ_INT(qo->max_values_per_dim, 10000);
    T_EQ_INT(config_set(&cfg, "incident.deploy_secret", "whsec_x", err, sizeof(err)), 0);
    T_EQ_STR(io->deploy_secret, "whsec_x");
    T_EQ_INT(config_set(&cfg, "incident.sev2_affected_pct", "0", err, sizeof(err)), OC_EINVAL);
    T_EQ_STR(err, "incident.sev2_affected_pct: expected an integer between 1 and 100, got \"0\"");
    /* without a block, the module's defaults: the same rows */
    incident_opts_default(&def);
    T_TRUE(config_module_opts(NULL, &incident_module, &def) == &def);
    T_EQ_INT(def.recovery_window_s, 1800);
    T_EQ_DBL(def.grid.sev2_affected, 0.05, 1e-12);
    T_EQ_STR(def.public_url, "");
    config_free(&cfg);
}

static void test_nested_and_dotted(void)
{
    struct oc_config cfg;
    const char *doc = "# comment\n"
                      "store:\n"
                      "  data_dir: /var/lib/oncue\n"
                      "  synchronous: normal\n"
                      "http:\n"
                      "  listen: \"[::1]:9000\"\n"
                      "  workers: 4\n"
                      "http.timeout_s: 120\n"
                      "log: {level: debug}\n"
                      "clock.kind: virtual\n"
                      "modules: ingest,qoe\n";
    T_EQ_INT(load(&cfg, doc), 0);
    T_EQ_STR(err, "");
    T_EQ_STR(cfg.data_dir, "/var/lib/oncue");
    T_EQ_STR(cfg.store_sync, "normal");
    T_EQ_STR(cfg.listen, "[::1]:9000");
    T_EQ_INT(cfg.http_workers, 4);
    T_EQ_INT(cfg.http_timeout_s, 120);
    T_EQ_INT(cfg.http_max_body, 16777216); /* untouched */
    T_EQ_STR(cfg.log_level, "debug");
    T_EQ_STR(cfg.clock, "virtual");
    T_EQ_STR(cfg.modules, "ingest,qoe");
    config_free(&cfg);
}

/* A string setting given with nothing after the colon is the empty string. */
static void test_empty_string_value(void)
{
    struct oc_config cfg;
    T_EQ_INT(load(&cfg, "modules:\nstore:\n  data_dir: ''\n"), 0);
    T_EQ_STR(cfg.modules, "");
    T_EQ_STR(cfg.data_dir, "");
    config_free(&cfg);
    expect_error("http.timeout_s: ~\n", "x.yaml:1: http.timeout_s: no value given (remove the "
                                        "line to keep the default 30)");
}

static void test_empty_documents(void)
{
    static const char *const docs[] = {"",        "\n\n", "# only a comment\n", "---\n", "~\n",
                                       "http:\n", "{}\n"};
    for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
        struct oc_config cfg;
        T_EQ_INT(load(&cfg, docs[i]), 0);
        T_EQ_STR(err, "");
        T_EQ_STR(cfg.listen, "127.0.0.1:8470");
        T_EQ_INT(cfg.http_timeout_s, 30);
        config_free(&cfg);
    }
}

static void test_int_values(void)
{
    struct oc_config cfg;
    config_defaults(&cfg);
    T_EQ_INT(config_set(&cfg, "http.workers", "64", err, sizeof(err)), 0);
    T_EQ_INT(cfg.http_workers, 64);
    T_EQ_INT(config_set(&cfg, "http.shutdown_grace_ms", "0", err, sizeof(err)), 0);
    T_EQ_INT(cfg.http_grace_ms, 0);
    T_EQ_INT(config_set(&cfg, "http.request_memory_bytes", "1073741824", err, sizeof(err)), 0);
    T_EQ_INT(cfg.http_arena_max, 1073741824);
    T_EQ_INT(config_set(&cfg, "http.max_header_bytes", "1023", err, sizeof(err)), OC_EINVAL);
    T_EQ_STR(err, "http.max_header_bytes: expected an integer between 1024 and 1048576, got "
                  "\"1023\"");
    static const char *const bad[] = {"65",
                                      "-1",
                                      "4k",
                                      "0x10",
                                      "+4",
                                      " 4",
                                      "4.0",
                                      "",
                                      "9223372036854775808",
                                      "-9223372036854775809"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        T_EQ_INT(config_set(&cfg, "http.workers", bad[i], err, sizeof(err)), OC_EINVAL);
    T_EQ_INT(cfg.http_workers, 64); /* failures leave the value alone */
    config_free(&cfg);
}

/* A private table, to exercise the boolean and string types through config_apply. */
struct tcfg {
    int flag;
    char *text;
};

static void test_bool_and_str_values(void)
{
    const struct oc_setting b = {
        "t.flag", OC_SETTING_BOOL, "false", 0, 0, NULL, offsetof(struct tcfg, flag),
        NULL,     "a boolean"};
    const struct oc_setting s = {
        "t.text", OC_SETTING_STR, "x", 0, 0, NULL, offsetof(struct tcfg, text), NULL, "a string"};
    struct tcfg t = {7, NULL};
    char why[256];
    static const char *const yes[] = {"true", "yes", "on", "TRUE", "On"};
    static const char *const no[] = {"false", "no", "off", "False", "OFF"};
    for (size_t i = 0; i < 5; i++) {
        T_EQ_INT(config_apply(&t, &b, yes[i], why, sizeof(why)), 0);
        T_EQ_INT(t.flag, 1);
        T_EQ_INT(config_apply(&t, &b, no[i], why, sizeof(why)), 0);
        T_EQ_INT(t.flag, 0);
    }
    T_EQ_INT(config_apply(&t, &b, "1", why, sizeof(why)), OC_EINVAL);
    T_EQ_STR(why, "expected true or false (or yes/no, on/off), got \"1\"");
    T_EQ_INT(config_apply(&t, &s, "hello", why, sizeof(why)), 0);
    T_EQ_INT(config_apply(&t, &s, "world", why, sizeof(why)), 0); /* frees "hello" */
    T_EQ_STR(t.text, "world");
    T_EQ_INT(config_apply(&t, &s, "", why, sizeof(why)), 0);
    T_EQ_STR(t.text, "");
    free(t.text);
}

static void test_enum_and_addr_values(void)
{
    struct oc_config cfg;
    config_defaults(&cfg);
    T_EQ_INT(config_set(&cfg, "log.level", "warn", err, sizeof(err)), 0);
    T_EQ_STR(cfg.log_level, "warn");
    T_EQ_INT(config_set(&cfg, "log.level", "WARN", err, sizeof(err)), OC_EINVAL);
    T_EQ_STR(err, "log.level: expected one of debug, info, warn, error, got \"WARN\"");
    static const char *const good[] = {"0.0.0.0:0", "10.1.2.3:65535", "[::]:80",
                                       "[2001:db8::1]:8470"};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        T_EQ_INT(config_set(&cfg, "http.listen", good[i], err, sizeof(err)), 0);
        T_EQ_STR(cfg.listen, good[i]);
    }
    static const char *const bad[] = {
        "localhost:80", "1.2.3.4",        "1.2.3.4:65536", "::1:80",     "[::1]",
        "[::1]80",      "1.2.3.4:",       "1.2.3:80",      ":80",        "[]:80",
        "1.2.3.4:-1",   "1.2.3.4:080808", "[1.2.3.4]:80",  "1.2.3.4:8 0"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        T_EQ_INT(config_set(&cfg, "http.listen", bad[i], err, sizeof(err)), OC_EINVAL);
    T_EQ_STR(err, "http.listen: expected ADDR:PORT (an IPv4 address or [IPv6] address, and a "
                  "port 0-65535), got \"1.2.3.4:8 0\"");
    T_EQ_STR(cfg.listen, "[2001:db8::1]:8470");
    config_free(&cfg);
}

static void test_set_errors(void)
{
    struct oc_config cfg;
    config_defaults(&cfg);
    T_EQ_INT(config_set(&cfg, "http.lisen", "1.2.3.4:5", err, sizeof(err)), OC_ENOTFOUND);
    T_EQ_STR(err, "http.lisen: unknown setting; did you mean http.listen?");
    T_EQ_INT(config_set(&cfg, "zzz", "1", err, sizeof(err)), OC_ENOTFOUND);
    T_EQ_STR(err, "zzz: unknown setting");
    T_EQ_INT(config_set(&cfg, "http.workers", "many", err, sizeof(err)), OC_EINVAL);
    T_EQ_STR(err, "http.workers: expected an integer between 0 and 64, got \"many\"");
    T_EQ_INT(config_set(&cfg, "clock.kind", "later", err, sizeof(err)), OC_EINVAL);
    T_EQ_STR(err, "clock.kind: expected one of real, virtual, replay, got \"later\"");
    T_EQ_INT(config_set(&cfg, "modules", "a\x01\"b", err, sizeof(err)), 0);
    T_EQ_STR(cfg.modules, "a\x01\"b");
    T_EQ_INT(config_set(&cfg, "store.data_dir", "", err, sizeof(err)), 0);
    T_EQ_STR(cfg.data_dir, "");
    config_free(&cfg);
}

static void test_suggest(void)
{
    struct oc_config cfg;
    config_init(&cfg, oc_modules);
    T_EQ_STR(config_suggest(&cfg, "http.lisen"), "http.listen");
    T_EQ_STR(config_suggest(&cfg, "http.worker"), "http.workers");
    T_EQ_STR(config_suggest(&cfg, "listen"), "http.listen");
    T_EQ_STR(config_suggest(&cfg, "server.workers"), "http.workers");
    T_EQ_STR(config_suggest(&cfg, "http.max_body"), "http.max_body_bytes");
    T_EQ_STR(config_suggest(&cfg, "log.levle"), "log.level");
    T_EQ_STR(config_suggest(&cfg, "incident.recovery_window"), "incident.recovery_window_s");
    T_TRUE(config_suggest(&cfg, "completely.unrelated.thing") == NULL);
    config_free(&cfg);
}

/* The acceptance case: a wrong type on line 7 names line 7. */
static void test_line_seven(void)
{
    const char *doc = "# oncue settings\n"
                      "store:\n"
                      "  data_dir: /tmp/oncue\n"
                      "\n"
                      "http:\n"
                      "  listen: 127.0.0.1:8470\n"
                      "  workers: many\n"
                      "log.level: info\n";
    struct oc_config cfg;
    config_defaults(&cfg);
    T_EQ_INT(config_load_buf(&cfg, "bad.yaml", doc, strlen(doc), err, sizeof(err)), OC_EINVAL);
    T_EQ_STR(err, "bad.yaml:7: http.workers: expected an integer between 0 and 64, got \"many\"");

    char path[] = "/tmp/oncue-test-config-XXXXXX";
    int fd = mkstemp(path);
    T_TRUE(fd >= 0);
    T_EQ_INT(write(fd, doc, strlen(doc)), (long long)strlen(doc));
    close(fd);
    T_EQ_INT(config_load_file(&cfg, path, err, sizeof(err)), OC_EINVAL);
    char want[128];
    snprintf(want, sizeof(want), "%s:7: ", path);
    T_TRUE(strncmp(err, want, strlen(want)) == 0);
    T_CONTAINS(err, "http.workers: expected an integer between 0 and 64, got \"many\"");
    unlink(path);
    T_EQ_INT(config_load_file(&cfg, path, err, sizeof(err)), OC_EIO);
    snprintf(want, sizeof(want), "%s: cannot open: No such file or directory", path);
    T_EQ_STR(err, want);
    T_EQ_INT(config_load_file(&cfg, "/tmp", err, sizeof(err)), OC_EIO);
    T_EQ_STR(err, "/tmp: cannot read: Is a directory");
    config_free(&cfg);
}

static void test_errors_settings(void)
{
    expect_error("http:\n  lisen: 1.2.3.4:80\n",
                 "x.yaml:2: unknown setting \"http.lisen\"; did you mean http.listen?");
    expect_error("\nfoo:\n  bar:\n    baz: 1\n", "x.yaml:4: unknown setting \"foo.bar.baz\"");
    expect_error("nothing: {}\n", "x.yaml:1: unknown setting \"nothing\"");
    expect_error("http:\n  listen:\n    addr: 1.2.3.4\n",
                 "x.yaml:3: http.listen: expected a single value, got a mapping");
    expect_error("http: 8470\n", "x.yaml:1: http: expected a mapping of settings, got a single "
                                 "value");
    expect_error("log.level: info\nlog:\n  level: warn\n",
                 "x.yaml:3: duplicate key: \"log.level\" was already given on line 1");
    expect_error("http:\n  workers: 1\nhttp:\n  timeout_s: 2\n",
                 "x.yaml:3: duplicate key: \"http\" was already given on line 1");
    expect_error("{log.level: info, log.level: warn}",
                 "x.yaml:1: duplicate key: \"log.level\" was already given on line 1");
    expect_error("modules:\n  - ingest\n  - qoe\n",
                 "x.yaml:2: modules: sequences (lists) are not supported yet; give one value");
    expect_error("http.listen:\n", "x.yaml:1: http.listen: no value given (remove the line to "
                                   "keep the default 127.0.0.1:8470)");
    expect_error("http.workers: 99999999999999999999999999999999999999999999\n",
                 "x.yaml:1: http.workers: expected an integer between 0 and 64, got "
                 "\"9999999999999999999999999999999999999999...\"");
    expect_error("store.data_dir: \"a\\0b\"\n",
                 "x.yaml:1: store.data_dir: the value contains a NUL byte");
}

static void test_errors_structure(void)
{
    expect_error("\n\njust a string\n",
                 "x.yaml:3: expected a mapping of settings (name: value), got a scalar");
    expect_error("- a\n", "x.yaml:1: expected a mapping of settings (name: value), got a "
                          "sequence");
    expect_error("http.workers: 1\n---\nlog.level: warn\n",
                 "x.yaml:2: only one YAML document is supported");
    expect_error("http.workers: &w 4\nhttp.timeout_s: *w\n",
                 "x.yaml:1: anchors and aliases are not supported; write values out");
    expect_error("base: &b {workers: 2}\nhttp:\n  <<: *b\n",
                 "x.yaml:1: anchors and aliases are not supported; write values out");
    expect_error("? [a, b]\n: 1\n", "x.yaml:1: keys must be plain names, not mappings or lists");
    expect_error("store:\n  data_dir: 'unterminated\n",
                 "x.yaml:3: YAML syntax error: found unexpected end of stream (while scanning "
                 "a quoted scalar started on line 2)");
    expect_error("http:\n\tlisten: x\n", "x.yaml:2: YAML syntax error: found character that "
                                         "cannot start any token (while scanning for the next "
                                         "token started on line 2)");
    expect_error("http:\n  workers: 4\n listen: x\n",
                 "x.yaml:3: YAML syntax error: did not find expected key (while parsing a block "
                 "mapping started on line 1)");
}

static void test_errors_bounds(void)
{
    struct oc_buf b;
    oc_buf_init(&b, 2 * CONFIG_MAX_BYTES);
    for (int i = 0; i < 17; i++)
        oc_buf_printf(&b, "%*sa:\n", i * 2, "");
    expect_error(b.data, "x.yaml:17: \"a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a\": nested deeper than "
                         "16 levels");
    oc_buf_reset(&b);
    for (int i = 0; i < 300; i++)
        oc_buf_puts(&b, "k");
    oc_buf_puts(&b, ": 1\n");
    expect_error(b.data, "x.yaml:1: key \"kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk...\" is "
                         "longer than 256 bytes");
    oc_buf_reset(&b);
    while (b.len <= CONFIG_MAX_BYTES)
        oc_buf_puts(&b, "# filler comment line to pass one mebibyte\n");
    expect_error(b.data, "x.yaml:1: file is larger than 1048576 bytes");
    oc_buf_free(&b);
    /* Bytes that are not text at all. */
    struct oc_config cfg;
    const char junk[] = {'h', 't', 't', 'p', ':', ' ', '\x01', '\xc3', '\x28', '\0', 'x'};
    config_defaults(&cfg);
    T_EQ_INT(config_load_buf(&cfg, "j.yaml", junk, sizeof(junk), err, sizeof(err)), OC_EINVAL);
    T_EQ_STR(err, "j.yaml:1: YAML syntax error: control characters are not allowed");
    config_free(&cfg);
}

static void test_docs(void)
{
    struct oc_buf md, help;
    struct oc_config cfg;
    const struct oc_setting *s;
    config_init(&cfg, oc_modules);
    oc_buf_init(&md, 1 << 20);
    oc_buf_init(&help, 1 << 20);
    config_doc_markdown(&cfg, &md);
    config_doc_help(&cfg, &help);
    T_TRUE(strncmp(md.data, "# oncue configuration\n", 22) == 0);
    T_CONTAINS(md.data, "generated from the settings tables (the server's in "
                        "`src/config/settings.c`, each module's in its `struct oc_module`) by "
                        "`oncue docs config`");
    T_CONTAINS(md.data, "```yaml\nstore:\n  data_dir: ./oncue-data\n  synchronous: full\n"
                        "  backend: sqlite\n  postgres: \"\"\nhttp:\n  listen: 127.0.0.1:8470\n");
    T_CONTAINS(md.data, "| setting | type | default | bounds/choices | flag | description |");
    T_CONTAINS(md.data, "| `http.workers` | integer | `0` | 0..64 | `--workers N` | ");
    T_CONTAINS(md.data, "| `log.level` | enum | `info` | debug, info, warn, error | "
                        "`--log-level LEVEL` | ");
    T_CONTAINS(help.data, "  --listen ADDR:PORT   http.listen (default 127.0.0.1:8470): ");
    T_CONTAINS(help.data, "  --data DIR           store.data_dir (default ./oncue-data): ");
    T_CONTAINS(help.data, "--set NAME=VALUE");
    T_CONTAINS(help.data, "  http.max_header_bytes       integer 1024..1048576, default "
                          "16384: ");
    T_CONTAINS(md.data, "| `incident.sev2_affected_pct` | integer | `5` | 1..100 |  | ");
    struct config_walk w = {0};
    while ((s = config_walk(&cfg, &w)) != NULL) {
        char cell[128];
        snprintf(cell, sizeof(cell), "| `%s` |", s->name);
        T_CONTAINS(md.data, cell);
        snprintf(cell, sizeof(cell), "\n  %s ", s->name);
        T_CONTAINS(help.data, cell);
        T_CONTAINS(help.data, s->desc);
    }
    oc_buf_free(&md);
    oc_buf_free(&help);
    config_free(&cfg);
}

/* The example YAML in docs/config.md must itself load and give the defaults. */
static void test_docs_example_loads(void)
{
    struct oc_buf md;
    struct oc_config cfg;
    oc_buf_init(&md, 1 << 20);
    config_init(&cfg, oc_modules);
    config_doc_markdown(&cfg, &md);
    config_free(&cfg);
    const char *start = strstr(md.data, "```yaml\n") + 8, *end = strstr(start, "```");
    config_init(&cfg, oc_modules);
    err[0] = '\0';
    T_EQ_INT(config_load_buf(&cfg, "example", start, (size_t)(end - start), err, sizeof(err)), 0);
    T_EQ_STR(err, "");
    T_EQ_STR(cfg.listen, "127.0.0.1:8470");
    config_free(&cfg);
    oc_buf_free(&md);
}

static const struct t_case cases[] = {
    T_CASE(test_defaults),
    T_CASE(test_table),
    T_CASE(test_module_blocks),
    T_CASE(test_nested_and_dotted),
    T_CASE(test_empty_documents),
    T_CASE(test_empty_string_value),
    T_CASE(test_int_values),
    T_CASE(test_bool_and_str_values),
    T_CASE(test_enum_and_addr_values),
    T_CASE(test_set_errors),
    T_CASE(test_suggest),
    T_CASE(test_line_seven),
    T_CASE(test_errors_settings),
    T_CASE(test_errors_structure),
    T_CASE(test_errors_bounds),
    T_CASE(test_docs),
    T_CASE(test_docs_example_loads),
    {0},
};

T_MAIN(cases)
