/* 8-bit affine quantisation of activation vectors (see quant.h). */
#include "quant.h"

#include <math.h>
#include <string.h>

void quant_encode(const float *v, int d, uint8_t *q, float *lo, float *step)
{
    float mn = v[0], mx = v[0];
    for (int j = 1; j < d; j++) {
        if (v[j] < mn) mn = v[j];
        if (v[j] > mx) mx = v[j];
    }
    float st = (mx - mn) / 255.0f;
    *lo = mn;
    *step = st;
    if (!(st > 0)) {
        memset(q, 0, d);
        *step = 0;
        return;
    }
    float inv = 1.0f / st;
    for (int j = 0; j < d; j++) {
        long r = lrintf((v[j] - mn) * inv);
        q[j] = (uint8_t)(r < 0 ? 0 : r > 255 ? 255 : r);
    }
}

void quant_decode(const uint8_t *q, int d, float lo, float step, float *v)
{
    for (int j = 0; j < d; j++)
        v[j] = lo + step * q[j];
}
