/* The bottom-up pass (inference): per conv block l,
 *   act = conv(x); act = BN(act) (xhat kept); act = ReLU(act) (switch a-hat);
 *   pooled = pool(act) (switch t-hat for max-pool),
 * one mask per block keeping the product a-hat * t-hat (all the top-down and
 * backward passes need), then the class scores.  drmm_predict runs a leaner
 * bottom-up (job_predict): BN with the running statistics, ReLU and pooling
 * fused in one pass, no switches, each thread taking groups of rows through
 * the whole network. */
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

/* ---- bottom-up ---- */

static void job_conv_forward(void *ctx, int tid, int i0, int i1)
{
    job *j = ctx;
    block *b = &j->m->b[j->l];
    for (int i = i0; i < i1;) {
        int S = block_conv_samples(j->m, b, i1 - i);
        block_conv(j->m, b, S, j->in + i * block_in(b), j->m->par.params + b->w_off, 0, b->acts->act + i * block_out(b),
                   j->m->scr.col[tid]);
        i += S;
    }
}

/* BN, ReLU and pooling for channels [c0, c1) of every row: in training
 * the channel's batch statistics, then each plane in one pass
 * (postconv_train_plane); in evaluation mode BN with the running
 * statistics first. */
static void job_post_conv(void *ctx, int tid, int c0, int c1)
{
    (void)tid;
    job *j = ctx;
    drmm *m = j->m;
    block *b = &m->b[j->l];
    layer_acts *A = b->acts;
    const arch_block *ab = b->ab;
    const int C = ab->g.cout, hw = ab->g.ho * ab->g.wo, n = j->n;
    const long pooled = ab->pool == POOL_MEAN ? 1 : (long)ab->hp * ab->wp;
    const int train_bn = ab->bn && m->A->train;
    for (int c = c0; c < c1; c++) {
        float istd = 0, mu = 0, g = 0, beta = 0;
        if (train_bn) {
            /* a data-parallel share: the group's statistics, from bottom_up */
            istd = m->A->dist ? (float)(1.0 / sqrt((double)A->var[c] + m->cfg.bn_eps))
                                : bn_channel_stats(n, C, hw, c, A->act, m->cfg.bn_eps, A->mean, A->var);
            mu = A->mean[c];
            g = m->par.params[b->gamma_off + c];
            beta = m->par.params[b->beta_off + c];
        } else if (ab->bn)
            bn_forward_eval(n, C, hw, c, c + 1, A->act, m->par.params + b->gamma_off, m->par.params + b->beta_off,
                            m->par.stats + b->rmean_off, m->par.stats + b->rvar_off, m->cfg.bn_eps, A->act, NULL);
        for (int i = 0; i < n; i++) {
            long p = (long)i * C + c;
            postconv_train_plane(ab->g.ho, ab->g.wo, train_bn, mu, istd, g, beta, ab->relu, ab->pool, A->act + p * hw,
                                 train_bn ? A->xhat + p * hw : NULL, A->a + p * hw,
                                 ab->pool == POOL_MAX ? A->t + p * hw : NULL, A->pooled + p * pooled);
        }
    }
}

/* ---- dropout at the classifier's input ---- */

void drmm_set_dropout_key(drmm *m, uint64_t key) { m->drop_key = key; }

const float *block_input(const drmm *m, int l, const float *x)
{
    if (l == 0)
        return x;
    if (l == m->nb - 1 && !m->a.dense && m->A->drop_on)
        return m->A->drop;
    return m->b[l - 1].acts->pooled;
}

const float *dense_input(const drmm *m)
{
    return m->a.dense && m->A->drop_on ? m->A->drop : m->b[m->nb - 1].acts->pooled;
}

/* The mask of the batch from the key (one uniform draw per unit, in the
 * global batch's row order: independent of the thread count, and a
 * data-parallel share draws the rows of the others too, keeping its own)
 * and the dropped copy of in. */
static void dropout_forward(drmm *m, const float *in, int n)
{
    rng_t r;
    rng_seed(&r, m->drop_key);
    const double rate = m->cfg.dropout;
    const float keep = 1.0f / (1.0f - m->cfg.dropout);
    const long D = m->A->drop_size;
    long next = 0;   /* the next global row of the stream */
    for (int i = 0; i < n; i++) {
        for (long g = shard_row(m, i); next < g; next++)
            for (long k = 0; k < D; k++)
                (void)rng_uniform(&r);
        next++;
        for (long k = (long)i * D; k < (long)(i + 1) * D; k++) {
            float s = rng_uniform(&r) < rate ? 0.0f : keep;
            m->A->dmask[k] = s;
            m->A->drop[k] = in[k] * s;
        }
    }
}

void dropout_backward(const drmm *m, float *d, int n)
{
    if (!m->A->drop_on)
        return;
    for (long k = 0; k < (long)n * m->A->drop_size; k++)
        d[k] *= m->A->dmask[k];
}

/* Logits, q, log q and the predicted class of rows [i0, i1) from the last
 * block's pooled output (or its dropped copy). */
