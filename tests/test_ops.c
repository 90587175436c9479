/* Tests of the engine's layers: finite-difference gradients of every op with
 * a backward pass, the transposed convolution as the exact adjoint of the
 * convolution for every padding, and Lemmas B.5 and B.6 of the supplement
 * (the max-sum inference of the switches) by brute force. */
#include <stdlib.h>
#include <string.h>

#include "activation.h"
#include "bn.h"
#include "check.h"
#include "conv.h"
#include "gradcheck.h"
#include "pool.h"
#include "postconv.h"
#include "rng.h"

static rng_t R;

static void randn(float *v, long n, float s)
{
    for (long i = 0; i < n; i++)
        v[i] = (float)(s * rng_normal(&R));
}

static double dot(const float *a, const float *b, long n)
{
    double s = 0;
    for (long i = 0; i < n; i++)
        s += (double)a[i] * b[i];
    return s;
}

static void expect_ok(gc_result r, const char *what)
{
    CHECK(r.bad == 0 && r.checked > 0, "%s: %d of %d coordinates wrong (worst rel %.3g), %d skipped",
          what, r.bad, r.checked, r.worst, r.skipped);
}

/* ---- convolution ---- */

typedef struct conv_ctx {
    conv_geom g;
    float *x, *w, *y, *r, *col;
    int transpose;
} conv_ctx;

static double conv_loss(void *p)
{
    conv_ctx *c = p;
    long nout = c->transpose ? (long)c->g.cin * c->g.h * c->g.w : (long)c->g.cout * c->g.ho * c->g.wo;
    if (c->transpose)
        conv_transpose(&c->g, c->x, c->w, c->y, c->col);
    else
        conv_forward(&c->g, c->x, c->w, c->y, c->col);
    return dot(c->y, c->r, nout);
}

static void test_conv_grad(int cin, int h, int w, int cout, int k, pad_mode pad, int transpose)
{
    conv_ctx c = {.transpose = transpose};
    CHECK(conv_geom_init(&c.g, cin, h, w, cout, k, pad) == 0, "geometry");
    long nin = (long)cin * h * w, nout = (long)cout * c.g.ho * c.g.wo, nw = (long)cout * cin * k * k;
    long nx = transpose ? nout : nin, ny = transpose ? nin : nout;
    c.x = malloc(sizeof(float) * nx);
    c.w = malloc(sizeof(float) * nw);
    c.y = malloc(sizeof(float) * ny);
    c.r = malloc(sizeof(float) * ny);
    c.col = malloc(sizeof(float) * conv_col_size(&c.g));
    float *dx = malloc(sizeof(float) * nx), *dw = calloc(nw, sizeof(float));
    randn(c.x, nx, 1);
    randn(c.w, nw, 0.5f);
    randn(c.r, ny, 1);
    if (transpose) {
        /* <conv^T(x), r> = <x, conv(r)>: dx = conv(r), dW = weight_grad(dy = x, input = r) */
        conv_forward(&c.g, c.r, c.w, dx, c.col);
        conv_weight_grad(&c.g, c.x, c.r, dw, c.col);
    } else {
        conv_transpose(&c.g, c.r, c.w, dx, c.col);
        conv_weight_grad(&c.g, c.r, c.x, dw, c.col);
    }
    char what[96];
    snprintf(what, sizeof what, "%s k=%d pad=%d input", transpose ? "conv_transpose" : "conv", k, pad);
    expect_ok(gradcheck(c.x, dx, nx, 60, 1e-2, 2e-3, 1e-2, conv_loss, NULL, &c, &R, what), what);
    snprintf(what, sizeof what, "%s k=%d pad=%d weight", transpose ? "conv_transpose" : "conv", k, pad);
    expect_ok(gradcheck(c.w, dw, nw, 60, 1e-2, 2e-3, 1e-2, conv_loss, NULL, &c, &R, what), what);
    free(c.x); free(c.w); free(c.y); free(c.r); free(c.col); free(dx); free(dw);
}

