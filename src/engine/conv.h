/* 2-D convolution as cross-correlation (no bias) through im2col + sgemm, for
 * one sample in NCHW layout, and its exact adjoint, the transposed
 * convolution with the same weights.  Padding: full = k-1, half = k/2,
 * valid = 0; output size ho = h + 2*pad - k + 1.
 * Weights are [cout][cin][k][k].  `col` is caller-owned scratch of
 * conv_col_size() floats (unused for 1x1 convolutions without padding).
 *
 * The ops' convention (conv.h, bn.h, pool.h, activation.h, postconv.h):
 * arguments are sizes and geometry first (with the range of rows, planes or
 * channels a call covers), then the inputs (arrays only read, parameters,
 * scalar settings), then the outputs (arrays written, and arrays updated in
 * place), then caller-owned scratch.  A backward pass overwrites the gradient
 * of its input (din, dx) unless its name ends in _add, when it adds to it;
 * gradients of parameters (dw, dgamma, dbeta) always accumulate (+=): the
 * caller zeroes them once per step. */
#ifndef DRMM_CONV_H
#define DRMM_CONV_H

typedef enum { PAD_VALID = 0, PAD_HALF = 1, PAD_FULL = 2 } pad_mode;

typedef struct conv_geom {
    int cin, h, w;      /* input */
    int cout, k, pad;   /* filters, kernel size, padding in pixels */
    int ho, wo;         /* output */
} conv_geom;

int  conv_pad_pixels(pad_mode mode, int k);
/* Fills g; returns -1 when the output would be empty. */
int  conv_geom_init(conv_geom *g, int cin, int h, int w, int cout, int k, pad_mode mode);
long conv_col_size(const conv_geom *g);   /* cin*k*k * ho*wo */

void im2col(const conv_geom *g, const float *x, float *col);
void col2im_add(const conv_geom *g, const float *col, float *x);   /* x += */
/* The same with rows `ld` floats apart (several samples side by side). */
void im2col_ld(const conv_geom *g, long ld, const float *x, float *col);
void col2im_add_ld(const conv_geom *g, long ld, const float *col, float *x);
/* x = the same sum from zero (overwrites x; no separate zeroing pass). */
void col2im_ld(const conv_geom *g, long ld, const float *col, float *x);

/* y[cout][ho][wo] = W (*) x */
void conv_forward(const conv_geom *g, const float *x, const float *w, float *y, float *col);
/* x[cin][h][w] = W^T (*) y  (overwrites x): the adjoint of conv_forward, and
 * its backward pass to the input */
void conv_transpose(const conv_geom *g, const float *y, const float *w, float *x, float *col);
/* dw += dy (*) x, the weight gradient of conv_forward for one sample */
void conv_weight_grad(const conv_geom *g, const float *dy, const float *x, float *dw, float *col);

/* Several samples per sgemm: S consecutive samples (NCHW) are laid side by
 * side so that one call multiplies at least CONV_BATCH_COLUMNS columns (256 measured best on ConvSmall: larger blocks leave the cache), which
 * small layers need to run near the GEMM's speed.  `work` is caller-owned
 * scratch of conv_batch_col_size() floats. */
#define CONV_BATCH_COLUMNS 256L
int  conv_batch_samples(const conv_geom *g, int n);   /* S to use for n samples (the most a call takes) */
long conv_batch_col_size(const conv_geom *g);
void conv_forward_batch(const conv_geom *g, int S, const float *x, const float *w, float *y, float *work);
/* The same with the output channel-major, y[cout][S][ho][wo] (the S samples
 * side by side in each channel's row: NCHW when S == 1), as the sgemm writes
 * it, without the copy back to NCHW. */
void conv_forward_cm(const conv_geom *g, int S, const float *x, const float *w, float *y, float *work);
void conv_transpose_batch(const conv_geom *g, int S, const float *y, const float *w, float *x, float *work);
void conv_weight_grad_batch(const conv_geom *g, int S, const float *dy, const float *x, float *dw, float *work);
/* conv_weight_grad_batch(dy, x, dw) then conv_forward_batch(x, w, y) from one
 * im2col of x (the same results as the two calls). */
void conv_weight_grad_forward_batch(const conv_geom *g, int S, const float *dy, const float *x, const float *w, float *dw,
                                    float *y, float *work);

#endif
