/*
 * log.h - structured logging as JSON lines, and PII helpers.
 *
 * Every log line is one JSON object: {"ts":"...Z","level":"info","msg":"...", extra fields};
 * or, with oc_log_set_text, one line of text with the same fields for people to read.
 * Viewer identifiers never reach a log in clear: hash them with oc_pii_hash_id (keyed
 * BLAKE2b), and truncate client addresses with oc_pii_ip_truncate (IPv4 /24, IPv6 /48).
 * Thread-safe: each line is written with a single fwrite under a lock.
 */
#ifndef OC_CORE_LOG_H
#define OC_CORE_LOG_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum oc_log_level {
    OC_LOG_DEBUG = 0,
    OC_LOG_INFO,
    OC_LOG_WARN,
    OC_LOG_ERROR,
    OC_LOG_OFF,
};

/* Sets the lowest level written (default OC_LOG_INFO). */
void oc_log_set_level(enum oc_log_level level);
/* Parses "debug", "info", "warn", "error" or "off"; 0 or OC_EINVAL. */
int oc_log_level_parse(const char *s, enum oc_log_level *out /* OUT */);
/* 1: write "2026-12-06T19:43:00.123Z info  msg key=value" lines for people reading a
 * terminal instead of JSON lines (log.format text); 0: JSON (the default). */
void oc_log_set_text(int on);
/* Sets the stream written to (default stderr); not owned. */
void oc_log_set_stream(FILE *f);
/* Writes one line with a printf-formatted message. */
void oc_log(enum oc_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* 1 at most once every every_ms milliseconds (monotonic) per *last_ms, which starts at 0: the
 * guard of a log line a client can trigger at will, so it cannot flood the log. */
int oc_log_due(_Atomic int64_t *last_ms, int64_t every_ms);
/* Writes one line with msg and extra string fields given as key, value pairs ending in NULL. */
void oc_log_kv(enum oc_log_level level, const char *msg, ...);

#define OC_PII_HASH_HEX 16 /* hex characters in a viewer-id hash */
#define OC_PII_KEY_LEN  32 /* bytes in the hashing key */

/* Sets the key for oc_pii_hash_id (copied). Until set, a process-random key is used. */
void oc_pii_set_key(const unsigned char key[OC_PII_KEY_LEN]);
/* Writes the keyed hash of id as OC_PII_HASH_HEX hex characters and a NUL into out. */
void oc_pii_hash_id(const char *id, char out[OC_PII_HASH_HEX + 1]);
/* Truncates an IPv4 address to its /24 ("203.0.113.0") or an IPv6 one to its /48
 * ("2001:db8:1::"); writes into out (n bytes). 0, or OC_EINVAL for anything else. */
int oc_pii_ip_truncate(const char *ip, char *out, size_t n);

#endif
