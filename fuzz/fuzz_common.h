/* Shared by the fuzz harnesses (libFuzzer, built by `make fuzz`): the
 * loaders read files, so each input is written to a file in a private
 * directory first.  Static functions: include once per harness. */
#ifndef DRMM_FUZZ_COMMON_H
#define DRMM_FUZZ_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char fuzz_dir[256];

/* The directory (created once) and dir/name in buf. */
static const char *fuzz_path(char *buf, size_t n, const char *name)
{
    if (!fuzz_dir[0]) {
        const char *t = getenv("TMPDIR");
        snprintf(fuzz_dir, sizeof fuzz_dir, "%s/drmm-fuzz-XXXXXX", t && *t ? t : "/tmp");
        if (!mkdtemp(fuzz_dir))
            abort();
    }
    snprintf(buf, n, "%s/%s", fuzz_dir, name);
    return buf;
}

static void fuzz_write(const char *path, const uint8_t *d, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f || (n && fwrite(d, 1, n, f) != n) || fclose(f) != 0)
        abort();
}

#endif
