/* SVHN .mat reader (see svhn.h).  Both files' X and y are checked from
 * their headers first, then the dataset is allocated and each file's data
 * read and copied in turn, so at most one file's X is in memory beside the
 * dataset.  libmatio reports its own problems through a log function; ours
 * keeps the last message for the error text instead of letting the library
 * print.  Ownership: the returned dataset owns all its memory; the matio
 * variables are freed here. */
#include "svhn.h"

#include <errno.h>
#include <math.h>
#include <matio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "error.h"

enum { SIDE = 32, CH = 3, IMG = SIDE * SIDE * CH };

static char mat_msg[256];

static void on_matio_log(int level, char *message)
{
    (void)level;
    snprintf(mat_msg, sizeof mat_msg, "%s", message ? message : "");
}

/* " (libmatio: MSG)" when libmatio said something, else "" */
static const char *matio_said(char *buf, size_t len)
{
    if (mat_msg[0])
        snprintf(buf, len, " (libmatio: %s)", mat_msg);
    else
        buf[0] = '\0';
    return buf;
}

/* The value of element i of a real numeric variable (numeric_class), into
 * *v; 0, or -1 when the class is not numeric. */
static int number_at(const matvar_t *m, size_t i, double *v)
{
    switch (m->class_type) {
    case MAT_C_DOUBLE: *v = ((const double *)m->data)[i]; return 0;
    case MAT_C_SINGLE: *v = ((const float *)m->data)[i]; return 0;
    case MAT_C_UINT8: *v = ((const uint8_t *)m->data)[i]; return 0;
    case MAT_C_INT8: *v = ((const int8_t *)m->data)[i]; return 0;
    case MAT_C_UINT16: *v = ((const uint16_t *)m->data)[i]; return 0;
    case MAT_C_INT16: *v = ((const int16_t *)m->data)[i]; return 0;
    case MAT_C_UINT32: *v = ((const uint32_t *)m->data)[i]; return 0;
    case MAT_C_INT32: *v = ((const int32_t *)m->data)[i]; return 0;
    case MAT_C_UINT64: *v = (double)((const uint64_t *)m->data)[i]; return 0;
    case MAT_C_INT64: *v = (double)((const int64_t *)m->data)[i]; return 0;
    default: return -1;
    }
}

static int numeric_class(int c)
{
    return c == MAT_C_DOUBLE || c == MAT_C_SINGLE || c == MAT_C_UINT8 || c == MAT_C_INT8 || c == MAT_C_UINT16 ||
           c == MAT_C_INT16 || c == MAT_C_UINT32 || c == MAT_C_INT32 || c == MAT_C_UINT64 || c == MAT_C_INT64;
}

/* The header (class, dimensions; no data) of variable name of path's open
 * file mat; NULL after setting e when there is none. */
static matvar_t *var_info(mat_t *mat, const char *path, const char *name, err_t *e)
{
    char said[300];
    mat_msg[0] = '\0';
    matvar_t *info = Mat_VarReadInfo(mat, name);
    if (!info)
        err_input(e, "%s: no variable '%s'%s; an SVHN file (format 2, cropped digits) holds X and y: "
                  "re-download it from %s", path, name, matio_said(said, sizeof said), SVHN_URL);
    return info;
}

/* Reads variable name of path's open file mat with its data; NULL after
 * setting e when it cannot be read whole. */
static matvar_t *read_var(mat_t *mat, const char *path, const char *name, err_t *e)
{
    char said[300];
    mat_msg[0] = '\0';
    matvar_t *m = Mat_VarRead(mat, name);
    size_t want = 0;
    if (m && m->data) {
        want = Mat_SizeOfClass(m->class_type);
        for (int i = 0; i < m->rank; i++)
            want *= m->dims[i];
    }
    if (!m || !m->data || m->nbytes != want || m->isComplex || m->class_type == MAT_C_SPARSE || m->isLogical) {
        if (m && m->data && (m->isComplex || m->class_type == MAT_C_SPARSE || m->isLogical))
            err_input(e, "%s: variable '%s' is %s; SVHN stores real numbers", path, name,
                      m->isComplex ? "complex" : m->isLogical ? "logical" : "sparse");
        else
            err_input(e, "%s: variable '%s' cannot be read whole: the file is truncated or damaged%s; "
                      "re-download it from %s", path, name, matio_said(said, sizeof said), SVHN_URL);
        Mat_VarFree(m);
        return NULL;
    }
    return m;
}

