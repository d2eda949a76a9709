/*
 * yamlj.h - a YAML file read as JSON: scalars become strings, sequences arrays, mappings
 * objects. Used by the lists of probed streams (probe.file) and scraped targets (scrape.file),
 * and by the runbook review dates `oncue catalog check --runbooks` reads.
 */
#ifndef OC_CORE_YAMLJ_H
#define OC_CORE_YAMLJ_H

#include <jansson.h>
#include <stddef.h>

/* Reads the YAML (or JSON) document at path, at most max bytes, into JSON (*out, new
 * reference; an empty file is null). When key_lines is not NULL and the document is a
 * mapping, *key_lines is an object of its top-level keys and the 1-based line each is on
 * (new reference). 0, or an oc_err with "path[:line]: why" in err. */
int oc_yaml_load(const char *path, size_t max, json_t **out /* OUT */,
                 json_t **key_lines /* OUT, may be NULL */, char *err, size_t errlen);

/* Reads the YAML (or JSON) list at path, at most max bytes, into a JSON array (*out, new
 * reference). what names the items in messages ("streams"). 0, or an oc_err with
 * "path[:line]: why" in err. */
int oc_yaml_list_load(const char *path, size_t max, const char *what, json_t **out /* OUT */,
                      char *err, size_t errlen);

#endif
