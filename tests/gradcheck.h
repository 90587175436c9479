/* Finite-difference gradient checking for the tests: central differences of
 * a scalar function of a float vector, compared coordinate by coordinate with
 * an analytic gradient.  The functions compute in float32, so the step and
 * tolerance suit that precision.  Where a perturbation crosses a kink (ReLU,
 * max, argmax) the `kinked` callback says so and the coordinate is skipped:
 * the DRMM's switching latents are exactly these kinks. */
#ifndef DRMM_GRADCHECK_H
#define DRMM_GRADCHECK_H

#include <math.h>
#include <stdio.h>

#include "rng.h"

typedef double (*gc_fn)(void *ctx);    /* loss at the current values */
typedef int (*gc_kink_fn)(void *ctx);  /* 1 if the last evaluation crossed a kink */

typedef struct gc_result {
    int checked, skipped, bad;
    double worst;   /* worst relative error among checked coordinates */
} gc_result;

/* Checks every coordinate of v (length n) if samples >= n, else `samples`
 * random ones.  Relative error |fd - an| / max(|fd|, |an|, floor). */
static gc_result gradcheck(float *v, const float *grad, long n, int samples, double h,
                           double tol, double floor, gc_fn f, gc_kink_fn kinked, void *ctx,
                           rng_t *r, const char *what)
{
    gc_result res = {0, 0, 0, 0};
    long count = samples >= n ? n : samples;
    for (long s = 0; s < count; s++) {
        long i = samples >= n ? s : (long)rng_below(r, (uint32_t)n);
        float old = v[i];
        float up = (float)(old + h), down = (float)(old - h);
        v[i] = up;
        double fp = f(ctx);
        int kink = kinked ? kinked(ctx) : 0;
        v[i] = down;
        double fm = f(ctx);
        kink |= kinked ? kinked(ctx) : 0;
        v[i] = old;
        if (kink) {
            res.skipped++;
            continue;
        }
        double fd = (fp - fm) / ((double)up - (double)down), an = grad[i];
        double scale = fmax(fmax(fabs(fd), fabs(an)), floor);
        double rel = fabs(fd - an) / scale;
        res.checked++;
        if (rel > res.worst)
            res.worst = rel;
        if (rel > tol && ++res.bad <= 5)
            printf("  %s[%ld]: finite difference %.7g, analytic %.7g (rel %.3g)\n", what, i, fd, an, rel);
    }
    return res;
}

#endif
