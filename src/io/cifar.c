/* CIFAR-10 binary batch reader (see cifar.h).  Sizes are checked from
 * fstat before anything is read, so a truncated record is reported with its
 * index.  Ownership: the returned dataset owns all its memory. */
#include "cifar.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"

const char *const cifar10_classes[10] = {
    "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"};

/* Reads up to 10 non-empty lines of meta into names (owned strings). */
static int read_meta(const char *path, char *names[10], err_t *e)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return err_set(e, "%s: cannot open (%s); check the permissions or remove the file", path, strerror(errno));
    char line[256];
    int n = 0, lineno = 0, rc = -1;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        size_t len = strcspn(line, "\r\n");
        line[len] = '\0';
        if (len == 0)
            continue;
        if (n == 10) {
            err_input(e, "%s:%d: more than 10 class names; CIFAR-10 has 10 classes", path, lineno);
            goto done;
        }
        if (!(names[n++] = strdup(line))) {
            err_set(e, "out of memory");
            goto done;
        }
    }
    if (ferror(f)) {
        err_set(e, "%s: read error (%s)", path, strerror(errno));
        goto done;
    }
    if (n != 10) {
        err_input(e, "%s: %d class names, expected 10 (one per line); fix or remove the file", path, n);
        goto done;
    }
    rc = 0;
done:
    fclose(f);
    if (rc < 0)
        for (int i = 0; i < n; i++) {
            free(names[i]);
            names[i] = NULL;
        }
    return rc;
}

int cifar10_read_files(const char *const *paths, const int *splits, int nfiles,
                       const char *meta_path, dataset *out, err_t *e)
{
    int rc = -1;
    FILE *f = NULL;
    char *names[10] = {0};
    uint8_t *rec = NULL;
    long total = 0;
    memset(out, 0, sizeof *out);
    if (nfiles <= 0)
        return err_input(e, "cifar10: no batch files given");
    for (int i = 0; i < nfiles; i++) {
        struct stat st;
        if (stat(paths[i], &st) < 0)
            return err_set(e, "%s: cannot open (%s); check the path", paths[i], strerror(errno));
        if (!S_ISREG(st.st_mode))
            return err_input(e, "%s: not a regular file; pass a CIFAR-10 binary batch", paths[i]);
        if (st.st_size == 0)
            return err_input(e, "%s: empty file; re-download the CIFAR-10 binary version", paths[i]);
        if (st.st_size % CIFAR_RECORD)
            return err_input(e, "%s: truncated: record %ld is incomplete (file size %lld is not a multiple of "
                              "%d bytes per record); re-download the CIFAR-10 binary version",
                           paths[i], (long)(st.st_size / CIFAR_RECORD), (long long)st.st_size, CIFAR_RECORD);
        total += st.st_size / CIFAR_RECORD;
    }
    if (meta_path && read_meta(meta_path, names, e) < 0)
        goto done;
    if (total > 100000000L) {
        err_set(e, "cifar10: implausibly many records (%ld)", total);
        goto done;
    }
    if (dataset_alloc(out, (int)total, 3, 32, 32, 10, 0, e) < 0)
        goto done;
    rec = malloc(CIFAR_RECORD);
    if (!rec) {
        err_set(e, "out of memory");
        goto done;
    }
    long at = 0;
    for (int i = 0; i < nfiles; i++) {
        f = fopen(paths[i], "rb");
        if (!f) {
            err_set(e, "%s: cannot open (%s); check the permissions", paths[i], strerror(errno));
            goto done;
        }
        long r = 0;
        size_t got;
        while ((got = fread(rec, 1, CIFAR_RECORD, f)) > 0) {
            if (got != CIFAR_RECORD || at >= total) {
                err_set(e, "%s: record %ld: the file changed while it was read; retry", paths[i], r);
                goto done;
            }
            if (rec[0] >= 10) {
                err_input(e, "%s: record %ld: label %u out of range [0, 10); this is not a CIFAR-10 binary batch "
                           "(CIFAR-100 has 2 label bytes)", paths[i], r, rec[0]);
                goto done;
            }
            out->labels[at] = rec[0];
            out->split[at] = (uint8_t)splits[i];
            memcpy(out->pixels + (size_t)at * 3072, rec + 1, 3072);
            at++;
            r++;
        }
        if (ferror(f)) {
            err_set(e, "%s: read error at record %ld (%s)", paths[i], r, strerror(errno));
            goto done;
        }
        fclose(f);
        f = NULL;
    }
    if (at != total) {
        err_set(e, "cifar10: the files changed while they were read; retry");
        goto done;
    }
    for (int c = 0; c < 10; c++) {
        out->class_names[c] = names[c] ? names[c] : strdup(cifar10_classes[c]);
        names[c] = NULL;
        if (!out->class_names[c]) {
            err_set(e, "out of memory");
            goto done;
        }
    }
    size_t sl = strlen(paths[0]) + 16;
    out->source = malloc(sl);
    if (!out->source) {
        err_set(e, "out of memory");
        goto done;
    }
    snprintf(out->source, sl, "cifar10:%s", paths[0]);
    rc = 0;
done:
    if (f)
        fclose(f);
    free(rec);
    for (int c = 0; c < 10; c++)
        free(names[c]);
    if (rc < 0)
        dataset_free(out);
    return rc;
}

int cifar10_read_dir(const char *dir, dataset *out, err_t *e)
{
    static const char *const base[6] = {"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin",
                                        "data_batch_4.bin", "data_batch_5.bin", "test_batch.bin"};
    static const int splits[6] = {SPLIT_TRAIN, SPLIT_TRAIN, SPLIT_TRAIN, SPLIT_TRAIN, SPLIT_TRAIN, SPLIT_TEST};
    char paths[6][4096], meta[4096];
    const char *p[6];
    int rc;
    for (int i = 0; i < 6; i++) {
        snprintf(paths[i], sizeof paths[i], "%s/%s", dir, base[i]);
        p[i] = paths[i];
        if (access(p[i], F_OK) < 0)
            return err_set(e, "%s: missing; a CIFAR-10 directory holds data_batch_1..5.bin and test_batch.bin "
                              "(the binary version, cifar-10-batches-bin)", p[i]);
    }
    snprintf(meta, sizeof meta, "%s/batches.meta.txt", dir);
    rc = cifar10_read_files(p, splits, 6, access(meta, F_OK) == 0 ? meta : NULL, out, e);
    if (rc == 0) {
        size_t sl = strlen(dir) + 16;
        char *s = malloc(sl);
        if (!s) {
            dataset_free(out);
            return err_set(e, "out of memory");
        }
        snprintf(s, sl, "cifar10:%s", dir);
        free(out->source);
        out->source = s;
    }
    return rc;
}
