/* The top-down pass (rendering), rows [u0, n):
 *   z   = unpool(signal from above)   <- LNN measured here
 *   zs  = z * a * t * scale           (scale = gamma/sigma or 1)
 *   sin = conv^T(zs)                  (sin of block 0 = I-hat)
 *   sin = BN_td(sin)                  (td_param bn only; xhat kept)
 * from the top signal: the class template, the one-hot or q through the
 * dense layer and the amplitude, or (what-where) the last block's own
 * activations.  The top-down filters are the bottom-up ones, or tdN.weight
 * (td_weights). */
#include "drmm_internal.h"

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

/* ---- top-down ---- */

enum { COPY_IMAGE, COPY_GRADIENT, COPY_UNIT };   /* copy_rendering */

/* Sets each block's per-channel top-down scale: gamma/sigma (adjoint mode or
 * exact, sigma of the batch in training and of the running variance
 * otherwise) or 1. */
static void set_scales(drmm *m, int exact)
{
    for (int l = 0; l < m->nb; l++) {
        block *b = &m->b[l];
        for (int c = 0; c < b->ab->g.cout; c++) {
            float s = 1.0f;
            if ((exact || m->cfg.td_scale != TD_SCALE_LITERAL) && b->ab->bn) {
                float var = m->A->train ? b->acts->var[c] : m->par.stats[b->rvar_off + c];
                s = m->par.params[b->gamma_off + c] / sqrtf(var + m->cfg.bn_eps);
            }
            b->acts->scale[c] = s;
        }
    }
}

/* The scale of a block's mean-pool undone: 1/(h*w) in adjoint mode or exact. */
static float unpool_scale(const drmm *m, const block *b, int exact)
{
    if (b->ab->pool == POOL_MEAN && (exact || m->cfg.td_scale != TD_SCALE_LITERAL))
        return 1.0f / (b->ab->g.ho * b->ab->g.wo);
    return 1.0f;
}

/* z (conv-output level, one row) = unpool(src) for block b, one row; exact:
 * as the adjoint of the bottom-up pooling whatever td_scale says. */
static void unpool_row_mode(const drmm *m, const block *b, const float *src, float *z, int exact)
{
    const arch_block *ab = b->ab;
    int C = ab->g.cout, hw = ab->g.ho * ab->g.wo;
    if (ab->pool == POOL_MAX)
        upsample2_forward(0, C, ab->hp, ab->wp, 1.0f, src, z);
    else if (ab->pool == POOL_MEAN)
        broadcast_forward(0, C, hw, unpool_scale(m, b, exact), src, z);
    else
        memcpy(z, src, sizeof(float) * C * hw);
}

/* z = unpool(src) for one row of block b, as td_scale says. */
static void unpool_row(const drmm *m, const block *b, const float *src, float *z)
{
    unpool_row_mode(m, b, src, z, 0);
}

void unpool_row_backward(const drmm *m, const block *b, const float *dz, float *dsrc)
{
    const arch_block *ab = b->ab;
    int C = ab->g.cout, hw = ab->g.ho * ab->g.wo;
    if (ab->pool == POOL_MAX)
        upsample2_backward(0, C, ab->hp, ab->wp, 1.0f, dz, dsrc);
    else if (ab->pool == POOL_MEAN)
        broadcast_backward(0, C, hw, unpool_scale(m, b, 0), dz, dsrc);
    else
        memcpy(dsrc, dz, sizeof(float) * C * hw);
}

/* The top signal of rows (e: nrows x K, already times the amplitude) rendered
 * down to the last block's z level, without a template: dense^T then unpool. */
