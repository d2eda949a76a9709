/*
 * setting.h - the row type of a settings table (Fluent Bit's config_map is the model).
 *
 * A module declares its settings as a static const table of struct oc_setting ending in {0}
 * (see struct oc_module's .settings); each row says where its value lives in the module's own
 * options struct (offsetof). config/ walks these rows for defaults, the YAML file, --set,
 * `oncue serve --help` and docs/config.md, so a setting is declared in one place. This header
 * holds only the type: parsing and defaults live in config/ (config_settings_defaults).
 */
#ifndef OC_CORE_SETTING_H
#define OC_CORE_SETTING_H

#include <stddef.h>
#include <stdint.h>

/* What text a setting accepts (and how docs/config.md names its type). */
enum oc_setting_type {
    OC_SETTING_STR = 1, /* any string */
    OC_SETTING_INT,     /* a decimal integer within [min, max] */
    OC_SETTING_BOOL,    /* true/false/yes/no/on/off */
    OC_SETTING_ENUM,    /* one of choices */
    OC_SETTING_ADDR,    /* "IPv4:PORT" or "[IPv6]:PORT", port 0-65535 */
    OC_SETTING_U32,     /* as INT, stored as uint32_t (max must fit) */
    OC_SETTING_PCT,     /* as INT (a percentage), stored as a double share: value / 100 */
};
/* Stored as: int64_t for INT, int for BOOL, uint32_t for U32, double for PCT, char * for STR,
 * ENUM and ADDR (NULL, the row's static def, or a string the config owns). All three integer
 * types read and document the same ("integer"). */

struct oc_setting {
    const char *name;           /* dotted path, e.g. "incident.recovery_window_s" */
    enum oc_setting_type type;  /* accepted text and how it is stored */
    const char *def;            /* default, as it would be written in the file */
    int64_t min, max;           /* bounds for the integer types */
    const char *const *choices; /* NULL-terminated, for OC_SETTING_ENUM */
    size_t offset;              /* offsetof(options struct, field) */
    const char *flag;           /* command-line flag of `oncue serve`, or NULL */
    const char *desc;           /* one line */
};

/* Bytes the value of row s takes at its offset (8 for int64_t, 4 for int, ...). */
size_t oc_setting_width(const struct oc_setting *s);
/* Copies the value of every row of table (ending in {0}) from src to dst, two structs of the
 * same options type; other fields of dst are left alone. Strings are copied as pointers:
 * dst borrows them from src's owner. */
void oc_settings_copy(const struct oc_setting *table, void *dst, const void *src);

#endif
