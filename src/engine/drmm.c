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

/* The parts of the model, as llm.c separates them:
 *   drmm_config   what the model is (drmm.h; copied at creation, never changed)
 *   model_params  the flat trainable parameters, their gradients and the BN
 *                 statistics, with the table of where each named tensor lives
 *                 and the per-block offsets (struct block)
 *   model_acts    what a pass fills: per block (layer_acts) the bottom-up
 *                 activations, switches and batch statistics, the top-down
 *                 renderings; per batch the class scores and top signals
 *   model_dacts   the gradients of those activations (backward pass only)
 *   model_scratch per-thread work space and partial sums
 * The activation buffers are allocated once for the largest batch seen
 * (alloc_batch); every pass overwrites them. */

/* Block l's activations, [N][C][H][W] at the conv output unless noted. */
typedef struct layer_acts {
    float *act, *xhat, *pooled;        /* pooled: [N][C][hp][wp] (== act without pooling) */
    uint8_t *a;                        /* switches a-hat * t-hat */
    uint8_t *t;                        /* t-hat (max-pool only) */
    float *mean, *var, *scale;         /* [C]: batch statistics, top-down scale */
    float *bn_scale, *bn_shift;        /* [C]: evaluation-mode BN as an affine (drmm_predict) */
    /* top-down */
    float *z, *zs;                     /* unpooled signal from above, times switches and scale */
    float *sin;                        /* [N][cin][h][w]: the rendering of this block's input */
    float *td_xhat;                    /* [N][cin][h][w], top-down BN only */
    float *td_mean, *td_var;           /* [cin]: top-down BN batch statistics */
} layer_acts;

/* Block l's activation gradients. */
typedef struct layer_dacts {
    float *dact, *dpooled;             /* (dpooled == dact without pooling) */
    float *dh_extra;                   /* gradient into the post-ReLU activations from the top
                                          (what-where top), or NULL */
    float *dpooled_extra;              /* gradient into the pooled output from LRCL, or NULL */
    float *dz, *dsin;
    float *dsigma;                     /* [C]: dL/dsigma from the top-down scale */
} layer_dacts;

/* Block l: its architecture, where its tensors live, its activations. */
typedef struct block {
    const arch_block *ab;
    long w_off, gamma_off, beta_off;   /* offsets into params (gamma/beta -1 without BN) */
    long rmean_off, rvar_off;          /* offsets into stats (-1 without BN) */
    long sc_off;                       /* offset of this block's channels in dscale rows */
    long tdw_off;                      /* top-down filters of their own, or -1 (tied) */
    long tdg_off, tdb_off;             /* top-down BN gamma/beta [cin], or -1 */
    long tdrm_off, tdrv_off;           /* top-down BN running statistics [cin], or -1 */
    layer_acts *acts;                  /* &m->acts.layer[l] */
    layer_dacts *dacts;                /* &m->dacts.layer[l] */
} block;

typedef struct param_info {
    char name[NT_NAME_MAX];
    int ndim, shape[NT_MAX_DIMS];
    long off, numel;
    int is_stat;                       /* 1: lives in stats, not params */
} param_info;

typedef struct model_params {
    long nparams, nstats;
    float *params, *grads, *stats;     /* one allocation each */
    param_info *info;                  /* the named tensors, in checkpoint order */
    int ninfo;
    long dense_w_off, dense_b_off, amp_off, tmpl_off, in_mean_off, in_std_off;  /* or -1 */
    long sc_total;                     /* channels of all blocks (dscale rows) */
} model_params;

typedef struct model_acts {
    layer_acts *layer;                 /* [nb] */
    int cap;                           /* rows the buffers hold */
    float *logits, *logq, *q;          /* [cap][K] */
    float *e;                          /* [cap][K]: the top vector (one-hot or q) */
    float *top;                        /* [cap][F]: the top signal at the features */
    int *pred;                         /* [cap]: predicted class */
    const float *x;                    /* the network's input (borrowed, or xs) */
    float *xs;                         /* the standardised input (in_norm), cap rows */
    int n, n_lab, u0, have_td;         /* rows, labelled rows, first top-down row, rendered? */
    int train;                         /* BN mode of the last pass */
} model_acts;

typedef struct model_dacts {
    layer_dacts *layer;                /* [nb] */
    float *dlogits, *de, *dtop;        /* de doubles as v = amp * e in the forward pass */
} model_dacts;

typedef struct model_scratch {
    float **col, **tgrad, **dscale;    /* per thread: im2col, weight gradients, dL/dscale */
    float **ycol;                      /* conv outputs of several samples (drmm_predict) */
    double *nn_part;                   /* per thread: LNN partial sums */
    long col_size, ycol_size;
} model_scratch;

struct drmm {
    arch a;
    drmm_config cfg;
    float unsup_scale;                 /* drmm_set_unsup_scale */
    int nb, K, F, P;                   /* blocks, classes, top features, pixels per image */
    int threads;
    tpool *pool;
    block *b;                          /* [nb] */
    model_params par;
    model_acts acts;
    model_dacts dacts;
    model_scratch scr;
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
    if (m->par.ninfo == cap)
        abort();   /* build_layout's count above is wrong: a bug, not an input error */
    param_info *p = &m->par.info[m->par.ninfo++];
    snprintf(p->name, sizeof p->name, "%s", name);
    p->ndim = ndim;
    p->numel = 1;
    for (int i = 0; i < ndim; i++) {
        p->shape[i] = shape[i];
        p->numel *= shape[i];
    }
    p->is_stat = is_stat;
    long *total = is_stat ? &m->par.nstats : &m->par.nparams;
    p->off = *total;
    *total += p->numel;
    return p->off;
}

static int build_layout(drmm *m)
{
    /* per block: weight, gamma, beta, running mean, running var, and the top-down
       weight, gamma, beta, running mean, running var; dense 2; top 1; input 2 */
    int cap = 10 * m->nb + 5;
    m->par.info = calloc(cap, sizeof *m->par.info);
    if (!m->par.info)
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
    m->par.dense_w_off = m->par.dense_b_off = m->par.amp_off = m->par.tmpl_off = m->par.in_mean_off = m->par.in_std_off = -1;
    if (m->a.dense) {
        int ws[2] = {m->K, m->F}, bs[1] = {m->K};
        m->par.dense_w_off = add_info(m, cap, 0, "dense.weight", 2, ws);
        m->par.dense_b_off = add_info(m, cap, 0, "dense.bias", 1, bs);
    }
    if (m->cfg.td_param == TD_PARAM_AMPLITUDE) {
        int s[1] = {1};
        m->par.amp_off = add_info(m, cap, 0, "top.amplitude", 1, s);
    } else if (m->cfg.td_param == TD_PARAM_TEMPLATE) {
        const arch_block *ab = m->b[m->nb - 1].ab;
        int s[4] = {m->K, ab->g.cout, ab->g.ho, ab->g.wo};
        m->par.tmpl_off = add_info(m, cap, 0, "top.template", 4, s);
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
        m->par.in_mean_off = add_info(m, cap, 1, "input.mean", 1, cs);
        m->par.in_std_off = add_info(m, cap, 1, "input.std", 1, cs);
    }
    return 0;
}

