/* The SVHN reader (src/io/svhn.c) and ingest --svhn on small .mat files
 * written here with libmatio in SVHN's layout: pixels moved from MATLAB's
 * 32x32x3xN column-major X to CHW, labels 1..10 to digits (10 -> 0), y as
 * uint8 or double, compressed or not; and every bad file (wrong shape, wrong
 * type, labels out of range or not integers, y of another length, a missing
 * variable, a truncated file, not a MAT file, missing files) giving a clear
 * error naming the file, the documented exit status and an unchanged store. */
#include <matio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "dataset.h"
#include "error.h"
#include "fixture.h"
#include "store.h"
#include "svhn.h"

static const char *bin;

/* X's byte for image k, row r, column c, channel ch: a pattern that differs
 * in every coordinate. */
static uint8_t px(size_t k, int r, int c, int ch)
{
    return (uint8_t)(k * 37 + r * 5 + c * 11 + ch * 101);
}

typedef struct mat_spec {
    size_t xdims[4];
    int xrank;
    int x_double;        /* X as double instead of uint8 */
    size_t ny;           /* labels written */
    int y_double;        /* y as double instead of uint8 */
    double bad_label;    /* if non-zero, y(2) gets this value */
    int no_x, compress;
} mat_spec;

/* Writes path as SVHN would: X (xdims, uint8) and y (ny x 1, labels 1..10,
 * label of image k = k % 10 + 1). 0 on success. */
static int write_mat(const char *path, const mat_spec *s)
{
    mat_t *m = Mat_CreateVer(path, NULL, MAT_FT_MAT5);
    if (!m)
        return -1;
    size_t nx = 1;
    for (int i = 0; i < s->xrank; i++)
        nx *= s->xdims[i];
    int rc = 0;
    if (!s->no_x) {
        uint8_t *x8 = malloc(nx);
        double *xd = malloc(sizeof(double) * nx);
        /* column-major: index r + H c + H W ch + H W C k */
        size_t H = s->xdims[0], W = s->xrank > 1 ? s->xdims[1] : 1, C = s->xrank > 2 ? s->xdims[2] : 1;
        for (size_t i = 0; i < nx; i++) {
            size_t r = i % H, c = i / H % W, ch = i / (H * W) % C, k = i / (H * W * C);
            x8[i] = px(k, (int)r, (int)c, (int)ch);
            xd[i] = x8[i];
        }
        size_t dims[4];
        memcpy(dims, s->xdims, sizeof dims);
        matvar_t *v = s->x_double ? Mat_VarCreate("X", MAT_C_DOUBLE, MAT_T_DOUBLE, s->xrank, dims, xd, 0)
                                  : Mat_VarCreate("X", MAT_C_UINT8, MAT_T_UINT8, s->xrank, dims, x8, 0);
        rc |= !v || Mat_VarWrite(m, v, s->compress ? MAT_COMPRESSION_ZLIB : MAT_COMPRESSION_NONE) != 0;
        Mat_VarFree(v);
        free(x8);
        free(xd);
    }
    uint8_t *y8 = malloc(s->ny + 1);
    double *yd = malloc(sizeof(double) * (s->ny + 1));
    for (size_t k = 0; k < s->ny; k++)
        y8[k] = (uint8_t)(yd[k] = (double)(k % 10 + 1));
    if (s->bad_label != 0 && s->ny > 2) {
        yd[2] = s->bad_label;
        y8[2] = (uint8_t)s->bad_label;
    }
    size_t ydims[2] = {s->ny, 1};
    matvar_t *y = s->y_double ? Mat_VarCreate("y", MAT_C_DOUBLE, MAT_T_DOUBLE, 2, ydims, yd, 0)
                              : Mat_VarCreate("y", MAT_C_UINT8, MAT_T_UINT8, 2, ydims, y8, 0);
    rc |= !y || Mat_VarWrite(m, y, s->compress ? MAT_COMPRESSION_ZLIB : MAT_COMPRESSION_NONE) != 0;
    Mat_VarFree(y);
    free(y8);
    free(yd);
    Mat_Close(m);
    return rc ? -1 : 0;
}

