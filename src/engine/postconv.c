/* Evaluation-mode BN + ReLU + pooling in one pass (see postconv.h). */
#include "postconv.h"

#include <math.h>
#include <string.h>

#include "pool.h"

void bn_eval_affine(int C, const float *gamma, const float *beta, const float *run_mean,
                    const float *run_var, float eps, float *scale, float *shift)
{
    for (int c = 0; c < C; c++) {
        /* the expressions of bn_forward_eval */
        float istd = 1.0f / sqrtf(run_var[c] + eps), g = gamma[c];
        scale[c] = g * istd;
        shift[c] = beta[c] - g * istd * run_mean[c];
    }
}

void postconv_eval(int C, int h, int w, long ystride, const float *y, const float *scale, const float *shift, int relu,
                   pool_kind pool, float *act, float *pooled)
{
    const int hw = h * w, ho = h / 2, wo = w / 2;
    for (int c = 0; c < C; c++) {
        const float *src = y + c * ystride;
        float *dst = act + (long)c * hw;
        if (scale) {
            const float a = scale[c], b = shift[c];
            if (relu)
                for (int k = 0; k < hw; k++) {
                    float v = a * src[k] + b;
                    dst[k] = v > 0.0f ? v : 0.0f;
                }
            else
                for (int k = 0; k < hw; k++)
                    dst[k] = a * src[k] + b;
        } else if (relu) {
            for (int k = 0; k < hw; k++)
                dst[k] = src[k] > 0.0f ? src[k] : 0.0f;
        } else if (dst != src) {
            for (int k = 0; k < hw; k++)
                dst[k] = src[k];
        }
        if (pool == POOL_MAX) {
            float *out = pooled + (long)c * ho * wo;
            for (int oy = 0; oy < ho; oy++) {
                const float *r0 = dst + (long)(2 * oy) * w, *r1 = r0 + w;
                for (int ox = 0; ox < wo; ox++) {
                    /* as maxpool2_forward: first maximum in scan order */
                    float p = r0[2 * ox], q = r0[2 * ox + 1], r = r1[2 * ox], s = r1[2 * ox + 1];
                    float pq = q > p ? q : p, rs = s > r ? s : r;
                    out[oy * wo + ox] = rs > pq ? rs : pq;
                }
            }
        } else if (pool == POOL_MEAN) {
            double s = 0;
            for (int k = 0; k < hw; k++)
                s += dst[k];
            pooled[c] = (float)(s / hw);
        }
    }
}

void postconv_train_plane(int h, int w, int bn, float m, float istd, float g, float b, int relu, pool_kind pool, float *y,
                          float *xhat, uint8_t *a, uint8_t *t, float *pooled)
{
    const int hw = h * w;
    if (bn)
        for (int k = 0; k < hw; k++) {
            float xh = (y[k] - m) * istd, v = g * xh + b;
            xhat[k] = xh;
            if (relu) {
                a[k] = v > 0.0f;
                v = v > 0.0f ? v : 0.0f;
            }
            y[k] = v;
        }
    else if (relu)
        for (int k = 0; k < hw; k++) {
            float v = y[k];
            a[k] = v > 0.0f;
            y[k] = v > 0.0f ? v : 0.0f;
        }
    if (!relu)
        memset(a, 1, hw);
    if (pool == POOL_MAX)
        maxpool2_forward_mask(h, w, y, pooled, t, a);
    else if (pool == POOL_MEAN)
        meanpool_forward(0, 1, hw, y, pooled);
}