static int fill_tensors(drmm *m, named_tensor *out, int max, int with_stats)
{
    int n = 0;
    for (int i = 0; i < m->par.ninfo; i++) {
        const param_info *p = &m->par.info[i];
        if (p->is_stat && !with_stats)
            continue;
        if (n < max) {
            named_tensor *t = &out[n];
            snprintf(t->name, sizeof t->name, "%s", p->name);
            t->ndim = p->ndim;
            memcpy(t->shape, p->shape, sizeof t->shape);
            t->data = (p->is_stat ? m->par.stats : m->par.params) + p->off;
        }
        n++;
    }
    return n;
}

int drmm_tensors(drmm *m, named_tensor *out, int max) { return fill_tensors(m, out, max, 1); }
int drmm_param_tensors(drmm *m, named_tensor *out, int max) { return fill_tensors(m, out, max, 0); }
long drmm_num_params(const drmm *m) { return m->par.nparams; }
float *drmm_params(drmm *m) { return m->par.params; }
float *drmm_grads(drmm *m) { return m->par.grads; }
const drmm_config *drmm_get_config(const drmm *m) { return &m->cfg; }
const arch *drmm_get_arch(const drmm *m) { return &m->a; }
const float *drmm_last_probs(const drmm *m) { return m->acts.q; }
const float *drmm_last_logits(const drmm *m) { return m->acts.logits; }

const float *drmm_block_output(const drmm *m, int block, int *channels, int *h, int *w)
{
    if (block < 0 || block >= m->nb)
        return NULL;
    const conv_geom *g = &m->b[block].ab->g;
    if (channels) *channels = g->cout;
    if (h) *h = g->ho;
    if (w) *w = g->wo;
    return m->b[block].acts->act;
}

/* ---- buffers ---- */

/* Frees the batch-sized buffers (the per-channel ones stay). */
static void free_batch(drmm *m)
{
    for (int l = 0; l < m->nb && m->acts.layer && m->dacts.layer; l++) {
        layer_acts *A = &m->acts.layer[l];
        layer_dacts *D = &m->dacts.layer[l];
        if (A->pooled != A->act) free(A->pooled);
        if (D->dpooled != D->dact) free(D->dpooled);
        free(A->act); free(A->xhat); free(A->a); free(A->t); free(A->z); free(A->zs); free(A->sin); free(A->td_xhat);
        free(D->dact); free(D->dz); free(D->dsin); free(D->dh_extra); free(D->dpooled_extra);
        A->act = A->xhat = A->pooled = A->z = A->zs = A->sin = A->td_xhat = NULL;
        A->a = A->t = NULL;
        D->dact = D->dpooled = D->dz = D->dsin = D->dh_extra = D->dpooled_extra = NULL;
    }
    free(m->acts.logits); free(m->acts.logq); free(m->acts.q); free(m->acts.e); free(m->acts.top);
    free(m->acts.pred); free(m->acts.xs);
    free(m->dacts.dlogits); free(m->dacts.de); free(m->dacts.dtop);
    m->acts.logits = m->acts.logq = m->acts.q = m->acts.e = m->acts.top = m->acts.xs = NULL;
    m->dacts.dlogits = m->dacts.de = m->dacts.dtop = NULL;
    m->acts.pred = NULL;
    m->acts.cap = 0;
}

