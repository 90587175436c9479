/* Winograd F(m x m, 3 x 3) convolution (see winograd.h).  One generic
 * transform, out = X in X^T for a constant matrix X, serves the input (B^T),
 * the filters (G) and the output (A^T) of both forms, and, with X read
 * transposed, the weight gradient's output gradient (A) and result (G^T).
 * It works on vectors of L lanes: L channels of one tile (input and output)
 * or L filters, and skips the matrix's zeros (the sizes and matrices are
 * constants wherever it is inlined, so the compiler unrolls it into the
 * usual additions). */
#include "winograd.h"

#include <cblas.h>
#include <string.h>

enum { L = 16 };   /* lanes: tiles or filters transformed together */

/* F(2x2, 3x3), interpolation points 0, 1, -1, infinity */
static const float BT2[4 * 4] = {1, 0, -1, 0,  0, 1, 1, 0,  0, -1, 1, 0,  0, 1, 0, -1};
static const float G2[4 * 3] = {1, 0, 0,  0.5f, 0.5f, 0.5f,  0.5f, -0.5f, 0.5f,  0, 0, 1};
static const float AT2[2 * 4] = {1, 1, 1, 0,  0, 1, -1, -1};
/* F(4x4, 3x3), points 0, 1, -1, 2, -2, infinity */
static const float BT4[6 * 6] = {4, 0, -5, 0, 1, 0,    0, -4, -4, 1, 1, 0,  0, 4, -4, -1, 1, 0,
                                 0, -2, -1, 2, 1, 0,   0, 2, -1, -2, 1, 0,  0, 4, 0, -5, 0, 1};
static const float G4[6 * 3] = {1.0f / 4,  0,          0,          -1.0f / 6, -1.0f / 6, -1.0f / 6,
                                -1.0f / 6, 1.0f / 6,   -1.0f / 6,  1.0f / 24, 1.0f / 12, 1.0f / 6,
                                1.0f / 24, -1.0f / 12, 1.0f / 6,   0,         0,         1};
static const float AT4[4 * 6] = {1, 1, 1, 1, 1, 0,  0, 1, -1, 2, -2, 0,  0, 1, 1, 4, 4, 0,  0, 1, -1, 8, -8, 1};

/* L floats, one per lane (a GCC/Clang vector: AVX-512 registers with
   -march=native, pairs of SSE2 registers in the portable build) */
typedef float lanes __attribute__((vector_size(sizeof(float) * L)));

/* memcpy moves L floats in and out of the lanes (unaligned loads and
   stores); no function takes or returns a vector by value, whose ABI
   depends on the target */
#define LOAD(v, p) memcpy(&(v), (p), sizeof(lanes))
#define STORE(p, v) memcpy((p), &(v), sizeof(lanes))

/* out[ro][ro] = X in X^T for in[ri][ri], X [ro][ri], or with tr set X^T of
   the matrix stored [ri][ro] (A from A^T, G^T from G): each sum starts from
   its first nonzero term (unrolled, with X a constant the compiler keeps
   the nonzero terms only, and +-1 as additions) */
static inline void transform(const int ro, const int ri, const float *X, const int tr, const lanes *in, lanes *out)
{
#define XAT(i, r) (tr ? X[(r) * ro + (i)] : X[(i) * ri + (r)])
    lanes tmp[6 * 6];   /* [ro][ri] */
#pragma GCC unroll 6
    for (int i = 0; i < ro; i++)
#pragma GCC unroll 6
        for (int j = 0; j < ri; j++) {
            lanes t = {0};
            int first = 1;
#pragma GCC unroll 6
            for (int r = 0; r < ri; r++)
                if (XAT(i, r) != 0) {
                    t = first ? XAT(i, r) * in[r * ri + j] : t + XAT(i, r) * in[r * ri + j];
                    first = 0;
                }
            tmp[i * ri + j] = t;
        }
#pragma GCC unroll 6
    for (int i = 0; i < ro; i++)
#pragma GCC unroll 6
        for (int k = 0; k < ro; k++) {
            lanes o = {0};
            int first = 1;
#pragma GCC unroll 6
            for (int j = 0; j < ri; j++)
                if (XAT(k, j) != 0) {
                    o = first ? XAT(k, j) * tmp[i * ri + j] : o + XAT(k, j) * tmp[i * ri + j];
                    first = 0;
                }
            out[i * ro + k] = o;
        }
#undef XAT
}

