/* The BLAS kernel choice (src/run/blas_kernel.c): the decision as a pure
 * function of (OPENBLAS_CORETYPE, re-exec marker, reported core, CPU
 * features, library kernels) for every case; a real re-exec of this binary
 * (mode --probe) with OpenBLAS's guess forced low through the test-only
 * DRMM_BLAS_TEST_CORE; a user's kernel kept with a warning; a kernel the
 * re-executed process did not get warned about without a second re-exec; a
 * real program (bin/synth, bin/train) printing the line and the store
 * recording the kernel actually used; and the numbers agreeing across the
 * kernels this CPU supports: a DRMM loss and gradient (mode --loss) to float
 * tolerance, and the gradient-check tests test_ops and test_drmm passing
 * under each kernel.  Binaries in $BIN (default bin). */
#include <cblas.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "check.h"
#include "fixture.h"

#include "arch.h"
#include "blas_kernel.h"
#include "drmm.h"
#include "error.h"
#include "rng.h"

static const blas_cpu CPU_BF16 = {1, 1, 1}, CPU_512 = {1, 1, 0}, CPU_AVX2 = {1, 0, 0}, CPU_OLD = {0, 0, 0};
static const unsigned ALL = BLAS_HAS_HASWELL | BLAS_HAS_SKYLAKEX | BLAS_HAS_COOPERLAKE;

/* One decision: expected action, target ("" for keep), warning, and a
 * substring of the line (or the whole line when exact). */
static void dec(const char *name, const char *user, const char *marker, const char *reported, const blas_cpu *cpu,
                unsigned has, blas_action action, const char *target, int warn, const char *line, int exact)
{
    blas_decision d;
    blas_kernel_decide(user, marker, reported, cpu, has, &d);
    CHECK(d.action == action, "%s: action %d, expected %d (%s)", name, d.action, action, d.line);
    CHECK(!strcmp(d.target, action == BLAS_REEXEC ? target : ""), "%s: target '%s', expected '%s'", name, d.target,
          target);
    CHECK(d.warn == warn, "%s: warn %d, expected %d (%s)", name, d.warn, warn, d.line);
    CHECK(exact ? !strcmp(d.line, line) : strstr(d.line, line) != NULL, "%s: line '%s', expected %s'%s'", name,
          d.line, exact ? "" : "it to contain ", line);
}

