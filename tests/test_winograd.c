/* The Winograd convolution (winograd.c) against im2col + sgemm
 * (conv_forward_batch, conv_transpose_batch) on every kind of shape the
 * engine can give it, convolutions and transposed convolutions: both forms
 * F(2x2,3x3) and F(4x4,3x3), valid, half and full padding, odd and
 * non-square sizes whose last tiles cross the output's edge, outputs
 * smaller than a tile, 1 and many channels in and out (not whole lanes of
 * 16 too), one sample and several per call, NCHW and channel-major output;
 * the weight gradient (wino_weight_grad against conv_weight_grad_batch) on
 * the same shapes; then whole models with and without drmm_set_conv_im2col.
 *
 * The tolerance.  Both paths round; Winograd's transforms add and subtract
 * (and, for F(4x4), scale by up to 25 and 1/24) before the products, so its
 * error grows with the size of the terms within a tile, not with the result
 * of one output.  It is measured against R = |W| (*) |x|, the convolution of
 * the absolute values (the sum of the magnitudes of the products an output
 * adds up): per output plane, the largest |Winograd - im2col| over the
 * plane's largest R.  Measured here on uniform data over these shapes: at
 * most 2.8e-7 for F(2x2) and 5.0e-6 for F(4x4) (float's epsilon is 1.2e-7).
 * TOL = 2e-5 is 4 times the worst F(4x4) case, and 100 times below what one
 * wrong tap, tile edge or channel gives (the size of one product, about
 * R / (9 cin): 1.7e-3 R with 64 channels, more with fewer).
 *
 * The weight gradient the same way: per filter tap R = the sum over the
 * samples and outputs of |x| |dy| (the gradient of the absolute values),
 * the error per filter the largest |Winograd - im2col| of its 9 taps over
 * their largest R.  Measured: at most 1.4e-6 for F(2x2) and 2.6e-6 for
 * F(4x4), so the same TOL holds with 8 times the margin.  One output
 * position missed or wrong changes a tap by one product, about R / (n ho wo)
 * on this data: 2e-4 R on the largest sum here (40 samples of 11x11), 10
 * times TOL (dropping the last tile of each chunk failed 555 checks). */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "conv.h"
#include "drmm.h"
#include "error.h"
#include "rng.h"
#include "shapes.h"
#include "winograd.h"

#define TOL 2e-5

static float *randoms(rng_t *r, long n, float scale)
{
    float *p = malloc(sizeof(float) * n);
    for (long i = 0; i < n; i++)
        p[i] = scale * (float)(2 * rng_uniform(r) - 1);
    return p;
}

static float *absolute(const float *p, long n)
{
    float *q = malloc(sizeof(float) * n);
    for (long i = 0; i < n; i++)
        q[i] = fabsf(p[i]);
    return q;
}

/* worst |y - ref| / Rmax over `planes` planes of hw outputs, Rmax the
   plane's largest R */
static double worst(long planes, long hw, const float *y, const float *ref, const float *R)
{
    double e = 0;
    for (long p = 0; p < planes; p++) {
        double rmax = 1e-30, d = 0;
        for (long i = p * hw; i < (p + 1) * hw; i++) {
            rmax = R[i] > rmax ? R[i] : rmax;
            double di = fabs((double)y[i] - ref[i]);
            d = di > d || di != di ? di : d;   /* NaN counts */
        }
        d /= rmax;
        e = d > e || d != d ? d : e;
    }
    return e;
}

static double worst_f[5];   /* per form m: the worst relative error seen */

/* One shape: S samples through wino_forward (NCHW and channel-major)
 * against im2col + sgemm in the engine's chunks; with transposed, the
 * transposed convolution of g (wino_transpose_geom, the filters turned)
 * against conv_transpose_batch. */
