/* The Markdown report of the decoding analysis for one dataset: the method,
 * the runs, and per latent a PNG chart (decoding error against layer, one
 * line per run, chance dashed; plot.h) and a table of the numbers. */
#ifndef DRMM_REPORT_H
#define DRMM_REPORT_H

#include <stdint.h>

struct err_t;

typedef struct report_run {
    int64_t run_id, checkpoint_id;
    const char *name;
    int cnn;                       /* 1: trained as a plain CNN (supervised_only) */
    int samples;
    int n_layers;
    char (*layers)[32];            /* n_layers names, in layer order */
    const double *error, *chance;  /* n_layers x n_latents */
} report_run;

typedef struct report_spec {
    const char *dataset, *store_path;
    const char *const *latents;
    const int *circular;           /* n_latents flags */
    int n_latents;
    int components, bins, folds;
    double l2;
} report_spec;

/* Position of a layer name on the x axis: conv layers by number, scores last. */
int report_layer_rank(const char *name);

/* Writes md_path and, next to it, decoding_<latent>.png for each latent. */
int report_write(const char *md_path, const report_spec *sp, const report_run *runs, int nr, struct err_t *e);

#endif