static mat_spec good(size_t n)
{
    return (mat_spec){.xdims = {32, 32, 3, n}, .xrank = 4, .ny = n};
}

static void test_good(void)
{
    mat_spec tr = good(7), te = good(12);
    te.y_double = 1;
    te.compress = 1;
    const char *dir = fx_path("good");
    mkdir(fx_path("good"), 0777);
    CHECK(write_mat(fx_path("good/train_32x32.mat"), &tr) == 0 && write_mat(fx_path("good/test_32x32.mat"), &te) == 0,
          "fixture files written with libmatio");
    dataset d;
    err_t e = {.msg = ""};
    int rc = svhn_read_dir(dir, &d, &e);
    CHECK(rc == 0, "good files read: %s", e.msg);
    if (rc)
        return;
    CHECK(d.n == 19 && d.channels == 3 && d.height == 32 && d.width == 32 && d.n_classes == 10, "19 images of 3x32x32");
    int split_ok = 1, label_ok = 1, pix_ok = 1;
    for (int i = 0; i < d.n; i++) {
        size_t k = i < 7 ? (size_t)i : (size_t)i - 7;
        split_ok &= d.split[i] == (i < 7 ? SPLIT_TRAIN : SPLIT_TEST);
        label_ok &= d.labels[i] == (int)((k % 10 + 1) % 10);
        for (int ch = 0; ch < 3; ch++)
            for (int r = 0; r < 32; r++)
                for (int c = 0; c < 32; c++)
                    pix_ok &= d.pixels[(size_t)i * 3072 + (ch * 32 + r) * 32 + c] == px(k, r, c, ch);
    }
    CHECK(split_ok, "train file's images in the train split, the test file's in the test split");
    CHECK(label_ok && d.labels[7 + 9] == 0, "labels 1..10 become digits, 10 -> 0 (uint8 and double y)");
    CHECK(pix_ok, "pixels moved from column-major HWC to CHW (also from a compressed file)");
    CHECK(!strcmp(d.class_names[0], "0") && !strcmp(d.class_names[9], "9"), "classes named by their digit");
    CHECK(d.source && !strncmp(d.source, "svhn:", 5), "source recorded: %s", d.source);
    dataset_free(&d);
}

/* one bad file as the training file: the reader's message */
static void bad_file(const char *what, const mat_spec *s, const char *needle)
{
    const char *p = fx_path("bad_%s.mat", what);
    char path[1100];
    snprintf(path, sizeof path, "%s", p);
    CHECK(write_mat(path, s) == 0, "%s: fixture written", what);
    dataset d;
    err_t e = {.msg = ""};
    int rc = svhn_read_files(path, NULL, &d, &e);
    CHECK(rc < 0 && e.kind == ERR_INPUT && strstr(e.msg, needle) && strstr(e.msg, path),
          "%s: refused naming the file with '%s': %s", what, needle, e.msg);
    CHECK(d.n == 0 && d.pixels == NULL, "%s: nothing left allocated", what);
}

