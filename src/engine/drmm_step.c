/* The batch step (drmm_train_batch) and the passes built on it: BN
 * re-estimation, amplitude calibration, the switch hash and the last
 * rendering.  A training step, in llm.c's order:
 *   forward   standardise, bottom_up (drmm_forward.c), top_down on the
 *             unsupervised rows (drmm_render.c), losses_forward (drmm_loss.c)
 *   stats     the BN running averages (DRMM_UPDATE_STATS)
 *   zero      grads_zero: the one zeroing of the gradient buffers
 *   backward  backward_render, losses_backward_logits, backward_bottom_up
 *             (drmm_backward.c, drmm_loss.c) */
#include "drmm_internal.h"

#include <math.h>
#include <string.h>

#include "bn.h"
#include "error.h"

void drmm_set_unsup_scale(drmm *m, float s) { m->unsup_scale = s; }

/* The BN running averages from the batch statistics of the last pass: the
 * bottom-up BN over every row, the top-down BN over the rendered rows. */
static void update_running_stats(drmm *m, const drmm_config *cfg)
{
    const int n = m->A->n_all, nu = m->A->nu_all;   /* the whole batch's rows */
    for (int l = 0; l < m->nb; l++) {
        block *b = &m->b[l];
        if (b->ab->bn)
            bn_update_running(b->ab->g.cout, (long)n * b->ab->g.ho * b->ab->g.wo, cfg->bn_momentum,
                              b->acts->mean, b->acts->var, m->par.stats + b->rmean_off, m->par.stats + b->rvar_off);
        if (b->tdg_off >= 0 && m->A->have_td)
            bn_update_running(b->ab->g.cin, (long)nu * b->ab->g.h * b->ab->g.w, cfg->bn_momentum,
                              b->acts->td_mean, b->acts->td_var, m->par.stats + b->tdrm_off, m->par.stats + b->tdrv_off);
    }
}

/* drmm_train_batch, with dropout (cfg.dropout > 0) or without. */
static int train_batch(drmm *m, const float *x, const int *labels, int n_lab, int n, int flags, int dropout,
                       drmm_losses *out, err_t *e)
{
    if (check_batch(m, x, labels, n_lab, n, e))
        return -1;
    x = standardise(m, x, n);
    /* the warm-up scales the unsupervised weights of this batch */
    drmm_config cfg = m->cfg;
    cfg.a_rc *= m->unsup_scale;
    cfg.a_kl *= m->unsup_scale;
    cfg.a_nn *= m->unsup_scale;
    cfg.a_rcl *= m->unsup_scale;
    cfg.a_mm *= m->unsup_scale;
    m->A->n = n;
    m->A->n_lab = n_lab;
    m->A->u0 = cfg.unsup_both ? 0 : n_lab;
    m->A->train = 1;
    m->A->drop_on = dropout && cfg.dropout > 0;
    /* a data-parallel share: the whole batch's row counts */
    m->A->dist = m->shard.sum != NULL;
    double rows[2] = {n, n_lab};
    shard_sum(m, rows, 2);
    m->A->n_all = (int)rows[0];
    m->A->n_lab_all = (int)rows[1];
    m->A->nu_all = m->A->n_all - (cfg.unsup_both ? 0 : m->A->n_lab_all);
    m->A->have_td = m->A->nu_all > 0;

    bottom_up(m, x, n);
    double nn[ARCH_MAX_BLOCKS] = {0};
    if (m->A->have_td)
        top_down(m, labels, 0, nn);
    drmm_losses L;
    losses_forward(m, x, labels, &cfg, nn, &L);
    if (out)
        *out = L;
    if (!isfinite(L.total))
        return err_set(e, "non-finite loss (LH=%g LRC=%g LKL=%g LNN=%g LRCL=%g LMM=%g): lower the learning rate or "
                       "enable gradient clipping", L.lh, L.lrc, L.lkl, L.lnn, L.lrcl, L.lmm);
    if (flags & DRMM_UPDATE_STATS)
        update_running_stats(m, &cfg);
    if (!(flags & DRMM_BACKWARD))
        return 0;

    grads_zero(m);
    /* LRC, LNN, LRCL and LMM reach the parameters through the top-down pass */
    int td_grad = m->A->have_td && (cfg.a_rc != 0 || cfg.a_nn != 0 || cfg.a_rcl != 0 || cfg.a_mm != 0);
    if (td_grad)
        backward_render(m, x, &cfg);
    losses_backward_logits(m, labels, &cfg);
    backward_bottom_up(m, x, td_grad);
    shard_sum_grads(m);
    return 0;
}

