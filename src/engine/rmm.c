/* The shallow Rendering Mixture Model and its EM (see rmm.h). */
#include "rmm.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "rng.h"

int rmm_patch_count(int H, int W, int P, int S)
{
    if (P < 1 || S < 1 || P > H || P > W)
        return -1;
    return ((H - P) / S + 1) * ((W - P) / S + 1);
}

void rmm_patches(const float *x, int n, int C, int H, int W, int P, int S, double *out)
{
    for (int i = 0; i < n; i++)
        for (int y = 0; y + P <= H; y += S)
            for (int x0 = 0; x0 + P <= W; x0 += S)
                for (int c = 0; c < C; c++)
                    for (int dy = 0; dy < P; dy++) {
                        const float *row = x + (((long)i * C + c) * H + y + dy) * W + x0;
                        for (int dx = 0; dx < P; dx++)
                            *out++ = row[dx];
                    }
}

int rmm_init(rmm *m, const double *x, long N, int D, int K, uint64_t seed, err_t *e)
{
    memset(m, 0, sizeof *m);
    if (K < 1 || D < 1 || N < K)
        return err_input(e, "the mixture needs at least as many patches as templates (%ld patches, %d templates): "
                         "use more images or fewer templates", N, K);
    m->K = K, m->D = D;
    m->mu = malloc(sizeof(double) * (size_t)K * D);
    m->log_pi = malloc(sizeof(double) * K);
    int *pick = malloc(sizeof(int) * (size_t)N);
    if (!m->mu || !m->log_pi || !pick) {
        free(pick);
        rmm_free(m);
        return err_set(e, "out of memory for %d templates of %d pixels", K, D);
    }
    rng_t r;
    rng_seed(&r, seed);
    for (long i = 0; i < N; i++)
        pick[i] = (int)i;
    rng_shuffle(&r, pick, (int)N);
    double sum = 0, sum2 = 0;
    for (long i = 0; i < N * D; i++)
        sum += x[i], sum2 += x[i] * x[i];
    for (int k = 0; k < K; k++) {
        memcpy(m->mu + (size_t)k * D, x + (size_t)pick[k] * D, sizeof(double) * D);
        m->log_pi[k] = -log((double)K);
    }
    free(pick);
    double mean = sum / ((double)N * D), var = sum2 / ((double)N * D) - mean * mean;
    m->sigma2 = var > RMM_SIGMA2_MIN ? var : RMM_SIGMA2_MIN;
    return 0;
}

void rmm_free(rmm *m)
{
    free(m->mu);
    free(m->log_pi);
    m->mu = m->log_pi = NULL;
}

void rmm_layer(const rmm *m, double *w, double *b)
{
    for (int k = 0; k < m->K; k++) {
        const double *mu = m->mu + (size_t)k * m->D;
        double n2 = 0;
        for (int d = 0; d < m->D; d++) {
            w[(size_t)k * m->D + d] = mu[d] / m->sigma2;
            n2 += mu[d] * mu[d];
        }
        b[k] = m->log_pi[k] - n2 / (2 * m->sigma2);
    }
}

/* Row-wise softmax of a (N x K) in place; returns sum_n logsumexp_n. */
static double softmax_rows(double *a, long N, int K)
{
    double total = 0;
    for (long n = 0; n < N; n++) {
        double *r = a + (size_t)n * K, mx = -INFINITY, s = 0;
        for (int k = 0; k < K; k++)
            mx = r[k] > mx ? r[k] : mx;
        for (int k = 0; k < K; k++)
            s += r[k] = exp(r[k] - mx);
        for (int k = 0; k < K; k++)
            r[k] /= s;
        total += mx + log(s);
    }
    return total;
}

static double norm2(const double *v, int D)
{
    double s = 0;
    for (int d = 0; d < D; d++)
        s += v[d] * v[d];
    return s;
}

int rmm_estep(const rmm *m, const double *x, long N, double *gamma, double *loglik, err_t *e)
{
    const int K = m->K, D = m->D;
    double *w = malloc(sizeof(double) * ((size_t)K * D + K));
    if (!w)
        return err_set(e, "out of memory for the E-step's layer");
    double *b = w + (size_t)K * D;
    rmm_layer(m, w, b);
    /* the layer: gamma = softmax(x W^T + b) */
    for (long n = 0; n < N; n++)
        memcpy(gamma + (size_t)n * K, b, sizeof(double) * K);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)N, K, D, 1.0, x, D, w, D, 1.0, gamma, K);
    free(w);
    double ll = softmax_rows(gamma, N, K), x2 = 0;
    for (long n = 0; n < N; n++)
        x2 += norm2(x + (size_t)n * D, D);
    ll += -x2 / (2 * m->sigma2) - 0.5 * (double)N * D * log(2 * M_PI * m->sigma2);
    *loglik = ll / (double)N;
    return 0;
}

