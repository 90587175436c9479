/* Whole-model tests of the DRMM: finite-difference gradients of the total
 * loss with all four terms for every top-down variant, the top-down pass as
 * the exact adjoint of the bottom-up map (I-hat of class c = the input
 * gradient of score c with the switches fixed), loss definitions, batch-norm
 * re-estimation, error reporting, and drmm_predict's lean evaluation path
 * against the full one. */
#include <cblas.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "drmm.h"
#include "error.h"
#include "gradcheck.h"
#include "rng.h"

static rng_t R;

static const char *NET_POOLS =
    "input channels=1 height=8 width=8\n"
    "conv filters=3 size=3 pad=half\n"
    "maxpool\n"
    "conv filters=4 size=3 pad=full\n"
    "conv filters=3 size=1 pad=valid\n"
    "meanpool\n";

static const char *NET_DENSE =
    "input channels=2 height=6 width=6\n"
    "conv filters=3 size=3 pad=valid bn=0\n"
    "conv filters=4 size=3 pad=full\n"
    "maxpool\n"
    "dense outputs=3\n";

/* The activations of each model: every pass of these tests goes through one
 * per model, made on its first use for up to ACT_ROWS rows and freed with the
 * model (free_model). */
enum { MAX_MODELS = 8, ACT_ROWS = 32 };
static struct { drmm *m; drmm_acts *A; } acts_of[MAX_MODELS];

static drmm_acts *ACT(drmm *m)
{
    int free_slot = -1;
    for (int i = 0; i < MAX_MODELS; i++) {
        if (acts_of[i].m == m)
            return acts_of[i].A;
        if (!acts_of[i].m && free_slot < 0)
            free_slot = i;
    }
    err_t e;
    if (free_slot < 0 || drmm_acts_create(m, ACT_ROWS, &acts_of[free_slot].A, &e)) {
        printf("activations: %s\n", free_slot < 0 ? "too many models" : e.msg);
        exit(1);
    }
    acts_of[free_slot].m = m;
    return acts_of[free_slot].A;
}

static void free_model(drmm *m)
{
    for (int i = 0; i < MAX_MODELS; i++)
        if (m && acts_of[i].m == m) {
            drmm_acts_free(acts_of[i].A);
            acts_of[i].m = NULL;
            acts_of[i].A = NULL;
        }
    drmm_free(m);
}

typedef struct model_ctx {
    drmm *m;
    float *x;
    int *labels;
    int n, n_lab;
    uint64_t ref_hash;
} model_ctx;

static double model_loss(void *p)
{
    model_ctx *c = p;
    drmm_losses L;
    err_t e;
    if (drmm_train_batch(c->m, ACT(c->m), c->x, c->labels, c->n_lab, c->n, 0, &L, &e))
        return NAN;
    return L.total;
}

static int model_kinked(void *p)
{
    model_ctx *c = p;
    return drmm_acts_switch_hash(ACT(c->m)) != c->ref_hash;
}

static int make_model(drmm **m, const char *net, const drmm_config *cfg, uint64_t seed)
{
    arch a;
    err_t e;
    if (arch_parse(&a, net, "test", &e)) {
        printf("arch: %s\n", e.msg);
        return -1;
    }
    int rc = drmm_create(m, &a, cfg, seed, &e);
    if (rc)
        printf("create: %s\n", e.msg);
    arch_free(&a);
    return rc;
}

/* Randomises gamma and beta so that the BN scale matters in the checks. */
static void jitter_bn(drmm *m)
{
    named_tensor t[64];
    int nt = drmm_param_tensors(m, t, 64);
    for (int i = 0; i < nt; i++) {
        if (strstr(t[i].name, ".gamma"))
            for (long k = 0; k < nt_numel(&t[i]); k++)
                t[i].data[k] = 0.6f + 0.8f * (float)rng_uniform(&R);
        if (strstr(t[i].name, ".beta") || strstr(t[i].name, "dense.bias"))
            for (long k = 0; k < nt_numel(&t[i]); k++)
                t[i].data[k] = 0.3f * (float)rng_normal(&R);
    }
}

static void gradient_case_h(const char *name, const char *net, const drmm_config *cfg, double step, double floor)
{
    drmm *m;
    if (make_model(&m, net, cfg, 7)) {
        CHECK(0, "%s: model", name);
        return;
    }
    jitter_bn(m);
    const arch *a = drmm_get_arch(m);
    int n = 6, n_lab = 3, P = a->channels * a->height * a->width;
    model_ctx c = {.m = m, .n = n, .n_lab = n_lab};
    c.x = malloc(sizeof(float) * n * P);
    c.labels = malloc(sizeof(int) * n);
    for (long k = 0; k < (long)n * P; k++)
        c.x[k] = (float)rng_uniform(&R);
    for (int i = 0; i < n; i++)
        c.labels[i] = i % a->classes;
    err_t e;
    drmm_losses L;
    /* as in training: the rendering at the data's scale, so the loss is O(1) */
    CHECK(drmm_calibrate_amplitude(m, ACT(m), c.x, c.labels, n_lab, n, &e) == 0, "%s: calibrate", name);
    CHECK(drmm_train_batch(m, ACT(m), c.x, c.labels, n_lab, n, DRMM_BACKWARD, &L, &e) == 0, "%s: batch", name);
    c.ref_hash = drmm_acts_switch_hash(ACT(m));
    CHECK(L.lh > 0 && L.lrc > 0 && isfinite(L.lkl), "%s: losses LH=%g LRC=%g LKL=%g LNN=%g", name, L.lh, L.lrc, L.lkl, L.lnn);
    long np = drmm_num_params(m);
    float *grad = malloc(sizeof(float) * np);
    memcpy(grad, drmm_grads(m), sizeof(float) * np);
    named_tensor t[64];
    int nt = drmm_param_tensors(m, t, 64);
    int bad = 0, checked = 0, skipped = 0;
    double worst = 0;
    for (int i = 0; i < nt; i++) {
        char what[160];
        snprintf(what, sizeof what, "%.80s: %.60s", name, t[i].name);
        long off = t[i].data - drmm_params(m);
        gc_result r = gradcheck(t[i].data, grad + off, nt_numel(&t[i]), 40, step, 1e-2, floor,
                                model_loss, model_kinked, &c, &R, what);
        bad += r.bad;
        checked += r.checked;
        skipped += r.skipped;
        worst = fmax(worst, r.worst);
    }
    CHECK(bad == 0 && checked > 50, "%s: %d of %d coordinates wrong, %d skipped at kinks, worst rel %.3g",
          name, bad, checked, skipped, worst);
    printf("  %s: %d coordinates checked, %d skipped at kinks, worst relative error %.2g\n", name, checked, skipped, worst);
    free(c.x); free(c.labels); free(grad);
    free_model(m);
}

static void gradient_case(const char *name, const char *net, const drmm_config *cfg)
{
    gradient_case_h(name, net, cfg, 1e-3, 1e-2);
}

