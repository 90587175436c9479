/* The run's libraries and CPU (see run_env.h). */
#include "run_env.h"

#include <cblas.h>
#include <png.h>
#include <stdio.h>
#include <string.h>

/* The value of the first "model name" line of /proc/cpuinfo into buf. */
static void cpu_model(char *buf, size_t len)
{
    snprintf(buf, len, "unknown");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f)
        return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        char *colon = strchr(line, ':');
        if (strncmp(line, "model name", 10) != 0 || !colon)
            continue;
        char *v = colon + 1;
        while (*v == ' ' || *v == '\t')
            v++;
        v[strcspn(v, "\n")] = '\0';
        if (*v)
            snprintf(buf, len, "%s", v);
        break;
    }
    fclose(f);
}

void run_env_collect(run_env *r)
{
    char *cfg = openblas_get_config(), *core = openblas_get_corename();
    snprintf(r->openblas, sizeof r->openblas, "%s (kernel %s)", cfg ? cfg : "OpenBLAS unknown",
             core ? core : "unknown");
    snprintf(r->libpng, sizeof r->libpng, "%s", png_get_libpng_ver(NULL));
    cpu_model(r->cpu_model, sizeof r->cpu_model);
}
