/* The DRMM: bottom-up pass, top-down rendering, losses and gradients (see
 * drmm.h).  Parallel over the batch (per-sample convolutions, per-channel
 * normalisation); every buffer is allocated once for the largest batch seen.
 *
 * Per conv block l, bottom-up:  act = conv(x); act = BN(act) (xhat kept);
 * act = ReLU(act) (switch a-hat); pooled = pool(act) (switch t-hat for
 * max-pool).  One mask per block keeps the product a-hat * t-hat: it is all
 * the top-down pass and the backward pass need.
 * Top-down (rows [u0, n)): z = unpool(signal from above)   <- LNN measured here
 *                          zs = z * a * t * scale          (scale = gamma/sigma or 1)
 *                          sin = conv^T(zs)                (sin of block 0 = I-hat)
 *                          sin = BN_td(sin)                (td_param bn only; xhat kept)
 * The top-down filters are the bottom-up ones, or tdN.weight (td_weights). 
 * drmm_predict runs a leaner bottom-up (job_predict): BN with the running
 * statistics, ReLU and pooling fused in one pass, no switches, each thread
 * taking groups of rows through the whole network. */
#include "drmm.h"

#include <cblas.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "activation.h"
#include "bn.h"
#include "conv.h"
#include "error.h"
#include "pool.h"
#include "postconv.h"
#include "rng.h"
#include "threads.h"

typedef struct block {
    const arch_block *ab;
    long w_off, gamma_off, beta_off;   /* offsets into params (gamma/beta -1 without BN) */
    long rmean_off, rvar_off;          /* offsets into stats (-1 without BN) */
    long sc_off;                       /* offset of this block's channels in dscale rows */
    long tdw_off;                      /* top-down filters of their own, or -1 (tied) */
    long tdg_off, tdb_off;             /* top-down BN gamma/beta [cin], or -1 */
    long tdrm_off, tdrv_off;           /* top-down BN running statistics [cin], or -1 */
    /* bottom-up, [N][C][H][W] at the conv output unless noted */
    float *act, *xhat, *pooled;        /* pooled: [N][C][hp][wp] (== act without pooling) */
    uint8_t *a;                        /* switches a-hat * t-hat */
    uint8_t *t;                        /* scratch for t-hat (max-pool only) */
    float *mean, *var, *scale, *dsigma;/* [C] */
    float *bn_scale, *bn_shift;        /* [C]: evaluation-mode BN as an affine (drmm_predict) */
    float *dact, *dpooled;
    float *dh_extra;                   /* gradient into the post-ReLU activations from the top
                                          (what-where top), or NULL */
    float *dpooled_extra;              /* gradient into the pooled output from LRCL, or NULL */
    /* top-down */
    float *z, *zs, *dz;
    float *sin, *dsin;                 /* [N][cin][h][w] */
    float *td_xhat;                    /* [N][cin][h][w], top-down BN only */
    float *td_mean, *td_var;           /* [cin]: top-down BN batch statistics */
} block;

typedef struct param_info {
    char name[NT_NAME_MAX];
    int ndim, shape[NT_MAX_DIMS];
    long off, numel;
    int is_stat;                       /* 1: lives in stats, not params */
} param_info;

struct drmm {
    arch a;
    drmm_config cfg;
    int nb, K, F, P;                   /* blocks, classes, top features, pixels per image */
    block *b;
    long dense_w_off, dense_b_off, amp_off, tmpl_off, in_mean_off, in_std_off;
    long nparams, nstats;
    float *params, *grads, *stats;
    param_info *info;
    int ninfo;
    tpool *pool;
    int threads;
    /* per-thread scratch */
    float **col, **tgrad, **dscale;
    float **ycol;                      /* conv outputs of several samples (drmm_predict) */
    double *nn_part, *rc_part;
    long col_size, ycol_size, sc_total;
    /* batch buffers, capacity cap rows */
    int cap;
    float *logits, *logq, *q, *dlogits, *e, *de, *top, *dtop, *ihat_rows;
    int *pred;
    const float *x;                    /* current input (borrowed) */
    float *xs;                         /* the standardised input (in_norm), cap rows */
    int n, n_lab, u0, have_td;
    float unsup_scale;     /* drmm_set_unsup_scale */
    int train;                         /* BN mode of the last pass */
};

void drmm_config_default(drmm_config *c)
{
    memset(c, 0, sizeof *c);
    c->a_h = 1.0f;
    c->a_rc = 10.0f;
    c->a_kl = 1.0f;
    c->a_nn = 1.0f;
    c->kl_literal = 0;
    c->unsup_both = 0;
    c->td_scale = TD_SCALE_ADJOINT;
    c->td_top = TD_TOP_ONEHOT;
    c->td_true_label = 0;
    c->td_param = TD_PARAM_TEMPLATE;
    c->td_init = 1.0f;
    c->bn_momentum = 0.99f;
    c->bn_eps = 1e-5f;
    c->threads = 1;
}

static long block_out(const block *b) { return (long)b->ab->g.cout * b->ab->g.ho * b->ab->g.wo; }
static long block_pooled(const block *b) { return (long)b->ab->g.cout * b->ab->hp * b->ab->wp; }
static long block_in(const block *b) { return (long)b->ab->g.cin * b->ab->g.h * b->ab->g.w; }

/* ---- parameter table ---- */

static long add_info(drmm *m, int cap, int is_stat, const char *name, int ndim, const int *shape)
{
    if (m->ninfo == cap)
        abort();   /* build_layout's count above is wrong: a bug, not an input error */
    param_info *p = &m->info[m->ninfo++];
    snprintf(p->name, sizeof p->name, "%s", name);
    p->ndim = ndim;
    p->numel = 1;
    for (int i = 0; i < ndim; i++) {
        p->shape[i] = shape[i];
        p->numel *= shape[i];
    }
    p->is_stat = is_stat;
    long *total = is_stat ? &m->nstats : &m->nparams;
    p->off = *total;
    *total += p->numel;
    return p->off;
}

static int build_layout(drmm *m)
{
    /* per block: weight, gamma, beta, running mean, running var, and the top-down
       weight, gamma, beta, running mean, running var; dense 2; top 1; input 2 */
    int cap = 10 * m->nb + 5;
    m->info = calloc(cap, sizeof *m->info);
    if (!m->info)
        return -1;
    char name[NT_NAME_MAX];
    for (int l = 0; l < m->nb; l++) {
        block *b = &m->b[l];
        const conv_geom *g = &b->ab->g;
        int ws[4] = {g->cout, g->cin, g->k, g->k}, cs[1] = {g->cout};
        snprintf(name, sizeof name, "conv%d.weight", l + 1);
        b->w_off = add_info(m, cap, 0, name, 4, ws);
        b->gamma_off = b->beta_off = b->rmean_off = b->rvar_off = -1;
        b->tdw_off = b->tdg_off = b->tdb_off = b->tdrm_off = b->tdrv_off = -1;
        if (b->ab->bn) {
            snprintf(name, sizeof name, "conv%d.bn.gamma", l + 1);
            b->gamma_off = add_info(m, cap, 0, name, 1, cs);
            snprintf(name, sizeof name, "conv%d.bn.beta", l + 1);
            b->beta_off = add_info(m, cap, 0, name, 1, cs);
        }
    }
    for (int l = 0; l < m->nb; l++) {
        block *b = &m->b[l];
        const conv_geom *g = &b->ab->g;
        int ws[4] = {g->cout, g->cin, g->k, g->k}, cs[1] = {g->cin};
        if (m->cfg.td_weights != TD_WEIGHTS_TIED) {
            snprintf(name, sizeof name, "td%d.weight", l + 1);
            b->tdw_off = add_info(m, cap, 0, name, 4, ws);
        }
        if (m->cfg.td_param == TD_PARAM_BN) {
            snprintf(name, sizeof name, "td%d.bn.gamma", l + 1);
            b->tdg_off = add_info(m, cap, 0, name, 1, cs);
            snprintf(name, sizeof name, "td%d.bn.beta", l + 1);
            b->tdb_off = add_info(m, cap, 0, name, 1, cs);
        }
    }
    m->dense_w_off = m->dense_b_off = m->amp_off = m->tmpl_off = m->in_mean_off = m->in_std_off = -1;
    if (m->a.dense) {
        int ws[2] = {m->K, m->F}, bs[1] = {m->K};
        m->dense_w_off = add_info(m, cap, 0, "dense.weight", 2, ws);
        m->dense_b_off = add_info(m, cap, 0, "dense.bias", 1, bs);
    }
    if (m->cfg.td_param == TD_PARAM_AMPLITUDE) {
        int s[1] = {1};
        m->amp_off = add_info(m, cap, 0, "top.amplitude", 1, s);
    } else if (m->cfg.td_param == TD_PARAM_TEMPLATE) {
        const arch_block *ab = m->b[m->nb - 1].ab;
        int s[4] = {m->K, ab->g.cout, ab->g.ho, ab->g.wo};
        m->tmpl_off = add_info(m, cap, 0, "top.template", 4, s);
    }
    for (int l = 0; l < m->nb; l++) {
        block *b = &m->b[l];
        if (!b->ab->bn)
            continue;
        int cs[1] = {b->ab->g.cout};
        snprintf(name, sizeof name, "conv%d.bn.running_mean", l + 1);
        b->rmean_off = add_info(m, cap, 1, name, 1, cs);
        snprintf(name, sizeof name, "conv%d.bn.running_var", l + 1);
        b->rvar_off = add_info(m, cap, 1, name, 1, cs);
    }
    for (int l = 0; l < m->nb && m->cfg.td_param == TD_PARAM_BN; l++) {
        block *b = &m->b[l];
        int cs[1] = {b->ab->g.cin};
        snprintf(name, sizeof name, "td%d.bn.running_mean", l + 1);
        b->tdrm_off = add_info(m, cap, 1, name, 1, cs);
        snprintf(name, sizeof name, "td%d.bn.running_var", l + 1);
        b->tdrv_off = add_info(m, cap, 1, name, 1, cs);
    }
    if (m->cfg.in_norm) {
        int cs[1] = {m->a.channels};
        m->in_mean_off = add_info(m, cap, 1, "input.mean", 1, cs);
        m->in_std_off = add_info(m, cap, 1, "input.std", 1, cs);
    }
    return 0;
}

