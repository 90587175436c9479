/* The engine's golden values: training losses, parameters, gradients and BN
 * statistics of fixture configurations (tests/test_drmm.c's nets and
 * options) after a few training steps, hashed bit for bit and compared with
 * the values the engine produced before it was split into files (issue 16).
 * A refactor that changes one bit of one loss or one parameter fails here.
 *
 * Each case: build the model (seed 7), randomise BN gamma/beta, calibrate the
 * amplitude, then STEPS training batches (backward and running statistics,
 * an unsupervised warm-up scale of 0.5 at the first) with a plain SGD step
 * p -= 0.05 g between them; then predict, reconstruct (own class and true
 * labels), re-estimate the BN statistics and read the last pass back.
 * Every number along the way goes into one of four FNV-1a hashes: losses,
 * gradients, parameters and statistics, evaluation outputs.
 *
 * The values depend on the float operations of OpenBLAS's kernel: they were
 * captured with the core named in GOLDEN_CORE; on a machine whose OpenBLAS
 * picks another core the comparison is skipped (said so on stdout).
 * GOLDEN_PRINT=1 prints the table in the form below, to re-capture it after
 * an intended change of the numbers.  Every convolution runs through im2col +
 * sgemm (drmm_set_conv_im2col): the Winograd path's rounding differs, and
 * tests/test_winograd.c holds it to im2col's within a stated tolerance. */
#include <cblas.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "drmm.h"
#include "error.h"
#include "rng.h"

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

enum { STEPS = 3, N = 8, N_LAB = 3 };

typedef struct golden {
    uint64_t losses, grads, params, eval;
} golden;

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 1099511628211ULL;
    return h;
}
#define FNV0 1469598103934665603ULL

static uint64_t hash_losses(uint64_t h, const drmm_losses *L)
{
    double v[7] = {L->lh, L->lrc, L->lkl, L->lnn, L->lrcl, L->total, L->x2};
    int k[3] = {L->n_lab, L->n_unsup, L->lab_errors};
    return fnv(fnv(h, v, sizeof v), k, sizeof k);
}

/* every tensor of the model: parameters then statistics */
static uint64_t hash_tensors(uint64_t h, drmm *m)
{
    named_tensor t[128];
    int nt = drmm_tensors(m, t, 128);
    for (int i = 0; i < nt && i < 128; i++) {
        h = fnv(h, t[i].name, strlen(t[i].name));
        h = fnv(h, t[i].data, sizeof(float) * (size_t)nt_numel(&t[i]));
    }
    return h;
}

typedef struct gcase {
    const char *name;
    const char **net;
    void (*set)(drmm_config *c);
    int threads;
} gcase;

/* the option sets of tests/test_drmm.c's gradient cases */
static void o_base(drmm_config *c)
{
    c->a_rc = 0.7f;
    c->a_kl = 0.5f;
    c->a_nn = 2.0f;
    c->td_param = TD_PARAM_AMPLITUDE;
}
static void o_default(drmm_config *c) { (void)c; }
static void o_literal_softmax(drmm_config *c)
{
    o_base(c);
    c->td_scale = TD_SCALE_LITERAL;
    c->td_top = TD_TOP_SOFTMAX;
    c->td_param = TD_PARAM_TEMPLATE;
    c->unsup_both = 1;
    c->kl_literal = 1;
}
static void o_softmax_true(drmm_config *c)
{
    o_base(c);
    c->td_top = TD_TOP_SOFTMAX;
    c->td_true_label = 1;
    c->unsup_both = 1;
}
static void o_template(drmm_config *c)
{
    o_base(c);
    c->td_param = TD_PARAM_TEMPLATE;
}
static void o_rcl(drmm_config *c)
{
    o_base(c);
    c->a_rcl = 0.8f;
}
static void o_whatwhere(drmm_config *c)
{
    o_base(c);
    c->td_top = TD_TOP_ACTIVATIONS;
    c->a_rcl = 0.5f;
}
static void o_nrm(drmm_config *c)
{
    o_base(c);
    c->td_param = TD_PARAM_BN;
    c->td_scale = TD_SCALE_LITERAL;
    c->td_true_label = 1;
    c->unsup_both = 1;
}
static void o_nrm_norm_copy_leak(drmm_config *c)
{
    o_nrm(c);
    c->in_norm = 1;
    c->td_weights = TD_WEIGHTS_COPY;
    c->td_leak = 0.1f;
}
static void o_nrm_indep_rcl(drmm_config *c)
{
    o_nrm(c);
    c->td_weights = TD_WEIGHTS_INDEPENDENT;
    c->td_scale = TD_SCALE_ADJOINT;
    c->unsup_both = 0;
    c->a_rcl = 0.5f;
}
static void o_none_const(drmm_config *c)
{
    o_base(c);
    c->td_param = TD_PARAM_NONE;
    c->td_scale = TD_SCALE_ADJOINT_CONST;
    c->in_norm = 1;
}
static void o_untied_amp(drmm_config *c)
{
    o_base(c);
    c->td_weights = TD_WEIGHTS_INDEPENDENT;
    c->td_leak = 0.5f;
}

