/*
 * setting.c - the storage side of a settings row: how wide a value is, and copying the
 * settings fields from one options struct to another (a module's init copies its block over
 * an options struct that also holds fields that are not settings).
 */
#include "core/setting.h"

#include <string.h>

/* Width of the value of s at its offset; see setting.h. */
size_t oc_setting_width(const struct oc_setting *s)
{
    if (s->type == OC_SETTING_U32)
        return sizeof(uint32_t);
    if (s->type == OC_SETTING_PCT)
        return sizeof(double);
    if (s->type == OC_SETTING_INT)
        return sizeof(int64_t);
    if (s->type == OC_SETTING_BOOL)
        return sizeof(int);
    return sizeof(char *);
}

/* Copies every row's field from src to dst; see setting.h. */
void oc_settings_copy(const struct oc_setting *table, void *dst, const void *src)
{
    for (const struct oc_setting *s = table; s && s->name; s++)
        memcpy((char *)dst + s->offset, (const char *)src + s->offset, oc_setting_width(s));
}