static void test_gradients(void)
{
    drmm_config cfg;
    drmm_config_default(&cfg);
    cfg.a_rc = 0.7f;   /* make every term weigh */
    cfg.a_kl = 0.5f;
    cfg.a_nn = 2.0f;
    cfg.td_param = TD_PARAM_AMPLITUDE;   /* these cases vary the amplitude variant */
    gradient_case("adjoint, one-hot, amplitude", NET_POOLS, &cfg);

    drmm_config c2 = cfg;
    c2.td_scale = TD_SCALE_LITERAL;
    c2.td_top = TD_TOP_SOFTMAX;
    c2.td_param = TD_PARAM_TEMPLATE;
    c2.unsup_both = 1;
    c2.kl_literal = 1;
    gradient_case("literal, softmax top, template, both halves, literal KL", NET_POOLS, &c2);

    drmm_config c3 = cfg;
    c3.td_top = TD_TOP_SOFTMAX;
    c3.td_true_label = 1;
    c3.unsup_both = 1;
    c3.threads = 2;
    gradient_case("dense net, no-BN layer, softmax top, true labels, 2 threads", NET_DENSE, &c3);

    drmm_config c4 = cfg;
    c4.td_param = TD_PARAM_TEMPLATE;
    c4.td_top = TD_TOP_ONEHOT;
    gradient_case("dense net, adjoint, template", NET_DENSE, &c4);

    drmm_config c5 = cfg;
    c5.a_rcl = 0.8f;
    gradient_case("per-layer reconstruction LRCL", NET_POOLS, &c5);
    gradient_case("per-layer reconstruction LRCL, dense net", NET_DENSE, &c5);

    drmm_config c6 = cfg;
    c6.td_top = TD_TOP_ACTIVATIONS;
    gradient_case("what-where top (activations)", NET_POOLS, &c6);
    c6.a_rcl = 0.5f;
    c6.threads = 2;
    gradient_case("what-where top + LRCL, dense net, 2 threads", NET_DENSE, &c6);

    /* the Neural Rendering Model's top-down pass: a BN of its own after every
       transposed convolution, standardised input; tied, copied and
       independent top-down filters */
    drmm_config c8 = cfg;
    c8.td_param = TD_PARAM_BN;
    c8.td_scale = TD_SCALE_LITERAL;
    c8.td_true_label = 1;
    c8.unsup_both = 1;
    gradient_case("top-down BN (NRM), literal, true labels, both halves", NET_POOLS, &c8);
    c8.in_norm = 1;
    c8.td_weights = TD_WEIGHTS_COPY;
    c8.threads = 2;
    gradient_case("top-down BN, input standardised, copied top-down filters, 2 threads", NET_POOLS, &c8);
    c8.td_weights = TD_WEIGHTS_INDEPENDENT;
    c8.td_scale = TD_SCALE_ADJOINT;
    c8.unsup_both = 0;
    c8.a_rcl = 0.5f;
    gradient_case("top-down BN, adjoint, independent filters, LRCL, dense net", NET_DENSE, &c8);
    c8.td_leak = 0.1f;
    c8.td_scale = TD_SCALE_LITERAL;
    gradient_case("top-down BN with leaky switches (0.1), dense net", NET_DENSE, &c8);
    gradient_case("top-down BN with leaky switches (0.1), max-pool net", NET_POOLS, &c8);
    /* the NRM's BN moment matching LMM (with the top-down BN it needs), and
       dropout at the classifier's input: the last conv layer's input (max-pool
       net) or the dense layer's */
    drmm_config c10 = cfg;
    c10.td_param = TD_PARAM_BN;
    c10.td_scale = TD_SCALE_LITERAL;
    c10.td_true_label = 1;
    c10.unsup_both = 1;
    c10.in_norm = 1;
    c10.a_mm = 0.7f;
    gradient_case("BN moment matching LMM, top-down BN, both halves", NET_POOLS, &c10);
    c10.unsup_both = 0;
    c10.threads = 2;
    gradient_case("LMM, unlabelled half, dense net, 2 threads", NET_DENSE, &c10);
    c10.a_rcl = 0.5f;
    c10.dropout = 0.3f;
    /* at the step 1e-3 one tiny coordinate (gradient 2e-4) is off by 1.2e-4,
       the float32 rounding noise of a loss of order 1 over 2e-3; at 3e-3
       every checked coordinate agrees within 0.3% */
    gradient_case_h("LMM with LRCL and dropout 0.3, 2 threads", NET_POOLS, &c10, 3e-3, 1e-2);
    drmm_config c11 = cfg;
    c11.dropout = 0.3f;
    gradient_case("dropout 0.3 at the last conv layer's input", NET_POOLS, &c11);
    gradient_case("dropout 0.3 at the dense layer's input", NET_DENSE, &c11);

    drmm_config c9 = cfg;
    c9.td_weights = TD_WEIGHTS_INDEPENDENT;
    /* independent top-down filters render far from the image at first, so the
       loss is larger and its float32 rounding noise with it: a larger step
       (at 3e-4 the discrepancy grows, at 3e-3 it falls to 0.4%: noise, not
       a wrong gradient) */
    gradient_case_h("untied filters with the amplitude", NET_POOLS, &c9, 3e-3, 1e-2);

    /* aRC 10 makes the loss about 10 times larger, and the float32 rounding
       noise of its finite differences with it: a 5x larger floor for tiny
       gradients (large ones are still held to 1%) */
    drmm_config c7;
    drmm_config_default(&c7);
    gradient_case_h("default (adjoint, one-hot, template, aRC 10)", NET_POOLS, &c7, 1e-3, 5e-2);
}

/* In evaluation mode with the switches fixed, the bottom-up map is affine in
 * the input, and the adjoint top-down pass from one-hot(c) must equal the
 * gradient of score c with respect to the input. */
static void adjoint_case(const char *net, const char *name)
{
    drmm_config cfg;
    drmm_config_default(&cfg);
    cfg.td_param = TD_PARAM_NONE;
    drmm *m;
    if (make_model(&m, net, &cfg, 11)) {
        CHECK(0, "model");
        return;
    }
    jitter_bn(m);
    named_tensor t[64];
    int nt = drmm_tensors(m, t, 64);
    for (int i = 0; i < nt; i++)
        if (strstr(t[i].name, "running_var"))
            for (long k = 0; k < nt_numel(&t[i]); k++)
                t[i].data[k] = 0.5f + (float)rng_uniform(&R);
    const arch *a = drmm_get_arch(m);
    int P = a->channels * a->height * a->width;
    float *x = malloc(sizeof(float) * P), *ihat = malloc(sizeof(float) * P);
    for (int k = 0; k < P; k++)
        x[k] = (float)rng_uniform(&R);
    err_t e;
    int worst_bad = 0, checked = 0;
    for (int c = 0; c < a->classes; c++) {
        CHECK(drmm_reconstruct(m, ACT(m), x, &c, 1, ihat, &e) == 0, "reconstruct: %s", e.msg);
        drmm_predict(m, ACT(m), x, 1, NULL, &e);
        uint64_t ref = drmm_acts_switch_hash(ACT(m));
        for (int k = 0; k < P; k++) {
            float old = x[k];
            double h = 1e-2;
            x[k] = (float)(old + h);
            drmm_predict(m, ACT(m), x, 1, NULL, &e);
            double zp = drmm_acts_logits(ACT(m))[c];
            int kink = drmm_acts_switch_hash(ACT(m)) != ref;
            x[k] = (float)(old - h);
            drmm_predict(m, ACT(m), x, 1, NULL, &e);
            double zm = drmm_acts_logits(ACT(m))[c];
            kink |= drmm_acts_switch_hash(ACT(m)) != ref;
            x[k] = old;
            if (kink)
                continue;
            double fd = (zp - zm) / (2 * h);
            checked++;
            if (fabs(fd - ihat[k]) > 2e-3 * fmax(1.0, fabs(fd)))
                worst_bad++;
        }
    }
    CHECK(worst_bad == 0 && checked > P, "%s: I-hat(c) = d score_c / d input: %d of %d pixels differ", name, worst_bad, checked);
    free(x);
    free(ihat);
    free_model(m);
}

