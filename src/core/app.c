/*
 * app.c - the composition root's registry of provided instances (see module.h): a short list
 * searched by name, written only while modules start and stop.
 */
#include "core/module.h"
#include "core/err.h"

#include <string.h>

int oc_app_provide(struct oc_app *app, const char *name, void *ptr)
{
    if (oc_app_find(app, name))
        return OC_ECONFLICT;
    if (app->nprovided == OC_APP_MAX_PROVIDED)
        return OC_ETOOBIG;
    app->provided[app->nprovided++] = (struct oc_provided){name, ptr};
    return 0;
}

void *oc_app_find(const struct oc_app *app, const char *name)
{
    for (int i = 0; app && i < app->nprovided; i++)
        if (strcmp(app->provided[i].name, name) == 0)
            return app->provided[i].ptr;
    return NULL;
}

void oc_app_withdraw(struct oc_app *app, const char *name)
{
    int j = 0;
    for (int i = 0; i < app->nprovided; i++)
        if (strcmp(app->provided[i].name, name) != 0)
            app->provided[j++] = app->provided[i];
    app->nprovided = j;
}
