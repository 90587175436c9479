/* ReLU and softmax, forward and backward (see activation.h). */
#include "activation.h"

#include <math.h>

void relu_forward(long i0, long i1, const float *in, float *out, uint8_t *mask)
{
    for (long i = i0; i < i1; i++) {
        uint8_t on = in[i] > 0.0f;
        mask[i] = on;
        out[i] = on ? in[i] : 0.0f;
    }
}

void relu_backward(long i0, long i1, const float *dout, const uint8_t *mask, float *din)
{
    for (long i = i0; i < i1; i++)
        din[i] = mask[i] ? dout[i] : 0.0f;
}

void relu_inplace(long n, float *x, uint8_t *mask)
{
    for (long i = 0; i < n; i++) {
        float v = x[i];
        mask[i] = v > 0.0f;
        x[i] = v > 0.0f ? v : 0.0f;
    }
}

void relu_backward_inplace(long n, const uint8_t *mask, float *d)
{
    for (long i = 0; i < n; i++)
        d[i] = d[i] * (float)mask[i];
}

void softmax_forward(int n, int k, const float *logits, float *q)
{
    for (int i = 0; i < n; i++) {
        const float *z = logits + (long)i * k;
        float *p = q + (long)i * k;
        float mx = z[0];
        for (int c = 1; c < k; c++)
            if (z[c] > mx)
                mx = z[c];
        double s = 0;
        for (int c = 0; c < k; c++)
            s += exp((double)z[c] - mx);
        for (int c = 0; c < k; c++)
            p[c] = (float)(exp((double)z[c] - mx) / s);
    }
}

void softmax_backward_add(int n, int k, const float *q, const float *dq, float *dlogits)
{
    for (int i = 0; i < n; i++) {
        const float *p = q + (long)i * k, *g = dq + (long)i * k;
        double dot = 0;
        for (int c = 0; c < k; c++)
            dot += (double)p[c] * g[c];
        for (int c = 0; c < k; c++)
            dlogits[(long)i * k + c] += (float)(p[c] * (g[c] - dot));
    }
}
