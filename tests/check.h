/* A minimal test harness: CHECK counts passes and failures and prints every
 * failure with file and line; check_done() prints "N passed, N failed" as the
 * last line and returns the exit status (1 on any failure).
 * Each test program includes this header once. */
#ifndef DRMM_CHECK_H
#define DRMM_CHECK_H

#include <math.h>
#include <stdio.h>

static int check_passed, check_failed;

#define CHECK(cond, ...)                                                     \
    do {                                                                     \
        if (cond) {                                                          \
            check_passed++;                                                  \
        } else {                                                             \
            check_failed++;                                                  \
            printf("FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);           \
            printf(__VA_ARGS__);                                             \
            printf("\n");                                                    \
        }                                                                    \
    } while (0)

/* |a - b| <= tol * max(1, |a|, |b|) */
#define CHECK_CLOSE(a, b, tol, what)                                         \
    do {                                                                     \
        double ca_ = (a), cb_ = (b), sc_ = fabs(ca_) > fabs(cb_) ? fabs(ca_) : fabs(cb_); \
        if (sc_ < 1) sc_ = 1;                                                \
        CHECK(fabs(ca_ - cb_) <= (tol) * sc_, "%s: %.9g vs %.9g", what, ca_, cb_); \
    } while (0)

static inline int check_done(void)
{
    printf("%d passed, %d failed\n", check_passed, check_failed);
    return check_failed ? 1 : 0;
}

#endif
