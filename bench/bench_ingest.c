/* Benchmark: ingest Fashion-MNIST (70,000 images; read the gzip IDX files,
 * hash, write to a fresh store) the way bin/ingest does.  Prints seconds and
 * images/s; exits 1 if it takes 5 s or more (the target in issue 3). */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "dataset.h"
#include "error.h"
#include "idx.h"
#include "store.h"

int main(void)
{
    const char *dir = "/usr/share/datasets/fashion-mnist";
    const char *tmp = getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    char path[512], a[256], b[256], c[256], d[256], wal[600], shm[600];
    snprintf(path, sizeof path, "%s/bench_ingest_%d.db", tmp, (int)getpid());
    snprintf(wal, sizeof wal, "%s-wal", path);
    snprintf(shm, sizeof shm, "%s-shm", path);
    snprintf(a, sizeof a, "%s/train-images-idx3-ubyte.gz", dir);
    snprintf(b, sizeof b, "%s/train-labels-idx1-ubyte.gz", dir);
    snprintf(c, sizeof c, "%s/t10k-images-idx3-ubyte.gz", dir);
    snprintf(d, sizeof d, "%s/t10k-labels-idx1-ubyte.gz", dir);
    idx_pair pairs[2] = {{a, b, SPLIT_TRAIN}, {c, d, SPLIT_TEST}};
    err_t e;
    dataset ds;
    store *s = NULL;
    int rc = 1;
    double t0 = clock_seconds();
    if (idx_read(pairs, 2, idx_fashion_mnist_classes, 10, "fashion-mnist", &ds, &e) < 0) {
        fprintf(stderr, "bench_ingest: %s\n", e.msg);
        return 1;
    }
    double t1 = clock_seconds();
    if (store_open(path, 0, &s, &e) < 0 || store_put_dataset(s, "fashion-mnist", &ds, 0, NULL, NULL, &e) < 0) {
        fprintf(stderr, "bench_ingest: %s\n", e.msg);
        goto done;
    }
    store_close(s);
    s = NULL;
    double t2 = clock_seconds(), total = t2 - t0;
    printf("bench_ingest: Fashion-MNIST %d images in %.2f s (read %.2f s, store %.2f s): %.0f images/s; "
           "target < 5 s: %s\n", ds.n, total, t1 - t0, t2 - t1, ds.n / total, total < 5 ? "ok" : "TOO SLOW");
    rc = total < 5 ? 0 : 1;
done:
    store_close(s);
    dataset_free(&ds);
    unlink(path);
    unlink(wal);
    unlink(shm);
    return rc;
}
