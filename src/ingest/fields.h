/*
 * fields.h - internal to the parser: how the members of one beacon object map onto
 * struct beacon_event, and the per-event validation (parse.c scans, fields.c interprets).
 */
#ifndef OC_INGEST_FIELDS_H
#define OC_INGEST_FIELDS_H

#include "ingest/ingest.h"

#include <stdint.h>

/* A member value as the event fields need it: scalars are kept, containers skipped. */
enum jv_kind { JV_STRING = 1, JV_NUMBER, JV_TRUE, JV_FALSE, JV_NULL, JV_OTHER };
struct jv {
    enum jv_kind kind;
    struct beacon_str s; /* JV_STRING: the unescaped text; JV_NUMBER: its raw text */
};

/* What has been seen of one object so far. Zero it before the first member. */
struct fields {
    uint8_t reason;      /* the first problem found (enum ingest_reason), 0 if none */
    uint8_t has_ts;      /* a valid ts was seen */
    uint8_t has_startup; /* a valid startup_ms was seen */
};

/* Applies member key = v to ev. Unknown keys are ignored; a bad value sets f->reason. */
void field_set(struct fields *f, struct beacon_event *ev, struct beacon_str key,
               const struct jv *v);
/* Checks the required members once the object is complete; returns the event's reason. */
uint8_t fields_finish(const struct fields *f, const struct beacon_event *ev);
/* The value of a JSON number's raw text, as strtod gives it (NAN when absurdly long). */
double field_number(struct beacon_str s);

#endif
