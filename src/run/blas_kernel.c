/* Choosing OpenBLAS's kernel where its own guess is below what the CPU
 * supports (issue 14).
 *
 * Debian's OpenBLAS (DYNAMIC_ARCH) picks its kernel once, in its library
 * constructor, before main runs: from OPENBLAS_CORETYPE when set, else from
 * the CPU.  On CPUs it does not recognise it falls back to a generic kernel
 * (Prescott: sgemm 2.5-5 times slower than SkylakeX) without a word.  So
 * blas_kernel_setup() compares the core OpenBLAS reports with the CPU's own
 * features (AVX-512 F/BW/DQ/VL -> SkylakeX, or Cooperlake with AVX-512 BF16;
 * AVX2+FMA -> Haswell), and when the user has not set OPENBLAS_CORETYPE and
 * OpenBLAS's pick is below, re-executes the program once (/proc/self/exe,
 * the same argv) with OPENBLAS_CORETYPE set to the best kernel the installed
 * library has (its gotoblas_<KERNEL> symbols) and a private marker variable
 * (BLAS_KERNEL_MARKER) that forbids a second re-exec.  The re-executed
 * process checks that OpenBLAS honoured the kernel and warns if not.
 *
 * Why re-exec and not load OpenBLAS late with dlopen: the kernel is fixed
 * in OpenBLAS's constructor, so setting the variable in main is too late for
 * a library linked at startup.  Loading it late would mean not linking
 * -lopenblas at all and calling every cblas and LAPACKE function (the engine,
 * analysis' PCA and regression) through function pointers, and LAPACKE itself
 * pulls in the system BLAS at startup anyway.  Re-exec keeps the build and
 * every call site as they are and costs one exec (a few ms), only on machines
 * where OpenBLAS guesses wrong.
 *
 * A user's OPENBLAS_CORETYPE always wins (no re-exec); when it names a
 * kernel below the CPU's (e.g. a preset Haswell on an AVX-512 CPU, half the
 * sgemm speed) or one OpenBLAS does not have, the line is a warning.
 * SkylakeX and Cooperlake count as the same level, as do Haswell and Zen:
 * their sgemm kernels are the same. */
#include "blas_kernel.h"

#include <cblas.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

static char kernel_line[512] = "BLAS kernel unknown (blas_kernel_setup not called)";
static int kernel_warn;

int blas_kernel_tier(const char *core)
{
    static const char *const avx512[] = {"SkylakeX", "Cooperlake", "SapphireRapids"};
    static const char *const avx2[] = {"Haswell", "Zen"};
    static const char *const avx[] = {"Sandybridge", "Bulldozer", "Piledriver", "Steamroller", "Excavator"};
    static const char *const generic[] = {"Katmai", "Coppermine", "Northwood", "Prescott",
                                          "Banias", "Atom", "Core2", "Penryn", "Dunnington", "Nehalem",
                                          "Athlon", "Opteron", "Opteron_SSE3", "Barcelona", "Nano", "Bobcat"};
    if (!core)
        return -1;
#define BLAS_IN(list, tier)                                                                                  \
    for (size_t i = 0; i < sizeof list / sizeof list[0]; i++)                                                \
        if (!strcasecmp(core, list[i]))                                                                      \
            return tier;
    BLAS_IN(avx512, 3)
    BLAS_IN(avx2, 2)
    BLAS_IN(avx, 1)
    BLAS_IN(generic, 0)
#undef BLAS_IN
    return -1;
}

const char *blas_kernel_best(const blas_cpu *cpu, unsigned lib_has)
{
    if (cpu->avx512 && cpu->avx512_bf16 && (lib_has & BLAS_HAS_COOPERLAKE))
        return "Cooperlake";
    if (cpu->avx512 && (lib_has & BLAS_HAS_SKYLAKEX))
        return "SkylakeX";
    if ((cpu->avx512 || cpu->avx2_fma) && (lib_has & BLAS_HAS_HASWELL))
        return "Haswell";
    return "";
}

/* What the CPU has, in words, for the messages. */
static const char *cpu_words(const blas_cpu *cpu)
{
    return cpu->avx512 ? "AVX-512" : cpu->avx2_fma ? "AVX2+FMA" : "neither AVX2 nor AVX-512";
}

static int cpu_tier(const blas_cpu *cpu)
{
    return cpu->avx512 ? 3 : cpu->avx2_fma ? 2 : 0;
}