static int fill_tensors(drmm *m, named_tensor *out, int max, int with_stats)
{
    int n = 0;
    for (int i = 0; i < m->ninfo; i++) {
        const param_info *p = &m->info[i];
        if (p->is_stat && !with_stats)
            continue;
        if (n < max) {
            named_tensor *t = &out[n];
            snprintf(t->name, sizeof t->name, "%s", p->name);
            t->ndim = p->ndim;
            memcpy(t->shape, p->shape, sizeof t->shape);
            t->data = (p->is_stat ? m->stats : m->params) + p->off;
        }
        n++;
    }
    return n;
}

int drmm_tensors(drmm *m, named_tensor *out, int max) { return fill_tensors(m, out, max, 1); }
int drmm_param_tensors(drmm *m, named_tensor *out, int max) { return fill_tensors(m, out, max, 0); }
long drmm_num_params(const drmm *m) { return m->nparams; }
float *drmm_params(drmm *m) { return m->params; }
float *drmm_grads(drmm *m) { return m->grads; }
const drmm_config *drmm_get_config(const drmm *m) { return &m->cfg; }
const arch *drmm_get_arch(const drmm *m) { return &m->a; }
const float *drmm_last_probs(const drmm *m) { return m->q; }
const float *drmm_last_logits(const drmm *m) { return m->logits; }

const float *drmm_block_output(const drmm *m, int block, int *channels, int *h, int *w)
{
    if (block < 0 || block >= m->nb)
        return NULL;
    const conv_geom *g = &m->b[block].ab->g;
    if (channels) *channels = g->cout;
    if (h) *h = g->ho;
    if (w) *w = g->wo;
    return m->b[block].act;
}

/* ---- buffers ---- */

static void free_batch(drmm *m)
{
    for (int l = 0; l < m->nb; l++) {
        block *b = &m->b[l];
        free(b->act); free(b->xhat); free(b->a); free(b->t);
        if (b->pooled != b->act) free(b->pooled);
        if (b->dpooled != b->dact) free(b->dpooled);
        free(b->dact); free(b->z); free(b->zs); free(b->dz); free(b->sin); free(b->dsin);
        free(b->dh_extra); free(b->dpooled_extra); free(b->td_xhat);
        b->dh_extra = b->dpooled_extra = b->td_xhat = NULL;
        b->act = b->xhat = b->pooled = b->dact = b->dpooled = NULL;
        b->z = b->zs = b->dz = b->sin = b->dsin = NULL;
        b->a = b->t = NULL;
    }
    free(m->logits); free(m->logq); free(m->q); free(m->dlogits); free(m->e); free(m->de);
    free(m->top); free(m->dtop); free(m->pred); free(m->xs);
    m->logits = m->logq = m->q = m->dlogits = m->e = m->de = m->top = m->dtop = m->xs = NULL;
    m->pred = NULL;
    m->cap = 0;
}

/* Makes room for n rows; reallocates only when n exceeds the capacity. */
static int ensure_batch(drmm *m, int n, err_t *e)
{
    if (n <= m->cap)
        return 0;
    free_batch(m);
    int ok = 1;
#define ALLOCF(p, count) do { if (ok && !((p) = malloc(sizeof(float) * (size_t)(count)))) ok = 0; } while (0)
#define ALLOCB(p, count) do { if (ok && !((p) = malloc((size_t)(count)))) ok = 0; } while (0)
    for (int l = 0; l < m->nb; l++) {
        block *b = &m->b[l];
        long out = block_out(b) * n, pooled = block_pooled(b) * n, in = block_in(b) * n;
        ALLOCF(b->act, out); ALLOCF(b->xhat, out); ALLOCB(b->a, out);
        ALLOCF(b->dact, out); ALLOCF(b->z, out); ALLOCF(b->zs, out); ALLOCF(b->dz, out);
        ALLOCF(b->sin, in); ALLOCF(b->dsin, in);
        if (l == m->nb - 1 && m->cfg.td_top == TD_TOP_ACTIVATIONS)
            ALLOCF(b->dh_extra, out);
        if (l < m->nb - 1 && m->cfg.a_rcl != 0)
            ALLOCF(b->dpooled_extra, pooled);
        if (b->ab->pool == POOL_MAX)
            ALLOCB(b->t, out);
        if (m->cfg.td_param == TD_PARAM_BN)
            ALLOCF(b->td_xhat, in);
        if (b->ab->pool != POOL_NONE) {
            ALLOCF(b->pooled, pooled);
            ALLOCF(b->dpooled, pooled);
        } else {
            b->pooled = b->act;
            b->dpooled = b->dact;
        }
    }
    long nk = (long)n * m->K;
    ALLOCF(m->logits, nk); ALLOCF(m->logq, nk); ALLOCF(m->q, nk); ALLOCF(m->dlogits, nk);
    ALLOCF(m->e, nk); ALLOCF(m->de, nk);
    ALLOCF(m->top, (long)n * m->F); ALLOCF(m->dtop, (long)n * m->F);
    if (m->cfg.in_norm)
        ALLOCF(m->xs, (long)n * m->P);
    if (ok && !(m->pred = malloc(sizeof(int) * n)))
        ok = 0;
#undef ALLOCF
#undef ALLOCB
    if (!ok) {
        free_batch(m);
        return err_set(e, "out of memory for a batch of %d images", n);
    }
    m->cap = n;
    return 0;
}

/* ---- creation ---- */

static int render_top_default(drmm *m, const float *e, float *z, int nrows);

static float *eye_fill(float *eye, int K, float v)
{
    if (eye)
        for (int c = 0; c < K; c++)
            eye[(long)c * K + c] = v;
    return eye;
}

