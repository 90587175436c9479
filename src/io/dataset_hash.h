/* Content hash of a decoded dataset (see dataset_hash.c for the canonical
 * byte order).  Two datasets with the same hash have the same shape, labels,
 * splits, pixels, class names, latent names and latents; the source string
 * is not part of the hash. */
#ifndef DRMM_DATASET_HASH_H
#define DRMM_DATASET_HASH_H

#include "dataset.h"

/* Writes 64 lowercase hex digits and a NUL into hex.  Returns 0. */
int dataset_sha256(const dataset *d, char hex[65]);

#endif