static void test_pure(void)
{
    CHECK(blas_kernel_tier("Prescott") == 0 && blas_kernel_tier("sandybridge") == 1 &&
              blas_kernel_tier("Zen") == 2 && blas_kernel_tier("HASWELL") == 2 &&
              blas_kernel_tier("SkylakeX") == 3 && blas_kernel_tier("Cooperlake") == 3 &&
              blas_kernel_tier("FutureLake") == -1 && blas_kernel_tier(NULL) == -1,
          "tiers");
    CHECK(!strcmp(blas_kernel_best(&CPU_BF16, ALL), "Cooperlake"), "best: bf16");
    CHECK(!strcmp(blas_kernel_best(&CPU_BF16, BLAS_HAS_HASWELL | BLAS_HAS_SKYLAKEX), "SkylakeX"),
          "best: bf16 without Cooperlake in the library");
    CHECK(!strcmp(blas_kernel_best(&CPU_512, ALL), "SkylakeX"), "best: AVX-512");
    CHECK(!strcmp(blas_kernel_best(&CPU_512, BLAS_HAS_HASWELL), "Haswell"), "best: AVX-512, library only Haswell");
    CHECK(!strcmp(blas_kernel_best(&CPU_AVX2, ALL), "Haswell"), "best: AVX2");
    CHECK(!strcmp(blas_kernel_best(&CPU_OLD, ALL), ""), "best: old CPU");
    CHECK(!strcmp(blas_kernel_best(&CPU_512, 0), ""), "best: single-kernel library");

    /* OPENBLAS_CORETYPE unset: re-exec when OpenBLAS's pick is below the CPU. */
    dec("generic on bf16", NULL, NULL, "Prescott", &CPU_BF16, ALL, BLAS_REEXEC, "Cooperlake", 0,
        "BLAS kernel Prescott (OpenBLAS picked Prescott, CPU has AVX-512: re-executing with Cooperlake)", 1);
    dec("generic on AVX-512", NULL, NULL, "Prescott", &CPU_512, ALL, BLAS_REEXEC, "SkylakeX", 0, "", 0);
    dec("generic on bf16, no Cooperlake", NULL, NULL, "Prescott", &CPU_BF16, BLAS_HAS_HASWELL | BLAS_HAS_SKYLAKEX,
        BLAS_REEXEC, "SkylakeX", 0, "", 0);
    dec("Haswell on AVX-512", NULL, NULL, "Haswell", &CPU_512, ALL, BLAS_REEXEC, "SkylakeX", 0, "", 0);
    dec("Zen on bf16", NULL, NULL, "Zen", &CPU_BF16, ALL, BLAS_REEXEC, "Cooperlake", 0, "", 0);
    dec("generic on AVX2", NULL, NULL, "Prescott", &CPU_AVX2, ALL, BLAS_REEXEC, "Haswell", 0, "", 0);
    dec("Sandybridge on AVX2", NULL, NULL, "Sandybridge", &CPU_AVX2, ALL, BLAS_REEXEC, "Haswell", 0, "", 0);
    dec("empty variable = unset", "", NULL, "Prescott", &CPU_512, ALL, BLAS_REEXEC, "SkylakeX", 0, "", 0);
    dec("library only Haswell", NULL, NULL, "Prescott", &CPU_512, BLAS_HAS_HASWELL, BLAS_REEXEC, "Haswell", 0, "",
        0);
    /* ... and keep otherwise. */
    dec("own choice Cooperlake", NULL, NULL, "Cooperlake", &CPU_BF16, ALL, BLAS_KEEP, "", 0,
        "BLAS kernel Cooperlake (OpenBLAS's own choice)", 1);
    dec("SkylakeX on bf16 is the same level", NULL, NULL, "SkylakeX", &CPU_BF16, ALL, BLAS_KEEP, "", 0,
        "BLAS kernel SkylakeX (OpenBLAS's own choice)", 1);
    dec("Zen on AVX2 is the same level", NULL, NULL, "Zen", &CPU_AVX2, ALL, BLAS_KEEP, "", 0, "own choice", 0);
    dec("generic on an old CPU", NULL, NULL, "Prescott", &CPU_OLD, ALL, BLAS_KEEP, "", 0,
        "BLAS kernel Prescott (OpenBLAS's own choice)", 1);
    dec("unknown core name", NULL, NULL, "FutureLake", &CPU_512, ALL, BLAS_KEEP, "", 0, "own choice", 0);
    dec("no core name", NULL, NULL, NULL, &CPU_512, ALL, BLAS_KEEP, "", 0,
        "BLAS kernel unknown (OpenBLAS's own choice)", 1);
    dec("single-kernel library", NULL, NULL, "Prescott", &CPU_512, 0, BLAS_KEEP, "", 1,
        "BLAS kernel Prescott (OpenBLAS's own choice; CPU has AVX-512 but this OpenBLAS has no kernel for it: "
        "slower)",
        1);
    dec("Haswell on AVX-512, library only Haswell", NULL, NULL, "Haswell", &CPU_512, BLAS_HAS_HASWELL, BLAS_KEEP, "",
        1, "no kernel for it", 0);

    /* The user's OPENBLAS_CORETYPE wins, with a warning when below. */
    dec("user Haswell on AVX-512", "Haswell", NULL, "Haswell", &CPU_512, ALL, BLAS_KEEP, "", 1,
        "BLAS kernel Haswell (OPENBLAS_CORETYPE set by the user; CPU supports SkylakeX: slower)", 1);
    dec("user Prescott on bf16", "Prescott", NULL, "Prescott", &CPU_BF16, ALL, BLAS_KEEP, "", 1,
        "CPU supports Cooperlake: slower", 0);
    dec("user Prescott on an old CPU", "Prescott", NULL, "Prescott", &CPU_OLD, ALL, BLAS_KEEP, "", 0,
        "BLAS kernel Prescott (OPENBLAS_CORETYPE set by the user)", 1);
    dec("user SkylakeX on bf16", "skylakex", NULL, "SkylakeX", &CPU_BF16, ALL, BLAS_KEEP, "", 0,
        "BLAS kernel SkylakeX (OPENBLAS_CORETYPE set by the user)", 1);
    dec("user kernel OpenBLAS lacks", "Bogus", NULL, "Cooperlake", &CPU_BF16, ALL, BLAS_KEEP, "", 1,
        "BLAS kernel Cooperlake (OPENBLAS_CORETYPE=Bogus set by the user is not a kernel this OpenBLAS has: its "
        "own choice)",
        1);
    dec("user kernel OpenBLAS lacks, generic", "Bogus", NULL, "Prescott", &CPU_512, ALL, BLAS_KEEP, "", 1,
        "own choice; CPU supports SkylakeX)", 0);

    /* The re-executed process never re-executes; it checks the kernel. */
    dec("re-exec honoured", "SkylakeX", "Prescott", "SkylakeX", &CPU_512, ALL, BLAS_KEEP, "", 0,
        "BLAS kernel SkylakeX (chosen: OpenBLAS picked Prescott, CPU has AVX-512)", 1);
    dec("re-exec honoured, case", "Cooperlake", "Haswell", "cooperlake", &CPU_BF16, ALL, BLAS_KEEP, "", 0,
        "chosen: OpenBLAS picked Haswell", 0);
    dec("re-exec not honoured", "Cooperlake", "Prescott", "Prescott", &CPU_BF16, ALL, BLAS_KEEP, "", 1,
        "BLAS kernel Prescott (OpenBLAS picked Prescott, CPU has AVX-512; re-executed with "
        "OPENBLAS_CORETYPE=Cooperlake but OpenBLAS did not take it: slower)",
        1);
    dec("re-exec without the variable", NULL, "Prescott", "Prescott", &CPU_AVX2, ALL, BLAS_KEEP, "", 1,
        "OPENBLAS_CORETYPE=(none) but OpenBLAS did not take it: slower", 0);
}