int drmm_create(drmm **out, const arch *a, const drmm_config *cfg, uint64_t seed, err_t *e)
{
    *out = NULL;
    if (a->nblocks < 1)
        return err_set(e, "architecture has no conv layer");
    if (cfg->threads < 1)
        return err_set(e, "threads must be at least 1 (got %d)", cfg->threads);
    if (!(cfg->bn_momentum >= 0 && cfg->bn_momentum < 1) || !(cfg->bn_eps > 0))
        return err_set(e, "BN momentum must be in [0, 1) and eps positive");
    if (cfg->td_top == TD_TOP_ACTIVATIONS && cfg->td_param == TD_PARAM_BN)
        return err_input(e, "td_param = bn renders the class through the classifier: use td_top = onehot or softmax");
    if (cfg->td_top == TD_TOP_ACTIVATIONS && cfg->td_param == TD_PARAM_TEMPLATE)
        return err_input(e, "td_top = activations renders from the activations, not from a class template: "
                            "use td_param = amplitude or none");
    drmm *m = calloc(1, sizeof *m);
    if (!m)
        return err_set(e, "out of memory");
    m->a = *a;
    m->a.text = a->text ? strdup(a->text) : NULL;
    m->cfg = *cfg;
    m->unsup_scale = 1;
    m->nb = a->nblocks;
    m->K = a->classes;
    m->F = a->features;
    m->P = a->channels * a->height * a->width;
    m->threads = cfg->threads;
    m->b = calloc(m->nb, sizeof *m->b);
    if (!m->b || (a->text && !m->a.text))
        goto oom;
    for (int l = 0; l < m->nb; l++) {
        block *b = &m->b[l];
        b->ab = &m->a.blocks[l];
        long cs = conv_batch_col_size(&b->ab->g), ys = (long)b->ab->g.cout * CONV_BATCH_COLUMNS;
        if (cs > m->col_size)
            m->col_size = cs;
        if (ys > m->ycol_size)
            m->ycol_size = ys;
        b->sc_off = m->sc_total;
        m->sc_total += b->ab->g.cout;
    }
    if (build_layout(m))
        goto oom;
    m->params = calloc(m->nparams, sizeof(float));
    m->grads = calloc(m->nparams, sizeof(float));
    m->stats = calloc(m->nstats ? m->nstats : 1, sizeof(float));
    m->col = calloc(m->threads, sizeof(float *));
    m->tgrad = calloc(m->threads, sizeof(float *));
    m->dscale = calloc(m->threads, sizeof(float *));
    m->ycol = calloc(m->threads, sizeof(float *));
    m->nn_part = calloc(m->threads, sizeof(double));
    m->rc_part = calloc(m->threads, sizeof(double));
    if (!m->params || !m->grads || !m->stats || !m->col || !m->tgrad || !m->dscale || !m->ycol || !m->nn_part || !m->rc_part)
        goto oom;
    for (int t = 0; t < m->threads; t++) {
        m->col[t] = malloc(sizeof(float) * (m->col_size ? m->col_size : 1));
        m->tgrad[t] = calloc(m->nparams, sizeof(float));
        m->dscale[t] = calloc(m->sc_total, sizeof(float));
        m->ycol[t] = malloc(sizeof(float) * m->ycol_size);
        if (!m->col[t] || !m->tgrad[t] || !m->dscale[t] || !m->ycol[t])
            goto oom;
    }
    for (int l = 0; l < m->nb; l++) {
        block *b = &m->b[l];
        int C = b->ab->g.cout;
        b->mean = calloc(C, sizeof(float));
        b->var = calloc(C, sizeof(float));
        b->scale = calloc(C, sizeof(float));
        b->dsigma = calloc(C, sizeof(float));
        b->bn_scale = calloc(C, sizeof(float));
        b->bn_shift = calloc(C, sizeof(float));
        b->td_mean = calloc(b->ab->g.cin, sizeof(float));
        b->td_var = calloc(b->ab->g.cin, sizeof(float));
        if (!b->mean || !b->var || !b->scale || !b->dsigma || !b->bn_scale || !b->bn_shift || !b->td_mean ||
            !b->td_var)
            goto oom;
    }
    if (tpool_create(&m->pool, m->threads, e)) {
        drmm_free(m);
        return -1;
    }

    /* initialisation */
    rng_t r;
    rng_seed(&r, seed);
    for (int l = 0; l < m->nb; l++) {
        block *b = &m->b[l];
        const conv_geom *g = &b->ab->g;
        long nw = (long)g->cout * g->cin * g->k * g->k;
        double sd = sqrt(2.0 / (g->cin * g->k * g->k));
        for (long i = 0; i < nw; i++)
            m->params[b->w_off + i] = (float)(sd * rng_normal(&r));
        if (b->ab->bn) {
            for (int c = 0; c < g->cout; c++) {
                m->params[b->gamma_off + c] = 1.0f;
                m->params[b->beta_off + c] = 0.0f;
                m->stats[b->rmean_off + c] = 0.0f;
                m->stats[b->rvar_off + c] = 1.0f;
            }
        }
    }
    if (m->a.dense) {
        double sd = sqrt(1.0 / m->F);
        for (long i = 0; i < (long)m->K * m->F; i++)
            m->params[m->dense_w_off + i] = (float)(sd * rng_normal(&r));
    }
    /* the top-down additions draw after everything else, so that the
       bottom-up initialisation does not depend on them */
    for (int l = 0; l < m->nb; l++) {
        block *b = &m->b[l];
        const conv_geom *g = &b->ab->g;
        long nw = (long)g->cout * g->cin * g->k * g->k;
        /* independent filters: He-normal over the transposed fan-in */
        double sd = sqrt(2.0 / (g->cout * g->k * g->k));
        if (b->tdw_off >= 0)
            for (long i = 0; i < nw; i++)
                m->params[b->tdw_off + i] = cfg->td_weights == TD_WEIGHTS_COPY ? m->params[b->w_off + i]
                                                                                 : (float)(sd * rng_normal(&r));
        for (int c = 0; b->tdg_off >= 0 && c < g->cin; c++) {
            m->params[b->tdg_off + c] = 1.0f;
            m->params[b->tdb_off + c] = 0.0f;
            m->stats[b->tdrm_off + c] = 0.0f;
            m->stats[b->tdrv_off + c] = 1.0f;
        }
    }
    for (int c = 0; m->in_mean_off >= 0 && c < m->a.channels; c++) {
        m->stats[m->in_mean_off + c] = 0.0f;
        m->stats[m->in_std_off + c] = 1.0f;
    }
    if (m->amp_off >= 0)
        m->params[m->amp_off] = cfg->td_init;
    if (m->tmpl_off >= 0) {
        /* template of class c = td_init * the default rendering of one-hot(c) */
        float *eye = calloc((size_t)m->K * m->K, sizeof(float));
        int bad = !eye || render_top_default(m, eye_fill(eye, m->K, cfg->td_init), m->params + m->tmpl_off, m->K);
        free(eye);
        if (bad)
            goto oom;
    }
    *out = m;
    return 0;
oom:
    drmm_free(m);
    return err_set(e, "out of memory for the model");
}

void drmm_free(drmm *m)
{
    if (!m)
        return;
    if (m->pool)
        tpool_free(m->pool);
    free_batch(m);
    if (m->b)
        for (int l = 0; l < m->nb; l++) {
            free(m->b[l].mean); free(m->b[l].var); free(m->b[l].scale); free(m->b[l].dsigma);
            free(m->b[l].bn_scale); free(m->b[l].bn_shift); free(m->b[l].td_mean); free(m->b[l].td_var);
        }
    for (int t = 0; t < m->threads; t++) {
        if (m->col) free(m->col[t]);
        if (m->tgrad) free(m->tgrad[t]);
        if (m->dscale) free(m->dscale[t]);
        if (m->ycol) free(m->ycol[t]);
    }
    free(m->col); free(m->tgrad); free(m->dscale); free(m->ycol); free(m->nn_part); free(m->rc_part);
    free(m->params); free(m->grads); free(m->stats); free(m->info); free(m->b);
    free(m->a.text);
    free(m);
}

/* ---- bottom-up ---- */

typedef struct job {
    drmm *m;
    int l;            /* block */
    int n;            /* rows in the batch */
    int u0;           /* first top-down row */
    const float *in;  /* block input */
    float *dx;        /* gradient w.r.t. the block input (NULL: not needed) */
    float rc_coef, nn_coef;
    const float *target;
    const float *dh_extra;   /* extra gradient into this block's activations, or NULL */
} job;

static void job_conv_forward(void *ctx, int tid, int i0, int i1)
{
    job *j = ctx;
    block *b = &j->m->b[j->l];
    const conv_geom *g = &b->ab->g;
    const float *w = j->m->params + b->w_off;
    for (int i = i0; i < i1;) {
        int S = conv_batch_samples(g, i1 - i);
        conv_forward_batch(g, S, b->act + i * block_out(b), j->in + i * block_in(b), w, j->m->col[tid]);
        i += S;
    }
}

/* BN, ReLU and pooling for channels [c0, c1) of every row. */
static void job_post_conv(void *ctx, int tid, int c0, int c1)
{
    (void)tid;
    job *j = ctx;
    drmm *m = j->m;
    block *b = &m->b[j->l];
    const arch_block *ab = b->ab;
    const int C = ab->g.cout, hw = ab->g.ho * ab->g.wo, n = j->n;
    if (ab->bn) {
        const float *gamma = m->params + b->gamma_off, *beta = m->params + b->beta_off;
        if (m->train)
            bn_forward_train(n, C, hw, c0, c1, b->act, gamma, beta, m->cfg.bn_eps, b->act, b->xhat, b->mean, b->var);
        else
            bn_forward_eval(n, C, hw, c0, c1, b->act, gamma, beta, m->stats + b->rmean_off,
                            m->stats + b->rvar_off, m->cfg.bn_eps, b->act, NULL);
    }
    for (int i = 0; i < n; i++) {
        for (int c = c0; c < c1; c++) {
            long p = (long)i * C + c;
            uint8_t *a = b->a + p * hw;
            if (ab->relu)
                relu_inplace(b->act + p * hw, a, hw);
            else
                memset(a, 1, hw);
            if (ab->pool == POOL_MAX) {
                uint8_t *t = b->t + p * hw;
                maxpool2_forward(p, p + 1, ab->g.ho, ab->g.wo, b->act, b->pooled, b->t);
                for (int k = 0; k < hw; k++)
                    a[k] &= t[k];
            } else if (ab->pool == POOL_MEAN)
                meanpool_forward(p, p + 1, hw, b->act, b->pooled);
        }
    }
}

