/*
 * builtin.h - the server's own module: /healthz, /readyz, /metrics and /v1/modules.
 */
#ifndef OC_ONCUE_BUILTIN_H
#define OC_ONCUE_BUILTIN_H

#include "core/module.h"

extern const struct oc_module builtin_module;

#endif
