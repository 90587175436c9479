/* Command-line helpers shared by the programs (see cli.h). */
#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "error.h"
#include "exitcodes.h"
#include "store.h"

int cli_long(const char *prog, const char *flag, const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (!*s || *end || errno || v < lo || v > hi) {
        fprintf(stderr, "%s: %s %s: expected an integer in [%ld, %ld]\n", prog, flag, s, lo, hi);
        return -1;
    }
    *out = v;
    return 0;
}

int cli_exit_status(const err_t *e)
{
    switch (store_fail_kind()) {
    case STORE_FAIL_STORE:
    case STORE_FAIL_BUSY: return EXIT_STORE;
    case STORE_FAIL_NOTFOUND:
    case STORE_FAIL_CONFLICT: return EXIT_BADDATA;
    default: return e->kind == ERR_INPUT ? EXIT_BADDATA : EXIT_RUNTIME;
    }
}

int cli_make_parent_dirs(const char *path)
{
    char buf[4096];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf) {
        errno = ENAMETOOLONG;
        return -1;
    }
    for (char *p = buf + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            if (mkdir(buf, 0777) && errno != EEXIST)
                return -1;
            *p = '/';
        }
    return 0;
}
