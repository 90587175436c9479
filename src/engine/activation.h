/* ReLU with its switch mask (the DRMM's latent a-hat) and softmax.
 *
 * The ops' convention (conv.h, bn.h, pool.h, activation.h, postconv.h):
 * arguments are sizes and geometry first (with the range of rows, planes or
 * channels a call covers), then the inputs (arrays only read, parameters,
 * scalar settings), then the outputs (arrays written, and arrays updated in
 * place), then caller-owned scratch.  A backward pass overwrites the gradient
 * of its input (din, dx) unless its name ends in _add, when it adds to it;
 * gradients of parameters (dw, dgamma, dbeta) always accumulate (+=): the
 * caller zeroes them once per step. */
#ifndef DRMM_ACTIVATION_H
#define DRMM_ACTIVATION_H

#include <stdint.h>

/* out[i] = max(0, in[i]), mask[i] = in[i] > 0, for i in [i0, i1).
 * in and out may be the same buffer. */
void relu_forward(long i0, long i1, const float *in, float *out, uint8_t *mask);
/* din[i] = mask[i] ? dout[i] : 0 (dout and din may be the same buffer). */
void relu_backward(long i0, long i1, const float *dout, const uint8_t *mask, float *din);
/* The same in place on n values (vectorised). */
void relu_inplace(long n, float *x, uint8_t *mask);
void relu_backward_inplace(long n, const uint8_t *mask, float *d);

/* Row-wise softmax of n rows of k logits (numerically stable). */
void softmax_forward(int n, int k, const float *logits, float *q);
/* dlogits += J^T dq for each row, J the softmax Jacobian at q. */
void softmax_backward_add(int n, int k, const float *q, const float *dq, float *dlogits);

#endif
