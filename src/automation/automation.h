/*
 * automation.h - the automation capability: event subscriptions (any bus topic delivered to
 * an outside URL as a signed Standard Webhooks message, from a durable outbox with the
 * spec's retry schedule, a delivery log and manual replay), `oncue subscription`.
 * See docs/internals/automation.md.
 */
#ifndef OC_AUTOMATION_H
#define OC_AUTOMATION_H

#include "core/module.h"
#include "core/opt.h"

#include <stdint.h>

struct auto_mod;

/* The module `oncue serve` runs (src/oncue/modules.c). */
extern const struct oc_module automation_module;
/* `oncue subscription ...` and its option table (ending in {0}). */
int automation_cli_main(int argc, char **argv);
extern const struct oc_cli automation_cli[];

#define AUTOMATION_PROVIDES  "automation" /* oc_app_find name of the running struct auto_mod */
#define AUTO_ATTEMPTS_MAX    10           /* attempts of one message, then it has failed */
#define AUTO_NAME_MAX        64           /* bytes of a subscription name */
#define AUTO_URL_MAX         2048         /* bytes of a target URL */
#define AUTO_TOPICS_MAX      32           /* topic filters of one subscription */
#define AUTO_REASON_MAX      256          /* bytes of a state's reason shown to an admin */
#define AUTO_RETRY_AFTER_MAX (24 * 3600)  /* seconds: a longer Retry-After is read as this */

/* The delay in ms before attempt n + 1 when attempt n (1-based, < AUTO_ATTEMPTS_MAX) failed
 * without a Retry-After: the schedule 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h
 * (about 75 h from the first attempt to the tenth), each spread by jitter, a value in
 * [-1000, 1000] standing for -10 % .. +10 %. -1 when n is out of range. */
int64_t automation_retry_delay_ms(int n, int jitter);
/* 1 when topic is selected by filter: "*", the topic itself, or a prefix ending in ".*"
 * ("incident.*"). */
int automation_topic_matches(const char *filter, const char *topic);
/* Checks a comma-separated list of topic filters against the bus topics: 0, or OC_EINVAL
 * with why ("unknown topic alert.fird (did you mean alert.fired?)"). */
int automation_topics_check(const char *list, char *why, size_t n);
/* Sends the messages due at now_ms (the delivery thread calls it every second; tests call it
 * with their clock): returns how many attempts it made. */
int automation_deliver(struct auto_mod *m, int64_t now_ms);

/* The reason of a subscription's state as a caller may see it (written into buf, n bytes,
 * and returned; NULL when reason is NULL or ""): full (an admin) gets it cut to
 * AUTO_REASON_MAX bytes (and n - 1) at a UTF-8 boundary; anyone else only who disabled it,
 * never what the receiver answered (its status, which the delivery log keeps for admins, can
 * say more than it should about the receiver). The result is buf or a static string. */
const char *auto_reason_shown(const char *reason, int full, char *buf, size_t n);

#endif
