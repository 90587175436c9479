/* Histogram PNGs: bars with axes, tick labels and a title, drawn in gray
 * with the 3x5 font, written with libpng. */
#ifndef DRMM_HISTOGRAM_H
#define DRMM_HISTOGRAM_H

struct err_t;

/* Draws the histogram of n values (values[i * stride]) over nbins (1..200)
 * equal bins spanning [min, max] of the data, and writes it to path.
 * Returns 0, or -1 with a message (no values, bad bins, non-finite values,
 * unwritable path). */
int histogram_write(const char *path, const char *title, const float *values, long n, long stride,
                    int nbins, struct err_t *e);

#endif
