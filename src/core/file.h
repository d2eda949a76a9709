/*
 * file.h - reading a whole file under a cap, for the loaders of YAML and CSV files; and
 * joining a file embedded in the binary as a list of lines.
 */
#ifndef OC_CORE_FILE_H
#define OC_CORE_FILE_H

#include <stddef.h>

/* Reads at most max + 1 bytes of path into a NUL-terminated heap buffer (*out, the caller
 * frees), so a caller's parser can tell a file over its cap ("larger than max") from one at
 * it. 0, or OC_EIO with "PATH: cannot open: reason" / "PATH: cannot read: reason" in err. */
int oc_read_file(const char *path, size_t max, char **out /* OUT */, size_t *n /* OUT */, char *err,
                 size_t errlen);

/* Joins lines (NULL-terminated; a shipped file embedded line by line, since ISO C caps one
 * string literal at 4095 bytes) into one NUL-terminated heap string (the caller frees); its
 * length in *len. */
char *oc_lines_join(const char *const *lines, size_t *len /* OUT */);

#endif
