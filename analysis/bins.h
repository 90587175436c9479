/* Quantising a latent into bins of equal frequency.
 *
 * Cut points are the values at ranks j*n/nbins (j = 1..nbins-1) of the
 * sorted sample; a value goes to the number of cut points <= it.  Values that
 * tie share a bin, so a continuous latent gets bins of n/nbins samples
 * (+-1), while a discrete one may get fewer, unequal bins.
 *
 * Angles (circular latents, in degrees) are first wrapped to [0, 360), so
 * that e.g. -180 and 180, or -90 and 270, are the same value and fall in the
 * same bin; the bins are then arcs of equal frequency starting at 0 degrees
 * (the arc of the last bin ends where the first begins).  An angle that is
 * not periodic over its range (slant, an elevation in [-10, 50]) is binned as
 * a line. */
#ifndef DRMM_BINS_H
#define DRMM_BINS_H

struct err_t;

/* bin: n outputs in [0, nbins).  Returns the number of non-empty bins, or -1
 * with a message in e. */
int bins_equal_frequency(const float *v, int n, int nbins, int circular, int *bin, struct err_t *e);

/* 1 if a latent of this name is an angle that wraps (tilt, light_azimuth,
 * bg_angle: the synthetic renderer's azimuths in [-180, 180)). */
int bins_latent_is_circular(const char *name);

#endif
