/*
 * yamlj.h - a YAML file read as JSON: scalars become strings, sequences arrays, mappings
 * objects. Used by the lists of probed streams (probe.file) and scraped targets (scrape.file).
 */
#ifndef OC_CORE_YAMLJ_H
#define OC_CORE_YAMLJ_H

#include <jansson.h>
#include <stddef.h>

/* Reads the YAML (or JSON) list at path, at most max bytes, into a JSON array (*out, new
 * reference). what names the items in messages ("streams"). 0, or an oc_err with
 * "path[:line]: why" in err. */
int oc_yaml_list_load(const char *path, size_t max, const char *what, json_t **out /* OUT */,
                      char *err, size_t errlen);

#endif
