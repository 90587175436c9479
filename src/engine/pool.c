/* Max-pool with switches, global mean-pool and nearest-neighbour upsampling
 * (see pool.h). */
#include "pool.h"

#include <string.h>
#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__BMI2__)
#include <immintrin.h>
#define POOL_AVX512 1
#endif

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

#ifdef POOL_AVX512
/* Lanes [0, n) of 16 and of 32 (n <= 16 windows, 2n columns). */
static __mmask16 lanes16(int n) { return (__mmask16)((1u << n) - 1); }
static __mmask32 lanes32(int n) { return n >= 16 ? 0xffffffffu : (__mmask32)((1u << (2 * n)) - 1); }
/* bit i of lo to bit 2i, of hi to bit 2i+1: a window's two columns */
static __mmask32 interleave(unsigned lo, unsigned hi) { return _pdep_u32(lo, 0x55555555u) | _pdep_u32(hi, 0xaaaaaaaau); }

void maxpool2_forward_mask(int h, int w, const float *in, float *out, uint8_t *sw, uint8_t *a)
{
    const int ho = h / 2, wo = w / 2;
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i odd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
    const __m256i one = _mm256_set1_epi8(1);
    for (int oy = 0; oy < ho; oy++) {
        const float *r0 = in + (long)(2 * oy) * w, *r1 = r0 + w;
        uint8_t *s0 = sw + (long)(2 * oy) * w, *s1 = s0 + w, *a0 = a + (long)(2 * oy) * w, *a1 = a0 + w;
        for (int x = 0; x < wo; x += 16) {
            const int n = wo - x < 16 ? wo - x : 16;
            const __mmask16 l16 = lanes16(n);
            const __mmask32 l32 = lanes32(n);
            __m512 u0 = _mm512_maskz_loadu_ps((__mmask16)l32, r0 + 2 * x), u1 = _mm512_maskz_loadu_ps((__mmask16)(l32 >> 16), r0 + 2 * x + 16);
            __m512 v0 = _mm512_maskz_loadu_ps((__mmask16)l32, r1 + 2 * x), v1 = _mm512_maskz_loadu_ps((__mmask16)(l32 >> 16), r1 + 2 * x + 16);
            __m512 p = _mm512_permutex2var_ps(u0, even, u1), q = _mm512_permutex2var_ps(u0, odd, u1);
            __m512 r = _mm512_permutex2var_ps(v0, even, v1), s = _mm512_permutex2var_ps(v0, odd, v1);
            /* as the scalar code: pq = q > p ? q : p, rs = s > r ? s : r, the top row wins unless rs > pq */
            __mmask16 qp = _mm512_cmp_ps_mask(q, p, _CMP_GT_OQ), sr = _mm512_cmp_ps_mask(s, r, _CMP_GT_OQ);
            __m512 pq = _mm512_mask_blend_ps(qp, p, q), rs = _mm512_mask_blend_ps(sr, r, s);
            __mmask16 bottom = _mm512_cmp_ps_mask(rs, pq, _CMP_GT_OQ);
            _mm512_mask_storeu_ps(out + (long)oy * wo + x, l16, _mm512_mask_blend_ps(bottom, pq, rs));
            unsigned top = (unsigned)(~bottom & l16), bot = (unsigned)(bottom & l16);
            __mmask32 t0 = interleave(top & ~(unsigned)qp, top & qp), t1 = interleave(bot & ~(unsigned)sr, bot & sr);
            _mm256_mask_storeu_epi8(s0 + 2 * x, l32, _mm256_maskz_mov_epi8(t0, one));
            _mm256_mask_storeu_epi8(s1 + 2 * x, l32, _mm256_maskz_mov_epi8(t1, one));
            __m256i b0 = _mm256_maskz_loadu_epi8(l32, a0 + 2 * x), b1 = _mm256_maskz_loadu_epi8(l32, a1 + 2 * x);
            _mm256_mask_storeu_epi8(a0 + 2 * x, l32, _mm256_maskz_mov_epi8(t0 & _mm256_test_epi8_mask(b0, b0), one));
            _mm256_mask_storeu_epi8(a1 + 2 * x, l32, _mm256_maskz_mov_epi8(t1 & _mm256_test_epi8_mask(b1, b1), one));
        }
    }
}

void maxpool2_backward(int p0, int p1, int h, int w, const float *dout, const uint8_t *sw, float *din)
{
    const int wo = w / 2;
    const __m512i lo = _mm512_setr_epi32(0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7);
    const __m512i hi = _mm512_setr_epi32(8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13, 14, 14, 15, 15);
    for (int p = p0; p < p1; p++) {
        const uint8_t *s = sw + (long)p * h * w;
        const float *g = dout + (long)p * (h / 2) * wo;
        float *d = din + (long)p * h * w;
        for (int y = 0; y < h; y++)
            for (int x = 0; x < wo; x += 16) {
                const int n = wo - x < 16 ? wo - x : 16;
                const __mmask32 l32 = lanes32(n);
                __m512 gv = _mm512_maskz_loadu_ps(lanes16(n), g + (long)(y / 2) * wo + x);
                __m256i sb = _mm256_maskz_loadu_epi8(l32, s + (long)y * w + 2 * x);
                __mmask32 on = _mm256_test_epi8_mask(sb, sb);
                float *dy = d + (long)y * w + 2 * x;
                _mm512_mask_storeu_ps(dy, (__mmask16)l32, _mm512_maskz_permutexvar_ps((__mmask16)on, lo, gv));
                _mm512_mask_storeu_ps(dy + 16, (__mmask16)(l32 >> 16), _mm512_maskz_permutexvar_ps((__mmask16)(on >> 16), hi, gv));
            }
    }
}
#else
void maxpool2_forward_mask(int h, int w, const float *in, float *out, uint8_t *sw, uint8_t *a)
{
    maxpool2_forward(0, 1, h, w, in, out, sw);
    for (long k = 0; k < (long)h * w; k++)
        a[k] &= sw[k];
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
#endif

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