/* The losses follow their definitions on a batch computed by hand. */
static void test_loss_definitions(void)
{
    drmm_config cfg;
    drmm_config_default(&cfg);
    drmm *m;
    make_model(&m, NET_POOLS, &cfg, 3);
    int n = 4, n_lab = 2, P = 64, K = 3;
    float x[4 * 64];
    int labels[2] = {0, 2};
    for (int k = 0; k < n * P; k++)
        x[k] = (float)rng_uniform(&R);
    drmm_losses L;
    err_t e;
    CHECK(drmm_train_batch(m, ACT(m), x, labels, n_lab, n, 0, &L, &e) == 0, "batch");
    const float *q = drmm_acts_probs(ACT(m));
    double lh = -(log(q[0 * K + 0]) + log(q[1 * K + 2])) / 2, kl = 0, x2 = 0;
    for (int i = n_lab; i < n; i++)
        for (int c = 0; c < K; c++)
            kl += q[i * K + c] * log(K * q[i * K + c]);
    kl = -kl / (n - n_lab);   /* the authors' sign */
    for (int k = n_lab * P; k < n * P; k++)
        x2 += (double)x[k] * x[k];
    x2 /= (n - n_lab) * P;
    CHECK_CLOSE(L.lh, lh, 1e-5, "LH = mean cross-entropy of the labelled rows");
    CHECK_CLOSE(L.lkl, kl, 1e-5, "LKL = -mean sum q log(Cq) (authors' sign)");
    CHECK_CLOSE(L.x2, x2, 1e-6, "mean(I^2) of the unlabelled rows");
    CHECK(L.n_lab == 2 && L.n_unsup == 2, "rows: %d labelled, %d unsupervised", L.n_lab, L.n_unsup);
    int first, rows;
    const float *ih = drmm_acts_ihat(ACT(m), &first, &rows);
    double rc = 0;
    for (int k = first * P; k < rows * P; k++)
        rc += (x[k] - ih[k]) * (double)(x[k] - ih[k]);
    CHECK(first == 2 && rows == 4, "I-hat rows %d..%d", first, rows);
    CHECK_CLOSE(L.lrc, rc / ((rows - first) * P), 1e-6, "LRC = mean squared error of I-hat");
    CHECK_CLOSE(L.total, L.lh + 10 * L.lrc + L.lkl + L.lnn, 1e-6, "total = weighted sum (default weights 1, 10, 1, 1)");
    CHECK(L.lrcl > 0, "LRCL measured (%g) even with weight 0", L.lrcl);
    /* the warm-up scale weighs the unsupervised terms, not the reported losses */
    drmm_losses Ls;
    drmm_set_unsup_scale(m, 0.25f);
    CHECK(drmm_train_batch(m, ACT(m), x, labels, n_lab, n, 0, &Ls, &e) == 0, "batch with unsup scale");
    CHECK_CLOSE(Ls.lrc, L.lrc, 1e-9, "unsup scale leaves LRC as measured");
    CHECK_CLOSE(Ls.total, L.lh + 0.25 * (10 * L.lrc + L.lkl + L.lnn), 1e-6, "total with the unsupervised terms scaled by 0.25");
    drmm_set_unsup_scale(m, 1);
    /* the literal KL has the opposite sign */
    free_model(m);
    cfg.kl_literal = 1;
    make_model(&m, NET_POOLS, &cfg, 3);
    drmm_losses L2;
    drmm_train_batch(m, ACT(m), x, labels, n_lab, n, 0, &L2, &e);
    CHECK_CLOSE(L2.lkl, -L.lkl, 1e-6, "literal KL = -(authors' term)");
    CHECK(L2.lkl >= -1e-7, "literal KL(q || uniform) >= 0: %g", L2.lkl);
    /* amplitude calibration makes mean(I-hat^2) = mean(I^2) */
    CHECK(drmm_calibrate_amplitude(m, ACT(m), x, labels, n_lab, n, &e) == 0, "calibrate: %s", e.msg);
    drmm_train_batch(m, ACT(m), x, labels, n_lab, n, 0, &L2, &e);
    ih = drmm_acts_ihat(ACT(m), &first, &rows);
    double ih2 = 0;
    for (int k = first * P; k < rows * P; k++)
        ih2 += (double)ih[k] * ih[k];
    CHECK_CLOSE(ih2 / ((rows - first) * P), L2.x2, 1e-4, "calibrated mean(I-hat^2) = mean(I^2)");
    free_model(m);
}

/* td_scale adjoint-const renders like adjoint but holds gamma/sigma constant
 * in the gradient: with LRC the only term, gamma and beta get no gradient (the
 * switches and the one-hot class carry none), the class template gets the same
 * gradient as in adjoint mode, and the filters a different one (the path
 * through the BN statistics is cut). */
static void test_scale_const(void)
{
    drmm_config cfg;
    drmm_config_default(&cfg);
    cfg.a_h = 0;
    cfg.a_kl = 0;
    cfg.a_nn = 0;
    cfg.a_rc = 1;
    drmm *m[2];
    for (int k = 0; k < 2; k++) {
        cfg.td_scale = k ? TD_SCALE_ADJOINT_CONST : TD_SCALE_ADJOINT;
        if (make_model(&m[k], NET_POOLS, &cfg, 7)) {
            CHECK(0, "model");
            return;
        }
        rng_seed(&R, 99);
        jitter_bn(m[k]);
    }
    const arch *a = drmm_get_arch(m[0]);
    int n = 6, n_lab = 2, P = a->channels * a->height * a->width, labels[6];
    float *x = malloc(sizeof(float) * n * P);
    for (long k = 0; k < (long)n * P; k++)
        x[k] = (float)rng_uniform(&R);
    for (int i = 0; i < n; i++)
        labels[i] = i % a->classes;
    drmm_losses L[2];
    err_t e;
    for (int k = 0; k < 2; k++)
        CHECK(drmm_train_batch(m[k], ACT(m[k]), x, labels, n_lab, n, DRMM_BACKWARD, &L[k], &e) == 0, "batch: %s", e.msg);
    CHECK(L[0].lrc > 0 && L[0].lrc == L[1].lrc, "same rendering: LRC %g and %g", L[0].lrc, L[1].lrc);

    named_tensor t[64];
    int nt = drmm_param_tensors(m[0], t, 64);
    const float *g0 = drmm_grads(m[0]), *g1 = drmm_grads(m[1]);
    double bn_const = 0, gamma_adj = 0, tmpl_diff = 0, tmpl = 0, filt_const = 0, filt_diff = 0;
    for (int i = 0; i < nt; i++) {
        long off = t[i].data - drmm_params(m[0]);
        for (long k = off; k < off + nt_numel(&t[i]); k++) {
            double d = fabs((double)g0[k] - g1[k]);
            if (strstr(t[i].name, ".gamma") || strstr(t[i].name, ".beta"))
                bn_const = fmax(bn_const, fabs(g1[k]));
            if (strstr(t[i].name, ".gamma"))
                gamma_adj = fmax(gamma_adj, fabs(g0[k]));
            if (strstr(t[i].name, "template")) {
                tmpl_diff = fmax(tmpl_diff, d);
                tmpl = fmax(tmpl, fabs(g0[k]));
            }
            if (strstr(t[i].name, ".weight")) {
                filt_const = fmax(filt_const, fabs(g1[k]));
                filt_diff = fmax(filt_diff, d);
            }
        }
    }
    CHECK(bn_const == 0 && gamma_adj > 0, "gamma/beta gradient from LRC: %g held constant, %g in adjoint mode",
          bn_const, gamma_adj);
    CHECK(tmpl > 0 && tmpl_diff <= 1e-6 * tmpl, "template gradient the same in both modes (max %g, diff %g)", tmpl,
          tmpl_diff);
    CHECK(filt_const > 0 && filt_diff > 1e-6 * filt_const, "filters: gradient %g held constant, differs by %g",
          filt_const, filt_diff);
    free(x);
    free_model(m[0]);
    free_model(m[1]);
}