static const gcase CASES[] = {
    {"default (adjoint, one-hot, template, aRC 10)", &NET_POOLS, o_default, 1},
    {"default, 2 threads", &NET_POOLS, o_default, 2},
    {"adjoint, one-hot, amplitude", &NET_POOLS, o_base, 1},
    {"literal, softmax top, template, both halves, literal KL", &NET_POOLS, o_literal_softmax, 1},
    {"dense net, softmax top, true labels, 2 threads", &NET_DENSE, o_softmax_true, 2},
    {"dense net, adjoint, template", &NET_DENSE, o_template, 1},
    {"LRCL", &NET_POOLS, o_rcl, 1},
    {"LRCL, dense net, 2 threads", &NET_DENSE, o_rcl, 2},
    {"what-where top + LRCL", &NET_POOLS, o_whatwhere, 1},
    {"what-where top + LRCL, dense net, 2 threads", &NET_DENSE, o_whatwhere, 2},
    {"td bn, literal, true labels, both halves", &NET_POOLS, o_nrm, 1},
    {"td bn, in_norm, td_weights copy, td_leak 0.1", &NET_POOLS, o_nrm_norm_copy_leak, 1},
    {"td bn, in_norm, td_weights copy, td_leak 0.1, 2 threads", &NET_POOLS, o_nrm_norm_copy_leak, 2},
    {"td bn, in_norm, td_weights copy, td_leak 0.1, dense net, 2 threads", &NET_DENSE, o_nrm_norm_copy_leak, 2},
    {"td bn, adjoint, independent filters, LRCL, dense net", &NET_DENSE, o_nrm_indep_rcl, 1},
    {"td none, adjoint-const, in_norm", &NET_POOLS, o_none_const, 1},
    {"untied filters, amplitude, leak 0.5, 2 threads", &NET_POOLS, o_untied_amp, 2},
};
#define NCASES ((int)(sizeof CASES / sizeof CASES[0]))

