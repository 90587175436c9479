/* Fuzzes the CSV reader and its strict numeric fields. */
#include "fuzz_common.h"
#include "csv.h"
#include "error.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
    char p[300];
    fuzz_write(fuzz_path(p, sizeof p, "t.csv"), d, n);
    csv_table t;
    err_t e;
    if (csv_read(p, &t, &e) == 0) {
        for (int r = 0; r < t.nrows; r++)
            for (int c = 0; c < t.ncols; c++) {
                long l;
                double x;
                csv_get_long(&t, r, c, &l, &e);
                csv_get_double(&t, r, c, &x, &e);
            }
        csv_column(&t, "label");
        csv_free(&t);
    }
    return 0;
}