static void test_conv_adjoint(void)
{
    pad_mode pads[3] = {PAD_VALID, PAD_HALF, PAD_FULL};
    int ks[3] = {1, 3, 5};
    for (int pi = 0; pi < 3; pi++)
        for (int ki = 0; ki < 3; ki++) {
            conv_geom g;
            int cin = 3, cout = 4, h = 9, w = 7;
            if (conv_geom_init(&g, cin, h, w, cout, ks[ki], pads[pi]))
                continue;
            long nin = (long)cin * h * w, nout = (long)cout * g.ho * g.wo, nw = (long)cout * cin * g.k * g.k;
            float *x = malloc(sizeof(float) * nin), *y = malloc(sizeof(float) * nout), *wt = malloc(sizeof(float) * nw);
            float *cx = malloc(sizeof(float) * nout), *cty = malloc(sizeof(float) * nin);
            float *col = malloc(sizeof(float) * conv_col_size(&g));
            randn(x, nin, 1);
            randn(y, nout, 1);
            randn(wt, nw, 1);
            conv_forward(&g, x, wt, cx, col);
            conv_transpose(&g, y, wt, cty, col);
            double a = dot(cx, y, nout), b = dot(x, cty, nin);
            char what[64];
            snprintf(what, sizeof what, "<conv x, y> = <x, conv^T y> k=%d pad=%d", ks[ki], (int)pads[pi]);
            CHECK_CLOSE(a, b, 1e-5, what);
            /* the shapes restore: conv^T maps the output shape back to the input shape */
            CHECK(g.ho == h + 2 * g.pad - g.k + 1, "output height");
            free(x); free(y); free(wt); free(cx); free(cty); free(col);
        }
    /* full and valid are each other's shape inverse */
    conv_geom a, b;
    conv_geom_init(&a, 2, 10, 10, 3, 3, PAD_FULL);
    conv_geom_init(&b, 3, a.ho, a.wo, 2, 3, PAD_VALID);
    CHECK(b.ho == 10 && b.wo == 10, "valid undoes full: %dx%d", b.ho, b.wo);
}

/* conv_forward equals the convolution's definition written as loops, for
 * rows shorter and longer than one 16-float vector of the im2col copies. */
static void test_conv_direct(int cin, int h, int w, int k, pad_mode pad)
{
    conv_geom g;
    int cout = 3;
    CHECK(conv_geom_init(&g, cin, h, w, cout, k, pad) == 0, "geometry");
    long nin = (long)cin * h * w, nout = (long)cout * g.ho * g.wo, nw = (long)cout * cin * k * k;
    float *x = malloc(sizeof(float) * nin), *wt = malloc(sizeof(float) * nw), *y = malloc(sizeof(float) * nout);
    float *col = malloc(sizeof(float) * conv_col_size(&g));
    randn(x, nin, 1);
    randn(wt, nw, 1);
    conv_forward(&g, x, wt, y, col);
    double md = 0;
    for (int co = 0; co < cout; co++)
        for (int oy = 0; oy < g.ho; oy++)
            for (int ox = 0; ox < g.wo; ox++) {
                double s = 0;
                for (int c = 0; c < cin; c++)
                    for (int ki = 0; ki < k; ki++)
                        for (int kj = 0; kj < k; kj++) {
                            int iy = oy + ki - g.pad, ix = ox + kj - g.pad;
                            if (iy >= 0 && iy < h && ix >= 0 && ix < w)
                                s += (double)wt[((co * cin + c) * k + ki) * k + kj] * x[((long)c * h + iy) * w + ix];
                        }
                md = fmax(md, fabs(s - y[((long)co * g.ho + oy) * g.wo + ox]));
            }
    CHECK(md < 1e-4, "conv %dx%d k=%d pad=%d equals its definition (max diff %g)", h, w, k, (int)pad, md);
    free(x); free(wt); free(y); free(col);
}

