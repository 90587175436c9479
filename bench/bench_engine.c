/* Engine benchmark: ConvSmall DRMM training steps (batch 100 = 50 labelled +
 * 50 unlabelled, 28x28x1, all four losses: forward, top-down, backward and
 * Adam update) and bottom-up inference, with 1 and 2 threads; the sgemm
 * GF/s of this machine and the OpenBLAS core in use; peak memory. */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "blas_kernel.h"
#include "arch_file.h"
#include "clock.h"
#include "drmm.h"
#include "error.h"
#include "optim.h"
#include "rng.h"

static double sgemm_gflops(void)
{
    int n = 512;
    float *a = malloc(sizeof(float) * n * n), *b = malloc(sizeof(float) * n * n), *c = malloc(sizeof(float) * n * n);
    for (int i = 0; i < n * n; i++)
        a[i] = b[i] = 1.0f / (1 + i % 7);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1, a, n, b, n, 0, c, n);
    int reps = 20;
    double t0 = clock_seconds();
    for (int r = 0; r < reps; r++)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1, a, n, b, n, 0, c, n);
    double dt = clock_seconds() - t0;
    free(a); free(b); free(c);
    return 2.0 * n * n * n * reps / dt / 1e9;
}

static int bench(const arch *a, int threads, const float *x, const int *labels, int steps)
{
    drmm_config cfg;
    drmm_config_default(&cfg);
    cfg.threads = threads;
    drmm *m;
    err_t e;
    if (drmm_create(&m, a, &cfg, 1, &e)) {
        fprintf(stderr, "bench: %s\n", e.msg);
        return -1;
    }
    optim o;
    optim_config oc;
    optim_config_default(&oc);
    oc.total_steps = steps + 2;
    optim_init(&o, &oc, drmm_num_params(m), &e);
    drmm_losses L;
    for (int s = 0; s < 2; s++) {  /* warm-up: first touches of the buffers */
        drmm_train_batch(m, x, labels, 50, 100, DRMM_BACKWARD | DRMM_UPDATE_STATS, &L, &e);
        optim_update(&o, drmm_params(m), drmm_grads(m), NULL);
    }
    double t0 = clock_seconds();
    for (int s = 0; s < steps; s++) {
        if (drmm_train_batch(m, x, labels, 50, 100, DRMM_BACKWARD | DRMM_UPDATE_STATS, &L, &e)) {
            fprintf(stderr, "bench: %s\n", e.msg);
            return -1;
        }
        optim_update(&o, drmm_params(m), drmm_grads(m), NULL);
    }
    double dt = clock_seconds() - t0;
    printf("train  ConvSmall DRMM batch 100 (50+50), %d thread%s: %7.0f images/s  (%.1f ms/step)\n", threads,
           threads > 1 ? "s" : "", steps * 100 / dt, dt / steps * 1e3);
    float *probs = malloc(sizeof(float) * 100 * 10);
    drmm_predict(m, x, 100, probs, &e);
    int reps = steps * 3;
    t0 = clock_seconds();
    for (int r = 0; r < reps; r++)
        drmm_predict(m, x, 100, probs, &e);
    dt = clock_seconds() - t0;
    printf("infer  ConvSmall bottom-up batch 100, %d thread%s:      %7.0f images/s\n", threads, threads > 1 ? "s" : "",
           reps * 100 / dt);
    free(probs);
    optim_free(&o);
    drmm_free(m);
    return 0;
}

int main(int argc, char **argv)
{
    (void)argc;
    blas_kernel_setup(argv);
    blas_kernel_report("bench", 0);
    openblas_set_num_threads(1);
    err_t e;
    arch a;
    if (arch_load(&a, "archs/convsmall.arch", &e)) {
        fprintf(stderr, "bench: %s\n", e.msg);
        return 1;
    }
    printf("OpenBLAS core: %s (%s); sgemm 512^3 on 1 thread: %.1f GF/s\n", openblas_get_corename(),
           blas_kernel_line(), sgemm_gflops());
    rng_t r;
    rng_seed(&r, 1);
    float *x = malloc(sizeof(float) * 100 * 784);
    int labels[100];
    for (int i = 0; i < 100 * 784; i++)
        x[i] = (float)rng_uniform(&r);
    for (int i = 0; i < 100; i++)
        labels[i] = i % 10;
    int steps = getenv("BENCH_STEPS") ? atoi(getenv("BENCH_STEPS")) : 20;
    if (bench(&a, 1, x, labels, steps) || bench(&a, 2, x, labels, steps))
        return 1;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("peak memory (max RSS): %.0f MB\n", ru.ru_maxrss / 1024.0);
    free(x);
    arch_free(&a);
    return 0;
}
