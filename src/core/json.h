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

/* Parses n bytes. On failure returns OC_EINVAL and writes "line L column C: reason" into
 * err (errlen bytes). The caller owns *out (json_decref). */
int oc_json_parse(const char *p, size_t n, json_t **out /* OUT */, char *err, size_t errlen);
/* The string member key of obj: 0, OC_ENOTFOUND (absent or null) or OC_EINVAL (not a string).
 * *out points into obj. */
int oc_json_get_str(const json_t *obj, const char *key, const char **out /* OUT */);
/* The integer member key of obj (a real with no fraction is accepted): 0, OC_ENOTFOUND or
 * OC_EINVAL. */
int oc_json_get_int(const json_t *obj, const char *key, int64_t *out /* OUT */);
/* The numeric member key of obj: 0, OC_ENOTFOUND or OC_EINVAL. */
int oc_json_get_num(const json_t *obj, const char *key, double *out /* OUT */);
/* The boolean member key of obj: 0, OC_ENOTFOUND or OC_EINVAL. */
int oc_json_get_bool(const json_t *obj, const char *key, int *out /* OUT */);
/* Appends the compact serialization of v to b: 0 or OC_ETOOBIG. */
int oc_json_dump(const json_t *v, struct oc_buf *b);
/* The first member of obj whose name is not in allowed (a NULL-terminated list), or NULL. */
const char *oc_json_unknown_key(const json_t *obj, const char *const *allowed);

#endif
