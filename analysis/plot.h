/* Line charts written as PNG and SVG side by side (src/io/figure.h: cairo
 * with DejaVu Sans for the PNG, the SVG written directly with its labels as
 * text): axes, ticks, tick labels, axis labels, a title, one line per series
 * with its own colour (the Okabe-Ito palette, readable with colour
 * blindness), dash pattern and marker shape, an optional shaded band per
 * series (e.g. min-max over seeds), an optional dashed horizontal reference
 * line (e.g. chance) and a legend.  The x axis is categorical (layer names,
 * epochs), the y axis linear, fitted to the data unless fixed. */
#ifndef DRMM_PLOT_H
#define DRMM_PLOT_H

struct err_t;

typedef struct plot_series {
    const char *label;
    const double *y;        /* n_x values; NAN: no point */
    const double *lo, *hi;  /* a band around y (n_x values each, NAN: none there), or NULL */
} plot_series;

typedef struct plot_chart {
    const char *title, *xlabel, *ylabel;
    const char *note;            /* a line under the title (e.g. what the bands are), or NULL */
    int n_x;
    const char *const *xticks;   /* n_x category names ("" for no label) */
    double ymin, ymax, ystep;    /* fixed y range, ticks every ystep; ystep 0: fitted to the data */
    double yscale;               /* tick label = value * yscale (e.g. 100 for %); 0 means 1 */
    const plot_series *series;
    int n_series;                /* at most PLOT_MAX_SERIES */
    double ref;                  /* dashed reference line; NAN: none */
    const char *ref_label;
} plot_chart;

#define PLOT_MAX_SERIES 8

/* A round y range [*lo, *hi] with ticks every *step (4 to 8 of them) that
 * holds [vmin, vmax]. */
void plot_nice_range(double vmin, double vmax, double *lo, double *hi, double *step);

/* Draws the chart (width x height pixels) and writes it to png_path and, as
 * SVG, to the same path with .svg. */
int plot_write(const char *png_path, const plot_chart *c, int width, int height, struct err_t *e);

#endif
