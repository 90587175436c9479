/* Softmax regression (analysis/logreg.c) against known solutions, the
 * equal-frequency bins (analysis/bins.c), and the whole decoding
 * (analysis/decoding.c): a planted latent decodes with near-zero error,
 * pure noise at chance. */
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "bins.h"
#include "check.h"
#include "decoding.h"
#include "error.h"
#include "logreg.h"
#include "rng.h"

/* The same objective minimised by Newton's method with the exact Hessian
 * (dposv), to 1e-12: the reference solution. */
static void newton(const float *x, const int *y, int n, int f, int k, double l2, double *theta)
{
    const int p = f + 1, P = k * p;
    double *g = malloc(sizeof(double) * P), *H = malloc(sizeof(double) * P * P), *t2 = malloc(sizeof(double) * P);
    memset(theta, 0, sizeof(double) * P);
    for (int it = 0; it < 100; it++) {
        double fx = logreg_objective(x, y, n, f, k, l2, theta, g);
        double gmax = 0;
        for (int i = 0; i < P; i++) if (fabs(g[i]) > gmax) gmax = fabs(g[i]);
        if (gmax < 1e-13) break;
        memset(H, 0, sizeof(double) * P * P);
        for (int i = 0; i < n; i++) {
            double z[16], s = 0, mx = -1e300, xi[16];
            for (int j = 0; j < f; j++) xi[j] = x[i * f + j];
            xi[f] = 1;
            for (int c = 0; c < k; c++) {
                z[c] = 0;
                for (int j = 0; j < p; j++) z[c] += theta[c * p + j] * xi[j];
                if (z[c] > mx) mx = z[c];
            }
            for (int c = 0; c < k; c++) { z[c] = exp(z[c] - mx); s += z[c]; }
            for (int c = 0; c < k; c++) z[c] /= s;
            for (int a = 0; a < k; a++)
                for (int b = 0; b < k; b++) {
                    double w = z[a] * ((a == b) - z[b]) / n;
                    for (int u = 0; u < p; u++)
                        for (int v = 0; v < p; v++)
                            H[(a * p + u) * P + b * p + v] += w * xi[u] * xi[v];
                }
        }
        for (int i = 0; i < P; i++) H[i * P + i] += l2;
        memcpy(t2, g, sizeof(double) * P);
        int info = LAPACKE_dposv(LAPACK_ROW_MAJOR, 'U', P, 1, H, P, t2, 1);
        if (info) break;
        double step = 1;
        double *tn = malloc(sizeof(double) * P);
        for (int ls = 0; ls < 50; ls++) {
            for (int i = 0; i < P; i++) tn[i] = theta[i] - step * t2[i];
            if (logreg_objective(x, y, n, f, k, l2, tn, NULL) <= fx) break;
            step /= 2;
        }
        memcpy(theta, tn, sizeof(double) * P);
        free(tn);
    }
    free(g); free(H); free(t2);
}

/* Gaussian clusters: class c centred at sep * (cos, sin)(2 pi c / k) (+ extra dims). */
static void clusters(int n, int f, int k, double sep, uint64_t seed, float *x, int *y)
{
    rng_t r;
    rng_seed(&r, seed);
    for (int i = 0; i < n; i++) {
        int c = i % k;
        y[i] = c;
        for (int j = 0; j < f; j++)
            x[i * f + j] = (float)rng_normal(&r);
        x[i * f + 0] += (float)(sep * cos(2 * M_PI * c / k));
        x[i * f + 1] += (float)(sep * sin(2 * M_PI * c / k));
    }
}

static void against_newton(const char *what, int n, int f, int k, double sep, double l2)
{
    float *x = malloc(sizeof(float) * n * f);
    int *y = malloc(sizeof(int) * n);
    clusters(n, f, k, sep, 11, x, y);
    const int P = k * (f + 1);
    double *ref = malloc(sizeof(double) * P), *th = calloc(P, sizeof(double));
    newton(x, y, n, f, k, l2, ref);
    logreg_options o;
    logreg_options_default(&o);
    o.l2 = l2;
    o.tol = 1e-8;
    o.max_iter = 3000;
    err_t e = {.msg = ""};
    int iters = 0;
    CHECK(logreg_fit(x, y, n, f, k, &o, th, &iters, &e) == 0, "%s: %s", what, e.msg);
    double md = 0, mref = 0;
    for (int i = 0; i < P; i++) {
        if (fabs(th[i] - ref[i]) > md) md = fabs(th[i] - ref[i]);
        if (fabs(ref[i]) > mref) mref = fabs(ref[i]);
    }
    CHECK(md <= 1e-6 * (1 + mref), "%s: parameters differ from Newton's by %g (max |theta| %g, %d iterations)",
          what, md, mref, iters);
    printf("%s: %d L-BFGS iterations\n", what, iters);
    double fo = logreg_objective(x, y, n, f, k, l2, th, NULL), fr = logreg_objective(x, y, n, f, k, l2, ref, NULL);
    CHECK(fo - fr <= 1e-10, "%s: objective %.12g vs Newton %.12g", what, fo, fr);
    free(x); free(y); free(ref); free(th);
}

