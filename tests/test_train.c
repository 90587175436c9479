/* Whole-model training tests on generated shapes: the loss falls and the
 * held-out error ends far below chance, with all four losses and with each
 * loss weight switched off in turn (and as the supervised-only CNN); the
 * optimisers and the learning-rate schedule; bit-identical parameters for
 * the same seed and thread count. */
#include <cblas.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "drmm.h"
#include "error.h"
#include "optim.h"
#include "shapes.h"

#define S 12
#define K 4

static const char *NET =
    "input channels=1 height=12 width=12\n"
    "conv filters=8 size=3 pad=half\n"
    "maxpool\n"
    "conv filters=16 size=3 pad=half\n"
    "maxpool\n"
    "conv filters=4 size=1 pad=valid\n"
    "meanpool\n";

typedef struct result {
    double first_loss, last_loss, test_error, lrc_first, lrc_last, x2;
    double test_lrc, test_x2;   /* held-out reconstruction error (from the predicted class) and mean(I^2) */
} result;

/* Trains for `steps` with batches of 16 labelled (from a pool of 40 labelled
 * images) + 16 unlabelled; returns the losses and the held-out error. */
static int train(const drmm_config *cfg, int supervised_only, int steps, optim_kind ok, result *res,
                 float *params_out, long *nparams)
{
    arch a;
    err_t e;
    if (arch_parse(&a, NET, "net", &e))
        return -1;
    drmm *m;
    if (drmm_create(&m, &a, cfg, 42, &e)) {
        arch_free(&a);
        return -1;
    }
    int ntrain = 800, ntest = 400, nlab = 40, half = 16;
    drmm_acts *acts;
    if (drmm_acts_create(m, ntest, &acts, &e)) {
        drmm_free(m);
        arch_free(&a);
        return -1;
    }
    float *x = malloc(sizeof(float) * ntrain * S * S), *xt = malloc(sizeof(float) * ntest * S * S);
    int *y = malloc(sizeof(int) * ntrain), *yt = malloc(sizeof(int) * ntest);
    shapes_make(1, ntrain, K, S, x, y);
    shapes_make(2, ntest, K, S, xt, yt);
    optim o;
    optim_config oc;
    optim_config_default(&oc);
    oc.kind = ok;
    oc.total_steps = steps;
    if (ok == OPTIM_SGD) {
        oc.lr_start = 0.05f;
        oc.lr_end = 0.005f;
    } else {
        oc.lr_start = 3e-3f;
        oc.lr_end = 3e-4f;
    }
    optim_init(&o, &oc, drmm_num_params(m), &e);
    float *xb = malloc(sizeof(float) * 2 * half * S * S);
    int yb[32];
    rng_t r;
    rng_seed(&r, 7);
    double loss_acc = 0;
    int n_acc = 0;
    for (int s = 0; s < steps; s++) {
        for (int i = 0; i < half; i++) {
            int j = (int)rng_below(&r, nlab);   /* labelled pool: the first 40 images */
            memcpy(xb + i * S * S, x + j * S * S, sizeof(float) * S * S);
            yb[i] = y[j];
        }
        int n = half;
        if (!supervised_only) {
            for (int i = 0; i < half; i++) {
                int j = (int)rng_below(&r, ntrain);
                memcpy(xb + (half + i) * S * S, x + j * S * S, sizeof(float) * S * S);
            }
            n = 2 * half;
        }
        drmm_losses L;
        drmm_set_unsup_scale(m, s < steps / 3 ? (float)s / (steps / 3) : 1.0f);   /* the trainer's warm-up */
        if (s == 0 && !supervised_only)
            drmm_calibrate_amplitude(m, acts, xb, yb, half, n, &e);
        if (drmm_train_batch(m, acts, xb, yb, half, n, DRMM_BACKWARD | DRMM_UPDATE_STATS, &L, &e)) {
            printf("  step %d: %s\n", s, e.msg);
            return -1;
        }
        optim_update(&o, drmm_params(m), drmm_grads(m), NULL);
        if (s < 10) {
            res->first_loss += L.lh / 10;
            res->lrc_first += L.lrc / 10;
        }
        if (s >= steps - 10) {
            loss_acc += L.lh;
            res->lrc_last += L.lrc / 10;
            res->x2 += L.x2 / 10;
            n_acc++;
        }
    }
    res->last_loss = loss_acc / n_acc;
    drmm_bn_recalibrate(m, x, ntrain, 32, &e);
    float *probs = malloc(sizeof(float) * ntest * K);
    drmm_predict(m, acts, xt, ntest, probs, &e);
    int wrong = 0;
    for (int i = 0; i < ntest; i++) {
        int best = 0;
        for (int c = 1; c < K; c++)
            if (probs[i * K + c] > probs[i * K + best])
                best = c;
        wrong += best != yt[i];
    }
    res->test_error = (double)wrong / ntest;
    float *ihat = malloc(sizeof(float) * ntest * S * S);
    if (!supervised_only && drmm_reconstruct(m, acts, xt, NULL, ntest, ihat, &e) == 0) {
        for (long k = 0; k < (long)ntest * S * S; k++) {
            res->test_lrc += (xt[k] - ihat[k]) * (double)(xt[k] - ihat[k]);
            res->test_x2 += xt[k] * (double)xt[k];
        }
        res->test_lrc /= (double)ntest * S * S;
        res->test_x2 /= (double)ntest * S * S;
    }
    free(ihat);
    if (params_out)
        memcpy(params_out, drmm_params(m), sizeof(float) * drmm_num_params(m));
    if (nparams)
        *nparams = drmm_num_params(m);
    free(x); free(xt); free(y); free(yt); free(xb); free(probs);
    optim_free(&o);
    drmm_acts_free(acts);
    drmm_free(m);
    arch_free(&a);
    return 0;
}