void blas_kernel_decide(const char *user_coretype, const char *marker, const char *reported, const blas_cpu *cpu,
                        unsigned lib_has, blas_decision *d)
{
    memset(d, 0, sizeof *d);
    d->action = BLAS_KEEP;
    if (!reported || !*reported)
        reported = "unknown";
    const char *best = blas_kernel_best(cpu, lib_has);
    int have = blas_kernel_tier(reported);
    /* Below what the CPU supports, with a better kernel in the library. */
    int below = have >= 0 && *best && have < blas_kernel_tier(best);
    int user_set = user_coretype && *user_coretype;

    if (marker) {
        /* The re-executed process: did OpenBLAS take the kernel we chose? */
        const char *asked = user_set ? user_coretype : "(none)";
        if (user_set && !strcasecmp(reported, user_coretype)) {
            snprintf(d->line, sizeof d->line, "BLAS kernel %s (chosen: OpenBLAS picked %s, CPU has %s)", reported,
                     marker, cpu_words(cpu));
        } else {
            d->warn = 1;
            snprintf(d->line, sizeof d->line,
                     "BLAS kernel %s (OpenBLAS picked %s, CPU has %s; re-executed with OPENBLAS_CORETYPE=%s but "
                     "OpenBLAS did not take it%s)",
                     reported, marker, cpu_words(cpu), asked, below ? ": slower" : "");
        }
        return;
    }
    if (user_set) {
        if (strcasecmp(reported, user_coretype) != 0) {
            d->warn = 1;
            snprintf(d->line, sizeof d->line,
                     "BLAS kernel %s (OPENBLAS_CORETYPE=%s set by the user is not a kernel this OpenBLAS has: "
                     "its own choice%s%s)",
                     reported, user_coretype, below ? "; CPU supports " : "", below ? best : "");
        } else if (below) {
            d->warn = 1;
            snprintf(d->line, sizeof d->line,
                     "BLAS kernel %s (OPENBLAS_CORETYPE set by the user; CPU supports %s: slower)", reported, best);
        } else {
            snprintf(d->line, sizeof d->line, "BLAS kernel %s (OPENBLAS_CORETYPE set by the user)", reported);
        }
        return;
    }
    if (below) {
        d->action = BLAS_REEXEC;
        snprintf(d->target, sizeof d->target, "%s", best);
        snprintf(d->line, sizeof d->line, "BLAS kernel %s (OpenBLAS picked %s, CPU has %s: re-executing with %s)",
                 reported, reported, cpu_words(cpu), best);
        return;
    }
    if (have >= 0 && have < cpu_tier(cpu)) {
        /* Below the CPU, but this OpenBLAS has nothing better. */
        d->warn = 1;
        snprintf(d->line, sizeof d->line,
                 "BLAS kernel %s (OpenBLAS's own choice; CPU has %s but this OpenBLAS has no kernel for it: slower)",
                 reported, cpu_words(cpu));
        return;
    }
    snprintf(d->line, sizeof d->line, "BLAS kernel %s (OpenBLAS's own choice)", reported);
}

void blas_kernel_cpu(blas_cpu *cpu)
{
    memset(cpu, 0, sizeof *cpu);
#if defined(__x86_64__) || defined(__i386__)
    /* libgcc's checks include the OS saving the AVX / AVX-512 registers. */
    __builtin_cpu_init();
    cpu->avx2_fma = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    cpu->avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                  __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
    cpu->avx512_bf16 = cpu->avx512 && __builtin_cpu_supports("avx512bf16");
#endif
}

unsigned blas_kernel_library(void)
{
    /* A DYNAMIC_ARCH OpenBLAS exports one gotoblas_<KERNEL> table per kernel
     * it was built with; a single-kernel build exports none (and ignores
     * OPENBLAS_CORETYPE, so there is nothing to choose). */
    unsigned has = 0;
    if (dlsym(RTLD_DEFAULT, "gotoblas_HASWELL"))
        has |= BLAS_HAS_HASWELL;
    if (dlsym(RTLD_DEFAULT, "gotoblas_SKYLAKEX"))
        has |= BLAS_HAS_SKYLAKEX;
    if (dlsym(RTLD_DEFAULT, "gotoblas_COOPERLAKE"))
        has |= BLAS_HAS_COOPERLAKE;
    return has;
}

int blas_kernel_setup(char **argv)
{
    const char *user = getenv("OPENBLAS_CORETYPE");
    const char *marker = getenv(BLAS_KERNEL_MARKER);
    const char *reported = openblas_get_corename();
    char fake[64] = "";
    const char *f = getenv(BLAS_KERNEL_TEST_CORE);
    if (f)
        snprintf(fake, sizeof fake, "%s", f);
    if (!marker && *fake)
        reported = fake;
    blas_cpu cpu;
    blas_kernel_cpu(&cpu);
    blas_decision d;
    blas_kernel_decide(user, marker, reported, &cpu, blas_kernel_library(), &d);

    if (d.action == BLAS_REEXEC) {
        char picked[64];
        snprintf(picked, sizeof picked, "%s", reported);
        errno = EINVAL;
        if (argv && argv[0] && setenv("OPENBLAS_CORETYPE", d.target, 1) == 0 &&
            setenv(BLAS_KERNEL_MARKER, picked, 1) == 0) {
            unsetenv(BLAS_KERNEL_TEST_CORE);
            fflush(NULL);
            execv("/proc/self/exe", argv);
        }
        /* Still here: the re-exec failed; continue with OpenBLAS's pick. */
        int err = errno;
        unsetenv("OPENBLAS_CORETYPE");
        unsetenv(BLAS_KERNEL_MARKER);
        if (*fake)
            setenv(BLAS_KERNEL_TEST_CORE, fake, 1);
        snprintf(kernel_line, sizeof kernel_line,
                 "BLAS kernel %s (OpenBLAS picked %s, CPU has %s; re-executing with OPENBLAS_CORETYPE=%s failed: %s; "
                 "slower)",
                 picked, picked, cpu_words(&cpu), d.target, strerror(err));
        kernel_warn = 1;
        return 1;
    }
    if (marker) {
        /* Give programs this one starts the environment it was started with. */
        unsetenv("OPENBLAS_CORETYPE");
        unsetenv(BLAS_KERNEL_MARKER);
    }
    snprintf(kernel_line, sizeof kernel_line, "%s", d.line);
    kernel_warn = d.warn;
    return d.warn ? 1 : 0;
}

const char *blas_kernel_line(void)
{
    return kernel_line;
}

void blas_kernel_report(const char *prog, int quiet)
{
    if (kernel_warn)
        fprintf(stderr, "%s: warning: %s\n", prog, kernel_line);
    else if (!quiet)
        fprintf(stderr, "%s: %s\n", prog, kernel_line);
}