static void test_errors(void)
{
    drmm_config cfg;
    drmm_config_default(&cfg);
    drmm *m;
    make_model(&m, NET_POOLS, &cfg, 5);
    float x[2 * 64];
    for (int k = 0; k < 128; k++)
        x[k] = (float)rng_uniform(&R);
    int labels[2] = {0, 5};
    err_t e;
    drmm_losses L;
    CHECK(drmm_train_batch(m, ACT(m), x, labels, 2, 2, 0, &L, &e) != 0 && strstr(e.msg, "out of range"),
          "label out of range is refused: %s", e.msg);
    labels[1] = 1;
    CHECK(drmm_train_batch(m, ACT(m), x, labels, 3, 2, 0, &L, &e) != 0, "more labelled rows than rows is refused");
    /* a non-finite loss is detected and reported */
    drmm_params(m)[0] = NAN;
    CHECK(drmm_train_batch(m, ACT(m), x, labels, 1, 2, DRMM_BACKWARD, &L, &e) != 0 && strstr(e.msg, "non-finite"),
          "non-finite loss reported: %s", e.msg);
    /* activations: made for at least one row, for this model, for as many rows as a pass has */
    drmm_acts *small = NULL, *other_acts = NULL;
    CHECK(drmm_acts_create(m, 0, &small, &e) != 0 && !small && strstr(e.msg, "at least one"),
          "activations for 0 rows refused: %s", e.msg);
    CHECK(drmm_acts_create(m, 1, &small, &e) == 0, "activations for 1 row: %s", e.msg);
    float probs[2 * 10];
    CHECK(drmm_predict(m, small, x, 2, probs, &e) != 0 && strstr(e.msg, "a pass of 2 images into activations for 1"),
          "a pass of more rows than the activations hold refused: %s", e.msg);
    CHECK(drmm_predict(m, small, x, 1, probs, &e) == 0 && drmm_acts_rows(small) == 1, "a pass of 1 row: %s", e.msg);
    drmm *other;
    make_model(&other, NET_POOLS, &cfg, 6);
    CHECK(drmm_acts_create(other, 2, &other_acts, &e) == 0, "activations of another model: %s", e.msg);
    CHECK(drmm_predict(m, other_acts, x, 1, probs, &e) != 0 && strstr(e.msg, "another model"),
          "activations of another model refused: %s", e.msg);
    drmm_acts_free(small);
    drmm_acts_free(other_acts);
    free_model(other);
    free_model(m);
    arch a;
    CHECK(arch_parse(&a, NET_POOLS, "t", &e) == 0, "parse");
    cfg.threads = 0;
    CHECK(drmm_create(&m, &a, &cfg, 1, &e) != 0 && strstr(e.msg, "threads"), "zero threads refused");
    arch_free(&a);
}

/* Re-estimated BN statistics equal the population statistics of one batch. */
static void test_bn_recalibrate(void)
{
    drmm_config cfg;
    drmm_config_default(&cfg);
    drmm *m;
    make_model(&m, NET_POOLS, &cfg, 9);
    int n = 8, P = 64;
    float *x = malloc(sizeof(float) * n * P), *p1 = malloc(sizeof(float) * n * 3), *p2 = malloc(sizeof(float) * n * 3);
    for (int k = 0; k < n * P; k++)
        x[k] = (float)rng_uniform(&R);
    err_t e;
    drmm_losses L;
    /* training-mode probabilities with batch statistics */
    drmm_train_batch(m, ACT(m), x, NULL, 0, n, 0, &L, &e);
    memcpy(p1, drmm_acts_probs(ACT(m)), sizeof(float) * n * 3);
    CHECK(drmm_bn_recalibrate(m, x, n, n, &e) == 0, "recalibrate");
    /* running var is unbiased: scale back to the batch's biased variance for the comparison */
    named_tensor t[64];
    int nt = drmm_tensors(m, t, 64);
    const arch *a = drmm_get_arch(m);
    for (int i = 0; i < nt; i++)
        if (strstr(t[i].name, "running_var")) {
            int l = t[i].name[4] - '1';
            long cnt = (long)n * a->blocks[l].g.ho * a->blocks[l].g.wo;
            for (long k = 0; k < nt_numel(&t[i]); k++)
                t[i].data[k] *= (float)(cnt - 1) / cnt;
        }
    drmm_predict(m, ACT(m), x, n, p2, &e);
    double md = 0;
    for (int k = 0; k < n * 3; k++)
        md = fmax(md, fabs(p1[k] - p2[k]));
    CHECK(md < 1e-4, "evaluation with re-estimated statistics = training mode on the same batch (max diff %g)", md);
    free(x); free(p1); free(p2);
    free_model(m);
}

static double max_abs_diff(const float *a, const float *b, long n)
{
    double md = 0;
    for (long k = 0; k < n; k++)
        md = fmax(md, fabs((double)a[k] - b[k]));
    return md;
}

static float *named(drmm *m, const char *name)
{
    named_tensor t[96];
    int nt = drmm_tensors(m, t, 96);
    for (int i = 0; i < nt && i < 96; i++)
        if (!strcmp(t[i].name, name))
            return t[i].data;
    return NULL;
}

/* A model that standardises its input equals a model fed the standardised
 * input, and gives its reconstructions back in the input's units. */
