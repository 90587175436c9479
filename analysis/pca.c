/* PCA through the Gram matrix or a randomized range finder (see pca.h). */
#include "pca.h"

#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "rng.h"

void pca_options_default(pca_options *o)
{
    o->k = 10;
    o->method = PCA_AUTO;
    o->oversample = 10;
    o->power_iters = 3;
    o->seed = 1;
}

/* Column means of X (n x d) into mu (ones^T X / n, by OpenBLAS). */
static int column_means(const float *X, int n, long d, float *mu)
{
    float *ones = malloc(sizeof(float) * n);
    if (!ones)
        return -1;
    for (int i = 0; i < n; i++)
        ones[i] = 1.0f / n;
    cblas_sgemv(CblasRowMajor, CblasTrans, n, (int)d, 1.0f, X, (int)d, ones, 1, 0.0f, mu, 1);
    free(ones);
    return 0;
}

/* Flips each column of scores (n x k) so its largest-magnitude entry is positive. */
static void fix_signs(float *scores, int n, int k)
{
    for (int c = 0; c < k; c++) {
        float best = 0;
        for (int i = 0; i < n; i++)
            if (fabsf(scores[(size_t)i * k + c]) > fabsf(best))
                best = scores[(size_t)i * k + c];
        if (best < 0)
            for (int i = 0; i < n; i++)
                scores[(size_t)i * k + c] = -scores[(size_t)i * k + c];
    }
}

static int pca_gram(const float *X, int n, long d, int k, const float *mu, float *scores, double *var, err_t *e)
{
    float *Xc = malloc(sizeof(float) * (size_t)n * d);
    float *G = malloc(sizeof(float) * (size_t)n * n);
    double *Gd = malloc(sizeof(double) * (size_t)n * n);
    double *w = malloc(sizeof(double) * n);
    double *Z = malloc(sizeof(double) * (size_t)n * k);
    lapack_int *isuppz = malloc(sizeof(lapack_int) * 2 * k);
    int rc = -1;
    if (!Xc || !G || !Gd || !w || !Z || !isuppz) {
        err_set(e, "PCA: out of memory for the %d x %d Gram matrix", n, n);
        goto done;
    }
    for (int i = 0; i < n; i++)
        for (long j = 0; j < d; j++)
            Xc[(size_t)i * d + j] = X[(size_t)i * d + j] - mu[j];
    cblas_ssyrk(CblasRowMajor, CblasUpper, CblasNoTrans, n, (int)d, 1.0f, Xc, (int)d, 0.0f, G, n);
    for (size_t i = 0; i < (size_t)n * n; i++)
        Gd[i] = G[i];
    lapack_int m;
    lapack_int info = LAPACKE_dsyevr(LAPACK_ROW_MAJOR, 'V', 'I', 'U', n, Gd, n, 0, 0, n - k + 1, n, 0.0,
                                     &m, w, Z, k, isuppz);
    if (info != 0 || m != k) {
        err_set(e, "PCA: dsyevr failed (info %d)", (int)info);
        goto done;
    }
    /* eigenvalues ascending: component c is column k-1-c; scores = u * sqrt(lambda) */
    for (int c = 0; c < k; c++) {
        double lam = w[k - 1 - c] > 0 ? w[k - 1 - c] : 0;
        double s = sqrt(lam);
        for (int i = 0; i < n; i++)
            scores[(size_t)i * k + c] = (float)(Z[(size_t)i * k + (k - 1 - c)] * s);
        if (var)
            var[c] = lam / (n - 1);
    }
    rc = 0;
done:
    free(Xc); free(G); free(Gd); free(w); free(Z); free(isuppz);
    return rc;
}

/* Orthonormalises the columns of A (rows x cols, row-major float) in place
 * by Householder QR in double. */
static int orthonormalise(float *A, long rows, int cols, double *work, err_t *e)
{
    double *tau = work + (size_t)rows * cols;
    for (size_t i = 0; i < (size_t)rows * cols; i++)
        work[i] = A[i];
    lapack_int info = LAPACKE_dgeqrf(LAPACK_ROW_MAJOR, (lapack_int)rows, cols, work, cols, tau);
    if (!info)
        info = LAPACKE_dorgqr(LAPACK_ROW_MAJOR, (lapack_int)rows, cols, cols, work, cols, tau);
    if (info)
        return err_set(e, "PCA: QR failed (info %d)", (int)info);
    for (size_t i = 0; i < (size_t)rows * cols; i++)
        A[i] = (float)work[i];
    return 0;
}

/* out (rows x l) -= ones(rows) * (v^T M) where M is (len x l) and v has len
 * entries: removes the centring term of a product. */
static void subtract_rank1(float *out, long rows, int l, const float *a, const float *M, long len, const float *v)
{
    /* t = v^T M (l), then out[i][c] -= a[i] * t[c] (a NULL means ones) */
    double t[512];
    for (int c = 0; c < l; c++)
        t[c] = 0;
    for (long j = 0; j < len; j++)
        for (int c = 0; c < l; c++)
            t[c] += (double)v[j] * M[(size_t)j * l + c];
    for (long i = 0; i < rows; i++)
        for (int c = 0; c < l; c++)
            out[(size_t)i * l + c] -= (float)((a ? a[i] : 1.0f) * t[c]);
}

