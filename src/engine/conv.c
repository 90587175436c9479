/* Convolution by im2col and cblas_sgemm (see conv.h); im2col copies rows with
 * AVX-512 masked loads and stores when the compiler targets AVX-512. */
#include "conv.h"

#include <cblas.h>
#include <string.h>
#ifdef __AVX512F__
#include <immintrin.h>
#endif

int conv_pad_pixels(pad_mode mode, int k)
{
    switch (mode) {
    case PAD_FULL: return k - 1;
    case PAD_HALF: return k / 2;
    default: return 0;
    }
}

int conv_geom_init(conv_geom *g, int cin, int h, int w, int cout, int k, pad_mode mode)
{
    g->cin = cin;
    g->h = h;
    g->w = w;
    g->cout = cout;
    g->k = k;
    g->pad = conv_pad_pixels(mode, k);
    g->ho = h + 2 * g->pad - k + 1;
    g->wo = w + 2 * g->pad - k + 1;
    return (cin > 0 && cout > 0 && k > 0 && g->ho > 0 && g->wo > 0) ? 0 : -1;
}

long conv_col_size(const conv_geom *g)
{
    return (long)g->cin * g->k * g->k * g->ho * g->wo;
}

static int is_pointwise(const conv_geom *g)
{
    return g->k == 1 && g->pad == 0;
}

/* Range of output columns ox for which ix = ox + kj - pad lies in [0, w). */
static void valid_range(int kj, int pad, int w, int wo, int *lo, int *hi)
{
    int a = pad - kj, b = w + pad - kj;   /* ox in [a, b) */
    *lo = a < 0 ? 0 : a;
    *hi = b > wo ? wo : b;
    if (*hi < *lo)
        *hi = *lo;
}

void im2col(const conv_geom *g, const float *x, float *col)
{
    im2col_ld(g, (long)g->ho * g->wo, x, col);
}

/* Row (c, ki, kj) of the im2col matrix: row[oy*wo + ox] = x_c[oy+ki-pad][ox+kj-pad],
 * 0 outside the input.  xc is channel c of the input. */
#ifdef __AVX512F__
/* With AVX-512 masked copies (the rows are short: memcpy and memset calls
 * cost more than the copy): per 16-column chunk, the load mask selects the
 * columns inside the input (the others read as zero, without touching
 * memory) and the store mask the columns of the output row.  src may point
 * a few floats before the input where those lanes are masked off. */
static void im2col_row(const conv_geom *g, const float *xc, int ki, int kj, float *row)
{
    const int pad = g->pad, ho = g->ho, wo = g->wo, h = g->h, w = g->w;
    int lo, hi;
    valid_range(kj, pad, w, wo, &lo, &hi);
    int oy0 = pad - ki, oy1 = h + pad - ki;   /* output rows whose input row exists */
    oy0 = oy0 < 0 ? 0 : oy0 > ho ? ho : oy0;
    oy1 = oy1 > ho ? ho : oy1 < oy0 ? oy0 : oy1;
    const __m512 zero = _mm512_setzero_ps();
    for (int o = 0; o < wo; o += 16) {
        int a = lo - o, b = hi - o, m = wo - o;   /* valid lanes [a, b), lanes of the row [0, m) */
        a = a < 0 ? 0 : a > 16 ? 16 : a;
        b = b < a ? a : b > 16 ? 16 : b;
        m = m > 16 ? 16 : m;
        const __mmask16 ldm = (__mmask16)(((1u << b) - 1) & ~((1u << a) - 1)), stm = (__mmask16)((1u << m) - 1);
        const float *src = xc + (long)(oy0 + ki - pad) * w + kj - pad + o;
        float *dst = row + o;
        int oy = 0;
        for (; oy < oy0; oy++, dst += wo)   /* rows above the input: zeros (no memset call for a few floats) */
            _mm512_mask_storeu_ps(dst, stm, zero);
        for (; oy < oy1; oy++, src += w, dst += wo)
            _mm512_mask_storeu_ps(dst, stm, _mm512_maskz_loadu_ps(ldm, src));
        for (; oy < ho; oy++, dst += wo)
            _mm512_mask_storeu_ps(dst, stm, zero);
    }
}
#else
static void im2col_row(const conv_geom *g, const float *xc, int ki, int kj, float *row)
{
    const int pad = g->pad, ho = g->ho, wo = g->wo, h = g->h, w = g->w;
    int lo, hi;
    valid_range(kj, pad, w, wo, &lo, &hi);
    for (int oy = 0; oy < ho; oy++) {
        float *dst = row + (long)oy * wo;
        int iy = oy + ki - pad;
        if (iy < 0 || iy >= h) {
            memset(dst, 0, sizeof(float) * wo);
            continue;
        }
        const float *src = xc + (long)iy * w + kj - pad;
        for (int ox = 0; ox < lo; ox++)
            dst[ox] = 0;
        memcpy(dst + lo, src + lo, sizeof(float) * (hi - lo));
        for (int ox = hi; ox < wo; ox++)
            dst[ox] = 0;
    }
}
#endif