static void test_input_norm(void)
{
    drmm_config cfg;
    drmm_config_default(&cfg);
    cfg.td_param = TD_PARAM_BN;
    drmm *a, *b;
    make_model(&a, NET_DENSE, &cfg, 21);
    cfg.in_norm = 1;
    make_model(&b, NET_DENSE, &cfg, 21);
    const int n = 6, P = 2 * 36, hw = 36;
    const float mean[2] = {0.3f, -0.2f}, sd[2] = {0.25f, 2.0f};
    err_t e;
    CHECK(drmm_set_input_norm(b, mean, sd, &e) == 0, "set the standardisation: %s", e.msg);
    float bad[2] = {0.1f, 0.0f};
    CHECK(drmm_set_input_norm(b, mean, bad, &e) == -1 && strstr(e.msg, "channel 1"), "a zero std is refused: %s", e.msg);
    CHECK(drmm_set_input_norm(a, mean, sd, &e) == -1, "a model without in_norm refuses a standardisation");
    CHECK(named(b, "input.mean") && named(b, "input.std") && !named(a, "input.mean"), "input.mean/std are model statistics");
    float *x = malloc(sizeof(float) * n * P), *xs = malloc(sizeof(float) * n * P);
    float *ia = malloc(sizeof(float) * n * P), *ib = malloc(sizeof(float) * n * P);
    int labels[6] = {0, 1, 2, 0, 1, 2};
    for (long k = 0; k < (long)n * P; k++) {
        int c = (int)((k % P) / hw);
        x[k] = (float)rng_uniform(&R);
        xs[k] = (x[k] - mean[c]) * (1.0f / sd[c]);
    }
    drmm_losses La, Lb;
    CHECK(drmm_train_batch(a, ACT(a), xs, labels, 3, n, DRMM_BACKWARD, &La, &e) == 0 &&
          drmm_train_batch(b, ACT(b), x, labels, 3, n, DRMM_BACKWARD, &Lb, &e) == 0, "batches: %s", e.msg);
    CHECK(La.total == Lb.total && La.lrc == Lb.lrc, "standardised inside = standardised outside (%.9g vs %.9g)", La.total,
          Lb.total);
    CHECK(max_abs_diff(drmm_grads(a), drmm_grads(b), drmm_num_params(a)) == 0, "the same gradients");
    CHECK(drmm_reconstruct(a, ACT(a), xs, NULL, n, ia, &e) == 0 && drmm_reconstruct(b, ACT(b), x, NULL, n, ib, &e) == 0, "reconstruct");
    for (long k = 0; k < (long)n * P; k++) {
        int c = (int)((k % P) / hw);
        ia[k] = ia[k] * sd[c] + mean[c];
    }
    CHECK(max_abs_diff(ia, ib, (long)n * P) < 1e-5, "I-hat comes back in the input's units (max diff %g)",
          max_abs_diff(ia, ib, (long)n * P));
    free(x); free(xs); free(ia); free(ib);
    free_model(a);
    free_model(b);
}

/* The NRM top-down pass with identity BN statistics is the plain adjoint
 * pass (so it renders I-hat(c) = d score_c / d input, checked by
 * adjoint_case); copied top-down filters render like tied ones; the BN
 * re-estimation sets the top-down statistics as training does. */
static void test_td_bn(void)
{
    drmm_config cfg;
    drmm_config_default(&cfg);
    cfg.td_param = TD_PARAM_NONE;
    drmm *plain, *bn, *copy;
    make_model(&plain, NET_POOLS, &cfg, 31);
    cfg.td_weights = TD_WEIGHTS_COPY;
    make_model(&copy, NET_POOLS, &cfg, 31);
    cfg.td_weights = TD_WEIGHTS_TIED;
    cfg.td_param = TD_PARAM_BN;
    make_model(&bn, NET_POOLS, &cfg, 31);
    jitter_bn(plain);   /* copied into the other two below */
    const int n = 5, P = 64;
    float *x = malloc(sizeof(float) * n * P), *i1 = malloc(sizeof(float) * n * P), *i2 = malloc(sizeof(float) * n * P);
    for (long k = 0; k < (long)n * P; k++)
        x[k] = (float)rng_uniform(&R);
    /* identical bottom-up parameters in the three models */
    named_tensor t[96];
    int nt = drmm_param_tensors(plain, t, 96);
    for (int i = 0; i < nt; i++) {
        float *d = named(bn, t[i].name), *c = named(copy, t[i].name);
        if (d) memcpy(d, t[i].data, sizeof(float) * nt_numel(&t[i]));
        if (c) memcpy(c, t[i].data, sizeof(float) * nt_numel(&t[i]));
    }
    for (int l = 1; l <= 3; l++) {
        char name[64];
        snprintf(name, sizeof name, "conv%d.weight", l);
        float *src = named(plain, name);
        snprintf(name, sizeof name, "td%d.weight", l);
        float *dst = named(copy, name);
        CHECK(src && dst, "copy model has %s", name);
        if (src && dst)
            memcpy(dst, src, sizeof(float) * (l == 1 ? 27 : l == 2 ? 108 : 12));
        snprintf(name, sizeof name, "td%d.bn.running_var", l);
        float *v = named(bn, name);
        CHECK(v != NULL, "bn model has %s", name);
        int cin = l == 1 ? 1 : 3;
        snprintf(name, sizeof name, "td%d.bn.gamma", l);
        float *g = named(bn, name);
        snprintf(name, sizeof name, "td%d.bn.beta", l);
        float *be = named(bn, name);
        for (int c = 0; v && g && be && c < cin; c++) {
            v[c] = 1.0f - cfg.bn_eps;   /* 1/sqrt(var + eps) = 1 */
            g[c] = 1.0f;
            be[c] = 0.0f;
        }
    }
    err_t e;
    int labels[5] = {0, 1, 2, 1, 0};
    CHECK(drmm_reconstruct(plain, ACT(plain), x, labels, n, i1, &e) == 0 && drmm_reconstruct(bn, ACT(bn), x, labels, n, i2, &e) == 0, "reconstruct");
    CHECK(max_abs_diff(i1, i2, (long)n * P) < 1e-5, "identity top-down BN = the adjoint pass (max diff %g)",
          max_abs_diff(i1, i2, (long)n * P));
    CHECK(drmm_reconstruct(copy, ACT(copy), x, labels, n, i2, &e) == 0 && max_abs_diff(i1, i2, (long)n * P) == 0,
          "copied top-down filters render exactly like tied ones");
    /* evaluation renders with the running statistics: an image's I-hat does
       not depend on the other images of the batch */
    named(bn, "td1.bn.running_mean")[0] = 0.3f;
    named(bn, "td2.bn.running_var")[1] = 2.5f;
    CHECK(drmm_reconstruct(bn, ACT(bn), x, labels, n, i1, &e) == 0 && drmm_reconstruct(bn, ACT(bn), x + P, labels + 1, 1, i2, &e) == 0,
          "reconstruct");
    CHECK(max_abs_diff(i1 + P, i2, P) == 0, "evaluation-mode top-down BN uses the running statistics");
    /* re-estimation: with momentum 0 a training batch leaves its own
       statistics as the running ones; re-estimating on that batch alone
       must give the same top-down statistics */
    drmm_config c2;
    drmm_config_default(&c2);
    c2.td_param = TD_PARAM_BN;
    c2.bn_momentum = 0;
    drmm *m;
    make_model(&m, NET_POOLS, &c2, 33);
    drmm_losses L;
    CHECK(drmm_train_batch(m, ACT(m), x, NULL, 0, n, DRMM_UPDATE_STATS, &L, &e) == 0, "batch: %s", e.msg);
    float ref[2][3];
    memcpy(ref[0], named(m, "td2.bn.running_mean"), sizeof(float) * 3);
    memcpy(ref[1], named(m, "td1.bn.running_var"), sizeof(float) * 1);
    for (int c = 0; c < 3; c++)
        named(m, "td2.bn.running_mean")[c] = 7.0f;
    named(m, "td1.bn.running_var")[0] = 7.0f;
    CHECK(drmm_bn_recalibrate(m, x, n, n, &e) == 0, "recalibrate: %s", e.msg);
    CHECK(max_abs_diff(ref[0], named(m, "td2.bn.running_mean"), 3) < 1e-6 &&
          max_abs_diff(ref[1], named(m, "td1.bn.running_var"), 1) < 1e-6 * (1 + fabs(ref[1][0])),
          "re-estimated top-down statistics = those of training on the batch");
    free(x); free(i1); free(i2);
    free_model(plain); free_model(bn); free_model(copy); free_model(m);
}

