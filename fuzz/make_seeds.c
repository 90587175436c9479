/* Writes the seed corpus of the fuzz harnesses (fuzz/fuzz_*.c) into DIR/<name>/:
 * valid and slightly damaged inputs of each loader, made with the same
 * fixtures as the tests (tests/fixture.h).  Usage: make_seeds DIR */
#include <sys/stat.h>

#include "check.h"
#include "fixture.h"
#include "cifar.h"
#include "error.h"
#include "pngio.h"

static char root[900];

static void put(const char *kind, const char *name, const void *d, size_t n)
{
    char p[1200];
    snprintf(p, sizeof p, "%s/%s", root, kind);
    mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/%s/%s", root, kind, name);
    fx_write(p, d, n, 0);
}

/* An idx seed: uint32 LE image length, images, labels. */
static void put_idx(const char *name, const uint8_t *img, size_t li, const uint8_t *lab, size_t ll)
{
    uint8_t *b = malloc(4 + li + ll);
    b[0] = (uint8_t)li; b[1] = (uint8_t)(li >> 8); b[2] = (uint8_t)(li >> 16); b[3] = (uint8_t)(li >> 24);
    memcpy(b + 4, img, li);
    memcpy(b + 4 + li, lab, ll);
    put("idx", name, b, 4 + li + ll);
    free(b);
}

static uint8_t *gz_bytes(const uint8_t *d, size_t n, size_t *out)
{
    char p[1200];
    snprintf(p, sizeof p, "%s/.tmp.gz", root);
    fx_write(p, d, n, 1);
    char *b = fx_read(p, out);
    unlink(p);
    return (uint8_t *)b;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: make_seeds DIR\n");
        return 2;
    }
    snprintf(root, sizeof root, "%s", argv[1]);
    mkdir(root, 0755);
    size_t li, ll, gi, gl;
    uint8_t *img = fx_idx_images(6, 4, 4, &li), *lab = fx_idx_labels(6, 10, &ll);
    put_idx("good", img, li, lab, ll);
    put_idx("truncated", img, li - 5, lab, ll);
    uint8_t *zi = gz_bytes(img, li, &gi), *zl = gz_bytes(lab, ll, &gl);
    put_idx("good.gz", zi, gi, zl, gl);
    free(zi); free(zl); free(img); free(lab);

    uint8_t rec[2 * CIFAR_RECORD];
    for (size_t k = 0; k < sizeof rec; k++)
        rec[k] = (uint8_t)(k * 7);
    rec[0] = 3;
    rec[CIFAR_RECORD] = 9;
    put("cifar", "two", rec, sizeof rec);
    put("cifar", "short", rec, CIFAR_RECORD + 100);

    uint8_t px[3 * 4 * 4];
    for (int k = 0; k < 48; k++)
        px[k] = (uint8_t)(k * 5);
    err_t e;
    char p[1200];
    snprintf(p, sizeof p, "%s/.tmp.png", root);
    for (int ch = 1; ch <= 3; ch += 2) {
        if (png_write(p, px, 4, 4, ch, &e) < 0) {
            fprintf(stderr, "%s\n", e.msg);
            return 1;
        }
        size_t n;
        char *b = fx_read(p, &n);
        put("png", ch == 1 ? "gray" : "rgb", b, n);
        free(b);
    }
    unlink(p);

    const char *csvs[] = {"file,label,split,angle\na.png,0,train,1.5\nb.png,1,test,-2\n",
                          "file,label\n\"a,b.png\",0\n\"x\"\"y\",1\n", "file,label,split\r\na,1,0\r\nb,2,1\r\n"};
    for (int i = 0; i < 3; i++) {
        char name[16];
        snprintf(name, sizeof name, "csv%d", i);
        put("csv", name, csvs[i], strlen(csvs[i]));
    }

    const char *archs[] = {"archs/convsmall.arch", "archs/convlarge.arch", "archs/drmm2.arch", "archs/rfm.arch"};
    for (int i = 0; i < 4; i++) {
        size_t n;
        char *b = fx_read(archs[i], &n);
        if (b) {
            put("arch", strrchr(archs[i], '/') + 1, b, n);
            free(b);
        }
    }
    const char *cfgs[] = {"epochs = 2\nlabels = 40\nbatch = 32\n# comment\n",
                          "a_kl = 0.2\na_nn = 0.5\ntd_param = template\nkl_sign = literal\noptimizer = sgd\n"};
    put("config", "basic", cfgs[0], strlen(cfgs[0]));
    put("config", "model", cfgs[1], strlen(cfgs[1]));
    return check_done();
}