/* The batched forms (several samples per sgemm) equal the per-sample ones. */
static void test_conv_batched(int k, pad_mode pad)
{
    conv_geom g;
    conv_geom_init(&g, 3, 6, 5, 4, k, pad);
    int S = 13;   /* more than one chunk for every geometry below */
    long nin = (long)g.cin * g.h * g.w, nout = (long)g.cout * g.ho * g.wo, nw = (long)g.cout * g.cin * k * k;
    float *x = malloc(sizeof(float) * S * nin), *y = malloc(sizeof(float) * S * nout), *w = malloc(sizeof(float) * nw);
    float *a = malloc(sizeof(float) * S * (nin > nout ? nin : nout)), *b = malloc(sizeof(float) * S * (nin > nout ? nin : nout));
    float *dwa = calloc(nw, sizeof(float)), *dwb = calloc(nw, sizeof(float));
    float *col = malloc(sizeof(float) * conv_col_size(&g)), *work = malloc(sizeof(float) * conv_batch_col_size(&g));
    randn(x, S * nin, 1);
    randn(y, S * nout, 1);
    randn(w, nw, 1);
    double d = 0;
    for (int i = 0; i < S; i++)
        conv_forward(&g, x + i * nin, w, a + i * nout, col);
    /* in chunks as the engine does: at most conv_batch_samples() per call */
    for (int i = 0, c; i < S; i += c) {
        c = conv_batch_samples(&g, S - i);
        conv_forward_batch(&g, c, x + i * nin, w, b + i * nout, work);
    }
    for (long i = 0; i < S * nout; i++)
        d = fmax(d, fabs(a[i] - b[i]));
    /* channel-major: sample s of a chunk at column s*hw of each channel's row */
    for (int i = 0, c; i < S; i += c) {
        c = conv_batch_samples(&g, S - i);
        conv_forward_cm(&g, c, x + i * nin, w, b, work);
        long hw = (long)g.ho * g.wo;
        for (int s = 0; s < c; s++)
            for (int co = 0; co < g.cout; co++)
                for (long p = 0; p < hw; p++)
                    d = fmax(d, fabs(a[(i + s) * nout + co * hw + p] - b[(co * c + s) * hw + p]));
    }
    for (int i = 0; i < S; i++)
        conv_transpose(&g, y + i * nout, w, a + i * nin, col);
    for (int i = 0, c; i < S; i += c) {
        c = conv_batch_samples(&g, S - i);
        conv_transpose_batch(&g, c, y + i * nout, w, b + i * nin, work);
    }
    for (long i = 0; i < S * nin; i++)
        d = fmax(d, fabs(a[i] - b[i]));
    for (int i = 0; i < S; i++)
        conv_weight_grad(&g, y + i * nout, x + i * nin, dwa, col);
    for (int i = 0, c; i < S; i += c) {
        c = conv_batch_samples(&g, S - i);
        conv_weight_grad_batch(&g, c, y + i * nout, x + i * nin, dwb, work);
    }
    for (long i = 0; i < nw; i++)
        d = fmax(d, fabs(dwa[i] - dwb[i]));
    CHECK(d < 1e-4, "batched convolution k=%d pad=%d equals per-sample (max diff %g)", k, (int)pad, d);
    free(x); free(y); free(w); free(a); free(b); free(dwa); free(dwb); free(col); free(work);
}

/* ---- batch normalisation ---- */

typedef struct bn_ctx {
    int n, C, hw;
    float *in, *gamma, *beta, *out, *xhat, *mean, *var, *r, *rs;
} bn_ctx;

static double bn_loss(void *p)
{
    bn_ctx *c = p;
    bn_forward_train(c->n, c->C, c->hw, 0, c->C, c->in, c->gamma, c->beta, 1e-5f, c->out, c->xhat, c->mean, c->var);
    double s = dot(c->out, c->r, (long)c->n * c->C * c->hw);
    for (int ch = 0; ch < c->C; ch++)
        s += c->rs[ch] * sqrt((double)c->var[ch] + 1e-5);   /* sigma used elsewhere */
    return s;
}