/* drmm_predict equals the full evaluation-mode bottom-up (the one under
 * drmm_reconstruct) up to rounding, and gives bit-identical probabilities,
 * activations and switches with 1, 2 and 3 threads. */
static void predict_case(const char *net, const char *name)
{
    enum { N = 23 };   /* not a multiple of the rows per group */
    drmm_config cfg;
    drmm_config_default(&cfg);
    drmm *m[3];
    for (int t = 0; t < 3; t++) {
        cfg.threads = t + 1;
        if (make_model(&m[t], net, &cfg, 5)) {
            CHECK(0, "%s: model", name);
            return;
        }
    }
    /* random BN parameters and running statistics, the same in every model */
    named_tensor t0[64], t1[64];
    int nt = drmm_tensors(m[0], t0, 64);
    for (int i = 0; i < nt; i++)
        for (long k = 0; k < nt_numel(&t0[i]); k++) {
            if (strstr(t0[i].name, "running_var") || strstr(t0[i].name, ".gamma"))
                t0[i].data[k] = 0.5f + (float)rng_uniform(&R);
            else if (strstr(t0[i].name, "running_mean") || strstr(t0[i].name, ".beta"))
                t0[i].data[k] = 0.3f * (float)rng_normal(&R);
        }
    for (int t = 1; t < 3; t++) {
        drmm_tensors(m[t], t1, 64);
        for (int i = 0; i < nt; i++)
            memcpy(t1[i].data, t0[i].data, sizeof(float) * nt_numel(&t0[i]));
    }
    const arch *a = drmm_get_arch(m[0]);
    int P = a->channels * a->height * a->width, K = a->classes;
    float *x = malloc(sizeof(float) * N * P), *p[3], *ref = malloc(sizeof(float) * N * K);
    for (long k = 0; k < (long)N * P; k++)
        x[k] = (float)rng_uniform(&R);
    err_t e;
    uint64_t hash[3];
    for (int t = 0; t < 3; t++) {
        p[t] = malloc(sizeof(float) * N * K);
        CHECK(drmm_predict(m[t], ACT(m[t]), x, N, p[t], &e) == 0, "%s: predict: %s", name, e.msg);
        hash[t] = drmm_acts_switch_hash(ACT(m[t]));
    }
    int same = hash[1] == hash[0] && hash[2] == hash[0];
    for (int t = 1; t < 3; t++) {
        same &= memcmp(p[t], p[0], sizeof(float) * N * K) == 0;
        for (int l = 0; l < a->nblocks; l++) {
            int C, H, W;
            const float *u = drmm_acts_block(ACT(m[0]), l, &C, &H, &W), *v = drmm_acts_block(ACT(m[t]), l, NULL, NULL, NULL);
            same &= memcmp(u, v, sizeof(float) * N * C * H * W) == 0;
        }
    }
    CHECK(same, "%s: predict with 1, 2 and 3 threads: bit-identical probabilities, activations and switches", name);
    /* the full evaluation-mode bottom-up: run by drmm_reconstruct on model 1 */
    float **act = malloc(sizeof(float *) * a->nblocks);
    long *cnt = malloc(sizeof(long) * a->nblocks);
    for (int l = 0; l < a->nblocks; l++) {
        int C, H, W;
        const float *u = drmm_acts_block(ACT(m[1]), l, &C, &H, &W);
        cnt[l] = (long)N * C * H * W;
        act[l] = malloc(sizeof(float) * cnt[l]);
        memcpy(act[l], u, sizeof(float) * cnt[l]);
    }
    CHECK(drmm_reconstruct(m[1], ACT(m[1]), x, NULL, N, NULL, &e) == 0, "%s: reconstruct: %s", name, e.msg);
    memcpy(ref, drmm_acts_probs(ACT(m[1])), sizeof(float) * N * K);
    double md = 0;
    for (long k = 0; k < (long)N * K; k++)
        md = fmax(md, fabs(ref[k] - p[0][k]));
    for (int l = 0; l < a->nblocks; l++) {
        const float *u = drmm_acts_block(ACT(m[1]), l, NULL, NULL, NULL);
        for (long k = 0; k < cnt[l]; k++)
            md = fmax(md, fabs(u[k] - act[l][k]) / fmax(1.0, fabs(u[k])));
        free(act[l]);
    }
    CHECK(md < 1e-5, "%s: predict equals the full evaluation-mode bottom-up (max diff %g)", name, md);
    for (int t = 0; t < 3; t++) {
        free(p[t]);
        free_model(m[t]);
    }
    free(act); free(cnt); free(x); free(ref);
}

/* LMM by its definition, from what the engine exposes: with BN momentum 0
 * the top-down BN's running statistics are the last batch's (the variance
 * unbiased), and the dense net's first block has no pooling, so its
 * activations are the second block's input. */
static void test_moment_matching(void)
{
    drmm_config cfg;
    drmm_config_default(&cfg);
    cfg.td_param = TD_PARAM_BN;
    cfg.td_scale = TD_SCALE_LITERAL;
    cfg.a_rc = 0.5f;
    cfg.a_mm = 0.25f;
    cfg.bn_momentum = 0;
    drmm *m;
    CHECK(make_model(&m, NET_DENSE, &cfg, 5) == 0, "LMM model");
    enum { N = 6, NL = 2, P = 72 };
    float x[N * P];
    int labels[NL] = {1, 2};
    for (int k = 0; k < N * P; k++)
        x[k] = (float)rng_uniform(&R);
    drmm_losses L;
    err_t e;
    CHECK(drmm_train_batch(m, ACT(m), x, labels, NL, N, DRMM_UPDATE_STATS, &L, &e) == 0, "LMM batch");
    int C, h, w;
    const float *act = drmm_acts_block(ACT(m), 0, &C, &h, &w);
    const float *rm = named(m, "td2.bn.running_mean"), *rv = named(m, "td2.bn.running_var");
    const double eps = cfg.bn_eps, cnt = (double)(N - NL) * h * w;
    double lmm = 0;
    for (int c = 0; c < C; c++) {
        double s = 0, s2 = 0;
        for (int i = NL; i < N; i++)
            for (int k = 0; k < h * w; k++)
                s += act[((long)i * C + c) * h * w + k];
        double mb = s / cnt;
        for (int i = NL; i < N; i++)
            for (int k = 0; k < h * w; k++) {
                double d = act[((long)i * C + c) * h * w + k] - mb;
                s2 += d * d;
            }
        double vb = s2 / cnt + eps, vt = rv[c] * (cnt - 1) / cnt + eps, dm = rm[c] - mb;
        lmm += 0.5 * (dm * dm / vb + vt / vb - log(vt / vb) - 1);
    }
    lmm /= C;
    CHECK(lmm > 0, "LMM of a fresh model is positive (%g)", lmm);
    CHECK_CLOSE(L.lmm, lmm, 1e-4, "LMM = mean over channels of KL(N(m_t, v_t) || N(m_b, v_b))");
    CHECK_CLOSE(L.total, L.lh + 0.5 * L.lrc + L.lkl + L.lnn + 0.25 * L.lmm, 1e-6, "total includes aMM * LMM");
    drmm_losses Ls;
    drmm_set_unsup_scale(m, 0);
    CHECK(drmm_train_batch(m, ACT(m), x, labels, NL, N, 0, &Ls, &e) == 0, "LMM batch at warm-up scale 0");
    CHECK_CLOSE(Ls.lmm, L.lmm, 1e-9, "LMM measured while the warm-up weighs it 0");
    CHECK_CLOSE(Ls.total, L.lh, 1e-6, "and left out of the total");
    free_model(m);

    /* a_mm without the top-down BN it compares is refused */
    cfg.td_param = TD_PARAM_TEMPLATE;
    arch a;
    CHECK(arch_parse(&a, NET_DENSE, "test", &e) == 0, "arch");
    CHECK(drmm_create(&m, &a, &cfg, 1, &e) != 0 && strstr(e.msg, "td_param = bn"), "a_mm without td_param bn: %s", e.msg);
    cfg.a_mm = 0;
    cfg.dropout = 1;
    CHECK(drmm_create(&m, &a, &cfg, 1, &e) != 0 && strstr(e.msg, "[0, 1)"), "dropout 1 refused: %s", e.msg);
    arch_free(&a);
}