static void check_shape(rng_t *r, int m, int cin, int h, int w, int cout, pad_mode pad, int S, int transposed)
{
    conv_geom g0, g;   /* g0: the convolution of the filters; g: the one computed */
    if (conv_geom_init(&g0, cin, h, w, cout, 3, pad))
        return;
    if (transposed)
        wino_transpose_geom(&g0, &g);
    else
        g = g0;
    const long in = (long)g.cin * g.h * g.w, out = (long)g.cout * g.ho * g.wo, nw = (long)cout * cin * 9;
    float *x = randoms(r, S * in, 1), *wt = randoms(r, nw, 0.3f), *ax = absolute(x, S * in), *aw = absolute(wt, nw);
    float *ref = malloc(sizeof(float) * S * out), *R = malloc(sizeof(float) * S * out),
          *y = malloc(sizeof(float) * S * out), *ycm = malloc(sizeof(float) * S * out);
    float *col = malloc(sizeof(float) * conv_batch_col_size(&g0)), *work = malloc(sizeof(float) * wino_work_size(&g, m));
    float *U = malloc(sizeof(float) * wino_weights_size(&g, m));
    /* im2col + sgemm in the engine's chunks, and the bound R */
    for (int s = 0, n; s < S; s += n) {
        n = conv_batch_samples(&g0, S - s);
        if (transposed) {
            conv_transpose_batch(&g0, n, x + s * in, wt, ref + s * out, col);
            conv_transpose_batch(&g0, n, ax + s * in, aw, R + s * out, col);
        } else {
            conv_forward_batch(&g0, n, x + s * in, wt, ref + s * out, col);
            conv_forward_batch(&g0, n, ax + s * in, aw, R + s * out, col);
        }
    }
    wino_weights(&g, m, wt, transposed, U);
    /* wino_work_size is for wino_batch_samples samples: call in such chunks */
    const int SW = wino_batch_samples(&g, m, S);
    for (int s = 0; s < S; s += SW)
        wino_forward(&g, m, SW < S - s ? SW : S - s, x + s * in, U, 0, y + s * out, work);
    double e = worst((long)S * g.cout, (long)g.ho * g.wo, y, ref, R);
    CHECK(e <= TOL, "F(%dx%d)%s %d ch %dx%d -> %d ch %dx%d (pad %d), %d samples: error %.3g R", m, m,
          transposed ? " transposed" : "", g.cin, g.h, g.w, g.cout, g.ho, g.wo, g.pad, S, e);
    if (e > worst_f[m])
        worst_f[m] = e;
    if (SW == S) {   /* channel-major, one call for all S: the same values as NCHW, moved */
        wino_forward(&g, m, S, x, U, 1, ycm, work);
        const long hw = (long)g.ho * g.wo;
        long moved = 0;
        for (int s = 0; s < S; s++)
            for (int o = 0; o < g.cout; o++)
                moved += !memcmp(ycm + ((long)o * S + s) * hw, y + ((long)s * g.cout + o) * hw, sizeof(float) * hw);
        CHECK(moved == (long)S * g.cout, "channel-major F(%dx%d) %d ch %dx%d -> %d ch, %d samples: %ld of %ld planes "
              "as in NCHW", m, m, g.cin, g.h, g.w, g.cout, S, moved, (long)S * g.cout);
    }
    free(x); free(wt); free(ax); free(aw); free(ref); free(R); free(y); free(ycm); free(col);
    free(work); free(U);
}

static double worst_g[5];   /* per form m: the worst relative error of the weight gradient */

/* The weight gradient of convolution g (test_shapes gives each of its
 * shapes, the transposed ones with the channels in and out swapped: the
 * engine takes weight gradients of convolutions only), n samples:
 * wino_weight_grad against
 * conv_weight_grad_batch in the engine's chunks, each added to a dw that
 * already holds values (dw accumulates).  The bound per filter tap (o, c,
 * u, v) is R = sum over samples and outputs of |x| |dy| (the gradient of the
 * absolute values); the error is the largest |Winograd - im2col| over
 * filter (o, c)'s 9 taps over the largest R of its taps. */
static void check_grad(rng_t *r, int m, const conv_geom *g, int n)
{
    const long in = (long)g->cin * g->h * g->w, out = (long)g->cout * g->ho * g->wo, nw = (long)g->cout * g->cin * 9;
    float *x = randoms(r, n * in, 1), *dy = randoms(r, n * out, 1), *ax = absolute(x, n * in), *ady = absolute(dy, n * out);
    float *ref = randoms(r, nw, 1), *dw = malloc(sizeof(float) * nw), *R = calloc(nw, sizeof(float));
    float *col = malloc(sizeof(float) * conv_batch_col_size(g)), *work = malloc(sizeof(float) * wino_grad_work_size(g, m));
    memcpy(dw, ref, sizeof(float) * nw);
    for (int s = 0, k; s < n; s += k) {
        k = conv_batch_samples(g, n - s);
        conv_weight_grad_batch(g, k, dy + s * out, x + s * in, ref, col);
        conv_weight_grad_batch(g, k, ady + s * out, ax + s * in, R, col);
    }
    wino_weight_grad(g, m, n, dy, x, dw, work);
    double e = worst(nw / 9, 9, dw, ref, R);
    CHECK(e <= TOL, "weight gradient F(%dx%d) %d ch %dx%d -> %d ch %dx%d (pad %d), %d samples: error %.3g R", m, m,
          g->cin, g->h, g->w, g->cout, g->ho, g->wo, g->pad, n, e);
    if (e > worst_g[m])
        worst_g[m] = e;
    free(x); free(dy); free(ax); free(ady); free(ref); free(dw); free(R); free(col); free(work);
}

