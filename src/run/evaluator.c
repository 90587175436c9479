/* Evaluation of a checkpoint (see evaluator.h). */
#include "clock.h"
#include "evaluator.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "error.h"
#include "recon_grid.h"
#include "run_model.h"
#include "split_data.h"

void eval_options_default(eval_options *o)
{
    memset(o, 0, sizeof *o);
    o->split = SPLIT_TEST;
    o->bn = EVAL_BN_AUTO;
    o->recalibrate_images = 10000;
    o->batch = 100;
    o->store_predictions = 1;
    o->grid_per_class = 4;
}

int evaluate_run(store *st, const eval_options *o, eval_result *r, err_t *e)
{
    memset(r, 0, sizeof *r);
    if (o->batch < 2)
        return err_set(e, "batch must be at least 2");
    double t0 = clock_seconds();
    run_model rm;
    dataset d;
    split_data data, train;
    memset(&d, 0, sizeof d);
    memset(&data, 0, sizeof data);
    memset(&train, 0, sizeof train);
    float *probs = NULL, *ihat = NULL;
    drmm_acts *acts = NULL;
    int *pred = NULL, *wrong = NULL;
    double *cmean = NULL;
    long *confusion = NULL;
    double *class_err = NULL;
    recon_grid grid;
    memset(&grid, 0, sizeof grid);
    int rc = -1;
    if (run_model_open(st, o->run_id, o->checkpoint_id, o->threads, &rm, e))
        return -1;
    const int K = rm.arch.classes;
    if (store_get_dataset(st, rm.run.dataset, &d, e) || split_data_load(&d, o->split, o->limit, &data, e))
        goto done;
    if (data.pixels != rm.arch.channels * rm.arch.height * rm.arch.width) {
        err_input(e, "dataset %s does not match the run's architecture", rm.run.dataset);
        goto done;
    }
    r->checkpoint_id = rm.ckpt.id;
    r->checkpoint_step = rm.ckpt.step;
    if (drmm_acts_create(rm.m, o->batch, &acts, e))
        goto done;
    int recal = o->bn == EVAL_BN_RECALIBRATE || (o->bn == EVAL_BN_AUTO && rm.ckpt.step < EVAL_RECALIBRATE_BELOW);
    if (recal) {
        if (split_data_load(&d, SPLIT_TRAIN, o->recalibrate_images, &train, e) ||
            drmm_bn_recalibrate(rm.m, train.x, train.n, rm.cfg.batch, e))
            goto done;
        r->recalibrated = 1;
    }
    const int n = data.n, P = data.pixels;
    if (o->grid_path && recon_grid_init(&grid, K, o->grid_per_class, rm.arch.channels, rm.arch.height,
                                        rm.arch.width, e))
        goto done;
    probs = malloc(sizeof(float) * (size_t)n * K);
    pred = malloc(sizeof(int) * n);
    ihat = malloc(sizeof(float) * (size_t)o->batch * P);
    wrong = malloc(sizeof(int) * o->batch);
    confusion = calloc((size_t)K * K, sizeof(long));
    class_err = calloc(K, sizeof(double));
    if (!probs || !pred || !ihat || !wrong || !confusion || !class_err) {
        err_set(e, "out of memory");
        goto done;
    }
    /* the channels' means, for the variance about them (xvar) */
    const int C = rm.arch.channels, hw = P / C;
    cmean = calloc(C, sizeof(double));
    if (!cmean) {
        err_set(e, "out of memory");
        goto done;
    }
    for (long i = 0; i < n; i++)
        for (int c = 0; c < C; c++)
            for (int k = 0; k < hw; k++)
                cmean[c] += data.x[(size_t)i * P + (size_t)c * hw + k];
    for (int c = 0; c < C; c++)
        cmean[c] /= (double)n * hw;
    double rc_sum = 0, x2_sum = 0, var_sum = 0, render_sum[2] = {0, 0};   /* true, wrong class */
    int errors = 0;
    for (int s = 0; s < n; s += o->batch) {
        int rows = s + o->batch <= n ? o->batch : n - s;
        const float *x = data.x + (size_t)s * P;
        if (drmm_reconstruct(rm.m, acts, x, NULL, rows, ihat, e))
            goto done;
        memcpy(probs + (size_t)s * K, drmm_acts_probs(acts), sizeof(float) * rows * K);
        if (o->grid_path)
            recon_grid_add(&grid, x, ihat, data.labels + s, rows);
        for (long k = 0; k < (long)rows * P; k++) {
            double dlt = (double)x[k] - ihat[k], dm = (double)x[k] - cmean[(k % P) / hw];
            rc_sum += dlt * dlt;
            x2_sum += (double)x[k] * x[k];
            var_sum += dm * dm;
        }
        for (int i = s; i < s + rows; i++) {
            const float *q = probs + (size_t)i * K;
            int best = 0;
            for (int c = 1; c < K; c++)
                if (q[c] > q[best])
                    best = c;
            pred[i] = best;
            confusion[(long)data.labels[i] * K + best]++;
            errors += best != data.labels[i];
        }
    }
    /* what the class contributes: renderings from the true and a wrong class
       (the next classes in turn, so every wrong class is used) */
    for (int s = 0; s < n && K > 1; s += o->batch) {
        int rows = s + o->batch <= n ? o->batch : n - s;
        const float *x = data.x + (size_t)s * P;
        for (int i = 0; i < rows; i++)
            wrong[i] = (data.labels[s + i] + 1 + (s + i) % (K - 1)) % K;
        for (int pass = 0; pass < 2; pass++) {
            if (drmm_reconstruct(rm.m, acts, x, pass ? wrong : data.labels + s, rows, ihat, e))
                goto done;
            for (long k = 0; k < (long)rows * P; k++) {
                double dlt = (double)x[k] - ihat[k];
                render_sum[pass] += dlt * dlt;
            }
        }
    }
    for (int c = 0; c < K; c++) {
        long tot = 0;
        for (int j = 0; j < K; j++)
            tot += confusion[(long)c * K + j];
        class_err[c] = tot ? 1.0 - (double)confusion[(long)c * K + c] / tot : NAN;
    }
    r->n = n;
    r->error = (double)errors / n;
    r->recon_error = rc_sum / ((double)n * P);
    r->x2 = x2_sum / ((double)n * P);
    r->xvar = var_sum / ((double)n * P);
    r->recon_true = render_sum[0] / ((double)n * P);
    r->recon_wrong = render_sum[1] / ((double)n * P);
    if (o->grid_path &&
        recon_grid_write(&grid, d.n_classes == K ? (const char *const *)d.class_names : NULL, o->grid_path, e))
        goto done;
    store_evaluation ev = {.run_id = o->run_id, .checkpoint_id = rm.ckpt.id, .split = o->split, .n_images = n,
                           .error = r->error, .recon_error = r->recon_error, .x2 = r->x2,
                           .has_render = K > 1, .recon_true = r->recon_true, .recon_wrong = r->recon_wrong,
                           .xvar = r->xvar, .n_classes = K,
                           .class_errors = class_err, .confusion = confusion,
                           .n_predictions = o->store_predictions ? n : 0, .sample_idx = data.idx,
                           .labels = data.labels, .predicted = pred, .probs = probs};
    if (store_put_evaluation(st, &ev, &r->evaluation_id, e))
        goto done;
    r->seconds = clock_seconds() - t0;
    rc = 0;
done:
    free(probs); free(pred); free(wrong); free(cmean); free(ihat); free(confusion); free(class_err);
    drmm_acts_free(acts);
    recon_grid_free(&grid);
    split_data_free(&data);
    split_data_free(&train);
    dataset_free(&d);
    run_model_close(&rm);
    return rc;
}