/* Dropout: a mask that depends on the key alone, training only (the class
 * probabilities of evaluation equal those of the same parameters without
 * dropout). */
static void test_dropout(void)
{
    drmm_config cfg;
    drmm_config_default(&cfg);
    drmm *m0, *m1;
    CHECK(make_model(&m0, NET_POOLS, &cfg, 9) == 0, "model without dropout");
    cfg.dropout = 0.5f;
    CHECK(make_model(&m1, NET_POOLS, &cfg, 9) == 0, "model with dropout");
    enum { N = 8, NL = 4, P = 64, K = 3 };
    float x[N * P], p0[N * K], p1[N * K];
    int labels[NL] = {0, 1, 2, 0};
    for (int k = 0; k < N * P; k++)
        x[k] = (float)rng_uniform(&R);
    drmm_losses a, b, c, d;
    err_t e;
    drmm_set_dropout_key(m1, 11);
    CHECK(drmm_train_batch(m1, ACT(m1), x, labels, NL, N, 0, &a, &e) == 0, "dropout batch");
    CHECK(drmm_train_batch(m1, ACT(m1), x, labels, NL, N, 0, &b, &e) == 0, "the same key again");
    drmm_set_dropout_key(m1, 12);
    CHECK(drmm_train_batch(m1, ACT(m1), x, labels, NL, N, 0, &c, &e) == 0, "another key");
    CHECK(drmm_train_batch(m0, ACT(m0), x, labels, NL, N, 0, &d, &e) == 0, "no dropout");
    CHECK(a.lh == b.lh && a.total == b.total, "the same key draws the same mask: LH %g and %g", a.lh, b.lh);
    CHECK(a.lh != c.lh && a.lh != d.lh, "another key, or no dropout, gives another LH: %g, %g, %g", a.lh, c.lh, d.lh);
    CHECK(drmm_predict(m0, ACT(m0), x, N, p0, &e) == 0 && drmm_predict(m1, ACT(m1), x, N, p1, &e) == 0, "predict");
    CHECK(max_abs_diff(p0, p1, N * K) == 0, "evaluation does not drop (max difference %g)", max_abs_diff(p0, p1, N * K));
    free_model(m0);
    free_model(m1);
}

/* drmm_score_gradient is the gradient of the class score whatever the
 * model's top-down options (template, untied filters, leaky switches,
 * input standardisation): central differences away from kinks. */
static void score_gradient_case(const char *net, const char *name, int variant)
{
    drmm_config cfg;
    drmm_config_default(&cfg);   /* template, adjoint */
    if (variant == 1) {
        cfg.td_weights = TD_WEIGHTS_INDEPENDENT;
        cfg.td_leak = 0.1f;
        cfg.td_scale = TD_SCALE_LITERAL;
    }
    cfg.in_norm = variant == 1;
    drmm *m;
    if (make_model(&m, net, &cfg, 12)) {
        CHECK(0, "model");
        return;
    }
    jitter_bn(m);
    const arch *a = drmm_get_arch(m);
    int P = a->channels * a->height * a->width;
    err_t e;
    if (cfg.in_norm) {
        float mean[4], sd[4];
        for (int c = 0; c < a->channels; c++) {
            mean[c] = 0.2f + 0.1f * c;
            sd[c] = 0.5f + 0.3f * c;
        }
        CHECK(drmm_set_input_norm(m, mean, sd, &e) == 0, "%s: input norm: %s", name, e.msg);
    }
    float *x = malloc(sizeof(float) * P), *g = malloc(sizeof(float) * P), *gp = malloc(sizeof(float) * P);
    for (int k = 0; k < P; k++)
        x[k] = (float)rng_uniform(&R);
    int bad = 0, checked = 0;
    for (int c = 0; c < a->classes; c++) {
        CHECK(drmm_score_gradient(m, ACT(m), x, &c, 1, g, &e) == 0, "%s: score gradient: %s", name, e.msg);
        uint64_t ref = drmm_acts_switch_hash(ACT(m));
        for (int k = 0; k < P; k++) {
            float old = x[k];
            double h = 1e-2, z[2];
            int kink = 0;
            for (int s = 0; s < 2; s++) {
                x[k] = (float)(old + (s ? -h : h));
                drmm_score_gradient(m, ACT(m), x, &c, 1, gp, &e);
                z[s] = drmm_acts_logits(ACT(m))[c];
                kink |= drmm_acts_switch_hash(ACT(m)) != ref;
            }
            x[k] = old;
            if (kink)
                continue;
            double fd = (z[0] - z[1]) / (2 * h);
            checked++;
            if (fabs(fd - g[k]) > 2e-3 * fmax(1.0, fabs(fd)))
                bad++;
        }
    }
    CHECK(bad == 0 && checked > P, "%s: drmm_score_gradient = d score_c / d input: %d of %d pixels differ", name,
          bad, checked);
    int wrong = a->classes;
    CHECK(drmm_score_gradient(m, ACT(m), x, &wrong, 1, g, &e) == -1 && strstr(e.msg, "out of range"),
          "%s: unknown class refused (%s)", name, e.msg);
    free(x);
    free(g);
    free(gp);
    free_model(m);
}

/* drmm_render through the switches of an image (drmm_switches) is that
 * image's reconstruction from the same class; every switch on (NULL) equals
 * explicit all-on masks; bad classes and the what-where top are refused. */
