/* Engine benchmark (issue 14): ConvSmall DRMM training steps (batch 100 = 50
 * labelled + 50 unlabelled, 28x28x1, all four losses: forward, top-down,
 * backward and Adam update) and bottom-up inference with 1 and 2 threads,
 * side by side with the PyTorch peer (TORCH_PEER, run here when Debian's
 * python3-torch is importable by /usr/bin/python3); the two sgemm-only
 * ceilings of a training step; ConvLarge's training speed, its ceilings and
 * the paper profile's projected time per epoch.  Beside wall-clock images/s,
 * the CPU time of the process per batch (all threads; median): on a shared
 * machine it counts the work done, not the waits for a core.
 *
 * The sgemm-only ceiling: this program defines cblas_sgemm itself, so the
 * engine's calls (libdrmm.a is linked statically) come here first and are
 * passed on to OpenBLAS's (dlsym RTLD_NEXT).  During one training step the
 * calls are recorded (transposes, M, N, K, leading dimensions, beta and the
 * thread that made them); they are then replayed alone, each thread's calls
 * on its own thread as in the step, on buffers of the same shapes.  The
 * replay's time is the time the step would take if only its sgemm calls ran:
 * batch / that time is the ceiling in images/s.  Recording the engine's own
 * calls rather than listing the shapes here keeps the ceiling exact when the
 * engine changes how it cuts the batch (conv.c: CONV_BATCH_COLUMNS).
 *
 * Two recordings, two ceilings: the step's own sgemm calls, and those of the
 * same step with every convolution computed by im2col + sgemm
 * (drmm_set_conv_im2col, forced for one recorded step).  Winograd does part
 * of a 3x3 convolution's work as transforms outside sgemm and fewer
 * multiplications in all than any GEMM formulation, so the replay of its own
 * calls is no ceiling of the step; the im2col recording is the GEMM
 * formulation's ceiling, the one the targets are stated against. */
#include <cblas.h>
#include <dlfcn.h>
#include <pthread.h>
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

/* ---- recording sgemm ---- */

typedef void (*sgemm_fn)(enum CBLAS_ORDER, enum CBLAS_TRANSPOSE, enum CBLAS_TRANSPOSE, blasint, blasint, blasint,
                         float, const float *, blasint, const float *, blasint, float, float *, blasint);

typedef struct gemm_call {
    enum CBLAS_ORDER order;
    enum CBLAS_TRANSPOSE ta, tb;
    int m, n, k, lda, ldb, ldc, slot;
    float beta;
} gemm_call;

/* One step's sgemm calls in the order made; slots number the threads that
   made them, in the order of their first call. */
typedef struct recording {
    gemm_call *calls;
    int n, cap, slots;
} recording;

static sgemm_fn real_sgemm;
static pthread_mutex_t rec_mu = PTHREAD_MUTEX_INITIALIZER;
static recording *rec;   /* where cblas_sgemm records now; NULL: nowhere */
static __thread int rec_slot = -1;
static __thread int rec_generation;
static int rec_gen = 1;   /* bumped per recording: slots are numbered afresh */
/* seconds the calling thread spent inside OpenBLAS's sgemm (the main
   thread's: it runs the first chunk of every parallel loop and the serial
   parts), and whether to count them */
static __thread double in_sgemm;
static int time_on;

