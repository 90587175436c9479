/* MNIST-format IDX reader (see idx.h).  Files are read through zlib's gzread,
 * which also reads uncompressed files; header fields are big-endian.
 * Layout: magic (0,0,type=0x08,ndim), ndim uint32 sizes, then the bytes.
 * Ownership: the returned dataset owns all its memory. */
#include "idx.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "error.h"

const char *const idx_fashion_mnist_classes[10] = {
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"};
const char *const idx_mnist_classes[10] = {
    "0", "1", "2", "3", "4", "5", "6", "7", "8", "9"};

/* Reads exactly n bytes; distinguishes truncation from gzip corruption. */
static int read_exact(gzFile f, const char *path, void *buf, size_t n, const char *what, err_t *e)
{
    size_t got = 0;
    while (got < n) {
        size_t chunk = n - got > (1u << 30) ? (1u << 30) : n - got;
        int r = gzread(f, (char *)buf + got, (unsigned)chunk);
        if (r < 0) {
            int zerr;
            const char *m = gzerror(f, &zerr);
            return err_input(e, "%s: corrupt gzip data while reading %s (%s); re-download or re-extract the file",
                           path, what, m);
        }
        if (r == 0) {
            int zerr;
            const char *m = gzerror(f, &zerr);
            if (zerr != Z_OK && zerr != Z_BUF_ERROR)
                return err_input(e, "%s: corrupt gzip data while reading %s (%s); re-download the file", path, what, m);
            return err_input(e, "%s: truncated: %s ends after %zu of %zu bytes; re-download the file",
                           path, what, got, n);
        }
        got += (size_t)r;
    }
    return 0;
}

/* After the last record: no extra bytes may follow, and the gzip trailer
 * (CRC, length) must check out. */
static int check_end(gzFile f, const char *path, err_t *e)
{
    char extra[16];
    int r = gzread(f, extra, sizeof extra);
    if (r < 0) {
        int zerr;
        const char *m = gzerror(f, &zerr);
        return err_input(e, "%s: corrupt gzip data at the end of the file (%s); re-download the file", path, m);
    }
    if (r > 0)
        return err_input(e, "%s: unexpected bytes after the last record (the header's count is too small "
                          "or the file was appended to); re-download the file", path);
    int zerr;
    const char *m = gzerror(f, &zerr);
    if (zerr != Z_OK && zerr != Z_BUF_ERROR)
        return err_input(e, "%s: corrupt gzip data at the end of the file (%s); re-download the file", path, m);
    return 0;
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Opens path and reads the header: ndim must be want_ndim, type ubyte. */
static int open_idx(const char *path, int want_ndim, gzFile *out, uint32_t dims[3], err_t *e)
{
    *out = NULL;
    gzFile f = gzopen(path, "rb");
    if (!f)
        return err_set(e, "%s: cannot open (%s); check the path", path, errno ? strerror(errno) : "out of memory");
    gzbuffer(f, 1u << 17);
    uint8_t h[16];
    const char *kind = want_ndim == 3 ? "images (idx3-ubyte)" : "labels (idx1-ubyte)";
    if (read_exact(f, path, h, 4, "the magic number", e) < 0)
        goto fail;
    uint32_t magic = be32(h), want = 0x800u | (uint32_t)want_ndim;
    if (magic != want) {
        err_input(e, "%s: wrong magic number 0x%08x for IDX %s, expected 0x%08x; "
                   "check that this is the %s file and that images and labels are not swapped",
                path, magic, kind, want, kind);
        goto fail;
    }
    if (read_exact(f, path, h, 4 * (size_t)want_ndim, "the header", e) < 0)
        goto fail;
    for (int i = 0; i < want_ndim; i++)
        dims[i] = be32(h + 4 * i);
    *out = f;
    return 0;
fail:
    gzclose(f);
    return -1;
}

int idx_read(const idx_pair *pairs, int npairs, const char *const *class_names,
             int n_classes, const char *source, dataset *out, err_t *e)
{
    int rc = -1;
    gzFile *fi = calloc(npairs > 0 ? npairs : 1, sizeof *fi);
    gzFile *fl = calloc(npairs > 0 ? npairs : 1, sizeof *fl);
    uint32_t (*di)[3] = calloc(npairs > 0 ? npairs : 1, sizeof *di);
    uint8_t *lab = NULL;
    memset(out, 0, sizeof *out);
    if (!fi || !fl || !di) {
        err_set(e, "out of memory");
        goto done;
    }
    if (npairs <= 0 || n_classes <= 0 || n_classes > 256) {
        err_input(e, "idx: need at least one image/label pair and 1..256 classes");
        goto done;
    }
    /* Pass 1: headers, so the dataset is allocated once. */
    long total = 0;
    for (int p = 0; p < npairs; p++) {
        uint32_t dl[3] = {0};
        if (open_idx(pairs[p].images, 3, &fi[p], di[p], e) < 0 || open_idx(pairs[p].labels, 1, &fl[p], dl, e) < 0)
            goto done;
        if (di[p][1] == 0 || di[p][2] == 0 || di[p][1] > 4096 || di[p][2] > 4096) {
            err_input(e, "%s: implausible image size %ux%u in the header; the file is damaged or not an image file",
                    pairs[p].images, di[p][1], di[p][2]);
            goto done;
        }
        if (di[p][1] != di[0][1] || di[p][2] != di[0][2]) {
            err_input(e, "%s: images are %ux%u but %s has %ux%u; all files of one dataset must have the same size",
                    pairs[p].images, di[p][1], di[p][2], pairs[0].images, di[0][1], di[0][2]);
            goto done;
        }
        if (di[p][0] != dl[0]) {
            err_input(e, "%s: %u images but %s has %u labels; pass the matching pair of files",
                    pairs[p].images, di[p][0], pairs[p].labels, dl[0]);
            goto done;
        }
        total += di[p][0];
        if (total > 100000000L) {
            err_input(e, "%s: implausible image count %u in the header; the file is damaged", pairs[p].images, di[p][0]);
            goto done;
        }
    }
    if (total == 0) {
        err_input(e, "%s: holds 0 images (and %s 0 labels); a dataset needs at least one image", pairs[0].images,
                  pairs[0].labels);
        goto done;
    }
    if (dataset_alloc(out, (int)total, 1, (int)di[0][1], (int)di[0][2], n_classes, 0, e) < 0)
        goto done;
    /* Pass 2: data. */
    long at = 0;
    size_t isz = (size_t)di[0][1] * di[0][2];
    for (int p = 0; p < npairs; p++) {
        uint32_t n = di[p][0];
        if (read_exact(fi[p], pairs[p].images, out->pixels + (size_t)at * isz, (size_t)n * isz,
                       "the image data", e) < 0 || check_end(fi[p], pairs[p].images, e) < 0)
            goto done;
        free(lab);
        lab = malloc(n ? n : 1);
        if (!lab) {
            err_set(e, "out of memory");
            goto done;
        }
        if (read_exact(fl[p], pairs[p].labels, lab, n, "the label data", e) < 0 || check_end(fl[p], pairs[p].labels, e) < 0)
            goto done;
        for (uint32_t i = 0; i < n; i++) {
            if (lab[i] >= n_classes) {
                err_input(e, "%s: record %u: label %u out of range [0, %d); the file does not belong to a %d-class dataset",
                        pairs[p].labels, i, lab[i], n_classes, n_classes);
                goto done;
            }
            out->labels[at + i] = lab[i];
            out->split[at + i] = (uint8_t)pairs[p].split;
        }
        at += n;
    }
    for (int c = 0; c < n_classes; c++) {
        char num[16];
        snprintf(num, sizeof num, "%d", c);
        out->class_names[c] = strdup(class_names ? class_names[c] : num);
        if (!out->class_names[c]) {
            err_set(e, "out of memory");
            goto done;
        }
    }
    out->source = strdup(source ? source : pairs[0].images);
    if (!out->source) {
        err_set(e, "out of memory");
        goto done;
    }
    rc = 0;
done:
    for (int p = 0; fi && fl && p < npairs; p++) {
        if (fi[p]) gzclose(fi[p]);
        if (fl[p]) gzclose(fl[p]);
    }
    free(fi);
    free(fl);
    free(di);
    free(lab);
    if (rc < 0)
        dataset_free(out);
    return rc;
}
