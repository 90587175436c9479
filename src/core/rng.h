/* Seeded pseudo-random numbers: xoshiro256** seeded through splitmix64.
 * The whole state is four 64-bit words, so it can be saved with a checkpoint
 * and restored to continue the exact same sequence.  Never use rand(). */
#ifndef DRMM_RNG_H
#define DRMM_RNG_H

#include <stdint.h>

typedef struct rng_t {
    uint64_t s[4];
} rng_t;

void     rng_seed(rng_t *r, uint64_t seed);
uint64_t rng_next(rng_t *r);                  /* 64 uniform bits */
double   rng_uniform(rng_t *r);               /* [0, 1), 53 bits */
uint32_t rng_below(rng_t *r, uint32_t n);     /* uniform integer in [0, n), unbiased */
double   rng_normal(rng_t *r);                /* standard normal (Box-Muller, no cache) */
void     rng_shuffle(rng_t *r, int *a, int n);/* Fisher-Yates */
/* An independent stream derived from r's seed material and a tag. */
rng_t    rng_split(const rng_t *r, uint64_t tag);

#endif