int wino_choose(const conv_geom *g)
{
    if (g->k != 3 || g->cin < 16 || g->cout < 16)
        return 0;
    /* the form with fewer multiplications over the tiles that cover the
       output (a 6x6 output needs 4 tiles of 4x4, 36 products each, or 9 of
       2x2, 16 each: equal, and m = 2's transforms are cheaper) */
    long t2 = (long)((g->ho + 1) / 2) * ((g->wo + 1) / 2) * 16, t4 = (long)((g->ho + 3) / 4) * ((g->wo + 3) / 4) * 36;
    return t4 < t2 ? 4 : 2;
}

static long tiles(const conv_geom *g, int m) { return (long)((g->ho + m - 1) / m) * ((g->wo + m - 1) / m); }

int wino_batch_samples(const conv_geom *g, int m, int n)
{
    int s = (int)(WINO_TILES / tiles(g, m));
    if (s < 1)
        s = 1;
    return s < n ? s : n;
}

/* samples per chunk of the weight gradient (WINO_GRAD_TILES tiles) */
static int grad_samples(const conv_geom *g, int m, int n)
{
    int s = (int)(WINO_GRAD_TILES / tiles(g, m));
    if (s < 1)
        s = 1;
    return s < n ? s : n;
}

long wino_weights_size(const conv_geom *g, int m) { return (long)(m + 2) * (m + 2) * g->cout * g->cin; }

/* the padded input plane: (m * tiles + 2) rows and columns */
static int padded(int out, int m) { return (out + m - 1) / m * m + 2; }

/* channels rounded up to whole lanes */
static long lanes_up(int c) { return (c + L - 1) / L * L; }

long wino_work_size(const conv_geom *g, int m)
{
    const long P = tiles(g, m), S = wino_batch_samples(g, m, 1 << 30), T = S * P, a2 = (m + 2) * (m + 2);
    return S * padded(g->ho, m) * padded(g->wo, m) * lanes_up(g->cin) + T * (a2 * (lanes_up(g->cin) + lanes_up(g->cout)) + 2 * L);
}

void wino_transpose_geom(const conv_geom *g, conv_geom *gt)
{
    *gt = (conv_geom){.cin = g->cout, .h = g->ho, .w = g->wo, .cout = g->cin, .k = g->k, .pad = g->k - 1 - g->pad,
                      .ho = g->h, .wo = g->w};
}

/* U[e][o][c] = (G g G^T)[e] of filter (o, c), L filters at a time; with
   transposed, filter (o, c) is w's filter (c, o) turned by 180 degrees */
static inline void weights(const conv_geom *g, const int m, const float *w, int transposed, float *U)
{
    const int a = m + 2;
    const long cc = (long)g->cout * g->cin;
    lanes in[3 * 3], out[6 * 6];
    for (long q0 = 0; q0 < cc; q0 += L) {
        const int nl = cc - q0 < L ? (int)(cc - q0) : L;
        for (int l = 0; l < L; l++) {
            const long q = q0 + (l < nl ? l : nl - 1);   /* lanes past the last filter repeat it */
            const long o = q / g->cin, c = q % g->cin;
            for (int r = 0; r < 9; r++)
                in[r][l] = transposed ? w[(c * g->cout + o) * 9 + 8 - r] : w[q * 9 + r];
        }
        transform(a, 3, m == 4 ? G4 : G2, 0, in, out);
        for (int e = 0; e < a * a; e++)
            for (int l = 0; l < nl; l++)
                U[e * cc + q0 + l] = out[e][l];
    }
}

/* x [S][C][h][w] (NCHW) into P [S][ph][pw][cp]: channels innermost, from
   row and column `pad`, zeros around and in the channels past C (L channels
   of a pixel at a time, one store) */
static void pack(int S, int C, int h, int w, int pad, int ph, int pw, long cp, const float *x, float *P)
{
    memset(P, 0, sizeof(float) * S * ph * pw * cp);
    for (int s = 0; s < S; s++)
        for (int c0 = 0; c0 < C; c0 += L) {
            const int nl = C - c0 < L ? C - c0 : L;
            for (int r = 0; r < h; r++) {
                const float *src = x + (((long)s * C + c0) * h + r) * w;
                float *dst = P + (((long)s * ph + r + pad) * pw + pad) * cp + c0;
                for (int k = 0; k < w; k++) {
                    lanes v = {0};
                    for (int l = 0; l < nl; l++)
                        v[l] = src[(long)l * h * w + k];
                    STORE(dst + (long)k * cp, v);
                }
            }
        }
}