/* Captured from the engine before the split (commit b131520). */
static const char *GOLDEN_CORE = "Cooperlake";
static const golden GOLDEN[NCASES] = {
    {0x5cd6e09eeca6ff3fULL, 0xed9d8836ae2415abULL, 0x762615bec63465f5ULL, 0xd335fc6abfa97335ULL}, /* default (adjoint, one-hot, template, aRC 10) */
    {0xb164fd278a1ee0fbULL, 0x3a25c4230b10b8a3ULL, 0x19dc6c205fa225eeULL, 0xb50669b52f7b7d41ULL}, /* default, 2 threads */
    {0xcbd6efa4b02ebb81ULL, 0x7ffeb964e67b2317ULL, 0x14ba0a3e106c0652ULL, 0x9cf0bff020b4cc11ULL}, /* adjoint, one-hot, amplitude */
    {0x471bfe80aa592a27ULL, 0xf78a64255b909880ULL, 0xd48789b0c36d6815ULL, 0x702ae26d50725b34ULL}, /* literal, softmax top, template, both halves, literal KL */
    {0x3e99539266795649ULL, 0xd0b44eb24d4c9848ULL, 0xed98c54fcf35786dULL, 0x8c38ef1cb271c716ULL}, /* dense net, softmax top, true labels, 2 threads */
    {0x8d561f5aeca4680cULL, 0xeebc175ba6a7b02cULL, 0x52c4a2c680725202ULL, 0xb65d73c05e797245ULL}, /* dense net, adjoint, template */
    {0xff747974fd6dda37ULL, 0xc06058d5ba6a1662ULL, 0xf03423c351115e89ULL, 0x6b9c2d01ed15a867ULL}, /* LRCL */
    {0xfe9080df34845cc7ULL, 0x5c2249b04c14b53dULL, 0x0b4bd2d3f162978cULL, 0xdb12cc9d65e36ee6ULL}, /* LRCL, dense net, 2 threads */
    {0x1c4a71d3500bfc09ULL, 0xc775842ae0586f03ULL, 0xe0e596742eae4b9aULL, 0xca6c12986d7bf908ULL}, /* what-where top + LRCL */
    {0x03257092bd748a8dULL, 0x96bdef7e2f6e272eULL, 0xddba1fc485ae809aULL, 0x6bf5b7aff305b9ebULL}, /* what-where top + LRCL, dense net, 2 threads */
    {0x4e44dbc760af1479ULL, 0xed8d46d94c4919dcULL, 0x5cdf48b027e8f6b1ULL, 0xc96348ed3ddd842eULL}, /* td bn, literal, true labels, both halves */
    {0x839427be00e8f7f6ULL, 0x284755a875ba19d5ULL, 0xa6226a0ae25a37a2ULL, 0xf090484aed59e519ULL}, /* td bn, in_norm, td_weights copy, td_leak 0.1 */
    {0x198a1e617b090d79ULL, 0x3c147771cb85f8e6ULL, 0xd90cf2053ce6e6cdULL, 0x4bd40a8a8b6adf3dULL}, /* td bn, in_norm, td_weights copy, td_leak 0.1, 2 threads */
    {0x44b374b8f1e15e7aULL, 0x3683b5fb2f6b8e54ULL, 0x798f2e3d566f36adULL, 0xd77239c60217547bULL}, /* td bn, in_norm, td_weights copy, td_leak 0.1, dense net, 2 threads */
    {0xfd594c7f134523d2ULL, 0x7d9cf4d7d41673d3ULL, 0x3c95d43f38a2185cULL, 0xb79f3da47bc1231cULL}, /* td bn, adjoint, independent filters, LRCL, dense net */
    {0x1faab79e358aff3cULL, 0x3b93857366d0be8bULL, 0x98a3f4f0db1e27a9ULL, 0xee54dd1111e7d179ULL}, /* td none, adjoint-const, in_norm */
    {0x18c2f113c1ae3925ULL, 0x918637a0b5f99b6cULL, 0xe3e71ddae489124dULL, 0x50b2bb4065cd709eULL}, /* untied filters, amplitude, leak 0.5, 2 threads */
};

