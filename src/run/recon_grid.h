/* Reconstruction grid: a figure (PNG and SVG, src/io/figure.h) with one row
 * per class, named on the left, holding the first few evaluated images of
 * that class, each beside its top-down reconstruction I-hat (pairs headed
 * "input" and "render").  Both are shown on the same fixed scale, values in
 * [0, 1] mapped to 0..255 and clipped, so a reconstruction that is too faint
 * or too strong looks it; they are enlarged to about 96 pixels, each pixel a
 * square block (no smoothing). */
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
/* Writes the PNG to path and the SVG next to it; class_names (g->classes
 * names, or NULL: "class N") label the rows. */
int  recon_grid_write(const recon_grid *g, const char *const *class_names, const char *path, struct err_t *e);
void recon_grid_free(recon_grid *g);

#endif
