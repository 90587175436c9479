/* Pooling and its top-down inverses, over "planes" (one channel of one
 * sample), for the plane range [p0, p1) so callers can split over threads.
 * - maxpool2: 2x2 windows, stride 2, h and w even; the switch array (the
 *   DRMM's latent t-hat, one byte per input pixel) marks exactly one winner
 *   per window: the first maximum in scan order.
 * - meanpool: global mean of each plane of hw pixels.
 * - upsample2 / broadcast: nearest-neighbour upsampling (x2, or 1 -> hw),
 *   multiplied by a scale s; their backward passes sum over the copies.
 *
 * The ops' convention (conv.h, bn.h, pool.h, activation.h, postconv.h):
 * arguments are sizes and geometry first (with the range of rows, planes or
 * channels a call covers), then the inputs (arrays only read, parameters,
 * scalar settings), then the outputs (arrays written, and arrays updated in
 * place), then caller-owned scratch.  A backward pass overwrites the gradient
 * of its input (din, dx) unless its name ends in _add, when it adds to it;
 * gradients of parameters (dw, dgamma, dbeta) always accumulate (+=): the
 * caller zeroes them once per step. */
#ifndef DRMM_POOL_H
#define DRMM_POOL_H

#include <stdint.h>

void maxpool2_forward(int p0, int p1, int h, int w, const float *in, float *out, uint8_t *sw);
/* maxpool2_forward of one plane that also clears a[k] (a byte mask of the
 * plane, e.g. a-hat) where sw[k] is off: a = a-hat * t-hat in the same pass.
 * With AVX-512 (F, BW) and BMI2 16 windows at a time, the same comparisons. */
void maxpool2_forward_mask(int h, int w, const float *in, float *out, uint8_t *sw, uint8_t *a);
/* din = dout routed to the winners, zero elsewhere (overwrites din). */
void maxpool2_backward(int p0, int p1, int h, int w, const float *dout, const uint8_t *sw, float *din);

void meanpool_forward(int p0, int p1, int hw, const float *in, float *out);
/* din = dout / hw at every pixel (overwrites din). */
void meanpool_backward(int p0, int p1, int hw, const float *dout, float *din);

/* out (2h x 2w planes) = s * nearest-neighbour copy of in (h x w planes). */
void upsample2_forward(int p0, int p1, int h, int w, float s, const float *in, float *out);
/* din (h x w) = s * sum of dout over each 2x2 copy (overwrites din). */
void upsample2_backward(int p0, int p1, int h, int w, float s, const float *dout, float *din);

/* out (hw pixels per plane) = s * in[plane]. */
void broadcast_forward(int p0, int p1, int hw, float s, const float *in, float *out);
/* din[plane] = s * sum of dout over the plane (overwrites din). */
void broadcast_backward(int p0, int p1, int hw, float s, const float *dout, float *din);

#endif
