/* Command-line helpers shared by the programs (see cli.h). */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "error.h"
#include "exitcodes.h"
#include "store.h"
#include "version.h"

/* Levenshtein distance of a[0..na) and b[0..nb), names of at most 63 characters. */
static int edit_distance(const char *a, size_t na, const char *b, size_t nb)
{
    int prev[64], cur[64];
    if (na > 63 || nb > 63)
        return 99;
    for (size_t j = 0; j <= nb; j++)
        prev[j] = (int)j;
    for (size_t i = 1; i <= na; i++) {
        cur[0] = (int)i;
        for (size_t j = 1; j <= nb; j++) {
            int sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
            int del = prev[j] + 1, ins = cur[j - 1] + 1;
            cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
        }
        memcpy(prev, cur, sizeof(int) * (nb + 1));
    }
    return prev[nb];
}

/* The closest name to name[0..n) (see cli.h). */
static const char *closest(const char *name, size_t n, const struct option *opts)
{
    const char *best = NULL;
    int best_d = 99;
    for (const struct option *o = opts; o->name; o++) {
        size_t on = strlen(o->name);
        int d = n < on && strncmp(name, o->name, n) == 0 ? 1 : edit_distance(name, n, o->name, on);
        if (d < best_d) {
            best_d = d;
            best = o->name;
        }
    }
    int limit = n < 6 ? 2 : (int)n / 3;
    return best_d <= limit ? best : NULL;
}

const char *cli_closest_option(const char *name, const struct option *opts)
{
    return closest(name, strlen(name), opts);
}

int cli_check_options(const char *prog, int argc, char *const *argv, const struct option *opts)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0)
            break;
        if (strncmp(a, "--", 2) != 0)
            continue;
        const char *name = a + 2, *eq = strchr(name, '=');
        size_t n = eq ? (size_t)(eq - name) : strlen(name);
        const struct option *o = opts;
        while (o->name && !(strlen(o->name) == n && strncmp(o->name, name, n) == 0))
            o++;
        if (o->name) {
            if (o->has_arg == required_argument && !eq)
                i++;
            continue;
        }
        const char *c = closest(name, n, opts);
        fprintf(stderr, "%s: unknown option --%.*s", prog, (int)n, name);
        if (c)
            fprintf(stderr, "; did you mean --%s?", c);
        fprintf(stderr, " (try --help)\n");
        return -1;
    }
    return 0;
}

void cli_print_version(const char *prog)
{
    printf("%s (drmm) %s, git %s%s\n", prog, drmm_version, drmm_git_commit, drmm_git_dirty ? " (dirty)" : "");
}

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

int cli_no_operands(const char *prog, int argc, char *const *argv)
{
    if (optind >= argc)
        return 0;
    fprintf(stderr, "%s: unexpected argument '%s'; try --help\n", prog, argv[optind]);
    return -1;
}