static void test_bn(void)
{
    bn_ctx c = {.n = 4, .C = 3, .hw = 5};
    long N = (long)c.n * c.C * c.hw;
    c.in = malloc(sizeof(float) * N); c.out = malloc(sizeof(float) * N); c.xhat = malloc(sizeof(float) * N);
    c.r = malloc(sizeof(float) * N);
    c.gamma = malloc(sizeof(float) * c.C); c.beta = malloc(sizeof(float) * c.C);
    c.mean = malloc(sizeof(float) * c.C); c.var = malloc(sizeof(float) * c.C); c.rs = malloc(sizeof(float) * c.C);
    randn(c.in, N, 2);
    randn(c.r, N, 1);
    randn(c.rs, c.C, 1);
    for (int i = 0; i < c.C; i++) {
        c.gamma[i] = 0.5f + (float)rng_uniform(&R);
        c.beta[i] = (float)rng_normal(&R);
    }
    bn_loss(&c);
    float *din = malloc(sizeof(float) * N), *dg = calloc(c.C, sizeof(float)), *db = calloc(c.C, sizeof(float));
    bn_backward_train(c.n, c.C, c.hw, 0, c.C, c.r, c.xhat, c.gamma, c.var, 1e-5f, c.rs, din, dg, db);
    expect_ok(gradcheck(c.in, din, N, N, 1e-2, 3e-3, 1e-2, bn_loss, NULL, &c, &R, "bn input"), "bn input (with dsigma)");
    expect_ok(gradcheck(c.gamma, dg, c.C, c.C, 1e-2, 2e-3, 1e-2, bn_loss, NULL, &c, &R, "bn gamma"), "bn gamma");
    expect_ok(gradcheck(c.beta, db, c.C, c.C, 1e-2, 2e-3, 1e-2, bn_loss, NULL, &c, &R, "bn beta"), "bn beta");
    /* the batch output is normalised per channel */
    float *ones = malloc(sizeof(float) * c.C), *zeros = calloc(c.C, sizeof(float));
    for (int i = 0; i < c.C; i++)
        ones[i] = 1;
    bn_forward_train(c.n, c.C, c.hw, 0, c.C, c.in, ones, zeros, 1e-5f, c.out, c.xhat, c.mean, c.var);
    double s = 0, s2 = 0;
    for (int i = 0; i < c.n; i++)
        for (int j = 0; j < c.hw; j++) {
            double v = c.out[((long)i * c.C + 1) * c.hw + j];
            s += v;
            s2 += v * v;
        }
    CHECK_CLOSE(s / (c.n * c.hw), 0.0, 1e-5, "normalised mean");
    CHECK_CLOSE(s2 / (c.n * c.hw), 1.0, 1e-3, "normalised variance");
    /* evaluation with running statistics equal to the batch ones gives the same output */
    float *run_var = malloc(sizeof(float) * c.C), *out2 = malloc(sizeof(float) * N);
    memcpy(run_var, c.var, sizeof(float) * c.C);
    bn_forward_eval(c.n, c.C, c.hw, 0, c.C, c.in, ones, zeros, c.mean, run_var, 1e-5f, out2, NULL);
    double md = 0;
    for (long i = 0; i < N; i++)
        md = fmax(md, fabs(out2[i] - c.out[i]));
    CHECK(md < 1e-5, "eval with batch statistics matches training output (max diff %g)", md);
    /* running averages */
    float rm[3] = {0, 0, 0}, rv[3] = {1, 1, 1};
    bn_update_running(c.C, c.n * c.hw, 0.9f, c.mean, c.var, rm, rv);
    CHECK_CLOSE(rm[0], 0.1 * c.mean[0], 1e-6, "running mean EMA");
    CHECK_CLOSE(rv[0], 0.9 + 0.1 * c.var[0] * 20.0 / 19.0, 1e-6, "running var EMA (unbiased)");
    free(c.in); free(c.out); free(c.xhat); free(c.r); free(c.gamma); free(c.beta); free(c.mean); free(c.var);
    free(c.rs); free(din); free(dg); free(db); free(ones); free(zeros); free(run_var); free(out2);
}

/* The fused evaluation tail equals BN (running statistics), ReLU and pooling
 * done one after the other, bit for bit, and reads a strided conv output. */
static void test_postconv(void)
{
    const int C = 3, h = 6, w = 4, hw = h * w;
    const long stride = 2 * hw;   /* the conv output of 2 samples side by side */
    float y[3 * 2 * 24], ref[3 * 24], act[3 * 24], pref[3 * 6], pooled[3 * 6];
    float gamma[3], beta[3], mean[3], var[3], scale[3], shift[3];
    uint8_t mask[3 * 24];
    randn(y, C * stride, 1);
    for (int c = 0; c < C; c++) {
        gamma[c] = (c == 1 ? -1.0f : 1.0f) * (0.5f + (float)rng_uniform(&R));   /* one negative scale */
        beta[c] = (float)rng_normal(&R);
        mean[c] = (float)rng_normal(&R);
        var[c] = 0.5f + (float)rng_uniform(&R);
    }
    y[5] = y[4];   /* a tie inside a window */
    bn_eval_affine(C, gamma, beta, mean, var, 1e-5f, scale, shift);
    int same = 1;
    for (int bn = 0; bn <= 1; bn++)
        for (int relu = 0; relu <= 1; relu++)
            for (int pool = POOL_NONE; pool <= POOL_MEAN; pool++) {
                for (int c = 0; c < C; c++)
                    memcpy(ref + c * hw, y + c * stride, sizeof(float) * hw);
                if (bn)
                    bn_forward_eval(1, C, hw, 0, C, ref, gamma, beta, mean, var, 1e-5f, ref, NULL);
                if (relu)
                    relu_inplace(C * hw, ref, mask);
                if (pool == POOL_MAX)
                    maxpool2_forward(0, C, h, w, ref, pref, mask);
                else if (pool == POOL_MEAN)
                    meanpool_forward(0, C, hw, ref, pref);
                postconv_eval(C, h, w, stride, y, bn ? scale : NULL, bn ? shift : NULL, relu, (pool_kind)pool, act, pooled);
                long np = pool == POOL_MAX ? C * hw / 4 : pool == POOL_MEAN ? C : 0;
                same &= memcmp(act, ref, sizeof(float) * C * hw) == 0 && memcmp(pooled, pref, sizeof(float) * np) == 0;
            }
    CHECK(same, "fused BN + ReLU + pooling equals the separate ops bit for bit");
}