/* Makes room for n rows; reallocates only when n exceeds the capacity. */
static int ensure_batch(drmm *m, int n, err_t *e)
{
    if (n <= m->acts.cap)
        return 0;
    free_batch(m);
    int ok = 1;
#define ALLOCF(p, count) do { if (ok && !((p) = malloc(sizeof(float) * (size_t)(count)))) ok = 0; } while (0)
#define ALLOCB(p, count) do { if (ok && !((p) = malloc((size_t)(count)))) ok = 0; } while (0)
    for (int l = 0; l < m->nb; l++) {
        block *b = &m->b[l];
        long out = block_out(b) * n, pooled = block_pooled(b) * n, in = block_in(b) * n;
        ALLOCF(b->acts->act, out); ALLOCF(b->acts->xhat, out); ALLOCB(b->acts->a, out);
        ALLOCF(b->dacts->dact, out); ALLOCF(b->acts->z, out); ALLOCF(b->acts->zs, out); ALLOCF(b->dacts->dz, out);
        ALLOCF(b->acts->sin, in); ALLOCF(b->dacts->dsin, in);
        if (l == m->nb - 1 && m->cfg.td_top == TD_TOP_ACTIVATIONS)
            ALLOCF(b->dacts->dh_extra, out);
        if (l < m->nb - 1 && m->cfg.a_rcl != 0)
            ALLOCF(b->dacts->dpooled_extra, pooled);
        if (b->ab->pool == POOL_MAX)
            ALLOCB(b->acts->t, out);
        if (m->cfg.td_param == TD_PARAM_BN)
            ALLOCF(b->acts->td_xhat, in);
        if (b->ab->pool != POOL_NONE) {
            ALLOCF(b->acts->pooled, pooled);
            ALLOCF(b->dacts->dpooled, pooled);
        } else {
            b->acts->pooled = b->acts->act;
            b->dacts->dpooled = b->dacts->dact;
        }
    }
    long nk = (long)n * m->K;
    ALLOCF(m->acts.logits, nk); ALLOCF(m->acts.logq, nk); ALLOCF(m->acts.q, nk); ALLOCF(m->dacts.dlogits, nk);
    ALLOCF(m->acts.e, nk); ALLOCF(m->dacts.de, nk);
    ALLOCF(m->acts.top, (long)n * m->F); ALLOCF(m->dacts.dtop, (long)n * m->F);
    if (m->cfg.in_norm)
        ALLOCF(m->acts.xs, (long)n * m->P);
    if (ok && !(m->acts.pred = malloc(sizeof(int) * n)))
        ok = 0;
#undef ALLOCF
#undef ALLOCB
    if (!ok) {
        free_batch(m);
        return err_set(e, "out of memory for a batch of %d images", n);
    }
    m->acts.cap = n;
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
    m->acts.layer = calloc(m->nb, sizeof *m->acts.layer);
    m->dacts.layer = calloc(m->nb, sizeof *m->dacts.layer);
    if (!m->b || !m->acts.layer || !m->dacts.layer || (a->text && !m->a.text))
        goto oom;
    for (int l = 0; l < m->nb; l++) {
        block *b = &m->b[l];
        b->ab = &m->a.blocks[l];
        b->acts = &m->acts.layer[l];
        b->dacts = &m->dacts.layer[l];
        long cs = conv_batch_col_size(&b->ab->g), ys = (long)b->ab->g.cout * CONV_BATCH_COLUMNS;
        if (cs > m->scr.col_size)
            m->scr.col_size = cs;
        if (ys > m->scr.ycol_size)
            m->scr.ycol_size = ys;
        b->sc_off = m->par.sc_total;
        m->par.sc_total += b->ab->g.cout;
    }
    if (build_layout(m))
        goto oom;
    m->par.params = calloc(m->par.nparams, sizeof(float));
    m->par.grads = calloc(m->par.nparams, sizeof(float));
    m->par.stats = calloc(m->par.nstats ? m->par.nstats : 1, sizeof(float));
    m->scr.col = calloc(m->threads, sizeof(float *));
    m->scr.tgrad = calloc(m->threads, sizeof(float *));
    m->scr.dscale = calloc(m->threads, sizeof(float *));
    m->scr.ycol = calloc(m->threads, sizeof(float *));
    m->scr.nn_part = calloc(m->threads, sizeof(double));
    if (!m->par.params || !m->par.grads || !m->par.stats || !m->scr.col || !m->scr.tgrad || !m->scr.dscale || !m->scr.ycol || !m->scr.nn_part)
        goto oom;
    for (int t = 0; t < m->threads; t++) {
        m->scr.col[t] = malloc(sizeof(float) * (m->scr.col_size ? m->scr.col_size : 1));
        m->scr.tgrad[t] = calloc(m->par.nparams, sizeof(float));
        m->scr.dscale[t] = calloc(m->par.sc_total, sizeof(float));
        m->scr.ycol[t] = malloc(sizeof(float) * m->scr.ycol_size);
        if (!m->scr.col[t] || !m->scr.tgrad[t] || !m->scr.dscale[t] || !m->scr.ycol[t])
            goto oom;
    }
    for (int l = 0; l < m->nb; l++) {
        block *b = &m->b[l];
        int C = b->ab->g.cout;
        b->acts->mean = calloc(C, sizeof(float));
        b->acts->var = calloc(C, sizeof(float));
        b->acts->scale = calloc(C, sizeof(float));
        b->dacts->dsigma = calloc(C, sizeof(float));
        b->acts->bn_scale = calloc(C, sizeof(float));
        b->acts->bn_shift = calloc(C, sizeof(float));
        b->acts->td_mean = calloc(b->ab->g.cin, sizeof(float));
        b->acts->td_var = calloc(b->ab->g.cin, sizeof(float));
        if (!b->acts->mean || !b->acts->var || !b->acts->scale || !b->dacts->dsigma || !b->acts->bn_scale || !b->acts->bn_shift || !b->acts->td_mean ||
            !b->acts->td_var)
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
            m->par.params[b->w_off + i] = (float)(sd * rng_normal(&r));
        if (b->ab->bn) {
            for (int c = 0; c < g->cout; c++) {
                m->par.params[b->gamma_off + c] = 1.0f;
                m->par.params[b->beta_off + c] = 0.0f;
                m->par.stats[b->rmean_off + c] = 0.0f;
                m->par.stats[b->rvar_off + c] = 1.0f;
            }
        }
    }
    if (m->a.dense) {
        double sd = sqrt(1.0 / m->F);
        for (long i = 0; i < (long)m->K * m->F; i++)
            m->par.params[m->par.dense_w_off + i] = (float)(sd * rng_normal(&r));
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
                m->par.params[b->tdw_off + i] = cfg->td_weights == TD_WEIGHTS_COPY ? m->par.params[b->w_off + i]
                                                                                 : (float)(sd * rng_normal(&r));
        for (int c = 0; b->tdg_off >= 0 && c < g->cin; c++) {
            m->par.params[b->tdg_off + c] = 1.0f;
            m->par.params[b->tdb_off + c] = 0.0f;
            m->par.stats[b->tdrm_off + c] = 0.0f;
            m->par.stats[b->tdrv_off + c] = 1.0f;
        }
    }
    for (int c = 0; m->par.in_mean_off >= 0 && c < m->a.channels; c++) {
        m->par.stats[m->par.in_mean_off + c] = 0.0f;
        m->par.stats[m->par.in_std_off + c] = 1.0f;
    }
    if (m->par.amp_off >= 0)
        m->par.params[m->par.amp_off] = cfg->td_init;
    if (m->par.tmpl_off >= 0) {
        /* template of class c = td_init * the default rendering of one-hot(c) */
        float *eye = calloc((size_t)m->K * m->K, sizeof(float));
        int bad = !eye || render_top_default(m, eye_fill(eye, m->K, cfg->td_init), m->par.params + m->par.tmpl_off, m->K);
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
    for (int l = 0; l < m->nb && m->acts.layer && m->dacts.layer; l++) {
        layer_acts *A = &m->acts.layer[l];
        free(A->mean); free(A->var); free(A->scale); free(A->bn_scale); free(A->bn_shift); free(A->td_mean);
        free(A->td_var); free(m->dacts.layer[l].dsigma);
    }
    for (int t = 0; t < m->threads; t++) {
        if (m->scr.col) free(m->scr.col[t]);
        if (m->scr.tgrad) free(m->scr.tgrad[t]);
        if (m->scr.dscale) free(m->scr.dscale[t]);
        if (m->scr.ycol) free(m->scr.ycol[t]);
    }
    free(m->scr.col); free(m->scr.tgrad); free(m->scr.dscale); free(m->scr.ycol); free(m->scr.nn_part);
    free(m->par.params); free(m->par.grads); free(m->par.stats); free(m->par.info); free(m->b);
    free(m->acts.layer); free(m->dacts.layer);
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
    const float *w = j->m->par.params + b->w_off;
    for (int i = i0; i < i1;) {
        int S = conv_batch_samples(g, i1 - i);
        conv_forward_batch(g, S, b->acts->act + i * block_out(b), j->in + i * block_in(b), w, j->m->scr.col[tid]);
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
        const float *gamma = m->par.params + b->gamma_off, *beta = m->par.params + b->beta_off;
        if (m->acts.train)
            bn_forward_train(n, C, hw, c0, c1, b->acts->act, gamma, beta, m->cfg.bn_eps, b->acts->act, b->acts->xhat, b->acts->mean, b->acts->var);
        else
            bn_forward_eval(n, C, hw, c0, c1, b->acts->act, gamma, beta, m->par.stats + b->rmean_off,
                            m->par.stats + b->rvar_off, m->cfg.bn_eps, b->acts->act, NULL);
    }
    for (int i = 0; i < n; i++) {
        for (int c = c0; c < c1; c++) {
            long p = (long)i * C + c;
            uint8_t *a = b->acts->a + p * hw;
            if (ab->relu)
                relu_inplace(b->acts->act + p * hw, a, hw);
            else
                memset(a, 1, hw);
            if (ab->pool == POOL_MAX) {
                uint8_t *t = b->acts->t + p * hw;
                maxpool2_forward(p, p + 1, ab->g.ho, ab->g.wo, b->acts->act, b->acts->pooled, b->acts->t);
                for (int k = 0; k < hw; k++)
                    a[k] &= t[k];
            } else if (ab->pool == POOL_MEAN)
                meanpool_forward(p, p + 1, hw, b->acts->act, b->acts->pooled);
        }
    }
}

/* Logits, q, log q and the predicted class of rows [i0, i1) from the last
 * block's pooled output. */
static void class_scores(drmm *m, int i0, int i1)
{
    const int K = m->K, n = i1 - i0;
    const float *feat = m->b[m->nb - 1].acts->pooled + (long)i0 * m->F;
    float *logits = m->acts.logits + (long)i0 * K;
    if (m->a.dense) {
        const float *W = m->par.params + m->par.dense_w_off, *bias = m->par.params + m->par.dense_b_off;
        for (int i = 0; i < n; i++)
            memcpy(logits + (long)i * K, bias, sizeof(float) * K);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, K, m->F, 1.0f, feat, m->F, W, m->F,
                    1.0f, logits, K);
    } else {
        memcpy(logits, feat, sizeof(float) * n * K);
    }
    softmax_forward(n, K, logits, m->acts.q + (long)i0 * K);
    for (int i = i0; i < i1; i++) {
        const float *z = m->acts.logits + (long)i * m->K;
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
            m->acts.logq[(long)i * m->K + c] = z[c] - lse;
        m->acts.pred[i] = arg;
    }
}

