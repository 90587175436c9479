/* Fuzzes the training configuration file reader and its checks. */
#include "fuzz_common.h"
#include "error.h"
#include "train_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
    char p[300];
    fuzz_write(fuzz_path(p, sizeof p, "train.cfg"), d, n);
    train_config c;
    err_t e;
    train_config_default(&c);
    if (train_config_load(&c, p, &e) == 0)
        train_config_check(&c, &e);
    return 0;
}