int render_top_default(drmm *m, const float *e, float *z, int nrows)
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
    for (int i = m->A->u0; i < m->A->n; i++) {
        float *e = m->A->e + (long)i * m->K;
        int truth = labels && (force_labels || (m->cfg.td_true_label && i < m->A->n_lab));
        if (!truth && m->cfg.td_top == TD_TOP_SOFTMAX) {
            memcpy(e, m->A->q + (long)i * m->K, sizeof(float) * m->K);
        } else {
            memset(e, 0, sizeof(float) * m->K);
            e[truth ? labels[i] : m->A->pred[i]] = 1.0f;
        }
    }
}

/* The top-down BN of block j->l's rendering sin, rows [u0, n), channels
 * [c0, c1): batch statistics in training, running ones otherwise. */
static void job_td_bn_forward(void *ctx, int tid, int c0, int c1)
{
    (void)tid;
    job *j = ctx;
    drmm *m = j->m;
    block *b = &m->b[j->l];
    const int C = b->ab->g.cin, hw = b->ab->g.h * b->ab->g.w, rows = m->A->n - m->A->u0;
    const long off = (long)m->A->u0 * block_in(b);
    const float *gamma = m->par.params + b->tdg_off, *beta = m->par.params + b->tdb_off;
    if (m->A->train && m->A->dist)   /* the group's statistics, from top_down */
        bn_forward_eval(rows, C, hw, c0, c1, b->acts->sin + off, gamma, beta, b->acts->td_mean, b->acts->td_var,
                        m->cfg.bn_eps, b->acts->sin + off, b->acts->td_xhat + off);
    else if (m->A->train)
        bn_forward_train(rows, C, hw, c0, c1, b->acts->sin + off, gamma, beta, m->cfg.bn_eps, b->acts->sin + off,
                         b->acts->td_xhat + off, b->acts->td_mean, b->acts->td_var);
    else
        bn_forward_eval(rows, C, hw, c0, c1, b->acts->sin + off, gamma, beta, m->par.stats + b->tdrm_off,
                        m->par.stats + b->tdrv_off, m->cfg.bn_eps, b->acts->sin + off, NULL);
}