/* ---- ReLU, pooling, upsampling, softmax ---- */

typedef struct ew_ctx {
    int kind;    /* 0 relu, 1 maxpool, 2 meanpool, 3 upsample2, 4 broadcast, 5 softmax */
    int planes, h, w;
    float *in, *out, *r;
    uint8_t *mask, *ref_mask;
    long nin, nout;
} ew_ctx;

static double ew_loss(void *p)
{
    ew_ctx *c = p;
    switch (c->kind) {
    case 0: relu_forward(0, c->nin, c->in, c->out, c->mask); break;
    case 1: maxpool2_forward(0, c->planes, c->h, c->w, c->in, c->out, c->mask); break;
    case 2: meanpool_forward(0, c->planes, c->h * c->w, c->in, c->out); break;
    case 3: upsample2_forward(0, c->planes, c->h, c->w, 0.7f, c->in, c->out); break;
    case 4: broadcast_forward(0, c->planes, c->h * c->w, 0.3f, c->in, c->out); break;
    case 5: softmax_forward(c->planes, c->h, c->in, c->out); break;
    }
    return dot(c->out, c->r, c->nout);
}

static int ew_kinked(void *p)
{
    ew_ctx *c = p;
    return c->mask && memcmp(c->mask, c->ref_mask, c->nin) != 0;
}

static void test_elementwise(int kind, const char *what)
{
    ew_ctx c = {.kind = kind, .planes = 3, .h = 4, .w = 6};
    long hw = (long)c.h * c.w;
    c.nin = kind == 4 ? c.planes : kind == 5 ? (long)c.planes * c.h : c.planes * hw;
    c.nout = kind == 0 ? c.nin : kind == 1 ? c.nin / 4 : kind == 2 ? c.planes : kind == 3 ? 4 * c.nin
           : kind == 4 ? c.planes * hw : c.nin;
    c.in = malloc(sizeof(float) * c.nin);
    c.out = malloc(sizeof(float) * c.nout);
    c.r = malloc(sizeof(float) * c.nout);
    float *din = calloc(c.nin, sizeof(float));
    randn(c.in, c.nin, 1);
    randn(c.r, c.nout, 1);
    if (kind <= 1) {
        c.mask = malloc(c.nin);
        c.ref_mask = malloc(c.nin);
    }
    ew_loss(&c);
    if (c.mask)
        memcpy(c.ref_mask, c.mask, c.nin);
    switch (kind) {
    case 0: relu_backward(0, c.nin, c.r, c.mask, din); break;
    case 1: maxpool2_backward(0, c.planes, c.h, c.w, c.r, c.mask, din); break;
    case 2: meanpool_backward(0, c.planes, hw, c.r, din); break;
    case 3: upsample2_backward(0, c.planes, c.h, c.w, 0.7f, c.r, din); break;
    case 4: broadcast_backward(0, c.planes, hw, 0.3f, c.r, din); break;
    case 5: softmax_backward_add(c.planes, c.h, c.out, c.r, din); break;
    }
    expect_ok(gradcheck(c.in, din, c.nin, (int)c.nin, 1e-3, 2e-3, 1e-2, ew_loss, kind <= 1 ? ew_kinked : NULL,
                        &c, &R, what), what);
    free(c.in); free(c.out); free(c.r); free(din); free(c.mask); free(c.ref_mask);
}