void cblas_sgemm(OPENBLAS_CONST enum CBLAS_ORDER order, OPENBLAS_CONST enum CBLAS_TRANSPOSE ta,
                 OPENBLAS_CONST enum CBLAS_TRANSPOSE tb, OPENBLAS_CONST blasint m, OPENBLAS_CONST blasint n,
                 OPENBLAS_CONST blasint k, OPENBLAS_CONST float alpha, OPENBLAS_CONST float *a,
                 OPENBLAS_CONST blasint lda, OPENBLAS_CONST float *b, OPENBLAS_CONST blasint ldb,
                 OPENBLAS_CONST float beta, float *c, OPENBLAS_CONST blasint ldc)
{
    recording *r = __atomic_load_n(&rec, __ATOMIC_ACQUIRE);
    if (r) {
        pthread_mutex_lock(&rec_mu);
        if (rec_generation != rec_gen) {
            rec_generation = rec_gen;
            rec_slot = r->slots++;
        }
        if (r->n == r->cap) {
            r->cap = r->cap ? 2 * r->cap : 1024;
            r->calls = realloc(r->calls, sizeof *r->calls * r->cap);
            if (!r->calls) {
                fprintf(stderr, "bench: out of memory\n");
                exit(1);
            }
        }
        r->calls[r->n++] = (gemm_call){order, ta, tb, m, n, k, lda, ldb, ldc, rec_slot, beta};
        pthread_mutex_unlock(&rec_mu);
    }
    if (!__atomic_load_n(&time_on, __ATOMIC_RELAXED)) {
        real_sgemm(order, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
        return;
    }
    double t0 = clock_seconds();
    real_sgemm(order, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    in_sgemm += clock_seconds() - t0;
}

/* The following sgemm calls go to r (emptied first), until rec_stop. */
static void rec_start(recording *r)
{
    r->n = 0;
    r->slots = 0;
    rec_gen++;
    __atomic_store_n(&rec, r, __ATOMIC_RELEASE);
}

static void rec_stop(void) { __atomic_store_n(&rec, NULL, __ATOMIC_RELEASE); }

/* ---- replaying the recorded calls ---- */

typedef struct replay_slot {
    const recording *r;
    int slot;
    float *a, *b, *c;
} replay_slot;

static long rows_a(const gemm_call *g) { return (g->order == CblasRowMajor) == (g->ta == CblasNoTrans) ? g->m : g->k; }
static long rows_b(const gemm_call *g) { return (g->order == CblasRowMajor) == (g->tb == CblasNoTrans) ? g->k : g->n; }
static long rows_c(const gemm_call *g) { return g->order == CblasRowMajor ? g->m : g->n; }

static void *replay_run(void *arg)
{
    replay_slot *s = arg;
    for (int i = 0; i < s->r->n; i++) {
        const gemm_call *g = &s->r->calls[i];
        if (g->slot == s->slot)
            real_sgemm(g->order, g->ta, g->tb, g->m, g->n, g->k, 1.0f, s->a, g->lda, s->b, g->ldb, g->beta, s->c,
                       g->ldc);
    }
    return NULL;
}

static float *filled(long n, float v)
{
    float *p = malloc(sizeof(float) * (n > 0 ? n : 1));
    if (!p) {
        fprintf(stderr, "bench: out of memory\n");
        exit(1);
    }
    for (long i = 0; i < n; i++)
        p[i] = v * (1 + (float)(i % 13) / 13);
    return p;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Replays recording r reps times (after one untimed pass), every slot on
 * its own thread; median and best wall time per pass. */
static void replay(const recording *r, int reps, double *med, double *best)
{
    replay_slot *s = calloc(r->slots, sizeof *s);
    pthread_t *th = calloc(r->slots, sizeof *th);
    for (int t = 0; t < r->slots; t++) {
        long na = 0, nb = 0, nc = 0;
        for (int i = 0; i < r->n; i++) {
            const gemm_call *g = &r->calls[i];
            if (g->slot != t)
                continue;
            if (rows_a(g) * g->lda > na) na = rows_a(g) * g->lda;
            if (rows_b(g) * g->ldb > nb) nb = rows_b(g) * g->ldb;
            if (rows_c(g) * g->ldc > nc) nc = rows_c(g) * g->ldc;
        }
        s[t] = (replay_slot){r, t, filled(na, 0.01f), filled(nb, 0.02f), filled(nc, 0.0f)};
    }
    double *dt = malloc(sizeof(double) * (reps + 1));
    for (int p = 0; p <= reps; p++) {
        double t0 = clock_seconds();
        for (int t = 1; t < r->slots; t++)
            pthread_create(&th[t], NULL, replay_run, &s[t]);
        replay_run(&s[0]);
        for (int t = 1; t < r->slots; t++)
            pthread_join(th[t], NULL);
        dt[p] = clock_seconds() - t0;
    }
    *best = dt[1];
    for (int p = 2; p <= reps; p++)
        if (dt[p] < *best)
            *best = dt[p];
    *med = median(dt + 1, reps);
    for (int t = 0; t < r->slots; t++) {
        free(s[t].a);
        free(s[t].b);
        free(s[t].c);
    }
    free(s);
    free(th);
    free(dt);
}

static double rec_gflop(const recording *r)
{
    double f = 0;
    for (int i = 0; i < r->n; i++)
        f += 2.0 * r->calls[i].m * r->calls[i].n * r->calls[i].k;
    return f / 1e9;
}

/* One image's bottom-up convolutions in GFLOP, from the architecture alone
 * (a check on the recording: a step is about 4-5 of these per image). */
static double arch_gflop(const arch *a)
{
    double f = 0;
    for (int l = 0; l < a->nblocks; l++) {
        const conv_geom *g = &a->blocks[l].g;
        f += 2.0 * g->cout * g->cin * g->k * g->k * g->ho * g->wo;
    }
    return f / 1e9;
}

/* CPU time of the process (every thread), in seconds: on a shared machine
 * it counts the work done, not the time spent waiting for a core. */
static double cpu_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

static double sgemm_gflops(void)
{
    int n = 512;
    float *a = filled((long)n * n, 0.5f), *b = filled((long)n * n, 0.5f), *c = filled((long)n * n, 0);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1, a, n, b, n, 0, c, n);
    int reps = 20;
    double t0 = clock_seconds();
    for (int r = 0; r < reps; r++)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1, a, n, b, n, 0, c, n);
    double dt = clock_seconds() - t0;
    free(a); free(b); free(c);
    return 2.0 * n * n * n * reps / dt / 1e9;
}

/* ---- the C side ---- */

/* One sgemm-only ceiling: a recorded step's sgemm calls, replayed alone. */
typedef struct ceiling {
    int calls;
    double gflop;
    double med, best;   /* s per replay of the step's calls: median, best (0: not replayed) */
} ceiling;

typedef struct result {
    double step_med, step_best;   /* s per training step */
    double step_cpu;              /* CPU seconds of the process per training step (median; all threads) */
    double infer_cpu;             /* the same per inference batch */
    double sgemm_share;           /* share of the timed steps the main thread spent in sgemm */
    double infer_med, infer_best; /* s per inference batch (0: not measured) */
    ceiling own;                  /* the step's own sgemm calls */
    ceiling gemm;                 /* the same step's with every convolution by im2col + sgemm */
} result;

static int conv_im2col;   /* BENCH_CONV=im2col: every convolution by im2col + sgemm (drmm_set_conv_im2col) */

/* One training step (50 labelled + 50 unlabelled rows) and its Adam update;
 * its sgemm calls recorded in r unless r is NULL. */
static int train_step(drmm *m, drmm_acts *acts, optim *o, const float *x, const int *labels, recording *r, err_t *e)
{
    drmm_losses L;
    if (r)
        rec_start(r);
    int rc = drmm_train_batch(m, acts, x, labels, 50, 100, DRMM_BACKWARD | DRMM_UPDATE_STATS, &L, e);
    if (!rc)
        optim_update(o, drmm_params(m), drmm_grads(m), NULL);
    rec_stop();
    return rc;
}

/* c from recording r: its calls and GFLOP, and (reps > 0) its replay. */
static void ceiling_measure(const recording *r, int reps, ceiling *c)
{
    c->calls = r->n;
    c->gflop = rec_gflop(r);
    if (reps > 0)
        replay(r, reps, &c->med, &c->best);
}

/* (replays) one untimed step with every convolution by im2col + sgemm,
 * recorded; warm untimed steps (the last one recorded); steps timed ones;
 * (infer) 3 * steps timed inference batches; then (replays) each recording
 * replayed that many times. */
static int bench(const arch *a, int threads, int unsup_both, const float *x, const int *labels, int warm, int steps,
                 int replays, int infer, result *res)
{
    memset(res, 0, sizeof *res);
    drmm_config cfg;
    drmm_config_default(&cfg);
    cfg.threads = threads;
    cfg.unsup_both = unsup_both;
    drmm *m;
    drmm_acts *acts;
    err_t e;
    if (drmm_create(&m, a, &cfg, 1, &e) || drmm_acts_create(m, 100, &acts, &e)) {
        fprintf(stderr, "bench: %s\n", e.msg);
        return -1;
    }
    drmm_set_conv_im2col(m, conv_im2col);
    optim o;
    optim_config oc;
    optim_config_default(&oc);
    oc.total_steps = 1 + warm + steps;
    optim_init(&o, &oc, drmm_num_params(m), &e);
    recording own = {0}, gemm = {0};
    double *dt = malloc(sizeof(double) * 3 * steps), *ct = malloc(sizeof(double) * 3 * steps);
    int rc = 0;
    if (replays > 0) {   /* the GEMM formulation's step: first, so that the warm-up steps follow it */
        drmm_set_conv_im2col(m, 1);
        rc = train_step(m, acts, &o, x, labels, &gemm, &e);
        drmm_set_conv_im2col(m, conv_im2col);
    }
    for (int s = 0; s < warm && !rc; s++)   /* warm-up: first touches of the buffers; the last one is recorded */
        rc = train_step(m, acts, &o, x, labels, s == warm - 1 ? &own : NULL, &e);
    in_sgemm = 0;
    time_on = 1;
    double all0 = clock_seconds();
    for (int s = 0; s < steps && !rc; s++) {
        double t0 = clock_seconds(), c0 = cpu_seconds();
        rc = train_step(m, acts, &o, x, labels, NULL, &e);
        dt[s] = clock_seconds() - t0;
        ct[s] = cpu_seconds() - c0;
    }
    time_on = 0;
    if (rc) {
        fprintf(stderr, "bench: %s\n", e.msg);
        return -1;
    }
    res->sgemm_share = in_sgemm / (clock_seconds() - all0);
    res->step_med = median(dt, steps);   /* sorts dt: dt[0] is the best */
    res->step_best = dt[0];
    res->step_cpu = median(ct, steps);
    if (infer) {
        float *probs = malloc(sizeof(float) * 100 * 10);
        drmm_predict(m, acts, x, 100, probs, &e);
        int reps = steps * 3;
        for (int r = 0; r < reps; r++) {
            double t0 = clock_seconds(), c0 = cpu_seconds();
            drmm_predict(m, acts, x, 100, probs, &e);
            dt[r] = clock_seconds() - t0;
            ct[r] = cpu_seconds() - c0;
        }
        res->infer_cpu = median(ct, reps);
        res->infer_med = median(dt, reps);
        res->infer_best = dt[0];
        free(probs);
    }
    free(dt);
    free(ct);
    optim_free(&o);
    drmm_acts_free(acts);
    drmm_free(m);
    ceiling_measure(&own, replays, &res->own);
    if (replays > 0)
        ceiling_measure(&gemm, replays, &res->gemm);
    free(own.calls);
    free(gemm.calls);
    return 0;
}

/* How each block's bottom-up convolution is computed (drmm_conv_path). */
static int print_conv_paths(const char *name, const arch *a)
{
    drmm_config cfg;
    drmm_config_default(&cfg);
    drmm *m;
    err_t e;
    if (drmm_create(&m, a, &cfg, 1, &e)) {
        fprintf(stderr, "bench: %s\n", e.msg);
        return -1;
    }
    drmm_set_conv_im2col(m, conv_im2col);
    printf("%s convolutions%s, bottom-up; transposed (top-down, backward to the input):\n", name,
           conv_im2col ? " (BENCH_CONV=im2col)" : "");
    for (int l = 0; l < a->nblocks; l++) {
        const conv_geom *g = &a->blocks[l].g;
        printf("  block %d: %dx%d, %d -> %d channels, %dx%d -> %dx%d: %s; %s\n", l, g->k, g->k, g->cin, g->cout, g->h,
               g->w, g->ho, g->wo, drmm_conv_path(m, l, 0), drmm_conv_path(m, l, 1));
    }
    drmm_free(m);
    return 0;
}

/* The labels of the two ceilings, as printed. */
static const char *const CEIL_OWN = "own sgemm calls";
static const char *const CEIL_GEMM = "the convolutions as im2col GEMMs (the GEMM formulation's ceiling)";

/* One ceiling's line: its calls, GFLOP, replay time, GF/s and images/s, and
 * the training step r against it: the share of the ceiling's speed it runs
 * at (multiple 0: ConvSmall) or its time as a multiple of the replay's
 * (ConvLarge); target, if not NULL, is printed with it. */
static void print_ceiling(const char *indent, const char *label, const result *r, const ceiling *c, int multiple,
                          const char *target)
{
    printf("%s%s: %d calls, %.1f GFLOP: %.1f ms (best %.1f) = %.0f GF/s -> ceiling %.*f images/s; ", indent, label,
           c->calls, c->gflop, 1e3 * c->med, 1e3 * c->best, c->gflop / c->med, multiple ? 1 : 0, 100 / c->med);
    if (multiple)
        printf("step / ceiling = %.2fx (best/best %.2fx", r->step_med / c->med, r->step_best / c->best);
    else
        printf("training at %.0f%% of it (best step / best replay: %.0f%%", 100 * c->med / r->step_med,
               100 * c->best / r->step_best);
    printf("%s%s)\n", target ? "; target " : "", target ? target : "");
}

/* ---- the PyTorch peer ---- */

typedef struct peer {
    int ok;
    double train, train_best, infer, infer_best;   /* images/s: median, at the best step */
    char capability[32], torch[32];
} peer;

static const char *peer_path(void)
{
    const char *p = getenv("TORCH_PEER");
    return p && *p ? p : "../shared/bench/torch_convsmall.py";
}

/* NULL when the peer can run, else why not. */
static const char *peer_missing(void)
{
    FILE *f = fopen(peer_path(), "r");
    if (!f)
        return "its script is not there (set TORCH_PEER=path/to/torch_convsmall.py)";
    fclose(f);
    if (system("/usr/bin/python3 -c 'import torch' >/dev/null 2>&1") != 0)
        return "Debian's python3-torch is not importable by /usr/bin/python3 (apt-get install -y python3-torch)";
    return NULL;
}

/* The peer's settings (its README): oneDNN's CPU capability from this CPU's
 * features, the BLAS kernel the C side uses, one OpenBLAS thread, and the
 * allocator kept from returning memory.  Settings the user made win. */
static void peer_command(char *cmd, size_t size, int threads, int steps)
{
    blas_cpu cpu;
    blas_kernel_cpu(&cpu);
    const char *cap = getenv("ATEN_CPU_CAPABILITY"), *core = getenv("OPENBLAS_CORETYPE");
    if (!cap || !*cap)
        cap = cpu.avx512 ? "avx512" : cpu.avx2_fma ? "avx2" : "default";
    if (!core || !*core)
        core = blas_kernel_best(&cpu, blas_kernel_library());
    snprintf(cmd, size,
             "ATEN_CPU_CAPABILITY=%s %s%s OPENBLAS_NUM_THREADS=1 MALLOC_MMAP_THRESHOLD_=33554432 "
             "MALLOC_TRIM_THRESHOLD_=100000000000 MALLOC_TOP_PAD_=536870912 "
             "/usr/bin/python3 '%s' --threads %d --warmup 3 --steps %d 2>&1",
             cap, *core ? "OPENBLAS_CORETYPE=" : "", core, peer_path(), threads, steps);
}

static void peer_run(int threads, int steps, peer *p)
{
    memset(p, 0, sizeof *p);
    char cmd[1024], line[4096];
    peer_command(cmd, sizeof cmd, threads, steps);
    FILE *f = popen(cmd, "r");
    if (!f)
        return;
    int got = 0;
    while (fgets(line, sizeof line, f)) {
        char *s;
        if (!strncmp(line, "torch ", 6)) {
            sscanf(line + 6, "%31s", p->torch);
            if ((s = strstr(line, "cpu_capability=")))
                sscanf(s + 15, "%31s", p->capability);
        } else if (!strncmp(line, "TRAIN", 5) && (s = strstr(line, "-> ")))
            got += sscanf(s, "-> %lf images/s (at min: %lf)", &p->train, &p->train_best) == 2;
        else if (!strncmp(line, "INFER", 5) && (s = strstr(line, "-> ")))
            got += sscanf(s, "-> %lf images/s (at min: %lf)", &p->infer, &p->infer_best) == 2;
    }
    int st = pclose(f);
    p->ok = got == 2 && st == 0;
    if (!p->ok)
        fprintf(stderr, "bench: the PyTorch peer failed (exit %d): %s\n", st, cmd);
}

static void loadavg(const char *when)
{
    char s[128] = "?";
    FILE *f = fopen("/proc/loadavg", "r");
    if (f) {
        if (!fgets(s, sizeof s, f))
            strcpy(s, "?\n");
        fclose(f);
    }
    printf("load average %s: %s", when, s);
}

int main(int argc, char **argv)
{
    (void)argc;
    blas_kernel_setup(argv);
    blas_kernel_report("bench", 0);
    real_sgemm = (sgemm_fn)dlsym(RTLD_NEXT, "cblas_sgemm");
    if (!real_sgemm) {
        fprintf(stderr, "bench: cannot find OpenBLAS's cblas_sgemm: %s\n", dlerror());
        return 1;
    }
    openblas_set_num_threads(1);
    loadavg("at start");
    err_t e;
    arch a, big;
    if (arch_load(&a, "archs/convsmall.arch", &e) || arch_load(&big, "archs/convlarge.arch", &e)) {
        fprintf(stderr, "bench: %s\n", e.msg);
        return 1;
    }
    printf("OpenBLAS core: %s (%s); sgemm 512^3 on 1 thread: %.1f GF/s\n", openblas_get_corename(),
           blas_kernel_line(), sgemm_gflops());
    rng_t r;
    rng_seed(&r, 1);
    float *x = malloc(sizeof(float) * 100 * 32 * 32);
    int labels[100];
    for (int i = 0; i < 100 * 32 * 32; i++)
        x[i] = (float)rng_uniform(&r);
    for (int i = 0; i < 100; i++)
        labels[i] = i % 10;
    int steps = getenv("BENCH_STEPS") ? atoi(getenv("BENCH_STEPS")) : 20;
    conv_im2col = getenv("BENCH_CONV") && !strcmp(getenv("BENCH_CONV"), "im2col");
    if (print_conv_paths("ConvSmall", &a) || print_conv_paths("ConvLarge", &big))
        return 1;
    if (steps < 3)
        steps = 3;

    /* ConvSmall: C, then the peer, 1 and 2 threads */
    /* c: as the project trains by default (RC, KL, NN on the 50 unlabelled rows: top-down for those only);
       cb: --unsup-half both, top-down for all 100 rows as the peer does: the same work as the peer */
    result c[2], cb[2];
    peer p[2] = {{0}};
    const char *missing = peer_missing();
    for (int t = 0; t < 2; t++) {
        if (bench(&a, t + 1, 0, x, labels, 2, steps, 10, 1, &c[t]) ||
            bench(&a, t + 1, 1, x, labels, 1, steps / 2, 0, 0, &cb[t]))
            return 1;
        printf("train  ConvSmall DRMM batch 100 (50+50), %d thread%s: %7.0f images/s (best step %.0f), "
               "top-down on all rows %.0f (best %.0f); infer %7.0f images/s (best %.0f); CPU time per batch "
               "(all threads): train %.1f ms, top-down on all rows %.1f ms, infer %.1f ms\n",
               t + 1, t ? "s" : "", 100 / c[t].step_med, 100 / c[t].step_best, 100 / cb[t].step_med,
               100 / cb[t].step_best, 100 / c[t].infer_med, 100 / c[t].infer_best, 1e3 * c[t].step_cpu,
               1e3 * cb[t].step_cpu, 1e3 * c[t].infer_cpu);
        if (!missing)
            peer_run(t + 1, steps / 2, &p[t]);
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("peak memory (max RSS) after ConvSmall: %.0f MB\n", ru.ru_maxrss / 1024.0);

    printf("\nConvSmall DRMM, batch 100 (50 labelled + 50 unlabelled), images/s, median step (best step):\n");
    printf("  C: %s\n", blas_kernel_line());
    if (missing)
        printf("  PyTorch peer: skipped: %s\n", missing);
    else
        printf("  PyTorch %s (%s): cpu_capability=%s\n", p[0].torch, peer_path(),
               p[0].capability[0] ? p[0].capability : "?");
    printf("  C*: with --unsup-half both (top-down on all 100 rows as the peer; the default renders the 50 "
           "unlabelled rows)\n");
    printf("  %-18s %14s %14s %14s %10s %10s\n", "", "C", "C*", "PyTorch", "C/PyTorch", "C*/PyTorch");
    for (int k = 0; k < 4; k++) {
        int t = k % 2, inf = k / 2;
        double cv = 100 / (inf ? c[t].infer_med : c[t].step_med), cbv = 100 / (inf ? c[t].infer_best : c[t].step_best);
        double pv = inf ? p[t].infer : p[t].train, pb = inf ? p[t].infer_best : p[t].train_best;
        char row[32], cs[32], bs[32] = "-", ps[32] = "-", rs[16] = "-", rbs[16] = "-";
        snprintf(row, sizeof row, "%s, %d thread%s", inf ? "infer" : "train", t + 1, t ? "s" : "");
        snprintf(cs, sizeof cs, "%.0f (%.0f)", cv, cbv);
        if (!inf)
            snprintf(bs, sizeof bs, "%.0f (%.0f)", 100 / cb[t].step_med, 100 / cb[t].step_best);
        if (p[t].ok) {
            snprintf(ps, sizeof ps, "%.0f (%.0f)", pv, pb);
            snprintf(rs, sizeof rs, "%.2f", cv / pv);
            if (!inf)
                snprintf(rbs, sizeof rbs, "%.2f", 100 / cb[t].step_med / pv);
        }
        printf("  %-18s %14s %14s %14s %10s %10s\n", row, cs, bs, ps, rs, rbs);
    }
    printf("  targets: C/PyTorch >= 2 for training and inference, 1 and 2 threads\n");

    printf("\nsgemm-only ceilings of a ConvSmall training step (bottom-up convs %.3f GFLOP/image): one step's "
           "sgemm calls recorded, then replayed alone, each thread's calls on its own thread;\n"
           "  %s: the step as it runs (Winograd's transforms do part of the convolutions' work outside sgemm, "
           "in fewer FLOPs than any GEMM formulation: no ceiling of the step);\n"
           "  %s: the same step with every convolution by im2col + sgemm:\n", arch_gflop(&a), CEIL_OWN, CEIL_GEMM);
    for (int t = 0; t < 2; t++) {
        printf("  %d thread%s (the main thread spent %.0f%% of the steps in sgemm):\n", t + 1, t ? "s" : "",
               100 * c[t].sgemm_share);
        print_ceiling("    ", CEIL_OWN, &c[t], &c[t].own, 0, NULL);
        print_ceiling("    ", CEIL_GEMM, &c[t], &c[t].gemm, 0, ">= 70%");
    }

    /* ConvLarge: a few steps with 2 threads */
    int lsteps = getenv("BENCH_LARGE_STEPS") ? atoi(getenv("BENCH_LARGE_STEPS")) : 3;
    int lthreads = getenv("BENCH_LARGE_THREADS") ? atoi(getenv("BENCH_LARGE_THREADS")) : 2;
    result L;
    if (lsteps < 1) {   /* BENCH_LARGE_STEPS=0: no ConvLarge */
        loadavg("at end");
        return 0;
    }
    if (bench(&big, lthreads, 0, x, labels, 1, lsteps, 2, 0, &L))
        return 1;
    /* pipeline/profiles/paper.mk: ConvLarge on 50,000 training images (synthetic SYNTH_TRAIN, CIFAR-10);
       an epoch is one pass over them 50 unlabelled rows a step (trainer.c: steps_per_epoch = n / (batch/2)) */
    const double paper_images = 50000, paper_epochs = 500, epoch_steps = paper_images / 50;
    printf("\nConvLarge DRMM (archs/convlarge.arch, 32x32x1), batch 100 (50+50), %d thread%s, %d step%s after 1 "
           "warm-up (bottom-up convs %.3f GFLOP/image):\n", lthreads, lthreads > 1 ? "s" : "", lsteps,
           lsteps > 1 ? "s" : "", arch_gflop(&big));
    printf("  train %.2f s/step (best %.2f) = %.1f images/s; main thread in sgemm %.0f%% of the steps; sgemm-only "
           "ceilings:\n", L.step_med, L.step_best, 100 / L.step_med, 100 * L.sgemm_share);
    print_ceiling("    ", CEIL_OWN, &L, &L.own, 1, NULL);
    print_ceiling("    ", CEIL_GEMM, &L, &L.gemm, 1, "<= 1.5x");
    printf("  paper profile (pipeline/profiles/paper.mk: %.0f training images, %.0f steps of batch 100 per epoch, "
           "%.0f epochs): %.1f min per epoch (%.1f at the best step), %.1f days per run (one label count, one seed)\n",
           paper_images, epoch_steps, paper_epochs, epoch_steps * L.step_med / 60, epoch_steps * L.step_best / 60,
           paper_epochs * epoch_steps * L.step_med / 86400);
    getrusage(RUSAGE_SELF, &ru);
    printf("peak memory (max RSS) with ConvLarge: %.0f MB\n", ru.ru_maxrss / 1024.0);
    loadavg("at end");
    free(x);
    arch_free(&a);
    arch_free(&big);
    return 0;
}