/* Logits, q, log q and the predicted class of rows [i0, i1) from the last
 * block's pooled output. */
static void class_scores(drmm *m, int i0, int i1)
{
    const int K = m->K, n = i1 - i0;
    const float *feat = m->b[m->nb - 1].pooled + (long)i0 * m->F;
    float *logits = m->logits + (long)i0 * K;
    if (m->a.dense) {
        const float *W = m->params + m->dense_w_off, *bias = m->params + m->dense_b_off;
        for (int i = 0; i < n; i++)
            memcpy(logits + (long)i * K, bias, sizeof(float) * K);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, K, m->F, 1.0f, feat, m->F, W, m->F,
                    1.0f, logits, K);
    } else {
        memcpy(logits, feat, sizeof(float) * n * K);
    }
    softmax_forward(n, K, logits, m->q + (long)i0 * K);
    for (int i = i0; i < i1; i++) {
        const float *z = m->logits + (long)i * m->K;
        float mx = z[0];
        int arg = 0;
        for (int c = 1; c < m->K; c++)
            if (z[c] > mx)
                mx = z[c], arg = c;
        double s = 0;
        for (int c = 0; c < m->K; c++)
            s += exp((double)z[c] - mx);
        float lse = (float)(mx + log(s));
        for (int c = 0; c < m->K; c++)
            m->logq[(long)i * m->K + c] = z[c] - lse;
        m->pred[i] = arg;
    }
}

static void bottom_up(drmm *m, const float *x, int n)
{
    job j = {.m = m, .n = n};
    for (int l = 0; l < m->nb; l++) {
        j.l = l;
        j.in = l == 0 ? x : m->b[l - 1].pooled;
        tpool_for(m->pool, n, job_conv_forward, &j);
        tpool_for(m->pool, m->b[l].ab->g.cout, job_post_conv, &j);
    }
    class_scores(m, 0, n);
}

/* Evaluation-mode bottom-up: only the activations (b->act), the pooled
 * outputs and the class scores, no switches.  Rows are independent (running
 * statistics), so the batch is cut into groups of G rows (the last may have
 * fewer; G is the largest sgemm batch of any block) that go through the
 * whole network while they are in the cache.  The threads take the next
 * group until none is left: the groups do not depend on the thread count, so
 * neither do the results, and a thread slowed down by other work on the
 * machine holds the others up by one group at most. */
typedef struct predict_job {
    drmm *m;
    const float *x;
    int n, G;         /* rows, rows per group (the last group may have fewer) */
    atomic_int next;  /* the next group to take */
} predict_job;

static void predict_group(drmm *m, const float *x, int tid, int g0, int g1)
{
    for (int l = 0; l < m->nb; l++) {
        block *b = &m->b[l];
        const arch_block *ab = b->ab;
        const conv_geom *g = &ab->g;
        const long out = block_out(b), in = block_in(b), pooled = block_pooled(b), hw = (long)g->ho * g->wo;
        const float *xl = l == 0 ? x : m->b[l - 1].pooled, *w = m->params + b->w_off;
        const float *scale = ab->bn ? b->bn_scale : NULL, *shift = ab->bn ? b->bn_shift : NULL;
        for (int i = g0; i < g1;) {
            int S = conv_batch_samples(g, g1 - i);
            /* one sample: the conv writes its activations in place */
            float *y = S == 1 ? b->act + i * out : m->ycol[tid];
            conv_forward_cm(g, S, y, xl + i * in, w, m->col[tid]);
            for (int s = 0; s < S; s++)
                postconv_eval(g->cout, g->ho, g->wo, y + s * hw, S * hw, scale, shift, ab->relu, ab->pool,
                              b->act + (i + s) * out, b->pooled + (i + s) * pooled);
            i += S;
        }
    }
    class_scores(m, g0, g1);
}

static void job_predict(void *ctx, int tid, int t0, int t1)
{
    (void)t0;
    (void)t1;
    predict_job *j = ctx;
    for (int q; (q = atomic_fetch_add(&j->next, 1)) * j->G < j->n;)
        predict_group(j->m, j->x, tid, q * j->G, (q + 1) * j->G < j->n ? (q + 1) * j->G : j->n);
}

/* ---- top-down ---- */

/* Sets each block's per-channel top-down scale: gamma/sigma (adjoint mode,
 * sigma of the batch in training and of the running variance otherwise) or 1. */
static void set_scales(drmm *m)
{
    for (int l = 0; l < m->nb; l++) {
        block *b = &m->b[l];
        for (int c = 0; c < b->ab->g.cout; c++) {
            float s = 1.0f;
            if (m->cfg.td_scale != TD_SCALE_LITERAL && b->ab->bn) {
                float var = m->train ? b->var[c] : m->stats[b->rvar_off + c];
                s = m->params[b->gamma_off + c] / sqrtf(var + m->cfg.bn_eps);
            }
            b->scale[c] = s;
        }
    }
}

/* The scale of the last block's unpooling. */
static float unpool_scale(const drmm *m, const block *b)
{
    if (b->ab->pool == POOL_MEAN && m->cfg.td_scale != TD_SCALE_LITERAL)
        return 1.0f / (b->ab->g.ho * b->ab->g.wo);
    return 1.0f;
}

/* z (conv-output level, one row) = unpool(src) for block b, one row. */
static void unpool_row(const drmm *m, const block *b, const float *src, float *z)
{
    const arch_block *ab = b->ab;
    int C = ab->g.cout, hw = ab->g.ho * ab->g.wo;
    if (ab->pool == POOL_MAX)
        upsample2_forward(0, C, ab->hp, ab->wp, 1.0f, src, z);
    else if (ab->pool == POOL_MEAN)
        broadcast_forward(0, C, hw, unpool_scale(m, b), src, z);
    else
        memcpy(z, src, sizeof(float) * C * hw);
}

static void unpool_row_backward(const drmm *m, const block *b, const float *dz, float *dsrc)
{
    const arch_block *ab = b->ab;
    int C = ab->g.cout, hw = ab->g.ho * ab->g.wo;
    if (ab->pool == POOL_MAX)
        upsample2_backward(0, C, ab->hp, ab->wp, 1.0f, dz, dsrc);
    else if (ab->pool == POOL_MEAN)
        broadcast_backward(0, C, hw, unpool_scale(m, b), dz, dsrc);
    else
        memcpy(dsrc, dz, sizeof(float) * C * hw);
}

/* The top signal of rows (e: nrows x K, already times the amplitude) rendered
 * down to the last block's z level, without a template: dense^T then unpool. */
static int render_top_default(drmm *m, const float *e, float *z, int nrows)
{
    block *b = &m->b[m->nb - 1];
    float *top = malloc(sizeof(float) * (size_t)nrows * m->F);
    if (!top)
        return -1;
    if (m->a.dense)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, nrows, m->F, m->K, 1.0f, e, m->K,
                    m->params + m->dense_w_off, m->F, 0.0f, top, m->F);
    else
        memcpy(top, e, sizeof(float) * nrows * m->K);
    for (int i = 0; i < nrows; i++)
        unpool_row(m, b, top + (long)i * m->F, z + i * block_out(b));
    free(top);
    return 0;
}

/* The top vector e of rows [u0, n): one-hot or q, true labels where asked,
 * (the amplitude is applied by the caller). */
static void top_vectors(drmm *m, const int *labels, int force_labels)
{
    for (int i = m->u0; i < m->n; i++) {
        float *e = m->e + (long)i * m->K;
        int truth = labels && (force_labels || (m->cfg.td_true_label && i < m->n_lab));
        if (!truth && m->cfg.td_top == TD_TOP_SOFTMAX) {
            memcpy(e, m->q + (long)i * m->K, sizeof(float) * m->K);
        } else {
            memset(e, 0, sizeof(float) * m->K);
            e[truth ? labels[i] : m->pred[i]] = 1.0f;
        }
    }
}

/* Where the top-down filters of a block are. */
static long td_w_off(const block *b) { return b->tdw_off >= 0 ? b->tdw_off : b->w_off; }

/* The top-down BN of block j->l's rendering sin, rows [u0, n), channels
 * [c0, c1): batch statistics in training, running ones otherwise. */