void im2col_ld(const conv_geom *g, long ld, const float *x, float *col)
{
    const int k = g->k;
    for (int c = 0; c < g->cin; c++)
        for (int ki = 0; ki < k; ki++)
            for (int kj = 0; kj < k; kj++)
                im2col_row(g, x + (long)c * g->h * g->w, ki, kj, col + ((long)(c * k + ki) * k + kj) * ld);
}

void col2im_add(const conv_geom *g, const float *col, float *x)
{
    col2im_add_ld(g, (long)g->ho * g->wo, col, x);
}

/* The adjoint of im2col: x_c[oy+ki-pad][ox+kj-pad] += col row (c, ki, kj)
 * at [oy*wo + ox], inside the input.  Every element of x receives its
 * additions in the order (ki, kj) in both versions below. */
static void col2im_add_rows(const conv_geom *g, long ld, const float *col, float *x)
{
    const int k = g->k, pad = g->pad, ho = g->ho, wo = g->wo, h = g->h, w = g->w;
    for (int c = 0; c < g->cin; c++) {
        float *xc = x + (long)c * h * w;
        for (int ki = 0; ki < k; ki++) {
            for (int kj = 0; kj < k; kj++) {
                const float *row = col + ((long)(c * k + ki) * k + kj) * ld;
                int lo, hi;
                valid_range(kj, pad, w, wo, &lo, &hi);
                for (int oy = 0; oy < ho; oy++) {
                    int iy = oy + ki - pad;
                    if (iy < 0 || iy >= h)
                        continue;
                    const float *src = row + (long)oy * wo;
                    float *dst = xc + (long)iy * w + kj - pad;
                    for (int ox = lo; ox < hi; ox++)
                        dst[ox] += src[ox];
                }
            }
        }
    }
}

#ifdef __AVX512F__
enum { COL2IM_MAX_K = 64 };   /* the largest kernel of the register version (arch files allow 64) */

/* Row by row of x, 16 columns at a time held in a register while the k*k
 * rows of col add into it (masked lanes neither read nor written): each
 * element of x is loaded and stored once. */
static void col2im_avx512(const conv_geom *g, long ld, int add, const float *col, float *x)
{
    const int k = g->k, pad = g->pad, ho = g->ho, wo = g->wo, h = g->h, w = g->w;
    for (int c = 0; c < g->cin; c++) {
        float *xc = x + (long)c * h * w;
        const float *colc = col + (long)c * k * k * ld;
        for (int x0 = 0; x0 < w; x0 += 16) {
            __mmask16 m[COL2IM_MAX_K];   /* per kj: lanes x0 + i with ox = x - kj + pad in [0, wo), x < w */
            for (int kj = 0; kj < k; kj++) {
                int lo = kj - pad, hi = kj - pad + wo;
                lo = (lo < x0 ? x0 : lo) - x0;
                hi = (hi > w ? w : hi) - x0;
                hi = hi > 16 ? 16 : hi;
                m[kj] = hi > lo ? (__mmask16)(((1u << hi) - 1) & ~((1u << lo) - 1)) : 0;
            }
            const __mmask16 all = (__mmask16)((1u << (w - x0 < 16 ? w - x0 : 16)) - 1);
            for (int iy = 0; iy < h; iy++) {
                float *dst = xc + (long)iy * w + x0;
                __m512 acc = add ? _mm512_maskz_loadu_ps(all, dst) : _mm512_setzero_ps();
                for (int ki = 0; ki < k; ki++) {
                    int oy = iy - ki + pad;
                    if (oy < 0 || oy >= ho)
                        continue;
                    const float *src = colc + (long)ki * k * ld + (long)oy * wo + x0 + pad;
                    for (int kj = 0; kj < k; kj++, src += ld - 1)
                        acc = _mm512_add_ps(acc, _mm512_maskz_loadu_ps(m[kj], src));
                }
                _mm512_mask_storeu_ps(dst, all, acc);
            }
        }
    }
}
#endif