static void test_bad_files(void)
{
    mat_spec s = good(5);
    s.xdims[2] = 1;
    bad_file("gray", &s, "X is 32x32x...; SVHN's X is 32x32x3xN");
    s = good(5);
    s.xrank = 3;
    s.xdims[2] = 3 * 5;
    bad_file("rank3", &s, "X is 32x32x...");
    s = good(5);
    s.xdims[0] = 28;
    bad_file("28px", &s, "X is 28x32x...");
    s = good(5);
    s.x_double = 1;
    bad_file("xdouble", &s, "X is not uint8");
    s = good(5);
    s.bad_label = 11;
    bad_file("label11", &s, "y(3) = 11: SVHN labels are integers 1..10");
    s = good(5);
    s.bad_label = 200;   /* uint8 y */
    bad_file("label200", &s, "y(3) = 200");
    s = good(5);
    s.y_double = 1;
    s.bad_label = -1;
    bad_file("labelneg", &s, "y(3) = -1");
    s = good(5);
    s.y_double = 1;
    s.bad_label = 2.5;
    bad_file("labelfrac", &s, "y(3) = 2.5");
    s = good(5);
    s.ny = 4;
    bad_file("short_y", &s, "y is 4x1 but X holds 5 images");
    s = good(5);
    s.no_x = 1;
    bad_file("no_x", &s, "no variable 'X'");
    /* truncated: a good file cut in the middle of X, plain and compressed */
    for (int z = 0; z < 2; z++) {
        s = good(6);
        s.compress = z;
        const char *p = fx_path("trunc%d.mat", z);
        char path[1100];
        snprintf(path, sizeof path, "%s", p);
        CHECK(write_mat(path, &s) == 0, "truncated: fixture");
        size_t n = 0;
        char *all = fx_read(path, &n);
        fx_write(path, all, n / 2, 0);
        free(all);
        dataset d;
        err_t e = {.msg = ""};
        int rc = svhn_read_files(path, NULL, &d, &e);
        CHECK(rc < 0 && e.kind == ERR_INPUT && strstr(e.msg, path) && strstr(e.msg, "re-download"),
              "truncated %s file refused: %s", z ? "compressed" : "plain", e.msg);
    }
    const char *text = fx_path("text.mat");
    const char *junk = "this is not a MATLAB file at all, only some text long enough for a header of 128 bytes "
                       "........................................................................\n";
    fx_write(text, junk, strlen(junk), 0);
    dataset d;
    err_t e = {.msg = ""};
    CHECK(svhn_read_files(text, NULL, &d, &e) < 0 && e.kind == ERR_INPUT && strstr(e.msg, "text.mat"),
          "a text file refused: %s", e.msg);
    e.msg[0] = '\0';
    CHECK(svhn_read_dir(fx_path("nowhere"), &d, &e) < 0 && e.kind != ERR_INPUT &&
          strstr(e.msg, "train_32x32.mat and test_32x32.mat missing") && strstr(e.msg, SVHN_URL "train_32x32.mat"),
          "missing files: where to download them: %s", e.msg);
}

/* bin/ingest --svhn: the dataset stored; bad files refused with the store unchanged */
static void test_ingest(void)
{
    const char *db = fx_path("s.db");
    char store[1100], *err = NULL;
    snprintf(store, sizeof store, "%s", db);
    int rc = fx_run(&err, "%s/ingest --store %s --svhn %s", bin, store, fx_path("good"));
    CHECK(rc == 0, "ingest --svhn exits 0 (%d): %s", rc, err);
    free(err);
    CHECK(fx_sql_int(store, "SELECT COUNT(*) FROM datasets WHERE name = 'svhn' AND n_train = 7 AND n_test = 12 "
                            "AND channels = 3 AND height = 32 AND width = 32 AND n_classes = 10") == 1,
          "stored as svhn, 7 + 12 images of 3x32x32");
    struct { const char *dir; int want; const char *needle; } bad[] = {
        {"baddir", 3, "y(3) = 11"},
        {"nowhere", 1, "wget -P"},
    };
    mat_spec s = good(5), t = good(3);
    s.bad_label = 11;
    mkdir(fx_path("baddir"), 0777);
    write_mat(fx_path("baddir/train_32x32.mat"), &s);
    write_mat(fx_path("baddir/test_32x32.mat"), &t);
    mkdir(fx_path("nowhere"), 0777);
    for (int i = 0; i < 2; i++) {
        char fp0[65], fp1[65], dir[1100];
        snprintf(dir, sizeof dir, "%s", fx_path(bad[i].dir));
        fx_store_fingerprint(store, fp0);
        rc = fx_run(&err, "%s/ingest --store %s --name svhn2 --svhn %s", bin, store, dir);
        fx_store_fingerprint(store, fp1);
        CHECK(rc == bad[i].want && strstr(err, bad[i].needle), "ingest --svhn %s: exit %d (want %d): %s", bad[i].dir, rc,
              bad[i].want, err);
        CHECK(!strcmp(fp0, fp1), "ingest --svhn %s: store unchanged", bad[i].dir);
        free(err);
    }
}

int main(void)
{
    bin = getenv("BIN") ? getenv("BIN") : "bin";
    fx_tmpdir("svhn");
    test_good();
    test_bad_files();
    test_ingest();
    fx_cleanup();
    return check_done();
}