static void job_td_bn_forward(void *ctx, int tid, int c0, int c1)
{
    (void)tid;
    job *j = ctx;
    drmm *m = j->m;
    block *b = &m->b[j->l];
    const int C = b->ab->g.cin, hw = b->ab->g.h * b->ab->g.w, rows = m->n - m->u0;
    const long off = (long)m->u0 * block_in(b);
    const float *gamma = m->params + b->tdg_off, *beta = m->params + b->tdb_off;
    if (m->train)
        bn_forward_train(rows, C, hw, c0, c1, b->sin + off, gamma, beta, m->cfg.bn_eps, b->sin + off,
                         b->td_xhat + off, b->td_mean, b->td_var);
    else
        bn_forward_eval(rows, C, hw, c0, c1, b->sin + off, gamma, beta, m->stats + b->tdrm_off,
                        m->stats + b->tdrv_off, m->cfg.bn_eps, b->sin + off, NULL);
}

/* Its backward: dsin (w.r.t. the BN output) becomes the gradient w.r.t. the
 * transposed convolution's output; gamma and beta receive theirs. */
static void job_td_bn_backward(void *ctx, int tid, int c0, int c1)
{
    (void)tid;
    job *j = ctx;
    drmm *m = j->m;
    block *b = &m->b[j->l];
    const int C = b->ab->g.cin, hw = b->ab->g.h * b->ab->g.w, rows = m->n - m->u0;
    const long off = (long)m->u0 * block_in(b);
    bn_backward_train(rows, C, hw, c0, c1, b->dsin + off, b->td_xhat + off, m->params + b->tdg_off, b->td_var,
                      m->cfg.bn_eps, NULL, b->dsin + off, m->grads + b->tdg_off, m->grads + b->tdb_off);
}

/* The top-down switch of unit k: 1 where a-hat * t-hat is on; with leaky
 * switches, leak where only the ReLU is off (t-hat on, or no max-pool). */
static inline float switch_on(const uint8_t *a, const uint8_t *t, long k, float leak)
{
    return a[k] ? 1.0f : (!t || t[k]) ? leak : 0.0f;
}

/* sum of min(0, z)^2, in 8 partial sums so that it vectorises */
static double sum_sq_negative(const float *z, long n)
{
    float acc[8] = {0};
    for (long k = 0; k < n; k++) {
        float v = fminf(z[k], 0.0f);
        acc[k & 7] += v * v;
    }
    double s = 0;
    for (int i = 0; i < 8; i++)
        s += acc[i];
    return s;
}

static void job_topdown_block(void *ctx, int tid, int i0, int i1)
{
    job *j = ctx;
    drmm *m = j->m;
    block *b = &m->b[j->l];
    const arch_block *ab = b->ab;
    const int C = ab->g.cout, hw = ab->g.ho * ab->g.wo;
    const long out = block_out(b), in = block_in(b);
    const float *w = m->params + td_w_off(b);
    double nn = 0;
    for (int r = i0; r < i1; r++) {
        int i = m->u0 + r;
        float *z = b->z + i * out, *zs = b->zs + i * out;
        if (j->l < m->nb - 1)
            unpool_row(m, b, m->b[j->l + 1].sin + i * block_in(&m->b[j->l + 1]), z);
        /* the last block's z was set by the caller */
        const uint8_t *a = b->a + i * out;
        nn += sum_sq_negative(z, out);
        if (m->cfg.td_leak != 0) {
            const uint8_t *t = ab->pool == POOL_MAX ? b->t + i * out : NULL;
            for (int c = 0; c < C; c++)
                for (int k = c * hw; k < (c + 1) * hw; k++)
                    zs[k] = z[k] * b->scale[c] * switch_on(a, t, k, m->cfg.td_leak);
            continue;
        }
        for (int c = 0; c < C; c++) {
            const float s = b->scale[c];
            for (int k = c * hw; k < (c + 1) * hw; k++)
                zs[k] = z[k] * s * (float)a[k];
        }
    }
    for (int r = i0; r < i1;) {
        int i = m->u0 + r, S = conv_batch_samples(&ab->g, i1 - r);
        conv_transpose_batch(&ab->g, S, b->sin + i * in, b->zs + i * out, w, m->col[tid]);
        r += S;
    }
    m->nn_part[tid] += nn;
}

/* Renders rows [u0, n) top-down; returns the NN penalty's sum of squares per
 * block in nn (may be NULL). */
static void top_down(drmm *m, const int *labels, int force_labels, double *nn)
{
    set_scales(m);
    top_vectors(m, labels, force_labels);
    int rows = m->n - m->u0;
    block *last = &m->b[m->nb - 1];
    float *zlast = last->z + m->u0 * block_out(last);
    const float *eu = m->e + (long)m->u0 * m->K;
    if (m->cfg.td_top == TD_TOP_ACTIVATIONS) {
        float amp = m->amp_off >= 0 ? m->params[m->amp_off] : 1.0f;
        const float *h = last->act + m->u0 * block_out(last);
        for (long k = 0; k < rows * block_out(last); k++)
            zlast[k] = amp * h[k];
    } else if (m->tmpl_off >= 0) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, (int)block_out(last), m->K, 1.0f,
                    eu, m->K, m->params + m->tmpl_off, (int)block_out(last), 0.0f, zlast, (int)block_out(last));
    } else {
        /* v = amp * e (in de, free until the backward pass); top = v W, or v */
        float amp = m->amp_off >= 0 ? m->params[m->amp_off] : 1.0f;
        float *v = m->de + (long)m->u0 * m->K, *topu = m->top + (long)m->u0 * m->F;
        for (long k = 0; k < (long)rows * m->K; k++)
            v[k] = amp * eu[k];
        if (m->a.dense)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, m->F, m->K, 1.0f, v, m->K,
                        m->params + m->dense_w_off, m->F, 0.0f, topu, m->F);
        else
            memcpy(topu, v, sizeof(float) * rows * m->K);
        for (int r = 0; r < rows; r++) {
            int i = m->u0 + r;
            unpool_row(m, last, m->top + (long)i * m->F, last->z + i * block_out(last));
        }
    }
    job j = {.m = m, .n = m->n, .u0 = m->u0};
    for (int l = m->nb - 1; l >= 0; l--) {
        j.l = l;
        memset(m->nn_part, 0, sizeof(double) * m->threads);
        tpool_for(m->pool, rows, job_topdown_block, &j);
        if (m->b[l].tdg_off >= 0)
            tpool_for(m->pool, m->b[l].ab->g.cin, job_td_bn_forward, &j);
        if (nn) {
            double s = 0;
            for (int t = 0; t < m->threads; t++)
                s += m->nn_part[t];
            nn[l] = s;
        }
    }
}

/* Gradient of the top-down pass for one block: in dsin (w.r.t. this block's
 * output signal), out dz -> unpooled into the block above's dsin (or dtop). */
static void job_topdown_backward(void *ctx, int tid, int i0, int i1)
{
    job *j = ctx;
    drmm *m = j->m;
    block *b = &m->b[j->l];
    const arch_block *ab = b->ab;
    const int C = ab->g.cout, hw = ab->g.ho * ab->g.wo;
    const long out = block_out(b), in = block_in(b);
    const float *w = m->params + td_w_off(b);
    float *tg = m->tgrad[tid] + td_w_off(b), *ds = m->dscale[tid] + b->sc_off;
    if (j->l == 0 && b->tdg_off < 0)   /* dLRC/dI-hat (with a top-down BN: set by the caller) */
        for (long k = (long)(m->u0 + i0) * in; k < (long)(m->u0 + i1) * in; k++)
            b->dsin[k] = j->rc_coef * (b->sin[k] - j->target[k]);
    for (int r = i0; r < i1;) {
        int i = m->u0 + r, S = conv_batch_samples(&ab->g, i1 - r);
        conv_weight_grad_batch(&ab->g, S, tg, b->zs + i * out, b->dsin + i * in, m->col[tid]);
        conv_forward_batch(&ab->g, S, b->dz + i * out, b->dsin + i * in, w, m->col[tid]);
        r += S;
    }
    for (int r = i0; r < i1; r++) {
        int i = m->u0 + r;
        float *z = b->z + i * out, *dz = b->dz + i * out;
        const uint8_t *a = b->a + i * out;
        const uint8_t *t = ab->pool == POOL_MAX ? b->t + i * out : NULL;
        const float coef = j->nn_coef, leak = m->cfg.td_leak;
        for (int c = 0; c < C; c++) {
            const float s = b->scale[c];
            float acc[8] = {0};
            for (int k = c * hw; k < (c + 1) * hw; k++) {
                float on = leak != 0 ? switch_on(a, t, k, leak) : (float)a[k], d = dz[k], v = z[k];
                acc[k & 7] += d * v * on;
                dz[k] = d * s * on + coef * fminf(v, 0.0f);
            }
            ds[c] += acc[0] + acc[1] + acc[2] + acc[3] + acc[4] + acc[5] + acc[6] + acc[7];
        }
        float *dst = j->l < m->nb - 1 ? m->b[j->l + 1].dsin + i * block_in(&m->b[j->l + 1])
                                      : (m->tmpl_off >= 0 || m->cfg.td_top == TD_TOP_ACTIVATIONS
                                             ? NULL : m->dtop + (long)i * m->F);
        if (dst)
            unpool_row_backward(m, b, dz, dst);
    }
}

