/* ReLU with its switch mask (the DRMM's latent a-hat) and softmax. */
#ifndef DRMM_ACTIVATION_H
#define DRMM_ACTIVATION_H

#include <stdint.h>

/* out[i] = max(0, in[i]), mask[i] = in[i] > 0, for i in [i0, i1).
 * in and out may be the same buffer. */
void relu_forward(long i0, long i1, const float *in, float *out, uint8_t *mask);
/* din[i] = mask[i] ? dout[i] : 0 (dout and din may be the same buffer). */
void relu_backward(long i0, long i1, const float *dout, const uint8_t *mask, float *din);
/* The same in place on n values (vectorised). */
void relu_inplace(float *x, uint8_t *mask, long n);
void relu_backward_inplace(float *d, const uint8_t *mask, long n);

/* Row-wise softmax of n rows of k logits (numerically stable). */
void softmax_forward(int n, int k, const float *logits, float *q);
/* dlogits += J^T dq for each row, J the softmax Jacobian at q. */
void softmax_backward(int n, int k, const float *q, const float *dq, float *dlogits);

#endif
