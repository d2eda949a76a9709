/*
 * timefmt.h - UTC timestamps as ISO 8601 / RFC 3339 text, without the C library's time zone
 * state: unix milliseconds to "2026-11-25T19:43:00Z" and back. Every folder that prints or
 * reads a wall-clock time in an API, a file or a CLI table uses these.
 */
#ifndef OC_CORE_TIMEFMT_H
#define OC_CORE_TIMEFMT_H

#include <stddef.h>
#include <stdint.h>

#define OC_TIME_LEN    21 /* bytes oc_time_format needs for years 0-9999, with the NUL */
#define OC_TIME_STRICT 1u /* oc_time_parse: only a full RFC 3339 date-time (T, seconds, zone) */
#define OC_TIME_UTC    2u /* oc_time_parse: no numeric offset ("+01:00"), only "Z" or none */

/* Writes unix milliseconds ms as "YYYY-MM-DDTHH:MM:SSZ" (UTC, milliseconds dropped, floored)
 * into out, n bytes (OC_TIME_LEN fits; shorter truncates). */
void oc_time_format(int64_t ms, char *out, size_t n);

/* Parses a UTC or offset time into unix milliseconds. Without flags it accepts "YYYY-MM-DD"
 * optionally followed by 'T' or ' ' and "HH:MM", optional ":SS", optional ".fraction"
 * (milliseconds kept) and an optional zone "Z" or "+HH:MM"/"-HH:MM"; with OC_TIME_STRICT
 * only "YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)"; with OC_TIME_UTC no numeric offset.
 * Returns 0, or OC_EINVAL (*out_ms unset). */
int oc_time_parse(const char *s, unsigned flags, int64_t *out_ms /* OUT */);

/* Parses a duration: whole seconds ("300") or a number with a unit s, m, h, d or w ("5m",
 * "1h", "7d"). Returns 0, or OC_EINVAL (*out_s unset). */
int oc_duration_parse(const char *s, int64_t *out_s /* OUT */);

/* Parses a time given to the API or a CLI, in unix seconds: whole unix seconds ("1772480400"),
 * a date-time as oc_time_parse takes it ("2026-03-02T19:40:00Z", fractions dropped), "now",
 * or "now" plus or minus a duration ("now-1h", "now-90m", "now+5m") on now_s. Returns 0;
 * OC_EMALFORMED when s is none of these; OC_EINVAL when it is a time out of range (before
 * 1970, after 9999, or a number that reads as milliseconds); both with a sentence saying what
 * was wrong in why. */
int oc_time_param(const char *s, int64_t now_s, int64_t *out_s /* OUT */, char *why, size_t n);

/* Days from 1970-01-01 to the proleptic Gregorian date y-m-d (negative before 1970). */
int64_t oc_days_from_civil(int64_t y, int m, int d);

#endif