/* ---- bottom-up backward ---- */

static void job_pre_conv_backward(void *ctx, int tid, int c0, int c1)
{
    (void)tid;
    job *j = ctx;
    drmm *m = j->m;
    block *b = &m->b[j->l];
    const arch_block *ab = b->ab;
    const int C = ab->g.cout, hw = ab->g.ho * ab->g.wo, n = j->n;
    for (int i = 0; i < n; i++) {
        for (int c = c0; c < c1; c++) {
            long p = (long)i * C + c;
            /* the mask a-hat * t-hat routes through the max-pool and the ReLU at once */
            float *d = b->dact + p * hw;
            const float *extra = j->dh_extra ? j->dh_extra + p * hw : NULL, *h = b->act + p * hw;
            if (ab->pool == POOL_MAX) {
                maxpool2_backward(p, p + 1, ab->g.ho, ab->g.wo, b->dpooled, b->a, b->dact);
                if (extra)   /* the ReLU's own switch: h > 0 */
                    for (int k = 0; k < hw; k++)
                        d[k] += h[k] > 0.0f ? extra[k] : 0.0f;
                continue;
            }
            if (ab->pool == POOL_MEAN)
                meanpool_backward(p, p + 1, hw, b->dpooled, b->dact);
            /* POOL_NONE: dpooled is dact */
            if (extra)
                for (int k = 0; k < hw; k++)
                    d[k] += extra[k];
            relu_backward_inplace(d, b->a + p * hw, hw);
        }
    }
    if (ab->bn)
        bn_backward_train(n, C, hw, c0, c1, b->dact, b->xhat, m->params + b->gamma_off, b->var,
                          m->cfg.bn_eps, b->dsigma, b->dact, m->grads + b->gamma_off, m->grads + b->beta_off);
}

static void job_conv_backward(void *ctx, int tid, int i0, int i1)
{
    job *j = ctx;
    drmm *m = j->m;
    block *b = &m->b[j->l];
    const conv_geom *g = &b->ab->g;
    const float *w = m->params + b->w_off;
    float *tg = m->tgrad[tid] + b->w_off;
    for (int i = i0; i < i1;) {
        int S = conv_batch_samples(g, i1 - i);
        const float *dy = b->dact + i * block_out(b);
        conv_weight_grad_batch(g, S, tg, dy, j->in + i * block_in(b), m->col[tid]);
        if (j->dx)
            conv_transpose_batch(g, S, j->dx + i * block_in(b), dy, w, m->col[tid]);
        i += S;
    }
}

/* ---- the training batch ---- */

/* x itself, or (in_norm) x standardised into m->xs (which holds n rows). */
static const float *standardise(drmm *m, const float *x, int n)
{
    if (m->in_mean_off < 0)
        return x;
    const int C = m->a.channels, hw = m->a.height * m->a.width;
    for (int i = 0; i < n; i++)
        for (int c = 0; c < C; c++) {
            const float mu = m->stats[m->in_mean_off + c], inv = 1.0f / m->stats[m->in_std_off + c];
            const long off = ((long)i * C + c) * hw;
            for (int k = 0; k < hw; k++)
                m->xs[off + k] = (x[off + k] - mu) * inv;
        }
    return m->xs;
}

int drmm_set_input_norm(drmm *m, const float *mean, const float *std, err_t *e)
{
    if (m->in_mean_off < 0)
        return err_set(e, "the model does not standardise its input (in_norm is off)");
    for (int c = 0; c < m->a.channels; c++)
        if (!(std[c] > 0) || !isfinite(std[c]) || !isfinite(mean[c]))
            return err_input(e, "input standardisation of channel %d: mean %g, std %g (the std must be positive)", c,
                             mean[c], std[c]);
    memcpy(m->stats + m->in_mean_off, mean, sizeof(float) * m->a.channels);
    memcpy(m->stats + m->in_std_off, std, sizeof(float) * m->a.channels);
    return 0;
}

static int check_batch(drmm *m, const float *x, const int *labels, int n_lab, int n, err_t *e)
{
    if (!x || n < 1 || n_lab < 0 || n_lab > n || (n_lab > 0 && !labels))
        return err_set(e, "invalid batch: %d rows, %d labelled", n, n_lab);
    for (int i = 0; i < n_lab; i++)
        if (labels[i] < 0 || labels[i] >= m->K)
            return err_set(e, "label %d of batch row %d out of range 0..%d", labels[i], i, m->K - 1);
    return ensure_batch(m, n, e);
}