double rmm_posterior_direct(const rmm *m, const double *x, long N, double *gamma)
{
    const int K = m->K, D = m->D;
    const double c = -0.5 * D * log(2 * M_PI * m->sigma2);
    for (long n = 0; n < N; n++)
        for (int k = 0; k < K; k++) {
            const double *xn = x + (size_t)n * D, *mu = m->mu + (size_t)k * D;
            double d2 = 0;
            for (int d = 0; d < D; d++)
                d2 += (xn[d] - mu[d]) * (xn[d] - mu[d]);
            gamma[(size_t)n * K + k] = m->log_pi[k] + c - d2 / (2 * m->sigma2);
        }
    return softmax_rows(gamma, N, K) / (double)N;
}

int rmm_mstep(rmm *m, const double *x, long N, const double *gamma, err_t *e)
{
    const int K = m->K, D = m->D;
    double *sum = malloc(sizeof(double) * (size_t)K * D);
    if (!sum)
        return err_set(e, "out of memory for the M-step");
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, K, D, (int)N, 1.0, gamma, K, x, D, 0.0, sum, D);
    double x2 = 0, fit = 0;
    for (long n = 0; n < N; n++)
        x2 += norm2(x + (size_t)n * D, D);
    for (int k = 0; k < K; k++) {
        double Nk = 0;
        for (long n = 0; n < N; n++)
            Nk += gamma[(size_t)n * K + k];
        m->log_pi[k] = Nk > 0 ? log(Nk / (double)N) : -INFINITY;
        if (Nk > 0) {
            double *mu = m->mu + (size_t)k * D;
            for (int d = 0; d < D; d++)
                mu[d] = sum[(size_t)k * D + d] / Nk;
            fit += Nk * norm2(mu, D);   /* sum_n gamma_nk x_n . mu_k = N_k |mu_k|^2 at the new mean */
        }
    }
    free(sum);
    double s2 = (x2 - fit) / ((double)N * D);
    m->sigma2 = s2 > RMM_SIGMA2_MIN ? s2 : RMM_SIGMA2_MIN;
    return 0;
}

int rmm_em_step(rmm *m, const double *x, long N, double *gamma, double *loglik, err_t *e)
{
    return rmm_estep(m, x, N, gamma, loglik, e) || rmm_mstep(m, x, N, gamma, e) ? -1 : 0;
}

int rmm_reconstruct(const rmm *m, const double *gamma, int n, int C, int H, int W, int P, int S, float *out, err_t *e)
{
    const int K = m->K;
    if (rmm_patch_count(H, W, P, S) < 0 || C * P * P != m->D)
        return err_input(e, "patches of %dx%d at stride %d do not fit %dx%dx%d images of a %d-pixel mixture", P, P, S, C, H,
                         W, m->D);
    float *cnt = calloc((size_t)H * W, sizeof(float));
    if (!cnt)
        return err_set(e, "out of memory");
    for (int y = 0; y + P <= H; y += S)
        for (int x0 = 0; x0 + P <= W; x0 += S)
            for (int dy = 0; dy < P; dy++)
                for (int dx = 0; dx < P; dx++)
                    cnt[(y + dy) * W + x0 + dx] += 1;
    memset(out, 0, sizeof(float) * (size_t)n * C * H * W);
    long p = 0;
    for (int i = 0; i < n; i++)
        for (int y = 0; y + P <= H; y += S)
            for (int x0 = 0; x0 + P <= W; x0 += S, p++) {
                const double *g = gamma + (size_t)p * K;
                int best = 0;
                for (int k = 1; k < K; k++)
                    if (g[k] > g[best])
                        best = k;
                const double *mu = m->mu + (size_t)best * m->D;
                for (int c = 0; c < C; c++)
                    for (int dy = 0; dy < P; dy++)
                        for (int dx = 0; dx < P; dx++)
                            out[(((size_t)i * C + c) * H + y + dy) * W + x0 + dx] += (float)*mu++;
            }
    for (int i = 0; i < n * C; i++)
        for (int k = 0; k < H * W; k++)
            if (cnt[k] > 0)
                out[(size_t)i * H * W + k] /= cnt[k];
    free(cnt);
    return 0;
}
