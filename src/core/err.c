/*
 * err.c - names for enum oc_err.
 */
#include "core/err.h"

const char *oc_strerror(int code)
{
    switch (code) {
    case OC_OK:
        return "ok";
    case OC_ENOMEM:
        return "out of memory";
    case OC_EINVAL:
        return "invalid argument";
    case OC_ETOOBIG:
        return "limit exceeded";
    case OC_ENOTFOUND:
        return "not found";
    case OC_EIO:
        return "i/o error";
    case OC_EDB:
        return "store error";
    case OC_ECONFLICT:
        return "conflict";
    case OC_EAUTH:
        return "unauthenticated";
    case OC_EPERM:
        return "forbidden";
    case OC_EBUSY:
        return "busy";
    case OC_EGONE:
        return "gone";
    case OC_EMALFORMED:
        return "malformed input";
    }
    return "unknown error";
}