/* V [T][a2][cp] (tiles vt floats apart): the T tiles of X [S][ph][pw][cp]
   (pack; tile t = (s * th + ti) * tw + tj starts at row ti m, column tj m),
   k x k values each, turned into (m+2)^2 by the transform R (tr: by its
   transpose): the input patches B^T d B (k = m + 2, R = B^T) and the
   output gradient's tiles A dy A^T (k = m, R = A^T transposed) */
static inline void tiles_transform(const conv_geom *g, const int m, long T, const float *X, int ph, int pw, long cp,
                                   const int k, const float *R, const int tr, long vt, float *V)
{
    const int a = m + 2, tw = (g->wo + m - 1) / m;
    const long P = tiles(g, m);
    lanes in[6 * 6], out[6 * 6];
    for (long t = 0; t < T; t++) {
        const int s = (int)(t / P), ti = (int)(t % P) / tw, tj = (int)(t % P) % tw;
        const float *tile = X + (((long)s * ph + ti * m) * pw + tj * m) * cp;
        for (long c0 = 0; c0 < cp; c0 += L) {
            for (int i = 0; i < k; i++)
                for (int j = 0; j < k; j++)
                    LOAD(in[i * k + j], tile + ((long)i * pw + j) * cp + c0);
            transform(a, k, R, tr, in, out);
            for (int e = 0; e < a * a; e++)
                STORE(V + t * vt + e * cp + c0, out[e]);
        }
    }
}

/* the input patches B^T d B of the padded input X [S][ph][pw][cp] */
static inline void input_tiles(const conv_geom *g, const int m, long T, const float *X, long cp, long vt, float *V)
{
    tiles_transform(g, m, T, X, padded(g->ho, m), padded(g->wo, m), cp, m + 2, m == 4 ? BT4 : BT2, 0, vt, V);
}

/* wino_forward's body, inlined for each m so that the transforms' sizes and
   matrices are constants.  Layouts, with cp and op the channels rounded up
   to whole lanes: the padded input X [S][ph][pw][cp] (pack: zeros around
   the input up to whole tiles), V [T][e][cp] the transformed patches, M
   [T][e][op] their products with U (each tile's values together: one
   stream through memory per tile, not (m+2)^2). */
static inline void forward(const conv_geom *g, const int m, int S, const float *x, const float *U, int cm, float *y,
                           float *work)
{
    const int a = m + 2, a2 = a * a, tw = (g->wo + m - 1) / m, cin = g->cin, cout = g->cout;
    const int ph = padded(g->ho, m), pw = padded(g->wo, m), ho = g->ho, wo = g->wo;
    const long P = tiles(g, m), T = S * P, hw = (long)ho * wo, cp = lanes_up(cin), op = lanes_up(cout);
    const long vt = a2 * cp + L, mt = a2 * op + L;   /* floats per tile in V and M (+ L: rows a power of 2
                                                        apart would share cache sets in the sgemm) */
    const float *AT = m == 4 ? AT4 : AT2;
    float *X = work, *V = X + S * ph * pw * cp, *M = V + T * vt;
    lanes in[6 * 6], out[6 * 6];

    pack(S, cin, g->h, g->w, g->pad, ph, pw, cp, x, X);
    input_tiles(g, m, T, X, cp, vt, V);

    if (op != cout)   /* the columns past cout, read by the last lanes, stay zero */
        memset(M, 0, sizeof(float) * T * mt);
    for (int e = 0; e < a2; e++)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)T, cout, cin, 1.0f, V + e * cp, (int)vt,
                    U + (long)e * cout * cin, cin, 0.0f, M + e * op, (int)mt);

    for (long t = 0; t < T; t++) {
        const int s = (int)(t / P), y0 = (int)(t % P) / tw * m, x0 = (int)(t % P) % tw * m;
        const int mi = ho - y0 < m ? ho - y0 : m, mj = wo - x0 < m ? wo - x0 : m;
        for (int o0 = 0; o0 < cout; o0 += L) {
            const int nl = cout - o0 < L ? cout - o0 : L;
            for (int e = 0; e < a2; e++)
                LOAD(in[e], M + t * mt + e * op + o0);
            transform(m, a, AT, 0, in, out);
            for (int l = 0; l < nl; l++) {
                float *yo = y + (cm ? ((long)(o0 + l) * S + s) * hw : ((long)s * cout + o0 + l) * hw) + (long)y0 * wo + x0;
                for (int i = 0; i < mi; i++)
                    for (int j = 0; j < mj; j++)
                        yo[(long)i * wo + j] = out[i * m + j][l];
            }
        }
    }
}

