/* CIFAR-10 reader: a small directory of batches (with and without
 * batches.meta.txt) and the faults: truncated record, empty file, label out
 * of range, missing batch, bad meta file. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "fixture.h"
#include "cifar.h"
#include "dataset.h"
#include "error.h"

/* n records: label (i + seed) % 10, pixels (i * 7 + k + seed) & 255. */
static void write_batch(const char *path, int n, int seed, size_t cut)
{
    size_t len = (size_t)n * CIFAR_RECORD;
    uint8_t *b = malloc(len);
    for (int i = 0; i < n; i++) {
        b[(size_t)i * CIFAR_RECORD] = (uint8_t)((i + seed) % 10);
        for (int k = 0; k < 3072; k++)
            b[(size_t)i * CIFAR_RECORD + 1 + k] = (uint8_t)((i * 7 + k + seed) & 255);
    }
    fx_write(path, b, len - cut, 0);
    free(b);
}

static void expect_fail(const char *name, const char *path, const char *need1, const char *need2)
{
    const char *p[1] = {path};
    int sp[1] = {SPLIT_TRAIN};
    dataset d;
    err_t e = {0};
    CHECK(cifar10_read_files(p, sp, 1, NULL, &d, &e) == -1, "%s: expected failure", name);
    CHECK(strstr(e.msg, need1) != NULL, "%s: message lacks '%s': %s", name, need1, e.msg);
    CHECK(!need2 || strstr(e.msg, need2) != NULL, "%s: message lacks '%s': %s", name, need2, e.msg);
    int want_kind = need2 && strstr(need2, "cannot open") ? ERR_RUNTIME : ERR_INPUT;
    CHECK(e.kind == want_kind, "%s: error kind %d, expected %d (bad data is ERR_INPUT)", name, e.kind, want_kind);
}

int main(void)
{
    fx_tmpdir("cifar");
    for (int b = 1; b <= 5; b++)
        write_batch(fx_path("data_batch_%d.bin", b), 3, b, 0);
    write_batch(fx_path("test_batch.bin"), 4, 9, 0);
    {
        dataset d;
        err_t e = {0};
        int rc = cifar10_read_dir(fx_dir, &d, &e);
        CHECK(rc == 0, "good dir: %s", e.msg);
        if (rc == 0) {
            CHECK(d.n == 19 && d.channels == 3 && d.height == 32 && d.width == 32, "good dir: shape");
            CHECK(d.labels[0] == 1 && d.labels[3] == 2 && d.labels[15] == 9, "good dir: labels");
            CHECK(d.split[14] == SPLIT_TRAIN && d.split[15] == SPLIT_TEST, "good dir: splits");
            CHECK(d.pixels[3072 * 1 + 5] == (uint8_t)(7 + 5 + 1), "good dir: pixels");
            CHECK(strcmp(d.class_names[0], "airplane") == 0 && strcmp(d.class_names[9], "truck") == 0,
                  "good dir: default class names");
            dataset_free(&d);
        }
    }
    const char *meta = "a0\na1\na2\na3\na4\na5\na6\na7\na8\na9\n\n";
    fx_write(fx_path("batches.meta.txt"), meta, strlen(meta), 0);
    {
        dataset d;
        err_t e = {0};
        int rc = cifar10_read_dir(fx_dir, &d, &e);
        CHECK(rc == 0 && strcmp(d.class_names[7], "a7") == 0, "meta names: %s", e.msg);
        if (rc == 0)
            dataset_free(&d);
    }
    fx_write(fx_path("batches.meta.txt"), "x\ny\n", 4, 0);
    {
        dataset d;
        err_t e = {0};
        CHECK(cifar10_read_dir(fx_dir, &d, &e) == -1 && strstr(e.msg, "batches.meta.txt") &&
              strstr(e.msg, "2 class names"), "bad meta: %s", e.msg);
    }
    write_batch(fx_path("trunc.bin"), 3, 0, 100);
    expect_fail("truncated record", fx_path("trunc.bin"), "record 2", "truncated");
    fx_write(fx_path("empty.bin"), "", 0, 0);
    expect_fail("empty file", fx_path("empty.bin"), "empty.bin", "empty");
    {
        size_t len = 2 * CIFAR_RECORD;
        uint8_t *b = calloc(len, 1);
        b[CIFAR_RECORD] = 10;
        fx_write(fx_path("label.bin"), b, len, 0);
        free(b);
        expect_fail("label out of range", fx_path("label.bin"), "record 1", "out of range");
    }
    expect_fail("missing file", fx_path("nope.bin"), "nope.bin", "cannot open");
    {
        char cmd[700];
        snprintf(cmd, sizeof cmd, "rm -f '%s'", fx_path("data_batch_3.bin"));
        CHECK(system(cmd) == 0, "rm");
        dataset d;
        err_t e = {0};
        CHECK(cifar10_read_dir(fx_dir, &d, &e) == -1 && strstr(e.msg, "data_batch_3.bin") && strstr(e.msg, "missing"),
              "missing batch: %s", e.msg);
    }
    fx_cleanup();
    return check_done();
}
