/* 3x3 stride-1 convolution, and its weight gradient (wino_weight_grad), by
 * Winograd's minimal filtering F(m x m, 3 x 3)
 * (Lavin and Gray, "Fast Algorithms for Convolutional Neural Networks",
 * 2016), m = 2 or 4: the output is cut into m x m tiles; each tile's
 * (m+2) x (m+2) input patch and each filter are transformed (B^T d B,
 * G g G^T), the (m+2)^2 transformed positions are multiplied as (m+2)^2
 * sgemm calls of [tiles x cin] x [cin x cout], and each tile's products are
 * transformed back (A^T M A).  That is (m+2)^2 / m^2 multiplications per
 * output and input channel instead of 9: 4x fewer for m = 4, 2.25x for
 * m = 2.  The same convolution as conv_forward (any padding) within float
 * rounding, not bit for bit (tests/test_winograd.c measures the error).
 *
 * Follows the ops' convention of conv.h.  The transforms are plain C on
 * vectors of 16 channels (or filters) at a time (GCC/Clang vector types:
 * AVX-512 with -march=native, SSE2 in the portable build), without
 * intrinsics: the same operations in the same order on every target (the
 * build does not contract to FMA, -std=c11), so the same bits wherever
 * OpenBLAS runs the same sgemm kernel.
 * Weights are transformed once per pass (wino_weights) into U, then each
 * call of wino_forward takes S samples. */
#ifndef DRMM_WINOGRAD_H
#define DRMM_WINOGRAD_H

#include "conv.h"

/* Tiles per call (the sgemm's rows).  On ConvSmall's layers (forward and
 * transposed, CPU time of 100 images) 32, 64, 128 and 256 were measured
 * twice: 128 was the best or within 1% of the best on each. */
#define WINO_TILES 128L
/* Tiles per chunk of the weight gradient (the sgemm's depth).  On
 * ConvSmall's layers (CPU time of 100 images, best of 15) 32, 64 and 96 were
 * within 5% of each other, 128 up to 10% and 256 up to 25% slower, 512
 * 1.4-1.6x and 1024 1.6-2x slower than 64. */
#define WINO_GRAD_TILES 64L

/* m (4 or 2) of the Winograd form the engine uses for a layer of this shape,
 * 0 where im2col + sgemm is used instead (not 3x3, or too few channels for
 * the transforms to pay). */
int  wino_choose(const conv_geom *g);
int  wino_batch_samples(const conv_geom *g, int m, int n);   /* S to use for n samples */
long wino_weights_size(const conv_geom *g, int m);           /* floats of U */
long wino_work_size(const conv_geom *g, int m);              /* floats of scratch for S = wino_batch_samples */
/* The transposed convolution of g (conv_transpose: y [cout][ho][wo] to x
 * [cin][h][w]) as a convolution: cin and cout swapped, padding k-1-pad,
 * each filter flipped (wino_weights with transposed set). */
void wino_transpose_geom(const conv_geom *g, conv_geom *gt);
/* U = the transformed filters of w [g->cout][g->cin][3][3]; with transposed
 * set, g is a wino_transpose_geom and w the filters of the convolution it
 * transposes, [g->cin][g->cout][3][3], used flipped. */
void wino_weights(const conv_geom *g, int m, const float *w, int transposed, float *U);
/* y = W (*) x for S samples x [S][cin][h][w], U from wino_weights: y
 * [S][cout][ho][wo] (NCHW), or with cm set channel-major [cout][S][ho][wo]
 * as conv_forward_cm writes it. */
void wino_forward(const conv_geom *g, int m, int S, const float *x, const float *U, int cm, float *y, float *work);
/* dw [cout][cin][3][3] += the weight gradient of that convolution, as
 * conv_weight_grad gives it: the correlation of x [n][cin][h][w] with dy
 * [n][cout][ho][wo] summed over the n samples (any n: in chunks of
 * WINO_GRAD_TILES tiles inside), in the Winograd domain: x's tiles by B^T,
 * dy's by A, (m+2)^2 sgemm [cout x tiles] x [tiles x cin] per chunk
 * accumulated over the samples, then back to 3x3 by G^T.  work:
 * wino_grad_work_size floats. */
long wino_grad_work_size(const conv_geom *g, int m);
void wino_weight_grad(const conv_geom *g, int m, int n, const float *dy, const float *x, float *dw, float *work);

#endif
