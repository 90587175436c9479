/* IDX reader: good raw and gzip pairs, and every fault (wrong magic, swapped
 * files, truncated raw and gzip data, corrupt gzip body and trailer, count
 * mismatch, label out of range, trailing bytes, missing file), each named
 * so a failure points at one case; plus the real Fashion-MNIST files. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "fixture.h"
#include "dataset.h"
#include "error.h"
#include "idx.h"

#define N 10
#define H 4
#define W 3

/* Reads one train pair and expects failure with a message holding need1 and need2. */
static void expect_fail(const char *name, const char *img, const char *lab, const char *need1, const char *need2)
{
    dataset d;
    err_t e = {0};
    idx_pair p = {img, lab, SPLIT_TRAIN};
    int rc = idx_read(&p, 1, NULL, 10, NULL, &d, &e);
    CHECK(rc == -1, "%s: expected failure", name);
    CHECK(strstr(e.msg, need1) != NULL, "%s: message lacks '%s': %s", name, need1, e.msg);
    CHECK(!need2 || strstr(e.msg, need2) != NULL, "%s: message lacks '%s': %s", name, need2, e.msg);
    CHECK(d.pixels == NULL && d.n == 0, "%s: dataset left empty", name);
    int want_kind = need2 && strstr(need2, "cannot open") ? ERR_RUNTIME : ERR_INPUT;
    CHECK(e.kind == want_kind, "%s: error kind %d, expected %d (bad data is ERR_INPUT)", name, e.kind, want_kind);
}

