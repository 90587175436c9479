/* A labelled image dataset in memory, as every source produces it (IDX,
 * CIFAR-10, PNG directory, the synthetic renderer) and as the store saves and
 * loads it.  Pixels are 8-bit, NCHW.  Each image belongs to a split (train or
 * test) and may carry nuisance latents (one float per latent name). */
#ifndef DRMM_DATASET_H
#define DRMM_DATASET_H

#include <stdint.h>

enum { SPLIT_TRAIN = 0, SPLIT_TEST = 1 };

typedef struct dataset {
    int n;                    /* number of images */
    int channels, height, width;
    uint8_t *pixels;          /* n * channels * height * width, NCHW */
    int *labels;              /* n, in [0, n_classes) */
    uint8_t *split;           /* n, SPLIT_TRAIN or SPLIT_TEST */
    int n_classes;
    char **class_names;       /* n_classes owned strings */
    int n_latents;
    char **latent_names;      /* n_latents owned strings */
    float *latents;           /* n * n_latents, row-major; NULL if n_latents == 0 */
    char *source;             /* owned: where the data came from, e.g. "idx:/usr/share/..." */
} dataset;

/* Allocates all arrays (zeroed; names NULL) for the given sizes.
 * Returns 0, or -1 with a message in e when memory is short. */
struct err_t;
int  dataset_alloc(dataset *d, int n, int channels, int height, int width,
                   int n_classes, int n_latents, struct err_t *e);
void dataset_free(dataset *d);
/* Number of pixels per image. */
static inline long dataset_image_size(const dataset *d)
{
    return (long)d->channels * d->height * d->width;
}

#endif
