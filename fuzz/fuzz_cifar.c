/* Fuzzes the CIFAR-10 batch reader: the input is one batch file. */
#include "fuzz_common.h"
#include "cifar.h"
#include "dataset.h"
#include "error.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
    char p[300];
    fuzz_write(fuzz_path(p, sizeof p, "batch.bin"), d, n);
    const char *paths[1] = {p};
    int splits[1] = {SPLIT_TRAIN};
    dataset out;
    err_t e;
    if (cifar10_read_files(paths, splits, 1, NULL, &out, &e) == 0)
        dataset_free(&out);
    return 0;
}