static void test_logreg(void)
{
    /* Analytic symmetric case: x = +1 (class 1), x = -1 (class 0), penalty l2
     * on everything.  By symmetry w1 = -w0 = w, b0 = b1 = 0, and the
     * stationarity condition is 1 / (1 + exp(2w)) = l2 * w. */
    {
        float x[2] = {-1, 1};
        int y[2] = {0, 1};
        double l2 = 0.05, lo = 0, hi = 100;
        for (int it = 0; it < 200; it++) {
            double mid = (lo + hi) / 2;
            if (1 / (1 + exp(2 * mid)) > l2 * mid) lo = mid; else hi = mid;
        }
        double th[4] = {0, 0, 0, 0};
        logreg_options o;
        logreg_options_default(&o);
        o.l2 = l2;
        o.tol = 1e-12;
        err_t e = {.msg = ""};
        CHECK(logreg_fit(x, y, 2, 1, 2, &o, th, NULL, &e) == 0, "%s", e.msg);
        CHECK_CLOSE(th[2], lo, 1e-8, "analytic w1");
        CHECK_CLOSE(th[0], -lo, 1e-8, "analytic w0");
        CHECK(fabs(th[1]) < 1e-8 && fabs(th[3]) < 1e-8, "analytic biases zero: %g %g", th[1], th[3]);
    }
    against_newton("non-separable 4 classes", 400, 3, 4, 1.5, 1e-3);
    against_newton("separable 3 classes", 150, 2, 3, 12.0, 1e-2);
    against_newton("10 classes, 4 features", 300, 4, 10, 3.0, 1e-3);
    /* errors */
    {
        float x[2] = {0, 1};
        int y[2] = {0, 5};
        double th[4] = {0};
        logreg_options o;
        logreg_options_default(&o);
        err_t e = {.msg = ""};
        CHECK(logreg_fit(x, y, 2, 1, 2, &o, th, NULL, &e) == -1 && strstr(e.msg, "label 5"), "bad label: %s", e.msg);
    }
}

static void test_bins(void)
{
    rng_t r;
    rng_seed(&r, 5);
    for (int n = 1000; n <= 1003; n++) {
        float *v = malloc(sizeof(float) * n);
        int *b = malloc(sizeof(int) * n), count[10] = {0};
        for (int i = 0; i < n; i++) v[i] = (float)(rng_uniform(&r) * 7 - 2);
        err_t e = {.msg = ""};
        int used = bins_equal_frequency(v, n, 10, 0, b, &e);
        CHECK(used == 10, "n %d: %d bins used", n, used);
        for (int i = 0; i < n; i++) count[b[i]]++;
        for (int c = 0; c < 10; c++)
            CHECK(count[c] == n / 10 || count[c] == n / 10 + 1, "n %d: bin %d has %d", n, c, count[c]);
        /* monotone: a larger value never has a smaller bin */
        int mono = 1;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < 50; j++)
                if (v[i] < v[j] && b[i] > b[j]) mono = 0;
        CHECK(mono, "bins are ordered like the values");
        free(v); free(b);
    }
    /* angles: wrapped to [0, 360): equal angles share a bin whatever their turn */
    {
        const int n = 1000;
        float v[1000], w[1000];
        int b[1000], bw[1000], count[10] = {0};
        for (int i = 0; i < n; i++) {
            v[i] = (float)(rng_uniform(&r) * 360 - 180);
            w[i] = v[i] + (i % 3 - 1) * 360.0f;
        }
        v[0] = -180; v[1] = 180; w[0] = -180; w[1] = 180;
        err_t e = {.msg = ""};
        CHECK(bins_equal_frequency(v, n, 10, 1, b, &e) == 10, "circular bins");
        CHECK(bins_equal_frequency(w, n, 10, 1, bw, &e) == 10, "circular bins, shifted turns");
        CHECK(!memcmp(b, bw, sizeof b), "angles +-360 fall in the same bins");
        CHECK(b[0] == b[1], "-180 and 180 share a bin");
        for (int i = 0; i < n; i++) count[b[i]]++;
        for (int c = 0; c < 10; c++)
            CHECK(count[c] == 100 || count[c] == 99 || count[c] == 101, "circular bin %d has %d", c, count[c]);
        CHECK(bins_latent_is_circular("tilt") && bins_latent_is_circular("bg_angle") && !bins_latent_is_circular("slant"),
              "circular latents by name");
    }
    /* ties share a bin: a discrete latent gets fewer bins */
    {
        float v[100];
        int b[100];
        for (int i = 0; i < 100; i++) v[i] = (float)(i % 4);
        err_t e = {.msg = ""};
        int used = bins_equal_frequency(v, 100, 10, 0, b, &e);
        CHECK(used == 4, "4 distinct values -> 4 bins, got %d", used);
        int same = 1;
        for (int i = 4; i < 100; i++) if (b[i] != b[i % 4]) same = 0;
        CHECK(same, "equal values share a bin");
    }
}

