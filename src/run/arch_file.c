/* Reading an architecture file for arch_parse (see arch_file.h). */
#include "arch_file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

/* path, or when there is no such file and path is a bare name, NAME or
 * NAME.arch in DRMM_ARCH_DIR (the build's; installed builds: the installed
 * architecture files).  The name opened goes to buf. */
static FILE *open_arch(const char *path, char *buf, size_t len)
{
    snprintf(buf, len, "%s", path);
    FILE *f = fopen(path, "rb");
    if (f || errno != ENOENT || strchr(path, '/'))
        return f;
    const char *fmts[2] = {"%s/%s", "%s/%s.arch"};
    for (int i = 0; i < 2 && !f; i++)
        if (snprintf(buf, len, fmts[i], DRMM_ARCH_DIR, path) < (int)len)
            f = fopen(buf, "rb");
    if (!f) {
        snprintf(buf, len, "%s", path);
        errno = ENOENT;
    }
    return f;
}

int arch_load(arch *a, const char *path_given, err_t *e)
{
    memset(a, 0, sizeof *a);
    char path[4096];
    FILE *f = open_arch(path_given, path, sizeof path);
    if (!f) {
        if (errno == ENOENT && !strchr(path, '/'))
            return err_input(e, "%s: cannot open architecture file: no such file here nor in %s (%s.arch)", path,
                             DRMM_ARCH_DIR, path);
        return err_input(e, "%s: cannot open architecture file: %m", path);
    }
    char *text = NULL;
    int rc = -1;
    if (fseek(f, 0, SEEK_END) != 0) {
        err_input(e, "%s: cannot read", path);
        goto done;
    }
    long n = ftell(f);
    if (n < 0 || n > (1 << 20)) {
        err_input(e, "%s: not a readable architecture file (size %ld; at most 1 MiB)", path, n);
        goto done;
    }
    rewind(f);
    text = malloc(n + 1);
    if (!text || fread(text, 1, n, f) != (size_t)n) {
        err_input(e, "%s: cannot read", path);
        goto done;
    }
    text[n] = 0;
    if (strlen(text) != (size_t)n) {
        err_input(e, "%s: contains a NUL byte: not a text file", path);
        goto done;
    }
    rc = arch_parse(a, text, path, e);
done:
    free(text);
    fclose(f);
    return rc;
}
