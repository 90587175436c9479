/* Training through the store as `train` does it: ConvSmall DRMM on 10,000
 * Fashion-MNIST training images (100 labels, batch 100, 2 threads, 1 epoch)
 * in a fresh store; prints images/s and the share of time spent writing
 * metrics and checkpoints (target: under 2%). */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "blas_kernel.h"
#include "arch.h"
#include "arch_file.h"
#include "error.h"
#include "idx.h"
#include "store.h"
#include "trainer.h"

int main(int argc, char **argv)
{
    (void)argc;
    blas_kernel_setup(argv);
    blas_kernel_report("bench_train", 0);
    openblas_set_num_threads(1);
    char path[] = "/tmp/drmm-bench-train-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) {
        perror("mkstemp");
        return 1;
    }
    close(fd);
    unlink(path);
    err_t e;
    store *st;
    char cmd[512];
    snprintf(cmd, sizeof cmd, "bin/ingest --store %s --fashion-mnist >/dev/null", path);
    if (system(cmd) != 0 || store_open(path, 0, &st, &e)) {
        fprintf(stderr, "bench_train: cannot prepare the store (is bin/ingest built?)\n");
        return 1;
    }
    arch a;
    if (arch_load(&a, "archs/convsmall.arch", &e)) {
        fprintf(stderr, "bench_train: %s\n", e.msg);
        return 1;
    }
    train_config cfg;
    train_config_default(&cfg);
    cfg.epochs = 1;
    cfg.train_limit = 10000;
    cfg.model.threads = 2;
    train_outcome out;
    train_hooks hooks = {0};
    if (trainer_start(st, "fashion-mnist", a.text, "archs/convsmall.arch", "bench", &cfg, &hooks, &out, &e)) {
        fprintf(stderr, "bench_train: %s\n", e.msg);
        return 1;
    }
    printf("train  ConvSmall DRMM through the store (1 epoch, 10000 images, 2 threads, core %s): %.0f images/s; "
           "metrics + checkpoints %.3f s = %.2f%% of %.1f s training\n",
           openblas_get_corename(), out.images_per_s, out.store_seconds, 100 * out.store_seconds / out.train_seconds,
           out.train_seconds);
    store_close(st);
    arch_free(&a);
    unlink(path);
    snprintf(cmd, sizeof cmd, "rm -f %s-wal %s-shm", path, path);
    if (system(cmd) != 0)
        return 1;
    return 0;
}