int drmm_train_batch(drmm *m, drmm_acts *A, const float *x, const int *labels, int n_lab, int n, int flags,
                     drmm_losses *out, err_t *e)
{
    PASS(n, train_batch(m, x, labels, n_lab, n, flags, 1, out, e));
}

static int bn_recalibrate(drmm *m, const float *x, int n, int batch)
{
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
    m->A->train = 1;
    m->A->drop_on = 0;
    m->A->dist = 0;   /* local, even for a data-parallel share */
    for (int s = 0; s < n; s += batch) {
        int rows = s + batch <= n ? batch : n - s;
        if (rows < 2)
            break;   /* a 1-image tail has no variance */
        m->A->n = m->A->n_all = m->A->nu_all = rows;
        m->A->n_lab = m->A->n_lab_all = 0;
        bottom_up(m, standardise(m, x + (long)s * m->P, rows), rows);
        if (td_bn) {
            m->A->u0 = 0;
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
    m->A->have_td = 0;
    return 0;
}

int drmm_bn_recalibrate(drmm *m, const float *x, int n, int batch, err_t *e)
{
    if (n < 1 || batch < 2)
        return err_set(e, "BN re-estimation needs images and a batch of at least 2 (got %d, %d)", n, batch);
    if (batch > n)
        batch = n;
    drmm_acts *A;   /* the caller reads nothing back: the activations of this call only */
    if (drmm_acts_create(m, batch, &A, e))
        return -1;
    if (acts_bind(m, A, batch, e)) {
        drmm_acts_free(A);
        return -1;
    }
    bn_recalibrate(m, x, n, batch);
    acts_unbind(m);
    drmm_acts_free(A);
    return 0;
}

static int calibrate_amplitude(drmm *m, const float *x, const int *labels, int n_lab, int n, err_t *e)
{
    if (m->par.amp_off < 0 && m->par.tmpl_off < 0)
        return 0;
    drmm_losses L;
    if (train_batch(m, x, labels, n_lab, n, 0, 0, &L, e))   /* without dropout */
        return -1;
    if (!m->A->have_td)
        return err_set(e, "amplitude calibration needs unlabelled rows in the batch");
    double ih2 = 0;
    for (long k = (long)m->A->u0 * m->P; k < (long)n * m->P; k++)
        ih2 += (double)m->b[0].acts->sin[k] * m->b[0].acts->sin[k];
    shard_sum(m, &ih2, 1);
    ih2 /= (double)m->A->nu_all * m->P;
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

int drmm_calibrate_amplitude(drmm *m, drmm_acts *A, const float *x, const int *labels, int n_lab, int n,
                             err_t *e)
{
    PASS(n, calibrate_amplitude(m, x, labels, n_lab, n, e));
}

uint64_t drmm_acts_switch_hash(const drmm_acts *A)
{
    const drmm *m = A->m;
    uint64_t h = 1469598103934665603ULL;
#define MIX(byte) (h = (h ^ (uint8_t)(byte)) * 1099511628211ULL)
    /* the switches follow from the activations (after ReLU, before pooling):
       a-hat = act > 0, t-hat = the first maximum of each 2x2 window */
    for (int l = 0; l < m->nb; l++) {
        const block *b = &m->b[l];
        const arch_block *ab = b->ab;
        const int w = ab->g.wo;
        const long cnt = block_out(b) * A->n;
        if (ab->pool != POOL_MAX) {
            for (long k = 0; k < cnt; k++)
                MIX(ab->relu ? A->layer[l].act[k] > 0.0f : 1);
            continue;
        }
        for (long k = 0; k < cnt; k += 2L * w)   /* two rows of windows */
            for (int x = 0; x < w; x += 2) {
                const float *r0 = A->layer[l].act + k + x, *r1 = r0 + w;
                float p = r0[0], q = r0[1], r = r1[0], s = r1[1];
                float pq = q > p ? q : p, rs = s > r ? s : r;
                int win = rs > pq ? (s > r ? 3 : 2) : (q > p ? 1 : 0);
                if (ab->relu && !((win == 0 ? p : win == 1 ? q : win == 2 ? r : s) > 0.0f))
                    win = 4;   /* the winner is switched off by its ReLU */
                MIX(win);
            }
    }
    for (int i = 0; i < A->n; i++)
        MIX(A->pred[i]);
#undef MIX
    return h;
}