static void bottom_up(drmm *m, const float *x, int n)
{
    job j = {.m = m, .n = n};
    for (int l = 0; l < m->nb; l++) {
        j.l = l;
        j.in = l == 0 ? x : m->b[l - 1].acts->pooled;
        tpool_for(m->pool, n, job_conv_forward, &j);
        tpool_for(m->pool, m->b[l].ab->g.cout, job_post_conv, &j);
    }
    class_scores(m, 0, n);
}

/* Evaluation-mode bottom-up: only the activations (b->acts->act), the pooled
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
        const float *xl = l == 0 ? x : m->b[l - 1].acts->pooled, *w = m->par.params + b->w_off;
        const float *scale = ab->bn ? b->acts->bn_scale : NULL, *shift = ab->bn ? b->acts->bn_shift : NULL;
        for (int i = g0; i < g1;) {
            int S = conv_batch_samples(g, g1 - i);
            /* one sample: the conv writes its activations in place */
            float *y = S == 1 ? b->acts->act + i * out : m->scr.ycol[tid];
            conv_forward_cm(g, S, y, xl + i * in, w, m->scr.col[tid]);
            for (int s = 0; s < S; s++)
                postconv_eval(g->cout, g->ho, g->wo, y + s * hw, S * hw, scale, shift, ab->relu, ab->pool,
                              b->acts->act + (i + s) * out, b->acts->pooled + (i + s) * pooled);
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
                float var = m->acts.train ? b->acts->var[c] : m->par.stats[b->rvar_off + c];
                s = m->par.params[b->gamma_off + c] / sqrtf(var + m->cfg.bn_eps);
            }
            b->acts->scale[c] = s;
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
                    m->par.params + m->par.dense_w_off, m->F, 0.0f, top, m->F);
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
    for (int i = m->acts.u0; i < m->acts.n; i++) {
        float *e = m->acts.e + (long)i * m->K;
        int truth = labels && (force_labels || (m->cfg.td_true_label && i < m->acts.n_lab));
        if (!truth && m->cfg.td_top == TD_TOP_SOFTMAX) {
            memcpy(e, m->acts.q + (long)i * m->K, sizeof(float) * m->K);
        } else {
            memset(e, 0, sizeof(float) * m->K);
            e[truth ? labels[i] : m->acts.pred[i]] = 1.0f;
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
    const int C = b->ab->g.cin, hw = b->ab->g.h * b->ab->g.w, rows = m->acts.n - m->acts.u0;
    const long off = (long)m->acts.u0 * block_in(b);
    const float *gamma = m->par.params + b->tdg_off, *beta = m->par.params + b->tdb_off;
    if (m->acts.train)
        bn_forward_train(rows, C, hw, c0, c1, b->acts->sin + off, gamma, beta, m->cfg.bn_eps, b->acts->sin + off,
                         b->acts->td_xhat + off, b->acts->td_mean, b->acts->td_var);
    else
        bn_forward_eval(rows, C, hw, c0, c1, b->acts->sin + off, gamma, beta, m->par.stats + b->tdrm_off,
                        m->par.stats + b->tdrv_off, m->cfg.bn_eps, b->acts->sin + off, NULL);
}

/* Its backward: dsin (w.r.t. the BN output) becomes the gradient w.r.t. the
 * transposed convolution's output; gamma and beta receive theirs. */
static void job_td_bn_backward(void *ctx, int tid, int c0, int c1)
{
    (void)tid;
    job *j = ctx;
    drmm *m = j->m;
    block *b = &m->b[j->l];
    const int C = b->ab->g.cin, hw = b->ab->g.h * b->ab->g.w, rows = m->acts.n - m->acts.u0;
    const long off = (long)m->acts.u0 * block_in(b);
    bn_backward_train(rows, C, hw, c0, c1, b->dacts->dsin + off, b->acts->td_xhat + off, m->par.params + b->tdg_off, b->acts->td_var,
                      m->cfg.bn_eps, NULL, b->dacts->dsin + off, m->par.grads + b->tdg_off, m->par.grads + b->tdb_off);
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
    const float *w = m->par.params + td_w_off(b);
    double nn = 0;
    for (int r = i0; r < i1; r++) {
        int i = m->acts.u0 + r;
        float *z = b->acts->z + i * out, *zs = b->acts->zs + i * out;
        if (j->l < m->nb - 1)
            unpool_row(m, b, m->b[j->l + 1].acts->sin + i * block_in(&m->b[j->l + 1]), z);
        /* the last block's z was set by the caller */
        const uint8_t *a = b->acts->a + i * out;
        nn += sum_sq_negative(z, out);
        if (m->cfg.td_leak != 0) {
            const uint8_t *t = ab->pool == POOL_MAX ? b->acts->t + i * out : NULL;
            for (int c = 0; c < C; c++)
                for (int k = c * hw; k < (c + 1) * hw; k++)
                    zs[k] = z[k] * b->acts->scale[c] * switch_on(a, t, k, m->cfg.td_leak);
            continue;
        }
        for (int c = 0; c < C; c++) {
            const float s = b->acts->scale[c];
            for (int k = c * hw; k < (c + 1) * hw; k++)
                zs[k] = z[k] * s * (float)a[k];
        }
    }
    for (int r = i0; r < i1;) {
        int i = m->acts.u0 + r, S = conv_batch_samples(&ab->g, i1 - r);
        conv_transpose_batch(&ab->g, S, b->acts->sin + i * in, b->acts->zs + i * out, w, m->scr.col[tid]);
        r += S;
    }
    m->scr.nn_part[tid] += nn;
}

/* Renders rows [u0, n) top-down; returns the NN penalty's sum of squares per
 * block in nn (may be NULL). */
static void top_down(drmm *m, const int *labels, int force_labels, double *nn)
{
    set_scales(m);
    top_vectors(m, labels, force_labels);
    int rows = m->acts.n - m->acts.u0;
    block *last = &m->b[m->nb - 1];
    float *zlast = last->acts->z + m->acts.u0 * block_out(last);
    const float *eu = m->acts.e + (long)m->acts.u0 * m->K;
    if (m->cfg.td_top == TD_TOP_ACTIVATIONS) {
        float amp = m->par.amp_off >= 0 ? m->par.params[m->par.amp_off] : 1.0f;
        const float *h = last->acts->act + m->acts.u0 * block_out(last);
        for (long k = 0; k < rows * block_out(last); k++)
            zlast[k] = amp * h[k];
    } else if (m->par.tmpl_off >= 0) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, (int)block_out(last), m->K, 1.0f,
                    eu, m->K, m->par.params + m->par.tmpl_off, (int)block_out(last), 0.0f, zlast, (int)block_out(last));
    } else {
        /* v = amp * e (in de, free until the backward pass); top = v W, or v */
        float amp = m->par.amp_off >= 0 ? m->par.params[m->par.amp_off] : 1.0f;
        float *v = m->dacts.de + (long)m->acts.u0 * m->K, *topu = m->acts.top + (long)m->acts.u0 * m->F;
        for (long k = 0; k < (long)rows * m->K; k++)
            v[k] = amp * eu[k];
        if (m->a.dense)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, m->F, m->K, 1.0f, v, m->K,
                        m->par.params + m->par.dense_w_off, m->F, 0.0f, topu, m->F);
        else
            memcpy(topu, v, sizeof(float) * rows * m->K);
        for (int r = 0; r < rows; r++) {
            int i = m->acts.u0 + r;
            unpool_row(m, last, m->acts.top + (long)i * m->F, last->acts->z + i * block_out(last));
        }
    }
    job j = {.m = m, .n = m->acts.n, .u0 = m->acts.u0};
    for (int l = m->nb - 1; l >= 0; l--) {
        j.l = l;
        memset(m->scr.nn_part, 0, sizeof(double) * m->threads);
        tpool_for(m->pool, rows, job_topdown_block, &j);
        if (m->b[l].tdg_off >= 0)
            tpool_for(m->pool, m->b[l].ab->g.cin, job_td_bn_forward, &j);
        if (nn) {
            double s = 0;
            for (int t = 0; t < m->threads; t++)
                s += m->scr.nn_part[t];
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
    const float *w = m->par.params + td_w_off(b);
    float *tg = m->scr.tgrad[tid] + td_w_off(b), *ds = m->scr.dscale[tid] + b->sc_off;
    if (j->l == 0 && b->tdg_off < 0)   /* dLRC/dI-hat (with a top-down BN: set by the caller) */
        for (long k = (long)(m->acts.u0 + i0) * in; k < (long)(m->acts.u0 + i1) * in; k++)
            b->dacts->dsin[k] = j->rc_coef * (b->acts->sin[k] - j->target[k]);
    for (int r = i0; r < i1;) {
        int i = m->acts.u0 + r, S = conv_batch_samples(&ab->g, i1 - r);
        conv_weight_grad_batch(&ab->g, S, tg, b->acts->zs + i * out, b->dacts->dsin + i * in, m->scr.col[tid]);
        conv_forward_batch(&ab->g, S, b->dacts->dz + i * out, b->dacts->dsin + i * in, w, m->scr.col[tid]);
        r += S;
    }
    for (int r = i0; r < i1; r++) {
        int i = m->acts.u0 + r;
        float *z = b->acts->z + i * out, *dz = b->dacts->dz + i * out;
        const uint8_t *a = b->acts->a + i * out;
        const uint8_t *t = ab->pool == POOL_MAX ? b->acts->t + i * out : NULL;
        const float coef = j->nn_coef, leak = m->cfg.td_leak;
        for (int c = 0; c < C; c++) {
            const float s = b->acts->scale[c];
            float acc[8] = {0};
            for (int k = c * hw; k < (c + 1) * hw; k++) {
                float on = leak != 0 ? switch_on(a, t, k, leak) : (float)a[k], d = dz[k], v = z[k];
                acc[k & 7] += d * v * on;
                dz[k] = d * s * on + coef * fminf(v, 0.0f);
            }
            ds[c] += acc[0] + acc[1] + acc[2] + acc[3] + acc[4] + acc[5] + acc[6] + acc[7];
        }
        float *dst = j->l < m->nb - 1 ? m->b[j->l + 1].dacts->dsin + i * block_in(&m->b[j->l + 1])
                                      : (m->par.tmpl_off >= 0 || m->cfg.td_top == TD_TOP_ACTIVATIONS
                                             ? NULL : m->dacts.dtop + (long)i * m->F);
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
            float *d = b->dacts->dact + p * hw;
            const float *extra = j->dh_extra ? j->dh_extra + p * hw : NULL, *h = b->acts->act + p * hw;
            if (ab->pool == POOL_MAX) {
                maxpool2_backward(p, p + 1, ab->g.ho, ab->g.wo, b->dacts->dpooled, b->acts->a, b->dacts->dact);
                if (extra)   /* the ReLU's own switch: h > 0 */
                    for (int k = 0; k < hw; k++)
                        d[k] += h[k] > 0.0f ? extra[k] : 0.0f;
                continue;
            }
            if (ab->pool == POOL_MEAN)
                meanpool_backward(p, p + 1, hw, b->dacts->dpooled, b->dacts->dact);
            /* POOL_NONE: dpooled is dact */
            if (extra)
                for (int k = 0; k < hw; k++)
                    d[k] += extra[k];
            relu_backward_inplace(d, b->acts->a + p * hw, hw);
        }
    }
    if (ab->bn)
        bn_backward_train(n, C, hw, c0, c1, b->dacts->dact, b->acts->xhat, m->par.params + b->gamma_off, b->acts->var,
                          m->cfg.bn_eps, b->dacts->dsigma, b->dacts->dact, m->par.grads + b->gamma_off, m->par.grads + b->beta_off);
}

