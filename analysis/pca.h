/* Principal component analysis of a data matrix X (n rows = samples, d
 * columns = features, row-major float32) without ever forming the d x d
 * covariance, which would not fit for layers of ~100,000 dimensions:
 *
 *   PCA_GRAM        exact: the n x n Gram matrix of the centred rows
 *                   (OpenBLAS ssyrk), its top k eigenpairs in double
 *                   (LAPACKE_dsyevr); costs n^2 d + O(n^3), for small n.
 *   PCA_RANDOMIZED  randomized subspace iteration (Halko, Martinsson and
 *                   Tropp 2011): Y = Xc Omega with k + oversample Gaussian
 *                   columns, then power_iters times Q = orth(Y),
 *                   Z = orth(Xc^T Q), Y = Xc Z (QR in double); finally the
 *                   Rayleigh-Ritz step: the exact SVD of Y = Xc Z (through
 *                   Y^T Y in double), i.e. the PCA of the rows projected on
 *                   the subspace Z found.  1 + 2 q thin sgemm passes over X
 *                   (7 with the default q = 3); centring is implicit (X is
 *                   never copied).
 *   PCA_AUTO        GRAM when n <= PCA_GRAM_MAX_N, else RANDOMIZED.
 *
 * Results: the scores (projections of the centred rows on the first k
 * principal axes, = U_k S_k), and the explained variances S^2 / (n - 1).
 * Each component's sign is fixed so that its largest-magnitude score is
 * positive.  Deterministic for a given seed (and OpenBLAS thread count). */
#ifndef DRMM_PCA_H
#define DRMM_PCA_H

#include <stdint.h>

struct err_t;

#define PCA_GRAM_MAX_N 2500

typedef enum { PCA_AUTO = 0, PCA_GRAM = 1, PCA_RANDOMIZED = 2 } pca_method;

typedef struct pca_options {
    int k;              /* components (1 <= k < min(n, d + 1)) */
    pca_method method;
    int oversample;     /* extra random columns (randomized) [10] */
    int power_iters;    /* subspace iterations (randomized) [3] */
    uint64_t seed;      /* of the Gaussian test matrix */
} pca_options;

void pca_options_default(pca_options *o);   /* k 10, AUTO, 10, 3, seed 1 */

/* X: n x d (not modified).  scores: n x k (caller-allocated), var: k
 * (may be NULL).  Returns 0, or -1 with a message in e (bad sizes are
 * ERR_INPUT). */
int pca_scores(const float *X, int n, long d, const pca_options *o, float *scores, double *var,
               struct err_t *e);

#endif
