/* Batch normalisation forward and backward (see bn.h). */
#include "bn.h"

#include <math.h>

void bn_forward_train(int n, int C, int hw, int c0, int c1, const float *in,
                      const float *gamma, const float *beta, float eps,
                      float *out, float *xhat, float *mean, float *var)
{
    const double M = (double)n * hw;
    for (int c = c0; c < c1; c++) {
        double s = 0, s2 = 0;
        for (int i = 0; i < n; i++) {
            const float *p = in + ((long)i * C + c) * hw;
            for (int j = 0; j < hw; j++)
                s += p[j];
        }
        double mu = s / M;
        for (int i = 0; i < n; i++) {
            const float *p = in + ((long)i * C + c) * hw;
            for (int j = 0; j < hw; j++) {
                double d = p[j] - mu;
                s2 += d * d;
            }
        }
        double v = s2 / M;
        mean[c] = (float)mu;
        var[c] = (float)v;
        float istd = (float)(1.0 / sqrt(v + eps)), g = gamma[c], b = beta[c], m = (float)mu;
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

void bn_backward_train(int n, int C, int hw, int c0, int c1, const float *dout,
                       const float *xhat, const float *gamma, const float *var,
                       float eps, const float *dsigma, float *din, float *dgamma,
                       float *dbeta)
{
    const double M = (double)n * hw;
    for (int c = c0; c < c1; c++) {
        double sd = 0, sdx = 0;
        for (int i = 0; i < n; i++) {
            long off = ((long)i * C + c) * hw;
            for (int j = 0; j < hw; j++) {
                sd += dout[off + j];
                sdx += (double)dout[off + j] * xhat[off + j];
            }
        }
        dgamma[c] += (float)sdx;
        dbeta[c] += (float)sd;
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
