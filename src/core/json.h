/*
 * json.h - small helpers over jansson, the JSON library oncue uses for API bodies.
 *
 * Getters never abort on a wrong type: they report it, so handlers can answer 422 naming the
 * field. Serialization goes into a capped oc_buf.
 */
#ifndef OC_CORE_JSON_H
#define OC_CORE_JSON_H

#include <jansson.h>
#include <stdint.h>
#include <stddef.h>

struct oc_buf;

/* The latest unix time in seconds a client may send (9999-12-31T23:59:59Z): times within it
 * can be turned into milliseconds without overflow. */
#define OC_JSON_UNIX_S_MAX 253402300799LL

/* Parses n bytes. On failure returns OC_EINVAL and writes "line L column C: reason" into
 * err (errlen bytes). The caller owns *out (json_decref). */
int oc_json_parse(const char *p, size_t n, json_t **out /* OUT */, char *err, size_t errlen);
/* The string member key of obj: 0, OC_ENOTFOUND (absent or null) or OC_EINVAL (not a string).
 * *out points into obj. */
int oc_json_get_str(const json_t *obj, const char *key, const char **out /* OUT */);
/* The integer member key of obj (a real with no fraction is accepted): 0, OC_ENOTFOUND or
 * OC_EINVAL. */
int oc_json_get_int(const json_t *obj, const char *key, int64_t *out /* OUT */);
/* The integer member key of obj, bounded: like oc_json_get_int, but a value outside
 * [min, max] is OC_EINVAL too. On OC_EINVAL err (errlen bytes) gets a problem detail naming
 * the field, "KEY: an integer from MIN to MAX" (prefixed "CTX." when ctx is not NULL), which a
 * handler answers with 422. Every integer a JSON handler reads goes through here, so no
 * client value reaches arithmetic that could overflow or a narrower type that could
 * truncate it. */
int oc_json_get_int_range(const json_t *obj, const char *ctx, const char *key, int64_t min,
                          int64_t max, int64_t *out /* OUT */, char *err, size_t errlen);
/* Replaces the string member key of obj (if any) with its text cut as oc_text_cut_urls with
 * hosts_only (core/netguard.h): what a non-admin may see of a text that can hold URLs. */
void oc_json_cut_urls(json_t *obj, const char *key);
/* The numeric member key of obj: 0, OC_ENOTFOUND or OC_EINVAL. */
int oc_json_get_num(const json_t *obj, const char *key, double *out /* OUT */);
/* The boolean member key of obj: 0, OC_ENOTFOUND or OC_EINVAL. */
int oc_json_get_bool(const json_t *obj, const char *key, int *out /* OUT */);
/* Finds a string in v (values at any depth; object keys cannot hold one) with an embedded
 * NUL ("\u0000"), which C code reading it with json_string_value would silently cut short:
 * 0 when there is none, else OC_EINVAL with its path ("title", "events[2].name", "" for v
 * itself) in path (pathn bytes). */
int oc_json_find_nul(const json_t *v, char *path, size_t pathn);
/* Replaces the string member key of obj (when there is one) with the URL cut after its host
 * (oc_url_cut in core/netguard.h): what a non-admin is shown of an outbound URL. */
void oc_json_cut_url(json_t *obj, const char *key);
/* Appends the compact serialization of v to b: 0 or OC_ETOOBIG. */
int oc_json_dump(const json_t *v, struct oc_buf *b);
/* Reads the JSON files of dir whose names end in ".json", at most max_files of them (the
 * last by name; the others are counted as skipped) and max_bytes each, into an array of their
 * documents in name order (*out, new reference). A file that does not read or parse is left out and
 * counted in *skipped. 0; OC_ENOTFOUND when dir does not exist (*out an empty array); OC_EIO with
 * "DIR: reason" in err when it cannot be read. */
int oc_json_dir_load(const char *dir, size_t max_files, size_t max_bytes, json_t **out /* OUT */,
                     int *skipped /* OUT */, char *err, size_t errlen);
/* The first member of obj whose name is not in allowed (a NULL-terminated list), or NULL. */
const char *oc_json_unknown_key(const json_t *obj, const char *const *allowed);

#endif
