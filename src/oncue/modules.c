/*
 * modules.c - the modules `oncue serve` can run, in start order.
 *
 * A capability plugs in by adding its `x_module` here; main.c and serve.c never change.
 */
#include "oncue/commands.h"
#include "auth/auth.h"
#include "oncue/builtin.h"

const struct oc_module *const oc_modules[] = {
    &builtin_module,
    &auth_module,
    NULL,
};