/* sum of min(0, z)^2, in 8 partial sums so that it vectorises */
static double sum_sq_negative(const float *z, long n)
{
    float acc[8] = {0};
    long k = 0;
    for (; k + 8 <= n; k += 8)
        for (int q = 0; q < 8; q++) {
            float v = neg_part(z[k + q]);
            acc[q] += v * v;
        }
    for (; k < n; k++) {
        float v = neg_part(z[k]);
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
    const float *w = m->par.params + (j->exact ? b->w_off : td_w_off(b));
    double nn = 0;
    for (int r = i0; r < i1; r++) {
        int i = m->A->u0 + r;
        float *z = b->acts->z + i * out, *zs = b->acts->zs + i * out;
        if (j->l < j->top)
            unpool_row_mode(m, b, m->b[j->l + 1].acts->sin + i * block_in(&m->b[j->l + 1]), z, j->exact);
        /* the top block's z was set by the caller */
        const uint8_t *a = b->acts->a + i * out;
        nn += sum_sq_negative(z, out);
        if (m->cfg.td_leak != 0 && !j->exact) {
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
        int i = m->A->u0 + r, S = block_transpose_samples(m, b, i1 - r);
        block_conv_transpose(m, b, S, b->acts->zs + i * out, w, b->acts->sin + i * in, m->scr.col[tid]);
        r += S;
    }
    m->scr.nn_part[tid] += nn;
}

/* Renders rows [u0, n) from block top's z (set by the caller) down to block
 * 0's sin through the switches in the blocks' masks: the model's own
 * top-down pass, or with exact the adjoint of the bottom-up map (bottom-up
 * filters, gamma/sigma scales, hard switches, no top-down BN).  nn (may be
 * NULL) receives each block's sum of min(0, z)^2. */
static void render_blocks(drmm *m, int top, int exact, double *nn)
{
    set_scales(m, exact);
    int rows = m->A->n - m->A->u0;
    job j = {.m = m, .n = m->A->n, .u0 = m->A->u0, .top = top, .exact = exact};
    for (int l = top; l >= 0; l--) {
        j.l = l;
        memset(m->scr.nn_part, 0, sizeof(double) * m->threads);
        block *b = &m->b[l];
        block_conv_prepare(m, &b->wt, m->par.params + (exact ? b->w_off : td_w_off(b)), 1);
        tpool_for(m->pool, rows, job_topdown_block, &j);
        if (b->tdg_off >= 0 && !exact && m->A->train && m->A->dist)
            shard_bn_stats(m, b->acts->sin + (long)m->A->u0 * block_in(b), rows, m->A->nu_all, b->ab->g.cin,
                           b->ab->g.h * b->ab->g.w, b->acts->td_mean, b->acts->td_var);
        if (b->tdg_off >= 0 && !exact)
            tpool_for(m->pool, b->ab->g.cin, job_td_bn_forward, &j);
        if (nn) {
            double s = 0;
            for (int t = 0; t < m->threads; t++)
                s += m->scr.nn_part[t];
            nn[l] = s;
        }
    }
}

/* The last block's z of rows [u0, n) from their top vectors e: the class
 * template, or amp * e through the dense layer, or (what-where) the last
 * block's own activations. */
static void top_signal(drmm *m)
{
    int rows = m->A->n - m->A->u0;
    block *last = &m->b[m->nb - 1];
    float *zlast = last->acts->z + m->A->u0 * block_out(last);
    const float *eu = m->A->e + (long)m->A->u0 * m->K;
    if (m->cfg.td_top == TD_TOP_ACTIVATIONS) {
        float amp = m->par.amp_off >= 0 ? m->par.params[m->par.amp_off] : 1.0f;
        const float *h = last->acts->act + m->A->u0 * block_out(last);
        for (long k = 0; k < rows * block_out(last); k++)
            zlast[k] = amp * h[k];
    } else if (m->par.tmpl_off >= 0) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, (int)block_out(last), m->K, 1.0f,
                    eu, m->K, m->par.params + m->par.tmpl_off, (int)block_out(last), 0.0f, zlast, (int)block_out(last));
    } else {
        /* v = amp * e (in de, free until the backward pass); top = v W, or v */
        float amp = m->par.amp_off >= 0 ? m->par.params[m->par.amp_off] : 1.0f;
        float *v = m->dacts.de + (long)m->A->u0 * m->K, *topu = m->A->top + (long)m->A->u0 * m->F;
        for (long k = 0; k < (long)rows * m->K; k++)
            v[k] = amp * eu[k];
        if (m->a.dense)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, m->F, m->K, 1.0f, v, m->K,
                        m->par.params + m->par.dense_w_off, m->F, 0.0f, topu, m->F);
        else
            memcpy(topu, v, sizeof(float) * rows * m->K);
        for (int r = 0; r < rows; r++) {
            int i = m->A->u0 + r;
            unpool_row(m, last, m->A->top + (long)i * m->F, last->acts->z + i * block_out(last));
        }
    }
}

/* Renders rows [u0, n) top-down; returns the NN penalty's sum of squares per
 * block in nn (may be NULL). */
void top_down(drmm *m, const int *labels, int force_labels, double *nn)
{
    top_vectors(m, labels, force_labels);
    top_signal(m);
    render_blocks(m, m->nb - 1, 0, nn);
}

/* Sets the last pass's bookkeeping for n rows in evaluation mode, all rendered. */
static void eval_rows(drmm *m, int n)
{
    m->A->train = 0;
    m->A->drop_on = 0;
    m->A->dist = 0;
    m->A->n = m->A->n_all = m->A->nu_all = n;
    m->A->n_lab = m->A->n_lab_all = 0;
    m->A->u0 = 0;
}

/* Copies block 0's rendering of n rows to out in the units of the raw
 * input, for an in_norm model: COPY_IMAGE undoes the standardisation
 * (x * std + mean: I-hat), COPY_UNIT only its scale (x * std: a linear
 * rendering), COPY_GRADIENT divides by std (a gradient w.r.t. the raw input). */