static void job_conv_backward(void *ctx, int tid, int i0, int i1)
{
    job *j = ctx;
    drmm *m = j->m;
    block *b = &m->b[j->l];
    const conv_geom *g = &b->ab->g;
    const float *w = m->par.params + b->w_off;
    float *tg = m->scr.tgrad[tid] + b->w_off;
    for (int i = i0; i < i1;) {
        int S = conv_batch_samples(g, i1 - i);
        const float *dy = b->dacts->dact + i * block_out(b);
        conv_weight_grad_batch(g, S, tg, dy, j->in + i * block_in(b), m->scr.col[tid]);
        if (j->dx)
            conv_transpose_batch(g, S, j->dx + i * block_in(b), dy, w, m->scr.col[tid]);
        i += S;
    }
}

/* ---- the training batch ---- */

/* x itself, or (in_norm) x standardised into m->acts.xs (which holds n rows). */
static const float *standardise(drmm *m, const float *x, int n)
{
    if (m->par.in_mean_off < 0)
        return x;
    const int C = m->a.channels, hw = m->a.height * m->a.width;
    for (int i = 0; i < n; i++)
        for (int c = 0; c < C; c++) {
            const float mu = m->par.stats[m->par.in_mean_off + c], inv = 1.0f / m->par.stats[m->par.in_std_off + c];
            const long off = ((long)i * C + c) * hw;
            for (int k = 0; k < hw; k++)
                m->acts.xs[off + k] = (x[off + k] - mu) * inv;
        }
    return m->acts.xs;
}

