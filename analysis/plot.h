/* Line charts as PNG (libpng through src/io/pngio.h), drawn pixel by pixel
 * with the 3x5 bitmap font of datasets/font.h: axes, ticks, tick labels,
 * axis labels, a title, one coloured line with square markers per series,
 * an optional dashed horizontal reference line (e.g. chance) and a legend.
 * The x axis is categorical (e.g. layer names), the y axis linear. */
#ifndef DRMM_PLOT_H
#define DRMM_PLOT_H

#include <stdint.h>

struct err_t;

typedef struct plot_series {
    const char *label;
    const double *y;        /* n_x values; NAN: no point */
} plot_series;

typedef struct plot_chart {
    const char *title, *xlabel, *ylabel;
    int n_x;
    const char *const *xticks;   /* n_x category names */
    double ymin, ymax;           /* y range; ticks every ystep */
    double ystep;
    double yscale;               /* tick label = value * yscale (e.g. 100 for %) */
    const plot_series *series;
    int n_series;                /* at most PLOT_MAX_SERIES */
    double ref;                  /* dashed reference line; NAN: none */
    const char *ref_label;
} plot_chart;

#define PLOT_MAX_SERIES 8

/* Renders the chart (width x height pixels, RGB) into a newly allocated
 * buffer *rgb (caller frees). */
int plot_render(const plot_chart *c, int width, int height, uint8_t **rgb, struct err_t *e);

/* Renders and writes the chart as a PNG file. */
int plot_write_png(const char *path, const plot_chart *c, int width, int height, struct err_t *e);

#endif
