/* The backward pass: the top-down pass's gradient (LRC, LNN, LRCL) block by
 * block from the image up to the top signal, then the bottom-up pass's from
 * the logits down to the image.  Parameter gradients accumulate per thread
 * (conv weights, dL/dscale) and are summed in thread order. */
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

/* Its backward: dsin (w.r.t. the BN output) becomes the gradient w.r.t. the
 * transposed convolution's output; gamma and beta receive theirs. */
static void job_td_bn_backward(void *ctx, int tid, int c0, int c1)
{
    (void)tid;
    job *j = ctx;
    drmm *m = j->m;
    block *b = &m->b[j->l];
    const int C = b->ab->g.cin, hw = b->ab->g.h * b->ab->g.w, rows = m->A->n - m->A->u0;
    const long off = (long)m->A->u0 * block_in(b);
    bn_backward_train(rows, C, hw, c0, c1, b->dacts->dsin + off, b->acts->td_xhat + off, m->par.params + b->tdg_off, b->acts->td_var,
                      m->cfg.bn_eps, NULL, b->dacts->dsin + off, m->par.grads + b->tdg_off, m->par.grads + b->tdb_off);
}

/* The same for a data-parallel share in two loops around the group's sum:
 * the local sums of each channel (into red[2c], red[2c + 1]; gamma and beta
 * get this process's part), then dsin from the group's totals. */
static void job_td_bn_backward_sums(void *ctx, int tid, int c0, int c1)
{
    (void)tid;
    job *j = ctx;
    drmm *m = j->m;
    block *b = &m->b[j->l];
    const int C = b->ab->g.cin, hw = b->ab->g.h * b->ab->g.w;
    for (int c = c0; c < c1; c++) {
        bn_sums sums = {{0}, {0}};
        for (int i = m->A->u0; i < m->A->n; i++) {
            long off = ((long)i * C + c) * hw;
            bn_backward_sums(hw, b->dacts->dsin + off, b->acts->td_xhat + off, &sums);
        }
        double *t = m->scr.red + 2 * c;
        bn_backward_totals(&sums, &t[0], &t[1]);
        m->par.grads[b->tdg_off + c] += (float)t[1];
        m->par.grads[b->tdb_off + c] += (float)t[0];
    }
}

static void job_td_bn_backward_apply(void *ctx, int tid, int c0, int c1)
{
    (void)tid;
    job *j = ctx;
    drmm *m = j->m;
    block *b = &m->b[j->l];
    const int C = b->ab->g.cin, hw = b->ab->g.h * b->ab->g.w, rows = m->A->n - m->A->u0;
    const long off = (long)m->A->u0 * block_in(b);
    for (int c = c0; c < c1; c++)
        bn_backward_apply(rows, C, hw, c, (double)m->A->nu_all * hw, m->scr.red[2 * c], m->scr.red[2 * c + 1],
                          b->dacts->dsin + off, b->acts->td_xhat + off, m->par.params + b->tdg_off, b->acts->td_var,
                          m->cfg.bn_eps, NULL, b->dacts->dsin + off);
}

/* The top-down BN's backward of block l, alone or as a data-parallel share. */
static void td_bn_backward(drmm *m, job *j)
{
    const int C = m->b[j->l].ab->g.cin;
    if (!m->A->dist) {
        tpool_for(m->pool, C, job_td_bn_backward, j);
        return;
    }
    tpool_for(m->pool, C, job_td_bn_backward_sums, j);
    shard_sum(m, m->scr.red, 2 * C);
    tpool_for(m->pool, C, job_td_bn_backward_apply, j);
}


/* LMM's gradient for block l >= 1, times a_mm: into the rendering of the
 * block's input before its top-down BN (dsin, after the BN's backward) and
 * into the bottom-up input it is compared with (block l-1's dpooled_extra). */
