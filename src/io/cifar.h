/* Reader for CIFAR-10 binary batches: records of 1 label byte followed by
 * 3072 pixel bytes (1024 red, 1024 green, 1024 blue, rows top to bottom),
 * i.e. already CHW.  Class names come from batches.meta.txt when present. */
#ifndef DRMM_CIFAR_H
#define DRMM_CIFAR_H

#include "dataset.h"

struct err_t;

#define CIFAR_RECORD 3073

extern const char *const cifar10_classes[10];

/* Reads nfiles batch files in order (splits[i] tags file i) into *out,
 * which the caller frees with dataset_free.  meta_path (may be NULL) is a
 * batches.meta.txt with one class name per line.  Checks the file sizes
 * (truncated records), labels in [0, 10) and that files are not empty. */
int cifar10_read_files(const char *const *paths, const int *splits, int nfiles,
                       const char *meta_path, dataset *out, struct err_t *e);

/* Reads dir/data_batch_1..5.bin (train) and dir/test_batch.bin (test),
 * and dir/batches.meta.txt if it exists. */
int cifar10_read_dir(const char *dir, dataset *out, struct err_t *e);

#endif
