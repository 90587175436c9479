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

/* The sums the losses are means of, over this process's rows (a
 * data-parallel share sums them over the group before dividing). */
enum { V_LH, V_ERR, V_KL, V_RC, V_X2, V_NN };   /* then nb values of nn, nb of LRCL */

/* -log q[label] and the training errors of the labelled rows [0, n_lab). */
static void sums_supervised(const drmm *m, const int *labels, double *v)
{
    const int K = m->K;
    for (int i = 0; i < m->A->n_lab; i++) {
        v[V_LH] -= m->A->logq[(long)i * K + labels[i]];
        v[V_ERR] += m->A->pred[i] != labels[i];
    }
}

/* sum over rows [u0, n) of sum_c q log(K q) */
static void sums_kl(const drmm *m, double *v)
{
    const int K = m->K, n = m->A->n;
    const double logK = log((double)K);
    for (int i = m->A->u0; i < n; i++)
        for (int c = 0; c < K; c++) {
            double q = m->A->q[(long)i * K + c];
            v[V_KL] += q * (m->A->logq[(long)i * K + c] + logK);
        }
}

/* LRC's and mean(I^2)'s sums against x, LNN's from the top-down pass's
 * per-block sums nn, LRCL's: the rendered rows [u0, n). */
static void sums_render(const drmm *m, const float *x, const double *nn, double *v)
{
    const int P = m->P, n = m->A->n;
    const float *ih = m->b[0].acts->sin;
    double rc = 0, x2 = 0;
    for (long k = (long)m->A->u0 * P; k < (long)n * P; k++) {
        double d = (double)x[k] - ih[k];
        rc += d * d;
        x2 += (double)x[k] * x[k];
    }
    v[V_RC] = rc;
    v[V_X2] = x2;
    for (int l = 0; l < m->nb; l++)
        v[V_NN + l] = nn[l];
    for (int l = 1; l < m->nb; l++) {
        const block *b = &m->b[l];
        const float *xl = m->b[l - 1].acts->pooled, *sl = b->acts->sin;
        long in = block_in(b);
        double s2 = 0;
        for (long k = (long)m->A->u0 * in; k < (long)n * in; k++) {
            double d = (double)xl[k] - sl[k];
            s2 += d * d;
        }
        v[V_NN + m->nb + l] = s2;
    }
}

double mm_block(const drmm *m, int l, double *d)
{
    const block *b = &m->b[l];
    const int C = b->ab->g.cin, hw = b->ab->g.h * b->ab->g.w, u0 = m->A->u0, n = m->A->n;
    const double eps = m->cfg.bn_eps, cnt = (double)m->A->nu_all * hw;
    const float *p = m->b[l - 1].acts->pooled;
    double *S = m->scr.red, *S2 = m->scr.red + C;   /* per channel: sum, sum of squared deviations */
    for (int c = 0; c < C; c++) {
        double s = 0;
        for (int i = u0; i < n; i++)
            for (const float *q = p + ((long)i * C + c) * hw, *end = q + hw; q < end; q++)
                s += *q;
        S[c] = s;
    }
    shard_sum(m, S, C);
    for (int c = 0; c < C; c++) {
        const double mb = S[c] / cnt;
        double s2 = 0;
        for (int i = u0; i < n; i++)
            for (const float *q = p + ((long)i * C + c) * hw, *end = q + hw; q < end; q++)
                s2 += (*q - mb) * (*q - mb);
        S2[c] = s2;
    }
    shard_sum(m, S2, C);
    double sum = 0;
    for (int c = 0; c < C; c++) {
        const double mb = S[c] / cnt;
        const double vb = S2[c] / cnt + eps, vt = b->acts->td_var[c] + eps, dm = b->acts->td_mean[c] - mb;
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
    const int nb = m->nb, nv = V_NN + 2 * nb;
    double *v = m->scr.red;
    memset(v, 0, sizeof(double) * nv);
    sums_supervised(m, labels, v);
    sums_kl(m, v);
    if (m->A->have_td)
        sums_render(m, x, nn, v);
    shard_sum(m, v, nv);
    const int n_lab = m->A->n_lab_all, nu = m->A->nu_all;
    L->n_lab = n_lab;
    L->n_unsup = nu;
    L->lh = v[V_LH];
    if (n_lab)
        L->lh /= n_lab;
    L->lab_errors = (int)v[V_ERR];
    L->lkl = v[V_KL];
    if (nu)
        L->lkl *= (cfg->kl_literal ? 1.0 : -1.0) / nu;
    if (m->A->have_td) {
        L->lrc = v[V_RC] / ((double)nu * m->P);
        L->x2 = v[V_X2] / ((double)nu * m->P);
        for (int l = 0; l < nb; l++)
            L->lnn += v[V_NN + l] / ((double)nu * block_out(&m->b[l]));
        for (int l = 1; l < nb; l++)
            L->lrcl += v[V_NN + nb + l] / ((double)nu * block_in(&m->b[l]));
    }
    if (m->A->have_td && m->cfg.a_mm != 0)   /* also while a warm-up scales a_mm to 0 */
        for (int l = 1; l < nb; l++)
            L->lmm += mm_block(m, l, NULL);
    L->total = cfg->a_h * L->lh + cfg->a_rc * L->lrc + cfg->a_kl * L->lkl + cfg->a_nn * L->lnn + cfg->a_rcl * L->lrcl +
               cfg->a_mm * L->lmm;
}

void losses_backward_logits(drmm *m, const int *labels, const drmm_config *cfg)
{
    /* means over the whole batch's rows (a data-parallel share's are fewer) */
    const int K = m->K, n = m->A->n, n_lab = m->A->n_lab, nu = m->A->nu_all;
    const int n_lab_all = m->A->n_lab_all;
    const double kl_sign = cfg->kl_literal ? 1.0 : -1.0, logK = log((double)K);
    float *dlogits = m->dacts.dlogits;
    for (int i = 0; i < n_lab; i++)
        for (int c = 0; c < K; c++)
            dlogits[(long)i * K + c] += (float)(cfg->a_h / n_lab_all * (m->A->q[(long)i * K + c] - (c == labels[i])));
    if (nu && cfg->a_kl != 0)
        for (int i = m->A->u0; i < n; i++) {
            const float *q = m->A->q + (long)i * K, *lq = m->A->logq + (long)i * K;
            double s = 0;
            for (int c = 0; c < K; c++)
                s += q[c] * (lq[c] + logK);
            for (int c = 0; c < K; c++)
                dlogits[(long)i * K + c] += (float)(kl_sign * cfg->a_kl / nu * q[c] * (lq[c] + logK - s));
        }
}