/* Checks the headers of X and y of one file: X uint8 32x32x3xN, y N real
 * numbers.  *n gets N. */
static int check_vars(const char *path, const matvar_t *x, const matvar_t *y, size_t *n, err_t *e)
{
    if (x->class_type != MAT_C_UINT8)
        return err_input(e, "%s: X is not uint8 (class %d); SVHN's X is uint8 32x32x3xN", path, (int)x->class_type);
    if (x->rank != 4 || x->dims[0] != SIDE || x->dims[1] != SIDE || x->dims[2] != CH || x->dims[3] < 1)
        return err_input(e, "%s: X is %s%zux%zu%s%s; SVHN's X is 32x32x3xN (height, width, RGB, images)", path,
                         x->rank < 2 ? "rank 1, " : "", x->dims[0], x->rank > 1 ? x->dims[1] : 1,
                         x->rank > 2 ? "x..." : "", x->rank > 4 ? " (more than 4 dimensions)" : "");
    size_t ny = 1;
    for (int i = 0; i < y->rank; i++)
        ny *= y->dims[i];
    if (!numeric_class(y->class_type) || y->isComplex || y->isLogical)
        return err_input(e, "%s: y is not numeric (class %d); SVHN's y is N labels 1..10", path, (int)y->class_type);
    if (y->rank != 2 || (y->dims[0] != 1 && y->dims[1] != 1) || ny != x->dims[3])
        return err_input(e, "%s: y is %zux%zu%s but X holds %zu images; y must be N x 1 labels", path, y->dims[0],
                         y->rank > 1 ? y->dims[1] : 1, y->rank > 2 ? "x..." : "", x->dims[3]);
    if (x->dims[3] > 10000000)
        return err_input(e, "%s: implausibly many images (%zu)", path, x->dims[3]);
    *n = x->dims[3];
    return 0;
}

/* Copies n images of x (HWC column-major) and labels of y into out from
 * index at, with split. */
static int copy_images(const char *path, const matvar_t *x, const matvar_t *y, size_t n, long at, int split,
                       dataset *out, err_t *e)
{
    const uint8_t *src = x->data;
    for (size_t k = 0; k < n; k++) {
        double v = 0;   /* y's class is numeric (check_vars) */
        number_at(y, k, &v);
        if (!(v >= 1 && v <= 10 && v == floor(v)))
            return err_input(e, "%s: y(%zu) = %g: SVHN labels are integers 1..10 (10 is the digit 0)", path, k + 1, v);
        out->labels[at + k] = (int)v % 10;
        out->split[at + k] = (uint8_t)split;
        uint8_t *dst = out->pixels + (size_t)(at + k) * IMG;
        const uint8_t *img = src + k * IMG;
        for (int c = 0; c < CH; c++)
            for (int r = 0; r < SIDE; r++)
                for (int col = 0; col < SIDE; col++)
                    dst[(c * SIDE + r) * SIDE + col] = img[r + SIDE * col + SIDE * SIDE * c];
    }
    return 0;
}

typedef struct mat_file {
    const char *path;
    int split;
    mat_t *mat;
    matvar_t *x, *y;   /* headers (file_open), then with their data (file_copy) */
    size_t n;
} mat_file;

static void file_close(mat_file *f)
{
    Mat_VarFree(f->x);
    Mat_VarFree(f->y);
    if (f->mat)
        Mat_Close(f->mat);
    f->x = f->y = NULL;
    f->mat = NULL;
}

