/*
 * err.h - the error codes every fallible oncue function returns.
 *
 * A fallible function returns int: 0 on success, a negative enum oc_err otherwise.
 * oc_strerror() names a code; the HTTP layer maps codes to statuses in one place.
 */
#ifndef OC_CORE_ERR_H
#define OC_CORE_ERR_H

enum oc_err {
    OC_OK = 0,
    OC_ENOMEM = -1,      /* allocation failed (only where we do not abort) */
    OC_EINVAL = -2,      /* invalid argument or malformed input (HTTP 422) */
    OC_ETOOBIG = -3,     /* a hard cap was reached */
    OC_ENOTFOUND = -4,   /* no such object */
    OC_EIO = -5,         /* operating-system I/O error */
    OC_EDB = -6,         /* the store failed */
    OC_ECONFLICT = -7,   /* conflicts with existing state */
    OC_EAUTH = -8,       /* missing or unknown credentials */
    OC_EPERM = -9,       /* authenticated but not allowed */
    OC_EBUSY = -10,      /* overloaded; try again later */
    OC_EGONE = -11,      /* the object existed and was retired */
    OC_EMALFORMED = -12, /* a required input is missing or does not parse (HTTP 400) */
};

/* Returns a static, human-readable name for code (never NULL). */
const char *oc_strerror(int code);

#endif