/* Mode --probe: what a program does first, then report. */
static int probe(char **argv)
{
    int st = blas_kernel_setup(argv);
    const char *env = getenv("OPENBLAS_CORETYPE"), *mk = getenv(BLAS_KERNEL_MARKER);
    printf("status=%d\nline=%s\ncore=%s\nenv=%s\nmarker=%s\n", st, blas_kernel_line(), openblas_get_corename(),
           env ? env : "(unset)", mk ? mk : "(unset)");
    blas_kernel_report("probe", 1);
    return 0;
}

/* Mode --loss: a DRMM loss and gradient on a fixed batch, for comparing
 * kernels.  Prints the core and the numbers. */
static int loss_probe(void)
{
    const char *net = "input channels=1 height=16 width=16\n"
                      "conv filters=16 size=3 pad=half\n"
                      "maxpool\n"
                      "conv filters=24 size=3 pad=half\n"
                      "maxpool\n"
                      "conv filters=4 size=1 pad=valid\n"
                      "meanpool\n";
    arch a;
    err_t e;
    drmm *m;
    drmm_acts *acts;
    drmm_config cfg;
    drmm_config_default(&cfg);
    openblas_set_num_threads(1);   /* as the programs do */
    if (arch_parse(&a, net, "loss", &e) || drmm_create(&m, &a, &cfg, 7, &e)) {
        printf("error: %s\n", e.msg);
        return 1;
    }
    arch_free(&a);
    enum { N = 24, NL = 12, P = 16 * 16 };
    if (drmm_acts_create(m, N, &acts, &e)) {
        printf("error: %s\n", e.msg);
        return 1;
    }
    static float x[N * P];
    int labels[N];
    rng_t r;
    rng_seed(&r, 3);
    for (int k = 0; k < N * P; k++)
        x[k] = (float)rng_uniform(&r);
    for (int i = 0; i < N; i++)
        labels[i] = i % 4;
    drmm_losses L;
    if (drmm_train_batch(m, acts, x, labels, NL, N, DRMM_BACKWARD, &L, &e)) {
        printf("error: %s\n", e.msg);
        return 1;
    }
    double g2 = 0, gs = 0;
    const float *g = drmm_grads(m);
    for (long k = 0; k < drmm_num_params(m); k++)
        g2 += (double)g[k] * g[k], gs += g[k];
    printf("core=%s\n%.9g %.9g %.9g %.9g %.9g %.9g %.9g\n", openblas_get_corename(), L.lh, L.lrc, L.lkl, L.lnn,
           L.total, sqrt(g2), gs);
    drmm_acts_free(acts);
    drmm_free(m);
    return 0;
}