static void copy_rendering(const drmm *m, int n, float *out, int mode)
{
    memcpy(out, m->b[0].acts->sin, sizeof(float) * n * m->P);
    if (m->par.in_mean_off < 0)
        return;
    const int C = m->a.channels, hw = m->a.height * m->a.width;
    for (int i = 0; i < n; i++)
        for (int c = 0; c < C; c++) {
            const float mu = m->par.stats[m->par.in_mean_off + c], sd = m->par.stats[m->par.in_std_off + c];
            for (long k = ((long)i * C + c) * hw, end = k + hw; k < end; k++)
                out[k] = mode == COPY_IMAGE ? out[k] * sd + mu : mode == COPY_GRADIENT ? out[k] / sd : out[k] * sd;
        }
}

static int reconstruct(drmm *m, const float *x, const int *labels, int n, float *ihat, err_t *e)
{
    if (check_batch(m, x, NULL, 0, n, e))
        return -1;
    if (labels)
        for (int i = 0; i < n; i++)
            if (labels[i] < 0 || labels[i] >= m->K)
                return err_set(e, "label %d of row %d out of range 0..%d", labels[i], i, m->K - 1);
    eval_rows(m, n);
    bottom_up(m, standardise(m, x, n), n);
    top_down(m, labels, labels != NULL, NULL);
    m->A->have_td = 1;
    if (ihat)
        copy_rendering(m, n, ihat, COPY_IMAGE);
    return 0;
}

/* ---- generation: rendering from given switches, a unit, the score's gradient ---- */

/* Sets the switches of rows [0, n), blocks [0, nblocks), from masks
 * (drmm_switches' encoding; masks NULL or masks[l] NULL: every switch on). */
static void load_switches(drmm *m, const uint8_t *const *masks, int nblocks, int n)
{
    for (int l = 0; l < nblocks; l++) {
        block *b = &m->b[l];
        long count = block_out(b) * n;
        const uint8_t *src = masks ? masks[l] : NULL;
        for (long k = 0; k < count; k++) {
            b->acts->a[k] = src ? (src[k] & 1) : 1;
            if (b->acts->t)
                b->acts->t[k] = src ? ((src[k] >> 1) & 1) : 1;
        }
    }
}

static int infer(drmm *m, const float *x, int n, err_t *e)
{
    if (check_batch(m, x, NULL, 0, n, e))
        return -1;
    eval_rows(m, n);
    bottom_up(m, standardise(m, x, n), n);
    m->A->have_td = 0;
    return 0;
}

int drmm_switches(const drmm_acts *A, int l, int row, uint8_t *mask, err_t *e)
{
    const drmm *m = A->m;
    if (l < 0 || l >= m->nb)
        return err_set(e, "block %d out of range 0..%d", l, m->nb - 1);
    if (row < 0 || row >= A->n)
        return err_set(e, "row %d not in the last pass (%d rows)", row, A->n);
    const layer_acts *L = &A->layer[l];
    const long out = block_out(&m->b[l]), off = (long)row * out;
    for (long k = 0; k < out; k++)
        mask[k] = (uint8_t)(L->a[off + k] | (L->t ? L->t[off + k] << 1 : 0));
    return 0;
}

static int render(drmm *m, const int *labels, int n, const uint8_t *const *masks, float *ihat, err_t *e)
{
    if (m->cfg.td_top == TD_TOP_ACTIVATIONS)
        return err_set(e, "a model whose top-down pass starts from its own activations (td_top activations) "
                          "cannot render from a class alone");
    if (n < 1)
        return err_set(e, "rendering needs at least one row (got %d)", n);
    for (int i = 0; i < n; i++)
        if (labels[i] < 0 || labels[i] >= m->K)
            return err_set(e, "class %d of row %d out of range 0..%d", labels[i], i, m->K - 1);
    eval_rows(m, n);
    load_switches(m, masks, m->nb, n);
    top_vectors(m, labels, 1);
    top_signal(m);
    render_blocks(m, m->nb - 1, 0, NULL);
    m->A->have_td = 1;
    copy_rendering(m, n, ihat, COPY_IMAGE);
    return 0;
}

