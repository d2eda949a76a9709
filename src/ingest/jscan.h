/*
 * jscan.h - internal to ingest: a zero-copy scanner of the members of one JSON object (a log
 * line of Fastly or Akamai, a CMCD report in JSON), for parsers that read a few scalar members
 * and skip the rest. Strings with escapes are unescaped into the caller's scratch.
 */
#ifndef OC_INGEST_JSCAN_H
#define OC_INGEST_JSCAN_H

#include "qoe/event.h"

#include <stddef.h>

enum jscan_kind { JS_STR = 1, JS_NUM, JS_TRUE, JS_FALSE, JS_NULL, JS_OTHER };

/* The cursor over one object: [p, end) of the input; scratch at *used for unescaped strings
 * (at most end - p bytes are needed). */
struct jscan {
    const char *p, *end;
    char *scratch;
    size_t *used;
};

/* Enters the object at j->p (leading whitespace skipped): 0, or -1 when it is not one. */
int jscan_begin(struct jscan *j);
/* The next member: 1 with its key and value (strings unescaped, numbers as their text, objects
 * and arrays skipped as JS_OTHER with an empty val), 0 at the closing brace, -1 on a syntax
 * error. */
int jscan_member(struct jscan *j, struct beacon_str *key, int *kind, struct beacon_str *val);
/* 0 when only whitespace follows the object, else -1. */
int jscan_end(struct jscan *j);
/* 1 when s is n bytes equal to the NUL-terminated w. */
int jscan_eq(struct beacon_str s, const char *w);

#endif