static void mm_backward(drmm *m, int l, float a_mm)
{
    block *b = &m->b[l];
    const int C = b->ab->g.cin, hw = b->ab->g.h * b->ab->g.w, u0 = m->A->u0, n = m->A->n;
    const double cnt = (double)m->A->nu_all * hw;
    double *d = b->acts->mm;
    mm_block(m, l, d);
    const float *p = m->b[l - 1].acts->pooled;
    float *dp = m->b[l - 1].dacts->dpooled_extra;
    for (int c = 0; c < C; c++) {
        const double *dc = d + 5 * c;
        /* sin before the BN minus m_t = xhat * sqrt(v_t + eps) */
        const float t0 = (float)(a_mm * dc[0] / cnt),
                    t1 = (float)(a_mm * dc[1] * 2.0 * sqrt((double)b->acts->td_var[c] + m->cfg.bn_eps) / cnt),
                    b0 = (float)(a_mm * dc[2] / cnt), b1 = (float)(a_mm * dc[3] * 2.0 / cnt), mb = (float)dc[4];
        for (int i = u0; i < n; i++) {
            const long off = ((long)i * C + c) * hw;
            for (int k = 0; k < hw; k++) {
                b->dacts->dsin[off + k] += t0 + t1 * b->acts->td_xhat[off + k];
                dp[off + k] += b0 + b1 * (p[off + k] - mb);
            }
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
        for (long k = (long)(m->A->u0 + i0) * in; k < (long)(m->A->u0 + i1) * in; k++)
            b->dacts->dsin[k] = j->rc_coef * (b->acts->sin[k] - j->target[k]);
    /* the weight gradient and dz = conv(dsin): from one im2col, or both by Winograd */
    const int wino = block_conv_form(m, &b->wf);
    if (wino)
        block_weight_grad(m, b, i1 - i0, b->acts->zs + (m->A->u0 + i0) * out, b->dacts->dsin + (m->A->u0 + i0) * in,
                          tg, m->scr.col[tid]);
    for (int r = i0, S; !wino && r < i1; r += S) {
        const int i = m->A->u0 + r;
        S = conv_batch_samples(&ab->g, i1 - r);
        conv_weight_grad_forward_batch(&ab->g, S, b->acts->zs + i * out, b->dacts->dsin + i * in, w, tg,
                                       b->dacts->dz + i * out, m->scr.col[tid]);
    }
    for (int r = i0, S; wino && r < i1; r += S) {
        const int i = m->A->u0 + r;
        S = block_conv_samples(m, b, i1 - r);
        block_conv(m, b, S, b->dacts->dsin + i * in, w, 0, b->dacts->dz + i * out, m->scr.col[tid]);
    }
    for (int r = i0; r < i1; r++) {
        int i = m->A->u0 + r;
        float *z = b->acts->z + i * out, *dz = b->dacts->dz + i * out;
        const uint8_t *a = b->acts->a + i * out;
        const uint8_t *t = ab->pool == POOL_MAX ? b->acts->t + i * out : NULL;
        const float coef = j->nn_coef, leak = m->cfg.td_leak;
        for (int c = 0; c < C; c++) {
            const float s = b->acts->scale[c];
            float acc[8] = {0};
            if (leak != 0)
                for (int k = c * hw; k < (c + 1) * hw; k++) {
                    float on = switch_on(a, t, k, leak), d = dz[k], v = z[k];
                    acc[k & 7] += d * v * on;
                    dz[k] = d * s * on + coef * neg_part(v);
                }
            else {   /* the same with the hard switch a[k], in runs of 8 from a multiple of 8 (vectorised) */
                const int k1 = (c + 1) * hw;
                int k = c * hw;
#define TD_BACK_HARD(k)                                                                                               \
    do {                                                                                                              \
        float on_ = (float)a[k], d_ = dz[k], v_ = z[k];                                                               \
        acc[(k) & 7] += d_ * v_ * on_;                                                                                \
        dz[k] = d_ * s * on_ + coef * neg_part(v_);                                                                   \
    } while (0)
                for (; k < k1 && (k & 7); k++)
                    TD_BACK_HARD(k);
                for (; k + 8 <= k1; k += 8)
                    for (int q = 0; q < 8; q++)
                        TD_BACK_HARD(k + q);
                for (; k < k1; k++)
                    TD_BACK_HARD(k);
#undef TD_BACK_HARD
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

/* From the pooled output's gradient to the conv output's, channel by
 * channel: each plane through the pooling and the ReLU (the mask a-hat *
 * t-hat routes through max-pool and ReLU at once), its BN sums taken while
 * it is in the cache, then the channel's BN backward. */
static void job_pre_conv_backward(void *ctx, int tid, int c0, int c1)
{
    (void)tid;
    job *j = ctx;
    drmm *m = j->m;
    block *b = &m->b[j->l];
    const arch_block *ab = b->ab;
    const int C = ab->g.cout, hw = ab->g.ho * ab->g.wo, n = j->n;
    for (int c = c0; c < c1; c++) {
        bn_sums sums = {{0}, {0}};
        for (int i = 0; i < n; i++) {
            long p = (long)i * C + c;
            float *d = b->dacts->dact + p * hw;
            const float *extra = j->dh_extra ? j->dh_extra + p * hw : NULL, *h = b->acts->act + p * hw;
            if (ab->pool == POOL_MAX) {
                maxpool2_backward(p, p + 1, ab->g.ho, ab->g.wo, b->dacts->dpooled, b->acts->a, b->dacts->dact);
                if (extra)   /* the ReLU's own switch: h > 0 */
                    for (int k = 0; k < hw; k++)
                        d[k] += h[k] > 0.0f ? extra[k] : 0.0f;
            } else {
                if (ab->pool == POOL_MEAN)
                    meanpool_backward(p, p + 1, hw, b->dacts->dpooled, b->dacts->dact);
                /* POOL_NONE: dpooled is dact */
                if (extra)
                    for (int k = 0; k < hw; k++)
                        d[k] += extra[k];
                relu_backward_inplace(hw, b->acts->a + p * hw, d);
            }
            if (ab->bn)
                bn_backward_sums(hw, d, b->acts->xhat + p * hw, &sums);
        }
        if (ab->bn && m->A->dist) {   /* the group's totals first (bn_backward_dist) */
            double *t = m->scr.red + 2 * c;
            bn_backward_totals(&sums, &t[0], &t[1]);
            m->par.grads[b->gamma_off + c] += (float)t[1];
            m->par.grads[b->beta_off + c] += (float)t[0];
        } else if (ab->bn)
            bn_backward_channel(n, C, hw, c, &sums, b->dacts->dact, b->acts->xhat, m->par.params + b->gamma_off,
                                b->acts->var, m->cfg.bn_eps, b->dacts->dsigma, b->dacts->dact,
                                m->par.grads + b->gamma_off, m->par.grads + b->beta_off);
    }
}

/* A data-parallel share's BN backward of block j->l from the group's totals
 * in red (after job_pre_conv_backward and the sum). */
static void job_bn_backward_apply(void *ctx, int tid, int c0, int c1)
{
    (void)tid;
    job *j = ctx;
    drmm *m = j->m;
    block *b = &m->b[j->l];
    const int C = b->ab->g.cout, hw = b->ab->g.ho * b->ab->g.wo;
    for (int c = c0; c < c1; c++)
        bn_backward_apply(j->n, C, hw, c, (double)m->A->n_all * hw, m->scr.red[2 * c], m->scr.red[2 * c + 1],
                          b->dacts->dact, b->acts->xhat, m->par.params + b->gamma_off, b->acts->var, m->cfg.bn_eps,
                          b->dacts->dsigma, b->dacts->dact);
}

static void job_conv_backward(void *ctx, int tid, int i0, int i1)
{
    job *j = ctx;
    drmm *m = j->m;
    block *b = &m->b[j->l];
    const float *w = m->par.params + b->w_off;
    float *tg = m->scr.tgrad[tid] + b->w_off;
    block_weight_grad(m, b, i1 - i0, b->dacts->dact + i0 * block_out(b), j->in + i0 * block_in(b), tg, m->scr.col[tid]);
    for (int i = i0, S; j->dx && i < i1; i += S) {
        S = block_transpose_samples(m, b, i1 - i);
        block_conv_transpose(m, b, S, b->dacts->dact + i * block_out(b), w, j->dx + i * block_in(b), m->scr.col[tid]);
    }
}


/* ---- the batch's backward pass ---- */

void grads_zero(drmm *m)
{
    memset(m->par.grads, 0, sizeof(float) * m->par.nparams);
    for (int t = 0; t < m->threads; t++) {
        memset(m->scr.tgrad[t], 0, sizeof(float) * m->par.nparams);
        memset(m->scr.dscale[t], 0, sizeof(float) * m->par.sc_total);
    }
    memset(m->dacts.dlogits, 0, sizeof(float) * m->A->n * m->K);
    for (int l = 0; l < m->nb; l++)
        memset(m->b[l].dacts->dsigma, 0, sizeof(float) * m->b[l].ab->g.cout);
}

/* The top-down pass block by block from the image up: dLRC/dI-hat, LRCL's
 * gradient at each block's rendered input (and, negated, at the bottom-up
 * input it is compared with), the top-down BN, then the transposed
 * convolution, switches, scale and unpooling (job_topdown_backward). */
static void backward_render_blocks(drmm *m, const float *x, const drmm_config *cfg)
{
    const int n = m->A->n, nu = m->A->nu_all, P = m->P;   /* means over the whole batch */
    job j = {.m = m, .n = n, .u0 = m->A->u0, .target = x};
    j.rc_coef = (float)(2.0 * cfg->a_rc / ((double)nu * P));
    for (int l = 0; l < m->nb; l++) {
        block *b = &m->b[l];
        float *dx = l > 0 ? m->b[l - 1].dacts->dpooled_extra : NULL;   /* LRCL's and LMM's */
        if (dx)
            memset(dx, 0, sizeof(float) * n * block_in(b));
        if (l > 0 && cfg->a_rcl != 0) {
            /* LRCL: the rendering of this block's input against the bottom-up input */
            long in = block_in(b);
            float c = (float)(2.0 * cfg->a_rcl / ((double)nu * in));
            const float *xl = m->b[l - 1].acts->pooled;
            for (long k = (long)m->A->u0 * in; k < (long)n * in; k++) {
                float d = c * (b->acts->sin[k] - xl[k]);
                b->dacts->dsin[k] += d;
                dx[k] = -d;
            }
        }
        j.l = l;
        j.nn_coef = (float)(2.0 * cfg->a_nn / ((double)nu * block_out(b)));
        if (b->tdg_off >= 0) {
            if (l == 0)   /* dLRC/dI-hat, then through the output BN */
                for (long k = (long)m->A->u0 * P; k < (long)n * P; k++)
                    b->dacts->dsin[k] = j.rc_coef * (b->acts->sin[k] - x[k]);
            td_bn_backward(m, &j);
            if (l > 0 && cfg->a_mm != 0)
                mm_backward(m, l, cfg->a_mm);
        }
        block_conv_prepare(m, &b->wf, m->par.params + td_w_off(b), 0);   /* dz = conv(dsin) with the top-down filters */
        tpool_for(m->pool, n - m->A->u0, job_topdown_backward, &j);
    }
}

/* The what-where top z = amp * h: into the bottom-up activations h (through
 * dh_extra) and the amplitude. */
static void backward_top_activations(drmm *m)
{
    block *last = &m->b[m->nb - 1];
    const int n = m->A->n;
    float amp = m->par.amp_off >= 0 ? m->par.params[m->par.amp_off] : 1.0f;
    long D = block_out(last);
    const float *dz = last->dacts->dz, *h = last->acts->act;
    double s = 0;
    memset(last->dacts->dh_extra, 0, sizeof(float) * n * D);
    for (long k = (long)m->A->u0 * D; k < (long)n * D; k++) {
        last->dacts->dh_extra[k] = amp * dz[k];
        s += (double)dz[k] * h[k];
    }
    if (m->par.amp_off >= 0)
        m->par.grads[m->par.amp_off] += (float)s;
}

/* The class template z = e T: into T and into e (de). */
static void backward_top_template(drmm *m)
{
    block *last = &m->b[m->nb - 1];
    const int K = m->K, nu = m->A->n - m->A->u0, D = (int)block_out(last);
    const float *eu = m->A->e + (long)m->A->u0 * K;
    float *deu = m->dacts.de + (long)m->A->u0 * K;
    const float *dz = last->dacts->dz + m->A->u0 * block_out(last);
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, K, D, nu, 1.0f, eu, K, dz, D, 1.0f,
                m->par.grads + m->par.tmpl_off, D);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, nu, K, D, 1.0f, dz, D,
                m->par.params + m->par.tmpl_off, D, 0.0f, deu, K);
}

/* top = (amp * e) W (or amp * e without a dense layer): into W, the
 * amplitude and e (de). */
static void backward_top_dense(drmm *m)
{
    const int K = m->K, nu = m->A->n - m->A->u0;
    const float *eu = m->A->e + (long)m->A->u0 * K;
    float *deu = m->dacts.de + (long)m->A->u0 * K;
    float amp = m->par.amp_off >= 0 ? m->par.params[m->par.amp_off] : 1.0f;
    const float *dtop = m->dacts.dtop + (long)m->A->u0 * m->F;
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

/* The top-down scale gamma/sigma: into gamma directly and into sigma
 * (dsigma, taken by the bottom-up BN's backward). */
static void backward_render_scale(drmm *m, const drmm_config *cfg)
{
    /* dL/dscale per channel of every block: gamma's part is this process's
       rows; sigma's, which reaches every row through the BN, the group's */
    double *d = m->scr.red;
    for (int l = 0; l < m->nb; l++) {
        block *b = &m->b[l];
        for (int c = 0; c < b->ab->g.cout; c++) {
            double s = 0;
            for (int t = 0; t < m->threads && b->ab->bn; t++)
                s += m->scr.dscale[t][b->sc_off + c];
            d[b->sc_off + c] = s;
            if (b->ab->bn)
                m->par.grads[b->gamma_off + c] += (float)(s / sqrt((double)b->acts->var[c] + cfg->bn_eps));
        }
    }
    shard_sum(m, d, (int)m->par.sc_total);
    for (int l = 0; l < m->nb; l++) {
        block *b = &m->b[l];
        if (!b->ab->bn)
            continue;
        for (int c = 0; c < b->ab->g.cout; c++) {
            double sigma = sqrt((double)b->acts->var[c] + cfg->bn_eps);
            double gamma = m->par.params[b->gamma_off + c];
            b->dacts->dsigma[c] = (float)(-d[b->sc_off + c] * gamma / (sigma * sigma));
        }
    }
}

void backward_render(drmm *m, const float *x, const drmm_config *cfg)
{
    const int K = m->K, n = m->A->n, n_lab = m->A->n_lab;
    backward_render_blocks(m, x, cfg);
    if (cfg->td_top == TD_TOP_ACTIVATIONS)
        backward_top_activations(m);
    else if (m->par.tmpl_off >= 0)
        backward_top_template(m);
    else
        backward_top_dense(m);
    /* rows that rendered from q pass the gradient on into the logits */
    if (cfg->td_top == TD_TOP_SOFTMAX)
        for (int i = m->A->u0; i < n; i++) {
            if (cfg->td_true_label && i < n_lab)
                continue;
            softmax_backward_add(1, K, m->A->q + (long)i * K, m->dacts.de + (long)i * K,
                                 m->dacts.dlogits + (long)i * K);
        }
    /* not when the scale is held constant (TD_SCALE_ADJOINT_CONST) */
    if (cfg->td_scale == TD_SCALE_ADJOINT)
        backward_render_scale(m, cfg);
}

/* The classifier: dense W, bias and the last block's pooled output, or the
 * pooled output itself as the logits. */
static void backward_classifier(drmm *m)
{
    block *last = &m->b[m->nb - 1];
    const int K = m->K, n = m->A->n;
    if (m->a.dense) {
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, K, m->F, n, 1.0f, m->dacts.dlogits, K, dense_input(m),
                    m->F, 1.0f, m->par.grads + m->par.dense_w_off, m->F);
        for (int i = 0; i < n; i++)
            for (int c = 0; c < K; c++)
                m->par.grads[m->par.dense_b_off + c] += m->dacts.dlogits[(long)i * K + c];
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, m->F, K, 1.0f, m->dacts.dlogits, K,
                    m->par.params + m->par.dense_w_off, m->F, 0.0f, last->dacts->dpooled, m->F);
        dropout_backward(m, last->dacts->dpooled, n);
    } else {
        memcpy(last->dacts->dpooled, m->dacts.dlogits, sizeof(float) * n * K);
    }
}

/* The threads' conv weight gradients (bottom-up and top-down filters) into
 * grads, thread by thread in order. */
static void reduce_thread_grads(drmm *m)
{
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
}

void backward_bottom_up(drmm *m, const float *x, int td_grad)
{
    const int n = m->A->n;
    backward_classifier(m);
    job j = {.m = m, .n = n};
    for (int l = m->nb - 1; l >= 0; l--) {
        j.l = l;
        j.in = block_input(m, l, x);
        j.dx = l == 0 ? NULL : m->b[l - 1].dacts->dpooled;
        j.dh_extra = td_grad ? m->b[l].dacts->dh_extra : NULL;
        tpool_for(m->pool, m->b[l].ab->g.cout, job_pre_conv_backward, &j);
        if (m->A->dist && m->b[l].ab->bn) {
            shard_sum(m, m->scr.red, 2 * m->b[l].ab->g.cout);
            tpool_for(m->pool, m->b[l].ab->g.cout, job_bn_backward_apply, &j);
        }
        if (j.dx)
            block_conv_prepare(m, &m->b[l].wt, m->par.params + m->b[l].w_off, 1);
        tpool_for(m->pool, n, job_conv_backward, &j);
        if (l == m->nb - 1 && l > 0 && !m->a.dense)
            dropout_backward(m, j.dx, n);   /* the dropped input of the last block */
        if (l > 0 && td_grad && m->b[l - 1].dacts->dpooled_extra) {
            long cnt = (long)n * block_pooled(&m->b[l - 1]);
            float *dp = m->b[l - 1].dacts->dpooled;
            const float *ex = m->b[l - 1].dacts->dpooled_extra;
            for (long k = 0; k < cnt; k++)
                dp[k] += ex[k];
        }
    }
    reduce_thread_grads(m);
}
