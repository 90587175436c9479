/* Reading an architecture file for arch_parse (see arch_file.h). */
#include "arch_file.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

int arch_load(arch *a, const char *path, err_t *e)
{
    memset(a, 0, sizeof *a);
    FILE *f = fopen(path, "rb");
    if (!f)
        return err_input(e, "%s: cannot open architecture file: %m", path);
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