static void learns(const char *name, const drmm_config *cfg, int supervised_only, optim_kind ok)
{
    result r = {0};
    CHECK(train(cfg, supervised_only, 300, ok, &r, NULL, NULL) == 0, "%s: training ran", name);
    printf("  %-28s LH %.3f -> %.3f, LRC %.3f -> %.3f (mean I^2 %.3f), held-out error %.3f (chance 0.75)\n", name,
           r.first_loss, r.last_loss, r.lrc_first, r.lrc_last, r.x2, r.test_error);
    CHECK(r.last_loss < 0.5 * r.first_loss, "%s: LH falls (%.3f -> %.3f)", name, r.first_loss, r.last_loss);
    CHECK(r.test_error < 0.25, "%s: held-out error %.3f far below chance 0.75", name, r.test_error);
}

/* The top-down pass renders: with the default variant, the reconstruction
 * of held-out images from their predicted class has at most half the error
 * of rendering zero (LRC <= mean(I^2) / 2). */
static void test_renders(void)
{
    drmm_config cfg;
    drmm_config_default(&cfg);
    cfg.threads = 2;
    result r = {0};
    CHECK(train(&cfg, 0, 600, OPTIM_ADAM, &r, NULL, NULL) == 0, "default variant trained");
    printf("  default top-down: held-out LRC %.4f, mean(I^2) %.4f, ratio %.2f (must be <= 0.5)\n", r.test_lrc,
           r.test_x2, r.test_lrc / r.test_x2);
    CHECK(r.test_x2 > 0.01 && r.test_lrc <= 0.5 * r.test_x2, "held-out LRC %.4f <= mean(I^2)/2 = %.4f", r.test_lrc,
          r.test_x2 / 2);
}