/* wino_weight_grad's body, inlined for each m.  In chunks of grad_samples:
   dy's tiles are packed as x's (D [S][th m][tw m][op], zeros past the
   output) and transformed by A (A dy A^T, (m+2)^2 values per tile) into Y
   [T][e][op]; per position e the sgemm [cout x T] x [T x cin] adds Y^T V
   into the transformed gradient H [e][cout][cin].  At the end each filter's
   H goes back to 3x3 by G^T H G.  (The trilinear form sum dy . Y of the
   forward's Y = A^T (U . V) A, with U = G g G^T, is sum_e (A dy A^T)_e U_e
   V_e, so its gradient in g is G^T ((A dy A^T) . V) G.) */
static inline void weight_grad(const conv_geom *g, const int m, int n, const float *dy, const float *x, float *dw,
                               float *work)
{
    const int a = m + 2, a2 = a * a, cin = g->cin, cout = g->cout;
    const int ph = padded(g->ho, m), pw = padded(g->wo, m), qh = ph - 2, qw = pw - 2;
    const int S = grad_samples(g, m, n);
    const long P = tiles(g, m), cp = lanes_up(cin), op = lanes_up(cout), cc = (long)cout * cin;
    const long vt = a2 * cp + L, yt = a2 * op + L;
    float *H = work, *X = H + a2 * cc + L, *V = X + S * ph * pw * cp, *D = V + S * P * vt, *Y = D + S * qh * qw * op;
    lanes in[6 * 6], out[6 * 6];

    memset(H, 0, sizeof(float) * (a2 * cc + L));
    for (int s0 = 0; s0 < n; s0 += S) {
        const int Sc = n - s0 < S ? n - s0 : S;
        const long T = Sc * P;
        pack(Sc, cin, g->h, g->w, g->pad, ph, pw, cp, x + (long)s0 * cin * g->h * g->w, X);
        input_tiles(g, m, T, X, cp, vt, V);
        pack(Sc, cout, g->ho, g->wo, 0, qh, qw, op, dy + (long)s0 * cout * g->ho * g->wo, D);
        tiles_transform(g, m, T, D, qh, qw, op, m, m == 4 ? AT4 : AT2, 1, yt, Y);
        for (int e = 0; e < a2; e++)
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, cout, cin, (int)T, 1.0f, Y + e * op, (int)yt,
                        V + e * cp, (int)vt, 1.0f, H + e * cc, cin);
    }
    for (long q0 = 0; q0 < cc; q0 += L) {   /* L filters at a time; H's last L floats pad the last lanes */
        const int nl = cc - q0 < L ? (int)(cc - q0) : L;
        for (int e = 0; e < a2; e++)
            LOAD(in[e], H + e * cc + q0);
        transform(3, a, m == 4 ? G4 : G2, 1, in, out);
        for (int l = 0; l < nl; l++)
            for (int r = 0; r < 9; r++)
                dw[(q0 + l) * 9 + r] += out[r][l];
    }
}

void wino_weights(const conv_geom *g, int m, const float *w, int transposed, float *U)
{
    if (m == 4)
        weights(g, 4, w, transposed, U);
    else
        weights(g, 2, w, transposed, U);
}

void wino_forward(const conv_geom *g, int m, int S, const float *x, const float *U, int cm, float *y, float *work)
{
    if (m == 4)
        forward(g, 4, S, x, U, cm, y, work);
    else
        forward(g, 2, S, x, U, cm, y, work);
}

long wino_grad_work_size(const conv_geom *g, int m)
{
    const long P = tiles(g, m), S = grad_samples(g, m, 1 << 30), a2 = (m + 2) * (m + 2);
    const long cp = lanes_up(g->cin), op = lanes_up(g->cout), ph = padded(g->ho, m), pw = padded(g->wo, m);
    return a2 * g->cout * g->cin + L + S * ph * pw * cp + S * P * (a2 * cp + L) + S * (ph - 2) * (pw - 2) * op +
           S * P * (a2 * op + L);
}

void wino_weight_grad(const conv_geom *g, int m, int n, const float *dy, const float *x, float *dw, float *work)
{
    if (m == 4)
        weight_grad(g, 4, n, dy, x, dw, work);
    else
        weight_grad(g, 2, n, dy, x, dw, work);
}