static void test_maxpool_switches(void)
{
    /* ties: exactly one winner per window, the first in scan order */
    float in[16] = {1, 1, 0, 0,
                    1, 1, 0, 0,
                    2, 3, 5, 5,
                    3, 1, 5, 4};
    float out[4];
    uint8_t sw[16];
    maxpool2_forward(0, 1, 4, 4, in, out, sw);
    uint8_t want[16] = {1, 0, 1, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0};
    CHECK(memcmp(sw, want, 16) == 0, "one winner per window, first in scan order on ties");
    CHECK(out[0] == 1 && out[1] == 0 && out[2] == 3 && out[3] == 5, "pooled values");
}

/* ---- Lemmas B.5 and B.6 ---- */

static void test_lemma_b5(void)
{
    int ok_val = 1, ok_arg = 1, ok_c = 1, ok_d = 1;
    for (int trial = 0; trial < 50; trial++) {
        enum { D = 10 };
        double z[D], u[D];
        int nonneg = trial % 5 == 0;
        for (int i = 0; i < D; i++) {
            z[i] = rng_normal(&R);
            u[i] = rng_normal(&R);
            if (nonneg)
                z[i] = fabs(z[i]);
        }
        double best = -1e300;
        int best_a = 0;
        for (int a = 0; a < (1 << D); a++) {
            double v = 0;
            for (int i = 0; i < D; i++)
                if (a >> i & 1)
                    v += z[i] * u[i];
            if (v > best)
                best = v, best_a = a;
        }
        double relu_sum = 0;
        int ahat = 0;
        for (int i = 0; i < D; i++) {
            double zu = z[i] * u[i];
            relu_sum += zu > 0 ? zu : 0;
            if (zu > 0)
                ahat |= 1 << i;
            /* (c): M_ahat u = sgn(z) * ReLU(sgn(z) * u) */
            double sg = z[i] > 0 ? 1 : -1, mu = (ahat >> i & 1) ? u[i] : 0;
            double rhs = sg * (sg * u[i] > 0 ? sg * u[i] : 0);
            if (fabs(mu - rhs) > 1e-12)
                ok_c = 0;
            /* (d): with z >= 0 the maximiser is [u > 0] and M_ahat u = ReLU(u) */
            if (nonneg && ((ahat >> i & 1) != (u[i] > 0)))
                ok_d = 0;
        }
        if (fabs(best - relu_sum) > 1e-9)
            ok_val = 0;
        if (best_a != ahat)
            ok_arg = 0;
    }
    CHECK(ok_val, "Lemma B.5(a): max over masks = 1^T ReLU(z*u)");
    CHECK(ok_arg, "Lemma B.5(b): maximiser = [z*u > 0]");
    CHECK(ok_c, "Lemma B.5(c): M_ahat u = sgn(z) ReLU(sgn(z) u)");
    CHECK(ok_d, "Lemma B.5(d): z >= 0 gives ahat = [u > 0]");
}

static void test_lemma_b6(void)
{
    int ok_val = 1, ok_arg = 1;
    for (int trial = 0; trial < 30; trial++) {
        enum { D = 5, T = 4 };
        double z[D], u[D][T];
        for (int x = 0; x < D; x++) {
            z[x] = rng_normal(&R);
            for (int t = 0; t < T; t++)
                u[x][t] = rng_normal(&R);
        }
        double best = -1e300;
        int best_t[D] = {0};
        int total = 1;
        for (int x = 0; x < D; x++)
            total *= T;
        for (int code = 0; code < total; code++) {
            int t[D], c = code;
            double v = 0;
            for (int x = 0; x < D; x++) {
                t[x] = c % T;
                c /= T;
                v += z[x] * u[x][t[x]];
            }
            if (v > best) {
                best = v;
                memcpy(best_t, t, sizeof t);
            }
        }
        /* closed form: sum_x |z_x| max_t sgn(z_x) u_x(t), argmax per row */
        double v = 0;
        for (int x = 0; x < D; x++) {
            double sg = z[x] > 0 ? 1 : -1, m = -1e300;
            int arg = 0;
            for (int t = 0; t < T; t++)
                if (sg * u[x][t] > m)
                    m = sg * u[x][t], arg = t;
            v += fabs(z[x]) * m;
            if (arg != best_t[x])
                ok_arg = 0;
        }
        if (fabs(v - best) > 1e-9)
            ok_val = 0;
    }
    CHECK(ok_val, "Lemma B.6(a): max over translations = sum |z_x| max_t sgn(z_x) u_x(t)");
    CHECK(ok_arg, "Lemma B.6(b): the maximiser is the row-wise argmax of sgn(z) u(t)");
}