static int render_unit(drmm *m, int l, const int *units, int n, const uint8_t *const *masks, float *out,
                       err_t *e)
{
    if (l < 0 || l >= m->nb)
        return err_set(e, "block %d out of range 0..%d", l, m->nb - 1);
    if (n < 1)
        return err_set(e, "rendering needs at least one row (got %d)", n);
    block *b = &m->b[l];
    const long size = block_out(b);
    for (int i = 0; i < n; i++)
        if (units[i] < 0 || units[i] >= size)
            return err_set(e, "unit %d of row %d out of range 0..%ld of block %d", units[i], i, size - 1, l);
    eval_rows(m, n);
    load_switches(m, NULL, l + 1, n);   /* the unit's own block: its switch on (z is zero elsewhere) */
    if (masks)
        load_switches(m, masks, l, n);
    memset(b->acts->z, 0, sizeof(float) * size * n);
    for (int i = 0; i < n; i++)
        b->acts->z[i * size + units[i]] = 1.0f;
    render_blocks(m, l, 0, NULL);
    m->A->have_td = 0;
    copy_rendering(m, n, out, COPY_UNIT);
    return 0;
}

static int score_gradient(drmm *m, const float *x, const int *classes, int n, float *grad, err_t *e)
{
    if (check_batch(m, x, NULL, 0, n, e))
        return -1;
    for (int i = 0; i < n; i++)
        if (classes[i] < 0 || classes[i] >= m->K)
            return err_set(e, "class %d of row %d out of range 0..%d", classes[i], i, m->K - 1);
    eval_rows(m, n);
    bottom_up(m, standardise(m, x, n), n);
    /* d score_c / d features = row c of the dense weights (or the one-hot) */
    block *last = &m->b[m->nb - 1];
    for (int i = 0; i < n; i++) {
        float *top = m->A->top + (long)i * m->F;
        if (m->a.dense)
            memcpy(top, m->par.params + m->par.dense_w_off + (long)classes[i] * m->F, sizeof(float) * m->F);
        else {
            memset(top, 0, sizeof(float) * m->F);
            top[classes[i]] = 1.0f;
        }
        unpool_row_mode(m, last, top, last->acts->z + i * block_out(last), 1);
    }
    render_blocks(m, m->nb - 1, 1, NULL);
    m->A->have_td = 0;
    copy_rendering(m, n, grad, COPY_GRADIENT);
    return 0;
}

/* ---- the passes, each in the caller's activations ---- */

int drmm_reconstruct(drmm *m, drmm_acts *A, const float *x, const int *labels, int n, float *ihat, err_t *e)
{
    PASS(n, reconstruct(m, x, labels, n, ihat, e));
}

int drmm_infer(drmm *m, drmm_acts *A, const float *x, int n, err_t *e)
{
    PASS(n, infer(m, x, n, e));
}

int drmm_render(drmm *m, drmm_acts *A, const int *labels, int n, const uint8_t *const *masks, float *ihat, err_t *e)
{
    PASS(n, render(m, labels, n, masks, ihat, e));
}

int drmm_render_unit(drmm *m, drmm_acts *A, int l, const int *units, int n, const uint8_t *const *masks, float *out,
                     err_t *e)
{
    PASS(n, render_unit(m, l, units, n, masks, out, e));
}

int drmm_score_gradient(drmm *m, drmm_acts *A, const float *x, const int *classes, int n, float *grad, err_t *e)
{
    PASS(n, score_gradient(m, x, classes, n, grad, e));
}
