/* The images of one split of a dataset as float32 in [0, 1] (pixel / 255),
 * ready for the engine, with their labels and dataset indices. */
#ifndef DRMM_SPLIT_DATA_H
#define DRMM_SPLIT_DATA_H

#include "dataset.h"

struct err_t;

typedef struct split_data {
    int n;          /* images */
    int pixels;     /* floats per image */
    float *x;       /* n * pixels, owned */
    int *labels;    /* n, owned */
    int *idx;       /* n dataset indices (images.idx), owned */
} split_data;

/* The images of `split`, in dataset order; at most limit of them (0: all). */
int  split_data_load(const dataset *d, int split, int limit, split_data *out, struct err_t *e);
void split_data_free(split_data *s);

#endif
