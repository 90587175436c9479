/* Max-pool with switches, global mean-pool and nearest-neighbour upsampling
 * (see pool.h). */
#include "pool.h"

#include <string.h>

void maxpool2_forward(int p0, int p1, int h, int w, const float *in, float *out, uint8_t *sw)
{
    const int ho = h / 2, wo = w / 2;
    for (int p = p0; p < p1; p++) {
        const float *x = in + (long)p * h * w;
        uint8_t *s = sw + (long)p * h * w;
        float *y = out + (long)p * ho * wo;
        for (int oy = 0; oy < ho; oy++) {
            const float *r0 = x + (long)(2 * oy) * w, *r1 = r0 + w;
            uint8_t *s0 = s + (long)(2 * oy) * w, *s1 = s0 + w;
            for (int ox = 0; ox < wo; ox++) {
                /* first maximum in scan order: a, b, c, d */
                float a = r0[2 * ox], b = r0[2 * ox + 1], c = r1[2 * ox], d = r1[2 * ox + 1];
                float ab = b > a ? b : a, cd = d > c ? d : c;
                int top = !(cd > ab);
                float m = top ? ab : cd;
                int wa = top && !(b > a), wb = top && (b > a);
                int wc = !top && !(d > c), wd = !top && (d > c);
                s0[2 * ox] = (uint8_t)wa;
                s0[2 * ox + 1] = (uint8_t)wb;
                s1[2 * ox] = (uint8_t)wc;
                s1[2 * ox + 1] = (uint8_t)wd;
                y[oy * wo + ox] = m;
            }
        }
    }
}

void maxpool2_backward(int p0, int p1, int h, int w, const float *dout, const uint8_t *sw, float *din)
{
    const int wo = w / 2;
    for (int p = p0; p < p1; p++) {
        const uint8_t *s = sw + (long)p * h * w;
        const float *g = dout + (long)p * (h / 2) * wo;
        float *d = din + (long)p * h * w;
        for (int y = 0; y < h; y++) {
            const float *gy = g + (y / 2) * wo;
            const uint8_t *sy = s + y * w;
            float *dy = d + y * w;
            for (int x = 0; x < wo; x++) {
                float v = gy[x];
                dy[2 * x] = sy[2 * x] ? v : 0.0f;
                dy[2 * x + 1] = sy[2 * x + 1] ? v : 0.0f;
            }
        }
    }
}

void meanpool_forward(int p0, int p1, int hw, const float *in, float *out)
{
    for (int p = p0; p < p1; p++) {
        const float *x = in + (long)p * hw;
        double s = 0;
        for (int i = 0; i < hw; i++)
            s += x[i];
        out[p] = (float)(s / hw);
    }
}

void meanpool_backward(int p0, int p1, int hw, const float *dout, float *din)
{
    broadcast_forward(p0, p1, hw, 1.0f / hw, dout, din);
}

void upsample2_forward(int p0, int p1, int h, int w, float s, const float *in, float *out)
{
    const int W = 2 * w;
    for (int p = p0; p < p1; p++) {
        const float *x = in + (long)p * h * w;
        float *y = out + (long)p * 4 * h * w;
        for (int i = 0; i < 2 * h; i++)
            for (int j = 0; j < W; j++)
                y[i * W + j] = s * x[(i / 2) * w + j / 2];
    }
}

void upsample2_backward(int p0, int p1, int h, int w, float s, const float *dout, float *din)
{
    const int W = 2 * w;
    for (int p = p0; p < p1; p++) {
        const float *g = dout + (long)p * 4 * h * w;
        float *d = din + (long)p * h * w;
        for (int i = 0; i < h; i++)
            for (int j = 0; j < w; j++) {
                const float *r0 = g + (2 * i) * W + 2 * j, *r1 = r0 + W;
                d[i * w + j] = s * (r0[0] + r0[1] + r1[0] + r1[1]);
            }
    }
}

void broadcast_forward(int p0, int p1, int hw, float s, const float *in, float *out)
{
    for (int p = p0; p < p1; p++) {
        float v = s * in[p];
        float *y = out + (long)p * hw;
        for (int i = 0; i < hw; i++)
            y[i] = v;
    }
}

void broadcast_backward(int p0, int p1, int hw, float s, const float *dout, float *din)
{
    for (int p = p0; p < p1; p++) {
        const float *g = dout + (long)p * hw;
        double t = 0;
        for (int i = 0; i < hw; i++)
            t += g[i];
        din[p] = (float)(s * t);
    }
}
