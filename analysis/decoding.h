/* Linear decoding of nuisance latents from a layer's activations
 * (DRMM-SPEC section 7, Figure 4): PCA of the activations (pca.h), each
 * latent quantised into equal-frequency bins (bins.h), and a multinomial
 * logistic regression (logreg.h) predicting the bin from the standardised
 * principal components, scored by k-fold cross-validation: every sample is
 * predicted once by the model fitted on the other folds, and the error is
 * the fraction of wrong bins.  Chance is the error of the best constant
 * guess, 1 - (share of the most frequent bin): 1 - 1/bins = 0.9 for 10
 * balanced bins.  (Scoring "predict the training folds' majority bin" by
 * cross-validation instead would give ~0.92 for balanced bins, because the
 * training majority is the bin the held-out fold has least of.)  The PCA is fitted once on all samples: it never sees
 * the latents, so it leaks nothing about them into the held-out folds. */
#ifndef DRMM_DECODING_H
#define DRMM_DECODING_H

#include <stdint.h>

#include "logreg.h"
#include "pca.h"

struct err_t;

typedef struct decoding_options {
    int bins;               /* [10] */
    int folds;              /* [5] */
    uint64_t seed;          /* fold assignment [1] */
    int threads;            /* latents fitted in parallel [1] */
    pca_options pca;        /* components in pca.k [10] */
    logreg_options lr;
} decoding_options;

void decoding_options_default(decoding_options *o);

typedef struct decoding_out {
    double error, chance;
    int bins_used;
} decoding_out;

/* Cross-validated error of predicting bin[] (n values in [0, nbins)) from
 * features Z (n x k).  Needs folds >= 2 and n >= folds. */
int decoding_cv(const float *Z, int n, int k, const int *bin, int nbins, int folds, uint64_t seed,
                const logreg_options *lr, double *error, double *chance, struct err_t *e);

/* The whole analysis of one layer: X (n x d activations), nl latents
 * (latent[j] has n values; circular[j] says it is an angle in degrees).
 * out: nl results; *explained (may be NULL): the fraction of the total
 * variance in the principal components. */
int decoding_analyse(const float *X, int n, long d, const float *const *latent, const int *circular, int nl,
                     const decoding_options *o, decoding_out *out, double *explained, struct err_t *e);

#endif