/* Planted signal and pure noise through the whole decoding (PCA 10, 10 bins, 5 folds). */
static void test_decoding(void)
{
    const int n = 1500, d = 300, nc = 8;
    rng_t r;
    rng_seed(&r, 9);
    float *X = malloc(sizeof(float) * n * d), *t = malloc(sizeof(float) * n), *a = malloc(sizeof(float) * n),
          *u = malloc(sizeof(float) * n);
    float *dir = malloc(sizeof(float) * (nc + 2) * d);
    for (int j = 0; j < (nc + 2) * d; j++)
        dir[j] = (float)rng_normal(&r);
    for (int i = 0; i < n; i++) {
        t[i] = (float)rng_uniform(&r);                     /* a linear latent */
        a[i] = (float)(rng_uniform(&r) * 360 - 180);       /* an angle */
        u[i] = (float)rng_uniform(&r);                     /* not encoded */
        /* t by a population code: nc units with Gaussian tuning curves
         * along their own directions; the angle as (cos, sin) */
        double code[10];
        for (int m = 0; m < nc; m++) {
            double c = (m + 0.5) / nc;
            code[m] = 10 * exp(-(t[i] - c) * (t[i] - c) / (2 * 0.08 * 0.08));
        }
        code[nc] = 20 * cos(a[i] * M_PI / 180);
        code[nc + 1] = 20 * sin(a[i] * M_PI / 180);
        for (int j = 0; j < d; j++) {
            double v = 0.05 * rng_normal(&r);
            for (int m = 0; m < nc + 2; m++)
                v += code[m] * dir[m * d + j];
            X[i * d + j] = (float)v;
        }
    }
    const float *lat[3] = {t, a, u};
    int circ[3] = {0, 1, 0};
    decoding_options o;
    decoding_options_default(&o);
    o.threads = 2;
    o.lr.l2 = 1e-5;   /* a weak penalty lets the boundaries between bins be sharp */
    decoding_out out[3];
    double expl = 0;
    err_t e = {.msg = ""};
    CHECK(decoding_analyse(X, n, d, lat, circ, 3, &o, out, &expl, &e) == 0, "%s", e.msg);
    printf("planted: linear %.4f, angle %.4f, noise %.4f (chance %.4f %.4f %.4f), explained %.4f\n",
           out[0].error, out[1].error, out[2].error, out[0].chance, out[1].chance, out[2].chance, expl);
    /* tolerances: planted latents decode below 5% error (chance 90%); an
     * unencoded latent within 0.04 of chance (the std of a chance-level
     * error over 1500 samples is 0.008) */
    CHECK(out[0].error < 0.05, "planted linear latent: error %.4f", out[0].error);
    CHECK(out[1].error < 0.05, "planted angle: error %.4f", out[1].error);
    CHECK(fabs(out[2].error - 0.9) < 0.04, "noise decodes at chance: %.4f", out[2].error);
    for (int j = 0; j < 3; j++)
        CHECK(fabs(out[j].chance - 0.9) < 0.01 && out[j].bins_used == 10, "chance %.4f, %d bins", out[j].chance,
              out[j].bins_used);
    CHECK(expl > 0.99, "ten directions hold the variance: %.4f", expl);
    /* pure noise activations: every latent at chance */
    for (int i = 0; i < n * d; i++)
        X[i] = (float)rng_normal(&r);
    CHECK(decoding_analyse(X, n, d, lat, circ, 3, &o, out, NULL, &e) == 0, "%s", e.msg);
    for (int j = 0; j < 3; j++)
        CHECK(fabs(out[j].error - 0.9) < 0.04, "noise activations, latent %d: error %.4f", j, out[j].error);
    /* deterministic whatever the thread count */
    decoding_out o1[3];
    o.threads = 1;
    CHECK(decoding_analyse(X, n, d, lat, circ, 3, &o, o1, NULL, &e) == 0, "%s", e.msg);
    for (int j = 0; j < 3; j++)
        CHECK(o1[j].error == out[j].error && o1[j].chance == out[j].chance, "same results with 1 and 2 threads");
    free(X); free(t); free(a); free(u); free(dir);
}

int main(void)
{
    double t0 = clock_seconds();
    test_logreg();
    double t1 = clock_seconds();
    test_bins();
    double t2 = clock_seconds();
    test_decoding();
    printf("seconds: logreg %.2f, bins %.2f, decoding %.2f\n", t1 - t0, t2 - t1, clock_seconds() - t2);
    return check_done();
}