static char self[PATH_MAX];

/* Value of "key=" in text (static buffer; "" when absent). */
static const char *field(const char *text, const char *key)
{
    static char v[512];
    v[0] = 0;
    char k[64];
    snprintf(k, sizeof k, "%s=", key);
    for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
        if (!strncmp(p, k, strlen(k))) {
            const char *s = p + strlen(k), *end = strchr(s, '\n');
            size_t n = end ? (size_t)(end - s) : strlen(s);
            if (n >= sizeof v)
                n = sizeof v - 1;
            memcpy(v, s, n);
            v[n] = 0;
            break;
        }
    return v;
}

#define CLEAN_ENV "env -u OPENBLAS_CORETYPE -u " BLAS_KERNEL_MARKER " -u " BLAS_KERNEL_TEST_CORE " "

static void test_reexec(const blas_cpu *cpu, unsigned has)
{
    const char *best = blas_kernel_best(cpu, has);
    char *err, *out, want[300];
    const char *words = cpu->avx512 ? "AVX-512" : "AVX2+FMA";

    /* OpenBLAS's own choice, nothing forced. */
    int rc = fx_run(&err, CLEAN_ENV "timeout 60 %s --probe", self);
    out = fx_stdout();
    blas_decision d;
    blas_kernel_decide(NULL, NULL, openblas_get_corename(), cpu, has, &d);
    CHECK(rc == 0 && !strcmp(field(out, "core"), openblas_get_corename()), "own choice: rc %d core '%s'", rc,
          field(out, "core"));
    if (d.action == BLAS_KEEP)
        CHECK(!strcmp(field(out, "line"), d.line), "own choice: line '%s', expected '%s'", field(out, "line"),
              d.line);
    free(err);
    free(out);

    if (!*best) {
        printf("skip: this CPU has neither AVX2 nor AVX-512 (or OpenBLAS has no kernel for it): no re-exec to test\n");
        return;
    }
    /* OpenBLAS's guess forced low: re-executed with the best kernel. */
    rc = fx_run(&err, CLEAN_ENV BLAS_KERNEL_TEST_CORE "=Prescott timeout 60 %s --probe", self);
    out = fx_stdout();
    snprintf(want, sizeof want, "BLAS kernel %s (chosen: OpenBLAS picked Prescott, CPU has %s)", best, words);
    CHECK(rc == 0, "re-exec: exit %d: %s", rc, err);
    CHECK(!strcmp(field(out, "line"), want), "re-exec: line '%s', expected '%s'", field(out, "line"), want);
    CHECK(!strcasecmp(field(out, "core"), best), "re-exec: core in use '%s', expected %s", field(out, "core"), best);
    CHECK(!strcmp(field(out, "status"), "0"), "re-exec: status %s", field(out, "status"));
    CHECK(!strcmp(field(out, "env"), "(unset)") && !strcmp(field(out, "marker"), "(unset)"),
          "re-exec: environment restored: OPENBLAS_CORETYPE %s, marker %s", field(out, "env"), field(out, "marker"));
    CHECK(!strstr(err, "BLAS kernel"), "re-exec: nothing on stderr when quiet: '%s'", err);
    free(err);
    free(out);

    /* The user's generic kernel is kept, with a warning (printed even when quiet). */
    rc = fx_run(&err, CLEAN_ENV "OPENBLAS_CORETYPE=Prescott timeout 60 %s --probe", self);
    out = fx_stdout();
    snprintf(want, sizeof want, "probe: warning: BLAS kernel Prescott (OPENBLAS_CORETYPE set by the user; CPU "
                                "supports %s: slower)\n", best);
    CHECK(rc == 0 && !strcmp(field(out, "core"), "Prescott") && !strcmp(field(out, "env"), "Prescott") &&
              !strcmp(field(out, "status"), "1"),
          "user kernel: rc %d core %s env %s status %s", rc, field(out, "core"), field(out, "env"),
          field(out, "status"));
    CHECK(!strcmp(err, want), "user kernel: stderr '%s', expected '%s'", err, want);
    free(err);
    free(out);

    /* A re-executed process whose kernel OpenBLAS did not take (simulated
     * with a name it does not have): a warning and no second re-exec. */
    rc = fx_run(&err, CLEAN_ENV BLAS_KERNEL_MARKER "=Prescott OPENBLAS_CORETYPE=NoSuchCore timeout 60 %s --probe",
                self);
    out = fx_stdout();
    CHECK(rc == 0 && strstr(field(out, "line"), "re-executed with OPENBLAS_CORETYPE=NoSuchCore but OpenBLAS did "
                                                "not take it") &&
              !strcmp(field(out, "status"), "1") && !strcmp(field(out, "core"), openblas_get_corename()),
          "not honoured: rc %d line '%s' core %s", rc, field(out, "line"), field(out, "core"));
    CHECK(strstr(err, "probe: warning: BLAS kernel") != NULL, "not honoured: warning on stderr: '%s'", err);
    free(err);
    free(out);
}