/* The training tail of one plane (BN with given statistics, ReLU, max-pool
 * with switches, a = a-hat * t-hat) and the max-pool's backward equal the
 * separate scalar ops bit for bit, at widths that fill part of a 16-window
 * vector, one or several, with many ties (quantised values, zeros). */
static void test_postconv_train(void)
{
    const int widths[] = {2, 4, 6, 16, 30, 32, 34, 66};
    int same_fwd = 1, same_bwd = 1;
    for (size_t wi = 0; wi < sizeof widths / sizeof *widths; wi++) {
        const int h = 6, w = widths[wi], hw = h * w, np = hw / 4;
        float y[6 * 66], ref[6 * 66], xh[6 * 66], xref[6 * 66], pooled[6 * 33], pref[6 * 33];
        float g[6 * 33], d[6 * 66], dref[6 * 66];
        uint8_t a[6 * 66], aref[6 * 66], t[6 * 66], tref[6 * 66];
        for (int k = 0; k < hw; k++)
            y[k] = (float)((int)(rng_uniform(&R) * 7) - 3) * 0.5f;   /* -1.5 .. 1.5 in halves: ties */
        for (int k = 0; k < np; k++)
            g[k] = (float)rng_normal(&R);
        const float m = 0.25f, istd = 1.5f, gamma = -0.75f, beta = 0.125f;
        for (int k = 0; k < hw; k++) {   /* bn_forward_train's expressions, then relu_inplace */
            xref[k] = (y[k] - m) * istd;
            ref[k] = gamma * xref[k] + beta;
        }
        relu_inplace(hw, ref, aref);
        maxpool2_forward(0, 1, h, w, ref, pref, tref);
        for (int k = 0; k < hw; k++)
            aref[k] &= tref[k];
        postconv_train_plane(h, w, 1, m, istd, gamma, beta, 1, POOL_MAX, y, xh, a, t, pooled);
        same_fwd &= !memcmp(y, ref, sizeof(float) * hw) && !memcmp(xh, xref, sizeof(float) * hw) &&
                    !memcmp(pooled, pref, sizeof(float) * np) && !memcmp(a, aref, hw) && !memcmp(t, tref, hw);
        for (int k = 0; k < hw; k++)
            dref[k] = tref[k] ? g[(k / w / 2) * (w / 2) + (k % w) / 2] : 0.0f;
        maxpool2_backward(0, 1, h, w, g, tref, d);
        same_bwd &= !memcmp(d, dref, sizeof(float) * hw);
    }
    CHECK(same_fwd, "training BN + ReLU + max-pool of a plane equals the separate ops bit for bit");
    CHECK(same_bwd, "max-pool backward routes each window's gradient to its winner only");
}

int main(void)
{
    rng_seed(&R, 12345);
    pad_mode pads[3] = {PAD_VALID, PAD_HALF, PAD_FULL};
    for (int p = 0; p < 3; p++) {
        test_conv_grad(2, 7, 6, 3, 3, pads[p], 0);
        test_conv_grad(2, 7, 6, 3, 3, pads[p], 1);
    }
    test_conv_grad(3, 5, 5, 4, 1, PAD_VALID, 0);
    test_conv_grad(3, 5, 5, 4, 1, PAD_VALID, 1);
    test_conv_grad(1, 8, 8, 2, 5, PAD_FULL, 0);
    test_conv_adjoint();
    test_conv_batched(3, PAD_HALF);
    test_conv_batched(3, PAD_FULL);
    test_conv_batched(1, PAD_VALID);
    test_bn();
    test_elementwise(0, "relu");
    test_elementwise(1, "maxpool2");
    test_elementwise(2, "meanpool");
    test_elementwise(3, "upsample2");
    test_elementwise(4, "broadcast");
    test_elementwise(5, "softmax");
    test_maxpool_switches();
    test_lemma_b5();
    test_lemma_b6();
    /* last, so that the random draws of the tests above stay as they were */
    for (int p = 0; p < 3; p++) {
        test_conv_direct(2, 7, 9, 3, pads[p]);
        test_conv_direct(2, 9, 37, 5, pads[p]);
        test_conv_direct(1, 5, 18, 1, pads[p]);
    }
    test_postconv();
    test_postconv_train();
    return check_done();
}
