/* PNG-directory reader (see pngdir.h): the CSV is validated completely
 * before any image is decoded; images are converted from HWC to CHW.
 * Ownership: the returned dataset owns all its memory. */
#include "pngdir.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "csv.h"
#include "error.h"
#include "pngio.h"

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int ends_with_png(const char *s)
{
    size_t n = strlen(s);
    return n > 4 && strcasecmp(s + n - 4, ".png") == 0;
}

int pngdir_read(const char *dir, const char *csv_path, int n_classes, dataset *out, err_t *e)
{
    int rc = -1;
    csv_table t;
    long *labels = NULL;
    uint8_t *splits = NULL;
    uint8_t *img = NULL;
    char **sorted = NULL;
    DIR *dp = NULL;
    memset(out, 0, sizeof *out);
    if (csv_read(csv_path, &t, e) < 0)
        return -1;
    if (t.ncols < 2 || strcmp(t.header[0], "file") != 0 || strcmp(t.header[1], "label") != 0) {
        err_input(e, "%s:1: header must start with 'file,label' (then optionally 'split' and latent columns); "
                   "fix the header", csv_path);
        goto done;
    }
    if (t.nrows == 0) {
        err_input(e, "%s: no rows after the header; list one image per line", csv_path);
        goto done;
    }
    int split_col = t.ncols > 2 && strcmp(t.header[2], "split") == 0 ? 2 : -1;
    int lat0 = split_col == 2 ? 3 : 2, n_lat = t.ncols - lat0;
    labels = malloc(t.nrows * sizeof *labels);
    splits = malloc(t.nrows);
    sorted = malloc(t.nrows * sizeof *sorted);
    if (!labels || !splits || !sorted) {
        err_set(e, "out of memory");
        goto done;
    }
    long max_label = 0;
    for (int r = 0; r < t.nrows; r++) {
        const char *file = t.rows[r][0];
        if (file[0] == '\0' || strchr(file, '/') || !ends_with_png(file)) {
            err_input(e, "%s:%d:1: field 'file' is '%s', expected a PNG file name inside %s (no '/'); fix the row",
                    csv_path, t.lines[r], file, dir);
            goto done;
        }
        sorted[r] = t.rows[r][0];
        if (csv_get_long(&t, r, 1, &labels[r], e) < 0)
            goto done;
        if (labels[r] < 0 || (n_classes > 0 && labels[r] >= n_classes) || labels[r] >= 65536) {
            err_input(e, "%s:%d:2: field 'label' is %ld, out of range [0, %d); fix the label%s",
                    csv_path, t.lines[r], labels[r], n_classes > 0 ? n_classes : 65536,
                    n_classes > 0 ? " or raise the number of classes" : "");
            goto done;
        }
        if (labels[r] > max_label)
            max_label = labels[r];
        splits[r] = SPLIT_TRAIN;
        if (split_col >= 0) {
            const char *s = t.rows[r][split_col];
            if (strcmp(s, "train") == 0 || strcmp(s, "0") == 0)
                splits[r] = SPLIT_TRAIN;
            else if (strcmp(s, "test") == 0 || strcmp(s, "1") == 0)
                splits[r] = SPLIT_TEST;
            else {
                err_input(e, "%s:%d:3: field 'split' is '%s', expected train, test, 0 or 1; fix the value",
                        csv_path, t.lines[r], s);
                goto done;
            }
        }
        for (int c = lat0; c < t.ncols; c++) {
            double v;
            if (csv_get_double(&t, r, c, &v, e) < 0)
                goto done;
        }
    }
    qsort(sorted, t.nrows, sizeof *sorted, cmp_str);
    for (int r = 1; r < t.nrows; r++)
        if (strcmp(sorted[r], sorted[r - 1]) == 0) {
            err_input(e, "%s: file '%s' is listed more than once; keep one row per image", csv_path, sorted[r]);
            goto done;
        }
    /* Every PNG in the directory must be listed. */
    dp = opendir(dir);
    if (!dp) {
        err_set(e, "%s: cannot open directory (%s); check the path", dir, strerror(errno));
        goto done;
    }
    struct dirent *de;
    while ((de = readdir(dp))) {
        if (!ends_with_png(de->d_name))
            continue;
        const char *key = de->d_name;
        if (!bsearch(&key, sorted, t.nrows, sizeof *sorted, cmp_str)) {
            err_input(e, "%s/%s: not listed in %s; add a row for it or move it out of the directory",
                    dir, de->d_name, csv_path);
            goto done;
        }
    }
    /* Decode in CSV order. */
    char path[4096];
    int w0 = 0, h0 = 0, c0 = 0;
    for (int r = 0; r < t.nrows; r++) {
        int w, h, ch;
        snprintf(path, sizeof path, "%s/%s", dir, t.rows[r][0]);
        struct stat st;
        if (stat(path, &st) < 0) {
            err_input(e, "%s:%d:1: image '%s' not found in %s; fix the name or add the file",
                    csv_path, t.lines[r], t.rows[r][0], dir);
            goto done;
        }
        if (png_read(path, &img, &w, &h, &ch, e) < 0) {
            err_prefix(e, "%s:%d", csv_path, t.lines[r]);
            goto done;
        }
        if (r == 0) {
            w0 = w; h0 = h; c0 = ch;
            if (dataset_alloc(out, t.nrows, ch, h, w, n_classes > 0 ? n_classes : (int)max_label + 1, n_lat, e) < 0)
                goto done;
        } else if (w != w0 || h != h0 || ch != c0) {
            err_input(e, "%s: image is %dx%d with %d channel(s) but %s/%s is %dx%d with %d; "
                       "all images must have the same size and colour type",
                    path, w, h, ch, dir, t.rows[0][0], w0, h0, c0);
            goto done;
        }
        uint8_t *dst = out->pixels + (size_t)r * ch * h * w;
        for (int c = 0; c < ch; c++)
            for (int i = 0; i < h * w; i++)
                dst[(size_t)c * h * w + i] = img[(size_t)i * ch + c];
        free(img);
        img = NULL;
        out->labels[r] = (int)labels[r];
        out->split[r] = splits[r];
        for (int c = lat0; c < t.ncols; c++) {
            double v;
            csv_get_double(&t, r, c, &v, NULL);
            out->latents[(size_t)r * n_lat + (c - lat0)] = (float)v;
        }
    }
    for (int c = 0; c < out->n_classes; c++) {
        char num[16];
        snprintf(num, sizeof num, "%d", c);
        if (!(out->class_names[c] = strdup(num))) {
            err_set(e, "out of memory");
            goto done;
        }
    }
    for (int l = 0; l < n_lat; l++)
        if (!(out->latent_names[l] = strdup(t.header[lat0 + l]))) {
            err_set(e, "out of memory");
            goto done;
        }
    size_t sl = strlen(dir) + 8;
    if (!(out->source = malloc(sl))) {
        err_set(e, "out of memory");
        goto done;
    }
    snprintf(out->source, sl, "png:%s", dir);
    rc = 0;
done:
    if (dp)
        closedir(dp);
    free(img);
    free(labels);
    free(splits);
    free(sorted);
    csv_free(&t);
    if (rc < 0)
        dataset_free(out);
    return rc;
}
