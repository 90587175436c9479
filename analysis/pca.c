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

/* Column means of X (n x d) in double, then stored as float in mu. */
static void column_means(const float *X, int n, long d, float *mu, double *acc)
{
    memset(acc, 0, sizeof(double) * d);
    for (int i = 0; i < n; i++) {
        const float *x = X + (size_t)i * d;
        for (long j = 0; j < d; j++)
            acc[j] += x[j];
    }
    for (long j = 0; j < d; j++)
        mu[j] = (float)(acc[j] / n);
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
    float *B = malloc(sizeof(float) * (size_t)l * d);
    double *work = malloc(sizeof(double) * ((size_t)big * l + l));
    double *Bd = NULL, *C = NULL, *w = NULL, *U = NULL;
    float *ones = NULL;
    int rc = -1;
    if (!Om || !Y || !B || !work) {
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
    if (orthonormalise(Y, n, l, work, e))
        goto done;
    for (int q = 0; q < o->power_iters; q++) {
        /* Z = Xc^T Q = X^T Q - mu (1^T Q) */
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
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, l, (int)d, 1.0f, X, (int)d, Om, l, 0.0f, Y, l);
        subtract_rank1(Y, n, l, NULL, Om, d, mu);
        if (orthonormalise(Y, n, l, work, e))
            goto done;
    }
    /* B = Q^T Xc = Q^T X - (Q^T 1) mu^T  (l x d) */
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, l, (int)d, n, 1.0f, Y, l, X, (int)d, 0.0f, B, (int)d);
    {
        double s[512];
        for (int c = 0; c < l; c++) s[c] = 0;
        for (int i = 0; i < n; i++)
            for (int c = 0; c < l; c++)
                s[c] += Y[(size_t)i * l + c];
        for (int c = 0; c < l; c++)
            for (long j = 0; j < d; j++)
                B[(size_t)c * d + j] -= (float)(s[c] * mu[j]);
    }
    /* C = B B^T (l x l) in double; eigenvectors Ub, eigenvalues s^2 */
    Bd = malloc(sizeof(double) * (size_t)l * d);
    C = malloc(sizeof(double) * (size_t)l * l);
    w = malloc(sizeof(double) * l);
    U = malloc(sizeof(double) * (size_t)l * l);
    if (!Bd || !C || !w || !U) {
        err_set(e, "PCA: out of memory");
        goto done;
    }
    for (size_t i = 0; i < (size_t)l * d; i++)
        Bd[i] = B[i];
    cblas_dsyrk(CblasRowMajor, CblasUpper, CblasNoTrans, l, (int)d, 1.0, Bd, (int)d, 0.0, C, l);
    memcpy(U, C, sizeof(double) * l * l);
    lapack_int info = LAPACKE_dsyev(LAPACK_ROW_MAJOR, 'V', 'U', l, U, l, w);
    if (info) {
        err_set(e, "PCA: dsyev failed (info %d)", (int)info);
        goto done;
    }
    /* scores[:, c] = Q Ub[:, l-1-c] (as U S = Q Ub S and Xc V = U S; B^T Ub = V S) :
     * Xc V_c = Q B V_c = Q Ub_c s_c */
    for (int c = 0; c < k; c++) {
        int col = l - 1 - c;
        double lam = w[col] > 0 ? w[col] : 0, s = sqrt(lam);
        for (int i = 0; i < n; i++) {
            double acc = 0;
            for (int j = 0; j < l; j++)
                acc += (double)Y[(size_t)i * l + j] * U[(size_t)j * l + col];
            scores[(size_t)i * k + c] = (float)(acc * s);
        }
        if (var)
            var[c] = lam / (n - 1);
    }
    rc = 0;
done:
    free(Om); free(Y); free(B); free(work); free(Bd); free(C); free(w); free(U); free(ones);
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
    double *acc = malloc(sizeof(double) * d);
    if (!mu || !acc) {
        free(mu); free(acc);
        return err_set(e, "PCA: out of memory");
    }
    column_means(X, n, d, mu, acc);
    free(acc);
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
