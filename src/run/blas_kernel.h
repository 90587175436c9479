/* Choosing OpenBLAS's kernel where its own guess is below what the CPU
 * supports (issue 14).  Program-level runtime setup: every program calls
 * blas_kernel_setup(argv) first thing in main and blas_kernel_report() as its
 * first progress line; the engine never sets BLAS state.  How and why:
 * blas_kernel.c. */
#ifndef DRMM_BLAS_KERNEL_H
#define DRMM_BLAS_KERNEL_H

/* Private marker set on the re-executed program: the core OpenBLAS picked
 * by itself in the first process.  Its presence means "never re-exec". */
#define BLAS_KERNEL_MARKER "DRMM_BLAS_KERNEL_REEXEC"
/* Test only: pretends OpenBLAS reported this core in the first process (the
 * re-executed one reads the real core), so the re-exec can be tested on a
 * machine where OpenBLAS guesses right. */
#define BLAS_KERNEL_TEST_CORE "DRMM_BLAS_TEST_CORE"

/* The CPU features that decide the kernel (1 = present). */
typedef struct blas_cpu {
    int avx2_fma;    /* AVX2 and FMA */
    int avx512;      /* AVX-512 F, BW, DQ and VL */
    int avx512_bf16; /* AVX-512 BF16 */
} blas_cpu;

/* Kernels the installed OpenBLAS has (bit set). */
enum { BLAS_HAS_HASWELL = 1, BLAS_HAS_SKYLAKEX = 2, BLAS_HAS_COOPERLAKE = 4 };

typedef enum { BLAS_KEEP = 0, BLAS_REEXEC = 1 } blas_action;

typedef struct blas_decision {
    blas_action action;
    char target[32]; /* BLAS_REEXEC: the OPENBLAS_CORETYPE to re-exec with */
    int warn;        /* 1: a slower (or not the requested) kernel stays: always print */
    char line[256];  /* "BLAS kernel X (why)" */
} blas_decision;

/* The decision as a pure function.
 *   user_coretype: OPENBLAS_CORETYPE as found (NULL or "" = unset);
 *   marker:        BLAS_KERNEL_MARKER as found (NULL = first process; else
 *                  this is the re-executed process, user_coretype is the
 *                  kernel it was re-executed with and marker the core
 *                  OpenBLAS had picked by itself);
 *   reported:      openblas_get_corename() (NULL = "unknown");
 *   cpu, lib_has:  the CPU's features, the library's kernels (BLAS_HAS_*).
 * Never asks for a re-exec when user_coretype is set or marker is set. */
void blas_kernel_decide(const char *user_coretype, const char *marker, const char *reported, const blas_cpu *cpu,
                        unsigned lib_has, blas_decision *d);

/* The best kernel of lib_has for cpu ("Cooperlake", "SkylakeX", "Haswell"),
 * or "" when none of these applies. */
const char *blas_kernel_best(const blas_cpu *cpu, unsigned lib_has);

/* Rank of a core name: 3 AVX-512, 2 AVX2, 1 AVX, 0 older (generic), -1 a
 * name this module does not know.  Case-insensitive. */
int blas_kernel_tier(const char *core);

/* This CPU's features and this process's OpenBLAS's kernels. */
void blas_kernel_cpu(blas_cpu *cpu);
unsigned blas_kernel_library(void);

/* Call first thing in main, with main's argv (before getopt permutes it).
 * When OPENBLAS_CORETYPE is unset and OpenBLAS picked a kernel below the
 * CPU's, re-executes /proc/self/exe once with the better kernel (does not
 * return then).  Returns 0 when the kernel is as good as the CPU allows or
 * OpenBLAS's own choice, 1 when a warning stands (blas_kernel_line says
 * why).  Restores the environment the program was started with (the marker
 * and the OPENBLAS_CORETYPE it set are removed), so programs it starts choose
 * for themselves. */
int blas_kernel_setup(char **argv);

/* The one-line description of the kernel in use and why (static storage;
 * "BLAS kernel unknown (blas_kernel_setup not called)" before setup). */
const char *blas_kernel_line(void);

/* Prints "prog: <line>" on stderr unless quiet; a warning always, as
 * "prog: warning: <line>". */
void blas_kernel_report(const char *prog, int quiet);

#endif
