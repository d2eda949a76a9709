/*
 * log.c - JSON-lines logging and PII helpers (see log.h).
 */
#include "core/log.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/err.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

static _Atomic int log_level = OC_LOG_INFO;
static FILE *log_stream;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *const level_names[] = {"debug", "info", "warn", "error", "off"};
static _Atomic int log_text; /* 1: the human-readable form (oc_log_set_text) */

void oc_log_set_text(int on)
{
    atomic_store(&log_text, on != 0);
}

void oc_log_set_level(enum oc_log_level level)
{
    atomic_store(&log_level, (int)level);
}

int oc_log_level_parse(const char *s, enum oc_log_level *out)
{
    for (int i = 0; i <= OC_LOG_OFF; i++) {
        if (strcmp(s, level_names[i]) == 0) {
            *out = (enum oc_log_level)i;
            return 0;
        }
    }
    return OC_EINVAL;
}

void oc_log_set_stream(FILE *f)
{
    pthread_mutex_lock(&log_lock);
    log_stream = f;
    pthread_mutex_unlock(&log_lock);
}

/* Appends s as a JSON string (quotes included). */
static void put_json_str(struct oc_buf *b, const char *s)
{
    oc_buf_puts(b, "\"");
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            oc_buf_printf(b, "\\%c", *p);
        else if (*p == '\n')
            oc_buf_puts(b, "\\n");
        else if (*p < 0x20)
            oc_buf_printf(b, "\\u%04x", *p);
        else
            oc_buf_append(b, p, 1);
    }
    oc_buf_puts(b, "\"");
}

/* Appends s as the text form writes a message: as is, but on one line (a newline as \n). */
static void put_text(struct oc_buf *b, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '\n')
            oc_buf_puts(b, "\\n");
        else if (*p < 0x20)
            oc_buf_printf(b, "\\x%02x", *p);
        else
            oc_buf_append(b, p, 1);
    }
}

/* Appends a message: a JSON string, or the text form's words. */
static void put_msg(struct oc_buf *b, const char *s)
{
    if (atomic_load(&log_text))
        put_text(b, s);
    else
        put_json_str(b, s);
}

/* Appends one key and value: ,"k":"v" in JSON; " k=v" in text (v quoted when it holds a
 * space, a quote or an equals sign, or is empty). */
static void put_kv(struct oc_buf *b, const char *k, const char *v)
{
    if (!atomic_load(&log_text)) {
        oc_buf_puts(b, ",");
        put_json_str(b, k);
        oc_buf_puts(b, ":");
        put_json_str(b, v);
        return;
    }
    oc_buf_printf(b, " %s=", k);
    if (!*v || strpbrk(v, " \"=\t\n"))
        put_json_str(b, v);
    else
        put_text(b, v);
}

static void line_start(struct oc_buf *b, enum oc_log_level level)
{
    int64_t ms = oc_wall_ms();
    time_t sec = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&sec, &tm);
    char stamp[32];
    strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
    if (atomic_load(&log_text))
        oc_buf_printf(b, "%s.%03dZ %-5s ", stamp, (int)(ms % 1000), level_names[level]);
    else
        oc_buf_printf(b, "{\"ts\":\"%s.%03dZ\",\"level\":\"%s\",\"msg\":", stamp, (int)(ms % 1000),
                      level_names[level]);
}

static void line_emit(struct oc_buf *b)
{
    oc_buf_puts(b, atomic_load(&log_text) ? "\n" : "}\n");
    pthread_mutex_lock(&log_lock);
    FILE *f = log_stream ? log_stream : stderr;
    fwrite(b->data, 1, b->len, f);
    fflush(f);
    pthread_mutex_unlock(&log_lock);
}

void oc_log(enum oc_log_level level, const char *fmt, ...)
{
    if ((int)level < atomic_load(&log_level) || level >= OC_LOG_OFF)
        return;
    struct oc_buf msg, line;
    oc_buf_init(&msg, 64 * 1024);
    oc_buf_init(&line, 128 * 1024);
    va_list ap;
    va_start(ap, fmt);
    oc_buf_vprintf(&msg, fmt, ap);
    va_end(ap);
    line_start(&line, level);
    put_msg(&line, msg.data ? msg.data : "");
    line_emit(&line);
    oc_buf_free(&msg);
    oc_buf_free(&line);
}

void oc_log_kv(enum oc_log_level level, const char *msg, ...)
{
    if ((int)level < atomic_load(&log_level) || level >= OC_LOG_OFF)
        return;
    struct oc_buf line;
    oc_buf_init(&line, 128 * 1024);
    line_start(&line, level);
    put_msg(&line, msg);
    va_list ap;
    va_start(ap, msg);
    const char *k;
    while ((k = va_arg(ap, const char *)) != NULL) {
        const char *v = va_arg(ap, const char *);
        put_kv(&line, k, v ? v : "");
    }
    va_end(ap);
    line_emit(&line);
    oc_buf_free(&line);
}

static unsigned char pii_key[OC_PII_KEY_LEN];
static pthread_once_t pii_once = PTHREAD_ONCE_INIT;
static _Atomic int pii_key_set;

static void pii_random_key(void)
{
    if (!atomic_load(&pii_key_set))
        randombytes_buf(pii_key, sizeof(pii_key));
}

void oc_pii_set_key(const unsigned char key[OC_PII_KEY_LEN])
{
    pthread_once(&pii_once, pii_random_key);
    memcpy(pii_key, key, OC_PII_KEY_LEN);
    atomic_store(&pii_key_set, 1);
}

void oc_pii_hash_id(const char *id, char out[OC_PII_HASH_HEX + 1])
{
    pthread_once(&pii_once, pii_random_key);
    unsigned char h[OC_PII_HASH_HEX / 2];
    crypto_generichash(h, sizeof(h), (const unsigned char *)id, strlen(id), pii_key,
                       sizeof(pii_key));
    sodium_bin2hex(out, OC_PII_HASH_HEX + 1, h, sizeof(h));
}

int oc_pii_ip_truncate(const char *ip, char *out, size_t n)
{
    unsigned char a[16];
    if (inet_pton(AF_INET, ip, a) == 1) {
        a[3] = 0;
        return inet_ntop(AF_INET, a, out, (socklen_t)n) ? 0 : OC_EINVAL;
    }
    if (inet_pton(AF_INET6, ip, a) == 1) {
        memset(a + 6, 0, 10);
        return inet_ntop(AF_INET6, a, out, (socklen_t)n) ? 0 : OC_EINVAL;
    }
    return OC_EINVAL;
}

int oc_log_due(_Atomic int64_t *last_ms, int64_t every_ms)
{
    int64_t now = oc_mono_ns() / 1000000, last = atomic_load(last_ms);
    return now - last >= every_ms && atomic_compare_exchange_strong(last_ms, &last, now);
}
