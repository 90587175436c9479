/* Reconstruction grid: a PNG with one row per class holding the first few
 * evaluated images of that class, each beside its top-down reconstruction
 * I-hat (input | I-hat pairs).  Both are shown on the same fixed scale, values
 * in [0, 1] mapped to 0..255 and clipped, so a reconstruction that is too
 * faint or too strong looks it. */
#ifndef DRMM_RECON_GRID_H
#define DRMM_RECON_GRID_H

struct err_t;

typedef struct recon_grid {
    int classes, per_class, channels, height, width;
    int *count;        /* images collected per class */
    float *x, *ihat;   /* [classes][per_class][C*H*W] */
} recon_grid;

int  recon_grid_init(recon_grid *g, int classes, int per_class, int channels, int height, int width,
                     struct err_t *e);
/* Offers n images with their labels and reconstructions; keeps the first
 * per_class of each class. */
void recon_grid_add(recon_grid *g, const float *x, const float *ihat, const int *labels, int n);
/* Writes the PNG (gray for 1 channel, RGB for 3). */
int  recon_grid_write(const recon_grid *g, const char *path, struct err_t *e);
void recon_grid_free(recon_grid *g);

#endif
