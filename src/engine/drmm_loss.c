/* The losses of a training batch (drmm.h):
 *   LH   = mean over the labelled rows of -log q[label]
 *   LKL  = sign * mean over rows [u0, n) of sum_c q log(K q)
 *   LRC  = mean over rows [u0, n) and pixels of (I - I-hat)^2
 *   LNN  = sum over blocks of mean over rows [u0, n) of min(0, z)^2
 *   LRCL = sum over blocks l >= 1 of mean (x_l - rendering of x_l)^2
 *   LMM  = sum over blocks l >= 1 of the mean over channels of
 *          KL(N(m_t, v_t) || N(m_b, v_b)) (drmm.h, a_mm)
 * and the gradients of LH and LKL w.r.t. the logits (those of LRC, LNN and
 * LRCL start the top-down backward pass, drmm_backward.c). */
#include "drmm_internal.h"

#include <math.h>
#include <string.h>

/* LH and the training errors of the labelled rows [0, n_lab). */
static void loss_supervised(const drmm *m, const int *labels, drmm_losses *L)
{
    const int K = m->K;
    for (int i = 0; i < m->acts.n_lab; i++) {
        L->lh -= m->acts.logq[(long)i * K + labels[i]];
        L->lab_errors += m->acts.pred[i] != labels[i];
    }
    if (m->acts.n_lab)
        L->lh /= m->acts.n_lab;
}

/* LKL: sign * mean_n sum_c q log(K q), the authors' sign -1. */
static void loss_kl(const drmm *m, const drmm_config *cfg, drmm_losses *L)
{
    const int K = m->K, n = m->acts.n, nu = n - m->acts.u0;
    const double kl_sign = cfg->kl_literal ? 1.0 : -1.0, logK = log((double)K);
    for (int i = m->acts.u0; i < n; i++)
        for (int c = 0; c < K; c++) {
            double q = m->acts.q[(long)i * K + c];
            L->lkl += q * (m->acts.logq[(long)i * K + c] + logK);
        }
    if (nu)
        L->lkl *= kl_sign / nu;
}

/* LRC and mean(I^2) against x, LNN from the top-down pass's per-block sums
 * nn, LRCL: the rendered rows [u0, n). */
static void loss_render(const drmm *m, const float *x, const double *nn, drmm_losses *L)
{
    const int P = m->P, n = m->acts.n, nu = n - m->acts.u0;
    const float *ih = m->b[0].acts->sin;
    double rc = 0, x2 = 0;
    for (long k = (long)m->acts.u0 * P; k < (long)n * P; k++) {
        double d = (double)x[k] - ih[k];
        rc += d * d;
        x2 += (double)x[k] * x[k];
    }
    L->lrc = rc / ((double)nu * P);
    L->x2 = x2 / ((double)nu * P);
    for (int l = 0; l < m->nb; l++)
        L->lnn += nn[l] / ((double)nu * block_out(&m->b[l]));
    for (int l = 1; l < m->nb; l++) {
        const block *b = &m->b[l];
        const float *xl = m->b[l - 1].acts->pooled, *sl = b->acts->sin;
        long in = block_in(b);
        double s2 = 0;
        for (long k = (long)m->acts.u0 * in; k < (long)n * in; k++) {
            double d = (double)xl[k] - sl[k];
            s2 += d * d;
        }
        L->lrcl += s2 / ((double)nu * in);
    }
}

double mm_block(const drmm *m, int l, double *d)
{
    const block *b = &m->b[l];
    const int C = b->ab->g.cin, hw = b->ab->g.h * b->ab->g.w, u0 = m->acts.u0, n = m->acts.n;
    const double eps = m->cfg.bn_eps, cnt = (double)(n - u0) * hw;
    const float *p = m->b[l - 1].acts->pooled;
    double sum = 0;
    for (int c = 0; c < C; c++) {
        double s = 0, s2 = 0;
        for (int i = u0; i < n; i++)
            for (const float *q = p + ((long)i * C + c) * hw, *end = q + hw; q < end; q++)
                s += *q;
        const double mb = s / cnt;
        for (int i = u0; i < n; i++)
            for (const float *q = p + ((long)i * C + c) * hw, *end = q + hw; q < end; q++)
                s2 += (*q - mb) * (*q - mb);
        const double vb = s2 / cnt + eps, vt = b->acts->td_var[c] + eps, dm = b->acts->td_mean[c] - mb;
        sum += 0.5 * (dm * dm / vb + vt / vb - log(vt / vb) - 1.0);
        if (d) {
            d[5 * c] = dm / (vb * C);
            d[5 * c + 1] = 0.5 * (1.0 / vb - 1.0 / vt) / C;
            d[5 * c + 2] = -dm / (vb * C);
            d[5 * c + 3] = 0.5 * (1.0 / vb - (dm * dm + vt) / (vb * vb)) / C;
            d[5 * c + 4] = mb;
        }
    }
    return sum / C;
}

void losses_forward(const drmm *m, const float *x, const int *labels, const drmm_config *cfg, const double *nn,
                    drmm_losses *L)
{
    memset(L, 0, sizeof *L);
    L->n_lab = m->acts.n_lab;
    L->n_unsup = m->acts.n - m->acts.u0;
    loss_supervised(m, labels, L);
    loss_kl(m, cfg, L);
    if (m->acts.have_td)
        loss_render(m, x, nn, L);
    if (m->acts.have_td && m->cfg.a_mm != 0)   /* also while a warm-up scales a_mm to 0 */
        for (int l = 1; l < m->nb; l++)
            L->lmm += mm_block(m, l, NULL);
    L->total = cfg->a_h * L->lh + cfg->a_rc * L->lrc + cfg->a_kl * L->lkl + cfg->a_nn * L->lnn + cfg->a_rcl * L->lrcl +
               cfg->a_mm * L->lmm;
}

void losses_backward_logits(drmm *m, const int *labels, const drmm_config *cfg)
{
    const int K = m->K, n = m->acts.n, n_lab = m->acts.n_lab, nu = n - m->acts.u0;
    const double kl_sign = cfg->kl_literal ? 1.0 : -1.0, logK = log((double)K);
    float *dlogits = m->dacts.dlogits;
    for (int i = 0; i < n_lab; i++)
        for (int c = 0; c < K; c++)
            dlogits[(long)i * K + c] += (float)(cfg->a_h / n_lab * (m->acts.q[(long)i * K + c] - (c == labels[i])));
    if (nu && cfg->a_kl != 0)
        for (int i = m->acts.u0; i < n; i++) {
            const float *q = m->acts.q + (long)i * K, *lq = m->acts.logq + (long)i * K;
            double s = 0;
            for (int c = 0; c < K; c++)
                s += q[c] * (lq[c] + logK);
            for (int c = 0; c < K; c++)
                dlogits[(long)i * K + c] += (float)(kl_sign * cfg->a_kl / nu * q[c] * (lq[c] + logK - s));
        }
}
