/* Evaluation of a run's checkpoint on a split (`evaluate`): class error,
 * per-class errors, confusion matrix, reconstruction error of the top-down
 * pass and per-sample predictions, written to the store as one evaluation.
 * BN statistics: the checkpoint's running averages, or re-estimated in one
 * pass over training images (by default for checkpoints of fewer than
 * EVAL_RECALIBRATE_BELOW steps, whose running averages are not yet usable). */
#ifndef DRMM_EVALUATOR_H
#define DRMM_EVALUATOR_H

#include <stdint.h>

#include "store.h"

struct err_t;

#define EVAL_RECALIBRATE_BELOW 2000

typedef enum { EVAL_BN_AUTO = 0, EVAL_BN_RUNNING = 1, EVAL_BN_RECALIBRATE = 2 } eval_bn_mode;

typedef struct eval_options {
    int64_t run_id;
    int64_t checkpoint_id;     /* 0: the latest */
    int split;                 /* SPLIT_TEST or SPLIT_TRAIN */
    eval_bn_mode bn;
    int recalibrate_images;    /* training images for the re-estimation */
    int batch;                 /* images per pass */
    int threads;               /* 0: the run's */
    int limit;                 /* evaluate at most this many images (0: all) */
    int store_predictions;     /* write per-sample predictions */
    const char *grid_path;     /* a reconstruction grid PNG (recon_grid.h), or NULL */
    int grid_per_class;        /* images per class in the grid */
} eval_options;

void eval_options_default(eval_options *o);

typedef struct eval_result {
    int64_t evaluation_id, checkpoint_id;
    long checkpoint_step;
    int n;
    double error, recon_error, x2;   /* x2: mean(I^2), the error of rendering zero */
    double xvar;                     /* per-pixel variance about the channel means */
    double recon_true, recon_wrong;  /* recon_error rendering from the true / a wrong class */
    int recalibrated;
    double seconds;
} eval_result;

int evaluate_run(store *st, const eval_options *o, eval_result *r, struct err_t *e);

#endif
