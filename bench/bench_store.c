/* Benchmark: the store's per-epoch costs during training, in a fresh store:
 * a batch of metrics (7 values, one transaction) and a checkpoint of named
 * tensors (1M floats, 4 MB, plus an RNG blob).  Prints milliseconds per call
 * so they can be set against an epoch's training time (target: < 2%). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "dataset.h"
#include "error.h"
#include "store.h"

int main(void)
{
    const char *tmp = getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    char path[512], wal[600], shm[600];
    snprintf(path, sizeof path, "%s/bench_store_%d.db", tmp, (int)getpid());
    snprintf(wal, sizeof wal, "%s-wal", path);
    snprintf(shm, sizeof shm, "%s-shm", path);
    err_t e;
    store *s = NULL;
    dataset d = {0};
    float *w = calloc(1 << 20, sizeof *w);
    int rc = 1;
    if (!w || store_open(path, 0, &s, &e) < 0 || dataset_alloc(&d, 1, 1, 1, 1, 1, 0, &e) < 0)
        goto fail;
    d.class_names[0] = strdup("c");
    if (store_put_dataset(s, "tiny", &d, 0, NULL, NULL, &e) < 0)
        goto fail;
    store_run_info info = {.name = "bench", .dataset = "tiny", .architecture = "", .threads = 1};
    int64_t run;
    if (store_create_run(s, &info, &run, &e) < 0)
        goto fail;
    enum { NB = 500, NC = 10 };
    static const char *names[7] = {"lh", "lrc", "lkl", "lnn", "loss", "train_error", "images_per_s"};
    double t0 = clock_seconds();
    for (int b = 0; b < NB; b++) {
        store_metric m[7];
        for (int k = 0; k < 7; k++)
            m[k] = (store_metric){b, b, names[k], b * 0.5 + k};
        if (store_add_metrics(s, run, m, 7, &e) < 0)
            goto fail;
    }
    double t1 = clock_seconds();
    named_tensor t[4];
    for (int k = 0; k < 4; k++)
        t[k] = (named_tensor){.ndim = 2, .shape = {512, 512}, .data = w + k * (1 << 18)};
    snprintf(t[0].name, sizeof t[0].name, "conv1.weight");
    snprintf(t[1].name, sizeof t[1].name, "conv2.weight");
    snprintf(t[2].name, sizeof t[2].name, "adam.m");
    snprintf(t[3].name, sizeof t[3].name, "adam.v");
    uint64_t st[4] = {1, 2, 3, 4};
    store_blob blob = {"rng", st, sizeof st};
    for (int c = 0; c < NC; c++)
        if (store_put_checkpoint(s, run, c, c, t, 4, &blob, 1, NULL, &e) < 0)
            goto fail;
    double t2 = clock_seconds();
    store_checkpoint ck;
    if (store_get_checkpoint(s, run, 0, &ck, &e) < 0)
        goto fail;
    store_checkpoint_free(&ck);
    double t3 = clock_seconds();
    printf("bench_store: metrics batch of 7: %.3f ms; checkpoint of 4 MB: %.1f ms write, %.1f ms read\n",
           (t1 - t0) * 1e3 / NB, (t2 - t1) * 1e3 / NC, (t3 - t2) * 1e3);
    rc = 0;
    goto done;
fail:
    fprintf(stderr, "bench_store: %s\n", e.msg);
done:
    store_close(s);
    dataset_free(&d);
    free(w);
    unlink(path);
    unlink(wal);
    unlink(shm);
    return rc;
}
