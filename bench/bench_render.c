/* Benchmark of the built-in renderer (src/render/synth.c), default (room2)
 * scene: images/s per core at 32x32 with 4x4 supersampling on 1 thread
 * (target >= 2,000), wall clock and per CPU-second, the same on 2 threads,
 * and the time to render the default 60,000 images with 2 threads
 * (rendering only; storing is measured by bench_ingest/bench_store); then
 * the framed and clutter presets' rates on 1 thread.
 * Exits 1 if the 1-thread rate per CPU-second (what one core renders,
 * whatever else the machine runs) is below the target. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "clock.h"
#include "dataset.h"
#include "error.h"
#include "synth.h"

/* CPU time of the whole process (all threads), for a per-core rate that
 * does not depend on what else the machine is running. */
static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static double last_cpu; /* CPU seconds of the last render() */

static double render_preset(int n, int threads, int size, int ss, int preset)
{
    synth_config c;
    synth_config_default(&c);
    synth_config_preset(&c, preset);
    c.n_train = n;
    c.n_test = 0;
    c.threads = threads;
    c.width = c.height = size;
    c.supersample = ss;
    dataset d;
    err_t e;
    double t0 = clock_seconds(), c0 = cpu_now();
    if (synth_render(&c, &d, &e) != 0) {
        fprintf(stderr, "bench_render: %s\n", e.msg);
        exit(1);
    }
    double dt = clock_seconds() - t0;
    last_cpu = cpu_now() - c0;
    dataset_free(&d);
    return dt;
}

static int default_preset(void)
{
    synth_config c;
    synth_config_default(&c);
    return c.preset;
}

static double render(int n, int threads, int size, int ss)
{
    return render_preset(n, threads, size, ss, default_preset());
}

int main(void)
{
    render(500, 1, 32, 4); /* warm up */
    int n = 10000;
    double t1 = render(n, 1, 32, 4), cpu1 = last_cpu;
    double t2 = render(n, 2, 32, 4), cpu2 = last_cpu;
    double r1 = n / t1, r2 = n / t2;
    printf("bench_render: %s (default) scene, 32x32, 4x4 supersampling: %.0f images/s on 1 thread (wall "
           "clock), %.0f per CPU-second (per core; target >= 2000)\n", synth_preset_name(default_preset()), r1,
           n / cpu1);
    printf("bench_render: 32x32, 4x4 supersampling: %.0f images/s on 2 threads (%.0f per thread, speed-up %.2f)\n",
           r2, r2 / 2, r2 / r1);
    printf("bench_render: images per CPU-second (independent of other load): %.0f with 1 thread, %.0f with 2\n",
           n / cpu1, n / cpu2);
    double t60 = render(60000, 2, 32, 4);
    printf("bench_render: 60,000 images (default set) rendered in %.2f s with 2 threads\n", t60);
    double t64 = render(2000, 1, 64, 4);
    printf("bench_render: 64x64, 4x4 supersampling: %.0f images/s on 1 thread\n", 2000 / t64);
    double tc = render_preset(n, 1, 32, 4, SYNTH_PRESET_CLUTTER);
    printf("bench_render: clutter preset, 32x32, 4x4 supersampling: %.0f images/s on 1 thread (%.0f per CPU-second)\n",
           n / tc, n / last_cpu);
    double ts = render_preset(n, 1, 32, 4, SYNTH_PRESET_FRAMED);
    printf("bench_render: framed preset, 32x32, 4x4 supersampling: %.0f images/s on 1 thread (%.0f per CPU-second)\n",
           n / ts, n / last_cpu);
    if (n / cpu1 < 2000) {
        printf("bench_render: FAIL: %.0f images per CPU-second (one core) is below the 2,000 target\n", n / cpu1);
        return 1;
    }
    return 0;
}