static void test_shapes(void)
{
    rng_t r;
    rng_seed(&r, 3);
    const int sizes[][2] = {{3, 3}, {4, 5}, {5, 4}, {7, 7}, {8, 8}, {9, 9}, {11, 13}, {14, 14}, {16, 16}, {18, 18}};
    const int chans[][2] = {{1, 1}, {1, 16}, {3, 5}, {16, 17}, {32, 64}, {64, 128}};
    const pad_mode pads[] = {PAD_VALID, PAD_HALF, PAD_FULL};
    int n = 0;
    for (int m = 2; m <= 4; m += 2)
        for (int si = 0; si < (int)(sizeof sizes / sizeof *sizes); si++)
            for (int ci = 0; ci < (int)(sizeof chans / sizeof *chans); ci++)
                for (int pi = 0; pi < 3; pi++) {
                    /* the large channel counts on a few sizes only (time) */
                    if (chans[ci][0] >= 32 && sizes[si][0] != 8 && sizes[si][0] != 14 && sizes[si][0] != 11)
                        continue;
                    for (int t = 0; t < 2; t++) {   /* the convolution, its transpose */
                        const int S = 1 + (si + ci + pi + t) % 3 * 2;   /* 1, 3 or 5 samples */
                        check_shape(&r, m, chans[ci][0], sizes[si][0], sizes[si][1], chans[ci][1], pads[pi], S, t);
                        conv_geom g;
                        if (!conv_geom_init(&g, chans[ci][t], sizes[si][0], sizes[si][1], chans[ci][1 - t], 3, pads[pi]))
                            check_grad(&r, m, &g, S);
                    }
                    n += 2;
                }
    /* a batch over several wino_forward calls (S larger than one call takes) */
    check_shape(&r, 4, 16, 9, 9, 16, PAD_FULL, 40, 0);
    check_shape(&r, 2, 16, 6, 6, 16, PAD_VALID, 40, 1);
    conv_geom g;
    conv_geom_init(&g, 16, 9, 9, 16, 3, PAD_FULL);
    check_grad(&r, 4, &g, 40);
    conv_geom_init(&g, 16, 6, 6, 17, 3, PAD_VALID);
    check_grad(&r, 2, &g, 40);
    printf("%d shapes (convolutions and transposed convolutions); worst error against R = |W| (*) |x|: F(2x2,3x3) %.3g, F(4x4,3x3) %.3g (tolerance %g)\n", n + 2,
           worst_f[2], worst_f[4], TOL);
    printf("weight gradients of the same shapes (the transposed ones with cin and cout swapped); worst error against R = "
           "sum |x| |dy| per tap: F(2x2,3x3) %.3g, F(4x4,3x3) %.3g (tolerance %g)\n", worst_g[2], worst_g[4], TOL);
}

/* wino_choose: Winograd only for 3x3 with >= 16 channels in and out; F(4x4)
 * where its tiles need fewer products, F(2x2) on the ties (6x6). */
static void test_choose(void)
{
    conv_geom g;
    conv_geom_init(&g, 64, 14, 14, 64, 3, PAD_FULL);
    CHECK(wino_choose(&g) == 4, "16x16 output: F(4x4)");
    conv_geom_init(&g, 64, 8, 8, 128, 3, PAD_VALID);
    CHECK(wino_choose(&g) == 2, "6x6 output: F(2x2) (4 tiles of 36 products = 9 of 16)");
    conv_geom_init(&g, 8, 16, 16, 64, 3, PAD_HALF);
    CHECK(wino_choose(&g) == 0, "8 input channels: im2col");
    conv_geom_init(&g, 32, 16, 16, 64, 5, PAD_HALF);
    CHECK(wino_choose(&g) == 0, "5x5: im2col");
    conv_geom_init(&g, 32, 16, 16, 8, 3, PAD_HALF);
    CHECK(wino_choose(&g) == 0, "8 output channels: im2col");
}

/* A model whose 3x3 layers take Winograd: the same predictions and training
 * losses as with drmm_set_conv_im2col, to float tolerance, and training
 * with Winograd learns (the loss falls). */
