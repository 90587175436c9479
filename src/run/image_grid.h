/* A grid of images as a figure (PNG and SVG, src/io/figure.h): one row per
 * named row (a class, a layer), one column per image with an optional
 * heading, each image enlarged to about 64 pixels without smoothing and
 * mapped to grey (or RGB) levels by one of three scales.  Used by `generate`
 * for samples, activity-maximising images and rendered filters. */
#ifndef DRMM_IMAGE_GRID_H
#define DRMM_IMAGE_GRID_H

struct err_t;

typedef enum {
    IMAGE_SCALE_UNIT = 0,      /* [0, 1] -> black..white, clipped (images in the input's units) */
    IMAGE_SCALE_MINMAX = 1,    /* each image stretched from its own minimum to its maximum */
    IMAGE_SCALE_SYMMETRIC = 2  /* each image by its own largest |value|: 0 mid-grey, lighter positive */
} image_scale;

typedef struct image_grid {
    const char *title;
    int rows, cols, channels, height, width;   /* channels 1 or 3 */
    const float *images;           /* rows * cols images of channels*height*width floats (CHW), row by row */
    const char *const *row_names;  /* rows names */
    const char *const *col_heads;  /* cols headings, or NULL */
    const unsigned char *present;  /* rows * cols flags (0: an empty cell), or NULL: all present */
    image_scale scale;
} image_grid;

/* Writes the PNG to png and the SVG beside it.  Returns 0, or -1 with a
 * message (bad sizes, out of memory, a file that cannot be written). */
int image_grid_write(const image_grid *g, const char *png, struct err_t *e);

#endif