void col2im_add_ld(const conv_geom *g, long ld, const float *col, float *x)
{
#ifdef __AVX512F__
    if (g->k <= COL2IM_MAX_K) {
        col2im_avx512(g, ld, 1, col, x);
        return;
    }
#endif
    col2im_add_rows(g, ld, col, x);
}

void col2im_ld(const conv_geom *g, long ld, const float *col, float *x)
{
#ifdef __AVX512F__
    if (g->k <= COL2IM_MAX_K) {
        col2im_avx512(g, ld, 0, col, x);   /* from +0, as after a memset */
        return;
    }
#endif
    memset(x, 0, sizeof(float) * g->cin * g->h * g->w);
    col2im_add_rows(g, ld, col, x);
}

void conv_forward(const conv_geom *g, const float *x, const float *w, float *y, float *col)
{
    const int M = g->cout, N = g->ho * g->wo, K = g->cin * g->k * g->k;
    const float *b = x;
    if (!is_pointwise(g)) {
        im2col(g, x, col);
        b = col;
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, N, K, 1.0f, w, K, b, N, 0.0f, y, N);
}

void conv_transpose(const conv_geom *g, const float *y, const float *w, float *x, float *col)
{
    const int M = g->cin * g->k * g->k, N = g->ho * g->wo, K = g->cout;
    if (is_pointwise(g)) {
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, M, N, K, 1.0f, w, M, y, N, 0.0f, x, N);
        return;
    }
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, M, N, K, 1.0f, w, M, y, N, 0.0f, col, N);
    col2im_ld(g, N, col, x);
}

void conv_weight_grad(const conv_geom *g, const float *dy, const float *x, float *dw, float *col)
{
    const int M = g->cout, N = g->cin * g->k * g->k, K = g->ho * g->wo;
    const float *b = x;
    if (!is_pointwise(g)) {
        im2col(g, x, col);
        b = col;
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, N, K, 1.0f, dy, K, b, K, 1.0f, dw, N);
}

/* ---- several samples per sgemm ---- */

int conv_batch_samples(const conv_geom *g, int n)
{
    long hw = (long)g->ho * g->wo;
    int s = (int)(CONV_BATCH_COLUMNS / hw);
    if (s < 1)
        s = 1;
    return s < n ? s : n;
}

long conv_batch_col_size(const conv_geom *g)
{
    long hw = (long)g->ho * g->wo, cols = hw > CONV_BATCH_COLUMNS ? hw : CONV_BATCH_COLUMNS;
    /* im2col rows (for a pointwise conv: the gathered input), then the gathered output */
    return (long)g->cin * g->k * g->k * cols + (long)g->cout * cols;
}

/* src: S samples of [C][hw] -> dst [C][S*hw] */
static void gather(int S, int C, long hw, const float *src, float *dst)
{
    for (int s = 0; s < S; s++)
        for (int c = 0; c < C; c++)
            memcpy(dst + (long)c * S * hw + s * hw, src + ((long)s * C + c) * hw, sizeof(float) * hw);
}

static void scatter(int S, int C, long hw, const float *src, float *dst)
{
    for (int s = 0; s < S; s++)
        for (int c = 0; c < C; c++)
            memcpy(dst + ((long)s * C + c) * hw, src + (long)c * S * hw + s * hw, sizeof(float) * hw);
}

