/* Speed of the decoding analysis (analysis/decoding.c) with 2 threads:
 *  1. one 10,000 x 8,192 float32 matrix: PCA(10) + softmax regression of one
 *     10-bin latent (a single 80/20 fit, as scikit-learn's PCA +
 *     LogisticRegression would do; target < 0.8 s), and the same with the
 *     5-fold cross-validation analysis uses;
 *  2. 5 layers x 5 latents over 5,000 images of ConvSmall-sized activations
 *     (32,768, 16,384, 12,544, 4,608 and 360 values; target < 60 s). */
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blas_kernel.h"
#include "clock.h"
#include "bins.h"
#include "decoding.h"
#include "error.h"
#include "rng.h"


/* Post-ReLU-like activations carrying the latents weakly, plus noise. */
static float *activations(int n, long d, float *const *lat, int nl, uint64_t seed)
{
    float *X = malloc(sizeof(float) * (size_t)n * d);
    if (!X) { fprintf(stderr, "out of memory\n"); exit(1); }
    rng_t r;
    rng_seed(&r, seed);
    float *dir = malloc(sizeof(float) * d * nl);
    for (long j = 0; j < d * nl; j++) dir[j] = (float)rng_normal(&r);
    for (int i = 0; i < n; i++) {
        float *x = X + (size_t)i * d;
        for (long j = 0; j < d; j++) {
            float v = (float)rng_uniform(&r);
            for (int l = 0; l < nl; l++) v += 0.3f * lat[l][i] * dir[l * d + j];
            x[j] = v > 0 ? v : 0;
        }
    }
    free(dir);
    return X;
}

int main(int argc, char **argv)
{
    (void)argc;
    blas_kernel_setup(argv);
    blas_kernel_report("bench_analysis", 0);
    openblas_set_num_threads(2);
    err_t e = {.msg = ""};
    int ok = 1;
    /* 1: one 10,000 x 8,192 matrix */
    {
        const int n = 10000, nl = 1;
        const long d = 8192;
        float *lat[1];
        lat[0] = malloc(sizeof(float) * n);
        rng_t r;
        rng_seed(&r, 2);
        for (int i = 0; i < n; i++) lat[0][i] = (float)rng_uniform(&r);
        float *X = activations(n, d, lat, nl, 3);
        decoding_options o;
        decoding_options_default(&o);
        o.threads = 2;
        double t0 = clock_seconds();
        float *Z = malloc(sizeof(float) * n * 10);
        if (pca_scores(X, n, d, &o.pca, Z, NULL, &e)) { fprintf(stderr, "%s\n", e.msg); return 1; }
        double t1 = clock_seconds();
        for (int c = 0; c < 10; c++) {   /* standardise the components, as decoding_cv does */
            double m = 0, v = 0;
            for (int i = 0; i < n; i++) m += Z[i * 10 + c];
            m /= n;
            for (int i = 0; i < n; i++) v += (Z[i * 10 + c] - m) * (Z[i * 10 + c] - m);
            v = sqrt(v / (n - 1));
            for (int i = 0; i < n; i++) Z[i * 10 + c] = (float)((Z[i * 10 + c] - m) / (v > 0 ? v : 1));
        }
        int *bin = malloc(sizeof(int) * n);
        bins_equal_frequency(lat[0], n, 10, 0, bin, &e);
        /* one fit on 80%, error on 20% */
        int ntr = n * 8 / 10;
        double *theta = calloc(10 * 11, sizeof(double));
        logreg_fit(Z, bin, ntr, 10, 10, &o.lr, theta, NULL, &e);
        int wrong = 0;
        for (int i = ntr; i < n; i++) wrong += logreg_predict(theta, 10, 10, Z + i * 10) != bin[i];
        double t2 = clock_seconds();
        printf("bench_analysis: 10000 x 8192: PCA(10) %.3f s + logistic regression %.3f s = %.3f s "
               "(target < 0.8 s; held-out error %.3f)\n", t1 - t0, t2 - t1, t2 - t0, (double)wrong / (n - ntr));
        ok &= t2 - t0 < 0.8;
        pca_options q1 = o.pca;
        q1.power_iters = 1;
        double t4 = clock_seconds();
        if (pca_scores(X, n, d, &q1, Z, NULL, &e)) { fprintf(stderr, "%s\n", e.msg); return 1; }
        printf("bench_analysis: 10000 x 8192: PCA(10) with 1 power iteration instead of 3: %.3f s\n", clock_seconds() - t4);
        double t3 = clock_seconds();
        decoding_out out;
        const float *cl[1] = {lat[0]};
        int circ = 0;
        if (decoding_analyse(X, n, d, cl, &circ, 1, &o, &out, NULL, &e)) { fprintf(stderr, "%s\n", e.msg); return 1; }
        printf("bench_analysis: 10000 x 8192: PCA(10) + 5-fold cross-validated decoding %.3f s (error %.3f, chance %.3f)\n",
               clock_seconds() - t3, out.error, out.chance);
        free(X); free(Z); free(bin); free(theta); free(lat[0]);
    }
    /* 2: 5 layers x 5 latents x 5000 images */
    {
        const int n = 5000, nl = 5;
        const long dims[5] = {32768, 16384, 12544, 4608, 360};
        float *lat[5];
        rng_t r;
        rng_seed(&r, 4);
        for (int l = 0; l < nl; l++) {
            lat[l] = malloc(sizeof(float) * n);
            for (int i = 0; i < n; i++) lat[l][i] = (float)(l == 1 ? rng_uniform(&r) * 360 - 180 : rng_uniform(&r));
        }
        int circ[5] = {0, 1, 0, 0, 0};
        decoding_options o;
        decoding_options_default(&o);
        o.threads = 2;
        double total = 0;
        for (int L = 0; L < 5; L++) {
            float *X = activations(n, dims[L], lat, nl, 10 + L);
            double t0 = clock_seconds();
            decoding_out out[5];
            const float *cl[5] = {lat[0], lat[1], lat[2], lat[3], lat[4]};
            if (decoding_analyse(X, n, dims[L], cl, circ, nl, &o, out, NULL, &e)) { fprintf(stderr, "%s\n", e.msg); return 1; }
            double t = clock_seconds() - t0;
            total += t;
            printf("bench_analysis: layer %d (%ld dims): %.2f s, errors %.3f %.3f %.3f %.3f %.3f\n", L + 1, dims[L], t,
                   out[0].error, out[1].error, out[2].error, out[3].error, out[4].error);
            free(X);
        }
        printf("bench_analysis: 5 layers x 5 latents x 5000 images: %.2f s (target < 60 s)\n", total);
        ok &= total < 60;
        for (int l = 0; l < nl; l++) free(lat[l]);
    }
    if (!ok)
        printf("bench_analysis: SLOWER THAN TARGET\n");
    return 0;
}
