/* Fuzzes the PNG directory reader: the input is one PNG image, listed with
 * a fixed CSV beside a valid second image written once. */
#include "fuzz_common.h"
#include "dataset.h"
#include "error.h"
#include "pngdir.h"
#include "pngio.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
    static int init;
    char dir[300], p[300], csv[300];
    fuzz_path(dir, sizeof dir, "png");
    if (!init) {
        uint8_t px[16] = {0, 50, 100, 150, 200, 250, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
        err_t e;
        mkdir(dir, 0755);
        snprintf(p, sizeof p, "%s/b.png", dir);
        if (png_write(p, px, 4, 4, 1, &e) < 0)
            abort();
        const char *text = "file,label,split,angle\na.png,0,train,1.5\nb.png,1,test,2\n";
        fuzz_write(fuzz_path(csv, sizeof csv, "list.csv"), (const uint8_t *)text, strlen(text));
        init = 1;
    }
    fuzz_path(csv, sizeof csv, "list.csv");
    snprintf(p, sizeof p, "%s/a.png", dir);
    fuzz_write(p, d, n);
    dataset out;
    err_t e;
    if (pngdir_read(dir, csv, 2, &out, &e) == 0)
        dataset_free(&out);
    return 0;
}