static void test_learning(void)
{
    drmm_config cfg;
    drmm_config_default(&cfg);
    cfg.threads = 2;
    learns("DRMM +KL+NN (Adam)", &cfg, 0, OPTIM_ADAM);
    drmm_config c = cfg;
    c.a_rc = 0;
    learns("without RC", &c, 0, OPTIM_ADAM);
    c = cfg;
    c.a_kl = 0;
    learns("without KL", &c, 0, OPTIM_ADAM);
    c = cfg;
    c.a_nn = 0;
    learns("without NN", &c, 0, OPTIM_ADAM);
    c = cfg;
    c.a_kl = c.a_nn = 0;
    learns("plain DRMM (no KL, no NN)", &c, 0, OPTIM_ADAM);
    learns("supervised-only CNN", &cfg, 1, OPTIM_ADAM);
    learns("DRMM +KL+NN (SGD momentum)", &cfg, 0, OPTIM_SGD);
}

static void test_determinism(void)
{
    drmm_config cfg;
    drmm_config_default(&cfg);
    for (int threads = 1; threads <= 2; threads++) {
        cfg.threads = threads;
        float *p1 = malloc(sizeof(float) * 100000), *p2 = malloc(sizeof(float) * 100000);
        long n1 = 0, n2 = 0;
        result r1 = {0}, r2 = {0};
        train(&cfg, 0, 40, OPTIM_ADAM, &r1, p1, &n1);
        train(&cfg, 0, 40, OPTIM_ADAM, &r2, p2, &n2);
        CHECK(n1 == n2 && n1 > 0 && memcmp(p1, p2, sizeof(float) * n1) == 0,
              "same seed and %d thread(s): bit-identical parameters after 40 steps", threads);
        free(p1);
        free(p2);
    }
}

static void test_optim(void)
{
    /* minimise f(p) = sum (p - t)^2 / 2 from 0 */
    float t[3] = {1, -2, 0.5f};
    for (int kind = 0; kind < 2; kind++) {
        optim o;
        optim_config c;
        optim_config_default(&c);
        c.kind = kind;
        c.lr_start = kind == OPTIM_SGD ? 0.1f : 0.05f;
        c.lr_end = c.lr_start / 10;
        c.total_steps = 500;
        err_t e;
        CHECK(optim_init(&o, &c, 3, &e) == 0, "init");
        float p[3] = {0, 0, 0}, g[3];
        for (int s = 0; s < 500; s++) {
            for (int i = 0; i < 3; i++)
                g[i] = p[i] - t[i];
            optim_update(&o, p, g, NULL);
        }
        double d = 0;
        for (int i = 0; i < 3; i++)
            d = fmax(d, fabs(p[i] - t[i]));
        CHECK(d < 1e-2, "%s converges on a quadratic (max error %g)", kind ? "Adam" : "SGD", d);
        optim_free(&o);
    }
    /* the schedule decays exponentially from start to end */
    optim o;
    optim_config c;
    optim_config_default(&c);
    c.lr_start = 0.2f;
    c.lr_end = 1e-4f;
    c.total_steps = 101;
    c.kind = OPTIM_SGD;
    err_t e;
    optim_init(&o, &c, 1, &e);
    CHECK_CLOSE(optim_lr(&o), 0.2, 1e-6, "lr at step 0");
    o.step = 50;
    CHECK_CLOSE(optim_lr(&o), sqrt(0.2 * 1e-4), 1e-6, "lr halfway = geometric mean");
    o.step = 100;
    CHECK_CLOSE(optim_lr(&o), 1e-4, 1e-6, "lr at the last step");
    /* clipping bounds the norm of the applied gradient */
    o.step = 0;
    o.cfg.clip_norm = 1.0f;
    o.cfg.momentum = 0;
    float p = 0, g = 10;
    double norm;
    optim_update(&o, &p, &g, &norm);
    CHECK_CLOSE(norm, 10.0, 1e-6, "reported norm before clipping");
    CHECK_CLOSE(p, -0.2, 1e-6, "clipped step = lr * clip");
    optim_free(&o);
    c.lr_start = -1;
    CHECK(optim_init(&o, &c, 1, &e) != 0, "negative learning rate refused");
}

int main(void)
{
    openblas_set_num_threads(1);   /* as the programs do: the engine's workers split the batch */
    test_optim();
    test_determinism();
    test_learning();
    test_renders();
    return check_done();
}
