/* PCA (analysis/pca.c): the Gram and randomized methods agree with a full
 * SVD of the centred data (LAPACKE_dgesvd) on small matrices, wide and
 * tall; bad sizes are refused. */
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "error.h"
#include "pca.h"
#include "rng.h"

/* X = A diag(s) B + noise, s_j = 10 * 0.6^j: a decaying spectrum. */
static float *planted(int n, int d, uint64_t seed)
{
    rng_t r;
    rng_seed(&r, seed);
    const int q = 15;
    double *A = malloc(sizeof(double) * n * q), *B = malloc(sizeof(double) * q * d);
    for (int i = 0; i < n * q; i++) A[i] = rng_normal(&r);
    for (int i = 0; i < q * d; i++) B[i] = rng_normal(&r) / sqrt(d);
    float *X = malloc(sizeof(float) * n * d);
    for (int i = 0; i < n; i++)
        for (int j = 0; j < d; j++) {
            double v = 3.0 + 0.01 * rng_normal(&r);   /* an offset: centring matters */
            for (int c = 0; c < q; c++)
                v += A[i * q + c] * 10 * pow(0.6, c) * B[c * d + j];
            X[i * d + j] = (float)v;
        }
    free(A); free(B);
    return X;
}

/* Reference scores U_k S_k (signs fixed like pca.c) and variances by dgesvd. */
static void reference(const float *X, int n, int d, int k, double *scores, double *var)
{
    double *Xc = malloc(sizeof(double) * n * d), *s = malloc(sizeof(double) * (n < d ? n : d));
    double *U = malloc(sizeof(double) * n * n), *superb = malloc(sizeof(double) * (n < d ? n : d));
    for (int j = 0; j < d; j++) {
        double mu = 0;
        for (int i = 0; i < n; i++) mu += X[i * d + j];
        mu /= n;
        for (int i = 0; i < n; i++) Xc[i * d + j] = X[i * d + j] - mu;
    }
    int info = LAPACKE_dgesvd(LAPACK_ROW_MAJOR, 'A', 'N', n, d, Xc, d, s, U, n, NULL, 1, superb);
    CHECK(info == 0, "dgesvd info %d", info);
    for (int c = 0; c < k; c++) {
        double best = 0;
        for (int i = 0; i < n; i++) {
            scores[i * k + c] = U[i * n + c] * s[c];
            if (fabs(scores[i * k + c]) > fabs(best)) best = scores[i * k + c];
        }
        if (best < 0)
            for (int i = 0; i < n; i++) scores[i * k + c] = -scores[i * k + c];
        var[c] = s[c] * s[c] / (n - 1);
    }
    free(Xc); free(s); free(U); free(superb);
}

static void compare(const char *what, int n, int d, int k, pca_method m, int power)
{
    float *X = planted(n, d, 7 + n + d);
    double *ref = malloc(sizeof(double) * n * k), rvar[16], var[16];
    float *sc = malloc(sizeof(float) * n * k);
    reference(X, n, d, k, ref, rvar);
    pca_options o;
    pca_options_default(&o);
    o.k = k;
    o.method = m;
    o.power_iters = power;
    err_t e = {.msg = ""};
    CHECK(pca_scores(X, n, d, &o, sc, var, &e) == 0, "%s: %s", what, e.msg);
    double maxdiff = 0, scale = sqrt(rvar[0] * (n - 1));
    for (int c = 0; c < k; c++) {
        CHECK(fabs(var[c] - rvar[c]) <= 2e-4 * rvar[0], "%s: variance %d: %g vs %g", what, c, var[c], rvar[c]);
        for (int i = 0; i < n; i++) {
            double dd = fabs(sc[i * k + c] - ref[i * k + c]);
            if (dd > maxdiff) maxdiff = dd;
        }
    }
    CHECK(maxdiff <= 2e-3 * scale, "%s: scores differ by %g (scale %g)", what, maxdiff, scale);
    free(X); free(ref); free(sc);
}

int main(void)
{
    compare("gram wide 40x120", 40, 120, 6, PCA_GRAM, 0);
    compare("gram tall 150x30", 150, 30, 8, PCA_GRAM, 0);
    compare("randomized wide 60x300", 60, 300, 6, PCA_RANDOMIZED, 3);
    compare("randomized tall 400x80", 400, 80, 10, PCA_RANDOMIZED, 3);
    compare("auto 200x500", 200, 500, 10, PCA_AUTO, 3);

    /* variances are in decreasing order */
    {
        float *X = planted(100, 50, 3);
        float sc[100 * 5];
        double var[5];
        pca_options o;
        pca_options_default(&o);
        o.k = 5;
        o.method = PCA_RANDOMIZED;
        err_t e = {.msg = ""};
        CHECK(pca_scores(X, 100, 50, &o, sc, var, &e) == 0, "%s", e.msg);
        for (int c = 1; c < 5; c++)
            CHECK(var[c] <= var[c - 1] * (1 + 1e-6), "order %d: %g > %g", c, var[c], var[c - 1]);
        /* deterministic */
        float sc2[100 * 5];
        CHECK(pca_scores(X, 100, 50, &o, sc2, NULL, &e) == 0, "%s", e.msg);
        CHECK(!memcmp(sc, sc2, sizeof sc), "randomized PCA is deterministic for a seed");
        free(X);
    }
    /* bad sizes */
    {
        float X[6] = {1, 2, 3, 4, 5, 6}, sc[30];
        pca_options o;
        pca_options_default(&o);
        err_t e = {.msg = ""};
        CHECK(pca_scores(X, 3, 2, &o, sc, NULL, &e) == -1 && e.kind == ERR_INPUT && strstr(e.msg, "components"),
              "10 components of 3 x 2 refused: %s", e.msg);
        o.k = 1;
        CHECK(pca_scores(X, 1, 6, &o, sc, NULL, &e) == -1 && strstr(e.msg, "at least 2 samples"), "one sample: %s", e.msg);
    }
    return check_done();
}
