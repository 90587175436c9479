/* Equal-frequency quantisation of latents (see bins.h). */
#include "bins.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

static float wrap360(float v)
{
    double w = fmod((double)v, 360.0);
    if (w < 0) w += 360.0;
    if (w >= 360.0) w = 0;
    return (float)w;
}

int bins_equal_frequency(const float *v, int n, int nbins, int circular, int *bin, err_t *e)
{
    if (n < 1 || nbins < 1)
        return err_input(e, "binning needs at least one value and one bin (have %d values, %d bins)", n, nbins);
    float *s = malloc(sizeof(float) * n), *w = malloc(sizeof(float) * n);
    float *cut = malloc(sizeof(float) * nbins);
    int *count = calloc(nbins, sizeof(int));
    if (!s || !w || !cut || !count) {
        free(s); free(w); free(cut); free(count);
        return err_set(e, "binning: out of memory");
    }
    for (int i = 0; i < n; i++) {
        if (!isfinite(v[i])) {
            free(s); free(w); free(cut); free(count);
            return err_input(e, "binning: value %d is not finite", i);
        }
        w[i] = circular ? wrap360(v[i]) : v[i];
    }
    memcpy(s, w, sizeof(float) * n);
    qsort(s, n, sizeof(float), cmp_float);
    for (int j = 1; j < nbins; j++)
        cut[j - 1] = s[(long)j * n / nbins];
    int used = 0;
    for (int i = 0; i < n; i++) {
        int lo = 0, hi = nbins - 1;   /* number of cuts <= w[i]: upper bound in cut[0..nbins-2] */
        while (lo < hi) {
            int mid = (lo + hi) / 2;
            if (cut[mid] <= w[i]) lo = mid + 1;
            else hi = mid;
        }
        bin[i] = lo;
        if (!count[lo]++) used++;
    }
    free(s); free(w); free(cut); free(count);
    return used;
}

int bins_latent_is_circular(const char *name)
{
    static const char *const circ[] = {"tilt", "light_azimuth", "bg_angle"};
    for (size_t i = 0; i < sizeof circ / sizeof *circ; i++)
        if (!strcmp(name, circ[i]))
            return 1;
    return 0;
}