/* Real programs: bin/synth prints the line first (or only the warning when
 * quiet); bin/train records the kernel actually used. */
static void test_programs(const char *bin, const blas_cpu *cpu, unsigned has)
{
    const char *best = blas_kernel_best(cpu, has);
    char *err, want[300];
    const char *sheet = fx_path("sheet.png");
    if (*best) {
        int rc = fx_run(&err, CLEAN_ENV BLAS_KERNEL_TEST_CORE "=Prescott %s/synth --count 12 --sheet %s", bin,
                        sheet);
        snprintf(want, sizeof want, "synth: BLAS kernel %s (chosen: OpenBLAS picked Prescott, CPU has %s)\n", best,
                 cpu->avx512 ? "AVX-512" : "AVX2+FMA");
        CHECK(rc == 0 && !strncmp(err, want, strlen(want)), "synth: rc %d, stderr starts '%.200s', expected '%s'", rc,
              err, want);
        free(err);
        rc = fx_run(&err, CLEAN_ENV "OPENBLAS_CORETYPE=Prescott %s/synth --count 12 --sheet %s --quiet", bin, sheet);
        snprintf(want, sizeof want, "synth: warning: BLAS kernel Prescott (OPENBLAS_CORETYPE set by the user; CPU "
                                    "supports %s: slower)\n", best);
        CHECK(rc == 0 && !strcmp(err, want), "synth --quiet, user kernel: rc %d stderr '%s'", rc, err);
        free(err);
    }
    int rc = fx_run(&err, CLEAN_ENV "%s/synth --count 12 --sheet %s --quiet", bin, sheet);
    CHECK(rc == 0 && !*err, "synth --quiet, own choice: rc %d stderr '%s'", rc, err);
    free(err);

    /* train: a tiny run with OpenBLAS's guess forced low; the store records
     * the kernel of the re-executed process. */
    const char *db = fx_path("k.db"), *archf = fx_path("k.arch");
    const char *net = "input channels=1 height=32 width=32\nconv filters=4 size=3 pad=half\nmaxpool\n"
                      "conv filters=10 size=1 pad=valid\nmeanpool\n";
    fx_write(archf, net, strlen(net), 0);
    rc = fx_run(&err, CLEAN_ENV "%s/ingest --store %s --synthetic --n-train 40 --n-test 10", bin, db);
    CHECK(rc == 0, "ingest: rc %d: %s", rc, err);
    free(err);
    rc = fx_run(&err, CLEAN_ENV BLAS_KERNEL_TEST_CORE "=%s %s/train --store %s --dataset synthetic --arch %s "
                "--name k --labels 10 --batch 10 --epochs 1",
                *best ? "Prescott" : "", bin, db, archf);
    CHECK(rc == 0 && strstr(err, "train: BLAS kernel "), "train: rc %d, stderr '%.300s'", rc, err);
    free(err);
    sqlite3 *s;
    char core[64] = "";
    if (sqlite3_open(db, &s) == SQLITE_OK) {
        sqlite3_stmt *q;
        if (sqlite3_prepare_v2(s, "SELECT openblas_core FROM runs WHERE name = 'k'", -1, &q, NULL) == SQLITE_OK &&
            sqlite3_step(q) == SQLITE_ROW)
            snprintf(core, sizeof core, "%s", (const char *)sqlite3_column_text(q, 0));
        sqlite3_finalize(q);
    }
    sqlite3_close(s);
    const char *expect = *best ? best : openblas_get_corename();
    CHECK(!strcasecmp(core, expect), "train: store records core '%s', expected %s", core, expect);
}

