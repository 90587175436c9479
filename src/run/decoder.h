/* `decode`: the bottom-up pass of a run's checkpoint (evaluation mode) on
 * held-out images that carry nuisance latents, writing every requested
 * layer's activations to the store for the linear decoding analysis
 * (DRMM-SPEC section 7).  Layers: conv1..convN (the output of conv block N
 * after BN and ReLU, before pooling) and scores (the class scores).
 *
 * Storage (schema/002_decoding.sql): one byte per value with a per-sample
 * affine scale, for the first `samples` test images (default 2000).  A layer
 * with more than max_dims values (default 8192) is reduced to max_dims by a
 * fixed subsampled randomized Hadamard transform, which preserves inner
 * products (hence the Gram matrix, the PCA and the decoding) to about
 * 1/sqrt(max_dims).  So a sample costs at most max_dims bytes per layer
 * (+ two reals): ConvSmall (28x28) 8192 + 8192 + 8192 + 4608 + 360 + 10 =
 * 29,554 bytes, ConvLarge (32x32) 6 x 8192 + 2 x 6912 + 360 + 10 = 63,346
 * bytes; 2000 samples of a run take ~59 MB (ConvSmall) or ~127 MB
 * (ConvLarge), against 2000 x 4 x 66,674 = 533 MB (ConvSmall) or
 * 2000 x 4 x 508,402 = 4.07 GB (ConvLarge) as float32.
 *
 * Each layer is written in its own transaction; layers already present for
 * the checkpoint are skipped, so a rerun that finds them all does nothing.
 * BN statistics as in evaluate (evaluator.h): re-estimated on training
 * images for checkpoints of fewer than EVAL_RECALIBRATE_BELOW steps. */
#ifndef DRMM_DECODER_H
#define DRMM_DECODER_H

#include <stdint.h>

#include "evaluator.h"
#include "store.h"

struct err_t;

typedef struct decode_options {
    int64_t run_id;
    int64_t checkpoint_id;     /* 0: the latest */
    const char *layers;        /* comma-separated layer names; NULL or "all": every layer */
    int samples;               /* held-out images to decode [2000] (fewer if the split is smaller) */
    int max_dims;              /* values stored per sample and layer; 0: never project [8192] */
    uint64_t projection_seed;  /* [1] */
    eval_bn_mode bn;
    int recalibrate_images;    /* [10000] */
    int batch;                 /* [100] */
    int threads;               /* 0: the run's */
} decode_options;

void decode_options_default(decode_options *o);

typedef struct decode_result {
    int64_t checkpoint_id;
    int samples;               /* decoded images (0 when nothing was to do) */
    int layers_written, layers_present;
    long long bytes;           /* activation bytes written */
    int recalibrated;
    char status[16];           /* the run's status (decode does not require FINISHED) */
    double seconds;
} decode_result;

/* Errors of the request (unknown run, no checkpoint, dataset without
 * latents, unknown layer name) are ERR_INPUT. */
int decode_run(store *st, const decode_options *o, decode_result *r, struct err_t *e);

/* The subsampled randomized Hadamard transform used above, exposed for
 * tests: maps x (d values) to out (k values, k <= next power of two >= d). */
typedef struct srht {
    long d, p;                 /* input size, padded power of two */
    int k;
    float *sign;               /* p */
    int *coord;                /* k ascending */
    float *work;               /* p */
} srht;
int  srht_init(srht *t, long d, int k, uint64_t seed, struct err_t *e);
void srht_apply(srht *t, const float *x, float *out);
void srht_free(srht *t);

#endif
