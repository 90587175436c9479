/* Reader for MNIST-format IDX files (images idx3-ubyte + labels idx1-ubyte),
 * raw or gzip-compressed, into a dataset.  Several image/label pairs (e.g.
 * train and t10k) become one dataset, each pair tagged with its split. */
#ifndef DRMM_IDX_H
#define DRMM_IDX_H

#include "dataset.h"

struct err_t;

typedef struct idx_pair {
    const char *images;       /* path of an idx3-ubyte file, raw or .gz */
    const char *labels;       /* path of the matching idx1-ubyte file */
    int split;                /* SPLIT_TRAIN or SPLIT_TEST */
} idx_pair;

/* Class names the tool knows (10 each). */
extern const char *const idx_fashion_mnist_classes[10];
extern const char *const idx_mnist_classes[10];

/* Reads npairs pairs in order into *out (which the caller later frees with
 * dataset_free).  class_names gives n_classes names (copied); NULL means
 * names "0".."n_classes-1".  Every label must lie in [0, n_classes).
 * Checks magic numbers, dimensions, image count == label count, truncation,
 * trailing bytes and gzip integrity.  On failure *out is left empty and e
 * names the file, the record and what to do. */
int idx_read(const idx_pair *pairs, int npairs, const char *const *class_names,
             int n_classes, const char *source, dataset *out, struct err_t *e);

#endif