int drmm_train_batch(drmm *m, const float *x, const int *labels, int n_lab, int n,
                     int flags, drmm_losses *out, err_t *e)
{
    if (check_batch(m, x, labels, n_lab, n, e))
        return -1;
    x = standardise(m, x, n);
    drmm_config scaled = m->cfg;
    scaled.a_rc *= m->unsup_scale;
    scaled.a_kl *= m->unsup_scale;
    scaled.a_nn *= m->unsup_scale;
    scaled.a_rcl *= m->unsup_scale;
    const drmm_config *cfg = &scaled;
    const int K = m->K, P = m->P;
    m->x = x;
    m->n = n;
    m->n_lab = n_lab;
    m->u0 = cfg->unsup_both ? 0 : n_lab;
    m->train = 1;
    const int nu = n - m->u0;
    drmm_losses L;
    memset(&L, 0, sizeof L);
    L.n_lab = n_lab;
    L.n_unsup = nu;

    bottom_up(m, x, n);

    /* LH and training errors */
    for (int i = 0; i < n_lab; i++) {
        L.lh -= m->logq[(long)i * K + labels[i]];
        L.lab_errors += m->pred[i] != labels[i];
    }
    if (n_lab)
        L.lh /= n_lab;
    /* LKL: sign * mean_n sum_c q log(C q) */
    const double kl_sign = cfg->kl_literal ? 1.0 : -1.0, logK = log((double)K);
    for (int i = m->u0; i < n; i++)
        for (int c = 0; c < K; c++) {
            double q = m->q[(long)i * K + c];
            L.lkl += q * (m->logq[(long)i * K + c] + logK);
        }
    if (nu)
        L.lkl *= kl_sign / nu;

    /* top-down, LRC and LNN */
    double nn[ARCH_MAX_BLOCKS] = {0};
    m->have_td = nu > 0;
    if (m->have_td) {
        top_down(m, labels, 0, nn);
        const float *ih = m->b[0].sin;
        double rc = 0, x2 = 0;
        for (long k = (long)m->u0 * P; k < (long)n * P; k++) {
            double d = (double)x[k] - ih[k];
            rc += d * d;
            x2 += (double)x[k] * x[k];
        }
        L.lrc = rc / ((double)nu * P);
        L.x2 = x2 / ((double)nu * P);
        for (int l = 0; l < m->nb; l++)
            L.lnn += nn[l] / ((double)nu * block_out(&m->b[l]));
        for (int l = 1; l < m->nb; l++) {
            const block *b = &m->b[l];
            const float *xl = m->b[l - 1].pooled, *sl = b->sin;
            long in = block_in(b);
            double s2 = 0;
            for (long k = (long)m->u0 * in; k < (long)n * in; k++) {
                double d = (double)xl[k] - sl[k];
                s2 += d * d;
            }
            L.lrcl += s2 / ((double)nu * in);
        }
    }
    L.total = cfg->a_h * L.lh + cfg->a_rc * L.lrc + cfg->a_kl * L.lkl + cfg->a_nn * L.lnn + cfg->a_rcl * L.lrcl;
    if (out)
        *out = L;
    if (!isfinite(L.total))
        return err_set(e, "non-finite loss (LH=%g LRC=%g LKL=%g LNN=%g LRCL=%g): lower the learning rate or enable gradient clipping",
                       L.lh, L.lrc, L.lkl, L.lnn, L.lrcl);

    if (flags & DRMM_UPDATE_STATS)
        for (int l = 0; l < m->nb; l++) {
            block *b = &m->b[l];
            if (b->ab->bn)
                bn_update_running(b->ab->g.cout, (long)n * b->ab->g.ho * b->ab->g.wo, cfg->bn_momentum,
                                  b->mean, b->var, m->stats + b->rmean_off, m->stats + b->rvar_off);
            if (b->tdg_off >= 0 && m->have_td)
                bn_update_running(b->ab->g.cin, (long)nu * b->ab->g.h * b->ab->g.w, cfg->bn_momentum,
                                  b->td_mean, b->td_var, m->stats + b->tdrm_off, m->stats + b->tdrv_off);
        }
    if (!(flags & DRMM_BACKWARD))
        return 0;

    memset(m->grads, 0, sizeof(float) * m->nparams);
    for (int t = 0; t < m->threads; t++) {
        memset(m->tgrad[t], 0, sizeof(float) * m->nparams);
        memset(m->dscale[t], 0, sizeof(float) * m->sc_total);
    }
    memset(m->dlogits, 0, sizeof(float) * n * K);
    for (int l = 0; l < m->nb; l++)
        memset(m->b[l].dsigma, 0, sizeof(float) * m->b[l].ab->g.cout);

    /* gradient of the top-down pass (LRC, LNN, LRCL) */
    if (m->have_td && (cfg->a_rc != 0 || cfg->a_nn != 0 || cfg->a_rcl != 0)) {
        job j = {.m = m, .n = n, .u0 = m->u0, .target = x};
        j.rc_coef = (float)(2.0 * cfg->a_rc / ((double)nu * P));
        for (int l = 0; l < m->nb; l++) {
            block *b = &m->b[l];
            if (l > 0 && cfg->a_rcl != 0) {
                /* LRCL: the rendering of this block's input against the bottom-up input */
                long in = block_in(b);
                float c = (float)(2.0 * cfg->a_rcl / ((double)nu * in));
                const float *xl = m->b[l - 1].pooled;
                float *dx = m->b[l - 1].dpooled_extra;
                memset(dx, 0, sizeof(float) * n * in);
                for (long k = (long)m->u0 * in; k < (long)n * in; k++) {
                    float d = c * (b->sin[k] - xl[k]);
                    b->dsin[k] += d;
                    dx[k] = -d;
                }
            }
            j.l = l;
            j.nn_coef = (float)(2.0 * cfg->a_nn / ((double)nu * block_out(b)));
            if (b->tdg_off >= 0) {
                if (l == 0)   /* dLRC/dI-hat, then through the output BN */
                    for (long k = (long)m->u0 * P; k < (long)n * P; k++)
                        b->dsin[k] = j.rc_coef * (b->sin[k] - x[k]);
                tpool_for(m->pool, b->ab->g.cin, job_td_bn_backward, &j);
            }
            tpool_for(m->pool, nu, job_topdown_backward, &j);
        }
        /* the top: activations, template, or dense^T and amplitude */
        block *last = &m->b[m->nb - 1];
        const float *eu = m->e + (long)m->u0 * K;
        float *deu = m->de + (long)m->u0 * K;
        if (cfg->td_top == TD_TOP_ACTIVATIONS) {
            /* z = amp * h: into the bottom-up activations and the amplitude */
            float amp = m->amp_off >= 0 ? m->params[m->amp_off] : 1.0f;
            long D = block_out(last);
            const float *dz = last->dz, *h = last->act;
            double s = 0;
            memset(last->dh_extra, 0, sizeof(float) * n * D);
            for (long k = (long)m->u0 * D; k < (long)n * D; k++) {
                last->dh_extra[k] = amp * dz[k];
                s += (double)dz[k] * h[k];
            }
            if (m->amp_off >= 0)
                m->grads[m->amp_off] += (float)s;
        } else if (m->tmpl_off >= 0) {
            int D = (int)block_out(last);
            const float *dz = last->dz + m->u0 * block_out(last);
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, K, D, nu, 1.0f, eu, K, dz, D, 1.0f,
                        m->grads + m->tmpl_off, D);
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, nu, K, D, 1.0f, dz, D,
                        m->params + m->tmpl_off, D, 0.0f, deu, K);
        } else {
            float amp = m->amp_off >= 0 ? m->params[m->amp_off] : 1.0f;
            const float *dtop = m->dtop + (long)m->u0 * m->F;
            float *dv = deu;   /* dL/d(amp * e) */
            if (m->a.dense) {
                /* top = v W with v = amp * e: dW += v^T dtop, dv = dtop W^T */
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, K, m->F, nu, amp, eu, K, dtop, m->F,
                            1.0f, m->grads + m->dense_w_off, m->F);
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, nu, K, m->F, 1.0f, dtop, m->F,
                            m->params + m->dense_w_off, m->F, 0.0f, dv, K);
            } else {
                memcpy(dv, dtop, sizeof(float) * nu * K);
            }
            if (m->amp_off >= 0) {
                double s = 0;
                for (long k = 0; k < (long)nu * K; k++)
                    s += (double)dv[k] * eu[k];
                m->grads[m->amp_off] += (float)s;
            }
            for (long k = 0; k < (long)nu * K; k++)
                deu[k] = amp * dv[k];
        }
        /* rows that rendered from q pass the gradient on into the logits */
        if (cfg->td_top == TD_TOP_SOFTMAX)
            for (int i = m->u0; i < n; i++) {
                if (cfg->td_true_label && i < n_lab)
                    continue;
                softmax_backward(1, K, m->q + (long)i * K, m->de + (long)i * K, m->dlogits + (long)i * K);
            }
        /* the scale gamma/sigma: into gamma directly and into sigma via BN
           (not when the scale is held constant) */
        if (cfg->td_scale == TD_SCALE_ADJOINT)
            for (int l = 0; l < m->nb; l++) {
                block *b = &m->b[l];
                if (!b->ab->bn)
                    continue;
                for (int c = 0; c < b->ab->g.cout; c++) {
                    double d = 0;
                    for (int t = 0; t < m->threads; t++)
                        d += m->dscale[t][b->sc_off + c];
                    double sigma = sqrt((double)b->var[c] + cfg->bn_eps);
                    double gamma = m->params[b->gamma_off + c];
                    m->grads[b->gamma_off + c] += (float)(d / sigma);
                    b->dsigma[c] = (float)(-d * gamma / (sigma * sigma));
                }
            }
    }

    int td_grad = m->have_td && (cfg->a_rc != 0 || cfg->a_nn != 0 || cfg->a_rcl != 0);

    /* LH and LKL into the logits */
    for (int i = 0; i < n_lab; i++)
        for (int c = 0; c < K; c++)
            m->dlogits[(long)i * K + c] += (float)(cfg->a_h / n_lab * (m->q[(long)i * K + c] - (c == labels[i])));
    if (nu && cfg->a_kl != 0)
        for (int i = m->u0; i < n; i++) {
            const float *q = m->q + (long)i * K, *lq = m->logq + (long)i * K;
            double s = 0;
            for (int c = 0; c < K; c++)
                s += q[c] * (lq[c] + logK);
            for (int c = 0; c < K; c++)
                m->dlogits[(long)i * K + c] += (float)(kl_sign * cfg->a_kl / nu * q[c] * (lq[c] + logK - s));
        }

    /* bottom-up backward */
    block *last = &m->b[m->nb - 1];
    if (m->a.dense) {
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, K, m->F, n, 1.0f, m->dlogits, K, last->pooled,
                    m->F, 1.0f, m->grads + m->dense_w_off, m->F);
        for (int i = 0; i < n; i++)
            for (int c = 0; c < K; c++)
                m->grads[m->dense_b_off + c] += m->dlogits[(long)i * K + c];
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, m->F, K, 1.0f, m->dlogits, K,
                    m->params + m->dense_w_off, m->F, 0.0f, last->dpooled, m->F);
    } else {
        memcpy(last->dpooled, m->dlogits, sizeof(float) * n * K);
    }
    job j = {.m = m, .n = n};
    for (int l = m->nb - 1; l >= 0; l--) {
        j.l = l;
        j.in = l == 0 ? x : m->b[l - 1].pooled;
        j.dx = l == 0 ? NULL : m->b[l - 1].dpooled;
        j.dh_extra = td_grad ? m->b[l].dh_extra : NULL;
        tpool_for(m->pool, m->b[l].ab->g.cout, job_pre_conv_backward, &j);
        tpool_for(m->pool, n, job_conv_backward, &j);
        if (l > 0 && td_grad && m->b[l - 1].dpooled_extra) {
            long cnt = (long)n * block_pooled(&m->b[l - 1]);
            float *dp = m->b[l - 1].dpooled;
            const float *ex = m->b[l - 1].dpooled_extra;
            for (long k = 0; k < cnt; k++)
                dp[k] += ex[k];
        }
    }
    for (int t = 0; t < m->threads; t++)
        for (int l = 0; l < m->nb; l++) {
            block *b = &m->b[l];
            long nw = (long)b->ab->g.cout * b->ab->g.cin * b->ab->g.k * b->ab->g.k;
            for (int pass = 0; pass < (b->tdw_off >= 0 ? 2 : 1); pass++) {
                long off = pass ? b->tdw_off : b->w_off;
                float *g = m->grads + off, *tg = m->tgrad[t] + off;
                for (long k = 0; k < nw; k++)
                    g[k] += tg[k];
            }
        }
    return 0;
}

