/* Reader for a directory of PNG images (8-bit gray or RGB, all the same
 * size) described by a CSV with the header `file,label[,split][,latent...]`:
 * file is a name relative to the directory, label an integer class, split
 * `train`/`test` or 0/1 (default train), and every further column a numeric
 * nuisance latent named by its header. */
#ifndef DRMM_PNGDIR_H
#define DRMM_PNGDIR_H

#include "dataset.h"

struct err_t;

/* Reads the images listed in csv_path from dir into *out (caller frees with
 * dataset_free).  n_classes > 0 fixes the label range [0, n_classes);
 * n_classes == 0 takes max(label) + 1.  Fails with file:line:column on bad
 * rows, unknown or duplicate files, PNG files in dir that the CSV does not
 * list, images of different sizes or channel counts. */
int pngdir_read(const char *dir, const char *csv_path, int n_classes, dataset *out, struct err_t *e);

#endif
