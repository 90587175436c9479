/* The tail of a conv block in evaluation mode, fused into one pass over the
 * conv output: batch normalisation with the running statistics as a
 * per-channel affine, ReLU, and 2x2 max-pool or global mean-pool.  It does
 * the same float operations as bn_forward_eval, relu_inplace,
 * maxpool2_forward and meanpool_forward (bit-identical results) but keeps
 * no switches and no normalised copy: what inference needs and no more.
 *
 * The ops' convention (conv.h, bn.h, pool.h, activation.h, postconv.h):
 * arguments are sizes and geometry first (with the range of rows, planes or
 * channels a call covers), then the inputs (arrays only read, parameters,
 * scalar settings), then the outputs (arrays written, and arrays updated in
 * place), then caller-owned scratch.  A backward pass overwrites the gradient
 * of its input (din, dx) unless its name ends in _add, when it adds to it;
 * gradients of parameters (dw, dgamma, dbeta) always accumulate (+=): the
 * caller zeroes them once per step. */
#ifndef DRMM_POSTCONV_H
#define DRMM_POSTCONV_H

#include <stdint.h>

#include "arch.h"

/* BN's evaluation affine per channel: scale = gamma / sqrt(var + eps),
 * shift = beta - scale * mean, so that BN(x) = scale * x + shift. */
void bn_eval_affine(int C, const float *gamma, const float *beta, const float *run_mean,
                    const float *run_var, float eps, float *scale, float *shift);

/* One sample: channel c of the conv output is the h*w plane at y + c*ystride.
 * act[C][h][w] = ReLU(scale * y + shift) (no affine when scale is NULL, no
 * ReLU when relu is 0); act may be y when ystride == h*w.  pooled gets the
 * max-pool [C][h/2][w/2] or the mean-pool [C] of act (unused for POOL_NONE). */
void postconv_eval(int C, int h, int w, long ystride, const float *y, const float *scale, const float *shift, int relu,
                   pool_kind pool, float *act, float *pooled);

/* Training mode, one plane (one channel of one sample, h*w values y, the
 * conv output, overwritten with the block's activations): with bn, BN with
 * the batch's mean m and istd as bn_forward_train (xhat kept), then ReLU
 * (when relu) and the pooling, keeping the switches: a = a-hat * t-hat
 * (a-hat alone without max-pool), t = t-hat (max-pool only; NULL
 * otherwise), pooled as postconv_eval.  The same float operations as
 * bn_forward_train, relu_inplace, maxpool2_forward and meanpool_forward in
 * turn, in one pass while the plane is in the cache. */
void postconv_train_plane(int h, int w, int bn, float m, float istd, float g, float b, int relu, pool_kind pool, float *y,
                          float *xhat, uint8_t *a, uint8_t *t, float *pooled);

#endif