/* The numbers agree across the kernels this CPU supports. */
static void test_kernels_agree(const blas_cpu *cpu, unsigned has)
{
    const char *kernels[4];
    int nk = 0;
    kernels[nk++] = "Prescott";
    if ((cpu->avx2_fma || cpu->avx512) && (has & BLAS_HAS_HASWELL))
        kernels[nk++] = "Haswell";
    if (cpu->avx512 && (has & BLAS_HAS_SKYLAKEX))
        kernels[nk++] = "SkylakeX";
    if (cpu->avx512_bf16 && (has & BLAS_HAS_COOPERLAKE))
        kernels[nk++] = "Cooperlake";
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", self);
    *strrchr(dir, '/') = 0;
    double ref[7] = {0};
    for (int k = 0; k < nk; k++) {
        char *err;
        int rc = fx_run(&err, CLEAN_ENV "OPENBLAS_CORETYPE=%s %s --loss", kernels[k], self);
        char *out = fx_stdout();
        double v[7];
        const char *nums = strchr(out, '\n');
        int got = nums ? sscanf(nums + 1, "%lf %lf %lf %lf %lf %lf %lf", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
                                &v[6])
                       : 0;
        CHECK(rc == 0 && got == 7 && !strcmp(field(out, "core"), kernels[k]), "%s: loss run: rc %d, core '%s', '%s'",
              kernels[k], rc, field(out, "core"), out);
        if (got == 7) {
            if (k == 0)
                memcpy(ref, v, sizeof ref);
            const char *what[7] = {"LH", "LRC", "LKL", "LNN", "total", "|grad|", "sum grad"};
            char name[64];
            for (int i = 0; i < 7; i++) {
                snprintf(name, sizeof name, "%s vs %s: %s", kernels[k], kernels[0], what[i]);
                CHECK_CLOSE(v[i], ref[i], 1e-4, name);
            }
        }
        free(err);
        free(out);
        /* The gradient checks hold under this kernel too. */
        const char *tests[] = {"test_ops", "test_drmm"};
        for (int t = 0; t < 2; t++) {
            rc = fx_run(&err, CLEAN_ENV "OPENBLAS_CORETYPE=%s %s/%s", kernels[k], dir, tests[t]);
            out = fx_stdout();
            CHECK(rc == 0 && strstr(out, " passed, 0 failed"), "%s under %s: rc %d: %s", tests[t], kernels[k], rc,
                  strstr(out, "FAIL") ? strstr(out, "FAIL") : out);
            free(err);
            free(out);
        }
    }
    printf("kernels compared: %d (", nk);
    for (int k = 0; k < nk; k++)
        printf("%s%s", k ? " " : "", kernels[k]);
    printf(")\n");
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "--probe"))
        return probe(argv);
    if (argc > 1 && !strcmp(argv[1], "--loss"))
        return loss_probe();
    test_pure();

    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) {
        CHECK(0, "readlink /proc/self/exe");
        return check_done();
    }
    self[n] = 0;
    const char *bin = getenv("BIN") && *getenv("BIN") ? getenv("BIN") : "bin";
    blas_cpu cpu;
    blas_kernel_cpu(&cpu);
    unsigned has = blas_kernel_library();
    printf("CPU: AVX2+FMA %d, AVX-512 %d, AVX-512 BF16 %d; OpenBLAS kernels: Haswell %d SkylakeX %d Cooperlake %d; "
           "own choice %s\n",
           cpu.avx2_fma, cpu.avx512, cpu.avx512_bf16, !!(has & BLAS_HAS_HASWELL), !!(has & BLAS_HAS_SKYLAKEX),
           !!(has & BLAS_HAS_COOPERLAKE), openblas_get_corename());
    fx_tmpdir("blas");
    test_reexec(&cpu, has);
    test_programs(bin, &cpu, has);
    test_kernels_agree(&cpu, has);
    fx_cleanup();
    return check_done();
}
