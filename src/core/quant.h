/* Activations kept as bytes: the 8-bit affine quantisation of one sample's
 * vector, value = lo + step * byte, with lo its minimum and step (max - lo)
 * / 255 (0 for a constant vector).  The decoder encodes what it stores; the
 * store decodes what it reads back.  The largest error of a value is step / 2. */
#ifndef DRMM_QUANT_H
#define DRMM_QUANT_H

#include <stdint.h>

void quant_encode(const float *v, int d, uint8_t *q, float *lo, float *step);
void quant_decode(const uint8_t *q, int d, float lo, float step, float *v);

#endif
