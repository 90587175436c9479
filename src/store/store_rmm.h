/* Fits of the shallow Rendering Mixture Model in the store (schema
 * migration 11: rmm_fits, rmm_loglik): one row per fit with its settings,
 * final templates and noise variance, and the log-likelihood of every EM
 * iteration. */
#ifndef DRMM_STORE_RMM_H
#define DRMM_STORE_RMM_H

#include <stdint.h>

#include "store.h"

typedef struct store_rmm_fit {
    const char *dataset;          /* by name */
    int components, patch, stride, images;
    long patches;
    uint64_t seed;
    double sigma2;
    const float *templates;       /* components x dim */
    int dim;
    const double *loglik;         /* iterations values: mean log-likelihood per patch, iteration 1.. */
    int iterations;
} store_rmm_fit;

/* Records a fit and its log-likelihoods in one transaction; *id receives
 * the fit's id.  On failure the store is as it was. */
int store_put_rmm_fit(store *s, const store_rmm_fit *f, int64_t *id, struct err_t *e);

#endif