/* B [rows][S*hw]: im2col of S samples side by side (or the gathered input) */
static const float *batch_columns(const conv_geom *g, int S, const float *x, float *col)
{
    long hw = (long)g->ho * g->wo, in = (long)g->cin * g->h * g->w;
    if (is_pointwise(g)) {
        if (S == 1)
            return x;
        gather(S, g->cin, hw, x, col);
    } else {
        for (int s = 0; s < S; s++)
            im2col_ld(g, S * hw, x + s * in, col + s * hw);
    }
    return col;
}

void conv_forward_cm(const conv_geom *g, int S, const float *x, const float *w, float *y, float *work)
{
    const long hw = (long)g->ho * g->wo, N = S * hw, K = (long)g->cin * g->k * g->k;
    if (S == 1) {
        conv_forward(g, x, w, y, work);
        return;
    }
    const float *b = batch_columns(g, S, x, work);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, g->cout, (int)N, (int)K, 1.0f, w, (int)K, b, (int)N,
                0.0f, y, (int)N);
}

void conv_forward_batch(const conv_geom *g, int S, const float *x, const float *w, float *y, float *work)
{
    const long hw = (long)g->ho * g->wo, K = (long)g->cin * g->k * g->k;
    float *col = work, *ybuf = work + K * (hw > CONV_BATCH_COLUMNS ? hw : CONV_BATCH_COLUMNS);
    if (S == 1) {
        conv_forward(g, x, w, y, col);
        return;
    }
    conv_forward_cm(g, S, x, w, ybuf, col);
    scatter(S, g->cout, hw, ybuf, y);
}

void conv_transpose_batch(const conv_geom *g, int S, const float *y, const float *w, float *x, float *work)
{
    const long hw = (long)g->ho * g->wo, N = S * hw, K = (long)g->cin * g->k * g->k;
    const long in = (long)g->cin * g->h * g->w;
    float *col = work, *ybuf = work + K * (hw > CONV_BATCH_COLUMNS ? hw : CONV_BATCH_COLUMNS);
    if (S == 1) {
        conv_transpose(g, y, w, x, col);
        return;
    }
    gather(S, g->cout, hw, y, ybuf);
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)K, (int)N, g->cout, 1.0f, w, (int)K, ybuf, (int)N,
                0.0f, col, (int)N);
    if (is_pointwise(g)) {
        scatter(S, g->cin, hw, col, x);
        return;
    }
    for (int s = 0; s < S; s++)
        col2im_ld(g, N, col + s * hw, x + s * in);
}

void conv_weight_grad_batch(const conv_geom *g, int S, const float *dy, const float *x, float *dw, float *work)
{
    const long hw = (long)g->ho * g->wo, N = S * hw, K = (long)g->cin * g->k * g->k;
    float *col = work, *ybuf = work + K * (hw > CONV_BATCH_COLUMNS ? hw : CONV_BATCH_COLUMNS);
    if (S == 1) {
        conv_weight_grad(g, dy, x, dw, col);
        return;
    }
    const float *b = batch_columns(g, S, x, col);
    gather(S, g->cout, hw, dy, ybuf);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, g->cout, (int)K, (int)N, 1.0f, ybuf, (int)N, b, (int)N,
                1.0f, dw, (int)K);
}

void conv_weight_grad_forward_batch(const conv_geom *g, int S, const float *dy, const float *x, const float *w, float *dw,
                                    float *y, float *work)
{
    const long hw = (long)g->ho * g->wo, N = S * hw, K = (long)g->cin * g->k * g->k;
    float *col = work, *ybuf = work + K * (hw > CONV_BATCH_COLUMNS ? hw : CONV_BATCH_COLUMNS);
    const float *b = batch_columns(g, S, x, col), *dyb = dy;
    float *yb = y;
    if (S > 1) {   /* dy gathered into ybuf, which then takes y before the scatter back */
        gather(S, g->cout, hw, dy, ybuf);
        dyb = yb = ybuf;
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, g->cout, (int)K, (int)N, 1.0f, dyb, (int)N, b, (int)N, 1.0f,
                dw, (int)K);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, g->cout, (int)N, (int)K, 1.0f, w, (int)K, b, (int)N, 0.0f,
                yb, (int)N);
    if (S > 1)
        scatter(S, g->cout, hw, ybuf, y);
}
