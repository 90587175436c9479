/* Monotonic wall-clock time in seconds, for timings and rates. */
#ifndef DRMM_CLOCK_H
#define DRMM_CLOCK_H

#include <time.h>

static inline double clock_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec * 1e-9;
}

#endif