int drmm_set_input_norm(drmm *m, const float *mean, const float *std, err_t *e)
{
    if (m->par.in_mean_off < 0)
        return err_set(e, "the model does not standardise its input (in_norm is off)");
    for (int c = 0; c < m->a.channels; c++)
        if (!(std[c] > 0) || !isfinite(std[c]) || !isfinite(mean[c]))
            return err_input(e, "input standardisation of channel %d: mean %g, std %g (the std must be positive)", c,
                             mean[c], std[c]);
    memcpy(m->par.stats + m->par.in_mean_off, mean, sizeof(float) * m->a.channels);
    memcpy(m->par.stats + m->par.in_std_off, std, sizeof(float) * m->a.channels);
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
    m->acts.x = x;
    m->acts.n = n;
    m->acts.n_lab = n_lab;
    m->acts.u0 = cfg->unsup_both ? 0 : n_lab;
    m->acts.train = 1;
    const int nu = n - m->acts.u0;
    drmm_losses L;
    memset(&L, 0, sizeof L);
    L.n_lab = n_lab;
    L.n_unsup = nu;

    bottom_up(m, x, n);

    /* LH and training errors */
    for (int i = 0; i < n_lab; i++) {
        L.lh -= m->acts.logq[(long)i * K + labels[i]];
        L.lab_errors += m->acts.pred[i] != labels[i];
    }
    if (n_lab)
        L.lh /= n_lab;
    /* LKL: sign * mean_n sum_c q log(C q) */
    const double kl_sign = cfg->kl_literal ? 1.0 : -1.0, logK = log((double)K);
    for (int i = m->acts.u0; i < n; i++)
        for (int c = 0; c < K; c++) {
            double q = m->acts.q[(long)i * K + c];
            L.lkl += q * (m->acts.logq[(long)i * K + c] + logK);
        }
    if (nu)
        L.lkl *= kl_sign / nu;

    /* top-down, LRC and LNN */
    double nn[ARCH_MAX_BLOCKS] = {0};
    m->acts.have_td = nu > 0;
    if (m->acts.have_td) {
        top_down(m, labels, 0, nn);
        const float *ih = m->b[0].acts->sin;
        double rc = 0, x2 = 0;
        for (long k = (long)m->acts.u0 * P; k < (long)n * P; k++) {
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
            const float *xl = m->b[l - 1].acts->pooled, *sl = b->acts->sin;
            long in = block_in(b);
            double s2 = 0;
            for (long k = (long)m->acts.u0 * in; k < (long)n * in; k++) {
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
                                  b->acts->mean, b->acts->var, m->par.stats + b->rmean_off, m->par.stats + b->rvar_off);
            if (b->tdg_off >= 0 && m->acts.have_td)
                bn_update_running(b->ab->g.cin, (long)nu * b->ab->g.h * b->ab->g.w, cfg->bn_momentum,
                                  b->acts->td_mean, b->acts->td_var, m->par.stats + b->tdrm_off, m->par.stats + b->tdrv_off);
        }
    if (!(flags & DRMM_BACKWARD))
        return 0;

    memset(m->par.grads, 0, sizeof(float) * m->par.nparams);
    for (int t = 0; t < m->threads; t++) {
        memset(m->scr.tgrad[t], 0, sizeof(float) * m->par.nparams);
        memset(m->scr.dscale[t], 0, sizeof(float) * m->par.sc_total);
    }
    memset(m->dacts.dlogits, 0, sizeof(float) * n * K);
    for (int l = 0; l < m->nb; l++)
        memset(m->b[l].dacts->dsigma, 0, sizeof(float) * m->b[l].ab->g.cout);

    /* gradient of the top-down pass (LRC, LNN, LRCL) */
    if (m->acts.have_td && (cfg->a_rc != 0 || cfg->a_nn != 0 || cfg->a_rcl != 0)) {
        job j = {.m = m, .n = n, .u0 = m->acts.u0, .target = x};
        j.rc_coef = (float)(2.0 * cfg->a_rc / ((double)nu * P));
        for (int l = 0; l < m->nb; l++) {
            block *b = &m->b[l];
            if (l > 0 && cfg->a_rcl != 0) {
                /* LRCL: the rendering of this block's input against the bottom-up input */
                long in = block_in(b);
                float c = (float)(2.0 * cfg->a_rcl / ((double)nu * in));
                const float *xl = m->b[l - 1].acts->pooled;
                float *dx = m->b[l - 1].dacts->dpooled_extra;
                memset(dx, 0, sizeof(float) * n * in);
                for (long k = (long)m->acts.u0 * in; k < (long)n * in; k++) {
                    float d = c * (b->acts->sin[k] - xl[k]);
                    b->dacts->dsin[k] += d;
                    dx[k] = -d;
                }
            }
            j.l = l;
            j.nn_coef = (float)(2.0 * cfg->a_nn / ((double)nu * block_out(b)));
            if (b->tdg_off >= 0) {
                if (l == 0)   /* dLRC/dI-hat, then through the output BN */
                    for (long k = (long)m->acts.u0 * P; k < (long)n * P; k++)
                        b->dacts->dsin[k] = j.rc_coef * (b->acts->sin[k] - x[k]);
                tpool_for(m->pool, b->ab->g.cin, job_td_bn_backward, &j);
            }
            tpool_for(m->pool, nu, job_topdown_backward, &j);
        }
        /* the top: activations, template, or dense^T and amplitude */
        block *last = &m->b[m->nb - 1];
        const float *eu = m->acts.e + (long)m->acts.u0 * K;
        float *deu = m->dacts.de + (long)m->acts.u0 * K;
        if (cfg->td_top == TD_TOP_ACTIVATIONS) {
            /* z = amp * h: into the bottom-up activations and the amplitude */
            float amp = m->par.amp_off >= 0 ? m->par.params[m->par.amp_off] : 1.0f;
            long D = block_out(last);
            const float *dz = last->dacts->dz, *h = last->acts->act;
            double s = 0;
            memset(last->dacts->dh_extra, 0, sizeof(float) * n * D);
            for (long k = (long)m->acts.u0 * D; k < (long)n * D; k++) {
                last->dacts->dh_extra[k] = amp * dz[k];
                s += (double)dz[k] * h[k];
            }
            if (m->par.amp_off >= 0)
                m->par.grads[m->par.amp_off] += (float)s;
        } else if (m->par.tmpl_off >= 0) {
            int D = (int)block_out(last);
            const float *dz = last->dacts->dz + m->acts.u0 * block_out(last);
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, K, D, nu, 1.0f, eu, K, dz, D, 1.0f,
                        m->par.grads + m->par.tmpl_off, D);
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, nu, K, D, 1.0f, dz, D,
                        m->par.params + m->par.tmpl_off, D, 0.0f, deu, K);
        } else {
            float amp = m->par.amp_off >= 0 ? m->par.params[m->par.amp_off] : 1.0f;
            const float *dtop = m->dacts.dtop + (long)m->acts.u0 * m->F;
            float *dv = deu;   /* dL/d(amp * e) */
            if (m->a.dense) {
                /* top = v W with v = amp * e: dW += v^T dtop, dv = dtop W^T */
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, K, m->F, nu, amp, eu, K, dtop, m->F,
                            1.0f, m->par.grads + m->par.dense_w_off, m->F);
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, nu, K, m->F, 1.0f, dtop, m->F,
                            m->par.params + m->par.dense_w_off, m->F, 0.0f, dv, K);
            } else {
                memcpy(dv, dtop, sizeof(float) * nu * K);
            }
            if (m->par.amp_off >= 0) {
                double s = 0;
                for (long k = 0; k < (long)nu * K; k++)
                    s += (double)dv[k] * eu[k];
                m->par.grads[m->par.amp_off] += (float)s;
            }
            for (long k = 0; k < (long)nu * K; k++)
                deu[k] = amp * dv[k];
        }
        /* rows that rendered from q pass the gradient on into the logits */
        if (cfg->td_top == TD_TOP_SOFTMAX)
            for (int i = m->acts.u0; i < n; i++) {
                if (cfg->td_true_label && i < n_lab)
                    continue;
                softmax_backward(1, K, m->acts.q + (long)i * K, m->dacts.de + (long)i * K, m->dacts.dlogits + (long)i * K);
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
                        d += m->scr.dscale[t][b->sc_off + c];
                    double sigma = sqrt((double)b->acts->var[c] + cfg->bn_eps);
                    double gamma = m->par.params[b->gamma_off + c];
                    m->par.grads[b->gamma_off + c] += (float)(d / sigma);
                    b->dacts->dsigma[c] = (float)(-d * gamma / (sigma * sigma));
                }
            }
    }

    int td_grad = m->acts.have_td && (cfg->a_rc != 0 || cfg->a_nn != 0 || cfg->a_rcl != 0);

    /* LH and LKL into the logits */
    for (int i = 0; i < n_lab; i++)
        for (int c = 0; c < K; c++)
            m->dacts.dlogits[(long)i * K + c] += (float)(cfg->a_h / n_lab * (m->acts.q[(long)i * K + c] - (c == labels[i])));
    if (nu && cfg->a_kl != 0)
        for (int i = m->acts.u0; i < n; i++) {
            const float *q = m->acts.q + (long)i * K, *lq = m->acts.logq + (long)i * K;
            double s = 0;
            for (int c = 0; c < K; c++)
                s += q[c] * (lq[c] + logK);
            for (int c = 0; c < K; c++)
                m->dacts.dlogits[(long)i * K + c] += (float)(kl_sign * cfg->a_kl / nu * q[c] * (lq[c] + logK - s));
        }

    /* bottom-up backward */
    block *last = &m->b[m->nb - 1];
    if (m->a.dense) {
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, K, m->F, n, 1.0f, m->dacts.dlogits, K, last->acts->pooled,
                    m->F, 1.0f, m->par.grads + m->par.dense_w_off, m->F);
        for (int i = 0; i < n; i++)
            for (int c = 0; c < K; c++)
                m->par.grads[m->par.dense_b_off + c] += m->dacts.dlogits[(long)i * K + c];
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, m->F, K, 1.0f, m->dacts.dlogits, K,
                    m->par.params + m->par.dense_w_off, m->F, 0.0f, last->dacts->dpooled, m->F);
    } else {
        memcpy(last->dacts->dpooled, m->dacts.dlogits, sizeof(float) * n * K);
    }
    job j = {.m = m, .n = n};
    for (int l = m->nb - 1; l >= 0; l--) {
        j.l = l;
        j.in = l == 0 ? x : m->b[l - 1].acts->pooled;
        j.dx = l == 0 ? NULL : m->b[l - 1].dacts->dpooled;
        j.dh_extra = td_grad ? m->b[l].dacts->dh_extra : NULL;
        tpool_for(m->pool, m->b[l].ab->g.cout, job_pre_conv_backward, &j);
        tpool_for(m->pool, n, job_conv_backward, &j);
        if (l > 0 && td_grad && m->b[l - 1].dacts->dpooled_extra) {
            long cnt = (long)n * block_pooled(&m->b[l - 1]);
            float *dp = m->b[l - 1].dacts->dpooled;
            const float *ex = m->b[l - 1].dacts->dpooled_extra;
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
                float *g = m->par.grads + off, *tg = m->scr.tgrad[t] + off;
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
    m->acts.train = 0;
    m->acts.n = n;
    m->acts.n_lab = 0;
    m->acts.have_td = 0;
    for (int l = 0; l < m->nb; l++) {
        block *b = &m->b[l];
        if (b->ab->bn)
            bn_eval_affine(b->ab->g.cout, m->par.params + b->gamma_off, m->par.params + b->beta_off,
                           m->par.stats + b->rmean_off, m->par.stats + b->rvar_off, m->cfg.bn_eps, b->acts->bn_scale,
                           b->acts->bn_shift);
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
        memcpy(probs, m->acts.q, sizeof(float) * n * m->K);
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
    m->acts.train = 0;
    m->acts.n = n;
    m->acts.n_lab = 0;
    m->acts.u0 = 0;
    bottom_up(m, standardise(m, x, n), n);
    top_down(m, labels, labels != NULL, NULL);
    m->acts.have_td = 1;
    if (!ihat)
        return 0;
    memcpy(ihat, m->b[0].acts->sin, sizeof(float) * n * m->P);
    if (m->par.in_mean_off >= 0) {
        const int C = m->a.channels, hw = m->a.height * m->a.width;
        for (int i = 0; i < n; i++)
            for (int c = 0; c < C; c++) {
                const float mu = m->par.stats[m->par.in_mean_off + c], sd = m->par.stats[m->par.in_std_off + c];
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
        memset(m->par.stats + b->rmean_off, 0, sizeof(float) * b->ab->g.cout);
        memset(m->par.stats + b->rvar_off, 0, sizeof(float) * b->ab->g.cout);
    }
    const int td_bn = m->cfg.td_param == TD_PARAM_BN;
    for (int l = 0; l < m->nb && td_bn; l++) {
        block *b = &m->b[l];
        memset(m->par.stats + b->tdrm_off, 0, sizeof(float) * b->ab->g.cin);
        memset(m->par.stats + b->tdrv_off, 0, sizeof(float) * b->ab->g.cin);
    }
    /* population statistics: batch statistics averaged with weights = rows;
       the top-down BN's from renderings of the predicted class */
    long total = 0;
    m->acts.train = 1;
    for (int s = 0; s < n; s += batch) {
        int rows = s + batch <= n ? batch : n - s;
        if (rows < 2)
            break;   /* a 1-image tail has no variance */
        m->acts.n = rows;
        bottom_up(m, standardise(m, x + (long)s * m->P, rows), rows);
        if (td_bn) {
            m->acts.u0 = 0;
            top_down(m, NULL, 0, NULL);
        }
        for (int l = 0; l < m->nb && td_bn; l++) {
            block *b = &m->b[l];
            long cnt = (long)rows * b->ab->g.h * b->ab->g.w;
            float unbias = (float)cnt / (float)(cnt - 1);
            for (int c = 0; c < b->ab->g.cin; c++) {
                m->par.stats[b->tdrm_off + c] += rows * b->acts->td_mean[c];
                m->par.stats[b->tdrv_off + c] += rows * b->acts->td_var[c] * unbias;
            }
        }
        for (int l = 0; l < m->nb; l++) {
            block *b = &m->b[l];
            if (!b->ab->bn)
                continue;
            long cnt = (long)rows * b->ab->g.ho * b->ab->g.wo;
            float unbias = (float)cnt / (float)(cnt - 1);
            for (int c = 0; c < b->ab->g.cout; c++) {
                m->par.stats[b->rmean_off + c] += rows * b->acts->mean[c];
                m->par.stats[b->rvar_off + c] += rows * b->acts->var[c] * unbias;
            }
        }
        total += rows;
    }
    for (int l = 0; l < m->nb; l++) {
        block *b = &m->b[l];
        if (!b->ab->bn)
            continue;
        for (int c = 0; c < b->ab->g.cout; c++) {
            m->par.stats[b->rmean_off + c] /= total;
            m->par.stats[b->rvar_off + c] /= total;
        }
    }
    for (int l = 0; l < m->nb && td_bn; l++) {
        block *b = &m->b[l];
        for (int c = 0; c < b->ab->g.cin; c++) {
            m->par.stats[b->tdrm_off + c] /= total;
            m->par.stats[b->tdrv_off + c] /= total;
        }
    }
    m->acts.have_td = 0;
    return 0;
}

int drmm_calibrate_amplitude(drmm *m, const float *x, const int *labels, int n_lab, int n, err_t *e)
{
    if (m->par.amp_off < 0 && m->par.tmpl_off < 0)
        return 0;
    drmm_losses L;
    if (drmm_train_batch(m, x, labels, n_lab, n, 0, &L, e))
        return -1;
    if (!m->acts.have_td)
        return err_set(e, "amplitude calibration needs unlabelled rows in the batch");
    double ih2 = 0;
    for (long k = (long)m->acts.u0 * m->P; k < (long)n * m->P; k++)
        ih2 += (double)m->b[0].acts->sin[k] * m->b[0].acts->sin[k];
    ih2 /= (double)(n - m->acts.u0) * m->P;
    if (!(ih2 > 0))
        return err_set(e, "amplitude calibration: the top-down pass renders zero images");
    float r = (float)sqrt(L.x2 / ih2);
    if (m->par.amp_off >= 0)
        m->par.params[m->par.amp_off] *= r;
    else
        for (long k = 0; k < (long)m->K * block_out(&m->b[m->nb - 1]); k++)
            m->par.params[m->par.tmpl_off + k] *= r;
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
        const long cnt = block_out(b) * m->acts.n;
        if (ab->pool != POOL_MAX) {
            for (long k = 0; k < cnt; k++)
                MIX(ab->relu ? b->acts->act[k] > 0.0f : 1);
            continue;
        }
        for (long k = 0; k < cnt; k += 2L * w)   /* two rows of windows */
            for (int x = 0; x < w; x += 2) {
                const float *r0 = b->acts->act + k + x, *r1 = r0 + w;
                float p = r0[0], q = r0[1], r = r1[0], s = r1[1];
                float pq = q > p ? q : p, rs = s > r ? s : r;
                int win = rs > pq ? (s > r ? 3 : 2) : (q > p ? 1 : 0);
                if (ab->relu && !((win == 0 ? p : win == 1 ? q : win == 2 ? r : s) > 0.0f))
                    win = 4;   /* the winner is switched off by its ReLU */
                MIX(win);
            }
    }
    for (int i = 0; i < m->acts.n; i++)
        MIX(m->acts.pred[i]);
#undef MIX
    return h;
}

const float *drmm_last_ihat(const drmm *m, int *first, int *n)
{
    if (!m->acts.have_td) {
        *first = *n = 0;
        return NULL;
    }
    *first = m->acts.u0;
    *n = m->acts.n;
    return m->b[0].acts->sin;
}
