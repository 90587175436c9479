/* Fuzzes the architecture parser (text, as arch_load in src/run/arch_file.c reads it). */
#include "fuzz_common.h"
#include "arch.h"
#include "error.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
    char *text = malloc(n + 1);
    if (!text)
        return 0;
    memcpy(text, d, n);
    text[n] = '\0';
    arch a;
    err_t e;
    memset(&a, 0, sizeof a);
    if (arch_parse(&a, text, "fuzz.arch", &e) == 0) {
        char buf[4096];
        arch_describe(&a, buf, sizeof buf);
        arch_free(&a);
    }
    free(text);
    return 0;
}