static int pca_randomized(const float *X, int n, long d, const pca_options *o, const float *mu, float *scores,
                          double *var, err_t *e)
{
    const int k = o->k;
    int l = k + (o->oversample > 0 ? o->oversample : 0);
    if (l > n) l = n;
    if (l > d) l = (int)d;
    if (l > 512) l = 512;
    long big = (long)(n > d ? n : d);
    float *Om = malloc(sizeof(float) * (size_t)d * l);     /* also Z = Xc^T Q (d x l) */
    float *Y = malloc(sizeof(float) * (size_t)n * l);      /* Q (n x l) */
    double *work = malloc(sizeof(double) * ((size_t)big * l + l));
    double *Bd = NULL, *C = NULL, *w = NULL;
    int rc = -1;
    if (!Om || !Y || !work) {
        err_set(e, "PCA: out of memory");
        goto done;
    }
    rng_t r;
    rng_seed(&r, o->seed);
    for (size_t i = 0; i < (size_t)d * l; i++)
        Om[i] = (float)rng_normal(&r);
    /* Y = Xc Om */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, l, (int)d, 1.0f, X, (int)d, Om, l, 0.0f, Y, l);
    subtract_rank1(Y, n, l, NULL, Om, d, mu);
    for (int q = 0; q < o->power_iters; q++) {
        if (orthonormalise(Y, n, l, work, e))
            goto done;
        /* Z = orth(Xc^T Q), Xc^T Q = X^T Q - mu (1^T Q) */
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)d, l, n, 1.0f, X, (int)d, Y, l, 0.0f, Om, l);
        {
            double s[512];
            for (int c = 0; c < l; c++) s[c] = 0;
            for (int i = 0; i < n; i++)
                for (int c = 0; c < l; c++)
                    s[c] += Y[(size_t)i * l + c];
            for (long j = 0; j < d; j++)
                for (int c = 0; c < l; c++)
                    Om[(size_t)j * l + c] -= (float)(mu[j] * s[c]);
        }
        if (orthonormalise(Om, d, l, work, e))
            goto done;
        /* Y = Xc Z */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, l, (int)d, 1.0f, X, (int)d, Om, l, 0.0f, Y, l);
        subtract_rank1(Y, n, l, NULL, Om, d, mu);
    }
    /* Rayleigh-Ritz: Y = Xc Z with Z (d x l) orthonormal (or Gaussian when
     * power_iters = 0); the PCA of the rows projected on span(Z) is the SVD
     * Y = U S W^T, through C = Y^T Y = W S^2 W^T in double: scores = Y W. */
    C = malloc(sizeof(double) * (size_t)l * l);
    w = malloc(sizeof(double) * l);
    Bd = malloc(sizeof(double) * (size_t)n * l);
    if (!C || !w || !Bd) {
        err_set(e, "PCA: out of memory");
        goto done;
    }
    if (o->power_iters == 0 && orthonormalise(Om, d, l, work, e))
        goto done;
    if (o->power_iters == 0) {   /* Z = orth(Omega): recompute Y = Xc Z */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, l, (int)d, 1.0f, X, (int)d, Om, l, 0.0f, Y, l);
        subtract_rank1(Y, n, l, NULL, Om, d, mu);
    }
    for (size_t i = 0; i < (size_t)n * l; i++)
        Bd[i] = Y[i];
    cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, l, n, 1.0, Bd, l, 0.0, C, l);
    lapack_int info = LAPACKE_dsyev(LAPACK_ROW_MAJOR, 'V', 'U', l, C, l, w);
    if (info) {
        err_set(e, "PCA: dsyev failed (info %d)", (int)info);
        goto done;
    }
    for (int c = 0; c < k; c++) {
        int col = l - 1 - c;
        for (int i = 0; i < n; i++) {
            double acc = 0;
            for (int j = 0; j < l; j++)
                acc += Bd[(size_t)i * l + j] * C[(size_t)j * l + col];
            scores[(size_t)i * k + c] = (float)acc;
        }
        if (var)
            var[c] = (w[col] > 0 ? w[col] : 0) / (n - 1);
    }
    rc = 0;
done:
    free(Om); free(Y); free(work); free(Bd); free(C); free(w);
    return rc;
}

int pca_scores(const float *X, int n, long d, const pca_options *o, float *scores, double *var, err_t *e)
{
    if (n < 2 || d < 1)
        return err_input(e, "PCA needs at least 2 samples and 1 dimension (have %d x %ld)", n, d);
    if (o->k < 1 || o->k >= n || o->k > d)
        return err_input(e, "PCA: %d components need more than %d samples and at least %d dimensions (have %d x %ld)",
                         o->k, o->k, o->k, n, d);
    float *mu = malloc(sizeof(float) * d);
    if (!mu || column_means(X, n, d, mu)) {
        free(mu);
        return err_set(e, "PCA: out of memory");
    }
    pca_method m = o->method;
    if (m == PCA_AUTO)
        m = n <= PCA_GRAM_MAX_N ? PCA_GRAM : PCA_RANDOMIZED;
    int rc = m == PCA_GRAM ? pca_gram(X, n, d, o->k, mu, scores, var, e)
                           : pca_randomized(X, n, d, o, mu, scores, var, e);
    free(mu);
    if (!rc)
        fix_signs(scores, n, o->k);
    return rc;
}