/* ---- evaluation ---- */

void drmm_set_unsup_scale(drmm *m, float s) { m->unsup_scale = s; }

int drmm_predict(drmm *m, const float *x, int n, float *probs, err_t *e)
{
    if (check_batch(m, x, NULL, 0, n, e))
        return -1;
    m->train = 0;
    m->n = n;
    m->n_lab = 0;
    m->have_td = 0;
    for (int l = 0; l < m->nb; l++) {
        block *b = &m->b[l];
        if (b->ab->bn)
            bn_eval_affine(b->ab->g.cout, m->params + b->gamma_off, m->params + b->beta_off,
                           m->stats + b->rmean_off, m->stats + b->rvar_off, m->cfg.bn_eps, b->bn_scale,
                           b->bn_shift);
    }
    int G = 1;
    for (int l = 0; l < m->nb; l++) {
        int S = conv_batch_samples(&m->b[l].ab->g, n);
        G = S > G ? S : G;
    }
    predict_job j = {.m = m, .x = standardise(m, x, n), .n = n, .G = G};
    atomic_init(&j.next, 0);
    tpool_for(m->pool, m->threads, job_predict, &j);   /* one item per thread */
    if (probs)
        memcpy(probs, m->q, sizeof(float) * n * m->K);
    return 0;
}

int drmm_reconstruct(drmm *m, const float *x, const int *labels, int n, float *ihat, err_t *e)
{
    if (check_batch(m, x, NULL, 0, n, e))
        return -1;
    if (labels)
        for (int i = 0; i < n; i++)
            if (labels[i] < 0 || labels[i] >= m->K)
                return err_set(e, "label %d of row %d out of range 0..%d", labels[i], i, m->K - 1);
    m->train = 0;
    m->n = n;
    m->n_lab = 0;
    m->u0 = 0;
    bottom_up(m, standardise(m, x, n), n);
    top_down(m, labels, labels != NULL, NULL);
    m->have_td = 1;
    if (!ihat)
        return 0;
    memcpy(ihat, m->b[0].sin, sizeof(float) * n * m->P);
    if (m->in_mean_off >= 0) {
        const int C = m->a.channels, hw = m->a.height * m->a.width;
        for (int i = 0; i < n; i++)
            for (int c = 0; c < C; c++) {
                const float mu = m->stats[m->in_mean_off + c], sd = m->stats[m->in_std_off + c];
                for (long k = ((long)i * C + c) * hw, end = k + hw; k < end; k++)
                    ihat[k] = ihat[k] * sd + mu;
            }
    }
    return 0;
}

int drmm_bn_recalibrate(drmm *m, const float *x, int n, int batch, err_t *e)
{
    if (n < 1 || batch < 2)
        return err_set(e, "BN re-estimation needs images and a batch of at least 2 (got %d, %d)", n, batch);
    if (batch > n)
        batch = n;
    if (ensure_batch(m, batch, e))
        return -1;
    for (int l = 0; l < m->nb; l++) {
        block *b = &m->b[l];
        if (!b->ab->bn)
            continue;
        memset(m->stats + b->rmean_off, 0, sizeof(float) * b->ab->g.cout);
        memset(m->stats + b->rvar_off, 0, sizeof(float) * b->ab->g.cout);
    }
    const int td_bn = m->cfg.td_param == TD_PARAM_BN;
    for (int l = 0; l < m->nb && td_bn; l++) {
        block *b = &m->b[l];
        memset(m->stats + b->tdrm_off, 0, sizeof(float) * b->ab->g.cin);
        memset(m->stats + b->tdrv_off, 0, sizeof(float) * b->ab->g.cin);
    }
    /* population statistics: batch statistics averaged with weights = rows;
       the top-down BN's from renderings of the predicted class */
    long total = 0;
    m->train = 1;
    for (int s = 0; s < n; s += batch) {
        int rows = s + batch <= n ? batch : n - s;
        if (rows < 2)
            break;   /* a 1-image tail has no variance */
        m->n = rows;
        bottom_up(m, standardise(m, x + (long)s * m->P, rows), rows);
        if (td_bn) {
            m->u0 = 0;
            top_down(m, NULL, 0, NULL);
        }
        for (int l = 0; l < m->nb && td_bn; l++) {
            block *b = &m->b[l];
            long cnt = (long)rows * b->ab->g.h * b->ab->g.w;
            float unbias = (float)cnt / (float)(cnt - 1);
            for (int c = 0; c < b->ab->g.cin; c++) {
                m->stats[b->tdrm_off + c] += rows * b->td_mean[c];
                m->stats[b->tdrv_off + c] += rows * b->td_var[c] * unbias;
            }
        }
        for (int l = 0; l < m->nb; l++) {
            block *b = &m->b[l];
            if (!b->ab->bn)
                continue;
            long cnt = (long)rows * b->ab->g.ho * b->ab->g.wo;
            float unbias = (float)cnt / (float)(cnt - 1);
            for (int c = 0; c < b->ab->g.cout; c++) {
                m->stats[b->rmean_off + c] += rows * b->mean[c];
                m->stats[b->rvar_off + c] += rows * b->var[c] * unbias;
            }
        }
        total += rows;
    }
    for (int l = 0; l < m->nb; l++) {
        block *b = &m->b[l];
        if (!b->ab->bn)
            continue;
        for (int c = 0; c < b->ab->g.cout; c++) {
            m->stats[b->rmean_off + c] /= total;
            m->stats[b->rvar_off + c] /= total;
        }
    }
    for (int l = 0; l < m->nb && td_bn; l++) {
        block *b = &m->b[l];
        for (int c = 0; c < b->ab->g.cin; c++) {
            m->stats[b->tdrm_off + c] /= total;
            m->stats[b->tdrv_off + c] /= total;
        }
    }
    m->have_td = 0;
    return 0;
}

int drmm_calibrate_amplitude(drmm *m, const float *x, const int *labels, int n_lab, int n, err_t *e)
{
    if (m->amp_off < 0 && m->tmpl_off < 0)
        return 0;
    drmm_losses L;
    if (drmm_train_batch(m, x, labels, n_lab, n, 0, &L, e))
        return -1;
    if (!m->have_td)
        return err_set(e, "amplitude calibration needs unlabelled rows in the batch");
    double ih2 = 0;
    for (long k = (long)m->u0 * m->P; k < (long)n * m->P; k++)
        ih2 += (double)m->b[0].sin[k] * m->b[0].sin[k];
    ih2 /= (double)(n - m->u0) * m->P;
    if (!(ih2 > 0))
        return err_set(e, "amplitude calibration: the top-down pass renders zero images");
    float r = (float)sqrt(L.x2 / ih2);
    if (m->amp_off >= 0)
        m->params[m->amp_off] *= r;
    else
        for (long k = 0; k < (long)m->K * block_out(&m->b[m->nb - 1]); k++)
            m->params[m->tmpl_off + k] *= r;
    return 0;
}

uint64_t drmm_switch_hash(const drmm *m)
{
    uint64_t h = 1469598103934665603ULL;
#define MIX(byte) (h = (h ^ (uint8_t)(byte)) * 1099511628211ULL)
    /* the switches follow from the activations (after ReLU, before pooling):
       a-hat = act > 0, t-hat = the first maximum of each 2x2 window */
    for (int l = 0; l < m->nb; l++) {
        const block *b = &m->b[l];
        const arch_block *ab = b->ab;
        const int w = ab->g.wo;
        const long cnt = block_out(b) * m->n;
        if (ab->pool != POOL_MAX) {
            for (long k = 0; k < cnt; k++)
                MIX(ab->relu ? b->act[k] > 0.0f : 1);
            continue;
        }
        for (long k = 0; k < cnt; k += 2L * w)   /* two rows of windows */
            for (int x = 0; x < w; x += 2) {
                const float *r0 = b->act + k + x, *r1 = r0 + w;
                float p = r0[0], q = r0[1], r = r1[0], s = r1[1];
                float pq = q > p ? q : p, rs = s > r ? s : r;
                int win = rs > pq ? (s > r ? 3 : 2) : (q > p ? 1 : 0);
                if (ab->relu && !((win == 0 ? p : win == 1 ? q : win == 2 ? r : s) > 0.0f))
                    win = 4;   /* the winner is switched off by its ReLU */
                MIX(win);
            }
    }
    for (int i = 0; i < m->n; i++)
        MIX(m->pred[i]);
#undef MIX
    return h;
}

const float *drmm_last_ihat(const drmm *m, int *first, int *n)
{
    if (!m->have_td) {
        *first = *n = 0;
        return NULL;
    }
    *first = m->u0;
    *n = m->n;
    return m->b[0].sin;
}
