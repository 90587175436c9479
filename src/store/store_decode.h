/* Decoded layer activations and linear decoding results in the store
 * (tables decode_layers, activations, decoding_results and the view
 * `decoding` of schema/002_decoding.sql).  Same conventions as store.h:
 * functions return 0 or -1 with a message in e and store_fail_kind() set.
 *
 * A layer is written with all its samples in one transaction: a row in
 * decode_layers means the layer is complete.  Activations are stored as
 * bytes per sample with an affine scale (value = lo + step * byte). */
#ifndef DRMM_STORE_DECODE_H
#define DRMM_STORE_DECODE_H

#include <stdint.h>

#include "store.h"

struct err_t;

typedef struct store_decode_layer {
    int64_t id, run_id, checkpoint_id;
    char layer[32];               /* conv1..convN or scores */
    int layer_index;              /* 0-based; scores = number of conv blocks */
    int channels, height, width;  /* the layer's shape */
    int dims;                     /* bytes per sample as stored */
    char projection[64];          /* "none" or "srht:SEED" */
    int split, n_samples;
    char bn[16];                  /* "running" or "recalibrated" */
} store_decode_layer;

/* 1 (and *out filled, if not NULL) when checkpoint ckpt_id already has
 * the layer, 0 when not, -1 on failure. */
int store_find_decode_layer(store *s, int64_t ckpt_id, const char *layer, store_decode_layer *out,
                            struct err_t *e);

/* Writes the layer described by *l (its id is set) and its n_samples rows:
 * sample_idx[i], lo[i], step[i] and dims bytes at data + i*dims; one
 * transaction.  A layer already present is a conflict (STORE_FAIL_CONFLICT). */
int store_put_decode_layer(store *s, store_decode_layer *l, const int *sample_idx, const float *lo,
                           const float *step, const uint8_t *data, struct err_t *e);

/* The decoded layers of run_id at checkpoint ckpt_id, or at the newest
 * decoded checkpoint when ckpt_id == 0, ordered by layer_index.  *out is
 * malloc'ed (caller frees); *n may be 0. */
int store_list_decode_layers(store *s, int64_t run_id, int64_t ckpt_id, store_decode_layer **out, int *n,
                             struct err_t *e);

/* Loads a layer's activations as float: *X (n_samples x dims) and *idx
 * (n_samples sample indices, ascending), both malloc'ed (caller frees). */
int store_get_activations(store *s, const store_decode_layer *l, float **X, int **idx, struct err_t *e);

/* The latent `latent` of the dataset of run_id for n samples idx[] into out.
 * A dataset without latents, or without that latent, is an input error
 * (STORE_FAIL_NOTFOUND) naming the latents it has. */
int store_get_sample_latents(store *s, int64_t run_id, const char *latent, int n, const int *idx, float *out,
                             struct err_t *e);

/* The latent names of a dataset (by name): *names malloc'ed array of
 * malloc'ed strings (free each and the array); *n may be 0. */
int store_dataset_latent_names(store *s, const char *dataset, char ***names, int *n, struct err_t *e);

typedef struct store_decoding_result {
    int64_t layer_id;
    const char *latent;
    int circular, components, bins, bins_used, folds, samples;
    double l2, error, chance;
    double explained;             /* NAN: unknown */
    double seconds;
} store_decoding_result;

/* Inserts or replaces the result for (layer, latent, components, bins, folds). */
int store_put_decoding_result(store *s, const store_decoding_result *r, struct err_t *e);

/* 1 and *error, *chance when the result for these settings exists, 0 when
 * not, -1 on failure. */
int store_get_decoding_result(store *s, int64_t layer_id, const char *latent, int components, int bins, int folds,
                              double *error, double *chance, struct err_t *e);

/* The FINISHED runs of dataset (by name) that have decoded layers, by id:
 * *ids malloc'ed (caller frees); *n may be 0.  An unknown dataset is
 * STORE_FAIL_NOTFOUND. */
int store_list_decoded_runs(store *s, const char *dataset, int64_t **ids, int *n, struct err_t *e);

#endif