static int file_open(mat_file *f, err_t *e)
{
    char said[300];
    struct stat st;
    if (stat(f->path, &st) < 0)
        return err_set(e, "%s: cannot open (%s); download it from %s", f->path, strerror(errno), SVHN_URL);
    if (!S_ISREG(st.st_mode))
        return err_input(e, "%s: not a regular file; pass SVHN's %s_32x32.mat", f->path,
                         f->split == SPLIT_TRAIN ? "train" : "test");
    mat_msg[0] = '\0';
    f->mat = Mat_Open(f->path, MAT_ACC_RDONLY);
    if (!f->mat)
        return err_input(e, "%s: not a MATLAB .mat file, or truncated%s; re-download it from %s", f->path,
                         matio_said(said, sizeof said), SVHN_URL);
    if (!(f->x = var_info(f->mat, f->path, "X", e)) || !(f->y = var_info(f->mat, f->path, "y", e)) ||
        check_vars(f->path, f->x, f->y, &f->n, e) < 0) {
        file_close(f);
        return -1;
    }
    return 0;
}

/* Reads the data of f's X and y and copies its images into out from at. */
static int file_copy(mat_file *f, long at, dataset *out, err_t *e)
{
    size_t n;
    Mat_VarFree(f->x);
    Mat_VarFree(f->y);
    f->y = NULL;
    if (!(f->x = read_var(f->mat, f->path, "X", e)) || !(f->y = read_var(f->mat, f->path, "y", e)))
        return -1;
    if (check_vars(f->path, f->x, f->y, &n, e) < 0)
        return -1;
    if (n != f->n)
        return err_set(e, "%s: the file changed while it was read; retry", f->path);
    return copy_images(f->path, f->x, f->y, n, at, f->split, out, e);
}

int svhn_read_files(const char *train_path, const char *test_path, dataset *out, err_t *e)
{
    static const char *const digits[10] = {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"};
    mat_file files[2] = {{.path = train_path, .split = SPLIT_TRAIN}, {.path = test_path, .split = SPLIT_TEST}};
    int rc = -1;
    memset(out, 0, sizeof *out);
    if (!train_path && !test_path)
        return err_input(e, "svhn: no file given");
    Mat_LogInitFunc("drmm", on_matio_log);
    size_t total = 0;
    for (int i = 0; i < 2; i++) {
        if (!files[i].path)
            continue;
        if (file_open(&files[i], e) < 0)
            goto done;
        total += files[i].n;
    }
    if (total > 10000000) {
        err_input(e, "svhn: implausibly many images (%zu)", total);
        goto done;
    }
    if (dataset_alloc(out, (int)total, CH, SIDE, SIDE, 10, 0, e) < 0)
        goto done;
    long at = 0;
    for (int i = 0; i < 2; i++) {
        if (!files[i].path)
            continue;
        if (file_copy(&files[i], at, out, e) < 0)
            goto done;
        at += (long)files[i].n;
        file_close(&files[i]);
    }
    for (int c = 0; c < 10; c++)
        if (!(out->class_names[c] = strdup(digits[c]))) {
            err_set(e, "out of memory");
            goto done;
        }
    const char *p = train_path ? train_path : test_path;
    size_t sl = strlen(p) + 8;
    if (!(out->source = malloc(sl))) {
        err_set(e, "out of memory");
        goto done;
    }
    snprintf(out->source, sl, "svhn:%s", p);
    rc = 0;
done:
    for (int i = 0; i < 2; i++)
        file_close(&files[i]);
    if (rc < 0)
        dataset_free(out);
    return rc;
}

int svhn_read_dir(const char *dir, dataset *out, err_t *e)
{
    char train[4096], test[4096];
    snprintf(train, sizeof train, "%s/train_32x32.mat", dir);
    snprintf(test, sizeof test, "%s/test_32x32.mat", dir);
    struct stat st;
    int has_train = stat(train, &st) == 0, has_test = stat(test, &st) == 0;
    memset(out, 0, sizeof *out);
    if (!has_train || !has_test)
        return err_set(e, "%s: %s%s%s missing; download SVHN's format 2 (cropped digits) into it: mkdir -p %s && "
                       "wget -P %s %strain_32x32.mat %stest_32x32.mat", dir, has_train ? "" : "train_32x32.mat",
                       !has_train && !has_test ? " and " : "", has_test ? "" : "test_32x32.mat", dir, dir, SVHN_URL,
                       SVHN_URL);
    return svhn_read_files(train, test, out, e);
}