static const char *NET =
    "input channels=1 height=12 width=12\n"
    "conv filters=16 size=3 pad=half\n"      /* 1 channel in: im2col */
    "conv filters=32 size=3 pad=full\n"      /* 14x14: F(4x4) */
    "maxpool\n"
    "conv filters=32 size=3 pad=valid\n"     /* 5x5: F(2x2) */
    "conv filters=4 size=1 pad=valid\n"
    "meanpool\n";

enum { N = 24, NL = 12, K = 4 };   /* images (12x12), of them labelled, classes */

/* Two models of NET with one configuration and the same parameters (seed 1),
 * m[0] by Winograd, m[1] by im2col + sgemm (drmm_set_conv_im2col), their
 * activations for N images, and N images of shapes_make(seed) with their
 * labels.  Owned by the pair: free with pair_free. */
typedef struct model_pair {
    arch a;
    drmm *m[2];
    drmm_acts *A[2];
    float *x;
    int labels[N];
} model_pair;

static void pair_free(model_pair *p)
{
    for (int i = 0; i < 2; i++) {
        drmm_acts_free(p->A[i]);
        drmm_free(p->m[i]);
    }
    arch_free(&p->a);
    free(p->x);
}

/* 0, or -1 after a failed check (nothing left to free). */
static int pair_init(model_pair *p, const drmm_config *cfg, uint64_t seed)
{
    memset(p, 0, sizeof *p);
    err_t e;
    if (arch_parse(&p->a, NET, "test", &e)) {
        CHECK(0, "arch: %s", e.msg);
        return -1;
    }
    p->x = malloc(sizeof(float) * N * 144);
    shapes_make(seed, N, K, 12, p->x, p->labels);
    for (int i = 0; i < 2; i++) {
        if (drmm_create(&p->m[i], &p->a, cfg, 1, &e) || drmm_acts_create(p->m[i], N, &p->A[i], &e)) {
            CHECK(0, "create: %s", e.msg);
            pair_free(p);
            return -1;
        }
        drmm_set_conv_im2col(p->m[i], i);
    }
    return 0;
}

static void test_model(void)
{
    drmm_config cfg;
    drmm_config_default(&cfg);
    cfg.threads = 2;
    model_pair mp;
    if (pair_init(&mp, &cfg, 5))
        return;
    drmm *mw = mp.m[0], *mi = mp.m[1];
    drmm_acts *A = mp.A[0], *Ai = mp.A[1];
    const float *x = mp.x;
    const int *labels = mp.labels;
    float pw[N * K], pi[N * K];
    err_t e;
    CHECK(!strcmp(drmm_conv_path(mw, 0, 0), "im2col+sgemm"), "block 0: %s", drmm_conv_path(mw, 0, 0));
    CHECK(!strcmp(drmm_conv_path(mw, 1, 0), "Winograd F(4x4,3x3)"), "block 1: %s", drmm_conv_path(mw, 1, 0));
    CHECK(!strcmp(drmm_conv_path(mw, 2, 0), "Winograd F(2x2,3x3)"), "block 2: %s", drmm_conv_path(mw, 2, 0));
    CHECK(!strcmp(drmm_conv_path(mi, 1, 0), "im2col+sgemm"), "forced: %s", drmm_conv_path(mi, 1, 0));
    CHECK(!strcmp(drmm_conv_path(mw, 3, 0), "sgemm (1x1)"), "block 3: %s", drmm_conv_path(mw, 3, 0));
    CHECK(!strcmp(drmm_conv_path(mw, 0, 1), "im2col+sgemm"), "block 0 transposed (to 1 channel): %s",
          drmm_conv_path(mw, 0, 1));
    CHECK(!strcmp(drmm_conv_path(mw, 1, 1), "Winograd F(4x4,3x3)"), "block 1 transposed: %s", drmm_conv_path(mw, 1, 1));
    CHECK(!strcmp(drmm_conv_path(mi, 1, 1), "im2col+sgemm"), "forced: %s", drmm_conv_path(mi, 1, 1));

    drmm_predict(mw, A, x, N, pw, &e);
    drmm_predict(mi, Ai, x, N, pi, &e);
    double d = 0;
    for (int i = 0; i < N * K; i++)
        d = fabs(pw[i] - pi[i]) > d ? fabs(pw[i] - pi[i]) : d;
    CHECK(d < 1e-4, "predict: probabilities differ by %.3g", d);

    /* training: one step each from the same parameters, the same losses */
    drmm_losses Lw, Li;
    int rw = drmm_train_batch(mw, A, x, labels, NL, N, DRMM_BACKWARD | DRMM_UPDATE_STATS, &Lw, &e);
    int ri = drmm_train_batch(mi, Ai, x, labels, NL, N, DRMM_BACKWARD | DRMM_UPDATE_STATS, &Li, &e);
    CHECK(rw == 0 && ri == 0, "train: %s", e.msg);
    CHECK_CLOSE(Lw.total, Li.total, 1e-4, "total loss, Winograd and im2col");
    const float *gw = drmm_grads(mw), *gi = drmm_grads(mi);
    double gd = 0, gs = 0;
    for (long k = 0; k < drmm_num_params(mw); k++) {
        gd = fabs(gw[k] - gi[k]) > gd ? fabs(gw[k] - gi[k]) : gd;
        gs = fabs(gi[k]) > gs ? fabs(gi[k]) : gs;
    }
    CHECK(gd <= 1e-3 * gs, "gradients differ by %.3g (largest %.3g)", gd, gs);

    /* Winograd training learns: plain SGD on the batch lowers the loss */
    const double lw = Lw.total, li = Li.total;
    float first = Lw.total, last = first;
    for (int s = 0; s < 30; s++) {
        float *p = drmm_params(mw);
        const float *g = drmm_grads(mw);
        for (long k = 0; k < drmm_num_params(mw); k++)
            p[k] -= 0.05f * g[k];
        drmm_train_batch(mw, A, x, labels, NL, N, DRMM_BACKWARD | DRMM_UPDATE_STATS, &Lw, &e);
        last = Lw.total;
    }
    CHECK(last < 0.8f * first, "30 SGD steps with Winograd: loss %.4g -> %.4g", first, last);
    printf("model: probabilities within %.3g of im2col's, loss %.6g against %.6g, gradients within %.3g; "
           "30 SGD steps: loss %.4g -> %.4g\n", d, lw, li, gd, first, last);
    pair_free(&mp);
}