static int run_case(const gcase *gc, golden *out)
{
    drmm_config cfg;
    drmm_config_default(&cfg);
    gc->set(&cfg);
    cfg.threads = gc->threads;
    arch a;
    err_t e;
    drmm *m = NULL;
    drmm_acts *acts = NULL;
    if (arch_parse(&a, *gc->net, "golden", &e) || drmm_create(&m, &a, &cfg, 7, &e) ||
        drmm_acts_create(m, N, &acts, &e)) {
        printf("%s: %s\n", gc->name, e.msg);
        return -1;
    }
    arch_free(&a);
    /* the hashes are of im2col + sgemm's bits: Winograd (from 16 channels, which these nets do not
       reach) rounds differently and is checked against it within tolerance in test_winograd */
    drmm_set_conv_im2col(m, 1);
    const arch *ar = drmm_get_arch(m);
    const int P = ar->channels * ar->height * ar->width, K = ar->classes;
    rng_t r;
    rng_seed(&r, 11);
    named_tensor t[128];
    int nt = drmm_param_tensors(m, t, 128);
    for (int i = 0; i < nt; i++) {
        if (strstr(t[i].name, ".gamma"))
            for (long k = 0; k < nt_numel(&t[i]); k++)
                t[i].data[k] = 0.6f + 0.8f * (float)rng_uniform(&r);
        if (strstr(t[i].name, ".beta") || strstr(t[i].name, "dense.bias"))
            for (long k = 0; k < nt_numel(&t[i]); k++)
                t[i].data[k] = 0.3f * (float)rng_normal(&r);
    }
    float *x = malloc(sizeof(float) * N * P), *probs = malloc(sizeof(float) * N * K),
          *ihat = malloc(sizeof(float) * N * P);
    int labels[N];
    for (long k = 0; k < (long)N * P; k++)
        x[k] = (float)rng_uniform(&r);
    for (int i = 0; i < N; i++)
        labels[i] = i % K;
    int rc = -1;
    if (cfg.in_norm) {
        float mean[4] = {0.4f, 0.55f, 0, 0}, sd[4] = {0.3f, 0.25f, 1, 1};
        if (drmm_set_input_norm(m, mean, sd, &e))
            goto done;
    }
    if (drmm_calibrate_amplitude(m, acts, x, labels, N_LAB, N, &e))
        goto done;
    golden g = {FNV0, FNV0, FNV0, FNV0};
    g.params = hash_tensors(g.params, m);
    for (int s = 0; s < STEPS; s++) {
        drmm_set_unsup_scale(m, s == 0 ? 0.5f : 1.0f);
        drmm_losses L;
        if (drmm_train_batch(m, acts, x, labels, N_LAB, N, DRMM_BACKWARD | DRMM_UPDATE_STATS, &L, &e))
            goto done;
        g.losses = hash_losses(g.losses, &L);
        long np = drmm_num_params(m);
        float *p = drmm_params(m), *gr = drmm_grads(m);
        g.grads = fnv(g.grads, gr, sizeof(float) * np);
        for (long k = 0; k < np; k++)
            p[k] -= 0.05f * gr[k];
        g.params = hash_tensors(g.params, m);
        uint64_t sh = drmm_acts_switch_hash(acts);
        g.eval = fnv(g.eval, &sh, sizeof sh);
        int first, rows;
        const float *ih = drmm_acts_ihat(acts, &first, &rows);
        if (ih)
            g.eval = fnv(g.eval, ih + (long)first * P, sizeof(float) * (size_t)(rows - first) * P);
    }
    /* a forward pass without backward, as the evaluation of training loss */
    drmm_losses L;
    if (drmm_train_batch(m, acts, x, labels, N_LAB, N, 0, &L, &e))
        goto done;
    g.losses = hash_losses(g.losses, &L);
    if (drmm_predict(m, acts, x, N, probs, &e))
        goto done;
    g.eval = fnv(g.eval, probs, sizeof(float) * N * K);
    g.eval = fnv(g.eval, drmm_acts_logits(acts), sizeof(float) * N * K);
    for (int l = 0; l < ar->nblocks; l++) {
        int C, H, W;
        const float *act = drmm_acts_block(acts, l, &C, &H, &W);
        g.eval = fnv(g.eval, act, sizeof(float) * (size_t)N * C * H * W);
    }
    if (drmm_reconstruct(m, acts, x, NULL, N, ihat, &e))
        goto done;
    g.eval = fnv(g.eval, ihat, sizeof(float) * N * P);
    if (drmm_reconstruct(m, acts, x, labels, N, ihat, &e))
        goto done;
    g.eval = fnv(g.eval, ihat, sizeof(float) * N * P);
    g.eval = fnv(g.eval, drmm_acts_probs(acts), sizeof(float) * N * K);
    if (drmm_bn_recalibrate(m, x, N, 3, &e))
        goto done;
    g.params = hash_tensors(g.params, m);
    *out = g;
    rc = 0;
done:
    if (rc)
        printf("%s: %s\n", gc->name, e.msg);
    free(x);
    free(probs);
    free(ihat);
    drmm_acts_free(acts);
    drmm_free(m);
    return rc;
}

int main(void)
{
    /* as every program does: the engine's workers split the batch, OpenBLAS
       runs single-threaded in each */
    openblas_set_num_threads(1);
    const char *core = openblas_get_corename();
    int print = getenv("GOLDEN_PRINT") && *getenv("GOLDEN_PRINT") == '1';
    int compare = !strcmp(core, GOLDEN_CORE);
    if (!compare && !print)
        printf("golden values were captured with OpenBLAS core %s, this machine's is %s: "
               "running the cases without comparing\n", GOLDEN_CORE, core);
    if (print)
        printf("static const char *GOLDEN_CORE = \"%s\";\nstatic const golden GOLDEN[NCASES] = {\n", core);
    for (int i = 0; i < NCASES; i++) {
        golden g;
        int ok = run_case(&CASES[i], &g) == 0;
        CHECK(ok, "%s: runs", CASES[i].name);
        if (!ok)
            continue;
        if (print)
            printf("    {0x%016llxULL, 0x%016llxULL, 0x%016llxULL, 0x%016llxULL}, /* %s */\n",
                   (unsigned long long)g.losses, (unsigned long long)g.grads, (unsigned long long)g.params,
                   (unsigned long long)g.eval, CASES[i].name);
        if (!compare)
            continue;
        const golden *w = &GOLDEN[i];
        CHECK(g.losses == w->losses, "%s: losses bit-identical to the reference", CASES[i].name);
        CHECK(g.grads == w->grads, "%s: gradients bit-identical to the reference", CASES[i].name);
        CHECK(g.params == w->params, "%s: parameters and statistics bit-identical to the reference", CASES[i].name);
        CHECK(g.eval == w->eval, "%s: predictions, renderings and switches bit-identical to the reference",
              CASES[i].name);
    }
    if (print)
        printf("};\n");
    return check_done();
}
