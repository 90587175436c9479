/* Fuzzes the IDX reader (raw and gzip: the reader detects gzip): the input
 * is a uint32 LE length, then that many bytes of image file, then the label
 * file. */
#include "fuzz_common.h"
#include "dataset.h"
#include "error.h"
#include "idx.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
    char pi[300], pl[300];
    size_t cut = 0;
    if (n >= 4) {
        cut = (size_t)d[0] | (size_t)d[1] << 8 | (size_t)d[2] << 16 | (size_t)d[3] << 24;
        d += 4;
        n -= 4;
        cut %= n + 1;
    }
    fuzz_write(fuzz_path(pi, sizeof pi, "img"), d, cut);
    fuzz_write(fuzz_path(pl, sizeof pl, "lab"), d + cut, n - cut);
    idx_pair p = {pi, pl, SPLIT_TRAIN};
    dataset out;
    err_t e;
    if (idx_read(&p, 1, idx_mnist_classes, 10, "fuzz", &out, &e) == 0)
        dataset_free(&out);
    return 0;
}
