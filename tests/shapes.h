/* A tiny generated image set for training tests: K classes of simple shapes
 * (horizontal bar, vertical bar, diagonal, hollow square, cross, dot) on an
 * s x s canvas with random position, random brightness and pixel noise.
 * Deterministic for a given seed. */
#ifndef DRMM_TEST_SHAPES_H
#define DRMM_TEST_SHAPES_H

#include <string.h>

#include "rng.h"

static void shape_image(rng_t *r, int cls, int s, float *img)
{
    memset(img, 0, sizeof(float) * s * s);
    int m = s / 2;                     /* shape size */
    int ox = (int)rng_below(r, (uint32_t)(s - m + 1)), oy = (int)rng_below(r, (uint32_t)(s - m + 1));
    float v = 0.6f + 0.4f * (float)rng_uniform(r);
    for (int y = 0; y < m; y++)
        for (int x = 0; x < m; x++) {
            int on = 0;
            switch (cls % 6) {
            case 0: on = y == m / 2 || y == m / 2 - 1; break;                 /* horizontal bar */
            case 1: on = x == m / 2 || x == m / 2 - 1; break;                 /* vertical bar */
            case 2: on = x == y || x == y + 1; break;                         /* diagonal */
            case 3: on = x == 0 || y == 0 || x == m - 1 || y == m - 1; break; /* hollow square */
            case 4: on = x == y || x == m - 1 - y; break;                     /* cross */
            case 5: on = (x - m / 2) * (x - m / 2) + (y - m / 2) * (y - m / 2) <= 2; break;  /* dot */
            }
            if (on)
                img[(oy + y) * s + ox + x] = v;
        }
    for (int k = 0; k < s * s; k++) {
        float p = img[k] + 0.05f * (float)rng_normal(r);
        img[k] = p < 0 ? 0 : p > 1 ? 1 : p;
    }
}

/* n images, labels cycling through the K classes. */
static void shapes_make(uint64_t seed, int n, int K, int s, float *x, int *labels)
{
    rng_t r;
    rng_seed(&r, seed);
    for (int i = 0; i < n; i++) {
        labels[i] = i % K;
        shape_image(&r, labels[i], s, x + (long)i * s * s);
    }
}

#endif