static void render_case(const char *net, const char *name, float leak)
{
    drmm_config cfg;
    drmm_config_default(&cfg);
    cfg.td_leak = leak;
    drmm *m;
    if (make_model(&m, net, &cfg, 13)) {
        CHECK(0, "model");
        return;
    }
    jitter_bn(m);
    const arch *a = drmm_get_arch(m);
    const int P = a->channels * a->height * a->width, n = 3, K = a->classes;
    float *x = malloc(sizeof(float) * n * P), *r1 = malloc(sizeof(float) * n * P), *r2 = malloc(sizeof(float) * n * P);
    uint8_t *masks[16];
    int labels[3];
    for (long k = 0; k < (long)n * P; k++)
        x[k] = (float)rng_normal(&R);
    for (int i = 0; i < n; i++)
        labels[i] = (i + 1) % K;
    err_t e;
    CHECK(drmm_reconstruct(m, ACT(m), x, labels, n, r1, &e) == 0, "%s: reconstruct: %s", name, e.msg);
    for (int l = 0; l < a->nblocks; l++) {
        int C, H, W;
        drmm_acts_block(ACT(m), l, &C, &H, &W);
        masks[l] = malloc((size_t)n * C * H * W);
        for (int i = 0; i < n; i++)
            CHECK(drmm_switches(ACT(m), l, i, masks[l] + (long)i * C * H * W, &e) == 0, "%s: switches: %s", name, e.msg);
    }
    uint8_t *again = malloc((size_t)P * 64);
    int same = drmm_infer(m, ACT(m), x, n, &e) == 0;
    for (int l = 0; l < a->nblocks; l++) {
        int C, H, W;
        drmm_acts_block(ACT(m), l, &C, &H, &W);
        for (int i = 0; i < n; i++)
            same &= drmm_switches(ACT(m), l, i, again, &e) == 0 &&
                    memcmp(again, masks[l] + (long)i * C * H * W, (size_t)C * H * W) == 0;
    }
    free(again);
    CHECK(same, "%s: drmm_infer keeps the switches drmm_reconstruct keeps", name);
    CHECK(drmm_render(m, ACT(m), labels, n, (const uint8_t *const *)masks, r2, &e) == 0, "%s: render: %s", name, e.msg);
    CHECK(max_abs_diff(r1, r2, (long)n * P) < 1e-5, "%s: rendering through an image's switches = its "
          "reconstruction (max diff %g)", name, max_abs_diff(r1, r2, (long)n * P));
    for (int l = 0; l < a->nblocks; l++) {
        int C, H, W;
        drmm_acts_block(ACT(m), l, &C, &H, &W);
        memset(masks[l], 3, (size_t)n * C * H * W);
    }
    CHECK(drmm_render(m, ACT(m), labels, n, NULL, r1, &e) == 0 &&
          drmm_render(m, ACT(m), labels, n, (const uint8_t *const *)masks, r2, &e) == 0 &&
          max_abs_diff(r1, r2, (long)n * P) == 0, "%s: NULL masks = every switch on", name);
    labels[1] = K;
    CHECK(drmm_render(m, ACT(m), labels, n, NULL, r1, &e) == -1 && strstr(e.msg, "out of range"),
          "%s: unknown class refused (%s)", name, e.msg);
    CHECK(drmm_switches(ACT(m), a->nblocks, 0, masks[0], &e) == -1, "%s: switches of a block out of range refused", name);
    for (int l = 0; l < a->nblocks; l++)
        free(masks[l]);
    free(x);
    free(r1);
    free(r2);
    free_model(m);
    drmm_config_default(&cfg);
    cfg.td_top = TD_TOP_ACTIVATIONS;
    cfg.td_param = TD_PARAM_AMPLITUDE;
    if (make_model(&m, net, &cfg, 13) == 0) {
        int c = 0;
        float out[1024];
        CHECK(P <= 1024 && drmm_render(m, ACT(m), &c, 1, NULL, out, &e) == -1 && strstr(e.msg, "td_top"),
              "%s: the what-where top cannot render from a class (%s)", name, e.msg);
        free_model(m);
    }
}

/* drmm_render_unit: a unit of the first block renders as its filter (times
 * its top-down scale, 1 here) placed at its position; deeper units render to
 * non-zero finite images; bad units and blocks are refused. */
static void render_unit_case(void)
{
    drmm_config cfg;
    drmm_config_default(&cfg);
    cfg.td_scale = TD_SCALE_LITERAL;   /* no BN in NET_DENSE's first block anyway: scale 1 */
    drmm *m;
    if (make_model(&m, NET_DENSE, &cfg, 14)) {
        CHECK(0, "model");
        return;
    }
    const arch *a = drmm_get_arch(m);
    const int P = a->channels * a->height * a->width;   /* 2 x 6 x 6; block 0: 3 filters 3x3 valid -> 4x4 */
    named_tensor t[64];
    int nt = drmm_param_tensors(m, t, 64);
    const float *w = NULL;
    for (int i = 0; i < nt; i++)
        if (!strcmp(t[i].name, "conv1.weight"))
            w = t[i].data;
    float *out = malloc(sizeof(float) * 4 * P);
    err_t e;
    int units[2] = {2 * 16 + 1 * 4 + 2, 0};   /* channel 2, y 1, x 2 */
    CHECK(w && drmm_render_unit(m, ACT(m), 0, units, 1, NULL, out, &e) == 0, "render unit: %s", e.msg);
    double diff = 0;
    for (int ci = 0; ci < 2; ci++)
        for (int y = 0; y < 6; y++)
            for (int x = 0; x < 6; x++) {
                int dy = y - 1, dx = x - 2;
                float want = dy >= 0 && dy < 3 && dx >= 0 && dx < 3 ? w[((2 * 2 + ci) * 3 + dy) * 3 + dx] : 0.0f;
                diff = fmax(diff, fabs(out[(ci * 6 + y) * 6 + x] - want));
            }
    CHECK(w && diff < 1e-6, "a first-block unit renders as its filter at its position (max diff %g)", diff);
    /* block 1 (4 filters, 3x3 full, 4x4 -> 6x6): rendering units u and v in
       two rows, and their sum by linearity through the same switches */
    int deep[2] = {1 * 36 + 2 * 6 + 3, 3 * 36 + 4 * 6 + 1};
    CHECK(drmm_render_unit(m, ACT(m), 1, deep, 2, NULL, out, &e) == 0, "render deeper units: %s", e.msg);
    double norm = 0;
    for (int k = 0; k < P; k++)
        norm += fabs(out[k]) + fabs(out[P + k]);
    CHECK(norm > 0 && isfinite(norm), "deeper units render to a non-zero finite image (sum |.| %g)", norm);
    int bad_unit = 4 * 36, bad_block = a->nblocks;
    CHECK(drmm_render_unit(m, ACT(m), 1, &bad_unit, 1, NULL, out, &e) == -1 && strstr(e.msg, "out of range"),
          "unit out of range refused (%s)", e.msg);
    CHECK(drmm_render_unit(m, ACT(m), bad_block, units, 1, NULL, out, &e) == -1 && strstr(e.msg, "block"),
          "block out of range refused (%s)", e.msg);
    free(out);
    free_model(m);
}

int main(void)
{
    openblas_set_num_threads(1);   /* as the programs do: the engine's workers split the batch */
    rng_seed(&R, 2024);
    test_gradients();
    adjoint_case(NET_POOLS, "pooling net");
    adjoint_case(NET_DENSE, "dense net");
    test_loss_definitions();
    test_scale_const();
    test_errors();
    test_bn_recalibrate();
    predict_case(NET_POOLS, "pooling net");
    predict_case(NET_DENSE, "dense net");
    test_input_norm();
    test_td_bn();
    test_moment_matching();
    test_dropout();
    score_gradient_case(NET_POOLS, "pooling net, template", 0);
    score_gradient_case(NET_DENSE, "dense net, template", 0);
    score_gradient_case(NET_POOLS, "pooling net, untied leaky literal, in_norm", 1);
    score_gradient_case(NET_DENSE, "dense net, untied leaky literal, in_norm", 1);
    render_case(NET_POOLS, "pooling net", 0.0f);
    render_case(NET_DENSE, "dense net, leaky switches", 0.1f);
    render_unit_case();
    return check_done();
}