static void class_scores(drmm *m, int i0, int i1)
{
    const int K = m->K, n = i1 - i0;
    const float *feat = dense_input(m) + (long)i0 * m->F;
    float *logits = m->A->logits + (long)i0 * K;
    if (m->a.dense) {
        const float *W = m->par.params + m->par.dense_w_off, *bias = m->par.params + m->par.dense_b_off;
        for (int i = 0; i < n; i++)
            memcpy(logits + (long)i * K, bias, sizeof(float) * K);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, K, m->F, 1.0f, feat, m->F, W, m->F,
                    1.0f, logits, K);
    } else {
        memcpy(logits, feat, sizeof(float) * n * K);
    }
    softmax_forward(n, K, logits, m->A->q + (long)i0 * K);
    for (int i = i0; i < i1; i++) {
        const float *z = m->A->logits + (long)i * m->K;
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
            m->A->logq[(long)i * m->K + c] = z[c] - lse;
        m->A->pred[i] = arg;
    }
}

void bottom_up(drmm *m, const float *x, int n)
{
    job j = {.m = m, .n = n};
    for (int l = 0; l < m->nb; l++) {
        j.l = l;
        if (m->A->drop_on && !m->a.dense && l == m->nb - 1)
            dropout_forward(m, m->b[l - 1].acts->pooled, n);
        j.in = block_input(m, l, x);
        block_conv_prepare(m, &m->b[l].wf, m->par.params + m->b[l].w_off, 0);
        tpool_for(m->pool, n, job_conv_forward, &j);
        const arch_block *ab = m->b[l].ab;
        if (m->A->dist && ab->bn && m->A->train)
            shard_bn_stats(m, m->b[l].acts->act, n, m->A->n_all, ab->g.cout, ab->g.ho * ab->g.wo,
                           m->b[l].acts->mean, m->b[l].acts->var);
        tpool_for(m->pool, ab->g.cout, job_post_conv, &j);
    }
    if (m->A->drop_on && m->a.dense)
        dropout_forward(m, m->b[m->nb - 1].acts->pooled, n);
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
        const float *xl = l == 0 ? x : m->b[l - 1].acts->pooled;
        const float *scale = ab->bn ? b->acts->bn_scale : NULL, *shift = ab->bn ? b->acts->bn_shift : NULL;
        for (int i = g0; i < g1;) {
            int S = block_conv_samples(m, b, g1 - i);
            /* one sample: the conv writes its activations in place */
            float *y = S == 1 ? b->acts->act + i * out : m->scr.ycol[tid];
            block_conv(m, b, S, xl + i * in, m->par.params + b->w_off, 1, y, m->scr.col[tid]);
            for (int s = 0; s < S; s++)
                postconv_eval(g->cout, g->ho, g->wo, S * hw, y + s * hw, scale, shift, ab->relu, ab->pool,
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

/* ---- the training batch ---- */

/* x itself, or (in_norm) x standardised into m->A->xs (which holds n rows). */
const float *standardise(drmm *m, const float *x, int n)
{
    if (m->par.in_mean_off < 0)
        return x;
    const int C = m->a.channels, hw = m->a.height * m->a.width;
    for (int i = 0; i < n; i++)
        for (int c = 0; c < C; c++) {
            const float mu = m->par.stats[m->par.in_mean_off + c], inv = 1.0f / m->par.stats[m->par.in_std_off + c];
            const long off = ((long)i * C + c) * hw;
            for (int k = 0; k < hw; k++)
                m->A->xs[off + k] = (x[off + k] - mu) * inv;
        }
    return m->A->xs;
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

int check_batch(drmm *m, const float *x, const int *labels, int n_lab, int n, err_t *e)
{
    if (!x || n < 1 || n_lab < 0 || n_lab > n || (n_lab > 0 && !labels))
        return err_set(e, "invalid batch: %d rows, %d labelled", n, n_lab);
    for (int i = 0; i < n_lab; i++)
        if (labels[i] < 0 || labels[i] >= m->K)
            return err_set(e, "label %d of batch row %d out of range 0..%d", labels[i], i, m->K - 1);
    return 0;
}


static int predict(drmm *m, const float *x, int n, float *probs, err_t *e)
{
    if (check_batch(m, x, NULL, 0, n, e))
        return -1;
    m->A->train = 0;
    m->A->drop_on = 0;
    m->A->dist = 0;
    m->A->n = m->A->n_all = n;
    m->A->n_lab = m->A->n_lab_all = 0;
    m->A->have_td = 0;
    for (int l = 0; l < m->nb; l++) {
        block *b = &m->b[l];
        if (b->ab->bn)
            bn_eval_affine(b->ab->g.cout, m->par.params + b->gamma_off, m->par.params + b->beta_off,
                           m->par.stats + b->rmean_off, m->par.stats + b->rvar_off, m->cfg.bn_eps, b->acts->bn_scale,
                           b->acts->bn_shift);
        block_conv_prepare(m, &b->wf, m->par.params + b->w_off, 0);
    }
    int G = 1;
    for (int l = 0; l < m->nb; l++) {
        int S = block_conv_samples(m, &m->b[l], n);
        G = S > G ? S : G;
    }
    predict_job j = {.m = m, .x = standardise(m, x, n), .n = n, .G = G};
    atomic_init(&j.next, 0);
    tpool_for(m->pool, m->threads, job_predict, &j);   /* one item per thread */
    if (probs)
        memcpy(probs, m->A->q, sizeof(float) * n * m->K);
    return 0;
}

int drmm_predict(drmm *m, drmm_acts *A, const float *x, int n, float *probs, err_t *e)
{
    PASS(n, predict(m, x, n, probs, e));
}