int main(void)
{
    fx_tmpdir("idx");
    size_t li, ll;
    uint8_t *img = fx_idx_images(N, H, W, &li), *lab = fx_idx_labels(N, 10, &ll);
    fx_write(fx_path("img"), img, li, 0);
    fx_write(fx_path("lab"), lab, ll, 0);
    fx_write(fx_path("img.gz"), img, li, 1);
    fx_write(fx_path("lab.gz"), lab, ll, 1);

    /* good: raw train pair + gzip test pair */
    {
        dataset d;
        err_t e = {0};
        idx_pair p[2] = {{fx_path("img"), fx_path("lab"), SPLIT_TRAIN}, {fx_path("img.gz"), fx_path("lab.gz"), SPLIT_TEST}};
        int rc = idx_read(p, 2, idx_fashion_mnist_classes, 10, "test", &d, &e);
        CHECK(rc == 0, "good pair: %s", e.msg);
        if (rc == 0) {
            CHECK(d.n == 2 * N && d.channels == 1 && d.height == H && d.width == W, "good pair: shape");
            CHECK(d.labels[3] == 3 && d.labels[N + 7] == 7, "good pair: labels");
            CHECK(d.split[0] == SPLIT_TRAIN && d.split[N] == SPLIT_TEST, "good pair: splits");
            CHECK(memcmp(d.pixels, img + 16, (size_t)N * H * W) == 0 &&
                  memcmp(d.pixels + N * H * W, img + 16, (size_t)N * H * W) == 0, "good pair: pixels");
            CHECK(strcmp(d.class_names[9], "Ankle boot") == 0, "good pair: class names");
            CHECK(strcmp(d.source, "test") == 0, "good pair: source");
            dataset_free(&d);
        }
    }
    /* wrong magic: a labels file given as images and vice versa */
    expect_fail("swapped files", fx_path("lab"), fx_path("img"), fx_path("lab"), "magic");
    {
        uint8_t *bad = malloc(li);
        memcpy(bad, img, li);
        bad[2] = 0x09;                                    /* signed byte type */
        fx_write(fx_path("badmagic"), bad, li, 0);
        free(bad);
        expect_fail("wrong magic", fx_path("badmagic"), fx_path("lab"), "badmagic", "wrong magic number");
    }
    /* truncated raw images and labels */
    fx_write(fx_path("img.trunc"), img, li - 5, 0);
    expect_fail("truncated images", fx_path("img.trunc"), fx_path("lab"), "img.trunc", "truncated");
    fx_write(fx_path("lab.trunc"), lab, ll - 1, 0);
    expect_fail("truncated labels", fx_path("img"), fx_path("lab.trunc"), "lab.trunc", "truncated");
    fx_write(fx_path("img.hdr"), img, 10, 0);
    expect_fail("truncated header", fx_path("img.hdr"), fx_path("lab"), "img.hdr", "truncated");
    /* gzip faults: cut in half, body bytes flipped, CRC trailer flipped */
    {
        size_t gl = 0;
        char *gz = fx_read(fx_path("img.gz"), &gl);
        fx_write(fx_path("img.gz.cut"), gz, gl / 2, 0);
        expect_fail("truncated gzip", fx_path("img.gz.cut"), fx_path("lab"), "img.gz.cut", "ends after");
        char *bad = malloc(gl);
        memcpy(bad, gz, gl);
        for (size_t k = 12; k < gl - 8; k += 3)
            bad[k] ^= 0x5a;
        fx_write(fx_path("img.gz.corrupt"), bad, gl, 0);
        expect_fail("corrupt gzip body", fx_path("img.gz.corrupt"), fx_path("lab"), "img.gz.corrupt", "corrupt gzip");
        memcpy(bad, gz, gl);
        bad[gl - 6] ^= 0xff;                              /* CRC32 */
        fx_write(fx_path("img.gz.crc"), bad, gl, 0);
        expect_fail("gzip CRC", fx_path("img.gz.crc"), fx_path("lab"), "img.gz.crc", "corrupt gzip");
        free(bad);
        free(gz);
    }
    /* count mismatch */
    {
        size_t l2;
        uint8_t *lab9 = fx_idx_labels(N - 1, 10, &l2);
        fx_write(fx_path("lab9"), lab9, l2, 0);
        free(lab9);
        expect_fail("count mismatch", fx_path("img"), fx_path("lab9"), "10 images", "9 labels");
    }
    /* label out of range */
    {
        uint8_t *bad = malloc(ll);
        memcpy(bad, lab, ll);
        bad[8 + 4] = 10;
        fx_write(fx_path("lab.range"), bad, ll, 1);
        free(bad);
        expect_fail("label out of range", fx_path("img"), fx_path("lab.range"), "record 4", "out of range");
    }
    /* trailing bytes after the last record */
    {
        uint8_t *more = malloc(li + 3);
        memcpy(more, img, li);
        memset(more + li, 1, 3);
        fx_write(fx_path("img.more"), more, li + 3, 0);
        free(more);
        expect_fail("trailing bytes", fx_path("img.more"), fx_path("lab"), "img.more", "unexpected bytes");
    }
    expect_fail("missing file", fx_path("nope"), fx_path("lab"), "nope", "cannot open");
    /* different image sizes across pairs */
    {
        size_t l2;
        uint8_t *img2 = fx_idx_images(N, H + 1, W, &l2);
        fx_write(fx_path("img5"), img2, l2, 0);
        free(img2);
        dataset d;
        err_t e = {0};
        idx_pair p[2] = {{fx_path("img"), fx_path("lab"), SPLIT_TRAIN}, {fx_path("img5"), fx_path("lab"), SPLIT_TEST}};
        CHECK(idx_read(p, 2, NULL, 10, NULL, &d, &e) == -1 && strstr(e.msg, "same size"), "size mismatch: %s", e.msg);
    }
    free(img);
    free(lab);

    /* the real Fashion-MNIST files */
    {
        const char *dir = "/usr/share/datasets/fashion-mnist";
        char a[256], b[256], c[256], dd[256];
        snprintf(a, sizeof a, "%s/train-images-idx3-ubyte.gz", dir);
        snprintf(b, sizeof b, "%s/train-labels-idx1-ubyte.gz", dir);
        snprintf(c, sizeof c, "%s/t10k-images-idx3-ubyte.gz", dir);
        snprintf(dd, sizeof dd, "%s/t10k-labels-idx1-ubyte.gz", dir);
        idx_pair p[2] = {{a, b, SPLIT_TRAIN}, {c, dd, SPLIT_TEST}};
        dataset d;
        err_t e = {0};
        int rc = idx_read(p, 2, idx_fashion_mnist_classes, 10, NULL, &d, &e);
        CHECK(rc == 0, "fashion-mnist: %s", e.msg);
        if (rc == 0) {
            int count[2][10] = {0};
            for (int i = 0; i < d.n; i++)
                count[d.split[i]][d.labels[i]]++;
            CHECK(d.n == 70000 && d.height == 28 && d.width == 28, "fashion-mnist: 70000 images of 28x28");
            int balanced = 1;
            for (int k = 0; k < 10; k++)
                balanced &= count[0][k] == 6000 && count[1][k] == 1000;
            CHECK(balanced, "fashion-mnist: 6000 train and 1000 test images per class");
            dataset_free(&d);
        }
    }
    fx_cleanup();
    return check_done();
}
