/* Batch normalisation forward and backward (see bn.h). */
#include "bn.h"

#include <math.h>

/* The sums over a channel are kept in double in 8 partial sums (lane j % 8
 * of each plane), added up at the end: the same for any thread count, and
 * a loop the compiler vectorises (one running sum would chain every
 * addition on the one before). */
enum { LANES = 8 };

static double lanes_total(const double *acc)
{
    return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

/* acc[j % 8] += p[j] */
static void add_sum(double *restrict acc, const float *restrict p, int hw)
{
    int j = 0;
    for (; j + LANES <= hw; j += LANES)
        for (int q = 0; q < LANES; q++)
            acc[q] += p[j + q];
    for (; j < hw; j++)
        acc[j % LANES] += p[j];
}

/* acc[j % 8] += (p[j] - mu)^2 */
static void add_sq_dev(double *restrict acc, const float *restrict p, int hw, double mu)
{
    int j = 0;
    for (; j + LANES <= hw; j += LANES)
        for (int q = 0; q < LANES; q++) {
            double d = p[j + q] - mu;
            acc[q] += d * d;
        }
    for (; j < hw; j++) {
        double d = p[j] - mu;
        acc[j % LANES] += d * d;
    }
}

/* a[j % 8] += d[j], b[j % 8] += d[j] * x[j] */
static void add_sum_dot(double *restrict a, double *restrict b, const float *restrict d, const float *restrict x,
                        int hw)
{
    int j = 0;
    for (; j + LANES <= hw; j += LANES)
        for (int q = 0; q < LANES; q++) {
            a[q] += d[j + q];
            b[q] += (double)d[j + q] * x[j + q];
        }
    for (; j < hw; j++) {
        a[j % LANES] += d[j];
        b[j % LANES] += (double)d[j] * x[j];
    }
}

double bn_channel_sum(int n, int C, int hw, int c, const float *in)
{
    double acc[LANES] = {0};
    for (int i = 0; i < n; i++)
        add_sum(acc, in + ((long)i * C + c) * hw, hw);
    return lanes_total(acc);
}

double bn_channel_sq_dev(int n, int C, int hw, int c, const float *in, double mu)
{
    double acc[LANES] = {0};
    for (int i = 0; i < n; i++)
        add_sq_dev(acc, in + ((long)i * C + c) * hw, hw, mu);
    return lanes_total(acc);
}

float bn_channel_stats(int n, int C, int hw, int c, const float *in, float eps, float *mean, float *var)
{
    const double M = (double)n * hw;
    double mu = bn_channel_sum(n, C, hw, c, in) / M;
    double v = bn_channel_sq_dev(n, C, hw, c, in, mu) / M;
    mean[c] = (float)mu;
    var[c] = (float)v;
    return (float)(1.0 / sqrt(v + eps));
}

void bn_forward_train(int n, int C, int hw, int c0, int c1, const float *in,
                      const float *gamma, const float *beta, float eps,
                      float *out, float *xhat, float *mean, float *var)
{
    for (int c = c0; c < c1; c++) {
        float istd = bn_channel_stats(n, C, hw, c, in, eps, mean, var), g = gamma[c], b = beta[c], m = mean[c];
        for (int i = 0; i < n; i++) {
            long off = ((long)i * C + c) * hw;
            for (int j = 0; j < hw; j++) {
                float xh = (in[off + j] - m) * istd;
                xhat[off + j] = xh;
                out[off + j] = g * xh + b;
            }
        }
    }
}

void bn_forward_eval(int n, int C, int hw, int c0, int c1, const float *in,
                     const float *gamma, const float *beta, const float *run_mean,
                     const float *run_var, float eps, float *out, float *xhat)
{
    for (int c = c0; c < c1; c++) {
        float istd = 1.0f / sqrtf(run_var[c] + eps), g = gamma[c], b = beta[c], m = run_mean[c];
        for (int i = 0; i < n; i++) {
            long off = ((long)i * C + c) * hw;
            if (xhat)
                for (int j = 0; j < hw; j++) {
                    float xh = (in[off + j] - m) * istd;
                    xhat[off + j] = xh;
                    out[off + j] = g * xh + b;
                }
            else    /* out = a * in + b' */
                for (int j = 0; j < hw; j++)
                    out[off + j] = (g * istd) * in[off + j] + (b - g * istd * m);
        }
    }
}

void bn_backward_sums(int hw, const float *dout, const float *xhat, bn_sums *s)
{
    add_sum_dot(s->d, s->dx, dout, xhat, hw);
}

void bn_backward_totals(const bn_sums *s, double *sd, double *sdx)
{
    *sd = lanes_total(s->d);
    *sdx = lanes_total(s->dx);
}

void bn_backward_apply(int n, int C, int hw, int c, double M, double sd, double sdx, const float *dout,
                       const float *xhat, const float *gamma, const float *var, float eps, const float *dsigma,
                       float *din)
{
    double sigma = sqrt((double)var[c] + eps);
    float k = (float)(gamma[c] / sigma);
    float md = (float)(sd / M), mdx = (float)(sdx / M);
    /* d sigma / d in_i = xhat_i / M (the mean's term vanishes). */
    float ks = dsigma ? (float)(dsigma[c] / M) : 0.0f;
    for (int i = 0; i < n; i++) {
        long off = ((long)i * C + c) * hw;
        for (int j = 0; j < hw; j++) {
            float xh = xhat[off + j];
            din[off + j] = k * (dout[off + j] - md - xh * mdx) + ks * xh;
        }
    }
}

void bn_backward_channel(int n, int C, int hw, int c, const bn_sums *s, const float *dout, const float *xhat,
                         const float *gamma, const float *var, float eps, const float *dsigma, float *din,
                         float *dgamma, float *dbeta)
{
    double sd, sdx;
    bn_backward_totals(s, &sd, &sdx);
    dgamma[c] += (float)sdx;
    dbeta[c] += (float)sd;
    bn_backward_apply(n, C, hw, c, (double)n * hw, sd, sdx, dout, xhat, gamma, var, eps, dsigma, din);
}

void bn_backward_train(int n, int C, int hw, int c0, int c1, const float *dout,
                       const float *xhat, const float *gamma, const float *var,
                       float eps, const float *dsigma, float *din, float *dgamma,
                       float *dbeta)
{
    for (int c = c0; c < c1; c++) {
        bn_sums s = {{0}, {0}};
        for (int i = 0; i < n; i++) {
            long off = ((long)i * C + c) * hw;
            bn_backward_sums(hw, dout + off, xhat + off, &s);
        }
        bn_backward_channel(n, C, hw, c, &s, dout, xhat, gamma, var, eps, dsigma, din, dgamma, dbeta);
    }
}

void bn_update_running(int C, long count, float momentum, const float *mean,
                       const float *var, float *run_mean, float *run_var)
{
    float unbias = count > 1 ? (float)count / (float)(count - 1) : 1.0f;
    for (int c = 0; c < C; c++) {
        run_mean[c] = momentum * run_mean[c] + (1 - momentum) * mean[c];
        run_var[c] = momentum * run_var[c] + (1 - momentum) * var[c] * unbias;
    }
}
