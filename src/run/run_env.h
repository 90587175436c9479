/* What a run is recorded with besides its configuration and commit: the
 * libraries' versions (OpenBLAS with its build configuration and the kernel
 * in use, libpng) and the CPU model.  SQLite's version the store records
 * itself. */
#ifndef DRMM_RUN_ENV_H
#define DRMM_RUN_ENV_H

typedef struct run_env {
    char openblas[320];   /* "OpenBLAS 0.3.21 DYNAMIC_ARCH ... (kernel Cooperlake)" */
    char libpng[32];      /* "1.6.39" */
    char cpu_model[256];  /* /proc/cpuinfo's first "model name", or "unknown" */
} run_env;

/* Fills *r; never fails (a value it cannot learn is "unknown"). */
void run_env_collect(run_env *r);

#endif