/* The conv weight gradients tensor by tensor, with top-down filters of their
 * own (so that the top-down pass's weight gradient is a tensor apart) and
 * the top-down pass on every row, 2 threads: Winograd against
 * drmm_set_conv_im2col, each tensor's largest difference over its largest
 * gradient: measured at most 1.7e-6; the bound 1e-4 leaves 50 times that
 * (dropping the last tile of each chunk gave 5e-2 in test_model). */
static void test_model_weight_grads(void)
{
    drmm_config cfg;
    drmm_config_default(&cfg);
    cfg.threads = 2;
    cfg.td_weights = TD_WEIGHTS_INDEPENDENT;
    cfg.unsup_both = 1;
    model_pair mp;
    if (pair_init(&mp, &cfg, 7))
        return;
    drmm **m = mp.m;
    err_t e;
    for (int i = 0; i < 2; i++) {
        drmm_losses L;
        CHECK(!drmm_train_batch(m[i], mp.A[i], mp.x, mp.labels, NL, N, DRMM_BACKWARD | DRMM_UPDATE_STATS, &L, &e),
              "train: %s", e.msg);
    }
    named_tensor t[64];
    const int nt = drmm_param_tensors(m[0], t, 64);
    const float *p0 = drmm_params(m[0]), *gw = drmm_grads(m[0]), *gi = drmm_grads(m[1]);
    int checked = 0;
    double worst_t = 0;
    for (int k = 0; k < nt && k < 64; k++) {
        if (t[k].ndim != 4 || t[k].shape[2] != 3 || t[k].shape[1] < 16 || t[k].shape[0] < 16)
            continue;   /* the 3x3 filters with 16 or more channels in and out: Winograd's */
        const long off = t[k].data - p0, n = nt_numel(&t[k]);
        double d = 0, big = 0;
        for (long q = off; q < off + n; q++) {
            d = fabs(gw[q] - gi[q]) > d ? fabs(gw[q] - gi[q]) : d;
            big = fabs(gi[q]) > big ? fabs(gi[q]) : big;
        }
        CHECK(big > 0 && d <= 1e-4 * big, "%s: gradients differ by %.3g (largest %.3g)", t[k].name, d, big);
        printf("  %s: Winograd's gradient within %.3g of im2col's (largest %.3g)\n", t[k].name, d, big);
        worst_t = d / big > worst_t ? d / big : worst_t;
        checked++;
    }
    CHECK(checked == 4, "%d Winograd weight tensors (2 bottom-up, 2 top-down)", checked);
    printf("model with top-down filters of its own, top-down on all rows: %d weight tensors, worst %.3g of the "
           "tensor's largest gradient\n", checked, worst_t);
    pair_free(&mp);
}

int main(void)
{
    test_shapes();
    test_choose();
    test_model();
    test_model_weight_grads();
    return check_done();
}
