/* Reader for SVHN (Street View House Numbers, the cropped-digits format):
 * the official train_32x32.mat and test_32x32.mat, MATLAB v5 files read
 * with libmatio.  Each holds X, uint8 of size 32x32x3xN (row, column,
 * channel, image; MATLAB's column-major order), and y, N x 1 labels 1..10
 * where 10 is the digit 0.  Images become CHW, labels the digit (class c is
 * the digit c). */
#ifndef DRMM_SVHN_H
#define DRMM_SVHN_H

#include "dataset.h"

struct err_t;

/* Where the files come from (for messages and the README). */
#define SVHN_URL "http://ufldl.stanford.edu/housenumbers/"

/* Reads the training file and the test file (either may be NULL, not both)
 * into *out (freed by the caller with dataset_free).  Every problem is an
 * error naming the file and the variable: not a MAT file or truncated, X or
 * y missing, X not uint8 32x32x3xN, y not N numbers, a label that is not an
 * integer in 1..10.  Missing files are runtime errors (ERR_RUNTIME), bad
 * content ERR_INPUT. */
int svhn_read_files(const char *train_path, const char *test_path, dataset *out, struct err_t *e);

/* Reads dir/train_32x32.mat and dir/test_32x32.mat; when one is missing the
 * message says where to download it. */
int svhn_read_dir(const char *dir, dataset *out, struct err_t *e);

#endif
